/* The OAuth client's settings read at load: see oauth_clientcfg.h. */
#include "config.h"
#include "oauth_clientcfg.h"
#include "oauth_config.h"
#include "oauth_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sasl-mechs/secret.h>

#define MAX_CONF (64 * 1024)
#define MAX_ENTRIES 128
#define MAX_CA (4 * 1024 * 1024)

static int chained_getopt(void *context, const char *plugin_name, const char *option,
                          const char **result, unsigned *len)
{
    const struct oauth_chained_utils *ch = context;
    const char *v = NULL;
    unsigned l = 0;
    size_t i;

    if (ch->orig->getopt
        && ch->orig->getopt(ch->orig->getopt_context, plugin_name, option, &v, &l) == SASL_OK
        && v && *v) {
        *result = v;
        if (len)
            *len = l ? l : (unsigned)strlen(v);
        return SASL_OK;
    }
    for (i = 0; ch->cs && i < ch->cs->n_entries; i++) {
        if (strcmp(ch->cs->entries[i].name, option) == 0) {
            *result = ch->cs->entries[i].value;
            if (len)
                *len = (unsigned)strlen(*result);
            return SASL_OK;
        }
    }
    *result = NULL;
    return SASL_FAIL;
}

void oauth_client_settings_chain(const struct oauth_client_settings *cs, const sasl_utils_t *utils,
                                 struct oauth_chained_utils *ch)
{
    ch->utils = *utils;
    ch->orig = utils;
    ch->cs = cs;
    ch->utils.getopt = chained_getopt;
    ch->utils.getopt_context = ch;
}

void oauth_client_settings_forget(struct oauth_client_settings *cs)
{
    const struct oauth_plugin *p = cs->plugin;
    size_t i;

    for (i = 0; i < cs->n_entries; i++) {
        free(cs->entries[i].name);
        oauth_secret_free(cs->entries[i].value);
    }
    free(cs->entries);
    free(cs->ca_file);
    free(cs->ca_blob);
    free(cs->token_dir);
    if (cs->dir_fd >= 0)
        close(cs->dir_fd);
    memset(cs, 0, sizeof(*cs));
    cs->plugin = p;
    cs->dir_fd = -1;
}

