#!/bin/bash
# What libsasl2 itself sees in our plugins: saslpluginviewer (Debian
# sasl2-bin) over a folder holding only our plugins, on the server side (-s)
# and the client side (-c): every mechanism offered by our plugin, with
# truthful security flags and features (the same as Cyrus's own plugins
# declare), the noplain filter (-f noplain) dropping PLAIN and LOGIN but
# keeping CRAM-MD5; nm: each .so exports only its two entry points; and the
# README's way of choosing our plugin over Cyrus's (dpkg-divert --rename to
# a name libsasl2 does not load) leaving one plugin per mechanism.
# TAP output.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MECHS=(PLAIN LOGIN CRAM-MD5)

# The expected declarations, per mechanism (as printed by the viewer).
declare -A FLAGS=(
    [PLAIN]='NO_ANONYMOUS|PASS_CREDENTIALS'
    [LOGIN]='NO_ANONYMOUS|PASS_CREDENTIALS'
    [CRAM-MD5]='NO_ANONYMOUS|NO_PLAINTEXT'
)
declare -A FEATURES=(
    [server:PLAIN]='WANT_CLIENT_FIRST|PROXY_AUTHENTICATION'
    [client:PLAIN]='WANT_CLIENT_FIRST|PROXY_AUTHENTICATION'
    # The LOGIN server takes the user name as an initial response or asks
    # for it: neither client-first nor server-first (Cyrus declares none too).
    [server:LOGIN]=''
    [client:LOGIN]='SERVER_FIRST'
    [server:CRAM-MD5]='SERVER_FIRST'
    [client:CRAM-MD5]='SERVER_FIRST'
)

