#!/bin/bash
# Run test programs under valgrind (memcheck): any memory error or any
# definite, indirect or possible leak fails.  Prints TAP, one case a program.
# Usage: valgrind.sh PROGRAM...   (from the build directory)
set -u
srcdir=${SM_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
if ! command -v valgrind >/dev/null; then
    echo "1..1"; echo "not ok 1 - valgrind is not installed (scripts/deps.sh installs it)"; exit 1
fi
echo "1..$#"
n=0 failed=0
for prog in "$@"; do
    n=$((n + 1))
    log=$(mktemp)
    args=()
    # a fuzz target replays its corpus
    case $prog in tests/fuzz/*) args=("$srcdir/tests/fuzz/corpus/${prog##*/}") ;; esac
    # libtool's wrapper script must not itself run under valgrind.  A failing
    # test case is make check's to report; here valgrind's verdict counts:
    # exit 99, a crash, or (--quiet prints nothing else) any "==PID==" line,
    # which also catches errors in the children the driver forks
    ./libtool --mode=execute valgrind --quiet --error-exitcode=99 \
        --leak-check=full --show-leak-kinds=definite,indirect,possible \
        --errors-for-leak-kinds=definite,indirect,possible \
        --suppressions="$srcdir/tests/valgrind.supp" --gen-suppressions=all \
        "$prog" "${args[@]}" >"$log" 2>&1
    rc=$?
    if [ $rc -ne 99 ] && [ $rc -lt 128 ] && ! grep -q '^==[0-9]*== ' "$log"; then
        echo "ok $n - valgrind clean: $prog"
    else
        failed=$((failed + 1))
        echo "not ok $n - valgrind: $prog"
        sed -e 's/^/# /' "$log" | grep -v '^# ok ' | tail -60
    fi
    rm -f "$log"
done
exit $((failed > 0))
