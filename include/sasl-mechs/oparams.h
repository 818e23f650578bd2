/* Filling sasl_out_params_t: identities through the application's
 * canon_user, and the fields every mechanism without a security layer sets. */
#ifndef SASL_MECHS_OPARAMS_H
#define SASL_MECHS_OPARAMS_H

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

typedef int sm_canon_user_fn(sasl_conn_t *conn, const char *in, unsigned len,
                             unsigned flags, sasl_out_params_t *oparams);

/* Canonicalise authcid, and authzid when one is given (NULL or empty means
 * "act as authcid"); libsasl2's proxy policy decides later whether the
 * authcid may act as the authzid. */
int sm_set_identities(const sasl_utils_t *utils, sm_canon_user_fn *canon_user,
                      const char *authcid, unsigned authcid_len,
                      const char *authzid, unsigned authzid_len,
                      sasl_out_params_t *oparams);
/* Mark the exchange complete with no security layer. */
void sm_oparams_done(sasl_out_params_t *oparams);

#endif
