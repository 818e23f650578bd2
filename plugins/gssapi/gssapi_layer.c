/* What both sides of GSSAPI share once the Kerberos context exists: error
 * texts, the choice of security layers, and the layer itself (encode and
 * decode with GSS_Wrap / GSS_Unwrap and the 4-octet framing). */
#include "config.h"
#include "gssapi.h"

#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>
#include <sasl-mechs/plugin.h>
#include <sasl-mechs/secret.h>

static void gssapi_layer_status_text(OM_uint32 code, int type, gss_OID mech, char *buf, size_t len)
{
    OM_uint32 min, msg_ctx = 0;
    gss_buffer_desc msg;
    size_t used = 0;
    int n = 0;

    buf[0] = 0;
    do {
        if (GSS_ERROR(gss_display_status(&min, code, type, mech, &msg_ctx, &msg)))
            break;
        if (used < len)
            used += (size_t)snprintf(buf + used, len - used, "%s%.*s", n++ ? "; " : "",
                                     (int)msg.length, (const char *)msg.value);
        gss_release_buffer(&min, &msg);
    } while (msg_ctx != 0 && n < 4);
}

int gssapi_fail(const sasl_utils_t *utils, int code, const char *what, OM_uint32 major,
                OM_uint32 minor)
{
    char maj[256], mn[384];

    gssapi_layer_status_text(major, GSS_C_GSS_CODE, GSS_C_NO_OID, maj, sizeof(maj));
    if (minor) {
        gssapi_layer_status_text(minor, GSS_C_MECH_CODE, (gss_OID)gss_mech_krb5, mn, sizeof(mn));
        /* MIT sets a minor code that reads "Success" beside some majors
         * (bad channel bindings): nothing to add */
        if (mn[0] && strcmp(mn, "Success") != 0)
            return sm_fail(utils, code, "GSSAPI: %s: %s (%s)", what, maj, mn);
    }
    return sm_fail(utils, code, "GSSAPI: %s: %s", what, maj);
}

int gssapi_context_code(OM_uint32 major, OM_uint32 minor)
{
    /* a KDC that cannot be reached is an outage, not a wrong credential */
    if (minor == (OM_uint32)KRB5_KDC_UNREACH || minor == (OM_uint32)KRB5_REALM_CANT_RESOLVE
        || minor == (OM_uint32)KRB5_REALM_UNKNOWN)
        return SASL_UNAVAIL;
    switch (GSS_ROUTINE_ERROR(major)) {
    case GSS_S_NO_CRED:
    case GSS_S_UNAVAILABLE:
        /* no acceptor or initiator credentials: this side's configuration */
        return SASL_FAIL;
    case GSS_S_DEFECTIVE_TOKEN:
    case GSS_S_BAD_SIG:
    case GSS_S_BAD_MECH:
    case GSS_S_DUPLICATE_TOKEN:
    case GSS_S_OLD_TOKEN:
        return SASL_BADPROT;
    case GSS_S_DEFECTIVE_CREDENTIAL:
    case GSS_S_CREDENTIALS_EXPIRED:
    case GSS_S_BAD_BINDINGS:
        return SASL_BADAUTH;
    default:
        /* GSS_S_FAILURE carries the Kerberos reasons (clock skew, no key in
         * the keytab, unknown principal): not the peer's protocol error */
        return SASL_BADAUTH;
    }
}

