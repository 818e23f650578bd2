/* Unit tests of reading options through libsasl2's getopt (common/options.c)
 * and of the <mech>_enable option and version check at plugin load
 * (sm_plug_init), against the fake sasl_utils_t. */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <sasl-mechs/options.h>
#include <sasl-mechs/plugin.h>
#include "fake_utils.h"

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
    assert_int_equal(sm_read_limits(U, "plain", 1, 1, &lim), SASL_OK);
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
        assert_int_equal(sm_read_limits(U, "plain", 1, 1, &lim), SASL_OK);
        assert_int_equal(lim.max_user, 64);
        assert_int_equal(lim.max_password, 4096);
        /* another prefix reads its own options */
        assert_int_equal(sm_read_limits(U, "login", 1, 1, &lim), SASL_OK);
        assert_int_equal(lim.max_user, 7);
        assert_int_equal(lim.max_password, 1024);
        assert_int_equal(sm_read_limits(U, "crammd5", 1, 0, &lim), SASL_OK);
        assert_int_equal(lim.max_user, 255);
    }
    {
        /* an option of a size the mechanism does not receive is not read */
        static const struct fake_opt opts[] = {
            {"crammd5_max_user_length", "9"}, {"crammd5_max_password_length", "bogus"},
            {NULL, NULL}};
        fake.opts = opts;
        assert_int_equal(sm_read_limits(U, "crammd5", 1, 0, &lim), SASL_OK);
        assert_int_equal(lim.max_user, 9);
        assert_int_equal(lim.max_password, SM_DEFAULT_MAX_PASSWORD);
    }
    {
        static const struct fake_opt opts[] = {
            {"plain_max_user_length", "1000"}, {"plain_max_password_length", "65535"}, {NULL, NULL}};
        fake.opts = opts;
        assert_int_equal(sm_read_limits(U, "plain", 1, 1, &lim), SASL_OK);
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
        assert_int_equal(sm_read_limits(U, "plain", 1, 1, &lim), SASL_CONFIGERR);
        if (!strstr(fake.last_log, bad[i].named))
            fail_msg("row %zu: the log does not name %s: %s", i, bad[i].named, fake.last_log);
    }
}

/* While a plugin loads (no connection) a refused value is kept as one
 * sentence naming the option, the value and what was expected, for the
 * errdetail of every later exchange; on a connection it is that
 * connection's errdetail and the kept sentence does not change. */
