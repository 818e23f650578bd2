/* The GSSAPI server (RFC 4752 3.1): accept the client's context, offer the
 * security layers in a wrapped 4-octet token, take the client's choice and
 * authorization identity. */
#include "config.h"
#include "gssapi.h"

#include <stdio.h>
#include <string.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>
#include <sasl-mechs/memory.h>
#include <sasl-mechs/oparams.h>
#include <sasl-mechs/options.h>
#include <sasl-mechs/outbuf.h>
#include <sasl-mechs/plugin.h>

struct gssapi_server {
    enum { ACCEPT, SEND_OFFER, AWAIT_CHOICE, DONE } step;
    gss_ctx_id_t ctx;
    gss_cred_id_t cred;    /* acceptor credentials */
    gss_cred_id_t deleg;   /* the client's, when it delegated: the application's */
    gss_name_t client;
    gss_OID mech;          /* the mechanism the client used (the library's) */
    OM_uint32 flags;
    unsigned offered, conf_ssf;
    uint32_t our_max;
    struct sm_outbuf out;
    struct gssapi_sec sec;
};

static int layer_encode(void *context, const struct iovec *iov, unsigned niov,
                        const char **output, unsigned *outlen)
{
    return gssapi_sec_encode(&((struct gssapi_server *)context)->sec, iov, niov, output, outlen);
}

static int layer_decode(void *context, const char *input, unsigned inlen,
                        const char **output, unsigned *outlen)
{
    return gssapi_sec_decode(&((struct gssapi_server *)context)->sec, input, inlen, output, outlen);
}

static const struct gssapi_layer_fns layer_fns = {layer_encode, layer_decode};

struct sm_server_settings gssapi_settings;
/* Read once at load (README, Options); a path or name longer than these
 * is refused as an invalid value. */
static char opt_keytab[1024];
static char opt_principal[512];
static char opt_local_realm[256];
static int opt_strip_realm;
static int opt_any_service;

static int read_string(const sasl_utils_t *utils, const char *name, char *buf, size_t size)
{
    const char *val = NULL;
    unsigned len = 0;

    buf[0] = 0;
    if (!utils->getopt || utils->getopt(utils->getopt_context, NULL, name, &val, &len) != SASL_OK
        || !val)
        return SASL_OK;
    if (!len)
        len = (unsigned)strlen(val);
    if (len >= size || memchr(val, 0, len)) {
        utils->log(utils->conn, SASL_LOG_ERR, "option %s: longer than %zu bytes", name,
                   size - 1);
        return SASL_CONFIGERR;
    }
    memcpy(buf, val, len);
    buf[len] = 0;
    return SASL_OK;
}

/* The realm whose principals may lose it: gssapi_local_realm, else the
 * default realm of krb5.conf. */
static void default_realm(char *buf, size_t size)
{
    krb5_context k;
    char *realm = NULL;

    if (krb5_init_context(&k) != 0)
        return;
    if (krb5_get_default_realm(k, &realm) == 0 && strlen(realm) < size)
        strcpy(buf, realm);
    if (realm)
        krb5_free_default_realm(k, realm);
    krb5_free_context(k);
}

int gssapi_server_options(const sasl_utils_t *utils)
{
    int r;

    if ((r = read_string(utils, "gssapi_keytab", opt_keytab, sizeof(opt_keytab))) != SASL_OK
        || (r = read_string(utils, "gssapi_principal", opt_principal,
                            sizeof(opt_principal))) != SASL_OK
        || (r = read_string(utils, "gssapi_local_realm", opt_local_realm,
                            sizeof(opt_local_realm))) != SASL_OK
        || (r = sm_opt_bool(utils, "gssapi_strip_realm", 0, &opt_strip_realm)) != SASL_OK
        || (r = sm_opt_bool(utils, "gssapi_accept_any_service", 0, &opt_any_service))
               != SASL_OK)
        return r;
    return SASL_OK;
}

int gssapi_server_new(void *glob, sasl_server_params_t *sparams,
                      const char *challenge, unsigned challen, void **ctx)
{
    struct gssapi_server *s;
    int r;

    (void)glob; (void)challenge; (void)challen;
    r = sm_server_new(sparams, &gssapi_settings, "GSSAPI", sizeof(struct gssapi_server), ctx);
    if (r != SASL_OK)
        return r;
    s = *ctx;
    s->ctx = GSS_C_NO_CONTEXT;
    s->cred = GSS_C_NO_CREDENTIAL;
    s->deleg = GSS_C_NO_CREDENTIAL;
    s->client = GSS_C_NO_NAME;
    return SASL_OK;
}

