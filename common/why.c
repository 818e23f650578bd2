#include "config.h"
#include <sasl-mechs/why.h>

#include <stdio.h>

void sm_vwhy(char *why, size_t whylen, const char *fmt, va_list ap)
{
    if (why && whylen)
        vsnprintf(why, whylen, fmt, ap);
}

void sm_why(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    sm_vwhy(why, whylen, fmt, ap);
    va_end(ap);
}
