/* sasl-mechs-token obtain: sign in and write a new token file. */
#define _GNU_SOURCE 1
#include "config.h"
#include "token.h"
#include "token_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include <sasl-mechs/secret.h>

#include "oauth_tokenfile.h"
#include "oauth_util.h"

#define CMD "obtain"

static void obtain_usage(FILE *f)
{
    fputs("usage: sasl-mechs-token obtain --force --file PATH [options]\n"
          "  --file PATH               the token file to write (mode 0600, atomically)\n"
          "  --owner USER[:GROUP]      its owner (e.g. postfix); default: you\n"
          "  --force                   replace an existing file\n"
          "  --provider NAME           microsoft (default), google or generic\n"
          "  --flow FLOW               device, authcode or client-credentials\n"
          "  --client-id ID            the application (client) id\n"
          "  --client-secret-file F|-  the client secret, from a file or standard input\n"
          "  --certificate CERT.pem --private-key KEY.pem\n"
          "                            app-only sign-in with a certificate (private_key_jwt)\n"
          "  --app-only                client credentials (no person signs in)\n"
          "  --tenant T                microsoft: common (default), organizations, id, domain\n"
          "  --cloud C                 microsoft: global (default), usgov, dod, china\n"
          "  --service S[,S]           microsoft: smtp (default), imap, pop\n"
          "  --scope SCOPES            instead of the preset's\n"
          "  --login-host URL          the preset's login host replaced (https, or loopback)\n"
          "  --issuer URL              generic: OpenID discovery\n"
          "  --token-endpoint URL --device-endpoint URL --authorization-endpoint URL\n"
          "  --revocation-endpoint URL explicit endpoints\n"
          "  --port N                  authcode: the loopback port (default: a free one)\n"
          "  --no-browser              authcode on a headless server: prints the ssh -L line\n"
          "                            and reads the redirected URL pasted on standard input\n"
          "  --user NAME               recorded in the file (default: from the sign-in)\n"
          "  --timeout SECONDS         give up waiting for the sign-in (default 900)\n"
          "  --ca-file FILE --proxy URL  for the provider's endpoints\n",
          f);
}

struct obtain {
    struct token_preset_args preset;
    struct token_http http_args;
    struct oauth_http_options http;
    struct token_provider prov;
    struct oauth_grant_client client;
    const char *file, *owner, *flow, *secret_from, *cert, *key, *user;
    char *secret, *cert_abs, *key_abs;
    int force, no_browser, port;
    long timeout_s;
    long uid, gid;
};

/* ---- the device flow (RFC 8628) ---------------------------------------------- */

