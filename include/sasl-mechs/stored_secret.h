/* A user's secret as an auxprop stores it (userPassword, or an attribute a
 * plugin is told to read), in the forms sites keep:
 *   a password, bare or tagged {PLAIN} or {CLEARTEXT};
 *   an HMAC-MD5 key schedule (crypto.h), tagged {CRAM-MD5} or {CRAM-MD5.HEX}
 *     then 64 hex digits: what Dovecot's `doveadm pw -s CRAM-MD5` writes;
 *   an NT hash, MD4 of the UTF-16LE password, tagged {NTLM} then 32 hex
 *     digits (Dovecot), or 32 bare hex digits (Samba's sambaNTPassword).
 * Tags match in any case, hex digits in either case. */
#ifndef SASL_MECHS_STORED_SECRET_H
#define SASL_MECHS_STORED_SECRET_H

#include <stddef.h>

enum sm_secret_kind {
    SM_SECRET_PASSWORD = 1u << 0,
    SM_SECRET_HMAC_MD5_STATE = 1u << 1,
    SM_SECRET_NT_HASH = 1u << 2,
};

/* How a plugin reads a stored value. */
struct sm_secret_rules {
    unsigned accept;           /* the kinds the plugin can use (a mask) */
    enum sm_secret_kind bare;  /* what a value without a tag is */
    int tags;                  /* 0: no tag is read; the whole value is `bare` */
};

#define SM_SECRET_KEY_MAX 32   /* the HMAC-MD5 schedule; an NT hash is 16 */

struct sm_stored_secret {
    enum sm_secret_kind kind;
    const char *password;      /* PASSWORD: points into the stored value */
    size_t password_len;
    unsigned char key[SM_SECRET_KEY_MAX]; /* other kinds: the decoded key */
    size_t key_len;
};

/* 0 with *out filled, or -1 when the value is no form the rules accept: a
 * kind not accepted, a malformed key, or the tag of another scheme ({SSHA},
 * {SHA512-CRYPT} ...: a one-way hash no mechanism here can use).  The caller
 * erases *out after use. */
int sm_stored_secret_parse(const char *val, size_t len, const struct sm_secret_rules *rules,
                           struct sm_stored_secret *out);

/* 1 when val is a tagged precomputed key: with pwcheck_method auxprop,
 * libsasl2 compares a typed password with userPassword as strings, so a
 * stolen {CRAM-MD5} or {NTLM} value would otherwise log in as a password. */
int sm_stored_secret_is_tagged_key(const char *val, size_t len);

#endif
