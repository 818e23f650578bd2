/* A JSON Web Key Set (RFC 7517) parsed into verification keys, for the
 * local JWT validation of the XOAUTH2 and OAUTHBEARER servers.  Pure
 * library code: no libsasl2 types, malloc/free, keys imported with
 * EVP_PKEY_fromdata in the plugin's private library context
 * (sm_crypto_libctx).  Fetching and caching a JWKS (file or URL, refetch on
 * an unknown kid) is the plugin's; this parses a document held in memory.
 *
 * What a set holds.  Every element of "keys" becomes an entry: either a
 * usable key, or a refused one that keeps its "kid" and the reason it was
 * refused.  RFC 7517 section 5: "Implementations SHOULD ignore JWKs within
 * a JWK Set that use "kty" (key type) values that are not understood by
 * them, that are missing required members, or for which values are out of
 * the supported ranges."  So a key we cannot or will not use is skipped,
 * not fatal to the set; but it stays findable by kid, so that a token
 * naming it fails with OAUTH_JWKS_KEY_UNUSABLE ("the set has that key and
 * we refuse it": an administrator's problem, not worth a refetch) instead
 * of OAUTH_JWKS_UNKNOWN_KID ("perhaps the keys were rotated: refetch").
 *
 * A key is usable when all of these hold (otherwise refused, with why):
 *   - the element is an object; "kid", if present, a string of 1..256 bytes;
 *   - "use", if present, is "sig"; "key_ops", if present, is an array of
 *     strings that includes "verify";
 *   - it carries no private member ("d", "p", "q", "dp", "dq", "qi", "oth",
 *     "k"): a published private key is a compromised key;
 *   - "kty" is RSA with "n" and "e" (strict unpadded base64url), n of
 *     2048..16384 bits and odd, e odd, >= 3 and at most 64 bits;
 *     or EC with "crv" P-256 or P-384 and "x", "y" each exactly the
 *     coordinate size (32/48 bytes, RFC 7518 6.2.1.2) forming a point on the
 *     curve (imported as an uncompressed point, then EVP_PKEY_public_check);
 *     or OKP with "crv" Ed25519 (or Ed448) and "x" of 32 (57) bytes.
 *     "oct" keys are always refused: an HMAC key is never taken from a
 *     JWKS, only from the configured secret (see oauth_jwt.h);
 *   - "alg", if present, is one this code supports and fits the key type:
 *     RSA -> RS256/384/512, PS256/384/512; EC P-256 -> ES256; EC P-384 ->
 *     ES384; OKP Ed25519/Ed448 -> EdDSA.  With "alg" the key verifies that
 *     algorithm only; without it, every algorithm of its type and curve.
 * Unknown members (x5c, x5t, ...) are ignored.
 *
 * The document as a whole is refused (no set) when it is not JSON (jansson,
 * duplicate member names rejected, no NUL escapes, no trailing data), not
 * an object, has no "keys" array, holds more than OAUTH_JWKS_MAX_KEYS
 * elements, is longer than OAUTH_JWKS_MAX_DOC, or when not a single key in
 * it is usable (a set that can verify nothing is a configuration error that
 * should be reported where it is loaded, not on every login).
 *
 * A set is immutable once parsed, so any number of threads may validate
 * with it at once.  It is reference counted for the plugin that swaps in a
 * refetched set while other threads still validate with the old one:
 * oauth_jwks_ref takes a reference, oauth_jwks_free drops one. */
#ifndef SASL_MECHS_OAUTH_JWKS_H
#define SASL_MECHS_OAUTH_JWKS_H

#include <stddef.h>
#include <openssl/types.h>

#include "oauth_err.h"

#define OAUTH_JWKS_MAX_DOC (1024 * 1024) /* bytes of JSON */
#define OAUTH_JWKS_MAX_KEYS 64           /* elements of "keys" */
#define OAUTH_JWK_MAX_KID 256            /* bytes of a "kid" */
#define OAUTH_JWK_RSA_MIN_BITS 2048
#define OAUTH_JWK_RSA_MAX_BITS 16384

/* The JWS algorithms (RFC 7518 section 3.1, RFC 8037 section 3.1) this
 * code verifies; "none" is not one of them and never will be.  HS256 is
 * here so a policy can name it; it is only ever keyed with the configured
 * secret, never with a key of a set. */
