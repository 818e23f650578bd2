#include "config.h"
#include "oauth_verify.h"
#include "oauth_util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sasl-mechs/why.h>
#include <sasl-mechs/secret.h>

/* The key set.  keys is immutable and reference counted: a validation
 * takes a reference under the lock (a few instructions) and validates with
 * it outside; a fetch runs outside the lock too, by the one thread that
 * found it due (fetching), and swaps the new set in when it is done.  While
 * a fetch runs, a validation that has a set and no reason to want a newer
 * one goes on with the current set; one that needs the fetch (no set yet,
 * or its kid is unknown) waits for that fetch, and only that one
 * (fetches_done counts them), then takes whatever set it left. */
struct oauth_verifier {
    struct oauth_verify_config c;
    pthread_mutex_t lock;             /* guards the fields below; never held across I/O */
    pthread_cond_t fetched;           /* broadcast when a fetch ends */
    struct oauth_jwks *keys;          /* NULL until the first load succeeds */
    time_t loaded_at;                 /* of keys */
    time_t tried_at;                  /* last load attempt, success or not */
    int fetching;                     /* a fetch is in progress */
    unsigned long fetches_done;
    char fetch_why[300];              /* why the last fetch failed; "" after a success */
    struct oauth_introspector *introspector;
    struct oauth_verify_stats stats;
};

int oauth_verifier_new(const struct oauth_verify_config *c, struct oauth_verifier **out,
                       char *why, size_t whylen)
{
    struct oauth_verifier *v;
    struct oauth_err ierr;
    char pwhy[256];

    *out = NULL;
    if (oauth_jwt_policy_check(&c->policy, pwhy, sizeof(pwhy)) != OAUTH_JWT_OK) {
        sm_why(why, whylen, "%s", pwhy);
        return -1;
    }
    if (c->mode == OAUTH_VERIFY_JWT && !c->jwks_file == !c->jwks_url) {
        sm_why(why, whylen, "JWT validation needs exactly one of a JWKS file and a JWKS URL");
        return -1;
    }
    if (!(v = calloc(1, sizeof(*v))))
        return sm_why(why, whylen, "out of memory"), -1;
    v->c = *c;
    if (pthread_mutex_init(&v->lock, NULL) != 0) {
        free(v);
        return sm_why(why, whylen, "cannot create a mutex"), -1;
    }
    if (pthread_cond_init(&v->fetched, NULL) != 0) {
        pthread_mutex_destroy(&v->lock);
        free(v);
        return sm_why(why, whylen, "cannot create a condition variable"), -1;
    }
    if (c->mode == OAUTH_VERIFY_INTROSPECTION
        && oauth_introspector_new(&c->introspect, &v->introspector, &ierr) != OAUTH_OK) {
        sm_why(why, whylen, "%s", ierr.reason);
        oauth_verifier_free(v);
        return -1;
    }
    *out = v;
    return 0;
}

void oauth_verifier_free(struct oauth_verifier *v)
{
    if (!v)
        return;
    oauth_jwks_free(v->keys);
    oauth_introspector_free(v->introspector);
    pthread_cond_destroy(&v->fetched);
    pthread_mutex_destroy(&v->lock);
    free(v);
}

/* The JWKS document from the file or the URL: 0 with a malloc'd buffer. */
static int read_jwks(struct oauth_verifier *v, char **doc, size_t *len, char *why, size_t whylen)
{
    if (v->c.jwks_file) {
        /* a key set is public: anyone may read the file */
        struct oauth_err ferr = {0};

        if (oauth_read_file(v->c.jwks_file, "JWKS file", OAUTH_FILE_PUBLIC, OAUTH_JWKS_MAX_DOC,
                            doc, len, NULL, &ferr) != OAUTH_OK)
            return sm_why(why, whylen, "%s", ferr.reason), -1;
        return 0;
    } else {
        struct oauth_http_response r = {0};
        struct oauth_http_options o = v->c.http;
        enum oauth_http_status st;
        struct oauth_err herr;

        o.max_response = OAUTH_JWKS_MAX_DOC;
        st = oauth_http_get(v->c.jwks_url, &o, &r, &herr);
        if (st != OAUTH_HTTP_OK) {
            sm_why(why, whylen, "JWKS URL: %s (%s)", oauth_http_status_str(st), herr.reason);
            oauth_http_response_free(&r);
            return -1;
        }
        *doc = r.body; /* a public document: no need to erase it */
        *len = r.len;
        return 0;
    }
}

