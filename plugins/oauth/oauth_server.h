/* The XOAUTH2 and OAUTHBEARER plugins' two sides, shared by both: each
 * plugin's glue (oauth_plugin.c, built once for each) hands libsasl2
 * tables whose functions find their mechanism in the table's glob_context:
 * the client's is its settings read at load (struct oauth_client_settings,
 * oauth_clientcfg.h, which names the struct oauth_plugin), the server's the
 * plugin's settings object (struct oauth_settings, oauth_config.h). */
#ifndef OAUTH_SERVER_H
#define OAUTH_SERVER_H

#include <sasl/sasl.h>
#include <sasl/saslplug.h>
#include <sasl-mechs/plugin.h>
#include "oauth_codec.h"

/* One mechanism, as the glue describes it (the tables' glob_context). */
struct oauth_plugin {
    enum oauth_mech mech;
    const char *name;     /* "XOAUTH2" */
    const char *prefix;   /* "xoauth2": per-mechanism options <prefix>_<name> */
};

/* Read the server options (oauth_<name>, overridden by <prefix>_<name>)
 * and build the token verifier into the settings object whose first
 * member is set (a struct oauth_settings); the status every exchange then
 * reports. */
int oauth_server_options(const sasl_utils_t *utils, struct sm_server_settings *set);

sm_server_new_fn oauth_server_new;

/* SASL_NOMECH when the server side is not configured, so that libsasl2
 * does not offer a mechanism it cannot complete. */
int oauth_server_avail(void *glob, sasl_server_params_t *sparams, void **ctx);

sm_client_new_fn oauth_client_new;

#endif
