/* Concurrency: exchanges from several threads at once through one libsasl2
 * (OpenLDAP's slapd calls libsasl2 from many threads), our plugins on both
 * sides.  Run under ThreadSanitizer or helgrind; prints TAP.
 *   threads [-t THREADS] [-n EXCHANGES_PER_THREAD] [MECH...] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <sasl/sasl.h>

#include "exchange.h"

static const char *mech;
static long per_thread = 50;

static void *worker(void *arg)
{
    long i;

    (void)arg;
    for (i = 0; i < per_thread; i++)
        bx_exchange(mech);
    return NULL;
}

int main(int argc, char **argv)
{
    static char *defaults[] = {"PLAIN", "LOGIN", "CRAM-MD5", "NTLM"};
    pthread_t tid[64];
    int threads = 8, opt, i, m, nmech, failed = 0;
    char **mechs;

    while ((opt = getopt(argc, argv, "t:n:")) != -1)
        switch (opt) {
        case 't': threads = atoi(optarg) > 64 ? 64 : atoi(optarg); break;
        case 'n': per_thread = atol(optarg); break;
        default: return 2;
        }
    mechs = optind < argc ? argv + optind : defaults;
    nmech = optind < argc ? argc - optind : (int)(sizeof(defaults) / sizeof(defaults[0]));
    printf("1..%d\n", nmech);
    if (bx_setup(nmech, mechs) != 0) {
        printf("Bail out! cannot set up the plugin folders (SM_PLUGIN_DIR, SM_SYSTEM_PLUGIN_DIR?)\n");
        return 1;
    }
    /* one process per mechanism: libsasl2 loads one plugin path per process */
    for (m = 0; m < nmech; m++) {
        int status = 1;
        pid_t pid;

        fflush(stdout); /* or the child prints the buffer again */
        pid = fork();
        if (pid == 0) {
            mech = mechs[m];
            bx_init(&impls[0], mech);
            for (i = 0; i < threads; i++)
                if (pthread_create(&tid[i], NULL, worker, NULL) != 0)
                    _exit(3);
            for (i = 0; i < threads; i++)
                pthread_join(tid[i], NULL);
            sasl_done();
            _exit(0);
        }
        if (pid > 0)
            waitpid(pid, &status, 0);
        if (pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            printf("ok %d - %s: %d threads x %ld exchanges\n", m + 1, mechs[m], threads, per_thread);
        } else {
            printf("not ok %d - %s: %d threads (exit status %d)\n", m + 1, mechs[m], threads, status);
            failed = 1;
        }
    }
    bx_cleanup();
    return failed;
}
