/* RFC 7662 introspection client and its cache: see oauth_introspect.h. */
#include "config.h"
#include "oauth_introspect.h"
#include "oauth_util.h"

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sasl-mechs/crypto.h>
#include <sasl-mechs/secret.h>

#define KEYLEN 32                 /* SHA-256 */
#define MAX_ENTRIES 1000000
#define MAX_TTL (366L * 24 * 3600)
#define MAX_PER_INTERVAL 1000000000UL
#define MAX_INTERVAL 86400L

enum { NOTICE_CACHE, NOTICE_BOUND, NOTICES };

struct entry {
    unsigned char key[KEYLEN];
    time_t expires;               /* usable while now < expires */
    int active;
    char *claims;                 /* active: the answer, compact JSON */
    size_t claimslen;
    struct entry *hnext;          /* bucket chain */
    struct entry *older, *newer;  /* insertion order */
};

struct oauth_introspector {
    struct oauth_introspect_config cfg; /* strings point at the copies below */
    char *endpoint, *client_id, *client_secret, *ca_file, *proxy;
    pthread_mutex_t mu;
    struct entry **buckets;
    size_t nbuckets;              /* a power of two */
    struct entry *oldest, *newest;
    size_t count;
    unsigned long hits, misses, requests, evictions, shared_hits, bounded;
    struct oauth_icache *icache;  /* the shared cache, or NULL */
    time_t window;                /* this process's count of requests: the interval */
    unsigned long window_count;
    time_t notice_at[NOTICES];    /* when each kind of notice was last given */
    char notice[NOTICES][OAUTH_ERR_REASON_MAX]; /* pending, "" when none */
};

/* The class is the answer: OAUTH_OK active, OAUTH_ERR_CLIENT not active
 * (invalid_token), else why no answer came. */
static enum oauth_err_class introspect_answer(struct oauth_err *err, enum oauth_err_class cls)
{
    oauth_err_is(err, cls, 0);
    if (err)
        err->status = cls == OAUTH_ERR_CLIENT ? OAUTH_STATUS_INVALID_TOKEN : 0;
    return cls;
}

void oauth_introspect_config_default(struct oauth_introspect_config *c)
{
    memset(c, 0, sizeof(*c));
    c->client_auth = OAUTH_CLIENT_AUTH_BASIC;
    oauth_http_options_default(&c->http);
    c->positive_ttl = 300;
    c->negative_ttl = 30;
    c->max_entries = 10000;
    c->cache_timeout_ms = 250;
    c->interval = 60;
}

static int introspect_dup_str(const char *s, char **out)
{
    *out = NULL;
    if (!s)
        return 0;
    return (*out = strdup(s)) ? 0 : -1;
}

/* ---- the cache (callers hold in->mu) -------------------------------------- */

static size_t introspect_bucket_of(const struct oauth_introspector *in, const unsigned char *key)
{
    uint64_t h;

    memcpy(&h, key, sizeof(h)); /* a SHA-256 output: already uniform */
    return (size_t)(h & (in->nbuckets - 1));
}

static void entry_destroy(struct entry *e)
{
    if (e->claims) {
        sm_erase(e->claims, e->claimslen);
        free(e->claims);
    }
    sm_erase(e, sizeof(*e));
    free(e);
}

static void entry_remove(struct oauth_introspector *in, struct entry *e)
{
    struct entry **pp = &in->buckets[introspect_bucket_of(in, e->key)];

    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
    if (e->older)
        e->older->newer = e->newer;
    else
        in->oldest = e->newer;
    if (e->newer)
        e->newer->older = e->older;
    else
        in->newest = e->older;
    in->count--;
    entry_destroy(e);
}

static struct entry *entry_find(struct oauth_introspector *in, const unsigned char *key)
{
    struct entry *e;

    for (e = in->buckets[introspect_bucket_of(in, key)]; e; e = e->hnext)
        if (sm_ct_equal(e->key, key, KEYLEN))
            return e;
    return NULL;
}

