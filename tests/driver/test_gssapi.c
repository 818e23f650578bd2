/* GSSAPI in process, against a throwaway MIT KDC (tests/krb5/kdc.sh, started
 * and stopped here): our client and server against each other and against
 * Cyrus's gssapiv2, with each security layer and data through
 * sasl_encode/sasl_decode both ways, split at every kind of boundary; the
 * errdetail of a wrong keytab, an unknown service principal, an expired
 * ticket and clock skew; channel bindings; and our server and client
 * against a hand-driven GSS-API peer sending malformed security-layer
 * tokens and frames. */
#include "config.h"
#include "harness.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>
#include <sasl/sasl.h>

#define FQDN "mx.sm-gssapi.test"
#define SERVICE "smtp"
#define MAXBUF 65536u

static char gss_ours[400], gss_cyrus[400], kdcdir[400];
static const char *realm;

/* ---- the KDC ------------------------------------------------------------ */

static int run(const char *cmd)
{
    int st = system(cmd);

    return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static int link_into(const char *dir, const char *src, const char *name)
{
    char s[800], d[800];

    snprintf(s, sizeof(s), "%s/%s", src, name);
    snprintf(d, sizeof(d), "%s/%s", dir, name);
    if (access(s, R_OK) != 0) {
        tap_ok(0, "setup: %s is missing", s);
        return -1;
    }
    return symlink(s, d);
}

static int setup_dirs(void)
{
    /* realpath() writes up to PATH_MAX bytes: with _FORTIFY_SOURCE (Debian's
     * build flags) a smaller buffer aborts the program */
    char plug[PATH_MAX], sys[PATH_MAX];

    if (!realpath(getenv("SM_PLUGIN_DIR"), plug) || !realpath(getenv("SM_SYSTEM_PLUGIN_DIR"), sys))
        return -1;
    snprintf(gss_ours, sizeof(gss_ours), "%s/gss-ours", hx.root);
    snprintf(gss_cyrus, sizeof(gss_cyrus), "%s/gss-cyrus", hx.root);
    snprintf(kdcdir, sizeof(kdcdir), "%s/kdc", hx.root);
    if (mkdir(gss_ours, 0700) || mkdir(gss_cyrus, 0700))
        return -1;
    if (link_into(gss_ours, plug, "libsaslmechs_gssapi.so")
        || link_into(gss_ours, sys, "libsasldb.so")
        || link_into(gss_cyrus, sys, "libgssapiv2.so")
        || link_into(gss_cyrus, sys, "libsasldb.so"))
        return -1;
    return 0;
}

static void cleanup_dirs(void)
{
    char cmd[1400];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s' '%s'", gss_ours, gss_cyrus, kdcdir);
    run(cmd);
}

/* ---- one exchange ------------------------------------------------------- */

struct side {
    sasl_ssf_t min_ssf, max_ssf;
    unsigned maxbuf;
    const char *authzid;      /* client: SASL_CB_USER */
    const char *proxy_allow;  /* server: allow this authzid */
    const char *cbinding;     /* channel binding data */
    const char *service;      /* client: default SERVICE */
    unsigned sec_flags;
    int cb_critical;          /* the channel binding is required */
};

struct result {
    int crc, src;
    char cerr[600], serr[600];
    sasl_conn_t *cc, *sc;
    unsigned cssf, sssf, cmaxout, smaxout;
    char user[300], authuser[300];
};

static int user_cb(void *ctx, int id, const char **result, unsigned *len)
{
    (void)id;
    *result = ctx;
    if (len)
        *len = (unsigned)strlen(ctx);
    return SASL_OK;
}

static int proxy_cb(sasl_conn_t *conn, void *ctx, const char *requested_user, unsigned rlen,
                    const char *auth_identity, unsigned alen, const char *def_realm,
                    unsigned urlen, struct propctx *propctx)
{
    (void)auth_identity; (void)alen; (void)def_realm; (void)urlen; (void)propctx;
    if (ctx && strlen(ctx) == rlen && memcmp(ctx, requested_user, rlen) == 0)
        return SASL_OK;
    sasl_seterror(conn, 0, "proxy refused");
    return SASL_NOAUTHZ;
}

static sasl_callback_t ccbs[3], scbs[3];

static void set_props(sasl_conn_t *c, const struct side *s)
{
    sasl_security_properties_t p;

    memset(&p, 0, sizeof(p));
    p.min_ssf = s->min_ssf;
    p.max_ssf = s->max_ssf;
    p.maxbufsize = s->maxbuf;
    p.security_flags = s->sec_flags;
    sasl_setprop(c, SASL_SEC_PROPS, &p);
}

static sasl_channel_binding_t ccb_store, scb_store;

static void set_cb(sasl_conn_t *c, sasl_channel_binding_t *st, const char *data, int critical)
{
    if (!data)
        return;
    st->name = "tls-unique";
    st->critical = critical;
    st->data = (const unsigned char *)data;
    st->len = strlen(data);
    sasl_setprop(c, SASL_CHANNEL_BINDING, st);
}

static void copy_err(sasl_conn_t *c, char *buf, size_t n)
{
    const char *e = c ? sasl_errdetail(c) : "";
    snprintf(buf, n, "%s", e ? e : "");
}

static int exchange_again(const struct side *cs, struct result *r);

/* client and server to completion or the first failure */
static int exchange(const struct side *cs, const struct side *ss, struct result *r)
{
    memset(r, 0, sizeof(*r));
    hx_log_reset();
    scbs[0] = (sasl_callback_t){SASL_CB_PROXY_POLICY, HX_CB(proxy_cb), (void *)ss->proxy_allow};
    scbs[1] = (sasl_callback_t){SASL_CB_LIST_END, NULL, NULL};
    r->src = sasl_server_new(SERVICE, FQDN, NULL, NULL, NULL, ss->proxy_allow ? scbs : NULL, 0,
                             &r->sc);
    if (r->src != SASL_OK)
        return -1;
    set_props(r->sc, ss);
    set_cb(r->sc, &scb_store, ss->cbinding, ss->cb_critical);
    return exchange_again(cs, r);
}

/* A new client connection against r's server connection (a second
 * sasl_server_start on it when it has run one already). */
static int exchange_again(const struct side *cs, struct result *r)
{
    const char *out = NULL, *mech = NULL, *sout = NULL, *p;
    unsigned outlen = 0, soutlen = 0;
    int n = 0;

    if (r->cc)
        sasl_dispose(&r->cc);
    r->user[0] = r->authuser[0] = 0;
    ccbs[0] = (sasl_callback_t){SASL_CB_USER, HX_CB(user_cb), (void *)(cs->authzid ? cs->authzid : "")};
    ccbs[1] = (sasl_callback_t){SASL_CB_LIST_END, NULL, NULL};
    r->crc = sasl_client_new(cs->service ? cs->service : SERVICE, FQDN, NULL, NULL,
                             cs->authzid ? ccbs : NULL, 0, &r->cc);
    if (r->crc != SASL_OK)
        return -1;
    set_props(r->cc, cs);
    set_cb(r->cc, &ccb_store, cs->cbinding, cs->cb_critical);
    r->crc = sasl_client_start(r->cc, "GSSAPI", NULL, &out, &outlen, &mech);
    if (r->crc != SASL_OK && r->crc != SASL_CONTINUE)
        goto done;
    r->src = sasl_server_start(r->sc, "GSSAPI", out, outlen, &sout, &soutlen);
    while (r->src == SASL_CONTINUE && n++ < 10) {
        r->crc = sasl_client_step(r->cc, sout, soutlen, NULL, &out, &outlen);
        if (r->crc != SASL_OK && r->crc != SASL_CONTINUE)
            goto done;
        r->src = sasl_server_step(r->sc, out, outlen, &sout, &soutlen);
    }
done:
    copy_err(r->cc, r->cerr, sizeof(r->cerr));
    copy_err(r->sc, r->serr, sizeof(r->serr));
    if (r->src == SASL_OK && r->crc == SASL_OK) {
        const void *v;
        if (sasl_getprop(r->cc, SASL_SSF, &v) == SASL_OK) r->cssf = *(const unsigned *)v;
        if (sasl_getprop(r->sc, SASL_SSF, &v) == SASL_OK) r->sssf = *(const unsigned *)v;
        if (sasl_getprop(r->cc, SASL_MAXOUTBUF, &v) == SASL_OK) r->cmaxout = *(const unsigned *)v;
        if (sasl_getprop(r->sc, SASL_MAXOUTBUF, &v) == SASL_OK) r->smaxout = *(const unsigned *)v;
        if (sasl_getprop(r->sc, SASL_USERNAME, &v) == SASL_OK && v)
            snprintf(r->user, sizeof(r->user), "%s", (const char *)v);
        if (sasl_getprop(r->sc, SASL_AUTHUSER, &v) == SASL_OK && v)
            snprintf(r->authuser, sizeof(r->authuser), "%s", (const char *)v);
    }
    (void)p;
    return r->src == SASL_OK && r->crc == SASL_OK ? 0 : -1;
}

static void finish(struct result *r)
{
    if (r->cc) sasl_dispose(&r->cc);
    if (r->sc) sasl_dispose(&r->sc);
}

/* ---- data through the layer --------------------------------------------- */

static unsigned rnd_state = 12345;
static unsigned rnd(void)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return rnd_state >> 8;
}

