#include "config.h"
#include "ntlm_codec.h"
#include "ntlm_upcase.h"

#include <string.h>

static const unsigned char signature[8] = "NTLMSSP";

enum { TYPE_NEGOTIATE = 1, TYPE_CHALLENGE = 2, TYPE_AUTHENTICATE = 3 };

/* MS-NLMP 2.2.1: what tells the three messages' fixed headers apart, for
 * the parsers and the builders alike. */
struct ntlm_codec_layout {
    uint32_t type;
    size_t min;      /* the shortest message the parser accepts (the oldest peers' form) */
    size_t flags_at; /* NegotiateFlags */
    size_t header;   /* the whole fixed header, before the VERSION the flags may announce */
};
static const struct ntlm_codec_layout ntlm_codec_negotiate_layout = {
    TYPE_NEGOTIATE, NTLM_NEGOTIATE_MIN, 12, NTLM_NEGOTIATE_HEADER};
static const struct ntlm_codec_layout ntlm_codec_challenge_layout = {
    TYPE_CHALLENGE, NTLM_CHALLENGE_MIN, 20, NTLM_CHALLENGE_HEADER};
static const struct ntlm_codec_layout ntlm_codec_authenticate_layout = {
    TYPE_AUTHENTICATE, NTLM_AUTHENTICATE_HEADER, 60, NTLM_AUTHENTICATE_HEADER};

const char *ntlm_status_text(enum ntlm_status st)
{
    switch (st) {
    case NTLM_OK: return "ok";
    case NTLM_ERR_SHORT: return "message shorter than its header";
    case NTLM_ERR_TOO_BIG: return "message too long";
    case NTLM_ERR_SIGNATURE: return "not an NTLMSSP message";
    case NTLM_ERR_TYPE: return "unexpected message type";
    case NTLM_ERR_BOUNDS: return "a field lies outside the message payload";
    case NTLM_ERR_OVERLAP: return "two fields overlap";
    case NTLM_ERR_AV_TRUNCATED: return "target information truncated";
    case NTLM_ERR_AV_DUPLICATE: return "target information repeats an entry";
    case NTLM_ERR_AV_LENGTH: return "target information entry of the wrong length";
    case NTLM_ERR_AV_TRAILING: return "data after the end of the target information";
    case NTLM_ERR_V2_BLOB: return "malformed NTLMv2 response";
    case NTLM_ERR_STRING: return "malformed name (UTF-16 or UTF-8)";
    case NTLM_ERR_NO_SPACE: return "output does not fit";
    }
    return "unknown error";
}

static uint16_t ntlm_codec_get16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t ntlm_codec_get32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16)
           | ((uint32_t)p[3] << 24);
}

static void ntlm_codec_put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void ntlm_codec_put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

/* The start of every parser: out (size bytes) cleared, so that a refused
 * message leaves nothing of a former one; the length, signature and type
 * of a message laid out as l checked; its flags read. */
static enum ntlm_status ntlm_codec_open(const unsigned char *m, size_t len,
                                        const struct ntlm_codec_layout *l, void *out, size_t size,
                                        uint32_t *flags)
{
    memset(out, 0, size);
    if (len > NTLM_MAX_MESSAGE)
        return NTLM_ERR_TOO_BIG;
    if (len < l->min)
        return NTLM_ERR_SHORT;
    if (memcmp(m, signature, sizeof(signature)) != 0)
        return NTLM_ERR_SIGNATURE;
    if (ntlm_codec_get32(m + 8) != l->type)
        return NTLM_ERR_TYPE;
    *flags = ntlm_codec_get32(m + l->flags_at);
    return NTLM_OK;
}

/* MS-NLMP 2.2.1: the VERSION field follows the fixed header when the
 * flags say so; the payload cannot start inside it. */
static size_t ntlm_codec_payload_at(const struct ntlm_codec_layout *l, uint32_t flags)
{
    return l->header + (flags & NTLM_NEGOTIATE_VERSION ? NTLM_VERSION_LEN : 0);
}

