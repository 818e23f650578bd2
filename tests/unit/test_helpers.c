/* Unit tests of the libsasl2-facing helpers in common/ (outbuf, memory,
 * oparams, plugin errors and results, password) against the fake
 * sasl_utils_t.  Options live in test_options.c, the client's credentials in
 * test_creds.c. */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <sasl/prop.h>

#include <sasl-mechs/memory.h>
#include <sasl-mechs/oparams.h>
#include <sasl-mechs/outbuf.h>
#include <sasl-mechs/password.h>
#include <sasl-mechs/plugin.h>
#include "fake_utils.h"

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
/* outbuf, memory                                                           */
/* ======================================================================== */

static void test_outbuf(void **state)
{
    struct sm_outbuf b = {NULL, 0, 0, 0};
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

    /* smaller: the same block, the old content (14 bytes and a NUL) erased;
     * the rest of the block was never written */
    assert_int_equal(sm_outbuf_reserve(U, &b, 3), SASL_OK);
    assert_ptr_equal(b.data, first);
    assert_int_equal(b.cap, cap);
    assert_int_equal(b.len, 0);
    assert_true(all_zero(b.data, 15));
    assert_int_equal((unsigned char)b.data[15], FAKE_FILL);

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
    struct sm_outbuf b = {NULL, 0, 0, 0};
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

/* The step runners: each step's handler in turn, its answer handed back,
 * and after the last one (or with libsasl2's NULL context) the refusal. */
struct two_steps {
    struct sm_server base;
    int seen;
};
struct two_steps_client {
    struct sm_client base;
    int seen;
};
static sm_step_handler step_second;
static int step_first(void *ctx, const struct sm_step_io *io)
{
    struct two_steps *t = ctx;

    t->seen |= 1;
    *io->out = "first";
    *io->outlen = 5;
    *io->next = step_second;
    return SASL_CONTINUE;
}
static int step_second(void *ctx, const struct sm_step_io *io)
{
    struct two_steps *t = ctx;

    assert_int_equal(io->inlen, 3);
    assert_memory_equal(io->in, "abc", 3);
    assert_ptr_equal(io->utils, U);
    t->seen |= 2;
    *io->next = NULL;
    return SASL_OK;
}
static int client_step_only(void *ctx, const struct sm_step_io *io)
{
    struct two_steps_client *t = ctx;

    assert_null(io->prompt_need);
    t->seen = 1;
    *io->next = NULL;
    return SASL_OK;
}

static void test_step_runners(void **state)
{
    static const struct sm_server_settings ok_settings;
    sasl_server_params_t sp = {.utils = U};
    sasl_client_params_t cp = {.utils = U};
    const char *out = "stale";
    unsigned outlen = 99;
    sasl_out_params_t oparams;
    void *ctx = NULL;
    struct two_steps *t;
    struct two_steps_client *c;

    (void)state;
    assert_int_equal(sm_server_new(&sp, &ok_settings, "TWO", step_first, sizeof(*t), &ctx), SASL_OK);
    t = ctx;
    assert_int_equal(sm_server_step(ctx, &sp, NULL, 0, &out, &outlen, &oparams), SASL_CONTINUE);
    assert_string_equal(out, "first");
    out = "stale";
    outlen = 99;
    assert_int_equal(sm_server_step(ctx, &sp, "abc", 3, &out, &outlen, &oparams), SASL_OK);
    assert_null(out);                 /* a step that answers nothing: no stale answer */
    assert_int_equal(outlen, 0);
    assert_int_equal(t->seen, 3);
    fake.error_count = 0;
    assert_int_equal(sm_server_step(ctx, &sp, "abc", 3, &out, &outlen, &oparams), SASL_BADPROT);
    assert_non_null(strstr(fake.last_error, "TWO: step called after the exchange ended"));
    assert_int_equal(t->seen, 3);     /* no handler ran */
    sm_server_dispose(ctx, U);
    /* libsasl2 calls step with NULL after disposing of a failed context */
    out = "stale";
    assert_int_equal(sm_server_step(NULL, &sp, "abc", 3, &out, &outlen, &oparams), SASL_BADPROT);
    assert_null(out);
    assert_string_equal(fake.last_error,
                        "a step called after the exchange ended (its context already disposed of)");

    ctx = NULL;
    assert_int_equal(sm_client_new(&cp, "ONE", client_step_only, sizeof(*c), &ctx), SASL_OK);
    c = ctx;
    assert_int_equal(sm_client_step(ctx, &cp, NULL, 0, NULL, &out, &outlen, &oparams), SASL_OK);
    assert_int_equal(c->seen, 1);
    assert_int_equal(sm_client_step(ctx, &cp, NULL, 0, NULL, &out, &outlen, &oparams),
                     SASL_BADPROT);
    assert_non_null(strstr(fake.last_error, "ONE: step called after the exchange ended"));
    sm_client_dispose(ctx, U);
    assert_int_equal(sm_client_step(NULL, &cp, NULL, 0, NULL, &out, &outlen, &oparams),
                     SASL_BADPROT);
    assert_int_equal(fake.live, 0);
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

/* The verdict of a server that checked a proof against a stored secret
 * (CRAM-MD5, NTLM): a temporary lookup error as it is, any other failure
 * as the one "authentication failed", success with the oparams done. */
static void test_secret_verdict(void **state)
{
    sasl_out_params_t op;
    char failed[sizeof(fake.last_error)];

    (void)state;
    memset(&op, 0, sizeof(op));
    assert_int_equal(sm_secret_verdict(U, "NTLM", SASL_OK, 0, &op), SASL_BADAUTH);
    assert_int_equal(fake.error_count, 1);
    assert_string_equal(fake.last_error, "NTLM: authentication failed");
    memcpy(failed, fake.last_error, sizeof(failed));
    assert_int_equal(sm_secret_verdict(U, "NTLM", SASL_NOUSER, 1, &op), SASL_BADAUTH);
    assert_string_equal(fake.last_error, failed);
    assert_int_equal(sm_secret_verdict(U, "NTLM", SASL_BADPARAM, 1, &op), SASL_BADAUTH);
    assert_int_equal(op.doneflag, 0);
    assert_int_equal(sm_secret_verdict(U, "NTLM", SASL_UNAVAIL, 1, &op), SASL_UNAVAIL);
    assert_int_equal(sm_secret_verdict(U, "NTLM", SASL_FAIL, 0, &op), SASL_FAIL);
    assert_int_equal(fake.error_count, 3);
    assert_int_equal(op.doneflag, 0);
    assert_int_equal(sm_secret_verdict(U, "NTLM", SASL_OK, 1, &op), SASL_OK);
    assert_int_equal(fake.error_count, 3);
    assert_int_equal(op.doneflag, 1);
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
/* sm_check_stored_secret: which value the mechanism's halves see, and the
 * verdict from their answers */
struct stored_check {
    int key_calls, found, proven;
    char seen[16];      /* the value the key half was given, "" for none */
};
static int stored_key(void *arg, const sasl_utils_t *utils, const struct propval *val,
                      unsigned char key[SM_SECRET_KEY_LEN])
{
    struct stored_check *t = arg;

    (void)utils;
    t->key_calls++;
    snprintf(t->seen, sizeof(t->seen), "%s", val->values ? val->values[0] : "");
    memset(key, 0x5a, SM_SECRET_KEY_LEN);
    return t->found;
}
static int stored_proves(void *arg, const unsigned char key[SM_SECRET_KEY_LEN])
{
    const struct stored_check *t = arg;

    return key[0] == 0x5a && t->proven;
}

static void test_check_stored_secret(void **state)
{
    sasl_out_params_t op;
    struct sm_step_io io = {.sparams = server_params(), .utils = U, .oparams = &op};
    struct stored_check t = {.found = 1, .proven = 1};
    char ok_text[sizeof(fake.last_error)];

    (void)state;
    memset(&op, 0, sizeof(op));
    /* the name is not NUL-terminated: canon_user gets its len bytes alone */
    assert_int_equal(sm_check_stored_secret(&t, &io, "CRAM-MD5", "timXYZ", 3, SASL_AUX_PASSWORD,
                                            stored_key, stored_proves), SASL_OK);
    assert_int_equal(op.doneflag, 1);
    assert_string_equal(fake.prop_requested, SASL_AUX_PASSWORD);
    assert_int_equal(fake.canon_calls, 1);
    assert_string_equal(fake.canon[0].in, "tim");
    assert_int_equal(fake.canon[0].flags, SASL_CU_AUTHID | SASL_CU_AUTHZID);
    assert_string_equal(t.seen, "value");
    assert_non_null(strstr(fake.prop_erase_log, SASL_AUX_PASSWORD "@1"));
    assert_int_equal(fake.live, 0);

    /* a wrong proof, and a right proof without a stored secret: the same
     * refusal, the key half asked each time */
    t.proven = 0;
    assert_int_equal(sm_check_stored_secret(&t, &io, "CRAM-MD5", "tim", 3, SASL_AUX_PASSWORD,
                                            stored_key, stored_proves), SASL_BADAUTH);
    memcpy(ok_text, fake.last_error, sizeof(ok_text));
    assert_non_null(strstr(ok_text, "CRAM-MD5: authentication failed"));
    t.proven = 1;
    t.found = 0;
    assert_int_equal(sm_check_stored_secret(&t, &io, "CRAM-MD5", "tim", 3, SASL_AUX_PASSWORD,
                                            stored_key, stored_proves), SASL_BADAUTH);
    assert_string_equal(fake.last_error, ok_text);
    assert_int_equal(t.key_calls, 3);

    /* a backend that is down: temporary, as it is; the key half still asked
     * (with no value), so that it costs what a known user costs */
    t.found = 1;
    fake.canon_calls = 0;
    fake.canon_fail_call = 1;
    fake.canon_fail_result = SASL_UNAVAIL;
    assert_int_equal(sm_check_stored_secret(&t, &io, "NTLM", "tim", 3, "*ntPassword",
                                            stored_key, stored_proves), SASL_UNAVAIL);
    assert_string_equal(t.seen, "");
    assert_int_equal(t.key_calls, 4);
    fake.canon_fail_call = 0;

    /* a name nobody could mean: refused as a wrong password, no lookup */
    fake.canon_calls = 0;
    assert_int_equal(sm_check_stored_secret(&t, &io, "NTLM", " tim", 4, "*ntPassword",
                                            stored_key, stored_proves), SASL_BADAUTH);
    assert_int_equal(fake.canon_calls, 0);
    assert_int_equal(t.key_calls, 4);
    assert_non_null(strstr(fake.last_error, "NTLM: authentication failed"));
}

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
    /* every value an earlier attempt left is erased before the first
     * lookup; then the values checkpass fetched for the authzid's
     * properties are erased before the authzid's own are fetched, the
     * authcid's ('*') kept (the fake's values are never dropped) */
    assert_int_equal(fake.checkpass_calls, 1);
    assert_string_equal(fake.prop_erase_log, SASL_AUX_PASSWORD "@0 mailHost@0 mailHost@1 ");
    assert_int_equal(fake.prop_clear_calls, 0);

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
        /* the authcid is the authzid: its properties are the ones asked
         * for; only an earlier attempt's values are erased */
        fake.prop_erase_log[0] = '\0';
        fake.canon_calls = 0;
        assert_int_equal(sm_check_password(server_params(), "PLAIN", &a, &op), SASL_OK);
        assert_string_equal(fake.prop_erase_log, SASL_AUX_PASSWORD "@0 mailHost@0 ");
    }
}

/* sm_props_begin and sm_props_forget_authzid on libsasl2's own property
 * context: values gone (and overwritten where they were), requests kept. */
static void set_values(struct propctx *ctx, const char **first_home)
{
    const char *names[] = {"home", NULL};
    struct propval v[1];

    assert_int_equal(prop_set(ctx, "userPassword", "alice-secret", 0), SASL_OK);
    assert_int_equal(prop_set(ctx, "home", "/home/alice", 0), SASL_OK);
    assert_int_equal(prop_set(ctx, "*home", "/home/alice", 0), SASL_OK);
    assert_int_equal(prop_getnames(ctx, names, v), 1);
    *first_home = v[0].values[0];
}

static void test_props(void **state)
{
    static const char *app[] = {"userPassword", "home", "*home", NULL};
    static const char *mech[] = {SASL_AUX_PASSWORD, NULL};
    struct propctx *ctx = prop_new(0);
    const struct propval *pv;
    const char *home;
    int n;

    (void)state;
    fake.utils.prop_get = prop_get;
    fake.utils.prop_erase = prop_erase;
    fake.utils.prop_request = prop_request;
    assert_non_null(ctx);
    assert_int_equal(prop_request(ctx, app), SASL_OK);
    set_values(ctx, &home);
    assert_int_equal(sm_props_begin(U, ctx, NULL), SASL_OK);
    for (n = 0, pv = prop_get(ctx); pv->name; pv++, n++)
        assert_null(pv->values);
    assert_int_equal(n, 3);
    assert_int_equal(home[0], '\0'); /* overwritten in place, not only dropped */
    /* the mechanism's own property joins the requests */
    set_values(ctx, &home);
    assert_int_equal(sm_props_begin(U, ctx, mech), SASL_OK);
    for (n = 0, pv = prop_get(ctx); pv->name; pv++, n++)
        assert_null(pv->values);
    assert_int_equal(n, 4);
    /* the authorization identity's values only */
    set_values(ctx, &home);
    sm_props_forget_authzid(U, ctx);
    for (pv = prop_get(ctx); pv->name; pv++)
        if (pv->name[0] == '*' && !strcmp(pv->name, "*home"))
            assert_string_equal(pv->values[0], "/home/alice");
        else
            assert_null(pv->values);
    prop_dispose(&ctx);
}

/* A name with white space at either end never reaches canon_user (libsasl2
 * 2.1.28 answers some such names with SASL_FAIL, read as "try again"): it
 * is refused as a wrong password would be, whichever identity it is. */
static void test_check_password_spaces(void **state)
{
    static const char *const names[] = {" ", "   ", " a", "a ", " a ", "\ta", "a\n", "\r",
                                        "a\v", "\fa"};
    sasl_out_params_t op;
    char wrong_text[sizeof(fake.last_error)];
    size_t i;

    (void)state;
    {
        const struct sm_password_attempt a = {.authcid = "tim", .authcid_len = 3,
            .password = "wrong", .password_len = 5};
        memset(&op, 0, sizeof(op));
        fake.checkpass_result = SASL_BADAUTH;
        assert_int_equal(sm_check_password(server_params(), "PLAIN", &a, &op), SASL_BADAUTH);
        memcpy(wrong_text, fake.last_error, sizeof(wrong_text));
        fake.checkpass_result = SASL_OK;
    }
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const struct sm_password_attempt as_authcid = {.authcid = names[i],
            .authcid_len = (unsigned)strlen(names[i]), .password = "tanstaaf", .password_len = 8};
        const struct sm_password_attempt as_authzid = {.authcid = "tim", .authcid_len = 3,
            .authzid = names[i], .authzid_len = (unsigned)strlen(names[i]),
            .password = "tanstaaf", .password_len = 8};

        memset(&op, 0, sizeof(op));
        fake.canon_calls = fake.checkpass_calls = 0;
        fake.last_error[0] = '\0';
        assert_int_equal(sm_check_password(server_params(), "PLAIN", &as_authcid, &op),
                         SASL_BADAUTH);
        assert_int_equal(fake.canon_calls, 0);
        assert_int_equal(fake.checkpass_calls, 0);
        assert_string_equal(fake.last_error, wrong_text);
        fake.last_error[0] = '\0';
        assert_int_equal(sm_check_password(server_params(), "PLAIN", &as_authzid, &op),
                         SASL_BADAUTH);
        assert_int_equal(fake.canon_calls, 0);
        assert_string_equal(fake.last_error, wrong_text);
        assert_int_equal(op.doneflag, 0);
    }
    /* white space inside a name is the application's business */
    {
        const struct sm_password_attempt inner = {.authcid = "john smith", .authcid_len = 10,
            .password = "tanstaaf", .password_len = 8};
        memset(&op, 0, sizeof(op));
        assert_int_equal(sm_check_password(server_params(), "PLAIN", &inner, &op), SASL_OK);
    }
}

