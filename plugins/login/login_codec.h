/* LOGIN (draft-murchison-sasl-login): the server asks "Username:" then
 * "Password:"; each answer is one string without NUL. */
#ifndef LOGIN_CODEC_H
#define LOGIN_CODEC_H

#include <stddef.h>

#define LOGIN_USERNAME_CHALLENGE "Username:"
#define LOGIN_PASSWORD_CHALLENGE "Password:"
/* Larger challenges from a server are refused by the client. */
#define LOGIN_MAX_CHALLENGE 1024

enum login_status {
    LOGIN_OK = 0,
    LOGIN_ERR_EMPTY,
    LOGIN_ERR_NUL,
    LOGIN_ERR_TOO_LONG,
};

/* Check one answer (user name or password) of len bytes against max. */
enum login_status login_check_field(const char *s, size_t len, size_t max);
const char *login_status_text(enum login_status s);

#endif
