/* The JWT verifier's key set (plugins/oauth/oauth_verify.c) under
 * concurrency, against the loopback OAuth test server's JWKS URL, whose
 * GET /jwks can be held open until the test releases it (POST /mode
 * {"jwks_hold": ...}): a fetch is then "in progress" for exactly as long as
 * the test wants, with no timing to guess.
 *
 *  - While a token with an unknown kid has a refetch blocked at the server,
 *    tokens whose key is known are validated by other threads: they must
 *    all finish while that fetch is still held (they never wait for it);
 *    tokens with unknown kids that arrive meanwhile wait for that one fetch
 *    and are then validated against its set (found: valid; still unknown:
 *    refused, with no second fetch).
 *  - Several threads whose tokens all need a fetch at once (the first load,
 *    then unknown kids) cause exactly one fetch each time.
 *  - A failed fetch keeps the old keys; a set older than jwks_max_age is
 *    fetched again, in the background: tokens whose key the old set holds
 *    are validated with it meanwhile, none waits for that fetch.
 * The verifier's `now` is an argument, so refresh intervals are crossed by
 * passing a later time, not by sleeping. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <limits.h>
#include <pthread.h>
#include <time.h>
#include <cmocka.h>

#include "oauth_verify.h"
#include "oauth_testserver.h"

#define ISSUER "https://issuer.sm-verify.test"
#define AUDIENCE "sm-verify"
#define NTHREADS 4
#define WAIT_MS 30000 /* generous: valgrind, TSan, a busy machine */

static struct ts server;
static char jwks_url[160];
static const char *const issuers[] = {ISSUER};
static const char *const audiences[] = {AUDIENCE};

static int setup(void **state)
{
    (void)state;
    if (ts_start(&server, NULL) != 0)
        return -1;
    snprintf(jwks_url, sizeof(jwks_url), "%s/jwks", server.base);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ts_stop(&server);
    return 0;
}

static int reset(void **state)
{
    (void)state;
    return ts_call(&server, "POST", "/reset", NULL, NULL) == 200 ? 0 : -1;
}

/* A JWT verifier with the keys of jwks_file, or else of jwks_url. */
static struct oauth_verifier *make_with(const char *jwks_file, long refresh_interval,
                                        long max_age)
{
    struct oauth_verify_config c;
    struct oauth_verifier *v = NULL;
    struct oauth_err err = {0};

    memset(&c, 0, sizeof(c));
    c.mode = OAUTH_VERIFY_JWT;
    c.policy.issuers = issuers;
    c.policy.n_issuers = 1;
    c.policy.audiences = audiences;
    c.policy.n_audiences = 1;
    c.policy.user_claim = "sub";
    c.policy.leeway = 60;
    c.jwks_file = jwks_file;
    c.jwks_url = jwks_file ? NULL : jwks_url;
    c.jwks_refresh_interval = refresh_interval;
    c.jwks_max_age = max_age;
    oauth_http_options_default(&c.http);
    c.http.timeout_ms = 90000; /* a held fetch must not time out */
    if (oauth_verifier_new(&c, &v, &err) != OAUTH_OK)
        fail_msg("oauth_verifier_new: %s", err.reason);
    return v;
}

static struct oauth_verifier *make(long refresh_interval, long max_age)
{
    return make_with(NULL, refresh_interval, max_age);
}

/* A token signed by the server's key `kid`; header_kid, if not NULL,
 * replaces the kid in the header (a key nobody has). */
static char *mint(const char *kid, const char *header_kid)
{
    char req[512], *body = NULL, *tok;

    snprintf(req, sizeof(req),
             "{\"claims\": {\"iss\": \"" ISSUER "\", \"aud\": \"" AUDIENCE "\", \"sub\": "
             "\"alice\"}, \"ttl\": 3600, \"kid\": \"%s\"%s%s%s}",
             kid, header_kid ? ", \"header\": {\"kid\": \"" : "", header_kid ? header_kid : "",
             header_kid ? "\"}" : "");
    assert_int_equal(ts_call(&server, "POST", "/mint", req, &body), 200);
    tok = ts_json_str(body, "access_token");
    free(body);
    assert_non_null(tok);
    return tok;
}

