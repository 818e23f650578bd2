/* The GSSAPI server (RFC 4752 3.1): accept the client's context, offer the
 * security layers in a wrapped 4-octet token, take the client's choice and
 * authorization identity. */
#include "config.h"
#include "gssapi.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <sasl-mechs/memory.h>
#include <sasl-mechs/oparams.h>
#include <sasl-mechs/options.h>
#include <sasl-mechs/outbuf.h>
#include <sasl-mechs/plugin.h>

struct gssapi_server {
    struct sm_server base; /* first: the step runner and sm_server_dispose use it */
    gss_ctx_id_t ctx;
    gss_cred_id_t cred;    /* acceptor credentials */
    gss_cred_id_t deleg;   /* the client's, when it delegated: the application's */
    /* where SASL_DELEGATEDCREDS points at deleg (libsasl2's oparams, which
     * outlive this context), so that dispose can take the pointer back */
    sasl_out_params_t *deleg_published;
    gss_name_t client;
    gss_OID mech;          /* the mechanism the client used (the library's) */
    OM_uint32 flags;
    unsigned offered, conf_ssf;
    uint32_t our_max;
    struct sm_outbuf out;
    struct gssapi_sec sec;
    const struct gssapi_settings *set; /* the plugin's (glob) */
};

/* the steps after the first, in order (each handler names the next) */
static sm_step_handler gssapi_server_answer_last_token, gssapi_server_take_choice;

GSSAPI_LAYER_FNS(gssapi_server_layer, struct gssapi_server);

int gssapi_server_options(const sasl_utils_t *utils, struct sm_server_settings *set)
{
    struct gssapi_settings *opt = (struct gssapi_settings *)set; /* its first member */
    char cyrus_keytab[sizeof(opt->keytab)];
    int r;

    if ((r = sm_opt_string(utils, "gssapi_keytab", opt->keytab, sizeof(opt->keytab))) != SASL_OK
        /* Cyrus's gssapiv2 reads "keytab": the same file under its name */
        || (r = sm_opt_cyrus_string(utils, "GSSAPI", "keytab", cyrus_keytab,
                                    sizeof(cyrus_keytab))) != SASL_OK
        || (r = sm_opt_string(utils, "gssapi_principal", opt->principal,
                              sizeof(opt->principal))) != SASL_OK
        || (r = sm_opt_string(utils, "gssapi_local_realm", opt->local_realm,
                              sizeof(opt->local_realm))) != SASL_OK
        || (r = sm_opt_bool(utils, "gssapi_strip_realm", 1, &opt->strip_realm)) != SASL_OK
        || (r = sm_opt_bool(utils, "gssapi_accept_any_service", 0, &opt->any_service))
               != SASL_OK)
        return r;
    if (cyrus_keytab[0]) {
        if (opt->keytab[0] && strcmp(opt->keytab, cyrus_keytab) != 0)
            return sm_opt_refuse(utils, "keytab", "keytab (Cyrus's option) names %.80s but "
                                 "gssapi_keytab names %.80s: keep one of the two",
                                 cyrus_keytab, opt->keytab);
        strcpy(opt->keytab, cyrus_keytab);
    }
    if (opt->local_realm[0] && strchr(opt->local_realm, '@'))
        return sm_opt_refuse(utils, "gssapi_local_realm", "gssapi_local_realm: \"%.100s\" is "
                             "a principal, not a realm", opt->local_realm);
    return SASL_OK;
}

void gssapi_server_dispose(void *ctx, const sasl_utils_t *utils)
{
    struct gssapi_server *s = ctx;
    OM_uint32 min;

    if (!s)
        return;
    gssapi_release(&s->sec, &s->ctx, &s->cred, &s->client);
    /* libsasl2 disposes of the context on the connection's next
     * sasl_server_start (and after a failed step) but keeps oparams: a
     * SASL_DELEGATEDCREDS still pointing here would be freed memory.  The
     * oparams are the connection's, alive whenever it disposes of us. */
    if (s->deleg_published && s->deleg_published->client_creds == &s->deleg)
        s->deleg_published->client_creds = NULL;
    /* unless the application took them over (zeroed the handle), they were
     * its to use until now, as with Cyrus's plugin */
    if (s->deleg != GSS_C_NO_CREDENTIAL)
        gss_release_cred(&min, &s->deleg);
    sm_outbuf_dispose(utils, &s->out);
    sm_server_dispose(s, utils);
}

