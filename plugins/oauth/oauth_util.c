/* Small helpers of the OAuth core: see oauth_util.h. */
#include "config.h"
#include "oauth_util.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <sasl-mechs/crypto.h>
#include <sasl-mechs/secret.h>

/* The access bits each kind refuses, who they let in, and the chmod that
 * takes them away. */
static mode_t file_refused_bits(enum oauth_file_access access, const char **who,
                                const char **chmod_arg)
{
    switch (access) {
    case OAUTH_FILE_SECRET:
        *who = "group or others", *chmod_arg = "go-rwx";
        return S_IRWXG | S_IRWXO;
    case OAUTH_FILE_GROUP:
        *who = "others", *chmod_arg = "o-rwx";
        return S_IRWXO;
    case OAUTH_FILE_PUBLIC:
        /* anyone may read keys and certificates; whoever may write them
         * chooses whom the plugin trusts */
        *who = "others for writing", *chmod_arg = "o-w";
        return S_IWOTH;
    }
    *who = *chmod_arg = "";
    return 0;
}

enum oauth_err_class oauth_read_file(const char *path, const char *what,
                                     enum oauth_file_access access, size_t max, char **buf,
                                     size_t *len, struct stat *st, struct oauth_err *err)
{
    return oauth_read_file_at(AT_FDCWD, path, what, access, max, buf, len, st, err);
}

enum oauth_err_class oauth_read_file_at(int dirfd, const char *path, const char *what,
                                        enum oauth_file_access access, size_t max, char **buf,
                                        size_t *len, struct stat *st, struct oauth_err *err)
{
    int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    struct stat sb;
    const char *who, *chmod_arg;
    mode_t refused = file_refused_bits(access, &who, &chmod_arg);
    char *b = NULL;
    size_t n = 0;
    ssize_t got;
    enum oauth_err_class rc = OAUTH_ERR_CONFIG;
    int fd;

    *buf = NULL;
    *len = 0;
    if (access == OAUTH_FILE_GROUP)
        flags |= O_NOFOLLOW;
    if ((fd = openat(dirfd, path, flags)) < 0) {
        if (errno == ELOOP && access == OAUTH_FILE_GROUP)
            oauth_why(err, "%s %s is a symbolic link (give the real path: the file is "
                           "replaced when it is rewritten)", what, path);
        else
            oauth_why(err, "%s %s: %s", what, path, strerror(errno));
        oauth_err_is(err, OAUTH_ERR_CONFIG, 0);
        return OAUTH_ERR_CONFIG;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        oauth_why(err, "%s %s is not a regular file", what, path);
        goto out;
    }
    if (sb.st_mode & refused) {
        oauth_why(err, "%s %s is accessible by %s (mode %04o): chmod %s", what, path, who,
                  (unsigned)(sb.st_mode & 07777), chmod_arg);
        goto out;
    }
    if (sb.st_size < 0 || (unsigned long long)sb.st_size > max) {
        oauth_why(err, "%s %s is larger than %zu bytes", what, path, max);
        goto out;
    }
    if (!(b = malloc(max + 1))) {
        rc = OAUTH_ERR_INTERNAL;
        oauth_why(err, "out of memory");
        goto out;
    }
    /* the file may grow between fstat and read: the cap holds either way */
    while (n <= max && (got = read(fd, b + n, max + 1 - n)) != 0) {
        if (got < 0) {
            if (errno == EINTR)
                continue;
            oauth_why(err, "%s %s: %s", what, path, strerror(errno));
            goto out;
        }
        n += (size_t)got;
    }
    if (n > max) {
        oauth_why(err, "%s %s is larger than %zu bytes", what, path, max);
        goto out;
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    b = NULL;
    if (st)
        *st = sb;
    rc = OAUTH_OK;
out:
    close(fd);
    oauth_err_is(err, rc, 0);
    if (b) {
        sm_erase(b, max + 1);
        free(b);
    }
    return rc;
}

const char *oauth_show(char dst[OAUTH_SHOWN], const char *s, size_t n)
{
    size_t i, o = 0;

    for (i = 0; s && i < n; i++) {
        if (o == OAUTH_SHOW_MAX) {
            memcpy(dst + o, "...", 3);
            o += 3;
            break;
        }
        dst[o++] = s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' ? s[i] : '?';
    }
    dst[o] = '\0';
    return dst;
}

void oauth_erase_free(void *p)
{
    if (p) {
        sm_erase(p, malloc_usable_size(p));
        free(p);
    }
}

void oauth_secret_free(char *s)
{
    if (s) {
        sm_erase(s, strlen(s));
        free(s);
    }
}

void oauth_owned_clear(void *obj, size_t size, const struct oauth_owned *m, size_t n)
{
    size_t i;

    if (!obj)
        return;
    for (i = 0; i < n; i++) {
        char *s;

        memcpy(&s, (char *)obj + m[i].at, sizeof(s));
        if (m[i].secret)
            oauth_secret_free(s);
        else
            free(s);
    }
    memset(obj, 0, size);
}

int oauth_hmac_sha256(const void *key, size_t keylen, const void *const *part, const size_t *len,
                      size_t n, unsigned char out[OAUTH_HMAC_SHA256_LEN])
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    EVP_MAC *mac = EVP_MAC_fetch(sm_crypto_libctx(), "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    size_t i, outlen = 0;
    int ok = ctx && EVP_MAC_init(ctx, key, keylen, params);

    for (i = 0; ok && i < n; i++)
        ok = EVP_MAC_update(ctx, part[i], len[i]);
    ok = ok && EVP_MAC_final(ctx, out, &outlen, OAUTH_HMAC_SHA256_LEN)
         && outlen == OAUTH_HMAC_SHA256_LEN;
    if (!ok)
        sm_erase(out, OAUTH_HMAC_SHA256_LEN);
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return ok ? 0 : -1;
}
