/* JWKS (RFC 7517) -> verification keys; see oauth_jwks.h for the rules. */
#include "config.h"
#include "oauth_jwks.h"
#include "oauth_util.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <sasl-mechs/base64.h>
#include <sasl-mechs/crypto.h>
#include <sasl-mechs/secret.h>

struct jwk {
    char *kid;         /* NULL: none */
    EVP_PKEY *pkey;    /* NULL: refused */
    unsigned algs;     /* OAUTH_JWT_ALG_BIT mask the key verifies */
};

struct oauth_jwks {
    atomic_uint refs;
    size_t n, usable;
    struct jwk keys[];
};

static const char *const alg_names[OAUTH_JWT_ALG_COUNT] = {
    [OAUTH_JWT_RS256] = "RS256", [OAUTH_JWT_RS384] = "RS384", [OAUTH_JWT_RS512] = "RS512",
    [OAUTH_JWT_PS256] = "PS256", [OAUTH_JWT_PS384] = "PS384", [OAUTH_JWT_PS512] = "PS512",
    [OAUTH_JWT_ES256] = "ES256", [OAUTH_JWT_ES384] = "ES384", [OAUTH_JWT_EDDSA] = "EdDSA",
    [OAUTH_JWT_HS256] = "HS256",
};

#define RSA_ALGS                                                                            \
    (OAUTH_JWT_ALG_BIT(OAUTH_JWT_RS256) | OAUTH_JWT_ALG_BIT(OAUTH_JWT_RS384)                 \
     | OAUTH_JWT_ALG_BIT(OAUTH_JWT_RS512) | OAUTH_JWT_ALG_BIT(OAUTH_JWT_PS256)               \
     | OAUTH_JWT_ALG_BIT(OAUTH_JWT_PS384) | OAUTH_JWT_ALG_BIT(OAUTH_JWT_PS512))

int oauth_jwt_alg_from_name(const char *name, size_t len)
{
    int a;

    if (!name)
        return -1;
    for (a = 0; a < OAUTH_JWT_ALG_COUNT; a++)
        if (strlen(alg_names[a]) == len && memcmp(alg_names[a], name, len) == 0)
            return a;
    return -1;
}

const char *oauth_jwt_alg_name(enum oauth_jwt_alg alg)
{
    return (unsigned)alg < OAUTH_JWT_ALG_COUNT ? alg_names[alg] : "?";
}

const char *oauth_jwks_status_text(enum oauth_jwks_status st)
{
    switch (st) {
    case OAUTH_JWKS_OK: return "ok";
    case OAUTH_JWKS_ERR_JSON: return "the key set is not valid JSON";
    case OAUTH_JWKS_ERR_FORMAT: return "the key set is not a JWKS object with a keys array";
    case OAUTH_JWKS_ERR_TOO_LARGE: return "the key set is too large";
    case OAUTH_JWKS_ERR_NO_USABLE_KEY: return "the key set holds no usable key";
    case OAUTH_JWKS_ERR_INTERNAL: return "internal error (memory or OpenSSL)";
    case OAUTH_JWKS_UNKNOWN_KID: return "no key with the token's kid";
    case OAUTH_JWKS_NO_KEY: return "token without kid and not exactly one key for its alg";
    case OAUTH_JWKS_KEY_UNUSABLE: return "the token's kid names a key that was refused";
    case OAUTH_JWKS_KEY_MISMATCH: return "the token's key does not verify its alg";
    }
    return "unknown status";
}

/* ---- one key ---------------------------------------------------------- */

/* Why a key was refused; 0 when usable, -1 on an internal error. */
struct refusal {
    char text[160];
};

static int jwks_refuse(struct refusal *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int jwks_refuse(struct refusal *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->text, sizeof(r->text), fmt, ap);
    va_end(ap);
    return 1;
}

/* Decode the base64url member `name` into a malloc'd buffer of at most max
 * bytes.  1 (refused), 0 (ok) or -1 (no memory). */
