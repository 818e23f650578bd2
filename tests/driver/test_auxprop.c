/* Auxprop values after earlier attempts on the same connection (issue 13,
 * finding 3.1).  libsasl2 keeps one property context per connection across
 * sasl_server_start calls, and an auxprop lookup keeps a value already
 * there: a failed attempt as alice followed by a successful login as bob on
 * the same connection must leave the application bob's values of the
 * properties it asked for (sasl_auxprop_request), or none, never alice's.
 *
 * For each of our seven servers M and each other mechanism N, ours and
 * Cyrus's where Cyrus has N: one server connection, N as alice failing after
 * alice was looked up (a wrong password, or for GSSAPI and OAuth her own
 * ticket or token and an application policy that refuses her), then M as bob
 * with his own password, ticket or token, then the application's properties.
 * Cyrus's N first shows that it did leave alice's values (else the pair would
 * prove nothing); ours must leave none at all once it has failed (it erases
 * them when libsasl2 disposes of its context), so that a mechanism that
 * clears nothing itself, libsasl2's own EXTERNAL, cannot hand alice's values
 * to bob either: the last table tries EXTERNAL after each of our N.  GSSAPI
 * against a throwaway KDC (tests/krb5/kdc.sh), OAuth with tokens from
 * tests/oauth/oauth_mint and a JWKS file. */
#include "config.h"
#include "harness.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sasl/prop.h>

#define ISSUER "https://issuer.sm-driver.test"
#define AUDIENCE "smtp"
#define TOKEN_MAX 4096
#define PATHLEN 600

struct person {
    const char *name, *password, *home, *quota;
    char token[TOKEN_MAX];   /* an OAuth token with sub = name */
    char ccache[PATHLEN + 32]; /* Kerberos tickets for name@REALM */
};

static struct person alice = {HX_USER, HX_PASS, "/home/alice", "alice-quota", "", ""};
static struct person bob = {HX_USER2, HX_PASS2, "/home/bob", "bob-quota", "", ""};

/* what the application asks for: the authorization identity's userPassword,
 * home and quota, and the authentication identity's home ('*') */
static const char *const app_props[] = {"userPassword", "home", "quota", "*home", NULL};

struct mech {
    const char *name;
    const char *ours;
    const char *cyrus;       /* NULL: Cyrus has no such server */
    int by_policy;           /* fails as alice by the policy, not by a wrong password */
};

static const struct mech mechs[] = {
    {"PLAIN", "libsaslmechs_plain.so", "libplain.so", 0},
    {"LOGIN", "libsaslmechs_login.so", "liblogin.so", 0},
    {"CRAM-MD5", "libsaslmechs_crammd5.so", "libcrammd5.so", 0},
    {"NTLM", "libsaslmechs_ntlm.so", "libntlm.so", 0},
    {"GSSAPI", "libsaslmechs_gssapi.so", "libgssapiv2.so", 1},
    {"XOAUTH2", "libsaslmechs_xoauth2.so", NULL, 1},
    {"OAUTHBEARER", "libsaslmechs_oauthbearer.so", NULL, 1},
};
#define N_MECHS ((int)(sizeof(mechs) / sizeof(mechs[0])))

/* dir_ours: our seven; dir_cyrus[i]: Cyrus's mechs[i] and our six others;
 * each with the sasldb auxprop */
static char dir_ours[PATHLEN], dir_cyrus[N_MECHS][PATHLEN], kdcdir[PATHLEN];
static char mint[PATHLEN], keys[PATHLEN], jwks[PATHLEN + 16];

static const char *const server_opts[] = {
    "oauth_issuers", ISSUER, "oauth_audiences", AUDIENCE, "oauth_jwks_file", jwks,
    "oauth_user_claim", "sub", "gssapi_strip_realm", "yes", NULL};

/* ---- one connection, two attempts --------------------------------------------- */

static int is_alice(const char *name, unsigned len)
{
    size_t n = strlen(alice.name);

    return len >= n && memcmp(name, alice.name, n) == 0 && (len == n || name[n] == '@');
}

/* The application's policy: everyone acts as themselves, except that alice
 * may not log in here at all (so that a correct ticket or token of hers
 * fails after she was looked up). */
static int policy(sasl_conn_t *conn, void *ctx, const char *requested, unsigned rlen,
                  const char *authid, unsigned alen, const char *realm, unsigned urlen,
                  struct propctx *props)
{
    (void)ctx; (void)realm; (void)urlen; (void)props;
    if (rlen == alen && memcmp(requested, authid, rlen) == 0 && !is_alice(authid, alen))
        return SASL_OK;
    sasl_seterror(conn, 0, "test policy: not allowed here");
    return SASL_NOAUTHZ;
}

