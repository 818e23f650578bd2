/* Unit tests of common/stored_secret.c: one table of stored values read
 * under each set of rules a plugin uses (CRAM-MD5's three secret formats,
 * an NT hash attribute), the check that refuses a stolen key typed as a
 * password, and agreement of the forms: the {CRAM-MD5} value Dovecot wrote
 * for "password" and the NT hash of MS-NLMP 4.2.2.1.2 are what the
 * password gives. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <sasl-mechs/crypto.h>
#include <sasl-mechs/hex.h>
#include <sasl-mechs/stored_secret.h>

#define M(s) s, sizeof(s) - 1

/* `doveadm pw -p password` (Dovecot's own output, see test_crypto.c) */
#define PW_STATE "9186d855e11eba527a7a52ca82b313e180d62234f0acc9051b527243d41e2740"
#define PW_STATE_UC "9186D855E11EBA527A7A52CA82B313E180D62234F0ACC9051B527243D41E2740"
#define PW_STATE_MIXED "9186d855E11eba527a7a52CA82b313e180d62234f0acc9051b527243d41E2740"
/* NTOWFv1("Password"), MS-NLMP 4.2.2.1.2 (../shared/vectors/ntlm.txt: verified) */
#define NT_HASH "a4f49c406510bdcab6824ee7c30fd852"
#define NT_HASH_UC "A4F49C406510BDCAB6824EE7C30FD852"
#define RFC_DIGEST "b913a602c7eda7a495b4e6e7334d3890"
#define RFC_CHALLENGE "<1896.697170952@postoffice.reston.mci.net>"

/* crammd5_secret_format auto, plain, hmac-md5 (plugins/crammd5/crammd5_server.c) */
static const struct sm_secret_rules AUTO = {SM_SECRET_PASSWORD | SM_SECRET_HMAC_MD5_STATE,
                                            SM_SECRET_PASSWORD, 1};
static const struct sm_secret_rules PLAIN = {SM_SECRET_PASSWORD, SM_SECRET_PASSWORD, 0};
static const struct sm_secret_rules HMAC = {SM_SECRET_HMAC_MD5_STATE, SM_SECRET_HMAC_MD5_STATE, 1};
/* an attribute holding NT hashes (Samba's sambaNTPassword) */
static const struct sm_secret_rules NT = {SM_SECRET_NT_HASH, SM_SECRET_NT_HASH, 1};
/* userPassword read by a mechanism that can use a password or an NT hash */
static const struct sm_secret_rules PW_OR_NT = {SM_SECRET_PASSWORD | SM_SECRET_NT_HASH,
                                                SM_SECRET_PASSWORD, 1};

enum kind { ERR, PW, STATE, NTH };

struct row {
    const char *name;
    const char *val;
    size_t len;
    const struct sm_secret_rules *rules;
    enum kind kind;
    const char *want; /* PW: the password; STATE, NTH: the key's hex digits */
};