/* The message's security buffers, checked together: each inside
 * [header, len), no two sharing a byte. */
struct field {
    size_t at;                  /* offset of the 8-byte field in the header */
    struct ntlm_buf *out;
};

static enum ntlm_status ntlm_codec_read_fields(const unsigned char *m, size_t len, size_t header,
                                               struct field *f, size_t n, size_t *payload_start)
{
    size_t i, j, lowest = len;
    uint32_t off[8];

    if (header > len)
        return NTLM_ERR_SHORT;
    for (i = 0; i < n; i++) {
        uint16_t blen = ntlm_codec_get16(m + f[i].at);
        uint32_t o = ntlm_codec_get32(m + f[i].at + 4);

        f[i].out->p = NULL;
        f[i].out->len = 0;
        off[i] = o;
        if (!blen)
            continue;
        /* compared in size_t, and as o <= len first, so nothing wraps */
        if (o < header || o > len || blen > len - o)
            return NTLM_ERR_BOUNDS;
        f[i].out->p = m + o;
        f[i].out->len = blen;
        if (o < lowest)
            lowest = o;
    }
    for (i = 0; i < n; i++)
        for (j = i + 1; j < n; j++)
            if (f[i].out->len && f[j].out->len && off[i] < off[j] + f[j].out->len
                && off[j] < off[i] + f[i].out->len)
                return NTLM_ERR_OVERLAP;
    if (payload_start)
        *payload_start = lowest;
    return NTLM_OK;
}

enum ntlm_status ntlm_parse_negotiate(const void *msg, size_t len, struct ntlm_negotiate *out)
{
    const struct ntlm_codec_layout *l = &ntlm_codec_negotiate_layout;
    struct field f[] = {{16, &out->domain}, {24, &out->workstation}};
    enum ntlm_status st = ntlm_codec_open(msg, len, l, out, sizeof(*out), &out->flags);

    if (st != NTLM_OK)
        return st;
    /* the oldest clients send the flags alone, and then supply no names;
     * anything else shorter than the header is a truncated header */
    if (len == l->min
        && !(out->flags & (NTLM_NEGOTIATE_OEM_DOMAIN_SUPPLIED
                           | NTLM_NEGOTIATE_OEM_WORKSTATION_SUPPLIED)))
        return NTLM_OK;
    if (len < l->header)
        return NTLM_ERR_SHORT;
    return ntlm_codec_read_fields(msg, len, ntlm_codec_payload_at(l, out->flags), f, 2, NULL);
}

enum ntlm_status ntlm_parse_challenge(const void *msg, size_t len, struct ntlm_challenge *out)
{
    const unsigned char *m = msg;
    const struct ntlm_codec_layout *l = &ntlm_codec_challenge_layout;
    struct field f[] = {{12, &out->target_name}, {40, &out->target_info}};
    enum ntlm_status st = ntlm_codec_open(m, len, l, out, sizeof(*out), &out->flags);

    if (st != NTLM_OK)
        return st;
    memcpy(out->server_challenge, m + 24, NTLM_CHALLENGE_LEN);
    /* the oldest servers send no target information fields */
    if (len < l->header)
        return ntlm_codec_read_fields(m, len, l->min, f, 1, NULL);
    return ntlm_codec_read_fields(m, len, ntlm_codec_payload_at(l, out->flags), f, 2, NULL);
}

enum ntlm_status ntlm_parse_authenticate(const void *msg, size_t len,
                                         struct ntlm_authenticate *out)
{
    const struct ntlm_codec_layout *l = &ntlm_codec_authenticate_layout;
    struct field f[] = {{12, &out->lm}, {20, &out->nt}, {28, &out->domain},
                        {36, &out->user}, {44, &out->workstation}, {52, &out->session_key}};
    enum ntlm_status st = ntlm_codec_open(msg, len, l, out, sizeof(*out), &out->flags);

    if (st != NTLM_OK)
        return st;
    return ntlm_codec_read_fields(msg, len, ntlm_codec_payload_at(l, out->flags), f, 6,
                                  &out->payload_start);
}

