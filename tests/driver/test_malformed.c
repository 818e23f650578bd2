/* Malformed client messages against every step of our PLAIN, LOGIN and
 * CRAM-MD5 servers, and hostile challenges against every step of our
 * clients, in tables as Dovecot's test-mech.c keeps them.  Every row must
 * end in a SASL error (never SASL_OK, never SASL_CONTINUE after a message
 * that ends the exchange), with a non-empty errdetail that does not carry
 * the password, and no log line that does.  Rows marked CONTROL are the
 * valid counterparts that must pass, so that a refusal elsewhere means
 * something. */
#include "config.h"
#include "harness.h"

#include <ctype.h>
#include <stdlib.h>

#define ANY_ERROR 1000    /* any failure code will do */
#define EXTRA 1u          /* a valid exchange, then one message too many */
#define CONTROL 2u        /* a valid row: expect is what it must give */
#define NONE_MSG {NULL, 0, 0}
#define SECRET_PART "Secr3t" /* the start of HX_PASS: catches partial leaks too */

#define VALID_PLAIN "\0" HX_USER "\0" HX_PASS
#define PROXY_PLAIN HX_USER "\0" HX_USER "\0" HX_PASS

struct row {
    char desc[120];
    struct hx_msg msg[5];
    int n;
    int expect;
    unsigned flags;
    int no_initial;       /* client rows: no initial response */
};

/* Scratch space for built messages: 4 slots of up to 64 KiB + some. */
#define BIG 70000
static char slot[4][BIG];

/* n bytes of ch followed by tail, in slot s. */
static struct hx_msg fill(int s, char ch, size_t n, const char *tail, size_t tail_len)
{
    memset(slot[s], ch, n);
    memcpy(slot[s] + n, tail, tail_len);
    return (struct hx_msg){slot[s], (unsigned)(n + tail_len), 0};
}

/* head, then n bytes of ch, then tail, in slot s. */
static struct hx_msg wrap(int s, const char *head, size_t head_len, char ch, size_t n,
                          const char *tail, size_t tail_len)
{
    memcpy(slot[s], head, head_len);
    memset(slot[s] + head_len, ch, n);
    memcpy(slot[s] + head_len + n, tail, tail_len);
    return (struct hx_msg){slot[s], (unsigned)(head_len + n + tail_len), 0};
}

#define LIT(s) (s), sizeof(s) - 1

static const char *expect_name(int expect)
{
    return expect == ANY_ERROR ? "an error" : hx_code(expect);
}

/* The verdict on one scripted run, shared by the server and client tables. */
static void judge(const char *side, const char *mech, const struct row *w, const struct hx_script *r)
{
    int last = r->rc[(r->steps > HX_MAX_STEPS ? HX_MAX_STEPS : r->steps) - 1];
    int code_ok = w->expect == ANY_ERROR ? hx_is_error(last) : last == w->expect;
    int auth_ok = (w->flags & (EXTRA | CONTROL)) || !r->ever_ok;
    /* libsasl2 itself refuses the extra round (doneflag) with SASL_FAIL and
     * no detail: our plugin is never called, so only the code is checked */
    int detail_ok = (w->flags & (EXTRA | CONTROL)) || hx_has_detail(last, r->err);
    int leak_ok = !strstr(r->err, SECRET_PART) && !hx_log_contains(SECRET_PART);
    int i;

    if (w->flags & EXTRA)
        auth_ok = r->steps >= 2 && r->rc[r->steps - 2] == SASL_OK;
    if (tap_ok(code_ok && auth_ok && detail_ok && leak_ok, "%s %s: %s: %s%s", mech, side, w->desc,
               expect_name(w->expect), w->flags & CONTROL ? " (control)" : ""))
        return;
    for (i = 0; i < r->steps && i < HX_MAX_STEPS; i++)
        tap_diag("step %d: %s", i, hx_code(r->rc[i]));
    tap_diag("errdetail \"%s\"%s%s%s", r->err, auth_ok ? "" : "; it authenticated",
             detail_ok ? "" : "; the errdetail is empty",
             leak_ok ? "" : "; the password leaked (errdetail or log)");
    if (!leak_ok)
        tap_diag("log: %s", hx_show(hx_log_text(), strlen(hx_log_text())));
}

