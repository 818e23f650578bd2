#!/bin/bash
# The benchmark report: our plugins against the system's Cyrus plugins of
# the same mechanisms, in one run, each plugin alone in its own folder with
# the sasldb auxprop, every process pinned to one core, in two application
# shapes (bench -S, tests/bench/exchange.c):
#   global  every callback given to sasl_server_init and sasl_client_init,
#           the options through a GETOPT callback, no authzid
#   conn    as a new user writes it: GETPATH and LOG global, the client's
#           AUTHNAME, USER (the same name) and PASS given to sasl_client_new,
#           the options in the application's .conf file, service rcmd,
#           server FQDN vm, user alice in realm vm, password secret
# The OAuth cases run in the global shape only; resident memory likewise.
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
#                    verified at every exchange (oauth_jwt_cache_size=0)
#   MECH-RS256-CACHED  the same with the plugin's default cache of verified
#                    tokens (oauth_jwt_cache_size, issue 17): every exchange
#                    sends the same token, so all but the first cost the
#                    time checks alone (bound 1.1, as a warm introspection
#                    cache)
#   MECH-INTROSPECT  RFC 7662 introspection at the loopback server
#                    tests/oauth/oauth_server.py; every exchange sends the
#                    same token, so all but each process's first exchange
#                    (a warm-up one) are answered from the cache
# Each row says whether its ratio meets the bound; a ratio over it is a
# finding, not a failure.  The exit status is non-zero only when something
# could not be measured (an OAuth plugin that is not built is skipped).
# Environment: SM_PLUGIN_DIR, SM_SYSTEM_PLUGIN_DIR (make bench sets them),
# BENCH_N (exchanges a round, 2000), BENCH_ROUNDS (11), BENCH_MECHS,
# BENCH_OAUTH_CASES (XOAUTH2-RS256 XOAUTH2-RS256-CACHED XOAUTH2-INTROSPECT
# OAUTHBEARER-RS256 OAUTHBEARER-RS256-CACHED OAUTHBEARER-INTROSPECT; empty: none), BENCH_OAUTH_MINT
# (./tests/oauth/oauth_mint), BENCH_CPU (core, default the last),
# BENCH_IR_LONG (300), BENCH_IR_SHORT (100), BENCH_CALLGRIND_DIR (keep the
# callgrind files there, named WHO-STEM-N, the conn shape's in its conn/
# subfolder, for tests/bench/cgdiff.sh), BENCH_SHAPES (global conn),
# BENCH_USER and BENCH_PASS (both shapes' credentials; their lengths move glibc's
# malloc onto other paths, which moves both sides' counts by up to ~1%).
set -u
bench=${BENCH_PROGRAM:-./tests/bench/bench}
mechs=${BENCH_MECHS:-PLAIN LOGIN CRAM-MD5 NTLM}
oauth_cases=${BENCH_OAUTH_CASES-XOAUTH2-RS256 XOAUTH2-RS256-CACHED XOAUTH2-INTROSPECT OAUTHBEARER-RS256 OAUTHBEARER-RS256-CACHED OAUTHBEARER-INTROSPECT}
shapes=${BENCH_SHAPES:-global conn}
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

# the cases of a shape: the OAuth ones in the global shape only
cases_of() { if [ "$1" = global ]; then echo "$mechs $oauth_cases"; else echo "$mechs"; fi; }

# ---- 1. wall clock -----------------------------------------------------------
for sh in $shapes; do
    c=$(cases_of "$sh")
    [ -n "${c// /}" ] || continue
    echo "application shape $sh:"
    # shellcheck disable=SC2086
    "${pin[@]}" "$bench" -S "$sh" -c "$cpu" -n "${BENCH_N:-2000}" -r "${BENCH_ROUNDS:-11}" $c || exit 1
    echo
