/* Unit tests of plugins/plain/plain_codec.c (RFC 4616 section 2):
 *   message = [authzid] UTF8NUL authcid UTF8NUL passwd
 * One table of valid and invalid messages (Dovecot style), then the
 * truncations, the size boundaries and build/parse round trips. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "plain_codec.h"

/* a string literal with its embedded NULs, as pointer and length */
#define M(s) s, sizeof(s) - 1

#define BIG 100000

struct row {
    const char *name;
    const char *msg;
    size_t len;
    size_t max_user, max_passwd; /* 0: BIG */
    const char *expect; /* plain_parse's refusal; NULL: accepted */
    /* when accepted: the three fields */
    const char *authzid, *authcid, *passwd;
};

static const struct row rows[] = {
    /* valid */
    {"no authzid", M("\0tim\0tanstaaf"), 0, 0, NULL, "", "tim", "tanstaaf"},
    {"with authzid", M("admin\0tim\0tanstaaf"), 0, 0, NULL, "admin", "tim", "tanstaaf"},
    {"authzid equals authcid", M("tim\0tim\0pw"), 0, 0, NULL, "tim", "tim", "pw"},
    {"one-byte fields", M("a\0b\0c"), 0, 0, NULL, "a", "b", "c"},
    {"spaces kept", M("\0tim smith\0pass word "), 0, 0, NULL, "", "tim smith", "pass word "},
    {"UTF-8", M("\0J\xc3\xbcrgen\0p\xc3\xa4ss"), 0, 0, NULL, "", "J\xc3\xbcrgen", "p\xc3\xa4ss"},
    {"control bytes other than NUL", M("\0\x01\0\x7f\n"), 0, 0, NULL, "", "\x01", "\x7f\n"},
    {"user exactly max", M("\0tim\0pw"), 3, 0, NULL, "", "tim", "pw"},
    {"authzid exactly max", M("abc\0tim\0pw"), 3, 0, NULL, "abc", "tim", "pw"},
    {"password exactly max", M("\0tim\0pw"), 0, 2, NULL, "", "tim", "pw"},
    /* separators: exactly two NULs */
    {"empty message", M(""), 0, 0, PLAIN_ERR_SEPARATORS, NULL, NULL, NULL},
    {"no NUL", M("timtanstaaf"), 0, 0, PLAIN_ERR_SEPARATORS, NULL, NULL, NULL},
    {"one NUL", M("tim\0tanstaaf"), 0, 0, PLAIN_ERR_SEPARATORS, NULL, NULL, NULL},
    {"a lone NUL", M("\0"), 0, 0, PLAIN_ERR_SEPARATORS, NULL, NULL, NULL},
    {"leading NUL only", M("\0timtanstaaf"), 0, 0, PLAIN_ERR_SEPARATORS, NULL, NULL, NULL},
    {"third NUL trailing", M("\0tim\0tanstaaf\0"), 0, 0, PLAIN_ERR_SEPARATORS, NULL, NULL, NULL},
    {"third NUL in the password", M("\0tim\0tans\0taaf"), 0, 0, PLAIN_ERR_SEPARATORS, NULL, NULL,
     NULL},
    {"third NUL right after the second", M("\0tim\0\0pw"), 0, 0, PLAIN_ERR_SEPARATORS, NULL, NULL,
     NULL},
    {"three NULs first", M("\0\0\0"), 0, 0, PLAIN_ERR_SEPARATORS, NULL, NULL, NULL},
    {"four fields", M("a\0b\0c\0d"), 0, 0, PLAIN_ERR_SEPARATORS, NULL, NULL, NULL},
    {"NUL NUL then fields", M("\0\0tim\0pw"), 0, 0, PLAIN_ERR_SEPARATORS, NULL, NULL, NULL},
    /* empty fields */
    {"empty authcid", M("\0\0tanstaaf"), 0, 0, PLAIN_ERR_EMPTY_AUTHCID, NULL, NULL, NULL},
    {"empty authcid with authzid", M("admin\0\0tanstaaf"), 0, 0, PLAIN_ERR_EMPTY_AUTHCID, NULL,
     NULL, NULL},
    {"two NULs only", M("\0\0"), 0, 0, PLAIN_ERR_EMPTY_AUTHCID, NULL, NULL, NULL},
    {"empty password", M("\0tim\0"), 0, 0, PLAIN_ERR_EMPTY_PASSWD, NULL, NULL, NULL},
    {"empty password with authzid", M("admin\0tim\0"), 0, 0, PLAIN_ERR_EMPTY_PASSWD, NULL, NULL,
     NULL},
    /* size caps, one over the boundary */
    {"authcid max+1", M("\0timo\0pw"), 3, 0, PLAIN_ERR_USER_TOO_LONG, NULL, NULL, NULL},
    {"authzid max+1", M("abcd\0tim\0pw"), 3, 0, PLAIN_ERR_USER_TOO_LONG, NULL, NULL, NULL},
    {"password max+1", M("\0tim\0pwd"), 0, 2, PLAIN_ERR_PASSWD_TOO_LONG, NULL, NULL, NULL},
};

