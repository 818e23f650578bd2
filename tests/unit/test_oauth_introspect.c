/* Unit tests of plugins/oauth/oauth_introspect.c against the loopback OAuth
 * test server: active and inactive tokens with both client authentication
 * methods, the cache (a second lookup makes no request; negative entries;
 * entries bounded by the token's exp and by the ttl; a bounded number of
 * entries; errors never cached), every way the endpoint can fail mapped to
 * UNAVAILABLE (temporary) or FAILED, bad configurations, tokens refused
 * without a request, why texts without the token, and lookups from several
 * threads at once. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <cmocka.h>

#include <jansson.h>

#include "oauth_introspect.h"
#include "oauth_testserver.h"

static struct ts server;

static int setup(void **state)
{
    (void)state;
    return ts_start(&server, NULL);
}

static int teardown(void **state)
{
    (void)state;
    ts_stop(&server);
    return 0;
}

/* before each test: the server answers normally */
static int reset(void **state)
{
    (void)state;
    return ts_call(&server, "POST", "/reset", NULL, NULL) == 200 ? 0 : -1;
}

static struct oauth_introspect_config config(void)
{
    struct oauth_introspect_config c;

    ts_introspect_config(&server, &c);
    return c;
}

static struct oauth_introspector *make(const struct oauth_introspect_config *c)
{
    struct oauth_introspector *in = NULL;
    struct oauth_err err = {0};

    if (oauth_introspector_new(c, &in, &err) != OAUTH_OK)
        fail_msg("oauth_introspector_new: %s", err.reason);
    return in;
}

/* a token minted by the server with the given claims (JSON object text) */
static char *mint(const char *claims_json, int ttl)
{
    char *tok = ts_mint(&server, claims_json, ttl);

    assert_non_null(tok);
    return tok;
}

static const char CLAIMS[] = "{\"sub\": \"u1\", \"email\": \"u1@example.com\", \"scope\": \"mail\","
                             " \"aud\": \"sasl-mechs-test\"}";

static enum oauth_err_class look(struct oauth_introspector *in, const char *tok, time_t now,
                                 json_t **claims, int *cached, struct oauth_err *err)
{
    enum oauth_err_class st = oauth_introspect(in, tok, strlen(tok), now, claims, cached, err);
    /* whatever happened, the token is not in the reason, and the class is
     * the one the answer says */
    if (strstr(err->reason, tok))
        fail_msg("the token appears in the reason: %s", err->reason);
    if (err->cls != st || (st == OAUTH_ERR_CLIENT) != (err->status == OAUTH_STATUS_INVALID_TOKEN))
        fail_msg("class %d but answer %d, status %d", (int)err->cls, (int)st, (int)err->status);
    return st;
}

static void test_active_and_cached(void **state)
{
    struct oauth_introspect_config c = config();
    struct oauth_introspector *in = make(&c);
    struct oauth_introspect_stats s;
    char *tok = mint(CLAIMS, 600);
    time_t now = time(NULL);
    json_t *cl = NULL;
    struct oauth_err err = {0};
    long before;
    int cached = -1;

    (void)state;
    before = ts_stat(&server, "introspections");
    assert_int_equal(look(in, tok, now, &cl, &cached, &err), OAUTH_OK);
    assert_int_equal(cached, 0);
    assert_non_null(cl);
    assert_true(json_is_true(json_object_get(cl, "active")));
    assert_string_equal(json_string_value(json_object_get(cl, "email")), "u1@example.com");
    assert_string_equal(json_string_value(json_object_get(cl, "scope")), "mail");
    assert_true(json_is_integer(json_object_get(cl, "exp")));
    json_decref(cl);
    assert_int_equal(ts_stat(&server, "introspections"), before + 1);

    /* the second lookup comes from the cache: the same claims, no request */
    assert_int_equal(look(in, tok, now + 1, &cl, &cached, &err),
                     OAUTH_OK);
    assert_int_equal(cached, 1);
    assert_string_equal(json_string_value(json_object_get(cl, "email")), "u1@example.com");
    json_decref(cl);
    assert_int_equal(ts_stat(&server, "introspections"), before + 1);
    /* claims are optional for the caller */
    assert_int_equal(look(in, tok, now + 2, NULL, NULL, &err),
                     OAUTH_OK);
    oauth_introspector_stats(in, &s);
    assert_int_equal(s.entries, 1);
    assert_int_equal(s.hits, 2);
    assert_int_equal(s.misses, 1);
    assert_int_equal(s.requests, 1);

    /* past positive_ttl (300 s; the token lives 600 s) the server is asked again */
    assert_int_equal(look(in, tok, now + 301, NULL, &cached, &err),
                     OAUTH_OK);
    assert_int_equal(cached, 0);
    assert_int_equal(ts_stat(&server, "introspections"), before + 2);
    oauth_introspector_free(in);
    free(tok);
}

