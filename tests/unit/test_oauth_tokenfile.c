/* Unit tests of plugins/oauth/oauth_tokenfile.c against the loopback OAuth
 * test server: a fresh token used as it is (no request); an expiring one
 * refreshed, the file rewritten with the same mode (and, as root, owner),
 * the rotated refresh token kept and the old one spent, other members
 * kept; an answer without refresh_token keeping the old one; each client
 * authentication method; refresh rejected, endpoint down or failing, bad
 * answers; a table of malformed and unreadable files; the lock timing
 * out; and N processes at once with an expiring token: exactly one
 * refresh at the server, every process with the same new access token, and
 * the refresh token in the file still good. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "oauth_tokenfile.h"
#include "oauth_refused.h"
#include "oauth_testserver.h"

static struct ts server;
static char dir[PATH_MAX + 16]; /* the token files' directory */
static char path[PATH_MAX + 48];
static char token_endpoint[128];

static int setup(void **state)
{
    (void)state;
    if (ts_start(&server, NULL) != 0)
        return -1;
    snprintf(token_endpoint, sizeof(token_endpoint), "%s/token", server.base);
    snprintf(dir, sizeof(dir), "%s/files", server.dir);
    if (mkdir(dir, 0700) != 0)
        return -1;
    snprintf(path, sizeof(path), "%s/token.json", dir);
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
    char lp[PATH_MAX + 64];

    (void)state;
    snprintf(lp, sizeof(lp), "%s.lock", path);
    unlink(path);
    unlink(lp);
    return ts_call(&server, "POST", "/reset", NULL, NULL) == 200 ? 0 : -1;
}

/* a new grant at the server: access and refresh token */
struct grant {
    char *at, *rt;
};

static struct grant grant(void)
{
    struct grant g;
    char *body = NULL;

    assert_int_equal(ts_call(&server, "POST", "/grant", NULL, &body), 200);
    g.at = ts_json_str(body, "access_token");
    g.rt = ts_json_str(body, "refresh_token");
    free(body);
    assert_non_null(g.at);
    assert_non_null(g.rt);
    return g;
}

static void grant_free(struct grant *g)
{
    free(g->at);
    free(g->rt);
}

static void write_file(const char *p, mode_t mode, const char *text)
{
    int fd;

    unlink(p);
    fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

/* the usual file: expires_at = now + in, with extra members appended */
static void write_token_file(mode_t mode, const struct grant *g, long in, const char *extra)
{
    char text[8192];

    snprintf(text, sizeof(text),
             "{\"access_token\": \"%s\", \"expires_at\": %lld, \"refresh_token\": \"%s\",\n"
             " \"token_endpoint\": \"%s\", \"client_id\": \"test-client\",\n"
             " \"client_secret\": \"test-secret\", \"note\": \"kept\"%s}\n",
             g->at, (long long)time(NULL) + in, g->rt, token_endpoint, extra ? extra : "");
    write_file(path, mode, text);
}

static json_t *read_json(const char *p)
{
    json_error_t err;
    json_t *j = json_load_file(p, JSON_REJECT_DUPLICATES, &err);

    if (!j)
        fail_msg("%s: %s", p, err.text);
    return j;
}

static const char *member(json_t *j, const char *name)
{
    return json_string_value(json_object_get(j, name));
}

static char *slurp(const char *p)
{
    FILE *f = fopen(p, "r");
    char *buf = calloc(1, 1 << 17);

    assert_non_null(f);
    assert_non_null(buf);
    if (fread(buf, 1, (1 << 17) - 1, f) == 0)
        buf[0] = '\0';
    fclose(f);
    return buf;
}

static struct oauth_tokenfile_options opts(void)
{
    struct oauth_tokenfile_options o;

    oauth_tokenfile_options_default(&o);
    o.http.timeout_ms = 20000;
    return o;
}

/* no secret of g (and no access token) in a why text */
static void no_secrets(const char *why, const struct grant *g)
{
    if (strstr(why, g->rt) || strstr(why, g->at) || strstr(why, "test-secret"))
        fail_msg("a secret in why: %s", why);
}

/* Time passing for the token file: expires_at and obtained_at (when
 * present) moved d seconds back. */
static void age_file(long d)
{
    json_t *j = read_json(path), *v;
    char *text;
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    v = json_object_get(j, "expires_at");
    assert_true(json_is_integer(v));
    json_object_set_new(j, "expires_at", json_integer(json_integer_value(v) - d));
    if ((v = json_object_get(j, "obtained_at")))
        json_object_set_new(j, "obtained_at", json_integer(json_integer_value(v) - d));
    text = json_dumps(j, 0);
    assert_non_null(text);
    write_file(path, st.st_mode & 07777, text);
    free(text);
    json_decref(j);
}


/* one use of the file name (relative to o->dir_fd): returns whether it
 * refreshed */
static int use_file_at(const struct oauth_tokenfile_options *o, const char *name)
{
    struct oauth_token t;
    struct oauth_err err = {0};
    int r;

    if (oauth_tokenfile_get(name, o, &t, &err) != OAUTH_TOKENFILE_OK)
        fail_msg("token file: %s", err.reason);
    r = t.refreshed;
    oauth_token_clear(&t);
    return r;
}

/* one use of the file */
static int use_file(const struct oauth_tokenfile_options *o)
{
    return use_file_at(o, path);
}

static void test_fresh_token_used_as_is(void **state)
{
    struct oauth_tokenfile_options o = opts();
    struct oauth_token t;
    struct grant g = grant();
    struct oauth_err err = {0};
    char *before, *after;

    (void)state;
    write_token_file(0600, &g, 3600, NULL);
    before = slurp(path);
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err), OAUTH_TOKENFILE_OK);
    assert_string_equal(t.access_token, g.at);
    assert_int_equal(t.refreshed, 0);
    assert_true(t.expires_at > time(NULL) + 3000);
    oauth_token_clear(&t);
    assert_null(t.access_token);
    assert_int_equal(ts_stat(&server, "requests./token"), 0);
    after = slurp(path);
    assert_string_equal(before, after);
    /* nothing was locked: no lock file */
    {
        char lp[PATH_MAX + 64];
        snprintf(lp, sizeof(lp), "%s.lock", path);
        assert_int_equal(access(lp, F_OK), -1);
    }
    free(before);
    free(after);
    grant_free(&g);
}

