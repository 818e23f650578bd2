#!/bin/bash
# sasl-mechs-select on the real system (root): our plugins copied into the
# system plugin directory next to Cyrus's, then every switch and its undo,
# checked with saslpluginviewer (server and client lists) and with
# sasl-sample-server/-client exchanges through that directory; which plugin
# served an exchange is told by its errdetail for a wrong password (ours:
# "<MECH>: authentication failed"; Cyrus's says something else), after a
# right password authenticated (for NTLM also by the client's NT response:
# ours sends NTLMv2, Cyrus's NTLMv1).  Then the refusals (not root, unknown
# mechanism, no such plugin, a diversion owned by someone else, GSS-SPNEGO
# without --yes, a refused mechanism among good ones, saslpluginviewer
# crashing or its output not understood), --dry-run, a --plugin-dir whose
# name has a space (ours, status, cyrus, reset there), an upgrade
# of Cyrus's packages (apt-get install --reinstall libsasl2-modules
# libsasl2-modules-gssapi-mit) with the choice held, and reset.
#
# It changes shared system state, so the whole run holds /tmp/sm-heavy.lock
# (taken here unless SM_HEAVY_LOCK_HELD=1 says the caller holds it) and a trap
# puts the system back on any exit: no diversion of sasl-mechs-select left,
# our files removed, Cyrus's files back under their names (checked with
# dpkg --verify).  Where packages of ours have installed the plugins already,
# those are used and left in place.  Needs SM_BUILDDIR (with sasl-mechs-select built) and
# SM_PLUGIN_DIR.  TAP output.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ "${SM_HEAVY_LOCK_HELD:-0}" != 1 ]; then
    exec 9>/tmp/sm-heavy.lock
    flock 9
fi

SYS=$SM_SYSTEM_PLUGIN_DIR
SELECT=$SM_BUILDDIR/sasl-mechs-select
OWNER=sasl-mechs-select
SUFFIX=.sasl-mechs-off
CYRUS_PKGS="libsasl2-modules libsasl2-modules-gssapi-mit"
USER_NAME=alice
USER_PASS='s3lect pass'
PASSWORD_MECHS=(PLAIN LOGIN CRAM-MD5 NTLM)

sm_plan 65
sm_init

blocked=
[ "$(id -u)" = 0 ] || blocked="not root"
missing=$(sm_missing_programs sasl-sample-server sasl-sample-client saslpluginviewer \
    saslpasswd2 dpkg-divert setpriv apt-get flock)
[ -n "$missing" ] && blocked="${blocked:+$blocked; }missing programs: $missing"
[ -x "$SELECT" ] || blocked="${blocked:+$blocked; }$SELECT not built (make)"
for m in "${PASSWORD_MECHS[@]}" GSSAPI; do
    f=$(sm_plugin_file ours "$m")
    [ -f "$f" ] || blocked="${blocked:+$blocked; }our plugin $f not built"
    c=$(sm_plugin_file cyrus "$m")
    [ -e "$c" ] || blocked="${blocked:+$blocked; }Cyrus's $c missing ($CYRUS_PKGS)"
done
if [ -z "$blocked" ] && [ -n "$(dpkg-divert --list | awk -v o=$OWNER '$NF == o')" ]; then
    blocked="diversions of $OWNER exist before the test: $(dpkg-divert --list | grep -c " $OWNER\$")"
fi
# our plugins already in the directory: used as they are when a package of
# ours installed them (and left there), refused otherwise (of unknown origin)
preinstalled=
for f in "$SYS"/libsaslmechs_*.so; do
    [ -e "$f" ] || continue
    if pkg=$(dpkg -S "$f" 2>/dev/null); then
        preinstalled="$preinstalled ${pkg%%:*}"
    elif [ -z "$blocked" ]; then
        blocked="$f is in $SYS and no package installed it: not touched"
    fi
done
if [ -n "$blocked" ]; then
    for _ in $(seq "$SM_TAP_PLAN"); do sm_not_ok "blocked: $blocked"; done
    sm_done
    exit 1