static void test_client_secret_post(void **state)
{
    struct oauth_introspect_config c = config();
    struct oauth_introspector *in;
    char *tok = mint(CLAIMS, 600);
    struct oauth_err err = {0};

    (void)state;
    c.client_auth = OAUTH_CLIENT_AUTH_POST;
    in = make(&c);
    assert_int_equal(look(in, tok, time(NULL), NULL, NULL, &err),
                     OAUTH_OK);
    oauth_introspector_free(in);
    /* a wrong secret: the server refuses us, which is not the token's fault */
    c.client_secret = "wrong";
    in = make(&c);
    assert_int_equal(look(in, tok, time(NULL), NULL, NULL, &err),
                     OAUTH_ERR_CONFIG);
    assert_non_null(strstr(err.reason, "client credentials"));
    assert_null(strstr(err.reason, "wrong"));
    oauth_introspector_free(in);
    c = config();
    c.client_secret = "wrong";
    in = make(&c);
    assert_int_equal(look(in, tok, time(NULL), NULL, NULL, &err),
                     OAUTH_ERR_CONFIG);
    oauth_introspector_free(in);
    free(tok);
}

static void test_inactive_and_negative_cache(void **state)
{
    struct oauth_introspect_config c = config();
    struct oauth_introspector *in;
    const char *tok = "an-unknown-token-value";
    time_t now = time(NULL);
    json_t *cl = (json_t *)1;
    struct oauth_err err = {0};
    long before = ts_stat(&server, "introspections");
    int cached = -1;

    (void)state;
    c.negative_ttl = 30;
    in = make(&c);
    assert_int_equal(look(in, tok, now, &cl, &cached, &err),
                     OAUTH_ERR_CLIENT);
    assert_null(cl);
    assert_int_equal(cached, 0);
    assert_int_equal(look(in, tok, now + 29, &cl, &cached, &err),
                     OAUTH_ERR_CLIENT);
    assert_int_equal(cached, 1);
    assert_int_equal(ts_stat(&server, "introspections"), before + 1);
    /* the negative entry ends after negative_ttl */
    assert_int_equal(look(in, tok, now + 30, &cl, &cached, &err),
                     OAUTH_ERR_CLIENT);
    assert_int_equal(cached, 0);
    assert_int_equal(ts_stat(&server, "introspections"), before + 2);
    oauth_introspector_free(in);

    /* negative_ttl 0: never cached */
    c.negative_ttl = 0;
    in = make(&c);
    assert_int_equal(look(in, tok, now, NULL, NULL, &err), OAUTH_ERR_CLIENT);
    assert_int_equal(look(in, tok, now, NULL, &cached, &err),
                     OAUTH_ERR_CLIENT);
    assert_int_equal(cached, 0);
    assert_int_equal(ts_stat(&server, "introspections"), before + 4);
    oauth_introspector_free(in);
}

static void test_revoked(void **state)
{
    struct oauth_introspect_config c = config();
    struct oauth_introspector *in = make(&c);
    char *tok = mint(CLAIMS, 600), req[2048];
    time_t now = time(NULL);
    struct oauth_err err = {0};

    (void)state;
    assert_int_equal(look(in, tok, now, NULL, NULL, &err), OAUTH_OK);
    snprintf(req, sizeof(req), "{\"token\": \"%s\"}", tok);
    assert_int_equal(ts_call(&server, "POST", "/revoke", req, NULL), 200);
    /* within positive_ttl the cached answer stands (the documented trade) */
    assert_int_equal(look(in, tok, now + 10, NULL, NULL, &err),
                     OAUTH_OK);
    /* after it, the revocation shows */
    assert_int_equal(look(in, tok, now + 301, NULL, NULL, &err),
                     OAUTH_ERR_CLIENT);
    oauth_introspector_free(in);
    free(tok);
}

