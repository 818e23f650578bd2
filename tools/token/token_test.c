/* sasl-mechs-token test: authenticates to an SMTP or IMAP server through
 * libsasl2 and our XOAUTH2 / OAUTHBEARER client plugin, with the token file
 * handed to the plugin as its client option oauth_token_file, and prints the
 * conversation: "S: " lines as the server sent them, "C: " lines as sent
 * except the message that carries the token (its size only), "* " notes.
 *
 * The token is only ever sent under TLS (implicit, or STARTTLS, the
 * certificate and host name verified), unless --allow-plain is given and
 * the server's address is a loopback one.
 *
 * Exit status: 0 the server accepted the token, 1 refused or failed (the
 * server's answer printed, the reason on stderr), 2 usage. */
#include "config.h"
#include "token.h"
#include "token_test_conn.h"

#include <ctype.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sasl/sasl.h>
#include <sasl-mechs/base64.h>
#include <sasl-mechs/secret.h>

#define TT_ME "sasl-mechs-token test"
/* RFC 4954 section 4: an AUTH command line is at most 12288 octets; a
 * longer initial response goes after an empty challenge instead. */
#define TT_SMTP_AUTH_LINE_MAX 12288

enum tt_proto { TT_SMTP, TT_IMAP };
enum tt_tls { TT_TLS_DEFAULT, TT_TLS_STARTTLS, TT_TLS_IMPLICIT };
enum tt_outcome { TT_CHALLENGE, TT_ACCEPTED, TT_REFUSED, TT_BROKEN };

struct tt_opts {
    const char *file, *user, *mech, *plugin_dir, *ca_file, *address, *ehlo;
    char *host, *port; /* from HOST[:PORT], allocated */
    enum tt_proto proto;
    enum tt_tls tls;
    int allow_plain, timeout;
};

struct tt_session {
    const struct tt_opts *o;
    struct tt_conn conn;
    sasl_conn_t *sasl;
    sasl_callback_t *callbacks; /* the connection's */
    int broken;         /* the connection failed: no QUIT or LOGOUT */
    int sasl_ir;        /* the server takes an initial response (IMAP: SASL-IR) */
    unsigned tag;       /* IMAP: the number of the last tag sent */
    char tagbuf[16];
    char line[TT_LINE_MAX + 1];
    size_t len;
    char caps[TT_LINE_MAX + 1]; /* SMTP: EHLO keywords; IMAP: CAPABILITY atoms, space-separated */
};

/* ---- usage -------------------------------------------------------------------- */
static void tt_usage(FILE *f)
{
    fputs("usage: sasl-mechs-token test --file TOKENFILE --user USER\n"
          "           (--smtp | --imap) HOST[:PORT] [--starttls | --tls]\n"
          "           [--mech XOAUTH2|OAUTHBEARER] [--plugin-dir DIR] [--ca-file FILE]\n"
          "           [--address IP] [--ehlo NAME] [--allow-plain] [--timeout SECONDS]\n"
          "\n"
          "Authenticates USER to the server with the access token of TOKENFILE through\n"
          "the XOAUTH2 or OAUTHBEARER client plugin (refreshing the token first when it\n"
          "is due, as the plugin does for Postfix) and prints the conversation, the token\n"
          "left out. Default ports: SMTP 587 (STARTTLS) or 465 (--tls), IMAP 143\n"
          "(STARTTLS) or 993 (--tls); ports 465 and 993 mean --tls unless --starttls is\n"
          "given. The certificate is verified (system CAs, or --ca-file) for HOST;\n"
          "--address connects to IP instead of resolving HOST. The token is never sent\n"
          "without TLS, unless --allow-plain is given and the server is on a loopback\n"
          "address. Exit status: 0 accepted, 1 refused or failed, 2 usage.\n",
          f);
}

