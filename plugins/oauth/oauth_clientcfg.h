/* The OAuth client's settings read when the plugin loads.
 *
 * libsasl2 hands a client plugin options only through the application's
 * getopt callback: it reads no configuration file for clients.  Postfix's
 * smtp client gives no getopt callback at all, so the client options
 * (oauth_ca_file, oauth_proxy, oauth_refresh_window, ...) could not be set
 * for it.  And Postfix's smtp runs chrooted (Debian's default): after
 * sasl_client_init, which it calls before entering the chroot (smtp.c
 * pre_init, then chroot_uid in single_server.c), the CA bundle and the
 * token files' folder are out of reach unless copied into the chroot.
 *
 * So sasl_client_plug_init (oauth_client_settings_load):
 *   - reads the file sasl-mechs-client.conf from the first folder of
 *     libsasl2's configuration path that holds one (at load libsasl2
 *     answers SASL_CB_GETCONFPATH with its global path: sasl_set_path,
 *     SASL_CONF_PATH, or its default, e.g. /etc/sasl2; an application's own
 *     GETCONFPATH callback is not asked then), lines "name: value" as in libsasl2's own
 *     files, '#' comments; at most 64 KiB and 128 options; a file with a
 *     malformed line is not used at all (the connections that need it say
 *     why: what a plugin logs at load reaches syslog only);
 *   - reads the CA bundle named by oauth_ca_file into memory (libcurl then
 *     takes it with CURLOPT_CAINFO_BLOB);
 *   - opens the folder named by oauth_token_dir: a token file named without
 *     a '/' (a password "tokenfile:relay.json", or oauth_token_file) is
 *     opened in it, with its lock and its temporary file (openat,
 *     renameat).
 * Each option is looked up in the application's getopt first (at load: its
 * global callback; per connection: the connection's), then in the file. */
#ifndef OAUTH_CLIENTCFG_H
#define OAUTH_CLIENTCFG_H

#include <stddef.h>

#include "oauth_server.h"

#define OAUTH_CLIENT_CONF "sasl-mechs-client.conf"

struct oauth_conf_entry {
    char *name, *value;
};

struct oauth_client_settings {
    const struct oauth_plugin *plugin;
    char conf_path[4096];             /* the file read, "" when none */
    struct oauth_conf_entry *entries; /* from the file */
    size_t n_entries;
    char *ca_file;                    /* oauth_ca_file as named at load */
    char *ca_blob;                    /* its content, or NULL */
    size_t ca_len;
    char *token_dir;                  /* oauth_token_dir as named at load */
    int dir_fd;                       /* that folder, or -1 */
    char problem[512];                /* why a file or folder was not read, "" */
};

/* At plug_init: forget what cs held (cs->plugin stays), then read as
 * above.  Never fails the load: what could not be read is kept in
 * cs->problem for the connection that needs it. */
void oauth_client_settings_load(struct oauth_client_settings *cs, const sasl_utils_t *utils);
/* Free and erase all of it; dir_fd closed. */
void oauth_client_settings_forget(struct oauth_client_settings *cs);

/* A copy of utils whose getopt asks utils' getopt first, then the file's
 * options: pass &ch->utils wherever options are read. */
struct oauth_chained_utils {
    sasl_utils_t utils;
    const sasl_utils_t *orig;
    const struct oauth_client_settings *cs;
};
void oauth_client_settings_chain(const struct oauth_client_settings *cs, const sasl_utils_t *utils,
                                 struct oauth_chained_utils *ch);

#endif