static int gssapi_server_acquire(struct gssapi_server *s, const sasl_utils_t *utils)
{
    gss_key_value_element_desc kv = {"keytab", s->set->keytab};
    gss_key_value_set_desc store = {1, &kv};
    gss_buffer_desc nb;
    gss_name_t name = GSS_C_NO_NAME;
    OM_uint32 maj, min;

    if (s->set->principal[0]) {
        nb.value = (void *)s->set->principal;
        nb.length = strlen(s->set->principal);
        maj = gss_import_name(&min, &nb, (gss_OID)GSS_KRB5_NT_PRINCIPAL_NAME, &name);
        if (GSS_ERROR(maj))
            return gssapi_fail(utils, SASL_CONFIGERR, "option gssapi_principal does not name "
                               "a Kerberos principal", maj, min);
    }
    /* GSS_C_NO_NAME: any principal whose key is in the keytab */
    maj = gss_acquire_cred_from(&min, name, GSS_C_INDEFINITE, GSS_C_NO_OID_SET, GSS_C_ACCEPT,
                                s->set->keytab[0] ? &store : GSS_C_NO_CRED_STORE, &s->cred, NULL,
                                NULL);
    if (name != GSS_C_NO_NAME)
        gss_release_name(&min, &name);
    if (GSS_ERROR(maj)) {
        char what[1700];
        snprintf(what, sizeof(what), "no acceptor credentials for %s in keytab %s",
                 s->set->principal[0] ? s->set->principal : "any principal",
                 s->set->keytab[0] ? s->set->keytab : "(the default)");
        return gssapi_fail(utils, SASL_FAIL, what, maj, min);
    }
    return SASL_OK;
}

static int gssapi_server_send_output(struct gssapi_server *s, const struct sm_step_io *io,
                                     gss_buffer_t tok)
{
    OM_uint32 min;
    int r = sm_outbuf_set(io->utils, &s->out, tok->value, (unsigned)tok->length);

    gss_release_buffer(&min, tok);
    if (r != SASL_OK)
        return r;
    *io->out = s->out.data;
    *io->outlen = s->out.len;
    return SASL_OK;
}

static int gssapi_server_send_offer(struct gssapi_server *s, const struct sm_step_io *io)
{
    sasl_server_params_t *sparams = io->sparams;
    const sasl_utils_t *utils = io->utils;
    unsigned char token[GSSAPI_TOKEN_LEN];
    gss_buffer_desc wrapped;
    int r;

    s->conf_ssf = gssapi_conf_ssf(s->ctx);
    s->offered = gssapi_layers_allowed(&sparams->props, sparams->external_ssf, s->conf_ssf,
                                       s->flags);
    if (!s->offered)
        return sm_fail(utils, SASL_TOOWEAK, "GSSAPI: no security layer meets the minimum "
                       "SSF of %u", sparams->props.min_ssf);
    s->our_max = 0;
    if (s->offered != GSSAPI_LAYER_NONE)
        s->our_max = sparams->props.maxbufsize > GSSAPI_MAX_BUFFER ? GSSAPI_MAX_BUFFER
                                                                    : sparams->props.maxbufsize;
    gssapi_token_build(token, s->offered, s->our_max);
    if ((r = gssapi_wrap_token(utils, s->ctx, token, sizeof(token), &wrapped)) != SASL_OK)
        return r;
    if ((r = gssapi_server_send_output(s, io, &wrapped)) != SASL_OK)
        return r;
    *io->next = gssapi_server_take_choice;
    return SASL_CONTINUE;
}

/* A complete context is a Kerberos one (not another mechanism the library
 * may have registered, e.g. through SPNEGO), not anonymous, for a ticket of
 * this SASL service (an imap/ or host/ key in the same keytab would
 * otherwise serve smtp: per-service policy at the KDC, constrained
 * delegation) unless gssapi_principal names the acceptor or
 * gssapi_accept_any_service says any will do, and channel-bound when the
 * application requires it. */
