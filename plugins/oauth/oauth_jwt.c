/* JWS compact parsing, signature verification and claim checks for JWT
 * access tokens; see oauth_jwt.h for the order of the checks. */
#include "config.h"
#include "oauth_jwt.h"
#include "oauth_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <sasl-mechs/base64.h>
#include <sasl-mechs/crypto.h>
#include <sasl-mechs/secret.h>

#define HS256_LEN 32

const char *oauth_jwt_status_text(enum oauth_jwt_status st)
{
    switch (st) {
    case OAUTH_JWT_OK: return "ok";
    case OAUTH_JWT_ERR_TOO_LARGE: return "token too large";
    case OAUTH_JWT_ERR_MALFORMED: return "malformed token";
    case OAUTH_JWT_ERR_ALG: return "algorithm refused";
    case OAUTH_JWT_ERR_CRIT: return "critical header extension not understood";
    case OAUTH_JWT_ERR_TYP: return "token type is not at+jwt";
    case OAUTH_JWT_ERR_UNKNOWN_KID: return "unknown key id";
    case OAUTH_JWT_ERR_NO_KEY: return "no key for the token";
    case OAUTH_JWT_ERR_KEY_UNUSABLE: return "the token's key was refused";
    case OAUTH_JWT_ERR_KEY_MISMATCH: return "the token's key is not for its algorithm";
    case OAUTH_JWT_ERR_SIGNATURE: return "bad signature";
    case OAUTH_JWT_ERR_CLAIM: return "claim missing or ill-typed";
    case OAUTH_JWT_ERR_EXPIRED: return "token expired";
    case OAUTH_JWT_ERR_NOT_YET_VALID: return "token not yet valid";
    case OAUTH_JWT_ERR_ISSUED_IN_FUTURE: return "token issued in the future";
    case OAUTH_JWT_ERR_ISSUER: return "issuer not allowed";
    case OAUTH_JWT_ERR_AUDIENCE: return "audience not accepted";
    case OAUTH_JWT_ERR_USER: return "no usable user name in the token";
    case OAUTH_JWT_ERR_SCOPE: return "insufficient scope";
    case OAUTH_JWT_ERR_POLICY: return "validation policy misconfigured";
    case OAUTH_JWT_ERR_INTERNAL: return "internal error (memory or OpenSSL)";
    }
    return "unknown status";
}

static const struct oauth_owned jwt_result_owned[] = {
    OAUTH_OWNED(struct oauth_jwt_result, user),
};

void oauth_jwt_result_clear(struct oauth_jwt_result *res)
{
    OAUTH_OWNED_CLEAR(res, jwt_result_owned);
}

/* ---- reasons ------------------------------------------------------------ */

/* What a status means, decided here once for every exit of this module:
 * a token the checks refuse is the client's (invalid_token, or
 * insufficient_scope when only a scope is missing); an unknown kid too,
 * though the caller may fetch the keys once more (its code says so); the
 * policy is the configuration's; memory and OpenSSL are ours. */
static enum oauth_err_class jwt_class(enum oauth_jwt_status st)
{
    switch (st) {
    case OAUTH_JWT_OK: return OAUTH_OK;
    case OAUTH_JWT_ERR_POLICY: return OAUTH_ERR_CONFIG;
    case OAUTH_JWT_ERR_INTERNAL: return OAUTH_ERR_INTERNAL;
    default: return OAUTH_ERR_CLIENT;
    }
}

static enum oauth_jwt_status __attribute__((format(printf, 3, 4)))
jwt_fail(enum oauth_jwt_status st, struct oauth_err *err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    oauth_vfail(err, jwt_class(st), st, fmt, ap);
    va_end(ap);
    if (err)
        err->status = jwt_class(st) != OAUTH_ERR_CLIENT ? 0
                      : st == OAUTH_JWT_ERR_SCOPE ? OAUTH_STATUS_INSUFFICIENT_SCOPE
                                                  : OAUTH_STATUS_INVALID_TOKEN;
    return st;
}

static const char *jwt_show_json(char dst[OAUTH_SHOWN], const json_t *v)
{
    return json_is_string(v) ? oauth_show(dst, json_string_value(v), json_string_length(v))
                             : oauth_show(dst, "(not a string)", 14);
}

/* ---- the policy ---------------------------------------------------------- */

static int jwt_list_ok(const char *const *list, size_t n, int spaces_ok)
{
    size_t i;

    if (n && !list)
        return 0;
    for (i = 0; i < n; i++)
        if (!list[i] || !*list[i] || (!spaces_ok && strchr(list[i], ' ')))
            return 0;
    return 1;
}

enum oauth_jwt_status oauth_jwt_policy_check(const struct oauth_jwt_policy *p,
                                             struct oauth_err *err)
{
    const enum oauth_jwt_status E = OAUTH_JWT_ERR_POLICY;

