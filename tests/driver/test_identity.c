/* Where the line between a permanent and a temporary failure lies, and
 * whose properties a proxy login shows:
 *  - names with white space at either end (libsasl2 2.1.28 answers some with
 *    SASL_FAIL, which Postfix turns into 454 "try again") are refused by each
 *    of our servers as a wrong password is: SASL_BADAUTH, same errdetail;
 *  - a backend that is down (saslauthd's socket absent, an SQL auxprop whose
 *    database cannot be opened, ldapdb's LDAP server down) stays a temporary
 *    error for each server that checks a password or reads a secret;
 *  - after a permitted proxy login the application reads the authzid's
 *    auxprop values, not the authcid's;
 *  - PLAIN makes no more canon_user calls than Cyrus's (an authzid that is
 *    the authcid is canonicalised once, as both identities).
 * Each case runs in its own forked child (harness.h). */
#include "config.h"
#include "harness.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define WRONG_PASS "Wr0ng-Pa55-guess"
#define DIGEST32 "0123456789abcdef0123456789abcdef"

/* ---- hostile names --------------------------------------------------------- */

/* One message list per row; LOGIN and CRAM-MD5 messages after the server's
 * first challenge.  "control" rows are a wrong password: their errdetail is
 * the one every hostile name must get. */
struct name_row {
    const char *mech;
    const char *desc;
    struct hx_msg msg[3];
    int n;
};

#define CRAM(resp) {{NULL, 0, 0}, HX_MSG(resp)}, 2

static const struct name_row name_rows[] = {
    {"PLAIN", "control: wrong password", {HX_MSG("\0" HX_USER "\0" WRONG_PASS)}, 1},
    {"PLAIN", "authcid of three spaces", {HX_MSG("\0   \0secret")}, 1},
    {"PLAIN", "authcid ' a'", {HX_MSG("\0 a\0x")}, 1},
    {"PLAIN", "authcid with a trailing space, right password", {HX_MSG("\0" HX_USER " \0" HX_PASS)}, 1},
    {"PLAIN", "authcid with a leading tab, right password", {HX_MSG("\0\t" HX_USER "\0" HX_PASS)}, 1},
    {"PLAIN", "authzid ' a'", {HX_MSG(" a\0" HX_USER "\0" HX_PASS)}, 1},
    {"PLAIN", "authzid of one space", {HX_MSG(" \0" HX_USER "\0" HX_PASS)}, 1},
    {"LOGIN", "control: wrong password", {HX_MSG(HX_USER), HX_MSG(WRONG_PASS)}, 2},
    {"LOGIN", "user name of three spaces", {HX_MSG("   "), HX_MSG("secret")}, 2},
    {"LOGIN", "user name ' a'", {HX_MSG(" a"), HX_MSG("x")}, 2},
    {"LOGIN", "user name with a trailing space, right password",
     {HX_MSG(HX_USER " "), HX_MSG(HX_PASS)}, 2},
    {"LOGIN", "user name with a trailing CR, right password",
     {HX_MSG(HX_USER "\r"), HX_MSG(HX_PASS)}, 2},
    {"CRAM-MD5", "control: wrong digest", CRAM(HX_USER " " DIGEST32)},
    {"CRAM-MD5", "user ' a '", CRAM(" a  " DIGEST32)},
    {"CRAM-MD5", "user ' a'", CRAM(" a " DIGEST32)},
    {"CRAM-MD5", "user of two spaces", CRAM("   " DIGEST32)},
    {"CRAM-MD5", "user with a leading tab", CRAM("\t" HX_USER " " DIGEST32)},
};
#define N_NAME_ROWS ((int)(sizeof(name_rows) / sizeof(name_rows[0])))

static void name_row(int row, void *arg)
{
    const struct name_row *w = &name_rows[row];
    struct hx_msgs m = {w->msg, w->n};
    static char control[3][512]; /* per mechanism, from its control row */
    struct hx_script r;
    int k = w->mech[0] == 'P' ? 0 : w->mech[0] == 'L' ? 1 : 2, ok;

    (void)arg;
    hx_row_name("%s server: %s", w->mech, w->desc);
    hx_server_script(w->mech, hx_reply_list, &m, &r);
    if (strncmp(w->desc, "control", 7) == 0)
        snprintf(control[k], sizeof(control[k]), "%s", r.err);
    ok = tap_ok(r.rc[r.steps - 1] == SASL_BADAUTH && !r.ever_ok && strcmp(r.err, control[k]) == 0,
                "%s server: %s: SASL_BADAUTH with a wrong password's errdetail (%s)", w->mech,
                w->desc, hx_code(r.rc[r.steps - 1]));
    if (!ok)
        tap_diag("errdetail \"%s\", a wrong password's \"%s\"", r.err, control[k]);
}

