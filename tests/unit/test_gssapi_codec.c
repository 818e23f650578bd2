/* Unit tests of plugins/gssapi/gssapi_codec.c: the RFC 4752 security-layer
 * tokens (the constructed examples of ../shared/vectors/gssapi.txt, which
 * are not published vectors) and the 4-octet framing, fed whole and split
 * at every byte. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gssapi_codec.h"

#define M(s) s, sizeof(s) - 1

struct offer_row { const char *name; const char *s; size_t len; enum gssapi_status expect;
                   unsigned layers; uint32_t maxbuf; };
static const struct offer_row offers[] = {
    {"server-offers-none-only", M("\x01\x00\x00\x00"), GSSAPI_OK, 1, 0},
    {"server-offers-all-64k", M("\x07\x01\x00\x00"), GSSAPI_OK, 7, 65536},
    {"server-offers-integrity-conf-max", M("\x06\xff\xff\xff"), GSSAPI_OK, 6, 16777215},
    {"unknown bits dropped", M("\xff\x00\x10\x00"), GSSAPI_OK, 7, 4096},
    {"3 octets", M("\x07\x01\x00"), GSSAPI_ERR_LENGTH, 0, 0},
    {"5 octets", M("\x07\x01\x00\x00\x00"), GSSAPI_ERR_LENGTH, 0, 0},
    {"empty", M(""), GSSAPI_ERR_LENGTH, 0, 0},
    {"no layer", M("\x00\x01\x00\x00"), GSSAPI_ERR_NO_LAYER, 0, 0},
    {"only unknown bits", M("\xf8\x01\x00\x00"), GSSAPI_ERR_NO_LAYER, 0, 0},
};

static void test_offers(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(offers) / sizeof(offers[0]); i++) {
        const struct offer_row *r = &offers[i];
        unsigned layers = 0;
        uint32_t maxbuf = 0;
        enum gssapi_status st = gssapi_parse_offer(r->s, r->len, &layers, &maxbuf);
        if (st != r->expect)
            fail_msg("%s: status %d, expected %d", r->name, st, r->expect);
        if (st == GSSAPI_OK && (layers != r->layers || maxbuf != r->maxbuf))
            fail_msg("%s: layers %u max %u", r->name, layers, (unsigned)maxbuf);
    }
}

struct choice_row { const char *name; unsigned offered; const char *s; size_t len;
                    enum gssapi_status expect; unsigned layer; uint32_t maxbuf; const char *authzid; };
static const struct choice_row choices[] = {
    {"client-selects-none", 7, M("\x01\x00\x00\x00"), GSSAPI_OK, 1, 0, ""},
    {"client-selects-none-with-authzid", 7, M("\x01\x00\x00\x00tim"), GSSAPI_OK, 1, 0, "tim"},
    {"client-selects-integrity-64k", 7, M("\x02\x01\x00\x00"), GSSAPI_OK, 2, 65536, ""},
    {"client-selects-confidentiality-4096", 7, M("\x04\x00\x10\x00"), GSSAPI_OK, 4, 4096, ""},
    {"none with a buffer", 1, M("\x01\x00\x10\x00"), GSSAPI_OK, 1, 4096, ""},
    {"3 octets", 7, M("\x01\x00\x00"), GSSAPI_ERR_SHORT, 0, 0, NULL},
    {"empty", 7, M(""), GSSAPI_ERR_SHORT, 0, 0, NULL},
    {"two layers", 7, M("\x03\x00\x10\x00"), GSSAPI_ERR_NOT_ONE_LAYER, 0, 0, NULL},
    {"integrity and confidentiality (ad_compat): confidentiality", 7, M("\x06\x00\x10\x00"),
     GSSAPI_OK, 4, 4096, ""},
    {"integrity and confidentiality, only confidentiality offered", 4, M("\x06\x00\x10\x00"),
     GSSAPI_OK, 4, 4096, ""},
    {"integrity and confidentiality, confidentiality not offered", 3, M("\x06\x00\x10\x00"),
     GSSAPI_ERR_NOT_OFFERED, 0, 0, NULL},
    {"all three layers", 7, M("\x07\x00\x10\x00"), GSSAPI_ERR_NOT_ONE_LAYER, 0, 0, NULL},
    {"no layer", 7, M("\x00\x00\x10\x00"), GSSAPI_ERR_NOT_ONE_LAYER, 0, 0, NULL},
    {"unknown layer 8", 7, M("\x08\x00\x10\x00"), GSSAPI_ERR_NOT_ONE_LAYER, 0, 0, NULL},
    {"confidentiality not offered", 3, M("\x04\x00\x10\x00"), GSSAPI_ERR_NOT_OFFERED, 0, 0, NULL},
    {"none not offered", 6, M("\x01\x00\x00\x00"), GSSAPI_ERR_NOT_OFFERED, 0, 0, NULL},
    {"integrity with buffer 0", 7, M("\x02\x00\x00\x00"), GSSAPI_ERR_ZERO_BUFFER, 0, 0, NULL},
    {"confidentiality with buffer 0", 7, M("\x04\x00\x00\x00"), GSSAPI_ERR_ZERO_BUFFER, 0, 0, NULL},
    {"authzid with a NUL", 7, M("\x01\x00\x00\x00ti\0m"), GSSAPI_ERR_AUTHZID_NUL, 0, 0, NULL},
    {"authzid ending in NUL", 7, M("\x01\x00\x00\x00tim\0"), GSSAPI_ERR_AUTHZID_NUL, 0, 0, NULL},
};

static void test_choices(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(choices) / sizeof(choices[0]); i++) {
        const struct choice_row *r = &choices[i];
        struct gssapi_choice ch;
        unsigned char re[64];
        size_t n;
        enum gssapi_status st = gssapi_parse_choice(r->s, r->len, r->offered, &ch);
        if (st != r->expect)
            fail_msg("%s: status %d (%s), expected %d", r->name, st, gssapi_status_text(st),
                     r->expect);
        if (st != GSSAPI_OK)
            continue;
        if (ch.layer != r->layer || ch.maxbuf != r->maxbuf || ch.authzid_len != strlen(r->authzid)
            || memcmp(ch.authzid, r->authzid, ch.authzid_len) != 0)
            fail_msg("%s: parsed wrongly", r->name);
        /* the ad_compat form (two bits) parses as the one layer it means */
        if ((unsigned char)r->s[0] != ch.layer)
            continue;
        n = gssapi_choice_build(re, sizeof(re), ch.layer, ch.maxbuf, ch.authzid, ch.authzid_len);
        if (n != r->len || memcmp(re, r->s, n) != 0)
            fail_msg("%s: does not rebuild", r->name);
    }
}

