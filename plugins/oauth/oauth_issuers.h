/* Several issuers, each with its own keys: each issuer's key set URL found by OpenID Connect Discovery 1.0 (section 4: GET
 * <issuer>/.well-known/openid-configuration; the document's "issuer" must be
 * exactly the issuer URL, and its "jwks_uri" names the keys).  Pure library
 * code.  The verifier picks the issuer's keys by the issuer the token
 * names (oauth_jwt_peek_issuer, oauth_jwt.h).
 *
 * Choosing by an unverified claim is safe because the choice only narrows:
 * the token is then verified with the keys of the issuer it names and must
 * carry that very issuer, so a token signed with issuer A's key but
 * claiming issuer B is checked against B's keys and refused. */
#ifndef OAUTH_ISSUERS_H
#define OAUTH_ISSUERS_H

#include <stddef.h>
#include <time.h>

#include "oauth_err.h"
#include "oauth_http.h"

#define OAUTH_ISSUER_MAX 1024             /* bytes of an issuer URL */
#define OAUTH_DISCOVERY_MAX_DOC (256 * 1024)

/* <issuer>/.well-known/openid-configuration (a final '/' of the issuer
 * dropped first) into url[size]: 0, or -1 when it does not fit. */
int oauth_discovery_url(const char *issuer, char *url, size_t size);

/* The "jwks_uri" of a discovery document doc[0..len) for issuer (a JSON
 * object, duplicate names refused, "issuer" exactly issuer, "jwks_uri" a URL
 * the HTTP client will fetch: https://, or http:// to loopback or with
 * allow_insecure): 0 and *jwks_uri (malloc'd), or -1 with the reason in err
 * (class OAUTH_ERR_CONFIG). */
int oauth_discovery_parse(const char *doc, size_t len, const char *issuer, int allow_insecure,
                          char **jwks_uri, struct oauth_err *err);

/* One discovery of an issuer's key set URL through the host's cache
 * (oauth_jwks_cache.h: the document kept in cache_dir like a key set). */
struct oauth_discovery {
    const char *issuer;
    const struct oauth_http_options *http;
    const char *cache_dir;            /* NULL: no cache */
    time_t now;
    time_t have;                      /* when the caller's URL was discovered; 0: none */
    long max_age, interval;           /* the key set's: jwks_max_age, jwks_refresh_interval */
    void (*note)(void *ctx, const char *text); /* a cache problem, to log */
    void *note_ctx;
};

/* 0 and *jwks_uri (malloc'd) with *fetched_at, the time its document was
 * fetched; or -1 with the reason in err (the document unreachable, not for
 * this issuer, or nothing newer than have on the host yet). */
int oauth_discover_jwks_uri(const struct oauth_discovery *d, char **jwks_uri, time_t *fetched_at,
                            struct oauth_err *err);

#endif
