/* Unit tests of plugins/oauth/oauth_http.c against the loopback OAuth test
 * server (tests/oauth/oauth_server.py): GET and POST, the form and Basic
 * encodings of RFC 6749 (2.3.1, appendix B) as the server received them,
 * HTTP error statuses, redirects not followed, the size cap (with and
 * without Content-Length), timeouts against a socket that never answers,
 * connection refused, the URL rules (schemes, loopback-only http://,
 * credentials in URLs), TLS against a plain-HTTP port, why texts free of
 * paths, queries and bodies, and concurrent requests from threads. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include <sasl-mechs/base64.h>
#include "oauth_http.h"
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

static long now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static struct oauth_http_options opts(void)
{
    struct oauth_http_options o;

    oauth_http_options_default(&o);
    o.connect_timeout_ms = 5000;
    o.timeout_ms = 20000; /* valgrind is slow; timeouts are tested on their own */
    return o;
}

/* the echo of a request: a member of its JSON, or of its headers */
static char *echo_member(const char *body, const char *header)
{
    json_error_t err;
    json_t *root = json_loads(body, 0, &err), *v;
    char *r = NULL;

    assert_non_null(root);
    v = header ? json_object_get(json_object_get(root, "headers"), header)
               : json_object_get(root, "body");
    if (json_is_string(v))
        r = strdup(json_string_value(v));
    json_decref(root);
    return r;
}

static void test_get_ok(void **state)
{
    struct oauth_http_options o = opts();
    struct oauth_http_response r;
    struct oauth_err err = {0};
    char *v;

    (void)state;
    assert_int_equal(oauth_http_get(ts_url(&server, "/echo"), &o, &r, &err),
                     OAUTH_HTTP_OK);
    assert_int_equal(r.code, 200);
    assert_int_equal(strlen(r.body), r.len);
    v = echo_member(r.body, "accept");
    assert_string_equal(v, "application/json");
    free(v);
    v = echo_member(r.body, "user-agent");
    assert_non_null(v);
    assert_true(strncmp(v, "sasl-mechs/", 11) == 0);
    free(v);
    assert_null(strstr(r.body, "\"authorization\""));
    oauth_http_response_free(&r);
    assert_null(r.body);
    /* localhost is loopback too; NULL options are the defaults */
    assert_int_equal(oauth_http_get(ts_url(&server, "/echo"), NULL, &r, NULL), OAUTH_HTTP_OK);
    oauth_http_response_free(&r);
    {
        char url[128];
        snprintf(url, sizeof(url), "http://localhost:%d/echo", server.port);
        assert_int_equal(oauth_http_get(url, &o, &r, &err), OAUTH_HTTP_OK);
        oauth_http_response_free(&r);
        snprintf(url, sizeof(url), "HTTP://127.0.0.1:%d/echo", server.port);
        assert_int_equal(oauth_http_get(url, &o, &r, &err), OAUTH_HTTP_OK);
        oauth_http_response_free(&r);
    }
}

/* Form encoding: every byte outside ALPHA DIGIT - . _ ~ percent-encoded */
static void test_post_form(void **state)
{
    static const struct oauth_http_field f[] = {
        {"grant_type", "refresh_token"},
        {"a b", "x&y=z"},
        {"tok", "A+/=~._-"},
        {"utf8", "\xc3\xa9"},
        {"empty", ""},
        {"pct", "100%"},
    };
    static const char want[] = "grant_type=refresh_token&a%20b=x%26y%3Dz&tok=A%2B%2F%3D~._-"
                               "&utf8=%C3%A9&empty=&pct=100%25";
    struct oauth_http_options o = opts();
    struct oauth_http_response r;
    struct oauth_err err = {0};
    char *v;

    (void)state;
    assert_int_equal(oauth_http_post_form(ts_url(&server, "/echo"), &o, f, 6, NULL, &r, &err),
                     OAUTH_HTTP_OK);
    v = echo_member(r.body, NULL);
    assert_string_equal(v, want);
    free(v);
    v = echo_member(r.body, "content-type");
    assert_string_equal(v, "application/x-www-form-urlencoded");
    free(v);
    v = echo_member(r.body, "expect");
    assert_null(v);
    oauth_http_response_free(&r);

    /* an empty form is an empty body */
    assert_int_equal(oauth_http_post_form(ts_url(&server, "/echo"), &o, NULL, 0, NULL, &r, &err),
                     OAUTH_HTTP_OK);
    v = echo_member(r.body, NULL);
    assert_string_equal(v, "");
    free(v);
    oauth_http_response_free(&r);

    /* a field without a name is refused before anything is sent */
    {
        static const struct oauth_http_field bad[] = {{"", "v"}};
        assert_int_equal(oauth_http_post_form(ts_url(&server, "/echo"), &o, bad, 1, NULL, &r,
                                              &err),
                         OAUTH_HTTP_ERROR);
        assert_null(r.body);
    }
}

