/* Unit tests of plugins/oauth/oauth_codec.c: the XOAUTH2 and OAUTHBEARER
 * (RFC 7628) client messages, the server's error JSON and the client's reply
 * to it.  The vectors of tests/vectors/oauth.txt (RFC 7628 section 4, Google's
 * XOAUTH2 page) in both directions, one table of client messages (Dovecot
 * style), truncations, size limits, build/parse round trips, and tables of
 * error JSON to build and to parse. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sasl-mechs/base64.h>
#include "oauth_codec.h"
#include "oauth_err.h"
#include "vectors.h"

/* a string literal with its embedded NULs, as pointer and length */
#define M(s) s, sizeof(s) - 1
/* kvsep; kept apart so that "\x01" never swallows a following hex letter */
#define S "\x01"

#define X OAUTH_MECH_XOAUTH2
#define B OAUTH_MECH_OAUTHBEARER

#define RFC_TOKEN "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg=="
#define RFC_41 "n,a=user@example.com," S "host=server.example.com" S "port=143" S \
    "auth=Bearer " RFC_TOKEN S S
#define GOOGLE "user=someuser@example.com" S "auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg" S S
/* a marker no why text may ever contain */
#define SECRET "SeCrEt"

/* ---- helpers -------------------------------------------------------------- */

/* msg alone in a heap block, so that an over-read shows under valgrind */
static char *heap_copy(const char *msg, size_t len)
{
    char *p = malloc(len ? len : 1);

    assert_non_null(p);
    if (len)
        memcpy(p, msg, len);
    return p;
}

