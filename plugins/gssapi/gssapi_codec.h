/* RFC 4752's two pieces of wire format that are not GSS-API tokens: the
 * security-layer token (inside GSS_Wrap, once the context is established)
 * and the 4-octet length framing of the security layer's messages.  Pure
 * functions: no libsasl2, no GSS-API, no allocation. */
#ifndef GSSAPI_CODEC_H
#define GSSAPI_CODEC_H

#include <stddef.h>
#include <stdint.h>

/* RFC 4752 3.3: the bit mask of security layers */
enum {
    GSSAPI_LAYER_NONE = 1,
    GSSAPI_LAYER_INTEGRITY = 2,
    GSSAPI_LAYER_CONFIDENTIALITY = 4,
};
#define GSSAPI_LAYER_ALL (GSSAPI_LAYER_NONE | GSSAPI_LAYER_INTEGRITY | GSSAPI_LAYER_CONFIDENTIALITY)
#define GSSAPI_TOKEN_LEN 4u
/* the size field is 24 bits */
#define GSSAPI_MAX_BUFFER 0xFFFFFFu
/* an authorization identity longer than libsasl2 can canonicalise is refused */
#define GSSAPI_MAX_AUTHZID 1000u

enum gssapi_status {
    GSSAPI_OK = 0,
    GSSAPI_ERR_LENGTH,        /* the server's token is not exactly 4 octets */
    GSSAPI_ERR_SHORT,         /* the client's token is shorter than 4 octets */
    GSSAPI_ERR_NO_LAYER,      /* the server offers no layer at all */
    GSSAPI_ERR_NOT_ONE_LAYER, /* the client chose none or more than one layer */
    GSSAPI_ERR_NOT_OFFERED,   /* the client chose a layer the server did not offer */
    GSSAPI_ERR_ZERO_BUFFER,   /* a protecting layer with a maximum buffer of 0 */
    GSSAPI_ERR_AUTHZID_NUL,   /* an embedded NUL in the authorization identity */
    GSSAPI_ERR_AUTHZID_LONG,  /* longer than GSSAPI_MAX_AUTHZID */
    GSSAPI_ERR_ARG,           /* the caller's buffer or values cannot be encoded */
};
const char *gssapi_status_text(enum gssapi_status st);

/* The 4 octets: the layer mask and a 24-bit big-endian size. */
void gssapi_token_build(unsigned char out[GSSAPI_TOKEN_LEN], unsigned layers, uint32_t maxbuf);

/* The server's offer: exactly 4 octets, at least one known layer.  Bits
 * for layers this implementation does not know are dropped (RFC 4752:
 * they are negotiated off). */
enum gssapi_status gssapi_parse_offer(const void *in, size_t len, unsigned *layers,
                                      uint32_t *maxbuf);

/* The client's choice: 4 octets then the authorization identity (may be
 * empty; *authzid points into in).  Exactly one layer, one of those
 * offered, and a non-zero buffer unless it is GSSAPI_LAYER_NONE. */
struct gssapi_choice {
    unsigned layer;
    uint32_t maxbuf;
    const char *authzid;
    size_t authzid_len;
};
enum gssapi_status gssapi_parse_choice(const void *in, size_t len, unsigned offered,
                                       struct gssapi_choice *out);
/* The client's reply into out (outmax bytes); returns its length or 0. */
size_t gssapi_choice_build(unsigned char *out, size_t outmax, unsigned layer, uint32_t maxbuf,
                           const char *authzid, size_t authzid_len);

/* The security layer's framing (RFC 4752 3.3, RFC 4422 3.7): each wrapped
 * token preceded by its length in 4 octets, big-endian.  The reader accepts
 * its input split at any byte: feed it whatever arrived and it keeps the
 * header and the part of the body it has seen. */
struct gssapi_frame {
    unsigned char hdr[4];
    unsigned hdr_have;
    uint32_t len;          /* of the body, once the header is complete */
    uint32_t have;         /* body bytes copied so far */
    unsigned char *body;   /* the caller's buffer of at least len bytes */
};
enum gssapi_frame_status {
    GSSAPI_FRAME_MORE,     /* every byte consumed; the frame is not complete */
    GSSAPI_FRAME_HEADER,   /* the header is complete: set body (len bytes), feed again */
    GSSAPI_FRAME_DONE,     /* body[0..len) is one whole frame */
    GSSAPI_FRAME_TOO_LONG, /* the length exceeds the negotiated maximum */
    GSSAPI_FRAME_EMPTY,    /* a length of 0: no wrapped token is empty */
};
/* Consume from in[0..inlen), setting *used; maxlen is the largest body the
 * receiver advertised. */
enum gssapi_frame_status gssapi_frame_feed(struct gssapi_frame *f, const unsigned char *in,
                                           size_t inlen, uint32_t maxlen, size_t *used);
/* Ready for the next frame (the body buffer stays the caller's). */
void gssapi_frame_reset(struct gssapi_frame *f);
void gssapi_frame_header(unsigned char out[4], uint32_t len);

#endif
