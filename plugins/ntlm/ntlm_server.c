#include "config.h"
#include "ntlm.h"
#include "ntlm_codec.h"
#include "ntlm_crypto.h"

#include <stddef.h>
#include <string.h>
#include <sasl-mechs/crypto.h>
#include <sasl-mechs/memory.h>
#include <sasl-mechs/oparams.h>
#include <sasl-mechs/options.h>
#include <sasl-mechs/password.h>
#include <sasl-mechs/plugin.h>
#include <sasl-mechs/secret.h>
#include <sasl-mechs/stored_secret.h>

#define NB_NAME_MAX NTLM_NB_NAME_MAX
#define DNS_NAME_MAX NTLM_DNS_NAME_MAX
/* the target information we send: four names (UTF-16) and a timestamp */
#define TARGET_INFO_MAX (4 * (4 + 2 * DNS_NAME_MAX) + 4 + NTLM_TIMESTAMP_LEN + 4)
#define CHALLENGE_MAX (NTLM_CHALLENGE_HEADER + 2 * DNS_NAME_MAX + TARGET_INFO_MAX)

/* Cyrus's ntlm_server names Windows servers to hand each exchange to over
 * SMB.  Ours cannot: offering NTLM anyway would check the responses against
 * secrets the site never meant to keep, so every exchange is refused with
 * an errdetail that says what to do (the log line of the plugin's loading
 * may reach only syslog). */
#define SMB_SERVER_REFUSED "NTLM: option ntlm_server (Cyrus's pass-through to a Windows server " \
                           "over SMB) is not supported: remove it and give the users' passwords " \
                           "or NT hashes to an auxprop (ntlm_secret_property)"

int ntlm_server_options(const sasl_utils_t *utils, struct sm_server_settings *set)
{
    struct ntlm_settings *opt = (struct ntlm_settings *)set; /* its first member */
    int r = sm_opt_bool(utils, "ntlm_allow_v1", 0, &opt->allow_v1);

    if ((opt->smb_server = sm_opt_cyrus_is_set(utils, "NTLM", "ntlm_server")))
        utils->log(NULL, SASL_LOG_ERR, "%s; every NTLM exchange is refused", SMB_SERVER_REFUSED);
    if (r == SASL_OK)
        r = sm_opt_bool(utils, "ntlm_allow_lmv2", 0, &opt->allow_lmv2);
    if (r == SASL_OK)
        r = sm_opt_bool(utils, "ntlm_allow_v2_without_mic", 0, &opt->allow_v2_without_mic);

    if (r == SASL_OK)
        r = sm_opt_string(utils, "ntlm_netbios_domain", opt->nb_domain, sizeof(opt->nb_domain));
    if (r == SASL_OK)
        r = sm_opt_string(utils, "ntlm_netbios_computer", opt->nb_computer,
                          sizeof(opt->nb_computer));
    if (r == SASL_OK)
        r = sm_opt_string(utils, "ntlm_dns_domain", opt->dns_domain, sizeof(opt->dns_domain));
    if (r == SASL_OK)
        r = sm_opt_string(utils, "ntlm_dns_computer", opt->dns_computer,
                          sizeof(opt->dns_computer));
    if (r == SASL_OK)
        r = sm_opt_string(utils, "ntlm_secret_property", opt->property, sizeof(opt->property));
    if (!opt->property[0])
        strcpy(opt->property, SASL_AUX_PASSWORD_PROP);
    opt->request[0] = '*';
    strcpy(opt->request + 1, opt->property);
    /* userPassword holds passwords unless tagged; another property (Samba's
     * sambaNTPassword) holds NT hashes unless tagged */
    opt->rules.accept = SM_SECRET_PASSWORD | SM_SECRET_NT_HASH;
    opt->rules.tags = 1;
    opt->rules.bare = strcmp(opt->property, SASL_AUX_PASSWORD_PROP) == 0 ? SM_SECRET_PASSWORD
                                                                       : SM_SECRET_NT_HASH;
    return r;
}

