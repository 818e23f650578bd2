#include "config.h"
#include "oauth_codec.h"
#include "oauth_err.h"
#include "oauth_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <jansson.h>

#define KVSEP '\x01'

/* ---- small helpers ------------------------------------------------------------ */

static int codec_is_alpha(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int codec_is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int codec_is_vchar(unsigned char c)
{
    return c >= 0x21 && c <= 0x7e;
}

/* RFC 7628: value = *(VCHAR / SP / HTAB / CR / LF) */
static int codec_is_value_char(unsigned char c)
{
    return codec_is_vchar(c) || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* RFC 6749 A.7: NQSCHAR = %x20-21 / %x23-5B / %x5D-7E */
static int codec_is_nqschar(unsigned char c)
{
    return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\';
}

static int codec_ascii_ieq(const char *a, const char *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y - 'A' + 'a');
        if (x != y)
            return 0;
    }
    return 1;
}

/* Valid UTF-8 (RFC 3629: no overlong forms, no surrogates, at most
 * U+10FFFF) without C0 controls or DEL. */
static int codec_is_clean_name(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, k, need;

    while (i < n) {
        unsigned c = p[i];
        unsigned lo = 0x80, hi = 0xbf;

        if (c < 0x20 || c == 0x7f)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            need = 1;
        else if (c == 0xe0)
            need = 2, lo = 0xa0;
        else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef)
            need = 2;
        else if (c == 0xed)
            need = 2, hi = 0x9f;
        else if (c == 0xf0)
            need = 3, lo = 0x90;
        else if (c >= 0xf1 && c <= 0xf3)
            need = 3;
        else if (c == 0xf4)
            need = 3, hi = 0x8f;
        else
            return 0;
        if (n - i - 1 < need || p[i + 1] < lo || p[i + 1] > hi)
            return 0;
        for (k = 2; k <= need; k++)
            if ((p[i + k] & 0xc0) != 0x80)
                return 0;
        i += need + 1;
    }
    return 1;
}

/* RFC 6750: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
static int codec_is_b64token(const char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (!(codec_is_alpha(c) || codec_is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~'
              || c == '+' || c == '/'))
            break;
        i++;
    }
    if (i == 0)
        return 0;
    while (i < n && s[i] == '=')
        i++;
    return i == n;
}

/* 1 when s holds min to max bytes (n), each of the class is. */
static int codec_all_of(const char *s, size_t n, int (*is)(unsigned char), size_t min, size_t max)
{
    size_t i;

    if (n < min || n > max)
        return 0;
    for (i = 0; i < n; i++)
        if (!is((unsigned char)s[i]))
            return 0;
    return 1;
}

static int codec_is_host(const char *s, size_t n)
{
    return codec_all_of(s, n, codec_is_vchar, 1, OAUTH_MAX_HOST);
}

/* RFC 7628 3.1: "a decimal positive integer string without leading zeros" */
static int codec_parse_port(const char *s, size_t n, unsigned *port)
{
    unsigned v = 0;
    size_t i;

    if (n == 0 || n > 5 || s[0] == '0')
        return 0;
    for (i = 0; i < n; i++) {
        if (!codec_is_digit((unsigned char)s[i]))
            return 0;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > 65535)
        return 0;
    *port = v;
    return 1;
}

static size_t codec_clamp_max_token(size_t max_token)
{
    return max_token > OAUTH_MAX_TOKEN_LIMIT ? OAUTH_MAX_TOKEN_LIMIT : max_token;
}

/* The value of auth: "Bearer" SP b64token, scheme case-insensitive. */
static enum oauth_codec_status codec_check_auth(const char *v, size_t n, size_t max_token,
                                                size_t at, struct oauth_client_msg *out,
                                                struct oauth_err *err)
{
    const char *sp;
    const char *tok;
    size_t toklen;

