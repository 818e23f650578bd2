#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sasl/sasl.h>

#include "exchange.h"

#define MAX_OPTIONS 32
#define MAX_TOKEN 16384

static char root[256], sasldb[300], plugdir[400], confdir[300];
struct secret_buf { unsigned long len; unsigned char data[256]; };
/* the credentials of the shape bx_init set up; BENCH_USER and BENCH_PASS
 * replace both shapes' (their lengths move glibc's allocator onto other
 * paths, for both sides) */
static const char *user;
static struct secret_buf *pass;

const struct impl impls[2] = {{"ours", "libsaslmechs_"}, {"cyrus", "lib"}};

/* ---- the application shapes ------------------------------------------------ */
/* How the application hands libsasl2 its callbacks, names and options.
 *   global  every callback given once to sasl_server_init and
 *           sasl_client_init (GETPATH, GETOPT answering the options; the
 *           client's AUTHNAME, USER giving "" and PASS), service smtp,
 *           server FQDN mx.bench.test, user realm bench.test
 *   conn    as a new user writes it: GETPATH and LOG global, the options in
 *           the application's bench.conf (found through SASL_CONF_PATH),
 *           AUTHNAME, USER (the same name) and PASS given to
 *           sasl_client_new, service rcmd, server FQDN vm, the realm the
 *           FQDN (no user realm), user alice, password secret */
struct shape {
    const char *name, *service, *fqdn, *user_realm, *realm, *user;
    struct secret_buf pass;
};
static struct shape shapes[] = {
    {"global", "smtp", "mx.bench.test", "bench.test", "bench.test", "benchuser", {14, "bench-Pa55word"}},
    {"conn", "rcmd", "vm", NULL, "vm", "alice", {6, "secret"}},
};
static struct shape *sh = &shapes[0];

int bx_set_shape(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
        if (strcmp(shapes[i].name, name) == 0) {
            sh = &shapes[i];
            return 0;
        }
    fprintf(stderr, "bench: unknown application shape %s (global or conn)\n", name);
    return -1;
}

const char *bx_shape_name(void)
{
    return sh->name;
}

/* ---- the cases ------------------------------------------------------------ */
enum mode { NO_OAUTH, RS256, RS256_CACHED, INTROSPECT, JWKSURL, N_MODES };
static const char *const mode_name[N_MODES] = {NULL, "RS256", "RS256_CACHED", "INTROSPECT",
                                               "JWKSURL"};
/* the bounds on the ratio to our PLAIN (issue 7; a cached JWT as a
 * warm introspection cache, issue 17) */
static const double mode_bound[N_MODES] = {0, 1.3, 1.1, 1.1, 0};

struct bcase { const char *name, *mech, *stem; enum mode mode; };
static const struct bcase cases[] = {
    {"PLAIN", "PLAIN", "plain", NO_OAUTH},
    {"LOGIN", "LOGIN", "login", NO_OAUTH},
    {"CRAM-MD5", "CRAM-MD5", "crammd5", NO_OAUTH},
    {"NTLM", "NTLM", "ntlm", NO_OAUTH},
    {"XOAUTH2-RS256", "XOAUTH2", "xoauth2", RS256},
    {"XOAUTH2-RS256-CACHED", "XOAUTH2", "xoauth2", RS256_CACHED},
    {"XOAUTH2-INTROSPECT", "XOAUTH2", "xoauth2", INTROSPECT},
    {"OAUTHBEARER-RS256", "OAUTHBEARER", "oauthbearer", RS256},
    {"OAUTHBEARER-RS256-CACHED", "OAUTHBEARER", "oauthbearer", RS256_CACHED},
    {"OAUTHBEARER-INTROSPECT", "OAUTHBEARER", "oauthbearer", INTROSPECT},
    {"XOAUTH2-JWKSURL", "XOAUTH2", "xoauth2", JWKSURL},
    {"OAUTHBEARER-JWKSURL", "OAUTHBEARER", "oauthbearer", JWKSURL},
};
static const struct bcase *cur; /* the case bx_init set up */

/* an OAuth mode's server options (from BENCH_OAUTH_<MODE>_OPTIONS) and
 * token (BENCH_OAUTH_<MODE>_TOKEN, the client's password) */
