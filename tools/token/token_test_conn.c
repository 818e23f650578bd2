/* sasl-mechs-token test: TCP, lines and TLS (see token_test_conn.h). */
#include "config.h"
#include "token_test_conn.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#define TT_ME "sasl-mechs-token test"

/* OpenSSL's queued errors, the last one first, on stderr. */
static void tt_print_ssl_errors(void)
{
    unsigned long e;
    char buf[256];

    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        fprintf(stderr, "  %s\n", buf);
    }
}

static int tt_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return 1;
        if (IN6_IS_ADDR_V4MAPPED(a))
            return a->s6_addr[12] == 127;
    }
    return 0;
}

int tt_connect(struct tt_conn *c, const char *host, const char *address, const char *port,
               int timeout)
{
    struct addrinfo hints, *res = NULL, *ai;
    struct timeval tv = {.tv_sec = timeout};
    int r, err = 0;

    memset(c, 0, offsetof(struct tt_conn, buf));
    c->fd = -1;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = address ? AI_NUMERICHOST : 0;
    if ((r = getaddrinfo(address ? address : host, port, &hints, &res)) != 0) {
        fprintf(stderr, "%s: cannot resolve %s port %s: %s\n", TT_ME, address ? address : host,
                port, gai_strerror(r));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        /* Linux applies the send time limit to connect() too */
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            c->fd = fd;
            c->loopback = tt_is_loopback(ai->ai_addr);
            if (getnameinfo(ai->ai_addr, ai->ai_addrlen, c->peer, sizeof(c->peer), NULL, 0,
                            NI_NUMERICHOST) != 0)
                snprintf(c->peer, sizeof(c->peer), "?");
            break;
        }
        err = errno;
        close(fd);
    }
    freeaddrinfo(res);
    if (c->fd < 0) {
        fprintf(stderr, "%s: cannot connect to %s port %s: %s\n", TT_ME,
                address ? address : host, port,
                err == EINPROGRESS || err == EAGAIN ? "timed out" : strerror(err));
        return -1;
    }
    return 0;
}

int tt_start_tls(struct tt_conn *c, const char *host, const char *ca_file)
{
    unsigned char ip[16];
    int is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
    X509 *cert;
    long v;

    if (c->start != c->end) {
        fprintf(stderr, "%s: the server sent %zu more bytes before the TLS handshake "
                "(a STARTTLS injection?): not starting TLS\n", TT_ME, c->end - c->start);
        return -1;
    }
    if (!(c->ctx = SSL_CTX_new(TLS_client_method()))
        || !SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION)) {
        fprintf(stderr, "%s: cannot create a TLS context\n", TT_ME);
        goto ssl_failed;
    }
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    if (ca_file ? SSL_CTX_load_verify_locations(c->ctx, ca_file, NULL) != 1
                : SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
        fprintf(stderr, "%s: cannot load the CA certificates%s%s\n", TT_ME,
                ca_file ? " of " : "", ca_file ? ca_file : "");
        goto ssl_failed;
    }
    if (!(c->ssl = SSL_new(c->ctx)) || SSL_set_fd(c->ssl, c->fd) != 1) {
        fprintf(stderr, "%s: cannot create a TLS session\n", TT_ME);
        goto ssl_failed;
    }
    if (is_ip) {
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host) != 1) {
            fprintf(stderr, "%s: cannot check the certificate against %s\n", TT_ME, host);
            goto ssl_failed;
        }
    } else if (SSL_set_tlsext_host_name(c->ssl, host) != 1 || SSL_set1_host(c->ssl, host) != 1) {
        fprintf(stderr, "%s: cannot check the certificate against %s\n", TT_ME, host);
        goto ssl_failed;
    }
    if (SSL_connect(c->ssl) != 1) {
        v = SSL_get_verify_result(c->ssl);
        if (v != X509_V_OK)
            fprintf(stderr, "%s: TLS handshake with %s failed: the server's certificate was "
                    "refused: %s%s\n", TT_ME, host, X509_verify_cert_error_string(v),
                    v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH
                        ? " (it does not name the host given)" : "");
        else
            fprintf(stderr, "%s: TLS handshake with %s failed\n", TT_ME, host);
        goto ssl_failed;
    }
    /* SSL_VERIFY_PEER makes the handshake fail on a bad chain; check anyway */
    cert = SSL_get1_peer_certificate(c->ssl);
    if (!cert || SSL_get_verify_result(c->ssl) != X509_V_OK) {
        X509_free(cert);
        fprintf(stderr, "%s: the server's certificate could not be verified\n", TT_ME);
        return -1;
    }
    {
        char subject[256];
        X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
        printf("* TLS: %s, %s; certificate verified for %s (subject %s)\n",
               SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl), host, subject);
    }
    X509_free(cert);
    return 0;