struct ntlm_server {
    struct sm_server base; /* first: the step runner and sm_server_dispose use it */
    uint32_t flags;             /* as the CHALLENGE sent them */
    unsigned char server_challenge[NTLM_CHALLENGE_LEN];
    unsigned char timestamp[NTLM_TIMESTAMP_LEN]; /* as the CHALLENGE sent it */
    /* the two messages the MIC covers besides the AUTHENTICATE (the
     * CHALLENGE is also the step's output); neither holds a secret */
    unsigned char *negotiate, *challenge;
    size_t negotiate_len, challenge_len;
    const struct ntlm_settings *set; /* the plugin's (glob) */
};

/* the steps after the first, in order (each handler names the next) */
static sm_step_handler ntlm_server_check_authenticate;

void ntlm_server_dispose(void *ctx, const sasl_utils_t *utils)
{
    struct ntlm_server *s = ctx;

    if (s) {
        utils->free(s->negotiate);
        utils->free(s->challenge);
    }
    sm_server_dispose(ctx, utils);
}

/* ---- the CHALLENGE ------------------------------------------------------- */

/* The names the CHALLENGE announces: configured, or from the server's FQDN
 * (mx.example.com: computer MX, domain EXAMPLE, example.com). */
struct ntlm_server_names {
    char nb_domain[NB_NAME_MAX + 1], nb_computer[NB_NAME_MAX + 1];
    char dns_domain[DNS_NAME_MAX + 1], dns_computer[DNS_NAME_MAX + 1];
};

/* n, or less so that a cut after src[0..n) splits no UTF-8 character */
static size_t ntlm_server_utf8_cut(const char *src, size_t n)
{
    while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
        n--;
    return n;
}

static void ntlm_server_netbios_from(const char *dns, char *out)
{
    size_t i, n = strcspn(dns, ".");

    n = n > NB_NAME_MAX ? ntlm_server_utf8_cut(dns, NB_NAME_MAX) : n;
    for (i = 0; i < n; i++)
        out[i] = (char)(dns[i] >= 'a' && dns[i] <= 'z' ? dns[i] - ('a' - 'A') : dns[i]);
    out[n] = '\0';
}

