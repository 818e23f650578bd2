/* Secrets erased before they are freed, by the client's token file and HTTP
 * code and by what they use (jansson's parser and dumper, libcurl's buffers):
 * under tests/unit/free_hook.c (LD_PRELOAD), which keeps a copy of every
 * block freed while armed, a token refresh (client_secret_basic and
 * client_secret_post), a plain use of a fresh token, and the XOAUTH2 client
 * plugin itself (loaded by libsasl2) refreshing a "tokenfile:" password's
 * token must leave none of the access tokens, refresh tokens or the client
 * secret (nor the Basic credential made from it) in a freed block.  The program re-executes itself
 * with LD_PRELOAD=<builddir>/tests/unit/.libs/free_hook.so when the hook is
 * not loaded: it never runs without it.  And the allocators that erase
 * leave an application's own use of jansson and libcurl working: one that
 * set its own jansson allocator keeps it, one with the default has it
 * wrapped (objects made before and after mix), one that initialised libcurl
 * first keeps its libcurl. */
#define _GNU_SOURCE 1
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sasl/sasl.h>

#include "oauth_http.h"
#include "oauth_tokenfile.h"
#include "oauth_testserver.h"

static void (*hook_arm)(int);
static long (*hook_blocks)(void);
static long (*hook_hits)(const void *, size_t);

static struct ts server;
static char path[PATH_MAX + 48];
static char endpoint[128];

#define CLIENT_ID "test-client"
#define CLIENT_SECRET "test-secret"
/* base64("test-client:test-secret"): the Basic credential */
#define BASIC_CRED "dGVzdC1jbGllbnQ6dGVzdC1zZWNyZXQ="

static int setup(void **state)
{
    (void)state;
    if (ts_start(&server, NULL) != 0)
        return -1;
    snprintf(endpoint, sizeof(endpoint), "%s/token", server.base);
    snprintf(path, sizeof(path), "%s/token.json", server.dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ts_stop(&server);
    return 0;
}

/* a grant at the server, written as a token file expiring in `in` seconds;
 * *at and *rt get copies of its tokens */
static void write_file(long in, const char *method, char **at, char **rt)
{
    char *body = NULL, text[8192];
    FILE *f;
    int fd;

    assert_int_equal(ts_call(&server, "POST", "/grant", NULL, &body), 200);
    *at = ts_json_str(body, "access_token");
    *rt = ts_json_str(body, "refresh_token");
    free(body);
    assert_non_null(*at);
    assert_non_null(*rt);
    snprintf(text, sizeof(text),
             "{\"access_token\": \"%s\", \"expires_at\": %lld, \"refresh_token\": \"%s\", "
             "\"token_endpoint\": \"%s\", \"client_id\": \"" CLIENT_ID "\", "
             "\"client_secret\": \"" CLIENT_SECRET "\", \"token_endpoint_auth_method\": \"%s\"}\n",
             *at, (long long)time(NULL) + in, *rt, endpoint, method);
    unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *member(const char *name)
{
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    char *r;

    assert_non_null(j);
    r = strdup(json_string_value(json_object_get(j, name)));
    json_decref(j);
    return r;
}

/* Every secret's count of freed blocks holding it, whole, or its first or
 * last 16 bytes (what a buffer reused for shorter data still holds of it);
 * the sum. */
#define PART 16
static long report(const char *what, const char *const *names, char *const *secrets, int n)
{
    long sum = 0;
    int i;

    print_message("# %s: %ld blocks freed\n", what, hook_blocks());
    assert_true(hook_blocks() >= 0); /* the hook's arena did not overflow */
    for (i = 0; i < n; i++) {
        size_t len = strlen(secrets[i]);
        long whole = hook_hits(secrets[i], len);
        long head = len > PART ? hook_hits(secrets[i], PART) : 0;
        long tail = len > PART ? hook_hits(secrets[i] + len - PART, PART) : 0;
        print_message("#   %-20s whole in %ld freed block(s), its first %d bytes in %ld, "
                      "its last %d in %ld\n", names[i], whole, PART, head, PART, tail);
        sum += whole + head + tail;
    }
    return sum;
}

static void refresh_case(const char *method)
{
    static const char *const names[] = {"old access token", "old refresh token",
                                        "new access token", "new refresh token",
                                        "client secret", "Basic credential"};
    struct oauth_tokenfile_options o;
    struct oauth_token t;
    struct oauth_err err = {0};
    char what[96], *s[6];
    long hits;
    int i;

    oauth_tokenfile_options_default(&o);
    write_file(0, method, &s[0], &s[1]);
    hook_arm(1);
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err), OAUTH_TOKENFILE_OK);
    assert_int_equal(t.refreshed, 1);
    oauth_token_clear(&t);
    hook_arm(0);
    s[2] = member("access_token");
    s[3] = member("refresh_token");
    s[4] = strdup(CLIENT_SECRET);
    s[5] = strdup(BASIC_CRED);
    snprintf(what, sizeof(what), "a refresh (%s)", method);
    hits = report(what, names, s, 6);
    for (i = 0; i < 6; i++)
        free(s[i]);
    if (hits)
        fail_msg("%s: %ld freed blocks still held a secret", what, hits);
}

