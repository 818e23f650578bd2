/* Token endpoint grants, device authorization, revocation, discovery: see
 * oauth_grant.h. */
#define _GNU_SOURCE 1 /* memmem */
#include "config.h"
#include "oauth_grant.h"
#include "oauth_advice.h"
#include "oauth_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <sasl-mechs/base64.h>
#include <sasl-mechs/crypto.h>
#include <sasl-mechs/secret.h>

#define MAX_TOKEN 16384
#define MAX_STRING 4096
#define MAX_EXPIRES_IN (10L * 366 * 24 * 3600)
#define DEFAULT_EXPIRES_IN 3600
#define MAX_KEY_FILE (64 * 1024)
#define ASSERTION_LIFETIME 300
#define GRANT_DEVICE_CODE "urn:ietf:params:oauth:grant-type:device_code"
#define ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

const char *oauth_grant_status_text(enum oauth_grant_status s)
{
    switch (s) {
    case OAUTH_GRANT_OK: return "ok";
    case OAUTH_GRANT_PENDING: return "authorization pending";
    case OAUTH_GRANT_SLOW_DOWN: return "slow down";
    case OAUTH_GRANT_UNAVAILABLE: return "endpoint unavailable";
    case OAUTH_GRANT_REJECTED: return "refused";
    case OAUTH_GRANT_BAD_RESPONSE: return "answer unusable";
    case OAUTH_GRANT_URL_REFUSED: return "endpoint URL refused";
    case OAUTH_GRANT_CLIENT_KEY: return "client key unusable";
    case OAUTH_GRANT_ERROR: return "internal error";
    }
    return "unknown status";
}

/* The token endpoint authentication methods by their RFC 7591 section 2
 * names: what oauth_grant_auth_parse reads and oauth_grant_auth_name says. */
static const char *const grant_auth_names[] = {
    [OAUTH_GRANT_AUTH_BASIC] = "client_secret_basic",
    [OAUTH_GRANT_AUTH_POST] = "client_secret_post",
    [OAUTH_GRANT_AUTH_NONE] = "none",
    [OAUTH_GRANT_AUTH_PRIVATE_KEY_JWT] = "private_key_jwt",
};
#define GRANT_AUTHS (sizeof(grant_auth_names) / sizeof(grant_auth_names[0]))

int oauth_grant_auth_parse(const char *name, enum oauth_grant_auth *out)
{
    size_t a;

    for (a = 0; name && a < GRANT_AUTHS; a++)
        if (strcmp(name, grant_auth_names[a]) == 0) {
            *out = (enum oauth_grant_auth)a;
            return 0;
        }
    return -1;
}

const char *oauth_grant_auth_name(enum oauth_grant_auth a)
{
    return (unsigned)a < GRANT_AUTHS ? grant_auth_names[a] : "unknown";
}

/* The token endpoint's answer: the tokens are secrets, the scope is not. */
static const struct oauth_owned grant_tokens_owned[] = {
    OAUTH_OWNED_SECRET(struct oauth_grant_tokens, access_token),
    OAUTH_OWNED_SECRET(struct oauth_grant_tokens, refresh_token),
    OAUTH_OWNED_SECRET(struct oauth_grant_tokens, id_token),
    OAUTH_OWNED(struct oauth_grant_tokens, scope),
};

void oauth_grant_tokens_clear(struct oauth_grant_tokens *t)
{
    OAUTH_OWNED_CLEAR(t, grant_tokens_owned);
}

/* RFC 8628 3.2's answer and the discovery document: each member kept is a
 * string under its own name, what oauth_grant_device_start and
 * oauth_discover read (grant_read_members) and the clear functions free. */
static const struct oauth_owned grant_device_owned[] = {
    OAUTH_OWNED_READ(struct oauth_device_auth, device_code, MAX_TOKEN, 1),
    OAUTH_OWNED_READ(struct oauth_device_auth, user_code, 128, 0),
    OAUTH_OWNED_READ(struct oauth_device_auth, verification_uri, MAX_STRING, 0),
    OAUTH_OWNED_READ(struct oauth_device_auth, verification_uri_complete, MAX_STRING, 0),
    OAUTH_OWNED_READ(struct oauth_device_auth, message, MAX_STRING, 0),
};

void oauth_device_auth_clear(struct oauth_device_auth *d)
{
    OAUTH_OWNED_CLEAR(d, grant_device_owned);
}

static const struct oauth_owned grant_discovery_owned[] = {
    OAUTH_OWNED_READ(struct oauth_discovery, issuer, MAX_STRING, 0),
    OAUTH_OWNED_READ(struct oauth_discovery, token_endpoint, MAX_STRING, 0),
    OAUTH_OWNED_READ(struct oauth_discovery, authorization_endpoint, MAX_STRING, 0),
    OAUTH_OWNED_READ(struct oauth_discovery, device_authorization_endpoint, MAX_STRING, 0),
    OAUTH_OWNED_READ(struct oauth_discovery, revocation_endpoint, MAX_STRING, 0),
};