    oauth_err_clear(err);
    if (!p)
        return jwt_fail(E, err, "no policy");
    if (p->n_issuers == 0 || !jwt_list_ok(p->issuers, p->n_issuers, 1))
        return jwt_fail(E, err,
                        "no allowed issuer configured (or an empty one): "
                        "tokens of any issuer would be accepted");
    if (p->n_audiences == 0 || !jwt_list_ok(p->audiences, p->n_audiences, 1))
        return jwt_fail(E, err,
                        "no audience configured (or an empty one): "
                        "tokens for any service would be accepted");
    if (!jwt_list_ok(p->scopes, p->n_scopes, 0))
        return jwt_fail(E, err, "a required scope is empty or holds a space");
    if (p->user_claim && !*p->user_claim)
        return jwt_fail(E, err, "the user claim name is empty");
    if (p->leeway < 0 || p->leeway > OAUTH_JWT_MAX_LEEWAY)
        return jwt_fail(E, err, "leeway of %ld seconds is outside 0..%d", p->leeway,
                        OAUTH_JWT_MAX_LEEWAY);
    if (p->max_token_len > OAUTH_JWT_MAX_TOKEN_CAP)
        return jwt_fail(E, err, "maximum token length %zu is over %d", p->max_token_len,
                        OAUTH_JWT_MAX_TOKEN_CAP);
    if (p->max_user_len > OAUTH_JWT_MAX_USER_CAP)
        return jwt_fail(E, err, "maximum user name length %zu is over %d", p->max_user_len,
                        OAUTH_JWT_MAX_USER_CAP);
    if (p->algs & ~(OAUTH_JWT_ALG_BIT(OAUTH_JWT_ALG_COUNT) - 1u))
        return jwt_fail(E, err, "unknown algorithm in the allowed set");
    if (!p->hmac_secret != !p->hmac_secret_len)
        return jwt_fail(E, err, "HMAC secret and its length disagree");
    if (p->hmac_secret && p->hmac_secret_len < OAUTH_JWT_MIN_HMAC_SECRET)
        return jwt_fail(E, err, "the HMAC secret has %zu bytes, fewer than %d",
                        p->hmac_secret_len, OAUTH_JWT_MIN_HMAC_SECRET);
    if ((p->algs & OAUTH_JWT_ALG_BIT(OAUTH_JWT_HS256)) && !p->hmac_secret)
        return jwt_fail(E, err, "HS256 allowed but no HMAC secret configured");
    return OAUTH_JWT_OK;
}

/* ---- claims -------------------------------------------------------------- */

/* 1 when the string value v equals one of list (exactly). */
static int jwt_in_list(const json_t *v, const char *const *list, size_t n)
{
    size_t i, len = json_string_length(v);

    for (i = 0; i < n; i++)
        if (strlen(list[i]) == len && memcmp(list[i], json_string_value(v), len) == 0)
            return 1;
    return 0;
}

/* 1 when the space-separated string s[0..len) holds the token want. */
static int jwt_has_word(const char *s, size_t len, const char *want)
{
    size_t wl = strlen(want), i = 0;

    while (i < len) {
        size_t j = i;
        while (j < len && s[j] != ' ')
            j++;
        if (j - i == wl && memcmp(s + i, want, wl) == 0)
            return 1;
        i = j + 1;
    }
    return 0;
}

/* 1 when want is in scope_claim (string) or scp (string or array). */
static int jwt_has_scope(const json_t *scope, const json_t *scp, const char *want)
{
    size_t i;
    const json_t *v;

    if (scope && jwt_has_word(json_string_value(scope), json_string_length(scope), want))
        return 1;
    if (json_is_string(scp))
        return jwt_has_word(json_string_value(scp), json_string_length(scp), want);
    json_array_foreach(scp, i, v) {
        if (json_string_length(v) == strlen(want)
            && memcmp(json_string_value(v), want, strlen(want)) == 0)
            return 1;
    }
    return 0;
}

static int64_t clamp(double d)
{
    if (d >= 9.2e18)
        return INT64_MAX;
    if (d <= -9.2e18)
        return INT64_MIN;
    return (int64_t)d;
}

enum oauth_jwt_status oauth_jwt_check_times(const struct oauth_jwt_times *tm,
                                            const struct oauth_jwt_policy *p, int64_t now,
                                            struct oauth_err *err)
{
    const double t = (double)now, lw = (double)p->leeway;

