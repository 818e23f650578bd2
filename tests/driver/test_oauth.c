/* XOAUTH2 and OAUTHBEARER through libsasl2: our client against our server,
 * tokens signed at test time (tests/oauth/oauth_mint: RSA, EC P-256 and
 * Ed25519 keys, a JWKS file), for each mechanism: valid tokens; the error
 * challenge and the client's reply for an expired token, a wrong issuer or
 * audience, a missing scope, alg none and HS256 keyed with the RSA public
 * key; identities (the token's user against the one the client names, the
 * proxy policy); the token file; a server without configuration offers
 * neither mechanism; malformed client messages.  Against the loopback OAuth
 * server (tests/oauth/oauth_server.py): keys from a JWKS URL, refetched once
 * for a rotated key; RFC 7662 introspection (active, revoked, cached, the
 * endpoint down: a temporary error), and shared through a real memcached
 * started here (an answer shared by two processes; the cache server down:
 * still authenticated, said once; the bound on requests reached: a
 * temporary failure).  No token is ever in an
 * errdetail or a log line.  Each case runs in its own forked child. */
#include "config.h"
#include "harness.h"
#include "../unit/memcached_testserver.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ISSUER "https://issuer.sm-driver.test"
#define AUDIENCE "smtp"
#define SCOPE "mail"
#define ALICE "alice@example.test"
#define BOB "bob@example.test"
#define TOKEN_MAX 4096

/* hx.root is short (256 bytes): these fit */
#define PATHLEN 512
static char mint[PATHLEN], keys[PATHLEN], jwks[PATHLEN + 16], oauthdir[PATHLEN];
static char pubkey[PATHLEN], tokenfile[PATHLEN];

static const char *const mechs[] = {"XOAUTH2", "OAUTHBEARER"};

/* ---- tokens ------------------------------------------------------------------- */

struct token_spec {
    const char *name;
    const char *kid;
    const char *alg;        /* NULL: the key's own */
    const char *claims;     /* JSON with %s for iss, aud, user; exp etc. added below */
    const char *user;
    long exp_offset;        /* exp = now + this */
    const char *extra;      /* more mint arguments, or NULL */
};

/* Mint a token into out (TOKEN_MAX bytes); 0 on success. */
static int mint_token(const struct token_spec *t, char *out)
{
    char claims[1024], cmd[TOKEN_MAX + PATHLEN * 3];
    time_t now = time(NULL);
    FILE *p;
    size_t n;

    snprintf(claims, sizeof(claims),
             "{\"iss\":\"%s\",\"aud\":\"%s\",\"email\":\"%s\",\"email_verified\":%s,"
             "\"scope\":\"%s\",\"iat\":%ld,\"exp\":%ld}",
             strstr(t->name, "issuer") ? "https://evil.test" : ISSUER,
             strstr(t->name, "audience") ? "imap" : AUDIENCE, t->user,
             strstr(t->name, "unverified") ? "false" : "true",
             strstr(t->name, "scope") ? "profile" : SCOPE "  profile",
             (long)now - 10, (long)now + t->exp_offset);
    snprintf(cmd, sizeof(cmd), "'%s' sign --keys '%s' --kid %s %s%s --claims '%s' %s", mint, keys,
             t->kid, t->alg ? "--alg " : "", t->alg ? t->alg : "", claims,
             t->extra ? t->extra : "");
    if (!(p = popen(cmd, "r")))
        return -1;
    n = fread(out, 1, TOKEN_MAX - 1, p);
    if (pclose(p) != 0 || n == 0)
        return -1;
    while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        n--;
    out[n] = '\0';
    return 0;
}

static const char *const server_opts[] = {
    "oauth_issuers", ISSUER, "oauth_audiences", AUDIENCE, "oauth_required_scopes", SCOPE,
    "oauth_jwks_file", jwks, "oauth_user_claim", "email", NULL};

static int no_token_leak(const char *what, const struct hx_outcome *o, const char *token)
{
    /* a token is long; any 16 bytes of its signature would be a leak */
    const char *sig = strrchr(token, '.');
    char probe[17];

    memcpy(probe, sig && strlen(sig) > 16 ? sig + 1 : token, 16);
    probe[16] = '\0';
    return tap_ok(!strstr(o->server_err, probe) && !strstr(o->client_err, probe)
                      && !hx_log_contains(probe),
                  "%s: the token is in no errdetail and no log line", what);
}

/* The server's failure, as its errdetail words it after libsasl2's
 * "SASL(n): <code text>: " prefix, reaches the application's log once:
 * logged by the plugin or by libsasl2's seterror, not by both. */
static int logged_once(const char *what, const struct hx_outcome *o)
{
    const char *p = strstr(o->server_err, "): ");
    char needle[49];
    int n;

    p = p ? strstr(p + 3, ": ") : NULL;
    p = p ? p + 2 : o->server_err;
    memcpy(needle, p, strnlen(p, sizeof(needle) - 1));
    needle[strnlen(p, sizeof(needle) - 1)] = '\0';
    n = hx_log_count(needle);
    if (!tap_ok(needle[0] && n == 1, "%s: the server's failure is logged once", what))
        tap_diag("\"%s\" logged %d times", needle, n);
    return n == 1;
}

static void show(const struct hx_outcome *o)
{
    tap_diag("server %s, client %s, user \"%s\", authuser \"%s\", challenge \"%s\"",
             hx_code(o->server_rc), hx_code(o->client_rc), o->username, o->authuser, o->challenge);
    tap_diag("errdetail: server \"%s\", client \"%s\"", o->server_err, o->client_err);
}

/* ---- valid and refused tokens ------------------------------------------------- */

struct token_case {
    struct token_spec t;
    int ok;                 /* 1: authenticates */
    const char *status;     /* else the status in the error challenge */
};

static const struct token_case token_cases[] = {
    {{"RS256", "rsa", NULL, NULL, ALICE, 600, NULL}, 1, NULL},
    {{"ES256", "ec256", NULL, NULL, ALICE, 600, NULL}, 1, NULL},
    {{"EdDSA", "ed25519", NULL, NULL, ALICE, 600, NULL}, 1, NULL},
    {{"expired", "rsa", NULL, NULL, ALICE, -3600, NULL}, 0, "invalid_token"},
    {{"wrong issuer", "rsa", NULL, NULL, ALICE, 600, NULL}, 0, "invalid_token"},
    {{"wrong audience", "rsa", NULL, NULL, ALICE, 600, NULL}, 0, "invalid_token"},
    {{"missing scope", "rsa", NULL, NULL, ALICE, 600, NULL}, 0, "insufficient_scope"},
    {{"unverified email", "rsa", NULL, NULL, ALICE, 600, NULL}, 0, "invalid_token"},
    {{"alg none", "rsa", "none", NULL, ALICE, 600, NULL}, 0, "invalid_token"},
    {{"HS256 keyed with the RSA public key", "rsa", "HS256", NULL, ALICE, 600, "--secret-file PUBKEY"},
     0, "invalid_token"},
    {{"RSA kid, PS256 header", "rsa", "PS256", NULL, ALICE, 600, NULL}, 0, "invalid_token"},
};
#define N_TOKEN_CASES ((int)(sizeof(token_cases) / sizeof(token_cases[0])))

