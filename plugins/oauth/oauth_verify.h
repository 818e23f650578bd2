/* The server's verdict on a bearer token: local JWT validation against a
 * key set (a JWKS file, or a JWKS URL fetched and cached), or RFC 7662
 * introspection; the same claim rules (oauth_jwt_policy) either way.  Pure
 * library code, no libsasl2 types: the plugin builds the configuration from
 * its options once and keeps it (and every string it points to) for the
 * life of the verifier.
 *
 * Key set (JWT mode): loaded on first use, used for at most jwks_max_age
 * seconds, then fetched again (a failed refetch keeps the old set and says
 * so in the log text); a token whose kid the set does not know triggers a
 * refetch at most once per jwks_refresh_interval, and is validated once
 * more against the new set.
 *
 * Threads: the set is immutable and reference counted; a validation takes a
 * reference under a mutex held for a few instructions and validates outside
 * it.  At most one fetch runs at a time, outside the mutex, by the thread
 * that found it due.  Meanwhile a token whose key the current set holds is
 * validated with that set and never waits; a token that needs the fetch (an
 * unknown kid, or no set loaded yet) waits for that one fetch, then is
 * validated against the set it leaves (a second unknown kid is refused, not
 * fetched again within the interval).  So a client naming kids nobody
 * published delays only its own login and those that need new keys anyway.
 * oauth_verifier_free must not run while another thread uses the verifier. */
#ifndef OAUTH_VERIFY_H
#define OAUTH_VERIFY_H

#include <stddef.h>
#include <time.h>
#include "oauth_http.h"
#include "oauth_introspect.h"
#include "oauth_jwt.h"

enum oauth_verify_mode { OAUTH_VERIFY_JWT, OAUTH_VERIFY_INTROSPECTION };

struct oauth_verify_config {
    enum oauth_verify_mode mode;
    struct oauth_jwt_policy policy;   /* claim rules, both modes */
    const char *jwks_file;            /* JWT mode: exactly one of these two */
    const char *jwks_url;
    long jwks_refresh_interval;       /* seconds between refetches for an unknown kid */
    long jwks_max_age;                /* seconds a fetched set is used */
    struct oauth_http_options http;   /* for jwks_url */
    struct oauth_introspect_config introspect; /* INTROSPECTION mode */
    /* Fleet scale (oauth_jwks_cache.h, oauth_jwt_cache.h, oauth_issuers.h) */
    const char *jwks_cache_dir;       /* the host's copies of fetched key sets; NULL: none */
    size_t jwt_cache_size;            /* verified JWTs remembered; 0: none */
    int discovery;                    /* each issuer's keys by OpenID discovery */
    /* a problem worth a log line that is no verdict (a cache file not
     * trusted, a cache folder not writable); NULL: not told */
    void (*note)(void *ctx, const char *text);
    void *note_ctx;
};

struct oauth_verifier;

/* OAUTH_OK and *out, or the class (OAUTH_ERR_CONFIG for a configuration
 * that cannot work) with the reason in err. */
enum oauth_err_class oauth_verifier_new(const struct oauth_verify_config *c,
                                        struct oauth_verifier **out, struct oauth_err *err);
void oauth_verifier_free(struct oauth_verifier *v);

/* The verdict on token[0..len) at time now, as the class of err (which may
 * be NULL):
 *   OAUTH_OK             *user is the user claim's value (malloc'd; the
 *                        caller frees it); else *user is NULL;
 *   OAUTH_ERR_CLIENT     the token is refused: err->status says
 *                        invalid_token or insufficient_scope (535);
 *   OAUTH_ERR_TEMPORARY  keys or endpoint unreachable (454, try later);
 *   OAUTH_ERR_CONFIG     the server's configuration or its endpoint (454,
 *                        log it);
 *   OAUTH_ERR_INTERNAL   memory, OpenSSL.
 * err->reason (never the token) says what was wrong, for the log and
 * errdetail. */
enum oauth_err_class oauth_verify(struct oauth_verifier *v, const char *token, size_t len,
                                  time_t now, char **user, struct oauth_err *err);

/* Counters for tests and benchmarks. */
struct oauth_verify_stats {
    unsigned long jwks_loads;         /* successful loads or fetches of the key set */
    unsigned long jwks_failures;      /* failed ones */
    unsigned long jwks_fetches;       /* key sets this process read itself (URL or file), not
                                         from the host's copy */
    unsigned long jwt_cache_hits;     /* tokens accepted without a signature check */
};
void oauth_verifier_stats(struct oauth_verifier *v, struct oauth_verify_stats *s);

/* A notice for the log although no login failed (oauth_introspect.h:
 * oauth_introspect_take_notice): 1 and the sentence in buf, or 0. */
int oauth_verifier_take_notice(struct oauth_verifier *v, char *buf, size_t n);

#endif