static void test_expiring_token_refreshed(void **state)
{
    struct oauth_tokenfile_options o = opts();
    struct oauth_token t;
    struct grant g = grant();
    struct stat st;
    struct oauth_err err = {0};
    char lp[PATH_MAX + 64];
    json_t *j;
    time_t now;

    (void)state;
    write_token_file(0640, &g, 10, NULL); /* within the default window */
    now = time(NULL);
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err), OAUTH_TOKENFILE_OK);
    assert_int_equal(t.refreshed, 1);
    assert_string_not_equal(t.access_token, g.at);
    assert_true(t.expires_at >= now + 3600 && t.expires_at <= time(NULL) + 3600);
    assert_int_equal(ts_stat(&server, "refreshes"), 1);

    /* the file: rewritten, same mode, new tokens, other members kept */
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    j = read_json(path);
    assert_string_equal(member(j, "access_token"), t.access_token);
    assert_int_equal(json_integer_value(json_object_get(j, "expires_at")), t.expires_at);
    assert_non_null(member(j, "refresh_token"));
    assert_string_not_equal(member(j, "refresh_token"), g.rt);
    assert_string_equal(member(j, "note"), "kept");
    assert_string_equal(member(j, "client_secret"), "test-secret");
    json_decref(j);
    /* the lock file sits next to it; no temporary file is left */
    snprintf(lp, sizeof(lp), "%s.lock", path);
    assert_int_equal(stat(lp, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    {
        char cmd[PATH_MAX + 96];
        snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 2", dir);
        assert_int_equal(system(cmd), 0);
    }

    /* now fresh: used as it is */
    {
        struct oauth_token t2;
        assert_int_equal(oauth_tokenfile_get(path, &o, &t2, &err),
                         OAUTH_TOKENFILE_OK);
        assert_string_equal(t2.access_token, t.access_token);
        assert_int_equal(t2.refreshed, 0);
        oauth_token_clear(&t2);
    }
    assert_int_equal(ts_stat(&server, "refreshes"), 1);
    oauth_token_clear(&t);

    /* the old refresh token was spent: a file still holding it is refused */
    write_token_file(0600, &g, 0, NULL);
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err),
                     OAUTH_TOKENFILE_REJECTED);
    assert_non_null(strstr(err.reason, "invalid_grant"));
    no_secrets(err.reason, &g);
    grant_free(&g);
}

static void test_rotation_and_no_rotation(void **state)
{
    struct oauth_tokenfile_options o = opts();
    struct oauth_token t;
    struct grant g = grant();
    struct oauth_err err = {0};
    char *rt1;
    json_t *j;
    int i;

    (void)state;
    write_token_file(0600, &g, 0, NULL);
    /* three refreshes in a row, each with the refresh token the last one left */
    for (i = 0; i < 3; i++) {
        age_file(7200); /* expired */
        assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err), OAUTH_TOKENFILE_OK);
        assert_int_equal(t.refreshed, 1);
        oauth_token_clear(&t);
    }
    assert_int_equal(ts_stat(&server, "refreshes"), 3);
    assert_int_equal(ts_stat(&server, "refresh_failures"), 0);
    j = read_json(path);
    rt1 = strdup(member(j, "refresh_token"));
    json_decref(j);

    /* the server does not rotate: the answer has no refresh_token, the file
     * keeps the one it had (RFC 6749 section 6), and it still works */
    assert_int_equal(ts_mode(&server, "{\"token\": \"no_rotate\"}"), 0);
    age_file(7200);
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err), OAUTH_TOKENFILE_OK);
    oauth_token_clear(&t);
    j = read_json(path);
    assert_string_equal(member(j, "refresh_token"), rt1);
    json_decref(j);
    assert_int_equal(ts_mode(&server, "{\"token\": \"ok\"}"), 0);
    age_file(7200);
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err), OAUTH_TOKENFILE_OK);
    oauth_token_clear(&t);
    j = read_json(path);
    assert_string_not_equal(member(j, "refresh_token"), rt1);
    json_decref(j);

    /* no expires_in: an hour is assumed */
    assert_int_equal(ts_mode(&server, "{\"token\": \"no_expires_in\"}"), 0);
    age_file(7200);
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err), OAUTH_TOKENFILE_OK);
    assert_true(t.expires_at >= time(NULL) + 3590 && t.expires_at <= time(NULL) + 3600);
    oauth_token_clear(&t);
    free(rt1);
    grant_free(&g);
}

static void test_client_auth_methods(void **state)
{
    struct oauth_tokenfile_options o = opts();
    struct oauth_token t;
    struct grant g = grant();
    struct oauth_err err = {0};
    long failures;

    (void)state;
    /* client_secret_post */
    write_token_file(0600, &g, 0, ", \"token_endpoint_auth_method\": \"client_secret_post\"");
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err), OAUTH_TOKENFILE_OK);
    oauth_token_clear(&t);
    /* with a scope: sent along, and the server keeps it */
    {
        json_t *j = read_json(path);
        char text[8192];
        snprintf(text, sizeof(text),
                 "{\"refresh_token\": \"%s\", \"token_endpoint\": \"%s\", \"client_id\": "
                 "\"test-client\", \"client_secret\": \"test-secret\", \"scope\": \"mail\"}",
                 member(j, "refresh_token"), token_endpoint);
        json_decref(j);
        /* no access token yet: refreshed at once */
        write_file(path, 0600, text);
    }
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err), OAUTH_TOKENFILE_OK);
    assert_int_equal(t.refreshed, 1);
    oauth_token_clear(&t);
    assert_int_equal(ts_stat(&server, "refreshes"), 2);
    /* none: this server's client is confidential, so it is refused */
    failures = ts_stat(&server, "refresh_failures");
    {
        json_t *j = read_json(path);
        char text[8192];
        snprintf(text, sizeof(text),
                 "{\"access_token\": \"x\", \"expires_at\": 0, \"refresh_token\": \"%s\", "
                 "\"token_endpoint\": \"%s\", \"client_id\": \"test-client\", "
                 "\"token_endpoint_auth_method\": \"none\"}",
                 member(j, "refresh_token"), token_endpoint);
        json_decref(j);
        write_file(path, 0600, text);
    }
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err),
                     OAUTH_TOKENFILE_REJECTED);
    assert_non_null(strstr(err.reason, "invalid_client"));
    assert_non_null(strstr(err.reason, "401"));
    assert_int_equal(ts_stat(&server, "refresh_failures"), failures + 1);
    /* a wrong secret, Basic */
    write_token_file(0600, &g, 0, NULL);
    {
        char *text = slurp(path), *p = strstr(text, "test-secret");
        memcpy(p, "test-xxxxxx", 11);
        write_file(path, 0600, text);
        free(text);
    }
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err),
                     OAUTH_TOKENFILE_REJECTED);
    assert_non_null(strstr(err.reason, "invalid_client"));
    assert_null(strstr(err.reason, "xxxxxx"));
    grant_free(&g);
}

