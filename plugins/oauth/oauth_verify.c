#include "config.h"
#include "oauth_verify.h"
#include "oauth_util.h"
#include "oauth_jwks_cache.h"
#include "oauth_jwt_cache.h"
#include "oauth_issuers.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sasl-mechs/secret.h>

/* The key set.  keys is immutable and reference counted: a validation
 * takes a reference under the lock (a few instructions) and validates with
 * it outside; a fetch runs outside the lock too, by the one thread that
 * found it due (fetching), and swaps the new set in when it is done.  While
 * a fetch runs, a validation that has a set and no reason to want a newer
 * one goes on with the current set; one that needs the fetch (no set yet,
 * or its kid is unknown) waits for that fetch, and only that one
 * (fetches_done counts them), then takes whatever set it left.  A set
 * that is merely older than jwks_max_age is fetched again by a short-lived
 * thread of its own, so that the validation that notices it does not wait
 * either. */
struct oauth_verifier {
    struct oauth_verify_config c;
    pthread_mutex_t lock;             /* guards the fields below; never held across I/O */
    pthread_cond_t fetched;           /* broadcast when a fetch ends */
    struct oauth_jwks *keys;          /* NULL until the first load succeeds */
    time_t loaded_at;                 /* of keys */
    time_t tried_at;                  /* last load attempt, success or not */
    int fetching;                     /* a fetch is in progress */
    pid_t fetch_pid;                  /* by this process (not a parent we were forked from) */
    time_t fetch_now;                 /* the time the fetch was started at */
    time_t fetch_have;                /* loaded_at when it was started (0: no set) */
    unsigned long fetches_done;
    char fetch_why[OAUTH_ERR_REASON_MAX]; /* why the last fetch failed; "" after a success */
    struct oauth_introspector *introspector;
    struct oauth_verify_stats stats;
    /* fleet scale: see oauth_jwt_cache.h, oauth_issuers.h */
    struct oauth_jwt_cache *jwt_cache;    /* the verifier the plugin holds; NULL: none */
    struct oauth_verifier **children;     /* discovery: one verifier per issuer */
    size_t n_children;
    const char *issuer;                   /* a child: its issuer, whose keys it discovers */
    char *jwks_uri;                       /* a child: the discovered key set URL */
    time_t discovered_at;                 /* when that document was fetched */
};

/* A verifier with no check of the key source (the public constructor and
 * the children of a discovering one check it themselves). */
static enum oauth_err_class verify_alloc(const struct oauth_verify_config *c,
                                         struct oauth_verifier **out, struct oauth_err *err)
{
    struct oauth_verifier *v;

    *out = NULL;
    if (!(v = calloc(1, sizeof(*v))))
        return oauth_err_set(err, OAUTH_ERR_INTERNAL, "out of memory");
    v->c = *c;
    if (pthread_mutex_init(&v->lock, NULL) != 0) {
        free(v);
        return oauth_err_set(err, OAUTH_ERR_INTERNAL, "cannot create a mutex");
    }
    if (pthread_cond_init(&v->fetched, NULL) != 0) {
        pthread_mutex_destroy(&v->lock);
        free(v);
        return oauth_err_set(err, OAUTH_ERR_INTERNAL, "cannot create a condition variable");
    }
    *out = v;
    return OAUTH_OK;
}

/* One verifier per issuer, each with its issuer alone in its policy and its
 * keys found by discovery from that issuer's URL. */
static enum oauth_err_class verify_discovering_children(struct oauth_verifier *v,
                                                        struct oauth_err *err)
{
    struct oauth_verify_config cc = v->c;
    enum oauth_err_class cls;
    size_t i, n = v->c.policy.n_issuers;

    if (!(v->children = calloc(n, sizeof(*v->children))))
        return oauth_err_set(err, OAUTH_ERR_INTERNAL, "out of memory");
    cc.discovery = 0;
    cc.jwt_cache_size = 0;
    cc.policy.n_issuers = 1;
    for (i = 0; i < n; i++) {
        if (strlen(v->c.policy.issuers[i]) >= OAUTH_ISSUER_MAX)
            return oauth_err_set(err, OAUTH_ERR_CONFIG, "issuer %zu is longer than %d bytes",
                                 i + 1, OAUTH_ISSUER_MAX - 1);
        cc.policy.issuers = &v->c.policy.issuers[i];
        if ((cls = verify_alloc(&cc, &v->children[i], err)) != OAUTH_OK)
            return cls;
        v->children[i]->issuer = v->c.policy.issuers[i];
        v->n_children = i + 1;
    }
    return OAUTH_OK;
}

