/* What every plugin's glue and step functions share: the entry points'
 * common half, the server's settings read at load, the client's context,
 * the step prologue and the ways of saying that something failed. */
#ifndef SASL_MECHS_PLUGIN_H
#define SASL_MECHS_PLUGIN_H

#include <stddef.h>
#include <sasl/sasl.h>
#include <sasl/saslplug.h>
#include <sasl-mechs/options.h>
#include <sasl-mechs/outbuf.h>
#include <sasl-mechs/prompt.h>

/* Everything else is hidden with -fvisibility=hidden. */
#define SM_EXPORT __attribute__((visibility("default")))

/* The only two symbols a plugin exports; each <mech>_plugin.c defines them. */
SM_EXPORT sasl_server_plug_init_t sasl_server_plug_init;
SM_EXPORT sasl_client_plug_init_t sasl_client_plug_init;

/* Record an errdetail for the application and return code; libsasl2 also
 * logs it, once: do not log the same failure before calling this.  fmt is
 * printf's (formatted here, not by libsasl2: see plugin.c).  Never pass a
 * secret in the format arguments. */
int sm_fail(const sasl_utils_t *utils, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Errors the application must see as they are: a backend that is down
 * (saslauthd, an SQL or LDAP auxprop) is a temporary failure, not a wrong
 * password (Postfix answers 454, not 535). */
int sm_is_temporary(int result);

/* A step called after the exchange ended (the step runners' refusal). */
int sm_too_many_steps(const sasl_utils_t *utils, const char *mech);

/* A checkpass/lookup result as the application should see it: an unknown
 * user is reported exactly like a wrong password. */
int sm_auth_result(const sasl_utils_t *utils, const char *mech, int result);

/* The end of a server that checked a proof against a stored secret
 * (CRAM-MD5, NTLM): lookup is canon_user's result (it ran the auxprop
 * lookup), proven that a stored secret was found and the proof matched it.
 * A temporary lookup error is returned as it is, any other failure as
 * sm_auth_result's one "authentication failed"; on success the oparams are
 * done. */
int sm_secret_verdict(const sasl_utils_t *utils, const char *mech, int lookup, int proven,
                      sasl_out_params_t *oparams);

/* Server options are read once, when libsasl2 loads the plugin (the
 * server's configuration file is read before that), into the plugin's one
 * settings object, whose first member is a struct sm_server_settings.  The
 * plugin's glue keeps that object and hands it to libsasl2 as the
 * glob_context of its server table, so that every mech_new receives it as
 * glob.  A bad value is kept as status, with every refusal's option and
 * sentence (refused), which every exchange then reports as its errdetail
 * (sm_server_new): libsasl2 sends what a plugin logs while it loads to
 * syslog only, so the errdetail is what reaches the application's log. */
enum {
    SM_LIMIT_USER = 1u << 0,     /* <prefix>_max_user_length */
    SM_LIMIT_PASSWORD = 1u << 1, /* <prefix>_max_password_length */
};
struct sm_server_settings {
    int status;
    struct sm_opt_refusals refused; /* with a bad status: which options and why */
    struct sm_limits lim;
};

/* One plugin as its two entry points hand it to libsasl2. */
struct sm_plugin {
    const char *prefix;   /* of its options: <prefix>_enable, ... */
    const char *mech;     /* for messages */
    sasl_server_plug_t *server;
    int server_count;
    sasl_client_plug_t *client;
    int client_count;
    /* the first member of the plugin's settings object */
    struct sm_server_settings *settings;
    unsigned limits;      /* SM_LIMIT_*: the size caps its server reads */
    /* the mechanism's own server options, read after the limits into the
     * settings object whose first member is set; NULL: none */
    int (*read_settings)(const sasl_utils_t *utils, struct sm_server_settings *set);
    /* the same for options a plugin keeps outside its settings object;
     * NULL: none */
    int (*read_options)(const sasl_utils_t *utils);
    /* why the mechanism cannot work in this process (a library or provider
     * missing at run time), or NULL when it can; then neither side is
     * registered, and the reason is logged.  NULL hook: always available. */
    const char *(*unavailable)(void);
    /* what a client reads when it loads (before a chroot), once libsasl2's
     * layout is checked and the mechanism is enabled; NULL: nothing */
    void (*client_load)(const sasl_utils_t *utils);
};

/* The bodies of sasl_server_plug_init / sasl_client_plug_init.  The option
 * <prefix>_enable: no registers no mechanism, so that another plugin
 * offering the same name (Cyrus's own) is the only one libsasl2 sees: with
 * two, libsasl2 picks by directory order, which nobody controls.  A server
 * whose <prefix>_enable is neither yes nor no registers its mechanism and
 * fails every exchange with that reason, like any other bad option; a
 * client fails to load. */
int sm_server_plug_init(const struct sm_plugin *p, const sasl_utils_t *utils, int maxversion,
                        int *out_version, sasl_server_plug_t **pluglist, int *plugcount);
int sm_client_plug_init(const struct sm_plugin *p, const sasl_utils_t *utils, int maxversion,
                        int *out_version, sasl_client_plug_t **pluglist, int *plugcount);

/* The definitions of the two exported entry points for the struct
 * sm_plugin named plugin: every <mech>_plugin.c ends with
 * SM_PLUGIN_ENTRY_POINTS(<mech>_plugin). */
#define SM_PLUGIN_ENTRY_POINTS(plugin)                                                        \
    int sasl_server_plug_init(const sasl_utils_t *utils, int maxversion, int *out_version,   \
                              sasl_server_plug_t **pluglist, int *plugcount)                 \
    {                                                                                        \
        return sm_server_plug_init(&(plugin), utils, maxversion, out_version, pluglist,      \
                                   plugcount);                                               \
    }                                                                                        \
    int sasl_client_plug_init(const sasl_utils_t *utils, int maxversion, int *out_version,   \
                              sasl_client_plug_t **pluglist, int *plugcount)                 \
    {                                                                                        \
        return sm_client_plug_init(&(plugin), utils, maxversion, out_version, pluglist,      \
                                   plugcount);                                               \
    }

/* The entry points of one side of a mechanism, as libsasl2's plug tables
 * call them: each plugin declares its own with these types (login.h:
 * `sm_server_step_fn login_server_step;`), so the prototypes libsasl2
 * fixes are written once. */
typedef int sm_server_new_fn(void *glob, sasl_server_params_t *sparams,
                             const char *challenge, unsigned challen, void **ctx);
typedef int sm_server_step_fn(void *ctx, sasl_server_params_t *sparams,
                              const char *in, unsigned inlen,
                              const char **out, unsigned *outlen, sasl_out_params_t *oparams);
typedef int sm_client_new_fn(void *glob, sasl_client_params_t *cparams, void **ctx);
typedef int sm_client_step_fn(void *ctx, sasl_client_params_t *cparams,
                              const char *in, unsigned inlen, sasl_interact_t **prompt_need,
                              const char **out, unsigned *outlen, sasl_out_params_t *oparams);
typedef void sm_dispose_fn(void *ctx, const sasl_utils_t *utils);

/* A mechanism's state machine: each step is a handler, and the context
 * holds the handler of the next step (next), NULL once the exchange is over.
 * mech_new names the first; each handler sets *io->next before it returns:
 *     static int crammd5_server_send_challenge(void *ctx,
 *                                              const struct sm_step_io *io)
 *     {
 *         ...
 *         *io->next = crammd5_server_check_response;
 *         return SASL_CONTINUE;
 *     }
 * and the last one sets NULL (a step that may fail at once sets it first:
 * one attempt per exchange, whatever the outcome).  libsasl2's plug tables
 * point at sm_server_step and sm_client_step, which run next, and refuse a
 * step called after the end (or with the NULL context libsasl2 leaves after
 * a failed step) with "step called after the exchange ended": that refusal
 * is written once, here, not in every mechanism.
 *
 * What one call of a step hands its handler: libsasl2's arguments, the
 * server's or the client's (the other side's params NULL, prompt_need a
 * client's only). */
struct sm_step_io;
typedef int sm_step_handler(void *ctx, const struct sm_step_io *io);
struct sm_step_io {
    sasl_server_params_t *sparams;
    sasl_client_params_t *cparams;
    const sasl_utils_t *utils; /* the side's params->utils */
    const char *in;
    unsigned inlen;
    sasl_interact_t **prompt_need;
    const char **out;          /* NULL, 0 unless the handler answers */
    unsigned *outlen;
    sasl_out_params_t *oparams;
    sm_step_handler **next;    /* the context's next step: the handler sets it */
};

/* The mech_step of every server and every client plug table. */
sm_server_step_fn sm_server_step;
sm_client_step_fn sm_client_step;

/* The first member of every server context: the connection's property
 * context, whose values sm_server_dispose erases, and its state machine. */
struct sm_server {
    struct propctx *propctx;
    const char *mech;         /* for messages */
    sm_step_handler *next;    /* the next step's handler; NULL: over */
};
/* mech_new of a server: a zeroed context of size bytes whose first member
 * is a struct sm_server, whose first step is first, or the SASL_CONFIGERR
 * of a bad option. */
int sm_server_new(sasl_server_params_t *sparams, const struct sm_server_settings *settings,
                  const char *mech, sm_step_handler *first, size_t size, void **ctx);
/* mech_new of a server from the glob libsasl2 hands it: the plugin's
 * settings object, whose first member is its struct sm_server_settings.
 * As sm_server_new, and the context keeps glob in the pointer member at
 * set_offset (offsetof(struct <mech>_server, set)). */
int sm_server_new_glob(sasl_server_params_t *sparams, const void *glob, const char *mech,
                       sm_step_handler *first, size_t size, size_t set_offset,
                       void **ctx);
/* mech_dispose of a server (a plugin's own dispose ends with it): the
 * values in the connection's property context erased, the context freed.
 * libsasl2 disposes of the context right after a failed step (a wrong
 * password, a refused proxy policy), on the next sasl_server_start and in
 * sasl_dispose, never between a successful step and the application's
 * reading of the values: so the values an attempt that failed looked up
 * (another user's, with a name the attacker chose) are gone before any
 * mechanism, ours or not (libsasl2's EXTERNAL), looks up the next one. */
void sm_server_dispose(void *ctx, const sasl_utils_t *utils);

/* The first member of every client context: the credentials it obtained,
 * the buffer its steps' output lives in, and its state machine. */
struct sm_client {
    struct sm_creds creds;
    struct sm_outbuf out;
    const char *mech;         /* for messages */
    sm_step_handler *next;    /* the next step's handler; NULL: over */
};
/* mech_new of a client: a zeroed context of size bytes whose first member
 * is a struct sm_client, whose first step is first. */
int sm_client_new(sasl_client_params_t *cparams, const char *mech,
                  sm_step_handler *first, size_t size, void **ctx);
/* mech_dispose of a client: credentials and output erased, context freed. */
void sm_client_dispose(void *ctx, const sasl_utils_t *utils);
/* Hand libsasl2 what the step wrote into c->out. */
void sm_client_output(const struct sm_client *c, const char **out, unsigned *outlen);

#endif