done

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
    # calls of the function $2 (e.g. sasl_seterror) in a callgrind file
    calls() {
        awk -v fn="$2" '
            # "(id) name" names a function the first time, in fn= or cfn=
            function name(s,    id, r) {
                if (s !~ /^\(/) return s
                id = substr(s, 1, index(s, ")")); r = substr(s, length(id) + 2)
                if (r != "") nm[id] = r
                return nm[id]
            }
            /^fn=/ { name(substr($0, 4)); next }
            /^cfn=/ { hit = name(substr($0, 5)) == fn; next }
            /^calls=/ { if (hit) { split(substr($0, 7), a, " "); t += a[1] }; next }
            END { printf "%.0f\n", t }' "$1"
    }
    per() { awk -v a="$1" -v b="$2" -v n=$((long - short)) 'BEGIN { printf "%.0f\n", (a - b) / n }'; }
    # the folder of a shape's callgrind files
    dir_of() { if [ "$1" = global ]; then echo "$out"; else echo "$out/$1"; fi; }
    # callgrind the case (SHAPE WHO CASE) at both lengths into DIR/WHO-STEM-N
    measure() {
        local n s d
        s=$(stem "$3") d=$(dir_of "$1")
        mkdir -p "$d" || return 1
        for n in "$short" "$long"; do
            [ -s "$d/$2-$s-$n" ] && grep -q '^summary:' "$d/$2-$s-$n" && continue
            if ! "${pin[@]}" valgrind --tool=callgrind --callgrind-out-file="$d/$2-$s-$n" \
                "$bench" -S "$1" -1 "$2" -c "$cpu" -n "$n" "$3" >"$d/$2-$s-$n.log" 2>&1; then
                echo "callgrind run failed: $1 $2 $3 -n $n (see $d/$2-$s-$n.log)" >&2
                rm -f "$d/$2-$s-$n"
                status=1
                return 1
            fi
        done
    }
    # instructions per exchange of SHAPE WHO CASE, and of them in the plugin file PATTERN
    ir() {
        local f
        f=$(dir_of "$1")/$2-$(stem "$3")
        per "$(total "$f-$long")" "$(total "$f-$short")"
    }
    irso() {
        local f
        f=$(dir_of "$1")/$2-$(stem "$3")
        per "$(own "$f-$long" "$4")" "$(own "$f-$short" "$4")"
    }
    # sasl_seterror calls per exchange of SHAPE WHO CASE (libsasl2 sets an
    # error for every callback it looks up and the application lacks)
    errs() {
        local f
        f=$(dir_of "$1")/$2-$(stem "$3")
        per "$(calls "$f-$long" sasl_seterror)" "$(calls "$f-$short" sasl_seterror)"
    }
    for sh in $shapes; do # a kept folder's old files are not this build's
        rm -f "$(dir_of "$sh")"/*-"$short" "$(dir_of "$sh")"/*-"$long"
    done
    if [ -n "$mechs" ]; then
        printf '%-24s %-7s %12s %12s %7s %10s %10s %9s\n' mechanism shape "ours Ir" "cyrus Ir" ratio \
            "ours .so" "cyrus .so" "seterror"
    fi
    for m in $mechs; do
        s=$(stem "$m")
        for sh in $shapes; do
            if ! measure "$sh" ours "$m" || ! measure "$sh" cyrus "$m"; then
                continue
            fi
            o=$(ir "$sh" ours "$m")
            c=$(ir "$sh" cyrus "$m")
            printf '%-24s %-7s %12s %12s %7.4f %10s %10s %9s\n' "$m" "$sh" "$o" "$c" \
                "$(awk -v a="$o" -v b="$c" 'BEGIN { print a / b }')" \
                "$(irso "$sh" ours "$m" "libsaslmechs_$s.so")" "$(irso "$sh" cyrus "$m" "sasl2/lib$s.so")" \
                "$(errs "$sh" ours "$m")/$(errs "$sh" cyrus "$m")"
        done
    done
    if [ -n "$oauth_cases" ] && measure global ours PLAIN; then
        [ -n "$mechs" ] && echo
        printf '%-24s %12s %12s %7s %6s %10s\n' "OAuth case" "ours Ir" "PLAIN Ir" ratio bound "ours .so"
        p=$(ir global ours PLAIN)
        for m in $oauth_cases; do
            measure global ours "$m" || continue
            o=$(ir global ours "$m")
            b=$(case $m in *-INTROSPECT | *-CACHED) echo 1.1 ;; *) echo 1.3 ;; esac)
            printf '%-24s %12s %12s %7.4f %6.2f %10s   %s\n' "$m" "$o" "$p" \
                "$(awk -v a="$o" -v b="$p" 'BEGIN { print a / b }')" "$b" \
                "$(irso global ours "$m" "libsaslmechs_$(stem "${m%%-*}").so")" \
                "$(awk -v a="$o" -v b="$p" -v x="$b" 'BEGIN { print a / b <= x ? "meets the bound" : "OVER the bound" }')"
        done
    fi
    echo "(callgrind, whole process, (Ir($long) - Ir($short)) / $((long - short)) per exchange, core $cpu;"
    echo " '.so' counts only code inside the plugin file; seterror: sasl_seterror calls, ours/cyrus;"
    echo " per function: tests/bench/cgdiff.sh,"
    echo " on BENCH_CALLGRIND_DIR for the global shape and BENCH_CALLGRIND_DIR/conn for conn)"
fi
echo

# ---- 3. resident memory (the global shape) ---------------------------------------
# shellcheck disable=SC2086
"${pin[@]}" "$bench" -S global -c "$cpu" -R "${BENCH_RSS_EXCHANGES:-100000}" $mechs $oauth_cases || status=1
if [ -n "$oauth_url" ]; then
    echo
    echo "(introspection requests the loopback server answered, for every process that ran an"
    echo " INTROSPECT case: $(introspections); one a process means every other exchange hit the cache)"
fi
exit $status
