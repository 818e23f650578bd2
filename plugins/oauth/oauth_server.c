/* The server side of XOAUTH2 and OAUTHBEARER.
 *
 * RFC 7628 section 3.2.2: on failure the server sends an error challenge
 * (a JSON object), the client answers it (OAUTHBEARER: one ^A; XOAUTH2: an
 * empty response), and only then does the server fail the exchange.  A
 * client that disconnects after the challenge (curl does) simply never
 * calls the last step: the context is disposed of, nothing else is kept. */
#include "config.h"
#include "oauth_server.h"
#include "oauth_config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sasl-mechs/oparams.h>
#include <sasl-mechs/secret.h>

/* The reason of a failure, for the log and errdetail: never the token. */
#define WHY_MAX (OAUTH_ERR_REASON_MAX + 64)

struct oauth_server {
    struct sm_server base; /* first: the step runner and sm_server_dispose use it */
    const struct oauth_settings *set; /* the plugin's (glob) */
    int result;                     /* what the exchange ends with after the error reply */
    char detail[WHY_MAX];           /* its errdetail */
    char challenge[OAUTH_MAX_ERROR_JSON + 1];
};

/* the steps after the first, in order (each handler names the next) */
static sm_step_handler oauth_server_check_error_reply;

int oauth_server_options(const sasl_utils_t *utils, struct sm_server_settings *set)
{
    return oauth_config_read((struct oauth_settings *)set, utils); /* its first member */
}

int oauth_server_avail(void *glob, sasl_server_params_t *sparams, void **ctx)
{
    const struct oauth_settings *set = glob;

    (void)sparams; (void)ctx;
    return set->cfg.configured || set->common.status != SASL_OK ? SASL_OK : SASL_NOMECH;
}

/* Send the error challenge; the exchange then fails with result once the
 * client has answered it. */
static int server_error_challenge(struct oauth_server *s, const struct sm_step_io *io,
                                  enum oauth_error_status status, int result, const char *detail)
{
    const struct oauth_plugin *p = s->set->plugin;
    const sasl_utils_t *utils = io->utils;
    const struct oauth_server_config *c = &s->set->cfg;
    size_t len = 0;
    enum oauth_codec_status st;

    st = oauth_build_error_json(p->mech, status, c->error_scope, c->openid_configuration,
                                s->challenge, sizeof(s->challenge), &len);
    if (st != OAUTH_CODEC_OK)
        return sm_fail(utils, SASL_FAIL, "%s: cannot build the error challenge: %s", p->name,
                       oauth_codec_status_text(st));
    snprintf(s->detail, sizeof(s->detail), "%s: %s", p->name, detail);
    /* logged now, as the errdetail will word it: a client may never answer
     * the challenge (curl does not) */
    utils->log(utils->conn, SASL_LOG_FAIL, "%s", s->detail);
    s->result = result;
    *io->next = oauth_server_check_error_reply;
    *io->out = s->challenge;
    *io->outlen = (unsigned)len;
    return SASL_CONTINUE;
}

/* The token's user is the authentication identity; the identity the client
 * named (user= or a=) the authorization identity: libsasl2's proxy policy
 * then decides whether they may differ. */
static int server_set_identities(sasl_server_params_t *sparams, const struct oauth_plugin *p,
                                 const char *token_user, const struct oauth_client_msg *m,
                                 sasl_out_params_t *oparams)
{
    const sasl_utils_t *utils = sparams->utils;
    const char *authzid = m->user_len ? m->user : token_user;
    size_t alen = strlen(token_user), zlen = strlen(authzid);
    int proxy = zlen != alen || memcmp(authzid, token_user, alen) != 0, r;

    if (!sm_identity_acceptable(token_user, alen) || !sm_identity_acceptable(authzid, zlen))
        return sm_fail(utils, SASL_BADAUTH, "%s: authentication failed", p->name);
    if ((r = sm_props_begin(utils, sparams->propctx, NULL)) != SASL_OK)
        return r;
    /* the token vouches for its user: EXTERNALLY_VERIFIED, so that an
     * auxprop that does not know the user (or none at all) is not fatal;
     * without a distinct authzid one call names both identities, as PLAIN's
     * does */
    r = sparams->canon_user(utils->conn, token_user, (unsigned)alen,
                            SASL_CU_AUTHID | SASL_CU_EXTERNALLY_VERIFIED
                            | (proxy ? 0 : SASL_CU_AUTHZID), oparams);
    if (r != SASL_OK)
        return sm_is_temporary(r) ? r
             : sm_fail(utils, SASL_BADAUTH, "%s: authentication failed", p->name);
    if (proxy) {
        r = sparams->canon_user(utils->conn, authzid, (unsigned)zlen, SASL_CU_AUTHZID, oparams);
        if (r != SASL_OK)
            return sm_is_temporary(r) ? r
                 : sm_fail(utils, SASL_NOAUTHZ, "%s: authorization identity refused", p->name);
    }
    sm_oparams_done(oparams);
    return SASL_OK;
}

