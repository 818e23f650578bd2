/* Whole exchanges through libsasl2: our PLAIN, LOGIN and CRAM-MD5 against
 * each other and against Cyrus's plugins of the same mechanism, with
 * credentials from callbacks and from SASL_INTERACT, with and without an
 * initial response; wrong credentials, proxy authorization, the options and
 * the security flags.  Each case runs in its own forked child (harness.h). */
#include "config.h"
#include "harness.h"

#include <ctype.h>
#include <stdlib.h>

#define EXPECTED_USER HX_USER "@" HX_REALM
#define WRONG_PASS "Wr0ng-Pa55-guess"

struct mech {
    const char *name;
    const char *prefix; /* of its options */
};
static const struct mech mechs[] = {
    {"PLAIN", "plain"}, {"LOGIN", "login"}, {"CRAM-MD5", "crammd5"},
};
#define N_MECHS 3

/* Does the server errdetail come from our plugin?  Ours all say "MECH: ...". */
static int ours_said(const char *mech, const char *errdetail)
{
    char tag[40];

    snprintf(tag, sizeof(tag), ": %s: ", mech);
    return strstr(errdetail, tag) != NULL;
}

static int no_secret_leak(const char *what, const struct hx_outcome *o, const char *secret)
{
    int ok = tap_ok(!strstr(o->server_err, secret) && !strstr(o->client_err, secret)
                    && !hx_log_contains(secret), "%s: the password is in no errdetail and no log line",
                    what);
    if (!ok)
        tap_diag("errdetails: \"%s\" / \"%s\"", o->server_err, o->client_err);
    return ok;
}

static void show(const struct hx_outcome *o)
{
    tap_diag("server %s, client %s, user \"%s\", challenge \"%s\"", hx_code(o->server_rc),
             hx_code(o->client_rc), o->username, o->challenge);
    if (o->server_err[0] || o->client_err[0])
        tap_diag("errdetail: server \"%s\", client \"%s\"", o->server_err, o->client_err);
}

/* ---- the interoperability matrix --------------------------------------- */

struct matrix {
    const struct mech *m;
    const char *label;     /* "ours x ours" ... */
    int server_is_ours;
};

static int expect_success(const char *what, const char *mech, const struct hx_client *c,
                          const char *user)
{
    struct hx_outcome o;
    int ok;

    hx_exchange(mech, c, NULL, &o);
    ok = tap_ok(o.server_rc == SASL_OK && o.client_rc == SASL_OK && strcmp(o.username, user) == 0,
                "%s: SASL_OK on both sides, SASL_USERNAME is %s", what, user);
    if (!ok)
        show(&o);
    return ok;
}

