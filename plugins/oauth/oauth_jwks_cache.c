/* The host's copy on disk of fetched documents: see oauth_jwks_cache.h. */
#include "config.h"
#include "oauth_jwks_cache.h"
#include "oauth_util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sasl-mechs/crypto.h>
#include <sasl-mechs/hex.h>

#define MAGIC "sasl-mechs-cache 1 "
#define HEADER_MAX (sizeof(MAGIC) + 48)   /* magic, two numbers, newline */
#define URL_MAX 4096

/* dir/<sha256(url) hex><suffix> into path; -1 when it does not fit. */
static int cache_path(const char *dir, const char *url, const char *suffix, char *path,
                      size_t size, struct oauth_err *err)
{
    unsigned char md[32];
    char hex[2 * sizeof(md) + 1];
    size_t mdlen = 0;
    int n;

    if (sm_digest("SHA256", url, strlen(url), md, sizeof(md), &mdlen) != 0
        || mdlen != sizeof(md)) {
        oauth_why(err, "SHA-256 is not available");
        return -1;
    }
    sm_hex_encode(md, sizeof(md), hex);
    hex[2 * sizeof(md)] = '\0';
    n = snprintf(path, size, "%s/%s%s", dir, hex, suffix);
    if (n < 0 || (size_t)n >= size) {
        oauth_why(err, "cache folder %.128s: path too long", dir);
        return -1;
    }
    return 0;
}