    if (n == 0) {
        /* RFC 7628 4.3: the client asks for the server's error challenge */
        out->token = NULL;
        out->token_len = 0;
        oauth_why(err, "empty auth value (client asks for the error challenge)");
        return OAUTH_CODEC_AUTH_EMPTY;
    }
    sp = memchr(v, ' ', n);
    if (!sp) {
        if (n == 6 && codec_ascii_ieq(v, "Bearer", 6)) {
            oauth_why(err, "byte %zu: auth scheme Bearer without a token", at);
            return OAUTH_CODEC_ERR_TOKEN_EMPTY;
        }
        oauth_why(err, "byte %zu: auth is not \"Bearer\" SP token", at);
        return OAUTH_CODEC_ERR_SCHEME;
    }
    if ((size_t)(sp - v) != 6 || !codec_ascii_ieq(v, "Bearer", 6)) {
        oauth_why(err, "byte %zu: auth scheme is not Bearer", at);
        return OAUTH_CODEC_ERR_SCHEME;
    }
    tok = sp + 1;
    toklen = n - 7;
    if (toklen == 0) {
        oauth_why(err, "byte %zu: auth scheme Bearer without a token", at);
        return OAUTH_CODEC_ERR_TOKEN_EMPTY;
    }
    if (tok[0] == ' ') {
        oauth_why(err, "byte %zu: more than one space after Bearer", at + 7);
        return OAUTH_CODEC_ERR_SCHEME;
    }
    if (toklen > max_token) {
        oauth_why(err, "token of %zu bytes, over the limit of %zu", toklen, max_token);
        return OAUTH_CODEC_ERR_TOKEN_TOO_LONG;
    }
    if (!codec_is_b64token(tok, toklen)) {
        oauth_why(err, "byte %zu: token of %zu bytes is not an RFC 6750 b64token", at + 7,
                  toklen);
        return OAUTH_CODEC_ERR_TOKEN;
    }
    out->token = tok;
    out->token_len = toklen;
    return OAUTH_CODEC_OK;
}

/* ---- XOAUTH2 ----------------------------------------------------------------- */

static enum oauth_codec_status codec_parse_xoauth2(const char *msg, size_t len, size_t max_token,
                                             struct oauth_client_msg *out, struct oauth_err *err)
{
    const char *user, *auth, *sep;
    size_t user_len, auth_len, pos;

    if (len < 5 || memcmp(msg, "user=", 5) != 0) {
        oauth_why(err, "byte 0: message does not start with user=");
        return OAUTH_CODEC_ERR_SYNTAX;
    }
    user = msg + 5;
    sep = memchr(user, KVSEP, len - 5);
    if (!sep) {
        oauth_why(err, "no ^A after the user value");
        return OAUTH_CODEC_ERR_SYNTAX;
    }
    user_len = (size_t)(sep - user);
    pos = 5 + user_len + 1;
    if (len - pos < 5 || memcmp(msg + pos, "auth=", 5) != 0) {
        oauth_why(err, "byte %zu: auth= expected after the user", pos);
        return OAUTH_CODEC_ERR_SYNTAX;
    }
    pos += 5;
    auth = msg + pos;
    sep = memchr(auth, KVSEP, len - pos);
    if (!sep) {
        oauth_why(err, "no ^A after the auth value");
        return OAUTH_CODEC_ERR_SYNTAX;
    }
    auth_len = (size_t)(sep - auth);
    pos += auth_len + 1;
    if (pos == len || msg[pos] != KVSEP) {
        oauth_why(err, "byte %zu: final ^A expected after auth (XOAUTH2 has two keys)",
                  pos);
        return OAUTH_CODEC_ERR_SYNTAX;
    }
    pos++;
    if (pos != len) {
        oauth_why(err, "%zu bytes after the final ^A", len - pos);
        return OAUTH_CODEC_ERR_TRAILING;
    }
    if (user_len == 0) {
        oauth_why(err, "byte 5: empty user");
        return OAUTH_CODEC_ERR_USER;
    }
    if (user_len > OAUTH_MAX_USER) {
        oauth_why(err, "user of %zu bytes, over the limit of %d", user_len, OAUTH_MAX_USER);
        return OAUTH_CODEC_ERR_USER_TOO_LONG;
    }
    if (!codec_is_clean_name(user, user_len)) {
        oauth_why(err, "byte 5: user is not UTF-8 without control characters");
        return OAUTH_CODEC_ERR_USER;
    }
    memcpy(out->user, user, user_len);
    out->user[user_len] = '\0';
    out->user_len = user_len;
    return codec_check_auth(auth, auth_len, max_token, (size_t)(auth - msg), out, err);
}

/* ---- OAUTHBEARER ------------------------------------------------------------- */

/* gs2-header = gs2-cb-flag "," [ "a=" saslname ] ","; *pos is past it on OK. */
static enum oauth_codec_status codec_parse_gs2_header(const char *msg, size_t len, size_t *pos,
                                                struct oauth_client_msg *out, struct oauth_err *err)
{
    size_t i = 0, n = 0;

