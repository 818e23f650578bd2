#!/bin/bash
# The Debian packages, from build to purge, on this machine:
#   1. the sources as a release has them (`make distdir` from SM_BUILDDIR,
#      into a temporary folder), built with `dpkg-buildpackage -us -uc -b`
#      and DEB_BUILD_OPTIONS=nocheck (scripts/test.sh has just run
#      `make check` on the same sources, built with the same dpkg-buildflags;
#      a package build elsewhere runs it, through dh_auto_test);
#   2. lintian on the .changes: each error or warning is a failed case;
#   3. the packages' dependencies: no plugin package pulls another's
#      libraries (krb5 only for GSSAPI, libcurl and jansson only for OAuth);
#   4. installed with dpkg next to libsasl2-modules, libsasl2-modules-db and
#      libsasl2-modules-gssapi-mit: no file of ours belongs to another package;
#   5. debian/tests/smoke, the autopkgtest (saslpluginviewer, the sample
#      programs through every mechanism, Postfix), its cases counted here;
#   6. an upgrade to a higher version (the same packages repacked), and
#      with sasl-mechs-select (where the sources have tools/select/) a
#      mechanism switched to ours before it keeps its diversion across it;
#   7. removed, then purged: no file of ours left, no diversion left,
#      dpkg-divert --list as it was before, and Cyrus's own plugins (the
#      system plugin directory as it is) authenticate again.
# Building and lintian touch nothing outside a temporary folder; from the
# installation on, the test holds /tmp/sm-heavy.lock (other tests compare
# against the system's plugins; with SM_HEAVY_LOCK_HELD=1 the caller holds
# it) and /tmp/sm-apt.lock around each dpkg run, and its EXIT trap purges
# whatever of ours is installed, so that the system is left as it was found
# on any exit.  Needs root, SM_BUILDDIR (a configured
# build of these sources) and the packages debhelper, lintian (deps.sh).
# TAP; the plan is printed at the end, since lintian's findings are counted
# one a case (a test that dies before the end prints no plan, and fails).
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sm_init

PKGS=(sasl-mechs-common sasl-mechs-password sasl-mechs-gssapi sasl-mechs-oauth)
CYRUS_PKGS=(libsasl2-modules libsasl2-modules-db libsasl2-modules-gssapi-mit)
VERSION=$(sed -n '1s/^sasl-mechs (\([^)]*\)).*/\1/p' "$SM_SRCDIR/debian/changelog")
ARCH=$(dpkg --print-architecture)
OUT=$SM_TMP/pkg
SRC=$OUT/sasl-mechs-$VERSION

installed() {  # installed PKG: dpkg has PKG installed (or half-installed)
    dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^.[iUFHWt]'
}
ours_installed() {
    local p
    for p in "${PKGS[@]}"; do installed "$p" && printf '%s ' "$p"; done
}
dpkg_locked() { flock /tmp/sm-apt.lock "$@"; }
# the diversions of the system plugin directory, one "FILE -> DIVERTED" a line
diversions() {
    dpkg-divert --list | grep -F "$SM_SYSTEM_PLUGIN_DIR/" | sort
}

divert_before=
locked=
# undivert LINE: remove one diversion given as dpkg-divert --list prints it
# ("[local ]diversion of FILE to DIVERTED[ by PACKAGE]"), the file renamed back
undivert() {
    local line=$1 file owner
    file=${line#*diversion of }
    file=${file%% to *}
    case $line in
        local\ *) owner=--local ;;
        *" by "*) owner="--package ${line##* by }" ;;
        *) return 1 ;;
    esac
    # shellcheck disable=SC2086
    flock /tmp/sm-apt.lock dpkg-divert $owner --rename --remove "$file"
}
teardown() {
    local left line
    if [ -n "$locked" ]; then
        left=$(ours_installed)
        if [ -n "$left" ]; then
            echo "# teardown: purging $left" >&2
            if command -v sasl-mechs-select >/dev/null 2>&1; then
                sasl-mechs-select reset >>"$SM_TMP/teardown.log" 2>&1
            fi
            # shellcheck disable=SC2086
            dpkg_locked dpkg --purge $left >>"$SM_TMP/teardown.log" 2>&1 ||
                sm_diag_file "$SM_TMP/teardown.log" "dpkg --purge in the teardown" >&2
        fi
        # every diversion of the plugin directory made since the start goes
        # (a failed case above has already said which were left)
        comm -13 <(echo "$divert_before") <(diversions) | while IFS= read -r line; do
            [ -n "$line" ] || continue
            echo "# teardown: removing $line" >&2
            undivert "$line" >/dev/null 2>&1 || echo "# teardown: could not remove $line" >&2
        done
        if [ "$(diversions)" != "$divert_before" ]; then
            echo "# teardown: the plugin directory's diversions still differ from the start:" >&2
            diversions | sed 's/^/#   /' >&2
        fi
        if [ "$locked" = own ]; then flock -u 9; fi
    fi
    sm__cleanup
}
trap teardown EXIT

