#!/bin/bash
# Identity-provider requests per 1,000 logins over two Postfix instances
# (issue 17), the second half of tests/bench/idp.sh, which runs it (under
# flock /tmp/sm-heavy.lock) when it runs as root and Postfix is installed.
# Two Postfix instances (private configuration and queue folders, 127.0.0.1
# only) each offer XOAUTH2 through our plugin on an smtpd whose processes
# serve BENCH_IDP_POSTFIX_MAX_USE clients each (max_use, default 50) before
# they exit; curl logs in (--oauth2-bearer) BENCH_IDP_LOGINS times (1000),
# alternating between the instances, BENCH_IDP_PARALLEL at a time (4), and
# sends a message (discarded).  The keys come from the loopback OAuth server
# (tests/oauth/oauth_server.py), which counts the key set requests; each
# configuration starts both instances afresh with a fresh cache folder:
#   jwks_url        oauth_jwks_url, no cache folder (before)
#   jwks_url+cache  the same with oauth_jwks_cache_dir, one folder for the
#                   host, owned by postfix (after)
# Prints the smtpd processes that served the logins (distinct pids in the
# maillogs), the key set requests, per 1,000 logins, and the ratio.
# The default /etc/postfix/main.cf gets the instances' folders in
# alternate_config_directories while it runs and is put back on exit.
set -u
# shellcheck source-path=SCRIPTDIR source=../interop/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../interop/lib.sh"
sm_init

LOGINS=${BENCH_IDP_LOGINS:-1000}
PAR=${BENCH_IDP_PARALLEL:-4}
MAXUSE=${BENCH_IDP_POSTFIX_MAX_USE:-50}
USER_NAME=alice
HOST=mail.$SM_FQDN

say() { echo "identity-provider requests over Postfix: $*"; }
missing=$(sm_missing_programs postfix curl saslpasswd2 python3)
if [ -n "$missing" ]; then say "not measured: missing $missing"; exit 0; fi
if [ "$(id -u)" -ne 0 ]; then say "not measured: needs root (Postfix's master)"; exit 0; fi
if [ ! -f "$SM_PLUGIN_DIR/libsaslmechs_xoauth2.so" ]; then say "not measured: no XOAUTH2 plugin"; exit 0; fi

plugdir=$SM_TMP/plugins
mkdir -p "$plugdir"
ln -s "$SM_PLUGIN_DIR/libsaslmechs_xoauth2.so" "$SM_SYSTEM_PLUGIN_DIR/libsasldb.so" "$plugdir/"
sm_mksasldb "$SM_TMP/sasldb2" "$HOST" "$USER_NAME" unused || { say "saslpasswd2 failed"; exit 1; }
chmod 755 "$SM_TMP"
chown postfix "$SM_TMP/sasldb2"

SM_OAUTH_USER=$USER_NAME sm_oauth_server_start smtp --lifetime 1800 || {
    say "the loopback OAuth server did not start"; exit 1; }
ISSUER=http://127.0.0.1:$SM_OAUTH_PORT
TOKEN=$("$SM_OAUTH_MINT" sign --keys "$SM_TMP/oauth-keys" --kid rsa --ttl 3600 \
    --claims "{\"iss\":\"$ISSUER\",\"aud\":\"smtp\",\"sub\":\"$USER_NAME\",\"scope\":\"mail\"}") ||
    { say "oauth_mint sign failed"; exit 1; }
stat_jwks() {
    python3 -c '
import json, sys, urllib.request
print(json.load(urllib.request.urlopen(sys.argv[1] + "/stats", timeout=10))["requests"].get("/jwks", 0))
' "$ISSUER"
}
reset_idp() {
    python3 -c '
import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/reset", method="POST"), timeout=10)
' "$ISSUER"
}

# instance NAME PORT CACHE: a Postfix configuration folder in $SM_TMP/NAME
instance() {
    local conf=$SM_TMP/$1
    mkdir -p "$conf/sasl" "$SM_TMP/$1-queue" "$SM_TMP/$1-data"
    chown postfix "$SM_TMP/$1-data"
    sm_postfix_main_cf "$conf/main.cf" "$HOST" "$plugdir"
    sed -i -e "s|^queue_directory = .*|queue_directory = $SM_TMP/$1-queue|" \
        -e "s|^data_directory = .*|data_directory = $SM_TMP/$1-data|" \
        -e "s|^maillog_file = .*|maillog_file = $SM_TMP/$1-maillog|" "$conf/main.cf"
    cat >"$conf/sasl/smtpd.conf" <<CONFEOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $SM_TMP/sasldb2
mech_list: XOAUTH2
oauth_issuers: $ISSUER
oauth_audiences: smtp
oauth_required_scopes: mail
oauth_user_claim: sub
oauth_jwks_url: $ISSUER/jwks
${3:+oauth_jwks_cache_dir: $3}
CONFEOF
    : >"$conf/master.cf"
    sm_postfix_master_cf "$conf/master.cf" \
        "127.0.0.1:$2 inet n - n - $PAR smtpd -o content_filter=discard: -o max_use=$MAXUSE"
}

