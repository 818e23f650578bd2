/* The client side of XOAUTH2 and OAUTHBEARER.
 *
 * The token is the password the application gives (SASL_CB_PASS), as
 * Postfix's smtp_sasl_password_maps, mutt and imtest already pass it; or a
 * token file (oauth_tokenfile.h) named by a password "tokenfile:/path" or
 * by the client option oauth_token_file, refreshed when it is about to
 * expire.
 *
 * The server may still answer the initial message with its error challenge
 * (RFC 7628 3.2.2), so the client is not done after it: SASL_CONTINUE.  A
 * client that said SASL_OK there would tell the application the mechanism
 * had finished, and libldap then sent the reply to the error challenge as a
 * simple bind with an empty DN, which slapd accepts as an anonymous bind.
 * The server's outcome finishes it: success with no data (or empty data)
 * -> SASL_OK with nothing to send; the error challenge -> the mechanism's
 * reply and SASL_CONTINUE, with the challenge's status and scope in
 * errdetail, and the server's failure then ends the exchange.  Protocols
 * without success data (SMTP's 235) need no further step: the application
 * takes the server's success as the end, as Postfix's smtp client and
 * imtest do.
 *
 * A token from a token file that the server refuses (any error challenge)
 * is recorded in that file (oauth_refused.h), so that the next attempt, in
 * whatever process, refreshes it before its expires_at.  Meanwhile the
 * application sees the server's failure: Postfix's smtp client, with
 * smtp_sasl_auth_soft_bounce = yes (its default), turns the 535 into a 4xx
 * and defers the message, which the next queue run sends with the new
 * token; a refresh that then fails (endpoint down, grant revoked) fails
 * sasl_client_start, which Postfix also treats as temporary (4.7.0). */
#include "config.h"
#include "oauth_server.h"
#include "oauth_config.h"
#include "oauth_tokenfile.h"
#include "oauth_refused.h"
#include "oauth_clientcfg.h"

#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sasl-mechs/memory.h>
#include <sasl-mechs/oparams.h>
#include <sasl-mechs/secret.h>

#define TOKENFILE_PREFIX "tokenfile:"

struct oauth_client {
    struct sm_client base; /* first: the step runner and sm_client_dispose use it */
    const struct oauth_plugin *plugin;
    const struct oauth_client_settings *cs; /* read at load */
    /* the token file the token came from ("" when none) and the token's
     * SHA-256: a refusal is recorded there (oauth_refused.h) */
    char file[PATH_MAX];
    unsigned char sent[OAUTH_REFUSED_HASH_LEN];
};

/* the steps after the first, in order (each handler names the next) */
static sm_step_handler oauth_client_check_outcome;

/* Copies of the option strings the token file options point to: a getopt
 * answer need not outlive the next getopt call. */
struct client_kept {
    char ca_file[4096];
    char proxy[2048];
};

/* s copied into buf (n bytes); 0, or -1 when it does not fit. */
static int client_keep(char *buf, size_t n, const char *s)
{
    size_t len = strlen(s);

    if (len >= n)
        return -1;
    memcpy(buf, s, len + 1);
    return 0;
}

/* The token file options from the client's options (utils: chained to the
 * settings read at load), with what was read at load: the token folder, the
 * CA bundle in memory when the connection names the same file. */
static int client_tokenfile_options(const struct oauth_client_settings *cs,
                                    const sasl_utils_t *utils, struct oauth_tokenfile_options *o,
                                    struct client_kept *kept)
{
    const struct oauth_plugin *p = cs->plugin;
    const char *proxy, *ca;
    unsigned u;
    int yes, r;