static int jwks_member_b64(const json_t *k, const char *name, size_t max, unsigned char **out,
                           size_t *outlen, struct refusal *r)
{
    const json_t *v = json_object_get(k, name);
    const char *s;
    size_t len;

    *out = NULL;
    if (!json_is_string(v))
        return jwks_refuse(r, "member \"%s\" missing or not a string", name);
    s = json_string_value(v);
    len = json_string_length(v);
    if (len == 0 || sm_b64_decoded_max(len) > max)
        return jwks_refuse(r, "member \"%s\" empty or too long", name);
    if (!(*out = malloc(sm_b64_decoded_max(len) + 1)))
        return -1;
    if (sm_b64_decode(SM_B64_URL, s, len, *out, sm_b64_decoded_max(len) + 1, outlen) != 0) {
        free(*out);
        *out = NULL;
        return jwks_refuse(r, "member \"%s\" is not unpadded base64url", name);
    }
    return 0;
}

static int jwks_string_is(const json_t *v, const char *s)
{
    return json_is_string(v) && json_string_length(v) == strlen(s)
           && memcmp(json_string_value(v), s, strlen(s)) == 0;
}

/* Import fromdata params as a public key of type `type`; NULL on failure. */
static EVP_PKEY *jwks_import(const char *type, OSSL_PARAM *params)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(sm_crypto_libctx(), type, NULL);
    EVP_PKEY *pkey = NULL;

    if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

/* The unsigned big-endian integer in base64url member `name` (at most max
 * bytes): 0, 1 (refused) or -1. */
static int jwks_member_bn(const json_t *k, const char *name, size_t max, BIGNUM **bn,
                          struct refusal *r)
{
    unsigned char *b;
    size_t len = 0;
    int rc = jwks_member_b64(k, name, max, &b, &len, r);

    *bn = NULL;
    if (rc != 0)
        return rc;
    *bn = BN_bin2bn(b, (int)len, NULL);
    free(b);
    return *bn ? 0 : -1;
}

static int jwks_rsa_numbers_ok(const BIGNUM *n, const BIGNUM *e, struct refusal *r)
{
    int bits = BN_num_bits(n);

    if (bits < OAUTH_JWK_RSA_MIN_BITS)
        return jwks_refuse(r, "RSA modulus of %d bits is below %d", bits, OAUTH_JWK_RSA_MIN_BITS);
    if (bits > OAUTH_JWK_RSA_MAX_BITS)
        return jwks_refuse(r, "RSA modulus of %d bits is above %d", bits, OAUTH_JWK_RSA_MAX_BITS);
    if (!BN_is_odd(n) || !BN_is_odd(e) || BN_num_bits(e) < 2)
        return jwks_refuse(r, "RSA modulus or exponent is not a valid public key");
    return 0;
}

/* The RSA public key (n, e) into *pkey, NULL when OpenSSL refuses it: 0, or
 * -1 when the parameters could not be built. */
static int jwks_rsa_import(const BIGNUM *n, const BIGNUM *e, EVP_PKEY **pkey)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    int rc = -1;

    if (bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n)
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)
        && (params = OSSL_PARAM_BLD_to_param(bld))) {
        *pkey = jwks_import("RSA", params);
        rc = 0;
    }
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return rc;
}

static int jwks_rsa_key(const json_t *k, struct jwk *key, struct refusal *r)
{
    BIGNUM *n = NULL, *e = NULL;
    int rc;

    if ((rc = jwks_member_bn(k, "n", OAUTH_JWK_RSA_MAX_BITS / 8 + 1, &n, r)) == 0
        && (rc = jwks_member_bn(k, "e", 8, &e, r)) == 0
        && (rc = jwks_rsa_numbers_ok(n, e, r)) == 0
        && (rc = jwks_rsa_import(n, e, &key->pkey)) == 0) {
        if (key->pkey)
            key->algs = RSA_ALGS;
        else
            rc = jwks_refuse(r, "OpenSSL refused the RSA key");
    }
    BN_free(n);
    BN_free(e);
    return rc;
}

