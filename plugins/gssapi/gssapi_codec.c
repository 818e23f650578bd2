#include "config.h"
#include "gssapi_codec.h"

#include <string.h>

const char *gssapi_status_text(enum gssapi_status st)
{
    switch (st) {
    case GSSAPI_OK: return "ok";
    case GSSAPI_ERR_LENGTH: return "the security-layer token is not exactly 4 octets";
    case GSSAPI_ERR_SHORT: return "the security-layer reply is shorter than 4 octets";
    case GSSAPI_ERR_NO_LAYER: return "the server offers no security layer";
    case GSSAPI_ERR_NOT_ONE_LAYER: return "the client did not choose exactly one security layer";
    case GSSAPI_ERR_NOT_OFFERED: return "the client chose a security layer that was not offered";
    case GSSAPI_ERR_ZERO_BUFFER: return "a security layer with a maximum buffer size of 0";
    case GSSAPI_ERR_AUTHZID_NUL: return "the authorization identity contains a NUL";
    case GSSAPI_ERR_AUTHZID_LONG: return "the authorization identity is too long";
    case GSSAPI_ERR_ARG: return "bad arguments";
    }
    return "unknown error";
}

void gssapi_token_build(unsigned char out[GSSAPI_TOKEN_LEN], unsigned layers, uint32_t maxbuf)
{
    out[0] = (unsigned char)layers;
    out[1] = (unsigned char)(maxbuf >> 16);
    out[2] = (unsigned char)(maxbuf >> 8);
    out[3] = (unsigned char)maxbuf;
}

static uint32_t gssapi_codec_get24(const unsigned char *p)
{
    return (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

enum gssapi_status gssapi_parse_offer(const void *in, size_t len, unsigned *layers,
                                      uint32_t *maxbuf)
{
    const unsigned char *p = in;

    /* .NET and Cyrus both insist on exactly 4 octets; anything after them
     * would be data nobody defined */
    if (!p || len != GSSAPI_TOKEN_LEN)
        return GSSAPI_ERR_LENGTH;
    *layers = p[0] & GSSAPI_LAYER_ALL;
    *maxbuf = gssapi_codec_get24(p);
    if (!*layers)
        return GSSAPI_ERR_NO_LAYER;
    return GSSAPI_OK;
}

enum gssapi_status gssapi_parse_choice(const void *in, size_t len, unsigned offered,
                                       struct gssapi_choice *out)
{
    const unsigned char *p = in;
    unsigned layer;

    if (!p || len < GSSAPI_TOKEN_LEN)
        return GSSAPI_ERR_SHORT;
    layer = p[0];
    /* integrity and confidentiality together is confidentiality: what
     * Active Directory wants, sent by Cyrus's client with ad_compat (and
     * accepted by Cyrus's server) */
    if (layer == (GSSAPI_LAYER_INTEGRITY | GSSAPI_LAYER_CONFIDENTIALITY))
        layer = GSSAPI_LAYER_CONFIDENTIALITY;
    if (layer != GSSAPI_LAYER_NONE && layer != GSSAPI_LAYER_INTEGRITY
        && layer != GSSAPI_LAYER_CONFIDENTIALITY)
        return GSSAPI_ERR_NOT_ONE_LAYER;
    if (!(layer & offered))
        return GSSAPI_ERR_NOT_OFFERED;
    out->layer = layer;
    out->maxbuf = gssapi_codec_get24(p);
    /* the peer could never be sent a single protected message */
    if (layer != GSSAPI_LAYER_NONE && out->maxbuf == 0)
        return GSSAPI_ERR_ZERO_BUFFER;
    out->authzid = (const char *)p + GSSAPI_TOKEN_LEN;
    out->authzid_len = len - GSSAPI_TOKEN_LEN;
    if (out->authzid_len > GSSAPI_MAX_AUTHZID)
        return GSSAPI_ERR_AUTHZID_LONG;
    if (memchr(out->authzid, 0, out->authzid_len))
        return GSSAPI_ERR_AUTHZID_NUL;
    return GSSAPI_OK;
}

size_t gssapi_choice_build(unsigned char *out, size_t outmax, unsigned layer, uint32_t maxbuf,
                           const char *authzid, size_t authzid_len)
{
    if (maxbuf > GSSAPI_MAX_BUFFER || authzid_len > GSSAPI_MAX_AUTHZID
        || outmax < GSSAPI_TOKEN_LEN + authzid_len || (authzid_len && !authzid))
        return 0;
    gssapi_token_build(out, layer, maxbuf);
    if (authzid_len)
        memcpy(out + GSSAPI_TOKEN_LEN, authzid, authzid_len);
    return GSSAPI_TOKEN_LEN + authzid_len;
}

void gssapi_frame_reset(struct gssapi_frame *f)
{
    f->hdr_have = 0;
    f->len = 0;
    f->have = 0;
}

void gssapi_frame_header(unsigned char out[4], uint32_t len)
{
    out[0] = (unsigned char)(len >> 24);
    out[1] = (unsigned char)(len >> 16);
    out[2] = (unsigned char)(len >> 8);
    out[3] = (unsigned char)len;
}

enum gssapi_frame_status gssapi_frame_feed(struct gssapi_frame *f, const unsigned char *in,
                                           size_t inlen, uint32_t maxlen, size_t *used)
{
    size_t n = 0, take;

    if (f->hdr_have < 4) {
        take = 4 - f->hdr_have;
        if (take > inlen)
            take = inlen;
        memcpy(f->hdr + f->hdr_have, in, take);
        f->hdr_have += (unsigned)take;
        *used = take;
        if (f->hdr_have < 4)
            return GSSAPI_FRAME_MORE;
        f->len = (uint32_t)f->hdr[0] << 24 | (uint32_t)f->hdr[1] << 16
                 | (uint32_t)f->hdr[2] << 8 | f->hdr[3];
        f->have = 0;
        if (f->len == 0)
            return GSSAPI_FRAME_EMPTY;
        if (f->len > maxlen)
            return GSSAPI_FRAME_TOO_LONG;
        return GSSAPI_FRAME_HEADER;
    }
    take = f->len - f->have;
    if (take > inlen)
        take = inlen;
    if (take)
        memcpy(f->body + f->have, in, take);
    f->have += (uint32_t)take;
    n += take;
    *used = n;
    return f->have == f->len ? GSSAPI_FRAME_DONE : GSSAPI_FRAME_MORE;
}
