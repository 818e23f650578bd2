/* Unit tests of the client's credentials (common/prompt.c): sm_get_creds
 * through the application's callbacks and SASL_INTERACT prompts, and
 * sm_creds_dispose, against the fake sasl_utils_t; and what the password
 * clients make of them (common/client_identity.c). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <sasl-mechs/client_identity.h>
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

#define WANT_ALL (SM_WANT_AUTHNAME | SM_WANT_AUTHZID | SM_WANT_PASSWORD)
#define WANT_REQUIRED (SM_WANT_AUTHNAME | SM_WANT_PASSWORD)

/* How the application supplies an item, for fixture_init: a string is what
 * its callback answers; PROMPT lists the id with no proc (getcallback says
 * SASL_INTERACT: the application answers prompts); ABSENT leaves the id out
 * of the table (getcallback says SASL_FAIL, as libsasl2's does). */
static const char prompt_marker;
#define PROMPT (&prompt_marker)
#define ABSENT NULL

/* One test's application and client: the callbacks' contexts, the table the
 * fake's getcallback answers from, the params, the prompts and the creds. */
struct fixture {
    struct simple_ctx an, us;
    struct pass_ctx pw;
    struct fake_cb cbs[4];
    sasl_client_params_t params;
    sasl_interact_t *prompts;
    struct sm_creds c;
};

/* The fixture (again) for an application with this authname, authzid and
 * password (its length the strlen), its table handed to the fake, no creds
 * and no prompts yet; it becomes the test's state, so that the teardown
 * disposes of its creds. */
static struct fixture *fixture_init(void **state, const char *authname, const char *authzid,
                                    const char *password)
{
    static struct fixture fixture;
    struct fixture *f = &fixture;
    const struct fake_cb items[] = {
        {SASL_CB_AUTHNAME, CB(cb_simple), &f->an},
        {SASL_CB_USER, CB(cb_simple), &f->us},
        {SASL_CB_PASS, CB(cb_pass), &f->pw},
    };
    const char *how[] = {authname, authzid, password};
    struct fake_cb *cb = f->cbs;
    size_t i;

    memset(f, 0, sizeof(*f));
    f->an.value = authname;
    f->us.value = authzid;
    f->pw.value = password;
    if (password != ABSENT && password != PROMPT)
        f->pw.len = strlen(password);
    for (i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
        if (how[i] == ABSENT)
            continue;
        cb->id = items[i].id;
        if (how[i] != PROMPT) {
            cb->proc = items[i].proc;
            cb->context = items[i].context;
        }
        cb++;
    }
    cb->id = SASL_CB_LIST_END;
    fake.cbs = f->cbs;
    f->params.utils = U;
    f->params.canon_user = fake_canon_user;
    *state = f;
    return f;
}

static int fixture_teardown(void **state)
{
    struct fixture *f = *state;

    if (f)
        sm_creds_dispose(U, &f->c);
    return fake_teardown(state);
}

/* A test case with the fixture (T, from fake_utils.h, is one without). */
#define TF(f) cmocka_unit_test_setup_teardown(f, fake_setup, fixture_teardown)

/* The creds hold all three items the fixture's first application gives. */
static void assert_all_three(const struct sm_creds *c)
{
    assert_string_equal(c->authname, "tim");
    assert_string_equal(c->authzid, "admin");
    assert_string_equal(c->password, "tanstaaf");
    assert_int_equal(c->password_len, 8);
    assert_int_equal(c->have, WANT_ALL);
}

