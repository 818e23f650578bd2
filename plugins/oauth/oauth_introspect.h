/* RFC 7662 token introspection client with a bounded cache.
 *
 * A request is "POST <endpoint>" with the form body
 * token=<token>&token_type_hint=access_token, the client authenticated with
 * HTTP Basic (RFC 6749 section 2.3.1, the default) or with client_id and
 * client_secret in the body (client_secret_post).  The answer must be HTTP
 * 200 with a JSON object (duplicate member names refused) whose member
 * `active` is a JSON boolean.  When it is true the whole object is handed
 * back as the token's claims (a new jansson object owned by the caller:
 * active, and whatever the server sent of exp, nbf, iat, iss, aud, scope,
 * scp, sub, username, email, preferred_username, upn, client_id ...).  The
 * claims are not checked here: the caller applies the same rules as to a
 * JWT's claims (exp with leeway, nbf, iss, aud, scope, the user name).
 *
 * The cache is keyed by SHA-256 of the token (the token itself is never
 * kept).  An active answer is kept until min(exp, now + positive_ttl) (not
 * at all when exp is already past); an inactive answer for negative_ttl.
 * At most max_entries entries: expired entries are dropped first, then the
 * oldest.  An entry is erased when it goes.  Errors are never cached.  One
 * mutex guards the cache; the HTTP request runs outside it, so a slow
 * endpoint does not serialise lookups of other tokens (two threads missing
 * on the same token at once both ask the server).
 *
 * The answer is the class of a struct oauth_err (oauth_err.h), and what a
 * server plugin makes of it:
 *   OAUTH_OK             active: the token is valid by the server's word;
 *                        check its claims.
 *   OAUTH_ERR_CLIENT     inactive: revoked, expired, unknown, or not a
 *                        well-formed token: the client's fault, status
 *                        invalid_token, SMTP 535.
 *   OAUTH_ERR_TEMPORARY  endpoint unreachable, timeout, TLS failure, HTTP
 *                        5xx, 408, 429, or the bound on requests per
 *                        interval reached (max_per_interval): SMTP 454.
 *   OAUTH_ERR_CONFIG     the endpoint answered but wrongly (refused our
 *                        client credentials, other 4xx, a redirect,
 *                        malformed JSON, no boolean `active`, too large), or
 *                        the configuration is unusable: a configuration to
 *                        fix: 454 too, and log the reason.
 *   OAUTH_ERR_INTERNAL   out of memory, SHA-256 unavailable. */
#ifndef OAUTH_INTROSPECT_H
#define OAUTH_INTROSPECT_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "oauth_http.h"
#include "oauth_icache.h"

#define OAUTH_INTROSPECT_MAX_TOKEN 16384 /* longer tokens are inactive unasked */

struct oauth_introspect_config {
    const char *endpoint;             /* https:// URL (http:// loopback for tests) */
    const char *client_id;            /* required */
    const char *client_secret;        /* required ("" allowed) */
    enum oauth_client_auth client_auth; /* BASIC or POST (NONE refused) */
    struct oauth_http_options http;   /* timeouts, size cap, CA file ... */
    long positive_ttl;                /* seconds an active answer may be kept; 0: never */
    long negative_ttl;                /* seconds an inactive answer is kept; 0: never */
    size_t max_entries;               /* cache bound; 0: no cache */
    /* The cache shared by every process of every host (oauth_icache.h),
     * asked after this process's cache and before the endpoint; answers
     * from the endpoint are stored there with the same lifetimes.  NULL:
     * none.  Its trouble is never the token's: the endpoint is asked. */
    const char *cache_server;         /* memcached://HOST:PORT */
    const unsigned char *cache_secret; /* its HMAC key (copied) */
    size_t cache_secret_len;
    long cache_timeout_ms;            /* each exchange with it */
    /* At most max_per_interval requests to the endpoint per interval
     * seconds, counted by the whole fleet through the cache server when it
     * answers, else by this process; past it, a token in no cache is a
     * temporary failure.  0: no bound.  interval is also how often the
     * same notice (oauth_introspect_take_notice) is repeated. */
    unsigned long max_per_interval;
    long interval;
};

/* positive 300 s, negative 30 s, 10000 entries, Basic, HTTP defaults, no
 * shared cache (timeout 250 ms when one is named), no bound, interval 60 s;
 * endpoint and credentials left NULL. */
void oauth_introspect_config_default(struct oauth_introspect_config *c);

struct oauth_introspector;

/* Copies the configuration (strings included).  OAUTH_OK, or
 * OAUTH_ERR_CONFIG (a bad configuration) or OAUTH_ERR_INTERNAL (no memory)
 * with the reason in err. */
enum oauth_err_class oauth_introspector_new(const struct oauth_introspect_config *c,
                                            struct oauth_introspector **out,
                                            struct oauth_err *err);
/* Erases the cache and the copied secret. */
void oauth_introspector_free(struct oauth_introspector *in);

/* Look the token up (cache, then the endpoint).  now: the current time
 * (time(NULL)), a parameter so that tests can move the clock.  *claims
 * (when claims is not NULL) is set to a new object for OAUTH_OK, else NULL;
 * release it with json_decref.  *cached (when not NULL) tells whether the
 * answer came from the cache. */
enum oauth_err_class oauth_introspect(struct oauth_introspector *in, const char *token,
                                      size_t toklen, time_t now, json_t **claims, int *cached,
                                      struct oauth_err *err);

/* Entries now in the cache, and counters since creation (for tests and
 * benchmarks). */
struct oauth_introspect_stats {
    size_t entries;
    unsigned long hits, misses, requests, evictions;
    unsigned long shared_hits;        /* answers from the shared cache (in hits too) */
    unsigned long bounded;            /* lookups refused by max_per_interval */
};
void oauth_introspector_stats(struct oauth_introspector *in, struct oauth_introspect_stats *s);

/* What the administrator should read although no login failed because of
 * it (the shared cache down or holding a refused value, the bound
 * reached), at most once per interval for each: 1 and the sentence in buf
 * (size n), taken, or 0 when there is none. */
int oauth_introspect_take_notice(struct oauth_introspector *in, char *buf, size_t n);

#endif
