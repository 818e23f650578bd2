#include "config.h"
#include <sasl-mechs/password.h>
#include <sasl-mechs/oparams.h>
#include <sasl-mechs/plugin.h>

int sm_check_password(sasl_server_params_t *sparams, const char *mech,
                      const struct sm_password_attempt *a,
                      sasl_out_params_t *oparams)
{
    const sasl_utils_t *utils = sparams->utils;
    int r = sm_set_identities(utils, sparams->canon_user, a->authcid, a->authcid_len,
                              a->authzid, a->authzid_len, oparams);

    if (r == SASL_NOMEM)
        return r;
    if (r != SASL_OK)
        return sm_fail(utils, SASL_BADAUTH, "%s: authentication failed (invalid user name)", mech);
    /* against the canonical authcid, so realms and case rules apply */
    r = utils->checkpass(utils->conn, oparams->authid, oparams->alen,
                         a->password, a->password_len);
    if (r != SASL_OK)
        return sm_auth_result(utils, mech, r);
    sm_oparams_done(oparams);
    return SASL_OK;
}