static void token_row(int row, void *arg)
{
    const struct token_case *tc = &token_cases[row / 2];
    const char *mech = mechs[row % 2];
    struct token_spec t = tc->t;
    char token[TOKEN_MAX], extra[PATHLEN + 32], what[160];
    struct hx_client c = {.authname = ALICE, .password = token};
    struct hx_outcome o;
    int ok;

    (void)arg;
    snprintf(what, sizeof(what), "%s %s token", mech, t.name);
    hx_row_name("%s", what);
    if (t.extra && strstr(t.extra, "PUBKEY")) {
        snprintf(extra, sizeof(extra), "--secret-file '%s'", pubkey);
        t.extra = extra;
    }
    if (mint_token(&t, token) != 0) {
        tap_ok(0, "%s: oauth_mint failed", what);
        return;
    }
    hx_exchange(mech, &c, NULL, &o);
    if (tc->ok)
        ok = tap_ok(o.server_rc == SASL_OK && o.client_rc == SASL_OK
                        && strcmp(o.username, ALICE) == 0,
                    "%s: SASL_OK on both sides, SASL_USERNAME %s", what, ALICE);
    else
        ok = tap_ok(o.server_rc == SASL_BADAUTH && strstr(o.challenge, tc->status)
                        && strstr(o.client_err, tc->status) && !o.username[0],
                    "%s: error challenge \"%s\", the client answers, then SASL_BADAUTH; "
                    "the client's errdetail names the status", what, tc->status);
    if (!ok)
        show(&o);
    if (!tc->ok)
        logged_once(what, &o);
    no_token_leak(what, &o, token);
}

/* ---- identities ----------------------------------------------------------------- */

static void identity_row(int row, void *arg)
{
    const char *mech = mechs[row % 2];
    struct token_spec t = {"RS256", "rsa", NULL, NULL, BOB, 600, NULL};
    char token[TOKEN_MAX];
    struct hx_client c = {.authname = ALICE, .password = token};
    struct hx_server allow = {.proxy_allow = ALICE};
    struct hx_outcome o;
    int ok;

    (void)arg;
    if (mint_token(&t, token) != 0) {
        tap_ok(0, "%s: oauth_mint failed", mech);
        return;
    }
    if (row < 2) {
        hx_row_name("%s: token of another user", mech);
        hx_exchange(mech, &c, NULL, &o);
        ok = tap_ok(hx_is_error(o.server_rc) && !o.username[0],
                    "%s: a token for %s presented as %s is refused (%s)", mech, BOB, ALICE,
                    hx_code(o.server_rc));
    } else {
        hx_row_name("%s: token of another user, proxy policy allows", mech);
        hx_exchange(mech, &c, &allow, &o);
        ok = tap_ok(o.server_rc == SASL_OK && strcmp(o.username, ALICE) == 0
                        && strcmp(o.authuser, BOB) == 0,
                    "%s: with a proxy policy that lets %s act as %s: SASL_USERNAME %s, "
                    "SASL_AUTHUSER %s", mech, BOB, ALICE, ALICE, BOB);
    }
    if (!ok)
        show(&o);
}

/* ---- the token file ----------------------------------------------------------------- */

static void tokenfile_row(int row, void *arg)
{
    const char *mech = mechs[row % 2];
    struct token_spec t = {"RS256", "rsa", NULL, NULL, ALICE, 3600, NULL};
    char token[TOKEN_MAX], pass[PATHLEN + 16];
    struct hx_client c = {.authname = ALICE, .password = pass};
    struct hx_outcome o;
    FILE *f;
    int ok;

    (void)arg;
    hx_row_name("%s: token file (case %d)", mech, row / 2);
    if (mint_token(&t, token) != 0 || !(f = fopen(tokenfile, "w"))) {
        tap_ok(0, "%s: cannot write the token file", mech);
        return;
    }
    fprintf(f, "{\"access_token\":\"%s\",\"expires_at\":%ld}\n", token, (long)time(NULL) + 3600);
    fclose(f);
    chmod(tokenfile, 0600);
    snprintf(pass, sizeof(pass), "tokenfile:%s", tokenfile);
    if (row < 2) {
        hx_exchange(mech, &c, NULL, &o);
        ok = tap_ok(o.server_rc == SASL_OK && strcmp(o.username, ALICE) == 0,
                    "%s: the password \"tokenfile:PATH\" sends the token the file holds", mech);
    } else {
        /* a file of another user, or a relative path: whoever writes the
         * password must not pick a file the client happens to be able to read */
        if (row < 4 && geteuid() != 0) /* a readable file of another user */
            snprintf(pass, sizeof(pass), "tokenfile:%s", "/etc/passwd");
        else if (row < 4 && chown(tokenfile, 65534, 65534) != 0)
            tap_diag("chown: %s", strerror(errno));
        if (row >= 4)
            snprintf(pass, sizeof(pass), "tokenfile:%s", "token.json");
        hx_exchange(mech, &c, NULL, &o);
        ok = tap_ok(o.client_rc == SASL_BADPARAM && o.server_rc != SASL_OK,
                    "%s: a \"tokenfile:\" password naming %s is refused by the client", mech,
                    row < 4 ? "another user's file" : "a relative path");
    }
    if (!ok)
        show(&o);
    unlink(tokenfile);
}

/* ---- malformed messages ----------------------------------------------------------- */

struct bad_msg {
    const char *mech;
    const char *desc;
    struct hx_msg msg;
};

static const struct bad_msg bad_msgs[] = {
    {"XOAUTH2", "no separators", HX_MSG("user=alice auth=Bearer abc")},
    {"XOAUTH2", "scheme Basic", HX_MSG("user=" ALICE "\1auth=Basic abc\1\1")},
    {"XOAUTH2", "empty user", HX_MSG("user=\1auth=Bearer abc\1\1")},
    {"XOAUTH2", "NUL in the token", HX_MSG("user=" ALICE "\1auth=Bearer ab\0c\1\1")},
    {"XOAUTH2", "trailing data", HX_MSG("user=" ALICE "\1auth=Bearer abc\1\1x")},
    {"OAUTHBEARER", "channel binding p=", HX_MSG("p=tls-unique,,\1auth=Bearer abc\1\1")},
    {"OAUTHBEARER", "no GS2 header", HX_MSG("\1auth=Bearer abc\1\1")},
    {"OAUTHBEARER", "duplicate auth", HX_MSG("n,,\1auth=Bearer abc\1auth=Bearer def\1\1")},
    {"OAUTHBEARER", "CR in the token", HX_MSG("n,,\1auth=Bearer ab\rc\1\1")},
    {"OAUTHBEARER", "bad authzid escape", HX_MSG("n,a=al=2Xice,\1auth=Bearer abc\1\1")},
    {"OAUTHBEARER", "no final kvsep", HX_MSG("n,,\1auth=Bearer abc\1")},
};
#define N_BAD ((int)(sizeof(bad_msgs) / sizeof(bad_msgs[0])))

