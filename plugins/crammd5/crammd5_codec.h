/* CRAM-MD5 (RFC 2195): the server sends a msg-id style challenge
 * "<random.timestamp@host>"; the client answers
 * "user SP hex(HMAC-MD5(secret, challenge))" in 32 lowercase hex digits. */
#ifndef CRAMMD5_CODEC_H
#define CRAMMD5_CODEC_H

#include <stddef.h>
#include <stdint.h>

#define CRAMMD5_DIGEST_LEN 16
#define CRAMMD5_HEX_LEN 32
/* Larger challenges from a server are refused by the client. */
#define CRAMMD5_MAX_CHALLENGE 1024
/* A host part longer than this is cut when building a challenge. */
#define CRAMMD5_MAX_HOST 255

enum crammd5_status {
    CRAMMD5_OK = 0,
    CRAMMD5_ERR_NO_SPACE,       /* no separator */
    CRAMMD5_ERR_EMPTY_USER,
    CRAMMD5_ERR_USER_TOO_LONG,
    CRAMMD5_ERR_EMPTY_CHALLENGE,
    CRAMMD5_ERR_CHALLENGE_TOO_LONG,
    CRAMMD5_ERR_NUL,
    CRAMMD5_ERR_DIGEST,         /* not exactly 32 lowercase hex digits */
    CRAMMD5_ERR_SECRET_FORMAT,  /* stored secret not in the expected form */
};

struct crammd5_response {
    const char *user;           /* points into the parsed buffer */
    size_t user_len;
    unsigned char digest[CRAMMD5_DIGEST_LEN];
};

/* Parse a client response (split on the last space, nothing trailing). */
enum crammd5_status crammd5_parse_response(const char *msg, size_t len, size_t max_user,
                                           struct crammd5_response *out);

/* Write "<rnd.ts@host>" and a NUL into out (outmax bytes); return its length
 * or 0 if out is too small. */
size_t crammd5_build_challenge(char *out, size_t outmax, uint64_t rnd, uint64_t ts,
                               const char *host, size_t hostlen);

/* Length of "user SP hexdigest"; crammd5_build_response writes that many bytes. */
size_t crammd5_response_len(size_t user_len);
void crammd5_build_response(const char *user, size_t user_len,
                            const unsigned char digest[CRAMMD5_DIGEST_LEN], char *out);

/* Check a server challenge as the client receives it. */
enum crammd5_status crammd5_check_challenge(const char *msg, size_t len);

/* A stored secret: a plaintext password, or Dovecot's precomputed HMAC-MD5
 * key schedule ("{CRAM-MD5}" or "{CRAM-MD5.HEX}" and 64 hex digits).  In
 * AUTO, "{PLAIN}" and "{CLEARTEXT}" are stripped and any other "{SCHEME}"
 * (a hash for another mechanism) is refused: it is no key. */
enum crammd5_secret_format { CRAMMD5_SECRET_AUTO, CRAMMD5_SECRET_PLAIN, CRAMMD5_SECRET_HMAC };
struct crammd5_secret {
    int is_state;               /* 1: state[] holds the key schedule */
    unsigned char state[32];
    const char *password;       /* else: points into the stored value */
    size_t password_len;
};
enum crammd5_status crammd5_parse_secret(const char *val, size_t len,
                                         enum crammd5_secret_format fmt,
                                         struct crammd5_secret *out);

const char *crammd5_status_text(enum crammd5_status s);

#endif