static void test_get_creds_callbacks(void **state)
{
    struct fixture *f = fixture_init(state, "tim", "admin", "tanstaaf");

    assert_int_equal(sm_get_creds(&f->params, WANT_ALL, &f->prompts, &f->c), SASL_OK);
    assert_null(f->prompts);
    assert_all_three(&f->c);
    assert_int_equal(f->an.last_id, SASL_CB_AUTHNAME);
    assert_int_equal(f->us.last_id, SASL_CB_USER);
    assert_int_equal(f->pw.last_id, SASL_CB_PASS);
    assert_ptr_equal(f->pw.last_conn, fake_conn());
    /* the callbacks' own memory, used in place: nothing allocated or owned */
    assert_ptr_equal(f->c.authname, f->an.value);
    assert_ptr_equal(f->c.password, (char *)secret_buf.s.data);
    assert_int_equal(fake.live, 0);
    assert_int_equal(f->c.owned, 0);

    /* a second call with everything in hand asks nothing again */
    assert_int_equal(sm_get_creds(&f->params, WANT_ALL, &f->prompts, &f->c), SASL_OK);
    assert_int_equal(f->an.calls, 1);
    assert_int_equal(f->pw.calls, 1);

    sm_creds_dispose(U, &f->c);
    assert_int_equal(fake.live, 0);
    assert_null(f->c.authname);
    assert_null(f->c.authzid);
    assert_null(f->c.password);
    assert_int_equal(f->c.password_len, 0);
    assert_int_equal(f->c.have, 0);
}

static void test_get_creds_only_wanted(void **state)
{
    struct fixture *f = fixture_init(state, "tim", "admin", "tanstaaf");

    assert_int_equal(sm_get_creds(&f->params, WANT_REQUIRED, NULL, &f->c), SASL_OK);
    assert_int_equal(f->us.calls, 0);
    assert_null(f->c.authzid);
    assert_string_equal(f->c.authname, "tim");
}

static void test_get_creds_empty_authzid(void **state)
{
    struct fixture *f = fixture_init(state, "tim", "", "pw");

    assert_int_equal(sm_get_creds(&f->params, WANT_ALL, NULL, &f->c), SASL_OK);
    assert_null(f->c.authzid); /* empty means none */
    assert_true(f->c.have & SM_WANT_AUTHZID);
    f->us.value = NULL; /* a NULL answer, too */
    sm_creds_dispose(U, &f->c);
    assert_int_equal(sm_get_creds(&f->params, WANT_ALL, NULL, &f->c), SASL_OK);
    assert_null(f->c.authzid);
}

/* The password is binary: its length comes from the secret, not strlen. */
static void test_get_creds_binary_password(void **state)
{
    struct fixture *f = fixture_init(state, "tim", ABSENT, "pa\0ss");

    f->pw.len = 5; /* past the NUL */
    assert_int_equal(sm_get_creds(&f->params, WANT_REQUIRED, NULL, &f->c), SASL_OK);
    assert_int_equal(f->c.password_len, 5);
    assert_memory_equal(f->c.password, "pa\0ss", 5);
    /* the application's secret is used in place: dispose frees none of it */
    sm_creds_dispose(U, &f->c);
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
    struct fixture *f = fixture_init(state, "tim", ABSENT, "tanstaaf");
    int r;

    assert_int_equal(fake.missing_cb_result, SASL_FAIL);
    r = sm_get_creds(&f->params, WANT_ALL, &f->prompts, &f->c);
    if (r != SASL_OK) {
        sm_creds_dispose(U, &f->c);
        fail_msg("sm_get_creds returned %d (errdetail \"%s\") for an application without a "
                 "SASL_CB_USER callback; expected SASL_OK with no authzid",
                 r, fake.last_error);
    }
    assert_null(f->prompts);
    assert_null(f->c.authzid);
    assert_string_equal(f->c.authname, "tim");
}

/* A required item the application neither supplies by callback nor lists
 * for interaction (libsasl2: SASL_FAIL) fails the step, with an errdetail;
 * so does a listed id whose proc is NULL but that getcallback calls SASL_OK. */