fatal() {  # fatal REASON: one failed case, the plan, and out
    sm_not_ok "$1" "${@:2}"
    sm_plan "$SM_TAP_N"
    exit 1
}

missing=$(sm_missing_programs dpkg-buildpackage dh lintian make flock dpkg-divert)
[ -z "$missing" ] || fatal "missing programs: $missing (scripts/deps.sh installs debhelper, lintian)"
[ "$(id -u)" -eq 0 ] || fatal "must run as root (it installs packages)"
[ -f "$SM_BUILDDIR/Makefile" ] || fatal "SM_BUILDDIR ($SM_BUILDDIR) is not a configured build"
[ -n "$VERSION" ] || fatal "no version in debian/changelog"

# ---- 1. build ------------------------------------------------------------------
mkdir -p "$OUT"
if make -s -C "$SM_BUILDDIR" distdir distdir="$SRC" >"$OUT/distdir.log" 2>&1 &&
    [ -x "$SRC/debian/rules" ]; then
    sm_ok "make distdir: the sources with debian/ in $SRC"
else
    sm_diag_file "$OUT/distdir.log"
    fatal "make distdir (debian/ must be in EXTRA_DIST)"
fi
t0=$(date +%s)
if (cd "$SRC" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
    dpkg-buildpackage -us -uc -b) >"$OUT/build.log" 2>&1; then
    sm_ok "dpkg-buildpackage -us -uc -b (nocheck): $(($(date +%s) - t0)) s"
else
    sm_diag_file "$OUT/build.log"
    fatal "dpkg-buildpackage -us -uc -b"
fi
debs=()
for p in "${PKGS[@]}"; do
    f=$OUT/${p}_${VERSION}_$ARCH.deb
    [ -f "$f" ] || fatal "no $f"
    debs+=("$f")
done
sm_ok "the four packages: ${PKGS[*]}"

# ---- 2. lintian -----------------------------------------------------------------
lintian --fail-on none "$OUT/sasl-mechs_${VERSION}_$ARCH.changes" >"$OUT/lintian.log" 2>&1
lrc=$?
grep -v '^running with root privileges' "$OUT/lintian.log" | sed 's/^/# lintian: /'
nbad=0
while IFS= read -r line; do
    nbad=$((nbad + 1))
    sm_not_ok "lintian: $line"
done < <(grep -E '^[EW]: ' "$OUT/lintian.log")
if [ "$lrc" -ne 0 ]; then
    sm_not_ok "lintian ran (exit $lrc)"
elif [ "$nbad" -eq 0 ]; then
    sm_ok "lintian: no error, no warning"
fi

# ---- 3. dependencies --------------------------------------------------------------
# deps_without DEB REGEX...: DEB's Depends names none of the libraries
deps_without() {
    local deb=$1 d r
    shift
    d=$(dpkg-deb -f "$deb" Depends)
    for r in "$@"; do
        if echo "$d" | grep -qE "$r"; then
            echo "$d"
            return 1
        fi
    done
}
KRB='libgssapi|libkrb5|krb5'
WEB='libcurl|libjansson'
for spec in "sasl-mechs-common:$KRB:$WEB" "sasl-mechs-password:$KRB:$WEB" \
    "sasl-mechs-gssapi:$WEB" "sasl-mechs-oauth:$KRB"; do
    p=${spec%%:*}
    IFS=: read -r -a res <<<"${spec#*:}"
    if d=$(deps_without "$OUT/${p}_${VERSION}_$ARCH.deb" "${res[@]}"); then
        sm_ok "$p depends on no other mechanism's libraries: $(dpkg-deb -f "$OUT/${p}_${VERSION}_$ARCH.deb" Depends)"
    else
        sm_not_ok "$p pulls another mechanism's libraries" "Depends: $d"
    fi
done

# ---- 4. install (from here on: the system's shared state, under the lock) ----------
# (taken here unless SM_HEAVY_LOCK_HELD=1 says the caller holds it: a second
# flock of the file from this process would wait for the caller for ever)
if [ "${SM_HEAVY_LOCK_HELD:-0}" != 1 ]; then
    exec 9>/tmp/sm-heavy.lock
    flock 9
    locked=own
else
    locked=caller
fi
divert_before=$(diversions)
left=$(ours_installed)
if [ -n "$left" ]; then
    fatal "our packages are installed already ($left): the test would not leave them as found"