    oauth_tokenfile_options_default(o);
    if ((r = oauth_opt_uint(p, utils, "refresh_window", OAUTH_TOKENFILE_DEFAULT_WINDOW, 0,
                            86400, &u)) != SASL_OK)
        return r;
    o->refresh_window = (long)u;
    if ((r = oauth_opt_uint(p, utils, "http_timeout", 10000, 100, 120000, &u)) != SASL_OK)
        return r;
    o->http.timeout_ms = (long)u;
    if ((r = oauth_opt_bool(p, utils, "allow_insecure_http", 0, &yes)) != SASL_OK)
        return r;
    o->http.allow_insecure = yes;
    if ((ca = oauth_opt_string(p, utils, "ca_file"))) {
        if (client_keep(kept->ca_file, sizeof(kept->ca_file), ca) != 0)
            return sm_fail(utils, SASL_BADPARAM, "%s: oauth_ca_file is too long", p->name);
        o->http.ca_file = kept->ca_file;
    }
    if (o->http.ca_file && cs->ca_blob && cs->ca_file && strcmp(o->http.ca_file, cs->ca_file) == 0) {
        o->http.ca_blob = cs->ca_blob;
        o->http.ca_blob_len = cs->ca_len;
    }
    if ((proxy = oauth_opt_string(p, utils, "proxy"))) {
        if (strncmp(proxy, "http://", 7) != 0 && strncmp(proxy, "https://", 8) != 0)
            return sm_fail(utils, SASL_BADPARAM, "%s: oauth_proxy must be an http:// or "
                           "https:// URL", p->name);
        if (client_keep(kept->proxy, sizeof(kept->proxy), proxy) != 0)
            return sm_fail(utils, SASL_BADPARAM, "%s: oauth_proxy is too long", p->name);
        o->http.proxy = kept->proxy;
    }
    if (cs->dir_fd >= 0) {
        o->dir_fd = cs->dir_fd;
        o->dir_name = cs->token_dir;
    }
    return SASL_OK;
}

/* The access token from a token file, refreshed when due; a copy owned by
 * the caller (erase and free it). */
static int client_token_from_file(const struct oauth_client_settings *cs,
                                  const sasl_utils_t *utils, const char *path, char **token)
{
    const struct oauth_plugin *p = cs->plugin;
    struct oauth_tokenfile_options o;
    struct client_kept kept;
    struct oauth_token t = {0};
    enum oauth_tokenfile_status st;
    struct oauth_err err;
    int r;

    if ((r = client_tokenfile_options(cs, utils, &o, &kept)) != SASL_OK)
        return r;
    if (!strchr(path, '/') && cs->dir_fd < 0)
        return sm_fail(utils, SASL_BADPARAM, "%s: the token file %s is named relative to "
                       "oauth_token_dir, which %s%s%s", p->name, path, cs->token_dir
                       ? "could not be opened when the plugin loaded" : "is not set",
                       cs->problem[0] ? ": " : "", cs->problem);
    st = oauth_tokenfile_get(path, &o, &t, &err);
    if (st != OAUTH_TOKENFILE_OK && !(st == OAUTH_TOKENFILE_WRITE_FAILED && t.access_token)) {
        oauth_token_clear(&t);
        /* an endpoint that is down is worth another try later */
        return sm_fail(utils, err.cls == OAUTH_ERR_TEMPORARY ? SASL_TRYAGAIN : SASL_FAIL,
                       "%s: token file: %s (%s)", p->name, oauth_tokenfile_status_text(st),
                       err.reason);
    }
    if (st == OAUTH_TOKENFILE_WRITE_FAILED)
        utils->log(utils->conn, SASL_LOG_WARN, "%s: token file: %s", p->name, err.reason);
    *token = sm_strndup(utils, t.access_token, strlen(t.access_token));
    oauth_token_clear(&t);
    return *token ? SASL_OK : SASL_NOMEM;
}

/* A name in oauth_token_dir: letters, digits and "._@+-", not starting with
 * '.' (no "..", no hidden file, no '/'), so that it stays a file name in
 * the folder and in the log lines and commands that quote it. */
static int client_plain_name(const char *s)
{
    if (!s[0] || s[0] == '.')
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')
              || strchr("._@+-", *s)))
            return 0;
    return 1;
}

