/* libsasl2 glue for LOGIN: the two plugin tables and their entry points. */
#include "config.h"
#include "login.h"

#include <sasl-mechs/plugin.h>

static sasl_server_plug_t server_plugins[] = {{
    .mech_name = "LOGIN",
    .max_ssf = 0,
    .security_flags = SASL_SEC_NOANONYMOUS | SASL_SEC_PASS_CREDENTIALS,
    .features = 0,
    .mech_new = login_server_new,
    .mech_step = login_server_step,
    .mech_dispose = login_server_dispose,
}};

static const unsigned long required_prompts[] = {SASL_CB_AUTHNAME, SASL_CB_PASS, SASL_CB_LIST_END};

/* The client waits for "Username:": not every server takes the user name
 * as an initial response. */
static sasl_client_plug_t client_plugins[] = {{
    .mech_name = "LOGIN",
    .max_ssf = 0,
    .security_flags = SASL_SEC_NOANONYMOUS | SASL_SEC_PASS_CREDENTIALS,
    .features = SASL_FEAT_SERVER_FIRST,
    .required_prompts = required_prompts,
    .mech_new = login_client_new,
    .mech_step = login_client_step,
    .mech_dispose = login_client_dispose,
}};

SM_PLUGIN_ENTRY_POINTS("login", server_plugins, client_plugins,
                       login_server_options)