/* ---- AV pairs ------------------------------------------------------------ */

/* One pair other than MsvAvEOL into out: the names as they are, the
 * fixed-size values checked for their size, unknown ids skipped. */
static enum ntlm_status ntlm_codec_av_value(struct ntlm_av_info *out, uint16_t id,
                                            const unsigned char *v, uint16_t n)
{
    switch (id) {
    case NTLM_AV_NB_COMPUTER: out->nb_computer = (struct ntlm_buf){v, n}; break;
    case NTLM_AV_NB_DOMAIN: out->nb_domain = (struct ntlm_buf){v, n}; break;
    case NTLM_AV_DNS_COMPUTER: out->dns_computer = (struct ntlm_buf){v, n}; break;
    case NTLM_AV_DNS_DOMAIN: out->dns_domain = (struct ntlm_buf){v, n}; break;
    case NTLM_AV_DNS_TREE: out->dns_tree = (struct ntlm_buf){v, n}; break;
    case NTLM_AV_TARGET_NAME: out->target_name = (struct ntlm_buf){v, n}; break;
    case NTLM_AV_FLAGS:
        if (n != 4)
            return NTLM_ERR_AV_LENGTH;
        out->has_flags = 1;
        out->flags = ntlm_codec_get32(v);
        break;
    case NTLM_AV_TIMESTAMP:
        if (n != NTLM_TIMESTAMP_LEN)
            return NTLM_ERR_AV_LENGTH;
        out->has_timestamp = 1;
        memcpy(out->timestamp, v, n);
        break;
    case NTLM_AV_CHANNEL_BINDINGS:
        if (n != sizeof(out->channel_bindings))
            return NTLM_ERR_AV_LENGTH;
        out->has_channel_bindings = 1;
        memcpy(out->channel_bindings, v, n);
        break;
    default:
        break;
    }
    return NTLM_OK;
}

enum ntlm_status ntlm_parse_av_pairs(const unsigned char *p, size_t len, int zero_tail,
                                     struct ntlm_av_info *out)
{
    size_t pos = 0;
    unsigned seen = 0;

    memset(out, 0, sizeof(*out));
    for (;;) {
        uint16_t id, n;
        const unsigned char *v;
        enum ntlm_status st;

        if (len - pos < 4)
            return NTLM_ERR_AV_TRUNCATED;
        id = ntlm_codec_get16(p + pos);
        n = ntlm_codec_get16(p + pos + 2);
        pos += 4;
        if (n > len - pos)
            return NTLM_ERR_AV_TRUNCATED;
        v = p + pos;
        pos += n;
        if (id < 16) {
            if (seen & (1u << id))
                return NTLM_ERR_AV_DUPLICATE;
            seen |= 1u << id;
        }
        if (id == NTLM_AV_EOL) {
            if (n)
                return NTLM_ERR_AV_LENGTH;
            out->list_len = pos;
            for (; pos < len; pos++)
                if (!zero_tail || p[pos])
                    return NTLM_ERR_AV_TRAILING;
            return NTLM_OK;
        }
        if ((st = ntlm_codec_av_value(out, id, v, n)) != NTLM_OK)
            return st;
    }
}

enum ntlm_status ntlm_parse_v2_response(const struct ntlm_buf *nt, struct ntlm_v2_response *out)
{
    const unsigned char *b;
    size_t blen;

    memset(out, 0, sizeof(*out));
    /* the proof, then the blob header and at least MsvAvEOL */
    if (nt->len < NTLM_PROOF_LEN + NTLM_V2_BLOB_HEADER + 4)
        return NTLM_ERR_V2_BLOB;
    b = nt->p + NTLM_PROOF_LEN;
    blen = nt->len - NTLM_PROOF_LEN;
    if (b[0] != 1 || b[1] != 1)
        return NTLM_ERR_V2_BLOB;
    out->proof = nt->p;
    out->temp = (struct ntlm_buf){b, blen};
    memcpy(out->timestamp, b + 8, NTLM_TIMESTAMP_LEN);
    memcpy(out->client_challenge, b + 16, NTLM_CHALLENGE_LEN);
    out->av_pairs = (struct ntlm_buf){b + NTLM_V2_BLOB_HEADER, blen - NTLM_V2_BLOB_HEADER};
    return ntlm_parse_av_pairs(out->av_pairs.p, out->av_pairs.len, 1, &out->av);
}

