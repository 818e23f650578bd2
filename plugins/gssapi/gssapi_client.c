/* The GSSAPI client (RFC 4752 3.1): initiate a mutually authenticated
 * context to service@serverFQDN with the credentials in the ccache, then
 * pick a security layer from the server's wrapped offer. */
#include "config.h"
#include "gssapi.h"

#include <stdio.h>
#include <string.h>
#include <gssapi/gssapi_krb5.h>
#include <sasl-mechs/memory.h>
#include <sasl-mechs/oparams.h>
#include <sasl-mechs/options.h>
#include <sasl-mechs/outbuf.h>
#include <sasl-mechs/plugin.h>
#include <sasl-mechs/prompt.h>

struct gssapi_client {
    struct sm_client base; /* first: the step runner, sm_client_new and output use it */
    gss_ctx_id_t ctx;
    gss_name_t target;
    gss_cred_id_t cred;
    OM_uint32 flags;
    struct gssapi_sec sec;
};

/* the steps after the first, in order (each handler names the next) */
static sm_step_handler gssapi_client_answer_offer;

GSSAPI_LAYER_FNS(gssapi_client_layer, struct gssapi_client);

void gssapi_client_dispose(void *ctx, const sasl_utils_t *utils)
{
    struct gssapi_client *c = ctx;

    if (!c)
        return;
    gssapi_release(&c->sec, &c->ctx, &c->cred, &c->target);
    sm_client_dispose(ctx, utils);
}

static int gssapi_client_import_target(struct gssapi_client *c, sasl_client_params_t *cparams)
{
    const sasl_utils_t *utils = cparams->utils;
    char name[1100];
    gss_buffer_desc nb;
    OM_uint32 maj, min;
    int n;

    if (!cparams->service || !cparams->serverFQDN)
        return sm_fail(utils, SASL_BADPARAM, "GSSAPI: the service name and the server's host "
                       "name are both needed");
    n = snprintf(name, sizeof(name), "%s@%s", cparams->service, cparams->serverFQDN);
    if (n < 0 || (size_t)n >= sizeof(name))
        return sm_fail(utils, SASL_BADPARAM, "GSSAPI: the server's name is too long");
    nb.value = name;
    nb.length = (size_t)n;
    maj = gss_import_name(&min, &nb, GSS_C_NT_HOSTBASED_SERVICE, &c->target);
    if (GSS_ERROR(maj))
        return gssapi_fail(utils, SASL_BADPARAM, "cannot import the service name", maj, min);
    return SASL_OK;
}

/* gssapi_client_principal (the application's getopt): which of the
 * ccache collection's principals to use; unset, the default ccache. */
static int gssapi_client_acquire(struct gssapi_client *c, const sasl_utils_t *utils)
{
    char principal[1001];
    gss_buffer_desc nb;
    gss_name_t name;
    OM_uint32 maj, min;
    int r;

    if ((r = sm_opt_string(utils, "gssapi_client_principal", principal, sizeof(principal)))
        != SASL_OK)
        return r;
    if (!principal[0])
        return SASL_OK;
    nb.value = principal;
    nb.length = strlen(principal);
    maj = gss_import_name(&min, &nb, (gss_OID)GSS_KRB5_NT_PRINCIPAL_NAME, &name);
    if (GSS_ERROR(maj))
        return gssapi_fail(utils, SASL_CONFIGERR, "option gssapi_client_principal", maj, min);
    maj = gss_acquire_cred(&min, name, GSS_C_INDEFINITE, GSS_C_NO_OID_SET, GSS_C_INITIATE,
                           &c->cred, NULL, NULL);
    gss_release_name(&min, &name);
    if (GSS_ERROR(maj))
        return gssapi_fail(utils, SASL_BADAUTH, "no credentials for gssapi_client_principal",
                           maj, min);
    return SASL_OK;
}

static int gssapi_client_output(struct gssapi_client *c, const struct sm_step_io *io,
                                gss_buffer_t tok)
{
    OM_uint32 min;
    int r = sm_outbuf_set(io->utils, &c->base.out, tok->value ? tok->value : "",
                          (unsigned)tok->length);

    gss_release_buffer(&min, tok);
    if (r == SASL_OK)
        sm_client_output(&c->base, io->out, io->outlen);
    return r;
}