static int new_server(sasl_conn_t **sc)
{
    static sasl_callback_t cb[] = {{SASL_CB_PROXY_POLICY, HX_CB(policy), NULL},
                                   {SASL_CB_LIST_END, NULL, NULL}};
    sasl_security_properties_t sp;
    int rc;

    rc = sasl_server_new(HX_SERVICE, HX_FQDN, HX_REALM, NULL, NULL, cb, 0, sc);
    if (rc != SASL_OK)
        return rc;
    memset(&sp, 0, sizeof(sp));
    sp.max_ssf = 256;
    sp.maxbufsize = 65536;
    if ((rc = sasl_setprop(*sc, SASL_SEC_PROPS, &sp)) != SASL_OK)
        return rc;
    return sasl_auxprop_request(*sc, (const char **)app_props);
}

/* The first value of a property in the connection's context, or NULL. */
static const char *prop_value(sasl_conn_t *sc, const char *name)
{
    struct propctx *ctx = sasl_auxprop_getctx(sc);
    const char *names[2] = {name, NULL};
    struct propval v[1];

    memset(v, 0, sizeof(v));
    if (ctx && prop_getnames(ctx, names, v) > 0 && v[0].values && v[0].values[0])
        return v[0].values[0];
    return NULL;
}

/* A person's value of an application property (by its name without '*'). */
static const char *value_of(const struct person *p, const char *prop)
{
    if (*prop == '*')
        prop++;
    return !strcmp(prop, "userPassword") ? p->password : !strcmp(prop, "home") ? p->home
                                                                               : p->quota;
}

static void show_props(sasl_conn_t *sc)
{
    const char *const *n;
    char buf[600];
    size_t o = 0;

    buf[0] = '\0';
    for (n = app_props; *n && o < sizeof(buf) - 1; n++) {
        const char *v = prop_value(sc, *n);
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s=%s", o ? ", " : "", *n,
                              v ? v : "(none)");
    }
    tap_diag("properties: %s", buf);
}

static int attempt(sasl_conn_t *sc, const char *mech, const struct person *p, int wrong,
                   struct hx_outcome *o)
{
    struct hx_client c = {.authname = p->name, .password = wrong ? "Wrong-Pa55word" : p->password};

    if (!strcmp(mech, "GSSAPI"))
        setenv("KRB5CCNAME", p->ccache, 1);
    else if (strstr(mech, "OAUTH"))
        c.password = p->token;
    return hx_exchange_on(sc, mech, &c, o);
}

static void show(const char *who, const struct hx_outcome *o)
{
    tap_diag("%s: server %s, client %s, user \"%s\"; errdetail server \"%s\", client \"%s\"",
             who, hx_code(o->server_rc), hx_code(o->client_rc), o->username, o->server_err,
             o->client_err);
}

/* N as alice on sc, refused.  Cyrus's N must leave alice's values behind
 * (else the pair would prove nothing); ours (erasing) none at all. */
static void refused_attempt(sasl_conn_t *sc, const struct mech *N, int ours, const char *what)
{
    struct hx_outcome o;
    const char *home;

    attempt(sc, N->name, &alice, !N->by_policy, &o);
    home = prop_value(sc, "home");
    if (!tap_ok(hx_is_error(o.server_rc)
                    && (ours ? home == NULL : home && !strcmp(home, alice.home)),
                ours ? "%s: the refused attempt left none of %s's values in the context"
                     : "%s: the refused attempt left %s's values in the connection's context",
                what, alice.name)) {
        show(alice.name, &o);
        show_props(sc);
    }
}

/* The application's properties hold bob's values or none, never alice's;
 * home must be bob's (he was looked up). */
static int only_bobs(sasl_conn_t *sc)
{
    const char *const *prop;
    int ok = 1;

    for (prop = app_props; ok && *prop; prop++) {
        const char *v = prop_value(sc, *prop);
        ok = v ? !strcmp(v, value_of(&bob, *prop)) : strcmp(*prop, "home") != 0;
    }
    return ok;
}

/* arg: NULL for our N, else the index of Cyrus's N in mechs */
static void pair_row(int row, void *arg)
{
    const int *cyrus = arg;
    int m, n;
    const struct mech *M, *N;
    struct hx_outcome o;
    sasl_conn_t *sc = NULL;
    char what[160];
    int ok, rc;

    if (cyrus) {
        n = *cyrus;
        m = row < n ? row : row + 1;
    } else {
        m = row / (N_MECHS - 1);
        n = row % (N_MECHS - 1);
        n += n >= m;
    }
    M = &mechs[m];
    N = &mechs[n];
    snprintf(what, sizeof(what), "%s %s as %s refused, then our %s as %s", cyrus ? "Cyrus's" : "our",
             N->name, alice.name, M->name, bob.name);
    hx_row_name("%s", what);
    if ((rc = new_server(&sc)) != SASL_OK) {
        tap_ok(0, "%s: the server connection: %s", what, hx_code(rc));
        sasl_dispose(&sc);
        return;
    }
    refused_attempt(sc, N, !cyrus, what);
    attempt(sc, M->name, &bob, 0, &o);
    ok = o.server_rc == SASL_OK && is_alice(o.username, (unsigned)strlen(o.username)) == 0
         && !strncmp(o.username, bob.name, strlen(bob.name));
    if (!tap_ok(ok && only_bobs(sc),
                "%s: SASL_OK, and the application's properties hold %s's values only", what,
                bob.name)) {
        show(bob.name, &o);
        show_props(sc);
    }
    sasl_dispose(&sc);
}