static int obtain_device(struct obtain *o, struct oauth_grant_tokens *tk)
{
    struct oauth_device_auth d;
    struct oauth_err err;
    enum oauth_grant_status gs;
    time_t deadline;
    long interval;

    if (!o->prov.device_endpoint) {
        token_fail(CMD, "the provider has no device authorization endpoint: use --flow authcode "
                        "or give --device-endpoint");
        return 1;
    }
    oauth_err_clear(&err);
    if ((gs = oauth_grant_device_start(&o->client, o->prov.device_endpoint, o->prov.scope, &d,
                                       &err)) != OAUTH_GRANT_OK) {
        token_fail(CMD, "%s", err.reason);
        return 1;
    }
    printf("To sign in, open %s in a browser and enter the code %s\n", d.verification_uri,
           d.user_code);
    if (d.verification_uri_complete)
        printf("(or open %s)\n", d.verification_uri_complete);
    printf("Waiting for the sign-in (the code expires in %ld min)...\n", (d.expires_in + 59) / 60);
    fflush(stdout);
    interval = d.interval;
    deadline = time(NULL) + (d.expires_in < o->timeout_s ? d.expires_in : o->timeout_s) + 5;
    for (;;) {
        time_t now = time(NULL);
        /* never past the deadline (the interval is at most 60 s) */
        if (now < deadline)
            sleep((unsigned)(deadline - now < interval ? deadline - now : interval));
        oauth_err_clear(&err);
        gs = oauth_grant_token(&o->client,
                               &(struct oauth_grant_request){OAUTH_GRANT_DEVICE_CODE,
                                                             .secret = d.device_code},
                               tk, &err);
        if (gs == OAUTH_GRANT_OK)
            break;
        if (gs == OAUTH_GRANT_PENDING) {
            /* RFC 8628 3.5: keep polling at the interval */
        } else if (gs == OAUTH_GRANT_SLOW_DOWN) {
            /* RFC 8628 3.5: and for all later requests */
            if ((interval += 5) > OAUTH_DEVICE_MAX_INTERVAL)
                interval = OAUTH_DEVICE_MAX_INTERVAL;
        } else if (gs == OAUTH_GRANT_UNAVAILABLE) {
            fprintf(stderr, "sasl-mechs-token obtain: %s; trying again\n", err.reason);
        } else {
            if (strcmp(tk->error, "expired_token") == 0)
                token_fail(CMD, "the code expired before the sign-in was done: run the command "
                                "again (%s)", err.reason);
            else if (strcmp(tk->error, "access_denied") == 0
                     || strcmp(tk->error, "authorization_declined") == 0)
                token_fail(CMD, "the sign-in was declined (%s)", err.reason);
            else
                token_fail(CMD, "%s", err.reason);
            oauth_device_auth_clear(&d);
            return 1;
        }
        oauth_grant_tokens_clear(tk);
        if (time(NULL) >= deadline) {
            token_fail(CMD, "no sign-in within the code's lifetime: run the command again");
            oauth_device_auth_clear(&d);
            return 1;
        }
    }
    oauth_device_auth_clear(&d);
    return 0;
}

/* ---- the authorization code flow with PKCE and a loopback redirect -------------- */

/* The value of name in a query string (after '?', up to '#'), decoded:
 * malloc'd, NULL when absent. */
static char *obtain_query_get(const char *q, const char *name)
{
    size_t nl = strlen(name);
    const char *p = q;

    while (p && *p && *p != '#' && *p != ' ') {
        const char *end = p + strcspn(p, "&# \r\n");
        if ((size_t)(end - p) > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            int outlen = 0;
            char *v = curl_easy_unescape(NULL, p + nl + 1, (int)(end - p - nl - 1), &outlen);
            char *r = v ? strndup(v, (size_t)outlen) : NULL;
            if (v) {
                sm_erase(v, (size_t)outlen);
                curl_free(v);
            }
            return r;
        }
        p = *end == '&' ? end + 1 : NULL;
    }
    return NULL;
}

/* The redirect's query: code when state matches.  0 done, 1 failed, 2 not
 * this sign-in's (wrong or missing state), -1 not a redirect. */
static int obtain_redirect_query(const char *q, const char *state, char **code, const char **why)
{
    char *st = obtain_query_get(q, "state"), *c = obtain_query_get(q, "code");
    char *e = obtain_query_get(q, "error");
    int rc = 1;

    if (!st && !c && !e) {
        rc = -1;
    } else if (!st || strlen(st) != strlen(state) || !sm_ct_equal(st, state, strlen(state))) {
        *why = "the answer's state does not match this sign-in (an old or forged redirect)";
        rc = 2;
    } else if (e) {
        *why = strcmp(e, "access_denied") == 0 ? "the sign-in was declined"
                                                : "the provider answered with an error";
    } else if (!c || !c[0]) {
        *why = "the answer has no code";
    } else {
        *code = c;
        c = NULL;
        rc = 0;
    }
    free(st);
    oauth_secret_free(c);
    free(e);
    return rc;
}

