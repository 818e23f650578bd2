/* Benchmark of GSSAPI against Cyrus's gssapiv2, in one run, against the
 * throwaway KDC whose environment tests/bench/gssapi.sh exports: each
 * plugin alone in its own folder (plus the sasldb auxprop), every
 * measurement in a fresh forked child pinned to one core, rounds
 * alternating which goes first.  Rows (median of the rounds, ratio
 * ours/Cyrus, <= 1.0 wanted):
 *   exchange         microseconds per full exchange (client and server,
 *                    mutual authentication, confidentiality layer chosen);
 *                    the service ticket is in the ccache after the first
 *   wrap-conf-64k    microseconds to sasl_encode 64 KiB on one side and
 *                    sasl_decode it on the other, confidentiality layer
 *   wrap-integ-64k   the same with the integrity layer
 * Both sides of a row use the same implementation.
 *   bench_gssapi [-n SCALE] [-r ROUNDS] [-c CPU]
 *   bench_gssapi -1 ours|cyrus -w ROW -n N   one measurement in this process
 *                    (ROW 0, 1, 2 as above, N operations after the set-up),
 *                    for callgrind: tests/bench/gssapi.sh runs it with two N
 *                    and divides the difference of the instruction totals
 * Environment: SM_PLUGIN_DIR, SM_SYSTEM_PLUGIN_DIR, and the KDC's. */
#define _GNU_SOURCE
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sasl/sasl.h>

#define FQDN "mx.sm-gssapi.test"
#define BLOCK 65536u

static char root[256], dirs[2][300];
static const char *const names[2] = {"ours", "cyrus"};

static int getpath(void *ctx, const char **path)
{
    *path = ctx;
    return SASL_OK;
}

static int getconfpath(void *ctx, char **path)
{
    (void)ctx;
    *path = root;
    return SASL_OK;
}

static double now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_gssapi: %s: %s\n", what, sasl_errstring(rc, NULL, NULL));
    exit(2);
}

static void set_props(sasl_conn_t *c, sasl_ssf_t min, sasl_ssf_t max)
{
    sasl_security_properties_t p;

    memset(&p, 0, sizeof(p));
    p.min_ssf = min;
    p.max_ssf = max;
    p.maxbufsize = 2 * BLOCK;
    sasl_setprop(c, SASL_SEC_PROPS, &p);
}

static void exchange(sasl_conn_t **cc, sasl_conn_t **sc, sasl_ssf_t min, sasl_ssf_t max)
{
    const char *out, *sout, *mech;
    unsigned outlen, soutlen;
    int rc, src;

    if ((rc = sasl_server_new("smtp", FQDN, NULL, NULL, NULL, NULL, 0, sc)) != SASL_OK)
        die("sasl_server_new", rc);
    if ((rc = sasl_client_new("smtp", FQDN, NULL, NULL, NULL, 0, cc)) != SASL_OK)
        die("sasl_client_new", rc);
    set_props(*cc, min, max);
    set_props(*sc, min, max);
    rc = sasl_client_start(*cc, "GSSAPI", NULL, &out, &outlen, &mech);
    if (rc != SASL_CONTINUE)
        die(sasl_errdetail(*cc), rc);
    src = sasl_server_start(*sc, "GSSAPI", out, outlen, &sout, &soutlen);
    while (src == SASL_CONTINUE) {
        rc = sasl_client_step(*cc, sout, soutlen, NULL, &out, &outlen);
        if (rc != SASL_OK && rc != SASL_CONTINUE)
            die(sasl_errdetail(*cc), rc);
        src = sasl_server_step(*sc, out, outlen, &sout, &soutlen);
    }
    if (src != SASL_OK)
        die(sasl_errdetail(*sc), src);
}

/* in a child: the microseconds per operation of the row */
static double measure(int impl, int row, long n)
{
    static sasl_callback_t cb[3];
    sasl_conn_t *cc, *sc;
    static char data[BLOCK];
    const char *o, *d;
    unsigned olen, dlen, maxout;
    const void *v;
    double t0;
    long i;
    int rc;

    cb[0] = (sasl_callback_t){SASL_CB_GETPATH, (int (*)(void))(void (*)(void))getpath, dirs[impl]};
    cb[1] = (sasl_callback_t){SASL_CB_GETCONFPATH, (int (*)(void))(void (*)(void))getconfpath, NULL};
    cb[2] = (sasl_callback_t){SASL_CB_LIST_END, NULL, NULL};
    if ((rc = sasl_server_init(cb, "smbench")) != SASL_OK || (rc = sasl_client_init(cb)) != SASL_OK)
        die("init", rc);
    if (row == 0) {
        /* a warm-up exchange fetches the service ticket */
        exchange(&cc, &sc, 56, 256);
        sasl_dispose(&cc);
        sasl_dispose(&sc);
        t0 = now_us();
        for (i = 0; i < n; i++) {
            exchange(&cc, &sc, 56, 256);
            sasl_dispose(&cc);
            sasl_dispose(&sc);
        }
        return (now_us() - t0) / n;
    }
    exchange(&cc, &sc, row == 1 ? 56 : 1, row == 1 ? 256 : 1);
    sasl_getprop(cc, SASL_MAXOUTBUF, &v);
    maxout = *(const unsigned *)v;
    memset(data, 'x', sizeof(data));
    t0 = now_us();
    for (i = 0; i < n; i++) {
        size_t off, piece;
        for (off = 0; off < BLOCK; off += piece) {
            piece = BLOCK - off < maxout ? BLOCK - off : maxout;
            if ((rc = sasl_encode(cc, data + off, (unsigned)piece, &o, &olen)) != SASL_OK)
                die("sasl_encode", rc);
            if ((rc = sasl_decode(sc, o, olen, &d, &dlen)) != SASL_OK || dlen != piece)
                die("sasl_decode", rc);
        }
    }
    return (now_us() - t0) / n;
}

