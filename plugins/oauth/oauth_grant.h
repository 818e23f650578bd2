/* Requests to an OAuth 2.0 authorization server's endpoints and their
 * answers, one copy for the client plugin's token file and the token tool:
 *
 *   - the token endpoint (RFC 6749 section 3.2) for the refresh grant
 *     (section 6), client_credentials (section 4.4), the authorization code
 *     grant (section 4.1) with PKCE S256 (RFC 7636) and the device grant
 *     (RFC 8628 section 3.4);
 *   - the device authorization endpoint (RFC 8628 section 3.1);
 *   - the revocation endpoint (RFC 7009);
 *   - OpenID discovery (OpenID Connect Discovery 1.0 section 4, RFC 8414).
 *
 * Client authentication at the token endpoint, one of:
 *   client_secret_basic  HTTP Basic (RFC 6749 2.3.1), the default with a secret
 *   client_secret_post   client_id and client_secret in the body
 *   none                 a public client: client_id in the body
 *   private_key_jwt      RFC 7523 section 2.2: a client assertion, a JWT
 *                        signed RS256 with the PEM private key key_file
 *                        (RSA), claims iss = sub = client_id, aud = the
 *                        token endpoint, jti (random), iat, nbf, exp (+300 s);
 *                        with cert_file (the PEM certificate registered for
 *                        the client) its header carries x5t#S256 and x5t
 *                        (the certificate's SHA-256 and SHA-1 thumbprints,
 *                        base64url), as Microsoft Entra requires.  The key
 *                        file must not be readable by group or others.
 *
 * Answers: an access_token of bytes %x21-7E, token_type Bearer when present,
 * expires_in a positive integer (or string of digits; 3600 when absent),
 * refresh_token %x20-7E when present.  An error answer's "error" code is
 * kept (printable, at most 64 bytes) in tokens->error, the first of
 * Microsoft's "error_codes" in tokens->error_code, and the reason quotes
 * error_description up to its first control character (Microsoft adds
 * "\r\nTrace ID: ..."), unless it holds one of the request's secrets.
 * Reasons never carry a token or a secret. */
#ifndef OAUTH_GRANT_H
#define OAUTH_GRANT_H

#include <stddef.h>

#include "oauth_http.h"

enum oauth_grant_status {
    OAUTH_GRANT_OK = 0,
    OAUTH_GRANT_PENDING,      /* device grant: authorization_pending, poll again */
    OAUTH_GRANT_SLOW_DOWN,    /* device grant: slow_down, poll 5 s slower */
    OAUTH_GRANT_UNAVAILABLE,  /* unreachable, TLS, timeout, 5xx, 408, 429 */
    OAUTH_GRANT_REJECTED,     /* an OAuth error answer (tokens->error) or
                                 another 4xx */
    OAUTH_GRANT_BAD_RESPONSE, /* 200 without what it must hold, too large */
    OAUTH_GRANT_URL_REFUSED,  /* the endpoint URL (http:// off loopback...) */
    OAUTH_GRANT_CLIENT_KEY,   /* private_key_jwt: key or certificate unusable */
    OAUTH_GRANT_ERROR         /* out of memory, bad arguments */
};

const char *oauth_grant_status_text(enum oauth_grant_status s);

enum oauth_grant_auth {
    OAUTH_GRANT_AUTH_BASIC = OAUTH_CLIENT_AUTH_BASIC,
    OAUTH_GRANT_AUTH_POST = OAUTH_CLIENT_AUTH_POST,
    OAUTH_GRANT_AUTH_NONE = OAUTH_CLIENT_AUTH_NONE,
    OAUTH_GRANT_AUTH_PRIVATE_KEY_JWT
};
/* client_secret_basic, client_secret_post, none, private_key_jwt -> 0, else -1 */
int oauth_grant_auth_parse(const char *name, enum oauth_grant_auth *out);
const char *oauth_grant_auth_name(enum oauth_grant_auth a);

struct oauth_grant_client {
    const char *token_endpoint;
    const char *client_id;
    const char *client_secret;    /* BASIC and POST */
    enum oauth_grant_auth auth;
    const char *key_file;         /* PRIVATE_KEY_JWT: PEM private key */
    const char *cert_file;        /* PRIVATE_KEY_JWT: PEM certificate, optional */
    const struct oauth_http_options *http; /* NULL: defaults */
};

struct oauth_grant_tokens {
    char *access_token;           /* erased by oauth_grant_tokens_clear */
    char *refresh_token;          /* NULL when the answer had none */
    char *id_token;               /* NULL when none */
    char *scope;                  /* NULL when none */
    long expires_in;
    long http_code;               /* of the answer; 0 when none came */
    char error[65];               /* OAuth error code of a refusal, or "" */
    long error_code;              /* Microsoft's AADSTS number (oauth_advice_aadsts), or 0 */
};
void oauth_grant_tokens_clear(struct oauth_grant_tokens *t);