fi
sm_ok "none of our packages installed before the test"
cyrus_missing=
for p in "${CYRUS_PKGS[@]}"; do installed "$p" || cyrus_missing="$cyrus_missing $p"; done
[ -z "$cyrus_missing" ] || fatal "Cyrus's packages missing:$cyrus_missing (scripts/deps.sh)"
if dpkg_locked dpkg -i "${debs[@]}" >"$OUT/install.log" 2>&1; then
    sm_ok "dpkg -i: the four packages install next to ${CYRUS_PKGS[*]}"
else
    sm_diag_file "$OUT/install.log"
    fatal "dpkg -i of the four packages"
fi
files=()
for p in "${PKGS[@]}"; do
    while IFS= read -r f; do [ -f "$f" ] && files+=("$f"); done < <(dpkg -L "$p")
done
shared=
for f in "${files[@]}"; do
    owners=$(dpkg -S "$f" 2>/dev/null | sed 's/: .*//' | tr ',' '\n' | sed 's/ //g; s/:.*//' |
        grep -vxE 'sasl-mechs-(common|password|gssapi|oauth)')
    [ -z "$owners" ] || shared="$shared $f($owners)"
done
if [ -z "$shared" ]; then
    sm_ok "no file of ours (${#files[@]}) belongs to another package"
else
    sm_not_ok "files shared with other packages:$shared"
fi

# ---- 5. the smoke test ------------------------------------------------------------
# its results are this test's, numbered on from here; its plan is dropped
# (this test's plan, at the end, counts them)
(cd "$SM_SRCDIR" && bash debian/tests/smoke) 2>&1 | tee "$OUT/smoke.out" |
    awk -v b="$SM_TAP_N" '/^1\.\.[0-9]/ { next }
        /^ok [0-9]+/ { sub(/^ok [0-9]+/, "ok " (b + ++n)) }
        /^not ok [0-9]+/ { sub(/^not ok [0-9]+/, "not ok " (b + ++n)) }
        { print; fflush() }'
smoke_rc=${PIPESTATUS[0]}
SM_TAP_N=$((SM_TAP_N + $(grep -c '^ok [0-9]\|^not ok [0-9]' "$OUT/smoke.out")))
SM_TAP_FAILED=$((SM_TAP_FAILED + $(grep -c '^not ok [0-9]' "$OUT/smoke.out")))
sm_check "$smoke_rc" "debian/tests/smoke exits 0"

# ---- 6. an upgrade, and the administrator's choice across it ------------------------
# The four packages again as version $VERSION+up1 (the same files repacked
# with a higher version), so that dpkg upgrades through the maintainer
# scripts (prerm upgrade) as it would from one build to the next.
UPVERSION=$VERSION+up1
updebs=()
for p in "${PKGS[@]}"; do
    d=$OUT/up-$p
    f=$OUT/${p}_${UPVERSION}_$ARCH.deb
    dpkg-deb -R "$OUT/${p}_${VERSION}_$ARCH.deb" "$d" &&
        sed -i "s/^Version: .*/Version: $UPVERSION/; s/(= $VERSION)/(= $UPVERSION)/g" \
            "$d/DEBIAN/control" &&
        dpkg-deb -b "$d" "$f" >/dev/null && updebs+=("$f")
done
chosen=
if [ -d "$SM_SRCDIR/tools/select" ]; then
    if ! command -v sasl-mechs-select >/dev/null 2>&1; then
        sm_not_ok "sasl-mechs-select installed by sasl-mechs-common"
    elif ! sasl-mechs-select ours PLAIN >"$OUT/select.log" 2>&1 ||
        [ "$(diversions)" = "$divert_before" ]; then
        sm_not_ok "sasl-mechs-select ours PLAIN diverts Cyrus's PLAIN plugin"
        sm_diag_file "$OUT/select.log"
    else
        chosen=$(diversions)
        sm_ok "sasl-mechs-select ours PLAIN: $(comm -13 <(echo "$divert_before") <(echo "$chosen") | head -1)"
    fi
else
    sm_ok "# SKIP sasl-mechs-select: these sources have no tools/select/ (not built)"
