/* Unit tests of plugins/login/login_codec.c: one answer of the LOGIN
 * exchange (a user name or a password) is 1..max bytes without a NUL. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "login_codec.h"

#define M(s) s, sizeof(s) - 1

struct row {
    const char *name;
    const char *s;
    size_t len;
    size_t max;
    enum login_status expect;
};

static const struct row rows[] = {
    {"plain name", M("tim"), 255, LOGIN_OK},
    {"password with spaces", M("tans taaf "), 1024, LOGIN_OK},
    {"UTF-8", M("J\xc3\xbcrgen"), 255, LOGIN_OK},
    {"one byte", M("x"), 1, LOGIN_OK},
    {"exactly max", M("abcde"), 5, LOGIN_OK},
    {"max + 1", M("abcdef"), 5, LOGIN_ERR_TOO_LONG},
    {"far too long", M("abcdefghijklmnopqrstuvwxyz"), 5, LOGIN_ERR_TOO_LONG},
    {"empty", M(""), 255, LOGIN_ERR_EMPTY},
    {"empty with max 0", M(""), 0, LOGIN_ERR_EMPTY},
    {"one byte over max 0", M("a"), 0, LOGIN_ERR_TOO_LONG},
    {"a lone NUL", M("\0"), 255, LOGIN_ERR_NUL},
    {"leading NUL", M("\0tim"), 255, LOGIN_ERR_NUL},
    {"NUL inside", M("ti\0m"), 255, LOGIN_ERR_NUL},
    {"trailing NUL", M("tim\0"), 255, LOGIN_ERR_NUL},
    {"NUL exactly at max", M("abcd\0"), 5, LOGIN_ERR_NUL},
    {"control bytes other than NUL", M("\x01\x7f\r\n"), 255, LOGIN_OK},
};

static void test_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        enum login_status st = login_check_field(rows[i].s, rows[i].len, rows[i].max);
        if (st != rows[i].expect)
            fail_msg("row %zu (%s): status %d (%s), expected %d (%s)", i, rows[i].name, (int)st,
                     login_status_text(st), (int)rows[i].expect,
                     login_status_text(rows[i].expect));
    }
}

static void test_null(void **state)
{
    (void)state;
    assert_int_equal(login_check_field(NULL, 0, 255), LOGIN_ERR_EMPTY);
    assert_int_equal(login_check_field(NULL, 5, 255), LOGIN_ERR_EMPTY);
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
            assert_int_equal(login_check_field(p, len, max),
                             len > max ? LOGIN_ERR_TOO_LONG : LOGIN_OK);
            free(p);
        }
    }
    for (len = 1; len <= 64; len++)
        for (pos = 0; pos < len; pos++) {
            char *p = malloc(len);
            assert_non_null(p);
            memset(p, 'u', len);
            p[pos] = '\0';
            assert_int_equal(login_check_field(p, len, 64), LOGIN_ERR_NUL);
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

static void test_status_text(void **state)
{
    enum login_status s;

    (void)state;
    for (s = LOGIN_OK; s <= LOGIN_ERR_TOO_LONG; s++) {
        assert_non_null(login_status_text(s));
        assert_true(strlen(login_status_text(s)) > 0);
    }
    assert_string_equal(login_status_text(LOGIN_OK), "ok");
    assert_non_null(login_status_text((enum login_status)99));
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_null),
        cmocka_unit_test(test_boundaries),
        cmocka_unit_test(test_challenges),
        cmocka_unit_test(test_status_text),
    };

    return cmocka_run_group_tests_name("login_codec", tests, NULL, NULL);
}
