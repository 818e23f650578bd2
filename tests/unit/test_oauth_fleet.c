/* The OAuth server at fleet scale (issue 17), against the loopback OAuth
 * test server (tests/oauth/oauth_server.py), which counts the requests it
 * answers (GET /stats):
 *
 *  - the host's copy of the key set (oauth_jwks_cache_dir): processes forked
 *    at once fetch it once between them (without the folder, once each); a
 *    fresh copy is read with no request; an unknown kid in one process
 *    refetches it, and another process seeing that kid takes the newer copy
 *    with no request; a failed fetch is not repeated by another process
 *    within the refresh interval; a copy that is not trusted (open to
 *    others, another owner, corrupt, a key set that does not parse) is
 *    noted and fetched again;
 *  - the cache of verified JWTs: a second use costs no signature check,
 *    exp is checked again on a hit, entries are bounded and die with their
 *    key set;
 *  - several issuers by OpenID discovery: each token checked against the
 *    keys of the issuer it names only (A's key claiming B: refused), an
 *    issuer not listed refused with no request, a discovery document naming
 *    another issuer refused.
 * The verifier's `now` is an argument: intervals are crossed by passing a
 * later time. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "oauth_verify.h"
#include "oauth_jwt_cache.h"
#include "oauth_testserver.h"

#define AUDIENCE "sm-fleet"
#define NPROC 4

static struct ts a, b;               /* two issuers, each with its own keys */
static char jwks_url[160], cache_dir[PATH_MAX + 16];
static const char *issuers_a[1], *issuers_ab[2];
static const char *const audiences[] = {AUDIENCE};
static int notes;
static char last_note[OAUTH_ERR_REASON_MAX];

static void note(void *ctx, const char *text)
{
    (void)ctx;
    notes++;
    snprintf(last_note, sizeof(last_note), "%s", text);
}

static int setup(void **state)
{
    (void)state;
    if (ts_start(&a, NULL) != 0)
        return -1;
    if (ts_start(&b, NULL) != 0) {
        ts_stop(&a);
        return -1;
    }
    snprintf(jwks_url, sizeof(jwks_url), "%s/jwks", a.base);
    snprintf(cache_dir, sizeof(cache_dir), "%s/cache", a.dir);
    issuers_a[0] = a.base;
    issuers_ab[0] = a.base;
    issuers_ab[1] = b.base;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ts_stop(&a);
    ts_stop(&b);
    return 0;
}

/* Counters to zero, modes to normal, an empty cache folder. */
static int reset(void **state)
{
    char cmd[PATH_MAX + 64];

    (void)state;
    notes = 0;
    last_note[0] = '\0';
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cache_dir);
    if (system(cmd) != 0 || mkdir(cache_dir, 0750) != 0)
        return -1;
    return ts_call(&a, "POST", "/reset", NULL, NULL) == 200
                   && ts_call(&b, "POST", "/reset", NULL, NULL) == 200 ? 0 : -1;
}

struct opts {
    const char *dir;        /* the cache folder, or NULL */
    size_t jwt_cache;       /* entries */
    int discovery;
    long max_age;
};

static struct oauth_verifier *make(const struct opts *o)
{
    struct oauth_verify_config c;
    struct oauth_verifier *v = NULL;
    struct oauth_err err = {0};

    memset(&c, 0, sizeof(c));
    c.mode = OAUTH_VERIFY_JWT;
    c.policy.issuers = o->discovery ? issuers_ab : issuers_a;
    c.policy.n_issuers = o->discovery ? 2 : 1;
    c.policy.audiences = audiences;
    c.policy.n_audiences = 1;
    c.policy.user_claim = "sub";
    c.policy.leeway = 60;
    c.jwks_url = o->discovery ? NULL : jwks_url;
    c.discovery = o->discovery;
    c.jwks_refresh_interval = 60;
    c.jwks_max_age = o->max_age ? o->max_age : 3600;
    c.jwks_cache_dir = o->dir;
    c.jwt_cache_size = o->jwt_cache;
    c.note = note;
    oauth_http_options_default(&c.http);
    if (oauth_verifier_new(&c, &v, &err) != OAUTH_OK)
        fail_msg("oauth_verifier_new: %s", err.reason);
    return v;
}

