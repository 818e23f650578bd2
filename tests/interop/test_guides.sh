#!/bin/bash
# README.md's "Relaying through Microsoft 365" and "Relaying through Gmail",
# step by step, against the loopback identity provider
# (tests/oauth/oauth_server.py playing Microsoft's and Google's endpoints)
# and a loopback smtpd (STARTTLS, our XOAUTH2 server plugin checking the
# provider's tokens against its JWKS) that stands for smtp.office365.com and
# smtp.gmail.com.  Every command and configuration line of the guides comes
# from the block after its "<!-- test_guides.sh: NAME -->" line (lib.sh's
# sm_recipe); the test replaces only host names, ports and paths (/etc/postfix
# becomes a private configuration folder, the relay hosts 127.0.0.1 and a free
# port), puts --login-host on the tool's sign-in (the loopback provider) and,
# for `sasl-mechs-token test`, --address 127.0.0.1, --ca-file (the test's CA
# signed the smtpd's certificate for smtp.office365.com and smtp.gmail.com)
# and --plugin-dir (the built plugins); the system's CA bundle in main.cf
# becomes the test CA's, and the test's own part of main.cf names the
# certificate's names for smtp_tls_security_level = secure (the relay is
# 127.0.0.1 here, not the name); a FROM the README no longer holds
# fails the first case, so README and test cannot drift apart.
#   Microsoft 365: the token folder; the device flow (the tool prints the
#   code, the test approves it as the user would); the options file, the
#   password map (postmap), main.cf; Postfix with Debian's chrooted smtp and
#   nothing copied into the chroot; `sasl-mechs-token test`; a relayed
#   message; a dead refresh token (AADSTS700082): deferred, and the log line
#   the README shows; signing in again with --force, then postqueue -f.
#   Gmail: the secret file; the authorization code flow with --no-browser,
#   the redirected address pasted back; the password map and main.cf;
#   postfix reload; `sasl-mechs-token test`; a relayed message.
# SM_GUIDES_TRANSCRIPT=DIR keeps the tool's output and the log there.
# Run by scripts/test.sh; by hand as root: flock /tmp/sm-heavy.lock bash
# tests/interop/test_guides.sh (SM_SRCDIR, SM_BUILDDIR, SM_PLUGIN_DIR as
# scripts/test.sh sets them).
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sm_init
sm_plan 12

TOOL=$SM_BUILDDIR/sasl-mechs-token
CONF=$SM_TMP/postfix       # /etc/postfix in the README
LOG=$SM_TMP/maillog
OUTS=$SM_TMP/out
MS_USER=relay@contoso.com  # the README's mailbox
G_USER=you@gmail.com       # the README's Gmail account
G_ID=ID.apps.googleusercontent.com
SM_README_TAG=test_guides.sh