/* encode len bytes on from, feed the result to to's decode in pieces
 * (split: 0 whole, 1 byte by byte, 2 random pieces) and compare */
static int roundtrip(sasl_conn_t *from, sasl_conn_t *to, size_t len, int split, char *why,
                     size_t whylen)
{
    unsigned char *data = malloc(len ? len : 1), *got = malloc(len + 1);
    char *wire = NULL;
    size_t wlen = 0, glen = 0, off, piece;
    const char *o;
    unsigned olen;
    int rc, ok = 0;

    for (size_t i = 0; i < len; i++)
        data[i] = (unsigned char)rnd();
    /* the application's side: sasl_encode takes at most maxoutbuf a call */
    {
        const void *v;
        unsigned maxout = 0;
        sasl_getprop(from, SASL_MAXOUTBUF, &v);
        maxout = *(const unsigned *)v;
        for (off = 0; off < len; off += piece) {
            piece = len - off < maxout ? len - off : maxout;
            rc = sasl_encode(from, (const char *)data + off, (unsigned)piece, &o, &olen);
            if (rc != SASL_OK) {
                snprintf(why, whylen, "sasl_encode: %s: %s", hx_code(rc), sasl_errdetail(from));
                goto out;
            }
            wire = realloc(wire, wlen + olen);
            memcpy(wire + wlen, o, olen);
            wlen += olen;
        }
    }
    for (off = 0; off < wlen; off += piece) {
        piece = split == 0 ? wlen : split == 1 ? 1 : 1 + rnd() % 977;
        if (piece > wlen - off)
            piece = wlen - off;
        rc = sasl_decode(to, wire + off, (unsigned)piece, &o, &olen);
        if (rc != SASL_OK) {
            snprintf(why, whylen, "sasl_decode at %zu: %s: %s", off, hx_code(rc),
                     sasl_errdetail(to));
            goto out;
        }
        if (glen + olen > len) {
            snprintf(why, whylen, "decode gave too much");
            goto out;
        }
        memcpy(got + glen, o, olen);
        glen += olen;
    }
    ok = glen == len && memcmp(got, data, len) == 0;
    if (!ok)
        snprintf(why, whylen, "decoded %zu bytes, %s", glen, glen == len ? "different" : "short");
out:
    free(data);
    free(got);
    free(wire);
    return ok;
}

/* ---- the matrix ---------------------------------------------------------- */

struct layer { const char *name; sasl_ssf_t min, max; unsigned expect_ssf; };
static const struct layer layers[] = {
    {"none", 0, 0, 0},
    {"integrity", 1, 1, 1},
    {"confidentiality", 56, 256, 256},
};
static const char *pair_name;

static void matrix_row(int row, void *arg)
{
    const struct layer *l = &layers[row];
    struct side cs = {l->min, l->max, MAXBUF, NULL, NULL, NULL, NULL, 0, 0};
    struct side ss = cs;
    struct result r;
    static const size_t sizes[] = {1, 100, 4096, 20000, 65000, 150000};
    char why[700];
    int ok, all = 1;

    (void)arg;
    hx_row_name("%s %s", pair_name, l->name);
    ok = exchange(&cs, &ss, &r) == 0;
    tap_ok(ok, "%s, %s layer: authenticates", pair_name, l->name);
    if (!ok) {
        tap_diag("client %s: %s", hx_code(r.crc), r.cerr);
        tap_diag("server %s: %s", hx_code(r.src), r.serr);
        finish(&r);
        return;
    }
    tap_ok(r.cssf == l->expect_ssf && r.sssf == l->expect_ssf,
           "%s, %s layer: SSF %u on both sides (client %u, server %u)", pair_name, l->name,
           l->expect_ssf, r.cssf, r.sssf);
    /* both servers drop the realm when it is the default one */
    tap_ok(strcmp(r.user, "alice") == 0, "%s, %s layer: the server's user is alice (%s)",
           pair_name, l->name, r.user);
    if (l->expect_ssf)
        tap_ok(r.cmaxout > 0 && r.cmaxout < MAXBUF && r.smaxout > 0 && r.smaxout < MAXBUF,
               "%s, %s layer: maxoutbuf below the peer's buffer (client %u, server %u)",
               pair_name, l->name, r.cmaxout, r.smaxout);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        for (int split = 0; split < 3; split++) {
            if (split == 1 && sizes[i] > 4096)
                continue;
            /* without a layer libsasl2 itself refuses more than maxbufsize */
            if (!l->expect_ssf && sizes[i] > MAXBUF)
                continue;
            if (!roundtrip(r.cc, r.sc, sizes[i], split, why, sizeof(why))) {
                all = 0;
                tap_diag("client->server %zu bytes split %d: %s", sizes[i], split, why);
            }
            if (!roundtrip(r.sc, r.cc, sizes[i], split, why, sizeof(why))) {
                all = 0;
                tap_diag("server->client %zu bytes split %d: %s", sizes[i], split, why);
            }
        }
    tap_ok(all, "%s, %s layer: 1 to 150000 bytes round-trip both ways, whole, byte by byte "
           "and in random pieces", pair_name, l->name);
    if (l->expect_ssf) {
        /* frames the layer must refuse */
        static const char too_long[] = "\x00\x01\x00\x01";
        static const char empty[] = "\x00\x00\x00\x00";
        static const char garbage[] = "\x00\x00\x00\x08garbage!";
        const char *o;
        unsigned olen;
        int rc;

        if (strstr(pair_name, "our server")) {
            rc = sasl_decode(r.sc, too_long, 4, &o, &olen);
            tap_ok(rc == SASL_BADPROT || rc == SASL_FAIL,
                   "%s, %s layer: a frame longer than the negotiated %u bytes is refused (%s: %s)",
                   pair_name, l->name, MAXBUF, hx_code(rc), sasl_errdetail(r.sc));
        }
        finish(&r);
        if (strstr(pair_name, "our client")) {
            /* fresh connections: a refused frame leaves a layer unusable */
            if (exchange(&cs, &ss, &r) == 0) {
                rc = sasl_decode(r.cc, too_long, 4, &o, &olen);
                tap_ok(rc == SASL_BADPROT, "%s, %s layer: client refuses an over-long frame "
                       "(%s: %s)", pair_name, l->name, hx_code(rc), sasl_errdetail(r.cc));
                finish(&r);
            }
        }
        if (strstr(pair_name, "our server")) {
            if (exchange(&cs, &ss, &r) == 0) {
                rc = sasl_decode(r.sc, empty, 4, &o, &olen);
                tap_ok(rc == SASL_BADPROT, "%s, %s layer: an empty frame is refused (%s: %s)",
                       pair_name, l->name, hx_code(rc), sasl_errdetail(r.sc));
                finish(&r);
            }
            if (exchange(&cs, &ss, &r) == 0) {
                rc = sasl_decode(r.sc, garbage, sizeof(garbage) - 1, &o, &olen);
                tap_ok(rc == SASL_BADPROT, "%s, %s layer: a frame that does not unwrap is "
                       "refused (%s: %s)", pair_name, l->name, hx_code(rc), sasl_errdetail(r.sc));
            }
        }
    }
    finish(&r);
}

