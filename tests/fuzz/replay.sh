#!/bin/bash
# `make check`: replay every fuzz corpus (seeds and every input that ever
# crashed) through its target built without libFuzzer.  TAP, one case each.
# Then the oracle's own test: each corpus/<server target>/learned-password-PW
# carries the password PW (issue 6, section 7).  Replayed above with a fresh
# random password it must not authenticate; replayed with the secret fixed
# to PW (FUZZ_FIXED_SECRET, honoured only in this build) the oracle must
# abort, which shows the input still reaches the password check.
set -u
build=${SM_BUILDDIR:-.}
src=${SM_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
targets=$(ls "$src/tests/fuzz/corpus")
learned=$(cd "$src/tests/fuzz/corpus" && ls -d */learned-password-* 2>/dev/null)
# what this configuration builds (written by make); without it, every target
built=" $(cat "$build/tests/fuzz/targets.list" 2>/dev/null || for t in $targets; do printf 'tests/fuzz/%s ' "$t"; done) "
n=0 failed=0
ulimit -c 0
echo "1..$(echo $targets $learned | wc -w)"
for t in $targets; do
    n=$((n + 1))
    if [ "${built#* tests/fuzz/$t }" = "$built" ]; then
        echo "ok $n - $t # SKIP not built in this configuration"; continue
    fi
    if [ ! -x "$build/tests/fuzz/$t" ]; then
        echo "not ok $n - $t: target not built"; failed=1; continue
    fi
    if out=$("$build/tests/fuzz/$t" "$src/tests/fuzz/corpus/$t" 2>&1); then
        echo "ok $n - $t: $(echo "$out" | sed -n 's/^ok 1 - //p')"
    else
        echo "not ok $n - $t"; echo "$out" | sed 's/^/# /' | tail -20; failed=1
    fi
done
for f in $learned; do
    n=$((n + 1)); t=${f%%/*}; pw=${f##*/learned-password-}
    if [ "${built#* tests/fuzz/$t }" = "$built" ]; then
        echo "ok $n - $f # SKIP $t not built in this configuration"; continue
    fi
    out=$(FUZZ_FIXED_SECRET=$pw "$build/tests/fuzz/$t" "$src/tests/fuzz/corpus/$f" 2>&1)
    if [ $? -ne 0 ] && echo "$out" | grep -q 'server authenticated without the password'; then
        echo "ok $n - oracle fires on $f when the password is $pw"
    else
        echo "not ok $n - $f no longer authenticates with its own password: the regression tests nothing"
        echo "$out" | sed 's/^/# /' | tail -20; failed=1
    fi
done
exit $failed
