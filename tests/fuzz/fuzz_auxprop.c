#include "fuzz_auxprop.h"

#include <string.h>

static char password[64];

void fuzz_auxprop_set_password(const char *p)
{
    strncpy(password, p, sizeof(password) - 1);
}

static int lookup(void *glob, sasl_server_params_t *sparams, unsigned flags,
                  const char *user, unsigned ulen)
{
    const struct propval *pv;
    const sasl_utils_t *utils = sparams->utils;
    size_t realm_sep;

    (void)glob;
    if (flags & SASL_AUXPROP_AUTHZID)
        return SASL_OK;
    /* canon_user hands us user@realm */
    realm_sep = strcspn(user, "@");
    if (realm_sep > ulen) realm_sep = ulen;
    if (realm_sep != strlen(FUZZ_USER) || memcmp(user, FUZZ_USER, realm_sep) != 0)
        return SASL_NOUSER;
    for (pv = utils->prop_get(sparams->propctx); pv && pv->name; pv++)
        if (strcmp(pv->name, SASL_AUX_PASSWORD) == 0) {
            if (pv->values && !(flags & SASL_AUXPROP_OVERRIDE))
                continue;
            if (pv->values)
                utils->prop_erase(sparams->propctx, pv->name);
            utils->prop_set(sparams->propctx, pv->name, password, (int)strlen(password));
        }
    return SASL_OK;
}

static sasl_auxprop_plug_t plug = {
    .auxprop_lookup = lookup,
    .name = "fuzzprop",
};

int fuzz_auxprop_init(const sasl_utils_t *utils, int max_version, int *out_version,
                      sasl_auxprop_plug_t **p, const char *plugname)
{
    (void)utils; (void)plugname;
    if (max_version < SASL_AUXPROP_PLUG_VERSION)
        return SASL_BADVERS;
    *out_version = SASL_AUXPROP_PLUG_VERSION;
    *p = &plug;
    return SASL_OK;
}
