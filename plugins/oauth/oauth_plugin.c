/* libsasl2 glue for XOAUTH2 or OAUTHBEARER: the two plugin tables and their
 * entry points, built once for each plugin (-DOAUTH_GLUE_XOAUTH2 or
 * -DOAUTH_GLUE_OAUTHBEARER).  Both sides are the shared OAuth code
 * (oauth_server.c, oauth_client.c). */
#include "config.h"
#include "oauth_server.h"
#include "oauth_config.h"
#include "oauth_http.h"
#include "oauth_clientcfg.h"

#if defined(OAUTH_GLUE_XOAUTH2)
#define GLUE_MECH OAUTH_MECH_XOAUTH2
#define GLUE_NAME "XOAUTH2"
#define GLUE_PREFIX "xoauth2"
#elif defined(OAUTH_GLUE_OAUTHBEARER)
#define GLUE_MECH OAUTH_MECH_OAUTHBEARER
#define GLUE_NAME "OAUTHBEARER"
#define GLUE_PREFIX "oauthbearer"
#else
#error "build with -DOAUTH_GLUE_XOAUTH2 or -DOAUTH_GLUE_OAUTHBEARER"
#endif

static const struct oauth_plugin mech = {
    .mech = GLUE_MECH,
    .name = GLUE_NAME,
    .prefix = GLUE_PREFIX,
};

/* the server's settings, read at load; every mech_new gets them as glob */
static struct oauth_settings settings = {.plugin = &mech};

/* the client's settings, read at load (before a chroot); every mech_new
 * gets them as glob */
static struct oauth_client_settings client_settings = {.plugin = &mech, .dir_fd = -1};

/* at unload: the verifier freed, the secrets erased */
__attribute__((destructor)) static void plugin_unload(void)
{
    oauth_config_forget(&settings);
    oauth_client_settings_forget(&client_settings);
}

/* Bearer tokens travel in the clear: plaintext, like PLAIN (libsasl2 then
 * refuses them without TLS where the application asks for noplaintext). */
static sasl_server_plug_t server_plugins[] = {{
    .mech_name = GLUE_NAME,
    .max_ssf = 0,
    .security_flags = SASL_SEC_NOANONYMOUS | SASL_SEC_PASS_CREDENTIALS,
    .features = SASL_FEAT_WANT_CLIENT_FIRST | SASL_FEAT_ALLOWS_PROXY,
    .glob_context = &settings,
    .mech_new = oauth_server_new,
    .mech_step = sm_server_step,
    .mech_dispose = sm_server_dispose,
    .mech_avail = oauth_server_avail,
}};

static const unsigned long required_prompts[] = {SASL_CB_AUTHNAME, SASL_CB_LIST_END};

static sasl_client_plug_t client_plugins[] = {{
    .mech_name = GLUE_NAME,
    .max_ssf = 0,
    .security_flags = SASL_SEC_NOANONYMOUS | SASL_SEC_PASS_CREDENTIALS,
    .features = SASL_FEAT_WANT_CLIENT_FIRST | SASL_FEAT_ALLOWS_PROXY,
    .required_prompts = required_prompts,
    .glob_context = &client_settings,
    .mech_new = oauth_client_new,
    .mech_step = sm_client_step,
    .mech_dispose = sm_client_dispose,
}};

/* what a chrooted client cannot open later: the CA bundle, the token
 * folder (oauth_clientcfg.h) */
static void plugin_client_load(const sasl_utils_t *utils)
{
    /* libcurl's and jansson's erasing allocators go in while the application
     * is most likely still one thread (sasl_client_init), not at the first
     * token file use, when other threads may be inside jansson; a failure
     * here is reported by that use */
    (void)oauth_http_init(NULL);
    oauth_client_settings_load(&client_settings, utils);
}

static const struct sm_plugin plugin = {
    .prefix = GLUE_PREFIX,
    .mech = GLUE_NAME,
    .server = server_plugins,
    .server_count = 1,
    .client = client_plugins,
    .client_count = 1,
    .settings = &settings.common,
    .limits = 0,
    .read_settings = oauth_server_options,
    .client_load = plugin_client_load,
};

SM_PLUGIN_ENTRY_POINTS(plugin)
