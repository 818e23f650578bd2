/* The LOGIN plugin's two sides, as the glue in login_plugin.c sees them. */
#ifndef LOGIN_H
#define LOGIN_H

#include <sasl/sasl.h>
#include <sasl/saslplug.h>
#include <sasl-mechs/plugin.h>

sm_server_new_fn login_server_new;
sm_dispose_fn login_server_dispose;

sm_client_new_fn login_client_new;

#endif