static void run_server_row(const char *mech, const struct row *w)
{
    struct hx_msgs m = {w->msg, w->n};
    struct hx_script r;

    hx_row_name("%s server: %s", mech, w->desc);
    hx_server_script(mech, hx_reply_list, &m, &r);
    judge("server", mech, w, &r);
}

/* Every proper prefix of msg, each a row of its own: the prefix is the
 * message at step `at` (earlier steps are `before`, later ones `after`). */
static int truncation(struct row *w, int k, const char *what, const struct hx_msg *before,
                      int nbefore, const struct hx_msg *full, const struct hx_msg *after,
                      int nafter)
{
    int i, n = 0;

    if (k < 0 || (unsigned)k >= full->len)
        return 0;
    for (i = 0; i < nbefore; i++)
        w->msg[n++] = before[i];
    w->msg[n++] = (struct hx_msg){full->data, (unsigned)k, 0};
    for (i = 0; i < nafter; i++)
        w->msg[n++] = after[i];
    w->n = n;
    w->expect = ANY_ERROR;
    snprintf(w->desc, sizeof(w->desc), "%s cut to %d of %u bytes (\"%s\")", what, k, full->len,
             hx_show(full->data, (size_t)k));
    return 1;
}

/* ---- PLAIN server -------------------------------------------------------- */

static const struct row plain_rows[] = {
    {"empty message as initial response", {HX_MSG("")}, 1, SASL_BADPROT, 0, 0},
    {"empty message after the empty challenge", {NONE_MSG, HX_MSG("")}, 2, SASL_BADPROT, 0, 0},
    {"no separator", {HX_MSG(HX_USER HX_PASS)}, 1, SASL_BADPROT, 0, 0},
    {"one separator", {HX_MSG(HX_USER "\0" HX_PASS)}, 1, SASL_BADPROT, 0, 0},
    {"one separator, after the empty challenge", {NONE_MSG, HX_MSG(HX_USER "\0" HX_PASS)}, 2,
     SASL_BADPROT, 0, 0},
    {"separators only", {HX_MSG("\0")}, 1, SASL_BADPROT, 0, 0},
    {"two separators only", {HX_MSG("\0\0")}, 1, SASL_BADPROT, 0, 0},
    {"three separators only", {HX_MSG("\0\0\0")}, 1, SASL_BADPROT, 0, 0},
    {"empty authcid", {HX_MSG("\0\0" HX_PASS)}, 1, SASL_BADPROT, 0, 0},
    {"authzid and empty authcid", {HX_MSG(HX_USER "\0\0" HX_PASS)}, 1, SASL_BADPROT, 0, 0},
    {"empty password", {HX_MSG("\0" HX_USER "\0")}, 1, SASL_BADPROT, 0, 0},
    {"NUL inside the password", {HX_MSG("\0" HX_USER "\0Secr3t\0-Pa55word")}, 1, SASL_BADPROT, 0, 0},
    {"trailing NUL", {HX_MSG(VALID_PLAIN "\0")}, 1, SASL_BADPROT, 0, 0},
    {"four fields", {HX_MSG(HX_USER "\0" HX_USER "\0" HX_PASS "\0x")}, 1, SASL_BADPROT, 0, 0},
    {"the password of another user", {HX_MSG("\0" HX_USER2 "\0" HX_PASS)}, 1, SASL_BADAUTH, 0, 0},
    {"the password with a trailing newline", {HX_MSG(VALID_PLAIN "\n")}, 1, SASL_BADAUTH, 0, 0},
    {"extra round: the message again", {HX_MSG(VALID_PLAIN), HX_MSG(VALID_PLAIN)}, 2, ANY_ERROR,
     EXTRA, 0},
    /* libsasl2 disposes of the context after a failed step and passes NULL
     * to the next one; Cyrus's plugins refuse it, a NULL dereference crashes */
    {"a step after a failed step", {HX_MSG("x"), HX_FORCED(VALID_PLAIN)}, 2, ANY_ERROR, 0, 0},
    {"extra round without initial response", {NONE_MSG, HX_MSG(VALID_PLAIN), HX_MSG("")}, 3,
     ANY_ERROR, EXTRA, 0},
    {"the valid message", {HX_MSG(VALID_PLAIN)}, 1, SASL_OK, CONTROL, 0},
    {"the valid message after the empty challenge", {NONE_MSG, HX_MSG(VALID_PLAIN)}, 2, SASL_OK,
     CONTROL, 0},
};
#define N_PLAIN_STATIC (int)(sizeof(plain_rows) / sizeof(plain_rows[0]))
#define N_PLAIN_BUILT 7
#define N_PLAIN (N_PLAIN_STATIC + N_PLAIN_BUILT + (int)sizeof(VALID_PLAIN) - 1 \
                 + (int)sizeof(PROXY_PLAIN) - 1)

