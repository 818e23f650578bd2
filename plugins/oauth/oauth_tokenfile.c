/* The client's token file, refreshed under a lock: see oauth_tokenfile.h. */
#include "config.h"
#include "oauth_tokenfile.h"
#include "oauth_grant.h"
#include "oauth_advice.h"
#include "oauth_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <sasl-mechs/crypto.h>
#include <sasl-mechs/secret.h>

#define MAX_FILE (64 * 1024)
#define MAX_TOKEN 16384
#define MAX_STRING 4096           /* endpoint, client id, secret, scope */
#define MAX_EXPIRES_AT ((json_int_t)1 << 40)
#define MAX_EXPIRES_IN (10L * 366 * 24 * 3600)

const char *oauth_tokenfile_status_text(enum oauth_tokenfile_status s)
{
    switch (s) {
    case OAUTH_TOKENFILE_OK: return "ok";
    case OAUTH_TOKENFILE_UNREADABLE: return "token file unreadable";
    case OAUTH_TOKENFILE_MALFORMED: return "token file malformed";
    case OAUTH_TOKENFILE_EXPIRED: return "token expired and cannot be refreshed";
    case OAUTH_TOKENFILE_UNAVAILABLE: return "token endpoint unavailable";
    case OAUTH_TOKENFILE_REJECTED: return "refresh rejected";
    case OAUTH_TOKENFILE_BAD_RESPONSE: return "token endpoint answer unusable";
    case OAUTH_TOKENFILE_LOCK_FAILED: return "token file lock not taken";
    case OAUTH_TOKENFILE_WRITE_FAILED: return "token file not written";
    case OAUTH_TOKENFILE_ERROR: return "internal error";
    }
    return "unknown status";
}

void oauth_tokenfile_options_default(struct oauth_tokenfile_options *o)
{
    memset(o, 0, sizeof(*o));
    o->refresh_window = OAUTH_TOKENFILE_DEFAULT_WINDOW;
    o->dir_fd = AT_FDCWD;
    o->lock_timeout_ms = 30000;
    oauth_http_options_default(&o->http);
}

static const struct oauth_owned tokenfile_token_owned[] = {
    OAUTH_OWNED_SECRET(struct oauth_token, access_token),
};

void oauth_token_clear(struct oauth_token *t)
{
    OAUTH_OWNED_CLEAR(t, tokenfile_token_owned);
}

/* ---- reading and checking the file ----------------------------------------- */

struct tokfile {
    const char *path;             /* as the caller named it, for messages */
    const char *dir_name;         /* the folder a relative path is in, or NULL */
    json_t *root;
    struct stat st;
    const char *access_token;     /* NULL when absent or "" */
    json_int_t expires_at;
    json_int_t obtained_at;       /* -1 when absent */
    const char *refresh_token, *token_endpoint, *client_id, *client_secret, *scope;
    const char *key_file, *cert_file; /* private_key_jwt */
    enum oauth_grant_auth auth;
    int client_credentials;       /* grant_type "client_credentials" */
};

static void tokfile_free(struct tokfile *f)
{
    /* the strings live in root; jansson frees them without erasing */
    oauth_grant_json_free(f->root);
    memset(f, 0, sizeof(*f));
}

/* A string member: 0 absent, 1 present (in *out), -1 wrong (the reason in err). */
static int tokenfile_get_string(json_t *root, const char *name, size_t max, const char **out,
                                struct oauth_err *err)
{
    json_t *v = json_object_get(root, name);
    size_t n;

    *out = NULL;
    if (!v)
        return 0;
    if (!json_is_string(v)) {
        oauth_why(err, "\"%s\" is not a string", name);
        return -1;
    }
    n = json_string_length(v);
    if (n > max || strlen(json_string_value(v)) != n) {
        oauth_why(err, "\"%s\" is longer than %zu bytes or contains NUL", name, max);
        return -1;
    }
    *out = json_string_value(v);
    return 1;
}

/* A time member (Unix seconds, an integer 0..MAX_EXPIRES_AT): 0 absent,
 * 1 present (in *out), -1 wrong (the reason in err). */
static int tokenfile_get_time(json_t *root, const char *name, json_int_t *out,
                              struct oauth_err *err)
{
    json_t *v = json_object_get(root, name);

    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0
        || json_integer_value(v) > MAX_EXPIRES_AT) {
        oauth_why(err, "\"%s\" is not an integer number of Unix seconds", name);
        return -1;
    }
    *out = json_integer_value(v);
    return 1;
}

static enum oauth_tokenfile_status tokenfile_parse(struct tokfile *f, struct oauth_err *err)
{
    const char *method = NULL, *grant = NULL, *renewable;
    int has;