    if (msg[0] == 'n' || msg[0] == 'y') {
        out->cb = msg[0] == 'n' ? OAUTH_CB_N : OAUTH_CB_Y;
        i = 1;
    } else if (len >= 2 && msg[0] == 'p' && msg[1] == '=') {
        oauth_why(err, "byte 0: client requires channel binding (p=), not supported");
        return OAUTH_CODEC_ERR_CHANNEL_BINDING;
    } else {
        oauth_why(err, "byte 0: GS2 header does not start with n, y or p=");
        return OAUTH_CODEC_ERR_GS2_HEADER;
    }
    if (i == len || msg[i] != ',') {
        oauth_why(err, "byte %zu: ',' expected after the channel-binding flag", i);
        return OAUTH_CODEC_ERR_GS2_HEADER;
    }
    i++;
    if (i < len && msg[i] == ',') {
        *pos = i + 1;
        return OAUTH_CODEC_OK;
    }
    if (len - i < 2 || msg[i] != 'a' || msg[i + 1] != '=') {
        oauth_why(err, "byte %zu: GS2 header: a=authzid or ',' expected", i);
        return OAUTH_CODEC_ERR_GS2_HEADER;
    }
    i += 2;
    /* saslname = 1*(UTF8-char-safe / "=2C" / "=3D") */
    for (; i < len && msg[i] != ','; i++) {
        char c = msg[i];
        if (c == '=') {
            if (len - i >= 3 && msg[i + 1] == '2' && msg[i + 2] == 'C')
                c = ',';
            else if (len - i >= 3 && msg[i + 1] == '3' && msg[i + 2] == 'D')
                c = '=';
            else {
                oauth_why(err, "byte %zu: authzid: '=' not followed by 2C or 3D", i);
                return OAUTH_CODEC_ERR_AUTHZID;
            }
            i += 2;
        }
        if (n == OAUTH_MAX_USER) {
            oauth_why(err, "authzid over the limit of %d bytes", OAUTH_MAX_USER);
            return OAUTH_CODEC_ERR_USER_TOO_LONG;
        }
        out->user[n++] = c;
    }
    if (i == len) {
        oauth_why(err, "GS2 header: no ',' after the authzid");
        return OAUTH_CODEC_ERR_GS2_HEADER;
    }
    if (n == 0) {
        oauth_why(err, "byte %zu: empty authzid (a=,)", i);
        return OAUTH_CODEC_ERR_AUTHZID;
    }
    if (!codec_is_clean_name(out->user, n)) {
        oauth_why(err, "authzid is not UTF-8 without control characters");
        return OAUTH_CODEC_ERR_AUTHZID;
    }
    out->user[n] = '\0';
    out->user_len = n;
    *pos = i + 1;
    return OAUTH_CODEC_OK;
}

static enum oauth_codec_status codec_parse_oauthbearer(const char *msg, size_t len,
                                                       size_t max_token,
                                                       struct oauth_client_msg *out,
                                                       struct oauth_err *err)
{
    enum oauth_codec_status st;
    const char *auth = NULL;
    size_t pos = 0, auth_len = 0, auth_at = 0;
    int have_host = 0, have_port = 0;

