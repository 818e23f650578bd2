/* The client's token file: an access token kept fresh with the refresh
 * grant (RFC 6749 section 6), or for app-only sign-in with the client
 * credentials grant (section 4.4), shared safely by many processes.
 *
 * Format: one JSON object (UTF-8, at most 64 KiB, duplicate member names
 * refused), for example
 *
 *   {
 *     "access_token":   "eyJhbGciOi...",
 *     "expires_at":     1767225600,
 *     "refresh_token":  "8xLOxBtZp8",
 *     "token_endpoint": "https://idp.example.com/oauth2/token",
 *     "client_id":      "smtp-relay",
 *     "client_secret":  "s3cr3t",
 *     "scope":          "https://mail.example.com/smtp"
 *   }
 *
 *   access_token    string; may be absent (or "") before the first refresh
 *   expires_at      integer, Unix seconds; required with access_token
 *   obtained_at     integer, Unix seconds, not after expires_at; optional:
 *                   when the access token was obtained (written by each
 *                   refresh), which gives its lifetime
 *   refresh_token   string; without it an expiring token cannot be renewed
 *   token_endpoint  string, https:// (http:// only to loopback unless the
 *                   caller allows insecure URLs); required with refresh_token
 *   client_id       string; required with refresh_token
 *   client_secret   string; optional (a public client has none)
 *   scope           string; optional: sent as `scope` in the refresh request
 *   token_endpoint_auth_method  optional: "client_secret_basic" (the
 *                   default with a client_secret: HTTP Basic, RFC 6749
 *                   2.3.1), "client_secret_post" (client_id and
 *                   client_secret in the form body) or "none" (the
 *                   default without a client_secret: client_id in the body)
 *                   or "private_key_jwt" (RFC 7523: a client assertion signed
 *                   with client_assertion_key, see oauth_grant.h)
 *   grant_type      optional: "refresh_token" (the default) or
 *                   "client_credentials": app-only sign-in without a
 *                   refresh_token (there must be none); when the access token
 *                   expires a new one is requested with the client
 *                   credentials grant (client_secret or private_key_jwt,
 *                   never "none"), scope sent as it is (Microsoft:
 *                   "https://outlook.office365.com/.default"), under the same
 *                   lock and through the same rename as a refresh; the file
 *                   may then lack access_token (obtained on first use)
 *   client_assertion_key   private_key_jwt: path of the PEM private key (RSA,
 *                   unencrypted, readable by the owner only)
 *   client_assertion_cert  private_key_jwt, optional: path of the PEM
 *                   certificate registered for the client; its thumbprints go
 *                   in the assertion's header (x5t#S256, x5t)
 *   revocation_endpoint  optional, used by `sasl-mechs-token revoke` only
 * The token tool (sasl-mechs-token) writes more members for people to read
 * (provider, user, refresh_obtained_at); they are kept like any other.
 * Any other member is kept as it is when the file is rewritten.
 *
 * The file must be a regular file (not a symbolic link: it is replaced by
 * rename), not accessible by others (no o+rwx bits), and on a local file
 * system (flock).  Its directory must be writable by the user the client
 * runs as: the refreshed file is written there as a temporary file first,
 * and the lock file <file>.lock lives next to it.
 *
 * oauth_tokenfile_get:
 *   1. reads the file; if access_token expires more than the window from
 *      now it is returned as it is (no lock, no request).  The window is
 *      refresh_window, or half the token's lifetime (expires_at -
 *      obtained_at) when that is shorter: a token that lives no longer than
 *      refresh_window would otherwise be refreshed on every use;
 *   2. else takes an exclusive flock on <file>.lock (created on first use
 *      with O_EXCL, the token file's owner and mode; an existing one is
 *      used only with one link and owned by the caller or the token file's
 *      owner, and never chowned; waited for at most lock_timeout_ms), then reads the file again: another process may
 *      have refreshed it meanwhile, and then that token is returned;
 *   3. else creates the temporary file in the same directory (same mode;
 *      owner and group set with fchown when running as root, and the
 *      refresh is not attempted at all when the rewritten file could not
 *      keep them: a refresh token is never spent without a place to keep
 *      its successor), POSTs grant_type=refresh_token&refresh_token=..
 *      [&scope=..] with the client authentication above, and reads the
 *      answer: access_token required, token_type Bearer when present,
 *      expires_in (default 3600 s when absent), refresh_token optional (the
 *      old one is kept when absent, RFC 6749 section 6);
 *   4. writes the updated JSON to the temporary file, fsyncs it, renames it
 *      over the token file, fsyncs the directory, and releases the lock.
 * Several processes that find the token expiring at the same moment thus
 * make one refresh between them, and a rotated refresh token is never lost.
 *
 * err (may be NULL) receives the status as its code and its class:
 * OAUTH_ERR_TEMPORARY for UNAVAILABLE and LOCK_FAILED (try again later),
 * OAUTH_ERR_INTERNAL for ERROR, OAUTH_ERR_CONFIG for the rest (a file, a
 * grant or an endpoint an administrator must look at).  Secrets never
 * appear in its reason; the token endpoint's error code does, with its
 * error_description when that does not contain one of our secrets. */
#ifndef OAUTH_TOKENFILE_H
#define OAUTH_TOKENFILE_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "oauth_http.h"