/* ---- temporary backend errors ----------------------------------------------- */

/* A folder holding only one of the system's auxprop plugins (libsql.so,
 * libldapdb.so), under hx.root; NULL (with a failed case) when it is not
 * installed. */
static const char *make_aux_folder(const char *lib, const char *package)
{
    static char dirs[2][PATH_MAX];
    static int n;
    const char *sys = getenv("SM_SYSTEM_PLUGIN_DIR");
    char src[PATH_MAX], dst[2 * PATH_MAX], *dir = dirs[n++ % 2];
    /* (two folders at most: SQL's and ldapdb's) */

    snprintf(dir, PATH_MAX, "%s/aux-%s", hx.root, lib);
    snprintf(src, sizeof(src), "%s/%s", sys ? sys : "", lib);
    snprintf(dst, sizeof(dst), "%s/%s", dir, lib);
    if (access(src, R_OK) != 0)
        return tap_ok(0, "auxprop %s: %s (package %s)", src, strerror(errno), package), NULL;
    if ((mkdir(dir, 0700) != 0 && errno != EEXIST) || (symlink(src, dst) != 0 && errno != EEXIST))
        return tap_ok(0, "cannot link %s into %s: %s", src, dir, strerror(errno)), NULL;
    return dir;
}

struct backend_case {
    const char *mech;
    const char *what;
    const char *password;   /* right or wrong */
    int temporary;          /* 1: the backend is down */
};

static void backend_row(int row, void *arg)
{
    const struct backend_case *b = arg;
    struct hx_client c = {.authname = HX_USER, .password = b->password};
    struct hx_outcome o;
    int ok;

    (void)row;
    hx_row_name("%s: %s", b->mech, b->what);
    hx_exchange(b->mech, &c, NULL, &o);
    if (b->temporary)
        ok = tap_ok(o.server_rc == SASL_FAIL || o.server_rc == SASL_UNAVAIL
                        || o.server_rc == SASL_TRYAGAIN,
                    "%s: %s: a temporary error (%s), not a wrong password", b->mech, b->what,
                    hx_code(o.server_rc));
    else
        ok = tap_ok(o.server_rc == SASL_BADAUTH, "%s: %s: SASL_BADAUTH (%s)", b->mech, b->what,
                    hx_code(o.server_rc));
    if (!ok)
        tap_diag("errdetail \"%s\"", o.server_err);
}

/* Where the backend that is down is the auxprop itself (pwcheck_method
 * auxprop): the SQL auxprop answers SASL_FAIL when it reaches no database,
 * ldapdb SASL_UNAVAIL when the LDAP server is down; each of our servers that
 * reads a secret must hand that on, never turn it into a wrong password. */
enum backend { SASLAUTHD, SQL, LDAPDB, UP };
static const char *const backend_what[] = {
    [SASLAUTHD] = "saslauthd is not running",
    [SQL] = "the SQL auxprop's database cannot be opened",
    [LDAPDB] = "the ldapdb auxprop's LDAP server is down",
    [UP] = "backend up, wrong password",
};

