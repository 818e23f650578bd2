#include "config.h"
#include "ntlm.h"
#include "ntlm_codec.h"
#include "ntlm_crypto.h"

#include <string.h>
#include <sasl-mechs/crypto.h>
#include <sasl-mechs/oparams.h>
#include <sasl-mechs/options.h>
#include <sasl-mechs/mech_new.h>
#include <sasl-mechs/plugin.h>
#include <sasl-mechs/secret.h>

#define NAME_MAX_BYTES 255
/* What the client offers (MS-NLMP 3.1.5.1.1); signing and sealing are
 * not: SASL's NTLM has no security layer. */
#define CLIENT_FLAGS (NTLM_NEGOTIATE_UNICODE | NTLM_NEGOTIATE_OEM | NTLM_REQUEST_TARGET \
                      | NTLM_NEGOTIATE_NTLM | NTLM_NEGOTIATE_ALWAYS_SIGN \
                      | NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY | NTLM_NEGOTIATE_128 \
                      | NTLM_NEGOTIATE_56)

struct ntlm_client {
    struct sm_client base; /* first: the step runner and sm_client_dispose use it */
    unsigned char negotiate[NTLM_NEGOTIATE_HEADER];
    size_t negotiate_len;
};

/* the steps after the first, in order (each handler names the next) */
static sm_step_handler ntlm_client_send_authenticate;

static int ntlm_client_send_negotiate(void *ctx, const struct sm_step_io *io)
{
    struct ntlm_client *c = ctx;
    sasl_client_params_t *cparams = io->cparams;
    int r = sm_get_creds(cparams, SM_WANT_AUTHNAME | SM_WANT_PASSWORD, io->prompt_need,
                         &c->base.creds);

    if (r != SASL_OK)
        return r;
    if (cparams->props.min_ssf > cparams->external_ssf)
        return sm_fail(io->utils, SASL_TOOWEAK, "NTLM: no security layer to offer");
    c->negotiate_len = ntlm_build_negotiate(CLIENT_FLAGS, c->negotiate, sizeof(c->negotiate));
    *io->next = ntlm_client_send_authenticate;
    *io->out = (const char *)c->negotiate;
    *io->outlen = (unsigned)c->negotiate_len;
    return SASL_CONTINUE;
}

/* What the AUTHENTICATE is built from. */
struct ntlm_client_answer {
    struct ntlm_challenge ch;
    struct ntlm_av_info av;
    int unicode, v1;
    char user[NAME_MAX_BYTES + 1], domain[NAME_MAX_BYTES + 1], workstation[NAME_MAX_BYTES + 1];
    unsigned char user16[2 * NAME_MAX_BYTES], domain16[2 * NAME_MAX_BYTES];
    unsigned char wire_user[2 * NAME_MAX_BYTES], wire_domain[2 * NAME_MAX_BYTES],
        wire_workstation[2 * NAME_MAX_BYTES];
    size_t user16_len, domain16_len, wire_user_len, wire_domain_len, wire_workstation_len;
    unsigned char lm[NTLM_V1_RESPONSE_LEN], *nt; /* nt: NT_MAX bytes */
    size_t lm_len, nt_len;
    int with_mic;
    /* the secrets: erased after the exchange (the rest holds none) */
    unsigned char hash[NTLM_HASH_LEN], key[NTLM_KEY_LEN], exported[NTLM_KEY_LEN];
};
/* NTProofStr, the blob's header, the server's names again (its target
 * information fits in a message), our MsvAvFlags and the closing zeros */
#define NT_MAX (NTLM_PROOF_LEN + NTLM_V2_BLOB_HEADER + NTLM_MAX_MESSAGE + 64)

/* user, domain: "DOMAIN\user" in the authname, else the ntlm_domain option. */
static int ntlm_client_split_authname(const sasl_utils_t *utils, const char *authname,
                                      struct ntlm_client_answer *a)
{
    const char *bs = strchr(authname, '\\');
    size_t dlen = bs ? (size_t)(bs - authname) : 0;
    const char *user = bs ? bs + 1 : authname;
    int r;

    if (strlen(user) > NAME_MAX_BYTES || dlen > NAME_MAX_BYTES)
        return sm_fail(utils, SASL_BADPARAM, "NTLM: user or domain name too long");
    strcpy(a->user, user);
    if (bs) {
        memcpy(a->domain, authname, dlen);
        a->domain[dlen] = '\0';
    } else if ((r = sm_opt_string(utils, "ntlm_domain", a->domain, sizeof(a->domain)))
               != SASL_OK) {
        return r;
    }
    r = sm_opt_string(utils, "ntlm_workstation", a->workstation, sizeof(a->workstation));
    if (r == SASL_OK && !a->user[0])
        r = sm_fail(utils, SASL_BADPARAM, "NTLM: empty user name");
    return r;
}

