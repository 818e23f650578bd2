/* The mech_new of a side whose context needs nothing at its start but what
 * sm_server_new_glob / sm_client_new set: the step runner's start and, on a
 * server, the plugin's settings (glob), kept in the context's member set.
 * libsasl2's prototype and that one call are written here once for every
 * such mechanism, as SM_PLUGIN_ENTRY_POINTS writes the entry points: a
 * side's file ends with, e.g.,
 *     SM_SERVER_NEW(login_server_new, "LOGIN", login_server_start, struct login_server)
 * first being the handler of its first step.
 * fn being the name its <mech>.h declares as sm_server_new_fn or
 * sm_client_new_fn.  A mech_new with work of its own (NTLM's refusal of a
 * configuration, GSSAPI's handles) is written out instead. */
#ifndef SASL_MECHS_MECH_NEW_H
#define SASL_MECHS_MECH_NEW_H

#include <stddef.h>
#include <sasl-mechs/plugin.h>

#define SM_SERVER_NEW(fn, mech, first, type)                                                   \
    int fn(void *glob, sasl_server_params_t *sparams, const char *challenge, unsigned challen, \
           void **ctx)                                                                         \
    {                                                                                          \
        (void)challenge;                                                                       \
        (void)challen;                                                                         \
        return sm_server_new_glob(sparams, glob, mech, first, sizeof(type),                   \
                                  offsetof(type, set), ctx);                                   \
    }

/* type: the client's context, a struct sm_client or one whose first member
 * is one */
#define SM_CLIENT_NEW(fn, mech, first, type)                                                   \
    int fn(void *glob, sasl_client_params_t *cparams, void **ctx)                              \
    {                                                                                          \
        (void)glob;                                                                            \
        return sm_client_new(cparams, mech, first, sizeof(type), ctx);                         \
    }

#endif