/* plain_parse's answers: NULL (accepted) or one of the PLAIN_ERR_* */
static int same_refusal(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static const char *said(const char *refusal)
{
    return refusal ? refusal : "accepted";
}

static void check_row(const struct row *r, size_t i)
{
    struct plain_message m;
    const char *st;

    memset(&m, 0xa5, sizeof(m));
    st = plain_parse(r->msg, r->len, r->max_user ? r->max_user : BIG,
                     r->max_passwd ? r->max_passwd : BIG, &m);
    if (!same_refusal(st, r->expect))
        fail_msg("row %zu (%s): %s, expected %s", i, r->name, said(st), said(r->expect));
    if (st)
        return;
    assert_int_equal(m.authzid_len, strlen(r->authzid));
    assert_int_equal(m.authcid_len, strlen(r->authcid));
    assert_int_equal(m.passwd_len, strlen(r->passwd));
    if (m.authzid_len)
        assert_memory_equal(m.authzid, r->authzid, m.authzid_len);
    assert_memory_equal(m.authcid, r->authcid, m.authcid_len);
    assert_memory_equal(m.passwd, r->passwd, m.passwd_len);
    /* the fields point into the buffer, not into copies */
    assert_ptr_equal(m.authcid, r->msg + m.authzid_len + 1);
    assert_ptr_equal(m.passwd, r->msg + m.authzid_len + 1 + m.authcid_len + 1);
}

static void test_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        check_row(&rows[i], i);
}

static void test_null_message(void **state)
{
    struct plain_message m;

    (void)state;
    assert_string_equal(plain_parse(NULL, 0, BIG, BIG, &m), PLAIN_ERR_SEPARATORS);
}

/* Parsing never reads outside [msg, msg + len): the message sits at the end
 * of a heap block so valgrind/ASan catch an over-read, and bytes after len
 * (here a NUL and more text) never count. */
static void test_no_overread(void **state)
{
    static const char full[] = "admin\0tim\0tanstaaf\0extra";
    const size_t len = sizeof("admin\0tim\0tanstaaf") - 1;
    struct plain_message m;
    char *heap = malloc(len);

    (void)state;
    assert_non_null(heap);
    memcpy(heap, full, len);
    assert_null(plain_parse(heap, len, BIG, BIG, &m));
    assert_int_equal(m.passwd_len, 8);
    assert_null(plain_parse(full, len, BIG, BIG, &m));
    assert_int_equal(m.passwd_len, 8);
    free(heap);
}

/* Every truncation of a valid message up to the first password byte fails;
 * a cut inside the password cannot be seen (PLAIN carries no length), so
 * those prefixes parse with the shorter password. */
static void test_truncations(void **state)
{
    static const char msg[] = "admin\0tim\0tanstaaf";
    const size_t len = sizeof(msg) - 1, first_pw = sizeof("admin\0tim\0") - 1;
    struct plain_message m;
    size_t cut;

    (void)state;
    for (cut = 0; cut < len; cut++) {
        /* on the heap, exactly cut bytes, so an over-read is caught */
        char *p = malloc(cut ? cut : 1);
        const char *st;

        assert_non_null(p);
        memcpy(p, msg, cut);
        st = plain_parse(p, cut, BIG, BIG, &m);
        if (cut <= first_pw) {
            if (!st)
                fail_msg("prefix of %zu bytes accepted", cut);
        } else {
            assert_null(st);
            assert_int_equal(m.passwd_len, cut - first_pw);
        }
        free(p);
    }
    assert_null(plain_parse(msg, len, BIG, BIG, &m));
}

