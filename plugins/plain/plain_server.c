#include "config.h"
#include "plain.h"
#include "plain_codec.h"

#include <sasl-mechs/options.h>
#include <sasl-mechs/password.h>
#include <sasl-mechs/plugin.h>

struct plain_server {
    enum { AWAIT_MESSAGE, DONE } step;
};

static struct {
    int status;
    struct sm_limits lim;
} settings;

void plain_server_options(const sasl_utils_t *utils)
{
    settings.status = sm_read_limits(utils, "plain", &settings.lim);
}

int plain_server_new(void *glob, sasl_server_params_t *sparams,
                     const char *challenge, unsigned challen, void **ctx)
{
    struct plain_server *s;

    (void)glob; (void)challenge; (void)challen;
    if (settings.status != SASL_OK)
        return sm_config_error(sparams->utils, "PLAIN");
    if (!(s = sparams->utils->calloc(1, sizeof(*s))))
        return SASL_NOMEM;
    *ctx = s;
    return SASL_OK;
}

int plain_server_step(void *ctx, sasl_server_params_t *sparams,
                      const char *in, unsigned inlen,
                      const char **out, unsigned *outlen, sasl_out_params_t *oparams)
{
    struct plain_server *s = ctx;
    const sasl_utils_t *utils = sparams->utils;
    struct plain_message m;
    enum plain_status st;

    *out = NULL;
    *outlen = 0;
    /* after a failed step libsasl2 has disposed of the context, and a
     * careless application may still call step again */
    if (!s)
        return sm_too_many_steps(sparams->utils, "PLAIN");
    switch (s->step) {
    case AWAIT_MESSAGE: {
        s->step = DONE; /* one attempt per exchange, whatever the outcome */
        st = plain_parse(in, inlen, settings.lim.max_user, settings.lim.max_password, &m);
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

void plain_server_dispose(void *ctx, const sasl_utils_t *utils)
{
    utils->free(ctx);
}