/* HOST, HOST:PORT, [V6]:PORT, [V6] or a bare IPv6 address. */
static int tt_split_hostport(const char *arg, struct tt_opts *o)
{
    const char *colon = strrchr(arg, ':'), *host = arg;
    size_t hostlen = strlen(arg);

    if (arg[0] == '[') {
        const char *close = strchr(arg, ']');
        if (!close || (close[1] && close[1] != ':') || close == arg + 1)
            return -1;
        host = arg + 1;
        hostlen = (size_t)(close - host);
        colon = close[1] == ':' ? close + 1 : NULL;
    } else if (colon && strchr(arg, ':') != colon) {
        colon = NULL; /* an IPv6 address without a port */
    } else if (colon) {
        hostlen = (size_t)(colon - arg);
    }
    if (!hostlen || (colon && !colon[1]))
        return -1;
    if (colon)
        for (const char *p = colon + 1; *p; p++)
            if (!isdigit((unsigned char)*p))
                return -1;
    o->host = strndup(host, hostlen);
    o->port = colon ? strdup(colon + 1) : NULL;
    return o->host && (!colon || o->port) ? 0 : -1;
}

static int tt_parse(int argc, char **argv, struct tt_opts *o)
{
    enum { O_FILE = 256, O_USER, O_SMTP, O_IMAP, O_STARTTLS, O_TLS, O_MECH, O_PLUGIN_DIR,
           O_CA_FILE, O_ADDRESS, O_EHLO, O_ALLOW_PLAIN, O_TIMEOUT, O_HELP };
    static const struct option longopts[] = {
        {"file", required_argument, NULL, O_FILE},
        {"user", required_argument, NULL, O_USER},
        {"smtp", required_argument, NULL, O_SMTP},
        {"imap", required_argument, NULL, O_IMAP},
        {"starttls", no_argument, NULL, O_STARTTLS},
        {"tls", no_argument, NULL, O_TLS},
        {"mech", required_argument, NULL, O_MECH},
        {"plugin-dir", required_argument, NULL, O_PLUGIN_DIR},
        {"ca-file", required_argument, NULL, O_CA_FILE},
        {"address", required_argument, NULL, O_ADDRESS},
        {"ehlo", required_argument, NULL, O_EHLO},
        {"allow-plain", no_argument, NULL, O_ALLOW_PLAIN},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    const char *server = NULL;
    char *end;
    long t;
    int c;

    o->timeout = 30;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_FILE: o->file = optarg; break;
        case O_USER: o->user = optarg; break;
        case O_SMTP:
        case O_IMAP:
            if (server) {
                fprintf(stderr, "%s: one server only (--smtp or --imap, once)\n", TT_ME);
                return 2;
            }
            server = optarg;
            o->proto = c == O_SMTP ? TT_SMTP : TT_IMAP;
            break;
        case O_STARTTLS:
        case O_TLS:
            if (o->tls != TT_TLS_DEFAULT) {
                fprintf(stderr, "%s: --starttls or --tls, once\n", TT_ME);
                return 2;
            }
            o->tls = c == O_TLS ? TT_TLS_IMPLICIT : TT_TLS_STARTTLS;
            break;
        case O_MECH:
            if (strcasecmp(optarg, "XOAUTH2") && strcasecmp(optarg, "OAUTHBEARER")) {
                fprintf(stderr, "%s: --mech: XOAUTH2 or OAUTHBEARER, not '%s'\n", TT_ME, optarg);
                return 2;
            }
            o->mech = strcasecmp(optarg, "XOAUTH2") ? "OAUTHBEARER" : "XOAUTH2";
            break;
        case O_PLUGIN_DIR: o->plugin_dir = optarg; break;
        case O_CA_FILE: o->ca_file = optarg; break;
        case O_ADDRESS: o->address = optarg; break;
        case O_EHLO: o->ehlo = optarg; break;
        case O_ALLOW_PLAIN: o->allow_plain = 1; break;
        case O_TIMEOUT:
            t = strtol(optarg, &end, 10);
            if (*end || end == optarg || t < 1 || t > 3600) {
                fprintf(stderr, "%s: --timeout: seconds from 1 to 3600, not '%s'\n", TT_ME,
                        optarg);
                return 2;
            }
            o->timeout = (int)t;
            break;
        case O_HELP:
            tt_usage(stdout);
            return 0;
        default:
            fprintf(stderr, "%s: unknown option or missing value: %s\n", TT_ME,
                    argv[optind - 1]);
            tt_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", TT_ME, argv[optind]);
        return 2;
    }
    if (!o->file || !o->user || !server) {
        fprintf(stderr, "%s: --file, --user and --smtp or --imap are required\n", TT_ME);
        tt_usage(stderr);
        return 2;
    }
    if (!*o->user || strpbrk(o->user, "\r\n\001")) {
        fprintf(stderr, "%s: --user: an empty name, or one with CR, LF or ^A\n", TT_ME);
        return 2;
    }
    if (tt_split_hostport(server, o) != 0) {
        fprintf(stderr, "%s: not HOST[:PORT]: '%s'\n", TT_ME, server);
        return 2;
    }
    if (o->tls == TT_TLS_DEFAULT)
        o->tls = o->port && (!strcmp(o->port, "465") || !strcmp(o->port, "993"))
                     ? TT_TLS_IMPLICIT : TT_TLS_STARTTLS;
    if (!o->port && !(o->port = strdup(o->proto == TT_SMTP
                                           ? (o->tls == TT_TLS_IMPLICIT ? "465" : "587")
                                           : (o->tls == TT_TLS_IMPLICIT ? "993" : "143")))) {
        fprintf(stderr, "%s: out of memory\n", TT_ME);
        return 1;
    }
    return -1; /* go on */
}