static const struct row rows[] = {
    {"auto: plain password", M("tanstaaftanstaaf"), &AUTO, PW, "tanstaaftanstaaf"},
    {"auto: {PLAIN}", M("{PLAIN}pw"), &AUTO, PW, "pw"},
    {"auto: {CLEARTEXT}", M("{CLEARTEXT}pw"), &AUTO, PW, "pw"},
    {"auto: {plain} in lowercase", M("{plain}pw"), &AUTO, PW, "pw"},
    {"auto: {PLAIN} keeps the rest literally", M("{PLAIN}{CRAM-MD5}" PW_STATE), &AUTO, PW,
     "{CRAM-MD5}" PW_STATE},
    {"auto: {PLAIN} and nothing: an empty password", M("{PLAIN}"), &AUTO, PW, ""},
    {"auto: {CRAM-MD5} lowercase hex", M("{CRAM-MD5}" PW_STATE), &AUTO, STATE, PW_STATE},
    {"auto: {CRAM-MD5} uppercase hex", M("{CRAM-MD5}" PW_STATE_UC), &AUTO, STATE, PW_STATE},
    {"auto: {CRAM-MD5} mixed-case hex", M("{CRAM-MD5}" PW_STATE_MIXED), &AUTO, STATE, PW_STATE},
    {"auto: {cram-md5} lowercase tag", M("{cram-md5}" PW_STATE), &AUTO, STATE, PW_STATE},
    {"auto: {CRAM-MD5.HEX}", M("{CRAM-MD5.HEX}" PW_STATE), &AUTO, STATE, PW_STATE},
    {"auto: bare 64 hex is a password", M(PW_STATE), &AUTO, PW, PW_STATE},
    {"auto: {CRAM-MD5} 63 hex",
     M("{CRAM-MD5}9186d855e11eba527a7a52ca82b313e180d62234f0acc9051b527243d41e274"), &AUTO, ERR, NULL},
    {"auto: {CRAM-MD5} 65 hex", M("{CRAM-MD5}" PW_STATE "0"), &AUTO, ERR, NULL},
    {"auto: {CRAM-MD5} 62 hex",
     M("{CRAM-MD5}9186d855e11eba527a7a52ca82b313e180d62234f0acc9051b527243d41e27"), &AUTO, ERR, NULL},
    {"auto: {CRAM-MD5} nothing", M("{CRAM-MD5}"), &AUTO, ERR, NULL},
    {"auto: {CRAM-MD5} non-hex",
     M("{CRAM-MD5}g186d855e11eba527a7a52ca82b313e180d62234f0acc9051b527243d41e2740"), &AUTO, ERR, NULL},
    {"auto: {CRAM-MD5} non-hex at the end",
     M("{CRAM-MD5}9186d855e11eba527a7a52ca82b313e180d62234f0acc9051b527243d41e274z"), &AUTO, ERR, NULL},
    {"auto: {CRAM-MD5} trailing newline", M("{CRAM-MD5}" PW_STATE "\n"), &AUTO, ERR, NULL},
    {"auto: {CRAM-MD5} with spaces", M("{CRAM-MD5} " PW_STATE), &AUTO, ERR, NULL},
    {"auto: {CRAM-MD5.HEX} short", M("{CRAM-MD5.HEX}" RFC_DIGEST), &AUTO, ERR, NULL},
    /* a hash of another scheme is no key: refused, not used as the password */
    {"auto: {SSHA} hash", M("{SSHA}abcdef"), &AUTO, ERR, NULL},
    {"auto: {SHA512-CRYPT} hash", M("{SHA512-CRYPT}$6$salt$hash"), &AUTO, ERR, NULL},
    {"auto: {ssha} lowercase", M("{ssha}abcdef"), &AUTO, ERR, NULL},
    {"auto: an NT hash is no CRAM-MD5 key", M("{NTLM}" NT_HASH), &AUTO, ERR, NULL},
    {"auto: brace without a scheme is a password", M("{not a scheme"), &AUTO, PW, "{not a scheme"},
    {"auto: empty braces are a password", M("{}x"), &AUTO, PW, "{}x"},
    {"auto: a tag longer than any scheme is a password",
     M("{ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGH}x"), &AUTO, PW, "{ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGH}x"},
    /* plain: the value is the password, whatever it looks like */
    {"plain: {CRAM-MD5}... is a literal password", M("{CRAM-MD5}" PW_STATE), &PLAIN, PW,
     "{CRAM-MD5}" PW_STATE},
    {"plain: {PLAIN}pw is a literal password", M("{PLAIN}pw"), &PLAIN, PW, "{PLAIN}pw"},
    {"plain: {SSHA} is a literal password", M("{SSHA}abc"), &PLAIN, PW, "{SSHA}abc"},
    {"plain: bare hex", M(PW_STATE), &PLAIN, PW, PW_STATE},
    {"plain: password", M("tanstaaftanstaaf"), &PLAIN, PW, "tanstaaftanstaaf"},
    /* hmac-md5: only the schedule, tagged or bare */
    {"hmac: bare 64 hex", M(PW_STATE), &HMAC, STATE, PW_STATE},
    {"hmac: bare 64 uppercase hex", M(PW_STATE_UC), &HMAC, STATE, PW_STATE},
    {"hmac: tagged", M("{CRAM-MD5}" PW_STATE), &HMAC, STATE, PW_STATE},
    {"hmac: a password", M("tanstaaftanstaaf"), &HMAC, ERR, NULL},
    {"hmac: {PLAIN}", M("{PLAIN}pw"), &HMAC, ERR, NULL},
    {"hmac: 63 hex", M("9186d855e11eba527a7a52ca82b313e180d62234f0acc9051b527243d41e274"), &HMAC, ERR,
     NULL},
    {"hmac: 65 hex", M(PW_STATE "0"), &HMAC, ERR, NULL},
    {"hmac: empty", M(""), &HMAC, ERR, NULL},
    /* NT hashes */
    {"nt: bare 32 hex (sambaNTPassword)", M(NT_HASH), &NT, NTH, NT_HASH},
    {"nt: bare 32 uppercase hex", M(NT_HASH_UC), &NT, NTH, NT_HASH},
    {"nt: {NTLM} tagged (Dovecot)", M("{NTLM}" NT_HASH), &NT, NTH, NT_HASH},
    {"nt: 31 hex", M("a4f49c406510bdcab6824ee7c30fd85"), &NT, ERR, NULL},
    {"nt: 33 hex", M(NT_HASH "2"), &NT, ERR, NULL},
    {"nt: a CRAM-MD5 schedule", M("{CRAM-MD5}" PW_STATE), &NT, ERR, NULL},
    {"nt: a password", M("Password"), &NT, ERR, NULL},
    {"nt: {PLAIN}", M("{PLAIN}Password"), &NT, ERR, NULL},
    {"pw or nt: bare is a password", M(NT_HASH), &PW_OR_NT, PW, NT_HASH},
    {"pw or nt: {NTLM} is a hash", M("{NTLM}" NT_HASH_UC), &PW_OR_NT, NTH, NT_HASH},
    {"pw or nt: {CRAM-MD5} is neither", M("{CRAM-MD5}" PW_STATE), &PW_OR_NT, ERR, NULL},
};

