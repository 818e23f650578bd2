#include "config.h"
#include "login.h"
#include "login_codec.h"

#include <sasl-mechs/client_identity.h>
#include <sasl-mechs/oparams.h>
#include <sasl-mechs/plugin.h>

enum { SEND_USERNAME, SEND_PASSWORD, DONE };

struct login_client {
    struct sm_client base; /* first: the step runner and sm_client_dispose use it */
};

/* Servers word their prompts differently ("Username:", "User Name\0"...):
 * the content is not checked, only its size. */
static int login_client_check_challenge(const struct sm_client_io *io)
{
    if (io->inlen > LOGIN_MAX_CHALLENGE)
        return sm_fail(io->utils, SASL_BADPROT, "LOGIN: server challenge too long");
    return SASL_OK;
}

static int login_client_reply(struct login_client *c, const struct sm_client_io *io,
                              const char *s, unsigned len)
{
    int r = sm_outbuf_set(io->utils, &c->base.out, s, len);

    if (r == SASL_OK)
        sm_client_output(&c->base, io->out, io->outlen);
    return r;
}

static int login_client_send_username(void *ctx, const struct sm_client_io *io)
{
    struct login_client *c = ctx;
    int r;

    if ((r = login_client_check_challenge(io)) != SASL_OK)
        return r;
    r = sm_client_identities(&c->base, io, SM_WANT_AUTHNAME | SM_WANT_PASSWORD, SM_PASSWORD_SENT);
    if (r != SASL_OK)
        return r;
    c->base.step = SEND_PASSWORD;
    /* the name as canon_user made it (the application may map it) */
    r = login_client_reply(c, io, io->oparams->authid, io->oparams->alen);
    return r == SASL_OK ? SASL_CONTINUE : r;
}

static int login_client_send_password(void *ctx, const struct sm_client_io *io)
{
    struct login_client *c = ctx;
    int r;

    if ((r = login_client_check_challenge(io)) != SASL_OK)
        return r;
    c->base.step = DONE;
    r = login_client_reply(c, io, c->base.creds.password, c->base.creds.password_len);
    sm_creds_dispose(io->utils, &c->base.creds);
    if (r != SASL_OK)
        return r;
    sm_oparams_done(io->oparams);
    return SASL_OK;
}

static sm_client_handler *const login_client_steps[] = {
    [SEND_USERNAME] = login_client_send_username,
    [SEND_PASSWORD] = login_client_send_password,
    [DONE] = NULL,
};

int login_client_new(void *glob, sasl_client_params_t *cparams, void **ctx)
{
    (void)glob;
    return sm_client_new(cparams, "LOGIN", login_client_steps, sizeof(struct login_client), ctx);
}