enum oauth_err_class oauth_verifier_new(const struct oauth_verify_config *c,
                                        struct oauth_verifier **out, struct oauth_err *err)
{
    struct oauth_verifier *v;
    enum oauth_err_class cls;

    *out = NULL;
    oauth_err_clear(err);
    if (oauth_jwt_policy_check(&c->policy, err) != OAUTH_JWT_OK)
        return err ? err->cls : OAUTH_ERR_CONFIG;
    if (c->mode == OAUTH_VERIFY_JWT && c->discovery && (c->jwks_file || c->jwks_url))
        return oauth_err_set(err, OAUTH_ERR_CONFIG, "JWT validation takes its keys either by "
                             "discovery or from a JWKS file or URL, not both");
    if (c->mode == OAUTH_VERIFY_JWT && !c->discovery && !c->jwks_file == !c->jwks_url)
        return oauth_err_set(err, OAUTH_ERR_CONFIG, "JWT validation needs exactly one of a "
                             "JWKS file and a JWKS URL");
    if ((cls = verify_alloc(c, &v, err)) != OAUTH_OK)
        return cls;
    if (c->mode == OAUTH_VERIFY_INTROSPECTION) {
        cls = oauth_introspector_new(&c->introspect, &v->introspector, err);
        if (cls != OAUTH_OK) {
            oauth_verifier_free(v);
            return cls;
        }
    }
    if (c->mode == OAUTH_VERIFY_JWT && c->jwt_cache_size
        && !(v->jwt_cache = oauth_jwt_cache_new(c->jwt_cache_size))) {
        oauth_verifier_free(v);
        return oauth_err_set(err, OAUTH_ERR_INTERNAL, "out of memory (JWT cache)");
    }
    if (c->mode == OAUTH_VERIFY_JWT && c->discovery
        && (cls = verify_discovering_children(v, err)) != OAUTH_OK) {
        oauth_verifier_free(v);
        return cls;
    }
    *out = v;
    return OAUTH_OK;
}

/* 1 when a fetch of this process is running (the lock held): one a parent
 * had started when it forked this process will never end here. */
static int verify_fetch_running(struct oauth_verifier *v)
{
    if (v->fetching && v->fetch_pid != getpid())
        v->fetching = 0;
    return v->fetching;
}

/* Wait (the lock held) until the fetch running now has ended, at most about
 * twice its HTTP time limit: a fetch always ends, this only guards against
 * one that cannot. */
static void verify_wait_fetch(struct oauth_verifier *v)
{
    unsigned long gen = v->fetches_done;
    long ms = 2 * (v->c.http.timeout_ms > 0 ? v->c.http.timeout_ms : 10000) + 1000;
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    while (v->fetches_done == gen && verify_fetch_running(v))
        if (pthread_cond_timedwait(&v->fetched, &v->lock, &until) == ETIMEDOUT)
            break;
}

void oauth_verifier_free(struct oauth_verifier *v)
{
    if (!v)
        return;
    /* a refresh thread may still be using it: wait for it, and should it
     * outlast the wait (a resolver that ignores curl's time limit), leave
     * the verifier to it rather than free memory it still uses (this runs
     * when the plugin is unloaded, mostly at the process's exit) */
    pthread_mutex_lock(&v->lock);
    verify_wait_fetch(v);
    if (verify_fetch_running(v)) {
        pthread_mutex_unlock(&v->lock);
        return;
    }
    pthread_mutex_unlock(&v->lock);
    while (v->n_children)
        oauth_verifier_free(v->children[--v->n_children]);
    free(v->children);
    free(v->jwks_uri);
    oauth_jwt_cache_free(v->jwt_cache);
    oauth_jwks_free(v->keys);
    oauth_introspector_free(v->introspector);
    pthread_cond_destroy(&v->fetched);
    pthread_mutex_destroy(&v->lock);
    free(v);
}

/* The JWKS document from the file or the URL: OAUTH_OK with a malloc'd
 * buffer, else the class and reason of the failure. */
static enum oauth_err_class verify_read_jwks(struct oauth_verifier *v, char **doc, size_t *len,
                                             struct oauth_err *err)
{
    struct oauth_http_response r = {0};
    struct oauth_http_options o = v->c.http;
    struct oauth_err herr;

