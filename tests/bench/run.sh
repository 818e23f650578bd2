#!/bin/bash
# The benchmark report: our plugins against the system's Cyrus plugins of
# the same mechanisms, in one run, each plugin alone in its own folder with
# the sasldb auxprop, every process pinned to one core.
#   1. wall clock: median microseconds per full exchange (client and server
#      through libsasl2, same sasldb), rounds alternating
#   2. instructions per exchange under callgrind, whole process (libsasl2,
#      the sasldb lookup, libc, OpenSSL and the plugin, client and server
#      sides): Ir(LONG exchanges) - Ir(SHORT exchanges), divided by
#      LONG - SHORT, so that start-up and exit cancel out; exact and
#      repeatable, so small differences are real.  Also how many of them
#      are in the plugin file's own code.
#   3. resident memory growth over BENCH_RSS_EXCHANGES (default 100000)
# XOAUTH2 and OAUTHBEARER have no Cyrus plugin: issue 7 compares a server
# exchange with our PLAIN exchange in the same run (ratio <= 1.3 with local
# RS256 validation, <= 1.1 with a warm introspection cache).  Their cases
# (BENCH_OAUTH_CASES) are measured the same three ways against our PLAIN:
#   MECH-RS256       a JWT signed with a 2048-bit RSA key (RS256), checked
#                    against a JWKS file (oauth_jwks_file), its signature
#                    verified at every exchange (oauth_jwt_cache_ttl=0)
#   MECH-RS256-CACHED  the same with the plugin's default cache of verified
#                    tokens (not in the default list: a plugin without the
#                    cache measures the same as MECH-RS256)
#   MECH-INTROSPECT  RFC 7662 introspection at the loopback server
#                    tests/oauth/oauth_server.py; every exchange sends the
#                    same token, so all but each process's first exchange
#                    (a warm-up one) are answered from the cache
# Each row says whether its ratio meets the bound; a ratio over it is a
# finding, not a failure.  The exit status is non-zero only when something
# could not be measured (an OAuth plugin that is not built is skipped).
# Environment: SM_PLUGIN_DIR, SM_SYSTEM_PLUGIN_DIR (make bench sets them),
# BENCH_N (exchanges a round, 2000), BENCH_ROUNDS (11), BENCH_MECHS,
# BENCH_OAUTH_CASES (XOAUTH2-RS256 XOAUTH2-INTROSPECT OAUTHBEARER-RS256
# OAUTHBEARER-INTROSPECT; empty: none), BENCH_OAUTH_MINT
# (./tests/oauth/oauth_mint), BENCH_CPU (core, default the last),
# BENCH_IR_LONG (300), BENCH_IR_SHORT (100), BENCH_CALLGRIND_DIR (keep the
# callgrind files there, named WHO-STEM-N, for tests/bench/cgdiff.sh),
# BENCH_USER and BENCH_PASS (the credentials; their lengths move glibc's
# malloc onto other paths, which moves both sides' counts by up to ~1%).
set -u
bench=${BENCH_PROGRAM:-./tests/bench/bench}
mechs=${BENCH_MECHS:-PLAIN LOGIN CRAM-MD5 NTLM}
oauth_cases=${BENCH_OAUTH_CASES-XOAUTH2-RS256 XOAUTH2-INTROSPECT OAUTHBEARER-RS256 OAUTHBEARER-INTROSPECT}
mint=${BENCH_OAUTH_MINT:-./tests/oauth/oauth_mint}
cpu=${BENCH_CPU:-$(($(nproc) - 1))}
long=${BENCH_IR_LONG:-300}
short=${BENCH_IR_SHORT:-100}
pin=()
if command -v taskset >/dev/null; then pin=(taskset -c "$cpu"); fi
status=0

# ---- temporary files ------------------------------------------------------------
work=$(mktemp -d) || exit 1
# shellcheck disable=SC2317 # called by the trap
cleanup() {
    oauth_cleanup
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# ---- the OAuth cases: keys, tokens, options, the loopback server ----------
# shellcheck source=oauth-setup.sh
. "$(dirname "$0")/oauth-setup.sh"
if [ -n "$oauth_cases" ] && ! oauth_setup; then
    status=1
fi

# ---- 1. wall clock -----------------------------------------------------------
# shellcheck disable=SC2086
"${pin[@]}" "$bench" -c "$cpu" -n "${BENCH_N:-2000}" -r "${BENCH_ROUNDS:-11}" $mechs $oauth_cases || exit 1
echo

# ---- 2. instructions -------------------------------------------------------------
stem() { case $1 in CRAM-MD5) echo crammd5 ;; *) echo "$1" | tr '[:upper:]' '[:lower:]' ;; esac; }
if ! command -v valgrind >/dev/null; then
    echo "valgrind not installed: no instruction counts"
elif [ "$long" -le "$short" ]; then
    echo "BENCH_IR_LONG ($long) must exceed BENCH_IR_SHORT ($short)" >&2
    exit 1