/* ---- the conversation ---------------------------------------------------------- */
/* Bytes for the terminal: printable ASCII as it is, the rest as \\xNN */
static void tt_print_escaped(const unsigned char *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (d[i] >= 0x20 && d[i] < 0x7f && d[i] != '\\')
            putchar(d[i]);
        else
            printf("\\x%02x", d[i]);
}

/* The next line from the server, printed (escaped: it may hold anything). */
static int tt_recv(struct tt_session *s)
{
    if (tt_read_line(&s->conn, s->line, &s->len) != 0) {
        s->broken = 1;
        return -1;
    }
    printf("S: ");
    tt_print_escaped((const unsigned char *)s->line, s->len);
    putchar('\n');
    fflush(stdout);
    return 0;
}

/* Sends text and CRLF; prints shown (NULL: the text itself). */
static int tt_send(struct tt_session *s, const char *text, size_t len, const char *shown)
{
    if (shown)
        printf("C: %s\n", shown);
    else
        printf("C: %.*s\n", (int)len, text);
    fflush(stdout);
    if (tt_write(&s->conn, text, len) != 0 || tt_write(&s->conn, "\r\n", 2) != 0) {
        s->broken = 1;
        return -1;
    }
    return 0;
}

static int tt_sendf(struct tt_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int tt_sendf(struct tt_session *s, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return -1;
    return tt_send(s, buf, (size_t)n, NULL);
}

/* Is word (case-insensitive) one of the space-separated caps? */
static int tt_has_cap(const char *caps, const char *word)
{
    size_t n = strlen(word);

    for (const char *p = caps; *p;) {
        const char *e = strchr(p, ' ');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && !strncasecmp(p, word, n))
            return 1;
        p += l + (e ? 1 : 0);
    }
    return 0;
}

static void tt_add_cap(struct tt_session *s, const char *word, size_t n)
{
    size_t have = strlen(s->caps);

    if (have + n + 2 > sizeof(s->caps))
        return;
    if (have)
        s->caps[have++] = ' ';
    memcpy(s->caps + have, word, n);
    s->caps[have + n] = '\0';
}

/* Adds each space-separated word of text, with prefix in front ("AUTH=" for
 * SMTP's AUTH line, so that both protocols list mechanisms alike). */
static void tt_add_caps(struct tt_session *s, const char *prefix, const char *text)
{
    char word[256];

    while (*text) {
        while (*text == ' ')
            text++;
        size_t n = strcspn(text, " ");
        if (n && strlen(prefix) + n < sizeof(word)) {
            snprintf(word, sizeof(word), "%s%.*s", prefix, (int)n, text);
            tt_add_cap(s, word, strlen(word));
        }
        text += n;
    }
}

/* TLS on the session's connection; after a failed handshake nothing more
 * is said on it. */
static int tt_session_tls(struct tt_session *s)
{
    if (tt_start_tls(&s->conn, s->o->host, s->o->ca_file) != 0) {
        s->broken = 1;
        return -1;
    }
    return 0;
}

/* ---- SMTP -------------------------------------------------------------------------- */
/* One reply, all its lines (RFC 5321 section 4.2: "ddd-" continues, "ddd " or
 * "ddd" ends); with ehlo, its keywords go into caps.  Returns the code, or -1. */
