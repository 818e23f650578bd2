/* Unit tests of plugins/oauth/oauth_grant.c against the loopback OAuth test
 * server's provider-shaped endpoints (tests/oauth/oauth_server.py, IDP_DOC):
 * PKCE S256; the device grant (pending, approved, declined with
 * Microsoft's error shape cut before its trace lines); the refresh grant
 * with rotation (the old refresh token refused); client credentials with
 * client_secret_basic, client_secret_post, a wrong secret (never in the
 * reason) and private_key_jwt (the assertion's header and claims; an
 * unregistered certificate, a key readable by others, a certificate of
 * another key refused); the authorization code grant with PKCE (a wrong
 * verifier refused); RFC 7009 revocation; discovery (an issuer that differs
 * refused); a table of malformed answers; an endpoint down; http:// off
 * loopback refused.  And the token file's use of it: a whole new file
 * written (oauth_tokenfile_write: mode, a malformed text refused), an
 * app-only file (grant_type client_credentials, with a secret and with
 * private_key_jwt) renewed by oauth_tokenfile_get as the plugin calls it,
 * and a forced refresh (oauth_tokenfile_refresh). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include <sasl-mechs/base64.h>
#include <sasl-mechs/crypto.h>

#include "oauth_grant.h"
#include "oauth_testserver.h"
#include "oauth_tokenfile.h"

/* The requests of oauth_grant_token the cases send. */
#define REFRESH(rt) (&(struct oauth_grant_request){OAUTH_GRANT_REFRESH_TOKEN, .secret = (rt)})
#define CLIENT_CREDENTIALS(sc) \
    (&(struct oauth_grant_request){OAUTH_GRANT_CLIENT_CREDENTIALS, .scope = (sc)})
#define AUTH_CODE(code, ru, verifier)                                                       \
    (&(struct oauth_grant_request){OAUTH_GRANT_AUTHORIZATION_CODE, .secret = (code),        \
                                   .redirect_uri = (ru), .code_verifier = (verifier)})
#define POLL(dc) (&(struct oauth_grant_request){OAUTH_GRANT_DEVICE_CODE, .secret = (dc)})

static struct ts server;
static char ms_token[160], ms_device[160], google_token[160], google_revoke[160];
static char keyfile[PATH_MAX + 32], certfile[PATH_MAX + 32], key2[PATH_MAX + 32],
    cert2[PATH_MAX + 32];

static int setup(void **state)
{
    char cmd[7 * (PATH_MAX + 32) + 512], *conf = NULL, *pem = NULL;
    json_t *j;
    FILE *f;
    long n;
    int rc;

    (void)state;
    if (ts_start(&server, NULL) != 0)
        return -1;
    snprintf(ms_token, sizeof(ms_token), "%s/ms/contoso.test/oauth2/v2.0/token", server.base);
    snprintf(ms_device, sizeof(ms_device), "%s/ms/contoso.test/oauth2/v2.0/devicecode",
             server.base);
    snprintf(google_token, sizeof(google_token), "%s/google/token", server.base);
    snprintf(google_revoke, sizeof(google_revoke), "%s/google/revoke", server.base);
    snprintf(keyfile, sizeof(keyfile), "%s/client.key", server.dir);
    snprintf(certfile, sizeof(certfile), "%s/client.pem", server.dir);
    snprintf(key2, sizeof(key2), "%s/other.key", server.dir);
    snprintf(cert2, sizeof(cert2), "%s/other.pem", server.dir);
    /* a key and certificate the client registers, and another pair */
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey rsa:2048 -nodes -keyout %s -out %s -subj /CN=c -days 2 "
             ">/dev/null 2>&1 && openssl req -x509 -newkey rsa:2048 -nodes -keyout %s -out %s "
             "-subj /CN=o -days 2 >/dev/null 2>&1 && chmod 600 %s %s",
             keyfile, certfile, key2, cert2, keyfile, key2);
    if (system(cmd) != 0) {
        fprintf(stderr, "openssl req failed (package openssl)\n");
        return -1;
    }
    if (!(f = fopen(certfile, "r")) || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0
        || !(pem = calloc(1, (size_t)n + 1)) || fseek(f, 0, SEEK_SET) != 0
        || fread(pem, 1, (size_t)n, f) != (size_t)n)
        return -1;
    fclose(f);
    j = json_pack("{s:s}", "cert_pem", pem);
    conf = json_dumps(j, 0);
    rc = ts_call(&server, "POST", "/idp/config", conf, NULL) == 200 ? 0 : -1;
    json_decref(j);
    free(conf);
    free(pem);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    ts_stop(&server);
    return 0;
}

static struct oauth_grant_client client(const char *endpoint, enum oauth_grant_auth a,
                                        const char *secret)
{
    struct oauth_grant_client c = {
        .token_endpoint = endpoint, .client_id = "tool-client", .client_secret = secret,
        .auth = a,
    };
    return c;
}

