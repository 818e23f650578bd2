/* oauth_mint: test keys and JWTs for the OAuth tests (OpenSSL 3, jansson).
 *
 *   oauth_mint keygen --keys DIR [--key KID:ALG]...
 *       Generates private keys into DIR/<kid>.pem (PKCS#8 PEM, mode 0600) and
 *       adds their public halves to DIR/jwks.json (kid, kty, alg, use "sig";
 *       an existing key with the same kid is replaced).  Without --key: the
 *       set  rsa:RS256  ec256:ES256  ec384:ES384  ed25519:EdDSA.  ALG picks
 *       the key type: RS* and PS* an RSA 2048 key, ES256 P-256, ES384 P-384,
 *       ES512 P-521, EdDSA Ed25519.
 *
 *   oauth_mint sign --keys DIR --kid KID [--alg ALG] --claims JSON
 *                   [--header JSON] [--ttl SECONDS]
 *                   [--secret STRING | --secret-file FILE]
 *       Prints a compact JWS (RFC 7515) with header {"alg","typ":"JWT","kid"}
 *       and the claims as given.  ALG defaults to the key's alg in jwks.json
 *       and may differ from it (for negative tests): RS256/384/512,
 *       PS256/384/512 (salt length = digest length, RFC 7518 3.5),
 *       ES256/384/512 (the JOSE raw r||s form, RFC 7518 3.4), EdDSA, none
 *       (empty signature), HS256/384/512 keyed with --secret or the bytes of
 *       --secret-file (e.g. the RSA public key PEM, the classic confusion).
 *       --header members are merged into the header; a member set to null is
 *       removed (e.g. {"kid":null}).  --ttl adds iat=now and exp=now+SECONDS
 *       unless the claims have them.
 *
 *   oauth_mint pubkey --keys DIR --kid KID
 *       Prints the public key as a SubjectPublicKeyInfo PEM.
 *
 * A test tool: it uses OpenSSL's default library context. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <sasl-mechs/base64.h>

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "oauth_mint: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    ERR_print_errors_fp(stderr);
    exit(1);
}

static void usage(void) __attribute__((noreturn));
static void usage(void)
{
    fprintf(stderr,
            "usage: oauth_mint keygen --keys DIR [--key KID:ALG]...\n"
            "       oauth_mint sign --keys DIR --kid KID [--alg ALG] --claims JSON\n"
            "                       [--header JSON] [--ttl SECONDS]\n"
            "                       [--secret STRING | --secret-file FILE]\n"
            "       oauth_mint pubkey --keys DIR --kid KID\n");
    exit(2);
}

/* ---- small helpers --------------------------------------------------------- */

static char *b64url(const unsigned char *p, size_t n)
{
    size_t m = sm_b64_encoded_len(SM_B64_URL, n), outl;
    char *s = malloc(m + 1);

    if (!s || sm_b64_encode(SM_B64_URL, p, n, s, m + 1, &outl) != 0)
        die("base64url encoding failed");
    return s;
}

static char *b64url_bn(const BIGNUM *bn, int width)
{
    int n = width > 0 ? width : BN_num_bytes(bn);
    unsigned char *buf = malloc((size_t)n + 1);
    char *s;

    if (!buf || BN_bn2binpad(bn, buf, n) != n)
        die("big number conversion failed");
    s = b64url(buf, (size_t)n);
    free(buf);
    return s;
}

static char *key_path(const char *dir, const char *kid)
{
    size_t n = strlen(dir) + strlen(kid) + 8;
    char *p = malloc(n);
    const char *c;

    for (c = kid; *c; c++)
        if (*c == '/' || *c == '\0' || (c == kid && *c == '.'))
            die("kid %s cannot be a file name", kid);
    if (!p)
        die("out of memory");
    snprintf(p, n, "%s/%s.pem", dir, kid);
    return p;
}

static char *jwks_path(const char *dir)
{
    size_t n = strlen(dir) + 16;
    char *p = malloc(n);

    if (!p)
        die("out of memory");
    snprintf(p, n, "%s/jwks.json", dir);
    return p;
}

struct alg {
    const char *name;
    const char *md;   /* digest, NULL for EdDSA and none */
    char kind;        /* 'R' RSA PKCS#1 v1.5, 'P' RSA-PSS, 'E' ECDSA, 'D' EdDSA, 'H' HMAC, 'N' none */
    const char *curve;
    int width;        /* ECDSA: bytes of r and of s */
};

