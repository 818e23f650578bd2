/* libsasl2 glue for NTLM: the two plugin tables and their entry points. */
#include "config.h"
#include "ntlm.h"
#include "ntlm_crypto.h"

static struct ntlm_settings ntlm_settings;

static sasl_server_plug_t server_plugins[] = {{
    .mech_name = "NTLM",
    .max_ssf = 0,
    .security_flags = SASL_SEC_NOANONYMOUS | SASL_SEC_NOPLAINTEXT,
    .features = SASL_FEAT_WANT_CLIENT_FIRST | SASL_FEAT_SUPPORTS_HTTP,
    .glob_context = &ntlm_settings,
    .mech_new = ntlm_server_new,
    .mech_step = sm_server_step,
    .mech_dispose = ntlm_server_dispose,
}};

static const unsigned long required_prompts[] = {SASL_CB_AUTHNAME, SASL_CB_PASS, SASL_CB_LIST_END};

static sasl_client_plug_t client_plugins[] = {{
    .mech_name = "NTLM",
    .max_ssf = 0,
    .security_flags = SASL_SEC_NOANONYMOUS | SASL_SEC_NOPLAINTEXT,
    .features = SASL_FEAT_WANT_CLIENT_FIRST | SASL_FEAT_SUPPORTS_HTTP,
    .required_prompts = required_prompts,
    .mech_new = ntlm_client_new,
    .mech_step = sm_client_step,
    .mech_dispose = sm_client_dispose,
}};

/* Without MD4 there is no NTLM: offer nothing rather than fail every
 * exchange. */
static const char *ntlm_plugin_legacy_missing(void)
{
    return ntlm_crypto_available() ? NULL
                                   : "OpenSSL's legacy provider (MD4, DES, RC4) cannot be loaded";
}

static const struct sm_plugin ntlm_plugin = {
    .prefix = "ntlm",
    .mech = "NTLM",
    .server = server_plugins,
    .server_count = 1,
    .client = client_plugins,
    .client_count = 1,
    .settings = &ntlm_settings.common,
    .limits = SM_LIMIT_USER,
    .read_settings = ntlm_server_options,
    .unavailable = ntlm_plugin_legacy_missing,
};

SM_PLUGIN_ENTRY_POINTS(ntlm_plugin)
