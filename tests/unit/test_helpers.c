/* Unit tests of the libsasl2-facing helpers in common/ (options, outbuf,
 * memory, oparams, prompt, plugin, password) against a fake sasl_utils_t.
 * Every test runs between fake_setup and fake_teardown, and the teardown
 * fails the test when a block allocated through utils was not freed. */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sasl-mechs/memory.h>
#include <sasl-mechs/oparams.h>
#include <sasl-mechs/options.h>
#include <sasl-mechs/outbuf.h>
#include <sasl-mechs/password.h>
#include <sasl-mechs/plugin.h>
#include <sasl-mechs/prompt.h>
#include "fake_utils.h"

#define U (&fake.utils)
#define T(f) cmocka_unit_test_setup_teardown(f, fake_setup, fake_teardown)
/* libsasl2 stores every callback as int (*)(void) */
#define CB(fn) ((sasl_callback_ft)(void (*)(void))(fn))

static int all_zero(const void *p, size_t n)
{
    const unsigned char *q = p;
    size_t i;

    for (i = 0; i < n; i++)
        if (q[i])
            return 0;
    return 1;
}

/* ======================================================================== */
/* options                                                                  */
/* ======================================================================== */

static void test_opt_uint_unset(void **state)
{
    unsigned v = 12345;

    (void)state;
    assert_int_equal(sm_opt_uint(U, "plain_max_user_length", 255, 1, 4096, &v), SASL_OK);
    assert_int_equal(v, 255);
    assert_int_equal(fake.log_count, 0);
    assert_int_equal(fake.error_count, 0);
    assert_true(fake.getopt_calls >= 1);

    /* getopt says OK but gives no value: unset */
    {
        static const struct fake_opt opts[] = {{"x_n", NULL}, {NULL, NULL}};
        fake.opts = opts;
        assert_int_equal(sm_opt_uint(U, "x_n", 7, 1, 10, &v), SASL_OK);
        assert_int_equal(v, 7);
    }
    /* no getopt at all */
    fake.utils.getopt = NULL;
    assert_int_equal(sm_opt_uint(U, "x_n", 8, 1, 10, &v), SASL_OK);
    assert_int_equal(v, 8);
}

static void test_opt_uint_valid(void **state)
{
    static const struct {
        const char *value;
        unsigned expect;
    } ok[] = {
        {"42", 42}, {"1", 1}, {"100", 100}, {"007", 7}, {"0100", 100},
    };
    size_t i;
    unsigned v;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        const struct fake_opt opts[] = {{"test_n", ok[i].value}, {NULL, NULL}};
        fake.opts = opts;
        v = 0;
        if (sm_opt_uint(U, "test_n", 50, 1, 100, &v) != SASL_OK)
            fail_msg("\"%s\" refused: %s", ok[i].value, fake.last_log);
        assert_int_equal(v, ok[i].expect);
    }
    assert_int_equal(fake.log_count, 0);
    /* the whole unsigned range */
    {
        const struct fake_opt opts[] = {{"test_n", "4294967295"}, {NULL, NULL}};
        fake.opts = opts;
        assert_int_equal(sm_opt_uint(U, "test_n", 0, 0, UINT_MAX, &v), SASL_OK);
        assert_int_equal(v, UINT_MAX);
    }
}

static void test_opt_uint_invalid(void **state)
{
    static const char *const bad[] = {
        "0",       /* below min */
        "101",     /* above max */
        "abc",     /* not a number */
        "",        /* empty */
        "12abc",   /* trailing junk */
        "12 ",     /* trailing space */
        " 12",     /* leading space */
        "-1",      /* negative */
        "-0",      /* a sign */
        "+5",      /* a sign */
        "0x10",    /* hex */
        "1e2",     /* float */
        "5.0",     /* float */
        "99999999999999999999999", /* overflows unsigned long */
        "4294967296",              /* overflows unsigned */
        "18446744073709551617",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const struct fake_opt opts[] = {{"plain_max_user_length", bad[i]}, {NULL, NULL}};
        unsigned v = 12345;
        int r;

        fake.opts = opts;
        fake.log_count = fake.error_count = 0;
        fake.last_log[0] = fake.last_error[0] = '\0';
        r = sm_opt_uint(U, "plain_max_user_length", 50, 1, 100, &v);
        if (r != SASL_CONFIGERR)
            fail_msg("\"%s\" gave %d, expected SASL_CONFIGERR", bad[i], r);
        assert_int_equal(v, 50); /* the default, not garbage */
        assert_int_equal(fake.log_count, 1);
        assert_int_equal(fake.last_log_level, SASL_LOG_ERR);
        if (!strstr(fake.last_log, "plain_max_user_length"))
            fail_msg("the log line does not name the option: %s", fake.last_log);
        if (!strstr(fake.last_log, "1") || !strstr(fake.last_log, "100"))
            fail_msg("the log line does not give the range: %s", fake.last_log);
        assert_non_null(strstr(fake.last_error, "plain_max_user_length"));
    }
    /* with the whole unsigned range, overflow is still refused */
    {
        const struct fake_opt opts[] = {{"n", "4294967296"}, {NULL, NULL}};
        unsigned v;
        fake.opts = opts;
        assert_int_equal(sm_opt_uint(U, "n", 0, 0, UINT_MAX, &v), SASL_CONFIGERR);
    }
}

static void test_opt_bool(void **state)
{
    static const struct {
        const char *value;
        int expect;
    } ok[] = {
        {"yes", 1}, {"no", 0}, {"true", 1}, {"false", 0}, {"on", 1}, {"off", 0},
        {"1", 1}, {"0", 0}, {"YES", 1}, {"No", 0}, {"TRUE", 1}, {"Off", 0},
    };
    static const char *const bad[] = {"maybe", "", "2", "yes ", " no", "y", "n", "-1", "enable"};
    size_t i;
    int def, v;

    (void)state;
    for (def = 0; def <= 1; def++) {
        fake.log_count = 0;
        v = 99;
        assert_int_equal(sm_opt_bool(U, "plain_enable", def, &v), SASL_OK);
        assert_int_equal(v, def);
        for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
            const struct fake_opt opts[] = {{"plain_enable", ok[i].value}, {NULL, NULL}};
            fake.opts = opts;
            v = 99;
            if (sm_opt_bool(U, "plain_enable", def, &v) != SASL_OK)
                fail_msg("\"%s\" refused", ok[i].value);
            if (v != ok[i].expect)
                fail_msg("\"%s\" read as %d", ok[i].value, v);
        }
        assert_int_equal(fake.log_count, 0);
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            const struct fake_opt opts[] = {{"plain_enable", bad[i]}, {NULL, NULL}};
            fake.opts = opts;
            fake.last_log[0] = '\0';
            v = 99;
            if (sm_opt_bool(U, "plain_enable", def, &v) != SASL_CONFIGERR)
                fail_msg("\"%s\" accepted", bad[i]);
            assert_int_equal(v, def);
            assert_non_null(strstr(fake.last_log, "plain_enable"));
        }
        fake.opts = NULL;
    }
}

