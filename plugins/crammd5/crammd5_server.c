#include "config.h"
#include "crammd5.h"
#include "crammd5_codec.h"

#include <string.h>
#include <time.h>
#include <sasl-mechs/crypto.h>
#include <sasl-mechs/memory.h>
#include <sasl-mechs/oparams.h>
#include <sasl-mechs/options.h>
#include <sasl-mechs/plugin.h>
#include <sasl-mechs/secret.h>

/* userPassword of the authentication identity (libsasl2's SASL_AUX_PASSWORD) */
static const char *const secret_props[] = {SASL_AUX_PASSWORD, NULL};

struct crammd5_server {
    enum { SEND_CHALLENGE, AWAIT_RESPONSE, DONE } step;
    char challenge[CRAMMD5_MAX_HOST + 64];
    size_t challenge_len;
};

static const char *const format_names[] = {"auto", "plain", "hmac-md5", NULL};

static struct {
    int status;
    struct sm_limits lim;
    unsigned secret_format;
} settings;

void crammd5_server_options(const sasl_utils_t *utils)
{
    settings.status = sm_read_limits(utils, "crammd5", &settings.lim);
    if (settings.status == SASL_OK)
        settings.status = sm_opt_choice(utils, "crammd5_secret_format", format_names,
                                        CRAMMD5_SECRET_AUTO, &settings.secret_format);
}

int crammd5_server_new(void *glob, sasl_server_params_t *sparams,
                       const char *challenge, unsigned challen, void **ctx)
{
    (void)glob; (void)challenge; (void)challen;
    if (settings.status != SASL_OK)
        return sm_config_error(sparams->utils, "CRAM-MD5");
    *ctx = sparams->utils->calloc(1, sizeof(struct crammd5_server));
    return *ctx ? SASL_OK : SASL_NOMEM;
}

static int send_challenge(struct crammd5_server *s, sasl_server_params_t *sparams,
                          const char **out, unsigned *outlen)
{
    const char *host = sparams->serverFQDN ? sparams->serverFQDN : "localhost";
    uint64_t rnd;

    if (sm_random(&rnd, sizeof(rnd)) != 0)
        return sm_fail(sparams->utils, SASL_FAIL, "CRAM-MD5: no random numbers available");
    s->challenge_len = crammd5_build_challenge(s->challenge, sizeof(s->challenge), rnd,
                                               (uint64_t)time(NULL), host,
                                               strlen(host));
    if (!s->challenge_len)
        return sm_fail(sparams->utils, SASL_FAIL, "CRAM-MD5: cannot build the challenge");
    s->step = AWAIT_RESPONSE;
    *out = s->challenge;
    *outlen = (unsigned)s->challenge_len;
    return SASL_CONTINUE;
}

/* HMAC-MD5 of the challenge under the user's stored secret; returns 1 when
 * a usable secret was found.  Every path does the same work, a key schedule
 * then the digest from it, so neither an unknown user nor the form of the
 * stored secret shows in the time taken: without a secret the key is a
 * constant (a match against it is refused anyway). */
static int expected_digest(struct crammd5_server *s, const sasl_utils_t *utils,
                           const struct propval *val, unsigned char digest[SM_MD5_LEN])
{
    static const char no_key[16] = "no-such-user";
    unsigned char schedule[SM_HMAC_MD5_STATE_LEN];
    struct crammd5_secret secret;
    const unsigned char *use;
    int found = 0;

    memset(&secret, 0, sizeof(secret));
    if (val->values && val->values[0]) {
        found = crammd5_parse_secret(val->values[0], strlen(val->values[0]),
                                     (enum crammd5_secret_format)settings.secret_format,
                                     &secret) == CRAMMD5_OK;
        if (!found)
            utils->log(utils->conn, SASL_LOG_WARN,
                       "CRAM-MD5: a user's stored secret is not in the configured format");
    }
    if (found && !secret.is_state)
        sm_hmac_md5_state(secret.password, secret.password_len, schedule);
    else
        sm_hmac_md5_state(no_key, sizeof(no_key), schedule);
    use = found && secret.is_state ? secret.state : schedule;
    sm_hmac_md5_from_state(use, s->challenge, s->challenge_len, digest);
    sm_erase(schedule, sizeof(schedule));
    sm_erase(&secret, sizeof(secret));
    return found;
}

static int check_response(struct crammd5_server *s, sasl_server_params_t *sparams,
                          const char *in, unsigned inlen, sasl_out_params_t *oparams)
{
    const sasl_utils_t *utils = sparams->utils;
    struct crammd5_response resp;
    struct propval val[2];
    unsigned char digest[SM_MD5_LEN];
    enum crammd5_status st;
    char *user;
    int r, found, match;

    st = crammd5_parse_response(in, inlen, settings.lim.max_user, &resp);
    if (st != CRAMMD5_OK)
        return sm_fail(utils, SASL_BADPROT, "CRAM-MD5: %s", crammd5_status_text(st));
    /* ask for the secret before canon_user, which runs the auxprop lookup */
    if ((r = utils->prop_request(sparams->propctx, (const char **)secret_props)) != SASL_OK)
        return r;
    /* canon_user reads up to a NUL whatever length it is given */
    if (!(user = sm_strndup(utils, resp.user, resp.user_len)))
        return SASL_NOMEM;
    r = sparams->canon_user(utils->conn, user, (unsigned)resp.user_len,
                            SASL_CU_AUTHID | SASL_CU_AUTHZID, oparams);
    utils->free(user);
    memset(val, 0, sizeof(val));
    if (r == SASL_OK)
        utils->prop_getnames(sparams->propctx, (const char **)secret_props, val);
    found = expected_digest(s, utils, &val[0], digest);
    match = sm_ct_equal(digest, resp.digest, sizeof(digest));
    sm_erase(digest, sizeof(digest));
    utils->prop_erase(sparams->propctx, SASL_AUX_PASSWORD);
    if (sm_is_temporary(r))
        return r;
    if (r != SASL_OK || !found || !match)
        return sm_fail(utils, SASL_BADAUTH, "CRAM-MD5: authentication failed");
    sm_oparams_done(oparams);
    return SASL_OK;
}

int crammd5_server_step(void *ctx, sasl_server_params_t *sparams,
                        const char *in, unsigned inlen,
                        const char **out, unsigned *outlen, sasl_out_params_t *oparams)
{
    struct crammd5_server *s = ctx;

    *out = NULL;
    *outlen = 0;
    /* after a failed step libsasl2 has disposed of the context, and a
     * careless application may still call step again */
    if (!s)
        return sm_too_many_steps(sparams->utils, "CRAM-MD5");
    switch (s->step) {
    case SEND_CHALLENGE:
        return send_challenge(s, sparams, out, outlen);
    case AWAIT_RESPONSE:
        s->step = DONE;
        return check_response(s, sparams, in, inlen, oparams);
    default:
        return sm_too_many_steps(sparams->utils, "CRAM-MD5");
    }
}

void crammd5_server_dispose(void *ctx, const sasl_utils_t *utils)
{
    utils->free(ctx);
}