enum oauth_tokenfile_status {
    OAUTH_TOKENFILE_OK = 0,
    OAUTH_TOKENFILE_UNREADABLE,   /* missing, unreadable, not a regular file,
                                     too large, accessible by others */
    OAUTH_TOKENFILE_MALFORMED,    /* not the JSON object described above */
    OAUTH_TOKENFILE_EXPIRED,      /* expiring and no refresh_token to renew it */
    OAUTH_TOKENFILE_UNAVAILABLE,  /* token endpoint unreachable, timeout, 5xx,
                                     429: temporary, try again later */
    OAUTH_TOKENFILE_REJECTED,     /* the endpoint refused the refresh
                                     (invalid_grant, invalid_client, any 4xx):
                                     the grant needs an administrator */
    OAUTH_TOKENFILE_BAD_RESPONSE, /* 200 without a usable access_token, or
                                     an unusable answer (too large, TLS) */
    OAUTH_TOKENFILE_LOCK_FAILED,  /* lock file not creatable, or held by
                                     another process longer than
                                     lock_timeout_ms: temporary */
    OAUTH_TOKENFILE_WRITE_FAILED, /* the file cannot be rewritten (checked
                                     before refreshing), or writing it after a
                                     refresh failed: then `out` is still set
                                     with the new token, good for this use */
    OAUTH_TOKENFILE_ERROR         /* out of memory, bad arguments */
};

/* The default refresh window: 900 s.  Exchange Online refuses a token that
 * expires within 10 minutes ("501 5.5.127 Token will expire soon"), so a
 * token is refreshed while it still has 15 minutes to live: a Microsoft
 * token (60 to 90 minutes) is used for 45 to 75 minutes, then refreshed, and
 * reaches the server with at least 15 minutes left, 5 more than Exchange
 * asks, for the SMTP dialogue and clock skew.  A token that lives 30 minutes
 * or less is refreshed at half its lifetime instead (see
 * oauth_tokenfile_get). */
#define OAUTH_TOKENFILE_DEFAULT_WINDOW 900

struct oauth_tokenfile_options {
    long refresh_window;          /* seconds before expiry to refresh, at most
                                     half the lifetime; >= 0 */
    long lock_timeout_ms;         /* > 0 */
    int dir_fd;                   /* the folder a relative path is opened in
                                     (the file, its lock, the temporary file,
                                     the rename: openat, renameat), e.g. one
                                     opened before a chroot; AT_FDCWD (the
                                     default): the working directory */
    const char *dir_name;         /* dir_fd's path, for messages, or NULL */
    struct oauth_http_options http;
};

/* refresh_window OAUTH_TOKENFILE_DEFAULT_WINDOW, dir_fd AT_FDCWD, lock_timeout_ms 30000 (three total HTTP timeouts),
 * HTTP defaults. */
void oauth_tokenfile_options_default(struct oauth_tokenfile_options *o);

struct oauth_token {
    char *access_token;           /* malloc'd, NUL-terminated */
    time_t expires_at;
    int refreshed;                /* 1 when this call did the refresh */
};

/* Erase and free the access token. */
void oauth_token_clear(struct oauth_token *t);

enum oauth_tokenfile_status oauth_tokenfile_get(const char *path,
                                                const struct oauth_tokenfile_options *o,
                                                struct oauth_token *out,
                                                struct oauth_err *err);

/* The same, but renews the access token whatever its expiry (the token
 * tool's `refresh`): the same lock, grant and rewrite. */
enum oauth_tokenfile_status oauth_tokenfile_refresh(const char *path,
                                                    const struct oauth_tokenfile_options *o,
                                                    struct oauth_token *out,
                                                    struct oauth_err *err);

/* Read and check path as oauth_tokenfile_get does, without a request or a
 * lock (the token tool's `show`): OK, or why the plugin would refuse it. */
enum oauth_tokenfile_status oauth_tokenfile_check(const char *path, struct oauth_err *err);

/* Write a whole new token file (the token tool's `obtain`): text (len
 * bytes) must be a token file as above (MALFORMED otherwise: nothing the
 * plugin would refuse is written).  Under the same lock as a refresh, it is
 * written to a temporary file in the same directory with mode (no bits for
 * others), owner uid and group gid (-1: the caller's; another owner needs
 * root), fsynced and renamed over path, replacing any file there. */
enum oauth_tokenfile_status oauth_tokenfile_write(const char *path, const char *text,
                                                  size_t len, unsigned mode, long uid, long gid,
                                                  const struct oauth_tokenfile_options *o,
                                                  struct oauth_err *err);

/* Take the lock a refresh takes (<path>.lock, waited for at most
 * lock_timeout_ms; o may be NULL for the defaults), for the token tool's
 * revoke and delete: the descriptor holding it (close it to release), or -1
 * with err set (UNREADABLE: no regular file at path; LOCK_FAILED). */
int oauth_tokenfile_lock(const char *path, const struct oauth_tokenfile_options *o,
                         struct oauth_err *err);

const char *oauth_tokenfile_status_text(enum oauth_tokenfile_status s);

/* A change to the token file made as a refresh makes it: under the lock,
 * on the file read again under the lock (checked as above), written back
 * through a temporary file with the same mode and owner, renamed into place.
 * fn gets the file's JSON object and returns 1 to have it written back, 0 to
 * leave the file as it is (OAUTH_TOKENFILE_OK), -1 on failure (its reason in
 * err: OAUTH_TOKENFILE_ERROR).  Secrets in the object are erased when it is
 * freed; a value fn replaces must be erased by fn. */
typedef int oauth_tokenfile_change_fn(json_t *root, void *arg, struct oauth_err *err);
enum oauth_tokenfile_status oauth_tokenfile_update(const char *path,
                                                   const struct oauth_tokenfile_options *o,
                                                   oauth_tokenfile_change_fn *fn, void *arg,
                                                   struct oauth_err *err);

#endif
