/* Configuration errors where the administrator looks: a server option that
 * does not validate makes every exchange of its mechanism fail with
 * SASL_CONFIGERR and an errdetail that names the option and the reason
 * (libsasl2 sends what a plugin logs while it loads to syslog only, so the
 * errdetail is what reaches the application's log).  PLAIN, LOGIN and
 * CRAM-MD5 always, NTLM's common limits when it is built; XOAUTH2 and OAUTHBEARER when they are built: a bad
 * number, a bad choice, a missing required option, combinations that
 * contradict each other, a file that cannot be read.  Each case runs in its
 * own forked child, since options are read when libsasl2 loads a plugin. */
#include "config.h"
#include "harness.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_NEEDLES 4
#define MAX_OPTS 24

struct config_case {
    const char *name;
    const char *mech;
    int oauth;                        /* load the OAuth plugins, not the password ones */
    const char *opts[MAX_OPTS];       /* name, value, ...; NULL ends */
    const char *needles[MAX_NEEDLES]; /* each must be in the errdetail ("!x": x must not) */
};

/* Paths filled in at set-up (the OAuth rows point at them). */
#define PATHLEN 512
static char oauthdir[PATHLEN], shortsecret[PATHLEN], missing[PATHLEN], groupsecret[PATHLEN];
static char bigsecret[PATHLEN];

#define OAUTH_BASE "oauth_issuers", "https://issuer.sm-driver.test", "oauth_audiences", "smtp"
#define JWKS_FILE "oauth_jwks_file", "/nonexistent/jwks.json" /* read on first use only */

