#!/bin/bash
# The test command: install what is missing, build, and run every test.
#   1. scripts/deps.sh (Debian packages)
#   2. a gcc build with -Wall -Wextra -Werror, `make check` (unit, in-process
#      driver, sample-server/client end to end)
#   3. the unit and driver programs again under valgrind (errors and leaks)
#   4. a clang build with -Werror (warning-free under both compilers)
#   5. Postfix end to end, and PLAIN/LOGIN through saslauthd (tests/interop/
#      test_postfix.sh, test_saslauthd.sh: need root)
#   6. fuzzing smoke run (tests/fuzz/smoke.sh, FUZZ_SECONDS a target, default 30)
#   7. 8 threads of exchanges per mechanism under ThreadSanitizer
#   8. `make distcheck` (the tarball builds and passes its tests)
# Ends with "N passed, N failed"; exits non-zero if anything failed.
# Set SM_SKIP_DISTCHECK=1 to leave out step 5 while iterating.
set -u
srcdir=$(cd "$(dirname "$0")/.." && pwd)
out=${SM_TEST_OUT:-$srcdir/build-test}
jobs=$(nproc 2>/dev/null || echo 2)
passed=0 failed=0
summary=()

count_automake() {  # add the totals of one build's test-suite.log
    local log=$1 p f
    if [ ! -f "$log" ]; then
        failed=$((failed + 1)); summary+=("$2: no test-suite.log"); return
    fi
    p=$(sed -n 's/^# PASS: *//p' "$log" | head -1)
    f=$(( $(sed -n 's/^# FAIL: *//p' "$log" | head -1) + $(sed -n 's/^# ERROR: *//p' "$log" | head -1) \
          + $(sed -n 's/^# XPASS: *//p' "$log" | head -1) ))
    passed=$((passed + p)); failed=$((failed + f))
    summary+=("$2: $p passed, $f failed")
}

tap_step() {  # tap_step NAME COMMAND...: count the TAP lines a command prints
    local name=$1 log p f; shift
    echo "=== $name"
    log=$(mktemp)
    "$@" 2>&1 | tee "$log" | grep -v '^ok '
    p=$(grep -c '^ok ' "$log"); f=$(grep -c '^not ok ' "$log")
    [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && f=1  # printed no test: that is a failure
    passed=$((passed + p)); failed=$((failed + f)); summary+=("$name: $p passed, $f failed")
    rm -f "$log"
}

step() {  # step NAME COMMAND...: one pass/fail of its own
    local name=$1; shift
    echo "=== $name"
    if "$@"; then passed=$((passed + 1)); summary+=("$name: ok")
    else failed=$((failed + 1)); summary+=("$name: FAILED"); fi
}

step "dependencies" "$srcdir/scripts/deps.sh"
step "bootstrap" "$srcdir/bootstrap"

# --- gcc build and make check
rm -rf "$out"; mkdir -p "$out/gcc"
cd "$out/gcc" || exit 1
step "configure (gcc)" "$srcdir/configure" --enable-werror CC=gcc
step "build (gcc, -Werror)" make -j"$jobs"
step "build benchmark programs" make -j"$jobs" tests/bench/bench tests/bench/threads
echo "=== make check"
make -j"$jobs" check >"$out/check.out" 2>&1
tail -40 "$out/check.out"
grep -h '^not ok\|^ERROR\|^FAIL' tests/*/*.log 2>/dev/null | head -40
count_automake "$out/gcc/test-suite.log" "make check"

# --- valgrind: every test program, errors and leaks
tap_step "valgrind" make -s -j"$jobs" check-valgrind

# --- a real MTA: Postfix smtpd and smtp with curl, gsasl, swaks
export SM_SRCDIR=$srcdir SM_BUILDDIR=$out/gcc SM_PLUGIN_DIR=$out/gcc/.libs
tap_step "postfix" bash "$srcdir/tests/interop/test_postfix.sh"
tap_step "saslauthd" bash "$srcdir/tests/interop/test_saslauthd.sh"

# --- fuzzing: every target for a bounded time, with sanitizers
tap_step "fuzz smoke" env FUZZ_BUILDDIR="$out/fuzz" bash "$srcdir/tests/fuzz/smoke.sh"

# --- concurrency: plugins and tests/bench/threads built with -fsanitize=thread
tap_step "threads under TSan" env TSAN_BUILDDIR="$out/tsan" bash "$srcdir/tests/bench/tsan.sh"

# --- clang build: warnings are errors here too
mkdir -p "$out/clang"; cd "$out/clang" || exit 1
step "configure (clang)" "$srcdir/configure" --enable-werror CC=clang
step "build (clang, -Werror)" make -j"$jobs" all
step "build tests (clang, -Werror)" make -j"$jobs" check TESTS=

# --- distcheck
if [ "${SM_SKIP_DISTCHECK:-0}" != 1 ]; then
    cd "$out/gcc" || exit 1
    step "make distcheck" make -j"$jobs" distcheck
fi

echo
echo "=== summary"
printf '  %s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
