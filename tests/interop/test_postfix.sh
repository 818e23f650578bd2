#!/bin/bash
# A real MTA end to end: Postfix smtpd on a loopback port, with a private
# configuration directory, Cyrus SASL enabled, and libsasl2 pointed at our
# plugins only.  Independent clients (curl, gsasl, swaks) authenticate with
# every mechanism they support; a wrong password must get 535 from each.
# Then Postfix's own smtp client relays through that smtpd with each
# mechanism (our client plugins), as a site relaying to its provider would.
# XOAUTH2 and OAUTHBEARER: two more smtpd listeners (their own SASL
# configuration) validate tokens from the loopback OAuth server
# (tests/oauth/oauth_server.py: the JWKS URL, the token endpoint); curl
# authenticates with --oauth2-bearer (gsasl 2.2 and swaks 20201014, Debian
# 12's, have neither mechanism), and Postfix's smtp client relays with a
# token file that it refreshes on the way (exactly one refresh).
# NTLM: more smtpd listeners, one with the default configuration (NTLMv2
# with a MIC only) and one with ntlm_allow_v1 and ntlm_allow_v2_without_mic.
# curl sends NTLMv2 without a MIC: refused (535) by default, accepted with
# the option (its response carries our CHALLENGE's timestamp); gsasl
# (libntlm) and swaks (Authen::NTLM) send NTLMv1 and are refused (535)
# without ntlm_allow_v1, accepted with it; a wrong password gets 535 from
# each; each case reads the AUTHENTICATE off the client's transcript
# and checks it is the protocol the case names.  Postfix's smtp client relays
# with NTLM (our client plugin, NTLMv2).
# Needs root (Postfix's master starts as root) and the packages postfix,
# curl, gsasl, swaks, python3 (scripts/deps.sh).  Everything is torn down on
# exit.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sm_init