/* the token endpoint failing: mode, expected status, a word of the why */
static const struct {
    const char *mode;
    enum oauth_tokenfile_status want;
    const char *why;
} failure_rows[] = {
    {"{\"token\": \"invalid_grant\"}", OAUTH_TOKENFILE_REJECTED, "invalid_grant"},
    {"{\"token\": \"500\"}", OAUTH_TOKENFILE_UNAVAILABLE, "500"},
    {"{\"token\": \"garbage\"}", OAUTH_TOKENFILE_BAD_RESPONSE, "not a JSON object"},
    {"{\"token\": \"no_access_token\"}", OAUTH_TOKENFILE_BAD_RESPONSE, "access_token"},
    {"{\"token\": \"500\", \"delay_ms\": 3000}", OAUTH_TOKENFILE_UNAVAILABLE, "unavailable"},
    /* providers' refusals turned into what to do (oauth_advice.h) */
    {"{\"token\": \"aadsts:70008:invalid_grant\"}", OAUTH_TOKENFILE_REJECTED,
     "invalid_grant: the refresh token expired or was revoked (AADSTS70008): run "
     "`sasl-mechs-token obtain --force --file /"},
    {"{\"token\": \"aadsts:7000218:invalid_client\"}", OAUTH_TOKENFILE_REJECTED,
     "Allow public client flows"},
    {"{\"token\": \"google:invalid_grant\"}", OAUTH_TOKENFILE_REJECTED,
     "`sasl-mechs-token obtain --force --file /"},
    {"{\"token\": \"google:invalid_client\"}", OAUTH_TOKENFILE_REJECTED,
     "client_id or client_secret is wrong"},
};

static void test_refresh_failures(void **state)
{
    struct oauth_tokenfile_options o = opts();
    struct oauth_token t;
    struct grant g = grant();
    struct oauth_err err = {0};
    char *before, *after;
    size_t i;

    (void)state;
    o.http.timeout_ms = 500;
    write_token_file(0600, &g, 0, NULL);
    before = slurp(path);
    for (i = 0; i < sizeof(failure_rows) / sizeof(failure_rows[0]); i++) {
        enum oauth_tokenfile_status st;
        assert_int_equal(ts_mode(&server, failure_rows[i].mode), 0);
        oauth_err_clear(&err);
        st = oauth_tokenfile_get(path, &o, &t, &err);
        if (st != failure_rows[i].want || t.access_token
            || !strstr(err.reason, failure_rows[i].why))
            fail_msg("row %zu (%s): %s, why \"%s\"", i, failure_rows[i].mode,
                     oauth_tokenfile_status_text(st), err.reason);
        no_secrets(err.reason, &g);
        assert_null(strstr(err.reason, "Trace ID"));
        /* an endpoint that is down or overloaded is worth another try; a
         * refusal needs an administrator */
        assert_int_equal(err.code, st);
        assert_int_equal(err.cls, st == OAUTH_TOKENFILE_UNAVAILABLE ? OAUTH_ERR_TEMPORARY
                                  : st == OAUTH_TOKENFILE_ERROR     ? OAUTH_ERR_INTERNAL
                                                                    : OAUTH_ERR_CONFIG);
        /* the file is untouched and no temporary file is left */
        after = slurp(path);
        assert_string_equal(before, after);
        free(after);
        assert_int_equal(ts_call(&server, "POST", "/reset", NULL, NULL), 200);
    }
    /* the endpoint down: temporary */
    grant_free(&g);
    g = grant();
    {
        char text[8192];
        snprintf(text, sizeof(text),
                 "{\"access_token\": \"%s\", \"expires_at\": 0, \"refresh_token\": \"%s\", "
                 "\"token_endpoint\": \"http://127.0.0.1:%d/token\", \"client_id\": \"c\", "
                 "\"client_secret\": \"s\"}",
                 g.at, g.rt, ts_closed_port());
        write_file(path, 0600, text);
    }
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err),
                     OAUTH_TOKENFILE_UNAVAILABLE);
    no_secrets(err.reason, &g);
    /* an expired token without a refresh token */
    {
        char text[8192];
        snprintf(text, sizeof(text), "{\"access_token\": \"%s\", \"expires_at\": %lld}", g.at,
                 (long long)time(NULL) + 100);
        write_file(path, 0600, text);
    }
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err),
                     OAUTH_TOKENFILE_EXPIRED);
    no_secrets(err.reason, &g);
    /* ... which is fine while it is fresh by the window */
    o.refresh_window = 10;
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err), OAUTH_TOKENFILE_OK);
    oauth_token_clear(&t);
    /* a token endpoint that may not be used: http:// off loopback */
    {
        char text[8192];
        snprintf(text, sizeof(text),
                 "{\"refresh_token\": \"%s\", \"token_endpoint\": \"http://idp.example.com/t\", "
                 "\"client_id\": \"c\"}", g.rt);
        write_file(path, 0600, text);
    }
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err),
                     OAUTH_TOKENFILE_MALFORMED);
    assert_non_null(strstr(err.reason, "loopback"));
    {
        char cmd[PATH_MAX + 96];
        snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | grep -c '^\\.token') -eq 0", dir);
        assert_int_equal(system(cmd), 0);
    }
    free(before);
    grant_free(&g);
}

