/* NTLM through libsasl2: our client and server against each other and
 * against Cyrus's NTLM plugin both ways; NTLMv2 by default, NTLMv1 only
 * with ntlm_allow_v1 on the side that must accept it, LMv2 alone only with
 * ntlm_allow_lmv2; Cyrus's option names (ntlm_v2, ntlm_server); the NT hash
 * stored instead of the password; unknown user and wrong password alike;
 * the CHALLENGE's target information and options; the MIC (zeroed,
 * stripped, tampered); a man in the middle who strips the CHALLENGE's
 * timestamp (our client, a Windows-shaped one, a curl-shaped one); replay;
 * the legacy provider missing.  Each case runs in its own forked child
 * (harness.h). */
#include "config.h"
#include "harness.h"

#include <stdint.h>
#include <stdlib.h>
#include <sasl-mechs/crypto.h>

#include "ntlm_codec.h"
#include "ntlm_crypto.h"

#define EXPECTED_USER HX_USER "@" HX_REALM
#define WRONG_PASS "Wr0ng-Pa55-guess"

/* Security buffer fields of the AUTHENTICATE (MS-NLMP 2.2.1.3). */
enum { F_LM = 12, F_NT = 20, F_DOMAIN = 28, F_USER = 36, F_WORKSTATION = 44, F_KEY = 52 };

static unsigned get16(const unsigned char *p) { return p[0] | (p[1] << 8); }
static uint32_t get32(const unsigned char *p)
{
    return p[0] | (p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static void put16(unsigned char *p, unsigned v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }
static void put32(unsigned char *p, uint32_t v)
{
    put16(p, v & 0xffff);
    put16(p + 2, v >> 16);
}

static void show(const struct hx_outcome *o)
{
    tap_diag("server %s, client %s, user \"%s\"", hx_code(o->server_rc), hx_code(o->client_rc),
             o->username);
    if (o->server_err[0] || o->client_err[0])
        tap_diag("errdetail: server \"%s\", client \"%s\"", o->server_err, o->client_err);
}

static int expect_ok(const char *what, const struct hx_client *c, const char *user)
{
    struct hx_outcome o;
    int ok;

    hx_exchange("NTLM", c, NULL, &o);
    ok = tap_ok(o.server_rc == SASL_OK && o.client_rc == SASL_OK && strcmp(o.username, user) == 0,
                "%s: SASL_OK on both sides, SASL_USERNAME is %s", what, user);
    if (!ok)
        show(&o);
    return ok;
}

static int expect_refused(const char *what, const struct hx_client *c, int code,
                          const char *detail)
{
    struct hx_outcome o;
    int ok;

    hx_exchange("NTLM", c, NULL, &o);
    ok = tap_ok(o.server_rc == code && !o.username[0]
                    && (!detail || strstr(o.server_err, detail)),
                "%s: %s%s%s", what, hx_code(code), detail ? ", errdetail names " : "",
                detail ? detail : "");
    if (!ok)
        show(&o);
    return ok;
}

/* ---- the matrix ------------------------------------------------------------ */

struct pairing {
    const char *label;
    int server_ours, client_ours;
};

static void matrix_row(int row, void *arg)
{
    const struct pairing *p = arg;
    struct hx_client c = {.authname = HX_USER, .password = HX_PASS};
    struct hx_outcome wrong, unknown, o;
    char what[160];

    snprintf(what, sizeof(what), "NTLM %s", p->label);
    switch (row) {
    case 0:
        expect_ok(what, &c, EXPECTED_USER);
        break;
    case 1:
        c.interact = 1;
        c.no_initial = 1;
        snprintf(what, sizeof(what), "NTLM %s: SASL_INTERACT, no initial response", p->label);
        expect_ok(what, &c, EXPECTED_USER);
        break;
    case 2:
        c.password = WRONG_PASS;
        hx_exchange("NTLM", &c, NULL, &wrong);
        c.authname = HX_UNKNOWN;
        hx_exchange("NTLM", &c, NULL, &unknown);
        if (!p->server_ours) {
            if (!tap_ok(hx_is_error(wrong.server_rc) && hx_is_error(unknown.server_rc),
                        "%s: wrong password and unknown user are refused", what)) {
                show(&wrong);
                show(&unknown);
            }
            break;
        }
        if (!tap_ok(wrong.server_rc == SASL_BADAUTH && unknown.server_rc == SASL_BADAUTH
                        && strcmp(wrong.server_err, unknown.server_err) == 0,
                    "%s: wrong password and unknown user: SASL_BADAUTH, the same errdetail", what)) {
            show(&wrong);
            show(&unknown);
        }
        if (!tap_ok(!strstr(wrong.server_err, WRONG_PASS) && !strstr(wrong.client_err, WRONG_PASS)
                        && !hx_log_contains(WRONG_PASS),
                    "%s: the password is in no errdetail and no log line", what))
            tap_diag("\"%s\" / \"%s\"", wrong.server_err, wrong.client_err);
        break;
    case 3:
        hx_exchange("NTLM", &c, NULL, &o);
        if (!tap_ok(o.server_rc == SASL_OK && hx_is_error(o.again_rc)
                        && strcmp(o.again_username, EXPECTED_USER) == 0,
                    "%s: a step after SASL_OK is refused and changes no identity", what))
            tap_diag("extra step: %s, user \"%s\"", hx_code(o.again_rc), o.again_username);
        break;
    }
}

static void run_matrix(void)
{
    static const char *const cyrus_v2[] = {"ntlm_v2", "yes", NULL};
    static const char *const lmv2[] = {"ntlm_allow_lmv2", "yes", NULL};
    static const struct pairing pairs[] = {
        {"ours x ours", 1, 1},
        {"ours client x Cyrus server", 0, 1},
        {"Cyrus client (ntlm_v2: yes, LMv2) x ours server, ntlm_allow_lmv2: yes", 1, 0},
    };
    struct hx_init in;
    size_t i;

    for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        memset(&in, 0, sizeof(in));
        in.server_path = hx_path(pairs[i].server_ours ? hx.ours : hx.cyrus, hx.aux, NULL);
        in.client_path = pairs[i].client_ours ? hx.ours : hx.cyrus;
        if (!pairs[i].client_ours) {
            in.client_opts = cyrus_v2;
            in.server_opts = lmv2;
        }
        hx_run(pairs[i].label, &in, 4, matrix_row, (void *)&pairs[i]);
    }
}

/* ---- NTLMv1: off by default on each side, on with ntlm_allow_v1 ------------ */

struct v1_case {
    const char *label;
    int server_ours;        /* else Cyrus's server, our client */
    int allowed;
};

static void v1_row(int row, void *arg)
{
    const struct v1_case *v = arg;
    struct hx_client c = {.authname = HX_USER, .password = HX_PASS};
    char what[200];

    (void)row;
    snprintf(what, sizeof(what), "NTLMv1 %s", v->label);
    if (v->server_ours && !v->allowed)
        expect_refused(what, &c, SASL_TOOWEAK, "ntlm_allow_v1");
    else
        expect_ok(what, &c, EXPECTED_USER);
}

static void run_v1(void)
{
    static const char *const allow[] = {"ntlm_allow_v1", "yes", NULL};
    static const struct v1_case cases[] = {
        {"Cyrus client (v1) x ours server, ntlm_allow_v1 off: refused", 1, 0},
        {"Cyrus client (v1) x ours server, ntlm_allow_v1: yes", 1, 1},
        {"ours client, ntlm_allow_v1: yes x Cyrus server (no target info, no extended "
         "session security: still NTLMv2)", 0, 1},
    };
    struct hx_init in;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&in, 0, sizeof(in));
        if (cases[i].server_ours) {
            in.server_path = hx_path(hx.ours, hx.aux, NULL);
            in.client_path = hx.cyrus;
            if (cases[i].allowed)
                in.server_opts = allow;
        } else {
            in.server_path = hx_path(hx.cyrus, hx.aux, NULL);
            in.client_path = hx.ours;
            in.client_opts = allow;
        }
        hx_run(cases[i].label, &in, 1, v1_row, (void *)&cases[i]);
    }
}

/* What our client answers, by the length of its NT response: MS-NLMP's
 * NTLMv1 CHALLENGEs with extended session security (4.2.3.3) and without
 * (4.2.2.3), and its NTLMv2 one (4.2.4.3), with ntlm_allow_v1 on or off. */
