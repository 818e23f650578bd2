/* Unit tests of common/base64.c: RFC 4648 vectors (tests/vectors/base64.txt)
 * both ways, base64url, and every rejection the strict decoder promises. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <sasl-mechs/base64.h>
#include "vectors.h"

#define STD SM_B64_STD
#define URL SM_B64_URL

/* ---- helpers ------------------------------------------------------------ */

/* Decode NUL-terminated s; return the status, leave the bytes in out. */
static int dec(enum sm_b64_alphabet a, const char *s, unsigned char *out, size_t outmax,
               size_t *outlen)
{
    return sm_b64_decode(a, s, strlen(s), out, outmax, outlen);
}

static void check_encode(enum sm_b64_alphabet a, const void *in, size_t n, const char *expect)
{
    char out[64];
    size_t outlen = 12345;

    assert_int_equal(sm_b64_encode(a, in, n, out, sizeof(out), &outlen), 0);
    assert_int_equal(outlen, strlen(expect));
    assert_int_equal(sm_b64_encoded_len(a, n), strlen(expect));
    out[sizeof(out) - 1] = '\0';
    assert_string_equal(out, expect); /* also checks the terminating NUL */
}

static void check_decode(enum sm_b64_alphabet a, const char *in, const void *expect, size_t n)
{
    unsigned char out[64];
    size_t outlen = 12345;

    assert_int_equal(dec(a, in, out, sizeof(out), &outlen), 0);
    assert_int_equal(outlen, n);
    if (n)
        assert_memory_equal(out, expect, n);
}

/* ---- the RFC 4648 vectors, one cmocka test per case ---------------------- */

static void test_vector_file(void **state)
{
    const struct vec_file *f = *state;
    static const char *const section10[] = {
        "rfc4648-10-empty", "rfc4648-10-f", "rfc4648-10-fo", "rfc4648-10-foo",
        "rfc4648-10-foob", "rfc4648-10-fooba", "rfc4648-10-foobar",
    };
    size_t i;

    if (!f)
        fail_msg("test vectors unavailable: %s", vec_error());
    for (i = 0; i < sizeof(section10) / sizeof(section10[0]); i++)
        if (!vec_find(f, section10[i]))
            fail_msg("%s: case %s missing", f->path, section10[i]);
}

/* state: the vec_case */
static void test_vector_case(void **state)
{
    const struct vec_case *c = *state;
    const char *b64;
    unsigned char *bytes, out[256];
    char enc[256];
    size_t n, outlen = 0;

    VEC_GET_OR_FAIL(b64, c, "base64");
    VEC_HEX_OR_FAIL(bytes, n, c, "input_hex");
    if (vec_get(c, "input_len"))
        assert_int_equal(n, strtoul(vec_get(c, "input_len"), NULL, 10));
    assert_true(n < 100);

    /* encode: exactly the published text, NUL-terminated */
    assert_int_equal(sm_b64_encode(STD, bytes, n, enc, sizeof(enc), &outlen), 0);
    assert_int_equal(outlen, strlen(b64));
    assert_string_equal(enc, b64);
    assert_int_equal(sm_b64_encoded_len(STD, n), strlen(b64));

    /* decode: exactly the bytes */
    outlen = 12345;
    assert_int_equal(sm_b64_decode(STD, b64, strlen(b64), out, sizeof(out), &outlen), 0);
    assert_int_equal(outlen, n);
    if (n)
        assert_memory_equal(out, bytes, n);
    assert_true(sm_b64_decoded_max(strlen(b64)) >= n);

    /* the same bytes as base64url: the text without padding */
    {
        size_t unpadded = strlen(b64);
        char url[256];
        while (unpadded && b64[unpadded - 1] == '=')
            unpadded--;
        memcpy(url, b64, unpadded);
        url[unpadded] = '\0';
        /* these vectors use neither '+' nor '/' except FPucA9l+ */
        for (size_t i = 0; i < unpadded; i++) {
            if (url[i] == '+') url[i] = '-';
            if (url[i] == '/') url[i] = '_';
        }
        check_encode(URL, bytes, n, url);
        check_decode(URL, url, bytes, n);
    }
    free(bytes);
}

/* ---- lengths ------------------------------------------------------------ */

