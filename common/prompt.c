#include "config.h"
#include <sasl-mechs/prompt.h>
#include <sasl-mechs/plugin.h>
#include <sasl-mechs/memory.h>
#include <sasl-mechs/options.h>
#include <sasl-mechs/secret.h>

#include <string.h>

struct item {
    unsigned want;
    unsigned long id;
    const char *prompt;
};

static const struct item items[] = {
    {SM_WANT_AUTHNAME, SASL_CB_AUTHNAME, "Please enter your authentication name"},
    {SM_WANT_AUTHZID, SASL_CB_USER, "Please enter your authorization name (empty for none)"},
    {SM_WANT_PASSWORD, SASL_CB_PASS, "Please enter your password"},
};
#define N_ITEMS (sizeof(items) / sizeof(items[0]))

/* Store a value obtained for one item; an empty authzid means none.  A
 * callback's answer stays valid for the exchange (Cyrus's own plugins rely
 * on that too) and is used in place; a prompt's answer lives in the prompt
 * array, which is freed, so it is copied. */
static int prompt_store(const sasl_utils_t *utils, struct sm_creds *c, unsigned want,
                        const char *val, size_t len, int copy)
{
    const char *v = val;

    if (len > SM_MAX_PASSWORD_LIMIT)
        return sm_fail(utils, SASL_BADPARAM, "credential longer than %u bytes",
                       SM_MAX_PASSWORD_LIMIT);
    c->have |= want;
    if (want == SM_WANT_AUTHZID && len == 0)
        return SASL_OK;
    if (copy) {
        if (!(v = sm_strndup(utils, val, len)))
            return SASL_NOMEM;
        c->owned |= want;
    }
    switch (want) {
    case SM_WANT_AUTHNAME: c->authname = v; break;
    case SM_WANT_AUTHZID: c->authzid = v; break;
    default: c->password = v; c->password_len = (unsigned)len; break;
    }
    return SASL_OK;
}

/* libsasl2's convention: an application answers an item through its
 * callback; it lists the id with a NULL proc when it will answer a
 * SASL_INTERACT prompt instead (getcallback then says SASL_INTERACT); and an
 * id it does not list at all is one it cannot supply (SASL_FAIL). */
static int prompt_from_callback(const sasl_utils_t *utils, const struct item *it,
                                struct sm_creds *c)
{
    sasl_callback_ft proc = NULL;
    void *ctx = NULL;
    int r = utils->getcallback(utils->conn, it->id, &proc, &ctx);

    if (r == SASL_INTERACT)
        return r;
    if (r != SASL_OK || !proc) {
        if (it->want == SM_WANT_AUTHZID)
            return prompt_store(utils, c, it->want, "", 0, 0); /* none: act as the authcid */
        return sm_fail(utils, SASL_FAIL, "the application supplies no %s",
                       it->want == SM_WANT_PASSWORD ? "password" : "authentication name");
    }
    /* libsasl2 hands every callback back as int (*)(void); the detour through
     * void (*)(void) tells the compiler the conversion is meant */
    if (it->id == SASL_CB_PASS) {
        sasl_secret_t *secret = NULL;
        r = ((sasl_getsecret_t *)(void (*)(void))proc)(utils->conn, ctx, SASL_CB_PASS, &secret);
        if (r != SASL_OK)
            return r;
        if (!secret)
            return sm_fail(utils, SASL_BADPARAM, "the password callback returned nothing");
        return prompt_store(utils, c, it->want, (const char *)secret->data, secret->len, 0);
    } else {
        const char *val = NULL;
        unsigned len = 0;
        r = ((sasl_getsimple_t *)(void (*)(void))proc)(ctx, (int)it->id, &val, &len);
        if (r != SASL_OK)
            return r;
        if (!val)
            val = "";
        return prompt_store(utils, c, it->want, val, strlen(val), 0);
    }
}

/* Take the answers the application wrote into the prompts we returned. */
static int prompt_harvest(const sasl_utils_t *utils, sasl_interact_t **prompt_need,
                          struct sm_creds *c)
{
    sasl_interact_t *p;
    int r = SASL_OK;
    size_t i;

    for (p = *prompt_need; r == SASL_OK && p->id != SASL_CB_LIST_END; p++)
        for (i = 0; i < N_ITEMS; i++) {
            if (p->id != items[i].id || (c->have & items[i].want))
                continue;
            if (!p->result && items[i].want != SM_WANT_AUTHZID)
                r = sm_fail(utils, SASL_BADPARAM, "no answer to the prompt \"%s\"",
                            items[i].prompt);
            else /* an answer without a length: one byte past the cap is enough to refuse it */
                r = prompt_store(
                    utils, c, items[i].want, p->result ? p->result : "",
                    p->result ? strnlen(p->result, p->len ? p->len : SM_MAX_PASSWORD_LIMIT + 1u)
                              : 0,
                    1);
        }
    utils->free(*prompt_need);
    *prompt_need = NULL;
    return r;
}

static int prompt_build(const sasl_utils_t *utils, unsigned needs,
                        sasl_interact_t **prompt_need)
{
    sasl_interact_t *p = utils->calloc(N_ITEMS + 1, sizeof(*p));
    size_t i, n = 0;

    if (!p)
        return SASL_NOMEM;
    for (i = 0; i < N_ITEMS; i++)
        if (needs & items[i].want) {
            p[n].id = items[i].id;
            p[n].prompt = items[i].prompt;
            n++;
        }
    p[n].id = SASL_CB_LIST_END;
    *prompt_need = p;
    return SASL_INTERACT;
}

int sm_get_creds(sasl_client_params_t *params, unsigned want,
                 sasl_interact_t **prompt_need, struct sm_creds *c)
{
    const sasl_utils_t *utils = params->utils;
    unsigned needs = 0;
    size_t i;
    int r;

    if (prompt_need && *prompt_need && (r = prompt_harvest(utils, prompt_need, c)) != SASL_OK)
        return r;
    for (i = 0; i < N_ITEMS; i++) {
        if (!(want & items[i].want) || (c->have & items[i].want))
            continue;
        r = prompt_from_callback(utils, &items[i], c);
        if (r == SASL_INTERACT)
            needs |= items[i].want;
        else if (r != SASL_OK)
            return r;
    }
    if (!needs)
        return SASL_OK;
    if (!prompt_need)
        return sm_fail(utils, SASL_BADPARAM, "credentials missing and prompting impossible");
    return prompt_build(utils, needs, prompt_need);
}

void sm_creds_dispose(const sasl_utils_t *utils, struct sm_creds *c)
{
    if (c->owned & SM_WANT_AUTHNAME)
        utils->free((void *)c->authname);
    if (c->owned & SM_WANT_AUTHZID)
        utils->free((void *)c->authzid);
    if (c->owned & SM_WANT_PASSWORD)
        sm_free_secret(utils, (void *)c->password, c->password_len + 1u);
    memset(c, 0, sizeof(*c));
}
