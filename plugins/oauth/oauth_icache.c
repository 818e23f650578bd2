/* The shared introspection cache's client of memcached: see oauth_icache.h
 * (the codec is in oauth_icache_codec.c). */
#include "config.h"
#include "oauth_icache.h"
#include "oauth_util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <sasl-mechs/hex.h>
#include <sasl-mechs/secret.h>

#define SCHEME "memcached://"
#define KEY_PREFIX "sasl-mechs:oi:"
#define KEY_MAX 250                     /* memcached's limit */
#define MAX_LINE OAUTH_ICACHE_MAX_LINE

struct oauth_icache {
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char *where;                        /* HOST:PORT, for messages */
    unsigned char *secret;
    size_t secret_len;
    long timeout_ms;
    pthread_mutex_t mu;                 /* guards what follows */
    int fd;                             /* -1: not connected */
    pid_t pid;                          /* the process that opened fd */
    time_t down_until;                  /* after a failure: leave the server alone */
    struct oauth_icache_stats stats;
};

/* ---- setup ------------------------------------------------------------------ */

static enum oauth_err_class icache_resolve(struct oauth_icache *ic, const char *server,
                                           struct oauth_err *err)
{
    const char *hp = server + strlen(SCHEME), *colon, *hs = hp, *he;
    char host[256], port[8];
    struct addrinfo hints, *res = NULL;
    size_t hl, pl;
    int rc;

    if (*hp == '[') {
        hs = hp + 1;
        if (!(he = strchr(hs, ']')) || he[1] != ':')
            goto bad;
        colon = he + 1;
    } else {
        if (!(colon = strrchr(hp, ':')) || memchr(hp, ':', (size_t)(colon - hp)))
            goto bad;
        he = colon;
    }
    hl = (size_t)(he - hs);
    pl = strlen(colon + 1);
    if (hl == 0 || hl >= sizeof(host) || pl == 0 || pl > 5
        || strspn(colon + 1, "0123456789") != pl || strpbrk(hs, "/@?#")
        || atoi(colon + 1) <= 0 || atoi(colon + 1) > 65535)
        goto bad;
    memcpy(host, hs, hl);
    host[hl] = '\0';
    memcpy(port, colon + 1, pl + 1);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    if ((rc = getaddrinfo(host, port, &hints, &res)) != 0 || !res) {
        oauth_why(err, "introspection cache server %.128s: cannot resolve: %s", hp,
                  gai_strerror(rc));
        return OAUTH_ERR_CONFIG;
    }
    if (res->ai_addrlen > sizeof(ic->addr)) {
        freeaddrinfo(res);
        goto bad;
    }
    memcpy(&ic->addr, res->ai_addr, res->ai_addrlen);
    ic->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    return OAUTH_OK;
bad:
    oauth_why(err, "introspection cache server must be memcached://HOST:PORT "
                   "(HOST a name, an IPv4 address or [an IPv6 address])");
    return OAUTH_ERR_CONFIG;
}

enum oauth_err_class oauth_icache_new(const struct oauth_icache_config *c,
                                      struct oauth_icache **out, struct oauth_err *err)
{
    struct oauth_icache *ic;
    enum oauth_err_class cls;

    *out = NULL;
    if (!c->server || strncmp(c->server, SCHEME, strlen(SCHEME)) != 0) {
        oauth_why(err, "introspection cache server must be memcached://HOST:PORT");
        return OAUTH_ERR_CONFIG;
    }
    if (!c->secret || c->secret_len < OAUTH_ICACHE_MIN_SECRET) {
        oauth_why(err, "the introspection cache needs a key of at least %d bytes (the HMAC "
                  "over what it stores)", OAUTH_ICACHE_MIN_SECRET);
        return OAUTH_ERR_CONFIG;
    }
    if (c->timeout_ms <= 0 || c->timeout_ms > 60000) {
        oauth_why(err, "introspection cache timeout must be 1..60000 ms");
        return OAUTH_ERR_CONFIG;
    }
    if (!(ic = calloc(1, sizeof(*ic))))
        goto oom;
    ic->fd = -1;
    ic->timeout_ms = c->timeout_ms;
    if ((cls = icache_resolve(ic, c->server, err)) != OAUTH_OK) {
        free(ic);
        return cls;
    }
    if (!(ic->where = strdup(c->server + strlen(SCHEME))) || !(ic->secret = malloc(c->secret_len))
        || pthread_mutex_init(&ic->mu, NULL) != 0) {
        free(ic->where);
        free(ic->secret);
        free(ic);
        goto oom;
    }
    memcpy(ic->secret, c->secret, c->secret_len);
    ic->secret_len = c->secret_len;
    *out = ic;
    return OAUTH_OK;
oom:
    oauth_why(err, "out of memory");
    return OAUTH_ERR_INTERNAL;
}

