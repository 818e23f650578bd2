/* What every plugin's glue needs: the export attribute, and the shared
 * ways of saying that a message is malformed or a step came too often. */
#ifndef SASL_MECHS_PLUGIN_H
#define SASL_MECHS_PLUGIN_H

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

/* Everything else is hidden with -fvisibility=hidden. */
#define SM_EXPORT __attribute__((visibility("default")))

/* Record an errdetail for the application and return code. Never pass a
 * secret in the format arguments. */
int sm_fail(const sasl_utils_t *utils, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Errors the application must see as they are: a backend that is down
 * (saslauthd, an SQL or LDAP auxprop) is a temporary failure, not a wrong
 * password (Postfix answers 454, not 535). */
int sm_is_temporary(int result);

/* The default of every step switch. */
int sm_too_many_steps(const sasl_utils_t *utils, const char *mech);

/* A checkpass/lookup result as the application should see it: an unknown
 * user is reported exactly like a wrong password. */
int sm_auth_result(const sasl_utils_t *utils, const char *mech, int result);

/* The two exported entry points of a plugin, handing libsasl2 its tables.
 * The option <prefix>_enable: no registers no mechanism, so that another
 * plugin offering the same name (Cyrus's own) is the only one libsasl2 sees:
 * with two, libsasl2 picks by directory order, which nobody controls. */
int sm_plug_init(const sasl_utils_t *utils, const char *prefix, int maxversion,
                 int wanted, const char *side, int *out_version, int *plugcount,
                 int count);

/* Server options are read once, when libsasl2 loads the plugin (the server's
 * configuration file is read before that): read_server_options(utils)
 * stores them, or the SASL_CONFIGERR that every exchange then reports with
 * sm_config_error, so a typo shows up in the log of each attempt. */
int sm_config_error(const sasl_utils_t *utils, const char *mech);

#define SM_PLUGIN_ENTRY_POINTS(prefix, server_table, client_table, read_server_options) \
    SM_EXPORT int sasl_server_plug_init(const sasl_utils_t *, int, int *,           \
                                        sasl_server_plug_t **, int *);              \
    SM_EXPORT int sasl_client_plug_init(const sasl_utils_t *, int, int *,           \
                                        sasl_client_plug_t **, int *);              \
    int sasl_server_plug_init(const sasl_utils_t *utils, int maxversion,            \
                              int *out_version, sasl_server_plug_t **pluglist,      \
                              int *plugcount)                                       \
    {                                                                               \
        int r_ = sm_plug_init(utils, prefix, maxversion, SASL_SERVER_PLUG_VERSION,  \
                              "server", out_version, plugcount,                     \
                              (int)(sizeof(server_table) / sizeof(server_table[0]))); \
        *pluglist = server_table;                                                   \
        if (r_ == SASL_OK)                                                          \
            read_server_options(utils);                                             \
        return r_;                                                                  \
    }                                                                               \
    int sasl_client_plug_init(const sasl_utils_t *utils, int maxversion,            \
                              int *out_version, sasl_client_plug_t **pluglist,      \
                              int *plugcount)                                       \
    {                                                                               \
        *pluglist = client_table;                                                   \
        return sm_plug_init(utils, prefix, maxversion, SASL_CLIENT_PLUG_VERSION,    \
                            "client",                                               \
                            out_version, plugcount,                                 \
                            (int)(sizeof(client_table) / sizeof(client_table[0]))); \
    }

#endif
