#include "config.h"
#include "plain.h"
#include "plain_codec.h"

#include <sasl-mechs/mech_new.h>
#include <sasl-mechs/password.h>
#include <sasl-mechs/plugin.h>

struct plain_server {
    struct sm_server base; /* first: the step runner and sm_server_dispose use it */
    const struct sm_server_settings *set; /* the plugin's (glob) */
};

static int plain_server_check_message(void *ctx, const struct sm_step_io *io)
{
    struct plain_server *s = ctx;
    struct plain_message m;
    const char *refused;

    *io->next = NULL; /* one attempt per exchange, whatever the outcome */
    refused = plain_parse(io->in, io->inlen, s->set->lim.max_user, s->set->lim.max_password, &m);
    if (refused)
        return sm_fail(io->utils, SASL_BADPROT, "PLAIN: %s", refused);
    /* in the message authzid and authcid are each followed by a NUL */
    struct sm_password_attempt a = {
        .authcid = m.authcid, .authcid_len = (unsigned)m.authcid_len,
        .authzid = m.authzid, .authzid_len = (unsigned)m.authzid_len,
        .password = m.passwd, .password_len = (unsigned)m.passwd_len,
    };
    return sm_check_password(io->sparams, "PLAIN", &a, io->oparams);
}

SM_SERVER_NEW(plain_server_new, "PLAIN", plain_server_check_message, struct plain_server)
