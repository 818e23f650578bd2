/* The guard against the wrong libsasl2 (common/abi.c), with a stand-in
 * libsasl2 (tests/driver/standin_sasl.c) in place of the real one.
 *
 * Each of our plugins (every libsaslmechs_*.so in SM_PLUGIN_DIR) is loaded
 * in a child process and its sasl_server_plug_init and sasl_client_plug_init
 * are called with a utils table whose functions live in a stand-in: one
 * with the layout of Cyrus SASL's next release (no _sasl_MD5Init; version
 * 2.1.28, as that branch still reports), one with 2.1's layout, one that
 * reports major version 3; and with the functions in this program, which is
 * no libsasl2 at all (unidentified: the guard lets the plugin load).  Where the stand-in's layout is not the one the
 * plugins were compiled for, plug_init must return SASL_BADVERS, register
 * nothing, make no call through the table (under the wrong layout every
 * member past the MD5 helpers is another function) and say why through
 * syslog (caught here: this program defines syslog, and exports it).  Where
 * it is the same layout, the guard must let the plugin load: its plug_init
 * goes on to read its options through the table (the stand-in then ends the
 * child with status 42) or returns another code than SASL_BADVERS. */
#include "config.h"
#include "tap.h"

#include <sasl-mechs/abi.h>

#include <dirent.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <syslog.h>
#include <sys/wait.h>

TAP_STATE_DEFINE

static char logged[1024];
static int logged_count;

__attribute__((format(printf, 1, 0)))
static void catch_log(const char *fmt, va_list ap)
{
    vsnprintf(logged, sizeof(logged), fmt, ap);
    logged_count++;
}

/* the plugins' syslog (and its fortified form) land here */
void syslog(int pri, const char *fmt, ...)
{
    va_list ap;

    (void)pri;
    va_start(ap, fmt);
    catch_log(fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 3, 4)))
void __syslog_chk(int pri, int flag, const char *fmt, ...);
void __syslog_chk(int pri, int flag, const char *fmt, ...)
{
    va_list ap;

    (void)pri, (void)flag;
    va_start(ap, fmt);
    catch_log(fmt, ap);
    va_end(ap);
}

struct standin {
    const char *file;   /* in SM_BUILDDIR/tests/driver/.libs */
    int major;
    enum sm_utils_layout layout;
};

static const struct standin standins[] = {
    {"standin_next.so", 2, SM_LAYOUT_NO_MD5},
    {"standin_md5.so", 2, SM_LAYOUT_MD5},
    {"standin_md5.so", 3, SM_LAYOUT_OTHER},
    /* the table's functions in this program, which is no libsasl2: nothing
     * proves the layout wrong, so the guard lets the plugin load */
    {NULL, 0, SM_LAYOUT_UNKNOWN},
};

/* the table of the last case: the first call ends the child (status 42) */
static int own_getopt(void *context, const char *plugin_name, const char *option,
                      const char **result, unsigned *len)
{
    (void)context, (void)plugin_name, (void)option, (void)result, (void)len;
    _exit(42);
}

static long own_trap(void)
{
    _exit(42);
}

/* one plug_init in this (child) process; the verdict down fd */
static void child(const struct standin *s, const char *standin_path, const char *plugin_path,
                  int server, int fd)
{
    union {
        sasl_utils_t u;
        void *slot[sizeof(sasl_utils_t) / sizeof(void *) + 8];
    } t;
    void *lib, *plugin, *trap;
    int *calls, *major, r, out_version = 0, count = -1;
    void *list = NULL;
    char verdict[1300];
    size_t i;

    tap_state.child_fd = fd;
    lib = s->file ? dlopen(standin_path, RTLD_NOW | RTLD_LOCAL) : NULL;
    if (s->file && !lib) {
        tap_ok(0, "load the stand-in %s: %s", standin_path, dlerror());
        _exit(1);
    }
    plugin = dlopen(plugin_path, RTLD_NOW | RTLD_LOCAL);
    if (!plugin) {
        tap_ok(0, "load %s: %s", plugin_path, dlerror());
        _exit(1);
    }
    if (lib) {
        major = dlsym(lib, "standin_major");
        calls = dlsym(lib, "standin_calls");
        trap = dlsym(lib, "standin_trap");
        *major = s->major;
        *(int *)dlsym(lib, "standin_exit_on_call") = s->layout == SM_LAYOUT_COMPILED;
    } else {
        static int no_calls;
        calls = &no_calls;
        long (*f)(void) = own_trap;
        memcpy(&trap, &f, sizeof(trap));
    }
    for (i = 0; i < sizeof(t.slot) / sizeof(t.slot[0]); i++)
        t.slot[i] = trap;
    t.u.version = 0; /* libsasl2 never fills it */
    t.u.conn = NULL;
    t.u.rpool = NULL;
    t.u.getopt_context = NULL;
    if (lib)
        *(void **)&t.u.getopt = dlsym(lib, "standin_getopt");
    else
        t.u.getopt = own_getopt;
    /* a plugin the guard lets through allocates */
    t.u.malloc = malloc;
    t.u.calloc = calloc;
    t.u.realloc = realloc;
    t.u.free = free;
    if (server) {
        sasl_server_plug_init_t *init;
        *(void **)&init = dlsym(plugin, "sasl_server_plug_init");
        r = init(&t.u, SASL_SERVER_PLUG_VERSION, &out_version, (sasl_server_plug_t **)&list,
                 &count);
    } else {
        sasl_client_plug_init_t *init;
        *(void **)&init = dlsym(plugin, "sasl_client_plug_init");
        r = init(&t.u, SASL_CLIENT_PLUG_VERSION, &out_version, (sasl_client_plug_t **)&list,
                 &count);
    }
    snprintf(verdict, sizeof(verdict), "%d %d %d %d %s", r, count, *calls, logged_count,
             logged);
    if (write(fd, verdict, strlen(verdict)) < 0)
        _exit(1);
    _exit(0);
}