/* Our N as alice, refused, then libsasl2's EXTERNAL (which clears no value
 * itself) as bob, named by the application as the external identity. */
static void external_row(int row, void *arg)
{
    const struct mech *N = &mechs[row];
    sasl_ssf_t ssf = 0;
    sasl_conn_t *sc = NULL;
    const char *out = NULL, *user = NULL;
    unsigned outlen = 0;
    char what[160];
    int rc;

    (void)arg;
    snprintf(what, sizeof(what), "our %s as %s refused, then libsasl2's EXTERNAL as %s", N->name,
             alice.name, bob.name);
    hx_row_name("%s", what);
    if ((rc = new_server(&sc)) != SASL_OK) {
        tap_ok(0, "%s: the server connection: %s", what, hx_code(rc));
        sasl_dispose(&sc);
        return;
    }
    refused_attempt(sc, N, 1, what);
    rc = sasl_setprop(sc, SASL_SSF_EXTERNAL, &ssf);
    if (rc == SASL_OK)
        rc = sasl_setprop(sc, SASL_AUTH_EXTERNAL, bob.name);
    if (rc == SASL_OK)
        rc = sasl_server_start(sc, "EXTERNAL", "", 0, &out, &outlen);
    if (rc == SASL_OK && sasl_getprop(sc, SASL_USERNAME, (const void **)&user) != SASL_OK)
        user = NULL;
    if (!tap_ok(rc == SASL_OK && user && !strncmp(user, bob.name, strlen(bob.name))
                    && only_bobs(sc),
                "%s: SASL_OK, and the application's properties hold %s's values only", what,
                bob.name)) {
        tap_diag("EXTERNAL: %s, user \"%s\", errdetail \"%s\"", hx_code(rc), user ? user : "",
                 sasl_errdetail(sc));
        show_props(sc);
    }
    sasl_dispose(&sc);
}

/* ---- set-up ------------------------------------------------------------------- */

/* home and quota into the sasldb beside the passwords */
static void store_row(int row, void *arg)
{
    static const char *const names[] = {"home", "quota", NULL};
    struct person *p = row ? &bob : &alice;
    struct propctx *ctx = prop_new(0);
    sasl_conn_t *sc = NULL;
    int rc;

    (void)arg;
    hx_row_name("sasldb properties of %s", p->name);
    rc = sasl_server_new(HX_SERVICE, HX_FQDN, HX_REALM, NULL, NULL, NULL, 0, &sc);
    if (rc == SASL_OK && ctx)
        rc = prop_request(ctx, (const char **)names);
    if (rc == SASL_OK)
        rc = prop_set(ctx, "home", p->home, 0);
    if (rc == SASL_OK)
        rc = prop_set(ctx, "quota", p->quota, 0);
    if (rc == SASL_OK)
        rc = sasl_auxprop_store(sc, ctx, p->name);
    tap_ok(ctx && rc == SASL_OK, "setup: home and quota of %s stored in the sasldb (%s)", p->name,
           hx_code(rc));
    prop_dispose(&ctx);
    sasl_dispose(&sc);
}

static int link_into(const char *dir, const char *from, const char *name)
{
    char s[PATH_MAX], d[PATHLEN * 2];

    snprintf(d, sizeof(d), "%s/%s", dir, name);
    snprintf(s, sizeof(s), "%s/%s", from, name);
    if (access(s, R_OK) != 0 || symlink(s, d) != 0)
        return tap_ok(0, "setup: %s into %s: %s", s, dir, strerror(errno)), -1;
    return 0;
}

/* One folder: the server of mechs[cyrus] from Cyrus (-1: none), ours for the rest. */
static int make_dir(char *dir, const char *name, int cyrus, const char *plug, const char *sys)
{
    int i;

    snprintf(dir, PATHLEN, "%s/%s", hx.root, name);
    if (mkdir(dir, 0700) != 0)
        return tap_ok(0, "setup: mkdir %s: %s", dir, strerror(errno)), -1;
    for (i = 0; i < N_MECHS; i++)
        if (i == cyrus ? link_into(dir, sys, mechs[i].cyrus) : link_into(dir, plug, mechs[i].ours))
            return -1;
    return link_into(dir, sys, "libsasldb.so");
}

