#include "config.h"
#include "crammd5.h"
#include "crammd5_codec.h"

#include <string.h>
#include <time.h>
#include <sasl-mechs/crypto.h>
#include <sasl-mechs/mech_new.h>
#include <sasl-mechs/memory.h>
#include <sasl-mechs/oparams.h>
#include <sasl-mechs/options.h>
#include <sasl-mechs/password.h>
#include <sasl-mechs/plugin.h>
#include <sasl-mechs/secret.h>
#include <sasl-mechs/stored_secret.h>

struct crammd5_server {
    struct sm_server base; /* first: the step runner and sm_server_dispose use it */
    char challenge[CRAMMD5_MAX_CHALLENGE_BUILT];
    size_t challenge_len;
    const struct crammd5_settings *set; /* the plugin's (glob) */
};

/* the steps after the first, in order (each handler names the next) */
static sm_step_handler crammd5_server_check_response;

static const char *const format_names[] = {"auto", "plain", "hmac-md5", NULL};
enum secret_format { FORMAT_AUTO, FORMAT_PLAIN, FORMAT_HMAC_MD5 };
/* how each crammd5_secret_format reads userPassword (README, options) */
static const struct sm_secret_rules format_rules[] = {
    [FORMAT_AUTO] = {.accept = SM_SECRET_PASSWORD | SM_SECRET_HMAC_MD5_STATE,
                     .bare = SM_SECRET_PASSWORD, .tags = 1},
    [FORMAT_PLAIN] = {.accept = SM_SECRET_PASSWORD, .bare = SM_SECRET_PASSWORD, .tags = 0},
    [FORMAT_HMAC_MD5] = {.accept = SM_SECRET_HMAC_MD5_STATE,
                         .bare = SM_SECRET_HMAC_MD5_STATE, .tags = 1},
};

int crammd5_server_options(const sasl_utils_t *utils, struct sm_server_settings *set)
{
    struct crammd5_settings *cs = (struct crammd5_settings *)set; /* its first member */

    return sm_opt_choice(utils, "crammd5_secret_format", format_names, FORMAT_AUTO,
                         &cs->secret_format);
}

static int crammd5_server_send_challenge(void *ctx, const struct sm_step_io *io)
{
    struct crammd5_server *s = ctx;
    const sasl_server_params_t *sparams = io->sparams;
    const char *host = sparams->serverFQDN ? sparams->serverFQDN : "localhost";
    uint64_t rnd;

    if (sm_random(&rnd, sizeof(rnd)) != 0)
        return sm_fail(sparams->utils, SASL_FAIL, "CRAM-MD5: no random numbers available");
    s->challenge_len = crammd5_build_challenge(s->challenge, sizeof(s->challenge), rnd,
                                               (uint64_t)time(NULL), host,
                                               strlen(host));
    if (!s->challenge_len)
        return sm_fail(sparams->utils, SASL_FAIL, "CRAM-MD5: cannot build the challenge");
    *io->next = crammd5_server_check_response;
    *io->out = s->challenge;
    *io->outlen = (unsigned)s->challenge_len;
    return SASL_CONTINUE;
}

/* One response being checked: sm_check_stored_secret's arg */
struct crammd5_server_attempt {
    const struct crammd5_server *s;
    const unsigned char *digest; /* the client's, in its message */
};

/* sm_secret_key_fn: HMAC-MD5 of the challenge under the user's stored secret; 1 when
 * a usable secret was found.  Every path does the same work, a key schedule
 * then the digest from it, so neither an unknown user nor the form of the
 * stored secret shows in the time taken: without a secret the key is a
 * constant (a match against it is refused anyway). */
_Static_assert(SM_MD5_LEN == SM_SECRET_KEY_LEN, "the HMAC-MD5 digest is the stored secret's key");
static int crammd5_server_expected_digest(void *arg, const sasl_utils_t *utils,
                                          const struct propval *val,
                                          unsigned char digest[SM_SECRET_KEY_LEN])
{
    const struct crammd5_server *s = ((const struct crammd5_server_attempt *)arg)->s;
    static const char no_key[16] = "no-such-user";
    unsigned char schedule[SM_HMAC_MD5_STATE_LEN];
    struct sm_stored_secret secret;
    const unsigned char *use;
    int found = 0, is_state;

    memset(&secret, 0, sizeof(secret));
    if (val->values && val->values[0]) {
        found = sm_stored_secret_parse(val->values[0], strlen(val->values[0]),
                                       &format_rules[s->set->secret_format], &secret) == 0;
        if (!found)
            utils->log(utils->conn, SASL_LOG_WARN,
                       "CRAM-MD5: a user's stored secret is not in the configured format");
    }
    is_state = found && secret.kind == SM_SECRET_HMAC_MD5_STATE;
    if (found && !is_state)
        sm_hmac_md5_state(secret.password, secret.password_len, schedule);
    else
        sm_hmac_md5_state(no_key, sizeof(no_key), schedule);
    use = is_state ? secret.key : schedule;
    sm_hmac_md5_from_state(use, s->challenge, s->challenge_len, digest);
    sm_erase(schedule, sizeof(schedule));
    sm_erase(&secret, sizeof(secret));
    return found;
}

/* sm_proof_fn: the client's digest against the expected one */
static int crammd5_server_proves(void *arg, const unsigned char digest[SM_SECRET_KEY_LEN])
{
    return sm_ct_equal(digest, ((const struct crammd5_server_attempt *)arg)->digest, SM_MD5_LEN);
}

static int crammd5_server_check_response(void *ctx, const struct sm_step_io *io)
{
    struct crammd5_server *s = ctx;
    struct crammd5_response resp;
    struct crammd5_server_attempt att = {.s = s, .digest = resp.digest};
    const char *refused;

    *io->next = NULL; /* one attempt per exchange, whatever the outcome */
    refused = crammd5_parse_response(io->in, io->inlen, s->set->common.lim.max_user, &resp);
    if (refused)
        return sm_fail(io->utils, SASL_BADPROT, "CRAM-MD5: %s", refused);
    /* userPassword of the authentication identity */
    return sm_check_stored_secret(&att, io, "CRAM-MD5", resp.user, resp.user_len,
                                  SASL_AUX_PASSWORD, crammd5_server_expected_digest,
                                  crammd5_server_proves);
}

SM_SERVER_NEW(crammd5_server_new, "CRAM-MD5", crammd5_server_send_challenge, struct crammd5_server)