static void test_get_creds_required_missing(void **state)
{
    struct fixture *f = fixture_init(state, ABSENT, ABSENT, "tanstaaf");

    assert_int_equal(sm_get_creds(&f->params, WANT_ALL, &f->prompts, &f->c), SASL_FAIL);
    assert_null(f->prompts);
    assert_non_null(strstr(fake.last_error, "authentication name"));
    sm_creds_dispose(U, &f->c);

    fixture_init(state, "tim", ABSENT, ABSENT);
    assert_int_equal(sm_get_creds(&f->params, WANT_ALL, &f->prompts, &f->c), SASL_FAIL);
    assert_null(f->prompts);
    assert_non_null(strstr(fake.last_error, "password"));
    assert_null(strstr(fake.last_error, "tanstaaf"));
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
    static const unsigned long ids[] = {SASL_CB_AUTHNAME, SASL_CB_USER, SASL_CB_PASS};
    char name[] = "tim", authz[] = "admin", pass[] = "tanstaaf";
    /* the application lists the ids with no proc: it answers prompts */
    struct fixture *f = fixture_init(state, PROMPT, PROMPT, PROMPT);
    sasl_interact_t *p;

    assert_int_equal(sm_get_creds(&f->params, WANT_ALL, &f->prompts, &f->c), SASL_INTERACT);
    check_prompts(f->prompts, ids, 3);
    assert_int_equal(fake.live, 1); /* the prompt array */
    assert_int_equal(f->c.have, 0);

    for (p = f->prompts; p->id != SASL_CB_LIST_END; p++) {
        const char *v = p->id == SASL_CB_AUTHNAME ? name : p->id == SASL_CB_USER ? authz : pass;
        p->result = v;
        p->len = (unsigned)strlen(v);
    }
    assert_int_equal(sm_get_creds(&f->params, WANT_ALL, &f->prompts, &f->c), SASL_OK);
    assert_null(f->prompts); /* taken back and freed */
    assert_all_three(&f->c);
    /* copies: the application may free its answers */
    assert_ptr_not_equal(f->c.authname, name);
    assert_ptr_not_equal(f->c.password, pass);
    memset(pass, 0, sizeof(pass));
    assert_string_equal(f->c.password, "tanstaaf");
    assert_int_equal(fake.live, 3);
}

/* The result's len bounds it (an answer need not be NUL-terminated). */
static void test_get_creds_interact_len(void **state)
{
    static const unsigned long ids[] = {SASL_CB_AUTHNAME, SASL_CB_PASS};
    struct fixture *f = fixture_init(state, PROMPT, ABSENT, PROMPT);

    assert_int_equal(sm_get_creds(&f->params, WANT_REQUIRED, &f->prompts, &f->c), SASL_INTERACT);
    check_prompts(f->prompts, ids, 2);
    f->prompts[0].result = "timothy";
    f->prompts[0].len = 3;
    f->prompts[1].result = "password123";
    f->prompts[1].len = 8;
    assert_int_equal(sm_get_creds(&f->params, WANT_REQUIRED, &f->prompts, &f->c), SASL_OK);
    assert_string_equal(f->c.authname, "tim");
    assert_string_equal(f->c.password, "password");
    assert_int_equal(f->c.password_len, 8);
}

/* Callbacks for some items, prompts for the rest; the optional authzid is
 * prompted for only together with a required item. */
static void test_get_creds_mixed(void **state)
{
    static const unsigned long ids[] = {SASL_CB_USER, SASL_CB_PASS};
    struct fixture *f = fixture_init(state, "tim", PROMPT, PROMPT);

    assert_int_equal(sm_get_creds(&f->params, WANT_ALL, &f->prompts, &f->c), SASL_INTERACT);
    check_prompts(f->prompts, ids, 2);
    assert_true(f->c.have & SM_WANT_AUTHNAME);
    /* the application leaves the authzid unanswered: none */
    f->prompts[1].result = "tanstaaf";
    f->prompts[1].len = 8;
    assert_int_equal(sm_get_creds(&f->params, WANT_ALL, &f->prompts, &f->c), SASL_OK);
    assert_null(f->prompts);
    assert_null(f->c.authzid);
    assert_string_equal(f->c.authname, "tim");
    assert_string_equal(f->c.password, "tanstaaf");
    assert_int_equal(f->an.calls, 1);
}

/* An application that lists SASL_CB_USER for interaction is asked for the
 * authzid even when everything else came from callbacks (as Cyrus's PLAIN
 * does); an unanswered authzid prompt means none. */