static double in_child(int impl, int row, long n)
{
    int fd[2], status;
    double r = -1;
    pid_t pid;

    if (pipe(fd) != 0)
        return -1;
    fflush(NULL);
    if ((pid = fork()) == 0) {
        close(fd[0]);
        r = measure(impl, row, n);
        if (write(fd[1], &r, sizeof(r)) != sizeof(r))
            _exit(3);
        _exit(0);
    }
    close(fd[1]);
    if (read(fd[0], &r, sizeof(r)) != sizeof(r))
        r = -1;
    close(fd[0]);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? r : -1;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int link_into(const char *dir, const char *srcdir, const char *file)
{
    char s[600], d[700];

    snprintf(s, sizeof(s), "%s/%s", srcdir, file);
    snprintf(d, sizeof(d), "%s/%s", dir, file);
    if (access(s, R_OK) != 0) {
        fprintf(stderr, "bench_gssapi: %s is missing\n", s);
        return -1;
    }
    return symlink(s, d);
}

int main(int argc, char **argv)
{
    static const char *const rows[] = {"exchange", "wrap-conf-64k", "wrap-integ-64k"};
    static const long per_row[] = {200, 400, 400};
    const char *plug = getenv("SM_PLUGIN_DIR"), *sys = getenv("SM_SYSTEM_PLUGIN_DIR");
    char plugabs[PATH_MAX], sysabs[PATH_MAX], cmd[400]; /* realpath: PATH_MAX */
    long scale = 1;
    int rounds = 11, cpu = -1, opt, status = 0, one = -1, row = 0;

    while ((opt = getopt(argc, argv, "n:r:c:1:w:")) != -1) {
        if (opt == 'n') scale = atol(optarg);
        else if (opt == 'r') rounds = atoi(optarg);
        else if (opt == 'c') cpu = atoi(optarg);
        else if (opt == '1') one = strcmp(optarg, "cyrus") == 0;
        else if (opt == 'w') row = atoi(optarg);
    }
    if (scale < 1 || rounds < 1 || rounds > 99 || !plug || !sys || !realpath(plug, plugabs)
        || !realpath(sys, sysabs) || !getenv("KRB5_CONFIG")) {
        fprintf(stderr, "usage: bench_gssapi [-n SCALE] [-r ROUNDS] [-c CPU], with "
                        "SM_PLUGIN_DIR, SM_SYSTEM_PLUGIN_DIR and the KDC's environment\n");
        return 2;
    }
    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        sched_setaffinity(0, sizeof(set), &set);
    }
    snprintf(root, sizeof(root), "%s/sm-bench-gss-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(root))
        return 2;
    for (int i = 0; i < 2; i++) {
        snprintf(dirs[i], sizeof(dirs[i]), "%s/%s", root, names[i]);
        mkdir(dirs[i], 0700);
    }
    if (link_into(dirs[0], plugabs, "libsaslmechs_gssapi.so")
        || link_into(dirs[0], sysabs, "libsasldb.so")
        || link_into(dirs[1], sysabs, "libgssapiv2.so")
        || link_into(dirs[1], sysabs, "libsasldb.so"))
        status = 2;
    if (one >= 0 && !status) {
        /* callgrind: the same set-up, then scale operations */
        measure(one, row < 0 || row > 2 ? 0 : row, scale);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        return system(cmd) != 0;
    }
    printf("%-16s %12s %12s %8s   (median of %d rounds, microseconds per operation%s)\n",
           "GSSAPI case", "ours us", "cyrus us", "ratio", rounds,
           cpu >= 0 ? ", one core" : "");
    for (size_t r = 0; r < 3 && !status; r++) {
        double t[2][99];
        long n = per_row[r] * scale;
        for (int k = 0; k < rounds; k++) {
            int first = k % 2;
            t[first][k] = in_child(first, (int)r, n);
            t[!first][k] = in_child(!first, (int)r, n);
            if (t[0][k] < 0 || t[1][k] < 0) {
                fprintf(stderr, "bench_gssapi: %s: a measurement failed\n", rows[r]);
                status = 1;
                break;
            }
        }
        if (status)
            break;
        qsort(t[0], (size_t)rounds, sizeof(double), cmp);
        qsort(t[1], (size_t)rounds, sizeof(double), cmp);
        double o = t[0][rounds / 2], c = t[1][rounds / 2];
        if (r == 0)
            printf("%-16s %12.1f %12.1f %8.4f   %s\n", rows[r], o, c, o / c,
                   o / c <= 1.0 ? "meets <= 1.0" : "OVER 1.0");
        else
            printf("%-16s %12.1f %12.1f %8.4f   %s (ours %.0f MB/s, Cyrus %.0f MB/s)\n", rows[r],
                   o, c, o / c, o / c <= 1.0 ? "meets <= 1.0" : "OVER 1.0", BLOCK / o,
                   BLOCK / c);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    if (system(cmd) != 0)
        status = status ? status : 1;
    return status;
}