/* malformed and unreadable files: text, expected status */
static const struct {
    const char *text;
    enum oauth_tokenfile_status want;
} bad_rows[] = {
    {"", OAUTH_TOKENFILE_MALFORMED},
    {"not json", OAUTH_TOKENFILE_MALFORMED},
    {"[]", OAUTH_TOKENFILE_MALFORMED},
    {"{} trailing", OAUTH_TOKENFILE_MALFORMED},
    {"{}", OAUTH_TOKENFILE_MALFORMED},
    {"{\"access_token\": \"SECRETAT\", \"access_token\": \"SECRETAT\", \"expires_at\": 9}",
     OAUTH_TOKENFILE_MALFORMED},
    {"{\"access_token\": 5, \"expires_at\": 9}", OAUTH_TOKENFILE_MALFORMED},
    {"{\"access_token\": \"SECRETAT\"}", OAUTH_TOKENFILE_MALFORMED},
    {"{\"access_token\": \"SECRETAT\", \"expires_at\": \"9\"}", OAUTH_TOKENFILE_MALFORMED},
    {"{\"access_token\": \"SECRETAT\", \"expires_at\": -1}", OAUTH_TOKENFILE_MALFORMED},
    {"{\"access_token\": \"SECRETAT\", \"expires_at\": 1.5}", OAUTH_TOKENFILE_MALFORMED},
    {"{\"access_token\": \"SECRET AT\", \"expires_at\": 9999999999}", OAUTH_TOKENFILE_MALFORMED},
    {"{\"access_token\": \"SECRET\\u0000AT\", \"expires_at\": 9999999999}",
     OAUTH_TOKENFILE_MALFORMED},
    {"{\"access_token\": \"SECRET\\nAT\", \"expires_at\": 9999999999}",
     OAUTH_TOKENFILE_MALFORMED},
    {"{\"refresh_token\": \"SECRETRT\", \"client_id\": \"c\"}", OAUTH_TOKENFILE_MALFORMED},
    {"{\"refresh_token\": \"SECRETRT\", \"token_endpoint\": \"https://x/t\"}",
     OAUTH_TOKENFILE_MALFORMED},
    {"{\"refresh_token\": \"SECRETRT\", \"token_endpoint\": \"https://x/t\", \"client_id\": 7}",
     OAUTH_TOKENFILE_MALFORMED},
    {"{\"refresh_token\": \"SECRETRT\", \"token_endpoint\": \"https://x/t\", \"client_id\": "
     "\"c\", \"token_endpoint_auth_method\": \"private_key_jwt\"}",
     OAUTH_TOKENFILE_MALFORMED},
    {"{\"refresh_token\": \"SECRETRT\", \"token_endpoint\": \"https://x/t\", \"client_id\": "
     "\"c\", \"token_endpoint_auth_method\": \"client_secret_post\"}",
     OAUTH_TOKENFILE_MALFORMED},
    {"{\"refresh_token\": \"SECRET\\u0001RT\", \"token_endpoint\": \"https://x/t\", "
     "\"client_id\": \"c\"}", OAUTH_TOKENFILE_MALFORMED},
    {"{\"access_token\": \"SECRETAT\", \"expires_at\": 9999999999, \"scope\": [\"a\"]}",
     OAUTH_TOKENFILE_MALFORMED},
    {"{\"access_token\": \"SECRETAT\", \"expires_at\": 9999999999}", OAUTH_TOKENFILE_OK},
    {"{\"access_token\": \"\", \"refresh_token\": \"SECRETRT\"}", OAUTH_TOKENFILE_MALFORMED},
    {"{\"access_token\": \"SECRETAT\", \"expires_at\": 9999999999, \"obtained_at\": \"1\"}",
     OAUTH_TOKENFILE_MALFORMED},
    {"{\"access_token\": \"SECRETAT\", \"expires_at\": 9999999999, \"obtained_at\": -1}",
     OAUTH_TOKENFILE_MALFORMED},
    {"{\"access_token\": \"SECRETAT\", \"expires_at\": 9999999990, \"obtained_at\": "
     "9999999999}", OAUTH_TOKENFILE_MALFORMED},
    {"{\"access_token\": \"SECRETAT\", \"expires_at\": 9999999999, \"obtained_at\": 0}",
     OAUTH_TOKENFILE_OK},
};

static void test_malformed_files(void **state)
{
    struct oauth_tokenfile_options o = opts();
    struct oauth_token t;
    struct oauth_err err = {0};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
        enum oauth_tokenfile_status st;
        write_file(path, 0600, bad_rows[i].text);
        oauth_err_clear(&err);
        st = oauth_tokenfile_get(path, &o, &t, &err);
        if (st != bad_rows[i].want || (st != OAUTH_TOKENFILE_OK && !err.reason[0])
            || strstr(err.reason, "SECRET"))
            fail_msg("row %zu (%s): %s, why \"%s\"", i, bad_rows[i].text,
                     oauth_tokenfile_status_text(st), err.reason);
        oauth_token_clear(&t);
    }
    assert_int_equal(ts_stat(&server, "requests./token"), 0);
}

static void test_unreadable_files(void **state)
{
    struct oauth_tokenfile_options o = opts();
    struct oauth_token t;
    struct oauth_err err = {0};
    char other[PATH_MAX + 64];
    static const char ok[] = "{\"access_token\": \"SECRETAT\", \"expires_at\": 9999999999}";

    (void)state;
    unlink(path);
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err),
                     OAUTH_TOKENFILE_UNREADABLE);
    assert_non_null(strstr(err.reason, "No such file"));
    /* readable by others */
    write_file(path, 0604, ok);
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err),
                     OAUTH_TOKENFILE_UNREADABLE);
    assert_non_null(strstr(err.reason, "others"));
    write_file(path, 0640, ok);
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err), OAUTH_TOKENFILE_OK);
    oauth_token_clear(&t);
    /* a symbolic link */
    snprintf(other, sizeof(other), "%s/real.json", dir);
    write_file(other, 0600, ok);
    unlink(path);
    assert_int_equal(symlink(other, path), 0);
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err),
                     OAUTH_TOKENFILE_UNREADABLE);
    assert_non_null(strstr(err.reason, "symbolic link"));
    unlink(path);
    unlink(other);
    /* a directory */
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err),
                     OAUTH_TOKENFILE_UNREADABLE);
    rmdir(path);
    /* too large */
    {
        char *big = malloc(70000);
        memset(big, ' ', 69999);
        big[0] = '{';
        big[69997] = '}';
        big[69998] = '\n';
        big[69999] = '\0';
        write_file(path, 0600, big);
        free(big);
    }
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err),
                     OAUTH_TOKENFILE_UNREADABLE);
    assert_non_null(strstr(err.reason, "larger"));
    /* bad arguments */
    assert_int_equal(oauth_tokenfile_get(NULL, &o, &t, &err), OAUTH_TOKENFILE_ERROR);
    assert_int_equal(oauth_tokenfile_get(path, &o, NULL, &err), OAUTH_TOKENFILE_ERROR);
    o.lock_timeout_ms = 0;
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err), OAUTH_TOKENFILE_ERROR);
}