static void test_opt_choice(void **state)
{
    static const char *const choices[] = {"auto", "plain", "hmac-md5", NULL};
    static const struct fake_opt opts_plain[] = {{"crammd5_secret_format", "plain"}, {NULL, NULL}};
    static const struct fake_opt opts_upper[] = {{"crammd5_secret_format", "HMAC-MD5"},
                                                 {NULL, NULL}};
    static const struct fake_opt opts_first[] = {{"crammd5_secret_format", "auto"}, {NULL, NULL}};
    static const struct fake_opt opts_bad[] = {{"crammd5_secret_format", "md5"}, {NULL, NULL}};
    static const struct fake_opt opts_prefix[] = {{"crammd5_secret_format", "plai"}, {NULL, NULL}};
    static const struct fake_opt opts_empty[] = {{"crammd5_secret_format", ""}, {NULL, NULL}};
    unsigned v;

    (void)state;
    v = 99;
    assert_int_equal(sm_opt_choice(U, "crammd5_secret_format", choices, 0, &v), SASL_OK);
    assert_int_equal(v, 0);
    assert_int_equal(sm_opt_choice(U, "crammd5_secret_format", choices, 2, &v), SASL_OK);
    assert_int_equal(v, 2);
    fake.opts = opts_plain;
    assert_int_equal(sm_opt_choice(U, "crammd5_secret_format", choices, 0, &v), SASL_OK);
    assert_int_equal(v, 1);
    fake.opts = opts_upper;
    assert_int_equal(sm_opt_choice(U, "crammd5_secret_format", choices, 0, &v), SASL_OK);
    assert_int_equal(v, 2);
    fake.opts = opts_first;
    assert_int_equal(sm_opt_choice(U, "crammd5_secret_format", choices, 2, &v), SASL_OK);
    assert_int_equal(v, 0);
    assert_int_equal(fake.log_count, 0);

    fake.opts = opts_bad;
    v = 99;
    assert_int_equal(sm_opt_choice(U, "crammd5_secret_format", choices, 0, &v), SASL_CONFIGERR);
    assert_int_equal(v, 0);
    assert_int_equal(fake.log_count, 1);
    assert_non_null(strstr(fake.last_log, "crammd5_secret_format"));
    /* the accepted values are listed */
    assert_non_null(strstr(fake.last_log, "auto"));
    assert_non_null(strstr(fake.last_log, "plain"));
    assert_non_null(strstr(fake.last_log, "hmac-md5"));
    assert_non_null(strstr(fake.last_error, "crammd5_secret_format"));
    fake.opts = opts_prefix;
    assert_int_equal(sm_opt_choice(U, "crammd5_secret_format", choices, 0, &v), SASL_CONFIGERR);
    fake.opts = opts_empty;
    assert_int_equal(sm_opt_choice(U, "crammd5_secret_format", choices, 0, &v), SASL_CONFIGERR);
}

/* A long list of choices does not overflow the message buffer. */
static void test_opt_choice_long_list(void **state)
{
    static const char *const choices[] = {
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        "cccccccccccccccccccccccccccccccccccccccc", "dddddddddddddddddddddddddddddddddddddddd",
        "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "ffffffffffffffffffffffffffffffffffffffff",
        NULL};
    static const struct fake_opt opts[] = {{"x_choice", "zzz"}, {NULL, NULL}};
    unsigned v;

    (void)state;
    fake.opts = opts;
    assert_int_equal(sm_opt_choice(U, "x_choice", choices, 1, &v), SASL_CONFIGERR);
    assert_int_equal(v, 1);
    assert_non_null(strstr(fake.last_log, "x_choice"));
}

static void test_read_limits(void **state)
{
    struct sm_limits lim;

    (void)state;
    memset(&lim, 0xa5, sizeof(lim));
    assert_int_equal(sm_read_limits(U, "plain", &lim), SASL_OK);
    assert_int_equal(lim.max_user, SM_DEFAULT_MAX_USER);
    assert_int_equal(lim.max_password, SM_DEFAULT_MAX_PASSWORD);
    assert_int_equal(lim.max_user, 255);
    assert_int_equal(lim.max_password, 1024);

    {
        static const struct fake_opt opts[] = {
            {"plain_max_user_length", "64"},
            {"plain_max_password_length", "4096"},
            {"login_max_user_length", "7"},
            {NULL, NULL}};
        fake.opts = opts;
        assert_int_equal(sm_read_limits(U, "plain", &lim), SASL_OK);
        assert_int_equal(lim.max_user, 64);
        assert_int_equal(lim.max_password, 4096);
        /* another prefix reads its own options */
        assert_int_equal(sm_read_limits(U, "login", &lim), SASL_OK);
        assert_int_equal(lim.max_user, 7);
        assert_int_equal(lim.max_password, 1024);
        assert_int_equal(sm_read_limits(U, "crammd5", &lim), SASL_OK);
        assert_int_equal(lim.max_user, 255);
    }
    {
        static const struct fake_opt opts[] = {
            {"plain_max_user_length", "1000"}, {"plain_max_password_length", "65535"}, {NULL, NULL}};
        fake.opts = opts;
        assert_int_equal(sm_read_limits(U, "plain", &lim), SASL_OK);
        assert_int_equal(lim.max_user, 1000);
        assert_int_equal(lim.max_password, 65535);
    }
    assert_int_equal(fake.log_count, 0);
}

static void test_read_limits_invalid(void **state)
{
    static const struct {
        const char *user, *password, *named;
    } bad[] = {
        {"1001", NULL, "plain_max_user_length"},
        {"0", NULL, "plain_max_user_length"},
        {"lots", NULL, "plain_max_user_length"},
        {NULL, "65536", "plain_max_password_length"},
        {NULL, "0", "plain_max_password_length"},
        {"10", "-5", "plain_max_password_length"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct fake_opt opts[3];
        struct sm_limits lim;
        size_t n = 0;

        if (bad[i].user)
            opts[n++] = (struct fake_opt){"plain_max_user_length", bad[i].user};
        if (bad[i].password)
            opts[n++] = (struct fake_opt){"plain_max_password_length", bad[i].password};
        opts[n] = (struct fake_opt){NULL, NULL};
        fake.opts = opts;
        fake.last_log[0] = '\0';
        assert_int_equal(sm_read_limits(U, "plain", &lim), SASL_CONFIGERR);
        if (!strstr(fake.last_log, bad[i].named))
            fail_msg("row %zu: the log does not name %s: %s", i, bad[i].named, fake.last_log);
    }
}

/* ======================================================================== */
/* outbuf, memory                                                           */
/* ======================================================================== */

static void test_outbuf(void **state)
{
    struct sm_outbuf b = {NULL, 0, 0};
    char *first, big[300];
    unsigned cap, frees;

    (void)state;
    assert_int_equal(sm_outbuf_reserve(U, &b, 10), SASL_OK);
    assert_non_null(b.data);
    assert_true(b.cap >= 11);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.data[0], '\0');
    assert_int_equal(fake.live, 1);

    assert_int_equal(sm_outbuf_set(U, &b, "secretpassword", 14), SASL_OK);
    assert_int_equal(b.len, 14);
    assert_string_equal(b.data, "secretpassword");
    assert_int_equal(fake.live, 1);
    first = b.data;
    cap = b.cap;
    frees = fake.frees;

    /* smaller: the same block, the old content erased */
    assert_int_equal(sm_outbuf_reserve(U, &b, 3), SASL_OK);
    assert_ptr_equal(b.data, first);
    assert_int_equal(b.cap, cap);
    assert_int_equal(b.len, 0);
    assert_true(all_zero(b.data, b.cap));

    assert_int_equal(sm_outbuf_set(U, &b, "abc", 3), SASL_OK);
    assert_string_equal(b.data, "abc");
    assert_int_equal(b.len, 3);

    /* bigger than the first block (at least 128 bytes): a new block; the old
     * one was erased before it was freed */
    memset(big, 'x', sizeof(big));
    assert_int_equal(sm_outbuf_set(U, &b, big, sizeof(big)), SASL_OK);
    assert_int_equal(b.len, sizeof(big));
    assert_true(b.cap >= sizeof(big) + 1);
    assert_memory_equal(b.data, big, sizeof(big));
    assert_int_equal(b.data[sizeof(big)], '\0');
    assert_int_equal(fake.live, 1);
    assert_int_equal(fake.frees, frees + 1);
    assert_true(fake.last_free_zeroed);

    /* binary content, NUL-terminated after len */
    assert_int_equal(sm_outbuf_set(U, &b, "a\0b", 3), SASL_OK);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "a\0b\0", 4);

    /* empty */
    assert_int_equal(sm_outbuf_set(U, &b, "", 0), SASL_OK);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");

    /* dispose: erased and freed, and may be called twice */
    assert_int_equal(sm_outbuf_set(U, &b, "hunter2", 7), SASL_OK);
    sm_outbuf_dispose(U, &b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    assert_int_equal(fake.live, 0);
    assert_true(fake.last_free_zeroed);
    sm_outbuf_dispose(U, &b);
    assert_int_equal(fake.live, 0);
}