    if (v->c.jwks_file) /* a key set is public: anyone may read the file */
        return oauth_read_file(v->c.jwks_file, "JWKS file", OAUTH_FILE_PUBLIC,
                               OAUTH_JWKS_MAX_DOC, doc, len, NULL, err);
    o.max_response = OAUTH_JWKS_MAX_DOC;
    if (oauth_http_get(v->c.jwks_url ? v->c.jwks_url : v->jwks_uri, &o, &r, &herr)
        != OAUTH_HTTP_OK) {
        oauth_fail(err, herr.cls, herr.code, "JWKS URL: %s (%s)",
                   oauth_http_status_text((enum oauth_http_status)herr.code), herr.reason);
        oauth_http_response_free(&r);
        return herr.cls;
    }
    *doc = r.body; /* a public document: no need to erase it */
    *len = r.len;
    return OAUTH_OK;
}

/* What one fetch brings back through the host's cache (oauth_jwks_cache.h). */
struct verify_got {
    struct oauth_verifier *v;
    struct oauth_jwks *set;
};

static enum oauth_err_class verify_get(void *ctx, char **doc, size_t *len, struct oauth_err *err)
{
    struct verify_got *g = ctx;

    pthread_mutex_lock(&g->v->lock);
    g->v->stats.jwks_fetches++;
    pthread_mutex_unlock(&g->v->lock);
    return verify_read_jwks(g->v, doc, len, err);
}

static int verify_take_doc(void *ctx, const char *doc, size_t len, struct oauth_err *err)
{
    struct verify_got *g = ctx;
    struct oauth_err perr;
    enum oauth_jwks_status st;

    oauth_jwks_free(g->set);
    g->set = NULL;
    st = oauth_jwks_parse(doc, len, &g->set, &perr);
    if (st != OAUTH_JWKS_OK)
        oauth_fail(err, perr.cls, st, "JWKS: %s (%s)", oauth_jwks_status_text(st), perr.reason);
    return st == OAUTH_JWKS_OK ? 0 : -1;
}

static void verify_note(void *ctx, const char *text)
{
    struct verify_got *g = ctx;

    if (g->v->c.note)
        g->v->c.note(g->v->c.note_ctx, text);
}

/* A child's key set URL, discovered again when it is older than
 * jwks_max_age or the last fetch failed (the issuer may have moved its
 * keys): 0, or -1 with the reason when there is none.  Only the fetching
 * thread runs it. */
static int verify_discover(struct oauth_verifier *v, time_t now, struct oauth_err *err)
{
    struct oauth_discovery d = {
        .issuer = v->issuer,
        .http = &v->c.http,
        .cache_dir = v->c.jwks_cache_dir,
        .now = now,
        .have = v->jwks_uri ? v->discovered_at : 0,
        .max_age = v->c.jwks_max_age,
        .interval = v->c.jwks_refresh_interval,
        .note = v->c.note,
        .note_ctx = v->c.note_ctx,
    };
    char *uri = NULL;
    time_t at = 0;
    int failed;

    pthread_mutex_lock(&v->lock);
    failed = v->fetch_why[0] != '\0';
    pthread_mutex_unlock(&v->lock);
    if (v->jwks_uri && !failed && now - v->discovered_at < v->c.jwks_max_age)
        return 0;
    if (oauth_discover_jwks_uri(&d, &uri, &at, err) == 0) {
        free(v->jwks_uri);
        v->jwks_uri = uri;
        v->discovered_at = at;
        return 0;
    }
    /* the key set URL discovered before still serves */
    return v->jwks_uri ? 0 : -1;
}

/* Read and parse the key set (no lock held), through the host's copy when
 * there is a cache folder: the new set (*fetched_at: when it was fetched,
 * by this process or another), or NULL with the reason in err, or NULL and
 * *unchanged when the host has nothing newer than have and may not fetch
 * yet. */
static struct oauth_jwks *verify_fetch(struct oauth_verifier *v, time_t now, time_t have,
                                       int want, time_t *fetched_at, int *unchanged,
                                       struct oauth_err *err)
{
    struct verify_got g = {.v = v};
    struct oauth_cache_fetch f = {
        .dir = v->c.jwks_file ? NULL : v->c.jwks_cache_dir,
        .url = v->c.jwks_url ? v->c.jwks_url : v->jwks_uri,
        .now = now,
        .have = have,
        .want = want,
        .max_age = v->c.jwks_max_age,
        .interval = v->c.jwks_refresh_interval,
        .lock_timeout_ms = 2 * (v->c.http.timeout_ms > 0 ? v->c.http.timeout_ms : 10000),
        .max = OAUTH_JWKS_MAX_DOC,
        .get = verify_get,
        .take = verify_take_doc,
        .note = verify_note,
        .ctx = &g,
    };

