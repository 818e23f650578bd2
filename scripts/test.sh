#!/bin/bash
# The test command: install what is missing, build, and run every test.
#   1. scripts/deps.sh (Debian packages)
#   2. a copy of the sources in build-test/src (the files git tracks plus the
#      untracked ones it does not ignore; without git, a plain copy cleaned
#      with `make distclean`), bootstrapped there: whatever the checkout's own
#      state (configured in place, built, never bootstrapped), it is neither
#      read nor changed
#   3. a gcc build with -Wall -Wextra -Werror and Debian's package build flags
#      (dpkg-buildflags, hardening=+all), `make check` (unit, in-process
#      driver, sample-server/client end to end)
#   4. the unit and driver programs again under valgrind (errors and leaks)
#   5. Postfix end to end, PLAIN/LOGIN through saslauthd, OpenLDAP with the OAuth
#      mechanisms, Cyrus IMAP with imtest, Postfix relaying with XOAUTH2 from a
#      chrooted smtp (and the README's relay guides, step by step), secret stores shared by two Postfix instances
#      (PostgreSQL, OpenLDAP) and their outages, the token tool, the plugin
#      selection command, the Debian packages built, checked with lintian,
#      installed, used and purged (tests/interop/*.sh: need root)
#   6. fuzzing smoke run (tests/fuzz/smoke.sh, FUZZ_SECONDS a target, default 12)
#   7. 8 threads of exchanges per mechanism under ThreadSanitizer
#   8. a clang build with -Werror (warning-free under both compilers)
#   9. `make distcheck` (the tarball builds and passes its tests)
# Ends with "N passed, N failed"; exits non-zero if anything failed.  A step
# that prints TAP counts its cases, and also fails when it exits non-zero or
# prints fewer (or more) results than its plan: every missing result is a
# failure.  Set SM_SKIP_DISTCHECK=1 to leave out step 9 while iterating;
# SM_TEST_OUT=DIR puts everything in DIR instead of build-test/.
set -u
srcdir=$(cd "$(dirname "$0")/.." && pwd)
out=${SM_TEST_OUT:-$srcdir/build-test}
case $out in /*) ;; *) out=$(pwd)/$out ;; esac
src=$out/src
jobs=$(nproc 2>/dev/null || echo 2)
passed=0 failed=0
summary=()

count_automake() {  # count_automake LOG NAME RC: add the totals of one test-suite.log
    local log=$1 name=$2 rc=$3 p f x n
    if [ ! -f "$log" ]; then
        failed=$((failed + 1)); summary+=("$name: no test-suite.log (exit $rc)"); return
    fi
    p=$(sed -n 's/^# PASS: *\([0-9][0-9]*\).*/\1/p' "$log" | head -1); p=${p:-0}
    f=0
    for x in FAIL ERROR XPASS; do
        n=$(sed -n "s/^# $x: *\([0-9][0-9]*\).*/\1/p" "$log" | head -1)
        f=$((f + ${n:-0}))
    done
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1; summary+=("$name: exit $rc with no failed test (counted as 1 failure)")
    fi
    passed=$((passed + p)); failed=$((failed + f))
    summary+=("$name: $p passed, $f failed")
}