/* an active entry lives until min(exp, now + positive_ttl) */
static void test_expiry_bound(void **state)
{
    struct oauth_introspect_config c = config();
    struct oauth_introspector *in = make(&c);
    time_t now = time(NULL);
    struct oauth_err err = {0};
    char claims[256];
    char *tok;
    long before;
    int cached;

    (void)state;
    snprintf(claims, sizeof(claims), "{\"sub\": \"u2\", \"exp\": %lld}", (long long)now + 20);
    tok = mint(claims, 0);
    before = ts_stat(&server, "introspections");
    assert_int_equal(look(in, tok, now, NULL, &cached, &err), OAUTH_OK);
    assert_int_equal(look(in, tok, now + 19, NULL, &cached, &err),
                     OAUTH_OK);
    assert_int_equal(cached, 1);
    assert_int_equal(ts_stat(&server, "introspections"), before + 1);
    /* at exp the entry is gone (the server, on its own clock, still says
     * active: what counts here is that it was asked) */
    assert_int_equal(look(in, tok, now + 20, NULL, &cached, &err),
                     OAUTH_OK);
    assert_int_equal(cached, 0);
    assert_int_equal(ts_stat(&server, "introspections"), before + 2);
    free(tok);

    /* an exp that is not a number: the answer is not cached at all */
    tok = mint("{\"sub\": \"u3\", \"exp\": \"soon\"}", 0);
    assert_int_equal(look(in, tok, now, NULL, &cached, &err), OAUTH_OK);
    assert_int_equal(look(in, tok, now, NULL, &cached, &err), OAUTH_OK);
    assert_int_equal(cached, 0);
    free(tok);

    /* an exp already past by the caller's clock: not cached either */
    snprintf(claims, sizeof(claims), "{\"sub\": \"u4\", \"exp\": %lld}", (long long)now + 100);
    tok = mint(claims, 0);
    assert_int_equal(look(in, tok, now + 200, NULL, &cached, &err),
                     OAUTH_OK);
    assert_int_equal(look(in, tok, now + 200, NULL, &cached, &err),
                     OAUTH_OK);
    assert_int_equal(cached, 0);
    free(tok);

    /* no exp at all: positive_ttl alone */
    tok = mint("{\"sub\": \"u5\"}", 0);
    assert_int_equal(look(in, tok, now, NULL, &cached, &err), OAUTH_OK);
    assert_int_equal(look(in, tok, now + 299, NULL, &cached, &err),
                     OAUTH_OK);
    assert_int_equal(cached, 1);
    assert_int_equal(look(in, tok, now + 300, NULL, &cached, &err),
                     OAUTH_OK);
    assert_int_equal(cached, 0);
    free(tok);
    oauth_introspector_free(in);
}

static void test_bounded_entries(void **state)
{
    struct oauth_introspect_config c = config();
    struct oauth_introspector *in;
    struct oauth_introspect_stats s;
    time_t now = time(NULL);
    struct oauth_err err = {0};
    char tok[32];
    int i, cached;

    (void)state;
    c.max_entries = 4;
    c.negative_ttl = 300;
    in = make(&c);
    for (i = 0; i < 6; i++) {
        snprintf(tok, sizeof(tok), "unknown-%d", i);
        assert_int_equal(look(in, tok, now, NULL, NULL, &err),
                         OAUTH_ERR_CLIENT);
    }
    oauth_introspector_stats(in, &s);
    assert_int_equal(s.entries, 4);
    assert_int_equal(s.evictions, 2);
    /* the oldest two went; the newest four stay */
    assert_int_equal(look(in, "unknown-5", now, NULL, &cached, &err),
                     OAUTH_ERR_CLIENT);
    assert_int_equal(cached, 1);
    assert_int_equal(look(in, "unknown-0", now, NULL, &cached, &err),
                     OAUTH_ERR_CLIENT);
    assert_int_equal(cached, 0);
    /* expired entries at the old end go first, before anything still good */
    for (i = 10; i < 14; i++) {
        snprintf(tok, sizeof(tok), "unknown-%d", i);
        look(in, tok, now + 1000, NULL, NULL, &err);
    }
    oauth_introspector_stats(in, &s);
    assert_int_equal(s.entries, 4);
    oauth_introspector_free(in);

    /* max_entries 0: no cache */
    c.max_entries = 0;
    in = make(&c);
    look(in, "unknown-0", now, NULL, NULL, &err);
    assert_int_equal(look(in, "unknown-0", now, NULL, &cached, &err),
                     OAUTH_ERR_CLIENT);
    assert_int_equal(cached, 0);
    oauth_introspector_stats(in, &s);
    assert_int_equal(s.entries, 0);
    oauth_introspector_free(in);
}