unsigned gssapi_conf_ssf(gss_ctx_id_t ctx)
{
    OM_uint32 maj, min;
    gss_buffer_set_t set = GSS_C_NO_BUFFER_SET;
    unsigned ssf = 56;
    const unsigned char *p;

    maj = gss_inquire_sec_context_by_oid(&min, ctx, GSS_C_SEC_CONTEXT_SASL_SSF, &set);
    if (!GSS_ERROR(maj) && set && set->count == 1 && set->elements[0].length == 4) {
        p = set->elements[0].value;
        /* MIT returns an OM_uint32 in network order */
        ssf = (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
    }
    if (set)
        gss_release_buffer_set(&min, &set);
    return ssf;
}

unsigned gssapi_layers_allowed(const sasl_security_properties_t *props, unsigned external_ssf,
                               unsigned conf_ssf, OM_uint32 ctx_flags)
{
    unsigned allowed, needed, layers = 0;

    allowed = props->max_ssf > external_ssf ? props->max_ssf - external_ssf : 0;
    needed = props->min_ssf > external_ssf ? props->min_ssf - external_ssf : 0;
    if (props->maxbufsize > 0) {
        if (allowed >= conf_ssf && needed <= conf_ssf && (ctx_flags & GSS_C_CONF_FLAG))
            layers |= GSSAPI_LAYER_CONFIDENTIALITY;
        if (allowed >= GSSAPI_INTEGRITY_SSF && needed <= GSSAPI_INTEGRITY_SSF
            && (ctx_flags & GSS_C_INTEG_FLAG))
            layers |= GSSAPI_LAYER_INTEGRITY;
    }
    if (needed == 0)
        layers |= GSSAPI_LAYER_NONE;
    return layers;
}

unsigned gssapi_best_layer(unsigned layers)
{
    if (layers & GSSAPI_LAYER_CONFIDENTIALITY)
        return GSSAPI_LAYER_CONFIDENTIALITY;
    if (layers & GSSAPI_LAYER_INTEGRITY)
        return GSSAPI_LAYER_INTEGRITY;
    return layers & GSSAPI_LAYER_NONE;
}

int gssapi_wrap_token(const sasl_utils_t *utils, gss_ctx_id_t ctx, const void *in, size_t len,
                      gss_buffer_t out)
{
    gss_buffer_desc ib = {len, (void *)in};
    OM_uint32 maj, min;

    /* RFC 4752: the negotiation is integrity-protected, not encrypted */
    maj = gss_wrap(&min, ctx, 0, GSS_C_QOP_DEFAULT, &ib, NULL, out);
    if (GSS_ERROR(maj))
        return gssapi_fail(utils, SASL_FAIL, "cannot wrap the security-layer token", maj, min);
    return SASL_OK;
}

int gssapi_unwrap_token(const sasl_utils_t *utils, gss_ctx_id_t ctx, const void *in, size_t len,
                        gss_buffer_t out)
{
    gss_buffer_desc ib = {len, (void *)in};
    OM_uint32 maj, min;

    if (len == 0 || len > GSSAPI_MAX_TOKEN)
        return sm_fail(utils, SASL_BADPROT, "GSSAPI: the security-layer token has a bad size "
                       "(%zu bytes)", len);
    maj = gss_unwrap(&min, ctx, &ib, out, NULL, NULL);
    /* a supplementary status (duplicate, gap, out of sequence) is no token
     * of this exchange either */
    if (maj != GSS_S_COMPLETE) {
        OM_uint32 m2;
        gss_release_buffer(&m2, out);
        return gssapi_fail(utils, SASL_BADPROT, "the security-layer token does not unwrap",
                           maj, min);
    }
    return SASL_OK;
}

gss_channel_bindings_t gssapi_bindings(const sasl_channel_binding_t *cb,
                                       struct gss_channel_bindings_struct *store)
{
    if (!cb || !cb->data || !cb->len)
        return GSS_C_NO_CHANNEL_BINDINGS;
    memset(store, 0, sizeof(*store));
    store->initiator_addrtype = GSS_C_AF_NULLADDR;
    store->acceptor_addrtype = GSS_C_AF_NULLADDR;
    store->application_data.length = cb->len;
    store->application_data.value = (void *)cb->data;
    return store;
}

int gssapi_context_name(const sasl_utils_t *utils, gss_ctx_id_t ctx, enum gssapi_party party,
                        const char *what, gss_buffer_t text)
{
    gss_name_t name = GSS_C_NO_NAME;
    OM_uint32 maj, min;

    maj = gss_inquire_context(&min, ctx, party == GSSAPI_INITIATOR ? &name : NULL,
                              party == GSSAPI_ACCEPTOR ? &name : NULL, NULL, NULL, NULL, NULL,
                              NULL);
    if (!GSS_ERROR(maj))
        maj = gss_display_name(&min, name, text, NULL);
    if (name != GSS_C_NO_NAME) {
        OM_uint32 m2;
        /* min carries the reason of a failure: release with another */
        gss_release_name(&m2, &name);
    }
    if (GSS_ERROR(maj))
        return gssapi_fail(utils, SASL_FAIL, what, maj, min);
    return SASL_OK;
}

/* ---- the security layer -------------------------------------------------- */

static int gssapi_layer_grow(const sasl_utils_t *utils, char **buf, size_t *cap, size_t need)
{
    char *p;
    size_t n;

    if (need <= *cap)
        return SASL_OK;
    n = *cap ? *cap : 4096;
    while (n < need)
        n *= 2;
    if (!(p = utils->realloc(*buf, n)))
        return SASL_NOMEM;
    *buf = p;
    *cap = n;
    return SASL_OK;
}

/* Copy chunk bytes of the caller's vector, from segment *seg at *segoff, to
 * dst. */
static void gssapi_layer_gather(const struct iovec *iov, unsigned niov, unsigned *seg,
                                size_t *segoff, unsigned char *dst, size_t chunk)
{
    size_t got = 0, take;

    while (got < chunk && *seg < niov) {
        take = iov[*seg].iov_len - *segoff;
        if (take > chunk - got)
            take = chunk - got;
        memcpy(dst + got, (const char *)iov[*seg].iov_base + *segoff, take);
        got += take;
        *segoff += take;
        if (*segoff == iov[*seg].iov_len) {
            (*seg)++;
            *segoff = 0;
        }
    }
}

int gssapi_sec_encode(struct gssapi_sec *s, const struct iovec *iov, unsigned niov,
                      const char **output, unsigned *outlen)
{
    const sasl_utils_t *utils = s->utils;
    size_t total = 0, used = 0, off, chunk, segoff = 0, toklen;
    unsigned i, seg = 0;
    OM_uint32 maj, min;
    gss_iov_buffer_desc v[4];
    unsigned char *p;
    int r;

    if (!output || !outlen || (niov && !iov))
        return SASL_BADPARAM;
    /* libsasl2 reads *outlen whatever the result */
    *output = NULL;
    *outlen = 0;
    for (i = 0; i < niov; i++)
        total += iov[i].iov_len;
    if (total > UINT32_MAX / 2)
        return sm_fail(utils, SASL_BADPARAM, "GSSAPI: message too large to encode");
    /* one wrapped token per send_max bytes of cleartext: libsasl2 splits by
     * maxoutbuf already, but sasl_encodev hands over whatever it is given.
     * Each token is built in place in the output (gss_wrap_iov: header,
     * data, padding, trailer side by side are exactly gss_wrap's token), so
     * the cleartext is copied once and nothing else is allocated. */
    for (off = 0; off < total; off += chunk) {
        chunk = total - off < s->send_max ? total - off : s->send_max;
        memset(v, 0, sizeof(v));
        v[0].type = GSS_IOV_BUFFER_TYPE_HEADER;
        v[1].type = GSS_IOV_BUFFER_TYPE_DATA;
        v[1].buffer.length = chunk;
        v[2].type = GSS_IOV_BUFFER_TYPE_PADDING;
        v[3].type = GSS_IOV_BUFFER_TYPE_TRAILER;
        maj = gss_wrap_iov_length(&min, s->ctx, s->conf, GSS_C_QOP_DEFAULT, NULL, v, 4);
        if (GSS_ERROR(maj))
            return gssapi_fail(utils, SASL_FAIL, "gss_wrap_iov_length failed", maj, min);
        toklen = v[0].buffer.length + chunk + v[2].buffer.length + v[3].buffer.length;
        if ((r = gssapi_layer_grow(utils, &s->enc, &s->enc_cap, used + 4 + toklen)) != SASL_OK)
            return r;
        p = (unsigned char *)s->enc + used;
        gssapi_frame_header(p, (uint32_t)toklen);
        v[0].buffer.value = p + 4;
        v[1].buffer.value = p + 4 + v[0].buffer.length;
        v[2].buffer.value = (unsigned char *)v[1].buffer.value + chunk;
        v[3].buffer.value = (unsigned char *)v[2].buffer.value + v[2].buffer.length;
        gssapi_layer_gather(iov, niov, &seg, &segoff, v[1].buffer.value, chunk);
        maj = gss_wrap_iov(&min, s->ctx, s->conf, GSS_C_QOP_DEFAULT, NULL, v, 4);
        if (GSS_ERROR(maj))
            return gssapi_fail(utils, SASL_FAIL, "gss_wrap_iov failed", maj, min);
        used += 4 + toklen;
    }
    *output = s->enc;
    *outlen = (unsigned)used;
    return SASL_OK;
}

/* Unwrap one frame's body in place (gss_unwrap_iov on the whole token as a
 * stream): *clear and *clear_len point into body afterwards. */
static int gssapi_layer_unwrap_frame(struct gssapi_sec *s, unsigned char *body, uint32_t len,
                                     unsigned char **clear, size_t *clear_len)
{
    gss_iov_buffer_desc v[2];
    OM_uint32 maj, min;
    int conf_state = 0;

    memset(v, 0, sizeof(v));
    v[0].type = GSS_IOV_BUFFER_TYPE_STREAM;
    v[0].buffer.length = len;
    v[0].buffer.value = body;
    v[1].type = GSS_IOV_BUFFER_TYPE_DATA;
    maj = gss_unwrap_iov(&min, s->ctx, &conf_state, NULL, v, 2);
    /* with sequence and replay detection a replayed, reordered or missing
     * frame is a supplementary status (and no data): refused, not passed
     * on as an empty message */
    if (maj != GSS_S_COMPLETE)
        return gssapi_fail(s->utils, SASL_BADPROT, GSS_ERROR(maj)
                           ? "a security-layer frame does not unwrap"
                           : "a security-layer frame replayed, reordered or after a lost one",
                           maj, min);
    /* a peer may not drop to integrity on a confidentiality layer */
    if (s->conf && !conf_state)
        return sm_fail(s->utils, SASL_BADPROT, "GSSAPI: an unencrypted frame on the "
                       "confidentiality layer");
    *clear = v[1].buffer.value;
    *clear_len = v[1].buffer.length;
    return SASL_OK;
}

/* Append a frame's cleartext to the output of this decode call. */
static int gssapi_layer_append(struct gssapi_sec *s, const unsigned char *p, size_t n, size_t *used)
{
    int r = gssapi_layer_grow(s->utils, &s->dec, &s->dec_cap, *used + n + 1);

    if (r == SASL_OK && n) {
        memcpy(s->dec + *used, p, n);
        *used += n;
    }
    return r;
}

static int gssapi_layer_ensure_body(struct gssapi_sec *s, uint32_t len)
{
    unsigned char *p;

    if (len <= s->body_cap)
        return SASL_OK;
    if (!(p = s->utils->realloc(s->body, len)))
        return SASL_NOMEM;
    s->body = p;
    s->body_cap = len;
    return SASL_OK;
}

/* Feed the frame being read with input; *n is what it took.  A frame
 * completed is unwrapped and its cleartext appended after used bytes. */
static int gssapi_layer_feed(struct gssapi_sec *s, const unsigned char *in, unsigned inlen,
                             size_t *n, size_t *used)
{
    unsigned char *clear;
    size_t clear_len;
    int r;

    switch (gssapi_frame_feed(&s->frame, in, inlen, s->recv_max, n)) {
    case GSSAPI_FRAME_MORE:
        break;
    case GSSAPI_FRAME_HEADER:
        if ((r = gssapi_layer_ensure_body(s, s->frame.len)) != SASL_OK)
            return r;
        s->frame.body = s->body;
        break;
    case GSSAPI_FRAME_TOO_LONG:
        return sm_fail(s->utils, SASL_BADPROT, "GSSAPI: a security-layer frame of %u bytes "
                       "is larger than the %u negotiated", (unsigned)s->frame.len,
                       (unsigned)s->recv_max);
    case GSSAPI_FRAME_EMPTY:
        return sm_fail(s->utils, SASL_BADPROT, "GSSAPI: an empty security-layer frame");
    case GSSAPI_FRAME_DONE:
        r = gssapi_layer_unwrap_frame(s, s->frame.body, s->frame.len, &clear, &clear_len);
        gssapi_frame_reset(&s->frame);
        if (r == SASL_OK)
            r = gssapi_layer_append(s, clear, clear_len, used);
        if (r != SASL_OK)
            return r;
        break;
    }
    return SASL_OK;
}

static int gssapi_layer_decode_frames(struct gssapi_sec *s, const char *input, unsigned inlen,
                                      const char **output, unsigned *outlen)
{
    const unsigned char *in = (const unsigned char *)input;
    unsigned char *clear;
    size_t used = 0, n, clear_len;
    int r, single = 0;

    if (!output || !outlen || (inlen && !input))
        return SASL_BADPARAM;
    *output = NULL;
    *outlen = 0;
    while (inlen > 0) {
        /* a whole frame at the start of the input: one copy into body,
         * unwrapped there; when it is all the input, the output is body */
        if (s->frame.hdr_have == 0 && inlen >= 4) {
            uint32_t len = (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16
                           | (uint32_t)in[2] << 8 | in[3];
            if (len > 0 && len <= s->recv_max && len <= inlen - 4) {
                if ((r = gssapi_layer_ensure_body(s, len)) != SASL_OK)
                    return r;
                memcpy(s->body, in + 4, len);
                if ((r = gssapi_layer_unwrap_frame(s, s->body, len, &clear, &clear_len)) != SASL_OK)
                    return r;
                in += 4 + len;
                inlen -= 4 + len;
                if (used == 0 && inlen == 0) {
                    single = 1;
                    *output = (const char *)clear;
                    used = clear_len;
                } else if ((r = gssapi_layer_append(s, clear, clear_len, &used)) != SASL_OK)
                    return r;
                continue;
            }
        }
        if ((r = gssapi_layer_feed(s, in, inlen, &n, &used)) != SASL_OK)
            return r;
        in += n;
        inlen -= (unsigned)n;
    }
    if (used > UINT32_MAX / 2)
        return SASL_FAIL;
    if (!single)
        *output = used ? s->dec : NULL;
    *outlen = (unsigned)used;
    return SASL_OK;
}

int gssapi_sec_decode(struct gssapi_sec *s, const char *input, unsigned inlen,
                      const char **output, unsigned *outlen)
{
    int r;

    if (output && outlen) {
        *output = NULL;
        *outlen = 0;
    }
    /* after a refused frame the reader's state (a length, a body half
     * filled) belongs to a stream that is out of step: nothing more is read */
    if (s->failed)
        return sm_fail(s->utils, SASL_BADPROT, "GSSAPI: an earlier security-layer frame was "
                       "refused; the connection must be closed");
    r = gssapi_layer_decode_frames(s, input, inlen, output, outlen);
    if (r != SASL_OK && r != SASL_BADPARAM) {
        s->failed = 1;
        gssapi_frame_reset(&s->frame);
    }
    return r;
}

int gssapi_sec_start(const sasl_utils_t *utils, struct gssapi_sec *s, gss_ctx_id_t ctx,
                     unsigned layer, uint32_t peer_max, uint32_t our_max, unsigned conf_ssf,
                     const struct gssapi_layer_fns *fns, sasl_out_params_t *oparams)
{
    OM_uint32 maj, min, max_in = 0;

    oparams->encode = NULL;
    oparams->decode = NULL;
    oparams->mech_ssf = 0;
    oparams->maxoutbuf = 0;
    if (layer == GSSAPI_LAYER_NONE)
        return SASL_OK;
    s->utils = utils;
    s->ctx = ctx;
    s->conf = layer == GSSAPI_LAYER_CONFIDENTIALITY;
    s->recv_max = our_max;
    /* the peer's buffer bounds the wrapped token; how much cleartext fits */
    maj = gss_wrap_size_limit(&min, ctx, s->conf, GSS_C_QOP_DEFAULT, peer_max, &max_in);
    if (GSS_ERROR(maj))
        return gssapi_fail(utils, SASL_FAIL, "gss_wrap_size_limit failed", maj, min);
    if (max_in == 0)
        return sm_fail(utils, SASL_BADPROT, "GSSAPI: the peer's maximum buffer (%u bytes) "
                       "cannot hold a single wrapped byte", (unsigned)peer_max);
    s->send_max = max_in;
    oparams->maxoutbuf = max_in;
    oparams->mech_ssf = s->conf ? conf_ssf : GSSAPI_INTEGRITY_SSF;
    /* libsasl2 calls these with the mechanism's context, not with
     * encode_context: each side passes its own to s */
    oparams->encode = fns->encode;
    oparams->decode = fns->decode;
    return SASL_OK;
}

void gssapi_sec_dispose(struct gssapi_sec *s)
{
    const sasl_utils_t *utils = s->utils;

    if (!utils)
        return;
    if (s->enc) {
        sm_erase(s->enc, s->enc_cap);
        utils->free(s->enc);
    }
    if (s->dec) {
        sm_erase(s->dec, s->dec_cap);
        utils->free(s->dec);
    }
    if (s->body) {
        sm_erase(s->body, s->body_cap);
        utils->free(s->body);
    }
    memset(s, 0, sizeof(*s));
}

void gssapi_release(struct gssapi_sec *sec, gss_ctx_id_t *ctx, gss_cred_id_t *cred,
                    gss_name_t *name)
{
    OM_uint32 min;

    gssapi_sec_dispose(sec);
    if (*ctx != GSS_C_NO_CONTEXT)
        gss_delete_sec_context(&min, ctx, GSS_C_NO_BUFFER);
    if (*cred != GSS_C_NO_CREDENTIAL)
        gss_release_cred(&min, cred);
    if (*name != GSS_C_NO_NAME)
        gss_release_name(&min, name);
}
