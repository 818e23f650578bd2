#!/bin/bash
# Fuzzing with libFuzzer, ASan and UBSan.
#   smoke.sh            configure a clang sanitizer build in $FUZZ_BUILDDIR
#                       (default build-fuzz/), then run every target for
#                       FUZZ_SECONDS (default 12) each: `make fuzz-smoke`
#   smoke.sh build      configure and build the targets only
#   smoke.sh run T...   run the given target programs, from the build folder
# Prints TAP, one case per target (`not ok` on a crash, leak, timeout or
# out-of-memory), then a table: executions, seconds, executions a second,
# findings (crash/leak/timeout/oom files written), corpus size and coverage.
# Exits non-zero if any target found something.
# Settings of `run`: FUZZ_SECONDS a target; FUZZ_RUNS, if set, also stops a
# target after that many executions; FUZZ_CORPUS_DIR, if set, keeps the
# corpus each target grows in FUZZ_CORPUS_DIR/<target> (else a temporary
# folder); the seeds of tests/fuzz/corpus/<target> are always read too.
# A long campaign is tests/fuzz/campaign.sh.  Findings land in findings/ of
# the build folder with the target's log; minimise one with -minimize_crash=1,
# fix the bug, and add the input to tests/fuzz/corpus/<target>/ so `make check`
# replays it for ever.
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${FUZZ_SECONDS:-12}

if [ "${1:-}" != run ]; then
    build=${FUZZ_BUILDDIR:-$src/build-fuzz}
    mkdir -p "$build" && cd "$build" || exit 1
    if [ ! -f Makefile ]; then
        [ -x "$src/configure" ] || "$src/bootstrap" || exit 1
        "$src/configure" --enable-fuzzers CC=clang \
            CFLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined -fsanitize=fuzzer-no-link" \
            LDFLAGS="-fsanitize=address,undefined" >configure.out 2>&1 \
            || { echo "1..1"; echo "not ok 1 - configure of the fuzz build failed"; tail -20 configure.out; exit 1; }
    fi
    if [ "${1:-}" = build ]; then
        make -j"$(nproc)" fuzz-build >build.out 2>&1 || { tail -30 build.out; exit 1; }
        exit 0
    fi
    exec make -j"$(nproc)" fuzz-smoke
fi
shift
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p findings
echo "1..$#"
n=0 failed=0
table=$(printf '%-20s %12s %8s %8s %8s %8s %6s %7s' target executions seconds exec/s findings corpus cov ft)
for t in "$@"; do
    n=$((n + 1)); name=${t##*/}
    if [ -n "${FUZZ_CORPUS_DIR:-}" ]; then
        work=$FUZZ_CORPUS_DIR/$name; mkdir -p "$work"
    else
        work=$(mktemp -d)
    fi
    log=findings/$name.log
    found_before=$(ls findings/ | grep -cE "^$name-(crash|leak|timeout|oom)-")
    start=$(date +%s)
    "$t" -max_total_time="$seconds" ${FUZZ_RUNS:+-runs="$FUZZ_RUNS"} -max_len=4096 \
        -timeout=10 -rss_limit_mb=2048 -dict="$src/tests/fuzz/dict/sasl.dict" \
        -artifact_prefix="findings/$name-" -print_final_stats=1 \
        "$work" "$src/tests/fuzz/corpus/$name" >"$log" 2>&1
    rc=$?
    elapsed=$(($(date +%s) - start))
    found=$(($(ls findings/ | grep -cE "^$name-(crash|leak|timeout|oom)-") - found_before))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    [ -n "$execs" ] || execs=$(echo "$last" | sed -n 's/^#\([0-9]*\).*/\1/p')
    corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p')
    cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\) .*/\1/p')
    ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\) .*/\1/p')
    if [ $rc -eq 0 ] && [ "$found" -eq 0 ]; then
        echo "ok $n - $name: ${execs:-?} executions in ${elapsed}s"
    else
        failed=1
        echo "not ok $n - $name: fuzzer exit $rc after ${execs:-?} executions, $found finding(s) (see $PWD/$log)"
        grep -E 'ERROR|SUMMARY|abort|authenticated|Test unit written' "$log" | head -10 | sed 's/^/# /'
    fi
    table="$table
$(printf '%-20s %12s %8s %8s %8s %8s %6s %7s' "$name" "${execs:-?}" "$elapsed" "${rate:-?}" "$found" "${corp:-?}" "${cov:-?}" "${ft:-?}")"
    [ -n "${FUZZ_CORPUS_DIR:-}" ] || rm -rf "$work"
done
echo "$table" | sed 's/^/# /'
exit $failed