/* as root, the rewritten file and the lock file keep the file's owner */
static void test_owner_kept(void **state)
{
    struct oauth_tokenfile_options o = opts();
    struct oauth_token t;
    struct grant g;
    struct stat st;
    struct oauth_err err = {0};
    char lp[PATH_MAX + 64];

    (void)state;
    if (geteuid() != 0) {
        /* the non-root case: the file is ours, which the other tests cover */
        print_message("# not root: owner preservation is checked only as root\n");
        return;
    }
    g = grant();
    write_token_file(0660, &g, 0, NULL);
    assert_int_equal(chown(path, 65534, 65534), 0);
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err), OAUTH_TOKENFILE_OK);
    assert_int_equal(t.refreshed, 1);
    oauth_token_clear(&t);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_uid, 65534);
    assert_int_equal(st.st_gid, 65534);
    assert_int_equal(st.st_mode & 07777, 0660);
    snprintf(lp, sizeof(lp), "%s.lock", path);
    unlink(lp);
    grant_free(&g);
    /* the lock file is created for the owner too */
    g = grant();
    write_token_file(0600, &g, 0, NULL);
    assert_int_equal(chown(path, 65534, 65534), 0);
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err), OAUTH_TOKENFILE_OK);
    oauth_token_clear(&t);
    assert_int_equal(stat(lp, &st), 0);
    assert_int_equal(st.st_uid, 65534);
    assert_int_equal(st.st_mode & 0777, 0600);
    unlink(lp);
    grant_free(&g);
}

static void test_lock_timeout(void **state)
{
    struct oauth_tokenfile_options o = opts();
    struct oauth_token t;
    struct grant g = grant();
    struct timespec t0, t1;
    struct oauth_err err = {0};
    char lp[PATH_MAX + 64];
    long ms;
    int fd;

    (void)state;
    write_token_file(0600, &g, 0, NULL);
    snprintf(lp, sizeof(lp), "%s.lock", path);
    fd = open(lp, O_RDWR | O_CREAT, 0600);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX), 0);
    o.lock_timeout_ms = 300;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err),
                     OAUTH_TOKENFILE_LOCK_FAILED);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_true(ms >= 290 && ms < 3000);
    assert_non_null(strstr(err.reason, "held by another process"));
    assert_int_equal(ts_stat(&server, "requests./token"), 0);
    /* a fresh token needs no lock, so it is served even now */
    write_token_file(0600, &g, 3600, NULL);
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err), OAUTH_TOKENFILE_OK);
    oauth_token_clear(&t);
    close(fd);
    grant_free(&g);
}

/* Tokens that live no longer than the refresh window (Keycloak's 300 s
 * against the default window of 300 s; a 60 s token): refreshed once they
 * are past half their lifetime, not on every use.  A token that lives long
 * keeps the configured window. */
static void short_lived(long ttl, long window, long due)
{
    struct oauth_tokenfile_options o = opts();
    const char *extra[3] = {"--token-ttl", NULL, NULL};
    char ttls[32], endpoint[128], text[8192], *body = NULL, *rt;
    struct ts s;
    json_t *j;

    snprintf(ttls, sizeof(ttls), "%ld", ttl);
    extra[1] = ttls;
    if (window >= 0)
        o.refresh_window = window; /* else the default */
    assert_int_equal(ts_start(&s, extra), 0);
    snprintf(endpoint, sizeof(endpoint), "%s/token", s.base);
    assert_int_equal(ts_call(&s, "POST", "/grant", NULL, &body), 200);
    rt = ts_json_str(body, "refresh_token");
    free(body);
    assert_non_null(rt);
    /* no access token yet: the first use refreshes */
    snprintf(text, sizeof(text),
             "{\"refresh_token\": \"%s\", \"token_endpoint\": \"%s\", \"client_id\": "
             "\"test-client\", \"client_secret\": \"test-secret\"}", rt, endpoint);
    write_file(path, 0600, text);
    free(rt);
    assert_int_equal(use_file(&o), 1);
    /* used again at once, and until 2 s before it is due */
    assert_int_equal(use_file(&o), 0);
    j = read_json(path);
    assert_int_equal(json_integer_value(json_object_get(j, "expires_at"))
                         - json_integer_value(json_object_get(j, "obtained_at")), ttl);
    json_decref(j);
    age_file(ttl - due - 2);
    assert_int_equal(use_file(&o), 0);
    assert_int_equal(ts_stat(&s, "refreshes"), 1);
    /* due: refreshed once, then used as it is again */
    age_file(4);
    assert_int_equal(use_file(&o), 1);
    assert_int_equal(use_file(&o), 0);
    assert_int_equal(ts_stat(&s, "refreshes"), 2);
    ts_stop(&s);
}

static void test_short_lived_tokens(void **state)
{
    (void)state;
    short_lived(300, 300, 150);  /* Keycloak's default lifetime, the default window */
    short_lived(60, 300, 30);
    short_lived(3600, 300, 300); /* a long-lived token: the window as configured */
    short_lived(300, 60, 60);    /* a window smaller than half the lifetime */
}

/* The default window and Exchange Online, which refuses a token that
 * expires within 10 minutes ("501 5.5.127 Token will expire soon"):
 * Microsoft's tokens live 60 to 90 minutes; each is refreshed while it has
 * 15 minutes left, so it never reaches the server with 10 or fewer.  A
 * 20-minute token is refreshed at half its life (10 minutes left). */
