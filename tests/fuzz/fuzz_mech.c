/* libFuzzer target driving one mechanism side of one plugin through
 * libsasl2, built once per (mechanism, side) with
 *   -DFUZZ_MECH='"PLAIN"' -DFUZZ_SERVER=1 (or 0 for the client).
 * Input: a sequence of messages, each a 2-byte big-endian length and that
 * many bytes; each is copied into an exact-size heap buffer (no NUL after
 * it) and given to sasl_server_start/step (or as challenges to the client).
 *
 * THE ORACLE RULE, for every server target (and the NTLM, XOAUTH2,
 * OAUTHBEARER and GSSAPI targets to come):
 *   every secret the server checks against (password, NT hash, bearer
 *   token, key) is drawn afresh from RAND_bytes for EVERY input, before the
 *   exchange starts; never derived from the input, never kept from one input
 *   to the next.  Then a server SASL_OK is a finding, and aborts: the input
 *   was fixed before its secret existed, so it carries that secret only by a
 *   2^-96 chance.
 * Why: libFuzzer watches every comparison in the process (cmp tracing in
 * instrumented code, and hooks on memcmp/strcmp/strncmp/... everywhere,
 * libsasl2's own password check included) and adds the compared values to
 * its dictionary.  A secret that lives as long as the process is learned in
 * a few tens of millions of executions, and every long campaign then ends
 * in a false alarm (issue 6, section 7: corpus/server_login/learned-password-*).
 *
 * The OAuth targets (-DFUZZ_OAUTH=1) keep the rule another way: the server
 * trusts one EC P-256 public key, written as a JWKS file when the process
 * starts; its private half is freed at once and no HMAC secret is set, so
 * no secret exists in the process to learn and a SASL_OK is a forgery.
 * Their clients take the first message as their token (a password) and are
 * stepped again after SASL_OK, as an application that receives the
 * server's error challenge does.
 *
 * The GSSAPI targets (-DFUZZ_GSSAPI=1) link tests/fuzz/fake_gss.c instead of
 * MIT's library: the input decides the Kerberos context (see its head), so a
 * server SASL_OK is no finding there; both sides then put every remaining
 * message through sasl_decode and sasl_encode, on the layer negotiated.
 *
 * FUZZ_FIXED_SECRET=<password> (honoured only in the replay build of
 * `make check`, never under libFuzzer) fixes the secret instead, so that
 * tests/fuzz/replay.sh can check that the oracle still fires on a
 * learned-password-<password> input when the secret is the one it carries. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sasl/sasl.h>
#include <sasl/saslplug.h>
#include <openssl/rand.h>
#if FUZZ_OAUTH
#include <unistd.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <sasl-mechs/base64.h>
#endif

#include "fuzz_auxprop.h"

#ifndef FUZZ_OAUTH
#define FUZZ_OAUTH 0
#endif

#ifndef FUZZ_REPLAY
#define FUZZ_REPLAY 0
#endif

#ifndef FUZZ_GSSAPI
#define FUZZ_GSSAPI 0
#endif

int sasl_server_plug_init(const sasl_utils_t *, int, int *, sasl_server_plug_t **, int *);
int sasl_client_plug_init(const sasl_utils_t *, int, int *, sasl_client_plug_t **, int *);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ROUNDS 8

static int empty_path(void *ctx, const char **path)
{
    (void)ctx;
    *path = "/nonexistent-sasl-mechs-fuzz"; /* load no plugin from disk */
    return SASL_OK;
}

#if FUZZ_OAUTH
static char jwks_path[64];

#if FUZZ_SERVER

/* The JWKS file of one fresh P-256 public key (see THE ORACLE RULE). */
static void write_jwks(void)
{
    unsigned char pub[65];
    char x[64], y[64];
    size_t publen = 0, xl, yl;
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    FILE *f;
    int fd;

    if (!key || !EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub),
                                                 &publen) || publen != sizeof(pub)
        || sm_b64_encode(SM_B64_URL, pub + 1, 32, x, sizeof(x), &xl) != 0
        || sm_b64_encode(SM_B64_URL, pub + 33, 32, y, sizeof(y), &yl) != 0)
        abort();
    EVP_PKEY_free(key);
    snprintf(jwks_path, sizeof(jwks_path), "/tmp/sasl-mechs-fuzz-jwks-XXXXXX");
    if ((fd = mkstemp(jwks_path)) < 0 || !(f = fdopen(fd, "w")))
        abort();
    fprintf(f, "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"fuzz\","
               "\"alg\":\"ES256\",\"use\":\"sig\",\"x\":\"%s\",\"y\":\"%s\"}]}", x, y);
    if (fclose(f) != 0)
        abort();
}