/* A new signing key `kid` in the server's set (the next GET /jwks has it). */
static void add_key(const char *kid)
{
    char cmd[PATH_MAX * 2 + 128];

    snprintf(cmd, sizeof(cmd), "'%s/tests/oauth/oauth_mint' keygen --keys '%s/keys' --key %s:RS256"
             " >/dev/null", getenv("SM_BUILDDIR"), server.dir, kid);
    assert_int_equal(system(cmd), 0);
}

static void hold(int on)
{
    assert_int_equal(ts_mode(&server, on ? "{\"jwks_hold\": true}" : "{\"jwks_hold\": false}"), 0);
}

static long fetches(void)
{
    return ts_stat(&server, "requests./jwks");
}

static void nap_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&t, NULL);
}

/* Until the server has seen n requests for /jwks; 1 if it has. */
static int wait_fetches(long n)
{
    int waited;

    for (waited = 0; waited < WAIT_MS; waited += 10) {
        if (fetches() >= n)
            return 1;
        nap_ms(10);
    }
    return 0;
}

/* Until the verifier has loaded the key set n times; 1 if it has. */
static int wait_loads(struct oauth_verifier *v, unsigned long n)
{
    struct oauth_verify_stats s;
    int waited;

    for (waited = 0; waited < WAIT_MS; waited += 10) {
        oauth_verifier_stats(v, &s);
        if (s.jwks_loads >= n)
            return 1;
        nap_ms(10);
    }
    return 0;
}

/* ---- validations in threads ----------------------------------------------- */

static pthread_mutex_t jobs_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t jobs_cv = PTHREAD_COND_INITIALIZER;

struct job {
    struct oauth_verifier *v;
    const char *token;
    time_t now;
    pthread_t thread;
    enum oauth_err_class verdict;
    int done;                  /* under jobs_lock */
};

static void *worker(void *arg)
{
    struct job *j = arg;
    struct oauth_err err = {0};
    char *user = NULL;
    enum oauth_err_class verdict;

    verdict = oauth_verify(j->v, j->token, strlen(j->token), j->now, &user, &err);
    free(user);
    pthread_mutex_lock(&jobs_lock);
    j->verdict = verdict;
    j->done = 1;
    pthread_cond_broadcast(&jobs_cv);
    pthread_mutex_unlock(&jobs_lock);
    return NULL;
}

static void start(struct job *j, int n, struct oauth_verifier *v, const char *token, time_t now)
{
    int i;

    for (i = 0; i < n; i++) {
        j[i] = (struct job){.v = v, .token = token, .now = now};
        assert_int_equal(pthread_create(&j[i].thread, NULL, worker, &j[i]), 0);
    }
}

static int count_done(struct job *j, int n)
{
    int i, c = 0;

    pthread_mutex_lock(&jobs_lock);
    for (i = 0; i < n; i++)
        c += j[i].done;
    pthread_mutex_unlock(&jobs_lock);
    return c;
}

/* Until every one of j[0..n) is done, at most WAIT_MS; 1 if they are. */
static int wait_done(struct job *j, int n)
{
    struct timespec deadline;
    int i, all = 0, rc = 0;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += WAIT_MS / 1000;
    pthread_mutex_lock(&jobs_lock);
    while (!all && rc == 0) {
        for (all = 1, i = 0; i < n; i++)
            all &= j[i].done;
        if (!all)
            rc = pthread_cond_timedwait(&jobs_cv, &jobs_lock, &deadline);
    }
    pthread_mutex_unlock(&jobs_lock);
    return all;
}

static void join(struct job *j, int n)
{
    int i;

    for (i = 0; i < n; i++)
        pthread_join(j[i].thread, NULL);
}