static void test_default_window(void **state)
{
    struct oauth_tokenfile_options o = opts();
    struct grant g = grant();
    char extra[128];
    time_t now = time(NULL);

    (void)state;
    assert_int_equal(o.refresh_window, 900);
    /* a 60-minute token with 12 minutes left: Exchange would take it now,
     * not in 2 minutes: refreshed */
    snprintf(extra, sizeof(extra), ", \"obtained_at\": %lld", (long long)now - 48 * 60);
    write_token_file(0600, &g, 12 * 60, extra);
    assert_int_equal(use_file(&o), 1);
    grant_free(&g);
    short_lived(3600, -1, 900);
    short_lived(5400, -1, 900);
    short_lived(1200, -1, 600);
}

/* A token the server refused (oauth_refused.h): recorded only while the
 * file still holds it; the next use refreshes although expires_at was an
 * hour away; a second process's record of the same, now replaced, token
 * leaves the new one alone; without a refresh_token the refused token is
 * not handed out again. */
static void test_refused_token(void **state)
{
    struct oauth_tokenfile_options o = opts();
    struct grant g = grant();
    unsigned char h[OAUTH_REFUSED_HASH_LEN];
    struct oauth_err err = {0};
    struct oauth_token t;
    struct stat st;
    char *before, *after;
    json_t *j;
    int marked = -1;

    (void)state;
    write_token_file(0640, &g, 3600, NULL);
    assert_int_equal(use_file(&o), 0);
    assert_int_equal(oauth_refused_hash(g.at, strlen(g.at), h), 0);
    /* another token refused: the file is left as it is */
    {
        unsigned char other[OAUTH_REFUSED_HASH_LEN];
        assert_int_equal(oauth_refused_hash("other", 5, other), 0);
        before = slurp(path);
        assert_int_equal(oauth_tokenfile_refused(path, &o, other, &marked, &err),
                         OAUTH_TOKENFILE_OK);
        assert_int_equal(marked, 0);
        after = slurp(path);
        assert_string_equal(before, after);
        free(before);
        free(after);
    }
    assert_int_equal(oauth_tokenfile_refused(path, &o, h, &marked, &err), OAUTH_TOKENFILE_OK);
    assert_int_equal(marked, 1);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    j = read_json(path);
    assert_string_equal(member(j, "access_token"), g.at);
    assert_true(json_integer_value(json_object_get(j, "expires_at")) <= time(NULL));
    assert_string_equal(member(j, "note"), "kept");
    json_decref(j);
    /* the next use refreshes, once */
    assert_int_equal(use_file(&o), 1);
    assert_int_equal(use_file(&o), 0);
    assert_int_equal(ts_stat(&server, "refreshes"), 1);
    /* a slower process refused the same old token: the new one stays good */
    before = slurp(path);
    assert_int_equal(oauth_tokenfile_refused(path, &o, h, &marked, &err), OAUTH_TOKENFILE_OK);
    assert_int_equal(marked, 0);
    after = slurp(path);
    assert_string_equal(before, after);
    free(before);
    free(after);
    assert_int_equal(use_file(&o), 0);
    /* the new token refused too, at once (a server that refuses every token,
     * or a relay in the middle): no second forced refresh within
     * OAUTH_REFUSED_MIN_INTERVAL, or each connection would spend one */
    {
        unsigned char h2[OAUTH_REFUSED_HASH_LEN];
        json_t *k = read_json(path);
        const char *now_at = member(k, "access_token");
        long long refused_at;

        assert_int_equal(oauth_refused_hash(now_at, strlen(now_at), h2), 0);
        refused_at = json_integer_value(json_object_get(k, "refused_at"));
        assert_true(refused_at > 0 && refused_at <= time(NULL));
        json_decref(k);
        assert_int_equal(oauth_tokenfile_refused(path, &o, h2, &marked, &err), OAUTH_TOKENFILE_OK);
        assert_int_equal(marked, 0);
        assert_int_equal(use_file(&o), 0);
        assert_int_equal(ts_stat(&server, "refreshes"), 1);
    }
    /* no refresh_token: the refused token is not handed out again */
    {
        char text[8192];
        snprintf(text, sizeof(text), "{\"access_token\": \"%s\", \"expires_at\": %lld}", g.at,
                 (long long)time(NULL) + 3600);
        write_file(path, 0600, text);
    }
    assert_int_equal(oauth_tokenfile_refused(path, &o, h, &marked, &err), OAUTH_TOKENFILE_OK);
    assert_int_equal(marked, 1);
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err), OAUTH_TOKENFILE_EXPIRED);
    assert_null(t.access_token);
    no_secrets(err.reason, &g);
    grant_free(&g);
}

/* The token folder opened before a chroot (dir_fd): the file named
 * relative to it, refreshed, its lock and temporary file made there, even
 * once the folder's path no longer leads to it (moved away, as the path of
 * a folder outside a chroot does not exist inside it). */
static void test_dir_fd(void **state)
{
    struct oauth_tokenfile_options o = opts();
    struct grant g = grant();
    char moved[PATH_MAX + 32], lp[PATH_MAX + 64], cwd[PATH_MAX];
    unsigned char h[OAUTH_REFUSED_HASH_LEN];
    struct oauth_err err = {0};
    int marked = 0;
    json_t *j;

    (void)state;
    write_token_file(0600, &g, 10, NULL);
    o.dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(o.dir_fd >= 0);
    snprintf(moved, sizeof(moved), "%s.moved", dir);
    assert_int_equal(rename(dir, moved), 0);
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir("/"), 0);
    /* the command a refused refresh names has the folder's path */
    {
        struct oauth_token t;
        o.dir_name = "/srv/tokens";
        assert_int_equal(ts_mode(&server, "{\"token\": \"invalid_grant\"}"), 0);
        assert_int_equal(oauth_tokenfile_get("token.json", &o, &t, &err),
                         OAUTH_TOKENFILE_REJECTED);
        assert_non_null(strstr(err.reason, "obtain --force --file /srv/tokens/token.json`"));
        assert_int_equal(ts_mode(&server, "{\"token\": \"ok\"}"), 0);
    }
    assert_int_equal(use_file_at(&o, "token.json"), 1);
    assert_int_equal(use_file_at(&o, "token.json"), 0);
    /* a refusal is recorded there too */
    assert_int_equal(oauth_refused_hash("x", 1, h), 0);
    assert_int_equal(oauth_tokenfile_refused("token.json", &o, h, &marked, &err),
                     OAUTH_TOKENFILE_OK);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(rename(moved, dir), 0);
    close(o.dir_fd);
    j = read_json(path);
    assert_string_equal(member(j, "note"), "kept");
    assert_string_not_equal(member(j, "access_token"), g.at);
    json_decref(j);
    snprintf(lp, sizeof(lp), "%s.lock", path);
    assert_int_equal(access(lp, F_OK), 0);
    assert_int_equal(ts_stat(&server, "refreshes"), 1);
    {
        char cmd[PATH_MAX + 96];
        snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | grep -c '^\\.token') -eq 0", dir);
        assert_int_equal(system(cmd), 0);
    }
    grant_free(&g);
}

