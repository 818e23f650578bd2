#!/usr/bin/env python3
"""A scripted SMTP or IMAP peer for `sasl-mechs-token test`
(tests/interop/test_token_test_peer.sh): it plays one scenario on one
connection, without TLS (the tool runs with --allow-plain on loopback), and
writes what the client sent to --log, one line each, the token replaced by
TOKEN once it has been checked against --token.

Scenarios (--scenario):
  smtp-long        no initial response fits RFC 4954's 12288-octet AUTH line:
                   AUTH XOAUTH2 alone, an empty 334, then the message: 235
  smtp-injection   STARTTLS answered with a second reply in the same packet
  smtp-codes       a multi-line greeting whose lines have different codes
  smtp-closed      the connection closed after AUTH
  smtp-badb64      a 334 challenge that is not base64
  imap-no-ir       no SASL-IR: AUTHENTICATE alone, "+ ", the message: OK
  imap-challenge   untagged lines around the error challenge, then NO
"""
import argparse
import os
import base64
import socket
import sys

p = argparse.ArgumentParser()
p.add_argument("--scenario", required=True)
p.add_argument("--token", required=True, help="file holding the expected access token")
p.add_argument("--user", default="alice")
p.add_argument("--bind", default="127.0.0.1")
p.add_argument("--port-file", required=True)
p.add_argument("--log", required=True)
a = p.parse_args()

token = open(a.token).read().strip()
xoauth2 = ("user=%s\x01auth=Bearer %s\x01\x01" % (a.user, token)).encode()

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((a.bind, 0))
srv.listen(1)
srv.settimeout(30)
with open(a.port_file + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(a.port_file + ".tmp", a.port_file)
conn, _ = srv.accept()
conn.settimeout(30)
rfile = conn.makefile("rb")
log = open(a.log, "w")


def send(*lines):
    conn.sendall(b"".join(l.encode() + b"\r\n" for l in lines))


def recv():
    line = rfile.readline()
    if not line:
        log.write("(closed)\n")
        log.flush()
        sys.exit(0)
    line = line.rstrip(b"\r\n").decode()
    shown = line
    # the message that carries the token: checked, logged without it
    for word in line.split(" "):
        try:
            if base64.b64decode(word, validate=True) == xoauth2:
                shown = line.replace(word, "TOKEN")
        except ValueError:
            pass
    log.write(shown + "\n")
    log.flush()
    return shown


def smtp_ehlo(caps):
    recv()  # EHLO
    send(*(["250-peer.test"] + ["250-" + c for c in caps[:-1]] + ["250 " + caps[-1]]))


s = a.scenario
if s.startswith("smtp"):
    if s == "smtp-codes":
        send("220-peer.test one", "221 peer.test two")
        recv()
        sys.exit(0)
    # a terminal escape (set the title, clear the screen) in server lines
    send("220 peer.test ESMTP scripted" + ("\x1b]0;pwned\x07" if s == "smtp-escape" else ""))
    if s == "smtp-injection":
        smtp_ehlo(["STARTTLS", "AUTH XOAUTH2"])
        recv()  # STARTTLS
        send("220 2.0.0 go ahead", "250 injected before the handshake")
        recv()
        sys.exit(0)
    smtp_ehlo(["AUTH XOAUTH2"])
    cmd = recv()
    if s == "smtp-long":
        if cmd != "AUTH XOAUTH2":
            send("501 5.5.2 expected AUTH XOAUTH2 without an initial response")
        else:
            send("334 ")
            send("235 2.7.0 ok" if recv() == "TOKEN" else "535 5.7.8 not the token")
    elif s == "smtp-closed":
        conn.close()
        sys.exit(0)
    elif s == "smtp-badb64":
        send("334 not*base64")
    elif s == "smtp-escape":
        send("535 5.7.8 \x1b[2Jrefused")
    recv()  # QUIT, or whatever comes
    send("221 bye")
elif s.startswith("imap"):
    send("* OK scripted IMAP peer")
    tag = recv().split(" ")[0]  # CAPABILITY
    caps = "IMAP4rev1 AUTH=XOAUTH2" + (" SASL-IR" if s == "imap-challenge" else "")
    send("* CAPABILITY " + caps, tag + " OK done")
    cmd = recv()
    tag = cmd.split(" ")[0]
    if s == "imap-no-ir":
        if cmd != tag + " AUTHENTICATE XOAUTH2":
            send(tag + " BAD expected no initial response")
        else:
            send("+ ")
            send(tag + (" OK welcome" if recv() == "TOKEN" else " NO not the token"))
    elif s == "imap-challenge":
        err = base64.b64encode(b'{"status":"invalid_token","scope":"mail"}').decode()
        send("* OK [ALERT] an untagged line first", "+ " + err)
        reply = recv()
        send("* 3 EXISTS", tag + (" NO refused" if reply == "" else " BAD not the empty reply"))
    cmd = recv()  # LOGOUT
    send("* BYE bye", cmd.split(" ")[0] + " OK done")
    recv()
