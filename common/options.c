#include "config.h"
#include <sasl-mechs/options.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The value as a NUL-terminated string, or NULL when the option is unset.
 * plugin: NULL for ours; Cyrus's plugin name for one of its options, which
 * it asks for with that name (an application's getopt may file options per
 * plugin: Cyrus IMAP tries sasl_<plugin>_<option>, then sasl_<option>). */
static const char *opt_lookup(const sasl_utils_t *utils, const char *plugin, const char *name)
{
    const char *val = NULL;
    unsigned len = 0;

    if (!utils->getopt
        || utils->getopt(utils->getopt_context, plugin, name, &val, &len) != SASL_OK
        || !val)
        return NULL;
    return val;
}

/* Where the refusals of the plugin being loaded go: that plugin's settings.
 * Only a pointer to them, set by sm_server_plug_init for the time it reads
 * the options (libsasl2 loads plugins in one thread, before any
 * connection): the option readers take a utils, which has no room for it. */
static _Thread_local struct sm_opt_refusals *keep_into;

void sm_opt_keep_refusals(struct sm_opt_refusals *into)
{
    if (into)
        memset(into, 0, sizeof(*into));
    keep_into = into;
}

const char *sm_opt_refusals_last(const struct sm_opt_refusals *r)
{
    return r->reasons + r->last_at;
}

/* One more refusal into k: its name, and its sentence after the others'
 * while it fits (counted either way). */
static void opt_keep(struct sm_opt_refusals *k, const char *name, const char *sentence)
{
    size_t have = strlen(k->reasons), sep = have ? 2 : 0, add = strlen(sentence);

    k->count++;
    snprintf(k->option, sizeof(k->option), "%s", name);
    if (have + sep + add >= sizeof(k->reasons))
        return;
    memcpy(k->reasons + have, "; ", sep);
    memcpy(k->reasons + have + sep, sentence, add + 1);
    k->last_at = have + sep;
    k->kept++;
}

/* The sentence: logged, and kept (at load) or set as the errdetail (on a
 * connection). */
static int opt_refuse_sentence(const sasl_utils_t *utils, const char *name, const char *sentence)
{
    utils->log(utils->conn, SASL_LOG_ERR, "sasl-mechs: %s", sentence);
    if (utils->conn) { /* a client's option, read on its connection */
        utils->seterror(utils->conn, SASL_NOLOG, "%s", sentence);
    } else if (keep_into) {
        opt_keep(keep_into, name, sentence);
    }
    return SASL_CONFIGERR;
}