    *unchanged = 0;
    if (v->issuer) {
        if (verify_discover(v, now, err) != 0)
            return NULL;
        f.url = v->jwks_uri;
    }
    switch (oauth_cache_fetch(&f, fetched_at, err)) {
    case OAUTH_CACHE_FETCHED:
    case OAUTH_CACHE_FROM_DISK:
        return g.set;
    case OAUTH_CACHE_UNCHANGED:
        *unchanged = 1;
        break;
    case OAUTH_CACHE_FAILED:
        break;
    }
    oauth_jwks_free(g.set);
    return NULL;
}

/* A reference to the current set (the lock held), or NULL with the reason. */
static struct oauth_jwks *verify_take(struct oauth_verifier *v, struct oauth_err *err)
{
    if (!v->keys && v->fetch_why[0])
        oauth_why(err, "%s", v->fetch_why);
    return oauth_jwks_ref(v->keys);
}

/* The end of a fetch (the lock held): the new set swapped in, or the
 * failure kept; the waiters woken.  Returns the old set, to be freed once
 * the lock is released. */
static struct oauth_jwks *verify_fetch_done(struct oauth_verifier *v, struct oauth_jwks *set,
                                            time_t fetched_at, int unchanged, const char *why)
{
    struct oauth_jwks *old = NULL;

    if (set) {
        old = v->keys;
        v->keys = set;
        v->loaded_at = fetched_at;
        v->fetch_why[0] = '\0';
        v->stats.jwks_loads++;
    } else if (unchanged) {
        /* the host has nothing newer yet: the current set stays, no failure */
    } else {
        /* a failure keeps the old set */
        snprintf(v->fetch_why, sizeof(v->fetch_why), "%s", why && *why ? why : "fetch failed");
        v->stats.jwks_failures++;
    }
    v->fetching = 0;
    v->fetches_done++;
    pthread_cond_broadcast(&v->fetched);
    return old;
}

static void *verify_refresh_thread(void *arg)
{
    struct oauth_verifier *v = arg;
    struct oauth_jwks *set, *old;
    struct oauth_err err = {0};
    time_t at = 0;
    int unchanged;

    set = verify_fetch(v, v->fetch_now, v->fetch_have, 0, &at, &unchanged, &err);
    pthread_mutex_lock(&v->lock);
    old = verify_fetch_done(v, set, at, unchanged, err.reason);
    pthread_mutex_unlock(&v->lock);
    oauth_jwks_free(old);
    return NULL;
}

/* Start the fetch in a detached thread of its own (fetching already set):
 * 0, or -1 when no thread can be made.  The thread takes no signal: the
 * application's handlers run in its own threads, as they always did. */
static int verify_refresh_in_background(struct oauth_verifier *v)
{
    pthread_attr_t attr;
    pthread_t t;
    sigset_t all, was;
    int r;

    if (pthread_attr_init(&attr) != 0)
        return -1;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &was);
    r = pthread_create(&t, &attr, verify_refresh_thread, v);
    pthread_sigmask(SIG_SETMASK, &was, NULL);
    pthread_attr_destroy(&attr);
    return r == 0 ? 0 : -1;
}

/* A reference to the current set, loading or refreshing it when due: want
 * is set after an unknown kid, and honoured at most once per refresh
 * interval.  The lock is held only to read and swap pointers. */
static struct oauth_jwks *verify_current_keys(struct oauth_verifier *v, time_t now, int want,
                                              struct oauth_err *err)
{
    struct oauth_jwks *set, *old;
    time_t have, at = 0;
    int due, stale_only, unchanged;

