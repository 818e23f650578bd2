/* Identity-provider requests per 1,000 logins at fleet scale, before and
 * after the introspection cache shared through memcached (issue 17).
 *
 * The fleet: 2 Postfix instances of 2 smtpd processes each, 4 processes at
 * once; like smtpd (max_use 100), each process serves 100 logins and exits,
 * and a new one takes its place with an empty per-process cache.  The
 * logins: 1,000 drawn (a fixed pseudo-random sequence) from BENCH_FLEET_USERS
 * (default 200) users, each holding one valid token, as clients that
 * reconnect do; and, for the bound, 1,000 logins with distinct invalid
 * tokens.  Each login is one oauth_introspect call of the OAuth core (the
 * part of the plugin that talks to the provider), in real processes, against
 * the loopback OAuth server (tests/oauth/oauth_server.py, which counts the
 * introspection requests it answers) and a real memcached, both started here
 * on 127.0.0.1 and stopped at the end.
 *
 * Rows: requests per 1,000 logins with the per-process cache only, with the
 * shared cache, and their ratio; then the invalid-token flood without and
 * with oauth_introspection_max_per_interval (100 per hour, counted in the
 * shared cache).  A program, not a test: it prints figures; its status is
 * non-zero only when something could not be measured.
 * Environment: SM_SRCDIR, SM_BUILDDIR (as for make check). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "oauth_introspect.h"
#include "memcached_testserver.h"
#include "oauth_testserver.h"

#define LOGINS 1000
#define INSTANCES 2
#define PER_INSTANCE 2
#define PROCS (INSTANCES * PER_INSTANCE)
#define MAX_USE 100               /* smtpd's max_use default */
#define FLOOD_BOUND 100

static struct ts idp;
static struct mc cache;
static char keyfile_secret[] = "bench: a site-wide cache key of 32+ bytes";
static char **tokens;
static int n_tokens;

static struct oauth_introspect_config fleet_config(int shared, unsigned long bound)
{
    struct oauth_introspect_config c;

    ts_introspect_config(&idp, &c);
    if (shared) {
        c.cache_server = cache.url;
        c.cache_secret = (const unsigned char *)keyfile_secret;
        c.cache_secret_len = strlen(keyfile_secret);
    }
    c.max_per_interval = bound;
    c.interval = 3600;
    return c;
}

/* One smtpd process: logins first..last (exclusive) of the slot's share;
 * exits with the number of logins whose verdict was not the expected one. */
static void serve(const struct oauth_introspect_config *c, const char *const *seq, int expect_ok,
                  int first, int last)
{
    struct oauth_introspector *in = NULL;
    struct oauth_err err;
    int i, wrong = 0;

    if (oauth_introspector_new(c, &in, &err) != OAUTH_OK) {
        fprintf(stderr, "oauth_introspector_new: %s\n", err.reason);
        _exit(255);
    }
    for (i = first; i < last; i++) {
        enum oauth_err_class st = oauth_introspect(in, seq[i], strlen(seq[i]), time(NULL), NULL,
                                                   NULL, &err);
        if (expect_ok ? st != OAUTH_OK : st == OAUTH_OK)
            wrong++;
    }
    oauth_introspector_free(in);
    _exit(wrong > 254 ? 254 : wrong);
}

/* The fleet serves the logins seq[0..LOGINS): login i goes to process slot
 * i % PROCS; a slot's process is replaced after MAX_USE logins.  Returns
 * the provider's introspection requests meanwhile, or -1; *wrong counts
 * unexpected verdicts. */
static long run_fleet(const struct oauth_introspect_config *c, const char *const *seq,
                      int expect_ok, int *wrong)
{
    long before = ts_stat(&idp, "introspections"), after;
    pid_t slot[PROCS];
    int s, status, failed = 0;
    char reply[64];

    *wrong = 0;
    if (mc_raw(&cache, "flush_all\r\n", 11, reply, sizeof(reply)) < 0) {
        fprintf(stderr, "memcached: flush_all failed\n");
        return -1;
    }
    for (s = 0; s < PROCS; s++) {
        if ((slot[s] = fork()) < 0)
            return -1;
        if (slot[s] == 0) {
            /* this slot's logins, in order, MAX_USE per process */
            const char *mine[LOGINS];
            int n = 0, i, bad = 0;
            for (i = s; i < LOGINS; i += PROCS)
                mine[n++] = seq[i];
            for (i = 0; i < n; i += MAX_USE) {
                pid_t p = fork();
                if (p < 0)
                    _exit(255);
                if (p == 0)
                    serve(c, mine, expect_ok, i, i + MAX_USE < n ? i + MAX_USE : n);
                if (waitpid(p, &status, 0) != p || !WIFEXITED(status)
                    || WEXITSTATUS(status) == 255)
                    _exit(255);
                bad += WEXITSTATUS(status);
            }
            _exit(bad > 254 ? 254 : bad);
        }
    }
    for (s = 0; s < PROCS; s++) {
        if (waitpid(slot[s], &status, 0) != slot[s] || !WIFEXITED(status)
            || WEXITSTATUS(status) == 255)
            failed = 1;
        else
            *wrong += WEXITSTATUS(status);
    }
    after = ts_stat(&idp, "introspections");
    if (failed || before < 0 || after < 0)
        return -1;
    return after - before;
}

