/* The guard against the wrong libsasl2: the layout of sasl_utils_t this
 * plugin was compiled for, against the one the process's libsasl2 hands it.
 *
 * Cyrus SASL's next release keeps the plugin API version (4) but drops the
 * eight MD5/HMAC members of sasl_utils_t (SASL_UTILS_VERSION 5), so every
 * later member sits 64 bytes earlier, and libsasl2 never fills
 * utils->version.  A plugin built for one layout and loaded by a libsasl2
 * of the other would call the wrong functions; it must refuse to load. */
#ifndef SASL_MECHS_ABI_H
#define SASL_MECHS_ABI_H

#include <stddef.h>
#include <sasl/sasl.h>
#include <sasl/saslplug.h>

enum sm_utils_layout {
    SM_LAYOUT_UNKNOWN = 0, /* the library could not be identified */
    SM_LAYOUT_MD5 = 4,     /* 2.1.x: with the MD5/HMAC helpers */
    SM_LAYOUT_NO_MD5 = 5,  /* the next release: without them */
    SM_LAYOUT_OTHER = -1,  /* a libsasl2 whose major version is not 2 */
};

/* The layout of the headers this file is compiled against. */
#if SASL_UTILS_VERSION >= 5
#define SM_LAYOUT_COMPILED SM_LAYOUT_NO_MD5
#else
#define SM_LAYOUT_COMPILED SM_LAYOUT_MD5
#endif

/* SASL_OK when the libsasl2 that made utils hands plugins the layout this
 * plugin was compiled for (or cannot be identified); SASL_BADVERS with a
 * sentence for the administrator in why otherwise.  Of utils it reads only
 * the address in its getopt member, which both layouts keep at the same
 * offset (it points into libsasl2 itself): that library, and no other
 * libsasl2 the process may hold, is asked through the dynamic linker for its
 * version (sasl_version_info) and whether it has the MD5 helpers
 * (_sasl_MD5Init, which the next release removed; its sasl_version_info
 * still says 2.1.28).  A table whose library cannot be told (no shared
 * object, or no sasl_version_info there) passes. */
int sm_abi_check(const sasl_utils_t *utils, const char *plugin, char *why, size_t whylen);

/* Say why to the administrator without the utils table (whose log member
 * may be another function under the wrong layout): syslog (LOG_AUTH), and
 * stderr when it is a terminal (an administrator running a command). */
void sm_abi_report(const char *why);

#endif