    if (!json_is_object(f->root)) {
        oauth_why(err, "not a JSON object");
        return OAUTH_TOKENFILE_MALFORMED;
    }
    if (tokenfile_get_string(f->root, "access_token", MAX_TOKEN, &f->access_token, err) < 0
        || tokenfile_get_string(f->root, "refresh_token", MAX_TOKEN, &f->refresh_token, err) < 0
        || tokenfile_get_string(f->root, "token_endpoint", MAX_STRING, &f->token_endpoint, err) < 0
        || tokenfile_get_string(f->root, "client_id", MAX_STRING, &f->client_id, err) < 0
        || tokenfile_get_string(f->root, "client_secret", MAX_STRING, &f->client_secret, err) < 0
        || tokenfile_get_string(f->root, "scope", MAX_STRING, &f->scope, err) < 0
        || tokenfile_get_string(f->root, "token_endpoint_auth_method", 64, &method, err) < 0)
        return OAUTH_TOKENFILE_MALFORMED;
    if (f->access_token && !f->access_token[0])
        f->access_token = NULL;
    if (f->refresh_token && !f->refresh_token[0])
        f->refresh_token = NULL;
    if (f->access_token
        && !oauth_grant_token_chars_ok(f->access_token, strlen(f->access_token), 0)) {
        oauth_why(err, "\"access_token\" contains a byte outside %%x21-7E");
        return OAUTH_TOKENFILE_MALFORMED;
    }
    if (f->refresh_token
        && !oauth_grant_token_chars_ok(f->refresh_token, strlen(f->refresh_token), 1)) {
        oauth_why(err, "\"refresh_token\" contains a byte outside %%x20-7E");
        return OAUTH_TOKENFILE_MALFORMED;
    }
    if ((has = tokenfile_get_time(f->root, "expires_at", &f->expires_at, err)) < 0)
        return OAUTH_TOKENFILE_MALFORMED;
    if (!has && f->access_token) {
        oauth_why(err, "\"access_token\" without \"expires_at\"");
        return OAUTH_TOKENFILE_MALFORMED;
    }
    f->obtained_at = -1;
    if (tokenfile_get_time(f->root, "obtained_at", &f->obtained_at, err) < 0)
        return OAUTH_TOKENFILE_MALFORMED;
    if (f->obtained_at >= 0 && f->access_token && f->obtained_at > f->expires_at) {
        oauth_why(err, "\"obtained_at\" is later than \"expires_at\"");
        return OAUTH_TOKENFILE_MALFORMED;
    }
    if (tokenfile_get_string(f->root, "grant_type", 64, &grant, err) < 0
        || tokenfile_get_string(f->root, "client_assertion_key", MAX_STRING, &f->key_file,
                                err) < 0
        || tokenfile_get_string(f->root, "client_assertion_cert", MAX_STRING, &f->cert_file,
                                err) < 0)
        return OAUTH_TOKENFILE_MALFORMED;
    if (grant && strcmp(grant, "client_credentials") == 0) {
        f->client_credentials = 1;
    } else if (grant && strcmp(grant, "refresh_token") != 0) {
        oauth_why(err, "\"grant_type\" is not refresh_token or client_credentials");
        return OAUTH_TOKENFILE_MALFORMED;
    }
    if (!f->access_token && !f->refresh_token && !f->client_credentials) {
        oauth_why(err, "neither \"access_token\" nor \"refresh_token\"");
        return OAUTH_TOKENFILE_MALFORMED;
    }
    if (f->client_credentials && f->refresh_token) {
        oauth_why(err, "\"grant_type\" client_credentials with a \"refresh_token\"");
        return OAUTH_TOKENFILE_MALFORMED;
    }
    renewable = f->refresh_token ? "\"refresh_token\"" : f->client_credentials
                    ? "\"grant_type\" client_credentials" : NULL;
    if (renewable && (!f->token_endpoint || !f->token_endpoint[0])) {
        oauth_why(err, "%s without \"token_endpoint\"", renewable);
        return OAUTH_TOKENFILE_MALFORMED;
    }
    if (renewable && (!f->client_id || !f->client_id[0])) {
        oauth_why(err, "%s without \"client_id\"", renewable);
        return OAUTH_TOKENFILE_MALFORMED;
    }
    if (method) {
        if (oauth_grant_auth_parse(method, &f->auth) != 0) {
            oauth_why(err, "\"token_endpoint_auth_method\" is not client_secret_basic, "
                           "client_secret_post, private_key_jwt or none");
            return OAUTH_TOKENFILE_MALFORMED;
        }
    } else {
        f->auth = f->client_secret ? OAUTH_GRANT_AUTH_BASIC : OAUTH_GRANT_AUTH_NONE;
    }
    if ((f->auth == OAUTH_GRANT_AUTH_BASIC || f->auth == OAUTH_GRANT_AUTH_POST)
        && !f->client_secret) {
        oauth_why(err, "\"token_endpoint_auth_method\" %s needs a \"client_secret\"",
                  method ? method : "client_secret_basic");
        return OAUTH_TOKENFILE_MALFORMED;
    }
    if (f->auth == OAUTH_GRANT_AUTH_PRIVATE_KEY_JWT && !f->key_file) {
        oauth_why(err, "\"token_endpoint_auth_method\" private_key_jwt needs a "
                       "\"client_assertion_key\"");
        return OAUTH_TOKENFILE_MALFORMED;
    }
    if (f->client_credentials && f->auth == OAUTH_GRANT_AUTH_NONE) {
        oauth_why(err, "\"grant_type\" client_credentials needs a client_secret or "
                       "private_key_jwt");
        return OAUTH_TOKENFILE_MALFORMED;
    }
    return OAUTH_TOKENFILE_OK;
}