static void one(const struct standin *s, const char *standin_path, const char *dir,
                const char *file, int server)
{
    char plugin_path[4096], buf[1400] = "";
    const char *side = server ? "server" : "client";
    int fds[2], status, r, count, calls, nlog, off = 0;
    ssize_t n;
    pid_t pid;
    int refuse = s->layout != SM_LAYOUT_COMPILED && s->layout != SM_LAYOUT_UNKNOWN;
    const char *name = s->file ? s->file : "no libsasl2 (this program)";

    snprintf(plugin_path, sizeof(plugin_path), "%s/%s", dir, file);
    if (pipe(fds) != 0)
        abort();
    pid = fork();
    if (pid == 0) {
        close(fds[0]);
        child(s, standin_path, plugin_path, server, fds[1]);
    }
    close(fds[1]);
    while ((n = read(fds[0], buf + off, sizeof(buf) - 1 - (size_t)off)) > 0)
        off += (int)n;
    buf[off] = '\0';
    close(fds[0]);
    waitpid(pid, &status, 0);
    int parsed = WIFEXITED(status) && WEXITSTATUS(status) == 0
                 && sscanf(buf, "%d %d %d %d %n", &r, &count, &calls, &nlog, &off) == 4;
    if (!refuse) {
        /* let through: it used the table (the stand-in ends the child with
         * 42 at the first call), or its plug_init returned another code */
        int used = WIFEXITED(status) && WEXITSTATUS(status) == 42;
        tap_ok(used || (parsed && r != SASL_BADVERS && !strstr(buf + off, "not loaded")),
               "%s %s under %s (major %d): the guard lets it load (%s)", file, side, name,
               s->major, used ? "it went on to use the table" : parsed ? "plug_init returned"
                                                                       : buf);
        return;
    }
    if (!parsed) {
        tap_ok(0, "%s %s under %s (major %d): the child %s (%s)", file, side, name, s->major,
               WIFSIGNALED(status) ? "crashed" : "failed", buf);
        return;
    }
    tap_ok(r == SASL_BADVERS && count == 0, "%s %s under %s (major %d): SASL_BADVERS, "
           "nothing registered (got %d, %d)", file, side, name, s->major, r, count);
    tap_ok(calls == 0, "%s %s under %s (major %d): no call through the utils table (%d)",
           file, side, name, s->major, calls);
    tap_ok(nlog == 1 && strstr(buf + off, "not loaded") && strstr(buf + off, name)
           && strstr(buf + off, "Rebuild sasl-mechs"),
           "%s %s under %s (major %d): one syslog line names the library and the remedy",
           file, side, name, s->major);
    tap_diag("%s", buf + off);
}

int main(void)
{
    const char *dir = getenv("SM_PLUGIN_DIR"), *build = getenv("SM_BUILDDIR");
    char standin_path[4096];
    struct dirent *e;
    DIR *d;
    size_t i;
    int plugins = 0;

    if (!dir || !build) {
        tap_ok(0, "SM_PLUGIN_DIR and SM_BUILDDIR are set (make check sets them)");
        return tap_done();
    }
    tap_diag("these plugins were compiled for the layout with%s the MD5 helpers",
             SM_LAYOUT_COMPILED == SM_LAYOUT_MD5 ? "" : "out");
    for (i = 0; i < sizeof(standins) / sizeof(standins[0]); i++) {
        snprintf(standin_path, sizeof(standin_path), "%s/tests/driver/.libs/%s", build,
                 standins[i].file ? standins[i].file : "");
        d = opendir(dir);
        if (!d) {
            tap_ok(0, "open %s", dir);
            return tap_done();
        }
        while ((e = readdir(d))) {
            size_t len = strlen(e->d_name);
            if (strncmp(e->d_name, "libsaslmechs_", 13) || len < 4
                || strcmp(e->d_name + len - 3, ".so"))
                continue;
            plugins++;
            one(&standins[i], standin_path, dir, e->d_name, 1);
            one(&standins[i], standin_path, dir, e->d_name, 0);
        }
        closedir(d);
    }
    tap_ok(plugins > 0, "found our plugins in %s (%d loads)", dir, plugins);
    return tap_done();
}
