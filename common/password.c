#include "config.h"
#include <sasl-mechs/password.h>
#include <sasl-mechs/memory.h>
#include <sasl-mechs/oparams.h>
#include <sasl-mechs/plugin.h>

/* libsasl2 2.1.28's canon_user and checkpass take lengths but still read up
 * to a NUL (strchr, strcmp): fuzzing caught them reading past the end of a
 * PLAIN message.  So they only ever see NUL-terminated strings: the caller
 * guarantees it for the identities, the password is copied here. */
static int check(sasl_server_params_t *sparams, const char *mech,
                 const char *authcid, unsigned authcid_len,
                 const char *authzid, unsigned authzid_len,
                 const char *password, unsigned password_len,
                 sasl_out_params_t *oparams)
{
    const sasl_utils_t *utils = sparams->utils;
    int r = sparams->canon_user(utils->conn, authcid, authcid_len, SASL_CU_AUTHID, oparams);

    if (r == SASL_NOMEM)
        return r;
    if (r != SASL_OK)
        return sm_fail(utils, SASL_BADAUTH, "%s: authentication failed (invalid user name)", mech);
    /* against the canonical authcid, so realms and case rules apply */
    r = utils->checkpass(utils->conn, oparams->authid, oparams->alen, password, password_len);
    if (r != SASL_OK)
        return sm_auth_result(utils, mech, r);
    /* only now the authzid: checkpass canonicalises the authcid as both
     * identities again, which would overwrite an authzid set before it */
    if (authzid && authzid_len)
        r = sparams->canon_user(utils->conn, authzid, authzid_len, SASL_CU_AUTHZID, oparams);
    else
        r = sparams->canon_user(utils->conn, authcid, authcid_len, SASL_CU_AUTHZID, oparams);
    if (r != SASL_OK)
        return r == SASL_NOMEM ? r : sm_fail(utils, SASL_BADAUTH, "%s: invalid authorization identity", mech);
    sm_oparams_done(oparams);
    return SASL_OK;
}

int sm_check_password(sasl_server_params_t *sparams, const char *mech,
                      const struct sm_password_attempt *a,
                      sasl_out_params_t *oparams)
{
    const sasl_utils_t *utils = sparams->utils;
    char *pw = NULL;
    int r;

    if (!a->password_terminated && !(pw = sm_strndup(utils, a->password, a->password_len)))
        return SASL_NOMEM;
    r = check(sparams, mech, a->authcid, a->authcid_len, a->authzid,
              a->authzid ? a->authzid_len : 0, pw ? pw : a->password, a->password_len, oparams);
    sm_free_secret(utils, pw, a->password_len + 1u);
    return r;
}
