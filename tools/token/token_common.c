/* The token tool's shared pieces: see token_common.h. */
#include "config.h"
#include "token_common.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include <sasl-mechs/base64.h>
#include <sasl-mechs/secret.h>

#include "oauth_util.h"

#define MAX_SECRET 4096

void token_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "sasl-mechs-token %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void token_http_options(const struct token_http *t, struct oauth_http_options *o)
{
    oauth_http_options_default(o);
    o->ca_file = t->ca_file;
    o->proxy = t->proxy;
    if (t->timeout_ms > 0)
        o->timeout_ms = t->timeout_ms;
}

char *token_read_secret(const char *cmd, const char *from)
{
    struct oauth_err err;
    char *buf = NULL;
    size_t len = 0;

    oauth_err_clear(&err);
    if (strcmp(from, "-") == 0) {
        ssize_t got;
        if (!(buf = malloc(MAX_SECRET + 2))) {
            token_fail(cmd, "out of memory");
            return NULL;
        }
        /* read(2), not stdio: no copy of the secret left in stdin's buffer */
        while (len <= MAX_SECRET
               && ((got = read(0, buf + len, MAX_SECRET + 1 - len)) > 0
                   || (got < 0 && errno == EINTR)))
            if (got > 0)
                len += (size_t)got;
        if (len > MAX_SECRET) {
            token_fail(cmd, "the client secret on standard input is longer than %d bytes",
                       MAX_SECRET);
            sm_erase(buf, len);
            free(buf);
            return NULL;
        }
        buf[len] = '\0';
    } else if (oauth_read_file(from, "client secret file", OAUTH_FILE_SECRET, MAX_SECRET, &buf,
                               &len, NULL, &err) != OAUTH_OK) {
        token_fail(cmd, "%s", err.reason);
        return NULL;
    }
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        buf[--len] = '\0';
    if (len == 0 || strlen(buf) != len) {
        token_fail(cmd, "the client secret from %s is empty or holds a NUL byte",
                   strcmp(from, "-") == 0 ? "standard input" : from);
        oauth_secret_free(buf);
        return NULL;
    }
    return buf;
}

int token_refuse_secret_argv(const char *cmd, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--client-secret") == 0
            || strncmp(argv[i], "--client-secret=", 16) == 0) {
            token_fail(cmd, "refusing a client secret on the command line: every user of this "
                            "machine can read it in the process list (ps) and it stays in the "
                            "shell's history. Give it with --client-secret-file FILE (readable "
                            "by its owner only) or --client-secret-file - (standard input).");
            return 2;
        }
    }
    return 0;
}

int token_parse_owner(const char *cmd, const char *spec, long *uid, long *gid)
{
    char *user = strdup(spec), *group;
    struct passwd *pw;
    struct group *gr;
    int rc = -1;

    if (!user) {
        token_fail(cmd, "out of memory");
        return -1;
    }
    if ((group = strchr(user, ':')))
        *group++ = '\0';
    if (!(pw = getpwnam(user))) {
        token_fail(cmd, "--owner: no user '%s'", user);
        goto out;
    }
    *uid = (long)pw->pw_uid;
    *gid = (long)pw->pw_gid;
    if (group && group[0]) {
        if (!(gr = getgrnam(group))) {
            token_fail(cmd, "--owner: no group '%s'", group);
            goto out;
        }
        *gid = (long)gr->gr_gid;
    }
    rc = 0;
out:
    free(user);
    return rc;
}

void token_provider_clear(struct token_provider *p)
{
    free(p->token_endpoint);
    free(p->device_endpoint);
    free(p->authorization_endpoint);
    free(p->revocation_endpoint);
    free(p->scope);
    memset(p, 0, sizeof(*p));
}

static char *token_cat(const char *a, const char *b, const char *c, const char *d)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + strlen(d) + 1;
    char *s = malloc(n);

    if (s)
        snprintf(s, n, "%s%s%s%s", a, b, c, d);
    return s;
}