/* The size caps (255-byte names, 1024-byte passwords) and beyond. */
static void plain_built(int k, struct row *w)
{
    static const struct {
        const char *desc;
        int expect;
    } d[N_PLAIN_BUILT] = {
        {"authcid of 256 bytes", SASL_BADPROT},
        {"authzid of 256 bytes", SASL_BADPROT},
        {"authcid of 255 bytes (the cap), unknown", SASL_BADAUTH},
        {"password of 1025 bytes", SASL_BADPROT},
        {"password of 1024 bytes (the cap), wrong", SASL_BADAUTH},
        {"64 KiB of 'A'", SASL_BADPROT},
        {"64 KiB message with the separators", SASL_BADPROT},
    };

    snprintf(w->desc, sizeof(w->desc), "%s", d[k].desc);
    w->expect = d[k].expect;
    w->n = 1;
    switch (k) {
    case 0: w->msg[0] = wrap(0, LIT("\0"), 'u', 256, LIT("\0" HX_PASS)); break;
    case 1: w->msg[0] = wrap(0, LIT(""), 'u', 256, LIT("\0" HX_USER "\0" HX_PASS)); break;
    case 2: w->msg[0] = wrap(0, LIT("\0"), 'u', 255, LIT("\0" HX_PASS)); break;
    case 3: w->msg[0] = wrap(0, LIT("\0" HX_USER "\0"), 'p', 1025, LIT("")); break;
    case 4: w->msg[0] = wrap(0, LIT("\0" HX_USER "\0"), 'p', 1024, LIT("")); break;
    case 5: w->msg[0] = fill(0, 'A', 65536, LIT("")); break;
    case 6: w->msg[0] = wrap(0, LIT("\0" HX_USER "\0"), 'p', 65536, LIT("")); break;
    }
}

static void plain_row(int row, void *arg)
{
    static const struct hx_msg valid = HX_MSG(VALID_PLAIN), proxy = HX_MSG(PROXY_PLAIN);
    struct row w = {0};
    int k = row - N_PLAIN_STATIC - N_PLAIN_BUILT;

    (void)arg;
    if (row < N_PLAIN_STATIC)
        w = plain_rows[row];
    else if (row < N_PLAIN_STATIC + N_PLAIN_BUILT)
        plain_built(row - N_PLAIN_STATIC, &w);
    else if (!truncation(&w, k, "message", NULL, 0, &valid, NULL, 0))
        truncation(&w, k - (int)valid.len, "message with authzid", NULL, 0, &proxy, NULL, 0);
    run_server_row("PLAIN", &w);
}

/* ---- LOGIN server -------------------------------------------------------- */

