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

/* Why plain_parse refuses a message, in the words of the errdetail. */
/* not exactly two NULs */
#define PLAIN_ERR_SEPARATORS "malformed message (expected authzid NUL authcid NUL password)"
#define PLAIN_ERR_EMPTY_AUTHCID "empty authentication identity"
#define PLAIN_ERR_EMPTY_PASSWD "empty password"
/* authzid or authcid over max_user */
#define PLAIN_ERR_USER_TOO_LONG "user name too long"
#define PLAIN_ERR_PASSWD_TOO_LONG "password too long"

/* NULL when msg (len bytes) is a message within the caps, out then pointing
 * into it; else why not, one of the PLAIN_ERR_* above. */
const char *plain_parse(const char *msg, size_t len, size_t max_user, size_t max_passwd,
                        struct plain_message *out);

/* Bytes plain_build writes for m (no NUL). */
size_t plain_message_len(const struct plain_message *m);
/* Write the message into out (at least plain_message_len bytes). */
void plain_build(const struct plain_message *m, char *out);

#endif