static void test_lengths(void **state)
{
    static const struct {
        size_t n, std, url;
    } t[] = {
        {0, 0, 0}, {1, 4, 2}, {2, 4, 3}, {3, 4, 4}, {4, 8, 6}, {5, 8, 7},
        {6, 8, 8}, {7, 12, 10}, {300, 400, 400}, {301, 404, 402}, {302, 404, 403},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        assert_int_equal(sm_b64_encoded_len(STD, t[i].n), t[i].std);
        assert_int_equal(sm_b64_encoded_len(URL, t[i].n), t[i].url);
    }
    /* decoded_max: an upper bound, exact for whole quanta */
    assert_int_equal(sm_b64_decoded_max(0), 0);
    assert_int_equal(sm_b64_decoded_max(4), 3);
    assert_int_equal(sm_b64_decoded_max(8), 6);
    assert_true(sm_b64_decoded_max(2) >= 1);
    assert_true(sm_b64_decoded_max(3) >= 2);
    assert_true(sm_b64_decoded_max(6) >= 4);
    assert_true(sm_b64_decoded_max(7) >= 5);
    for (i = 0; i < 1000; i++) {
        assert_true(sm_b64_decoded_max(sm_b64_encoded_len(STD, i)) >= i);
        assert_true(sm_b64_decoded_max(sm_b64_encoded_len(URL, i)) >= i);
        assert_true(sm_b64_decoded_max(sm_b64_encoded_len(URL, i)) <= i + 2);
    }
}

/* ---- base64url known values --------------------------------------------- */

static void test_url_known(void **state)
{
    static const unsigned char fbff[] = {0xfb, 0xff};
    static const unsigned char fbefbe[] = {0xfb, 0xef, 0xbe};
    static const unsigned char ff[] = {0xff};

    (void)state;
    check_encode(URL, fbff, 2, "-_8");
    check_decode(URL, "-_8", fbff, 2);
    check_encode(STD, fbff, 2, "+/8=");
    check_decode(STD, "+/8=", fbff, 2);
    check_encode(URL, fbefbe, 3, "----");
    check_encode(STD, fbefbe, 3, "++++");
    check_decode(URL, "----", fbefbe, 3);
    check_encode(URL, ff, 1, "_w");
    check_decode(URL, "_w", ff, 1);
    check_encode(URL, "", 0, "");
    check_decode(URL, "", "", 0);
    check_encode(URL, "f", 1, "Zg");
    check_encode(URL, "fo", 2, "Zm8");
    check_encode(URL, "foobar", 6, "Zm9vYmFy");
    check_decode(URL, "Zm9vYg", "foob", 4);
    check_decode(URL, "Zm9vYmE", "fooba", 5);
}

/* ---- strict rejections: one table ----------------------------------------- */

struct reject {
    enum sm_b64_alphabet alpha;
    const char *in;
    size_t len; /* 0: strlen(in) */
    const char *why;
};

static const struct reject rejects[] = {
    /* standard alphabet */
    {STD, "Zg=", 0, "length not a multiple of 4"},
    {STD, "Zg", 0, "missing padding"},
    {STD, "Zm8", 0, "missing padding"},
    {STD, "Zm9vY", 0, "length 5"},
    {STD, "Zg===", 0, "three pad characters, length 5"},
    {STD, "Z===", 0, "three pad characters"},
    {STD, "====", 0, "padding only"},
    {STD, "A===", 0, "one sextet and padding"},
    {STD, "Zm9vYmFy====", 0, "a whole quantum of padding"},
    {STD, "Zg=A", 0, "'=' then data"},
    {STD, "Z=g=", 0, "'=' in the middle of a quantum"},
    {STD, "Zg==Zg==", 0, "padding in the middle"},
    {STD, "Zm8=Zm8=", 0, "padding in the middle"},
    {STD, "=Zm8", 0, "'=' first"},
    {STD, "Zh==", 0, "non-zero pad bits (4 bits)"},
    {STD, "Zm9=", 0, "non-zero pad bits (2 bits)"},
    {STD, "Zm+=", 0, "non-zero pad bits (2 bits)"},
    {STD, "Zm9 ", 0, "space"},
    {STD, "Zm 9v", 0, "space"},
    {STD, "Zm9v\n", 0, "trailing newline"},
    {STD, "Zm9v\r\nZg==", 0, "CRLF"},
    {STD, "Zm\n8", 0, "newline inside a quantum"},
    {STD, "\tZm8", 0, "tab"},
    {STD, "Zm-_", 0, "url characters in std"},
    {STD, "Zm.v", 0, "'.'"},
    {STD, "Zm9\x80", 0, "high byte"},
    {STD, "Zm9\xff", 0, "0xff byte"},
    {STD, "Zm9v\0\0\0\0", 8, "NUL bytes"},
    {STD, "Zm\0v", 4, "NUL in a quantum"},
    /* base64url */
    {URL, "Z", 0, "length % 4 == 1"},
    {URL, "Zm9vY", 0, "length % 4 == 1"},
    {URL, "Zg==", 0, "padding in url mode"},
    {URL, "Zm8=", 0, "padding in url mode"},
    {URL, "Zg=", 0, "padding in url mode"},
    {URL, "Zh", 0, "non-zero pad bits (4 bits)"},
    {URL, "Zm9", 0, "non-zero pad bits (2 bits)"},
    {URL, "Zm+/", 0, "std characters in url"},
    {URL, "+/8", 0, "std characters in url"},
    {URL, "Zm 9", 0, "space"},
    {URL, "Zm9v\n", 0, "newline"},
    {URL, "Zm\0v", 4, "NUL"},
};

