#!/bin/bash
# `make check`: replay every fuzz corpus (seeds and every input that ever
# crashed) through its target built without libFuzzer.  TAP, one case each.
set -u
build=${SM_BUILDDIR:-.}
src=${SM_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
targets=$(ls "$src/tests/fuzz/corpus")
n=0 failed=0
echo "1..$(echo "$targets" | wc -w)"
for t in $targets; do
    n=$((n + 1))
    if [ ! -x "$build/tests/fuzz/$t" ]; then
        echo "not ok $n - $t: target not built"; failed=1; continue
    fi
    if out=$("$build/tests/fuzz/$t" "$src/tests/fuzz/corpus/$t" 2>&1); then
        echo "ok $n - $t: $(echo "$out" | sed -n 's/^ok 1 - //p')"
    else
        echo "not ok $n - $t"; echo "$out" | sed 's/^/# /' | tail -20; failed=1
    fi
done
exit $failed
