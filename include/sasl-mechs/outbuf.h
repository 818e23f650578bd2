/* The per-context output buffer: what a step hands back to libsasl2 must
 * stay valid until the next step or until the context is disposed. */
#ifndef SASL_MECHS_OUTBUF_H
#define SASL_MECHS_OUTBUF_H

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

struct sm_outbuf {
    char *data;
    unsigned len;
    unsigned cap;
    unsigned used; /* bytes written since the last erasure: what to erase */
};

/* Make room for n bytes plus a NUL (the old content is erased, not kept);
 * return SASL_OK or SASL_NOMEM.  The caller may then write data[0..n]. */
int sm_outbuf_reserve(const sasl_utils_t *utils, struct sm_outbuf *b, unsigned n);
/* Replace the content with n bytes of src (NUL-terminated). */
int sm_outbuf_set(const sasl_utils_t *utils, struct sm_outbuf *b,
                  const void *src, unsigned n);
/* Erase (the buffer may have held a password) and free. */
void sm_outbuf_dispose(const sasl_utils_t *utils, struct sm_outbuf *b);

#endif