    if (len == 1 && msg[0] == KVSEP) {
        oauth_why(err, "lone ^A as the initial message");
        return OAUTH_CODEC_ERR_KVSEP_ONLY;
    }
    st = codec_parse_gs2_header(msg, len, &pos, out, err);
    if (st != OAUTH_CODEC_OK)
        return st;
    if (pos == len || msg[pos] != KVSEP) {
        oauth_why(err, "byte %zu: ^A expected after the GS2 header", pos);
        return OAUTH_CODEC_ERR_SYNTAX;
    }
    pos++;
    for (;;) {
        size_t kstart = pos, klen, vstart, vlen, i;
        const char *sep;

        if (pos == len) {
            oauth_why(err, "message ends without the final ^A");
            return OAUTH_CODEC_ERR_SYNTAX;
        }
        if (msg[pos] == KVSEP) {
            pos++;
            break;
        }
        while (pos < len && codec_is_alpha((unsigned char)msg[pos]))
            pos++;
        klen = pos - kstart;
        if (pos == len) {
            oauth_why(err, "byte %zu: key without '=' value ^A", kstart);
            return OAUTH_CODEC_ERR_SYNTAX;
        }
        if (klen == 0 || msg[pos] != '=') {
            oauth_why(err, "byte %zu: key of letters followed by '=' expected", pos);
            return OAUTH_CODEC_ERR_KVPAIR;
        }
        vstart = ++pos;
        sep = memchr(msg + vstart, KVSEP, len - vstart);
        if (!sep) {
            oauth_why(err, "byte %zu: value without a ^A after it", vstart);
            return OAUTH_CODEC_ERR_SYNTAX;
        }
        vlen = (size_t)(sep - (msg + vstart));
        pos = vstart + vlen + 1;

        if (klen == 4 && memcmp(msg + kstart, "auth", 4) == 0) {
            if (auth) {
                oauth_why(err, "byte %zu: duplicate key \"auth\"", kstart);
                return OAUTH_CODEC_ERR_DUPLICATE;
            }
            auth = msg + vstart; /* checked once the whole message is known good */
            auth_len = vlen;
            auth_at = vstart;
        } else if (klen == 4 && memcmp(msg + kstart, "host", 4) == 0) {
            if (have_host) {
                oauth_why(err, "byte %zu: duplicate key \"host\"", kstart);
                return OAUTH_CODEC_ERR_DUPLICATE;
            }
            if (!codec_is_host(msg + vstart, vlen)) {
                oauth_why(err, "byte %zu: host is not 1-%d visible characters", vstart,
                          OAUTH_MAX_HOST);
                return OAUTH_CODEC_ERR_HOST;
            }
            have_host = 1;
            out->host = msg + vstart;
            out->host_len = vlen;
        } else if (klen == 4 && memcmp(msg + kstart, "port", 4) == 0) {
            if (have_port) {
                oauth_why(err, "byte %zu: duplicate key \"port\"", kstart);
                return OAUTH_CODEC_ERR_DUPLICATE;
            }
            if (!codec_parse_port(msg + vstart, vlen, &out->port)) {
                oauth_why(err, "byte %zu: port is not 1-65535 without leading zeros",
                          vstart);
                return OAUTH_CODEC_ERR_PORT;
            }
            have_port = 1;
        } else {
            /* RFC 7628 3.1: "Unknown key/value pairs MUST be ignored by the
             * server"; their syntax is still the grammar's. */
            for (i = 0; i < vlen; i++)
                if (!codec_is_value_char((unsigned char)msg[vstart + i])) {
                    oauth_why(err, "byte %zu: value has a byte outside VCHAR/SP/HTAB/CR/LF",
                              vstart + i);
                    return OAUTH_CODEC_ERR_KVPAIR;
                }
        }
    }
    if (pos != len) {
        oauth_why(err, "%zu bytes after the final ^A", len - pos);
        return OAUTH_CODEC_ERR_TRAILING;
    }
    if (!auth) {
        oauth_why(err, "no auth key");
        return OAUTH_CODEC_ERR_NO_AUTH;
    }
    return codec_check_auth(auth, auth_len, max_token, auth_at, out, err);
}

static enum oauth_codec_status codec_parse_client_msg(enum oauth_mech mech, const char *msg,
                                                      size_t len, size_t max_token,
                                                      struct oauth_client_msg *out,
                                                      struct oauth_err *err)
{
    oauth_err_clear(err);
    if (!out || (!msg && len) || (mech != OAUTH_MECH_XOAUTH2 && mech != OAUTH_MECH_OAUTHBEARER)) {
        oauth_why(err, "invalid arguments");
        return OAUTH_CODEC_ERR_ARG;
    }
    memset(out, 0, sizeof(*out));
    max_token = codec_clamp_max_token(max_token);
    if (len == 0) {
        oauth_why(err, "empty message");
        return OAUTH_CODEC_ERR_EMPTY;
    }
    if (len > OAUTH_MAX_CLIENT_MESSAGE(max_token)) {
        oauth_why(err, "message of %zu bytes, over the limit of %zu", len,
                  (size_t)OAUTH_MAX_CLIENT_MESSAGE(max_token));
        return OAUTH_CODEC_ERR_TOO_LONG;
    }
    if (memchr(msg, '\0', len)) {
        oauth_why(err, "byte %zu: NUL", (size_t)((const char *)memchr(msg, '\0', len) - msg));
        return OAUTH_CODEC_ERR_NUL;
    }
    if (mech == OAUTH_MECH_XOAUTH2)
        return codec_parse_xoauth2(msg, len, max_token, out, err);
    return codec_parse_oauthbearer(msg, len, max_token, out, err);
}

/* ---- builders ---------------------------------------------------------------- */

static size_t codec_escaped_len(const char *s, size_t n)
{
    size_t i, e = n;

    for (i = 0; i < n; i++)
        if (s[i] == ',' || s[i] == '=')
            e += 2;
    return e;
}