/* A token signed by server s's key kid (header_kid, if not NULL, in its
 * header instead), claiming issuer iss, valid for ttl seconds. */
static char *mint_at(struct ts *s, const char *iss, const char *kid, const char *header_kid,
                     long ttl)
{
    char req[768], *body = NULL, *tok;

    snprintf(req, sizeof(req),
             "{\"claims\": {\"iss\": \"%s\", \"aud\": \"" AUDIENCE "\", \"sub\": \"alice\"}, "
             "\"ttl\": %ld, \"kid\": \"%s\"%s%s%s}",
             iss, ttl, kid, header_kid ? ", \"header\": {\"kid\": \"" : "",
             header_kid ? header_kid : "", header_kid ? "\"}" : "");
    assert_int_equal(ts_call(s, "POST", "/mint", req, &body), 200);
    tok = ts_json_str(body, "access_token");
    free(body);
    assert_non_null(tok);
    return tok;
}

static char *mint(const char *kid, const char *header_kid)
{
    return mint_at(&a, a.base, kid, header_kid, 3600);
}

static void add_key(struct ts *s, const char *kid)
{
    char cmd[PATH_MAX * 2 + 128];

    snprintf(cmd, sizeof(cmd), "'%s/tests/oauth/oauth_mint' keygen --keys '%s/keys' --key %s:RS256"
             " >/dev/null", getenv("SM_BUILDDIR"), s->dir, kid);
    assert_int_equal(system(cmd), 0);
}

static long requests(struct ts *s, const char *path)
{
    char name[96];
    long n;

    snprintf(name, sizeof(name), "requests.%s", path);
    n = ts_stat(s, name);
    return n < 0 ? 0 : n;
}

static long fetches(void)
{
    return requests(&a, "/jwks");
}

static enum oauth_err_class check(struct oauth_verifier *v, const char *tok, time_t now,
                                  struct oauth_err *err)
{
    char *user = NULL;
    enum oauth_err_class cls = oauth_verify(v, tok, strlen(tok), now, &user, err);

    if (cls == OAUTH_OK)
        assert_string_equal(user, "alice");
    else
        assert_null(user);
    free(user);
    return cls;
}

#define ACCEPTED(v, tok, now)                                                                  \
    do {                                                                                       \
        struct oauth_err e_ = {0};                                                             \
        if (check(v, tok, now, &e_) != OAUTH_OK)                                               \
            fail_msg("refused: %s", e_.reason);                                                \
    } while (0)

/* ---- the host's copy of the key set ------------------------------------------ */

/* NPROC processes forked at once, each with a new verifier, each validating
 * a token; the number of key set requests they made between them. */
