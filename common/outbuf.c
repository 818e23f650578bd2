#include "config.h"
#include <sasl-mechs/outbuf.h>
#include <sasl-mechs/memory.h>
#include <sasl-mechs/secret.h>

#include <string.h>

#define SM_OUTBUF_MIN 128u

int sm_outbuf_reserve(const sasl_utils_t *utils, struct sm_outbuf *b, unsigned n)
{
    if (n == (unsigned)-1)
        return SASL_NOMEM;
    /* only what can have been written: the rest of the buffer has held
     * nothing since the last erasure (128 bytes erased cost ~85 instructions) */
    sm_erase(b->data, b->used);
    b->len = b->used = 0;
    if (n + 1 > b->cap) {
        /* most exchanges fit in the first allocation (LOGIN's user name,
         * then its password) */
        unsigned cap = n + 1 > SM_OUTBUF_MIN ? n + 1 : SM_OUTBUF_MIN;
        char *p = utils->malloc(cap);
        if (!p)
            return SASL_NOMEM;
        utils->free(b->data);
        b->data = p;
        b->cap = cap;
    }
    b->data[0] = '\0';
    b->used = n + 1;
    return SASL_OK;
}

int sm_outbuf_set(const sasl_utils_t *utils, struct sm_outbuf *b,
                  const void *src, unsigned n)
{
    int r = sm_outbuf_reserve(utils, b, n);

    if (r != SASL_OK)
        return r;
    memcpy(b->data, src, n);
    b->data[n] = '\0';
    b->len = n;
    return SASL_OK;
}

void sm_outbuf_dispose(const sasl_utils_t *utils, struct sm_outbuf *b)
{
    sm_free_secret(utils, b->data, b->used);
    b->data = NULL;
    b->len = b->cap = b->used = 0;
}