/* A token file named by the password: whoever supplies passwords (a map
 * that users edit, in a hosted Postfix) would otherwise choose any file
 * the client can read.  So: only when oauth_password_tokenfile allows it
 * (default yes), an absolute path or a plain name in oauth_token_dir
 * (client_plain_name), and a file of the client's own user. */
static int client_password_tokenfile_allowed(const struct oauth_client_settings *cs,
                                             const sasl_utils_t *utils, const char *path)
{
    const struct oauth_plugin *p = cs->plugin;
    struct stat st;
    int yes, r, ok;

    if ((r = oauth_opt_bool(p, utils, "password_tokenfile", 1, &yes)) != SASL_OK)
        return r;
    if (!yes)
        return sm_fail(utils, SASL_BADPARAM, "%s: a \"tokenfile:\" password is disabled "
                       "(oauth_password_tokenfile)", p->name);
    if (path[0] == '/')
        ok = lstat(path, &st) == 0;
    else
        ok = cs->dir_fd >= 0 && client_plain_name(path)
             && fstatat(cs->dir_fd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (!ok || !S_ISREG(st.st_mode) || st.st_uid != geteuid())
        return sm_fail(utils, SASL_BADPARAM, "%s: the \"tokenfile:\" password does not name "
                       "a regular file of this user by an absolute path%s%s%s%s", p->name,
                       cs->dir_fd >= 0 ? " or by its name in oauth_token_dir" : "",
                       cs->problem[0] ? " (when the plugin loaded: " : "", cs->problem,
                       cs->problem[0] ? ")" : "");
    return SASL_OK;
}

/* The token file a "tokenfile:" password names (into *file, unless the
 * option oauth_token_file named one already), and the token from a token
 * file (into *token; NULL: the password is the token).  The file is
 * remembered, to record a refusal of this token there. */
static int client_token(struct oauth_client *c, const sasl_utils_t *utils, char **file,
                        char **token)
{
    const struct sm_creds *cr = &c->base.creds;
    size_t plen = strlen(TOKENFILE_PREFIX);
    int r;

    /* the password is a token: its first bytes are compared in constant time too */
    if (!*file && cr->password_len > plen && sm_ct_equal(cr->password, TOKENFILE_PREFIX, plen)) {
        if (!(*file = sm_strndup(utils, cr->password + plen, cr->password_len - plen)))
            return SASL_NOMEM;
        if (strlen(*file) != cr->password_len - plen)
            return sm_fail(utils, SASL_BADPARAM, "%s: a NUL byte in the token file's name",
                           c->plugin->name);
        if ((r = client_password_tokenfile_allowed(c->cs, utils, *file)) != SASL_OK)
            return r;
    }
    if (!*file)
        return SASL_OK;
    if ((r = client_token_from_file(c->cs, utils, *file, token)) != SASL_OK)
        return r;
    if (strlen(*file) < sizeof(c->file) && oauth_refused_hash(*token, strlen(*token), c->sent) == 0)
        strcpy(c->file, *file);
    return SASL_OK;
}

/* The initial message for the identities in oparams and the token (NULL:
 * the password), handed to libsasl2. */
static int client_send_token(struct oauth_client *c, const struct sm_step_io *io,
                             const sasl_utils_t *utils, const char *token)
{
    const struct oauth_plugin *p = c->plugin;
    const sasl_out_params_t *oparams = io->oparams;
    const char *fqdn = io->cparams->serverFQDN;
    struct oauth_client_params m = {0};
    enum oauth_codec_status st;
    size_t need = 0;
    int r;

    /* the identity to act as: the authzid when there is one */
    m.user = oparams->user && oparams->ulen ? oparams->user : oparams->authid;
    m.cb = OAUTH_CB_N;
    m.user_len = strlen(m.user);
    m.token = token ? token : c->base.creds.password;
    m.token_len = token ? strlen(token) : c->base.creds.password_len;
    m.host = fqdn;
    m.host_len = fqdn ? strlen(fqdn) : 0;
    if (!m.token_len)
        return sm_fail(utils, SASL_BADPARAM, "%s: empty access token", p->name);
    st = oauth_build_client_msg(p->mech, &m, NULL, 0, &need);
    if (st == OAUTH_CODEC_ERR_NO_ROOM && need < (unsigned)-1)
        r = sm_outbuf_reserve(utils, &c->base.out, (unsigned)need);
    else
        r = sm_fail(utils, SASL_BADPARAM, "%s: cannot send these credentials: %s", p->name,
                    oauth_codec_status_text(st));
    if (r == SASL_OK && (st = oauth_build_client_msg(p->mech, &m, c->base.out.data, need + 1,
                                                     &need)) != OAUTH_CODEC_OK)
        r = sm_fail(utils, SASL_BADPARAM, "%s: cannot send these credentials: %s", p->name,
                    oauth_codec_status_text(st));
    if (r != SASL_OK)
        return r;
    c->base.out.len = (unsigned)need;
    sm_client_output(&c->base, io->out, io->outlen);
    return SASL_OK;
}

/* The first step, the initial message: the token from the password or a
 * token file, sent with the identity to act as. */
static int oauth_client_send_message(void *ctx, const struct sm_step_io *io)
{
    struct oauth_client *c = ctx;
    const struct oauth_plugin *p = c->plugin;
    struct oauth_chained_utils ch;
    const sasl_utils_t *utils;
    const char *opt, *authzid;
    char *file, *token = NULL;
    size_t namelen;
    int r;

    /* client first: nothing, or the server's empty challenge */
    if (io->in && io->inlen)
        return sm_fail(io->utils, SASL_BADPROT, "%s: the server spoke first", p->name);
    utils = (oauth_client_settings_chain(c->cs, io->utils, &ch), &ch.utils);
    opt = oauth_opt_string(p, utils, "token_file");
    /* getopt's answer need not outlive the next getopt call */
    file = opt ? sm_strndup(utils, opt, strlen(opt)) : NULL;
    if (opt && !file)
        return SASL_NOMEM;
    r = sm_get_creds(io->cparams, SM_WANT_AUTHNAME | SM_WANT_AUTHZID
                     | (file ? 0 : SM_WANT_PASSWORD), io->prompt_need, &c->base.creds);
    if (r != SASL_OK)
        goto done;
    namelen = strlen(c->base.creds.authname);
    authzid = c->base.creds.authzid;
    if (!namelen)
        r = sm_fail(utils, SASL_BADPARAM, "%s: empty user name", p->name);
    else
        r = sm_set_identities(utils, io->cparams->canon_user, c->base.creds.authname,
                              (unsigned)namelen, authzid,
                              authzid ? (unsigned)strlen(authzid) : 0, io->oparams);
    if (r == SASL_OK && (r = client_token(c, utils, &file, &token)) == SASL_OK
        && (r = client_send_token(c, io, utils, token)) == SASL_OK) {
        *io->next = oauth_client_check_outcome;
        sm_oparams_no_layer(io->oparams);
        r = SASL_CONTINUE;
    }
done:
    utils->free(file);
    if (r == SASL_INTERACT)
        return r;
    if (token)
        sm_free_secret(utils, token, (size_t)-1);
    sm_creds_dispose(utils, &c->base.creds);
    return r;
}

/* The server refused a token from a token file: record it there, so that
 * the next attempt (in this process or another) refreshes it first.  The
 * exchange fails anyway; a failure to record it is only logged. */
static void client_record_refusal(struct oauth_client *c, const sasl_utils_t *cutils)
{
    const struct oauth_plugin *p = c->plugin;
    struct oauth_chained_utils ch;
    const sasl_utils_t *utils = (oauth_client_settings_chain(c->cs, cutils, &ch), &ch.utils);
    struct oauth_tokenfile_options o;
    struct client_kept kept;
    enum oauth_tokenfile_status st;
    struct oauth_err err;
    int marked = 0;

    if (!c->file[0] || client_tokenfile_options(c->cs, utils, &o, &kept) != SASL_OK)
        return;
    const char *dir = c->file[0] != '/' && o.dir_name ? o.dir_name : NULL;

    st = oauth_tokenfile_refused(c->file, &o, c->sent, &marked, &err);
    if (st != OAUTH_TOKENFILE_OK)
        utils->log(utils->conn, SASL_LOG_WARN, "%s: token file %s%s%s: the server refused its "
                   "token, and the refusal could not be recorded: %s (%s)", p->name,
                   dir ? dir : "", dir ? "/" : "", c->file, oauth_tokenfile_status_text(st),
                   err.reason);
    else
        utils->log(utils->conn, SASL_LOG_WARN, "%s: token file %s%s%s: the server refused its "
                   "token; %s", p->name, dir ? dir : "", dir ? "/" : "", c->file,
                   marked ? "recorded: the next attempt refreshes it first"
                          : "another process has replaced it already");
    sm_erase(c->sent, sizeof(c->sent));
    c->file[0] = '\0';
}

/* The server's error challenge: answer it, and say what it said. */
static int client_answer_error(struct oauth_client *c, const struct sm_step_io *io)
{
    const struct oauth_plugin *p = c->plugin;
    const sasl_utils_t *utils = io->utils;
    struct oauth_error_info info = {0};
    enum oauth_codec_status st;
    const char *reply;
    struct oauth_err err;
    size_t len;
    int r;

    *io->next = NULL;
    st = oauth_parse_error_json(io->in, io->inlen, &info, &err);
    /* the token was not accepted: a new one may be (revoked or rotated
     * early: invalid_token, Google's "401", any other status); not when the
     * server says the scope or the request is wrong, which a refresh of the
     * same grant does not change (each attempt would spend a refresh) */
    if (st != OAUTH_CODEC_OK || (info.code != OAUTH_STATUS_INSUFFICIENT_SCOPE
                                 && info.code != OAUTH_STATUS_INVALID_REQUEST))
        client_record_refusal(c, utils);
    if (st != OAUTH_CODEC_OK)
        return sm_fail(utils, SASL_BADPROT, "%s: the server's challenge is not an error "
                       "object: %s (%s)", p->name, oauth_codec_status_text(st), err.reason);
    reply = oauth_error_reply(p->mech, &len);
    r = sm_outbuf_set(utils, &c->base.out, reply, (unsigned)len);
    if (r == SASL_OK) {
        sm_client_output(&c->base, io->out, io->outlen);
        /* the exchange fails on the server's side; this is what it said */
        sm_fail(utils, SASL_CONTINUE, "%s: the server refused the token: status %s%s%s", p->name,
                info.status, info.scope ? ", scope " : "", info.scope ? info.scope : "");
        r = SASL_CONTINUE;
    }
    oauth_error_info_clear(&info);
    return r;
}

/* The step after the initial message, the server's outcome: its success,
 * with no data or empty data, ends the exchange; an error challenge is
 * answered. */
static int oauth_client_check_outcome(void *ctx, const struct sm_step_io *io)
{
    struct oauth_client *c = ctx;

    if (io->in && io->inlen)
        return client_answer_error(c, io);
    *io->next = NULL;
    sm_oparams_done(io->oparams);
    return SASL_OK;
}

int oauth_client_new(void *glob, sasl_client_params_t *cparams, void **ctx)
{
    const struct oauth_client_settings *cs = glob;
    int r = sm_client_new(cparams, cs->plugin->name, oauth_client_send_message,
                          sizeof(struct oauth_client), ctx);

    if (r == SASL_OK) {
        ((struct oauth_client *)*ctx)->cs = cs;
        ((struct oauth_client *)*ctx)->plugin = cs->plugin;
    }
    return r;
}