static int gssapi_client_init_context(void *ctx, const struct sm_step_io *io)
{
    struct gssapi_client *c = ctx;
    sasl_client_params_t *cparams = io->cparams;
    const sasl_utils_t *utils = io->utils;
    unsigned inlen = io->inlen;
    struct gss_channel_bindings_struct cbstore;
    gss_buffer_desc ib = {inlen, (void *)io->in}, ob = GSS_C_EMPTY_BUFFER;
    OM_uint32 maj, min, want;
    int r;

    if (c->target == GSS_C_NO_NAME) {
        if ((r = gssapi_client_import_target(c, cparams)) != SASL_OK
            || (r = gssapi_client_acquire(c, utils)) != SASL_OK)
            return r;
    } else if (inlen == 0 || inlen > GSSAPI_MAX_TOKEN) {
        return sm_fail(utils, SASL_BADPROT, "GSSAPI: a context token of %u bytes", inlen);
    }
    want = GSS_C_MUTUAL_FLAG | GSS_C_SEQUENCE_FLAG | GSS_C_REPLAY_FLAG | GSS_C_INTEG_FLAG
           | GSS_C_CONF_FLAG;
    /* as Cyrus: the application asks for delegation with
     * SASL_SEC_PASS_CREDENTIALS */
    if (cparams->props.security_flags & SASL_SEC_PASS_CREDENTIALS)
        want |= GSS_C_DELEG_FLAG;
    maj = gss_init_sec_context(&min, c->cred, &c->ctx, c->target, (gss_OID)gss_mech_krb5, want,
                               0, gssapi_bindings(cparams->cbinding, &cbstore),
                               c->ctx == GSS_C_NO_CONTEXT ? GSS_C_NO_BUFFER : &ib, NULL, &ob,
                               &c->flags, NULL);
    if (GSS_ERROR(maj)) {
        OM_uint32 m2;
        /* min carries the Kerberos reason: release with another */
        gss_release_buffer(&m2, &ob);
        return gssapi_fail(utils, gssapi_context_code(maj, min), "cannot initiate the context", maj,
                           min);
    }
    if (!(maj & GSS_S_CONTINUE_NEEDED)) {
        /* without mutual authentication the server was never proven */
        if (!(c->flags & GSS_C_MUTUAL_FLAG)) {
            gss_release_buffer(&min, &ob);
            return sm_fail(utils, SASL_BADAUTH, "GSSAPI: the server did not authenticate");
        }
        *io->next = gssapi_client_answer_offer;
    }
    r = gssapi_client_output(c, io, &ob);
    return r == SASL_OK ? SASL_CONTINUE : r;
}

/* The server's wrapped offer (RFC 4752 3.1): the layers it offers and its
 * buffer, and the layer this client picks from them. */
struct gssapi_client_offer {
    unsigned offered, layer, conf_ssf;
    uint32_t peer_max;
};

static int gssapi_client_read_offer(struct gssapi_client *c, sasl_client_params_t *cparams,
                                    const char *in, unsigned inlen,
                                    struct gssapi_client_offer *o)
{
    const sasl_utils_t *utils = cparams->utils;
    gss_buffer_desc clear = GSS_C_EMPTY_BUFFER;
    enum gssapi_status st;
    unsigned allowed;
    OM_uint32 min;
    int r;

    if ((r = gssapi_unwrap_token(utils, c->ctx, in, inlen, &clear)) != SASL_OK)
        return r;
    st = gssapi_parse_offer(clear.value, clear.length, &o->offered, &o->peer_max);
    gss_release_buffer(&min, &clear);
    if (st != GSSAPI_OK)
        return sm_fail(utils, SASL_BADPROT, "GSSAPI: %s", gssapi_status_text(st));
    o->conf_ssf = gssapi_conf_ssf(c->ctx);
    allowed = gssapi_layers_allowed(&cparams->props, cparams->external_ssf, o->conf_ssf,
                                    c->flags);
    o->layer = gssapi_best_layer(o->offered & allowed);
    if (!o->layer)
        return sm_fail(utils, SASL_TOOWEAK, "GSSAPI: the server offers no security layer this "
                       "client accepts (offered 0x%x)", o->offered);
    if (o->layer != GSSAPI_LAYER_NONE && o->peer_max == 0)
        return sm_fail(utils, SASL_BADPROT, "GSSAPI: %s",
                       gssapi_status_text(GSSAPI_ERR_ZERO_BUFFER));
    return SASL_OK;
}

/* Our principal as the authentication identity, the authzid (if any) as
 * the authorization identity. */