static size_t codec_port_digits(unsigned port)
{
    size_t d = 1;

    while (port >= 10) {
        port /= 10;
        d++;
    }
    return d;
}

/* What a builder promises on success: a NUL after the len bytes of out
 * when room remains. */
static enum oauth_codec_status codec_built(char *out, size_t len, size_t outmax)
{
    if (len < outmax)
        out[len] = '\0';
    return OAUTH_CODEC_OK;
}

static char *codec_put(char *o, const char *s, size_t n)
{
    if (n)
        memcpy(o, s, n);
    return o + n;
}

enum oauth_codec_status oauth_build_client_msg(enum oauth_mech mech,
                                               const struct oauth_client_params *p, char *out,
                                               size_t outmax, size_t *outlen)
{
    size_t need, i;
    char *o;
    int bearer = mech == OAUTH_MECH_OAUTHBEARER;

    if (!p || !outlen || (!out && outmax) || (mech != OAUTH_MECH_XOAUTH2 && !bearer)
        || (!p->user && p->user_len) || (!p->token && p->token_len)
        || (bearer && !p->host && p->host_len))
        return OAUTH_CODEC_ERR_ARG;
    /* the parser's rules, so that what is built parses back */
    if (p->user_len > OAUTH_MAX_USER)
        return OAUTH_CODEC_ERR_USER_TOO_LONG;
    if (!codec_is_clean_name(p->user, p->user_len))
        return bearer ? OAUTH_CODEC_ERR_AUTHZID : OAUTH_CODEC_ERR_USER;
    if (!bearer && p->user_len == 0)
        return OAUTH_CODEC_ERR_USER;
    if (p->token_len > OAUTH_MAX_TOKEN_LIMIT)
        return OAUTH_CODEC_ERR_TOKEN_TOO_LONG;
    if (p->token_len && !codec_is_b64token(p->token, p->token_len))
        return OAUTH_CODEC_ERR_TOKEN;
    if (bearer) {
        if (p->cb != OAUTH_CB_N && p->cb != OAUTH_CB_Y)
            return OAUTH_CODEC_ERR_ARG;
        if (p->host && !codec_is_host(p->host, p->host_len))
            return OAUTH_CODEC_ERR_HOST;
        if (p->port > 65535)
            return OAUTH_CODEC_ERR_PORT;
    }

    /* sizes: all bounded by the caps above, so no sum can wrap */
    if (bearer) {
        need = 2 + (p->user_len ? 2 + codec_escaped_len(p->user, p->user_len) : 0) + 1 + 1;
        if (p->host)
            need += 5 + p->host_len + 1;
        if (p->port)
            need += 5 + codec_port_digits(p->port) + 1;
    } else {
        need = 5 + p->user_len + 1;
    }
    need += 5 + (p->token_len ? 7 + p->token_len : 0) + 1 + 1;
    *outlen = need;
    if (need > outmax)
        return OAUTH_CODEC_ERR_NO_ROOM;

    o = out;
    if (bearer) {
        *o++ = p->cb == OAUTH_CB_Y ? 'y' : 'n';
        *o++ = ',';
        if (p->user_len) {
            o = codec_put(o, "a=", 2);
            for (i = 0; i < p->user_len; i++) {
                if (p->user[i] == ',')
                    o = codec_put(o, "=2C", 3);
                else if (p->user[i] == '=')
                    o = codec_put(o, "=3D", 3);
                else
                    *o++ = p->user[i];
            }
        }
        *o++ = ',';
        *o++ = KVSEP;
        if (p->host) {
            o = codec_put(o, "host=", 5);
            o = codec_put(o, p->host, p->host_len);
            *o++ = KVSEP;
        }
        if (p->port) {
            unsigned v = p->port;
            size_t d = codec_port_digits(v);
            o = codec_put(o, "port=", 5);
            for (i = d; i > 0; i--, v /= 10)
                o[i - 1] = (char)('0' + v % 10);
            o += d;
            *o++ = KVSEP;
        }
    } else {
        o = codec_put(o, "user=", 5);
        o = codec_put(o, p->user, p->user_len);
        *o++ = KVSEP;
    }
    o = codec_put(o, "auth=", 5);
    if (p->token_len) {
        o = codec_put(o, "Bearer ", 7);
        o = codec_put(o, p->token, p->token_len);
    }
    *o++ = KVSEP;
    *o++ = KVSEP;
    return codec_built(out, need, outmax);
}

/* ---- the error challenge ------------------------------------------------------ */