enum oauth_jwt_alg {
    OAUTH_JWT_RS256,
    OAUTH_JWT_RS384,
    OAUTH_JWT_RS512,
    OAUTH_JWT_PS256,
    OAUTH_JWT_PS384,
    OAUTH_JWT_PS512,
    OAUTH_JWT_ES256,
    OAUTH_JWT_ES384,
    OAUTH_JWT_EDDSA,
    OAUTH_JWT_HS256,
    OAUTH_JWT_ALG_COUNT
};
#define OAUTH_JWT_ALG_BIT(a) (1u << (unsigned)(a))
/* The asymmetric algorithms, HS256 left out. */
#define OAUTH_JWT_ALGS_ASYMMETRIC (OAUTH_JWT_ALG_BIT(OAUTH_JWT_HS256) - 1u)

/* The algorithm of an exact, case-sensitive JWA name ("RS256", "EdDSA"),
 * or -1 ("none", "HS384", "rs256", a name with a NUL, ...). */
int oauth_jwt_alg_from_name(const char *name, size_t len);
/* Its JWA name; "?" out of range. */
const char *oauth_jwt_alg_name(enum oauth_jwt_alg alg);

enum oauth_jwks_status {
    OAUTH_JWKS_OK = 0,
    /* from oauth_jwks_parse */
    OAUTH_JWKS_ERR_JSON,       /* not JSON, duplicate member, trailing data */
    OAUTH_JWKS_ERR_FORMAT,     /* not an object, no "keys" array */
    OAUTH_JWKS_ERR_TOO_LARGE,  /* document or number of keys over the cap */
    OAUTH_JWKS_ERR_NO_USABLE_KEY, /* parsed, but every key was refused */
    OAUTH_JWKS_ERR_INTERNAL,   /* out of memory, OpenSSL not available */
    /* from oauth_jwks_find */
    OAUTH_JWKS_UNKNOWN_KID,    /* no entry has that kid: the plugin may refetch */
    OAUTH_JWKS_NO_KEY,         /* no kid, and not exactly one key fits the alg */
    OAUTH_JWKS_KEY_UNUSABLE,   /* the kid names only keys the set refused */
    OAUTH_JWKS_KEY_MISMATCH,   /* the kid's usable key(s) do not verify this alg */
};
const char *oauth_jwks_status_text(enum oauth_jwks_status st);

struct oauth_jwks;

/* Parse a JWKS document of len bytes (need not be NUL-terminated).  On
 * OAUTH_JWKS_OK *out is a new set with one reference, and err's reason (err
 * may be NULL) says how many keys were refused and why the first one was, or
 * is empty; on failure *out is NULL and err says what is wrong (class
 * OAUTH_ERR_CONFIG, or OAUTH_ERR_INTERNAL for memory and OpenSSL; the status
 * is its code).  The reason never holds key material, only kids, member
 * names and numbers. */
enum oauth_jwks_status oauth_jwks_parse(const char *json, size_t len, struct oauth_jwks **out,
                                        struct oauth_err *err);
/* One more reference to the set; returns set. */
struct oauth_jwks *oauth_jwks_ref(struct oauth_jwks *set);
/* Drop a reference; the last one frees the keys.  NULL is fine. */
void oauth_jwks_free(struct oauth_jwks *set);

/* Usable keys in the set; *refused (if not NULL) gets the refused ones. */
size_t oauth_jwks_count(const struct oauth_jwks *set, size_t *refused);

/* The key that verifies alg (never HS256) for a token's kid (NULL: the
 * token has none), as a borrowed pointer valid while the set lives.
 *   kid given:  the first usable entry with exactly that kid whose
 *               algorithms include alg -> OAUTH_JWKS_OK; entries with the
 *               kid but none fits -> KEY_MISMATCH if one of them is usable,
 *               else KEY_UNUSABLE; no entry with it -> UNKNOWN_KID.
 *   no kid:     the set's only usable key whose algorithms include alg
 *               (kids ignored) -> OAUTH_JWKS_OK; none or several ->
 *               OAUTH_JWKS_NO_KEY (a token without kid against a set with
 *               several candidate keys is refused, never tried key by key).
 * A NULL set is an empty one (UNKNOWN_KID with a kid, else NO_KEY), so a
 * plugin whose first fetch failed still gets its refetch signal. */
enum oauth_jwks_status oauth_jwks_find(const struct oauth_jwks *set, const char *kid,
                                       enum oauth_jwt_alg alg, EVP_PKEY **pkey);

#endif
