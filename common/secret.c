#include "config.h"
#include <sasl-mechs/secret.h>

#include <openssl/crypto.h>

int sm_ct_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

void sm_erase(void *p, size_t n)
{
    if (p && n)
        OPENSSL_cleanse(p, n);
}