static void test_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct row *r = &rows[i];
        struct sm_stored_secret s;
        unsigned char want[SM_SECRET_KEY_MAX];
        int rc;

        memset(&s, 0xa5, sizeof(s));
        rc = sm_stored_secret_parse(r->val, r->len, r->rules, &s);
        if (r->kind == ERR) {
            if (rc != -1)
                fail_msg("row %zu (%s): accepted, expected a refusal", i, r->name);
            continue;
        }
        if (rc != 0)
            fail_msg("row %zu (%s): refused", i, r->name);
        if (r->kind == PW) {
            if (s.kind != SM_SECRET_PASSWORD)
                fail_msg("row %zu (%s): read as kind %d, not a password", i, r->name, s.kind);
            assert_int_equal(s.password_len, strlen(r->want));
            assert_memory_equal(s.password, r->want, s.password_len);
            /* points into the stored value, up to its end */
            assert_true(s.password >= r->val && s.password + s.password_len == r->val + r->len);
            continue;
        }
        if (s.kind != (r->kind == STATE ? SM_SECRET_HMAC_MD5_STATE : SM_SECRET_NT_HASH))
            fail_msg("row %zu (%s): read as kind %d", i, r->name, s.kind);
        assert_int_equal(s.key_len, strlen(r->want) / 2);
        assert_int_equal(sm_hex_decode_lower(r->want, s.key_len, want), 0);
        assert_memory_equal(s.key, want, s.key_len);
    }
}