/* Takes e; replaces an entry with the same key; keeps the bound. */
static void entry_insert(struct oauth_introspector *in, struct entry *e, time_t now)
{
    struct entry *old = entry_find(in, e->key);
    size_t b;

    if (old)
        entry_remove(in, old);
    while (in->oldest && in->oldest->expires <= now) {
        entry_remove(in, in->oldest);
        in->evictions++;
    }
    while (in->count >= in->cfg.max_entries && in->oldest) {
        entry_remove(in, in->oldest);
        in->evictions++;
    }
    b = introspect_bucket_of(in, e->key);
    e->hnext = in->buckets[b];
    in->buckets[b] = e;
    e->newer = NULL;
    e->older = in->newest;
    if (in->newest)
        in->newest->newer = e;
    else
        in->oldest = e;
    in->newest = e;
    in->count++;
}

/* ---- setup ----------------------------------------------------------------- */

static enum oauth_err_class introspect_make(const struct oauth_introspect_config *c,
                                            struct oauth_introspector **out,
                                            struct oauth_err *err)
{
    struct oauth_introspector *in;
    size_t nb = 16;
    int insecure;

    if (out)
        *out = NULL;
    if (!c || !out) {
        oauth_why(err, "no configuration");
        return OAUTH_ERR_CONFIG;
    }
    if (!c->endpoint || !c->endpoint[0]) {
        oauth_why(err, "no introspection endpoint configured");
        return OAUTH_ERR_CONFIG;
    }
    if (!c->client_id || !c->client_id[0] || !c->client_secret) {
        oauth_why(err, "introspection needs a client id and a client secret");
        return OAUTH_ERR_CONFIG;
    }
    if (c->client_auth != OAUTH_CLIENT_AUTH_BASIC && c->client_auth != OAUTH_CLIENT_AUTH_POST) {
        oauth_why(err, "introspection client authentication must be "
                       "client_secret_basic or client_secret_post");
        return OAUTH_ERR_CONFIG;
    }
    if (c->positive_ttl < 0 || c->positive_ttl > MAX_TTL || c->negative_ttl < 0
        || c->negative_ttl > MAX_TTL || c->max_entries > MAX_ENTRIES) {
        oauth_why(err, "introspection cache settings out of range (ttl 0..%ld s, "
                       "entries 0..%d)", MAX_TTL, MAX_ENTRIES);
        return OAUTH_ERR_CONFIG;
    }
    if (c->http.connect_timeout_ms <= 0 || c->http.timeout_ms <= 0 || c->http.max_response == 0) {
        oauth_why(err, "introspection HTTP timeouts and size cap must be > 0");
        return OAUTH_ERR_CONFIG;
    }
    if (c->max_per_interval > MAX_PER_INTERVAL || c->interval <= 0 || c->interval > MAX_INTERVAL) {
        oauth_why(err, "introspection bound out of range (requests 0..%lu per 1..%ld s)",
                  MAX_PER_INTERVAL, MAX_INTERVAL);
        return OAUTH_ERR_CONFIG;
    }
    insecure = oauth_http_url_insecure(c->endpoint);
    if (insecure < 0 || (insecure > 0 && !c->http.allow_insecure)) {
        oauth_why(err, "introspection endpoint must be an https:// URL "
                       "(http:// only to a loopback host)");
        return OAUTH_ERR_CONFIG;
    }
    if (!(in = calloc(1, sizeof(*in))))
        goto oom;
    in->cfg = *c;
    if (introspect_dup_str(c->endpoint, &in->endpoint)
        || introspect_dup_str(c->client_id, &in->client_id)
        || introspect_dup_str(c->client_secret, &in->client_secret)
        || introspect_dup_str(c->http.ca_file, &in->ca_file)
        || introspect_dup_str(c->http.proxy, &in->proxy)) {
        oauth_introspector_free(in);
        goto oom;
    }
    in->cfg.endpoint = in->endpoint;
    in->cfg.client_id = in->client_id;
    in->cfg.client_secret = in->client_secret;
    in->cfg.http.ca_file = in->ca_file;
    in->cfg.http.proxy = in->proxy;
    in->cfg.cache_server = NULL;  /* not kept: the shared cache has what it needs */
    in->cfg.cache_secret = NULL;
    in->cfg.cache_secret_len = 0;
    if (c->cache_server) {
        struct oauth_icache_config ic = {
            .server = c->cache_server,
            .secret = c->cache_secret,
            .secret_len = c->cache_secret_len,
            .timeout_ms = c->cache_timeout_ms,
        };
        enum oauth_err_class cls = oauth_icache_new(&ic, &in->icache, err);
        if (cls != OAUTH_OK) {
            oauth_introspector_free(in);
            return cls;
        }
    }
    while (nb < c->max_entries / 2)
        nb *= 2;
    in->nbuckets = nb;
    if (!(in->buckets = calloc(nb, sizeof(*in->buckets)))) {
        oauth_introspector_free(in);
        goto oom;
    }
    if (pthread_mutex_init(&in->mu, NULL) != 0) {
        free(in->buckets);
        in->buckets = NULL;
        oauth_introspector_free(in);
        goto oom;
    }
    *out = in;
    return OAUTH_OK;
oom:
    oauth_why(err, "out of memory");
    return OAUTH_ERR_INTERNAL;
}