static int mint_tokens(int n)
{
    char claims[128];
    int i;

    tokens = calloc((size_t)n, sizeof(*tokens));
    for (i = 0; tokens && i < n; i++) {
        snprintf(claims, sizeof(claims),
                 "{\"sub\": \"user%d\", \"scope\": \"mail\", \"aud\": \"smtp\"}", i);
        if (!(tokens[i] = ts_mint(&idp, claims, 7200)))
            return -1;
    }
    n_tokens = n;
    return tokens ? 0 : -1;
}

int main(void)
{
    const char *users_env = getenv("BENCH_FLEET_USERS");
    int users = users_env ? atoi(users_env) : 200, i, wrong[4];
    const char **seq = calloc(LOGINS, sizeof(*seq));
    char **invalid = calloc(LOGINS, sizeof(*invalid));
    struct oauth_introspect_config per_process, shared, flood_open, flood_bound;
    long before, after, open_n, bound_n;
    unsigned long x = 12345;
    int status = 0;

    if (users <= 0 || users > LOGINS || !seq || !invalid)
        return 2;
    if (ts_start(&idp, NULL) != 0)
        return 1;
    if (mc_start(&cache) != 0) {
        ts_stop(&idp);
        return 1;
    }
    if (mint_tokens(users) != 0) {
        fprintf(stderr, "the loopback OAuth server minted no tokens\n");
        status = 1;
        goto out;
    }
    for (i = 0; i < LOGINS; i++) {
        char buf[64];
        x = x * 6364136223846793005UL + 1442695040888963407UL;
        seq[i] = tokens[(x >> 33) % (unsigned long)users];
        snprintf(buf, sizeof(buf), "invalid-token-%d-%ld", i, (long)getpid());
        invalid[i] = strdup(buf);
    }
    /* the flood's bound counts per hour: not across an hour's end */
    while (time(NULL) % 3600 > 3540)
        sleep(5);
    per_process = fleet_config(0, 0);
    shared = fleet_config(1, 0);
    flood_open = fleet_config(1, 0);
    flood_bound = fleet_config(1, FLOOD_BOUND);
    before = run_fleet(&per_process, seq, 1, &wrong[0]);
    after = run_fleet(&shared, seq, 1, &wrong[1]);
    open_n = run_fleet(&flood_open, (const char *const *)invalid, 0, &wrong[2]);
    bound_n = run_fleet(&flood_bound, (const char *const *)invalid, 0, &wrong[3]);
    if (before < 0 || after < 0 || open_n < 0 || bound_n < 0) {
        fprintf(stderr, "a fleet run failed\n");
        status = 1;
        goto out;
    }
    printf("OAuth introspection at fleet scale: %d logins, %d users (one token each), "
           "%d Postfix instances x %d smtpd processes, each process replaced after %d logins\n",
           LOGINS, users, INSTANCES, PER_INSTANCE, MAX_USE);
    printf("  %-46s %6ld requests per 1,000 logins\n", "before: per-process cache only", before);
    printf("  %-46s %6ld requests per 1,000 logins\n", "after: shared cache (memcached)", after);
    printf("  %-46s %6.3f (after / before; %ld distinct tokens is the least possible)\n",
           "ratio", before ? (double)after / (double)before : 0.0,
           (long)users < (long)LOGINS ? (long)users : (long)LOGINS);
    printf("  %-46s %6ld requests per 1,000 logins\n",
           "1,000 distinct invalid tokens, no bound", open_n);
    printf("  %-46s %6ld requests per 1,000 logins (the rest refused as temporary)\n",
           "the same, bound 100 per interval (shared)", bound_n);
    if (wrong[0] || wrong[1] || wrong[2]) {
        printf("  unexpected verdicts: %d, %d, %d (valid refused or invalid accepted)\n",
               wrong[0], wrong[1], wrong[2]);
        status = 1;
    }
out:
    mc_stop(&cache);
    ts_stop(&idp);
    for (i = 0; i < n_tokens; i++)
        free(tokens[i]);
    free(tokens);
    for (i = 0; i < LOGINS; i++)
        free(invalid[i]);
    free(invalid);
    free(seq);
    return status;
}
