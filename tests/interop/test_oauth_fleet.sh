#!/bin/bash
# The OAuth server side at fleet scale, through two real Postfix instances
# (two masters, two configuration and queue directories) whose smtpd
# processes each serve 3 clients and exit (max_use), validating tokens by
# RFC 7662 introspection at the loopback OAuth server
# (tests/oauth/oauth_server.py, which counts the requests), with the
# introspection cache shared through a real memcached.  curl authenticates
# with OAUTHBEARER (--oauth2-bearer).
#   - 12 logins with one token, alternating between the instances: 235 each,
#     and the identity provider asked once in all;
#   - distinct unknown tokens past oauth_introspection_max_per_interval
#     (5 an hour, counted in memcached for both instances): 535 while within
#     it, then 454 (temporary), the bound logged; the valid token still 235;
#   - memcached stopped: a new valid token still 235 on both instances (the
#     provider asked), and the outage is in the mail log.
# Needs root (Postfix's master starts as root) and the packages postfix,
# curl, python3, memcached (scripts/deps.sh).  memcached, the OAuth server
# and both instances listen on 127.0.0.1 only, in a private temporary
# folder, and are stopped on exit (trap), /etc/postfix/main.cf restored.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sm_init
sm_plan 7

USER_NAME=alice@example.test
HOST=mail.$SM_FQDN
mc_pid=
oauth_pid=
teardown() {
    sm_postfix_stop
    [ -n "$mc_pid" ] && kill "$mc_pid" 2>/dev/null && wait "$mc_pid" 2>/dev/null
    [ -n "$oauth_pid" ] && kill "$oauth_pid" 2>/dev/null && wait "$oauth_pid" 2>/dev/null
    sm__cleanup
}
trap teardown EXIT

fail_all() { sm_fail_all "oauth fleet: $1"; }  # every case still planned fails

missing=$(sm_missing_programs postfix curl saslpasswd2 python3 memcached)
[ -z "$missing" ] || fail_all "missing programs: $missing (scripts/deps.sh installs them)"
[ "$(id -u)" -eq 0 ] || fail_all "must run as root (Postfix's master starts as root)"

# ---- memcached and the OAuth server, on loopback -----------------------------
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
MPORT=$(free_port)
memcached -l 127.0.0.1 -p "$MPORT" -U 0 -m 16 -u root >"$SM_TMP/memcached.log" 2>&1 &
mc_pid=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$MPORT") 2>/dev/null && break; sleep 0.1; done
SM_OAUTH_USER=$USER_NAME sm_oauth_server_start smtp --lifetime 900
oauth_pid=$SM_OAUTH_PID SPORT=$SM_OAUTH_PORT
ISSUER=http://127.0.0.1:$SPORT
if (exec 3<>"/dev/tcp/127.0.0.1/$MPORT") 2>/dev/null && [ -n "$SPORT" ]; then
    sm_ok "memcached on 127.0.0.1:$MPORT and the loopback OAuth server on $SPORT"
else
    sm_not_ok "memcached or the OAuth server did not start"
    sm_diag_file "$SM_TMP/memcached.log"; sm_diag_file "$SM_TMP/oauth-server.log"
    fail_all "no memcached or OAuth server"
