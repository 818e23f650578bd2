#include "config.h"
#include "login.h"
#include "login_codec.h"

#include <string.h>
#include <sasl-mechs/oparams.h>
#include <sasl-mechs/plugin.h>

struct login_client {
    struct sm_client base; /* first: sm_client_dispose frees it */
    enum { SEND_USERNAME, SEND_PASSWORD, DONE } step;
};

int login_client_new(void *glob, sasl_client_params_t *cparams, void **ctx)
{
    (void)glob;
    return sm_client_new(cparams, sizeof(struct login_client), ctx);
}

/* Servers word their prompts differently ("Username:", "User Name\0"...):
 * the content is not checked, only its size. */
static int login_client_check_challenge(const sasl_utils_t *utils, const char *in, unsigned inlen)
{
    if (inlen > LOGIN_MAX_CHALLENGE)
        return sm_fail(utils, SASL_BADPROT, "LOGIN: server challenge too long");
    (void)in;
    return SASL_OK;
}

static int login_client_reply(struct login_client *c, const sasl_utils_t *utils, const char *s,
                              unsigned len, const char **out, unsigned *outlen)
{
    int r = sm_outbuf_set(utils, &c->base.out, s, len);

    if (r == SASL_OK)
        sm_client_output(&c->base, out, outlen);
    return r;
}

int login_client_step(void *ctx, sasl_client_params_t *cparams,
                      const char *in, unsigned inlen, sasl_interact_t **prompt_need,
                      const char **out, unsigned *outlen, sasl_out_params_t *oparams)
{
    struct login_client *c = ctx;
    const sasl_utils_t *utils = cparams->utils;
    unsigned namelen;
    int r;

    if ((r = sm_step_begin(cparams->utils, "LOGIN", c, out, outlen)) != SASL_OK)
        return r;
    switch (c->step) {
    case SEND_USERNAME:
        if ((r = login_client_check_challenge(utils, in, inlen)) != SASL_OK)
            return r;
        r = sm_get_creds(cparams, SM_WANT_AUTHNAME | SM_WANT_PASSWORD, prompt_need,
                         &c->base.creds);
        if (r != SASL_OK)
            return r;
        namelen = (unsigned)strlen(c->base.creds.authname);
        if (!namelen || !c->base.creds.password_len)
            return sm_fail(utils, SASL_BADPARAM, "LOGIN: empty %s",
                           namelen ? "password" : "user name");
        if (memchr(c->base.creds.password, '\0', c->base.creds.password_len))
            return sm_fail(utils, SASL_BADPARAM, "LOGIN: the password contains a NUL byte");
        r = sm_set_identities(utils, cparams->canon_user, c->base.creds.authname, namelen,
                              NULL, 0, oparams);
        if (r != SASL_OK)
            return r;
        if (!oparams->alen)
            return sm_fail(utils, SASL_BADPARAM, "LOGIN: empty user name");
        c->step = SEND_PASSWORD;
        /* the name as canon_user made it (the application may map it) */
        r = login_client_reply(c, utils, oparams->authid, oparams->alen, out, outlen);
        return r == SASL_OK ? SASL_CONTINUE : r;
    case SEND_PASSWORD:
        if ((r = login_client_check_challenge(utils, in, inlen)) != SASL_OK)
            return r;
        c->step = DONE;
        r = login_client_reply(c, utils, c->base.creds.password, c->base.creds.password_len, out,
                               outlen);
        sm_creds_dispose(utils, &c->base.creds);
        if (r != SASL_OK)
            return r;
        sm_oparams_done(oparams);
        return SASL_OK;
    default:
        return sm_too_many_steps(utils, "LOGIN");
    }
}