MECHS=(PLAIN LOGIN CRAM-MD5)
CLIENTS=(curl gsasl swaks)
OAUTH_MECHS=(XOAUTH2 OAUTHBEARER)
NTLM_CASES=16
USER_NAME=alice
NTLM_UNAME=$(printf 'j\xc3\xbcrgen')  # a second user, for NTLM: not ASCII
PASS='s3cret pass'
HOST=mail.$SM_FQDN
# password mechanisms: start, clients x (right, wrong), relays; OAuth: the
# loopback server, curl x 2 mechanisms x (right, wrong), relays, one refresh;
# NTLM: NTLM_CASES (clients x options x (right, wrong), an unknown user, the CHALLENGE
# names, four relays)
sm_plan $(( 1 + ${#MECHS[@]} * ${#CLIENTS[@]} * 2 + ${#MECHS[@]} + 1 + 4 + ${#OAUTH_MECHS[@]} + 1 + NTLM_CASES ))

CONF=$SM_TMP/postfix

# Postfix and the default main.cf: sm_init's cleanup (sm_postfix_stop)
oauth_pid=
teardown() {
    [ -n "$oauth_pid" ] && kill "$oauth_pid" 2>/dev/null && wait "$oauth_pid" 2>/dev/null
    sm__cleanup
}
trap teardown EXIT

fail_all() { sm_fail_all "postfix: $1"; }  # every case still planned fails

missing=$(sm_missing_programs postfix postconf curl gsasl swaks saslpasswd2 python3)
[ -z "$missing" ] || fail_all "missing programs: $missing (scripts/deps.sh installs them)"
[ "$(id -u)" -eq 0 ] || fail_all "must run as root (Postfix's master starts as root)"
PORT=$(( 20000 + RANDOM % 20000 ))
OPORT=$((PORT + 1))   # smtpd offering XOAUTH2 and OAUTHBEARER
XPORT=$((PORT + 2))   # smtpd offering XOAUTH2 only (curl prefers OAUTHBEARER)
NPORT=$((PORT + 3))   # smtpd offering NTLM, default options (NTLMv2 only)
N1PORT=$((PORT + 4))  # smtpd offering NTLM with ntlm_allow_v1 and ntlm_allow_v2_without_mic
NCPORT=$((PORT + 5))  # smtpd offering NTLM, chrooted (to the queue directory), ntlm_allow_v2_without_mic
NDPORT=$((PORT + 6))  # smtpd offering NTLM, default options: the DOMAIN\user relay

# ---- plugins, secrets and the SASL configuration --------------------------
plugdir=$SM_TMP/plugins
mkdir -p "$plugdir" "$CONF/sasl" "$SM_TMP/queue" "$SM_TMP/data"
for m in "${MECHS[@]}" "${OAUTH_MECHS[@]}" NTLM; do
    ln -s "$(sm_plugin_file ours "$m")" "$plugdir/" || fail_all "no plugin for $m"
done
ln -s "$SM_SYSTEM_PLUGIN_DIR/libsasldb.so" "$plugdir/"
sm_mksasldb "$SM_TMP/sasldb2" "$HOST" "$USER_NAME" "$PASS" || fail_all "saslpasswd2 failed"
sm_mksasldb "$SM_TMP/sasldb2" "$HOST" "$NTLM_UNAME" "$PASS" || fail_all "saslpasswd2 failed"
# the chrooted smtpd opens the sasldb inside its chroot (the queue directory),
# at the same path as the others outside it (checked there at start-up)
mkdir -p "$SM_TMP/queue$SM_TMP"
cp -p "$SM_TMP/sasldb2" "$SM_TMP/queue$SM_TMP/sasldb2"
chown postfix "$SM_TMP/queue$SM_TMP/sasldb2"
chmod 755 "$SM_TMP"
chown postfix "$SM_TMP/sasldb2" "$SM_TMP/data"
cat >"$CONF/sasl/smtpd.conf" <<CONFEOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $SM_TMP/sasldb2
mech_list: ${MECHS[*]}
CONFEOF

# the NTLM smtpds: the names the CHALLENGE announces, NTLMv1 off or on, and
# NTLMv2 without a MIC (curl) off or on: name:allow_v1:allow_v2_without_mic
NB_DOMAIN=SMTEST
DNS_COMPUTER=$HOST
for app in smtpdntlm:no:no smtpdntlmv1:yes:yes smtpdntlmchroot:no:yes; do
    nomic=${app##*:}
    app=${app%:*}
    cat >"$CONF/sasl/${app%%:*}.conf" <<CONFEOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $SM_TMP/sasldb2
mech_list: NTLM
ntlm_allow_v1: ${app#*:}
ntlm_allow_v2_without_mic: $nomic
ntlm_netbios_domain: $NB_DOMAIN
ntlm_netbios_computer: MAIL
ntlm_dns_domain: $SM_FQDN
ntlm_dns_computer: $DNS_COMPUTER
CONFEOF
done

# ---- the loopback OAuth server, and the OAuth smtpds' SASL configuration ----
SM_OAUTH_USER=$USER_NAME sm_oauth_server_start smtp --lifetime 900
mint=$SM_OAUTH_MINT oauth_pid=$SM_OAUTH_PID SPORT=$SM_OAUTH_PORT
[ -x "$mint" ] || fail_all "cannot build tests/oauth/oauth_mint"
ISSUER=http://127.0.0.1:$SPORT
for app in smtpdoauth:"XOAUTH2 OAUTHBEARER" smtpdxo:XOAUTH2; do
    cat >"$CONF/sasl/${app%%:*}.conf" <<CONFEOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $SM_TMP/sasldb2
mech_list: ${app#*:}
oauth_issuers: $ISSUER
oauth_audiences: smtp
oauth_required_scopes: mail
oauth_user_claim: sub
oauth_jwks_url: $ISSUER/jwks
CONFEOF
done

# ---- Postfix: main.cf, master.cf ---------------------------------------
sm_postfix_main_cf "$CONF/main.cf" "$HOST" "$plugdir"
# the client side: mail for *.relay.test goes through our own smtpd, with SASL
sm_postfix_smtp_sasl_cf "$CONF/main.cf"
echo "[127.0.0.1]:$PORT $USER_NAME:$PASS" >"$CONF/sasl_passwd"
# one transport per mechanism (master.cf below), so no reload between cases:
# mail for <stem>.relay.test leaves through relay-<stem>, which offers only MECH
: >"$CONF/transport"
for m in "${MECHS[@]}"; do
    echo "$(sm_mech_stem "$m").relay.test relay-$(sm_mech_stem "$m"):[127.0.0.1]:$PORT" >>"$CONF/transport"
done
cat >"$CONF/master.cf" <<CONFEOF
127.0.0.1:$PORT inet n - n - - smtpd -o content_filter=discard:
127.0.0.1:$OPORT inet n - n - - smtpd -o content_filter=discard: -o smtpd_sasl_path=smtpdoauth
127.0.0.1:$XPORT inet n - n - - smtpd -o content_filter=discard: -o smtpd_sasl_path=smtpdxo
127.0.0.1:$NPORT inet n - n - - smtpd -o content_filter=discard: -o smtpd_sasl_path=smtpdntlm
127.0.0.1:$N1PORT inet n - n - - smtpd -o content_filter=discard: -o smtpd_sasl_path=smtpdntlmv1
127.0.0.1:$NCPORT inet n - y - - smtpd -o content_filter=discard: -o smtpd_sasl_path=smtpdntlmchroot
127.0.0.1:$NDPORT inet n - n - - smtpd -o content_filter=discard: -o smtpd_sasl_path=smtpdntlm
CONFEOF
sm_postfix_master_cf "$CONF/master.cf"
for m in "${MECHS[@]}" "${OAUTH_MECHS[@]}" NTLM; do
    printf 'relay-%s unix - - n - - smtp -o smtp_sasl_mechanism_filter=%s\n' "$(sm_mech_stem "$m")" "$m" >>"$CONF/master.cf"
done
# the NTLM relay goes to the default NTLM smtpd (NTLMv2 only)
echo "ntlm.relay.test relay-ntlm:[127.0.0.1]:$NPORT" >>"$CONF/transport"
echo "[127.0.0.1]:$NPORT $USER_NAME:$PASS" >>"$CONF/sasl_passwd"
# the authname in the form DOMAIN\user (our client splits it)
echo "ntlmdom.relay.test relay-ntlm:[127.0.0.1]:$NDPORT" >>"$CONF/transport"
echo "[127.0.0.1]:$NDPORT $NB_DOMAIN\\$USER_NAME:$PASS" >>"$CONF/sasl_passwd"
# and the UTF-8 user's, to the NTLMv1-allowing smtpd and to the chrooted one
for p in "$N1PORT:ntlmu" "$NCPORT:ntlmchroot"; do
    echo "${p#*:}.relay.test relay-ntlm:[127.0.0.1]:${p%%:*}" >>"$CONF/transport"
    echo "[127.0.0.1]:${p%%:*} $NTLM_UNAME:$PASS" >>"$CONF/sasl_passwd"
done
# the OAuth relays go to the OAuth smtpd, with a token file as the password
for m in "${OAUTH_MECHS[@]}"; do
    echo "$(sm_mech_stem "$m").relay.test relay-$(sm_mech_stem "$m"):[127.0.0.1]:$OPORT" >>"$CONF/transport"
done
tokdir=$SM_TMP/oauth
mkdir -p "$tokdir"
echo "[127.0.0.1]:$OPORT $USER_NAME:tokenfile:$tokdir/token.json" >>"$CONF/sasl_passwd"

if sm_postfix_start "$CONF" "$PORT"; then
    sm_ok "postfix started on 127.0.0.1:$PORT with our plugins"
else
    sm_not_ok "postfix: $SM_POSTFIX_WHY"
    sm_diag_file "$SM_TMP/maillog"
fi

# ---- clients --------------------------------------------------------------
# each: client MECH PASSWORD LOG; exit status 0 when the server accepted
client_curl() {
    sm_curl_smtp "$PORT" "$3" "$USER_NAME@client.example" --user "$USER_NAME:$2" \
        --login-options "AUTH=$1"
}
client_gsasl() {
    timeout "$SM_TIMEOUT" gsasl --smtp --connect "127.0.0.1:$PORT" --no-starttls \
        -m "$1" -a "$USER_NAME" -p "$2" -r "$HOST" </dev/null >"$3" 2>&1
}
client_swaks() {
    timeout "$SM_TIMEOUT" swaks --server "127.0.0.1:$PORT" --auth "$1" \
        --auth-user "$USER_NAME" --auth-password "$2" --from "$USER_NAME@client.example" \
        --to bob@remote.example --quit-after AUTH >"$3" 2>&1
}

# reply CODE LOG: the server's reply CODE is in a client's transcript (curl -v
# "< 235 ...", gsasl "235 ...", swaks "<-  235 ..." or "<** 535 ..."), not just three digits
# of a port number
reply() { grep -qE "^(< |<[-*~]+ +)?$1[ -]" "$2"; }
for m in "${MECHS[@]}"; do
    for c in "${CLIENTS[@]}"; do
        log=$SM_TMP/$c-$m.log
        if "client_$c" "$m" "$PASS" "$log" && reply 235 "$log"; then
            sm_ok "$c $m: authenticated (235)"
        else
            sm_not_ok "$c $m: authentication failed"; sm_diag_file "$log"
        fi
        log=$SM_TMP/$c-$m-wrong.log
        if ! "client_$c" "$m" "wrong $PASS" "$log" && reply 535 "$log"; then
            sm_ok "$c $m: wrong password refused with 535"
        else
            sm_not_ok "$c $m: wrong password not refused with 535"; sm_diag_file "$log"
        fi
    done
done
# ---- NTLM: curl (NTLMv2), gsasl and swaks (NTLMv1), NTLMv1 off and on ------------
# ntlm_client CLIENT PORT PASSWORD LOG MSGID: as client_* above, against the
# NTLM smtpd on PORT; curl and swaks send a message with Message-ID MSGID
# (gsasl only authenticates).  libntlm needs a domain (-r), else it reads
# one from stdin.
ntlm_client() {
    local c=$1 port=$2 pass=$3 log=$4 msgid=$5
    case $c in
        curl)
            SM_MSGID=$msgid sm_curl_smtp "$port" "$log" "$USER_NAME@client.example" \
                --user "$USER_NAME:$pass" --login-options AUTH=NTLM ;;
        gsasl)
            timeout "$SM_TIMEOUT" gsasl --smtp --connect "127.0.0.1:$port" --no-starttls \
                -m NTLM -a "$USER_NAME" -p "$pass" -r "$NB_DOMAIN" </dev/null >"$log" 2>&1 ;;
        swaks)
            timeout "$SM_TIMEOUT" swaks --server "127.0.0.1:$port" --auth NTLM \
                --auth-user "$USER_NAME" --auth-password "$pass" \
                --from "$USER_NAME@client.example" --to bob@remote.example \
                --header "Message-ID: <$msgid>" >"$log" 2>&1 ;;
    esac
}
# ntlm_logged MSGID: smtpd's line for the message with that Message-ID names
# NTLM and the user (the message is followed by its queue id, as relay_ids does)
ntlm_logged() {
    local q a
    for _ in $(seq 50); do
        q=$(sed -n "s/.*: \([0-9A-Za-z]*\): message-id=<$1>.*/\1/p" "$SM_TMP/maillog" | head -n 1)
        [ -n "$q" ] && break
        sleep 0.1
    done
    [ -n "$q" ] || { ntlm_why="no cleanup line for message-id <$1>"; return 1; }
    a=$(sed -n "s/.*smtpd\[[0-9]*\]: $q: \(client=.*\)/\1/p" "$SM_TMP/maillog" | head -n 1)
    if [ "${a#client=*\], }" != "sasl_method=NTLM, sasl_username=$USER_NAME" ]; then
        ntlm_why="queue id $q: smtpd logged '$a' (wanted sasl_method=NTLM, sasl_username=$USER_NAME)"
        return 1
    fi
}
# ntlm_case DESC CLIENT PORT PASSWORD EXPECT PROTO: EXPECT 235 or 535; PROTO
# v1 or v2, what the client's AUTHENTICATE must carry (NT response of 24
# bytes, or more)
ntlm_case() {
    local desc=$1 c=$2 port=$3 pass=$4 expect=$5 proto=$6 log msgid ntlen
    log=$SM_TMP/ntlm-$c-$port-$expect-$USER_NAME.log
    msgid="ntlm-$c-$port-$expect-$$-$RANDOM@client.example"
    ntlm_client "$c" "$port" "$pass" "$log" "$msgid"
    ntlen=$(grep -o 'TlRMTVNTUAAD[A-Za-z0-9+/=]*' "$log" | sm_ntlm_nt_len)
    ntlm_why=
    if [ -z "$ntlen" ]; then
        ntlm_why="no AUTHENTICATE message in the client's transcript"
    elif { [ "$proto" = v2 ] && [ "$ntlen" -le 24 ]; } ||
        { [ "$proto" = v1 ] && [ "$ntlen" -ne 24 ]; }; then
        ntlm_why="the client's NT response is $ntlen bytes: not NTLM$proto"
    elif ! reply "$expect" "$log" || { [ "$expect" = 535 ] && reply 235 "$log"; }; then
        ntlm_why="no $expect reply"
    elif [ "$expect" = 235 ] && [ "$c" != gsasl ]; then
        ntlm_logged "$msgid"
    fi
    if [ -z "$ntlm_why" ]; then
        sm_ok "$desc (NT response $ntlen bytes)"
    else
        sm_not_ok "$desc" "$ntlm_why"
        sm_diag_file "$log"
    fi
}
# the CHALLENGE curl received announces the configured names (UTF-16LE in
# its target info)
utf16hex() { printf '%s' "$1" | iconv -t UTF-16LE | od -An -tx1 -v | tr -d ' \n'; }
ntlm_case "curl NTLM (NTLMv2 without a MIC): refused with 535 by default (ntlm_allow_v2_without_mic off)" \
    curl "$NPORT" "$PASS" 535 v2
chal=$(grep -o 'TlRMTVNTUAAC[A-Za-z0-9+/=]*' "$SM_TMP/ntlm-curl-$NPORT-535-$USER_NAME.log" | head -n 1 |
    base64 -d 2>/dev/null | od -An -tx1 -v | tr -d ' \n')
unnamed=
for name in "$NB_DOMAIN" MAIL "$SM_FQDN" "$DNS_COMPUTER"; do
    case $chal in
        *"$(utf16hex "$name")"*) ;;
        *) unnamed="$unnamed '$name'" ;;
    esac
done
if [ -z "$chal" ]; then
    sm_not_ok "NTLM CHALLENGE names the configured computer and domain" "no CHALLENGE in curl's transcript"
elif [ -n "$unnamed" ]; then
    sm_not_ok "NTLM CHALLENGE names the configured computer and domain" \
        "the CHALLENGE curl received lacks$unnamed (ntlm_netbios_domain, ntlm_netbios_computer, ntlm_dns_domain, ntlm_dns_computer): $chal"
else
    sm_ok "NTLM CHALLENGE names the configured computer and domain ($NB_DOMAIN, MAIL, $SM_FQDN, $DNS_COMPUTER)"
fi
ntlm_case "curl NTLM: wrong password refused with 535, ntlm_allow_v2_without_mic: yes" curl \
    "$N1PORT" "wrong $PASS" 535 v2
ntlm_case "gsasl NTLM (libntlm, NTLMv1): refused with 535, ntlm_allow_v1 off" gsasl "$NPORT" \
    "$PASS" 535 v1
ntlm_case "gsasl NTLM (libntlm, NTLMv1): authenticated (235) with ntlm_allow_v1: yes" gsasl \
    "$N1PORT" "$PASS" 235 v1
ntlm_case "gsasl NTLM: wrong password refused with 535, ntlm_allow_v1: yes" gsasl "$N1PORT" \
    "wrong $PASS" 535 v1
ntlm_case "swaks NTLM (Authen::NTLM, NTLMv1): refused with 535, ntlm_allow_v1 off" swaks \
    "$NPORT" "$PASS" 535 v1
ntlm_case "swaks NTLM (Authen::NTLM, NTLMv1): authenticated (235) with ntlm_allow_v1: yes" swaks \
    "$N1PORT" "$PASS" 235 v1
ntlm_case "swaks NTLM: wrong password refused with 535, ntlm_allow_v1: yes" swaks "$N1PORT" \
    "wrong $PASS" 535 v1
ntlm_case "curl NTLM: NTLMv2 without a MIC (our timestamp echoed) authenticated (235) with ntlm_allow_v2_without_mic: yes, still NTLMv2 where ntlm_allow_v1: yes" \
    curl "$N1PORT" "$PASS" 235 v2
# an unknown user is refused exactly as a wrong password
USER_NAME=nosuchuser ntlm_case "curl NTLM: an unknown user refused with 535" curl "$N1PORT" \
    "$PASS" 535 v2
# the chrooted smtpd reads its sasldb and authenticates an ASCII name
ntlm_case "curl NTLM: NTLMv2 authenticated (235) by a chrooted smtpd, ntlm_allow_v2_without_mic: yes" \
    curl "$NCPORT" "$PASS" 235 v2

# ---- XOAUTH2 and OAUTHBEARER with curl ----------------------------------------
if [ -n "$SPORT" ] && curl -sf "$ISSUER/jwks" >/dev/null; then
    sm_ok "loopback OAuth server on $ISSUER"
else
    sm_not_ok "loopback OAuth server did not start"; sm_diag_file "$SM_TMP/oauth-server.log"
fi
# grant [USER]: a new access and refresh token for USER from the server
grant() {
    curl -sS -m 20 -X POST -d "{\"user\":\"${1:-$USER_NAME}\"}" "$ISSUER/grant"
}
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
TOKEN=$(grant | json_field access_token 2>/dev/null)
# a token signed with a key the JWKS does not hold: refused (535)
BAD_TOKEN=$("$mint" sign --keys "$SM_TMP/oauth-keys" --kid ec256 --ttl 600 \
    --claims "{\"iss\":\"$ISSUER\",\"aud\":\"smtp\",\"sub\":\"$USER_NAME\",\"scope\":\"mail\"}" \
    --header '{"kid":"not-in-the-set"}' 2>/dev/null)
curl_oauth() {  # curl_oauth PORT MECH TOKEN LOG
    sm_curl_smtp "$1" "$4" "$USER_NAME@client.example" --user "$USER_NAME" \
        --oauth2-bearer "$3" --login-options "AUTH=$2"
}
for m in "${OAUTH_MECHS[@]}"; do
    # curl prefers OAUTHBEARER whenever it is offered: XOAUTH2 on its own port
    p=$OPORT; [ "$m" = XOAUTH2 ] && p=$XPORT
    log=$SM_TMP/curl-$m.log
    if [ -n "$TOKEN" ] && curl_oauth "$p" "$m" "$TOKEN" "$log" && reply 235 "$log" &&
        grep -q "AUTH $m" "$log"; then
        sm_ok "curl --oauth2-bearer $m: authenticated (235)"
    else
        sm_not_ok "curl --oauth2-bearer $m: authentication failed"; sm_diag_file "$log"
    fi
    log=$SM_TMP/curl-$m-bad.log
    curl_oauth "$p" "$m" "${BAD_TOKEN:-x.y.z}" "$log"
    if [ "$m" = OAUTHBEARER ] && reply 535 "$log" && ! reply 235 "$log"; then
        sm_ok "curl $m: token signed by an unknown key refused with 535 after the error challenge"
    elif [ "$m" = XOAUTH2 ] && grep -q '^< 334 ' "$log" && ! reply 235 "$log" &&
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        # curl does not answer XOAUTH2's error challenge: it disconnects
        sm_ok "curl $m: bad token gets the error challenge; curl disconnects and smtpd carries on"
    else
        sm_not_ok "curl $m: bad token not refused as it should be"; sm_diag_file "$log"
    fi
done

# the token file Postfix's smtp client reads (its password is
# "tokenfile:PATH"): expiring in a minute, so the first relay refreshes it
if grant | python3 -c '
import json, sys, time
g = json.load(sys.stdin)
json.dump({"access_token": g["access_token"], "expires_at": int(time.time()) + 60,
           "refresh_token": g["refresh_token"], "token_endpoint": sys.argv[1] + "/token",
           "client_id": "test-client", "client_secret": "test-secret"}, open(sys.argv[2], "w"))
' "$ISSUER" "$tokdir/token.json"; then
    chown -R postfix:postfix "$tokdir"; chmod 700 "$tokdir"; chmod 600 "$tokdir/token.json"
fi
old_access=$(json_field access_token <"$tokdir/token.json" 2>/dev/null)

# ---- Postfix's smtp client relaying with each mechanism -------------------
# Each message is followed through the log by its own identifiers, never by
# lines that earlier cases wrote: its Message-ID gives the local queue id
# (cleanup), that queue id's delivery line gives the relay's answer "queued
# as REMOTE_ID" (smtp client), and smtpd's line for REMOTE_ID must name the
# mechanism filtered for and the user.
# relay_ids MSGID RCPT [PORT]: sets qid, rid and auth from the log (the relay
# through the smtpd on PORT); returns 0 once
# the whole chain is there
relay_ids() {
    local r
    sm_postfix_relay_ids "$SM_TMP/maillog" "$1" "$2" "${3:-$PORT}"
    r=$?
    qid=$SM_QID rid=$SM_RID auth=$SM_AUTH
    return $r
}
# relay_case DESC MECH RCPT PORT USER: a message to RCPT leaves through the
# smtp client with MECH and reaches the smtpd on PORT, which logs MECH and USER
relay_case() {
    local desc=$1 m=$2 rcpt=$3 rport=$4 user=$5 msgid
    msgid="relay-$m-$rport-$$-$RANDOM@client.example"
    printf 'Message-ID: <%s>\nSubject: relay %s\n\nhello\n' "$msgid" "$m" |
        sendmail -C "$CONF" -f "$USER_NAME@client.example" "$rcpt"
    for _ in $(seq 100); do
        relay_ids "$msgid" "$rcpt" "$rport" && break
        sleep 0.2
    done
    if [ -z "$qid" ]; then
        sm_not_ok "$desc" "no cleanup line for message-id <$msgid>"
        sm_diag_file "$SM_TMP/maillog"
    elif [ -z "$rid" ]; then
        sm_not_ok "$desc" "queue id $qid: no status=sent through 127.0.0.1:$rport"
        grep " $qid: " "$SM_TMP/maillog" | sed 's/^/# /'
    elif [ "${auth#client=*\], }" != "sasl_method=$m, sasl_username=$user" ]; then
        sm_not_ok "$desc" \
            "queue id $qid, queued by smtpd as $rid, which logged: $auth (wanted sasl_method=$m, sasl_username=$user)"
    else
        sm_ok "$desc (queue id $qid; smtpd queued it as $rid with sasl_method=$m, sasl_username=$user)"
    fi
}
for m in "${MECHS[@]}" "${OAUTH_MECHS[@]}" NTLM; do
    rport=$PORT
    case $m in XOAUTH2|OAUTHBEARER) rport=$OPORT ;; NTLM) rport=$NPORT ;; esac
    relay_case "postfix smtp client relayed with $m" "$m" "bob@$(sm_mech_stem "$m").relay.test" \
        "$rport" "$USER_NAME"