static const unsigned char v1_ess_challenge[] = {
    0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00, 0x02, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x0c, 0x00,
    0x38, 0x00, 0x00, 0x00, 0x33, 0x82, 0x0a, 0x82, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x06, 0x00, 0x70, 0x17, 0x00, 0x00, 0x00, 0x0f, 0x53, 0x00, 0x65, 0x00, 0x72, 0x00, 0x76, 0x00,
    0x65, 0x00, 0x72, 0x00};

static void client_version_row(int row, void *arg)
{
    static const char *const what[] = {
        "ESS, no target info, ntlm_allow_v1: yes: NTLMv1 with ESS (24 bytes)",
        "no ESS, no target info, ntlm_allow_v1: yes: NTLMv2 (plain NTLMv1 is never sent)",
        "ESS, no target info, ntlm_allow_v1 off: NTLMv2"};
    int allowed = *(const int *)arg;
    unsigned char m[sizeof(v1_ess_challenge)];
    struct hx_client c = {.authname = HX_USER, .password = HX_PASS};
    struct hx_msg msg = {(const char *)m, sizeof(m), 0};
    struct hx_script r;
    unsigned ntlen = 0;
    int idx = allowed ? row : 2;

    memcpy(m, v1_ess_challenge, sizeof(m));
    if (idx == 1)
        m[22] &= (unsigned char)~0x08; /* NEGOTIATE_EXTENDED_SESSIONSECURITY */
    hx_client_script("NTLM", &c, &msg, 1, &r);
    if (r.steps == 2 && r.rc[1] == SASL_OK && r.outlen >= 64)
        ntlen = get16((const unsigned char *)r.out + F_NT);
    if (!tap_ok(idx == 0 ? ntlen == 24 : ntlen > 24, "NTLM client: CHALLENGE with %s", what[idx]))
        tap_diag("%s, NT response of %u bytes: %s", hx_code(r.rc[r.steps - 1]), ntlen, r.err);
}

static void run_client_versions(void)
{
    static const char *const allow[] = {"ntlm_allow_v1", "yes", NULL};
    static const int on = 1, off = 0;
    struct hx_init in = {.server_path = hx_path(hx.ours, hx.aux, NULL), .client_path = hx.ours,
                         .client_opts = allow};

    hx_run("NTLM client versions, v1 allowed", &in, 2, client_version_row, (void *)&on);
    in.client_opts = NULL;
    hx_run("NTLM client versions, v1 off", &in, 1, client_version_row, (void *)&off);
}

/* ---- Cyrus's option names ---------------------------------------------------------- */

/* Cyrus 2.1.28's NTLM plugin reads two options: ntlm_server (server: hand
 * the exchange to a Windows server over SMB, which ours cannot) and ntlm_v2
 * (client: send an LMv2 response instead of NTLMv1).  Each is honoured or
 * refused out loud, never ignored. */
enum cyrus_expect { C_SERVER_CONFIGERR, C_CLIENT_OK, C_SENDS_V1, C_SENDS_V2, C_CLIENT_CONFIGERR };
struct cyrus_case {
    const char *what;
    const char *const *server_opts, *const *client_opts;
    enum cyrus_expect expect;
    const char *detail;      /* a C_*_CONFIGERR errdetail names it (and detail2) */
    const char *detail2;
};

static void cyrus_row(int row, void *arg)
{
    const struct cyrus_case *k = arg;
    struct hx_client c = {.authname = HX_USER, .password = HX_PASS};
    struct hx_msg msg = {(const char *)v1_ess_challenge, sizeof(v1_ess_challenge), 0};
    struct hx_outcome o;
    struct hx_script r;
    unsigned ntlen = 0;
    int ok;

    (void)row;
    switch (k->expect) {
    case C_SERVER_CONFIGERR:
        hx_exchange("NTLM", &c, NULL, &o);
        ok = tap_ok(o.server_rc == SASL_CONFIGERR && strstr(o.server_err, k->detail)
                        && hx_log_contains(k->detail) && !o.username[0],
                    "NTLM Cyrus option %s: every exchange SASL_CONFIGERR, errdetail and log "
                    "line name %s", k->what, k->detail);
        if (!ok)
            show(&o);
        if (!tap_ok(!hx_log_contains(HX_PASS) && !strstr(o.server_err, HX_PASS),
                    "NTLM Cyrus option %s: the password is in no errdetail and no log line",
                    k->what))
            tap_diag("%s", o.server_err);
        break;
    case C_CLIENT_OK:
        hx_exchange("NTLM", &c, NULL, &o);
        if (!tap_ok(o.server_rc == SASL_OK && o.client_rc == SASL_OK,
                    "NTLM Cyrus option %s: ours x ours SASL_OK", k->what))
            show(&o);
        break;
    case C_SENDS_V1:
    case C_SENDS_V2:
        hx_client_script("NTLM", &c, &msg, 1, &r);
        if (r.steps == 2 && r.rc[1] == SASL_OK && r.outlen >= 64)
            ntlen = get16((const unsigned char *)r.out + F_NT);
        if (!tap_ok(k->expect == C_SENDS_V1 ? ntlen == 24 : ntlen > 24,
                    "NTLM Cyrus option %s: to an NTLMv1 server (ESS, no target info) the "
                    "client sends %s", k->what,
                    k->expect == C_SENDS_V1 ? "NTLMv1 with ESS" : "NTLMv2"))
            tap_diag("%s, NT response of %u bytes: %s", hx_code(r.rc[r.steps - 1]), ntlen, r.err);
        break;
    case C_CLIENT_CONFIGERR:
        hx_client_script("NTLM", &c, &msg, 1, &r);
        if (!tap_ok(r.rc[r.steps - 1] == SASL_CONFIGERR && strstr(r.err, k->detail)
                        && (!k->detail2 || strstr(r.err, k->detail2)),
                    "NTLM Cyrus option %s: the client fails with SASL_CONFIGERR naming %s%s%s",
                    k->what, k->detail, k->detail2 ? " and " : "", k->detail2 ? k->detail2 : ""))
            tap_diag("%d steps, last %s: %s", r.steps, hx_code(r.rc[r.steps - 1]), r.err);
        break;
    }
}

static void run_cyrus_options(void)
{
    static const char *const server[] = {"ntlm_server", "winserver1, winserver2", NULL};
    static const char *const v2_yes[] = {"ntlm_v2", "yes", NULL};
    static const char *const v2_on[] = {"ntlm_v2", "on", NULL};
    static const char *const v2_no[] = {"ntlm_v2", "no", NULL};
    static const char *const v2_both[] = {"ntlm_v2", "yes", "ntlm_allow_v1", "yes", NULL};
    static const char *const v2_neither[] = {"ntlm_v2", "no", "ntlm_allow_v1", "no", NULL};
    static const char *const v2_agree[] = {"ntlm_v2", "no", "ntlm_allow_v1", "yes", NULL};
    static const char *const v2_bad[] = {"ntlm_v2", "perhaps", NULL};
    static const struct cyrus_case cases[] = {
        {"ntlm_server (server, SMB pass-through)", server, NULL, C_SERVER_CONFIGERR,
         "ntlm_server", NULL},
        {"ntlm_v2: yes (client)", NULL, v2_yes, C_CLIENT_OK, NULL, NULL},
        {"ntlm_v2: yes (client): never NTLMv1", NULL, v2_yes, C_SENDS_V2, NULL, NULL},
        {"ntlm_v2: on (client): never NTLMv1", NULL, v2_on, C_SENDS_V2, NULL, NULL},
        {"ntlm_v2: no (client): NTLMv1 as ntlm_allow_v1: yes", NULL, v2_no, C_SENDS_V1, NULL,
         NULL},
        {"ntlm_v2: no with ntlm_allow_v1: yes (client, they agree)", NULL, v2_agree,
         C_SENDS_V1, NULL, NULL},
        {"ntlm_v2: yes with ntlm_allow_v1: yes (client, they contradict)", NULL, v2_both,
         C_CLIENT_CONFIGERR, "ntlm_v2", "ntlm_allow_v1"},
        {"ntlm_v2: no with ntlm_allow_v1: no (client, they contradict)", NULL, v2_neither,
         C_CLIENT_CONFIGERR, "ntlm_v2", "ntlm_allow_v1"},
        {"ntlm_v2: perhaps (client)", NULL, v2_bad, C_CLIENT_CONFIGERR, "ntlm_v2", NULL},
    };
    struct hx_init in;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        in = (struct hx_init){.server_path = hx_path(hx.ours, hx.aux, NULL),
                              .client_path = hx.ours, .server_opts = cases[i].server_opts,
                              .client_opts = cases[i].client_opts};
        hx_run(cases[i].what, &in, 1, cyrus_row, (void *)&cases[i]);
    }
}

