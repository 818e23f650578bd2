/* See harness.h.  What a child does with libsasl2 once harness.c has
 * initialised it: the small helpers the cases share, the client and server
 * connections with their callbacks, whole exchanges, and scripted runs of one
 * side against crafted messages. */
#include "config.h"
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ----------------------------------------------------- */

char *hx_memdup(const void *p, size_t len)
{
    char *d = malloc(len + 1);

    if (!d)
        abort();
    if (len)
        memcpy(d, p, len);
    d[len] = '\0';
    return d;
}

const char *hx_show(const char *p, size_t len)
{
    static char buf[8][200];
    static int next;
    char *b = buf[next++ % 8];
    size_t i, o = 0;

    if (!p)
        return "(none)";
    for (i = 0; i < len && o < sizeof(buf[0]) - 8; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\\')
            b[o++] = (char)ch;
        else
            o += (size_t)snprintf(b + o, sizeof(buf[0]) - o, "\\x%02x", ch);
    }
    if (i < len)
        o += (size_t)snprintf(b + o, sizeof(buf[0]) - o, "...");
    b[o] = '\0';
    return b;
}

const char *hx_code(int rc)
{
    static char other[32];

    switch (rc) {
#define C(x) case x: return #x
    C(SASL_CONTINUE); C(SASL_OK); C(SASL_FAIL); C(SASL_NOMEM); C(SASL_BUFOVER);
    C(SASL_NOMECH); C(SASL_BADPROT); C(SASL_NOTDONE); C(SASL_BADPARAM); C(SASL_TRYAGAIN);
    C(SASL_BADMAC); C(SASL_NOTINIT); C(SASL_INTERACT); C(SASL_BADSERV); C(SASL_WRONGMECH);
    C(SASL_BADAUTH); C(SASL_NOAUTHZ); C(SASL_TOOWEAK); C(SASL_ENCRYPT); C(SASL_TRANS);
    C(SASL_EXPIRED); C(SASL_DISABLED); C(SASL_NOUSER); C(SASL_BADVERS); C(SASL_UNAVAIL);
    C(SASL_NOVERIFY); C(SASL_PWLOCK); C(SASL_NOCHANGE); C(SASL_WEAKPASS); C(SASL_NOUSERPASS);
    C(SASL_NEED_OLD_PASSWD); C(SASL_CONSTRAINT_VIOLAT); C(SASL_BADBINDING); C(SASL_CONFIGERR);
#undef C
    }
    snprintf(other, sizeof(other), "SASL code %d", rc);
    return other;
}

int hx_is_error(int rc)
{
    return rc != SASL_OK && rc != SASL_CONTINUE && rc != SASL_INTERACT;
}

int hx_has_detail(int rc, const char *errdetail)
{
    char prefix[160];
    size_t n;

    snprintf(prefix, sizeof(prefix), "SASL(%d): %s: ", rc, sasl_errstring(rc, NULL, NULL));
    n = strlen(prefix);
    return strncmp(errdetail, prefix, n) == 0 && errdetail[n] != '\0';
}

/* ---- connections -------------------------------------------------------- */

static sasl_secret_t *cur_secret;

static int client_simple(void *ctx, int id, const char **result, unsigned *len)
{
    const struct hx_client *c = ctx;
    const char *v = id == SASL_CB_AUTHNAME ? c->authname
                  : id == SASL_CB_USER ? (c->authzid ? c->authzid : "") : NULL;

    if (!v)
        return SASL_BADPARAM;
    *result = v;
    if (len)
        *len = (unsigned)strlen(v);
    return SASL_OK;
}

/* The secret must outlive the step: Cyrus's plugins keep the pointer. */
static int client_secret(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **psecret)
{
    const struct hx_client *c = ctx;
    size_t len = c->password ? strlen(c->password) : 0;

    (void)conn;
    if (id != SASL_CB_PASS || !c->password)
        return SASL_BADPARAM;
    free(cur_secret);
    if (!(cur_secret = malloc(sizeof(*cur_secret) + len)))
        return SASL_NOMEM;
    cur_secret->len = len;
    memcpy(cur_secret->data, c->password, len + 1);
    *psecret = cur_secret;
    return SASL_OK;
}

