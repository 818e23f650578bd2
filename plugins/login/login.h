/* The LOGIN plugin's two sides, as the glue in login_plugin.c sees them. */
#ifndef LOGIN_H
#define LOGIN_H

#include <sasl/sasl.h>
#include <sasl/saslplug.h>
#include <sasl-mechs/plugin.h>

int login_server_new(void *glob, sasl_server_params_t *sparams,
                     const char *challenge, unsigned challen, void **ctx);
int login_server_step(void *ctx, sasl_server_params_t *sparams,
                      const char *in, unsigned inlen,
                      const char **out, unsigned *outlen, sasl_out_params_t *oparams);
void login_server_dispose(void *ctx, const sasl_utils_t *utils);

int login_client_new(void *glob, sasl_client_params_t *cparams, void **ctx);
int login_client_step(void *ctx, sasl_client_params_t *cparams,
                      const char *in, unsigned inlen, sasl_interact_t **prompt_need,
                      const char **out, unsigned *outlen, sasl_out_params_t *oparams);

#endif
