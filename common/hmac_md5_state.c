/* HMAC-MD5 (RFC 2104), directly or from a stored key schedule (section 4,
 * the form of Dovecot's {CRAM-MD5} password scheme).  EVP cannot resume a
 * digest from chaining values, and EVP_MAC costs ~13,000 instructions a
 * call in fetches and parameter parsing against ~1,500 for the four MD5
 * blocks themselves (NTLM makes eight a exchange), so this one file uses
 * OpenSSL's low-level MD5, which OpenSSL 3 marks deprecated but still
 * ships.  It goes through no provider, so no library context is touched;
 * MD5 is no FIPS algorithm, so no FIPS configuration is bypassed either. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "config.h"
#include <sasl-mechs/crypto.h>
#include <sasl-mechs/secret.h>

#include <stdint.h>
#include <string.h>
#include <openssl/md5.h>

#define BLOCK 64

static void md5state_put_le32(unsigned char *p, uint32_t v)
{
    p[0] = v & 0xff; p[1] = v >> 8 & 0xff; p[2] = v >> 16 & 0xff; p[3] = v >> 24;
}

static uint32_t md5state_get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void md5state_put_chain(unsigned char *p, const MD5_CTX *c)
{
    md5state_put_le32(p, c->A);
    md5state_put_le32(p + 4, c->B);
    md5state_put_le32(p + 8, c->C);
    md5state_put_le32(p + 12, c->D);
}

/* An MD5 context that has consumed exactly one block with these chaining values. */
static void md5state_resume(MD5_CTX *c, const unsigned char *chain)
{
    memset(c, 0, sizeof(*c));
    c->A = md5state_get_le32(chain); c->B = md5state_get_le32(chain + 4);
    c->C = md5state_get_le32(chain + 8); c->D = md5state_get_le32(chain + 12);
    c->Nl = BLOCK * 8;
}

/* An MD5 context that has consumed the key (zero-padded to a block, or its
 * MD5 when longer) XOR the pad byte: HMAC's inner (0x36) or outer (0x5c) start. */
static void md5state_start_pad(MD5_CTX *c, const void *key, size_t keylen, unsigned char byte)
{
    unsigned char k[BLOCK] = {0};
    size_t i;

    if (keylen > BLOCK)
        MD5(key, keylen, k);
    else if (keylen)
        memcpy(k, key, keylen);
    for (i = 0; i < BLOCK; i++)
        k[i] ^= byte;
    MD5_Init(c);
    MD5_Update(c, k, BLOCK);
    sm_erase(k, sizeof(k));
}

int sm_hmac_md5_state(const void *key, size_t keylen,
                      unsigned char state[SM_HMAC_MD5_STATE_LEN])
{
    MD5_CTX c;

    md5state_start_pad(&c, key, keylen, 0x5c);
    md5state_put_chain(state, &c);
    md5state_start_pad(&c, key, keylen, 0x36);
    md5state_put_chain(state + 16, &c);
    sm_erase(&c, sizeof(c));
    return 0;
}

int sm_hmac_md5_from_state(const unsigned char state[SM_HMAC_MD5_STATE_LEN],
                           const void *data, size_t len,
                           unsigned char out[SM_MD5_LEN])
{
    unsigned char inner[SM_MD5_LEN];
    MD5_CTX c;

    md5state_resume(&c, state + 16);
    MD5_Update(&c, data, len);
    MD5_Final(inner, &c);
    md5state_resume(&c, state);
    MD5_Update(&c, inner, sizeof(inner));
    MD5_Final(out, &c);
    sm_erase(inner, sizeof(inner));
    sm_erase(&c, sizeof(c));
    return 0;
}

int sm_hmac_md5(const void *key, size_t keylen, const void *data, size_t len,
                unsigned char out[SM_MD5_LEN])
{
    return sm_hmac_md5_parts(key, keylen, &data, &len, 1, out);
}

int sm_hmac_md5_parts(const void *key, size_t keylen, const void *const *data,
                      const size_t *lens, size_t n, unsigned char out[SM_MD5_LEN])
{
    unsigned char inner[SM_MD5_LEN];
    MD5_CTX c;
    size_t i;

    md5state_start_pad(&c, key, keylen, 0x36);
    for (i = 0; i < n; i++)
        if (lens[i])
            MD5_Update(&c, data[i], lens[i]);
    MD5_Final(inner, &c);
    md5state_start_pad(&c, key, keylen, 0x5c);
    MD5_Update(&c, inner, sizeof(inner));
    MD5_Final(out, &c);
    sm_erase(inner, sizeof(inner));
    sm_erase(&c, sizeof(c));
    return 0;
}
