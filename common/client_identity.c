#include "config.h"
#include <sasl-mechs/client_identity.h>
#include <sasl-mechs/oparams.h>

#include <string.h>

/* what the application answered, before canon_user sees it */
static int client_identity_check(const struct sm_client *c, const sasl_utils_t *utils,
                                 unsigned checks)
{
    const struct sm_creds *cr = &c->creds;
    int sent = (checks & SM_PASSWORD_SENT) != 0;

    if (!*cr->authname || (sent && !cr->password_len))
        return sm_fail(utils, SASL_BADPARAM, "%s: empty %s", c->mech,
                       *cr->authname ? "password" : "user name");
    if (sent && memchr(cr->password, '\0', cr->password_len))
        return sm_fail(utils, SASL_BADPARAM, "%s: the password contains a NUL byte", c->mech);
    return SASL_OK;
}

int sm_client_identities(struct sm_client *c, const struct sm_step_io *io, unsigned want,
                         unsigned checks)
{
    const struct sm_creds *cr = &c->creds;
    int r = sm_get_creds(io->cparams, want, io->prompt_need, &c->creds);

    if (r != SASL_OK || (r = client_identity_check(c, io->utils, checks)) != SASL_OK)
        return r;
    r = sm_set_identities(io->utils, io->cparams->canon_user, cr->authname,
                          (unsigned)strlen(cr->authname), cr->authzid,
                          cr->authzid ? (unsigned)strlen(cr->authzid) : 0, io->oparams);
    if (r != SASL_OK)
        return r;
    /* canon_user may map a name to nothing */
    if (!io->oparams->alen)
        return sm_fail(io->utils, SASL_BADPARAM, "%s: empty user name", c->mech);
    return SASL_OK;
}