int oauth_jwks_cache_dir_ok(const char *dir, struct oauth_err *err)
{
    struct stat st;

    if (stat(dir, &st) != 0) {
        oauth_why(err, "cache folder %.200s: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        oauth_why(err, "cache folder %.200s is not a folder", dir);
        return -1;
    }
    if (st.st_uid != geteuid() && st.st_uid != 0) {
        oauth_why(err, "cache folder %.200s is owned by uid %lu, neither this process's user "
                  "(uid %lu) nor root", dir, (unsigned long)st.st_uid,
                  (unsigned long)geteuid());
        return -1;
    }
    if (st.st_mode & S_IWOTH) {
        oauth_why(err, "cache folder %.200s is writable by others (mode %04o): chmod o-w", dir,
                  (unsigned)(st.st_mode & 07777));
        return -1;
    }
    return 0;
}

/* The header's two numbers; the offset of the document, or 0 when the
 * header is not ours or not for url. */
static size_t cache_parse(const char *buf, size_t n, const char *url, time_t *fetched_at)
{
    size_t ulen = strlen(url), off = sizeof(MAGIC) - 1;
    const char *p = buf + off, *nl;
    char *end;
    unsigned long long t, l;

    if (n < off || memcmp(buf, MAGIC, off) != 0)
        return 0;
    if (!(nl = memchr(p, '\n', n - off < HEADER_MAX ? n - off : HEADER_MAX)))
        return 0;
    errno = 0;
    t = strtoull(p, &end, 10);
    if (errno || end == p || *end != ' ' || t > (unsigned long long)INT64_MAX)
        return 0;
    p = end + 1;
    l = strtoull(p, &end, 10);
    if (errno || end == p || end != nl || l != ulen)
        return 0;
    off = (size_t)(nl + 1 - buf);
    if (n - off < ulen + 1 || memcmp(buf + off, url, ulen) != 0 || buf[off + ulen] != '\n')
        return 0;
    *fetched_at = (time_t)t;
    return off + ulen + 1;
}

enum oauth_jwks_cache_status oauth_jwks_cache_read(const char *dir, const char *url, size_t max,
                                                   char **doc, size_t *len, time_t *fetched_at,
                                                   struct oauth_err *err)
{
    char path[PATH_MAX], *buf = NULL;
    size_t n = 0, off;
    struct stat st;
    struct oauth_err rerr = {0};

    *doc = NULL;
    *len = 0;
    if (cache_path(dir, url, ".doc", path, sizeof(path), err) != 0)
        return OAUTH_JWKS_CACHE_ERROR;
    if (access(path, F_OK) != 0 && errno == ENOENT)
        return OAUTH_JWKS_CACHE_ABSENT;
    /* GROUP: not a symbolic link, nothing for others; the owner and g+w
     * are checked below, on the descriptor the bytes came from */
    switch (oauth_read_file(path, "cached copy", OAUTH_FILE_GROUP,
                            HEADER_MAX + strlen(url) + 1 + max, &buf, &n, &st, &rerr)) {
    case OAUTH_OK:
        break;
    case OAUTH_ERR_INTERNAL:
        oauth_why(err, "%s", rerr.reason);
        return OAUTH_JWKS_CACHE_ERROR;
    default:
        oauth_why(err, "%s", rerr.reason);
        return OAUTH_JWKS_CACHE_BAD;
    }
    if (st.st_uid != geteuid() || (st.st_mode & S_IWGRP)) {
        oauth_why(err, "cached copy %.200s is %s (uid %lu, mode %04o): not trusted", path,
                  st.st_uid != geteuid() ? "owned by another user" : "writable by its group",
                  (unsigned long)st.st_uid, (unsigned)(st.st_mode & 07777));
        free(buf);
        return OAUTH_JWKS_CACHE_BAD;
    }
    if (!(off = cache_parse(buf, n, url, fetched_at))) {
        oauth_why(err, "cached copy %.200s is corrupt or not for this URL", path);
        free(buf);
        return OAUTH_JWKS_CACHE_BAD;
    }
    memmove(buf, buf + off, n - off);
    buf[n - off] = '\0';
    *doc = buf;
    *len = n - off;
    return OAUTH_JWKS_CACHE_OK;
}

static int write_all(int fd, const char *p, size_t n)
{
    ssize_t w;

    while (n) {
        if ((w = write(fd, p, n)) < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

enum oauth_jwks_cache_status oauth_jwks_cache_write(const char *dir, const char *url,
                                                    const char *doc, size_t len,
                                                    time_t fetched_at, struct oauth_err *err)
{
    char path[PATH_MAX], tmp[PATH_MAX + 16], head[HEADER_MAX + 1];
    int fd, hn, dfd;

    if (strlen(url) > URL_MAX) {
        oauth_why(err, "URL too long to cache");
        return OAUTH_JWKS_CACHE_ERROR;
    }
    if (oauth_jwks_cache_dir_ok(dir, err) != 0
        || cache_path(dir, url, ".doc", path, sizeof(path), err) != 0)
        return OAUTH_JWKS_CACHE_ERROR;
    snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
    if ((fd = mkstemp(tmp)) < 0) {
        oauth_why(err, "cache folder %.200s: cannot create a file: %s", dir, strerror(errno));
        return OAUTH_JWKS_CACHE_ERROR;
    }
    hn = snprintf(head, sizeof(head), MAGIC "%lld %zu\n", (long long)fetched_at, strlen(url));
    if (fchmod(fd, 0640) != 0 || write_all(fd, head, (size_t)hn) != 0
        || write_all(fd, url, strlen(url)) != 0 || write_all(fd, "\n", 1) != 0
        || write_all(fd, doc, len) != 0 || fsync(fd) != 0) {
        oauth_why(err, "cache file %.200s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return OAUTH_JWKS_CACHE_ERROR;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        oauth_why(err, "cache file %.200s: rename: %s", path, strerror(errno));
        unlink(tmp);
        return OAUTH_JWKS_CACHE_ERROR;
    }
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return OAUTH_JWKS_CACHE_OK;
}

static long cache_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int oauth_jwks_cache_lock(const char *dir, const char *url, long timeout_ms,
                          time_t *last_attempt, struct oauth_err *err)
{
    char path[PATH_MAX], buf[32];
    struct timespec nap = {0, 10 * 1000000};
    struct stat st;
    long t0;
    ssize_t n;
    int fd, tries;

    *last_attempt = 0;
    if (oauth_jwks_cache_dir_ok(dir, err) != 0
        || cache_path(dir, url, ".lock", path, sizeof(path), err) != 0)
        return -1;
    for (tries = 0;; tries++) {
        fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0640);
        if (fd < 0 && errno != ELOOP) {
            oauth_why(err, "lock file %.200s: %s", path, strerror(errno));
            return -1;
        }
        if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid())
            break;
        if (fd >= 0)
            close(fd);
        /* another user's (a test run as root, a former owner of the folder)
         * or a symbolic link: replaced by a lock of our own, once; what it
         * recorded is lost, which costs at most one more fetch */
        if (tries > 0 || unlink(path) != 0) {
            oauth_why(err, "lock file %.200s is not a regular file of this process's user",
                      path);
            return -1;
        }
    }
    t0 = cache_ms();
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            oauth_why(err, "lock file %.200s: flock: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (cache_ms() - t0 > timeout_ms) {
            oauth_why(err, "lock file %.200s held by another process for more than %ld ms",
                      path, timeout_ms);
            close(fd);
            return -1;
        }
        nanosleep(&nap, NULL);
    }
    if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) > 0) {
        buf[n] = '\0';
        *last_attempt = (time_t)strtoll(buf, NULL, 10);
    }
    return fd;
}

void oauth_jwks_cache_unlock(int fd, time_t attempt)
{
    char buf[32];
    int n;

    if (fd < 0)
        return;
    if (attempt) {
        n = snprintf(buf, sizeof(buf), "%lld\n", (long long)attempt);
        if (ftruncate(fd, 0) == 0)
            (void)!pwrite(fd, buf, (size_t)n, 0);
    }
    close(fd); /* releases the flock */
}

/* ---- one fetch through the host's copy ------------------------------------ */

static void cache_note(const struct oauth_cache_fetch *f, const struct oauth_err *e)
{
    if (f->note)
        f->note(f->ctx, e->reason);
}

/* The host's copy when it may stand for a fetch (see the header): 1 taken,
 * 0 not (absent, too old, not newer, refused: the refusal noted when locked,
 * and *bad set). */
