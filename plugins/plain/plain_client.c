#include "config.h"
#include "plain.h"
#include "plain_codec.h"

#include <sasl-mechs/client_identity.h>
#include <sasl-mechs/mech_new.h>
#include <sasl-mechs/oparams.h>
#include <sasl-mechs/plugin.h>

static int plain_client_send_message(void *ctx, const struct sm_step_io *io)
{
    struct sm_client *c = ctx;
    const sasl_utils_t *utils = io->utils;
    sasl_out_params_t *oparams = io->oparams;
    struct plain_message m = {0};
    int r;

    /* RFC 4616 section 2: the client sends first; the server says nothing */
    if (io->in && io->inlen)
        return sm_fail(utils, SASL_BADPROT, "PLAIN: the server sent a challenge, PLAIN has none");
    r = sm_client_identities(c, io, SM_WANT_AUTHNAME | SM_WANT_AUTHZID | SM_WANT_PASSWORD,
                             SM_PASSWORD_SENT);
    if (r != SASL_OK)
        return r;
    /* send the names as canon_user made them (the application may map them) */
    m.authcid = oparams->authid;
    m.authcid_len = oparams->alen;
    if (c->creds.authzid) {
        m.authzid = oparams->user;
        m.authzid_len = oparams->ulen;
    }
    m.passwd = c->creds.password;
    m.passwd_len = c->creds.password_len;
    if ((r = sm_outbuf_reserve(utils, &c->out, (unsigned)plain_message_len(&m))) != SASL_OK)
        return r;
    plain_build(&m, c->out.data);
    c->out.len = (unsigned)plain_message_len(&m);
    sm_client_output(c, io->out, io->outlen);
    sm_creds_dispose(utils, &c->creds);
    sm_oparams_done(oparams);
    *io->next = NULL;
    return SASL_OK;
}

SM_CLIENT_NEW(plain_client_new, "PLAIN", plain_client_send_message, struct sm_client)
