# Sourced by tests/bench/run.sh and tests/bench/tsan.sh: the OAuth cases'
# keys, tokens, server options and, for the INTROSPECT cases, the loopback
# OAuth server (tests/oauth/oauth_server.py), handed to tests/bench/bench
# and tests/bench/threads through the environment (see exchange.h).
# The caller sets: oauth_cases (the cases wanted), mint (oauth_mint),
# work (a temporary folder), SM_PLUGIN_DIR and status; oauth_setup then
# drops from oauth_cases what cannot run (saying why on stderr), sets
# status=1 when something that should run cannot, and sets oauth_url and
# server_pid when it started the server; oauth_cleanup stops it.
# shellcheck shell=bash disable=SC2154,SC2034 # the caller sets mint, work; reads status
oauth_server=$(dirname "${BASH_SOURCE[0]}")/../oauth/oauth_server.py
server_pid=
oauth_url=
# shellcheck disable=SC2317 # called by the caller's trap
oauth_cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    server_pid=
}

# What the tokens say and the server requires; the user is the sasldb user
# PLAIN authenticates, so both sides end with the same identity.
oauth_user=${BENCH_USER:-benchuser}
oauth_issuer=https://issuer.bench.test
oauth_common="oauth_issuers=$oauth_issuer
oauth_audiences=smtp
oauth_required_scopes=mail
oauth_user_claim=sub"
oauth_claims='{"iss":"'$oauth_issuer'","aud":"smtp","sub":"'$oauth_user'","scope":"mail"}'
# drop from oauth_cases those matching the glob $1
oauth_drop() {
    local c kept=()
    for c in $oauth_cases; do
        # shellcheck disable=SC2254
        case $c in $1) ;; *) kept+=("$c") ;; esac
    done
    oauth_cases=${kept[*]}
}
oauth_skip() { # CASES REASON: drop the cases, say why
    local c
    for c in $1; do
        echo "$c: not measured: $2" >&2
        oauth_drop "$c"
    done
}
# Start the loopback server on $work/keys (more arguments: "$@"): oauth_url
# and server_pid set, or 1 with the reason in oauth_why.
oauth_server_start() {
    local port
    rm -f "$work/port"
    python3 "$oauth_server" --mint "$mint" --keys "$work/keys" --port 0 \
        --port-file "$work/port" --lifetime 7200 "$@" >"$work/oauth-server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 100); do
        [ -s "$work/port" ] && break
        sleep 0.1
    done
    if ! port=$(cat "$work/port" 2>/dev/null) || [ -z "$port" ]; then
        oauth_why="the loopback OAuth server did not start: $(tail -n 2 "$work/oauth-server.log" | tr '\n' ' ')"
        return 1
    fi
    oauth_url=http://127.0.0.1:$port
}
oauth_setup() {
    local c m rs=() in=() secret
    for c in $oauth_cases; do
        case $c in
        XOAUTH2-RS256 | OAUTHBEARER-RS256 | XOAUTH2-RS256-CACHED | OAUTHBEARER-RS256-CACHED) ;;
        XOAUTH2-INTROSPECT | OAUTHBEARER-INTROSPECT) ;;
        *) oauth_skip "$c" "unknown OAuth case (BENCH_OAUTH_CASES)"; status=1 ;;
        esac
    done
    # a configure choice (no libcurl or jansson, --disable-xoauth2): skipped
    for m in xoauth2 oauthbearer; do
        if [ ! -f "$SM_PLUGIN_DIR/libsaslmechs_$m.so" ] && [[ " ${oauth_cases,,} " == *" $m-"* ]]; then
            echo "${m^^}: libsaslmechs_$m.so not built in this configuration: no rows for it" >&2
            oauth_drop "${m^^}-*"
        fi
    done
    [ -n "$oauth_cases" ] || return 0
    for c in $oauth_cases; do
        case $c in *-RS256 | *-RS256-CACHED) rs+=("$c") ;; *) in+=("$c") ;; esac
    done
    if [ ! -x "$mint" ]; then
        oauth_skip "$oauth_cases" "no $mint (make check TESTS= builds it)"
        return 1
    fi
    if ! "$mint" keygen --keys "$work/keys" >"$work/keygen.log" 2>&1; then
        oauth_skip "$oauth_cases" "oauth_mint keygen failed: $(tail -n 1 "$work/keygen.log")"
        return 1
    fi
    if [ ${#rs[@]} -gt 0 ]; then
        if ! BENCH_OAUTH_RS256_TOKEN=$("$mint" sign --keys "$work/keys" --kid rsa --ttl 7200 \
            --claims "$oauth_claims" 2>"$work/sign.log"); then
            oauth_skip "${rs[*]}" "oauth_mint sign failed: $(tail -n 1 "$work/sign.log")"
            status=1
        fi
        export BENCH_OAUTH_RS256_TOKEN BENCH_OAUTH_RS256_CACHED_TOKEN=$BENCH_OAUTH_RS256_TOKEN
        export BENCH_OAUTH_RS256_CACHED_OPTIONS="$oauth_common
oauth_jwks_file=$work/keys/jwks.json"
        # the same token every exchange: the cache of verified tokens would
        # otherwise answer all but the first
        export BENCH_OAUTH_RS256_OPTIONS="$BENCH_OAUTH_RS256_CACHED_OPTIONS
oauth_jwt_cache_size=0"
    fi
    if [ ${#in[@]} -gt 0 ]; then
        if ! command -v python3 >/dev/null; then
            oauth_skip "${in[*]}" "python3 not found (for tests/oauth/oauth_server.py)"
            return 1
        fi
        secret=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
        (umask 077 && printf '%s\n' "$secret" >"$work/rs-secret")
        if ! oauth_server_start --rs-id bench-rs --rs-secret "$secret"; then
            oauth_skip "${in[*]}" "$oauth_why"
            return 1
        fi
        # a token the server registers for introspection
        if ! BENCH_OAUTH_INTROSPECT_TOKEN=$(python3 -c '
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "/mint", method="POST",
    data=json.dumps({"claims": json.loads(sys.argv[2]), "ttl": 7200}).encode(),
    headers={"Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(req, timeout=30))["access_token"])
' "$oauth_url" "$oauth_claims" 2>"$work/mint.log"); then
            oauth_skip "${in[*]}" "POST /mint failed: $(tail -n 1 "$work/mint.log")"
            return 1
        fi
        export BENCH_OAUTH_INTROSPECT_TOKEN
        export BENCH_OAUTH_INTROSPECT_OPTIONS="$oauth_common
oauth_validation=introspection
oauth_introspection_url=$oauth_url/introspect
oauth_client_id=bench-rs
oauth_client_secret_file=$work/rs-secret"
    fi
    return 0
}
# how many introspection requests the server answered
introspections() {
    python3 -c '
import json, sys, urllib.request
print(json.load(urllib.request.urlopen(sys.argv[1] + "/stats", timeout=10))["introspections"])
' "$oauth_url" 2>/dev/null || echo "?"
}