static const struct row login_rows[] = {
    {"empty user name", {NONE_MSG, HX_MSG("")}, 2, SASL_BADPROT, 0, 0},
    {"NUL inside the user name", {NONE_MSG, HX_MSG("ali\0ce")}, 2, SASL_BADPROT, 0, 0},
    {"NUL inside the user name as initial response", {HX_MSG("ali\0ce")}, 1, SASL_BADPROT, 0, 0},
    {"trailing NUL after the user name", {NONE_MSG, HX_MSG(HX_USER "\0"), HX_MSG(HX_PASS)}, 3,
     SASL_BADPROT, 0, 0},
    {"a PLAIN message as user name", {HX_MSG(VALID_PLAIN)}, 1, SASL_BADPROT, 0, 0},
    {"empty password", {HX_MSG(HX_USER), HX_MSG("")}, 2, SASL_BADPROT, 0, 0},
    {"empty password after \"Username:\"", {NONE_MSG, HX_MSG(HX_USER), HX_MSG("")}, 3, SASL_BADPROT,
     0, 0},
    {"NUL inside the password", {HX_MSG(HX_USER), HX_MSG("Secr3t\0-Pa55word")}, 2, SASL_BADPROT,
     0, 0},
    {"trailing NUL after the password", {HX_MSG(HX_USER), HX_MSG(HX_PASS "\0")}, 2, SASL_BADPROT,
     0, 0},
    {"the password of another user", {HX_MSG(HX_USER2), HX_MSG(HX_PASS)}, 2, SASL_BADAUTH, 0, 0},
    {"extra round: the password again", {HX_MSG(HX_USER), HX_MSG(HX_PASS), HX_MSG(HX_PASS)}, 3,
     ANY_ERROR, EXTRA, 0},
    {"extra round without initial response",
     {NONE_MSG, HX_MSG(HX_USER), HX_MSG(HX_PASS), HX_MSG("")}, 4, ANY_ERROR, EXTRA, 0},
    {"steps after a failed step", {NONE_MSG, HX_MSG(""), HX_FORCED(HX_USER), HX_FORCED(HX_PASS)}, 4,
     ANY_ERROR, 0, 0},
    {"the valid exchange", {HX_MSG(HX_USER), HX_MSG(HX_PASS)}, 2, SASL_OK, CONTROL, 0},
};
#define N_LOGIN_STATIC (int)(sizeof(login_rows) / sizeof(login_rows[0]))
#define N_LOGIN_BUILT 8
#define N_LOGIN (N_LOGIN_STATIC + N_LOGIN_BUILT + (int)sizeof(HX_USER) - 1 \
                 + (int)sizeof(HX_PASS) - 1)

static void login_built(int k, struct row *w)
{
    static const struct {
        const char *desc;
        int expect;
    } d[N_LOGIN_BUILT] = {
        {"user name of 256 bytes as initial response", SASL_BADPROT},
        {"user name of 256 bytes after \"Username:\"", SASL_BADPROT},
        {"user name of 255 bytes (the cap), unknown", SASL_BADAUTH},
        {"password of 1025 bytes", SASL_BADPROT},
        {"password of 1024 bytes (the cap), wrong", SASL_BADAUTH},
        {"64 KiB user name", SASL_BADPROT},
        {"64 KiB password", SASL_BADPROT},
        {"64 KiB of NULs as user name", SASL_BADPROT},
    };
    static const struct hx_msg user = HX_MSG(HX_USER), pass = HX_MSG(HX_PASS), none = NONE_MSG;

    snprintf(w->desc, sizeof(w->desc), "%s", d[k].desc);
    w->expect = d[k].expect;
    w->n = 2;
    w->msg[0] = user;
    switch (k) {
    case 0: w->msg[0] = fill(0, 'u', 256, LIT("")); w->msg[1] = pass; break;
    case 1: w->msg[0] = none; w->msg[1] = fill(0, 'u', 256, LIT("")); w->msg[2] = pass; w->n = 3; break;
    case 2: w->msg[0] = fill(0, 'u', 255, LIT("")); w->msg[1] = pass; break;
    case 3: w->msg[1] = fill(0, 'p', 1025, LIT("")); break;
    case 4: w->msg[1] = fill(0, 'p', 1024, LIT("")); break;
    case 5: w->msg[0] = fill(0, 'u', 65536, LIT("")); w->msg[1] = pass; break;
    case 6: w->msg[1] = fill(0, 'p', 65536, LIT("")); break;
    case 7: w->msg[0] = fill(0, '\0', 65536, LIT("")); w->msg[1] = pass; break;
    }
}