static void test_outbuf_nomem(void **state)
{
    struct sm_outbuf b = {NULL, 0, 0};
    char big[300];

    (void)state;
    memset(big, 'y', sizeof(big));
    assert_int_equal(sm_outbuf_reserve(U, &b, UINT_MAX), SASL_NOMEM);
    assert_null(b.data);

    fake.fail_at = fake.allocs + 1;
    assert_int_equal(sm_outbuf_set(U, &b, "abc", 3), SASL_NOMEM);
    assert_null(b.data);
    assert_int_equal(fake.live, 0);

    assert_int_equal(sm_outbuf_set(U, &b, "abc", 3), SASL_OK);
    /* growing fails: the old block is kept (erased) and still disposable */
    fake.fail_at = fake.allocs + 1;
    assert_int_equal(sm_outbuf_set(U, &b, big, sizeof(big)), SASL_NOMEM);
    assert_non_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(fake.live, 1);
    assert_int_equal(sm_outbuf_reserve(U, &b, UINT_MAX), SASL_NOMEM);
    sm_outbuf_dispose(U, &b);
    assert_int_equal(fake.live, 0);
}

static void test_strndup_free_secret(void **state)
{
    char *p;

    (void)state;
    p = sm_strndup(U, "hello world", 5);
    assert_non_null(p);
    assert_string_equal(p, "hello");
    assert_int_equal(fake.live, 1);
    sm_free_secret(U, p, (size_t)-1); /* strlen + 1 erased */
    assert_int_equal(fake.live, 0);
    assert_true(fake.last_free_zeroed);
    assert_int_equal(fake.last_free_size, 6);

    p = sm_strndup(U, "", 0);
    assert_non_null(p);
    assert_string_equal(p, "");
    sm_free_secret(U, p, 1);
    assert_int_equal(fake.live, 0);

    /* binary, embedded NUL kept */
    p = sm_strndup(U, "a\0b", 3);
    assert_non_null(p);
    assert_memory_equal(p, "a\0b\0", 4);
    sm_free_secret(U, p, 4);
    assert_true(fake.last_free_zeroed);

    /* an explicit length erases exactly that much */
    p = sm_strndup(U, "password", 8);
    assert_non_null(p);
    sm_free_secret(U, p, 9);
    assert_true(fake.last_free_zeroed);

    sm_free_secret(U, NULL, 10); /* nothing */
    sm_free_secret(U, NULL, (size_t)-1);
    assert_int_equal(fake.frees, 4);

    fake.fail_at = fake.allocs + 1;
    assert_null(sm_strndup(U, "abc", 3));
    assert_int_equal(fake.live, 0);
}

/* ======================================================================== */
/* oparams                                                                  */
/* ======================================================================== */

static void test_set_identities_authcid_only(void **state)
{
    sasl_out_params_t op;

    (void)state;
    memset(&op, 0, sizeof(op));
    assert_int_equal(sm_set_identities(U, fake_canon_user, "timXXX", 3, NULL, 0, &op), SASL_OK);
    assert_int_equal(fake.canon_calls, 1);
    assert_string_equal(fake.canon[0].in, "tim");
    assert_int_equal(fake.canon[0].len, 3);
    assert_int_equal(fake.canon[0].flags, SASL_CU_AUTHID | SASL_CU_AUTHZID);
    assert_string_equal(op.authid, "tim");
    assert_string_equal(op.user, "tim");

    /* an empty authzid means none, whether NULL or not */
    fake.canon_calls = 0;
    assert_int_equal(sm_set_identities(U, fake_canon_user, "tim", 3, "", 0, &op), SASL_OK);
    assert_int_equal(fake.canon_calls, 1);
    assert_int_equal(fake.canon[0].flags, SASL_CU_AUTHID | SASL_CU_AUTHZID);
    fake.canon_calls = 0;
    assert_int_equal(sm_set_identities(U, fake_canon_user, "tim", 3, "admin", 0, &op), SASL_OK);
    assert_int_equal(fake.canon_calls, 1);
    assert_int_equal(fake.canon[0].flags, SASL_CU_AUTHID | SASL_CU_AUTHZID);
}

static void test_set_identities_with_authzid(void **state)
{
    sasl_out_params_t op;

    (void)state;
    memset(&op, 0, sizeof(op));
    assert_int_equal(sm_set_identities(U, fake_canon_user, "tim", 3, "adminZZ", 5, &op), SASL_OK);
    assert_int_equal(fake.canon_calls, 2);
    /* the authzid first, then the authcid */
    assert_string_equal(fake.canon[0].in, "admin");
    assert_int_equal(fake.canon[0].len, 5);
    assert_int_equal(fake.canon[0].flags, SASL_CU_AUTHZID);
    assert_string_equal(fake.canon[1].in, "tim");
    assert_int_equal(fake.canon[1].flags, SASL_CU_AUTHID);
    assert_string_equal(op.user, "admin");
    assert_string_equal(op.authid, "tim");
}

static void test_set_identities_failure(void **state)
{
    sasl_out_params_t op;

    (void)state;
    memset(&op, 0, sizeof(op));
    fake.canon_fail_call = 1;
    fake.canon_fail_result = SASL_BADPROT;
    assert_int_equal(sm_set_identities(U, fake_canon_user, "tim", 3, "admin", 5, &op),
                     SASL_BADPROT);
    assert_int_equal(fake.canon_calls, 1); /* stops at the first failure */

    fake.canon_calls = 0;
    fake.canon_fail_call = 2;
    fake.canon_fail_result = SASL_NOUSER;
    assert_int_equal(sm_set_identities(U, fake_canon_user, "tim", 3, "admin", 5, &op),
                     SASL_NOUSER);
    assert_int_equal(fake.canon_calls, 2);

    fake.canon_calls = 0;
    fake.canon_fail_call = 1;
    assert_int_equal(sm_set_identities(U, fake_canon_user, "tim", 3, NULL, 0, &op), SASL_NOUSER);
}

