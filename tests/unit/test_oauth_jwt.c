/* Unit tests of plugins/oauth/oauth_jwks.c and oauth_jwt.c: local JWT
 * validation for the OAuth servers.
 *
 * The keys are generated here, at test time, with OpenSSL (RSA 2048 twice
 * and 1024, EC P-256 twice and P-384, Ed25519, Ed448); the key set is JSON
 * built from them by substituting $NAME placeholders in templates; every
 * token is signed here, through OpenSSL's default context (the code under
 * test uses its private one), with the raw r||s of ECDSA converted here.
 *
 * Three tables (Dovecot style), one TAP line per row:
 *   - validation: valid per algorithm, then one row per rule broken;
 *   - key sets: what a JWKS document yields (usable and refused keys);
 *   - policies: what oauth_jwt_policy_check accepts.
 * Then the boundaries (token cap, number of keys, document size), the
 * claims check alone, the key set's reference count and the NULL cases.
 * Every failing row also checks that `why` is set and holds no part of the
 * token (header, payload or signature segment). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <sasl-mechs/base64.h>
#include "oauth_jwks.h"
#include "oauth_jwt.h"

#define NOW 1700000000
#define LEEWAY 60
#define WHYLEN 256

/* ---- the fixture: keys, their JWK members, the key set ---------------- */

enum key {
    K_RSA1,     /* kid rsa1, no alg: RS* and PS* */
    K_RSA2,     /* kid rsa2, alg RS256 */
    K_RSA1024,  /* kid rsa1024: refused */
    K_EC256,    /* kid ec256 */
    K_EC384,    /* kid ec384, alg ES384, key_ops [verify] */
    K_ED25519,  /* kid ed25519 */
    K_ED448,    /* kid ed448 */
    K_EC256_B,  /* not in the set */
    K_NKEYS,
    /* HMAC keys */
    K_SECRET = K_NKEYS, /* the configured secret */
    K_PEM,      /* the PEM text of rsa1's public key: the confusion attack */
    K_JWK_N,    /* the base64url text of rsa1's n */
    K_NONE,     /* no signature at all */
};

static const char secret[] = "0123456789abcdef0123456789abcdef-hs256";

static struct {
    EVP_PKEY *pkey[K_NKEYS];
    char *pem;
    struct oauth_jwks *set;
} fx;

struct var {
    const char *name;
    char *value;
};
static struct var vars[] = {
    {"RSA1_N", NULL},   {"RSA1_E", NULL},   {"RSA2_N", NULL},   {"RSA2_E", NULL},
    {"RSA1024_N", NULL}, {"RSA1024_E", NULL}, {"P256_X", NULL},  {"P256_Y", NULL},
    {"P256_YBAD", NULL}, {"P384_X", NULL},   {"P384_Y", NULL},  {"ED25519_X", NULL},
    {"ED448_X", NULL},  {"SECRET_K", NULL},  {"RSA1_N_PAD", NULL}, {"RSA1_N_PLUS", NULL},
};

static char *b64url(const void *p, size_t n)
{
    size_t need = sm_b64_encoded_len(SM_B64_URL, n) + 1, len;
    char *s = malloc(need);

    assert_non_null(s);
    assert_int_equal(sm_b64_encode(SM_B64_URL, p, n, s, need, &len), 0);
    s[len] = '\0';
    return s;
}

static void set_var(const char *name, char *value)
{
    size_t i;

    for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        if (strcmp(vars[i].name, name) == 0) {
            free(vars[i].value);
            vars[i].value = value;
            return;
        }
    fail_msg("no variable %s", name);
}

static const char *get_var(const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        if (strlen(vars[i].name) == len && memcmp(vars[i].name, name, len) == 0)
            return vars[i].value;
    fail_msg("no variable %.*s", (int)len, name);
    return NULL;
}

/* A template with $NAME placeholders ([A-Z0-9_]+) replaced. */
static char *expand(const char *t)
{
    size_t cap = strlen(t) + 1, o = 0;
    char *out = malloc(cap);

    assert_non_null(out);
    while (*t) {
        const char *v;
        size_t n = 0, vl;
        if (*t != '$') {
            out[o++] = *t++;
            continue;
        }
        t++;
        while ((t[n] >= 'A' && t[n] <= 'Z') || (t[n] >= '0' && t[n] <= '9') || t[n] == '_')
            n++;
        v = get_var(t, n);
        vl = strlen(v);
        t += n;
        cap += vl;
        out = realloc(out, cap);
        assert_non_null(out);
        memcpy(out + o, v, vl);
        o += vl;
    }
    out[o] = '\0';
    return out;
}

static char *bn_param(EVP_PKEY *pkey, const char *name, size_t pad)
{
    BIGNUM *bn = NULL;
    unsigned char buf[1024];
    int n;
    char *s;

    assert_int_equal(EVP_PKEY_get_bn_param(pkey, name, &bn), 1);
    n = pad ? BN_bn2binpad(bn, buf, (int)pad) : BN_bn2bin(bn, buf);
    assert_true(n > 0);
    s = b64url(buf, (size_t)n);
    BN_free(bn);
    return s;
}

static char *raw_pub(EVP_PKEY *pkey)
{
    unsigned char buf[64];
    size_t n = sizeof(buf);

    assert_int_equal(EVP_PKEY_get_raw_public_key(pkey, buf, &n), 1);
    return b64url(buf, n);
}

#define KEYSET_TEMPLATE                                                                        \
    "{\"keys\":["                                                                               \
    "{\"kty\":\"RSA\",\"kid\":\"rsa1\",\"use\":\"sig\",\"n\":\"$RSA1_N\",\"e\":\"$RSA1_E\"},"  \
    "{\"kty\":\"RSA\",\"kid\":\"rsa2\",\"alg\":\"RS256\",\"n\":\"$RSA2_N\",\"e\":\"$RSA2_E\"},"  \
    "{\"kty\":\"EC\",\"kid\":\"ec256\",\"crv\":\"P-256\",\"x\":\"$P256_X\",\"y\":\"$P256_Y\"},"  \
    "{\"kty\":\"EC\",\"kid\":\"ec384\",\"crv\":\"P-384\",\"alg\":\"ES384\","                    \
    "\"key_ops\":[\"verify\"],\"x\":\"$P384_X\",\"y\":\"$P384_Y\"},"                            \
    "{\"kty\":\"OKP\",\"kid\":\"ed25519\",\"crv\":\"Ed25519\",\"x\":\"$ED25519_X\"},"           \
    "{\"kty\":\"OKP\",\"kid\":\"ed448\",\"crv\":\"Ed448\",\"x\":\"$ED448_X\"},"                 \
    "{\"kty\":\"RSA\",\"kid\":\"rsa1024\",\"n\":\"$RSA1024_N\",\"e\":\"$RSA1024_E\"},"          \
    "{\"kty\":\"RSA\",\"kid\":\"rsa-enc\",\"use\":\"enc\",\"n\":\"$RSA1_N\",\"e\":\"$RSA1_E\"},"\
    "{\"kty\":\"oct\",\"kid\":\"hmac\",\"k\":\"$SECRET_K\"},"                                   \
    "{\"kty\":\"PQC\",\"kid\":\"future\",\"pub\":\"AAAA\"}"                                     \
    "]}"

static int setup(void **state)
{
    static const struct {
        const char *type;
        const char *arg;
        size_t bits;
    } gen[K_NKEYS] = {
        [K_RSA1] = {"RSA", NULL, 2048},  [K_RSA2] = {"RSA", NULL, 2048},
        [K_RSA1024] = {"RSA", NULL, 1024}, [K_EC256] = {"EC", "P-256", 0},
        [K_EC384] = {"EC", "P-384", 0},  [K_ED25519] = {"ED25519", NULL, 0},
        [K_ED448] = {"ED448", NULL, 0},  [K_EC256_B] = {"EC", "P-256", 0},
    };
    unsigned char ybad[32];
    BIGNUM *y = NULL;
    BIO *bio;
    struct oauth_err err = {0};
    char *json, *s, *data;
    long n;
    size_t i, refused;

    (void)state;
    for (i = 0; i < K_NKEYS; i++) {
        if (gen[i].bits)
            fx.pkey[i] = EVP_PKEY_Q_keygen(NULL, NULL, gen[i].type, gen[i].bits);
        else if (gen[i].arg)
            fx.pkey[i] = EVP_PKEY_Q_keygen(NULL, NULL, gen[i].type, gen[i].arg);
        else
            fx.pkey[i] = EVP_PKEY_Q_keygen(NULL, NULL, gen[i].type);
        if (!fx.pkey[i])
            return -1;
    }
    set_var("RSA1_N", bn_param(fx.pkey[K_RSA1], OSSL_PKEY_PARAM_RSA_N, 0));
    set_var("RSA1_E", bn_param(fx.pkey[K_RSA1], OSSL_PKEY_PARAM_RSA_E, 0));
    set_var("RSA2_N", bn_param(fx.pkey[K_RSA2], OSSL_PKEY_PARAM_RSA_N, 0));
    set_var("RSA2_E", bn_param(fx.pkey[K_RSA2], OSSL_PKEY_PARAM_RSA_E, 0));
    set_var("RSA1024_N", bn_param(fx.pkey[K_RSA1024], OSSL_PKEY_PARAM_RSA_N, 0));
    set_var("RSA1024_E", bn_param(fx.pkey[K_RSA1024], OSSL_PKEY_PARAM_RSA_E, 0));
    set_var("P256_X", bn_param(fx.pkey[K_EC256], OSSL_PKEY_PARAM_EC_PUB_X, 32));
    set_var("P256_Y", bn_param(fx.pkey[K_EC256], OSSL_PKEY_PARAM_EC_PUB_Y, 32));
    set_var("P384_X", bn_param(fx.pkey[K_EC384], OSSL_PKEY_PARAM_EC_PUB_X, 48));
    set_var("P384_Y", bn_param(fx.pkey[K_EC384], OSSL_PKEY_PARAM_EC_PUB_Y, 48));
    set_var("ED25519_X", raw_pub(fx.pkey[K_ED25519]));
    {
        unsigned char buf[64];
        size_t bl = sizeof(buf);
        assert_int_equal(EVP_PKEY_get_raw_public_key(fx.pkey[K_ED448], buf, &bl), 1);
        assert_int_equal(bl, 57);
        set_var("ED448_X", b64url(buf, bl));
    }
    set_var("SECRET_K", b64url(secret, strlen(secret)));
    /* y with its lowest bit flipped: not on the curve (y^2 = x^3 + ax + b
     * has at most the two roots y and -y, and -y is odd when y is even) */
    assert_int_equal(EVP_PKEY_get_bn_param(fx.pkey[K_EC256], OSSL_PKEY_PARAM_EC_PUB_Y, &y), 1);
    assert_int_equal(BN_bn2binpad(y, ybad, 32), 32);
    BN_free(y);
    ybad[31] ^= 1;
    set_var("P256_YBAD", b64url(ybad, 32));
    /* rsa1's n with RFC 4648 padding, and with a '+' (the standard alphabet) */
    s = malloc(strlen(get_var("RSA1_N", 6)) + 3);
    strcpy(s, get_var("RSA1_N", 6));
    assert_int_not_equal(strlen(s) % 4, 0);
    while (strlen(s) % 4)
        strcat(s, "=");
    set_var("RSA1_N_PAD", s);
    s = strdup(get_var("RSA1_N", 6));
    s[10] = '+';
    set_var("RSA1_N_PLUS", s);

    /* the confusion attack's HMAC key: the PEM an attacker downloads */
    bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PUBKEY(bio, fx.pkey[K_RSA1]), 1);
    n = BIO_get_mem_data(bio, &data);
    fx.pem = malloc((size_t)n + 1);
    memcpy(fx.pem, data, (size_t)n);
    fx.pem[n] = '\0';
    BIO_free(bio);

    json = expand(KEYSET_TEMPLATE);
    if (oauth_jwks_parse(json, strlen(json), &fx.set, &err) != OAUTH_JWKS_OK) {
        print_error("key set: %s\n", err.reason);
        free(json);
        return -1;
    }
    free(json);
    if (oauth_jwks_count(fx.set, &refused) != 6 || refused != 4) {
        print_error("key set: %zu usable, %zu refused: %s\n", oauth_jwks_count(fx.set, NULL),
                    refused, err.reason);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < K_NKEYS; i++)
        EVP_PKEY_free(fx.pkey[i]);
    for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        free(vars[i].value);
        vars[i].value = NULL;
    }
    free(fx.pem);
    oauth_jwks_free(fx.set);
    return 0;
}

