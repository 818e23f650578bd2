/* Unit tests of plugins/ntlm/ntlm_codec.c against MS-NLMP (2.2 message
 * layouts, 4.2 messages from tests/vectors/ntlm.txt):
 *   - the 4.2.2.3, 4.2.3.3 and 4.2.4.3 CHALLENGE and AUTHENTICATE messages
 *     parsed field by field and rebuilt byte for byte;
 *   - the 4.2.4 target information (parsed; built with ntlm_av_put/_end) and
 *     the 4.2.4.2.2 NTLMv2 response;
 *   - one table of malformed input (Dovecot style: input, parser, the
 *     statuses MS-NLMP and ntlm_codec.h allow), including every truncation
 *     of every vector message;
 *   - UTF-8 / UTF-16LE conversions (all of Unicode, surrogate pairs, every
 *     kind of malformed UTF-8 and UTF-16) and the NTOWFv2 upper-casing.
 * Each input the parsers see is alone in a heap block of exactly its
 * length, so an over-read shows under valgrind. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sasl-mechs/hex.h>
#include "ntlm_codec.h"
#include "vectors.h"

#define NSTATUS (NTLM_ERR_NO_SPACE + 1)
#define S(x) (1u << (x))
#define ANY_ERR (((1u << NSTATUS) - 1) & ~S(NTLM_OK))
#define BAD ((size_t)-1)

/* The VERSION blocks of MS-NLMP 4.2's messages (inputs, not computed):
 * CHALLENGE 6.0.6000 rev 15, AUTHENTICATE 5.1.2600 rev 15. */
static const unsigned char version_challenge[8] = {0x06, 0x00, 0x70, 0x17, 0, 0, 0, 0x0f};
static const unsigned char version_authenticate[8] = {0x05, 0x01, 0x28, 0x0a, 0, 0, 0, 0x0f};

/* Field offsets of the fixed headers (MS-NLMP 2.2.1.1-2.2.1.3). */
enum {
    NEG_FLAGS = 12, NEG_DOMAIN = 16, NEG_WS = 24,
    CH_TARGET_NAME = 12, CH_FLAGS = 20, CH_CHALLENGE = 24, CH_TARGET_INFO = 40,
    AU_LM = 12, AU_NT = 20, AU_DOMAIN = 28, AU_USER = 36, AU_WS = 44, AU_KEY = 52, AU_FLAGS = 60,
};
/* a security buffer at `at`: Len at +0, MaxLen at +2, Offset at +4 */
#define LEN(at) (at)
#define MAXLEN(at) ((at) + 2)
#define OFF(at) ((at) + 4)

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put16(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
    put16(p, v);
    put16(p + 2, v >> 16);
}

static size_t unhex(const char *hex, unsigned char *out, size_t cap)
{
    size_t n = strlen(hex) / 2;

    if (strlen(hex) % 2 || n > cap || sm_hex_decode_lower(hex, n, out) != 0)
        fail_msg("bad hex constant \"%s\"", hex);
    return n;
}

static void assert_bytes(const unsigned char *got, size_t glen, const unsigned char *want,
                         size_t wlen, const char *what)
{
    if (glen != wlen || memcmp(got, want, wlen) != 0) {
        char g[2 * 300 + 1], w[2 * 300 + 1];
        size_t gm = glen > 300 ? 300 : glen, wm = wlen > 300 ? 300 : wlen, i;
        sm_hex_encode(got, gm, g);
        sm_hex_encode(want, wm, w);
        g[2 * gm] = w[2 * wm] = '\0';
        for (i = 0; i < glen && i < wlen && got[i] == want[i]; i++)
            ;
        fail_msg("%s: %zu bytes, expected %zu; first difference at byte %zu\n got  %s\n want %s",
                 what, glen, wlen, i, g, w);
    }
}

/* A vector's bytes; the caller frees. */
static unsigned char *vec_bytes(const char *casename, const char *key, size_t *len)
{
    static struct vec_file *vf;
    const struct vec_case *c;
    unsigned char *v;

    if (!vf)
        VEC_LOAD_OR_FAIL(vf, "ntlm.txt"); /* kept for the life of the process */
    if (!(c = vec_find(vf, casename)))
        fail_msg("%s: case %s missing", vf->path, casename);
    VEC_HEX_OR_FAIL(v, *len, c, key);
    return v;
}

static uint32_t vec_flags(const char *casename)
{
    struct vec_file *vf;
    const struct vec_case *c;
    const char *v;
    uint32_t x;

    VEC_LOAD_OR_FAIL(vf, "ntlm.txt");
    if (!(c = vec_find(vf, casename)))
        fail_msg("case %s missing", casename);
    VEC_GET_OR_FAIL(v, c, "flags_hex32");
    x = (uint32_t)strtoul(v, NULL, 16);
    vec_free(vf);
    return x;
}

static size_t u16(const char *utf8, unsigned char *out, size_t cap)
{
    size_t n = ntlm_utf8_to_utf16le(utf8, strlen(utf8), out, cap);
    if (n == BAD)
        fail_msg("ntlm_utf8_to_utf16le(\"%s\") failed", utf8);
    return n;
}

/* b lies inside [msg, msg + len) at `off`, with the expected contents. */
static void assert_field(const struct ntlm_buf *b, const unsigned char *msg, size_t off,
                         const unsigned char *want, size_t wlen, const char *what)
{
    assert_bytes(b->p, b->len, want, wlen, what);
    if (wlen && b->p != msg + off)
        fail_msg("%s: points at byte %td of the message, expected %zu", what, b->p - msg, off);
}

/* ---- CHALLENGE: 4.2.2.3, 4.2.3.3, 4.2.4.3 ---------------------------------- */

static void check_challenge(const char *casename, int with_ti)
{
    unsigned char *msg, *m, *ti = NULL, server[16], sc[8] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
                                                              0xcd, 0xef};
    unsigned char out[256];
    size_t len, tlen = 0, slen, n, cap;
    struct ntlm_challenge ch;
    struct ntlm_challenge_fields f;
    uint32_t flags = vec_flags(casename);

    msg = vec_bytes(casename, "message_hex", &len);
    m = malloc(len);
    assert_non_null(m);
    memcpy(m, msg, len);
    slen = u16("Server", server, sizeof(server));
    if (with_ti)
        ti = vec_bytes("4.2.4-server-target-info-av-pairs", "target_info_hex", &tlen);

    memset(&ch, 0xa5, sizeof(ch));
    assert_int_equal(ntlm_parse_challenge(m, len, &ch), NTLM_OK);
    assert_int_equal(ch.flags, flags);
    assert_memory_equal(ch.server_challenge, sc, 8);
    assert_field(&ch.target_name, m, NTLM_CHALLENGE_HEADER + NTLM_VERSION_LEN, server, slen,
                 "TargetName");
    if (with_ti) {
        assert_field(&ch.target_info, m, NTLM_CHALLENGE_HEADER + NTLM_VERSION_LEN + slen, ti,
                     tlen, "TargetInfo");
        assert_int_not_equal(flags & NTLM_NEGOTIATE_TARGET_INFO, 0);
    } else {
        assert_int_equal(ch.target_info.len, 0);
    }

    /* rebuilt byte for byte */
    f = (struct ntlm_challenge_fields){
        .flags = flags,
        .server_challenge = sc,
        .target_name = {server, slen},
        .target_info = {ti, tlen},
        .version = version_challenge,
    };
    memset(out, 0xee, sizeof(out));
    n = ntlm_build_challenge(&f, out, sizeof(out));
    assert_bytes(out, n, msg, len, casename);
    assert_int_equal(out[len], 0xee);
    /* exactly enough room works; every shorter room gives 0 and writes nothing beyond it */
    for (cap = 0; cap < len; cap++) {
        memset(out, 0xee, sizeof(out));
        if (ntlm_build_challenge(&f, out, cap) != 0)
            fail_msg("%s: built into %zu bytes of room (needs %zu)", casename, cap, len);
        assert_int_equal(out[cap], 0xee);
    }
    assert_int_equal(ntlm_build_challenge(&f, out, len), len);
    assert_memory_equal(out, msg, len);
    free(ti);
    free(msg);
    free(m);
}

static void test_challenge_4223(void **state)
{
    (void)state;
    check_challenge("4.2.2.3-CHALLENGE_MESSAGE", 0);
}

static void test_challenge_4233(void **state)
{
    (void)state;
    check_challenge("4.2.3.3-CHALLENGE_MESSAGE", 0);
}

static void test_challenge_4243(void **state)
{
    (void)state;
    check_challenge("4.2.4.3-CHALLENGE_MESSAGE", 1);
}

/* ---- AUTHENTICATE: 4.2.2.3, 4.2.3.3, 4.2.4.3 ------------------------------- */

/* The responses each AUTHENTICATE carries, from the vector cases that give them. */
struct auth_parts {
    unsigned char *lm, *nt, *key;
    size_t lmlen, ntlen, keylen;
};