/* ---- builders ------------------------------------------------------------ */

/* The signature, type and flags of a message laid out as l. */
static void ntlm_codec_put_header(unsigned char *out, const struct ntlm_codec_layout *l,
                                  uint32_t flags)
{
    memcpy(out, signature, sizeof(signature));
    ntlm_codec_put32(out + 8, l->type);
    ntlm_codec_put32(out + l->flags_at, flags);
}

size_t ntlm_build_negotiate(uint32_t flags, unsigned char *out, size_t cap)
{
    if (cap < NTLM_NEGOTIATE_HEADER)
        return 0;
    memset(out, 0, NTLM_NEGOTIATE_HEADER);
    ntlm_codec_put_header(out, &ntlm_codec_negotiate_layout,
                          flags & ~(NTLM_NEGOTIATE_OEM_DOMAIN_SUPPLIED
                                    | NTLM_NEGOTIATE_OEM_WORKSTATION_SUPPLIED
                                    | NTLM_NEGOTIATE_VERSION));
    return NTLM_NEGOTIATE_HEADER;
}

/* Write field at (header offset) and its bytes at *pos. */
static void ntlm_codec_put_field(unsigned char *out, size_t at, const struct ntlm_buf *b,
                                 size_t *pos)
{
    ntlm_codec_put16(out + at, (uint16_t)b->len);
    ntlm_codec_put16(out + at + 2, (uint16_t)b->len);
    ntlm_codec_put32(out + at + 4, (uint32_t)*pos);
    if (b->len)
        memcpy(out + *pos, b->p, b->len);
    *pos += b->len;
}

static int ntlm_codec_too_long(const struct ntlm_buf *b)
{
    return b->len > 0xffff;
}

size_t ntlm_build_challenge(const struct ntlm_challenge_fields *f, unsigned char *out,
                            size_t cap)
{
    size_t hdr = NTLM_CHALLENGE_HEADER + (f->version ? NTLM_VERSION_LEN : 0);
    size_t pos = hdr;
    uint32_t flags = f->flags & ~(NTLM_NEGOTIATE_TARGET_INFO | NTLM_NEGOTIATE_VERSION);

    if (ntlm_codec_too_long(&f->target_name) || ntlm_codec_too_long(&f->target_info)
        || cap < hdr || cap - hdr < f->target_name.len
        || cap - hdr - f->target_name.len < f->target_info.len)
        return 0;
    if (f->target_info.len)
        flags |= NTLM_NEGOTIATE_TARGET_INFO;
    if (f->version)
        flags |= NTLM_NEGOTIATE_VERSION;
    memset(out, 0, hdr);
    ntlm_codec_put_header(out, &ntlm_codec_challenge_layout, flags);
    memcpy(out + 24, f->server_challenge, NTLM_CHALLENGE_LEN);
    ntlm_codec_put_field(out, 12, &f->target_name, &pos);
    /* MS-NLMP 2.2.1.2: without NEGOTIATE_TARGET_INFO the fields are zero */
    if (f->target_info.len)
        ntlm_codec_put_field(out, 40, &f->target_info, &pos);
    if (f->version)
        memcpy(out + NTLM_CHALLENGE_HEADER, f->version, NTLM_VERSION_LEN);
    return pos;
}

