/* The loopback OAuth test server (tests/oauth/oauth_server.py) run by a unit
 * test: started in a fresh temporary directory (its keys, its port file,
 * its log), talked to with plain sockets (not with the code under test),
 * stopped with SIGTERM.  A server that cannot be started is a failure,
 * printed with the server's log: never a skip.
 *
 * Found through the environment `make check` sets: SM_SRCDIR (the script)
 * and SM_BUILDDIR (tests/oauth/oauth_mint); SM_PYTHON names the interpreter
 * (default python3). */
#ifndef OAUTH_TESTSERVER_H
#define OAUTH_TESTSERVER_H

#include <limits.h>
#include <sys/types.h>
#include "oauth_introspect.h"

struct ts {
    pid_t pid;
    int port;
    char dir[PATH_MAX];      /* temporary directory, removed by ts_stop */
    char base[64];           /* http://127.0.0.1:PORT */
    char introspect[96];     /* base/introspect */
};

/* extra: more server arguments, NULL-terminated (or NULL).  0 or -1 (the
 * reason and the server's log printed on stderr). */
int ts_start(struct ts *ts, const char *const *extra);
void ts_stop(struct ts *ts);

/* base + path in a static buffer (one at a time) */
const char *ts_url(const struct ts *ts, const char *path);

/* One request with an optional JSON body; returns the HTTP status (-1 on
 * a transport failure); *body (if not NULL) gets the malloc'd answer. */
int ts_call(const struct ts *ts, const char *method, const char *path, const char *json,
            char **body);

/* An access token the server signs (POST /mint) with the claims given as
 * JSON object text, ttl seconds to live (0: the server's default);
 * malloc'd, or NULL (a failure: the test says so). */
char *ts_mint(const struct ts *ts, const char *claims_json, int ttl);

/* The introspection client the tests use against the server: its endpoint,
 * the client the server knows (test-rs, rs-secret), a timeout long enough
 * for a request the server holds. */
void ts_introspect_config(const struct ts *ts, struct oauth_introspect_config *c);

/* A number from GET /stats: "refreshes", "introspections", ... or
 * "requests./token"; -1 when absent or on failure. */
long ts_stat(const struct ts *ts, const char *name);

/* POST /mode with the given JSON; 0 on success. */
int ts_mode(const struct ts *ts, const char *json);

/* A member of a JSON object held in a string, malloc'd (NULL if absent). */
char *ts_json_str(const char *json, const char *member);
long long ts_json_int(const char *json, const char *member);

/* Remove a directory tree (for the tests' own temporary directories). */
void ts_rmtree(const char *dir);

/* A port on 127.0.0.1 where nothing listens (bound, then closed). */
int ts_closed_port(void);

#endif
