/* A small HTTP client for the OAuth core (libcurl easy interface): GET, and
 * POST of an application/x-www-form-urlencoded body, with optional HTTP
 * Basic client authentication as RFC 6749 section 2.3.1 defines it.
 *
 * What every request does, whatever the caller asks:
 *   - only the http and https protocols (CURLOPT_PROTOCOLS_STR);
 *   - TLS peer and host verification always on (a CA file may be given);
 *   - http:// only to a loopback host (localhost, 127.0.0.0/8 written as a
 *     dotted quad, [::1]) unless allow_insecure is set: the URL is parsed
 *     once and that parsed URL is what libcurl connects to;
 *   - no redirects: a 3xx answer is returned as OAUTH_HTTP_STATUS_ERROR
 *     (OAuth endpoints are configured by their final URL; following a
 *     redirect would send client credentials or a token somewhere else);
 *   - no proxy unless the caller names one: the http_proxy/https_proxy
 *     environment variables are ignored, so a daemon behaves the same
 *     whatever environment started it;
 *   - a connect timeout and a total timeout (milliseconds), a cap on the
 *     response body, CURLOPT_NOSIGNAL (safe in threaded applications);
 *   - a fresh easy handle per request (no connection reuse, no cookies).
 *
 * Thread safety: curl_global_init runs once per process, the first time a
 * request is made (pthread_once); curl_global_cleanup is never called (a
 * plugin may be unloaded while the application itself uses libcurl).  With
 * libcurl older than 7.84 curl_global_init is not itself thread-safe: an
 * application that also initialises libcurl from another thread at the same
 * moment races with it (libsasl2 applications load plugins from one thread).
 * After that, requests may run concurrently from any number of threads.
 *
 * Secrets: the form body and the Basic credentials are built in memory that
 * is erased before it is freed; response bodies (which carry tokens) are
 * erased by oauth_http_response_free.  libcurl's own copies (its receive
 * buffer, the request with its Authorization header and form body) and
 * jansson's (parser and dumper buffers, string values) are erased when
 * freed by allocator functions installed with the first initialisation
 * (oauth_http_init): they wrap malloc and free, the libraries' defaults,
 * erasing a block's malloc_usable_size before free.  An application that
 * set its own jansson allocator keeps it; one that initialised libcurl
 * first keeps libcurl's allocator (libcurl takes it only at its first
 * initialisation): there those copies are not erased.  The reasons name the
 * host and port, never the path, the query, a header or a body. */
#ifndef OAUTH_HTTP_H
#define OAUTH_HTTP_H

#include <stddef.h>

#include "oauth_err.h"

enum oauth_http_status {
    OAUTH_HTTP_OK = 0,            /* a 2xx answer: code and body set */
    OAUTH_HTTP_STATUS_ERROR,      /* any other HTTP status: code and body set */
    OAUTH_HTTP_UNREACHABLE,       /* DNS, connection refused, timeout, reset:
                                     temporary, try again later */
    OAUTH_HTTP_TLS_ERROR,         /* handshake or certificate verification */
    OAUTH_HTTP_TOO_LARGE,         /* body larger than max_response */
    OAUTH_HTTP_URL_REFUSED,       /* malformed URL, scheme other than http(s),
                                     http:// to a non-loopback host */
    OAUTH_HTTP_ERROR              /* out of memory, bad arguments, libcurl setup */
};

struct oauth_http_options {
    long connect_timeout_ms;      /* > 0 */
    long timeout_ms;              /* whole request, > 0 */
    size_t max_response;          /* bytes of body, > 0 */
    int allow_insecure;           /* 1: http:// to any host */
    const char *ca_file;          /* CA bundle; NULL: libcurl's default store */
    const void *ca_blob;          /* CA bundle already in memory (PEM), used
                                     instead of ca_file when set (a chrooted
                                     client reads it before the chroot) */
    size_t ca_blob_len;
    const char *proxy;            /* proxy URL (http://host:port, to which
                                     https requests are tunnelled with
                                     CONNECT); NULL: none (the environment's
                                     proxy variables, no_proxy too, ignored) */
};

