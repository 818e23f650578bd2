/* See harness.h.  The run around the cases: the folders and sasldb of a run
 * (parent), libsasl2's initialisation in a child, and the forked children and
 * their reports (parent and child).  The exchanges themselves are in
 * exchange.c. */
#include "config.h"
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sasl/saslplug.h>

struct hx_env hx;
TAP_STATE_DEFINE

/* ---- folders and sasldb ----------------------------------------------- */

static int setup_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int setup_fail(const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    tap_ok(0, "driver setup: %s", buf);
    return -1;
}

static int link_plugin(const char *srcdir, const char *name, const char *dstdir)
{
    char src[PATH_MAX], dst[600];

    if (snprintf(src, sizeof(src), "%s/%s", srcdir, name) >= (int)sizeof(src)
        || access(src, R_OK) != 0)
        return setup_fail("plugin %s/%s is missing (%s)", srcdir, name, strerror(errno));
    snprintf(dst, sizeof(dst), "%s/%s", dstdir, name);
    if (symlink(src, dst) != 0)
        return setup_fail("symlink %s: %s", dst, strerror(errno));
    return 0;
}

int hx_link_plugin(const char *srcdir, const char *name, const char *dstdir)
{
    return link_plugin(srcdir, name, dstdir);
}

/* saslpasswd2 stores exactly what it reads as userPassword; SASL_PATH holds
 * only the sasldb auxprop so that no other plugin's setpass runs. */