static void bad_row(int row, void *arg)
{
    const struct bad_msg *b = &bad_msgs[row];
    struct hx_msgs m = {&b->msg, 1};
    struct hx_script r;

    (void)arg;
    hx_row_name("%s server: %s", b->mech, b->desc);
    hx_server_script(b->mech, hx_reply_list, &m, &r);
    if (!tap_ok(r.rc[0] == SASL_BADPROT && !r.ever_ok && hx_has_detail(r.rc[0], r.err),
                "%s server: %s: SASL_BADPROT with an errdetail", b->mech, b->desc))
        tap_diag("%s, errdetail \"%s\"", hx_code(r.rc[0]), r.err);
}

/* hx_reply_list, keeping the server's first challenge. */
static char first_challenge[1024];
static int keep_challenge(void *arg, int step, const char *chal, unsigned chal_len, char **msg,
                          unsigned *msg_len)
{
    if (step == 1)
        snprintf(first_challenge, sizeof(first_challenge), "%.*s", (int)chal_len, chal);
    return hx_reply_list(arg, step, chal, chal_len, msg, msg_len);
}

/* RFC 7628 4.3: an empty auth= asks for the server's requirements. */
static void discovery_row(int row, void *arg)
{
    static const struct hx_msg xo[] = {HX_MSG("user=" ALICE "\1auth=\1\1"), HX_MSG("")};
    static const struct hx_msg ob[] = {HX_MSG("n,a=" ALICE ",\1auth=\1\1"), HX_MSG("\1")};
    const char *mech = mechs[row];
    struct hx_msgs m = {row ? ob : xo, 2};
    struct hx_script r;

    (void)arg;
    hx_row_name("%s server: empty auth=", mech);
    first_challenge[0] = '\0';
    hx_server_script(mech, keep_challenge, &m, &r);
    if (!tap_ok(r.steps == 2 && r.rc[0] == SASL_CONTINUE && strstr(first_challenge, "invalid_token")
                    && strstr(first_challenge, SCOPE) && r.rc[1] == SASL_BADAUTH,
                "%s server: an empty auth= gets the error challenge naming the scope, then "
                "SASL_BADAUTH after the reply", mech))
        tap_diag("steps %d: %s then %s, challenge \"%s\"", r.steps, hx_code(r.rc[0]),
                 hx_code(r.rc[1]), first_challenge);
}

/* libsasl2's contract: a client that says SASL_OK is done, and an
 * application may then treat whatever the server says next as no longer the
 * mechanism's business (libldap sent the reply to the error challenge as a
 * simple bind, which slapd took for an anonymous one).  Our client is
 * therefore not done after its initial message: the server's success with
 * no data completes it; the error challenge gets the reply, still
 * SASL_CONTINUE, and the server's failure ends it. */
static void contract_row(int row, void *arg)
{
    static const struct hx_msg success[] = {{NULL, 0, 0}};
    static const struct hx_msg empty[] = {HX_MSG("")};
    static const struct hx_msg refused[] = {
        HX_MSG("{\"status\":\"invalid_token\",\"scope\":\"mail\"}")};
    static const struct hx_msg spoke[] = {HX_MSG("hello")};
    const char *mech = mechs[row % 2];
    struct hx_client c = {.authname = ALICE, .password = "a.b.c"};
    struct hx_script r;

    (void)arg;
    switch (row / 2) {
    case 0:
        hx_row_name("%s client: success without data", mech);
        hx_client_script(mech, &c, success, 1, &r);
        if (!tap_ok(r.steps == 2 && r.rc[0] == SASL_CONTINUE && r.rc[1] == SASL_OK
                        && r.outlen == 0,
                    "%s client: SASL_CONTINUE after its initial message, SASL_OK (nothing "
                    "to send) on the server's success without data", mech))
            tap_diag("steps %d: %s then %s", r.steps, hx_code(r.rc[0]), hx_code(r.rc[1]));
        break;
    case 1:
        hx_row_name("%s client: success with empty data", mech);
        hx_client_script(mech, &c, empty, 1, &r);
        if (!tap_ok(r.steps == 2 && r.rc[0] == SASL_CONTINUE && r.rc[1] == SASL_OK,
                    "%s client: SASL_OK on the server's success with empty data", mech))
            tap_diag("steps %d: %s then %s", r.steps, hx_code(r.rc[0]), hx_code(r.rc[1]));
        break;
    case 2:
        hx_row_name("%s client: error challenge", mech);
        hx_client_script(mech, &c, refused, 1, &r);
        if (!tap_ok(r.steps == 2 && r.rc[0] == SASL_CONTINUE && r.rc[1] == SASL_CONTINUE
                        && r.outlen == (row % 2 ? 1u : 0u) && !r.ever_ok,
                    "%s client: the error challenge gets the reply (%s) and SASL_CONTINUE, "
                    "never SASL_OK: the server's failure ends the exchange", mech,
                    row % 2 ? "%x01" : "empty"))
            tap_diag("steps %d: %s then %s, reply %u bytes", r.steps, hx_code(r.rc[0]),
                     hx_code(r.rc[1]), r.outlen);
        break;
    default:
        /* no initial response: the server's first challenge must be empty */
        hx_row_name("%s client: the server speaks first", mech);
        c.no_initial = 1;
        hx_client_script(mech, &c, spoke, 1, &r);
        if (!tap_ok(r.steps == 2 && r.rc[0] == SASL_CONTINUE && r.rc[1] == SASL_BADPROT
                        && strstr(r.err, "the server spoke first") && !r.ever_ok,
                    "%s client: a first challenge that is not empty is refused (SASL_BADPROT)",
                    mech))
            tap_diag("steps %d: %s then %s: %s", r.steps, hx_code(r.rc[0]), hx_code(r.rc[1]),
                     r.err);
        break;
    }
}

static void unconfigured_row(int row, void *arg)
{
    char list[512];

    (void)row; (void)arg;
    hx_row_name("unconfigured server");
    hx_listmech(0, list, sizeof(list));
    if (!tap_ok(!strstr(list, "XOAUTH2") && !strstr(list, "OAUTHBEARER"),
                "a server without oauth_* options offers neither XOAUTH2 nor OAUTHBEARER"))
        tap_diag("offered: %s", list);
}

/* ---- the loopback OAuth server ------------------------------------------------------ */

static pid_t server_pid;
static int server_port;
static char secretfile[PATHLEN];

static int start_server(void)
{
    const char *src = getenv("SM_SRCDIR");
    char script[PATH_MAX], portfile[PATHLEN + 16], buf[32];
    FILE *f;
    int i;

    snprintf(script, sizeof(script), "%s/tests/oauth/oauth_server.py", src ? src : ".");
    snprintf(portfile, sizeof(portfile), "%s/oauth-port", hx.root);
    if ((server_pid = fork()) < 0)
        return -1;
    if (server_pid == 0) {
        execlp("python3", "python3", script, "--mint", mint, "--keys", keys, "--port", "0",
               "--port-file", portfile, "--lifetime", "600", "--audience", AUDIENCE,
               "--scope", SCOPE, (char *)NULL);
        _exit(127);
    }
    for (i = 0; i < 200; i++) { /* 20 s */
        if ((f = fopen(portfile, "r"))) {
            server_port = fgets(buf, sizeof(buf), f) ? atoi(buf) : 0;
            fclose(f);
            if (server_port > 0)
                return 0;
        }
        usleep(100000);
    }
    return -1;
}