static void test_refresh_basic(void **state)
{
    (void)state;
    refresh_case("client_secret_basic");
}

static void test_refresh_post(void **state)
{
    (void)state;
    refresh_case("client_secret_post");
}

static void test_fresh_token(void **state)
{
    static const char *const names[] = {"access token", "refresh token", "client secret"};
    struct oauth_tokenfile_options o;
    struct oauth_token t;
    struct oauth_err err = {0};
    char *s[3];
    long hits;
    int i;

    (void)state;
    oauth_tokenfile_options_default(&o);
    write_file(3600, "client_secret_basic", &s[0], &s[1]);
    s[2] = strdup(CLIENT_SECRET);
    hook_arm(1);
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err), OAUTH_TOKENFILE_OK);
    assert_int_equal(t.refreshed, 0);
    oauth_token_clear(&t);
    hook_arm(0);
    hits = report("a fresh token used", names, s, 3);
    for (i = 0; i < 3; i++)
        free(s[i]);
    if (hits)
        fail_msg("a fresh token's use: %ld freed blocks still held a secret", hits);
}

/* ---- applications that use jansson or libcurl themselves ------------------
 * Each case runs in a child, before this process has initialised the OAuth
 * core (which happens once per process). */

static int run_child(int (*fn)(void))
{
    pid_t pid;
    int status;

    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(fn());
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

static long app_allocs, app_frees;
static void *app_malloc(size_t n)
{
    app_allocs++;
    return malloc(n);
}
static void app_free(void *p)
{
    if (p)
        app_frees++;
    free(p);
}

/* an allocator of the application's own is kept as it is, and used */
static int child_app_allocator(void)
{
    json_malloc_t m;
    json_free_t f;
    json_t *j;

    json_set_alloc_funcs(app_malloc, app_free);
    if (oauth_http_init(NULL) != OAUTH_HTTP_OK)
        return 1;
    json_get_alloc_funcs(&m, &f);
    if (m != app_malloc || f != app_free)
        return 2;
    if (!(j = json_loads("{\"a\": \"b\"}", 0, NULL)))
        return 3;
    json_decref(j);
    return app_allocs > 0 && app_frees > 0 ? 0 : 4;
}

/* jansson's default allocator is wrapped, not replaced: objects made before
 * are freed through the wrapper, objects made after are ordinary malloc
 * blocks, and libcurl still works for the application */
static int child_default_allocator(void)
{
    json_malloc_t m;
    json_free_t f;
    json_t *before, *after;
    CURL *c;
    char *s;

    if (!(before = json_loads("{\"made\": \"before\"}", 0, NULL)))
        return 1;
    if (oauth_http_init(NULL) != OAUTH_HTTP_OK)
        return 2;
    json_get_alloc_funcs(&m, &f);
    if (m != malloc || f == free)
        return 3;
    if (!(after = json_pack("{s:s, s:o}", "made", "after", "old", before)))
        return 4;
    if (!(s = json_dumps(after, 0)) || !strstr(s, "before"))
        return 5;
    free(s); /* the application frees jansson's blocks with free() */
    json_decref(after);
    if (!(c = curl_easy_init()) || curl_easy_setopt(c, CURLOPT_URL, "http://127.0.0.1/") != CURLE_OK)
        return 6;
    curl_easy_cleanup(c);
    return 0;
}

/* an application that initialised libcurl first keeps its libcurl as it is */
static int child_curl_first(void)
{
    struct oauth_http_response r;
    struct oauth_err err;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    if (oauth_http_init(&err) != OAUTH_HTTP_OK)
        return 2;
    if (oauth_http_get(ts_url(&server, "/echo"), NULL, &r, &err) != OAUTH_HTTP_OK)
        return 3;
    oauth_http_response_free(&r);
    curl_global_cleanup();
    return 0;
}

static void test_application_allocators(void **state)
{
    (void)state;
    assert_int_equal(run_child(child_app_allocator), 0);
    assert_int_equal(run_child(child_default_allocator), 0);
    assert_int_equal(run_child(child_curl_first), 0);
}

/* ---- the whole client plugin, loaded by libsasl2 ------------------------------
 * A "tokenfile:" password whose token is refreshed on the way: the plugin's
 * own copy of the OAuth core installs its allocators (in a child, before this
 * process's core has), and its message, credentials and token copies are
 * erased too.  The application's part (its callbacks' strings) is not a
 * secret here: the password names the file. */

static char password[sizeof(path) + 16];

static int cb_getpath(void *ctx, const char **p)
{
    (void)ctx;
    *p = getenv("SM_PLUGIN_DIR");
    return *p ? SASL_OK : SASL_FAIL;
}

static int cb_simple(void *ctx, int id, const char **result, unsigned *len)
{
    (void)ctx;
    if (id != SASL_CB_AUTHNAME && id != SASL_CB_USER)
        return SASL_BADPARAM;
    *result = id == SASL_CB_AUTHNAME ? "alice" : "";
    if (len)
        *len = (unsigned)strlen(*result);
    return SASL_OK;
}

static int cb_pass(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **psecret)
{
    static sasl_secret_t *secret;
    size_t n = strlen(password);

    (void)conn;
    (void)ctx;
    (void)id;
    if (!secret && !(secret = malloc(sizeof(*secret) + n)))
        return SASL_NOMEM;
    secret->len = n;
    memcpy(secret->data, password, n + 1);
    *psecret = secret;
    return SASL_OK;
}

typedef int (*sasl_cb_fn)(void);
#define CB(f) ((sasl_cb_fn)(void (*)(void))(f))

static int child_plugin(void)
{
    static const char *const names[] = {"old access token", "old refresh token",
                                        "new access token", "new refresh token",
                                        "client secret", "Basic credential"};
    static sasl_callback_t global[] = {{SASL_CB_GETPATH, CB(cb_getpath), NULL},
                                       {SASL_CB_LIST_END, NULL, NULL}};
    static sasl_callback_t conn_cbs[] = {{SASL_CB_AUTHNAME, CB(cb_simple), NULL},
                                         {SASL_CB_USER, CB(cb_simple), NULL},
                                         {SASL_CB_PASS, CB(cb_pass), NULL},
                                         {SASL_CB_LIST_END, NULL, NULL}};
    sasl_conn_t *conn = NULL;
    const char *out = NULL, *mech = NULL;
    unsigned outlen = 0;
    char *sec[6];
    long hits;
    int r, i;

    write_file(0, "client_secret_basic", &sec[0], &sec[1]);
    snprintf(password, sizeof(password), "tokenfile:%s", path);
    if (sasl_client_init(global) != SASL_OK
        || sasl_client_new("smtp", "mx.example.com", NULL, NULL, conn_cbs, 0, &conn) != SASL_OK)
        return 90;
    hook_arm(1);
    r = sasl_client_start(conn, "XOAUTH2", NULL, &out, &outlen, &mech);
    if (r == SASL_CONTINUE) /* the server's success, without data */
        r = sasl_client_step(conn, NULL, 0, NULL, &out, &outlen);
    sasl_dispose(&conn);
    hook_arm(0);
    if (r != SASL_OK) {
        print_message("# the XOAUTH2 client: %d\n", r);
        return 91;
    }
    sec[2] = member("access_token");
    sec[3] = member("refresh_token");
    if (!strcmp(sec[2], sec[0]))
        return 92; /* not refreshed */
    sec[4] = strdup(CLIENT_SECRET);
    sec[5] = strdup(BASIC_CRED);
    hits = report("the XOAUTH2 client plugin with a \"tokenfile:\" password, refreshed",
                  names, sec, 6);
    for (i = 0; i < 6; i++)
        free(sec[i]);
    return hits > 80 ? 80 : (int)hits;
}

static void test_client_plugin(void **state)
{
    (void)state;
    assert_int_equal(run_child(child_plugin), 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        /* first: before this process initialises its OAuth core */
        cmocka_unit_test(test_application_allocators),
        cmocka_unit_test(test_client_plugin),
        cmocka_unit_test(test_refresh_basic),
        cmocka_unit_test(test_refresh_post),
        cmocka_unit_test(test_fresh_token),
    };

    (void)argc;
    hook_arm = (void (*)(int))dlsym(RTLD_DEFAULT, "sm_free_hook_arm");
    hook_blocks = (long (*)(void))dlsym(RTLD_DEFAULT, "sm_free_hook_blocks");
    hook_hits = (long (*)(const void *, size_t))dlsym(RTLD_DEFAULT, "sm_free_hook_hits");
    if (!hook_arm || !hook_blocks || !hook_hits) {
        const char *build = getenv("SM_BUILDDIR");
        char so[PATH_MAX], self[PATH_MAX];
        ssize_t n;
        if (getenv("SM_FREE_HOOK_TRIED") || !build) {
            printf("1..1\nnot ok 1 - the free() hook is not loaded (SM_BUILDDIR %s)\n",
                   build ? build : "unset");
            return 1;
        }
        snprintf(so, sizeof(so), "%s/tests/unit/.libs/free_hook.so", build);
        if (access(so, R_OK) != 0) {
            printf("1..1\nnot ok 1 - %s missing (make check builds it)\n", so);
            return 1;
        }
        setenv("LD_PRELOAD", so, 1);
        setenv("SM_FREE_HOOK_TRIED", "1", 1);
        /* readlink, not exec of /proc/self/exe: valgrind answers it with
         * this program, not with itself */
        if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
            self[n] = '\0';
            execv(self, argv);
        }
        printf("1..1\nnot ok 1 - re-executing under the free() hook failed\n");
        return 1;
    }
    return cmocka_run_group_tests_name("oauth_erasure", tests, setup, teardown);
}