static void answer_prompts(sasl_interact_t *p, const struct hx_client *c)
{
    for (; p && p->id != SASL_CB_LIST_END; p++) {
        const char *v = p->id == SASL_CB_AUTHNAME ? c->authname
                      : p->id == SASL_CB_PASS ? c->password
                      : p->id == SASL_CB_USER ? (c->authzid ? c->authzid : "") : p->defresult;
        p->result = v;
        p->len = v ? (unsigned)strlen(v) : 0;
    }
}

/* SASL_CB_CANON_USER for count_canon: the name as it is, the call counted
 * in the struct hx_canon of its side. */
static struct hx_canon client_canon, server_canon;
static int count_canon(sasl_conn_t *conn, void *ctx, const char *in, unsigned inlen, unsigned flags,
                       const char *user_realm, char *out, unsigned out_max, unsigned *out_len)
{
    struct hx_canon *k = ctx;

    (void)conn; (void)user_realm;
    if (k->calls < (int)(sizeof(k->flags) / sizeof(k->flags[0])))
        k->flags[k->calls] = flags & (SASL_CU_AUTHID | SASL_CU_AUTHZID);
    k->calls++;
    if (inlen >= out_max)
        return SASL_BUFOVER;
    memmove(out, in, inlen);
    out[inlen] = '\0';
    *out_len = inlen;
    return SASL_OK;
}

static int new_client(const struct hx_client *c, sasl_conn_t **cc)
{
    static sasl_callback_t cb[5];
    int n = 0;

    /* a NULL proc says "ask me through SASL_INTERACT"; without the entry,
     * libsasl2 would answer AUTHNAME itself from $USER */
    cb[n++] = (sasl_callback_t){SASL_CB_AUTHNAME, c->interact ? NULL : HX_CB(client_simple), (void *)c};
    if (!c->no_user_cb)
        cb[n++] = (sasl_callback_t){SASL_CB_USER, c->interact ? NULL : HX_CB(client_simple), (void *)c};
    cb[n++] = (sasl_callback_t){SASL_CB_PASS, c->interact ? NULL : HX_CB(client_secret), (void *)c};
    if (c->count_canon)
        cb[n++] = (sasl_callback_t){SASL_CB_CANON_USER, HX_CB(count_canon), &client_canon};
    cb[n] = (sasl_callback_t){SASL_CB_LIST_END, NULL, NULL};
    return sasl_client_new(HX_SERVICE, HX_FQDN, NULL, NULL, cb, 0, cc);
}

static int proxy_policy(sasl_conn_t *conn, void *ctx, const char *requested, unsigned rlen,
                        const char *authid, unsigned alen, const char *realm, unsigned urlen,
                        struct propctx *props)
{
    const char *allow = ctx;
    size_t n = strlen(allow);

    (void)realm; (void)urlen; (void)props;
    if ((rlen == alen && memcmp(requested, authid, rlen) == 0)
        || (rlen >= n && memcmp(requested, allow, n) == 0
            && (rlen == n || (requested[n] == '@' && rlen - n - 1 == strlen(HX_REALM)
                              && memcmp(requested + n + 1, HX_REALM, rlen - n - 1) == 0))))
        return SASL_OK;
    sasl_seterror(conn, 0, "test policy: not allowed to act as this user");
    return SASL_NOAUTHZ;
}

static int new_server(const struct hx_server *s, sasl_conn_t **sc)
{
    static sasl_callback_t cb[3];
    sasl_security_properties_t sp;
    int rc, n = 0;

    if (s && s->proxy_allow)
        cb[n++] = (sasl_callback_t){SASL_CB_PROXY_POLICY, HX_CB(proxy_policy), (void *)s->proxy_allow};
    if (s && s->count_canon)
        cb[n++] = (sasl_callback_t){SASL_CB_CANON_USER, HX_CB(count_canon), &server_canon};
    cb[n] = (sasl_callback_t){SASL_CB_LIST_END, NULL, NULL};
    rc = sasl_server_new(HX_SERVICE, HX_FQDN, HX_REALM, NULL, NULL, n ? cb : NULL, 0, sc);
    if (rc != SASL_OK)
        return rc;
    memset(&sp, 0, sizeof(sp));
    sp.max_ssf = 256;
    sp.maxbufsize = 65536;
    sp.security_flags = s ? s->sec_flags : 0;
    if ((rc = sasl_setprop(*sc, SASL_SEC_PROPS, &sp)) != SASL_OK)
        return rc;
    return s && s->authz_props ? sasl_auxprop_request(*sc, (const char **)s->authz_props) : SASL_OK;
}