void oauth_discovery_clear(struct oauth_discovery *d)
{
    OAUTH_OWNED_CLEAR(d, grant_discovery_owned);
}

/* ---- small pieces ---------------------------------------------------------- */

static int grant_b64url(const void *in, size_t n, char *out, size_t outmax)
{
    size_t len;
    return sm_b64_encode(SM_B64_URL, in, n, out, outmax, &len);
}

int oauth_random_word(char out[23])
{
    unsigned char r[16];

    if (sm_random(r, sizeof(r)) != 0)
        return -1;
    return grant_b64url(r, sizeof(r), out, 23);
}

int oauth_pkce_make(struct oauth_pkce *p)
{
    unsigned char r[32], d[32];
    size_t dl;
    int rc = -1;

    /* RFC 7636 4.1: a high-entropy random string; 32 octets base64url
     * encoded give the 43 characters it recommends */
    if (sm_random(r, sizeof(r)) == 0 && grant_b64url(r, sizeof(r), p->verifier, 44) == 0
        && sm_digest("SHA256", p->verifier, strlen(p->verifier), d, sizeof(d), &dl) == 0
        && grant_b64url(d, dl, p->challenge, 44) == 0)
        rc = 0;
    sm_erase(r, sizeof(r));
    return rc;
}

int oauth_grant_token_chars_ok(const char *s, size_t n, int allow_space)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c > 0x7e || c < (allow_space ? 0x20 : 0x21))
            return 0;
    }
    return 1;
}

/* expires_in: a positive integer (or a string of digits, as some servers
 * send it); -1 when unusable, 0 when absent */
static long grant_expires_in(json_t *v)
{
    json_int_t x;

    if (!v)
        return 0;
    if (json_is_integer(v)) {
        x = json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t i, n = json_string_length(v);
        if (n == 0 || n > 10)
            return -1;
        for (i = 0, x = 0; i < n; i++) {
            if (s[i] < '0' || s[i] > '9')
                return -1;
            x = x * 10 + (s[i] - '0');
        }
    } else {
        return -1;
    }
    return x > 0 && x <= MAX_EXPIRES_IN ? (long)x : -1;
}

/* Printable text of a member for a message: 0 when not a usable string. */
static int grant_printable(json_t *v, size_t max)
{
    const char *s;
    size_t n;

    if (!json_is_string(v))
        return 0;
    s = json_string_value(v);
    n = json_string_length(v);
    if (n == 0 || n > max || strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
            return 0;
    return 1;
}

/* Printable ASCII only (no control character that would reach a
 * terminal) */
static int grant_text(const char *s)
{
    if (!s)
        return 0;
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e)
            return 0;
    return 1;
}

/* A copy of a string member (NULL: absent or not a string of at most max
 * bytes without NUL); *bad set when present but unusable. */
static char *grant_dup(json_t *root, const char *name, size_t max, int *bad)
{
    json_t *v = json_object_get(root, name);
    char *s;

    if (!v)
        return NULL;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max
        || strlen(json_string_value(v)) != json_string_length(v)) {
        *bad = 1;
        return NULL;
    }
    if (!(s = strdup(json_string_value(v))))
        *bad = 2;
    return s;
}

/* grant_dup of each of the n members of m into out, in their order. */
static void grant_read_members(json_t *root, const struct oauth_owned *m, size_t n, void *out,
                               int *bad)
{
    size_t i;

    for (i = 0; i < n; i++) {
        char *s = grant_dup(root, m[i].name, m[i].max, bad);
        memcpy((char *)out + m[i].at, &s, sizeof(s));
    }
}
#define GRANT_READ_MEMBERS(root, m, out, bad) \
    grant_read_members((root), (m), sizeof(m) / sizeof((m)[0]), (out), (bad))

/* The end of reading an answer into out through its table m: the document
 * (its strings erased) and the answer freed, out emptied unless st is OK.
 * Returns st. */
static enum oauth_grant_status grant_answer_end(enum oauth_grant_status st, json_t *root,
                                                struct oauth_http_response *r, void *out,
                                                size_t size, const struct oauth_owned *m,
                                                size_t n)
{
    oauth_grant_json_free(root);
    oauth_http_response_free(r);
    if (st != OAUTH_GRANT_OK)
        oauth_owned_clear(out, size, m, n);
    return st;
}
#define GRANT_ANSWER_END(st, root, r, out, m) \
    grant_answer_end((st), (root), (r), (out), sizeof(*(out)), (m), sizeof(m) / sizeof((m)[0]))