static long forked_fetches(const char *dir)
{
    char *tok = mint("rsa", NULL);
    long before = fetches();
    pid_t pids[NPROC];
    int go[2], i, status, ok = 1;
    char c;

    assert_int_equal(pipe(go), 0);
    for (i = 0; i < NPROC; i++) {
        assert_true((pids[i] = fork()) >= 0);
        if (pids[i] == 0) {
            struct oauth_verifier *v;
            struct oauth_err err = {0};
            char *user = NULL;
            int r;

            close(go[1]);
            (void)!read(go[0], &c, 1); /* until the parent closes it: all at once */
            v = make(&(struct opts){.dir = dir});
            r = oauth_verify(v, tok, strlen(tok), time(NULL), &user, &err);
            if (r != OAUTH_OK)
                fprintf(stderr, "child %d: %s\n", i, err.reason);
            free(user);
            oauth_verifier_free(v);
            free(tok);
            _exit(r == OAUTH_OK ? 0 : 1);
        }
    }
    close(go[0]);
    close(go[1]);
    for (i = 0; i < NPROC; i++) {
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    assert_true(ok);
    free(tok);
    return fetches() - before;
}

static void test_processes_share_one_fetch(void **state)
{
    long without, with;

    (void)state;
    without = forked_fetches(NULL);
    with = forked_fetches(cache_dir);
    print_message("key set requests of %d processes: %ld without the cache folder, %ld with it\n",
                  NPROC, without, with);
    assert_int_equal(without, NPROC);
    assert_int_equal(with, 1);
    assert_int_equal(notes, 0);
}

static void test_fresh_copy_read_without_network(void **state)
{
    char *tok = mint("rsa", NULL);
    struct oauth_verifier *v1 = make(&(struct opts){.dir = cache_dir, .max_age = 600});
    struct oauth_verifier *v2, *v3;
    struct oauth_verify_stats s;
    time_t t0 = time(NULL);

    (void)state;
    ACCEPTED(v1, tok, t0);
    assert_int_equal(fetches(), 1);
    /* another process, later but within max-age: the copy, no request */
    v2 = make(&(struct opts){.dir = cache_dir, .max_age = 600});
    ACCEPTED(v2, tok, t0 + 500);
    assert_int_equal(fetches(), 1);
    oauth_verifier_stats(v2, &s);
    assert_int_equal(s.jwks_loads, 1);
    assert_int_equal(s.jwks_fetches, 0);
    /* past max-age: the copy is too old, fetched again and replaced */
    v3 = make(&(struct opts){.dir = cache_dir, .max_age = 600});
    ACCEPTED(v3, tok, t0 + 700);
    assert_int_equal(fetches(), 2);
    oauth_verifier_free(v1);
    oauth_verifier_free(v2);
    oauth_verifier_free(v3);
    free(tok);
}

static void test_rotation_across_processes(void **state)
{
    struct oauth_verifier *v1 = make(&(struct opts){.dir = cache_dir});
    struct oauth_verifier *v2 = make(&(struct opts){.dir = cache_dir});
    struct oauth_verifier *v3 = make(&(struct opts){.dir = cache_dir});
    char *known = mint("rsa", NULL), *rotated, *never = mint("rsa", "never-published");
    struct oauth_err err = {0};
    time_t t0 = time(NULL);

    (void)state;
    ACCEPTED(v1, known, t0);
    ACCEPTED(v2, known, t0 + 1);
    ACCEPTED(v3, known, t0 + 2);
    assert_int_equal(fetches(), 1);
    add_key(&a, "rotated");
    rotated = mint("rotated", NULL);
    /* v1 sees the new kid first: it fetches, and the copy is replaced */
    ACCEPTED(v1, rotated, t0 + 120);
    assert_int_equal(fetches(), 2);
    /* v2 sees it next: the newer copy, no request */
    ACCEPTED(v2, rotated, t0 + 121);
    assert_int_equal(fetches(), 2);
    /* a kid nobody published, in a third process within the host's
     * interval: it reads the newer copy first, finds no such key there,
     * and makes no request */
    assert_int_equal(check(v3, never, t0 + 125, &err), OAUTH_ERR_CLIENT);
    assert_int_equal(fetches(), 2);
    /* a failed fetch is not repeated by another process within the interval */
    assert_int_equal(ts_mode(&a, "{\"jwks_status\": 500}"), 0);
    assert_int_equal(check(v1, never, t0 + 300, &err), OAUTH_ERR_CLIENT);
    assert_int_equal(fetches(), 3);
    assert_int_equal(check(v2, never, t0 + 301, &err), OAUTH_ERR_CLIENT);
    assert_int_equal(fetches(), 3);
    assert_int_equal(ts_mode(&a, "{\"jwks_status\": 0}"), 0);
    /* after it, one request again */
    assert_int_equal(check(v2, never, t0 + 400, &err), OAUTH_ERR_CLIENT);
    assert_int_equal(fetches(), 4);
    assert_int_equal(notes, 0);
    oauth_verifier_free(v1);
    oauth_verifier_free(v2);
    oauth_verifier_free(v3);
    free(known);
    free(rotated);
    free(never);
}

/* The provider down: a new process takes the host's copy however old it
 * is, rather than no keys; the next one does not ask within the interval. */
static void test_provider_down_old_copy(void **state)
{
    char *tok = mint_at(&a, a.base, "rsa", NULL, 7200);
    struct oauth_verifier *v1 = make(&(struct opts){.dir = cache_dir, .max_age = 600});
    struct oauth_verifier *v2, *v3;
    time_t t0 = time(NULL);

    (void)state;
    ACCEPTED(v1, tok, t0);
    assert_int_equal(fetches(), 1);
    assert_int_equal(ts_mode(&a, "{\"jwks_status\": 503}"), 0);
    /* past max-age: the copy is too old to stand for a fetch, the fetch
     * fails, the old copy serves */
    v2 = make(&(struct opts){.dir = cache_dir, .max_age = 600});
    ACCEPTED(v2, tok, t0 + 1000);
    assert_int_equal(fetches(), 2);
    /* another process within the interval: the copy, no request */
    v3 = make(&(struct opts){.dir = cache_dir, .max_age = 600});
    ACCEPTED(v3, tok, t0 + 1010);
    assert_int_equal(fetches(), 2);
    assert_int_equal(notes, 0);
    oauth_verifier_free(v1);
    oauth_verifier_free(v2);
    oauth_verifier_free(v3);
    free(tok);
}

static void copy_path(char *path, size_t size)
{
    char cmd[PATH_MAX + 64];
    FILE *f;

    snprintf(cmd, sizeof(cmd), "ls '%s'/*.doc", cache_dir);
    assert_non_null(f = popen(cmd, "r"));
    assert_non_null(fgets(path, (int)size, f));
    path[strcspn(path, "\n")] = '\0';
    pclose(f);
}

/* One untrusted copy: a new verifier notes it (once), fetches, and leaves
 * a trusted copy that the next verifier reads without a request. */
static void untrusted(const char *what, const char *tok, void (*spoil)(const char *path),
                      const char *needle)
{
    struct oauth_verifier *v;
    char path[PATH_MAX + 64];
    struct stat st;
    long before;

    copy_path(path, sizeof(path));
    spoil(path);
    before = fetches();
    notes = 0;
    v = make(&(struct opts){.dir = cache_dir});
    ACCEPTED(v, tok, time(NULL));
    oauth_verifier_free(v);
    if (fetches() != before + 1 || notes != 1 || !strstr(last_note, needle))
        fail_msg("%s: %ld requests, %d notes, last: %s", what, fetches() - before, notes,
                 last_note);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_uid, geteuid());
    assert_int_equal(st.st_mode & 07777, 0640);
    v = make(&(struct opts){.dir = cache_dir});
    ACCEPTED(v, tok, time(NULL));
    oauth_verifier_free(v);
    assert_int_equal(fetches(), before + 1);
}