static void login_row(int row, void *arg)
{
    static const struct hx_msg user = HX_MSG(HX_USER), pass = HX_MSG(HX_PASS), none = NONE_MSG;
    struct row w = {0};
    int k = row - N_LOGIN_STATIC - N_LOGIN_BUILT;

    (void)arg;
    if (row < N_LOGIN_STATIC)
        w = login_rows[row];
    else if (row < N_LOGIN_STATIC + N_LOGIN_BUILT)
        login_built(row - N_LOGIN_STATIC, &w);
    else if (!truncation(&w, k, "user name", &none, 1, &user, &pass, 1))
        truncation(&w, k - (int)user.len, "password", &user, 1, &pass, NULL, 0);
    run_server_row("LOGIN", &w);
}

/* ---- CRAM-MD5 server ----------------------------------------------------- */

/* The valid response comes from Cyrus's CRAM-MD5 client (an implementation
 * independent of ours) answering the server's own challenge; each row then
 * spoils it in one way. */
/* Not here: "alice  <digest>" or " alice <digest>".  libsasl2's canon_user
 * trims white space, so both authenticate as alice with alice's digest: the
 * same identity and the same proof, not a bypass. */
enum spoil {
    SP_NONE, SP_TRUNCATE, SP_UPPER, SP_NONHEX, SP_SHORT, SP_LONG, SP_NOSPACE, SP_TAB,
    SP_EMPTY_USER, SP_NEWLINE, SP_TRAILING_NUL, SP_NUL_USER,
    SP_NUL_DIGEST, SP_BIG_USER, SP_CAP_USER, SP_HUGE, SP_OTHER_USER, SP_WRONG_DIGEST,
    SP_DIGEST_ONLY, SP_INITIAL, SP_EXTRA, SP_AFTER_FAILURE,
};

struct cram_row {
    const char *desc;
    enum spoil sp;
    int expect;
    unsigned flags;
};

static const struct cram_row cram_rows[] = {
    {"the valid response", SP_NONE, SASL_OK, CONTROL},
    /* (a digest without any of a-f, odds 1 in 3 million, would make this no change) */
    {"uppercase hex digest", SP_UPPER, SASL_BADPROT, 0},
    {"a non-hex digit in the digest", SP_NONHEX, SASL_BADPROT, 0},
    {"digest of 31 hex digits", SP_SHORT, SASL_BADPROT, 0},
    {"digest of 33 hex digits", SP_LONG, SASL_BADPROT, 0},
    {"no space before the digest", SP_NOSPACE, SASL_BADPROT, 0},
    {"a tab instead of the space", SP_TAB, SASL_BADPROT, 0},
    {"empty user name", SP_EMPTY_USER, SASL_BADPROT, 0},
    {"the digest alone", SP_DIGEST_ONLY, SASL_BADPROT, 0},
    {"trailing newline", SP_NEWLINE, SASL_BADPROT, 0},
    {"trailing NUL", SP_TRAILING_NUL, SASL_BADPROT, 0},
    {"NUL inside the user name", SP_NUL_USER, SASL_BADPROT, 0},
    {"NUL inside the digest", SP_NUL_DIGEST, SASL_BADPROT, 0},
    {"user name of 256 bytes", SP_BIG_USER, SASL_BADPROT, 0},
    {"user name of 255 bytes (the cap), unknown", SP_CAP_USER, SASL_BADAUTH, 0},
    {"64 KiB response", SP_HUGE, SASL_BADPROT, 0},
    {"alice's digest under another user's name", SP_OTHER_USER, SASL_BADAUTH, 0},
    {"a digest off by one digit", SP_WRONG_DIGEST, SASL_BADAUTH, 0},
    {"a response as initial response (server-first mechanism)", SP_INITIAL, ANY_ERROR, 0},
    {"extra round: the response again", SP_EXTRA, ANY_ERROR, EXTRA},
    {"the valid response in a step after a failed step", SP_AFTER_FAILURE, ANY_ERROR, 0},
};
#define N_CRAM_STATIC (int)(sizeof(cram_rows) / sizeof(cram_rows[0]))
#define CRAM_VALID_LEN ((int)sizeof(HX_USER) + 32) /* "alice" SP 32 hex */
#define N_CRAM (N_CRAM_STATIC + CRAM_VALID_LEN)