/* The curves of the key types that have one (RFC 7518 6.2.1.1, RFC 8037
 * 2): the JWK name, OpenSSL's, the size of a coordinate (EC) or of the
 * public key (OKP), and the algorithm a key on it verifies. */
struct jwks_curve {
    const char *crv, *ossl;
    size_t len;
    enum oauth_jwt_alg alg;
};

struct jwks_curved_kty {
    const char *kty;
    const char *unsupported;      /* "<kty> curve \"X\" <unsupported>" */
    struct jwks_curve curves[2];
};

static const struct jwks_curved_kty jwks_ec = {
    "EC", "not supported (P-256, P-384)",
    {{"P-256", "P-256", 32, OAUTH_JWT_ES256}, {"P-384", "P-384", 48, OAUTH_JWT_ES384}}};
static const struct jwks_curved_kty jwks_okp = {
    "OKP", "is not a signature curve we support (Ed25519, Ed448)",
    {{"Ed25519", "ED25519", 32, OAUTH_JWT_EDDSA}, {"Ed448", "ED448", 57, OAUTH_JWT_EDDSA}}};

/* Key k's curve among those of t, or NULL with r saying why. */
static const struct jwks_curve *jwks_curve(const json_t *k, const struct jwks_curved_kty *t,
                                           struct refusal *r)
{
    const json_t *crv = json_object_get(k, "crv");
    char c[OAUTH_SHOWN];
    size_t i;

    for (i = 0; i < sizeof(t->curves) / sizeof(t->curves[0]); i++)
        if (jwks_string_is(crv, t->curves[i].crv))
            return &t->curves[i];
    if (!json_is_string(crv)) {
        jwks_refuse(r, "%s key without a string \"crv\"", t->kty);
        return NULL;
    }
    oauth_show(c, json_string_value(crv), json_string_length(crv));
    jwks_refuse(r, "%s curve \"%s\" %s", t->kty, c, t->unsupported);
    return NULL;
}

/* 1 when OpenSSL's public key check accepts pkey (an EC point on its curve). */
static int jwks_public_ok(EVP_PKEY *pkey)
{
    EVP_PKEY_CTX *check = EVP_PKEY_CTX_new_from_pkey(sm_crypto_libctx(), pkey, NULL);
    int ok = check && EVP_PKEY_public_check(check) == 1;

    EVP_PKEY_CTX_free(check);
    return ok;
}

/* The uncompressed point (SEC 1 section 2.3.3) of members x and y, each
 * exactly cv->len bytes: 0, 1 (refused) or -1. */
static int jwks_ec_point(const json_t *k, const struct jwks_curve *cv,
                         unsigned char point[1 + 2 * 48], struct refusal *r)
{
    unsigned char *x = NULL, *y = NULL;
    size_t xlen = 0, ylen = 0;
    int rc;

    if ((rc = jwks_member_b64(k, "x", cv->len, &x, &xlen, r)) == 0
        && (rc = jwks_member_b64(k, "y", cv->len, &y, &ylen, r)) == 0) {
        if (xlen != cv->len || ylen != cv->len) {
            rc = jwks_refuse(r, "EC coordinates of %s must be %zu bytes each", cv->ossl, cv->len);
        } else {
            point[0] = 0x04;
            memcpy(point + 1, x, cv->len);
            memcpy(point + 1 + cv->len, y, cv->len);
        }
    }
    free(x);
    free(y);
    return rc;
}

static int jwks_ec_key(const json_t *k, struct jwk *key, struct refusal *r)
{
    const struct jwks_curve *cv = jwks_curve(k, &jwks_ec, r);
    unsigned char point[1 + 2 * 48];
    OSSL_PARAM params[3];
    int rc;

    if (!cv)
        return 1;
    if ((rc = jwks_ec_point(k, cv, point, r)) != 0)
        return rc;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)cv->ossl, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * cv->len);
    params[2] = OSSL_PARAM_construct_end();
    key->pkey = jwks_import("EC", params);
    if (!key->pkey || !jwks_public_ok(key->pkey)) {
        EVP_PKEY_free(key->pkey);
        key->pkey = NULL;
        return jwks_refuse(r, "EC point is not on %s", cv->ossl);
    }
    key->algs = OAUTH_JWT_ALG_BIT(cv->alg);
    return 0;
}

