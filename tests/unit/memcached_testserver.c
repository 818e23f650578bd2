/* A real memcached for tests: see memcached_testserver.h. */
#define _GNU_SOURCE 1
#include "config.h"
#include "memcached_testserver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int mc_connect(int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((unsigned short)port);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* a port on 127.0.0.1 nothing listens on (bound, then closed) */
static int mc_free_port(void)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0
        && getsockname(fd, (struct sockaddr *)&a, &al) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static int mc_try(struct mc *m, const char *bin)
{
    char port[16];
    int i, status, fd;

    m->port = mc_free_port();
    if (m->port <= 0)
        return -1;
    snprintf(port, sizeof(port), "%d", m->port);
    m->pid = fork();
    if (m->pid < 0)
        return -1;
    if (m->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (geteuid() == 0)
            execl(bin, bin, "-l", "127.0.0.1", "-p", port, "-U", "0", "-m", "16", "-c", "256",
                  "-u", "root", (char *)NULL);
        else
            execl(bin, bin, "-l", "127.0.0.1", "-p", port, "-U", "0", "-m", "16", "-c", "256",
                  (char *)NULL);
        fprintf(stderr, "# cannot run %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    for (i = 0; i < 500; i++) {
        struct timespec t = {0, 10000000};
        if ((fd = mc_connect(m->port)) >= 0) {
            close(fd);
            snprintf(m->url, sizeof(m->url), "memcached://127.0.0.1:%d", m->port);
            return 0;
        }
        if (waitpid(m->pid, &status, WNOHANG) == m->pid) {
            m->pid = -1;
            return -1; /* gone: the port was taken meanwhile, or no binary */
        }
        nanosleep(&t, NULL);
    }
    mc_stop(m);
    return -1;
}

int mc_start(struct mc *m)
{
    const char *bin = getenv("SM_MEMCACHED");
    int attempt;

    memset(m, 0, sizeof(*m));
    m->pid = -1;
    if (!bin)
        bin = "/usr/bin/memcached";
    if (access(bin, X_OK) != 0) {
        fprintf(stderr, "# %s not found: scripts/deps.sh installs Debian's memcached\n", bin);
        return -1;
    }
    for (attempt = 0; attempt < 3; attempt++)
        if (mc_try(m, bin) == 0)
            return 0;
    fprintf(stderr, "# memcached did not start on 127.0.0.1 (3 attempts)\n");
    return -1;
}

void mc_stop(struct mc *m)
{
    if (m->pid > 0) {
        kill(m->pid, SIGTERM);
        waitpid(m->pid, NULL, 0);
    }
    m->pid = -1;
}

static int mc_reply_done(const char *b, size_t n)
{
    static const char *const ends[] = {"END\r\n", "STORED\r\n", "NOT_STORED\r\n", "DELETED\r\n",
                                       "NOT_FOUND\r\n", "OK\r\n", NULL};
    size_t i;

    for (i = 0; ends[i]; i++) {
        size_t l = strlen(ends[i]);
        if (n >= l && memcmp(b + n - l, ends[i], l) == 0)
            return 1;
    }
    return n > 2 && memcmp(b + n - 2, "\r\n", 2) == 0
           && (strncmp(b, "ERROR", 5) == 0 || strncmp(b, "CLIENT_ERROR", 12) == 0
               || strncmp(b, "SERVER_ERROR", 12) == 0);
}

int mc_raw(const struct mc *m, const char *req, size_t reqlen, char *reply, size_t n)
{
    int fd = mc_connect(m->port);
    size_t have = 0;

    if (fd < 0)
        return -1;
    if (send(fd, req, reqlen, MSG_NOSIGNAL) != (ssize_t)reqlen) {
        close(fd);
        return -1;
    }
    while (have + 1 < n) {
        ssize_t r = recv(fd, reply + have, n - 1 - have, 0);
        if (r <= 0)
            break;
        have += (size_t)r;
        reply[have] = '\0';
        if (mc_reply_done(reply, have))
            break;
    }
    reply[have] = '\0';
    close(fd);
    return (int)have;
}

int mc_silent_port(int *fd)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);

    *fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (*fd < 0)
        return -1;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(*fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(*fd, 16) != 0
        || getsockname(*fd, (struct sockaddr *)&a, &al) != 0) {
        close(*fd);
        *fd = -1;
        return -1;
    }
    return ntohs(a.sin_port);
}
