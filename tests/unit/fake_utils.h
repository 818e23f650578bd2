/* A fake sasl_utils_t for the helpers in common/: only what they use.
 *
 * - malloc/calloc/realloc/free wrap libc's and keep a live-allocation
 *   counter (and the size of each block, so that free can tell whether the
 *   block was erased first); an allocation can be made to fail on purpose.
 * - getopt answers from a table set per test (SASL_FAIL when unset, as
 *   libsasl2's own getopt does).
 * - log and seterror record the last message.
 * - getcallback answers from a table: an entry with a proc gives SASL_OK,
 *   an entry with a NULL proc gives SASL_INTERACT (the application asks for
 *   prompts), and an id not in the table gives missing_cb_result, SASL_FAIL
 *   by default, which is what libsasl2's _sasl_getcallback returns.
 * - conn is a dummy non-NULL pointer.
 * - fake_canon_user and the checkpass member record their calls.
 *
 * There is one fake (the sasl allocation functions take no context). */
#ifndef SM_TEST_FAKE_UTILS_H
#define SM_TEST_FAKE_UTILS_H

#include <stddef.h>
#include <sasl/sasl.h>
#include <sasl/saslplug.h>

struct fake_opt {
    const char *name;  /* NULL ends the table */
    const char *value; /* may be NULL: getopt then says SASL_OK with no value */
};

struct fake_cb {
    unsigned long id; /* SASL_CB_LIST_END ends the table */
    sasl_callback_ft proc;
    void *context;
};

struct fake_canon_call {
    char in[256];
    unsigned len;
    unsigned flags;
};

#define FAKE_MAX_BLOCKS 256
#define FAKE_MAX_CANON 4

struct fake_state {
    sasl_utils_t utils;

    /* allocator */
    long live;                  /* blocks allocated and not yet freed */
    unsigned long allocs;       /* allocations attempted since fake_reset */
    unsigned long fail_at;      /* 0: never; n: the n-th allocation fails */
    unsigned bad_frees;         /* free() of a pointer we never handed out */
    unsigned frees;
    int last_free_zeroed;       /* the last block freed was all zeros */
    size_t last_free_size;

    /* getopt */
    const struct fake_opt *opts;
    unsigned getopt_calls;

    /* getcallback */
    const struct fake_cb *cbs;
    int missing_cb_result;

    /* log and seterror */
    unsigned log_count;
    int last_log_level;
    char last_log[1024];
    unsigned error_count;
    unsigned last_error_flags;
    char last_error[1024];

    /* canon_user */
    unsigned canon_calls;
    struct fake_canon_call canon[FAKE_MAX_CANON];
    unsigned canon_fail_call;   /* 0: none; n: the n-th call fails */
    int canon_fail_result;
    char canon_user[256], canon_authid[256];

    /* prop_erase, prop_clear: how many canon_user calls had been made when
     * each was last called (0: never called) */
    unsigned prop_erase_calls, prop_clear_calls;
    unsigned prop_clear_after_canon;
    /* each erase as "name@N " (N: canon_user calls made before it) */
    char prop_erase_log[256];
    char prop_requested[64];    /* the first name of the last prop_request */
    int prop_clear_requests;

    /* checkpass */
    unsigned checkpass_calls;
    int checkpass_result;
    char checkpass_user[256], checkpass_pass[256];
};

extern struct fake_state fake;

/* The byte fake malloc fills new blocks with. */
#define FAKE_FILL 0xa5

/* Forget everything (the live counter included) and set up the utils. */
void fake_reset(void);
/* The dummy connection the fake utils carry. */
sasl_conn_t *fake_conn(void);

int fake_canon_user(sasl_conn_t *conn, const char *in, unsigned len, unsigned flags,
                    sasl_out_params_t *oparams);

/* A cmocka setup / teardown pair: reset, then check that every block was
 * freed and nothing foreign was freed. */
int fake_setup(void **state);
int fake_teardown(void **state);

/* Shorthands for the test programs: the utils every helper under test takes,
 * and a cmocka test case run between fake_setup and fake_teardown (the
 * includer brings <cmocka.h>). */
#define U (&fake.utils)
#define T(f) cmocka_unit_test_setup_teardown(f, fake_setup, fake_teardown)

#endif