/* A proxy for the token endpoint (oauth_proxy): the refresh goes through
 * it (a loopback forward proxy: oauth_server.py --proxy); the environment's
 * proxy variables are ignored either way. */
static void test_proxy(void **state)
{
    static const char *const extra[] = {"--proxy", NULL};
    struct oauth_tokenfile_options o = opts();
    struct grant g = grant();
    struct ts proxy;

    (void)state;
    assert_int_equal(ts_start(&proxy, extra), 0);
    setenv("http_proxy", "http://127.0.0.1:1", 1);
    setenv("no_proxy", "127.0.0.1,localhost", 1);
    write_token_file(0600, &g, 10, NULL);
    o.http.proxy = proxy.base;
    assert_int_equal(use_file(&o), 1);
    assert_int_equal(ts_stat(&proxy, "requests.proxy http"), 1);
    assert_int_equal(ts_stat(&server, "refreshes"), 1);
    /* without the option: straight to the endpoint, whatever the environment says */
    age_file(4000);
    o.http.proxy = NULL;
    assert_int_equal(use_file(&o), 1);
    assert_int_equal(ts_stat(&proxy, "requests.proxy http"), 1);
    assert_int_equal(ts_stat(&server, "refreshes"), 2);
    unsetenv("http_proxy");
    unsetenv("no_proxy");
    ts_stop(&proxy);
    grant_free(&g);
}

/* The CA bundle given in memory (what a chrooted client read at load):
 * used for an https token endpoint instead of the file, which need not
 * exist any more; without it (or a file) the loopback certificate is not
 * trusted and the refresh fails as a TLS error (temporary). */
static void test_ca_blob(void **state)
{
    const char *extra[] = {"--tls-cert", NULL, "--tls-key", NULL, "--tls-port-file", NULL, NULL};
    struct oauth_tokenfile_options o = opts();
    char cert[PATH_MAX + 32], key[PATH_MAX + 32], pf[PATH_MAX + 32], cmd[4 * PATH_MAX];
    char text[8192], *pem, *body = NULL, *rt, portbuf[16] = "";
    struct oauth_token t;
    struct oauth_err err = {0};
    struct ts s;
    FILE *f;

    (void)state;
    snprintf(cert, sizeof(cert), "%s/tls-cert.pem", server.dir);
    snprintf(key, sizeof(key), "%s/tls-key.pem", server.dir);
    snprintf(pf, sizeof(pf), "%s/tls-port", server.dir);
    snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
             "-nodes -keyout '%s' -out '%s' -days 2 -subj /CN=127.0.0.1 "
             "-addext subjectAltName=IP:127.0.0.1 2>/dev/null", key, cert);
    assert_int_equal(system(cmd), 0);
    extra[1] = cert;
    extra[3] = key;
    extra[5] = pf;
    assert_int_equal(ts_start(&s, extra), 0);
    assert_non_null(f = fopen(pf, "r"));
    assert_non_null(fgets(portbuf, sizeof(portbuf), f));
    fclose(f);
    assert_int_equal(ts_call(&s, "POST", "/grant", NULL, &body), 200);
    rt = ts_json_str(body, "refresh_token");
    free(body);
    assert_non_null(rt);
    snprintf(text, sizeof(text),
             "{\"refresh_token\": \"%s\", \"token_endpoint\": \"https://127.0.0.1:%d/token\", "
             "\"client_id\": \"test-client\", \"client_secret\": \"test-secret\"}", rt,
             atoi(portbuf));
    free(rt);
    write_file(path, 0600, text);
    /* no CA for it: a TLS failure, temporary; the refresh token not spent */
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err), OAUTH_TOKENFILE_UNAVAILABLE);
    assert_int_equal(ts_stat(&s, "refreshes"), 0);
    /* the bundle in memory; the file it came from gone */
    pem = slurp(cert);
    o.http.ca_blob = pem;
    o.http.ca_blob_len = strlen(pem);
    o.http.ca_file = "/nonexistent/ca.pem";
    assert_int_equal(unlink(cert), 0);
    if (oauth_tokenfile_get(path, &o, &t, &err) != OAUTH_TOKENFILE_OK)
        fail_msg("https refresh with the CA in memory: %s", err.reason);
    assert_int_equal(t.refreshed, 1);
    oauth_token_clear(&t);
    assert_int_equal(ts_stat(&s, "refreshes"), 1);
    free(pem);
    ts_stop(&s);
}

/* A file written before obtained_at existed: the configured window, once;
 * the refresh then records obtained_at. */
static void test_file_without_obtained_at(void **state)
{
    struct oauth_tokenfile_options o = opts();
    struct grant g = grant();
    json_t *j;

    (void)state;
    write_token_file(0600, &g, 200, NULL); /* within the default window */
    assert_int_equal(use_file(&o), 1);
    j = read_json(path);
    assert_true(json_is_integer(json_object_get(j, "obtained_at")));
    json_decref(j);
    assert_int_equal(use_file(&o), 0);
    assert_int_equal(ts_stat(&server, "refreshes"), 1);
    grant_free(&g);
}

/* N processes find the token expiring at the same moment */
#define NPROC 8

