/* What the token tool's commands share: the provider presets, the client
 * secret's reading (never from the command line), the owner option, and
 * the token file written through the OAuth core (oauth_tokenfile_write). */
#ifndef TOKEN_COMMON_H
#define TOKEN_COMMON_H

#include <stdio.h>
#include <sys/types.h>

#include "oauth_grant.h"
#include "oauth_http.h"

/* "sasl-mechs-token CMD: " + printf, on stderr */
void token_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The options every command that talks to a provider takes. */
struct token_http {
    const char *ca_file;
    const char *proxy;
    long timeout_ms;
};
void token_http_options(const struct token_http *t, struct oauth_http_options *o);

/* A client secret from FILE (owner-only access, as the core reads secrets)
 * or standard input ("-"), its trailing newline removed: malloc'd, or NULL
 * with the reason printed. */
char *token_read_secret(const char *cmd, const char *from);

/* The refusal of a secret given on the command line: 2 when argv holds
 * --client-secret (the process list shows it), 0 otherwise. */
int token_refuse_secret_argv(const char *cmd, int argc, char **argv);

/* "user[:group]" -> uid, gid (the user's group when none given).  0 or -1
 * with the reason printed. */
int token_parse_owner(const char *cmd, const char *spec, long *uid, long *gid);

/* Where a provider's endpoints are, and what to ask for. */
enum token_flow { TOKEN_FLOW_NONE, TOKEN_FLOW_DEVICE, TOKEN_FLOW_AUTHCODE,
                  TOKEN_FLOW_CLIENT_CREDENTIALS };
struct token_provider {
    const char *name;               /* microsoft, google, generic */
    char *token_endpoint, *device_endpoint, *authorization_endpoint, *revocation_endpoint;
    char *scope;
    enum token_flow default_flow;
    enum oauth_grant_auth secret_auth; /* how a client secret is sent */
    int google;                     /* access_type=offline&prompt=consent */
};
void token_provider_clear(struct token_provider *p);

struct token_preset_args {
    const char *provider;           /* microsoft (default), google, generic */
    const char *tenant;             /* microsoft: common, organizations, id, domain */
    const char *cloud;              /* microsoft: global, usgov, dod, china */
    const char *services;           /* smtp,imap,pop (default smtp) */
    const char *scope;              /* overrides the preset's */
    const char *login_host;         /* URL prefix replacing the preset's hosts */
    const char *issuer;             /* generic: discovery */
    const char *token_endpoint, *device_endpoint, *authorization_endpoint,
        *revocation_endpoint;       /* explicit (override the preset's) */
    int app_only;                   /* client credentials: the .default scope */
};
/* 0, or -1 with the reason printed. */
int token_provider_make(const char *cmd, const struct token_preset_args *a,
                        const struct oauth_http_options *http, struct token_provider *out);

/* The options of the commands that take one token file (show, refresh,
 * revoke, delete): --file PATH (or PATH alone), --show-token when
 * show_token is not NULL, --ca-file and --proxy when http is not NULL,
 * --help.  -1 to go on, else the exit status. */
int token_file_args(const char *cmd, int argc, char **argv, const char **file, int *show_token,
                    struct token_http *http);

/* A JWT's payload member (no verification: for display only), malloc'd. */
char *token_jwt_claim(const char *jwt, const char *name);

/* 1 when s is printable ASCII only (fit for a terminal and a Postfix map) */
int token_printable(const char *s);

/* 1 when uid:gid may read (bits 4) or write (bits 2) path by its mode
 * bits (root may always; supplementary groups not counted) */
int token_owner_may(const char *path, long uid, long gid, unsigned bits);

#endif
