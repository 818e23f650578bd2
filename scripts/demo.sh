#!/bin/bash
# The main job, end to end on embedded defaults: every mechanism we build
# authenticates a demo user through Cyrus's own sasl-sample-server and
# sasl-sample-client (package sasl2-bin), our plugin on both sides, each in a
# temporary folder that offers only that plugin (plus the auxprop it needs).
# Prints one table row per mechanism; exits non-zero if any row failed.
#
#   scripts/demo.sh                 (from the top of the checkout)
#   BUILDDIR=DIR scripts/demo.sh    (use, or make, that build folder)
#
# Where the plugins come from, without BUILDDIR: the checkout itself when it
# is configured in place (a user's own `./configure && make`); otherwise
# build-demo/ at the top of the checkout, configured out of tree there.  Either
# way the demo runs `make` first (bootstrap and configure too when that folder
# has never been configured), so the plugins it shows are the current sources.
#
# Adding a mechanism: add its name to DEMO_MECHS and, when the default setup
# (a password in a temporary sasldb) does not fit, define
#   demo_setup_<stem>     prepare secrets and services; may change DEMO_USER,
#                         DEMO_PASS, DEMO_AUX (sasldb|sql|none),
#                         DEMO_CONF (KEY=VALUE lines of sample.conf),
#                         SM_SERVER_ARGS, SM_CLIENT_ARGS, export variables;
#                         returns non-zero, with DEMO_NOTE set, when it cannot
#   demo_teardown_<stem>  stop what the setup started
# where <stem> is the mechanism's plugin file stem (sm_mech_stem: CRAM-MD5 ->
# crammd5, so libsaslmechs_crammd5.so).
set -u
"$(dirname "$0")/deps.sh" >&2 || { echo "demo: installing dependencies failed" >&2; exit 1; }

SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${BUILDDIR:-}" ]; then
    if [ -f "$SRCDIR/config.status" ]; then
        BUILDDIR=$SRCDIR          # configured in place: that build is the user's
    else
        BUILDDIR=$SRCDIR/build-demo
    fi
