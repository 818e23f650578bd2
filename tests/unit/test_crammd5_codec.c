/* Unit tests of plugins/crammd5/crammd5_codec.c (RFC 2195): the RFC 2195
 * example from tests/vectors/cram-md5.txt, one table of client responses,
 * the challenge builder and checker.  The stored-secret forms it reads are
 * tested with common/stored_secret.c (test_stored_secret.c). */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sasl-mechs/crypto.h>
#include <sasl-mechs/field.h>
#include <sasl-mechs/hex.h>
#include "crammd5_codec.h"
#include "vectors.h"

#define M(s) s, sizeof(s) - 1
#define BIG 100000

#define RFC_DIGEST "b913a602c7eda7a495b4e6e7334d3890"
#define RFC_CHALLENGE "<1896.697170952@postoffice.reston.mci.net>"

/* ---- the published vectors ----------------------------------------------- */

static void test_rfc2195_vector(void **state)
{
    struct vec_file *vf;
    const struct vec_case *c;
    const char *user, *resp_text, *challenge, *secret;
    unsigned char *digest, mac[SM_MD5_LEN];
    struct crammd5_response r;
    char built[128];
    size_t dlen;

    (void)state;
    VEC_LOAD_OR_FAIL(vf, "cram-md5.txt");
    c = vec_find(vf, "rfc2195-imap-example");
    if (!c)
        fail_msg("%s: case rfc2195-imap-example missing", vf->path);
    VEC_GET_OR_FAIL(user, c, "username");
    VEC_GET_OR_FAIL(resp_text, c, "response_text");
    VEC_GET_OR_FAIL(challenge, c, "challenge_text");
    VEC_GET_OR_FAIL(secret, c, "secret_text");
    VEC_HEX_OR_FAIL(digest, dlen, c, "digest_hex");
    assert_int_equal(dlen, CRAMMD5_DIGEST_LEN);
    assert_string_equal(user, "tim");

    /* the response parses into user and digest bytes */
    assert_null(crammd5_parse_response(resp_text, strlen(resp_text), 255, &r));
    assert_int_equal(r.user_len, strlen(user));
    assert_memory_equal(r.user, user, r.user_len);
    assert_ptr_equal(r.user, resp_text);
    assert_memory_equal(r.digest, digest, CRAMMD5_DIGEST_LEN);

    /* and is rebuilt byte for byte */
    assert_int_equal(crammd5_response_len(strlen(user)), strlen(resp_text));
    memset(built, 'x', sizeof(built));
    crammd5_build_response(user, strlen(user), digest, built);
    assert_memory_equal(built, resp_text, strlen(resp_text));
    assert_int_equal(built[strlen(resp_text)], 'x');

    /* the challenge is acceptable to a client, and the digest is HMAC-MD5 of it */
    assert_null(sm_field_refusal(challenge, strlen(challenge), CRAMMD5_MAX_CHALLENGE));
    assert_int_equal(sm_hmac_md5(secret, strlen(secret), challenge, strlen(challenge), mac), 0);
    assert_memory_equal(mac, digest, SM_MD5_LEN);
    free(digest);

    /* the draft's variant: same secret, another host */
    c = vec_find(vf, "draft-ietf-sasl-crammd5-example");
    if (c) {
        VEC_GET_OR_FAIL(challenge, c, "challenge_text");
        VEC_GET_OR_FAIL(secret, c, "secret_text");
        VEC_HEX_OR_FAIL(digest, dlen, c, "digest_hex");
        assert_null(sm_field_refusal(challenge, strlen(challenge), CRAMMD5_MAX_CHALLENGE));
        assert_int_equal(sm_hmac_md5(secret, strlen(secret), challenge, strlen(challenge), mac), 0);
        assert_memory_equal(mac, digest, SM_MD5_LEN);
        free(digest);
    }
    vec_free(vf);
}

/* ---- client responses: one table ----------------------------------------- */

