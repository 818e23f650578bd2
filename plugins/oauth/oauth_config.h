/* The server configuration of one OAuth plugin, as read at load time. */
#ifndef OAUTH_CONFIG_H
#define OAUTH_CONFIG_H

#include <stddef.h>
#include "oauth_server.h"
#include "oauth_verify.h"

#define OAUTH_CONFIG_MAX_LIST 32

struct oauth_server_config {
    int configured;                   /* 0: the mechanism is not offered */
    struct oauth_verifier *verifier;
    size_t max_token;
    const char *openid_configuration; /* for the OAUTHBEARER error JSON, or NULL */
    const char *error_scope;          /* the scope the error JSON names, or NULL */
    const char *issuers[OAUTH_CONFIG_MAX_LIST];
    size_t n_issuers;
    const char *audiences[OAUTH_CONFIG_MAX_LIST];
    size_t n_audiences;
    const char *scopes[OAUTH_CONFIG_MAX_LIST];
    size_t n_scopes;
    char *hmac_secret;
    size_t hmac_secret_len;
    char *client_secret;
};

/* One OAuth plugin's server settings object: its glue (oauth_plugin.c)
 * keeps one and hands it to libsasl2 as the server table's glob_context,
 * so that every mech_new receives it as glob. */
struct oauth_settings {
    struct sm_server_settings common; /* first: sm_server_new reads it from glob */
    const struct oauth_plugin *plugin;
    struct oauth_server_config cfg;
    char **owned;                     /* the strings cfg points to, freed at unload */
    size_t n_owned, cap_owned;
};

/* Read the options into set (set->plugin says which mechanism) and build
 * the verifier, after forgetting what set held: SASL_OK (configured or
 * not), SASL_CONFIGERR after logging why, or SASL_NOMEM. */
int oauth_config_read(struct oauth_settings *set, const sasl_utils_t *utils);
/* At unload: the verifier freed, the HMAC and client secrets erased, the
 * kept strings freed, set's configuration zeroed (set->plugin stays). */
void oauth_config_forget(struct oauth_settings *set);

/* Options of either side, oauth_<name> overridden by <prefix>_<name>:
 * the value (NULL when unset or empty), or validated as sm_opt_uint and
 * sm_opt_bool do. */
const char *oauth_opt_string(const struct oauth_plugin *p, const sasl_utils_t *utils,
                             const char *name);
int oauth_opt_uint(const struct oauth_plugin *p, const sasl_utils_t *utils, const char *name,
                   unsigned def, unsigned min, unsigned max, unsigned *out);
int oauth_opt_bool(const struct oauth_plugin *p, const sasl_utils_t *utils, const char *name,
                   int def, int *out);

#endif