static void test_rejects(void **state)
{
    unsigned char out[64];
    size_t i, outlen;

    (void)state;
    for (i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
        const struct reject *r = &rejects[i];
        size_t len = r->len ? r->len : strlen(r->in);
        int rc = sm_b64_decode(r->alpha, r->in, len, out, sizeof(out), &outlen);
        if (rc != -1)
            fail_msg("row %zu (%s, \"%s\": %s) was accepted", i,
                     r->alpha == STD ? "std" : "url", r->in, r->why);
    }
}

/* The accepted forms in the table's neighbourhood still pass. */
static void test_accepts(void **state)
{
    (void)state;
    check_decode(STD, "Zg==", "f", 1);
    check_decode(STD, "Zm8=", "fo", 2);
    check_decode(STD, "", "", 0);
    check_decode(URL, "Zg", "f", 1);
    check_decode(URL, "Zm8", "fo", 2);
    check_decode(URL, "Zm9v", "foo", 3);
}

/* Each byte string has exactly one accepted encoding: over every final
 * quantum of 2 and 3 characters, exactly the ones with zero pad bits are
 * accepted, and they encode back to themselves. */
static void test_canonical_exhaustive(void **state)
{
    static const char std_abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const char url_abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned a, b, c, accepted2 = 0, accepted3 = 0;
    int alpha;

    (void)state;
    for (alpha = 0; alpha < 2; alpha++) {
        enum sm_b64_alphabet al = alpha ? URL : STD;
        const char *abc = alpha ? url_abc : std_abc;
        for (a = 0; a < 64; a++)
            for (b = 0; b < 64; b++) {
                char in[5] = {abc[a], abc[b], '=', '=', 0}, re[8];
                unsigned char out[4];
                size_t outlen = 0, relen = 0;
                int rc = sm_b64_decode(al, in, al == STD ? 4 : 2, out, sizeof(out), &outlen);
                assert_int_equal(rc == 0, (b & 15) == 0);
                if (rc == 0) {
                    accepted2++;
                    assert_int_equal(outlen, 1);
                    assert_int_equal(sm_b64_encode(al, out, 1, re, sizeof(re), &relen), 0);
                    assert_int_equal(relen, al == STD ? 4 : 2);
                    assert_memory_equal(re, in, relen);
                }
                for (c = 0; c < 64; c++) {
                    char in3[5] = {abc[a], abc[b], abc[c], '=', 0};
                    rc = sm_b64_decode(al, in3, al == STD ? 4 : 3, out, sizeof(out), &outlen);
                    assert_int_equal(rc == 0, (c & 3) == 0);
                    if (rc == 0) {
                        accepted3++;
                        assert_int_equal(outlen, 2);
                        assert_int_equal(sm_b64_encode(al, out, 2, re, sizeof(re), &relen), 0);
                        assert_memory_equal(re, in3, relen);
                    }
                }
            }
    }
    assert_int_equal(accepted2, 2 * 256);
    assert_int_equal(accepted3, 2 * 65536);
}

/* ---- output buffers ----------------------------------------------------- */