static void test_limits(void **state)
{
    char big[GSSAPI_TOKEN_LEN + GSSAPI_MAX_AUTHZID + 1];
    struct gssapi_choice ch;
    unsigned char out[8];

    (void)state;
    memset(big, 'a', sizeof(big));
    big[0] = 1; big[1] = big[2] = big[3] = 0;
    assert_int_equal(gssapi_parse_choice(big, sizeof(big) - 1, 1, &ch), GSSAPI_OK);
    assert_int_equal(gssapi_parse_choice(big, sizeof(big), 1, &ch), GSSAPI_ERR_AUTHZID_LONG);
    assert_int_equal(gssapi_choice_build(out, sizeof(out), 1, 0, "authzid", 7), 0);
    assert_int_equal(gssapi_choice_build(out, sizeof(out), 2, 0x1000000, NULL, 0), 0);
    gssapi_token_build(out, 6, 0xFFFFFF);
    assert_memory_equal(out, "\x06\xff\xff\xff", 4);
}

/* Two frames and a third incomplete, fed whole and then split at every
 * byte boundary pair. */
static void feed_all(const unsigned char *in, size_t len, size_t cut1, size_t cut2, uint32_t max,
                     int *frames, int *bad)
{
    struct gssapi_frame f;
    unsigned char body[64];
    size_t cuts[4] = {0, cut1, cut2, len}, pos, used;
    enum gssapi_frame_status st;

    memset(&f, 0, sizeof(f));
    *frames = *bad = 0;
    for (int c = 0; c < 3 && !*bad; c++)
        for (pos = cuts[c]; pos < cuts[c + 1] && !*bad; pos += used) {
            st = gssapi_frame_feed(&f, in + pos, cuts[c + 1] - pos, max, &used);
            if (st == GSSAPI_FRAME_HEADER)
                f.body = body;
            else if (st == GSSAPI_FRAME_DONE) {
                if (*frames == 0 && (f.len != 5 || memcmp(body, "hello", 5)))
                    fail_msg("first frame wrong");
                if (*frames == 1 && (f.len != 2 || memcmp(body, "hi", 2)))
                    fail_msg("second frame wrong");
                (*frames)++;
                gssapi_frame_reset(&f);
            } else if (st == GSSAPI_FRAME_TOO_LONG || st == GSSAPI_FRAME_EMPTY)
                *bad = st;
        }
}

static void test_frames(void **state)
{
    static const unsigned char in[] = "\x00\x00\x00\x05hello\x00\x00\x00\x02hi\x00\x00\x00\x09" "abc";
    size_t len = sizeof(in) - 1;
    int frames, bad;

    (void)state;
    for (size_t a = 0; a <= len; a++)
        for (size_t b = a; b <= len; b++) {
            feed_all(in, len, a, b, 64, &frames, &bad);
            if (frames != 2 || bad)
                fail_msg("split at %zu,%zu: %d frames, bad %d", a, b, frames, bad);
        }
    /* the third frame's 9 bytes exceed a maximum of 8 */
    feed_all(in, len, len, len, 8, &frames, &bad);
    assert_int_equal(frames, 2);
    assert_int_equal(bad, GSSAPI_FRAME_TOO_LONG);
    /* a maximum of 4 refuses the first */
    feed_all(in, len, 2, 3, 4, &frames, &bad);
    assert_int_equal(frames, 0);
    assert_int_equal(bad, GSSAPI_FRAME_TOO_LONG);
    feed_all((const unsigned char *)"\x00\x00\x00\x00xx", 6, 1, 2, 64, &frames, &bad);
    assert_int_equal(bad, GSSAPI_FRAME_EMPTY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offers),
        cmocka_unit_test(test_choices),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