void oauth_grant_json_free(json_t *root)
{
    const char *k;
    json_t *v;

    if (!root)
        return;
    json_object_foreach(root, k, v) {
        if (json_is_string(v))
            sm_erase((char *)json_string_value(v), json_string_length(v));
    }
    json_decref(root);
}

/* 1 when text (n bytes) holds a secret or any SECRET_WINDOW bytes of one
 * (a shorter secret: whole) */
#define SECRET_WINDOW 16
static int grant_echoes(const char *text, size_t n, const char *const *secrets)
{
    for (; secrets && *secrets; secrets++) {
        size_t sl = strlen(*secrets), w = sl < SECRET_WINDOW ? sl : SECRET_WINDOW;
        if (w == 0)
            continue;
        for (size_t i = 0; i + w <= sl; i++)
            if (memmem(text, n, *secrets + i, w))
                return 1;
    }
    return 0;
}

/* error_description up to its first control character (at most 300
 * bytes), when the whole of it holds no piece of a secret; else "" */
static void grant_describe(json_t *root, const char *const *secrets, char *out, size_t outlen)
{
    json_t *d = json_object_get(root, "error_description");
    size_t n = 0;
    const char *s;

    out[0] = '\0';
    if (!json_is_string(d))
        return;
    s = json_string_value(d);
    if (grant_echoes(s, json_string_length(d), secrets))
        return;
    while (n < 300 && s[n] >= 0x20 && s[n] <= 0x7e && s[n] != '"' && s[n] != '\\')
        n++;
    while (n > 0 && s[n - 1] == ' ')
        n--;
    if (n > 0)
        snprintf(out, outlen, ": %.*s", (int)n, s);
}

/* An error answer: the code into out, the reason into err. */
static enum oauth_grant_status grant_refused(const struct oauth_http_response *r,
                                             const char *what, const char *const *secrets,
                                             struct oauth_grant_tokens *out,
                                             struct oauth_err *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *e = root ? json_object_get(root, "error") : NULL;
    char desc[320];
    const char *code = "(no error code)";

    desc[0] = '\0';
    if (grant_printable(e, 64)
        && grant_echoes(json_string_value(e), json_string_length(e), secrets)) {
        code = "(an error code that holds a secret)";
    } else if (grant_printable(e, 64)) {
        code = json_string_value(e);
        if (out)
            snprintf(out->error, sizeof(out->error), "%s", code);
        grant_describe(root, secrets, desc, sizeof(desc));
    }
    if (out && root)
        out->error_code = oauth_advice_aadsts(root);
    oauth_why(err, "%s refused the request: HTTP %ld, %s%s", what, r->code, code, desc);
    oauth_grant_json_free(root);
    if (out && strcmp(out->error, "authorization_pending") == 0)
        return OAUTH_GRANT_PENDING;
    if (out && strcmp(out->error, "slow_down") == 0)
        return OAUTH_GRANT_SLOW_DOWN;
    return OAUTH_GRANT_REJECTED;
}

/* The HTTP status into ours; on STATUS_ERROR a refusal is parsed. */
static enum oauth_grant_status grant_http_status(enum oauth_http_status hs,
                                                 const struct oauth_http_response *r,
                                                 const struct oauth_err *herr, const char *what,
                                                 const char *const *secrets,
                                                 struct oauth_grant_tokens *out,
                                                 struct oauth_err *err)
{
    switch (hs) {
    case OAUTH_HTTP_OK:
        return OAUTH_GRANT_OK;
    case OAUTH_HTTP_STATUS_ERROR:
        if (herr->cls == OAUTH_ERR_TEMPORARY) {
            oauth_why(err, "%s unavailable: %s", what, herr->reason);
            return OAUTH_GRANT_UNAVAILABLE;
        }
        return grant_refused(r, what, secrets, out, err);
    case OAUTH_HTTP_UNREACHABLE:
    case OAUTH_HTTP_TLS_ERROR:
        oauth_why(err, "%s unavailable: %s", what, herr->reason);
        return OAUTH_GRANT_UNAVAILABLE;
    case OAUTH_HTTP_TOO_LARGE:
        oauth_why(err, "%s answer: %s", what, herr->reason);
        return OAUTH_GRANT_BAD_RESPONSE;
    case OAUTH_HTTP_URL_REFUSED:
        oauth_why(err, "%s URL refused: %s", what, herr->reason);
        return OAUTH_GRANT_URL_REFUSED;
    default:
        oauth_why(err, "%s: %s", what, herr->reason);
        return OAUTH_GRANT_ERROR;
    }
}

/* ---- private_key_jwt --------------------------------------------------------- */