static void test_contention(void **state)
{
    struct grant g = grant();
    int go[2], res[NPROC][2];
    pid_t pid[NPROC];
    char results[NPROC][4096];
    int i, refreshed = 0;
    json_t *j;

    (void)state;
    write_token_file(0600, &g, 5, NULL);
    /* the refresh takes a while, so that the others are surely waiting */
    assert_int_equal(ts_mode(&server, "{\"delay_ms\": 300}"), 0);
    assert_int_equal(pipe(go), 0);
    fflush(NULL);
    for (i = 0; i < NPROC; i++) {
        assert_int_equal(pipe(res[i]), 0);
        pid[i] = fork();
        assert_true(pid[i] >= 0);
        if (pid[i] == 0) {
            struct oauth_tokenfile_options o = opts();
            struct oauth_token t;
            struct oauth_err err = {0};
    char line[4096], c;
            enum oauth_tokenfile_status st;
            int n;
            close(go[1]);
            close(res[i][0]);
            if (read(go[0], &c, 1) < 0) /* returns 0 when the parent lets go */
                _exit(3);
            st = oauth_tokenfile_get(path, &o, &t, &err);
            n = snprintf(line, sizeof(line), "%d %d %s %s", (int)st, t.refreshed,
                         t.access_token ? t.access_token : "-", err.reason);
            oauth_token_clear(&t);
            if (write(res[i][1], line, (size_t)n) != n)
                _exit(4);
            _exit(0);
        }
        close(res[i][1]);
    }
    close(go[0]);
    close(go[1]); /* all start now */
    for (i = 0; i < NPROC; i++) {
        ssize_t n, len = 0;
        int status;
        while ((n = read(res[i][0], results[i] + len, sizeof(results[i]) - 1 - (size_t)len)) > 0)
            len += n;
        results[i][len] = '\0';
        close(res[i][0]);
        assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    assert_int_equal(ts_mode(&server, "{\"delay_ms\": 0}"), 0);
    for (i = 0; i < NPROC; i++) {
        int st, r;
        char tok[4000];
        if (sscanf(results[i], "%d %d %3999s", &st, &r, tok) != 3 || st != OAUTH_TOKENFILE_OK)
            fail_msg("process %d: %s", i, results[i]);
        refreshed += r;
        /* the same new token everywhere */
        if (strcmp(tok, g.at) == 0)
            fail_msg("process %d kept the old access token", i);
        if (i > 0 && strncmp(results[i] + 4, results[0] + 4, strlen(tok)) != 0)
            fail_msg("process %d has another token than process 0", i);
    }
    assert_int_equal(refreshed, 1);
    assert_int_equal(ts_stat(&server, "refreshes"), 1);
    assert_int_equal(ts_stat(&server, "refresh_failures"), 0);

    /* the refresh token in the file is the live one: one more refresh works */
    j = read_json(path);
    assert_string_not_equal(member(j, "refresh_token"), g.rt);
    json_decref(j);
    {
        struct oauth_tokenfile_options o = opts();
        struct oauth_token t;
        struct oauth_err err = {0};
        age_file(7200);
        assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err), OAUTH_TOKENFILE_OK);
        assert_int_equal(t.refreshed, 1);
        oauth_token_clear(&t);
    }
    assert_int_equal(ts_stat(&server, "refreshes"), 2);
    assert_int_equal(ts_stat(&server, "refresh_failures"), 0);
    grant_free(&g);
}

/* A <file>.lock planted by the directory's owner as a hard link to another
 * file: root neither chowns that file nor takes it as the lock. */
static void test_lock_hard_link_refused(void **state)
{
    struct oauth_tokenfile_options o = opts();
    struct oauth_token t;
    struct grant g;
    struct stat st;
    struct oauth_err err = {0};
    char lp[PATH_MAX + 64], victim[PATH_MAX + 64];
    int fd;

    (void)state;
    if (geteuid() != 0) {
        print_message("# not root: the chown of a planted lock file is checked only as root\n");
        return;
    }
    g = grant();
    write_token_file(0600, &g, 0, NULL);
    assert_int_equal(chown(path, 65534, 65534), 0);
    snprintf(lp, sizeof(lp), "%s.lock", path);
    snprintf(victim, sizeof(victim), "%s/victim", dir);
    unlink(victim);
    fd = open(victim, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(link(victim, lp), 0);
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err), OAUTH_TOKENFILE_LOCK_FAILED);
    assert_int_equal(stat(victim, &st), 0);
    assert_int_equal(st.st_uid, 0);
    assert_int_equal(st.st_gid, 0);
    /* a lock file of someone else than root or the token file's owner */
    unlink(lp);
    fd = open(lp, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(fchown(fd, 1, 1), 0);
    close(fd);
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err), OAUTH_TOKENFILE_LOCK_FAILED);
    assert_int_equal(stat(lp, &st), 0);
    assert_int_equal(st.st_uid, 1);
    /* the token file's owner's own lock file: used, and left as it is */
    assert_int_equal(chown(lp, 65534, 65534), 0);
    assert_int_equal(chmod(lp, 0640), 0);
    assert_int_equal(oauth_tokenfile_get(path, &o, &t, &err), OAUTH_TOKENFILE_OK);
    oauth_token_clear(&t);
    assert_int_equal(stat(lp, &st), 0);
    assert_int_equal(st.st_uid, 65534);
    assert_int_equal(st.st_mode & 0777, 0640);
    unlink(lp);
    unlink(victim);
    grant_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_fresh_token_used_as_is, reset),
        cmocka_unit_test_setup(test_expiring_token_refreshed, reset),
        cmocka_unit_test_setup(test_rotation_and_no_rotation, reset),
        cmocka_unit_test_setup(test_client_auth_methods, reset),
        cmocka_unit_test_setup(test_refresh_failures, reset),
        cmocka_unit_test_setup(test_malformed_files, reset),
        cmocka_unit_test_setup(test_unreadable_files, reset),
        cmocka_unit_test_setup(test_owner_kept, reset),
        cmocka_unit_test_setup(test_lock_timeout, reset),
        cmocka_unit_test_setup(test_lock_hard_link_refused, reset),
        cmocka_unit_test_setup(test_contention, reset),
        cmocka_unit_test_setup(test_short_lived_tokens, reset),
        cmocka_unit_test_setup(test_file_without_obtained_at, reset),
        cmocka_unit_test_setup(test_default_window, reset),
        cmocka_unit_test_setup(test_refused_token, reset),
        cmocka_unit_test_setup(test_dir_fd, reset),
        cmocka_unit_test_setup(test_proxy, reset),
        cmocka_unit_test_setup(test_ca_blob, reset),
    };

    return cmocka_run_group_tests_name("oauth_tokenfile", tests, setup, teardown);
}