    if (!(tm->exp > t - lw))
        return jwt_fail(OAUTH_JWT_ERR_EXPIRED, err,
                        "expired %.0f seconds ago (leeway %ld)", t - tm->exp, p->leeway);
    /* 4.1.5: "MUST NOT be accepted for processing" before "nbf" */
    if (tm->has_nbf && !(tm->nbf <= t + lw))
        return jwt_fail(OAUTH_JWT_ERR_NOT_YET_VALID, err,
                        "not valid for another %.0f seconds (leeway %ld)", tm->nbf - t,
                        p->leeway);
    if (tm->has_iat && !(tm->iat <= t + lw))
        return jwt_fail(OAUTH_JWT_ERR_ISSUED_IN_FUTURE, err,
                        "issued %.0f seconds in the future (leeway %ld)", tm->iat - t,
                        p->leeway);
    return OAUTH_JWT_OK;
}

static enum oauth_jwt_status jwt_claims(const json_t *c, const struct oauth_jwt_policy *p,
                                        int64_t now, struct oauth_jwt_result *res,
                                        struct oauth_err *err)
{
    const json_t *exp = json_object_get(c, "exp"), *nbf = json_object_get(c, "nbf"),
                 *iat = json_object_get(c, "iat"), *iss = json_object_get(c, "iss"),
                 *aud = json_object_get(c, "aud"), *scope = json_object_get(c, "scope"),
                 *scp = json_object_get(c, "scp"), *v;
    const char *claim = p->user_claim ? p->user_claim : "email";
    size_t maxuser = p->max_user_len ? p->max_user_len : OAUTH_JWT_DEFAULT_MAX_USER, i, n;
    struct oauth_jwt_times times = {0};
    enum oauth_jwt_status st;
    const char *u;
    char s[OAUTH_SHOWN];
    int ok;

    if (!json_is_object(c))
        return jwt_fail(OAUTH_JWT_ERR_MALFORMED, err, "the claims are not a JSON object");
    /* RFC 7519 4.1.4: "the current date/time MUST be before the expiration
     * date/time listed in the "exp" claim" (plus the leeway) */
    if (!json_is_number(exp))
        return jwt_fail(OAUTH_JWT_ERR_CLAIM, err, "\"exp\" missing or not a number");
    if ((nbf && !json_is_number(nbf)) || (iat && !json_is_number(iat)))
        return jwt_fail(OAUTH_JWT_ERR_CLAIM, err, "\"%s\" is not a number",
                        nbf && !json_is_number(nbf) ? "nbf" : "iat");
    times.exp = json_number_value(exp);
    if ((times.has_nbf = nbf != NULL))
        times.nbf = json_number_value(nbf);
    if ((times.has_iat = iat != NULL))
        times.iat = json_number_value(iat);
    if ((st = oauth_jwt_check_times(&times, p, now, err)) != OAUTH_JWT_OK)
        return st;
    if (!json_is_string(iss))
        return jwt_fail(OAUTH_JWT_ERR_ISSUER, err, "\"iss\" missing or not a string");
    if (!jwt_in_list(iss, p->issuers, p->n_issuers))
        return jwt_fail(OAUTH_JWT_ERR_ISSUER, err, "issuer \"%s\" is not allowed",
                        jwt_show_json(s, iss));
    if (json_is_string(aud)) {
        ok = jwt_in_list(aud, p->audiences, p->n_audiences);
    } else if (json_is_array(aud)) {
        ok = 0;
        json_array_foreach(aud, i, v) {
            if (!json_is_string(v))
                return jwt_fail(OAUTH_JWT_ERR_AUDIENCE, err,
                                "\"aud\" array holds a non-string");
            ok |= jwt_in_list(v, p->audiences, p->n_audiences);
        }
    } else {
        return jwt_fail(OAUTH_JWT_ERR_AUDIENCE, err,
                        "\"aud\" missing or neither a string nor an array");
    }
    if (!ok)
        return jwt_fail(OAUTH_JWT_ERR_AUDIENCE, err,
                        "none of the token's audiences%s%s%s "
                        "is configured",
                        json_is_string(aud) ? " (\"" : "",
                        json_is_string(aud) ? jwt_show_json(s, aud) : "",
                        json_is_string(aud) ? "\")" : "");
    v = json_object_get(c, claim);
    if (!json_is_string(v))
        return jwt_fail(OAUTH_JWT_ERR_USER, err, "user claim \"%s\" missing or not a string",
                        oauth_show(s, claim, strlen(claim)));
    u = json_string_value(v);
    n = json_string_length(v);
    if (n == 0 || n > maxuser || strlen(u) != n)
        return jwt_fail(OAUTH_JWT_ERR_USER, err,
                        "user claim \"%s\" is empty or longer than %zu bytes",
                        oauth_show(s, claim, strlen(claim)), maxuser);
    for (i = 0; i < n; i++)
        if ((unsigned char)u[i] < 0x20 || u[i] == 0x7f)
            return jwt_fail(OAUTH_JWT_ERR_USER, err,
                            "user claim \"%s\" holds a control character",
                            oauth_show(s, claim, strlen(claim)));
    if (p->require_email_verified && strcmp(claim, "email") == 0) {
        v = json_object_get(c, "email_verified");
        if (!json_is_true(v) && !(json_is_string(v) && strcmp(json_string_value(v), "true") == 0))
            return jwt_fail(OAUTH_JWT_ERR_USER, err,
                            "the email address is not verified (\"email_verified\" is not true)");
    }
    if (p->n_scopes) {
        if (scope && !json_is_string(scope))
            return jwt_fail(OAUTH_JWT_ERR_CLAIM, err, "\"scope\" is not a string");
        if (scp && !json_is_string(scp)) {
            if (!json_is_array(scp))
                return jwt_fail(OAUTH_JWT_ERR_CLAIM, err,
                                "\"scp\" is neither a string nor an array");
            json_array_foreach(scp, i, v) {
                if (!json_is_string(v))
                    return jwt_fail(OAUTH_JWT_ERR_CLAIM, err,
                                    "\"scp\" array holds a non-string");
            }
        }
        for (i = 0; i < p->n_scopes; i++)
            if (!jwt_has_scope(scope, scp, p->scopes[i]))
                return jwt_fail(OAUTH_JWT_ERR_SCOPE, err, "required scope \"%s\" missing",
                                oauth_show(s, p->scopes[i], strlen(p->scopes[i])));
    }
    if (!(res->user = malloc(n + 1)))
        return jwt_fail(OAUTH_JWT_ERR_INTERNAL, err, "out of memory");
    memcpy(res->user, u, n + 1);
    res->exp = clamp(json_number_value(exp));
    res->times = times;
    return OAUTH_JWT_OK;
}