/* Microsoft's clouds: the login host and the Exchange Online resource for
 * delegated scopes (SMTP.Send...) and for app-only (.default). */
struct token_cloud {
    const char *name, *login, *outlook, *outlook_app;
};
static const struct token_cloud token_clouds[] = {
    {"global", "https://login.microsoftonline.com", "https://outlook.office.com",
     "https://outlook.office365.com"},
    {"usgov", "https://login.microsoftonline.us", "https://outlook.office365.us",
     "https://outlook.office365.us"},
    {"dod", "https://login.microsoftonline.us", "https://outlook-dod.office365.us",
     "https://outlook-dod.office365.us"},
    {"china", "https://login.chinacloudapi.cn", "https://partner.outlook.cn",
     "https://partner.outlook.cn"},
};

static const struct {
    const char *name, *scope;
} token_ms_services[] = {
    {"smtp", "SMTP.Send"},
    {"imap", "IMAP.AccessAsUser.All"},
    {"pop", "POP.AccessAsUser.All"},
};

/* "offline_access openid profile https://outlook.../SMTP.Send ..." */
static char *token_ms_scope(const char *cmd, const struct token_cloud *cl, const char *services)
{
    enum { NSERV = sizeof(token_ms_services) / sizeof(token_ms_services[0]) };
    char buf[1024], *list = strdup(services ? services : "smtp"), *tok, *save = NULL;
    int seen[NSERV] = {0};
    size_t n;

    if (!list)
        return NULL;
    n = (size_t)snprintf(buf, sizeof(buf), "offline_access openid profile");
    for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        size_t i;
        int w;
        for (i = 0; i < NSERV; i++)
            if (strcmp(tok, token_ms_services[i].name) == 0)
                break;
        if (i == NSERV) {
            token_fail(cmd, "--service: '%s' is not smtp, imap or pop", tok);
            free(list);
            return NULL;
        }
        if (seen[i]++) {
            token_fail(cmd, "--service: '%s' given more than once", tok);
            free(list);
            return NULL;
        }
        w = snprintf(buf + n, sizeof(buf) - n, " %s/%s", cl->outlook, token_ms_services[i].scope);
        if (w < 0 || (size_t)w >= sizeof(buf) - n) {
            token_fail(cmd, "--service: the scope would be too long");
            free(list);
            return NULL;
        }
        n += (size_t)w;
    }
    free(list);
    return strdup(buf);
}

static int token_check_url(const char *cmd, const char *what, const char *url)
{
    int r = oauth_http_url_insecure(url);

    if (r < 0) {
        token_fail(cmd, "%s '%s' is not an http(s) URL", what, url);
        return -1;
    }
    if (r > 0) {
        token_fail(cmd, "%s '%s': https is required (http:// only to a loopback address)",
                   what, url);
        return -1;
    }
    return 0;
}

/* A tenant: a name (common, organizations, consumers), a GUID or a
 * domain: letters, digits, '.', '-' */
static int token_tenant_ok(const char *t)
{
    if (!t[0] || strlen(t) > 128)
        return 0;
    for (; *t; t++)
        if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') || (*t >= '0' && *t <= '9')
              || *t == '.' || *t == '-'))
            return 0;
    return 1;
}

static int token_set(char **dst, const char *src)
{
    if (!src)
        return 0;
    free(*dst);
    return (*dst = strdup(src)) ? 0 : -1;
}