/* ntlm_allow_lmv2 is off by default (and with no): Cyrus's ntlm_v2 client
 * (an LMv2 response alone, no MIC) is refused. */
static void lmv2_row(int row, void *arg)
{
    struct hx_client c = {.authname = HX_USER, .password = HX_PASS};
    char what[160];

    (void)row;
    snprintf(what, sizeof(what), "NTLM ntlm_allow_lmv2 %s: Cyrus's client with ntlm_v2 "
             "(LMv2 alone) refused", (const char *)arg);
    expect_refused(what, &c, SASL_TOOWEAK, "ntlm_allow_lmv2");
}

static void run_lmv2(void)
{
    static const char *const cyrus_v2[] = {"ntlm_v2", "yes", NULL};
    static const char *const no_lmv2[] = {"ntlm_allow_lmv2", "no", NULL};
    struct hx_init in = {.server_path = hx_path(hx.ours, hx.aux, NULL), .client_path = hx.cyrus,
                         .client_opts = cyrus_v2};

    hx_run("NTLM ntlm_allow_lmv2 default", &in, 1, lmv2_row, (void *)"unset (default no)");
    in.server_opts = no_lmv2;
    hx_run("NTLM ntlm_allow_lmv2 no", &in, 1, lmv2_row, (void *)"no");
}

/* ---- stored secrets and names ------------------------------------------------ */

static void secret_row(int row, void *arg)
{
    struct hx_client c = {.authname = HX_NT_USER, .password = HX_NT_PASS};

    (void)arg;
    switch (row) {
    case 0:
        expect_ok("NTLM: {NTLM} NT hash stored as userPassword", &c, HX_NT_USER "@" HX_REALM);
        break;
    case 1:
        c.password = "{NTLM}" HX_NT_HASH;
        expect_refused("NTLM: the stored {NTLM} value typed as the password", &c, SASL_BADAUTH,
                       NULL);
        break;
    case 2:
        c.authname = "SOMEDOMAIN\\" HX_USER;
        c.password = HX_PASS;
        expect_ok("NTLM: DOMAIN\\user as the authname", &c, EXPECTED_USER);
        break;
    case 3:
        c.authname = "ALICE";
        c.password = HX_PASS;
        /* NTOWFv2 upper-cases the user, so the proof holds; the sasldb
         * lookup of ALICE does not find alice */
        expect_refused("NTLM: ALICE is not alice in the sasldb", &c, SASL_BADAUTH, NULL);
        break;
    case 4:
        c.authname = HX_UNICODE_USER;
        c.password = HX_PASS;
        expect_ok("NTLM: a user name outside ASCII (UTF-16 on the wire, upper-cased in full)", &c,
                  HX_UNICODE_USER "@" HX_REALM);
        break;
    }
}

/* ---- the NT hash in another property (Samba's sambaNTPassword), via SQL ---- */

static char sqldir[600], sqldb[600];

/* A folder with our NTLM and Cyrus's SQL auxprop, and an SQLite database:
 * dave's sambaNTPassword is the bare NT hash of HX_NT_PASS (upper case, as
 * Samba writes it), erin's the tagged form, frank's is no hash at all. */
static int sql_setup(void)
{
    const char *plug = getenv("SM_PLUGIN_DIR"), *sys = getenv("SM_SYSTEM_PLUGIN_DIR");
    char cmd[8192];

    snprintf(sqldir, sizeof(sqldir), "%s/sql", hx.root);
    snprintf(sqldb, sizeof(sqldb), "%s/users.db", hx.root);
    snprintf(cmd, sizeof(cmd),
             "mkdir -p '%s' && ln -sf \"$(realpath '%s')/libsaslmechs_ntlm.so\" '%s/' && "
             "ln -sf '%s/libsql.so' '%s/' && test -e '%s/libsql.so' && "
             "sqlite3 '%s' \"CREATE TABLE users (name TEXT, realm TEXT, userPassword TEXT, "
             "sambaNTPassword TEXT); INSERT INTO users VALUES "
             "('dave', '%s', 'not-the-password', '%s'), "
             "('erin', '%s', 'not-the-password', '{NTLM}%s'), "
             "('frank', '%s', 'not-the-password', 'Password');\"",
             sqldir, plug, sqldir, sys, sqldir, sqldir, sqldb, HX_REALM,
             "A4F49C406510BDCAB6824EE7C30FD852", HX_REALM, HX_NT_HASH, HX_REALM);
    return system(cmd) == 0 ? 0 : -1;
}

/* Rows 0-2 with ntlm_secret_property: sambaNTPassword; row 3 without it. */
static void sql_row(int row, void *arg)
{
    static const char *const users[] = {"dave", "erin", "frank", "dave"};
    static const char *const what[] = {
        "sambaNTPassword: a bare NT hash (Samba's form)", "sambaNTPassword: a {NTLM} NT hash",
        "sambaNTPassword: a value that is no NT hash",
        "default (userPassword): dave's userPassword is not his password"};
    struct hx_client c = {.authname = users[row], .password = HX_NT_PASS};
    char label[200], user[64];

    row += *(const int *)arg;
    c.authname = users[row];
    snprintf(label, sizeof(label), "NTLM ntlm_secret_property %s", what[row]);
    snprintf(user, sizeof(user), "%s@%s", users[row], HX_REALM);
    if (row < 2)
        expect_ok(label, &c, user);
    else
        expect_refused(label, &c, SASL_BADAUTH, NULL);
}

static void run_sql(void)
{
    static char select_opt[] = "SELECT %p FROM users WHERE name = '%u' AND realm = '%r'";
    static const char *samba[] = {"auxprop_plugin", "sql", "sql_engine", "sqlite3",
                                  "sql_database", sqldb, "sql_select", select_opt,
                                  "ntlm_secret_property", "sambaNTPassword", NULL};
    static const char *deflt[] = {"auxprop_plugin", "sql", "sql_engine", "sqlite3",
                                  "sql_database", sqldb, "sql_select", select_opt, NULL};
    struct hx_init in = {.client_path = hx.ours};

    if (sql_setup() != 0) {
        tap_ok(0, "NTLM ntlm_secret_property: the SQL auxprop folder and database "
                  "(libsasl2-modules-sql, sqlite3) could not be set up");
        return;
    }
    in.server_path = sqldir;
    in.server_opts = samba;
    static const int first[] = {0, 3};

    hx_run("NTLM secret property sambaNTPassword", &in, 3, sql_row, (void *)&first[0]);
    in.server_opts = deflt;
    hx_run("NTLM secret property default", &in, 1, sql_row, (void *)&first[1]);
}

/* ---- options ------------------------------------------------------------------ */

/* The CHALLENGE's target name (the NetBIOS domain), UTF-16LE, as ASCII. */
static void target_name(const char *chal, unsigned len, char *out, size_t max)
{
    const unsigned char *m = (const unsigned char *)chal;
    unsigned n, off, i;

    out[0] = '\0';
    if (len < 20)
        return;
    n = m[12] | (m[13] << 8);
    off = m[16] | (m[17] << 8) | ((unsigned)m[18] << 16) | ((unsigned)m[19] << 24);
    if (off > len || n > len - off)
        return;
    for (i = 0; i + 1 < n && i / 2 + 1 < max; i += 2)
        out[i / 2] = (char)m[off + i];
    out[n / 2 < max ? n / 2 : max - 1] = '\0';
}

