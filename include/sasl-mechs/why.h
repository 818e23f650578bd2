/* The `why` buffers of the pure layers (codecs, validators, HTTP): a
 * reason for an administrator, written only when the caller gave room. */
#ifndef SASL_MECHS_WHY_H
#define SASL_MECHS_WHY_H

#include <stdarg.h>
#include <stddef.h>

/* Format into why (whylen bytes, always NUL-terminated); nothing when why
 * is NULL or whylen 0.  Never pass a secret in the arguments. */
void sm_why(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void sm_vwhy(char *why, size_t whylen, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif
