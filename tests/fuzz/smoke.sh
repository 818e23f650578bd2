#!/bin/bash
# Fuzzing with libFuzzer, ASan and UBSan.
#   smoke.sh            configure a clang sanitizer build in build-fuzz/ and
#                       run every target for FUZZ_SECONDS (default 30) each
#   smoke.sh run T...   (what `make fuzz-smoke` calls in such a build)
# A long campaign: FUZZ_SECONDS=3600 tests/fuzz/smoke.sh, or run one target by
# hand: build-fuzz/tests/fuzz/server_plain -dict=tests/fuzz/dict/sasl.dict \
#   -max_len=4096 CORPUS_DIR tests/fuzz/corpus/server_plain
# Crashes are written to build-fuzz/findings/; minimise one with -minimize_crash=1,
# fix the bug, and add the input to tests/fuzz/corpus/<target>/ so `make check`
# replays it for ever.  Prints TAP, one case per target, and a table of
# executions per target.
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${FUZZ_SECONDS:-30}

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
    exec make -j"$(nproc)" fuzz-smoke
fi
shift
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p findings
echo "1..$#"
n=0 failed=0 table=""
for t in "$@"; do
    n=$((n + 1)); name=${t##*/}
    work=$(mktemp -d)
    cp "$src/tests/fuzz/corpus/$name"/* "$work"/ 2>/dev/null
    log=findings/$name.log
    "$t" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
        -dict="$src/tests/fuzz/dict/sasl.dict" -artifact_prefix="findings/$name-" \
        -print_final_stats=1 "$work" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ $rc -eq 0 ]; then
        echo "ok $n - $name: ${execs:-?} executions in ${seconds}s"
    else
        failed=1
        echo "not ok $n - $name: fuzzer exit $rc after ${execs:-?} executions (see $PWD/$log)"
        grep -E 'ERROR|SUMMARY|abort|Test unit written' "$log" | head -10 | sed 's/^/# /'
    fi
    table="$table$(printf '%-16s %12s' "$name" "${execs:-?}")\n"
    rm -rf "$work"
done
printf '# target           executions\n'; printf "$table" | sed 's/^/# /'
exit $failed