static int tt_smtp_reply(struct tt_session *s, int ehlo)
{
    int code = -1, first = 1;

    if (ehlo)
        s->caps[0] = '\0';
    for (;;) {
        if (tt_recv(s) != 0)
            return -1;
        if (s->len < 3 || !isdigit((unsigned char)s->line[0]) || !isdigit((unsigned char)s->line[1])
            || !isdigit((unsigned char)s->line[2]) || (s->len > 3 && s->line[3] != ' '
                                                        && s->line[3] != '-')) {
            fprintf(stderr, "%s: not an SMTP reply line\n", TT_ME);
            return -1;
        }
        int c = (s->line[0] - '0') * 100 + (s->line[1] - '0') * 10 + (s->line[2] - '0');
        if (!first && c != code) {
            fprintf(stderr, "%s: an SMTP reply whose lines have different codes\n", TT_ME);
            return -1;
        }
        code = c;
        /* the first line of an EHLO reply is the greeting, the others keywords */
        if (ehlo && !first && s->len > 4) {
            const char *kw = s->line + 4;
            if (!strncasecmp(kw, "AUTH ", 5) || !strncasecmp(kw, "AUTH=", 5))
                tt_add_caps(s, "AUTH=", kw + 5);
            else
                tt_add_caps(s, "", kw);
        }
        first = 0;
        if (s->len == 3 || s->line[3] == ' ')
            return code;
    }
}

static int tt_smtp_ehlo(struct tt_session *s)
{
    char name[256];
    const char *ehlo = s->o->ehlo;

    if (!ehlo) {
        if (gethostname(name, sizeof(name)) != 0 || !name[0])
            snprintf(name, sizeof(name), "localhost");
        name[sizeof(name) - 1] = '\0';
        ehlo = name;
    }
    if (tt_sendf(s, "EHLO %s", ehlo) != 0)
        return -1;
    int code = tt_smtp_reply(s, 1);
    if (code != 250) {
        if (code > 0)
            fprintf(stderr, "%s: the server refused EHLO\n", TT_ME);
        return -1;
    }
    return 0;
}

/* Greeting, EHLO, STARTTLS and EHLO again as needed. */
static int tt_smtp_open(struct tt_session *s)
{
    int code = tt_smtp_reply(s, 0);

    if (code != 220) {
        if (code > 0)
            fprintf(stderr, "%s: the server does not take mail now (greeting %d)\n", TT_ME,
                    code);
        return -1;
    }
    if (tt_smtp_ehlo(s) != 0)
        return -1;
    s->sasl_ir = 1; /* RFC 4954: AUTH always takes an initial response */
    if (s->o->tls == TT_TLS_STARTTLS && !s->conn.ssl) {
        if (!tt_has_cap(s->caps, "STARTTLS"))
            return 1; /* the caller decides whether clear text is allowed */
        if (tt_sendf(s, "STARTTLS") != 0 || (code = tt_smtp_reply(s, 0)) < 0)
            return -1;
        if (code != 220) {
            fprintf(stderr, "%s: the server refused STARTTLS\n", TT_ME);
            return -1;
        }
        if (tt_session_tls(s) != 0)
            return -1;
        /* RFC 3207 section 4.2: forget what was learnt before TLS */
        if (tt_smtp_ehlo(s) != 0)
            return -1;
    }
    return 0;
}

/* ---- IMAP -------------------------------------------------------------------------- */
static const char *tt_imap_tag(struct tt_session *s)
{
    snprintf(s->tagbuf, sizeof(s->tagbuf), "a%u", ++s->tag);
    return s->tagbuf;
}

/* Lines up to the tagged answer to the last command; the "* CAPABILITY"
 * atoms go into caps.  Returns TT_ACCEPTED (OK), TT_REFUSED (NO, BAD) or
 * TT_BROKEN; a continuation request "+" gives TT_CHALLENGE when allowed.
 * "* BYE" ends the connection, unless it answers LOGOUT (logout). */
static enum tt_outcome tt_imap_answer(struct tt_session *s, int continuation_ok, int logout)
{
    size_t taglen = strlen(s->tagbuf);