static void no_crlf(const char *s)
{
    if (strchr(s, '\r') || strchr(s, '\n') || strstr(s, "Trace ID"))
        fail_msg("reason holds the trace lines: %s", s);
}

/* ---- PKCE ----------------------------------------------------------------------------- */

static void test_pkce(void **state)
{
    struct oauth_pkce a, b;
    unsigned char d[32], dec[32];
    char want[44];
    size_t dl, ol;

    (void)state;
    assert_int_equal(oauth_pkce_make(&a), 0);
    assert_int_equal(oauth_pkce_make(&b), 0);
    assert_int_equal(strlen(a.verifier), 43); /* RFC 7636 4.1: 43..128 */
    assert_int_not_equal(strcmp(a.verifier, b.verifier), 0);
    /* RFC 7636 4.2: BASE64URL-ENCODE(SHA256(ASCII(code_verifier))) */
    assert_int_equal(sm_digest("SHA256", a.verifier, 43, d, sizeof(d), &dl), 0);
    assert_int_equal(sm_b64_encode(SM_B64_URL, d, dl, want, sizeof(want), &ol), 0);
    assert_string_equal(a.challenge, want);
    assert_int_equal(sm_b64_decode(SM_B64_URL, a.verifier, 43, dec, sizeof(dec), &ol), 0);
    assert_int_equal(ol, 32);
}

/* ---- device grant, refresh ----------------------------------------------------------- */

static char *device_sign_in(const char *action, enum oauth_grant_status *final,
                            struct oauth_grant_tokens *tk, struct oauth_err *err)
{
    struct oauth_grant_client c = client(ms_token, OAUTH_GRANT_AUTH_NONE, NULL);
    struct oauth_device_auth d;
    char body[256];
    enum oauth_grant_status st;

    assert_int_equal(oauth_grant_device_start(&c, ms_device, "offline_access openid "
                                              "https://outlook.office.com/SMTP.Send", &d, err),
                     OAUTH_GRANT_OK);
    assert_non_null(d.user_code);
    assert_non_null(d.message);
    assert_int_equal(d.interval, 1);
    /* before the user acts: pending */
    sleep(1);
    st = oauth_grant_token(&c, POLL(d.device_code), tk, err);
    assert_int_equal(st, OAUTH_GRANT_PENDING);
    assert_string_equal(tk->error, "authorization_pending");
    assert_int_equal(tk->error_code, 70016);
    no_crlf(err->reason);
    snprintf(body, sizeof(body), "{\"user_code\": \"%s\", \"action\": \"%s\", \"user\": "
             "\"bob@contoso.test\"}", d.user_code, action);
    assert_int_equal(ts_call(&server, "POST", "/idp/device", body, NULL), 200);
    sleep(1);
    oauth_err_clear(err);
    *final = oauth_grant_token(&c, POLL(d.device_code), tk, err);
    oauth_device_auth_clear(&d);
    return tk->refresh_token ? strdup(tk->refresh_token) : NULL;
}

static void test_device_and_refresh(void **state)
{
    struct oauth_grant_client c = client(ms_token, OAUTH_GRANT_AUTH_NONE, NULL);
    struct oauth_grant_tokens tk = {0}, tk2 = {0}, tk3 = {0};
    struct oauth_err err = {0};
    enum oauth_grant_status st;
    char *rt;

    (void)state;
    rt = device_sign_in("approve", &st, &tk, &err);
    if (st != OAUTH_GRANT_OK)
        fail_msg("device grant: %s", err.reason);
    assert_non_null(rt);
    assert_non_null(tk.access_token);
    assert_non_null(tk.id_token);
    assert_int_equal(tk.expires_in, 3600);
    /* refresh: rotated */
    st = oauth_grant_token(&c, REFRESH(rt), &tk2, &err);
    if (st != OAUTH_GRANT_OK)
        fail_msg("refresh: %s", err.reason);
    assert_non_null(tk2.refresh_token);
    assert_string_not_equal(tk2.refresh_token, rt);
    /* the old one is spent: Microsoft's invalid_grant */
    oauth_err_clear(&err);
    st = oauth_grant_token(&c, REFRESH(rt), &tk3, &err);
    assert_int_equal(st, OAUTH_GRANT_REJECTED);
    assert_string_equal(tk3.error, "invalid_grant");
    assert_int_equal(tk3.error_code, 70008);
    assert_non_null(strstr(err.reason, "AADSTS70008"));
    assert_null(strstr(err.reason, rt));
    assert_null(tk3.access_token);
    no_crlf(err.reason);
    free(rt);
    oauth_grant_tokens_clear(&tk);
    oauth_grant_tokens_clear(&tk2);
    oauth_grant_tokens_clear(&tk3);
}

static void test_device_declined(void **state)
{
    struct oauth_grant_tokens tk = {0};
    struct oauth_err err = {0};
    enum oauth_grant_status st;

    (void)state;
    free(device_sign_in("deny", &st, &tk, &err));
    assert_int_equal(st, OAUTH_GRANT_REJECTED);
    assert_string_equal(tk.error, "authorization_declined");
    assert_non_null(strstr(err.reason, "AADSTS70000: The end user denied"));
    no_crlf(err.reason);
    oauth_grant_tokens_clear(&tk);
}