/* ---- signing, here and independently ------------------------------------ */

/* How to sign: an enum oauth_jwt_alg, or one of these. */
enum {
    HOW_PS256_SALT_MAX = OAUTH_JWT_ALG_COUNT, /* PSS with the longest salt, not hLen */
    HOW_ES256_DER,                            /* ECDSA left in DER, not r||s */
    HOW_NONE,                                 /* empty signature */
};

static const char *md_of(int how)
{
    switch (how) {
    case OAUTH_JWT_RS384: case OAUTH_JWT_PS384: case OAUTH_JWT_ES384: return "SHA384";
    case OAUTH_JWT_RS512: case OAUTH_JWT_PS512: return "SHA512";
    case OAUTH_JWT_EDDSA: return NULL;
    default: return "SHA256";
    }
}

static unsigned char *sign(enum key key, int how, const char *data, size_t len, size_t *siglen)
{
    unsigned char *sig = malloc(1024);
    EVP_MD_CTX *mctx;
    EVP_PKEY_CTX *pctx = NULL;
    size_t n = 1024;

    assert_non_null(sig);
    *siglen = 0;
    if (how == HOW_NONE)
        return sig;
    if (key >= K_NKEYS) {
        const void *k = key == K_SECRET ? (const void *)secret
                        : key == K_PEM  ? (const void *)fx.pem
                                        : (const void *)get_var("RSA1_N", 6);
        size_t kl = strlen(k);
        assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, k, kl,
                                  (const unsigned char *)data, len, sig, 32, siglen));
        return sig;
    }
    assert_non_null(mctx = EVP_MD_CTX_new());
    assert_int_equal(EVP_DigestSignInit_ex(mctx, &pctx, md_of(how), NULL, NULL, fx.pkey[key],
                                           NULL), 1);
    switch (how) {
    case OAUTH_JWT_PS256: case OAUTH_JWT_PS384: case OAUTH_JWT_PS512: case HOW_PS256_SALT_MAX:
        assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(
                             pctx, how == HOW_PS256_SALT_MAX ? RSA_PSS_SALTLEN_MAX
                                                             : RSA_PSS_SALTLEN_DIGEST), 1);
        break;
    default:
        break;
    }
    assert_int_equal(EVP_DigestSign(mctx, sig, &n, (const unsigned char *)data, len), 1);
    EVP_MD_CTX_free(mctx);
    if (EVP_PKEY_is_a(fx.pkey[key], "EC") && how != HOW_ES256_DER) {
        /* DER ECDSA-Sig-Value -> JWS R || S (RFC 7518 3.4) */
        const unsigned char *p = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)n);
        size_t coord = key == K_EC384 ? 48 : 32;
        unsigned char raw[96];
        assert_non_null(es);
        assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, (int)coord), (int)coord);
        assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + coord, (int)coord), (int)coord);
        ECDSA_SIG_free(es);
        memcpy(sig, raw, 2 * coord);
        n = 2 * coord;
    }
    *siglen = n;
    return sig;
}

/* ---- the validation table ----------------------------------------------- */

/* mutations of the token (header and payload ones before signing, so the
 * signature still covers them) and tweaks of the policy */
enum {
    M_FLIP = 1 << 0,          /* one signature bit flipped */
    M_TRUNC = 1 << 1,         /* last signature byte dropped */
    M_PAD_HEADER = 1 << 2,    /* '=' padding on the header segment */
    M_PAD_SIG = 1 << 3,       /* '=' padding on the signature segment */
    M_PLUS = 1 << 4,          /* a '+' (standard alphabet) in the payload */
    M_SLASH = 1 << 5,         /* a '/' in the header */
    M_SPACE = 1 << 6,         /* a space inside the payload segment */
    M_NUL = 1 << 7,           /* a NUL byte inside the payload segment */
    M_EXTRA_SEG = 1 << 8,     /* a fourth segment */
    M_TWO_SEGS = 1 << 9,      /* no signature segment, no second dot */
    M_EMPTY_HEADER = 1 << 10,
    M_EMPTY_PAYLOAD = 1 << 11,
    M_EMPTY_SIG = 1 << 12,
    M_HUGE = 1 << 13,         /* a 17000-byte claim: over the 16 KiB default */
    M_SIG_BAD_CHAR = 1 << 14, /* a '*' (no base64url letter) inside the signature */
    M_SIG_ONE_CHAR = 1 << 15, /* a signature segment of one letter: no whole byte */
    P_SECRET = 1 << 16,       /* HMAC secret configured */
    P_TYP = 1 << 17,          /* typ at+jwt required */
    P_NO_SCOPES = 1 << 18,    /* no required scope */
    P_SMALL_MAX = 1 << 19,    /* max_token_len 200 */
    P_ALGS_ES = 1 << 20,      /* only ES256 allowed */
    P_LEEWAY0 = 1 << 21,      /* no leeway */
    P_SMALL_USER = 1 << 22,   /* max_user_len 5 */
};

struct row {
    const char *name;
    const char *header;  /* JSON text */
    const char *payload; /* JSON text; NULL: DEFAULT */
    enum key key;
    int how;             /* enum oauth_jwt_alg or HOW_* */
    unsigned flags;
    const char *claim;   /* the policy's user claim; NULL: the default */
    enum oauth_jwt_status expect;
    const char *user;    /* expected on OAUTH_JWT_OK */
};

#define H(alg, kid) "{\"alg\":\"" alg "\",\"kid\":\"" kid "\"}"
#define H0(alg) "{\"alg\":\"" alg "\"}"
#define HT(alg, kid, typ) "{\"typ\":\"" typ "\",\"alg\":\"" alg "\",\"kid\":\"" kid "\"}"
#define ISS "\"iss\":\"https://issuer.example\""
#define AUD "\"aud\":\"imap\""
#define EXP "\"exp\":1700000600"
#define IAT "\"iat\":1699999900"
#define USER "\"email\":\"alice@example.com\""
#define SCOPE "\"scope\":\"openid mail\""
/* everything but exp, or but one other claim */
#define NO_EXP ISS "," AUD "," IAT "," USER "," SCOPE
#define NO_ISS AUD "," EXP "," IAT "," USER "," SCOPE
#define NO_AUD ISS "," EXP "," IAT "," USER "," SCOPE
#define NO_IAT ISS "," AUD "," EXP "," USER "," SCOPE
#define NO_USER ISS "," AUD "," EXP "," IAT "," SCOPE
#define NO_SCOPE ISS "," AUD "," EXP "," IAT "," USER
#define DEFAULT "{" ISS "," AUD "," EXP "," IAT "," USER "," SCOPE "}"
#define ALICE "alice@example.com"

#define RS OAUTH_JWT_RS256
#define OK(n, h, p, k, how, fl) {n, h, p, k, how, fl, NULL, OAUTH_JWT_OK, ALICE}
#define BAD(n, h, p, k, how, fl, st) {n, h, p, k, how, fl, NULL, OAUTH_JWT_ERR_##st, NULL}

