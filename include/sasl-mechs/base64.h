/* Strict base64 (RFC 4648 section 4) and base64url (section 5).
 *
 * Decoding rejects everything RFC 4648 section 3.3 lets an implementation
 * reject: characters outside the alphabet (whitespace included), a length
 * that is not a whole number of quanta, misplaced or missing padding, and
 * non-zero pad bits (section 3.5), so each byte string has exactly one
 * accepted encoding.  base64url is written and read without padding, as
 * OAuth uses it. */
#ifndef SASL_MECHS_BASE64_H
#define SASL_MECHS_BASE64_H

#include <stddef.h>

enum sm_b64_alphabet { SM_B64_STD, SM_B64_URL };

/* Bytes needed to encode n bytes (no terminating NUL counted). */
size_t sm_b64_encoded_len(enum sm_b64_alphabet alpha, size_t n);
/* Upper bound on the bytes a decode of n characters produces. */
size_t sm_b64_decoded_max(size_t n);

/* Return 0 on success, -1 if out is too small (outmax bytes); out is
 * NUL-terminated when room remains, *outlen excludes the NUL. */
int sm_b64_encode(enum sm_b64_alphabet alpha, const void *in, size_t inlen,
                  char *out, size_t outmax, size_t *outlen);

/* Return 0 on success, -1 on malformed input or if out is too small. */
int sm_b64_decode(enum sm_b64_alphabet alpha, const char *in, size_t inlen,
                  void *out, size_t outmax, size_t *outlen);

#endif
