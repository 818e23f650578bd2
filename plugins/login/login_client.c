#include "config.h"
#include "login.h"
#include "login_codec.h"

#include <sasl-mechs/client_identity.h>
#include <sasl-mechs/mech_new.h>
#include <sasl-mechs/oparams.h>
#include <sasl-mechs/plugin.h>

/* the steps after the first, in order (each handler names the next) */
static sm_step_handler login_client_send_password;

/* Servers word their prompts differently ("Username:", "User Name\0"...):
 * the content is not checked, only its size. */
static int login_client_check_challenge(const struct sm_step_io *io)
{
    if (io->inlen > LOGIN_MAX_CHALLENGE)
        return sm_fail(io->utils, SASL_BADPROT, "LOGIN: server challenge too long");
    return SASL_OK;
}

static int login_client_reply(struct sm_client *c, const struct sm_step_io *io,
                              const char *s, unsigned len)
{
    int r = sm_outbuf_set(io->utils, &c->out, s, len);

    if (r == SASL_OK)
        sm_client_output(c, io->out, io->outlen);
    return r;
}

static int login_client_send_username(void *ctx, const struct sm_step_io *io)
{
    struct sm_client *c = ctx;
    int r;

    if ((r = login_client_check_challenge(io)) != SASL_OK)
        return r;
    r = sm_client_identities(c, io, SM_WANT_AUTHNAME | SM_WANT_PASSWORD, SM_PASSWORD_SENT);
    if (r != SASL_OK)
        return r;
    *io->next = login_client_send_password;
    /* the name as canon_user made it (the application may map it) */
    r = login_client_reply(c, io, io->oparams->authid, io->oparams->alen);
    return r == SASL_OK ? SASL_CONTINUE : r;
}

static int login_client_send_password(void *ctx, const struct sm_step_io *io)
{
    struct sm_client *c = ctx;
    int r;

    if ((r = login_client_check_challenge(io)) != SASL_OK)
        return r;
    *io->next = NULL;
    r = login_client_reply(c, io, c->creds.password, c->creds.password_len);
    sm_creds_dispose(io->utils, &c->creds);
    if (r != SASL_OK)
        return r;
    sm_oparams_done(io->oparams);
    return SASL_OK;
}

SM_CLIENT_NEW(login_client_new, "LOGIN", login_client_send_username, struct sm_client)