/* RFC 6749 2.3.1: id and secret each form-urlencoded, then id:secret */
static const struct {
    const char *id, *secret, *joined;
} basic_rows[] = {
    {"test-client", "test-secret", "test-client:test-secret"},
    {"my client:1", "p@ss word+/%", "my%20client%3A1:p%40ss%20word%2B%2F%25"},
    {"id", "", "id:"},
    {"caf\xc3\xa9", "\xe2\x82\xac", "caf%C3%A9:%E2%82%AC"},
};

static void test_basic_encoding(void **state)
{
    struct oauth_http_options o = opts();
    struct oauth_http_response r;
    struct oauth_err err = {0};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(basic_rows) / sizeof(basic_rows[0]); i++) {
        struct oauth_http_basic b = {basic_rows[i].id, basic_rows[i].secret};
        unsigned char dec[256];
        size_t dl;
        char *v;

        assert_int_equal(oauth_http_post_form(ts_url(&server, "/echo"), &o, NULL, 0, &b, &r, &err),
                         OAUTH_HTTP_OK);
        v = echo_member(r.body, "authorization");
        assert_non_null(v);
        assert_true(strncmp(v, "Basic ", 6) == 0);
        assert_int_equal(sm_b64_decode(SM_B64_STD, v + 6, strlen(v + 6), dec, sizeof(dec) - 1,
                                       &dl), 0);
        dec[dl] = '\0';
        assert_string_equal((char *)dec, basic_rows[i].joined);
        free(v);
        oauth_http_response_free(&r);
    }
    /* the server's own decoding agrees: its token endpoint accepts ours */
    {
        struct oauth_http_basic b = {"test-client", "wrong"};
        static const struct oauth_http_field f[] = {{"grant_type", "refresh_token"},
                                                    {"refresh_token", "nope"}};
        assert_int_equal(oauth_http_post_form(ts_url(&server, "/token"), &o, f, 2, &b, &r, &err),
                         OAUTH_HTTP_STATUS_ERROR);
        assert_int_equal(r.code, 401);
        oauth_http_response_free(&r);
        b.client_secret = "test-secret";
        assert_int_equal(oauth_http_post_form(ts_url(&server, "/token"), &o, f, 2, &b, &r, &err),
                         OAUTH_HTTP_STATUS_ERROR);
        assert_int_equal(r.code, 400); /* authenticated; the refresh token is unknown */
        assert_non_null(strstr(r.body, "invalid_grant"));
        oauth_http_response_free(&r);
    }
    /* a client without an id is refused here */
    {
        struct oauth_http_basic b = {"", "x"};
        assert_int_equal(oauth_http_post_form(ts_url(&server, "/echo"), &o, NULL, 0, &b, &r, &err),
                         OAUTH_HTTP_ERROR);
    }
}

static void test_status_error(void **state)
{
    static const long codes[] = {400, 401, 404, 429, 500, 503};
    struct oauth_http_options o = opts();
    struct oauth_http_response r;
    struct oauth_err err = {0};
    char path[32];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        snprintf(path, sizeof(path), "/status/%ld", codes[i]);
        assert_int_equal(oauth_http_get(ts_url(&server, path), &o, &r, &err),
                         OAUTH_HTTP_STATUS_ERROR);
        assert_int_equal(r.code, codes[i]);
        assert_non_null(strstr(r.body, "status"));
        assert_non_null(strstr(err.reason, "HTTP status"));
        /* the one classification: 5xx, 408 and 429 are the server's
         * temporary trouble, any other refusal an administrator's */
        assert_int_equal(err.code, OAUTH_HTTP_STATUS_ERROR);
        assert_int_equal(err.cls, codes[i] >= 500 || codes[i] == 429 ? OAUTH_ERR_TEMPORARY
                                                                     : OAUTH_ERR_CONFIG);
        oauth_http_response_free(&r);
    }
    /* 204: a 2xx without a body is OK with an empty string */
    assert_int_equal(oauth_http_get(ts_url(&server, "/status/204"), &o, &r, &err),
                     OAUTH_HTTP_OK);
    assert_int_equal(r.code, 204);
    assert_non_null(r.body);
    oauth_http_response_free(&r);
}

