#include "config.h"
#include <sasl-mechs/stored_secret.h>
#include <sasl-mechs/crypto.h>
#include <sasl-mechs/hex.h>
#include <sasl-mechs/secret.h>

#include <string.h>
#include <strings.h>

/* Longer than any tag we know, shorter than a password that merely starts
 * with a brace is likely to hold before its closing one. */
#define SM_TAG_MAX 32
#define SM_NT_HASH_LEN 16

struct tag {
    const char *name;
    enum sm_secret_kind kind;
};

static const struct tag tags[] = {
    {"{PLAIN}", SM_SECRET_PASSWORD},
    {"{CLEARTEXT}", SM_SECRET_PASSWORD},
    {"{CRAM-MD5}", SM_SECRET_HMAC_MD5_STATE},
    {"{CRAM-MD5.HEX}", SM_SECRET_HMAC_MD5_STATE},
    {"{NTLM}", SM_SECRET_NT_HASH},
};

/* Length of a "{SCHEME}" at the start of val, or 0 when there is none. */
static size_t secret_tag_len(const char *val, size_t len)
{
    size_t i;

    if (len < 3 || val[0] != '{')
        return 0;
    for (i = 1; i < len && i < SM_TAG_MAX; i++) {
        unsigned char c = (unsigned char)val[i];
        if (c == '}')
            return i > 1 ? i + 1 : 0;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
              || c == '-' || c == '.' || c == '_'))
            return 0;
    }
    return 0;
}

/* The kind a tag names, or 0 for a scheme we cannot use. */
static unsigned secret_tag_kind(const char *val, size_t n)
{
    size_t i;

    for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
        if (n == strlen(tags[i].name) && strncasecmp(val, tags[i].name, n) == 0)
            return tags[i].kind;
    return 0;
}

/* Exactly 2 * n hex digits of either case (keys are written by tools). */
static int secret_decode_key(const char *hex, size_t len, size_t n, unsigned char *out)
{
    char lower[2 * SM_SECRET_KEY_MAX];
    size_t i;
    int r;

    if (len != 2 * n || n > SM_SECRET_KEY_MAX)
        return -1;
    for (i = 0; i < len; i++)
        lower[i] = (char)(hex[i] >= 'A' && hex[i] <= 'F' ? hex[i] + ('a' - 'A') : hex[i]);
    r = sm_hex_decode_lower(lower, n, out);
    sm_erase(lower, sizeof(lower));
    return r;
}

int sm_stored_secret_parse(const char *val, size_t len, const struct sm_secret_rules *rules,
                           struct sm_stored_secret *out)
{
    size_t n = rules->tags ? secret_tag_len(val, len) : 0;
    unsigned kind = n ? secret_tag_kind(val, n) : rules->bare;

    memset(out, 0, sizeof(*out));
    if (!(kind & rules->accept))
        return -1;
    out->kind = (enum sm_secret_kind)kind;
    switch (kind) {
    case SM_SECRET_PASSWORD:
        out->password = val + n;
        out->password_len = len - n;
        return 0;
    case SM_SECRET_HMAC_MD5_STATE:
        out->key_len = SM_HMAC_MD5_STATE_LEN;
        break;
    default:
        out->key_len = SM_NT_HASH_LEN;
        break;
    }
    if (secret_decode_key(val + n, len - n, out->key_len, out->key) == 0)
        return 0;
    sm_erase(out, sizeof(*out));
    return -1;
}

int sm_stored_secret_is_tagged_key(const char *val, size_t len)
{
    static const struct sm_secret_rules keys = {
        .accept = SM_SECRET_HMAC_MD5_STATE | SM_SECRET_NT_HASH,
        .bare = SM_SECRET_PASSWORD,
        .tags = 1,
    };
    struct sm_stored_secret s;
    int is_key;

    /* the common case, a password that is not tagged: what secret_tag_len would
     * conclude, without filling and erasing a struct sm_stored_secret */
    if (len < 3 || val[0] != '{')
        return 0;
    is_key = sm_stored_secret_parse(val, len, &keys, &s) == 0;

    sm_erase(&s, sizeof(s));
    return is_key;
}
