/* The introspection cache shared by every process of every host: a small
 * client of memcached's text protocol over one TCP connection per process
 * (no client library: the protocol needs get, set, add and incr, a few
 * dozen lines), and the codec of what is stored there.
 *
 * Key: "sasl-mechs:oi:" and the SHA-256 of the token in lowercase hex (the
 * token itself never leaves the process).  Value, at most
 * OAUTH_ICACHE_MAX_VALUE bytes:
 *
 *     <64 hex: HMAC-SHA256> " v1 " <until> " " ( "-" | <claims> )
 *
 * until: the Unix time the answer may be used until (decimal, no sign, no
 * leading zero); "-": the token is not active; claims: a compact JSON
 * object holding "active": true and only the claims the verdict reads (exp,
 * nbf, iat, iss, aud, scope, scp, sub, email, email_verified,
 * preferred_username, upn), so that every reader applies its own claim
 * rules to them.  The HMAC, keyed with the site's cache key, covers a
 * domain string, the token's SHA-256 and everything after it: a writer to
 * the cache server without the key cannot forge "active", move a value to
 * another token, or extend its life.  The server's own expiry
 * (exptime) is set to until as well.
 *
 * Reading is strict: a value that does not parse, carries a wrong HMAC, or
 * has expired is refused and counted, and the caller treats it as a miss.
 *
 * The server being down, slow (each exchange has a deadline of timeout_ms)
 * or answering outside the protocol is never the token's fault: the call
 * fails, the connection is closed, the server is left alone for
 * OAUTH_ICACHE_RETRY seconds, and the caller asks the provider.  One
 * mutex guards the connection (exchanges are short); a process forked with
 * an open connection opens its own. */
#ifndef OAUTH_ICACHE_H
#define OAUTH_ICACHE_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "oauth_err.h"

#define OAUTH_ICACHE_KEYLEN 32          /* SHA-256 of the token */
#define OAUTH_ICACHE_MIN_SECRET 32      /* bytes of the HMAC key */
#define OAUTH_ICACHE_MAX_VALUE 8192
#define OAUTH_ICACHE_RETRY 5            /* seconds a failed server is left alone */
#define OAUTH_ICACHE_MAX_TTL (30L * 24 * 3600) /* memcached's relative exptime limit */
#define OAUTH_ICACHE_MAX_LINE 512       /* a reply line of memcached other than a value */

struct oauth_icache_config {
    const char *server;                 /* memcached://HOST:PORT (HOST a name, IPv4, [IPv6]) */
    const unsigned char *secret;        /* the HMAC key, >= OAUTH_ICACHE_MIN_SECRET bytes */
    size_t secret_len;
    long timeout_ms;                    /* connect and each exchange, > 0 */
};

/* The server's address is resolved now (before a chroot).  OAUTH_OK, or
 * OAUTH_ERR_CONFIG / OAUTH_ERR_INTERNAL with the reason. */
struct oauth_icache;
enum oauth_err_class oauth_icache_new(const struct oauth_icache_config *c,
                                      struct oauth_icache **out, struct oauth_err *err);
void oauth_icache_free(struct oauth_icache *ic);

enum oauth_icache_answer {
    OAUTH_ICACHE_MISS = 0,              /* nothing usable (absent, refused, expired, server down) */
    OAUTH_ICACHE_ACTIVE,                /* *claims set (the caller json_decrefs it) */
    OAUTH_ICACHE_INACTIVE,
};

/* The entry of key at time now.  *until (when not a miss) is the time it
 * may be used until.  why (may be NULL) gets a sentence when the miss is
 * not a plain absence (server trouble, a refused value). */
enum oauth_icache_answer oauth_icache_get(struct oauth_icache *ic,
                                          const unsigned char key[OAUTH_ICACHE_KEYLEN],
                                          time_t now, time_t *until, json_t **claims,
                                          struct oauth_err *why);

/* Store an answer (claims NULL: not active) until `until` (> now).  0, or
 * -1 with a sentence in why (the answer is then simply not shared). */
int oauth_icache_put(struct oauth_icache *ic, const unsigned char key[OAUTH_ICACHE_KEYLEN],
                     const json_t *claims, time_t until, time_t now, struct oauth_err *why);

/* Add one to the shared counter `name` (a short key suffix without spaces),
 * created with a life of ttl seconds: 0 and *count the new value, or -1
 * (server unusable) with a sentence in why. */
int oauth_icache_count(struct oauth_icache *ic, const char *name, long ttl, time_t now,
                       unsigned long *count, struct oauth_err *why);

struct oauth_icache_stats {
    unsigned long gets, hits, refused, failures, stores;
};
void oauth_icache_stats(struct oauth_icache *ic, struct oauth_icache_stats *s);

/* ---- the codec (oauth_icache_codec.c: pure; for the client above, tests
 * and fuzzing) ------------------------------------------------------------ */

/* The value for key: claims NULL (not active) or an object whose "active"
 * is true (only the claims listed above are kept).  0 and a malloc'd *out
 * of *outlen bytes (NUL after them), or -1 (not active claims, too large,
 * no memory, OpenSSL). */
int oauth_icache_encode(const unsigned char *secret, size_t secret_len,
                        const unsigned char key[OAUTH_ICACHE_KEYLEN], const json_t *claims,
                        time_t until, char **out, size_t *outlen);

/* The answer a value gives for key at time now; OAUTH_ICACHE_MISS for
 * anything malformed, forged or expired (why says which, never quoting the
 * value). */
enum oauth_icache_answer oauth_icache_decode(const unsigned char *secret, size_t secret_len,
                                             const unsigned char key[OAUTH_ICACHE_KEYLEN],
                                             const char *val, size_t len, time_t now,
                                             time_t *until, json_t **claims,
                                             struct oauth_err *why);

/* memcached's reply to "get KEY" in buf[0..len): 1 when whole ("END\r\n":
 * *vlen 0 and *off 0; or "VALUE KEY FLAGS BYTES\r\n" DATA "\r\nEND\r\n":
 * the data at *off, *vlen bytes, at most OAUTH_ICACHE_MAX_VALUE), 0 when
 * more is needed, -1 when it is anything else (another key, trailing
 * bytes, an error line). */
int oauth_icache_parse_get_reply(const char *buf, size_t len, const char *key, size_t keylen,
                                 size_t *off, size_t *vlen);

/* The first CRLF in buf[0..len), or NULL. */
const char *oauth_icache_crlf(const char *buf, size_t len);

#endif