/* The default caps (255 and 1024 bytes) at and one over the boundary. */
static void test_boundaries(void **state)
{
    enum { MAXU = 255, MAXP = 1024 };
    char *buf = malloc(2 * (MAXU + 1) + MAXP + 1 + 2);
    struct plain_message m;
    size_t zl, cl, pl;

    (void)state;
    assert_non_null(buf);
    for (zl = MAXU - 1; zl <= MAXU + 1; zl++)
        for (cl = MAXU - 1; cl <= MAXU + 1; cl++)
            for (pl = MAXP - 1; pl <= MAXP + 1; pl++) {
                const char *want = zl > MAXU || cl > MAXU ? PLAIN_ERR_USER_TOO_LONG
                                   : pl > MAXP            ? PLAIN_ERR_PASSWD_TOO_LONG
                                                          : NULL;
                size_t len = zl + 1 + cl + 1 + pl;
                memset(buf, 'z', zl);
                buf[zl] = '\0';
                memset(buf + zl + 1, 'c', cl);
                buf[zl + 1 + cl] = '\0';
                memset(buf + zl + 1 + cl + 1, 'p', pl);
                const char *st = plain_parse(buf, len, MAXU, MAXP, &m);
                /* both kinds over the cap: either report will do */
                if (!same_refusal(st, want)
                    && !(same_refusal(want, PLAIN_ERR_USER_TOO_LONG) && pl > MAXP
                         && same_refusal(st, PLAIN_ERR_PASSWD_TOO_LONG)))
                    fail_msg("authzid %zu, authcid %zu, password %zu: %s", zl, cl, pl, said(st));
                if (!want) {
                    assert_int_equal(m.authzid_len, zl);
                    assert_int_equal(m.authcid_len, cl);
                    assert_int_equal(m.passwd_len, pl);
                }
            }
    free(buf);
}

/* build, then parse: the same three fields back, for every small shape. */
static void test_build_parse_round_trip(void **state)
{
    static const char z[] = "authz", c[] = "authc", p[] = "p\xc3\xa4ss";
    size_t zl, cl, pl;

    (void)state;
    for (zl = 0; zl <= 5; zl++)
        for (cl = 1; cl <= 5; cl++)
            for (pl = 1; pl <= 5; pl++) {
                struct plain_message in = {zl ? z : NULL, zl, c, cl, p, pl}, out;
                size_t len = plain_message_len(&in);
                char *buf = malloc(len);

                assert_non_null(buf);
                assert_int_equal(len, zl + cl + pl + 2);
                plain_build(&in, buf);
                assert_int_equal(buf[zl], '\0');
                assert_int_equal(buf[zl + 1 + cl], '\0');
                assert_null(plain_parse(buf, len, 5, 5, &out));
                assert_int_equal(out.authzid_len, zl);
                assert_int_equal(out.authcid_len, cl);
                assert_int_equal(out.passwd_len, pl);
                if (zl)
                    assert_memory_equal(out.authzid, z, zl);
                assert_memory_equal(out.authcid, c, cl);
                assert_memory_equal(out.passwd, p, pl);
                /* and the rebuilt bytes are identical */
                {
                    char *again = malloc(len);
                    assert_non_null(again);
                    assert_int_equal(plain_message_len(&out), len);
                    plain_build(&out, again);
                    assert_memory_equal(again, buf, len);
                    free(again);
                }
                free(buf);
            }
}

static void test_build_exact_bytes(void **state)
{
    struct plain_message m = {NULL, 0, "tim", 3, "tanstaaf", 8};
    struct plain_message mz = {"admin", 5, "tim", 3, "pw", 2};
    char buf[64];

    (void)state;
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(plain_message_len(&m), 13);
    plain_build(&m, buf);
    assert_memory_equal(buf, "\0tim\0tanstaaf", 13);
    assert_int_equal(buf[13], 'x'); /* no NUL appended */
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(plain_message_len(&mz), 12);
    plain_build(&mz, buf);
    assert_memory_equal(buf, "admin\0tim\0pw", 12);
    assert_int_equal(buf[12], 'x');
}

/* distinct sentences, so an errdetail tells the refusals apart */
static void test_refusals(void **state)
{
    static const char *const all[] = {PLAIN_ERR_SEPARATORS, PLAIN_ERR_EMPTY_AUTHCID,
                                      PLAIN_ERR_EMPTY_PASSWD, PLAIN_ERR_USER_TOO_LONG,
                                      PLAIN_ERR_PASSWD_TOO_LONG};
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
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_null_message),
        cmocka_unit_test(test_no_overread),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_boundaries),
        cmocka_unit_test(test_build_parse_round_trip),
        cmocka_unit_test(test_build_exact_bytes),
        cmocka_unit_test(test_refusals),
    };

    return cmocka_run_group_tests_name("plain_codec", tests, NULL, NULL);
}