enum oauth_jwt_status oauth_jwt_check_claims(const json_t *c, const struct oauth_jwt_policy *p,
                                             int64_t now, struct oauth_jwt_result *res,
                                             struct oauth_err *err)
{
    enum oauth_jwt_status st;

    if (!res)
        return jwt_fail(OAUTH_JWT_ERR_INTERNAL, err, "no result");
    res->user = NULL;
    if ((st = oauth_jwt_policy_check(p, err)) != OAUTH_JWT_OK)
        return st;
    return jwt_claims(c, p, now, res, err);
}

/* ---- signatures ---------------------------------------------------------- */

static const char *jwt_md_name(enum oauth_jwt_alg alg)
{
    switch (alg) {
    case OAUTH_JWT_RS256: case OAUTH_JWT_PS256: case OAUTH_JWT_ES256: case OAUTH_JWT_HS256:
        return "SHA256";
    case OAUTH_JWT_RS384: case OAUTH_JWT_PS384: case OAUTH_JWT_ES384:
        return "SHA384";
    case OAUTH_JWT_RS512: case OAUTH_JWT_PS512:
        return "SHA512";
    case OAUTH_JWT_EDDSA: case OAUTH_JWT_ALG_COUNT:
        break;
    }
    return NULL;
}

/* RFC 7518 3.4: the JWS signature is R || S, each exactly the coordinate
 * size: as OpenSSL's ECDSA_SIG (which owns both numbers), or NULL. */
static ECDSA_SIG *jwt_ecdsa_sig(const unsigned char *sig, size_t coord)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, (int)coord, NULL), *s = BN_bin2bn(sig + coord, (int)coord, NULL);

    if (es && r && s && ECDSA_SIG_set0(es, r, s))
        return es;
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return NULL;
}

/* EVP wants the DER ECDSA-Sig-Value of the JWS signature.  *der malloc'd;
 * 0 or -1. */
static int jwt_ecdsa_der(const unsigned char *sig, size_t coord, unsigned char **der,
                         size_t *derlen)
{
    ECDSA_SIG *es = jwt_ecdsa_sig(sig, coord);
    unsigned char *p;
    int n = 0, rc = -1;

    *der = NULL;
    if (es && (n = i2d_ECDSA_SIG(es, NULL)) > 0 && (*der = p = malloc((size_t)n))) {
        if (i2d_ECDSA_SIG(es, &p) == n) {
            *derlen = (size_t)n;
            rc = 0;
        } else {
            sm_erase(*der, (size_t)n);
            free(*der);
            *der = NULL;
        }
    }
    ECDSA_SIG_free(es);
    return rc;
}

