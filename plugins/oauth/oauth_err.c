/* The OAuth core's error type: see oauth_err.h. */
#include "config.h"
#include "oauth_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void oauth_err_clear(struct oauth_err *err)
{
    if (err)
        memset(err, 0, sizeof(*err));
}

int oauth_err_is(struct oauth_err *err, enum oauth_err_class cls, int code)
{
    if (err && cls != OAUTH_ERR_KEEP) {
        err->cls = cls;
        err->code = code;
    }
    return code;
}

int oauth_vfail(struct oauth_err *err, enum oauth_err_class cls, int code, const char *fmt,
                va_list ap)
{
    char tmp[OAUTH_ERR_REASON_MAX];

    if (!err)
        return code;
    /* through a copy: the arguments may quote err->reason itself */
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    memcpy(err->reason, tmp, sizeof(tmp));
    return oauth_err_is(err, cls, code);
}

int oauth_fail(struct oauth_err *err, enum oauth_err_class cls, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    code = oauth_vfail(err, cls, code, fmt, ap);
    va_end(ap);
    return code;
}
