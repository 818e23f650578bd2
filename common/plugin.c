#include "config.h"
#include <sasl-mechs/abi.h>
#include <sasl-mechs/oparams.h>
#include <sasl-mechs/options.h>
#include <sasl-mechs/plugin.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* errdetail text longer than this is cut: it is a sentence for a log.
 * Room for the refusals of a plugin's options (sm_server_new): the
 * mechanism, the sentences and the note that more were refused. */
#define SM_ERRDETAIL_MAX (SM_OPT_REASONS_MAX + 80)

/* The one place a failure is logged: libsasl2's seterror (flags 0) both
 * keeps the sentence as the connection's errdetail and logs it, so a caller
 * must not log the same failure first (the mail log would show it twice).
 * The sentence is formatted here, with vsnprintf, and handed to seterror
 * as a "%s" argument, because libsasl2's own formatter is not printf: it
 * takes %z as its own directive (the text of a SASL code, not size_t's
 * length modifier) and knows only %s, %c, %d, %i, %m and %%: no %u, %x or
 * %zu, a precision such as %.80s is ignored, and a long or size_t argument
 * is read as an int.  A sentence passed as the format would be garbled,
 * or would read arguments that are not there when it holds a '%'. */
int sm_fail(const sasl_utils_t *utils, int code, const char *fmt, ...)
{
    char msg[SM_ERRDETAIL_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    utils->seterror(utils->conn, 0, "%s", msg);
    return code;
}

int sm_is_temporary(int result)
{
    return result == SASL_NOMEM || result == SASL_UNAVAIL || result == SASL_TRYAGAIN
        || result == SASL_FAIL;
}

int sm_too_many_steps(const sasl_utils_t *utils, const char *mech)
{
    return sm_fail(utils, SASL_BADPROT, "%s: step called after the exchange ended", mech);
}

/* Both runners: no answer unless the step gives one; the handler of the
 * context's next step run, or the refusal of a step after the last (ctx
 * NULL: libsasl2 disposed of the context after a failed step, and a
 * careless application called again). */
static int plugin_run(void *ctx, const char *mech, sm_step_handler **next, struct sm_step_io *io)
{
    *io->out = NULL;
    *io->outlen = 0;
    /* a NULL context cannot say whose it was */
    if (!ctx)
        return sm_fail(io->utils, SASL_BADPROT,
                       "a step called after the exchange ended (its context already disposed of)");
    if (!*next)
        return sm_too_many_steps(io->utils, mech);
    io->next = next;
    return (*next)(ctx, io);
}

int sm_server_step(void *ctx, sasl_server_params_t *sparams, const char *in, unsigned inlen,
                   const char **out, unsigned *outlen, sasl_out_params_t *oparams)
{
    struct sm_server *s = ctx;
    struct sm_step_io io = {.sparams = sparams, .utils = sparams->utils, .in = in,
                            .inlen = inlen, .out = out, .outlen = outlen, .oparams = oparams};

    return plugin_run(ctx, s ? s->mech : NULL, s ? &s->next : NULL, &io);
}

int sm_client_step(void *ctx, sasl_client_params_t *cparams, const char *in, unsigned inlen,
                   sasl_interact_t **prompt_need, const char **out, unsigned *outlen,
                   sasl_out_params_t *oparams)
{
    struct sm_client *c = ctx;
    struct sm_step_io io = {.cparams = cparams, .utils = cparams->utils, .in = in,
                            .inlen = inlen, .prompt_need = prompt_need, .out = out,
                            .outlen = outlen, .oparams = oparams};

    return plugin_run(ctx, c ? c->mech : NULL, c ? &c->next : NULL, &io);
}

int sm_auth_result(const sasl_utils_t *utils, const char *mech, int result)
{
    switch (result) {
    case SASL_OK:
        return SASL_OK;
    case SASL_NOUSER:
    case SASL_BADAUTH:
        return sm_fail(utils, SASL_BADAUTH, "%s: authentication failed", mech);
    default:
        /* a backend error (saslauthd down, auxprop failure): temporary */
        return result;
    }
}

int sm_secret_verdict(const sasl_utils_t *utils, const char *mech, int lookup, int proven,
                      sasl_out_params_t *oparams)
{
    if (sm_is_temporary(lookup))
        return lookup;
    if (lookup != SASL_OK || !proven)
        return sm_auth_result(utils, mech, SASL_BADAUTH);
    sm_oparams_done(oparams);
    return SASL_OK;
}

/* SASL_OK with *count set to what libsasl2 should register, or an error.
 * A bad <prefix>_enable is returned, or with status (a server's) kept there
 * and the mechanism registered. */
static int plugin_init_side(const struct sm_plugin *p, const sasl_utils_t *utils, int maxversion,
                            int wanted, const char *side, int count, int *out_version,
                            int *plugcount, int *status)
{
    char name[SM_OPT_NAME_MAX], why[512];
    int enabled = 1, r;

    /* first, and before any use of utils: under the other layout of
     * sasl_utils_t its log member is another function */
    snprintf(name, sizeof(name), "%s %s", p->mech, side);
    if (sm_abi_check(utils, name, why, sizeof(why)) != SASL_OK) {
        sm_abi_report(why);
        *plugcount = 0;
        return SASL_BADVERS;
    }
    if (maxversion < wanted) {
        utils->log(NULL, SASL_LOG_ERR, "sasl-mechs: libsasl2 offers %s plugin API %d, need %d",
                   side, maxversion, wanted);
        return SASL_BADVERS;
    }
    if (p->unavailable && p->unavailable()) {
        utils->log(NULL, SASL_LOG_ERR, "sasl-mechs: %s %s: %s; %s is not offered", p->mech,
                   side, p->unavailable(), p->mech);
        *plugcount = 0;
        return SASL_NOMECH;
    }
    snprintf(name, sizeof(name), "%s_enable", p->prefix);
    if ((r = sm_opt_bool(utils, name, 1, &enabled)) != SASL_OK) {
        if (!status)
            return r;
        *status = r;
        enabled = 1;
    }
    if (!enabled)
        utils->log(NULL, SASL_LOG_NOTE, "sasl-mechs: %s %s disabled by option %s",
                   p->mech, side, name);
    *out_version = wanted;
    *plugcount = enabled ? count : 0;
    return SASL_OK;
}

static int plugin_read_server_settings(const struct sm_plugin *p, const sasl_utils_t *utils)
{
    int r = sm_read_limits(utils, p->prefix, p->limits & SM_LIMIT_USER,
                           p->limits & SM_LIMIT_PASSWORD, &p->settings->lim);

    if (r == SASL_OK && p->read_settings)
        r = p->read_settings(utils, p->settings);
    if (r == SASL_OK && p->read_options)
        r = p->read_options(utils);
    return r;
}

int sm_server_plug_init(const struct sm_plugin *p, const sasl_utils_t *utils, int maxversion,
                        int *out_version, sasl_server_plug_t **pluglist, int *plugcount)
{
    struct sm_server_settings *set = p->settings;
    int status = SASL_OK, r;

    /* every refusal while this plugin loads is kept in its own settings */
    sm_opt_keep_refusals(&set->refused);
    r = plugin_init_side(p, utils, maxversion, SASL_SERVER_PLUG_VERSION, "server", p->server_count,
                         out_version, plugcount, &status);
    *pluglist = p->server;
    if (r == SASL_OK) {
        if (status == SASL_OK)
            status = plugin_read_server_settings(p, utils);
        set->status = status;
    }
    /* a client's plug_init may refuse an option of its own later: not ours */
    sm_opt_keep_refusals(NULL);
    return r;
}

int sm_client_plug_init(const struct sm_plugin *p, const sasl_utils_t *utils, int maxversion,
                        int *out_version, sasl_client_plug_t **pluglist, int *plugcount)
{
    int r;

    *pluglist = p->client;
    r = plugin_init_side(p, utils, maxversion, SASL_CLIENT_PLUG_VERSION, "client",
                         p->client_count, out_version, plugcount, NULL);
    if (r == SASL_OK && *plugcount > 0 && p->client_load)
        p->client_load(utils);
    return r;
}

int sm_server_new(sasl_server_params_t *sparams, const struct sm_server_settings *settings,
                  const char *mech, sm_step_handler *first, size_t size, void **ctx)
{
    const struct sm_opt_refusals *no = &settings->refused;

    if (settings->status != SASL_OK)
        return sm_fail(sparams->utils, SASL_CONFIGERR, "%s: %s%s", mech,
                       no->kept ? no->reasons
                       : settings->status == SASL_NOMEM
                           ? "out of memory while reading the options"
                           : "an option has an invalid value (the log of the plugin's loading "
                             "says which)",
                       no->kept < no->count ? " (more were refused: the plugin's load log "
                                              "names them)" : "");
    *ctx = sparams->utils->calloc(1, size);
    if (!*ctx)
        return SASL_NOMEM;
    ((struct sm_server *)*ctx)->propctx = sparams->propctx;
    ((struct sm_server *)*ctx)->mech = mech;
    ((struct sm_server *)*ctx)->next = first;
    return SASL_OK;
}

int sm_server_new_glob(sasl_server_params_t *sparams, const void *glob, const char *mech,
                       sm_step_handler *first, size_t size, size_t set_offset,
                       void **ctx)
{
    int r = sm_server_new(sparams, glob, mech, first, size, ctx);

    if (r == SASL_OK)
        memcpy((char *)*ctx + set_offset, &glob, sizeof(glob));
    return r;
}

void sm_server_dispose(void *ctx, const sasl_utils_t *utils)
{
    if (!ctx) /* libsasl2 disposes again, of NULL, after a failed step */
        return;
    sm_props_forget(utils, ((struct sm_server *)ctx)->propctx);
    utils->free(ctx);
}

int sm_client_new(sasl_client_params_t *cparams, const char *mech,
                  sm_step_handler *first, size_t size, void **ctx)
{
    struct sm_client *c = cparams->utils->calloc(1, size);

    *ctx = c;
    if (!c)
        return SASL_NOMEM;
    c->mech = mech;
    c->next = first;
    return SASL_OK;
}

void sm_client_dispose(void *ctx, const sasl_utils_t *utils)
{
    struct sm_client *c = ctx;

    /* after a failed step libsasl2 disposes of the context, then later calls
     * dispose again with NULL */
    if (!c)
        return;
    sm_creds_dispose(utils, &c->creds);
    sm_outbuf_dispose(utils, &c->out);
    utils->free(c);
}

void sm_client_output(const struct sm_client *c, const char **out, unsigned *outlen)
{
    *out = c->out.data;
    *outlen = c->out.len;
}
