#include "config.h"
#include "plain.h"
#include "plain_codec.h"

#include <stddef.h>
#include <sasl-mechs/password.h>
#include <sasl-mechs/plugin.h>

struct plain_server {
    struct sm_server base; /* first: sm_server_dispose erases the property values */
    enum { AWAIT_MESSAGE, DONE } step;
    const struct sm_server_settings *set; /* the plugin's (glob) */
};

int plain_server_new(void *glob, sasl_server_params_t *sparams,
                     const char *challenge, unsigned challen, void **ctx)
{
    (void)challenge; (void)challen;
    return sm_server_new_glob(sparams, glob, "PLAIN", sizeof(struct plain_server),
                              offsetof(struct plain_server, set), ctx);
}

int plain_server_step(void *ctx, sasl_server_params_t *sparams,
                      const char *in, unsigned inlen,
                      const char **out, unsigned *outlen, sasl_out_params_t *oparams)
{
    struct plain_server *s = ctx;
    const sasl_utils_t *utils = sparams->utils;
    struct plain_message m;
    enum plain_status st;
    int r;

    if ((r = sm_step_begin(utils, "PLAIN", s, out, outlen)) != SASL_OK)
        return r;
    switch (s->step) {
    case AWAIT_MESSAGE: {
        s->step = DONE; /* one attempt per exchange, whatever the outcome */
        st = plain_parse(in, inlen, s->set->lim.max_user, s->set->lim.max_password, &m);
        if (st != PLAIN_OK)
            return sm_fail(utils, SASL_BADPROT, "PLAIN: %s", plain_status_text(st));
        /* in the message authzid and authcid are each followed by a NUL */
        struct sm_password_attempt a = {
            .authcid = m.authcid, .authcid_len = (unsigned)m.authcid_len,
            .authzid = m.authzid, .authzid_len = (unsigned)m.authzid_len,
            .password = m.passwd, .password_len = (unsigned)m.passwd_len,
        };
        return sm_check_password(sparams, "PLAIN", &a, oparams);
    }
    default:
        return sm_too_many_steps(utils, "PLAIN");
    }
}