static enum oauth_grant_status grant_load_key(const char *path, EVP_PKEY **key,
                                              struct oauth_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    BIO *bio;
    enum oauth_err_class rc;

    *key = NULL;
    rc = oauth_read_file(path, "client key", OAUTH_FILE_SECRET, MAX_KEY_FILE, &buf, &len, NULL,
                         err);
    if (rc != OAUTH_OK)
        return rc == OAUTH_ERR_INTERNAL ? OAUTH_GRANT_ERROR : OAUTH_GRANT_CLIENT_KEY;
    if ((bio = BIO_new_mem_buf(buf, (int)len)))
        *key = PEM_read_bio_PrivateKey_ex(bio, NULL, NULL, NULL, sm_crypto_libctx(), NULL);
    BIO_free(bio);
    sm_erase(buf, len);
    free(buf);
    if (!*key) {
        oauth_why(err, "client key %s is not a PEM private key (unencrypted)", path);
        return OAUTH_GRANT_CLIENT_KEY;
    }
    if (!EVP_PKEY_is_a(*key, "RSA")) {
        oauth_why(err, "client key %s is not an RSA key (private_key_jwt signs RS256)", path);
        EVP_PKEY_free(*key);
        *key = NULL;
        return OAUTH_GRANT_CLIENT_KEY;
    }
    return OAUTH_GRANT_OK;
}

/* The certificate's SHA-256 and SHA-1 thumbprints, base64url; checks that
 * it holds the key's public half. */
static enum oauth_grant_status grant_load_cert(const char *path, EVP_PKEY *key, char x5t256[48],
                                               char x5t[32], struct oauth_err *err)
{
    char *buf = NULL;
    size_t len = 0, dl;
    BIO *bio;
    X509 *cert = NULL;
    unsigned char *der = NULL, d[32];
    int derlen;
    enum oauth_grant_status st = OAUTH_GRANT_CLIENT_KEY;
    enum oauth_err_class rc;

    rc = oauth_read_file(path, "client certificate", OAUTH_FILE_PUBLIC, MAX_KEY_FILE, &buf,
                         &len, NULL, err);
    if (rc != OAUTH_OK)
        return rc == OAUTH_ERR_INTERNAL ? OAUTH_GRANT_ERROR : OAUTH_GRANT_CLIENT_KEY;
    /* decoded in the private library context, like the key */
    if ((bio = BIO_new_mem_buf(buf, (int)len)) && (cert = X509_new_ex(sm_crypto_libctx(), NULL))
        && !PEM_read_bio_X509(bio, &cert, NULL, NULL)) {
        X509_free(cert);
        cert = NULL;
    }
    BIO_free(bio);
    free(buf);
    if (!cert) {
        oauth_why(err, "client certificate %s is not a PEM certificate", path);
        return st;
    }
    if (EVP_PKEY_eq(X509_get0_pubkey(cert), key) != 1) {
        oauth_why(err, "client certificate %s does not hold the client key's public key", path);
        goto out;
    }
    if ((derlen = i2d_X509(cert, &der)) <= 0) {
        oauth_why(err, "client certificate %s: cannot encode it", path);
        goto out;
    }
    if (sm_digest("SHA256", der, (size_t)derlen, d, sizeof(d), &dl) != 0
        || grant_b64url(d, dl, x5t256, 48) != 0
        || sm_digest("SHA1", der, (size_t)derlen, d, sizeof(d), &dl) != 0
        || grant_b64url(d, dl, x5t, 32) != 0) {
        oauth_why(err, "client certificate %s: digest failed", path);
        st = OAUTH_GRANT_ERROR;
        goto out;
    }
    st = OAUTH_GRANT_OK;
out:
    OPENSSL_free(der);
    X509_free(cert);
    return st;
}

/* base64url of a JSON object, compact, appended to *s at *n (size cap). */
static int grant_append_b64json(json_t *obj, char *s, size_t cap, size_t *n)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    size_t len, w;
    int rc;

    if (!text)
        return -1;
    len = strlen(text);
    rc = sm_b64_encode(SM_B64_URL, text, len, s + *n, cap - *n, &w);
    free(text);
    if (rc == 0)
        *n += w;
    return rc;
}

enum oauth_grant_status oauth_grant_assertion(const struct oauth_grant_client *c, char **out,
                                              struct oauth_err *err)
{
    EVP_PKEY *key = NULL;
    EVP_MD_CTX *md = NULL;
    json_t *hdr = NULL, *claims = NULL;
    char x5t256[48], x5t[32], jti[23], *jwt = NULL;
    unsigned char *sig = NULL;
    size_t cap = 8192, n = 0, siglen = 0, w;
    time_t now = time(NULL);
    enum oauth_grant_status st;