fi
if [ ${#updebs[@]} -eq ${#PKGS[@]} ] &&
    dpkg_locked dpkg -i "${updebs[@]}" >"$OUT/upgrade.log" 2>&1 &&
    [ "$(dpkg-query -W -f='${Version}' sasl-mechs-password)" = "$UPVERSION" ] &&
    [ -f "$(sm_plugin_file ours PLAIN)" ]; then
    sm_ok "upgrade of the four packages to $UPVERSION (dpkg -i)"
else
    sm_not_ok "upgrade of the four packages to $UPVERSION"
    sm_diag_file "$OUT/upgrade.log"
fi
if [ -z "$chosen" ]; then
    sm_ok "# SKIP the choice kept across the upgrade: no choice made (no sasl-mechs-select)"
elif [ "$(diversions)" = "$chosen" ]; then
    sm_ok "the choice (the diversion of Cyrus's PLAIN plugin) kept across the upgrade"
else
    sm_not_ok "the choice kept across the upgrade" "before: $chosen" "after: $(diversions)"
fi

# ---- 7. remove, purge, and Cyrus's plugins alone again -------------------------------
# With PLAIN switched to ours, removing sasl-mechs-password alone must give
# PLAIN back to Cyrus's plugin (its prerm), not leave it with none.
if [ -n "$chosen" ]; then
    if dpkg_locked dpkg --remove sasl-mechs-password >"$OUT/remove-password.log" 2>&1 &&
        [ -f "$(sm_plugin_file cyrus PLAIN)" ] &&
        ! dpkg-divert --list "$(sm_plugin_file cyrus PLAIN)" | grep -q .; then
        sm_ok "removing sasl-mechs-password alone puts Cyrus's PLAIN plugin back"
    else
        sm_not_ok "removing sasl-mechs-password alone puts Cyrus's PLAIN plugin back" \
            "$(dpkg-divert --list "$SM_SYSTEM_PLUGIN_DIR/*")"
        sm_diag_file "$OUT/remove-password.log"
    fi
else
    sm_ok "# SKIP removing sasl-mechs-password alone: no choice made (no sasl-mechs-select)"
fi
if dpkg_locked dpkg --remove "${PKGS[@]}" >"$OUT/remove.log" 2>&1; then
    sm_ok "dpkg --remove of the four packages"
else
    sm_not_ok "dpkg --remove of the four packages"
    sm_diag_file "$OUT/remove.log"
fi
if [ "$(diversions)" = "$divert_before" ]; then
    sm_ok "after the removal, the plugin directory's diversions are as before the test"
else
    sm_not_ok "diversions left after the removal" "before: $divert_before" "after: $(diversions)"
fi
if dpkg_locked dpkg --purge "${PKGS[@]}" >"$OUT/purge.log" 2>&1 && [ -z "$(ours_installed)" ] &&
    ! dpkg-query -W "${PKGS[@]}" >/dev/null 2>&1; then
    sm_ok "dpkg --purge: dpkg knows none of the four packages any more"
else
    sm_not_ok "dpkg --purge of the four packages" "still known: $(dpkg-query -W "${PKGS[@]}" 2>&1)"
    sm_diag_file "$OUT/purge.log"
fi
left=
for f in "${files[@]}"; do [ -e "$f" ] && left="$left $f"; done
for f in "$SM_SYSTEM_PLUGIN_DIR"/libsaslmechs_* /usr/share/doc/sasl-mechs-* \
    /usr/sbin/sasl-mechs-select /usr/bin/sasl-mechs-token; do
    [ -e "$f" ] && left="$left $f"
done
if [ -z "$left" ]; then sm_ok "no file of ours left under /usr"; else sm_not_ok "files left:$left"; fi
if [ "$(diversions)" = "$divert_before" ] &&
    ! dpkg-divert --list | grep -qE 'saslmechs|sasl-mechs'; then
    sm_ok "no diversion left (dpkg-divert --list as before the test)"
else
    sm_not_ok "diversions left after the purge" "$(dpkg-divert --list | grep -E 'sasl|saslmechs')"
fi

# Cyrus's own plugins, the system plugin directory as it is: what the viewer
# lists for PLAIN and CRAM-MD5 is Cyrus's, and they authenticate
saslpluginviewer -p "$SM_SYSTEM_PLUGIN_DIR" -s >"$OUT/viewer.out" 2>&1
if grep -q 'saslmechs_' "$OUT/viewer.out"; then
    sm_not_ok "saslpluginviewer lists no plugin of ours any more"
    sm_diag_file "$OUT/viewer.out"
else
    sm_ok "saslpluginviewer lists no plugin of ours any more"
fi
sm_mksasldb "$SM_TMP/sasldb" "$SM_FQDN" alice 'c0rrect horse' >/dev/null 2>&1
sm_write_conf "$SM_TMP/conf" "sasldb_path=$SM_TMP/sasldb" auxprop_plugin=sasldb pwcheck_method=auxprop
for mech in PLAIN CRAM-MD5 NTLM; do
    desc="$mech through $SM_SYSTEM_PLUGIN_DIR (Cyrus's plugins alone), sample server x client"
    if sm_exchange "cyrus-$mech" "$mech" "$SM_SYSTEM_PLUGIN_DIR" "$SM_SYSTEM_PLUGIN_DIR" \
        "$SM_TMP/conf" alice 'c0rrect horse' && [ "$SM_X_USER" = alice ]; then
        sm_ok "$desc"
    else
        sm_not_ok "$desc"
        sm_exchange_diag
    fi
done

sm_plan "$SM_TAP_N"
sm_done