static void test_redirect_not_followed(void **state)
{
    struct oauth_http_options o = opts();
    struct oauth_http_response r;
    struct oauth_err err = {0};
    long before = ts_stat(&server, "requests./echo");

    (void)state;
    assert_int_equal(oauth_http_get(ts_url(&server, "/redirect"), &o, &r, &err),
                     OAUTH_HTTP_STATUS_ERROR);
    assert_int_equal(r.code, 302);
    oauth_http_response_free(&r);
    assert_int_equal(ts_stat(&server, "requests./echo"), before);
}

static void test_too_large(void **state)
{
    struct oauth_http_options o = opts();
    struct oauth_http_response r;
    struct oauth_err err = {0};

    (void)state;
    o.max_response = 1000;
    /* announced by Content-Length */
    assert_int_equal(oauth_http_get(ts_url(&server, "/big?n=5000"), &o, &r, &err),
                     OAUTH_HTTP_TOO_LARGE);
    assert_null(r.body);
    assert_non_null(strstr(err.reason, "larger than 1000"));
    /* discovered while reading */
    assert_int_equal(oauth_http_get(ts_url(&server, "/big?n=5000&nolength=1"), &o, &r, &err),
                     OAUTH_HTTP_TOO_LARGE);
    assert_null(r.body);
    assert_int_equal(oauth_http_get(ts_url(&server, "/big?n=1001&nolength=1"), &o, &r, &err),
                     OAUTH_HTTP_TOO_LARGE);
    /* exactly the cap is fine, either way */
    assert_int_equal(oauth_http_get(ts_url(&server, "/big?n=1000"), &o, &r, &err),
                     OAUTH_HTTP_OK);
    assert_int_equal(r.len, 1000);
    assert_int_equal(strlen(r.body), 1000);
    oauth_http_response_free(&r);
    assert_int_equal(oauth_http_get(ts_url(&server, "/big?n=1000&nolength=1"), &o, &r, &err),
                     OAUTH_HTTP_OK);
    assert_int_equal(r.len, 1000);
    oauth_http_response_free(&r);
    /* a body grown over many reads (several MiB, default cap raised) */
    o.max_response = 8u << 20;
    assert_int_equal(oauth_http_get(ts_url(&server, "/big?n=3000000&nolength=1"), &o, &r, &err),
                     OAUTH_HTTP_OK);
    assert_int_equal(r.len, 3000000);
    assert_true(r.body[0] == 'x' && r.body[2999999] == 'x' && r.body[3000000] == '\0');
    oauth_http_response_free(&r);
}

/* a socket that accepts connections (the kernel does) and never answers */
static void test_timeout_silent_socket(void **state)
{
    struct oauth_http_options o = opts();
    struct oauth_http_response r;
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    struct oauth_err err = {0};
    char url[64];
    long t0, dt;
    int fd;

    (void)state;
    fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", ntohs(a.sin_port));
    o.timeout_ms = 400;
    t0 = now_ms();
    assert_int_equal(oauth_http_get(url, &o, &r, &err), OAUTH_HTTP_UNREACHABLE);
    dt = now_ms() - t0;
    assert_int_equal(err.cls, OAUTH_ERR_TEMPORARY);
    close(fd);
    assert_null(r.body);
    assert_true(dt >= 350);
    assert_true(dt < 5000);
    assert_non_null(strstr(err.reason, "127.0.0.1:"));
    /* a server that answers too late: the same */
    t0 = now_ms();
    assert_int_equal(oauth_http_get(ts_url(&server, "/slow?ms=3000"), &o, &r, &err),
                     OAUTH_HTTP_UNREACHABLE);
    assert_true(now_ms() - t0 < 2500);
}

