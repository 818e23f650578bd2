/* Each failure reaches the application's log once.  sm_fail hands libsasl2
 * the errdetail, which libsasl2 logs; a plugin that also logged the same
 * failure itself made the mail log show it twice.  Here the driver's log
 * callback (every level, log_level 7) counts how often one failure's
 * sentence appears: a wrong password on PLAIN, LOGIN and CRAM-MD5, a
 * malformed PLAIN message, a malformed NTLM NEGOTIATE and a wrong NTLM
 * password (when NTLM is built).  test_gssapi does the same for a GSSAPI
 * failure (it has the KDC). */
#include "config.h"
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct once_case {
    const char *name;
    const char *mech;
    const char *user, *password; /* an exchange with these; NULL: msg instead */
    struct hx_msg msg[2];        /* a scripted client message */
    int expect;
    const char *needle;          /* the failure's sentence, as the errdetail has it */
};

static const struct once_case cases[] = {
    {"PLAIN: a wrong password", "PLAIN", HX_USER, "wrong-Pa55word", {{NULL, 0, 0}},
     SASL_BADAUTH, "PLAIN: authentication failed"},
    {"PLAIN: an unknown user", "PLAIN", HX_UNKNOWN, "wrong-Pa55word", {{NULL, 0, 0}},
     SASL_BADAUTH, "PLAIN: authentication failed"},
    {"PLAIN: a message without separators", "PLAIN", NULL, NULL, {HX_MSG("no-separator")},
     SASL_BADPROT, "PLAIN: "},
    {"LOGIN: a wrong password", "LOGIN", HX_USER, "wrong-Pa55word", {{NULL, 0, 0}},
     SASL_BADAUTH, "LOGIN: authentication failed"},
    {"CRAM-MD5: a wrong password", "CRAM-MD5", HX_USER, "wrong-Pa55word", {{NULL, 0, 0}},
     SASL_BADAUTH, "CRAM-MD5: authentication failed"},
#ifdef SM_TEST_NTLM
    {"NTLM: a wrong password", "NTLM", HX_USER, "wrong-Pa55word", {{NULL, 0, 0}},
     SASL_BADAUTH, "NTLM: authentication failed"},
    {"NTLM: a NEGOTIATE that is not NTLM", "NTLM", NULL, NULL,
     {HX_MSG("NTLMSSP\0\x02\0\0\0\x07\x82\x08\xa2")}, SASL_BADPROT, "NTLM: NEGOTIATE: "},
#endif
};
#define N_CASES ((int)(sizeof(cases) / sizeof(cases[0])))

static void once_row(int row, void *arg)
{
    const struct once_case *c = &cases[row];
    char needle[200];
    int rc, n;

    (void)arg;
    hx_row_name("%s", c->name);
    if (c->user) {
        struct hx_client cl = {.authname = c->user, .password = c->password};
        struct hx_outcome o;

        hx_log_reset();
        rc = hx_exchange(c->mech, &cl, NULL, &o);
        snprintf(needle, sizeof(needle), "%s", strstr(o.server_err, c->needle)
                                                   ? strstr(o.server_err, c->needle) : c->needle);
    } else {
        struct hx_msgs m = {c->msg, 1};
        struct hx_script r;

        hx_server_script(c->mech, hx_reply_list, &m, &r);
        rc = r.rc[r.steps > 0 ? r.steps - 1 : 0];
        snprintf(needle, sizeof(needle), "%s", strstr(r.err, c->needle)
                                                   ? strstr(r.err, c->needle) : c->needle);
    }
    n = hx_log_count(needle);
    if (!tap_ok(rc == c->expect && n == 1, "%s: %s, and \"%s\" is in the log once (%d times)",
                c->name, hx_code(rc), needle, n))
        tap_diag("log: %s", hx_log_text());
}

int main(void)
{
    if (hx_setup() == 0) {
        struct hx_init in = {.server_path = hx_path(hx.ours, hx.aux, NULL),
                             .client_path = hx.ours};

        hx_run("each failure logged once", &in, N_CASES, once_row, NULL);
    }
    hx_cleanup();
    return tap_done();
}
