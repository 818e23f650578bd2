#!/bin/bash
# Where ours and Cyrus's differ, function by function, per exchange: reads
# the callgrind files that tests/bench/run.sh keeps with BENCH_CALLGRIND_DIR
# (WHO-STEM-N for ours and cyrus, N the long and the short run) and prints,
# for every function (named with its object file), the instructions spent in
# it (self), in it and what it calls (incl), and how often it is called, per
# exchange: (value in the long run - value in the short run) / (LONG - SHORT).
# Sorted by the largest difference in self instructions.  For an OAuth case
# (XOAUTH2-RS256, OAUTHBEARER-INTROSPECT, ...) the other side is our PLAIN
# (ours-plain-N), as in run.sh's OAuth rows.
#   BENCH_CALLGRIND_DIR=/tmp/cg make bench
#   tests/bench/cgdiff.sh [-n TOP] [-s incl|self|calls] /tmp/cg PLAIN [LONG SHORT]
#   tests/bench/cgdiff.sh /tmp/cg XOAUTH2-RS256
set -u
top=30 sortby=self
while getopts n:s: o; do
    case $o in
    n) top=$OPTARG ;;
    s) sortby=$OPTARG ;;
    *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
if [ $# -lt 2 ]; then
    echo "usage: cgdiff.sh [-n TOP] [-s incl|self|calls] DIR MECH [LONG SHORT]" >&2
    exit 2
fi
dir=$1 long=${3:-300} short=${4:-100}
case $2 in CRAM-MD5 | crammd5) s=crammd5 ;; *) s=$(echo "$2" | tr '[:upper:]' '[:lower:]') ;; esac
# the two sides: file prefix, plugin stem, column title
a=ours-$s pa=$s ta=ours b=cyrus-$s pb=$s tb=cyrus
case $s in *-rs256 | *-rs256-cached | *-introspect) pa=${s%%-*} b=ours-plain pb=plain tb=PLAIN ;; esac
for f in $a-$long $a-$short $b-$long $b-$short; do
    [ -r "$dir/$f" ] || { echo "cgdiff.sh: no $dir/$f" >&2; exit 1; }
done
# One callgrind file -> "key<TAB>self<TAB>incl<TAB>calls" per function, the
# key being "function [object file]".  Position compression and name
# compression ("(id) name", later "(id)") as callgrind writes them; the
# plugin files of the two sides are named alike (PLUGIN) so that their
# functions line up where the names match; PLT stubs (object ???) are one
# line.
parse() { # FILE PLUGIN-STEM
    awk -v stem="$2" '
    function nm(kind, s,    id, rest) {
        if (s !~ /^\(/) return s
        id = substr(s, 1, index(s, ")"))
        rest = substr(s, length(id) + 2)
        if (rest != "") names[kind, id] = rest
        return names[kind, id]
    }
    function obj(o,    b) {
        b = o; sub(/.*\//, "", b)
        if (b == "libsaslmechs_" stem ".so" || index(b, "lib" stem ".so") == 1) return "PLUGIN"
        return b
    }
    function key(f, o) { return o == "???" ? "(PLT stubs) [???]" : f " [" o "]" }
    /^ob=/ { ob = obj(nm("ob", substr($0, 4))); next }
    /^cob=/ { cob = obj(nm("ob", substr($0, 5))); next }
    /^fn=/ { fn = key(nm("fn", substr($0, 4)), ob); seen[fn] = 1; next }
    /^cfn=/ { cfn = key(nm("fn", substr($0, 5)), cob != "" ? cob : ob); next }
    /^calls=/ { split(substr($0, 7), a, " "); calls[cfn] += a[1]; seen[cfn] = 1; incall = 1; next }
    /^[0-9+*-]/ {
        if (incall) { incl[fn] += $2; incall = 0; cob = "" }
        else { self[fn] += $2; incl[fn] += $2 }
        next
    }
    END { for (k in seen) printf "%s\t%.0f\t%.0f\t%.0f\n", k, self[k], incl[k], calls[k] }
    ' "$1"
}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
parse "$dir/$a-$long" "$pa" >"$tmp/oL"
parse "$dir/$a-$short" "$pa" >"$tmp/oS"
parse "$dir/$b-$long" "$pb" >"$tmp/cL"
parse "$dir/$b-$short" "$pb" >"$tmp/cS"
printf '%9s %9s %9s %9s %9s %7s %7s  %s\n' "$ta" "$tb" "self" "incl" "incl" "calls" "calls" ""
printf '%9s %9s %9s %9s %9s %7s %7s  %s\n' "self" "self" "diff" "$ta" "$tb" "$ta" "$tb" "function [object]"
awk -F'\t' -v n=$((long - short)) -v sortby="$sortby" -v mech="$2" '
    function add(sign, w) { all[$1] = 1; v[w, "s", $1] += sign * $2; v[w, "i", $1] += sign * $3; v[w, "c", $1] += sign * $4 }
    FILENAME ~ /oL$/ { add(1, "o") }
    FILENAME ~ /oS$/ { add(-1, "o") }
    FILENAME ~ /cL$/ { add(1, "c") }
    FILENAME ~ /cS$/ { add(-1, "c") }
    function abs(x) { return x < 0 ? -x : x }
    END {
        c = sortby == "incl" ? "i" : sortby == "calls" ? "c" : "s"
        for (k in all) {
            os = v["o", "s", k] / n; cs = v["c", "s", k] / n
            d = (v["o", c, k] - v["c", c, k]) / n
            tos += os; tcs += cs
            if (abs(os - cs) < 0.5 && abs(d) < 0.005) continue
            printf "%.3f\t%9.1f %9.1f %9.1f %9.1f %9.1f %7.2f %7.2f  %s\n", abs(d), os, cs, os - cs,
                v["o", "i", k] / n, v["c", "i", k] / n, v["o", "c", k] / n, v["c", "c", k] / n, k
        }
        printf "0\t%9.1f %9.1f %9.1f  %s: all functions, per exchange\n", tos, tcs, tos - tcs, mech > "/dev/stderr"
    }' "$tmp/oL" "$tmp/oS" "$tmp/cL" "$tmp/cS" 2>"$tmp/total" | sort -t"$(printf '\t')" -k1,1gr | head -n "$top" | cut -f2-
cut -f2- "$tmp/total"