#endif

__attribute__((destructor)) static void remove_jwks(void)
{
    if (jwks_path[0])
        unlink(jwks_path);
}
#endif

static int getopt_cb(void *ctx, const char *plugin, const char *option,
                     const char **result, unsigned *len)
{
    (void)ctx; (void)plugin;
    if (strcmp(option, "pwcheck_method") == 0) *result = "auxprop";
    else if (strcmp(option, "auxprop_plugin") == 0) *result = "fuzzprop";
#if FUZZ_OAUTH
    else if (strcmp(option, "oauth_issuers") == 0) *result = "https://issuer.fuzz.example";
    else if (strcmp(option, "oauth_audiences") == 0) *result = "smtp";
    else if (strcmp(option, "oauth_required_scopes") == 0) *result = "mail";
    else if (strcmp(option, "oauth_jwks_file") == 0) *result = jwks_path;
#endif
    else return SASL_FAIL;
    if (len) *len = (unsigned)strlen(*result);
    return SASL_OK;
}

static int simple_cb(void *ctx, int id, const char **result, unsigned *len)
{
    (void)ctx;
    *result = id == SASL_CB_USER ? "" : FUZZ_USER;
    if (len) *len = (unsigned)strlen(*result);
    return SASL_OK;
}

static int pass_cb(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **psecret)
{
    /* OAuth clients: a token-shaped password (a token file is not fuzzed) */
#if FUZZ_OAUTH
    static struct { unsigned long len; unsigned char data[16]; } secret = {11, "eyJ0.eyJ0.c"};
#else
    static struct { unsigned long len; unsigned char data[16]; } secret = {8, "password"};
#endif
    (void)conn; (void)ctx; (void)id;
    *psecret = (sasl_secret_t *)&secret;
    return SASL_OK;
}

typedef int (*cb_fn)(void);
static const sasl_callback_t callbacks[] = {
    {SASL_CB_GETPATH, (cb_fn)(void (*)(void))empty_path, NULL},
    {SASL_CB_GETOPT, (cb_fn)(void (*)(void))getopt_cb, NULL},
    {SASL_CB_AUTHNAME, (cb_fn)(void (*)(void))simple_cb, NULL},
    {SASL_CB_USER, (cb_fn)(void (*)(void))simple_cb, NULL},
    {SASL_CB_PASS, (cb_fn)(void (*)(void))pass_cb, NULL},
    {SASL_CB_LIST_END, NULL, NULL},
};

#if FUZZ_SERVER
/* A fresh secret for the one user, for every input (see THE ORACLE RULE). */
static void new_secret(void)
{
    unsigned char rnd[12];
    char hex[2 * sizeof(rnd) + 1];
    size_t i;

#if FUZZ_REPLAY
    const char *fixed = getenv("FUZZ_FIXED_SECRET");
    if (fixed) {
        fuzz_auxprop_set_password(fixed);
        return;
    }
#endif
    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        abort();
    for (i = 0; i < sizeof(rnd); i++)
        snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
    fuzz_auxprop_set_password(hex);
}
#endif

static void init_once(void)
{
    static int done;

    if (done)
        return;
    done = 1;
#if FUZZ_OAUTH && FUZZ_SERVER
    write_jwks();
#endif
#if FUZZ_SERVER
    if (sasl_server_init(callbacks, "fuzz") != SASL_OK
        || sasl_auxprop_add_plugin("fuzzprop", fuzz_auxprop_init) != SASL_OK
        || sasl_server_add_plugin("fuzzmech", sasl_server_plug_init) != SASL_OK)
        abort();
#else
    if (sasl_client_init(callbacks) != SASL_OK
        || sasl_client_add_plugin("fuzzmech", sasl_client_plug_init) != SASL_OK)
        abort();
#endif
}

