/* libsasl2 glue for LOGIN: the two plugin tables and their entry points. */
#include "config.h"
#include "login.h"


/* the server's settings, read at load; every mech_new gets them as glob */
static struct sm_server_settings login_settings;

static sasl_server_plug_t server_plugins[] = {{
    .mech_name = "LOGIN",
    .max_ssf = 0,
    .security_flags = SASL_SEC_NOANONYMOUS | SASL_SEC_PASS_CREDENTIALS,
    .features = 0,
    .glob_context = &login_settings,
    .mech_new = login_server_new,
    .mech_step = sm_server_step,
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
    .mech_step = sm_client_step,
    .mech_dispose = sm_client_dispose,
}};

static const struct sm_plugin login_plugin = {
    .prefix = "login",
    .mech = "LOGIN",
    .server = server_plugins,
    .server_count = 1,
    .client = client_plugins,
    .client_count = 1,
    .settings = &login_settings,
    .limits = SM_LIMIT_USER | SM_LIMIT_PASSWORD,
};

SM_PLUGIN_ENTRY_POINTS(login_plugin)