struct cram_arg {
    enum spoil sp;
    int cut;        /* SP_TRUNCATE: bytes kept */
    char *valid;    /* the oracle's response, kept for the extra round */
    unsigned valid_len;
    char *chal;     /* SP_AFTER_FAILURE: the challenge, answered at step 2 */
    unsigned chal_len;
};

static void spoil(const struct cram_arg *a, const char *v, unsigned len, char **msg, unsigned *out)
{
    const char *digest = v + len - 32;
    char *m = malloc(BIG), *p;
    size_t n = len;

    if (!m)
        abort();
    memcpy(m, v, len);
    p = m + len - 32; /* the digest in the copy */
    switch (a->sp) {
    case SP_NONE: case SP_INITIAL: case SP_EXTRA: case SP_AFTER_FAILURE: break;
    case SP_TRUNCATE: n = (size_t)a->cut; break;
    case SP_UPPER: for (n = 0; n < 32; n++) p[n] = (char)toupper((unsigned char)p[n]); n = len; break;
    case SP_NONHEX: m[len - 1] = 'g'; break;
    case SP_SHORT: n = len - 1; break;
    case SP_LONG: m[len] = '0'; n = len + 1; break;
    case SP_NOSPACE: memmove(p - 1, p, 32); n = len - 1; break;
    case SP_TAB: p[-1] = '\t'; break;
    case SP_EMPTY_USER: n = (size_t)sprintf(m, " %.32s", digest); break;
    case SP_DIGEST_ONLY: n = (size_t)sprintf(m, "%.32s", digest); break;
    case SP_NEWLINE: m[len] = '\n'; n = len + 1; break;
    case SP_TRAILING_NUL: m[len] = '\0'; n = len + 1; break;
    case SP_NUL_USER: m[2] = '\0'; break;
    case SP_NUL_DIGEST: p[10] = '\0'; break;
    case SP_BIG_USER: memset(m, 'u', 256); n = 256 + (size_t)sprintf(m + 256, " %.32s", digest); break;
    case SP_CAP_USER: memset(m, 'u', 255); n = 255 + (size_t)sprintf(m + 255, " %.32s", digest); break;
    case SP_HUGE: memset(m, 'u', 65536); n = 65536 + (size_t)sprintf(m + 65536, " %.32s", digest); break;
    case SP_OTHER_USER: n = (size_t)sprintf(m, "%s %.32s", HX_USER2, digest); break;
    case SP_WRONG_DIGEST: p[0] = p[0] == '0' ? '1' : '0'; break;
    }
    *msg = m;
    *out = (unsigned)n;
}

static int cram_reply(void *arg, int step, const char *chal, unsigned chal_len, char **msg,
                      unsigned *len)
{
    struct cram_arg *a = arg;
    struct hx_client alice = {.authname = HX_USER, .password = HX_PASS};
    char *v;
    unsigned vlen;

    if (step == 0 && a->sp == SP_INITIAL) {
        /* any well-formed response will do: the challenge is not known yet */
        *msg = hx_memdup(HX_USER " 0123456789abcdef0123456789abcdef", sizeof(HX_USER) + 32);
        *len = (unsigned)sizeof(HX_USER) + 32;
        return HX_SEND;
    }
    if (step == 0)
        return HX_NONE;
    if (step == 2 && a->sp == SP_EXTRA && a->valid) {
        *msg = hx_memdup(a->valid, a->valid_len);
        *len = a->valid_len;
        return HX_SEND;
    }
    if (step == 1 && a->sp == SP_AFTER_FAILURE) {
        /* fail the first response, then answer the same challenge rightly */
        free(a->chal);
        a->chal = hx_memdup(chal, chal_len);
        a->chal_len = chal_len;
        *msg = hx_memdup("x", 1);
        *len = 1;
        return HX_SEND;
    }
    if (step == 2 && a->sp == SP_AFTER_FAILURE && a->chal) {
        chal = a->chal;
        chal_len = a->chal_len;
    } else if (step != 1) {
        return HX_STOP;
    }
    if (hx_client_answer("CRAM-MD5", &alice, chal, chal_len, &v, &vlen) != SASL_OK || !v
        || vlen != (unsigned)CRAM_VALID_LEN) {
        tap_diag("the oracle (Cyrus's CRAM-MD5 client) gave no response of the expected shape");
        free(v);
        return HX_STOP;
    }
    spoil(a, v, vlen, msg, len);
    free(a->valid);
    a->valid = v;
    a->valid_len = vlen;
    return step == 2 ? HX_FORCE : HX_SEND;
}