/* ---- client credentials --------------------------------------------------------------- */

static void test_client_credentials_secret(void **state)
{
    static const enum oauth_grant_auth ways[] = {OAUTH_GRANT_AUTH_BASIC, OAUTH_GRANT_AUTH_POST};
    struct oauth_grant_tokens tk = {0};
    struct oauth_err err = {0};
    enum oauth_grant_status st;

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        struct oauth_grant_client c = client(ms_token, ways[i], "tool-secret");
        st = oauth_grant_token(&c, CLIENT_CREDENTIALS("https://outlook.office365.com/.default"),
                               &tk, &err);
        if (st != OAUTH_GRANT_OK)
            fail_msg("%s: %s", oauth_grant_auth_name(ways[i]), err.reason);
        assert_null(tk.refresh_token);
        oauth_grant_tokens_clear(&tk);
    }
    /* a wrong secret: refused, never quoted */
    {
        struct oauth_grant_client c = client(ms_token, OAUTH_GRANT_AUTH_POST, "WRONGSECRET");
        st = oauth_grant_token(&c, CLIENT_CREDENTIALS("https://outlook.office365.com/.default"),
                               &tk, &err);
        assert_int_equal(st, OAUTH_GRANT_REJECTED);
        assert_string_equal(tk.error, "invalid_client");
        assert_int_equal(tk.http_code, 401);
        assert_null(strstr(err.reason, "WRONGSECRET"));
        oauth_grant_tokens_clear(&tk);
    }
    /* Microsoft wants .default for app-only */
    {
        struct oauth_grant_client c = client(ms_token, OAUTH_GRANT_AUTH_POST, "tool-secret");
        st = oauth_grant_token(&c, CLIENT_CREDENTIALS("https://outlook.office.com/SMTP.Send"),
                               &tk, &err);
        assert_int_equal(st, OAUTH_GRANT_REJECTED);
        assert_string_equal(tk.error, "invalid_scope");
        assert_non_null(strstr(err.reason, "AADSTS1002012"));
        oauth_grant_tokens_clear(&tk);
    }
}

static json_t *b64json(const char *s, size_t n)
{
    char buf[4096];
    size_t got;
    json_error_t jerr;

    if (sm_b64_decode(SM_B64_URL, s, n, buf, sizeof(buf), &got) != 0)
        return NULL;
    return json_loadb(buf, got, 0, &jerr);
}

static void test_private_key_jwt(void **state)
{
    struct oauth_grant_client c = client(ms_token, OAUTH_GRANT_AUTH_PRIVATE_KEY_JWT, NULL);
    struct oauth_grant_tokens tk = {0};
    struct oauth_err err = {0};
    enum oauth_grant_status st;
    char *jwt = NULL, *dot1, *dot2;
    json_t *hdr, *cl;

    (void)state;
    c.key_file = keyfile;
    c.cert_file = certfile;
    /* the assertion: RFC 7523 3 claims, the thumbprints in the header */
    assert_int_equal(oauth_grant_assertion(&c, &jwt, &err), OAUTH_GRANT_OK);
    dot1 = strchr(jwt, '.');
    dot2 = strchr(dot1 + 1, '.');
    assert_non_null(hdr = b64json(jwt, (size_t)(dot1 - jwt)));
    assert_non_null(cl = b64json(dot1 + 1, (size_t)(dot2 - dot1 - 1)));
    assert_string_equal(json_string_value(json_object_get(hdr, "alg")), "RS256");
    assert_int_equal(json_string_length(json_object_get(hdr, "x5t#S256")), 43);
    assert_int_equal(json_string_length(json_object_get(hdr, "x5t")), 27);
    assert_string_equal(json_string_value(json_object_get(cl, "iss")), "tool-client");
    assert_string_equal(json_string_value(json_object_get(cl, "sub")), "tool-client");
    assert_string_equal(json_string_value(json_object_get(cl, "aud")), ms_token);
    assert_true(json_integer_value(json_object_get(cl, "exp"))
                > json_integer_value(json_object_get(cl, "iat")));
    assert_non_null(json_object_get(cl, "jti"));
    json_decref(hdr);
    json_decref(cl);
    free(jwt);
    /* the server verifies it against the registered certificate */
    st = oauth_grant_token(&c, CLIENT_CREDENTIALS("https://outlook.office365.com/.default"),
                           &tk, &err);
    if (st != OAUTH_GRANT_OK)
        fail_msg("private_key_jwt: %s", err.reason);
    oauth_grant_tokens_clear(&tk);
    /* another pair: well-formed, not registered */
    c.key_file = key2;
    c.cert_file = cert2;
    st = oauth_grant_token(&c, CLIENT_CREDENTIALS("https://outlook.office365.com/.default"),
                           &tk, &err);
    assert_int_equal(st, OAUTH_GRANT_REJECTED);
    assert_non_null(strstr(err.reason, "AADSTS700027"));
    oauth_grant_tokens_clear(&tk);
    /* a certificate of another key */
    c.key_file = keyfile;
    c.cert_file = cert2;
    st = oauth_grant_token(&c, CLIENT_CREDENTIALS("https://outlook.office365.com/.default"),
                           &tk, &err);
    assert_int_equal(st, OAUTH_GRANT_CLIENT_KEY);
    assert_non_null(strstr(err.reason, "does not hold"));
    /* a key others may read */
    assert_int_equal(chmod(keyfile, 0644), 0);
    c.cert_file = certfile;
    st = oauth_grant_token(&c, CLIENT_CREDENTIALS("https://outlook.office365.com/.default"),
                           &tk, &err);
    assert_int_equal(chmod(keyfile, 0600), 0);
    assert_int_equal(st, OAUTH_GRANT_CLIENT_KEY);
    assert_non_null(strstr(err.reason, "accessible"));
    /* not a key at all */
    c.key_file = certfile;
    assert_int_equal(chmod(certfile, 0600), 0);
    st = oauth_grant_token(&c, CLIENT_CREDENTIALS("https://outlook.office365.com/.default"),
                           &tk, &err);
    assert_int_equal(st, OAUTH_GRANT_CLIENT_KEY);
}