enum oauth_err_class oauth_introspector_new(const struct oauth_introspect_config *c,
                                            struct oauth_introspector **out,
                                            struct oauth_err *err)
{
    oauth_err_clear(err);
    return introspect_answer(err, introspect_make(c, out, err));
}

void oauth_introspector_free(struct oauth_introspector *in)
{
    if (!in)
        return;
    if (in->buckets) {
        while (in->oldest)
            entry_remove(in, in->oldest);
        free(in->buckets);
        pthread_mutex_destroy(&in->mu);
    }
    oauth_secret_free(in->endpoint);
    oauth_secret_free(in->client_id);
    oauth_secret_free(in->client_secret);
    oauth_secret_free(in->ca_file);
    oauth_secret_free(in->proxy);
    oauth_icache_free(in->icache);
    sm_erase(in, sizeof(*in));
    free(in);
}

void oauth_introspector_stats(struct oauth_introspector *in, struct oauth_introspect_stats *s)
{
    memset(s, 0, sizeof(*s));
    if (!in)
        return;
    pthread_mutex_lock(&in->mu);
    s->entries = in->count;
    s->hits = in->hits;
    s->misses = in->misses;
    s->requests = in->requests;
    s->evictions = in->evictions;
    s->shared_hits = in->shared_hits;
    s->bounded = in->bounded;
    pthread_mutex_unlock(&in->mu);
}

/* Queue a notice of a kind unless one was given less than an interval ago. */
static void introspect_notice(struct oauth_introspector *in, int kind, time_t now,
                              const char *text)
{
    pthread_mutex_lock(&in->mu);
    if (!in->notice_at[kind] || now - in->notice_at[kind] >= in->cfg.interval
        || now < in->notice_at[kind]) {
        in->notice_at[kind] = now;
        snprintf(in->notice[kind], sizeof(in->notice[kind]), "%s", text);
    }
    pthread_mutex_unlock(&in->mu);
}

int oauth_introspect_take_notice(struct oauth_introspector *in, char *buf, size_t n)
{
    int k, got = 0;

    if (!in || n == 0)
        return 0;
    pthread_mutex_lock(&in->mu);
    for (k = 0; k < NOTICES && !got; k++)
        if (in->notice[k][0]) {
            snprintf(buf, n, "%s", in->notice[k]);
            in->notice[k][0] = '\0';
            got = 1;
        }
    pthread_mutex_unlock(&in->mu);
    return got;
}

/* ---- one lookup -------------------------------------------------------------- */

static time_t introspect_add_ttl(time_t now, long ttl)
{
    /* time_t is 64-bit on every platform this builds for; stay clear of the top */
    if (now > (time_t)(INT64_MAX / 2))
        return now;
    return now + (time_t)ttl;
}