static void spoil_mode(const char *path)
{
    assert_int_equal(chmod(path, 0666), 0);
}

static void spoil_group_write(const char *path)
{
    assert_int_equal(chmod(path, 0660), 0);
}

static void spoil_owner(const char *path)
{
    if (geteuid() != 0)
        fail_msg("the foreign-owner case needs root (chown)");
    assert_int_equal(chown(path, 65534, 65534), 0);
}

static void rewrite(const char *path, const char *content)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_true(fputs(content, f) >= 0);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, 0640), 0);
}

static void spoil_header(const char *path)
{
    rewrite(path, "{\"keys\": []}\n");
}

static void spoil_json(const char *path)
{
    char head[1024];
    FILE *f = fopen(path, "r");

    /* the header kept (it names the URL), the key set made unusable */
    assert_non_null(f);
    assert_non_null(fgets(head, sizeof(head), f));
    assert_non_null(fgets(head + strlen(head), (int)(sizeof(head) - strlen(head)), f));
    fclose(f);
    strcat(head, "{\"keys\": [}");
    rewrite(path, head);
}

static void test_untrusted_copies(void **state)
{
    char *tok = mint("rsa", NULL);
    struct oauth_verifier *v = make(&(struct opts){.dir = cache_dir});

    (void)state;
    ACCEPTED(v, tok, time(NULL));
    oauth_verifier_free(v);
    assert_int_equal(fetches(), 1);
    untrusted("open to others", tok, spoil_mode, "others");
    untrusted("writable by its group", tok, spoil_group_write, "writable by its group");
    untrusted("another owner", tok, spoil_owner, "owned by another user");
    untrusted("not our header", tok, spoil_header, "corrupt");
    untrusted("a key set that does not parse", tok, spoil_json, "not valid JSON");
    free(tok);
}