# the four instances (two a configuration), all in alternate_config_directories
BASE=$(( 20000 + RANDOM % 20000 ))
mkdir -p "$SM_TMP/cache"
chown postfix "$SM_TMP/cache"
chmod 750 "$SM_TMP/cache"
instance before1 "$BASE" ""
instance before2 $((BASE + 1)) ""
instance after1 $((BASE + 2)) "$SM_TMP/cache"
instance after2 $((BASE + 3)) "$SM_TMP/cache"
# registered here, not in run's subshell: sm__cleanup stops them all and
# puts the default main.cf back
sm_postfix_register "$SM_TMP"/before1 "$SM_TMP"/before2 "$SM_TMP"/after1 "$SM_TMP"/after2

# run CONFIG: the logins against CONFIG's two instances; prints
# "PROCESSES KEYSET FAILED"
run() {
    local c1=$SM_TMP/${1}1 c2=$SM_TMP/${1}2 p1=$2 p2=$(($2 + 1)) n failed procs
    for c in "$c1" "$c2"; do
        if ! out=$(postfix -c "$c" start 2>&1); then
            say "postfix -c $c start failed: $out" >&2
            return 1
        fi
    done
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$p1") 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$p2") 2>/dev/null && break
        sleep 0.1
    done
    reset_idp
    export TOKEN USER_NAME SM_TIMEOUT p1 p2
    # shellcheck disable=SC2016 # expanded by the inner shell
    failed=$(seq "$LOGINS" | xargs -P "$PAR" -I{} bash -c '
        p=$p1; [ $(({} % 2)) -eq 0 ] && p=$p2
        printf "Subject: idp bench\r\n\r\nhello\r\n" |
            timeout "$SM_TIMEOUT" curl -sS --max-time "$SM_TIMEOUT" "smtp://127.0.0.1:$p/client.example" \
                --user "$USER_NAME" --oauth2-bearer "$TOKEN" --login-options AUTH=XOAUTH2 \
                --mail-from "$USER_NAME@client.example" --mail-rcpt bob@remote.example -T - \
                >/dev/null 2>&1 || echo x' | wc -l)
    n=$(stat_jwks)
    for c in "$c1" "$c2"; do postfix -c "$c" stop >/dev/null 2>&1; done
    procs=$(cat "$SM_TMP/${1}1-maillog" "$SM_TMP/${1}2-maillog" 2>/dev/null |
        sed -n 's/.*postfix\/smtpd\[\([0-9]*\)\]: connect from.*/\1/p' | sort -u | wc -l)
    echo "$procs $n $failed"
}

status=0
echo "identity-provider requests per 1000 logins over 2 Postfix instances: $LOGINS curl XOAUTH2 logins, $PAR at a time, smtpd max_use $MAXUSE"
printf '%-16s %16s %8s %14s %8s %8s\n' configuration "smtpd processes" "key set" "key set/1000" failed ratio
before=
for cfg in before:"$BASE" after:$((BASE + 2)); do
    name=${cfg%%:*}
    if ! r=$(run "$name" "${cfg#*:}"); then
        status=1
        continue
    fi
    read -r procs n failed <<<"$r"
    [ "$failed" -eq 0 ] || status=1
    label=jwks_url; [ "$name" = after ] && label=jwks_url+cache
    printf '%-16s %16s %8s %14.1f %8s %8s\n' "$label" "$procs" "$n" \
        "$(awk -v x="$n" -v l="$LOGINS" 'BEGIN { print x * 1000 / l }')" "$failed" \
        "$(if [ -n "$before" ]; then awk -v a="$n" -v b="$before" 'BEGIN { printf "%.3f", b ? a / b : 0 }'; else echo -; fi)"
    before=$n
done
echo "(smtpd processes: distinct smtpd pids in the two instances' maillogs; failed: logins that did not end in a sent message)"
exit $status