static int gssapi_server_check_context(struct gssapi_server *s, sasl_server_params_t *sparams)
{
    const sasl_utils_t *utils = sparams->utils;
    const gss_OID_desc *krb5 = gss_mech_krb5;
    gss_buffer_desc nb = GSS_C_EMPTY_BUFFER;
    OM_uint32 min;
    size_t slen;
    int ok, r;

    if (!s->mech || s->mech->length != krb5->length
        || memcmp(s->mech->elements, krb5->elements, krb5->length) != 0)
        return sm_fail(utils, SASL_BADAUTH, "GSSAPI: the client's mechanism is not Kerberos 5");
    if (s->flags & GSS_C_ANON_FLAG)
        return sm_fail(utils, SASL_BADAUTH, "GSSAPI: anonymous Kerberos is refused");
    if (sparams->cbinding && sparams->cbinding->critical
        && !(s->flags & GSS_C_CHANNEL_BOUND_FLAG))
        return sm_fail(utils, SASL_BADBINDING, "GSSAPI: the client's context is not bound "
                       "to the channel, which the application requires");
    if (s->set->principal[0] || s->set->any_service || !sparams->service)
        return SASL_OK;
    r = gssapi_context_name(utils, s->ctx, GSSAPI_ACCEPTOR,
                            "cannot read the ticket's service principal", &nb);
    if (r != SASL_OK)
        return r;
    /* service/host@REALM: the first component must be our service */
    slen = strlen(sparams->service);
    ok = nb.length > slen && memcmp(nb.value, sparams->service, slen) == 0
         && ((const char *)nb.value)[slen] == '/';
    if (!ok) {
        r = sm_fail(utils, SASL_BADAUTH, "GSSAPI: the client's ticket is for %.*s, not for "
                    "service %s (gssapi_accept_any_service: yes allows it)",
                    nb.length > 200 ? 200 : (int)nb.length, (const char *)nb.value,
                    sparams->service);
        gss_release_buffer(&min, &nb);
        return r;
    }
    gss_release_buffer(&min, &nb);
    return SASL_OK;
}

static int gssapi_server_accept_token(void *ctx, const struct sm_step_io *io)
{
    struct gssapi_server *s = ctx;
    sasl_server_params_t *sparams = io->sparams;
    const sasl_utils_t *utils = io->utils;
    struct gss_channel_bindings_struct cbstore;
    gss_buffer_desc ib = {io->inlen, (void *)io->in}, ob = GSS_C_EMPTY_BUFFER;
    OM_uint32 maj, min;
    int r;

    if (io->inlen == 0 || io->inlen > GSSAPI_MAX_TOKEN)
        return sm_fail(utils, SASL_BADPROT, "GSSAPI: a context token of %u bytes", io->inlen);
    /* without either option the library's default keytab serves any of
     * its principals: no credentials to acquire */
    if (s->cred == GSS_C_NO_CREDENTIAL && (s->set->keytab[0] || s->set->principal[0])
        && (r = gssapi_server_acquire(s, utils)) != SASL_OK)
        return r;
    maj = gss_accept_sec_context(&min, &s->ctx, s->cred, &ib,
                                 gssapi_bindings(sparams->cbinding, &cbstore), &s->client,
                                 &s->mech, &ob, &s->flags, NULL, &s->deleg);
    if (GSS_ERROR(maj)) {
        OM_uint32 m2;
        /* min carries the Kerberos reason: release with another */
        gss_release_buffer(&m2, &ob);
        r = gssapi_context_code(maj, min);
        return gssapi_fail(utils, r, "cannot accept the client's context", maj, min);
    }
    if (maj & GSS_S_CONTINUE_NEEDED)
        return (r = gssapi_server_send_output(s, io, &ob)) == SASL_OK
            ? SASL_CONTINUE
            : r;
    if ((r = gssapi_server_check_context(s, sparams)) != SASL_OK) {
        gss_release_buffer(&min, &ob);
        return r;
    }
    /* complete: RFC 4752 3.1, the server sends its last context token if
     * there is one, and the client answers with an empty response */
    if (ob.length) {
        *io->next = gssapi_server_answer_last_token;
        return (r = gssapi_server_send_output(s, io, &ob)) == SASL_OK
            ? SASL_CONTINUE
            : r;
    }
    gss_release_buffer(&min, &ob);
    return gssapi_server_send_offer(s, io);
}

/* RFC 4752 3.1: after the server's last context token the client answers
 * with an empty response, and then the offer follows. */