static void stop_server(void)
{
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
    }
    server_pid = 0;
}

/* POST body to the server's path; its answer's "access_token" into token. */
static int server_token(const char *path, const char *body, char *token)
{
    char cmd[1024], out[TOKEN_MAX + 256], *p, *e;
    FILE *f;
    size_t n;

    snprintf(cmd, sizeof(cmd), "curl -s -m 20 -X POST -d '%s' http://127.0.0.1:%d%s", body,
             server_port, path);
    if (!(f = popen(cmd, "r")))
        return -1;
    n = fread(out, 1, sizeof(out) - 1, f);
    out[n] = '\0';
    if (pclose(f) != 0 || !(p = strstr(out, "\"access_token\": \"")))
        return -1;
    p += strlen("\"access_token\": \"");
    if (!(e = strchr(p, '"')) || (size_t)(e - p) >= TOKEN_MAX)
        return -1;
    memcpy(token, p, (size_t)(e - p));
    token[e - p] = '\0';
    return 0;
}

static char url_opt[PATHLEN], issuer_opt[PATHLEN];
static const char *const *server_opts_loopback;
#define OAUTH_CLIENT_CONF_NAME "sasl-mechs-client.conf" /* oauth_clientcfg.h */

/* A new grant for ALICE at the server: its access and refresh tokens. */
static int server_grant(char *at, char *rt)
{
    char cmd[512], out[TOKEN_MAX * 2 + 256];
    const char *names[2] = {"\"access_token\": \"", "\"refresh_token\": \""};
    char *dst[2] = {at, rt}, *p, *e;
    FILE *f;
    size_t n;
    int i;

    snprintf(cmd, sizeof(cmd), "curl -s -m 20 -X POST -d '{\"user\":\"%s\"}' "
             "http://127.0.0.1:%d/grant", ALICE, server_port);
    if (!(f = popen(cmd, "r")))
        return -1;
    n = fread(out, 1, sizeof(out) - 1, f);
    out[n] = '\0';
    if (pclose(f) != 0)
        return -1;
    for (i = 0; i < 2; i++) {
        if (!(p = strstr(out, names[i])))
            return -1;
        p += strlen(names[i]);
        if (!(e = strchr(p, '"')) || (size_t)(e - p) >= TOKEN_MAX)
            return -1;
        memcpy(dst[i], p, (size_t)(e - p));
        dst[i][e - p] = '\0';
    }
    return 0;
}

/* POST a JSON body to the server's test control path: 0 when it answered. */
static int server_control(const char *path, const char *body)
{
    char cmd[TOKEN_MAX + 512];

    snprintf(cmd, sizeof(cmd), "curl -sf -m 20 -o /dev/null -X POST -d '%s' "
             "http://127.0.0.1:%d%s", body, server_port, path);
    return system(cmd) == 0 ? 0 : -1;
}

/* The number after member (e.g. "\"introspections\": ") in the server's
 * GET /stats; missing when it is not there, -1 when the server does not
 * answer. */
static int server_stat_or(const char *member, int missing)
{
    char cmd[256], out[4096], *p;
    FILE *f;
    size_t n;

    snprintf(cmd, sizeof(cmd), "curl -s -m 20 http://127.0.0.1:%d/stats", server_port);
    if (!(f = popen(cmd, "r")))
        return -1;
    n = fread(out, 1, sizeof(out) - 1, f);
    out[n] = '\0';
    if (pclose(f) != 0 || !strstr(out, "\"requests\""))
        return -1;
    return (p = strstr(out, member)) ? atoi(p + strlen(member)) : missing;
}

static int server_stat(const char *member)
{
    return server_stat_or(member, -1);
}

/* How many times the server has answered requests for path (0 if never),
 * or -1. */
static int server_requests(const char *path)
{
    char key[128];

    snprintf(key, sizeof(key), "\"%s\": ", path);
    return server_stat_or(key, 0);
}

static int jwks_fetches(void)
{
    return server_requests("/jwks");
}

/* Keys from the server's /jwks; a key added to the set later is found after
 * one refetch, and an unknown kid does not make the server fetch again
 * within the refresh interval. */
static void jwks_url_row(int row, void *arg)
{
    const char *mech = mechs[row % 2];
    struct token_spec t = {"RS256", row < 2 ? "rsa" : "rotated", NULL, NULL, ALICE, 600, NULL};
    char token[TOKEN_MAX], cmd[PATHLEN * 2 + 64];
    struct hx_client c = {.authname = ALICE, .password = token};
    struct hx_outcome o;
    int ok;

    (void)arg;
    if (row == 4) { /* two unknown kids in a row: one fetch between them at most */
        int before = jwks_fetches(), after;
        t.kid = "rsa";
        if (mint_token(&t, token) != 0) {
            tap_ok(0, "%s: oauth_mint failed", mech);
            return;
        }
        hx_row_name("unknown kids: one refetch per interval");
        sleep(2); /* past the refresh interval (1 s) */
        for (ok = 0; ok < 3; ok++) {
            char bad[TOKEN_MAX + 64];
            /* the same token, its header's kid changed: {"alg":"RS256","kid":"ghost-1"} */
            snprintf(bad, sizeof(bad), "eyJhbGciOiJSUzI1NiIsImtpZCI6Imdob3N0LTEifQ%s",
                     strchr(token, '.'));
            c.password = bad;
            hx_exchange(mech, &c, NULL, &o);
            if (o.server_rc != SASL_BADAUTH)
                break;
        }
        after = jwks_fetches();
        if (!tap_ok(ok == 3 && before >= 0 && after - before == 1,
                    "three tokens with an unknown kid in a row: refused, and the key set "
                    "fetched once for them (refresh interval)"))
            tap_diag("refused %d of 3, /jwks fetches %d -> %d", ok, before, after);
        return;
    }
    if (row == 2) { /* a new signing key appears in the served set */
        sleep(2); /* past the refresh interval (1 s) */
        snprintf(cmd, sizeof(cmd), "'%s' keygen --keys '%s' --key rotated:RS256 >/dev/null", mint,
                 keys);
        if (system(cmd) != 0) {
            tap_ok(0, "oauth_mint keygen --key rotated failed");
            return;
        }
    }
    hx_row_name("%s: JWKS URL, %s key", mech, t.kid);
    if (mint_token(&t, token) != 0) {
        tap_ok(0, "%s: oauth_mint failed", mech);
        return;
    }
    hx_exchange(mech, &c, NULL, &o);
    ok = tap_ok(o.server_rc == SASL_OK && strcmp(o.username, ALICE) == 0,
                "%s: keys from the JWKS URL: a token signed with the %s key authenticates%s",
                mech, t.kid, row >= 2 ? " (the set fetched again for its new kid)" : "");
    if (!ok)
        show(&o);
}

