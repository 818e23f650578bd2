/* See harness.h.  Three parts: the folders and sasldb of a run (parent), the
 * forked children and their reports (parent and child), and the exchanges
 * (child). */
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

/* libsasl2 stores callbacks as int (*)(void); going through void (*)(void)
 * tells the compiler that the conversion of each signature is meant. */
#define HX_CB(fn) ((int (*)(void))(void (*)(void))(fn))

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
#define HX_CRAM_SCHEDULE "d06d4e1b26fccaa4b0b61801132340a354b21152711fb604ca3e035e7015116b"
#define HX_CRAM_SCHEDULE_UPPER "D06D4E1B26FCCAA4B0B61801132340A354B21152711FB604CA3E035E7015116B"

int hx_setup(void)
{
    const char *plug = getenv("SM_PLUGIN_DIR"), *sys = getenv("SM_SYSTEM_PLUGIN_DIR");
    const char *tmp = getenv("TMPDIR");
    static const char *const ours[] = {"libsaslmechs_plain.so", "libsaslmechs_login.so",
                                       "libsaslmechs_crammd5.so"};
    static const char *const cyrus[] = {"libplain.so", "liblogin.so", "libcrammd5.so"};
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
    for (i = 0; i < 3; i++)
        if (link_plugin(plugabs, ours[i], hx.ours) || link_plugin(plugabs, ours[i], hx.both)
            || link_plugin(sysabs, cyrus[i], hx.cyrus) || link_plugin(sysabs, cyrus[i], hx.both))
            return -1;
    if (link_plugin(sysabs, "libsasldb.so", hx.aux) || link_plugin(sysabs, "libsasldb.so", hx.both))
        return -1;
    if (add_user(HX_USER, HX_PASS) || add_user(HX_USER2, HX_PASS2)
        || add_user(HX_CRAM_USER, "{CRAM-MD5}" HX_CRAM_SCHEDULE)
        || add_user(HX_CRAM_UPPER_USER, "{CRAM-MD5}" HX_CRAM_SCHEDULE_UPPER))
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
        "libplain.so", "liblogin.so", "libcrammd5.so", "libsasldb.so", NULL};
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

static int server_getopt(void *ctx, const char *plugin, const char *option,
                         const char **result, unsigned *len)
{
    const char *v = find_opt(server_extra, option);

    (void)ctx; (void)plugin;
    return answer_opt(v ? v : find_opt(server_defaults, option), result, len);
}