    pthread_mutex_lock(&v->lock);
    if (verify_fetch_running(v)) {
        /* a known key never waits; a token that needs the fetch waits for
         * this one and takes the set it leaves, fetched or not */
        if (!v->keys || want)
            verify_wait_fetch(v);
        set = verify_take(v, err);
        pthread_mutex_unlock(&v->lock);
        return set;
    }
    stale_only = 0;
    if (!v->keys)
        due = now - v->tried_at >= v->c.jwks_refresh_interval || v->tried_at == 0;
    else if (want)
        due = now - v->tried_at >= v->c.jwks_refresh_interval;
    else
        due = stale_only = now - v->loaded_at >= v->c.jwks_max_age
                           && now - v->tried_at >= v->c.jwks_refresh_interval;
    if (!due) {
        set = verify_take(v, err);
        pthread_mutex_unlock(&v->lock);
        return set;
    }
    v->fetching = 1;
    v->fetch_pid = getpid();
    v->fetch_now = v->tried_at = now;
    v->fetch_have = v->keys ? v->loaded_at : 0;
    have = v->fetch_have;
    /* the current set still serves while a merely old one is fetched again */
    if (stale_only && verify_refresh_in_background(v) == 0) {
        set = verify_take(v, err);
        pthread_mutex_unlock(&v->lock);
        return set;
    }
    pthread_mutex_unlock(&v->lock);

    set = verify_fetch(v, now, have, want, &at, &unchanged, err);

    pthread_mutex_lock(&v->lock);
    old = verify_fetch_done(v, set, at, unchanged, err && err->reason[0] ? err->reason : NULL);
    set = verify_take(v, err);
    pthread_mutex_unlock(&v->lock);
    oauth_jwks_free(old);
    return set;
}

/* The verdict is the class of err, as the JWT checks left it: a refused
 * token is the client's (with its RFC 6750 status), anything else not.
 * On OAUTH_OK, res holds the user and *gen the generation of the set that
 * verified it (0 when it was replaced meanwhile). */
static enum oauth_err_class verify_jwt(struct oauth_verifier *v, const char *token, size_t len,
                                       time_t now, struct oauth_jwt_result *res,
                                       unsigned long *gen, struct oauth_err *err)
{
    struct oauth_jwks *set;
    struct oauth_err kerr = {0};
    enum oauth_jwt_status st;
    int attempt;

    for (attempt = 0; attempt < 2; attempt++) {
        set = verify_current_keys(v, now, attempt > 0, &kerr);
        if (!set)
            return oauth_err_set(err, OAUTH_ERR_TEMPORARY, "no usable key set: %s",
                                 kerr.reason[0] ? kerr.reason : "not loaded yet");
        st = oauth_jwt_validate(token, len, set, &v->c.policy, (int64_t)now, res, err);
        if (st == OAUTH_JWT_OK) {
            /* the reference held, the pointer cannot have been reused */
            pthread_mutex_lock(&v->lock);
            *gen = v->keys == set ? v->stats.jwks_loads : 0;
            pthread_mutex_unlock(&v->lock);
        }
        oauth_jwks_free(set);
        if (st != OAUTH_JWT_ERR_UNKNOWN_KID)
            break;
    }
    return err->cls;
}

/* The child verifier of the issuer the token names (discovery), or NULL with
 * the token refused in err. */
static struct oauth_verifier *verify_route(struct oauth_verifier *v, const char *token,
                                           size_t len, struct oauth_err *err)
{
    char iss[OAUTH_ISSUER_MAX], shown[OAUTH_SHOWN];
    size_t i;

    if (oauth_jwt_peek_issuer(token, len, v->c.policy.max_token_len, iss, sizeof(iss), err)
        != OAUTH_JWT_OK)
        return NULL;
    for (i = 0; i < v->n_children; i++)
        if (strcmp(v->children[i]->issuer, iss) == 0)
            return v->children[i];
    oauth_fail(err, OAUTH_ERR_CLIENT, OAUTH_JWT_ERR_ISSUER, "issuer \"%s\" is not allowed",
               oauth_show(shown, iss, strlen(iss)));
    err->status = OAUTH_STATUS_INVALID_TOKEN;
    return NULL;
}

/* The generation of v's current key set, how many sets it has loaded (0:
 * none), as a validation at now would find it: a set older than
 * jwks_max_age is fetched again meanwhile, as it would be (a token
 * remembered as verified stays so while the generation is unchanged, so a
 * key withdrawn from the set stops its tokens at the next fetch). */
static unsigned long verify_keys_gen(const void *tag, time_t now)
{
    struct oauth_verifier *v = (struct oauth_verifier *)tag;
    struct oauth_err kerr = {0};
    struct oauth_jwks *set = verify_current_keys(v, now, 0, &kerr);
    unsigned long gen;

    pthread_mutex_lock(&v->lock);
    gen = set && v->keys == set ? v->stats.jwks_loads : 0;
    pthread_mutex_unlock(&v->lock);
    oauth_jwks_free(set);
    return gen;
}