static void check_authenticate(const char *casename, const struct auth_parts *r)
{
    unsigned char *msg, *m, dom[32], user[32], ws[32], out[512], *withmic;
    size_t len, dl, ul, wl, n, cap, at;
    struct ntlm_authenticate a;
    struct ntlm_authenticate_fields f;
    uint32_t flags = vec_flags(casename);

    msg = vec_bytes(casename, "message_hex", &len);
    m = malloc(len);
    assert_non_null(m);
    memcpy(m, msg, len);
    dl = u16("Domain", dom, sizeof(dom));
    ul = u16("User", user, sizeof(user));
    wl = u16("COMPUTER", ws, sizeof(ws));

    memset(&a, 0xa5, sizeof(a));
    assert_int_equal(ntlm_parse_authenticate(m, len, &a), NTLM_OK);
    assert_int_equal(a.flags, flags);
    /* MS-NLMP 4.2 layout: domain, user, workstation, LM, NT, key after the
     * 64-byte header and VERSION */
    at = NTLM_AUTHENTICATE_HEADER + NTLM_VERSION_LEN;
    assert_int_equal(a.payload_start, at);
    assert_field(&a.domain, m, at, dom, dl, "DomainName"), at += dl;
    assert_field(&a.user, m, at, user, ul, "UserName"), at += ul;
    assert_field(&a.workstation, m, at, ws, wl, "Workstation"), at += wl;
    assert_field(&a.lm, m, at, r->lm, r->lmlen, "LmChallengeResponse"), at += r->lmlen;
    assert_field(&a.nt, m, at, r->nt, r->ntlen, "NtChallengeResponse"), at += r->ntlen;
    assert_field(&a.session_key, m, at, r->key, r->keylen, "EncryptedRandomSessionKey");
    at += r->keylen;
    assert_int_equal(at, len);

    f = (struct ntlm_authenticate_fields){
        .flags = flags,
        .lm = {r->lm, r->lmlen},
        .nt = {r->nt, r->ntlen},
        .domain = {dom, dl},
        .user = {user, ul},
        .workstation = {ws, wl},
        .session_key = {r->key, r->keylen},
        .version = version_authenticate,
        .with_mic = 0,
    };
    memset(out, 0xee, sizeof(out));
    n = ntlm_build_authenticate(&f, out, sizeof(out));
    assert_bytes(out, n, msg, len, casename);
    assert_int_equal(out[len], 0xee);
    for (cap = 0; cap < len; cap++) {
        memset(out, 0xee, sizeof(out));
        if (ntlm_build_authenticate(&f, out, cap) != 0)
            fail_msg("%s: built into %zu bytes of room (needs %zu)", casename, cap, len);
        assert_int_equal(out[cap], 0xee);
    }

    /* with a MIC field: 16 zero bytes at 72, after VERSION; the payload moves by 16 */
    f.with_mic = 1;
    n = ntlm_build_authenticate(&f, out, sizeof(out));
    assert_int_equal(n, len + NTLM_MIC_LEN);
    assert_memory_equal(out, msg, 12); /* signature, type */
    for (at = 12; at < 60; at += 8) {
        /* each field: the same Len and MaxLen, the Offset 16 further */
        assert_memory_equal(out + at, msg + at, 4);
        assert_int_equal(get32(out + at + 4), get32(msg + at + 4) + NTLM_MIC_LEN);
    }
    assert_memory_equal(out + AU_FLAGS, msg + AU_FLAGS, 4);
    assert_memory_equal(out + NTLM_AUTHENTICATE_HEADER, version_authenticate, 8);
    {
        static const unsigned char zero[NTLM_MIC_LEN];
        assert_memory_equal(out + NTLM_MIC_OFFSET, zero, NTLM_MIC_LEN);
    }
    assert_memory_equal(out + NTLM_AUTHENTICATE_MIC_HEADER, msg + 72, len - 72);
    withmic = malloc(n);
    assert_non_null(withmic);
    memcpy(withmic, out, n);
    memset(&a, 0xa5, sizeof(a));
    assert_int_equal(ntlm_parse_authenticate(withmic, n, &a), NTLM_OK);
    assert_int_equal(a.payload_start, NTLM_AUTHENTICATE_MIC_HEADER);
    assert_field(&a.domain, withmic, 88, dom, dl, "DomainName (with MIC)");
    assert_field(&a.session_key, withmic, n - r->keylen, r->key, r->keylen, "key (with MIC)");
    assert_bytes(a.nt.p, a.nt.len, r->nt, r->ntlen, "NT (with MIC)");
    free(withmic);
    free(msg);
    free(m);
}

static void test_authenticate_4223(void **state)
{
    struct auth_parts r;

    (void)state;
    r.lm = vec_bytes("4.2.2.2.2-LMv1-response", "lm_challenge_response_hex", &r.lmlen);
    r.nt = vec_bytes("4.2.2.2.1-NTLMv1-response", "nt_challenge_response_hex", &r.ntlen);
    r.key = vec_bytes("4.2.2.2.3-encrypted-session-key", "encrypted_random_session_key_hex",
                      &r.keylen);
    check_authenticate("4.2.2.3-AUTHENTICATE_MESSAGE", &r);
    free(r.lm), free(r.nt), free(r.key);
}

static void test_authenticate_4233(void **state)
{
    struct auth_parts r;

    (void)state;
    r.lm = vec_bytes("4.2.3.2.1-LMv1-response", "lm_challenge_response_hex", &r.lmlen);
    r.nt = vec_bytes("4.2.3.2.2-NTLMv1-response", "nt_challenge_response_hex", &r.ntlen);
    r.key = malloc(1);
    r.keylen = 0; /* no KEY_EXCH: an empty field whose offset is the end of the payload */
    check_authenticate("4.2.3.3-AUTHENTICATE_MESSAGE", &r);
    free(r.lm), free(r.nt), free(r.key);
}

static void test_authenticate_4243(void **state)
{
    struct auth_parts r;

    (void)state;
    r.lm = vec_bytes("4.2.4.2.1-LMv2-response", "lm_challenge_response_hex", &r.lmlen);
    r.nt = vec_bytes("4.2.4.2.2-NTLMv2-response", "nt_challenge_response_hex", &r.ntlen);
    r.key = vec_bytes("4.2.4.2.3-encrypted-session-key", "encrypted_random_session_key_hex",
                      &r.keylen);
    check_authenticate("4.2.4.3-AUTHENTICATE_MESSAGE", &r);
    free(r.lm), free(r.nt), free(r.key);
}

/* An AUTHENTICATE without VERSION: the payload may start right after the
 * 64-byte header. */
static void test_authenticate_no_version(void **state)
{
    unsigned char u[8], out[128], *m;
    size_t ul, n;
    struct ntlm_authenticate a;
    struct ntlm_authenticate_fields f = {
        .flags = NTLM_NEGOTIATE_UNICODE | NTLM_NEGOTIATE_NTLM,
    };

    (void)state;
    ul = u16("bob", u, sizeof(u));
    f.user = (struct ntlm_buf){u, ul};
    n = ntlm_build_authenticate(&f, out, sizeof(out));
    assert_int_equal(n, NTLM_AUTHENTICATE_HEADER + ul);
    m = malloc(n);
    assert_non_null(m);
    memcpy(m, out, n);
    assert_int_equal(ntlm_parse_authenticate(m, n, &a), NTLM_OK);
    assert_int_equal(a.payload_start, NTLM_AUTHENTICATE_HEADER);
    assert_field(&a.user, m, NTLM_AUTHENTICATE_HEADER, u, ul, "UserName");
    assert_int_equal(a.lm.len + a.nt.len + a.domain.len + a.workstation.len + a.session_key.len,
                     0);
    free(m);
}

/* ---- NEGOTIATE (no published bytes: MS-NLMP 2.2.1.1 laid out here) -------- */

static void test_negotiate(void **state)
{
    unsigned char out[64], *m, want[32];
    const uint32_t flags = NTLM_NEGOTIATE_UNICODE | NTLM_REQUEST_TARGET | NTLM_NEGOTIATE_NTLM
                           | NTLM_NEGOTIATE_ALWAYS_SIGN | NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY
                           | NTLM_NEGOTIATE_128 | NTLM_NEGOTIATE_56;
    struct ntlm_negotiate ng;
    size_t n, cap;

    (void)state;
    /* signature, MessageType 1, flags, DomainNameFields and WorkstationFields zero */
    memset(want, 0, sizeof(want));
    memcpy(want, "NTLMSSP\0\x01\0\0\0", 12);
    put32(want + NEG_FLAGS, flags);
    memset(out, 0xee, sizeof(out));
    n = ntlm_build_negotiate(flags, out, sizeof(out));
    assert_bytes(out, n, want, NTLM_NEGOTIATE_HEADER, "NEGOTIATE");
    assert_int_equal(out[n], 0xee);
    for (cap = 0; cap < n; cap++) {
        memset(out, 0xee, sizeof(out));
        assert_int_equal(ntlm_build_negotiate(flags, out, cap), 0);
        assert_int_equal(out[cap], 0xee);
    }
    m = malloc(NTLM_NEGOTIATE_HEADER);
    assert_non_null(m);
    memcpy(m, want, NTLM_NEGOTIATE_HEADER);
    assert_int_equal(ntlm_parse_negotiate(m, NTLM_NEGOTIATE_HEADER, &ng), NTLM_OK);
    assert_int_equal(ng.flags, flags);
    assert_int_equal(ng.domain.len, 0);
    assert_int_equal(ng.workstation.len, 0);
    free(m);

    /* the shortest form (signature, type, flags: old clients) */
    m = malloc(NTLM_NEGOTIATE_MIN);
    assert_non_null(m);
    memcpy(m, want, NTLM_NEGOTIATE_MIN);
    assert_int_equal(ntlm_parse_negotiate(m, NTLM_NEGOTIATE_MIN, &ng), NTLM_OK);
    assert_int_equal(ng.flags, flags);
    assert_int_equal(ng.domain.len + ng.workstation.len, 0);
    free(m);
}

/* A NEGOTIATE with OEM domain and workstation supplied (payload at 32). */
#define NEG_SUPPLIED_LEN (32 + 6 + 8)
static void make_negotiate_supplied(unsigned char *m)
{
    memset(m, 0, NEG_SUPPLIED_LEN);
    memcpy(m, "NTLMSSP\0\x01\0\0\0", 12);
    put32(m + NEG_FLAGS, NTLM_NEGOTIATE_UNICODE | NTLM_NEGOTIATE_OEM | NTLM_NEGOTIATE_NTLM
                             | NTLM_NEGOTIATE_OEM_DOMAIN_SUPPLIED
                             | NTLM_NEGOTIATE_OEM_WORKSTATION_SUPPLIED);
    put16(m + LEN(NEG_DOMAIN), 6), put16(m + MAXLEN(NEG_DOMAIN), 6), put32(m + OFF(NEG_DOMAIN), 32);
    put16(m + LEN(NEG_WS), 8), put16(m + MAXLEN(NEG_WS), 8), put32(m + OFF(NEG_WS), 38);
    memcpy(m + 32, "DOMAINCOMPUTER", 14);
}

static void test_negotiate_supplied(void **state)
{
    unsigned char *m = malloc(NEG_SUPPLIED_LEN);
    struct ntlm_negotiate ng;

    (void)state;
    assert_non_null(m);
    make_negotiate_supplied(m);
    assert_int_equal(ntlm_parse_negotiate(m, NEG_SUPPLIED_LEN, &ng), NTLM_OK);
    assert_field(&ng.domain, m, 32, (const unsigned char *)"DOMAIN", 6, "OEM domain");
    assert_field(&ng.workstation, m, 38, (const unsigned char *)"COMPUTER", 8, "OEM workstation");
    free(m);
}

/* ---- AV pairs: 4.2.4 target info, and the writer ---------------------------- */