/* The first value of the first property the application asked for. */
static void get_authz_prop(sasl_conn_t *sc, const struct hx_server *s, char *dst, size_t max)
{
    struct propctx *ctx = sasl_auxprop_getctx(sc);
    struct propval val[2];
    const char *names[2] = {NULL, NULL};

    dst[0] = '\0';
    if (!ctx || !s || !s->authz_props)
        return;
    names[0] = s->authz_props[0];
    memset(val, 0, sizeof(val));
    if (prop_getnames(ctx, names, val) > 0 && val[0].values && val[0].values[0])
        snprintf(dst, max, "%s", val[0].values[0]);
}

static void copy_str(char *dst, size_t max, const char *src)
{
    snprintf(dst, max, "%s", src ? src : "");
}

static void get_prop(sasl_conn_t *sc, int prop, char *dst, size_t max)
{
    const void *u = NULL;

    if (sasl_getprop(sc, prop, &u) != SASL_OK)
        u = NULL;
    copy_str(dst, max, u);
}

/* sasl_client_start or _step, answering prompts until it stops asking. */
static int client_go(sasl_conn_t *cc, const char *mech, int start, const char *in,
                     unsigned inlen, const char **out, unsigned *outlen, const struct hx_client *c)
{
    sasl_interact_t *prompts = NULL;
    const char *chosen = NULL;
    int rc, rounds = 0;

    do {
        if (start)
            rc = sasl_client_start(cc, mech, &prompts, c->no_initial ? NULL : out, outlen, &chosen);
        else
            rc = sasl_client_step(cc, in, inlen, &prompts, out, outlen);
        if (rc == SASL_INTERACT)
            answer_prompts(prompts, c);
    } while (rc == SASL_INTERACT && ++rounds < 4);
    return rc;
}

/* The exchange itself on a server connection; after SASL_OK, with replay,
 * the client's last message once more (an extra round). */
static int exchange_on(sasl_conn_t *sc, const char *mech, const struct hx_client *c,
                       const struct hx_server *s, int replay, struct hx_outcome *o)
{
    sasl_conn_t *cc = NULL;
    const char *out = NULL, *sout = NULL;
    unsigned outlen = 0, soutlen = 0;
    char *cmsg = NULL, *smsg = NULL;
    int crc = SASL_NOTDONE, src, rounds;

    if ((src = new_client(c, &cc)) != SASL_OK) {
        copy_str(o->server_err, sizeof(o->server_err), "sasl_client_new failed");
        goto done;
    }
    crc = client_go(cc, mech, 1, NULL, 0, &out, &outlen, c);
    if (hx_is_error(crc)) {
        src = SASL_NOTDONE;
        goto done;
    }
    cmsg = out ? hx_memdup(out, outlen) : NULL;
    src = sasl_server_start(sc, mech, cmsg, cmsg ? outlen : 0, &sout, &soutlen);
    for (rounds = 0; src == SASL_CONTINUE && rounds < 10; rounds++) {
        if (soutlen && !o->challenge[0])
            copy_str(o->challenge, sizeof(o->challenge), hx_show(sout, soutlen));
        free(smsg);
        smsg = hx_memdup(sout ? sout : "", soutlen);
        out = NULL;
        outlen = 0;
        crc = client_go(cc, mech, 0, smsg, soutlen, &out, &outlen, c);
        if (hx_is_error(crc))
            break;
        free(cmsg);
        cmsg = hx_memdup(out ? out : "", outlen);
        src = sasl_server_step(sc, cmsg, outlen, &sout, &soutlen);
    }
    /* the server succeeded while the client waits for the outcome: an
     * application whose protocol reports it (LDAP's bind result, IMAP's OK)
     * steps the client with the success data, here none */
    if (src == SASL_OK && crc == SASL_CONTINUE) {
        out = NULL;
        outlen = 0;
        crc = client_go(cc, mech, 0, NULL, 0, &out, &outlen, c);
    }
    o->client_canon = client_canon; /* before the replayed round below */
    o->server_canon = server_canon;
    if (src == SASL_OK) {
        get_prop(sc, SASL_USERNAME, o->username, sizeof(o->username));
        get_prop(sc, SASL_AUTHUSER, o->authuser, sizeof(o->authuser));
        get_authz_prop(sc, s, o->authz_prop, sizeof(o->authz_prop));
        if (replay) {
            o->again_rc = sasl_server_step(sc, cmsg ? cmsg : "", cmsg ? outlen : 0, &sout,
                                           &soutlen);
            get_prop(sc, SASL_USERNAME, o->again_username, sizeof(o->again_username));
        }
    }
done:
    o->client_rc = crc;
    o->server_rc = src;
    if (hx_is_error(src) && !o->server_err[0])
        copy_str(o->server_err, sizeof(o->server_err), sasl_errdetail(sc));
    if ((hx_is_error(crc) || hx_is_error(src)) && cc) /* what the client was told, too */
        copy_str(o->client_err, sizeof(o->client_err), sasl_errdetail(cc));
    free(cmsg);
    free(smsg);
    sasl_dispose(&cc);
    free(cur_secret);
    cur_secret = NULL;
    return src;
}