int token_provider_make(const char *cmd, const struct token_preset_args *a,
                        const struct oauth_http_options *http, struct token_provider *out)
{
    const char *prov = a->provider ? a->provider : "microsoft";

    memset(out, 0, sizeof(*out));
    out->secret_auth = OAUTH_GRANT_AUTH_POST;
    if (a->login_host && token_check_url(cmd, "--login-host", a->login_host) != 0)
        return -1;
    if (strcmp(prov, "microsoft") == 0) {
        const struct token_cloud *cl = NULL;
        const char *tenant = a->tenant ? a->tenant : (a->app_only ? NULL : "common");
        const char *base;
        char *pre;
        for (size_t i = 0; i < sizeof(token_clouds) / sizeof(token_clouds[0]); i++)
            if (strcmp(a->cloud ? a->cloud : "global", token_clouds[i].name) == 0)
                cl = &token_clouds[i];
        if (!cl) {
            token_fail(cmd, "--cloud: '%s' is not global, usgov, dod or china", a->cloud);
            return -1;
        }
        if (!tenant) {
            token_fail(cmd, "app-only sign-in needs --tenant (your tenant id or domain)");
            return -1;
        }
        if (!token_tenant_ok(tenant)) {
            token_fail(cmd, "--tenant: '%s' is not common, organizations, a tenant id or a "
                            "domain", tenant);
            return -1;
        }
        if (a->app_only && (strcmp(tenant, "common") == 0
                            || strcmp(tenant, "organizations") == 0
                            || strcmp(tenant, "consumers") == 0)) {
            token_fail(cmd, "app-only sign-in needs your own tenant (id or domain), not '%s'",
                       tenant);
            return -1;
        }
        out->name = "microsoft";
        base = a->login_host ? a->login_host : cl->login;
        if (!(pre = token_cat(base, "/", tenant, "/oauth2/v2.0/")))
            goto oom;
        out->token_endpoint = token_cat(pre, "token", "", "");
        out->device_endpoint = token_cat(pre, "devicecode", "", "");
        out->authorization_endpoint = token_cat(pre, "authorize", "", "");
        free(pre);
        /* Microsoft has no RFC 7009 revocation endpoint */
        out->scope = a->app_only ? token_cat(cl->outlook_app, "/.default", "", "")
                                 : token_ms_scope(cmd, cl, a->services);
        if (!out->token_endpoint || !out->device_endpoint || !out->authorization_endpoint
            || !out->scope)
            goto fail;
        out->default_flow = a->app_only ? TOKEN_FLOW_CLIENT_CREDENTIALS : TOKEN_FLOW_DEVICE;
    } else if (strcmp(prov, "google") == 0) {
        out->name = "google";
        out->google = 1;
        if (a->login_host) {
            out->authorization_endpoint = token_cat(a->login_host, "/o/oauth2/v2/auth", "", "");
            out->token_endpoint = token_cat(a->login_host, "/token", "", "");
            out->revocation_endpoint = token_cat(a->login_host, "/revoke", "", "");
        } else {
            out->authorization_endpoint = strdup("https://accounts.google.com/o/oauth2/v2/auth");
            out->token_endpoint = strdup("https://oauth2.googleapis.com/token");
            out->revocation_endpoint = strdup("https://oauth2.googleapis.com/revoke");
        }
        /* Google's device flow does not grant the mail scope */
        out->scope = strdup("https://mail.google.com/ openid email");
        if (!out->authorization_endpoint || !out->token_endpoint || !out->revocation_endpoint
            || !out->scope)
            goto oom;
        out->default_flow = TOKEN_FLOW_AUTHCODE;
    } else if (strcmp(prov, "generic") == 0) {
        out->name = "generic";
        out->secret_auth = OAUTH_GRANT_AUTH_BASIC;
        if (a->issuer) {
            struct oauth_discovery d;
            struct oauth_err err;
            enum oauth_grant_status gs;
            oauth_err_clear(&err);
            if ((gs = oauth_discover(a->issuer, http, &d, &err)) != OAUTH_GRANT_OK) {
                token_fail(cmd, "discovery of %s: %s", a->issuer, err.reason);
                return -1;
            }
            out->token_endpoint = d.token_endpoint;
            out->device_endpoint = d.device_authorization_endpoint;
            out->authorization_endpoint = d.authorization_endpoint;
            out->revocation_endpoint = d.revocation_endpoint;
            d.token_endpoint = d.device_authorization_endpoint = d.authorization_endpoint =
                d.revocation_endpoint = NULL;
            oauth_discovery_clear(&d);
        }
        out->default_flow = TOKEN_FLOW_NONE;
    } else {
        token_fail(cmd, "--provider: '%s' is not microsoft, google or generic", prov);
        return -1;
    }
    if (token_set(&out->token_endpoint, a->token_endpoint) != 0
        || token_set(&out->device_endpoint, a->device_endpoint) != 0
        || token_set(&out->authorization_endpoint, a->authorization_endpoint) != 0
        || token_set(&out->revocation_endpoint, a->revocation_endpoint) != 0
        || token_set(&out->scope, a->scope) != 0)
        goto oom;
    if (!out->token_endpoint) {
        token_fail(cmd, "no token endpoint: give --issuer or --token-endpoint");
        goto fail;
    }
    if (token_check_url(cmd, "token endpoint", out->token_endpoint) != 0
        || (out->device_endpoint
            && token_check_url(cmd, "device endpoint", out->device_endpoint) != 0)
        || (out->authorization_endpoint
            && token_check_url(cmd, "authorization endpoint", out->authorization_endpoint) != 0)
        || (out->revocation_endpoint
            && token_check_url(cmd, "revocation endpoint", out->revocation_endpoint) != 0))
        goto fail;
    if (out->default_flow == TOKEN_FLOW_NONE)
        out->default_flow = a->app_only ? TOKEN_FLOW_CLIENT_CREDENTIALS
                            : out->device_endpoint ? TOKEN_FLOW_DEVICE : TOKEN_FLOW_AUTHCODE;
    return 0;
oom:
    token_fail(cmd, "out of memory");
fail:
    token_provider_clear(out);
    return -1;
}

