/* A host's copy on disk of documents the OAuth server fetches (a JWKS, an
 * OpenID discovery document), so that the processes of one host (Postfix's
 * many short-lived smtpd) fetch each one once per refresh interval between
 * them instead of once each.  Pure library code: no libsasl2 types.
 *
 * Layout: one file per URL in the cache folder, named by the SHA-256 of
 * the URL in lowercase hexadecimal: <hex>.doc holds the document, <hex>.lock
 * is the lock the fetching process holds.  A document file is
 *
 *   sasl-mechs-cache 1 <fetched_at> <url length>\n<url>\n<document>
 *
 * fetched_at being the Unix time of the fetch (the caller's clock).  It is
 * written to a temporary file in the same folder (mode 0640, the process's
 * user), fsynced and renamed over the old one, so a reader sees the old copy
 * or the new one, never half of one; it is read with no lock at all.
 *
 * Trust: a copy is used only when it is a regular file (not a symbolic
 * link) owned by the process's effective user, writable by nobody else (no
 * g+w, no o+rwx), under the size cap, with the header above naming this very
 * URL.  Anything else is OAUTH_JWKS_CACHE_BAD with the reason (the caller
 * logs it and fetches as if there were no copy; the next write replaces it).
 * The folder itself must be owned by the process's user or root and not
 * writable by others.
 *
 * The lock (<hex>.lock, flock) serialises the fetches of one URL on the
 * host; it also holds, as decimal text, the time of the host's last fetch
 * attempt (success or failure), so that a refetch after an unknown kid is
 * made at most once per refresh interval per host. */
#ifndef OAUTH_JWKS_CACHE_H
#define OAUTH_JWKS_CACHE_H

#include <stddef.h>
#include <time.h>

#include "oauth_err.h"

enum oauth_jwks_cache_status {
    OAUTH_JWKS_CACHE_OK = 0,
    OAUTH_JWKS_CACHE_ABSENT,  /* no copy yet: nothing to say */
    OAUTH_JWKS_CACHE_BAD,     /* a copy that is not trusted or not readable: log it */
    OAUTH_JWKS_CACHE_ERROR,   /* out of memory, folder unusable */
};

/* The copy of url in dir: OAUTH_JWKS_CACHE_OK with *doc (malloc'd,
 * NUL-terminated, the caller frees it), *len and *fetched_at; or another
 * status with the reason in err.  max: the largest document accepted. */
enum oauth_jwks_cache_status oauth_jwks_cache_read(const char *dir, const char *url, size_t max,
                                                   char **doc, size_t *len, time_t *fetched_at,
                                                   struct oauth_err *err);

/* Replace the copy of url by doc[0..len), fetched at fetched_at (temporary
 * file, fsync, rename).  OAUTH_JWKS_CACHE_OK, or ERROR with the reason. */
enum oauth_jwks_cache_status oauth_jwks_cache_write(const char *dir, const char *url,
                                                    const char *doc, size_t len,
                                                    time_t fetched_at, struct oauth_err *err);

/* Take the host's lock for url, waiting at most timeout_ms: the lock's
 * descriptor (>= 0) and *last_attempt (0 when none was recorded), or -1 with
 * the reason in err (folder unusable, lock held too long). */
int oauth_jwks_cache_lock(const char *dir, const char *url, long timeout_ms,
                          time_t *last_attempt, struct oauth_err *err);
/* Record attempt (when not 0) as the host's last fetch attempt, and release
 * the lock. */
void oauth_jwks_cache_unlock(int fd, time_t attempt);

/* One fetch of a document through the host's copy.  With dir NULL there is
 * no copy: get, then take.  Otherwise a copy on disk is taken instead of a
 * fetch when it is younger than max_age and newer than the caller's (have;
 * 0: the caller has none) and, when want is set (the caller's copy lacks
 * something: an unknown kid), when it was fetched less than interval
 * seconds ago.  Otherwise the host's lock is taken, the copy read again
 * (another process may have fetched it while this one waited), and the
 * document fetched only when the host's last attempt is at least interval
 * seconds old or want is not set; the fetched document replaces the copy.
 * A caller with no copy of its own (have 0) takes the host's copy however
 * old it is when the host's last attempt is less than interval seconds old
 * or its own fetch fails: keys that are old beat no keys, as a process that
 * has keys keeps them when a fetch fails.
 * A copy not trusted, or a lock or write that fails, is noted (note) and
 * the fetch goes on as if there were no cache: a cache never refuses a
 * token.  take parses a document and keeps what it needs in ctx (0), or
 * refuses it (-1 with the reason): a refused copy on disk is noted and
 * fetched again, a refused fetched document is the fetch's failure. */
struct oauth_cache_fetch {
    const char *dir;                  /* NULL: no cache */
    const char *url;
    time_t now, have;
    int want;
    long max_age, interval, lock_timeout_ms;
    size_t max;                       /* largest document */
    enum oauth_err_class (*get)(void *ctx, char **doc, size_t *len, struct oauth_err *err);
    int (*take)(void *ctx, const char *doc, size_t len, struct oauth_err *err);
    void (*note)(void *ctx, const char *text);
    void *ctx;
};

enum oauth_cache_result {
    OAUTH_CACHE_FETCHED,              /* from the network (*fetched_at = now) */
    OAUTH_CACHE_FROM_DISK,            /* the host's copy (*fetched_at its fetch time) */
    OAUTH_CACHE_UNCHANGED,            /* nothing newer, and no fetch allowed yet */
    OAUTH_CACHE_FAILED,               /* err says why, with its class */
};
enum oauth_cache_result oauth_cache_fetch(const struct oauth_cache_fetch *f, time_t *fetched_at,
                                          struct oauth_err *err);

/* 0 when dir can hold the cache (a folder owned by this user or root, not
 * writable by others); -1 with the reason. For option checks at load. */
int oauth_jwks_cache_dir_ok(const char *dir, struct oauth_err *err);

#endif
