#!/bin/bash
# sasl-mechs-token test against a scripted peer (tests/interop/token_test_peer.py)
# on loopback, for what real servers do not do on demand: an initial response
# too long for an SMTP AUTH line, IMAP without SASL-IR, untagged lines around
# an IMAP error challenge, a STARTTLS injection, reply lines with different
# codes, a connection closed during AUTH, a challenge that is not base64,
# control characters in server lines (printed escaped), and
# --allow-plain refused to an address that is not loopback.  The peer
# speaks without TLS, so the tool runs with --allow-plain.  No root.  TAP.
# SM_TOOL_WRAPPER as in test_token_test.sh (valgrind, say).
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sm_init

TOOL=$SM_BUILDDIR/sasl-mechs-token
PEER=$SM_SRCDIR/tests/interop/token_test_peer.py
sm_plan 9

missing=$(sm_missing_programs python3)
if [ -n "$missing" ] || [ ! -x "$TOOL" ]; then
    for _ in $(seq 9); do sm_not_ok "token test peer: missing ${missing:-$TOOL}"; done
    exit 1
fi
plugdir=$SM_TMP/plugins
mkdir -p "$plugdir"
ln -s "$SM_PLUGIN_DIR"/libsaslmechs_{xoauth2,oauthbearer}.so "$plugdir/"

# tokenfile FILE TOKEN: a token file valid for an hour (no refresh is tried)
tokenfile() {
    (umask 077 && printf '{"access_token":"%s","expires_at":%d,"refresh_token":"r","token_endpoint":"http://127.0.0.1:9/token","client_id":"c"}' \
        "$2" "$(($(date +%s) + 3600))" >"$1")
    printf '%s' "$2" >"$1.token"
}
tokenfile "$SM_TMP/short.json" "short.token.$RANDOM"
# 9500 bytes: the XOAUTH2 message in base64 passes 12288 octets
tokenfile "$SM_TMP/long.json" "$(head -c 7125 /dev/urandom | base64 -w0 | tr '+/' '-_' | cut -c1-9500)"

# peer SCENARIO TOKENFILE PROTO [BIND [CONNECT]]: the peer playing SCENARIO,
# the tool against it; rc, $out, $err and $plog (what the peer received)
peer() {
    local file=$2 proto=$3 bind=${4:-127.0.0.1} connect=${5:-${4:-127.0.0.1}} pid port
    sc=$1
    out=$SM_TMP/$sc.out err=$SM_TMP/$sc.err plog=$SM_TMP/$sc.peer
    rm -f "$SM_TMP/$sc.port"
    python3 "$PEER" --scenario "$sc" --token "$file.token" --bind "$bind" \
        --port-file "$SM_TMP/$sc.port" --log "$plog" 2>"$SM_TMP/$sc.peer-err" &
    pid=$!
    for _ in $(seq 100); do [ -s "$SM_TMP/$sc.port" ] && break; sleep 0.05; done
    port=$(cat "$SM_TMP/$sc.port" 2>/dev/null)
    # shellcheck disable=SC2086  # a command line, as in test_token_test.sh
    timeout "$SM_TIMEOUT" ${SM_TOOL_WRAPPER:-} "$TOOL" test --plugin-dir "$plugdir" --timeout 10 --allow-plain \
        --file "$file" --user alice "--$proto" "peer.test:${port:-1}" --address "$connect" \
        >"$out" 2>"$err"
    rc=$?
    wait "$pid" 2>/dev/null
}
# check DESC RC [OUT_RE] [ERR_RE] [PEER_RE] [PEER_NOT_RE]: the last run exited
# RC, each extended regexp given (non-empty) matches a line of its stream, and
# PEER_NOT_RE none of what the peer received
check() {
    local desc=$1 want=$2 why=
    [ -z "${6:-}" ] || ! grep -qE -- "$6" "$plog" || why="the peer received '$6'"
    [ "$rc" -eq "$want" ] || why="exit $rc, not $want"
    [ -z "${3:-}" ] || grep -qE -- "$3" "$out" || why="${why:+$why; }stdout lacks '$3'"
    [ -z "${4:-}" ] || grep -qE -- "$4" "$err" || why="${why:+$why; }stderr lacks '$4'"
    [ -z "${5:-}" ] || grep -qE -- "$5" "$plog" || why="${why:+$why; }the peer did not receive '$5'"
    grep -qE '^C: .{200}' "$out" && why="${why:+$why; }a long client line was printed"
    if [ -z "$why" ]; then
        sm_ok "$desc"
    else
        sm_not_ok "$desc" "$why"
        sm_diag_file "$out" stdout
        sm_diag_file "$err" stderr
        sm_diag_file "$plog" "the peer received"
        sm_diag_file "$SM_TMP/$sc.peer-err" "the peer's errors"
    fi
}

peer smtp-long "$SM_TMP/long.json" smtp
check "SMTP: an initial response past 12288 octets goes after an empty 334 (the token checked by the peer, not printed)" 0 \
    '^C: \[response not shown: it holds the token\]' '' '^TOKEN$'
peer imap-no-ir "$SM_TMP/short.json" imap
check "IMAP without SASL-IR: AUTHENTICATE alone, the message after '+ '" 0 '^S: a2 OK' '' '^TOKEN$'
peer imap-challenge "$SM_TMP/short.json" imap
check "IMAP: untagged lines around the error challenge; decoded, answered, NO: exit 1" 1 \
    '^\*   decoded: \{"status":"invalid_token"' '' '^$'
# the refusal is recorded in the file (its next use refreshes first, and this
# file's token endpoint is closed): a fresh file for the cases after it
tokenfile "$SM_TMP/short.json" "short.token.$RANDOM"
peer smtp-injection "$SM_TMP/short.json" smtp
check "SMTP: bytes after the STARTTLS reply (an injection): no handshake, no AUTH, exit 1" 1 '' \
    'STARTTLS injection' 'STARTTLS' 'AUTH|TOKEN'
peer smtp-codes "$SM_TMP/short.json" smtp
check "SMTP: a reply whose lines have different codes: exit 1" 1 '' 'different codes'
peer smtp-closed "$SM_TMP/short.json" smtp
check "SMTP: the connection closed after AUTH: exit 1" 1 '' 'closed the connection'
peer smtp-badb64 "$SM_TMP/short.json" smtp
check "SMTP: a challenge that is not base64: exit 1" 1 '' 'not base64'
peer smtp-escape "$SM_TMP/short.json" smtp
if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$out" "$err"; then
    rc=99 # control characters reached the terminal
fi
check "SMTP: control characters in server lines are printed escaped (\\x1b), not raw: exit 1" 1 \
    '^S: 220 peer.test ESMTP scripted\\x1b\]0;pwned\\x07$'

# --allow-plain only to loopback: this machine's first address that is not
addr=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9.]+$' | grep -v '^127\.' | head -n 1)
if [ -n "$addr" ]; then
    peer smtp-long "$SM_TMP/short.json" smtp "$addr"
    check "SMTP: --allow-plain does not send a token in clear to $addr (not loopback)" 1 '' \
        'only to a loopback server' '' 'AUTH|TOKEN'
else
    sm_not_ok "--allow-plain to an address that is not loopback: this machine has none to try"
fi
sm_done