/* The next message of the input in an exact-size heap copy, or NULL at the end. */
static char *next_message(const uint8_t **data, size_t *size, unsigned *len)
{
    char *msg;

    if (*size < 2)
        return NULL;
    *len = (unsigned)((*data)[0] << 8 | (*data)[1]);
    *data += 2;
    *size -= 2;
    if (*len > *size)
        *len = (unsigned)*size;
    msg = malloc(*len ? *len : 1);
    if (!msg)
        abort();
    memcpy(msg, *data, *len);
    *data += *len;
    *size -= *len;
    return msg;
}

#if FUZZ_GSSAPI
/* After SASL_OK: every remaining message through decode, then encode. */
static void through_layer(sasl_conn_t *conn, const uint8_t *data, size_t size)
{
    const char *out;
    unsigned outlen, len;
    const void *ssf;
    char *msg;

    if (sasl_getprop(conn, SASL_SSF, &ssf) != SASL_OK)
        abort();
    if (*(const sasl_ssf_t *)ssf != 0 && *(const sasl_ssf_t *)ssf != 1
        && *(const sasl_ssf_t *)ssf != 256)
        abort();
    while ((msg = next_message(&data, &size, &len))) {
        if (sasl_decode(conn, msg, len, &out, &outlen) != SASL_OK) {
            free(msg);
            return;
        }
        if (len && sasl_encode(conn, msg, len, &out, &outlen) == SASL_OK && outlen < len)
            abort();
        free(msg);
    }
}

static void set_props(sasl_conn_t *conn)
{
    sasl_security_properties_t p = {0, 256, 65536, 0, NULL, NULL};

    if (sasl_setprop(conn, SASL_SEC_PROPS, &p) != SASL_OK)
        abort();
}
#endif

#if FUZZ_SERVER
static void run(sasl_conn_t *conn, const uint8_t *data, size_t size)
{
    const char *out;
    unsigned outlen, len;
    char *msg = next_message(&data, &size, &len);
    int r, rounds = 0;

    /* an empty first message stands for "no initial response" */
    r = sasl_server_start(conn, FUZZ_MECH, msg && len ? msg : NULL, msg ? len : 0, &out, &outlen);
    free(msg);
    while (r == SASL_CONTINUE && rounds++ < MAX_ROUNDS) {
        if (!(msg = next_message(&data, &size, &len)))
            return;
        r = sasl_server_step(conn, msg, len, &out, &outlen);
        free(msg);
    }
#if FUZZ_GSSAPI
    if (r == SASL_OK)
        through_layer(conn, data, size);
    return;
#endif
    /* the secret is younger than the input (THE ORACLE RULE): no SASL_OK */
    if (r == SASL_OK) {
        fprintf(stderr, "server authenticated without the password\n");
        abort();
    }
}
#else
static void run(sasl_conn_t *conn, const uint8_t *data, size_t size)
{
    sasl_interact_t *prompts = NULL;
    const char *out, *mech;
    unsigned outlen, len;
    char *msg;
    int r, rounds = 0;

    r = sasl_client_start(conn, FUZZ_MECH, &prompts, &out, &outlen, &mech);
    /* after SASL_OK too: libsasl2 refuses the step once a plugin has set
     * doneflag, and the OAuth clients leave it unset for an error challenge */
    while ((r == SASL_CONTINUE || r == SASL_OK) && rounds++ < MAX_ROUNDS) {
        if (!(msg = next_message(&data, &size, &len)))
            return;
        r = sasl_client_step(conn, msg, len, &prompts, &out, &outlen);
        free(msg);
#if FUZZ_GSSAPI
        if (r == SASL_OK) {
            through_layer(conn, data, size);
            return;
        }
#endif
    }
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sasl_conn_t *conn = NULL;

    init_once();
#if FUZZ_SERVER
    new_secret();
    if (sasl_server_new("smtp", "fuzz.example", "fuzz.example", NULL, NULL, NULL, 0, &conn) != SASL_OK)
        abort();
#else
    if (sasl_client_new("smtp", "fuzz.example", NULL, NULL, NULL, 0, &conn) != SASL_OK)
        abort();
#endif
#if FUZZ_GSSAPI
    set_props(conn);
#endif
    run(conn, data, size);
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "%s %s: %s\n", FUZZ_SERVER ? "server" : "client", FUZZ_MECH,
                sasl_errdetail(conn));
    sasl_dispose(&conn);
    return 0;
}
