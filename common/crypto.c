#include "config.h"
#include <sasl-mechs/crypto.h>
#include <sasl-mechs/secret.h>

#include <pthread.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

/* One private library context per plugin, built on first use and freed
 * when the plugin is unloaded (libsasl2 dlcloses plugins in sasl_done). */
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;
static OSSL_LIB_CTX *libctx;
static OSSL_PROVIDER *default_provider;
static EVP_MAC *hmac;

static void ctx_init(void)
{
    libctx = OSSL_LIB_CTX_new();
    if (!libctx)
        return;
    default_provider = OSSL_PROVIDER_load(libctx, "default");
    hmac = EVP_MAC_fetch(libctx, "HMAC", NULL);
}

/* run after every default-priority destructor (oauth_config.c frees keys) */
__attribute__((destructor(101))) static void ctx_free(void)
{
    EVP_MAC_free(hmac);
    if (default_provider)
        OSSL_PROVIDER_unload(default_provider);
    OSSL_LIB_CTX_free(libctx);
}

static int ready(void)
{
    return pthread_once(&ctx_once, ctx_init) == 0 && libctx && hmac;
}

OSSL_LIB_CTX *sm_crypto_libctx(void)
{
    return ready() ? libctx : NULL;
}

int sm_hmac_md5(const void *key, size_t keylen, const void *data, size_t len,
                unsigned char out[SM_MD5_LEN])
{
    return sm_hmac_md5_parts(key, keylen, &data, &len, 1, out);
}

int sm_hmac_md5_parts(const void *key, size_t keylen, const void *const *data,
                      const size_t *lens, size_t n, unsigned char out[SM_MD5_LEN])
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"MD5", 0),
        OSSL_PARAM_construct_end(),
    };
    EVP_MAC_CTX *c;
    size_t i, outlen = 0;
    int ok;

    if (!ready() || !(c = EVP_MAC_CTX_new(hmac)))
        return -1;
    /* a zero-length key must still be a valid pointer for OpenSSL */
    ok = EVP_MAC_init(c, keylen ? key : (const void *)"", keylen, params);
    for (i = 0; ok && i < n; i++)
        ok = EVP_MAC_update(c, data[i], lens[i]);
    ok = ok && EVP_MAC_final(c, out, &outlen, SM_MD5_LEN) && outlen == SM_MD5_LEN;
    EVP_MAC_CTX_free(c);
    return ok ? 0 : -1;
}

int sm_digest(const char *name, const void *data, size_t len,
              unsigned char *out, size_t outmax, size_t *outlen)
{
    EVP_MD *md;
    unsigned int n = 0;
    int ok;

    if (!ready() || !(md = EVP_MD_fetch(libctx, name, NULL)))
        return -1;
    ok = (size_t)EVP_MD_get_size(md) <= outmax
         && EVP_Digest(data, len, out, &n, md, NULL);
    EVP_MD_free(md);
    if (!ok)
        return -1;
    *outlen = n;
    return 0;
}

int sm_random(void *out, size_t n)
{
    return ready() && RAND_bytes_ex(libctx, out, n, 0) == 1 ? 0 : -1;
}
