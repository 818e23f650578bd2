/* The shared introspection cache's codec: the value stored in memcached and
 * memcached's reply to "get" (see oauth_icache.h).  Pure functions: no
 * socket, no lock, no libsasl2. */
#include "config.h"
#include "oauth_icache.h"
#include "oauth_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sasl-mechs/hex.h>
#include <sasl-mechs/secret.h>

#define HMAC_HEX (2 * OAUTH_HMAC_SHA256_LEN)
#define DOMAIN "sasl-mechs introspection cache v1"

/* ---- the codec ------------------------------------------------------------ */

/* the claims oauth_jwt_check_claims reads, and nothing else */
static const char *const kept_claims[] = {
    "active", "exp", "nbf", "iat", "iss", "aud", "scope", "scp",
    "sub", "email", "email_verified", "preferred_username", "upn", NULL,
};

static int icache_kept(const char *name)
{
    const char *const *k;

    for (k = kept_claims; *k; k++)
        if (strcmp(*k, name) == 0)
            return 1;
    return 0;
}

static int icache_mac(const unsigned char *secret, size_t secret_len,
                      const unsigned char key[OAUTH_ICACHE_KEYLEN], const char *rest,
                      size_t restlen, unsigned char mac[OAUTH_HMAC_SHA256_LEN])
{
    const void *part[3] = {DOMAIN, key, rest};
    const size_t len[3] = {sizeof(DOMAIN), OAUTH_ICACHE_KEYLEN, restlen}; /* with DOMAIN's NUL */

    return oauth_hmac_sha256(secret, secret_len, part, len, 3, mac);
}

int oauth_icache_encode(const unsigned char *secret, size_t secret_len,
                        const unsigned char key[OAUTH_ICACHE_KEYLEN], const json_t *claims,
                        time_t until, char **out, size_t *outlen)
{
    unsigned char mac[OAUTH_HMAC_SHA256_LEN];
    char *json = NULL, *buf;
    size_t n, cap;
    int len;

    *out = NULL;
    *outlen = 0;
    if (until <= 0)
        return -1;
    if (claims) {
        json_t *kept = json_object(), *v;
        const char *name;

        if (!kept)
            return -1;
        if (!json_is_object(claims) || !json_is_true(json_object_get(claims, "active"))) {
            json_decref(kept);
            return -1;
        }
        json_object_foreach((json_t *)claims, name, v)
            if (icache_kept(name) && json_object_set(kept, name, v) != 0) {
                json_decref(kept);
                return -1;
            }
        json = json_dumps(kept, JSON_COMPACT);
        json_decref(kept);
        if (!json)
            return -1;
    }
    cap = HMAC_HEX + 32 + (json ? strlen(json) : 1) + 1;
    if (cap > OAUTH_ICACHE_MAX_VALUE + 1 || !(buf = malloc(cap))) {
        oauth_secret_free(json);
        return -1;
    }
    len = snprintf(buf + HMAC_HEX, cap - HMAC_HEX, " v1 %lld %s", (long long)until,
                   json ? json : "-");
    oauth_secret_free(json);
    if (len < 0 || (size_t)len >= cap - HMAC_HEX
        || icache_mac(secret, secret_len, key, buf + HMAC_HEX + 1, (size_t)len - 1, mac) != 0) {
        sm_erase(buf, cap);
        free(buf);
        return -1;
    }
    sm_hex_encode(mac, sizeof(mac), buf);
    n = HMAC_HEX + (size_t)len;
    if (n > OAUTH_ICACHE_MAX_VALUE) {
        sm_erase(buf, cap);
        free(buf);
        return -1;
    }
    *out = buf;
    *outlen = n;
    return 0;
}

/* A decimal without sign or leading zero, at most 18 digits. */
static int icache_parse_time(const char *s, size_t n, time_t *t)
{
    long long v = 0;
    size_t i;

    if (n == 0 || n > 18 || (s[0] == '0' && n > 1))
        return -1;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *t = (time_t)v;
    return 0;
}

static enum oauth_icache_answer icache_refuse(struct oauth_err *why, const char *what)
{
    oauth_why(why, "shared introspection cache: a value refused (%s); asking the provider",
              what);
    return OAUTH_ICACHE_MISS;
}

enum oauth_icache_answer oauth_icache_decode(const unsigned char *secret, size_t secret_len,
                                             const unsigned char key[OAUTH_ICACHE_KEYLEN],
                                             const char *val, size_t len, time_t now,
                                             time_t *until, json_t **claims,
                                             struct oauth_err *why)
{
    unsigned char mac[OAUTH_HMAC_SHA256_LEN], got[OAUTH_HMAC_SHA256_LEN];
    const char *rest, *sp, *end = val + len;
    time_t t;
    int ok;

