/* Local validation of a JWT access token (RFC 7519) in JWS compact
 * serialization (RFC 7515 section 7.1), for the XOAUTH2 and OAUTHBEARER
 * servers.  Pure library code: no libsasl2 types; the result's user name is
 * malloc'd; signatures checked with OpenSSL 3 EVP in the plugin's private
 * library context (sm_crypto_libctx).  Keys come from an oauth_jwks set
 * (oauth_jwks.h) or, for HS256 only, from the policy's configured secret.
 *
 * What oauth_jwt_validate checks, in this order (the first failure wins):
 *  1. the policy itself (oauth_jwt_policy_check)             -> ERR_POLICY
 *  2. 1 <= length <= policy max_token_len (default 16 KiB)    -> ERR_TOO_LARGE
 *  3. exactly three '.'-separated segments, header and payload non-empty,
 *     each strict unpadded base64url (RFC 4648 section 5: no '=', no
 *     characters outside the alphabet, zero pad bits)         -> ERR_MALFORMED
 *  4. the header: a JSON object (jansson, duplicate names and NUL escapes
 *     rejected, no trailing data) with a string "alg"         -> ERR_MALFORMED
 *     "alg" exactly one of RS256/384/512, PS256/384/512, ES256, ES384, EdDSA,
 *     HS256 ("none" in any case, and everything else, refused) and allowed
 *     by the policy                                           -> ERR_ALG
 *     HS256 only when the policy carries a secret; a key of the set is never
 *     an HMAC key, so "HS256 keyed with the RSA public key" fails here
 *     "crit" (RFC 7515 4.1.11): we understand no extension, so any "crit"
 *     is refused (and a malformed one too)                    -> ERR_CRIT
 *     "typ": when the policy requires it (RFC 9068 section 4), "at+jwt" or
 *     "application/at+jwt", case-insensitively; otherwise any string
 *                                                             -> ERR_TYP
 *     "kid", if present, a string of at most 256 bytes        -> ERR_MALFORMED
 *     "jku", "jwk", "x5u", "x5c" are ignored: keys never come from a token
 *  5. the key (oauth_jwks_find): a kid selects it; without a kid, the set's
 *     only key that fits the alg      -> ERR_UNKNOWN_KID (refetch and retry),
 *                                        ERR_NO_KEY, ERR_KEY_UNUSABLE,
 *                                        ERR_KEY_MISMATCH
 *  6. the signature over "header.payload" (RSASSA-PKCS1-v1_5; RSASSA-PSS
 *     with MGF1 of the same hash and a salt exactly the hash length; ECDSA
 *     with the raw r||s of exactly 64/96 bytes (RFC 7518 3.4), turned into
 *     DER for EVP; Ed25519/Ed448; HMAC-SHA-256 compared in constant time)
 *                                                             -> ERR_SIGNATURE
 *     The payload is not decoded before the signature has verified.
 *  7. the payload: a JSON object as the header                -> ERR_MALFORMED
 *  8. the claims (oauth_jwt_check_claims, below).
 *
 * err (struct oauth_err, may be NULL) always gets a reason for an
 * administrator: never the token, nor a signature, nor a secret; at most
 * a kid, an alg or an iss/aud value, shortened and with non-printable bytes
 * replaced.  On success it is empty.
 *
 * What the plugin does with a status: the class and status in err, below. */
#ifndef SASL_MECHS_OAUTH_JWT_H
#define SASL_MECHS_OAUTH_JWT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "oauth_jwks.h"
#include "oauth_err.h"

#define OAUTH_JWT_DEFAULT_MAX_TOKEN 16384 /* bytes of the compact token */
#define OAUTH_JWT_MAX_TOKEN_CAP (1024 * 1024)
#define OAUTH_JWT_DEFAULT_MAX_USER 256   /* bytes of the user name */
#define OAUTH_JWT_MAX_USER_CAP 4096
#define OAUTH_JWT_MAX_LEEWAY 3600        /* seconds */
#define OAUTH_JWT_MIN_HMAC_SECRET 32     /* bytes (RFC 7518 3.2: >= hash size) */
#define OAUTH_JWT_MAX_KID 256

/* What the plugin builds from its options once, and passes to every call.
 * The library keeps no pointer to it after a call returns. */