fi

# ---- what the system looked like, and the trap that puts it back
before_div=$SM_TMP/diversions.before
dpkg-divert --list | sort >"$before_div"
(cd "$SYS" && ls -l --time-style=+ | sort) >"$SM_TMP/dir.before"
copied=()
restore() {
    local f d
    # every diversion of ours, whether the command got that far or not (the
    # names may hold spaces: "diversion of F to F$SUFFIX by $OWNER")
    while IFS= read -r f; do
        [ -n "$f" ] || continue
        d=$(dpkg-divert --truename "$f")
        dpkg-divert --quiet --package "$OWNER" --divert "$d" --rename --remove "$f" \
            || echo "# restore: could not remove the diversion of $f" >&2
    done < <(dpkg-divert --list | sed -n "s/^diversion of \(.*\) to \1$SUFFIX by $OWNER\$/\1/p")
    # our NTLM, if the test died while it was set aside
    [ -e "$SM_TMP/aside.so" ] && mv "$SM_TMP/aside.so" "$SYS/libsaslmechs_ntlm.so"
    for f in "${copied[@]}"; do rm -f "$SYS/$f" "$SYS/$f$SUFFIX"; done
    # the diversions "someone else" made for the refusals, if the test died
    # before removing them
    dpkg-divert --list "$SYS/*" >"$SM_TMP/div.now"
    # "local diversion of F to T" / "diversion of F to T by P"
    while read -r a _ c d e f g; do
        if [ "$a" = local ]; then
            case $f in *.someone) dpkg-divert --quiet --local --divert "$f" --rename --remove "$d" ;; esac
        else
            case $e in *.someone) dpkg-divert --quiet --package "$g" --divert "$e" --no-rename --remove "$c" ;; esac
        fi
    done <"$SM_TMP/div.now"
}
cleanup_all() {
    restore
    sm__cleanup
}
trap cleanup_all EXIT

if [ -n "$preinstalled" ]; then
    sm_diag "our plugins as installed by the packages$(printf '%s\n' $preinstalled | sort -u | tr '\n' ' ')"
else
    for f in "$SM_PLUGIN_DIR"/libsaslmechs_*.so; do
        cp "$f" "$SYS/" && copied+=("${f##*/}")
    done
fi