/* ---- the layer after a refusal, replays, other services, required bindings -- */

static const struct side conf_side = {56, 256, MAXBUF, NULL, NULL, NULL, NULL, 0, 0};

/* One message from the client through its layer: the frame, copied. */
static int client_frame(sasl_conn_t *cc, const char *msg, char *frame, unsigned *len)
{
    const char *o;
    unsigned olen;

    if (sasl_encode(cc, msg, (unsigned)strlen(msg), &o, &olen) != SASL_OK || olen > 4096)
        return -1;
    memcpy(frame, o, olen);
    *len = olen;
    return 0;
}

static void hardening_row(int row, void *arg)
{
    struct side cs = conf_side, ss = conf_side;
    struct result r;
    char f1[4096], f2[4096];
    unsigned l1 = 0, l2 = 0, olen;
    const char *o;
    int rc1 = -1, rc2 = -1;

    (void)arg;
    switch (row) {
    case 0:
        hx_row_name("decode after a refused frame");
        if (exchange(&cs, &ss, &r) == 0 && client_frame(r.cc, "after", f1, &l1) == 0) {
            rc1 = sasl_decode(r.sc, "\x00\x01\x00\x01", 4, &o, &olen);
            rc2 = sasl_decode(r.sc, f1, l1, &o, &olen);
        }
        tap_ok(rc1 == SASL_BADPROT && rc2 == SASL_BADPROT,
               "after a refused frame every later decode is refused, valid frames too (%s, %s: %s)",
               hx_code(rc1), hx_code(rc2), sasl_errdetail(r.sc));
        break;
    case 1:
        hx_row_name("replayed frame");
        if (exchange(&cs, &ss, &r) == 0 && client_frame(r.cc, "once", f1, &l1) == 0) {
            rc1 = sasl_decode(r.sc, f1, l1, &o, &olen);
            rc2 = sasl_decode(r.sc, f1, l1, &o, &olen);
        }
        tap_ok(rc1 == SASL_OK && rc2 == SASL_BADPROT,
               "a frame replayed through the layer is refused, not delivered empty (%s, %s: %s)",
               hx_code(rc1), hx_code(rc2), sasl_errdetail(r.sc));
        break;
    case 2:
        hx_row_name("reordered frames");
        if (exchange(&cs, &ss, &r) == 0 && client_frame(r.cc, "first", f1, &l1) == 0
            && client_frame(r.cc, "second", f2, &l2) == 0)
            rc1 = sasl_decode(r.sc, f2, l2, &o, &olen);
        (void)l1;
        tap_ok(rc1 == SASL_BADPROT, "the second frame before the first (the first deleted on "
               "the way) is refused (%s: %s)", hx_code(rc1), sasl_errdetail(r.sc));
        break;
    case 3:
        hx_row_name("ticket for another service");
        cs.service = "imap";
        rc1 = exchange(&cs, &ss, &r);
        tap_ok(rc1 != 0 && r.src == SASL_BADAUTH && strstr(r.serr, "not for service smtp"),
               "a ticket for imap/" FQDN " at the smtp server: SASL_BADAUTH (%s)", r.serr);
        break;
    case 4:
        hx_row_name("required binding, equal");
        cs.cbinding = ss.cbinding = "the-same-tls-unique";
        ss.cb_critical = 1;
        rc1 = exchange(&cs, &ss, &r);
        tap_ok(rc1 == 0, "a required channel binding, equal on both sides: authenticates (%s / %s)",
               r.cerr, r.serr);
        break;
    case 5:
        hx_row_name("required binding, client without");
        ss.cbinding = "server-tls-unique";
        ss.cb_critical = 1;
        rc1 = exchange(&cs, &ss, &r);
        tap_ok(rc1 != 0 && r.src == SASL_BADBINDING,
               "a required channel binding the client does not send: SASL_BADBINDING (%s)",
               r.serr);
        break;
    }
    finish(&r);
}

static void any_service_row(int row, void *arg)
{
    struct side cs = conf_side, ss = conf_side;
    struct result r;
    int rc;

    (void)row; (void)arg;
    cs.service = "imap";
    rc = exchange(&cs, &ss, &r);
    tap_ok(rc == 0, "gssapi_accept_any_service: yes: a ticket for imap/" FQDN " at the smtp "
           "server authenticates (%s / %s)", r.cerr, r.serr);
    finish(&r);
}

/* ---- identities, bindings, errors (our client and server) --------------- */

static void patch_skew(const char *cc);

static void misc_row(int row, void *arg)
{
    struct side cs = {0, 256, MAXBUF, NULL, NULL, NULL, NULL, 0, 0};
    struct side ss = cs;
    struct result r;
    char want[300], cmd[1500];
    const char *d = getenv("SM_KRB5_DIR");
    int rc;

    (void)arg;
    snprintf(want, sizeof(want), "alice");
    /* rows 6 and 7 point the child at other ccaches; the rest use alice's */
    snprintf(cmd, sizeof(cmd), "FILE:%s/ccache", d);
    setenv("KRB5CCNAME", cmd, 1);
    switch (row) {
    case 0:
        hx_row_name("authzid allowed");
        cs.authzid = "bob";
        ss.proxy_allow = "bob";
        rc = exchange(&cs, &ss, &r);
        tap_ok(rc == 0 && strcmp(r.user, "bob") == 0 && strcmp(r.authuser, want) == 0,
               "authzid bob, allowed by the proxy policy: user bob, authentication id %s "
               "(%s %s: %s / %s)", want, r.user, r.authuser, r.cerr, r.serr);
        break;
    case 1:
        hx_row_name("authzid refused");
        cs.authzid = "bob";
        rc = exchange(&cs, &ss, &r);
        tap_ok(rc != 0 && (r.src == SASL_NOAUTHZ || r.src == SASL_BADAUTH),
               "authzid bob, libsasl2's default proxy policy refuses it: %s", hx_code(r.src));
        break;
    case 2:
        hx_row_name("channel bindings equal");
        cs.cbinding = ss.cbinding = "the-same-tls-unique";
        rc = exchange(&cs, &ss, &r);
        tap_ok(rc == 0, "channel bindings given on both sides and equal: authenticates (%s / %s)",
               r.cerr, r.serr);
        break;
    case 3:
        hx_row_name("channel bindings differ");
        cs.cbinding = "client-tls-unique";
        ss.cbinding = "server-tls-unique";
        rc = exchange(&cs, &ss, &r);
        tap_ok(rc != 0 && r.src == SASL_BADAUTH && strstr(r.serr, "binding"),
               "channel bindings that differ: SASL_BADAUTH, %s", r.serr);
        break;
    case 4:
        hx_row_name("min SSF too high");
        /* integrity is 1, confidentiality 256: nothing in [2, 2] */
        ss.min_ssf = ss.max_ssf = 2;
        rc = exchange(&cs, &ss, &r);
        tap_ok(rc != 0 && r.src == SASL_TOOWEAK,
               "a server SSF range no layer is in: SASL_TOOWEAK (%s)", r.serr);
        break;
    case 5:
        hx_row_name("unknown service principal");
        cs.service = "nosuchservice";
        rc = exchange(&cs, &ss, &r);
        tap_ok(rc != 0 && strstr(r.cerr, "not found in Kerberos database"),
               "unknown service principal: the client's errdetail says so: %s", r.cerr);
        break;
    case 6:
        hx_row_name("expired ticket");
        snprintf(cmd, sizeof(cmd), "FILE:%s/short.cc", d);
        setenv("KRB5CCNAME", cmd, 1);
        rc = exchange(&cs, &ss, &r);
        tap_ok(rc != 0 && r.crc == SASL_BADAUTH && strstr(r.cerr, "expired"),
               "expired ticket: SASL_BADAUTH, the client's errdetail says so: %s", r.cerr);
        break;
    case 7:
        hx_row_name("clock skew");
        snprintf(cmd, sizeof(cmd), "FILE:%s/skew.cc", d);
        setenv("KRB5CCNAME", cmd, 1);
        rc = exchange(&cs, &ss, &r);
        tap_ok(rc != 0 && r.src == SASL_BADAUTH && strstr(r.serr, "skew"),
               "clock skew: SASL_BADAUTH, the server's errdetail says so: %s", r.serr);
        break;
    default:
        return;
    }
    finish(&r);
}