/* A request to the token endpoint: the grant and what it sends.  Members
 * a grant does not use stay NULL. */
enum oauth_grant_type {
    OAUTH_GRANT_REFRESH_TOKEN,      /* RFC 6749 6: secret (the refresh token), scope */
    OAUTH_GRANT_CLIENT_CREDENTIALS, /* RFC 6749 4.4.2: scope */
    OAUTH_GRANT_AUTHORIZATION_CODE, /* RFC 6749 4.1.3: secret (the code), redirect_uri,
                                       code_verifier (RFC 7636 4.5) */
    OAUTH_GRANT_DEVICE_CODE         /* RFC 8628 3.4: secret (the device code) */
};
struct oauth_grant_request {
    enum oauth_grant_type type;
    const char *secret;           /* never quoted back from an error description */
    const char *scope;            /* NULL or "": not sent */
    const char *redirect_uri;
    const char *code_verifier;    /* a secret too */
};

/* The request rq to c's token endpoint.  A device code poll answers OK,
 * PENDING, SLOW_DOWN, or a failure (expired_token, access_denied,
 * Microsoft's authorization_declined: REJECTED with the code in
 * out->error). */
enum oauth_grant_status oauth_grant_token(const struct oauth_grant_client *c,
                                          const struct oauth_grant_request *rq,
                                          struct oauth_grant_tokens *out, struct oauth_err *err);

/* RFC 8628 section 3.2's answer.  The URIs and the message are printable
 * ASCII (an answer with a control character in a URI is refused, a message
 * with one dropped).  The interval is at most OAUTH_DEVICE_MAX_INTERVAL. */
#define OAUTH_DEVICE_MAX_INTERVAL 60
struct oauth_device_auth {
    char *device_code;            /* secret: erased on clear */
    char *user_code;
    char *verification_uri;       /* (Google's name: verification_url) */
    char *verification_uri_complete; /* NULL when absent */
    char *message;                /* Microsoft's sentence; NULL when absent */
    long expires_in;              /* required */
    long interval;                /* 5 when absent; 1..60 */
};
void oauth_device_auth_clear(struct oauth_device_auth *d);
enum oauth_grant_status oauth_grant_device_start(const struct oauth_grant_client *c,
                                                 const char *device_endpoint,
                                                 const char *scope,
                                                 struct oauth_device_auth *out,
                                                 struct oauth_err *err);

/* RFC 7009: revoke token (hint "refresh_token" or "access_token", or NULL)
 * with the client's authentication.  OK for a 200 (the token is gone, or
 * was unknown: section 2.2). */
enum oauth_grant_status oauth_grant_revoke(const struct oauth_grant_client *c,
                                           const char *revocation_endpoint, const char *token,
                                           const char *hint, struct oauth_err *err);

/* PKCE (RFC 7636 section 4.1, 4.2): a verifier of 43 base64url characters
 * from 32 random bytes and its S256 challenge.  0 or -1. */
struct oauth_pkce {
    char verifier[44];
    char challenge[44];
};
int oauth_pkce_make(struct oauth_pkce *p);
/* A random value for `state` (and jti): 22 base64url characters.  0 or -1. */
int oauth_random_word(char out[23]);

/* OpenID discovery: GET issuer/.well-known/openid-configuration (then
 * issuer/.well-known/oauth-authorization-server when that is 404), its
 * "issuer" must equal issuer (a trailing '/' aside).  Members absent from
 * the document are NULL; token_endpoint is required. */
struct oauth_discovery {
    char *issuer, *token_endpoint, *authorization_endpoint, *device_authorization_endpoint,
        *revocation_endpoint;
};
void oauth_discovery_clear(struct oauth_discovery *d);
enum oauth_grant_status oauth_discover(const char *issuer, const struct oauth_http_options *http,
                                       struct oauth_discovery *out, struct oauth_err *err);

/* 1 when the n bytes of s may be a token: %x21-7E for an access token
 * (one word after "Bearer "), %x20-7E with allow_space for a refresh token
 * (RFC 6749 appendix A.17). */
int oauth_grant_token_chars_ok(const char *s, size_t n, int allow_space);

/* json_decref of a parsed document after erasing its top-level string
 * values (tokens, secrets); NULL is fine. */
struct json_t;
void oauth_grant_json_free(struct json_t *root);

/* The private_key_jwt client assertion alone (for tests), malloc'd. */
enum oauth_grant_status oauth_grant_assertion(const struct oauth_grant_client *c, char **out,
                                              struct oauth_err *err);

#endif