# ---- helpers
viewer() { # -s|-c [DIR]: "PLUGIN MECH" lines in libsasl2's order
    saslpluginviewer -p "${2:-$SYS}" "$1" 2>/dev/null | awk '
        /^Plugin "/ { n = $2; gsub(/"/, "", n); next }
        /SASL mechanism: / && n != "" { m = $3; sub(/,$/, "", m); print n, m; n = "" }'
}
# plugins_for SIDE MECH [DIR]: the distinct plugin names offering MECH, in order
plugins_for() { viewer "$1" "${3:-}" | awk -v m="$2" '$2 == m && !s[$1]++ { printf "%s ", $1 }'; }
# only_plugin MECH NAME: on both sides, NAME is the only plugin offering MECH
only_plugin() {
    local s c
    s=$(plugins_for -s "$1") c=$(plugins_for -c "$1")
    [ "$s" = "$2 " ] && [ "$c" = "$2 " ] && return 0
    WHY="server: '${s% }', client: '${c% }'"
    return 1
}
cyrus_name() { local f; f=$(sm_plugin_file cyrus "$1"); f=${f##*/lib}; echo "${f%.so}"; }
our_name() { echo "saslmechs_$(sm_mech_stem "$1")"; }
state() { dpkg-divert --list | sort; (cd "$SYS" && ls -l --time-style=+ | sort); }

sm_mksasldb "$SM_TMP/sasldb" "$SM_FQDN" "$USER_NAME" "$USER_PASS" >/dev/null 2>&1
sm_write_conf "$SM_TMP/conf" "sasldb_path=$SM_TMP/sasldb" auxprop_plugin=sasldb \
    pwcheck_method=auxprop
# served MECH ours|cyrus: an exchange through the system directory on both
# sides succeeds, and a wrong password is refused by the plugin named; for
# NTLM the client named sent the NT response (ours NTLMv2: more than 24
# bytes; Cyrus's NTLMv1: 24)
served() {
    local mech=$1 want=$2 got ntlen
    SERVED=
    if ! sm_exchange "$mech-$want-ok" "$mech" "$SYS" "$SYS" "$SM_TMP/conf" "$USER_NAME" \
        "$USER_PASS" || [ "$SM_X_USER" != "$USER_NAME" ]; then
        WHY="the right password did not authenticate: ${SM_X_WHY:-user '$SM_X_USER'}"
        return 1
    fi
    if [ "$mech" = NTLM ]; then
        ntlen=$(sed -n 's/^C: //p' "$SM_X_DIR/client.out" | sm_ntlm_nt_len)
        if { [ "$want" = ours ] && [ "${ntlen:-0}" -le 24 ]; } \
            || { [ "$want" = cyrus ] && [ "${ntlen:-0}" -ne 24 ]; }; then
            WHY="the client's NT response is '${ntlen}' bytes: not $want's client"
            return 1
        fi
        SERVED=" (NT response $ntlen bytes)"
    fi
    sm_exchange "$mech-$want-bad" "$mech" "$SYS" "$SYS" "$SM_TMP/conf" "$USER_NAME" wrong
    if grep -q "SASL Other: $mech: authentication failed" "$SM_X_DIR/server.err"; then
        got=ours
    else
        got=cyrus
    fi
    WHY="the wrong password was refused by $got's plugin: $(grep -m1 'SASL Other' "$SM_X_DIR/server.err")"
    [ "$got" = "$want" ]
}
# refused DESC PATTERN CMD...: CMD fails, says PATTERN, and changes nothing
refused() {
    local desc=$1 pat=$2 before out rc
    shift 2
    before=$(state)
    out=$("$@" 2>&1)
    rc=$?
    if [ $rc -ne 0 ] && grep -q -- "$pat" <<<"$out" && [ "$(state)" = "$before" ]; then
        sm_ok "$desc"
        sm_diag "$(grep -m1 -- "$pat" <<<"$out")"
    else
        sm_not_ok "$desc" "exit $rc; output: $out"
        [ "$(state)" = "$before" ] || sm_diag "the system changed"
    fi
}

# ---- before any choice: both plugins loaded, directory order decides
out=$("$SELECT" status 2>&1)
sm_check $? "status runs" "$out"
if grep -q '^PLAIN  *server .*directory order chose' <<<"$out" \
    && grep -q '^PLAIN  *client .*directory order chose' <<<"$out"; then
    sm_ok "status: PLAIN is offered by both plugins, directory order chose"
else
    sm_not_ok "status: PLAIN is offered by both plugins, directory order chose" "$out"
fi

# ---- refusals, each changing nothing
refused "not root: refused" "needs root" setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$SELECT" ours PLAIN
refused "an unknown mechanism: refused" "unknown mechanism FOO" "$SELECT" ours FOO
refused "a refused mechanism among good ones: nothing done for the good ones" \
    "unknown mechanism FOO" "$SELECT" ours PLAIN LOGIN FOO
refused "cyrus XOAUTH2: no such plugin (Cyrus has none)" "no Cyrus plugin offers XOAUTH2" \
    "$SELECT" cyrus XOAUTH2
mv "$SYS/libsaslmechs_ntlm.so" "$SM_TMP/aside.so"
refused "ours NTLM with our plugin not installed: refused" "is not installed" \
    "$SELECT" ours NTLM
mv "$SM_TMP/aside.so" "$SYS/libsaslmechs_ntlm.so"
dpkg-divert --quiet --local --divert "$SYS/liblogin.so.someone" --no-rename --add "$SYS/liblogin.so"
refused "a local diversion of liblogin.so: refused" "liblogin.so is already diverted by a local diversion" \
    "$SELECT" ours LOGIN
dpkg-divert --quiet --local --divert "$SYS/liblogin.so.someone" --no-rename --remove "$SYS/liblogin.so"
dpkg-divert --quiet --package someone-else --divert "$SYS/libplain.so.someone" --no-rename \
    --add "$SYS/libplain.so"
refused "a diversion of libplain.so by another package: refused" "already diverted by package someone-else" \
    "$SELECT" ours PLAIN
dpkg-divert --quiet --package someone-else --divert "$SYS/libplain.so.someone" --no-rename \
    --remove "$SYS/libplain.so"
# a hand-made diversion (the README's old recipe) that set Cyrus's file aside
dpkg-divert --quiet --local --rename --divert "$SYS/libcrammd5.so.someone" --add "$SYS/libcrammd5.so"
refused "cyrus CRAM-MD5 with Cyrus's file set aside by hand: refused, naming that diversion" \
    "local diversion of $SYS/libcrammd5.so to $SYS/libcrammd5.so.someone" "$SELECT" cyrus CRAM-MD5
dpkg-divert --quiet --local --rename --divert "$SYS/libcrammd5.so.someone" --remove "$SYS/libcrammd5.so"
refused "ours GSSAPI without --yes: refused, naming GSS-SPNEGO" "also offers GSS-SPNEGO" \
    "$SELECT" ours GSSAPI
# a dpkg-divert that fails on the third file: the first two are undone
cat >"$SM_TMP/failing-divert" <<EOF
#!/bin/sh
case "\$*" in *"--add $SYS/libcrammd5.so") echo "simulated failure" >&2; exit 2 ;; esac
exec dpkg-divert "\$@"
EOF
chmod +x "$SM_TMP/failing-divert"
refused "a dpkg-divert that fails half way (CRAM-MD5 after PLAIN and LOGIN): what was done is undone" \
    "failed; undoing what was done" env SASL_MECHS_DPKG_DIVERT="$SM_TMP/failing-divert" \
    "$SELECT" ours PLAIN LOGIN CRAM-MD5
before=$(state)
out=$("$SELECT" --dry-run ours PLAIN 2>&1)
if [ $? -eq 0 ] && grep -q "would: dpkg-divert .*--add $SYS/libplain.so" <<<"$out" \
    && [ "$(state)" = "$before" ]; then
    sm_ok "--dry-run ours PLAIN prints the diversion and changes nothing"
else
    sm_not_ok "--dry-run ours PLAIN prints the diversion and changes nothing" "$out"
fi
# saslpluginviewer crashing, or printing what is not understood: refused,
# never "no Cyrus plugin ...; sasl-mechs' is the only one" with Cyrus's loaded
cat >"$SM_TMP/viewer-crash" <<'EOF'
#!/bin/sh
echo "simulated crash" >&2
kill -SEGV $$
EOF
cat >"$SM_TMP/viewer-changed" <<'EOF'
#!/bin/sh
saslpluginviewer "$@" | sed 's/SASL mechanism:/Mechanism:/'
EOF
chmod +x "$SM_TMP/viewer-crash" "$SM_TMP/viewer-changed"
refused "ours PLAIN with saslpluginviewer crashing: refused" "viewer-crash failed" \
    env SASL_MECHS_PLUGINVIEWER="$SM_TMP/viewer-crash" "$SELECT" ours PLAIN
refused "ours PLAIN with saslpluginviewer's output not understood: refused, naming libplain.so" \
    "libplain.so is in $SYS but .*viewer-changed does not list it" \
    env SASL_MECHS_PLUGINVIEWER="$SM_TMP/viewer-changed" "$SELECT" ours PLAIN
refused "status with saslpluginviewer crashing: fails, saying so" "viewer-crash failed" \
    env SASL_MECHS_PLUGINVIEWER="$SM_TMP/viewer-crash" "$SELECT" status
sm_check "$([ "$(dpkg-divert --list | sort)" = "$(cat "$before_div")" ]; echo $?)" \
    "after the refusals the diversions are those of the start"

# ---- a plugin directory whose name has a space: every path whole
SPD="$SM_TMP/plugin dir"
mkdir -p "$SPD"
cp "$SYS/libplain.so" "$SM_PLUGIN_DIR/libsaslmechs_plain.so" "$SPD/"
mine() { dpkg-divert --list | awk -v o=$OWNER '$NF == o' | sort; }
out=$("$SELECT" --plugin-dir "$SPD" ours PLAIN 2>&1)
[ $? -eq 0 ] && [ "$(dpkg-divert --listpackage "$SPD/libplain.so")" = "$OWNER" ] \
    && [ ! -e "$SPD/libplain.so" ] && [ -e "$SPD/libplain.so$SUFFIX" ] \
    && [ "$(mine)" = "diversion of $SPD/libplain.so to $SPD/libplain.so$SUFFIX by $OWNER" ] \
    && [ "$(plugins_for -s PLAIN "$SPD")" = "saslmechs_plain " ]
sm_check $? "--plugin-dir '$SPD' ours PLAIN: that libplain.so diverted, nothing else" \
    "$out; $(mine)"
out=$("$SELECT" --plugin-dir "$SPD" status 2>&1)
grep -q '^PLAIN  *server ours  *libsaslmechs_plain.so .*libplain.so diverted' <<<"$out" \
    && grep -qxF "  $SPD/libplain.so -> $SPD/libplain.so$SUFFIX" <<<"$out"
sm_check $? "--plugin-dir '$SPD' status: ours, and the diversion with its whole name" "$out"
out=$("$SELECT" --plugin-dir "$SPD" cyrus PLAIN 2>&1)
[ $? -eq 0 ] && [ -e "$SPD/libplain.so" ] && [ ! -e "$SPD/libsaslmechs_plain.so" ] \
    && [ "$(dpkg-divert --listpackage "$SPD/libsaslmechs_plain.so")" = "$OWNER" ] \
    && [ "$(plugins_for -s PLAIN "$SPD")" = "plain " ]
sm_check $? "--plugin-dir '$SPD' cyrus PLAIN: libplain.so back, ours diverted" "$out; $(mine)"
out=$("$SELECT" reset 2>&1)
[ $? -eq 0 ] && [ -e "$SPD/libplain.so" ] && [ -e "$SPD/libsaslmechs_plain.so" ] \
    && [ "$(dpkg-divert --list | sort)" = "$(cat "$before_div")" ]
sm_check $? "reset: both files in '$SPD' back, the diversions those of the start" "$out; $(mine)"

# ---- ours for the password mechanisms
out=$("$SELECT" ours "${PASSWORD_MECHS[@]}" 2>&1)
sm_check $? "ours ${PASSWORD_MECHS[*]}" "$out"
for m in "${PASSWORD_MECHS[@]}"; do
    c=$(sm_plugin_file cyrus "$m")
    if [ "$(dpkg-divert --listpackage "$c")" = "$OWNER" ] && [ ! -e "$c" ] \
        && [ -e "$c$SUFFIX" ] && only_plugin "$m" "$(our_name "$m")"; then
        sm_ok "ours $m: ${c##*/} diverted to ${c##*/}$SUFFIX, saslpluginviewer lists only ours (server and client)"
    else
        sm_not_ok "ours $m: ${c##*/} diverted, saslpluginviewer lists only ours" "${WHY:-}" \
            "$(dpkg-divert --list "$c")"
    fi
done
for m in "${PASSWORD_MECHS[@]}"; do
    served "$m" ours
    sm_check $? "ours $m: sample exchange through $SYS authenticates, served by ours$SERVED" "$WHY"
done
out=$("$SELECT" status 2>&1)
if grep -q '^PLAIN  *server ours  *libsaslmechs_plain.so' <<<"$out" \
    && grep -q '^NTLM  *client ours  *libsaslmechs_ntlm.so' <<<"$out" \
    && grep -q "$SYS/libplain.so -> $SYS/libplain.so$SUFFIX" <<<"$out"; then
    sm_ok "status shows ours and the diversions"
else
    sm_not_ok "status shows ours and the diversions" "$out"
fi
out=$("$SELECT" ours PLAIN 2>&1)
sm_check $? "ours PLAIN again: nothing to do, no error" "$out"

# ---- GSSAPI: Cyrus's file carries GSS-SPNEGO too
out=$("$SELECT" --yes ours GSSAPI 2>&1)
if [ $? -eq 0 ] && grep -q 'GSS-SPNEGO' <<<"$out"; then
    sm_ok "ours GSSAPI --yes: done, and it says GSS-SPNEGO is no longer offered"
else
    sm_not_ok "ours GSSAPI --yes: done, and it says GSS-SPNEGO is no longer offered" "$out"
fi
only_plugin GSSAPI saslmechs_gssapi
sm_check $? "ours GSSAPI: only ours offers GSSAPI" "${WHY:-}"
[ -z "$(plugins_for -s GSS-SPNEGO)$(plugins_for -c GSS-SPNEGO)" ]
sm_check $? "ours GSSAPI: GSS-SPNEGO is offered by no plugin (as it said)"
out=$("$SELECT" status 2>&1)
grep -q '^GSS-SPNEGO  *server none .*libgssapiv2.so diverted' <<<"$out"
sm_check $? "status: GSS-SPNEGO none, libgssapiv2.so diverted" "$out"

# ---- an upgrade of Cyrus's packages keeps the choice
reinstall() {
    export DEBIAN_FRONTEND=noninteractive
    flock /tmp/sm-apt.lock apt-get install -y -q --reinstall --no-download $CYRUS_PKGS \
        >"$SM_TMP/apt.log" 2>&1 \
        || flock /tmp/sm-apt.lock apt-get install -y -q --reinstall $CYRUS_PKGS \
            >>"$SM_TMP/apt.log" 2>&1
}
reinstall
sm_check $? "apt-get install --reinstall $CYRUS_PKGS" "$(tail -5 "$SM_TMP/apt.log")"
held=
for m in "${PASSWORD_MECHS[@]}" GSSAPI; do
    c=$(sm_plugin_file cyrus "$m")
    if [ -e "$c" ] || [ ! -e "$c$SUFFIX" ] || ! only_plugin "$m" "$(our_name "$m")"; then
        held="$held $m(${WHY:-${c##*/} back})"
    fi
done
[ -z "$held" ]
sm_check $? "after the reinstall every choice held: Cyrus's files still diverted, only ours listed" \
    "not held:$held"
[ -e "$SYS/libgssapiv2.so.2" ] && [ -e "$SYS/libplain.so.2" ]
sm_check $? "the reinstall did put the packages' other files in place (libplain.so.2, libgssapiv2.so.2)"
for m in PLAIN CRAM-MD5; do
    served "$m" ours
    sm_check $? "after the reinstall, $m is still served by ours" "$WHY"
done

# ---- back to Cyrus's, per mechanism
out=$("$SELECT" cyrus GSSAPI 2>&1)
if [ $? -eq 0 ] && grep -q 'brings back its GSS-SPNEGO' <<<"$out"; then
    sm_ok "cyrus GSSAPI: done, and it says GSS-SPNEGO comes back"
else
    sm_not_ok "cyrus GSSAPI: done, and it says GSS-SPNEGO comes back" "$out"
fi
only_plugin GSSAPI gssapiv2
sm_check $? "cyrus GSSAPI: only Cyrus's gssapiv2 offers GSSAPI" "${WHY:-}"
only_plugin GSS-SPNEGO gssapiv2
sm_check $? "cyrus GSSAPI: GSS-SPNEGO is back" "${WHY:-}"
[ "$(dpkg-divert --listpackage "$SYS/libsaslmechs_gssapi.so")" = "$OWNER" ] \
    && [ -e "$SYS/libsaslmechs_gssapi.so$SUFFIX" ] && [ -z "$(dpkg-divert --listpackage "$SYS/libgssapiv2.so")" ]
sm_check $? "cyrus GSSAPI: ours diverted, libgssapiv2.so no longer"

for m in PLAIN CRAM-MD5 NTLM; do
    out=$("$SELECT" cyrus "$m" 2>&1)
    sm_check $? "cyrus $m" "$out"
    only_plugin "$m" "$(cyrus_name "$m")"
    sm_check $? "cyrus $m: only Cyrus's $(cyrus_name "$m") offers $m (server and client)" "${WHY:-}"
    served "$m" cyrus
    sm_check $? "cyrus $m: sample exchange authenticates, served by Cyrus's$SERVED" "$WHY"
done
out=$("$SELECT" status 2>&1)
grep -q '^PLAIN  *server cyrus  *libplain.so' <<<"$out" \
    && grep -q '^LOGIN  *server ours ' <<<"$out"
sm_check $? "status: PLAIN Cyrus's, LOGIN still ours" "$out"
out=$("$SELECT" ours PLAIN 2>&1)
only_plugin PLAIN saslmechs_plain
sm_check $? "ours PLAIN after cyrus PLAIN: ours is back, Cyrus's set aside" "$out ${WHY:-}"

# ---- an upgrade again, with choices both ways
reinstall
sm_check $? "apt-get install --reinstall $CYRUS_PKGS (second time)" "$(tail -5 "$SM_TMP/apt.log")"
only_plugin PLAIN saslmechs_plain && only_plugin CRAM-MD5 crammd5 && only_plugin GSSAPI gssapiv2 \
    && only_plugin GSS-SPNEGO gssapiv2 && only_plugin LOGIN saslmechs_login \
    && only_plugin NTLM ntlm
sm_check $? "after it: PLAIN and LOGIN ours, CRAM-MD5, NTLM and GSSAPI Cyrus's, GSS-SPNEGO there" \
    "${WHY:-}"

# ---- reset
out=$("$SELECT" --dry-run reset 2>&1)
[ $? -eq 0 ] && grep -q 'would: dpkg-divert .*--remove' <<<"$out" \
    && [ -n "$(dpkg-divert --list | awk -v o=$OWNER '$NF == o')" ]
sm_check $? "--dry-run reset lists the removals and removes nothing" "$out"
out=$("$SELECT" reset 2>&1)
sm_check $? "reset" "$out"
[ -z "$(dpkg-divert --list | awk -v o=$OWNER '$NF == o')" ] \
    && [ "$(dpkg-divert --list | sort)" = "$(cat "$before_div")" ]
sm_check $? "reset: no diversion of $OWNER left; the diversions are those of the start" \
    "$(dpkg-divert --list)"
both=
for m in "${PASSWORD_MECHS[@]}" GSSAPI; do
    s=$(plugins_for -s "$m")
    case $s in *saslmechs_*" "*?*) ;; *?*" "*saslmechs_*) ;; *) both="$both $m($s)" ;; esac
done
[ -z "$both" ] && [ -e "$SYS/libplain.so" ] && [ -e "$SYS/libgssapiv2.so" ] \
    && [ -e "$SYS/libsaslmechs_plain.so" ]
sm_check $? "reset: every file back under its name, both plugins offered again" "$both"
out=$("$SELECT" reset 2>&1)
sm_check $? "reset again: nothing to do, no error" "$out"

# ---- the system as it was
restore
trap sm__cleanup EXIT
(cd "$SYS" && ls -l --time-style=+ | sort) >"$SM_TMP/dir.after"
# names, modes, links and sizes (no times: the reinstall renews them)
if cmp -s "$SM_TMP/dir.before" "$SM_TMP/dir.after"; then
    sm_ok "the plugin directory is as it was (our files gone, Cyrus's back)"
else
    sm_not_ok "the plugin directory is as it was" "$(diff "$SM_TMP/dir.before" "$SM_TMP/dir.after")"
fi
out=$(dpkg --verify $CYRUS_PKGS 2>&1)
[ -z "$out" ]
sm_check $? "dpkg --verify $CYRUS_PKGS: every file of Cyrus's packages intact" "$out"
sm_done