/* ---- authorization code ------------------------------------------------------------------ */

static char *authorize(const struct oauth_pkce *p, const char *redirect)
{
    char path[1024], *body = NULL, *to, *code = NULL, *c;

    snprintf(path, sizeof(path), "/google/o/oauth2/v2/auth?response_type=code&client_id="
             "tool-client&redirect_uri=%s&scope=mail&state=st4te&code_challenge=%s"
             "&code_challenge_method=S256", redirect, p->challenge);
    assert_int_equal(ts_call(&server, "GET", path, NULL, &body), 302);
    assert_non_null(to = ts_json_str(body, "to"));
    assert_non_null(strstr(to, "state=st4te"));
    if ((c = strstr(to, "code="))) {
        code = strdup(c + 5);
        code[strcspn(code, "&")] = '\0';
    }
    free(to);
    free(body);
    return code;
}

static void test_auth_code(void **state)
{
    struct oauth_grant_client c = client(google_token, OAUTH_GRANT_AUTH_POST, "tool-secret");
    struct oauth_grant_tokens tk = {0};
    struct oauth_err err = {0};
    struct oauth_pkce p, other;
    enum oauth_grant_status st;
    const char *ru = "http://127.0.0.1:9/";
    char *code;

    (void)state;
    assert_int_equal(oauth_pkce_make(&p), 0);
    assert_int_equal(oauth_pkce_make(&other), 0);
    code = authorize(&p, "http%3A%2F%2F127.0.0.1%3A9%2F");
    st = oauth_grant_token(&c, AUTH_CODE(code, ru, p.verifier), &tk, &err);
    if (st != OAUTH_GRANT_OK)
        fail_msg("auth code: %s", err.reason);
    assert_non_null(tk.refresh_token);
    /* revoke it (RFC 7009), then it is unknown: Google says invalid_token */
    assert_int_equal(oauth_grant_revoke(&c, google_revoke, tk.refresh_token, "refresh_token",
                                        &err), OAUTH_GRANT_OK);
    assert_int_equal(oauth_grant_revoke(&c, google_revoke, tk.refresh_token, "refresh_token",
                                        &err), OAUTH_GRANT_REJECTED);
    assert_non_null(strstr(err.reason, "invalid_token"));
    assert_null(strstr(err.reason, tk.refresh_token));
    oauth_grant_tokens_clear(&tk);
    free(code);
    /* a verifier that is not the challenge's */
    code = authorize(&p, "http%3A%2F%2F127.0.0.1%3A9%2F");
    st = oauth_grant_token(&c, AUTH_CODE(code, ru, other.verifier), &tk, &err);
    assert_int_equal(st, OAUTH_GRANT_REJECTED);
    assert_string_equal(tk.error, "invalid_grant");
    assert_null(strstr(err.reason, other.verifier));
    assert_null(strstr(err.reason, code));
    free(code);
}

/* ---- discovery ------------------------------------------------------------------------------ */

static void test_discovery(void **state)
{
    struct oauth_discovery d;
    struct oauth_err err = {0};
    char iss[160];

    (void)state;
    snprintf(iss, sizeof(iss), "%s/generic/", server.base);
    if (oauth_discover(iss, NULL, &d, &err) != OAUTH_GRANT_OK)
        fail_msg("discovery: %s", err.reason);
    assert_non_null(strstr(d.token_endpoint, "/generic/token"));
    assert_non_null(strstr(d.device_authorization_endpoint, "/generic/device"));
    assert_non_null(strstr(d.authorization_endpoint, "/generic/authorize"));
    assert_non_null(strstr(d.revocation_endpoint, "/generic/revoke"));
    oauth_discovery_clear(&d);
    /* the same server by another name: its document names another issuer */
    snprintf(iss, sizeof(iss), "http://localhost:%d", server.port);
    assert_int_equal(oauth_discover(iss, NULL, &d, &err), OAUTH_GRANT_BAD_RESPONSE);
    assert_non_null(strstr(err.reason, "another issuer"));
    assert_null(d.token_endpoint);
    /* nothing there */
    snprintf(iss, sizeof(iss), "%s/nothing", server.base);
    assert_int_equal(oauth_discover(iss, NULL, &d, &err), OAUTH_GRANT_REJECTED);
}