static void outcome_reset(struct hx_outcome *o)
{
    memset(o, 0, sizeof(*o));
    o->client_rc = o->server_rc = o->again_rc = SASL_NOTDONE;
    memset(&client_canon, 0, sizeof(client_canon));
    memset(&server_canon, 0, sizeof(server_canon));
    hx_log_reset();
}

int hx_exchange(const char *mech, const struct hx_client *c, const struct hx_server *s,
                struct hx_outcome *o)
{
    sasl_conn_t *sc = NULL;
    int src;

    outcome_reset(o);
    if ((src = new_server(s, &sc)) != SASL_OK) {
        o->server_rc = src;
        copy_str(o->server_err, sizeof(o->server_err), "sasl_*_new failed");
        sasl_dispose(&sc);
        return src;
    }
    src = exchange_on(sc, mech, c, s, 1, o);
    sasl_dispose(&sc);
    return src;
}

int hx_exchange_on(sasl_conn_t *sc, const char *mech, const struct hx_client *c,
                   struct hx_outcome *o)
{
    outcome_reset(o);
    return exchange_on(sc, mech, c, NULL, 0, o);
}

static void record(struct hx_script *r, int rc, const char *out, unsigned outlen)
{
    if (r->steps < HX_MAX_STEPS)
        r->rc[r->steps] = rc;
    r->steps++;
    if (rc == SASL_OK)
        r->ever_ok = 1;
    if (outlen >= sizeof(r->out))
        outlen = sizeof(r->out) - 1;
    if (out && outlen)
        memcpy(r->out, out, outlen);
    r->out[outlen && out ? outlen : 0] = '\0';
    r->outlen = out ? outlen : 0;
}

int hx_reply_list(void *arg, int step, const char *chal, unsigned chal_len, char **msg,
                  unsigned *msg_len)
{
    const struct hx_msgs *m = arg;

    (void)chal; (void)chal_len;
    if (step >= m->n)
        return HX_STOP;
    if (!m->msg[step].data)
        return HX_NONE;
    *msg = hx_memdup(m->msg[step].data, m->msg[step].len);
    *msg_len = m->msg[step].len;
    return m->msg[step].force ? HX_FORCE : HX_SEND;
}

