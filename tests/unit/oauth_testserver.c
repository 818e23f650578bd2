/* Starting, driving and stopping the loopback OAuth test server: see
 * oauth_testserver.h. */
#define _GNU_SOURCE 1
#include "config.h"
#include "oauth_testserver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define START_TIMEOUT_MS 30000 /* generous: keygen under valgrind or a busy machine */

static void print_log(const struct ts *ts)
{
    char path[PATH_MAX + 16], line[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/server.log", ts->dir);
    if (!(f = fopen(path, "r")))
        return;
    fprintf(stderr, "# --- oauth_server log ---\n");
    while (fgets(line, sizeof(line), f))
        fprintf(stderr, "# %s", line);
    fclose(f);
}

static void nap_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&t, NULL);
}

int ts_start(struct ts *ts, const char *const *extra)
{
    const char *src = getenv("SM_SRCDIR"), *build = getenv("SM_BUILDDIR");
    const char *py = getenv("SM_PYTHON");
    const char *tmp = getenv("TMPDIR");
    char script[PATH_MAX], mint[PATH_MAX], keys[PATH_MAX + 8], portfile[PATH_MAX + 8];
    char logfile[PATH_MAX + 16], lifetime[] = "600";
    const char *argv[64];
    int argc = 0, waited, i;

    memset(ts, 0, sizeof(*ts));
    ts->pid = -1;
    if (!src || !build) {
        fprintf(stderr, "# oauth test server: SM_SRCDIR and SM_BUILDDIR must be set "
                        "(make check sets them)\n");
        return -1;
    }
    snprintf(script, sizeof(script), "%s/tests/oauth/oauth_server.py", src);
    snprintf(mint, sizeof(mint), "%s/tests/oauth/oauth_mint", build);
    if (access(script, R_OK) != 0 || access(mint, X_OK) != 0) {
        fprintf(stderr, "# oauth test server: %s or %s missing (make check builds "
                        "oauth_mint)\n", script, mint);
        return -1;
    }
    snprintf(ts->dir, sizeof(ts->dir), "%s/sm-oauth-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(ts->dir)) {
        fprintf(stderr, "# oauth test server: mkdtemp: %s\n", strerror(errno));
        ts->dir[0] = '\0';
        return -1;
    }
    snprintf(keys, sizeof(keys), "%s/keys", ts->dir);
    snprintf(portfile, sizeof(portfile), "%s/port", ts->dir);
    snprintf(logfile, sizeof(logfile), "%s/server.log", ts->dir);
    argv[argc++] = py && *py ? py : "python3";
    argv[argc++] = script;
    argv[argc++] = "--mint";
    argv[argc++] = mint;
    argv[argc++] = "--keys";
    argv[argc++] = keys;
    argv[argc++] = "--port-file";
    argv[argc++] = portfile;
    argv[argc++] = "--lifetime";
    argv[argc++] = lifetime;
    for (i = 0; extra && extra[i] && argc < 62; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;

    fflush(NULL);
    ts->pid = fork();
    if (ts->pid < 0) {
        fprintf(stderr, "# oauth test server: fork: %s\n", strerror(errno));
        return -1;
    }
    if (ts->pid == 0) {
        int fd = open(logfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int nul = open("/dev/null", O_RDWR);
        /* the server goes when the test goes, however it ends */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (nul >= 0)
            dup2(nul, 0);
        execvp(argv[0], (char *const *)argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    for (waited = 0; waited < START_TIMEOUT_MS; waited += 20) {
        FILE *f = fopen(portfile, "r");
        int status;
        if (f) {
            int ok = fscanf(f, "%d", &ts->port) == 1;
            fclose(f);
            if (ok && ts->port > 0) {
                snprintf(ts->base, sizeof(ts->base), "http://127.0.0.1:%d", ts->port);
                snprintf(ts->introspect, sizeof(ts->introspect), "%s/introspect", ts->base);
                return 0;
            }
        }
        if (waitpid(ts->pid, &status, WNOHANG) == ts->pid) {
            fprintf(stderr, "# oauth test server (%s %s) exited before listening (status %d)\n",
                    argv[0], script, status);
            print_log(ts);
            ts->pid = -1;
            ts_stop(ts);
            return -1;
        }
        nap_ms(20);
    }
    fprintf(stderr, "# oauth test server did not listen within %d ms\n", START_TIMEOUT_MS);
    print_log(ts);
    ts_stop(ts);
    return -1;
}

void ts_stop(struct ts *ts)
{
    int status, i;

    if (ts->pid > 0) {
        kill(ts->pid, SIGTERM);
        for (i = 0; i < 250 && waitpid(ts->pid, &status, WNOHANG) == 0; i++)
            nap_ms(20);
        if (i == 250) {
            kill(ts->pid, SIGKILL);
            waitpid(ts->pid, &status, 0);
        }
        ts->pid = -1;
    }
    if (ts->dir[0]) {
        ts_rmtree(ts->dir);
        ts->dir[0] = '\0';
    }
}

const char *ts_url(const struct ts *ts, const char *path)
{
    static char buf[1024];

    snprintf(buf, sizeof(buf), "%s%s", ts->base, path);
    return buf;
}

int ts_call(const struct ts *ts, const char *method, const char *path, const char *json,
            char **body)
{
    struct sockaddr_in a;
    struct timeval tv = {60, 0};
    char *req = NULL, *buf = NULL, *p;
    size_t len = 0, cap = 0, blen = json ? strlen(json) : 0;
    int fd, code = -1, n;

    if (body)
        *body = NULL;
    if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)ts->port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
        goto out;
    n = asprintf(&req, "%s %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
                       "Content-Length: %zu\r\n\r\n%s",
                 method, path, ts->port, blen, json ? json : "");
    if (n < 0 || write(fd, req, (size_t)n) != n)
        goto out;
    for (;;) {
        ssize_t r;
        if (len + 4097 > cap) {
            char *nb = realloc(buf, cap = cap ? cap * 2 : 8192);
            if (!nb)
                goto out;
            buf = nb;
        }
        r = read(fd, buf + len, cap - len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    if (!buf)
        goto out;
    buf[len] = '\0';
    if (sscanf(buf, "HTTP/1.%*d %d", &code) != 1)
        code = -1;
    if (body && (p = strstr(buf, "\r\n\r\n")))
        *body = strdup(p + 4);
out:
    free(req);
    free(buf);
    close(fd);
    return code;
}

long ts_stat(const struct ts *ts, const char *name)
{
    char *body = NULL;
    json_t *root, *v;
    json_error_t err;
    long r = -1;

    if (ts_call(ts, "GET", "/stats", NULL, &body) != 200 || !body) {
        free(body);
        return -1;
    }
    root = json_loads(body, 0, &err);
    free(body);
    if (!root)
        return -1;
    if (strncmp(name, "requests.", 9) == 0) {
        v = json_object_get(json_object_get(root, "requests"), name + 9);
        r = v ? (long)json_integer_value(v) : 0;
    } else if ((v = json_object_get(root, name)) && json_is_integer(v)) {
        r = (long)json_integer_value(v);
    }
    json_decref(root);
    return r;
}

int ts_mode(const struct ts *ts, const char *json)
{
    return ts_call(ts, "POST", "/mode", json, NULL) == 200 ? 0 : -1;
}

char *ts_mint(const struct ts *ts, const char *claims_json, int ttl)
{
    char req[2048], *body = NULL, *tok = NULL;

    if (ttl)
        snprintf(req, sizeof(req), "{\"claims\": %s, \"ttl\": %d}", claims_json, ttl);
    else
        snprintf(req, sizeof(req), "{\"claims\": %s}", claims_json);
    if (ts_call(ts, "POST", "/mint", req, &body) == 200)
        tok = ts_json_str(body, "access_token");
    free(body);
    return tok;
}

void ts_introspect_config(const struct ts *ts, struct oauth_introspect_config *c)
{
    oauth_introspect_config_default(c);
    c->endpoint = ts->introspect;
    c->client_id = "test-rs";
    c->client_secret = "rs-secret";
    c->http.timeout_ms = 20000;
}

char *ts_json_str(const char *json, const char *member)
{
    json_error_t err;
    json_t *root = json_loads(json, 0, &err), *v;
    char *r = NULL;

    if (root && (v = json_object_get(root, member)) && json_is_string(v))
        r = strdup(json_string_value(v));
    json_decref(root);
    return r;
}

long long ts_json_int(const char *json, const char *member)
{
    json_error_t err;
    json_t *root = json_loads(json, 0, &err), *v;
    long long r = -1;

    if (root && (v = json_object_get(root, member)) && json_is_integer(v))
        r = json_integer_value(v);
    json_decref(root);
    return r;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void ts_rmtree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int ts_closed_port(void)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

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
