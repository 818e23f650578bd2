/* NTLM messages (MS-NLMP 2.2): NEGOTIATE, CHALLENGE and AUTHENTICATE, the
 * AV_PAIR list of target information, the NTLMv2 client challenge, and the
 * UTF-8 / UTF-16LE conversions the strings need.  Pure functions: no
 * libsasl2, no allocation; a parsed message's buffers point into it.
 *
 * A security buffer is (Len, MaxLen, Offset) in the fixed header.  Parsing
 * refuses one whose Offset + Len passes the end of the message, that
 * starts inside the fixed header, or that overlaps another; MaxLen is read
 * but not trusted.  An empty buffer's offset is not looked at. */
#ifndef NTLM_CODEC_H
#define NTLM_CODEC_H

#include <stddef.h>
#include <stdint.h>

/* NegotiateFlags (MS-NLMP 2.2.2.5) */
#define NTLM_NEGOTIATE_UNICODE 0x00000001u
#define NTLM_NEGOTIATE_OEM 0x00000002u
#define NTLM_REQUEST_TARGET 0x00000004u
#define NTLM_NEGOTIATE_SIGN 0x00000010u
#define NTLM_NEGOTIATE_SEAL 0x00000020u
#define NTLM_NEGOTIATE_LM_KEY 0x00000080u
#define NTLM_NEGOTIATE_NTLM 0x00000200u
#define NTLM_NEGOTIATE_ANONYMOUS 0x00000800u
#define NTLM_NEGOTIATE_OEM_DOMAIN_SUPPLIED 0x00001000u
#define NTLM_NEGOTIATE_OEM_WORKSTATION_SUPPLIED 0x00002000u
#define NTLM_NEGOTIATE_ALWAYS_SIGN 0x00008000u
#define NTLM_TARGET_TYPE_DOMAIN 0x00010000u
#define NTLM_TARGET_TYPE_SERVER 0x00020000u
#define NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY 0x00080000u
#define NTLM_REQUEST_NON_NT_SESSION_KEY 0x00400000u
#define NTLM_NEGOTIATE_TARGET_INFO 0x00800000u
#define NTLM_NEGOTIATE_VERSION 0x02000000u
#define NTLM_NEGOTIATE_128 0x20000000u
#define NTLM_NEGOTIATE_KEY_EXCH 0x40000000u
#define NTLM_NEGOTIATE_56 0x80000000u

/* AvId (MS-NLMP 2.2.2.1) */
enum ntlm_av_id {
    NTLM_AV_EOL = 0,
    NTLM_AV_NB_COMPUTER = 1,
    NTLM_AV_NB_DOMAIN = 2,
    NTLM_AV_DNS_COMPUTER = 3,
    NTLM_AV_DNS_DOMAIN = 4,
    NTLM_AV_DNS_TREE = 5,
    NTLM_AV_FLAGS = 6,
    NTLM_AV_TIMESTAMP = 7,
    NTLM_AV_SINGLE_HOST = 8,
    NTLM_AV_TARGET_NAME = 9,
    NTLM_AV_CHANNEL_BINDINGS = 10,
};
/* MsvAvFlags: the AUTHENTICATE message carries a MIC */
#define NTLM_AV_FLAG_MIC 0x00000002u

#define NTLM_CHALLENGE_LEN 8
#define NTLM_VERSION_LEN 8
#define NTLM_MIC_LEN 16
#define NTLM_TIMESTAMP_LEN 8
#define NTLM_V1_RESPONSE_LEN 24
#define NTLM_PROOF_LEN 16
/* Fixed headers: the smallest each message may have, and the AUTHENTICATE
 * header with VERSION and MIC, where the MIC lies. */
#define NTLM_NEGOTIATE_MIN 16
#define NTLM_NEGOTIATE_HEADER 32
#define NTLM_CHALLENGE_MIN 32
#define NTLM_CHALLENGE_HEADER 48
#define NTLM_AUTHENTICATE_HEADER 64
#define NTLM_MIC_OFFSET 72
#define NTLM_AUTHENTICATE_MIC_HEADER (NTLM_MIC_OFFSET + NTLM_MIC_LEN)
/* The NTLMv2 client challenge up to its AV pairs (MS-NLMP 2.2.2.7). */
#define NTLM_V2_BLOB_HEADER 28
/* No message of ours, nor any a Windows peer sends, comes near this. */
#define NTLM_MAX_MESSAGE 8192