    *out = NULL;
    if (!c->key_file || !c->client_id || !c->token_endpoint) {
        oauth_why(err, "private_key_jwt needs a key file, a client id and a token endpoint");
        return OAUTH_GRANT_ERROR;
    }
    if ((st = grant_load_key(c->key_file, &key, err)) != OAUTH_GRANT_OK)
        return st;
    if (c->cert_file
        && (st = grant_load_cert(c->cert_file, key, x5t256, x5t, err)) != OAUTH_GRANT_OK)
        goto out;
    st = OAUTH_GRANT_ERROR;
    if (oauth_random_word(jti) != 0) {
        oauth_why(err, "no random bytes for the assertion");
        goto out;
    }
    hdr = json_pack("{s:s, s:s}", "alg", "RS256", "typ", "JWT");
    /* RFC 7523 3: iss and sub the client_id, aud the token endpoint */
    claims = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "iss", c->client_id, "sub",
                       c->client_id, "aud", c->token_endpoint, "jti", jti, "iat",
                       (json_int_t)now, "nbf", (json_int_t)now, "exp",
                       (json_int_t)(now + ASSERTION_LIFETIME));
    if (!hdr || !claims)
        goto oom;
    if (c->cert_file && (json_object_set_new(hdr, "x5t#S256", json_string(x5t256)) != 0
                         || json_object_set_new(hdr, "x5t", json_string(x5t)) != 0))
        goto oom;
    if (!(jwt = malloc(cap)))
        goto oom;
    if (grant_append_b64json(hdr, jwt, cap, &n) != 0 || n + 1 >= cap)
        goto oom;
    jwt[n++] = '.';
    if (grant_append_b64json(claims, jwt, cap, &n) != 0)
        goto oom;
    if (!(md = EVP_MD_CTX_new())
        || EVP_DigestSignInit_ex(md, NULL, "SHA256", sm_crypto_libctx(), NULL, key, NULL) != 1
        || EVP_DigestSign(md, NULL, &siglen, (unsigned char *)jwt, n) != 1
        || !(sig = malloc(siglen))
        || EVP_DigestSign(md, sig, &siglen, (unsigned char *)jwt, n) != 1) {
        oauth_why(err, "signing the client assertion failed");
        goto out;
    }
    if (n + 1 >= cap)
        goto oom;
    jwt[n++] = '.';
    if (sm_b64_encode(SM_B64_URL, sig, siglen, jwt + n, cap - n, &w) != 0)
        goto oom;
    *out = jwt;
    jwt = NULL;
    st = OAUTH_GRANT_OK;
    goto out;
oom:
    oauth_why(err, "out of memory building the client assertion");
    st = OAUTH_GRANT_ERROR;
out:
    free(sig);
    free(jwt);
    EVP_MD_CTX_free(md);
    json_decref(hdr);
    json_decref(claims);
    EVP_PKEY_free(key);
    return st;
}

/* ---- one POST with the client's authentication -------------------------------- */

#define GRANT_MAX_FIELDS 12

/* fields: the request's own; the client authentication is added.  The
 * answer (any status) in r; secrets (NULL-terminated) collected for the
 * error description check. */
static enum oauth_grant_status grant_post(const struct oauth_grant_client *c, const char *url,
                                          const char *what,
                                          const struct oauth_http_field *fields, size_t nf,
                                          const char **secrets, struct oauth_http_response *r,
                                          struct oauth_grant_tokens *out,
                                          struct oauth_err *err)
{
    struct oauth_http_field fl[GRANT_MAX_FIELDS];
    struct oauth_http_basic basic = {c->client_id, c->client_secret ? c->client_secret : ""};
    struct oauth_http_options def;
    struct oauth_err herr;
    enum oauth_http_status hs;
    enum oauth_grant_status st;
    char *assertion = NULL;
    size_t n = 0, ns = 0;

