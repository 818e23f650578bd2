/* The NTLM computations (MS-NLMP 3.3.1, 3.3.2, 3.4.5) over OpenSSL 3.
 * MD4 (and DES, RC4) exist only in OpenSSL's legacy provider; it is loaded
 * into the plugins' private library context (sm_crypto_libctx), never into
 * the application's, and the algorithms are fetched once per process.
 * Every function returns 0, or -1 when the algorithm is unavailable; no
 * output is partial. */
#ifndef NTLM_CRYPTO_H
#define NTLM_CRYPTO_H

#include <stddef.h>
#include "ntlm_codec.h"

#define NTLM_HASH_LEN 16
#define NTLM_KEY_LEN 16

/* 1 when the legacy provider loaded and MD4, DES-ECB and RC4 were fetched;
 * the plugin registers no NTLM otherwise.  Safe from any thread. */
int ntlm_crypto_available(void);

/* Now as a Windows FILETIME (ntlm_filetime), to 100 ns. */
void ntlm_filetime_now(unsigned char out[NTLM_TIMESTAMP_LEN]);

/* NTOWFv1: MD4 of the password in UTF-16LE (the NT hash). */
int ntlm_nt_hash(const unsigned char *password_utf16, size_t len,
                 unsigned char out[NTLM_HASH_LEN]);
/* The same from a UTF-8 password; -1 also when it is not UTF-8. */
int ntlm_nt_hash_utf8(const char *password, size_t len, unsigned char out[NTLM_HASH_LEN]);
/* NTOWFv2 = HMAC_MD5(NT hash, user_upper || domain), both UTF-16LE; the
 * caller has upper-cased the user (ntlm_utf16le_upper), not the domain. */
int ntlm_ntowfv2(const unsigned char nt_hash[NTLM_HASH_LEN],
                 const unsigned char *user_upper, size_t ulen,
                 const unsigned char *domain, size_t dlen, unsigned char out[NTLM_KEY_LEN]);
/* HMAC_MD5(key, server_challenge || data): NTProofStr with data = temp,
 * the LMv2 response's first half with data = the client challenge. */
int ntlm_v2_hmac(const unsigned char key[NTLM_KEY_LEN],
                 const unsigned char server_challenge[NTLM_CHALLENGE_LEN],
                 const unsigned char *data, size_t len, unsigned char out[NTLM_PROOF_LEN]);
/* NTLMv2 SessionBaseKey = HMAC_MD5(NTOWFv2, NTProofStr); it is also the
 * KeyExchangeKey. */
int ntlm_v2_session_base_key(const unsigned char key[NTLM_KEY_LEN],
                             const unsigned char proof[NTLM_PROOF_LEN],
                             unsigned char out[NTLM_KEY_LEN]);

/* NTLMv1: DESL(NT hash, challenge), where challenge is the server's or,
 * with extended session security, MD5(server || client challenge)[0..7]. */
int ntlm_v1_response(const unsigned char nt_hash[NTLM_HASH_LEN],
                     const unsigned char challenge[NTLM_CHALLENGE_LEN],
                     unsigned char out[NTLM_V1_RESPONSE_LEN]);
int ntlm_ess_challenge(const unsigned char server_challenge[NTLM_CHALLENGE_LEN],
                       const unsigned char client_challenge[NTLM_CHALLENGE_LEN],
                       unsigned char out[NTLM_CHALLENGE_LEN]);
/* NTLMv1 SessionBaseKey = MD4(NT hash); with extended session security the
 * KeyExchangeKey is HMAC_MD5(it, server challenge || LM response[0..7]). */
int ntlm_v1_session_base_key(const unsigned char nt_hash[NTLM_HASH_LEN],
                             unsigned char out[NTLM_KEY_LEN]);
int ntlm_ess_key_exchange_key(const unsigned char session_base_key[NTLM_KEY_LEN],
                              const unsigned char server_challenge[NTLM_CHALLENGE_LEN],
                              const unsigned char lm_response[8],
                              unsigned char out[NTLM_KEY_LEN]);

/* RC4 of 16 bytes under a 16-byte key: the EncryptedRandomSessionKey of
 * NEGOTIATE_KEY_EXCH, either way. */
int ntlm_rc4_key(const unsigned char key[NTLM_KEY_LEN], const unsigned char in[NTLM_KEY_LEN],
                 unsigned char out[NTLM_KEY_LEN]);
/* MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE || CHALLENGE || AUTHENTICATE),
 * the AUTHENTICATE with its MIC field zeroed (the caller's copy). */
int ntlm_mic(const unsigned char exported_key[NTLM_KEY_LEN],
             const struct ntlm_buf *negotiate, const struct ntlm_buf *challenge,
             const struct ntlm_buf *authenticate, unsigned char out[NTLM_MIC_LEN]);

#endif
