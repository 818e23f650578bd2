#include "config.h"
#include "crammd5.h"
#include "crammd5_codec.h"

#include <string.h>
#include <sasl-mechs/crypto.h>
#include <sasl-mechs/oparams.h>
#include <sasl-mechs/outbuf.h>
#include <sasl-mechs/plugin.h>
#include <sasl-mechs/prompt.h>
#include <sasl-mechs/secret.h>

struct crammd5_client {
    enum { SEND_RESPONSE, DONE } step;
    struct sm_creds creds;
    struct sm_outbuf out;
};

int crammd5_client_new(void *glob, sasl_client_params_t *cparams, void **ctx)
{
    (void)glob;
    *ctx = cparams->utils->calloc(1, sizeof(struct crammd5_client));
    return *ctx ? SASL_OK : SASL_NOMEM;
}

static int send_response(struct crammd5_client *c, sasl_client_params_t *cparams,
                         const char *in, unsigned inlen, sasl_interact_t **prompt_need,
                         const char **out, unsigned *outlen, sasl_out_params_t *oparams)
{
    const sasl_utils_t *utils = cparams->utils;
    enum crammd5_status st = crammd5_check_challenge(in, inlen);
    unsigned char digest[SM_MD5_LEN];
    size_t namelen;
    int r;

    if (st != CRAMMD5_OK)
        return sm_fail(utils, SASL_BADPROT, "CRAM-MD5: %s", crammd5_status_text(st));
    r = sm_get_creds(cparams, SM_WANT_AUTHNAME | SM_WANT_PASSWORD, prompt_need, &c->creds);
    if (r != SASL_OK)
        return r;
    namelen = strlen(c->creds.authname);
    if (!namelen)
        return sm_fail(utils, SASL_BADPARAM, "CRAM-MD5: empty user name");
    r = sm_set_identities(utils, cparams->canon_user, c->creds.authname, (unsigned)namelen,
                          NULL, 0, oparams);
    if (r != SASL_OK)
        return r;
    namelen = oparams->alen; /* the name as canon_user made it */
    if (!namelen)
        return sm_fail(utils, SASL_BADPARAM, "CRAM-MD5: empty user name");
    if (sm_hmac_md5(c->creds.password, c->creds.password_len, in, inlen, digest) != 0)
        return sm_fail(utils, SASL_FAIL, "CRAM-MD5: HMAC-MD5 unavailable");
    r = sm_outbuf_reserve(utils, &c->out, (unsigned)crammd5_response_len(namelen));
    if (r == SASL_OK) {
        crammd5_build_response(oparams->authid, namelen, digest, c->out.data);
        c->out.len = (unsigned)crammd5_response_len(namelen);
        *out = c->out.data;
        *outlen = c->out.len;
        sm_oparams_done(oparams);
        c->step = DONE;
    }
    sm_erase(digest, sizeof(digest));
    sm_creds_dispose(utils, &c->creds);
    return r;
}

int crammd5_client_step(void *ctx, sasl_client_params_t *cparams,
                        const char *in, unsigned inlen, sasl_interact_t **prompt_need,
                        const char **out, unsigned *outlen, sasl_out_params_t *oparams)
{
    struct crammd5_client *c = ctx;

    *out = NULL;
    *outlen = 0;
    if (!c) /* disposed of by libsasl2 after a failed step */
        return sm_too_many_steps(cparams->utils, "CRAM-MD5");
    switch (c->step) {
    case SEND_RESPONSE:
        return send_response(c, cparams, in, inlen, prompt_need, out, outlen, oparams);
    default:
        return sm_too_many_steps(cparams->utils, "CRAM-MD5");
    }
}

void crammd5_client_dispose(void *ctx, const sasl_utils_t *utils)
{
    struct crammd5_client *c = ctx;

    /* after a failed step libsasl2 disposes of the context, then later calls
     * dispose again with NULL */
    if (!c)
        return;
    sm_creds_dispose(utils, &c->creds);
    sm_outbuf_dispose(utils, &c->out);
    utils->free(c);
}