    for (;;) {
        if (tt_recv(s) != 0)
            return TT_BROKEN;
        if (!strncasecmp(s->line, "* CAPABILITY ", 13)) {
            s->caps[0] = '\0';
            tt_add_caps(s, "", s->line + 13);
        } else if (s->line[0] == '*' && s->line[1] == ' ') {
            if (!logout && !strncasecmp(s->line, "* BYE", 5)) {
                fprintf(stderr, "%s: the server closes the connection\n", TT_ME);
                return TT_BROKEN;
            }
        } else if (s->line[0] == '+' && (s->line[1] == ' ' || !s->line[1])) {
            if (continuation_ok)
                return TT_CHALLENGE;
            fprintf(stderr, "%s: a continuation request the command does not expect\n", TT_ME);
            return TT_BROKEN;
        } else if (!strncmp(s->line, s->tagbuf, taglen) && s->line[taglen] == ' ') {
            const char *st = s->line + taglen + 1;
            if (!strncasecmp(st, "OK", 2) && (st[2] == ' ' || !st[2]))
                return TT_ACCEPTED;
            if ((!strncasecmp(st, "NO", 2) || !strncasecmp(st, "BAD", 3)))
                return TT_REFUSED;
            fprintf(stderr, "%s: a tagged answer that is not OK, NO or BAD\n", TT_ME);
            return TT_BROKEN;
        } else {
            fprintf(stderr, "%s: not an IMAP response line\n", TT_ME);
            return TT_BROKEN;
        }
    }
}

static int tt_imap_capability(struct tt_session *s)
{
    s->caps[0] = '\0';
    if (tt_sendf(s, "%s CAPABILITY", tt_imap_tag(s)) != 0)
        return -1;
    if (tt_imap_answer(s, 0, 0) != TT_ACCEPTED) {
        fprintf(stderr, "%s: CAPABILITY failed\n", TT_ME);
        return -1;
    }
    return 0;
}

static int tt_imap_open(struct tt_session *s)
{
    if (tt_recv(s) != 0)
        return -1;
    if (strncasecmp(s->line, "* OK", 4) || (s->line[4] && s->line[4] != ' ')) {
        fprintf(stderr, "%s: the server's greeting is not \"* OK\"\n", TT_ME);
        return -1;
    }
    if (tt_imap_capability(s) != 0)
        return -1;
    s->sasl_ir = tt_has_cap(s->caps, "SASL-IR");
    if (s->o->tls == TT_TLS_STARTTLS && !s->conn.ssl) {
        if (!tt_has_cap(s->caps, "STARTTLS"))
            return 1; /* the caller decides whether clear text is allowed */
        if (tt_sendf(s, "%s STARTTLS", tt_imap_tag(s)) != 0)
            return -1;
        if (tt_imap_answer(s, 0, 0) != TT_ACCEPTED) {
            fprintf(stderr, "%s: the server refused STARTTLS\n", TT_ME);
            return -1;
        }
        if (tt_session_tls(s) != 0)
            return -1;
        /* RFC 3501 section 6.2.1: capabilities are asked again after TLS */
        if (tt_imap_capability(s) != 0)
            return -1;
        s->sasl_ir = tt_has_cap(s->caps, "SASL-IR");
    }
    return 0;
}

/* ---- SASL on either protocol ------------------------------------------------------- */
/* Prints what a challenge says: JSON error objects are text. */
static void tt_print_decoded(const unsigned char *d, size_t n)
{
    printf("*   decoded: ");
    tt_print_escaped(d, n);
    printf("%s\n", n ? "" : "(empty)");
}

/* The server's next word in the exchange; a challenge decoded into *chal
 * (malloc'd, *challen bytes). */
static enum tt_outcome tt_auth_outcome(struct tt_session *s, unsigned char **chal,
                                       size_t *challen)
{
    const char *b64;
    enum tt_outcome oc;

    *chal = NULL;
    *challen = 0;
    if (s->o->proto == TT_SMTP) {
        int code = tt_smtp_reply(s, 0);
        if (code < 0)
            return TT_BROKEN;
        if (code == 235)
            return TT_ACCEPTED;
        if (code != 334)
            return TT_REFUSED;
        b64 = s->len > 4 ? s->line + 4 : "";
    } else {
        if ((oc = tt_imap_answer(s, 1, 0)) != TT_CHALLENGE)
            return oc;
        b64 = s->len > 2 ? s->line + 2 : "";
    }
    size_t n = strlen(b64);
    if (!(*chal = malloc(sm_b64_decoded_max(n) + 1))
        || sm_b64_decode(SM_B64_STD, b64, n, *chal, sm_b64_decoded_max(n) + 1, challen) != 0) {
        fprintf(stderr, "%s: the server's challenge is not base64\n", TT_ME);
        free(*chal);
        *chal = NULL;
        return TT_BROKEN;
    }
    tt_print_decoded(*chal, *challen);
    return TT_CHALLENGE;
}

