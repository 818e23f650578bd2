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

sm_server_new_fn crammd5_server_new;

sm_client_new_fn crammd5_client_new;

#endif