void gssapi_server_dispose(void *ctx, const sasl_utils_t *utils)
{
    struct gssapi_server *s = ctx;
    OM_uint32 min;

    if (!s)
        return;
    gssapi_sec_dispose(&s->sec);
    if (s->ctx != GSS_C_NO_CONTEXT)
        gss_delete_sec_context(&min, &s->ctx, GSS_C_NO_BUFFER);
    if (s->cred != GSS_C_NO_CREDENTIAL)
        gss_release_cred(&min, &s->cred);
    /* the application had them through oparams->client_creds for as long
     * as the connection lived, as with Cyrus's plugin */
    if (s->deleg != GSS_C_NO_CREDENTIAL)
        gss_release_cred(&min, &s->deleg);
    if (s->client != GSS_C_NO_NAME)
        gss_release_name(&min, &s->client);
    sm_outbuf_dispose(utils, &s->out);
    utils->free(s);
}

static int acquire(struct gssapi_server *s, const sasl_utils_t *utils)
{
    gss_key_value_element_desc kv = {"keytab", opt_keytab};
    gss_key_value_set_desc store = {1, &kv};
    gss_buffer_desc nb;
    gss_name_t name = GSS_C_NO_NAME;
    OM_uint32 maj, min;

    if (opt_principal[0]) {
        nb.value = opt_principal;
        nb.length = strlen(opt_principal);
        maj = gss_import_name(&min, &nb, (gss_OID)GSS_KRB5_NT_PRINCIPAL_NAME, &name);
        if (GSS_ERROR(maj))
            return gssapi_fail(utils, SASL_CONFIGERR, "option gssapi_principal does not name "
                               "a Kerberos principal", maj, min);
    }
    /* GSS_C_NO_NAME: any principal whose key is in the keytab */
    maj = gss_acquire_cred_from(&min, name, GSS_C_INDEFINITE, GSS_C_NO_OID_SET, GSS_C_ACCEPT,
                                opt_keytab[0] ? &store : GSS_C_NO_CRED_STORE, &s->cred, NULL,
                                NULL);
    if (name != GSS_C_NO_NAME)
        gss_release_name(&min, &name);
    if (GSS_ERROR(maj)) {
        char what[1700];
        snprintf(what, sizeof(what), "no acceptor credentials for %s in keytab %s",
                 opt_principal[0] ? opt_principal : "any principal",
                 opt_keytab[0] ? opt_keytab : "(the default)");
        return gssapi_fail(utils, SASL_FAIL, what, maj, min);
    }
    return SASL_OK;
}

static int send_output(struct gssapi_server *s, const sasl_utils_t *utils, gss_buffer_t tok,
                       const char **out, unsigned *outlen)
{
    OM_uint32 min;
    int r = sm_outbuf_set(utils, &s->out, tok->value, (unsigned)tok->length);

    gss_release_buffer(&min, tok);
    if (r != SASL_OK)
        return r;
    *out = s->out.data;
    *outlen = s->out.len;
    return SASL_OK;
}

static int send_offer(struct gssapi_server *s, sasl_server_params_t *sparams,
                      const char **out, unsigned *outlen)
{
    const sasl_utils_t *utils = sparams->utils;
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
    if ((r = send_output(s, utils, &wrapped, out, outlen)) != SASL_OK)
        return r;
    s->step = AWAIT_CHOICE;
    return SASL_CONTINUE;
}

/* A complete context is a Kerberos one (not another mechanism the library
 * may have registered, e.g. through SPNEGO), not anonymous, for a ticket of
 * this SASL service (an imap/ or host/ key in the same keytab would
 * otherwise serve smtp: per-service policy at the KDC, constrained
 * delegation) unless gssapi_principal names the acceptor or
 * gssapi_accept_any_service says any will do, and channel-bound when the
 * application requires it. */
