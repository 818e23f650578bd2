/* The CRAM-MD5 plugin's two sides, as the glue in crammd5_plugin.c sees them. */
#ifndef CRAMMD5_H
#define CRAMMD5_H

#include <sasl/sasl.h>
#include <sasl/saslplug.h>
#include <sasl-mechs/plugin.h>

/* The server's settings, read at load (crammd5_server_options); the
 * glue keeps them and every mech_new gets them as glob. */
struct crammd5_settings {
    struct sm_server_settings common;
    unsigned secret_format; /* crammd5_secret_format: an index of its choices */
};
int crammd5_server_options(const sasl_utils_t *utils, struct sm_server_settings *set);

int crammd5_server_new(void *glob, sasl_server_params_t *sparams,
                       const char *challenge, unsigned challen, void **ctx);
int crammd5_server_step(void *ctx, sasl_server_params_t *sparams,
                        const char *in, unsigned inlen,
                        const char **out, unsigned *outlen, sasl_out_params_t *oparams);

int crammd5_client_new(void *glob, sasl_client_params_t *cparams, void **ctx);
int crammd5_client_step(void *ctx, sasl_client_params_t *cparams,
                        const char *in, unsigned inlen, sasl_interact_t **prompt_need,
                        const char **out, unsigned *outlen, sasl_out_params_t *oparams);

#endif
