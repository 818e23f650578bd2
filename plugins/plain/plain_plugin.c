/* libsasl2 glue for PLAIN: the two plugin tables and their entry points. */
#include "config.h"
#include "plain.h"

/* the server's settings, read at load; every mech_new gets them as glob */
static struct sm_server_settings plain_settings;

static sasl_server_plug_t server_plugins[] = {{
    .mech_name = "PLAIN",
    .max_ssf = 0,
    .security_flags = SASL_SEC_NOANONYMOUS | SASL_SEC_PASS_CREDENTIALS,
    .features = SASL_FEAT_WANT_CLIENT_FIRST | SASL_FEAT_ALLOWS_PROXY,
    .glob_context = &plain_settings,
    .mech_new = plain_server_new,
    .mech_step = sm_server_step,
    .mech_dispose = sm_server_dispose,
}};

static const unsigned long required_prompts[] = {SASL_CB_AUTHNAME, SASL_CB_PASS, SASL_CB_LIST_END};

static sasl_client_plug_t client_plugins[] = {{
    .mech_name = "PLAIN",
    .max_ssf = 0,
    .security_flags = SASL_SEC_NOANONYMOUS | SASL_SEC_PASS_CREDENTIALS,
    .features = SASL_FEAT_WANT_CLIENT_FIRST | SASL_FEAT_ALLOWS_PROXY,
    .required_prompts = required_prompts,
    .mech_new = plain_client_new,
    .mech_step = sm_client_step,
    .mech_dispose = sm_client_dispose,
}};

static const struct sm_plugin plain_plugin = {
    .prefix = "plain",
    .mech = "PLAIN",
    .server = server_plugins,
    .server_count = 1,
    .client = client_plugins,
    .client_count = 1,
    .settings = &plain_settings,
    .limits = SM_LIMIT_USER | SM_LIMIT_PASSWORD,
};

SM_PLUGIN_ENTRY_POINTS(plain_plugin)
