/* libFuzzer target for plugins/oauth/oauth_jwks.c and oauth_jwt.c (the
 * local JWT validation of the OAuth servers).  Every input runs through
 * three passes, each with invariants that abort when broken:
 *
 *  1. the input as a JWKS document: OAUTH_JWKS_OK exactly when a set comes
 *     back, with at least one usable key; oauth_jwks_find on it returns a
 *     key exactly when it says OAUTH_JWKS_OK; the reason is NUL-terminated.
 *  2. the input as a compact JWS, validated against a fixed set of public
 *     keys (RSA 2048, P-256, Ed25519: nobody here holds their private
 *     halves) and a policy whose HMAC secret is drawn afresh for every
 *     input (the oracle rule of fuzz_mech.c): OAUTH_JWT_OK would be a
 *     forgery, so it aborts.  On failure no user is returned, and the reason
 *     never holds the input.
 *  3. the input split at its first '\n' into a header and a payload (JSON
 *     text, so the fuzzer works on JSON, not on base64url), encoded and
 *     signed here with HS256 and the fresh secret: the claim checks run.
 *     On OAUTH_JWT_OK the header's alg is HS256 and the claims, parsed
 *     again here, agree (exp, nbf, iat, iss, aud, the user); the same
 *     token with one signature bit flipped must fail.
 *
 * Not wired into Makefile.am yet; it links liboauthcore.la, libsmcommon.la,
 * jansson and libcrypto, with -I plugins/oauth -I include. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <sasl-mechs/base64.h>
#include "oauth_jwks.h"
#include "oauth_jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

#define NOW 1700000000
#define LEEWAY 60
#define WHYLEN OAUTH_ERR_REASON_MAX

static const char fixed_set[] =
    "{\"keys\":["
    "{\"kty\":\"RSA\",\"kid\":\"rsa\",\"e\":\"AQAB\",\"n\":\"nOUdAaHdY1J5fcDd0821bPsgYCJpIa-"
    "BhfxESs7bh1lVvZ0bj3CYeGUkeOHeP0ZWx3Dav-rmmnGGiqqbykXpv4pVUeUPRab4HCAEAcTgHahrtu9LzJcQCT1e"
    "qmfFjBj0KGUaKsbvJiHosaxXobtDJ-UVeXWiENgPe5y_ERXq5I7dAGrLIqX-zf_FGHz35CDijZdJ4JswjBQw_WXJX"
    "GGLAMheW7J1QxYZbCWQZvsKTTVbQbVNPxQ_OXnxJkyQt_2DKRFg_Qp3dAdBniz-23NB0jB4SN-vUGJsemcUmehVQG_"
    "GGIcONiFqZfdgOSq7ukZPwUDnQ5VSj4xTN9w6fZeK8w\"},"
    "{\"kty\":\"EC\",\"kid\":\"ec\",\"crv\":\"P-256\","
    "\"x\":\"0yDaszsuJauHyFnnw_8M7jCtgGfBgDwmXScV9j0mGIA\","
    "\"y\":\"d4od8EuCDg921Ff3j_XIS3wW_TGzUWH2QyonJSM3paE\"},"
    "{\"kty\":\"OKP\",\"kid\":\"ed\",\"crv\":\"Ed25519\","
    "\"x\":\"oluu3q6ZAplhac-ERinGSM_g-UJo2IhTa0w6nOKfnoQ\"}"
    "]}";

static const char *const issuers[] = {"https://issuer.example", "https://login.example.org"};
static const char *const audiences[] = {"imap", "smtp"};
static const char *const scopes[] = {"mail"};

static struct oauth_jwks *fixed_keys(void)
{
    static struct oauth_jwks *set;

    if (!set)
        CHECK(oauth_jwks_parse(fixed_set, sizeof(fixed_set) - 1, &set, NULL) == OAUTH_JWKS_OK
              && oauth_jwks_count(set, NULL) == 3);
    return set;
}

/* 1 when needle[0..nl) occurs in hay[0..hl) */
static int contains(const char *hay, size_t hl, const void *needle, size_t nl)
{
    size_t i;

    for (i = 0; nl <= hl && i <= hl - nl; i++)
        if (memcmp(hay + i, needle, nl) == 0)
            return 1;
    return 0;
}

/* A reason never holds the token.  Checked on inputs of 16 or more bytes
 * of the token alphabet (base64url and '.'): no fixed text of a reason has
 * such a run (spaces break them all), and a value a reason quotes (alg,
 * kid, typ) is decoded from inside the token, so it is shorter than the
 * token.  Any other input may occur in a fixed text (the fuzzer learns them
 * from the comparisons of its own checks here). */
static void check_why(const char *why, const uint8_t *data, size_t size)
{
    size_t i;

    CHECK(memchr(why, '\0', WHYLEN) != NULL);
    if (size < 16)
        return;
    for (i = 0; i < size; i++)
        if (!((data[i] >= 'A' && data[i] <= 'Z') || (data[i] >= 'a' && data[i] <= 'z')
              || (data[i] >= '0' && data[i] <= '9') || data[i] == '-' || data[i] == '_'
              || data[i] == '.'))
            return;
    CHECK(!contains(why, strlen(why), data, size));
}