static int add_user(const char *user, const char *secret)
{
    int fds[2], status = 0, devnull, wrote;
    pid_t pid;
    size_t len = strlen(secret);

    if (pipe(fds) != 0)
        return setup_fail("pipe: %s", strerror(errno));
    fflush(NULL);
    if ((pid = fork()) < 0)
        return setup_fail("fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(fds[0], 0);
        close(fds[0]);
        close(fds[1]);
        if ((devnull = open("/dev/null", O_WRONLY)) >= 0)
            dup2(devnull, 1);
        setenv("SASL_PATH", hx.aux, 1);
        execl("/usr/sbin/saslpasswd2", "saslpasswd2", "-c", "-p", "-f", hx.sasldb,
              "-u", HX_REALM, user, (char *)NULL);
        execlp("saslpasswd2", "saslpasswd2", "-c", "-p", "-f", hx.sasldb,
               "-u", HX_REALM, user, (char *)NULL);
        _exit(127);
    }
    close(fds[0]);
    wrote = write(fds[1], secret, len) == (ssize_t)len;
    close(fds[1]);
    if (waitpid(pid, &status, 0) < 0 || !wrote || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return setup_fail("saslpasswd2 for %s failed (status 0x%x; sasl2-bin installed?)",
                          user, (unsigned)status);
    return 0;
}

/* The Dovecot {CRAM-MD5} key schedule of "tanstaaftanstaaf": the MD5
 * chaining values after the opad block, then after the ipad block, each word
 * little-endian.  Computed once by cram_md5_schedule.py (a from-scratch MD5
 * compression function: not OpenSSL, not our plugin), which checks itself by
 * finishing an HMAC from the schedule against Python's hmac on RFC 2195's
 * challenge, and which reproduces the public doveadm output for "password",
 * {CRAM-MD5}9186d855e11eba527a7a52ca82b313e180d62234f0acc9051b527243d41e2740. */
#define HX_CRAM_SCHEDULE_UPPER "D06D4E1B26FCCAA4B0B61801132340A354B21152711FB604CA3E035E7015116B"

int hx_setup(void)
{
    const char *plug = getenv("SM_PLUGIN_DIR"), *sys = getenv("SM_SYSTEM_PLUGIN_DIR");
    const char *tmp = getenv("TMPDIR");
    static const char *const ours[] = {"libsaslmechs_plain.so", "libsaslmechs_login.so",
                                       "libsaslmechs_crammd5.so", "libsaslmechs_ntlm.so"};
    static const char *const cyrus[] = {"libplain.so", "liblogin.so", "libcrammd5.so",
                                        "libntlm.so"};
    char plugabs[PATH_MAX], sysabs[PATH_MAX];
    size_t i;

    /* a child that dies early (saslpasswd2 missing) must not kill us by SIGPIPE */
    signal(SIGPIPE, SIG_IGN);
    if (!plug || !*plug || !sys || !*sys)
        return setup_fail("SM_PLUGIN_DIR and SM_SYSTEM_PLUGIN_DIR must be set (run through "
                          "'make check', or export them as Makefile.am does)");
    if (!realpath(plug, plugabs) || !realpath(sys, sysabs))
        return setup_fail("plugin folder %s or %s: %s", plug, sys, strerror(errno));
    snprintf(hx.root, sizeof(hx.root), "%s/sm-driver-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(hx.root))
        return setup_fail("mkdtemp %s: %s", hx.root, strerror(errno));
    snprintf(hx.ours, sizeof(hx.ours), "%s/ours", hx.root);
    snprintf(hx.cyrus, sizeof(hx.cyrus), "%s/cyrus", hx.root);
    snprintf(hx.aux, sizeof(hx.aux), "%s/aux", hx.root);
    snprintf(hx.both, sizeof(hx.both), "%s/both", hx.root);
    snprintf(hx.sasldb, sizeof(hx.sasldb), "%s/sasldb2", hx.root);
    if (mkdir(hx.ours, 0700) || mkdir(hx.cyrus, 0700) || mkdir(hx.aux, 0700)
        || mkdir(hx.both, 0700))
        return setup_fail("mkdir in %s: %s", hx.root, strerror(errno));
    for (i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
        if (link_plugin(plugabs, ours[i], hx.ours) || link_plugin(plugabs, ours[i], hx.both)
            || link_plugin(sysabs, cyrus[i], hx.cyrus) || link_plugin(sysabs, cyrus[i], hx.both))
            return -1;
    if (link_plugin(sysabs, "libsasldb.so", hx.aux) || link_plugin(sysabs, "libsasldb.so", hx.both))
        return -1;
    if (add_user(HX_USER, HX_PASS) || add_user(HX_USER2, HX_PASS2)
        || add_user(HX_CRAM_USER, "{CRAM-MD5}" HX_CRAM_SCHEDULE)
        || add_user(HX_CRAM_UPPER_USER, "{CRAM-MD5}" HX_CRAM_SCHEDULE_UPPER)
        || add_user(HX_NT_USER, "{NTLM}" HX_NT_HASH) || add_user(HX_UNICODE_USER, HX_PASS))
        return -1;
    return 0;
}

static void remove_tree(const char *dir, const char *const *names)
{
    char p[600];

    for (; *names; names++) {
        snprintf(p, sizeof(p), "%s/%s", dir, *names);
        unlink(p);
    }
    rmdir(dir);
}

void hx_cleanup(void)
{
    static const char *const all[] = {
        "libsaslmechs_plain.so", "libsaslmechs_login.so", "libsaslmechs_crammd5.so",
        "libsaslmechs_ntlm.so", "libplain.so", "liblogin.so", "libcrammd5.so", "libntlm.so",
        "libsasldb.so", NULL};
    char p[600];

    if (!hx.root[0])
        return;
    remove_tree(hx.ours, all);
    remove_tree(hx.cyrus, all);
    remove_tree(hx.aux, all);
    remove_tree(hx.both, all);
    snprintf(p, sizeof(p), "%s/sasldb2", hx.root);
    unlink(p);
    rmdir(hx.root);
}

/* ---- a KDC -------------------------------------------------------------- */

int hx_system(const char *cmd)
{
    int st;

    fflush(NULL);
    st = system(cmd);
    return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static int kdc_sh(const char *what, const char *dir)
{
    const char *src = getenv("SM_SRCDIR");
    char cmd[PATH_MAX * 2 + 64];

    snprintf(cmd, sizeof(cmd), "bash '%s/tests/krb5/kdc.sh' %s '%s' >&2", src ? src : ".", what,
             dir);
    return hx_system(cmd);
}

/* DIR/env: "export NAME=VALUE" lines */
static int kdc_env(const char *dir)
{
    char path[PATH_MAX], line[1200], *eq;
    FILE *f;

    snprintf(path, sizeof(path), "%s/env", dir);
    if (!(f = fopen(path, "r")))
        return -1;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = 0;
        if (strncmp(line, "export ", 7) || !(eq = strchr(line + 7, '=')))
            continue;
        *eq = 0;
        if (eq[1] == '"') {
            eq++;
            eq[strlen(eq) - 1] = 0;
        }
        setenv(line + 7, eq + 1, 1);
    }
    fclose(f);
    return getenv("SM_KRB5_REALM") ? 0 : -1;
}

int hx_kdc_start(const char *dir)
{
    return kdc_sh("start", dir) && kdc_env(dir) == 0 ? 0 : -1;
}

void hx_kdc_stop(const char *dir)
{
    kdc_sh("stop", dir);
}

const char *hx_path(const char *a, const char *b, const char *c)
{
    static char ring[8][1000];
    static int next;
    char *p = ring[next++ % 8];

    snprintf(p, sizeof(ring[0]), "%s%s%s%s%s", a, b ? ":" : "", b ? b : "", c ? ":" : "",
             c ? c : "");
    return p;
}

/* ---- libsasl2 initialisation in a child -------------------------------- */

static const char *const *server_extra, *const *client_extra;
static const char *server_defaults[9];
static char logbuf[1 << 16];
static size_t loglen;

static const char *find_opt(const char *const *list, const char *option)
{
    for (; list && list[0]; list += 2)
        if (strcmp(list[0], option) == 0)
            return list[1];
    return NULL;
}

static int answer_opt(const char *val, const char **result, unsigned *len)
{
    if (!val)
        return SASL_FAIL;
    *result = val;
    if (len)
        *len = (unsigned)strlen(val);
    return SASL_OK;
}

/* "PLUGIN:option" answers only a lookup that names that plugin (as Cyrus's
 * plugins do, and an application such as Cyrus IMAP may file them) */
static const char *find_plugin_opt(const char *const *list, const char *plugin,
                                   const char *option)
{
    char name[128];

    if (!plugin)
        return NULL;
    snprintf(name, sizeof(name), "%s:%s", plugin, option);
    return find_opt(list, name);
}

static int server_getopt(void *ctx, const char *plugin, const char *option,
                         const char **result, unsigned *len)
{
    const char *v = find_plugin_opt(server_extra, plugin, option);

    (void)ctx;
    if (!v)
        v = find_opt(server_extra, option);
    return answer_opt(v ? v : find_opt(server_defaults, option), result, len);
}

static int client_getopt(void *ctx, const char *plugin, const char *option,
                         const char **result, unsigned *len)
{
    const char *v = find_plugin_opt(client_extra, plugin, option);

    (void)ctx;
    return answer_opt(v ? v : find_opt(client_extra, option), result, len);
}

static int getpath(void *ctx, const char **path)
{
    *path = ctx;
    return SASL_OK;
}

/* An empty folder: no smdriver.conf from the system may change the options. */
static int getconfpath(void *ctx, char **path)
{
    (void)ctx;
    *path = hx.root;
    return SASL_OK;
}

static int log_cb(void *ctx, int level, const char *message)
{
    int n;

    (void)ctx;
    n = snprintf(logbuf + loglen, sizeof(logbuf) - loglen, "[%d] %s\n", level, message);
    if (n > 0)
        loglen = loglen + (size_t)n < sizeof(logbuf) ? loglen + (size_t)n : sizeof(logbuf) - 1;
    return SASL_OK;
}

void hx_log_reset(void)
{
    loglen = 0;
    logbuf[0] = '\0';
}

int hx_log_contains(const char *needle)
{
    return strstr(logbuf, needle) != NULL;
}

int hx_log_count(const char *needle)
{
    const char *p = logbuf;
    int n = 0;

    while (*needle && (p = strstr(p, needle))) {
        n++;
        p += strlen(needle);
    }
    return n;
}

const char *hx_log_text(void)
{
    return logbuf;
}

static int child_init(const char *name, const struct hx_init *in)
{
    static sasl_callback_t scb[5], ccb[4];
    int rc;

    server_defaults[0] = "sasldb_path"; server_defaults[1] = hx.sasldb;
    server_defaults[2] = "pwcheck_method"; server_defaults[3] = "auxprop";
    server_defaults[4] = "auxprop_plugin"; server_defaults[5] = "sasldb";
    server_defaults[6] = "log_level"; server_defaults[7] = "7";
    server_defaults[8] = NULL;
    server_extra = in->server_opts;
    client_extra = in->client_opts;
    scb[0] = (sasl_callback_t){SASL_CB_GETOPT, HX_CB(server_getopt), NULL};
    scb[1] = (sasl_callback_t){SASL_CB_GETPATH, HX_CB(getpath), (void *)in->server_path};
    scb[2] = (sasl_callback_t){SASL_CB_GETCONFPATH, HX_CB(getconfpath), NULL};
    scb[3] = (sasl_callback_t){SASL_CB_LOG, HX_CB(log_cb), NULL};
    scb[4] = (sasl_callback_t){SASL_CB_LIST_END, NULL, NULL};
    ccb[0] = (sasl_callback_t){SASL_CB_GETOPT, HX_CB(client_getopt), NULL};
    ccb[1] = (sasl_callback_t){SASL_CB_GETPATH, HX_CB(getpath), (void *)in->client_path};
    ccb[2] = (sasl_callback_t){SASL_CB_LOG, HX_CB(log_cb), NULL};
    ccb[3] = (sasl_callback_t){SASL_CB_LIST_END, NULL, NULL};
    if ((rc = sasl_server_init(scb, HX_APPNAME)) != SASL_OK)
        return !tap_ok(0, "%s: sasl_server_init: %s", name, hx_code(rc));
    if ((rc = sasl_client_init(ccb)) != SASL_OK)
        return !tap_ok(0, "%s: sasl_client_init: %s", name, hx_code(rc));
    return 0;
}

/* ---- forked children --------------------------------------------------- */

/* Seconds a child may take (valgrind is slow). */
#define HX_CHILD_TIMEOUT 300

/* "R<row>" before each row, "E" at the end: what the parent needs to tell
 * where a child died. */
static void child_say(char tag, int v)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%c%d\n", tag, v);
    tap_write_child_(buf);
}

__attribute__((noreturn)) static void child_main(const char *name, const struct hx_init *init, int start, int nrows,
                       hx_row_fn *fn, void *arg, int fd)
{
    int row;

    tap_state.child_fd = fd;
    alarm(HX_CHILD_TIMEOUT);
    if (child_init(name, init) == 0) {
        for (row = start; row < nrows; row++) {
            child_say('R', row);
            fn(row, arg);
        }
    }
    sasl_server_done();
    sasl_client_done();
    child_say('E', 0);
    close(fd);
    exit(0);
}

void hx_row_name(const char *fmt, ...)
{
    char buf[240];
    va_list ap;

    buf[0] = 'N';
    va_start(ap, fmt);
    vsnprintf(buf + 1, sizeof(buf) - 2, fmt, ap);
    va_end(ap);
    tap_flatten_(buf);
    strcat(buf, "\n");
    tap_write_child_(buf);
}

struct report {
    int row;        /* last row started, -1 before the first */
    int finished;   /* the child reached its end */
    char name[240]; /* of the last row, when it gave one */
};

static void replay_line(char *line, struct report *rep)
{
    if (line[0] == 'R') {
        rep->row = atoi(line + 1);
        rep->name[0] = '\0';
    } else if (line[0] == 'N')
        snprintf(rep->name, sizeof(rep->name), " (%s)", line + 1);
    else if (line[0] == 'E')
        rep->finished = 1;
    else
        tap_replay(line);
}

static void read_reports(int fd, struct report *rep)
{
    static char buf[1 << 16];
    size_t have = 0;
    ssize_t n;
    char *nl, *p;

    while ((n = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0 || (n < 0 && errno == EINTR)) {
        if (n < 0)
            continue;
        have += (size_t)n;
        buf[have] = '\0';
        for (p = buf; (nl = strchr(p, '\n')); p = nl + 1) {
            *nl = '\0';
            replay_line(p, rep);
        }
        have = (size_t)(buf + have - p);
        memmove(buf, p, have);
        if (have == sizeof(buf) - 1)
            have = 0; /* a line that long is garbage */
    }
}

static const char *describe(int status)
{
    static char buf[64];

    if (WIFSIGNALED(status))
        snprintf(buf, sizeof(buf), "killed by signal %d%s", WTERMSIG(status),
                 WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
    else
        snprintf(buf, sizeof(buf), "exit status %d", WEXITSTATUS(status));
    return buf;
}

void hx_run(const char *name, const struct hx_init *init, int nrows, hx_row_fn *fn, void *arg)
{
    int start = 0, fds[2], status;
    struct report rep;
    pid_t pid;

    while (start < nrows) {
        if (pipe(fds) != 0) {
            tap_ok(0, "%s: pipe: %s", name, strerror(errno));
            return;
        }
        fflush(NULL);
        if ((pid = fork()) < 0) {
            tap_ok(0, "%s: fork: %s", name, strerror(errno));
            return;
        }
        if (pid == 0) {
            close(fds[0]);
            child_main(name, init, start, nrows, fn, arg, fds[1]);
        }
        close(fds[1]);
        rep.row = -1;
        rep.finished = 0;
        rep.name[0] = '\0';
        read_reports(fds[0], &rep);
        close(fds[0]);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (rep.finished) {
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                tap_ok(0, "%s: the child failed after its cases (%s: valgrind errors?)",
                       name, describe(status));
            return;
        }
        if (rep.row < 0) {
            tap_ok(0, "%s: the child died during libsasl2 initialisation (%s)", name,
                   describe(status));
            return;
        }
        tap_ok(0, "%s: row %d%s: the child died (%s)", name, rep.row, rep.name, describe(status));
        start = rep.row + 1;
    }
}