static int jwks_okp_key(const json_t *k, struct jwk *key, struct refusal *r)
{
    const struct jwks_curve *cv = jwks_curve(k, &jwks_okp, r);
    unsigned char *x = NULL;
    size_t xlen = 0;
    OSSL_PARAM params[2];
    int rc;

    if (!cv)
        return 1;
    if ((rc = jwks_member_b64(k, "x", cv->len, &x, &xlen, r)) != 0)
        return rc;
    if (xlen != cv->len) {
        free(x);
        return jwks_refuse(r, "%s public key must be %zu bytes", cv->ossl, cv->len);
    }
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, x, xlen);
    params[1] = OSSL_PARAM_construct_end();
    key->pkey = jwks_import(cv->ossl, params);
    free(x);
    if (!key->pkey)
        return jwks_refuse(r, "OpenSSL refused the %s key", cv->ossl);
    key->algs = OAUTH_JWT_ALG_BIT(cv->alg);
    return 0;
}

static int jwks_use_ok(const json_t *k, struct refusal *r)
{
    static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};
    const json_t *use = json_object_get(k, "use"), *ops = json_object_get(k, "key_ops"), *v;
    size_t i;
    int verify = 0;

    for (i = 0; i < sizeof(private_members) / sizeof(private_members[0]); i++)
        if (json_object_get(k, private_members[i]))
            return jwks_refuse(r, "private or symmetric key material (\"%s\") in a public key set",
                               private_members[i]);
    if (use && !jwks_string_is(use, "sig"))
        return jwks_refuse(r, "\"use\" is not \"sig\"");
    if (ops) {
        if (!json_is_array(ops))
            return jwks_refuse(r, "\"key_ops\" is not an array");
        json_array_foreach(ops, i, v) {
            if (!json_is_string(v))
                return jwks_refuse(r, "\"key_ops\" holds a non-string");
            verify |= jwks_string_is(v, "verify");
        }
        if (!verify)
            return jwks_refuse(r, "\"key_ops\" does not include \"verify\"");
    }
    return 0;
}

/* 0 usable, 1 refused (r says why), -1 internal error.  key->kid is set
 * either way when the element has a valid kid. */
static int jwks_parse_key(const json_t *k, struct jwk *key, struct refusal *r)
{
    const json_t *kid, *kty, *alg;
    int rc, a = -1;

    if (!json_is_object(k))
        return jwks_refuse(r, "not a JSON object");
    kid = json_object_get(k, "kid");
    if (kid) {
        if (!json_is_string(kid) || json_string_length(kid) == 0
            || json_string_length(kid) > OAUTH_JWK_MAX_KID)
            return jwks_refuse(r, "\"kid\" is not a string of 1..%d bytes", OAUTH_JWK_MAX_KID);
        if (!(key->kid = strdup(json_string_value(kid))))
            return -1;
    }
    if ((rc = jwks_use_ok(k, r)) != 0)
        return rc;
    alg = json_object_get(k, "alg");
    if (alg) {
        if (!json_is_string(alg)
            || (a = oauth_jwt_alg_from_name(json_string_value(alg), json_string_length(alg))) < 0
            || a == OAUTH_JWT_HS256) {
            char s[OAUTH_SHOWN];
            if (json_is_string(alg))
                oauth_show(s, json_string_value(alg), json_string_length(alg));
            else
                oauth_show(s, "(not a string)", 14);
            return jwks_refuse(r, "\"alg\" \"%s\" is not a signature algorithm we support", s);
        }
    }
    kty = json_object_get(k, "kty");
    if (jwks_string_is(kty, "RSA"))
        rc = jwks_rsa_key(k, key, r);
    else if (jwks_string_is(kty, "EC"))
        rc = jwks_ec_key(k, key, r);
    else if (jwks_string_is(kty, "OKP"))
        rc = jwks_okp_key(k, key, r);
    else if (jwks_string_is(kty, "oct"))
        return jwks_refuse(r, "symmetric (\"oct\") keys are never taken from a key set");
    else if (json_is_string(kty)) {
        char s[OAUTH_SHOWN];
        oauth_show(s, json_string_value(kty), json_string_length(kty));
        return jwks_refuse(r, "key type \"%s\" not supported", s);
    } else
        return jwks_refuse(r, "\"kty\" missing or not a string");
    if (rc != 0)
        return rc;
    if (a >= 0) {
        if (!(key->algs & OAUTH_JWT_ALG_BIT(a))) {
            EVP_PKEY_free(key->pkey);
            key->pkey = NULL;
            key->algs = 0;
            return jwks_refuse(r, "\"alg\" %s does not fit the key type", alg_names[a]);
        }
        key->algs = OAUTH_JWT_ALG_BIT(a);
    }
    return 0;
}