size_t ntlm_build_authenticate(const struct ntlm_authenticate_fields *f, unsigned char *out,
                               size_t cap)
{
    const struct ntlm_buf *order[] = {&f->domain, &f->user, &f->workstation,
                                      &f->lm, &f->nt, &f->session_key};
    static const size_t at[] = {28, 36, 44, 12, 20, 52};
    size_t hdr = f->with_mic ? NTLM_AUTHENTICATE_MIC_HEADER
                 : NTLM_AUTHENTICATE_HEADER + (f->version ? NTLM_VERSION_LEN : 0);
    size_t i, pos = hdr, total = hdr;
    uint32_t flags = f->flags & ~NTLM_NEGOTIATE_VERSION;

    for (i = 0; i < 6; i++) {
        if (ntlm_codec_too_long(order[i]))
            return 0;
        total += order[i]->len;
    }
    if (total > cap)
        return 0;
    if (f->version)
        flags |= NTLM_NEGOTIATE_VERSION;
    memset(out, 0, hdr);
    ntlm_codec_put_header(out, &ntlm_codec_authenticate_layout, flags);
    for (i = 0; i < 6; i++)
        ntlm_codec_put_field(out, at[i], order[i], &pos);
    if (f->version)
        memcpy(out + NTLM_AUTHENTICATE_HEADER, f->version, NTLM_VERSION_LEN);
    return pos;
}

void ntlm_av_put(struct ntlm_av_writer *w, enum ntlm_av_id id, const void *value, size_t n)
{
    if (w->failed || n > 0xffff || w->cap - w->len < 4 || w->cap - w->len - 4 < n) {
        w->failed = 1;
        return;
    }
    ntlm_codec_put16(w->p + w->len, (uint16_t)id);
    ntlm_codec_put16(w->p + w->len + 2, (uint16_t)n);
    if (n)
        memcpy(w->p + w->len + 4, value, n);
    w->len += 4 + n;
}

void ntlm_filetime(uint64_t sec, uint32_t nsec, unsigned char out[NTLM_TIMESTAMP_LEN])
{
    /* 11644473600 s from 1601-01-01 to 1970-01-01 */
    uint64_t t = (sec + 11644473600u) * 10000000u + nsec / 100u;
    int i;

    for (i = 0; i < NTLM_TIMESTAMP_LEN; i++)
        out[i] = (unsigned char)(t >> (8 * i));
}

size_t ntlm_av_end(struct ntlm_av_writer *w)
{
    ntlm_av_put(w, NTLM_AV_EOL, NULL, 0);
    return w->failed ? 0 : w->len;
}

/* ---- strings ------------------------------------------------------------- */

/* One code point from UTF-8 at *i, or -1 (strict: RFC 3629). */
static long ntlm_codec_utf8_next(const unsigned char *s, size_t len, size_t *i)
{
    unsigned char c = s[*i];
    size_t n, k;
    long cp, min;

    if (c < 0x80) {
        n = 0, cp = c, min = 0;
    } else if (c >= 0xc2 && c <= 0xdf) {
        n = 1, cp = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 2, cp = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 3, cp = c & 0x07, min = 0x10000;
    } else {
        return -1;
    }
    if (len - *i - 1 < n)
        return -1;
    for (k = 1; k <= n; k++) {
        unsigned char d = s[*i + k];
        if ((d & 0xc0) != 0x80)
            return -1;
        cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0)
        return -1;
    *i += n + 1;
    return cp;
}

size_t ntlm_utf8_to_utf16le(const char *in, size_t len, unsigned char *out, size_t cap)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0, o = 0;

    while (i < len) {
        long cp = ntlm_codec_utf8_next(s, len, &i);

        if (cp < 0)
            return (size_t)-1;
        if (cp >= 0x10000) {
            if (cap - o < 4)
                return (size_t)-1;
            cp -= 0x10000;
            ntlm_codec_put16(out + o, (uint16_t)(0xd800 | (cp >> 10)));
            ntlm_codec_put16(out + o + 2, (uint16_t)(0xdc00 | (cp & 0x3ff)));
            o += 4;
        } else {
            if (cap - o < 2)
                return (size_t)-1;
            ntlm_codec_put16(out + o, (uint16_t)cp);
            o += 2;
        }
    }
    return o;
}

