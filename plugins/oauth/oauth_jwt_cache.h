/* The JWTs this process has verified, so that a client reconnecting with
 * the same token costs no signature check.  Pure library code.
 *
 * An entry is keyed by the SHA-256 of the token, never the token, and
 * holds what a later use needs: the user name, the time claims (exp, nbf,
 * iat: re-checked on every hit, at the time of that use) and a tag of the
 * key set that verified it (the verifier that owns it and that set's
 * generation), so that an entry dies with the set: a key withdrawn from the
 * issuer's set stops its tokens at the next refresh, as without the cache.
 * An entry lives until its token's exp (plus the leeway) at most.  At most
 * max_entries: when full, expired entries go first, then the one that
 * expires soonest.  An entry is erased when it goes.  One mutex guards it;
 * lookups are O(1) (a hash of the key), an insertion into a full cache
 * scans it once.
 *
 * Not shared between processes or hosts: a token's signature check is a
 * few tens of microseconds, about what reading a shared copy would cost, and
 * a shared store of "this token is valid" would be a way to be let in for
 * whoever can write to it. */
#ifndef OAUTH_JWT_CACHE_H
#define OAUTH_JWT_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "oauth_jwt.h"

#define OAUTH_JWT_CACHE_KEY 32
#define OAUTH_JWT_CACHE_MAX 65536

struct oauth_jwt_cache;

/* NULL when max_entries is 0 (no cache) or there is no memory. */
struct oauth_jwt_cache *oauth_jwt_cache_new(size_t max_entries);
void oauth_jwt_cache_free(struct oauth_jwt_cache *c);

/* The key of token[0..len): 0, or -1 (SHA-256 unavailable). */
int oauth_jwt_cache_key(const char *token, size_t len, unsigned char key[OAUTH_JWT_CACHE_KEY]);

/* What is kept of a verified token. */
struct oauth_jwt_cached {
    struct oauth_jwt_times times;     /* re-checked on a hit */
    const void *tag;                  /* whose key set verified it */
    unsigned long gen;                /* that key set's generation */
};

/* 1 and *out (*user malloc'd, the caller frees it) when key is cached; 0
 * when not.  An entry whose exp (plus leeway) is at or before now is dropped
 * and not returned. */
int oauth_jwt_cache_get(struct oauth_jwt_cache *c, const unsigned char key[OAUTH_JWT_CACHE_KEY],
                        time_t now, long leeway, struct oauth_jwt_cached *out, char **user);
/* Remember a verified token (user copied); nothing when there is no memory. */
void oauth_jwt_cache_put(struct oauth_jwt_cache *c, const unsigned char key[OAUTH_JWT_CACHE_KEY],
                         const struct oauth_jwt_cached *in, const char *user);
/* Forget it (its key set was replaced, a time claim failed). */
void oauth_jwt_cache_drop(struct oauth_jwt_cache *c, const unsigned char key[OAUTH_JWT_CACHE_KEY]);
/* Entries held, for tests. */
size_t oauth_jwt_cache_count(struct oauth_jwt_cache *c);

#endif