static void test_load_error(void **state)
{
    static const struct fake_opt opts[] = {
        {"plain_max_user_length", "0\001x"}, {"crammd5_secret_format", "md5"},
        {"x_long", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
        {"x_text", "a\tb"}, {NULL, NULL}};
    static const char *const formats[] = {"auto", "plain", "hmac-md5", NULL};
    static const char *const two[] = {"jwt", "introspection", NULL};
    struct sm_opt_refusals kept = {.count = 7};
    unsigned v;
    char text[64];

    (void)state;
    fake.opts = opts;
    fake.utils.conn = NULL;
    /* kept nowhere: only logged */
    assert_int_equal(sm_opt_uint(U, "plain_max_user_length", 255, 1, 1000, &v), SASL_CONFIGERR);
    assert_non_null(strstr(fake.last_log, "plain_max_user_length"));
    sm_opt_keep_refusals(&kept);
    assert_int_equal(kept.count, 0);
    assert_string_equal(kept.reasons, "");
    assert_string_equal(sm_opt_refusals_last(&kept), "");
    assert_int_equal(sm_opt_uint(U, "plain_max_user_length", 255, 1, 1000, &v), SASL_CONFIGERR);
    assert_string_equal(sm_opt_refusals_last(&kept),
                        "plain_max_user_length: \"0?x\" is not a number from 1 to 1000");
    assert_string_equal(kept.option, "plain_max_user_length");
    assert_int_equal(kept.count, 1);
    assert_non_null(strstr(fake.last_log, sm_opt_refusals_last(&kept)));
    assert_int_equal(fake.error_count, 0); /* no connection to set it on */
    assert_int_equal(sm_opt_choice(U, "crammd5_secret_format", formats, 0, &v), SASL_CONFIGERR);
    assert_string_equal(sm_opt_refusals_last(&kept),
                        "crammd5_secret_format: \"md5\" is not one of auto, plain or hmac-md5");
    assert_int_equal(sm_opt_choice(U, "x_long", two, 0, &v), SASL_CONFIGERR);
    /* the value is cut at 64 bytes; two choices read "a or b" */
    assert_non_null(strstr(sm_opt_refusals_last(&kept), "aaaa...\" is not jwt or introspection"));
    assert_int_equal(sm_opt_string(U, "x_text", text, sizeof(text)), SASL_CONFIGERR);
    assert_string_equal(sm_opt_refusals_last(&kept),
                        "x_text: the value holds a control character (byte 2)");
    assert_int_equal(sm_opt_refuse(U, "x_a", "x_a needs %s", "x_b"), SASL_CONFIGERR);
    assert_string_equal(sm_opt_refusals_last(&kept), "x_a needs x_b");
    assert_string_equal(kept.option, "x_a");
    assert_int_equal(kept.count, 5);
    /* every one kept, in order */
    assert_int_equal(kept.kept, 5);
    assert_ptr_equal(strstr(kept.reasons, "plain_max_user_length: \"0?x\" is not a number from 1 "
                                          "to 1000; crammd5_secret_format: "), kept.reasons);
    assert_non_null(strstr(kept.reasons, "(byte 2); x_a needs x_b"));

    /* on a connection: that connection's errdetail, the kept one unchanged */
    fake.utils.conn = fake_conn();
    assert_int_equal(sm_opt_uint(U, "plain_max_user_length", 255, 1, 1000, &v), SASL_CONFIGERR);
    assert_int_equal(fake.error_count, 1);
    assert_string_equal(fake.last_error,
                        "plain_max_user_length: \"0?x\" is not a number from 1 to 1000");
    assert_string_equal(sm_opt_refusals_last(&kept), "x_a needs x_b");
    assert_int_equal(kept.count, 5);
    /* after the load: nothing more is kept */
    sm_opt_keep_refusals(NULL);
    fake.utils.conn = NULL;
    assert_int_equal(sm_opt_refuse(U, "x_c", "x_c is wrong"), SASL_CONFIGERR);
    assert_string_equal(sm_opt_refusals_last(&kept), "x_a needs x_b");
    assert_int_equal(kept.count, 5);
}

/* More refusals than the errdetail can carry: as many sentences as fit, in
 * order, and the errdetail says that the log names the others. */
static void test_many_refusals(void **state)
{
    struct sm_server_settings set;
    sasl_server_params_t sp = {.utils = U};
    char longname[220];
    void *ctx = NULL;
    int i;

    (void)state;
    memset(&set, 0, sizeof(set));
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    fake.utils.conn = NULL;
    sm_opt_keep_refusals(&set.refused);
    for (i = 0; i < 6; i++)
        assert_int_equal(sm_opt_refuse(U, "x_many", "x_many: refusal %d of %s", i, longname),
                         SASL_CONFIGERR);
    sm_opt_keep_refusals(NULL);
    set.status = SASL_CONFIGERR;
    assert_int_equal(set.refused.count, 6);
    assert_int_equal(set.refused.kept, 2);
    assert_non_null(strstr(set.refused.reasons, "refusal 0 of"));
    assert_non_null(strstr(set.refused.reasons, "refusal 1 of"));
    assert_null(strstr(set.refused.reasons, "refusal 2 of"));
    assert_ptr_equal(strstr(sm_opt_refusals_last(&set.refused), "x_many: refusal 1 of"),
                     sm_opt_refusals_last(&set.refused));
    fake.utils.conn = fake_conn();
    assert_int_equal(sm_server_new(&sp, &set, "MANY", NULL, sizeof(struct sm_server), &ctx), SASL_CONFIGERR);
    assert_null(ctx);
    assert_non_null(strstr(fake.last_error, "MANY: x_many: refusal 0 of nnn"));
    assert_non_null(strstr(fake.last_error, "refusal 1 of"));
    /* the whole note: nothing was cut */
    assert_non_null(strstr(fake.last_error, "nnn (more were refused: the plugin's load log "
                                            "names them)"));
}

/* ======================================================================== */
/* plugin.c: loading                                                        */
/* ======================================================================== */

static int extra_calls;
static int extra_options(const sasl_utils_t *utils)
{
    unsigned v;

    extra_calls++;
    return sm_opt_uint(utils, "plain_extra", 1, 1, 9, &v);
}

static sasl_server_plug_t fake_server[1];
static sasl_client_plug_t fake_client[2];
static struct sm_server_settings fake_settings;
static const struct sm_plugin fake_plugin = {
    .prefix = "plain", .mech = "PLAIN",
    .server = fake_server, .server_count = 1,
    .client = fake_client, .client_count = 2,
    .settings = &fake_settings,
    .limits = SM_LIMIT_USER,
    .read_options = extra_options,
};

static void test_plug_init(void **state)
{
    int version = -1, count = -1;
    sasl_server_plug_t *slist = NULL;
    sasl_client_plug_t *clist = NULL;

    (void)state;
    extra_calls = 0;
    fake_settings.status = -99;
    assert_int_equal(sm_server_plug_init(&fake_plugin, U, SASL_SERVER_PLUG_VERSION, &version,
                                         &slist, &count), SASL_OK);
    assert_int_equal(version, SASL_SERVER_PLUG_VERSION);
    assert_int_equal(count, 1);
    assert_ptr_equal(slist, fake_server);
    /* the server's settings are read at load, the mechanism's own options too */
    assert_int_equal(fake_settings.status, SASL_OK);
    assert_int_equal(fake_settings.lim.max_user, SM_DEFAULT_MAX_USER);
    assert_int_equal(extra_calls, 1);

    assert_int_equal(sm_client_plug_init(&fake_plugin, U, SASL_CLIENT_PLUG_VERSION, &version,
                                         &clist, &count), SASL_OK);
    assert_int_equal(count, 2);
    assert_ptr_equal(clist, fake_client);
    assert_int_equal(extra_calls, 1); /* a client reads no server option */

    assert_int_equal(sm_server_plug_init(&fake_plugin, U, SASL_SERVER_PLUG_VERSION - 1,
                                         &version, &slist, &count), SASL_BADVERS);
    assert_int_equal(fake.log_count, 1);

    {
        static const struct fake_opt off[] = {{"plain_enable", "no"}, {NULL, NULL}};
        fake.opts = off;
        count = -1;
        assert_int_equal(sm_client_plug_init(&fake_plugin, U, SASL_CLIENT_PLUG_VERSION,
                                             &version, &clist, &count), SASL_OK);
        assert_int_equal(count, 0);
    }
    {
        static const struct fake_opt bad[] = {{"plain_enable", "sometimes"}, {NULL, NULL}};
        fake.opts = bad;
        assert_int_equal(sm_client_plug_init(&fake_plugin, U, SASL_CLIENT_PLUG_VERSION,
                                             &version, &clist, &count), SASL_CONFIGERR);
        assert_non_null(strstr(fake.last_log, "plain_enable"));
    }
    {
        /* a bad limit loads the plugin but is kept for every exchange to report */
        static const struct fake_opt bad[] = {{"plain_max_user_length", "0"}, {NULL, NULL}};
        fake.opts = bad;
        extra_calls = 0;
        assert_int_equal(sm_server_plug_init(&fake_plugin, U, SASL_SERVER_PLUG_VERSION,
                                             &version, &slist, &count), SASL_OK);
        assert_int_equal(fake_settings.status, SASL_CONFIGERR);
        assert_int_equal(extra_calls, 0);
    }
    {
        /* a server's bad <prefix>_enable: the mechanism is registered and
         * every exchange says why; a client's later refusal of its own
         * option does not change the server's reason */
        static const struct fake_opt bad[] = {{"plain_enable", "sometimes"}, {NULL, NULL}};
        static const struct fake_opt bad_client[] = {{"plain_enable", "often"}, {NULL, NULL}};
        sasl_server_params_t sp = {.utils = U};
        void *ctx = NULL;

        fake.opts = bad;
        fake.utils.conn = NULL;
        count = -1;
        assert_int_equal(sm_server_plug_init(&fake_plugin, U, SASL_SERVER_PLUG_VERSION,
                                             &version, &slist, &count), SASL_OK);
        assert_int_equal(count, 1);
        assert_int_equal(fake_settings.status, SASL_CONFIGERR);
        assert_non_null(strstr(fake_settings.refused.reasons, "plain_enable: \"sometimes\""));
        assert_string_equal(fake_settings.refused.option, "plain_enable");
        fake.opts = bad_client;
        assert_int_equal(sm_client_plug_init(&fake_plugin, U, SASL_CLIENT_PLUG_VERSION,
                                             &version, &clist, &count), SASL_CONFIGERR);
        fake.utils.conn = fake_conn();
        assert_int_equal(sm_server_new(&sp, &fake_settings, "PLAIN", NULL, sizeof(struct sm_server), &ctx), SASL_CONFIGERR);
        assert_null(ctx);
        assert_string_equal(fake.last_error, "PLAIN: plain_enable: \"sometimes\" is not one of "
                                             "no, yes, false, true, off, on, 0 or 1");
    }
    {
        /* the limit it does not read cannot be wrong */
        static const struct fake_opt ignored[] = {{"plain_max_password_length", "0"},
                                                  {"plain_extra", "10"}, {NULL, NULL}};
        fake.opts = ignored;
        assert_int_equal(sm_server_plug_init(&fake_plugin, U, SASL_SERVER_PLUG_VERSION,
                                             &version, &slist, &count), SASL_OK);
        assert_int_equal(fake_settings.status, SASL_CONFIGERR);
        assert_non_null(strstr(fake.last_log, "plain_extra"));
    }
}

/* An option of Cyrus's that only has to be there (NTLM's ntlm_server). */
static void test_opt_cyrus_is_set(void **state)
{
    static const struct fake_opt opts[] = {{"ntlm_server", "winserver1"}, {"x_empty", ""},
                                           {NULL, NULL}};

    (void)state;
    fake.opts = opts;
    assert_int_equal(sm_opt_cyrus_is_set(U, "NTLM", "ntlm_server"), 1);
    assert_int_equal(sm_opt_cyrus_is_set(U, "NTLM", "x_empty"), 1);
    assert_int_equal(sm_opt_cyrus_is_set(U, "NTLM", "ntlm_v2"), 0);
    fake.utils.getopt = NULL;
    assert_int_equal(sm_opt_cyrus_is_set(U, "NTLM", "ntlm_server"), 0);
}

/* Two plugins in one process, each with a settings object of its own that
 * the glue hands libsasl2 as glob: each keeps its own refusal, and the
 * mechanism's own options land in its own object. */
struct two_settings {
    struct sm_server_settings common;
    unsigned level;
};
static int two_read(const sasl_utils_t *utils, struct sm_server_settings *set,
                    const char *name)
{
    return sm_opt_uint(utils, name, 3, 1, 9, &((struct two_settings *)set)->level);
}
static int two_read_a(const sasl_utils_t *utils, struct sm_server_settings *set)
{
    return two_read(utils, set, "alpha_level");
}
static int two_read_b(const sasl_utils_t *utils, struct sm_server_settings *set)
{
    return two_read(utils, set, "beta_level");
}

static void test_two_plugins(void **state)
{
    static sasl_server_plug_t srv_a[1], srv_b[1];
    static struct two_settings set_a, set_b;
    static const struct sm_plugin plug_a = {
        .prefix = "alpha", .mech = "ALPHA", .server = srv_a, .server_count = 1,
        .settings = &set_a.common, .limits = SM_LIMIT_USER, .read_settings = two_read_a};
    static const struct sm_plugin plug_b = {
        .prefix = "beta", .mech = "BETA", .server = srv_b, .server_count = 1,
        .settings = &set_b.common, .limits = SM_LIMIT_USER | SM_LIMIT_PASSWORD,
        .read_settings = two_read_b};
    static const struct fake_opt opts[] = {
        {"alpha_level", "12"}, {"beta_max_password_length", "none"}, {NULL, NULL}};
    static const struct fake_opt good[] = {{"alpha_level", "5"}, {NULL, NULL}};
    sasl_server_plug_t *slist;
    sasl_server_params_t sp = {.utils = U};
    int version, count;
    void *ctx = NULL;

    (void)state;
    fake.opts = opts;
    fake.utils.conn = NULL;
    assert_int_equal(sm_server_plug_init(&plug_a, U, SASL_SERVER_PLUG_VERSION, &version,
                                         &slist, &count), SASL_OK);
    assert_int_equal(sm_server_plug_init(&plug_b, U, SASL_SERVER_PLUG_VERSION, &version,
                                         &slist, &count), SASL_OK);
    assert_int_equal(set_a.common.status, SASL_CONFIGERR);
    assert_int_equal(set_b.common.status, SASL_CONFIGERR);
    assert_string_equal(set_a.common.refused.option, "alpha_level");
    assert_string_equal(set_b.common.refused.option, "beta_max_password_length");
    assert_int_equal(set_a.common.refused.count, 1);
    assert_int_equal(set_b.common.refused.count, 1);

    fake.utils.conn = fake_conn();
    assert_int_equal(sm_server_new(&sp, &set_a.common, "ALPHA", NULL, sizeof(struct sm_server), &ctx), SASL_CONFIGERR);
    assert_string_equal(fake.last_error,
                        "ALPHA: alpha_level: \"12\" is not a number from 1 to 9");
    assert_int_equal(sm_server_new(&sp, &set_b.common, "BETA", NULL, sizeof(struct sm_server), &ctx), SASL_CONFIGERR);
    assert_string_equal(fake.last_error, "BETA: beta_max_password_length: \"none\" is not a "
                                         "number from 1 to 65535");
    assert_null(ctx);

    /* loaded again with good options: the old reason is gone, the value read */
    fake.opts = good;
    fake.utils.conn = NULL;
    assert_int_equal(sm_server_plug_init(&plug_a, U, SASL_SERVER_PLUG_VERSION, &version,
                                         &slist, &count), SASL_OK);
    assert_int_equal(set_a.common.status, SASL_OK);
    assert_int_equal(set_a.common.refused.count, 0);
    assert_int_equal(set_a.level, 5);
    assert_string_equal(set_b.common.refused.option, "beta_max_password_length");
    fake.utils.conn = fake_conn();
    assert_int_equal(sm_server_new(&sp, &set_a.common, "ALPHA", NULL, sizeof(struct sm_server), &ctx), SASL_OK);
    assert_non_null(ctx);
    sm_server_dispose(ctx, U);

    /* mech_new from glob: the context keeps the settings it was made with */
    {
        struct two_ctx {
            struct sm_server base;
            const struct two_settings *set;
        } *tc;
        ctx = NULL;
        assert_int_equal(sm_server_new_glob(&sp, &set_a, "ALPHA", NULL, sizeof(struct two_ctx),
                                            offsetof(struct two_ctx, set), &ctx), SASL_OK);
        tc = ctx;
        assert_ptr_equal(tc->set, &set_a);
        assert_int_equal(tc->set->level, 5);
        assert_null(tc->base.next);
        sm_server_dispose(ctx, U);
        ctx = NULL;
        assert_int_equal(sm_server_new_glob(&sp, &set_b, "BETA", NULL, sizeof(struct two_ctx),
                                            offsetof(struct two_ctx, set), &ctx),
                         SASL_CONFIGERR);
        assert_null(ctx);
        assert_non_null(strstr(fake.last_error, "BETA: beta_max_password_length"));
    }
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
        T(test_two_plugins),
        T(test_opt_cyrus_is_set),
        T(test_load_error),
        T(test_many_refusals),
        T(test_plug_init),
    };

    return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
