/* libsasl2 glue for PLAIN: the two plugin tables and their entry points. */
#include "config.h"
#include "plain.h"

#include <sasl-mechs/plugin.h>

static sasl_server_plug_t server_plugins[] = {{
    .mech_name = "PLAIN",
    .max_ssf = 0,
    .security_flags = SASL_SEC_NOANONYMOUS | SASL_SEC_PASS_CREDENTIALS,
    .features = SASL_FEAT_WANT_CLIENT_FIRST | SASL_FEAT_ALLOWS_PROXY,
    .mech_new = plain_server_new,
    .mech_step = plain_server_step,
    .mech_dispose = plain_server_dispose,
}};

static const unsigned long required_prompts[] = {SASL_CB_AUTHNAME, SASL_CB_PASS, SASL_CB_LIST_END};

static sasl_client_plug_t client_plugins[] = {{
    .mech_name = "PLAIN",
    .max_ssf = 0,
    .security_flags = SASL_SEC_NOANONYMOUS | SASL_SEC_PASS_CREDENTIALS,
    .features = SASL_FEAT_WANT_CLIENT_FIRST | SASL_FEAT_ALLOWS_PROXY,
    .required_prompts = required_prompts,
    .mech_new = plain_client_new,
    .mech_step = plain_client_step,
    .mech_dispose = plain_client_dispose,
}};

SM_PLUGIN_ENTRY_POINTS("plain", server_plugins, client_plugins,
                       plain_server_options)