/* ---- the set ----------------------------------------------------------- */

static void jwks_set_free(struct oauth_jwks *set)
{
    size_t i;

    for (i = 0; i < set->n; i++) {
        free(set->keys[i].kid);
        EVP_PKEY_free(set->keys[i].pkey);
    }
    free(set);
}

/* A key set that cannot be used is the issuer's or the administrator's to
 * fix (OAUTH_ERR_CONFIG); memory and OpenSSL are ours. */
static enum oauth_err_class jwks_class(enum oauth_jwks_status st)
{
    return st == OAUTH_JWKS_OK ? OAUTH_OK
           : st == OAUTH_JWKS_ERR_INTERNAL ? OAUTH_ERR_INTERNAL : OAUTH_ERR_CONFIG;
}

static enum oauth_jwks_status jwks_done(struct oauth_err *err, enum oauth_jwks_status st,
                                        const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static enum oauth_jwks_status jwks_done(struct oauth_err *err, enum oauth_jwks_status st,
                                        const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    oauth_vfail(err, jwks_class(st), st, fmt, ap);
    va_end(ap);
    return st;
}

enum oauth_jwks_status oauth_jwks_parse(const char *json, size_t len, struct oauth_jwks **out,
                                        struct oauth_err *err)
{
    struct oauth_jwks *set = NULL;
    enum oauth_jwks_status st;
    json_error_t jerr;
    json_t *doc = NULL, *keys, *k;
    size_t i, n, refused = 0;
    char first[sizeof(((struct refusal *)0)->text) + 160] = "";

    oauth_err_clear(err);
    if (out)
        *out = NULL;
    if (!out || (!json && len)) {
        return jwks_done(err, OAUTH_JWKS_ERR_INTERNAL, "no output or no input");
    }
    if (len > OAUTH_JWKS_MAX_DOC) {
        return jwks_done(err, OAUTH_JWKS_ERR_TOO_LARGE, "key set of %zu bytes is over the %d-byte "
                         "cap", len, OAUTH_JWKS_MAX_DOC);
    }
    if (!sm_crypto_libctx()) {
        return jwks_done(err, OAUTH_JWKS_ERR_INTERNAL,
                         "OpenSSL's library context is not available");
    }
    ERR_set_mark();
    if (!(doc = json_loadb(json ? json : "", len, JSON_REJECT_DUPLICATES, &jerr))) {
        /* a key set is public: jansson's text may quote it */
        oauth_why(err, "not valid JSON at byte %d: %s", jerr.position, jerr.text);
        st = OAUTH_JWKS_ERR_JSON;
        goto out;
    }
    keys = json_object_get(doc, "keys");
    if (!json_is_object(doc) || !json_is_array(keys)) {
        oauth_why(err, "%s", !json_is_object(doc) ? "not a JSON object"
                  : "no \"keys\" array");
        st = OAUTH_JWKS_ERR_FORMAT;
        goto out;
    }
    n = json_array_size(keys);
    if (n > OAUTH_JWKS_MAX_KEYS) {
        oauth_why(err, "%zu keys, more than %d", n, OAUTH_JWKS_MAX_KEYS);
        st = OAUTH_JWKS_ERR_TOO_LARGE;
        goto out;
    }
    st = OAUTH_JWKS_ERR_INTERNAL;
    if (!(set = calloc(1, sizeof(*set) + n * sizeof(set->keys[0]))))
        goto out;
    atomic_init(&set->refs, 1);
    json_array_foreach(keys, i, k) {
        struct refusal r;
        int rc = jwks_parse_key(k, &set->keys[i], &r);

        set->n = i + 1;
        if (rc < 0)
            goto out;
        if (rc == 0) {
            set->usable++;
            continue;
        }
        if (refused++ == 0) {
            char kid[OAUTH_SHOWN];
            oauth_show(kid, set->keys[i].kid,
                       set->keys[i].kid ? strlen(set->keys[i].kid) : 0);
            snprintf(first, sizeof(first), "key %zu%s%s%s: %s", i,
                     set->keys[i].kid ? " (kid \"" : "", kid,
                     set->keys[i].kid ? "\")" : "", r.text);
        }
    }
    if (set->usable == 0) {
        oauth_why(err, "no usable key among %zu%s%s", n, refused ? "; " : "", first);
        st = OAUTH_JWKS_ERR_NO_USABLE_KEY;
        goto out;
    }
    if (refused)
        oauth_why(err, "%zu of %zu keys refused; %s", refused, n, first);
    *out = set;
    set = NULL;
    st = OAUTH_JWKS_OK;
out:
    if (st == OAUTH_JWKS_ERR_INTERNAL)
        oauth_why(err, "out of memory or OpenSSL failure");
    if (set)
        jwks_set_free(set);
    json_decref(doc);
    ERR_pop_to_mark();
    return oauth_err_is(err, jwks_class(st), st);
}

struct oauth_jwks *oauth_jwks_ref(struct oauth_jwks *set)
{
    if (set)
        atomic_fetch_add(&set->refs, 1);
    return set;
}

void oauth_jwks_free(struct oauth_jwks *set)
{
    if (set && atomic_fetch_sub(&set->refs, 1) == 1)
        jwks_set_free(set);
}

size_t oauth_jwks_count(const struct oauth_jwks *set, size_t *refused)
{
    if (refused)
        *refused = set ? set->n - set->usable : 0;
    return set ? set->usable : 0;
}

enum oauth_jwks_status oauth_jwks_find(const struct oauth_jwks *set, const char *kid,
                                       enum oauth_jwt_alg alg, EVP_PKEY **pkey)
{
    unsigned bit = (unsigned)alg < OAUTH_JWT_ALG_COUNT && alg != OAUTH_JWT_HS256
                       ? OAUTH_JWT_ALG_BIT(alg) : 0;
    const struct jwk *found = NULL;
    size_t i, fits = 0;
    int named = 0, usable = 0;

    *pkey = NULL;
    for (i = 0; set && i < set->n; i++) {
        const struct jwk *k = &set->keys[i];

        if (kid) {
            if (!k->kid || strcmp(k->kid, kid) != 0)
                continue;
            named = 1;
            usable |= k->pkey != NULL;
            if (k->pkey && (k->algs & bit)) {
                *pkey = k->pkey;
                return OAUTH_JWKS_OK;
            }
        } else if (k->pkey && (k->algs & bit)) {
            found = k;
            fits++;
        }
    }
    if (kid)
        return usable ? OAUTH_JWKS_KEY_MISMATCH : named ? OAUTH_JWKS_KEY_UNUSABLE
                                                       : OAUTH_JWKS_UNKNOWN_KID;
    if (fits != 1)
        return OAUTH_JWKS_NO_KEY;
    *pkey = found->pkey;
    return OAUTH_JWKS_OK;
}