void oauth_icache_free(struct oauth_icache *ic)
{
    if (!ic)
        return;
    if (ic->fd >= 0)
        close(ic->fd);
    pthread_mutex_destroy(&ic->mu);
    free(ic->where);
    sm_erase(ic->secret, ic->secret_len);
    free(ic->secret);
    sm_erase(ic, sizeof(*ic));
    free(ic);
}

void oauth_icache_stats(struct oauth_icache *ic, struct oauth_icache_stats *s)
{
    pthread_mutex_lock(&ic->mu);
    *s = ic->stats;
    pthread_mutex_unlock(&ic->mu);
}

/* ---- the connection (ic->mu held) ---------------------------------------- */

static long long icache_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 0 when fd is ready for events before the deadline, -1 otherwise */
static int icache_wait(int fd, short events, long long deadline)
{
    struct pollfd p = {.fd = fd, .events = events};
    long long left;
    int r;

    for (;;) {
        left = deadline - icache_ms();
        if (left <= 0)
            return -1;
        r = poll(&p, 1, (int)(left > INT_MAX ? INT_MAX : left));
        if (r > 0)
            return 0;
        if (r == 0 || errno != EINTR)
            return -1;
    }
}

static int icache_connect(struct oauth_icache *ic, long long deadline, struct oauth_err *why)
{
    int fd, one = 1, soerr = 0;
    socklen_t sl = sizeof(soerr);

    if (ic->fd >= 0 && ic->pid == getpid())
        return 0;
    if (ic->fd >= 0) /* inherited across fork: the parent's; open our own */
        close(ic->fd);
    ic->fd = -1;
    fd = socket(ic->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        oauth_why(why, "socket: %s", strerror(errno));
        return -1;
    }
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&ic->addr, ic->addrlen) != 0) {
        if (errno != EINPROGRESS) {
            oauth_why(why, "connect: %s", strerror(errno));
            close(fd);
            return -1;
        }
        if (icache_wait(fd, POLLOUT, deadline) != 0) {
            oauth_why(why, "connect: no answer within %ld ms", ic->timeout_ms);
            close(fd);
            return -1;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
            oauth_why(why, "connect: %s", strerror(soerr ? soerr : errno));
            close(fd);
            return -1;
        }
    }
    ic->fd = fd;
    ic->pid = getpid();
    return 0;
}

/* What differs between sending and receiving: the poll event waited for,
 * and the words of the two failures. */
struct icache_dir {
    short events;
    const char *stalled;          /* "<stalled> within N ms" */
    const char *prefix, *ended;   /* "<prefix><strerror>", or <ended> for 0 bytes */
};

static const struct icache_dir icache_out = {POLLOUT, "send: no progress", "send: ",
                                             "nothing sent"};
static const struct icache_dir icache_in = {POLLIN, "no reply", "",
                                            "connection closed by the server"};

/* Move some of the len bytes at buf in direction d, waiting (until the
 * deadline) while the socket is not ready and retrying after a signal: how
 * many moved (> 0), or -1 with why said.  buf is only read when sending. */
static ssize_t icache_io(struct oauth_icache *ic, const struct icache_dir *d, char *buf,
                         size_t len, long long deadline, struct oauth_err *why)
{
    for (;;) {
        ssize_t n = d->events == POLLOUT ? send(ic->fd, buf, len, MSG_NOSIGNAL)
                                         : recv(ic->fd, buf, len, 0);
        if (n > 0)
            return n;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (icache_wait(ic->fd, d->events, deadline) == 0)
                continue;
            oauth_why(why, "%s within %ld ms", d->stalled, ic->timeout_ms);
            return -1;
        }
        oauth_why(why, "%s%s", d->prefix, n == 0 ? d->ended : strerror(errno));
        return -1;
    }
}