static int capture_challenge(void *arg, int step, const char *chal, unsigned chal_len,
                             char **msg, unsigned *len)
{
    char *name = arg;
    static const unsigned char negotiate[] = {
        'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 1, 0, 0, 0, 0x07, 0x82, 0x08, 0xa0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

    if (step == 0) {
        *msg = hx_memdup(negotiate, sizeof(negotiate));
        *len = sizeof(negotiate);
        return HX_SEND;
    }
    target_name(chal, chal_len, name, 64);
    return HX_STOP;
}

static void option_row(int row, void *arg)
{
    const char *want = arg;
    char name[64];
    struct hx_script r;

    (void)row;
    hx_server_script("NTLM", capture_challenge, name, &r);
    if (!tap_ok(r.rc[0] == SASL_CONTINUE && strcmp(name, want) == 0,
                "NTLM server: CHALLENGE target name is %s", want))
        tap_diag("%s, target name \"%s\": %s", hx_code(r.rc[0]), name, r.err);
}

static void bad_option_row(int row, void *arg)
{
    struct hx_client c = {.authname = HX_USER, .password = HX_PASS};
    struct hx_outcome o;

    (void)row;
    hx_exchange("NTLM", &c, NULL, &o);
    if (!tap_ok(o.server_rc == SASL_CONFIGERR, "NTLM server: %s: SASL_CONFIGERR", (char *)arg))
        show(&o);
}

static void run_options(void)
{
    static const char *const nb[] = {"ntlm_netbios_domain", "CORP", NULL};
    static const char *const bad_bool[] = {"ntlm_allow_v1", "perhaps", NULL};
    static const char *const bad_len[] = {"ntlm_netbios_domain",
                                          "A-NAME-MUCH-LONGER-THAN-FIFTEEN", NULL};
    struct hx_init in = {.server_path = hx_path(hx.ours, hx.aux, NULL), .client_path = hx.ours};

    hx_run("NTLM secrets", &in, 5, secret_row, NULL);
    hx_run("NTLM default target name", &in, 1, option_row, (void *)"SM-DRIVER");
    in.server_opts = nb;
    hx_run("NTLM ntlm_netbios_domain", &in, 1, option_row, (void *)"CORP");
    in.server_opts = bad_bool;
    hx_run("NTLM bad ntlm_allow_v1", &in, 1, bad_option_row, (void *)"ntlm_allow_v1: perhaps");
    in.server_opts = bad_len;
    hx_run("NTLM bad ntlm_netbios_domain", &in, 1, bad_option_row,
           (void *)"ntlm_netbios_domain of 31 characters");
}

/* ---- hostile AUTHENTICATE and NEGOTIATE messages ------------------------------ */

struct spoil {
    const char *what;
    int want;               /* the server's answer to the spoiled AUTHENTICATE */
    int truncate_to;        /* >= 0: cut the valid message to this length */
};

static const struct spoil spoils[] = {
    {"unchanged (control)", SASL_OK, -1},
    {"MIC zeroed", SASL_BADAUTH, -1},
    {"MIC with one bit flipped", SASL_BADAUTH, -1},
    {"MIC stripped (payload moved up 16 bytes)", SASL_BADAUTH, -1},
    {"MsvAvFlags' MIC bit cleared", SASL_TOOWEAK, -1},
    {"NTProofStr with one bit flipped", SASL_BADAUTH, -1},
    {"downgrade: the NT response cut to 24 bytes (NTLMv1)", SASL_TOOWEAK, -1},
    {"downgrade: no NT response, the LM field only (LMv2 alone)", SASL_TOOWEAK, -1},
    {"anonymous: no responses at all", SASL_BADPROT, -1},
    {"user offset + length wraps 32 bits", SASL_BADPROT, -1},
    {"user offset inside the header", SASL_BADPROT, -1},
    {"user field overlapping the domain field", SASL_BADPROT, -1},
    {"odd UTF-16 length of the user name", SASL_BADPROT, -1},
    {"lone surrogate in the user name", SASL_BADPROT, -1},
    {"NTLMv2 blob of another version", SASL_BADPROT, -1},
    {"target information without MsvAvEOL", SASL_BADPROT, -1},
    {"KEY_EXCH flag without a session key", SASL_BADAUTH, -1},
    {"truncated to the fixed header", SASL_BADPROT, 64},
    {"truncated by one byte", SASL_BADPROT, -2},
    {"signature damaged", SASL_BADPROT, -1},
};
#define N_SPOILS (int)(sizeof(spoils) / sizeof(spoils[0]))

/* Spoil a valid AUTHENTICATE m (len bytes, room for more) as row says. */
static void spoil_message(int row, unsigned char *m, unsigned *len)
{
    unsigned i, nt_len = get16(m + F_NT), nt_off = get32(m + F_NT + 4);
    unsigned user_off = get32(m + F_USER + 4);

    switch (row) {
    case 1: memset(m + 72, 0, 16); break;
    case 2: m[80] ^= 0x01; break;
    case 3:
        memmove(m + 72, m + 88, *len - 88);
        *len -= 16;
        for (i = F_LM; i <= F_KEY; i += 8)
            if (get16(m + i))
                put32(m + i + 4, get32(m + i + 4) - 16);
        break;
    case 4:
        /* the AV pairs of the blob: find MsvAvFlags (6) and clear the MIC bit */
        for (i = nt_off + 16 + 28; i + 4 <= nt_off + nt_len; i += 4 + get16(m + i + 2))
            if (get16(m + i) == 6) {
                m[i + 4] &= (unsigned char)~0x02;
                break;
            }
        break;
    case 5: m[nt_off] ^= 0x80; break;
    case 6: put16(m + F_NT, 24); put16(m + F_NT + 2, 24); break;
    case 7:
        put16(m + F_NT, 0);
        put16(m + F_NT + 2, 0);
        memset(m + get32(m + F_LM + 4), 0x41, 24);
        break;
    case 8:
        put16(m + F_NT, 0); put16(m + F_NT + 2, 0);
        put16(m + F_LM, 0); put16(m + F_LM + 2, 0);
        break;
    case 9: put32(m + F_USER + 4, 0xfffffff0u); break;
    case 10: put32(m + F_USER + 4, 8); break;
    case 11: put32(m + F_USER + 4, get32(m + F_DOMAIN + 4)); put16(m + F_DOMAIN, 2); break;
    case 12: put16(m + F_USER, get16(m + F_USER) - 1); break;
    case 13: put16(m + user_off, 0xd800); break;
    case 14: m[nt_off + 16] = 2; break;
    case 15:
        /* the blob's AV list ends 4 zero bytes before the response: cut both */
        put16(m + F_NT, nt_len - 8);
        put16(m + F_NT + 2, nt_len - 8);
        break;
    case 16: m[63] |= 0x40; break;
    case 17: *len = 64; break;
    case 18: *len -= 1; break;
    case 19: m[3] = 'X'; break;
    }
}

struct spoil_arg {
    int row;
    const struct hx_client *c;
    char *kept;             /* when set: keep the valid AUTHENTICATE here */
    unsigned kept_len;
    const char *replay;     /* when set: send this instead */
    unsigned replay_len;
};

static int spoiled_reply(void *arg, int step, const char *chal, unsigned chal_len, char **msg,
                         unsigned *len)
{
    struct spoil_arg *a = arg;
    char *valid;
    unsigned vlen;

    if (step == 0)
        return hx_client_answer("NTLM", a->c, NULL, 0, msg, len) == SASL_CONTINUE ? HX_SEND
                                                                                  : HX_STOP;
    if (step > 1)
        return HX_STOP;
    if (a->replay) {
        *msg = hx_memdup(a->replay, a->replay_len);
        *len = a->replay_len;
        return HX_SEND;
    }
    if (hx_client_second("NTLM", a->c, chal, chal_len, &valid, &vlen) != SASL_OK || !valid)
        return HX_STOP;
    if (a->kept) {
        memcpy(a->kept, valid, vlen);
        a->kept_len = vlen;
    }
    *msg = malloc(vlen + 64);
    memcpy(*msg, valid, vlen);
    free(valid);
    spoil_message(a->row, (unsigned char *)*msg, &vlen);
    *len = vlen;
    return HX_SEND;
}

static void spoil_row(int row, void *arg)
{
    struct hx_client c = {.authname = HX_USER, .password = HX_PASS};
    struct spoil_arg a = {.row = row, .c = &c};
    struct hx_script r;
    int last;

    (void)arg;
    hx_row_name("AUTHENTICATE %s", spoils[row].what);
    hx_server_script("NTLM", spoiled_reply, &a, &r);
    last = r.rc[r.steps - 1];
    if (!tap_ok(r.steps == 2 && last == spoils[row].want && (last == SASL_OK || !r.ever_ok)
                    && (last == SASL_OK || hx_has_detail(last, r.err)),
                "NTLM server: AUTHENTICATE %s: %s", spoils[row].what, hx_code(spoils[row].want)))
        tap_diag("%d steps, last %s: %s", r.steps, hx_code(last), r.err);
}

/* Every truncation of a valid AUTHENTICATE: an error, never SASL_OK. */
static void truncation_row(int row, void *arg)
{
    struct hx_client c = {.authname = HX_USER, .password = HX_PASS};
    char kept[4096];
    struct spoil_arg a = {.row = -1, .c = &c, .kept = kept};
    struct hx_script r;
    unsigned n, bad = 0, first_bad = 0;

    (void)row; (void)arg;
    hx_server_script("NTLM", spoiled_reply, &a, &r);
    for (n = 0; n < a.kept_len; n++) {
        struct spoil_arg t = {.row = -1, .c = &c, .replay = kept, .replay_len = n};
        struct hx_script tr;

        hx_server_script("NTLM", spoiled_reply, &t, &tr);
        if (tr.ever_ok || !hx_is_error(tr.rc[tr.steps - 1])) {
            if (!bad++)
                first_bad = n;
        }
    }
    if (!tap_ok(a.kept_len > 88 && bad == 0,
                "NTLM server: each of the %u truncations of an AUTHENTICATE is refused",
                a.kept_len))
        tap_diag("%u accepted, the first of %u bytes", bad, first_bad);
}

static void replay_row(int row, void *arg)
{
    struct hx_client c = {.authname = HX_USER, .password = HX_PASS};
    char kept[4096];
    struct spoil_arg a = {.row = -1, .c = &c, .kept = kept}, b = {.row = -1, .c = &c};
    struct hx_script r1, r2;

    (void)row; (void)arg;
    hx_server_script("NTLM", spoiled_reply, &a, &r1);
    b.replay = kept;
    b.replay_len = a.kept_len;
    hx_server_script("NTLM", spoiled_reply, &b, &r2);
    if (!tap_ok(r1.rc[1] == SASL_OK && r2.steps == 2 && r2.rc[1] == SASL_BADAUTH,
                "NTLM server: an AUTHENTICATE replayed on a new CHALLENGE: SASL_BADAUTH"))
        tap_diag("first %s, replay %s: %s", hx_code(r1.rc[1]), hx_code(r2.rc[r2.steps - 1]),
                 r2.err);
}

static void negotiate_row(int row, void *arg)
{
    static const struct hx_msg lm_only[] = {HX_MSG("NTLMSSP\0\1\0\0\0\x07\x00\x00\x00")};
    static const struct hx_msg short_msg[] = {HX_MSG("NTLMSSP\0\1\0\0\0\x07")};
    static const struct hx_msg wrong_type[] = {HX_MSG("NTLMSSP\0\3\0\0\0\x07\x02\x00\x00")};
    static const struct hx_msg wrap[] = {HX_MSG("NTLMSSP\0\1\0\0\0\x07\x32\x00\x00"
                                                "\x10\x00\x10\x00\xf8\xff\xff\xff"
                                                "\x00\x00\x00\x00\x00\x00\x00\x00")};
    static const struct { const char *what; const struct hx_msg *m; int want; } rows[] = {
        {"offering only LM", lm_only, SASL_TOOWEAK},
        {"shorter than its header", short_msg, SASL_BADPROT},
        {"of another message type", wrong_type, SASL_BADPROT},
        {"with a domain field whose offset wraps", wrap, SASL_BADPROT},
    };
    struct hx_msgs m = {rows[row].m, 1};
    struct hx_script r;

    (void)arg;
    hx_server_script("NTLM", hx_reply_list, &m, &r);
    if (!tap_ok(r.rc[0] == rows[row].want && hx_has_detail(r.rc[0], r.err),
                "NTLM server: NEGOTIATE %s: %s", rows[row].what, hx_code(rows[row].want)))
        tap_diag("%s: %s", hx_code(r.rc[0]), r.err);
}

/* ---- crafted clients: Windows-shaped and curl-shaped ----------------------------- */

/* Built here from the codec and the computations (not from our client,
 * which sends neither VERSION nor KEY_EXCH).  Windows: a NEGOTIATE of 40
 * bytes with a VERSION, and an AUTHENTICATE with a zero LM field, whose
 * exported session key is a random key sent under RC4 (MS-NLMP 3.1.5.1.2),
 * and, when the CHALLENGE has a timestamp, MsvAvFlags and a MIC keyed with
 * that key.  curl: a NEGOTIATE without VERSION or KEY_EXCH, and an NTLMv2
 * response whose blob holds its own time and the CHALLENGE's target
 * information as it came (our timestamp in it), no MsvAvFlags, no MIC, and
 * a real LMv2 response beside it. */
#define WIN_FLAGS (NTLM_NEGOTIATE_UNICODE | NTLM_REQUEST_TARGET | NTLM_NEGOTIATE_NTLM \
                   | NTLM_NEGOTIATE_ALWAYS_SIGN | NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY \
                   | NTLM_NEGOTIATE_VERSION | NTLM_NEGOTIATE_128 | NTLM_NEGOTIATE_KEY_EXCH \
                   | NTLM_NEGOTIATE_56)
