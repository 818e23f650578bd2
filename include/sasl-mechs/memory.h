/* Allocation through libsasl2's allocator (utils->malloc/free), which the
 * application may have replaced with sasl_set_alloc. */
#ifndef SASL_MECHS_MEMORY_H
#define SASL_MECHS_MEMORY_H

#include <stddef.h>
#include <sasl/sasl.h>
#include <sasl/saslplug.h>

/* Erase n bytes (or strlen+1 when n is (size_t)-1) and free. */
void sm_free_secret(const sasl_utils_t *utils, void *p, size_t n);
/* Copy n bytes plus a NUL; NULL on failure. */
char *sm_strndup(const sasl_utils_t *utils, const char *s, size_t n);

#endif