static void test_connection_refused(void **state)
{
    struct oauth_http_options o = opts();
    struct oauth_http_response r;
    static const struct oauth_http_field f[] = {{"token", "SECRET-TOKEN-VALUE"}};
    struct oauth_http_basic b = {"cid", "SECRET-CLIENT-VALUE"};
    struct oauth_err err = {0};
    char url[64];
    int port = ts_closed_port();

    (void)state;
    assert_true(port > 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/token?q=SECRET-QUERY", port);
    assert_int_equal(oauth_http_post_form(url, &o, f, 1, &b, &r, &err),
                     OAUTH_HTTP_UNREACHABLE);
    assert_null(r.body);
    assert_int_equal(r.code, 0);
    assert_null(strstr(err.reason, "SECRET"));
    assert_null(strstr(err.reason, "/token"));
    /* https to loopback is allowed too, and unreachable the same way */
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/", port);
    assert_int_equal(oauth_http_get(url, &o, &r, &err), OAUTH_HTTP_UNREACHABLE);
}

/* the URL rules: no network needed to refuse these */
static const struct {
    const char *url;
    int allow_insecure;
    enum oauth_http_status want;
    int insecure; /* oauth_http_url_insecure */
} url_rows[] = {
    {"http://example.com/token", 0, OAUTH_HTTP_URL_REFUSED, 1},
    {"http://10.0.0.1/token", 0, OAUTH_HTTP_URL_REFUSED, 1},
    {"http://128.0.0.1/token", 0, OAUTH_HTTP_URL_REFUSED, 1},
    {"http://localhost.example.com/", 0, OAUTH_HTTP_URL_REFUSED, 1},
    {"http://[::2]/", 0, OAUTH_HTTP_URL_REFUSED, 1},
    {"ftp://127.0.0.1/x", 0, OAUTH_HTTP_URL_REFUSED, -1},
    {"file:///etc/passwd", 0, OAUTH_HTTP_URL_REFUSED, -1},
    {"file:///etc/passwd", 1, OAUTH_HTTP_URL_REFUSED, -1},
    {"gopher://127.0.0.1/", 1, OAUTH_HTTP_URL_REFUSED, -1},
    {"http://user:pw@127.0.0.1/", 0, OAUTH_HTTP_URL_REFUSED, -1},
    {"https://user@idp.example/", 0, OAUTH_HTTP_URL_REFUSED, -1},
    {"not a url", 0, OAUTH_HTTP_URL_REFUSED, -1},
    {"127.0.0.1:80/x", 0, OAUTH_HTTP_URL_REFUSED, -1},
    {"", 0, OAUTH_HTTP_URL_REFUSED, -1},
    {"https://idp.example.com/token", 0, 0, 0}, /* allowed (not fetched) */
    {"http://127.0.0.1/x", 0, 0, 0},
    {"http://127.1.2.3/x", 0, 0, 0},
    {"http://localhost/x", 0, 0, 0},
    {"http://LOCALHOST/x", 0, 0, 0},
    {"http://[::1]/x", 0, 0, 0},
};

static void test_url_rules(void **state)
{
    struct oauth_http_options o = opts();
    struct oauth_http_response r;
    struct oauth_err err = {0};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(url_rows) / sizeof(url_rows[0]); i++) {
        int ins = oauth_http_url_insecure(url_rows[i].url);
        o.allow_insecure = url_rows[i].allow_insecure;
        if (ins != url_rows[i].insecure)
            fail_msg("row %zu (%s): oauth_http_url_insecure %d, expected %d", i,
                     url_rows[i].url, ins, url_rows[i].insecure);
        if (url_rows[i].want == OAUTH_HTTP_URL_REFUSED) {
            enum oauth_http_status st;
            oauth_err_clear(&err);
            st = oauth_http_get(url_rows[i].url, &o, &r, &err);
            if (st != OAUTH_HTTP_URL_REFUSED || r.body || !err.reason[0]
                || strstr(err.reason, "pw@"))
                fail_msg("row %zu (%s): status %d (%s), why \"%s\"", i, url_rows[i].url,
                         (int)st, oauth_http_status_text(st), err.reason);
        }
    }
    assert_int_equal(oauth_http_get(NULL, &o, &r, &err), OAUTH_HTTP_URL_REFUSED);
    /* allow_insecure lets http:// leave loopback (connection refused here,
     * not a refusal of the URL) */
    {
        char url[64];
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/", ts_closed_port());
        o.allow_insecure = 1;
        assert_int_equal(oauth_http_get(url, &o, &r, &err), OAUTH_HTTP_UNREACHABLE);
    }
}