/* ---- malformed answers, transport ---------------------------------------------------------- */

static const struct {
    const char *answer;
    enum oauth_grant_status want;
    const char *why;
} answer_rows[] = {
    {"{\"status\": 200, \"body\": {\"token_type\": \"Bearer\"}}", OAUTH_GRANT_BAD_RESPONSE,
     "access_token"},
    {"{\"status\": 200, \"body\": {\"access_token\": \"a b\"}}", OAUTH_GRANT_BAD_RESPONSE,
     "access_token"},
    {"{\"status\": 200, \"body\": {\"access_token\": \"x\", \"token_type\": \"mac\"}}",
     OAUTH_GRANT_BAD_RESPONSE, "Bearer"},
    {"{\"status\": 200, \"body\": {\"access_token\": \"x\", \"expires_in\": -5}}",
     OAUTH_GRANT_BAD_RESPONSE, "expires_in"},
    {"{\"status\": 200, \"body\": {\"access_token\": \"x\", \"expires_in\": \"12a\"}}",
     OAUTH_GRANT_BAD_RESPONSE, "expires_in"},
    {"{\"status\": 200, \"body\": {\"access_token\": \"x\", \"refresh_token\": 5}}",
     OAUTH_GRANT_BAD_RESPONSE, "refresh_token"},
    {"{\"status\": 200, \"body\": {\"access_token\": \"x\", \"scope\": 7}}",
     OAUTH_GRANT_BAD_RESPONSE, "scope"},
    {"{\"status\": 200, \"body\": [1]}", OAUTH_GRANT_BAD_RESPONSE, "not a JSON object"},
    {"{\"status\": 201, \"body\": {\"access_token\": \"x\"}}", OAUTH_GRANT_BAD_RESPONSE,
     "201"},
    {"{\"status\": 400, \"body\": {\"error\": \"invalid_grant\", \"error_description\": "
     "\"token SECRETRT is bad\"}}", OAUTH_GRANT_REJECTED, "invalid_grant"},
    {"{\"status\": 400, \"body\": {\"error\": \"a\\nb\"}}", OAUTH_GRANT_REJECTED,
     "no error code"},
    {"{\"status\": 400, \"body\": {\"error\": \"slow_down\"}}", OAUTH_GRANT_SLOW_DOWN,
     "slow_down"},
    {"{\"status\": 503, \"body\": {\"error\": \"temporarily_unavailable\"}}",
     OAUTH_GRANT_UNAVAILABLE, "503"},
    {"{\"status\": 200, \"body\": {\"access_token\": \"x\", \"expires_in\": \"120\"}}",
     OAUTH_GRANT_OK, ""},
    /* no scope asked for: an empty one echoed */
    {"{\"status\": 200, \"body\": {\"access_token\": \"x\", \"expires_in\": 120, "
     "\"scope\": \"\"}}", OAUTH_GRANT_OK, ""},
};