/* Ask the endpoint; on ACTIVE *obj holds the answer. */
static enum oauth_err_class introspect_ask(struct oauth_introspector *in, const char *token,
                                           size_t toklen, json_t **obj, struct oauth_err *err)
{
    struct oauth_http_field f[4];
    struct oauth_http_basic basic;
    struct oauth_http_response r;
    enum oauth_http_status hs;
    struct oauth_err herr;
    char *tok;
    size_t nf = 0;
    json_error_t jerr;
    json_t *root, *active;

    *obj = NULL;
    if (!(tok = malloc(toklen + 1))) {
        oauth_why(err, "out of memory");
        return OAUTH_ERR_INTERNAL;
    }
    memcpy(tok, token, toklen);
    tok[toklen] = '\0';
    f[nf++] = (struct oauth_http_field){"token", tok};
    f[nf++] = (struct oauth_http_field){"token_type_hint", "access_token"};
    if (in->cfg.client_auth == OAUTH_CLIENT_AUTH_POST) {
        f[nf++] = (struct oauth_http_field){"client_id", in->client_id};
        f[nf++] = (struct oauth_http_field){"client_secret", in->client_secret};
    }
    basic.client_id = in->client_id;
    basic.client_secret = in->client_secret;
    oauth_err_clear(&herr);
    hs = oauth_http_post_form(in->endpoint, &in->cfg.http, f, nf,
                              in->cfg.client_auth == OAUTH_CLIENT_AUTH_BASIC ? &basic : NULL, &r,
                              &herr);
    sm_erase(tok, toklen);
    free(tok);

    if (hs != OAUTH_HTTP_OK) {
        /* the HTTP client's class stands (a server that is down or
         * overloaded is temporary, the rest an administrator's); only the
         * sentence is ours */
        if (hs == OAUTH_HTTP_STATUS_ERROR && (r.code == 401 || r.code == 403))
            oauth_why(err, "introspection endpoint refused our client credentials (%s)",
                      herr.reason);
        else if (herr.cls == OAUTH_ERR_TEMPORARY && hs != OAUTH_HTTP_STATUS_ERROR)
            oauth_why(err, "introspection endpoint unavailable: %s", herr.reason);
        else if (hs == OAUTH_HTTP_STATUS_ERROR)
            oauth_why(err, "introspection endpoint %s", herr.reason);
        else
            oauth_why(err, "introspection: %s: %s", oauth_http_status_text(hs), herr.reason);
        oauth_http_response_free(&r);
        return herr.cls;
    }
    if (r.code != 200) {
        oauth_why(err, "introspection endpoint answered HTTP %ld, not 200", r.code);
        oauth_http_response_free(&r);
        return OAUTH_ERR_CONFIG;
    }
    root = json_loadb(r.body, r.len, JSON_REJECT_DUPLICATES, &jerr);
    oauth_http_response_free(&r);
    if (!root) {
        /* jansson's error text may quote the input: the position only */
        oauth_why(err, "introspection response is not valid JSON (line %d, column %d)",
                  jerr.line, jerr.column);
        return OAUTH_ERR_CONFIG;
    }
    if (!json_is_object(root)) {
        oauth_why(err, "introspection response is not a JSON object");
        json_decref(root);
        return OAUTH_ERR_CONFIG;
    }
    active = json_object_get(root, "active");
    if (!json_is_boolean(active)) {
        oauth_why(err, "introspection response has no boolean \"active\" member");
        json_decref(root);
        return OAUTH_ERR_CONFIG;
    }
    if (!json_is_true(active)) {
        oauth_why(err, "token is not active (introspection)");
        json_decref(root);
        return OAUTH_ERR_CLIENT;
    }
    *obj = root;
    return OAUTH_OK;
}

/* How long an answer may be kept: inactive (obj NULL) for negative_ttl,
 * active until min(exp, now + positive_ttl); 0: not at all. */
