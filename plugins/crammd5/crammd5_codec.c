#include "config.h"
#include "crammd5_codec.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sasl-mechs/hex.h>
#include <sasl-mechs/secret.h>

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

static const char *const state_prefixes[] = {"{CRAM-MD5}", "{CRAM-MD5.HEX}", NULL};
static const char *const plain_prefixes[] = {"{PLAIN}", "{CLEARTEXT}", NULL};

/* Length of the prefix of val found in list, or 0. */
static size_t prefix_len(const char *val, size_t len, const char *const *list)
{
    for (; *list; list++) {
        size_t n = strlen(*list);
        if (len >= n && strncasecmp(val, *list, n) == 0)
            return n;
    }
    return 0;
}

enum crammd5_status crammd5_parse_secret(const char *val, size_t len,
                                         enum crammd5_secret_format fmt,
                                         struct crammd5_secret *out)
{
    char lower[64];
    size_t p, i;

    memset(out, 0, sizeof(*out));
    p = fmt == CRAMMD5_SECRET_PLAIN ? 0 : prefix_len(val, len, state_prefixes);
    if (p || fmt == CRAMMD5_SECRET_HMAC) {
        /* written by tools, not by attackers: accept either case of hex */
        if (len - p != sizeof(lower))
            return CRAMMD5_ERR_SECRET_FORMAT;
        for (i = 0; i < sizeof(lower); i++)
            lower[i] = (char)((val[p + i] >= 'A' && val[p + i] <= 'F') ? val[p + i] + 32 : val[p + i]);
        i = (size_t)sm_hex_decode_lower(lower, sizeof(out->state), out->state);
        sm_erase(lower, sizeof(lower));
        if (i != 0)
            return CRAMMD5_ERR_SECRET_FORMAT;
        out->is_state = 1;
        return CRAMMD5_OK;
    }
    p = fmt == CRAMMD5_SECRET_AUTO ? prefix_len(val, len, plain_prefixes) : 0;
    out->password = val + p;
    out->password_len = len - p;
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
