#!/bin/bash
# Concurrency under ThreadSanitizer: our plugins and the thread test built
# with clang -fsanitize=thread in build-tsan/, then 8 threads at once per
# mechanism, and per OAuth case where the OAuth plugins are built (the
# cases of tests/bench/run.sh, with RS256-CACHED: the verifier's key set
# and caches shared by the threads; tests/bench/oauth-setup.sh).  TAP from
# tests/bench/threads; any race report fails.  Then, where cmocka is found, the
# verifier's key set with a JWKS fetch held open while other threads
# validate (tests/unit/test_oauth_verify, its own TAP plan).
#   TSAN_BUILDDIR=DIR [TSAN_OAUTH_CASES="..."] tests/bench/tsan.sh
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
# the OAuth cases: oauth_mint exists only where libcurl and jansson do
make tests/oauth/oauth_mint >>make.out 2>&1
oauth_cases=${TSAN_OAUTH_CASES-XOAUTH2-RS256 XOAUTH2-RS256-CACHED XOAUTH2-INTROSPECT OAUTHBEARER-RS256 OAUTHBEARER-RS256-CACHED OAUTHBEARER-INTROSPECT}
mint=$build/tests/oauth/oauth_mint
status=0
work=$(mktemp -d) || exit 1
# shellcheck source=oauth-setup.sh
. "$src/tests/bench/oauth-setup.sh"
trap 'oauth_cleanup; rm -rf "$work"' EXIT
trap 'exit 1' INT TERM HUP
if [ -n "$oauth_cases" ]; then
    oauth_setup 2>"$work/oauth-setup.err"
    sed 's/^/# /' "$work/oauth-setup.err"
fi
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1"
# shellcheck disable=SC2086
./libtool --mode=execute ./tests/bench/threads -t 8 -n 200 PLAIN LOGIN CRAM-MD5 NTLM $oauth_cases \
    || status=1
if [ -n "$oauth_cases" ] && grep -q '^CMOCKA_LIBS = .*cmocka' Makefile; then
    if make tests/unit/test_oauth_verify >>make.out 2>&1; then
        CMOCKA_MESSAGE_OUTPUT=TAP SM_SRCDIR=$src SM_BUILDDIR=$build \
            ./libtool --mode=execute ./tests/unit/test_oauth_verify || status=1
    else
        echo "1..1"; echo "not ok 1 - TSan build of tests/unit/test_oauth_verify failed"
        tail -20 make.out | sed 's/^/# /'; status=1
    fi
fi
exit $status