static void obtain_reply(int fd, int ok, const char *msg)
{
    char buf[512];
    int n = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 %s\r\nContent-Type: text/html; charset=utf-8\r\nConnection: "
                     "close\r\nCache-Control: no-store\r\n\r\n<!doctype html><title>"
                     "sasl-mechs-token</title><p>%s</p>\n",
                     ok ? "200 OK" : "400 Bad Request", msg);
    (void)!write(fd, buf, (size_t)n);
}

/* One connection to the listener: read the request line. */
static int obtain_accept(int lfd, const char *state, char **code, const char **why)
{
    char req[8192];
    size_t n = 0;
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), rc = -1;
    struct pollfd p;

    if (fd < 0)
        return -1;
    p.fd = fd;
    p.events = POLLIN;
    /* short: the listener waits for nobody else meanwhile */
    while (n < sizeof(req) - 1 && poll(&p, 1, 2000) > 0) {
        ssize_t got = read(fd, req + n, sizeof(req) - 1 - n);
        if (got <= 0)
            break;
        n += (size_t)got;
        req[n] = '\0';
        if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
            break;
    }
    req[n] = '\0';
    if (strncmp(req, "GET /", 5) != 0 || !strchr(req, ' ')) {
        obtain_reply(fd, 0, "Not a sign-in answer.");
    } else {
        const char *path = req + 4, *q = strchr(path, '?');
        const char *sp = strchr(path, ' ');
        if (!q || q > sp) {
            obtain_reply(fd, 0, "Not a sign-in answer.");
        } else if ((rc = obtain_redirect_query(q + 1, state, code, why)) == 0) {
            obtain_reply(fd, 1, "Signed in: sasl-mechs-token got the code. You may close this "
                                "window.");
        } else {
            obtain_reply(fd, 0, rc > 0 ? *why : "Not a sign-in answer.");
            /* any local process or web page can reach the listener: only
             * an answer with this sign-in's state ends it */
            if (rc == 2)
                rc = -1;
        }
    }
    sm_erase(req, sizeof(req));
    close(fd);
    return rc;
}

static char *obtain_escape(const char *s)
{
    char *e = curl_easy_escape(NULL, s, 0), *r = e ? strdup(e) : NULL;
    curl_free(e);
    return r;
}

