/* libFuzzer target for plugins/oauth/oauth_codec.c (XOAUTH2 and OAUTHBEARER
 * wire codec).  Every parser runs on the input:
 *  - the client initial message, both mechanisms, with three token caps: a
 *    message that parses must rebuild (oauth_build_client_msg) and parse back
 *    to the same fields; the rebuilt XOAUTH2 message is the input byte for
 *    byte but for the scheme's case; the rebuilt OAUTHBEARER message is never
 *    longer than the input (unknown pairs are dropped, nothing grows);
 *  - the server's error JSON: what parses rebuilds (OAUTHBEARER form, when
 *    the status is one of the three we send) and parses back the same;
 *  - the reply to the error challenge;
 * and the builders run on fields cut from the input: whatever they accept
 * must parse back to the same fields.  abort() on any violation.
 *
 * Not yet wired into Makefile.am: build it like the other codec targets with
 * $(OAUTH_CPPFLAGS) and link liboauthcore.la libsmcommon.la $(OAUTH_LIBS). */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oauth_codec.h"
#include "oauth_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static int valid_status(enum oauth_codec_status st)
{
    return (int)st >= (int)OAUTH_CODEC_OK && (int)st <= (int)OAUTH_CODEC_STATUS_LAST;
}

static int accepted(enum oauth_codec_status st)
{
    return st == OAUTH_CODEC_OK || st == OAUTH_CODEC_AUTH_EMPTY;
}

static int same_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static void check_same_msg(const struct oauth_client_msg *a, const struct oauth_client_msg *b)
{
    CHECK(a->cb == b->cb);
    CHECK(same_bytes(a->user, a->user_len, b->user, b->user_len));
    CHECK((a->token == NULL) == (b->token == NULL));
    CHECK(same_bytes(a->token, a->token_len, b->token, b->token_len));
    CHECK((a->host == NULL) == (b->host == NULL));
    CHECK(same_bytes(a->host, a->host_len, b->host, b->host_len));
    CHECK(a->port == b->port);
}

static void check_msg_shape(enum oauth_mech mech, const struct oauth_client_msg *m,
                            enum oauth_codec_status st, const char *in, size_t size,
                            size_t max_token)
{
    CHECK(m->user_len <= OAUTH_MAX_USER && m->user[m->user_len] == '\0');
    CHECK(strlen(m->user) == m->user_len);
    if (st == OAUTH_CODEC_AUTH_EMPTY) {
        CHECK(m->token == NULL && m->token_len == 0);
    } else {
        CHECK(m->token && m->token_len > 0);
        CHECK(m->token_len <= max_token && m->token_len <= OAUTH_MAX_TOKEN_LIMIT);
        CHECK(m->token >= in && m->token_len <= size && m->token - in <= (ptrdiff_t)(size - m->token_len));
    }
    if (m->host) {
        CHECK(m->host_len > 0 && m->host_len <= OAUTH_MAX_HOST);
        CHECK(m->host >= in && m->host - in <= (ptrdiff_t)(size - m->host_len));
    } else {
        CHECK(m->host_len == 0);
    }
    CHECK(m->port <= 65535);
    if (mech == OAUTH_MECH_XOAUTH2) {
        CHECK(m->user_len > 0 && m->host == NULL && m->port == 0 && m->cb == OAUTH_CB_N);
    }
}

static void params_from_msg(const struct oauth_client_msg *m, struct oauth_client_params *p)
{
    memset(p, 0, sizeof(*p));
    p->cb = m->cb;
    p->user = m->user;
    p->user_len = m->user_len;
    p->token = m->token;
    p->token_len = m->token_len;
    p->host = m->host;
    p->host_len = m->host_len;
    p->port = m->port;
}

static void fuzz_client_msg(enum oauth_mech mech, const char *in, size_t size, size_t max_token)
{
    struct oauth_client_msg m, m2;
    struct oauth_client_params p;
    enum oauth_codec_status st, st2;
    size_t need = 0, outlen = 0;
    struct oauth_err err = {0};
    char *out;

    st = oauth_parse_client_msg(mech, in, size, max_token, &m, &err);
    CHECK(valid_status(st));
    CHECK(memchr(err.reason, '\0', sizeof(err.reason)) != NULL);
    CHECK((st == OAUTH_CODEC_OK) == (err.reason[0] == '\0'));
    if (!accepted(st))
        return;
    if (max_token > OAUTH_MAX_TOKEN_LIMIT)
        max_token = OAUTH_MAX_TOKEN_LIMIT;
    check_msg_shape(mech, &m, st, in, size, max_token);

    /* rebuild, then parse again */
    params_from_msg(&m, &p);
    CHECK(oauth_build_client_msg(mech, &p, NULL, 0, &need) == OAUTH_CODEC_ERR_NO_ROOM);
    if (mech == OAUTH_MECH_XOAUTH2)
        CHECK(need == size);
    else
        CHECK(need <= size);
    out = malloc(need + 1);
    CHECK(out != NULL);
    CHECK(oauth_build_client_msg(mech, &p, out, need + 1, &outlen) == OAUTH_CODEC_OK);
    CHECK(outlen == need && out[need] == '\0');
    if (mech == OAUTH_MECH_XOAUTH2) {
        /* "user=" user ^A "auth=" then the scheme, written as "Bearer" */
        size_t scheme = 5 + m.user_len + 1 + 5;
        if (st == OAUTH_CODEC_OK) {
            CHECK(memcmp(out, in, scheme) == 0);
            CHECK(memcmp(out + scheme, "Bearer", 6) == 0);
            CHECK(memcmp(out + scheme + 6, in + scheme + 6, size - scheme - 6) == 0);
        } else {
            CHECK(memcmp(out, in, size) == 0);
        }
    }
    st2 = oauth_parse_client_msg(mech, out, outlen, max_token, &m2, NULL);
    CHECK(st2 == st);
    check_same_msg(&m, &m2);
    free(out);
}

