/* The OAuth server options, read once when libsasl2 loads the plugin: every
 * option is oauth_<name>, and <mech>_<name> (xoauth2_..., oauthbearer_...)
 * overrides it for one mechanism.  They go into the plugin's settings
 * object (struct oauth_settings, which its glue keeps), with the verifier
 * built from them and every string they need: all of it lives until the
 * plugin is unloaded (oauth_config_forget). */
#include "config.h"
#include "oauth_server.h"
#include "oauth_config.h"
#include "oauth_util.h"
#include "oauth_jwt_cache.h"

#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sasl-mechs/options.h>
#include <sasl-mechs/secret.h>

#define OPTION_NAME_MAX 64
#define MAX_LIST OAUTH_CONFIG_MAX_LIST
#define MAX_SECRET_FILE 4096   /* an HMAC or client secret file */

/* s kept until unload in set's list, or NULL (s freed) when there is no
 * memory: the caller then fails with SASL_NOMEM, never carries on without it. */
static char *cfg_keep(struct oauth_settings *set, char *s)
{
    if (s && set->n_owned == set->cap_owned) {
        size_t cap = set->cap_owned ? 2 * set->cap_owned : 16;
        char **grown = realloc(set->owned, cap * sizeof(*set->owned));
        if (!grown) {
            /* it may be a secret file's content; or not yet written to */
            oauth_erase_free(s);
            return NULL;
        }
        set->owned = grown;
        set->cap_owned = cap;
    }
    if (s)
        set->owned[set->n_owned++] = s;
    return s;
}

void oauth_config_forget(struct oauth_settings *set)
{
    struct oauth_server_config *cfg = &set->cfg;
    size_t i;

    oauth_verifier_free(cfg->verifier);
    if (cfg->hmac_secret)
        sm_erase(cfg->hmac_secret, cfg->hmac_secret_len);
    if (cfg->client_secret)
        sm_erase(cfg->client_secret, strlen(cfg->client_secret));
    for (i = 0; i < set->n_owned; i++)
        free(set->owned[i]);
    free(set->owned);
    set->owned = NULL;
    set->n_owned = set->cap_owned = 0;
    memset(cfg, 0, sizeof(*cfg));
}

/* The name of the option to read: <prefix>_<name> when the application's
 * configuration sets it, else oauth_<name>. */
static const char *cfg_option(const struct oauth_plugin *p, const sasl_utils_t *utils,
                              const char *name, char buf[OPTION_NAME_MAX])
{
    const char *val = NULL;
    unsigned len = 0;

    snprintf(buf, OPTION_NAME_MAX, "%s_%s", p->prefix, name);
    if (utils->getopt && utils->getopt(utils->getopt_context, NULL, buf, &val, &len) == SASL_OK
        && val)
        return buf;
    snprintf(buf, OPTION_NAME_MAX, "oauth_%s", name);
    return buf;
}

const char *oauth_opt_string(const struct oauth_plugin *p, const sasl_utils_t *utils,
                             const char *name)
{
    char buf[OPTION_NAME_MAX];
    const char *val = NULL;
    unsigned len = 0;

    cfg_option(p, utils, name, buf);
    if (!utils->getopt || utils->getopt(utils->getopt_context, NULL, buf, &val, &len) != SASL_OK
        || !val || !*val)
        return NULL;
    return val;
}

/* A copy kept for the life of the plugin (the application's getopt answer
 * need not outlive the call) in *out, NULL when unset: SASL_OK or SASL_NOMEM. */
static int cfg_kept_opt(struct oauth_settings *set, const sasl_utils_t *utils, const char *name,
                        const char **out)
{
    const char *v = oauth_opt_string(set->plugin, utils, name);

    *out = v ? cfg_keep(set, strdup(v)) : NULL;
    return v && !*out ? SASL_NOMEM : SASL_OK;
}

/* Refuse option name (as the configuration spells it: oauth_<name> or
 * <prefix>_<name>) for the reason fmt gives after "<option>: ". */
