#!/bin/bash
# sasl-mechs-token test (tools/token/token_test.c) against real servers that
# validate tokens with our OAuth server plugin, the tokens minted by the
# loopback OAuth server (tests/oauth/oauth_server.py), the servers' TLS
# certificate issued at test time by a throwaway CA:
#   Postfix smtpd on three loopback ports: STARTTLS (AUTH offered only after
#   it, smtpd_tls_auth_only), implicit TLS (smtpd_tls_wrappermode) and one
#   without TLS.  An accepted token exits 0 with 235, the token nowhere in the
#   output; a refused one exits 1 with 535 and the error challenge decoded;
#   a certificate for another name, or from a CA not trusted, is refused
#   before any AUTH; a server without STARTTLS gets no token unless
#   --allow-plain is given (it is a loopback server); a token file due for
#   refresh is refreshed by the plugin on the way.
#   Cyrus imapd (a private instance, STARTTLS on imap, implicit TLS on
#   imaps): accepted with XOAUTH2 and OAUTHBEARER, refused with the
#   challenge decoded.
# Needs root (Postfix's and Cyrus's masters start as root), the packages
# postfix, cyrus-imapd, openssl, python3 (scripts/deps.sh) and the built
# sasl-mechs-token.  Everything is torn down on exit.  TAP.  SM_TOOL_WRAPPER,
# when set, is put before each run of the tool (e.g. "valgrind --quiet
# --error-exitcode=99 --leak-check=full"); its complaints land in the
# transcript's stderr, and a wrapper's own exit status fails the case.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sm_init

TOOL=$SM_BUILDDIR/sasl-mechs-token
HOST=mail.$SM_FQDN
USER_NAME=alice
SMTP_CASES=11
IMAP_CASES=4
sm_plan $((1 + SMTP_CASES + IMAP_CASES))

fail_all() { sm_fail_all "token test: $1"; }  # every case still planned fails

missing=$(sm_missing_programs postfix openssl python3 curl)
[ -x "$SM_CYRUS_BIN/master" ] || missing="$missing $SM_CYRUS_BIN/master"
[ -z "$missing" ] || fail_all "missing programs: $missing (scripts/deps.sh installs them)"
[ "$(id -u)" -eq 0 ] || fail_all "must run as root (Postfix's and Cyrus's masters start as root)"
[ -x "$TOOL" ] || fail_all "$TOOL is not built"
for m in xoauth2 oauthbearer; do
    [ -f "$SM_PLUGIN_DIR/libsaslmechs_$m.so" ] || fail_all "our $m plugin is not built"
done

# ---- a throwaway CA, and the servers' certificate for $HOST -----------------
tls=$SM_TMP/tls
mkdir -p "$tls"
mkcert() {  # mkcert DIR CN: a CA in DIR/ca.{key,crt}, a server cert for CN in DIR/server.{key,crt}
    local d=$1 cn=$2
    mkdir -p "$d"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=sasl-mechs test CA" -keyout "$d/ca.key" -out "$d/ca.crt" &&
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$cn" \
            -keyout "$d/server.key" -out "$d/server.csr" &&
        printf 'subjectAltName = DNS:%s\nextendedKeyUsage = serverAuth\n' "$cn" >"$d/ext" &&
        openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
            -CAcreateserial -days 2 -extfile "$d/ext" -out "$d/server.crt"
}
mkcert "$tls" "$HOST" >"$SM_TMP/openssl.log" 2>&1 ||
    fail_all "openssl could not make the test CA: $(tail -3 "$SM_TMP/openssl.log")"
chmod 755 "$SM_TMP" "$tls"
chmod 644 "$tls/server.crt"
chown cyrus "$tls/server.key" 2>/dev/null  # Postfix reads it as root, Cyrus as cyrus

# ---- the loopback OAuth server --------------------------------------------------
SM_OAUTH_USER=$USER_NAME sm_oauth_server_start mail --lifetime 900 ||
    fail_all "the loopback OAuth server did not start: $(tail -3 "$SM_TMP/oauth-server.log")"
ISSUER=http://127.0.0.1:$SM_OAUTH_PORT
mint=$SM_OAUTH_MINT