static void ntlm_server_copy_name(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);

    if (n >= cap)
        n = ntlm_server_utf8_cut(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void ntlm_server_choose_names(const struct ntlm_settings *opt, const char *fqdn,
                                     struct ntlm_server_names *n)
{
    const char *dot;

    ntlm_server_copy_name(n->dns_computer, sizeof(n->dns_computer),
                          opt->dns_computer[0] ? opt->dns_computer
                              : fqdn           ? fqdn
                                               : "localhost");
    dot = strchr(n->dns_computer, '.');
    ntlm_server_copy_name(n->dns_domain, sizeof(n->dns_domain), opt->dns_domain[0] ? opt->dns_domain
                                                                : dot ? dot + 1 : n->dns_computer);
    if (opt->nb_computer[0])
        ntlm_server_copy_name(n->nb_computer, sizeof(n->nb_computer), opt->nb_computer);
    else
        ntlm_server_netbios_from(n->dns_computer, n->nb_computer);
    if (opt->nb_domain[0])
        ntlm_server_copy_name(n->nb_domain, sizeof(n->nb_domain), opt->nb_domain);
    else
        ntlm_server_netbios_from(n->dns_domain, n->nb_domain);
}

/* One name into the AV list, as UTF-16LE. */
static void ntlm_server_av_name(struct ntlm_av_writer *w, enum ntlm_av_id id, const char *name)
{
    unsigned char u[2 * DNS_NAME_MAX];
    size_t n = ntlm_utf8_to_utf16le(name, strlen(name), u, sizeof(u));

    if (n == (size_t)-1)
        w->failed = 1;
    else
        ntlm_av_put(w, id, u, n);
}

/* MS-NLMP 3.2.5.1.1: the server answers the client's offer with what it
 * supports of it.  NTLM itself is required; LM keys, signing and sealing
 * are never offered (SASL's NTLM has no security layer).  No VERSION
 * either: curl and Java echo the CHALLENGE's flags into an AUTHENTICATE of
 * 64 bytes, which VERSION would make a truncated header. */
static uint32_t ntlm_server_answer_flags(uint32_t offered)
{
    static const uint32_t echoed = NTLM_REQUEST_TARGET | NTLM_NEGOTIATE_ALWAYS_SIGN
                                   | NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY
                                   | NTLM_NEGOTIATE_128 | NTLM_NEGOTIATE_56
                                   | NTLM_NEGOTIATE_KEY_EXCH;
    uint32_t flags = NTLM_NEGOTIATE_NTLM | NTLM_TARGET_TYPE_DOMAIN | (offered & echoed);

    flags |= offered & NTLM_NEGOTIATE_UNICODE ? NTLM_NEGOTIATE_UNICODE : NTLM_NEGOTIATE_OEM;
    return flags;
}

/* MS-NLMP 3.2.5.1.1: the client's NEGOTIATE, and the flags and server
 * challenge of our answer. */
static int ntlm_server_read_negotiate(struct ntlm_server *s, const sasl_utils_t *utils,
                                      const char *in, unsigned inlen)
{
    struct ntlm_negotiate neg;
    enum ntlm_status st;

    st = ntlm_parse_negotiate(in, inlen, &neg);
    if (st != NTLM_OK)
        return sm_fail(utils, SASL_BADPROT, "NTLM: NEGOTIATE: %s", ntlm_status_text(st));
    if (!(neg.flags & NTLM_NEGOTIATE_NTLM))
        return sm_fail(utils, SASL_TOOWEAK, "NTLM: the client offers only LM, which is refused");
    if (!(neg.flags & (NTLM_NEGOTIATE_UNICODE | NTLM_NEGOTIATE_OEM)))
        return sm_fail(utils, SASL_BADPROT, "NTLM: NEGOTIATE offers no character set");
    if (sm_random(s->server_challenge, sizeof(s->server_challenge)) != 0)
        return sm_fail(utils, SASL_FAIL, "NTLM: no random numbers available");
    s->flags = ntlm_server_answer_flags(neg.flags);
    return SASL_OK;
}

/* The CHALLENGE into challenge (CHALLENGE_MAX bytes): our names as the
 * target, and as target information with a timestamp; s->challenge_len
 * is its length. */
static int ntlm_server_build_challenge(struct ntlm_server *s, sasl_server_params_t *sparams,
                                       unsigned char challenge[CHALLENGE_MAX])
{
    const sasl_utils_t *utils = sparams->utils;
    unsigned char info[TARGET_INFO_MAX], target[2 * NB_NAME_MAX];
    struct ntlm_av_writer w = {info, sizeof(info), 0, 0};
    struct ntlm_challenge_fields f;
    struct ntlm_server_names names;
    size_t target_len;
    int unicode = (s->flags & NTLM_NEGOTIATE_UNICODE) != 0;

    ntlm_server_choose_names(s->set, sparams->serverFQDN, &names);
    target_len = ntlm_encode_name(unicode, names.nb_domain, strlen(names.nb_domain), target,
                                  sizeof(target));
    ntlm_server_av_name(&w, NTLM_AV_NB_DOMAIN, names.nb_domain);
    ntlm_server_av_name(&w, NTLM_AV_NB_COMPUTER, names.nb_computer);
    ntlm_server_av_name(&w, NTLM_AV_DNS_DOMAIN, names.dns_domain);
    ntlm_server_av_name(&w, NTLM_AV_DNS_COMPUTER, names.dns_computer);
    /* MS-NLMP 3.1.5.1.2: with a timestamp here the client sends a MIC */
    ntlm_filetime_now(s->timestamp);
    ntlm_av_put(&w, NTLM_AV_TIMESTAMP, s->timestamp, sizeof(s->timestamp));
    memset(&f, 0, sizeof(f));
    f.flags = s->flags;
    f.server_challenge = s->server_challenge;
    f.target_name = (struct ntlm_buf){target, target_len == (size_t)-1 ? 0 : target_len};
    f.target_info = (struct ntlm_buf){info, ntlm_av_end(&w)};
    if (target_len == (size_t)-1 || !f.target_info.len)
        return sm_fail(utils, SASL_CONFIGERR,
                       "NTLM: a NetBIOS or DNS name is not UTF-8 (or not ASCII for an OEM client)");
    s->challenge_len = ntlm_build_challenge(&f, challenge, CHALLENGE_MAX);
    if (!s->challenge_len)
        return sm_fail(utils, SASL_FAIL, "NTLM: cannot build the CHALLENGE");
    s->flags = f.flags | NTLM_NEGOTIATE_TARGET_INFO;
    return SASL_OK;
}

static int ntlm_server_send_challenge(void *ctx, const struct sm_step_io *io)
{
    struct ntlm_server *s = ctx;
    const sasl_utils_t *utils = io->utils;
    unsigned char challenge[CHALLENGE_MAX];
    int r;

    *io->next = NULL; /* unless the CHALLENGE goes out */
    if ((r = ntlm_server_read_negotiate(s, utils, io->in, io->inlen)) != SASL_OK
        || (r = ntlm_server_build_challenge(s, io->sparams, challenge)) != SASL_OK)
        return r;
    /* kept for the MIC, which covers both */
    s->negotiate = utils->malloc(io->inlen);
    s->challenge = utils->malloc((unsigned)s->challenge_len);
    if (!s->negotiate || !s->challenge)
        return SASL_NOMEM;
    memcpy(s->negotiate, io->in, io->inlen);
    s->negotiate_len = io->inlen;
    memcpy(s->challenge, challenge, s->challenge_len);
    *io->next = ntlm_server_check_authenticate;
    *io->out = (const char *)s->challenge;
    *io->outlen = (unsigned)s->challenge_len;
    return SASL_CONTINUE;
}

/* ---- the AUTHENTICATE ---------------------------------------------------- */

enum ntlm_response_kind { NTLM_V2, LM_V2, NTLM_V1 };

/* What the client sent, decoded: names and the kind of response. */
struct ntlm_server_attempt {
    const struct ntlm_server *s; /* whose CHALLENGE it answers */
    const char *in;              /* the AUTHENTICATE message */
    unsigned inlen;
    struct ntlm_authenticate a;
    enum ntlm_response_kind kind;
    struct ntlm_v2_response v2;
    char user[4 * SM_MAX_USER_LIMIT + 1];
    size_t user_len;
    char domain[3 * DNS_NAME_MAX * 2];
    unsigned char user16[4 * SM_MAX_USER_LIMIT], domain16[4 * DNS_NAME_MAX];
    size_t user16_len, domain16_len;
};

/* A name of the message as UTF-16LE (for NTOWFv2), whatever it was sent as;
 * it is well-formed: the caller decoded it first. */
static size_t ntlm_server_as_utf16(int unicode, const struct ntlm_buf *b, unsigned char *out,
                                   size_t cap)
{
    if (!unicode)
        return ntlm_ascii_to_utf16le(b->p, b->len, out, cap);
    if (b->len > cap)
        return (size_t)-1;
    if (b->len) /* an empty buffer has no pointer */
        memcpy(out, b->p, b->len);
    return b->len;
}

/* Our CHALLENGE always carries a timestamp, and a client that sees it
 * sends a MIC over the three messages (MS-NLMP 3.1.5.1.2).  A man in the
 * middle who strips the timestamp gets a response without a MIC from such
 * a client, and could then change the CHALLENGE at will; so an NTLMv2
 * response must carry, in its AV pairs, the very timestamp we sent (the
 * NTProofStr covers them), and a MIC (checked later with the key), unless
 * ntlm_allow_v2_without_mic lets in the clients that echo the target
 * information but send no MIC (curl). */
static int ntlm_server_v2_policy(const struct ntlm_server *s, const sasl_utils_t *utils,
                                 const struct ntlm_av_info *av)
{
    if (!av->has_timestamp || !sm_ct_equal(av->timestamp, s->timestamp, NTLM_TIMESTAMP_LEN))
        return sm_fail(utils, SASL_BADAUTH, "NTLM: the NTLMv2 response does not carry the "
                       "timestamp of our CHALLENGE (the CHALLENGE was changed on the way, "
                       "or the client drops its target information)");
    if (!(av->has_flags && (av->flags & NTLM_AV_FLAG_MIC)) && !s->set->allow_v2_without_mic)
        return sm_fail(utils, SASL_TOOWEAK, "NTLM: an NTLMv2 response without a MIC is refused "
                       "(ntlm_allow_v2_without_mic is off: for clients such as curl)");
    return SASL_OK;
}

static int ntlm_server_read_attempt(struct ntlm_server *s, const sasl_utils_t *utils,
                                    const char *in, unsigned inlen, struct ntlm_server_attempt *t)
{
    int unicode = (s->flags & NTLM_NEGOTIATE_UNICODE) != 0, r;
    enum ntlm_status st = ntlm_parse_authenticate(in, inlen, &t->a);

    if (st != NTLM_OK)
        return sm_fail(utils, SASL_BADPROT, "NTLM: AUTHENTICATE: %s", ntlm_status_text(st));
    if (t->a.nt.len > NTLM_V1_RESPONSE_LEN) {
        t->kind = NTLM_V2;
        st = ntlm_parse_v2_response(&t->a.nt, &t->v2);
        if (st != NTLM_OK)
            return sm_fail(utils, SASL_BADPROT, "NTLM: AUTHENTICATE: %s", ntlm_status_text(st));
        if ((r = ntlm_server_v2_policy(s, utils, &t->v2.av)) != SASL_OK)
            return r;
    } else if (t->a.nt.len == NTLM_V1_RESPONSE_LEN) {
        t->kind = NTLM_V1;
        if (!s->set->allow_v1)
            return sm_fail(utils, SASL_TOOWEAK,
                           "NTLM: an NTLMv1 response is refused (ntlm_allow_v1 is off)");
    } else if (!t->a.nt.len && t->a.lm.len == NTLM_V1_RESPONSE_LEN) {
        /* what Cyrus's client sends with ntlm_v2: an LMv2 response alone
         * (MS-NLMP 3.3.2 accepts it); an LM response fails its check.  It
         * carries neither our timestamp nor a MIC, so a man in the middle
         * who empties the NT field of a client sending a real LMv2 beside
         * its NTLMv2 (curl) skips both: off unless ntlm_allow_lmv2. */
        if (!s->set->allow_lmv2)
            return sm_fail(utils, SASL_TOOWEAK,
                           "NTLM: an LMv2 response alone is refused (ntlm_allow_lmv2 is off)");
        t->kind = LM_V2;
    } else {
        return sm_fail(utils, SASL_BADPROT, "NTLM: AUTHENTICATE carries no usable response "
                       "(anonymous and LM authentication are refused)");
    }
    t->user_len = ntlm_decode_name(unicode, t->a.user.p, t->a.user.len, t->user,
                                   sizeof(t->user) - 1);
    if (t->user_len == (size_t)-1 || !t->user_len)
        return sm_fail(utils, SASL_BADPROT, "NTLM: the user name is empty, too long or malformed");
    t->user[t->user_len] = '\0';
    if (t->user_len > s->set->common.lim.max_user)
        return sm_fail(utils, SASL_BADPROT, "NTLM: user name longer than ntlm_max_user_length");
    if (t->a.domain.len > sizeof(t->domain16) / 2
        || ntlm_decode_name(unicode, t->a.domain.p, t->a.domain.len, t->domain,
                            sizeof(t->domain)) == (size_t)-1)
        return sm_fail(utils, SASL_BADPROT, "NTLM: the domain name is too long or malformed");
    t->user16_len = ntlm_server_as_utf16(unicode, &t->a.user, t->user16, sizeof(t->user16));
    t->domain16_len = ntlm_server_as_utf16(unicode, &t->a.domain, t->domain16, sizeof(t->domain16));
    if (t->user16_len == (size_t)-1 || t->domain16_len == (size_t)-1)
        return sm_fail(utils, SASL_BADPROT, "NTLM: a name is too long");
    ntlm_utf16le_upper(t->user16, t->user16_len);
    return SASL_OK;
}

/* sm_secret_key_fn: the user's NT hash from the stored secret; 1 when there is one.  Without
 * one, a hash of a constant is computed instead, so that an unknown user
 * costs what a wrong password costs (and is refused anyway). */
_Static_assert(NTLM_HASH_LEN == SM_SECRET_KEY_LEN, "the NT hash is the stored secret's key");
static int ntlm_server_user_nt_hash(void *arg, const sasl_utils_t *utils,
                                    const struct propval *val, unsigned char hash[NTLM_HASH_LEN])
{
    const struct ntlm_settings *opt = ((const struct ntlm_server_attempt *)arg)->s->set;
    static const char no_password[] = "no-such-user";
    struct sm_stored_secret secret;
    int found = 0;

    memset(&secret, 0, sizeof(secret));
    if (val->values && val->values[0]) {
        found = sm_stored_secret_parse(val->values[0], strlen(val->values[0]), &opt->rules,
                                       &secret) == 0;
        if (!found)
            utils->log(utils->conn, SASL_LOG_WARN,
                       "NTLM: a user's stored secret (%s) is neither a password nor an NT hash",
                       opt->property);
    }
    if (found && secret.kind == SM_SECRET_NT_HASH) {
        memcpy(hash, secret.key, NTLM_HASH_LEN);
    } else if (!found || ntlm_nt_hash_utf8(secret.password, secret.password_len, hash) != 0) {
        if (found)
            utils->log(utils->conn, SASL_LOG_WARN, "NTLM: a user's password is not UTF-8");
        found = 0;
        ntlm_nt_hash_utf8(no_password, sizeof(no_password) - 1, hash);
    }
    sm_erase(&secret, sizeof(secret));
    return found;
}

/* MS-NLMP 3.2.5.1.2: the MIC over the three messages, the AUTHENTICATE's
 * own MIC field zeroed.  Only called when the AV flags announce one. */
static int ntlm_server_mic_matches(const struct ntlm_server_attempt *t,
                                   const unsigned char exported[NTLM_KEY_LEN])
{
    const struct ntlm_server *s = t->s;
    const char *in = t->in;
    unsigned char copy[NTLM_MAX_MESSAGE], mic[NTLM_MIC_LEN];
    struct ntlm_buf neg = {s->negotiate, s->negotiate_len};
    struct ntlm_buf chal = {s->challenge, s->challenge_len};
    struct ntlm_buf auth = {copy, t->inlen};
    int match;

    /* a MIC the payload overlaps was stripped: refused, not ignored */
    if (t->a.payload_start < NTLM_AUTHENTICATE_MIC_HEADER)
        return 0;
    memcpy(copy, in, t->inlen);
    memset(copy + NTLM_MIC_OFFSET, 0, NTLM_MIC_LEN);
    match = ntlm_mic(exported, &neg, &chal, &auth, mic) == 0
            && sm_ct_equal(mic, in + NTLM_MIC_OFFSET, NTLM_MIC_LEN);
    sm_erase(mic, sizeof(mic));
    return match;
}

/* sm_proof_fn: 1 when the response proves the NT hash; the session keys
 * are derived (for the MIC) and erased here. */
static int ntlm_server_response_matches(void *arg, const unsigned char hash[NTLM_HASH_LEN])
{
    const struct ntlm_server_attempt *t = arg;
    const struct ntlm_server *s = t->s;
    unsigned char key[NTLM_KEY_LEN], expect[NTLM_V1_RESPONSE_LEN], base[NTLM_KEY_LEN];
    unsigned char exported[NTLM_KEY_LEN], challenge[NTLM_CHALLENGE_LEN];
    int ok = 0;

    switch (t->kind) {
    case NTLM_V2:
    case LM_V2:
        if (ntlm_ntowfv2(hash, t->user16, t->user16_len, t->domain16, t->domain16_len, key))
            break;
        if (t->kind == LM_V2) {
            ok = !ntlm_v2_hmac(key, s->server_challenge, t->a.lm.p + NTLM_PROOF_LEN,
                               NTLM_CHALLENGE_LEN, expect)
                 && sm_ct_equal(expect, t->a.lm.p, NTLM_PROOF_LEN);
            break;
        }
        ok = !ntlm_v2_hmac(key, s->server_challenge, t->v2.temp.p, t->v2.temp.len, expect)
             && sm_ct_equal(expect, t->v2.proof, NTLM_PROOF_LEN)
             && !ntlm_v2_session_base_key(key, t->v2.proof, base);
        if (!ok || !t->v2.av.has_flags || !(t->v2.av.flags & NTLM_AV_FLAG_MIC))
            break;
        /* MS-NLMP 3.4.5.1: with KEY_EXCH the client sends the exported key
         * under RC4.  Read from the AUTHENTICATE's own flags and key field
         * (a client may echo the flag and send no key); the MIC covers
         * both, so neither can be changed on the way. */
        if ((t->a.flags & NTLM_NEGOTIATE_KEY_EXCH) && t->a.session_key.len == NTLM_KEY_LEN)
            ok = !ntlm_rc4_key(base, t->a.session_key.p, exported);
        else
            memcpy(exported, base, NTLM_KEY_LEN);
        ok = ok && ntlm_server_mic_matches(t, exported);
        break;
    case NTLM_V1:
        /* extended session security: the LM field carries the client
         * challenge, and the DES input is MD5(server || client)[0..7] */
        if (s->flags & NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY) {
            if (t->a.lm.len < NTLM_CHALLENGE_LEN
                || ntlm_ess_challenge(s->server_challenge, t->a.lm.p, challenge))
                break;
        } else {
            memcpy(challenge, s->server_challenge, NTLM_CHALLENGE_LEN);
        }
        ok = !ntlm_v1_response(hash, challenge, expect)
             && sm_ct_equal(expect, t->a.nt.p, NTLM_V1_RESPONSE_LEN);
        break;
    }
    sm_erase(key, sizeof(key));
    sm_erase(expect, sizeof(expect));
    sm_erase(base, sizeof(base));
    sm_erase(exported, sizeof(exported));
    return ok;
}

static int ntlm_server_check_authenticate(void *ctx, const struct sm_step_io *io)
{
    struct ntlm_server *s = ctx;
    /* names and views into the message, nothing secret: not erased */
    struct ntlm_server_attempt att = {.s = s, .in = io->in, .inlen = io->inlen};
    int r;

    *io->next = NULL; /* one attempt per exchange, whatever the outcome */
    r = ntlm_server_read_attempt(s, io->utils, io->in, io->inlen, &att);
    if (r != SASL_OK)
        return r;
    return sm_check_stored_secret(&att, io, "NTLM", att.user, att.user_len, s->set->request,
                                  ntlm_server_user_nt_hash, ntlm_server_response_matches);
}

int ntlm_server_new(void *glob, sasl_server_params_t *sparams,
                    const char *challenge, unsigned challen, void **ctx)
{
    const struct ntlm_settings *set = glob;

    (void)challenge; (void)challen;
    if (set->smb_server)
        return sm_fail(sparams->utils, SASL_CONFIGERR, "%s", SMB_SERVER_REFUSED);
    return sm_server_new_glob(sparams, glob, "NTLM", ntlm_server_send_challenge,
                              sizeof(struct ntlm_server), offsetof(struct ntlm_server, set), ctx);
}