static int obtain_authcode(struct obtain *o, struct oauth_grant_tokens *tk)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    struct oauth_pkce pkce;
    struct oauth_err err;
    char state[23], redirect[64], *url = NULL, *e_id = NULL, *e_scope = NULL, *e_red = NULL;
    char *code = NULL;
    const char *why = NULL;
    time_t deadline = time(NULL) + o->timeout_s;
    int lfd = -1, rc = 1, port;
    size_t ul;

    if (!o->prov.authorization_endpoint) {
        token_fail(CMD, "the provider has no authorization endpoint: give "
                        "--authorization-endpoint");
        return 1;
    }
    if (oauth_pkce_make(&pkce) != 0 || oauth_random_word(state) != 0) {
        token_fail(CMD, "no random bytes");
        return 1;
    }
    /* RFC 8252 7.3: a loopback redirect on 127.0.0.1, any port */
    if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
        token_fail(CMD, "socket: %s", strerror(errno));
        goto out;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((unsigned short)o->port);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 8) != 0
        || getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0) {
        token_fail(CMD, "cannot listen on 127.0.0.1:%d: %s", o->port, strerror(errno));
        goto out;
    }
    port = ntohs(sa.sin_port);
    snprintf(redirect, sizeof(redirect), "http://127.0.0.1:%d/", port);
    /* without a scope (a generic provider, no --scope) scope= is left out */
    if (!(e_id = obtain_escape(o->client.client_id))
        || (o->prov.scope && !(e_scope = obtain_escape(o->prov.scope)))
        || !(e_red = obtain_escape(redirect))) {
        token_fail(CMD, "out of memory");
        goto out;
    }
    ul = strlen(o->prov.authorization_endpoint) + strlen(e_id) + (e_scope ? strlen(e_scope) : 0)
         + strlen(e_red) + 400;
    if (!(url = malloc(ul))) {
        token_fail(CMD, "out of memory");
        goto out;
    }
    snprintf(url, ul,
             "%s%cresponse_type=code&client_id=%s&redirect_uri=%s%s%s&state=%s"
             "&code_challenge=%s&code_challenge_method=S256%s",
             o->prov.authorization_endpoint,
             strchr(o->prov.authorization_endpoint, '?') ? '&' : '?', e_id, e_red,
             e_scope ? "&scope=" : "", e_scope ? e_scope : "", state, pkce.challenge, o->prov.google ? "&access_type=offline&prompt=consent" : "");
    printf("Open this address in a browser and sign in:\n\n  %s\n\n", url);
    if (o->no_browser) {
        char host[256];
        if (gethostname(host, sizeof(host)) != 0)
            snprintf(host, sizeof(host), "this-server");
        host[sizeof(host) - 1] = '\0';
        printf("No browser here?  On your desktop run\n\n  ssh -L %d:127.0.0.1:%d %s\n\n"
               "then open the address there; or, if the browser ends on an address that "
               "does not load (http://127.0.0.1:%d/?...), paste that address here and press "
               "Enter:\n", port, port, host, port);
    } else {
        printf("Waiting for the browser to come back to %s ...\n", redirect);
    }
    fflush(stdout);
    for (;;) {
        struct pollfd p[2] = {{lfd, POLLIN, 0}, {0, POLLIN, 0}};
        long left = (long)(deadline - time(NULL));
        int r;
        if (left <= 0) {
            token_fail(CMD, "no sign-in within %ld s", o->timeout_s);
            goto out;
        }
        r = poll(p, o->no_browser ? 2 : 1, (int)((left > 1000 ? 1000 : left) * 1000));
        if (r < 0 && errno != EINTR) {
            token_fail(CMD, "poll: %s", strerror(errno));
            goto out;
        }
        if (r <= 0)
            continue;
        if (p[0].revents & POLLIN) {
            r = obtain_accept(lfd, state, &code, &why);
        } else if (p[1].revents & (POLLIN | POLLHUP)) {
            char line[8192];
            const char *q;
            if (!fgets(line, sizeof(line), stdin)) {
                token_fail(CMD, "standard input closed before a sign-in answer");
                goto out;
            }
            q = strchr(line, '?');
            r = q ? obtain_redirect_query(q + 1, state, &code, &why) : -1;
            sm_erase(line, sizeof(line));
            if (r < 0)
                printf("That is not the address the browser was sent to; paste it again:\n");
            fflush(stdout);
        } else {
            continue;
        }
        if (r == 0)
            break;
        if (r > 0) {
            token_fail(CMD, "%s", why);
            goto out;
        }
    }
    oauth_err_clear(&err);
    if (oauth_grant_token(&o->client,
                          &(struct oauth_grant_request){OAUTH_GRANT_AUTHORIZATION_CODE,
                                                        .secret = code, .redirect_uri = redirect,
                                                        .code_verifier = pkce.verifier},
                          tk, &err)
        != OAUTH_GRANT_OK) {
        token_fail(CMD, "%s", err.reason);
        goto out;
    }
    rc = 0;
out:
    if (lfd >= 0)
        close(lfd);
    sm_erase(&pkce, sizeof(pkce));
    oauth_secret_free(code);
    free(url);
    free(e_id);
    free(e_scope);
    free(e_red);
    return rc;
}

/* ---- the file ------------------------------------------------------------------------ */

static int obtain_set_str(json_t *root, const char *k, const char *v)
{
    return v ? json_object_set_new(root, k, json_string(v)) : 0;
}

