/* Unit tests of plugins/oauth/oauth_advice.c: a table of token endpoint
 * refusals (Microsoft's with error_codes or only the AADSTS head of the
 * description, Google's, plain RFC 6749 codes) and the advice each gets;
 * the command to run names the file; nothing of the description, no
 * secret, reaches the advice; unknown codes get none. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "oauth_advice.h"

#define FILE_ "/var/spool/postfix/oauth/relay.json"
#define CMD "`sasl-mechs-token obtain --force --file " FILE_ "`"

static const struct {
    const char *answer;  /* the token endpoint's JSON */
    long aadsts;
    const char *want;    /* a part of the advice; NULL: no advice */
} rows[] = {
    /* Microsoft: error_codes */
    {"{\"error\":\"invalid_grant\",\"error_codes\":[70008]}", 70008, "(AADSTS70008): run " CMD},
    {"{\"error\":\"invalid_grant\",\"error_codes\":[700082]}", 700082, "90 days unused"},
    {"{\"error\":\"invalid_grant\",\"error_codes\":[50173]}", 50173, "password change"},
    {"{\"error\":\"invalid_grant\",\"error_codes\":[65001]}", 65001, "grant consent"},
    {"{\"error\":\"invalid_grant\",\"error_codes\":[50076]}", 50076, "multi-factor"},
    {"{\"error\":\"invalid_grant\",\"error_codes\":[50079]}", 50079, "register for multi-factor"},
    {"{\"error\":\"invalid_grant\",\"error_codes\":[53003]}", 53003, "Conditional Access"},
    {"{\"error\":\"invalid_request\",\"error_codes\":[90002]}", 90002, "tenant not found"},
    {"{\"error\":\"unauthorized_client\",\"error_codes\":[700016]}", 700016,
     "application not found in this tenant"},
    {"{\"error\":\"invalid_client\",\"error_codes\":[7000218]}", 7000218,
     "Allow public client flows"},
    {"{\"error\":\"invalid_client\",\"error_codes\":[7000215]}", 7000215, "wrong client secret"},
    {"{\"error\":\"invalid_client\",\"error_codes\":[7000222]}", 7000222, "has expired"},
    {"{\"error\":\"invalid_resource\",\"error_codes\":[500011]}", 500011, "SMTP.Send"},
    /* Microsoft: only the description's head */
    {"{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS70008: The provided "
     "authorization code or refresh token has expired. Trace ID: 1234\"}", 70008,
     "(AADSTS70008): run " CMD},
    /* an AADSTS number we have no row for: the OAuth code's advice */
    {"{\"error\":\"invalid_grant\",\"error_codes\":[9999999]}", 9999999, "run " CMD},
    /* Google */
    {"{\"error\":\"invalid_grant\",\"error_description\":\"Token has been expired or "
     "revoked.\"}", 0, "publish it): run " CMD},
    {"{\"error\":\"invalid_client\",\"error_description\":\"The OAuth client was not "
     "found.\"}", 0, "Credentials"},
    /* plain codes */
    {"{\"error\":\"unauthorized_client\"}", 0, "refresh grant"},
    {"{\"error\":\"invalid_scope\"}", 0, "correct \"scope\""},
    /* nothing to say */
    {"{\"error\":\"server_error\"}", 0, NULL},
    {"{\"error\":\"temporarily_unavailable\"}", 0, NULL},
    {"{}", 0, NULL},
    {"[1]", 0, NULL},
    {"{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS12x: no\"}", 0, "run " CMD},
    {"{\"error\":\"invalid_grant\",\"error_codes\":[\"70008\"]}", 0, "run " CMD},
};

static void test_table(void **state)
{
    char out[OAUTH_ADVICE_MAX + 64];
    size_t i, n;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        json_error_t e;
        json_t *j = json_loads(rows[i].answer, 0, &e);
        assert_non_null(j);
        if (oauth_advice_aadsts(j) != rows[i].aadsts)
            fail_msg("row %zu: AADSTS %ld, want %ld", i, oauth_advice_aadsts(j), rows[i].aadsts);
        n = oauth_advice(j, FILE_, out, sizeof(out));
        if (rows[i].want ? !n || !strstr(out, rows[i].want) || n != strlen(out)
                         : n != 0 || out[0])
            fail_msg("row %zu: advice \"%s\", want \"%s\"", i, out,
                     rows[i].want ? rows[i].want : "(none)");
        assert_true(n < OAUTH_ADVICE_MAX);
        json_decref(j);
    }
}

/* The description never reaches the advice (it may echo what was sent);
 * without a file name the command says FILE; a short buffer is cut. */
static void test_no_description_and_limits(void **state)
{
    char out[OAUTH_ADVICE_MAX], small[16];
    json_error_t e;
    json_t *j = json_loads("{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS70008:"
                           " refresh_token=SECRET-RT client_secret=SECRET-CS\"}", 0, &e);

    (void)state;
    assert_non_null(j);
    assert_true(oauth_advice(j, FILE_, out, sizeof(out)) > 0);
    assert_null(strstr(out, "SECRET"));
    assert_true(oauth_advice(j, NULL, out, sizeof(out)) > 0);
    assert_non_null(strstr(out, "--file FILE`"));
    /* a name a shell would read as more than a path is not put in the command */
    assert_true(oauth_advice(j, "/srv/t/a;rm -rf x", out, sizeof(out)) > 0);
    assert_non_null(strstr(out, "--file FILE`"));
    assert_null(strstr(out, "rm -rf"));
    assert_int_equal(oauth_advice(j, FILE_, small, sizeof(small)), sizeof(small) - 1);
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_int_equal(oauth_advice(NULL, FILE_, out, sizeof(out)), 0);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_no_description_and_limits),
    };
    return cmocka_run_group_tests_name("oauth_advice", tests, NULL, NULL);
}