static int all_verdicts(struct job *j, int n, enum oauth_err_class want)
{
    int i;

    for (i = 0; i < n; i++)
        if (j[i].verdict != want)
            return 0;
    return 1;
}

/* ---- the tests -------------------------------------------------------------- */

static void test_known_keys_never_wait(void **state)
{
    struct oauth_verifier *v = make(60, 3600);
    struct oauth_verify_stats s;
    struct oauth_err err = {0};
    char *known = mint("rsa", NULL), *rotated, *never, *user = NULL;
    struct job trigger[1], fast[NTHREADS], slow[NTHREADS], lost[1];
    time_t t0 = time(NULL), t1 = t0 + 120; /* past the refresh interval */
    int fast_in_time, trigger_waited, slow_waited;

    (void)state;
    assert_int_equal(oauth_verify(v, known, strlen(known), t0, &user, &err),
                     OAUTH_OK);
    free(user);
    assert_int_equal(fetches(), 1);
    add_key("rotated");
    rotated = mint("rotated", NULL);
    never = mint("rsa", "never-published");

    /* a rotated key's token makes the verifier fetch; the server holds it */
    hold(1);
    start(trigger, 1, v, rotated, t1);
    assert_true(wait_fetches(2));
    /* known keys meanwhile: all done while the fetch is still held */
    start(fast, NTHREADS, v, known, t1);
    fast_in_time = wait_done(fast, NTHREADS);
    trigger_waited = count_done(trigger, 1) == 0;
    /* unknown kids meanwhile: they wait for that fetch */
    start(slow, NTHREADS, v, rotated, t1);
    start(lost, 1, v, never, t1);
    nap_ms(200);
    slow_waited = count_done(slow, NTHREADS) == 0 && count_done(lost, 1) == 0;
    hold(0);
    assert_true(wait_done(trigger, 1) && wait_done(slow, NTHREADS) && wait_done(lost, 1));
    join(fast, NTHREADS);
    join(trigger, 1);
    join(slow, NTHREADS);
    join(lost, 1);

    assert_true(fast_in_time);
    assert_true(all_verdicts(fast, NTHREADS, OAUTH_OK));
    assert_true(trigger_waited);
    assert_true(slow_waited);
    /* found in the one new set; the never-published kid refused without a
     * second fetch */
    assert_int_equal(trigger[0].verdict, OAUTH_OK);
    assert_true(all_verdicts(slow, NTHREADS, OAUTH_OK));
    assert_int_equal(lost[0].verdict, OAUTH_ERR_CLIENT);
    assert_int_equal(fetches(), 2);
    oauth_verifier_stats(v, &s);
    assert_int_equal(s.jwks_loads, 2);
    assert_int_equal(s.jwks_failures, 0);
    oauth_verifier_free(v);
    free(known);
    free(rotated);
    free(never);
}

static void test_one_fetch_at_a_time(void **state)
{
    struct oauth_verifier *v = make(60, 3600);
    struct oauth_verify_stats s;
    char *known = mint("rsa", NULL), *unknown[NTHREADS];
    struct job first[NTHREADS], strangers[NTHREADS];
    time_t t0 = time(NULL);
    char kid[32];
    int i;

    (void)state;
    /* the first load: every thread needs it, one fetches */
    hold(1);
    start(first, NTHREADS, v, known, t0);
    assert_true(wait_fetches(1));
    nap_ms(200);
    assert_int_equal(count_done(first, NTHREADS), 0);
    hold(0);
    assert_true(wait_done(first, NTHREADS));
    join(first, NTHREADS);
    assert_true(all_verdicts(first, NTHREADS, OAUTH_OK));
    assert_int_equal(fetches(), 1);

    /* unknown kids from several threads at once: one refetch */
    for (i = 0; i < NTHREADS; i++) {
        snprintf(kid, sizeof(kid), "stranger-%d", i);
        unknown[i] = mint("rsa", kid);
    }
    hold(1);
    for (i = 0; i < NTHREADS; i++)
        start(&strangers[i], 1, v, unknown[i], t0 + 120);
    assert_true(wait_fetches(2));
    nap_ms(200);
    hold(0);
    assert_true(wait_done(strangers, NTHREADS));
    join(strangers, NTHREADS);
    assert_true(all_verdicts(strangers, NTHREADS, OAUTH_ERR_CLIENT));
    assert_int_equal(fetches(), 2);
    oauth_verifier_stats(v, &s);
    assert_int_equal(s.jwks_loads, 2);
    for (i = 0; i < NTHREADS; i++)
        free(unknown[i]);
    oauth_verifier_free(v);
    free(known);
}