/* Fleet scale: the issuer's keys found by OpenID discovery and kept in the
 * host's cache folder.  Each hx_run is a process of its own, each plugin
 * (XOAUTH2, OAUTHBEARER) a verifier of its own: four of them, and the
 * loopback IdP answers one discovery request and one key set request
 * between them. */
static int fleet_before_discovery, fleet_before_jwks;
static char fleet_cache[PATHLEN];

static void fleet_row(int row, void *arg)
{
    const char *mech = mechs[row % 2], *process = arg;
    char token[TOKEN_MAX] = "", body[128];
    struct hx_client c = {.authname = ALICE, .password = token};
    struct hx_outcome o;
    int disc, nkeys;

    if (row == 2) {
        hx_row_name("%s: the IdP's requests", process);
        disc = server_requests("/.well-known/openid-configuration") - fleet_before_discovery;
        nkeys = jwks_fetches() - fleet_before_jwks;
        if (!tap_ok(disc == 1 && nkeys == 1, "%s: one discovery request and one key set request "
                    "for the host in all", process))
            tap_diag("discovery requests %d, key set requests %d", disc, nkeys);
        return;
    }
    hx_row_name("%s: %s, keys by discovery, host cache", process, mech);
    snprintf(body, sizeof(body), "{\"user\":\"%s\"}", ALICE);
    if (server_token("/grant", body, token) != 0) {
        tap_ok(0, "%s: the loopback server issued no token", mech);
        return;
    }
    hx_exchange(mech, &c, NULL, &o);
    if (!tap_ok(o.server_rc == SASL_OK && strcmp(o.username, ALICE) == 0,
                "%s: %s: a token of the issuer whose keys were found by discovery "
                "authenticates", process, mech))
        show(&o);
}

/* RFC 7662: the server's verdict, cached; the endpoint down is temporary. */
static void introspection_row(int row, void *arg)
{
    const char *mech = mechs[row % 2];
    char token[TOKEN_MAX] = "", body[128];
    struct hx_client c = {.authname = ALICE, .password = token};
    struct hx_outcome o;
    int ok = 0;

    (void)arg;
    snprintf(body, sizeof(body), "{\"user\":\"%s\"}", ALICE);
    switch (row / 2) {
    case 0:
        hx_row_name("%s: introspection, active token", mech);
        if (server_token("/grant", body, token) != 0)
            break;
        hx_exchange(mech, &c, NULL, &o);
        ok = tap_ok(o.server_rc == SASL_OK && strcmp(o.username, ALICE) == 0,
                    "%s: introspection: an active token authenticates", mech);
        break;
    case 1:
        hx_row_name("%s: introspection, unknown token", mech);
        snprintf(token, sizeof(token), "not-a-token-the-server-issued-%d", row);
        hx_exchange(mech, &c, NULL, &o);
        ok = tap_ok(o.server_rc == SASL_BADAUTH && strstr(o.challenge, "invalid_token"),
                    "%s: introspection: an inactive token gets invalid_token, SASL_BADAUTH", mech);
        break;
    default:
        hx_row_name("%s: introspection, endpoint down", mech);
        snprintf(token, sizeof(token), "some-token-%d", row);
        stop_server();
        hx_exchange(mech, &c, NULL, &o);
        ok = tap_ok(o.server_rc == SASL_UNAVAIL && !o.challenge[0],
                    "%s: introspection endpoint down: SASL_UNAVAIL (temporary), no challenge",
                    mech);
        logged_once(mech, &o);
        break;
    }
    if (!token[0])
        tap_ok(0, "%s: the loopback server issued no token", mech);
    else if (!ok)
        show(&o);
}

/* ---- introspection shared through memcached ------------------------------------ */

static char shared_token[TOKEN_MAX];
static int asked_before;

/* arg "first" / "second": two processes (two hx_run children) log in with
 * the same token; the provider is asked once. */
static void shared_row(int row, void *arg)
{
    const char *mech = mechs[row % 2], *which = arg;
    struct hx_client c = {.authname = ALICE, .password = shared_token};
    struct hx_outcome o;
    int asked;

    hx_row_name("%s: shared introspection cache, %s process", mech, which);
    hx_exchange(mech, &c, NULL, &o);
    asked = server_stat("\"introspections\": ");
    if (!tap_ok(o.server_rc == SASL_OK && strcmp(o.username, ALICE) == 0 && asked == asked_before + 1,
                "%s: shared introspection cache, %s process: authenticated, the provider asked "
                "once in all (%d)", mech, which, asked - asked_before))
        show(&o);
}

/* The cache server down: a valid token still authenticates; the outage is
 * logged once per interval by each mechanism (each plugin has its own
 * verifier), not at every login: rows XOAUTH2, XOAUTH2, OAUTHBEARER. */
static void cache_down_row(int row, void *arg)
{
    const char *mech = mechs[row / 2];
    char token[TOKEN_MAX] = "", body[128];
    struct hx_client c = {.authname = ALICE, .password = token};
    struct hx_outcome o;
    int n;

    (void)arg;
    hx_row_name("%s: shared introspection cache down", mech);
    snprintf(body, sizeof(body), "{\"user\":\"%s\"}", ALICE);
    if (server_token("/grant", body, token) != 0) {
        tap_ok(0, "%s: the loopback server issued no token", mech);
        return;
    }
    hx_exchange(mech, &c, NULL, &o);
    n = hx_log_count("shared introspection cache");
    if (!tap_ok(o.server_rc == SASL_OK && strcmp(o.username, ALICE) == 0 && n == (row != 1),
                "%s: shared introspection cache down: authenticated by asking the provider, "
                "the outage logged %s (%d)", mech, row != 1 ? "once" : "not again", n))
        show(&o);
}

/* Past the bound on requests per interval, a token in no cache is a
 * temporary failure (SASL_UNAVAIL: Postfix's 454), logged once; a cached
 * valid token still authenticates. */
static void bound_row(int row, void *arg)
{
    const char *mech = mechs[0];
    char token[TOKEN_MAX];
    struct hx_client c = {.authname = ALICE, .password = token};
    struct hx_outcome o;
    int ok;

    (void)arg;
    if (row < 3) {
        hx_row_name("%s: introspection bound, unknown token %d", mech, row);
        snprintf(token, sizeof(token), "flood-token-%d-%ld", row, (long)getpid());
        hx_exchange(mech, &c, NULL, &o);
        ok = row < 2 ? tap_ok(o.server_rc == SASL_BADAUTH, "%s: introspection bound: unknown "
                              "token %d within the bound: SASL_BADAUTH", mech, row)
                     : tap_ok(o.server_rc == SASL_UNAVAIL && strstr(o.server_err, "bound")
                                  && hx_log_count("introspection bound reached:") == 1,
                              "%s: introspection bound: unknown token %d past it: SASL_UNAVAIL "
                              "(454), the bound logged once", mech, row);
    } else {
        hx_row_name("%s: introspection bound, cached valid token", mech);
        snprintf(token, sizeof(token), "%s", shared_token);
        hx_exchange(mech, &c, NULL, &o);
        ok = tap_ok(o.server_rc == SASL_OK && !hx_log_contains("bound reached"),
                    "%s: introspection bound reached: a valid token in the shared cache still "
                    "authenticates", mech);
    }
    if (!ok)
        show(&o);
}