static void matrix_row(int row, void *arg)
{
    const struct matrix *x = arg;
    const char *mech = x->m->name;
    struct hx_client good = {.authname = HX_USER, .password = HX_PASS};
    struct hx_client c = good;
    struct hx_outcome wrong, unknown, o;
    struct hx_server proxy = {.proxy_allow = HX_USER2};
    char what[160];
    int ok;

    switch (row) {
    case 0:
        snprintf(what, sizeof(what), "%s %s: callbacks, initial response", mech, x->label);
        expect_success(what, mech, &c, EXPECTED_USER);
        break;
    case 1:
        c.no_initial = 1;
        snprintf(what, sizeof(what), "%s %s: callbacks, no initial response", mech, x->label);
        expect_success(what, mech, &c, EXPECTED_USER);
        break;
    case 2:
        c.interact = 1;
        snprintf(what, sizeof(what), "%s %s: SASL_INTERACT prompts, initial response", mech, x->label);
        expect_success(what, mech, &c, EXPECTED_USER);
        break;
    case 3:
        c.interact = c.no_initial = 1;
        snprintf(what, sizeof(what), "%s %s: SASL_INTERACT prompts, no initial response", mech,
                 x->label);
        expect_success(what, mech, &c, EXPECTED_USER);
        break;
    case 4:
        /* many applications give AUTHNAME and PASS and no SASL_CB_USER at all */
        c.no_user_cb = 1;
        snprintf(what, sizeof(what), "%s %s: application without a SASL_CB_USER callback", mech,
                 x->label);
        expect_success(what, mech, &c, EXPECTED_USER);
        break;
    case 5:
        c.password = WRONG_PASS;
        hx_exchange(mech, &c, NULL, &wrong);
        c.authname = HX_UNKNOWN;
        hx_exchange(mech, &c, NULL, &unknown);
        snprintf(what, sizeof(what), "%s %s", mech, x->label);
        if (x->server_is_ours) {
            if (!tap_ok(wrong.server_rc == SASL_BADAUTH, "%s: wrong password: SASL_BADAUTH", what))
                show(&wrong);
            if (!tap_ok(unknown.server_rc == SASL_BADAUTH, "%s: unknown user: SASL_BADAUTH", what))
                show(&unknown);
            ok = tap_ok(wrong.server_err[0] && strcmp(wrong.server_err, unknown.server_err) == 0,
                        "%s: unknown user and wrong password have the same errdetail", what);
            if (!ok)
                tap_diag("\"%s\" vs \"%s\"", wrong.server_err, unknown.server_err);
            no_secret_leak(what, &wrong, WRONG_PASS);
        } else {
            /* Cyrus's behaviour is not ours to judge: only "it failed" */
            if (!tap_ok(hx_is_error(wrong.server_rc) && hx_is_error(unknown.server_rc),
                        "%s: wrong password and unknown user are refused", what)) {
                show(&wrong);
                show(&unknown);
            }
        }
        break;
    case 6:
        hx_exchange(mech, &c, NULL, &o);
        ok = tap_ok(o.server_rc == SASL_OK && hx_is_error(o.again_rc)
                    && strcmp(o.again_username, EXPECTED_USER) == 0,
                    "%s %s: a step after SASL_OK is refused and changes no identity", mech, x->label);
        if (!ok)
            tap_diag("after SASL_OK the extra step gave %s, user \"%s\"", hx_code(o.again_rc),
                     o.again_username);
        break;
    case 7: /* PLAIN only: proxy authorization */
        c.authzid = HX_USER2;
        hx_exchange(mech, &c, &proxy, &o);
        ok = tap_ok(o.server_rc == SASL_OK && strcmp(o.username, HX_USER2 "@" HX_REALM) == 0
                    && strcmp(o.authuser, EXPECTED_USER) == 0,
                    "%s %s: authzid allowed by the proxy policy: SASL_USERNAME is the authzid, "
                    "SASL_AUTHUSER the authcid", mech, x->label);
        if (!ok) {
            show(&o);
            tap_diag("SASL_AUTHUSER \"%s\"", o.authuser);
        }
        break;
    case 8:
        c.authzid = HX_USER2;
        hx_exchange(mech, &c, NULL, &o);
        ok = tap_ok(hx_is_error(o.server_rc) && !o.username[0],
                    "%s %s: authzid refused by libsasl2's default policy (%s)", mech, x->label,
                    hx_code(o.server_rc));
        if (!ok)
            show(&o);
        break;
    }
}

static void run_matrix(void)
{
    static struct matrix x[N_MECHS][3];
    struct hx_init in = {0};
    char name[80];
    int i, k;

    for (i = 0; i < N_MECHS; i++)
        for (k = 0; k < 3; k++) {
            x[i][k].m = &mechs[i];
            x[i][k].server_is_ours = k != 1;
            x[i][k].label = k == 0 ? "ours x ours" : k == 1 ? "ours client x Cyrus server"
                                                            : "Cyrus client x ours server";
            in.server_path = hx_path(k == 1 ? hx.cyrus : hx.ours, hx.aux, NULL);
            in.client_path = k == 2 ? hx.cyrus : hx.ours;
            snprintf(name, sizeof(name), "%s %s", mechs[i].name, x[i][k].label);
            hx_run(name, &in, strcmp(mechs[i].name, "PLAIN") == 0 ? 9 : 7, matrix_row, &x[i][k]);
        }
}

/* ---- LOGIN: the user name as initial response --------------------------- */