static void test_get_creds_authzid_prompted_alone(void **state)
{
    static const unsigned long ids[] = {SASL_CB_USER};
    struct fixture *f = fixture_init(state, "tim", PROMPT, "tanstaaf");
 /* the authzid answered by a prompt */
    assert_int_equal(sm_get_creds(&f->params, WANT_ALL, &f->prompts, &f->c), SASL_INTERACT);
    check_prompts(f->prompts, ids, 1);
    f->prompts[0].result = "admin";
    f->prompts[0].len = 5;
    assert_int_equal(sm_get_creds(&f->params, WANT_ALL, &f->prompts, &f->c), SASL_OK);
    assert_null(f->prompts);
    assert_string_equal(f->c.authzid, "admin");
    assert_string_equal(f->c.authname, "tim");
    assert_string_equal(f->c.password, "tanstaaf");
    assert_int_equal(f->an.calls, 1);
    assert_int_equal(f->pw.calls, 1);
    sm_creds_dispose(U, &f->c);

    /* left unanswered: no authzid */
    memset(&f->c, 0, sizeof(f->c));
    assert_int_equal(sm_get_creds(&f->params, WANT_ALL, &f->prompts, &f->c), SASL_INTERACT);
    check_prompts(f->prompts, ids, 1);
    assert_int_equal(sm_get_creds(&f->params, WANT_ALL, &f->prompts, &f->c), SASL_OK);
    assert_null(f->prompts);
    assert_null(f->c.authzid);
    assert_true(f->c.have & SM_WANT_AUTHZID);
    sm_creds_dispose(U, &f->c);

    /* not wanted: not asked */
    memset(&f->c, 0, sizeof(f->c));
    assert_int_equal(sm_get_creds(&f->params, WANT_REQUIRED, &f->prompts, &f->c), SASL_OK);
    assert_null(f->prompts);
}

static void test_get_creds_null_result(void **state)
{
    struct fixture *f = fixture_init(state, PROMPT, ABSENT, PROMPT);

    assert_int_equal(sm_get_creds(&f->params, WANT_REQUIRED, &f->prompts, &f->c), SASL_INTERACT);
    f->prompts[0].result = "tim";
    f->prompts[0].len = 3;
    /* prompts[1] (the password) left NULL */
    fake.error_count = 0;
    assert_int_equal(sm_get_creds(&f->params, WANT_REQUIRED, &f->prompts, &f->c), SASL_BADPARAM);
    assert_null(f->prompts); /* freed all the same */
    assert_int_equal(fake.error_count, 1);
    assert_true(strlen(fake.last_error) > 0);
}

static void test_get_creds_cannot_prompt(void **state)
{
    struct fixture *f = fixture_init(state, PROMPT, ABSENT, PROMPT);

    assert_int_equal(sm_get_creds(&f->params, WANT_REQUIRED, NULL, &f->c), SASL_BADPARAM);
    assert_int_equal(fake.live, 0);
}