fi
case $BUILDDIR in
    /*) ;;
    *) BUILDDIR=$(pwd)/$BUILDDIR ;;
esac

DEMO_MECHS=(PLAIN LOGIN CRAM-MD5 NTLM XOAUTH2 OAUTHBEARER GSSAPI)

# ---- build (or bring the build up to date) ----------------------------------
have_plugins() {
    compgen -G "$BUILDDIR/.libs/libsaslmechs_*.so" >/dev/null
}

build() {
    if [ ! -f "$BUILDDIR/Makefile" ]; then
        if [ "$BUILDDIR" != "$SRCDIR" ] && [ -f "$SRCDIR/config.status" ]; then
            echo "demo: $SRCDIR is configured in place, so it cannot also be" \
                "built in $BUILDDIR: run 'make distclean' there, or unset BUILDDIR" >&2
            return 1
        fi
        if [ ! -x "$SRCDIR/configure" ]; then
            echo "demo: generating configure (./bootstrap)" >&2
            (cd "$SRCDIR" && ./bootstrap) >&2 || return 1
        fi
        echo "demo: configuring in $BUILDDIR" >&2
        mkdir -p "$BUILDDIR" || return 1
        (cd "$BUILDDIR" && "$SRCDIR/configure") >&2 || return 1
    fi
    echo "demo: building in $BUILDDIR" >&2
    make -C "$BUILDDIR" -j"$(nproc 2>/dev/null || echo 2)" >&2 || return 1
}

if ! build || ! have_plugins; then
    echo "demo: FAILED: the build produced no plugin in $BUILDDIR/.libs" >&2
    exit 1
fi

export SM_SRCDIR=$SRCDIR SM_BUILDDIR=$BUILDDIR SM_PLUGIN_DIR=$BUILDDIR/.libs
# shellcheck source-path=SCRIPTDIR source=../tests/interop/lib.sh
. "$SRCDIR/tests/interop/lib.sh"
sm_init

# ---- the default setup: a password in a temporary sasldb -----------------------
DEMO_DEFAULT_USER=demo
DEMO_DEFAULT_PASS='demo pass-w0rd'

demo_default_setup() {
    DEMO_USER=$DEMO_DEFAULT_USER
    DEMO_PASS=$DEMO_DEFAULT_PASS
    DEMO_AUX=sasldb
    DEMO_CONF=("sasldb_path=$SM_TMP/sasldb" auxprop_plugin=sasldb pwcheck_method=auxprop)
    # shellcheck disable=SC2034  # read by sm_exchange
    SM_SERVER_ARGS=() SM_CLIENT_ARGS=()
    DEMO_NOTE=
}

# ---- XOAUTH2 and OAUTHBEARER: a loopback OAuth endpoint and a token it trusts ----
# The test tools of tests/oauth: oauth_mint makes the keys and signs the token,
# oauth_server.py serves the keys (JWKS) on 127.0.0.1; the server plugin fetches
# them over HTTP (libcurl) and validates the token's signature and claims.
DEMO_OAUTH_PID=

demo_oauth_setup() {
    local mint=$BUILDDIR/tests/oauth/oauth_mint keys=$SM_TMP/oauth-keys port i
    if [ ! -x "$mint" ] && ! make -C "$BUILDDIR" tests/oauth/oauth_mint >&2; then
        DEMO_NOTE="cannot build tests/oauth/oauth_mint"
        return 1
    fi
    if ! command -v python3 >/dev/null; then
        DEMO_NOTE="python3 not found (scripts/deps.sh installs it)"
        return 1
    fi
    rm -f "$SM_TMP/oauth-port"
    python3 "$SRCDIR/tests/oauth/oauth_server.py" --mint "$mint" --keys "$keys" --port 0 \
        --port-file "$SM_TMP/oauth-port" --lifetime 300 >"$SM_TMP/oauth-server.log" 2>&1 &
    DEMO_OAUTH_PID=$!
    for i in $(seq 100); do
        [ -s "$SM_TMP/oauth-port" ] && break
        sleep 0.1
    done
    if ! port=$(cat "$SM_TMP/oauth-port" 2>/dev/null) || [ -z "$port" ]; then
        DEMO_NOTE="the loopback OAuth server did not start: $(tail -n 2 "$SM_TMP/oauth-server.log" | tr '\n' ' ')"
        return 1
    fi
    DEMO_PASS=$("$mint" sign --keys "$keys" --kid rsa --ttl 600 \
        --claims '{"iss":"https://issuer.demo.test","aud":"smtp","sub":"'"$DEMO_USER"'","scope":"mail"}') || {
        DEMO_NOTE="oauth_mint could not sign a token"
        return 1
    }
    DEMO_CONF+=(oauth_issuers=https://issuer.demo.test oauth_audiences=smtp oauth_required_scopes=mail
        oauth_user_claim=sub "oauth_jwks_url=http://127.0.0.1:$port/jwks")
    # the client finishes on the server's outcome, which the sample protocol
    # carries only as success data (-l)
    SM_SERVER_ARGS=(-l) SM_CLIENT_ARGS=(-l)
}

demo_oauth_teardown() {
    if [ -n "$DEMO_OAUTH_PID" ]; then
        kill "$DEMO_OAUTH_PID" 2>/dev/null
        wait "$DEMO_OAUTH_PID" 2>/dev/null
    fi
    DEMO_OAUTH_PID=
}

demo_setup_xoauth2() { demo_oauth_setup; }
demo_teardown_xoauth2() { demo_oauth_teardown; }
demo_setup_oauthbearer() { demo_oauth_setup; }
demo_teardown_oauthbearer() { demo_oauth_teardown; }

# ---- GSSAPI: a throwaway MIT KDC (tests/krb5/kdc.sh), its user's ticket -----------
# The realm, the user alice with a ticket in a ccache, and the sample
# programs' service principal rcmd/$SM_FQDN in a keytab, all in a temporary
# folder (KRB5_CONFIG and friends point there); the exchange asks for
# confidentiality (-b min=56,max=256) and the server strips the local realm.
DEMO_KDC=
demo_setup_gssapi() {
    DEMO_KDC=$SM_TMP/kdc
    if ! DEMO_NOTE=$(bash "$SRCDIR/tests/krb5/kdc.sh" start "$DEMO_KDC" 2>&1); then
        DEMO_NOTE="tests/krb5/kdc.sh: $(echo "$DEMO_NOTE" | tail -n 2 | tr '\n' ' ')"
        return 1
    fi
    # shellcheck disable=SC1091
    . "$DEMO_KDC/env"
    DEMO_USER=alice
    DEMO_PASS=unused
    DEMO_CONF+=(gssapi_strip_realm=yes)
    SM_SERVER_ARGS=(-b min=56,max=256) SM_CLIENT_ARGS=(-b min=56,max=256)
}
demo_teardown_gssapi() {
    [ -n "$DEMO_KDC" ] && bash "$SRCDIR/tests/krb5/kdc.sh" stop "$DEMO_KDC"
    DEMO_KDC=
}

# ---- one row ----------------------------------------------------------------------
ROWS=()
NOTES=()
FAILED=0

add_row() { # MECH FILE RESULT USER MS [NOTE]
    ROWS+=("$1|$2|$3|$4|$5")
    if [ "$3" = FAIL ]; then
        FAILED=$((FAILED + 1))
    fi
    if [ -n "${6:-}" ]; then
        NOTES+=("$1: $6")
    fi
}

run_row() { # MECH
    local mech=$1 stem file dir conf note
    stem=$(sm_mech_stem "$mech")
    file=$(sm_plugin_file ours "$mech")
    if [ ! -f "$file" ]; then
        # a configure choice (--disable-MECH, a missing dependency), not a failure
        add_row "$mech" "$(basename "$file")" "not built" - - "not built in this configuration"
        return
    fi
    demo_default_setup
    if declare -F "demo_setup_$stem" >/dev/null && ! "demo_setup_$stem"; then
        add_row "$mech" "$(basename "$file")" FAIL - - "setup failed: ${DEMO_NOTE:-no reason given}"
        declare -F "demo_teardown_$stem" >/dev/null && "demo_teardown_$stem"
        return
    fi
    dir=$SM_TMP/plugins-$stem
    conf=$SM_TMP/conf-$stem
    if ! note=$(sm_mkplugdir "$dir" ours "$mech" "$DEMO_AUX" 2>&1) ||
        ! note=$(sm_write_conf "$conf" "${DEMO_CONF[@]}" 2>&1); then
        add_row "$mech" "$(basename "$file")" FAIL - - "$note"
    elif sm_exchange "demo-$stem" "$mech" "$dir" "$dir" "$conf" "$DEMO_USER" "$DEMO_PASS" &&
        [ "$SM_X_USER" = "$DEMO_USER" ]; then
        add_row "$mech" "$(basename "$file")" OK "$SM_X_USER" "$SM_X_MS"
    else
        note=${SM_X_WHY:-"the server authenticated '$SM_X_USER', not '$DEMO_USER'"}
        note="$note; server said: $(grep -v '^$' "$SM_X_DIR/server.err" | tail -n 2 | tr '\n' ' ')"
        add_row "$mech" "$(basename "$file")" FAIL "${SM_X_USER:--}" "$SM_X_MS" "$note"
    fi
    if declare -F "demo_teardown_$stem" >/dev/null; then
        "demo_teardown_$stem"
    fi
}

# ---- go -----------------------------------------------------------------------------
missing=$(sm_missing_programs sasl-sample-server sasl-sample-client saslpasswd2 \
    setsid timeout stdbuf mkfifo)
if [ -n "$missing" ]; then
    echo "demo: FAILED: missing programs: $missing (packages sasl2-bin, util-linux, coreutils)" >&2
    exit 1
fi
if ! err=$(sm_mksasldb "$SM_TMP/sasldb" "$SM_FQDN" "$DEMO_DEFAULT_USER" "$DEMO_DEFAULT_PASS" 2>&1); then
    echo "demo: FAILED: cannot create the demo sasldb: $err" >&2
    exit 1
fi

for mech in "${DEMO_MECHS[@]}"; do
    run_row "$mech"
done

# A plugin we build but the demo does not know is a failure: add its row.
for f in "$SM_PLUGIN_DIR"/libsaslmechs_*.so; do
    [ -f "$f" ] || continue
    known=
    for mech in "${DEMO_MECHS[@]}"; do
        [ "$f" -ef "$(sm_plugin_file ours "$mech")" ] && known=1
    done
    [ -n "$known" ] || add_row "?" "$(basename "$f")" FAIL - - "no row in scripts/demo.sh for $(basename "$f")"
done

echo "sasl-mechs demo: our plugins ($SM_PLUGIN_DIR) on both sides of"
echo "sasl-sample-server x sasl-sample-client, user '$DEMO_DEFAULT_USER' in realm $SM_FQDN"
echo
fmt='%-12s | %-28s | %-9s | %-18s | %7s\n'
# shellcheck disable=SC2059
printf "$fmt" mechanism "plugin file" result "authenticated user" "time ms"
printf '%s\n' "-------------+------------------------------+-----------+--------------------+--------"
for row in "${ROWS[@]}"; do
    IFS='|' read -r c1 c2 c3 c4 c5 <<<"$row"
    # shellcheck disable=SC2059
    printf "$fmt" "$c1" "$c2" "$c3" "$c4" "$c5"
done
if [ ${#NOTES[@]} -gt 0 ]; then
    echo
    printf '  %s\n' "${NOTES[@]}"
fi
echo
passed=0
for row in "${ROWS[@]}"; do
    IFS='|' read -r _ _ c3 _ _ <<<"$row"
    [ "$c3" = OK ] && passed=$((passed + 1))
done
# the last line, for CI (.ci/run): rows authenticated, rows failed
if [ "$FAILED" -gt 0 ]; then
    echo "demo: $passed mechanism(s) authenticated, $FAILED FAILED"
    exit 1
fi
echo "demo: $passed mechanism(s) authenticated, 0 FAILED"
exit 0