static enum oauth_tokenfile_status tokenfile_load(const struct oauth_tokenfile_options *o,
                                                  const char *path, struct tokfile *f,
                                                  struct oauth_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    json_error_t jerr;
    enum oauth_tokenfile_status st;
    enum oauth_err_class rc;

    memset(f, 0, sizeof(*f));
    rc = oauth_read_file_at(o->dir_fd, path, "token file", OAUTH_FILE_GROUP, MAX_FILE, &buf, &len,
                            &f->st, err);
    if (rc != OAUTH_OK)
        return rc == OAUTH_ERR_INTERNAL ? OAUTH_TOKENFILE_ERROR : OAUTH_TOKENFILE_UNREADABLE;
    /* jansson's error text may quote the input: report the position only */
    f->root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!f->root) {
        oauth_why(err, "token file %s is not valid JSON (line %d, column %d)", path,
                  jerr.line, jerr.column);
        st = OAUTH_TOKENFILE_MALFORMED;
    } else if ((st = tokenfile_parse(f, err)) != OAUTH_TOKENFILE_OK) {
        oauth_why(err, "token file %s: %s", path, err->reason);
    }
    f->path = path;
    f->dir_name = path[0] != '/' ? o->dir_name : NULL;
    sm_erase(buf, len);
    free(buf);
    if (st != OAUTH_TOKENFILE_OK)
        tokfile_free(f);
    return st;
}

/* The refresh window for this token: the configured one, but never more
 * than half the token's lifetime when the file knows it (obtained_at), so
 * that a token that lives no longer than the window (Keycloak's 300 s
 * against the default 300 s) is not refreshed on every use. */
static json_int_t tokenfile_due_window(const struct tokfile *f, long window)
{
    if (f->obtained_at >= 0 && f->expires_at >= f->obtained_at
        && (f->expires_at - f->obtained_at) / 2 < (json_int_t)window)
        return (f->expires_at - f->obtained_at) / 2;
    return window;
}

static int tokenfile_fresh(const struct tokfile *f, time_t now, long window)
{
    return f->access_token && f->expires_at > (json_int_t)now + tokenfile_due_window(f, window);
}

static enum oauth_tokenfile_status tokenfile_give(const char *tok, time_t expires_at, int refreshed,
                                                  struct oauth_token *out, struct oauth_err *err)
{
    if (!(out->access_token = strdup(tok))) {
        oauth_why(err, "out of memory");
        return OAUTH_TOKENFILE_ERROR;
    }
    out->expires_at = expires_at;
    out->refreshed = refreshed;
    return OAUTH_TOKENFILE_OK;
}

/* ---- the lock --------------------------------------------------------------- */

static long tokenfile_elapsed_ms(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)(t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The lock lives in <path>.lock, a file that is never replaced (the token
 * file itself is, by rename, so a lock on it would not exclude a process
 * that opened the new file).  Returns the descriptor holding the lock. */
static int tokenfile_take_lock(int dirfd, const char *path, const struct stat *tst,
                               long timeout_ms, struct oauth_err *err,
                               enum oauth_tokenfile_status *st)
{
    struct timespec t0, nap = {0, 5 * 1000000};
    struct stat lst;
    char *lp;
    size_t n = strlen(path);
    int fd, created;

    *st = OAUTH_TOKENFILE_LOCK_FAILED;
    if (!(lp = malloc(n + sizeof(".lock")))) {
        oauth_why(err, "out of memory");
        *st = OAUTH_TOKENFILE_ERROR;
        return -1;
    }
    memcpy(lp, path, n);
    memcpy(lp + n, ".lock", sizeof(".lock"));
    /* created here, or an existing file taken only when it is plainly a
     * lock file of ours: never chowned (a hard link planted by the
     * directory's owner would make root chown its target) */
    fd = openat(dirfd, lp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                (tst->st_mode & 0660) | 0600);
    created = fd >= 0;
    if (fd < 0 && errno == EEXIST) {
        fd = openat(dirfd, lp, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 && errno == EACCES)
            fd = openat(dirfd, lp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    }
    if (fd < 0) {
        oauth_why(err, "lock file %s: %s", lp, strerror(errno));
        free(lp);
        return -1;
    }
    if (fstat(fd, &lst) != 0 || !S_ISREG(lst.st_mode)) {
        oauth_why(err, "lock file %s is not a regular file", lp);
        goto fail;
    }
    if (!created && (lst.st_nlink != 1
                     || (lst.st_uid != geteuid() && lst.st_uid != tst->st_uid))) {
        oauth_why(err, "lock file %s is not ours (%ld links, owner uid %ld): remove it",
                  lp, (long)lst.st_nlink, (long)lst.st_uid);
        goto fail;
    }
    /* created by root: hand it to the token file's owner, who must be able
     * to open it next time */
    if (created && geteuid() == 0
        && (lst.st_uid != tst->st_uid || lst.st_gid != tst->st_gid))
        (void)!fchown(fd, tst->st_uid, tst->st_gid);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            oauth_why(err, "lock file %s: flock: %s", lp, strerror(errno));
            goto fail;
        }
        if (tokenfile_elapsed_ms(&t0) >= timeout_ms) {
            oauth_why(err, "lock file %s held by another process for more than %ld ms",
                      lp, timeout_ms);
            goto fail;
        }
        nanosleep(&nap, NULL);
        if (nap.tv_nsec < 50 * 1000000)
            nap.tv_nsec += 5 * 1000000;
    }
    free(lp);
    *st = OAUTH_TOKENFILE_OK;
    return fd;
fail:
    close(fd);
    free(lp);
    return -1;
}