ssl_failed:
    tt_print_ssl_errors();
    return -1;
}

int tt_tls_bits(const struct tt_conn *c)
{
    return c->ssl ? SSL_get_cipher_bits(c->ssl, NULL) : 0;
}

/* More bytes into buf (after its unread part); 0 on end of stream. */
static long tt_fill(struct tt_conn *c)
{
    size_t room;
    long n;

    if (c->start > 0) {
        memmove(c->buf, c->buf + c->start, c->end - c->start);
        c->end -= c->start;
        c->start = 0;
    }
    room = sizeof(c->buf) - c->end;
    if (c->ssl) {
        int r = SSL_read(c->ssl, c->buf + c->end, (int)room);
        if (r <= 0) {
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_ZERO_RETURN)
                return 0;
            fprintf(stderr, "%s: reading from the server (TLS): %s\n", TT_ME,
                    e == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK)
                        ? "timed out"
                        : e == SSL_ERROR_SYSCALL && errno ? strerror(errno) : "TLS error");
            tt_print_ssl_errors();
            return -1;
        }
        n = r;
    } else {
        do
            n = read(c->fd, c->buf + c->end, room);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
            fprintf(stderr, "%s: reading from the server: %s\n", TT_ME,
                    errno == EAGAIN || errno == EWOULDBLOCK ? "timed out" : strerror(errno));
            return -1;
        }
    }
    c->end += (size_t)n;
    return n;
}

int tt_read_line(struct tt_conn *c, char *line, size_t *len)
{
    for (;;) {
        char *lf = memchr(c->buf + c->start, '\n', c->end - c->start);
        if (lf) {
            size_t n = (size_t)(lf - (c->buf + c->start));
            if (n > 0 && c->buf[c->start + n - 1] == '\r')
                n--;
            if (n > TT_LINE_MAX) {
                fprintf(stderr, "%s: the server sent a line longer than %d bytes\n", TT_ME,
                        TT_LINE_MAX);
                return -1;
            }
            if (memchr(c->buf + c->start, '\0', n)) {
                fprintf(stderr, "%s: the server sent a NUL byte\n", TT_ME);
                return -1;
            }
            memcpy(line, c->buf + c->start, n);
            line[n] = '\0';
            *len = n;
            c->start = (size_t)(lf - c->buf) + 1;
            return 0;
        }
        if (c->end - c->start >= sizeof(c->buf) - 1) {
            fprintf(stderr, "%s: the server sent a line longer than %d bytes\n", TT_ME,
                    TT_LINE_MAX);
            return -1;
        }
        long n = tt_fill(c);
        if (n < 0)
            return -1;
        if (n == 0) {
            fprintf(stderr, "%s: the server closed the connection\n", TT_ME);
            return -1;
        }
    }
}

int tt_write(struct tt_conn *c, const char *data, size_t len)
{
    while (len > 0) {
        long n;
        if (c->ssl) {
            size_t written = 0;
            if (SSL_write_ex(c->ssl, data, len, &written) != 1) {
                fprintf(stderr, "%s: writing to the server (TLS) failed\n", TT_ME);
                tt_print_ssl_errors();
                return -1;
            }
            n = (long)written;
        } else {
            n = send(c->fd, data, len, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                fprintf(stderr, "%s: writing to the server: %s\n", TT_ME,
                        errno == EAGAIN || errno == EWOULDBLOCK ? "timed out" : strerror(errno));
                return -1;
            }
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

void tt_close(struct tt_conn *c)
{
    if (c->ssl) {
        SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    SSL_CTX_free(c->ctx);
    c->ctx = NULL;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->start = c->end = 0;
}
