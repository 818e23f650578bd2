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
# Environment: SM_PLUGIN_DIR, SM_SYSTEM_PLUGIN_DIR (make bench sets them),
# BENCH_N (exchanges a round, 2000), BENCH_ROUNDS (11), BENCH_MECHS,
# BENCH_CPU (core, default the last), BENCH_IR_LONG (300), BENCH_IR_SHORT
# (100), BENCH_CALLGRIND_DIR (keep the callgrind files there, named
# WHO-STEM-N, for tests/bench/cgdiff.sh), BENCH_USER and BENCH_PASS (the
# credentials; their lengths move glibc's malloc onto other paths, which
# moves both sides' counts by up to ~1%).
set -u
bench=${BENCH_PROGRAM:-./tests/bench/bench}
mechs=${BENCH_MECHS:-PLAIN LOGIN CRAM-MD5}
cpu=${BENCH_CPU:-$(($(nproc) - 1))}
long=${BENCH_IR_LONG:-300}
short=${BENCH_IR_SHORT:-100}
pin=()
if command -v taskset >/dev/null; then pin=(taskset -c "$cpu"); fi
status=0
# shellcheck disable=SC2086
"${pin[@]}" "$bench" -c "$cpu" -n "${BENCH_N:-2000}" -r "${BENCH_ROUNDS:-11}" $mechs || exit 1
echo
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
        out=$(mktemp -d) || exit 1
        trap 'rm -rf "$out"' EXIT
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
    printf '%-9s %12s %12s %7s %10s %10s\n' mechanism "ours Ir" "cyrus Ir" ratio "ours .so" "cyrus .so"
    for m in $mechs; do
        s=$(stem "$m")
        for who in ours cyrus; do
            for n in "$short" "$long"; do
                if ! "${pin[@]}" valgrind --tool=callgrind --callgrind-out-file="$out/$who-$s-$n" \
                    "$bench" -1 "$who" -c "$cpu" -n "$n" "$m" >"$out/$who-$s-$n.log" 2>&1; then
                    echo "callgrind run failed: $who $m -n $n (see $out/$who-$s-$n.log)" >&2
                    status=1
                    continue 3
                fi
            done
        done
        o=$(per "$(total "$out/ours-$s-$long")" "$(total "$out/ours-$s-$short")")
        c=$(per "$(total "$out/cyrus-$s-$long")" "$(total "$out/cyrus-$s-$short")")
        oso=$(per "$(own "$out/ours-$s-$long" "libsaslmechs_$s.so")" "$(own "$out/ours-$s-$short" "libsaslmechs_$s.so")")
        cso=$(per "$(own "$out/cyrus-$s-$long" "sasl2/lib$s.so")" "$(own "$out/cyrus-$s-$short" "sasl2/lib$s.so")")
        printf '%-9s %12s %12s %7.4f %10s %10s\n' "$m" "$o" "$c" \
            "$(awk -v a="$o" -v b="$c" 'BEGIN { print a / b }')" "$oso" "$cso"
    done
    echo "(callgrind, whole process, (Ir($long) - Ir($short)) / $((long - short)) per exchange, core $cpu;"
    echo " '.so' counts only code inside the plugin file; per function: tests/bench/cgdiff.sh)"
fi
echo
# shellcheck disable=SC2086
"${pin[@]}" "$bench" -c "$cpu" -R "${BENCH_RSS_EXCHANGES:-100000}" $mechs || status=1
exit $status