static void run_shared_cache(const char *const *intro_opts, size_t n_intro)
{
    static const char *opts[40];
    static char keyfile[PATHLEN], closed[64];
    struct mc cache;
    struct hx_init in;
    char body[128];
    size_t n = n_intro;
    FILE *f;

    if (mc_start(&cache) != 0) {
        tap_ok(0, "memcached (Debian's, scripts/deps.sh) did not start on 127.0.0.1");
        return;
    }
    snprintf(keyfile, sizeof(keyfile), "%s/icache-key", hx.root);
    if (!(f = fopen(keyfile, "w")) || fputs("a site-wide key of 32 bytes or more, for tests\n", f) < 0
        || fclose(f) != 0 || chmod(keyfile, 0600) != 0) {
        tap_ok(0, "cannot write %s", keyfile);
        mc_stop(&cache);
        return;
    }
    snprintf(body, sizeof(body), "{\"user\":\"%s\"}", ALICE);
    if (server_token("/grant", body, shared_token) != 0) {
        tap_ok(0, "the loopback server issued no token");
        mc_stop(&cache);
        return;
    }
    memcpy(opts, intro_opts, n_intro * sizeof(*opts));
    opts[n++] = "oauth_introspection_cache_server";
    opts[n++] = cache.url;
    opts[n++] = "oauth_introspection_cache_key_file";
    opts[n++] = keyfile;
    opts[n] = NULL;
    in = (struct hx_init){.server_path = hx_path(oauthdir, hx.aux, NULL),
                          .client_path = oauthdir, .server_opts = opts};
    asked_before = server_stat("\"introspections\": ");
    hx_run("shared introspection cache, first process", &in, 1, shared_row, "first");
    hx_run("shared introspection cache, second process", &in, 2, shared_row, "second");

    /* a bound of 2 requests an hour, counted in the shared cache (not too
     * near the hour's end, so that the three requests share a window) */
    while (time(NULL) % 3600 > 3590)
        sleep(1);
    opts[n++] = "oauth_introspection_max_per_interval";
    opts[n++] = "2";
    opts[n++] = "oauth_introspection_interval";
    opts[n++] = "3600";
    opts[n] = NULL;
    hx_run("introspection bound", &in, 4, bound_row, NULL);

    /* the cache server down */
    snprintf(closed, sizeof(closed), "%s", cache.url);
    mc_stop(&cache);
    opts[n_intro + 1] = closed;
    opts[n_intro + 4] = NULL;
    hx_run("shared introspection cache down", &in, 3, cache_down_row, NULL);
}

/* A token revoked before it expires (introspection then says inactive): the
 * client that was refused records it in the token file, and the next
 * attempt refreshes the token although its expires_at is an hour away, and
 * authenticates. */
static void refused_row(int row, void *arg)
{
    const char *mech = mechs[row % 2];
    char at[TOKEN_MAX], rt[TOKEN_MAX], pass[PATHLEN + 16], body[TOKEN_MAX + 32];
    struct hx_client c = {.authname = ALICE, .password = pass};
    struct hx_outcome o1, o2;
    FILE *f;
    int ok;

    (void)arg;
    hx_row_name("%s: a refused token is refreshed by the next attempt", mech);
    if (server_grant(at, rt) != 0) {
        tap_ok(0, "%s: the loopback server issued no grant", mech);
        return;
    }
    if (!(f = fopen(tokenfile, "w"))) {
        tap_ok(0, "%s: cannot write the token file", mech);
        return;
    }
    fprintf(f, "{\"access_token\": \"%s\", \"expires_at\": %lld, \"refresh_token\": \"%s\", "
            "\"token_endpoint\": \"http://127.0.0.1:%d/token\", \"client_id\": \"test-client\", "
            "\"client_secret\": \"test-secret\"}\n", at, (long long)time(NULL) + 3600, rt,
            server_port);
    fclose(f);
    chmod(tokenfile, 0600);
    snprintf(pass, sizeof(pass), "tokenfile:%s", tokenfile);
    snprintf(body, sizeof(body), "{\"token\": \"%s\"}", at);
    if (server_control("/revoke", body) != 0) {
        tap_ok(0, "%s: the loopback server did not revoke the token", mech);
        return;
    }
    hx_exchange(mech, &c, NULL, &o1);
    hx_exchange(mech, &c, NULL, &o2);
    ok = tap_ok(o1.server_rc == SASL_BADAUTH && strstr(o1.challenge, "invalid_token")
                    && o2.server_rc == SASL_OK && strcmp(o2.username, ALICE) == 0,
                "%s: a token revoked early is refused once, then refreshed and accepted "
                "(expires_at an hour away)", mech);
    if (!ok) {
        show(&o1);
        show(&o2);
    }
    no_token_leak(mech, &o1, at);
    unlink(tokenfile);
}

/* A client like Postfix's smtp: options from sasl-mechs-client.conf in
 * libsasl2's configuration path (SASL_CONF_PATH), read at load with the
 * token folder opened then; the folder's path then disappears (moved away,
 * as a chroot hides it) and "tokenfile:relay.json" is still found, refreshed
 * and rewritten there.  A name with a '/' or a leading '.' is refused. */
static char tokdir[PATHLEN + 16], confdir[PATHLEN + 16];