const char *oauth_error_status_name(enum oauth_error_status s)
{
    switch (s) {
    case OAUTH_STATUS_INVALID_TOKEN: return "invalid_token";
    case OAUTH_STATUS_INSUFFICIENT_SCOPE: return "insufficient_scope";
    case OAUTH_STATUS_INVALID_REQUEST: return "invalid_request";
    }
    return NULL;
}

/* The checks the client parser applies to each string member. */
static int codec_is_status_string(const char *s, size_t n)
{
    return codec_all_of(s, n, codec_is_nqschar, 1, SIZE_MAX);
}

static int codec_is_scope_string(const char *s, size_t n)
{
    return codec_all_of(s, n, codec_is_nqschar, 0, SIZE_MAX);
}

static int codec_is_url_string(const char *s, size_t n)
{
    return codec_all_of(s, n, codec_is_vchar, 1, SIZE_MAX);
}

/* obj as compact JSON into out, as the builders do (*outlen set when the
 * size is known, NUL after it when room remains). */
static enum oauth_codec_status codec_dump_json(const json_t *obj, char *out, size_t outmax,
                                               size_t *outlen)
{
    size_t n = json_dumpb(obj, NULL, 0, JSON_COMPACT);

    if (n == 0)
        return OAUTH_CODEC_ERR_NOMEM;
    if (n > OAUTH_MAX_ERROR_JSON)
        return OAUTH_CODEC_ERR_JSON_FIELD;
    *outlen = n;
    if (n > outmax)
        return OAUTH_CODEC_ERR_NO_ROOM;
    if (json_dumpb(obj, out, n, JSON_COMPACT) != n)
        return OAUTH_CODEC_ERR_NOMEM;
    return codec_built(out, n, outmax);
}

enum oauth_codec_status oauth_build_error_json(enum oauth_mech mech, enum oauth_error_status status,
                                               const char *scope, const char *openid_config,
                                               char *out, size_t outmax, size_t *outlen)
{
    const char *name = oauth_error_status_name(status);
    enum oauth_codec_status st;
    json_t *obj;
    int bad = 0;

    if (!name || !outlen || (!out && outmax)
        || (mech != OAUTH_MECH_XOAUTH2 && mech != OAUTH_MECH_OAUTHBEARER))
        return OAUTH_CODEC_ERR_ARG;
    if (mech == OAUTH_MECH_XOAUTH2)
        openid_config = NULL;
    if ((scope
         && (strlen(scope) > OAUTH_MAX_ERROR_JSON || !codec_is_scope_string(scope, strlen(scope))))
        || (openid_config
            && (strlen(openid_config) > OAUTH_MAX_ERROR_JSON
                || !codec_is_url_string(openid_config, strlen(openid_config)))))
        return OAUTH_CODEC_ERR_JSON_FIELD;

    obj = json_object();
    if (!obj)
        return OAUTH_CODEC_ERR_NOMEM;
    /* jansson keeps insertion order (2.8 and later) */
    bad |= json_object_set_new(obj, "status", json_string(name));
    if (mech == OAUTH_MECH_XOAUTH2)
        bad |= json_object_set_new(obj, "schemes", json_string("Bearer"));
    if (scope)
        bad |= json_object_set_new(obj, "scope", json_string(scope));
    if (openid_config)
        bad |= json_object_set_new(obj, "openid-configuration", json_string(openid_config));
    if (bad) {
        json_decref(obj);
        return OAUTH_CODEC_ERR_NOMEM;
    }
    st = codec_dump_json(obj, out, outmax, outlen);
    json_decref(obj);
    return st;
}

static const struct oauth_owned codec_error_info_owned[] = {
    OAUTH_OWNED(struct oauth_error_info, status),
    OAUTH_OWNED(struct oauth_error_info, scope),
    OAUTH_OWNED(struct oauth_error_info, openid_config),
};

void oauth_error_info_clear(struct oauth_error_info *info)
{
    OAUTH_OWNED_CLEAR(info, codec_error_info_owned);
}

/* Copy member key of obj into *dst when present: it must be a string that
 * passes check.  Returns OAUTH_CODEC_OK, `bad` or OAUTH_CODEC_ERR_NOMEM. */
static enum oauth_codec_status codec_copy_member(json_t *obj, const char *key,
                                                 int (*check)(const char *, size_t), int required,
                                                 enum oauth_codec_status bad, char **dst,
                                                 struct oauth_err *err)
{
    json_t *v = json_object_get(obj, key);
    const char *s;
    size_t n;

