#!/bin/bash
# The benchmark report: our plugins against the system's Cyrus plugins of
# the same mechanisms, in one run.
#   1. wall clock: median microseconds per full exchange (client and server
#      through libsasl2, same sasldb), rounds alternating, one core
#   2. instructions per exchange under callgrind (the same loop; exact and
#      repeatable, so small differences are real), and how many of them are
#      in the plugin's own code
#   3. resident memory growth over BENCH_RSS_EXCHANGES (default 100000)
# Environment: SM_PLUGIN_DIR, SM_SYSTEM_PLUGIN_DIR (make bench sets them),
# BENCH_N (exchanges a round, 2000), BENCH_ROUNDS (11), BENCH_MECHS.
set -u
bench=${BENCH_PROGRAM:-./tests/bench/bench}
mechs=${BENCH_MECHS:-PLAIN LOGIN CRAM-MD5}
# shellcheck disable=SC2086
"$bench" -n "${BENCH_N:-2000}" -r "${BENCH_ROUNDS:-11}" $mechs || exit 1
echo
stem() { case $1 in CRAM-MD5) echo crammd5 ;; *) echo "$1" | tr A-Z a-z ;; esac; }
if command -v valgrind >/dev/null; then
    printf '%-9s %12s %12s %7s %12s %12s\n' mechanism "ours Ir" "cyrus Ir" ratio "ours .so" "cyrus .so"
    out=$(mktemp -d)
    for m in $mechs; do
        s=$(stem "$m")
        for who in ours cyrus; do
            valgrind --tool=callgrind --toggle-collect=bench_loop --callgrind-out-file="$out/$who" \
                "$bench" -1 "$who" -n 200 "$m" >/dev/null 2>&1
        done
        ours_ir=$(sed -n 's/^summary: *//p' "$out/ours" | awk '{print int($1 / 200)}')
        cyrus_ir=$(sed -n 's/^summary: *//p' "$out/cyrus" | awk '{print int($1 / 200)}')
        # exclusive instructions in the mechanism's plugin file itself
        own() {
            callgrind_annotate --inclusive=no --threshold=100 "$1" 2>/dev/null |
                awk -v pat="$2" 'index($0, pat) { gsub(",", "", $1); s += $1 } END { print int(s / 200) }'
        }
        printf '%-9s %12s %12s %7.3f %12s %12s\n' "$m" "$ours_ir" "$cyrus_ir" \
            "$(awk -v a="$ours_ir" -v b="$cyrus_ir" 'BEGIN { print a / b }')" \
            "$(own "$out/ours" "libsaslmechs_$s.so")" "$(own "$out/cyrus" "sasl2/lib$s.so")"
    done
    rm -rf "$out"
    echo "(callgrind instructions per exchange after warm-up; '.so' counts only code inside the plugin file)"
    echo
else
    echo "valgrind not installed: no instruction counts"
fi
"$bench" -R "${BENCH_RSS_EXCHANGES:-100000}" $mechs
