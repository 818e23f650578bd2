/* Benchmark: full in-process exchanges through libsasl2 (client and server,
 * same sasldb), our plugin against the system's Cyrus plugin of the same
 * mechanism, each alone in its own folder with the sasldb auxprop.  Rounds
 * alternate which goes first; every measurement runs in a fresh forked
 * child pinned to the same core.  Prints the median microseconds per
 * exchange and the ratio ours/Cyrus.
 *
 *   bench [-n EXCHANGES] [-r ROUNDS] [-c CPU] [MECH...]
 *   bench -R N [MECH...]            resident memory growth over N exchanges
 *   bench -1 ours|cyrus -n N MECH   20 then N exchanges in this process, for
 *                                   callgrind: run.sh runs it with two N and
 *                                   divides the difference of the totals
 * Environment: SM_PLUGIN_DIR (our .libs), SM_SYSTEM_PLUGIN_DIR, BENCH_USER and
 * BENCH_PASS (the credentials, default benchuser / bench-Pa55word). */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <sasl/sasl.h>

#include "exchange.h"

__attribute__((noinline)) void bench_loop(const char *mech, long n);
void bench_loop(const char *mech, long n)
{
    long i;
    for (i = 0; i < n; i++)
        bx_exchange(mech);
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;

    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1)
            break;
    if (f) fclose(f);
    return kb;
}

/* Run fn in a child; it writes one double to the pipe. */
static double in_child(const struct impl *im, const char *mech, long n, int rss)
{
    int fd[2], status;
    double v = -1;
    pid_t pid;

    fflush(stdout);
    if (pipe(fd) != 0 || (pid = fork()) < 0)
        abort();
    if (pid == 0) {
        struct timespec a, b;
        close(fd[0]);
        bx_init(im, mech);
        bench_loop(mech, rss ? 1000 : n / 10 + 1); /* warm up */
        if (rss) {
            long before = rss_kb();
            bench_loop(mech, n);
            v = (double)(rss_kb() - before);
        } else {
            clock_gettime(CLOCK_MONOTONIC, &a);
            bench_loop(mech, n);
            clock_gettime(CLOCK_MONOTONIC, &b);
            v = ((b.tv_sec - a.tv_sec) * 1e6 + (b.tv_nsec - a.tv_nsec) / 1e3) / (double)n;
        }
        sasl_done();
        if (write(fd[1], &v, sizeof(v)) != sizeof(v))
            _exit(3);
        _exit(0);
    }
    close(fd[1]);
    if (read(fd[0], &v, sizeof(v)) != sizeof(v))
        v = -1;
    close(fd[0]);
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        v = -1;
    return v;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    static char *defaults[] = {"PLAIN", "LOGIN", "CRAM-MD5"};
    long n = 2000, rss = 0;
    int rounds = 11, cpu = -1, one = -1, failed = 0, opt, i, r, k, nmech;
    char **mechs;

    while ((opt = getopt(argc, argv, "n:r:c:R:1:")) != -1)
        switch (opt) {
        case 'n': n = atol(optarg); break;
        case 'r': rounds = atoi(optarg) > 63 ? 63 : atoi(optarg); break;
        case 'c': cpu = atoi(optarg); break;
        case 'R': rss = atol(optarg); break;
        case '1': one = strcmp(optarg, "cyrus") == 0; break;
        default:
            fprintf(stderr, "usage: bench [-n N] [-r ROUNDS] [-c CPU] [-R N] [-1 ours|cyrus] [MECH...]\n");
            return 2;
        }
    mechs = optind < argc ? argv + optind : defaults;
    nmech = optind < argc ? argc - optind : 3;
    if (n < 1 || rounds < 1 || bx_setup(nmech, mechs) != 0)
        return 1;
    if (cpu < 0)
        cpu = (int)sysconf(_SC_NPROCESSORS_ONLN) - 1;
    {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        sched_setaffinity(0, sizeof(set), &set); /* children inherit the core */
    }
    if (one >= 0) {
        bx_init(&impls[one], mechs[0]);
        for (i = 0; i < 20; i++) /* one-time set-up stays outside bench_loop */
            bx_exchange(mechs[0]);
        bench_loop(mechs[0], n);
        sasl_done();
    } else if (rss) {
        printf("%-9s %10s %10s   (resident memory growth in KiB over %ld exchanges, after 1000)\n",
               "mechanism", "ours", "cyrus", rss);
        for (i = 0; i < nmech; i++) {
            double o = in_child(&impls[0], mechs[i], rss, 1), c = in_child(&impls[1], mechs[i], rss, 1);
            printf("%-9s %10.0f %10.0f\n", mechs[i], o, c);
            failed |= o < 0 || c < 0;
        }
    } else {
        printf("%-9s %10s %10s %7s   (median us per exchange, %d rounds of %ld, core %d)\n",
               "mechanism", "ours", "cyrus", "ratio", rounds, n, cpu);
        for (i = 0; i < nmech; i++) {
            double t[2][64];
            for (r = 0; r < rounds; r++)
                for (k = 0; k < 2; k++) {
                    int which = r % 2 ? 1 - k : k; /* alternate who goes first */
                    t[which][r] = in_child(&impls[which], mechs[i], n, 0);
                    failed |= t[which][r] < 0;
                }
            qsort(t[0], (size_t)rounds, sizeof(double), cmp);
            qsort(t[1], (size_t)rounds, sizeof(double), cmp);
            printf("%-9s %10.2f %10.2f %7.3f\n", mechs[i], t[0][rounds / 2], t[1][rounds / 2],
                   t[0][rounds / 2] / t[1][rounds / 2]);
        }
    }
    if (bx_cleanup() != 0)
        failed = 1;
    return failed;
}