    if (!v) {
        if (!required)
            return OAUTH_CODEC_OK;
        oauth_why(err, "error JSON has no \"%s\"", key);
        return bad;
    }
    if (!json_is_string(v)) {
        oauth_why(err, "error JSON: \"%s\" is not a string", key);
        return bad;
    }
    s = json_string_value(v);
    n = json_string_length(v);
    if (!check(s, n)) {
        oauth_why(err, "error JSON: \"%s\" has characters outside its grammar", key);
        return bad;
    }
    *dst = malloc(n + 1);
    if (!*dst)
        return OAUTH_CODEC_ERR_NOMEM;
    memcpy(*dst, s, n + 1);
    return OAUTH_CODEC_OK;
}

static enum oauth_codec_status codec_parse_error_json(const char *msg, size_t len,
                                               struct oauth_error_info *out, struct oauth_err *err)
{
    enum oauth_codec_status st;
    json_error_t jerr;
    json_t *root;
    int s;

    oauth_err_clear(err);
    if (!out || (!msg && len)) {
        oauth_why(err, "invalid arguments");
        return OAUTH_CODEC_ERR_ARG;
    }
    memset(out, 0, sizeof(*out));
    if (len == 0) {
        oauth_why(err, "empty error challenge");
        return OAUTH_CODEC_ERR_EMPTY;
    }
    if (len > OAUTH_MAX_ERROR_JSON) {
        oauth_why(err, "error challenge of %zu bytes, over the limit of %d", len,
                  OAUTH_MAX_ERROR_JSON);
        return OAUTH_CODEC_ERR_TOO_LONG;
    }
    if (memchr(msg, '\0', len)) {
        oauth_why(err, "byte %zu: NUL in the error challenge",
                  (size_t)((const char *)memchr(msg, '\0', len) - msg));
        return OAUTH_CODEC_ERR_NUL;
    }
    /* no JSON_DECODE_ANY, no JSON_ALLOW_NUL; jansson's error text quotes the
     * input, so only its position is reported */
    root = json_loadb(msg, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        oauth_why(err, "error challenge is not valid JSON (line %d, column %d)", jerr.line,
                  jerr.column);
        return OAUTH_CODEC_ERR_JSON;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        oauth_why(err, "error challenge is JSON but not an object");
        return OAUTH_CODEC_ERR_JSON_NOT_OBJECT;
    }
    st = codec_copy_member(root, "status", codec_is_status_string, 1, OAUTH_CODEC_ERR_JSON_STATUS,
                           &out->status, err);
    if (st == OAUTH_CODEC_OK)
        st = codec_copy_member(root, "scope", codec_is_scope_string, 0, OAUTH_CODEC_ERR_JSON_FIELD,
                               &out->scope, err);
    if (st == OAUTH_CODEC_OK)
        st = codec_copy_member(root, "openid-configuration", codec_is_url_string, 0,
                               OAUTH_CODEC_ERR_JSON_FIELD, &out->openid_config, err);
    json_decref(root);
    if (st != OAUTH_CODEC_OK) {
        oauth_error_info_clear(out);
        return st;
    }
    for (s = OAUTH_STATUS_INVALID_TOKEN; s <= OAUTH_STATUS_INVALID_REQUEST; s++)
        if (strcmp(out->status, oauth_error_status_name((enum oauth_error_status)s)) == 0)
            out->code = (enum oauth_error_status)s;
    return OAUTH_CODEC_OK;
}

/* ---- the client's reply to the error challenge -------------------------------- */

const char *oauth_error_reply(enum oauth_mech mech, size_t *len)
{
    switch (mech) {
    case OAUTH_MECH_OAUTHBEARER:
        if (len)
            *len = 1;
        return "\x01";
    case OAUTH_MECH_XOAUTH2:
        if (len)
            *len = 0;
        return "";
    }
    if (len)
        *len = 0;
    return NULL;
}

enum oauth_codec_status oauth_check_error_reply(enum oauth_mech mech, const char *msg, size_t len)
{
    size_t want_len;
    const char *want = oauth_error_reply(mech, &want_len);

    if (!want || (!msg && len))
        return OAUTH_CODEC_ERR_ARG;
    if (len != want_len || (len && memcmp(msg, want, len) != 0))
        return OAUTH_CODEC_ERR_REPLY;
    return OAUTH_CODEC_OK;
}

/* ---- texts ------------------------------------------------------------------- */