static struct {
    char *buf;
    const char *name[MAX_OPTIONS], *value[MAX_OPTIONS];
    int n;
    struct { unsigned long len; unsigned char data[MAX_TOKEN]; } token;
} oauth[N_MODES];

static const struct bcase *find(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (strcmp(cases[i].name, name) == 0)
            return &cases[i];
    return NULL;
}

int bx_ours_only(const char *name)
{
    const struct bcase *c = find(name);

    return c ? c->mode != NO_OAUTH : -1;
}

double bx_bound(const char *name)
{
    const struct bcase *c = find(name);

    return c ? mode_bound[c->mode] : 0;
}

/* Read BENCH_OAUTH_<MODE>_OPTIONS and _TOKEN once; 0 or -1 (said why). */
static int load_mode(enum mode m)
{
    char var[64], *line, *save = NULL, *eq;
    const char *opts, *tok;
    size_t len;

    if (oauth[m].buf)
        return 0;
    snprintf(var, sizeof(var), "BENCH_OAUTH_%s_OPTIONS", mode_name[m]);
    opts = getenv(var);
    snprintf(var, sizeof(var), "BENCH_OAUTH_%s_TOKEN", mode_name[m]);
    tok = getenv(var);
    if (!opts || !*opts || !tok || !*tok) {
        fprintf(stderr, "bench: the %s cases need BENCH_OAUTH_%s_OPTIONS and BENCH_OAUTH_%s_TOKEN "
                "(tests/bench/run.sh sets them)\n", mode_name[m], mode_name[m], mode_name[m]);
        return -1;
    }
    len = strlen(tok);
    while (len && (tok[len - 1] == '\n' || tok[len - 1] == '\r'))
        len--;
    if (len >= MAX_TOKEN) {
        fprintf(stderr, "bench: BENCH_OAUTH_%s_TOKEN is longer than %d bytes\n", mode_name[m],
                MAX_TOKEN - 1);
        return -1;
    }
    memcpy(oauth[m].token.data, tok, len);
    oauth[m].token.data[len] = '\0';
    oauth[m].token.len = len;
    if (!(oauth[m].buf = strdup(opts)))
        return -1;
    for (line = strtok_r(oauth[m].buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (!*line)
            continue;
        if (!(eq = strchr(line, '=')) || eq == line || oauth[m].n == MAX_OPTIONS) {
            fprintf(stderr, "bench: BENCH_OAUTH_%s_OPTIONS: \"%s\" is not name=value "
                    "(or more than %d options)\n", mode_name[m], line, MAX_OPTIONS);
            return -1;
        }
        *eq = '\0';
        oauth[m].name[oauth[m].n] = line;
        oauth[m].value[oauth[m].n++] = eq + 1;
    }
    return 0;
}

/* ---- libsasl2 callbacks -------------------------------------------------- */
static int getpath(void *ctx, const char **path) { (void)ctx; *path = plugdir; return SASL_OK; }
static int getopt_cb(void *ctx, const char *plugin, const char *opt, const char **res, unsigned *len)
{
    (void)ctx; (void)plugin;
    if (!strcmp(opt, "sasldb_path")) *res = sasldb;
    else if (!strcmp(opt, "pwcheck_method")) *res = "auxprop";
    else if (!strcmp(opt, "auxprop_plugin")) *res = "sasldb";
    else {
        int i;
        /* only the OAuth plugins' options (oauth_..., xoauth2_..., oauthbearer_...) */
        if (!cur || cur->mode == NO_OAUTH || (opt[0] != 'o' && opt[0] != 'x'))
            return SASL_FAIL;
        for (i = 0; i < oauth[cur->mode].n && strcmp(oauth[cur->mode].name[i], opt); i++)
            ;
        if (i == oauth[cur->mode].n)
            return SASL_FAIL;
        *res = oauth[cur->mode].value[i];
    }
    if (len) *len = (unsigned)strlen(*res);
    return SASL_OK;
}
/* SASL_CB_USER: none ("") in the global shape, the user's own name in conn */
static int simple(void *ctx, int id, const char **res, unsigned *len)
{
    (void)ctx;
    *res = id == SASL_CB_USER && sh == &shapes[0] ? "" : user;
    if (len) *len = (unsigned)strlen(*res);
    return SASL_OK;
}
static int secret(sasl_conn_t *c, void *ctx, int id, sasl_secret_t **out)
{
    (void)c; (void)ctx; (void)id;
    /* an OAuth case's password is its token */
    *out = cur && cur->mode != NO_OAUTH ? (sasl_secret_t *)&oauth[cur->mode].token
                                        : (sasl_secret_t *)pass;
    return SASL_OK;
}
static int log_cb(void *ctx, int level, const char *msg)
{
    (void)ctx; (void)level; (void)msg;
    return SASL_OK;
}
typedef int (*cbfn)(void);
#define CB(f) ((cbfn)(void (*)(void))(f))
/* the global shape: everything at initialisation */
static const sasl_callback_t server_cbs[] = {
    {SASL_CB_GETPATH, CB(getpath), NULL}, {SASL_CB_GETOPT, CB(getopt_cb), NULL},
    {SASL_CB_LIST_END, NULL, NULL}};
static const sasl_callback_t client_cbs[] = {
    {SASL_CB_GETPATH, CB(getpath), NULL}, {SASL_CB_AUTHNAME, CB(simple), NULL},
    {SASL_CB_USER, CB(simple), NULL}, {SASL_CB_PASS, CB(secret), NULL},
    {SASL_CB_LIST_END, NULL, NULL}};
/* the conn shape: path and log at initialisation, credentials per connection */
static const sasl_callback_t conn_global_cbs[] = {
    {SASL_CB_GETPATH, CB(getpath), NULL}, {SASL_CB_LOG, CB(log_cb), NULL},
    {SASL_CB_LIST_END, NULL, NULL}};
static const sasl_callback_t conn_client_cbs[] = {
    {SASL_CB_AUTHNAME, CB(simple), NULL}, {SASL_CB_USER, CB(simple), NULL},
    {SASL_CB_PASS, CB(secret), NULL}, {SASL_CB_LIST_END, NULL, NULL}};

/* ---- one exchange, and the measured loop -------------------------------- */
void bx_exchange(const char *name)
{
    const char *mech;
    sasl_conn_t *cc, *sc;
    const char *cout, *sout, *chosen;
    unsigned coutlen, soutlen;
    int cr, sr;

    if (!cur || strcmp(name, cur->name) != 0) {
        fprintf(stderr, "bench: %s was not set up by bx_init\n", name);
        exit(2);
    }
    mech = cur->mech;
    if (sasl_client_new(sh->service, sh->fqdn, NULL, NULL, sh == &shapes[0] ? NULL : conn_client_cbs,
                        0, &cc) != SASL_OK
        || sasl_server_new(sh->service, sh->fqdn, sh->user_realm, NULL, NULL, NULL, 0, &sc) != SASL_OK)
        abort();
    cr = sasl_client_start(cc, mech, NULL, &cout, &coutlen, &chosen);
    sr = sasl_server_start(sc, mech, cout, coutlen, &sout, &soutlen);
    while (sr == SASL_CONTINUE) {
        cr = sasl_client_step(cc, sout, soutlen, NULL, &cout, &coutlen);
        if (cr != SASL_OK && cr != SASL_CONTINUE)
            break;
        sr = sasl_server_step(sc, cout, coutlen, &sout, &soutlen);
    }
    if (sr != SASL_OK) {
        fprintf(stderr, "bench: %s exchange failed: %s\n", name, sasl_errdetail(sc));
        exit(2);
    }
    sasl_dispose(&cc);
    sasl_dispose(&sc);
}

void bx_init(const struct impl *im, const char *name)
{
    if (!(cur = find(name)) || (cur->mode != NO_OAUTH && im != &impls[0])) {
        fprintf(stderr, "bench: no %s case %s\n", im->name, name);
        exit(2);
    }
    if (sh != &shapes[0] && cur->mode != NO_OAUTH) {
        fprintf(stderr, "bench: the %s shape has no OAuth cases\n", sh->name);
        exit(2);
    }
    snprintf(plugdir, sizeof(plugdir), "%s/%s-%s", root, im->name, cur->stem);
    user = sh->user;
    pass = &sh->pass;
    if (sh == &shapes[0]) {
        if (sasl_server_init(server_cbs, "bench") != SASL_OK || sasl_client_init(client_cbs) != SASL_OK)
            abort();
    } else if (setenv("SASL_CONF_PATH", confdir, 1) != 0 || sasl_server_init(conn_global_cbs, "bench") != SASL_OK
               || sasl_client_init(conn_global_cbs) != SASL_OK)
        abort();
}

int bx_setup(int nmech, char **mechs)
{
    const char *ours = getenv("SM_PLUGIN_DIR"), *sys = getenv("SM_SYSTEM_PLUGIN_DIR");
    const char *u = getenv("BENCH_USER"), *pw = getenv("BENCH_PASS");
    char cmd[1024];
    int i, k;

    if (!ours || !sys) {
        fprintf(stderr, "bench: set SM_PLUGIN_DIR and SM_SYSTEM_PLUGIN_DIR\n");
        return -1;
    }
    if (pw && *pw && strlen(pw) >= sizeof(shapes[0].pass.data)) {
        fprintf(stderr, "bench: BENCH_PASS longer than %zu bytes\n", sizeof(shapes[0].pass.data) - 1);
        return -1;
    }
    for (k = 0; k < (int)(sizeof(shapes) / sizeof(shapes[0])); k++) {
        if (u && *u)
            shapes[k].user = u;
        if (pw && *pw) {
            shapes[k].pass.len = strlen(pw);
            memcpy(shapes[k].pass.data, pw, shapes[k].pass.len + 1);
        }
    }
    /* they go through a shell command line in single quotes */
    if ((u && (strchr(u, '\'') || strlen(u) > 200)) || (pw && strchr(pw, '\''))) {
        fprintf(stderr, "bench: BENCH_USER or BENCH_PASS has a quote or is too long\n");
        return -1;
    }
    for (i = 0; i < nmech; i++) {
        const struct bcase *c = find(mechs[i]);
        if (!c) {
            fprintf(stderr, "bench: unknown case %s (PLAIN, LOGIN, CRAM-MD5, or XOAUTH2- or "
                    "OAUTHBEARER- and RS256, RS256-CACHED or INTROSPECT)\n", mechs[i]);
            return -1;
        }
        if (c->mode != NO_OAUTH) {
            snprintf(cmd, sizeof(cmd), "%s/libsaslmechs_%s.so", ours, c->stem);
            if (access(cmd, R_OK) != 0) {
                fprintf(stderr, "bench: %s: no %s (not built in this configuration?)\n",
                        mechs[i], cmd);
                return -1;
            }
            if (load_mode(c->mode) != 0)
                return -1;
        }
    }
    snprintf(root, sizeof(root), "/tmp/sasl-mechs-bench.XXXXXX");
    if (!mkdtemp(root))
        return -1;
    snprintf(sasldb, sizeof(sasldb), "%s/sasldb", root);
    /* each shape's user in its realm, and the conn shape's bench.conf */
    for (k = 0; k < (int)(sizeof(shapes) / sizeof(shapes[0])); k++) {
        snprintf(cmd, sizeof(cmd), "echo '%s' | saslpasswd2 -c -p -f %s -u %s '%s'",
                 (const char *)shapes[k].pass.data, sasldb, shapes[k].realm, shapes[k].user);
        if (system(cmd) != 0)
            return -1;
    }
    snprintf(confdir, sizeof(confdir), "%s/conf", root);
    snprintf(cmd, sizeof(cmd), "mkdir %s && echo 'sasldb_path: %s' >%s/bench.conf", confdir, sasldb,
             confdir);
    if (system(cmd) != 0)
        return -1;
    /* a folder per implementation and plugin file; an OAuth case has ours
     * only, and our PLAIN as its baseline */
    for (i = 0; i <= nmech; i++) {
        const struct bcase *c = i < nmech ? find(mechs[i]) : find("PLAIN");
        for (k = 0; k < (c->mode == NO_OAUTH ? 2 : 1); k++) {
            snprintf(cmd, sizeof(cmd),
                     "d=%s/%s-%s && mkdir -p $d && ln -sf %s/%s%s.so $d/ && ln -sf %s/libsasldb.so $d/",
                     root, impls[k].name, c->stem, k ? sys : ours, impls[k].prefix, c->stem, sys);
            if (system(cmd) != 0)
                return -1;
        }
    }
    return 0;
}

int bx_cleanup(void)
{
    char cmd[400];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    return system(cmd) == 0 ? 0 : -1;
}
