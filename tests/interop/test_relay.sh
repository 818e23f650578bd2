#!/bin/bash
# Postfix relaying with XOAUTH2 the way a site relays through Microsoft 365 or
# Gmail (issue 15), against a second smtpd running our server plugin that
# validates the loopback identity provider's tokens by introspection (so a
# token the provider revokes is refused at once):
#   - the sending Postfix's smtp runs chrooted (master.cf chroot = y) in an
#     empty queue directory: no token file, CA bundle or configuration is
#     copied there; its token requests go to an https token endpoint
#     through oauth_proxy (a loopback forward proxy: CONNECT), with the CA
#     bundle (oauth_ca_file) read into memory.  Its options come from
#     sasl-mechs-client.conf in
#     cyrus_sasl_config_path (Postfix's smtp gives libsasl2 no getopt
#     callback), read before the chroot, with the token folder opened then;
#     the passwords are "tokenfile:NAME" in that folder;
#   - two senders (smtp_sender_dependent_authentication), two token files,
#     each refreshed on its own: alice's expires in a minute and is refreshed
#     on the way, bob's is fresh and left alone;
#   - alice's access token revoked early at the provider: the relay is
#     refused (535), the refusal recorded in her token file, and the message
#     deferred, not bounced (smtp_sasl_auth_soft_bounce); `postqueue -f`
#     then sends it with a refreshed token;
#   - a refresh token that expired (Microsoft's AADSTS700082): the message is
#     deferred and the log names the command that signs in again.
# Run by scripts/test.sh; by hand as root: flock /tmp/sm-heavy.lock
# bash tests/interop/test_relay.sh (SM_SRCDIR, SM_BUILDDIR, SM_PLUGIN_DIR
# as scripts/test.sh sets them).
set -u
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"
sm_init
sm_plan 10

CONF=$SM_TMP/postfix
LOG=$SM_TMP/maillog
TOKDIR=$SM_TMP/tokens

fail_all() { sm_fail_all "relay: $1"; }  # every case still planned fails
missing=$(sm_missing_programs postfix postqueue sendmail curl python3 saslpasswd2)
[ -z "$missing" ] || fail_all "missing programs: $missing (scripts/deps.sh installs them)"
[ "$(id -u)" -eq 0 ] || fail_all "must run as root (Postfix's master starts as root)"
RPORT=$(( 20000 + RANDOM % 20000 ))  # the receiving smtpd

# ---- the identity provider, the plugins, the receiving smtpd's SASL ----------
# its token endpoint on https too, with a certificate of its own: the CA
# bundle the smtp client trusts (oauth_ca_file) is that certificate, outside
# the chroot: the client can only use the copy it read at load
mkdir -p "$SM_TMP/ca"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$SM_TMP/ca/idp.key" -out "$SM_TMP/ca/idp.pem" -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 || fail_all "openssl req failed"
sm_oauth_server_start smtp --lifetime 300 --token-ttl 3600 --tls-cert "$SM_TMP/ca/idp.pem" \
    --tls-key "$SM_TMP/ca/idp.key" --tls-port-file "$SM_TMP/idp-tls-port" ||
    fail_all "the loopback OAuth server did not start"
ISSUER=http://127.0.0.1:$SM_OAUTH_PORT
TOKEN_ENDPOINT=https://127.0.0.1:$(cat "$SM_TMP/idp-tls-port")/token
# a corporate network's forward proxy, which the token requests go through
SM_OAUTH_NAME=proxy sm_oauth_server_start proxy --lifetime 300 --proxy ||
    fail_all "the loopback proxy did not start"
PROXY=http://127.0.0.1:$SM_OAUTH_PORT
idp() { curl -sS -m 20 -X POST -d "$2" "$ISSUER$1"; }
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

plugdir=$SM_TMP/plugins
mkdir -p "$plugdir" "$CONF/sasl" "$SM_TMP/queue" "$SM_TMP/data" "$TOKDIR"
ln -s "$(sm_plugin_file ours XOAUTH2)" "$plugdir/" || fail_all "no XOAUTH2 plugin built"
ln -s "$SM_SYSTEM_PLUGIN_DIR/libsasldb.so" "$plugdir/"
sm_mksasldb "$SM_TMP/sasldb2" "$SM_FQDN" nobody unused || fail_all "saslpasswd2 failed"
printf 'rs-secret\n' >"$SM_TMP/rs-secret"
chmod 600 "$SM_TMP/rs-secret" "$SM_TMP/sasldb2"
chown postfix "$SM_TMP/rs-secret" "$SM_TMP/sasldb2" "$SM_TMP/data"
chmod 755 "$SM_TMP"
cat >"$CONF/sasl/smtpdrecv.conf" <<CONFEOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $SM_TMP/sasldb2
mech_list: XOAUTH2
oauth_validation: introspection
oauth_introspection_url: $ISSUER/introspect
oauth_client_id: test-rs
oauth_client_secret_file: $SM_TMP/rs-secret
oauth_introspection_cache_ttl: 0
oauth_issuers: $ISSUER
oauth_audiences: smtp
oauth_required_scopes: mail
oauth_user_claim: sub
CONFEOF
# the sending smtp's options: read at load, before its chroot
cat >"$CONF/sasl/sasl-mechs-client.conf" <<CONFEOF
# read by the XOAUTH2 client plugin when Postfix's smtp starts (as root)
oauth_token_dir: $TOKDIR
oauth_http_timeout: 5000
oauth_proxy: $PROXY
oauth_ca_file: $SM_TMP/ca/idp.pem
CONFEOF
chmod 600 "$CONF/sasl/sasl-mechs-client.conf"