static void test_encode_small_buffer(void **state)
{
    char out[16];
    size_t outlen;

    (void)state;
    memset(out, 'x', sizeof(out));
    assert_int_equal(sm_b64_encode(STD, "foobar", 6, out, 7, &outlen), -1);
    assert_int_equal(sm_b64_encode(STD, "f", 1, out, 3, &outlen), -1);
    assert_int_equal(sm_b64_encode(URL, "f", 1, out, 1, &outlen), -1);
    assert_int_equal(sm_b64_encode(URL, "foob", 4, out, 5, &outlen), -1);
    assert_int_equal(sm_b64_encode(STD, "f", 1, NULL, 0, &outlen), -1);

    /* exactly the encoded length: success, no room for (and no) NUL */
    memset(out, 'x', sizeof(out));
    assert_int_equal(sm_b64_encode(STD, "foobar", 6, out, 8, &outlen), 0);
    assert_int_equal(outlen, 8);
    assert_memory_equal(out, "Zm9vYmFy", 8);
    assert_int_equal(out[8], 'x');
    memset(out, 'x', sizeof(out));
    assert_int_equal(sm_b64_encode(URL, "fo", 2, out, 3, &outlen), 0);
    assert_int_equal(outlen, 3);
    assert_memory_equal(out, "Zm8", 3);
    assert_int_equal(out[3], 'x');
    /* one more: NUL-terminated */
    assert_int_equal(sm_b64_encode(URL, "fo", 2, out, 4, &outlen), 0);
    assert_int_equal(out[3], '\0');
    /* empty input into an empty buffer */
    assert_int_equal(sm_b64_encode(STD, "", 0, out, 0, &outlen), 0);
    assert_int_equal(outlen, 0);
}

static void test_decode_small_buffer(void **state)
{
    unsigned char out[16];
    size_t outlen;

    (void)state;
    assert_int_equal(dec(STD, "Zm9vYmFy", out, 5, &outlen), -1);
    assert_int_equal(dec(STD, "Zm9vYmE=", out, 4, &outlen), -1);
    assert_int_equal(dec(STD, "Zm9vYg==", out, 3, &outlen), -1);
    assert_int_equal(dec(STD, "Zg==", out, 0, &outlen), -1);
    assert_int_equal(dec(URL, "Zm9vYg", out, 3, &outlen), -1);
    assert_int_equal(dec(URL, "Zm9vYmE", out, 4, &outlen), -1);
    /* exact sizes are enough */
    memset(out, 'x', sizeof(out));
    assert_int_equal(dec(STD, "Zm9vYmFy", out, 6, &outlen), 0);
    assert_int_equal(outlen, 6);
    assert_memory_equal(out, "foobar", 6);
    assert_int_equal(out[6], 'x'); /* nothing written past the bytes */
    assert_int_equal(dec(STD, "Zm9vYg==", out, 4, &outlen), 0);
    assert_int_equal(outlen, 4);
    assert_int_equal(dec(URL, "Zm9vYmE", out, 5, &outlen), 0);
    assert_int_equal(outlen, 5);
    assert_int_equal(dec(STD, "", NULL, 0, &outlen), 0);
    assert_int_equal(outlen, 0);
}

/* ---- round trip over all lengths 0..300 ----------------------------------- */

static uint32_t rng = 0x12345678u;

static unsigned char next_byte(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return (unsigned char)(rng >> 24);
}

static void test_round_trip(void **state)
{
    unsigned char in[301], out[301];
    char enc[420];
    size_t n, i, enclen, outlen;
    int alpha;

    (void)state;
    for (n = 0; n <= 300; n++) {
        for (i = 0; i < n; i++)
            in[i] = next_byte();
        for (alpha = 0; alpha < 2; alpha++) {
            enum sm_b64_alphabet al = alpha ? URL : STD;
            size_t need = sm_b64_encoded_len(al, n);

            assert_true(need < sizeof(enc));
            /* exact buffer, then decode into an exact buffer */
            assert_int_equal(sm_b64_encode(al, in, n, enc, need, &enclen), 0);
            assert_int_equal(enclen, need);
            for (i = 0; i < enclen; i++) {
                char ch = enc[i];
                int ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')
                         || (ch >= '0' && ch <= '9')
                         || (al == STD ? (ch == '+' || ch == '/' || ch == '=')
                                       : (ch == '-' || ch == '_'));
                if (!ok)
                    fail_msg("length %zu: character 0x%02x in the %s encoding", n,
                             (unsigned char)ch, al == STD ? "std" : "url");
            }
            assert_true(sm_b64_decoded_max(enclen) >= n);
            outlen = 99999;
            assert_int_equal(sm_b64_decode(al, enc, enclen, out, n, &outlen), 0);
            assert_int_equal(outlen, n);
            if (n) {
                assert_memory_equal(out, in, n);
                /* one byte less of room fails */
                assert_int_equal(sm_b64_decode(al, enc, enclen, out, n - 1, &outlen), -1);
                /* the other alphabet rejects or at least never misreads it */
                if (al == URL && enclen % 4 != 0)
                    assert_int_equal(sm_b64_decode(STD, enc, enclen, out, sizeof(out), &outlen), -1);
            }
        }
    }
}