static int cache_try_disk(const struct oauth_cache_fetch *f, int locked, time_t *fetched_at,
                          int *bad)
{
    struct oauth_err e = {0};
    char *doc = NULL;
    size_t len = 0;
    time_t at = 0;
    int taken = 0;

    switch (oauth_jwks_cache_read(f->dir, f->url, f->max, &doc, &len, &at, &e)) {
    case OAUTH_JWKS_CACHE_OK:
        break;
    case OAUTH_JWKS_CACHE_ABSENT:
        return 0;
    default:
        /* noted once, by the process that will replace it */
        if (locked)
            cache_note(f, &e);
        *bad = 1;
        return 0;
    }
    if (f->now - at < f->max_age && at <= f->now && (!f->have || at > f->have)
        && (!f->want || f->now - at < f->interval)) {
        if (f->take(f->ctx, doc, len, &e) == 0) {
            *fetched_at = at;
            taken = 1;
        } else {
            if (locked) {
                oauth_why(&e, "cached copy of %.200s refused: %s", f->url, e.reason);
                cache_note(f, &e);
            }
            *bad = 1;
        }
    }
    free(doc);
    return taken;
}

/* From the network, then take. */
static enum oauth_cache_result cache_get(const struct oauth_cache_fetch *f, char **doc,
                                         size_t *len, struct oauth_err *err)
{
    *doc = NULL;
    *len = 0;
    if (f->get(f->ctx, doc, len, err) != OAUTH_OK)
        return OAUTH_CACHE_FAILED;
    if (f->take(f->ctx, *doc, *len, err) != 0) {
        free(*doc);
        *doc = NULL;
        return OAUTH_CACHE_FAILED;
    }
    return OAUTH_CACHE_FETCHED;
}

enum oauth_cache_result oauth_cache_fetch(const struct oauth_cache_fetch *f, time_t *fetched_at,
                                          struct oauth_err *err)
{
    struct oauth_cache_fetch any;
    enum oauth_cache_result r;
    struct oauth_err e = {0};
    time_t last = 0;
    char *doc = NULL;
    size_t len = 0;
    int fd, bad = 0;

    *fetched_at = f->now;
    if (!f->dir) {
        r = cache_get(f, &doc, &len, err);
        free(doc);
        return r;
    }
    /* a folder others may write to holds nothing to trust */
    if (oauth_jwks_cache_dir_ok(f->dir, &e) != 0) {
        oauth_why(&e, "JWKS cache not used: %s", e.reason);
        cache_note(f, &e);
        r = cache_get(f, &doc, &len, err);
        free(doc);
        return r;
    }
    /* most often: another process has fetched it already, no lock needed */
    if (cache_try_disk(f, 0, fetched_at, &bad))
        return OAUTH_CACHE_FROM_DISK;
    if ((fd = oauth_jwks_cache_lock(f->dir, f->url, f->lock_timeout_ms, &last, &e)) < 0) {
        oauth_why(&e, "JWKS cache not used for this fetch: %s", e.reason);
        cache_note(f, &e);
        r = cache_get(f, &doc, &len, err);
        free(doc);
        return r;
    }
    bad = 0;
    if (cache_try_disk(f, 1, fetched_at, &bad)) {
        oauth_jwks_cache_unlock(fd, 0);
        return OAUTH_CACHE_FROM_DISK;
    }
    /* a copy newer than the caller's (any copy, when it has none), however old */
    any = *f;
    any.want = 0;
    any.max_age = LONG_MAX;
    if (f->want && f->have && last <= f->now && f->now - last < f->interval) {
        /* the host tried less than an interval ago: no fetch, but a copy
         * newer than the caller's is still news */
        r = !bad && cache_try_disk(&any, 1, fetched_at, &bad) ? OAUTH_CACHE_FROM_DISK
                                                                : OAUTH_CACHE_UNCHANGED;
        oauth_jwks_cache_unlock(fd, 0);
        return r;
    }
    if (!bad && !f->have && last <= f->now && f->now - last < f->interval
        && cache_try_disk(&any, 1, fetched_at, &bad)) {
        /* the host tried less than an interval ago (the provider may be
         * down): a process with no keys takes the copy, however old, as a
         * process that has keys keeps them when a fetch fails */
        oauth_jwks_cache_unlock(fd, 0);
        return OAUTH_CACHE_FROM_DISK;
    }
    r = cache_get(f, &doc, &len, err);
    if (r == OAUTH_CACHE_FETCHED
        && oauth_jwks_cache_write(f->dir, f->url, doc, len, f->now, &e) != OAUTH_JWKS_CACHE_OK) {
        oauth_why(&e, "JWKS cache not written: %s", e.reason);
        cache_note(f, &e);
    }
    /* the fetch failed: the same, for a process with no keys */
    if (r == OAUTH_CACHE_FAILED && !bad && !f->have && cache_try_disk(&any, 1, fetched_at, &bad))
        r = OAUTH_CACHE_FROM_DISK;
    oauth_jwks_cache_unlock(fd, f->now);
    free(doc);
    return r;
}