    memset(r, 0, sizeof(*r));
    while (secrets[ns])
        ns++;
    if (!url || !url[0] || !c->client_id || !c->client_id[0] || nf + 3 > GRANT_MAX_FIELDS) {
        oauth_why(err, "%s: no endpoint or no client id", what);
        return OAUTH_GRANT_ERROR;
    }
    if ((c->auth == OAUTH_GRANT_AUTH_BASIC || c->auth == OAUTH_GRANT_AUTH_POST)
        && !c->client_secret) {
        oauth_why(err, "%s needs a client secret", oauth_grant_auth_name(c->auth));
        return OAUTH_GRANT_ERROR;
    }
    memcpy(fl, fields, nf * sizeof(*fl));
    n = nf;
    switch (c->auth) {
    case OAUTH_GRANT_AUTH_BASIC:
        break;
    case OAUTH_GRANT_AUTH_POST:
        fl[n++] = (struct oauth_http_field){"client_id", c->client_id};
        fl[n++] = (struct oauth_http_field){"client_secret", c->client_secret};
        break;
    case OAUTH_GRANT_AUTH_NONE:
        fl[n++] = (struct oauth_http_field){"client_id", c->client_id};
        break;
    case OAUTH_GRANT_AUTH_PRIVATE_KEY_JWT:
        if ((st = oauth_grant_assertion(c, &assertion, err)) != OAUTH_GRANT_OK)
            return st;
        fl[n++] = (struct oauth_http_field){"client_id", c->client_id};
        fl[n++] = (struct oauth_http_field){"client_assertion_type", ASSERTION_TYPE};
        fl[n++] = (struct oauth_http_field){"client_assertion", assertion};
        secrets[ns] = assertion;
        break;
    }
    if (c->client_secret && c->auth != OAUTH_GRANT_AUTH_PRIVATE_KEY_JWT)
        secrets[ns] = c->client_secret;
    if (!c->http)
        oauth_http_options_default(&def);
    oauth_err_clear(&herr);
    hs = oauth_http_post_form(url, c->http ? c->http : &def, fl, n,
                              c->auth == OAUTH_GRANT_AUTH_BASIC ? &basic : NULL, r, &herr);
    st = grant_http_status(hs, r, &herr, what, secrets, out, err);
    if (out)
        out->http_code = r->code;
    secrets[ns] = NULL;
    oauth_secret_free(assertion);
    return st;
}

/* A token endpoint request and its answer. */
static enum oauth_grant_status grant_token(const struct oauth_grant_client *c,
                                           const struct oauth_http_field *fields, size_t nf,
                                           const char **secrets,
                                           struct oauth_grant_tokens *out,
                                           struct oauth_err *err)
{
    struct oauth_http_response r;
    enum oauth_grant_status st;
    json_error_t jerr;
    json_t *root = NULL, *v;
    int bad = 0;

    memset(out, 0, sizeof(*out));
    st = grant_post(c, c->token_endpoint, "token endpoint", fields, nf, secrets, &r, out, err);
    if (st != OAUTH_GRANT_OK)
        goto out;
    st = OAUTH_GRANT_BAD_RESPONSE;
    if (r.code != 200) {
        oauth_why(err, "token endpoint answered HTTP %ld, not 200", r.code);
        goto out;
    }
    if (!(root = json_loadb(r.body, r.len, JSON_REJECT_DUPLICATES, &jerr))
        || !json_is_object(root)) {
        oauth_why(err, "token endpoint answer is not a JSON object");
        goto out;
    }
    v = json_object_get(root, "access_token");
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > MAX_TOKEN
        || !oauth_grant_token_chars_ok(json_string_value(v), json_string_length(v), 0)) {
        oauth_why(err, "token endpoint answer has no usable \"access_token\"");
        goto out;
    }
    if (!(out->access_token = strdup(json_string_value(v))))
        goto oom;
    v = json_object_get(root, "token_type");
    if (v && (!json_is_string(v) || strcasecmp(json_string_value(v), "Bearer") != 0)) {
        oauth_why(err, "token endpoint answer: token_type is not Bearer");
        goto out;
    }
    if ((out->expires_in = grant_expires_in(json_object_get(root, "expires_in"))) < 0) {
        oauth_why(err, "token endpoint answer: \"expires_in\" is not a positive number of "
                       "seconds");
        goto out;
    }
    if (out->expires_in == 0)
        out->expires_in = DEFAULT_EXPIRES_IN;
    v = json_object_get(root, "refresh_token");
    if (v) {
        if (!json_is_string(v) || json_string_length(v) == 0
            || json_string_length(v) > MAX_TOKEN
            || !oauth_grant_token_chars_ok(json_string_value(v), json_string_length(v), 1)) {
            oauth_why(err, "token endpoint answer has an unusable \"refresh_token\"");
            goto out;
        }
        if (!(out->refresh_token = strdup(json_string_value(v))))
            goto oom;
    }
    out->id_token = grant_dup(root, "id_token", MAX_TOKEN, &bad);
    v = json_object_get(root, "scope");
    if (!json_is_string(v) || json_string_length(v) > 0) /* "": none granted or asked for */
        out->scope = grant_dup(root, "scope", MAX_STRING, &bad);
    if (bad == 2)
        goto oom;
    if (bad) {
        oauth_why(err, "token endpoint answer: \"id_token\" or \"scope\" is not a string");
        goto out;
    }
    st = OAUTH_GRANT_OK;
    goto out;
oom:
    oauth_why(err, "out of memory");
    st = OAUTH_GRANT_ERROR;
