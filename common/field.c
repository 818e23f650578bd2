#include "config.h"
#include <sasl-mechs/field.h>

#include <string.h>

const char *sm_field_refusal(const char *s, size_t len, size_t max)
{
    if (!s || len == 0)
        return "empty";
    /* before the NUL search: it never reads past the cap */
    if (len > max)
        return "too long";
    if (memchr(s, '\0', len))
        return "contains a NUL byte";
    return NULL;
}