/* 5000 ms to connect, 10000 ms in all, 1 MiB, https only off loopback. */
#define OAUTH_HTTP_DEFAULT_CONNECT_TIMEOUT_MS 5000L
#define OAUTH_HTTP_DEFAULT_TIMEOUT_MS 10000L
#define OAUTH_HTTP_DEFAULT_MAX_RESPONSE ((size_t)1 << 20)
void oauth_http_options_default(struct oauth_http_options *o);

/* One name=value pair of a form body; both are form-urlencoded here. */
struct oauth_http_field {
    const char *name;
    const char *value;
};

/* HTTP Basic client authentication (RFC 6749 section 2.3.1): client_id and
 * client_secret are each form-urlencoded, then joined with ':' and base64
 * encoded.  client_secret may be "" but not NULL. */
struct oauth_http_basic {
    const char *client_id;
    const char *client_secret;
};

/* How a client authenticates to a token or introspection endpoint, with
 * the names of RFC 7591's token_endpoint_auth_method. */
enum oauth_client_auth {
    OAUTH_CLIENT_AUTH_BASIC = 0, /* client_secret_basic: struct oauth_http_basic */
    OAUTH_CLIENT_AUTH_POST,      /* client_secret_post: client_id, client_secret in the body */
    OAUTH_CLIENT_AUTH_NONE       /* none: a public client, client_id in the body */
};

struct oauth_http_response {
    long code;                    /* HTTP status; 0 when no answer came */
    char *body;                   /* malloc'd, NUL-terminated ("" when empty);
                                     may also contain NULs: use len */
    size_t len;
};

/* Erase and free the body; the struct may then be reused. */
void oauth_http_response_free(struct oauth_http_response *r);

/* On every return *resp is valid to free; body is set (to the answer, which
 * may be an error document) for OAUTH_HTTP_OK and OAUTH_HTTP_STATUS_ERROR
 * only.  Both send "Accept: application/json".  err (may be NULL) receives
 * the status as its code and its class: OAUTH_ERR_TEMPORARY for an
 * unreachable endpoint, a TLS failure or a temporary HTTP status
 * (oauth_http_status_temporary), OAUTH_ERR_CONFIG for a refused URL, an
 * answer over the cap or any other HTTP error status, OAUTH_ERR_INTERNAL
 * for the rest. */
enum oauth_http_status oauth_http_get(const char *url, const struct oauth_http_options *o,
                                      struct oauth_http_response *resp,
                                      struct oauth_err *err);

/* fields: nfields pairs encoded with curl_easy_escape and joined with '&';
 * basic: NULL for no Authorization header. */
enum oauth_http_status oauth_http_post_form(const char *url, const struct oauth_http_options *o,
                                            const struct oauth_http_field *fields,
                                            size_t nfields,
                                            const struct oauth_http_basic *basic,
                                            struct oauth_http_response *resp,
                                            struct oauth_err *err);

/* Install the erasing allocators (above) and run curl_global_init now (once
 * per process; later calls return the first result).  Optional: the first
 * request and the first token file read do it anyway.  A plugin
 * calls it from its plug_init so that libcurl and OpenSSL initialise
 * before the application chroots (Postfix's smtp/smtpd).  OAUTH_HTTP_OK
 * or OAUTH_HTTP_ERROR. */
enum oauth_http_status oauth_http_init(struct oauth_err *err);

/* 1 when an HTTP error status is a temporary failure of the server (any
 * 5xx, 408 Request Timeout, 429 Too Many Requests): try again later, the
 * request itself may be fine; 0 for any other status (the request or the
 * client's credentials were refused). */
int oauth_http_status_temporary(long code);

/* "ok", "HTTP error status", "unreachable", ... (static strings). */
const char *oauth_http_status_text(enum oauth_http_status s);

/* 1 when the URL would be refused without allow_insecure: http:// to a
 * host other than loopback (for option validation at load time). 0 when
 * allowed; -1 when the URL does not parse or its scheme is not http(s). */
int oauth_http_url_insecure(const char *url);

#endif