static void fuzz_error_json(const char *in, size_t size)
{
    struct oauth_error_info info, info2;
    enum oauth_codec_status st;
    struct oauth_err err = {0};
    char out[OAUTH_MAX_ERROR_JSON + 1];
    size_t outlen = 0;

    st = oauth_parse_error_json(in, size, &info, &err);
    CHECK(valid_status(st));
    CHECK(memchr(err.reason, '\0', sizeof(err.reason)) != NULL);
    if (st != OAUTH_CODEC_OK) {
        CHECK(info.status == NULL && info.scope == NULL && info.openid_config == NULL);
        return;
    }
    CHECK(info.status && info.status[0] != '\0');
    if (info.code) {
        CHECK(strcmp(info.status, oauth_error_status_name(info.code)) == 0);
        /* rebuilt compactly with only these members: never longer than the input */
        CHECK(oauth_build_error_json(OAUTH_MECH_OAUTHBEARER, info.code, info.scope,
                                     info.openid_config, out, sizeof(out), &outlen)
              == OAUTH_CODEC_OK);
        CHECK(outlen <= size);
        CHECK(oauth_parse_error_json(out, outlen, &info2, NULL) == OAUTH_CODEC_OK);
        CHECK(strcmp(info.status, info2.status) == 0 && info.code == info2.code);
        CHECK((info.scope == NULL) == (info2.scope == NULL));
        CHECK(!info.scope || strcmp(info.scope, info2.scope) == 0);
        CHECK((info.openid_config == NULL) == (info2.openid_config == NULL));
        CHECK(!info.openid_config || strcmp(info.openid_config, info2.openid_config) == 0);
        oauth_error_info_clear(&info2);
    }
    oauth_error_info_clear(&info);
}

/* Cut fields from the input: byte 0 picks flags, bytes 1-2 the port, then
 * user ^B token ^B host.  Whatever the builder accepts must parse back. */
static void fuzz_builders(const char *in, size_t size)
{
    struct oauth_client_params p;
    const char *f[3] = {"", "", ""};
    size_t flen[3] = {0, 0, 0}, i, start, k = 0, need = 0, outlen = 0;
    int mechi;

    if (size < 3)
        return;
    memset(&p, 0, sizeof(p));
    p.cb = (in[0] & 1) ? OAUTH_CB_Y : OAUTH_CB_N;
    p.port = (in[0] & 2) ? (unsigned)(unsigned char)in[1] << 8 | (unsigned char)in[2] : 0;
    for (i = start = 3; i <= size && k < 3; i++)
        if (i == size || in[i] == '\x02') {
            f[k] = in + start;
            flen[k++] = i - start;
            start = i + 1;
        }
    p.user = f[0];
    p.user_len = flen[0];
    p.token = f[1];
    p.token_len = flen[1];
    if (in[0] & 4) {
        p.host = f[2];
        p.host_len = flen[2];
    }
    for (mechi = OAUTH_MECH_XOAUTH2; mechi <= OAUTH_MECH_OAUTHBEARER; mechi++) {
        enum oauth_mech mech = (enum oauth_mech)mechi;
        struct oauth_client_msg m;
        enum oauth_codec_status st = oauth_build_client_msg(mech, &p, NULL, 0, &need);
        char *out;

        CHECK(valid_status(st));
        if (st != OAUTH_CODEC_ERR_NO_ROOM)
            continue;
        out = malloc(need);
        CHECK(out != NULL);
        CHECK(oauth_build_client_msg(mech, &p, out, need, &outlen) == OAUTH_CODEC_OK);
        CHECK(outlen == need);
        st = oauth_parse_client_msg(mech, out, outlen, OAUTH_MAX_TOKEN_LIMIT, &m, NULL);
        CHECK(st == (p.token_len ? OAUTH_CODEC_OK : OAUTH_CODEC_AUTH_EMPTY));
        CHECK(same_bytes(m.user, m.user_len, p.user, p.user_len));
        CHECK(same_bytes(m.token, m.token_len, p.token, p.token_len));
        if (mech == OAUTH_MECH_OAUTHBEARER) {
            CHECK(m.cb == p.cb && m.port == p.port);
            CHECK((m.host != NULL) == (p.host != NULL));
            CHECK(!p.host || same_bytes(m.host, m.host_len, p.host, p.host_len));
        }
        free(out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a copy of exactly size bytes, so that any over-read is caught */
    char *in = malloc(size ? size : 1);
    int mechi;

    if (!in)
        return 0;
    if (size)
        memcpy(in, data, size);
    for (mechi = OAUTH_MECH_XOAUTH2; mechi <= OAUTH_MECH_OAUTHBEARER; mechi++) {
        enum oauth_mech mech = (enum oauth_mech)mechi;
        fuzz_client_msg(mech, in, size, OAUTH_DEFAULT_MAX_TOKEN);
        fuzz_client_msg(mech, in, size, 8);
        fuzz_client_msg(mech, in, size, SIZE_MAX);
        CHECK(valid_status(oauth_check_error_reply(mech, in, size)));
        CHECK((oauth_check_error_reply(mech, in, size) == OAUTH_CODEC_OK)
              == (mech == OAUTH_MECH_OAUTHBEARER ? size == 1 && in[0] == '\x01' : size == 0));
    }
    fuzz_error_json(in, size);
    fuzz_builders(in, size);
    free(in);
    return 0;
}
