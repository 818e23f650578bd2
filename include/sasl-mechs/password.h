/* The server half shared by PLAIN and LOGIN: canonicalise the identities,
 * then ask libsasl2's configured password check (pwcheck_method: auxprop,
 * saslauthd, ...) whether the password is right. */
#ifndef SASL_MECHS_PASSWORD_H
#define SASL_MECHS_PASSWORD_H

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

/* authcid and authzid must be followed by a NUL (libsasl2 reads to it);
 * the password need not be. */
struct sm_password_attempt {
    const char *authcid;
    unsigned authcid_len;
    const char *authzid; /* NULL or empty: none */
    unsigned authzid_len;
    const char *password;
    unsigned password_len;
    int password_terminated;  /* 1: password[password_len] is a NUL already */
};

/* SASL_OK with oparams complete, SASL_BADAUTH for any wrong credential
 * (unknown user included), SASL_NOAUTHZ for an authzid canon_user refuses,
 * or a temporary backend error as it is (sm_is_temporary). */
int sm_check_password(sasl_server_params_t *sparams, const char *mech,
                      const struct sm_password_attempt *a,
                      sasl_out_params_t *oparams);

#endif
