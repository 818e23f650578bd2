/* A stand-in for MIT's GSS-API, linked instead of libgssapi_krb5 into the
 * GSSAPI fuzz targets (tests/fuzz/{server,client}_gssapi): a real context
 * needs a KDC and fresh authenticators, which a fuzzer cannot produce, so
 * here the context is whatever the input says it is, and the fuzzer reaches
 * what our plugin does after Kerberos: the security-layer negotiation, the
 * identities, encode and decode.  Kerberos' own parsing is MIT's to fuzz.
 *
 * Context tokens (accept on the server, init's input on the client):
 *   first byte 'C'  GSS_S_CONTINUE_NEEDED, output "more"
 *   first byte 'E'  GSS_S_FAILURE, minor status the second byte
 *   otherwise       GSS_S_COMPLETE, output "done" (the AP-REP); the context
 *                   flags are MUTUAL|SEQUENCE plus INTEG (second byte bit 0),
 *                   CONF (bit 1), DELEG (bit 2); an empty token: no flags
 * Wrap tokens: 'W', then 1 (confidentiality) or 0, then the data. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>

static gss_OID_desc oid_any = {9, (void *)"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02"};
gss_OID GSS_C_NT_HOSTBASED_SERVICE = &oid_any;
gss_OID GSS_C_SEC_CONTEXT_SASL_SSF = &oid_any;
const gss_OID GSS_KRB5_NT_PRINCIPAL_NAME = &oid_any;
gss_OID GSS_C_NT_USER_NAME = &oid_any;
const gss_OID gss_mech_krb5 = &oid_any;

struct fake_ctx { OM_uint32 flags; };

static void *dup_bytes(const void *p, size_t n)
{
    void *d = malloc(n ? n : 1);
    if (!d)
        abort();
    if (n)
        memcpy(d, p, n);
    return d;
}

static void set_buf(gss_buffer_t b, const void *p, size_t n)
{
    b->length = n;
    b->value = dup_bytes(p, n);
}

OM_uint32 gss_release_buffer(OM_uint32 *min, gss_buffer_t b)
{
    *min = 0;
    if (b) {
        free(b->value);
        b->value = NULL;
        b->length = 0;
    }
    return GSS_S_COMPLETE;
}

OM_uint32 gss_release_buffer_set(OM_uint32 *min, gss_buffer_set_t *set)
{
    *min = 0;
    if (*set) {
        for (size_t i = 0; i < (*set)->count; i++)
            free((*set)->elements[i].value);
        free((*set)->elements);
        free(*set);
        *set = GSS_C_NO_BUFFER_SET;
    }
    return GSS_S_COMPLETE;
}

OM_uint32 gss_display_status(OM_uint32 *min, OM_uint32 code, int type, gss_OID mech,
                             OM_uint32 *msg_ctx, gss_buffer_t out)
{
    char buf[64];
    (void)mech;
    *min = 0;
    *msg_ctx = 0;
    snprintf(buf, sizeof(buf), "fake %s status %u", type == GSS_C_GSS_CODE ? "major" : "minor",
             (unsigned)code);
    set_buf(out, buf, strlen(buf));
    return GSS_S_COMPLETE;
}

OM_uint32 gss_import_name(OM_uint32 *min, gss_buffer_t in, gss_OID type, gss_name_t *out)
{
    char *name = malloc(in->length + 1);

    (void)type;
    if (!name)
        abort();
    memcpy(name, in->value, in->length);
    name[in->length] = 0;
    *min = 0;
    *out = (gss_name_t)name;
    return GSS_S_COMPLETE;
}

/* the server's realm rule: the client (fuzzuser@FUZZ.REALM) is the user
 * name fuzzuser in the default realm */
OM_uint32 gss_compare_name(OM_uint32 *min, gss_name_t a, gss_name_t b, int *equal)
{
    *min = 0;
    *equal = a && b && strcmp((const char *)b, "fuzzuser") == 0;
    return GSS_S_COMPLETE;
}

OM_uint32 gss_release_name(OM_uint32 *min, gss_name_t *name)
{
    *min = 0;
    free(*name);
    *name = GSS_C_NO_NAME;
    return GSS_S_COMPLETE;
}

OM_uint32 gss_display_name(OM_uint32 *min, gss_name_t name, gss_buffer_t out, gss_OID *type)
{
    static const char who[] = "fuzzuser@FUZZ.REALM";
    /* the acceptor's own name (gss_inquire_context's target): the service
     * fuzz_mech.c's server is, so the plugin's service check passes */
    static const char service[] = "smtp/fuzz.example@FUZZ.REALM";
    int is_target = name && memcmp(name, "T", 1) == 0;

    *min = 0;
    if (type)
        *type = GSS_C_NO_OID;
    if (is_target)
        set_buf(out, service, sizeof(service) - 1);
    else
        set_buf(out, who, sizeof(who) - 1);
    return GSS_S_COMPLETE;
}

