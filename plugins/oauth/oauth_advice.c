/* Advice for a token endpoint's refusal: see oauth_advice.h. */
#include "config.h"
#include "oauth_advice.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OBTAIN "run `sasl-mechs-token obtain --force --file %s` (with the first sign-in's provider options) to sign in again"

/* One row: a Microsoft AADSTS number (0: any) or an OAuth error code (NULL:
 * any); the first row that matches gives the advice, with %s for the file
 * (rows that need no new sign-in have none).  Rows with a number come
 * first. */
static const struct advice_row {
    long aadsts;
    const char *error;
    const char *text;
} rows[] = {
    /* Microsoft: the grant is gone, a person must sign in again */
    {70008, NULL, "the refresh token expired or was revoked (AADSTS70008): " OBTAIN},
    {700082, NULL, "the refresh token expired after 90 days unused (AADSTS700082): " OBTAIN},
    {50173, NULL, "the grant was revoked, e.g. by a password change or an administrator's "
                  "sign-out (AADSTS50173): " OBTAIN},
    {70000, NULL, "the grant is not valid for this scope or was revoked (AADSTS70000): " OBTAIN},
    {65001, NULL, "no consent for the requested scope (AADSTS65001): have an administrator grant "
                  "consent (app registration, API permissions), then " OBTAIN},
    {50076, NULL, "multi-factor authentication is now required (AADSTS50076): " OBTAIN
                  " (a person completes it once), or exempt this account from the policy"},
    {50079, NULL, "the user must register for multi-factor authentication (AADSTS50079): "
                  "register, then " OBTAIN},
    {53003, NULL, "a Conditional Access policy blocked the sign-in (AADSTS53003): an "
                  "administrator must allow this client (location, device, app), then " OBTAIN},
    {50057, NULL, "the user account is disabled (AADSTS50057): enable it, then " OBTAIN},
    {50055, NULL, "the user's password has expired (AADSTS50055): change it, then " OBTAIN},
    /* Microsoft: the registration or the endpoint is wrong, no new sign-in */
    {90002, NULL, "tenant not found (AADSTS90002): the token_endpoint names a tenant (id or "
                  "domain) that does not exist; use the one where the app is registered"},
    {700016, NULL, "application not found in this tenant (AADSTS700016): check client_id, "
                   "and that the token_endpoint names the app's tenant (or make the app "
                   "multi-tenant)"},
    {7000218, NULL, "public client flows are disabled (AADSTS7000218): enable \"Allow public "
                    "client flows\" in the app registration (Authentication), or give the file "
                    "a client_secret"},
    {7000215, NULL, "wrong client secret (AADSTS7000215): put the secret's value (not its id) "
                    "in client_secret"},
    {7000222, NULL, "the client secret has expired (AADSTS7000222): create a new one in the app "
                    "registration and put it in client_secret"},
    {500011, NULL, "the scope's resource does not exist in this tenant (AADSTS500011): check "
                   "the scope (https://outlook.office.com/SMTP.Send) and the tenant"},
    {700024, NULL, "the client assertion is outside its validity time (AADSTS700024): check "
                   "this machine's clock"},
    /* any provider, by OAuth error code */
    {0, "invalid_grant", "the refresh token expired or was revoked (with Google, a project in "
                         "\"Testing\" gets 7-day refresh tokens: publish it): " OBTAIN},
    {0, "invalid_client", "the client_id or client_secret is wrong, or the OAuth client was "
                          "deleted: check them against the provider's console (Google: APIs & "
                          "Services, Credentials)"},
    {0, "unauthorized_client", "this client may not use the refresh grant: allow it in the "
                               "provider's client settings"},
    {0, "invalid_scope", "the provider refuses the file's scope: correct \"scope\", or " OBTAIN},
};

long oauth_advice_aadsts(json_t *answer)
{
    json_t *codes = json_object_get(answer, "error_codes");
    json_t *d = json_object_get(answer, "error_description");
    const char *s;
    char *end;
    long n;

    if (json_is_array(codes) && json_array_size(codes) > 0
        && json_is_integer(json_array_get(codes, 0))) {
        json_int_t v = json_integer_value(json_array_get(codes, 0));
        return v > 0 && v < 100000000 ? (long)v : 0;
    }
    if (!json_is_string(d))
        return 0;
    s = json_string_value(d);
    if (strncmp(s, "AADSTS", 6) != 0 || s[6] < '0' || s[6] > '9')
        return 0;
    n = strtol(s + 6, &end, 10);
    return end - (s + 6) <= 8 && *end == ':' && n > 0 ? n : 0;
}

size_t oauth_advice(json_t *answer, const char *file, char *out, size_t n)
{
    json_t *e = json_object_get(answer, "error");

    return oauth_advice_for(json_is_string(e) ? json_string_value(e) : NULL,
                            oauth_advice_aadsts(answer), file, out, n);
}

/* A path an administrator can paste into a shell as it is: a name from a
 * user's password ("tokenfile:NAME") must not become a command. */
static int advice_plain_path(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')
              || strchr("/._@+-", *s)))
            return 0;
    return 1;
}

size_t oauth_advice_for(const char *code, long aadsts, const char *file, char *out, size_t n)
{
    size_t i;
    int w;

    if (n)
        out[0] = '\0';
    if (!file || !file[0] || strlen(file) > 4096 || !advice_plain_path(file))
        file = "FILE";
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct advice_row *r = &rows[i];
        if (r->aadsts ? r->aadsts != aadsts : !code || strcmp(r->error, code) != 0)
            continue;
        if (!n)
            return 0;
        /* each text has at most one %s, the file: no text is a format */
        {
            const char *at = strstr(r->text, "%s");
            if (at)
                w = snprintf(out, n, "%.*s%s%s", (int)(at - r->text), r->text, file, at + 2);
            else
                w = snprintf(out, n, "%s", r->text);
        }
        if (w < 0) {
            out[0] = '\0';
            return 0;
        }
        return (size_t)w < n ? (size_t)w : n - 1;
    }
    return 0;
}