size_t ntlm_utf16le_to_utf8(const unsigned char *in, size_t len, char *out, size_t cap)
{
    unsigned char *d = (unsigned char *)out;
    size_t i, o = 0, n;
    unsigned long cp;

    if (len % 2)
        return (size_t)-1;
    for (i = 0; i < len; i += 2) {
        cp = ntlm_codec_get16(in + i);
        if (cp >= 0xdc00 && cp <= 0xdfff)
            return (size_t)-1;
        if (cp >= 0xd800 && cp <= 0xdbff) {
            unsigned long lo;
            if (len - i < 4 || (lo = ntlm_codec_get16(in + i + 2)) < 0xdc00 || lo > 0xdfff)
                return (size_t)-1;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            i += 2;
        }
        if (cp == 0)
            return (size_t)-1;
        n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        if (cap - o < n)
            return (size_t)-1;
        switch (n) {
        case 1:
            d[o] = (unsigned char)cp;
            break;
        case 2:
            d[o] = (unsigned char)(0xc0 | (cp >> 6));
            d[o + 1] = (unsigned char)(0x80 | (cp & 0x3f));
            break;
        case 3:
            d[o] = (unsigned char)(0xe0 | (cp >> 12));
            d[o + 1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
            d[o + 2] = (unsigned char)(0x80 | (cp & 0x3f));
            break;
        default:
            d[o] = (unsigned char)(0xf0 | (cp >> 18));
            d[o + 1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
            d[o + 2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
            d[o + 3] = (unsigned char)(0x80 | (cp & 0x3f));
            break;
        }
        o += n;
    }
    return o;
}

size_t ntlm_ascii_to_utf16le(const unsigned char *in, size_t len, unsigned char *out, size_t cap)
{
    size_t i;

    if (len > cap / 2)
        return (size_t)-1;
    for (i = 0; i < len; i++) {
        if (!in[i] || in[i] >= 0x80)
            return (size_t)-1;
        ntlm_codec_put16(out + 2 * i, in[i]);
    }
    return 2 * len;
}

size_t ntlm_encode_name(int unicode, const char *utf8, size_t len, unsigned char *out,
                        size_t cap)
{
    size_t i;

    if (unicode)
        return ntlm_utf8_to_utf16le(utf8, len, out, cap);
    if (len > cap)
        return (size_t)-1;
    for (i = 0; i < len; i++) {
        if (!utf8[i] || (unsigned char)utf8[i] >= 0x80)
            return (size_t)-1;
        out[i] = (unsigned char)utf8[i];
    }
    return len;
}

size_t ntlm_decode_name(int unicode, const unsigned char *in, size_t len, char *out, size_t cap)
{
    if (unicode)
        return ntlm_utf16le_to_utf8(in, len, out, cap);
    /* ASCII is UTF-8 already: the same check as the other way */
    return ntlm_encode_name(0, (const char *)in, len, (unsigned char *)out, cap);
}

/* The mapping of one UTF-16 unit outside ASCII: a binary search of the
 * generated runs (ntlm_upcase.c). */
static uint16_t ntlm_codec_upcase(uint16_t c)
{
    unsigned lo = 0, hi = ntlm_upcase_nruns;

    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        const struct ntlm_upcase_run *r = &ntlm_upcase_runs[mid];

        if (c < r->first)
            hi = mid;
        else if (c > r->last)
            lo = mid + 1;
        else
            return (uint16_t)((c - r->first) % r->stride ? c : c + r->delta);
    }
    return c;
}

void ntlm_utf16le_upper(unsigned char *s, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i += 2) {
        uint16_t c = ntlm_codec_get16(s + i);

        if (c >= 'a' && c <= 'z')
            c = (uint16_t)(c - ('a' - 'A'));
        else if (c >= 0x80)
            c = ntlm_codec_upcase(c); /* surrogates are in no run: pairs stay as they are */
        ntlm_codec_put16(s + i, c);
    }
}