static void test_av_pairs_4_2_4(void **state)
{
    unsigned char *ti, *p, dom[16], srv[16], out[64];
    size_t tlen, dl, sl, cap;
    struct ntlm_av_info av;
    struct ntlm_av_writer w;

    (void)state;
    ti = vec_bytes("4.2.4-server-target-info-av-pairs", "target_info_hex", &tlen);
    assert_int_equal(tlen, 36);
    p = malloc(tlen);
    assert_non_null(p);
    memcpy(p, ti, tlen);
    dl = u16("Domain", dom, sizeof(dom));
    sl = u16("Server", srv, sizeof(srv));

    memset(&av, 0xa5, sizeof(av));
    assert_int_equal(ntlm_parse_av_pairs(p, tlen, 0, &av), NTLM_OK);
    assert_field(&av.nb_domain, p, 4, dom, dl, "MsvAvNbDomainName");
    assert_field(&av.nb_computer, p, 4 + dl + 4, srv, sl, "MsvAvNbComputerName");
    assert_int_equal(av.dns_computer.len + av.dns_domain.len + av.dns_tree.len
                         + av.target_name.len, 0);
    assert_int_equal(av.has_flags, 0);
    assert_int_equal(av.has_timestamp, 0);
    assert_int_equal(av.has_channel_bindings, 0);
    assert_int_equal(av.list_len, tlen);
    /* zero_tail changes nothing when there is no tail */
    assert_int_equal(ntlm_parse_av_pairs(p, tlen, 1, &av), NTLM_OK);
    assert_int_equal(av.list_len, tlen);

    /* built: NbDomainName, NbComputerName, MsvAvEOL */
    memset(out, 0xee, sizeof(out));
    w = (struct ntlm_av_writer){out, sizeof(out), 0, 0};
    ntlm_av_put(&w, NTLM_AV_NB_DOMAIN, dom, dl);
    ntlm_av_put(&w, NTLM_AV_NB_COMPUTER, srv, sl);
    assert_int_equal(w.failed, 0);
    assert_bytes(out, ntlm_av_end(&w), ti, tlen, "target info built");
    assert_int_equal(out[tlen], 0xee);
    /* each room short of 36 bytes fails, without writing past it */
    for (cap = 0; cap < tlen; cap++) {
        memset(out, 0xee, sizeof(out));
        w = (struct ntlm_av_writer){out, cap, 0, 0};
        ntlm_av_put(&w, NTLM_AV_NB_DOMAIN, dom, dl);
        ntlm_av_put(&w, NTLM_AV_NB_COMPUTER, srv, sl);
        if (ntlm_av_end(&w) != 0)
            fail_msg("a 36-byte list written into %zu bytes", cap);
        assert_int_not_equal(w.failed, 0);
        assert_int_equal(out[cap], 0xee);
    }
    free(ti);
    free(p);
}

/* Every AvId a server or client writes, round trip. */
static void test_av_pairs_all_ids(void **state)
{
    unsigned char out[256], *p, nbc[32], nbd[32], dnsc[64], dnsd[64], tree[64], tn[64];
    unsigned char ts[8] = {0x00, 0x5d, 0x1c, 0x2a, 0x3b, 0x4c, 0xd9, 0x01}, flags[4], cb[16];
    size_t l1, l2, l3, l4, l5, l6, n;
    struct ntlm_av_writer w;
    struct ntlm_av_info av;

    (void)state;
    l1 = u16("SERVER", nbc, sizeof(nbc));
    l2 = u16("EXAMPLE", nbd, sizeof(nbd));
    l3 = u16("server.example.org", dnsc, sizeof(dnsc));
    l4 = u16("example.org", dnsd, sizeof(dnsd));
    l5 = u16("forest.example.org", tree, sizeof(tree));
    l6 = u16("smtp/server.example.org", tn, sizeof(tn));
    put32(flags, NTLM_AV_FLAG_MIC);
    memset(cb, 0xcb, sizeof(cb));
    w = (struct ntlm_av_writer){out, sizeof(out), 0, 0};
    ntlm_av_put(&w, NTLM_AV_NB_COMPUTER, nbc, l1);
    ntlm_av_put(&w, NTLM_AV_NB_DOMAIN, nbd, l2);
    ntlm_av_put(&w, NTLM_AV_DNS_COMPUTER, dnsc, l3);
    ntlm_av_put(&w, NTLM_AV_DNS_DOMAIN, dnsd, l4);
    ntlm_av_put(&w, NTLM_AV_DNS_TREE, tree, l5);
    ntlm_av_put(&w, NTLM_AV_FLAGS, flags, 4);
    ntlm_av_put(&w, NTLM_AV_TIMESTAMP, ts, 8);
    ntlm_av_put(&w, NTLM_AV_TARGET_NAME, tn, l6);
    ntlm_av_put(&w, NTLM_AV_CHANNEL_BINDINGS, cb, 16);
    n = ntlm_av_end(&w);
    assert_int_equal(n, 10 * 4 + l1 + l2 + l3 + l4 + l5 + 4 + 8 + l6 + 16);
    /* the first pair, by hand: AvId 1, AvLen, value */
    assert_int_equal(out[0] | out[1] << 8, 1);
    assert_int_equal(out[2] | out[3] << 8, l1);
    assert_memory_equal(out + 4, nbc, l1);
    assert_memory_equal(out + n - 4, "\0\0\0\0", 4);
    p = malloc(n);
    assert_non_null(p);
    memcpy(p, out, n);
    assert_int_equal(ntlm_parse_av_pairs(p, n, 0, &av), NTLM_OK);
    assert_bytes(av.nb_computer.p, av.nb_computer.len, nbc, l1, "nb_computer");
    assert_bytes(av.nb_domain.p, av.nb_domain.len, nbd, l2, "nb_domain");
    assert_bytes(av.dns_computer.p, av.dns_computer.len, dnsc, l3, "dns_computer");
    assert_bytes(av.dns_domain.p, av.dns_domain.len, dnsd, l4, "dns_domain");
    assert_bytes(av.dns_tree.p, av.dns_tree.len, tree, l5, "dns_tree");
    assert_bytes(av.target_name.p, av.target_name.len, tn, l6, "target_name");
    assert_int_equal(av.has_flags, 1);
    assert_int_equal(av.flags, NTLM_AV_FLAG_MIC);
    assert_int_equal(av.has_timestamp, 1);
    assert_memory_equal(av.timestamp, ts, 8);
    assert_int_equal(av.has_channel_bindings, 1);
    assert_memory_equal(av.channel_bindings, cb, 16);
    assert_int_equal(av.list_len, n);
    free(p);
}

/* ---- the NTLMv2 response (4.2.4.2.2) ---------------------------------------- */

static void test_v2_response(void **state)
{
    unsigned char *resp, *p, *proof, *temp, *ti, dom[16], srv[16];
    size_t rlen, plen, tlen, tilen, dl, sl;
    struct ntlm_buf nb;
    struct ntlm_v2_response v;
    static const unsigned char cc[8] = {0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa};
    static const unsigned char zero[8];

    (void)state;
    resp = vec_bytes("4.2.4.2.2-NTLMv2-response", "nt_challenge_response_hex", &rlen);
    proof = vec_bytes("4.2.4.2.2-NTLMv2-response", "ntproofstr_hex", &plen);
    temp = vec_bytes("4.2.4.1.3-temp", "temp_hex", &tlen);
    ti = vec_bytes("4.2.4-server-target-info-av-pairs", "target_info_hex", &tilen);
    dl = u16("Domain", dom, sizeof(dom));
    sl = u16("Server", srv, sizeof(srv));
    p = malloc(rlen);
    assert_non_null(p);
    memcpy(p, resp, rlen);
    nb = (struct ntlm_buf){p, rlen};

    memset(&v, 0xa5, sizeof(v));
    assert_int_equal(ntlm_parse_v2_response(&nb, &v), NTLM_OK);
    assert_ptr_equal(v.proof, p);
    assert_memory_equal(v.proof, proof, NTLM_PROOF_LEN);
    assert_field(&v.temp, p, NTLM_PROOF_LEN, temp, tlen, "temp");
    assert_memory_equal(v.timestamp, zero, 8);
    assert_memory_equal(v.client_challenge, cc, 8);
    /* the AV pairs start after the 28-byte blob header; the list proper is the
     * target info, whatever zero padding av_pairs may include after it */
    assert_ptr_equal(v.av_pairs.p, p + NTLM_PROOF_LEN + NTLM_V2_BLOB_HEADER);
    assert_true(v.av_pairs.len >= tilen && v.av_pairs.len <= tilen + 4);
    assert_memory_equal(v.av_pairs.p, ti, tilen);
    assert_int_equal(v.av.list_len, tilen);
    assert_bytes(v.av.nb_domain.p, v.av.nb_domain.len, dom, dl, "nb_domain in the blob");
    assert_bytes(v.av.nb_computer.p, v.av.nb_computer.len, srv, sl, "nb_computer in the blob");
    assert_int_equal(v.av.has_timestamp, 0);
    assert_int_equal(v.av.has_flags, 0);
    free(resp), free(proof), free(temp), free(ti), free(p);
}

/* A Windows-style client challenge: timestamp, MsvAvFlags with the MIC bit,
 * MsvAvTimestamp, channel bindings, then Z(4). */
static void test_v2_response_with_flags(void **state)
{
    unsigned char buf[256], *p;
    size_t n;
    struct ntlm_buf nb;
    struct ntlm_v2_response v;
    static const unsigned char ts[8] = {1, 2, 3, 4, 5, 6, 7, 8}, ts2[8] = {8, 7, 6, 5, 4, 3, 2, 1};

    (void)state;
    n = unhex("11111111111111111111111111111111" /* NTProofStr */
              "0101000000000000"                  /* RespType, HiRespType, Z(6) */
              "0102030405060708"                  /* TimeStamp */
              "c1c2c3c4c5c6c7c8"                  /* ChallengeFromClient */
              "00000000"                          /* Z(4) */
              "06000400" "02000000"               /* MsvAvFlags = MIC present */
              "07000800" "0807060504030201"       /* MsvAvTimestamp */
              "0a001000" "cbcbcbcbcbcbcbcbcbcbcbcbcbcbcbcb"
              "00000000"                          /* MsvAvEOL */
              "00000000",                         /* Z(4) */
              buf, sizeof(buf));
    p = malloc(n);
    assert_non_null(p);
    memcpy(p, buf, n);
    nb = (struct ntlm_buf){p, n};
    assert_int_equal(ntlm_parse_v2_response(&nb, &v), NTLM_OK);
    assert_memory_equal(v.timestamp, ts, 8);
    assert_memory_equal(v.client_challenge, "\xc1\xc2\xc3\xc4\xc5\xc6\xc7\xc8", 8);
    assert_int_equal(v.av.has_flags, 1);
    assert_int_equal(v.av.flags, NTLM_AV_FLAG_MIC);
    assert_int_equal(v.av.has_timestamp, 1);
    assert_memory_equal(v.av.timestamp, ts2, 8);
    assert_int_equal(v.av.has_channel_bindings, 1);
    assert_int_equal(v.av.list_len, 8 + 12 + 20 + 4);
    assert_int_equal(v.temp.len, n - 16);
    free(p);
}

/* ---- one table of malformed (and borderline valid) input ------------------- */

enum parser { P_NEG, P_CHAL, P_AUTH, P_AV, P_AVZ /* zero_tail */, P_V2 };
static const char *const parser_name[] = {"negotiate", "challenge", "authenticate",
                                          "av_pairs", "av_pairs(zero_tail)", "v2_response"};

/* the messages rows start from */
enum base {
    B_HEX,       /* the row's hex alone */
    B_NEG,       /* the NEGOTIATE with OEM domain and workstation (46 bytes) */
    B_CH1, B_CH2, B_CH3, /* 4.2.2.3, 4.2.3.3, 4.2.4.3 CHALLENGE */
    B_AU1, B_AU2, B_AU3, /* 4.2.2.3, 4.2.3.3, 4.2.4.3 AUTHENTICATE */
    B_TI,        /* 4.2.4 target info */
    B_V2,        /* 4.2.4.2.2 NTLMv2 response */
    NBASES
};
static unsigned char *base_msg[NBASES];
static size_t base_len[NBASES];

