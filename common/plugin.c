#include "config.h"
#include <sasl-mechs/options.h>
#include <sasl-mechs/plugin.h>

#include <stdarg.h>
#include <stdio.h>

int sm_fail(const sasl_utils_t *utils, int code, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    utils->seterror(utils->conn, 0, "%s", msg);
    return code;
}

int sm_is_temporary(int result)
{
    return result == SASL_NOMEM || result == SASL_UNAVAIL || result == SASL_TRYAGAIN
        || result == SASL_FAIL;
}

int sm_too_many_steps(const sasl_utils_t *utils, const char *mech)
{
    return sm_fail(utils, SASL_BADPROT, "%s: step called after the exchange ended", mech);
}

int sm_plug_init(const sasl_utils_t *utils, const char *prefix, int maxversion,
                 int wanted, const char *side, int *out_version, int *plugcount,
                 int count)
{
    char name[64];
    int enabled = 1, r;

    if (maxversion < wanted) {
        utils->log(NULL, SASL_LOG_ERR, "sasl-mechs: libsasl2 offers %s plugin API %d, need %d",
                   side, maxversion, wanted);
        return SASL_BADVERS;
    }
    snprintf(name, sizeof(name), "%s_enable", prefix);
    if ((r = sm_opt_bool(utils, name, 1, &enabled)) != SASL_OK)
        return r;
    if (!enabled)
        utils->log(NULL, SASL_LOG_NOTE, "sasl-mechs: %s disabled by option %s", side, name);
    *out_version = wanted;
    *plugcount = enabled ? count : 0;
    return SASL_OK;
}

int sm_auth_result(const sasl_utils_t *utils, const char *mech, int result)
{
    switch (result) {
    case SASL_OK:
        return SASL_OK;
    case SASL_NOUSER:
    case SASL_BADAUTH:
        return sm_fail(utils, SASL_BADAUTH, "%s: authentication failed", mech);
    default:
        /* a backend error (saslauthd down, auxprop failure): temporary */
        return result;
    }
}

int sm_config_error(const sasl_utils_t *utils, const char *mech)
{
    return sm_fail(utils, SASL_CONFIGERR, "%s: %s has an invalid value (see the log of the "
                   "plugin's loading)", mech, sm_opt_last_bad());
}