static int gssapi_server_answer_last_token(void *ctx, const struct sm_step_io *io)
{
    if (io->inlen != 0)
        return sm_fail(io->utils, SASL_BADPROT, "GSSAPI: the client's answer to the "
                       "last context token is not empty");
    return gssapi_server_send_offer(ctx, io);
}

/* Whether the realm goes, by Cyrus's gssapiv2 rule: when the principal
 * without its realm, read as a user name (so in the default realm of
 * krb5.conf), is the same principal.  gssapi_local_realm names another
 * realm instead.  A foreign realm (a cross-realm user) always stays, so
 * that alice@OTHER.REALM never passes for alice. */
static int gssapi_server_realm_is_local(struct gssapi_server *s, const sasl_utils_t *utils,
                                        const char *name, const char *at, int *local)
{
    gss_buffer_desc nb;
    gss_name_t without = GSS_C_NO_NAME;
    OM_uint32 maj, min;
    int equal = 0;

    *local = 0;
    if (s->set->local_realm[0]) {
        *local = strcmp(at + 1, s->set->local_realm) == 0;
        return SASL_OK;
    }
    nb.value = (void *)name;
    nb.length = (size_t)(at - name);
    maj = gss_import_name(&min, &nb, GSS_C_NT_USER_NAME, &without);
    if (!GSS_ERROR(maj)) {
        maj = gss_compare_name(&min, s->client, without, &equal);
        gss_release_name(&min, &without);
    }
    if (GSS_ERROR(maj))
        return gssapi_fail(utils, SASL_FAIL, "cannot compare the client's principal with its "
                           "name in the default realm", maj, min);
    *local = equal != 0;
    return SASL_OK;
}

/* The principal as the SASL authentication identity, without its realm
 * when gssapi_strip_realm (the default) and gssapi_server_realm_is_local say so. */
static int gssapi_server_principal_name(struct gssapi_server *s, const sasl_utils_t *utils,
                                        char *buf, size_t size)
{
    gss_buffer_desc nb = GSS_C_EMPTY_BUFFER;
    OM_uint32 maj, min;
    char *at;
    size_t len;
    int local, r;

    maj = gss_display_name(&min, s->client, &nb, NULL);
    if (GSS_ERROR(maj))
        return gssapi_fail(utils, SASL_FAIL, "cannot read the client's principal", maj, min);
    len = nb.length;
    if (len == 0 || len >= size || memchr(nb.value, 0, len)) {
        gss_release_buffer(&min, &nb);
        return sm_fail(utils, SASL_BADAUTH, "GSSAPI: the client's principal name is empty or "
                       "too long");
    }
    memcpy(buf, nb.value, len);
    buf[len] = 0;
    gss_release_buffer(&min, &nb);
    /* the realm follows the last '@' (one inside a component is escaped) */
    if (!s->set->strip_realm || !(at = strrchr(buf, '@')) || at == buf)
        return SASL_OK;
    if ((r = gssapi_server_realm_is_local(s, utils, buf, at, &local)) != SASL_OK)
        return r;
    if (local)
        *at = 0;
    return SASL_OK;
}

/* The client's principal as the authentication identity, its authzid (if
 * any) as the authorization identity, through canon_user. */
static int gssapi_server_set_identities(struct gssapi_server *s, sasl_server_params_t *sparams,
                                        const struct gssapi_choice *ch,
                                        sasl_out_params_t *oparams)
{
    const sasl_utils_t *utils = sparams->utils;
    char authid[SM_MAX_USER_LIMIT + 1];
    int r;

    r = gssapi_server_principal_name(s, utils, authid, sizeof(authid));
    if (r == SASL_OK)
        r = sm_props_begin(utils, sparams->propctx, NULL);
    if (r != SASL_OK)
        return r;
    if (ch->authzid_len) {
        /* canon_user reads up to a NUL whatever length it is given, and
         * the unwrapped token has none (server_gssapi fuzz finding) */
        char *authzid = sm_strndup(utils, ch->authzid, ch->authzid_len);
        r = authzid ? sparams->canon_user(utils->conn, authzid, (unsigned)ch->authzid_len,
                                          SASL_CU_AUTHZID, oparams)
                    : SASL_NOMEM;
        if (authzid)
            utils->free(authzid);
    }
    if (r == SASL_OK)
        r = sparams->canon_user(utils->conn, authid, (unsigned)strlen(authid),
                                SASL_CU_AUTHID | SASL_CU_EXTERNALLY_VERIFIED
                                | (ch->authzid_len ? 0 : SASL_CU_AUTHZID), oparams);
    if (r != SASL_OK && !sm_is_temporary(r))
        r = sm_auth_result(utils, "GSSAPI", r);
    return r;
}