/* 1 verified, 0 not, -1 internal error. */
static int jwt_verify_pkey(enum oauth_jwt_alg alg, EVP_PKEY *pkey, const unsigned char *sig,
                           size_t siglen, const char *data, size_t datalen)
{
    EVP_MD_CTX *mctx = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char *der = NULL;
    const char *md = jwt_md_name(alg);
    int rc = -1;

    /* oauth_jwks_find gave a key for this alg; checked once more here, so
     * no path can verify one algorithm with another's key */
    switch (alg) {
    case OAUTH_JWT_RS256: case OAUTH_JWT_RS384: case OAUTH_JWT_RS512:
    case OAUTH_JWT_PS256: case OAUTH_JWT_PS384: case OAUTH_JWT_PS512:
        if (!EVP_PKEY_is_a(pkey, "RSA"))
            return 0;
        break;
    case OAUTH_JWT_ES256: case OAUTH_JWT_ES384:
        if (!EVP_PKEY_is_a(pkey, "EC")
            || EVP_PKEY_get_bits(pkey) != (alg == OAUTH_JWT_ES256 ? 256 : 384))
            return 0;
        break;
    case OAUTH_JWT_EDDSA:
        if (!EVP_PKEY_is_a(pkey, "ED25519") && !EVP_PKEY_is_a(pkey, "ED448"))
            return 0;
        break;
    case OAUTH_JWT_HS256: case OAUTH_JWT_ALG_COUNT:
        return 0;
    }
    switch (alg) {
    case OAUTH_JWT_ES256:
    case OAUTH_JWT_ES384: {
        size_t coord = alg == OAUTH_JWT_ES256 ? 32 : 48, derlen;
        if (siglen != 2 * coord)
            return 0;
        if (jwt_ecdsa_der(sig, coord, &der, &derlen) != 0)
            return -1;
        sig = der;
        siglen = derlen;
        break;
    }
    default:
        /* RSA: exactly the modulus size (RFC 8017 8.2.2 step 1);
         * EdDSA: exactly 64 (Ed25519) or 114 (Ed448) bytes */
        if (EVP_PKEY_get_size(pkey) <= 0 || siglen != (size_t)EVP_PKEY_get_size(pkey))
            return 0;
        break;
    }
    if (!(mctx = EVP_MD_CTX_new())
        || EVP_DigestVerifyInit_ex(mctx, &pctx, md, sm_crypto_libctx(), NULL, pkey, NULL) != 1)
        goto out;
    switch (alg) {
    case OAUTH_JWT_RS256: case OAUTH_JWT_RS384: case OAUTH_JWT_RS512:
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
            goto out;
        break;
    case OAUTH_JWT_PS256: case OAUTH_JWT_PS384: case OAUTH_JWT_PS512:
        /* RFC 7518 3.5: MGF1 with the same hash, salt as long as the hash */
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1
            || EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, md, NULL) != 1
            || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)
            goto out;
        break;
    default:
        break;
    }
    rc = EVP_DigestVerify(mctx, sig, siglen, (const unsigned char *)data, datalen) == 1;
out:
    EVP_MD_CTX_free(mctx);
    if (der)
        sm_erase(der, siglen);
    free(der);
    return rc;
}

static int jwt_verify_hs256(const struct oauth_jwt_policy *p, const unsigned char *sig,
                            size_t siglen, const char *data, size_t datalen)
{
    const void *part[1] = {data};
    unsigned char out[HS256_LEN];
    int rc = -1;

    if (oauth_hmac_sha256(p->hmac_secret, p->hmac_secret_len, part, &datalen, 1, out) == 0)
        /* the length is public; the bytes are compared in constant time */
        rc = siglen == HS256_LEN && sm_ct_equal(out, sig, HS256_LEN);
    sm_erase(out, sizeof(out));
    return rc;
}

/* ---- the token ------------------------------------------------------------ */

/* Decode a base64url segment and parse it as a JSON object. */
static enum oauth_jwt_status jwt_segment_json(const char *seg, size_t len, const char *what,
                                              json_t **out, struct oauth_err *err)
{
    size_t max = sm_b64_decoded_max(len) + 1, n = 0;
    char *buf = malloc(max);
    json_error_t jerr;

    *out = NULL;
    if (!buf)
        return jwt_fail(OAUTH_JWT_ERR_INTERNAL, err, "out of memory");
    if (sm_b64_decode(SM_B64_URL, seg, len, buf, max, &n) != 0) {
        sm_erase(buf, max);
        free(buf);
        return jwt_fail(OAUTH_JWT_ERR_MALFORMED, err, "the %s is not unpadded base64url",
                        what);
    }
    /* jansson's message may quote the input, which is the token: not used */
    *out = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &jerr);
    sm_erase(buf, max);
    free(buf);
    if (!*out)
        return jwt_fail(OAUTH_JWT_ERR_MALFORMED, err,
                        "the %s is not valid JSON (syntax, duplicate member, NUL or trailing "
                        "data at byte %d)", what, jerr.position);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return jwt_fail(OAUTH_JWT_ERR_MALFORMED, err, "the %s is not a JSON object", what);
    }
    return OAUTH_JWT_OK;
}