# ---- the token files: one per sender ----------------------------------------
# token_file NAME USER EXPIRES_IN: a new grant for USER at the provider
token_file() {
    idp /grant "{\"user\": \"$2\"}" | python3 -c '
import json, sys, time
g = json.load(sys.stdin)
now = int(time.time())
json.dump({"access_token": g["access_token"], "expires_at": now + int(sys.argv[3]),
           "obtained_at": now + int(sys.argv[3]) - 3600,
           "refresh_token": g["refresh_token"], "token_endpoint": sys.argv[1],
           "client_id": "test-client", "client_secret": "test-secret"}, open(sys.argv[2], "w"))
' "$TOKEN_ENDPOINT" "$TOKDIR/$1" "$3"
}
token_file alice.json alice 60 || fail_all "no grant for alice"
token_file bob.json bob 3000 || fail_all "no grant for bob"
chown -R postfix:postfix "$TOKDIR"
chmod 700 "$TOKDIR"
chmod 600 "$TOKDIR"/*.json
field() { json_field "$2" <"$TOKDIR/$1" 2>/dev/null; }
alice_at0=$(field alice.json access_token) bob_at0=$(field bob.json access_token)

# ---- Postfix: one instance, the receiving smtpd and the chrooted smtp --------
sm_postfix_main_cf "$CONF/main.cf" "mail.$SM_FQDN" "$plugdir"
sm_postfix_smtp_sasl_cf "$CONF/main.cf"
cat >>"$CONF/main.cf" <<CONFEOF
cyrus_sasl_config_path = $CONF/sasl
smtp_sender_dependent_authentication = yes
smtp_sasl_mechanism_filter = xoauth2
smtp_sasl_auth_soft_bounce = yes
# every attempt authenticates: no session reused from an earlier one
smtp_connection_cache_on_demand = no
CONFEOF
echo "relay.test smtp:[127.0.0.1]:$RPORT" >"$CONF/transport"
cat >"$CONF/sasl_passwd" <<CONFEOF
alice@client.example alice:tokenfile:alice.json
bob@client.example bob:tokenfile:bob.json
CONFEOF
sm_postfix_master_cf "$CONF/master.cf" \
    "127.0.0.1:$RPORT inet n - n - - smtpd -o content_filter=discard: -o smtpd_sasl_path=smtpdrecv" \
    "smtp      unix  - - y - - smtp"

if sm_postfix_start "$CONF" "$RPORT"; then
    sm_ok "postfix started: smtpd with our XOAUTH2 server on 127.0.0.1:$RPORT, smtp chrooted"
else
    sm_not_ok "postfix: $SM_POSTFIX_WHY"; sm_diag_file "$LOG"
fi

# ---- cases ---------------------------------------------------------------------
# send NAME: a message from NAME@client.example to bob@relay.test; sets MSGID
send() { sm_relay_send "$CONF" "$1@client.example" "relay-$1"; }
# relayed DESC USER: the message MSGID went out through the smtpd as USER
relayed() { sm_relayed "$LOG" "$RPORT" "$1" "$2"; }
# deferred: waits for the message MSGID's deferral; sets DQID, DLINE
deferred() { sm_relay_deferred "$LOG"; DQID=$SM_DQID DLINE=$SM_DLINE; }
refreshes() { curl -sS -m 20 "$ISSUER/stats" | json_field refreshes 2>/dev/null; }
proxied() {  # CONNECT tunnels through the proxy (https token endpoint)
    curl -sS -m 20 "$PROXY/stats" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"].get("proxy connect", 0))'
}

# 1. alice's token expires within the window: refreshed on the way (through
# the proxy, over https, the CA bundle from memory)
send alice
relayed "alice's message relayed with XOAUTH2 through the chrooted smtp, token refreshed on the way" alice
alice_at1=$(field alice.json access_token)
if [ "$(refreshes)" = 1 ] && [ -n "$alice_at1" ] && [ "$alice_at1" != "$alice_at0" ] &&
    [ "$(stat -c %U:%a "$TOKDIR/alice.json")" = postfix:600 ] && [ "$(proxied)" = 1 ]; then
    sm_ok "alice.json refreshed once over https through oauth_proxy (CONNECT), rewritten in the token folder with its owner and mode"
else
    sm_not_ok "alice.json: $(refreshes) refresh(es), $(proxied) through the proxy, owner:mode $(stat -c %U:%a "$TOKDIR/alice.json")"
    grep -i 'token\|oauth\|sasl' "$LOG" | tail -5 | sed 's/^/# /'
fi

# 2. the smtp that did it ran chrooted in the queue directory, where nothing was copied
roots=
for d in /proc/[0-9]*; do
    [ "$(cat "$d/comm" 2>/dev/null)" = smtp ] || continue
    tr '\0' '\n' <"$d/environ" 2>/dev/null | grep -qx "MAIL_CONFIG=$CONF" || continue
    roots="$roots $(readlink "$d/root")"
done
copied=$(find "$SM_TMP/queue" \( -name '*.json' -o -name '*.conf' -o -name '*.pem' -o -name '*.crt' \) 2>/dev/null)
if [ -n "$roots" ] && [ -z "$(echo "$roots" | tr ' ' '\n' | grep -vx "$SM_TMP/queue" | grep .)" ] &&
    [ -z "$copied" ] && [ ! -e "$SM_TMP/queue$TOKDIR" ] && [ ! -e "$SM_TMP/queue/etc" ]; then
    sm_ok "the smtp client ran chrooted in $SM_TMP/queue, with no token file, configuration or CA there"
else
    sm_not_ok "chroot: smtp processes' roots:${roots:- none found}; copied into the queue: ${copied:-nothing}"
fi

# 3. bob: his own token file, fresh, used as it is
send bob
relayed "bob's message relayed with his own token file (sender-dependent authentication)" bob
if [ "$(field bob.json access_token)" = "$bob_at0" ] && [ "$(refreshes)" = 1 ]; then
    sm_ok "bob.json used as it was, alice's refresh did not touch it: each file refreshed on its own"
else
    sm_not_ok "bob.json changed or refreshes $(refreshes) (wanted 1)"
fi

# 4. alice's token revoked early: refused, deferred (not bounced), recorded
idp /revoke "{\"token\": \"$alice_at1\"}" >/dev/null
send alice
deferred
if [ -n "$DLINE" ] && ! grep -q " $DQID: .*status=bounced" "$LOG" &&
    echo "$DLINE" | grep -q 'SASL authentication failed'; then
    sm_ok "a token revoked early: refused by the smtpd, the message deferred, not bounced"
else
    sm_not_ok "revoked token: no deferral for queue id '$DQID'"
    grep -E "${DQID:-no-such-id}|SASL" "$LOG" | tail -6 | sed 's/^/# /'
fi
if [ "$(field alice.json access_token)" = "$alice_at1" ] &&
    [ "$(field alice.json expires_at)" -le "$(date +%s)" ] && [ "$(refreshes)" = 1 ]; then
    sm_ok "the refusal is recorded in alice.json (expires_at now), no refresh yet"
else
    sm_not_ok "alice.json after the refusal: expires_at $(field alice.json expires_at), refreshes $(refreshes)"
    grep -i 'refused\|token file' "$LOG" | tail -4 | sed 's/^/# /'
fi

# 5. the queue flushed: the deferred message goes out with a refreshed token
postqueue -c "$CONF" -f
relayed "after postqueue -f the deferred message is relayed with a refreshed token" alice
[ "$(refreshes)" = 2 ] || sm_diag "refreshes: $(refreshes) (wanted 2)"

# 6. the refresh token expired (Microsoft's AADSTS700082): the log says what to run.
# A refusal forces at most one refresh per 10 minutes (refused_at): the last
# one is made 11 minutes old, as if that time had passed
python3 -c '
import json, os, sys
f = sys.argv[1]
st = os.stat(f)
with open(f) as fh:
    j = json.load(fh)
j["refused_at"] = j.get("refused_at", 0) - 660
with open(f, "w") as fh:
    json.dump(j, fh)
os.chown(f, st.st_uid, st.st_gid)
os.chmod(f, st.st_mode & 0o7777)' "$TOKDIR/alice.json"
idp /mode '{"token": "aadsts:700082:invalid_grant"}' >/dev/null
idp /revoke "{\"token\": \"$(field alice.json access_token)\"}" >/dev/null
send alice
deferred
postqueue -c "$CONF" -f
for _ in $(seq 100); do
    grep -q "sasl-mechs-token obtain --force --file $TOKDIR/alice.json" "$LOG" && break
    sleep 0.2
done
if grep -q "sasl-mechs-token obtain --force --file $TOKDIR/alice.json" "$LOG" &&
    ! grep -q " $DQID: .*status=bounced" "$LOG" && grep -q "AADSTS700082" "$LOG" &&
    ! grep -qF "$(field alice.json refresh_token)" "$LOG"; then
    sm_ok "an expired refresh token: mail deferred, the log names sasl-mechs-token obtain --force --file $TOKDIR/alice.json"
else
    sm_not_ok "expired refresh token: no log line naming the command"
    grep -E "${DQID:-no-such-id}|SASL|XOAUTH2" "$LOG" | tail -6 | sed 's/^/# /'
fi

if grep -qE 'fatal|panic|segmentation|signal 11' "$LOG" 2>/dev/null; then
    sm_diag "postfix log shows trouble:"; sm_diag_file "$LOG"
fi
sm_done