/* After the layer is in place: the channel binding's disposition and the
 * delegated credentials, as libsasl2 and the application read them. */
static void gssapi_server_publish(struct gssapi_server *s, sasl_server_params_t *sparams,
                                  sasl_out_params_t *oparams)
{
    /* libsasl2 checks a critical binding against these (and compares the
     * binding's name when one was used) */
    if ((s->flags & GSS_C_CHANNEL_BOUND_FLAG) && sparams->cbinding) {
        oparams->cbindingdisp = SASL_CB_DISP_USED;
        oparams->cbindingname = sparams->cbinding->name;
    } else {
        oparams->cbindingdisp = SASL_CB_DISP_NONE;
    }
    oparams->doneflag = 1;
    /* as Cyrus's gssapiv2: a pointer to the handle, which the application
     * may take over by setting it to GSS_C_NO_CREDENTIAL; NULL when this
     * exchange delegated nothing (not an earlier exchange's) */
    if (s->deleg != GSS_C_NO_CREDENTIAL) {
        oparams->client_creds = &s->deleg;
        s->deleg_published = oparams;
    } else {
        oparams->client_creds = NULL;
    }
}

static int gssapi_server_take_choice(void *ctx, const struct sm_step_io *io)
{
    struct gssapi_server *s = ctx;
    sasl_server_params_t *sparams = io->sparams;
    sasl_out_params_t *oparams = io->oparams;
    const sasl_utils_t *utils = io->utils;
    gss_buffer_desc clear = GSS_C_EMPTY_BUFFER;
    struct gssapi_choice ch;
    enum gssapi_status st;
    OM_uint32 min;
    int r;

    *io->next = NULL; /* one choice per exchange, whatever the outcome */
    if ((r = gssapi_unwrap_token(utils, s->ctx, io->in, io->inlen, &clear)) != SASL_OK)
        return r;
    st = gssapi_parse_choice(clear.value, clear.length, s->offered, &ch);
    if (st != GSSAPI_OK) {
        gss_release_buffer(&min, &clear);
        return sm_fail(utils, SASL_BADPROT, "GSSAPI: %s", gssapi_status_text(st));
    }
    if (ch.authzid_len > s->set->common.lim.max_user
        || (ch.authzid_len && !sm_identity_acceptable(ch.authzid, ch.authzid_len))) {
        gss_release_buffer(&min, &clear);
        return sm_auth_result(utils, "GSSAPI", SASL_BADAUTH);
    }
    r = gssapi_server_set_identities(s, sparams, &ch, oparams);
    gss_release_buffer(&min, &clear);
    if (r != SASL_OK)
        return r;
    /* done only once the layer is in place */
    sm_oparams_no_layer(oparams);
    r = gssapi_sec_start(utils, &s->sec, s->ctx, ch.layer, ch.maxbuf, s->our_max, s->conf_ssf,
                         &gssapi_server_layer, oparams);
    if (r != SASL_OK)
        return r;
    gssapi_server_publish(s, sparams, oparams);
    return SASL_OK;
}

int gssapi_server_new(void *glob, sasl_server_params_t *sparams,
                      const char *challenge, unsigned challen, void **ctx)
{
    struct gssapi_server *s;
    int r;

    (void)challenge; (void)challen;
    r = sm_server_new_glob(sparams, glob, "GSSAPI", gssapi_server_accept_token,
                           sizeof(struct gssapi_server), offsetof(struct gssapi_server, set), ctx);
    if (r != SASL_OK)
        return r;
    s = *ctx;
    s->ctx = GSS_C_NO_CONTEXT;
    s->cred = GSS_C_NO_CREDENTIAL;
    s->deleg = GSS_C_NO_CREDENTIAL;
    s->client = GSS_C_NO_NAME;
    return SASL_OK;
}
