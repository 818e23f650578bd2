/* The server halves that check a user's credential: PLAIN's and LOGIN's
 * password through libsasl2's configured check (pwcheck_method: auxprop,
 * saslauthd, ...), CRAM-MD5's and NTLM's proof against the stored secret
 * the auxprop lookup finds. */
#ifndef SASL_MECHS_PASSWORD_H
#define SASL_MECHS_PASSWORD_H

#include <sasl/sasl.h>
#include <sasl/saslplug.h>
#include <sasl-mechs/plugin.h>

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

/* A mechanism that checks a proof against a stored secret (CRAM-MD5, NTLM)
 * in two halves, each given the mechanism's arg.  key: the 16-byte key the
 * stored secret gives (CRAM-MD5: the HMAC-MD5 of its challenge; NTLM: the
 * NT hash), 1 when val held a usable one; without one the mechanism still
 * computes a key from a constant, so that an unknown user costs what a
 * wrong password costs.  proves: 1 when the client's proof matches key. */
#define SM_SECRET_KEY_LEN 16
typedef int sm_secret_key_fn(void *arg, const sasl_utils_t *utils, const struct propval *val,
                             unsigned char key[SM_SECRET_KEY_LEN]);
typedef int sm_proof_fn(void *arg, const unsigned char key[SM_SECRET_KEY_LEN]);

/* Such a server's check: the user name the client sent (len bytes, no NUL
 * needed) refused like a wrong password unless sm_identity_acceptable; the
 * property prop (the authentication identity's: "*name", as
 * SASL_AUX_PASSWORD) requested before canon_user, which runs the auxprop
 * lookup for the name as both identities; key and proves asked; the key
 * and the value erased; then sm_secret_verdict. */
int sm_check_stored_secret(void *arg, const struct sm_step_io *io, const char *mech,
                           const char *user, size_t len, const char *prop,
                           sm_secret_key_fn *key, sm_proof_fn *proves);

#endif