struct oauth_jwt_policy {
    /* "iss" must equal one of these exactly.  At least one is required: an
     * empty list would accept tokens of any issuer, so it is ERR_POLICY. */
    const char *const *issuers;
    size_t n_issuers;
    /* "aud" (a string, or an array of strings) must contain one of these.
     * At least one is required, as for issuers. */
    const char *const *audiences;
    size_t n_audiences;
    /* Every one of these must be present in "scope" (a space-separated
     * string) or "scp" (an array of strings, or a string like "scope");
     * none may be empty or hold a space.  May be empty. */
    const char *const *scopes;
    size_t n_scopes;
    /* The claim naming the user: NULL for "email"; typically also
     * "preferred_username", "upn" or "sub".  Its value must be a non-empty
     * string of at most max_user_len bytes without control characters. */
    const char *user_claim;
    /* Seconds of clock skew allowed on exp, nbf and iat: 0..OAUTH_JWT_MAX_LEEWAY. */
    long leeway;
    /* 0 for OAUTH_JWT_DEFAULT_MAX_TOKEN; else at most OAUTH_JWT_MAX_TOKEN_CAP. */
    size_t max_token_len;
    /* 0 for OAUTH_JWT_DEFAULT_MAX_USER; else at most OAUTH_JWT_MAX_USER_CAP. */
    size_t max_user_len;
    /* Non-zero: the header's "typ" must be at+jwt (RFC 9068). */
    int require_typ;
    /* Non-zero: when the user claim is "email", "email_verified" must be
     * true (a JSON true, or the string "true" some providers send): with a
     * provider that lets users set their own address, an unverified email
     * names whoever typed it. */
    int require_email_verified;
    /* OAUTH_JWT_ALG_BIT mask of the algorithms accepted; 0 means all the
     * asymmetric ones, plus HS256 when a secret is set.  HS256 in the mask
     * without a secret is ERR_POLICY. */
    unsigned algs;
    /* The HMAC secret for HS256 (at least OAUTH_JWT_MIN_HMAC_SECRET bytes),
     * or NULL with 0: then HS256 is refused.  Read, never copied or kept;
     * the caller erases it. */
    const unsigned char *hmac_secret;
    size_t hmac_secret_len;
};

enum oauth_jwt_status {
    OAUTH_JWT_OK = 0,
    OAUTH_JWT_ERR_TOO_LARGE,        /* token longer than the cap */
    OAUTH_JWT_ERR_MALFORMED,        /* segments, base64url, JSON, header members */
    OAUTH_JWT_ERR_ALG,              /* none, unsupported, not allowed, HS256 without secret */
    OAUTH_JWT_ERR_CRIT,             /* a "crit" header */
    OAUTH_JWT_ERR_TYP,              /* "typ" required and missing or not at+jwt */
    OAUTH_JWT_ERR_UNKNOWN_KID,      /* no key with that kid: refetch the set, once */
    OAUTH_JWT_ERR_NO_KEY,           /* no kid and not exactly one key for the alg */
    OAUTH_JWT_ERR_KEY_UNUSABLE,     /* the kid names a key the set refused */
    OAUTH_JWT_ERR_KEY_MISMATCH,     /* the kid's key is not for this alg */
    OAUTH_JWT_ERR_SIGNATURE,        /* the signature does not verify */
    OAUTH_JWT_ERR_CLAIM,            /* exp missing; exp/nbf/iat/scope/scp ill-typed */
    OAUTH_JWT_ERR_EXPIRED,          /* now >= exp + leeway */
    OAUTH_JWT_ERR_NOT_YET_VALID,    /* now < nbf - leeway */
    OAUTH_JWT_ERR_ISSUED_IN_FUTURE, /* iat > now + leeway */
    OAUTH_JWT_ERR_ISSUER,           /* iss missing or not allowed */
    OAUTH_JWT_ERR_AUDIENCE,         /* aud missing or none of ours */
    OAUTH_JWT_ERR_USER,             /* user claim missing, empty, too long, ill-typed */
    OAUTH_JWT_ERR_SCOPE,            /* valid token, a required scope missing */
    OAUTH_JWT_ERR_POLICY,           /* the policy is unusable (configuration) */
    OAUTH_JWT_ERR_INTERNAL,         /* out of memory, OpenSSL not available */
};
const char *oauth_jwt_status_text(enum oauth_jwt_status st);