static void test_oparams_done(void **state)
{
    sasl_out_params_t op;

    (void)state;
    memset(&op, 0xa5, sizeof(op));
    op.authid = "tim";
    op.user = "admin";
    op.alen = 3;
    op.ulen = 5;
    sm_oparams_done(&op);
    assert_int_equal(op.doneflag, 1);
    assert_int_equal(op.mech_ssf, 0);
    assert_int_equal(op.maxoutbuf, 0);
    assert_null(op.encode_context);
    assert_null(op.encode);
    assert_null(op.decode_context);
    assert_null(op.decode);
    assert_int_equal(op.param_version, 0);
    /* the identities are left alone */
    assert_string_equal(op.authid, "tim");
    assert_string_equal(op.user, "admin");
    assert_int_equal(op.alen, 3);
    assert_int_equal(op.ulen, 5);
}

/* ======================================================================== */
/* the client's credentials: callbacks and prompts                          */
/* ======================================================================== */

struct simple_ctx {
    const char *value;
    int rc;
    unsigned calls;
    int last_id;
};

static int cb_simple(void *context, int id, const char **result, unsigned *len)
{
    struct simple_ctx *c = context;

    c->calls++;
    c->last_id = id;
    if (c->rc != SASL_OK)
        return c->rc;
    *result = c->value;
    if (len)
        *len = c->value ? (unsigned)strlen(c->value) : 0;
    return SASL_OK;
}

struct pass_ctx {
    const char *value;
    size_t len;
    int rc;
    int give_null;
    unsigned calls;
    int last_id;
    sasl_conn_t *last_conn;
};

static union {
    sasl_secret_t s;
    unsigned char raw[sizeof(sasl_secret_t) + 256];
} secret_buf;

static int cb_pass(sasl_conn_t *conn, void *context, int id, sasl_secret_t **psecret)
{
    struct pass_ctx *c = context;

    c->calls++;
    c->last_id = id;
    c->last_conn = conn;
    if (c->rc != SASL_OK)
        return c->rc;
    if (c->give_null) {
        *psecret = NULL;
        return SASL_OK;
    }
    secret_buf.s.len = c->len;
    memcpy(secret_buf.s.data, c->value, c->len);
    secret_buf.s.data[c->len] = '\0';
    *psecret = &secret_buf.s;
    return SASL_OK;
}

static sasl_client_params_t cparams;

static sasl_client_params_t *client_params(void)
{
    memset(&cparams, 0, sizeof(cparams));
    cparams.utils = U;
    cparams.canon_user = fake_canon_user;
    return &cparams;
}

#define WANT_ALL (SM_WANT_AUTHNAME | SM_WANT_AUTHZID | SM_WANT_PASSWORD)