static int obtain_write(struct obtain *o, const struct oauth_grant_tokens *tk, int app_only)
{
    json_t *root = json_object();
    time_t now = time(NULL);
    char *text = NULL, *user = NULL;
    struct oauth_err err;
    enum oauth_tokenfile_status st;
    int rc = 1;

    if (o->user)
        user = strdup(o->user);
    else if (tk->id_token && !(user = token_jwt_claim(tk->id_token, "preferred_username")))
        user = token_jwt_claim(tk->id_token, "email");
    /* the unverified id_token's name goes to the terminal and the file:
     * printable ASCII only */
    if (user && !o->user && !token_printable(user)) {
        fprintf(stderr, "sasl-mechs-token obtain: warning: the sign-in's user name holds "
                        "control or non-ASCII characters: not recorded (give --user)\n");
        free(user);
        user = NULL;
    }
    if (!root || obtain_set_str(root, "access_token", tk->access_token)
        || json_object_set_new(root, "expires_at", json_integer((json_int_t)(now + tk->expires_in)))
        || json_object_set_new(root, "obtained_at", json_integer((json_int_t)now))
        || obtain_set_str(root, "refresh_token", tk->refresh_token)
        || obtain_set_str(root, "token_endpoint", o->prov.token_endpoint)
        || obtain_set_str(root, "client_id", o->client.client_id)
        || obtain_set_str(root, "client_secret", o->client.client_secret)
        || obtain_set_str(root, "token_endpoint_auth_method",
                          oauth_grant_auth_name(o->client.auth))
        || obtain_set_str(root, "client_assertion_key", o->client.key_file)
        || obtain_set_str(root, "client_assertion_cert", o->client.cert_file)
        || obtain_set_str(root, "scope", o->prov.scope)
        || obtain_set_str(root, "grant_type", app_only ? "client_credentials" : "refresh_token")
        || obtain_set_str(root, "revocation_endpoint", o->prov.revocation_endpoint)
        || obtain_set_str(root, "provider", o->prov.name)
        || obtain_set_str(root, "user", user)
        || (!app_only && json_object_set_new(root, "granted_at", json_integer((json_int_t)now)))
        || !(text = json_dumps(root, JSON_INDENT(2)))) {
        token_fail(CMD, "out of memory");
        goto out;
    }
    {
        /* a copy with a newline, not realloc: that could leave the old
         * text with the secrets unerased */
        size_t len = strlen(text);
        char *nl = malloc(len + 2);
        if (!nl) {
            token_fail(CMD, "out of memory");
            goto out;
        }
        memcpy(nl, text, len);
        nl[len] = '\n';
        nl[len + 1] = '\0';
        sm_erase(text, len);
        free(text);
        text = nl;
    }
    oauth_err_clear(&err);
    st = oauth_tokenfile_write(o->file, text, strlen(text), 0600, o->uid, o->gid, NULL, &err);
    if (st != OAUTH_TOKENFILE_OK) {
        token_fail(CMD, "%s: %s", oauth_tokenfile_status_text(st), err.reason);
        goto out;
    }
    printf("Wrote %s%s%s: %s, access token valid for %ld min%s.\n", o->file,
           user ? " for " : "", user ? user : "", app_only ? "app-only (client credentials)"
                                                           : "delegated",
           tk->expires_in / 60, tk->refresh_token ? ", with a refresh token" : "");
    {
        /* the line for Postfix (a tokenfile: password needs an absolute path) */
        char *abs = realpath(o->file, NULL);
        const char *relay = strcmp(o->prov.name, "microsoft") == 0 ? "[smtp.office365.com]:587"
                            : strcmp(o->prov.name, "google") == 0 ? "[smtp.gmail.com]:587"
                                                                  : "[RELAY]:587";
        printf("For Postfix's smtp_sasl_password_maps:\n  %s %s:tokenfile:%s\n", relay,
               user ? user : "USER", abs ? abs : o->file);
        free(abs);
    }
    rc = 0;
out:
    if (text) {
        sm_erase(text, strlen(text));
        free(text);
    }
    oauth_grant_json_free(root);
    free(user);
    return rc;
}