static void test_malformed_answers(void **state)
{
    struct oauth_grant_client c = client(ms_token, OAUTH_GRANT_AUTH_NONE, NULL);
    struct oauth_grant_tokens tk = {0};
    struct oauth_err err;
    enum oauth_grant_status st;
    char mode[512];

    (void)state;
    for (size_t i = 0; i < sizeof(answer_rows) / sizeof(answer_rows[0]); i++) {
        snprintf(mode, sizeof(mode), "{\"answer\": %s}", answer_rows[i].answer);
        assert_int_equal(ts_call(&server, "POST", "/idp/mode", mode, NULL), 200);
        oauth_err_clear(&err);
        st = oauth_grant_token(&c, REFRESH("SECRETRT"), &tk, &err);
        if (st != answer_rows[i].want || !strstr(err.reason, answer_rows[i].why)
            || strstr(err.reason, "SECRETRT"))
            fail_msg("row %zu: %s, why \"%s\"", i, oauth_grant_status_text(st), err.reason);
        if (st == OAUTH_GRANT_OK)
            assert_int_equal(tk.expires_in, 120);
        else
            assert_null(tk.access_token);
        oauth_grant_tokens_clear(&tk);
    }
    /* a device authorization answer without a user_code */
    {
        struct oauth_device_auth d;
        assert_int_equal(ts_call(&server, "POST", "/idp/mode", "{\"answer\": {\"body\": "
                                 "{\"device_code\": \"d\", \"verification_uri\": \"https://x\", "
                                 "\"expires_in\": 600}}}", NULL), 200);
        assert_int_equal(oauth_grant_device_start(&c, ms_device, "s", &d, &err),
                         OAUTH_GRANT_BAD_RESPONSE);
        assert_null(d.device_code);
    }
    /* an interval of 10 years is clamped to a minute; a control character
     * in a URI refuses the answer, in the message drops it */
    {
        struct oauth_device_auth d;
        assert_int_equal(ts_call(&server, "POST", "/idp/mode", "{\"answer\": {\"body\": "
                                 "{\"device_code\": \"d\", \"user_code\": \"U\", "
                                 "\"verification_uri\": \"https://x\", \"expires_in\": 600, "
                                 "\"interval\": 315360000, \"message\": \"a\\u001b[2Jb\"}}}",
                                 NULL), 200);
        assert_int_equal(oauth_grant_device_start(&c, ms_device, "s", &d, &err), OAUTH_GRANT_OK);
        assert_int_equal(d.interval, 60);
        assert_null(d.message);
        oauth_device_auth_clear(&d);
        assert_int_equal(ts_call(&server, "POST", "/idp/mode", "{\"answer\": {\"body\": "
                                 "{\"device_code\": \"d\", \"user_code\": \"U\", "
                                 "\"verification_uri\": \"https://x/\\u001b]0;t\\u0007\", "
                                 "\"expires_in\": 600}}}", NULL), 200);
        assert_int_equal(oauth_grant_device_start(&c, ms_device, "s", &d, &err),
                         OAUTH_GRANT_BAD_RESPONSE);
        assert_int_equal(ts_call(&server, "POST", "/idp/mode", "{\"answer\": {\"body\": "
                                 "{\"device_code\": \"d\", \"user_code\": \"U\", "
                                 "\"verification_uri\": \"https://x\", "
                                 "\"verification_uri_complete\": \"https://x?\\u001b\", "
                                 "\"expires_in\": 600}}}", NULL), 200);
        assert_int_equal(oauth_grant_device_start(&c, ms_device, "s", &d, &err),
                         OAUTH_GRANT_BAD_RESPONSE);
    }
    /* a garbage body, a 500 */
    assert_int_equal(ts_call(&server, "POST", "/idp/mode", "{\"token\": \"garbage\"}", NULL), 200);
    assert_int_equal(oauth_grant_token(&c, REFRESH("r"), &tk, &err), OAUTH_GRANT_BAD_RESPONSE);
    assert_int_equal(ts_call(&server, "POST", "/idp/mode", "{\"token\": \"500\"}", NULL), 200);
    assert_int_equal(oauth_grant_token(&c, REFRESH("r"), &tk, &err), OAUTH_GRANT_UNAVAILABLE);
    assert_int_equal(ts_call(&server, "POST", "/idp/mode", "{\"token\": \"ok\"}", NULL), 200);
}

/* no 16-byte piece of secret s in text */
static void no_window(const char *text, const char *s)
{
    char w[17];

    for (size_t i = 0; i + 16 <= strlen(s); i++) {
        memcpy(w, s + i, 16);
        w[16] = '\0';
        if (strstr(text, w))
            fail_msg("a piece of the secret (%s) in: %s", w, text);
    }
}

/* error and error_description checked whole against the secrets: a
 * description echoing the start of the refresh token, one that holds it
 * past the 300 bytes that are shown, an error code that is the token */
static void test_echoed_secrets(void **state)
{
    static const char rt[] = "RT-0123456789abcdefghijKLMNOPqrstuv";
    struct oauth_grant_client c = client(ms_token, OAUTH_GRANT_AUTH_NONE, NULL);
    struct oauth_grant_tokens tk = {0};
    struct oauth_err err;
    char mode[1024], pad[281];
    const char *bodies[4];
    char b0[200], b1[800], b2[200], b3[200];

    (void)state;
    memset(pad, 'x', 280);
    pad[280] = '\0';
    snprintf(b0, sizeof(b0), "{\"error\": \"invalid_grant\", \"error_description\": "
             "\"token %.20s is bad\"}", rt);
    snprintf(b1, sizeof(b1), "{\"error\": \"invalid_grant\", \"error_description\": "
             "\"%s%s\"}", pad, rt);
    snprintf(b2, sizeof(b2), "{\"error\": \"%s\"}", rt);
    snprintf(b3, sizeof(b3), "{\"error\": \"invalid_grant\", \"error_description\": "
             "\"%.18s\\\\ \"}", rt + 4);
    bodies[0] = b0;
    bodies[1] = b1;
    bodies[2] = b2;
    bodies[3] = b3;
    for (size_t i = 0; i < 4; i++) {
        snprintf(mode, sizeof(mode), "{\"answer\": {\"status\": 400, \"body\": %s}}",
                 bodies[i]);
        assert_int_equal(ts_call(&server, "POST", "/idp/mode", mode, NULL), 200);
        oauth_err_clear(&err);
        assert_int_equal(oauth_grant_token(&c, REFRESH(rt), &tk, &err), OAUTH_GRANT_REJECTED);
        print_message("# %s\n", err.reason);
        no_window(err.reason, rt);
        oauth_grant_tokens_clear(&tk);
    }
    /* a harmless description is still shown */
    assert_int_equal(ts_call(&server, "POST", "/idp/mode", "{\"answer\": {\"status\": 400, "
                             "\"body\": {\"error\": \"invalid_grant\", "
                             "\"error_description\": \"AADSTS70000: grant expired\"}}}",
                             NULL), 200);
    oauth_err_clear(&err);
    assert_int_equal(oauth_grant_token(&c, REFRESH(rt), &tk, &err), OAUTH_GRANT_REJECTED);
    assert_non_null(strstr(err.reason, "invalid_grant: AADSTS70000: grant expired"));
    oauth_grant_tokens_clear(&tk);
}