/* A cache folder others may write to: a valid copy in it is not read, the
 * keys are fetched as without a cache, and that is noted. */
static void test_folder_open_to_others(void **state)
{
    char *tok = mint("rsa", NULL);
    struct oauth_verifier *v = make(&(struct opts){.dir = cache_dir});

    (void)state;
    ACCEPTED(v, tok, time(NULL));
    oauth_verifier_free(v);
    assert_int_equal(chmod(cache_dir, 0777), 0);
    v = make(&(struct opts){.dir = cache_dir});
    ACCEPTED(v, tok, time(NULL));
    oauth_verifier_free(v);
    assert_int_equal(chmod(cache_dir, 0750), 0);
    assert_int_equal(fetches(), 2);
    assert_int_equal(notes, 1);
    assert_non_null(strstr(last_note, "writable by others"));
    free(tok);
}

/* A lock file of another user (a test once run as root in the folder) is
 * replaced by one of the process's own: the host's fetches stay serialised. */
static void test_foreign_lock_file(void **state)
{
    char *tok = mint("rsa", NULL), path[PATH_MAX + 64], lock[PATH_MAX + 64];
    struct oauth_verifier *v = make(&(struct opts){.dir = cache_dir});
    struct stat st;

    (void)state;
    if (geteuid() != 0)
        fail_msg("the foreign-owner case needs root (chown)");
    ACCEPTED(v, tok, time(NULL));
    oauth_verifier_free(v);
    copy_path(path, sizeof(path));
    snprintf(lock, sizeof(lock), "%.*s.lock", (int)(strlen(path) - 4), path);
    assert_int_equal(chown(lock, 65534, 65534), 0);
    assert_int_equal(unlink(path), 0);
    notes = 0;
    v = make(&(struct opts){.dir = cache_dir});
    ACCEPTED(v, tok, time(NULL));
    oauth_verifier_free(v);
    assert_int_equal(fetches(), 2);
    if (notes != 0)
        fail_msg("noted: %s", last_note);
    assert_int_equal(stat(lock, &st), 0);
    assert_int_equal(st.st_uid, geteuid());
    assert_int_equal(stat(path, &st), 0);
    free(tok);
}

/* ---- verified JWTs ------------------------------------------------------------- */