static void run_backends(void)
{
    static const char *const saslauthd_down[] = {
        "pwcheck_method", "saslauthd", "saslauthd_path", "/nonexistent-sasl-mechs/mux", NULL};
    static const char *sql_down[] = {
        "auxprop_plugin", "sql", "sql_engine", "sqlite3",
        "sql_database", "/nonexistent-sasl-mechs/users.db",
        "sql_select", "SELECT password FROM users WHERE name = '%u'", NULL};
    static const char *ldapdb_down[] = {
        "pwcheck_method", "auxprop", "auxprop_plugin", "ldapdb",
        "ldapdb_uri", "ldapi://%2Fnonexistent-sasl-mechs%2Fldapi", "ldapdb_mech", "EXTERNAL",
        NULL};
    static const struct {
        const char *mech;
        enum backend b;
    } cases[] = {
        {"PLAIN", SASLAUTHD}, {"LOGIN", SASLAUTHD},
        {"PLAIN", SQL}, {"LOGIN", SQL}, {"CRAM-MD5", SQL}, {"NTLM", SQL},
        {"PLAIN", LDAPDB}, {"LOGIN", LDAPDB}, {"CRAM-MD5", LDAPDB}, {"NTLM", LDAPDB},
        {"PLAIN", UP}, {"LOGIN", UP}, {"CRAM-MD5", UP},
    };
    static struct backend_case bc[sizeof(cases) / sizeof(cases[0])];
    /* hx_path's results live in a ring of 8 that main's own paths share:
     * copied here, made once */
    static char usual[1000], with_sql[1000], with_ldapdb[1000];
    const char *sql = make_aux_folder("libsql.so", "libsasl2-modules-sql");
    const char *ldapdb = make_aux_folder("libldapdb.so", "libsasl2-modules-ldap");
    struct hx_init in = {.client_path = hx.ours};
    size_t i;

    snprintf(usual, sizeof(usual), "%s", hx_path(hx.ours, hx.aux, NULL));
    if (sql)
        snprintf(with_sql, sizeof(with_sql), "%s", hx_path(hx.ours, sql, NULL));
    if (ldapdb)
        snprintf(with_ldapdb, sizeof(with_ldapdb), "%s", hx_path(hx.ours, ldapdb, NULL));
    const struct {
        const char *const *opts;
        const char *path;   /* NULL: the auxprop is not installed */
    } via[] = {
        [SASLAUTHD] = {saslauthd_down, usual},
        [SQL] = {sql_down, sql ? with_sql : NULL},
        [LDAPDB] = {ldapdb_down, ldapdb ? with_ldapdb : NULL},
        [UP] = {NULL, usual},
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct backend_case *b = &bc[i];
        b->mech = cases[i].mech;
        b->what = backend_what[cases[i].b];
        b->temporary = cases[i].b != UP;
        b->password = b->temporary ? HX_PASS : WRONG_PASS;
        if (!via[cases[i].b].path)
            continue;  /* the auxprop is missing: a failed case said so */
        in.server_opts = via[cases[i].b].opts;
        in.server_path = via[cases[i].b].path;
        hx_run(b->what, &in, 1, backend_row, b);
    }
}

/* ---- proxy login: the authzid's properties --------------------------------- */

static void proxy_props_row(int row, void *arg)
{
    static const char *const props[] = {"userPassword", NULL};
    struct hx_client c = {.authname = HX_USER, .password = HX_PASS, .authzid = HX_USER2};
    struct hx_client self = {.authname = HX_USER, .password = HX_PASS};
    struct hx_server s = {.proxy_allow = HX_USER2, .authz_props = props};
    struct hx_outcome o;
    int ok;

    (void)arg;
    if (row == 0) {
        hx_row_name("PLAIN proxy login: the authzid's properties");
        hx_exchange("PLAIN", &c, &s, &o);
        ok = tap_ok(o.server_rc == SASL_OK && strcmp(o.authz_prop, HX_PASS2) == 0,
                    "PLAIN proxy login %s as %s: the application reads %s's userPassword, "
                    "not %s's", HX_USER, HX_USER2, HX_USER2, HX_USER);
    } else {
        hx_row_name("PLAIN login without authzid: the user's own properties");
        hx_exchange("PLAIN", &self, &s, &o);
        ok = tap_ok(o.server_rc == SASL_OK && strcmp(o.authz_prop, HX_PASS) == 0,
                    "PLAIN login as %s: the application reads %s's own userPassword", HX_USER,
                    HX_USER);
    }
    if (!ok)
        tap_diag("server %s, user \"%s\", %s value (a password) was %s", hx_code(o.server_rc),
                 o.username, props[0],
                 strcmp(o.authz_prop, HX_PASS) == 0 ? "the authcid's"
                 : o.authz_prop[0] ? "another" : "empty");
}

/* ---- canon_user calls: as few as Cyrus's PLAIN makes --------------------- */

