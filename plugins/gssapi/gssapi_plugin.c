/* libsasl2 glue for GSSAPI: the two plugin tables and their entry points. */
#include "config.h"
#include "gssapi.h"

/* the flags and features of Cyrus's gssapiv2, so that neither plugin is
 * sorted ahead of the other for claiming more */
#define GSSAPI_SEC_FLAGS (SASL_SEC_NOPLAINTEXT | SASL_SEC_NOACTIVE | SASL_SEC_NOANONYMOUS \
                          | SASL_SEC_MUTUAL_AUTH | SASL_SEC_PASS_CREDENTIALS)
#define GSSAPI_FEATURES (SASL_FEAT_WANT_CLIENT_FIRST | SASL_FEAT_ALLOWS_PROXY | SASL_FEAT_CHANNEL_BINDING \
                         | SASL_FEAT_DONTUSE_USERPASSWD)

static struct gssapi_settings gssapi_settings;

static sasl_server_plug_t server_plugins[] = {{
    .mech_name = "GSSAPI",
    .max_ssf = 256,
    .security_flags = GSSAPI_SEC_FLAGS,
    .features = GSSAPI_FEATURES,
    .glob_context = &gssapi_settings,
    .mech_new = gssapi_server_new,
    .mech_step = sm_server_step,
    .mech_dispose = gssapi_server_dispose,
}};

/* credentials come from the ccache: nothing to prompt for */
static const unsigned long required_prompts[] = {SASL_CB_LIST_END};

static sasl_client_plug_t client_plugins[] = {{
    .mech_name = "GSSAPI",
    .max_ssf = 256,
    .security_flags = GSSAPI_SEC_FLAGS,
    .features = GSSAPI_FEATURES,
    .required_prompts = required_prompts,
    .mech_new = gssapi_client_new,
    .mech_step = sm_client_step,
    .mech_dispose = gssapi_client_dispose,
}};

static const struct sm_plugin gssapi_plugin = {
    .prefix = "gssapi",
    .mech = "GSSAPI",
    .server = server_plugins,
    .server_count = 1,
    .client = client_plugins,
    .client_count = 1,
    .settings = &gssapi_settings.common,
    .limits = SM_LIMIT_USER,
    .read_settings = gssapi_server_options,
};

SM_PLUGIN_ENTRY_POINTS(gssapi_plugin)
