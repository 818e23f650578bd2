/* LOGIN (draft-murchison-sasl-login): the server asks "Username:" then
 * "Password:"; each answer is one string without NUL, checked as a field
 * (sasl-mechs/field.h) against the server's caps. */
#ifndef LOGIN_CODEC_H
#define LOGIN_CODEC_H

#define LOGIN_USERNAME_CHALLENGE "Username:"
#define LOGIN_PASSWORD_CHALLENGE "Password:"
/* Larger challenges from a server are refused by the client. */
#define LOGIN_MAX_CHALLENGE 1024

#endif