/* Take the lock (created with the owner and mode of the file f was read
 * from), forget f, and read the file again under the lock into f (another
 * process may have changed it meanwhile): the lock's descriptor, or -1 with
 * f empty and the status in *st. */
static int tokenfile_lock_reread(const struct oauth_tokenfile_options *o, const char *path,
                                 struct tokfile *f, enum oauth_tokenfile_status *st,
                                 struct oauth_err *err)
{
    int lockfd = tokenfile_take_lock(o->dir_fd, path, &f->st, o->lock_timeout_ms, err, st);

    tokfile_free(f);
    if (lockfd < 0)
        return -1;
    if ((*st = tokenfile_load(o, path, f, err)) != OAUTH_TOKENFILE_OK) {
        close(lockfd);
        return -1;
    }
    return lockfd;
}

/* ---- the temporary file ------------------------------------------------------- */

struct tmpfile {
    char *path, *dir;
    int fd, dirfd;                /* dirfd: what path and dir are relative to */
};

static void tmpfile_drop(struct tmpfile *t)
{
    if (t->fd >= 0)
        close(t->fd);
    if (t->path)
        unlinkat(t->dirfd, t->path, 0);
    free(t->path);
    free(t->dir);
    t->path = t->dir = NULL;
    t->fd = -1;
}

/* In the token file's directory, with its mode, owner and group; fails
 * rather than let the rewritten file change hands. */
/* mkostemp in the folder dirfd: path ends in XXXXXX, replaced by random
 * letters and digits until a new file is created (0600, O_CLOEXEC). */