static int icache_send(struct oauth_icache *ic, const char *buf, size_t len, long long deadline,
                       struct oauth_err *why)
{
    while (len) {
        ssize_t n = icache_io(ic, &icache_out, (char *)buf, len, deadline, why);
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Read until done(buf, len) says the reply is whole (1) or wrong (-1), at
 * most cap bytes.  0 with *len the reply's size, or -1. */
static int icache_recv(struct oauth_icache *ic, char *buf, size_t cap, size_t *len,
                       int (*done)(const char *, size_t, void *), void *arg,
                       long long deadline, struct oauth_err *why)
{
    size_t have = 0;
    int d;

    for (;;) {
        ssize_t n = icache_io(ic, &icache_in, buf + have, cap - have, deadline, why);
        if (n < 0)
            return -1;
        have += (size_t)n;
        if ((d = done(buf, have, arg)) > 0) {
            *len = have;
            return 0;
        }
        if (d < 0) {
            oauth_why(why, "a reply outside the memcached protocol");
            return -1;
        }
        if (have == cap) {
            oauth_why(why, "a reply larger than %zu bytes", cap);
            return -1;
        }
    }
}

/* one line: whole at its CRLF; more after it is a protocol error */
static int icache_line_done(const char *buf, size_t len, void *arg)
{
    const char *crlf = oauth_icache_crlf(buf, len);

    (void)arg;
    if (!crlf)
        return 0;
    return (size_t)(crlf - buf) + 2 == len ? 1 : -1;
}

/* the reply to "get KEY", for icache_recv */
struct get_reply {
    const char *key;
    size_t keylen;
    size_t data_off, data_len;
};

static int icache_get_done(const char *buf, size_t len, void *arg)
{
    struct get_reply *g = arg;

    return oauth_icache_parse_get_reply(buf, len, g->key, g->keylen, &g->data_off, &g->data_len);
}

/* An exchange failed: the stream cannot be trusted any more. */
static int icache_broken(struct oauth_icache *ic, time_t now, struct oauth_err *why)
{
    char reason[OAUTH_ERR_REASON_MAX];

    if (ic->fd >= 0)
        close(ic->fd);
    ic->fd = -1;
    ic->down_until = now + OAUTH_ICACHE_RETRY;
    ic->stats.failures++;
    if (why) {
        snprintf(reason, sizeof(reason), "%s", why->reason);
        oauth_why(why, "shared introspection cache %.128s unavailable: %s; asking the provider",
                  ic->where, reason);
    }
    return -1;
}

/* Start an exchange: 0 with a connection, or -1 (the server is being left
 * alone, or cannot be reached). */
static int icache_begin(struct oauth_icache *ic, time_t now, long long *deadline,
                        struct oauth_err *why)
{
    if (now < ic->down_until) {
        oauth_why(why, "shared introspection cache %.128s unavailable (retried after %d s)",
                  ic->where, OAUTH_ICACHE_RETRY);
        ic->stats.failures++;
        return -1;
    }
    *deadline = icache_ms() + ic->timeout_ms;
    if (icache_connect(ic, *deadline, why) != 0)
        return icache_broken(ic, now, why);
    return 0;
}

static void icache_key(const unsigned char key[OAUTH_ICACHE_KEYLEN], char out[KEY_MAX + 1])
{
    memcpy(out, KEY_PREFIX, sizeof(KEY_PREFIX) - 1);
    sm_hex_encode(key, OAUTH_ICACHE_KEYLEN, out + sizeof(KEY_PREFIX) - 1);
    out[sizeof(KEY_PREFIX) - 1 + 2 * OAUTH_ICACHE_KEYLEN] = '\0';
}

enum oauth_icache_answer oauth_icache_get(struct oauth_icache *ic,
                                          const unsigned char key[OAUTH_ICACHE_KEYLEN],
                                          time_t now, time_t *until, json_t **claims,
                                          struct oauth_err *why)
{
    char k[KEY_MAX + 1], req[KEY_MAX + 16];
    char *buf;
    size_t cap = MAX_LINE + OAUTH_ICACHE_MAX_VALUE + 16, len = 0;
    struct get_reply g = {0};
    enum oauth_icache_answer a = OAUTH_ICACHE_MISS;
    struct oauth_err mine;
    long long deadline;

    *claims = NULL;
    *until = 0;
    if (!why)
        why = &mine;
    oauth_err_clear(why);
    if (!(buf = malloc(cap)))
        return OAUTH_ICACHE_MISS;
    icache_key(key, k);
    g.key = k;
    g.keylen = strlen(k);
    snprintf(req, sizeof(req), "get %s\r\n", k);
    pthread_mutex_lock(&ic->mu);
    ic->stats.gets++;
    if (icache_begin(ic, now, &deadline, why) != 0)
        goto out;
    if (icache_send(ic, req, strlen(req), deadline, why) != 0
        || icache_recv(ic, buf, cap, &len, icache_get_done, &g, deadline, why) != 0) {
        icache_broken(ic, now, why);
        goto out;
    }
    if (g.data_off) {
        a = oauth_icache_decode(ic->secret, ic->secret_len, key, buf + g.data_off, g.data_len,
                                now, until, claims, why);
        if (a == OAUTH_ICACHE_MISS && why->reason[0])
            ic->stats.refused++;
        else if (a != OAUTH_ICACHE_MISS)
            ic->stats.hits++;
    }
out:
    pthread_mutex_unlock(&ic->mu);
    sm_erase(buf, len);
    free(buf);
    return a;
}

/* Send req (a command line and its data) and read one line into line. */
static int icache_command(struct oauth_icache *ic, const char *req, size_t reqlen, time_t now,
                          char line[MAX_LINE + 1], struct oauth_err *why)
{
    long long deadline;
    size_t len = 0;

    if (icache_begin(ic, now, &deadline, why) != 0)
        return -1;
    if (icache_send(ic, req, reqlen, deadline, why) != 0
        || icache_recv(ic, line, MAX_LINE, &len, icache_line_done, NULL, deadline, why) != 0)
        return icache_broken(ic, now, why);
    line[len - 2] = '\0';
    return 0;
}

int oauth_icache_put(struct oauth_icache *ic, const unsigned char key[OAUTH_ICACHE_KEYLEN],
                     const json_t *claims, time_t until, time_t now, struct oauth_err *why)
{
    char k[KEY_MAX + 1], line[MAX_LINE + 1];
    char *val = NULL, *req;
    size_t vlen = 0, cap;
    int n, rc = -1;

    if (until <= now || until - now > OAUTH_ICACHE_MAX_TTL) {
        oauth_why(why, "shared introspection cache: lifetime out of range");
        return -1;
    }
    if (oauth_icache_encode(ic->secret, ic->secret_len, key, claims, until, &val, &vlen) != 0) {
        oauth_why(why, "shared introspection cache: the answer cannot be stored (too large)");
        return -1;
    }
    icache_key(key, k);
    cap = vlen + KEY_MAX + 64;
    if (!(req = malloc(cap))) {
        oauth_secret_free(val);
        return -1;
    }
    n = snprintf(req, cap, "set %s 0 %lld %zu\r\n", k, (long long)(until - now), vlen);
    memcpy(req + n, val, vlen);
    memcpy(req + n + vlen, "\r\n", 2);
    pthread_mutex_lock(&ic->mu);
    if (icache_command(ic, req, (size_t)n + vlen + 2, now, line, why) == 0) {
        if (strcmp(line, "STORED") == 0) {
            ic->stats.stores++;
            rc = 0;
        } else {
            /* SERVER_ERROR out of memory, ...: the stream is still whole */
            oauth_why(why, "shared introspection cache %.128s did not store an answer",
                      ic->where);
        }
    }
    pthread_mutex_unlock(&ic->mu);
    sm_erase(req, (size_t)n + vlen + 2);
    free(req);
    sm_erase(val, vlen);
    free(val);
    return rc;
}

/* a reply that is a number */
static int icache_number(const char *line, unsigned long *v)
{
    size_t n = strlen(line);
    unsigned long long x = 0;
    size_t i;

    if (n == 0 || n > 19 || strspn(line, "0123456789") != n)
        return -1;
    for (i = 0; i < n; i++)
        x = x * 10 + (unsigned)(line[i] - '0');
    *v = (unsigned long)x;
    return 0;
}

int oauth_icache_count(struct oauth_icache *ic, const char *name, long ttl, time_t now,
                       unsigned long *count, struct oauth_err *why)
{
    char req[KEY_MAX + 64], add[KEY_MAX + 64], line[MAX_LINE + 1];
    int attempt, rc = -1;

    if (strlen(name) > 64 || strpbrk(name, " \r\n") || ttl <= 0 || ttl > OAUTH_ICACHE_MAX_TTL) {
        oauth_why(why, "shared counter: bad name or life");
        return -1;
    }
    snprintf(req, sizeof(req), "incr " KEY_PREFIX "%s 1\r\n", name);
    snprintf(add, sizeof(add), "add " KEY_PREFIX "%s 0 %ld 1\r\n1\r\n", name, ttl);
    pthread_mutex_lock(&ic->mu);
    /* incr; when absent, add it at 1; when someone else added it first, incr again */
    for (attempt = 0; attempt < 2 && rc < 0; attempt++) {
        if (icache_command(ic, req, strlen(req), now, line, why) != 0)
            break;
        if (icache_number(line, count) == 0) {
            rc = 0;
            break;
        }
        if (strcmp(line, "NOT_FOUND") != 0) {
            oauth_why(why, "shared introspection cache %.128s: counter refused", ic->where);
            break;
        }
        if (icache_command(ic, add, strlen(add), now, line, why) != 0)
            break;
        if (strcmp(line, "STORED") == 0) {
            *count = 1;
            rc = 0;
        } else if (strcmp(line, "NOT_STORED") != 0) {
            oauth_why(why, "shared introspection cache %.128s: counter refused", ic->where);
            break;
        }
    }
    pthread_mutex_unlock(&ic->mu);
    return rc;
}