static void login_row(int row, void *arg)
{
    static const struct hx_msg with_ir[] = {HX_MSG(HX_USER), HX_MSG(HX_PASS)};
    static const struct hx_msg without_ir[] = {{NULL, 0, 0}, HX_MSG(HX_USER), HX_MSG(HX_PASS)};
    struct hx_msgs m = row == 0 ? (struct hx_msgs){with_ir, 2} : (struct hx_msgs){without_ir, 3};
    struct hx_script r;
    int ok;

    (void)arg;
    hx_server_script("LOGIN", hx_reply_list, &m, &r);
    if (row == 0)
        ok = tap_ok(r.steps == 2 && r.rc[0] == SASL_CONTINUE && r.rc[1] == SASL_OK,
                    "LOGIN server: the user name as initial response, then \"Password:\"");
    else
        ok = tap_ok(r.steps == 3 && r.rc[0] == SASL_CONTINUE && r.rc[1] == SASL_CONTINUE
                    && r.rc[2] == SASL_OK,
                    "LOGIN server: no initial response: \"Username:\", \"Password:\", SASL_OK");
    if (!ok)
        tap_diag("%d steps, last %s: %s", r.steps, hx_code(r.rc[r.steps - 1]), r.err);
}

/* The challenges themselves, seen from a scripted client. */
static int login_prompts(void *arg, int step, const char *chal, unsigned chal_len, char **msg,
                         unsigned *len)
{
    char *seen = arg;

    if (step == 0)
        return HX_NONE;
    if (step > 2)
        return HX_STOP;
    strncat(seen, hx_show(chal, chal_len), 100);
    strcat(seen, "|");
    *msg = hx_memdup(step == 1 ? HX_USER : HX_PASS, strlen(step == 1 ? HX_USER : HX_PASS));
    *len = (unsigned)strlen(*msg);
    return HX_SEND;
}

static void login_prompt_row(int row, void *arg)
{
    char seen[300] = "";
    struct hx_script r;

    (void)row; (void)arg;
    hx_server_script("LOGIN", login_prompts, seen, &r);
    if (!tap_ok(strcmp(seen, "Username:|Password:|") == 0 && r.rc[2] == SASL_OK,
                "LOGIN server: the challenges are \"Username:\" then \"Password:\""))
        tap_diag("seen \"%s\", last %s", seen, hx_code(r.rc[r.steps - 1]));
}

/* ---- CRAM-MD5 specifics -------------------------------------------------- */

/* "<digits.digits@FQDN>" as RFC 2195 section 2 describes the msg-id */
static int msg_id_shape(const char *s)
{
    const char *p = s;

    if (*p++ != '<' || !isdigit((unsigned char)*p))
        return 0;
    while (isdigit((unsigned char)*p))
        p++;
    if (*p++ != '.' || !isdigit((unsigned char)*p))
        return 0;
    while (isdigit((unsigned char)*p))
        p++;
    return strcmp(p, "@" HX_FQDN ">") == 0;
}

/* Reply with what the loaded client plugin answers; keep the answer. */
struct oracle {
    struct hx_client c;
    char *saved;       /* the response of the first run, replayed by the second */
    unsigned saved_len;
    int replay;
};

static int oracle_reply(void *arg, int step, const char *chal, unsigned chal_len, char **msg,
                        unsigned *len)
{
    struct oracle *o = arg;

    if (step == 0)
        return HX_NONE;
    if (step > 1)
        return HX_STOP;
    if (o->replay) {
        *msg = hx_memdup(o->saved, o->saved_len);
        *len = o->saved_len;
        return HX_SEND;
    }
    if (hx_client_answer("CRAM-MD5", &o->c, chal, chal_len, msg, len) != SASL_OK || !*msg)
        return HX_STOP;
    free(o->saved);
    o->saved = hx_memdup(*msg, *len);
    o->saved_len = *len;
    return HX_SEND;
}