static int gssapi_client_set_identity(struct gssapi_client *c, sasl_client_params_t *cparams,
                                      size_t authzid_len, sasl_out_params_t *oparams)
{
    const sasl_utils_t *utils = cparams->utils;
    gss_buffer_desc nb = GSS_C_EMPTY_BUFFER;
    char *me_text;
    OM_uint32 min;
    int r;

    r = gssapi_context_name(utils, c->ctx, GSSAPI_INITIATOR, "cannot read our own principal",
                            &nb);
    if (r != SASL_OK)
        return r;
    /* canon_user reads up to a NUL: a GSS-API buffer promises none */
    me_text = nb.length <= SM_MAX_USER_LIMIT ? sm_strndup(utils, nb.value, nb.length) : NULL;
    gss_release_buffer(&min, &nb);
    if (!me_text)
        return sm_fail(utils, SASL_FAIL, "GSSAPI: cannot read our own principal");
    r = sm_set_identities(utils, cparams->canon_user, me_text, (unsigned)strlen(me_text),
                          c->base.creds.authzid, (unsigned)authzid_len, oparams);
    utils->free(me_text);
    return r;
}

static int gssapi_client_choose(struct gssapi_client *c, const struct sm_step_io *io)
{
    sasl_client_params_t *cparams = io->cparams;
    sasl_out_params_t *oparams = io->oparams;
    const sasl_utils_t *utils = io->utils;
    struct gssapi_client_offer o;
    gss_buffer_desc wrapped;
    unsigned choice;
    int ad_compat;
    uint32_t our_max;
    unsigned char reply[GSSAPI_TOKEN_LEN + GSSAPI_MAX_AUTHZID];
    size_t authzid_len = 0, n;
    int r;

    if ((r = sm_get_creds(cparams, SM_WANT_AUTHZID, io->prompt_need, &c->base.creds)) != SASL_OK)
        return r;
    if ((r = gssapi_client_read_offer(c, cparams, io->in, io->inlen, &o)) != SASL_OK)
        return r;
    choice = o.layer;
    our_max = 0;
    if (o.layer != GSSAPI_LAYER_NONE)
        our_max = cparams->props.maxbufsize > GSSAPI_MAX_BUFFER ? GSSAPI_MAX_BUFFER
                                                                : cparams->props.maxbufsize;
    if (c->base.creds.authzid)
        authzid_len = strlen(c->base.creds.authzid);
    /* Cyrus's option ad_compat (Active Directory): confidentiality chosen
     * with the integrity bit too, when the server offered both */
    if ((r = sm_opt_cyrus_bool(utils, "GSSAPI", "ad_compat", 0, &ad_compat)) != SASL_OK)
        return r;
    if (ad_compat && o.layer == GSSAPI_LAYER_CONFIDENTIALITY
        && (o.offered & GSSAPI_LAYER_INTEGRITY))
        choice |= GSSAPI_LAYER_INTEGRITY;
    n = gssapi_choice_build(reply, sizeof(reply), choice, our_max, c->base.creds.authzid,
                            authzid_len);
    if (!n)
        return sm_fail(utils, SASL_BADPARAM, "GSSAPI: the authorization identity is too long");
    if ((r = gssapi_client_set_identity(c, cparams, authzid_len, oparams)) != SASL_OK)
        return r;
    if ((r = gssapi_wrap_token(utils, c->ctx, reply, n, &wrapped)) != SASL_OK)
        return r;
    if ((r = gssapi_client_output(c, io, &wrapped)) != SASL_OK)
        return r;
    /* done only once the layer is in place: a failure leaves no half-done
     * exchange behind */
    sm_oparams_no_layer(oparams);
    r = gssapi_sec_start(utils, &c->sec, c->ctx, o.layer, o.peer_max, our_max, o.conf_ssf,
                         &gssapi_client_layer, oparams);
    if (r == SASL_OK)
        oparams->doneflag = 1;
    return r;
}

/* The answer to the offer, once: only a prompt for the authzid (the
 * application answers it and calls again with the same offer) leaves the
 * step where it is. */
static int gssapi_client_answer_offer(void *ctx, const struct sm_step_io *io)
{
    struct gssapi_client *c = ctx;
    int r = gssapi_client_choose(c, io);

    if (r != SASL_INTERACT)
        *io->next = NULL;
    return r;
}

int gssapi_client_new(void *glob, sasl_client_params_t *cparams, void **ctx)
{
    struct gssapi_client *c;
    int r;

    (void)glob;
    if ((r = sm_client_new(cparams, "GSSAPI", gssapi_client_init_context,
                           sizeof(struct gssapi_client), ctx)) != SASL_OK)
        return r;
    c = *ctx;
    c->ctx = GSS_C_NO_CONTEXT;
    c->target = GSS_C_NO_NAME;
    c->cred = GSS_C_NO_CREDENTIAL;
    return SASL_OK;
}