enum ntlm_status {
    NTLM_OK = 0,
    NTLM_ERR_SHORT,        /* shorter than its fixed header */
    NTLM_ERR_TOO_BIG,      /* longer than NTLM_MAX_MESSAGE */
    NTLM_ERR_SIGNATURE,    /* not "NTLMSSP\0" */
    NTLM_ERR_TYPE,         /* another MessageType */
    NTLM_ERR_BOUNDS,       /* a buffer past the end or inside the header */
    NTLM_ERR_OVERLAP,      /* two buffers share bytes */
    NTLM_ERR_AV_TRUNCATED, /* an AV_PAIR runs past the list, or no MsvAvEOL */
    NTLM_ERR_AV_DUPLICATE,
    NTLM_ERR_AV_LENGTH,    /* MsvAvFlags not 4 bytes, a timestamp not 8, ... */
    NTLM_ERR_AV_TRAILING,  /* bytes after MsvAvEOL where none may be */
    NTLM_ERR_V2_BLOB,      /* an NTLMv2 response too short or of another version */
    NTLM_ERR_STRING,       /* odd UTF-16 length, a lone surrogate, a NUL, bad UTF-8 */
    NTLM_ERR_NO_SPACE,     /* a builder's output does not fit */
};
const char *ntlm_status_text(enum ntlm_status st);

struct ntlm_buf {
    const unsigned char *p;
    size_t len;
};

struct ntlm_negotiate {
    uint32_t flags;
    struct ntlm_buf domain;      /* OEM; empty when not supplied */
    struct ntlm_buf workstation;
};

struct ntlm_challenge {
    uint32_t flags;
    unsigned char server_challenge[NTLM_CHALLENGE_LEN];
    struct ntlm_buf target_name;
    struct ntlm_buf target_info; /* empty when absent */
};

struct ntlm_authenticate {
    uint32_t flags;
    struct ntlm_buf lm, nt, domain, user, workstation, session_key;
    /* where the payload starts: the lowest offset of a non-empty buffer,
     * or the message length.  A MIC is there only when this is at least
     * NTLM_AUTHENTICATE_MIC_HEADER. */
    size_t payload_start;
};

enum ntlm_status ntlm_parse_negotiate(const void *msg, size_t len, struct ntlm_negotiate *out);
enum ntlm_status ntlm_parse_challenge(const void *msg, size_t len, struct ntlm_challenge *out);
enum ntlm_status ntlm_parse_authenticate(const void *msg, size_t len,
                                         struct ntlm_authenticate *out);

/* What an AV_PAIR list says.  Each AvId may appear once; MsvAvFlags must be
 * 4 bytes, MsvAvTimestamp 8, MsvAvChannelBindings 16; MsvAvEOL (length 0)
 * ends the list.  Unknown AvIds are skipped. */
struct ntlm_av_info {
    struct ntlm_buf nb_computer, nb_domain, dns_computer, dns_domain, dns_tree, target_name;
    int has_flags;
    uint32_t flags;
    int has_timestamp;
    unsigned char timestamp[NTLM_TIMESTAMP_LEN];
    int has_channel_bindings;
    unsigned char channel_bindings[16];
    size_t list_len;             /* bytes up to and including MsvAvEOL */
};
/* zero_tail: bytes after MsvAvEOL are allowed when they are all zero (the
 * tail of an NTLMv2 client challenge); otherwise none are. */
enum ntlm_status ntlm_parse_av_pairs(const unsigned char *p, size_t len, int zero_tail,
                                     struct ntlm_av_info *out);

/* An NTLMv2 response: NTProofStr, then the client challenge (MS-NLMP
 * 2.2.2.7: RespType 1, HiRespType 1, reserved, timestamp, client
 * challenge, reserved, AV pairs).  temp is everything after NTProofStr. */
struct ntlm_v2_response {
    const unsigned char *proof;  /* NTLM_PROOF_LEN bytes */
    struct ntlm_buf temp;
    unsigned char timestamp[NTLM_TIMESTAMP_LEN];
    unsigned char client_challenge[NTLM_CHALLENGE_LEN];
    struct ntlm_buf av_pairs;
    struct ntlm_av_info av;
};
enum ntlm_status ntlm_parse_v2_response(const struct ntlm_buf *nt, struct ntlm_v2_response *out);