char *token_jwt_claim(const char *jwt, const char *name)
{
    const char *a = jwt ? strchr(jwt, '.') : NULL, *b = a ? strchr(a + 1, '.') : NULL;
    size_t n, got;
    char *raw, *res = NULL;
    json_t *root, *v;
    json_error_t jerr;

    if (!b)
        return NULL;
    n = (size_t)(b - a - 1);
    if (!(raw = malloc(sm_b64_decoded_max(n) + 1)))
        return NULL;
    if (sm_b64_decode(SM_B64_URL, a + 1, n, raw, sm_b64_decoded_max(n) + 1, &got) == 0
        && (root = json_loadb(raw, got, 0, &jerr))) {
        v = json_object_get(root, name);
        if (json_is_string(v))
            res = strdup(json_string_value(v));
        json_decref(root);
    }
    free(raw);
    return res;
}

int token_printable(const char *s)
{
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e)
            return 0;
    return 1;
}

int token_owner_may(const char *path, long uid, long gid, unsigned bits)
{
    struct stat sb;

    if (uid == 0)
        return 1;
    if (stat(path, &sb) != 0)
        return 0;
    if ((long)sb.st_uid == uid)
        return (sb.st_mode & (bits << 6)) != 0;
    if ((long)sb.st_gid == gid)
        return (sb.st_mode & (bits << 3)) != 0;
    return (sb.st_mode & bits) != 0;
}

int token_file_args(const char *cmd, int argc, char **argv, const char **file, int *show_token,
                    struct token_http *http)
{
    static const struct option opts[] = {
        {"file", required_argument, NULL, 'f'},
        {"show-token", no_argument, NULL, 's'},
        {"ca-file", required_argument, NULL, 'c'},
        {"proxy", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'f') {
            *file = optarg;
        } else if (c == 's' && show_token) {
            *show_token = 1;
        } else if ((c == 'c' || c == 'p') && http) {
            *(c == 'c' ? &http->ca_file : &http->proxy) = optarg;
        } else if (c == 'h') {
            printf("usage: sasl-mechs-token %s [--file] PATH%s%s\n", cmd,
                   show_token ? " [--show-token]" : "",
                   http ? " [--ca-file FILE] [--proxy URL]" : "");
            return 0;
        } else {
            if (c != '?')
                token_fail(cmd, "%s takes no such option", cmd);
            return 2;
        }
    }
    if (optind < argc && !*file)
        *file = argv[optind++];
    if (optind < argc || !*file) {
        token_fail(cmd, "give the token file: --file PATH");
        return 2;
    }
    return -1;
}