static void cram_row(int row, void *arg)
{
    static const struct hx_msg rfc2195[] = {HX_MSG("<1896.697170952@postoffice.reston.mci.net>")};
    struct hx_client tim = {.authname = HX_CRAM_USER, .password = HX_CRAM_PASS};
    struct hx_client tom = {.authname = HX_CRAM_UPPER_USER, .password = HX_CRAM_PASS};
    struct hx_client alice = {.authname = HX_USER, .password = HX_PASS};
    struct oracle orc = {.c = alice};
    struct hx_outcome a, b;
    struct hx_script r, r2;
    int ok;

    (void)arg;
    switch (row) {
    case 0:
        hx_exchange("CRAM-MD5", &alice, NULL, &a);
        hx_exchange("CRAM-MD5", &alice, NULL, &b);
        ok = tap_ok(msg_id_shape(a.challenge) && msg_id_shape(b.challenge)
                    && strcmp(a.challenge, b.challenge) != 0,
                    "CRAM-MD5 server: challenges are <digits.digits@" HX_FQDN "> and differ");
        if (!ok)
            tap_diag("\"%s\" then \"%s\"", a.challenge, b.challenge);
        break;
    case 1:
        expect_success("CRAM-MD5 ours x ours: {CRAM-MD5} key schedule in the sasldb", "CRAM-MD5",
                       &tim, HX_CRAM_USER "@" HX_REALM);
        break;
    case 2:
        expect_success("CRAM-MD5 ours x ours: {CRAM-MD5} key schedule in uppercase hex", "CRAM-MD5",
                       &tom, HX_CRAM_UPPER_USER "@" HX_REALM);
        break;
    case 3:
        tim.password = WRONG_PASS;
        hx_exchange("CRAM-MD5", &tim, NULL, &a);
        if (!tap_ok(a.server_rc == SASL_BADAUTH, "CRAM-MD5: wrong password against a key schedule: "
                    "SASL_BADAUTH"))
            show(&a);
        break;
    case 4:
        /* our client against RFC 2195 section 2's own example */
        hx_client_script("CRAM-MD5", &tim, rfc2195, 1, &r);
        if (!tap_ok(r.rc[1] == SASL_OK && strcmp(r.out, "tim b913a602c7eda7a495b4e6e7334d3890") == 0,
                    "CRAM-MD5 client: RFC 2195 example response"))
            tap_diag("%s: \"%s\" %s", hx_code(r.rc[1]), hx_show(r.out, r.outlen), r.err);
        break;
    case 5:
        hx_server_script("CRAM-MD5", oracle_reply, &orc, &r);
        orc.replay = 1;
        hx_server_script("CRAM-MD5", oracle_reply, &orc, &r2);
        ok = tap_ok(r.rc[r.steps - 1] == SASL_OK && r2.rc[r2.steps - 1] == SASL_BADAUTH,
                    "CRAM-MD5 server: a response replayed on a new challenge is refused");
        if (!ok)
            tap_diag("first %s, replay %s (%s)", hx_code(r.rc[r.steps - 1]),
                     hx_code(r2.rc[r2.steps - 1]), r2.err);
        free(orc.saved);
        break;
    case 6:
    case 7:
        /* with pwcheck_method auxprop, checkpass compares against
         * userPassword: the stored schedule itself must not be a password */
        tim.password = "{CRAM-MD5}" HX_CRAM_SCHEDULE;
        hx_exchange(row == 6 ? "PLAIN" : "LOGIN", &tim, NULL, &a);
        if (!tap_ok(a.server_rc == SASL_BADAUTH, "%s: the stored {CRAM-MD5} schedule typed as the "
                    "password: SASL_BADAUTH", row == 6 ? "PLAIN" : "LOGIN"))
            show(&a);
        break;
    }
}

/* crammd5_secret_format: plain reads {CRAM-MD5}... as a password; hmac-md5
 * refuses plaintext entries. */
static void cram_format_row(int row, void *arg)
{
    const char *fmt = arg;
    struct hx_client tim = {.authname = HX_CRAM_USER, .password = HX_CRAM_PASS};
    struct hx_client alice = {.authname = HX_USER, .password = HX_PASS};
    struct hx_outcome o;
    int plain = strcmp(fmt, "plain") == 0, want;

    hx_exchange("CRAM-MD5", row == 0 ? &alice : &tim, NULL, &o);
    want = (row == 0) == plain ? SASL_OK : SASL_BADAUTH;
    if (!tap_ok(o.server_rc == want, "CRAM-MD5 crammd5_secret_format: %s: %s entry: %s", fmt,
                row == 0 ? "plaintext" : "{CRAM-MD5}", hx_code(want)))
        show(&o);
}