struct patch {
    unsigned short off;
    unsigned char width; /* 1, 2 or 4; 0 ends the list */
    uint32_t val;
};

struct row {
    const char *name;
    enum parser parser;
    enum base base;
    const char *hex;     /* B_HEX: the input; otherwise appended to the base */
    struct patch p[3];
    size_t setlen;       /* nonzero: cut or zero-extend the input to this length */
    unsigned allow;      /* the statuses that are right */
};

#define P1(o, w, v) {{(o), (w), (v)}}
#define P2(o1, w1, v1, o2, w2, v2) {{(o1), (w1), (v1)}, {(o2), (w2), (v2)}}

/* AU3 (4.2.4.3 AUTHENTICATE, 232 bytes): LM 24@108, NT 84@132, domain 12@72,
 * user 8@84, workstation 16@92, key 16@216.  CH3 (4.2.4.3 CHALLENGE, 104
 * bytes): target name 12@56, target info 36@68. */
static const struct row rows[] = {
    /* the vectors themselves */
    {"AU3 as published", P_AUTH, B_AU3, NULL, {{0}}, 0, S(NTLM_OK)},
    {"CH3 as published", P_CHAL, B_CH3, NULL, {{0}}, 0, S(NTLM_OK)},
    {"NEGOTIATE with OEM fields", P_NEG, B_NEG, NULL, {{0}}, 0, S(NTLM_OK)},
    {"4.2.4 target info", P_AV, B_TI, NULL, {{0}}, 0, S(NTLM_OK)},
    {"4.2.4.2.2 NTLMv2 response", P_V2, B_V2, NULL, {{0}}, 0, S(NTLM_OK)},

    /* signature and type */
    {"AUTH: signature 'MTLMSSP'", P_AUTH, B_AU3, NULL, P1(0, 1, 'M'), 0, S(NTLM_ERR_SIGNATURE)},
    {"AUTH: signature without its NUL", P_AUTH, B_AU3, NULL, P1(7, 1, ' '), 0,
     S(NTLM_ERR_SIGNATURE)},
    {"AUTH: signature lower case", P_AUTH, B_AU3, NULL, P1(0, 4, 0x6d6c746e), 0,
     S(NTLM_ERR_SIGNATURE)},
    {"AUTH: MessageType 1", P_AUTH, B_AU3, NULL, P1(8, 4, 1), 0, S(NTLM_ERR_TYPE)},
    {"AUTH: MessageType 2", P_AUTH, B_AU3, NULL, P1(8, 4, 2), 0, S(NTLM_ERR_TYPE)},
    {"AUTH: MessageType 0", P_AUTH, B_AU3, NULL, P1(8, 4, 0), 0, S(NTLM_ERR_TYPE)},
    {"AUTH: MessageType 0x103 (all 32 bits count)", P_AUTH, B_AU3, NULL, P1(8, 4, 0x103), 0,
     S(NTLM_ERR_TYPE)},
    {"AUTH: MessageType 0x03000000", P_AUTH, B_AU3, NULL, P1(8, 4, 0x03000000), 0,
     S(NTLM_ERR_TYPE)},
    {"CHAL: MessageType 3", P_CHAL, B_CH3, NULL, P1(8, 4, 3), 0, S(NTLM_ERR_TYPE)},
    {"CHAL: MessageType 1", P_CHAL, B_CH3, NULL, P1(8, 4, 1), 0, S(NTLM_ERR_TYPE)},
    {"CHAL: signature 'NTLMSSP\\1'", P_CHAL, B_CH3, NULL, P1(7, 1, 1), 0, S(NTLM_ERR_SIGNATURE)},
    {"NEG: MessageType 3", P_NEG, B_NEG, NULL, P1(8, 4, 3), 0, S(NTLM_ERR_TYPE)},
    {"NEG: signature 'NTLMSSp'", P_NEG, B_NEG, NULL, P1(6, 1, 'p'), 0, S(NTLM_ERR_SIGNATURE)},
    {"a CHALLENGE given to the AUTHENTICATE parser", P_AUTH, B_CH3, NULL, {{0}}, 0,
     S(NTLM_ERR_TYPE) | S(NTLM_ERR_SHORT)},
    {"an AUTHENTICATE given to the CHALLENGE parser", P_CHAL, B_AU3, NULL, {{0}}, 0,
     S(NTLM_ERR_TYPE)},
    {"an AUTHENTICATE given to the NEGOTIATE parser", P_NEG, B_AU3, NULL, {{0}}, 0,
     S(NTLM_ERR_TYPE)},

    /* offset + length wrapping 32 bits (would pass a 32-bit end check) */
    {"AUTH: NT offset 0xfffffff6 (+84 wraps to 74)", P_AUTH, B_AU3, NULL,
     P1(OFF(AU_NT), 4, 0xfffffff6u), 0, S(NTLM_ERR_BOUNDS)},
    {"AUTH: LM 0xffff bytes at 0xffff0001 (end wraps to 0)", P_AUTH, B_AU3, NULL,
     P2(LEN(AU_LM), 2, 0xffff, OFF(AU_LM), 4, 0xffff0001u), 0, S(NTLM_ERR_BOUNDS)},
    {"AUTH: domain at 0xffffffff", P_AUTH, B_AU3, NULL, P1(OFF(AU_DOMAIN), 4, 0xffffffffu), 0,
     S(NTLM_ERR_BOUNDS)},
    {"AUTH: key 16 bytes at 0xfffffff8 (end wraps to 8)", P_AUTH, B_AU3, NULL,
     P1(OFF(AU_KEY), 4, 0xfffffff8u), 0, S(NTLM_ERR_BOUNDS)},
    {"CHAL: target info at 0xffffffe0 (+36 wraps to 4)", P_CHAL, B_CH3, NULL,
     P1(OFF(CH_TARGET_INFO), 4, 0xffffffe0u), 0, S(NTLM_ERR_BOUNDS)},
    {"CHAL: target name at 0x80000000", P_CHAL, B_CH3, NULL,
     P1(OFF(CH_TARGET_NAME), 4, 0x80000000u), 0, S(NTLM_ERR_BOUNDS)},
    {"NEG: domain at 0xfffffffc (+6 wraps)", P_NEG, B_NEG, NULL, P1(OFF(NEG_DOMAIN), 4, 0xfffffffcu),
     0, S(NTLM_ERR_BOUNDS)},

    /* offsets into the fixed header */
    {"AUTH: domain at offset 0", P_AUTH, B_AU3, NULL, P1(OFF(AU_DOMAIN), 4, 0), 0,
     S(NTLM_ERR_BOUNDS)},
    {"AUTH: user at offset 8", P_AUTH, B_AU3, NULL, P1(OFF(AU_USER), 4, 8), 0, S(NTLM_ERR_BOUNDS)},
    {"AUTH: workstation at the flags (60)", P_AUTH, B_AU3, NULL, P1(OFF(AU_WS), 4, 60), 0,
     S(NTLM_ERR_BOUNDS)},
    {"AUTH: key straddling the header end (63)", P_AUTH, B_AU3, NULL, P1(OFF(AU_KEY), 4, 63), 0,
     S(NTLM_ERR_BOUNDS)},
    {"AUTH: LM at its own header field (12)", P_AUTH, B_AU3, NULL, P1(OFF(AU_LM), 4, 12), 0,
     S(NTLM_ERR_BOUNDS)},
    {"CHAL: target info at offset 0", P_CHAL, B_CH3, NULL, P1(OFF(CH_TARGET_INFO), 4, 0), 0,
     S(NTLM_ERR_BOUNDS)},
    {"CHAL: target name at the challenge (24)", P_CHAL, B_CH3, NULL,
     P1(OFF(CH_TARGET_NAME), 4, 24), 0, S(NTLM_ERR_BOUNDS)},
    {"CHAL: target info at 40 (its own field)", P_CHAL, B_CH3, NULL,
     P1(OFF(CH_TARGET_INFO), 4, 40), 0, S(NTLM_ERR_BOUNDS)},
    {"NEG: domain at offset 4", P_NEG, B_NEG, NULL, P1(OFF(NEG_DOMAIN), 4, 4), 0,
     S(NTLM_ERR_BOUNDS)},
    /* the VERSION field (present when the flags say so) belongs to the header */
    {"AUTH: domain at 64, inside VERSION", P_AUTH, B_AU3, NULL, P1(OFF(AU_DOMAIN), 4, 64), 0,
     S(NTLM_ERR_BOUNDS)},
    {"AUTH: domain at 64, VERSION flag clear (no VERSION: payload)", P_AUTH, B_AU3, NULL,
     P2(OFF(AU_DOMAIN), 4, 64, AU_FLAGS + 3, 1, 0xe0), 0, S(NTLM_OK)},
    {"CHAL: target name at 48, inside VERSION", P_CHAL, B_CH3, NULL,
     P1(OFF(CH_TARGET_NAME), 4, 48), 0, S(NTLM_ERR_BOUNDS)},
    /* the older CHALLENGE forms: a 32-byte header, or 48 bytes without VERSION */
    {"CHAL: 32-byte header, target name at 32", P_CHAL, B_HEX,
     "4e544c4d53535000" "02000000" "0800080020000000" "01020000" "0123456789abcdef"
     "5300520056004500", {{0}}, 0, S(NTLM_OK)},
    {"CHAL: 48-byte header without VERSION, target name at 48", P_CHAL, B_HEX,
     "4e544c4d53535000" "02000000" "0800080030000000" "01020000" "0123456789abcdef"
     "0000000000000000" "0000000000000000" "5300520056004500", {{0}}, 0, S(NTLM_OK)},
    {"CHAL: 48-byte header without VERSION, target name at 40 (its field)", P_CHAL, B_HEX,
     "4e544c4d53535000" "02000000" "0800080028000000" "01020000" "0123456789abcdef"
     "0000000000000000" "0000000000000000" "5300520056004500", {{0}}, 0, S(NTLM_ERR_BOUNDS)},
    {"CHAL: 31 bytes", P_CHAL, B_CH1, NULL, {{0}}, 31, S(NTLM_ERR_SHORT)},
    {"NEG: workstation at 28 (its own field)", P_NEG, B_NEG, NULL, P1(OFF(NEG_WS), 4, 28), 0,
     S(NTLM_ERR_BOUNDS)},

    /* past the end */
    {"AUTH: key one byte longer (17, last field)", P_AUTH, B_AU3, NULL, P1(LEN(AU_KEY), 2, 17), 0,
     S(NTLM_ERR_BOUNDS)},
    {"AUTH: key at the end (232)", P_AUTH, B_AU3, NULL, P1(OFF(AU_KEY), 4, 232), 0,
     S(NTLM_ERR_BOUNDS)},
    {"AUTH: key at 217 (ends at 233)", P_AUTH, B_AU3, NULL, P1(OFF(AU_KEY), 4, 217), 0,
     S(NTLM_ERR_BOUNDS)},
    {"AUTH: key 0xffff bytes", P_AUTH, B_AU3, NULL, P1(LEN(AU_KEY), 2, 0xffff), 0,
     S(NTLM_ERR_BOUNDS)},
    {"AUTH: key at 0x10000", P_AUTH, B_AU3, NULL, P1(OFF(AU_KEY), 4, 0x10000), 0,
     S(NTLM_ERR_BOUNDS)},
    {"CHAL: target info one byte longer (37)", P_CHAL, B_CH3, NULL,
     P1(LEN(CH_TARGET_INFO), 2, 37), 0, S(NTLM_ERR_BOUNDS)},
    {"CHAL: target info at 104 (the end)", P_CHAL, B_CH3, NULL, P1(OFF(CH_TARGET_INFO), 4, 104),
     0, S(NTLM_ERR_BOUNDS)},
    {"NEG: workstation 9 bytes (one past)", P_NEG, B_NEG, NULL, P1(LEN(NEG_WS), 2, 9), 0,
     S(NTLM_ERR_BOUNDS)},

    /* empty buffers: their offsets are not looked at */
    {"AUTH: empty key at 0xffffffff", P_AUTH, B_AU3, NULL,
     P2(LEN(AU_KEY), 2, 0, OFF(AU_KEY), 4, 0xffffffffu), 0, S(NTLM_OK)},
    {"AUTH: empty key at 0", P_AUTH, B_AU3, NULL, P2(LEN(AU_KEY), 2, 0, OFF(AU_KEY), 4, 0), 0,
     S(NTLM_OK)},
    {"AUTH: empty workstation inside the user", P_AUTH, B_AU3, NULL,
     P2(LEN(AU_WS), 2, 0, OFF(AU_WS), 4, 86), 0, S(NTLM_OK)},
    {"CHAL: empty target info at 5", P_CHAL, B_CH1, NULL,
     P1(OFF(CH_TARGET_INFO), 4, 5), 0, S(NTLM_OK)},
    /* MaxLen is read but not trusted */
    {"AUTH: NT MaxLen 0", P_AUTH, B_AU3, NULL, P1(MAXLEN(AU_NT), 2, 0), 0, S(NTLM_OK)},
    {"AUTH: NT MaxLen 0xffff", P_AUTH, B_AU3, NULL, P1(MAXLEN(AU_NT), 2, 0xffff), 0, S(NTLM_OK)},
    {"CHAL: target info MaxLen 0xffff", P_CHAL, B_CH3, NULL, P1(MAXLEN(CH_TARGET_INFO), 2, 0xffff),
     0, S(NTLM_OK)},

    /* overlapping buffers */
    {"AUTH: user at the domain's offset", P_AUTH, B_AU3, NULL, P1(OFF(AU_USER), 4, 72), 0,
     S(NTLM_ERR_OVERLAP)},
    {"AUTH: user overlapping the domain by one byte", P_AUTH, B_AU3, NULL,
     P1(OFF(AU_USER), 4, 83), 0, S(NTLM_ERR_OVERLAP)},
    {"AUTH: domain one byte longer (into the user)", P_AUTH, B_AU3, NULL,
     P1(LEN(AU_DOMAIN), 2, 13), 0, S(NTLM_ERR_OVERLAP)},
    {"AUTH: LM inside NT", P_AUTH, B_AU3, NULL, P1(OFF(AU_LM), 4, 132), 0, S(NTLM_ERR_OVERLAP)},
    {"AUTH: NT and LM the same bytes", P_AUTH, B_AU3, NULL,
     P2(LEN(AU_NT), 2, 24, OFF(AU_NT), 4, 108), 0, S(NTLM_ERR_OVERLAP)},
    {"AUTH: key inside NT", P_AUTH, B_AU3, NULL, P1(OFF(AU_KEY), 4, 140), 0, S(NTLM_ERR_OVERLAP)},
    {"AUTH: NT covering the whole payload", P_AUTH, B_AU3, NULL,
     P2(LEN(AU_NT), 2, 160, OFF(AU_NT), 4, 72), 0, S(NTLM_ERR_OVERLAP)},
    {"AUTH: workstation = user (same offset and length)", P_AUTH, B_AU3, NULL,
     P2(LEN(AU_WS), 2, 8, OFF(AU_WS), 4, 84), 0, S(NTLM_ERR_OVERLAP)},
    {"CHAL: target name inside target info", P_CHAL, B_CH3, NULL,
     P1(OFF(CH_TARGET_NAME), 4, 70), 0, S(NTLM_ERR_OVERLAP)},
    {"CHAL: target name one byte longer (into target info)", P_CHAL, B_CH3, NULL,
     P1(LEN(CH_TARGET_NAME), 2, 13), 0, S(NTLM_ERR_OVERLAP)},
    {"CHAL: target info at the target name", P_CHAL, B_CH3, NULL,
     P1(OFF(CH_TARGET_INFO), 4, 56), 0, S(NTLM_ERR_OVERLAP)},
    {"NEG: workstation at the domain", P_NEG, B_NEG, NULL, P1(OFF(NEG_WS), 4, 32), 0,
     S(NTLM_ERR_OVERLAP)},

    /* size cap: AU3's fields moved so that the last one ends the message */
    {"AUTH: exactly NTLM_MAX_MESSAGE (key ends it)", P_AUTH, B_AU3, NULL,
     P2(LEN(AU_NT), 2, NTLM_MAX_MESSAGE - 16 - 132, OFF(AU_KEY), 4, NTLM_MAX_MESSAGE - 16), NTLM_MAX_MESSAGE,
     S(NTLM_OK)},
    {"AUTH: NTLM_MAX_MESSAGE + 1", P_AUTH, B_AU3, NULL,
     P2(LEN(AU_NT), 2, NTLM_MAX_MESSAGE - 15 - 132, OFF(AU_KEY), 4, NTLM_MAX_MESSAGE - 15),
     NTLM_MAX_MESSAGE + 1, S(NTLM_ERR_TOO_BIG)},
    {"CHAL: NTLM_MAX_MESSAGE + 1 (target info ends it)", P_CHAL, B_CH3, NULL,
     P1(LEN(CH_TARGET_INFO), 2, NTLM_MAX_MESSAGE + 1 - 68), NTLM_MAX_MESSAGE + 1,
     S(NTLM_ERR_TOO_BIG)},
    {"CHAL: 64 KiB of zeros after the message", P_CHAL, B_CH3, NULL, {{0}}, 65536,
     S(NTLM_ERR_TOO_BIG)},
    {"NEG: NTLM_MAX_MESSAGE + 1", P_NEG, B_NEG, NULL, {{0}}, NTLM_MAX_MESSAGE + 1,
     S(NTLM_ERR_TOO_BIG)},

    /* AV pair lists (MS-NLMP 2.2.2.1) */
    {"AV: empty list (no MsvAvEOL)", P_AV, B_HEX, "", {{0}}, 0, S(NTLM_ERR_AV_TRUNCATED)},
    {"AV: MsvAvEOL alone", P_AV, B_HEX, "00000000", {{0}}, 0, S(NTLM_OK)},
    {"AV: missing MsvAvEOL", P_AV, B_HEX, "02000c0044006f006d00610069006e00", {{0}}, 0,
     S(NTLM_ERR_AV_TRUNCATED)},
    {"AV: missing MsvAvEOL, zero_tail", P_AVZ, B_HEX, "02000c0044006f006d00610069006e00", {{0}}, 0,
     S(NTLM_ERR_AV_TRUNCATED)},
    {"AV: half a pair header", P_AV, B_HEX, "0200", {{0}}, 0, S(NTLM_ERR_AV_TRUNCATED)},
    {"AV: three bytes of MsvAvEOL", P_AV, B_HEX, "000000", {{0}}, 0, S(NTLM_ERR_AV_TRUNCATED)},
    {"AV: value runs past the list", P_AV, B_HEX, "02000e0044006f006d00610069006e0000000000", {{0}},
     0, S(NTLM_ERR_AV_TRUNCATED)},
    {"AV: AvLen 0xffff", P_AV, B_HEX, "0100ffff5300650000000000", {{0}}, 0,
     S(NTLM_ERR_AV_TRUNCATED)},
    {"AV: duplicate MsvAvNbDomainName", P_AV, B_HEX,
     "0200020041000200020042000000" "0000", {{0}}, 0, S(NTLM_ERR_AV_DUPLICATE)},
    {"AV: duplicate MsvAvTimestamp", P_AV, B_HEX,
     "070008000102030405060708" "070008000102030405060708" "00000000", {{0}}, 0,
     S(NTLM_ERR_AV_DUPLICATE)},
    {"AV: duplicate MsvAvFlags", P_AV, B_HEX, "0600040002000000" "0600040000000000" "00000000",
     {{0}}, 0, S(NTLM_ERR_AV_DUPLICATE)},
    {"AV: duplicate MsvAvDnsComputerName", P_AV, B_HEX,
     "030002004100" "030002004100" "00000000", {{0}}, 0, S(NTLM_ERR_AV_DUPLICATE)},
    {"AV: MsvAvFlags of 3 bytes", P_AV, B_HEX, "06000300020000" "00000000", {{0}}, 0,
     S(NTLM_ERR_AV_LENGTH)},
    {"AV: MsvAvFlags of 5 bytes", P_AV, B_HEX, "0600050002000000ff" "00000000", {{0}}, 0,
     S(NTLM_ERR_AV_LENGTH)},
    {"AV: MsvAvFlags of 0 bytes", P_AV, B_HEX, "06000000" "00000000", {{0}}, 0,
     S(NTLM_ERR_AV_LENGTH)},
    {"AV: MsvAvTimestamp of 7 bytes", P_AV, B_HEX, "07000700010203040506070000000000", {{0}}, 0,
     S(NTLM_ERR_AV_LENGTH)},
    {"AV: MsvAvTimestamp of 9 bytes", P_AV, B_HEX, "0700090001020304050607080900000000", {{0}}, 0,
     S(NTLM_ERR_AV_LENGTH)},
    {"AV: MsvAvTimestamp of 16 bytes", P_AV, B_HEX,
     "070010000102030405060708010203040506070800000000", {{0}}, 0, S(NTLM_ERR_AV_LENGTH)},
    {"AV: MsvAvChannelBindings of 15 bytes", P_AV, B_HEX,
     "0a000f00cbcbcbcbcbcbcbcbcbcbcbcbcbcbcb00000000", {{0}}, 0, S(NTLM_ERR_AV_LENGTH)},
    {"AV: MsvAvEOL with AvLen 2 (MUST be 0)", P_AV, B_HEX, "000002000000", {{0}}, 0, ANY_ERR},
    {"AV: one zero byte after MsvAvEOL", P_AV, B_HEX, "0000000000", {{0}}, 0,
     S(NTLM_ERR_AV_TRAILING)},
    {"AV: one zero byte after MsvAvEOL, zero_tail", P_AVZ, B_HEX, "0000000000", {{0}}, 0,
     S(NTLM_OK)},
    {"AV: 4.2.4 list + Z(4), zero_tail", P_AVZ, B_TI, "00000000", {{0}}, 0, S(NTLM_OK)},
    {"AV: 4.2.4 list + Z(4), no zero_tail", P_AV, B_TI, "00000000", {{0}}, 0,
     S(NTLM_ERR_AV_TRAILING)},
    {"AV: 4.2.4 list + 00000001, zero_tail", P_AVZ, B_TI, "00000001", {{0}}, 0,
     S(NTLM_ERR_AV_TRAILING)},
    {"AV: 4.2.4 list + 'x'", P_AV, B_TI, "78", {{0}}, 0, S(NTLM_ERR_AV_TRAILING)},
    {"AV: 4.2.4 list twice", P_AV, B_TI,
     "02000c0044006f006d00610069006e0001000c0053006500720076006500720000000000", {{0}}, 0,
     S(NTLM_ERR_AV_TRAILING)},
    {"AV: 4.2.4 list twice, zero_tail", P_AVZ, B_TI,
     "02000c0044006f006d00610069006e0001000c0053006500720076006500720000000000", {{0}}, 0,
     S(NTLM_ERR_AV_TRAILING)},
    {"AV: unknown AvId 0x42 (skipped)", P_AV, B_HEX, "42000400deadbeef" "00000000", {{0}}, 0,
     S(NTLM_OK)},
    {"AV: unknown AvId 0xffff, empty (skipped)", P_AV, B_HEX, "ffff0000" "00000000", {{0}}, 0,
     S(NTLM_OK)},
    {"AV: a NbComputerName with AvLen 0", P_AV, B_HEX, "01000000" "00000000", {{0}}, 0,
     S(NTLM_OK)},

    /* NTLMv2 responses (MS-NLMP 2.2.2.7) */
    {"V2: a 24-byte NTLMv1 response", P_V2, B_V2, NULL, {{0}}, 24, S(NTLM_ERR_V2_BLOB)},
    {"V2: empty", P_V2, B_HEX, "", {{0}}, 0, S(NTLM_ERR_V2_BLOB)},
    {"V2: NTProofStr and 27 bytes of blob", P_V2, B_V2, NULL, {{0}}, 16 + 27, S(NTLM_ERR_V2_BLOB)},
    {"V2: RespType 2", P_V2, B_V2, NULL, P1(16, 1, 2), 0, S(NTLM_ERR_V2_BLOB)},
    {"V2: RespType 0", P_V2, B_V2, NULL, P1(16, 1, 0), 0, S(NTLM_ERR_V2_BLOB)},
    {"V2: HiRespType 2", P_V2, B_V2, NULL, P1(17, 1, 2), 0, S(NTLM_ERR_V2_BLOB)},
    {"V2: duplicate AV pair in the blob", P_V2, B_V2, NULL, P1(60, 2, 2), 0,
     S(NTLM_ERR_AV_DUPLICATE) | S(NTLM_ERR_V2_BLOB)},
    {"V2: AV pair running past the blob", P_V2, B_V2, NULL, P1(62, 2, 0x40), 0,
     S(NTLM_ERR_AV_TRUNCATED) | S(NTLM_ERR_V2_BLOB)},
    {"V2: non-zero byte after MsvAvEOL", P_V2, B_V2, NULL, P1(83, 1, 1), 0,
     S(NTLM_ERR_AV_TRAILING) | S(NTLM_ERR_V2_BLOB)},
    {"V2: a MsvAvTimestamp of 7 bytes", P_V2, B_HEX,
     "11111111111111111111111111111111" "0101000000000000" "0000000000000000"
     "aaaaaaaaaaaaaaaa" "00000000" "07000700010203040506070000000000" "00000000",
     {{0}}, 0, S(NTLM_ERR_AV_LENGTH) | S(NTLM_ERR_V2_BLOB)},
    {"V2: blob header, then 3 bytes of AV list", P_V2, B_HEX,
     "11111111111111111111111111111111" "0101000000000000" "0000000000000000"
     "aaaaaaaaaaaaaaaa" "00000000" "000000",
     {{0}}, 0, S(NTLM_ERR_AV_TRUNCATED) | S(NTLM_ERR_V2_BLOB)},
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

static void load_bases(void)
{
    static const struct {
        enum base b;
        const char *casename, *key;
    } src[] = {
        {B_CH1, "4.2.2.3-CHALLENGE_MESSAGE", "message_hex"},
        {B_CH2, "4.2.3.3-CHALLENGE_MESSAGE", "message_hex"},
        {B_CH3, "4.2.4.3-CHALLENGE_MESSAGE", "message_hex"},
        {B_AU1, "4.2.2.3-AUTHENTICATE_MESSAGE", "message_hex"},
        {B_AU2, "4.2.3.3-AUTHENTICATE_MESSAGE", "message_hex"},
        {B_AU3, "4.2.4.3-AUTHENTICATE_MESSAGE", "message_hex"},
        {B_TI, "4.2.4-server-target-info-av-pairs", "target_info_hex"},
        {B_V2, "4.2.4.2.2-NTLMv2-response", "nt_challenge_response_hex"},
    };
    size_t i;

    for (i = 0; i < sizeof(src) / sizeof(src[0]); i++)
        if (!base_msg[src[i].b])
            base_msg[src[i].b] = vec_bytes(src[i].casename, src[i].key, &base_len[src[i].b]);
    if (!base_msg[B_NEG]) {
        base_msg[B_NEG] = malloc(NEG_SUPPLIED_LEN);
        assert_non_null(base_msg[B_NEG]);
        make_negotiate_supplied(base_msg[B_NEG]);
        base_len[B_NEG] = NEG_SUPPLIED_LEN;
    }
    assert_int_equal(base_len[B_AU3], 232);
    assert_int_equal(base_len[B_CH3], 104);
    assert_int_equal(base_len[B_V2], 84);
}

static enum ntlm_status run_parser(enum parser ps, const unsigned char *p, size_t len)
{
    struct ntlm_negotiate ng;
    struct ntlm_challenge ch;
    struct ntlm_authenticate au;
    struct ntlm_av_info av;
    struct ntlm_v2_response v2;
    struct ntlm_buf nb = {p, len};

    switch (ps) {
    case P_NEG: return ntlm_parse_negotiate(p, len, &ng);
    case P_CHAL: return ntlm_parse_challenge(p, len, &ch);
    case P_AUTH: return ntlm_parse_authenticate(p, len, &au);
    case P_AV: return ntlm_parse_av_pairs(p, len, 0, &av);
    case P_AVZ: return ntlm_parse_av_pairs(p, len, 1, &av);
    case P_V2: return ntlm_parse_v2_response(&nb, &v2);
    }
    return NTLM_OK;
}

static void describe_mask(unsigned mask, char *out, size_t cap)
{
    size_t n = 0;
    int s;

    out[0] = '\0';
    if (mask == ANY_ERR) {
        snprintf(out, cap, "any error");
        return;
    }
    for (s = 0; s < NSTATUS; s++)
        if (mask & S(s))
            n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%d (%s)", n ? " or " : "", s,
                                  ntlm_status_text((enum ntlm_status)s));
}

