#include "config.h"
#include <sasl-mechs/password.h>
#include <sasl-mechs/memory.h>
#include <sasl-mechs/oparams.h>
#include <sasl-mechs/plugin.h>
#include <sasl-mechs/secret.h>
#include <sasl-mechs/stored_secret.h>

#include <string.h>

/* Canonicalise and check the authcid, then make the authzid the user.
 * libsasl2 2.1.28's canon_user and checkpass take lengths but still read up
 * to a NUL (strchr, strcmp): fuzzing caught them reading past the end of a
 * PLAIN message.  So they only ever see NUL-terminated strings: the caller
 * guarantees it for the identities, the password is copied before this. */
static int password_check(sasl_server_params_t *sparams, const char *mech,
                          const struct sm_password_attempt *a, const char *password,
                          sasl_out_params_t *oparams)
{
    const sasl_utils_t *utils = sparams->utils;
    /* an authzid that is the authcid byte for byte is no proxy login: one
     * canon_user call makes both identities (as Cyrus's PLAIN does), not a
     * second one, each a lookup of the application's callback */
    int proxy = a->authzid && a->authzid_len
                && !sm_same_identity(a->authcid, a->authcid_len, a->authzid, a->authzid_len), r;

    if (!sm_identity_acceptable(a->authcid, a->authcid_len)
        || (proxy && !sm_identity_acceptable(a->authzid, a->authzid_len)))
        return sm_auth_result(utils, mech, SASL_BADAUTH);
    if ((r = sm_props_begin(utils, sparams->propctx, NULL)) != SASL_OK)
        return r;
    /* EXTERNALLY_VERIFIED: checkpass decides whether the user exists, so a
     * user unknown to the auxprop (saslauthd sites) is not refused here, and
     * an unknown user costs the same password check as a known one */
    r = sparams->canon_user(utils->conn, a->authcid, a->authcid_len,
                            SASL_CU_AUTHID | SASL_CU_EXTERNALLY_VERIFIED
                            | (proxy ? 0 : SASL_CU_AUTHZID), oparams);
    if (r != SASL_OK)
        return sm_is_temporary(r) ? r : sm_auth_result(utils, mech, SASL_BADAUTH);
    if (sm_stored_secret_is_tagged_key(password, a->password_len))
        return sm_auth_result(utils, mech, SASL_BADAUTH);
    /* against the canonical authcid, so realms and case rules apply */
    r = utils->checkpass(utils->conn, oparams->authid, oparams->alen, password, a->password_len);
    if (r != SASL_OK)
        return sm_auth_result(utils, mech, r);
    /* auto_transition: libsasl2 stores the password for other mechanisms */
    if (sparams->transition)
        sparams->transition(utils->conn, password, a->password_len);
    if (proxy) {
        /* checkpass canonicalised the authcid as both identities, which
         * fetched the authcid's values of the properties the application
         * asked for about the authzid; the auxprop lookup for the authzid
         * keeps values already there, so erase them first or the
         * application reads the authcid's values under the authzid's name */
        sm_props_forget_authzid(utils, sparams->propctx);
        r = sparams->canon_user(utils->conn, a->authzid, a->authzid_len, SASL_CU_AUTHZID, oparams);
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
    r = password_check(sparams, mech, a, pw ? pw : a->password, oparams);
    sm_free_secret(utils, pw, a->password_len + 1u);
    return r;
}

int sm_check_stored_secret(void *arg, const struct sm_step_io *io, const char *mech,
                           const char *user, size_t len, const char *prop,
                           sm_secret_key_fn *key, sm_proof_fn *proves)
{
    const sasl_utils_t *utils = io->utils;
    struct propctx *props = io->sparams->propctx;
    const char *names[] = {prop, NULL};
    struct propval val[2];
    unsigned char k[SM_SECRET_KEY_LEN];
    char *name;
    int r, found, proven;

    if (!sm_identity_acceptable(user, len))
        return sm_auth_result(utils, mech, SASL_BADAUTH);
    if ((r = sm_props_begin(utils, props, names)) != SASL_OK)
        return r;
    /* canon_user reads up to a NUL whatever length it is given */
    if (!(name = sm_strndup(utils, user, len)))
        return SASL_NOMEM;
    r = io->sparams->canon_user(utils->conn, name, (unsigned)len,
                               SASL_CU_AUTHID | SASL_CU_AUTHZID, io->oparams);
    utils->free(name);
    memset(val, 0, sizeof(val));
    if (r == SASL_OK)
        utils->prop_getnames(props, names, val);
    found = key(arg, utils, &val[0], k);
    proven = proves(arg, k) && found;
    sm_erase(k, sizeof(k));
    utils->prop_erase(props, prop);
    return sm_secret_verdict(utils, mech, r, proven, io->oparams);
}