struct row {
    const char *name;
    const char *msg;
    size_t len;
    size_t max_user; /* 0: BIG */
    const char *expect; /* crammd5_parse_response's refusal; NULL: accepted */
    const char *user;   /* when accepted */
};

static const struct row rows[] = {
    {"RFC 2195 example", M("tim " RFC_DIGEST), 0, NULL, "tim"},
    {"user with a space", M("tim smith " RFC_DIGEST), 0, NULL, "tim smith"},
    {"user with spaces", M("a b c " RFC_DIGEST), 0, NULL, "a b c"},
    {"two spaces: the last one splits", M("tim  " RFC_DIGEST), 0, NULL, "tim "},
    {"user with '@' and UTF-8", M("j\xc3\xbcrgen@example.net " RFC_DIGEST), 0, NULL,
     "j\xc3\xbcrgen@example.net"},
    {"user exactly max", M("tim " RFC_DIGEST), 3, NULL, "tim"},
    {"user max+1", M("timo " RFC_DIGEST), 3, CRAMMD5_ERR_USER_TOO_LONG, NULL},
    {"user far too long", M("timothy " RFC_DIGEST), 1, CRAMMD5_ERR_USER_TOO_LONG, NULL},
    {"uppercase hex", M("tim B913A602C7EDA7A495B4E6E7334D3890"), 0, CRAMMD5_ERR_DIGEST, NULL},
    {"one uppercase hex digit", M("tim b913a602c7eda7a495b4e6e7334d389F"), 0, CRAMMD5_ERR_DIGEST,
     NULL},
    {"31 hex digits", M("tim b913a602c7eda7a495b4e6e7334d389"), 0, CRAMMD5_ERR_DIGEST, NULL},
    {"33 hex digits", M("tim " RFC_DIGEST "0"), 0, CRAMMD5_ERR_DIGEST, NULL},
    {"64 hex digits", M("tim " RFC_DIGEST RFC_DIGEST), 0, CRAMMD5_ERR_DIGEST, NULL},
    {"non-hex digit", M("tim g913a602c7eda7a495b4e6e7334d3890"), 0, CRAMMD5_ERR_DIGEST, NULL},
    {"0x prefix", M("tim 0xb913a602c7eda7a495b4e6e7334d38"), 0, CRAMMD5_ERR_DIGEST, NULL},
    {"empty digest", M("tim "), 0, CRAMMD5_ERR_DIGEST, NULL},
    {"trailing space", M("tim " RFC_DIGEST " "), 0, CRAMMD5_ERR_DIGEST, NULL},
    {"trailing newline", M("tim " RFC_DIGEST "\n"), 0, CRAMMD5_ERR_DIGEST, NULL},
    {"trailing CRLF", M("tim " RFC_DIGEST "\r\n"), 0, CRAMMD5_ERR_DIGEST, NULL},
    {"space inside the digest", M("tim b913a602c7eda7a4 95b4e6e7334d3890"), 0, CRAMMD5_ERR_DIGEST,
     NULL},
    {"missing space", M("tim" RFC_DIGEST), 0, CRAMMD5_ERR_NO_SPACE, NULL},
    {"tab instead of space", M("tim\t" RFC_DIGEST), 0, CRAMMD5_ERR_NO_SPACE, NULL},
    {"digest only", M(RFC_DIGEST), 0, CRAMMD5_ERR_NO_SPACE, NULL},
    {"empty message", M(""), 0, CRAMMD5_ERR_NO_SPACE, NULL},
    {"empty user", M(" " RFC_DIGEST), 0, CRAMMD5_ERR_EMPTY_USER, NULL},
    {"a single space", M(" "), 0, CRAMMD5_ERR_EMPTY_USER, NULL},
    {"NUL first", M("\0tim " RFC_DIGEST), 0, CRAMMD5_ERR_NUL, NULL},
    {"NUL in the user", M("ti\0m " RFC_DIGEST), 0, CRAMMD5_ERR_NUL, NULL},
    {"NUL for the space", M("tim\0" RFC_DIGEST), 0, CRAMMD5_ERR_NUL, NULL},
    {"NUL in the digest", M("tim b913a602c7eda7a4\0" "5b4e6e7334d3890"), 0, CRAMMD5_ERR_NUL, NULL},
    {"NUL trailing", M("tim " RFC_DIGEST "\0"), 0, CRAMMD5_ERR_NUL, NULL},
    {"a lone NUL", M("\0"), 0, CRAMMD5_ERR_NUL, NULL},
};

