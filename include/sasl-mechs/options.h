/* Options from the application's configuration (e.g. Postfix's
 * sasl/smtpd.conf) through libsasl2's getopt, named <mech>_<option>.
 * A value that does not validate is reported with its name and the
 * accepted range, and the caller fails with SASL_CONFIGERR. */
#ifndef SASL_MECHS_OPTIONS_H
#define SASL_MECHS_OPTIONS_H

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

/* Each returns SASL_OK (with the default when the option is unset) or
 * SASL_CONFIGERR after logging why (and keeping it: sm_opt_keep_refusals). */
int sm_opt_uint(const sasl_utils_t *utils, const char *name,
                unsigned def, unsigned min, unsigned max, unsigned *out);
int sm_opt_bool(const sasl_utils_t *utils, const char *name, int def, int *out);
/* A text value copied into out (cap bytes with its NUL); "" when unset.
 * Refused: control characters, or a value that does not fit. */
int sm_opt_string(const sasl_utils_t *utils, const char *name, char *out, size_t cap);
/* An option of Cyrus's plugin of the same mechanism, read under its name as
 * that plugin reads it: getopt is asked with Cyrus's plugin name (e.g.
 * "GSSAPI"), which an application's getopt may use (Cyrus IMAP looks up
 * sasl_<plugin>_<option> first); a configuration file ignores it. */
int sm_opt_cyrus_string(const sasl_utils_t *utils, const char *plugin, const char *name,
                        char *out, size_t cap);
int sm_opt_cyrus_bool(const sasl_utils_t *utils, const char *plugin, const char *name, int def,
                      int *out);
/* 1 when that option of Cyrus's plugin is set at all (to anything). */
int sm_opt_cyrus_is_set(const sasl_utils_t *utils, const char *plugin, const char *name);
/* choices is NULL-terminated; *out is the index of the value chosen. */
int sm_opt_choice(const sasl_utils_t *utils, const char *name,
                  const char *const *choices, unsigned def, unsigned *out);

/* The size caps a server reads, as <prefix>_max_user_length (an authcid or
 * authzid, default 255) and, for mechanisms that receive a password,
 * <prefix>_max_password_length (default 1024). */
struct sm_limits {
    unsigned max_user;
    unsigned max_password;
};
#define SM_DEFAULT_MAX_USER 255u
/* libsasl2 canonicalises names (with the realm) in a 1024-byte buffer */
#define SM_MAX_USER_LIMIT 1000u
#define SM_DEFAULT_MAX_PASSWORD 1024u
/* the longest a client's credential callback may answer (prompt.c) */
#define SM_MAX_PASSWORD_LIMIT 65535u
/* Why options were refused while a plugin loaded, kept in that plugin's
 * server settings (struct sm_server_settings) for the errdetail of every
 * exchange: libsasl2 sends what is logged while a plugin loads to syslog
 * only.  Each refusal is one sentence (at most SM_OPT_REASON_MAX bytes)
 * that names the option and says what is wrong, e.g.
 * 'plain_max_user_length: "0" is not a number from 1 to 1000'; reasons
 * holds them in order, "; " between them, as many as fit (kept of count:
 * the errdetail says when some did not, and the log names every one). */
#define SM_OPT_REASON_MAX 256
#define SM_OPT_REASONS_MAX (2 * SM_OPT_REASON_MAX)
/* "<prefix>_<option>" */
#define SM_OPT_NAME_MAX 64
struct sm_opt_refusals {
    unsigned count;                   /* options refused; 0: none */
    unsigned kept;                    /* of them, the sentences in reasons */
    char option[SM_OPT_NAME_MAX];     /* the name of the last one refused */
    char reasons[SM_OPT_REASONS_MAX]; /* "sentence; sentence ..." */
    size_t last_at;                   /* where the last sentence kept starts */
};
/* The last sentence kept, or "" when none is. */
const char *sm_opt_refusals_last(const struct sm_opt_refusals *r);
/* Keep the refusals made without a connection (utils->conn NULL: libsasl2
 * loading a plugin, one thread) in into, emptied first, until
 * sm_opt_keep_refusals(NULL); refusals made while none is set are only
 * logged.  sm_server_plug_init points it at the plugin's own settings for
 * the time it reads them.  On a connection the sentence is that
 * connection's errdetail instead. */
void sm_opt_keep_refusals(struct sm_opt_refusals *into);

/* Refuse option name for a reason of the caller's (a file it names cannot
 * be read, options that contradict each other): the sentence fmt makes
 * must name the option (and any other option involved) and what to do.
 * Logged, kept or set as errdetail as above; returns SASL_CONFIGERR. */
int sm_opt_refuse(const sasl_utils_t *utils, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Reads only the options asked for (read_user, read_password); the others
 * keep their defaults and are not options of that mechanism. */
int sm_read_limits(const sasl_utils_t *utils, const char *prefix, int read_user,
                   int read_password, struct sm_limits *lim);

#endif
