#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sasl/sasl.h>

#include "exchange.h"

#define REALM "bench.test"

static char root[256], sasldb[300], plugdir[400];
/* the credentials: BENCH_USER and BENCH_PASS change them (their lengths
 * move glibc's allocator onto other paths, for both sides) */
static const char *user = "benchuser";
static struct { unsigned long len; unsigned char data[256]; } pass = {14, "bench-Pa55word"};

const struct impl impls[2] = {{"ours", "libsaslmechs_"}, {"cyrus", "lib"}};

static const char *stem(const char *mech)
{
    return strcmp(mech, "CRAM-MD5") == 0 ? "crammd5" : strcmp(mech, "PLAIN") == 0 ? "plain"
         : strcmp(mech, "LOGIN") == 0 ? "login" : NULL;
}

/* ---- libsasl2 callbacks -------------------------------------------------- */
static int getpath(void *ctx, const char **path) { (void)ctx; *path = plugdir; return SASL_OK; }
static int getopt_cb(void *ctx, const char *plugin, const char *opt, const char **res, unsigned *len)
{
    (void)ctx; (void)plugin;
    if (!strcmp(opt, "sasldb_path")) *res = sasldb;
    else if (!strcmp(opt, "pwcheck_method")) *res = "auxprop";
    else if (!strcmp(opt, "auxprop_plugin")) *res = "sasldb";
    else return SASL_FAIL;
    if (len) *len = (unsigned)strlen(*res);
    return SASL_OK;
}
static int simple(void *ctx, int id, const char **res, unsigned *len)
{
    (void)ctx;
    *res = id == SASL_CB_USER ? "" : user;
    if (len) *len = (unsigned)strlen(*res);
    return SASL_OK;
}
static int secret(sasl_conn_t *c, void *ctx, int id, sasl_secret_t **out)
{
    (void)c; (void)ctx; (void)id;
    *out = (sasl_secret_t *)&pass;
    return SASL_OK;
}
typedef int (*cbfn)(void);
#define CB(f) ((cbfn)(void (*)(void))(f))
static const sasl_callback_t server_cbs[] = {
    {SASL_CB_GETPATH, CB(getpath), NULL}, {SASL_CB_GETOPT, CB(getopt_cb), NULL},
    {SASL_CB_LIST_END, NULL, NULL}};
static const sasl_callback_t client_cbs[] = {
    {SASL_CB_GETPATH, CB(getpath), NULL}, {SASL_CB_AUTHNAME, CB(simple), NULL},
    {SASL_CB_USER, CB(simple), NULL}, {SASL_CB_PASS, CB(secret), NULL},
    {SASL_CB_LIST_END, NULL, NULL}};

/* ---- one exchange, and the measured loop -------------------------------- */
void bx_exchange(const char *mech)
{
    sasl_conn_t *cc, *sc;
    const char *cout, *sout, *chosen;
    unsigned coutlen, soutlen;
    int cr, sr;

    if (sasl_client_new("smtp", "mx." REALM, NULL, NULL, NULL, 0, &cc) != SASL_OK
        || sasl_server_new("smtp", "mx." REALM, REALM, NULL, NULL, NULL, 0, &sc) != SASL_OK)
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
        fprintf(stderr, "bench: %s exchange failed: %s\n", mech, sasl_errdetail(sc));
        exit(2);
    }
    sasl_dispose(&cc);
    sasl_dispose(&sc);
}

void bx_init(const struct impl *im, const char *mech)
{
    snprintf(plugdir, sizeof(plugdir), "%s/%s-%s", root, im->name, stem(mech));
    if (sasl_server_init(server_cbs, "bench") != SASL_OK || sasl_client_init(client_cbs) != SASL_OK)
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
    if (u && *u)
        user = u;
    if (pw && *pw) {
        if (strlen(pw) >= sizeof(pass.data)) {
            fprintf(stderr, "bench: BENCH_PASS longer than %zu bytes\n", sizeof(pass.data) - 1);
            return -1;
        }
        pass.len = strlen(pw);
        memcpy(pass.data, pw, pass.len + 1);
    }
    /* they go through a shell command line in single quotes */
    if (strchr(user, '\'') || strchr((const char *)pass.data, '\'') || strlen(user) > 200) {
        fprintf(stderr, "bench: BENCH_USER or BENCH_PASS has a quote or is too long\n");
        return -1;
    }
    snprintf(root, sizeof(root), "/tmp/sasl-mechs-bench.XXXXXX");
    if (!mkdtemp(root))
        return -1;
    snprintf(sasldb, sizeof(sasldb), "%s/sasldb", root);
    snprintf(cmd, sizeof(cmd), "echo '%s' | saslpasswd2 -c -p -f %s -u %s '%s'", (const char *)pass.data,
             sasldb, REALM, user);
    if (system(cmd) != 0)
        return -1;
    for (i = 0; i < nmech; i++)
        for (k = 0; k < 2; k++) {
            if (!stem(mechs[i])) {
                fprintf(stderr, "bench: unknown mechanism %s\n", mechs[i]);
                return -1;
            }
            snprintf(cmd, sizeof(cmd),
                     "d=%s/%s-%s && mkdir -p $d && ln -s %s/%s%s.so $d/ && ln -s %s/libsasldb.so $d/",
                     root, impls[k].name, stem(mechs[i]), k ? sys : ours, impls[k].prefix,
                     stem(mechs[i]), sys);
            if (system(cmd) != 0)
                return -1;
        }
    return 0;
}

int bx_cleanup(void)
{
    char cmd[400];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    return system(cmd) == 0 ? 0 : -1;
}