sm_plan $((2 * ${#MECHS[@]} * 3 + 2 + ${#MECHS[@]} * 3))
sm_init

blocked=
missing=$(sm_missing_programs saslpluginviewer)
[ -n "$missing" ] && blocked="missing program saslpluginviewer (package sasl2-bin)"
PLUGDIR=$SM_TMP/ours
mkdir -p "$PLUGDIR"
for mech in "${MECHS[@]}"; do
    f=$(sm_plugin_file ours "$mech")
    if [ -f "$f" ]; then
        ln -sf "$f" "$PLUGDIR/"
    fi
done

# viewer SIDE [ARGS...]: the viewer's output for one side, in $SM_TMP/SIDE.out
viewer() {
    local side=$1
    shift
    timeout "$SM_TIMEOUT" saslpluginviewer -p "$PLUGDIR" "-${side:0:1}" "$@" \
        >"$SM_TMP/$side.out" 2>"$SM_TMP/$side.err"
}

# available FILE: the mechanisms on the "... matching your criteria are:" line
available() {
    awk '/matching your criteria are:/ { getline; print; exit }' "$1"
}

# describe FILE MECH: "plugin=NAME", "flags=...", "features=..." lines for
# every plugin block that offers MECH.
describe() {
    awk -v m="$2" '
        /^Plugin "/ { name = $0; sub(/^Plugin "/, "", name); sub(/".*/, "", name); cur = ""; next }
        /SASL mechanism: / {
            cur = $0; sub(/.*SASL mechanism: /, "", cur); sub(/,.*/, "", cur)
            if (cur == m) print "plugin=" name
            next
        }
        cur == m && /security flags:/ { x = $0; sub(/.*security flags: */, "", x); sub(/ +$/, "", x); print "flags=" x }
        cur == m && /features:/ { x = $0; sub(/.*features: */, "", x); sub(/ +$/, "", x); print "features=" x }
    ' "$1"
}

for side in server client; do
    viewer_rc=0
    if [ -z "$blocked" ]; then
        viewer "$side" || viewer_rc=$?
    fi
    for mech in "${MECHS[@]}"; do
        stem=$(sm_mech_stem "$mech")
        file=$(sm_plugin_file ours "$mech")
        want=${FEATURES[$side:$mech]}
        d_offer="$side: $mech offered by saslmechs_$stem"
        d_flags="$side: $mech security flags ${FLAGS[$mech]}"
        d_feat="$side: $mech features '$want'"
        why=$blocked
        [ -z "$why" ] && [ ! -f "$file" ] && why="$file not built"
        if [ -n "$why" ]; then
            for d in "$d_offer" "$d_flags" "$d_feat"; do
                sm_not_ok "$d" "cannot run: $why"
            done
            continue
        fi
        desc=$(describe "$SM_TMP/$side.out" "$mech")
        plugins=$(sed -n 's/^plugin=//p' <<<"$desc" | tr '\n' ' ')

        # 1. listed as available, by our plugin and by no other
        if [ "$viewer_rc" -ne 0 ]; then
            sm_not_ok "$d_offer" "saslpluginviewer -$side: $(sm_rc_text "$viewer_rc")"
            sm_diag_file "$SM_TMP/$side.err" stderr
        elif ! grep -qw -- "$mech" <<<"$(available "$SM_TMP/$side.out")"; then
            sm_not_ok "$d_offer" "not on the available line: $(available "$SM_TMP/$side.out")"
            sm_diag_file "$SM_TMP/$side.out" output
        elif [ "$plugins" != "saslmechs_$stem " ]; then
            sm_not_ok "$d_offer" "offered by plugins: '$plugins'"
        else
            sm_ok "$d_offer"
        fi

        # 2. security flags, exactly
        got=$(sed -n 's/^flags=//p' <<<"$desc" | head -n 1)
        sm_check "$([ "$got" = "${FLAGS[$mech]}" ]; echo $?)" "$d_flags" "got '$got'"

        # 3. features, exactly
        got=$(sed -n 's/^features=//p' <<<"$desc" | head -n 1)
        sm_check "$([ "$got" = "$want" ]; echo $?)" "$d_feat" "got '$got'"
    done
done

# 4. demanding noplain (SASL_SEC_NOPLAINTEXT) drops PLAIN and LOGIN only
for side in server client; do
    desc="$side: -f noplain leaves CRAM-MD5 and drops PLAIN and LOGIN"
    if [ -n "$blocked" ]; then
        sm_not_ok "$desc" "cannot run: $blocked"
        continue
    fi
    rc=0
    viewer "$side" -f noplain || rc=$?
    avail=" $(available "$SM_TMP/$side.out") "
    if [ "$rc" -ne 0 ]; then
        sm_not_ok "$desc" "saslpluginviewer: $(sm_rc_text "$rc")"
        sm_diag_file "$SM_TMP/$side.err" stderr
    elif [[ $avail == *" PLAIN "* || $avail == *" LOGIN "* || $avail != *" CRAM-MD5 "* ]]; then
        sm_not_ok "$desc" "available:$avail"
    else
        sm_ok "$desc"
    fi
done

# 5. exports: sasl_client_plug_init and sasl_server_plug_init, nothing else
if ! command -v nm >/dev/null 2>&1; then
    nm_missing="missing program nm (package binutils)"
else
    nm_missing=
fi
for mech in "${MECHS[@]}"; do
    file=$(sm_plugin_file ours "$mech")
    desc="$(basename "$file") exports exactly sasl_client_plug_init and sasl_server_plug_init"
    if [ -n "$nm_missing" ]; then
        sm_not_ok "$desc" "cannot run: $nm_missing"
        continue
    elif [ ! -f "$file" ]; then
        sm_not_ok "$desc" "cannot run: $file not built"
        continue
    fi
    # Linker-made symbols (_init, _fini, _edata, _end, __bss_start) and
    # version nodes (type A) are not the plugin's.
    syms=$(nm -D --defined-only "$file" 2>&1 | awk '
        $2 == "A" { next }
        $3 ~ /^(_init|_fini|_edata|_end|__bss_start)$/ { next }
        { print $3 }' | sort | tr '\n' ' ')
    sm_check "$([ "$syms" = "sasl_client_plug_init sasl_server_plug_init " ]; echo $?)" \
        "$desc" "exports: $syms"
done

# 6. both plugins in one folder offer the mechanism twice; after the README's
#    dpkg-divert --rename (the Cyrus file renamed to lib<stem>.so.cyrus) only
#    ours is left.  Checked with copies in a folder, not on the system's dir.
for mech in "${MECHS[@]}"; do
    dir=$SM_TMP/divert-$(sm_mech_stem "$mech")
    mkdir -p "$dir"
    ours=$(sm_plugin_file ours "$mech"); cyrus=$(sm_plugin_file cyrus "$mech")
    ln -sf "$ours" "$dir/"; cp "$cyrus" "$dir/"

    # the distinct plugins offering the mechanism
    offering() { describe "$SM_TMP/server.out" "$mech" | grep '^plugin=' | sort -u | tr '\n' ' '; }
    PLUGDIR=$dir; viewer server
    plugins=$(offering)
    sm_check "$([ "$plugins" = "plugin=$(sm_mech_stem "$mech") plugin=saslmechs_$(sm_mech_stem "$mech") " ]; echo $?)" \
        "$mech: ours and Cyrus's in one folder are both listed" "$plugins"
    mv "$dir/$(basename "$cyrus")" "$dir/$(basename "$cyrus").cyrus"
    viewer server
    plugins=$(offering)
    sm_check "$([ "$plugins" = "plugin=saslmechs_$(sm_mech_stem "$mech") " ]; echo $?)" \
        "$mech: after renaming Cyrus's file to $(basename "$cyrus").cyrus only ours is listed" "$plugins"
done

sm_done
