#include "config.h"
#include "ntlm_crypto.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <sasl-mechs/crypto.h>
#include <sasl-mechs/secret.h>

/* Fetched once: the per-exchange cost is then the computation alone. */
static pthread_once_t legacy_once = PTHREAD_ONCE_INIT;
static OSSL_PROVIDER *legacy;
static EVP_MD *md4, *md5;
static EVP_CIPHER *des_ecb, *rc4;

static void ntlm_crypto_legacy_init(void)
{
    OSSL_LIB_CTX *ctx = sm_crypto_libctx();

    if (!ctx || !(legacy = OSSL_PROVIDER_load(ctx, "legacy")))
        return;
    md4 = EVP_MD_fetch(ctx, "MD4", NULL);
    md5 = EVP_MD_fetch(ctx, "MD5", NULL);
    des_ecb = EVP_CIPHER_fetch(ctx, "DES-ECB", NULL);
    rc4 = EVP_CIPHER_fetch(ctx, "RC4", NULL);
}

/* before common/crypto.c frees the library context (priority 101) */
__attribute__((destructor(102))) static void legacy_free(void)
{
    EVP_MD_free(md4);
    EVP_MD_free(md5);
    EVP_CIPHER_free(des_ecb);
    EVP_CIPHER_free(rc4);
    if (legacy)
        OSSL_PROVIDER_unload(legacy);
}

int ntlm_crypto_available(void)
{
    return pthread_once(&legacy_once, ntlm_crypto_legacy_init) == 0 && md4 && md5 && des_ecb && rc4;
}

/* md is read after the one-time fetch: a caller's first call may be the
 * one that makes it. */
static int ntlm_crypto_digest(EVP_MD *const *md, const void *a, size_t alen, const void *b,
                              size_t blen, unsigned char out[16])
{
    EVP_MD_CTX *c;
    unsigned n = 0;
    int ok;

    if (!ntlm_crypto_available() || !(c = EVP_MD_CTX_new()))
        return -1;
    ok = EVP_DigestInit_ex2(c, *md, NULL) && EVP_DigestUpdate(c, a, alen)
         && (!blen || EVP_DigestUpdate(c, b, blen)) && EVP_DigestFinal_ex(c, out, &n) && n == 16;
    EVP_MD_CTX_free(c);
    return ok ? 0 : -1;
}

int ntlm_nt_hash(const unsigned char *password_utf16, size_t len,
                 unsigned char out[NTLM_HASH_LEN])
{
    return ntlm_crypto_digest(&md4, len ? (const void *)password_utf16 : "", len, NULL, 0, out);
}

int ntlm_nt_hash_utf8(const char *password, size_t len, unsigned char out[NTLM_HASH_LEN])
{
    /* at most two UTF-16 bytes per UTF-8 byte */
    size_t cap = 2 * len + 2, n;
    unsigned char *u = malloc(cap);
    int r = -1;

    if (!u)
        return -1;
    n = ntlm_utf8_to_utf16le(password, len, u, cap);
    if (n != (size_t)-1)
        r = ntlm_nt_hash(u, n, out);
    sm_erase(u, cap);
    free(u);
    return r;
}

int ntlm_ntowfv2(const unsigned char nt_hash[NTLM_HASH_LEN],
                 const unsigned char *user_upper, size_t ulen,
                 const unsigned char *domain, size_t dlen, unsigned char out[NTLM_KEY_LEN])
{
    const void *parts[] = {ulen ? (const void *)user_upper : "", dlen ? (const void *)domain : ""};
    size_t lens[] = {ulen, dlen};

    return sm_hmac_md5_parts(nt_hash, NTLM_HASH_LEN, parts, lens, 2, out);
}

int ntlm_v2_hmac(const unsigned char key[NTLM_KEY_LEN],
                 const unsigned char server_challenge[NTLM_CHALLENGE_LEN],
                 const unsigned char *data, size_t len, unsigned char out[NTLM_PROOF_LEN])
{
    const void *parts[] = {server_challenge, len ? (const void *)data : ""};
    size_t lens[] = {NTLM_CHALLENGE_LEN, len};

    return sm_hmac_md5_parts(key, NTLM_KEY_LEN, parts, lens, 2, out);
}

int ntlm_v2_session_base_key(const unsigned char key[NTLM_KEY_LEN],
                             const unsigned char proof[NTLM_PROOF_LEN],
                             unsigned char out[NTLM_KEY_LEN])
{
    return sm_hmac_md5(key, NTLM_KEY_LEN, proof, NTLM_PROOF_LEN, out);
}

/* DES with a 7-byte key spread over 8 bytes (MS-NLMP 6, DES(K, D)); the
 * parity bits are ignored by DES, so they are left zero. */
