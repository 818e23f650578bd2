/* libFuzzer targets for the pure codecs, one binary per codec, chosen by
 * name: -DFUZZ_CODEC=FUZZ_CODEC_BASE64 (round trip, and differential against
 * OpenSSL's decoder), FUZZ_CODEC_PLAIN, FUZZ_CODEC_LOGIN, FUZZ_CODEC_CRAMMD5,
 * FUZZ_CODEC_NTLM.  Each parse that succeeds must rebuild to exactly its
 * input, since every grammar has one encoding; NTLM's has many (buffers
 * in any order), so there a parse must survive a rebuild and reparse.  A new codec (NTLM, OAuth, GSSAPI): a name in
 * enum fuzz_codec, its function, its case below (-Wswitch names any one
 * forgotten), and a target in the "fuzz targets" section of Makefile.am. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <sasl-mechs/base64.h>
#include <sasl-mechs/field.h>
#include <sasl-mechs/stored_secret.h>

#include "plain_codec.h"
#include "login_codec.h"
#include "crammd5_codec.h"
#include "ntlm_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum fuzz_codec {
    FUZZ_CODEC_BASE64,
    FUZZ_CODEC_PLAIN,
    FUZZ_CODEC_LOGIN,
    FUZZ_CODEC_CRAMMD5,
    FUZZ_CODEC_NTLM,
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
    if (!plain_parse(copy, size, 255, 1024, &m)) {
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
    if (!sm_field_refusal(copy, size, 1024))
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
    if (!crammd5_parse_response(copy, size, 255, &r)) {
        CHECK(crammd5_response_len(r.user_len) == size);
        re = malloc(size);
        crammd5_build_response(r.user, r.user_len, r.digest, re);
        CHECK(memcmp(re, data, size) == 0);
        free(re);
    }
    (void)sm_field_refusal(copy, size, CRAMMD5_MAX_CHALLENGE);
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

static int same(const struct ntlm_buf *a, const struct ntlm_buf *b)
{
    return a->len == b->len && (!a->len || memcmp(a->p, b->p, a->len) == 0);
}

/* a parsed buffer lies in the message, past its fixed header */
static void inside(const struct ntlm_buf *b, const uint8_t *m, size_t size, size_t header)
{
    if (b->len)
        CHECK(b->p >= m + header && b->p + b->len <= m + size);
}

static void fuzz_ntlm_strings(const uint8_t *data, size_t size)
{
    size_t cap = 2 * size + 4, n, back;
    unsigned char *u = malloc(cap);
    char *t = malloc(cap);

    n = ntlm_utf16le_to_utf8(data, size, t, cap);
    if (n != (size_t)-1) {
        back = ntlm_utf8_to_utf16le(t, n, u, cap);
        CHECK(back == size && memcmp(u, data, size) == 0);
    }
    n = ntlm_utf8_to_utf16le((const char *)data, size, u, cap);
    if (n != (size_t)-1) {
        back = ntlm_utf16le_to_utf8(u, n, t, cap);
        CHECK(back == size && memcmp(t, data, size) == 0);
        ntlm_utf16le_upper(u, n);
        CHECK(ntlm_utf16le_to_utf8(u, n, t, cap) != (size_t)-1);
    }
    free(u);
    free(t);
}

static void fuzz_ntlm(const uint8_t *data, size_t size)
{
    struct ntlm_negotiate neg;
    struct ntlm_challenge ch, ch2;
    struct ntlm_authenticate au, au2;
    struct ntlm_av_info av;
    struct ntlm_v2_response v2;
    struct ntlm_buf whole = {data, size};
    unsigned char *re = malloc(size + NTLM_AUTHENTICATE_MIC_HEADER);
    size_t n;

    if (ntlm_parse_negotiate(data, size, &neg) == NTLM_OK) {
        inside(&neg.domain, data, size, NTLM_NEGOTIATE_HEADER);
        inside(&neg.workstation, data, size, NTLM_NEGOTIATE_HEADER);
    }
    if (ntlm_parse_challenge(data, size, &ch) == NTLM_OK) {
        struct ntlm_challenge_fields f = {ch.flags, ch.server_challenge, ch.target_name,
                                          ch.target_info, NULL};
        inside(&ch.target_name, data, size, NTLM_CHALLENGE_MIN);
        inside(&ch.target_info, data, size, NTLM_CHALLENGE_MIN);
        n = ntlm_build_challenge(&f, re, size + NTLM_AUTHENTICATE_MIC_HEADER);
        CHECK(n);
        /* a rebuilt header may be longer than the input's: past the cap, stop */
        CHECK(n > NTLM_MAX_MESSAGE || ntlm_parse_challenge(re, n, &ch2) == NTLM_OK);
        if (n <= NTLM_MAX_MESSAGE)
            CHECK(same(&ch.target_name, &ch2.target_name) && same(&ch.target_info, &ch2.target_info)
                  && memcmp(ch.server_challenge, ch2.server_challenge, NTLM_CHALLENGE_LEN) == 0);
        if (ntlm_parse_av_pairs(ch.target_info.p, ch.target_info.len, 0, &av) == NTLM_OK)
            CHECK(av.list_len == ch.target_info.len);
    }
    if (ntlm_parse_authenticate(data, size, &au) == NTLM_OK) {
        struct ntlm_authenticate_fields f = {au.flags & ~NTLM_NEGOTIATE_VERSION, au.lm, au.nt,
                                             au.domain, au.user, au.workstation,
                                             au.session_key, NULL, 1};
        CHECK(au.payload_start >= NTLM_AUTHENTICATE_HEADER && au.payload_start <= size);
        inside(&au.user, data, size, NTLM_AUTHENTICATE_HEADER);
        inside(&au.nt, data, size, NTLM_AUTHENTICATE_HEADER);
        n = ntlm_build_authenticate(&f, re, size + NTLM_AUTHENTICATE_MIC_HEADER);
        CHECK(n);
        if (n <= NTLM_MAX_MESSAGE) {
            CHECK(ntlm_parse_authenticate(re, n, &au2) == NTLM_OK);
            CHECK(same(&au.lm, &au2.lm) && same(&au.nt, &au2.nt) && same(&au.user, &au2.user)
                  && same(&au.domain, &au2.domain) && same(&au.session_key, &au2.session_key));
            CHECK(au2.payload_start >= NTLM_AUTHENTICATE_MIC_HEADER);
        }
        if (ntlm_parse_v2_response(&au.nt, &v2) == NTLM_OK)
            CHECK(v2.temp.len + NTLM_PROOF_LEN == au.nt.len
                  && v2.av.list_len <= v2.av_pairs.len);
    }
    if (ntlm_parse_av_pairs(data, size, 1, &av) == NTLM_OK)
        CHECK(av.list_len >= 4 && av.list_len <= size);
    (void)ntlm_parse_v2_response(&whole, &v2);
    fuzz_ntlm_strings(data, size);
    free(re);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    switch ((enum fuzz_codec)FUZZ_CODEC) {
    case FUZZ_CODEC_BASE64: fuzz_base64(data, size); break;
    case FUZZ_CODEC_PLAIN: fuzz_plain(data, size); break;
    case FUZZ_CODEC_LOGIN: fuzz_login(data, size); break;
    case FUZZ_CODEC_CRAMMD5: fuzz_crammd5(data, size); break;
    case FUZZ_CODEC_NTLM: fuzz_ntlm(data, size); break;
    }
    return 0;
}
