#include "config.h"
#include <sasl-mechs/hex.h>

void sm_hex_encode(const void *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = in;
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

int sm_hex_decode_lower(const char *in, size_t n, void *out)
{
    unsigned char *q = out;
    size_t i;

    for (i = 0; i < n; i++) {
        int hi = hex_nibble(in[2 * i]), lo = hex_nibble(in[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        q[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}