static const struct alg ALGS[] = {
    {"RS256", "SHA256", 'R', NULL, 0}, {"RS384", "SHA384", 'R', NULL, 0},
    {"RS512", "SHA512", 'R', NULL, 0}, {"PS256", "SHA256", 'P', NULL, 0},
    {"PS384", "SHA384", 'P', NULL, 0}, {"PS512", "SHA512", 'P', NULL, 0},
    {"ES256", "SHA256", 'E', "P-256", 32}, {"ES384", "SHA384", 'E', "P-384", 48},
    {"ES512", "SHA512", 'E', "P-521", 66}, {"EdDSA", NULL, 'D', NULL, 0},
    {"HS256", "SHA256", 'H', NULL, 0}, {"HS384", "SHA384", 'H', NULL, 0},
    {"HS512", "SHA512", 'H', NULL, 0}, {"none", NULL, 'N', NULL, 0},
};

static const struct alg *find_alg(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(ALGS) / sizeof(ALGS[0]); i++)
        if (strcmp(ALGS[i].name, name) == 0)
            return &ALGS[i];
    die("unknown alg %s", name);
}

/* ---- keygen ------------------------------------------------------------------- */

static json_t *public_jwk(EVP_PKEY *pk, const char *kid, const struct alg *a)
{
    json_t *j = json_object();
    BIGNUM *x = NULL, *y = NULL;
    char *s1, *s2;

    json_object_set_new(j, "kid", json_string(kid));
    json_object_set_new(j, "use", json_string("sig"));
    json_object_set_new(j, "alg", json_string(a->name));
    if (a->kind == 'R' || a->kind == 'P') {
        if (!EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &x)
            || !EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &y))
            die("RSA parameters unavailable");
        s1 = b64url_bn(x, 0);
        s2 = b64url_bn(y, 0);
        json_object_set_new(j, "kty", json_string("RSA"));
        json_object_set_new(j, "n", json_string(s1));
        json_object_set_new(j, "e", json_string(s2));
    } else if (a->kind == 'E') {
        if (!EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_X, &x)
            || !EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_Y, &y))
            die("EC parameters unavailable");
        s1 = b64url_bn(x, a->width);
        s2 = b64url_bn(y, a->width);
        json_object_set_new(j, "kty", json_string("EC"));
        json_object_set_new(j, "crv", json_string(a->curve));
        json_object_set_new(j, "x", json_string(s1));
        json_object_set_new(j, "y", json_string(s2));
    } else {
        unsigned char raw[64];
        size_t n = sizeof(raw);
        if (!EVP_PKEY_get_raw_public_key(pk, raw, &n))
            die("Ed25519 public key unavailable");
        s1 = b64url(raw, n);
        s2 = NULL;
        json_object_set_new(j, "kty", json_string("OKP"));
        json_object_set_new(j, "crv", json_string("Ed25519"));
        json_object_set_new(j, "x", json_string(s1));
    }
    free(s1);
    free(s2);
    BN_free(x);
    BN_free(y);
    return j;
}

static EVP_PKEY *generate(const struct alg *a)
{
    EVP_PKEY *pk = NULL;

    switch (a->kind) {
    case 'R':
    case 'P': pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048); break;
    case 'E': pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", a->curve); break;
    case 'D': pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"); break;
    default: die("alg %s has no key pair to generate", a->name);
    }
    if (!pk)
        die("key generation failed for %s", a->name);
    return pk;
}

static void write_text(const char *path, const char *text, mode_t mode)
{
    size_t n = strlen(path) + 8;
    char *tmp = malloc(n);
    FILE *f;

    if (!tmp)
        die("out of memory");
    snprintf(tmp, n, "%s.tmp", path);
    if (!(f = fopen(tmp, "w")) || chmod(tmp, mode) != 0 || fputs(text, f) < 0
        || fclose(f) != 0 || rename(tmp, path) != 0)
        die("cannot write %s", path);
    free(tmp);
}

static int keygen(const char *dir, int nkeys, char **keys)
{
    static char *defaults[] = {"rsa:RS256", "ec256:ES256", "ec384:ES384", "ed25519:EdDSA"};
    char *jp = jwks_path(dir);
    json_t *jwks, *arr;
    json_error_t jerr;
    char *text;
    int i;

    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        die("cannot create %s", dir);
    if (nkeys == 0) {
        nkeys = 4;
        keys = defaults;
    }
    jwks = json_load_file(jp, JSON_REJECT_DUPLICATES, &jerr);
    if (!jwks)
        jwks = json_pack("{s:[]}", "keys");
    arr = json_object_get(jwks, "keys");
    if (!json_is_array(arr))
        die("%s has no keys array", jp);
    for (i = 0; i < nkeys; i++) {
        char *spec = strdup(keys[i]), *colon = spec ? strchr(spec, ':') : NULL;
        const struct alg *a;
        EVP_PKEY *pk;
        char *kp;
        FILE *f;
        size_t k;

        if (!colon)
            die("--key %s: KID:ALG expected", keys[i]);
        *colon = '\0';
        a = find_alg(colon + 1);
        pk = generate(a);
        kp = key_path(dir, spec);
        if (!(f = fopen(kp, "w")) || chmod(kp, 0600) != 0
            || !PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL) || fclose(f) != 0)
            die("cannot write %s", kp);
        for (k = 0; k < json_array_size(arr); k++) {
            json_t *kid = json_object_get(json_array_get(arr, k), "kid");
            if (json_is_string(kid) && strcmp(json_string_value(kid), spec) == 0) {
                json_array_remove(arr, k);
                break;
            }
        }
        json_array_append_new(arr, public_jwk(pk, spec, a));
        EVP_PKEY_free(pk);
        free(kp);
        free(spec);
    }
    if (!(text = json_dumps(jwks, JSON_INDENT(2))))
        die("out of memory");
    write_text(jp, text, 0644);
    free(text);
    json_decref(jwks);
    free(jp);
    return 0;
}

