/* The wire codec of XOAUTH2 and OAUTHBEARER: pure functions, no libsasl2
 * types, no allocation except where a function says so (the error-JSON
 * parser's copies, freed with oauth_error_info_clear).
 *
 * OAUTHBEARER (RFC 7628 section 3.1, GS2 header of RFC 5801 section 4):
 *
 *     client-resp = (gs2-header kvsep *kvpair kvsep) / kvsep
 *     gs2-header  = gs2-cb-flag "," [ "a=" saslname ] ","
 *     gs2-cb-flag = ("p=" cb-name) / "n" / "y"
 *     kvsep       = %x01
 *     kvpair      = key "=" value kvsep
 *     key         = 1*ALPHA
 *     value       = *(VCHAR / SP / HTAB / CR / LF)
 *     auth        = "Bearer" SP b64token                     (RFC 6750 2.1)
 *     b64token    = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
 *
 *   e.g. "n,a=user@example.com,^Ahost=server.example.com^Aport=143^A
 *         auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==^A^A"
 *
 * XOAUTH2 (Google's description):
 *
 *     "user=" user ^A "auth=Bearer " token ^A ^A
 *
 * How strict the parsers are, where the specifications leave room:
 *  - the scheme "Bearer" is matched case-insensitively and must be followed
 *    by exactly one SP (RFC 6750 allows 1*SP; RFC 7628 and Google send one);
 *  - `auth=` with an empty value (RFC 7628 section 4.3: the client asks for
 *    the server's error/discovery JSON) is OAUTH_CODEC_AUTH_EMPTY, for both
 *    mechanisms; every other field of the message is then valid and filled;
 *  - OAUTHBEARER: unknown keys are ignored, as RFC 7628 section 3.1 requires
 *    ("Unknown key/value pairs MUST be ignored by the server"), after their
 *    syntax (key 1*ALPHA, value per the grammar above) has been checked; the
 *    RFC 7628 3.1.1 reserved keys (mthd, path, post, qs) are unknown keys
 *    here.  Keys are case-sensitive ("AUTH" is an unknown key).  A known key
 *    (auth, host, port) given twice is refused; a repeated unknown key is
 *    ignored like any unknown key;
 *  - GS2: "n" and "y" are accepted and recorded (these plugins never offer a
 *    -PLUS variant, so "y", "client supports channel binding but thinks the
 *    server does not", is consistent with what the server advertised; the
 *    plugin decides); "p=..." is OAUTH_CODEC_ERR_CHANNEL_BINDING; the
 *    non-standard-token flag "F," is refused (OAUTHBEARER is not a GSS
 *    mechanism); only the escapes "=2C" and "=3D" (upper case, so that every
 *    authzid has one encoding) are accepted in the authzid, a raw ',' ends it
 *    and "a=," (empty saslname) is refused;
 *  - identities (XOAUTH2 user, OAUTHBEARER authzid) must be valid UTF-8
 *    (RFC 3629) without control characters (C0, DEL) and at most
 *    OAUTH_MAX_USER bytes once unescaped;
 *  - host: 1..OAUTH_MAX_HOST VCHARs (no space, no CR/LF); port: decimal
 *    1-65535 without leading zeros (RFC 7628 3.1);
 *  - no NUL byte anywhere; nothing after the final kvsep.
 *
 * Nothing these functions write into an error's reason or return as text ever
 * contains token bytes (nor any other received value: only offsets and the
 * names of known keys). */
#ifndef OAUTH_CODEC_H
#define OAUTH_CODEC_H

#include <stddef.h>

/* ---- limits ---------------------------------------------------------------- */

/* The token cap a server uses when it has no configured one. */
#define OAUTH_DEFAULT_MAX_TOKEN 16384
/* Upper bound of any token cap: a larger max_token is lowered to this; the
 * builders refuse longer tokens. */
