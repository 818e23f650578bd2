#include "config.h"
#include "login.h"
#include "login_codec.h"

#include <string.h>
#include <sasl-mechs/field.h>
#include <sasl-mechs/mech_new.h>
#include <sasl-mechs/password.h>
#include <sasl-mechs/plugin.h>
#include <sasl-mechs/secret.h>

struct login_server {
    struct sm_server base; /* first: the step runner and sm_server_dispose use it */
    char *username;     /* then the password after its NUL: one buffer */
    unsigned username_len;
    const struct sm_server_settings *set; /* the plugin's (glob) */
};

/* the steps after the first, in order (each handler names the next) */
static sm_step_handler login_server_take_username, login_server_check_password;

static int login_server_take_username(void *ctx, const struct sm_step_io *io)
{
    struct login_server *s = ctx;
    const sasl_utils_t *utils = io->utils;
    const char *refused = sm_field_refusal(io->in, io->inlen, s->set->lim.max_user);

    if (refused) {
        *io->next = NULL;
        return sm_fail(utils, SASL_BADPROT, "LOGIN: user name %s", refused);
    }
    /* room for the password too, so it needs no copy of its own later */
    if (!(s->username = utils->malloc((size_t)io->inlen + 1 + s->set->lim.max_password + 1)))
        return SASL_NOMEM;
    memcpy(s->username, io->in, io->inlen);
    s->username[io->inlen] = '\0';
    s->username_len = io->inlen;
    *io->next = login_server_check_password;
    *io->out = LOGIN_PASSWORD_CHALLENGE;
    *io->outlen = sizeof(LOGIN_PASSWORD_CHALLENGE) - 1;
    return SASL_CONTINUE;
}

static int login_server_start(void *ctx, const struct sm_step_io *io)
{
    /* the user name may come as the initial response */
    if (io->in && io->inlen)
        return login_server_take_username(ctx, io);
    *io->next = login_server_take_username;
    *io->out = LOGIN_USERNAME_CHALLENGE;
    *io->outlen = sizeof(LOGIN_USERNAME_CHALLENGE) - 1;
    return SASL_CONTINUE;
}

static int login_server_check_password(void *ctx, const struct sm_step_io *io)
{
    struct login_server *s = ctx;
    const char *refused;
    char *pw;
    int r;

    *io->next = NULL; /* one attempt per exchange, whatever the outcome */
    refused = sm_field_refusal(io->in, io->inlen, s->set->lim.max_password);
    if (refused)
        return sm_fail(io->utils, SASL_BADPROT, "LOGIN: password %s", refused);
    pw = s->username + s->username_len + 1;
    memcpy(pw, io->in, io->inlen);
    pw[io->inlen] = '\0';
    struct sm_password_attempt a = {
        .authcid = s->username, .authcid_len = s->username_len,
        .password = pw, .password_len = io->inlen, .password_terminated = 1,
    };
    r = sm_check_password(io->sparams, "LOGIN", &a, io->oparams);
    sm_erase(pw, io->inlen + 1u);
    return r;
}

SM_SERVER_NEW(login_server_new, "LOGIN", login_server_start, struct login_server)

void login_server_dispose(void *ctx, const sasl_utils_t *utils)
{
    struct login_server *s = ctx;

    /* after a failed step libsasl2 disposes of the context, then later calls
     * dispose again with NULL */
    if (!s)
        return;
    utils->free(s->username); /* its password part was erased right after use */
    sm_server_dispose(s, utils);
}