# tap_step NAME COMMAND...: count the TAP results a command prints.  Beyond
# its "not ok" lines, a step fails when it prints no plan, fewer results than
# its plans add up to (each missing one counts), more results, or a
# "Bail out!", or when it exits non-zero without any failed case.
tap_step() {
    local name=$1 log rc p f planned nplans got note=; shift
    echo "=== $name"
    log=$(mktemp)
    "$@" 2>&1 | tee "$log" | grep -v '^ok '
    rc=${PIPESTATUS[0]}
    p=$(grep -c '^ok ' "$log"); f=$(grep -c '^not ok ' "$log")
    nplans=$(grep -c '^1\.\.[0-9]' "$log")
    planned=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$log" | awk '{ s += $1 } END { print s + 0 }')
    got=$((p + f))
    if [ "$nplans" -eq 0 ]; then
        f=$((f + 1)); note="no TAP plan (counted as 1 failure)"
    elif [ "$got" -lt "$planned" ]; then
        f=$((f + planned - got)); note="$got of $planned planned results (the missing $((planned - got)) counted as failures)"
    elif [ "$got" -gt "$planned" ]; then
        f=$((f + 1)); note="$got results for a plan of $planned (counted as 1 failure)"
    fi
    if [ -z "$note" ] && grep -q '^Bail out!' "$log"; then
        f=$((f + 1)); note="bailed out (counted as 1 failure)"
    fi
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1; note="exit $rc with no failed case (counted as 1 failure)"
    fi
    [ -n "$note" ] && echo "=== $name: $note"
    passed=$((passed + p)); failed=$((failed + f))
    summary+=("$name: $p passed, $f failed${note:+ ($note)}")
    rm -f "$log"
}

step() {  # step NAME COMMAND...: one pass/fail of its own
    local name=$1; shift
    echo "=== $name"
    if "$@"; then passed=$((passed + 1)); summary+=("$name: ok")
    else failed=$((failed + 1)); summary+=("$name: FAILED"); fi
}

# copy_sources: $srcdir's sources into $src, without any build output.
copy_sources() {
    mkdir -p "$src" || return 1
    if git -C "$srcdir" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        echo "copying the files git tracks or does not ignore"
        # a tracked file deleted in the work tree is still listed: skip it
        (cd "$srcdir" && git ls-files -z -c -o --exclude-standard |
            while IFS= read -r -d '' f; do
                if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
            done | tar --null -T - -cf -) | tar -xf - -C "$src" || return 1
    else
        echo "no git work tree: copying every file but build*/, then make distclean in the copy"
        (cd "$srcdir" && tar -cf - --exclude=./.git --exclude='./build*' \
            --exclude="./${out#"$srcdir"/}" .) | tar -xf - -C "$src" || return 1
        if [ -f "$src/config.status" ]; then
            (cd "$src" && make distclean >/dev/null) || {
                echo "the copy was configured in place and make distclean failed there" >&2
                return 1
            }
        fi
    fi
    [ -f "$src/configure.ac" ] || { echo "the copy has no configure.ac" >&2; return 1; }
}

step "dependencies" "$srcdir/scripts/deps.sh"

# a distcheck that failed leaves read-only folders behind
[ -d "$out" ] && chmod -R u+w "$out" 2>/dev/null
rm -rf "$out"
step "copy the sources (into $src)" copy_sources
step "bootstrap (in the copy)" "$src/bootstrap"

# --- gcc build and make check
mkdir -p "$out/gcc"
cd "$out/gcc" || exit 1
# With the flags of a Debian package build (dpkg-buildflags, hardening=+all:
# _FORTIFY_SOURCE, stack protector, relro, now), so that this make check is
# the one a package build's dh_auto_test runs: test_debian.sh then builds
# the packages with nocheck instead of running it again.
debflags() { DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get "$1"; }
step "configure (gcc)" "$src/configure" --enable-werror CC=gcc CFLAGS="$(debflags CFLAGS)" \
    CPPFLAGS="$(debflags CPPFLAGS)" LDFLAGS="$(debflags LDFLAGS)"
step "build (gcc, -Werror)" make -j"$jobs"
step "build benchmark programs" make -j"$jobs" tests/bench/bench tests/bench/threads
# Steps that start servers on this machine's shared state (Postfix's default
# main.cf, the system plugin directory they compare against) hold this lock,
# so that two test runs on one machine take turns (test_select.sh and
# test_debian.sh take it themselves).
SERVERS_LOCK=/tmp/sm-heavy.lock
locked() { flock "$SERVERS_LOCK" "$@"; }

