#include "config.h"
#include <sasl-mechs/crypto.h>
#include <sasl-mechs/secret.h>

#include <errno.h>
#include <pthread.h>
#include <sys/random.h>
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

static void crypto_ctx_init(void)
{
    libctx = OSSL_LIB_CTX_new();
    if (!libctx)
        return;
    default_provider = OSSL_PROVIDER_load(libctx, "default");
}

/* run after every default-priority destructor (oauth_config.c frees keys) */
__attribute__((destructor(101))) static void ctx_free(void)
{
    if (default_provider)
        OSSL_PROVIDER_unload(default_provider);
    OSSL_LIB_CTX_free(libctx);
}

static int crypto_ready(void)
{
    return pthread_once(&ctx_once, crypto_ctx_init) == 0 && libctx && default_provider;
}

OSSL_LIB_CTX *sm_crypto_libctx(void)
{
    return crypto_ready() ? libctx : NULL;
}

int sm_digest(const char *name, const void *data, size_t len,
              unsigned char *out, size_t outmax, size_t *outlen)
{
    EVP_MD *md;
    unsigned int n = 0;
    int ok;

    if (!crypto_ready() || !(md = EVP_MD_fetch(libctx, name, NULL)))
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
    unsigned char *p = out;
    ssize_t got;

    /* the kernel's CSPRNG: a system call, where RAND_bytes_ex spends ~6,000
     * instructions a call in its DRBG (an AES-CTR block and parameter
     * parsing) on the 8 bytes of a challenge */
    while (n > 0 && n <= 256) {
        got = getrandom(p, n, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        p += got;
        n -= (size_t)got;
    }
    return n == 0 || (crypto_ready() && RAND_bytes_ex(libctx, p, n, 0) == 1) ? 0 : -1;
}