static void cram_row(int row, void *arg)
{
    struct cram_arg a = {0};
    struct row w = {0};
    struct hx_script r;

    (void)arg;
    if (row < N_CRAM_STATIC) {
        snprintf(w.desc, sizeof(w.desc), "%s", cram_rows[row].desc);
        a.sp = cram_rows[row].sp;
        w.expect = cram_rows[row].expect;
        w.flags = cram_rows[row].flags;
    } else {
        a.sp = SP_TRUNCATE;
        a.cut = row - N_CRAM_STATIC;
        snprintf(w.desc, sizeof(w.desc), "response cut to %d of %d bytes", a.cut, CRAM_VALID_LEN);
        w.expect = ANY_ERROR;
    }
    hx_row_name("CRAM-MD5 server: %s", w.desc);
    hx_server_script("CRAM-MD5", cram_reply, &a, &r);
    judge("server", "CRAM-MD5", &w, &r);
    free(a.valid);
    free(a.chal);
}

/* ---- our clients against hostile servers --------------------------------- */

#define RFC2195_CHALLENGE "<1896.697170952@postoffice.reston.mci.net>"

static const struct row plain_client_rows[] = {
    {"a challenge where PLAIN has none", {HX_MSG("x")}, 1, SASL_BADPROT, 0, 1},
    {"a challenge of NULs", {HX_MSG("\0\0")}, 1, SASL_BADPROT, 0, 1},
    {"a challenge of \"Username:\"", {HX_MSG("Username:")}, 1, SASL_BADPROT, 0, 1},
    {"extra round after the initial response", {HX_MSG("")}, 1, ANY_ERROR, EXTRA, 0},
    {"extra round after the empty challenge", {HX_MSG(""), HX_MSG("")}, 2, ANY_ERROR, EXTRA, 1},
    {"the empty challenge", {HX_MSG("")}, 1, SASL_OK, CONTROL, 1},
};

static const struct row login_client_rows[] = {
    {"extra round: a third challenge", {HX_MSG("Username:"), HX_MSG("Password:"), HX_MSG("Password:")},
     3, ANY_ERROR, EXTRA, 0},
    {"\"Username:\" and \"Password:\"", {HX_MSG("Username:"), HX_MSG("Password:")}, 2, SASL_OK,
     CONTROL, 0},
    {"empty challenges (some servers send them)", {HX_MSG(""), HX_MSG("")}, 2, SASL_OK, CONTROL, 0},
};

static const struct row cram_client_rows[] = {
    {"empty challenge", {HX_MSG("")}, 1, SASL_BADPROT, 0, 0},
    {"a NUL alone", {HX_MSG("\0")}, 1, SASL_BADPROT, 0, 0},
    {"NUL inside the challenge", {HX_MSG("<1896.697170952@post\0office.reston.mci.net>")}, 1,
     SASL_BADPROT, 0, 0},
    {"trailing NUL", {HX_MSG(RFC2195_CHALLENGE "\0")}, 1, SASL_BADPROT, 0, 0},
    {"extra round: the challenge again", {HX_MSG(RFC2195_CHALLENGE), HX_MSG(RFC2195_CHALLENGE)}, 2,
     ANY_ERROR, EXTRA, 0},
    {"RFC 2195's challenge", {HX_MSG(RFC2195_CHALLENGE)}, 1, SASL_OK, CONTROL, 0},
};

#define N_CLIENT_BUILT 7
#define COUNT(a) (int)(sizeof(a) / sizeof((a)[0]))