# token_file FILE ACCESS_TOKEN EXPIRES_IN REFRESH_TOKEN: a token file as the
# client plugin reads it (this user's, mode 0600)
token_file() {
    python3 -c '
import json, os, sys, time
f, access, ttl, refresh, issuer = sys.argv[1:]
fd = os.open(f, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, json.dumps({"access_token": access, "expires_at": int(time.time()) + int(ttl),
    "refresh_token": refresh, "token_endpoint": issuer + "/token",
    "client_id": "test-client", "client_secret": "test-secret"}).encode())
os.close(fd)' "$1" "$2" "$3" "$4" "$ISSUER"
}
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
grant=$(curl -sS -m 20 -X POST -d "{\"user\":\"$USER_NAME\"}" "$ISSUER/grant")
TOKEN=$(json_field access_token <<<"$grant" 2>/dev/null)
REFRESH=$(json_field refresh_token <<<"$grant" 2>/dev/null)
# signed with a key the JWKS does not hold: the server refuses it
BAD_TOKEN=$("$mint" sign --keys "$SM_TMP/oauth-keys" --kid ec256 --ttl 600 \
    --claims "{\"iss\":\"$ISSUER\",\"aud\":\"mail\",\"sub\":\"$USER_NAME\",\"scope\":\"mail\"}" \
    --header '{"kid":"not-in-the-set"}' 2>/dev/null)
[ -n "$TOKEN" ] && [ -n "$REFRESH" ] && [ -n "$BAD_TOKEN" ] ||
    fail_all "no tokens from the loopback OAuth server ($grant)"
tok=$SM_TMP/tokens
mkdir -p "$tok"
chmod 700 "$tok"
# an hour to live: past the client's refresh window (900 s), so that only the
# case made to be due refreshes (the server rotates the refresh token on use)
token_file "$tok/good.json" "$TOKEN" 3600 "$REFRESH"
token_file "$tok/bad.json" "$BAD_TOKEN" 3600 unused-refresh-token

# ---- Postfix: smtpd with STARTTLS, with implicit TLS, without TLS -------------------
PORT=$((20000 + RANDOM % 20000))
TPORT=$((PORT + 1)) # implicit TLS
NPORT=$((PORT + 2)) # no TLS
IPORT=$((PORT + 3)) # Cyrus imap (STARTTLS)
ISPORT=$((PORT + 4)) # Cyrus imaps
CONF=$SM_TMP/postfix
plugdir=$SM_TMP/plugins
mkdir -p "$CONF/sasl" "$plugdir" "$SM_TMP/queue" "$SM_TMP/data"
chown postfix "$SM_TMP/data"
ln -s "$SM_PLUGIN_DIR"/libsaslmechs_{xoauth2,oauthbearer}.so "$SM_SYSTEM_PLUGIN_DIR/libsasldb.so" \
    "$plugdir/"
oauth_conf() {  # oauth_conf PREFIX: the OAuth server options, option names prefixed
    printf '%s\n' "${1}mech_list: XOAUTH2 OAUTHBEARER" "${1}oauth_issuers: $ISSUER" \
        "${1}oauth_audiences: mail" "${1}oauth_required_scopes: mail" \
        "${1}oauth_user_claim: sub" "${1}oauth_jwks_url: $ISSUER/jwks"
}
oauth_conf "" >"$CONF/sasl/smtpd.conf"
sm_postfix_main_cf "$CONF/main.cf" "$HOST" "$plugdir"
cat >>"$CONF/main.cf" <<CONFEOF
smtpd_tls_cert_file = $tls/server.crt
smtpd_tls_key_file = $tls/server.key
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
CONFEOF
cat >"$CONF/master.cf" <<CONFEOF
127.0.0.1:$PORT inet n - n - - smtpd
127.0.0.1:$TPORT inet n - n - - smtpd -o smtpd_tls_wrappermode=yes
127.0.0.1:$NPORT inet n - n - - smtpd -o smtpd_tls_security_level=none -o smtpd_tls_auth_only=no
CONFEOF
sm_postfix_master_cf "$CONF/master.cf"
if sm_postfix_start "$CONF" "$PORT"; then
    sm_ok "postfix started: STARTTLS on $PORT, implicit TLS on $TPORT, no TLS on $NPORT; OAuth server on $ISSUER"
else
    sm_diag_file "$SM_TMP/maillog"
    fail_all "$SM_POSTFIX_WHY"
fi