static void clientconf_row(int row, void *arg)
{
    const char *mech = mechs[row % 2];
    char at[TOKEN_MAX], rt[TOKEN_MAX], moved[PATHLEN + 32], file[PATHLEN + 64];
    struct hx_client c = {.authname = ALICE, .password = "tokenfile:relay.json"};
    struct hx_outcome o;
    FILE *f;
    int ok;

    (void)arg;
    if (row >= 4) {
        /* a file of the client's own user in the folder, but a name that is
         * more than a file name to a shell (it goes into log lines) */
        hx_row_name("%s: a tokenfile: name with a shell character refused", mech);
        snprintf(file, sizeof(file), "%s/x;y.json", tokdir);
        if (!(f = fopen(file, "w"))) {
            tap_ok(0, "%s: cannot write %s", mech, file);
            return;
        }
        fprintf(f, "{\"access_token\": \"t\", \"expires_at\": %lld}\n",
                (long long)time(NULL) + 3600);
        fclose(f);
        chmod(file, 0600);
        c.password = "tokenfile:x;y.json";
        hx_exchange(mech, &c, NULL, &o);
        tap_ok(o.client_rc == SASL_BADPARAM && strstr(o.client_err, "oauth_token_dir"),
               "%s: a \"%s\" password is refused by the client", mech, c.password);
        unlink(file);
        return;
    }
    if (row >= 2) {
        hx_row_name("%s: tokenfile: names outside oauth_token_dir refused", mech);
        c.password = row == 2 ? "tokenfile:../token.json" : "tokenfile:.relay.json";
        hx_exchange(mech, &c, NULL, &o);
        tap_ok(o.client_rc == SASL_BADPARAM && strstr(o.client_err, "oauth_token_dir"),
               "%s: a \"%s\" password is refused by the client", mech, c.password);
        return;
    }
    hx_row_name("%s: token folder opened at load, file named relative to it", mech);
    snprintf(file, sizeof(file), "%s/relay.json", tokdir);
    if (server_grant(at, rt) != 0 || !(f = fopen(file, "w"))) {
        tap_ok(0, "%s: no grant or cannot write %s", mech, file);
        return;
    }
    /* expired: the exchange must refresh through the folder */
    fprintf(f, "{\"access_token\": \"%s\", \"expires_at\": 0, \"refresh_token\": \"%s\", "
            "\"token_endpoint\": \"http://127.0.0.1:%d/token\", \"client_id\": \"test-client\", "
            "\"client_secret\": \"test-secret\"}\n", at, rt, server_port);
    fclose(f);
    chmod(file, 0600);
    snprintf(moved, sizeof(moved), "%s.moved", tokdir);
    if (rename(tokdir, moved) != 0) {
        tap_ok(0, "rename %s: %s", tokdir, strerror(errno));
        return;
    }
    hx_exchange(mech, &c, NULL, &o);
    ok = tap_ok(o.server_rc == SASL_OK && strcmp(o.username, ALICE) == 0,
                "%s: \"tokenfile:relay.json\" found in oauth_token_dir (from %s) after its "
                "path is gone, refreshed and sent", mech, OAUTH_CLIENT_CONF_NAME);
    if (!ok)
        show(&o);
    rename(moved, tokdir);
    {
        char cmd[sizeof(file) + 64];
        snprintf(cmd, sizeof(cmd), "grep -q '\"obtained_at\"' '%s'", file);
        tap_ok(system(cmd) == 0, "%s: the refreshed token was written back in the folder", mech);
    }
    unlink(file);
}

/* A settings file that cannot be used: the connection that needs the token
 * folder says why (what the plugin logged at load reaches only syslog). */
static void badconf_row(int row, void *arg)
{
    const char *mech = mechs[row % 2];
    struct hx_client c = {.authname = ALICE, .password = "tokenfile:relay.json"};
    struct hx_outcome o;

    (void)arg;
    hx_row_name("%s: an unusable %s", mech, OAUTH_CLIENT_CONF_NAME);
    hx_exchange(mech, &c, NULL, &o);
    if (!tap_ok(o.client_rc == SASL_BADPARAM && strstr(o.client_err, "line 2 is not \"name: value\""),
                "%s: a malformed %s: the client's errdetail says which line", mech,
                OAUTH_CLIENT_CONF_NAME))
        show(&o);
}

static void run_clientconf(void)
{
    char conf[PATHLEN + 64];
    struct hx_init in;
    FILE *f;

    snprintf(tokdir, sizeof(tokdir), "%s/tokens", hx.root);
    snprintf(confdir, sizeof(confdir), "%s/clientconf", hx.root);
    snprintf(conf, sizeof(conf), "%s/%s", confdir, OAUTH_CLIENT_CONF_NAME);
    if (mkdir(tokdir, 0700) != 0 || mkdir(confdir, 0700) != 0 || !(f = fopen(conf, "w"))) {
        tap_ok(0, "cannot set up %s", conf);
        return;
    }
    fprintf(f, "# as Postfix's smtp would have it\noauth_token_dir: %s\n", tokdir);
    fclose(f);
    chmod(conf, 0600);
    setenv("SASL_CONF_PATH", confdir, 1);
    in = (struct hx_init){.server_path = hx_path(oauthdir, hx.aux, NULL),
                          .client_path = oauthdir, .server_opts = server_opts_loopback};
    hx_run("client settings file", &in, 6, clientconf_row, NULL);
    if (!(f = fopen(conf, "w"))) {
        tap_ok(0, "cannot rewrite %s", conf);
        return;
    }
    fprintf(f, "oauth_token_dir: %s\nthis line has no colon\n", tokdir);
    fclose(f);
    hx_run("client settings file, malformed", &in, 2, badconf_row, NULL);
    unsetenv("SASL_CONF_PATH");
}

static void run_with_server(void)
{
    static char intro_url[PATHLEN];
    static const char *jwks_opts[13], *intro_opts[19], *fleet_opts[13];
    struct hx_init in;
    FILE *f;

    if (start_server() != 0) {
        tap_ok(0, "the loopback OAuth server (python3 tests/oauth/oauth_server.py) did not start");
        stop_server();
        return;
    }
    snprintf(url_opt, sizeof(url_opt), "http://127.0.0.1:%d/jwks", server_port);
    snprintf(issuer_opt, sizeof(issuer_opt), "http://127.0.0.1:%d", server_port);
    snprintf(intro_url, sizeof(intro_url), "http://127.0.0.1:%d/introspect", server_port);
    snprintf(secretfile, sizeof(secretfile), "%s/rs-secret", hx.root);
    if (!(f = fopen(secretfile, "w")) || fputs("rs-secret\n", f) < 0 || fclose(f) != 0
        || chmod(secretfile, 0600) != 0) {
        tap_ok(0, "cannot write %s", secretfile);
        stop_server();
        return;
    }
    memcpy(jwks_opts, (const char *[]){"oauth_issuers", ISSUER, "oauth_audiences", AUDIENCE,
                                       "oauth_required_scopes", SCOPE, "oauth_jwks_url", url_opt,
                                       "oauth_jwks_refresh_interval", "1", "oauth_user_claim",
                                       "email", NULL}, sizeof(jwks_opts));
    memcpy(intro_opts, (const char *[]){"oauth_validation", "introspection", "oauth_issuers",
                                        issuer_opt, "oauth_audiences", AUDIENCE,
                                        "oauth_required_scopes", SCOPE, "oauth_introspection_url",
                                        intro_url, "oauth_client_id", "test-rs",
                                        "oauth_client_secret_file", secretfile,
                                        "oauth_user_claim", "email", "oauth_http_timeout", "3000",
                                        NULL}, sizeof(intro_opts));
    in = (struct hx_init){.server_path = hx_path(oauthdir, hx.aux, NULL),
                          .client_path = oauthdir, .server_opts = jwks_opts};
    hx_run("JWKS URL", &in, 5, jwks_url_row, NULL);
    snprintf(fleet_cache, sizeof(fleet_cache), "%s/jwks-cache", hx.root);
    if (mkdir(fleet_cache, 0750) != 0)
        tap_ok(0, "mkdir %s: %s", fleet_cache, strerror(errno));
    memcpy(fleet_opts, (const char *[]){"oauth_issuers", issuer_opt, "oauth_audiences", AUDIENCE,
                                        "oauth_required_scopes", SCOPE, "oauth_discovery", "yes",
                                        "oauth_jwks_cache_dir", fleet_cache, "oauth_user_claim",
                                        "email", NULL}, sizeof(fleet_opts));
    fleet_before_discovery = server_requests("/.well-known/openid-configuration");
    fleet_before_jwks = jwks_fetches();
    in.server_opts = fleet_opts;
    hx_run("fleet: first process", &in, 2, fleet_row, "first process");
    hx_run("fleet: second process", &in, 3, fleet_row, "second process");
    in.server_opts = intro_opts;
    /* before the introspection rows, whose last ones stop the server */
    hx_run("refused token", &in, 2, refused_row, NULL);
    server_opts_loopback = intro_opts;
    run_clientconf();
    in.server_opts = intro_opts;
    run_shared_cache(intro_opts, 18);
    hx_run("introspection", &in, 6, introspection_row, NULL);
    stop_server();
}

