/* Unit tests of LOGIN's answers: one answer of the LOGIN exchange (a user
 * name or a password) is a field of 1..max bytes without a NUL, as
 * sm_field_refusal (common/field.c) checks it. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "login_codec.h"
#include <sasl-mechs/field.h>

#define M(s) s, sizeof(s) - 1

struct row {
    const char *name;
    const char *s;
    size_t len;
    size_t max;
    const char *expect; /* the refusal, NULL: accepted */
};

#define EMPTY "empty"
#define TOO_LONG "too long"
#define NUL "contains a NUL byte"

static const struct row rows[] = {
    {"plain name", M("tim"), 255, NULL},
    {"password with spaces", M("tans taaf "), 1024, NULL},
    {"UTF-8", M("J\xc3\xbcrgen"), 255, NULL},
    {"one byte", M("x"), 1, NULL},
    {"exactly max", M("abcde"), 5, NULL},
    {"max + 1", M("abcdef"), 5, TOO_LONG},
    {"far too long", M("abcdefghijklmnopqrstuvwxyz"), 5, TOO_LONG},
    {"empty", M(""), 255, EMPTY},
    {"empty with max 0", M(""), 0, EMPTY},
    {"one byte over max 0", M("a"), 0, TOO_LONG},
    {"a lone NUL", M("\0"), 255, NUL},
    {"leading NUL", M("\0tim"), 255, NUL},
    {"NUL inside", M("ti\0m"), 255, NUL},
    {"trailing NUL", M("tim\0"), 255, NUL},
    {"NUL exactly at max", M("abcd\0"), 5, NUL},
    {"control bytes other than NUL", M("\x01\x7f\r\n"), 255, NULL},
};

static void test_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *got = sm_field_refusal(rows[i].s, rows[i].len, rows[i].max);
        if (got != rows[i].expect && (!got || !rows[i].expect || strcmp(got, rows[i].expect)))
            fail_msg("row %zu (%s): %s, expected %s", i, rows[i].name, got ? got : "accepted",
                     rows[i].expect ? rows[i].expect : "accepted");
    }
}

static void test_null(void **state)
{
    (void)state;
    assert_string_equal(sm_field_refusal(NULL, 0, 255), EMPTY);
    assert_string_equal(sm_field_refusal(NULL, 5, 255), EMPTY);
}

/* Boundary at the default caps, with the field alone in a heap block so an
 * over-read is caught by valgrind; a NUL at every position is refused. */
static void test_boundaries(void **state)
{
    static const size_t maxes[] = {1, 2, 255, 1024, 65535};
    size_t i, len, pos;

    (void)state;
    for (i = 0; i < sizeof(maxes) / sizeof(maxes[0]); i++) {
        size_t max = maxes[i];
        for (len = max > 1 ? max - 1 : 1; len <= max + 1; len++) {
            char *p = malloc(len);
            assert_non_null(p);
            memset(p, 'u', len);
            if (len > max)
                assert_string_equal(sm_field_refusal(p, len, max), TOO_LONG);
            else
                assert_null(sm_field_refusal(p, len, max));
            free(p);
        }
    }
    for (len = 1; len <= 64; len++)
        for (pos = 0; pos < len; pos++) {
            char *p = malloc(len);
            assert_non_null(p);
            memset(p, 'u', len);
            p[pos] = '\0';
            assert_string_equal(sm_field_refusal(p, len, 64), NUL);
            free(p);
        }
}

static void test_challenges(void **state)
{
    (void)state;
    /* draft-murchison-sasl-login: the server's two prompts */
    assert_string_equal(LOGIN_USERNAME_CHALLENGE, "Username:");
    assert_string_equal(LOGIN_PASSWORD_CHALLENGE, "Password:");
    assert_true(LOGIN_MAX_CHALLENGE >= sizeof(LOGIN_PASSWORD_CHALLENGE));
}

/* the three refusals are told apart in the errdetail */
static void test_refusals(void **state)
{
    const char *empty = sm_field_refusal("", 0, 5), *big = sm_field_refusal("abcdef", 6, 5);
    const char *nul = sm_field_refusal("a\0", 2, 5);

    (void)state;
    assert_non_null(empty);
    assert_non_null(big);
    assert_non_null(nul);
    assert_string_not_equal(empty, big);
    assert_string_not_equal(empty, nul);
    assert_string_not_equal(big, nul);
    /* too long is found before a NUL is searched for beyond the cap */
    assert_string_equal(sm_field_refusal("a\0cdef", 6, 5), TOO_LONG);
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_null),
        cmocka_unit_test(test_boundaries),
        cmocka_unit_test(test_challenges),
        cmocka_unit_test(test_refusals),
    };

    return cmocka_run_group_tests_name("login_codec", tests, NULL, NULL);
}