static const struct config_case cases[] = {
    /* the password mechanisms, through common/options.c */
    {"PLAIN: a limit out of range", "PLAIN", 0, {"plain_max_user_length", "0", NULL},
     {"plain_max_user_length", "\"0\"", "from 1 to 1000"}},
    {"LOGIN: a limit that is not a number", "LOGIN", 0, {"login_max_password_length", "lots", NULL},
     {"login_max_password_length", "\"lots\"", "from 1 to 65535"}},
    {"CRAM-MD5: an unknown choice", "CRAM-MD5", 0, {"crammd5_secret_format", "md5", NULL},
     {"crammd5_secret_format", "\"md5\"", "auto, plain or hmac-md5"}},
    {"PLAIN: an enable flag that is neither yes nor no", "PLAIN", 0,
     {"plain_enable", "sometimes", NULL}, {"plain_enable", "\"sometimes\"", "yes", "no"}},
#ifdef SM_TEST_NTLM
    {"NTLM: a limit out of range", "NTLM", 0, {"ntlm_max_user_length", "1001", NULL},
     {"ntlm_max_user_length", "\"1001\"", "from 1 to 1000"}},
#endif
#if defined(SM_TEST_XOAUTH2) && defined(SM_TEST_OAUTHBEARER)
    /* OAuth: plugins/oauth/oauth_config.c */
    {"OAuth: a bad number", "XOAUTH2", 1, {OAUTH_BASE, JWKS_FILE, "oauth_leeway", "x", NULL},
     {"oauth_leeway", "\"x\"", "from 0 to 3600"}},
    {"OAuth: a bad number, the mechanism's own option", "OAUTHBEARER", 1,
     {OAUTH_BASE, JWKS_FILE, "oauthbearer_max_token_length", "12", NULL},
     {"oauthbearer_max_token_length", "\"12\"", "from 256 to 65536"}},
    {"OAuth: a bad choice", "OAUTHBEARER", 1,
     {OAUTH_BASE, JWKS_FILE, "oauth_user_claim", "mail", NULL},
     {"oauth_user_claim", "\"mail\"", "email, preferred_username, upn or sub"}},
    {"OAuth: a bad yes/no", "XOAUTH2", 1,
     {OAUTH_BASE, JWKS_FILE, "oauth_require_typ", "perhaps", NULL},
     {"oauth_require_typ", "\"perhaps\"", "yes"}},
    {"OAuth: a bad validation mode", "XOAUTH2", 1,
     {OAUTH_BASE, JWKS_FILE, "oauth_validation", "jwks", NULL},
     {"oauth_validation", "\"jwks\"", "jwt or introspection"}},
    {"OAuth: no audience", "XOAUTH2", 1,
     {"oauth_issuers", "https://issuer.sm-driver.test", JWKS_FILE, NULL},
     {"oauth_audiences", "required"}},
    {"OAuth: no issuer", "OAUTHBEARER", 1, {"oauth_audiences", "smtp", JWKS_FILE, NULL},
     {"oauth_issuers", "required"}},
    {"OAuth: JWT without keys", "XOAUTH2", 1, {OAUTH_BASE, NULL},
     {"oauth_jwks_file", "oauth_jwks_url", "oauth_validation"}},
    {"OAuth: both a JWKS file and a JWKS URL", "XOAUTH2", 1,
     {OAUTH_BASE, JWKS_FILE, "oauth_jwks_url", "https://issuer.sm-driver.test/jwks", NULL},
     {"oauth_jwks_file", "oauth_jwks_url", "one"}},
    {"OAuth: introspection without client credentials", "XOAUTH2", 1,
     {OAUTH_BASE, "oauth_validation", "introspection", "oauth_introspection_url",
      "https://issuer.sm-driver.test/introspect", NULL},
     {"oauth_introspection_url needs oauth_client_id and oauth_client_secret_file"}},
    {"OAuth: introspection without an endpoint", "OAUTHBEARER", 1,
     {OAUTH_BASE, "oauth_validation", "introspection", NULL},
     {"oauth_validation", "introspection", "oauth_introspection_url"}},
    {"OAuth: an introspection endpoint in JWT mode", "XOAUTH2", 1,
     {OAUTH_BASE, JWKS_FILE, "oauth_introspection_url", "https://issuer.sm-driver.test/i", NULL},
     {"oauth_introspection_url", "oauth_validation", "jwt"}},
    {"OAuth: a shared introspection cache without its key", "XOAUTH2", 1,
     {OAUTH_BASE, "oauth_validation", "introspection", "oauth_introspection_url",
      "https://issuer.sm-driver.test/introspect", "oauth_client_id", "rs",
      "oauth_client_secret_file", shortsecret, "oauth_introspection_cache_server",
      "memcached://127.0.0.1:11211", NULL},
     {"oauth_introspection_cache_server needs oauth_introspection_cache_key_file",
      "openssl rand -hex 32 >FILE"}},
    {"OAuth: a shared introspection cache key too short", "OAUTHBEARER", 1,
     {OAUTH_BASE, "oauth_validation", "introspection", "oauth_introspection_url",
      "https://issuer.sm-driver.test/introspect", "oauth_client_id", "rs",
      "oauth_client_secret_file", shortsecret, "oauth_introspection_cache_server",
      "memcached://127.0.0.1:11211", "oauth_introspection_cache_key_file", shortsecret, NULL},
     {"oauth_introspection_cache_key_file", "fewer than 32 bytes", "openssl rand -hex 32 >FILE"}},
    {"OAuth: a shared introspection cache in JWT mode", "XOAUTH2", 1,
     {OAUTH_BASE, JWKS_FILE, "oauth_introspection_cache_server", "memcached://127.0.0.1:1",
      NULL},
     {"oauth_introspection_cache_server", "oauth_validation", "jwt"}},
    {"OAuth: a JWKS URL over http to another host", "XOAUTH2", 1,
     {OAUTH_BASE, "oauth_jwks_url", "http://issuer.sm-driver.test/jwks", NULL},
     {"oauth_jwks_url", "https", "oauth_allow_insecure_http"}},
    {"OAuth: a JWKS URL that is not a URL", "XOAUTH2", 1,
     {OAUTH_BASE, "oauth_jwks_url", "issuer.sm-driver.test/jwks", NULL},
     {"oauth_jwks_url", "not an https:// URL"}},
    /* the errdetail may reach the client (slapd's diagnostic message) */
    {"OAuth: a JWKS URL with a password in it", "XOAUTH2", 1,
     {OAUTH_BASE, "oauth_jwks_url", "https://rs:S3cret-pw@issuer.sm-driver.test/jwks", NULL},
     {"oauth_jwks_url", "no user or password", "!S3cret-pw"}},
    {"OAuth: an unreadable secret file", "XOAUTH2", 1,
     {OAUTH_BASE, JWKS_FILE, "oauth_hmac_secret_file", missing, NULL},
     {"oauth_hmac_secret_file", missing, "No such file"}},
    {"OAuth: an unreadable client secret file", "OAUTHBEARER", 1,
     {OAUTH_BASE, "oauth_validation", "introspection", "oauth_introspection_url",
      "https://issuer.sm-driver.test/introspect", "oauth_client_id", "rs",
      "oauth_client_secret_file", missing, NULL},
     {"oauth_client_secret_file", missing, "No such file"}},
    {"OAuth: a client secret file the group may read", "XOAUTH2", 1,
     {OAUTH_BASE, "oauth_validation", "introspection", "oauth_introspection_url",
      "https://issuer.sm-driver.test/introspect", "oauth_client_id", "rs",
      "oauth_client_secret_file", groupsecret, NULL},
     {"oauth_client_secret_file", groupsecret, "group or others", "go-rwx"}},
    {"OAuth: an HMAC secret file the group may read", "OAUTHBEARER", 1,
     {OAUTH_BASE, JWKS_FILE, "oauth_hmac_secret_file", groupsecret, NULL},
     {"oauth_hmac_secret_file", groupsecret, "group or others"}},
    {"OAuth: a secret file over 4096 bytes with its newline", "XOAUTH2", 1,
     {OAUTH_BASE, JWKS_FILE, "oauth_hmac_secret_file", bigsecret, NULL},
     {"oauth_hmac_secret_file", bigsecret, "larger than 4096 bytes"}},
    {"OAuth: an HMAC secret too short", "XOAUTH2", 1,
     {OAUTH_BASE, JWKS_FILE, "oauth_hmac_secret_file", shortsecret, NULL},
     {"oauth_hmac_secret_file", "32 bytes"}},
    {"OAuth: too many audiences", "XOAUTH2", 1,
     {"oauth_issuers", "https://issuer.sm-driver.test", JWKS_FILE, "oauth_audiences",
      "a1 a2 a3 a4 a5 a6 a7 a8 a9 a10 a11 a12 a13 a14 a15 a16 a17 a18 a19 a20 a21 a22 a23 "
      "a24 a25 a26 a27 a28 a29 a30 a31 a32 a33", NULL},
     {"oauth_audiences", "more than 32"}},
    {"OAuth: discovery and a JWKS URL", "XOAUTH2", 1,
     {OAUTH_BASE, "oauth_discovery", "yes", "oauth_jwks_url", "https://issuer.sm-driver.test/k",
      NULL},
     {"oauth_discovery", "oauth_jwks_url", "one of them"}},
    {"OAuth: discovery from an issuer that is not a URL", "OAUTHBEARER", 1,
     {"oauth_issuers", "issuer.sm-driver.test", "oauth_audiences", "smtp", "oauth_discovery",
      "yes", NULL},
     {"oauth_issuers", "not an https:// URL"}},
    {"OAuth: a JWKS cache folder given as a relative path", "XOAUTH2", 1,
     {OAUTH_BASE, JWKS_FILE, "oauth_jwks_cache_dir", "var/cache", NULL},
     {"oauth_jwks_cache_dir", "absolute"}},
    {"OAuth: a JWT cache size out of range", "OAUTHBEARER", 1,
     {OAUTH_BASE, JWKS_FILE, "oauth_jwt_cache_size", "100000", NULL},
     {"oauth_jwt_cache_size", "from 0 to 65536"}},
    /* several bad options: the one refused first is the one the reading
     * order always gave (the readers stop at the first) */
    {"OAuth: a short HMAC secret and a bad HTTP timeout: the secret named", "XOAUTH2", 1,
     {OAUTH_BASE, JWKS_FILE, "oauth_hmac_secret_file", shortsecret, "oauth_http_timeout", "5",
      NULL},
     {"oauth_hmac_secret_file", "32 bytes", "!oauth_http_timeout"}},
    {"OAuth: a relative JWKS cache folder and a bad JWT cache size: the folder named",
     "OAUTHBEARER", 1,
     {OAUTH_BASE, JWKS_FILE, "oauth_jwks_cache_dir", "var/cache", "oauth_jwt_cache_size",
      "100000", NULL},
     {"oauth_jwks_cache_dir", "absolute", "!oauth_jwt_cache_size"}},
    {"OAuth: a bad client_auth and a bad introspection TTL: client_auth named", "XOAUTH2", 1,
     {OAUTH_BASE, "oauth_validation", "introspection", "oauth_introspection_url",
      "https://issuer.sm-driver.test/introspect", "oauth_client_id", "rs",
      "oauth_client_secret_file", shortsecret, "oauth_client_auth", "tls_client_auth",
      "oauth_introspection_cache_ttl", "999999", NULL},
     {"oauth_client_auth", "!oauth_introspection_cache_ttl"}},
    {"OAuth: an error scope the challenge cannot carry", "OAUTHBEARER", 1,
     {OAUTH_BASE, JWKS_FILE, "oauth_error_scope", "mail \"x\"", NULL},
     {"oauth_error_scope", "'\"'"}},
#endif
};
#define N_CASES ((int)(sizeof(cases) / sizeof(cases[0])))