/* ---- the vector-file reader itself ---------------------------------------- */

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
}

static void test_vectors_reader(void **state)
{
    char dir[] = "/tmp/sm-vectors-XXXXXX", path[64];
    const char *saved = getenv("SM_VECTORS_DIR");
    char *saved_copy = saved ? strdup(saved) : NULL;
    struct vec_file *f;
    const struct vec_case *c;
    unsigned char *b;
    size_t n;

    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(setenv("SM_VECTORS_DIR", dir, 1), 0);

    snprintf(path, sizeof(path), "%s/good.txt", dir);
    write_file(path,
               "Source: a header line: with colons\n"
               "free text in the header\n"
               "\n"
               "# a comment\n"
               "case: one\r\n"
               "empty:\n"
               "text: a: b: c\n"
               "bytes_hex: 00ff7F\n"
               "none_hex:\n"
               "status: verified\n"
               "\n"
               "\n"
               "case: two\n"
               "# a comment inside a case\n"
               "odd_hex: abc\n"
               "bad_hex: zz\n");
    f = vec_load("good.txt");
    if (!f)
        fail_msg("%s", vec_error());
    assert_int_equal(f->ncases, 2);
    c = vec_find(f, "one");
    assert_non_null(c);
    assert_string_equal(vec_get(c, "empty"), "");
    assert_string_equal(vec_get(c, "text"), "a: b: c");
    assert_string_equal(vec_get(c, "status"), "verified");
    assert_null(vec_get(c, "Source"));
    assert_null(vec_get(c, "missing"));
    b = vec_get_hex(c, "bytes_hex", &n);
    assert_non_null(b);
    assert_int_equal(n, 3);
    assert_memory_equal(b, "\x00\xff\x7f", 3);
    free(b);
    b = vec_get_hex(c, "none_hex", &n);
    assert_non_null(b);
    assert_int_equal(n, 0);
    free(b);
    assert_null(vec_get_hex(c, "missing_hex", &n));
    c = vec_find(f, "two");
    assert_non_null(c);
    assert_int_equal(c->nfields, 2);
    assert_null(vec_get_hex(c, "odd_hex", &n));
    assert_null(vec_get_hex(c, "bad_hex", &n));
    assert_null(vec_find(f, "three"));
    vec_free(f);

    /* malformed files are refused, with the reason */
    snprintf(path, sizeof(path), "%s/bad.txt", dir);
    write_file(path, "Source: x\n\ncase: one\nthis line has no separator\n");
    assert_null(vec_load("bad.txt"));
    assert_non_null(strstr(vec_error(), "bad.txt:4"));
    write_file(path, "Source: x\n\ncase:\nkey: v\n");
    assert_null(vec_load("bad.txt"));
    write_file(path, "Source: only a header\n");
    assert_null(vec_load("bad.txt"));
    assert_non_null(strstr(vec_error(), "no test cases"));
    assert_null(vec_load("does-not-exist.txt"));
    assert_non_null(strstr(vec_error(), "does-not-exist.txt"));

    remove(path);
    snprintf(path, sizeof(path), "%s/good.txt", dir);
    remove(path);
    rmdir(dir);
    if (saved_copy) {
        setenv("SM_VECTORS_DIR", saved_copy, 1);
        free(saved_copy);
    } else {
        unsetenv("SM_VECTORS_DIR");
    }
}

/* ---- main: fixed tests plus one per vector -------------------------------- */

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_url_known),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_accepts),
        cmocka_unit_test(test_canonical_exhaustive),
        cmocka_unit_test(test_encode_small_buffer),
        cmocka_unit_test(test_decode_small_buffer),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_vectors_reader),
    };
    return vec_run_group("base64", "base64.txt",
                         "base64.txt loads with the RFC 4648 section 10 cases",
                         test_vector_file, test_vector_case, "", fixed, sizeof(fixed) / sizeof(fixed[0]));
}
