#include "config.h"
#include <sasl-mechs/base64.h>

#include <stdint.h>

static const char std_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t sm_b64_encoded_len(enum sm_b64_alphabet alpha, size_t n)
{
    if (alpha == SM_B64_STD)
        return (n + 2) / 3 * 4;
    return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

size_t sm_b64_decoded_max(size_t n)
{
    return n / 4 * 3 + (n % 4 ? 2 : 0);
}

int sm_b64_encode(enum sm_b64_alphabet alpha, const void *in, size_t inlen,
                  char *out, size_t outmax, size_t *outlen)
{
    const unsigned char *p = in;
    const char *abc = alpha == SM_B64_STD ? std_alphabet : url_alphabet;
    size_t need = sm_b64_encoded_len(alpha, inlen), o = 0, i = 0;

    if (inlen > SIZE_MAX / 4 * 3 - 3 || need > outmax)
        return -1;
    for (; inlen - i >= 3; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = abc[v >> 18];
        out[o++] = abc[v >> 12 & 63];
        out[o++] = abc[v >> 6 & 63];
        out[o++] = abc[v & 63];
    }
    if (inlen - i) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (inlen - i == 2)
            v |= (uint32_t)p[i + 1] << 8;
        out[o++] = abc[v >> 18];
        out[o++] = abc[v >> 12 & 63];
        if (inlen - i == 2)
            out[o++] = abc[v >> 6 & 63];
        else if (alpha == SM_B64_STD)
            out[o++] = '=';
        if (alpha == SM_B64_STD)
            out[o++] = '=';
    }
    if (o < outmax)
        out[o] = '\0';
    *outlen = o;
    return 0;
}

/* -1 for a byte outside the alphabet (padding included). */
static int b64_sextet(enum sm_b64_alphabet alpha, unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == (alpha == SM_B64_STD ? '+' : '-')) return 62;
    if (c == (alpha == SM_B64_STD ? '/' : '_')) return 63;
    return -1;
}

int sm_b64_decode(enum sm_b64_alphabet alpha, const char *in, size_t inlen,
                  void *out, size_t outmax, size_t *outlen)
{
    unsigned char *q = out;
    size_t data = inlen, o = 0, i;
    uint32_t acc = 0;
    unsigned bits = 0;

    if (alpha == SM_B64_STD) {
        /* RFC 4648 section 4: whole quanta, at most two '=' at the very end */
        if (inlen % 4)
            return -1;
        if (data && in[data - 1] == '=') data--;
        if (data && in[data - 1] == '=' && data + 1 == inlen) data--;
    } else if (inlen % 4 == 1) {
        return -1;
    }
    if (data / 4 * 3 + (data % 4 ? data % 4 - 1 : 0) > outmax)
        return -1;
    for (i = 0; i < data; i++) {
        int v = b64_sextet(alpha, (unsigned char)in[i]);
        if (v < 0)
            return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            q[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* section 3.5: the bits left over must be zero; a lone sextet is no byte */
    if (acc != 0 || bits >= 6)
        return -1;
    *outlen = o;
    return 0;
}
