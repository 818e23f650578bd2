#include "config.h"
#include "plain.h"
#include "plain_codec.h"

#include <string.h>
#include <sasl-mechs/oparams.h>
#include <sasl-mechs/plugin.h>

struct plain_client {
    struct sm_client base; /* first: sm_client_dispose frees it */
    enum { SEND_MESSAGE, DONE } step;
};

int plain_client_new(void *glob, sasl_client_params_t *cparams, void **ctx)
{
    (void)glob;
    return sm_client_new(cparams, sizeof(struct plain_client), ctx);
}

static int plain_client_send_message(struct plain_client *c, sasl_client_params_t *cparams,
                                     const char *in, unsigned inlen, sasl_interact_t **prompt_need,
                                     const char **out, unsigned *outlen, sasl_out_params_t *oparams)
{
    const sasl_utils_t *utils = cparams->utils;
    struct plain_message m = {0};
    int r;

    /* RFC 4616 section 2: the client sends first; the server says nothing */
    if (in && inlen)
        return sm_fail(utils, SASL_BADPROT, "PLAIN: the server sent a challenge, PLAIN has none");
    r = sm_get_creds(cparams, SM_WANT_AUTHNAME | SM_WANT_AUTHZID | SM_WANT_PASSWORD,
                     prompt_need, &c->base.creds);
    if (r != SASL_OK)
        return r;
    m.authcid = c->base.creds.authname;
    m.authcid_len = strlen(m.authcid);
    m.authzid = c->base.creds.authzid;
    m.authzid_len = m.authzid ? strlen(m.authzid) : 0;
    m.passwd = c->base.creds.password;
    m.passwd_len = c->base.creds.password_len;
    if (!m.authcid_len || !m.passwd_len)
        return sm_fail(utils, SASL_BADPARAM, "PLAIN: empty %s",
                       m.authcid_len ? "password" : "user name");
    if (memchr(m.passwd, '\0', m.passwd_len))
        return sm_fail(utils, SASL_BADPARAM, "PLAIN: the password contains a NUL byte");
    r = sm_set_identities(utils, cparams->canon_user, m.authcid, (unsigned)m.authcid_len,
                          m.authzid, (unsigned)m.authzid_len, oparams);
    if (r != SASL_OK)
        return r;
    /* send the names as canon_user made them (the application may map them) */
    m.authcid = oparams->authid;
    m.authcid_len = oparams->alen;
    if (m.authzid_len) {
        m.authzid = oparams->user;
        m.authzid_len = oparams->ulen;
    }
    if (!m.authcid_len)
        return sm_fail(utils, SASL_BADPARAM, "PLAIN: empty user name");
    if ((r = sm_outbuf_reserve(utils, &c->base.out, (unsigned)plain_message_len(&m))) != SASL_OK)
        return r;
    plain_build(&m, c->base.out.data);
    c->base.out.len = (unsigned)plain_message_len(&m);
    sm_client_output(&c->base, out, outlen);
    sm_creds_dispose(utils, &c->base.creds);
    sm_oparams_done(oparams);
    c->step = DONE;
    return SASL_OK;
}

int plain_client_step(void *ctx, sasl_client_params_t *cparams,
                      const char *in, unsigned inlen, sasl_interact_t **prompt_need,
                      const char **out, unsigned *outlen, sasl_out_params_t *oparams)
{
    struct plain_client *c = ctx;
    int r;

    if ((r = sm_step_begin(cparams->utils, "PLAIN", c, out, outlen)) != SASL_OK)
        return r;
    switch (c->step) {
    case SEND_MESSAGE:
        return plain_client_send_message(c, cparams, in, inlen, prompt_need, out, outlen, oparams);
    default:
        return sm_too_many_steps(cparams->utils, "PLAIN");
    }
}