static int contains(const char *hay, size_t haylen, const char *needle)
{
    size_t n = strlen(needle), i;

    for (i = 0; n <= haylen && i <= haylen - n; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return 1;
    return 0;
}

static enum oauth_codec_status parse(enum oauth_mech mech, const char *msg, size_t len,
                                     size_t max_token, struct oauth_client_msg *out)
{
    struct oauth_err err = {0};
    char *p = heap_copy(msg, len);
    enum oauth_codec_status st = oauth_parse_client_msg(mech, p, len, max_token, out, &err);

    assert_true(strlen(err.reason) < sizeof(err.reason));
    free(p);
    /* pointers into p must not be used any more */
    out->token = NULL;
    out->host = NULL;
    return st;
}

/* ---- the client message: one table --------------------------------------- */

struct row {
    const char *name;
    enum oauth_mech mech;
    const char *msg;
    size_t len;
    size_t max_token; /* 0: OAUTH_DEFAULT_MAX_TOKEN */
    enum oauth_codec_status expect;
    /* for OAUTH_CODEC_OK and OAUTH_CODEC_AUTH_EMPTY */
    const char *user; /* "" for none */
    const char *token; /* NULL for AUTH_EMPTY */
    const char *host; /* NULL for none */
    unsigned port;
    enum oauth_cb_flag cb;
};

#define OK_X(name, msg, user, token) {name, X, M(msg), 0, OAUTH_CODEC_OK, user, token, NULL, 0, OAUTH_CB_N}
#define OK_B(name, msg, user, token, host, port, cb) \
    {name, B, M(msg), 0, OAUTH_CODEC_OK, user, token, host, port, cb}
#define BAD(mech, name, msg, st) {name, mech, M(msg), 0, st, NULL, NULL, NULL, 0, OAUTH_CB_N}
#define BADMAX(mech, name, msg, max, st) {name, mech, M(msg), max, st, NULL, NULL, NULL, 0, OAUTH_CB_N}

static const struct row rows[] = {
    /* ---- OAUTHBEARER, valid ---- */
    OK_B("RFC 7628 4.1", RFC_41, "user@example.com", RFC_TOKEN, "server.example.com", 143,
         OAUTH_CB_N),
    OK_B("no authzid, auth only", "n,," S "auth=Bearer abc" S S, "", "abc", NULL, 0, OAUTH_CB_N),
    OK_B("flag y", "y,," S "auth=Bearer abc" S S, "", "abc", NULL, 0, OAUTH_CB_Y),
    OK_B("flag y with authzid", "y,a=u," S "auth=Bearer abc" S S, "u", "abc", NULL, 0, OAUTH_CB_Y),
    OK_B("scheme lower case", "n,," S "auth=bearer abc" S S, "", "abc", NULL, 0, OAUTH_CB_N),
    OK_B("scheme upper case", "n,," S "auth=BEARER abc" S S, "", "abc", NULL, 0, OAUTH_CB_N),
    OK_B("scheme mixed case", "n,," S "auth=bEaReR abc" S S, "", "abc", NULL, 0, OAUTH_CB_N),
    OK_B("auth first, port before host", "n,," S "auth=Bearer t" S "port=587" S "host=h" S S, "",
         "t", "h", 587, OAUTH_CB_N),
    OK_B("host only", "n,," S "host=mx.example.org" S "auth=Bearer t" S S, "", "t",
         "mx.example.org", 0, OAUTH_CB_N),
    OK_B("port 1", "n,," S "port=1" S "auth=Bearer t" S S, "", "t", NULL, 1, OAUTH_CB_N),
    OK_B("port 65535", "n,," S "port=65535" S "auth=Bearer t" S S, "", "t", NULL, 65535,
         OAUTH_CB_N),
    OK_B("port 10000", "n,," S "port=10000" S "auth=Bearer t" S S, "", "t", NULL, 10000,
         OAUTH_CB_N),
    OK_B("host IPv6 literal", "n,," S "host=[::1]" S "auth=Bearer t" S S, "", "t", "[::1]", 0,
         OAUTH_CB_N),
    OK_B("unknown key ignored", "n,," S "foo=bar baz" S "auth=Bearer t" S S, "", "t", NULL, 0,
         OAUTH_CB_N),
    OK_B("unknown key after auth", "n,," S "auth=Bearer t" S "xyz=1" S S, "", "t", NULL, 0,
         OAUTH_CB_N),
    OK_B("unknown key twice (ignored)", "n,," S "foo=1" S "foo=2" S "auth=Bearer t" S S, "", "t",
         NULL, 0, OAUTH_CB_N),
    OK_B("unknown value with HTAB, CR, LF, SP", "n,," S "foo=a\tb\r\nc d" S "auth=Bearer t" S S,
         "", "t", NULL, 0, OAUTH_CB_N),
    OK_B("unknown key with empty value", "n,," S "foo=" S "auth=Bearer t" S S, "", "t", NULL, 0,
         OAUTH_CB_N),
    OK_B("reserved keys ignored (RFC 7628 3.1.1)",
         "n,," S "mthd=POST" S "path=/" S "post=" S "qs=" S "auth=Bearer t" S S, "", "t", NULL, 0,
         OAUTH_CB_N),
    OK_B("AUTH is an unknown key", "n,," S "AUTH=x y" S "auth=Bearer t" S S, "", "t", NULL, 0,
         OAUTH_CB_N),
    OK_B("Host is an unknown key (then no dup)", "n,," S "Host=a b" S "host=h" S "auth=Bearer t" S S,
         "", "t", "h", 0, OAUTH_CB_N),
    OK_B("authzid escapes", "n,a=us=2Cer=3Dx," S "auth=Bearer t" S S, "us,er=x", "t", NULL, 0,
         OAUTH_CB_N),
    OK_B("authzid only escapes", "n,a==2C=3D=2C," S "auth=Bearer t" S S, ",=,", "t", NULL, 0,
         OAUTH_CB_N),
    OK_B("authzid UTF-8", "n,a=j\xc3\xbcrgen@\xe4\xbe\x8b.jp," S "auth=Bearer t" S S,
         "j\xc3\xbcrgen@\xe4\xbe\x8b.jp", "t", NULL, 0, OAUTH_CB_N),
    OK_B("authzid 4-byte UTF-8", "n,a=\xf0\x9f\x98\x80," S "auth=Bearer t" S S, "\xf0\x9f\x98\x80",
         "t", NULL, 0, OAUTH_CB_N),
    OK_B("authzid with spaces", "n,a=tim smith," S "auth=Bearer t" S S, "tim smith", "t", NULL, 0,
         OAUTH_CB_N),
    OK_B("token: every b64token character",
         "n,," S "auth=Bearer AZaz09-._~+/==" S S, "", "AZaz09-._~+/==", NULL, 0, OAUTH_CB_N),
    OK_B("token of one byte", "n,," S "auth=Bearer x" S S, "", "x", NULL, 0, OAUTH_CB_N),
    OK_B("token with a JWT's dots", "n,," S "auth=Bearer eyJ.eyJ.sig" S S, "", "eyJ.eyJ.sig",
         NULL, 0, OAUTH_CB_N),
    {"token exactly max_token", B, M("n,," S "auth=Bearer abc" S S), 3, OAUTH_CODEC_OK, "", "abc",
     NULL, 0, OAUTH_CB_N},
    {"RFC 7628 4.3 auth= empty", B,
     M("n,a=user@example.com," S "host=server.example.com" S "port=143" S "auth=" S S), 0,
     OAUTH_CODEC_AUTH_EMPTY, "user@example.com", NULL, "server.example.com", 143, OAUTH_CB_N},
    {"auth= empty, nothing else", B, M("n,," S "auth=" S S), 0, OAUTH_CODEC_AUTH_EMPTY, "", NULL,
     NULL, 0, OAUTH_CB_N},

    /* ---- OAUTHBEARER: message and GS2 header ---- */
    BAD(B, "empty message", "", OAUTH_CODEC_ERR_EMPTY),
    BAD(B, "lone kvsep", S, OAUTH_CODEC_ERR_KVSEP_ONLY),
    BAD(B, "two kvseps", S S, OAUTH_CODEC_ERR_GS2_HEADER),
    BAD(B, "p= channel binding", "p=tls-unique,," S "auth=Bearer " SECRET S S,
        OAUTH_CODEC_ERR_CHANNEL_BINDING),
    BAD(B, "p= channel binding with authzid", "p=tls-server-end-point,a=u," S "auth=Bearer t" S S,
        OAUTH_CODEC_ERR_CHANNEL_BINDING),
    BAD(B, "p without =", "p,," S "auth=Bearer t" S S, OAUTH_CODEC_ERR_GS2_HEADER),
    BAD(B, "non-standard flag F", "F,n,," S "auth=Bearer t" S S, OAUTH_CODEC_ERR_GS2_HEADER),
    BAD(B, "flag N upper case", "N,," S "auth=Bearer t" S S, OAUTH_CODEC_ERR_GS2_HEADER),
    BAD(B, "flag x", "x,," S "auth=Bearer t" S S, OAUTH_CODEC_ERR_GS2_HEADER),
    BAD(B, "no GS2 header", S "auth=Bearer t" S S, OAUTH_CODEC_ERR_GS2_HEADER),
    BAD(B, "flag without comma", "n" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_GS2_HEADER),
    BAD(B, "flag, one comma only", "n," S "auth=Bearer t" S S, OAUTH_CODEC_ERR_GS2_HEADER),
    BAD(B, "flag nn", "nn,," S "auth=Bearer t" S S, OAUTH_CODEC_ERR_GS2_HEADER),
    BAD(B, "just n", "n", OAUTH_CODEC_ERR_GS2_HEADER),
    BAD(B, "just n,", "n,", OAUTH_CODEC_ERR_GS2_HEADER),
    BAD(B, "just n,,", "n,,", OAUTH_CODEC_ERR_SYNTAX),
    BAD(B, "RFC 7628 4.4 header n,user=...,", "n,user=someuser@example.com," S "auth=Bearer t" S S,
        OAUTH_CODEC_ERR_GS2_HEADER),
    BAD(B, "b= instead of a=", "n,b=u," S "auth=Bearer t" S S, OAUTH_CODEC_ERR_GS2_HEADER),
    BAD(B, "A= upper case", "n,A=u," S "auth=Bearer t" S S, OAUTH_CODEC_ERR_GS2_HEADER),
    BAD(B, "a without =", "n,a," S "auth=Bearer t" S S, OAUTH_CODEC_ERR_GS2_HEADER),
    BAD(B, "empty authzid a=,", "n,a=," S "auth=Bearer t" S S, OAUTH_CODEC_ERR_AUTHZID),
    BAD(B, "authzid runs into the pairs", "n,a=user" S "auth=Bearer t" S S,
        OAUTH_CODEC_ERR_AUTHZID),
    BAD(B, "authzid without closing comma", "n,a=user" S "x" S S, OAUTH_CODEC_ERR_GS2_HEADER),
    BAD(B, "authzid: lower-case escape =2c", "n,a=us=2cer," S "auth=Bearer t" S S,
        OAUTH_CODEC_ERR_AUTHZID),
    BAD(B, "authzid: lower-case escape =3d", "n,a=us=3der," S "auth=Bearer t" S S,
        OAUTH_CODEC_ERR_AUTHZID),
    BAD(B, "authzid: escape =41", "n,a=us=41er," S "auth=Bearer t" S S, OAUTH_CODEC_ERR_AUTHZID),
    BAD(B, "authzid: raw =", "n,a=us=er," S "auth=Bearer t" S S, OAUTH_CODEC_ERR_AUTHZID),
    BAD(B, "authzid: = before the comma", "n,a=user=," S "auth=Bearer t" S S,
        OAUTH_CODEC_ERR_AUTHZID),
    BAD(B, "authzid: =2 before the comma", "n,a=user=2," S "auth=Bearer t" S S,
        OAUTH_CODEC_ERR_AUTHZID),
    BAD(B, "authzid: raw comma splits it", "n,a=us,er," S "auth=Bearer t" S S,
        OAUTH_CODEC_ERR_SYNTAX),
    BAD(B, "authzid: ^A", "n,a=u" S "x," S "auth=Bearer t" S S, OAUTH_CODEC_ERR_AUTHZID),
    BAD(B, "authzid: TAB", "n,a=u\tx," S "auth=Bearer t" S S, OAUTH_CODEC_ERR_AUTHZID),
    BAD(B, "authzid: LF", "n,a=u\nx," S "auth=Bearer t" S S, OAUTH_CODEC_ERR_AUTHZID),
    BAD(B, "authzid: DEL", "n,a=u\x7fx," S "auth=Bearer t" S S, OAUTH_CODEC_ERR_AUTHZID),
    BAD(B, "authzid: NUL", "n,a=us\0er," S "auth=Bearer t" S S, OAUTH_CODEC_ERR_NUL),
    BAD(B, "authzid: byte FF", "n,a=\xff," S "auth=Bearer t" S S, OAUTH_CODEC_ERR_AUTHZID),
    BAD(B, "authzid: overlong /", "n,a=\xc0\xaf," S "auth=Bearer t" S S, OAUTH_CODEC_ERR_AUTHZID),
    BAD(B, "authzid: surrogate", "n,a=\xed\xa0\x80," S "auth=Bearer t" S S,
        OAUTH_CODEC_ERR_AUTHZID),
    BAD(B, "authzid: above U+10FFFF", "n,a=\xf4\x90\x80\x80," S "auth=Bearer t" S S,
        OAUTH_CODEC_ERR_AUTHZID),
    BAD(B, "authzid: truncated UTF-8", "n,a=j\xc3," S "auth=Bearer t" S S,
        OAUTH_CODEC_ERR_AUTHZID),
    BAD(B, "authzid: lone continuation byte", "n,a=\x80," S "auth=Bearer t" S S,
        OAUTH_CODEC_ERR_AUTHZID),
    BAD(B, "authzid: escape =01", "n,a==01," S "auth=Bearer t" S S,
        OAUTH_CODEC_ERR_AUTHZID),

    /* ---- OAUTHBEARER: separators and pairs ---- */
    BAD(B, "no kvsep after the header", "n,,auth=Bearer t" S S, OAUTH_CODEC_ERR_SYNTAX),
    BAD(B, "no final kvsep", "n,," S "auth=Bearer t" S, OAUTH_CODEC_ERR_SYNTAX),
    BAD(B, "no kvsep at all after auth", "n,," S "auth=Bearer " SECRET, OAUTH_CODEC_ERR_SYNTAX),
    BAD(B, "no pairs", "n,," S S, OAUTH_CODEC_ERR_NO_AUTH),
    BAD(B, "no auth, host and port only", "n,," S "host=h" S "port=1" S S, OAUTH_CODEC_ERR_NO_AUTH),
    BAD(B, "trailing byte", "n,," S "auth=Bearer " SECRET S S "x", OAUTH_CODEC_ERR_TRAILING),
    BAD(B, "trailing kvsep", "n,," S "auth=Bearer t" S S S, OAUTH_CODEC_ERR_TRAILING),
    BAD(B, "trailing pair", "n,," S "auth=Bearer t" S S "foo=bar" S, OAUTH_CODEC_ERR_TRAILING),
    BAD(B, "trailing CRLF", "n,," S "auth=Bearer t" S S "\r\n", OAUTH_CODEC_ERR_TRAILING),
    BAD(B, "trailing NUL", "n,," S "auth=Bearer t" S S "\0", OAUTH_CODEC_ERR_NUL),
    BAD(B, "duplicate auth", "n,," S "auth=Bearer " SECRET S "auth=Bearer " SECRET S S,
        OAUTH_CODEC_ERR_DUPLICATE),
    BAD(B, "duplicate auth, second empty", "n,," S "auth=Bearer t" S "auth=" S S,
        OAUTH_CODEC_ERR_DUPLICATE),
    BAD(B, "duplicate host", "n,," S "host=a" S "host=a" S "auth=Bearer t" S S,
        OAUTH_CODEC_ERR_DUPLICATE),
    BAD(B, "duplicate port", "n,," S "port=1" S "port=2" S "auth=Bearer t" S S,
        OAUTH_CODEC_ERR_DUPLICATE),
    BAD(B, "key with a digit", "n,," S "k1=v" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_KVPAIR),
    BAD(B, "key with a dash", "n,," S "x-y=v" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_KVPAIR),
    BAD(B, "empty key", "n,," S "=v" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_KVPAIR),
    BAD(B, "key without =", "n,," S "auth" S S, OAUTH_CODEC_ERR_KVPAIR),
    BAD(B, "space for =", "n,," S "auth Bearer t" S S, OAUTH_CODEC_ERR_KVPAIR),
    BAD(B, "space before =", "n,," S "auth =Bearer t" S S, OAUTH_CODEC_ERR_KVPAIR),
    BAD(B, "key at the end", "n,," S "auth", OAUTH_CODEC_ERR_SYNTAX),
    BAD(B, "unknown value: 8-bit byte", "n,," S "foo=\xc3\xa9" S "auth=Bearer t" S S,
        OAUTH_CODEC_ERR_KVPAIR),
    BAD(B, "unknown value: DEL", "n,," S "foo=\x7f" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_KVPAIR),
    BAD(B, "unknown value: ^B", "n,," S "foo=\x02" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_KVPAIR),
    BAD(B, "NUL in a value", "n,," S "foo=a\0b" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_NUL),
    BAD(B, "NUL first", "\0n,," S "auth=Bearer t" S S, OAUTH_CODEC_ERR_NUL),

    /* ---- OAUTHBEARER: host and port ---- */
    BAD(B, "empty host", "n,," S "host=" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_HOST),
    BAD(B, "host with a space", "n,," S "host=a b" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_HOST),
    BAD(B, "host with CR", "n,," S "host=a\rb" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_HOST),
    BAD(B, "host with LF", "n,," S "host=a\n" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_HOST),
    BAD(B, "host 8-bit", "n,," S "host=\xc3\xa9.de" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_HOST),
    BAD(B, "port 0", "n,," S "port=0" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_PORT),
    BAD(B, "port leading zero", "n,," S "port=0143" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_PORT),
    BAD(B, "port 65536", "n,," S "port=65536" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_PORT),
    BAD(B, "port 99999", "n,," S "port=99999" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_PORT),
    BAD(B, "port six digits", "n,," S "port=100000" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_PORT),
    BAD(B, "port huge", "n,," S "port=18446744073709551617" S "auth=Bearer t" S S,
        OAUTH_CODEC_ERR_PORT),
    BAD(B, "port empty", "n,," S "port=" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_PORT),
    BAD(B, "port +1", "n,," S "port=+1" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_PORT),
    BAD(B, "port -1", "n,," S "port=-1" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_PORT),
    BAD(B, "port 1a", "n,," S "port=1a" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_PORT),
    BAD(B, "port with a space", "n,," S "port= 1" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_PORT),
    BAD(B, "port 0x10", "n,," S "port=0x10" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_PORT),

    /* ---- OAUTHBEARER: auth ---- */
    BAD(B, "scheme Basic", "n,," S "auth=Basic " SECRET S S, OAUTH_CODEC_ERR_SCHEME),
    BAD(B, "scheme MAC", "n,," S "auth=MAC id=\"" SECRET "\"" S S, OAUTH_CODEC_ERR_SCHEME),
    BAD(B, "scheme only", "n,," S "auth=Bearer" S S, OAUTH_CODEC_ERR_TOKEN_EMPTY),
    BAD(B, "scheme and space only", "n,," S "auth=Bearer " S S, OAUTH_CODEC_ERR_TOKEN_EMPTY),
    BAD(B, "scheme and two spaces", "n,," S "auth=Bearer  " S S, OAUTH_CODEC_ERR_SCHEME),
    BAD(B, "two spaces", "n,," S "auth=Bearer  " SECRET S S, OAUTH_CODEC_ERR_SCHEME),
    BAD(B, "TAB for the space", "n,," S "auth=Bearer\t" SECRET S S, OAUTH_CODEC_ERR_SCHEME),
    BAD(B, "no space", "n,," S "auth=Bearer" SECRET S S, OAUTH_CODEC_ERR_SCHEME),
    BAD(B, "BearerX", "n,," S "auth=BearerX " SECRET S S, OAUTH_CODEC_ERR_SCHEME),
    BAD(B, "Bear", "n,," S "auth=Bear " SECRET S S, OAUTH_CODEC_ERR_SCHEME),
    BAD(B, "leading space", "n,," S "auth= Bearer " SECRET S S, OAUTH_CODEC_ERR_SCHEME),
    BAD(B, "token only", "n,," S "auth=" SECRET S S, OAUTH_CODEC_ERR_SCHEME),
    BAD(B, "token with CR", "n,," S "auth=Bearer " SECRET "\rx" S S, OAUTH_CODEC_ERR_TOKEN),
    BAD(B, "token with LF", "n,," S "auth=Bearer " SECRET "\nx" S S, OAUTH_CODEC_ERR_TOKEN),
    BAD(B, "token with CRLF at its end", "n,," S "auth=Bearer " SECRET "\r\n" S S,
        OAUTH_CODEC_ERR_TOKEN),
    BAD(B, "token with HTAB", "n,," S "auth=Bearer " SECRET "\tx" S S, OAUTH_CODEC_ERR_TOKEN),
    BAD(B, "token with a space", "n,," S "auth=Bearer " SECRET " x" S S, OAUTH_CODEC_ERR_TOKEN),
    BAD(B, "token with a trailing space", "n,," S "auth=Bearer " SECRET " " S S,
        OAUTH_CODEC_ERR_TOKEN),
    BAD(B, "token with ^A inside", "n,," S "auth=Bearer " SECRET S "x" S S, OAUTH_CODEC_ERR_KVPAIR),
    BAD(B, "token with NUL", "n,," S "auth=Bearer " SECRET "\0x" S S, OAUTH_CODEC_ERR_NUL),
    BAD(B, "token with = inside", "n,," S "auth=Bearer " SECRET "=x" S S, OAUTH_CODEC_ERR_TOKEN),
    BAD(B, "token of = only", "n,," S "auth=Bearer ==" S S, OAUTH_CODEC_ERR_TOKEN),
    BAD(B, "token with a comma", "n,," S "auth=Bearer " SECRET ",x" S S, OAUTH_CODEC_ERR_TOKEN),
    BAD(B, "token with a quote", "n,," S "auth=Bearer \"" SECRET "\"" S S, OAUTH_CODEC_ERR_TOKEN),
    BAD(B, "token 8-bit", "n,," S "auth=Bearer " SECRET "\xc3\xa9" S S, OAUTH_CODEC_ERR_TOKEN),
    BAD(B, "token with DEL", "n,," S "auth=Bearer " SECRET "\x7f" S S, OAUTH_CODEC_ERR_TOKEN),
    BADMAX(B, "token max_token + 1", "n,," S "auth=Bearer abcd" S S, 3,
           OAUTH_CODEC_ERR_TOKEN_TOO_LONG),
    BADMAX(B, "token far over max_token", "n,," S "auth=Bearer " SECRET SECRET S S, 1,
           OAUTH_CODEC_ERR_TOKEN_TOO_LONG),
    BAD(B, "XOAUTH2 message", GOOGLE, OAUTH_CODEC_ERR_GS2_HEADER),

    /* ---- XOAUTH2, valid ---- */
    OK_X("Google example", GOOGLE, "someuser@example.com",
         "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"),
    OK_X("Google older example",
         "user=someuser@example.com" S "auth=Bearer vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg==" S S,
         "someuser@example.com", "vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg=="),
    OK_X("scheme lower case", "user=u" S "auth=bearer t" S S, "u", "t"),
    OK_X("scheme upper case", "user=u" S "auth=BEARER t" S S, "u", "t"),
    OK_X("user with space, comma and =", "user=tim smith,x=y" S "auth=Bearer t" S S,
         "tim smith,x=y", "t"),
    OK_X("user UTF-8", "user=j\xc3\xbcrgen" S "auth=Bearer t" S S, "j\xc3\xbcrgen", "t"),
    OK_X("user that looks like a key", "user=auth=x" S "auth=Bearer t" S S, "auth=x", "t"),
    {"auth= empty", X, M("user=u" S "auth=" S S), 0, OAUTH_CODEC_AUTH_EMPTY, "u", NULL, NULL, 0,
     OAUTH_CB_N},
    {"token exactly max_token", X, M("user=u" S "auth=Bearer abc" S S), 3, OAUTH_CODEC_OK, "u",
     "abc", NULL, 0, OAUTH_CB_N},

    /* ---- XOAUTH2, invalid ---- */
    BAD(X, "empty message", "", OAUTH_CODEC_ERR_EMPTY),
    BAD(X, "lone kvsep", S, OAUTH_CODEC_ERR_SYNTAX),
    BAD(X, "two kvseps", S S, OAUTH_CODEC_ERR_SYNTAX),
    BAD(X, "user= only", "user=", OAUTH_CODEC_ERR_SYNTAX),
    BAD(X, "user only", "user=u", OAUTH_CODEC_ERR_SYNTAX),
    BAD(X, "user and kvsep", "user=u" S, OAUTH_CODEC_ERR_SYNTAX),
    BAD(X, "no kvsep after auth", "user=u" S "auth=Bearer " SECRET, OAUTH_CODEC_ERR_SYNTAX),
    BAD(X, "no final kvsep", "user=u" S "auth=Bearer " SECRET S, OAUTH_CODEC_ERR_SYNTAX),
    BAD(X, "trailing kvsep", "user=u" S "auth=Bearer " SECRET S S S, OAUTH_CODEC_ERR_TRAILING),
    BAD(X, "trailing byte", "user=u" S "auth=Bearer " SECRET S S "x", OAUTH_CODEC_ERR_TRAILING),
    BAD(X, "trailing newline", "user=u" S "auth=Bearer t" S S "\n", OAUTH_CODEC_ERR_TRAILING),
    BAD(X, "keys swapped", "auth=Bearer t" S "user=u" S S, OAUTH_CODEC_ERR_SYNTAX),
    BAD(X, "User= upper case", "User=u" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_SYNTAX),
    BAD(X, "Auth= upper case", "user=u" S "Auth=Bearer t" S S, OAUTH_CODEC_ERR_SYNTAX),
    BAD(X, "extra key after auth", "user=u" S "auth=Bearer t" S "host=h" S S,
        OAUTH_CODEC_ERR_SYNTAX),
    BAD(X, "extra key between", "user=u" S "host=h" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_SYNTAX),
    BAD(X, "no auth", "user=u" S S, OAUTH_CODEC_ERR_SYNTAX),
    BAD(X, "space before auth", "user=u" S " auth=Bearer t" S S, OAUTH_CODEC_ERR_SYNTAX),
    BAD(X, "empty user", "user=" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_USER),
    BAD(X, "user with TAB", "user=u\tv" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_USER),
    BAD(X, "user with CR", "user=u\r" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_USER),
    BAD(X, "user with byte FF", "user=\xff" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_USER),
    BAD(X, "user with NUL", "user=u\0v" S "auth=Bearer t" S S, OAUTH_CODEC_ERR_NUL),
    BAD(X, "scheme Basic", "user=u" S "auth=Basic " SECRET S S, OAUTH_CODEC_ERR_SCHEME),
    BAD(X, "scheme only", "user=u" S "auth=Bearer" S S, OAUTH_CODEC_ERR_TOKEN_EMPTY),
    BAD(X, "scheme and space only", "user=u" S "auth=Bearer " S S, OAUTH_CODEC_ERR_TOKEN_EMPTY),
    BAD(X, "two spaces", "user=u" S "auth=Bearer  " SECRET S S, OAUTH_CODEC_ERR_SCHEME),
    BAD(X, "no space", "user=u" S "auth=Bearer" SECRET S S, OAUTH_CODEC_ERR_SCHEME),
    BAD(X, "token with CR", "user=u" S "auth=Bearer " SECRET "\r" S S, OAUTH_CODEC_ERR_TOKEN),
    BAD(X, "token with LF", "user=u" S "auth=Bearer " SECRET "\n" S S, OAUTH_CODEC_ERR_TOKEN),
    BAD(X, "token with a space", "user=u" S "auth=Bearer " SECRET " x" S S, OAUTH_CODEC_ERR_TOKEN),
    BAD(X, "token with ^A inside", "user=u" S "auth=Bearer " SECRET S "x" S S,
        OAUTH_CODEC_ERR_SYNTAX),
    BAD(X, "token with NUL", "user=u" S "auth=Bearer " SECRET "\0" S S, OAUTH_CODEC_ERR_NUL),
    BAD(X, "token with = inside", "user=u" S "auth=Bearer " SECRET "=a" S S, OAUTH_CODEC_ERR_TOKEN),
    BADMAX(X, "token max_token + 1", "user=u" S "auth=Bearer abcd" S S, 3,
           OAUTH_CODEC_ERR_TOKEN_TOO_LONG),
    BAD(X, "OAUTHBEARER message", RFC_41, OAUTH_CODEC_ERR_SYNTAX),
};

static void check_row_fields(const struct row *r, size_t i, const struct oauth_client_msg *m,
                             const char *p)
{
    (void)i;
    assert_int_equal(m->cb, r->cb);
    assert_int_equal(m->user_len, strlen(r->user));
    assert_string_equal(m->user, r->user);
    if (r->token) {
        assert_non_null(m->token);
        assert_int_equal(m->token_len, strlen(r->token));
        assert_memory_equal(m->token, r->token, m->token_len);
        assert_true(m->token >= p && m->token + m->token_len <= p + r->len);
    } else {
        assert_null(m->token);
        assert_int_equal(m->token_len, 0);
    }
    if (r->host) {
        assert_non_null(m->host);
        assert_int_equal(m->host_len, strlen(r->host));
        assert_memory_equal(m->host, r->host, m->host_len);
        assert_true(m->host >= p && m->host + m->host_len <= p + r->len);
    } else {
        assert_null(m->host);
        assert_int_equal(m->host_len, 0);
    }
    assert_int_equal(m->port, r->port);
}

static void test_client_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct row *r = &rows[i];
        struct oauth_client_msg m;
        enum oauth_codec_status st;
        struct oauth_err err = {0};
        char *p = heap_copy(r->msg, r->len);

        memset(err.reason, 'w', sizeof(err.reason));
        st = oauth_parse_client_msg(
            r->mech, p, r->len, r->max_token ? r->max_token : OAUTH_DEFAULT_MAX_TOKEN, &m, &err);
        if (st != r->expect)
            fail_msg("row %zu (%s): status %d (%s: %s), expected %d (%s)", i, r->name, (int)st,
                     oauth_codec_status_text(st), err.reason, (int)r->expect,
                     oauth_codec_status_text(r->expect));
        assert_non_null(memchr(err.reason, '\0', sizeof(err.reason)));
        if (st == OAUTH_CODEC_OK || st == OAUTH_CODEC_AUTH_EMPTY)
            check_row_fields(r, i, &m, p);
        if (st != OAUTH_CODEC_OK && strlen(err.reason) == 0)
            fail_msg("row %zu (%s): no reason given", i, r->name);
        /* the reason never quotes the token */
        if (contains(err.reason, strlen(err.reason), SECRET)
            || contains(err.reason, strlen(err.reason), "abc"))
            fail_msg("row %zu (%s): reason quotes the token: %s", i, r->name, err.reason);
        if (st == OAUTH_CODEC_OK && strlen(err.reason) != 0)
            fail_msg("row %zu (%s): reason on success: %s", i, r->name, err.reason);
        free(p);
    }
}