/* ---- the user name each server reports, ours and Cyrus's ---------------- */

/* Run with the acceptor's (here: the whole process's) krb5.conf naming
 * another default realm, so that alice@REALM is a principal of a foreign
 * realm, as a cross-realm user is: the realm rule compares only the
 * client's realm with the default one. */
static void use_foreign_realm(int on)
{
    static char saved[600];

    if (on) {
        snprintf(saved, sizeof(saved), "%s", getenv("KRB5_CONFIG"));
        setenv("KRB5_CONFIG", getenv("SM_KRB5_FOREIGN_CONFIG"), 1);
    } else if (saved[0]) {
        setenv("KRB5_CONFIG", saved, 1);
    }
}

/* rows: default-realm principal, foreign-realm principal, each without and
 * with the authorization identity alice (SASL_CB_USER, no proxy policy) */
static void identity_row(int row, void *arg)
{
    struct side cs = {0, 256, MAXBUF, NULL, NULL, NULL, NULL, 0, 0};
    struct result r;
    char full[300];
    int foreign = row & 1, authzid = row >> 1, rc;
    const char *where = foreign ? "a foreign-realm principal" : "a default-realm principal";

    (void)arg;
    snprintf(full, sizeof(full), "alice@%s", realm);
    hx_row_name("%s: %s%s", pair_name, where, authzid ? ", authzid alice" : "");
    use_foreign_realm(foreign);
    if (authzid)
        cs.authzid = "alice";
    rc = exchange(&cs, &cs, &r);
    if (!authzid)
        tap_ok(rc == 0 && strcmp(r.user, foreign ? full : "alice") == 0,
               "%s, %s: the server's user is %s (%s; %s / %s)", pair_name, where,
               foreign ? full : "alice", r.user, r.cerr, r.serr);
    else if (!foreign)
        tap_ok(rc == 0 && strcmp(r.user, "alice") == 0 && strcmp(r.authuser, "alice") == 0,
               "%s, %s, authorization identity alice: accepted as alice itself, no proxy "
               "policy needed (%s %s; %s / %s)", pair_name, where, r.user, r.authuser, r.cerr,
               r.serr);
    else
        tap_ok(rc != 0 && hx_is_error(r.src),
               "%s, %s, authorization identity alice: refused, %s is not alice (%s: %s)",
               pair_name, where, full, hx_code(r.src), r.serr);
    use_foreign_realm(0);
    finish(&r);
}

/* ---- SASL_DELEGATEDCREDS as Cyrus's plugin hands it out ----------------- */

/* What the application reads: NULL, or the pointer to the handle. */
static gss_cred_id_t *delegated(sasl_conn_t *sc)
{
    const void *v = NULL;

    if (sasl_getprop(sc, SASL_DELEGATEDCREDS, &v) != SASL_OK)
        return NULL;
    return (gss_cred_id_t *)v;
}

/* The credential is alice's (it works as a credential). */
static int is_alices(gss_cred_id_t cred)
{
    gss_name_t name = GSS_C_NO_NAME;
    gss_buffer_desc nb = GSS_C_EMPTY_BUFFER;
    OM_uint32 maj, min;
    char want[300];
    int ok;

    maj = gss_inquire_cred(&min, cred, &name, NULL, NULL, NULL);
    if (GSS_ERROR(maj))
        return 0;
    maj = gss_display_name(&min, name, &nb, NULL);
    snprintf(want, sizeof(want), "alice@%s", realm);
    ok = !GSS_ERROR(maj) && nb.length == strlen(want) && memcmp(nb.value, want, nb.length) == 0;
    gss_release_buffer(&min, &nb);
    gss_release_name(&min, &name);
    return ok;
}

/* Consumers written the way Cyrus's plugin's are: read the pointer, take
 * the handle over by zeroing it, use it, release it with gss_release_cred.
 * Under valgrind (check-valgrind) a pointer into freed memory, a double
 * release or a leak fails the row. */
static void deleg_row(int row, void *arg)
{
    struct side deleg = {0, 256, MAXBUF, NULL, NULL, NULL, NULL, SASL_SEC_PASS_CREDENTIALS, 0};
    struct side plain = deleg;
    struct result r;
    gss_cred_id_t *cell, mine = GSS_C_NO_CREDENTIAL;
    OM_uint32 min;
    const char *sout;
    unsigned soutlen;
    int rc;

    (void)arg;
    plain.sec_flags = 0;
    switch (row) {
    case 0:
        hx_row_name("%s: delegation taken over", pair_name);
        rc = exchange(&deleg, &deleg, &r);
        cell = rc == 0 ? delegated(r.sc) : NULL;
        if (cell && *cell != GSS_C_NO_CREDENTIAL) {
            mine = *cell;
            *cell = GSS_C_NO_CREDENTIAL;
        }
        finish(&r);
        /* the application's now, after the connection is gone */
        tap_ok(mine != GSS_C_NO_CREDENTIAL && is_alices(mine),
               "%s: SASL_DELEGATEDCREDS points at the delegated gss_cred_id_t, which the "
               "application takes over by zeroing it and uses after sasl_dispose (%s)",
               pair_name, r.serr);
        if (mine != GSS_C_NO_CREDENTIAL)
            gss_release_cred(&min, &mine);
        return;
    case 1:
        hx_row_name("no delegation");
        rc = exchange(&plain, &plain, &r);
        tap_ok(rc == 0 && delegated(r.sc) == NULL,
               "without SASL_SEC_PASS_CREDENTIALS nothing is delegated: SASL_DELEGATEDCREDS "
               "is NULL (%s)", r.serr);
        break;
    case 2:
        hx_row_name("second and third start, nothing delegated");
        rc = exchange(&deleg, &deleg, &r);
        cell = rc == 0 ? delegated(r.sc) : NULL;
        tap_ok(cell && *cell != GSS_C_NO_CREDENTIAL && is_alices(*cell),
               "first exchange delegates: SASL_DELEGATEDCREDS points at alice's credential");
        /* libsasl2 2.1.28 disposes of the context on the next start, keeps
         * oparams and its doneflag, so the first step of that start fails;
         * the start after it works */
        rc = exchange_again(&plain, &r);
        cell = delegated(r.sc);
        tap_ok(rc != 0 && (cell == NULL || *cell == GSS_C_NO_CREDENTIAL),
               "a second sasl_server_start on the connection (which libsasl2 fails: %s): "
               "SASL_DELEGATEDCREDS is NULL, not the disposed context's handle (%p)",
               hx_code(r.src), (void *)cell);
        rc = exchange_again(&plain, &r);
        tap_ok(rc == 0 && delegated(r.sc) == NULL,
               "a third exchange on it, delegating nothing: SASL_DELEGATEDCREDS is NULL (%s)",
               r.serr);
        break;
    case 3:
        hx_row_name("third start delegates again");
        rc = exchange(&deleg, &deleg, &r);
        if (rc == 0)
            exchange_again(&deleg, &r);
        rc = rc == 0 ? exchange_again(&deleg, &r) : rc;
        cell = rc == 0 ? delegated(r.sc) : NULL;
        tap_ok(cell && *cell != GSS_C_NO_CREDENTIAL && is_alices(*cell),
               "a later exchange on the connection that delegates again: SASL_DELEGATEDCREDS "
               "points at the new credential, which works (%s)", r.serr);
        break;
    case 4:
        hx_row_name("second start fails");
        rc = exchange(&deleg, &deleg, &r);
        if (rc == 0) {
            /* libsasl2 2.1.28 fails any step after a done exchange; garbage
             * makes sure this start fails with a libsasl2 that does not */
            rc = sasl_server_start(r.sc, "GSSAPI", "\x60\x03garbage", 9, &sout, &soutlen);
            cell = delegated(r.sc);
            /* reading through a dangling pointer is what valgrind reports */
            tap_ok(hx_is_error(rc) && (cell == NULL || *cell == GSS_C_NO_CREDENTIAL),
                   "a second start that fails: SASL_DELEGATEDCREDS no longer points at the "
                   "disposed context's handle (%s, %p)", hx_code(rc), (void *)cell);
        } else {
            tap_ok(0, "second start fails: the first exchange failed: %s", r.serr);
        }
        break;
    case 5:
        hx_row_name("taken over, then a second start");
        rc = exchange(&deleg, &deleg, &r);
        cell = rc == 0 ? delegated(r.sc) : NULL;
        if (cell) {
            mine = *cell;
            *cell = GSS_C_NO_CREDENTIAL;
        }
        if (rc == 0)
            exchange_again(&plain, &r);
        rc = rc == 0 ? exchange_again(&plain, &r) : rc;
        tap_ok(rc == 0 && mine != GSS_C_NO_CREDENTIAL && is_alices(mine) && delegated(r.sc) == NULL,
               "credentials taken over survive later starts on the connection; the exchange "
               "that delegates nothing reports none (%s)", r.serr);
        if (mine != GSS_C_NO_CREDENTIAL)
            gss_release_cred(&min, &mine);
        break;
    }
    finish(&r);
}