static void test_get_creds_callbacks(void **state)
{
    struct simple_ctx an = {"tim", SASL_OK, 0, 0}, us = {"admin", SASL_OK, 0, 0};
    struct pass_ctx pw = {"tanstaaf", 8, SASL_OK, 0, 0, 0, NULL};
    const struct fake_cb cbs[] = {
        {SASL_CB_AUTHNAME, CB(cb_simple), &an},
        {SASL_CB_USER, CB(cb_simple), &us},
        {SASL_CB_PASS, CB(cb_pass), &pw},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    sasl_interact_t *prompts = NULL;
    struct sm_creds c;

    (void)state;
    fake.cbs = cbs;
    memset(&c, 0, sizeof(c));
    assert_int_equal(sm_get_creds(client_params(), WANT_ALL, &prompts, &c), SASL_OK);
    assert_null(prompts);
    assert_string_equal(c.authname, "tim");
    assert_string_equal(c.authzid, "admin");
    assert_string_equal(c.password, "tanstaaf");
    assert_int_equal(c.password_len, 8);
    assert_int_equal(c.have, WANT_ALL);
    assert_int_equal(an.last_id, SASL_CB_AUTHNAME);
    assert_int_equal(us.last_id, SASL_CB_USER);
    assert_int_equal(pw.last_id, SASL_CB_PASS);
    assert_ptr_equal(pw.last_conn, fake_conn());
    /* the callbacks' own memory, used in place: nothing allocated or owned */
    assert_ptr_equal(c.authname, an.value);
    assert_ptr_equal(c.password, (char *)secret_buf.s.data);
    assert_int_equal(fake.live, 0);
    assert_int_equal(c.owned, 0);

    /* a second call with everything in hand asks nothing again */
    assert_int_equal(sm_get_creds(&cparams, WANT_ALL, &prompts, &c), SASL_OK);
    assert_int_equal(an.calls, 1);
    assert_int_equal(pw.calls, 1);

    sm_creds_dispose(U, &c);
    assert_int_equal(fake.live, 0);
    assert_null(c.authname);
    assert_null(c.authzid);
    assert_null(c.password);
    assert_int_equal(c.password_len, 0);
    assert_int_equal(c.have, 0);
}

static void test_get_creds_only_wanted(void **state)
{
    struct simple_ctx an = {"tim", SASL_OK, 0, 0}, us = {"admin", SASL_OK, 0, 0};
    struct pass_ctx pw = {"tanstaaf", 8, SASL_OK, 0, 0, 0, NULL};
    const struct fake_cb cbs[] = {
        {SASL_CB_AUTHNAME, CB(cb_simple), &an},
        {SASL_CB_USER, CB(cb_simple), &us},
        {SASL_CB_PASS, CB(cb_pass), &pw},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    struct sm_creds c;

    (void)state;
    fake.cbs = cbs;
    memset(&c, 0, sizeof(c));
    assert_int_equal(sm_get_creds(client_params(), SM_WANT_AUTHNAME | SM_WANT_PASSWORD, NULL, &c),
                     SASL_OK);
    assert_int_equal(us.calls, 0);
    assert_null(c.authzid);
    assert_string_equal(c.authname, "tim");
    sm_creds_dispose(U, &c);
}

static void test_get_creds_empty_authzid(void **state)
{
    struct simple_ctx an = {"tim", SASL_OK, 0, 0}, us = {"", SASL_OK, 0, 0};
    struct pass_ctx pw = {"pw", 2, SASL_OK, 0, 0, 0, NULL};
    const struct fake_cb cbs[] = {
        {SASL_CB_AUTHNAME, CB(cb_simple), &an},
        {SASL_CB_USER, CB(cb_simple), &us},
        {SASL_CB_PASS, CB(cb_pass), &pw},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    struct sm_creds c;

    (void)state;
    fake.cbs = cbs;
    memset(&c, 0, sizeof(c));
    assert_int_equal(sm_get_creds(client_params(), WANT_ALL, NULL, &c), SASL_OK);
    assert_null(c.authzid); /* empty means none */
    assert_true(c.have & SM_WANT_AUTHZID);
    us.value = NULL; /* a NULL answer, too */
    sm_creds_dispose(U, &c);
    assert_int_equal(sm_get_creds(&cparams, WANT_ALL, NULL, &c), SASL_OK);
    assert_null(c.authzid);
    sm_creds_dispose(U, &c);
}

/* The password is binary: its length comes from the secret, not strlen. */
static void test_get_creds_binary_password(void **state)
{
    struct simple_ctx an = {"tim", SASL_OK, 0, 0};
    struct pass_ctx pw = {"pa\0ss", 5, SASL_OK, 0, 0, 0, NULL};
    const struct fake_cb cbs[] = {
        {SASL_CB_AUTHNAME, CB(cb_simple), &an},
        {SASL_CB_PASS, CB(cb_pass), &pw},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    struct sm_creds c;

    (void)state;
    fake.cbs = cbs;
    memset(&c, 0, sizeof(c));
    assert_int_equal(sm_get_creds(client_params(), SM_WANT_AUTHNAME | SM_WANT_PASSWORD, NULL, &c),
                     SASL_OK);
    assert_int_equal(c.password_len, 5);
    assert_memory_equal(c.password, "pa\0ss", 5);
    /* the application's secret is used in place: dispose frees none of it */
    sm_creds_dispose(U, &c);
    assert_int_equal(fake.frees, 0);
    assert_int_equal(fake.live, 0);
}

/* The application has AUTHNAME and PASS callbacks and no SASL_CB_USER at all
 * (the usual case).  libsasl2's getcallback then returns SASL_FAIL ("Unable
 * to find a callback: 16385"), not SASL_INTERACT; an optional authzid must
 * still mean "none", as in Cyrus's own PLAIN (_plug_get_simple with
 * required = 0).  The fake's default for a missing id is libsasl2's. */
static void test_get_creds_no_user_callback(void **state)
{
    struct simple_ctx an = {"tim", SASL_OK, 0, 0};
    struct pass_ctx pw = {"tanstaaf", 8, SASL_OK, 0, 0, 0, NULL};
    const struct fake_cb cbs[] = {
        {SASL_CB_AUTHNAME, CB(cb_simple), &an},
        {SASL_CB_PASS, CB(cb_pass), &pw},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    sasl_interact_t *prompts = NULL;
    struct sm_creds c;
    int r;

    (void)state;
    fake.cbs = cbs;
    assert_int_equal(fake.missing_cb_result, SASL_FAIL);
    memset(&c, 0, sizeof(c));
    r = sm_get_creds(client_params(), WANT_ALL, &prompts, &c);
    if (r != SASL_OK) {
        sm_creds_dispose(U, &c);
        fail_msg("sm_get_creds returned %d (errdetail \"%s\") for an application without a "
                 "SASL_CB_USER callback; expected SASL_OK with no authzid",
                 r, fake.last_error);
    }
    assert_null(prompts);
    assert_null(c.authzid);
    assert_string_equal(c.authname, "tim");
    sm_creds_dispose(U, &c);
}

/* A required item the application neither supplies by callback nor lists
 * for interaction (libsasl2: SASL_FAIL) fails the step, with an errdetail;
 * so does a listed id whose proc is NULL but that getcallback calls SASL_OK. */
static void test_get_creds_required_missing(void **state)
{
    struct simple_ctx an = {"tim", SASL_OK, 0, 0};
    struct pass_ctx pw = {"tanstaaf", 8, SASL_OK, 0, 0, 0, NULL};
    const struct fake_cb no_authname[] = {
        {SASL_CB_PASS, CB(cb_pass), &pw},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    const struct fake_cb no_password[] = {
        {SASL_CB_AUTHNAME, CB(cb_simple), &an},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    sasl_interact_t *prompts = NULL;
    struct sm_creds c;

    (void)state;
    fake.cbs = no_authname;
    memset(&c, 0, sizeof(c));
    assert_int_equal(sm_get_creds(client_params(), WANT_ALL, &prompts, &c), SASL_FAIL);
    assert_null(prompts);
    assert_non_null(strstr(fake.last_error, "authentication name"));
    sm_creds_dispose(U, &c);

    fake.cbs = no_password;
    memset(&c, 0, sizeof(c));
    assert_int_equal(sm_get_creds(&cparams, WANT_ALL, &prompts, &c), SASL_FAIL);
    assert_null(prompts);
    assert_non_null(strstr(fake.last_error, "password"));
    assert_null(strstr(fake.last_error, "tanstaaf"));
    sm_creds_dispose(U, &c);
}

/* Check the prompt array: exactly the ids wanted, in order, then LIST_END. */
static void check_prompts(const sasl_interact_t *p, const unsigned long *ids, size_t n)
{
    size_t i;

    assert_non_null(p);
    for (i = 0; i < n; i++) {
        if (p[i].id != ids[i])
            fail_msg("prompt %zu has id 0x%lx, expected 0x%lx", i, p[i].id, ids[i]);
        assert_non_null(p[i].prompt);
        assert_true(strlen(p[i].prompt) > 0);
        assert_null(p[i].result);
    }
    assert_int_equal(p[n].id, SASL_CB_LIST_END);
}

static void test_get_creds_interact(void **state)
{
    /* the application lists the ids with no proc: it answers prompts */
    const struct fake_cb cbs[] = {
        {SASL_CB_AUTHNAME, NULL, NULL},
        {SASL_CB_USER, NULL, NULL},
        {SASL_CB_PASS, NULL, NULL},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    static const unsigned long ids[] = {SASL_CB_AUTHNAME, SASL_CB_USER, SASL_CB_PASS};
    char name[] = "tim", authz[] = "admin", pass[] = "tanstaaf";
    sasl_interact_t *prompts = NULL, *p;
    struct sm_creds c;

    (void)state;
    fake.cbs = cbs;
    memset(&c, 0, sizeof(c));
    assert_int_equal(sm_get_creds(client_params(), WANT_ALL, &prompts, &c), SASL_INTERACT);
    check_prompts(prompts, ids, 3);
    assert_int_equal(fake.live, 1); /* the prompt array */
    assert_int_equal(c.have, 0);

    for (p = prompts; p->id != SASL_CB_LIST_END; p++) {
        const char *v = p->id == SASL_CB_AUTHNAME ? name : p->id == SASL_CB_USER ? authz : pass;
        p->result = v;
        p->len = (unsigned)strlen(v);
    }
    assert_int_equal(sm_get_creds(&cparams, WANT_ALL, &prompts, &c), SASL_OK);
    assert_null(prompts); /* taken back and freed */
    assert_string_equal(c.authname, "tim");
    assert_string_equal(c.authzid, "admin");
    assert_string_equal(c.password, "tanstaaf");
    assert_int_equal(c.password_len, 8);
    assert_int_equal(c.have, WANT_ALL);
    /* copies: the application may free its answers */
    assert_ptr_not_equal(c.authname, name);
    assert_ptr_not_equal(c.password, pass);
    memset(pass, 0, sizeof(pass));
    assert_string_equal(c.password, "tanstaaf");
    assert_int_equal(fake.live, 3);
    sm_creds_dispose(U, &c);
}

/* The result's len bounds it (an answer need not be NUL-terminated). */
static void test_get_creds_interact_len(void **state)
{
    const struct fake_cb cbs[] = {
        {SASL_CB_AUTHNAME, NULL, NULL},
        {SASL_CB_PASS, NULL, NULL},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    static const unsigned long ids[] = {SASL_CB_AUTHNAME, SASL_CB_PASS};
    sasl_interact_t *prompts = NULL;
    struct sm_creds c;

    (void)state;
    fake.cbs = cbs;
    memset(&c, 0, sizeof(c));
    assert_int_equal(sm_get_creds(client_params(), SM_WANT_AUTHNAME | SM_WANT_PASSWORD, &prompts,
                                  &c), SASL_INTERACT);
    check_prompts(prompts, ids, 2);
    prompts[0].result = "timothy";
    prompts[0].len = 3;
    prompts[1].result = "password123";
    prompts[1].len = 8;
    assert_int_equal(sm_get_creds(&cparams, SM_WANT_AUTHNAME | SM_WANT_PASSWORD, &prompts, &c),
                     SASL_OK);
    assert_string_equal(c.authname, "tim");
    assert_string_equal(c.password, "password");
    assert_int_equal(c.password_len, 8);
    sm_creds_dispose(U, &c);
}

/* Callbacks for some items, prompts for the rest; the optional authzid is
 * prompted for only together with a required item. */
static void test_get_creds_mixed(void **state)
{
    struct simple_ctx an = {"tim", SASL_OK, 0, 0};
    const struct fake_cb cbs[] = {
        {SASL_CB_AUTHNAME, CB(cb_simple), &an},
        {SASL_CB_USER, NULL, NULL},
        {SASL_CB_PASS, NULL, NULL},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    static const unsigned long ids[] = {SASL_CB_USER, SASL_CB_PASS};
    sasl_interact_t *prompts = NULL;
    struct sm_creds c;

    (void)state;
    fake.cbs = cbs;
    memset(&c, 0, sizeof(c));
    assert_int_equal(sm_get_creds(client_params(), WANT_ALL, &prompts, &c), SASL_INTERACT);
    check_prompts(prompts, ids, 2);
    assert_true(c.have & SM_WANT_AUTHNAME);
    /* the application leaves the authzid unanswered: none */
    prompts[1].result = "tanstaaf";
    prompts[1].len = 8;
    assert_int_equal(sm_get_creds(&cparams, WANT_ALL, &prompts, &c), SASL_OK);
    assert_null(prompts);
    assert_null(c.authzid);
    assert_string_equal(c.authname, "tim");
    assert_string_equal(c.password, "tanstaaf");
    assert_int_equal(an.calls, 1);
    sm_creds_dispose(U, &c);
}

/* An application that lists SASL_CB_USER for interaction is asked for the
 * authzid even when everything else came from callbacks (as Cyrus's PLAIN
 * does); an unanswered authzid prompt means none. */
static void test_get_creds_authzid_prompted_alone(void **state)
{
    struct simple_ctx an = {"tim", SASL_OK, 0, 0};
    struct pass_ctx pw = {"tanstaaf", 8, SASL_OK, 0, 0, 0, NULL};
    const struct fake_cb cbs[] = {
        {SASL_CB_AUTHNAME, CB(cb_simple), &an},
        {SASL_CB_USER, NULL, NULL}, /* answered by a prompt */
        {SASL_CB_PASS, CB(cb_pass), &pw},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    static const unsigned long ids[] = {SASL_CB_USER};
    sasl_interact_t *prompts = NULL;
    struct sm_creds c;

    (void)state;
    fake.cbs = cbs;
    memset(&c, 0, sizeof(c));
    assert_int_equal(sm_get_creds(client_params(), WANT_ALL, &prompts, &c), SASL_INTERACT);
    check_prompts(prompts, ids, 1);
    prompts[0].result = "admin";
    prompts[0].len = 5;
    assert_int_equal(sm_get_creds(&cparams, WANT_ALL, &prompts, &c), SASL_OK);
    assert_null(prompts);
    assert_string_equal(c.authzid, "admin");
    assert_string_equal(c.authname, "tim");
    assert_string_equal(c.password, "tanstaaf");
    assert_int_equal(an.calls, 1);
    assert_int_equal(pw.calls, 1);
    sm_creds_dispose(U, &c);

    /* left unanswered: no authzid */
    memset(&c, 0, sizeof(c));
    assert_int_equal(sm_get_creds(&cparams, WANT_ALL, &prompts, &c), SASL_INTERACT);
    check_prompts(prompts, ids, 1);
    assert_int_equal(sm_get_creds(&cparams, WANT_ALL, &prompts, &c), SASL_OK);
    assert_null(prompts);
    assert_null(c.authzid);
    assert_true(c.have & SM_WANT_AUTHZID);
    sm_creds_dispose(U, &c);

    /* not wanted: not asked */
    memset(&c, 0, sizeof(c));
    assert_int_equal(sm_get_creds(&cparams, SM_WANT_AUTHNAME | SM_WANT_PASSWORD, &prompts, &c),
                     SASL_OK);
    assert_null(prompts);
    sm_creds_dispose(U, &c);
}

static void test_get_creds_null_result(void **state)
{
    const struct fake_cb cbs[] = {
        {SASL_CB_AUTHNAME, NULL, NULL},
        {SASL_CB_PASS, NULL, NULL},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    sasl_interact_t *prompts = NULL;
    struct sm_creds c;

    (void)state;
    fake.cbs = cbs;
    memset(&c, 0, sizeof(c));
    assert_int_equal(sm_get_creds(client_params(), SM_WANT_AUTHNAME | SM_WANT_PASSWORD, &prompts,
                                  &c), SASL_INTERACT);
    prompts[0].result = "tim";
    prompts[0].len = 3;
    /* prompts[1] (the password) left NULL */
    fake.error_count = 0;
    assert_int_equal(sm_get_creds(&cparams, SM_WANT_AUTHNAME | SM_WANT_PASSWORD, &prompts, &c),
                     SASL_BADPARAM);
    assert_null(prompts); /* freed all the same */
    assert_int_equal(fake.error_count, 1);
    assert_true(strlen(fake.last_error) > 0);
    sm_creds_dispose(U, &c);
}

static void test_get_creds_cannot_prompt(void **state)
{
    const struct fake_cb cbs[] = {
        {SASL_CB_AUTHNAME, NULL, NULL},
        {SASL_CB_PASS, NULL, NULL},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    struct sm_creds c;

    (void)state;
    fake.cbs = cbs;
    memset(&c, 0, sizeof(c));
    assert_int_equal(sm_get_creds(client_params(), SM_WANT_AUTHNAME | SM_WANT_PASSWORD, NULL, &c),
                     SASL_BADPARAM);
    assert_int_equal(fake.live, 0);
    sm_creds_dispose(U, &c);
}

static void test_get_creds_callback_errors(void **state)
{
    struct simple_ctx an = {"tim", SASL_OK, 0, 0};
    struct pass_ctx pw = {"tanstaaf", 8, SASL_OK, 0, 0, 0, NULL};
    const struct fake_cb cbs[] = {
        {SASL_CB_AUTHNAME, CB(cb_simple), &an},
        {SASL_CB_PASS, CB(cb_pass), &pw},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    const unsigned want = SM_WANT_AUTHNAME | SM_WANT_PASSWORD;
    sasl_interact_t *prompts = NULL;
    struct sm_creds c;

    (void)state;
    fake.cbs = cbs;

    /* the password callback hands back no secret */
    memset(&c, 0, sizeof(c));
    pw.give_null = 1;
    assert_int_equal(sm_get_creds(client_params(), want, &prompts, &c), SASL_BADPARAM);
    assert_null(prompts);
    sm_creds_dispose(U, &c);
    pw.give_null = 0;

    /* a callback's own error comes through */
    memset(&c, 0, sizeof(c));
    pw.rc = SASL_FAIL;
    assert_int_equal(sm_get_creds(&cparams, want, &prompts, &c), SASL_FAIL);
    sm_creds_dispose(U, &c);
    pw.rc = SASL_OK;
    memset(&c, 0, sizeof(c));
    an.rc = SASL_NOMEM;
    assert_int_equal(sm_get_creds(&cparams, want, &prompts, &c), SASL_NOMEM);
    sm_creds_dispose(U, &c);
    an.rc = SASL_OK;

    /* and out of memory for the prompt array */
    {
        const struct fake_cb icbs[] = {
            {SASL_CB_AUTHNAME, NULL, NULL}, {SASL_CB_PASS, NULL, NULL}, {SASL_CB_LIST_END, NULL, NULL}};
        fake.cbs = icbs;
        memset(&c, 0, sizeof(c));
        fake.fail_at = fake.allocs + 1;
        assert_int_equal(sm_get_creds(&cparams, want, &prompts, &c), SASL_NOMEM);
        assert_null(prompts);
        sm_creds_dispose(U, &c);
    }
}

static void test_creds_dispose(void **state)
{
    struct sm_creds c;

    (void)state;
    memset(&c, 0, sizeof(c));
    sm_creds_dispose(U, &c); /* empty: nothing to do */
    assert_int_equal(fake.frees, 0);

    c.authname = sm_strndup(U, "tim", 3);
    c.authzid = sm_strndup(U, "admin", 5);
    c.password = sm_strndup(U, "tanstaaf", 8);
    c.password_len = 8;
    c.have = WANT_ALL;
    c.owned = WANT_ALL;
    assert_int_equal(fake.live, 3);
    sm_creds_dispose(U, &c);
    assert_int_equal(fake.live, 0);
    /* the password is the last freed, erased first (9 bytes with the NUL) */
    assert_true(fake.last_free_zeroed);
    assert_int_equal(fake.last_free_size, 9);
    assert_null(c.authname);
    assert_null(c.password);
    assert_int_equal(c.have, 0);
}

/* ======================================================================== */
/* plugin.c: errors and results                                             */
/* ======================================================================== */

static void test_fail(void **state)
{
    (void)state;
    assert_int_equal(sm_fail(U, SASL_BADPROT, "PLAIN: %s (%d)", "malformed", 7), SASL_BADPROT);
    assert_string_equal(fake.last_error, "PLAIN: malformed (7)");
    assert_int_equal(fake.error_count, 1);
    /* a '%' in the message is not read again as a format */
    assert_int_equal(sm_fail(U, SASL_FAIL, "%s", "100%s done %n"), SASL_FAIL);
    assert_string_equal(fake.last_error, "100%s done %n");
    /* a long message is cut, not overflowed */
    {
        char big[600];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        assert_int_equal(sm_fail(U, SASL_BADAUTH, "%s", big), SASL_BADAUTH);
        assert_true(strlen(fake.last_error) < sizeof(big) - 1);
    }
}

static void test_too_many_steps(void **state)
{
    (void)state;
    assert_int_equal(sm_too_many_steps(U, "CRAM-MD5"), SASL_BADPROT);
    assert_non_null(strstr(fake.last_error, "CRAM-MD5"));
}

static void test_auth_result(void **state)
{
    char nouser[sizeof(fake.last_error)];

    (void)state;
    assert_int_equal(sm_auth_result(U, "PLAIN", SASL_OK), SASL_OK);
    assert_int_equal(fake.error_count, 0);

    assert_int_equal(sm_auth_result(U, "PLAIN", SASL_NOUSER), SASL_BADAUTH);
    assert_int_equal(fake.error_count, 1);
    memcpy(nouser, fake.last_error, sizeof(nouser));
    assert_non_null(strstr(nouser, "PLAIN"));

    assert_int_equal(sm_auth_result(U, "PLAIN", SASL_BADAUTH), SASL_BADAUTH);
    assert_int_equal(fake.error_count, 2);
    /* an unknown user and a wrong password read the same */
    assert_string_equal(fake.last_error, nouser);

    /* backend errors pass through */
    assert_int_equal(sm_auth_result(U, "PLAIN", SASL_FAIL), SASL_FAIL);
    assert_int_equal(sm_auth_result(U, "PLAIN", SASL_UNAVAIL), SASL_UNAVAIL);
    assert_int_equal(sm_auth_result(U, "PLAIN", SASL_TRYAGAIN), SASL_TRYAGAIN);
    assert_int_equal(sm_auth_result(U, "PLAIN", SASL_NOMEM), SASL_NOMEM);
}

static void test_plug_init(void **state)
{
    int version = -1, count = -1;

    (void)state;
    assert_int_equal(sm_plug_init(U, "plain", SASL_SERVER_PLUG_VERSION, SASL_SERVER_PLUG_VERSION,
                                  "server", &version, &count, 1), SASL_OK);
    assert_int_equal(version, SASL_SERVER_PLUG_VERSION);
    assert_int_equal(count, 1);

    assert_int_equal(sm_plug_init(U, "plain", SASL_SERVER_PLUG_VERSION - 1,
                                  SASL_SERVER_PLUG_VERSION, "server", &version, &count, 1),
                     SASL_BADVERS);
    assert_int_equal(fake.log_count, 1);

    {
        static const struct fake_opt off[] = {{"plain_enable", "no"}, {NULL, NULL}};
        fake.opts = off;
        count = -1;
        assert_int_equal(sm_plug_init(U, "plain", SASL_CLIENT_PLUG_VERSION,
                                      SASL_CLIENT_PLUG_VERSION, "client", &version, &count, 1),
                         SASL_OK);
        assert_int_equal(count, 0);
    }
    {
        static const struct fake_opt bad[] = {{"plain_enable", "sometimes"}, {NULL, NULL}};
        fake.opts = bad;
        assert_int_equal(sm_plug_init(U, "plain", SASL_CLIENT_PLUG_VERSION,
                                      SASL_CLIENT_PLUG_VERSION, "client", &version, &count, 1),
                         SASL_CONFIGERR);
        assert_non_null(strstr(fake.last_log, "plain_enable"));
    }
}

/* ======================================================================== */
/* password.c: the server half of PLAIN and LOGIN                           */
/* ======================================================================== */

static sasl_server_params_t sparams;

static sasl_server_params_t *server_params(void)
{
    memset(&sparams, 0, sizeof(sparams));
    sparams.utils = U;
    sparams.canon_user = fake_canon_user;
    return &sparams;
}

static void test_check_password(void **state)
{
    const struct sm_password_attempt a = {
        .authcid = "tim", .authcid_len = 3, .password = "tanstaaf", .password_len = 8};
    const struct sm_password_attempt az = {.authcid = "tim", .authcid_len = 3, .authzid = "admin",
        .authzid_len = 5, .password = "tanstaaf", .password_len = 8};
    sasl_out_params_t op;
    char ok_text[sizeof(fake.last_error)];

    (void)state;
    memset(&op, 0, sizeof(op));
    assert_int_equal(sm_check_password(server_params(), "PLAIN", &a, &op), SASL_OK);
    assert_int_equal(op.doneflag, 1);
    assert_int_equal(fake.checkpass_calls, 1);
    assert_string_equal(fake.checkpass_user, "tim");
    assert_string_equal(fake.checkpass_pass, "tanstaaf");

    memset(&op, 0, sizeof(op));
    fake.canon_calls = 0;
    assert_int_equal(sm_check_password(&sparams, "PLAIN", &az, &op), SASL_OK);
    assert_int_equal(fake.canon_calls, 2);
    assert_string_equal(op.user, "admin");
    assert_string_equal(fake.checkpass_user, "tim");

    /* wrong password and unknown user: the same code, the same words */
    memset(&op, 0, sizeof(op));
    fake.checkpass_result = SASL_BADAUTH;
    assert_int_equal(sm_check_password(&sparams, "PLAIN", &a, &op), SASL_BADAUTH);
    assert_int_equal(op.doneflag, 0);
    memcpy(ok_text, fake.last_error, sizeof(ok_text));
    fake.checkpass_result = SASL_NOUSER;
    assert_int_equal(sm_check_password(&sparams, "PLAIN", &a, &op), SASL_BADAUTH);
    assert_string_equal(fake.last_error, ok_text);
    assert_null(strstr(fake.last_error, "tanstaaf"));

    /* a backend that is down */
    fake.checkpass_result = SASL_UNAVAIL;
    assert_int_equal(sm_check_password(&sparams, "PLAIN", &a, &op), SASL_UNAVAIL);

    /* canon_user refusing the name */
    fake.checkpass_result = SASL_OK;
    fake.canon_calls = 0;
    fake.canon_fail_call = 1;
    fake.canon_fail_result = SASL_BADPROT;
    fake.checkpass_calls = 0;
    assert_int_equal(sm_check_password(&sparams, "LOGIN", &a, &op), SASL_BADAUTH);
    assert_int_equal(fake.checkpass_calls, 0);
    assert_non_null(strstr(fake.last_error, "LOGIN"));
    fake.canon_calls = 0;
    fake.canon_fail_result = SASL_NOMEM;
    assert_int_equal(sm_check_password(&sparams, "LOGIN", &a, &op), SASL_NOMEM);
    /* an auxprop that is down is a temporary failure, not a wrong password */
    fake.canon_calls = 0;
    fake.canon_fail_result = SASL_UNAVAIL;
    assert_int_equal(sm_check_password(&sparams, "LOGIN", &a, &op), SASL_UNAVAIL);
    fake.canon_fail_call = 0;
}

/* The authcid is canonicalised as externally verified (checkpass decides
 * whether the user exists), and the authzid only after the password check. */
static void test_check_password_order(void **state)
{
    const struct sm_password_attempt az = {.authcid = "tim", .authcid_len = 3, .authzid = "admin",
        .authzid_len = 5, .password = "tanstaaf", .password_len = 8};
    sasl_out_params_t op;

    (void)state;
    memset(&op, 0, sizeof(op));
    fake.canon_calls = 0;
    assert_int_equal(sm_check_password(server_params(), "PLAIN", &az, &op), SASL_OK);
    assert_int_equal(fake.canon_calls, 2);
    assert_int_equal(fake.canon[0].flags, SASL_CU_AUTHID | SASL_CU_EXTERNALLY_VERIFIED);
    assert_string_equal(fake.canon[1].in, "admin");
    assert_int_equal(fake.canon[1].flags, SASL_CU_AUTHZID);

    /* without an authzid, one call names the authcid as both */
    {
        const struct sm_password_attempt a = {
            .authcid = "tim", .authcid_len = 3, .password = "tanstaaf", .password_len = 8};
        memset(&op, 0, sizeof(op));
        fake.canon_calls = 0;
        assert_int_equal(sm_check_password(server_params(), "PLAIN", &a, &op), SASL_OK);
        assert_int_equal(fake.canon_calls, 1);
        assert_int_equal(fake.canon[0].flags,
                         SASL_CU_AUTHID | SASL_CU_AUTHZID | SASL_CU_EXTERNALLY_VERIFIED);
    }
}

/* A stored CRAM-MD5 key schedule typed as a password is refused before the
 * password check: with pwcheck_method auxprop it would match userPassword. */
static void test_check_password_schedule(void **state)
{
    static const char sched[] =
        "{CRAM-MD5}d06d4e1b7b1d1d4ab04c5cd1d7a3a2b8c4b3f43a4e5d6e7f8091a2b3c4d5116b";
    const struct sm_password_attempt a = {.authcid = "tim", .authcid_len = 3,
        .password = sched, .password_len = sizeof(sched) - 1};
    sasl_out_params_t op;
    char wrong_text[sizeof(fake.last_error)];

    (void)state;
    memset(&op, 0, sizeof(op));
    fake.checkpass_result = SASL_BADAUTH;
    assert_int_equal(sm_check_password(server_params(), "PLAIN", &a, &op), SASL_BADAUTH);
    memcpy(wrong_text, fake.last_error, sizeof(wrong_text));
    fake.checkpass_result = SASL_OK;
    fake.checkpass_calls = 0;
    assert_int_equal(sm_check_password(server_params(), "PLAIN", &a, &op), SASL_BADAUTH);
    assert_int_equal(fake.checkpass_calls, 0);
    assert_int_equal(op.doneflag, 0);
    assert_string_equal(fake.last_error, wrong_text);
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        T(test_opt_uint_unset),
        T(test_opt_uint_valid),
        T(test_opt_uint_invalid),
        T(test_opt_bool),
        T(test_opt_choice),
        T(test_opt_choice_long_list),
        T(test_read_limits),
        T(test_read_limits_invalid),
        T(test_outbuf),
        T(test_outbuf_nomem),
        T(test_strndup_free_secret),
        T(test_set_identities_authcid_only),
        T(test_set_identities_with_authzid),
        T(test_set_identities_failure),
        T(test_oparams_done),
        T(test_get_creds_callbacks),
        T(test_get_creds_only_wanted),
        T(test_get_creds_empty_authzid),
        T(test_get_creds_binary_password),
        T(test_check_password_order),
        T(test_check_password_schedule),
        T(test_get_creds_no_user_callback),
        T(test_get_creds_required_missing),
        T(test_get_creds_interact),
        T(test_get_creds_interact_len),
        T(test_get_creds_mixed),
        T(test_get_creds_authzid_prompted_alone),
        T(test_get_creds_null_result),
        T(test_get_creds_cannot_prompt),
        T(test_get_creds_callback_errors),
        T(test_creds_dispose),
        T(test_fail),
        T(test_too_many_steps),
        T(test_auth_result),
        T(test_plug_init),
        T(test_check_password),
    };

    return cmocka_run_group_tests_name("helpers", tests, NULL, NULL);
}
