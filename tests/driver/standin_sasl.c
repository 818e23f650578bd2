/* A stand-in libsasl2 for tests/driver/test_abi.c: it answers the two
 * questions the guard (common/abi.c) asks the library whose functions a
 * plugin's utils table points at: sasl_version_info (the version Cyrus
 * SASL's development branch still reports, 2.1.28, or standin_major when a
 * test changes it) and whether _sasl_MD5Init exists (built with
 * -DSTANDIN_MD5: the layout of 2.1.x; without: the next release's, which
 * removed the MD5 helpers).  Its getopt and trap functions fill a utils
 * table and count every call a plugin makes through it (or end the process
 * at the first one). */
#include <sasl/sasl.h>
#include <stddef.h>
#include <unistd.h>

int standin_major = 2;
int standin_calls;
/* set: the first call through the table ends the process with status 42
 * (a plugin the guard let through has gone on to use the table) */
int standin_exit_on_call;

void sasl_version_info(const char **implementation, const char **version_string,
                       int *version_major, int *version_minor, int *version_step,
                       int *version_patch);
int standin_getopt(void *context, const char *plugin_name, const char *option,
                   const char **result, unsigned *len);
long standin_trap(void);
#ifdef STANDIN_MD5
void _sasl_MD5Init(void *ctx);
#endif

void sasl_version_info(const char **implementation, const char **version_string,
                       int *version_major, int *version_minor, int *version_step,
                       int *version_patch)
{
    if (implementation)
        *implementation = "stand-in libsasl2 (sasl-mechs tests)";
    if (version_string)
        *version_string = standin_major == 2 ? "2.1.28" : "3.0.0";
    if (version_major)
        *version_major = standin_major;
    if (version_minor)
        *version_minor = standin_major == 2 ? 1 : 0;
    if (version_step)
        *version_step = standin_major == 2 ? 28 : 0;
    if (version_patch)
        *version_patch = 0;
}

/* libsasl2's getopt says SASL_FAIL for an option that is not set */
int standin_getopt(void *context, const char *plugin_name, const char *option,
                   const char **result, unsigned *len)
{
    (void)context, (void)plugin_name, (void)option;
    if (standin_exit_on_call)
        _exit(42);
    standin_calls++;
    if (result)
        *result = NULL;
    if (len)
        *len = 0;
    return SASL_FAIL;
}

/* every other function slot of the table */
long standin_trap(void)
{
    if (standin_exit_on_call)
        _exit(42);
    standin_calls++;
    return SASL_FAIL;
}

#ifdef STANDIN_MD5
void _sasl_MD5Init(void *ctx)
{
    (void)ctx;
}
#endif
