/* The in-process libsasl2 driver: a client and a server connection in one
 * process, talking through sasl_client_* and sasl_server_*.
 *
 * libsasl2 keeps one global plugin list per side and loads it once per
 * process, so every case runs in a forked child that initialises libsasl2
 * with its own plugin folders (hx_run).  sasl_server_init and
 * sasl_client_init each read SASL_CB_GETPATH from the callbacks they are
 * given, so one child can load our server plugin and Cyrus's client plugin
 * (or the reverse) from two different folders.  A crash, a hang or a
 * valgrind error in a child is reported as a failed case, and the cases after
 * it still run.
 *
 * harness.c holds the folders, the sasldb and the children; exchange.c holds
 * what a case does inside a child (connections, exchanges, scripted runs). */
#ifndef SM_HARNESS_H
#define SM_HARNESS_H

#include <sasl/sasl.h>

#include "tap.h"

/* libsasl2 stores callbacks as int (*)(void); going through void (*)(void)
 * tells the compiler that the conversion of each signature is meant. */
#define HX_CB(fn) ((int (*)(void))(void (*)(void))(fn))

/* Every server connection uses these; the sasldb users are created in HX_REALM. */
#define HX_APPNAME "smdriver"
#define HX_SERVICE "smtp"
#define HX_FQDN "mx.sm-driver.test"
#define HX_REALM "sm-driver.test"

/* The users of the test sasldb. */
#define HX_USER "alice"
#define HX_PASS "Secr3t-Pa55word"   /* searched for in every errdetail and log line */
#define HX_USER2 "bob"
#define HX_PASS2 "bob-Pa55-w0rd"
#define HX_UNKNOWN "mallory"        /* not in the sasldb */
/* RFC 2195's user and shared secret, stored as Dovecot's {CRAM-MD5} key schedule. */
#define HX_CRAM_USER "tim"
#define HX_CRAM_UPPER_USER "tom"    /* the same schedule in uppercase hex */
#define HX_CRAM_PASS "tanstaaftanstaaf"
/* its schedule, as stored (tests/driver/cram_md5_schedule.py recomputes it) */
#define HX_CRAM_SCHEDULE "d06d4e1b26fccaa4b0b61801132340a354b21152711fb604ca3e035e7015116b"

/* MS-NLMP 4.2.1's password, stored as its NT hash (tagged {NTLM}, as
 * Dovecot writes it): the NTOWFv1 of tests/vectors/ntlm.txt. */
#define HX_NT_USER "carol"
#define HX_NT_PASS "Password"
#define HX_NT_HASH "a4f49c406510bdcab6824ee7c30fd852"

/* A name outside ASCII (UTF-8), with HX_PASS: NTLM carries it as UTF-16
 * and upper-cases it (JÖRG) for NTOWFv2. */
#define HX_UNICODE_USER "j\xc3\xb6rg"

/* The folders built by hx_setup: symlinks to plugins, one plugin a mechanism. */
struct hx_env {
    char root[256];    /* temporary folder, removed by hx_cleanup */
    char ours[300];    /* our PLAIN, LOGIN, CRAM-MD5 and NTLM */
    char cyrus[300];   /* Cyrus's libplain, liblogin, libcrammd5, libntlm */
    char aux[300];     /* Cyrus's libsasldb (the auxprop every server needs) */
    char both[300];    /* ours and Cyrus's and libsasldb in one folder */
    char sasldb[300];
};
extern struct hx_env hx;

/* Build the folders and the sasldb; on failure print "not ok" and return -1. */
int hx_setup(void);
void hx_cleanup(void);
/* A symlink dstdir/name to srcdir/name (an absolute folder); on failure
 * print "not ok" and return -1. */
int hx_link_plugin(const char *srcdir, const char *name, const char *dstdir);
/* A throwaway MIT KDC (tests/krb5/kdc.sh start DIR): 0 once it answers,
 * with DIR/env's variables (KRB5_CONFIG, KRB5CCNAME, SM_KRB5_REALM ...)
 * exported into this process and so into every later child; -1 otherwise.
 * hx_kdc_stop stops it. */
int hx_kdc_start(const char *dir);
void hx_kdc_stop(const char *dir);
/* system(cmd) exited 0 */
int hx_system(const char *cmd);

/* "a:b" etc. into a static ring of buffers (valid for a few calls). */
const char *hx_path(const char *a, const char *b, const char *c);

/* What a child initialises libsasl2 with.  The option lists are
 * {"name", "value", ..., NULL} ("PLUGIN:name" answers only a lookup that
 * names that plugin, as Cyrus's plugins make); server options are added to sasldb_path,
 * pwcheck_method: auxprop, auxprop_plugin: sasldb and log_level: 7. */
struct hx_init {
    const char *server_path;
    const char *client_path;
    const char *const *server_opts;
    const char *const *client_opts;
};

/* One row of a case; runs in the child after sasl_*_init. */
typedef void hx_row_fn(int row, void *arg);
/* Run rows 0..nrows-1 of fn in a forked child (and again from the next row
 * if one dies), replaying the child's TAP records in the parent. */
void hx_run(const char *name, const struct hx_init *init, int nrows, hx_row_fn *fn, void *arg);

/* ---- in a child: harness.c -------------------------------------------- */

