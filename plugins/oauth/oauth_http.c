/* The OAuth core's HTTP client: see oauth_http.h for what every request
 * enforces and why. */
#include "config.h"
#include "oauth_http.h"
#include "oauth_util.h"

#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include <sasl-mechs/base64.h>
#include <sasl-mechs/secret.h>

#define USER_AGENT "sasl-mechs/" PACKAGE_VERSION
#define MAX_FORM ((size_t)1 << 20) /* a form body never needs more */
#define MAX_CRED 4096              /* client id or secret */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static CURLcode init_rc = CURLE_FAILED_INIT;

/* ---- allocators that erase: jansson's and libcurl's buffers hold tokens
 * and client secrets (jansson's parser and dumper buffers, libcurl's
 * receive buffer and request buffer), which they free without erasing.
 * Both libraries take process-wide allocator functions; ours wrap the C
 * library's malloc and free, which are what both use by default, and only
 * erase a block (its malloc_usable_size) before handing it to free: an
 * application that uses either library itself gets the same memory from the
 * same allocator, only erased when freed.  They are installed only while
 * the library still has its default allocator; an application that set its
 * own keeps it.  The plugins are linked with -z nodelete, so that these
 * functions outlive a sasl_done that unloads the plugins. */

/* realloc that moves, so that the old block is erased too */
static void *erasing_realloc(void *p, size_t n)
{
    size_t old;
    void *q;

    if (!p)
        return malloc(n);
    if (n == 0) {
        oauth_erase_free(p);
        return NULL;
    }
    old = malloc_usable_size(p);
    if (!(q = malloc(n)))
        return NULL;
    memcpy(q, p, old < n ? old : n);
    oauth_erase_free(p);
    return q;
}

static char *erasing_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);

    if (d)
        memcpy(d, s, n);
    return d;
}

static void install_erasing_allocators(void)
{
    json_malloc_t m;
    json_free_t f;

    json_get_alloc_funcs(&m, &f);
    if (m == malloc && f == free)
        json_set_alloc_funcs(malloc, oauth_erase_free);
    /* a no-op (but for a reference count) when the application initialised
     * libcurl first: its allocator then stays as it chose */
    init_rc = curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, oauth_erase_free, erasing_realloc,
                                   erasing_strdup, calloc);
}

static void http_init_curl(void)
{
    install_erasing_allocators();
}

enum oauth_http_status oauth_http_init(struct oauth_err *err)
{
    pthread_once(&init_once, http_init_curl);
    if (init_rc != CURLE_OK) {
        return oauth_fail(err, OAUTH_ERR_INTERNAL, OAUTH_HTTP_ERROR,
                          "libcurl initialisation failed: %s", curl_easy_strerror(init_rc));
    }
    return OAUTH_HTTP_OK;
}

void oauth_http_options_default(struct oauth_http_options *o)
{
    memset(o, 0, sizeof(*o));
    o->connect_timeout_ms = OAUTH_HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
    o->timeout_ms = OAUTH_HTTP_DEFAULT_TIMEOUT_MS;
    o->max_response = OAUTH_HTTP_DEFAULT_MAX_RESPONSE;
}

void oauth_http_response_free(struct oauth_http_response *r)
{
    if (!r)
        return;
    if (r->body) {
        sm_erase(r->body, r->len + 1);
        free(r->body);
    }
    r->body = NULL;
    r->len = 0;
    r->code = 0;
}

const char *oauth_http_status_text(enum oauth_http_status s)
{
    switch (s) {
    case OAUTH_HTTP_OK: return "ok";
    case OAUTH_HTTP_STATUS_ERROR: return "HTTP error status";
    case OAUTH_HTTP_UNREACHABLE: return "endpoint unreachable";
    case OAUTH_HTTP_TLS_ERROR: return "TLS error";
    case OAUTH_HTTP_TOO_LARGE: return "response too large";
    case OAUTH_HTTP_URL_REFUSED: return "URL refused";
    case OAUTH_HTTP_ERROR: return "internal error";
    }
    return "unknown status";
}