done
# NTLMv2 with a user name outside ASCII: both sides upper-case it (NTOWFv2),
# also in a chrooted smtpd (Debian's default), where no locale files exist
relay_case "postfix smtp client relayed with NTLM as $NB_DOMAIN\\$USER_NAME (authenticated as $USER_NAME)" \
    NTLM "bob@ntlmdom.relay.test" "$NDPORT" "$USER_NAME"
relay_case "postfix smtp client relayed with NTLM as $NTLM_UNAME" NTLM \
    "bob@ntlmu.relay.test" "$N1PORT" "$NTLM_UNAME"
relay_case "postfix smtp client relayed with NTLM as $NTLM_UNAME to a chrooted smtpd" NTLM \
    "bob@ntlmchroot.relay.test" "$NCPORT" "$NTLM_UNAME"

# the two OAuth relays: one refresh between them, the file rewritten
refreshes=$(curl -sS -m 20 "$ISSUER/stats" | json_field refreshes 2>/dev/null)
new_access=$(json_field access_token <"$tokdir/token.json" 2>/dev/null)
if [ "$refreshes" = 1 ] && [ -n "$new_access" ] && [ "$new_access" != "$old_access" ] &&
    [ "$(stat -c %U:%a "$tokdir/token.json")" = postfix:600 ]; then
    sm_ok "token file refreshed exactly once for the two relays, rewritten with its owner and mode"
else
    sm_not_ok "token file: $refreshes refresh(es), access token changed: $([ "$new_access" != "$old_access" ] && echo yes || echo no), owner:mode $(stat -c %U:%a "$tokdir/token.json")"
    grep -i 'token file\|oauth' "$SM_TMP/maillog" | tail -5 | sed 's/^/# /'
fi

if grep -qE 'fatal|panic|segmentation|signal 11' "$SM_TMP/maillog" 2>/dev/null; then
    sm_diag "postfix log shows trouble:"; sm_diag_file "$SM_TMP/maillog"
fi
sm_done