out:
    oauth_grant_json_free(root);
    oauth_http_response_free(&r);
    if (st != OAUTH_GRANT_OK) {
        char e[sizeof(out->error)];
        long code = out->error_code, hc = out->http_code;
        memcpy(e, out->error, sizeof(e));
        oauth_grant_tokens_clear(out);
        memcpy(out->error, e, sizeof(e));
        out->error_code = code;
        out->http_code = hc;
    }
    return st;
}

/* Each grant's grant_type, and the name its secret is sent under (NULL:
 * none).  A redirect_uri and a code_verifier go with a code; a scope with
 * any grant that has one. */
static const struct {
    const char *grant_type, *secret_name;
} grant_types[] = {
    [OAUTH_GRANT_REFRESH_TOKEN] = {"refresh_token", "refresh_token"},
    [OAUTH_GRANT_CLIENT_CREDENTIALS] = {"client_credentials", NULL},
    [OAUTH_GRANT_AUTHORIZATION_CODE] = {"authorization_code", "code"},
    [OAUTH_GRANT_DEVICE_CODE] = {GRANT_DEVICE_CODE, "device_code"},
};

enum oauth_grant_status oauth_grant_token(const struct oauth_grant_client *c,
                                          const struct oauth_grant_request *rq,
                                          struct oauth_grant_tokens *out, struct oauth_err *err)
{
    struct oauth_http_field fl[5];
    /* the request's two at most, grant_post's one, the end */
    const char *secrets[4] = {NULL, NULL, NULL, NULL};
    size_t n = 0, ns = 0;

    if ((unsigned)rq->type >= sizeof(grant_types) / sizeof(grant_types[0])) {
        oauth_why(err, "unknown grant");
        return OAUTH_GRANT_ERROR;
    }
    fl[n++] = (struct oauth_http_field){"grant_type", grant_types[rq->type].grant_type};
    if (grant_types[rq->type].secret_name) {
        fl[n++] = (struct oauth_http_field){grant_types[rq->type].secret_name, rq->secret};
        secrets[ns++] = rq->secret;
    }
    if (rq->type == OAUTH_GRANT_AUTHORIZATION_CODE) {
        fl[n++] = (struct oauth_http_field){"redirect_uri", rq->redirect_uri};
        fl[n++] = (struct oauth_http_field){"code_verifier", rq->code_verifier};
        secrets[ns++] = rq->code_verifier;
    }
    if (rq->scope && rq->scope[0])
        fl[n++] = (struct oauth_http_field){"scope", rq->scope};
    return grant_token(c, fl, n, secrets, out, err);
}

enum oauth_grant_status oauth_grant_device_start(const struct oauth_grant_client *c,
                                                 const char *device_endpoint,
                                                 const char *scope,
                                                 struct oauth_device_auth *out,
                                                 struct oauth_err *err)
{
    struct oauth_http_field fl[1];
    const char *secrets[3] = {NULL, NULL, NULL};
    struct oauth_http_response r;
    struct oauth_grant_tokens tk;
    enum oauth_grant_status st;
    json_error_t jerr;
    json_t *root = NULL;
    int bad = 0;
    size_t n = 0;

    memset(out, 0, sizeof(*out));
    memset(&tk, 0, sizeof(tk));
    if (scope && scope[0])
        fl[n++] = (struct oauth_http_field){"scope", scope};
    st = grant_post(c, device_endpoint, "device authorization endpoint", fl, n, secrets, &r,
                    &tk, err);
    if (st != OAUTH_GRANT_OK)
        goto out;
    st = OAUTH_GRANT_BAD_RESPONSE;
    if (r.code != 200 || !(root = json_loadb(r.body, r.len, JSON_REJECT_DUPLICATES, &jerr))
        || !json_is_object(root)) {
        oauth_why(err, "device authorization answer is not a JSON object (HTTP %ld)", r.code);
        goto out;
    }
    GRANT_READ_MEMBERS(root, grant_device_owned, out, &bad);
    if (!out->verification_uri && !bad) /* Google's name for it */
        out->verification_uri = grant_dup(root, "verification_url", MAX_STRING, &bad);
    /* shown on a terminal: printable ASCII only (the optional sentence is
     * dropped otherwise, a URI refused below) */
    if (out->message && !grant_text(out->message)) {
        free(out->message);
        out->message = NULL;
    }
    out->expires_in = grant_expires_in(json_object_get(root, "expires_in"));
    out->interval = grant_expires_in(json_object_get(root, "interval"));
    if (bad == 2) {
        oauth_why(err, "out of memory");
        st = OAUTH_GRANT_ERROR;
        goto out;
    }
    if (bad || !out->device_code || !out->user_code || !out->verification_uri
        || out->expires_in <= 0 || out->interval < 0
        || !grant_printable(json_object_get(root, "user_code"), 128)
        || !grant_text(out->verification_uri)
        || (out->verification_uri_complete && !grant_text(out->verification_uri_complete))) {
        oauth_why(err, "device authorization answer lacks a usable device_code, user_code, "
                       "verification_uri (printable ASCII) or expires_in");
        goto out;
    }
    if (out->interval == 0)
        out->interval = 5; /* RFC 8628 3.2 */
    if (out->interval > OAUTH_DEVICE_MAX_INTERVAL)
        out->interval = OAUTH_DEVICE_MAX_INTERVAL;
    st = OAUTH_GRANT_OK;
out:
    return GRANT_ANSWER_END(st, root, &r, out, grant_device_owned);
}

