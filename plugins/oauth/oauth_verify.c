#include "config.h"
#include "oauth_verify.h"
#include "oauth_util.h"

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
    unsigned long fetches_done;
    char fetch_why[OAUTH_ERR_REASON_MAX]; /* why the last fetch failed; "" after a success */
    struct oauth_introspector *introspector;
    struct oauth_verify_stats stats;
};

enum oauth_err_class oauth_verifier_new(const struct oauth_verify_config *c,
                                        struct oauth_verifier **out, struct oauth_err *err)
{
    struct oauth_verifier *v;

    *out = NULL;
    oauth_err_clear(err);
    if (oauth_jwt_policy_check(&c->policy, err) != OAUTH_JWT_OK)
        return err ? err->cls : OAUTH_ERR_CONFIG;
    if (c->mode == OAUTH_VERIFY_JWT && !c->jwks_file == !c->jwks_url)
        return oauth_err_set(err, OAUTH_ERR_CONFIG, "JWT validation needs exactly one of a "
                             "JWKS file and a JWKS URL");
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
    if (c->mode == OAUTH_VERIFY_INTROSPECTION) {
        enum oauth_err_class cls = oauth_introspector_new(&c->introspect, &v->introspector, err);
        if (cls != OAUTH_OK) {
            oauth_verifier_free(v);
            return cls;
        }
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
    if (oauth_http_get(v->c.jwks_url, &o, &r, &herr) != OAUTH_HTTP_OK) {
        oauth_fail(err, herr.cls, herr.code, "JWKS URL: %s (%s)",
                   oauth_http_status_text((enum oauth_http_status)herr.code), herr.reason);
        oauth_http_response_free(&r);
        return herr.cls;
    }
    *doc = r.body; /* a public document: no need to erase it */
    *len = r.len;
    return OAUTH_OK;
}

/* Read and parse the key set (no lock held): the new set, or NULL with the
 * reason in err. */
static struct oauth_jwks *verify_fetch(struct oauth_verifier *v, struct oauth_err *err)
{
    struct oauth_jwks *set = NULL;
    struct oauth_err perr;
    char *doc = NULL;
    size_t len = 0;
    enum oauth_jwks_status st;

    if (verify_read_jwks(v, &doc, &len, err) != OAUTH_OK)
        return NULL;
    st = oauth_jwks_parse(doc, len, &set, &perr);
    free(doc);
    if (st != OAUTH_JWKS_OK)
        oauth_fail(err, perr.cls, st, "JWKS: %s (%s)", oauth_jwks_status_text(st), perr.reason);
    return set;
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
                                     const char *why)
{
    struct oauth_jwks *old = NULL;

    if (set) {
        old = v->keys;
        v->keys = set;
        v->loaded_at = v->fetch_now;
        v->fetch_why[0] = '\0';
        v->stats.jwks_loads++;
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

    set = verify_fetch(v, &err);
    pthread_mutex_lock(&v->lock);
    old = verify_fetch_done(v, set, err.reason);
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
    int due, stale_only;

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
    /* the current set still serves while a merely old one is fetched again */
    if (stale_only && verify_refresh_in_background(v) == 0) {
        set = verify_take(v, err);
        pthread_mutex_unlock(&v->lock);
        return set;
    }
    pthread_mutex_unlock(&v->lock);

    set = verify_fetch(v, err);

    pthread_mutex_lock(&v->lock);
    old = verify_fetch_done(v, set, err && err->reason[0] ? err->reason : NULL);
    set = verify_take(v, err);
    pthread_mutex_unlock(&v->lock);
    oauth_jwks_free(old);
    return set;
}

/* The verdict is the class of err, as the JWT checks left it: a refused
 * token is the client's (with its RFC 6750 status), anything else not. */
static enum oauth_err_class verify_jwt(struct oauth_verifier *v, const char *token, size_t len,
                                       time_t now, char **user, struct oauth_err *err)
{
    struct oauth_jwt_result res = {0};
    struct oauth_jwks *set;
    struct oauth_err kerr = {0};
    enum oauth_jwt_status st;
    int attempt;

    for (attempt = 0; attempt < 2; attempt++) {
        set = verify_current_keys(v, now, attempt > 0, &kerr);
        if (!set)
            return oauth_err_set(err, OAUTH_ERR_TEMPORARY, "no usable key set: %s",
                                 kerr.reason[0] ? kerr.reason : "not loaded yet");
        st = oauth_jwt_validate(token, len, set, &v->c.policy, (int64_t)now, &res, err);
        oauth_jwks_free(set);
        if (st != OAUTH_JWT_ERR_UNKNOWN_KID)
            break;
    }
    if (st == OAUTH_JWT_OK) {
        *user = res.user;
        res.user = NULL;
    }
    oauth_jwt_result_clear(&res);
    return err->cls;
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
    return verify_jwt(v, token, len, now, user, err);
}

void oauth_verifier_stats(struct oauth_verifier *v, struct oauth_verify_stats *s)
{
    pthread_mutex_lock(&v->lock);
    *s = v->stats;
    pthread_mutex_unlock(&v->lock);
}

int oauth_verifier_take_notice(struct oauth_verifier *v, char *buf, size_t n)
{
    return v->introspector ? oauth_introspect_take_notice(v->introspector, buf, n) : 0;
}
