#!/bin/bash
# A long fuzzing campaign: every fuzz target (or the ones named), one after
# the other, each for SECONDS (default 600), in the clang libFuzzer + ASan +
# UBSan build that smoke.sh configures in $FUZZ_BUILDDIR (default
# build-fuzz/).  One target at a time: run it on an otherwise idle core.
#   tests/fuzz/campaign.sh [SECONDS] [TARGET...]
#   e.g. tests/fuzz/campaign.sh 900 server_login client_login
# FUZZ_RUNS=N also stops a target after N executions.  The corpus each
# target grows is kept in $FUZZ_BUILDDIR/campaign-corpus/<target> (or
# FUZZ_CORPUS_DIR), so a second campaign goes on from the first.  Prints
# TAP and the table of smoke.sh (target, executions, seconds, exec/s,
# findings, corpus, coverage); exits non-zero if any target found a crash,
# leak, timeout or out-of-memory, written to $FUZZ_BUILDDIR/findings/.
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
export FUZZ_BUILDDIR=${FUZZ_BUILDDIR:-$src/build-fuzz}
export FUZZ_SECONDS=${1:-600}
[ $# -gt 0 ] && shift
bash "$src/tests/fuzz/smoke.sh" build || { echo "fuzz build failed (see $FUZZ_BUILDDIR/build.out)"; exit 1; }
cd "$FUZZ_BUILDDIR" || exit 1
export FUZZ_CORPUS_DIR=${FUZZ_CORPUS_DIR:-$FUZZ_BUILDDIR/campaign-corpus}
if [ $# -eq 0 ]; then    # every target this build has (a corpus folder each)
    for t in $(ls "$src/tests/fuzz/corpus"); do
        if [ -x "tests/fuzz/$t" ]; then set -- "$@" "$t"; else echo "# $t: not built here, skipped"; fi
    done
fi
targets=
for t in "$@"; do
    t=${t##*/}
    [ -x "tests/fuzz/$t" ] || { echo "no fuzz target $t in $FUZZ_BUILDDIR/tests/fuzz"; exit 1; }
    targets="$targets tests/fuzz/$t"
done
rev=$(git -C "$src" rev-parse --short HEAD 2>/dev/null) \
    && { git -C "$src" diff --quiet HEAD || rev="$rev with local changes"; } || rev="an unknown commit"
echo "# campaign of $rev, ${FUZZ_SECONDS}s a target, $(date -u +%Y-%m-%dT%H:%MZ)"
exec bash "$src/tests/fuzz/smoke.sh" run $targets