    *claims = NULL;
    *until = 0;
    if (len > OAUTH_ICACHE_MAX_VALUE || len < HMAC_HEX + 6 || memchr(val, '\0', len))
        return icache_refuse(why, "malformed");
    if (sm_hex_decode_lower(val, OAUTH_HMAC_SHA256_LEN, got) != 0 || val[HMAC_HEX] != ' ')
        return icache_refuse(why, "malformed");
    rest = val + HMAC_HEX + 1;
    if (icache_mac(secret, secret_len, key, rest, (size_t)(end - rest), mac) != 0)
        return icache_refuse(why, "HMAC unavailable");
    ok = sm_ct_equal(mac, got, sizeof(mac));
    sm_erase(mac, sizeof(mac));
    if (!ok)
        return icache_refuse(why, "wrong HMAC: written without this site's cache key");
    /* authentic from here on, but still parsed strictly */
    if (end - rest < 3 || memcmp(rest, "v1 ", 3) != 0)
        return icache_refuse(why, "unknown version");
    rest += 3;
    if (!(sp = memchr(rest, ' ', (size_t)(end - rest)))
        || icache_parse_time(rest, (size_t)(sp - rest), &t) != 0)
        return icache_refuse(why, "malformed time");
    rest = sp + 1;
    if (now >= t)
        return OAUTH_ICACHE_MISS; /* expired: a plain miss */
    if (t - now > OAUTH_ICACHE_MAX_TTL)
        return icache_refuse(why, "time too far ahead");
    if (end - rest == 1 && rest[0] == '-') {
        *until = t;
        return OAUTH_ICACHE_INACTIVE;
    } else {
        json_error_t jerr;
        json_t *obj = json_loadb(rest, (size_t)(end - rest), JSON_REJECT_DUPLICATES, &jerr), *v;
        const char *name;

        if (!obj || !json_is_object(obj) || !json_is_true(json_object_get(obj, "active"))) {
            json_decref(obj);
            return icache_refuse(why, "claims not an active JSON object");
        }
        json_object_foreach(obj, name, v)
            if (!icache_kept(name)) {
                json_decref(obj);
                return icache_refuse(why, "a claim the cache does not keep");
            }
        *claims = obj;
        *until = t;
        return OAUTH_ICACHE_ACTIVE;
    }
}

/* ---- memcached's reply to "get" ------------------------------------------- */

const char *oauth_icache_crlf(const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len;

    while (p < end && (p = memchr(p, '\r', (size_t)(end - p))) && p + 1 < end) {
        if (p[1] == '\n')
            return p;
        p++;
    }
    return NULL;
}

static int icache_digits(const char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    return n > 0;
}

int oauth_icache_parse_get_reply(const char *buf, size_t len, const char *key, size_t keylen,
                                 size_t *off, size_t *vlen)
{
    const char *crlf = oauth_icache_crlf(buf, len), *p, *e;
    unsigned long long bytes = 0;
    size_t hdr, total;

    *off = *vlen = 0;
    if (!crlf)
        return len > OAUTH_ICACHE_MAX_LINE ? -1 : 0;
    hdr = (size_t)(crlf - buf);
    if (hdr == 3 && memcmp(buf, "END", 3) == 0)
        return len == 5 ? 1 : -1;
    /* VALUE <key> <flags> <bytes> */
    if (hdr < 6 + keylen + 4 || memcmp(buf, "VALUE ", 6) != 0
        || memcmp(buf + 6, key, keylen) != 0 || buf[6 + keylen] != ' ')
        return -1;
    p = buf + 6 + keylen + 1;
    e = memchr(p, ' ', (size_t)(crlf - p));
    if (!e || (size_t)(e - p) > 10 || !icache_digits(p, (size_t)(e - p)))
        return -1;
    p = e + 1;
    if ((size_t)(crlf - p) > 6 || !icache_digits(p, (size_t)(crlf - p)))
        return -1;
    for (; p < crlf; p++)
        bytes = bytes * 10 + (unsigned)(*p - '0');
    if (bytes > OAUTH_ICACHE_MAX_VALUE)
        return -1;
    total = hdr + 2 + (size_t)bytes + 7;
    if (len < total)
        return 0;
    if (len > total || memcmp(buf + hdr + 2 + bytes, "\r\nEND\r\n", 7) != 0)
        return -1;
    *off = hdr + 2;
    *vlen = (size_t)bytes;
    return 1;
}