#define CURL_FLAGS (NTLM_NEGOTIATE_UNICODE | NTLM_NEGOTIATE_OEM | NTLM_REQUEST_TARGET \
                    | NTLM_NEGOTIATE_NTLM | NTLM_NEGOTIATE_ALWAYS_SIGN \
                    | NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY)
static const unsigned char win_version[8] = {10, 0, 0x61, 0x4a, 0, 0, 0, 15};

enum shape { OURS, WINDOWS, CURL };
/* Spoils of the Windows-shaped AUTHENTICATE (windows_row) */
enum { W_GOOD, W_MIC_BASE_KEY, W_DAMAGED_KEY, W_V1_ESS };
/* What a man in the middle does to the server's CHALLENGE before the
 * client sees it: rebuilds it (the control), strips MsvAvTimestamp,
 * changes the NetBIOS domain, changes the flags. */
enum { MITM_REBUILD = 1, MITM_STRIP = 2, MITM_NAMES = 4, MITM_FLAGS = 8 };

struct crafted {
    enum shape shape;
    int spoil;          /* W_* */
    unsigned mitm;      /* MITM_*: 0 passes the CHALLENGE as it is */
    int empty_nt;       /* the man in the middle empties the AUTHENTICATE's NT field */
};

static size_t crafted_negotiate(enum shape shape, unsigned char *out)
{
    memset(out, 0, 40);
    memcpy(out, "NTLMSSP", 8);
    out[8] = 1;
    put32(out + 12, shape == CURL ? CURL_FLAGS : WIN_FLAGS);
    if (shape == CURL)
        return 32;
    /* the domain and workstation fields are empty; the VERSION follows them */
    memcpy(out + 32, win_version, 8);
    return 40;
}

/* The server's CHALLENGE as the man in the middle passes it on, rebuilt
 * from its parts (0 when it cannot be parsed). */
static size_t mitm_challenge(unsigned how, const char *chal, unsigned chal_len,
                             unsigned char *out, size_t cap)
{
    static const unsigned char evil[] = {'E', 0, 'V', 0, 'I', 0, 'L', 0};
    unsigned char info[2048];
    struct ntlm_av_writer w = {info, sizeof(info), 0, 0};
    struct ntlm_challenge ch;
    struct ntlm_av_info av;
    struct ntlm_challenge_fields f;

    if (ntlm_parse_challenge(chal, chal_len, &ch) != NTLM_OK
        || ntlm_parse_av_pairs(ch.target_info.p, ch.target_info.len, 0, &av) != NTLM_OK)
        return 0;
    /* in the order our server writes them */
    if (how & MITM_NAMES)
        ntlm_av_put(&w, NTLM_AV_NB_DOMAIN, evil, sizeof(evil));
    else
        ntlm_av_put(&w, NTLM_AV_NB_DOMAIN, av.nb_domain.p, av.nb_domain.len);
    ntlm_av_put(&w, NTLM_AV_NB_COMPUTER, av.nb_computer.p, av.nb_computer.len);
    ntlm_av_put(&w, NTLM_AV_DNS_DOMAIN, av.dns_domain.p, av.dns_domain.len);
    ntlm_av_put(&w, NTLM_AV_DNS_COMPUTER, av.dns_computer.p, av.dns_computer.len);
    if (av.has_timestamp && !(how & MITM_STRIP))
        ntlm_av_put(&w, NTLM_AV_TIMESTAMP, av.timestamp, sizeof(av.timestamp));
    memset(&f, 0, sizeof(f));
    f.flags = ch.flags;
    if (how & MITM_FLAGS) /* drop 128- and 56-bit keys and ALWAYS_SIGN */
        f.flags &= ~(uint32_t)(NTLM_NEGOTIATE_128 | NTLM_NEGOTIATE_56 | NTLM_NEGOTIATE_ALWAYS_SIGN);
    f.server_challenge = ch.server_challenge;
    f.target_name = ch.target_name;
    f.target_info = (struct ntlm_buf){info, ntlm_av_end(&w)};
    return f.target_info.len ? ntlm_build_challenge(&f, out, cap) : 0;
}