/* Read and parse the key set (no lock held): the new set, or NULL with why. */
static struct oauth_jwks *fetch(struct oauth_verifier *v, char *why, size_t whylen)
{
    struct oauth_jwks *set = NULL;
    char *doc = NULL, pwhy[200];
    size_t len = 0;
    enum oauth_jwks_status st;

    if (read_jwks(v, &doc, &len, why, whylen) != 0)
        return NULL;
    st = oauth_jwks_parse(doc, len, &set, pwhy, sizeof(pwhy));
    free(doc);
    if (st != OAUTH_JWKS_OK)
        sm_why(why, whylen, "JWKS: %s (%s)", oauth_jwks_status_text(st), pwhy);
    return set;
}

/* A reference to the current set (the lock held), or NULL with why. */
static struct oauth_jwks *take(struct oauth_verifier *v, char *why, size_t whylen)
{
    if (!v->keys && v->fetch_why[0])
        sm_why(why, whylen, "%s", v->fetch_why);
    return oauth_jwks_ref(v->keys);
}

/* A reference to the current set, loading or refreshing it when due: want
 * is set after an unknown kid, and honoured at most once per refresh
 * interval.  The lock is held only to read and swap pointers. */
static struct oauth_jwks *current_keys(struct oauth_verifier *v, time_t now, int want,
                                       char *why, size_t whylen)
{
    struct oauth_jwks *set, *old;
    unsigned long gen;
    int due;

    pthread_mutex_lock(&v->lock);
    if (v->fetching) {
        /* a known key never waits; a token that needs the fetch waits for
         * this one and takes the set it leaves, fetched or not */
        if (!v->keys || want) {
            gen = v->fetches_done;
            while (v->fetches_done == gen)
                pthread_cond_wait(&v->fetched, &v->lock);
        }
        set = take(v, why, whylen);
        pthread_mutex_unlock(&v->lock);
        return set;
    }
    if (!v->keys)
        due = now - v->tried_at >= v->c.jwks_refresh_interval || v->tried_at == 0;
    else if (want)
        due = now - v->tried_at >= v->c.jwks_refresh_interval;
    else
        due = now - v->loaded_at >= v->c.jwks_max_age
              && now - v->tried_at >= v->c.jwks_refresh_interval;
    if (!due) {
        set = take(v, why, whylen);
        pthread_mutex_unlock(&v->lock);
        return set;
    }
    v->fetching = 1;
    v->tried_at = now;
    pthread_mutex_unlock(&v->lock);

    set = fetch(v, why, whylen);

    pthread_mutex_lock(&v->lock);
    old = NULL;
    if (set) {
        old = v->keys;
        v->keys = set;
        v->loaded_at = now;
        v->fetch_why[0] = '\0';
        v->stats.jwks_loads++;
    } else {
        /* a failure keeps the old set */
        sm_why(v->fetch_why, sizeof(v->fetch_why), "%s", why && whylen ? why : "fetch failed");
        v->stats.jwks_failures++;
    }
    v->fetching = 0;
    v->fetches_done++;
    pthread_cond_broadcast(&v->fetched);
    set = take(v, why, whylen);
    pthread_mutex_unlock(&v->lock);
    oauth_jwks_free(old);
    return set;
}