/* Every proper prefix of a valid message fails, and so does the message
 * with any one byte made NUL, or a ^A or space put inside its token. */
static void test_client_truncations(void **state)
{
    static const struct {
        enum oauth_mech mech;
        const char *msg;
        size_t len;
    } valid[] = {
        {B, M(RFC_41)},
        {B, M("y,a=a=2Cb," S "auth=Bearer t" S "foo=bar" S S)},
        {B, M("n,a=user@example.com," S "host=server.example.com" S "port=143" S "auth=" S S)},
        {X, M(GOOGLE)},
        {X, M("user=u" S "auth=" S S)},
    };
    struct oauth_client_msg m;
    size_t v, cut;

    (void)state;
    for (v = 0; v < sizeof(valid) / sizeof(valid[0]); v++) {
        const char *msg = valid[v].msg;
        size_t len = valid[v].len;
        enum oauth_codec_status st = parse(valid[v].mech, msg, len, OAUTH_DEFAULT_MAX_TOKEN, &m);
        const char *tok;

        size_t toklen = m.token_len;

        assert_true(st == OAUTH_CODEC_OK || st == OAUTH_CODEC_AUTH_EMPTY);
        for (cut = 0; cut < len; cut++) {
            st = parse(valid[v].mech, msg, cut, OAUTH_DEFAULT_MAX_TOKEN, &m);
            if (st == OAUTH_CODEC_OK || st == OAUTH_CODEC_AUTH_EMPTY)
                fail_msg("message %zu: prefix of %zu bytes accepted", v, cut);
        }
        for (cut = 0; cut < len; cut++) {
            char *p = heap_copy(msg, len);
            p[cut] = '\0';
            st = parse(valid[v].mech, p, len, OAUTH_DEFAULT_MAX_TOKEN, &m);
            if (st != OAUTH_CODEC_ERR_NUL)
                fail_msg("message %zu: NUL at %zu gives %s", v, cut, oauth_codec_status_text(st));
            free(p);
        }
        /* a kvsep, a space, CR or LF anywhere inside the token */
        tok = strstr(msg, "Bearer ");
        if (tok) {
            size_t at = (size_t)(tok - msg) + 7, k;
            static const char bad[] = {'\x01', ' ', '\r', '\n', '\t', '=', ','};
            /* every insertion point from just after "Bearer " to just before the ^A */
            for (; at < len && (at == 0 || msg[at - 1] != '\x01'); at++)
                for (k = 0; k < sizeof(bad); k++) {
                    char *p = malloc(len + 1);
                    assert_non_null(p);
                    memcpy(p, msg, at);
                    p[at] = bad[k];
                    memcpy(p + at + 1, msg + at, len - at);
                    st = parse(valid[v].mech, p, len + 1, OAUTH_DEFAULT_MAX_TOKEN, &m);
                    /* '=' at the end of the token's '=' run stays a valid b64token;
                     * a ^A ends the token: what follows may form an unknown
                     * pair ("tCg==" is key "tCg", value "="), never the token */
                    if (st == OAUTH_CODEC_OK && bad[k] == '\x01')
                        assert_true(m.token_len < toklen);
                    else if (st == OAUTH_CODEC_OK
                             && !(bad[k] == '=' && (msg[at] == '=' || msg[at] == '\x01')))
                        fail_msg("message %zu: byte %02x at %zu of the token accepted", v,
                                 (unsigned)(unsigned char)bad[k], at);
                    free(p);
                }
        }
    }
}