/* The header's "crit" (RFC 7515 4.1.11): we implement no extension, so its
 * presence alone refuses the token; the reason says what is wrong with it. */
static enum oauth_jwt_status jwt_check_crit(const json_t *crit, struct oauth_err *err)
{
    const json_t *v;
    char s[OAUTH_SHOWN];
    size_t i;

    if (!json_is_array(crit) || json_array_size(crit) == 0)
        return jwt_fail(OAUTH_JWT_ERR_CRIT, err,
                        "\"crit\" is not a non-empty array (RFC 7515 4.1.11)");
    json_array_foreach(crit, i, v) {
        if (!json_is_string(v))
            return jwt_fail(OAUTH_JWT_ERR_CRIT, err, "\"crit\" holds a non-string");
    }
    return jwt_fail(OAUTH_JWT_ERR_CRIT, err,
                    "critical header extension \"%s\" is not understood",
                    jwt_show_json(s, json_array_get(crit, 0)));
}

static int jwt_typ_ok(const json_t *typ)
{
    /* RFC 9068 section 4; media types compare case-insensitively (RFC 2045) */
    static const char *const ok[] = {"at+jwt", "application/at+jwt"};
    size_t i;

    for (i = 0; i < 2; i++)
        if (json_string_length(typ) == strlen(ok[i])
            && strncasecmp(json_string_value(typ), ok[i], strlen(ok[i])) == 0)
            return 1;
    return 0;
}

/* The three segments of a compact JWS (RFC 7515 7.1):
 * BASE64URL(header) '.' BASE64URL(payload) '.' BASE64URL(signature). */
struct jwt_parts {
    const char *header, *payload, *sig;
    size_t hlen, plen, slen;
    size_t signed_len; /* header '.' payload: what the signature covers */
};

static enum oauth_jwt_status jwt_split(const char *token, size_t len, size_t max,
                                       struct jwt_parts *parts, struct oauth_err *err)
{
    const char *dot1, *dot2;

    if (!token || len == 0)
        return jwt_fail(OAUTH_JWT_ERR_MALFORMED, err, "empty token");
    if (len > max)
        return jwt_fail(OAUTH_JWT_ERR_TOO_LARGE, err,
                        "token of %zu bytes is longer than %zu", len, max);
    dot1 = memchr(token, '.', len);
    dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot2)
        return jwt_fail(OAUTH_JWT_ERR_MALFORMED, err,
                        "not a compact JWS (three segments separated by '.')");
    parts->header = token;
    parts->payload = dot1 + 1;
    parts->sig = dot2 + 1;
    parts->hlen = (size_t)(dot1 - token);
    parts->plen = (size_t)(dot2 - parts->payload);
    parts->slen = len - (size_t)(parts->sig - token);
    parts->signed_len = (size_t)(dot2 - token);
    if (memchr(parts->sig, '.', parts->slen))
        return jwt_fail(OAUTH_JWT_ERR_MALFORMED, err,
                        "more than three segments (a JWE or a nested token?)");
    if (parts->hlen == 0)
        return jwt_fail(OAUTH_JWT_ERR_MALFORMED, err, "empty header segment");
    if (parts->plen == 0)
        return jwt_fail(OAUTH_JWT_ERR_MALFORMED, err, "empty payload segment");
    return OAUTH_JWT_OK;
}

/* The header's checks, in an order that gives the most useful reason: the
 * algorithm, critical extensions, typ, kid, then whether the configuration
 * allows the algorithm.  On OK, *alg is the algorithm and *kid_v the kid
 * (NULL when the header has none). */