static const struct row rows[] = {
    /* valid, one per algorithm */
    OK("RS256 valid", H("RS256", "rsa1"), NULL, K_RSA1, OAUTH_JWT_RS256, 0),
    OK("RS384 valid", H("RS384", "rsa1"), NULL, K_RSA1, OAUTH_JWT_RS384, 0),
    OK("RS512 valid", H("RS512", "rsa1"), NULL, K_RSA1, OAUTH_JWT_RS512, 0),
    OK("PS256 valid", H("PS256", "rsa1"), NULL, K_RSA1, OAUTH_JWT_PS256, 0),
    OK("PS384 valid", H("PS384", "rsa1"), NULL, K_RSA1, OAUTH_JWT_PS384, 0),
    OK("PS512 valid", H("PS512", "rsa1"), NULL, K_RSA1, OAUTH_JWT_PS512, 0),
    OK("ES256 valid", H("ES256", "ec256"), NULL, K_EC256, OAUTH_JWT_ES256, 0),
    OK("ES384 valid", H("ES384", "ec384"), NULL, K_EC384, OAUTH_JWT_ES384, 0),
    OK("EdDSA Ed25519 valid", H("EdDSA", "ed25519"), NULL, K_ED25519, OAUTH_JWT_EDDSA, 0),
    OK("EdDSA Ed448 valid", H("EdDSA", "ed448"), NULL, K_ED448, OAUTH_JWT_EDDSA, 0),
    OK("HS256 with the configured secret", H0("HS256"), NULL, K_SECRET, OAUTH_JWT_HS256,
       P_SECRET),
    OK("RS256 with the key whose JWK says alg RS256", H("RS256", "rsa2"), NULL, K_RSA2, RS, 0),
    OK("no kid, the set's only ES256 key", H0("ES256"), NULL, K_EC256, OAUTH_JWT_ES256, 0),
    OK("typ at+jwt required and present", HT("RS256", "rsa1", "at+jwt"), NULL, K_RSA1, RS,
       P_TYP),
    OK("typ application/AT+JWT (case-insensitive)", HT("RS256", "rsa1", "application/AT+JWT"),
       NULL, K_RSA1, RS, P_TYP),
    OK("typ JWT when not required", HT("RS256", "rsa1", "JWT"), NULL, K_RSA1, RS, 0),
    OK("unknown header members ignored (jku, x5u)",
       "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"jku\":\"https://evil.example/jwks\","
       "\"x5u\":\"https://evil.example/cert\"}", NULL, K_RSA1, RS, 0),
    /* time */
    BAD("expired beyond the leeway", H("RS256", "rsa1"), "{" NO_EXP ",\"exp\":1699999900}",
        K_RSA1, RS, 0, EXPIRED),
    OK("expired within the leeway", H("RS256", "rsa1"), "{" NO_EXP ",\"exp\":1699999970}",
       K_RSA1, RS, 0),
    BAD("exp exactly now - leeway", H("RS256", "rsa1"), "{" NO_EXP ",\"exp\":1699999940}",
        K_RSA1, RS, 0, EXPIRED),
    OK("exp one second after now - leeway", H("RS256", "rsa1"),
       "{" NO_EXP ",\"exp\":1699999941}", K_RSA1, RS, 0),
    BAD("exp = now without leeway", H("RS256", "rsa1"), "{" NO_EXP ",\"exp\":1700000000}",
        K_RSA1, RS, P_LEEWAY0, EXPIRED),
    OK("exp fractional", H("RS256", "rsa1"), "{" NO_EXP ",\"exp\":1700000600.5}", K_RSA1, RS,
       0),
    BAD("exp missing", H("RS256", "rsa1"), "{" NO_EXP "}", K_RSA1, RS, 0, CLAIM),
    BAD("exp a string", H("RS256", "rsa1"), "{" NO_EXP ",\"exp\":\"1700000600\"}", K_RSA1, RS,
        0, CLAIM),
    BAD("exp null", H("RS256", "rsa1"), "{" NO_EXP ",\"exp\":null}", K_RSA1, RS, 0, CLAIM),
    BAD("not yet valid (nbf)", H("RS256", "rsa1"), "{" NO_IAT ",\"nbf\":1700000120}", K_RSA1,
        RS, 0, NOT_YET_VALID),
    OK("nbf within the leeway", H("RS256", "rsa1"), "{" NO_IAT ",\"nbf\":1700000060}", K_RSA1,
       RS, 0),
    BAD("nbf a string", H("RS256", "rsa1"), "{" NO_IAT ",\"nbf\":\"soon\"}", K_RSA1, RS, 0,
        CLAIM),
    BAD("iat in the future", H("RS256", "rsa1"), "{" NO_IAT ",\"iat\":1700000120}", K_RSA1, RS,
        0, ISSUED_IN_FUTURE),
    OK("iat within the leeway", H("RS256", "rsa1"), "{" NO_IAT ",\"iat\":1700000030}", K_RSA1,
       RS, 0),
    OK("no iat", H("RS256", "rsa1"), "{" NO_IAT "}", K_RSA1, RS, 0),
    /* issuer */
    BAD("wrong issuer", H("RS256", "rsa1"), "{" NO_ISS ",\"iss\":\"https://evil.example\"}",
        K_RSA1, RS, 0, ISSUER),
    BAD("issuer with a trailing slash", H("RS256", "rsa1"),
        "{" NO_ISS ",\"iss\":\"https://issuer.example/\"}", K_RSA1, RS, 0, ISSUER),
    BAD("issuer missing", H("RS256", "rsa1"), "{" NO_ISS "}", K_RSA1, RS, 0, ISSUER),
    BAD("issuer an array", H("RS256", "rsa1"), "{" NO_ISS ",\"iss\":[\"https://issuer.example\"]}",
        K_RSA1, RS, 0, ISSUER),
    OK("second allowed issuer", H("RS256", "rsa1"),
       "{" NO_ISS ",\"iss\":\"https://login.example.org\"}", K_RSA1, RS, 0),
    /* audience */
    BAD("wrong audience", H("RS256", "rsa1"), "{" NO_AUD ",\"aud\":\"pop3\"}", K_RSA1, RS, 0,
        AUDIENCE),
    OK("aud array containing ours", H("RS256", "rsa1"),
       "{" NO_AUD ",\"aud\":[\"https://api.example\",\"smtp\"]}", K_RSA1, RS, 0),
    BAD("aud array without ours", H("RS256", "rsa1"), "{" NO_AUD ",\"aud\":[\"pop3\",\"web\"]}",
        K_RSA1, RS, 0, AUDIENCE),
    BAD("aud empty array", H("RS256", "rsa1"), "{" NO_AUD ",\"aud\":[]}", K_RSA1, RS, 0,
        AUDIENCE),
    BAD("aud array holding a number", H("RS256", "rsa1"), "{" NO_AUD ",\"aud\":[\"imap\",7]}",
        K_RSA1, RS, 0, AUDIENCE),
    BAD("aud missing", H("RS256", "rsa1"), "{" NO_AUD "}", K_RSA1, RS, 0, AUDIENCE),
    BAD("aud differing in case", H("RS256", "rsa1"), "{" NO_AUD ",\"aud\":\"IMAP\"}", K_RSA1, RS,
        0, AUDIENCE),
    /* scope */
    BAD("required scope missing", H("RS256", "rsa1"),
        "{" NO_SCOPE ",\"scope\":\"openid profile\"}", K_RSA1, RS, 0, SCOPE),
    BAD("scope only as a prefix (mailbox)", H("RS256", "rsa1"),
        "{" NO_SCOPE ",\"scope\":\"mailbox\"}", K_RSA1, RS, 0, SCOPE),
    BAD("no scope claim at all", H("RS256", "rsa1"), "{" NO_SCOPE "}", K_RSA1, RS, 0, SCOPE),
    OK("scope via the scp array", H("RS256", "rsa1"),
       "{" NO_SCOPE ",\"scp\":[\"openid\",\"mail\"]}", K_RSA1, RS, 0),
    OK("scope via an scp string", H("RS256", "rsa1"), "{" NO_SCOPE ",\"scp\":\"mail openid\"}",
       K_RSA1, RS, 0),
    BAD("scp array without ours", H("RS256", "rsa1"), "{" NO_SCOPE ",\"scp\":[\"openid\"]}",
        K_RSA1, RS, 0, SCOPE),
    BAD("scope not a string", H("RS256", "rsa1"), "{" NO_SCOPE ",\"scope\":[\"mail\"]}", K_RSA1,
        RS, 0, CLAIM),
    BAD("scp array holding a number", H("RS256", "rsa1"), "{" NO_SCOPE ",\"scp\":[\"mail\",1]}",
        K_RSA1, RS, 0, CLAIM),
    OK("no scope required, none present", H("RS256", "rsa1"), "{" NO_SCOPE "}", K_RSA1, RS,
       P_NO_SCOPES),
    /* user */
    BAD("user claim missing (email)", H("RS256", "rsa1"), "{" NO_USER "}", K_RSA1, RS, 0, USER),
    {"wrong user claim configured (upn absent)", H("RS256", "rsa1"), NULL, K_RSA1, RS, 0, "upn",
     OAUTH_JWT_ERR_USER, NULL},
    {"user from preferred_username", H("RS256", "rsa1"),
     "{" NO_USER ",\"preferred_username\":\"alice\"}", K_RSA1, RS, 0, "preferred_username",
     OAUTH_JWT_OK, "alice"},
    {"user from sub", H("RS256", "rsa1"), "{" NO_USER ",\"sub\":\"248289761001\"}", K_RSA1, RS,
     0, "sub", OAUTH_JWT_OK, "248289761001"},
    BAD("user claim empty", H("RS256", "rsa1"), "{" NO_USER ",\"email\":\"\"}", K_RSA1, RS, 0,
        USER),
    BAD("user claim a number", H("RS256", "rsa1"), "{" NO_USER ",\"email\":42}", K_RSA1, RS, 0,
        USER),
    BAD("user claim with a control character", H("RS256", "rsa1"),
        "{" NO_USER ",\"email\":\"alice\\n@example.com\"}", K_RSA1, RS, 0, USER),
    BAD("user claim longer than the cap", H("RS256", "rsa1"), NULL, K_RSA1, RS, P_SMALL_USER,
        USER),
    BAD("user claim with a NUL escape", H("RS256", "rsa1"),
        "{" NO_USER ",\"email\":\"alice\\u0000@example.com\"}", K_RSA1, RS, 0, MALFORMED),
    /* alg */
    BAD("alg none, empty signature", H0("none"), NULL, K_NONE, HOW_NONE, 0, ALG),
    BAD("alg none with a signature", H("none", "rsa1"), NULL, K_RSA1, RS, 0, ALG),
    BAD("alg None", H0("None"), NULL, K_NONE, HOW_NONE, 0, ALG),
    BAD("alg NONE with an HMAC", H0("NONE"), NULL, K_SECRET, OAUTH_JWT_HS256, P_SECRET, ALG),
    BAD("alg rs256 (case matters)", H("rs256", "rsa1"), NULL, K_RSA1, RS, 0, ALG),
    BAD("alg ES512 not supported", H("ES512", "ec256"), NULL, K_EC256, OAUTH_JWT_ES256, 0, ALG),
    BAD("alg HS512 not supported", H0("HS512"), NULL, K_SECRET, OAUTH_JWT_HS256, P_SECRET, ALG),
    BAD("alg not allowed by the configuration", H("RS256", "rsa1"), NULL, K_RSA1, RS, P_ALGS_ES,
        ALG),
    BAD("alg a number", "{\"alg\":256,\"kid\":\"rsa1\"}", NULL, K_RSA1, RS, 0, MALFORMED),
    BAD("alg missing", "{\"kid\":\"rsa1\"}", NULL, K_RSA1, RS, 0, MALFORMED),
    /* HMAC: never keyed from the key set */
    BAD("HS256 keyed with the RSA public key PEM, kid rsa1", H("HS256", "rsa1"), NULL, K_PEM,
        OAUTH_JWT_HS256, 0, ALG),
    BAD("HS256 keyed with the RSA public key PEM, no kid", H0("HS256"), NULL, K_PEM,
        OAUTH_JWT_HS256, 0, ALG),
    BAD("HS256 keyed with the JWK's n", H("HS256", "rsa1"), NULL, K_JWK_N, OAUTH_JWT_HS256, 0,
        ALG),
    BAD("HS256 keyed with the PEM while a secret is configured", H("HS256", "rsa1"), NULL,
        K_PEM, OAUTH_JWT_HS256, P_SECRET, SIGNATURE),
    BAD("HS256 without a configured secret", H0("HS256"), NULL, K_SECRET, OAUTH_JWT_HS256, 0,
        ALG),
    BAD("HS256 naming the set's oct key", H("HS256", "hmac"), NULL, K_SECRET, OAUTH_JWT_HS256, 0,
        ALG),
    BAD("HS256 with a secret but only ES256 allowed", H0("HS256"), NULL, K_SECRET,
        OAUTH_JWT_HS256, P_SECRET | P_ALGS_ES, ALG),
    /* keys */
    BAD("unknown kid", H("RS256", "rotated-away"), NULL, K_RSA1, RS, 0, UNKNOWN_KID),
    BAD("known kid, signed by another RSA key", H("RS256", "rsa1"), NULL, K_RSA2, RS, 0,
        SIGNATURE),
    BAD("known kid, signed by another P-256 key", H("ES256", "ec256"), NULL, K_EC256_B,
        OAUTH_JWT_ES256, 0, SIGNATURE),
    BAD("no kid, two RSA keys in the set", H0("RS256"), NULL, K_RSA1, RS, 0, NO_KEY),
    BAD("RSA key for an ES256 header", H("ES256", "rsa1"), NULL, K_EC256, OAUTH_JWT_ES256, 0,
        KEY_MISMATCH),
    BAD("RS256-only JWK for a PS256 header", H("PS256", "rsa2"), NULL, K_RSA2, OAUTH_JWT_PS256,
        0, KEY_MISMATCH),
    BAD("P-256 key for an ES384 header", H("ES384", "ec256"), NULL, K_EC384, OAUTH_JWT_ES384, 0,
        KEY_MISMATCH),
    BAD("P-384 key for an ES256 header", H("ES256", "ec384"), NULL, K_EC256, OAUTH_JWT_ES256, 0,
        KEY_MISMATCH),
    BAD("EC key for an EdDSA header", H("EdDSA", "ec256"), NULL, K_ED25519, OAUTH_JWT_EDDSA, 0,
        KEY_MISMATCH),
    BAD("Ed25519 key for an RS256 header", H("RS256", "ed25519"), NULL, K_RSA1, RS, 0,
        KEY_MISMATCH),
    BAD("RSA 1024-bit key of the set", H("RS256", "rsa1024"), NULL, K_RSA1024, RS, 0,
        KEY_UNUSABLE),
    BAD("key with use enc", H("RS256", "rsa-enc"), NULL, K_RSA1, RS, 0, KEY_UNUSABLE),
    BAD("key of an unknown kty", H("RS256", "future"), NULL, K_RSA1, RS, 0, KEY_UNUSABLE),
    BAD("kid a number", "{\"alg\":\"RS256\",\"kid\":1}", NULL, K_RSA1, RS, 0, MALFORMED),
    /* signatures */
    BAD("RS256 flipped signature bit", H("RS256", "rsa1"), NULL, K_RSA1, RS, M_FLIP, SIGNATURE),
    BAD("PS256 flipped signature bit", H("PS256", "rsa1"), NULL, K_RSA1, OAUTH_JWT_PS256, M_FLIP,
        SIGNATURE),
    BAD("ES256 flipped signature bit", H("ES256", "ec256"), NULL, K_EC256, OAUTH_JWT_ES256,
        M_FLIP, SIGNATURE),
    BAD("ES384 flipped signature bit", H("ES384", "ec384"), NULL, K_EC384, OAUTH_JWT_ES384,
        M_FLIP, SIGNATURE),
    BAD("EdDSA flipped signature bit", H("EdDSA", "ed25519"), NULL, K_ED25519, OAUTH_JWT_EDDSA,
        M_FLIP, SIGNATURE),
    BAD("HS256 flipped signature bit", H0("HS256"), NULL, K_SECRET, OAUTH_JWT_HS256,
        M_FLIP | P_SECRET, SIGNATURE),
    BAD("RS256 truncated signature", H("RS256", "rsa1"), NULL, K_RSA1, RS, M_TRUNC, SIGNATURE),
    BAD("ES256 truncated signature (63 bytes)", H("ES256", "ec256"), NULL, K_EC256,
        OAUTH_JWT_ES256, M_TRUNC, SIGNATURE),
    BAD("EdDSA truncated signature", H("EdDSA", "ed25519"), NULL, K_ED25519, OAUTH_JWT_EDDSA,
        M_TRUNC, SIGNATURE),
    BAD("HS256 truncated signature", H0("HS256"), NULL, K_SECRET, OAUTH_JWT_HS256,
        M_TRUNC | P_SECRET, SIGNATURE),
    BAD("ES256 signature in DER, not r||s", H("ES256", "ec256"), NULL, K_EC256, HOW_ES256_DER, 0,
        SIGNATURE),
    BAD("PS256 with the maximum salt length", H("PS256", "rsa1"), NULL, K_RSA1,
        HOW_PS256_SALT_MAX, 0, SIGNATURE),
    BAD("PS256 header, PKCS#1 v1.5 signature", H("PS256", "rsa1"), NULL, K_RSA1, RS, 0,
        SIGNATURE),
    BAD("RS256 header, PSS signature", H("RS256", "rsa1"), NULL, K_RSA1, OAUTH_JWT_PS256, 0,
        SIGNATURE),
    BAD("RS256 header, RS512 signature", H("RS256", "rsa1"), NULL, K_RSA1, OAUTH_JWT_RS512, 0,
        SIGNATURE),
    BAD("RS256 empty signature segment", H("RS256", "rsa1"), NULL, K_RSA1, RS, M_EMPTY_SIG,
        MALFORMED),
    /* a valid header and a usable key, then a signature that is not one: each
     * exit of the signature step must refuse on its own */
    BAD("ES256 empty signature segment", H("ES256", "ec256"), NULL, K_EC256, OAUTH_JWT_ES256,
        M_EMPTY_SIG, MALFORMED),
    BAD("EdDSA empty signature segment", H("EdDSA", "ed25519"), NULL, K_ED25519,
        OAUTH_JWT_EDDSA, M_EMPTY_SIG, MALFORMED),
    BAD("HS256 empty signature segment", H0("HS256"), NULL, K_SECRET, OAUTH_JWT_HS256,
        M_EMPTY_SIG | P_SECRET, MALFORMED),
    BAD("RS256 '*' in the signature", H("RS256", "rsa1"), NULL, K_RSA1, RS, M_SIG_BAD_CHAR,
        MALFORMED),
    BAD("ES256 '*' in the signature", H("ES256", "ec256"), NULL, K_EC256, OAUTH_JWT_ES256,
        M_SIG_BAD_CHAR, MALFORMED),
    BAD("EdDSA '*' in the signature", H("EdDSA", "ed25519"), NULL, K_ED25519, OAUTH_JWT_EDDSA,
        M_SIG_BAD_CHAR, MALFORMED),
    BAD("HS256 '*' in the signature", H0("HS256"), NULL, K_SECRET, OAUTH_JWT_HS256,
        M_SIG_BAD_CHAR | P_SECRET, MALFORMED),
    BAD("RS256 one-letter signature", H("RS256", "rsa1"), NULL, K_RSA1, RS, M_SIG_ONE_CHAR,
        MALFORMED),
    BAD("HS256 one-letter signature", H0("HS256"), NULL, K_SECRET, OAUTH_JWT_HS256,
        M_SIG_ONE_CHAR | P_SECRET, MALFORMED),
    /* segments and base64url */
    BAD("padding on the header segment", "{\"alg\":\"RS256\",\"kid\":\"rsa1\" }", NULL, K_RSA1,
        RS, M_PAD_HEADER, MALFORMED),
    BAD("padding on the signature segment", H("RS256", "rsa1"), NULL, K_RSA1, RS, M_PAD_SIG,
        MALFORMED),
    BAD("'+' in the payload segment", H("RS256", "rsa1"), NULL, K_RSA1, RS, M_PLUS, MALFORMED),
    BAD("'/' in the header segment", H("RS256", "rsa1"), NULL, K_RSA1, RS, M_SLASH, MALFORMED),
    BAD("space in the payload segment", H("RS256", "rsa1"), NULL, K_RSA1, RS, M_SPACE,
        MALFORMED),
    BAD("NUL in the payload segment", H("RS256", "rsa1"), NULL, K_RSA1, RS, M_NUL, MALFORMED),
    BAD("extra segment", H("RS256", "rsa1"), NULL, K_RSA1, RS, M_EXTRA_SEG, MALFORMED),
    BAD("two segments", H("RS256", "rsa1"), NULL, K_RSA1, RS, M_TWO_SEGS, MALFORMED),
    BAD("empty header segment", H("RS256", "rsa1"), NULL, K_RSA1, RS, M_EMPTY_HEADER, MALFORMED),
    BAD("empty payload segment", H("RS256", "rsa1"), NULL, K_RSA1, RS, M_EMPTY_PAYLOAD,
        MALFORMED),
    BAD("only the two dots", H("RS256", "rsa1"), NULL, K_RSA1, RS,
        M_EMPTY_HEADER | M_EMPTY_PAYLOAD | M_EMPTY_SIG, MALFORMED),
    /* JSON */
    BAD("header not JSON", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"", NULL, K_RSA1, RS, 0,
        MALFORMED),
    BAD("header a JSON array", "[\"RS256\"]", NULL, K_RSA1, RS, 0, MALFORMED),
    BAD("header with trailing data", H("RS256", "rsa1") " x", NULL, K_RSA1, RS, 0, MALFORMED),
    BAD("header with a NUL escape", "{\"alg\":\"RS256\",\"kid\":\"rsa1\\u0000\"}", NULL, K_RSA1,
        RS, 0, MALFORMED),
    BAD("payload not JSON", H("RS256", "rsa1"), "{\"exp\":1700000600,", K_RSA1, RS, 0,
        MALFORMED),
    BAD("payload a JSON string", H("RS256", "rsa1"), "\"alice@example.com\"", K_RSA1, RS, 0,
        MALFORMED),
    BAD("payload a JSON array", H("RS256", "rsa1"), "[" DEFAULT "]", K_RSA1, RS, 0, MALFORMED),
    BAD("duplicate alg in the header", "{\"alg\":\"none\",\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
        NULL, K_RSA1, RS, 0, MALFORMED),
    BAD("duplicate kid in the header", "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"kid\":\"rsa2\"}",
        NULL, K_RSA1, RS, 0, MALFORMED),
    BAD("duplicate email in the payload",
        "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", "{" NO_USER "," USER ",\"email\":\"bob@evil\"}",
        K_RSA1, RS, 0, MALFORMED),
    BAD("duplicate exp in the payload", H("RS256", "rsa1"), "{" NO_EXP "," EXP ",\"exp\":1}",
        K_RSA1, RS, 0, MALFORMED),
    /* crit and typ */
    BAD("crit naming exp", "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":[\"exp\"],\"exp\":1}",
        NULL, K_RSA1, RS, 0, CRIT),
    BAD("crit b64 (RFC 7797)", "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":[\"b64\"],"
        "\"b64\":true}", NULL, K_RSA1, RS, 0, CRIT),
    BAD("crit empty array", "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":[]}", NULL, K_RSA1,
        RS, 0, CRIT),
    BAD("crit a string", "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":\"exp\"}", NULL, K_RSA1,
        RS, 0, CRIT),
    BAD("crit holding a number", "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":[1]}", NULL,
        K_RSA1, RS, 0, CRIT),
    BAD("typ required, missing", H("RS256", "rsa1"), NULL, K_RSA1, RS, P_TYP, TYP),
    BAD("typ required, JWT", HT("RS256", "rsa1", "JWT"), NULL, K_RSA1, RS, P_TYP, TYP),
    BAD("typ required, at+jwt with a suffix", HT("RS256", "rsa1", "at+jwtx"), NULL, K_RSA1, RS,
        P_TYP, TYP),
    BAD("typ not a string", "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":1}", NULL, K_RSA1, RS,
        0, MALFORMED),
    /* size */
    BAD("oversize token (over the 16 KiB default)", H("RS256", "rsa1"), NULL, K_RSA1, RS, M_HUGE,
        TOO_LARGE),
    BAD("token over a configured cap of 200", H("RS256", "rsa1"), NULL, K_RSA1, RS, P_SMALL_MAX,
        TOO_LARGE),
};

