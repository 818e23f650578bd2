/* Unit tests of common/crypto.c, common/hmac_md5_state.c, common/secret.c
 * and common/hex.c: RFC 2202 HMAC-MD5 vectors (tests/vectors/hmac-md5.txt)
 * through both HMAC paths, RFC 1321 digests, and an independent check of
 * the Dovecot {CRAM-MD5} key-schedule layout with an MD5 compression
 * function written here from RFC 1321 section 3.4. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sasl-mechs/crypto.h>
#include <sasl-mechs/hex.h>
#include <sasl-mechs/secret.h>
#include "vectors.h"

/* ---- a reference MD5, independent of OpenSSL and of common/ --------------- */

/* T[i] = floor(2^32 * |sin(i + 1)|), RFC 1321 section 3.4 */
static const uint32_t ref_T[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};
static const unsigned ref_S[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};
static const uint32_t ref_IV[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};

static uint32_t rotl32(uint32_t x, unsigned n)
{
    return x << n | x >> (32 - n);
}

/* One application of the compression function to a 64-byte block. */
static void ref_compress(uint32_t h[4], const unsigned char block[64])
{
    uint32_t m[16], a = h[0], b = h[1], c = h[2], d = h[3];
    unsigned i;

    for (i = 0; i < 16; i++)
        m[i] = (uint32_t)block[4 * i] | (uint32_t)block[4 * i + 1] << 8
               | (uint32_t)block[4 * i + 2] << 16 | (uint32_t)block[4 * i + 3] << 24;
    for (i = 0; i < 64; i++) {
        uint32_t f, t;
        unsigned g;
        switch (i / 16) {
        case 0: f = (b & c) | (~b & d); g = i; break;
        case 1: f = (d & b) | (~d & c); g = (5 * i + 1) % 16; break;
        case 2: f = b ^ c ^ d; g = (3 * i + 5) % 16; break;
        default: f = c ^ (b | ~d); g = (7 * i) % 16; break;
        }
        t = d;
        d = c;
        c = b;
        b = b + rotl32(a + f + ref_T[i] + m[g], ref_S[i / 16][i % 4]);
        a = t;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d;
}

static void put_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

/* Finish an MD5 whose chaining values are h after `done` bytes (a multiple
 * of 64) were compressed, over the remaining data. */
static void ref_md5_finish(const uint32_t h_in[4], uint64_t done, const void *data, size_t len,
                           unsigned char out[16])
{
    const unsigned char *p = data;
    uint32_t h[4] = {h_in[0], h_in[1], h_in[2], h_in[3]};
    uint64_t bits = (done + len) * 8;
    unsigned char block[128];
    size_t tail, i;

    for (; len >= 64; p += 64, len -= 64)
        ref_compress(h, p);
    memset(block, 0, sizeof(block));
    if (len)
        memcpy(block, p, len);
    block[len] = 0x80;
    tail = len < 56 ? 64 : 128;
    for (i = 0; i < 8; i++)
        block[tail - 8 + i] = (unsigned char)(bits >> (8 * i));
    ref_compress(h, block);
    if (tail == 128)
        ref_compress(h, block + 64);
    for (i = 0; i < 4; i++)
        put_le32(out + 4 * i, h[i]);
}

static void ref_md5(const void *data, size_t len, unsigned char out[16])
{
    ref_md5_finish(ref_IV, 0, data, len, out);
}

/* The Dovecot layout: chaining values after key^opad, then after key^ipad. */
static void ref_hmac_md5_state(const void *key, size_t keylen, unsigned char state[32],
                               uint32_t opad_h[4], uint32_t ipad_h[4])
{
    unsigned char k[64] = {0}, blk[64];
    size_t i;

    if (keylen > 64)
        ref_md5(key, keylen, k);
    else if (keylen)
        memcpy(k, key, keylen);
    memcpy(opad_h, ref_IV, sizeof(ref_IV));
    memcpy(ipad_h, ref_IV, sizeof(ref_IV));
    for (i = 0; i < 64; i++)
        blk[i] = k[i] ^ 0x5c;
    ref_compress(opad_h, blk);
    for (i = 0; i < 64; i++)
        blk[i] = k[i] ^ 0x36;
    ref_compress(ipad_h, blk);
    for (i = 0; i < 4; i++) {
        put_le32(state + 4 * i, opad_h[i]);
        put_le32(state + 16 + 4 * i, ipad_h[i]);
    }
}

static void ref_hmac_md5(const void *key, size_t keylen, const void *data, size_t len,
                         unsigned char out[16])
{
    unsigned char state[32], inner[16];
    uint32_t oh[4], ih[4];

    ref_hmac_md5_state(key, keylen, state, oh, ih);
    ref_md5_finish(ih, 64, data, len, inner);
    ref_md5_finish(oh, 64, inner, 16, out);
}

static void hex_to_bytes(const char *hex, unsigned char *out, size_t n)
{
    assert_int_equal(strlen(hex), 2 * n);
    assert_int_equal(sm_hex_decode_lower(hex, n, out), 0);
}

/* ---- the reference itself is right (RFC 1321 appendix A.5) ---------------- */

static const struct {
    const char *in, *md5;
} rfc1321[] = {
    {"", "d41d8cd98f00b204e9800998ecf8427e"},
    {"a", "0cc175b9c0f1b6a831c399e269772661"},
    {"abc", "900150983cd24fb0d6963f7d28e17f72"},
    {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
    {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
    {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
     "d174ab98d277d9f5a5611c2c9f419d9f"},
    {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
     "57edf4a22be3c955ac49da2e2107b67a"},
};
#define N_RFC1321 (sizeof(rfc1321) / sizeof(rfc1321[0]))

static void test_reference_md5(void **state)
{
    unsigned char got[16], want[16];
    size_t i;

    (void)state;
    for (i = 0; i < N_RFC1321; i++) {
        hex_to_bytes(rfc1321[i].md5, want, 16);
        ref_md5(rfc1321[i].in, strlen(rfc1321[i].in), got);
        assert_memory_equal(got, want, 16);
    }
}

/* ---- RFC 2202 through both HMAC paths, one cmocka test per case ----------- */

static void test_vector_file(void **state)
{
    const struct vec_file *f = *state;
    char name[32];
    int i;

    if (!f)
        fail_msg("test vectors unavailable: %s", vec_error());
    for (i = 1; i <= 7; i++) {
        snprintf(name, sizeof(name), "rfc2202-md5-%d", i);
        if (!vec_find(f, name))
            fail_msg("%s: case %s missing", f->path, name);
    }
}

static void test_vector_case(void **state)
{
    const struct vec_case *c = *state;
    unsigned char *key, *data, *digest, got[SM_MD5_LEN], st[SM_HMAC_MD5_STATE_LEN],
        ref_st[SM_HMAC_MD5_STATE_LEN];
    uint32_t oh[4], ih[4];
    size_t keylen, datalen, dlen;

    VEC_HEX_OR_FAIL(key, keylen, c, "key_hex");
    VEC_HEX_OR_FAIL(data, datalen, c, "data_hex");
    VEC_HEX_OR_FAIL(digest, dlen, c, "digest_hex");
    assert_int_equal(dlen, SM_MD5_LEN);
    if (vec_get(c, "key_len"))
        assert_int_equal(keylen, strtoul(vec_get(c, "key_len"), NULL, 10));
    if (vec_get(c, "data_len"))
        assert_int_equal(datalen, strtoul(vec_get(c, "data_len"), NULL, 10));

    memset(got, 0, sizeof(got));
    assert_int_equal(sm_hmac_md5(key, keylen, data, datalen, got), 0);
    assert_memory_equal(got, digest, SM_MD5_LEN);

    assert_int_equal(sm_hmac_md5_state(key, keylen, st), 0);
    ref_hmac_md5_state(key, keylen, ref_st, oh, ih);
    assert_memory_equal(st, ref_st, sizeof(st));
    memset(got, 0, sizeof(got));
    assert_int_equal(sm_hmac_md5_from_state(st, data, datalen, got), 0);
    assert_memory_equal(got, digest, SM_MD5_LEN);

    ref_hmac_md5(key, keylen, data, datalen, got);
    assert_memory_equal(got, digest, SM_MD5_LEN);

    if (vec_get(c, "digest96_hex")) {
        unsigned char *d96;
        size_t n96;
        VEC_HEX_OR_FAIL(d96, n96, c, "digest96_hex");
        assert_int_equal(n96, 12);
        assert_memory_equal(d96, digest, 12);
        free(d96);
    }
    free(key);
    free(data);
    free(digest);
}

/* ---- the Dovecot {CRAM-MD5} layout, checked independently ----------------- */

static const char rfc2195_secret[] = "tanstaaftanstaaf";
static const char rfc2195_challenge[] = "<1896.697170952@postoffice.reston.mci.net>";
static const char rfc2195_digest[] = "b913a602c7eda7a495b4e6e7334d3890";

static void test_dovecot_layout(void **state)
{
    unsigned char k[64] = {0}, blk[64], expect[32], st[32], got[16], want[16];
    uint32_t h[4];
    size_t i;

    (void)state;
    /* Spelled out: opad block first, then ipad, each A,B,C,D little-endian. */
    memcpy(k, rfc2195_secret, strlen(rfc2195_secret));
    for (i = 0; i < 64; i++)
        blk[i] = k[i] ^ 0x5c;
    memcpy(h, ref_IV, sizeof(h));
    ref_compress(h, blk);
    for (i = 0; i < 4; i++)
        put_le32(expect + 4 * i, h[i]);
    for (i = 0; i < 64; i++)
        blk[i] = k[i] ^ 0x36;
    memcpy(h, ref_IV, sizeof(h));
    ref_compress(h, blk);
    for (i = 0; i < 4; i++)
        put_le32(expect + 16 + 4 * i, h[i]);

    assert_int_equal(sm_hmac_md5_state(rfc2195_secret, strlen(rfc2195_secret), st), 0);
    if (memcmp(st, expect, 32) != 0) {
        char a[65], b[65];
        sm_hex_encode(st, 32, a);
        sm_hex_encode(expect, 32, b);
        a[64] = b[64] = '\0';
        fail_msg("key schedule %s, expected %s", a, b);
    }
    /* the opad half is not the ipad half (the order matters) */
    assert_memory_not_equal(st, st + 16, 16);

    hex_to_bytes(rfc2195_digest, want, 16);
    assert_int_equal(sm_hmac_md5_from_state(st, rfc2195_challenge, strlen(rfc2195_challenge), got), 0);
    assert_memory_equal(got, want, 16);
    /* and with the halves swapped the result is wrong */
    {
        unsigned char swapped[32];
        memcpy(swapped, st + 16, 16);
        memcpy(swapped + 16, st, 16);
        assert_int_equal(sm_hmac_md5_from_state(swapped, rfc2195_challenge,
                                                strlen(rfc2195_challenge), got), 0);
        assert_memory_not_equal(got, want, 16);
    }
    /* the plain HMAC agrees */
    assert_int_equal(sm_hmac_md5(rfc2195_secret, strlen(rfc2195_secret), rfc2195_challenge,
                                 strlen(rfc2195_challenge), got), 0);
    assert_memory_equal(got, want, 16);
}

/* A key schedule that Dovecot itself wrote: `doveadm pw -p password` prints
 * {CRAM-MD5}9186d855...2740 (quoted with its password in the test suites of
 * postfix_admin tools). */
static void test_dovecot_known_value(void **state)
{
    static const char hex[] =
        "9186d855e11eba527a7a52ca82b313e180d62234f0acc9051b527243d41e2740";
    unsigned char want[32], st[32], ref[32];
    uint32_t oh[4], ih[4];

    (void)state;
    hex_to_bytes(hex, want, 32);
    ref_hmac_md5_state("password", 8, ref, oh, ih);
    assert_memory_equal(ref, want, 32);
    assert_int_equal(sm_hmac_md5_state("password", 8, st), 0);
    assert_memory_equal(st, want, 32);
}

/* Both HMAC paths against the reference over key and data lengths around
 * the block boundaries (keys of 0, 63, 64, 65 ... bytes; data that puts the
 * MD5 length field in the same or the next block). */
static void test_hmac_paths_agree(void **state)
{
    static const size_t keylens[] = {0, 1, 16, 55, 56, 63, 64, 65, 80, 128, 200};
    static const size_t datalens[] = {0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000};
    unsigned char key[200], data[1000], a[16], b[16], c[16], st[32];
    size_t i, j;

    (void)state;
    for (i = 0; i < sizeof(key); i++)
        key[i] = (unsigned char)(i * 7 + 3);
    for (i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i * 13 + 1);
    for (i = 0; i < sizeof(keylens) / sizeof(keylens[0]); i++) {
        assert_int_equal(sm_hmac_md5_state(key, keylens[i], st), 0);
        for (j = 0; j < sizeof(datalens) / sizeof(datalens[0]); j++) {
            assert_int_equal(sm_hmac_md5(key, keylens[i], data, datalens[j], a), 0);
            assert_int_equal(sm_hmac_md5_from_state(st, data, datalens[j], b), 0);
            ref_hmac_md5(key, keylens[i], data, datalens[j], c);
            if (memcmp(a, c, 16) || memcmp(b, c, 16))
                fail_msg("key length %zu, data length %zu: hmac %s, from_state %s",
                         keylens[i], datalens[j], memcmp(a, c, 16) ? "wrong" : "ok",
                         memcmp(b, c, 16) ? "wrong" : "ok");
        }
    }
}

/* ---- sm_digest ----------------------------------------------------------- */

static void test_digest_md5(void **state)
{
    unsigned char out[64], want[16];
    size_t i, outlen;

    (void)state;
    for (i = 0; i < N_RFC1321; i++) {
        outlen = 0;
        hex_to_bytes(rfc1321[i].md5, want, 16);
        assert_int_equal(sm_digest("MD5", rfc1321[i].in, strlen(rfc1321[i].in), out,
                                   sizeof(out), &outlen), 0);
        assert_int_equal(outlen, 16);
        assert_memory_equal(out, want, 16);
    }
    /* exactly 16 bytes of room is enough */
    assert_int_equal(sm_digest("MD5", "abc", 3, out, 16, &outlen), 0);
    assert_int_equal(outlen, 16);
}

static void test_digest_sha256(void **state)
{
    unsigned char out[32], want[32];
    size_t outlen = 0;

    (void)state;
    hex_to_bytes("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", want, 32);
    assert_int_equal(sm_digest("SHA256", "abc", 3, out, sizeof(out), &outlen), 0);
    assert_int_equal(outlen, 32);
    assert_memory_equal(out, want, 32);
}

static void test_digest_failures(void **state)
{
    unsigned char out[64], before[64];
    size_t outlen = 777;

    (void)state;
    memset(out, 0xa5, sizeof(out));
    memcpy(before, out, sizeof(out));
    assert_int_equal(sm_digest("NO-SUCH-DIGEST", "abc", 3, out, sizeof(out), &outlen), -1);
    assert_int_equal(sm_digest("", "abc", 3, out, sizeof(out), &outlen), -1);
    assert_int_equal(sm_digest("MD5", "abc", 3, out, 15, &outlen), -1);
    assert_int_equal(sm_digest("MD5", "abc", 3, out, 0, &outlen), -1);
    assert_int_equal(sm_digest("SHA256", "abc", 3, out, 31, &outlen), -1);
    /* never partial output */
    assert_memory_equal(out, before, sizeof(out));
    assert_int_equal(outlen, 777);
}

/* ---- sm_random ----------------------------------------------------------- */

static void test_random(void **state)
{
    unsigned char a[64], b[64], zero[64] = {0};
    size_t i;

    (void)state;
    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    assert_int_equal(sm_random(a, sizeof(a)), 0);
    assert_int_equal(sm_random(b, sizeof(b)), 0);
    assert_memory_not_equal(a, zero, sizeof(a));
    assert_memory_not_equal(b, zero, sizeof(b));
    assert_memory_not_equal(a, b, sizeof(a));
    /* the whole buffer is filled: no 16-byte run left at the initial value */
    memset(a, 0x5a, sizeof(a));
    assert_int_equal(sm_random(a, sizeof(a)), 0);
    for (i = 0; i + 16 <= sizeof(a); i += 16) {
        unsigned char pat[16];
        memset(pat, 0x5a, sizeof(pat));
        assert_memory_not_equal(a + i, pat, 16);
    }
    assert_int_equal(sm_random(a, 0), 0);
    assert_int_equal(sm_random(a, 1), 0);
}

/* ---- secret.c ------------------------------------------------------------ */

static void test_ct_equal(void **state)
{
    unsigned char a[32], b[32];

    (void)state;
    memset(a, 0x11, sizeof(a));
    memcpy(b, a, sizeof(b));
    assert_int_equal(sm_ct_equal(a, b, sizeof(a)), 1);
    assert_int_equal(sm_ct_equal(a, b, 0), 1);
    b[0] ^= 1;
    assert_int_equal(sm_ct_equal(a, b, sizeof(a)), 0);
    assert_int_equal(sm_ct_equal(a + 1, b + 1, sizeof(a) - 1), 1);
    b[0] = a[0];
    b[31] ^= 0x80;
    assert_int_equal(sm_ct_equal(a, b, sizeof(a)), 0);
    assert_int_equal(sm_ct_equal(a, b, 31), 1);
    assert_int_equal(sm_ct_equal("abc", "abd", 3), 0);
    /* exactly 0 or 1, not just zero / non-zero */
    assert_int_equal(sm_ct_equal("\xff", "\x00", 1), 0);
}

static void test_erase(void **state)
{
    unsigned char buf[40], zero[40] = {0};

    (void)state;
    memset(buf, 0xcc, sizeof(buf));
    sm_erase(buf + 4, 32);
    assert_memory_equal(buf + 4, zero, 32);
    assert_int_equal(buf[3], 0xcc);
    assert_int_equal(buf[36], 0xcc);
    sm_erase(buf, 0); /* nothing */
    assert_int_equal(buf[0], 0xcc);
    sm_erase(NULL, 16); /* tolerated */
    sm_erase(NULL, 0);
}

/* ---- hex.c --------------------------------------------------------------- */

static void test_hex(void **state)
{
    unsigned char all[256], back[256];
    char hex[513];
    size_t i;

    (void)state;
    for (i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    memset(hex, '#', sizeof(hex));
    sm_hex_encode(all, 256, hex);
    assert_int_equal(hex[512], '#'); /* no NUL written */
    assert_memory_equal(hex, "000102", 6);
    assert_memory_equal(hex + 2 * 0x9f, "9fa0a1", 6);
    assert_memory_equal(hex + 510, "ff", 2);
    for (i = 0; i < 512; i++)
        assert_true((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f'));
    assert_int_equal(sm_hex_decode_lower(hex, 256, back), 0);
    assert_memory_equal(back, all, 256);

    sm_hex_encode("\xde\xad\xbe\xef", 4, hex);
    assert_memory_equal(hex, "deadbeef", 8);
    assert_int_equal(sm_hex_decode_lower("", 0, back), 0);
    assert_int_equal(sm_hex_decode_lower("00ff", 2, back), 0);
    assert_int_equal(back[0], 0);
    assert_int_equal(back[1], 0xff);
}

static void test_hex_rejects(void **state)
{
    static const char *const bad[] = {
        "DEADBEEF", "deadbeeF", "Deadbeef", "0A", "A0", "0g", "g0", " 0", "0 ",
        "0x", "-1", "+1", "\n0", "::", "/0", "@0", "`0", "G0", "0G",
    };
    unsigned char out[8];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (sm_hex_decode_lower(bad[i], strlen(bad[i]) / 2, out) != -1)
            fail_msg("\"%s\" accepted", bad[i]);
    assert_int_equal(sm_hex_decode_lower("0\0", 1, out), -1);
    /* every byte value outside [0-9a-f] in either nibble */
    for (i = 0; i < 256; i++) {
        char in[2] = {'a', (char)i};
        int ok = (i >= '0' && i <= '9') || (i >= 'a' && i <= 'f');
        assert_int_equal(sm_hex_decode_lower(in, 1, out), ok ? 0 : -1);
        in[0] = (char)i;
        in[1] = '0';
        assert_int_equal(sm_hex_decode_lower(in, 1, out), ok ? 0 : -1);
    }
}

/* ---- main: fixed tests plus one per vector -------------------------------- */

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_reference_md5),
        cmocka_unit_test(test_dovecot_layout),
        cmocka_unit_test(test_dovecot_known_value),
        cmocka_unit_test(test_hmac_paths_agree),
        cmocka_unit_test(test_digest_md5),
        cmocka_unit_test(test_digest_sha256),
        cmocka_unit_test(test_digest_failures),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_ct_equal),
        cmocka_unit_test(test_erase),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_hex_rejects),
    };
    return vec_run_group("crypto", "hmac-md5.txt", "hmac-md5.txt loads with RFC 2202 cases 1 to 7",
                         test_vector_file, test_vector_case, " (hmac, state, reference)", fixed, sizeof(fixed) / sizeof(fixed[0]));
}