static int mint_token(struct person *p)
{
    char cmd[PATHLEN * 3];
    FILE *f;
    size_t n;

    snprintf(cmd, sizeof(cmd), "'%s' sign --keys '%s' --kid rsa --ttl 3600 --claims "
             "'{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"%s\",\"scope\":\"mail\"}'",
             mint, keys, ISSUER, AUDIENCE, p->name);
    if (!(f = popen(cmd, "r")))
        return -1;
    n = fread(p->token, 1, sizeof(p->token) - 1, f);
    if (pclose(f) != 0 || n == 0)
        return -1;
    p->token[strcspn(p->token, "\r\n")] = '\0';
    return 0;
}

static int setup(void)
{
    const char *build = getenv("SM_BUILDDIR");
    char plug[PATH_MAX], sys[PATH_MAX], cmd[PATHLEN * 3], name[32];
    int i;

    if (!build || !realpath(getenv("SM_PLUGIN_DIR"), plug)
        || !realpath(getenv("SM_SYSTEM_PLUGIN_DIR"), sys))
        return tap_ok(0, "setup: SM_BUILDDIR, SM_PLUGIN_DIR, SM_SYSTEM_PLUGIN_DIR (make check "
                         "sets them)"), -1;
    if (make_dir(dir_ours, "ax-ours", -1, plug, sys) != 0)
        return -1;
    for (i = 0; i < N_MECHS; i++) {
        snprintf(name, sizeof(name), "ax-cyrus-%d", i);
        if (mechs[i].cyrus && make_dir(dir_cyrus[i], name, i, plug, sys) != 0)
            return -1;
    }
    /* OAuth: one RSA key in a JWKS file, a token for each user */
    snprintf(mint, sizeof(mint), "%s/tests/oauth/oauth_mint", build);
    snprintf(keys, sizeof(keys), "%s/ax-keys", hx.root);
    snprintf(jwks, sizeof(jwks), "%s/jwks.json", keys);
    snprintf(cmd, sizeof(cmd), "'%s' keygen --keys '%s' --key rsa:RS256 >/dev/null", mint, keys);
    if (!hx_system(cmd) || mint_token(&alice) != 0 || mint_token(&bob) != 0)
        return tap_ok(0, "setup: oauth_mint (%s) keygen or sign failed", mint), -1;
    /* GSSAPI: a KDC whose service principals include smtp/HX_FQDN, and a
     * ccache for each user */
    snprintf(kdcdir, sizeof(kdcdir), "%s/ax-kdc", hx.root);
    setenv("SM_KRB5_HOSTS", HX_FQDN, 1);
    if (hx_kdc_start(kdcdir) != 0)
        return tap_ok(0, "setup: tests/krb5/kdc.sh start %s failed (packages krb5-kdc, "
                         "krb5-admin-server, krb5-user: scripts/deps.sh)", kdcdir), -1;
    snprintf(alice.ccache, sizeof(alice.ccache), "FILE:%s/ccache", kdcdir);
    snprintf(bob.ccache, sizeof(bob.ccache), "FILE:%s/bob.cc", kdcdir);
    snprintf(cmd, sizeof(cmd), "kinit -k -t '%s/bob.keytab' -c '%s' %s >&2", kdcdir, bob.ccache,
             bob.name);
    if (!tap_ok(hx_system(cmd), "setup: a KDC for %s, tickets for %s and %s",
                getenv("SM_KRB5_REALM"), alice.name, bob.name))
        return -1;
    return 0;
}

static void cleanup(void)
{
    char cmd[PATHLEN * 2];

    if (kdcdir[0])
        hx_kdc_stop(kdcdir);
    if (hx.root[0]) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'/ax-*", hx.root);
        hx_system(cmd);
    }
}

int main(void)
{
    struct hx_init in = {0};
    static int cyrus_index[N_MECHS];
    char name[80];
    int i;

    if (hx_setup() != 0 || setup() != 0)
        goto out;
    in.server_opts = server_opts;
    in.server_path = in.client_path = dir_ours;
    hx_run("sasldb properties", &in, 2, store_row, NULL);
    hx_run("our N, then our M", &in, N_MECHS * (N_MECHS - 1), pair_row, NULL);
    for (i = 0; i < N_MECHS; i++) {
        if (!mechs[i].cyrus)
            continue;
        cyrus_index[i] = i;
        in.server_path = dir_cyrus[i];
        snprintf(name, sizeof(name), "Cyrus's %s, then our M", mechs[i].name);
        hx_run(name, &in, N_MECHS - 1, pair_row, &cyrus_index[i]);
    }
    in.server_path = dir_ours;
    hx_run("our N, then EXTERNAL", &in, N_MECHS, external_row, NULL);
out:
    cleanup();
    hx_cleanup();
    return tap_done();
}