static void run_mech_specifics(void)
{
    struct hx_init in = {.server_path = hx_path(hx.ours, hx.aux, NULL), .client_path = hx.ours};
    static const char *const plain_fmt[] = {"crammd5_secret_format", "plain", NULL};
    static const char *const hmac_fmt[] = {"crammd5_secret_format", "hmac-md5", NULL};

    hx_run("LOGIN initial response", &in, 2, login_row, NULL);
    hx_run("LOGIN prompts", &in, 1, login_prompt_row, NULL);
    hx_run("CRAM-MD5 specifics", &in, 8, cram_row, NULL);
    in.server_opts = plain_fmt;
    hx_run("CRAM-MD5 secret format plain", &in, 2, cram_format_row, (void *)"plain");
    in.server_opts = hmac_fmt;
    hx_run("CRAM-MD5 secret format hmac-md5", &in, 2, cram_format_row, (void *)"hmac-md5");
}

/* ---- options ------------------------------------------------------------- */

/* Start the server; the option under test must make it fail at once. */
static void bad_option_row(int row, void *arg)
{
    const char *const *opt = arg;
    static const struct hx_msg plain_ir[] = {HX_MSG("\0" HX_USER "\0" HX_PASS)};
    static const struct hx_msg none[] = {{NULL, 0, 0}};
    const char *mech = strncmp(opt[0], "plain", 5) == 0 ? "PLAIN"
                     : strncmp(opt[0], "login", 5) == 0 ? "LOGIN" : "CRAM-MD5";
    struct hx_msgs m = {strcmp(mech, "PLAIN") == 0 ? plain_ir : none, 1};
    struct hx_script r;

    (void)row;
    hx_server_script(mech, hx_reply_list, &m, &r);
    /* The option's name is logged when the plugin loads, with no connection:
     * libsasl2 sends that to syslog, not to the application's SASL_CB_LOG,
     * so it cannot be checked here. */
    if (!tap_ok(r.rc[0] == SASL_CONFIGERR && hx_has_detail(r.rc[0], r.err),
                "%s: option %s: \"%s\": sasl_server_start fails with SASL_CONFIGERR", mech,
                opt[0], opt[1]))
        tap_diag("%s: \"%s\"", hx_code(r.rc[0]), r.err);
}

/* <mech>_enable with a value that is no boolean: the server must not guess,
 * and must say why where the administrator looks: the mechanism is offered
 * and every exchange fails with SASL_CONFIGERR naming the option (a plugin
 * that did not load would be logged to syslog only). */
static void bad_enable_row(int row, void *arg)
{
    const struct mech *m = arg;
    static const struct hx_msg none[] = {{NULL, 0, 0}};
    struct hx_msgs msgs = {none, 1};
    struct hx_script r;
    char list[512], name[40];

    (void)row;
    hx_listmech(0, list, sizeof(list));
    hx_server_script(m->name, hx_reply_list, &msgs, &r);
    snprintf(name, sizeof(name), "%s_enable: \"maybe\"", m->prefix);
    if (!tap_ok(r.rc[0] == SASL_CONFIGERR && strstr(r.err, name),
                "%s: %s_enable: maybe: every exchange fails with SASL_CONFIGERR naming it",
                m->name, m->prefix))
        tap_diag("offered: %s; %s: \"%s\"", list, hx_code(r.rc[0]), r.err);
}

/* The size caps, at and over the limit. */
static void cap_row(int row, void *arg)
{
    const struct mech *m = &mechs[row / 2];
    struct hx_client c = {.authname = HX_USER, .password = HX_PASS};
    struct hx_outcome o;
    int over = row % 2;

    (void)arg;
    if (over)
        c.authname = HX_USER2 "x"; /* "bobx", 4 bytes: the cap is 3 */
    else
        c.authname = HX_USER2, c.password = HX_PASS2; /* "bob": under the cap */
    hx_exchange(m->name, &c, NULL, &o);
    if (!tap_ok(o.server_rc == (over ? SASL_BADPROT : SASL_OK),
                "%s: %s_max_user_length: 3: a user of %u bytes: %s", m->name, m->prefix,
                (unsigned)strlen(c.authname), over ? "SASL_BADPROT" : "SASL_OK"))
        show(&o);
}

static void password_cap_row(int row, void *arg)
{
    const struct mech *m = &mechs[row];
    struct hx_client c = {.authname = HX_USER2, .password = HX_PASS2};
    struct hx_outcome o;

    (void)arg;
    hx_exchange(m->name, &c, NULL, &o);
    /* CRAM-MD5 never sees the password, so its cap does not apply */
    if (!tap_ok(o.server_rc == (m == &mechs[2] ? SASL_OK : SASL_BADPROT),
                "%s: %s_max_password_length: 12, a password of 13 bytes: %s", m->name, m->prefix,
                m == &mechs[2] ? "no effect" : "SASL_BADPROT"))
        show(&o);
}