enum oauth_grant_status oauth_grant_revoke(const struct oauth_grant_client *c,
                                           const char *revocation_endpoint, const char *token,
                                           const char *hint, struct oauth_err *err)
{
    struct oauth_http_field fl[2];
    const char *secrets[4] = {token, NULL, NULL, NULL};
    struct oauth_http_response r;
    enum oauth_grant_status st;
    size_t n = 0;

    fl[n++] = (struct oauth_http_field){"token", token};
    if (hint)
        fl[n++] = (struct oauth_http_field){"token_type_hint", hint};
    st = grant_post(c, revocation_endpoint, "revocation endpoint", fl, n, secrets, &r, NULL,
                    err);
    if (st == OAUTH_GRANT_OK && r.code != 200) {
        oauth_why(err, "revocation endpoint answered HTTP %ld, not 200", r.code);
        st = OAUTH_GRANT_BAD_RESPONSE;
    }
    oauth_http_response_free(&r);
    return st;
}

/* ---- discovery ----------------------------------------------------------------- */

static size_t grant_trimmed_len(const char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '/')
        n--;
    return n;
}

enum oauth_grant_status oauth_discover(const char *issuer, const struct oauth_http_options *http,
                                       struct oauth_discovery *out, struct oauth_err *err)
{
    static const char *const wk[] = {"/.well-known/openid-configuration",
                                     "/.well-known/oauth-authorization-server"};
    struct oauth_http_options def;
    struct oauth_http_response r;
    struct oauth_err herr;
    enum oauth_http_status hs = OAUTH_HTTP_ERROR;
    enum oauth_grant_status st = OAUTH_GRANT_BAD_RESPONSE;
    json_error_t jerr;
    json_t *root = NULL;
    size_t il, k;
    char *url;
    int bad = 0;

    memset(out, 0, sizeof(*out));
    memset(&r, 0, sizeof(r));
    if (!issuer || !issuer[0]) {
        oauth_why(err, "no issuer given");
        return OAUTH_GRANT_ERROR;
    }
    if (!http) {
        oauth_http_options_default(&def);
        http = &def;
    }
    il = grant_trimmed_len(issuer);
    if (!(url = malloc(il + 48))) {
        oauth_why(err, "out of memory");
        return OAUTH_GRANT_ERROR;
    }
    for (k = 0; k < 2; k++) {
        memcpy(url, issuer, il);
        strcpy(url + il, wk[k]);
        oauth_http_response_free(&r);
        oauth_err_clear(&herr);
        hs = oauth_http_get(url, http, &r, &herr);
        if (!(hs == OAUTH_HTTP_STATUS_ERROR && r.code == 404))
            break;
    }
    free(url);
    if (hs != OAUTH_HTTP_OK) {
        st = grant_http_status(hs, &r, &herr, "discovery", NULL, NULL, err);
        if (st == OAUTH_GRANT_OK)
            st = OAUTH_GRANT_BAD_RESPONSE;
        goto out;
    }
    if (!(root = json_loadb(r.body, r.len, JSON_REJECT_DUPLICATES, &jerr))
        || !json_is_object(root)) {
        oauth_why(err, "discovery document of %s is not a JSON object", issuer);
        goto out;
    }
    GRANT_READ_MEMBERS(root, grant_discovery_owned, out, &bad);
    if (bad == 2) {
        oauth_why(err, "out of memory");
        st = OAUTH_GRANT_ERROR;
        goto out;
    }
    if (bad || !out->issuer || !out->token_endpoint) {
        oauth_why(err, "discovery document of %s lacks a usable issuer or token_endpoint",
                  issuer);
        goto out;
    }
    /* OpenID Connect Discovery 4.3: the issuer must be the one asked for */
    if (grant_trimmed_len(out->issuer) != il || memcmp(out->issuer, issuer, il) != 0) {
        oauth_why(err, "discovery document of %s names another issuer", issuer);
        goto out;
    }
    st = OAUTH_GRANT_OK;
out:
    return GRANT_ANSWER_END(st, root, &r, out, grant_discovery_owned);
}