/* No initial response: the server fails in sasl_server_start already. */
static const struct hx_msg no_message[] = {{NULL, 0, 0}};

static void config_row(int row, void *arg)
{
    const struct config_case *c = arg;
    struct hx_msgs m = {no_message, 1};
    struct hx_script r;
    char list[512];
    int i, named = 1;

    (void)row;
    hx_row_name("%s", c->name);
    hx_listmech(0, list, sizeof(list));
    if (!tap_ok(strstr(list, c->mech) != NULL,
                "%s: %s is still offered, so that each attempt reports the option", c->name,
                c->mech))
        tap_diag("offered: %s", list);
    hx_server_script(c->mech, hx_reply_list, &m, &r);
    for (i = 0; i < MAX_NEEDLES && c->needles[i]; i++)
        named &= c->needles[i][0] == '!' ? strstr(r.err, c->needles[i] + 1) == NULL
                                         : strstr(r.err, c->needles[i]) != NULL;
    tap_ok(r.rc[0] == SASL_CONFIGERR && hx_has_detail(SASL_CONFIGERR, r.err) && named,
           "%s: %s fails with SASL_CONFIGERR and an errdetail naming the option and why",
           c->name, c->mech);
    tap_diag("%s, errdetail \"%s\"", hx_code(r.rc[0]), r.err);
    if (!tap_ok(hx_log_contains(c->needles[0] ? c->needles[0] : c->mech),
                "%s: the application's log callback gets the reason too", c->name))
        tap_diag("log: %s", hx_log_text());
}

