/* RFC 4616 section 2:  message = [authzid] UTF8NUL authcid UTF8NUL passwd */
#ifndef PLAIN_CODEC_H
#define PLAIN_CODEC_H

#include <stddef.h>

struct plain_message {
    const char *authzid;  /* points into the parsed buffer; not NUL-terminated */
    size_t authzid_len;   /* 0: no authzid */
    const char *authcid;
    size_t authcid_len;
    const char *passwd;
    size_t passwd_len;
};

enum plain_status {
    PLAIN_OK = 0,
    PLAIN_ERR_SEPARATORS,    /* not exactly two NULs */
    PLAIN_ERR_EMPTY_AUTHCID,
    PLAIN_ERR_EMPTY_PASSWD,
    PLAIN_ERR_USER_TOO_LONG, /* authzid or authcid over max_user */
    PLAIN_ERR_PASSWD_TOO_LONG,
};

enum plain_status plain_parse(const char *msg, size_t len, size_t max_user,
                              size_t max_passwd, struct plain_message *out);
const char *plain_status_text(enum plain_status s);

/* Bytes plain_build writes for m (no NUL). */
size_t plain_message_len(const struct plain_message *m);
/* Write the message into out (at least plain_message_len bytes). */
void plain_build(const struct plain_message *m, char *out);

#endif
