/* Verified JWTs, keyed by SHA-256: see oauth_jwt_cache.h. */
#include "config.h"
#include "oauth_jwt_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sasl-mechs/crypto.h>
#include <sasl-mechs/secret.h>

struct entry {
    unsigned char key[OAUTH_JWT_CACHE_KEY];
    struct oauth_jwt_cached val;
    char *user;                       /* NULL: the slot is free */
    long next;                        /* in its bucket or the free list; -1 ends */
};

struct oauth_jwt_cache {
    pthread_mutex_t lock;
    size_t max, used, nbuckets;
    long free_list;
    long *buckets;
    struct entry *e;
};

struct oauth_jwt_cache *oauth_jwt_cache_new(size_t max_entries)
{
    struct oauth_jwt_cache *c;
    size_t i;

    if (max_entries == 0 || max_entries > OAUTH_JWT_CACHE_MAX || !(c = calloc(1, sizeof(*c))))
        return NULL;
    c->max = max_entries;
    c->nbuckets = max_entries;
    c->buckets = malloc(c->nbuckets * sizeof(*c->buckets));
    c->e = calloc(max_entries, sizeof(*c->e));
    if (!c->buckets || !c->e || pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c->buckets);
        free(c->e);
        free(c);
        return NULL;
    }
    for (i = 0; i < c->nbuckets; i++)
        c->buckets[i] = -1;
    for (i = 0; i < max_entries; i++)
        c->e[i].next = i + 1 < max_entries ? (long)(i + 1) : -1;
    c->free_list = 0;
    return c;
}

static void entry_erase(struct entry *e)
{
    if (e->user) {
        sm_erase(e->user, strlen(e->user));
        free(e->user);
    }
    sm_erase(e, sizeof(*e));
}

void oauth_jwt_cache_free(struct oauth_jwt_cache *c)
{
    size_t i;

    if (!c)
        return;
    for (i = 0; i < c->max; i++)
        entry_erase(&c->e[i]);
    pthread_mutex_destroy(&c->lock);
    free(c->e);
    free(c->buckets);
    free(c);
}

int oauth_jwt_cache_key(const char *token, size_t len, unsigned char key[OAUTH_JWT_CACHE_KEY])
{
    size_t n = 0;

    return sm_digest("SHA256", token, len, key, OAUTH_JWT_CACHE_KEY, &n) == 0
                   && n == OAUTH_JWT_CACHE_KEY ? 0 : -1;
}

/* the key is a hash already: its first bytes are as good as any */
static size_t bucket_of(const struct oauth_jwt_cache *c, const unsigned char *key)
{
    size_t h;

    memcpy(&h, key, sizeof(h));
    return h % c->nbuckets;
}

/* The index of key's entry (the lock held), -1 when absent; *prev gets the
 * entry before it in the bucket (-1: the head). */
static long find(struct oauth_jwt_cache *c, const unsigned char *key, long *prev)
{
    long i = c->buckets[bucket_of(c, key)];

    *prev = -1;
    for (; i >= 0; *prev = i, i = c->e[i].next)
        if (memcmp(c->e[i].key, key, OAUTH_JWT_CACHE_KEY) == 0)
            return i;
    return -1;
}

/* Unlink entry i (prev before it), erase it, put it on the free list. */
static void unlink_entry(struct oauth_jwt_cache *c, long i, long prev)
{
    size_t b = bucket_of(c, c->e[i].key);

    if (prev < 0)
        c->buckets[b] = c->e[i].next;
    else
        c->e[prev].next = c->e[i].next;
    entry_erase(&c->e[i]);
    c->e[i].next = c->free_list;
    c->free_list = i;
    c->used--;
}

static void remove_key(struct oauth_jwt_cache *c, const unsigned char *key)
{
    long prev, i = find(c, key, &prev);

    if (i >= 0)
        unlink_entry(c, i, prev);
}

int oauth_jwt_cache_get(struct oauth_jwt_cache *c, const unsigned char key[OAUTH_JWT_CACHE_KEY],
                        time_t now, long leeway, struct oauth_jwt_cached *out, char **user)
{
    long prev, i;
    int found = 0;

    *user = NULL;
    if (!c)
        return 0;
    pthread_mutex_lock(&c->lock);
    if ((i = find(c, key, &prev)) >= 0) {
        if (!(c->e[i].val.times.exp > (double)now - (double)leeway)) {
            unlink_entry(c, i, prev);
        } else if ((*user = strdup(c->e[i].user))) {
            *out = c->e[i].val;
            found = 1;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return found;
}

/* A slot for a new entry (the lock held): a free one, else the one that
 * expires soonest (an expired one, if there is any). */
static long take_slot(struct oauth_jwt_cache *c)
{
    long i, victim = -1, prev;
    size_t k;

    if (c->free_list < 0) {
        for (k = 0; k < c->max; k++)
            if (c->e[k].user
                && (victim < 0 || c->e[k].val.times.exp < c->e[victim].val.times.exp))
                victim = (long)k;
        if (victim < 0)
            return -1;
        find(c, c->e[victim].key, &prev);
        unlink_entry(c, victim, prev);
    }
    i = c->free_list;
    c->free_list = c->e[i].next;
    return i;
}

void oauth_jwt_cache_put(struct oauth_jwt_cache *c, const unsigned char key[OAUTH_JWT_CACHE_KEY],
                         const struct oauth_jwt_cached *in, const char *user)
{
    char *copy;
    size_t b;
    long i;

    if (!c || !(copy = strdup(user)))
        return;
    pthread_mutex_lock(&c->lock);
    remove_key(c, key);
    if ((i = take_slot(c)) < 0) {
        pthread_mutex_unlock(&c->lock);
        sm_erase(copy, strlen(copy));
        free(copy);
        return;
    }
    memcpy(c->e[i].key, key, OAUTH_JWT_CACHE_KEY);
    c->e[i].val = *in;
    c->e[i].user = copy;
    b = bucket_of(c, key);
    c->e[i].next = c->buckets[b];
    c->buckets[b] = i;
    c->used++;
    pthread_mutex_unlock(&c->lock);
}

void oauth_jwt_cache_drop(struct oauth_jwt_cache *c, const unsigned char key[OAUTH_JWT_CACHE_KEY])
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    remove_key(c, key);
    pthread_mutex_unlock(&c->lock);
}

size_t oauth_jwt_cache_count(struct oauth_jwt_cache *c)
{
    size_t n;

    if (!c)
        return 0;
    pthread_mutex_lock(&c->lock);
    n = c->used;
    pthread_mutex_unlock(&c->lock);
    return n;
}