static int check_context(struct gssapi_server *s, sasl_server_params_t *sparams)
{
    const sasl_utils_t *utils = sparams->utils;
    const gss_OID_desc *krb5 = gss_mech_krb5;
    gss_buffer_desc nb = GSS_C_EMPTY_BUFFER;
    gss_name_t target = GSS_C_NO_NAME;
    OM_uint32 maj, min;
    size_t slen;
    int ok;

    if (!s->mech || s->mech->length != krb5->length
        || memcmp(s->mech->elements, krb5->elements, krb5->length) != 0)
        return sm_fail(utils, SASL_BADAUTH, "GSSAPI: the client's mechanism is not Kerberos 5");
    if (s->flags & GSS_C_ANON_FLAG)
        return sm_fail(utils, SASL_BADAUTH, "GSSAPI: anonymous Kerberos is refused");
    if (sparams->cbinding && sparams->cbinding->critical
        && !(s->flags & GSS_C_CHANNEL_BOUND_FLAG))
        return sm_fail(utils, SASL_BADBINDING, "GSSAPI: the client's context is not bound "
                       "to the channel, which the application requires");
    if (opt_principal[0] || opt_any_service || !sparams->service)
        return SASL_OK;
    maj = gss_inquire_context(&min, s->ctx, NULL, &target, NULL, NULL, NULL, NULL, NULL);
    if (!GSS_ERROR(maj))
        maj = gss_display_name(&min, target, &nb, NULL);
    if (target != GSS_C_NO_NAME) {
        OM_uint32 m2;
        gss_release_name(&m2, &target);
    }
    if (GSS_ERROR(maj))
        return gssapi_fail(utils, SASL_FAIL, "cannot read the ticket's service principal", maj,
                           min);
    /* service/host@REALM: the first component must be our service */
    slen = strlen(sparams->service);
    ok = nb.length > slen && memcmp(nb.value, sparams->service, slen) == 0
         && ((const char *)nb.value)[slen] == '/';
    if (!ok) {
        int r = sm_fail(utils, SASL_BADAUTH, "GSSAPI: the client's ticket is for %.*s, not for "
                        "service %s (gssapi_accept_any_service: yes allows it)",
                        nb.length > 200 ? 200 : (int)nb.length, (const char *)nb.value,
                        sparams->service);
        gss_release_buffer(&min, &nb);
        return r;
    }
    gss_release_buffer(&min, &nb);
    return SASL_OK;
}

static int accept_token(struct gssapi_server *s, sasl_server_params_t *sparams,
                        const char *in, unsigned inlen, const char **out, unsigned *outlen)
{
    const sasl_utils_t *utils = sparams->utils;
    struct gss_channel_bindings_struct cbstore;
    gss_buffer_desc ib = {inlen, (void *)in}, ob = GSS_C_EMPTY_BUFFER;
    OM_uint32 maj, min;
    int r;

    if (inlen == 0 || inlen > GSSAPI_MAX_TOKEN)
        return sm_fail(utils, SASL_BADPROT, "GSSAPI: a context token of %u bytes", inlen);
    /* without either option the library's default keytab serves any of
     * its principals: no credentials to acquire */
    if (s->cred == GSS_C_NO_CREDENTIAL && (opt_keytab[0] || opt_principal[0])
        && (r = acquire(s, utils)) != SASL_OK)
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
        return (r = send_output(s, utils, &ob, out, outlen)) == SASL_OK ? SASL_CONTINUE : r;
    if ((r = check_context(s, sparams)) != SASL_OK) {
        gss_release_buffer(&min, &ob);
        return r;
    }
    /* complete: RFC 4752 3.1, the server sends its last context token if
     * there is one, and the client answers with an empty response */
    if (ob.length) {
        s->step = SEND_OFFER;
        return (r = send_output(s, utils, &ob, out, outlen)) == SASL_OK ? SASL_CONTINUE : r;
    }
    gss_release_buffer(&min, &ob);
    return send_offer(s, sparams, out, outlen);
}

/* The principal as the SASL authentication identity; realm dropped only
 * when gssapi_strip_realm says so and the realm is the local one. */
static int principal_name(struct gssapi_server *s, const sasl_utils_t *utils, char *buf,
                          size_t size)
{
    gss_buffer_desc nb = GSS_C_EMPTY_BUFFER;
    OM_uint32 maj, min;
    const char *at;
    char local[256];
    size_t len;

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
    if (opt_strip_realm && (at = strrchr(buf, '@'))) {
        if (opt_local_realm[0])
            strcpy(local, opt_local_realm);
        else {
            local[0] = 0;
            default_realm(local, sizeof(local));
        }
        if (local[0] && strcmp(at + 1, local) == 0)
            buf[at - buf] = 0;
    }
    return SASL_OK;
}