/* Name the current row, so that the parent can name it if the row dies. */
void hx_row_name(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Log lines of the current child since the last hx_log_reset (each
 * exchange and script starts with one). */
void hx_log_reset(void);
int hx_log_contains(const char *needle);
/* How many times needle appears in those log lines. */
int hx_log_count(const char *needle);
const char *hx_log_text(void);

/* ---- in a child: exchange.c -------------------------------------------- */

struct hx_client {
    const char *authname;
    const char *password;
    const char *authzid;   /* NULL or "": none */
    int interact;          /* no credential callbacks: answer SASL_INTERACT prompts */
    int no_initial;        /* clientout NULL in sasl_client_start: no initial response */
    int no_user_cb;        /* the application has no SASL_CB_USER callback at all */
    int count_canon;       /* a SASL_CB_CANON_USER callback (names unchanged) counts the calls */
};

struct hx_server {
    const char *proxy_allow; /* a SASL_CB_PROXY_POLICY that allows this authzid; NULL: libsasl2's */
    unsigned sec_flags;      /* security_flags set with SASL_SEC_PROPS */
    /* auxprop properties the application asks for about the authzid
     * (sasl_auxprop_request), NULL-terminated; NULL: none */
    const char *const *authz_props;
    int count_canon;         /* a SASL_CB_CANON_USER callback (names unchanged) counts the calls */
};

/* The canon_user calls of one side (count_canon), in order, with their
 * SASL_CU_AUTHID and SASL_CU_AUTHZID flags. */
struct hx_canon {
    int calls;
    unsigned flags[4];
};

struct hx_outcome {
    int client_rc, server_rc;
    char username[256];      /* SASL_USERNAME of the server after SASL_OK */
    char authuser[256];      /* SASL_AUTHUSER (the authentication identity) */
    char server_err[512];    /* sasl_errdetail after a failure, else "" */
    char client_err[512];
    char challenge[512];     /* the server's first non-empty challenge */
    char authz_prop[256];    /* after SASL_OK, the value of authz_props[0] ("" for none) */
    int again_rc;            /* the client's last message replayed after SASL_OK */
    char again_username[256];
    struct hx_canon client_canon, server_canon; /* with count_canon */
};

/* A whole exchange; returns o->server_rc. */
int hx_exchange(const char *mech, const struct hx_client *c, const struct hx_server *s,
                struct hx_outcome *o);
/* The same with a new client connection against a server connection the
 * caller made and keeps, so that several attempts share it as they share a
 * real connection (authz_prop and the replayed round are left empty). */
int hx_exchange_on(sasl_conn_t *sc, const char *mech, const struct hx_client *c,
                   struct hx_outcome *o);

/* Scripted exchanges against one side, for malformed and hostile messages. */
struct hx_msg {
    const char *data;      /* NULL: no message (no initial response) */
    unsigned len;
    int force;             /* sent even after the previous step failed */
};
#define HX_MSG(lit) {(lit), (unsigned)sizeof(lit) - 1, 0} /* keeps embedded NULs */
#define HX_FORCED(lit) {(lit), (unsigned)sizeof(lit) - 1, 1}
#define HX_MAX_STEPS 8

struct hx_script {
    int rc[HX_MAX_STEPS];  /* the result of each start/step */
    int steps;
    int ever_ok;           /* some step returned SASL_OK */
    char err[512];         /* sasl_errdetail after the last step */
    char out[1100];        /* the last output (NUL-terminated copy) */
    unsigned outlen;
};

/* The client message of step `step` (0: the initial response) after the
 * server said chal (NULL at step 0).  Return HX_SEND with *msg malloc'ed
 * (the harness frees it), HX_FORCE likewise but to be sent even after a
 * failed step, HX_NONE at step 0 for no initial response, or HX_STOP. */
enum { HX_SEND, HX_FORCE, HX_NONE, HX_STOP };
typedef int hx_reply_fn(void *arg, int step, const char *chal, unsigned chal_len,
                        char **msg, unsigned *msg_len);
/* Drive a server: start, then step while the replies last and the server
 * answers SASL_CONTINUE or SASL_OK (a step after SASL_OK is an extra round),
 * or after a failure when the reply is HX_FORCE. */
int hx_server_script(const char *mech, hx_reply_fn *reply, void *arg, struct hx_script *r);
/* hx_reply_fn over an array: arg is a struct hx_msgs. */
struct hx_msgs {
    const struct hx_msg *msg;
    int n;
};
hx_reply_fn hx_reply_list;

/* Drive a client with crafted server challenges: sasl_client_start, then one
 * sasl_client_step per challenge while it answers CONTINUE or OK. */
int hx_client_script(const char *mech, const struct hx_client *c,
                     const struct hx_msg *chal, int n, struct hx_script *r);

/* One client response to a challenge from the loaded client plugin (used as
 * an oracle); malloc'ed into *msg.  Returns the client's SASL code. */
int hx_client_answer(const char *mech, const struct hx_client *c, const char *chal,
                     unsigned chal_len, char **msg, unsigned *msg_len);

/* The client's second message: its first (an initial response) is made and
 * dropped, then chal answered (for client-first mechanisms such as NTLM). */
int hx_client_second(const char *mech, const struct hx_client *c, const char *chal,
                     unsigned chal_len, char **msg, unsigned *msg_len);

/* The server's mechanism list (sasl_listmech) with security flags set. */
int hx_listmech(unsigned sec_flags, char *out, size_t outmax);

/* A malloc'ed copy of len bytes plus a NUL sentinel (libsasl2 wants one). */
char *hx_memdup(const void *p, size_t len);
/* Printable rendering of bytes for diagnostics (static buffer). */
const char *hx_show(const char *p, size_t len);
/* Name of a SASL result code, e.g. "SASL_BADAUTH". */
const char *hx_code(int rc);
/* True for a result that ends an exchange in failure. */
int hx_is_error(int rc);
/* The errdetail says more than libsasl2's "SASL(n): text: " for rc. */
int hx_has_detail(int rc, const char *errdetail);

#endif