static int client_getopt(void *ctx, const char *plugin, const char *option,
                         const char **result, unsigned *len)
{
    (void)ctx; (void)plugin;
    return answer_opt(find_opt(client_extra, option), result, len);
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

/* ---- small helpers ----------------------------------------------------- */

char *hx_memdup(const void *p, size_t len)
{
    char *d = malloc(len + 1);

    if (!d)
        abort();
    if (len)
        memcpy(d, p, len);
    d[len] = '\0';
    return d;
}

const char *hx_show(const char *p, size_t len)
{
    static char buf[8][200];
    static int next;
    char *b = buf[next++ % 8];
    size_t i, o = 0;

    if (!p)
        return "(none)";
    for (i = 0; i < len && o < sizeof(buf[0]) - 8; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\\')
            b[o++] = (char)ch;
        else
            o += (size_t)snprintf(b + o, sizeof(buf[0]) - o, "\\x%02x", ch);
    }
    if (i < len)
        o += (size_t)snprintf(b + o, sizeof(buf[0]) - o, "...");
    b[o] = '\0';
    return b;
}

const char *hx_code(int rc)
{
    static char other[32];

    switch (rc) {
#define C(x) case x: return #x
    C(SASL_CONTINUE); C(SASL_OK); C(SASL_FAIL); C(SASL_NOMEM); C(SASL_BUFOVER);
    C(SASL_NOMECH); C(SASL_BADPROT); C(SASL_NOTDONE); C(SASL_BADPARAM); C(SASL_TRYAGAIN);
    C(SASL_BADMAC); C(SASL_NOTINIT); C(SASL_INTERACT); C(SASL_BADSERV); C(SASL_WRONGMECH);
    C(SASL_BADAUTH); C(SASL_NOAUTHZ); C(SASL_TOOWEAK); C(SASL_ENCRYPT); C(SASL_TRANS);
    C(SASL_EXPIRED); C(SASL_DISABLED); C(SASL_NOUSER); C(SASL_BADVERS); C(SASL_UNAVAIL);
    C(SASL_NOVERIFY); C(SASL_PWLOCK); C(SASL_NOCHANGE); C(SASL_WEAKPASS); C(SASL_NOUSERPASS);
    C(SASL_NEED_OLD_PASSWD); C(SASL_CONSTRAINT_VIOLAT); C(SASL_BADBINDING); C(SASL_CONFIGERR);
#undef C
    }
    snprintf(other, sizeof(other), "SASL code %d", rc);
    return other;
}

int hx_is_error(int rc)
{
    return rc != SASL_OK && rc != SASL_CONTINUE && rc != SASL_INTERACT;
}

int hx_has_detail(int rc, const char *errdetail)
{
    char prefix[160];
    size_t n;

    snprintf(prefix, sizeof(prefix), "SASL(%d): %s: ", rc, sasl_errstring(rc, NULL, NULL));
    n = strlen(prefix);
    return strncmp(errdetail, prefix, n) == 0 && errdetail[n] != '\0';
}

/* ---- connections -------------------------------------------------------- */

static sasl_secret_t *cur_secret;

static int client_simple(void *ctx, int id, const char **result, unsigned *len)
{
    const struct hx_client *c = ctx;
    const char *v = id == SASL_CB_AUTHNAME ? c->authname
                  : id == SASL_CB_USER ? (c->authzid ? c->authzid : "") : NULL;

    if (!v)
        return SASL_BADPARAM;
    *result = v;
    if (len)
        *len = (unsigned)strlen(v);
    return SASL_OK;
}

/* The secret must outlive the step: Cyrus's plugins keep the pointer. */
static int client_secret(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **psecret)
{
    const struct hx_client *c = ctx;
    size_t len = c->password ? strlen(c->password) : 0;

    (void)conn;
    if (id != SASL_CB_PASS || !c->password)
        return SASL_BADPARAM;
    free(cur_secret);
    if (!(cur_secret = malloc(sizeof(*cur_secret) + len)))
        return SASL_NOMEM;
    cur_secret->len = len;
    memcpy(cur_secret->data, c->password, len + 1);
    *psecret = cur_secret;
    return SASL_OK;
}

static void answer_prompts(sasl_interact_t *p, const struct hx_client *c)
{
    for (; p && p->id != SASL_CB_LIST_END; p++) {
        const char *v = p->id == SASL_CB_AUTHNAME ? c->authname
                      : p->id == SASL_CB_PASS ? c->password
                      : p->id == SASL_CB_USER ? (c->authzid ? c->authzid : "") : p->defresult;
        p->result = v;
        p->len = v ? (unsigned)strlen(v) : 0;
    }
}

static int new_client(const struct hx_client *c, sasl_conn_t **cc)
{
    static sasl_callback_t cb[4];
    int n = 0;

    /* a NULL proc says "ask me through SASL_INTERACT"; without the entry,
     * libsasl2 would answer AUTHNAME itself from $USER */
    cb[n++] = (sasl_callback_t){SASL_CB_AUTHNAME, c->interact ? NULL : HX_CB(client_simple), (void *)c};
    if (!c->no_user_cb)
        cb[n++] = (sasl_callback_t){SASL_CB_USER, c->interact ? NULL : HX_CB(client_simple), (void *)c};
    cb[n++] = (sasl_callback_t){SASL_CB_PASS, c->interact ? NULL : HX_CB(client_secret), (void *)c};
    cb[n] = (sasl_callback_t){SASL_CB_LIST_END, NULL, NULL};
    return sasl_client_new(HX_SERVICE, HX_FQDN, NULL, NULL, cb, 0, cc);
}

static int proxy_policy(sasl_conn_t *conn, void *ctx, const char *requested, unsigned rlen,
                        const char *authid, unsigned alen, const char *realm, unsigned urlen,
                        struct propctx *props)
{
    const char *allow = ctx;
    size_t n = strlen(allow);

    (void)realm; (void)urlen; (void)props;
    if ((rlen == alen && memcmp(requested, authid, rlen) == 0)
        || (rlen >= n && memcmp(requested, allow, n) == 0
            && (rlen == n || (requested[n] == '@' && rlen - n - 1 == strlen(HX_REALM)
                              && memcmp(requested + n + 1, HX_REALM, rlen - n - 1) == 0))))
        return SASL_OK;
    sasl_seterror(conn, 0, "test policy: not allowed to act as this user");
    return SASL_NOAUTHZ;
}

static int new_server(const struct hx_server *s, sasl_conn_t **sc)
{
    static sasl_callback_t cb[2];
    sasl_security_properties_t sp;
    int rc;

    cb[0] = (sasl_callback_t){SASL_CB_PROXY_POLICY, HX_CB(proxy_policy),
                              s ? (void *)s->proxy_allow : NULL};
    cb[1] = (sasl_callback_t){SASL_CB_LIST_END, NULL, NULL};
    rc = sasl_server_new(HX_SERVICE, HX_FQDN, HX_REALM, NULL, NULL,
                         s && s->proxy_allow ? cb : cb + 1, 0, sc);
    if (rc != SASL_OK)
        return rc;
    memset(&sp, 0, sizeof(sp));
    sp.max_ssf = 256;
    sp.maxbufsize = 65536;
    sp.security_flags = s ? s->sec_flags : 0;
    return sasl_setprop(*sc, SASL_SEC_PROPS, &sp);
}

static void copy_str(char *dst, size_t max, const char *src)
{
    snprintf(dst, max, "%s", src ? src : "");
}

static void get_prop(sasl_conn_t *sc, int prop, char *dst, size_t max)
{
    const void *u = NULL;

    if (sasl_getprop(sc, prop, &u) != SASL_OK)
        u = NULL;
    copy_str(dst, max, u);
}

/* sasl_client_start or _step, answering prompts until it stops asking. */
static int client_go(sasl_conn_t *cc, const char *mech, int start, const char *in,
                     unsigned inlen, const char **out, unsigned *outlen, const struct hx_client *c)
{
    sasl_interact_t *prompts = NULL;
    const char *chosen = NULL;
    int rc, rounds = 0;

    do {
        if (start)
            rc = sasl_client_start(cc, mech, &prompts, c->no_initial ? NULL : out, outlen, &chosen);
        else
            rc = sasl_client_step(cc, in, inlen, &prompts, out, outlen);
        if (rc == SASL_INTERACT)
            answer_prompts(prompts, c);
    } while (rc == SASL_INTERACT && ++rounds < 4);
    return rc;
}

int hx_exchange(const char *mech, const struct hx_client *c, const struct hx_server *s,
                struct hx_outcome *o)
{
    sasl_conn_t *sc = NULL, *cc = NULL;
    const char *out = NULL, *sout = NULL;
    unsigned outlen = 0, soutlen = 0;
    char *cmsg = NULL, *smsg = NULL;
    int crc = SASL_NOTDONE, src, rounds;

    memset(o, 0, sizeof(*o));
    o->client_rc = o->server_rc = o->again_rc = SASL_NOTDONE;
    hx_log_reset();
    if ((src = new_server(s, &sc)) != SASL_OK || (src = new_client(c, &cc)) != SASL_OK) {
        o->server_rc = src;
        copy_str(o->server_err, sizeof(o->server_err), "sasl_*_new failed");
        goto done;
    }
    crc = client_go(cc, mech, 1, NULL, 0, &out, &outlen, c);
    if (hx_is_error(crc)) {
        src = SASL_NOTDONE;
        goto done;
    }
    cmsg = out ? hx_memdup(out, outlen) : NULL;
    src = sasl_server_start(sc, mech, cmsg, cmsg ? outlen : 0, &sout, &soutlen);
    for (rounds = 0; src == SASL_CONTINUE && rounds < 10; rounds++) {
        if (soutlen && !o->challenge[0])
            copy_str(o->challenge, sizeof(o->challenge), hx_show(sout, soutlen));
        free(smsg);
        smsg = hx_memdup(sout ? sout : "", soutlen);
        out = NULL;
        outlen = 0;
        crc = client_go(cc, mech, 0, smsg, soutlen, &out, &outlen, c);
        if (hx_is_error(crc))
            break;
        free(cmsg);
        cmsg = hx_memdup(out ? out : "", outlen);
        src = sasl_server_step(sc, cmsg, outlen, &sout, &soutlen);
    }
    if (src == SASL_OK) {
        get_prop(sc, SASL_USERNAME, o->username, sizeof(o->username));
        get_prop(sc, SASL_AUTHUSER, o->authuser, sizeof(o->authuser));
        /* an extra round: the client's last message replayed */
        o->again_rc = sasl_server_step(sc, cmsg ? cmsg : "", cmsg ? outlen : 0, &sout, &soutlen);
        get_prop(sc, SASL_USERNAME, o->again_username, sizeof(o->again_username));
    }
done:
    o->client_rc = crc;
    o->server_rc = src;
    if (hx_is_error(src) && sc && !o->server_err[0])
        copy_str(o->server_err, sizeof(o->server_err), sasl_errdetail(sc));
    if (hx_is_error(crc) && cc)
        copy_str(o->client_err, sizeof(o->client_err), sasl_errdetail(cc));
    free(cmsg);
    free(smsg);
    sasl_dispose(&cc);
    sasl_dispose(&sc);
    free(cur_secret);
    cur_secret = NULL;
    return src;
}

static void record(struct hx_script *r, int rc, const char *out, unsigned outlen)
{
    if (r->steps < HX_MAX_STEPS)
        r->rc[r->steps] = rc;
    r->steps++;
    if (rc == SASL_OK)
        r->ever_ok = 1;
    if (outlen >= sizeof(r->out))
        outlen = sizeof(r->out) - 1;
    if (out && outlen)
        memcpy(r->out, out, outlen);
    r->out[outlen && out ? outlen : 0] = '\0';
    r->outlen = out ? outlen : 0;
}

int hx_reply_list(void *arg, int step, const char *chal, unsigned chal_len, char **msg,
                  unsigned *msg_len)
{
    const struct hx_msgs *m = arg;

    (void)chal; (void)chal_len;
    if (step >= m->n)
        return HX_STOP;
    if (!m->msg[step].data)
        return HX_NONE;
    *msg = hx_memdup(m->msg[step].data, m->msg[step].len);
    *msg_len = m->msg[step].len;
    return m->msg[step].force ? HX_FORCE : HX_SEND;
}

int hx_server_script(const char *mech, hx_reply_fn *reply, void *arg, struct hx_script *r)
{
    sasl_conn_t *sc = NULL;
    const char *out = NULL;
    unsigned outlen = 0, len = 0;
    char *msg = NULL;
    int rc, k, step;

    memset(r, 0, sizeof(*r));
    hx_log_reset();
    if ((rc = new_server(NULL, &sc)) != SASL_OK) {
        record(r, rc, NULL, 0);
        copy_str(r->err, sizeof(r->err), "sasl_server_new failed");
        return rc;
    }
    k = reply(arg, 0, NULL, 0, &msg, &len);
    rc = sasl_server_start(sc, mech, msg, msg ? len : 0, &out, &outlen);
    record(r, rc, out, outlen);
    for (step = 1; step < HX_MAX_STEPS; step++) {
        free(msg);
        msg = NULL;
        len = 0;
        k = reply(arg, step, r->out, r->outlen, &msg, &len);
        if (k == HX_STOP || (hx_is_error(rc) && k != HX_FORCE))
            break;
        rc = sasl_server_step(sc, msg, len, &out, &outlen);
        record(r, rc, out, outlen);
    }
    free(msg);
    if (hx_is_error(rc))
        copy_str(r->err, sizeof(r->err), sasl_errdetail(sc));
    sasl_dispose(&sc);
    return rc;
}

int hx_client_script(const char *mech, const struct hx_client *c, const struct hx_msg *chal,
                     int n, struct hx_script *r)
{
    sasl_conn_t *cc = NULL;
    const char *out = NULL;
    unsigned outlen = 0;
    char *in;
    int rc, i;

    memset(r, 0, sizeof(*r));
    hx_log_reset();
    if ((rc = new_client(c, &cc)) != SASL_OK) {
        record(r, rc, NULL, 0);
        return rc;
    }
    rc = client_go(cc, mech, 1, NULL, 0, &out, &outlen, c);
    record(r, rc, out, outlen);
    for (i = 0; i < n && (rc == SASL_CONTINUE || rc == SASL_OK); i++) {
        in = chal[i].data ? hx_memdup(chal[i].data, chal[i].len) : NULL;
        out = NULL;
        outlen = 0;
        rc = client_go(cc, mech, 0, in, in ? chal[i].len : 0, &out, &outlen, c);
        record(r, rc, out, outlen);
        free(in);
    }
    if (hx_is_error(rc))
        copy_str(r->err, sizeof(r->err), sasl_errdetail(cc));
    sasl_dispose(&cc);
    free(cur_secret);
    cur_secret = NULL;
    return rc;
}

int hx_client_answer(const char *mech, const struct hx_client *c, const char *chal,
                     unsigned chal_len, char **msg, unsigned *msg_len)
{
    sasl_conn_t *cc = NULL;
    const char *out = NULL;
    unsigned outlen = 0;
    char *in;
    int rc;

    *msg = NULL;
    *msg_len = 0;
    if ((rc = new_client(c, &cc)) != SASL_OK)
        return rc;
    rc = client_go(cc, mech, 1, NULL, 0, &out, &outlen, c);
    if (rc == SASL_CONTINUE && !out) {
        in = hx_memdup(chal ? chal : "", chal_len);
        rc = client_go(cc, mech, 0, in, chal_len, &out, &outlen, c);
        free(in);
    }
    if (!hx_is_error(rc) && out) {
        *msg = hx_memdup(out, outlen);
        *msg_len = outlen;
    }
    sasl_dispose(&cc);
    free(cur_secret);
    cur_secret = NULL;
    return rc;
}

int hx_listmech(unsigned sec_flags, char *out, size_t outmax)
{
    struct hx_server s = {.sec_flags = sec_flags};
    sasl_conn_t *sc = NULL;
    const char *list = NULL;
    unsigned len = 0;
    int count = 0, rc;

    out[0] = '\0';
    if ((rc = new_server(&s, &sc)) == SASL_OK
        && (rc = sasl_listmech(sc, NULL, " ", " ", " ", &list, &len, &count)) == SASL_OK)
        copy_str(out, outmax, list);
    sasl_dispose(&sc);
    return rc;
}