/* The caps: a challenge over 1024 bytes is refused, 1024 is not. */
static const char *client_built(int k, struct row *w)
{
    static const struct hx_msg username = HX_MSG("Username:");

    w->expect = SASL_BADPROT;
    w->n = 1;
    switch (k) {
    case 0:
        w->msg[0] = fill(0, 'x', 65536, LIT(""));
        w->no_initial = 1;
        snprintf(w->desc, sizeof(w->desc), "a 64 KiB challenge");
        return "PLAIN";
    case 1:
        w->msg[0] = fill(0, 'x', 1025, LIT(""));
        snprintf(w->desc, sizeof(w->desc), "first challenge of 1025 bytes");
        return "LOGIN";
    case 2:
        w->msg[0] = username;
        w->msg[1] = fill(0, 'x', 1025, LIT(""));
        w->n = 2;
        snprintf(w->desc, sizeof(w->desc), "second challenge of 1025 bytes");
        return "LOGIN";
    case 3:
        w->msg[0] = fill(0, 'x', 1024, LIT(""));
        w->msg[1] = fill(1, 'y', 1024, LIT(""));
        w->n = 2;
        w->expect = SASL_OK;
        w->flags = CONTROL;
        snprintf(w->desc, sizeof(w->desc), "challenges of 1024 bytes");
        return "LOGIN";
    case 4:
        w->msg[0] = wrap(0, LIT("<1."), '9', 1025 - 6, LIT("@h>"));
        snprintf(w->desc, sizeof(w->desc), "challenge of 1025 bytes");
        return "CRAM-MD5";
    case 5:
        w->msg[0] = fill(0, '<', 65536, LIT(""));
        snprintf(w->desc, sizeof(w->desc), "a 64 KiB challenge");
        return "CRAM-MD5";
    default:
        w->msg[0] = wrap(0, LIT("<1."), '9', 1024 - 6, LIT("@h>"));
        w->expect = SASL_OK;
        w->flags = CONTROL;
        snprintf(w->desc, sizeof(w->desc), "challenge of 1024 bytes");
        return "CRAM-MD5";
    }
}

#define N_CLIENT (COUNT(plain_client_rows) + COUNT(login_client_rows) + COUNT(cram_client_rows) \
                  + N_CLIENT_BUILT)

static void client_row(int row, void *arg)
{
    struct hx_client c = {.authname = HX_USER, .password = HX_PASS};
    struct row w = {0};
    struct hx_script r;
    const char *mech;

    (void)arg;
    if (row < COUNT(plain_client_rows)) {
        w = plain_client_rows[row];
        mech = "PLAIN";
    } else if ((row -= COUNT(plain_client_rows)) < COUNT(login_client_rows)) {
        w = login_client_rows[row];
        mech = "LOGIN";
    } else if ((row -= COUNT(login_client_rows)) < COUNT(cram_client_rows)) {
        w = cram_client_rows[row];
        mech = "CRAM-MD5";
    } else {
        mech = client_built(row - COUNT(cram_client_rows), &w);
    }
    c.no_initial = w.no_initial;
    hx_row_name("%s client: %s", mech, w.desc);
    hx_client_script(mech, &c, w.msg, w.n, &r);
    judge("client", mech, &w, &r);
}

int main(void)
{
    struct hx_init in = {0};

    if (hx_setup() == 0) {
        /* our servers; Cyrus's clients (the CRAM-MD5 oracle) */
        in.server_path = hx_path(hx.ours, hx.aux, NULL);
        in.client_path = hx.cyrus;
        hx_run("PLAIN server table", &in, N_PLAIN, plain_row, NULL);
        hx_run("LOGIN server table", &in, N_LOGIN, login_row, NULL);
        hx_run("CRAM-MD5 server table", &in, N_CRAM, cram_row, NULL);
        /* our clients; no server at all */
        in.server_path = hx.aux;
        in.client_path = hx.ours;
        hx_run("client tables", &in, N_CLIENT, client_row, NULL);
    }
    hx_cleanup();
    return tap_done();
}
