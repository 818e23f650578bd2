/* A real memcached (Debian's /usr/bin/memcached, or SM_MEMCACHED) for the
 * tests of the shared introspection cache: started on 127.0.0.1 at a free
 * port, UDP off, killed with the test process (PR_SET_PDEATHSIG) should the
 * test die first, stopped with SIGTERM by mc_stop.  A memcached that cannot
 * be started is a failure printed on stderr, never a skip. */
#ifndef MEMCACHED_TESTSERVER_H
#define MEMCACHED_TESTSERVER_H

#include <stddef.h>
#include <sys/types.h>

struct mc {
    pid_t pid;
    int port;
    char url[64];            /* memcached://127.0.0.1:PORT */
};

/* 0, or -1 with the reason on stderr */
int mc_start(struct mc *m);
void mc_stop(struct mc *m);

/* Send req as is and read the reply (at most n-1 bytes, NUL-terminated)
 * until it ends with one of "END\r\n", "STORED\r\n", "NOT_STORED\r\n",
 * "DELETED\r\n", "NOT_FOUND\r\n", "OK\r\n", or an error line: the
 * reply's length, or -1.  Talks to the server directly, not through the
 * code under test. */
int mc_raw(const struct mc *m, const char *req, size_t reqlen, char *reply, size_t n);

/* A port on 127.0.0.1 where something accepts connections (the listen
 * backlog) but never answers: a "slow" cache server.  The descriptor in
 * *fd, closed by the caller. */
int mc_silent_port(int *fd);

#endif