/* the endpoint misbehaving: mode, expected status, a word of the why */
static const struct {
    const char *mode;
    enum oauth_err_class want;
    const char *why;
} failure_rows[] = {
    {"{\"introspect\": \"500\"}", OAUTH_ERR_TEMPORARY, "500"},
    {"{\"introspect\": \"401\"}", OAUTH_ERR_CONFIG, "client credentials"},
    {"{\"introspect\": \"malformed\"}", OAUTH_ERR_CONFIG, "not valid JSON"},
    {"{\"introspect\": \"no_active\"}", OAUTH_ERR_CONFIG, "active"},
    {"{\"introspect\": \"huge\"}", OAUTH_ERR_CONFIG, "larger than"},
    {"{\"introspect\": \"inactive\"}", OAUTH_ERR_CLIENT, "not active"},
    {"{\"introspect\": \"500\", \"delay_ms\": 3000}", OAUTH_ERR_TEMPORARY,
     "unavailable"},
};

static void test_endpoint_failures(void **state)
{
    struct oauth_introspect_config c = config();
    struct oauth_introspector *in;
    char *tok = mint(CLAIMS, 600);
    struct oauth_err err = {0};
    size_t i;
    int cached;

    (void)state;
    c.http.timeout_ms = 500;
    c.negative_ttl = 0;
    in = make(&c);
    for (i = 0; i < sizeof(failure_rows) / sizeof(failure_rows[0]); i++) {
        enum oauth_err_class st;
        json_t *cl = (json_t *)1;
        assert_int_equal(ts_mode(&server, failure_rows[i].mode), 0);
        oauth_err_clear(&err);
        st = look(in, tok, time(NULL), &cl, &cached, &err);
        if (st != failure_rows[i].want || cl || !strstr(err.reason, failure_rows[i].why))
            fail_msg("row %zu (%s): class %d, why \"%s\"", i, failure_rows[i].mode, (int)st,
                     err.reason);
        assert_int_equal(ts_call(&server, "POST", "/reset", NULL, NULL), 200);
    }
    /* none of that was cached: now the token is active */
    assert_int_equal(look(in, tok, time(NULL), NULL, &cached, &err),
                     OAUTH_OK);
    assert_int_equal(cached, 0);
    oauth_introspector_free(in);

    /* the endpoint down: temporary */
    {
        char down[128];
        snprintf(down, sizeof(down), "http://127.0.0.1:%d/introspect", ts_closed_port());
        c = config();
        c.endpoint = down;
        in = make(&c);
        assert_int_equal(look(in, tok, time(NULL), NULL, NULL, &err),
                         OAUTH_ERR_TEMPORARY);
        assert_int_equal(look(in, tok, time(NULL), NULL, &cached, &err),
                         OAUTH_ERR_TEMPORARY);
        assert_int_equal(cached, 0);
        oauth_introspector_free(in);
    }
    /* an endpoint that is not one (404) */
    {
        char wrong[128];
        snprintf(wrong, sizeof(wrong), "%s/nothing-here", server.base);
        c = config();
        c.endpoint = wrong;
        in = make(&c);
        assert_int_equal(look(in, tok, time(NULL), NULL, NULL, &err),
                         OAUTH_ERR_CONFIG);
        assert_non_null(strstr(err.reason, "404"));
        oauth_introspector_free(in);
    }
    free(tok);
}

static void test_refused_tokens(void **state)
{
    struct oauth_introspect_config c = config();
    struct oauth_introspector *in = make(&c);
    static char big[OAUTH_INTROSPECT_MAX_TOKEN + 2];
    struct oauth_err err = {0};
    long before = ts_stat(&server, "introspections");

    (void)state;
    memset(big, 'a', sizeof(big) - 1);
    assert_int_equal(oauth_introspect(in, "", 0, time(NULL), NULL, NULL, &err),
                     OAUTH_ERR_CLIENT);
    assert_int_equal(oauth_introspect(in, NULL, 5, time(NULL), NULL, NULL, &err),
                     OAUTH_ERR_CLIENT);
    assert_int_equal(oauth_introspect(in, "ab\0cd", 5, time(NULL), NULL, NULL, &err),
                     OAUTH_ERR_CLIENT);
    assert_int_equal(oauth_introspect(in, big, sizeof(big) - 1, time(NULL), NULL, NULL, &err),
                     OAUTH_ERR_CLIENT);
    assert_int_equal(ts_stat(&server, "introspections"), before);
    /* exactly the limit is asked about */
    big[OAUTH_INTROSPECT_MAX_TOKEN] = '\0';
    assert_int_equal(oauth_introspect(in, big, OAUTH_INTROSPECT_MAX_TOKEN, time(NULL), NULL, NULL,
                                      &err),
                     OAUTH_ERR_CLIENT);
    assert_int_equal(ts_stat(&server, "introspections"), before + 1);
    assert_int_equal(oauth_introspect(NULL, "x", 1, time(NULL), NULL, NULL, &err),
                     OAUTH_ERR_CONFIG);
    oauth_introspector_free(in);
}