OM_uint32 gss_release_cred(OM_uint32 *min, gss_cred_id_t *cred)
{
    *min = 0;
    free(*cred);
    *cred = GSS_C_NO_CREDENTIAL;
    return GSS_S_COMPLETE;
}

OM_uint32 gss_acquire_cred(OM_uint32 *min, gss_name_t name, OM_uint32 t, gss_OID_set mechs,
                           gss_cred_usage_t usage, gss_cred_id_t *out, gss_OID_set *am,
                           OM_uint32 *tr)
{
    (void)name; (void)t; (void)mechs; (void)usage; (void)am; (void)tr;
    *min = 0;
    *out = (gss_cred_id_t)dup_bytes("cred", 4);
    return GSS_S_COMPLETE;
}

OM_uint32 gss_acquire_cred_from(OM_uint32 *min, gss_name_t name, OM_uint32 t, gss_OID_set mechs,
                                gss_cred_usage_t usage, gss_const_key_value_set_t store,
                                gss_cred_id_t *out, gss_OID_set *am, OM_uint32 *tr)
{
    (void)store;
    return gss_acquire_cred(min, name, t, mechs, usage, out, am, tr);
}

OM_uint32 gss_delete_sec_context(OM_uint32 *min, gss_ctx_id_t *ctx, gss_buffer_t out)
{
    (void)out;
    *min = 0;
    free(*ctx);
    *ctx = GSS_C_NO_CONTEXT;
    return GSS_S_COMPLETE;
}

/* the context step both sides share */
static OM_uint32 step(OM_uint32 *min, gss_ctx_id_t *ctx, gss_buffer_t in, gss_buffer_t out,
                      OM_uint32 *flags)
{
    const unsigned char *p = in ? in->value : NULL;
    size_t n = in ? in->length : 0;
    struct fake_ctx *c;

    *min = 0;
    out->length = 0;
    out->value = NULL;
    if (*ctx == GSS_C_NO_CONTEXT) {
        c = calloc(1, sizeof(*c));
        if (!c)
            abort();
        *ctx = (gss_ctx_id_t)c;
    }
    c = (struct fake_ctx *)*ctx;
    if (n && p[0] == 'E') {
        *min = n > 1 ? p[1] : 1;
        return GSS_S_FAILURE;
    }
    if (n && p[0] == 'C') {
        set_buf(out, "more", 4);
        return GSS_S_CONTINUE_NEEDED;
    }
    c->flags = n ? GSS_C_MUTUAL_FLAG | GSS_C_SEQUENCE_FLAG : 0;
    if (n > 1) {
        if (p[1] & 1) c->flags |= GSS_C_INTEG_FLAG;
        if (p[1] & 2) c->flags |= GSS_C_CONF_FLAG;
        if (p[1] & 4) c->flags |= GSS_C_DELEG_FLAG;
    }
    if (flags)
        *flags = c->flags;
    set_buf(out, "done", 4);
    return GSS_S_COMPLETE;
}

OM_uint32 gss_accept_sec_context(OM_uint32 *min, gss_ctx_id_t *ctx, gss_cred_id_t cred,
                                 gss_buffer_t in, gss_channel_bindings_t cb, gss_name_t *src,
                                 gss_OID *mech, gss_buffer_t out, OM_uint32 *flags,
                                 OM_uint32 *t, gss_cred_id_t *deleg)
{
    OM_uint32 r;
    (void)cred; (void)cb; (void)t;
    if (mech)
        *mech = gss_mech_krb5;
    r = step(min, ctx, in, out, flags);
    if (r == GSS_S_COMPLETE) {
        if (src && *src == GSS_C_NO_NAME)
            *src = (gss_name_t)dup_bytes("src", 3);
        if (deleg && *deleg == GSS_C_NO_CREDENTIAL
            && (((struct fake_ctx *)*ctx)->flags & GSS_C_DELEG_FLAG))
            *deleg = (gss_cred_id_t)dup_bytes("deleg", 5);
    }
    return r;
}

OM_uint32 gss_init_sec_context(OM_uint32 *min, gss_cred_id_t cred, gss_ctx_id_t *ctx,
                               gss_name_t target, gss_OID mech, OM_uint32 req, OM_uint32 t,
                               gss_channel_bindings_t cb, gss_buffer_t in, gss_OID *amech,
                               gss_buffer_t out, OM_uint32 *flags, OM_uint32 *tr)
{
    (void)cred; (void)target; (void)mech; (void)req; (void)t; (void)cb; (void)amech; (void)tr;
    if (*ctx == GSS_C_NO_CONTEXT) {
        /* the first call makes the AP-REQ */
        static gss_buffer_desc none = {0, NULL};
        OM_uint32 r = step(min, ctx, &none, out, flags);
        (void)r;
        gss_release_buffer(min, out);
        set_buf(out, "ap-req", 6);
        return GSS_S_CONTINUE_NEEDED;
    }
    return step(min, ctx, in, out, flags);
}