static time_t introspect_until(const struct oauth_introspector *in, const json_t *obj, time_t now)
{
    time_t until;

    if (!obj) {
        if (in->cfg.negative_ttl <= 0)
            return 0;
        return introspect_add_ttl(now, in->cfg.negative_ttl);
    } else {
        json_t *exp = json_object_get(obj, "exp");
        if (in->cfg.positive_ttl <= 0)
            return 0;
        until = introspect_add_ttl(now, in->cfg.positive_ttl);
        if (exp) {
            double d;
            if (!json_is_number(exp))
                return 0; /* the claim checks will refuse it; keep nothing */
            d = json_number_value(exp);
            if (!(d > (double)now))
                return 0;
            if (d < (double)until)
                until = (time_t)d;
        }
        return until > now ? until : 0;
    }
}

/* Keep an answer in this process's cache until `until`. */
static void introspect_remember(struct oauth_introspector *in, const unsigned char *key,
                                json_t *obj, time_t until, time_t now)
{
    struct entry *e;

    if (in->cfg.max_entries == 0 || until <= now)
        return;
    if (!(e = calloc(1, sizeof(*e))))
        return;
    memcpy(e->key, key, KEYLEN);
    e->expires = until;
    e->active = obj != NULL;
    if (obj) {
        if (!(e->claims = json_dumps(obj, JSON_COMPACT))) {
            entry_destroy(e);
            return;
        }
        e->claimslen = strlen(e->claims);
    }
    pthread_mutex_lock(&in->mu);
    entry_insert(in, e, now);
    pthread_mutex_unlock(&in->mu);
}

/* -1: no entry; else the cached status (claims parsed into *obj) */
static int introspect_from_cache(struct oauth_introspector *in, const unsigned char *key,
                                 time_t now, json_t **obj)
{
    struct entry *e;
    int st = -1;

    *obj = NULL;
    if (in->cfg.max_entries == 0)
        return -1;
    pthread_mutex_lock(&in->mu);
    e = entry_find(in, key);
    if (e && now >= e->expires) {
        entry_remove(in, e);
        in->evictions++;
        e = NULL;
    }
    if (e && e->active) {
        json_error_t jerr;
        if ((*obj = json_loadb(e->claims, e->claimslen, JSON_REJECT_DUPLICATES, &jerr)))
            st = OAUTH_OK;
    } else if (e) {
        st = OAUTH_ERR_CLIENT;
    }
    if (st >= 0)
        in->hits++;
    else
        in->misses++;
    pthread_mutex_unlock(&in->mu);
    return st;
}

/* -1: nothing usable in the shared cache (or none); else the status, kept
 * in this process's cache too */
static int introspect_from_shared(struct oauth_introspector *in, const unsigned char *key,
                                  time_t now, json_t **obj)
{
    struct oauth_err why;
    enum oauth_icache_answer a;
    time_t until;

    *obj = NULL;
    if (!in->icache)
        return -1;
    oauth_err_clear(&why);
    a = oauth_icache_get(in->icache, key, now, &until, obj, &why);
    if (a == OAUTH_ICACHE_MISS) {
        if (why.reason[0])
            introspect_notice(in, NOTICE_CACHE, now, why.reason);
        return -1;
    }
    pthread_mutex_lock(&in->mu);
    in->shared_hits++;
    in->hits++;
    if (in->cfg.max_entries) /* introspect_from_cache counted a miss: a hit after all */
        in->misses--;
    pthread_mutex_unlock(&in->mu);
    introspect_remember(in, key, *obj, until, now);
    return a == OAUTH_ICACHE_ACTIVE ? OAUTH_OK : OAUTH_ERR_CLIENT;
}

/* 0 when one more request to the endpoint is within the bound, else -1
 * with the reason in err */
