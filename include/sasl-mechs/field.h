/* One field of a message whose grammar allows 1 to max bytes without a
 * NUL: a LOGIN answer (user name, password) as the server receives it, a
 * CRAM-MD5 or LOGIN challenge as the client receives it. */
#ifndef SASL_MECHS_FIELD_H
#define SASL_MECHS_FIELD_H

#include <stddef.h>

/* NULL when s (len bytes) is such a field, else why not, in words that
 * follow the field's name in an errdetail ("LOGIN: user name too long"):
 * "empty" (a NULL s is empty), "too long" or "contains a NUL byte", the
 * first that applies in that order. */
const char *sm_field_refusal(const char *s, size_t len, size_t max);

#endif
