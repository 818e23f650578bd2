/* The GSSAPI plugin (RFC 4752) over MIT Kerberos: what its two sides and
 * the glue in gssapi_plugin.c share. */
#ifndef GSSAPI_H
#define GSSAPI_H

#include <stdint.h>
#include <sys/uio.h>
#include <gssapi/gssapi.h>
#include <sasl/sasl.h>
#include <sasl/saslplug.h>
#include <sasl-mechs/plugin.h>

#include "gssapi_codec.h"

/* a context token larger than this is not Kerberos (a ticket with a large
 * PAC is a few tens of kilobytes) */
#define GSSAPI_MAX_TOKEN 65536u
/* SSF of the integrity layer, as Cyrus SASL counts it */
#define GSSAPI_INTEGRITY_SSF 1u

/* The security layer once negotiated: what encode and decode work on. */
struct gssapi_sec {
    const sasl_utils_t *utils;
    gss_ctx_id_t ctx;
    int conf;              /* confidentiality (else integrity) */
    uint32_t recv_max;     /* the largest wrapped token we said we receive */
    uint32_t send_max;     /* the largest cleartext that wraps into the peer's buffer */
    struct gssapi_frame frame;
    unsigned char *body;   /* the frame being received */
    uint32_t body_cap;
    char *enc, *dec;       /* output of the last encode / decode (a decode of one
                            * whole frame answers with its cleartext in body) */
    size_t enc_cap, dec_cap;
    int failed;            /* a frame was refused: the stream is out of step for good */
};

/* sasl_errdetail from GSS-API status codes: what failed, then the major
 * and minor (Kerberos) texts, which are what tell an administrator a
 * missing keytab entry from clock skew or an unknown principal. */
int gssapi_fail(const sasl_utils_t *utils, int code, const char *what, OM_uint32 major,
                OM_uint32 minor);
/* the SASL code for a failed context step: a peer's bad token is
 * SASL_BADPROT, credentials that do not verify SASL_BADAUTH */
int gssapi_context_code(OM_uint32 major, OM_uint32 minor);

/* The SSF of the confidentiality layer from the context
 * (GSS_C_SEC_CONTEXT_SASL_SSF; 56 where the library cannot tell). */
unsigned gssapi_conf_ssf(gss_ctx_id_t ctx);
/* The layers one side may use under the application's properties, as
 * Cyrus SASL decides them: a layer whose SSF is within
 * [min_ssf - external, max_ssf - external] and whose flag the context has;
 * "none" when no SSF is required.  A protecting layer needs a buffer. */
unsigned gssapi_layers_allowed(const sasl_security_properties_t *props, unsigned external_ssf,
                               unsigned conf_ssf, OM_uint32 ctx_flags);
/* The best of the layers: confidentiality, then integrity, then none. */
unsigned gssapi_best_layer(unsigned layers);

/* The layer's encode and decode, and each side's oparams entries that
 * call them with its own struct gssapi_sec. */
int gssapi_sec_encode(struct gssapi_sec *s, const struct iovec *iov, unsigned niov,
                      const char **output, unsigned *outlen);
int gssapi_sec_decode(struct gssapi_sec *s, const char *input, unsigned inlen,
                      const char **output, unsigned *outlen);
struct gssapi_layer_fns {
    int (*encode)(void *context, const struct iovec *iov, unsigned niov,
                  const char **output, unsigned *outlen);
    int (*decode)(void *context, const char *input, unsigned inlen,
                  const char **output, unsigned *outlen);
};
/* The layer's entries of one side, named name, whose context type keeps
 * its struct gssapi_sec as member sec: libsasl2 calls a layer's encode and
 * decode with the mechanism's context (not encode_context), so each
 * context type needs its own pair to find the layer in it:
 *     GSSAPI_LAYER_FNS(gssapi_client_layer, struct gssapi_client);
 * defines gssapi_client_layer_encode, gssapi_client_layer_decode and the
 * table gssapi_client_layer that gssapi_sec_start takes. */
#define GSSAPI_LAYER_FNS(name, type)                                                        \
    static int name##_encode(void *context, const struct iovec *iov, unsigned niov,         \
                             const char **output, unsigned *outlen)                         \
    {                                                                                        \
        return gssapi_sec_encode(&((type *)context)->sec, iov, niov, output, outlen);       \
    }                                                                                        \
    static int name##_decode(void *context, const char *input, unsigned inlen,              \
                             const char **output, unsigned *outlen)                         \
    {                                                                                        \
        return gssapi_sec_decode(&((type *)context)->sec, input, inlen, output, outlen);    \
    }                                                                                        \
    static const struct gssapi_layer_fns name = {name##_encode, name##_decode}
/* Fill oparams for the chosen layer; peer_max is the peer's buffer. */
int gssapi_sec_start(const sasl_utils_t *utils, struct gssapi_sec *s, gss_ctx_id_t ctx,
                     unsigned layer, uint32_t peer_max, uint32_t our_max, unsigned conf_ssf,
                     const struct gssapi_layer_fns *fns, sasl_out_params_t *oparams);
void gssapi_sec_dispose(struct gssapi_sec *s);
/* The end of either side's context: the security layer, then the GSS-API
 * context, credentials and name each released when there is one. */
void gssapi_release(struct gssapi_sec *sec, gss_ctx_id_t *ctx, gss_cred_id_t *cred,
                    gss_name_t *name);

/* Wrap and unwrap one token (security-layer negotiation). */
int gssapi_wrap_token(const sasl_utils_t *utils, gss_ctx_id_t ctx, const void *in, size_t len,
                      gss_buffer_t out);
int gssapi_unwrap_token(const sasl_utils_t *utils, gss_ctx_id_t ctx, const void *in, size_t len,
                        gss_buffer_t out);

/* The display name of the context's initiator or acceptor principal into
 * text (the caller releases it), or gssapi_fail's SASL_FAIL saying what
 * could not be read. */
enum gssapi_party { GSSAPI_INITIATOR, GSSAPI_ACCEPTOR };
int gssapi_context_name(const sasl_utils_t *utils, gss_ctx_id_t ctx, enum gssapi_party party,
                        const char *what, gss_buffer_t text);

/* channel bindings from the application's cbinding (NULL: none) */
gss_channel_bindings_t gssapi_bindings(const sasl_channel_binding_t *cb,
                                       struct gss_channel_bindings_struct *store);

/* The server's settings, read at load (gssapi_server_options; README,
 * Options); the glue keeps them and every mech_new gets them as glob.  A
 * path or name longer than these is refused as an invalid value. */
struct gssapi_settings {
    struct sm_server_settings common;
    char keytab[1024];
    char principal[512];
    char local_realm[256];
    int strip_realm;
    int any_service;
};
int gssapi_server_options(const sasl_utils_t *utils, struct sm_server_settings *set);
sm_server_new_fn gssapi_server_new;
sm_dispose_fn gssapi_server_dispose;

sm_client_new_fn gssapi_client_new;
sm_dispose_fn gssapi_client_dispose;

#endif
