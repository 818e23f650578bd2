#!/bin/bash
# Identity-provider requests per 1,000 logins (issue 17): what a host's
# short-lived server processes ask the identity provider, without and with
# the host's key cache (oauth_jwks_cache_dir).  The loopback OAuth server
# (tests/oauth/oauth_server.py) plays the provider and counts what it
# answers (GET /stats); each login is a full XOAUTH2 exchange through
# libsasl2 (tests/bench/bench -1 ours, case XOAUTH2-JWKSURL), the server
# plugin validating the token with the provider's keys.  The logins are run
# as Postfix runs smtpd: processes of BENCH_IDP_PER_PROCESS logins each
# (one table for each value of that list: 250, 4 processes; and 100,
# smtpd's max_use), BENCH_IDP_PARALLEL of them at a time (4), until
# BENCH_IDP_LOGINS (1000) are done.  Configurations, each with a fresh
# cache folder and the counters at zero:
#   jwks_url             oauth_jwks_url, no cache folder (before)
#   jwks_url+cache       the same with oauth_jwks_cache_dir (after)
#   discovery            oauth_discovery: yes, no cache folder (before)
#   discovery+cache      the same with oauth_jwks_cache_dir (after)
# Printed: key set requests (GET /jwks) and discovery requests (GET
# /.well-known/openid-configuration) per 1,000 logins, and the ratio after /
# before.  A figure, not a test: the exit status is non-zero only when
# something could not be measured.
# Then the same over two Postfix instances with several smtpd processes
# each (tests/bench/idp-postfix.sh: root and Postfix needed, else it says
# why and measures nothing; BENCH_IDP_POSTFIX=no skips it).
# Environment: SM_PLUGIN_DIR, SM_SYSTEM_PLUGIN_DIR (make bench sets them),
# BENCH_OAUTH_MINT (./tests/oauth/oauth_mint), BENCH_PROGRAM
# (./tests/bench/bench), and the counts above.
set -u
bench=${BENCH_PROGRAM:-./tests/bench/bench}
mint=${BENCH_OAUTH_MINT:-./tests/oauth/oauth_mint}
logins=${BENCH_IDP_LOGINS:-1000}
pers=${BENCH_IDP_PER_PROCESS:-250 100}
parallel=${BENCH_IDP_PARALLEL:-4}
for per in $pers; do
    [ "$per" -gt 20 ] || { echo "BENCH_IDP_PER_PROCESS must exceed 20" >&2; exit 1; }
done

work=$(mktemp -d) || exit 1
# shellcheck source=oauth-setup.sh
. "$(dirname "$0")/oauth-setup.sh"
# shellcheck disable=SC2317 # called by the trap
cleanup() {
    oauth_cleanup
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if [ ! -f "$SM_PLUGIN_DIR/libsaslmechs_xoauth2.so" ]; then
    echo "identity-provider requests: XOAUTH2 not built in this configuration: not measured"
    exit 0
fi
if [ ! -x "$mint" ] || ! "$mint" keygen --keys "$work/keys" >"$work/keygen.log" 2>&1; then
    echo "identity-provider requests: no usable $mint (make check TESTS= builds it)" >&2
    exit 1
fi
if ! command -v python3 >/dev/null || ! oauth_server_start; then
    echo "identity-provider requests: ${oauth_why:-python3 not found}" >&2
    exit 1
fi
# the provider's own issuer, so that discovery finds it
# shellcheck disable=SC2154 # oauth_url and oauth_user: oauth-setup.sh
if ! BENCH_OAUTH_JWKSURL_TOKEN=$("$mint" sign --keys "$work/keys" --kid rsa --ttl 7200 \
    --claims '{"iss":"'"$oauth_url"'","aud":"smtp","sub":"'"$oauth_user"'","scope":"mail"}' \
    2>"$work/sign.log"); then
    echo "identity-provider requests: oauth_mint sign failed: $(tail -n 1 "$work/sign.log")" >&2
    exit 1
fi
export BENCH_OAUTH_JWKSURL_TOKEN

stat_of() { # the count of requests for path $1
    python3 -c '
import json, sys, urllib.request
print(json.load(urllib.request.urlopen(sys.argv[1] + "/stats", timeout=10))["requests"].get(sys.argv[2], 0))
' "$oauth_url" "$1"
}
reset() { python3 -c '
import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/reset", method="POST"), timeout=10)
' "$oauth_url"; }

# run CONFIG: the logins with that configuration; prints "JWKS DISCOVERY"
run() {
    local opts="oauth_issuers=$oauth_url
oauth_audiences=smtp
oauth_required_scopes=mail
oauth_user_claim=sub"
    case $1 in
    jwks_url*) opts="$opts
oauth_jwks_url=$oauth_url/jwks" ;;
    discovery*) opts="$opts
oauth_discovery=yes" ;;
    esac
    rm -rf "$work/cache"
    mkdir -m 0750 "$work/cache" || return 1
    case $1 in *+cache) opts="$opts
oauth_jwks_cache_dir=$work/cache" ;; esac
    reset || return 1
    # shellcheck disable=SC2016 # expanded by the inner shell
    if ! seq "$procs" | BENCH_OAUTH_JWKSURL_OPTIONS=$opts xargs -P "$parallel" -I{} \
        "$bench" -1 ours -n $((per - 20)) XOAUTH2-JWKSURL >"$work/run.log" 2>&1; then
        echo "identity-provider requests: $1: a login failed: $(tail -n 2 "$work/run.log" | tr '\n' ' ')" >&2
        return 1
    fi
    echo "$(stat_of /jwks) $(stat_of /.well-known/openid-configuration)"
}

status=0
for per in $pers; do
    procs=$(((logins + per - 1) / per))
    echo "identity-provider requests per 1000 logins: $procs processes of $per XOAUTH2 logins, $parallel at a time"
    printf '%-18s %8s %10s %14s %18s %8s\n' configuration "key set" discovery "key set/1000" "discovery/1000" ratio
    for pair in "jwks_url jwks_url+cache" "discovery discovery+cache"; do
        before=${pair% *} after=${pair#* }
        if ! b=$(run "$before") || ! a=$(run "$after"); then
            status=1
            continue
        fi
        for c in "$before:$b" "$after:$a"; do
            name=${c%%:*} counts=${c#*:}
            k=${counts% *} d=${counts#* }
            printf '%-18s %8s %10s %14.1f %18.1f %8s\n' "$name" "$k" "$d" \
                "$(awk -v x="$k" -v n="$((procs * per))" 'BEGIN { print x * 1000 / n }')" \
                "$(awk -v x="$d" -v n="$((procs * per))" 'BEGIN { print x * 1000 / n }')" \
                "$(if [ "$name" = "$after" ]; then awk -v a="${a% *}" -v b="${b% *}" -v c="${a#* }" -v e="${b#* }" \
                    'BEGIN { t = b + e; printf "%.3f", t ? (a + c) / t : 0 }'; else echo -; fi)"
        done
    done
    echo
done
echo "(ratio: the provider's requests after / before, key set and discovery together)"

# the same over two Postfix instances (root, Postfix installed; the lock
# keeps it from starting while another suite runs its servers)
if [ "${BENCH_IDP_POSTFIX:-yes}" != no ]; then
    echo
    oauth_cleanup
    if command -v flock >/dev/null; then
        flock /tmp/sm-heavy.lock bash "$(dirname "$0")/idp-postfix.sh" || status=1
    else
        bash "$(dirname "$0")/idp-postfix.sh" || status=1
    fi
fi
exit $status
