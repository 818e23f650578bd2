/* sasl-mechs-token show and refresh. */
#include "config.h"
#include "token.h"
#include "token_common.h"

#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include <sasl-mechs/secret.h>

#include "oauth_tokenfile.h"
#include "oauth_util.h"

#define MAX_FILE (64 * 1024)

/* "in 3 h 5 min" / "5 min ago" */
static void show_span(char *buf, size_t n, long long d)
{
    long long a = d < 0 ? -d : d;
    if (a >= 2 * 86400)
        snprintf(buf, n, d < 0 ? "%lld days ago" : "in %lld days", a / 86400);
    else if (a >= 3600)
        snprintf(buf, n, d < 0 ? "%lld h %lld min ago" : "in %lld h %lld min", a / 3600,
                 a % 3600 / 60);
    else
        snprintf(buf, n, d < 0 ? "%lld min ago" : "in %lld min", a / 60);
}

static void show_time(char *buf, size_t n, long long t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static const char *show_str(json_t *root, const char *k)
{
    json_t *v = json_object_get(root, k);
    return json_is_string(v) && json_string_length(v) ? json_string_value(v) : NULL;
}

static long long show_int(json_t *root, const char *k)
{
    json_t *v = json_object_get(root, k);
    return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

static int show_file(const char *path, int show_token)
{
    struct oauth_err err;
    struct stat st;
    char *buf = NULL, when[64], span[64];
    size_t len = 0;
    json_t *root;
    json_error_t jerr;
    const char *grant, *s;
    long long t, now = (long long)time(NULL);
    struct passwd *pw;
    struct group *gr;

    /* what the plugin thinks of it first */
    oauth_err_clear(&err);
    if (oauth_tokenfile_check(path, &err) != OAUTH_TOKENFILE_OK) {
        token_fail("show", "the client plugin would refuse this file: %s", err.reason);
        return 1;
    }
    if (oauth_read_file(path, "token file", OAUTH_FILE_GROUP, MAX_FILE, &buf, &len, &st, &err)
        != OAUTH_OK) {
        token_fail("show", "%s", err.reason);
        return 1;
    }
    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    sm_erase(buf, len);
    free(buf);
    if (!json_is_object(root)) {
        token_fail("show", "%s is not a JSON object (line %d)", path, jerr.line);
        json_decref(root);
        return 1;
    }
    pw = getpwuid(st.st_uid);
    gr = getgrgid(st.st_gid);
    printf("file:           %s (mode %04o, owner %s:%s)\n", path, (unsigned)(st.st_mode & 07777),
           pw ? pw->pw_name : "?", gr ? gr->gr_name : "?");
    if ((s = show_str(root, "provider")))
        printf("provider:       %s\n", s);
    printf("user:           %s\n", (s = show_str(root, "user")) ? s : "(not recorded)");
    grant = show_str(root, "grant_type");
    if (grant && strcmp(grant, "client_credentials") == 0) {
        printf("grant:          client_credentials (app-only: renewed with the client's %s)\n",
               show_str(root, "client_assertion_key") ? "certificate" : "secret");
    } else {
        printf("grant:          refresh_token (delegated: a person signed in)\n");
    }
    if ((s = show_str(root, "client_id")))
        printf("client id:      %s\n", s);
    printf("client auth:    %s\n", (s = show_str(root, "token_endpoint_auth_method")) ? s
                                   : show_str(root, "client_secret") ? "client_secret_basic"
                                                                     : "none");
    if ((s = show_str(root, "client_assertion_key")))
        printf("client key:     %s\n", s);
    if ((s = show_str(root, "client_assertion_cert")))
        printf("certificate:    %s\n", s);
    if ((s = show_str(root, "token_endpoint")))
        printf("token endpoint: %s\n", s);
    if ((s = show_str(root, "scope")))
        printf("scopes:         %s\n", s);
    if (show_str(root, "access_token") && (t = show_int(root, "expires_at")) >= 0) {
        show_time(when, sizeof(when), t);
        show_span(span, sizeof(span), t - now);
        printf("access token:   %s %s (%s)\n", t > now ? "expires" : "expired", when, span);
    } else {
        printf("access token:   none yet (obtained on first use)\n");
    }
    if (show_str(root, "refresh_token")) {
        if ((t = show_int(root, "granted_at")) >= 0) {
            show_span(span, sizeof(span), t - now);
            show_time(when, sizeof(when), t);
            printf("refresh token:  present; signed in %s (%s)\n", when, span);
        } else {
            printf("refresh token:  present\n");
        }
    } else if (!grant || strcmp(grant, "client_credentials") != 0) {
        printf("refresh token:  none: the file stops working when the access token expires\n");
    }
    if (show_token && (s = show_str(root, "access_token")))
        printf("access_token:   %s\n", s);
    oauth_grant_json_free(root);
    return 0;
}

int token_cmd_show(int argc, char **argv)
{
    const char *file = NULL;
    int show_token = 0, rc;

    if ((rc = token_file_args("show", argc, argv, &file, &show_token, NULL)) >= 0)
        return rc;
    return show_file(file, show_token);
}

int token_cmd_refresh(int argc, char **argv)
{
    struct token_http http = {0};
    struct oauth_tokenfile_options o;
    struct oauth_token t;
    struct oauth_err err;
    enum oauth_tokenfile_status st;
    const char *file = NULL;
    char when[64];
    int rc;

    if ((rc = token_file_args("refresh", argc, argv, &file, NULL, &http)) >= 0)
        return rc;
    /* the plugin's own code: the same lock, grant and rewrite */
    oauth_tokenfile_options_default(&o);
    token_http_options(&http, &o.http);
    oauth_err_clear(&err);
    st = oauth_tokenfile_refresh(file, &o, &t, &err);
    if (st != OAUTH_TOKENFILE_OK) {
        token_fail("refresh", "%s: %s", oauth_tokenfile_status_text(st), err.reason);
        oauth_token_clear(&t);
        return 1;
    }
    show_time(when, sizeof(when), (long long)t.expires_at);
    printf("Renewed the access token of %s: it expires %s.\n", file, when);
    oauth_token_clear(&t);
    return 0;
}