int hx_server_script(const char *mech, hx_reply_fn *reply, void *arg, struct hx_script *r)
{
    sasl_conn_t *sc = NULL;
    const char *out = NULL;
    unsigned outlen = 0, len = 0;
    char *msg = NULL;
    int rc, k, step;

    memset(r, 0, sizeof(*r));
    hx_log_reset();
    if ((rc = new_server(NULL, &sc)) != SASL_OK) {
        record(r, rc, NULL, 0);
        copy_str(r->err, sizeof(r->err), "sasl_server_new failed");
        return rc;
    }
    k = reply(arg, 0, NULL, 0, &msg, &len);
    rc = sasl_server_start(sc, mech, msg, msg ? len : 0, &out, &outlen);
    record(r, rc, out, outlen);
    for (step = 1; step < HX_MAX_STEPS; step++) {
        free(msg);
        msg = NULL;
        len = 0;
        k = reply(arg, step, r->out, r->outlen, &msg, &len);
        if (k == HX_STOP || (hx_is_error(rc) && k != HX_FORCE))
            break;
        rc = sasl_server_step(sc, msg, len, &out, &outlen);
        record(r, rc, out, outlen);
    }
    free(msg);
    if (hx_is_error(rc))
        copy_str(r->err, sizeof(r->err), sasl_errdetail(sc));
    sasl_dispose(&sc);
    return rc;
}

int hx_client_script(const char *mech, const struct hx_client *c, const struct hx_msg *chal,
                     int n, struct hx_script *r)
{
    sasl_conn_t *cc = NULL;
    const char *out = NULL;
    unsigned outlen = 0;
    char *in;
    int rc, i;

    memset(r, 0, sizeof(*r));
    hx_log_reset();
    if ((rc = new_client(c, &cc)) != SASL_OK) {
        record(r, rc, NULL, 0);
        return rc;
    }
    rc = client_go(cc, mech, 1, NULL, 0, &out, &outlen, c);
    record(r, rc, out, outlen);
    for (i = 0; i < n && (rc == SASL_CONTINUE || rc == SASL_OK); i++) {
        in = chal[i].data ? hx_memdup(chal[i].data, chal[i].len) : NULL;
        out = NULL;
        outlen = 0;
        rc = client_go(cc, mech, 0, in, in ? chal[i].len : 0, &out, &outlen, c);
        record(r, rc, out, outlen);
        free(in);
    }
    if (hx_is_error(rc))
        copy_str(r->err, sizeof(r->err), sasl_errdetail(cc));
    sasl_dispose(&cc);
    free(cur_secret);
    cur_secret = NULL;
    return rc;
}

/* The client's answer to chal: the step after sasl_client_start, or the
 * start itself when it produced no message and second is 0. */
static int client_reply(const char *mech, const struct hx_client *c, const char *chal,
                        unsigned chal_len, int second, char **msg, unsigned *msg_len)
{
    sasl_conn_t *cc = NULL;
    const char *out = NULL;
    unsigned outlen = 0;
    char *in;
    int rc;

    *msg = NULL;
    *msg_len = 0;
    if ((rc = new_client(c, &cc)) != SASL_OK)
        return rc;
    rc = client_go(cc, mech, 1, NULL, 0, &out, &outlen, c);
    if (rc == SASL_CONTINUE && (second || !out)) {
        in = hx_memdup(chal ? chal : "", chal_len);
        out = NULL;
        rc = client_go(cc, mech, 0, in, chal_len, &out, &outlen, c);
        free(in);
    }
    if (!hx_is_error(rc) && out) {
        *msg = hx_memdup(out, outlen);
        *msg_len = outlen;
    }
    sasl_dispose(&cc);
    free(cur_secret);
    cur_secret = NULL;
    return rc;
}

int hx_client_answer(const char *mech, const struct hx_client *c, const char *chal,
                     unsigned chal_len, char **msg, unsigned *msg_len)
{
    return client_reply(mech, c, chal, chal_len, 0, msg, msg_len);
}

int hx_client_second(const char *mech, const struct hx_client *c, const char *chal,
                     unsigned chal_len, char **msg, unsigned *msg_len)
{
    return client_reply(mech, c, chal, chal_len, 1, msg, msg_len);
}

int hx_listmech(unsigned sec_flags, char *out, size_t outmax)
{
    struct hx_server s = {.sec_flags = sec_flags};
    sasl_conn_t *sc = NULL;
    const char *list = NULL;
    unsigned len = 0;
    int count = 0, rc;

    out[0] = '\0';
    if ((rc = new_server(&s, &sc)) == SASL_OK
        && (rc = sasl_listmech(sc, NULL, " ", " ", " ", &list, &len, &count)) == SASL_OK)
        copy_str(out, outmax, list);
    sasl_dispose(&sc);
    return rc;
}