static int tmpfile_create(int dirfd, char *path)
{
    static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t n = strlen(path), i;
    unsigned char r[6];
    int tries, fd;

    if (n < 6) {
        errno = EINVAL;
        return -1;
    }
    for (tries = 0; tries < 100; tries++) {
        if (sm_random(r, sizeof(r)) != 0) {
            errno = EIO;
            return -1;
        }
        for (i = 0; i < 6; i++)
            path[n - 6 + i] = set[r[i] % (sizeof(set) - 1)];
        fd = openat(dirfd, path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                    0600);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

static enum oauth_tokenfile_status tmpfile_make(int dirfd, const char *path,
                                                const struct stat *st, struct tmpfile *t,
                                                struct oauth_err *err)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t dl = slash ? (size_t)(slash - path) : 1;
    struct stat nst;
    uid_t euid = geteuid();

    t->fd = -1;
    t->dirfd = dirfd;
    t->path = NULL;
    if (!(t->dir = malloc(dl + 2)) || !(t->path = malloc(dl + strlen(base) + 16))) {
        oauth_why(err, "out of memory");
        free(t->dir);
        t->dir = NULL;
        return OAUTH_TOKENFILE_ERROR;
    }
    if (slash)
        memcpy(t->dir, path, dl);
    else
        t->dir[0] = '.';
    t->dir[dl] = '\0';
    if (slash && dl == 0)
        strcpy(t->dir, "/");
    sprintf(t->path, "%s/.%s.XXXXXX", slash && dl == 0 ? "" : t->dir, base);
    if ((t->fd = tmpfile_create(dirfd, t->path)) < 0) {
        oauth_why(err, "cannot create a file in %s to rewrite the token file: %s", t->dir,
                  strerror(errno));
        free(t->path);
        t->path = NULL;
        tmpfile_drop(t);
        return OAUTH_TOKENFILE_WRITE_FAILED;
    }
    if (euid == 0) {
        if (fchown(t->fd, st->st_uid, st->st_gid) != 0) {
            oauth_why(err, "cannot give the rewritten token file owner %lu group %lu: %s",
                      (unsigned long)st->st_uid, (unsigned long)st->st_gid, strerror(errno));
            goto fail;
        }
    } else if (st->st_uid != euid) {
        oauth_why(err, "token file is owned by uid %lu; rewriting it as uid %lu would "
                       "change its owner", (unsigned long)st->st_uid, (unsigned long)euid);
        goto fail;
    } else if (fstat(t->fd, &nst) != 0
               || (nst.st_gid != st->st_gid && fchown(t->fd, (uid_t)-1, st->st_gid) != 0)) {
        oauth_why(err, "cannot give the rewritten token file group %lu",
                  (unsigned long)st->st_gid);
        goto fail;
    }
    if (fchmod(t->fd, st->st_mode & 07777) != 0) {
        oauth_why(err, "cannot set the rewritten token file's mode: %s", strerror(errno));
        goto fail;
    }
    return OAUTH_TOKENFILE_OK;
fail:
    tmpfile_drop(t);
    return OAUTH_TOKENFILE_WRITE_FAILED;
}

/* Write, fsync, rename over path, fsync the directory. */
static enum oauth_tokenfile_status tmpfile_commit(struct tmpfile *t, const char *path,
                                                  const char *data, size_t len,
                                                  struct oauth_err *err)
{
    size_t off = 0;
    int dfd;

    while (off < len) {
        ssize_t n = write(t->fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            oauth_why(err, "writing the token file: %s", n < 0 ? strerror(errno) : "short write");
            goto fail;
        }
        off += (size_t)n;
    }
    if (fsync(t->fd) != 0) {
        oauth_why(err, "fsync of the token file: %s", strerror(errno));
        goto fail;
    }
    if (close(t->fd) != 0) {
        t->fd = -1;
        oauth_why(err, "closing the token file: %s", strerror(errno));
        goto fail;
    }
    t->fd = -1;
    if (renameat(t->dirfd, t->path, t->dirfd, path) != 0) {
        oauth_why(err, "renaming the token file into place: %s", strerror(errno));
        goto fail;
    }
    free(t->path);
    t->path = NULL;
    if ((dfd = openat(t->dirfd, t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    tmpfile_drop(t);
    return OAUTH_TOKENFILE_OK;
fail:
    tmpfile_drop(t);
    return OAUTH_TOKENFILE_WRITE_FAILED;
}

/* ---- the refresh grant ----------------------------------------------------------- */

/* A refusal's reason becomes what to do about it, when that is known
 * (oauth_advice.h), naming the file as the command to run needs it. */
static void tokenfile_advise(const struct tokfile *f, const struct oauth_grant_tokens *g,
                             struct oauth_err *err)
{
    char advice[OAUTH_ADVICE_MAX + 4096], full[4200];
    const char *file = f->path;

    if (f->dir_name) {
        snprintf(full, sizeof(full), "%s/%s", f->dir_name, f->path);
        file = full;
    }
    if (err && oauth_advice_for(g->error[0] ? g->error : NULL, g->error_code, file, advice,
                                sizeof(advice)) > 0)
        oauth_why(err, "token endpoint refused the refresh: HTTP %ld, %s: %s", g->http_code,
                  g->error[0] ? g->error : "(no error code)", advice);
}

/* The grant the file records, through the grant module (oauth_grant.h):
 * the refresh grant, or client_credentials again for an app-only file. */
static enum oauth_tokenfile_status tokenfile_refresh(const struct tokfile *f,
                                                     const struct oauth_tokenfile_options *o,
                                                     struct oauth_grant_tokens *g,
                                                     struct oauth_err *err)
{
    struct oauth_grant_client c = {
        .token_endpoint = f->token_endpoint, .client_id = f->client_id,
        .client_secret = f->client_secret, .auth = f->auth, .key_file = f->key_file,
        .cert_file = f->cert_file, .http = &o->http,
    };
    struct oauth_grant_request rq = {
        f->client_credentials ? OAUTH_GRANT_CLIENT_CREDENTIALS : OAUTH_GRANT_REFRESH_TOKEN,
        .secret = f->client_credentials ? NULL : f->refresh_token, .scope = f->scope,
    };

    switch (oauth_grant_token(&c, &rq, g, err)) {
    case OAUTH_GRANT_OK:
        return OAUTH_TOKENFILE_OK;
    case OAUTH_GRANT_UNAVAILABLE:
        return OAUTH_TOKENFILE_UNAVAILABLE;
    case OAUTH_GRANT_PENDING:
    case OAUTH_GRANT_SLOW_DOWN:
    case OAUTH_GRANT_REJECTED:
        tokenfile_advise(f, g, err);
        return OAUTH_TOKENFILE_REJECTED;
    case OAUTH_GRANT_BAD_RESPONSE:
        return OAUTH_TOKENFILE_BAD_RESPONSE;
    case OAUTH_GRANT_URL_REFUSED:
        oauth_why(err, "token file's token_endpoint refused: %s", err->reason);
        return OAUTH_TOKENFILE_MALFORMED;
    case OAUTH_GRANT_CLIENT_KEY:
        return OAUTH_TOKENFILE_MALFORMED;
    case OAUTH_GRANT_ERROR:
        break;
    }
    return OAUTH_TOKENFILE_ERROR;
}

/* ---- the whole ----------------------------------------------------------------- */

/* Replace a string member, erasing the old value first. */
static int tokenfile_set_secret(json_t *root, const char *name, const char *value)
{
    json_t *old = json_object_get(root, name);
    json_t *v = json_string(value);

    if (!v)
        return -1;
    if (json_is_string(old))
        sm_erase((char *)json_string_value(old), json_string_length(old));
    return json_object_set_new(root, name, v);
}

/* Write root out through t (indented JSON and a newline), renamed over path. */
static enum oauth_tokenfile_status tokenfile_write_root(json_t *root, struct tmpfile *t,
                                                        const char *path, struct oauth_err *err)
{
    enum oauth_tokenfile_status st;
    char *text, *nl;
    size_t len;

    if (!(text = json_dumps(root, JSON_INDENT(2)))) {
        oauth_why(err, "out of memory");
        tmpfile_drop(t);
        return OAUTH_TOKENFILE_WRITE_FAILED;
    }
    len = strlen(text);
    if (!(nl = malloc(len + 2))) {
        sm_erase(text, len);
        free(text);
        oauth_why(err, "out of memory");
        tmpfile_drop(t);
        return OAUTH_TOKENFILE_WRITE_FAILED;
    }
    memcpy(nl, text, len);
    nl[len++] = '\n';
    nl[len] = '\0';
    sm_erase(text, len - 1);
    free(text);
    st = tmpfile_commit(t, path, nl, len, err);
    sm_erase(nl, len);
    free(nl);
    return st;
}

/* Put the grant into f->root and write it out through t. */
static enum oauth_tokenfile_status tokenfile_store(struct tokfile *f,
                                                   const struct oauth_grant_tokens *g,
                                                   time_t obtained_at, time_t expires_at,
                                         struct tmpfile *t, const char *path, struct oauth_err *err)
{
    if (tokenfile_set_secret(f->root, "access_token", g->access_token) != 0
        || json_object_set_new(f->root, "expires_at", json_integer((json_int_t)expires_at)) != 0
        || json_object_set_new(f->root, "obtained_at", json_integer((json_int_t)obtained_at)) != 0
        || (g->refresh_token
            && tokenfile_set_secret(f->root, "refresh_token", g->refresh_token) != 0)) {
        oauth_why(err, "out of memory");
        tmpfile_drop(t);
        return OAUTH_TOKENFILE_WRITE_FAILED;
    }
    return tokenfile_write_root(f->root, t, path, err);
}

/* The arguments of a public call: a path, where the result goes (out), the
 * options (the defaults when *o is NULL, in def) within range. */
static enum oauth_tokenfile_status tokenfile_args(const char *path, const void *out,
                                                  const struct oauth_tokenfile_options **o,
                                                  struct oauth_tokenfile_options *def,
                                                  struct oauth_err *err)
{
    oauth_err_clear(err);
    if (!path || !path[0] || !out) {
        oauth_why(err, "no token file given");
        return OAUTH_TOKENFILE_ERROR;
    }
    if (!*o) {
        oauth_tokenfile_options_default(def);
        *o = def;
    }
    if ((*o)->refresh_window < 0 || (*o)->refresh_window > MAX_EXPIRES_IN
        || (*o)->lock_timeout_ms <= 0) {
        oauth_why(err, "token file options out of range");
        return OAUTH_TOKENFILE_ERROR;
    }
    return OAUTH_TOKENFILE_OK;
}

static enum oauth_tokenfile_status tokenfile_get(const char *path,
                                                 const struct oauth_tokenfile_options *o,
                                                 int force, struct oauth_token *out,
                                                 struct oauth_err *err)
{
    struct oauth_err mine;
    struct oauth_tokenfile_options def;
    struct tokfile f;
    struct tmpfile t;
    struct oauth_grant_tokens g;
    enum oauth_tokenfile_status st;
    time_t now, expires_at;
    int lockfd;

    if (!err)
        err = &mine;
    if (out)
        memset(out, 0, sizeof(*out));
    if ((st = tokenfile_args(path, out, &o, &def, err)) != OAUTH_TOKENFILE_OK)
        return st;
    /* jansson's allocator that erases (oauth_http.h), before the file is
     * parsed; a libcurl that fails to initialise is reported by the refresh
     * that needs it */
    (void)oauth_http_init(NULL);

    /* 1. fresh enough as it is? */
    if ((st = tokenfile_load(o, path, &f, err)) != OAUTH_TOKENFILE_OK)
        return st;
    now = time(NULL);
    if (!force && tokenfile_fresh(&f, now, o->refresh_window)) {
        st = tokenfile_give(f.access_token, (time_t)f.expires_at, 0, out, err);
        tokfile_free(&f);
        return st;
    }
    if (!f.refresh_token && !f.client_credentials) {
        oauth_why(err, "token file %s: the access token expires within %lld s and there "
                       "is no refresh_token",
                  path, (long long)tokenfile_due_window(&f, o->refresh_window));
        tokfile_free(&f);
        return OAUTH_TOKENFILE_EXPIRED;
    }

    /* 2. under the lock, look again */
    if ((lockfd = tokenfile_lock_reread(o, path, &f, &st, err)) < 0)
        return st;
    now = time(NULL);
    if (!force && tokenfile_fresh(&f, now, o->refresh_window)) {
        st = tokenfile_give(f.access_token, (time_t)f.expires_at, 0, out, err);
        goto done;
    }
    if (!f.refresh_token && !f.client_credentials) {
        oauth_why(err, "token file %s: the access token expires within %lld s and there "
                       "is no refresh_token",
                  path, (long long)tokenfile_due_window(&f, o->refresh_window));
        st = OAUTH_TOKENFILE_EXPIRED;
        goto done;
    }

    /* 3. a place to keep the result before spending the refresh token */
    if ((st = tmpfile_make(o->dir_fd, path, &f.st, &t, err)) != OAUTH_TOKENFILE_OK)
        goto done;
    if ((st = tokenfile_refresh(&f, o, &g, err)) != OAUTH_TOKENFILE_OK) {
        tmpfile_drop(&t);
        goto done;
    }

    /* 4. write it back, then hand it out */
    now = time(NULL);
    expires_at = now + (time_t)g.expires_in;
    st = tokenfile_store(&f, &g, now, expires_at, &t, path, err);
    if (tokenfile_give(g.access_token, expires_at, 1, out, err) != OAUTH_TOKENFILE_OK)
        st = OAUTH_TOKENFILE_ERROR;
    oauth_grant_tokens_clear(&g);
done:
    tokfile_free(&f);
    close(lockfd); /* releases the flock */
    return st;
}

/* A change made under the lock: see oauth_tokenfile.h. */
static enum oauth_tokenfile_status tokenfile_update(const char *path,
                                                    const struct oauth_tokenfile_options *o,
                                                    oauth_tokenfile_change_fn *fn, void *arg,
                                                    struct oauth_err *err)
{
    struct oauth_tokenfile_options def;
    struct tokfile f;
    struct tmpfile t;
    enum oauth_tokenfile_status st;
    int lockfd, r;

    if ((st = tokenfile_args(path, fn, &o, &def, err)) != OAUTH_TOKENFILE_OK)
        return st;
    (void)oauth_http_init(NULL);
    if ((st = tokenfile_load(o, path, &f, err)) != OAUTH_TOKENFILE_OK)
        return st;
    if ((lockfd = tokenfile_lock_reread(o, path, &f, &st, err)) < 0)
        return st;
    if ((r = fn(f.root, arg, err)) <= 0) {
        st = r == 0 ? OAUTH_TOKENFILE_OK : OAUTH_TOKENFILE_ERROR;
        goto done;
    }
    if ((st = tmpfile_make(o->dir_fd, path, &f.st, &t, err)) == OAUTH_TOKENFILE_OK)
        st = tokenfile_write_root(f.root, &t, path, err);
done:
    tokfile_free(&f);
    close(lockfd);
    return st;
}

/* What each status means to the client, decided here once: an endpoint
 * that is down and a lock held too long are worth another try; memory is
 * ours; the rest (a file, a grant, an endpoint answering wrongly) needs an
 * administrator. */
static enum oauth_err_class tokenfile_class(enum oauth_tokenfile_status st)
{
    switch (st) {
    case OAUTH_TOKENFILE_OK:
        return OAUTH_OK;
    case OAUTH_TOKENFILE_UNAVAILABLE:
    case OAUTH_TOKENFILE_LOCK_FAILED:
        return OAUTH_ERR_TEMPORARY;
    case OAUTH_TOKENFILE_ERROR:
        return OAUTH_ERR_INTERNAL;
    default:
        return OAUTH_ERR_CONFIG;
    }
}

/* st, with its class in err (NULL: none wanted): what every public entry
 * point returns. */
static enum oauth_tokenfile_status tokenfile_said(struct oauth_err *err,
                                                  enum oauth_tokenfile_status st)
{
    return oauth_err_is(err, tokenfile_class(st), st);
}

enum oauth_tokenfile_status oauth_tokenfile_get(const char *path,
                                                const struct oauth_tokenfile_options *o,
                                                struct oauth_token *out, struct oauth_err *err)
{
    return tokenfile_said(err, tokenfile_get(path, o, 0, out, err));
}

enum oauth_tokenfile_status oauth_tokenfile_refresh(const char *path,
                                                    const struct oauth_tokenfile_options *o,
                                                    struct oauth_token *out,
                                                    struct oauth_err *err)
{
    return tokenfile_said(err, tokenfile_get(path, o, 1, out, err));
}

enum oauth_tokenfile_status oauth_tokenfile_check(const char *path, struct oauth_err *err)
{
    struct oauth_tokenfile_options def;
    struct oauth_err mine;
    struct tokfile f;
    enum oauth_tokenfile_status st;

    if (!err)
        err = &mine;
    oauth_err_clear(err);
    (void)oauth_http_init(NULL);
    oauth_tokenfile_options_default(&def);
    if ((st = tokenfile_load(&def, path, &f, err)) == OAUTH_TOKENFILE_OK)
        tokfile_free(&f);
    return tokenfile_said(err, st);
}

/* A whole new file, under the lock, through the same temporary file and
 * rename as a refresh. */
static enum oauth_tokenfile_status tokenfile_write(const char *path, const char *text,
                                                   size_t len, const struct stat *want,
                                                   const struct oauth_tokenfile_options *o,
                                                   struct oauth_err *err)
{
    struct oauth_tokenfile_options def;
    struct tokfile f;
    struct tmpfile t;
    json_error_t jerr;
    enum oauth_tokenfile_status st;
    int lockfd;

    oauth_err_clear(err);
    if (!path || !path[0] || !text) {
        oauth_why(err, "no token file given");
        return OAUTH_TOKENFILE_ERROR;
    }
    if (!o) {
        oauth_tokenfile_options_default(&def);
        o = &def;
    }
    if (want->st_mode & 0007) {
        oauth_why(err, "a token file must not be accessible by others (mode %03o)",
                  (unsigned)(want->st_mode & 0777));
        return OAUTH_TOKENFILE_ERROR;
    }
    (void)oauth_http_init(NULL);
    /* what the plugin would refuse is never written */
    memset(&f, 0, sizeof(f));
    if (!(f.root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr))) {
        oauth_why(err, "new token file %s: not valid JSON", path);
        return OAUTH_TOKENFILE_MALFORMED;
    }
    if ((st = tokenfile_parse(&f, err)) != OAUTH_TOKENFILE_OK) {
        oauth_why(err, "new token file %s: %s", path, err->reason);
        tokfile_free(&f);
        return st;
    }
    tokfile_free(&f);
    lockfd = tokenfile_take_lock(o->dir_fd, path, want, o->lock_timeout_ms, err, &st);
    if (lockfd < 0)
        return st;
    if ((st = tmpfile_make(o->dir_fd, path, want, &t, err)) == OAUTH_TOKENFILE_OK)
        st = tmpfile_commit(&t, path, text, len, err);
    close(lockfd);
    return st;
}

enum oauth_tokenfile_status oauth_tokenfile_write(const char *path, const char *text,
                                                  size_t len, unsigned mode, long uid, long gid,
                                                  const struct oauth_tokenfile_options *o,
                                                  struct oauth_err *err)
{
    struct oauth_err mine;
    struct stat want;
    enum oauth_tokenfile_status st;

    if (!err)
        err = &mine;
    memset(&want, 0, sizeof(want));
    want.st_mode = S_IFREG | (mode & 07777);
    want.st_uid = uid < 0 ? geteuid() : (uid_t)uid;
    want.st_gid = gid < 0 ? getegid() : (gid_t)gid;
    st = tokenfile_write(path, text, len, &want, o, err);
    return tokenfile_said(err, st);
}

enum oauth_tokenfile_status oauth_tokenfile_update(const char *path,
                                                   const struct oauth_tokenfile_options *o,
                                                   oauth_tokenfile_change_fn *fn, void *arg,
                                                   struct oauth_err *err)
{
    struct oauth_err mine;
    enum oauth_tokenfile_status st;

    if (!err)
        err = &mine;
    st = tokenfile_update(path, o, fn, arg, err);
    return tokenfile_said(err, st);
}

int oauth_tokenfile_lock(const char *path, const struct oauth_tokenfile_options *o,
                         struct oauth_err *err)
{
    struct oauth_tokenfile_options def;
    struct oauth_err mine;
    struct stat tst;
    enum oauth_tokenfile_status st;
    int fd;

    if (!err)
        err = &mine;
    oauth_err_clear(err);
    if (!o) {
        oauth_tokenfile_options_default(&def);
        o = &def;
    }
    if (!path || fstatat(o->dir_fd, path, &tst, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(tst.st_mode)) {
        if (!path)
            oauth_why(err, "no token file given");
        else if (errno = 0, fstatat(o->dir_fd, path, &tst, AT_SYMLINK_NOFOLLOW) != 0)
            oauth_why(err, "token file %s: %s", path, strerror(errno));
        else
            oauth_why(err, "token file %s is not a regular file", path);
        (void)tokenfile_said(err, OAUTH_TOKENFILE_UNREADABLE);
        return -1;
    }
    if ((fd = tokenfile_take_lock(o->dir_fd, path, &tst, o->lock_timeout_ms, err, &st)) < 0)
        (void)tokenfile_said(err, st);
    return fd;
}