/* An authzid that is the authcid, byte for byte, is no proxy login: Cyrus's
 * PLAIN server canonicalises the name once as both identities, and ours must
 * not cost the application (its canon_user callback, or libsasl2's lookup of
 * one) a second call; our client does the same before sending it. */
struct canon_case {
    const char *desc, *authzid, *allow;
    /* the server's calls (ours and Cyrus's; libsasl2's checkpass makes one
     * of its own, as both identities), our client's */
    int server_calls, client_calls;
    unsigned server[3], client[2];
};
#define CU_BOTH (SASL_CU_AUTHID | SASL_CU_AUTHZID)
static const struct canon_case canon_cases[] = {
    {"no authzid", NULL, NULL, 2, 1, {CU_BOTH, CU_BOTH}, {CU_BOTH}},
    {"authzid = authcid", HX_USER, NULL, 2, 1, {CU_BOTH, CU_BOTH}, {CU_BOTH}},
    {"authzid of another user", HX_USER2, HX_USER2, 3, 2, {SASL_CU_AUTHID, CU_BOTH, SASL_CU_AUTHZID},
     {SASL_CU_AUTHZID, SASL_CU_AUTHID}},
};
#define N_CANON_CASES ((int)(sizeof(canon_cases) / sizeof(canon_cases[0])))

static int canon_is(const struct hx_canon *k, int calls, const unsigned *flags)
{
    int i;

    if (k->calls != calls)
        return 0;
    for (i = 0; i < calls; i++)
        if (k->flags[i] != flags[i])
            return 0;
    return 1;
}

static void canon_row(int row, void *arg)
{
    const char *who = arg;
    const struct canon_case *k = &canon_cases[row];
    struct hx_client c = {.authname = HX_USER, .password = HX_PASS, .authzid = k->authzid,
                          .count_canon = 1};
    struct hx_server s = {.proxy_allow = k->allow, .count_canon = 1};
    struct hx_outcome o;
    const char *want = k->authzid ? k->authzid : HX_USER;
    int ours = who[0] == 'o';

    hx_row_name("PLAIN canon_user calls, %s, %s", who, k->desc);
    hx_exchange("PLAIN", &c, &s, &o);
    if (!tap_ok(o.server_rc == SASL_OK && strncmp(o.username, want, strlen(want)) == 0
                && canon_is(&o.server_canon, k->server_calls, k->server),
                "PLAIN, %s server, %s: %d canon_user calls (%s), logged in as %s", who, k->desc,
                k->server_calls, k->server_calls > 2 ? "authcid, libsasl2's checkpass, authzid"
                                 : "authcid as both identities, libsasl2's checkpass", want))
        tap_diag("server %s as \"%s\", %d calls, flags %#x %#x %#x", hx_code(o.server_rc), o.username,
                 o.server_canon.calls, o.server_canon.flags[0], o.server_canon.flags[1],
                 o.server_canon.flags[2]);
    if (!ours) /* Cyrus's client makes two calls when the authzid is the authcid */
        return;
    if (!tap_ok(o.client_rc == SASL_OK && canon_is(&o.client_canon, k->client_calls, k->client),
                "PLAIN, %s client, %s: %d canon_user call%s", who, k->desc, k->client_calls,
                k->client_calls > 1 ? "s" : ""))
        tap_diag("client %s, %d calls, flags %#x %#x", hx_code(o.client_rc), o.client_canon.calls,
                 o.client_canon.flags[0], o.client_canon.flags[1]);
}

int main(void)
{
    struct hx_init in;

    if (hx_setup() == 0) {
        in = (struct hx_init){.server_path = hx_path(hx.ours, hx.aux, NULL), .client_path = hx.ours};
        hx_run("hostile names", &in, N_NAME_ROWS, name_row, NULL);
        run_backends();
        hx_run("proxy properties", &in, 2, proxy_props_row, NULL);
        hx_run("canon_user calls, ours", &in, N_CANON_CASES, canon_row, "ours");
        in = (struct hx_init){.server_path = hx_path(hx.cyrus, hx.aux, NULL), .client_path = hx.cyrus};
        hx_run("canon_user calls, Cyrus's", &in, N_CANON_CASES, canon_row, "Cyrus's");
    }
    hx_cleanup();
    return tap_done();
}