static enum oauth_verdict from_jwt(enum oauth_jwt_status st)
{
    switch (oauth_jwt_status_kind(st)) {
    case OAUTH_JWT_KIND_OK: return OAUTH_VERDICT_OK;
    case OAUTH_JWT_KIND_INSUFFICIENT_SCOPE: return OAUTH_VERDICT_INSUFFICIENT_SCOPE;
    case OAUTH_JWT_KIND_CONFIG: return OAUTH_VERDICT_CONFIG;
    case OAUTH_JWT_KIND_TEMPORARY: return OAUTH_VERDICT_UNAVAILABLE;
    default: return OAUTH_VERDICT_INVALID_TOKEN;
    }
}

static enum oauth_verdict verify_jwt(struct oauth_verifier *v, const char *token, size_t len,
                                     time_t now, char **user, char *why, size_t whylen)
{
    struct oauth_jwt_result res = {0};
    struct oauth_jwks *set;
    enum oauth_jwt_status st;
    char lwhy[300] = "";
    int attempt;

    for (attempt = 0; attempt < 2; attempt++) {
        set = current_keys(v, now, attempt > 0, lwhy, sizeof(lwhy));
        if (!set) {
            sm_why(why, whylen, "no usable key set: %s", lwhy[0] ? lwhy : "not loaded yet");
            return OAUTH_VERDICT_UNAVAILABLE;
        }
        st = oauth_jwt_validate(token, len, set, &v->c.policy, (int64_t)now, &res, why, whylen);
        oauth_jwks_free(set);
        if (st != OAUTH_JWT_ERR_UNKNOWN_KID)
            break;
    }
    if (st == OAUTH_JWT_OK) {
        *user = res.user;
        res.user = NULL;
    }
    oauth_jwt_result_clear(&res);
    return from_jwt(st);
}

static enum oauth_verdict verify_introspection(struct oauth_verifier *v, const char *token,
                                               size_t len, time_t now, char **user, char *why,
                                               size_t whylen)
{
    struct oauth_jwt_result res = {0};
    json_t *claims = NULL;
    struct oauth_err ierr;
    enum oauth_jwt_status st;

    switch (oauth_introspect(v->introspector, token, len, now, &claims, NULL, &ierr)) {
    case OAUTH_OK:
        break;
    case OAUTH_ERR_CLIENT:
        sm_why(why, whylen, "%s", ierr.reason);
        return OAUTH_VERDICT_INVALID_TOKEN;
    default:
        sm_why(why, whylen, "%s", ierr.reason);
        return OAUTH_VERDICT_UNAVAILABLE;
    }
    st = oauth_jwt_check_claims(claims, &v->c.policy, (int64_t)now, &res, why, whylen);
    json_decref(claims);
    if (st == OAUTH_JWT_OK) {
        *user = res.user;
        res.user = NULL;
    }
    oauth_jwt_result_clear(&res);
    return from_jwt(st);
}

enum oauth_verdict oauth_verify(struct oauth_verifier *v, const char *token, size_t len,
                                time_t now, char **user, char *why, size_t whylen)
{
    *user = NULL;
    if (why && whylen)
        why[0] = '\0';
    if (v->c.mode == OAUTH_VERIFY_INTROSPECTION)
        return verify_introspection(v, token, len, now, user, why, whylen);
    return verify_jwt(v, token, len, now, user, why, whylen);
}

void oauth_verifier_stats(struct oauth_verifier *v, struct oauth_verify_stats *s)
{
    pthread_mutex_lock(&v->lock);
    *s = v->stats;
    pthread_mutex_unlock(&v->lock);
}

const char *oauth_verdict_text(enum oauth_verdict v)
{
    switch (v) {
    case OAUTH_VERDICT_OK: return "valid";
    case OAUTH_VERDICT_INVALID_TOKEN: return "invalid token";
    case OAUTH_VERDICT_INSUFFICIENT_SCOPE: return "insufficient scope";
    case OAUTH_VERDICT_UNAVAILABLE: return "token validation unavailable";
    case OAUTH_VERDICT_CONFIG: return "server configuration error";
    }
    return "unknown";
}