echo "=== make check"
locked make -j"$jobs" check >"$out/check.out" 2>&1
rc=$?
tail -40 "$out/check.out"
grep -h '^not ok\|^ERROR\|^FAIL' tests/*/*.log 2>/dev/null | head -40
count_automake "$out/gcc/test-suite.log" "make check" "$rc"

# --- valgrind: every test program, errors and leaks
tap_step "valgrind" make -s -j"$jobs" check-valgrind

# --- a real MTA: Postfix smtpd and smtp with curl, gsasl, swaks
export SM_SRCDIR=$src SM_BUILDDIR=$out/gcc SM_PLUGIN_DIR=$out/gcc/.libs
tap_step "postfix" locked bash "$src/tests/interop/test_postfix.sh"
# Postfix relaying with XOAUTH2 from a chrooted smtp: token refresh, revocation, two senders
tap_step "postfix relay" locked bash "$src/tests/interop/test_relay.sh"
# README's "Relaying through Microsoft 365" and "Relaying through Gmail", each step run
tap_step "relay guides" locked bash "$src/tests/interop/test_guides.sh"
tap_step "saslauthd" locked bash "$src/tests/interop/test_saslauthd.sh"
# OAuth at fleet scale: two Postfix instances, introspection shared through memcached
tap_step "oauth fleet" locked bash "$src/tests/interop/test_oauth_fleet.sh"
# OpenLDAP: slapd with our OAuth servers, ldapwhoami with our OAuth clients
tap_step "ldap" locked bash "$src/tests/interop/test_ldap.sh"
# GSSAPI through Postfix (curl, Postfix's smtp client) against a throwaway KDC
tap_step "postfix GSSAPI" locked bash "$src/tests/interop/test_gssapi_postfix.sh"
# Cyrus IMAP with imtest: GSSAPI (ours and Cyrus's, every pair) and the OAuth mechanisms
tap_step "cyrus imap" locked bash "$src/tests/interop/test_imap.sh"
# sasl-mechs-token test against Postfix (STARTTLS, implicit TLS, none) and Cyrus imapd
tap_step "token test" locked bash "$src/tests/interop/test_token_test.sh"
# shared secret stores: PostgreSQL (SQL auxprop) and slapd (ldapdb auxprop) read
# by two Postfix instances; a password change, then each store stopped and back
tap_step "secret stores" locked bash "$src/tests/interop/test_stores.sh"
# sasl-mechs-token against the loopback IdP (Microsoft, Google, generic shapes), headless Chromium
tap_step "token tool" locked bash "$src/tests/interop/test_token_tool.sh"
# sasl-mechs-select on the system plugin directory: every switch and its undo,
# the refusals, GSS-SPNEGO, a reinstall of Cyrus's packages (holds /tmp/sm-heavy.lock)
tap_step "plugin selection" bash "$src/tests/interop/test_select.sh"

# --- the plugins built against the headers of Cyrus's next release (derived
# from the system's at test time), and refused by the guard under 2.1.28
tap_step "next libsasl2 layout" bash "$src/tests/test_next_layout.sh"
# The Debian packages: built (nocheck: make check ran above), lintian, installed
# next to Cyrus's, the autopkgtest smoke test, removed and purged
tap_step "debian packages" bash "$src/tests/interop/test_debian.sh"

# --- fuzzing: every target for a bounded time, with sanitizers
tap_step "fuzz smoke" env FUZZ_BUILDDIR="$out/fuzz" bash "$src/tests/fuzz/smoke.sh"

# --- concurrency: plugins and tests/bench/threads built with -fsanitize=thread
tap_step "threads under TSan" env TSAN_BUILDDIR="$out/tsan" bash "$src/tests/bench/tsan.sh"

# --- clang build: warnings are errors here too
mkdir -p "$out/clang"; cd "$out/clang" || exit 1
step "configure (clang)" "$src/configure" --enable-werror CC=clang
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
