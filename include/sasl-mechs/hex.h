/* Lowercase hexadecimal, strict in both directions. */
#ifndef SASL_MECHS_HEX_H
#define SASL_MECHS_HEX_H

#include <stddef.h>

/* Writes 2*n lowercase digits and no NUL. */
void sm_hex_encode(const void *in, size_t n, char *out);
/* Reads exactly 2*n lowercase hex digits; return 0, or -1 on any other byte. */
int sm_hex_decode_lower(const char *in, size_t n, void *out);

#endif