#define OAUTH_MAX_TOKEN_LIMIT 65536
/* An identity (XOAUTH2 user, OAUTHBEARER authzid once unescaped), in bytes. */
#define OAUTH_MAX_USER 1024
/* The host value, in bytes. */
#define OAUTH_MAX_HOST 255
/* Room for everything in a client message but the token: the GS2 header
 * with an escaped authzid (3 * OAUTH_MAX_USER at most), host, port, keys,
 * separators and some unknown pairs. */
#define OAUTH_MESSAGE_OVERHEAD 8192
/* A client message longer than this is refused before it is looked at. */
#define OAUTH_MAX_CLIENT_MESSAGE(max_token) ((max_token) + OAUTH_MESSAGE_OVERHEAD)
/* The server's error JSON, built or parsed. */
#define OAUTH_MAX_ERROR_JSON 4096

/* ---- types ------------------------------------------------------------------- */

enum oauth_mech {
    OAUTH_MECH_XOAUTH2 = 1,
    OAUTH_MECH_OAUTHBEARER,
};

/* What every function of this codec returns. */
enum oauth_codec_status {
    OAUTH_CODEC_OK = 0,
    /* `auth=` empty (RFC 7628 4.3): a valid message asking for the error
     * challenge; the server answers with it and then fails the exchange. */
    OAUTH_CODEC_AUTH_EMPTY,
    OAUTH_CODEC_ERR_ARG,            /* NULL pointer, unknown mech or status */
    OAUTH_CODEC_ERR_EMPTY,          /* empty message */
    OAUTH_CODEC_ERR_TOO_LONG,       /* message over its cap */
    OAUTH_CODEC_ERR_NUL,            /* embedded NUL byte */
    OAUTH_CODEC_ERR_KVSEP_ONLY,     /* OAUTHBEARER: a lone ^A, valid only after an error challenge */
    OAUTH_CODEC_ERR_SYNTAX,         /* missing separator, key or final ^A */
    OAUTH_CODEC_ERR_TRAILING,       /* data after the final ^A */
    OAUTH_CODEC_ERR_GS2_HEADER,     /* malformed GS2 header */
    OAUTH_CODEC_ERR_CHANNEL_BINDING, /* gs2-cb-flag "p=": channel binding not supported */
    OAUTH_CODEC_ERR_AUTHZID,        /* GS2 authzid empty, badly escaped or not a clean UTF-8 name */
    OAUTH_CODEC_ERR_USER,           /* XOAUTH2 user empty or not a clean UTF-8 name */
    OAUTH_CODEC_ERR_USER_TOO_LONG,  /* identity over OAUTH_MAX_USER */
    OAUTH_CODEC_ERR_KVPAIR,         /* malformed key=value pair */
    OAUTH_CODEC_ERR_DUPLICATE,      /* auth, host or port given twice */
    OAUTH_CODEC_ERR_NO_AUTH,        /* no auth key */
    OAUTH_CODEC_ERR_SCHEME,         /* not "Bearer" SP token */
    OAUTH_CODEC_ERR_TOKEN_EMPTY,    /* "Bearer" with no token */
    OAUTH_CODEC_ERR_TOKEN_TOO_LONG, /* token over the cap */
    OAUTH_CODEC_ERR_TOKEN,          /* token is not an RFC 6750 b64token */
    OAUTH_CODEC_ERR_HOST,           /* host empty, too long or not VCHARs */
    OAUTH_CODEC_ERR_PORT,           /* port not 1-65535 without leading zeros */
    OAUTH_CODEC_ERR_NO_ROOM,        /* builder: output buffer too small */
    OAUTH_CODEC_ERR_REPLY,          /* reply to the error challenge is not the expected one */
    OAUTH_CODEC_ERR_JSON,           /* error JSON: not JSON, duplicate keys, NUL */
    OAUTH_CODEC_ERR_JSON_NOT_OBJECT, /* error JSON: not an object */
    OAUTH_CODEC_ERR_JSON_STATUS,    /* error JSON: status missing, not a string or not 1*NQSCHAR */
    OAUTH_CODEC_ERR_JSON_FIELD,     /* error JSON: scope / openid-configuration not a clean string */
    OAUTH_CODEC_ERR_NOMEM,
};
/* The last value, for loops over every status. */
#define OAUTH_CODEC_STATUS_LAST OAUTH_CODEC_ERR_NOMEM