const char *oauth_codec_status_text(enum oauth_codec_status s)
{
    switch (s) {
    case OAUTH_CODEC_OK: return "ok";
    case OAUTH_CODEC_AUTH_EMPTY: return "empty auth value: client asks for the error challenge";
    case OAUTH_CODEC_ERR_ARG: return "invalid arguments";
    case OAUTH_CODEC_ERR_EMPTY: return "empty message";
    case OAUTH_CODEC_ERR_TOO_LONG: return "message too long";
    case OAUTH_CODEC_ERR_NUL: return "embedded NUL byte";
    case OAUTH_CODEC_ERR_KVSEP_ONLY: return "lone ^A where the initial response was expected";
    case OAUTH_CODEC_ERR_SYNTAX: return "malformed message (missing separator, key or final ^A)";
    case OAUTH_CODEC_ERR_TRAILING: return "data after the end of the message";
    case OAUTH_CODEC_ERR_GS2_HEADER: return "malformed GS2 header";
    case OAUTH_CODEC_ERR_CHANNEL_BINDING: return "channel binding (p=) is not supported";
    case OAUTH_CODEC_ERR_AUTHZID: return "invalid authzid in the GS2 header";
    case OAUTH_CODEC_ERR_USER: return "invalid or empty user";
    case OAUTH_CODEC_ERR_USER_TOO_LONG: return "user name or authzid too long";
    case OAUTH_CODEC_ERR_KVPAIR: return "malformed key=value pair";
    case OAUTH_CODEC_ERR_DUPLICATE: return "duplicate key";
    case OAUTH_CODEC_ERR_NO_AUTH: return "no auth key";
    case OAUTH_CODEC_ERR_SCHEME: return "auth is not \"Bearer\" followed by one space and a token";
    case OAUTH_CODEC_ERR_TOKEN_EMPTY: return "empty bearer token";
    case OAUTH_CODEC_ERR_TOKEN_TOO_LONG: return "bearer token too long";
    case OAUTH_CODEC_ERR_TOKEN: return "bearer token has characters outside the RFC 6750 b64token";
    case OAUTH_CODEC_ERR_HOST: return "invalid host value";
    case OAUTH_CODEC_ERR_PORT: return "invalid port value";
    case OAUTH_CODEC_ERR_NO_ROOM: return "output buffer too small";
    case OAUTH_CODEC_ERR_REPLY: return "unexpected reply to the error challenge";
    case OAUTH_CODEC_ERR_JSON: return "error challenge is not valid JSON";
    case OAUTH_CODEC_ERR_JSON_NOT_OBJECT: return "error challenge is not a JSON object";
    case OAUTH_CODEC_ERR_JSON_STATUS: return "error challenge without a valid status string";
    case OAUTH_CODEC_ERR_JSON_FIELD: return "error challenge with an invalid scope or openid-configuration";
    case OAUTH_CODEC_ERR_NOMEM: return "out of memory";
    }
    return "invalid status";
}

/* What a parser's status means, decided here once: a message that breaks
 * the grammar is the other side's fault (invalid_request: a malformed
 * SASL message, RFC 6750 section 3.1), the empty auth= a valid request for
 * the error challenge, bad arguments and memory ours. */
static enum oauth_codec_status codec_done(struct oauth_err *err, enum oauth_codec_status st)
{
    switch (st) {
    case OAUTH_CODEC_OK:
    case OAUTH_CODEC_AUTH_EMPTY:
        return oauth_err_is(err, OAUTH_OK, st);
    case OAUTH_CODEC_ERR_ARG:
    case OAUTH_CODEC_ERR_NO_ROOM:
    case OAUTH_CODEC_ERR_NOMEM:
        return oauth_err_is(err, OAUTH_ERR_INTERNAL, st);
    default:
        oauth_err_is(err, OAUTH_ERR_CLIENT, st);
        if (err)
            err->status = OAUTH_STATUS_INVALID_REQUEST;
        return st;
    }
}

enum oauth_codec_status oauth_parse_client_msg(enum oauth_mech mech, const char *msg, size_t len,
                                               size_t max_token, struct oauth_client_msg *out,
                                               struct oauth_err *err)
{
    oauth_err_clear(err);
    return codec_done(err, codec_parse_client_msg(mech, msg, len, max_token, out, err));
}

enum oauth_codec_status oauth_parse_error_json(const char *msg, size_t len,
                                               struct oauth_error_info *out,
                                               struct oauth_err *err)
{
    oauth_err_clear(err);
    return codec_done(err, codec_parse_error_json(msg, len, out, err));
}