int oauth_http_status_temporary(long code)
{
    return code >= 500 || code == 429 || code == 408;
}


/* ---- the URL: parsed once, checked, then handed to libcurl as parsed ----- */

/* localhost, 127.0.0.0/8 as a dotted quad, ::1 (libcurl gives IPv6 hosts in
 * brackets).  libcurl >= 7.78 resolves "localhost" to loopback itself,
 * without asking DNS. */
static int http_is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    char buf[INET6_ADDRSTRLEN + 2];
    size_t n = strlen(host);

    if (strcasecmp(host, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (n > 2 && n < sizeof(buf) && host[0] == '[' && host[n - 1] == ']') {
        memcpy(buf, host + 1, n - 2);
        buf[n - 2] = '\0';
        return inet_pton(AF_INET6, buf, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
    }
    return 0;
}

struct target {
    CURLU *u;
    int https;
    char where[300]; /* host:port, for the reasons */
};

/* 0 or an OAUTH_HTTP_URL_REFUSED / OAUTH_HTTP_ERROR status. */
static enum oauth_http_status http_parse_url(const char *url, int allow_insecure, struct target *t,
                                             struct oauth_err *err)
{
    char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL;
    enum oauth_http_status st = OAUTH_HTTP_URL_REFUSED;
    CURLUcode rc;

    memset(t, 0, sizeof(*t));
    if (!url || strlen(url) > 8192) {
        oauth_why(err, "no URL, or a URL longer than 8192 bytes");
        return OAUTH_HTTP_URL_REFUSED;
    }
    if (!(t->u = curl_url())) {
        oauth_why(err, "out of memory");
        return OAUTH_HTTP_ERROR;
    }
    /* no scheme guessing, no schemes libcurl does not know */
    if ((rc = curl_url_set(t->u, CURLUPART_URL, url, 0)) != CURLUE_OK) {
        oauth_why(err, "malformed URL (%s)", curl_url_strerror(rc));
        goto out;
    }
    if (curl_url_get(t->u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK
        || curl_url_get(t->u, CURLUPART_HOST, &host, 0) != CURLUE_OK
        || curl_url_get(t->u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        oauth_why(err, "URL without a scheme, host or port");
        goto out;
    }
    snprintf(t->where, sizeof(t->where), "%s:%s", host, port);
    if (curl_url_get(t->u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        oauth_why(err, "%s: credentials inside the URL are refused (configure them as options)",
                  t->where);
        goto out;
    }
    if (strcmp(scheme, "https") == 0) {
        t->https = 1;
    } else if (strcmp(scheme, "http") == 0) {
        if (!allow_insecure && !http_is_loopback(host)) {
            oauth_why(err, "%s: http:// is allowed only to a loopback host; use https://",
                      t->where);
            goto out;
        }
    } else {
        oauth_why(err, "%s: scheme %.16s refused (only http and https)", t->where, scheme);
        goto out;
    }
    st = OAUTH_HTTP_OK;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(user);
    if (st != OAUTH_HTTP_OK) {
        curl_url_cleanup(t->u);
        t->u = NULL;
    }
    return st;
}

int oauth_http_url_insecure(const char *url)
{
    struct target t;

    if (http_parse_url(url, 1, &t, NULL) != OAUTH_HTTP_OK)
        return -1;
    curl_url_cleanup(t.u);
    if (t.https)
        return 0;
    if (http_parse_url(url, 0, &t, NULL) != OAUTH_HTTP_OK)
        return 1;
    curl_url_cleanup(t.u);
    return 0;
}

/* ---- the response body: capped, grown without leaving copies behind ------ */

struct sink {
    char *buf;
    size_t len, cap, max;
    int too_large, no_memory;
};

static size_t http_on_data(char *p, size_t size, size_t nmemb, void *ud)
{
    struct sink *s = ud;
    size_t n = nmemb; /* libcurl documents size as always 1 */

    if (size != 1) {
        s->no_memory = 1;
        return 0;
    }
    if (n > s->max - s->len) {
        s->too_large = 1;
        return 0;
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        char *nb;
        while (cap < s->len + n + 1)
            cap = cap > s->max / 2 ? s->max + 1 : cap * 2;
        if (!(nb = malloc(cap))) {
            s->no_memory = 1;
            return 0;
        }
        if (s->buf) {
            memcpy(nb, s->buf, s->len);
            sm_erase(s->buf, s->cap);
            free(s->buf);
        }
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    return nmemb;
}

/* ---- one request --------------------------------------------------------- */

/* What an outcome means to the caller, in err: a server that is down, slow
 * or overloaded is temporary; a URL, a TLS setup or an endpoint that
 * refuses the request is for an administrator; the rest is ours. */
static enum oauth_http_status http_outcome(struct oauth_err *err, enum oauth_http_status st,
                                           const struct oauth_http_response *resp)
{
    enum oauth_err_class cls = OAUTH_ERR_INTERNAL;

    switch (st) {
    case OAUTH_HTTP_OK:
        cls = OAUTH_OK;
        break;
    case OAUTH_HTTP_STATUS_ERROR:
        cls = resp && oauth_http_status_temporary(resp->code) ? OAUTH_ERR_TEMPORARY
                                                              : OAUTH_ERR_CONFIG;
        break;
    case OAUTH_HTTP_UNREACHABLE:
    case OAUTH_HTTP_TLS_ERROR:
        cls = OAUTH_ERR_TEMPORARY;
        break;
    case OAUTH_HTTP_TOO_LARGE:
    case OAUTH_HTTP_URL_REFUSED:
        cls = OAUTH_ERR_CONFIG;
        break;
    case OAUTH_HTTP_ERROR:
        break;
    }
    return oauth_err_is(err, cls, st);
}

static enum oauth_http_status http_map_curl_error(CURLcode rc)
{
    switch (rc) {
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return OAUTH_HTTP_URL_REFUSED;
    case CURLE_OUT_OF_MEMORY:
    case CURLE_FAILED_INIT:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_UNKNOWN_OPTION:
        return OAUTH_HTTP_ERROR;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
        return OAUTH_HTTP_TLS_ERROR;
    case CURLE_FILESIZE_EXCEEDED:
        return OAUTH_HTTP_TOO_LARGE;
    default:
        /* resolve, connect, timeout, send/recv, a reset or truncated answer,
         * a reply that is not HTTP: nothing the client did wrong */
        return OAUTH_HTTP_UNREACHABLE;
    }
}

static void http_free_headers(struct curl_slist *h)
{
    struct curl_slist *p;

    for (p = h; p; p = p->next)
        if (p->data)
            sm_erase(p->data, strlen(p->data));
    curl_slist_free_all(h);
}

static int http_add_header(struct curl_slist **h, const char *line)
{
    struct curl_slist *n = curl_slist_append(*h, line);

    if (!n)
        return -1;
    *h = n;
    return 0;
}

#define SET(opt, val)                                                                  \
    do {                                                                               \
        if ((rc = curl_easy_setopt(c, opt, val)) != CURLE_OK)                          \
            return rc;                                                                 \
    } while (0)

/* Everything libcurl is told for one request: only the scheme asked for,
 * no redirect, the certificate and host name verified, no proxy but the
 * one configured (the environment's ignored), the answer capped into s.
 * CURLE_OK, or the option libcurl refused. */
static CURLcode http_configure(CURL *c, const struct target *t,
                               const struct oauth_http_options *o, struct curl_slist *hdr,
                               struct sink *s, char *errbuf, const char *body, size_t bodylen)
{
    CURLcode rc;

    SET(CURLOPT_CURLU, t->u);
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, t->https ? "https" : "http");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
#else
    SET(CURLOPT_PROTOCOLS, t->https ? (long)CURLPROTO_HTTPS : (long)CURLPROTO_HTTP);
    SET(CURLOPT_REDIR_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_MAXREDIRS, 0L);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_NOPROGRESS, 1L);
    SET(CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
    SET(CURLOPT_TIMEOUT_MS, o->timeout_ms);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    if (o->ca_blob) {
        /* read before a chroot (oauth_clientcfg.h): no file to open now */
        struct curl_blob blob = {(void *)o->ca_blob, o->ca_blob_len, CURL_BLOB_COPY};
        SET(CURLOPT_CAINFO_BLOB, &blob);
    } else if (o->ca_file) {
        SET(CURLOPT_CAINFO, o->ca_file);
    }
    SET(CURLOPT_PROXY, o->proxy ? o->proxy : "");
    /* no_proxy/NO_PROXY of the environment ignored too */
    SET(CURLOPT_NOPROXY, "");
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_response);
    SET(CURLOPT_WRITEFUNCTION, http_on_data);
    SET(CURLOPT_WRITEDATA, s);
    SET(CURLOPT_ERRORBUFFER, errbuf);
    SET(CURLOPT_USERAGENT, USER_AGENT);
    SET(CURLOPT_HTTPHEADER, hdr);
    if (body) {
        SET(CURLOPT_POST, 1L);
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)bodylen);
        SET(CURLOPT_POSTFIELDS, body);
    } else {
        SET(CURLOPT_HTTPGET, 1L);
    }
    return CURLE_OK;
}

/* What curl_easy_perform's rc and the answer in s make of the request: the
 * body handed over to resp (NUL-terminated) whatever its status, or why
 * there is none. */
static enum oauth_http_status http_result(CURL *c, CURLcode rc, const struct target *t,
                                          const struct oauth_http_options *o, struct sink *s,
                                          const char *errbuf, struct oauth_http_response *resp,
                                          struct oauth_err *err)
{
    long code = 0;

    if (rc != CURLE_OK) {
        if (s->too_large || rc == CURLE_FILESIZE_EXCEEDED) {
            oauth_why(err, "%s: response larger than %zu bytes", t->where, o->max_response);
            return OAUTH_HTTP_TOO_LARGE;
        }
        if (s->no_memory) {
            oauth_why(err, "%s: out of memory reading the response", t->where);
            return OAUTH_HTTP_ERROR;
        }
        oauth_why(err, "%s: %s (%s)", t->where, curl_easy_strerror(rc),
                  errbuf[0] ? errbuf : "no detail");
        return http_map_curl_error(rc);
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (!s->buf && !(s->buf = calloc(1, 1))) {
        oauth_why(err, "out of memory");
        return OAUTH_HTTP_ERROR;
    }
    s->buf[s->len] = '\0';
    resp->code = code;
    resp->body = s->buf;
    resp->len = s->len;
    s->buf = NULL;
    if (code >= 200 && code <= 299)
        return OAUTH_HTTP_OK;
    oauth_why(err, "%s: HTTP status %ld", t->where, code);
    return OAUTH_HTTP_STATUS_ERROR;
}

/* resp and err emptied; o (NULL: the defaults) checked; libcurl ready. */
static enum oauth_http_status http_begin(const struct oauth_http_options **o,
                                         struct oauth_http_options *def,
                                         struct oauth_http_response *resp, struct oauth_err *err)
{
    if (resp)
        memset(resp, 0, sizeof(*resp));
    oauth_err_clear(err);
    if (!resp) {
        oauth_why(err, "no response buffer");
        return OAUTH_HTTP_ERROR;
    }
    if (!*o) {
        oauth_http_options_default(def);
        *o = def;
    }
    if ((*o)->connect_timeout_ms <= 0 || (*o)->timeout_ms <= 0 || (*o)->max_response == 0
        || (*o)->max_response > SIZE_MAX / 4) {
        oauth_why(err, "HTTP options out of range (timeouts and size cap must be > 0)");
        return OAUTH_HTTP_ERROR;
    }
    return oauth_http_init(err) == OAUTH_HTTP_OK ? OAUTH_HTTP_OK : OAUTH_HTTP_ERROR;
}

#define FORM_CONTENT_TYPE "Content-Type: application/x-www-form-urlencoded"

static enum oauth_http_status http_perform(const char *url, const struct oauth_http_options *o,
                                           const char *body, size_t bodylen, const char *authz,
                                           struct oauth_http_response *resp, struct oauth_err *err)
{
    struct oauth_http_options def;
    struct target t;
    struct sink s;
    struct curl_slist *hdr = NULL;
    char errbuf[CURL_ERROR_SIZE];
    enum oauth_http_status st;
    CURL *c = NULL;
    CURLcode rc;

    if ((st = http_begin(&o, &def, resp, err)) != OAUTH_HTTP_OK
        || (st = http_parse_url(url, o->allow_insecure, &t, err)) != OAUTH_HTTP_OK)
        return st;
    memset(&s, 0, sizeof(s));
    s.max = o->max_response;
    errbuf[0] = '\0';
    if (!(c = curl_easy_init())) {
        oauth_why(err, "%s: libcurl could not create a handle", t.where);
        st = OAUTH_HTTP_ERROR;
    } else if (http_add_header(&hdr, "Accept: application/json") < 0
               || (body && http_add_header(&hdr, FORM_CONTENT_TYPE) < 0)
               || (body && http_add_header(&hdr, "Expect:") < 0)
               || (authz && http_add_header(&hdr, authz) < 0)) {
        oauth_why(err, "out of memory");
        st = OAUTH_HTTP_ERROR;
    } else if ((rc = http_configure(c, &t, o, hdr, &s, errbuf, body, bodylen)) != CURLE_OK) {
        oauth_why(err, "%s: libcurl refused an option: %s", t.where, curl_easy_strerror(rc));
        st = OAUTH_HTTP_ERROR;
    } else {
        st = http_result(c, curl_easy_perform(c), &t, o, &s, errbuf, resp, err);
    }
    if (c)
        curl_easy_cleanup(c);
    http_free_headers(hdr);
    curl_url_cleanup(t.u);
    if (s.buf) {
        sm_erase(s.buf, s.cap);
        free(s.buf);
    }
    return st;
}

enum oauth_http_status oauth_http_get(const char *url, const struct oauth_http_options *o,
                                      struct oauth_http_response *resp, struct oauth_err *err)
{
    return http_outcome(err, http_perform(url, o, NULL, 0, NULL, resp, err), resp);
}

/* ---- form bodies and Basic credentials ----------------------------------- */

/* curl_easy_escape, copied into malloc'd memory and the libcurl copy erased;
 * application/x-www-form-urlencoded with every byte outside ALPHA / DIGIT /
 * "-" / "." / "_" / "~" percent-encoded (a space as %20, which form decoders
 * read as a space, like "+"). */
static char *http_form_escape(CURL *c, const char *s, size_t *outlen)
{
    size_t n = strlen(s);
    char *e, *r;

    if (n > MAX_FORM || !(e = curl_easy_escape(c, s, (int)n)))
        return NULL;
    *outlen = strlen(e);
    r = malloc(*outlen + 1);
    if (r)
        memcpy(r, e, *outlen + 1);
    sm_erase(e, *outlen);
    curl_free(e);
    return r;
}

/* name=value&name=value; NULL (and the reason) on failure */
static char *http_build_form(CURL *c, const struct oauth_http_field *f, size_t n, size_t *outlen,
                             struct oauth_err *err)
{
    char *buf = NULL;
    size_t len = 0, cap = 0, i;

    for (i = 0; i < n; i++) {
        size_t nl, vl;
        char *ne, *ve;
        if (!f[i].name || !f[i].value || !f[i].name[0]) {
            oauth_why(err, "form field %zu has no name or no value", i);
            goto fail;
        }
        ne = http_form_escape(c, f[i].name, &nl);
        ve = http_form_escape(c, f[i].value, &vl);
        if (!ne || !ve || nl + vl + 2 > MAX_FORM - len) {
            oauth_secret_free(ne);
            oauth_secret_free(ve);
            oauth_why(err, "form body too large or out of memory");
            goto fail;
        }
        if (len + nl + vl + 3 > cap) {
            size_t ncap = (len + nl + vl + 3) * 2;
            char *nb = malloc(ncap);
            if (!nb) {
                oauth_secret_free(ne);
                oauth_secret_free(ve);
                oauth_why(err, "out of memory");
                goto fail;
            }
            if (buf) {
                memcpy(nb, buf, len);
                sm_erase(buf, cap);
                free(buf);
            }
            buf = nb;
            cap = ncap;
        }
        if (i)
            buf[len++] = '&';
        memcpy(buf + len, ne, nl);
        len += nl;
        buf[len++] = '=';
        memcpy(buf + len, ve, vl);
        len += vl;
        buf[len] = '\0';
        oauth_secret_free(ne);
        oauth_secret_free(ve);
    }
    if (!buf && !(buf = calloc(1, 1))) {
        oauth_why(err, "out of memory");
        return NULL;
    }
    *outlen = len;
    return buf;
fail:
    if (buf) {
        sm_erase(buf, cap);
        free(buf);
    }
    return NULL;
}

/* "Authorization: Basic base64(urlenc(id) ":" urlenc(secret))" */
static char *http_build_basic(CURL *c, const struct oauth_http_basic *b, struct oauth_err *err)
{
    static const char prefix[] = "Authorization: Basic ";
    char *id = NULL, *sec = NULL, *joined = NULL, *line = NULL;
    size_t il, sl, jl, bl, outl;

    if (!b->client_id || !b->client_secret || !b->client_id[0]
        || strlen(b->client_id) > MAX_CRED || strlen(b->client_secret) > MAX_CRED) {
        oauth_why(err, "client id missing, or client id or secret longer than %d bytes",
                  MAX_CRED);
        return NULL;
    }
    if (!(id = http_form_escape(c, b->client_id, &il))
        || !(sec = http_form_escape(c, b->client_secret, &sl)))
        goto oom;
    jl = il + 1 + sl;
    if (!(joined = malloc(jl + 1)))
        goto oom;
    memcpy(joined, id, il);
    joined[il] = ':';
    memcpy(joined + il + 1, sec, sl + 1);
    bl = sm_b64_encoded_len(SM_B64_STD, jl);
    if (!(line = malloc(sizeof(prefix) + bl)))
        goto oom;
    memcpy(line, prefix, sizeof(prefix) - 1);
    if (sm_b64_encode(SM_B64_STD, joined, jl, line + sizeof(prefix) - 1, bl + 1, &outl) != 0) {
        sm_erase(line, sizeof(prefix) + bl);
        free(line);
        line = NULL;
        goto oom;
    }
    goto out;
oom:
    oauth_why(err, "out of memory");
out:
    oauth_secret_free(id);
    oauth_secret_free(sec);
    if (joined) {
        sm_erase(joined, jl);
        free(joined);
    }
    return line;
}

enum oauth_http_status oauth_http_post_form(const char *url, const struct oauth_http_options *o,
                                            const struct oauth_http_field *fields, size_t nfields,
                                            const struct oauth_http_basic *basic,
                                            struct oauth_http_response *resp, struct oauth_err *err)
{
    enum oauth_http_status st = OAUTH_HTTP_ERROR;
    char *body = NULL, *authz = NULL;
    size_t bodylen = 0;
    CURL *c;

    if (resp)
        memset(resp, 0, sizeof(*resp));
    if (nfields && !fields) {
        oauth_why(err, "no form fields");
        return http_outcome(err, OAUTH_HTTP_ERROR, NULL);
    }
    if (oauth_http_init(err) != OAUTH_HTTP_OK)
        return http_outcome(err, OAUTH_HTTP_ERROR, NULL);
    if (!(c = curl_easy_init())) {
        oauth_why(err, "libcurl initialisation failed");
        return http_outcome(err, OAUTH_HTTP_ERROR, NULL);
    }
    if (!(body = http_build_form(c, fields, nfields, &bodylen, err)))
        goto out;
    if (basic && !(authz = http_build_basic(c, basic, err)))
        goto out;
    st = http_perform(url, o, body, bodylen, authz, resp, err);
out:
    curl_easy_cleanup(c);
    if (body) {
        sm_erase(body, bodylen);
        free(body);
    }
    oauth_secret_free(authz);
    return http_outcome(err, st, resp);
}