fail_all() { sm_fail_all "guides: $1"; }  # every case still planned fails
keep_transcript() {
    [ -n "${SM_GUIDES_TRANSCRIPT:-}" ] || return 0
    mkdir -p "$SM_GUIDES_TRANSCRIPT" && cp "$OUTS"/* "$LOG" "$SM_GUIDES_TRANSCRIPT/" 2>/dev/null
}
teardown() { keep_transcript; sm_postfix_stop; sm__cleanup; }
trap teardown EXIT

missing=$(sm_missing_programs postfix postconf postmap postqueue sendmail curl python3 openssl mkfifo)
[ -z "$missing" ] || fail_all "missing programs: $missing (scripts/deps.sh installs them)"
[ "$(id -u)" -eq 0 ] || fail_all "must run as root (Postfix's master starts as root)"
[ -x "$TOOL" ] || fail_all "$TOOL is not built"
[ -f "$SM_PLUGIN_DIR/libsaslmechs_xoauth2.so" ] || fail_all "our XOAUTH2 plugin is not built"
mkdir -p "$OUTS" "$SM_TMP/queue" "$SM_TMP/data"
chmod 755 "$SM_TMP"
chown postfix "$SM_TMP/data"

# ---- the loopback provider, the CA, the receiving smtpd's SASL -----------------
sm_oauth_server_start smtp --lifetime 300 ||
    fail_all "the loopback OAuth server did not start: $(tail -3 "$SM_TMP/oauth-server.log")"
B=http://127.0.0.1:$SM_OAUTH_PORT
idp() { curl -sS -m 20 -X POST -H 'Content-Type: application/json' --data-binary "$2" "$B$1"; }
json_get() { python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ''))" "$1" "$2" 2>/dev/null; }
RPORT=$(( 20000 + RANDOM % 20000 ))

tls=$SM_TMP/tls
mkdir -p "$tls"
{ openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=sasl-mechs guides CA" -keyout "$tls/ca.key" -out "$tls/ca.crt" &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=smtp.office365.com \
        -keyout "$tls/server.key" -out "$tls/server.csr" &&
    printf 'subjectAltName = DNS:smtp.office365.com, DNS:smtp.gmail.com\nextendedKeyUsage = serverAuth\n' \
        >"$tls/ext" &&
    openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" \
        -CAcreateserial -days 2 -extfile "$tls/ext" -out "$tls/server.crt"; } >"$SM_TMP/openssl.log" 2>&1 ||
    fail_all "openssl could not make the test CA: $(tail -3 "$SM_TMP/openssl.log")"
chmod 755 "$tls"
chmod 644 "$tls/server.crt"

plugdir=$SM_TMP/plugins
mkdir -p "$plugdir" "$CONF/sasl"
ln -s "$SM_PLUGIN_DIR/libsaslmechs_xoauth2.so" "$SM_SYSTEM_PLUGIN_DIR/libsasldb.so" "$plugdir/"
cat >"$CONF/sasl/smtpdrecv.conf" <<CONFEOF
mech_list: XOAUTH2
oauth_issuers: $B
oauth_audiences: smtp
oauth_user_claim: sub
oauth_jwks_url: $B/jwks
CONFEOF

# ---- the README's blocks ---------------------------------------------------------
ETC=(/etc/postfix "$CONF")                 # the configuration folder
LIB=(/var/lib/postfix "$SM_TMP/data")      # Postfix's data_directory
TOOLSUB=("sasl-mechs-token obtain" "$TOOL obtain")
CAFILE=(/etc/ssl/certs/ca-certificates.crt "$tls/ca.crt")  # the test CA signed the smtpd's certificate
TESTARGS="--address 127.0.0.1 --ca-file $tls/ca.crt --plugin-dir $plugdir"
R=$SM_TMP/recipe
mkdir -p "$R"
sm_recipe ms-folder "${LIB[@]}" >"$R/ms-folder"
sm_recipe ms-obtain "${LIB[@]}" "${TOOLSUB[@]}" "--tenant contoso.com" \
    "--login-host $B/ms --tenant contoso.com" >"$R/ms-obtain"
sm_recipe ms-client.conf "${ETC[@]}" "${LIB[@]}" >"$R/ms-client.conf"
sm_recipe ms-sasl_passwd "${ETC[@]}" "[smtp.office365.com]:587" "[127.0.0.1]:$RPORT" >"$R/ms-sasl_passwd"
sm_recipe ms-main.cf "${ETC[@]}" "[smtp.office365.com]:587" "[127.0.0.1]:$RPORT" \
    "${CAFILE[@]}" >"$R/ms-main.cf"
sm_recipe ms-test "${LIB[@]}" "sasl-mechs-token test" "$TOOL test $TESTARGS" \
    "--smtp smtp.office365.com" "--smtp smtp.office365.com:$RPORT" >"$R/ms-test"
sm_recipe ms-log "${LIB[@]}" >"$R/ms-log"
sm_recipe gmail-secret /root/google-secret "$SM_TMP/google-secret" >"$R/gmail-secret"
sm_recipe gmail-obtain "${LIB[@]}" /root/google-secret "$SM_TMP/google-secret" "${TOOLSUB[@]}" \
    "--provider google" "--provider google --login-host $B/google" >"$R/gmail-obtain"
sm_recipe gmail-sasl_passwd "${ETC[@]}" "[smtp.gmail.com]:587" "[127.0.0.1]:$RPORT" >"$R/gmail-sasl_passwd"
sm_recipe gmail-main.cf "${ETC[@]}" "[smtp.gmail.com]:587" "[127.0.0.1]:$RPORT" \
    "${CAFILE[@]}" >"$R/gmail-main.cf"
sm_recipe gmail-test "${LIB[@]}" "sasl-mechs-token test" "$TOOL test $TESTARGS" \
    "--smtp smtp.gmail.com" "--smtp smtp.gmail.com:$RPORT" >"$R/gmail-test"
if [ -z "$SM_RECIPE_MISSING" ]; then
    sm_ok "README's guides read: $(cd "$R" && echo *)"
else
    sm_not_ok "README's guides read" "missing in README.md's relay guides:$SM_RECIPE_MISSING"
    fail_all "the README's guides are not what this test runs"
fi
# block_cmd NAME [ARG...]: the shell block NAME with ARGs put after its last word
# (MAIL_CONFIG: Postfix's commands there, postmap, read the instance's
# main.cf as they read /etc/postfix/main.cf on a mail server)
block_cmd() { local name=$1; shift; MAIL_CONFIG=$CONF bash -e -c "$(cat "$R/$name")${*:+ $*}"; }
run_block() { block_cmd "$1" >"$OUTS/$1.out" 2>&1; }  # run_block NAME: its output in $OUTS

# ---- Microsoft 365 -----------------------------------------------------------------
idp /idp/config '{"client_id": "APP-ID", "user": "nobody@contoso.com"}' >/dev/null

# step 2: the token folder
TOKDIR=$SM_TMP/data/oauth
run_block ms-folder
sm_check "$([ "$(stat -c %U:%G:%a "$TOKDIR" 2>/dev/null)" = postfix:postfix:700 ] && echo 0 || echo 1)" \
    "Microsoft 365, step 2: the token folder, postfix:postfix 0700" "$(stat -c %U:%G:%a "$TOKDIR" 2>&1)"

# device_obtain NAME [EXTRA ARGS]: runs the sign-in block NAME in the
# background, approves the code it prints as $MS_USER; sets RC, OUT
device_obtain() {
    local name=$1 code pid
    shift
    OUT=$OUTS/$name.out
    block_cmd ms-obtain "$@" >"$OUT" 2>&1 &
    pid=$!
    code=$(sm_device_code "$OUT" "$pid")
    [ -n "$code" ] &&
        idp /idp/device "{\"user_code\": \"$code\", \"action\": \"approve\", \"user\": \"$MS_USER\"}" >/dev/null
    wait "$pid"
    RC=$?
}
# step 3: sign in (device flow)
device_obtain ms-obtain
F=$TOKDIR/relay.json
if [ "$RC" -eq 0 ] && grep -q 'enter the code' "$OUT" &&
    [ "$(stat -c %U:%a "$F" 2>/dev/null)" = postfix:600 ] &&
    [[ "$(json_get "$F" scope)" == *https://outlook.office.com/SMTP.Send* ]] &&
    [ -n "$(json_get "$F" refresh_token)" ]; then
    sm_ok "Microsoft 365, step 3: device flow, code approved, relay.json postfix 0600 with SMTP.Send and a refresh token"
else
    sm_not_ok "Microsoft 365, step 3: device flow" "exit $RC, file $(stat -c %U:%a "$F" 2>&1)"
    sm_diag_file "$OUT"
fi

# steps 4-6: options file, password map, main.cf; Debian's chrooted smtp
# main_cf GUIDE: the test's instance (private queue, loopback) with the
# guide's main.cf lines; mail for other domains goes out by smtp (the
# relayhost), the receiving smtpd discards what it accepts
main_cf() {
    sm_postfix_main_cf "$CONF/main.cf" "mail.$SM_FQDN" "$plugdir"
    sed -i '/^default_transport = /d; /^relay_transport = /d' "$CONF/main.cf"
    # the relay is addressed by IP here: the names its certificate must
    # match for smtp_tls_security_level = secure are given (the README's
    # relayhost names them, and Postfix's default matches the next hop)
    printf '%s\n' "smtp_connection_cache_on_demand = no" \
        "smtp_tls_secure_cert_match = smtp.office365.com, smtp.gmail.com" >>"$CONF/main.cf"
    [ -z "$1" ] || cat "$R/$1-main.cf" >>"$CONF/main.cf"
}
main_cf ""  # the instance's own main.cf, which a mail server has already
run_block ms-client.conf || sm_diag_file "$OUTS/ms-client.conf.out"
run_block ms-sasl_passwd || sm_diag_file "$OUTS/ms-sasl_passwd.out"
main_cf ms
sm_postfix_master_cf "$CONF/master.cf" \
    "127.0.0.1:$RPORT inet n - n - - smtpd -o content_filter=discard: -o smtpd_sasl_path=smtpdrecv -o myhostname=mx.loopback.test -o smtpd_tls_security_level=may -o smtpd_tls_cert_file=$tls/server.crt -o smtpd_tls_key_file=$tls/server.key" \
    "smtp      unix  - - y - - smtp"
pc() { postconf -c "$CONF" -h "$1" 2>/dev/null; }
if ! sm_postfix_start "$CONF" "$RPORT"; then
    sm_not_ok "Microsoft 365, steps 4-6: postfix: $SM_POSTFIX_WHY"; sm_diag_file "$LOG"
elif [ "$(pc relayhost)" != "[127.0.0.1]:$RPORT" ] || [ "$(pc smtp_sasl_mechanism_filter)" != xoauth2 ] ||
    [ "$(pc smtp_tls_security_level)" != secure ] || [ ! -f "$CONF/sasl_passwd.db" ] || [ "$(stat -c %a "$CONF/sasl/sasl-mechs-client.conf")" != 600 ]; then
    sm_not_ok "Microsoft 365, steps 4-6" "relayhost '$(pc relayhost)', filter '$(pc smtp_sasl_mechanism_filter)', $(ls "$CONF")"
else
    sm_ok "Microsoft 365, steps 4-6: Postfix started with the README's main.cf (relayhost, xoauth2 only), sasl_passwd.db and sasl-mechs-client.conf 0600 (smtp chrooted)"
fi

# step 7: sasl-mechs-token test
run_block ms-test
rc=$?
if [ "$rc" -eq 0 ] && grep -q '^ *S: 235 ' "$OUTS/ms-test.out" && ! grep -qF "$(json_get "$F" access_token)" "$OUTS/ms-test.out"; then
    sm_ok "Microsoft 365, step 7: sasl-mechs-token test exits 0 with 235, the token not shown"
else
    sm_not_ok "Microsoft 365, step 7: sasl-mechs-token test" "exit $rc"; sm_diag_file "$OUTS/ms-test.out"
fi

send() { sm_relay_send "$CONF" "$1" guide; }
# relayed DESC USER: the message MSGID went out through the smtpd as USER
relayed() {
    sm_relayed "$LOG" "$RPORT" "$1" "$2" &&
        grep -E " ($SM_QID|$SM_RID): " "$LOG" >>"$OUTS/relay-log.out"
}
send "$MS_USER"
relayed "Microsoft 365: a message relayed through the chrooted smtp with XOAUTH2" "$MS_USER"
copied=$(find "$SM_TMP/queue" \( -name '*.json' -o -name '*.conf' -o -name '*.crt' \) 2>/dev/null)
[ -z "$copied" ] || sm_diag "copied into the chroot: $copied"

# the refresh token dies: the access token due, the provider refuses the
# refresh with AADSTS700082; the message waits, the log says what to run
python3 - "$F" <<'PYEOF'
import json, sys, time
f = sys.argv[1]
d = json.load(open(f))
d["expires_at"] = int(time.time())   # time has passed: the token is due
with open(f, "r+") as fh:            # in place: owner and mode kept
    fh.seek(0); fh.truncate(); json.dump(d, fh)
PYEOF
idp /idp/mode '{"answer": {"status": 400, "body": {"error": "invalid_grant", "error_description": "AADSTS700082: The refresh token has expired due to inactivity. The token was issued on 2026-01-01T00:00:00Z and was inactive for 90.00:00:00.\r\nTrace ID: 0\r\nCorrelation ID: 0\r\nTimestamp: 2026-04-01 00:00:00Z", "error_codes": [700082]}}}' >/dev/null
send "$MS_USER"
want=$(sed -n 's/^.*\]: //p' "$R/ms-log" | head -n 1)
want=${want%%...*}
sm_relay_deferred "$LOG"
dline=$SM_DLINE qid=$SM_DQID
if [ -n "$dline" ] && [ -n "$want" ] && grep -qF -- "$want" "$LOG" &&
    ! grep -q " $qid: .*status=bounced" "$LOG"; then
    sm_ok "Microsoft 365: a dead refresh token defers the message and logs the README's line"
    { grep -F -- "$want" "$LOG" | tail -n 1; echo "$dline"; } >"$OUTS/dead-log.out"
else
    sm_not_ok "Microsoft 365: dead refresh token" "deferral '${dline:-none}', README's line '$want'"
    grep -E "${qid:-no-such-id}|SASL|XOAUTH2" "$LOG" | tail -6 | sed 's/^/# /'
fi

idp /idp/mode '{"answer": null}' >/dev/null

# signing in again as the README says (step 3 with --force), then postqueue -f
device_obtain ms-obtain-again --force
postqueue -c "$CONF" -f
relayed "Microsoft 365: signed in again (step 3 with --force), postqueue -f relays the deferred message" "$MS_USER"
[ "$RC" -eq 0 ] || sm_diag "the second sign-in exited $RC: $(tail -3 "$OUT")"

# ---- Gmail ---------------------------------------------------------------------------
idp /idp/config "{\"client_id\": \"$G_ID\", \"client_secret\": \"gmail-test-secret\", \"user\": \"$G_USER\"}" >/dev/null
# step 1: the secret file (the test pastes the secret as the editor would)
run_block gmail-secret && printf 'gmail-test-secret\n' >>"$SM_TMP/google-secret"
# step 2: sign in with --no-browser; the redirected address pasted back
OUT=$OUTS/gmail-obtain.out
rm -f "$SM_TMP/paste"; mkfifo "$SM_TMP/paste"
block_cmd gmail-obtain --timeout 30 <"$SM_TMP/paste" >"$OUT" 2>&1 &
pid=$!
exec 8>"$SM_TMP/paste"
url=
for _ in $(seq 150); do
    url=$(grep -o "$B/google/o/oauth2/v2/auth?[^ ]*" "$OUT")
    [ -n "$url" ] && break
    sleep 0.1
done
loc=$(curl -s -o /dev/null -w '%{redirect_url}' "$url")  # the desktop browser
(echo "$loc" >&8) 2>/dev/null
exec 8>&-
wait "$pid"
RC=$?
G=$TOKDIR/gmail.json
if [ "$RC" -eq 0 ] && grep -q 'ssh -L' "$OUT" && [ "$(stat -c %a "$SM_TMP/google-secret")" = 600 ] &&
    [ "$(stat -c %U:%a "$G" 2>/dev/null)" = postfix:600 ] && [ "$(json_get "$G" provider)" = google ] &&
    [[ "$(json_get "$G" scope)" == *https://mail.google.com/* ]] && [ -n "$(json_get "$G" refresh_token)" ]; then
    sm_ok "Gmail, steps 1-2: secret file 0600, --no-browser sign-in with the pasted address, gmail.json postfix 0600"
else
    sm_not_ok "Gmail, steps 1-2" "exit $RC, file $(stat -c %U:%a "$G" 2>&1)"; sm_diag_file "$OUT"
fi

# steps 3-4: password map, main.cf, postfix reload, sasl-mechs-token test
run_block gmail-sasl_passwd || sm_diag_file "$OUTS/gmail-sasl_passwd.out"
main_cf gmail
postfix -c "$CONF" reload >"$OUTS/reload.out" 2>&1
run_block gmail-test
rc=$?
if [ "$rc" -eq 0 ] && grep -q '^ *S: 235 ' "$OUTS/gmail-test.out"; then
    sm_ok "Gmail, step 4: postfix reload, sasl-mechs-token test exits 0 with 235"
else
    sm_not_ok "Gmail, step 4: sasl-mechs-token test" "exit $rc"; sm_diag_file "$OUTS/gmail-test.out"
fi
send "$G_USER"
relayed "Gmail: a message relayed through the chrooted smtp with XOAUTH2" "$G_USER"

# postfix-script's ownership checks at start and reload (the token folder's
# place), and no crash
bad='fatal|panic|segmentation|signal 11|not owned by|group or other writable'
if grep -qE "$bad" "$LOG" 2>/dev/null; then
    sm_not_ok "no fatal error, crash or ownership warning in the Postfix log"
    grep -E "$bad" "$LOG" | head -5 | sed 's/^/# /'
else
    sm_ok "no fatal error, crash or ownership warning in the Postfix log"
fi
sm_done