/* data base64-encoded (malloc'd; erase it before free when it held a
 * secret), "=" for empty data where the command carries it; NULL when out of
 * memory. */
static char *tt_b64(const char *data, unsigned len, size_t *outlen)
{
    size_t max = sm_b64_encoded_len(SM_B64_STD, len) + 1;
    char *b = malloc(max);

    if (b && sm_b64_encode(SM_B64_STD, data, len, b, max, outlen) != 0) {
        free(b);
        b = NULL;
    }
    return b;
}

static void tt_free_secret(char *b, size_t len)
{
    if (b)
        sm_erase(b, len);
    free(b);
}

/* The AUTH / AUTHENTICATE command, with the first message when ir is not
 * NULL (it carries the token: only its size is printed). */
static int tt_send_auth(struct tt_session *s, const char *mech, const char *ir, unsigned irlen)
{
    size_t blen = 0, cmdlen;
    char *b = NULL, *cmd;
    char shown[256];
    const char *head = s->o->proto == TT_SMTP ? "AUTH" : "AUTHENTICATE";
    const char *tag = s->o->proto == TT_SMTP ? "" : tt_imap_tag(s);
    int r;

    if (ir && !(b = tt_b64(ir, irlen, &blen)))
        return -1;
    cmdlen = strlen(tag) + 1 + strlen(head) + 1 + strlen(mech) + 1 + (b ? (blen ? blen : 1) : 0);
    if (!(cmd = malloc(cmdlen + 1))) {
        tt_free_secret(b, blen);
        return -1;
    }
    snprintf(cmd, cmdlen + 1, "%s%s%s %s%s%s", tag, *tag ? " " : "", head, mech, b ? " " : "",
             b ? (blen ? b : "=") : "");
    snprintf(shown, sizeof(shown), "%s%s%s %s%s", tag, *tag ? " " : "", head, mech,
             b ? " [initial response not shown: it holds the token]" : "");
    if (b)
        snprintf(shown + strlen(shown), sizeof(shown) - strlen(shown) - 1, " (%zu bytes)", blen);
    r = tt_send(s, cmd, strlen(cmd), shown);
    tt_free_secret(cmd, cmdlen);
    tt_free_secret(b, blen);
    return r;
}

/* A response to a challenge; secret: it carries the token. */
static int tt_send_response(struct tt_session *s, const char *out, unsigned outlen, int secret)
{
    size_t blen = 0;
    char *b = tt_b64(out ? out : "", out ? outlen : 0, &blen);
    char shown[128];
    int r;

    if (!b)
        return -1;
    snprintf(shown, sizeof(shown), "[response not shown: it holds the token] (%zu bytes)", blen);
    r = tt_send(s, b, blen, secret ? shown : blen ? NULL : "(empty response)");
    tt_free_secret(b, blen);
    return r;
}

static void tt_sasl_failed(struct tt_session *s, const char *what, int r)
{
    fprintf(stderr, "%s: %s: %s\n", TT_ME, what,
            r == SASL_NOMECH ? "no client plugin for this mechanism in the plugin path "
                               "(--plugin-dir)" : sasl_errdetail(s->sasl));
}

