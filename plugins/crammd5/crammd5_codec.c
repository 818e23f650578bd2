#include "config.h"
#include "crammd5_codec.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sasl-mechs/crypto.h>
#include <sasl-mechs/hex.h>

enum crammd5_status crammd5_parse_response(const char *msg, size_t len, size_t max_user,
                                           struct crammd5_response *out)
{
    const char *sp = NULL;
    size_t i;

    if (!msg || memchr(msg, '\0', len))
        return msg ? CRAMMD5_ERR_NUL : CRAMMD5_ERR_NO_SPACE;
    /* user names may contain spaces; the digest never does */
    for (i = len; i > 0; i--)
        if (msg[i - 1] == ' ') {
            sp = msg + i - 1;
            break;
        }
    if (!sp)
        return CRAMMD5_ERR_NO_SPACE;
    out->user = msg;
    out->user_len = (size_t)(sp - msg);
    if (out->user_len == 0)
        return CRAMMD5_ERR_EMPTY_USER;
    if (out->user_len > max_user)
        return CRAMMD5_ERR_USER_TOO_LONG;
    if (len - out->user_len - 1 != CRAMMD5_HEX_LEN
        || sm_hex_decode_lower(sp + 1, CRAMMD5_DIGEST_LEN, out->digest) != 0)
        return CRAMMD5_ERR_DIGEST;
    return CRAMMD5_OK;
}

size_t crammd5_build_challenge(char *out, size_t outmax, uint64_t rnd, uint64_t ts,
                               const char *host, size_t hostlen)
{
    int n;

    if (hostlen > CRAMMD5_MAX_HOST)
        hostlen = CRAMMD5_MAX_HOST;
    n = snprintf(out, outmax, "<%" PRIu64 ".%" PRIu64 "@%.*s>", rnd, ts, (int)hostlen, host);
    return n > 0 && (size_t)n < outmax ? (size_t)n : 0;
}

size_t crammd5_response_len(size_t user_len)
{
    return user_len + 1 + CRAMMD5_HEX_LEN;
}

void crammd5_build_response(const char *user, size_t user_len,
                            const unsigned char digest[CRAMMD5_DIGEST_LEN], char *out)
{
    memcpy(out, user, user_len);
    out[user_len] = ' ';
    sm_hex_encode(digest, CRAMMD5_DIGEST_LEN, out + user_len + 1);
}

enum crammd5_status crammd5_check_challenge(const char *msg, size_t len)
{
    if (!msg || len == 0)
        return CRAMMD5_ERR_EMPTY_CHALLENGE;
    if (len > CRAMMD5_MAX_CHALLENGE)
        return CRAMMD5_ERR_CHALLENGE_TOO_LONG;
    if (memchr(msg, '\0', len))
        return CRAMMD5_ERR_NUL;
    return CRAMMD5_OK;
}

/* "{SCHEME}" at the start of val: its length, or 0. */
static size_t scheme_len(const char *val, size_t len)
{
    size_t i;

    if (len < 3 || val[0] != '{')
        return 0;
    for (i = 1; i < len && i < 32; i++) {
        unsigned char c = (unsigned char)val[i];
        if (c == '}')
            return i > 1 ? i + 1 : 0;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
              || c == '-' || c == '.' || c == '_'))
            return 0;
    }
    return 0;
}

static int is_scheme(const char *val, size_t n, const char *name)
{
    return n == strlen(name) && strncasecmp(val, name, n) == 0;
}

enum crammd5_status crammd5_parse_secret(const char *val, size_t len,
                                         enum crammd5_secret_format fmt,
                                         struct crammd5_secret *out)
{
    size_t n;

    memset(out, 0, sizeof(*out));
    if (fmt == CRAMMD5_SECRET_PLAIN) {
        out->password = val;
        out->password_len = len;
        return CRAMMD5_OK;
    }
    if (sm_hmac_md5_state_parse(val, len, fmt == CRAMMD5_SECRET_AUTO, out->state) == 0) {
        out->is_state = 1;
        return CRAMMD5_OK;
    }
    n = scheme_len(val, len);
    if (fmt == CRAMMD5_SECRET_HMAC || (n && !is_scheme(val, n, "{PLAIN}") && !is_scheme(val, n, "{CLEARTEXT}")))
        return CRAMMD5_ERR_SECRET_FORMAT; /* a hash of another scheme is no key */
    out->password = val + n;
    out->password_len = len - n;
    return CRAMMD5_OK;
}

const char *crammd5_status_text(enum crammd5_status s)
{
    switch (s) {
    case CRAMMD5_OK: return "ok";
    case CRAMMD5_ERR_NO_SPACE: return "malformed response (expected user SP digest)";
    case CRAMMD5_ERR_EMPTY_USER: return "empty user name";
    case CRAMMD5_ERR_USER_TOO_LONG: return "user name too long";
    case CRAMMD5_ERR_EMPTY_CHALLENGE: return "empty challenge";
    case CRAMMD5_ERR_CHALLENGE_TOO_LONG: return "challenge too long";
    case CRAMMD5_ERR_NUL: return "embedded NUL byte";
    case CRAMMD5_ERR_DIGEST: return "digest is not 32 lowercase hex digits";
    case CRAMMD5_ERR_SECRET_FORMAT: return "stored secret is not in CRAM-MD5 form";
    }
    return "invalid";
}
