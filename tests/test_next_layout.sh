#!/bin/bash
# The plugins build against the headers of Cyrus SASL's next release, and the
# guard then refuses them under this machine's libsasl2 2.1.28 (the reverse of
# tests/driver/test_abi's first case).  Prints TAP.
#
# No copy of those headers is kept: they are derived here, at test time, from
# the system's (libsasl2-dev): saslplug.h without the md5/hmac-md5 includes and
# the eight MD5/HMAC members of sasl_utils_t, SASL_UTILS_VERSION 5; sasl.h with
# SASL_CB_SERVER_CHANNEL_BINDING, as that release's has; prop.h and saslutil.h as they are; no md5.h, hmac-md5.h or
# md5global.h (the next release ships none).  Then a VPATH configure and build
# of the plugins and of tests/driver/test_abi with those headers first on the
# include path.
#
# Needs SM_SRCDIR (the sources).  About 1-2 minutes on two cores.
set -u
src=${SM_SRCDIR:?SM_SRCDIR must name the sources}
sysinc=${SM_SASL_INCLUDE:-/usr/include/sasl}
jobs=${SM_JOBS:-2}
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() { # DESCRIPTION COMMAND...
    local d=$1; shift
    if "$@"; then ok "$d"; else notok "$d"; fi
}
finish() { echo "1..$n"; exit $((failed > 0)); }

tmp=$(mktemp -d /tmp/sm-next-layout.XXXXXX) || { notok "mktemp"; finish; }
trap 'rm -rf "$tmp"' EXIT
inc=$tmp/include/sasl
mkdir -p "$inc" "$tmp/build"

# ---- the next layout's headers, derived from the system's
derive() {
    local f
    for f in sasl.h prop.h saslutil.h saslplug.h; do
        [ -f "$sysinc/$f" ] || { echo "# no $sysinc/$f (libsasl2-dev)"; return 1; }
    done
    cp "$sysinc/prop.h" "$sysinc/saslutil.h" "$inc/" || return 1
    awk '
        /^#ifndef (MD5GLOBAL_H|MD5_H|HMAC_MD5_H)$/ { skip = 3 }
        skip > 0 { skip--; next }
        /\/\* MD5 hash and HMAC functions \*\// { members = 1; next }
        members && /hmac_md5_import/ { members = 0; next }
        members { next }
        /^#define SASL_UTILS_VERSION / { print "#define SASL_UTILS_VERSION 5"; next }
        { print }' "$sysinc/saslplug.h" >"$inc/saslplug.h" || return 1
    awk '
        { print }
        /^#define SASL_CB_CANON_USER / {
            print "typedef int sasl_server_channel_binding_t(sasl_conn_t *conn, void *context,"
            print "                                          const char *plugin, const char *cbindingname);"
            print "#define SASL_CB_SERVER_CHANNEL_BINDING (0x8008)"
        }' "$sysinc/sasl.h" >"$inc/sasl.h" || return 1
    ! grep -q 'MD5\|hmac_md5\|md5\.h' "$inc/saslplug.h" \
        && grep -q '^#define SASL_UTILS_VERSION 5$' "$inc/saslplug.h" \
        && grep -q 'SASL_CB_SERVER_CHANNEL_BINDING' "$inc/sasl.h"
}
check "the next layout's headers derived from $sysinc (no MD5/HMAC member or header, SASL_UTILS_VERSION 5)" derive

# sasl_utils_t is 64 bytes smaller there: eight pointers
size_of_utils() { # INCLUDE-DIR
    printf '#include <stdio.h>\n#include <sasl/sasl.h>\n#include <sasl/saslplug.h>\nint main(void) { printf("%%zu\\n", sizeof(sasl_utils_t)); return 0; }\n' \
        >"$tmp/size.c" && cc ${1:+-I"$1"} -o "$tmp/size" "$tmp/size.c" && "$tmp/size"
}
old=$(size_of_utils "") new=$(size_of_utils "$tmp/include")
if [ -n "$old" ] && [ -n "$new" ] && [ $((old - new)) -eq 64 ]; then
    ok "sasl_utils_t: $old bytes in the system's headers, $new in the derived ones"
else
    notok "sasl_utils_t should be 64 bytes smaller in the derived headers (got '$old' and '$new')"
fi

# ---- configure and build against them
cd "$tmp/build" || finish
"$src/configure" --enable-werror CPPFLAGS="-I$tmp/include" --with-plugindir="$tmp/plugins" \
    >configure.out 2>&1
check "configure with the derived headers first on the include path" test $? -eq 0
check "configure reports the next layout (libsasl2 next ABI (utils v5): yes)" \
    grep -q 'libsasl2 next ABI (utils v5): yes' configure.out
if make -j"$jobs" all tests/driver/test_abi tests/driver/standin_next.la \
    tests/driver/standin_md5.la >make.out 2>&1; then
    ok "the plugins build against the next layout's headers (-Werror)"
else
    notok "the plugins build against the next layout's headers (-Werror)"
    tail -30 make.out | sed 's/^/# /'
fi
plugins=(.libs/libsaslmechs_*.so)
check "${#plugins[@]} plugins built: ${plugins[*]##*/}" test -f "${plugins[0]}"

# ---- the guard, the other way round: these plugins refuse 2.1.28's layout
# the stand-in without _sasl_MD5Init is now the right layout, the one with it
# (and the real libsasl2) the wrong one
out=$(SM_PLUGIN_DIR=$PWD/.libs SM_BUILDDIR=$PWD tests/driver/test_abi 2>&1)
rc=$?
{ echo "$out" | grep '^not ok '; echo "$out" | grep -v '^ok \|^not ok ' | head -3; } | sed 's/^/# /' 
total=$(echo "$out" | grep -c '^ok ')
bad=$(echo "$out" | grep -c '^not ok ')
check "tests/driver/test_abi built for the next layout: $total cases passed, $bad failed" \
    test "$rc" -eq 0 -a "$bad" -eq 0 -a "$total" -gt 0
check "it says these plugins were compiled for the layout without the MD5 helpers" \
    grep -q 'compiled for the layout without the MD5 helpers' <<<"$out"

if command -v saslpluginviewer >/dev/null; then
    v=$(pkg-config --modversion libsasl2)
    listed=$(saslpluginviewer -p "$PWD/.libs" -s 2>&1; saslpluginviewer -p "$PWD/.libs" -c 2>&1)
    if grep -q 'Plugin "saslmechs_' <<<"$listed"; then
        notok "the real libsasl2 ($v) loads none of them (saslpluginviewer)"
    else
        ok "the real libsasl2 ($v) loads none of them (saslpluginviewer)"
    fi
    # on a terminal the refusal is also on stderr (script(1) gives one)
    said=$(script -qec "saslpluginviewer -p '$PWD/.libs' -s" /dev/null 2>&1 | tr -d '\r')
    n_said=$(grep -c 'not loaded: this process runs .*libsasl2.so' <<<"$said")
    if [ "$n_said" -ge 7 ]; then
        ok "under the real libsasl2 each server says why on the terminal ($n_said lines naming libsasl2.so)"
        grep -m1 'not loaded' <<<"$said" | sed 's/^/# /'
    else
        notok "under the real libsasl2 each server says why on the terminal (got $n_said lines)"
        head -5 <<<"$said" | sed 's/^/# /'
    fi
else
    notok "saslpluginviewer not found (package sasl2-bin)"
fi
finish