static void test_client_null_args(void **state)
{
    struct oauth_client_msg m;
    struct oauth_err err = {0};

    (void)state;
    assert_int_equal(oauth_parse_client_msg(B, NULL, 5, 100, &m, &err),
                     OAUTH_CODEC_ERR_ARG);
    assert_int_equal(oauth_parse_client_msg(B, "n,,", 3, 100, NULL, &err),
                     OAUTH_CODEC_ERR_ARG);
    assert_int_equal(oauth_parse_client_msg((enum oauth_mech)0, M(RFC_41), 100, &m, NULL),
                     OAUTH_CODEC_ERR_ARG);
    assert_int_equal(oauth_parse_client_msg((enum oauth_mech)9, M(RFC_41), 100, &m, &err),
                     OAUTH_CODEC_ERR_ARG);
    assert_int_equal(oauth_parse_client_msg(B, NULL, 0, 100, &m, &err),
                     OAUTH_CODEC_ERR_EMPTY);
    /* no error to fill; then one: a broken message is the other side's
     * (invalid_request), bad arguments are ours */
    assert_int_equal(oauth_parse_client_msg(B, M("n,,"), 100, &m, NULL), OAUTH_CODEC_ERR_SYNTAX);
    memset(&err, 'x', sizeof(err));
    assert_int_equal(oauth_parse_client_msg(B, M("n,,"), 100, &m, &err), OAUTH_CODEC_ERR_SYNTAX);
    assert_true(strlen(err.reason) > 0 && strlen(err.reason) < sizeof(err.reason));
    assert_int_equal(err.cls, OAUTH_ERR_CLIENT);
    assert_int_equal(err.code, OAUTH_CODEC_ERR_SYNTAX);
    assert_int_equal(err.status, OAUTH_STATUS_INVALID_REQUEST);
    assert_int_equal(oauth_parse_client_msg(B, NULL, 5, 100, &m, &err), OAUTH_CODEC_ERR_ARG);
    assert_int_equal(err.cls, OAUTH_ERR_INTERNAL);
    assert_int_equal(oauth_parse_client_msg(B, M("n,," S "auth=" S S), 100, &m, &err),
                     OAUTH_CODEC_AUTH_EMPTY);
    assert_int_equal(err.cls, OAUTH_OK);
}

/* ---- sizes ------------------------------------------------------------------ */

static char *make_msg(enum oauth_mech mech, const char *user, size_t toklen, const char *extra,
                      size_t *len)
{
    size_t ul = strlen(user), el = strlen(extra), cap = 64 + ul + toklen + el, n;
    char *p = malloc(cap);

    assert_non_null(p);
    if (mech == X)
        n = (size_t)snprintf(p, cap, "user=%s" S "auth=Bearer ", user);
    else
        n = (size_t)snprintf(p, cap, "n,%s%s," S "%sauth=Bearer ", ul ? "a=" : "", user, extra);
    memset(p + n, 'T', toklen);
    n += toklen;
    p[n++] = '\x01';
    p[n++] = '\x01';
    *len = n;
    return p;
}

static void test_sizes(void **state)
{
    struct oauth_client_msg m;
    enum oauth_mech mech;
    char *p, user[OAUTH_MAX_USER + 2], esc[3 * OAUTH_MAX_USER + 1], host[OAUTH_MAX_HOST + 2];
    char extra[OAUTH_MAX_HOST + 16];
    size_t len, i;

    (void)state;
    for (mech = X; mech <= B; mech++) {
        /* the default token cap, and one more */
        p = make_msg(mech, "u", OAUTH_DEFAULT_MAX_TOKEN, "", &len);
        assert_int_equal(parse(mech, p, len, OAUTH_DEFAULT_MAX_TOKEN, &m), OAUTH_CODEC_OK);
        assert_int_equal(m.token_len, OAUTH_DEFAULT_MAX_TOKEN);
        free(p);
        p = make_msg(mech, "u", OAUTH_DEFAULT_MAX_TOKEN + 1, "", &len);
        assert_int_equal(parse(mech, p, len, OAUTH_DEFAULT_MAX_TOKEN, &m),
                         OAUTH_CODEC_ERR_TOKEN_TOO_LONG);
        free(p);
        /* max_token above the limit is lowered to it */
        p = make_msg(mech, "u", OAUTH_MAX_TOKEN_LIMIT, "", &len);
        assert_int_equal(parse(mech, p, len, SIZE_MAX, &m), OAUTH_CODEC_OK);
        free(p);
        p = make_msg(mech, "u", OAUTH_MAX_TOKEN_LIMIT + 1, "", &len);
        assert_int_equal(parse(mech, p, len, SIZE_MAX, &m), OAUTH_CODEC_ERR_TOKEN_TOO_LONG);
        free(p);
        /* the whole message's cap, checked before anything else */
        p = make_msg(mech, "u", OAUTH_MAX_CLIENT_MESSAGE(100), "", &len);
        assert_int_equal(parse(mech, p, len, 100, &m), OAUTH_CODEC_ERR_TOO_LONG);
        assert_int_equal(parse(mech, p, OAUTH_MAX_CLIENT_MESSAGE(100) + 1, 100, &m),
                         OAUTH_CODEC_ERR_TOO_LONG);
        assert_int_equal(parse(mech, p, OAUTH_MAX_CLIENT_MESSAGE(100), 100, &m),
                         OAUTH_CODEC_ERR_SYNTAX);
        assert_int_equal(parse(mech, p, len, 0, &m), OAUTH_CODEC_ERR_TOO_LONG);
        free(p);
        /* the user / authzid cap */
        memset(user, 'u', OAUTH_MAX_USER);
        user[OAUTH_MAX_USER] = '\0';
        p = make_msg(mech, user, 5, "", &len);
        assert_int_equal(parse(mech, p, len, 100, &m), OAUTH_CODEC_OK);
        assert_int_equal(m.user_len, OAUTH_MAX_USER);
        assert_string_equal(m.user, user);
        free(p);
        user[OAUTH_MAX_USER] = 'u';
        user[OAUTH_MAX_USER + 1] = '\0';
        p = make_msg(mech, user, 5, "", &len);
        assert_int_equal(parse(mech, p, len, 100, &m), OAUTH_CODEC_ERR_USER_TOO_LONG);
        free(p);
    }
    /* an authzid of OAUTH_MAX_USER escaped commas: 3 times as long on the wire */
    for (i = 0; i < OAUTH_MAX_USER; i++)
        memcpy(esc + 3 * i, "=2C", 3);
    esc[3 * OAUTH_MAX_USER] = '\0';
    p = make_msg(B, esc, 5, "", &len);
    assert_int_equal(parse(B, p, len, 100, &m), OAUTH_CODEC_OK);
    assert_int_equal(m.user_len, OAUTH_MAX_USER);
    for (i = 0; i < OAUTH_MAX_USER; i++)
        assert_int_equal(m.user[i], ',');
    free(p);
    /* host: OAUTH_MAX_HOST bytes, and one more */
    memset(host, 'h', OAUTH_MAX_HOST + 1);
    host[OAUTH_MAX_HOST] = '\0';
    snprintf(extra, sizeof(extra), "host=%s" S, host);
    p = make_msg(B, "", 5, extra, &len);
    assert_int_equal(parse(B, p, len, 100, &m), OAUTH_CODEC_OK);
    assert_int_equal(m.host_len, OAUTH_MAX_HOST);
    free(p);
    host[OAUTH_MAX_HOST] = 'h';
    host[OAUTH_MAX_HOST + 1] = '\0';
    snprintf(extra, sizeof(extra), "host=%s" S, host);
    p = make_msg(B, "", 5, extra, &len);
    assert_int_equal(parse(B, p, len, 100, &m), OAUTH_CODEC_ERR_HOST);
    free(p);
}

/* ---- the published vectors ------------------------------------------------- */