static void test_jwt_cache(void **state)
{
    struct oauth_verifier *v = make(&(struct opts){.jwt_cache = 2});
    char *t1 = mint("rsa", NULL), *t2, *t3, *stranger = mint("rsa", "stranger");
    struct oauth_verify_stats s;
    struct oauth_err err = {0};
    time_t t0 = time(NULL);

    (void)state;
    t2 = mint_at(&a, a.base, "rsa", NULL, 120);
    t3 = mint_at(&a, a.base, "rsa", NULL, 3000);
    ACCEPTED(v, t1, t0);
    ACCEPTED(v, t1, t0 + 1);
    oauth_verifier_stats(v, &s);
    assert_int_equal(s.jwt_cache_hits, 1);
    /* exp checked again on a hit: t2 expires within 120 s (+60 leeway) */
    ACCEPTED(v, t2, t0 + 2);
    ACCEPTED(v, t2, t0 + 3);
    oauth_verifier_stats(v, &s);
    assert_int_equal(s.jwt_cache_hits, 2);
    assert_int_equal(check(v, t2, t0 + 400, &err), OAUTH_ERR_CLIENT);
    assert_int_equal(err.code, OAUTH_JWT_ERR_EXPIRED);
    /* bounded: two entries at most, the one that expires first goes */
    ACCEPTED(v, t2, t0 + 4);
    ACCEPTED(v, t3, t0 + 5); /* t2 evicted */
    ACCEPTED(v, t1, t0 + 6);
    oauth_verifier_stats(v, &s);
    assert_int_equal(s.jwt_cache_hits, 3);
    ACCEPTED(v, t2, t0 + 7);
    oauth_verifier_stats(v, &s);
    assert_int_equal(s.jwt_cache_hits, 3);
    /* an entry dies with its key set: the set refetched (an unknown kid),
     * t1 is verified again (no hit), then remembered again (a hit) */
    assert_int_equal(check(v, stranger, t0 + 120, &err), OAUTH_ERR_CLIENT);
    assert_int_equal(fetches(), 2);
    ACCEPTED(v, t1, t0 + 121);
    oauth_verifier_stats(v, &s);
    assert_int_equal(s.jwt_cache_hits, 3);
    ACCEPTED(v, t1, t0 + 122);
    oauth_verifier_stats(v, &s);
    assert_int_equal(s.jwt_cache_hits, 4);
    oauth_verifier_free(v);
    free(t1);
    free(t2);
    free(t3);
    free(stranger);
}

/* A key withdrawn from the issuer's set: its tokens, remembered as
 * verified, are refused once the set is fetched again (after max-age, the
 * fetch started by a hit as by any validation). */
static void test_jwt_cache_key_withdrawn(void **state)
{
    struct oauth_verifier *v = make(&(struct opts){.jwt_cache = 16, .max_age = 600});
    char *tok = mint("rsa", NULL), path[PATH_MAX + 32], saved[PATH_MAX + 48], cmd[PATH_MAX * 3];
    struct oauth_verify_stats s;
    struct oauth_err err = {0};
    enum oauth_err_class late;
    time_t t0 = time(NULL);
    int waited, restored;

    (void)state;
    ACCEPTED(v, tok, t0);
    ACCEPTED(v, tok, t0 + 1);
    oauth_verifier_stats(v, &s);
    assert_int_equal(s.jwt_cache_hits, 1);
    /* the server's set now holds only a new key */
    snprintf(path, sizeof(path), "%s/keys/jwks.json", a.dir);
    snprintf(saved, sizeof(saved), "%s.saved", path);
    assert_int_equal(rename(path, saved), 0);
    snprintf(cmd, sizeof(cmd), "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
             "d[\"keys\"]=[k for k in d[\"keys\"] if k.get(\"kid\")==\"ec256\"]; "
             "json.dump(d,open(sys.argv[2],\"w\"))' '%s' '%s'", saved, path);
    assert_int_equal(system(cmd), 0);
    /* past max-age: a hit still, and the set fetched again meanwhile */
    ACCEPTED(v, tok, t0 + 700);
    for (waited = 0; waited < 30000; waited += 10) {
        oauth_verifier_stats(v, &s);
        if (s.jwks_loads >= 2)
            break;
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    }
    /* then the token is verified again, with the new set: refused */
    late = check(v, tok, t0 + 701, &err);
    restored = rename(saved, path) == 0; /* before any assertion: later tests need the key */
    assert_true(restored);
    assert_int_equal(s.jwks_loads, 2);
    assert_int_equal(late, OAUTH_ERR_CLIENT);
    assert_int_equal(err.code, OAUTH_JWT_ERR_UNKNOWN_KID);
    oauth_verifier_free(v);
    free(tok);
}

