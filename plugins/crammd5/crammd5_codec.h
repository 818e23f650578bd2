/* CRAM-MD5 (RFC 2195): the server sends a msg-id style challenge
 * "<random.timestamp@host>"; the client answers
 * "user SP hex(HMAC-MD5(secret, challenge))" in 32 lowercase hex digits. */
#ifndef CRAMMD5_CODEC_H
#define CRAMMD5_CODEC_H

#include <stddef.h>
#include <stdint.h>

#define CRAMMD5_DIGEST_LEN 16
#define CRAMMD5_HEX_LEN 32
/* Larger challenges from a server are refused by the client (the
 * challenge is checked as a field: sasl-mechs/field.h). */
#define CRAMMD5_MAX_CHALLENGE 1024
/* A host part longer than this is cut when building a challenge. */
#define CRAMMD5_MAX_HOST 255
/* "<", two 64-bit numbers in decimal (20 digits each), ".", "@", ">", NUL */
#define CRAMMD5_CHALLENGE_FRAMING (1 + 20 + 1 + 20 + 1 + 1 + 1)
/* Room for any challenge crammd5_build_challenge writes. */
#define CRAMMD5_MAX_CHALLENGE_BUILT (CRAMMD5_MAX_HOST + CRAMMD5_CHALLENGE_FRAMING)

/* Why crammd5_parse_response refuses a response, in the words of the
 * errdetail. */
#define CRAMMD5_ERR_NO_SPACE "malformed response (expected user SP digest)"
#define CRAMMD5_ERR_EMPTY_USER "empty user name"
#define CRAMMD5_ERR_USER_TOO_LONG "user name too long"
#define CRAMMD5_ERR_NUL "embedded NUL byte"
#define CRAMMD5_ERR_DIGEST "digest is not 32 lowercase hex digits"

struct crammd5_response {
    const char *user;           /* points into the parsed buffer */
    size_t user_len;
    unsigned char digest[CRAMMD5_DIGEST_LEN];
};

/* Parse a client response (split on the last space, nothing trailing):
 * NULL, out then pointing into msg, or why not, one of CRAMMD5_ERR_*. */
const char *crammd5_parse_response(const char *msg, size_t len, size_t max_user,
                                   struct crammd5_response *out);

/* Write "<rnd.ts@host>" and a NUL into out (outmax bytes); return its length
 * or 0 if out is too small. */
size_t crammd5_build_challenge(char *out, size_t outmax, uint64_t rnd, uint64_t ts,
                               const char *host, size_t hostlen);

/* Length of "user SP hexdigest"; crammd5_build_response writes that many bytes. */
size_t crammd5_response_len(size_t user_len);
void crammd5_build_response(const char *user, size_t user_len,
                            const unsigned char digest[CRAMMD5_DIGEST_LEN], char *out);

#endif