static void test_transport(void **state)
{
    struct oauth_grant_client c = client(NULL, OAUTH_GRANT_AUTH_NONE, NULL);
    struct oauth_grant_tokens tk = {0};
    struct oauth_err err = {0};
    char url[128];

    (void)state;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/token", ts_closed_port());
    c.token_endpoint = url;
    assert_int_equal(oauth_grant_token(&c, REFRESH("r"), &tk, &err), OAUTH_GRANT_UNAVAILABLE);
    c.token_endpoint = "http://idp.example.com/token";
    assert_int_equal(oauth_grant_token(&c, REFRESH("r"), &tk, &err), OAUTH_GRANT_URL_REFUSED);
    /* a secret method without a secret */
    c.auth = OAUTH_GRANT_AUTH_BASIC;
    assert_int_equal(oauth_grant_token(&c, CLIENT_CREDENTIALS(NULL), &tk, &err), OAUTH_GRANT_ERROR);
    /* the RFC 7591 names, exactly */
    assert_int_equal(oauth_grant_auth_parse("client_secret_basic", &c.auth), 0);
    assert_int_equal(c.auth, OAUTH_GRANT_AUTH_BASIC);
    assert_int_equal(oauth_grant_auth_parse("client_secret_post", &c.auth), 0);
    assert_int_equal(c.auth, OAUTH_GRANT_AUTH_POST);
    assert_int_equal(oauth_grant_auth_parse("none", &c.auth), 0);
    assert_int_equal(c.auth, OAUTH_GRANT_AUTH_NONE);
    assert_int_equal(oauth_grant_auth_parse("private_key_jwt", &c.auth), 0);
    assert_int_equal(c.auth, OAUTH_GRANT_AUTH_PRIVATE_KEY_JWT);
    assert_int_equal(oauth_grant_auth_parse("tls_client_auth", &c.auth), -1);
    assert_int_equal(oauth_grant_auth_parse("basic", &c.auth), -1);
    assert_int_equal(oauth_grant_auth_parse("Client_Secret_Basic", &c.auth), -1);
    assert_int_equal(oauth_grant_auth_parse(NULL, &c.auth), -1);
}

/* ---- the token file through the grant module ---------------------------------------------- */

static long idp_stat(const char *name)
{
    char *body = NULL;
    long v = -1;

    if (ts_call(&server, "GET", "/idp/stats", NULL, &body) == 200)
        v = (long)ts_json_int(body, name);
    free(body);
    return v;
}

static char *slurp_member(const char *path, const char *member)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr), *v;
    char *s = NULL;

    v = root ? json_object_get(root, member) : NULL;
    if (json_is_string(v))
        s = strdup(json_string_value(v));
    json_decref(root);
    return s;
}

