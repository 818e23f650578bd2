/* The NTLM plugin's two sides, as the glue in ntlm_plugin.c sees them. */
#ifndef NTLM_H
#define NTLM_H

#include <sasl/sasl.h>
#include <sasl/saslplug.h>
#include <sasl-mechs/plugin.h>

extern struct sm_server_settings ntlm_settings;
int ntlm_server_options(const sasl_utils_t *utils);

int ntlm_server_new(void *glob, sasl_server_params_t *sparams,
                    const char *challenge, unsigned challen, void **ctx);
int ntlm_server_step(void *ctx, sasl_server_params_t *sparams,
                     const char *in, unsigned inlen,
                     const char **out, unsigned *outlen, sasl_out_params_t *oparams);
void ntlm_server_dispose(void *ctx, const sasl_utils_t *utils);

int ntlm_client_new(void *glob, sasl_client_params_t *cparams, void **ctx);
int ntlm_client_step(void *ctx, sasl_client_params_t *cparams,
                     const char *in, unsigned inlen, sasl_interact_t **prompt_need,
                     const char **out, unsigned *outlen, sasl_out_params_t *oparams);

#endif
