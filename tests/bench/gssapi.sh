#!/bin/bash
# The GSSAPI rows of `make bench`: a throwaway KDC (tests/krb5/kdc.sh) for
# tests/bench/bench_gssapi, which compares our plugin with Cyrus's gssapiv2
# (see its head): wall clock, then instructions per operation under
# callgrind (whole process, Ir(LONG) - Ir(SHORT) divided by LONG - SHORT,
# so that set-up and exit cancel out; exact and repeatable, unlike the
# clock on a shared machine).  Run from the build folder; BENCH_CPU,
# BENCH_ROUNDS as in run.sh; BENCH_GSSAPI_SCALE multiplies the operations
# of a round (1).
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
cpu=${BENCH_CPU:-$(($(nproc) - 1))}
kdc=$(mktemp -d) || exit 1
trap 'bash "$src/tests/krb5/kdc.sh" stop "$kdc"; rm -rf "$kdc"' EXIT
bash "$src/tests/krb5/kdc.sh" start "$kdc" >"$kdc.log" 2>&1 || {
    echo "gssapi bench: tests/krb5/kdc.sh failed:"; cat "$kdc.log"; rm -f "$kdc.log"; exit 1
}
rm -f "$kdc.log"
# shellcheck disable=SC1091
. "$kdc/env"
pin=()
command -v taskset >/dev/null && pin=(taskset -c "$cpu")
"${pin[@]}" ./tests/bench/bench_gssapi -c "$cpu" -r "${BENCH_ROUNDS:-11}" -n "${BENCH_GSSAPI_SCALE:-1}" || exit 1
command -v valgrind >/dev/null || { echo "valgrind not installed: no instruction counts"; exit 1; }
echo
printf '%-16s %14s %14s %8s\n' "GSSAPI case" "ours Ir" "cyrus Ir" ratio
status=0
for row in 0 1 2; do
    case $row in 0) name=exchange short=5 long=25 ;; 1) name=wrap-conf-64k short=5 long=25 ;;
                 2) name=wrap-integ-64k short=5 long=25 ;; esac
    declare -A ir=()
    for who in ours cyrus; do
        for n in $short $long; do
            f=$kdc/cg-$who-$row-$n
            if ! "${pin[@]}" valgrind --tool=callgrind --callgrind-out-file="$f" \
                ./tests/bench/bench_gssapi -1 "$who" -w "$row" -n "$n" >"$f.log" 2>&1; then
                echo "callgrind failed: $who $name -n $n"; tail -5 "$f.log"; status=1; continue 2
            fi
            ir[$who-$n]=$(sed -n 's/^summary: *//p' "$f")
        done
    done
    o=$(( (ir[ours-$long] - ir[ours-$short]) / (long - short) ))
    c=$(( (ir[cyrus-$long] - ir[cyrus-$short]) / (long - short) ))
    printf '%-16s %14s %14s %8.4f   %s\n' "$name" "$o" "$c" "$(awk -v a="$o" -v b="$c" 'BEGIN { print a / b }')" \
        "$(awk -v a="$o" -v b="$c" 'BEGIN { print a / b <= 1.0 ? "meets <= 1.0" : "OVER 1.0" }')"
done
echo "(callgrind, whole process, (Ir($long) - Ir($short)) / $((long - short)) per operation)"
exit $status
