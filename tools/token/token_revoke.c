/* sasl-mechs-token revoke and delete. */
#include "config.h"
#include "token.h"
#include "token_common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <sasl-mechs/secret.h>

#include "oauth_tokenfile.h"
#include "oauth_util.h"

#define MAX_FILE (64 * 1024)

/* The token file and its lock file next to it. */
static int revoke_unlink(const char *cmd, const char *path)
{
    size_t n = strlen(path);
    char *lock = malloc(n + sizeof(".lock"));

    if (unlink(path) != 0) {
        token_fail(cmd, "cannot delete %s: %s", path, strerror(errno));
        free(lock);
        return 1;
    }
    if (lock) {
        memcpy(lock, path, n);
        memcpy(lock + n, ".lock", sizeof(".lock"));
        (void)unlink(lock);
        free(lock);
    }
    printf("Deleted %s.\n", path);
    return 0;
}

/* The lock a refresh holds while it rewrites the file: a refresh in
 * progress ends before the file is read, revoked or deleted. */
static int revoke_lock(const char *cmd, const char *path)
{
    struct oauth_err err;
    int fd;

    oauth_err_clear(&err);
    if ((fd = oauth_tokenfile_lock(path, NULL, &err)) < 0)
        token_fail(cmd, "%s", err.reason);
    return fd;
}

int token_cmd_delete(int argc, char **argv)
{
    const char *file = NULL;
    int rc, lockfd;

    if ((rc = token_file_args("delete", argc, argv, &file, NULL, NULL)) >= 0)
        return rc;
    if ((lockfd = revoke_lock("delete", file)) < 0)
        return 1;
    rc = revoke_unlink("delete", file);
    close(lockfd);
    return rc;
}

static const char *revoke_str(json_t *root, const char *k)
{
    json_t *v = json_object_get(root, k);
    return json_is_string(v) && json_string_length(v) ? json_string_value(v) : NULL;
}

int token_cmd_revoke(int argc, char **argv)
{
    struct token_http http_args = {0};
    struct oauth_http_options http;
    struct oauth_grant_client c;
    struct oauth_err err;
    const char *file = NULL, *endpoint, *token, *hint, *method;
    char *buf = NULL;
    size_t len = 0;
    json_t *root = NULL;
    json_error_t jerr;
    int rc, lockfd;

    if ((rc = token_file_args("revoke", argc, argv, &file, NULL, &http_args)) >= 0)
        return rc;
    rc = 1;
    if ((lockfd = revoke_lock("revoke", file)) < 0)
        return 1;
    oauth_err_clear(&err);
    if (oauth_read_file(file, "token file", OAUTH_FILE_GROUP, MAX_FILE, &buf, &len, NULL, &err)
        != OAUTH_OK) {
        token_fail("revoke", "%s", err.reason);
        close(lockfd);
        return 1;
    }
    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    sm_erase(buf, len);
    free(buf);
    if (!json_is_object(root)) {
        token_fail("revoke", "%s is not a JSON object", file);
        goto out;
    }
    if (!(endpoint = revoke_str(root, "revocation_endpoint"))) {
        token_fail("revoke", "%s names no revocation_endpoint (Microsoft has none: revoke the "
                             "user's sessions in the Entra admin center, or remove the app's "
                             "consent); the file was kept: `sasl-mechs-token delete` removes it",
                   file);
        goto out;
    }
    /* RFC 7009 2.1: revoking the refresh token revokes the grant */
    if ((token = revoke_str(root, "refresh_token")))
        hint = "refresh_token";
    else if ((token = revoke_str(root, "access_token")))
        hint = "access_token";
    else {
        token_fail("revoke", "%s holds no token to revoke", file);
        goto out;
    }
    memset(&c, 0, sizeof(c));
    c.token_endpoint = revoke_str(root, "token_endpoint");
    c.client_id = revoke_str(root, "client_id");
    c.client_secret = revoke_str(root, "client_secret");
    c.key_file = revoke_str(root, "client_assertion_key");
    c.cert_file = revoke_str(root, "client_assertion_cert");
    method = revoke_str(root, "token_endpoint_auth_method");
    if (method) {
        if (oauth_grant_auth_parse(method, &c.auth) != 0) {
            token_fail("revoke", "%s: unknown token_endpoint_auth_method", file);
            goto out;
        }
    } else {
        c.auth = c.client_secret ? OAUTH_GRANT_AUTH_BASIC : OAUTH_GRANT_AUTH_NONE;
    }
    token_http_options(&http_args, &http);
    c.http = &http;
    if (oauth_grant_revoke(&c, endpoint, token, hint, &err) != OAUTH_GRANT_OK) {
        token_fail("revoke", "%s; the file was kept", err.reason);
        goto out;
    }
    printf("Revoked the %s of %s at the provider.\n", hint, file);
    rc = revoke_unlink("revoke", file);
out:
    oauth_grant_json_free(root);
    close(lockfd);
    return rc;
}