static void settings_problem(struct oauth_client_settings *cs, const sasl_utils_t *utils,
                             const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void settings_problem(struct oauth_client_settings *cs, const sasl_utils_t *utils,
                             const char *fmt, ...)
{
    size_t used = strlen(cs->problem);
    va_list ap;

    if (used && used + 2 < sizeof(cs->problem)) {
        strcpy(cs->problem + used, "; ");
        used += 2;
    }
    va_start(ap, fmt);
    vsnprintf(cs->problem + used, sizeof(cs->problem) - used, fmt, ap);
    va_end(ap);
    /* at load this reaches syslog only (libsasl2 has no connection yet) */
    utils->log(NULL, SASL_LOG_WARN, "%s client: %s", cs->plugin->name, cs->problem + used);
}

/* "name: value" lines into cs->entries; 0, or -1 after settings_problem. */
static int settings_parse(struct oauth_client_settings *cs, const sasl_utils_t *utils, char *text)
{
    char *line, *next, *colon, *v, *e;
    unsigned lineno = 0;

    for (line = text; line && *line; line = next) {
        lineno++;
        if ((next = strchr(line, '\n')))
            *next++ = '\0';
        while (*line == ' ' || *line == '\t')
            line++;
        e = line + strlen(line);
        while (e > line && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            *--e = '\0';
        if (!*line || *line == '#')
            continue;
        if (!(colon = strchr(line, ':')) || colon == line) {
            settings_problem(cs, utils, "%s line %u is not \"name: value\"", cs->conf_path,
                             lineno);
            return -1;
        }
        *colon = '\0';
        for (e = colon; e > line && (e[-1] == ' ' || e[-1] == '\t');)
            *--e = '\0';
        for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
            ;
        if (cs->n_entries == MAX_ENTRIES) {
            settings_problem(cs, utils, "%s holds more than %d options", cs->conf_path,
                             MAX_ENTRIES);
            return -1;
        }
        cs->entries[cs->n_entries].name = strdup(line);
        cs->entries[cs->n_entries].value = strdup(v);
        if (!cs->entries[cs->n_entries].name || !cs->entries[cs->n_entries].value) {
            free(cs->entries[cs->n_entries].name);
            free(cs->entries[cs->n_entries].value);
            settings_problem(cs, utils, "out of memory reading %s", cs->conf_path);
            return -1;
        }
        cs->n_entries++;
    }
    return 0;
}

/* The first sasl-mechs-client.conf of libsasl2's configuration path. */
static void settings_read_conf(struct oauth_client_settings *cs, const sasl_utils_t *utils)
{
    sasl_getconfpath_t *getconfpath = NULL;
    void *ctx = NULL;
    char *confpath = NULL, *copy, *dir, *save = NULL, *buf = NULL;
    size_t len = 0;
    struct oauth_err err;

    if (!utils->getcallback
        || utils->getcallback(NULL, SASL_CB_GETCONFPATH, (sasl_callback_ft *)&getconfpath, &ctx)
               != SASL_OK
        || !getconfpath || getconfpath(ctx, &confpath) != SASL_OK || !confpath)
        return;
    if (!(copy = strdup(confpath)))
        return;
    for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        if ((size_t)snprintf(cs->conf_path, sizeof(cs->conf_path), "%s/%s", dir,
                             OAUTH_CLIENT_CONF) >= sizeof(cs->conf_path)
            || access(cs->conf_path, F_OK) != 0) {
            cs->conf_path[0] = '\0';
            continue;
        }
        /* it may hold a proxy's credentials: not open to others */
        if (oauth_read_file(cs->conf_path, "client configuration", OAUTH_FILE_GROUP, MAX_CONF,
                            &buf, &len, NULL, &err) != OAUTH_OK) {
            settings_problem(cs, utils, "%s", err.reason);
            break;
        }
        if (strlen(buf) != len)
            settings_problem(cs, utils, "%s contains a NUL byte", cs->conf_path);
        else if ((cs->entries = calloc(MAX_ENTRIES, sizeof(*cs->entries)))
                 && settings_parse(cs, utils, buf) != 0) {
            /* none of a file that does not read as a whole */
            size_t i;
            for (i = 0; i < cs->n_entries; i++) {
                free(cs->entries[i].name);
                oauth_secret_free(cs->entries[i].value);
            }
            cs->n_entries = 0;
        }
        sm_erase(buf, len);
        free(buf);
        break;
    }
    free(copy);
}

void oauth_client_settings_load(struct oauth_client_settings *cs, const sasl_utils_t *utils)
{
    const struct oauth_plugin *p = cs->plugin;
    struct oauth_chained_utils ch;
    const char *v;
    struct oauth_err err;

    oauth_client_settings_forget(cs);
    settings_read_conf(cs, utils);
    oauth_client_settings_chain(cs, utils, &ch);
    if ((v = oauth_opt_string(p, &ch.utils, "ca_file")) && (cs->ca_file = strdup(v))) {
        if (oauth_read_file(cs->ca_file, "CA bundle (oauth_ca_file)", OAUTH_FILE_PUBLIC, MAX_CA,
                            &cs->ca_blob, &cs->ca_len, NULL, &err) != OAUTH_OK)
            settings_problem(cs, utils, "%s", err.reason);
    }
    if ((v = oauth_opt_string(p, &ch.utils, "token_dir")) && (cs->token_dir = strdup(v))) {
        if (cs->token_dir[0] != '/')
            settings_problem(cs, utils, "oauth_token_dir %s is not an absolute path",
                             cs->token_dir);
        else if ((cs->dir_fd = open(cs->token_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
            settings_problem(cs, utils, "oauth_token_dir %s: %s", cs->token_dir,
                             strerror(errno));
    }
}
