/* Small helpers of the OAuth core, one copy each: the reader of every file
 * the core opens (key sets, secrets, the client's token file), the quoting
 * of a received value for a message, and the release of a secret string. */
#ifndef OAUTH_UTIL_H
#define OAUTH_UTIL_H

#include <stddef.h>
#include <sys/stat.h>

#include "oauth_err.h"

/* Who besides the owner may have access to a file the core reads.  The
 * reader refuses a file that grants more, whatever the file is for. */
enum oauth_file_access {
    OAUTH_FILE_PUBLIC,  /* anyone may read, others may not write: a JWKS file, a CA
                           bundle, a certificate (what the plugin trusts) */
    OAUTH_FILE_GROUP,   /* owner and group, never others; the path itself not a
                           symbolic link: the client's token file, shared by the
                           processes of one group and replaced by rename */
    OAUTH_FILE_SECRET,  /* the owner only: a client secret, an HMAC secret */
};

/* Read the regular file path, at most max bytes, into *buf (malloc'd, NUL
 * after the content; the caller erases a secret before freeing it) and
 * *len; *st (may be NULL) receives the file's fstat.  The mode and the size
 * are checked on the open descriptor before a byte is read, and the size
 * again while reading.  OAUTH_OK; OAUTH_ERR_CONFIG when the file is
 * missing, unreadable, not a regular file, too large or open to more than
 * `access` allows, the reason saying so ("<what> <path> ..."); or
 * OAUTH_ERR_INTERNAL, out of memory. */
enum oauth_err_class oauth_read_file(const char *path, const char *what,
                                     enum oauth_file_access access, size_t max, char **buf,
                                     size_t *len, struct stat *st, struct oauth_err *err);

/* The same with a relative path opened in the folder dirfd (AT_FDCWD: the
 * working directory, as oauth_read_file). */
enum oauth_err_class oauth_read_file_at(int dirfd, const char *path, const char *what,
                                        enum oauth_file_access access, size_t max, char **buf,
                                        size_t *len, struct stat *st, struct oauth_err *err);

/* A received value (a claim, a header member, a kid, a curve name) quoted
 * for a message: printable ASCII other than '"', at most OAUTH_SHOW_MAX
 * bytes of it, then "...".  dst holds OAUTH_SHOWN bytes.  Returns dst. */
#define OAUTH_SHOW_MAX 48
#define OAUTH_SHOWN (OAUTH_SHOW_MAX + 8)
const char *oauth_show(char dst[OAUTH_SHOWN], const char *s, size_t n);

/* Erase a NUL-terminated secret and free it; NULL is fine. */
void oauth_secret_free(char *s);
/* The heap strings a struct owns, for its clear function: where each is
 * (offsetof) and whether it is a secret, erased before it is freed.  A
 * reader that fills the struct from a source naming the members alike (a
 * JSON document) may use the same table: the member's name, and the most
 * bytes it takes there (0: not read through the table).  One table per
 * struct says it once; oauth_owned_clear frees. */
struct oauth_owned {
    size_t at;
    int secret;
    const char *name;
    size_t max;
};
#define OAUTH_OWNED(type, member) {offsetof(type, member), 0, #member, 0}
#define OAUTH_OWNED_SECRET(type, member) {offsetof(type, member), 1, #member, 0}
#define OAUTH_OWNED_READ(type, member, max, secret) {offsetof(type, member), secret, #member, max}

/* Free the n strings m names in obj (NULL ones are fine), erasing the
 * secrets, then zero obj's size bytes; obj NULL: nothing. */
void oauth_owned_clear(void *obj, size_t size, const struct oauth_owned *m, size_t n);
#define OAUTH_OWNED_CLEAR(obj, m) \
    oauth_owned_clear((obj), sizeof(*(obj)), (m), sizeof(m) / sizeof((m)[0]))

/* Erase a malloc'd block, all malloc_usable_size bytes of it (it need not
 * hold a string), and free it; NULL is fine. */
void oauth_erase_free(void *p);

/* HMAC-SHA256 (OpenSSL, the project's library context) of the n parts
 * part[i][0..len[i]) one after the other, into out (32 bytes): 0, or -1
 * when OpenSSL fails (out is then erased). */
#define OAUTH_HMAC_SHA256_LEN 32
int oauth_hmac_sha256(const void *key, size_t keylen, const void *const *part, const size_t *len,
                      size_t n, unsigned char out[OAUTH_HMAC_SHA256_LEN]);

#endif