static void expect_b64(const struct vec_case *c, const char *msg, size_t len)
{
    const char *b64;
    char *enc;
    unsigned char *dec;
    size_t n, enclen = sm_b64_encoded_len(SM_B64_STD, len) + 1;

    VEC_GET_OR_FAIL(b64, c, "base64");
    enc = malloc(enclen);
    dec = malloc(sm_b64_decoded_max(strlen(b64)) + 1);
    assert_non_null(enc);
    assert_non_null(dec);
    assert_int_equal(sm_b64_encode(SM_B64_STD, msg, len, enc, enclen, &n), 0);
    assert_int_equal(n, strlen(b64));
    assert_memory_equal(enc, b64, n);
    assert_int_equal(sm_b64_decode(SM_B64_STD, b64, strlen(b64), dec,
                                   sm_b64_decoded_max(strlen(b64)) + 1, &n), 0);
    assert_int_equal(n, len);
    assert_memory_equal(dec, msg, len);
    free(enc);
    free(dec);
}

/* The message of a case: its exact bytes, checked against message_len and
 * decoded from its base64 line. */
static unsigned char *case_message(const struct vec_case *c, size_t *len)
{
    unsigned char *msg;
    const char *l;

    VEC_HEX_OR_FAIL(msg, *len, c, "message_hex");
    VEC_GET_OR_FAIL(l, c, "message_len");
    assert_int_equal(*len, (size_t)strtoul(l, NULL, 10));
    expect_b64(c, (const char *)msg, *len);
    return msg;
}

static void check_initial_vector(const struct vec_case *c, enum oauth_mech mech,
                                 enum oauth_codec_status expect, const char *user,
                                 const char *token, const char *host, unsigned port)
{
    struct oauth_client_params prm;
    struct oauth_client_msg m;
    size_t len, outlen;
    unsigned char *msg = case_message(c, &len);
    char *p = heap_copy((const char *)msg, len), *out;
    struct oauth_err err = {0};

    assert_int_equal(oauth_parse_client_msg(mech, p, len, OAUTH_DEFAULT_MAX_TOKEN, &m, &err),
                     expect);
    if (expect != OAUTH_CODEC_OK && expect != OAUTH_CODEC_AUTH_EMPTY) {
        free(p);
        free(msg);
        return;
    }
    assert_string_equal(m.user, user);
    if (token) {
        assert_int_equal(m.token_len, strlen(token));
        assert_memory_equal(m.token, token, m.token_len);
    } else {
        assert_null(m.token);
    }
    if (host) {
        assert_int_equal(m.host_len, strlen(host));
        assert_memory_equal(m.host, host, m.host_len);
    } else {
        assert_null(m.host);
    }
    assert_int_equal(m.port, port);
    assert_int_equal(m.cb, OAUTH_CB_N);

    /* and the client builds exactly these bytes */
    memset(&prm, 0, sizeof(prm));
    prm.user = user;
    prm.user_len = strlen(user);
    prm.token = token;
    prm.token_len = token ? strlen(token) : 0;
    prm.host = host;
    prm.host_len = host ? strlen(host) : 0;
    prm.port = port;
    assert_int_equal(oauth_build_client_msg(mech, &prm, NULL, 0, &outlen), OAUTH_CODEC_ERR_NO_ROOM);
    assert_int_equal(outlen, len);
    out = malloc(len + 1);
    assert_non_null(out);
    assert_int_equal(oauth_build_client_msg(mech, &prm, out, len + 1, &outlen), OAUTH_CODEC_OK);
    assert_int_equal(outlen, len);
    assert_memory_equal(out, msg, len);
    assert_int_equal(out[len], '\0');
    expect_b64(c, out, outlen);
    free(out);
    free(p);
    free(msg);
}

static void check_error_vector(const struct vec_case *c, const char *status,
                               enum oauth_error_status code, const char *scope,
                               const char *openid_config, int rebuild)
{
    struct oauth_error_info info;
    size_t len, outlen;
    unsigned char *msg = case_message(c, &len);
    struct oauth_err err = {0};
    char *p = heap_copy((const char *)msg, len);
    const char *text;

    VEC_GET_OR_FAIL(text, c, "message_text");
    assert_memory_equal(text, msg, strlen(text));
    assert_int_equal(oauth_parse_error_json(p, len, &info, &err), OAUTH_CODEC_OK);
    assert_string_equal(info.status, status);
    assert_int_equal(info.code, code);
    if (scope)
        assert_string_equal(info.scope, scope);
    else
        assert_null(info.scope);
    if (openid_config)
        assert_string_equal(info.openid_config, openid_config);
    else
        assert_null(info.openid_config);
    oauth_error_info_clear(&info);
    if (rebuild) {
        char out[OAUTH_MAX_ERROR_JSON + 1];
        assert_int_equal(oauth_build_error_json(B, code, scope, openid_config, out, sizeof(out),
                                                &outlen),
                         OAUTH_CODEC_OK);
        assert_int_equal(outlen, len);
        assert_memory_equal(out, msg, len);
        expect_b64(c, out, outlen);
    }
    free(p);
    free(msg);
}

static void test_vectors(void **state)
{
    struct vec_file *vf;
    size_t i;

    (void)state;
    VEC_LOAD_OR_FAIL(vf, "oauth.txt");
    assert_true(vf->ncases >= 11);
    for (i = 0; i < vf->ncases; i++) {
        const struct vec_case *c = &vf->cases[i];
        const char *n = c->name;

        if (strcmp(n, "rfc7628-4.1-imap-initial-response") == 0
            || strcmp(n, "rfc7628-4.1-smtp-initial-response") == 0) {
            const char *authzid, *host, *port, *token;
            VEC_GET_OR_FAIL(authzid, c, "authzid");
            VEC_GET_OR_FAIL(host, c, "host");
            VEC_GET_OR_FAIL(port, c, "port");
            VEC_GET_OR_FAIL(token, c, "token");
            check_initial_vector(c, B, OAUTH_CODEC_OK, authzid, token, host,
                                 (unsigned)strtoul(port, NULL, 10));
        } else if (strcmp(n, "rfc7628-4.3-initial-response-empty-auth") == 0) {
            check_initial_vector(c, B, OAUTH_CODEC_AUTH_EMPTY, "user@example.com", NULL,
                                 "server.example.com", 143);
        } else if (strcmp(n, "rfc7628-4.3-server-error-json-first-example") == 0) {
            check_error_vector(c, "invalid_token", OAUTH_STATUS_INVALID_TOKEN, "example_scope",
                               "https://example.com/.well-known/openid-config", 1);
        } else if (strcmp(n, "rfc7628-4.3-server-error-json-second-example") == 0) {
            check_error_vector(c, "invalid_token", OAUTH_STATUS_INVALID_TOKEN, "example_scope",
                               "https://example.com/.well-known/openid-configuration", 1);
        } else if (strcmp(n, "rfc7628-4.3-dummy-client-response") == 0) {
            size_t len, rlen;
            unsigned char *msg = case_message(c, &len);
            const char *r = oauth_error_reply(B, &rlen);
            assert_int_equal(rlen, len);
            assert_memory_equal(r, msg, len);
            assert_int_equal(oauth_check_error_reply(B, (const char *)msg, len), OAUTH_CODEC_OK);
            assert_int_equal(oauth_check_error_reply(X, (const char *)msg, len),
                             OAUTH_CODEC_ERR_REPLY);
            free(msg);
        } else if (strcmp(n, "rfc7628-4.4-smtp-initial-response") == 0) {
            /* "n,user=...," is not RFC 5801 syntax (see the case's caution) */
            check_initial_vector(c, B, OAUTH_CODEC_ERR_GS2_HEADER, NULL, NULL, NULL, 0);
        } else if (strcmp(n, "rfc7628-4.4-smtp-server-error-json") == 0) {
            check_error_vector(c, "invalid_token", OAUTH_STATUS_INVALID_TOKEN,
                               "https://mail.example.com/", NULL, 0);
        } else if (strcmp(n, "google-xoauth2-initial-response") == 0
                   || strcmp(n, "google-xoauth2-older-revision") == 0) {
            const char *user, *token;
            VEC_GET_OR_FAIL(user, c, "user");
            VEC_GET_OR_FAIL(token, c, "token");
            check_initial_vector(c, X, OAUTH_CODEC_OK, user, token, NULL, 0);
        } else if (strcmp(n, "google-xoauth2-error-challenge") == 0) {
            /* status "401" (an HTTP code, not an RFC 6750 one); trailing LF */
            check_error_vector(c, "401", (enum oauth_error_status)0, "https://mail.google.com/",
                               NULL, 0);
        } else {
            fail_msg("%s: case %s has no test", vf->path, n);
        }
    }
    vec_free(vf);
}

/* ---- builders ---------------------------------------------------------------- */

struct rt {
    enum oauth_mech mech;
    enum oauth_cb_flag cb;
    const char *user, *token, *host;
    unsigned port;
    const char *wire; /* exact expected bytes, or NULL */
    size_t wire_len;
};

static const struct rt rts[] = {
    {B, OAUTH_CB_N, "user@example.com", RFC_TOKEN, "server.example.com", 143, M(RFC_41)},
    {B, OAUTH_CB_N, "", "t", NULL, 0, M("n,," S "auth=Bearer t" S S)},
    {B, OAUTH_CB_Y, "", "t", NULL, 0, M("y,," S "auth=Bearer t" S S)},
    {B, OAUTH_CB_N, "a,b=c", "t", NULL, 0, M("n,a=a=2Cb=3Dc," S "auth=Bearer t" S S)},
    {B, OAUTH_CB_N, ",,==", "t", NULL, 0, M("n,a==2C=2C=3D=3D," S "auth=Bearer t" S S)},
    {B, OAUTH_CB_N, "", "t", NULL, 65535, M("n,," S "port=65535" S "auth=Bearer t" S S)},
    {B, OAUTH_CB_N, "", "t", NULL, 1, M("n,," S "port=1" S "auth=Bearer t" S S)},
    {B, OAUTH_CB_N, "", "t", "h", 0, M("n,," S "host=h" S "auth=Bearer t" S S)},
    {B, OAUTH_CB_N, "", NULL, NULL, 0, M("n,," S "auth=" S S)},
    {B, OAUTH_CB_Y, "j\xc3\xbcrgen", "AZaz09-._~+/==", "[::1]", 993, NULL, 0},
    {B, OAUTH_CB_N, "x", "eyJ.eyJ.s-_", "mx.example.org", 25, NULL, 0},
    {X, OAUTH_CB_N, "someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg", NULL,
     0, M(GOOGLE)},
    {X, OAUTH_CB_N, "a,b=c d", "t", NULL, 0, M("user=a,b=c d" S "auth=Bearer t" S S)},
    {X, OAUTH_CB_N, "u", NULL, NULL, 0, M("user=u" S "auth=" S S)},
    {X, OAUTH_CB_N, "\xf0\x9f\x98\x80", "x==", NULL, 0, NULL, 0},
};