static enum oauth_jwt_status jwt_check_header(const json_t *header,
                                              const struct oauth_jwt_policy *p, int *alg,
                                              const json_t **kid_v, struct oauth_err *err)
{
    unsigned allowed = p->algs ? p->algs
                               : OAUTH_JWT_ALGS_ASYMMETRIC
                                     | (p->hmac_secret ? OAUTH_JWT_ALG_BIT(OAUTH_JWT_HS256) : 0);
    const json_t *alg_v = json_object_get(header, "alg"), *typ_v, *crit_v;
    char s[OAUTH_SHOWN];

    if (!json_is_string(alg_v))
        return jwt_fail(OAUTH_JWT_ERR_MALFORMED, err, "the header has no string \"alg\"");
    if (json_string_length(alg_v) == 4 && strncasecmp(json_string_value(alg_v), "none", 4) == 0)
        return jwt_fail(OAUTH_JWT_ERR_ALG, err, "alg \"none\" is never accepted");
    *alg = oauth_jwt_alg_from_name(json_string_value(alg_v), json_string_length(alg_v));
    if (*alg < 0)
        return jwt_fail(OAUTH_JWT_ERR_ALG, err, "alg \"%s\" is not supported",
                        jwt_show_json(s, alg_v));
    if ((crit_v = json_object_get(header, "crit")))
        return jwt_check_crit(crit_v, err);
    typ_v = json_object_get(header, "typ");
    if (typ_v && !json_is_string(typ_v))
        return jwt_fail(OAUTH_JWT_ERR_MALFORMED, err, "the header's \"typ\" is not a string");
    if (p->require_typ && (!typ_v || !jwt_typ_ok(typ_v)))
        return jwt_fail(OAUTH_JWT_ERR_TYP, err,
                        "typ \"%s\" is not at+jwt (RFC 9068), which the configuration requires",
                        typ_v ? jwt_show_json(s, typ_v) : "(none)");
    *kid_v = json_object_get(header, "kid");
    if (*kid_v && (!json_is_string(*kid_v) || json_string_length(*kid_v) > OAUTH_JWT_MAX_KID))
        return jwt_fail(OAUTH_JWT_ERR_MALFORMED, err,
                        "the header's \"kid\" is not a string of at most %d bytes",
                        OAUTH_JWT_MAX_KID);
    if (allowed & OAUTH_JWT_ALG_BIT(*alg))
        return OAUTH_JWT_OK;
    if (*alg == OAUTH_JWT_HS256 && !p->hmac_secret)
        return jwt_fail(OAUTH_JWT_ERR_ALG, err,
                        "alg HS256 needs a configured HMAC secret; keys of the key set are "
                        "never HMAC keys");
    return jwt_fail(OAUTH_JWT_ERR_ALG, err, "alg %s is not allowed by the configuration",
                    oauth_jwt_alg_name((enum oauth_jwt_alg)*alg));
}

/* The key set's key for an asymmetric algorithm (HS256 is keyed by the
 * configured secret alone: its kid is ignored, and *pkey stays NULL). */
static enum oauth_jwt_status jwt_find_key(const struct oauth_jwks *keys, int alg,
                                          const json_t *kid_v, EVP_PKEY **pkey,
                                          struct oauth_err *err)
{
    const char *name = oauth_jwt_alg_name((enum oauth_jwt_alg)alg);
    char k[OAUTH_SHOWN] = "";

    *pkey = NULL;
    if (alg == OAUTH_JWT_HS256)
        return OAUTH_JWT_OK;
    if (kid_v)
        jwt_show_json(k, kid_v);
    switch (oauth_jwks_find(keys, kid_v ? json_string_value(kid_v) : NULL,
                            (enum oauth_jwt_alg)alg, pkey)) {
    case OAUTH_JWKS_OK:
        return OAUTH_JWT_OK;
    case OAUTH_JWKS_UNKNOWN_KID:
        return jwt_fail(OAUTH_JWT_ERR_UNKNOWN_KID, err, "no key with kid \"%s\"", k);
    case OAUTH_JWKS_KEY_UNUSABLE:
        return jwt_fail(OAUTH_JWT_ERR_KEY_UNUSABLE, err,
                        "the key with kid \"%s\" was refused when the key set was loaded", k);
    case OAUTH_JWKS_KEY_MISMATCH:
        return jwt_fail(OAUTH_JWT_ERR_KEY_MISMATCH, err,
                        "the key with kid \"%s\" is not for alg %s", k, name);
    default:
        break;
    }
    return jwt_fail(OAUTH_JWT_ERR_NO_KEY, err,
                    "the token has no kid and the key set does not hold exactly one key for alg %s",
                    name);
}

/* Decode the signature segment and verify it over header '.' payload. */
static enum oauth_jwt_status jwt_check_signature(const struct jwt_parts *parts, int alg,
                                                 EVP_PKEY *pkey, const json_t *kid_v,
                                                 const struct oauth_jwt_policy *p,
                                                 struct oauth_err *err)
{
    const char *name = oauth_jwt_alg_name((enum oauth_jwt_alg)alg);
    size_t max = sm_b64_decoded_max(parts->slen) + 1, siglen = 0;
    unsigned char *sigbuf;
    enum oauth_jwt_status st;
    char k[OAUTH_SHOWN] = "";
    int rc;

