/* libsasl2 glue for CRAM-MD5: the two plugin tables and their entry points. */
#include "config.h"
#include "crammd5.h"

#include <sasl-mechs/plugin.h>

static sasl_server_plug_t server_plugins[] = {{
    .mech_name = "CRAM-MD5",
    .max_ssf = 0,
    .security_flags = SASL_SEC_NOANONYMOUS | SASL_SEC_NOPLAINTEXT,
    .features = SASL_FEAT_SERVER_FIRST,
    .mech_new = crammd5_server_new,
    .mech_step = crammd5_server_step,
    .mech_dispose = crammd5_server_dispose,
}};

static const unsigned long required_prompts[] = {SASL_CB_AUTHNAME, SASL_CB_PASS, SASL_CB_LIST_END};

static sasl_client_plug_t client_plugins[] = {{
    .mech_name = "CRAM-MD5",
    .max_ssf = 0,
    .security_flags = SASL_SEC_NOANONYMOUS | SASL_SEC_NOPLAINTEXT,
    .features = SASL_FEAT_SERVER_FIRST,
    .required_prompts = required_prompts,
    .mech_new = crammd5_client_new,
    .mech_step = crammd5_client_step,
    .mech_dispose = crammd5_client_dispose,
}};

SM_PLUGIN_ENTRY_POINTS("crammd5", server_plugins, client_plugins,
                       crammd5_server_options)