static const char *const issuers[] = {"https://issuer.example", "https://login.example.org"};
static const char *const audiences[] = {"imap", "smtp"};
static const char *const scopes[] = {"mail"};

static void base_policy(struct oauth_jwt_policy *p)
{
    memset(p, 0, sizeof(*p));
    p->issuers = issuers;
    p->n_issuers = 2;
    p->audiences = audiences;
    p->n_audiences = 2;
    p->scopes = scopes;
    p->n_scopes = 1;
    p->leeway = LEEWAY;
}

struct buf {
    char *p;
    size_t len;
};

static void put(struct buf *b, const char *s, size_t n)
{
    b->p = realloc(b->p, b->len + n + 1);
    assert_non_null(b->p);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* Replace byte i of b with c, or insert c there. */
static void poke(struct buf *b, size_t i, char c, int insert)
{
    assert_true(i < b->len);
    if (insert) {
        put(b, "x", 1);
        memmove(b->p + i + 1, b->p + i, b->len - i - 1);
    }
    b->p[i] = c;
}

static void pad(struct buf *b, const char *what)
{
    if (b->len % 4 == 0)
        fail_msg("the %s segment needs no padding: pick another row", what);
    while (b->len % 4)
        put(b, "=", 1);
}

/* The token of a row: header and payload mutations before signing. */
static struct buf make_token(const struct row *r)
{
    struct buf hb = {0}, pb = {0}, tok = {0};
    const char *payload = r->payload ? r->payload : DEFAULT;
    char *s, *huge = NULL;
    unsigned char *sig;
    size_t siglen;

    if (r->flags & M_HUGE) {
        /* DEFAULT without its '}', then ,"pad":"xxx...x"} */
        size_t n = 17000, l = strlen(DEFAULT) - 1;
        huge = malloc(l + 8 + n + 3);
        memcpy(huge, DEFAULT, l);
        memcpy(huge + l, ",\"pad\":\"", 8);
        memset(huge + l + 8, 'x', n);
        memcpy(huge + l + 8 + n, "\"}", 3);
        payload = huge;
    }
    s = b64url(r->header, strlen(r->header));
    puts_(&hb, s);
    free(s);
    s = b64url(payload, strlen(payload));
    puts_(&pb, s);
    free(s);
    free(huge);
    if (r->flags & M_PAD_HEADER)
        pad(&hb, "header");
    if (r->flags & M_SLASH)
        poke(&hb, 3, '/', 0);
    if (r->flags & M_PLUS)
        poke(&pb, 3, '+', 0);
    if (r->flags & M_SPACE)
        poke(&pb, 4, ' ', 1);
    if (r->flags & M_NUL)
        poke(&pb, 4, '\0', 1);
    if (r->flags & M_EMPTY_HEADER)
        hb.len = 0;
    if (r->flags & M_EMPTY_PAYLOAD)
        pb.len = 0;
    put(&tok, hb.p, hb.len);
    put(&tok, ".", 1);
    put(&tok, pb.p, pb.len);
    free(hb.p);
    free(pb.p);

    sig = sign(r->key, r->how, tok.p, tok.len, &siglen);
    if (r->flags & M_FLIP) {
        assert_true(siglen > 0);
        sig[siglen / 2] ^= 0x01;
    }
    if (r->flags & M_TRUNC)
        siglen--;
    if (!(r->flags & M_TWO_SEGS)) {
        struct buf sb = {0};
        s = b64url(sig, siglen);
        puts_(&sb, s);
        free(s);
        if (r->flags & M_PAD_SIG)
            pad(&sb, "signature");
        if (r->flags & M_SIG_BAD_CHAR)
            poke(&sb, sb.len / 2, '*', 0);
        if (r->flags & M_SIG_ONE_CHAR)
            sb.len = 1;
        put(&tok, ".", 1);
        if (!(r->flags & M_EMPTY_SIG))
            put(&tok, sb.p, sb.len);
        free(sb.p);
    }
    free(sig);
    if (r->flags & M_EXTRA_SEG)
        puts_(&tok, ".e30");
    return tok;
}

/* the reason must not hold the token, nor any segment of it longer than 6 bytes */
static void check_why_clean(const char *why, const struct buf *tok)
{
    size_t start = 0, i;

    for (i = 0; i <= tok->len; i++) {
        if (i < tok->len && tok->p[i] != '.')
            continue;
        if (i - start > 6) {
            char *seg = strndup(tok->p + start, i - start);
            if (strstr(why, seg))
                fail_msg("why \"%s\" holds a token segment", why);
            free(seg);
        }
        start = i + 1;
    }
}

static void run_row(void **state)
{
    const struct row *r = *state;
    struct oauth_jwt_policy pol;
    struct oauth_jwt_result res;
    struct buf tok = make_token(r);
    struct oauth_err err = {0};
    enum oauth_jwt_status st;

    base_policy(&pol);
    if (r->flags & P_SECRET) {
        pol.hmac_secret = (const unsigned char *)secret;
        pol.hmac_secret_len = strlen(secret);
    }
    pol.require_typ = !!(r->flags & P_TYP);
    if (r->flags & P_NO_SCOPES)
        pol.n_scopes = 0;
    if (r->flags & P_SMALL_MAX)
        pol.max_token_len = 200;
    if (r->flags & P_ALGS_ES)
        pol.algs = OAUTH_JWT_ALG_BIT(OAUTH_JWT_ES256);
    if (r->flags & P_LEEWAY0)
        pol.leeway = 0;
    if (r->flags & P_SMALL_USER)
        pol.max_user_len = 5;
    pol.user_claim = r->claim;

    memset(&res, 0x5a, sizeof(res));
    st = oauth_jwt_validate(tok.p, tok.len, fx.set, &pol, NOW, &res, &err);
    print_message("# %-52s -> %s%s%s\n", r->name, oauth_jwt_status_text(st),
                  *err.reason ? ": " : "", err.reason);
    if (st != r->expect)
        fail_msg("%s: status %d (%s: %s), expected %d (%s)", r->name, (int)st,
                 oauth_jwt_status_text(st), err.reason, (int)r->expect,
                 oauth_jwt_status_text(r->expect));
    /* what the status means is in err, decided where the check failed: a
     * refused token is the client's, insufficient_scope only for a missing
     * scope (an unknown kid too: the verifier may refetch once) */
    assert_int_equal(err.code, st);
    assert_int_equal(err.cls, st == OAUTH_JWT_OK           ? OAUTH_OK
                              : st == OAUTH_JWT_ERR_POLICY   ? OAUTH_ERR_CONFIG
                              : st == OAUTH_JWT_ERR_INTERNAL ? OAUTH_ERR_INTERNAL
                                                             : OAUTH_ERR_CLIENT);
    if (err.cls == OAUTH_ERR_CLIENT)
        assert_int_equal(err.status, st == OAUTH_JWT_ERR_SCOPE ? OAUTH_STATUS_INSUFFICIENT_SCOPE
                                                               : OAUTH_STATUS_INVALID_TOKEN);
    if (st == OAUTH_JWT_OK) {
        assert_string_equal(err.reason, "");
        assert_non_null(res.user);
        assert_string_equal(res.user, r->user);
        assert_true(res.exp >= NOW - LEEWAY);
        if (r->how < OAUTH_JWT_ALG_COUNT)
            assert_int_equal(res.alg, r->how);
    } else {
        assert_null(res.user);
        assert_true(strlen(err.reason) > 0);
        check_why_clean(err.reason, &tok);
        if ((r->flags & (M_EMPTY_SIG | M_SIG_BAD_CHAR | M_SIG_ONE_CHAR | M_PAD_SIG))
            && !(r->flags & (M_EMPTY_HEADER | M_EMPTY_PAYLOAD))
            && r->expect == OAUTH_JWT_ERR_MALFORMED
            && !strstr(err.reason, "signature"))
            fail_msg("%s: the reason \"%s\" does not name the signature", r->name, err.reason);
    }
    oauth_jwt_result_clear(&res);
    assert_null(res.user);
    free(tok.p);
}

/* ---- the key set table ---------------------------------------------------- */

struct jwks_row {
    const char *name;
    const char *json; /* template */
    enum oauth_jwks_status expect;
    size_t usable, refused;
};

#define RSA1 "{\"kty\":\"RSA\",\"kid\":\"r\",\"n\":\"$RSA1_N\",\"e\":\"$RSA1_E\"}"
#define RSA1_WITH(m) "{\"kty\":\"RSA\",\"kid\":\"r\"," m ",\"n\":\"$RSA1_N\",\"e\":\"$RSA1_E\"}"
#define P256(m) "{\"kty\":\"EC\"," m ",\"x\":\"$P256_X\",\"y\":\"$P256_Y\"}"
#define KEYS(...) "{\"keys\":[" __VA_ARGS__ "]}"
#define JOK(n, j, u, r) {n, j, OAUTH_JWKS_OK, u, r}
#define JBAD(n, j, st) {n, j, OAUTH_JWKS_ERR_##st, 0, 0}
/* one refused key beside a good one: the set loads, with one refused */
#define JSKIP(n, k) {n, KEYS(k "," RSA1), OAUTH_JWKS_OK, 1, 1}

static const struct jwks_row jwks_rows[] = {
    JOK("one RSA key", KEYS(RSA1), 1, 0),
    JOK("P-256 key", KEYS(P256("\"crv\":\"P-256\"")), 1, 0),
    JOK("P-384 key", KEYS("{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"$P384_X\",\"y\":\"$P384_Y\"}"),
        1, 0),
    JOK("Ed25519 key", KEYS("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"$ED25519_X\"}"), 1, 0),
    JOK("Ed448 key", KEYS("{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"$ED448_X\"}"), 1, 0),
    JOK("use sig, key_ops verify, alg RS256, x5c ignored",
        KEYS(RSA1_WITH("\"use\":\"sig\",\"key_ops\":[\"verify\"],\"alg\":\"RS256\","
                       "\"x5c\":[\"MIIB\"]")), 1, 0),
    JOK("same kid twice (RSA and EC)", KEYS(RSA1 "," P256("\"kid\":\"r\",\"crv\":\"P-256\"")), 2,
        0),
    JBAD("not JSON", "{\"keys\":[", JSON),
    JBAD("empty document", "", JSON),
    JBAD("a JSON string", "\"keys\"", JSON),
    JBAD("trailing data", KEYS(RSA1) " x", JSON),
    JBAD("duplicate keys member", "{\"keys\":[],\"keys\":[" RSA1 "]}", JSON),
    JBAD("duplicate member in a key",
         KEYS("{\"kty\":\"RSA\",\"kty\":\"EC\",\"n\":\"$RSA1_N\",\"e\":\"$RSA1_E\"}"), JSON),
    JBAD("NUL escape in a kid", KEYS("{\"kty\":\"RSA\",\"kid\":\"a\\u0000\",\"n\":\"$RSA1_N\","
                                     "\"e\":\"$RSA1_E\"}"), JSON),
    JBAD("not an object (array)", "[" RSA1 "]", FORMAT),
    JBAD("no keys member", "{\"key\":[" RSA1 "]}", FORMAT),
    JBAD("keys not an array (object)", "{\"keys\":" RSA1 "}", FORMAT),
    JBAD("keys a string", "{\"keys\":\"$RSA1_N\"}", FORMAT),
    JBAD("keys empty", KEYS(""), NO_USABLE_KEY),
    {"only an unknown kty", KEYS("{\"kty\":\"PQC\",\"pub\":\"AAAA\"}"),
     OAUTH_JWKS_ERR_NO_USABLE_KEY, 0, 0},
    {"only a 1024-bit RSA key", KEYS("{\"kty\":\"RSA\",\"n\":\"$RSA1024_N\",\"e\":\"$RSA1024_E\"}"),
     OAUTH_JWKS_ERR_NO_USABLE_KEY, 0, 0},
    JSKIP("unknown kty skipped", "{\"kty\":\"PQC\",\"kid\":\"q\"}"),
    JSKIP("kty missing", "{\"kid\":\"q\",\"n\":\"$RSA1_N\",\"e\":\"$RSA1_E\"}"),
    JSKIP("element not an object", "\"$RSA1_N\""),
    JSKIP("RSA 1024-bit refused", "{\"kty\":\"RSA\",\"n\":\"$RSA1024_N\",\"e\":\"$RSA1024_E\"}"),
    JSKIP("RSA missing n", "{\"kty\":\"RSA\",\"e\":\"$RSA1_E\"}"),
    JSKIP("RSA missing e", "{\"kty\":\"RSA\",\"n\":\"$RSA1_N\"}"),
    JSKIP("RSA n a number", "{\"kty\":\"RSA\",\"n\":12345,\"e\":\"$RSA1_E\"}"),
    JSKIP("RSA n with base64 padding", "{\"kty\":\"RSA\",\"n\":\"$RSA1_N_PAD\",\"e\":\"AQAB\"}"),
    JSKIP("RSA n with a '+'", "{\"kty\":\"RSA\",\"n\":\"$RSA1_N_PLUS\",\"e\":\"AQAB\"}"),
    JSKIP("RSA e even (65536)", "{\"kty\":\"RSA\",\"n\":\"$RSA1_N\",\"e\":\"AQAA\"}"),
    JSKIP("RSA e of 1", "{\"kty\":\"RSA\",\"n\":\"$RSA1_N\",\"e\":\"AQ\"}"),
    JSKIP("RSA e of 9 bytes", "{\"kty\":\"RSA\",\"n\":\"$RSA1_N\",\"e\":\"AQAAAAAAAAAB\"}"),
    JSKIP("RSA with a private exponent d",
          "{\"kty\":\"RSA\",\"n\":\"$RSA1_N\",\"e\":\"$RSA1_E\",\"d\":\"AQAB\"}"),
    JSKIP("EC P-521 not supported", P256("\"crv\":\"P-521\"")),
    JSKIP("EC secp256k1 not supported", P256("\"crv\":\"secp256k1\"")),
    JSKIP("EC crv missing", P256("\"kid\":\"e\"")),
    JSKIP("EC point not on the curve",
          "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"$P256_X\",\"y\":\"$P256_YBAD\"}"),
    JSKIP("EC x of the wrong size (48 bytes on P-256)",
          "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"$P384_X\",\"y\":\"$P256_Y\"}"),
    JSKIP("EC y short (31 bytes)",
          "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"$P256_X\",\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}"),
    JSKIP("EC y missing", "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"$P256_X\"}"),
    JSKIP("EC P-256 with alg ES384", P256("\"crv\":\"P-256\",\"alg\":\"ES384\"")),
    JSKIP("OKP X25519 (not a signature curve)",
          "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"$ED25519_X\"}"),
    JSKIP("OKP Ed25519 x of 48 bytes", "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"$P384_X\"}"),
    JSKIP("oct key (never from a key set)", "{\"kty\":\"oct\",\"k\":\"$SECRET_K\"}"),
    JSKIP("use enc", RSA1_WITH("\"use\":\"enc\"")),
    JSKIP("use a number", RSA1_WITH("\"use\":1")),
    JSKIP("key_ops without verify", RSA1_WITH("\"key_ops\":[\"sign\"]")),
    JSKIP("key_ops not an array", RSA1_WITH("\"key_ops\":\"verify\"")),
    JSKIP("alg none", RSA1_WITH("\"alg\":\"none\"")),
    JSKIP("alg HS256 on an RSA key", RSA1_WITH("\"alg\":\"HS256\"")),
    JSKIP("alg ES256 on an RSA key", RSA1_WITH("\"alg\":\"ES256\"")),
    JSKIP("alg unknown (RS1)", RSA1_WITH("\"alg\":\"RS1\"")),
    JSKIP("kid a number", "{\"kty\":\"RSA\",\"kid\":7,\"n\":\"$RSA1_N\",\"e\":\"$RSA1_E\"}"),
    JSKIP("kid empty", "{\"kty\":\"RSA\",\"kid\":\"\",\"n\":\"$RSA1_N\",\"e\":\"$RSA1_E\"}"),
};

static void run_jwks_row(void **state)
{
    const struct jwks_row *r = *state;
    struct oauth_err err = {0};
    char *json = expand(r->json);
    struct oauth_jwks *set = (struct oauth_jwks *)(void *)err.reason; /* must be overwritten */
    enum oauth_jwks_status st = oauth_jwks_parse(json, strlen(json), &set, &err);
    size_t refused = 0, usable;

    print_message("# %-52s -> %s%s%s\n", r->name, oauth_jwks_status_text(st),
                  *err.reason ? ": " : "", err.reason);
    free(json);
    if (st != r->expect)
        fail_msg("%s: status %s (%s), expected %s", r->name, oauth_jwks_status_text(st), err.reason,
                 oauth_jwks_status_text(r->expect));
    if (st != OAUTH_JWKS_OK) {
        assert_null(set);
        assert_true(strlen(err.reason) > 0);
        return;
    }
    usable = oauth_jwks_count(set, &refused);
    if (usable != r->usable || refused != r->refused)
        fail_msg("%s: %zu usable, %zu refused (%s)", r->name, usable, refused, err.reason);
    if (refused)
        assert_true(strlen(err.reason) > 0);
    oauth_jwks_free(set);
}

/* ---- the policy table ------------------------------------------------------ */

enum ptweak {
    PT_NONE, PT_SECRET, PT_ALGS_ES, PT_NO_ISSUERS, PT_EMPTY_ISSUER, PT_NULL_ISSUERS,
    PT_NO_AUDIENCES, PT_EMPTY_AUDIENCE, PT_SCOPE_SPACE, PT_EMPTY_CLAIM, PT_LEEWAY_NEG,
    PT_LEEWAY_BIG, PT_LEEWAY_MAX, PT_TOKEN_CAP, PT_USER_CAP, PT_SHORT_SECRET, PT_SECRET_NO_PTR,
    PT_HS256_NO_SECRET, PT_UNKNOWN_ALG_BIT,
};

struct policy_row {
    const char *name;
    enum ptweak tweak;
    enum oauth_jwt_status expect;
};

static const struct policy_row policy_rows[] = {
    {"policy: the test's own", PT_NONE, OAUTH_JWT_OK},
    {"policy: with an HMAC secret", PT_SECRET, OAUTH_JWT_OK},
    {"policy: only ES256", PT_ALGS_ES, OAUTH_JWT_OK},
    {"policy: leeway at the maximum", PT_LEEWAY_MAX, OAUTH_JWT_OK},
    {"policy: no issuer (empty allow-list)", PT_NO_ISSUERS, OAUTH_JWT_ERR_POLICY},
    {"policy: an empty issuer", PT_EMPTY_ISSUER, OAUTH_JWT_ERR_POLICY},
    {"policy: issuer count without a list", PT_NULL_ISSUERS, OAUTH_JWT_ERR_POLICY},
    {"policy: no audience", PT_NO_AUDIENCES, OAUTH_JWT_ERR_POLICY},
    {"policy: an empty audience", PT_EMPTY_AUDIENCE, OAUTH_JWT_ERR_POLICY},
    {"policy: a scope holding a space", PT_SCOPE_SPACE, OAUTH_JWT_ERR_POLICY},
    {"policy: empty user claim name", PT_EMPTY_CLAIM, OAUTH_JWT_ERR_POLICY},
    {"policy: negative leeway", PT_LEEWAY_NEG, OAUTH_JWT_ERR_POLICY},
    {"policy: leeway over the maximum", PT_LEEWAY_BIG, OAUTH_JWT_ERR_POLICY},
    {"policy: token cap over 1 MiB", PT_TOKEN_CAP, OAUTH_JWT_ERR_POLICY},
    {"policy: user cap over 4096", PT_USER_CAP, OAUTH_JWT_ERR_POLICY},
    {"policy: HMAC secret of 31 bytes", PT_SHORT_SECRET, OAUTH_JWT_ERR_POLICY},
    {"policy: HMAC secret length without a secret", PT_SECRET_NO_PTR, OAUTH_JWT_ERR_POLICY},
    {"policy: HS256 allowed without a secret", PT_HS256_NO_SECRET, OAUTH_JWT_ERR_POLICY},
    {"policy: unknown algorithm bit", PT_UNKNOWN_ALG_BIT, OAUTH_JWT_ERR_POLICY},
};

static void run_policy_row(void **state)
{
    static const char *const empty[] = {""}, *const spaced[] = {"mail read"};
    const struct policy_row *r = *state;
    struct oauth_jwt_policy p;
    struct oauth_jwt_result res;
    struct oauth_err err = {0};
    enum oauth_jwt_status st;

    base_policy(&p);
    switch (r->tweak) {
    case PT_NONE: break;
    case PT_SECRET:
        p.hmac_secret = (const unsigned char *)secret;
        p.hmac_secret_len = strlen(secret);
        break;
    case PT_ALGS_ES: p.algs = OAUTH_JWT_ALG_BIT(OAUTH_JWT_ES256); break;
    case PT_NO_ISSUERS: p.n_issuers = 0; break;
    case PT_EMPTY_ISSUER: p.issuers = empty; p.n_issuers = 1; break;
    case PT_NULL_ISSUERS: p.issuers = NULL; break;
    case PT_NO_AUDIENCES: p.n_audiences = 0; break;
    case PT_EMPTY_AUDIENCE: p.audiences = empty; p.n_audiences = 1; break;
    case PT_SCOPE_SPACE: p.scopes = spaced; break;
    case PT_EMPTY_CLAIM: p.user_claim = ""; break;
    case PT_LEEWAY_NEG: p.leeway = -1; break;
    case PT_LEEWAY_BIG: p.leeway = OAUTH_JWT_MAX_LEEWAY + 1; break;
    case PT_LEEWAY_MAX: p.leeway = OAUTH_JWT_MAX_LEEWAY; break;
    case PT_TOKEN_CAP: p.max_token_len = OAUTH_JWT_MAX_TOKEN_CAP + 1; break;
    case PT_USER_CAP: p.max_user_len = OAUTH_JWT_MAX_USER_CAP + 1; break;
    case PT_SHORT_SECRET:
        p.hmac_secret = (const unsigned char *)secret;
        p.hmac_secret_len = 31;
        break;
    case PT_SECRET_NO_PTR: p.hmac_secret_len = 32; break;
    case PT_HS256_NO_SECRET: p.algs = OAUTH_JWT_ALG_BIT(OAUTH_JWT_HS256); break;
    case PT_UNKNOWN_ALG_BIT: p.algs = OAUTH_JWT_ALG_BIT(OAUTH_JWT_ALG_COUNT); break;
    }
    st = oauth_jwt_policy_check(&p, &err);
    print_message("# %-52s -> %s%s%s\n", r->name, oauth_jwt_status_text(st),
                  *err.reason ? ": " : "", err.reason);
    assert_int_equal(st, r->expect);
    assert_true(st == OAUTH_JWT_OK ? *err.reason == '\0' : *err.reason != '\0');
    assert_int_equal(err.cls, st == OAUTH_JWT_OK ? OAUTH_OK : OAUTH_ERR_CONFIG);
    /* validate refuses the same policy before it looks at the token */
    st = oauth_jwt_validate("x", 1, fx.set, &p, NOW, &res, &err);
    if (r->expect == OAUTH_JWT_ERR_POLICY)
        assert_int_equal(st, OAUTH_JWT_ERR_POLICY);
    else
        assert_int_equal(st, OAUTH_JWT_ERR_MALFORMED);
    assert_null(res.user);
}

/* ---- the rest ------------------------------------------------------------- */

static struct buf valid_token(const char *header, const char *payload, enum key key, int how)
{
    struct row r = {"", header, payload, key, how, 0, NULL, OAUTH_JWT_OK, NULL};
    return make_token(&r);
}

/* The cap is inclusive: a token of exactly max_token_len bytes passes. */
static void test_token_cap_boundary(void **state)
{
    struct buf tok = valid_token(H("ES256", "ec256"), NULL, K_EC256, OAUTH_JWT_ES256);
    struct oauth_jwt_policy p;
    struct oauth_jwt_result res;
    struct oauth_err err = {0};

    (void)state;
    base_policy(&p);
    p.max_token_len = tok.len;
    assert_int_equal(oauth_jwt_validate(tok.p, tok.len, fx.set, &p, NOW, &res, &err),
                     OAUTH_JWT_OK);
    oauth_jwt_result_clear(&res);
    p.max_token_len = tok.len - 1;
    assert_int_equal(oauth_jwt_validate(tok.p, tok.len, fx.set, &p, NOW, &res, &err),
                     OAUTH_JWT_ERR_TOO_LARGE);
    /* the length given counts, not a NUL inside the buffer */
    p.max_token_len = 0;
    assert_int_not_equal(oauth_jwt_validate(tok.p, tok.len - 1, fx.set, &p, NOW, &res, &err),
                         OAUTH_JWT_OK);
    free(tok.p);
}

/* The token passed without a NUL after it, at the end of a heap block,
 * so valgrind catches any read past len. */
static void test_no_overread(void **state)
{
    struct buf tok = valid_token(H("EdDSA", "ed25519"), NULL, K_ED25519, OAUTH_JWT_EDDSA);
    struct oauth_jwt_policy p;
    struct oauth_jwt_result res;
    char *exact = malloc(tok.len);

    (void)state;
    memcpy(exact, tok.p, tok.len);
    base_policy(&p);
    assert_int_equal(oauth_jwt_validate(exact, tok.len, fx.set, &p, NOW, &res, NULL),
                     OAUTH_JWT_OK);
    assert_string_equal(res.user, ALICE);
    assert_int_equal(res.exp, 1700000600);
    assert_int_equal(res.alg, OAUTH_JWT_EDDSA);
    oauth_jwt_result_clear(&res);
    free(exact);
    free(tok.p);
}

/* No key set yet (the plugin's first fetch failed): a kid asks for a
 * refetch, no kid is no key; HS256 with a secret needs no set. */
static void test_null_set(void **state)
{
    struct buf t1 = valid_token(H("RS256", "rsa1"), NULL, K_RSA1, RS);
    struct buf t2 = valid_token(H0("RS256"), NULL, K_RSA1, RS);
    struct buf t3 = valid_token(H0("HS256"), NULL, K_SECRET, OAUTH_JWT_HS256);
    struct oauth_jwt_policy p;
    struct oauth_jwt_result res;
    struct oauth_err err = {0};

    (void)state;
    base_policy(&p);
    assert_int_equal(oauth_jwt_validate(t1.p, t1.len, NULL, &p, NOW, &res, &err),
                     OAUTH_JWT_ERR_UNKNOWN_KID);
    assert_int_equal(err.code, OAUTH_JWT_ERR_UNKNOWN_KID); /* the verifier refetches on it */
    assert_int_equal(err.cls, OAUTH_ERR_CLIENT);
    assert_int_equal(oauth_jwt_validate(t2.p, t2.len, NULL, &p, NOW, &res, &err),
                     OAUTH_JWT_ERR_NO_KEY);
    p.hmac_secret = (const unsigned char *)secret;
    p.hmac_secret_len = strlen(secret);
    assert_int_equal(oauth_jwt_validate(t3.p, t3.len, NULL, &p, NOW, &res, &err),
                     OAUTH_JWT_OK);
    assert_int_equal(res.alg, OAUTH_JWT_HS256);
    oauth_jwt_result_clear(&res);
    /* NULL and empty inputs */
    assert_int_equal(oauth_jwt_validate(NULL, 0, fx.set, &p, NOW, &res, &err),
                     OAUTH_JWT_ERR_MALFORMED);
    assert_int_equal(oauth_jwt_validate("", 0, fx.set, &p, NOW, &res, &err),
                     OAUTH_JWT_ERR_MALFORMED);
    assert_int_equal(oauth_jwt_validate(t3.p, t3.len, fx.set, NULL, NOW, &res, &err),
                     OAUTH_JWT_ERR_POLICY);
    assert_int_equal(oauth_jwt_validate(t3.p, t3.len, fx.set, &p, NOW, NULL, &err),
                     OAUTH_JWT_ERR_INTERNAL);
    /* no err at all: the status still says it */
    assert_int_equal(oauth_jwt_validate("a.b", 3, fx.set, &p, NOW, &res, NULL),
                     OAUTH_JWT_ERR_MALFORMED);
    free(t1.p);
    free(t2.p);
    free(t3.p);
}

/* oauth_jwt_check_claims alone, as an introspection response would use it. */
static void test_check_claims(void **state)
{
    struct oauth_jwt_policy p;
    struct oauth_jwt_result res = {0};
    json_error_t jerr;
    json_t *c = json_loads("{\"active\":true," ISS "," AUD "," EXP "," IAT "," USER "," SCOPE "}",
                           0, &jerr);
    struct oauth_err err = {0};

    (void)state;
    assert_non_null(c);
    base_policy(&p);
    assert_int_equal(oauth_jwt_check_claims(c, &p, NOW, &res, &err), OAUTH_JWT_OK);
    assert_string_equal(res.user, ALICE);
    assert_int_equal(res.exp, 1700000600);
    oauth_jwt_result_clear(&res);
    assert_int_equal(oauth_jwt_check_claims(c, &p, 1700000700, &res, &err),
                     OAUTH_JWT_ERR_EXPIRED);
    assert_null(res.user);
    json_decref(c);
    c = json_loads("[1]", 0, &jerr);
    assert_int_equal(oauth_jwt_check_claims(c, &p, NOW, &res, &err),
                     OAUTH_JWT_ERR_MALFORMED);
    json_decref(c);
    assert_int_equal(oauth_jwt_check_claims(NULL, &p, NOW, &res, &err),
                     OAUTH_JWT_ERR_MALFORMED);
}

static void test_jwks_limits(void **state)
{
    struct buf doc = {0};
    struct oauth_jwks *set = NULL;
    struct oauth_err err = {0};
    char *key = expand(RSA1);
    size_t i;

    (void)state;
    /* OAUTH_JWKS_MAX_KEYS elements load, one more does not */
    puts_(&doc, "{\"keys\":[");
    for (i = 0; i < OAUTH_JWKS_MAX_KEYS; i++) {
        if (i)
            puts_(&doc, ",");
        puts_(&doc, i % 2 ? key : "{\"kty\":\"PQC\"}");
    }
    puts_(&doc, "]}");
    assert_int_equal(oauth_jwks_parse(doc.p, doc.len, &set, &err), OAUTH_JWKS_OK);
    assert_int_equal(oauth_jwks_count(set, NULL), OAUTH_JWKS_MAX_KEYS / 2);
    oauth_jwks_free(set);
    doc.len -= 2;
    puts_(&doc, ",{\"kty\":\"PQC\"}]}");
    assert_int_equal(oauth_jwks_parse(doc.p, doc.len, &set, &err),
                     OAUTH_JWKS_ERR_TOO_LARGE);
    assert_null(set);
    /* the document cap is checked before anything is read */
    assert_int_equal(oauth_jwks_parse(doc.p, OAUTH_JWKS_MAX_DOC + 1, &set, &err),
                     OAUTH_JWKS_ERR_TOO_LARGE);
    assert_int_equal(oauth_jwks_parse(NULL, 0, &set, &err), OAUTH_JWKS_ERR_JSON);
    assert_int_equal(oauth_jwks_parse(doc.p, doc.len, NULL, &err),
                     OAUTH_JWKS_ERR_INTERNAL);
    free(doc.p);
    free(key);
}

/* The plugin swaps sets while other threads hold the old one. */
static void test_jwks_refcount(void **state)
{
    struct oauth_err err = {0};
    char *json = expand(KEYS(RSA1));
    struct oauth_jwks *set, *again;
    EVP_PKEY *pk;

    (void)state;
    assert_int_equal(oauth_jwks_parse(json, strlen(json), &set, &err), OAUTH_JWKS_OK);
    assert_string_equal(err.reason, "");
    again = oauth_jwks_ref(set);
    assert_ptr_equal(again, set);
    oauth_jwks_free(set);
    assert_int_equal(oauth_jwks_find(again, "r", OAUTH_JWT_RS256, &pk), OAUTH_JWKS_OK);
    assert_non_null(pk);
    assert_int_equal(oauth_jwks_find(again, "r", OAUTH_JWT_HS256, &pk), OAUTH_JWKS_KEY_MISMATCH);
    assert_null(pk);
    assert_int_equal(oauth_jwks_find(again, NULL, OAUTH_JWT_PS512, &pk), OAUTH_JWKS_OK);
    assert_int_equal(oauth_jwks_find(again, NULL, OAUTH_JWT_ES256, &pk), OAUTH_JWKS_NO_KEY);
    assert_int_equal(oauth_jwks_find(again, "x", OAUTH_JWT_RS256, &pk), OAUTH_JWKS_UNKNOWN_KID);
    oauth_jwks_free(again);
    oauth_jwks_free(NULL);
    assert_null(oauth_jwks_ref(NULL));
    assert_int_equal(oauth_jwks_count(NULL, NULL), 0);
    free(json);
}

static void test_names(void **state)
{
    int a;
    enum oauth_jwt_status st;

    (void)state;
    for (a = 0; a < OAUTH_JWT_ALG_COUNT; a++) {
        const char *n = oauth_jwt_alg_name((enum oauth_jwt_alg)a);
        assert_int_equal(oauth_jwt_alg_from_name(n, strlen(n)), a);
    }
    assert_int_equal(oauth_jwt_alg_from_name("none", 4), -1);
    assert_int_equal(oauth_jwt_alg_from_name("eddsa", 5), -1);
    assert_int_equal(oauth_jwt_alg_from_name("RS256\0", 6), -1);
    assert_int_equal(oauth_jwt_alg_from_name("RS25", 4), -1);
    assert_int_equal(oauth_jwt_alg_from_name(NULL, 0), -1);
    assert_string_equal(oauth_jwt_alg_name(OAUTH_JWT_ALG_COUNT), "?");
    for (st = OAUTH_JWT_OK; st <= OAUTH_JWT_ERR_INTERNAL; st++)
        assert_true(strlen(oauth_jwt_status_text(st)) > 0);
    for (a = OAUTH_JWKS_OK; a <= OAUTH_JWKS_KEY_MISMATCH; a++)
        assert_true(strlen(oauth_jwks_status_text((enum oauth_jwks_status)a)) > 0);
}

int main(void)
{
    static const struct CMUnitTest misc[] = {
        cmocka_unit_test(test_token_cap_boundary),
        cmocka_unit_test(test_no_overread),
        cmocka_unit_test(test_null_set),
        cmocka_unit_test(test_check_claims),
        cmocka_unit_test(test_jwks_limits),
        cmocka_unit_test(test_jwks_refcount),
        cmocka_unit_test(test_names),
    };
    const size_t nr = sizeof(rows) / sizeof(rows[0]),
                 nj = sizeof(jwks_rows) / sizeof(jwks_rows[0]),
                 np = sizeof(policy_rows) / sizeof(policy_rows[0]),
                 nm = sizeof(misc) / sizeof(misc[0]);
    struct CMUnitTest *t = calloc(nr + nj + np + nm, sizeof(*t));
    size_t i, n = 0;
    int rc;

    if (!t)
        return 1;
    for (i = 0; i < nr; i++)
        t[n++] = (struct CMUnitTest){rows[i].name, run_row, NULL, NULL, (void *)&rows[i]};
    for (i = 0; i < nj; i++)
        t[n++] = (struct CMUnitTest){jwks_rows[i].name, run_jwks_row, NULL, NULL,
                                     (void *)&jwks_rows[i]};
    for (i = 0; i < np; i++)
        t[n++] = (struct CMUnitTest){policy_rows[i].name, run_policy_row, NULL, NULL,
                                     (void *)&policy_rows[i]};
    for (i = 0; i < nm; i++)
        t[n++] = misc[i];
    rc = _cmocka_run_group_tests("oauth_jwt", t, n, setup, teardown);
    free(t);
    return rc;
}
