/* libsasl2 glue for CRAM-MD5: the two plugin tables and their entry points. */
#include "config.h"
#include "crammd5.h"

static struct crammd5_settings crammd5_settings;

static sasl_server_plug_t server_plugins[] = {{
    .mech_name = "CRAM-MD5",
    .max_ssf = 0,
    .security_flags = SASL_SEC_NOANONYMOUS | SASL_SEC_NOPLAINTEXT,
    .features = SASL_FEAT_SERVER_FIRST,
    .glob_context = &crammd5_settings,
    .mech_new = crammd5_server_new,
    .mech_step = sm_server_step,
    .mech_dispose = sm_server_dispose,
}};

static const unsigned long required_prompts[] = {SASL_CB_AUTHNAME, SASL_CB_PASS, SASL_CB_LIST_END};

static sasl_client_plug_t client_plugins[] = {{
    .mech_name = "CRAM-MD5",
    .max_ssf = 0,
    .security_flags = SASL_SEC_NOANONYMOUS | SASL_SEC_NOPLAINTEXT,
    .features = SASL_FEAT_SERVER_FIRST,
    .required_prompts = required_prompts,
    .mech_new = crammd5_client_new,
    .mech_step = sm_client_step,
    .mech_dispose = sm_client_dispose,
}};

static const struct sm_plugin crammd5_plugin = {
    .prefix = "crammd5",
    .mech = "CRAM-MD5",
    .server = server_plugins,
    .server_count = 1,
    .client = client_plugins,
    .client_count = 1,
    .settings = &crammd5_settings.common,
    .limits = SM_LIMIT_USER,
    .read_settings = crammd5_server_options,
};

SM_PLUGIN_ENTRY_POINTS(crammd5_plugin)