OM_uint32 gss_inquire_context(OM_uint32 *min, gss_ctx_id_t ctx, gss_name_t *src,
                              gss_name_t *targ, OM_uint32 *life, gss_OID *mech,
                              OM_uint32 *flags, int *local, int *open)
{
    (void)ctx; (void)life; (void)mech; (void)flags; (void)local; (void)open;
    *min = 0;
    if (src)
        *src = (gss_name_t)dup_bytes("me", 2);
    if (targ)
        *targ = (gss_name_t)dup_bytes("T", 1);
    return GSS_S_COMPLETE;
}

OM_uint32 gss_inquire_sec_context_by_oid(OM_uint32 *min, gss_ctx_id_t ctx, gss_OID oid,
                                         gss_buffer_set_t *set)
{
    gss_buffer_set_t s = calloc(1, sizeof(*s));
    (void)ctx; (void)oid;
    *min = 0;
    if (!s || !(s->elements = calloc(1, sizeof(gss_buffer_desc))))
        abort();
    s->count = 1;
    set_buf(&s->elements[0], "\x00\x00\x01\x00", 4);
    *set = s;
    return GSS_S_COMPLETE;
}

OM_uint32 gss_wrap_size_limit(OM_uint32 *min, gss_ctx_id_t ctx, int conf, gss_qop_t qop,
                              OM_uint32 req, OM_uint32 *max)
{
    (void)ctx; (void)conf; (void)qop;
    *min = 0;
    *max = req > 2 ? req - 2 : 0;
    return GSS_S_COMPLETE;
}

OM_uint32 gss_wrap(OM_uint32 *min, gss_ctx_id_t ctx, int conf, gss_qop_t qop, gss_buffer_t in,
                   int *conf_state, gss_buffer_t out)
{
    unsigned char *p = malloc(in->length + 2);
    (void)ctx; (void)qop;
    *min = 0;
    if (!p)
        abort();
    p[0] = 'W';
    p[1] = conf ? 1 : 0;
    if (in->length)
        memcpy(p + 2, in->value, in->length);
    out->value = p;
    out->length = in->length + 2;
    if (conf_state)
        *conf_state = conf;
    return GSS_S_COMPLETE;
}

OM_uint32 gss_unwrap(OM_uint32 *min, gss_ctx_id_t ctx, gss_buffer_t in, gss_buffer_t out,
                     int *conf_state, gss_qop_t *qop)
{
    const unsigned char *p = in->value;
    (void)ctx; (void)qop;
    *min = 0;
    if (in->length < 2 || p[0] != 'W' || p[1] > 1)
        return GSS_S_DEFECTIVE_TOKEN;
    if (conf_state)
        *conf_state = p[1];
    set_buf(out, p + 2, in->length - 2);
    return GSS_S_COMPLETE;
}

OM_uint32 gss_wrap_iov_length(OM_uint32 *min, gss_ctx_id_t ctx, int conf, gss_qop_t qop,
                              int *conf_state, gss_iov_buffer_desc *iov, int n)
{
    (void)ctx; (void)qop;
    *min = 0;
    for (int i = 0; i < n; i++)
        if (GSS_IOV_BUFFER_TYPE(iov[i].type) == GSS_IOV_BUFFER_TYPE_HEADER)
            iov[i].buffer.length = 2;
        else if (GSS_IOV_BUFFER_TYPE(iov[i].type) != GSS_IOV_BUFFER_TYPE_DATA)
            iov[i].buffer.length = 0;
    if (conf_state)
        *conf_state = conf;
    return GSS_S_COMPLETE;
}

OM_uint32 gss_wrap_iov(OM_uint32 *min, gss_ctx_id_t ctx, int conf, gss_qop_t qop,
                       int *conf_state, gss_iov_buffer_desc *iov, int n)
{
    (void)ctx; (void)qop;
    *min = 0;
    for (int i = 0; i < n; i++)
        if (GSS_IOV_BUFFER_TYPE(iov[i].type) == GSS_IOV_BUFFER_TYPE_HEADER) {
            unsigned char *h = iov[i].buffer.value;
            if (iov[i].buffer.length != 2)
                return GSS_S_FAILURE;
            h[0] = 'W';
            h[1] = conf ? 1 : 0;
        }
    if (conf_state)
        *conf_state = conf;
    return GSS_S_COMPLETE;
}

OM_uint32 gss_unwrap_iov(OM_uint32 *min, gss_ctx_id_t ctx, int *conf_state, gss_qop_t *qop,
                         gss_iov_buffer_desc *iov, int n)
{
    unsigned char *p;
    (void)ctx; (void)qop;
    *min = 0;
    if (n != 2 || GSS_IOV_BUFFER_TYPE(iov[0].type) != GSS_IOV_BUFFER_TYPE_STREAM)
        return GSS_S_FAILURE;
    p = iov[0].buffer.value;
    if (iov[0].buffer.length < 2 || p[0] != 'W' || p[1] > 1)
        return GSS_S_DEFECTIVE_TOKEN;
    if (conf_state)
        *conf_state = p[1];
    iov[1].buffer.value = p + 2;
    iov[1].buffer.length = iov[0].buffer.length - 2;
    return GSS_S_COMPLETE;
}