/* The exchange: 0 accepted, 1 refused or failed. */
static int tt_authenticate(struct tt_session *s, const char *mech)
{
    sasl_interact_t *interact = NULL;
    const char *out = NULL, *chosen = NULL;
    unsigned outlen = 0;
    const char *pending = NULL; /* the first message, when not sent with the command */
    unsigned pendinglen = 0;
    int r, challenged = 0;

    r = sasl_client_start(s->sasl, mech, &interact, &out, &outlen, &chosen);
    if (r != SASL_OK && r != SASL_CONTINUE) {
        tt_sasl_failed(s, "the client plugin could not start", r);
        return 1;
    }
    if (out && (!s->sasl_ir || (s->o->proto == TT_SMTP
                                && sm_b64_encoded_len(SM_B64_STD, outlen) + strlen(chosen) + 6
                                       > TT_SMTP_AUTH_LINE_MAX - 2))) {
        pending = out; /* sent after the server's empty challenge */
        pendinglen = outlen;
        out = NULL;
    }
    if (tt_send_auth(s, chosen, out, outlen) != 0)
        return 1;
    for (;;) {
        unsigned char *chal;
        size_t challen;
        enum tt_outcome oc = tt_auth_outcome(s, &chal, &challen);

        switch (oc) {
        case TT_ACCEPTED:
            free(chal);
            /* the plugin is waiting for the outcome: success without data */
            r = sasl_client_step(s->sasl, NULL, 0, &interact, &out, &outlen);
            if (r != SASL_OK)
                printf("* note: the server accepted, but the client plugin did not finish: %s\n",
                       sasl_errdetail(s->sasl));
            printf("* accepted: %s authenticated as %s with %s\n", s->o->host, s->o->user,
                   chosen);
            return 0;
        case TT_REFUSED:
            printf("* refused by the server%s\n",
                   challenged ? " after its error challenge" : "");
            if (challenged)
                printf("* the client plugin says: %s\n", sasl_errdetail(s->sasl));
            return 1;
        case TT_BROKEN:
            return 1;
        case TT_CHALLENGE:
            break;
        }
        if (pending) {
            free(chal);
            r = tt_send_response(s, pending, pendinglen, 1);
            pending = NULL;
        } else {
            r = sasl_client_step(s->sasl, (const char *)chal, (unsigned)challen, &interact, &out,
                                 &outlen);
            free(chal);
            if (r != SASL_OK && r != SASL_CONTINUE) {
                tt_sasl_failed(s, "the client plugin cannot answer the challenge", r);
                /* cancel (RFC 4954 section 4, RFC 3501 section 6.2.2), then the answer */
                if (tt_send(s, "*", 1, NULL) == 0)
                    (void)tt_auth_outcome(s, &chal, &challen), free(chal);
                return 1;
            }
            challenged = 1;
            r = tt_send_response(s, out, outlen, 0);
        }
        if (r != 0)
            return 1;
    }
}

/* libsasl2 keeps every callback as int (*)(void); the detour through
 * void (*)(void) tells the compiler the conversion is meant */
#define TT_CB(f) ((int (*)(void))(void (*)(void))(f))

/* ---- callbacks ----------------------------------------------------------------- */
static int tt_cb_getpath(void *ctx, const char **path)
{
    *path = ctx;
    return SASL_OK;
}

static int tt_cb_authname(void *ctx, int id, const char **result, unsigned *len)
{
    const struct tt_opts *o = ctx;

    if (id != SASL_CB_AUTHNAME)
        return SASL_FAIL;
    *result = o->user;
    if (len)
        *len = (unsigned)strlen(o->user);
    return SASL_OK;
}

/* The client plugin's options: the token file, nothing else (the plugin's
 * defaults for the rest). */
static int tt_cb_getopt(void *ctx, const char *plugin, const char *option, const char **result,
                        unsigned *len)
{
    const struct tt_opts *o = ctx;

    (void)plugin;
    if (strcmp(option, "oauth_token_file") != 0)
        return SASL_FAIL;
    *result = o->file;
    if (len)
        *len = (unsigned)strlen(o->file);
    return SASL_OK;
}

/* What libsasl2 and the plugin log (never a token): warnings (a token file
 * refreshed but not written back, say).  Failures come back through
 * sasl_errdetail, printed where they end the command. */
static int tt_cb_log(void *ctx, int level, const char *message)
{
    (void)ctx;
    if (level == SASL_LOG_WARN && message)
        fprintf(stderr, "%s: sasl: %s\n", TT_ME, message);
    return SASL_OK;
}