static size_t failures;

/* Run one input (copied alone into a block of exactly its length). */
static void check_input(const char *name, enum parser ps, const unsigned char *msg, size_t len,
                        unsigned allow)
{
    unsigned char *p = malloc(len ? len : 1);
    enum ntlm_status st;

    assert_non_null(p);
    memcpy(p, msg, len);
    st = run_parser(ps, p, len);
    if ((unsigned)st >= NSTATUS || !(allow & S(st))) {
        char want[512];
        describe_mask(allow, want, sizeof(want));
        print_message("# WRONG: %s [%s, %zu bytes]: got %d (%s), expected %s\n", name,
                      parser_name[ps], len, (int)st, ntlm_status_text(st), want);
        failures++;
    }
    free(p);
}

static void test_malformed_table(void **state)
{
    unsigned char *buf = malloc(65536 + 512);
    size_t i, j, total = 0;

    (void)state;
    assert_non_null(buf);
    load_bases();
    failures = 0;
    for (i = 0; i < NROWS; i++) {
        const struct row *r = &rows[i];
        size_t len = 0;

        if (r->base != B_HEX) {
            memcpy(buf, base_msg[r->base], base_len[r->base]);
            len = base_len[r->base];
        }
        if (r->hex)
            len += unhex(r->hex, buf + len, 512);
        for (j = 0; j < 3 && r->p[j].width; j++) {
            unsigned char *at = buf + r->p[j].off;
            if (r->p[j].width == 1)
                *at = (unsigned char)r->p[j].val;
            else if (r->p[j].width == 2)
                put16(at, r->p[j].val);
            else
                put32(at, r->p[j].val);
        }
        if (r->setlen) {
            if (r->setlen > len)
                memset(buf + len, 0, r->setlen - len);
            len = r->setlen;
        }
        check_input(r->name, r->parser, buf, len, r->allow);
        total++;
    }
    print_message("# %zu table rows, %zu wrong\n", total, failures);
    if (failures)
        fail_msg("%zu of %zu rows of the malformed-input table got the wrong status "
                 "(listed above)", failures, total);
    free(buf);
}

