/* The one error type of the OAuth core.  Every function that can fail for
 * a reason an administrator should read takes a struct oauth_err * (NULL
 * when the caller does not want it) and fills it as it fails:
 *
 *   cls     what the failure means for whoever called the core: one of the
 *           five classes below, decided where the failure happens, so that
 *           no caller maps one module's status onto another's;
 *   code    the finer code of the module that failed (its own enum, for
 *           tests and for the log), 0 on success;
 *   status  for OAUTH_ERR_CLIENT from the token checks: the RFC 6750 error
 *           code the OAUTHBEARER/XOAUTH2 error challenge names
 *           (invalid_token or insufficient_scope); 0 otherwise;
 *   reason  an administrator-oriented sentence: a byte offset, a claim's
 *           name, a path, a host; never a token, a secret or a received
 *           value beyond what oauth_show quotes.
 *
 * Filling it never fails; a reason longer than the buffer is cut. */
#ifndef OAUTH_ERR_H
#define OAUTH_ERR_H

#include <stdarg.h>
#include <stddef.h>

#include "oauth_codec.h"

enum oauth_err_class {
    OAUTH_OK = 0,
    OAUTH_ERR_CLIENT,    /* the other side's fault: a malformed message or a refused
                            token (for the client plugin: a malformed challenge) */
    OAUTH_ERR_TEMPORARY, /* try again later: an endpoint unreachable, a lock held */
    OAUTH_ERR_CONFIG,    /* what an administrator must fix: options, files, endpoints */
    OAUTH_ERR_INTERNAL,  /* out of memory, OpenSSL or libcurl unusable, bad arguments */
};

#define OAUTH_ERR_REASON_MAX 320

struct oauth_err {
    enum oauth_err_class cls;
    int code;
    enum oauth_error_status status;
    char reason[OAUTH_ERR_REASON_MAX];
};

/* Empty: class OAUTH_OK, code 0, no reason. */
void oauth_err_clear(struct oauth_err *err);

/* Set the class, the module's code and the reason (printf); returns code,
 * so that a module can end with
 * `return oauth_fail(err, OAUTH_ERR_CONFIG, OAUTH_X_BROKEN, "...", ...);`.
 * cls OAUTH_ERR_KEEP leaves class and code as they are. */
#define OAUTH_ERR_KEEP ((enum oauth_err_class)-1)
int oauth_fail(struct oauth_err *err, enum oauth_err_class cls, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int oauth_vfail(struct oauth_err *err, enum oauth_err_class cls, int code, const char *fmt,
                va_list ap) __attribute__((format(printf, 4, 0)));

/* The reason alone (printf); class and code are left as they are. */
#define oauth_why(err, ...) ((void)oauth_fail((err), OAUTH_ERR_KEEP, 0, __VA_ARGS__))

/* Class and reason, code 0, for a module whose class is its answer; the
 * value is cls. */
#define oauth_err_set(err, cls, ...) (oauth_fail((err), (cls), 0, __VA_ARGS__), (cls))

/* Class and code alone; returns code. */
int oauth_err_is(struct oauth_err *err, enum oauth_err_class cls, int code);

#endif
