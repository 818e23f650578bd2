#include "config.h"
#include "login.h"
#include "login_codec.h"

#include <stddef.h>
#include <string.h>
#include <sasl-mechs/password.h>
#include <sasl-mechs/plugin.h>
#include <sasl-mechs/secret.h>

struct login_server {
    struct sm_server base; /* first: sm_server_dispose erases the property values */
    enum { START, AWAIT_USERNAME, AWAIT_PASSWORD, DONE } step;
    char *username;     /* then the password after its NUL: one buffer */
    unsigned username_len;
    const struct sm_server_settings *set; /* the plugin's (glob) */
};

int login_server_new(void *glob, sasl_server_params_t *sparams,
                     const char *challenge, unsigned challen, void **ctx)
{
    (void)challenge; (void)challen;
    return sm_server_new_glob(sparams, glob, "LOGIN", sizeof(struct login_server),
                              offsetof(struct login_server, set), ctx);
}

static int login_server_take_username(struct login_server *s, const sasl_utils_t *utils,
                                      const char *in, unsigned inlen,
                                      const char **out, unsigned *outlen)
{
    enum login_status st = login_check_field(in, inlen, s->set->lim.max_user);

    if (st != LOGIN_OK) {
        s->step = DONE;
        return sm_fail(utils, SASL_BADPROT, "LOGIN: user name %s", login_status_text(st));
    }
    /* room for the password too, so it needs no copy of its own later */
    if (!(s->username = utils->malloc((size_t)inlen + 1 + s->set->lim.max_password + 1)))
        return SASL_NOMEM;
    memcpy(s->username, in, inlen);
    s->username[inlen] = '\0';
    s->username_len = inlen;
    s->step = AWAIT_PASSWORD;
    *out = LOGIN_PASSWORD_CHALLENGE;
    *outlen = sizeof(LOGIN_PASSWORD_CHALLENGE) - 1;
    return SASL_CONTINUE;
}

int login_server_step(void *ctx, sasl_server_params_t *sparams,
                      const char *in, unsigned inlen,
                      const char **out, unsigned *outlen, sasl_out_params_t *oparams)
{
    struct login_server *s = ctx;
    const sasl_utils_t *utils = sparams->utils;
    enum login_status st;
    int r;

    if ((r = sm_step_begin(utils, "LOGIN", s, out, outlen)) != SASL_OK)
        return r;
    switch (s->step) {
    case START:
        /* the user name may come as the initial response */
        if (in && inlen)
            return login_server_take_username(s, utils, in, inlen, out, outlen);
        s->step = AWAIT_USERNAME;
        *out = LOGIN_USERNAME_CHALLENGE;
        *outlen = sizeof(LOGIN_USERNAME_CHALLENGE) - 1;
        return SASL_CONTINUE;
    case AWAIT_USERNAME:
        return login_server_take_username(s, utils, in, inlen, out, outlen);
    case AWAIT_PASSWORD: {
        s->step = DONE;
        st = login_check_field(in, inlen, s->set->lim.max_password);
        if (st != LOGIN_OK)
            return sm_fail(utils, SASL_BADPROT, "LOGIN: password %s", login_status_text(st));
        char *pw = s->username + s->username_len + 1;
        memcpy(pw, in, inlen);
        pw[inlen] = '\0';
        struct sm_password_attempt a = {
            .authcid = s->username, .authcid_len = s->username_len,
            .password = pw, .password_len = inlen, .password_terminated = 1,
        };
        r = sm_check_password(sparams, "LOGIN", &a, oparams);
        sm_erase(pw, inlen + 1u);
        return r;
    }
    default:
        return sm_too_many_steps(utils, "LOGIN");
    }
}

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
