#define _GNU_SOURCE /* dladdr, RTLD_DEFAULT, RTLD_NOLOAD */
#include "config.h"
#include <sasl-mechs/abi.h>

#include <dlfcn.h>
#include <stdio.h>
#include <syslog.h>
#include <unistd.h>

typedef void version_info_fn(const char **implementation, const char **version_string,
                             int *major, int *minor, int *step, int *patch);

static const char *layout_name(enum sm_utils_layout l)
{
    switch (l) {
    case SM_LAYOUT_MD5:
        return "Cyrus SASL 2.1 (with the MD5/HMAC helpers)";
    case SM_LAYOUT_NO_MD5:
        return "Cyrus SASL's next release (without the MD5/HMAC helpers)";
    case SM_LAYOUT_OTHER:
        return "a libsasl2 of another major version";
    default:
        return "unknown";
    }
}

int sm_abi_check(const sasl_utils_t *utils, const char *plugin, char *why, size_t whylen)
{
    Dl_info info = {0};
    void *lib = NULL, *sym;
    const char *vstr = NULL;
    int major = 0, minor = 0, step = 0;
    enum sm_utils_layout runs;
    version_info_fn *version_info;

    /* getopt points at libsasl2's own _sasl_global_getopt or
     * _sasl_conn_getopt: the library that built this table, and no other
     * (the process may hold another libsasl2, a dependency of libldap, say) */
    if (utils && utils->getopt && dladdr((void *)utils->getopt, &info) && info.dli_fname)
        lib = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
    if (!lib)
        return SASL_OK; /* not identified (a static libsasl2?): nothing proves it wrong */
    sym = dlsym(lib, "sasl_version_info");
    if (!sym) {
        dlclose(lib);
        return SASL_OK;
    }
    *(void **)&version_info = sym;
    version_info(NULL, &vstr, &major, &minor, &step, NULL);
    if (major != 2)
        runs = SM_LAYOUT_OTHER;
    else
        runs = dlsym(lib, "_sasl_MD5Init") ? SM_LAYOUT_MD5 : SM_LAYOUT_NO_MD5;
    if (runs == SM_LAYOUT_COMPILED) {
        dlclose(lib);
        return SASL_OK;
    }
    snprintf(why, whylen,
             "sasl-mechs: %s not loaded: this process runs %s (version %s), whose "
             "sasl_utils_t is laid out as in %s, but the plugin was built for %s and would "
             "call the wrong functions. Rebuild sasl-mechs against the headers of the "
             "libsasl2 it runs under",
             plugin, info.dli_fname, vstr ? vstr : "?", layout_name(runs),
             layout_name(SM_LAYOUT_COMPILED));
    dlclose(lib);
    return SASL_BADVERS;
}

void sm_abi_report(const char *why)
{
    syslog(LOG_AUTH | LOG_ERR, "%s", why);
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "%s\n", why);
}
