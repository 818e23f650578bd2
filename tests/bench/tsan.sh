#!/bin/bash
# Concurrency under ThreadSanitizer: our plugins and the thread test built
# with clang -fsanitize=thread in build-tsan/, then 8 threads at once per
# mechanism.  TAP from tests/bench/threads; any race report fails.
#   TSAN_BUILDDIR=DIR tests/bench/tsan.sh
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${TSAN_BUILDDIR:-$src/build-tsan}
mkdir -p "$build" && cd "$build" || exit 1
if [ ! -f Makefile ]; then
    [ -x "$src/configure" ] || "$src/bootstrap" || exit 1
    "$src/configure" CC=clang CFLAGS="-g -O1 -fsanitize=thread" LDFLAGS="-fsanitize=thread" \
        >configure.out 2>&1 || { echo "1..1"; echo "not ok 1 - configure of the TSan build failed"; exit 1; }
fi
if ! make -j"$(nproc)" all tests/bench/threads >make.out 2>&1; then
    echo "1..1"; echo "not ok 1 - TSan build failed"; tail -20 make.out | sed 's/^/# /'; exit 1
fi
export SM_PLUGIN_DIR=$build/.libs SM_SYSTEM_PLUGIN_DIR=${SM_SYSTEM_PLUGIN_DIR:-$(pkg-config --variable=libdir libsasl2)/sasl2}
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1"
./libtool --mode=execute ./tests/bench/threads -t 8 -n 200