/* ---- the command ------------------------------------------------------------------- */
static int tt_run(struct tt_session *s, const char *mechs_allowed)
{
    const struct tt_opts *o = s->o;
    const char *mech = NULL;
    char want[64];
    int r;

    if (tt_connect(&s->conn, o->host, o->address, o->port, o->timeout) != 0)
        return 1;
    printf("* connected to %s (%s port %s)\n", o->host, s->conn.peer, o->port);
    if (o->tls == TT_TLS_IMPLICIT && tt_session_tls(s) != 0)
        return 1;
    r = o->proto == TT_SMTP ? tt_smtp_open(s) : tt_imap_open(s);
    if (r < 0)
        return 1;
    if (r > 0) {
        if (!o->allow_plain || !s->conn.loopback) {
            fprintf(stderr, "%s: the server does not offer STARTTLS: not sending the token in "
                    "clear text%s\n", TT_ME,
                    s->conn.loopback ? " (--allow-plain allows it to a loopback server)"
                                     : " (only to a loopback server, with --allow-plain)");
            return 1;
        }
        printf("* no STARTTLS offered: the token goes in clear text to the loopback address "
               "%s (--allow-plain)\n", s->conn.peer);
    }
    /* the mechanism: the one asked for, else XOAUTH2 or OAUTHBEARER, as offered */
    for (const char *m = mechs_allowed; *m;) {
        size_t n = strcspn(m, " ");
        snprintf(want, sizeof(want), "AUTH=%.*s", (int)n, m);
        if (tt_has_cap(s->caps, want)) {
            snprintf(want, sizeof(want), "%.*s", (int)n, m);
            mech = want;
            break;
        }
        m += n + (m[n] ? 1 : 0);
    }
    if (!mech) {
        fprintf(stderr, "%s: the server offers no %s%s (it offers: %s)\n", TT_ME,
                o->mech ? "" : "XOAUTH2 or OAUTHBEARER", o->mech ? o->mech : "",
                s->caps[0] ? s->caps : "nothing");
        return 1;
    }
    r = sasl_client_new(o->proto == TT_SMTP ? "smtp" : "imap", o->host, NULL, NULL, s->callbacks, 0,
                        &s->sasl);
    if (r != SASL_OK) {
        fprintf(stderr, "%s: sasl_client_new: %s\n", TT_ME, sasl_errstring(r, NULL, NULL));
        return 1;
    }
    if (s->conn.ssl) {
        sasl_ssf_t ssf = (sasl_ssf_t)tt_tls_bits(&s->conn);
        sasl_setprop(s->sasl, SASL_SSF_EXTERNAL, &ssf);
    }
    return tt_authenticate(s, mech);
}

static void tt_close_politely(struct tt_session *s)
{
    if (s->conn.fd < 0 || s->broken)
        return;
    if (s->o->proto == TT_SMTP) {
        if (tt_sendf(s, "QUIT") == 0)
            (void)tt_smtp_reply(s, 0);
    } else if (tt_sendf(s, "%s LOGOUT", tt_imap_tag(s)) == 0) {
        (void)tt_imap_answer(s, 0, 1);
    }
}

int token_cmd_test(int argc, char **argv)
{
    struct tt_opts o = {0};
    struct tt_session *s = NULL;
    int r = tt_parse(argc, argv, &o);

    if (r >= 0)
        goto done;
    signal(SIGPIPE, SIG_IGN);
    sasl_callback_t global_cbs[] = {
        {SASL_CB_LOG, TT_CB(tt_cb_log), NULL},
        {o.plugin_dir ? SASL_CB_GETPATH : SASL_CB_LIST_END,
         TT_CB(tt_cb_getpath), (void *)o.plugin_dir},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    sasl_callback_t conn_cbs[] = {
        {SASL_CB_AUTHNAME, TT_CB(tt_cb_authname), &o},
        {SASL_CB_GETOPT, TT_CB(tt_cb_getopt), &o},
        {SASL_CB_LOG, TT_CB(tt_cb_log), NULL},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    r = 1;
    if ((r = sasl_client_init(global_cbs)) != SASL_OK) {
        fprintf(stderr, "%s: sasl_client_init: %s\n", TT_ME, sasl_errstring(r, NULL, NULL));
        r = 1;
        goto done;
    }
    if (!(s = calloc(1, sizeof(*s)))) {
        fprintf(stderr, "%s: out of memory\n", TT_ME);
        r = 1;
        goto sasl_done;
    }
    s->o = &o;
    s->conn.fd = -1;
    s->callbacks = conn_cbs;
    r = tt_run(s, o.mech ? o.mech : "XOAUTH2 OAUTHBEARER");
    tt_close_politely(s);
    if (s->sasl)
        sasl_dispose(&s->sasl);
    tt_close(&s->conn);
    free(s);
sasl_done:
    sasl_client_done();
done:
    free(o.host);
    free(o.port);
    fflush(stdout);
    return r;
}