static void test_response_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct row *r = &rows[i];
        struct crammd5_response out;
        const char *st;
        /* alone in a heap block, so an over-read shows under valgrind */
        char *p = malloc(r->len ? r->len : 1);

        assert_non_null(p);
        memcpy(p, r->msg, r->len);
        st = crammd5_parse_response(p, r->len, r->max_user ? r->max_user : BIG, &out);
        if (st != r->expect && (!st || !r->expect || strcmp(st, r->expect) != 0))
            fail_msg("row %zu (%s): %s, expected %s", i, r->name, st ? st : "accepted",
                     r->expect ? r->expect : "accepted");
        if (!st) {
            unsigned char want[CRAMMD5_DIGEST_LEN];
            assert_int_equal(out.user_len, strlen(r->user));
            assert_memory_equal(out.user, r->user, out.user_len);
            assert_ptr_equal(out.user, p);
            assert_int_equal(sm_hex_decode_lower(RFC_DIGEST, CRAMMD5_DIGEST_LEN, want), 0);
            assert_memory_equal(out.digest, want, CRAMMD5_DIGEST_LEN);
        }
        free(p);
    }
}

static void test_response_null(void **state)
{
    struct crammd5_response out;

    (void)state;
    assert_non_null(crammd5_parse_response(NULL, 0, BIG, &out));
    assert_non_null(crammd5_parse_response(NULL, 10, BIG, &out));
}

/* Every proper prefix of a valid response fails. */
static void test_response_truncations(void **state)
{
    static const char msg[] = "tim smith " RFC_DIGEST;
    struct crammd5_response out;
    size_t cut;

    (void)state;
    for (cut = 0; cut < sizeof(msg) - 1; cut++) {
        char *p = malloc(cut ? cut : 1);
        assert_non_null(p);
        memcpy(p, msg, cut);
        if (!crammd5_parse_response(p, cut, BIG, &out))
            fail_msg("prefix of %zu bytes accepted", cut);
        free(p);
    }
    assert_null(crammd5_parse_response(msg, sizeof(msg) - 1, BIG, &out));
}

/* build_response then parse_response, over digests and user names. */
static void test_response_round_trip(void **state)
{
    static const char *const users[] = {"t", "tim", "tim smith", "a  b", "x@y.z"};
    unsigned char d[CRAMMD5_DIGEST_LEN];
    size_t u, k, i;

    (void)state;
    for (u = 0; u < sizeof(users) / sizeof(users[0]); u++)
        for (k = 0; k < 64; k++) {
            size_t ul = strlen(users[u]), len = crammd5_response_len(ul);
            struct crammd5_response out;
            char *buf = malloc(len);

            assert_non_null(buf);
            assert_int_equal(len, ul + 1 + CRAMMD5_HEX_LEN);
            for (i = 0; i < sizeof(d); i++)
                d[i] = (unsigned char)(k * 37 + i * 11 + (k == 0 ? 0 : 255 * (i & 1)));
            crammd5_build_response(users[u], ul, d, buf);
            assert_null(crammd5_parse_response(buf, len, ul, &out));
            assert_int_equal(out.user_len, ul);
            assert_memory_equal(out.user, users[u], ul);
            assert_memory_equal(out.digest, d, sizeof(d));
            /* one byte less of user room: refused */
            assert_string_equal(crammd5_parse_response(buf, len, ul - 1, &out),
                                CRAMMD5_ERR_USER_TOO_LONG);
            free(buf);
        }
}