# ---- the cases ----------------------------------------------------------------------
# run NAME ARGS...: the tool, stdout and stderr in $SM_TMP/NAME.{out,err}, its
# exit status in rc
run() {
    local name=$1
    shift
    out=$SM_TMP/$name.out err=$SM_TMP/$name.err
    # shellcheck disable=SC2086  # SM_TOOL_WRAPPER: a command line, e.g. valgrind's
    timeout "$SM_TIMEOUT" ${SM_TOOL_WRAPPER:-} "$TOOL" test --plugin-dir "$plugdir" --timeout 15 "$@" \
        >"$out" 2>"$err"
    rc=$?
}
# why_not RC LINE... : checks the last run; each LINE an extended regexp that
# must match a line of stdout ("!re": must match none); sets why
why_not() {
    local want=$1 re
    shift
    why=
    [ "$rc" -eq "$want" ] || why="exit $rc, not $want"
    for re in "$@"; do
        case $re in
            '!'*) grep -qE -- "${re#!}" "$out" && why="${why:+$why; }output matches '${re#!}'" ;;
            *) grep -qE -- "$re" "$out" || why="${why:+$why; }no line matches '$re'" ;;
        esac
    done
    # the token: never printed, on either stream, nor a client message long
    # enough to hold it (base64)
    grep -qE '^C: .{200}' "$out" && why="${why:+$why; }a long client line was printed"
    for t in "$TOKEN" "$BAD_TOKEN"; do
        grep -qF -- "$t" "$out" "$err" && why="${why:+$why; }a token was printed"
    done
    [ -z "$why" ]
}
verdict() {  # verdict DESC: ok or not ok from why, with the transcript
    if [ -z "$why" ]; then
        sm_ok "$1"
    else
        sm_not_ok "$1" "$why"
        sm_diag_file "$out" stdout
        sm_diag_file "$err" stderr
    fi
}
ca=(--ca-file "$tls/ca.crt")

run starttls-xoauth2 --file "$tok/good.json" --user "$USER_NAME" --smtp "$HOST:$PORT" \
    --address 127.0.0.1 "${ca[@]}"
why_not 0 '^\* TLS: TLSv1\.[23], .*certificate verified for '"$HOST" '^S: 250-AUTH .*XOAUTH2' \
    '^C: AUTH XOAUTH2 \[initial response not shown' '^S: 235 ' '^\* accepted'
verdict "SMTP STARTTLS, XOAUTH2 (the default): accepted, exit 0, 235, the token not printed"

run starttls-oauthbearer --file "$tok/good.json" --user "$USER_NAME" --smtp "$HOST:$PORT" \
    --address 127.0.0.1 "${ca[@]}" --mech OAUTHBEARER --starttls
why_not 0 '^C: AUTH OAUTHBEARER \[initial' '^S: 235 '
verdict "SMTP STARTTLS, OAUTHBEARER: accepted, exit 0, 235"

run implicit --file "$tok/good.json" --user "$USER_NAME" --smtp "$HOST:$TPORT" \
    --address 127.0.0.1 "${ca[@]}" --tls
why_not 0 '^\* TLS: ' '^S: 220 ' '^S: 235 ' '!^C: STARTTLS'
verdict "SMTP implicit TLS (smtpd_tls_wrappermode): accepted, exit 0, 235"

run refused-xoauth2 --file "$tok/bad.json" --user "$USER_NAME" --smtp "$HOST:$PORT" \
    --address 127.0.0.1 "${ca[@]}"
why_not 1 '^S: 334 ' '^\*   decoded: \{.*"status": ?"invalid_token"' '^C: \(empty response\)' \
    '^S: 535 ' '^\* refused by the server after its error challenge' '!^S: 235' \
    '^\* the client plugin says: .*the server refused the token: status invalid_token'
verdict "SMTP XOAUTH2, token signed by an unknown key: exit 1, 535 after the error challenge (decoded, answered with an empty response)"

# the refusal above is recorded in the file (its next use would refresh
# first): the same refused token again, in a fresh file
token_file "$tok/bad.json" "$BAD_TOKEN" 3600 unused-refresh-token
run refused-oauthbearer --file "$tok/bad.json" --user "$USER_NAME" --smtp "$HOST:$PORT" \
    --address 127.0.0.1 "${ca[@]}" --mech OAUTHBEARER
why_not 1 '^\*   decoded: \{.*"status": ?"invalid_token"' '^C: AQ==$' '^S: 535 '
verdict "SMTP OAUTHBEARER, refused token: exit 1, 535 after the error challenge (answered with ^A)"

run wrong-name --file "$tok/good.json" --user "$USER_NAME" --smtp "other.$SM_FQDN:$PORT" \
    --address 127.0.0.1 "${ca[@]}"
why_not 1 '^C: STARTTLS' '!^C: AUTH'
grep -q 'hostname mismatch' "$err" || why="${why:+$why; }stderr does not say 'hostname mismatch'"
verdict "SMTP, a certificate for another name: refused before AUTH, exit 1"

run untrusted --file "$tok/good.json" --user "$USER_NAME" --smtp "$HOST:$PORT" \
    --address 127.0.0.1
why_not 1 '!^C: AUTH'
grep -q 'certificate was refused' "$err" || why="${why:+$why; }stderr does not say the certificate was refused"
verdict "SMTP, a certificate from a CA not trusted (no --ca-file): refused before AUTH, exit 1"

run no-starttls --file "$tok/good.json" --user "$USER_NAME" --smtp "$HOST:$NPORT" \
    --address 127.0.0.1 "${ca[@]}"
