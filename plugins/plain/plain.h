/* The PLAIN plugin's two sides, as the glue in plain_plugin.c sees them. */
#ifndef PLAIN_H
#define PLAIN_H

#include <sasl/sasl.h>
#include <sasl/saslplug.h>
#include <sasl-mechs/plugin.h>

sm_server_new_fn plain_server_new;

sm_client_new_fn plain_client_new;

#endif
