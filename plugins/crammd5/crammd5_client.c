#include "config.h"
#include "crammd5.h"
#include "crammd5_codec.h"

#include <sasl-mechs/client_identity.h>
#include <sasl-mechs/crypto.h>
#include <sasl-mechs/field.h>
#include <sasl-mechs/mech_new.h>
#include <sasl-mechs/oparams.h>
#include <sasl-mechs/plugin.h>
#include <sasl-mechs/secret.h>

static int crammd5_client_send_response(void *ctx, const struct sm_step_io *io)
{
    struct sm_client *c = ctx;
    const sasl_utils_t *utils = io->utils;
    sasl_out_params_t *oparams = io->oparams;
    const char *refused = sm_field_refusal(io->in, io->inlen, CRAMMD5_MAX_CHALLENGE);
    unsigned char digest[SM_MD5_LEN];
    size_t namelen;
    int r;

    if (refused)
        return sm_fail(utils, SASL_BADPROT, "CRAM-MD5: challenge %s", refused);
    /* the password is only the HMAC key: any bytes will do */
    r = sm_client_identities(c, io, SM_WANT_AUTHNAME | SM_WANT_PASSWORD, 0);
    if (r != SASL_OK)
        return r;
    namelen = oparams->alen; /* the name as canon_user made it */
    if (sm_hmac_md5(c->creds.password, c->creds.password_len, io->in, io->inlen, digest) != 0)
        return sm_fail(utils, SASL_FAIL, "CRAM-MD5: HMAC-MD5 unavailable");
    r = sm_outbuf_reserve(utils, &c->out, (unsigned)crammd5_response_len(namelen));
    if (r == SASL_OK) {
        crammd5_build_response(oparams->authid, namelen, digest, c->out.data);
        c->out.len = (unsigned)crammd5_response_len(namelen);
        sm_client_output(c, io->out, io->outlen);
        sm_oparams_done(oparams);
        *io->next = NULL;
    }
    sm_erase(digest, sizeof(digest));
    sm_creds_dispose(utils, &c->creds);
    return r;
}

SM_CLIENT_NEW(crammd5_client_new, "CRAM-MD5", crammd5_client_send_response, struct sm_client)