int sm_opt_refuse(const sasl_utils_t *utils, const char *name, const char *fmt, ...)
{
    char sentence[SM_OPT_REASON_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(sentence, sizeof(sentence), fmt, ap);
    va_end(ap);
    return opt_refuse_sentence(utils, name, sentence);
}

/* The value as it may be quoted in a message: at most 64 bytes, control
 * characters shown as '?'. */
static void opt_quotable(const char *val, char out[72])
{
    size_t i;

    for (i = 0; val[i] && i < 64; i++)
        out[i] = (unsigned char)val[i] < 0x20 || val[i] == 0x7f ? '?' : val[i];
    strcpy(out + i, val[i] ? "..." : "");
}

static int opt_bad(const sasl_utils_t *utils, const char *name, const char *val,
                   const char *expected)
{
    char shown[72];

    opt_quotable(val, shown);
    return sm_opt_refuse(utils, name, "%s: \"%s\" is not %s", name, shown, expected);
}

int sm_opt_uint(const sasl_utils_t *utils, const char *name,
                unsigned def, unsigned min, unsigned max, unsigned *out)
{
    const char *val = opt_lookup(utils, NULL, name);
    char expected[64], *end;
    unsigned long v;

    *out = def;
    if (!val)
        return SASL_OK;
    snprintf(expected, sizeof(expected), "a number from %u to %u", min, max);
    errno = 0;
    v = strtoul(val, &end, 10);
    if (val[0] < '0' || val[0] > '9' || *end || errno || v < min || v > max)
        return opt_bad(utils, name, val, expected);
    *out = (unsigned)v;
    return SASL_OK;
}

static int opt_choice(const sasl_utils_t *utils, const char *plugin, const char *name,
                      const char *const *choices, unsigned def, unsigned *out)
{
    const char *val = opt_lookup(utils, plugin, name);
    char expected[160];
    size_t used = 0;
    unsigned i;

    *out = def;
    if (!val)
        return SASL_OK;
    for (i = 0; choices[i]; i++)
        if (strcasecmp(val, choices[i]) == 0) {
            *out = i;
            return SASL_OK;
        }
    expected[0] = '\0';
    for (i = 0; choices[i] && used < sizeof(expected); i++)
        used += (size_t)snprintf(expected + used, sizeof(expected) - used, "%s%s",
                                 i ? (choices[i + 1] ? ", " : " or ")
                                   : choices[1] && choices[2] ? "one of " : "",
                                 choices[i]);
    return opt_bad(utils, name, val, expected);
}

static int opt_boolean(const sasl_utils_t *utils, const char *plugin, const char *name, int def,
                       int *out)
{
    static const char *const words[] = {"no", "yes", "false", "true", "off", "on", "0", "1", NULL};
    unsigned i;
    int r = opt_choice(utils, plugin, name, words, def ? 1 : 0, &i);

    *out = r == SASL_OK ? (int)(i & 1) : def;
    return r;
}

int sm_opt_bool(const sasl_utils_t *utils, const char *name, int def, int *out)
{
    return opt_boolean(utils, NULL, name, def, out);
}

int sm_opt_cyrus_is_set(const sasl_utils_t *utils, const char *plugin, const char *name)
{
    return opt_lookup(utils, plugin, name) != NULL;
}

int sm_opt_cyrus_bool(const sasl_utils_t *utils, const char *plugin, const char *name, int def,
                      int *out)
{
    return opt_boolean(utils, plugin, name, def, out);
}

int sm_opt_choice(const sasl_utils_t *utils, const char *name,
                  const char *const *choices, unsigned def, unsigned *out)
{
    return opt_choice(utils, NULL, name, choices, def, out);
}

int sm_read_limits(const sasl_utils_t *utils, const char *prefix, int read_user,
                   int read_password, struct sm_limits *lim)
{
    char name[64];
    int r = SASL_OK;

    lim->max_user = SM_DEFAULT_MAX_USER;
    lim->max_password = SM_DEFAULT_MAX_PASSWORD;
    if (read_user) {
        snprintf(name, sizeof(name), "%s_max_user_length", prefix);
        r = sm_opt_uint(utils, name, SM_DEFAULT_MAX_USER, 1, SM_MAX_USER_LIMIT, &lim->max_user);
    }
    if (r == SASL_OK && read_password) {
        snprintf(name, sizeof(name), "%s_max_password_length", prefix);
        r = sm_opt_uint(utils, name, SM_DEFAULT_MAX_PASSWORD, 1, SM_MAX_PASSWORD_LIMIT,
                        &lim->max_password);
    }
    return r;
}

static int opt_string(const sasl_utils_t *utils, const char *plugin, const char *name, char *out,
                      size_t cap)
{
    const char *val = opt_lookup(utils, plugin, name);
    size_t i, n;

    out[0] = '\0';
    if (!val)
        return SASL_OK;
    n = strlen(val);
    for (i = 0; i < n; i++)
        if ((unsigned char)val[i] < 0x20 || val[i] == 0x7f)
            return sm_opt_refuse(utils, name, "%s: the value holds a control character "
                                 "(byte %zu)", name, i + 1);
    if (n >= cap)
        return sm_opt_refuse(utils, name, "%s: the value has %zu bytes, more than %zu", name, n,
                             cap - 1);
    memcpy(out, val, n + 1);
    return SASL_OK;
}

int sm_opt_string(const sasl_utils_t *utils, const char *name, char *out, size_t cap)
{
    return opt_string(utils, NULL, name, out, cap);
}

int sm_opt_cyrus_string(const sasl_utils_t *utils, const char *plugin, const char *name,
                        char *out, size_t cap)
{
    return opt_string(utils, plugin, name, out, cap);
}
