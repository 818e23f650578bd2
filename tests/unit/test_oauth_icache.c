/* Unit tests of the introspection cache shared through memcached
 * (plugins/oauth/oauth_icache.c and its use in oauth_introspect.c), against
 * a real memcached and the loopback OAuth test server, both started here
 * on 127.0.0.1 and stopped at the end: the value's codec (round trips, the
 * HMAC binding key, token and lifetime, strict parsing); one answer shared
 * by two processes (the provider asked once); the negative cache; the
 * lifetime capped by the token's exp; what is stored (never the token, only
 * the claims the verdict reads); the cache server down, silent, or holding
 * garbage or a forged value (the provider asked, a valid token accepted, an
 * inactive one still refused, one notice per interval); and the bound on
 * requests per interval, shared and per process. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "oauth_icache.h"
#include "oauth_introspect.h"
#include "memcached_testserver.h"
#include "oauth_testserver.h"
#include <sasl-mechs/crypto.h>
#include <sasl-mechs/hex.h>

static struct ts server;
static struct mc cache;
static const unsigned char SECRET[] = "0123456789abcdef0123456789abcdef-site-key";
static const unsigned char OTHER[] = "another site's key, also 32 bytes or more";

static int setup(void **state)
{
    (void)state;
    if (ts_start(&server, NULL) != 0)
        return -1;
    if (mc_start(&cache) != 0) {
        ts_stop(&server);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mc_stop(&cache);
    ts_stop(&server);
    return 0;
}

/* before each test: the provider answers normally, the cache is empty */
static int reset(void **state)
{
    char reply[64];

    (void)state;
    if (ts_call(&server, "POST", "/reset", NULL, NULL) != 200)
        return -1;
    if (mc_raw(&cache, "flush_all\r\n", 11, reply, sizeof(reply)) < 0 || strcmp(reply, "OK\r\n"))
        return -1;
    return 0;
}

static struct oauth_introspect_config config(const char *server_url)
{
    struct oauth_introspect_config c;