static void test_rotation_rules(void **state)
{
    struct oauth_verifier *v = make(60, 600);
    struct oauth_verify_stats s;
    char *known = mint("rsa", NULL), *unknown = mint("rsa", "not-there"), *user = NULL;
    struct oauth_err err = {0};
    time_t t0 = time(NULL);

    (void)state;
#define VERIFY(tok, t) oauth_verify(v, tok, strlen(tok), t, &user, &err)
    assert_int_equal(VERIFY(known, t0), OAUTH_OK);
    free(user);
    assert_int_equal(fetches(), 1);
    /* an unknown kid within the refresh interval: no fetch */
    assert_int_equal(VERIFY(unknown, t0 + 30), OAUTH_ERR_CLIENT);
    assert_int_equal(fetches(), 1);
    /* after it: one fetch, which fails (the verifier's URL, which points
     * into jwks_url, names a path the server answers with 404 for a
     * moment); the old keys stay in use */
    jwks_url[strlen(jwks_url) - 1] = 'X'; /* /jwkX: not found */
    assert_int_equal(VERIFY(unknown, t0 + 90), OAUTH_ERR_CLIENT);
    jwks_url[strlen(jwks_url) - 1] = 's';
    assert_int_equal(VERIFY(known, t0 + 91), OAUTH_OK);
    free(user);
    oauth_verifier_stats(v, &s);
    assert_int_equal(s.jwks_failures, 1);
    assert_int_equal(s.jwks_loads, 1);
    /* past jwks_max_age: fetched again (and at most once per interval) */
    assert_int_equal(VERIFY(known, t0 + 700), OAUTH_OK);
    free(user);
    assert_int_equal(VERIFY(known, t0 + 701), OAUTH_OK);
    free(user);
    assert_true(wait_loads(v, 2));
    assert_int_equal(VERIFY(known, t0 + 702), OAUTH_OK);
    free(user);
    oauth_verifier_stats(v, &s);
    assert_int_equal(s.jwks_loads, 2);
    assert_int_equal(fetches(), 2);
#undef VERIFY
    oauth_verifier_free(v);
    free(known);
    free(unknown);
}

/* A set older than jwks_max_age, its fetch held at the server: the tokens
 * whose key it holds are all validated meanwhile, with the old set. */
static void test_stale_set_never_waits(void **state)
{
    struct oauth_verifier *v = make(60, 600);
    struct oauth_verify_stats st;
    struct job fast[NTHREADS];
    char *known = mint("rsa", NULL), *user = NULL;
    struct oauth_err err = {0};
    time_t t0 = time(NULL);
    int fast_in_time, fetch_held;

    (void)state;
    assert_int_equal(oauth_verify(v, known, strlen(known), t0, &user, &err), OAUTH_OK);
    free(user);
    assert_int_equal(fetches(), 1);
    hold(1);
    start(fast, NTHREADS, v, known, t0 + 700);
    fast_in_time = wait_done(fast, NTHREADS);
    /* the fetch reached the server, which still holds it: not loaded yet */
    fetch_held = wait_fetches(2);
    oauth_verifier_stats(v, &st);
    fetch_held = fetch_held && st.jwks_loads == 1;
    hold(0);
    join(fast, NTHREADS);
    assert_true(fast_in_time);
    assert_true(all_verdicts(fast, NTHREADS, OAUTH_OK));
    assert_true(fetch_held);
    /* the refresh then completes, once */
    assert_true(wait_loads(v, 2));
    assert_int_equal(fetches(), 2);
    oauth_verifier_free(v);
    free(known);
}

