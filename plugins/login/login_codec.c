#include "config.h"
#include "login_codec.h"

#include <string.h>

enum login_status login_check_field(const char *s, size_t len, size_t max)
{
    if (!s || len == 0)
        return LOGIN_ERR_EMPTY;
    if (len > max)
        return LOGIN_ERR_TOO_LONG;
    if (memchr(s, '\0', len))
        return LOGIN_ERR_NUL;
    return LOGIN_OK;
}

const char *login_status_text(enum login_status s)
{
    switch (s) {
    case LOGIN_OK: return "ok";
    case LOGIN_ERR_EMPTY: return "empty";
    case LOGIN_ERR_NUL: return "contains a NUL byte";
    case LOGIN_ERR_TOO_LONG: return "too long";
    }
    return "invalid";
}
