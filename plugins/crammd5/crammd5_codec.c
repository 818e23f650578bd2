#include "config.h"
#include "crammd5_codec.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sasl-mechs/hex.h>

const char *crammd5_parse_response(const char *msg, size_t len, size_t max_user,
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
    return NULL;
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