static void test_round_trips(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rts) / sizeof(rts[0]); i++) {
        const struct rt *t = &rts[i];
        struct oauth_client_params prm;
        struct oauth_client_msg m;
        size_t need, outlen, room;
        char *out;
        enum oauth_codec_status st;

        memset(&prm, 0, sizeof(prm));
        prm.cb = t->cb;
        prm.user = t->user;
        prm.user_len = strlen(t->user);
        prm.token = t->token;
        prm.token_len = t->token ? strlen(t->token) : 0;
        prm.host = t->host;
        prm.host_len = t->host ? strlen(t->host) : 0;
        prm.port = t->port;
        assert_int_equal(oauth_build_client_msg(t->mech, &prm, NULL, 0, &need),
                         OAUTH_CODEC_ERR_NO_ROOM);
        out = malloc(need + 8);
        assert_non_null(out);
        /* too small by any amount: nothing written */
        for (room = 0; room < need; room++) {
            memset(out, 'z', need + 8);
            outlen = 0;
            assert_int_equal(oauth_build_client_msg(t->mech, &prm, out, room, &outlen),
                             OAUTH_CODEC_ERR_NO_ROOM);
            assert_int_equal(outlen, need);
            assert_int_equal(out[0], 'z');
        }
        /* exactly the length: no NUL; one more: NUL */
        memset(out, 'z', need + 8);
        assert_int_equal(oauth_build_client_msg(t->mech, &prm, out, need, &outlen), OAUTH_CODEC_OK);
        assert_int_equal(outlen, need);
        assert_int_equal(out[need], 'z');
        assert_int_equal(oauth_build_client_msg(t->mech, &prm, out, need + 8, &outlen),
                         OAUTH_CODEC_OK);
        assert_int_equal(out[need], '\0');
        assert_int_equal(out[need + 1], 'z');
        if (t->wire) {
            assert_int_equal(outlen, t->wire_len);
            assert_memory_equal(out, t->wire, outlen);
        }
        st = parse(t->mech, out, outlen, OAUTH_DEFAULT_MAX_TOKEN, &m);
        /* parse() cleared the pointers; parse in place for them */
        assert_int_equal(st, t->token ? OAUTH_CODEC_OK : OAUTH_CODEC_AUTH_EMPTY);
        assert_int_equal(oauth_parse_client_msg(t->mech, out, outlen, OAUTH_DEFAULT_MAX_TOKEN, &m,
                                                NULL),
                         st);
        assert_int_equal(m.cb, t->mech == B ? t->cb : OAUTH_CB_N);
        assert_string_equal(m.user, t->user);
        assert_int_equal(m.token_len, prm.token_len);
        if (t->token)
            assert_memory_equal(m.token, t->token, m.token_len);
        assert_int_equal(m.host_len, prm.host_len);
        if (t->host)
            assert_memory_equal(m.host, t->host, m.host_len);
        assert_int_equal(m.port, t->port);
        free(out);
    }
}

static void test_build_invalid(void **state)
{
    static const struct {
        const char *name;
        enum oauth_mech mech;
        struct oauth_client_params p;
        enum oauth_codec_status expect;
    } bad[] = {
        {"XOAUTH2 empty user", X, {.user = "", .token = "t", .token_len = 1}, OAUTH_CODEC_ERR_USER},
        {"XOAUTH2 no user", X, {.token = "t", .token_len = 1}, OAUTH_CODEC_ERR_USER},
        {"user with ^A", X, {.user = "a\x01" "b", .user_len = 3, .token = "t", .token_len = 1},
         OAUTH_CODEC_ERR_USER},
        {"user with NUL", X, {.user = "a\0b", .user_len = 3, .token = "t", .token_len = 1},
         OAUTH_CODEC_ERR_USER},
        {"authzid with LF", B, {.user = "a\nb", .user_len = 3, .token = "t", .token_len = 1},
         OAUTH_CODEC_ERR_AUTHZID},
        {"authzid bad UTF-8", B, {.user = "\xc3", .user_len = 1, .token = "t", .token_len = 1},
         OAUTH_CODEC_ERR_AUTHZID},
        {"token with a space", X, {.user = "u", .user_len = 1, .token = "a b", .token_len = 3},
         OAUTH_CODEC_ERR_TOKEN},
        {"token with ^A", B, {.token = "a\x01" "b", .token_len = 3}, OAUTH_CODEC_ERR_TOKEN},
        {"token with CR", B, {.token = "a\r", .token_len = 2}, OAUTH_CODEC_ERR_TOKEN},
        {"token with = inside", B, {.token = "a=b", .token_len = 3}, OAUTH_CODEC_ERR_TOKEN},
        {"host with a space", B, {.token = "t", .token_len = 1, .host = "a b", .host_len = 3},
         OAUTH_CODEC_ERR_HOST},
        {"empty host", B, {.token = "t", .token_len = 1, .host = "", .host_len = 0},
         OAUTH_CODEC_ERR_HOST},
        {"port 65536", B, {.token = "t", .token_len = 1, .port = 65536}, OAUTH_CODEC_ERR_PORT},
        {"cb flag 7", B, {.cb = (enum oauth_cb_flag)7, .token = "t", .token_len = 1},
         OAUTH_CODEC_ERR_ARG},
        {"token NULL with a length", B, {.token = NULL, .token_len = 3}, OAUTH_CODEC_ERR_ARG},
        {"user NULL with a length", B, {.user = NULL, .user_len = 3}, OAUTH_CODEC_ERR_ARG},
        {"host NULL with a length", B, {.token = "t", .token_len = 1, .host_len = 3},
         OAUTH_CODEC_ERR_ARG},
        {"bad mech", (enum oauth_mech)0, {.user = "u", .user_len = 1, .token = "t", .token_len = 1},
         OAUTH_CODEC_ERR_ARG},
    };
    struct oauth_client_params p;
    char out[256], *big;
    size_t i, outlen;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        enum oauth_codec_status st;
        memset(out, 'z', sizeof(out));
        st = oauth_build_client_msg(bad[i].mech, &bad[i].p, out, sizeof(out), &outlen);
        if (st != bad[i].expect)
            fail_msg("%s: %s, expected %s", bad[i].name, oauth_codec_status_text(st),
                     oauth_codec_status_text(bad[i].expect));
        assert_int_equal(out[0], 'z');
    }
    memset(&p, 0, sizeof(p));
    p.token = "t";
    p.token_len = 1;
    assert_int_equal(oauth_build_client_msg(B, NULL, out, sizeof(out), &outlen), OAUTH_CODEC_ERR_ARG);
    assert_int_equal(oauth_build_client_msg(B, &p, out, sizeof(out), NULL), OAUTH_CODEC_ERR_ARG);
    assert_int_equal(oauth_build_client_msg(B, &p, NULL, 5, &outlen), OAUTH_CODEC_ERR_ARG);
    /* the caps */
    big = malloc(OAUTH_MAX_TOKEN_LIMIT + 1);
    assert_non_null(big);
    memset(big, 'u', OAUTH_MAX_TOKEN_LIMIT + 1);
    p.user = big;
    p.user_len = OAUTH_MAX_USER + 1;
    assert_int_equal(oauth_build_client_msg(B, &p, out, sizeof(out), &outlen),
                     OAUTH_CODEC_ERR_USER_TOO_LONG);
    p.user_len = OAUTH_MAX_USER;
    assert_int_equal(oauth_build_client_msg(B, &p, NULL, 0, &outlen), OAUTH_CODEC_ERR_NO_ROOM);
    p.user_len = 0;
    p.token = big;
    p.token_len = OAUTH_MAX_TOKEN_LIMIT + 1;
    assert_int_equal(oauth_build_client_msg(B, &p, NULL, 0, &outlen),
                     OAUTH_CODEC_ERR_TOKEN_TOO_LONG);
    p.token_len = OAUTH_MAX_TOKEN_LIMIT;
    assert_int_equal(oauth_build_client_msg(B, &p, NULL, 0, &outlen), OAUTH_CODEC_ERR_NO_ROOM);
    assert_int_equal(outlen, 2 + 1 + 1 + 5 + 7 + OAUTH_MAX_TOKEN_LIMIT + 2);
    p.token_len = 1;
    p.host = big;
    p.host_len = OAUTH_MAX_HOST + 1;
    assert_int_equal(oauth_build_client_msg(B, &p, NULL, 0, &outlen), OAUTH_CODEC_ERR_HOST);
    p.host_len = OAUTH_MAX_HOST;
    assert_int_equal(oauth_build_client_msg(B, &p, NULL, 0, &outlen), OAUTH_CODEC_ERR_NO_ROOM);
    /* XOAUTH2 ignores the OAUTHBEARER-only fields */
    p.user = "u";
    p.user_len = 1;
    p.token = "t";
    p.token_len = 1;
    p.host = "a b";
    p.host_len = 3;
    p.port = 99999;
    p.cb = (enum oauth_cb_flag)7;
    assert_int_equal(oauth_build_client_msg(X, &p, out, sizeof(out), &outlen), OAUTH_CODEC_OK);
    assert_int_equal(outlen, sizeof("user=u" S "auth=Bearer t" S S) - 1);
    assert_memory_equal(out, "user=u" S "auth=Bearer t" S S, outlen);
    free(big);
}

/* ---- the error JSON ----------------------------------------------------------- */