/* ---- options: invalid values, Cyrus's names ----------------------------- */

/* arg: what the server's errdetail must contain (the option and why) */
static void bad_option_row(int row, void *arg)
{
    const char *const *want = arg;
    struct side cs = {0, 256, MAXBUF, NULL, NULL, NULL, NULL, 0, 0};
    struct result r;
    int rc, has = 1;

    (void)row;
    hx_row_name("invalid option %s", want[0]);
    rc = exchange(&cs, &cs, &r);
    for (const char *const *w = want; *w; w++)
        if (!strstr(r.serr, *w))
            has = 0;
    tap_ok(rc != 0 && r.src == SASL_CONFIGERR && has,
           "%s: every exchange fails with SASL_CONFIGERR, the errdetail names the option and "
           "why (%s: %s)", want[0], hx_code(r.src), r.serr);
    finish(&r);
}

/* Cyrus's keytab: honoured.  arg NULL: it names a keytab without the key,
 * which fails as with gssapi_keytab; else it names the service's keytab
 * while KRB5_KTNAME names the one without, and the exchange works. */
static void cyrus_keytab_row(int row, void *arg)
{
    struct side cs = {0, 256, MAXBUF, NULL, NULL, NULL, NULL, 0, 0};
    struct result r;
    int rc;

    (void)row;
    hx_row_name("keytab %s", arg ? "right" : "wrong");
    if (arg)
        setenv("KRB5_KTNAME", getenv("SM_KRB5_WRONG_KEYTAB"), 1);
    rc = exchange(&cs, &cs, &r);
    if (arg)
        tap_ok(rc == 0, "Cyrus's option keytab naming the service's keytab (KRB5_KTNAME "
               "naming one without the key): authenticates (%s)", r.serr);
    else
        tap_ok(rc != 0 && r.src == SASL_BADAUTH && strstr(r.serr, "keytab"),
               "Cyrus's option keytab naming a keytab without the key: refused as with "
               "gssapi_keytab (%s)", r.serr);
    finish(&r);
}

/* Cyrus's client option ad_compat: confidentiality chosen with the
 * integrity bit as well.  Our server takes that as confidentiality;
 * Cyrus's takes the integrity bit first (SSF 1 on its side, 256 on the
 * client's), for Cyrus's client and ours alike. */
static void ad_compat_row(int row, void *arg)
{
    struct side cs = {1, 256, MAXBUF, NULL, NULL, NULL, NULL, 0, 0};
    struct result r;
    unsigned want = strstr(pair_name, "Cyrus server") ? 1 : 256;
    int rc;

    (void)row; (void)arg;
    hx_row_name("%s: ad_compat", pair_name);
    rc = exchange(&cs, &cs, &r);
    tap_ok(rc == 0 && r.cssf == 256 && r.sssf == want,
           "%s, client option ad_compat: yes: the client chooses confidentiality with the "
           "integrity bit; SSF %u on the client, %u on the server (%u / %u; %s / %s)",
           pair_name, 256, want, r.cssf, r.sssf, r.cerr, r.serr);
    finish(&r);
}

/* gssapi_strip_realm: no, and gssapi_local_realm naming our realm or another */
static void strip_row(int row, void *arg)
{
    struct side cs = {0, 256, MAXBUF, NULL, NULL, NULL, NULL, 0, 0};
    struct result r;
    const char *want = arg;
    int rc;

    (void)row;
    hx_row_name("strip realm %s", want);
    rc = exchange(&cs, &cs, &r);
    tap_ok(rc == 0 && strstr(r.user, want) == r.user && strlen(r.user) == strlen(want),
           "gssapi_strip_realm: the server's user is %s (%s)", want, r.user);
    finish(&r);
}

/* the same with the acceptor's default realm another (use_foreign_realm) */
static void strip_foreign_row(int row, void *arg)
{
    use_foreign_realm(1);
    strip_row(row, arg);
    use_foreign_realm(0);
}

/* gssapi_principal: the acceptor named (arg: what the row expects) */
static void principal_row(int row, void *arg)
{
    struct side cs = {0, 256, MAXBUF, NULL, NULL, NULL, NULL, 0, 0};
    struct result r;
    const char *expect = arg;
    int rc;

    (void)row;
    hx_row_name("gssapi_principal %s", expect ? expect : "ok");
    rc = exchange(&cs, &cs, &r);
    if (!expect)
        tap_ok(rc == 0, "gssapi_principal naming the service the client asks for: "
               "authenticates (%s)", r.serr);
    else
        tap_ok(rc != 0 && strstr(r.serr, expect) != NULL,
               "gssapi_principal naming %s: refused, the server's errdetail says so: %s",
               strstr(expect, "nokey") ? "a principal without a key" : "another service",
               r.serr);
    finish(&r);
}

static void wrong_keytab_row(int row, void *arg)
{
    struct side cs = {0, 256, MAXBUF, NULL, NULL, NULL, NULL, 0, 0};
    struct result r;
    int rc;

    (void)arg; (void)row;
    hx_row_name("wrong keytab");
    rc = exchange(&cs, &cs, &r);
    tap_ok(rc != 0 && r.src == SASL_BADAUTH
           && (strstr(r.serr, "keytab") || strstr(r.serr, "key table")),
           "a keytab without the service's key: SASL_BADAUTH, the server's errdetail says so: %s",
           r.serr);
    /* the failure reaches the application's log once (libsasl2 logs the
     * errdetail sm_fail hands it; nothing else may log it again) */
    {
        const char *sentence = strstr(r.serr, "GSSAPI: ");
        int n = sentence ? hx_log_count(sentence) : 0;

        if (!tap_ok(n == 1, "the GSSAPI failure is in the application's log once (%d times)", n))
            tap_diag("log: %s", hx_log_text());
    }
    finish(&r);
}