/* NTLMv1 with extended session security (LM field: client challenge and
 * 16 zeros), no MIC. */
static int win_v1_ess(const struct ntlm_challenge *ch, unsigned char *out, size_t cap,
                      size_t *outlen)
{
    unsigned char hash[16], lm[24] = {0}, nt[24], mixed[8], dom16[32];
    struct ntlm_authenticate_fields f;
    size_t dlen = ntlm_utf8_to_utf16le("WORKGROUP", 9, dom16, sizeof(dom16));

    if (sm_random(lm, 8) || ntlm_nt_hash_utf8(HX_PASS, strlen(HX_PASS), hash)
        || ntlm_ess_challenge(ch->server_challenge, lm, mixed) || ntlm_v1_response(hash, mixed, nt))
        return -1;
    memset(&f, 0, sizeof(f));
    f.flags = ch->flags & ~(uint32_t)NTLM_NEGOTIATE_KEY_EXCH;
    f.lm = (struct ntlm_buf){lm, 24};
    f.nt = (struct ntlm_buf){nt, 24};
    f.domain = (struct ntlm_buf){dom16, dlen};
    f.user = (struct ntlm_buf){(const unsigned char *)"a\0l\0i\0c\0e\0", 10};
    f.version = win_version;
    return (*outlen = ntlm_build_authenticate(&f, out, cap)) ? 0 : -1;
}

/* The NTLMv2 client challenge (MS-NLMP 2.2.2.7) into blob: Windows copies
 * the server's pairs less MsvAvEOL and adds MsvAvFlags (MIC) when there is
 * a timestamp; curl copies the whole list as it came. */
static size_t crafted_blob(enum shape shape, const struct ntlm_challenge *ch,
                           const struct ntlm_av_info *av, unsigned char *blob, size_t cap)
{
    static const unsigned char mic_flag[4] = {2, 0, 0, 0};
    struct ntlm_av_writer w;
    size_t info = ch->target_info.len, n;

    memset(blob, 0, NTLM_V2_BLOB_HEADER);
    blob[0] = blob[1] = 1;
    if (shape == WINDOWS && av->has_timestamp)
        memcpy(blob + 8, av->timestamp, 8);
    else /* its own clock: any value, the server does not read it */
        memset(blob + 8, 0x11, 8);
    if (sm_random(blob + 16, 8) != 0 || info < 4 || NTLM_V2_BLOB_HEADER + info + 16 > cap)
        return 0;
    if (shape == CURL) {
        memcpy(blob + NTLM_V2_BLOB_HEADER, ch->target_info.p, info);
        n = NTLM_V2_BLOB_HEADER + info;
    } else {
        memcpy(blob + NTLM_V2_BLOB_HEADER, ch->target_info.p, info - 4);
        w = (struct ntlm_av_writer){blob + NTLM_V2_BLOB_HEADER + info - 4,
                                    cap - NTLM_V2_BLOB_HEADER - info, 0, 0};
        if (av->has_timestamp)
            ntlm_av_put(&w, NTLM_AV_FLAGS, mic_flag, 4);
        n = NTLM_V2_BLOB_HEADER + info - 4 + ntlm_av_end(&w);
    }
    memset(blob + n, 0, 4);
    return n + 4;
}

static int crafted_authenticate(const struct crafted *cr, const unsigned char *neg,
                                size_t neglen, const char *chal, unsigned chal_len,
                                unsigned char *out, size_t cap, size_t *outlen)
{
    unsigned char hash[16], key[16], base[16], exported[16], enc[16], mic[16], lm[24] = {0};
    unsigned char user16[64], dom16[64], blob[2048];
    struct ntlm_challenge ch;
    struct ntlm_av_info av;
    struct ntlm_authenticate_fields f;
    struct ntlm_buf nb = {neg, neglen}, cb = {(const unsigned char *)chal, chal_len}, ab;
    unsigned char nt[2100];
    size_t ulen, dlen, n;
    int key_exch = cr->shape == WINDOWS;

    if (ntlm_parse_challenge(chal, chal_len, &ch) != NTLM_OK
        || (key_exch && !(ch.flags & NTLM_NEGOTIATE_KEY_EXCH))
        || ntlm_parse_av_pairs(ch.target_info.p, ch.target_info.len, 0, &av) != NTLM_OK)
        return -1;
    if (cr->spoil == W_V1_ESS)
        return win_v1_ess(&ch, out, cap, outlen);
    ulen = ntlm_utf8_to_utf16le(HX_USER, strlen(HX_USER), user16, sizeof(user16));
    dlen = ntlm_utf8_to_utf16le("WORKGROUP", 9, dom16, sizeof(dom16));
    ntlm_utf16le_upper(user16, ulen);
    if (!(n = crafted_blob(cr->shape, &ch, &av, blob, sizeof(blob))))
        return -1;
    if (ntlm_nt_hash_utf8(HX_PASS, strlen(HX_PASS), hash) || ntlm_ntowfv2(hash, user16, ulen, dom16, dlen, key)
        || ntlm_v2_hmac(key, ch.server_challenge, blob, n, nt)
        || ntlm_v2_session_base_key(key, nt, base) || sm_random(exported, 16)
        || ntlm_rc4_key(base, exported, enc))
        return -1;
    memcpy(nt + 16, blob, n);
    /* curl's LMv2: HMAC(key, server challenge || its 8 bytes) || those bytes */
    if (cr->shape == CURL
        && (sm_random(lm + 16, 8) || ntlm_v2_hmac(key, ch.server_challenge, lm + 16, 8, lm)))
        return -1;
    if (cr->spoil == W_DAMAGED_KEY)
        enc[0] ^= 1;
    memset(&f, 0, sizeof(f));
    f.flags = ch.flags;
    f.lm = (struct ntlm_buf){lm, 24};
    f.nt = (struct ntlm_buf){nt, 16 + n};
    f.domain = (struct ntlm_buf){dom16, dlen};
    f.user = (struct ntlm_buf){(const unsigned char *)"a\0l\0i\0c\0e\0", 10};
    if (key_exch)
        f.session_key = (struct ntlm_buf){enc, 16};
    if (cr->shape == WINDOWS) {
        f.version = win_version;
        f.with_mic = av.has_timestamp;
    }
    if (!(*outlen = ntlm_build_authenticate(&f, out, cap)))
        return -1;
    if (!f.with_mic)
        return 0;
    ab = (struct ntlm_buf){out, *outlen};
    if (ntlm_mic(cr->spoil == W_MIC_BASE_KEY ? base : exported, &nb, &cb, &ab, mic))
        return -1;
    memcpy(out + NTLM_MIC_OFFSET, mic, 16);
    return 0;
}

/* A client (ours, through libsasl2, or a crafted one) behind a man in the
 * middle who rewrites the CHALLENGE as cr->mitm says and may empty the NT
 * field of the AUTHENTICATE. */
static int crafted_reply(void *arg, int step, const char *chal, unsigned chal_len, char **msg,
                         unsigned *len)
{
    const struct crafted *cr = arg;
    struct hx_client c = {.authname = HX_USER, .password = HX_PASS};
    unsigned char neg[40], auth[4096], altered[4096];
    char *answer = NULL;
    unsigned alen = 0;
    size_t n, neglen;

    if (step > 1)
        return HX_STOP;
    if (cr->shape == OURS && step == 0)
        return hx_client_answer("NTLM", &c, NULL, 0, msg, len) == SASL_CONTINUE ? HX_SEND
                                                                                : HX_STOP;
    neglen = crafted_negotiate(cr->shape, neg);
    if (step == 0) {
        *msg = hx_memdup(neg, neglen);
        *len = (unsigned)neglen;
        return HX_SEND;
    }
    if (cr->mitm) {
        if (!(n = mitm_challenge(cr->mitm, chal, chal_len, altered, sizeof(altered)))) {
            tap_diag("the man in the middle could not rewrite the CHALLENGE");
            return HX_STOP;
        }
        chal = (const char *)altered;
        chal_len = (unsigned)n;
    }
    if (cr->shape == OURS) {
        if (hx_client_second("NTLM", &c, chal, chal_len, &answer, &alen) != SASL_OK || !answer
            || alen > sizeof(auth)) {
            tap_diag("our client did not answer the CHALLENGE");
            free(answer);
            return HX_STOP;
        }
        memcpy(auth, answer, alen);
        free(answer);
        n = alen;
    } else if (crafted_authenticate(cr, neg, neglen, chal, chal_len, auth, sizeof(auth), &n)
               != 0) {
        tap_diag("the crafted AUTHENTICATE could not be built");
        return HX_STOP;
    }
    if (cr->empty_nt) {
        put16(auth + F_NT, 0);
        put16(auth + F_NT + 2, 0);
    }
    *msg = hx_memdup(auth, n);
    *len = (unsigned)n;
    return HX_SEND;
}