/* GS2 channel-binding flag (OAUTHBEARER; OAUTH_CB_N for XOAUTH2). */
enum oauth_cb_flag {
    OAUTH_CB_N = 0, /* "n": client does not support channel binding */
    OAUTH_CB_Y,     /* "y": client does, but thinks the server does not */
};

/* A parsed client initial message.  token and host point into the parsed
 * buffer (not NUL-terminated); user is a NUL-terminated copy (unescaped for
 * OAUTHBEARER) inside the struct.  The caller erases the message buffer
 * (it holds the token) when done. */
struct oauth_client_msg {
    enum oauth_cb_flag cb;
    char user[OAUTH_MAX_USER + 1]; /* XOAUTH2 user= / OAUTHBEARER authzid */
    size_t user_len;               /* 0: OAUTHBEARER without authzid */
    const char *token;             /* after "Bearer "; NULL on OAUTH_CODEC_AUTH_EMPTY */
    size_t token_len;
    const char *host;              /* OAUTHBEARER host=, NULL when absent */
    size_t host_len;
    unsigned port;                 /* OAUTHBEARER port=, 0 when absent */
};

/* What a client puts into its initial message. */
struct oauth_client_params {
    enum oauth_cb_flag cb;         /* OAUTHBEARER only */
    const char *user;              /* XOAUTH2: required; OAUTHBEARER: authzid, NULL for none */
    size_t user_len;               /* raw bytes; the builder escapes ',' and '=' */
    const char *token;             /* token_len 0: the RFC 7628 4.3 empty "auth=" */
    size_t token_len;
    const char *host;              /* OAUTHBEARER only, NULL for none */
    size_t host_len;
    unsigned port;                 /* OAUTHBEARER only, 0 for none */
};

/* RFC 6750 section 3.1 error codes a server sends in its error JSON. */
enum oauth_error_status {
    OAUTH_STATUS_INVALID_TOKEN = 1,
    OAUTH_STATUS_INSUFFICIENT_SCOPE,
    OAUTH_STATUS_INVALID_REQUEST,
};

/* A parsed server error JSON (client side): malloc'd NUL-terminated copies,
 * released by oauth_error_info_clear. */
struct oauth_error_info {
    char *status;                  /* never NULL after OAUTH_CODEC_OK */
    enum oauth_error_status code;  /* 0 when status is none of the three (Google: "401") */
    char *scope;                   /* NULL when absent */
    char *openid_config;           /* "openid-configuration", NULL when absent */
};

/* The error type (oauth_err.h): the parsers fill it, class OAUTH_OK for
 * OAUTH_CODEC_OK and OAUTH_CODEC_AUTH_EMPTY, OAUTH_ERR_CLIENT with status
 * invalid_request for a message that breaks the grammar, OAUTH_ERR_INTERNAL
 * for bad arguments and memory; the status is its code. */
struct oauth_err;

/* ---- client initial message ------------------------------------------------ */

/* Server side: parse a client's initial message of the given mechanism.
 * max_token caps the token (lowered to OAUTH_MAX_TOKEN_LIMIT); the whole
 * message may be OAUTH_MAX_CLIENT_MESSAGE(max_token) bytes.  Returns
 * OAUTH_CODEC_OK or OAUTH_CODEC_AUTH_EMPTY with *out filled, else an error
 * (and *out unspecified).  err (may be NULL) receives the class, the status
 * as its code and an administrator-oriented reason: a byte offset and what
 * was wrong there; never a received value. */
