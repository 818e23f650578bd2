#include "config.h"
#include "plain.h"
#include "plain_codec.h"

#include <string.h>
#include <sasl-mechs/oparams.h>
#include <sasl-mechs/outbuf.h>
#include <sasl-mechs/plugin.h>
#include <sasl-mechs/prompt.h>

struct plain_client {
    enum { SEND_MESSAGE, DONE } step;
    struct sm_creds creds;
    struct sm_outbuf out;
};

int plain_client_new(void *glob, sasl_client_params_t *cparams, void **ctx)
{
    (void)glob;
    *ctx = cparams->utils->calloc(1, sizeof(struct plain_client));
    return *ctx ? SASL_OK : SASL_NOMEM;
}

static int send_message(struct plain_client *c, sasl_client_params_t *cparams,
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
                     prompt_need, &c->creds);
    if (r != SASL_OK)
        return r;
    m.authcid = c->creds.authname;
    m.authcid_len = strlen(m.authcid);
    m.authzid = c->creds.authzid;
    m.authzid_len = m.authzid ? strlen(m.authzid) : 0;
    m.passwd = c->creds.password;
    m.passwd_len = c->creds.password_len;
    if (!m.authcid_len || !m.passwd_len)
        return sm_fail(utils, SASL_BADPARAM, "PLAIN: empty %s", m.authcid_len ? "password" : "user name");
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
    if ((r = sm_outbuf_reserve(utils, &c->out, (unsigned)plain_message_len(&m))) != SASL_OK)
        return r;
    plain_build(&m, c->out.data);
    c->out.len = (unsigned)plain_message_len(&m);
    *out = c->out.data;
    *outlen = c->out.len;
    sm_creds_dispose(utils, &c->creds);
    sm_oparams_done(oparams);
    c->step = DONE;
    return SASL_OK;
}

int plain_client_step(void *ctx, sasl_client_params_t *cparams,
                      const char *in, unsigned inlen, sasl_interact_t **prompt_need,
                      const char **out, unsigned *outlen, sasl_out_params_t *oparams)
{
    struct plain_client *c = ctx;

    *out = NULL;
    *outlen = 0;
    if (!c) /* disposed of by libsasl2 after a failed step */
        return sm_too_many_steps(cparams->utils, "PLAIN");
    switch (c->step) {
    case SEND_MESSAGE:
        return send_message(c, cparams, in, inlen, prompt_need, out, outlen, oparams);
    default:
        return sm_too_many_steps(cparams->utils, "PLAIN");
    }
}

void plain_client_dispose(void *ctx, const sasl_utils_t *utils)
{
    struct plain_client *c = ctx;

    /* after a failed step libsasl2 disposes of the context, then later calls
     * dispose again with NULL */
    if (!c)
        return;
    sm_creds_dispose(utils, &c->creds);
    sm_outbuf_dispose(utils, &c->out);
    utils->free(c);
}