static int cfg_bad(const struct oauth_plugin *p, const sasl_utils_t *utils, const char *name,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int cfg_bad(const struct oauth_plugin *p, const sasl_utils_t *utils, const char *name,
                   const char *fmt, ...)
{
    char opt[OPTION_NAME_MAX], why[SM_OPT_REASON_MAX];
    va_list ap;

    cfg_option(p, utils, name, opt);
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    return sm_opt_refuse(utils, opt, "%s: %s", opt, why);
}

/* A space-separated list into *items (pointing into a kept copy). */
static int cfg_list(struct oauth_settings *set, const sasl_utils_t *utils, const char *name,
                    const char **items, size_t *n)
{
    const struct oauth_plugin *p = set->plugin;
    const char *val = oauth_opt_string(p, utils, name);
    char *copy, *tok, *save = NULL;

    *n = 0;
    if (!val)
        return SASL_OK;
    if (!(copy = cfg_keep(set, strdup(val))))
        return SASL_NOMEM;
    for (tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
        if (*n == MAX_LIST)
            return cfg_bad(p, utils, name, "more than %d values", MAX_LIST);
        items[(*n)++] = tok;
    }
    return SASL_OK;
}

/* The content of a secret file (the owner's alone, at most MAX_SECRET_FILE
 * bytes as it stands on disk), its trailing newline then dropped. */
static int cfg_secret_file(struct oauth_settings *set, const sasl_utils_t *utils,
                           const char *name, const char *path, char **out, size_t *outlen)
{
    const struct oauth_plugin *p = set->plugin;
    struct oauth_err err;
    char *buf;
    size_t n;

    switch (oauth_read_file(path, "secret file", OAUTH_FILE_SECRET, MAX_SECRET_FILE, &buf, &n,
                            NULL, &err)) {
    case OAUTH_OK:
        break;
    case OAUTH_ERR_INTERNAL:
        return SASL_NOMEM;
    default:
        return cfg_bad(p, utils, name, "%s", err.reason);
    }
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    if (n == 0 || memchr(buf, '\0', n)) {
        sm_erase(buf, MAX_SECRET_FILE + 1);
        free(buf);
        return cfg_bad(p, utils, name, "%.128s is %s", path,
                       n == 0 ? "empty" : "holding a NUL byte");
    }
    buf[n] = '\0';
    *out = cfg_keep(set, buf);
    *outlen = n;
    return *out ? SASL_OK : SASL_NOMEM;
}

int oauth_opt_uint(const struct oauth_plugin *p, const sasl_utils_t *utils, const char *name,
                   unsigned def, unsigned min, unsigned max, unsigned *out)
{
    char buf[OPTION_NAME_MAX];

    return sm_opt_uint(utils, cfg_option(p, utils, name, buf), def, min, max, out);
}

int oauth_opt_bool(const struct oauth_plugin *p, const sasl_utils_t *utils, const char *name,
                   int def, int *out)
{
    char buf[OPTION_NAME_MAX];

    return sm_opt_bool(utils, cfg_option(p, utils, name, buf), def, out);
}

/* A number or a yes/no option that goes into the verifier's configuration
 * as it is: its name, its bounds (a yes/no: def only, min and max unused),
 * and where it goes (an offset in struct oauth_verify_config) as what type. */
enum cfg_type { CFG_LONG, CFG_ULONG, CFG_SIZE, CFG_YESNO };
struct cfg_number {
    const char *name;
    enum cfg_type type;
    unsigned def, min, max;
    size_t at;
};
/* member's offset, refused at compile time unless its type is t: a row
 * can never write a long into an int */
#define CFG_AT(member, t)                                                                   \
    (offsetof(struct oauth_verify_config, member)                                          \
     + 0 * sizeof(char[_Generic(((struct oauth_verify_config *)0)->member, t: 1, default: -1)]))
#define CFG_LONG_OPT(name, def, min, max, member) \
    {name, CFG_LONG, def, min, max, CFG_AT(member, long)}
#define CFG_ULONG_OPT(name, def, min, max, member) \
    {name, CFG_ULONG, def, min, max, CFG_AT(member, unsigned long)}
#define CFG_SIZE_OPT(name, def, min, max, member) \
    {name, CFG_SIZE, def, min, max, CFG_AT(member, size_t)}
#define CFG_YESNO_OPT(name, def, member) {name, CFG_YESNO, def, 0, 1, CFG_AT(member, int)}

/* Read the n options of t into vc, in their order: SASL_OK, or the first
 * refusal's code (logged). */
static int cfg_numbers(const struct oauth_plugin *p, const sasl_utils_t *utils,
                       const struct cfg_number *t, size_t n, struct oauth_verify_config *vc)
{
    size_t i;

    for (i = 0; i < n; i++) {
        char *to = (char *)vc + t[i].at;
        unsigned u = 0;
        int yes = 0, r;

        if (t[i].type == CFG_YESNO) {
            r = oauth_opt_bool(p, utils, t[i].name, (int)t[i].def, &yes);
            u = (unsigned)yes;
        } else {
            r = oauth_opt_uint(p, utils, t[i].name, t[i].def, t[i].min, t[i].max, &u);
        }
        if (r)
            return r;
        switch (t[i].type) {
        case CFG_LONG: *(long *)(void *)to = (long)u; break;
        case CFG_ULONG: *(unsigned long *)(void *)to = u; break;
        case CFG_SIZE: *(size_t *)(void *)to = u; break;
        case CFG_YESNO: *(int *)(void *)to = (int)u; break;
        }
    }
    return SASL_OK;
}

/* The server's numbers and yes/no options, in groups read where
 * cfg_read_all reads the rest of their kind, so that with several bad
 * options the first one refused (the errdetail) is the one it always was.
 * The token policy, after the claim: */
static const struct cfg_number cfg_policy_numbers[] = {
    CFG_LONG_OPT("leeway", 60, 0, OAUTH_JWT_MAX_LEEWAY, policy.leeway),
    CFG_SIZE_OPT("max_token_length", OAUTH_DEFAULT_MAX_TOKEN, 256, OAUTH_MAX_TOKEN_LIMIT,
                 policy.max_token_len),
    CFG_YESNO_OPT("require_typ", 0, policy.require_typ),
    CFG_YESNO_OPT("require_email_verified", 1, policy.require_email_verified),
};
/* HTTP, for a JWKS URL and introspection, and the key set's fetches, after
 * the HMAC secret: */
static const struct cfg_number cfg_fetch_numbers[] = {
    CFG_LONG_OPT("http_timeout", 10000, 100, 120000, http.timeout_ms),
    CFG_LONG_OPT("http_connect_timeout", 5000, 100, 120000, http.connect_timeout_ms),
    CFG_YESNO_OPT("allow_insecure_http", 0, http.allow_insecure),
    CFG_LONG_OPT("jwks_refresh_interval", 60, 1, 86400, jwks_refresh_interval),
    CFG_LONG_OPT("jwks_max_age", 3600, 60, 7 * 86400, jwks_max_age),
};
/* The verified-JWT cache and discovery, after the key set's folder: */
static const struct cfg_number cfg_fleet_numbers[] = {
    CFG_SIZE_OPT("jwt_cache_size", 1024, 0, OAUTH_JWT_CACHE_MAX, jwt_cache_size),
    CFG_YESNO_OPT("discovery", 0, discovery),
};
/* Introspection's own cache, after its client authentication: */
static const struct cfg_number cfg_ttl_numbers[] = {
    CFG_LONG_OPT("introspection_cache_ttl", 300, 0, 86400, introspect.positive_ttl),
    CFG_LONG_OPT("introspection_negative_ttl", 30, 0, 3600, introspect.negative_ttl),
};

/* The introspection cache's, read only with validation: introspection. */
static const struct cfg_number cfg_icache_numbers[] = {
    CFG_LONG_OPT("introspection_cache_timeout", 250, 10, 5000, introspect.cache_timeout_ms),
    CFG_ULONG_OPT("introspection_max_per_interval", 600, 0, 1000000,
                  introspect.max_per_interval),
    CFG_LONG_OPT("introspection_interval", 60, 1, 3600, introspect.interval),
};

#define CFG_COUNT(t) (sizeof(t) / sizeof((t)[0]))
#define CFG_READ(t) cfg_numbers(p, utils, (t), CFG_COUNT(t), vc)

static const char *const modes[] = {"jwt", "introspection", NULL};
static const char *const claims[] = {"email", "preferred_username", "upn", "sub", NULL};
static const char *const auths[] = {"client_secret_basic", "client_secret_post", NULL};

/* The introspection cache shared through a cache server, and the bound on
 * requests to the endpoint (oauth_icache.h, oauth_introspect.h). */
static int cfg_read_icache(struct oauth_settings *set, const sasl_utils_t *utils,
                           struct oauth_verify_config *vc)
{
    static const char *const only[] = {"introspection_cache_server",
                                       "introspection_cache_key_file",
                                       "introspection_cache_timeout",
                                       "introspection_max_per_interval",
                                       "introspection_interval", NULL};
    const struct oauth_plugin *p = set->plugin;
    char a[OPTION_NAME_MAX], b[OPTION_NAME_MAX];
    const char *const *o;
    const char *s;
    char *key = NULL;
    size_t keylen = 0;
    int r;

    if (vc->mode == OAUTH_VERIFY_JWT) {
        for (o = only; *o; o++)
            if (oauth_opt_string(p, utils, *o))
                return sm_opt_refuse(utils, cfg_option(p, utils, *o, a), "%s is set but %s is "
                                     "jwt (the default): remove it, or set %s: introspection", a,
                                     cfg_option(p, utils, "validation", b), b);
        return SASL_OK;
    }
    if ((r = cfg_kept_opt(set, utils, "introspection_cache_server",
                          &vc->introspect.cache_server)))
        return r;
    if ((s = oauth_opt_string(p, utils, "introspection_cache_key_file"))) {
        if ((r = cfg_secret_file(set, utils, "introspection_cache_key_file", s, &key, &keylen)))
            return r;
        if (keylen < OAUTH_ICACHE_MIN_SECRET)
            return cfg_bad(p, utils, "introspection_cache_key_file", "%.128s holds fewer than "
                           "%d bytes (make one with e.g. openssl rand -hex 32 >FILE)", s,
                           OAUTH_ICACHE_MIN_SECRET);
        if (!vc->introspect.cache_server)
            return sm_opt_refuse(utils, cfg_option(p, utils, "introspection_cache_key_file", a),
                                 "%s is set but %s is not", a,
                                 cfg_option(p, utils, "introspection_cache_server", b));
    } else if (vc->introspect.cache_server) {
        /* anyone who can write to the cache server could otherwise say
         * "active" for any token: the HMAC is not optional */
        return sm_opt_refuse(utils, cfg_option(p, utils, "introspection_cache_server", a),
                             "%s needs %s (a key of at least %d bytes without NUL, the same "
                             "on every host, that authenticates what is stored there: e.g. "
                             "openssl rand -hex 32 >FILE)", a,
                             cfg_option(p, utils, "introspection_cache_key_file", b),
                             OAUTH_ICACHE_MIN_SECRET);
    }
    vc->introspect.cache_secret = (const unsigned char *)key;
    vc->introspect.cache_secret_len = keylen;
    return CFG_READ(cfg_icache_numbers);
}

/* A problem of the key caches (a cache file not trusted, a folder that
 * cannot be written): logged, never a verdict. */
static void cfg_note(void *ctx, const char *text)
{
    const sasl_utils_t *utils = ctx;

    utils->log(NULL, SASL_LOG_WARN, "sasl-mechs: OAuth key cache: %s", text);
}

/* Fleet scale (oauth_jwks_cache.h, oauth_jwt_cache.h, oauth_issuers.h): the
 * host's folder for fetched key sets, and where the key caches' problems
 * go, the verified-JWT cache's size and discovery. */
static int cfg_fleet(struct oauth_settings *set, const sasl_utils_t *utils,
                     struct oauth_verify_config *vc)
{
    const struct oauth_plugin *p = set->plugin;
    int r;

    if ((r = cfg_kept_opt(set, utils, "jwks_cache_dir", &vc->jwks_cache_dir)))
        return r;
    /* checked when used, not now: a chrooted server names it inside the chroot */
    if (vc->jwks_cache_dir && vc->jwks_cache_dir[0] != '/')
        return cfg_bad(p, utils, "jwks_cache_dir", "not an absolute path");
    if ((r = CFG_READ(cfg_fleet_numbers)))
        return r;
    vc->note = cfg_note;
    vc->note_ctx = (void *)utils;
    return SASL_OK;
}

/* Everything but the verifier; SASL_OK, SASL_CONFIGERR (logged) or SASL_NOMEM. */
static int cfg_read_all(struct oauth_settings *set, const sasl_utils_t *utils,
                        struct oauth_verify_config *vc)
{
    const struct oauth_plugin *p = set->plugin;
    struct oauth_server_config *cfg = &set->cfg;
    char buf[OPTION_NAME_MAX];
    const char *s;
    unsigned mode, claim, auth;
    int r;

    memset(vc, 0, sizeof(*vc));
    oauth_http_options_default(&vc->http);
    oauth_introspect_config_default(&vc->introspect);
    if ((r = sm_opt_choice(utils, cfg_option(p, utils, "validation", buf), modes, 0, &mode))
        || (r = cfg_list(set, utils, "issuers", cfg->issuers, &cfg->n_issuers))
        || (r = cfg_list(set, utils, "audiences", cfg->audiences, &cfg->n_audiences))
        || (r = cfg_list(set, utils, "required_scopes", cfg->scopes, &cfg->n_scopes))
        || (r = sm_opt_choice(utils, cfg_option(p, utils, "user_claim", buf), claims, 0, &claim)))
        return r;
    vc->mode = mode ? OAUTH_VERIFY_INTROSPECTION : OAUTH_VERIFY_JWT;
    vc->policy.issuers = cfg->issuers;
    vc->policy.n_issuers = cfg->n_issuers;
    vc->policy.audiences = cfg->audiences;
    vc->policy.n_audiences = cfg->n_audiences;
    vc->policy.scopes = cfg->scopes;
    vc->policy.n_scopes = cfg->n_scopes;
    vc->policy.user_claim = claims[claim];
    if ((r = CFG_READ(cfg_policy_numbers)))
        return r;
    cfg->max_token = vc->policy.max_token_len;
    if ((s = oauth_opt_string(p, utils, "hmac_secret_file"))) {
        if ((r = cfg_secret_file(set, utils, "hmac_secret_file", s, &cfg->hmac_secret,
                                 &cfg->hmac_secret_len)))
            return r;
        if (cfg->hmac_secret_len < OAUTH_JWT_MIN_HMAC_SECRET)
            /* not how many it holds: the errdetail may reach the client (slapd) */
            return cfg_bad(p, utils, "hmac_secret_file", "%.128s holds fewer than %d bytes, the "
                           "least an HS256 secret needs", s, OAUTH_JWT_MIN_HMAC_SECRET);
        vc->policy.hmac_secret = (const unsigned char *)cfg->hmac_secret;
        vc->policy.hmac_secret_len = cfg->hmac_secret_len;
    }
    /* HTTP, for a JWKS URL and introspection; the key set's fetches (the
     * paths and URLs beside them are only kept, never refused: the order
     * of refusals is the one it was) */
    if ((r = CFG_READ(cfg_fetch_numbers))
        || (r = cfg_kept_opt(set, utils, "ca_file", &vc->http.ca_file)))
        return r;
    /* JWT: the key set */
    if ((r = cfg_kept_opt(set, utils, "jwks_file", &vc->jwks_file))
        || (r = cfg_kept_opt(set, utils, "jwks_url", &vc->jwks_url)))
        return r;
    if ((r = cfg_fleet(set, utils, vc)))
        return r;
    /* introspection */
    if ((r = cfg_kept_opt(set, utils, "introspection_url", &vc->introspect.endpoint))
        || (r = cfg_kept_opt(set, utils, "client_id", &vc->introspect.client_id)))
        return r;
    vc->introspect.http = vc->http;
    if ((s = oauth_opt_string(p, utils, "client_secret_file"))) {
        size_t len;
        if ((r = cfg_secret_file(set, utils, "client_secret_file", s, &cfg->client_secret, &len)))
            return r;
        vc->introspect.client_secret = cfg->client_secret;
    }
    if ((r = sm_opt_choice(utils, cfg_option(p, utils, "client_auth", buf), auths, 0, &auth)))
        return r;
    vc->introspect.client_auth = auth ? OAUTH_CLIENT_AUTH_POST : OAUTH_CLIENT_AUTH_BASIC;
    if ((r = CFG_READ(cfg_ttl_numbers)) || (r = cfg_read_icache(set, utils, vc)))
        return r;
    /* what the error challenge advertises */
    if ((r = cfg_kept_opt(set, utils, "openid_configuration", &cfg->openid_configuration))
        || (r = cfg_kept_opt(set, utils, "error_scope", &cfg->error_scope)))
        return r;
    if (!cfg->error_scope && cfg->n_scopes) {
        size_t i, len = 0;
        char *joined;
        for (i = 0; i < cfg->n_scopes; i++)
            len += strlen(cfg->scopes[i]) + 1;
        if (!(joined = cfg_keep(set, malloc(len))))
            return SASL_NOMEM;
        joined[0] = '\0';
        for (i = 0; i < cfg->n_scopes; i++)
            strcat(strcat(joined, i ? " " : ""), cfg->scopes[i]);
        cfg->error_scope = joined;
    }
    return SASL_OK;
}

/* A URL option the server will fetch: one libcurl parses, https:// or
 * allowed http://.  The URL itself is not quoted: it may hold a password
 * (the very reason it is refused), and the errdetail may reach the client
 * (slapd sends it as the bind's diagnostic message). */
static int cfg_check_url(const struct oauth_plugin *p, const sasl_utils_t *utils, const char *name,
                         const char *url, int allow_insecure)
{
    char allow[OPTION_NAME_MAX];
    int insecure;

    if (!url)
        return SASL_OK;
    insecure = oauth_http_url_insecure(url);
    if (insecure < 0)
        return cfg_bad(p, utils, name, "not an https:// URL (scheme, host, path; no user or "
                       "password in it)");
    if (insecure > 0 && !allow_insecure)
        return cfg_bad(p, utils, name, "http:// to a host other than loopback: use https://, or "
                       "set %s: yes", cfg_option(p, utils, "allow_insecure_http", allow));
    return SASL_OK;
}

/* Discovery: no key source besides it, and every issuer a URL to fetch. */
static int cfg_check_discovery(const struct oauth_settings *set, const sasl_utils_t *utils,
                               const struct oauth_verify_config *vc)
{
    const struct oauth_plugin *p = set->plugin;
    char a[OPTION_NAME_MAX], b[OPTION_NAME_MAX];
    size_t i;
    int r;

    cfg_option(p, utils, "discovery", a);
    if (vc->jwks_file || vc->jwks_url)
        return sm_opt_refuse(utils, a, "%s is yes and %s is set: the keys come from one of them",
                             a, cfg_option(p, utils, vc->jwks_file ? "jwks_file" : "jwks_url",
                                           b));
    for (i = 0; i < set->cfg.n_issuers; i++)
        if ((r = cfg_check_url(p, utils, "issuers", set->cfg.issuers[i],
                               vc->http.allow_insecure)))
            return r;
    return SASL_OK;
}

/* Options that are each valid but together cannot work, or would be
 * ignored: refused with the names of all the options involved. */
static int cfg_check_combinations(const struct oauth_settings *set, const sasl_utils_t *utils,
                                  const struct oauth_verify_config *vc)
{
    const struct oauth_plugin *p = set->plugin;
    const struct oauth_server_config *cfg = &set->cfg;
    static const char *const jwt_only[] = {"jwks_file", "jwks_url", "hmac_secret_file",
                                           "jwks_cache_dir", NULL};
    static const char *const introspection_only[] = {"introspection_url", "client_id",
                                                     "client_secret_file", NULL};
    const char *const *unused = vc->mode == OAUTH_VERIFY_JWT ? introspection_only : jwt_only;
    char a[OPTION_NAME_MAX], b[OPTION_NAME_MAX], c[OPTION_NAME_MAX], d[OPTION_NAME_MAX];
    int r;

    if (!cfg->n_issuers)
        return sm_opt_refuse(utils, cfg_option(p, utils, "issuers", a), "%s is required: the "
                             "issuers (iss) whose tokens are accepted, space-separated", a);
    if (!cfg->n_audiences)
        return sm_opt_refuse(utils, cfg_option(p, utils, "audiences", a), "%s is required: the "
                             "audiences (aud) of this service, one of which a token must name, "
                             "space-separated", a);
    cfg_option(p, utils, "validation", a);
    for (; *unused; unused++)
        if (oauth_opt_string(p, utils, *unused))
            return sm_opt_refuse(utils, cfg_option(p, utils, *unused, b),
                                 "%s is set but %s is %s: remove it, or set %s: %s", b, a,
                                 vc->mode == OAUTH_VERIFY_JWT ? "jwt (the default)"
                                                              : "introspection",
                                 a, vc->mode == OAUTH_VERIFY_JWT ? "introspection" : "jwt");
    if (vc->mode == OAUTH_VERIFY_JWT) {
        cfg_option(p, utils, "jwks_file", b);
        cfg_option(p, utils, "jwks_url", c);
        if (vc->jwks_file && vc->jwks_url)
            return sm_opt_refuse(utils, b, "%s and %s are both set: JWT validation takes its "
                                 "keys from one of them", b, c);
        if (vc->discovery)
            return cfg_check_discovery(set, utils, vc);
        if (!vc->jwks_file && !vc->jwks_url)
            return sm_opt_refuse(utils, b, "%s is jwt (the default) but neither %s nor %s is "
                                 "set: name the issuer's signing keys, or set %s: yes to find "
                                 "them from each issuer, or set %s: introspection",
                                 a, b, c, cfg_option(p, utils, "discovery", d), a);
        return cfg_check_url(p, utils, "jwks_url", vc->jwks_url, vc->http.allow_insecure);
    }
    if (!vc->introspect.endpoint)
        return sm_opt_refuse(utils, a, "%s is introspection but %s is not set", a,
                             cfg_option(p, utils, "introspection_url", b));
    if (!vc->introspect.client_id || !vc->introspect.client_secret)
        return sm_opt_refuse(utils, cfg_option(p, utils, "introspection_url", a),
                             "%s needs %s and %s (the server's credentials at the endpoint)", a,
                             cfg_option(p, utils, "client_id", b),
                             cfg_option(p, utils, "client_secret_file", c));
    if ((r = cfg_check_url(p, utils, "introspection_url", vc->introspect.endpoint,
                           vc->http.allow_insecure)))
        return r;
    return SASL_OK;
}

int oauth_config_read(struct oauth_settings *set, const sasl_utils_t *utils)
{
    const struct oauth_plugin *p = set->plugin;
    struct oauth_server_config *cfg = &set->cfg;
    struct oauth_verify_config vc;
    struct oauth_err err;
    char a[OPTION_NAME_MAX], b[OPTION_NAME_MAX];
    int r;

    oauth_config_forget(set);
    cfg->configured = oauth_opt_string(p, utils, "issuers") || oauth_opt_string(p, utils, "jwks_file")
                     || oauth_opt_string(p, utils, "jwks_url")
                     || oauth_opt_string(p, utils, "introspection_url");
    if (!cfg->configured) {
        /* not an error: a site that does not use OAuth on this server */
        utils->log(NULL, SASL_LOG_NOTE, "sasl-mechs: %s server not configured (no oauth_issuers): "
                   "the mechanism is not offered", p->name);
        return SASL_OK;
    }
    if ((r = cfg_read_all(set, utils, &vc)) != SASL_OK || (r = cfg_check_combinations(set, utils, &vc)))
        return r;
    /* the error challenge is built from options: if it cannot be, every
     * refused token would become a temporary failure, so refuse them now */
    {
        char json[OAUTH_MAX_ERROR_JSON + 1];
        size_t len;
        if (oauth_build_error_json(p->mech, OAUTH_STATUS_INSUFFICIENT_SCOPE, cfg->error_scope,
                                   cfg->openid_configuration, json, sizeof(json), &len)
            != OAUTH_CODEC_OK)
            return sm_opt_refuse(utils, cfg_option(p, utils, "error_scope", a),
                                 "%s (or %s, or the required scopes): the error challenge "
                                 "cannot carry it (printable ASCII without '\"' or '\\', at "
                                 "most 4 KiB in all)", a,
                                 cfg_option(p, utils, "openid_configuration", b));
    }
    /* what is left to refuse here has no option of its own */
    if (oauth_verifier_new(&vc, &cfg->verifier, &err) != OAUTH_OK)
        return sm_opt_refuse(utils, "oauth", "%s server options: %s", p->name, err.reason);
    if (vc.jwks_url || vc.discovery || vc.mode == OAUTH_VERIFY_INTROSPECTION) {
        /* before a chrooted application (Postfix) loses its files */
        if (oauth_http_init(&err) != OAUTH_HTTP_OK)
            return sm_opt_refuse(utils, "oauth", "%s: %s", p->name, err.reason);
    }
    return SASL_OK;
}