fi
introspections() {
    curl -s -m 20 "$ISSUER/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["introspections"])'
}
grant() {
    curl -s -m 20 -X POST -d "{\"user\":\"$USER_NAME\"}" "$ISSUER/grant" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

# ---- two Postfix instances ------------------------------------------------------
plugdir=$SM_TMP/plugins
mkdir -p "$plugdir"
ln -s "$(sm_plugin_file ours OAUTHBEARER)" "$plugdir/" || fail_all "no OAUTHBEARER plugin"
ln -s "$SM_SYSTEM_PLUGIN_DIR/libsasldb.so" "$plugdir/"
sm_mksasldb "$SM_TMP/sasldb2" "$HOST" nobody-here "unused pw" || fail_all "saslpasswd2 failed"
chmod 755 "$SM_TMP"
(umask 077 && printf 'rs-secret\n' >"$SM_TMP/rs-secret" &&
    head -c 48 /dev/urandom | base64 >"$SM_TMP/icache-key")
chown postfix "$SM_TMP/rs-secret" "$SM_TMP/icache-key" "$SM_TMP/sasldb2"
PORTS=()
CONFS=()
for i in 1 2; do
    conf=$SM_TMP/postfix$i
    port=$(free_port)
    mkdir -p "$conf/sasl" "$SM_TMP/queue$i" "$SM_TMP/data$i"
    chown postfix "$SM_TMP/data$i"
    sm_postfix_main_cf "$conf/main.cf" "$HOST" "$plugdir"
    sed -i -e "s|^queue_directory = .*|queue_directory = $SM_TMP/queue$i|" \
        -e "s|^data_directory = .*|data_directory = $SM_TMP/data$i|" \
        -e "s|^maillog_file = .*|maillog_file = $SM_TMP/maillog$i|" "$conf/main.cf"
    cat >"$conf/sasl/smtpd.conf" <<CONFEOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $SM_TMP/sasldb2
mech_list: OAUTHBEARER
oauth_validation: introspection
oauth_issuers: $ISSUER
oauth_audiences: smtp
oauth_required_scopes: mail
oauth_introspection_url: $ISSUER/introspect
oauth_client_id: test-rs
oauth_client_secret_file: $SM_TMP/rs-secret
oauth_introspection_cache_server: memcached://127.0.0.1:$MPORT
oauth_introspection_cache_key_file: $SM_TMP/icache-key
oauth_introspection_max_per_interval: 5
oauth_introspection_interval: 3600
CONFEOF
    { echo "127.0.0.1:$port inet n - n - 2 smtpd -o content_filter=discard: -o max_use=3"
      sm_postfix_master_services; } >"$conf/master.cf"
    PORTS+=("$port")
    CONFS+=("$conf")
done
ok=1
for i in 0 1; do
    sm_postfix_start "${CONFS[$i]}" "${PORTS[$i]}" || { ok=0; sm_diag "$SM_POSTFIX_WHY"; }
done
if [ $ok = 1 ]; then
    sm_ok "two Postfix instances on 127.0.0.1:${PORTS[0]} and :${PORTS[1]}"
else
    sm_not_ok "the Postfix instances did not both start"
    sm_diag_file "$SM_TMP/maillog1"; sm_diag_file "$SM_TMP/maillog2"
    fail_all "no Postfix"
fi

# curl_oauth INSTANCE TOKEN LOG: exit status 0 when accepted
curl_oauth() {
    sm_curl_smtp "${PORTS[$1]}" "$3" alice@client.example --user "$USER_NAME" \
        --oauth2-bearer "$2" --login-options "AUTH=OAUTHBEARER"
}
reply() { grep -qE "^< $1[ -]" "$2"; }
# the bound counts per hour: not across an hour's end
while [ $(( $(date +%s) % 3600 )) -gt 3540 ]; do sleep 5; done

# ---- one token, 12 logins, two instances, processes replaced every 3 -------------
TOKEN=$(grant)
before=$(introspections)
bad=
for n in $(seq 12); do
    i=$((n % 2)) log=$SM_TMP/shared-$n.log
    if ! curl_oauth "$i" "$TOKEN" "$log" || ! reply 235 "$log"; then bad=$log; break; fi
done
after=$(introspections)
if [ -z "$bad" ] && [ "$after" -eq $((before + 1)) ]; then
    sm_ok "12 logins with one token over two Postfix instances (smtpd max_use 3): 235 each, the identity provider asked once"
else
    sm_not_ok "shared cache: failed login or $((after - before)) introspection requests (1 expected)"
    [ -n "$bad" ] && sm_diag_file "$bad"
fi

# ---- the bound: 5 requests an hour for both instances; 1 used ----------------------
codes=()
for n in 1 2 3 4 5 6; do
    log=$SM_TMP/flood-$n.log
    curl_oauth $((n % 2)) "unknown-token-$n-$$" "$log"
    if reply 454 "$log"; then codes+=(454); elif reply 535 "$log"; then codes+=(535); else codes+=(other); fi
done
if [ "${codes[*]}" = "535 535 535 535 454 454" ] && grep -q "introspection bound reached" "$SM_TMP/maillog1" "$SM_TMP/maillog2"; then
    sm_ok "distinct unknown tokens: 535 within the bound (4 more requests), then 454 on both instances; the bound logged"
else
    sm_not_ok "distinct unknown tokens: got ${codes[*]} (535 535 535 535 454 454 expected)"
    sm_diag_file "$SM_TMP/flood-5.log"
    sm_diag "$(grep -h "bound" "$SM_TMP/maillog1" "$SM_TMP/maillog2")"
fi
log=$SM_TMP/after-bound.log
if curl_oauth 0 "$TOKEN" "$log" && reply 235 "$log"; then
    sm_ok "past the bound, the valid token in the shared cache still authenticates (235)"
else
    sm_not_ok "past the bound, the cached valid token was refused"; sm_diag_file "$log"
fi

# ---- memcached stopped ----------------------------------------------------------------
kill "$mc_pid" 2>/dev/null; wait "$mc_pid" 2>/dev/null; mc_pid=
TOKEN2=$(grant)
bad=
for i in 0 1; do
    log=$SM_TMP/down-$i.log
    if ! curl_oauth "$i" "$TOKEN2" "$log" || ! reply 235 "$log"; then bad=$log; fi
done
if [ -z "$bad" ]; then
    sm_ok "memcached stopped: a valid token still authenticates on both instances (235, the provider asked)"
else
    sm_not_ok "memcached stopped: a valid token was refused"; sm_diag_file "$bad"
fi
if grep -h "shared introspection cache" "$SM_TMP/maillog1" "$SM_TMP/maillog2" >"$SM_TMP/outage.txt"; then
    sm_ok "the outage is in the mail log ($(wc -l <"$SM_TMP/outage.txt") lines for 2 logins)"
    sm_diag "$(head -n 2 "$SM_TMP/outage.txt")"
else
    sm_not_ok "the memcached outage is not in the mail log"; sm_diag_file "$SM_TMP/maillog1"
fi
sm_done
