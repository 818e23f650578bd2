/* libFuzzer targets for the pure codecs, one binary per codec, chosen by
 * name: -DFUZZ_CODEC=FUZZ_CODEC_BASE64 (round trip, and differential against
 * OpenSSL's decoder), FUZZ_CODEC_PLAIN, FUZZ_CODEC_LOGIN, FUZZ_CODEC_CRAMMD5.
 * Each parse that succeeds must rebuild to exactly its input, since every
 * grammar has one encoding.  A new codec (NTLM, OAuth, GSSAPI): a name in
 * enum fuzz_codec, its function, its case below (-Wswitch names any one
 * forgotten), and a target in the "fuzz targets" section of Makefile.am. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <sasl-mechs/base64.h>
#include <sasl-mechs/stored_secret.h>

#include "plain_codec.h"
#include "login_codec.h"
#include "crammd5_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum fuzz_codec {
    FUZZ_CODEC_BASE64,
    FUZZ_CODEC_PLAIN,
    FUZZ_CODEC_LOGIN,
    FUZZ_CODEC_CRAMMD5,
};

#ifndef FUZZ_CODEC
#error "build with -DFUZZ_CODEC=FUZZ_CODEC_<NAME>, one of enum fuzz_codec"
#endif

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void fuzz_base64(const uint8_t *data, size_t size)
{
    /* room for decoding the input, and for the round trip of the input's bytes */
    size_t n = (sm_b64_decoded_max(size) > size ? sm_b64_decoded_max(size) : size) + 3, outlen, relen;
    unsigned char *out = malloc(n), *ossl = malloc(n + 3);
    char *re = malloc(size + 4), *enc;
    int alpha;

    for (alpha = SM_B64_STD; alpha <= SM_B64_URL; alpha++) {
        if (sm_b64_decode(alpha, (const char *)data, size, out, n, &outlen) != 0)
            continue;
        CHECK(sm_b64_encode(alpha, out, outlen, re, size + 4, &relen) == 0);
        CHECK(relen == size && memcmp(re, data, size) == 0);
        if (alpha == SM_B64_STD && size > 0 && size < (size_t)INT32_MAX) {
            /* OpenSSL accepts a superset; where we accept, it must agree */
            int m = EVP_DecodeBlock(ossl, data, (int)size);
            size_t pad = (size > 0 && data[size - 1] == '=') + (size > 1 && data[size - 2] == '=');
            CHECK(m >= 0 && (size_t)m - pad == outlen && memcmp(ossl, out, outlen) == 0);
        }
    }
    /* and any bytes encode, then decode back */
    enc = malloc(sm_b64_encoded_len(SM_B64_STD, size) + 1);
    CHECK(sm_b64_encode(SM_B64_STD, data, size, enc, sm_b64_encoded_len(SM_B64_STD, size) + 1, &relen) == 0);
    CHECK(sm_b64_decode(SM_B64_STD, enc, relen, out, n, &outlen) == 0);
    CHECK(outlen == size && memcmp(out, data, size) == 0);
    free(enc); free(out); free(ossl); free(re);
}

static void fuzz_plain(const uint8_t *data, size_t size)
{
    struct plain_message m;
    char *copy = malloc(size ? size : 1), *re;

    memcpy(copy, data, size);
    if (plain_parse(copy, size, 255, 1024, &m) == PLAIN_OK) {
        CHECK(plain_message_len(&m) == size);
        re = malloc(size);
        plain_build(&m, re);
        CHECK(memcmp(re, data, size) == 0);
        free(re);
    }
    free(copy);
}

static void fuzz_login(const uint8_t *data, size_t size)
{
    char *copy = malloc(size ? size : 1);

    memcpy(copy, data, size);
    if (login_check_field(copy, size, 1024) == LOGIN_OK)
        CHECK(size > 0 && size <= 1024 && !memchr(copy, 0, size));
    free(copy);
}

static void fuzz_crammd5(const uint8_t *data, size_t size)
{
    /* every reading a plugin may ask of a stored value */
    static const struct sm_secret_rules rules[] = {
        {SM_SECRET_PASSWORD | SM_SECRET_HMAC_MD5_STATE, SM_SECRET_PASSWORD, 1},
        {SM_SECRET_PASSWORD, SM_SECRET_PASSWORD, 0},
        {SM_SECRET_HMAC_MD5_STATE, SM_SECRET_HMAC_MD5_STATE, 1},
        {SM_SECRET_NT_HASH, SM_SECRET_NT_HASH, 1},
        {SM_SECRET_PASSWORD | SM_SECRET_NT_HASH | SM_SECRET_HMAC_MD5_STATE, SM_SECRET_NT_HASH, 1},
    };
    struct crammd5_response r;
    struct sm_stored_secret s;
    char *copy = malloc(size ? size : 1), *re;
    size_t f;

    memcpy(copy, data, size);
    if (crammd5_parse_response(copy, size, 255, &r) == CRAMMD5_OK) {
        CHECK(crammd5_response_len(r.user_len) == size);
        re = malloc(size);
        crammd5_build_response(r.user, r.user_len, r.digest, re);
        CHECK(memcmp(re, data, size) == 0);
        free(re);
    }
    (void)crammd5_check_challenge(copy, size);
    for (f = 0; f < sizeof(rules) / sizeof(rules[0]); f++) {
        if (sm_stored_secret_parse(copy, size, &rules[f], &s) != 0)
            continue;
        CHECK(s.kind & rules[f].accept);
        if (s.kind == SM_SECRET_PASSWORD)
            CHECK(s.password >= copy && s.password + s.password_len == copy + size);
        else
            CHECK(s.key_len > 0 && s.key_len <= SM_SECRET_KEY_MAX && s.key_len * 2 <= size);
    }
    (void)sm_stored_secret_is_tagged_key(copy, size);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    switch ((enum fuzz_codec)FUZZ_CODEC) {
    case FUZZ_CODEC_BASE64: fuzz_base64(data, size); break;
    case FUZZ_CODEC_PLAIN: fuzz_plain(data, size); break;
    case FUZZ_CODEC_LOGIN: fuzz_login(data, size); break;
    case FUZZ_CODEC_CRAMMD5: fuzz_crammd5(data, size); break;
    }
    return 0;
}