/* ---- a hand-driven GSS-API peer: malformed layer tokens ----------------- */

static gss_name_t target(void)
{
    gss_buffer_desc nb = {strlen(SERVICE "@" FQDN), (void *)SERVICE "@" FQDN};
    gss_name_t n = GSS_C_NO_NAME;
    OM_uint32 min;

    gss_import_name(&min, &nb, GSS_C_NT_HOSTBASED_SERVICE, &n);
    return n;
}

static int wrap(gss_ctx_id_t ctx, const void *p, size_t n, gss_buffer_t out)
{
    gss_buffer_desc in = {n, (void *)p};
    OM_uint32 min;

    return GSS_ERROR(gss_wrap(&min, ctx, 0, GSS_C_QOP_DEFAULT, &in, NULL, out)) ? -1 : 0;
}

struct bad_choice { const char *name; const char *clear; unsigned len; int raw; int expect; };
static const struct bad_choice bad_choices[] = {
    {"3-octet reply", "\x01\x00\x00", 3, 0, SASL_BADPROT},
    {"empty reply", "", 0, 0, SASL_BADPROT},
    {"two layers at once", "\x03\x00\x10\x00", 4, 0, SASL_BADPROT},
    {"no layer bit", "\x00\x00\x10\x00", 4, 0, SASL_BADPROT},
    {"unknown layer bit 8", "\x08\x00\x10\x00", 4, 0, SASL_BADPROT},
    {"confidentiality not offered", "\x04\x00\x10\x00", 4, 0, SASL_BADPROT},
    {"integrity with buffer 0", "\x02\x00\x00\x00", 4, 0, SASL_BADPROT},
    {"authzid with a NUL", "\x01\x00\x00\x00" "bo\0b", 8, 0, SASL_BADPROT},
    {"reply not wrapped", "\x01\x00\x00\x00", 4, 1, SASL_BADPROT},
};
#define N_BAD_CHOICES (sizeof(bad_choices) / sizeof(bad_choices[0]))

/* our server, with only none and integrity offered (max SSF 1), against
 * an initiator driven here; then the row's reply */
static void bad_choice_row(int row, void *arg)
{
    const struct bad_choice *b = &bad_choices[row];
    struct side ss = {0, 1, MAXBUF, NULL, NULL, NULL, NULL, 0, 0};
    gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
    gss_name_t t = target();
    gss_buffer_desc in = GSS_C_EMPTY_BUFFER, out = GSS_C_EMPTY_BUFFER, clear;
    OM_uint32 maj, min;
    sasl_conn_t *sc = NULL;
    const char *sout;
    unsigned soutlen;
    int rc, n = 0, extra;

    (void)arg;
    hx_row_name("%s", b->name);
    extra = row == 0 ? 1 : 0;
    sasl_server_new(SERVICE, FQDN, NULL, NULL, NULL, NULL, 0, &sc);
    set_props(sc, &ss);
    maj = gss_init_sec_context(&min, GSS_C_NO_CREDENTIAL, &ctx, t, GSS_C_NO_OID,
                               GSS_C_MUTUAL_FLAG | GSS_C_INTEG_FLAG | GSS_C_CONF_FLAG, 0, NULL,
                               NULL, NULL, &out, NULL, NULL);
    rc = sasl_server_start(sc, "GSSAPI", out.value, (unsigned)out.length, &sout, &soutlen);
    gss_release_buffer(&min, &out);
    while (rc == SASL_CONTINUE && (maj & GSS_S_CONTINUE_NEEDED) && n++ < 5) {
        in.value = (void *)sout;
        in.length = soutlen;
        maj = gss_init_sec_context(&min, GSS_C_NO_CREDENTIAL, &ctx, t, GSS_C_NO_OID,
                                   GSS_C_MUTUAL_FLAG | GSS_C_INTEG_FLAG | GSS_C_CONF_FLAG, 0,
                                   NULL, &in, NULL, &out, NULL, NULL);
        if (GSS_ERROR(maj))
            break;
        rc = sasl_server_step(sc, out.value ? out.value : "", (unsigned)out.length, &sout,
                              &soutlen);
        gss_release_buffer(&min, &out);
    }
    if (rc != SASL_CONTINUE || GSS_ERROR(maj)) {
        tap_ok(0, "malformed reply %s: could not reach the layer negotiation (%s: %s)", b->name,
               hx_code(rc), sasl_errdetail(sc));
        goto out;
    }
    in.value = (void *)sout;
    in.length = soutlen;
    if (GSS_ERROR(gss_unwrap(&min, ctx, &in, &clear, NULL, NULL))) {
        tap_ok(0, "malformed reply %s: the offer does not unwrap", b->name);
        goto out;
    }
    if (row == 0)
        tap_ok(clear.length == 4 && ((unsigned char *)clear.value)[0] == 3
               && ((unsigned char *)clear.value)[1] == 1 && ((unsigned char *)clear.value)[2] == 0,
               "the server's offer is 4 octets: none|integrity (max SSF 1), buffer 65536");
    gss_release_buffer(&min, &clear);
    if (b->raw) {
        rc = sasl_server_step(sc, b->clear, b->len, &sout, &soutlen);
    } else {
        wrap(ctx, b->clear, b->len, &out);
        rc = sasl_server_step(sc, out.value, (unsigned)out.length, &sout, &soutlen);
        gss_release_buffer(&min, &out);
    }
    tap_ok(rc == b->expect && hx_has_detail(rc, sasl_errdetail(sc)),
           "malformed reply to the offer, %s: %s (%s)", b->name, hx_code(rc), sasl_errdetail(sc));
    (void)extra;
out:
    gss_delete_sec_context(&min, &ctx, GSS_C_NO_BUFFER);
    gss_release_name(&min, &t);
    sasl_dispose(&sc);
}

/* our client against an acceptor driven here, sending a crafted offer */
struct bad_offer { const char *name; const char *clear; unsigned len; int raw; int expect; };
static const struct bad_offer bad_offers[] = {
    {"5-octet offer", "\x07\x00\x10\x00\x00", 5, 0, SASL_BADPROT},
    {"3-octet offer", "\x07\x00\x10", 3, 0, SASL_BADPROT},
    {"no layer offered", "\x00\x00\x10\x00", 4, 0, SASL_BADPROT},
    {"only unknown bits", "\xf8\x00\x10\x00", 4, 0, SASL_BADPROT},
    {"integrity with buffer 0 (client wants integrity)", "\x02\x00\x00\x00", 4, 0, SASL_BADPROT},
    {"offer not wrapped", "\x07\x00\x10\x00", 4, 1, SASL_BADPROT},
    {"a step after completion", "\x01\x00\x00\x00", 4, 0, SASL_OK},
};
#define N_BAD_OFFERS (sizeof(bad_offers) / sizeof(bad_offers[0]))

