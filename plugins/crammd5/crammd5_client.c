#include "config.h"
#include "crammd5.h"
#include "crammd5_codec.h"

#include <string.h>
#include <sasl-mechs/crypto.h>
#include <sasl-mechs/oparams.h>
#include <sasl-mechs/plugin.h>
#include <sasl-mechs/secret.h>

struct crammd5_client {
    struct sm_client base; /* first: sm_client_dispose frees it */
    enum { SEND_RESPONSE, DONE } step;
};

int crammd5_client_new(void *glob, sasl_client_params_t *cparams, void **ctx)
{
    (void)glob;
    return sm_client_new(cparams, sizeof(struct crammd5_client), ctx);
}

static int crammd5_client_send_response(struct crammd5_client *c, sasl_client_params_t *cparams,
                                        const char *in, unsigned inlen,
                                        sasl_interact_t **prompt_need, const char **out,
                                        unsigned *outlen, sasl_out_params_t *oparams)
{
    const sasl_utils_t *utils = cparams->utils;
    enum crammd5_status st = crammd5_check_challenge(in, inlen);
    unsigned char digest[SM_MD5_LEN];
    size_t namelen;
    int r;

    if (st != CRAMMD5_OK)
        return sm_fail(utils, SASL_BADPROT, "CRAM-MD5: %s", crammd5_status_text(st));
    r = sm_get_creds(cparams, SM_WANT_AUTHNAME | SM_WANT_PASSWORD, prompt_need,
                     &c->base.creds);
    if (r != SASL_OK)
        return r;
    namelen = strlen(c->base.creds.authname);
    if (!namelen)
        return sm_fail(utils, SASL_BADPARAM, "CRAM-MD5: empty user name");
    r = sm_set_identities(utils, cparams->canon_user, c->base.creds.authname, (unsigned)namelen,
                          NULL, 0, oparams);
    if (r != SASL_OK)
        return r;
    namelen = oparams->alen; /* the name as canon_user made it */
    if (!namelen)
        return sm_fail(utils, SASL_BADPARAM, "CRAM-MD5: empty user name");
    if (sm_hmac_md5(c->base.creds.password, c->base.creds.password_len, in, inlen, digest) != 0)
        return sm_fail(utils, SASL_FAIL, "CRAM-MD5: HMAC-MD5 unavailable");
    r = sm_outbuf_reserve(utils, &c->base.out, (unsigned)crammd5_response_len(namelen));
    if (r == SASL_OK) {
        crammd5_build_response(oparams->authid, namelen, digest, c->base.out.data);
        c->base.out.len = (unsigned)crammd5_response_len(namelen);
        sm_client_output(&c->base, out, outlen);
        sm_oparams_done(oparams);
        c->step = DONE;
    }
    sm_erase(digest, sizeof(digest));
    sm_creds_dispose(utils, &c->base.creds);
    return r;
}

int crammd5_client_step(void *ctx, sasl_client_params_t *cparams,
                        const char *in, unsigned inlen, sasl_interact_t **prompt_need,
                        const char **out, unsigned *outlen, sasl_out_params_t *oparams)
{
    struct crammd5_client *c = ctx;
    int r;

    if ((r = sm_step_begin(cparams->utils, "CRAM-MD5", c, out, outlen)) != SASL_OK)
        return r;
    switch (c->step) {
    case SEND_RESPONSE:
        return crammd5_client_send_response(c, cparams, in, inlen, prompt_need, out, outlen,
                                            oparams);
    default:
        return sm_too_many_steps(cparams->utils, "CRAM-MD5");
    }
}
