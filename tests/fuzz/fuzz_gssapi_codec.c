/* libFuzzer targets for the GSSAPI codec (plugins/gssapi/gssapi_codec.c):
 *   -DFUZZ_GSSAPI_TOKEN  the security-layer tokens: an offer or a choice
 *                        that parses rebuilds to exactly its input
 *   -DFUZZ_GSSAPI_FRAME  the frame reader: the first byte picks a maximum
 *                        length and a way to split the rest; the frames
 *                        read, split or not, must be those a one-pass
 *                        reading of the whole input finds
 * The mechanism steps themselves (tests/fuzz/{server,client}_gssapi) would
 * need a Kerberos context a fuzzer cannot fake: see the README. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gssapi_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

#if defined(FUZZ_GSSAPI_TOKEN)
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gssapi_choice ch;
    unsigned layers, offered;
    uint32_t maxbuf;
    unsigned char re[GSSAPI_TOKEN_LEN + GSSAPI_MAX_AUTHZID];
    size_t n;

    if (gssapi_parse_offer(data, size, &layers, &maxbuf) == GSSAPI_OK) {
        CHECK(size == 4 && layers && !(layers & ~GSSAPI_LAYER_ALL) && maxbuf <= GSSAPI_MAX_BUFFER);
        gssapi_token_build(re, data[0], maxbuf);
        CHECK(memcmp(re, data, 4) == 0);
    }
    /* the first byte says what was offered, the rest is the choice */
    if (size == 0)
        return 0;
    offered = data[0] & GSSAPI_LAYER_ALL;
    if (gssapi_parse_choice(data + 1, size - 1, offered, &ch) == GSSAPI_OK) {
        CHECK((ch.layer & offered) && (ch.layer & (ch.layer - 1)) == 0);
        CHECK(ch.layer == GSSAPI_LAYER_NONE || ch.maxbuf > 0);
        CHECK(!memchr(ch.authzid, 0, ch.authzid_len));
        n = gssapi_choice_build(re, sizeof(re), ch.layer, ch.maxbuf, ch.authzid, ch.authzid_len);
        /* integrity and confidentiality together (ad_compat) reads, and so
         * rebuilds, as confidentiality; every other byte as it came */
        CHECK(n == size - 1 && memcmp(re + 1, data + 2, n - 1) == 0);
        CHECK(re[0] == data[1]
              || (data[1] == (GSSAPI_LAYER_INTEGRITY | GSSAPI_LAYER_CONFIDENTIALITY)
                  && re[0] == GSSAPI_LAYER_CONFIDENTIALITY));
    }
    return 0;
}
#elif defined(FUZZ_GSSAPI_FRAME)
/* frames as (offset, length) of their bodies in the input, or -1 */
static int reference(const uint8_t *p, size_t n, uint32_t max, size_t *offs, size_t *lens,
                     int *count)
{
    size_t o = 0;
    uint32_t len;

    *count = 0;
    while (n - o >= 4) {
        len = (uint32_t)p[o] << 24 | (uint32_t)p[o + 1] << 16 | (uint32_t)p[o + 2] << 8 | p[o + 3];
        if (len == 0 || len > max)
            return -1;
        if (n - o - 4 < len)
            return 0;
        offs[*count] = o + 4;
        lens[*count] = len;
        (*count)++;
        o += 4 + len;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static size_t offs[4096], lens[4096];
    struct gssapi_frame f;
    enum gssapi_frame_status st;
    unsigned char *body;
    uint32_t max;
    size_t pos, used, piece, step;
    int count, ref, got = 0, bad = 0;

    if (size < 2)
        return 0;
    max = 1u + data[0] * 16u;
    step = data[1];
    data += 2;
    size -= 2;
    ref = reference(data, size, max, offs, lens, &count);
    body = malloc(max);
    memset(&f, 0, sizeof(f));
    for (pos = 0; pos < size && !bad;) {
        piece = step ? (step < size - pos ? step : size - pos) : size - pos;
        size_t end = pos + piece;
        while (pos < end && !bad) {
            st = gssapi_frame_feed(&f, data + pos, end - pos, max, &used);
            CHECK(used <= end - pos);
            pos += used;
            switch (st) {
            case GSSAPI_FRAME_MORE: CHECK(pos == end); break;
            case GSSAPI_FRAME_HEADER: CHECK(f.len > 0 && f.len <= max); f.body = body; break;
            case GSSAPI_FRAME_DONE:
                CHECK(got < count && f.len == lens[got]);
                CHECK(memcmp(body, data + offs[got], f.len) == 0);
                got++;
                gssapi_frame_reset(&f);
                break;
            case GSSAPI_FRAME_TOO_LONG:
            case GSSAPI_FRAME_EMPTY:
                CHECK(ref == -1);
                bad = 1;
                break;
            }
        }
    }
    CHECK(got == count);
    CHECK(bad == (ref == -1));
    free(body);
    return 0;
}
#else
#error "build with -DFUZZ_GSSAPI_TOKEN or -DFUZZ_GSSAPI_FRAME"
#endif