static void bad_offer_row(int row, void *arg)
{
    const struct bad_offer *b = &bad_offers[row];
    struct side cs = {row == 4 ? 1 : 0, row == 4 ? 1 : 256, MAXBUF, NULL, NULL, NULL, NULL, 0, 0};
    gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
    gss_buffer_desc in, out = GSS_C_EMPTY_BUFFER;
    OM_uint32 maj = GSS_S_CONTINUE_NEEDED, min;
    sasl_conn_t *cc = NULL;
    const char *cout, *mech;
    unsigned coutlen;
    int rc, n = 0;

    (void)arg;
    hx_row_name("%s", b->name);
    sasl_client_new(SERVICE, FQDN, NULL, NULL, NULL, 0, &cc);
    set_props(cc, &cs);
    rc = sasl_client_start(cc, "GSSAPI", NULL, &cout, &coutlen, &mech);
    while (rc == SASL_CONTINUE && n++ < 5) {
        in.value = (void *)cout;
        in.length = coutlen;
        if (!(maj & GSS_S_CONTINUE_NEEDED))
            break; /* the client's empty answer to the last context token */
        maj = gss_accept_sec_context(&min, &ctx, GSS_C_NO_CREDENTIAL, &in, NULL, NULL, NULL,
                                     &out, NULL, NULL, NULL);
        if (GSS_ERROR(maj))
            break;
        rc = sasl_client_step(cc, out.value, (unsigned)out.length, NULL, &cout, &coutlen);
        gss_release_buffer(&min, &out);
    }
    if (rc != SASL_CONTINUE || GSS_ERROR(maj)) {
        tap_ok(0, "malformed offer %s: could not reach the layer negotiation (%s: %s)", b->name,
               hx_code(rc), sasl_errdetail(cc));
        goto out;
    }
    if (b->raw) {
        rc = sasl_client_step(cc, b->clear, b->len, NULL, &cout, &coutlen);
    } else {
        wrap(ctx, b->clear, b->len, &out);
        rc = sasl_client_step(cc, out.value, (unsigned)out.length, NULL, &cout, &coutlen);
        if (b->expect == SASL_OK && rc == SASL_OK) {
            /* then one more step: refused */
            rc = sasl_client_step(cc, out.value, (unsigned)out.length, NULL, &cout, &coutlen);
            gss_release_buffer(&min, &out);
            tap_ok(hx_is_error(rc), "our client: a step after completion is refused (%s: %s)",
                   hx_code(rc), sasl_errdetail(cc));
            goto out;
        }
        gss_release_buffer(&min, &out);
    }
    tap_ok(rc == b->expect && hx_has_detail(rc, sasl_errdetail(cc)),
           "our client, malformed offer, %s: %s (%s)", b->name, hx_code(rc), sasl_errdetail(cc));
out:
    gss_delete_sec_context(&min, &ctx, GSS_C_NO_BUFFER);
    sasl_dispose(&cc);
}

/* our server: a step after SASL_OK, and garbage instead of a context token */
static void server_misc_row(int row, void *arg)
{
    sasl_conn_t *sc = NULL;
    const char *sout;
    unsigned soutlen;
    int rc;

    (void)arg;
    if (row == 0) {
        struct side s = {0, 256, MAXBUF, NULL, NULL, NULL, NULL, 0, 0};
        struct result r;
        hx_row_name("server step after completion");
        if (exchange(&s, &s, &r) != 0) {
            tap_ok(0, "step after completion: the exchange failed: %s / %s", r.cerr, r.serr);
        } else {
            rc = sasl_server_step(r.sc, "x", 1, &sout, &soutlen);
            tap_ok(hx_is_error(rc), "our server: a step after completion is refused (%s)",
                   hx_code(rc));
        }
        finish(&r);
        return;
    }
    hx_row_name("garbage context token");
    sasl_server_new(SERVICE, FQDN, NULL, NULL, NULL, NULL, 0, &sc);
    rc = sasl_server_start(sc, "GSSAPI", "\x60\x03garbage", 9, &sout, &soutlen);
    tap_ok(rc == SASL_BADPROT && hx_has_detail(rc, sasl_errdetail(sc)),
           "our server: a garbage context token: %s (%s)", hx_code(rc), sasl_errdetail(sc));
    sasl_dispose(&sc);
}

/* ---- the expired and skewed ccaches ------------------------------------- */

/* A FILE ccache (v4) records the KDC's clock offset in its header (tag 1),
 * and the library adds it to the time it puts in each authenticator: an
 * offset of an hour makes this client's clock an hour off, for the server
 * only (the service ticket is already in the cache). */
static void patch_skew(const char *cc)
{
    char cmd[1600];

    snprintf(cmd, sizeof(cmd),
             "python3 - '%s' <<'EOF'\n"
             "import struct, sys\n"
             "p = sys.argv[1]; b = open(p, 'rb').read()\n"
             "assert b[:2] == b'\\x05\\x04'\n"
             "hl = struct.unpack('>H', b[2:4])[0]\n"
             "hdr = struct.pack('>HHii', 1, 8, 3600, 0)\n"
             "open(p, 'wb').write(b[:2] + struct.pack('>H', len(hdr)) + hdr + b[4 + hl:])\n"
             "EOF", cc);
    run(cmd);
}

static int prepare_ccaches(void)
{
    const char *d = getenv("SM_KRB5_DIR"), *ukt = getenv("SM_KRB5_USER_KEYTAB");
    char cmd[1500], cc[600];

    /* a ticket for 2 seconds, left to expire */
    snprintf(cmd, sizeof(cmd), "kinit -l 2s -k -t '%s' -c 'FILE:%s/short.cc' alice >&2",
             ukt, d);
    if (!run(cmd))
        return -1;
    snprintf(cmd, sizeof(cmd),
             "kinit -k -t '%s' -c 'FILE:%s/skew.cc' alice >&2 && "
             "kvno -q -c 'FILE:%s/skew.cc' " SERVICE "/" FQDN " >&2", ukt, d, d);
    if (!run(cmd))
        return -1;
    snprintf(cc, sizeof(cc), "%s/skew.cc", d);
    patch_skew(cc);
    return 0;
}