static void windows_row(int row, void *arg)
{
    static const char *const what[] = {
        "VERSION, KEY_EXCH (RC4-sent exported key), MIC: SASL_OK",
        "KEY_EXCH but the MIC keyed with the session base key: SASL_BADAUTH",
        "KEY_EXCH with a damaged encrypted key: SASL_BADAUTH",
        "NTLMv1 with extended session security, ntlm_allow_v1: yes: SASL_OK"};
    struct crafted cr = {.shape = WINDOWS, .spoil = row};
    struct hx_script r;

    (void)arg;
    hx_server_script("NTLM", crafted_reply, &cr, &r);
    if (!tap_ok(r.steps == 2
                    && r.rc[1] == (row == W_MIC_BASE_KEY || row == W_DAMAGED_KEY ? SASL_BADAUTH
                                                                                 : SASL_OK),
                "NTLM server, a Windows-shaped client: %s", what[row]))
        tap_diag("%d steps, last %s: %s", r.steps, hx_code(r.rc[r.steps - 1]), r.err);
}

static void windows_v1_row(int row, void *arg)
{
    (void)row;
    windows_row(W_V1_ESS, arg);
}

/* ---- a man in the middle strips the MIC ---------------------------------------- */

/* Review finding 3.4: one who removes MsvAvTimestamp from our CHALLENGE
 * makes a client send no MIC; the server knows it sent a timestamp and
 * must refuse a response that does not carry it with a MIC. */
struct mitm_case {
    const char *what;
    struct crafted cr;
    int want;
    const char *detail;  /* the server's errdetail names it; NULL: any */
};
#define TS_GONE "timestamp"
static const struct mitm_case mitm_default[] = {
    {"our client, the CHALLENGE rebuilt unchanged (control)", {OURS, 0, MITM_REBUILD, 0},
     SASL_OK, NULL},
    {"our client, timestamp stripped, AUTHENTICATE passed as it is", {OURS, 0, MITM_STRIP, 0},
     SASL_BADAUTH, TS_GONE},
    {"our client, timestamp stripped, NT field emptied (LMv2 alone)",
     {OURS, 0, MITM_STRIP, 1}, SASL_TOOWEAK, "ntlm_allow_lmv2"},
    {"our client, NetBIOS domain changed and timestamp stripped",
     {OURS, 0, MITM_NAMES | MITM_STRIP, 0}, SASL_BADAUTH, TS_GONE},
    {"our client, flags changed and timestamp stripped", {OURS, 0, MITM_FLAGS | MITM_STRIP, 0},
     SASL_BADAUTH, TS_GONE},
    {"our client, NetBIOS domain changed, timestamp kept (the MIC)", {OURS, 0, MITM_NAMES, 0},
     SASL_BADAUTH, NULL},
    {"Windows-shaped client, the CHALLENGE rebuilt unchanged (control)",
     {WINDOWS, 0, MITM_REBUILD, 0}, SASL_OK, NULL},
    {"Windows-shaped client, timestamp stripped, AUTHENTICATE passed as it is",
     {WINDOWS, 0, MITM_STRIP, 0}, SASL_BADAUTH, TS_GONE},
    {"Windows-shaped client, timestamp stripped, NT field emptied",
     {WINDOWS, 0, MITM_STRIP, 1}, SASL_TOOWEAK, "ntlm_allow_lmv2"},
    {"Windows-shaped client, flags and names changed, timestamp stripped",
     {WINDOWS, 0, MITM_FLAGS | MITM_NAMES | MITM_STRIP, 0}, SASL_BADAUTH, TS_GONE},
    {"curl-shaped client (our timestamp echoed, no MIC), no man in the middle",
     {CURL, 0, 0, 0}, SASL_TOOWEAK, "ntlm_allow_v2_without_mic"},
};
/* ntlm_allow_v2_without_mic: yes lets curl in, and nothing more */
static const struct mitm_case mitm_nomic[] = {
    {"curl-shaped client, no man in the middle", {CURL, 0, 0, 0}, SASL_OK, NULL},
    {"curl-shaped client, timestamp stripped", {CURL, 0, MITM_STRIP, 0}, SASL_BADAUTH, TS_GONE},
    {"curl-shaped client, NT field emptied (its real LMv2 alone)", {CURL, 0, 0, 1},
     SASL_TOOWEAK, "ntlm_allow_lmv2"},
    {"our client, timestamp stripped", {OURS, 0, MITM_STRIP, 0}, SASL_BADAUTH, TS_GONE},
    {"Windows-shaped client, timestamp stripped", {WINDOWS, 0, MITM_STRIP, 0}, SASL_BADAUTH,
     TS_GONE},
};
/* and with ntlm_allow_lmv2: yes too, the LM field of our client and of
 * Windows is zeros: an emptied NT field leaves nothing that verifies */
static const struct mitm_case mitm_lax[] = {
    {"our client, timestamp stripped, NT field emptied", {OURS, 0, MITM_STRIP, 1},
     SASL_BADAUTH, NULL},
    {"our client, NT field emptied", {OURS, 0, 0, 1}, SASL_BADAUTH, NULL},
    {"Windows-shaped client, timestamp stripped, NT field emptied",
     {WINDOWS, 0, MITM_STRIP, 1}, SASL_BADAUTH, NULL},
};
struct mitm_set {
    const char *label;
    const struct mitm_case *cases;
};

static void mitm_row(int row, void *arg)
{
    const struct mitm_set *set = arg;
    const struct mitm_case *m = &set->cases[row];
    struct hx_script r;
    int last;

    hx_row_name("MITM %s: %s", set->label, m->what);
    hx_server_script("NTLM", crafted_reply, (void *)&m->cr, &r);
    last = r.rc[r.steps - 1];
    if (!tap_ok(r.steps == 2 && last == m->want && (last == SASL_OK || !r.ever_ok)
                    && (last == SASL_OK || hx_has_detail(last, r.err))
                    && (!m->detail || strstr(r.err, m->detail)),
                "NTLM server (%s), a man in the middle: %s: %s%s%s", set->label, m->what,
                hx_code(m->want), m->detail ? ", errdetail names " : "",
                m->detail ? m->detail : ""))
        tap_diag("%d steps, last %s: %s", r.steps, hx_code(last), r.err);
}

static void run_mitm(void)
{
    static const char *const nomic[] = {"ntlm_allow_v2_without_mic", "yes", NULL};
    static const char *const lax[] = {"ntlm_allow_v2_without_mic", "yes",
                                      "ntlm_allow_lmv2", "yes", NULL};
    static const struct mitm_set sets[] = {
        {"default options", mitm_default},
        {"ntlm_allow_v2_without_mic: yes", mitm_nomic},
        {"ntlm_allow_v2_without_mic and ntlm_allow_lmv2: yes", mitm_lax},
    };
    static const int counts[] = {(int)(sizeof(mitm_default) / sizeof(mitm_default[0])),
                                 (int)(sizeof(mitm_nomic) / sizeof(mitm_nomic[0])),
                                 (int)(sizeof(mitm_lax) / sizeof(mitm_lax[0]))};
    const char *const *opts[] = {NULL, nomic, lax};
    struct hx_init in = {.server_path = hx_path(hx.ours, hx.aux, NULL), .client_path = hx.ours};
    size_t i;

    for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
        in.server_opts = opts[i];
        hx_run(sets[i].label, &in, counts[i], mitm_row, (void *)&sets[i]);
    }
}

/* ---- hostile CHALLENGE messages, against our client ------------------------- */

/* MS-NLMP 4.2.4.3's CHALLENGE (tests/vectors/ntlm.txt): Unicode, NTLM,
 * target name "Server" at 56, target info (Domain, Server, EOL) at 68. */