/* JWT mode: a token this process verified before (oauth_jwt_cache.h) costs
 * its time checks alone; any other is verified with the keys of its
 * issuer (discovery: the child verifier of the issuer it names) and
 * remembered. */
static enum oauth_err_class verify_jwt_cached(struct oauth_verifier *v, const char *token,
                                              size_t len, time_t now, char **user,
                                              struct oauth_err *err)
{
    unsigned char key[OAUTH_JWT_CACHE_KEY];
    struct oauth_jwt_result res = {0};
    struct oauth_jwt_cached hit;
    struct oauth_verifier *src = v;
    unsigned long gen = 0;
    enum oauth_err_class cls;
    int keyed = v->jwt_cache && oauth_jwt_cache_key(token, len, key) == 0;

    if (keyed && oauth_jwt_cache_get(v->jwt_cache, key, now, v->c.policy.leeway, &hit, user)) {
        if (verify_keys_gen(hit.tag, now) == hit.gen) {
            /* the claims that do not change were checked when it was put */
            if (oauth_jwt_check_times(&hit.times, &v->c.policy, (int64_t)now, err)
                == OAUTH_JWT_OK) {
                pthread_mutex_lock(&v->lock);
                v->stats.jwt_cache_hits++;
                pthread_mutex_unlock(&v->lock);
                sm_erase(key, sizeof(key));
                return OAUTH_OK;
            }
            free(*user);
            *user = NULL;
            sm_erase(key, sizeof(key));
            return err->cls;
        }
        /* its key set was replaced: verified again with the new one */
        free(*user);
        *user = NULL;
        oauth_jwt_cache_drop(v->jwt_cache, key);
    }
    if (v->n_children && !(src = verify_route(v, token, len, err)))
        cls = err->cls;
    else
        cls = verify_jwt(src, token, len, now, &res, &gen, err);
    if (cls == OAUTH_OK) {
        if (keyed && gen)
            oauth_jwt_cache_put(v->jwt_cache, key,
                                &(struct oauth_jwt_cached){res.times, src, gen}, res.user);
        *user = res.user;
        res.user = NULL;
    }
    oauth_jwt_result_clear(&res);
    if (keyed)
        sm_erase(key, sizeof(key));
    return cls;
}

static enum oauth_err_class verify_introspection(struct oauth_verifier *v, const char *token,
                                                 size_t len, time_t now, char **user,
                                                 struct oauth_err *err)
{
    struct oauth_jwt_result res = {0};
    json_t *claims = NULL;
    enum oauth_err_class cls;

    cls = oauth_introspect(v->introspector, token, len, now, &claims, NULL, err);
    if (cls != OAUTH_OK)
        return cls;
    if (oauth_jwt_check_claims(claims, &v->c.policy, (int64_t)now, &res, err) == OAUTH_JWT_OK) {
        *user = res.user;
        res.user = NULL;
    }
    json_decref(claims);
    oauth_jwt_result_clear(&res);
    return err->cls;
}

enum oauth_err_class oauth_verify(struct oauth_verifier *v, const char *token, size_t len,
                                  time_t now, char **user, struct oauth_err *err)
{
    struct oauth_err mine;

    if (!err)
        err = &mine;
    *user = NULL;
    oauth_err_clear(err);
    if (v->c.mode == OAUTH_VERIFY_INTROSPECTION)
        return verify_introspection(v, token, len, now, user, err);
    return verify_jwt_cached(v, token, len, now, user, err);
}

void oauth_verifier_stats(struct oauth_verifier *v, struct oauth_verify_stats *s)
{
    struct oauth_verify_stats c;
    size_t i;

    pthread_mutex_lock(&v->lock);
    *s = v->stats;
    pthread_mutex_unlock(&v->lock);
    /* with discovery, the keys are the children's */
    for (i = 0; i < v->n_children; i++) {
        oauth_verifier_stats(v->children[i], &c);
        s->jwks_loads += c.jwks_loads;
        s->jwks_failures += c.jwks_failures;
        s->jwks_fetches += c.jwks_fetches;
    }
}

int oauth_verifier_take_notice(struct oauth_verifier *v, char *buf, size_t n)
{
    return v->introspector ? oauth_introspect_take_notice(v->introspector, buf, n) : 0;
}
