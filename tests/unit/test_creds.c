/* Unit tests of the client's credentials (common/prompt.c): sm_get_creds
 * through the application's callbacks and SASL_INTERACT prompts, and
 * sm_creds_dispose, against the fake sasl_utils_t. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <sasl-mechs/memory.h>
#include <sasl-mechs/prompt.h>
#include "fake_utils.h"

/* libsasl2 stores every callback as int (*)(void) */
#define CB(fn) ((sasl_callback_ft)(void (*)(void))(fn))

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

int main(void)
{
    static const struct CMUnitTest tests[] = {
        T(test_get_creds_callbacks),
        T(test_get_creds_only_wanted),
        T(test_get_creds_empty_authzid),
        T(test_get_creds_binary_password),
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
    };

    return cmocka_run_group_tests_name("creds", tests, NULL, NULL);
}