/* ---- the command -------------------------------------------------------------------- */

enum {
    OPT_FILE = 256, OPT_OWNER, OPT_FORCE, OPT_PROVIDER, OPT_FLOW, OPT_CLIENT_ID,
    OPT_SECRET_FILE, OPT_CERT, OPT_KEY, OPT_APP_ONLY, OPT_TENANT, OPT_CLOUD, OPT_SERVICE,
    OPT_SCOPE, OPT_LOGIN_HOST, OPT_ISSUER, OPT_TOKEN_EP, OPT_DEVICE_EP, OPT_AUTH_EP,
    OPT_REVOKE_EP, OPT_PORT, OPT_NO_BROWSER, OPT_USER, OPT_TIMEOUT, OPT_CA, OPT_PROXY, OPT_HELP
};

static const struct option obtain_opts[] = {
    {"file", required_argument, NULL, OPT_FILE},
    {"owner", required_argument, NULL, OPT_OWNER},
    {"force", no_argument, NULL, OPT_FORCE},
    {"provider", required_argument, NULL, OPT_PROVIDER},
    {"flow", required_argument, NULL, OPT_FLOW},
    {"client-id", required_argument, NULL, OPT_CLIENT_ID},
    {"client-secret-file", required_argument, NULL, OPT_SECRET_FILE},
    {"certificate", required_argument, NULL, OPT_CERT},
    {"private-key", required_argument, NULL, OPT_KEY},
    {"app-only", no_argument, NULL, OPT_APP_ONLY},
    {"tenant", required_argument, NULL, OPT_TENANT},
    {"cloud", required_argument, NULL, OPT_CLOUD},
    {"service", required_argument, NULL, OPT_SERVICE},
    {"scope", required_argument, NULL, OPT_SCOPE},
    {"login-host", required_argument, NULL, OPT_LOGIN_HOST},
    {"issuer", required_argument, NULL, OPT_ISSUER},
    {"token-endpoint", required_argument, NULL, OPT_TOKEN_EP},
    {"device-endpoint", required_argument, NULL, OPT_DEVICE_EP},
    {"authorization-endpoint", required_argument, NULL, OPT_AUTH_EP},
    {"revocation-endpoint", required_argument, NULL, OPT_REVOKE_EP},
    {"port", required_argument, NULL, OPT_PORT},
    {"no-browser", no_argument, NULL, OPT_NO_BROWSER},
    {"user", required_argument, NULL, OPT_USER},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"ca-file", required_argument, NULL, OPT_CA},
    {"proxy", required_argument, NULL, OPT_PROXY},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static int obtain_number(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int obtain_args(struct obtain *o, int argc, char **argv)
{
    long v;
    int c;

    optind = 1;
    opterr = 1;
    while ((c = getopt_long(argc, argv, "", obtain_opts, NULL)) != -1) {
        switch (c) {
        case OPT_FILE: o->file = optarg; break;
        case OPT_OWNER: o->owner = optarg; break;
        case OPT_FORCE: o->force = 1; break;
        case OPT_PROVIDER: o->preset.provider = optarg; break;
        case OPT_FLOW: o->flow = optarg; break;
        case OPT_CLIENT_ID: o->client.client_id = optarg; break;
        case OPT_SECRET_FILE: o->secret_from = optarg; break;
        case OPT_CERT: o->cert = optarg; break;
        case OPT_KEY: o->key = optarg; break;
        case OPT_APP_ONLY: o->preset.app_only = 1; break;
        case OPT_TENANT: o->preset.tenant = optarg; break;
        case OPT_CLOUD: o->preset.cloud = optarg; break;
        case OPT_SERVICE: o->preset.services = optarg; break;
        case OPT_SCOPE: o->preset.scope = optarg; break;
        case OPT_LOGIN_HOST: o->preset.login_host = optarg; break;
        case OPT_ISSUER: o->preset.issuer = optarg; break;
        case OPT_TOKEN_EP: o->preset.token_endpoint = optarg; break;
        case OPT_DEVICE_EP: o->preset.device_endpoint = optarg; break;
        case OPT_AUTH_EP: o->preset.authorization_endpoint = optarg; break;
        case OPT_REVOKE_EP: o->preset.revocation_endpoint = optarg; break;
        case OPT_PORT:
            if (obtain_number(optarg, 0, 65535, &v) != 0) {
                token_fail(CMD, "--port: a number 0..65535");
                return 2;
            }
            o->port = (int)v;
            break;
        case OPT_NO_BROWSER: o->no_browser = 1; break;
        case OPT_USER: o->user = optarg; break;
        case OPT_TIMEOUT:
            if (obtain_number(optarg, 1, 86400, &o->timeout_s) != 0) {
                token_fail(CMD, "--timeout: seconds, 1..86400");
                return 2;
            }
            break;
        case OPT_CA: o->http_args.ca_file = optarg; break;
        case OPT_PROXY: o->http_args.proxy = optarg; break;
        case OPT_HELP: obtain_usage(stdout); return 0;
        default: obtain_usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        token_fail(CMD, "unexpected argument '%s'", argv[optind]);
        return 2;
    }
    if (!o->file || !o->client.client_id) {
        token_fail(CMD, "--file and --client-id are required");
        return 2;
    }
    if ((o->cert || o->key) && !(o->cert && o->key)) {
        token_fail(CMD, "--certificate and --private-key go together");
        return 2;
    }
    if (o->key && o->secret_from) {
        token_fail(CMD, "a client secret or a certificate, not both");
        return 2;
    }
    if (o->no_browser && o->secret_from && strcmp(o->secret_from, "-") == 0) {
        token_fail(CMD, "--no-browser reads the pasted address from standard input: give the "
                        "client secret in a file");
        return 2;
    }
    if (o->user && !token_printable(o->user)) {
        token_fail(CMD, "--user: printable ASCII only");
        return 2;
    }
    if (o->key)
        o->preset.app_only = 1;
    return -1;
}

int token_cmd_obtain(int argc, char **argv)
{
    struct obtain o;
    struct oauth_grant_tokens tk;
    struct stat sb;
    enum token_flow flow;
    int rc;

    memset(&o, 0, sizeof(o));
    memset(&tk, 0, sizeof(tk));
    o.timeout_s = 900;
    o.uid = o.gid = -1;
    if ((rc = token_refuse_secret_argv(CMD, argc, argv)) != 0)
        return rc;
    if ((rc = obtain_args(&o, argc, argv)) >= 0)
        return rc;
    if (o.owner && token_parse_owner(CMD, o.owner, &o.uid, &o.gid) != 0)
        return 2;
    if (o.owner && geteuid() != 0 && o.uid != (long)geteuid()) {
        token_fail(CMD, "--owner %s needs root (run the command as root, or as that user)",
                   o.owner);
        return 2;
    }
    if (!o.force && lstat(o.file, &sb) == 0) {
        token_fail(CMD, "%s exists: give --force to replace it (its grant is then lost)", o.file);
        return 1;
    }
    token_http_options(&o.http_args, &o.http);
    if (token_provider_make(CMD, &o.preset, &o.http, &o.prov) != 0)
        return 1;
    flow = o.prov.default_flow;
    if (o.flow) {
        if (strcmp(o.flow, "device") == 0)
            flow = TOKEN_FLOW_DEVICE;
        else if (strcmp(o.flow, "authcode") == 0)
            flow = TOKEN_FLOW_AUTHCODE;
        else if (strcmp(o.flow, "client-credentials") == 0)
            flow = TOKEN_FLOW_CLIENT_CREDENTIALS;
        else {
            token_fail(CMD, "--flow: '%s' is not device, authcode or client-credentials", o.flow);
            rc = 2;
            goto out;
        }
    }
    if ((flow == TOKEN_FLOW_CLIENT_CREDENTIALS) != (o.preset.app_only != 0)) {
        token_fail(CMD, flow == TOKEN_FLOW_CLIENT_CREDENTIALS
                            ? "--flow client-credentials needs --app-only (the scope differs)"
                            : "a certificate or --app-only means --flow client-credentials");
        rc = 2;
        goto out;
    }
    if (o.secret_from && !(o.secret = token_read_secret(CMD, o.secret_from))) {
        rc = 1;
        goto out;
    }
    o.client.token_endpoint = o.prov.token_endpoint;
    o.client.client_secret = o.secret;
    o.client.http = &o.http;
    if (o.key) {
        /* absolute: the file is used later from elsewhere (Postfix's
         * queue directory) */
        if (!(o.key_abs = realpath(o.key, NULL)) || !(o.cert_abs = realpath(o.cert, NULL))) {
            token_fail(CMD, "%s: %s", o.key_abs ? o.cert : o.key, strerror(errno));
            rc = 1;
            goto out;
        }
        o.client.auth = OAUTH_GRANT_AUTH_PRIVATE_KEY_JWT;
        o.client.key_file = o.key_abs;
        o.client.cert_file = o.cert_abs;
        if (o.owner && !token_owner_may(o.key_abs, o.uid, o.gid, 4))
            fprintf(stderr, "sasl-mechs-token obtain: warning: %s cannot read %s: renewing "
                            "the token will fail until it can\n", o.owner, o.key_abs);
    } else {
        o.client.auth = o.secret ? o.prov.secret_auth : OAUTH_GRANT_AUTH_NONE;
    }
    if (flow == TOKEN_FLOW_CLIENT_CREDENTIALS && o.client.auth == OAUTH_GRANT_AUTH_NONE) {
        token_fail(CMD, "app-only sign-in needs --client-secret-file or --certificate and "
                        "--private-key");
        rc = 2;
        goto out;
    }
    if (flow == TOKEN_FLOW_CLIENT_CREDENTIALS) {
        struct oauth_err err;
        oauth_err_clear(&err);
        if (oauth_grant_token(&o.client,
                              &(struct oauth_grant_request){OAUTH_GRANT_CLIENT_CREDENTIALS,
                                                            .scope = o.prov.scope},
                              &tk, &err)
            != OAUTH_GRANT_OK) {
            token_fail(CMD, "%s", err.reason);
            rc = 1;
            goto out;
        }
        rc = 0;
    } else if (flow == TOKEN_FLOW_DEVICE) {
        rc = obtain_device(&o, &tk);
    } else {
        rc = obtain_authcode(&o, &tk);
    }
    if (rc == 0 && o.owner) {
        char *dir = strdup(o.file), *slash = dir ? strrchr(dir, '/') : NULL;
        if (slash)
            *(slash == dir ? slash + 1 : slash) = '\0';
        if (dir && !token_owner_may(slash ? dir : ".", o.uid, o.gid, 2))
            fprintf(stderr, "sasl-mechs-token obtain: warning: %s cannot write %s: a refresh "
                            "writes the new file and the lock file there\n", o.owner,
                    slash ? dir : ".");
        free(dir);
    }
    if (rc == 0) {
        if (flow != TOKEN_FLOW_CLIENT_CREDENTIALS && !tk.refresh_token)
            fprintf(stderr, "sasl-mechs-token obtain: warning: the provider gave no refresh "
                            "token (offline_access / access_type=offline missing?): the file "
                            "will stop working when the access token expires\n");
        rc = obtain_write(&o, &tk, flow == TOKEN_FLOW_CLIENT_CREDENTIALS);
    }
out:
    oauth_grant_tokens_clear(&tk);
    oauth_secret_free(o.secret);
    free(o.key_abs);
    free(o.cert_abs);
    token_provider_clear(&o.prov);
    return rc;
}