static int ntlm_client_encode_names(const sasl_utils_t *utils, struct ntlm_client_answer *a)
{
    a->user16_len = ntlm_utf8_to_utf16le(a->user, strlen(a->user), a->user16,
                                         sizeof(a->user16));
    a->domain16_len = ntlm_utf8_to_utf16le(a->domain, strlen(a->domain), a->domain16,
                                           sizeof(a->domain16));
    a->wire_user_len = ntlm_encode_name(a->unicode, a->user, strlen(a->user), a->wire_user,
                                        sizeof(a->wire_user));
    a->wire_domain_len = ntlm_encode_name(a->unicode, a->domain, strlen(a->domain),
                                          a->wire_domain, sizeof(a->wire_domain));
    a->wire_workstation_len = ntlm_encode_name(a->unicode, a->workstation,
                                               strlen(a->workstation), a->wire_workstation,
                                               sizeof(a->wire_workstation));
    if (a->user16_len == (size_t)-1 || a->domain16_len == (size_t)-1
        || a->wire_user_len == (size_t)-1 || a->wire_domain_len == (size_t)-1
        || a->wire_workstation_len == (size_t)-1)
        return sm_fail(utils, SASL_BADPARAM, a->unicode
                       ? "NTLM: a user, domain or workstation name is not UTF-8"
                       : "NTLM: the server wants OEM names and a name is not ASCII");
    ntlm_utf16le_upper(a->user16, a->user16_len);
    return SASL_OK;
}

/* The AV pairs of our NTLMv2 client challenge: the server's names and
 * timestamp, and MsvAvFlags announcing the MIC when there is a timestamp
 * (MS-NLMP 3.1.5.1.2).  Pairs we do not know are not repeated. */
static size_t ntlm_client_av_pairs(const struct ntlm_client_answer *a, unsigned char *out,
                                   size_t cap)
{
    struct ntlm_av_writer w = {out, cap, 0, 0};
    const struct { enum ntlm_av_id id; const struct ntlm_buf *b; } names[] = {
        {NTLM_AV_NB_DOMAIN, &a->av.nb_domain}, {NTLM_AV_NB_COMPUTER, &a->av.nb_computer},
        {NTLM_AV_DNS_DOMAIN, &a->av.dns_domain}, {NTLM_AV_DNS_COMPUTER, &a->av.dns_computer},
        {NTLM_AV_DNS_TREE, &a->av.dns_tree}, {NTLM_AV_TARGET_NAME, &a->av.target_name},
    };
    unsigned char flags[4] = {NTLM_AV_FLAG_MIC, 0, 0, 0};
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].b->len)
            ntlm_av_put(&w, names[i].id, names[i].b->p, names[i].b->len);
    if (a->av.has_timestamp) {
        ntlm_av_put(&w, NTLM_AV_FLAGS, flags, sizeof(flags));
        ntlm_av_put(&w, NTLM_AV_TIMESTAMP, a->av.timestamp, NTLM_TIMESTAMP_LEN);
    }
    return ntlm_av_end(&w);
}

/* MS-NLMP 3.3.2: NTProofStr || temp.  The LM field is zeros, as Windows
 * sends it beside NTLMv2: a real LMv2 response there (MS-NLMP allows one
 * when the CHALLENGE has no timestamp) is all a man in the middle needs,
 * once he has stripped the timestamp (no MIC then) and emptied the NT
 * field, to pass an exchange he altered to a server that accepts LMv2
 * alone (Cyrus's does).  Every server that checks NTLMv2 ignores it. */
static int ntlm_client_answer_v2(struct ntlm_client_answer *a)
{
    unsigned char *temp = a->nt + NTLM_PROOF_LEN;
    size_t av_len, cap = NT_MAX - NTLM_PROOF_LEN - NTLM_V2_BLOB_HEADER - 4;
    unsigned char base[NTLM_KEY_LEN];
    int r = -1;

    memset(temp, 0, NTLM_V2_BLOB_HEADER);
    temp[0] = 1;
    temp[1] = 1;
    if (a->av.has_timestamp)
        memcpy(temp + 8, a->av.timestamp, NTLM_TIMESTAMP_LEN);
    else
        ntlm_filetime_now(temp + 8);
    if (sm_random(temp + 16, NTLM_CHALLENGE_LEN) != 0)
        return -1;
    av_len = ntlm_client_av_pairs(a, temp + NTLM_V2_BLOB_HEADER, cap);
    if (!av_len)
        return -1;
    memset(temp + NTLM_V2_BLOB_HEADER + av_len, 0, 4);
    a->nt_len = NTLM_PROOF_LEN + NTLM_V2_BLOB_HEADER + av_len + 4;
    a->lm_len = NTLM_V1_RESPONSE_LEN;
    if (!ntlm_ntowfv2(a->hash, a->user16, a->user16_len, a->domain16, a->domain16_len, a->key)
        && !ntlm_v2_hmac(a->key, a->ch.server_challenge, temp, a->nt_len - NTLM_PROOF_LEN,
                         a->nt)
        && !ntlm_v2_session_base_key(a->key, a->nt, base)) {
        r = 0;
        memset(a->lm, 0, sizeof(a->lm));
        a->with_mic = a->av.has_timestamp;
        /* no KEY_EXCH: the exported session key is the key exchange key */
        memcpy(a->exported, base, NTLM_KEY_LEN);
    }
    sm_erase(base, sizeof(base));
    return r;
}