/* ---- several issuers by discovery ---------------------------------------------- */

static void test_issuers_by_discovery(void **state)
{
    struct oauth_verifier *v = make(&(struct opts){.dir = cache_dir, .discovery = 1});
    char *ta = mint_at(&a, a.base, "rsa", NULL, 3600), *tb = mint_at(&b, b.base, "rsa", NULL, 3600);
    char *forged = mint_at(&a, b.base, "rsa", NULL, 3600);
    char *other = mint_at(&a, "https://other.sm-fleet.test", "rsa", NULL, 3600);
    struct oauth_err err = {0};
    time_t t0 = time(NULL);

    (void)state;
    ACCEPTED(v, ta, t0);
    ACCEPTED(v, tb, t0);
    assert_int_equal(requests(&a, "/.well-known/openid-configuration"), 1);
    assert_int_equal(requests(&b, "/.well-known/openid-configuration"), 1);
    assert_int_equal(requests(&a, "/jwks"), 1);
    assert_int_equal(requests(&b, "/jwks"), 1);
    /* signed with A's key, claiming B: checked against B's keys, refused */
    assert_int_equal(check(v, forged, t0 + 1, &err), OAUTH_ERR_CLIENT);
    assert_int_equal(err.code, OAUTH_JWT_ERR_SIGNATURE);
    /* an issuer not listed: refused with no request */
    assert_int_equal(check(v, other, t0 + 2, &err), OAUTH_ERR_CLIENT);
    assert_int_equal(err.code, OAUTH_JWT_ERR_ISSUER);
    assert_int_equal(requests(&a, "/jwks") + requests(&b, "/jwks"), 2);
    oauth_verifier_free(v);
    /* another process: the discovery documents and key sets from the copies */
    v = make(&(struct opts){.dir = cache_dir, .discovery = 1});
    ACCEPTED(v, ta, t0 + 10);
    ACCEPTED(v, tb, t0 + 10);
    assert_int_equal(requests(&a, "/.well-known/openid-configuration")
                         + requests(&b, "/.well-known/openid-configuration"), 2);
    assert_int_equal(requests(&a, "/jwks") + requests(&b, "/jwks"), 2);
    oauth_verifier_free(v);
    /* a discovery document that names another issuer: not B's keys */
    assert_int_equal(ts_mode(&b, "{\"discovery_issuer\": \"https://evil.sm-fleet.test\"}"), 0);
    v = make(&(struct opts){.discovery = 1});
    ACCEPTED(v, ta, t0 + 20);
    assert_int_equal(check(v, tb, t0 + 20, &err), OAUTH_ERR_TEMPORARY);
    assert_non_null(strstr(err.reason, "names issuer"));
    oauth_verifier_free(v);
    free(ta);
    free(tb);
    free(forged);
    free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_processes_share_one_fetch, reset),
        cmocka_unit_test_setup(test_fresh_copy_read_without_network, reset),
        cmocka_unit_test_setup(test_rotation_across_processes, reset),
        cmocka_unit_test_setup(test_provider_down_old_copy, reset),
        cmocka_unit_test_setup(test_untrusted_copies, reset),
        cmocka_unit_test_setup(test_foreign_lock_file, reset),
        cmocka_unit_test_setup(test_folder_open_to_others, reset),
        cmocka_unit_test_setup(test_jwt_cache, reset),
        cmocka_unit_test_setup(test_jwt_cache_key_withdrawn, reset),
        cmocka_unit_test_setup(test_issuers_by_discovery, reset),
    };

    return cmocka_run_group_tests_name("oauth_fleet", tests, setup, teardown);
}