/* ---- challenges ---------------------------------------------------------- */

/* <digits.digits@host> with digits a non-empty run of [0-9]. */
static void check_challenge_format(const char *s, size_t len, const char *host)
{
    size_t i = 1, start;

    assert_int_equal(strlen(s), len);
    assert_true(len >= 6);
    assert_int_equal(s[0], '<');
    assert_int_equal(s[len - 1], '>');
    for (start = i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
        ;
    assert_true(i > start);
    assert_int_equal(s[i++], '.');
    for (start = i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
        ;
    assert_true(i > start);
    assert_int_equal(s[i++], '@');
    assert_int_equal(len - 1 - i, strlen(host));
    assert_memory_equal(s + i, host, strlen(host));
}

static void test_build_challenge(void **state)
{
    static const char host[] = "postoffice.reston.mci.net";
    char buf[CRAMMD5_MAX_HOST + 64];
    size_t n;

    (void)state;
    /* the RFC 2195 example challenge, exactly */
    n = crammd5_build_challenge(buf, sizeof(buf), 1896, 697170952, host, strlen(host));
    assert_int_equal(n, strlen(RFC_CHALLENGE));
    assert_string_equal(buf, RFC_CHALLENGE);
    check_challenge_format(buf, n, host);

    /* extremes of the numbers */
    n = crammd5_build_challenge(buf, sizeof(buf), 0, 0, "h", 1);
    assert_string_equal(buf, "<0.0@h>");
    assert_int_equal(n, 7);
    n = crammd5_build_challenge(buf, sizeof(buf), UINT64_MAX, UINT64_MAX, "example.net", 11);
    assert_string_equal(buf, "<18446744073709551615.18446744073709551615@example.net>");
    check_challenge_format(buf, n, "example.net");

    /* any numbers: always <digits.digits@host> */
    {
        uint64_t x = 0x9e3779b97f4a7c15u;
        int i;
        for (i = 0; i < 200; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            n = crammd5_build_challenge(buf, sizeof(buf), x, x >> (i % 64), host, strlen(host));
            assert_int_not_equal(n, 0);
            check_challenge_format(buf, n, host);
        }
    }

    /* hostlen counts, not the NUL */
    n = crammd5_build_challenge(buf, sizeof(buf), 1, 2, "example.net.extra", 11);
    assert_string_equal(buf, "<1.2@example.net>");
    assert_int_equal(n, strlen(buf));
}

static void test_build_challenge_small_buffer(void **state)
{
    static const char host[] = "postoffice.reston.mci.net";
    const size_t need = strlen(RFC_CHALLENGE);
    char buf[128];
    size_t room;

    (void)state;
    /* a too-small buffer returns 0, for every size short of len + NUL */
    for (room = 0; room <= need; room++) {
        memset(buf, 'x', sizeof(buf));
        assert_int_equal(crammd5_build_challenge(buf, room, 1896, 697170952, host, strlen(host)), 0);
        assert_int_equal(buf[room], 'x'); /* nothing written past outmax */
    }
    assert_int_equal(crammd5_build_challenge(NULL, 0, 1, 2, "h", 1), 0);
    assert_int_equal(crammd5_build_challenge(buf, need + 1, 1896, 697170952, host, strlen(host)),
                     need);
    assert_string_equal(buf, RFC_CHALLENGE);
}

/* The host part is cut to CRAMMD5_MAX_HOST, and the longest challenge still
 * fits the buffer the server uses (CRAMMD5_MAX_HOST + 64). */
static void test_build_challenge_long_host(void **state)
{
    char host[CRAMMD5_MAX_HOST + 50], buf[CRAMMD5_MAX_HOST + 64];
    size_t n;

    (void)state;
    memset(host, 'h', sizeof(host));
    n = crammd5_build_challenge(buf, sizeof(buf), UINT64_MAX, UINT64_MAX, host, sizeof(host));
    assert_int_not_equal(n, 0);
    assert_int_equal(n, 1 + 20 + 1 + 20 + 1 + CRAMMD5_MAX_HOST + 1);
    host[CRAMMD5_MAX_HOST] = '\0';
    check_challenge_format(buf, n, host);
    assert_null(sm_field_refusal(buf, n, CRAMMD5_MAX_CHALLENGE));
}

static void test_check_challenge(void **state)
{
    char *big = malloc(CRAMMD5_MAX_CHALLENGE + 1);
    size_t pos;

    (void)state;
    assert_non_null(big);
    assert_null(sm_field_refusal(M(RFC_CHALLENGE), CRAMMD5_MAX_CHALLENGE));
    assert_null(sm_field_refusal(M("x"), CRAMMD5_MAX_CHALLENGE));
    assert_string_equal(sm_field_refusal(M(""), CRAMMD5_MAX_CHALLENGE), "empty");
    assert_string_equal(sm_field_refusal(NULL, 0, CRAMMD5_MAX_CHALLENGE), "empty");
    assert_string_equal(sm_field_refusal(NULL, 5, CRAMMD5_MAX_CHALLENGE), "empty");
    assert_string_equal(sm_field_refusal(M("\0"), CRAMMD5_MAX_CHALLENGE),
                        "contains a NUL byte");
    assert_string_equal(sm_field_refusal(M("<1.2@h>\0"), CRAMMD5_MAX_CHALLENGE),
                        "contains a NUL byte");
    assert_string_equal(sm_field_refusal(M("<1.2\0@h>"), CRAMMD5_MAX_CHALLENGE),
                        "contains a NUL byte");
    assert_string_equal(sm_field_refusal(M("\0<1.2@h>"), CRAMMD5_MAX_CHALLENGE),
                        "contains a NUL byte");
    memset(big, 'c', CRAMMD5_MAX_CHALLENGE + 1);
    assert_null(sm_field_refusal(big, CRAMMD5_MAX_CHALLENGE, CRAMMD5_MAX_CHALLENGE));
    assert_string_equal(sm_field_refusal(big, CRAMMD5_MAX_CHALLENGE + 1, CRAMMD5_MAX_CHALLENGE),
                        "too long");
    for (pos = 0; pos < CRAMMD5_MAX_CHALLENGE; pos += 97) {
        big[pos] = '\0';
        assert_string_equal(sm_field_refusal(big, CRAMMD5_MAX_CHALLENGE, CRAMMD5_MAX_CHALLENGE),
                            "contains a NUL byte");
        big[pos] = 'c';
    }
    free(big);
}

/* distinct sentences, so an errdetail tells the refusals apart */
static void test_refusals(void **state)
{
    static const char *const all[] = {CRAMMD5_ERR_NO_SPACE, CRAMMD5_ERR_EMPTY_USER,
                                      CRAMMD5_ERR_USER_TOO_LONG, CRAMMD5_ERR_NUL,
                                      CRAMMD5_ERR_DIGEST};
    size_t a, b;

    (void)state;
    for (a = 0; a < sizeof(all) / sizeof(all[0]); a++) {
        assert_true(strlen(all[a]) > 0);
        for (b = 0; b < a; b++)
            assert_string_not_equal(all[a], all[b]);
    }
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc2195_vector),
        cmocka_unit_test(test_response_table),
        cmocka_unit_test(test_response_null),
        cmocka_unit_test(test_response_truncations),
        cmocka_unit_test(test_response_round_trip),
        cmocka_unit_test(test_build_challenge),
        cmocka_unit_test(test_build_challenge_small_buffer),
        cmocka_unit_test(test_build_challenge_long_host),
        cmocka_unit_test(test_check_challenge),
        cmocka_unit_test(test_refusals),
    };

    return cmocka_run_group_tests_name("crammd5_codec", tests, NULL, NULL);
}