/* NTLMv1, only with ntlm_allow_v1, a server that sent no target
 * information (a v2 server gets v2) and agreed to extended session
 * security: then the response mixes in our own client challenge, so a man
 * in the middle who strips the CHALLENGE down and fixes its challenge gets
 * no answer a precomputed table cracks.  Plain NTLMv1 is never sent. */
static int ntlm_client_answer_v1(struct ntlm_client_answer *a)
{
    unsigned char challenge[NTLM_CHALLENGE_LEN];

    a->nt_len = NTLM_V1_RESPONSE_LEN;
    a->lm_len = NTLM_V1_RESPONSE_LEN;
    memset(a->lm, 0, sizeof(a->lm));
    if (sm_random(a->lm, NTLM_CHALLENGE_LEN) != 0
        || ntlm_ess_challenge(a->ch.server_challenge, a->lm, challenge) != 0)
        return -1;
    return ntlm_v1_response(a->hash, challenge, a->nt);
}

/* Whether NTLMv1 may be sent: ntlm_allow_v1, or Cyrus's name for the
 * opposite, ntlm_v2 (Cyrus's client sends NTLMv1 without it, LMv2 with
 * it).  ntlm_v2: yes is our default, never NTLMv1 (we send NTLMv2, not
 * LMv2); ntlm_v2: no allows it as ntlm_allow_v1: yes does.  Set both so
 * that they contradict, and the exchange fails naming them. */
static int ntlm_client_allow_v1(const sasl_utils_t *utils, int *allow_v1)
{
    int v1_set, v1, v2_set, v2, r;

    if ((r = sm_opt_bool(utils, "ntlm_allow_v1", 0, &v1)) != SASL_OK
        || (r = sm_opt_bool(utils, "ntlm_v2", 0, &v2)) != SASL_OK)
        return r;
    /* set when a default of 1 reads the same as a default of 0 */
    sm_opt_bool(utils, "ntlm_allow_v1", 1, &v1_set);
    sm_opt_bool(utils, "ntlm_v2", 1, &v2_set);
    v1_set = v1_set == v1;
    v2_set = v2_set == v2;
    if (v1_set && v2_set && v1 == v2)
        return sm_fail(utils, SASL_CONFIGERR, "NTLM: options ntlm_v2 (Cyrus's) and ntlm_allow_v1 "
                       "contradict each other (ntlm_v2: yes means ntlm_allow_v1: no): keep one");
    *allow_v1 = v1_set ? v1 : v2_set && !v2;
    return SASL_OK;
}

static int ntlm_client_read_challenge(const sasl_utils_t *utils, const char *in, unsigned inlen,
                                      int allow_v1, struct ntlm_client_answer *a)
{
    static const unsigned char zero[NTLM_CHALLENGE_LEN];
    enum ntlm_status st = ntlm_parse_challenge(in, inlen, &a->ch);

    if (st == NTLM_OK && a->ch.target_info.len)
        st = ntlm_parse_av_pairs(a->ch.target_info.p, a->ch.target_info.len, 0, &a->av);
    if (st != NTLM_OK)
        return sm_fail(utils, SASL_BADPROT, "NTLM: CHALLENGE: %s", ntlm_status_text(st));
    if (!(a->ch.flags & NTLM_NEGOTIATE_NTLM))
        return sm_fail(utils, SASL_TOOWEAK, "NTLM: the server offers only LM, which is refused");
    if (!(a->ch.flags & (NTLM_NEGOTIATE_UNICODE | NTLM_NEGOTIATE_OEM)))
        return sm_fail(utils, SASL_BADPROT, "NTLM: CHALLENGE names no character set");
    if (sm_ct_equal(a->ch.server_challenge, zero, sizeof(zero)))
        return sm_fail(utils, SASL_BADPROT, "NTLM: CHALLENGE: the server challenge is zero");
    a->unicode = (a->ch.flags & NTLM_NEGOTIATE_UNICODE) != 0;
    a->v1 = allow_v1 && !a->ch.target_info.len
            && (a->ch.flags & NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY);
    return SASL_OK;
}