/* 1: the input as a key set */
static void pass_jwks(const uint8_t *data, size_t size)
{
    static const char *const kids[] = {NULL, "", "rsa", "ec", "0"};
    struct oauth_jwks *set = (struct oauth_jwks *)(uintptr_t)1;
    struct oauth_err err;
    enum oauth_jwks_status st;
    size_t i, refused, usable;
    int a;

    memset(&err, 'x', sizeof(err));
    st = oauth_jwks_parse((const char *)data, size, &set, &err);
    CHECK(memchr(err.reason, '\0', sizeof(err.reason)) != NULL);
    CHECK(err.code == (int)st && (err.cls == OAUTH_OK) == (st == OAUTH_JWKS_OK));
    CHECK(st <= OAUTH_JWKS_ERR_INTERNAL);
    CHECK((st == OAUTH_JWKS_OK) == (set != NULL));
    if (!set)
        return;
    usable = oauth_jwks_count(set, &refused);
    CHECK(usable >= 1 && usable + refused <= OAUTH_JWKS_MAX_KEYS);
    for (i = 0; i < sizeof(kids) / sizeof(kids[0]); i++)
        for (a = 0; a < OAUTH_JWT_ALG_COUNT; a++) {
            EVP_PKEY *pk = (EVP_PKEY *)(uintptr_t)1;
            enum oauth_jwks_status fs = oauth_jwks_find(set, kids[i], (enum oauth_jwt_alg)a, &pk);
            CHECK((fs == OAUTH_JWKS_OK) == (pk != NULL));
            CHECK(fs == OAUTH_JWKS_OK || fs >= OAUTH_JWKS_UNKNOWN_KID);
            CHECK(a != OAUTH_JWT_HS256 || fs != OAUTH_JWKS_OK); /* never an HMAC key */
            CHECK(kids[i] || fs == OAUTH_JWKS_OK || fs == OAUTH_JWKS_NO_KEY);
        }
    oauth_jwks_free(set);
}

static void policy(struct oauth_jwt_policy *p, const unsigned char *secret, size_t len)
{
    memset(p, 0, sizeof(*p));
    p->issuers = issuers;
    p->n_issuers = 2;
    p->audiences = audiences;
    p->n_audiences = 2;
    p->scopes = scopes;
    p->n_scopes = 1;
    p->leeway = LEEWAY;
    p->hmac_secret = secret;
    p->hmac_secret_len = len;
}

/* 2: the input as a token: it never validates */
/* the issuer read before anything is verified (several issuers, each with
 * its own keys): a string that fits, or a refusal of the token */
static void pass_peek(const uint8_t *data, size_t size)
{
    char iss[64];
    struct oauth_err err;
    enum oauth_jwt_status st;

    memset(iss, 'x', sizeof(iss));
    memset(&err, 'x', sizeof(err));
    st = oauth_jwt_peek_issuer((const char *)data, size, 0, iss, sizeof(iss), &err);
    if (st == OAUTH_JWT_OK) {
        CHECK(memchr(iss, '\0', sizeof(iss)) && err.cls == OAUTH_OK);
    } else {
        CHECK(err.code == (int)st && (err.cls == OAUTH_ERR_CLIENT || st == OAUTH_JWT_ERR_INTERNAL));
        check_why(err.reason, data, size);
    }
}

static void pass_token(const uint8_t *data, size_t size, const struct oauth_jwt_policy *p)
{
    struct oauth_jwt_result res;
    struct oauth_err err;
    enum oauth_jwt_status st;

    memset(&res, 0x5a, sizeof(res));
    st = oauth_jwt_validate((const char *)data, size, fixed_keys(), p, NOW, &res, &err);
    CHECK(st != OAUTH_JWT_OK); /* a forgery */
    CHECK(st <= OAUTH_JWT_ERR_INTERNAL && st != OAUTH_JWT_ERR_POLICY);
    CHECK(err.code == (int)st && (err.cls == OAUTH_ERR_CLIENT || st == OAUTH_JWT_ERR_INTERNAL));
    CHECK(res.user == NULL);
    check_why(err.reason, data, size);
    pass_peek(data, size);
}

static char *b64url(const void *p, size_t n, size_t *len)
{
    size_t need = sm_b64_encoded_len(SM_B64_URL, n) + 1;
    char *s = malloc(need);

    CHECK(s && sm_b64_encode(SM_B64_URL, p, n, s, need, len) == 0);
    return s;
}

static int in(const json_t *v, const char *const *list, size_t n)
{
    size_t i;

    for (i = 0; json_is_string(v) && i < n; i++)
        if (strlen(list[i]) == json_string_length(v) && strcmp(list[i], json_string_value(v)) == 0)
            return 1;
    return 0;
}