int main(void)
{
    struct hx_init ours = {0}, cyrus_cli = {0}, cyrus_srv = {0}, cyrus_both = {0}, wrong = {0};
    char ktopt[600];
    static const char *wrong_opts[3];
    time_t expire_at;

    if (hx_setup() != 0)
        goto out;
    if (setup_dirs() != 0) {
        tap_ok(0, "setup: plugin folders in %s: %s", hx.root, strerror(errno));
        goto out;
    }
    if (hx_kdc_start(kdcdir) != 0 || !(realm = getenv("SM_KRB5_REALM"))) {
        tap_ok(0, "setup: tests/krb5/kdc.sh start %s failed (packages krb5-kdc, "
               "krb5-admin-server, krb5-user: scripts/deps.sh)", kdcdir);
        goto out;
    }
    /* a case that can fail: kdc.sh wrote a realm and a loopback port */
    {
        const char *port = getenv("SM_KRB5_PORT");
        if (!tap_ok(realm && *realm && port && atoi(port) > 0 && atoi(port) < 65536,
                    "a throwaway KDC for realm %s on 127.0.0.1:%s", realm ? realm : "(none)",
                    port ? port : "(none)"))
            goto stop;
    }
    if (prepare_ccaches() != 0) {
        tap_ok(0, "setup: the short-lived and skewed ccaches");
        goto stop;
    }
    expire_at = time(NULL) + 3;

    ours.server_path = ours.client_path = gss_ours;
    cyrus_cli.server_path = gss_ours;
    cyrus_cli.client_path = gss_cyrus;
    cyrus_srv.server_path = gss_cyrus;
    cyrus_srv.client_path = gss_ours;
    cyrus_both.server_path = cyrus_both.client_path = gss_cyrus;

    pair_name = "our client, our server";
    hx_run(pair_name, &ours, 3, matrix_row, NULL);
    hx_run(pair_name, &ours, 4, identity_row, NULL);
    hx_run(pair_name, &ours, 6, deleg_row, NULL);
    pair_name = "our client, Cyrus server";
    hx_run(pair_name, &cyrus_srv, 3, matrix_row, NULL);
    hx_run(pair_name, &cyrus_srv, 4, identity_row, NULL);
    /* the reference for what SASL_DELEGATEDCREDS is: Cyrus's first
     * exchange (its later ones leave the pointer dangling) */
    hx_run(pair_name, &cyrus_srv, 1, deleg_row, NULL);
    /* Cyrus's gssapiv2 client never releases the credentials it acquires
     * (nor what hangs off them): under valgrind (check-valgrind) only our
     * client runs; `make check` runs every pair */
    if (getenv("SM_VALGRIND")) {
        tap_diag("under valgrind: the Cyrus-client pairs run in make check only "
                 "(Cyrus's gssapiv2 client leaks its credentials)");
    } else {
        pair_name = "Cyrus client, our server";
        hx_run(pair_name, &cyrus_cli, 3, matrix_row, NULL);
        hx_run(pair_name, &cyrus_cli, 4, identity_row, NULL);
        pair_name = "Cyrus client, Cyrus server (reference)";
        hx_run(pair_name, &cyrus_both, 3, matrix_row, NULL);
        hx_run(pair_name, &cyrus_both, 4, identity_row, NULL);
    }
    {
        /* an application's getopt that files it under Cyrus's plugin name */
        static const char *ad_opts[] = {"GSSAPI:ad_compat", "yes", NULL};
        struct hx_init a = ours, b = cyrus_srv, c = cyrus_cli, d = cyrus_both;

        a.client_opts = b.client_opts = c.client_opts = d.client_opts = ad_opts;
        pair_name = "our client, our server";
        hx_run(pair_name, &a, 1, ad_compat_row, NULL);
        pair_name = "our client, Cyrus server";
        hx_run(pair_name, &b, 1, ad_compat_row, NULL);
        if (!getenv("SM_VALGRIND")) {
            pair_name = "Cyrus client, our server";
            hx_run(pair_name, &c, 1, ad_compat_row, NULL);
            pair_name = "Cyrus client, Cyrus server (reference)";
            hx_run(pair_name, &d, 1, ad_compat_row, NULL);
        }
    }

    hx_run("bad choices", &ours, (int)N_BAD_CHOICES, bad_choice_row, NULL);
    hx_run("bad offers", &ours, (int)N_BAD_OFFERS, bad_offer_row, NULL);
    hx_run("server misc", &ours, 2, server_misc_row, NULL);

    while (time(NULL) < expire_at)
        sleep(1);
    hx_run("identities and errors", &ours, 8, misc_row, NULL);
    hx_run("hardening", &ours, 6, hardening_row, NULL);
    {
        static const char *any_opts[] = {"gssapi_accept_any_service", "yes", NULL};
        struct hx_init any = ours;

        any.server_opts = any_opts;
        hx_run("any service", &any, 1, any_service_row, NULL);
    }

    snprintf(ktopt, sizeof(ktopt), "%s", getenv("SM_KRB5_WRONG_KEYTAB"));
    wrong_opts[0] = "gssapi_keytab";
    wrong_opts[1] = ktopt;
    wrong_opts[2] = NULL;
    wrong.server_path = wrong.client_path = gss_ours;
    wrong.server_opts = wrong_opts;
    hx_run("wrong keytab", &wrong, 1, wrong_keytab_row, NULL);
    {
        static const char *keep_opts[] = {"gssapi_strip_realm", "no", NULL};
        static const char *other_opts[] = {"gssapi_local_realm", "ELSEWHERE.TEST", NULL};
        static const char *ours_opts[] = {"gssapi_local_realm", "", NULL};
        static char full[300];
        struct hx_init keep = ours, other = ours, named = ours;

        snprintf(full, sizeof(full), "alice@%s", realm);
        ours_opts[1] = realm;
        keep.server_opts = keep_opts;
        other.server_opts = other_opts;
        named.server_opts = ours_opts;
        hx_run("keep realm", &keep, 1, strip_row, full);
        hx_run("strip another realm", &other, 1, strip_row, full);
        /* the acceptor's default realm is another: gssapi_local_realm names the users' */
        hx_run("local realm named", &named, 1, strip_foreign_row, (void *)"alice");
    }
    {
        static char longp[700], *p_long[] = {"gssapi_principal", longp, NULL};
        static const char *maybe[] = {"gssapi_strip_realm", "maybe", NULL},
                          *two[] = {"keytab", "/etc/one.keytab", "gssapi_keytab",
                                    "/etc/two.keytab", NULL},
                          *at[] = {"gssapi_local_realm", "alice@EXAMPLE.COM", NULL},
                          *any[] = {"gssapi_accept_any_service", "sometimes", NULL};
        static const char *w_maybe[] = {"gssapi_strip_realm", "\"maybe\"", NULL},
                          *w_long[] = {"gssapi_principal", "more than 511", NULL},
                          *w_two[] = {"keytab (Cyrus's option)", "gssapi_keytab",
                                      "/etc/one.keytab", "/etc/two.keytab", NULL},
                          *w_at[] = {"gssapi_local_realm", "not a realm", NULL},
                          *w_any[] = {"gssapi_accept_any_service", "sometimes", NULL};
        struct hx_init b = ours;

        memset(longp, 'p', sizeof(longp) - 1);
        b.server_opts = maybe;
        hx_run("invalid options", &b, 1, bad_option_row, (void *)w_maybe);
        b.server_opts = (const char *const *)p_long;
        hx_run("invalid options", &b, 1, bad_option_row, (void *)w_long);
        b.server_opts = two;
        hx_run("invalid options", &b, 1, bad_option_row, (void *)w_two);
        b.server_opts = at;
        hx_run("invalid options", &b, 1, bad_option_row, (void *)w_at);
        b.server_opts = any;
        hx_run("invalid options", &b, 1, bad_option_row, (void *)w_any);
    }
    {
        static char kt_wrong[600], kt_right[600];
        static const char *o_wrong[] = {"keytab", kt_wrong, NULL};
        static const char *o_right[] = {"keytab", kt_right, "gssapi_keytab", kt_right, NULL};
        struct hx_init w = ours, g = ours;

        snprintf(kt_wrong, sizeof(kt_wrong), "%s", getenv("SM_KRB5_WRONG_KEYTAB"));
        snprintf(kt_right, sizeof(kt_right), "%s", getenv("SM_KRB5_KEYTAB"));
        w.server_opts = o_wrong;
        g.server_opts = o_right;
        hx_run("Cyrus's keytab", &w, 1, cyrus_keytab_row, NULL);
        hx_run("Cyrus's keytab", &g, 1, cyrus_keytab_row, (void *)"right");
        /* asked for as Cyrus's plugin asks: with its plugin name */
        o_wrong[0] = "GSSAPI:keytab";
        hx_run("Cyrus's keytab", &w, 1, cyrus_keytab_row, NULL);
    }
    {
        static char p_ok[200], p_other[200], p_nokey[200];
        static const char *o_ok[3], *o_other[3], *o_nokey[3];
        struct hx_init a = {0}, b = {0}, c = {0};

        snprintf(p_ok, sizeof(p_ok), "smtp/" FQDN "@%s", realm);
        snprintf(p_other, sizeof(p_other), "imap/" FQDN "@%s", realm);
        snprintf(p_nokey, sizeof(p_nokey), "nokey/" FQDN "@%s", realm);
        o_ok[0] = o_other[0] = o_nokey[0] = "gssapi_principal";
        o_ok[1] = p_ok;
        o_other[1] = p_other;
        o_nokey[1] = p_nokey;
        a.server_path = a.client_path = b.server_path = b.client_path = gss_ours;
        c.server_path = c.client_path = gss_ours;
        a.server_opts = o_ok;
        b.server_opts = o_other;
        c.server_opts = o_nokey;
        hx_run("gssapi_principal", &a, 1, principal_row, NULL);
        hx_run("gssapi_principal other", &b, 1, principal_row, (void *)"Cannot decrypt ticket");
        /* MIT 1.20 leaks in a failed gss_acquire_cred_from (reproduced with
         * a program calling only MIT): this row stays out of check-valgrind */
        if (getenv("SM_VALGRIND"))
            tap_diag("under valgrind: the gssapi_principal row without a key runs in make "
                     "check only (MIT leaks in a failed gss_acquire_cred_from)");
        else
            hx_run("gssapi_principal no key", &c, 1, principal_row,
                   (void *)"no acceptor credentials for nokey/");
    }
stop:
    hx_kdc_stop(kdcdir);
out:
    cleanup_dirs();
    hx_cleanup();
    return tap_done();
}