/* Two of our plugins with different bad options in one process: each
 * exchange reports its own plugin's option, never the other's (each
 * plugin keeps its refusals in its own settings object). */
static const char *const two_bad_opts[] = {"plain_max_user_length", "0",
                                           "crammd5_secret_format", "md5", NULL};

static void two_plugins_row(int row, void *arg)
{
    static const char *const mechs[] = {"PLAIN", "CRAM-MD5"};
    static const char *const own[] = {"plain_max_user_length", "crammd5_secret_format"};
    struct hx_msgs m = {no_message, 1};
    struct hx_script r;
    int i;

    (void)row; (void)arg;
    hx_row_name("two plugins with different bad options");
    for (i = 0; i < 2; i++) {
        hx_server_script(mechs[i], hx_reply_list, &m, &r);
        tap_ok(r.rc[0] == SASL_CONFIGERR && strstr(r.err, own[i]) && !strstr(r.err, own[1 - i]),
               "two plugins in one process: %s reports its own bad option %s, not %s",
               mechs[i], own[i], own[1 - i]);
        tap_diag("%s, errdetail \"%s\"", hx_code(r.rc[0]), r.err);
    }
}

/* ---- set-up --------------------------------------------------------------------- */

static const char *const oauth_files[] = {"libsaslmechs_xoauth2.so",
                                          "libsaslmechs_oauthbearer.so"};