/* Every proper prefix of every vector message.  Which statuses are right:
 *   shorter than the fixed minimum (NEGOTIATE 16, CHALLENGE 32, AUTHENTICATE
 *   64 bytes): NTLM_ERR_SHORT;
 *   between that and the end of the VERSION block: SHORT or BOUNDS (the
 *   buffers' offsets point past the cut);
 *   past it: NTLM_ERR_BOUNDS (every vector's last buffer ends the message).
 *   AV list: NTLM_ERR_AV_TRUNCATED for every cut (no MsvAvEOL survives).
 *   NTLMv2 response: below 16 + 28 bytes V2_BLOB; then up to the end of
 *   MsvAvEOL, AV_TRUNCATED (or V2_BLOB); the cuts that drop only some of the
 *   final Z(4) leave a VALID shorter response (the list is whole, what
 *   follows MsvAvEOL is zeros, which an NTLMv2 client challenge allows). */
static void test_truncations(void **state)
{
    static const struct {
        enum base b;
        enum parser ps;
        size_t min, header;
    } msgs[] = {
        {B_NEG, P_NEG, NTLM_NEGOTIATE_MIN, NTLM_NEGOTIATE_HEADER},
        {B_CH1, P_CHAL, NTLM_CHALLENGE_MIN, NTLM_CHALLENGE_HEADER + NTLM_VERSION_LEN},
        {B_CH2, P_CHAL, NTLM_CHALLENGE_MIN, NTLM_CHALLENGE_HEADER + NTLM_VERSION_LEN},
        {B_CH3, P_CHAL, NTLM_CHALLENGE_MIN, NTLM_CHALLENGE_HEADER + NTLM_VERSION_LEN},
        {B_AU1, P_AUTH, NTLM_AUTHENTICATE_HEADER, NTLM_AUTHENTICATE_HEADER + NTLM_VERSION_LEN},
        {B_AU2, P_AUTH, NTLM_AUTHENTICATE_HEADER, NTLM_AUTHENTICATE_HEADER + NTLM_VERSION_LEN},
        {B_AU3, P_AUTH, NTLM_AUTHENTICATE_HEADER, NTLM_AUTHENTICATE_HEADER + NTLM_VERSION_LEN},
    };
    static const char *const bname[] = {"", "NEGOTIATE(OEM)", "4.2.2.3 CHALLENGE",
                                        "4.2.3.3 CHALLENGE", "4.2.4.3 CHALLENGE",
                                        "4.2.2.3 AUTHENTICATE", "4.2.3.3 AUTHENTICATE",
                                        "4.2.4.3 AUTHENTICATE", "4.2.4 target info",
                                        "4.2.4.2.2 NTLMv2 response"};
    size_t i, cut, total = 0, avend;
    char name[96];

    (void)state;
    load_bases();
    failures = 0;
    for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
        const unsigned char *m = base_msg[msgs[i].b];
        size_t len = base_len[msgs[i].b];

        check_input(bname[msgs[i].b], msgs[i].ps, m, len, S(NTLM_OK)); /* whole: valid */
        for (cut = 0; cut < len; cut++, total++) {
            unsigned allow = cut < msgs[i].min ? S(NTLM_ERR_SHORT)
                             : cut < msgs[i].header ? S(NTLM_ERR_SHORT) | S(NTLM_ERR_BOUNDS)
                                                    : S(NTLM_ERR_BOUNDS);
            snprintf(name, sizeof(name), "%s cut to %zu bytes", bname[msgs[i].b], cut);
            check_input(name, msgs[i].ps, m, cut, allow);
        }
    }
    for (cut = 0; cut < base_len[B_TI]; cut++, total++) {
        snprintf(name, sizeof(name), "%s cut to %zu bytes", bname[B_TI], cut);
        check_input(name, P_AV, base_msg[B_TI], cut, S(NTLM_ERR_AV_TRUNCATED));
        snprintf(name, sizeof(name), "%s cut to %zu bytes (zero_tail)", bname[B_TI], cut);
        check_input(name, P_AVZ, base_msg[B_TI], cut, S(NTLM_ERR_AV_TRUNCATED));
    }
    avend = NTLM_PROOF_LEN + NTLM_V2_BLOB_HEADER + base_len[B_TI];
    assert_int_equal(avend + 4, base_len[B_V2]);
    for (cut = 0; cut < base_len[B_V2]; cut++, total++) {
        unsigned allow = cut < NTLM_PROOF_LEN + NTLM_V2_BLOB_HEADER ? S(NTLM_ERR_V2_BLOB)
                         : cut < avend ? S(NTLM_ERR_AV_TRUNCATED) | S(NTLM_ERR_V2_BLOB)
                                       : S(NTLM_OK); /* only zeros of Z(4) dropped: valid */
        snprintf(name, sizeof(name), "%s cut to %zu bytes%s", bname[B_V2], cut,
                 cut >= avend ? " (only Z(4) bytes dropped: valid)" : "");
        check_input(name, P_V2, base_msg[B_V2], cut, allow);
    }
    print_message("# %zu truncations, %zu wrong\n", total, failures);
    if (failures)
        fail_msg("%zu of %zu truncations got the wrong status (listed above)", failures, total);
}