static int ntlm_crypto_des7(EVP_CIPHER_CTX *c, const unsigned char k7[7], const unsigned char in[8],
                            unsigned char out[8])
{
    unsigned char k[8];
    int n = 0, ok;

    k[0] = k7[0];
    k[1] = (unsigned char)((k7[0] << 7) | (k7[1] >> 1));
    k[2] = (unsigned char)((k7[1] << 6) | (k7[2] >> 2));
    k[3] = (unsigned char)((k7[2] << 5) | (k7[3] >> 3));
    k[4] = (unsigned char)((k7[3] << 4) | (k7[4] >> 4));
    k[5] = (unsigned char)((k7[4] << 3) | (k7[5] >> 5));
    k[6] = (unsigned char)((k7[5] << 2) | (k7[6] >> 6));
    k[7] = (unsigned char)(k7[6] << 1);
    ok = EVP_EncryptInit_ex2(c, des_ecb, k, NULL, NULL) && EVP_CIPHER_CTX_set_padding(c, 0)
         && EVP_EncryptUpdate(c, out, &n, in, 8) && n == 8;
    sm_erase(k, sizeof(k));
    return ok;
}

int ntlm_v1_response(const unsigned char nt_hash[NTLM_HASH_LEN],
                     const unsigned char challenge[NTLM_CHALLENGE_LEN],
                     unsigned char out[NTLM_V1_RESPONSE_LEN])
{
    /* DESL: the hash padded to 21 bytes, three DES keys of 7 */
    unsigned char k21[21];
    EVP_CIPHER_CTX *c;
    int ok;

    if (!ntlm_crypto_available() || !(c = EVP_CIPHER_CTX_new()))
        return -1;
    memcpy(k21, nt_hash, NTLM_HASH_LEN);
    memset(k21 + NTLM_HASH_LEN, 0, sizeof(k21) - NTLM_HASH_LEN);
    ok = ntlm_crypto_des7(c, k21, challenge, out)
        && ntlm_crypto_des7(c, k21 + 7, challenge, out + 8)
        && ntlm_crypto_des7(c, k21 + 14, challenge, out + 16);
    EVP_CIPHER_CTX_free(c);
    sm_erase(k21, sizeof(k21));
    if (!ok)
        sm_erase(out, NTLM_V1_RESPONSE_LEN);
    return ok ? 0 : -1;
}

int ntlm_ess_challenge(const unsigned char server_challenge[NTLM_CHALLENGE_LEN],
                       const unsigned char client_challenge[NTLM_CHALLENGE_LEN],
                       unsigned char out[NTLM_CHALLENGE_LEN])
{
    unsigned char full[16];

    if (ntlm_crypto_digest(&md5, server_challenge, NTLM_CHALLENGE_LEN, client_challenge,
               NTLM_CHALLENGE_LEN, full) != 0)
        return -1;
    memcpy(out, full, NTLM_CHALLENGE_LEN);
    return 0;
}

int ntlm_v1_session_base_key(const unsigned char nt_hash[NTLM_HASH_LEN],
                             unsigned char out[NTLM_KEY_LEN])
{
    return ntlm_crypto_digest(&md4, nt_hash, NTLM_HASH_LEN, NULL, 0, out);
}

int ntlm_ess_key_exchange_key(const unsigned char session_base_key[NTLM_KEY_LEN],
                              const unsigned char server_challenge[NTLM_CHALLENGE_LEN],
                              const unsigned char lm_response[8],
                              unsigned char out[NTLM_KEY_LEN])
{
    return ntlm_v2_hmac(session_base_key, server_challenge, lm_response, 8, out);
}

int ntlm_rc4_key(const unsigned char key[NTLM_KEY_LEN], const unsigned char in[NTLM_KEY_LEN],
                 unsigned char out[NTLM_KEY_LEN])
{
    EVP_CIPHER_CTX *c;
    int n = 0, ok;

    if (!ntlm_crypto_available() || !(c = EVP_CIPHER_CTX_new()))
        return -1;
    ok = EVP_EncryptInit_ex2(c, rc4, key, NULL, NULL)
         && EVP_EncryptUpdate(c, out, &n, in, NTLM_KEY_LEN) && n == NTLM_KEY_LEN;
    EVP_CIPHER_CTX_free(c);
    if (!ok)
        sm_erase(out, NTLM_KEY_LEN);
    return ok ? 0 : -1;
}

int ntlm_mic(const unsigned char exported_key[NTLM_KEY_LEN],
             const struct ntlm_buf *negotiate, const struct ntlm_buf *challenge,
             const struct ntlm_buf *authenticate, unsigned char out[NTLM_MIC_LEN])
{
    const void *parts[] = {negotiate->p, challenge->p, authenticate->p};
    size_t lens[] = {negotiate->len, challenge->len, authenticate->len};

    return sm_hmac_md5_parts(exported_key, NTLM_KEY_LEN, parts, lens, 3, out);
}

void ntlm_filetime_now(unsigned char out[NTLM_TIMESTAMP_LEN])
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ntlm_filetime((uint64_t)ts.tv_sec, (uint32_t)ts.tv_nsec, out);
}