/* What each status means is in the err every function here fills (the
 * status is its code):
 *   OAUTH_OK             accept (then compare the user, canon_user ...)
 *   OAUTH_ERR_CLIENT     the token is refused: status invalid_token, or
 *                        insufficient_scope for ERR_SCOPE alone (the error
 *                        JSON then names the configured scopes); SASL_BADAUTH.
 *                        ERR_UNKNOWN_KID too, though the caller may first
 *                        refetch the key set if the interval allows and
 *                        validate once more
 *   OAUTH_ERR_CONFIG     ERR_POLICY: the server's fault, never the client's;
 *                        log it and fail (or refuse to load when the policy
 *                        is checked at load)
 *   OAUTH_ERR_INTERNAL   ERR_INTERNAL: out of memory or OpenSSL unusable; not
 *                        the client's fault
 * No status here means "invalid_request": that one belongs to the codec
 * (a malformed SASL message), while a malformed token is invalid_token
 * (RFC 6750 section 3.1). */

/* The time claims of a token, as numbers (a cache re-checks them). */
struct oauth_jwt_times {
    double exp;
    double nbf, iat;        /* meaningful when has_nbf, has_iat */
    int has_nbf, has_iat;
};

struct oauth_jwt_result {
    char *user;             /* malloc'd, NUL-terminated: the user claim's value */
    int64_t exp;            /* the token's exp (whole seconds), to bound a cache */
    enum oauth_jwt_alg alg; /* the algorithm that verified it */
    struct oauth_jwt_times times; /* set with user */
};
/* Free what a result holds and zero it; fine on a zeroed result. */
void oauth_jwt_result_clear(struct oauth_jwt_result *res);

/* OAUTH_JWT_OK, or ERR_POLICY with the reason, for a policy as described above.
 * The plugin should call it once when it reads its options. */
enum oauth_jwt_status oauth_jwt_policy_check(const struct oauth_jwt_policy *policy,
                                             struct oauth_err *err);

/* Validate token[0..len) (need not be NUL-terminated) at time `now` (Unix
 * seconds; the caller's clock, so tests can move it) against the key set
 * `keys` (may be NULL: no keys yet) and `policy`.  On OAUTH_JWT_OK, *res
 * holds the user name (the caller frees it with oauth_jwt_result_clear);
 * on any failure *res is zeroed.  res must not be NULL. */
enum oauth_jwt_status oauth_jwt_validate(const char *token, size_t len,
                                         const struct oauth_jwks *keys,
                                         const struct oauth_jwt_policy *policy, int64_t now,
                                         struct oauth_jwt_result *res, struct oauth_err *err);

/* Step 8 alone, on a claims object that is already trusted (a verified
 * payload, or an RFC 7662 introspection response): exp required, a number,
 * now < exp + leeway; nbf and iat, when present, numbers with now >= nbf -
 * leeway and iat <= now + leeway; iss allowed; aud holds an audience; the
 * user claim; then the scopes (last, so ERR_SCOPE means "valid but not
 * enough").  res->alg is left as it is; res->user is set only on success. */
enum oauth_jwt_status oauth_jwt_check_claims(const json_t *claims,
                                             const struct oauth_jwt_policy *policy, int64_t now,
                                             struct oauth_jwt_result *res, struct oauth_err *err);

/* The "iss" of token[0..len), read before anything is verified, only to
 * choose whose keys verify it (oauth_issuers.h): the token is split and its
 * payload decoded as step 3 and 7 do (max: the longest token), and its
 * "iss" copied into iss[size].  OAUTH_JWT_OK, or ERR_TOO_LARGE,
 * ERR_MALFORMED, ERR_ISSUER (no string "iss", one with a NUL or longer than
 * size - 1) with the reason. */
enum oauth_jwt_status oauth_jwt_peek_issuer(const char *token, size_t len, size_t max, char *iss,
                                            size_t size, struct oauth_err *err);

/* The time rules of step 8 alone, at time now with the policy's leeway:
 * now < exp + leeway, now >= nbf - leeway, iat <= now + leeway.  OAUTH_JWT_OK,
 * or ERR_EXPIRED, ERR_NOT_YET_VALID, ERR_ISSUED_IN_FUTURE with the reason
 * (what a token remembered as verified is checked against on each use). */
enum oauth_jwt_status oauth_jwt_check_times(const struct oauth_jwt_times *t,
                                            const struct oauth_jwt_policy *policy, int64_t now,
                                            struct oauth_err *err);

#endif