static void test_get_creds_callback_errors(void **state)
{
    struct fixture *f = fixture_init(state, "tim", ABSENT, "tanstaaf");

    /* the password callback hands back no secret */
    f->pw.give_null = 1;
    assert_int_equal(sm_get_creds(&f->params, WANT_REQUIRED, &f->prompts, &f->c), SASL_BADPARAM);
    assert_null(f->prompts);
    sm_creds_dispose(U, &f->c);
    f->pw.give_null = 0;

    /* a callback's own error comes through */
    memset(&f->c, 0, sizeof(f->c));
    f->pw.rc = SASL_FAIL;
    assert_int_equal(sm_get_creds(&f->params, WANT_REQUIRED, &f->prompts, &f->c), SASL_FAIL);
    sm_creds_dispose(U, &f->c);
    f->pw.rc = SASL_OK;
    memset(&f->c, 0, sizeof(f->c));
    f->an.rc = SASL_NOMEM;
    assert_int_equal(sm_get_creds(&f->params, WANT_REQUIRED, &f->prompts, &f->c), SASL_NOMEM);
    sm_creds_dispose(U, &f->c);
    f->an.rc = SASL_OK;

    /* and out of memory for the prompt array */
    fixture_init(state, PROMPT, ABSENT, PROMPT);
    fake.fail_at = fake.allocs + 1;
    assert_int_equal(sm_get_creds(&f->params, WANT_REQUIRED, &f->prompts, &f->c), SASL_NOMEM);
    assert_null(f->prompts);
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

/* sm_client_identities for the fixture's application, as the client of
 * mech: its result, with the client's creds disposed of */
static int identities(struct fixture *f, const char *mech, unsigned want, unsigned checks,
                      sasl_out_params_t *oparams)
{
    struct sm_client c = {.mech = mech};
    const struct sm_step_io io = {.cparams = &f->params, .utils = U,
                                    .prompt_need = &f->prompts, .oparams = oparams};
    int r = sm_client_identities(&c, &io, want, checks);

    sm_creds_dispose(U, &c.creds);
    return r;
}

static void test_identities_canonicalised(void **state)
{
    struct fixture *f = fixture_init(state, "tim", "admin", "tanstaaf");
    sasl_out_params_t o = {0};

    assert_int_equal(identities(f, "PLAIN", WANT_ALL, SM_PASSWORD_SENT, &o), SASL_OK);
    assert_int_equal(fake.canon_calls, 2);
    assert_string_equal(o.authid, "tim");
    assert_string_equal(o.user, "admin");
    /* without an authzid the name is canonicalised once, as both */
    f = fixture_init(state, "tim", "admin", "tanstaaf");
    fake.canon_calls = 0;
    memset(&o, 0, sizeof(o));
    assert_int_equal(identities(f, "LOGIN", WANT_REQUIRED, SM_PASSWORD_SENT, &o), SASL_OK);
    assert_int_equal(fake.canon_calls, 1);
    assert_int_equal(o.alen, 3);
}

/* what the mechanism could not send, refused before canon_user, named by it */
static void test_identities_refused(void **state)
{
    static const struct {
        const char *user, *password;
        unsigned checks;
        const char *error; /* NULL: accepted */
    } rows[] = {
        {"", "tanstaaf", SM_PASSWORD_SENT, "MECH: empty user name"},
        {"", "tanstaaf", 0, "MECH: empty user name"},
        {"", "", SM_PASSWORD_SENT, "MECH: empty user name"},
        {"tim", "", SM_PASSWORD_SENT, "MECH: empty password"},
        {"tim", "", 0, NULL},
        {"tim", "tans\0taaf", SM_PASSWORD_SENT, "MECH: the password contains a NUL byte"},
        {"tim", "tans\0taaf", 0, NULL},
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct fixture *f = fixture_init(state, rows[i].user, ABSENT, rows[i].password);
        sasl_out_params_t o = {0};
        int r;

        f->pw.len = i >= 5 ? 9 : strlen(rows[i].password);
        fake.canon_calls = 0;
        r = identities(f, "MECH", WANT_REQUIRED, rows[i].checks, &o);
        if (!rows[i].error) {
            assert_int_equal(r, SASL_OK);
            continue;
        }
        assert_int_equal(r, SASL_BADPARAM);
        assert_string_equal(fake.last_error, rows[i].error);
        assert_int_equal(fake.canon_calls, 0);
    }
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        TF(test_get_creds_callbacks),
        TF(test_get_creds_only_wanted),
        TF(test_get_creds_empty_authzid),
        TF(test_get_creds_binary_password),
        TF(test_get_creds_no_user_callback),
        TF(test_get_creds_required_missing),
        TF(test_get_creds_interact),
        TF(test_get_creds_interact_len),
        TF(test_get_creds_mixed),
        TF(test_get_creds_authzid_prompted_alone),
        TF(test_get_creds_null_result),
        TF(test_get_creds_cannot_prompt),
        TF(test_get_creds_callback_errors),
        T(test_creds_dispose),
        TF(test_identities_canonicalised),
        TF(test_identities_refused),
    };

    return cmocka_run_group_tests_name("creds", tests, NULL, NULL);
}