/* TLS verification on: https:// to a port that speaks plain HTTP fails */
static void test_tls_against_plain_http(void **state)
{
    struct oauth_http_options o = opts();
    struct oauth_http_response r;
    struct oauth_err err = {0};
    char url[64];

    (void)state;
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/echo", server.port);
    assert_int_equal(oauth_http_get(url, &o, &r, &err), OAUTH_HTTP_TLS_ERROR);
    assert_null(r.body);
    /* a CA file that does not exist is a TLS failure, not a success */
    o.ca_file = "/nonexistent/ca.pem";
    assert_int_not_equal(oauth_http_get(url, &o, &r, &err), OAUTH_HTTP_OK);
}

static void test_bad_options(void **state)
{
    struct oauth_http_options o = opts();
    struct oauth_http_response r;
    struct oauth_err err = {0};

    (void)state;
    o.timeout_ms = 0;
    assert_int_equal(oauth_http_get(ts_url(&server, "/echo"), &o, &r, &err),
                     OAUTH_HTTP_ERROR);
    o = opts();
    o.connect_timeout_ms = -1;
    assert_int_equal(oauth_http_get(ts_url(&server, "/echo"), &o, &r, &err),
                     OAUTH_HTTP_ERROR);
    o = opts();
    o.max_response = 0;
    assert_int_equal(oauth_http_get(ts_url(&server, "/echo"), &o, &r, &err),
                     OAUTH_HTTP_ERROR);
    assert_int_equal(oauth_http_get(ts_url(&server, "/echo"), &o, NULL, &err),
                     OAUTH_HTTP_ERROR);
    /* a proxy named explicitly is used (here: one that refuses) */
    {
        char proxy[64];
        o = opts();
        snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", ts_closed_port());
        o.proxy = proxy;
        assert_int_equal(oauth_http_get(ts_url(&server, "/echo"), &o, &r, &err),
                         OAUTH_HTTP_UNREACHABLE);
    }
    /* and the environment's proxy is not */
    setenv("http_proxy", "http://127.0.0.1:1", 1);
    setenv("HTTP_PROXY", "http://127.0.0.1:1", 1);
    o = opts();
    assert_int_equal(oauth_http_get(ts_url(&server, "/echo"), &o, &r, &err),
                     OAUTH_HTTP_OK);
    oauth_http_response_free(&r);
    unsetenv("http_proxy");
    unsetenv("HTTP_PROXY");
    assert_string_equal(oauth_http_status_text(OAUTH_HTTP_TOO_LARGE), "response too large");
    assert_int_equal(oauth_http_init(&err), OAUTH_HTTP_OK);
    assert_int_equal(oauth_http_init(NULL), OAUTH_HTTP_OK);
}

#define NTHREADS 4
#define PER_THREAD 8

static void *worker(void *arg)
{
    struct oauth_http_options o = opts();
    struct oauth_http_response r;
    static const struct oauth_http_field f[] = {{"k", "v"}};
    long ok = 0;
    int i;

    for (i = 0; i < PER_THREAD; i++) {
        if (oauth_http_post_form((const char *)arg, &o, f, 1, NULL, &r, NULL)
                == OAUTH_HTTP_OK
            && r.code == 200)
            ok++;
        oauth_http_response_free(&r);
    }
    return (void *)ok;
}

static void test_threads(void **state)
{
    pthread_t t[NTHREADS];
    char url[128];
    int i;

    (void)state;
    /* ts_url's buffer is shared: fix the URL before the threads start */
    snprintf(url, sizeof(url), "%s", ts_url(&server, "/echo"));
    for (i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, url), 0);
    for (i = 0; i < NTHREADS; i++) {
        void *res;
        assert_int_equal(pthread_join(t[i], &res), 0);
        assert_int_equal((long)res, PER_THREAD);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_ok),
        cmocka_unit_test(test_post_form),
        cmocka_unit_test(test_basic_encoding),
        cmocka_unit_test(test_status_error),
        cmocka_unit_test(test_redirect_not_followed),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_timeout_silent_socket),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_url_rules),
        cmocka_unit_test(test_tls_against_plain_http),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_threads),
    };

    return cmocka_run_group_tests_name("oauth_http", tests, setup, teardown);
}