/* A refusal leaves nothing of a half-decoded key behind. */
static void test_refusal_erases(void **state)
{
    static const unsigned char zero[sizeof(struct sm_stored_secret)];
    struct sm_stored_secret s;

    (void)state;
    memset(&s, 0xa5, sizeof(s));
    assert_int_equal(sm_stored_secret_parse(M("{CRAM-MD5}" PW_STATE "0"), &AUTO, &s), -1);
    assert_memory_equal(&s, zero, sizeof(s));
    memset(&s, 0xa5, sizeof(s));
    assert_int_equal(sm_stored_secret_parse(M("a4f49c406510bdcab6824ee7c30fd85z"), &NT, &s), -1);
    assert_memory_equal(&s, zero, sizeof(s));
}

static void test_tagged_key(void **state)
{
    (void)state;
    assert_int_equal(sm_stored_secret_is_tagged_key(M("{CRAM-MD5}" PW_STATE)), 1);
    assert_int_equal(sm_stored_secret_is_tagged_key(M("{cram-md5.hex}" PW_STATE_UC)), 1);
    assert_int_equal(sm_stored_secret_is_tagged_key(M("{NTLM}" NT_HASH)), 1);
    /* passwords, however they look */
    assert_int_equal(sm_stored_secret_is_tagged_key(M(PW_STATE)), 0);
    assert_int_equal(sm_stored_secret_is_tagged_key(M(NT_HASH)), 0);
    assert_int_equal(sm_stored_secret_is_tagged_key(M("{PLAIN}pw")), 0);
    assert_int_equal(sm_stored_secret_is_tagged_key(M("{CRAM-MD5}not-hex")), 0);
    assert_int_equal(sm_stored_secret_is_tagged_key(M("{SSHA}abc")), 0);
    assert_int_equal(sm_stored_secret_is_tagged_key(M("")), 0);
}

/* The {CRAM-MD5} value Dovecot wrote for "password" gives the same digest as
 * the password itself, for any challenge. */
static void test_forms_agree(void **state)
{
    struct sm_stored_secret s;
    unsigned char a[SM_MD5_LEN], b[SM_MD5_LEN], nt[SM_MD5_LEN], want[SM_MD5_LEN];
    /* "Password" in UTF-16LE */
    static const char utf16[] = {'P', 0, 'a', 0, 's', 0, 's', 0, 'w', 0, 'o', 0, 'r', 0, 'd', 0};
    size_t ntlen;

    (void)state;
    assert_int_equal(sm_stored_secret_parse(M("{CRAM-MD5}" PW_STATE), &AUTO, &s), 0);
    assert_int_equal(sm_hmac_md5_from_state(s.key, M(RFC_CHALLENGE), a), 0);
    assert_int_equal(sm_stored_secret_parse(M("{PLAIN}password"), &AUTO, &s), 0);
    assert_int_equal(sm_hmac_md5(s.password, s.password_len, M(RFC_CHALLENGE), b), 0);
    assert_memory_equal(a, b, sizeof(a));

    /* the NT hash read back is the MD4 of the UTF-16LE password, where MD4 is there */
    assert_int_equal(sm_stored_secret_parse(M("{NTLM}" NT_HASH_UC), &NT, &s), 0);
    assert_int_equal(sm_hex_decode_lower(NT_HASH, sizeof(want), want), 0);
    assert_memory_equal(s.key, want, sizeof(want));
    if (sm_digest("MD4", utf16, sizeof(utf16), nt, sizeof(nt), &ntlen) == 0) {
        assert_int_equal(ntlen, sizeof(nt));
        assert_memory_equal(nt, s.key, sizeof(nt));
    }
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_refusal_erases),
        cmocka_unit_test(test_tagged_key),
        cmocka_unit_test(test_forms_agree),
    };

    return cmocka_run_group_tests_name("stored_secret", tests, NULL, NULL);
}