/* The verdict in a few words, before its reason. */
static const char *server_verdict_text(const struct oauth_err *err)
{
    switch (err->cls) {
    case OAUTH_OK: return "valid";
    case OAUTH_ERR_CLIENT:
        return err->status == OAUTH_STATUS_INSUFFICIENT_SCOPE ? "insufficient scope"
                                                               : "invalid token";
    case OAUTH_ERR_TEMPORARY: return "token validation unavailable";
    case OAUTH_ERR_CONFIG: return "server configuration error";
    case OAUTH_ERR_INTERNAL: return "token validation failed (internal error)";
    }
    return "unknown";
}

/* A valid token: the exchange ends with the identities it vouches for. */
static int server_accept(struct oauth_server *s, const struct sm_step_io *io,
                         const char *token_user, const struct oauth_client_msg *m)
{
    int r;

    r = server_set_identities(io->sparams, s->set->plugin, token_user, m, io->oparams);
    /* the client waits for the outcome: where the protocol carries
     * success data (SASL_SUCCESS_DATA: LDAP, the sample programs' -l),
     * that is empty success data; elsewhere (SMTP's 235) nothing, which
     * libsasl2 would otherwise turn into one more empty challenge */
    if (r == SASL_OK && (io->sparams->flags & SASL_SUCCESS_DATA)) {
        *io->out = "";
        *io->outlen = 0;
    }
    return r;
}

/* The first step, the client's message: the token verified, the
 * identities set, or the error challenge sent. */
static int oauth_server_take_message(void *ctx, const struct sm_step_io *io)
{
    struct oauth_server *s = ctx;
    const struct oauth_plugin *p = s->set->plugin;
    const sasl_utils_t *utils = io->utils;
    const struct oauth_server_config *c = &s->set->cfg;
    struct oauth_client_msg m;
    enum oauth_codec_status st;
    struct oauth_err err;
    char detail[WHY_MAX];
    char *user = NULL;
    enum oauth_err_class cls;
    int r;

    /* no initial response: an empty challenge asks for the message */
    if (!io->in)
        return SASL_CONTINUE;
    /* one message per exchange, whatever the outcome; the error challenge
     * names its own next step */
    *io->next = NULL;
    if (!c->verifier) /* not configured: mech_avail hides the mechanism, but be sure */
        return sm_fail(utils, SASL_CONFIGERR, "%s: the server has no oauth_* configuration",
                       p->name);
    st = oauth_parse_client_msg(p->mech, io->in, io->inlen, c->max_token, &m, &err);
    if (st == OAUTH_CODEC_AUTH_EMPTY) /* RFC 7628 4.3: the client asks what we want */
        return server_error_challenge(s, io, OAUTH_STATUS_INVALID_TOKEN, SASL_BADAUTH,
                               "the client sent no token (asking for the server's requirements)");
    if (st != OAUTH_CODEC_OK)
        return sm_fail(utils, SASL_BADPROT, "%s: %s (%s)", p->name, oauth_codec_status_text(st),
                       err.reason);
    cls = oauth_verify(c->verifier, m.token, m.token_len, time(NULL), &user, &err);
    /* what the administrator should know although this login did not fail
     * for it (a shared cache down, a bound reached), once per interval */
    while (oauth_verifier_take_notice(c->verifier, detail, sizeof(detail)))
        utils->log(utils->conn, SASL_LOG_WARN, "%s: %s", p->name, detail);
    switch (cls) {
    case OAUTH_OK:
        r = server_accept(s, io, user, &m);
        free(user);
        return r;
    case OAUTH_ERR_CLIENT:
        snprintf(detail, sizeof(detail), "%s: %s", server_verdict_text(&err), err.reason);
        return server_error_challenge(s, io, err.status ? err.status : OAUTH_STATUS_INVALID_TOKEN,
                                      SASL_BADAUTH, detail);
    default:
        /* the server's trouble, not the client's: temporary (SMTP 454) */
        return sm_fail(utils, SASL_UNAVAIL, "%s: %s: %s", p->name, server_verdict_text(&err),
                       err.reason);
    }
}

/* The step after the error challenge, the client's answer to it: the
 * exchange fails with the reason the challenge gave. */
static int oauth_server_check_error_reply(void *ctx, const struct sm_step_io *io)
{
    struct oauth_server *s = ctx;
    const struct oauth_plugin *p = s->set->plugin;
    const sasl_utils_t *utils = io->utils;

    *io->next = NULL;
    if (oauth_check_error_reply(p->mech, io->in, io->inlen) != OAUTH_CODEC_OK)
        return sm_fail(utils, SASL_BADPROT, "%s: unexpected answer to the error challenge "
                       "(after: %s)", p->name, s->detail);
    /* logged when the challenge was sent: the errdetail only, not a
     * second log line */
    utils->seterror(utils->conn, SASL_NOLOG, "%s", s->detail);
    return s->result;
}

int oauth_server_new(void *glob, sasl_server_params_t *sparams,
                     const char *challenge, unsigned challen, void **ctx)
{
    const struct oauth_settings *set = glob;

    (void)challenge; (void)challen;
    return sm_server_new_glob(sparams, glob, set->plugin->name, oauth_server_take_message,
                              sizeof(struct oauth_server), offsetof(struct oauth_server, set),
                              ctx);
}