/* What OAUTH_JWT_OK promises, checked again on the header and payload. */
static void recheck(const uint8_t *h, size_t hl, const uint8_t *pl, size_t pll,
                    const struct oauth_jwt_result *res)
{
    json_t *hdr = json_loadb((const char *)h, hl, JSON_REJECT_DUPLICATES, NULL);
    json_t *c = json_loadb((const char *)pl, pll, JSON_REJECT_DUPLICATES, NULL);
    const json_t *exp, *nbf, *iat, *aud, *v, *user;
    size_t i;
    int ok = 0;

    CHECK(hdr && c && json_is_object(hdr) && json_is_object(c));
    v = json_object_get(hdr, "alg");
    CHECK(json_is_string(v) && strcmp(json_string_value(v), "HS256") == 0);
    CHECK(!json_object_get(hdr, "crit"));
    exp = json_object_get(c, "exp");
    nbf = json_object_get(c, "nbf");
    iat = json_object_get(c, "iat");
    CHECK(json_is_number(exp) && json_number_value(exp) > NOW - LEEWAY);
    CHECK(!nbf || (json_is_number(nbf) && json_number_value(nbf) <= NOW + LEEWAY));
    CHECK(!iat || (json_is_number(iat) && json_number_value(iat) <= NOW + LEEWAY));
    CHECK(in(json_object_get(c, "iss"), issuers, 2));
    aud = json_object_get(c, "aud");
    if (json_is_array(aud)) {
        json_array_foreach(aud, i, v) {
            ok |= in(v, audiences, 2);
        }
    } else {
        ok = in(aud, audiences, 2);
    }
    CHECK(ok);
    user = json_object_get(c, "email");
    CHECK(res->user && json_is_string(user) && strcmp(json_string_value(user), res->user) == 0);
    CHECK(strlen(res->user) > 0 && strlen(res->user) <= OAUTH_JWT_DEFAULT_MAX_USER);
    for (i = 0; res->user[i]; i++)
        CHECK((unsigned char)res->user[i] >= 0x20 && res->user[i] != 0x7f);
    CHECK(res->alg == OAUTH_JWT_HS256);
    json_decref(hdr);
    json_decref(c);
}

/* 3: header '\n' payload, signed here */
static void pass_signed(const uint8_t *data, size_t size, const struct oauth_jwt_policy *p)
{
    const uint8_t *nl = memchr(data, '\n', size);
    const uint8_t *h = data, *pl = nl ? nl + 1 : data + size;
    size_t hl = nl ? (size_t)(nl - data) : size, pll = nl ? size - hl - 1 : 0;
    size_t a, b, c, len, maclen = 0;
    char *hb = b64url(h, hl, &a), *pb = b64url(pl, pll, &b), *sb, *tok;
    struct oauth_err err;
    unsigned char mac[32];
    struct oauth_jwt_result res;
    enum oauth_jwt_status st;

    len = a + 1 + b;
    tok = malloc(len + 1 + 43 + 1);
    CHECK(tok);
    memcpy(tok, hb, a);
    tok[a] = '.';
    memcpy(tok + a + 1, pb, b);
    CHECK(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, p->hmac_secret, p->hmac_secret_len,
                    (const unsigned char *)tok, len, mac, sizeof(mac), &maclen)
          && maclen == 32);
    sb = b64url(mac, 32, &c);
    tok[len] = '.';
    memcpy(tok + len + 1, sb, c);
    len += 1 + c;

    st = oauth_jwt_validate(tok, len, fixed_keys(), p, NOW, &res, &err);
    CHECK(st <= OAUTH_JWT_ERR_INTERNAL && st != OAUTH_JWT_ERR_POLICY);
    CHECK(memchr(err.reason, '\0', sizeof(err.reason)) != NULL);
    /* the MAC is unpredictable: no reason can quote it but by leaking it */
    CHECK(!contains(err.reason, strlen(err.reason), sb, c));
    if (st == OAUTH_JWT_OK)
        recheck(h, hl, pl, pll, &res);
    else
        CHECK(res.user == NULL);
    oauth_jwt_result_clear(&res);

    /* one bit of the MAC's first byte flipped (A <-> B): never valid */
    tok[len - c] = tok[len - c] == 'A' ? 'B' : 'A';
    st = oauth_jwt_validate(tok, len, fixed_keys(), p, NOW, &res, &err);
    CHECK(st != OAUTH_JWT_OK && res.user == NULL);

    free(hb);
    free(pb);
    free(sb);
    free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char secret[32];
    struct oauth_jwt_policy p;

    if (size > 64 * 1024)
        return 0;
    /* the oracle rule: a secret drawn for this input only */
    CHECK(RAND_bytes(secret, sizeof(secret)) == 1);
    policy(&p, secret, sizeof(secret));
    pass_jwks(data, size);
    pass_token(data, size, &p);
    pass_signed(data, size, &p);
    OPENSSL_cleanse(secret, sizeof(secret));
    return 0;
}