/* Google's XOAUTH2 refusal, {"status":"401",...}, to a token from a token
 * file: recorded in the file (expires_at now), so that the next attempt
 * refreshes it; here, with no refresh_token, the next attempt fails in the
 * client instead of sending the refused token again. */
static void google_refusal_row(int row, void *arg)
{
    static const struct hx_msg google[] = {
        HX_MSG("{\"status\":\"401\",\"schemes\":\"Bearer\",\"scope\":"
               "\"https://mail.google.com/\"}")};
    const char *mech = mechs[row % 2];
    char pass[PATHLEN + 16], cmd[PATHLEN + 160];
    struct hx_client c = {.authname = ALICE, .password = pass};
    struct hx_script r;
    struct hx_outcome o;
    time_t now = time(NULL);
    FILE *f;

    (void)arg;
    hx_row_name("%s client: Google's refusal recorded in the token file", mech);
    if (!(f = fopen(tokenfile, "w"))) {
        tap_ok(0, "cannot write %s", tokenfile);
        return;
    }
    fprintf(f, "{\"access_token\": \"a.b.c\", \"expires_at\": %lld}\n", (long long)now + 3600);
    fclose(f);
    chmod(tokenfile, 0600);
    snprintf(pass, sizeof(pass), "tokenfile:%s", tokenfile);
    hx_client_script(mech, &c, google, 1, &r);
    snprintf(cmd, sizeof(cmd), "python3 -c 'import json,sys; "
             "sys.exit(json.load(open(sys.argv[1]))[\"expires_at\"] > %lld)' '%s'",
             (long long)time(NULL), tokenfile);
    tap_ok(r.steps == 2 && r.rc[1] == SASL_CONTINUE && system(cmd) == 0,
           "%s client: Google's {\"status\":\"401\"} challenge marks the token file's token "
           "as refused (expires_at now)", mech);
    hx_exchange(mech, &c, NULL, &o);
    tap_ok(o.client_rc != SASL_OK && o.client_rc != SASL_CONTINUE
               && strstr(o.client_err, "no refresh_token"),
           "%s client: the refused token is not sent again (no refresh_token: %s)", mech,
           hx_code(o.client_rc));
    /* insufficient_scope: a refresh of the same grant would not help */
    {
        static const struct hx_msg scope[] = {
            HX_MSG("{\"status\":\"insufficient_scope\",\"scope\":\"mail\"}")};
        if ((f = fopen(tokenfile, "w"))) {
            fprintf(f, "{\"access_token\": \"a.b.c\", \"expires_at\": %lld}\n",
                    (long long)now + 3600);
            fclose(f);
        }
        hx_client_script(mech, &c, scope, 1, &r);
        snprintf(cmd, sizeof(cmd), "grep -q '\"expires_at\": %lld}' '%s'",
                 (long long)now + 3600, tokenfile);
        tap_ok(r.steps == 2 && system(cmd) == 0,
               "%s client: an insufficient_scope challenge leaves the token file alone", mech);
    }
    unlink(tokenfile);
}

/* ---- set-up --------------------------------------------------------------------- */

static int setup_oauth(void)
{
    const char *build = getenv("SM_BUILDDIR"), *plug = getenv("SM_PLUGIN_DIR");
    static const char *const files[] = {"libsaslmechs_xoauth2.so", "libsaslmechs_oauthbearer.so"};
    char cmd[PATH_MAX * 4], src[PATH_MAX], dst[PATH_MAX + 64];
    size_t i;

    if (!build || !plug)
        return tap_ok(0, "SM_BUILDDIR and SM_PLUGIN_DIR must be set"), -1;
    snprintf(mint, sizeof(mint), "%s/tests/oauth/oauth_mint", build);
    snprintf(keys, sizeof(keys), "%s/keys", hx.root);
    snprintf(jwks, sizeof(jwks), "%s/jwks.json", keys);
    snprintf(pubkey, sizeof(pubkey), "%s/rsa.pub.pem", hx.root);
    snprintf(tokenfile, sizeof(tokenfile), "%s/token.json", hx.root);
    snprintf(oauthdir, sizeof(oauthdir), "%s/oauth", hx.root);
    if (access(mint, X_OK) != 0)
        return tap_ok(0, "%s: %s (built by make check)", mint, strerror(errno)), -1;
    snprintf(cmd, sizeof(cmd), "'%s' keygen --keys '%s' >/dev/null && '%s' pubkey --keys '%s' "
             "--kid rsa > '%s'", mint, keys, mint, keys, pubkey);
    if (system(cmd) != 0)
        return tap_ok(0, "oauth_mint keygen/pubkey failed"), -1;
    if (mkdir(oauthdir, 0700) != 0)
        return tap_ok(0, "mkdir %s: %s", oauthdir, strerror(errno)), -1;
    for (i = 0; i < 2; i++) {
        snprintf(src, sizeof(src), "%s/%s", plug, files[i]);
        snprintf(dst, sizeof(dst), "%s/%s", oauthdir, files[i]);
        if (!realpath(src, cmd) || symlink(cmd, dst) != 0)
            return tap_ok(0, "%s: %s (plugin not built?)", src, strerror(errno)), -1;
    }
    return 0;
}

int main(void)
{
    struct hx_init in;

    if (hx_setup() == 0 && setup_oauth() == 0) {
        in = (struct hx_init){.server_path = hx_path(oauthdir, hx.aux, NULL),
                              .client_path = oauthdir, .server_opts = server_opts};
        hx_run("tokens", &in, 2 * N_TOKEN_CASES, token_row, NULL);
        hx_run("identities", &in, 4, identity_row, NULL);
        hx_run("token file", &in, 6, tokenfile_row, NULL);
        hx_run("malformed", &in, N_BAD, bad_row, NULL);
        hx_run("discovery", &in, 2, discovery_row, NULL);
        hx_run("client contract", &in, 8, contract_row, NULL);
        hx_run("google refusal", &in, 2, google_refusal_row, NULL);
        run_with_server();
        in.server_opts = NULL;
        hx_run("unconfigured", &in, 1, unconfigured_row, NULL);
    }
    hx_cleanup();
    return tap_done();
}