static const unsigned char vector_challenge[] = {
    0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00, 0x02, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x0c, 0x00,
    0x38, 0x00, 0x00, 0x00, 0x33, 0x82, 0x8a, 0xe2, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x24, 0x00, 0x24, 0x00, 0x44, 0x00, 0x00, 0x00,
    0x06, 0x00, 0x70, 0x17, 0x00, 0x00, 0x00, 0x0f, 0x53, 0x00, 0x65, 0x00, 0x72, 0x00, 0x76, 0x00,
    0x65, 0x00, 0x72, 0x00, 0x02, 0x00, 0x0c, 0x00, 0x44, 0x00, 0x6f, 0x00, 0x6d, 0x00, 0x61, 0x00,
    0x69, 0x00, 0x6e, 0x00, 0x01, 0x00, 0x0c, 0x00, 0x53, 0x00, 0x65, 0x00, 0x72, 0x00, 0x76, 0x00,
    0x65, 0x00, 0x72, 0x00, 0x00, 0x00, 0x00, 0x00};
#define VC_LEN sizeof(vector_challenge)
enum { VC_FLAGS = 20, VC_CHALLENGE = 24, VC_NAME = 12, VC_INFO = 40, VC_INFO_AT = 68 };

struct hostile_challenge {
    const char *what;
    int want;
};
static const struct hostile_challenge hostile[] = {
    {"MS-NLMP 4.2.4.3's CHALLENGE (control)", SASL_OK},
    {"target name offset past the end", SASL_BADPROT},
    {"target information offset + length wraps 32 bits", SASL_BADPROT},
    {"target information 65535 bytes long, past the end", SASL_BADPROT},
    {"target information inside the header", SASL_BADPROT},
    {"target information overlapping the target name", SASL_BADPROT},
    {"target information without MsvAvEOL", SASL_BADPROT},
    {"an AV pair repeated", SASL_BADPROT},
    {"a timestamp of 7 bytes", SASL_BADPROT},
    {"an AV pair with an odd UTF-16 length (passed on as it is)", SASL_OK},
    {"a zero server challenge", SASL_BADPROT},
    {"offering only LM (no NTLM flag)", SASL_TOOWEAK},
    {"naming no character set", SASL_BADPROT},
    {"a message type of 3", SASL_BADPROT},
    {"longer than 8192 bytes", SASL_BADPROT},
};
#define N_HOSTILE (int)(sizeof(hostile) / sizeof(hostile[0]))

static void hostile_challenge_row(int row, void *arg)
{
    static unsigned char m[9000];
    struct hx_client c = {.authname = HX_USER, .password = HX_PASS};
    unsigned len = VC_LEN;
    struct hx_msg msg;
    struct hx_script r;
    int last;

    (void)arg;
    memset(m, 0, sizeof(m));
    memcpy(m, vector_challenge, VC_LEN);
    switch (row) {
    case 1: put32(m + VC_NAME + 4, VC_LEN - 4); break;
    case 2: put32(m + VC_INFO + 4, 0xfffffff0u); break;
    case 3: put16(m + VC_INFO, 0xffff); break;
    case 4: put32(m + VC_INFO + 4, 16); break;
    case 5: put32(m + VC_INFO + 4, 60); break;
    case 6: put16(m + VC_INFO, 32); len -= 4; break;
    case 7: put16(m + VC_INFO_AT + 16, 2); break; /* the second pair: NbDomainName again */
    case 8:
        put16(m + VC_INFO_AT, 7);
        put16(m + VC_INFO_AT + 2, 7); /* and EOL would misalign: the list is short */
        break;
    case 9: put16(m + VC_INFO_AT + 2, 11); put16(m + VC_INFO_AT + 4 + 11, 0x0101); break;
    case 10: memset(m + VC_CHALLENGE, 0, 8); break;
    case 11: m[VC_FLAGS + 1] &= (unsigned char)~0x02; break;
    case 12: m[VC_FLAGS] &= (unsigned char)~0x03; break;
    case 13: m[8] = 3; break;
    case 14: len = 8200; break;
    }
    msg = (struct hx_msg){(const char *)m, len, 0};
    hx_row_name("CHALLENGE %s", hostile[row].what);
    hx_client_script("NTLM", &c, &msg, 1, &r);
    last = r.rc[r.steps - 1];
    if (row == 9) /* whatever the outcome, the client answers or refuses cleanly */
        last = (last == SASL_OK || hx_is_error(last)) ? SASL_OK : last;
    if (!tap_ok(r.steps == 2 && last == hostile[row].want
                    && (last == SASL_OK || hx_has_detail(last, r.err)),
                "NTLM client: CHALLENGE %s: %s", hostile[row].what, hx_code(hostile[row].want)))
        tap_diag("%d steps, last %s: %s", r.steps, hx_code(r.rc[r.steps - 1]), r.err);
}

/* Every truncation of the CHALLENGE: refused, never answered. */
static void challenge_truncation_row(int row, void *arg)
{
    struct hx_client c = {.authname = HX_USER, .password = HX_PASS};
    unsigned n, bad = 0, first_bad = 0;

    (void)row; (void)arg;
    for (n = 0; n < VC_LEN; n++) {
        struct hx_msg msg = {(const char *)vector_challenge, n, 0};
        struct hx_script r;

        hx_client_script("NTLM", &c, &msg, 1, &r);
        if (r.steps < 2 || !hx_is_error(r.rc[1])) {
            if (!bad++)
                first_bad = n;
        }
    }
    if (!tap_ok(bad == 0, "NTLM client: each of the %u truncations of a CHALLENGE is refused",
                (unsigned)VC_LEN))
        tap_diag("%u answered, the first of %u bytes", bad, first_bad);
}

static void run_hostile(void)
{
    struct hx_init in = {.server_path = hx_path(hx.ours, hx.aux, NULL), .client_path = hx.ours};

    hx_run("NTLM hostile AUTHENTICATE", &in, N_SPOILS, spoil_row, NULL);
    hx_run("NTLM truncations", &in, 1, truncation_row, NULL);
    hx_run("NTLM replay", &in, 1, replay_row, NULL);
    hx_run("NTLM hostile NEGOTIATE", &in, 4, negotiate_row, NULL);
    hx_run("NTLM hostile CHALLENGE", &in, N_HOSTILE, hostile_challenge_row, NULL);
    hx_run("NTLM Windows-shaped client", &in, 3, windows_row, NULL);
    {
        static const char *const allow[] = {"ntlm_allow_v1", "yes", NULL};
        struct hx_init v1 = in;

        v1.server_opts = allow;
        hx_run("NTLM Windows-shaped client, NTLMv1 with ESS", &v1, 1, windows_v1_row, NULL);
    }
    hx_run("NTLM CHALLENGE truncations", &in, 1, challenge_truncation_row, NULL);
}

/* Without OpenSSL's legacy provider the plugin registers no NTLM. */
static void legacy_row(int row, void *arg)
{
    struct hx_client c = {.authname = HX_USER, .password = HX_PASS};
    struct hx_outcome o;
    char list[512];

    (void)arg;
    if (row == 0) {
        hx_listmech(0, list, sizeof(list));
        if (!tap_ok(!strstr(list, " NTLM ") && strstr(list, " PLAIN "),
                    "OPENSSL_MODULES without the legacy provider: NTLM is not offered"))
            tap_diag("offered: %s", list);
        return;
    }
    hx_exchange("NTLM", &c, NULL, &o);
    if (!tap_ok(o.server_rc == SASL_NOMECH || o.client_rc == SASL_NOMECH,
                "OPENSSL_MODULES without the legacy provider: an NTLM exchange is SASL_NOMECH, "
                "no crash"))
        show(&o);
}

int main(void)
{
    struct hx_init in;

    if (hx_setup() == 0) {
        run_matrix();
        run_v1();
        run_client_versions();
        run_lmv2();
        run_cyrus_options();
        run_mitm();
        run_options();
        run_sql();
        run_hostile();
        in = (struct hx_init){.server_path = hx_path(hx.ours, hx.aux, NULL),
                              .client_path = hx.ours};
        setenv("OPENSSL_MODULES", "/nonexistent", 1);
        hx_run("NTLM without the legacy provider", &in, 2, legacy_row, NULL);
        unsetenv("OPENSSL_MODULES");
    }
    if (sqldir[0]) {
        char cmd[1400];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", sqldir, sqldb);
        if (system(cmd) != 0)
            tap_diag("could not remove %s", sqldir);
    }
    hx_cleanup();
    return tap_done();
}