/* A JWKS file of `size` bytes: the server's key set, then JSON whitespace
 * up to the size.  Returns its path (static). */
static const char *jwks_file_of(size_t size)
{
    static char path[PATH_MAX + 32];
    char *doc = NULL;
    size_t n;
    FILE *f;

    assert_int_equal(ts_call(&server, "GET", "/jwks", NULL, &doc), 200);
    n = strlen(doc);
    assert_true(n < size);
    snprintf(path, sizeof(path), "%s/jwks-file.json", server.dir);
    assert_non_null(f = fopen(path, "w"));
    assert_int_equal(fwrite(doc, 1, n, f), n);
    for (; n < size; n++)
        assert_int_not_equal(fputc(n % 64 ? ' ' : '\n', f), EOF);
    assert_int_equal(fclose(f), 0);
    free(doc);
    return path;
}

/* A JWKS file is capped at OAUTH_JWKS_MAX_DOC (1 MiB), the cap of a key set
 * wherever it comes from: one of 600 KiB (over the 256 KiB the file reader
 * once had) is read, one over 1 MiB is refused and says why. */
static void test_jwks_file_cap(void **state)
{
    struct oauth_err err = {0};
    char *tok = mint("rsa", NULL), *user = NULL;
    struct oauth_verifier *v = make_with(jwks_file_of(600 * 1024), 60, 600);
    time_t now = time(NULL);

    (void)state;
    if (oauth_verify(v, tok, strlen(tok), now, &user, &err) != OAUTH_OK)
        fail_msg("a 600 KiB JWKS file: %s", err.reason);
    assert_string_equal(user, "alice");
    free(user);
    oauth_verifier_free(v);
    v = make_with(jwks_file_of(OAUTH_JWKS_MAX_DOC + 1), 60, 600);
    assert_int_equal(oauth_verify(v, tok, strlen(tok), now, &user, &err),
                     OAUTH_ERR_TEMPORARY);
    assert_non_null(strstr(err.reason, "larger than"));
    oauth_verifier_free(v);
    free(tok);
}

/* A key set anyone may write is anyone's key set: a JWKS file others may
 * write is refused, and says how to fix it; the owner's group may. */
static void test_jwks_file_others_write(void **state)
{
    struct oauth_err err = {0};
    char *tok = mint("rsa", NULL), *user = NULL;
    const char *path = jwks_file_of(4096);
    struct oauth_verifier *v;
    time_t now = time(NULL);

    (void)state;
    assert_int_equal(chmod(path, 0666), 0);
    v = make_with(path, 60, 600);
    assert_int_not_equal(oauth_verify(v, tok, strlen(tok), now, &user, &err), OAUTH_OK);
    assert_null(user);
    assert_non_null(strstr(err.reason, "o-w"));
    oauth_verifier_free(v);
    assert_int_equal(chmod(path, 0664), 0);
    v = make_with(path, 60, 600);
    if (oauth_verify(v, tok, strlen(tok), now, &user, &err) != OAUTH_OK)
        fail_msg("a JWKS file the group may write: %s", err.reason);
    free(user);
    oauth_verifier_free(v);
    free(tok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_known_keys_never_wait, reset),
        cmocka_unit_test_setup(test_one_fetch_at_a_time, reset),
        cmocka_unit_test_setup(test_rotation_rules, reset),
        cmocka_unit_test_setup(test_stale_set_never_waits, reset),
        cmocka_unit_test_setup(test_jwks_file_cap, reset),
        cmocka_unit_test_setup(test_jwks_file_others_write, reset),
    };

    return cmocka_run_group_tests_name("oauth_verify", tests, setup, teardown);
}