/* ---- sign ----------------------------------------------------------------------- */

static EVP_PKEY *load_key(const char *dir, const char *kid)
{
    char *kp = key_path(dir, kid);
    FILE *f = fopen(kp, "r");
    EVP_PKEY *pk;

    if (!f)
        die("no key file %s", kp);
    pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!pk)
        die("cannot read %s", kp);
    free(kp);
    return pk;
}

static const char *jwks_alg(const char *dir, const char *kid)
{
    char *jp = jwks_path(dir);
    static char alg[16];
    json_error_t jerr;
    json_t *jwks = json_load_file(jp, 0, &jerr);
    size_t k;

    alg[0] = '\0';
    for (k = 0; jwks && k < json_array_size(json_object_get(jwks, "keys")); k++) {
        json_t *key = json_array_get(json_object_get(jwks, "keys"), k);
        json_t *id = json_object_get(key, "kid"), *a = json_object_get(key, "alg");
        if (json_is_string(id) && strcmp(json_string_value(id), kid) == 0 && json_is_string(a))
            snprintf(alg, sizeof(alg), "%s", json_string_value(a));
    }
    json_decref(jwks);
    free(jp);
    if (!alg[0])
        die("kid %s not in jwks.json (give --alg)", kid);
    return alg;
}

static unsigned char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = malloc(1 << 20);

    if (!f || !buf)
        die("cannot read %s", path);
    *n = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

/* signature over in[0..n) */
static unsigned char *sign(const struct alg *a, EVP_PKEY *pk, const unsigned char *key,
                           size_t keylen, const char *in, size_t n, size_t *siglen)
{
    unsigned char *sig = NULL;
    EVP_MD_CTX *ctx;
    EVP_PKEY_CTX *pctx = NULL;

    if (a->kind == 'N') {
        *siglen = 0;
        return malloc(1);
    }
    if (a->kind == 'H') {
        sig = malloc(EVP_MAX_MD_SIZE);
        if (!sig || !EVP_Q_mac(NULL, "HMAC", NULL, a->md, NULL, key, keylen,
                               (const unsigned char *)in, n, sig, EVP_MAX_MD_SIZE, siglen))
            die("HMAC failed for %s", a->name);
        return sig;
    }
    if (!(ctx = EVP_MD_CTX_new())
        || EVP_DigestSignInit_ex(ctx, &pctx, a->md, NULL, NULL, pk, NULL) != 1)
        die("cannot sign with %s (is the key of that type?)", a->name);
    if (a->kind == 'P'
        && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1
            || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
        die("cannot set PSS parameters for %s", a->name);
    if (EVP_DigestSign(ctx, NULL, siglen, (const unsigned char *)in, n) != 1
        || !(sig = malloc(*siglen))
        || EVP_DigestSign(ctx, sig, siglen, (const unsigned char *)in, n) != 1)
        die("signing failed for %s", a->name);
    EVP_MD_CTX_free(ctx);
    if (a->kind == 'E') {
        /* DER ECDSA-Sig-Value to r||s, each a->width bytes */
        const unsigned char *p = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)*siglen);
        unsigned char *raw = malloc((size_t)a->width * 2);
        if (!es || !raw || BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, a->width) != a->width
            || BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + a->width, a->width) != a->width)
            die("ECDSA signature conversion failed for %s (curve of the key?)", a->name);
        ECDSA_SIG_free(es);
        free(sig);
        sig = raw;
        *siglen = (size_t)a->width * 2;
    }
    return sig;
}

