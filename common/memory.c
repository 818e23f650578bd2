#include "config.h"
#include <sasl-mechs/memory.h>
#include <sasl-mechs/secret.h>

#include <string.h>

void sm_free_secret(const sasl_utils_t *utils, void *p, size_t n)
{
    if (!p)
        return;
    sm_erase(p, n == (size_t)-1 ? strlen(p) + 1 : n);
    utils->free(p);
}

char *sm_strndup(const sasl_utils_t *utils, const char *s, size_t n)
{
    char *d = utils->malloc(n + 1);

    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}