enum oauth_codec_status oauth_parse_client_msg(enum oauth_mech mech, const char *msg, size_t len,
                                               size_t max_token, struct oauth_client_msg *out,
                                               struct oauth_err *err);

/* Client side: build the initial message into out (outmax bytes), with a
 * NUL after it when room remains.  *outlen receives the message's length
 * (excluding the NUL) on OAUTH_CODEC_OK and on OAUTH_CODEC_ERR_NO_ROOM, so a
 * call with out NULL and outmax 0 sizes the buffer.  Every field is checked
 * against the rules the parser applies (so what is built always parses back
 * to the same fields); nothing is written unless the whole message fits.
 * The pairs are written host, port, auth, as in RFC 7628 4.1; the scheme as
 * "Bearer".  out holds the token afterwards: erase it after use. */
enum oauth_codec_status oauth_build_client_msg(enum oauth_mech mech,
                                               const struct oauth_client_params *p, char *out,
                                               size_t outmax, size_t *outlen);

/* ---- the server's error challenge ------------------------------------------ */

/* Server side: build the error JSON into out (outmax bytes, NUL-terminated;
 * *outlen as for oauth_build_client_msg), compact, keys in this order:
 *   OAUTHBEARER: {"status":..,"scope":..,"openid-configuration":..}
 *   XOAUTH2:     {"status":..,"schemes":"Bearer","scope":..}
 * scope and openid_config are omitted when NULL (openid_config is ignored
 * for XOAUTH2); they must pass the checks oauth_parse_error_json applies
 * (printable ASCII, scope without '"' and '\\', openid_config VCHARs only;
 * at most OAUTH_MAX_ERROR_JSON bytes in all), else OAUTH_CODEC_ERR_JSON_FIELD. */
enum oauth_codec_status oauth_build_error_json(enum oauth_mech mech, enum oauth_error_status status,
                                               const char *scope, const char *openid_config,
                                               char *out, size_t outmax, size_t *outlen);

/* Client side: parse the server's error JSON (up to OAUTH_MAX_ERROR_JSON
 * bytes; jansson with JSON_REJECT_DUPLICATES, embedded NULs refused).  An
 * object with a string "status" (1*NQSCHAR, RFC 6749 appendix A.7) is
 * required; "scope" (printable ASCII without '"' and '\\') and
 * "openid-configuration" (VCHARs) are optional strings; other members
 * (XOAUTH2's "schemes", future ones) are ignored.  On OAUTH_CODEC_OK *out
 * holds copies (release with oauth_error_info_clear); on failure *out is
 * empty.  err as for oauth_parse_client_msg. */
enum oauth_codec_status oauth_parse_error_json(const char *msg, size_t len,
                                               struct oauth_error_info *out, struct oauth_err *err);

/* Free the copies and zero *info (safe on a zeroed or cleared struct). */
void oauth_error_info_clear(struct oauth_error_info *info);

/* ---- the client's reply to the error challenge ------------------------------ */

/* The bytes a client sends after an error challenge (RFC 7628 3.2.3: one
 * kvsep for OAUTHBEARER; Google: an empty response for XOAUTH2); NULL for an
 * unknown mech.  *len receives the length (1 or 0). */
const char *oauth_error_reply(enum oauth_mech mech, size_t *len);

/* Server side: OAUTH_CODEC_OK if msg is exactly that reply, else
 * OAUTH_CODEC_ERR_REPLY (a protocol error; the exchange fails either way). */
enum oauth_codec_status oauth_check_error_reply(enum oauth_mech mech, const char *msg, size_t len);

/* ---- texts ------------------------------------------------------------------- */

/* A short English description for errdetails; never NULL, never contains
 * received bytes. */
const char *oauth_codec_status_text(enum oauth_codec_status s);

/* "invalid_token", "insufficient_scope", "invalid_request"; NULL otherwise. */
const char *oauth_error_status_name(enum oauth_error_status s);

#endif