static int cmd_sign(const char *dir, const char *kid, const char *algname, const char *claims_s,
                    const char *header_s, long ttl, const char *secret, const char *secret_file)
{
    const struct alg *a;
    json_t *claims, *hdr, *extra;
    json_error_t jerr;
    EVP_PKEY *pk = NULL;
    unsigned char *key = NULL, *sig;
    size_t keylen = 0, siglen;
    char *hs, *cs, *h64, *c64, *s64, *input;
    const char *k;
    json_t *v;

    if (!claims_s)
        usage();
    if (!algname && !kid)
        die("give --kid or --alg");
    a = find_alg(algname ? algname : jwks_alg(dir, kid));
    if (!(claims = json_loads(claims_s, JSON_REJECT_DUPLICATES, &jerr)) || !json_is_object(claims))
        die("--claims is not a JSON object: %s", jerr.text);
    if (ttl > 0) {
        time_t now = time(NULL);
        if (!json_object_get(claims, "iat"))
            json_object_set_new(claims, "iat", json_integer(now));
        if (!json_object_get(claims, "exp"))
            json_object_set_new(claims, "exp", json_integer(now + ttl));
    }
    hdr = json_object();
    json_object_set_new(hdr, "alg", json_string(a->name));
    json_object_set_new(hdr, "typ", json_string("JWT"));
    if (kid)
        json_object_set_new(hdr, "kid", json_string(kid));
    if (header_s) {
        if (!(extra = json_loads(header_s, JSON_REJECT_DUPLICATES, &jerr))
            || !json_is_object(extra))
            die("--header is not a JSON object: %s", jerr.text);
        json_object_foreach(extra, k, v) {
            if (json_is_null(v))
                json_object_del(hdr, k);
            else
                json_object_set(hdr, k, v);
        }
        json_decref(extra);
    }
    if (a->kind == 'H') {
        if (secret) {
            key = (unsigned char *)strdup(secret);
            keylen = strlen(secret);
        } else if (secret_file) {
            key = read_file(secret_file, &keylen);
        } else {
            die("%s needs --secret or --secret-file", a->name);
        }
    } else if (a->kind != 'N') {
        if (!kid)
            die("%s needs --kid", a->name);
        pk = load_key(dir, kid);
    }
    hs = json_dumps(hdr, JSON_COMPACT);
    cs = json_dumps(claims, JSON_COMPACT);
    if (!hs || !cs)
        die("out of memory");
    h64 = b64url((const unsigned char *)hs, strlen(hs));
    c64 = b64url((const unsigned char *)cs, strlen(cs));
    if (!(input = malloc(strlen(h64) + strlen(c64) + 2)))
        die("out of memory");
    sprintf(input, "%s.%s", h64, c64);
    sig = sign(a, pk, key, keylen, input, strlen(input), &siglen);
    s64 = b64url(sig, siglen);
    printf("%s.%s\n", input, s64);
    free(hs);
    free(cs);
    free(h64);
    free(c64);
    free(s64);
    free(input);
    free(sig);
    free(key);
    EVP_PKEY_free(pk);
    json_decref(hdr);
    json_decref(claims);
    return fflush(stdout) == 0 ? 0 : 1;
}

static int cmd_pubkey(const char *dir, const char *kid)
{
    EVP_PKEY *pk;

    if (!kid)
        usage();
    pk = load_key(dir, kid);
    if (!PEM_write_PUBKEY(stdout, pk))
        die("cannot write the public key of %s", kid);
    EVP_PKEY_free(pk);
    return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *kid = NULL, *alg = NULL, *claims = NULL, *header = NULL;
    const char *secret = NULL, *secret_file = NULL;
    char **keys;
    long ttl = 0;
    int nkeys = 0, i;

    if (argc < 2)
        usage();
    if (!(keys = calloc((size_t)argc, sizeof(*keys))))
        die("out of memory");
    for (i = 2; i < argc; i++) {
        const char *o = argv[i];
        if (i + 1 >= argc)
            usage();
        if (strcmp(o, "--keys") == 0)
            dir = argv[++i];
        else if (strcmp(o, "--kid") == 0)
            kid = argv[++i];
        else if (strcmp(o, "--alg") == 0)
            alg = argv[++i];
        else if (strcmp(o, "--claims") == 0)
            claims = argv[++i];
        else if (strcmp(o, "--header") == 0)
            header = argv[++i];
        else if (strcmp(o, "--ttl") == 0)
            ttl = strtol(argv[++i], NULL, 10);
        else if (strcmp(o, "--secret") == 0)
            secret = argv[++i];
        else if (strcmp(o, "--secret-file") == 0)
            secret_file = argv[++i];
        else if (strcmp(o, "--key") == 0)
            keys[nkeys++] = argv[++i];
        else
            usage();
    }
    if (!dir && !(strcmp(argv[1], "sign") == 0 && alg && (alg[0] == 'H' || !strcmp(alg, "none"))))
        usage();
    if (strcmp(argv[1], "keygen") == 0)
        i = keygen(dir, nkeys, keys);
    else if (strcmp(argv[1], "sign") == 0)
        i = cmd_sign(dir, kid, alg, claims, header, ttl, secret, secret_file);
    else if (strcmp(argv[1], "pubkey") == 0)
        i = cmd_pubkey(dir, kid);
    else
        usage();
    free(keys);
    return i;
}
