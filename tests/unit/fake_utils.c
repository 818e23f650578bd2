/* The fake sasl_utils_t; see fake_utils.h. */
#include "config.h"
#include "fake_utils.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fake_state fake;

static char conn_dummy;

sasl_conn_t *fake_conn(void)
{
    return (sasl_conn_t *)(void *)&conn_dummy;
}

/* ---- allocator ----------------------------------------------------------- */

static struct {
    void *p;
    size_t size;
} blocks[FAKE_MAX_BLOCKS];

static int track(void *p, size_t size)
{
    size_t i;

    for (i = 0; i < FAKE_MAX_BLOCKS; i++)
        if (!blocks[i].p) {
            blocks[i].p = p;
            blocks[i].size = size;
            fake.live++;
            return 0;
        }
    return -1;
}

/* Forget p; return its size, or (size_t)-1 when it is not ours. */
static size_t untrack(void *p)
{
    size_t i, size;

    for (i = 0; i < FAKE_MAX_BLOCKS; i++)
        if (blocks[i].p == p) {
            size = blocks[i].size;
            blocks[i].p = NULL;
            blocks[i].size = 0;
            fake.live--;
            return size;
        }
    return (size_t)-1;
}

static int should_fail(void)
{
    fake.allocs++;
    return fake.fail_at && fake.allocs == fake.fail_at;
}

static void *fake_malloc(size_t n)
{
    void *p;

    if (should_fail() || !(p = malloc(n ? n : 1)))
        return NULL;
    if (track(p, n) != 0) {
        free(p);
        return NULL;
    }
    /* what malloc hands out is never secret: FAKE_FILL, so that a block can
     * be told apart from one erased after use (and valgrind sees it defined) */
    memset(p, FAKE_FILL, n ? n : 1);
    return p;
}

static void *fake_calloc(size_t n, size_t size)
{
    void *p;

    if (should_fail() || !(p = calloc(n ? n : 1, size ? size : 1)))
        return NULL;
    if (track(p, n * size) != 0) {
        free(p);
        return NULL;
    }
    return p;
}

static void fake_free(void *p)
{
    size_t size, i;
    const unsigned char *q = p;

    if (!p)
        return;
    size = untrack(p);
    if (size == (size_t)-1) {
        fake.bad_frees++;
        return; /* not ours: leave it alone */
    }
    fake.frees++;
    fake.last_free_size = size;
    /* erased: every byte zero, or never written since malloc */
    fake.last_free_zeroed = 1;
    for (i = 0; i < size; i++)
        if (q[i] && q[i] != FAKE_FILL) {
            fake.last_free_zeroed = 0;
            break;
        }
    free(p);
}

static void *fake_realloc(void *p, size_t n)
{
    size_t i;
    void *q;

    if (!p)
        return fake_malloc(n);
    for (i = 0; i < FAKE_MAX_BLOCKS && blocks[i].p != p; i++)
        ;
    if (i == FAKE_MAX_BLOCKS) {
        fake.bad_frees++;
        return NULL;
    }
    if (should_fail() || !(q = realloc(p, n ? n : 1)))
        return NULL;
    blocks[i].p = q;
    blocks[i].size = n;
    return q;
}

/* ---- getopt, getcallback ------------------------------------------------- */

static int fake_getopt(void *context, const char *plugin_name, const char *option,
                       const char **result, unsigned *len)
{
    const struct fake_opt *o;

    (void)context;
    (void)plugin_name;
    fake.getopt_calls++;
    for (o = fake.opts; o && o->name; o++)
        if (strcmp(o->name, option) == 0) {
            *result = o->value;
            if (len)
                *len = o->value ? (unsigned)strlen(o->value) : 0;
            return SASL_OK;
        }
    return SASL_FAIL;
}

static int fake_getcallback(sasl_conn_t *conn, unsigned long id, sasl_callback_ft *pproc,
                            void **pcontext)
{
    const struct fake_cb *c;

    (void)conn;
    for (c = fake.cbs; c && c->id != SASL_CB_LIST_END; c++)
        if (c->id == id) {
            *pproc = c->proc;
            *pcontext = c->context;
            return c->proc ? SASL_OK : SASL_INTERACT;
        }
    *pproc = NULL;
    *pcontext = NULL;
    return fake.missing_cb_result;
}

/* ---- log and seterror ---------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static void fake_log(sasl_conn_t *conn, int level,
                                                           const char *fmt, ...)
{
    va_list ap;

    (void)conn;
    fake.log_count++;
    fake.last_log_level = level;
    va_start(ap, fmt);
    vsnprintf(fake.last_log, sizeof(fake.last_log), fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 3, 4))) static void fake_seterror(sasl_conn_t *conn,
                                                                unsigned flags,
                                                                const char *fmt, ...)
{
    va_list ap;

    (void)conn;
    fake.error_count++;
    fake.last_error_flags = flags;
    va_start(ap, fmt);
    vsnprintf(fake.last_error, sizeof(fake.last_error), fmt, ap);
    va_end(ap);
}

/* ---- canon_user, checkpass ------------------------------------------------ */