static int take_choice(struct gssapi_server *s, sasl_server_params_t *sparams,
                       const char *in, unsigned inlen, sasl_out_params_t *oparams)
{
    const sasl_utils_t *utils = sparams->utils;
    gss_buffer_desc clear = GSS_C_EMPTY_BUFFER;
    struct gssapi_choice ch;
    enum gssapi_status st;
    char authid[SM_MAX_USER_LIMIT + 1];
    OM_uint32 min;
    int r;

    if ((r = gssapi_unwrap_token(utils, s->ctx, in, inlen, &clear)) != SASL_OK)
        return r;
    st = gssapi_parse_choice(clear.value, clear.length, s->offered, &ch);
    if (st != GSSAPI_OK) {
        gss_release_buffer(&min, &clear);
        return sm_fail(utils, SASL_BADPROT, "GSSAPI: %s", gssapi_status_text(st));
    }
    if (ch.authzid_len > gssapi_settings.lim.max_user
        || (ch.authzid_len && !sm_identity_acceptable(ch.authzid, ch.authzid_len))) {
        gss_release_buffer(&min, &clear);
        return sm_auth_result(utils, "GSSAPI", SASL_BADAUTH);
    }
    r = principal_name(s, utils, authid, sizeof(authid));
    if (r == SASL_OK)
        r = sm_props_begin(utils, sparams->propctx, NULL);
    if (r == SASL_OK) {
        if (ch.authzid_len) {
            /* canon_user reads up to a NUL whatever length it is given, and
             * the unwrapped token has none (server_gssapi fuzz finding) */
            char *authzid = sm_strndup(utils, ch.authzid, ch.authzid_len);
            r = authzid ? sparams->canon_user(utils->conn, authzid, (unsigned)ch.authzid_len,
                                              SASL_CU_AUTHZID, oparams)
                        : SASL_NOMEM;
            if (authzid)
                utils->free(authzid);
        }
        if (r == SASL_OK)
            r = sparams->canon_user(utils->conn, authid, (unsigned)strlen(authid),
                                    SASL_CU_AUTHID | SASL_CU_EXTERNALLY_VERIFIED
                                    | (ch.authzid_len ? 0 : SASL_CU_AUTHZID), oparams);
        if (r != SASL_OK && !sm_is_temporary(r))
            r = sm_auth_result(utils, "GSSAPI", r);
    }
    gss_release_buffer(&min, &clear);
    if (r != SASL_OK)
        return r;
    /* done only once the layer is in place */
    sm_oparams_no_layer(oparams);
    r = gssapi_sec_start(utils, &s->sec, s->ctx, ch.layer, ch.maxbuf, s->our_max, s->conf_ssf,
                         &layer_fns, oparams);
    if (r != SASL_OK)
        return r;
    /* libsasl2 checks a critical binding against these (and compares the
     * binding's name when one was used) */
    if ((s->flags & GSS_C_CHANNEL_BOUND_FLAG) && sparams->cbinding) {
        oparams->cbindingdisp = SASL_CB_DISP_USED;
        oparams->cbindingname = sparams->cbinding->name;
    } else {
        oparams->cbindingdisp = SASL_CB_DISP_NONE;
    }
    oparams->doneflag = 1;
    if (s->deleg != GSS_C_NO_CREDENTIAL)
        oparams->client_creds = s->deleg;
    return SASL_OK;
}

int gssapi_server_step(void *ctx, sasl_server_params_t *sparams,
                       const char *in, unsigned inlen,
                       const char **out, unsigned *outlen, sasl_out_params_t *oparams)
{
    struct gssapi_server *s = ctx;
    int r;

    if ((r = sm_step_begin(sparams->utils, "GSSAPI", s, out, outlen)) != SASL_OK)
        return r;
    switch (s->step) {
    case ACCEPT:
        return accept_token(s, sparams, in, inlen, out, outlen);
    case SEND_OFFER:
        if (inlen != 0)
            return sm_fail(sparams->utils, SASL_BADPROT, "GSSAPI: the client's answer to the "
                           "last context token is not empty");
        return send_offer(s, sparams, out, outlen);
    case AWAIT_CHOICE:
        s->step = DONE;
        return take_choice(s, sparams, in, inlen, oparams);
    default:
        return sm_too_many_steps(sparams->utils, "GSSAPI");
    }
}
