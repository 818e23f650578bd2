/* OpenID discovery of an issuer's key set: see oauth_issuers.h. */
#include "config.h"
#include "oauth_issuers.h"
#include "oauth_http.h"
#include "oauth_jwks_cache.h"
#include "oauth_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#define WELL_KNOWN "/.well-known/openid-configuration"

int oauth_discovery_url(const char *issuer, char *url, size_t size)
{
    size_t n = strlen(issuer);

    /* OpenID Connect Discovery 1.0 section 4: "If the Issuer value contains
     * a path component, any terminating / MUST be removed before appending
     * /.well-known/openid-configuration." */
    if (n && issuer[n - 1] == '/')
        n--;
    if (n == 0 || n + sizeof(WELL_KNOWN) > size)
        return -1;
    memcpy(url, issuer, n);
    memcpy(url + n, WELL_KNOWN, sizeof(WELL_KNOWN));
    return 0;
}

int oauth_discovery_parse(const char *doc, size_t len, const char *issuer, int allow_insecure,
                          char **jwks_uri, struct oauth_err *err)
{
    json_error_t jerr;
    json_t *d;
    const json_t *iss, *uri;
    char shown[OAUTH_SHOWN];
    int rc = -1, insecure;

    *jwks_uri = NULL;
    if (len > OAUTH_DISCOVERY_MAX_DOC) {
        oauth_fail(err, OAUTH_ERR_CONFIG, 0, "discovery document of %s is over %d bytes",
                   issuer, OAUTH_DISCOVERY_MAX_DOC);
        return -1;
    }
    if (!(d = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &jerr)) || !json_is_object(d)) {
        oauth_fail(err, OAUTH_ERR_CONFIG, 0, "discovery document of %.200s is not a JSON "
                   "object", issuer);
        json_decref(d);
        return -1;
    }
    iss = json_object_get(d, "issuer");
    uri = json_object_get(d, "jwks_uri");
    /* section 4.3: "The issuer value returned MUST be identical to the
     * Issuer URL that was used as the prefix to /.well-known/openid-configuration" */
    if (!json_is_string(iss) || json_string_length(iss) != strlen(issuer)
        || memcmp(json_string_value(iss), issuer, strlen(issuer)) != 0) {
        oauth_fail(err, OAUTH_ERR_CONFIG, 0, "discovery document of %.200s names issuer \"%s\", "
                   "not that one", issuer,
                   json_is_string(iss) ? oauth_show(shown, json_string_value(iss),
                                                    json_string_length(iss))
                                       : "(none)");
        goto out;
    }
    if (!json_is_string(uri) || strlen(json_string_value(uri)) != json_string_length(uri)) {
        oauth_fail(err, OAUTH_ERR_CONFIG, 0, "discovery document of %.200s has no string "
                   "\"jwks_uri\"", issuer);
        goto out;
    }
    insecure = oauth_http_url_insecure(json_string_value(uri));
    if (insecure < 0 || (insecure && !allow_insecure)) {
        oauth_fail(err, OAUTH_ERR_CONFIG, 0, "discovery document of %.200s: its \"jwks_uri\" is "
                   "%s", issuer, insecure < 0 ? "not an http(s) URL"
                                              : "http:// to a host other than loopback");
        goto out;
    }
    if (!(*jwks_uri = strdup(json_string_value(uri)))) {
        oauth_fail(err, OAUTH_ERR_INTERNAL, 0, "out of memory");
        goto out;
    }
    rc = 0;
out:
    json_decref(d);
    return rc;
}

/* ---- one discovery through the host's cache -------------------------------- */

struct disc {
    const struct oauth_discovery *d;
    const char *url;
    char *jwks_uri;
};

static enum oauth_err_class disc_get(void *ctx, char **doc, size_t *len, struct oauth_err *err)
{
    struct disc *c = ctx;
    struct oauth_http_response r = {0};
    struct oauth_http_options o = *c->d->http;
    struct oauth_err herr;

    o.max_response = OAUTH_DISCOVERY_MAX_DOC;
    if (oauth_http_get(c->url, &o, &r, &herr) != OAUTH_HTTP_OK) {
        oauth_fail(err, herr.cls, herr.code, "discovery of %.200s: %s (%s)", c->d->issuer,
                   oauth_http_status_text((enum oauth_http_status)herr.code), herr.reason);
        oauth_http_response_free(&r);
        return herr.cls;
    }
    *doc = r.body; /* a public document */
    *len = r.len;
    return OAUTH_OK;
}

static int disc_take(void *ctx, const char *doc, size_t len, struct oauth_err *err)
{
    struct disc *c = ctx;

    free(c->jwks_uri);
    c->jwks_uri = NULL;
    return oauth_discovery_parse(doc, len, c->d->issuer, c->d->http->allow_insecure,
                                 &c->jwks_uri, err);
}

static void disc_note(void *ctx, const char *text)
{
    struct disc *c = ctx;

    if (c->d->note)
        c->d->note(c->d->note_ctx, text);
}

int oauth_discover_jwks_uri(const struct oauth_discovery *d, char **jwks_uri, time_t *fetched_at,
                            struct oauth_err *err)
{
    char url[OAUTH_ISSUER_MAX + sizeof(WELL_KNOWN)];
    struct disc c = {.d = d, .url = url};
    long timeout = d->http->timeout_ms > 0 ? d->http->timeout_ms : OAUTH_HTTP_DEFAULT_TIMEOUT_MS;
    struct oauth_cache_fetch f = {
        .dir = d->cache_dir,
        .url = url,
        .now = d->now,
        .have = d->have,
        .max_age = d->max_age,
        .interval = d->interval,
        .lock_timeout_ms = 2 * timeout,
        .max = OAUTH_DISCOVERY_MAX_DOC,
        .get = disc_get,
        .take = disc_take,
        .note = disc_note,
        .ctx = &c,
    };

    *jwks_uri = NULL;
    if (oauth_discovery_url(d->issuer, url, sizeof(url)) != 0) {
        oauth_fail(err, OAUTH_ERR_CONFIG, 0, "issuer %.200s: no discovery URL", d->issuer);
        return -1;
    }
    switch (oauth_cache_fetch(&f, fetched_at, err)) {
    case OAUTH_CACHE_FETCHED:
    case OAUTH_CACHE_FROM_DISK:
        *jwks_uri = c.jwks_uri;
        return 0;
    default:
        free(c.jwks_uri);
        return -1;
    }
}