int fake_canon_user(sasl_conn_t *conn, const char *in, unsigned len, unsigned flags,
                    sasl_out_params_t *oparams)
{
    struct fake_canon_call *c;
    unsigned n = len < sizeof(c->in) - 1 ? len : (unsigned)sizeof(c->in) - 1;

    (void)conn;
    fake.canon_calls++;
    if (fake.canon_calls <= FAKE_MAX_CANON) {
        c = &fake.canon[fake.canon_calls - 1];
        memcpy(c->in, in, n);
        c->in[n] = '\0';
        c->len = len;
        c->flags = flags;
    }
    if (fake.canon_fail_call && fake.canon_calls == fake.canon_fail_call)
        return fake.canon_fail_result;
    /* as libsasl2's canonicalisation does: identities into oparams */
    if (flags & SASL_CU_AUTHID) {
        memcpy(fake.canon_authid, in, n);
        fake.canon_authid[n] = '\0';
        oparams->authid = fake.canon_authid;
        oparams->alen = n;
    }
    if (flags & SASL_CU_AUTHZID) {
        memcpy(fake.canon_user, in, n);
        fake.canon_user[n] = '\0';
        oparams->user = fake.canon_user;
        oparams->ulen = n;
    }
    return SASL_OK;
}

static int fake_checkpass(sasl_conn_t *conn, const char *user, unsigned userlen,
                          const char *pass, unsigned passlen)
{
    (void)conn;
    fake.checkpass_calls++;
    snprintf(fake.checkpass_user, sizeof(fake.checkpass_user), "%.*s", (int)userlen, user);
    snprintf(fake.checkpass_pass, sizeof(fake.checkpass_pass), "%.*s", (int)passlen, pass);
    return fake.checkpass_result;
}

/* ---- auxprop properties ----------------------------------------------------- */

/* Two properties with values: the authcid's password (libsasl2's '*' name)
 * and one the application asked for about the authzid. */
static const char *fake_values[] = {"value", NULL};
static const struct propval fake_props[] = {
    {SASL_AUX_PASSWORD, fake_values, 1, 5},
    {"mailHost", fake_values, 1, 5},
    {NULL, NULL, 0, 0},
};

static const struct propval *fake_prop_get(struct propctx *ctx)
{
    (void)ctx;
    return fake_props;
}

static void fake_prop_erase(struct propctx *ctx, const char *name)
{
    size_t n = strlen(fake.prop_erase_log);

    (void)ctx;
    snprintf(fake.prop_erase_log + n, sizeof(fake.prop_erase_log) - n, "%s@%u ", name,
             fake.canon_calls);
    fake.prop_erase_calls++;
}

static int fake_prop_request(struct propctx *ctx, const char **names)
{
    (void)ctx;
    snprintf(fake.prop_requested, sizeof(fake.prop_requested), "%s", names[0] ? names[0] : "");
    return SASL_OK;
}

/* the values of the names asked for, as libsasl2's prop_getnames */
static int fake_prop_getnames(struct propctx *ctx, const char **names, struct propval *vals)
{
    const struct propval *pv;
    int n = 0;

    (void)ctx;
    for (; *names; names++, vals++)
        for (pv = fake_props; pv->name; pv++)
            if (strcmp(pv->name, *names) == 0) {
                *vals = *pv;
                n++;
            }
    return n;
}

static void fake_prop_clear(struct propctx *ctx, int requests)
{
    (void)ctx;
    fake.prop_clear_calls++;
    fake.prop_clear_after_canon = fake.canon_calls;
    fake.prop_clear_requests = requests;
}

/* ---- setup --------------------------------------------------------------- */

void fake_reset(void)
{
    size_t i;

    /* a previous test that failed half-way may have left blocks behind */
    for (i = 0; i < FAKE_MAX_BLOCKS; i++)
        if (blocks[i].p) {
            free(blocks[i].p);
            blocks[i].p = NULL;
            blocks[i].size = 0;
        }
    memset(&fake, 0, sizeof(fake));
    fake.missing_cb_result = SASL_FAIL;
    fake.checkpass_result = SASL_OK;
    fake.canon_fail_result = SASL_BADPROT;
    fake.utils.version = SASL_UTILS_VERSION;
    fake.utils.conn = fake_conn();
    fake.utils.getopt = fake_getopt;
    fake.utils.getopt_context = NULL;
    fake.utils.malloc = fake_malloc;
    fake.utils.calloc = fake_calloc;
    fake.utils.realloc = fake_realloc;
    fake.utils.free = fake_free;
    fake.utils.getcallback = fake_getcallback;
    fake.utils.log = fake_log;
    fake.utils.seterror = fake_seterror;
    fake.utils.checkpass = fake_checkpass;
    fake.utils.prop_get = fake_prop_get;
    fake.utils.prop_erase = fake_prop_erase;
    fake.utils.prop_clear = fake_prop_clear;
    fake.utils.prop_request = fake_prop_request;
    fake.utils.prop_getnames = fake_prop_getnames;
}

int fake_setup(void **state)
{
    (void)state;
    fake_reset();
    return 0;
}

int fake_teardown(void **state)
{
    int ok = 1;

    (void)state;
    if (fake.live != 0) {
        fprintf(stderr, "# leak: %ld block(s) allocated through utils not freed\n", fake.live);
        ok = 0;
    }
    if (fake.bad_frees) {
        fprintf(stderr, "# %u free(s) of pointers not allocated through utils\n", fake.bad_frees);
        ok = 0;
    }
    fake_reset();
    return ok ? 0 : -1;
}