static int ntlm_client_build_authenticate(struct ntlm_client *c, const sasl_utils_t *utils,
                                          struct ntlm_client_answer *a, const char *in,
                                          unsigned inlen)
{
    struct ntlm_authenticate_fields f;
    struct ntlm_buf neg = {c->negotiate, c->negotiate_len};
    struct ntlm_buf chal = {(const unsigned char *)in, inlen}, auth;
    unsigned char mic[NTLM_MIC_LEN];
    size_t n;
    int r;

    memset(&f, 0, sizeof(f));
    /* what both offered, less the character set not chosen */
    f.flags = (a->ch.flags & CLIENT_FLAGS) | NTLM_NEGOTIATE_NTLM;
    f.flags &= a->unicode ? ~(uint32_t)NTLM_NEGOTIATE_OEM : ~(uint32_t)NTLM_NEGOTIATE_UNICODE;
    f.lm = (struct ntlm_buf){a->lm, a->lm_len};
    f.nt = (struct ntlm_buf){a->nt, a->nt_len};
    f.domain = (struct ntlm_buf){a->wire_domain, a->wire_domain_len};
    f.user = (struct ntlm_buf){a->wire_user, a->wire_user_len};
    f.workstation = (struct ntlm_buf){a->wire_workstation, a->wire_workstation_len};
    f.with_mic = a->with_mic;
    n = NTLM_AUTHENTICATE_MIC_HEADER + a->lm_len + a->nt_len + a->wire_domain_len
        + a->wire_user_len + a->wire_workstation_len;
    if ((r = sm_outbuf_reserve(utils, &c->base.out, (unsigned)n)) != SASL_OK)
        return r;
    n = ntlm_build_authenticate(&f, (unsigned char *)c->base.out.data, n);
    if (!n)
        return sm_fail(utils, SASL_FAIL, "NTLM: cannot build the AUTHENTICATE");
    c->base.out.len = (unsigned)n;
    if (!a->with_mic)
        return SASL_OK;
    /* MS-NLMP 3.1.5.1.2: the MIC over the three messages, its field zero */
    auth = (struct ntlm_buf){(const unsigned char *)c->base.out.data, n};
    if (ntlm_mic(a->exported, &neg, &chal, &auth, mic) != 0)
        return sm_fail(utils, SASL_FAIL, "NTLM: HMAC-MD5 unavailable");
    memcpy(c->base.out.data + NTLM_MIC_OFFSET, mic, NTLM_MIC_LEN);
    sm_erase(mic, sizeof(mic));
    return SASL_OK;
}

static int ntlm_client_send_authenticate(void *ctx, const struct sm_step_io *io)
{
    struct ntlm_client *c = ctx;
    const sasl_utils_t *utils = io->utils;
    const struct sm_creds *cr = &c->base.creds;
    unsigned char nt[NT_MAX];
    struct ntlm_client_answer ans, *a = &ans;
    int r, allow_v1 = 0;

    *io->next = NULL;
    if ((r = ntlm_client_allow_v1(utils, &allow_v1)) != SASL_OK)
        return r;
    memset(a, 0, sizeof(*a));
    a->nt = nt;
    if ((r = ntlm_client_read_challenge(utils, io->in, io->inlen, allow_v1, a)) != SASL_OK
        || (r = ntlm_client_split_authname(utils, cr->authname, a)) != SASL_OK
        || (r = ntlm_client_encode_names(utils, a)) != SASL_OK)
        goto out;
    r = sm_set_identities(utils, io->cparams->canon_user, a->user, (unsigned)strlen(a->user),
                          NULL, 0, io->oparams);
    if (r != SASL_OK)
        goto out;
    if (ntlm_nt_hash_utf8(cr->password, cr->password_len, a->hash) != 0) {
        r = sm_fail(utils, SASL_BADPARAM, ntlm_crypto_available()
                    ? "NTLM: the password is not UTF-8" : "NTLM: MD4 unavailable");
        goto out;
    }
    if ((a->v1 ? ntlm_client_answer_v1(a) : ntlm_client_answer_v2(a)) != 0) {
        r = sm_fail(utils, SASL_FAIL, "NTLM: cannot compute the response");
        goto out;
    }
    r = ntlm_client_build_authenticate(c, utils, a, io->in, io->inlen);
    if (r == SASL_OK) {
        sm_client_output(&c->base, io->out, io->outlen);
        sm_oparams_done(io->oparams);
    }
out:
    sm_erase(a->hash, sizeof(a->hash));
    sm_erase(a->key, sizeof(a->key));
    sm_erase(a->exported, sizeof(a->exported));
    sm_creds_dispose(utils, &c->base.creds);
    return r;
}

SM_CLIENT_NEW(ntlm_client_new, "NTLM", ntlm_client_send_negotiate, struct ntlm_client)