static void test_tokenfile_write(void **state)
{
    char path[PATH_MAX + 32], text[1024];
    struct oauth_err err = {0};
    struct stat st;

    (void)state;
    snprintf(path, sizeof(path), "%s/new.json", server.dir);
    snprintf(text, sizeof(text), "{\"grant_type\": \"client_credentials\", \"token_endpoint\": "
             "\"%s\", \"client_id\": \"tool-client\"}\n", ms_token);
    /* client_credentials needs a way to authenticate: nothing is written */
    assert_int_equal(oauth_tokenfile_write(path, text, strlen(text), 0600, -1, -1, NULL, &err),
                     OAUTH_TOKENFILE_MALFORMED);
    assert_int_equal(stat(path, &st), -1);
    snprintf(text, sizeof(text), "{\"grant_type\": \"device\", \"access_token\": \"a\", "
             "\"expires_at\": 5}");
    assert_int_equal(oauth_tokenfile_write(path, text, strlen(text), 0600, -1, -1, NULL, &err),
                     OAUTH_TOKENFILE_MALFORMED);
    snprintf(text, sizeof(text), "{\"access_token\": \"a\", \"expires_at\": 5}");
    assert_int_equal(oauth_tokenfile_write(path, text, strlen(text), 0604, -1, -1, NULL, &err),
                     OAUTH_TOKENFILE_ERROR);
    assert_int_equal(oauth_tokenfile_write(path, text, strlen(text), 0640, -1, -1, NULL, &err),
                     OAUTH_TOKENFILE_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    assert_int_equal(oauth_tokenfile_check(path, &err), OAUTH_TOKENFILE_OK);
    /* replaced as a whole */
    snprintf(text, sizeof(text), "{\"access_token\": \"b\", \"expires_at\": 6}");
    assert_int_equal(oauth_tokenfile_write(path, text, strlen(text), 0600, -1, -1, NULL, &err),
                     OAUTH_TOKENFILE_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    {
        char *at = slurp_member(path, "access_token");
        assert_string_equal(at, "b");
        free(at);
    }
}

static void test_tokenfile_client_credentials(void **state)
{
    struct oauth_tokenfile_options o;
    struct oauth_token t;
    struct oauth_err err = {0};
    char path[PATH_MAX + 32], text[2 * PATH_MAX + 512], *rt;
    enum oauth_tokenfile_status st;
    long before;

    (void)state;
    oauth_tokenfile_options_default(&o);
    snprintf(path, sizeof(path), "%s/app.json", server.dir);
    /* with a secret, the access token expired: renewed with client_credentials */
    snprintf(text, sizeof(text), "{\"grant_type\": \"client_credentials\", \"access_token\": "
             "\"old\", \"expires_at\": 10, \"obtained_at\": 5, \"token_endpoint\": \"%s\", "
             "\"client_id\": \"tool-client\", \"client_secret\": \"tool-secret\", "
             "\"token_endpoint_auth_method\": \"client_secret_post\", \"scope\": "
             "\"https://outlook.office365.com/.default\"}", ms_token);
    assert_int_equal(oauth_tokenfile_write(path, text, strlen(text), 0600, -1, -1, NULL, &err),
                     OAUTH_TOKENFILE_OK);
    before = idp_stat("cc_secret");
    st = oauth_tokenfile_get(path, &o, &t, &err);
    if (st != OAUTH_TOKENFILE_OK)
        fail_msg("client_credentials file: %s", err.reason);
    assert_int_equal(t.refreshed, 1);
    assert_int_equal(idp_stat("cc_secret"), before + 1);
    assert_null(rt = slurp_member(path, "refresh_token"));
    oauth_token_clear(&t);
    /* fresh now: used as it is */
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err), OAUTH_TOKENFILE_OK);
    assert_int_equal(t.refreshed, 0);
    oauth_token_clear(&t);
    /* a forced refresh renews it anyway */
    assert_int_equal(oauth_tokenfile_refresh(path, &o, &t, &err), OAUTH_TOKENFILE_OK);
    assert_int_equal(t.refreshed, 1);
    assert_int_equal(idp_stat("cc_secret"), before + 2);
    oauth_token_clear(&t);
    /* with a certificate, no access token yet: obtained on first use */
    snprintf(text, sizeof(text), "{\"grant_type\": \"client_credentials\", \"token_endpoint\": "
             "\"%s\", \"client_id\": \"tool-client\", \"token_endpoint_auth_method\": "
             "\"private_key_jwt\", \"client_assertion_key\": \"%s\", \"client_assertion_cert\": "
             "\"%s\", \"scope\": \"https://outlook.office365.com/.default\"}", ms_token, keyfile,
             certfile);
    assert_int_equal(oauth_tokenfile_write(path, text, strlen(text), 0600, -1, -1, NULL, &err),
                     OAUTH_TOKENFILE_OK);
    before = idp_stat("cc_assertion");
    st = oauth_tokenfile_get(path, &o, &t, &err);
    if (st != OAUTH_TOKENFILE_OK)
        fail_msg("private_key_jwt file: %s", err.reason);
    assert_int_equal(idp_stat("cc_assertion"), before + 1);
    oauth_token_clear(&t);
    /* a client_credentials file with a refresh_token is not one */
    snprintf(text, sizeof(text), "{\"grant_type\": \"client_credentials\", \"refresh_token\": "
             "\"r\", \"token_endpoint\": \"%s\", \"client_id\": \"c\", \"client_secret\": "
             "\"s\"}", ms_token);
    assert_int_equal(oauth_tokenfile_write(path, text, strlen(text), 0600, -1, -1, NULL, &err),
                     OAUTH_TOKENFILE_MALFORMED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pkce),
        cmocka_unit_test(test_device_and_refresh),
        cmocka_unit_test(test_device_declined),
        cmocka_unit_test(test_client_credentials_secret),
        cmocka_unit_test(test_echoed_secrets),
        cmocka_unit_test(test_private_key_jwt),
        cmocka_unit_test(test_auth_code),
        cmocka_unit_test(test_discovery),
        cmocka_unit_test(test_malformed_answers),
        cmocka_unit_test(test_transport),
        cmocka_unit_test(test_tokenfile_write),
        cmocka_unit_test(test_tokenfile_client_credentials),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