why_not 1 '^S: 250-AUTH ' '!^C: AUTH' '!^C: STARTTLS'
grep -q 'does not offer STARTTLS' "$err" || why="${why:+$why; }stderr does not say why"
verdict "SMTP without STARTTLS offered: no token sent in clear, exit 1"

run allow-plain --file "$tok/good.json" --user "$USER_NAME" --smtp "$HOST:$NPORT" \
    --address 127.0.0.1 "${ca[@]}" --allow-plain
why_not 0 '^\* no STARTTLS offered: the token goes in clear text to the loopback' \
    '^C: AUTH XOAUTH2 \[initial response not shown' '^S: 235 '
verdict "SMTP without STARTTLS, --allow-plain to a loopback server: accepted, exit 0"

# due for refresh: the plugin refreshes it first, and the new token is accepted
token_file "$tok/due.json" "$BAD_TOKEN" 30 "$REFRESH"
before=$(curl -sS -m 20 "$ISSUER/stats" | json_field refreshes 2>/dev/null)
run refresh --file "$tok/due.json" --user "$USER_NAME" --smtp "$HOST:$PORT" \
    --address 127.0.0.1 "${ca[@]}"
after=$(curl -sS -m 20 "$ISSUER/stats" | json_field refreshes 2>/dev/null)
new=$(json_field access_token <"$tok/due.json" 2>/dev/null)
why_not 0 '^S: 235 '
[ "$((after - before))" = 1 ] && [ -n "$new" ] && [ "$new" != "$BAD_TOKEN" ] &&
    [ "$(stat -c %a "$tok/due.json")" = 600 ] ||
    why="${why:+$why; }refreshes $before -> $after, file mode $(stat -c %a "$tok/due.json")"
verdict "SMTP, a token file due for refresh: refreshed once by the plugin, then accepted"

run usage --file "$tok/good.json" --smtp "$HOST:$PORT"
why_not 2
grep -q 'required' "$err" || why="${why:+$why; }no usage message"
verdict "usage: no --user, exit 2"

# ---- Cyrus imapd: STARTTLS on imap, implicit TLS on imaps ----------------------------
mapfile -t imap_conf < <(oauth_conf sasl_)
if sm_cyrus_start imap "$plugdir" "imap cmd=\"imapd -C %C\" listen=\"127.0.0.1:$IPORT\" prefork=0
imaps cmd=\"imapd -s -C %C\" listen=\"127.0.0.1:$ISPORT\" prefork=0" -- \
    "servername: $HOST" "allowplaintext: no" "sasl_pwcheck_method: auxprop" \
    "sasl_auxprop_plugin: sasldb" "sasl_sasldb_path: $SM_TMP/imap/sasldb2" \
    "tls_server_cert: $tls/server.crt" "tls_server_key: $tls/server.key" "${imap_conf[@]}"; then
    sm_ok "Cyrus imapd started: imap (STARTTLS) on $IPORT, imaps on $ISPORT"
else
    sm_not_ok "Cyrus imapd did not start"
    sm_diag_file "$SM_TMP/imap/master.log"
fi

run imap-starttls --file "$tok/good.json" --user "$USER_NAME" --imap "$HOST:$IPORT" \
    --address 127.0.0.1 "${ca[@]}"
why_not 0 '^C: a2 STARTTLS' '^\* TLS: ' '^S: \* CAPABILITY .*SASL-IR' \
    '^C: a[0-9]+ AUTHENTICATE XOAUTH2 \[initial response not shown' '^S: a[0-9]+ OK' '^\* accepted'
verdict "IMAP STARTTLS, XOAUTH2 with SASL-IR: accepted, exit 0, tagged OK"

run imap-implicit --file "$tok/good.json" --user "$USER_NAME" --imap "$HOST:$ISPORT" \
    --address 127.0.0.1 "${ca[@]}" --tls --mech OAUTHBEARER
why_not 0 '^\* TLS: ' '^C: a[0-9]+ AUTHENTICATE OAUTHBEARER' '^S: a[0-9]+ OK' '!^C: a[0-9]+ STARTTLS'
verdict "IMAP implicit TLS (imaps), OAUTHBEARER: accepted, exit 0"

token_file "$tok/bad.json" "$BAD_TOKEN" 3600 unused-refresh-token
run imap-refused --file "$tok/bad.json" --user "$USER_NAME" --imap "$HOST:$IPORT" \
    --address 127.0.0.1 "${ca[@]}"
why_not 1 '^S: \+ ' '^\*   decoded: \{.*"status": ?"invalid_token"' '^S: a[0-9]+ NO' \
    '^\* refused by the server after its error challenge'
verdict "IMAP XOAUTH2, refused token: exit 1, NO after the error challenge (decoded)"

sm_done