/* A secret file: the owner's alone, as the plugins require. */
static int write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");

    if (!f || fputs(text, f) < 0 || fclose(f) != 0 || chmod(path, mode) != 0)
        return tap_ok(0, "cannot write %s: %s", path, strerror(errno)), -1;
    return 0;
}

static int setup_oauth(void)
{
    const char *plug = getenv("SM_PLUGIN_DIR");
    char abs[PATH_MAX];
    size_t i;

    snprintf(oauthdir, sizeof(oauthdir), "%s/oauth-config", hx.root);
    snprintf(shortsecret, sizeof(shortsecret), "%s/short-secret", hx.root);
    snprintf(missing, sizeof(missing), "%s/no-such-secret", hx.root);
    snprintf(groupsecret, sizeof(groupsecret), "%s/group-secret", hx.root);
    snprintf(bigsecret, sizeof(bigsecret), "%s/big-secret", hx.root);
    if (!plug || !realpath(plug, abs))
        return tap_ok(0, "SM_PLUGIN_DIR: %s", plug ? strerror(errno) : "not set"), -1;
    if (mkdir(oauthdir, 0700) != 0)
        return tap_ok(0, "mkdir %s: %s", oauthdir, strerror(errno)), -1;
    for (i = 0; i < sizeof(oauth_files) / sizeof(oauth_files[0]); i++)
        if (hx_link_plugin(abs, oauth_files[i], oauthdir) != 0)
            return -1;
    if (write_file(groupsecret, "0123456789abcdef0123456789abcdef\n", 0640) != 0)
        return -1;
    {
        /* 4096 bytes of secret and a newline: the size counts as the file
         * stands, before the newline is dropped */
        static char big[4096 + 2];
        memset(big, 'k', 4096);
        big[4096] = '\n';
        if (write_file(bigsecret, big, 0600) != 0)
            return -1;
    }
    return write_file(shortsecret, "0123456789\n", 0600);
}

static void cleanup_oauth(void)
{
    char p[PATHLEN + 64];
    size_t i;

    if (!oauthdir[0])
        return;
    for (i = 0; i < sizeof(oauth_files) / sizeof(oauth_files[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", oauthdir, oauth_files[i]);
        unlink(p);
    }
    rmdir(oauthdir);
    unlink(shortsecret);
    unlink(groupsecret);
    unlink(bigsecret);
}

int main(void)
{
    int i, oauth = 0;

    if (hx_setup() == 0) {
#if defined(SM_TEST_XOAUTH2) && defined(SM_TEST_OAUTHBEARER)
        oauth = setup_oauth() == 0;
#else
        tap_diag("XOAUTH2 or OAUTHBEARER not built (configure --disable-...): only PLAIN, LOGIN "
                 "and CRAM-MD5 are tested here");
        (void)setup_oauth;
#endif
        for (i = 0; i < N_CASES; i++) {
            struct hx_init in = {.server_path = cases[i].oauth ? hx_path(oauthdir, hx.aux, NULL)
                                                               : hx_path(hx.ours, hx.aux, NULL),
                                 .client_path = hx.ours,
                                 .server_opts = cases[i].opts};
            if (cases[i].oauth && !oauth)
                continue; /* setup_oauth said "not ok" */
            hx_run(cases[i].name, &in, 1, config_row, (void *)&cases[i]);
        }
        {
            struct hx_init in = {.server_path = hx_path(hx.ours, hx.aux, NULL),
                                 .client_path = hx.ours, .server_opts = two_bad_opts};
            hx_run("two plugins", &in, 1, two_plugins_row, NULL);
        }
        cleanup_oauth();
    }
    hx_cleanup();
    return tap_done();
}