    if (parts->slen == 0)
        return jwt_fail(OAUTH_JWT_ERR_MALFORMED, err, "empty signature segment");
    if (!(sigbuf = malloc(max)))
        return jwt_fail(OAUTH_JWT_ERR_INTERNAL, err, "out of memory");
    if (sm_b64_decode(SM_B64_URL, parts->sig, parts->slen, sigbuf, max, &siglen) != 0) {
        st = jwt_fail(OAUTH_JWT_ERR_MALFORMED, err,
                      "the signature is not unpadded base64url");
    } else {
        rc = alg == OAUTH_JWT_HS256
                 ? jwt_verify_hs256(p, sigbuf, siglen, parts->header, parts->signed_len)
                 : jwt_verify_pkey((enum oauth_jwt_alg)alg, pkey, sigbuf, siglen, parts->header,
                                   parts->signed_len);
        if (kid_v && alg != OAUTH_JWT_HS256)
            jwt_show_json(k, kid_v);
        if (rc < 0)
            st = jwt_fail(OAUTH_JWT_ERR_INTERNAL, err, "OpenSSL failed to verify (%s)", name);
        else if (rc == 0)
            st = jwt_fail(OAUTH_JWT_ERR_SIGNATURE, err,
                          "the %s signature does not verify%s%s%s", name,
                          *k ? " with kid \"" : "", k, *k ? "\"" : "");
        else
            st = OAUTH_JWT_OK;
    }
    /* with header and payload, the signature is the token: erased */
    sm_erase(sigbuf, max);
    free(sigbuf);
    return st;
}

/* Every step returns its own status; the token is valid only when each of
 * them said OAUTH_JWT_OK, which no later exit can pretend. */
static enum oauth_jwt_status jwt_validate(const char *token, size_t len,
                                          const struct oauth_jwks *keys,
                                          const struct oauth_jwt_policy *p, int64_t now,
                                          struct oauth_jwt_result *res, struct oauth_err *err)
{
    size_t max = p->max_token_len ? p->max_token_len : OAUTH_JWT_DEFAULT_MAX_TOKEN;
    json_t *header = NULL, *payload = NULL;
    const json_t *kid_v = NULL;
    struct jwt_parts parts = {0};
    EVP_PKEY *pkey = NULL;
    enum oauth_jwt_status st;
    int alg = -1;

    if ((st = jwt_split(token, len, max, &parts, err)) != OAUTH_JWT_OK)
        return st;
    if ((st = jwt_segment_json(parts.header, parts.hlen, "header", &header, err))
        == OAUTH_JWT_OK
        && (st = jwt_check_header(header, p, &alg, &kid_v, err)) == OAUTH_JWT_OK
        && (st = jwt_find_key(keys, alg, kid_v, &pkey, err)) == OAUTH_JWT_OK
        && (st = jwt_check_signature(&parts, alg, pkey, kid_v, p, err)) == OAUTH_JWT_OK
        && (st = jwt_segment_json(parts.payload, parts.plen, "payload", &payload, err))
               == OAUTH_JWT_OK
        && (st = jwt_claims(payload, p, now, res, err)) == OAUTH_JWT_OK)
        res->alg = (enum oauth_jwt_alg)alg;
    json_decref(header);
    json_decref(payload);
    return st;
}

enum oauth_jwt_status oauth_jwt_validate(const char *token, size_t len,
                                         const struct oauth_jwks *keys,
                                         const struct oauth_jwt_policy *policy, int64_t now,
                                         struct oauth_jwt_result *res, struct oauth_err *err)
{
    enum oauth_jwt_status st;

    oauth_err_clear(err);
    if (!res)
        return jwt_fail(OAUTH_JWT_ERR_INTERNAL, err, "no result");
    memset(res, 0, sizeof(*res));
    if ((st = oauth_jwt_policy_check(policy, err)) != OAUTH_JWT_OK)
        return st;
    if (!sm_crypto_libctx())
        return jwt_fail(OAUTH_JWT_ERR_INTERNAL, err,
                        "OpenSSL's library context is not available");
    /* whatever OpenSSL queues here is ours: leave the host's error queue as it was */
    ERR_set_mark();
    st = jwt_validate(token, len, keys, policy, now, res, err);
    ERR_pop_to_mark();
    if (st != OAUTH_JWT_OK) {
        oauth_jwt_result_clear(res);
    } else {
        oauth_err_clear(err);
    }
    return st;
}

enum oauth_jwt_status oauth_jwt_peek_issuer(const char *token, size_t len, size_t max, char *iss,
                                            size_t size, struct oauth_err *err)
{
    struct jwt_parts parts = {0};
    json_t *payload = NULL;
    const json_t *v;
    enum oauth_jwt_status st;

    oauth_err_clear(err);
    if ((st = jwt_split(token, len, max ? max : OAUTH_JWT_DEFAULT_MAX_TOKEN, &parts, err))
            != OAUTH_JWT_OK
        || (st = jwt_segment_json(parts.payload, parts.plen, "payload", &payload, err))
               != OAUTH_JWT_OK)
        return st;
    v = json_object_get(payload, "iss");
    if (!json_is_string(v) || json_string_length(v) >= size
        || strlen(json_string_value(v)) != json_string_length(v))
        st = jwt_fail(OAUTH_JWT_ERR_ISSUER, err, "\"iss\" missing, not a string or too long");
    else
        memcpy(iss, json_string_value(v), json_string_length(v) + 1);
    json_decref(payload);
    return st;
}
