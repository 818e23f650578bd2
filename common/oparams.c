#include "config.h"
#include <sasl-mechs/oparams.h>

#include <string.h>

int sm_set_identities(const sasl_utils_t *utils, sm_canon_user_fn *canon_user,
                      const char *authcid, unsigned authcid_len,
                      const char *authzid, unsigned authzid_len,
                      sasl_out_params_t *oparams)
{
    int r;

    if (!authzid || !authzid_len || sm_same_identity(authcid, authcid_len, authzid, authzid_len))
        return canon_user(utils->conn, authcid, authcid_len,
                          SASL_CU_AUTHID | SASL_CU_AUTHZID, oparams);
    r = canon_user(utils->conn, authzid, authzid_len, SASL_CU_AUTHZID, oparams);
    if (r != SASL_OK)
        return r;
    return canon_user(utils->conn, authcid, authcid_len, SASL_CU_AUTHID, oparams);
}

/* prop_erase overwrites a value before it drops it (prop_clear and
 * prop_request free the pool without erasing it: a password an earlier
 * attempt looked up would stay in freed memory). */
static void oparams_props_erase(const sasl_utils_t *utils, struct propctx *ctx, int authzid_only)
{
    const struct propval *pv;

    for (pv = utils->prop_get(ctx); pv && pv->name; pv++)
        if (pv->values && (!authzid_only || pv->name[0] != '*'))
            utils->prop_erase(ctx, pv->name);
}

int sm_props_begin(const sasl_utils_t *utils, struct propctx *ctx, const char **names)
{
    oparams_props_erase(utils, ctx, 0);
    return names ? utils->prop_request(ctx, names) : SASL_OK;
}

void sm_props_forget_authzid(const sasl_utils_t *utils, struct propctx *ctx)
{
    oparams_props_erase(utils, ctx, 1);
}

void sm_props_forget(const sasl_utils_t *utils, struct propctx *ctx)
{
    if (ctx)
        oparams_props_erase(utils, ctx, 0);
}

void sm_oparams_done(sasl_out_params_t *oparams)
{
    sm_oparams_no_layer(oparams);
    oparams->doneflag = 1;
}

void sm_oparams_no_layer(sasl_out_params_t *oparams)
{
    oparams->mech_ssf = 0;
    oparams->maxoutbuf = 0;
    oparams->encode_context = NULL;
    oparams->encode = NULL;
    oparams->decode_context = NULL;
    oparams->decode = NULL;
    oparams->param_version = 0;
}

static int oparams_is_space(char c)
{
    /* isspace() in the C locale, whatever locale the application set */
    return c == ' ' || (c >= '\t' && c <= '\r');
}

int sm_same_identity(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && memcmp(a, b, alen) == 0;
}

int sm_identity_acceptable(const char *name, size_t len)
{
    return len > 0 && !oparams_is_space(name[0]) && !oparams_is_space(name[len - 1]);
}