static void run_options(void)
{
    static const char *const bad[][3] = {
        {"plain_max_user_length", "abc", NULL},       {"plain_max_password_length", "0", NULL},
        {"login_max_user_length", "12x", NULL},       {"login_max_password_length", "70000", NULL},
        {"crammd5_max_user_length", "-1", NULL},      {"crammd5_secret_format", "md5", NULL},
    };
    static const char *const enable[][3] = {
        {"plain_enable", "maybe", NULL}, {"login_enable", "maybe", NULL},
        {"crammd5_enable", "maybe", NULL},
    };
    static const char *const caps[] = {"plain_max_user_length", "3", "login_max_user_length", "3",
                                       "crammd5_max_user_length", "3", NULL};
    static const char *const pcaps[] = {"plain_max_password_length", "12",
                                        "login_max_password_length", "12",
                                        "crammd5_max_password_length", "12", NULL};
    struct hx_init in = {.server_path = hx_path(hx.ours, hx.aux, NULL), .client_path = hx.ours};
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        in.server_opts = bad[i];
        hx_run(bad[i][0], &in, 1, bad_option_row, (void *)bad[i]);
    }
    for (i = 0; i < N_MECHS; i++) {
        in.server_opts = enable[i];
        hx_run(enable[i][0], &in, 1, bad_enable_row, (void *)&mechs[i]);
    }
    in.server_opts = caps;
    hx_run("user length caps", &in, 2 * N_MECHS, cap_row, NULL);
    in.server_opts = pcaps;
    hx_run("password length caps", &in, N_MECHS, password_cap_row, NULL);
}

/* ---- <mech>_enable: no hands the mechanism to Cyrus's plugin ------------- */

struct enable_case {
    const struct mech *m;
    int client_side;  /* which side's option and folder are under test */
    const char *folder;
    int disabled;
};

/* Which plugin served: ours names the mechanism in its errdetail.  The
 * server is judged on a wrong password, the client on a hostile challenge
 * that ours refuses (Cyrus's answers it or fails with its own words). */
static int ours_in_use(const struct enable_case *e, char *detail, size_t max)
{
    static const struct hx_msg plain_chal[] = {HX_MSG("unexpected")};
    static const struct hx_msg cram_chal[] = {HX_MSG("")};
    static char login_big[2000];
    struct hx_msg login_chal[] = {{login_big, sizeof(login_big), 0}};
    struct hx_client c = {.authname = HX_USER, .password = WRONG_PASS};
    struct hx_outcome o;
    struct hx_script r;

    if (!e->client_side) {
        hx_exchange(e->m->name, &c, NULL, &o);
        snprintf(detail, max, "%s: %s", hx_code(o.server_rc), o.server_err);
        return ours_said(e->m->name, o.server_err);
    }
    memset(login_big, 'A', sizeof(login_big));
    c.no_initial = 1;
    hx_client_script(e->m->name, &c,
                     e->m == &mechs[0] ? plain_chal : e->m == &mechs[1] ? login_chal : cram_chal,
                     1, &r);
    snprintf(detail, max, "%s: %s", hx_code(r.rc[r.steps - 1]), r.err);
    return ours_said(e->m->name, r.err);
}

static void enable_row(int row, void *arg)
{
    const struct enable_case *e = arg;
    char detail[600];
    int ours = ours_in_use(e, detail, sizeof(detail));

    (void)row;
    if (e->disabled) {
        if (!tap_ok(!ours, "%s %s: %s_enable: no, folder %s: Cyrus's plugin serves", e->m->name,
                    e->client_side ? "client" : "server", e->m->prefix, e->folder))
            tap_diag("%s", detail);
    } else {
        /* a report, not a case: which one wins is load order, nothing to
         * check, so it is printed and not counted */
        tap_diag("%s %s, folder %s, enabled: %s plugin serves (%s)", e->m->name,
                 e->client_side ? "client" : "server", e->folder, ours ? "our" : "Cyrus's", detail);
    }
}