/* ---- builders: each returns the length written, or 0 when cap is short -- */

/* flags without OEM_DOMAIN/WORKSTATION_SUPPLIED: the fields are zero */
size_t ntlm_build_negotiate(uint32_t flags, unsigned char *out, size_t cap);

struct ntlm_challenge_fields {
    uint32_t flags;              /* TARGET_INFO set when target_info is given */
    const unsigned char *server_challenge;
    struct ntlm_buf target_name; /* already encoded as the flags say */
    struct ntlm_buf target_info; /* empty: the fields are zero */
    const unsigned char *version; /* NTLM_VERSION_LEN bytes, or NULL */
};
size_t ntlm_build_challenge(const struct ntlm_challenge_fields *f, unsigned char *out,
                            size_t cap);

struct ntlm_authenticate_fields {
    uint32_t flags;
    struct ntlm_buf lm, nt, domain, user, workstation, session_key;
    const unsigned char *version; /* NULL: none (zeros when with_mic) */
    int with_mic;                /* a zeroed MIC field at NTLM_MIC_OFFSET */
};
/* The payload follows the header in the order domain, user, workstation,
 * LM, NT, session key (as Windows and MS-NLMP 4.2 lay it out). */
size_t ntlm_build_authenticate(const struct ntlm_authenticate_fields *f, unsigned char *out,
                               size_t cap);

/* An AV_PAIR list being written; a pair that does not fit sets failed. */
struct ntlm_av_writer {
    unsigned char *p;
    size_t cap;
    size_t len;
    int failed;
};
void ntlm_av_put(struct ntlm_av_writer *w, enum ntlm_av_id id, const void *value, size_t n);
/* MsvAvEOL; returns the list length, or 0 when anything failed. */
size_t ntlm_av_end(struct ntlm_av_writer *w);

/* A time as a Windows FILETIME (MsvAvTimestamp, the NTLMv2 client
 * challenge's timestamp): 100 ns units since 1601, little-endian.  sec and
 * nsec are a Unix time (a struct timespec); ntlm_crypto.h's
 * ntlm_filetime_now reads the clock. */
void ntlm_filetime(uint64_t sec, uint32_t nsec, unsigned char out[NTLM_TIMESTAMP_LEN]);

/* ---- strings ------------------------------------------------------------ */

/* UTF-8 (no NUL, no surrogate code points, shortest forms only) to UTF-16LE;
 * returns the bytes written, or (size_t)-1 when the input is not such UTF-8
 * or does not fit.  cap of 2 * len always suffices. */
size_t ntlm_utf8_to_utf16le(const char *in, size_t len, unsigned char *out, size_t cap);
/* UTF-16LE (even length, paired surrogates, no NUL) to UTF-8; returns the
 * bytes written (no NUL added) or (size_t)-1.  cap of 3 * len / 2 suffices. */
size_t ntlm_utf16le_to_utf8(const unsigned char *in, size_t len, char *out, size_t cap);
/* OEM strings are accepted as 7-bit ASCII only: copy to UTF-16LE (2 * len)
 * or UTF-8 (len); (size_t)-1 on any other byte or a NUL. */
size_t ntlm_ascii_to_utf16le(const unsigned char *in, size_t len, unsigned char *out, size_t cap);
/* A name as a message carries it: UTF-16LE when unicode, else OEM (ASCII
 * only).  Encoding returns the bytes written or (size_t)-1; decoding to
 * UTF-8 likewise (cap of 3 * len / 2 + 1 suffices). */
size_t ntlm_encode_name(int unicode, const char *utf8, size_t len, unsigned char *out,
                        size_t cap);
size_t ntlm_decode_name(int unicode, const unsigned char *in, size_t len, char *out, size_t cap);
/* Upper-case UTF-16LE in place (what NTOWFv2 applies to the user name):
 * the simple mappings of the BMP that Unicode 3.2 already had, from a table
 * compiled in (no locale); surrogate pairs stay as they are. */
void ntlm_utf16le_upper(unsigned char *s, size_t len);

#endif