/* Every value of every byte of the AUTHENTICATE header's fields (lengths and
 * offsets included): the parse fails, or what it returns lies in the
 * payload, after the header, and no two non-empty fields share a byte. */
static void test_every_byte_value(void **state)
{
    size_t pos, v;
    unsigned char *m;
    struct ntlm_authenticate a;

    (void)state;
    load_bases();
    m = malloc(base_len[B_AU3]);
    assert_non_null(m);
    for (pos = 12; pos < 60; pos++)
        for (v = 0; v < 256; v++) {
            enum ntlm_status st;
            memcpy(m, base_msg[B_AU3], base_len[B_AU3]);
            m[pos] = (unsigned char)v;
            st = ntlm_parse_authenticate(m, base_len[B_AU3], &a);
            if (st == NTLM_OK) {
                /* whatever parsed lies inside the message, after the header */
                const struct ntlm_buf *b[] = {&a.lm, &a.nt, &a.domain, &a.user, &a.workstation,
                                              &a.session_key};
                size_t k, l;
                for (k = 0; k < 6; k++) {
                    if (!b[k]->len)
                        continue;
                    if (b[k]->p < m + NTLM_AUTHENTICATE_HEADER
                        || b[k]->p + b[k]->len > m + base_len[B_AU3])
                        fail_msg("byte %zu = %zu: field %zu outside the payload", pos, v, k);
                    for (l = 0; l < k; l++)
                        if (b[l]->len && b[l]->p < b[k]->p + b[k]->len
                            && b[k]->p < b[l]->p + b[l]->len)
                            fail_msg("byte %zu = %zu: fields %zu and %zu overlap", pos, v, l, k);
                }
            }
        }
    free(m);
}

/* ---- strings ----------------------------------------------------------------- */

/* UTF-8 / UTF-16LE encoders of one code point, written here. */
static size_t enc8(uint32_t c, unsigned char *o)
{
    if (c < 0x80)
        return o[0] = (unsigned char)c, 1;
    if (c < 0x800)
        return o[0] = (unsigned char)(0xc0 | c >> 6), o[1] = (unsigned char)(0x80 | (c & 63)), 2;
    if (c < 0x10000)
        return o[0] = (unsigned char)(0xe0 | c >> 12),
               o[1] = (unsigned char)(0x80 | (c >> 6 & 63)),
               o[2] = (unsigned char)(0x80 | (c & 63)), 3;
    return o[0] = (unsigned char)(0xf0 | c >> 18), o[1] = (unsigned char)(0x80 | (c >> 12 & 63)),
           o[2] = (unsigned char)(0x80 | (c >> 6 & 63)), o[3] = (unsigned char)(0x80 | (c & 63)),
           4;
}

static size_t enc16(uint32_t c, unsigned char *o)
{
    if (c < 0x10000)
        return put16(o, c), 2;
    c -= 0x10000;
    put16(o, 0xd800 | c >> 10);
    put16(o + 2, 0xdc00 | (c & 0x3ff));
    return 4;
}

/* Every Unicode scalar value but NUL and the surrogates, in both directions,
 * in strings of ~1000 code points at a time. */
static void test_utf_round_trip_all(void **state)
{
    enum { CHUNK = 1000 };
    unsigned char *u8 = malloc(CHUNK * 4), *u16 = malloc(CHUNK * 4), *got16 = malloc(CHUNK * 4);
    char *got8 = malloc(CHUNK * 4);
    uint32_t c = 1;

    (void)state;
    assert_true(u8 && u16 && got16 && got8);
    while (c <= 0x10ffff) {
        size_t n8 = 0, n16 = 0, k, r;
        uint32_t first = c;
        for (k = 0; k < CHUNK && c <= 0x10ffff; c++) {
            if (c >= 0xd800 && c <= 0xdfff)
                continue;
            n8 += enc8(c, u8 + n8);
            n16 += enc16(c, u16 + n16);
            k++;
        }
        r = ntlm_utf8_to_utf16le((const char *)u8, n8, got16, 2 * n8);
        if (r != n16 || memcmp(got16, u16, n16) != 0)
            fail_msg("UTF-8 -> UTF-16LE wrong for U+%04X..U+%04X", (unsigned)first,
                     (unsigned)(c - 1));
        r = ntlm_utf16le_to_utf8(u16, n16, got8, 3 * n16 / 2);
        if (r != n8 || memcmp(got8, u8, n8) != 0)
            fail_msg("UTF-16LE -> UTF-8 wrong for U+%04X..U+%04X", (unsigned)first,
                     (unsigned)(c - 1));
    }
    free(u8), free(u16), free(got16), free(got8);
}

struct conv_row {
    const char *name;
    const char *in_hex;
    const char *out_hex; /* NULL: must be refused */
};

static const struct conv_row utf8_rows[] = {
    {"empty", "", ""},
    {"ASCII", "55736572", "5500730065007200"},
    {"e acute", "c3a9", "e900"},
    {"euro sign", "e282ac", "ac20"},
    {"U+FFFF", "efbfbf", "ffff"},
    {"U+E000", "ee8080", "00e0"},
    {"U+10000 (first non-BMP)", "f0908080", "00d800dc"},
    {"U+1F600 (surrogate pair)", "f09f9880", "3dd800de"},
    {"U+10FFFF (last)", "f48fbfbf", "ffdbffdf"},
    {"mixed", "41c3a9e282acf09f988042", "4100e900ac203dd800de4200"},
    {"embedded NUL", "610062", NULL},
    {"a NUL alone", "00", NULL},
    {"trailing NUL", "6100", NULL},
    {"overlong NUL C0 80", "c080", NULL},
    {"overlong C1 BF", "c1bf", NULL},
    {"overlong 3-byte E0 80 80", "e08080", NULL},
    {"overlong 3-byte E0 9F BF", "e09fbf", NULL},
    {"overlong 4-byte F0 8F BF BF", "f08fbfbf", NULL},
    {"overlong slash C0 AF", "c0af", NULL},
    {"surrogate U+D800 (ED A0 80)", "eda080", NULL},
    {"surrogate U+DFFF (ED BF BF)", "edbfbf", NULL},
    {"CESU-8 pair for U+1F600", "eda0bdedb880", NULL},
    {"above U+10FFFF (F4 90 80 80)", "f4908080", NULL},
    {"F5 lead byte", "f5808080", NULL},
    {"FE", "fe", NULL},
    {"FF", "ff", NULL},
    {"lone continuation byte", "80", NULL},
    {"continuation after ASCII", "41bf", NULL},
    {"truncated 2-byte at the end", "41c3", NULL},
    {"truncated 3-byte", "e282", NULL},
    {"truncated 4-byte", "f09f98", NULL},
    {"2-byte lead then ASCII", "c341", NULL},
    {"3-byte lead, bad second", "e228a1", NULL},
    {"4-byte lead, bad third", "f09f2880", NULL},
    {"5-byte form", "f888808080", NULL},
};