static void run_enable(void)
{
    static struct enable_case cases[N_MECHS][2][5];
    static const char *const labels[] = {"both", "ours:cyrus", "cyrus:ours", "ours:cyrus",
                                         "cyrus:ours"};
    static char mixed1[1000], mixed2[1000], cyrus_aux[1000];
    const char *paths[5];
    struct hx_init in;
    const char *opt[3];
    char name[100];
    int i, side, k;

    paths[0] = hx.both;
    /* copies: hx_path's buffers are reused */
    snprintf(mixed1, sizeof(mixed1), "%s", hx_path(hx.ours, hx.cyrus, hx.aux));
    snprintf(mixed2, sizeof(mixed2), "%s", hx_path(hx.cyrus, hx.ours, hx.aux));
    snprintf(cyrus_aux, sizeof(cyrus_aux), "%s", hx_path(hx.cyrus, hx.aux, NULL));
    paths[1] = paths[3] = mixed1;
    paths[2] = paths[4] = mixed2;
    for (i = 0; i < N_MECHS; i++)
        for (side = 0; side < 2; side++)
            for (k = 0; k < 5; k++) {
                struct enable_case *e = &cases[i][side][k];
                char optname[40];
                *e = (struct enable_case){&mechs[i], side, labels[k], k < 3};
                snprintf(optname, sizeof(optname), "%s_enable", mechs[i].prefix);
                opt[0] = optname;
                opt[1] = e->disabled ? "no" : "yes";
                opt[2] = NULL;
                memset(&in, 0, sizeof(in));
                /* the side under test gets the mixed folder; the other side Cyrus's */
                in.server_path = side ? cyrus_aux : paths[k];
                in.client_path = side ? paths[k] : hx.cyrus;
                if (side)
                    in.client_opts = opt;
                else
                    in.server_opts = opt;
                snprintf(name, sizeof(name), "%s %s enable %s", mechs[i].name,
                         side ? "client" : "server", labels[k]);
                hx_run(name, &in, 1, enable_row, e);
            }
}

/* ---- SASL_SEC_NOPLAINTEXT ------------------------------------------------ */

static void noplain_row(int row, void *arg)
{
    struct hx_client c = {.authname = HX_USER, .password = HX_PASS};
    struct hx_server s = {.sec_flags = SASL_SEC_NOPLAINTEXT};
    struct hx_outcome o;
    char list[512];

    (void)arg;
    switch (row) {
    case 0:
        hx_listmech(0, list, sizeof(list));
        if (!tap_ok(strstr(list, " PLAIN ") && strstr(list, " LOGIN ") && strstr(list, " CRAM-MD5 "),
                    "no security flags: PLAIN, LOGIN and CRAM-MD5 offered"))
            tap_diag("offered: %s", list);
        break;
    case 1:
        hx_listmech(SASL_SEC_NOPLAINTEXT, list, sizeof(list));
        if (!tap_ok(!strstr(list, " PLAIN ") && !strstr(list, " LOGIN ") && strstr(list, " CRAM-MD5 "),
                    "SASL_SEC_NOPLAINTEXT: only CRAM-MD5 of the three offered"))
            tap_diag("offered: %s", list);
        break;
    case 2:
    case 3:
        hx_exchange(row == 2 ? "PLAIN" : "LOGIN", &c, &s, &o);
        if (!tap_ok(hx_is_error(o.server_rc) && !o.username[0],
                    "SASL_SEC_NOPLAINTEXT: sasl_server_start(\"%s\") fails (%s)",
                    row == 2 ? "PLAIN" : "LOGIN", hx_code(o.server_rc)))
            show(&o);
        break;
    case 4:
        hx_exchange("CRAM-MD5", &c, &s, &o);
        if (!tap_ok(o.server_rc == SASL_OK && strcmp(o.username, EXPECTED_USER) == 0,
                    "SASL_SEC_NOPLAINTEXT: CRAM-MD5 still works"))
            show(&o);
        break;
    }
}

int main(void)
{
    struct hx_init in;

    if (hx_setup() == 0) {
        run_matrix();
        run_mech_specifics();
        run_options();
        run_enable();
        in = (struct hx_init){.server_path = hx_path(hx.ours, hx.aux, NULL), .client_path = hx.ours};
        hx_run("security flags", &in, 5, noplain_row, NULL);
    }
    hx_cleanup();
    return tap_done();
}