/* What the server plugins refuse before libsasl2 sees a name. */
static void test_identity_acceptable(void **state)
{
    (void)state;
    assert_int_equal(sm_identity_acceptable("alice", 5), 1);
    assert_int_equal(sm_identity_acceptable("a", 1), 1);
    assert_int_equal(sm_identity_acceptable("john smith", 10), 1);
    assert_int_equal(sm_identity_acceptable("alice@example.org", 17), 1);
    assert_int_equal(sm_identity_acceptable("\xc3\xa9", 2), 1); /* UTF-8, not space */
    assert_int_equal(sm_identity_acceptable("\xa0x", 2), 1);    /* Latin-1 NBSP is no ASCII space */
    assert_int_equal(sm_identity_acceptable("", 0), 0);
    assert_int_equal(sm_identity_acceptable(" ", 1), 0);
    assert_int_equal(sm_identity_acceptable(" a", 2), 0);
    assert_int_equal(sm_identity_acceptable("a ", 2), 0);
    assert_int_equal(sm_identity_acceptable("\ta", 2), 0);
    assert_int_equal(sm_identity_acceptable("a\r", 2), 0);
    /* only len bytes count */
    assert_int_equal(sm_identity_acceptable("ab ", 2), 1);
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
    /* so is an NT hash in Dovecot's form (what NTLM will read) */
    {
        static const char nt[] = "{NTLM}a4f49c406510bdcab6824ee7c30fd852";
        const struct sm_password_attempt b = {.authcid = "tim", .authcid_len = 3,
            .password = nt, .password_len = sizeof(nt) - 1};
        assert_int_equal(sm_check_password(server_params(), "PLAIN", &b, &op), SASL_BADAUTH);
        assert_int_equal(fake.checkpass_calls, 0);
    }
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        T(test_outbuf),
        T(test_outbuf_nomem),
        T(test_strndup_free_secret),
        T(test_set_identities_authcid_only),
        T(test_set_identities_with_authzid),
        T(test_set_identities_failure),
        T(test_oparams_done),
        T(test_check_password_order),
        T(test_props),
        T(test_check_password_schedule),
        T(test_check_password_spaces),
        T(test_identity_acceptable),
        T(test_fail),
        T(test_too_many_steps),
        T(test_step_runners),
        T(test_auth_result),
        T(test_secret_verdict),
        T(test_check_password),
        T(test_check_stored_secret),
    };

    return cmocka_run_group_tests_name("helpers", tests, NULL, NULL);
}
