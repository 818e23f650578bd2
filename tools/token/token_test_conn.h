/* sasl-mechs-token test: the connection to the mail server.  A TCP
 * connection with a time limit on every read and write, lines ended by CRLF
 * read through a buffer, and TLS (OpenSSL) started at once (implicit TLS)
 * or after STARTTLS, always with the certificate verified against the
 * system's CAs or a given CA file and against the server's host name.
 *
 * Every failure is printed on stderr (with what OpenSSL said) and the
 * function returns -1; the caller only decides what to do next. */
#ifndef TOKEN_TEST_CONN_H
#define TOKEN_TEST_CONN_H

#include <stddef.h>

#include <openssl/ssl.h>

/* The longest line read from the server (CRLF excluded); longer ones are
 * refused: SMTP allows 512 bytes a reply line, IMAP capability lines are
 * far below this. */
#define TT_LINE_MAX 16384

struct tt_conn {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    int loopback;           /* the peer address is 127.0.0.0/8 or ::1 */
    char peer[64];          /* the peer address, for messages */
    size_t start, end;      /* the unread bytes of buf */
    char buf[TT_LINE_MAX + 2];
};

/* Connects to host (or to address, an IP address, when not NULL: the
 * certificate is still checked against host) on port, every later read or
 * write limited to timeout seconds.  c is initialised either way (close it). */
int tt_connect(struct tt_conn *c, const char *host, const char *address, const char *port,
               int timeout);

/* Starts TLS on the connection, verifying the server's certificate chain
 * (against ca_file, or the system's default CAs when NULL) and that it
 * names host (a DNS name, or an IP address matched against the
 * certificate's IP addresses).  Refuses to start when bytes the server sent
 * before the handshake are still unread (a STARTTLS injection).  Prints one
 * line describing the session on stdout. */
int tt_start_tls(struct tt_conn *c, const char *host, const char *ca_file);

/* Bits of the TLS cipher in use, 0 without TLS. */
int tt_tls_bits(const struct tt_conn *c);

/* The next line, without its CRLF (a lone LF is accepted), NUL-terminated
 * in line (TT_LINE_MAX + 1 bytes); refuses NUL bytes and longer lines. */
int tt_read_line(struct tt_conn *c, char *line, size_t *len);

/* Writes all of data. */
int tt_write(struct tt_conn *c, const char *data, size_t len);

void tt_close(struct tt_conn *c);

#endif