static int introspect_bound(struct oauth_introspector *in, time_t now, struct oauth_err *err)
{
    time_t window = now / in->cfg.interval;
    unsigned long count = 0;
    int shared = 0;
    char text[OAUTH_ERR_REASON_MAX];

    if (!in->cfg.max_per_interval)
        return 0;
    if (in->icache) {
        struct oauth_err why;
        char name[64];
        oauth_err_clear(&why);
        snprintf(name, sizeof(name), "bound:%ld:%lld", in->cfg.interval, (long long)window);
        if (oauth_icache_count(in->icache, name, 2 * in->cfg.interval, now, &count, &why) == 0)
            shared = 1;
        else
            introspect_notice(in, NOTICE_CACHE, now, why.reason);
    }
    pthread_mutex_lock(&in->mu);
    if (!shared) {
        if (in->window != window) {
            in->window = window;
            in->window_count = 0;
        }
        count = ++in->window_count;
    }
    if (count > in->cfg.max_per_interval)
        in->bounded++;
    pthread_mutex_unlock(&in->mu);
    if (count <= in->cfg.max_per_interval)
        return 0;
    snprintf(text, sizeof(text), "introspection bound reached: more than %lu requests to the "
             "endpoint in %ld s (%s); tokens in no cache are refused as temporary failures "
             "until the interval ends", in->cfg.max_per_interval, in->cfg.interval,
             shared ? "counted by every process through the shared cache" : "by this process");
    introspect_notice(in, NOTICE_BOUND, now, text);
    oauth_why(err, "introspection bound reached (%lu requests per %ld s): try again later",
              in->cfg.max_per_interval, in->cfg.interval);
    return -1;
}

static enum oauth_err_class introspect_lookup(struct oauth_introspector *in, const char *token,
                                   size_t toklen, time_t now, json_t **claims, int *cached,
                                              struct oauth_err *err)
{
    unsigned char key[KEYLEN];
    size_t keylen = 0;
    enum oauth_err_class st;
    json_t *obj = NULL;
    int c;

    if (claims)
        *claims = NULL;
    if (cached)
        *cached = 0;
    if (!in) {
        oauth_why(err, "introspection is not configured");
        return OAUTH_ERR_CONFIG;
    }
    if (!token || toklen == 0 || toklen > OAUTH_INTROSPECT_MAX_TOKEN
        || memchr(token, '\0', toklen)) {
        oauth_why(err, "token empty, longer than %d bytes, or containing NUL",
                  OAUTH_INTROSPECT_MAX_TOKEN);
        return OAUTH_ERR_CLIENT;
    }
    if (sm_digest("SHA256", token, toklen, key, sizeof(key), &keylen) != 0 || keylen != KEYLEN) {
        oauth_why(err, "SHA-256 unavailable");
        return OAUTH_ERR_INTERNAL;
    }
    if ((c = introspect_from_cache(in, key, now, &obj)) >= 0) {
        st = (enum oauth_err_class)c;
        if (cached)
            *cached = 1;
        if (st == OAUTH_ERR_CLIENT)
            oauth_why(err, "token is not active (introspection, cached)");
    } else if ((c = introspect_from_shared(in, key, now, &obj)) >= 0) {
        st = (enum oauth_err_class)c;
        if (cached)
            *cached = 1;
        if (st == OAUTH_ERR_CLIENT)
            oauth_why(err, "token is not active (introspection, shared cache)");
    } else if (introspect_bound(in, now, err) != 0) {
        st = OAUTH_ERR_TEMPORARY;
    } else {
        pthread_mutex_lock(&in->mu);
        in->requests++;
        pthread_mutex_unlock(&in->mu);
        st = introspect_ask(in, token, toklen, &obj, err);
        if (st == OAUTH_OK || st == OAUTH_ERR_CLIENT) {
            time_t until = introspect_until(in, obj, now);
            struct oauth_err why;
            introspect_remember(in, key, obj, until, now);
            oauth_err_clear(&why);
            if (until > now && in->icache
                && oauth_icache_put(in->icache, key, obj, until, now, &why) != 0)
                introspect_notice(in, NOTICE_CACHE, now, why.reason);
        }
    }
    sm_erase(key, sizeof(key));
    if (st == OAUTH_OK && claims)
        *claims = obj;
    else
        json_decref(obj);
    return st;
}

enum oauth_err_class oauth_introspect(struct oauth_introspector *in, const char *token,
                                      size_t toklen, time_t now, json_t **claims, int *cached,
                                      struct oauth_err *err)
{
    oauth_err_clear(err);
    return introspect_answer(err, introspect_lookup(in, token, toklen, now, claims, cached, err));
}
