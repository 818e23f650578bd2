#include "config.h"
#include "plain_codec.h"

#include <string.h>

const char *plain_parse(const char *msg, size_t len, size_t max_user, size_t max_passwd,
                        struct plain_message *out)
{
    const char *end, *nul1, *nul2;

    if (!msg || !(nul1 = memchr(msg, '\0', len)))
        return PLAIN_ERR_SEPARATORS;
    end = msg + len;
    if (!(nul2 = memchr(nul1 + 1, '\0', (size_t)(end - nul1 - 1))))
        return PLAIN_ERR_SEPARATORS;
    /* passwd = 1*SAFE: a third NUL can only be trailing data */
    if (memchr(nul2 + 1, '\0', (size_t)(end - nul2 - 1)))
        return PLAIN_ERR_SEPARATORS;
    out->authzid = msg;
    out->authzid_len = (size_t)(nul1 - msg);
    out->authcid = nul1 + 1;
    out->authcid_len = (size_t)(nul2 - nul1 - 1);
    out->passwd = nul2 + 1;
    out->passwd_len = (size_t)(end - nul2 - 1);
    if (out->authcid_len == 0)
        return PLAIN_ERR_EMPTY_AUTHCID;
    if (out->passwd_len == 0)
        return PLAIN_ERR_EMPTY_PASSWD;
    if (out->authzid_len > max_user || out->authcid_len > max_user)
        return PLAIN_ERR_USER_TOO_LONG;
    if (out->passwd_len > max_passwd)
        return PLAIN_ERR_PASSWD_TOO_LONG;
    return NULL;
}

size_t plain_message_len(const struct plain_message *m)
{
    return m->authzid_len + 1 + m->authcid_len + 1 + m->passwd_len;
}

void plain_build(const struct plain_message *m, char *out)
{
    if (m->authzid_len)
        memcpy(out, m->authzid, m->authzid_len);
    out += m->authzid_len;
    *out++ = '\0';
    memcpy(out, m->authcid, m->authcid_len);
    out += m->authcid_len;
    *out++ = '\0';
    memcpy(out, m->passwd, m->passwd_len);
}