static void test_build_error_json(void **state)
{
    static const struct {
        enum oauth_mech mech;
        enum oauth_error_status status;
        const char *scope, *config;
        enum oauth_codec_status expect;
        const char *json;
    } t[] = {
        {B, OAUTH_STATUS_INVALID_TOKEN, "example_scope",
         "https://example.com/.well-known/openid-configuration", OAUTH_CODEC_OK,
         "{\"status\":\"invalid_token\",\"scope\":\"example_scope\",\"openid-configuration\":"
         "\"https://example.com/.well-known/openid-configuration\"}"},
        {B, OAUTH_STATUS_INSUFFICIENT_SCOPE, NULL, NULL, OAUTH_CODEC_OK,
         "{\"status\":\"insufficient_scope\"}"},
        {B, OAUTH_STATUS_INVALID_REQUEST, "a b", NULL, OAUTH_CODEC_OK,
         "{\"status\":\"invalid_request\",\"scope\":\"a b\"}"},
        {B, OAUTH_STATUS_INVALID_TOKEN, NULL, "https://x/", OAUTH_CODEC_OK,
         "{\"status\":\"invalid_token\",\"openid-configuration\":\"https://x/\"}"},
        {B, OAUTH_STATUS_INVALID_TOKEN, "", NULL, OAUTH_CODEC_OK,
         "{\"status\":\"invalid_token\",\"scope\":\"\"}"},
        {X, OAUTH_STATUS_INVALID_TOKEN, "https://mail.google.com/", NULL, OAUTH_CODEC_OK,
         "{\"status\":\"invalid_token\",\"schemes\":\"Bearer\",\"scope\":\"https://mail.google.com/\"}"},
        {X, OAUTH_STATUS_INSUFFICIENT_SCOPE, NULL, "https://ignored/", OAUTH_CODEC_OK,
         "{\"status\":\"insufficient_scope\",\"schemes\":\"Bearer\"}"},
        {X, OAUTH_STATUS_INVALID_REQUEST, "s", "bad config ignored", OAUTH_CODEC_OK,
         "{\"status\":\"invalid_request\",\"schemes\":\"Bearer\",\"scope\":\"s\"}"},
        {B, (enum oauth_error_status)0, NULL, NULL, OAUTH_CODEC_ERR_ARG, NULL},
        {B, (enum oauth_error_status)4, NULL, NULL, OAUTH_CODEC_ERR_ARG, NULL},
        {(enum oauth_mech)0, OAUTH_STATUS_INVALID_TOKEN, NULL, NULL, OAUTH_CODEC_ERR_ARG, NULL},
        {B, OAUTH_STATUS_INVALID_TOKEN, "a\"b", NULL, OAUTH_CODEC_ERR_JSON_FIELD, NULL},
        {B, OAUTH_STATUS_INVALID_TOKEN, "a\\b", NULL, OAUTH_CODEC_ERR_JSON_FIELD, NULL},
        {B, OAUTH_STATUS_INVALID_TOKEN, "a\nb", NULL, OAUTH_CODEC_ERR_JSON_FIELD, NULL},
        {B, OAUTH_STATUS_INVALID_TOKEN, "\xc3\xa9", NULL, OAUTH_CODEC_ERR_JSON_FIELD, NULL},
        {X, OAUTH_STATUS_INVALID_TOKEN, "a\tb", NULL, OAUTH_CODEC_ERR_JSON_FIELD, NULL},
        {B, OAUTH_STATUS_INVALID_TOKEN, NULL, "https://x/ y", OAUTH_CODEC_ERR_JSON_FIELD, NULL},
        {B, OAUTH_STATUS_INVALID_TOKEN, NULL, "", OAUTH_CODEC_ERR_JSON_FIELD, NULL},
        {B, OAUTH_STATUS_INVALID_TOKEN, NULL, "https://x/\x7f", OAUTH_CODEC_ERR_JSON_FIELD, NULL},
    };
    char out[OAUTH_MAX_ERROR_JSON + 1], *big;
    size_t i, outlen, room;

    (void)state;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct oauth_error_info info;
        enum oauth_codec_status st;

        memset(out, 'z', sizeof(out));
        st = oauth_build_error_json(t[i].mech, t[i].status, t[i].scope, t[i].config, out,
                                    sizeof(out), &outlen);
        if (st != t[i].expect)
            fail_msg("row %zu: %s, expected %s", i, oauth_codec_status_text(st),
                     oauth_codec_status_text(t[i].expect));
        if (st != OAUTH_CODEC_OK) {
            assert_int_equal(out[0], 'z');
            continue;
        }
        assert_int_equal(outlen, strlen(t[i].json));
        assert_string_equal(out, t[i].json);
        /* and the client reads back what was sent */
        assert_int_equal(oauth_parse_error_json(out, outlen, &info, NULL), OAUTH_CODEC_OK);
        assert_int_equal(info.code, t[i].status);
        assert_string_equal(info.status, oauth_error_status_name(t[i].status));
        if (t[i].scope)
            assert_string_equal(info.scope, t[i].scope);
        else
            assert_null(info.scope);
        if (t[i].config && t[i].mech == B)
            assert_string_equal(info.openid_config, t[i].config);
        else
            assert_null(info.openid_config);
        oauth_error_info_clear(&info);
        /* too small by any amount: nothing written, the length reported */
        for (room = 0; room <= outlen; room++) {
            size_t n = 0;
            memset(out, 'z', sizeof(out));
            st = oauth_build_error_json(t[i].mech, t[i].status, t[i].scope, t[i].config, out,
                                        room, &n);
            assert_int_equal(n, outlen);
            if (room < outlen) {
                assert_int_equal(st, OAUTH_CODEC_ERR_NO_ROOM);
                assert_int_equal(out[0], 'z');
            } else {
                assert_int_equal(st, OAUTH_CODEC_OK);
                assert_int_equal(out[outlen], 'z'); /* no room for the NUL */
            }
        }
    }
    assert_int_equal(oauth_build_error_json(B, OAUTH_STATUS_INVALID_TOKEN, NULL, NULL, NULL, 0,
                                            &outlen),
                     OAUTH_CODEC_ERR_NO_ROOM);
    assert_int_equal(outlen, strlen("{\"status\":\"invalid_token\"}"));
    assert_int_equal(oauth_build_error_json(B, OAUTH_STATUS_INVALID_TOKEN, NULL, NULL, out,
                                            sizeof(out), NULL),
                     OAUTH_CODEC_ERR_ARG);
    assert_int_equal(oauth_build_error_json(B, OAUTH_STATUS_INVALID_TOKEN, NULL, NULL, NULL, 5,
                                            &outlen),
                     OAUTH_CODEC_ERR_ARG);
    /* a scope that makes the JSON exceed OAUTH_MAX_ERROR_JSON */
    big = malloc(OAUTH_MAX_ERROR_JSON + 2);
    assert_non_null(big);
    memset(big, 's', OAUTH_MAX_ERROR_JSON + 1);
    big[OAUTH_MAX_ERROR_JSON + 1] = '\0';
    assert_int_equal(oauth_build_error_json(B, OAUTH_STATUS_INVALID_TOKEN, big, NULL, out,
                                            sizeof(out), &outlen),
                     OAUTH_CODEC_ERR_JSON_FIELD);
    /* the largest that fits: {"status":"invalid_token","scope":"sss..."} */
    big[OAUTH_MAX_ERROR_JSON - strlen("{\"status\":\"invalid_token\",\"scope\":\"\"}")] = '\0';
    assert_int_equal(oauth_build_error_json(B, OAUTH_STATUS_INVALID_TOKEN, big, NULL, out,
                                            sizeof(out), &outlen),
                     OAUTH_CODEC_OK);
    assert_int_equal(outlen, OAUTH_MAX_ERROR_JSON);
    {
        struct oauth_error_info info;
        assert_int_equal(oauth_parse_error_json(out, outlen, &info, NULL), OAUTH_CODEC_OK);
        assert_string_equal(info.scope, big);
        oauth_error_info_clear(&info);
    }
    big[strlen(big)] = 's';
    big[OAUTH_MAX_ERROR_JSON + 1 - strlen("{\"status\":\"invalid_token\",\"scope\":\"\"}")] = '\0';
    assert_int_equal(oauth_build_error_json(B, OAUTH_STATUS_INVALID_TOKEN, big, NULL, out,
                                            sizeof(out), &outlen),
                     OAUTH_CODEC_ERR_JSON_FIELD);
    free(big);
}

struct jrow {
    const char *name;
    const char *msg;
    size_t len;
    enum oauth_codec_status expect;
    const char *status, *scope, *config; /* for OK */
    enum oauth_error_status code;
};

#define JOK(name, msg, status, scope, config, code) {name, M(msg), OAUTH_CODEC_OK, status, scope, config, code}
#define JBAD(name, msg, st) {name, M(msg), st, NULL, NULL, NULL, (enum oauth_error_status)0}

static const struct jrow jrows[] = {
    JOK("minimal", "{\"status\":\"invalid_token\"}", "invalid_token", NULL, NULL,
        OAUTH_STATUS_INVALID_TOKEN),
    JOK("insufficient_scope", "{\"status\":\"insufficient_scope\",\"scope\":\"mail\"}",
        "insufficient_scope", "mail", NULL, OAUTH_STATUS_INSUFFICIENT_SCOPE),
    JOK("invalid_request", "{\"status\":\"invalid_request\"}", "invalid_request", NULL, NULL,
        OAUTH_STATUS_INVALID_REQUEST),
    JOK("other status", "{\"status\":\"temporarily_unavailable\"}", "temporarily_unavailable",
        NULL, NULL, 0),
    JOK("Google 400", "{\"status\":\"400\",\"schemes\":\"Bearer\"}", "400", NULL, NULL, 0),
    JOK("whitespace around", " \r\n\t{ \"status\" : \"invalid_token\" }\n ", "invalid_token",
        NULL, NULL, OAUTH_STATUS_INVALID_TOKEN),
    JOK("members in another order",
        "{\"openid-configuration\":\"https://c/\",\"scope\":\"s t\",\"status\":\"invalid_token\"}",
        "invalid_token", "s t", "https://c/", OAUTH_STATUS_INVALID_TOKEN),
    JOK("unknown members ignored",
        "{\"status\":\"invalid_token\",\"x\":[1,{\"a\":null}],\"schemes\":7,\"y\":true}",
        "invalid_token", NULL, NULL, OAUTH_STATUS_INVALID_TOKEN),
    JOK("empty scope", "{\"status\":\"x\",\"scope\":\"\"}", "x", "", NULL, 0),
    JOK("escaped slash", "{\"status\":\"x\",\"openid-configuration\":\"https:\\/\\/c\\/\"}", "x",
        NULL, "https://c/", 0),
    JOK("status with space and symbols", "{\"status\":\"a b!#[]~\"}", "a b!#[]~", NULL, NULL, 0),
    JOK("status case matters", "{\"status\":\"Invalid_Token\"}", "Invalid_Token", NULL, NULL, 0),
    JBAD("empty", "", OAUTH_CODEC_ERR_EMPTY),
    JBAD("whitespace only", "  ", OAUTH_CODEC_ERR_JSON),
    JBAD("null", "null", OAUTH_CODEC_ERR_JSON),
    JBAD("a string", "\"invalid_token\"", OAUTH_CODEC_ERR_JSON),
    JBAD("a number", "401", OAUTH_CODEC_ERR_JSON),
    JBAD("an array", "[]", OAUTH_CODEC_ERR_JSON_NOT_OBJECT),
    JBAD("an array of the object", "[{\"status\":\"invalid_token\"}]",
         OAUTH_CODEC_ERR_JSON_NOT_OBJECT),
    JBAD("empty object", "{}", OAUTH_CODEC_ERR_JSON_STATUS),
    JBAD("no status", "{\"scope\":\"s\"}", OAUTH_CODEC_ERR_JSON_STATUS),
    JBAD("Status upper case", "{\"Status\":\"invalid_token\"}", OAUTH_CODEC_ERR_JSON_STATUS),
    JBAD("status a number", "{\"status\":401}", OAUTH_CODEC_ERR_JSON_STATUS),
    JBAD("status null", "{\"status\":null}", OAUTH_CODEC_ERR_JSON_STATUS),
    JBAD("status true", "{\"status\":true}", OAUTH_CODEC_ERR_JSON_STATUS),
    JBAD("status an array", "{\"status\":[\"invalid_token\"]}", OAUTH_CODEC_ERR_JSON_STATUS),
    JBAD("status an object", "{\"status\":{}}", OAUTH_CODEC_ERR_JSON_STATUS),
    JBAD("status empty", "{\"status\":\"\"}", OAUTH_CODEC_ERR_JSON_STATUS),
    JBAD("status with LF", "{\"status\":\"a\\nb\"}", OAUTH_CODEC_ERR_JSON_STATUS),
    JBAD("status with a quote", "{\"status\":\"a\\\"b\"}", OAUTH_CODEC_ERR_JSON_STATUS),
    JBAD("status with a backslash", "{\"status\":\"a\\\\b\"}", OAUTH_CODEC_ERR_JSON_STATUS),
    JBAD("status with ESC", "{\"status\":\"\\u001b[31m\"}", OAUTH_CODEC_ERR_JSON_STATUS),
    JBAD("status non-ASCII", "{\"status\":\"\xc3\xa9\"}", OAUTH_CODEC_ERR_JSON_STATUS),
    JBAD("status \\u0000", "{\"status\":\"a\\u0000b\"}", OAUTH_CODEC_ERR_JSON),
    JBAD("raw NUL", "{\"status\":\"a\0b\"}", OAUTH_CODEC_ERR_NUL),
    JBAD("NUL after", "{\"status\":\"a\"}\0", OAUTH_CODEC_ERR_NUL),
    JBAD("scope a number", "{\"status\":\"x\",\"scope\":1}", OAUTH_CODEC_ERR_JSON_FIELD),
    JBAD("scope null", "{\"status\":\"x\",\"scope\":null}", OAUTH_CODEC_ERR_JSON_FIELD),
    JBAD("scope an array", "{\"status\":\"x\",\"scope\":[\"a\",\"b\"]}", OAUTH_CODEC_ERR_JSON_FIELD),
    JBAD("scope with CR", "{\"status\":\"x\",\"scope\":\"a\\rb\"}", OAUTH_CODEC_ERR_JSON_FIELD),
    JBAD("config an object", "{\"status\":\"x\",\"openid-configuration\":{}}",
         OAUTH_CODEC_ERR_JSON_FIELD),
    JBAD("config empty", "{\"status\":\"x\",\"openid-configuration\":\"\"}",
         OAUTH_CODEC_ERR_JSON_FIELD),
    JBAD("config with a space", "{\"status\":\"x\",\"openid-configuration\":\"https://a b/\"}",
         OAUTH_CODEC_ERR_JSON_FIELD),
    JBAD("duplicate status", "{\"status\":\"a\",\"status\":\"b\"}", OAUTH_CODEC_ERR_JSON),
    JBAD("duplicate scope", "{\"status\":\"a\",\"scope\":\"s\",\"scope\":\"t\"}",
         OAUTH_CODEC_ERR_JSON),
    JBAD("duplicate unknown member", "{\"status\":\"a\",\"x\":1,\"x\":1}", OAUTH_CODEC_ERR_JSON),
    JBAD("trailing garbage", "{\"status\":\"a\"}x", OAUTH_CODEC_ERR_JSON),
    JBAD("two objects", "{\"status\":\"a\"}{\"status\":\"b\"}", OAUTH_CODEC_ERR_JSON),
    JBAD("truncated", "{\"status\":\"a\"", OAUTH_CODEC_ERR_JSON),
    JBAD("single quotes", "{'status':'a'}", OAUTH_CODEC_ERR_JSON),
    JBAD("trailing comma", "{\"status\":\"a\",}", OAUTH_CODEC_ERR_JSON),
    JBAD("invalid UTF-8", "{\"status\":\"a\",\"x\":\"\xff\"}", OAUTH_CODEC_ERR_JSON),
    JBAD("lone surrogate escape", "{\"status\":\"a\",\"x\":\"\\ud800\"}", OAUTH_CODEC_ERR_JSON),
    JBAD("base64 instead of JSON", "eyJzdGF0dXMiOiI0MDEifQ==", OAUTH_CODEC_ERR_JSON),
};

