/* Handling of secrets: comparison whose time does not depend on where two
 * values differ, and erasure the compiler may not optimise away. */
#ifndef SASL_MECHS_SECRET_H
#define SASL_MECHS_SECRET_H

#include <stddef.h>

/* 1 when the n bytes are equal, else 0; time depends on n only. */
int sm_ct_equal(const void *a, const void *b, size_t n);
void sm_erase(void *p, size_t n);

#endif
