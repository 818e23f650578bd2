/* Digests, HMAC and randomness through OpenSSL 3, fetched from a private
 * OSSL_LIB_CTX so that nothing is loaded into the host application's
 * default context (which may run in FIPS mode or have its own config). */
#ifndef SASL_MECHS_CRYPTO_H
#define SASL_MECHS_CRYPTO_H

#include <stddef.h>

#define SM_MD5_LEN 16
/* Dovecot's CRAM-MD5 scheme: the MD5 chaining values after the opad block,
 * then after the ipad block, each word little-endian (RFC 2104 section 4). */
#define SM_HMAC_MD5_STATE_LEN 32

/* All return 0 on success, -1 on failure (never partial output). */
int sm_hmac_md5(const void *key, size_t keylen, const void *data, size_t len,
                unsigned char out[SM_MD5_LEN]);
/* The same over the concatenation of n pieces (data[i], lens[i]). */
int sm_hmac_md5_parts(const void *key, size_t keylen, const void *const *data,
                      const size_t *lens, size_t n, unsigned char out[SM_MD5_LEN]);
int sm_hmac_md5_state(const void *key, size_t keylen,
                      unsigned char state[SM_HMAC_MD5_STATE_LEN]);
int sm_hmac_md5_from_state(const unsigned char state[SM_HMAC_MD5_STATE_LEN],
                           const void *data, size_t len,
                           unsigned char out[SM_MD5_LEN]);
/* Digest by OpenSSL name ("MD5", "SHA256", ...); *outlen set on success. */
int sm_digest(const char *name, const void *data, size_t len,
              unsigned char *out, size_t outmax, size_t *outlen);
/* The plugin's private library context (default provider loaded), for the
 * EVP calls of mechanisms that need more than the helpers here (signature
 * verification, key import); NULL if OpenSSL could not set it up.  Pass it
 * to every *_ex function and fetch; never use the default context. */
struct ossl_lib_ctx_st;
struct ossl_lib_ctx_st *sm_crypto_libctx(void);
/* Cryptographically secure random bytes: getrandom(2) for up to 256 bytes
 * (the kernel never returns fewer), RAND_bytes_ex on the private context
 * for more or where getrandom fails. */
int sm_random(void *out, size_t n);

#endif