static const struct conv_row utf16_rows[] = {
    {"empty", "", ""},
    {"ASCII", "5500730065007200", "55736572"},
    {"e acute", "e900", "c3a9"},
    {"U+1F600", "3dd800de", "f09f9880"},
    {"U+10FFFF", "ffdbffdf", "f48fbfbf"},
    {"odd length 1", "41", NULL},
    {"odd length 3", "410042", NULL},
    {"NUL", "0000", NULL},
    {"NUL inside", "410000004200", NULL},
    {"lone high surrogate at the end", "410000d8", NULL},
    {"lone high surrogate", "00d8", NULL},
    {"high surrogate then ASCII", "00d84100", NULL},
    {"high surrogate then high", "00d800d8", NULL},
    {"lone low surrogate", "00dc", NULL},
    {"low then high (reversed pair)", "00dc00d8", NULL},
    {"high surrogate, then one odd byte", "00d800", NULL},
};

static void check_conv(const struct conv_row *rows_, size_t n, int from16)
{
    size_t i, bad = 0;

    for (i = 0; i < n; i++) {
        unsigned char in[64], want[64], out[256];
        size_t il = unhex(rows_[i].in_hex, in, sizeof(in)), wl = 0, r;
        unsigned char *p = malloc(il ? il : 1);

        if (rows_[i].out_hex)
            wl = unhex(rows_[i].out_hex, want, sizeof(want));
        assert_non_null(p);
        memcpy(p, in, il);
        memset(out, 0xee, sizeof(out));
        r = from16 ? ntlm_utf16le_to_utf8(p, il, (char *)out, sizeof(out))
                   : ntlm_utf8_to_utf16le((const char *)p, il, out, sizeof(out));
        if (rows_[i].out_hex ? (r != wl || memcmp(out, want, wl) != 0) : r != BAD) {
            print_message("# WRONG: %s \"%s\" (%s): returned %lld\n",
                          from16 ? "UTF-16LE -> UTF-8" : "UTF-8 -> UTF-16LE", rows_[i].in_hex,
                          rows_[i].name, r == BAD ? -1LL : (long long)r);
            bad++;
        }
        /* and exactly enough room is enough, one byte less is not */
        if (rows_[i].out_hex && wl) {
            r = from16 ? ntlm_utf16le_to_utf8(p, il, (char *)out, wl)
                       : ntlm_utf8_to_utf16le((const char *)p, il, out, wl);
            if (r != wl) {
                print_message("# WRONG: %s with exactly %zu bytes of room: %lld\n",
                              rows_[i].name, wl, r == BAD ? -1LL : (long long)r);
                bad++;
            }
            memset(out, 0xee, sizeof(out));
            r = from16 ? ntlm_utf16le_to_utf8(p, il, (char *)out, wl - 1)
                       : ntlm_utf8_to_utf16le((const char *)p, il, out, wl - 1);
            if (r != BAD || out[wl - 1] != 0xee) {
                print_message("# WRONG: %s with %zu bytes of room (needs %zu): %lld\n",
                              rows_[i].name, wl - 1, wl, r == BAD ? -1LL : (long long)r);
                bad++;
            }
        }
        free(p);
    }
    if (bad)
        fail_msg("%zu conversion rows wrong (listed above)", bad);
}

static void test_utf8_to_utf16(void **state)
{
    (void)state;
    check_conv(utf8_rows, sizeof(utf8_rows) / sizeof(utf8_rows[0]), 0);
}

static void test_utf16_to_utf8(void **state)
{
    (void)state;
    check_conv(utf16_rows, sizeof(utf16_rows) / sizeof(utf16_rows[0]), 1);
}

/* OEM strings: 7-bit ASCII only. */
static void test_ascii(void **state)
{
    unsigned char out[32], in[4];
    unsigned v;

    (void)state;
    assert_int_equal(ntlm_ascii_to_utf16le((const unsigned char *)"DOMAIN", 6, out, sizeof(out)),
                     12);
    assert_memory_equal(out, "D\0O\0M\0A\0I\0N\0", 12);
    assert_int_equal(ntlm_ascii_to_utf16le((const unsigned char *)"", 0, out, sizeof(out)), 0);
    assert_int_equal(ntlm_ascii_to_utf16le((const unsigned char *)"DOMAIN", 6, out, 11), BAD);
    for (v = 0; v < 256; v++) {
        size_t r;
        in[0] = 'a';
        in[1] = (unsigned char)v;
        r = ntlm_ascii_to_utf16le(in, 2, out, sizeof(out));
        if (v == 0 || v >= 0x80) {
            if (r != BAD)
                fail_msg("OEM byte 0x%02x accepted", v);
        } else {
            assert_int_equal(r, 4);
            assert_int_equal(out[2], v);
            assert_int_equal(out[3], 0);
        }
    }
    /* Latin-1 e acute, CP850 e acute: non-ASCII OEM refused */
    assert_int_equal(ntlm_ascii_to_utf16le((const unsigned char *)"caf\xe9", 4, out, sizeof(out)),
                     BAD);
    assert_int_equal(ntlm_ascii_to_utf16le((const unsigned char *)"caf\x82", 4, out, sizeof(out)),
                     BAD);
}

/* NTOWFv2's upper-casing: the simple mappings of the BMP that Unicode 3.2
 * had (plugins/ntlm/ntlm_upcase.c, no locale). */
static void test_upper(void **state)
{
    static const struct {
        const char *name, *in, *out; /* UTF-8 */
    } cases[] = {
        {"ASCII", "user1@example.org", "USER1@EXAMPLE.ORG"},
        {"e", "e", "E"},
        {"e acute", "\xc3\xa9", "\xc3\x89"},
        {"sigma", "\xcf\x83", "\xce\xa3"},
        {"final sigma", "\xcf\x82", "\xce\xa3"},
        {"sharp s unchanged (no simple upper case)", "\xc3\x9f", "\xc3\x9f"},
        {"y diaeresis to U+0178", "\xc3\xbf", "\xc5\xb8"},
        {"Cyrillic ya", "\xd1\x8f", "\xd0\xaf"},
        {"i to I (not dotted)", "i", "I"},
        {"already upper", "USER \xc3\x89", "USER \xc3\x89"},
        {"digits and punctuation", "0123[]{}~", "0123[]{}~"},
        {"surrogate pair unchanged (U+1F600)", "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},
        {"Deseret small long I stays (non-BMP)", "\xf0\x90\x90\xa8", "\xf0\x90\x90\xa8"},
        {"mixed", "j\xc3\xbcrgen\xf0\x9f\x98\x80\xcf\x83", "J\xc3\x9cRGEN\xf0\x9f\x98\x80\xce\xa3"},
        {"4.2.1 User", "User", "USER"},
        {"micro sign to Greek capital mu (U+039C)", "\xc2\xb5", "\xce\x9c"},
        {"dotless i to I", "\xc4\xb1", "I"},
        {"long s to S", "\xc5\xbf", "S"},
        {"titlecase dz (U+01C5) to U+01C4", "\xc7\x85", "\xc7\x84"},
        {"every other one: U+0101 to U+0100, U+0100 stays", "\xc4\x81\xc4\x80", "\xc4\x80\xc4\x80"},
        {"Georgian an unchanged (Mtavruli is Unicode 11, not Windows')", "\xe1\x83\x90", "\xe1\x83\x90"},
        {"Cherokee small a unchanged (Unicode 8)", "\xea\xad\xb0", "\xea\xad\xb0"},
        {"fullwidth a to fullwidth A", "\xef\xbd\x81", "\xef\xbc\xa1"},
        {"alpha with psili and ypogegrammeni (U+1F80) to U+1F88: the simple mapping",
         "\xe1\xbe\x80", "\xe1\xbe\x88"},
    };
    size_t i, bad = 0;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned char a[64], b[64];
        size_t al = u16(cases[i].in, a, sizeof(a)), bl = u16(cases[i].out, b, sizeof(b));
        assert_int_equal(al, bl);
        ntlm_utf16le_upper(a, al);
        if (memcmp(a, b, al) != 0) {
            print_message("# WRONG: upper(%s) (%s)\n", cases[i].in, cases[i].name);
            bad++;
        }
    }
    if (bad)
        fail_msg("%zu upper-case rows wrong", bad);
}

static void test_status_text(void **state)
{
    int a, b;

    (void)state;
    for (a = 0; a < NSTATUS; a++) {
        const char *t = ntlm_status_text((enum ntlm_status)a);
        assert_non_null(t);
        assert_true(strlen(t) > 0);
        for (b = 0; b < a; b++)
            assert_string_not_equal(t, ntlm_status_text((enum ntlm_status)b));
    }
    assert_non_null(ntlm_status_text((enum ntlm_status)99));
}

/* A Windows FILETIME: 100 ns units since 1601-01-01, little-endian
 * (MS-NLMP 2.2.2.1's MsvAvTimestamp); 1970-01-01 is 116444736000000000. */
static void test_filetime(void **state)
{
    static const unsigned char epoch[NTLM_TIMESTAMP_LEN] = {0x00, 0x80, 0x3e, 0xd5,
                                                            0xde, 0xb1, 0x9d, 0x01};
    static const unsigned char later[NTLM_TIMESTAMP_LEN] = {0x99, 0x16, 0xd7, 0xd5,
                                                            0xde, 0xb1, 0x9d, 0x01};
    unsigned char out[NTLM_TIMESTAMP_LEN];

    (void)state;
    ntlm_filetime(0, 0, out);
    assert_memory_equal(out, epoch, sizeof(out));
    /* 1 s and 2599 ns later: 10000000 + 25 units (the rest of 100 ns dropped) */
    ntlm_filetime(0, 2599, out);
    assert_int_equal(out[0], 0x19);
    ntlm_filetime(1, 2599, out);
    assert_memory_equal(out, later, sizeof(out));
    /* 2038 and beyond: no 32-bit overflow */
    ntlm_filetime(4102444800u, 0, out); /* 2100-01-01: 0x022f716377640000 */
    assert_int_equal(out[7], 0x02);
    assert_int_equal(out[6], 0x2f);
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_challenge_4223),
        cmocka_unit_test(test_challenge_4233),
        cmocka_unit_test(test_challenge_4243),
        cmocka_unit_test(test_authenticate_4223),
        cmocka_unit_test(test_authenticate_4233),
        cmocka_unit_test(test_authenticate_4243),
        cmocka_unit_test(test_authenticate_no_version),
        cmocka_unit_test(test_negotiate),
        cmocka_unit_test(test_negotiate_supplied),
        cmocka_unit_test(test_av_pairs_4_2_4),
        cmocka_unit_test(test_av_pairs_all_ids),
        cmocka_unit_test(test_v2_response),
        cmocka_unit_test(test_v2_response_with_flags),
        cmocka_unit_test(test_malformed_table),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_every_byte_value),
        cmocka_unit_test(test_utf_round_trip_all),
        cmocka_unit_test(test_utf8_to_utf16),
        cmocka_unit_test(test_utf16_to_utf8),
        cmocka_unit_test(test_ascii),
        cmocka_unit_test(test_upper),
        cmocka_unit_test(test_status_text),
        cmocka_unit_test(test_filetime),
    };
    int rc = cmocka_run_group_tests_name("ntlm_codec", tests, NULL, NULL);
    size_t i;

    for (i = 0; i < NBASES; i++)
        free(base_msg[i]);
    return rc;
}