else
    if [ -n "${BENCH_CALLGRIND_DIR:-}" ]; then
        out=$BENCH_CALLGRIND_DIR
        mkdir -p "$out" || exit 1
    else
        out=$work/callgrind
        mkdir -p "$out" || exit 1
    fi
    # total Ir of a callgrind file
    total() { sed -n 's/^summary: *//p' "$1"; }
    # exclusive Ir inside the object whose path contains $2, read from the
    # file itself (callgrind_annotate prints some of a function's lines
    # without their object)
    own() {
        awk -v pat="$2" '
            # "(id) name" names an object the first time, in ob= or cob=
            function obj(s,    id, r) {
                if (s !~ /^\(/) return s
                id = substr(s, 1, index(s, ")")); r = substr(s, length(id) + 2)
                if (r != "") nm[id] = r
                return nm[id]
            }
            /^cob=/ { obj(substr($0, 5)); next }
            /^ob=/ { inobj = index(obj(substr($0, 4)), pat) > 0; next }
            /^calls=/ { call = 1; next }
            /^[0-9+*-]/ { if (call) call = 0; else if (inobj) t += $2; next }
            END { printf "%.0f\n", t }' "$1"
    }
    per() { awk -v a="$1" -v b="$2" -v n=$((long - short)) 'BEGIN { printf "%.0f\n", (a - b) / n }'; }
    # callgrind the case (WHO CASE) at both lengths into $out/WHO-STEM-N
    measure() {
        local n s
        s=$(stem "$2")
        for n in "$short" "$long"; do
            [ -s "$out/$1-$s-$n" ] && grep -q '^summary:' "$out/$1-$s-$n" && continue
            if ! "${pin[@]}" valgrind --tool=callgrind --callgrind-out-file="$out/$1-$s-$n" \
                "$bench" -1 "$1" -c "$cpu" -n "$n" "$2" >"$out/$1-$s-$n.log" 2>&1; then
                echo "callgrind run failed: $1 $2 -n $n (see $out/$1-$s-$n.log)" >&2
                rm -f "$out/$1-$s-$n"
                status=1
                return 1
            fi
        done
    }
    # instructions per exchange of WHO CASE, and of them in the plugin file PATTERN
    ir() { per "$(total "$out/$1-$(stem "$2")-$long")" "$(total "$out/$1-$(stem "$2")-$short")"; }
    irso() { per "$(own "$out/$1-$(stem "$2")-$long" "$3")" "$(own "$out/$1-$(stem "$2")-$short" "$3")"; }
    rm -f "$out"/*-"$short" "$out"/*-"$long" # a kept folder's old files are not this build's
    if [ -n "$mechs" ]; then
        printf '%-24s %12s %12s %7s %10s %10s\n' mechanism "ours Ir" "cyrus Ir" ratio "ours .so" "cyrus .so"
    fi
    for m in $mechs; do
        s=$(stem "$m")
        if ! measure ours "$m" || ! measure cyrus "$m"; then
            continue
        fi
        o=$(ir ours "$m")
        c=$(ir cyrus "$m")
        printf '%-24s %12s %12s %7.4f %10s %10s\n' "$m" "$o" "$c" \
            "$(awk -v a="$o" -v b="$c" 'BEGIN { print a / b }')" \
            "$(irso ours "$m" "libsaslmechs_$s.so")" "$(irso cyrus "$m" "sasl2/lib$s.so")"
    done
    if [ -n "$oauth_cases" ] && measure ours PLAIN; then
        [ -n "$mechs" ] && echo
        printf '%-24s %12s %12s %7s %6s %10s\n' "OAuth case" "ours Ir" "PLAIN Ir" ratio bound "ours .so"
        p=$(ir ours PLAIN)
        for m in $oauth_cases; do
            measure ours "$m" || continue
            o=$(ir ours "$m")
            b=$(case $m in *-INTROSPECT) echo 1.1 ;; *) echo 1.3 ;; esac)
            printf '%-24s %12s %12s %7.4f %6.2f %10s   %s\n' "$m" "$o" "$p" \
                "$(awk -v a="$o" -v b="$p" 'BEGIN { print a / b }')" "$b" \
                "$(irso ours "$m" "libsaslmechs_$(stem "${m%%-*}").so")" \
                "$(awk -v a="$o" -v b="$p" -v x="$b" 'BEGIN { print a / b <= x ? "meets the bound" : "OVER the bound" }')"
        done
    fi
    echo "(callgrind, whole process, (Ir($long) - Ir($short)) / $((long - short)) per exchange, core $cpu;"
    echo " '.so' counts only code inside the plugin file; per function: tests/bench/cgdiff.sh)"
fi
echo

# ---- 3. resident memory ------------------------------------------------------------
# shellcheck disable=SC2086
"${pin[@]}" "$bench" -c "$cpu" -R "${BENCH_RSS_EXCHANGES:-100000}" $mechs $oauth_cases || status=1
if [ -n "$oauth_url" ]; then
    echo
    echo "(introspection requests the loopback server answered, for every process that ran an"
    echo " INTROSPECT case: $(introspections); one a process means every other exchange hit the cache)"
fi
exit $status