static void test_parse_error_json_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(jrows) / sizeof(jrows[0]); i++) {
        const struct jrow *r = &jrows[i];
        struct oauth_error_info info;
        enum oauth_codec_status st;
        struct oauth_err err = {0};
        char *p = heap_copy(r->msg, r->len);

        memset(&info, 0x5a, sizeof(info));
        st = oauth_parse_error_json(p, r->len, &info, &err);
        if (st != r->expect)
            fail_msg("row %zu (%s): %s (%s), expected %s", i, r->name,
                     oauth_codec_status_text(st), err.reason, oauth_codec_status_text(r->expect));
        if (st == OAUTH_CODEC_OK) {
            assert_string_equal(info.status, r->status);
            assert_int_equal(info.code, r->code);
            if (r->scope)
                assert_string_equal(info.scope, r->scope);
            else
                assert_null(info.scope);
            if (r->config)
                assert_string_equal(info.openid_config, r->config);
            else
                assert_null(info.openid_config);
            assert_int_equal(err.reason[0], '\0');
        } else {
            /* nothing to free on failure */
            assert_null(info.status);
            assert_null(info.scope);
            assert_null(info.openid_config);
            assert_true(strlen(err.reason) > 0);
        }
        oauth_error_info_clear(&info);
        oauth_error_info_clear(&info);
        free(p);
    }
}

static void test_parse_error_json_limits(void **state)
{
    struct oauth_error_info info;
    char *big = malloc(OAUTH_MAX_ERROR_JSON + 2);
    size_t n, cut;
    static const char valid[] =
        "{\"status\":\"invalid_token\",\"scope\":\"example_scope\",\"openid-configuration\":"
        "\"https://example.com/.well-known/openid-configuration\"}";

    (void)state;
    assert_non_null(big);
    /* exactly OAUTH_MAX_ERROR_JSON bytes: accepted; one more: refused */
    n = (size_t)snprintf(big, OAUTH_MAX_ERROR_JSON + 2, "{\"status\":\"x\",\"scope\":\"");
    memset(big + n, 's', OAUTH_MAX_ERROR_JSON - n - 2);
    memcpy(big + OAUTH_MAX_ERROR_JSON - 2, "\"}", 2);
    assert_int_equal(oauth_parse_error_json(big, OAUTH_MAX_ERROR_JSON, &info, NULL),
                     OAUTH_CODEC_OK);
    assert_int_equal(strlen(info.scope), OAUTH_MAX_ERROR_JSON - n - 2);
    oauth_error_info_clear(&info);
    big[OAUTH_MAX_ERROR_JSON] = ' ';
    assert_int_equal(oauth_parse_error_json(big, OAUTH_MAX_ERROR_JSON + 1, &info, NULL),
                     OAUTH_CODEC_ERR_TOO_LONG);
    /* deep nesting, within the size cap */
    memset(big, '[', OAUTH_MAX_ERROR_JSON / 2);
    memset(big + OAUTH_MAX_ERROR_JSON / 2, ']', OAUTH_MAX_ERROR_JSON / 2);
    assert_int_not_equal(oauth_parse_error_json(big, OAUTH_MAX_ERROR_JSON, &info, NULL),
                         OAUTH_CODEC_OK);
    free(big);
    /* every proper prefix of a valid one fails */
    for (cut = 0; cut < sizeof(valid) - 1; cut++) {
        char *p = heap_copy(valid, cut);
        assert_int_not_equal(oauth_parse_error_json(p, cut, &info, NULL), OAUTH_CODEC_OK);
        free(p);
    }
    assert_int_equal(oauth_parse_error_json(valid, sizeof(valid) - 1, &info, NULL),
                     OAUTH_CODEC_OK);
    oauth_error_info_clear(&info);
    /* arguments */
    assert_int_equal(oauth_parse_error_json(NULL, 3, &info, NULL), OAUTH_CODEC_ERR_ARG);
    assert_int_equal(oauth_parse_error_json(valid, 3, NULL, NULL), OAUTH_CODEC_ERR_ARG);
    assert_int_equal(oauth_parse_error_json(NULL, 0, &info, NULL), OAUTH_CODEC_ERR_EMPTY);
    oauth_error_info_clear(NULL);
}

/* ---- the reply to the error challenge ----------------------------------------- */

static void test_error_reply(void **state)
{
    static const struct {
        enum oauth_mech mech;
        const char *msg;
        size_t len;
        enum oauth_codec_status expect;
    } t[] = {
        {B, M(S), OAUTH_CODEC_OK},
        {B, M(""), OAUTH_CODEC_ERR_REPLY},
        {B, M(S S), OAUTH_CODEC_ERR_REPLY},
        {B, M("*"), OAUTH_CODEC_ERR_REPLY},
        {B, M(S "x"), OAUTH_CODEC_ERR_REPLY},
        {B, M("\0"), OAUTH_CODEC_ERR_REPLY},
        {B, M(RFC_41), OAUTH_CODEC_ERR_REPLY},
        {X, M(""), OAUTH_CODEC_OK},
        {X, M(S), OAUTH_CODEC_ERR_REPLY},
        {X, M(" "), OAUTH_CODEC_ERR_REPLY},
        {X, M("\0"), OAUTH_CODEC_ERR_REPLY},
        {X, M(GOOGLE), OAUTH_CODEC_ERR_REPLY},
        {(enum oauth_mech)0, M(""), OAUTH_CODEC_ERR_ARG},
    };
    size_t i, len;

    (void)state;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char *p = heap_copy(t[i].msg, t[i].len);
        assert_int_equal(oauth_check_error_reply(t[i].mech, p, t[i].len), t[i].expect);
        free(p);
    }
    assert_int_equal(oauth_check_error_reply(X, NULL, 0), OAUTH_CODEC_OK);
    assert_int_equal(oauth_check_error_reply(B, NULL, 1), OAUTH_CODEC_ERR_ARG);
    assert_memory_equal(oauth_error_reply(B, &len), S, 1);
    assert_int_equal(len, 1);
    assert_non_null(oauth_error_reply(X, &len));
    assert_int_equal(len, 0);
    assert_null(oauth_error_reply((enum oauth_mech)0, &len));
    assert_non_null(oauth_error_reply(B, NULL));
}

/* ---- texts -------------------------------------------------------------------- */

static void test_texts(void **state)
{
    int a, b;

    (void)state;
    for (a = OAUTH_CODEC_OK; a <= OAUTH_CODEC_STATUS_LAST; a++) {
        const char *t = oauth_codec_status_text((enum oauth_codec_status)a);
        assert_non_null(t);
        assert_true(strlen(t) > 0);
        assert_string_not_equal(t, "invalid status");
        for (b = OAUTH_CODEC_OK; b < a; b++)
            assert_string_not_equal(t, oauth_codec_status_text((enum oauth_codec_status)b));
    }
    assert_string_equal(oauth_codec_status_text(OAUTH_CODEC_OK), "ok");
    assert_string_equal(oauth_codec_status_text((enum oauth_codec_status)999), "invalid status");
    assert_string_equal(oauth_error_status_name(OAUTH_STATUS_INVALID_TOKEN), "invalid_token");
    assert_string_equal(oauth_error_status_name(OAUTH_STATUS_INSUFFICIENT_SCOPE),
                        "insufficient_scope");
    assert_string_equal(oauth_error_status_name(OAUTH_STATUS_INVALID_REQUEST), "invalid_request");
    assert_null(oauth_error_status_name((enum oauth_error_status)0));
    assert_null(oauth_error_status_name((enum oauth_error_status)4));
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_client_table),
        cmocka_unit_test(test_client_truncations),
        cmocka_unit_test(test_client_null_args),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_build_invalid),
        cmocka_unit_test(test_build_error_json),
        cmocka_unit_test(test_parse_error_json_table),
        cmocka_unit_test(test_parse_error_json_limits),
        cmocka_unit_test(test_error_reply),
        cmocka_unit_test(test_texts),
    };

    return cmocka_run_group_tests_name("oauth_codec", tests, NULL, NULL);
}