static void test_bad_config(void **state)
{
    struct oauth_introspect_config c;
    struct oauth_introspector *in = (struct oauth_introspector *)1;
    struct oauth_err err = {0};
    int i;

    (void)state;
    for (i = 0; i < 9; i++) {
        c = config();
        switch (i) {
        case 0: c.endpoint = NULL; break;
        case 1: c.endpoint = "http://idp.example.com/introspect"; break;
        case 2: c.client_id = NULL; break;
        case 3: c.client_secret = NULL; break;
        case 4: c.client_auth = OAUTH_CLIENT_AUTH_NONE; break;
        case 5: c.positive_ttl = -1; break;
        case 6: c.negative_ttl = 400L * 24 * 3600; break;
        case 7: c.http.timeout_ms = 0; break;
        case 8: c.endpoint = "ftp://127.0.0.1/"; break;
        }
        oauth_err_clear(&err);
        assert_int_equal(oauth_introspector_new(&c, &in, &err),
                         OAUTH_ERR_CONFIG);
        assert_null(in);
        assert_true(err.reason[0] != '\0');
        assert_null(strstr(err.reason, "rs-secret"));
    }
    /* http:// to a remote host when the administrator allows it */
    c = config();
    c.endpoint = "http://idp.example.com/introspect";
    c.http.allow_insecure = 1;
    assert_int_equal(oauth_introspector_new(&c, &in, &err), OAUTH_OK);
    oauth_introspector_free(in);
    /* ... but never another scheme */
    c.endpoint = "ftp://idp.example.com/introspect";
    assert_int_equal(oauth_introspector_new(&c, &in, &err), OAUTH_ERR_CONFIG);
    oauth_introspector_free(NULL);
    assert_int_equal(oauth_introspector_new(NULL, &in, &err), OAUTH_ERR_CONFIG);
}

#define NTHREADS 4
#define ROUNDS 25

struct work {
    struct oauth_introspector *in;
    char *tokens[3];
    int ok;
};

static void *worker(void *arg)
{
    struct work *w = arg;
    int i;

    for (i = 0; i < ROUNDS; i++) {
        const char *t = w->tokens[i % 3];
        json_t *cl = NULL;
        if (oauth_introspect(w->in, t, strlen(t), time(NULL), &cl, NULL, NULL)
                == OAUTH_OK
            && json_is_true(json_object_get(cl, "active")))
            w->ok++;
        json_decref(cl);
    }
    return NULL;
}

static void test_threads(void **state)
{
    struct oauth_introspect_config c = config();
    struct oauth_introspector *in = make(&c);
    struct work w[NTHREADS];
    pthread_t t[NTHREADS];
    char *tokens[3];
    int i;

    (void)state;
    for (i = 0; i < 3; i++)
        tokens[i] = mint(CLAIMS, 600);
    for (i = 0; i < NTHREADS; i++) {
        w[i].in = in;
        memcpy(w[i].tokens, tokens, sizeof(tokens));
        w[i].ok = 0;
        assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
    }
    for (i = 0; i < NTHREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(w[i].ok, ROUNDS);
    }
    for (i = 0; i < 3; i++)
        free(tokens[i]);
    oauth_introspector_free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_active_and_cached, reset),
        cmocka_unit_test_setup(test_client_secret_post, reset),
        cmocka_unit_test_setup(test_inactive_and_negative_cache, reset),
        cmocka_unit_test_setup(test_revoked, reset),
        cmocka_unit_test_setup(test_expiry_bound, reset),
        cmocka_unit_test_setup(test_bounded_entries, reset),
        cmocka_unit_test_setup(test_endpoint_failures, reset),
        cmocka_unit_test_setup(test_refused_tokens, reset),
        cmocka_unit_test_setup(test_bad_config, reset),
        cmocka_unit_test_setup(test_threads, reset),
    };

    return cmocka_run_group_tests_name("oauth_introspect", tests, setup, teardown);
}
