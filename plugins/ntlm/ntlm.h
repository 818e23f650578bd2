/* The NTLM plugin's two sides, as the glue in ntlm_plugin.c sees them. */
#ifndef NTLM_H
#define NTLM_H

#include <sasl/sasl.h>
#include <sasl/saslplug.h>
#include <sasl-mechs/plugin.h>
#include <sasl-mechs/stored_secret.h>

/* NetBIOS names are at most 15 characters; DNS names 255. */
#define NTLM_NB_NAME_MAX 15
#define NTLM_DNS_NAME_MAX 255
#define NTLM_PROPERTY_MAX 64

/* The server's settings, read at load (ntlm_server_options); the glue
 * keeps them and every mech_new gets them as glob. */
struct ntlm_settings {
    struct sm_server_settings common;
    int allow_v1, allow_lmv2, allow_v2_without_mic;
    int smb_server;             /* Cyrus's ntlm_server is set: refuse every exchange */
    char nb_domain[NTLM_NB_NAME_MAX + 1], nb_computer[NTLM_NB_NAME_MAX + 1];
    char dns_domain[NTLM_DNS_NAME_MAX + 1], dns_computer[NTLM_DNS_NAME_MAX + 1];
    char property[NTLM_PROPERTY_MAX];
    char request[NTLM_PROPERTY_MAX + 1]; /* "*property": the authid's, not the authzid's */
    struct sm_secret_rules rules;
};
int ntlm_server_options(const sasl_utils_t *utils, struct sm_server_settings *set);

sm_server_new_fn ntlm_server_new;
sm_dispose_fn ntlm_server_dispose;

sm_client_new_fn ntlm_client_new;

#endif