    ts_introspect_config(&server, &c);
    c.cache_server = server_url;
    c.cache_secret = SECRET;
    c.cache_secret_len = sizeof(SECRET) - 1;
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

static char *mint(const char *claims_json, int ttl)
{
    char *tok = ts_mint(&server, claims_json, ttl);

    assert_non_null(tok);
    return tok;
}

static const char CLAIMS[] = "{\"sub\": \"u1\", \"email\": \"u1@example.com\", \"scope\": \"mail\","
                             " \"aud\": \"sasl-mechs-test\", \"department\": \"sales\"}";

static enum oauth_err_class look(struct oauth_introspector *in, const char *tok, time_t now,
                                 json_t **claims, int *cached, struct oauth_err *err)
{
    enum oauth_err_class st = oauth_introspect(in, tok, strlen(tok), now, claims, cached, err);
    if (strstr(err->reason, tok))
        fail_msg("the token appears in the reason: %s", err->reason);
    return st;
}

static long asked(void)
{
    return ts_stat(&server, "introspections");
}

static void sha256(const char *tok, unsigned char key[32])
{
    size_t n = 0;

    assert_int_equal(sm_digest("SHA256", tok, strlen(tok), key, 32, &n), 0);
    assert_int_equal(n, 32);
}

/* the raw value memcached holds for a token ("" when none) */
static void raw_value(const char *tok, char *out, size_t n)
{
    unsigned char key[32];
    char hex[65], req[128], reply[OAUTH_ICACHE_MAX_VALUE + 256], *p, *q;

    sha256(tok, key);
    sm_hex_encode(key, 32, hex);
    hex[64] = '\0';
    snprintf(req, sizeof(req), "get sasl-mechs:oi:%s\r\n", hex);
    assert_true(mc_raw(&cache, req, strlen(req), reply, sizeof(reply)) > 0);
    out[0] = '\0';
    if (strncmp(reply, "VALUE ", 6) != 0)
        return;
    p = strstr(reply, "\r\n") + 2;
    q = strstr(p, "\r\nEND\r\n");
    assert_non_null(q);
    snprintf(out, n, "%.*s", (int)(q - p), p);
}

/* store a value for a token directly, as any writer to the cache could */
static void raw_store(const char *tok, const char *val)
{
    unsigned char key[32];
    char hex[65], req[OAUTH_ICACHE_MAX_VALUE + 256], reply[64];

    sha256(tok, key);
    sm_hex_encode(key, 32, hex);
    hex[64] = '\0';
    snprintf(req, sizeof(req), "set sasl-mechs:oi:%s 0 300 %zu\r\n%s\r\n", hex, strlen(val), val);
    assert_true(mc_raw(&cache, req, strlen(req), reply, sizeof(reply)) > 0);
    assert_string_equal(reply, "STORED\r\n");
}

/* ---- the codec ------------------------------------------------------------ */

static void test_codec(void **state)
{
    unsigned char key[32], key2[32];
    json_t *cl = json_pack("{s:b, s:s, s:s, s:I, s:s, s:s}", "active", 1, "sub", "u1", "email",
                           "u1@example.com", "exp", (json_int_t)2000000000, "scope", "mail",
                           "department", "sales"), *got = NULL;
    char *val = NULL, *bad;
    size_t len = 0;
    time_t until = 0;
    struct oauth_err why = {0};
    const time_t now = 1900000000;

    (void)state;
    sha256("token one", key);
    sha256("token two", key2);
    assert_int_equal(oauth_icache_encode(SECRET, sizeof(SECRET) - 1, key, cl, now + 60, &val,
                                         &len), 0);
    /* only the claims the verdict reads are stored */
    assert_null(strstr(val, "department"));
    assert_non_null(strstr(val, "u1@example.com"));
    assert_int_equal(oauth_icache_decode(SECRET, sizeof(SECRET) - 1, key, val, len, now, &until,
                                         &got, &why), OAUTH_ICACHE_ACTIVE);
    assert_int_equal(until, now + 60);
    assert_string_equal(json_string_value(json_object_get(got, "sub")), "u1");
    assert_null(json_object_get(got, "department"));
    json_decref(got);
    /* expired: a plain miss */
    why.reason[0] = '\0';
    assert_int_equal(oauth_icache_decode(SECRET, sizeof(SECRET) - 1, key, val, len, now + 60,
                                         &until, &got, &why), OAUTH_ICACHE_MISS);
    assert_string_equal(why.reason, "");
    /* another site's key, another token: refused */
    assert_int_equal(oauth_icache_decode(OTHER, sizeof(OTHER) - 1, key, val, len, now, &until,
                                         &got, &why), OAUTH_ICACHE_MISS);
    assert_non_null(strstr(why.reason, "HMAC"));
    assert_int_equal(oauth_icache_decode(SECRET, sizeof(SECRET) - 1, key2, val, len, now, &until,
                                         &got, &why), OAUTH_ICACHE_MISS);
    /* a later "until" written over the value breaks the HMAC */
    bad = strdup(val);
    bad[65 + 3] = bad[65 + 3] == '9' ? '8' : '9';
    assert_int_equal(oauth_icache_decode(SECRET, sizeof(SECRET) - 1, key, bad, len, now, &until,
                                         &got, &why), OAUTH_ICACHE_MISS);
    free(bad);
    /* truncated, trailing bytes, empty, an embedded NUL */
    assert_int_equal(oauth_icache_decode(SECRET, sizeof(SECRET) - 1, key, val, len - 1, now,
                                         &until, &got, &why), OAUTH_ICACHE_MISS);
    assert_int_equal(oauth_icache_decode(SECRET, sizeof(SECRET) - 1, key, "", 0, now, &until,
                                         &got, &why), OAUTH_ICACHE_MISS);
    free(val);
    /* inactive */
    assert_int_equal(oauth_icache_encode(SECRET, sizeof(SECRET) - 1, key, NULL, now + 30, &val,
                                         &len), 0);
    assert_int_equal(oauth_icache_decode(SECRET, sizeof(SECRET) - 1, key, val, len, now, &until,
                                         &got, &why), OAUTH_ICACHE_INACTIVE);
    assert_null(got);
    free(val);
    /* claims that are not active are never encoded */
    json_object_set_new(cl, "active", json_false());
    assert_int_equal(oauth_icache_encode(SECRET, sizeof(SECRET) - 1, key, cl, now + 30, &val,
                                         &len), -1);
    json_decref(cl);
}

static void test_bad_config(void **state)
{
    struct oauth_introspect_config c = config(cache.url);
    struct oauth_introspector *in = NULL;
    struct oauth_err err = {0};
    static const char *const bad[] = {"redis://127.0.0.1:6379", "memcached://127.0.0.1",
                                      "memcached://127.0.0.1:0", "memcached://127.0.0.1:99999",
                                      "memcached://u:p@127.0.0.1:1", "memcached://[::1",
                                      "memcached://:11211", NULL};
    size_t i;

    (void)state;
    for (i = 0; bad[i]; i++) {
        c.cache_server = bad[i];
        assert_int_equal(oauth_introspector_new(&c, &in, &err), OAUTH_ERR_CONFIG);
        assert_null(in);
    }
    c = config(cache.url);
    c.cache_secret_len = 31; /* too short a key */
    assert_int_equal(oauth_introspector_new(&c, &in, &err), OAUTH_ERR_CONFIG);
    c = config(cache.url);
    c.interval = 0;
    assert_int_equal(oauth_introspector_new(&c, &in, &err), OAUTH_ERR_CONFIG);
    c = config("memcached://[::1]:11211"); /* IPv6 literal accepted */
    assert_int_equal(oauth_introspector_new(&c, &in, &err), OAUTH_OK);
    oauth_introspector_free(in);
}

/* ---- shared between processes --------------------------------------------- */

static void test_shared_between_processes(void **state)
{
    struct oauth_introspect_config c = config(cache.url);
    struct oauth_introspector *in;
    struct oauth_introspect_stats s;
    char *tok = mint(CLAIMS, 600), raw[OAUTH_ICACHE_MAX_VALUE + 1];
    time_t now = time(NULL);
    long before = asked();
    struct oauth_err err = {0};
    json_t *cl = NULL;
    int cached = -1, status;
    pid_t pid;

    (void)state;
    /* another process asks the provider and leaves the answer in the cache */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct oauth_introspector *child = NULL;
        int ok = oauth_introspector_new(&c, &child, &err) == OAUTH_OK
                 && oauth_introspect(child, tok, strlen(tok), now, NULL, &cached, &err) == OAUTH_OK
                 && cached == 0;
        oauth_introspector_free(child);
        _exit(ok ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(asked(), before + 1);

    /* what is stored: no token, only the claims the verdict reads */
    raw_value(tok, raw, sizeof(raw));
    assert_true(raw[0]);
    assert_null(strstr(raw, tok));
    assert_null(strstr(raw, "department"));

    /* this process has never seen the token: the shared cache answers */
    in = make(&c);
    assert_int_equal(look(in, tok, now + 1, &cl, &cached, &err), OAUTH_OK);
    assert_int_equal(cached, 1);
    assert_string_equal(json_string_value(json_object_get(cl, "email")), "u1@example.com");
    assert_string_equal(json_string_value(json_object_get(cl, "aud")), "sasl-mechs-test");
    assert_null(json_object_get(cl, "department"));
    json_decref(cl);
    /* and then its own cache */
    assert_int_equal(look(in, tok, now + 2, NULL, &cached, &err), OAUTH_OK);
    assert_int_equal(cached, 1);
    oauth_introspector_stats(in, &s);
    assert_int_equal(s.shared_hits, 1);
    assert_int_equal(s.hits, 2);
    assert_int_equal(s.requests, 0);
    assert_int_equal(asked(), before + 1);
    oauth_introspector_free(in);
    /* without a cache of its own, the shared one still answers */
    c.max_entries = 0;
    in = make(&c);
    assert_int_equal(look(in, tok, now + 3, NULL, &cached, &err), OAUTH_OK);
    assert_int_equal(cached, 1);
    oauth_introspector_stats(in, &s);
    assert_int_equal(s.hits, 1);
    assert_int_equal(s.misses, 0);
    assert_int_equal(asked(), before + 1);
    oauth_introspector_free(in);
    free(tok);
}

static void test_negative_shared(void **state)
{
    struct oauth_introspect_config c = config(cache.url);
    struct oauth_introspector *a, *b;
    const char *tok = "an-unknown-token-value-for-the-shared-cache";
    char raw[OAUTH_ICACHE_MAX_VALUE + 1], *sp;
    time_t now = time(NULL);
    long before = asked();
    struct oauth_err err = {0};
    int cached = -1;

    (void)state;
    c.negative_ttl = 30;
    a = make(&c);
    b = make(&c);
    assert_int_equal(look(a, tok, now, NULL, &cached, &err), OAUTH_ERR_CLIENT);
    assert_int_equal(cached, 0);
    raw_value(tok, raw, sizeof(raw));
    /* "<hmac> v1 <now+30> -" */
    sp = strrchr(raw, ' ');
    assert_non_null(sp);
    assert_string_equal(sp, " -");
    assert_int_equal(strtoll(raw + 68, NULL, 10), (long long)now + 30);
    assert_int_equal(look(b, tok, now + 29, NULL, &cached, &err), OAUTH_ERR_CLIENT);
    assert_int_equal(cached, 1);
    assert_non_null(strstr(err.reason, "shared cache"));
    assert_int_equal(asked(), before + 1);
    oauth_introspector_free(b);
    /* past negative_ttl the provider is asked again */
    b = make(&c);
    assert_int_equal(look(b, tok, now + 30, NULL, &cached, &err), OAUTH_ERR_CLIENT);
    assert_int_equal(cached, 0);
    assert_int_equal(asked(), before + 2);
    oauth_introspector_free(a);
    oauth_introspector_free(b);
}

/* an active answer is shared until min(exp, now + positive_ttl) */
static void test_ttl_capped_by_exp(void **state)
{
    struct oauth_introspect_config c = config(cache.url);
    struct oauth_introspector *a, *b;
    char *tok = mint(CLAIMS, 20), raw[OAUTH_ICACHE_MAX_VALUE + 1];
    time_t now = time(NULL), exp;
    long before = asked();
    struct oauth_err err = {0};
    json_t *cl = NULL;
    int cached = -1;

    (void)state;
    a = make(&c); /* positive_ttl 300, the token lives 20 s */
    assert_int_equal(look(a, tok, now, &cl, &cached, &err), OAUTH_OK);
    exp = (time_t)json_integer_value(json_object_get(cl, "exp"));
    json_decref(cl);
    assert_true(exp > now && exp <= now + 21);
    raw_value(tok, raw, sizeof(raw));
    assert_int_equal(strtoll(raw + 68, NULL, 10), (long long)exp);
    b = make(&c);
    assert_int_equal(look(b, tok, exp - 1, NULL, &cached, &err), OAUTH_OK);
    assert_int_equal(cached, 1);
    oauth_introspector_free(b);
    /* at exp the shared entry is no longer used (and the provider asked) */
    b = make(&c);
    look(b, tok, exp, NULL, &cached, &err);
    assert_int_equal(cached, 0);
    assert_int_equal(asked(), before + 2);
    oauth_introspector_free(b);

    /* positive_ttl shorter than the token's life: it bounds the entry */
    free(tok);
    tok = mint(CLAIMS, 600);
    c.positive_ttl = 10;
    b = make(&c);
    assert_int_equal(look(b, tok, now, NULL, &cached, &err), OAUTH_OK);
    raw_value(tok, raw, sizeof(raw));
    assert_int_equal(strtoll(raw + 68, NULL, 10), (long long)now + 10);
    oauth_introspector_free(a);
    oauth_introspector_free(b);
    free(tok);
}

/* ---- the cache server's trouble is never the token's ---------------------- */

static void test_server_down(void **state)
{
    char url[64];
    struct oauth_introspect_config c;
    struct oauth_introspector *in;
    char *tok = mint(CLAIMS, 600), *tok2 = mint(CLAIMS, 601), notice[OAUTH_ERR_REASON_MAX];
    time_t now = time(NULL);
    long before = asked();
    struct oauth_err err = {0};
    struct oauth_introspect_stats s;

    (void)state;
    snprintf(url, sizeof(url), "memcached://127.0.0.1:%d", ts_closed_port());
    c = config(url);
    in = make(&c);
    assert_int_equal(look(in, tok, now, NULL, NULL, &err), OAUTH_OK);
    assert_int_equal(asked(), before + 1);
    /* said once ... */
    assert_int_equal(oauth_introspect_take_notice(in, notice, sizeof(notice)), 1);
    assert_non_null(strstr(notice, "unavailable"));
    assert_int_equal(oauth_introspect_take_notice(in, notice, sizeof(notice)), 0);
    /* ... not for every login within the interval */
    assert_int_equal(look(in, tok2, now + 10, NULL, NULL, &err), OAUTH_OK);
    assert_int_equal(asked(), before + 2);
    assert_int_equal(oauth_introspect_take_notice(in, notice, sizeof(notice)), 0);
    /* and again after it */
    assert_int_equal(look(in, "some-other-token", now + 61, NULL, NULL, &err), OAUTH_ERR_CLIENT);
    assert_int_equal(oauth_introspect_take_notice(in, notice, sizeof(notice)), 1);
    oauth_introspector_stats(in, &s);
    assert_int_equal(s.shared_hits, 0);
    oauth_introspector_free(in);
    free(tok);
    free(tok2);
}

static void test_server_silent(void **state)
{
    char url[64];
    struct oauth_introspect_config c;
    struct oauth_introspector *in;
    char *tok = mint(CLAIMS, 600), notice[OAUTH_ERR_REASON_MAX];
    time_t now = time(NULL);
    struct oauth_err err = {0};
    struct timespec t0, t1;
    int fd, port = mc_silent_port(&fd);
    long ms;

    (void)state;
    assert_true(port > 0);
    snprintf(url, sizeof(url), "memcached://127.0.0.1:%d", port);
    c = config(url);
    c.cache_timeout_ms = 200;
    in = make(&c);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(look(in, tok, now, NULL, NULL, &err), OAUTH_OK);
    /* a second token while the server is left alone: no wait at all */
    assert_int_equal(look(in, "yet-another-unknown-token", now + 1, NULL, NULL, &err),
                     OAUTH_ERR_CLIENT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_true(ms < 5000); /* one 200 ms deadline, not one per step */
    assert_int_equal(oauth_introspect_take_notice(in, notice, sizeof(notice)), 1);
    assert_non_null(strstr(notice, "no reply within 200 ms"));
    oauth_introspector_free(in);
    close(fd);
    free(tok);
}

static void test_garbage_and_forgery(void **state)
{
    struct oauth_introspect_config c = config(cache.url);
    struct oauth_introspector *in;
    char *tok = mint(CLAIMS, 600), notice[OAUTH_ERR_REASON_MAX], *forged = NULL;
    const char *inactive = "a-token-the-provider-does-not-know";
    unsigned char key[32];
    time_t now = time(NULL);
    long before = asked();
    struct oauth_err err = {0};
    json_t *cl;
    size_t len;
    int cached = -1;

    (void)state;
    /* garbage where the answer should be: a miss, the provider asked */
    raw_store(tok, "garbage");
    in = make(&c);
    assert_int_equal(look(in, tok, now, NULL, &cached, &err), OAUTH_OK);
    assert_int_equal(cached, 0);
    assert_int_equal(asked(), before + 1);
    assert_int_equal(oauth_introspect_take_notice(in, notice, sizeof(notice)), 1);
    assert_non_null(strstr(notice, "refused (malformed)"));
    oauth_introspector_free(in);

    /* "active" written by someone without this site's key, for a token the
     * provider does not know: refused, the provider asked, the token refused */
    cl = json_pack("{s:b, s:s, s:s, s:s}", "active", 1, "sub", "mallory", "aud",
                   "sasl-mechs-test", "iss", "whoever");
    sha256(inactive, key);
    assert_int_equal(oauth_icache_encode(OTHER, sizeof(OTHER) - 1, key, cl, now + 300, &forged,
                                         &len), 0);
    json_decref(cl);
    raw_store(inactive, forged);
    free(forged);
    in = make(&c);
    assert_int_equal(look(in, inactive, now, NULL, &cached, &err), OAUTH_ERR_CLIENT);
    assert_int_equal(cached, 0);
    assert_int_equal(asked(), before + 2);
    assert_int_equal(oauth_introspect_take_notice(in, notice, sizeof(notice)), 1);
    assert_non_null(strstr(notice, "wrong HMAC"));
    oauth_introspector_free(in);
    /* and the provider's answer replaced it */
    in = make(&c);
    assert_int_equal(look(in, inactive, now + 1, NULL, &cached, &err), OAUTH_ERR_CLIENT);
    assert_int_equal(cached, 1);
    assert_int_equal(asked(), before + 2);
    oauth_introspector_free(in);
    free(tok);
}

/* ---- the bound on requests to the provider -------------------------------- */

static void test_flood_bound(void **state)
{
    struct oauth_introspect_config c = config(cache.url);
    struct oauth_introspector *a, *b, *local;
    struct oauth_introspect_stats s;
    char *good = mint(CLAIMS, 600), tok[64], notice[OAUTH_ERR_REASON_MAX];
    time_t now = time(NULL);
    long before;
    struct oauth_err err = {0};
    int i;

    (void)state;
    /* the window starts at a multiple of the interval: stay inside one */
    now -= now % 60;
    c.max_per_interval = 4;
    c.interval = 60;
    a = make(&c);
    b = make(&c);
    assert_int_equal(look(a, good, now, NULL, NULL, &err), OAUTH_OK); /* 1 */
    before = asked();
    /* distinct invalid tokens, from two "processes" sharing the count */
    for (i = 0; i < 3; i++) {
        snprintf(tok, sizeof(tok), "invalid-token-%d", i);
        assert_int_equal(look(i % 2 ? b : a, tok, now + 1, NULL, NULL, &err), OAUTH_ERR_CLIENT);
    }
    assert_int_equal(asked(), before + 3);
    for (i = 3; i < 20; i++) {
        snprintf(tok, sizeof(tok), "invalid-token-%d", i);
        assert_int_equal(look(i % 2 ? b : a, tok, now + 2, NULL, NULL, &err),
                         OAUTH_ERR_TEMPORARY);
        assert_non_null(strstr(err.reason, "bound"));
    }
    assert_int_equal(asked(), before + 3);
    /* one notice each, for the whole interval */
    assert_int_equal(oauth_introspect_take_notice(a, notice, sizeof(notice)), 1);
    assert_non_null(strstr(notice, "bound reached"));
    assert_int_equal(oauth_introspect_take_notice(a, notice, sizeof(notice)), 0);
    assert_int_equal(oauth_introspect_take_notice(b, notice, sizeof(notice)), 1);
    assert_int_equal(oauth_introspect_take_notice(b, notice, sizeof(notice)), 0);
    /* a valid token in the cache still works, in either process */
    assert_int_equal(look(a, good, now + 3, NULL, NULL, &err), OAUTH_OK);
    assert_int_equal(look(b, good, now + 3, NULL, NULL, &err), OAUTH_OK);
    /* and so does an invalid one already refused (negative cache) */
    assert_int_equal(look(b, "invalid-token-0", now + 3, NULL, NULL, &err), OAUTH_ERR_CLIENT);
    oauth_introspector_stats(a, &s);
    assert_true(s.bounded >= 8);
    /* the next interval starts afresh */
    assert_int_equal(look(a, "invalid-token-19", now + 60, NULL, NULL, &err), OAUTH_ERR_CLIENT);
    assert_int_equal(asked(), before + 4);
    oauth_introspector_free(a);
    oauth_introspector_free(b);

    /* without a cache server, each process counts its own */
    c = config(NULL);
    c.max_per_interval = 2;
    local = make(&c);
    before = asked();
    assert_int_equal(look(local, "local-0", now, NULL, NULL, &err), OAUTH_ERR_CLIENT);
    assert_int_equal(look(local, "local-1", now, NULL, NULL, &err), OAUTH_ERR_CLIENT);
    assert_int_equal(look(local, "local-2", now, NULL, NULL, &err), OAUTH_ERR_TEMPORARY);
    assert_int_equal(asked(), before + 2);
    oauth_introspector_free(local);
    free(good);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codec),
        cmocka_unit_test_setup(test_bad_config, reset),
        cmocka_unit_test_setup(test_shared_between_processes, reset),
        cmocka_unit_test_setup(test_negative_shared, reset),
        cmocka_unit_test_setup(test_ttl_capped_by_exp, reset),
        cmocka_unit_test_setup(test_server_down, reset),
        cmocka_unit_test_setup(test_server_silent, reset),
        cmocka_unit_test_setup(test_garbage_and_forgery, reset),
        cmocka_unit_test_setup(test_flood_bound, reset),
    };

    return cmocka_run_group_tests_name("oauth_icache", tests, setup, teardown);
}
