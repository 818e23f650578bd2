#include "config.h"
#include <sasl-mechs/password.h>
#include <sasl-mechs/crypto.h>
#include <sasl-mechs/memory.h>
#include <sasl-mechs/oparams.h>
#include <sasl-mechs/plugin.h>
#include <sasl-mechs/secret.h>

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
    unsigned char schedule[SM_HMAC_MD5_STATE_LEN];
    int proxy = authzid && authzid_len, r, is_schedule;

    /* EXTERNALLY_VERIFIED: checkpass decides whether the user exists, so a
     * user unknown to the auxprop (saslauthd sites) is not refused here, and
     * an unknown user costs the same password check as a known one */
    r = sparams->canon_user(utils->conn, authcid, authcid_len,
                            SASL_CU_AUTHID | SASL_CU_EXTERNALLY_VERIFIED
                            | (proxy ? 0 : SASL_CU_AUTHZID), oparams);
    if (r != SASL_OK)
        return sm_is_temporary(r) ? r : sm_auth_result(utils, mech, SASL_BADAUTH);
    /* a CRAM-MD5 key schedule stored as userPassword would otherwise be a
     * password itself: the stolen hash must not log in through PLAIN/LOGIN */
    is_schedule = sm_hmac_md5_state_parse(password, password_len, 1, schedule) == 0;
    sm_erase(schedule, sizeof(schedule));
    if (is_schedule)
        return sm_auth_result(utils, mech, SASL_BADAUTH);
    /* against the canonical authcid, so realms and case rules apply */
    r = utils->checkpass(utils->conn, oparams->authid, oparams->alen, password, password_len);
    if (r != SASL_OK)
        return sm_auth_result(utils, mech, r);
    /* auto_transition: libsasl2 stores the password for other mechanisms */
    if (sparams->transition)
        sparams->transition(utils->conn, password, password_len);
    /* only now a distinct authzid: checkpass canonicalises the authcid as
     * both identities again, which would overwrite an authzid set before it */
    if (proxy) {
        r = sparams->canon_user(utils->conn, authzid, authzid_len, SASL_CU_AUTHZID, oparams);
        if (r != SASL_OK)
            return sm_is_temporary(r) ? r
                 : sm_fail(utils, SASL_NOAUTHZ, "%s: authorization identity refused", mech);
    }
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
