#!/bin/bash
# Cyrus IMAP (imapd under Cyrus's master, Debian cyrus-imapd) with imtest
# (cyrus-clients) on a loopback port, each instance with a private
# configuration: the user name an IMAP server sees is the same whether
# Cyrus's plugin or ours is on either side.
#
# The user a login gave imapd is read from Cyrus's telemetry: imapd writes a
# session log into <configdirectory>/log/<user>/ when that folder exists, and
# the log's first line names the user; the folders are created for every name
# a login could get (alice, alice@realm), so exactly one of them receives it.
#   GSSAPI against a throwaway KDC (tests/krb5/kdc.sh): Cyrus's gssapiv2 and
#   ours, both sides, all four pairs, with and without an authorization
#   identity (imtest -u alice): every login is alice.  Then imapds whose
#   krb5.conf names another default realm (SM_KRB5_FOREIGN_CONFIG), so that
#   alice@REALM is a foreign-realm principal, with `loginrealms: REALM` so
#   that Cyrus IMAP admits that realm: with either plugin the login is
#   alice@realm (the realm kept), and -u alice is refused.
#   XOAUTH2 and OAUTHBEARER, ours both sides (Cyrus has neither), tokens
#   signed at test time (tests/oauth/oauth_mint) against a JWKS file: a valid
#   token logs in as alice, a refused one fails the AUTHENTICATE and logs in
#   no one.
# Needs root (master drops to user cyrus).  TAP.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sm_init

IMTEST=$SM_CYRUS_BIN/imtest
SERVERNAME=localhost
# Cyrus and the KDC: sm__cleanup

GSSAPI_PAIRS=(cyrus:cyrus ours:ours cyrus:ours ours:cyrus)
OAUTH_MECHS=(XOAUTH2 OAUTHBEARER)
sm_plan $((1 + ${#GSSAPI_PAIRS[@]} * 2 + 2 * 2 + ${#OAUTH_MECHS[@]} * 2))
fail_all() { sm_fail_all "imap: $1"; }  # every case still planned fails

missing=$(sm_missing_programs krb5kdc kdb5_util kadmin.local kinit)
for p in "$SM_CYRUS_BIN/master" "$IMTEST"; do [ -x "$p" ] || missing="$missing $p"; done
[ -z "$missing" ] || fail_all "missing programs: $missing (scripts/deps.sh installs cyrus-imapd, cyrus-clients)"
[ "$(id -u)" -eq 0 ] || fail_all "must run as root (Cyrus's master starts as root)"
id cyrus >/dev/null 2>&1 || fail_all "no user cyrus (package cyrus-imapd)"
for m in gssapi xoauth2 oauthbearer; do
    [ -f "$SM_PLUGIN_DIR/libsaslmechs_$m.so" ] || fail_all "our $m plugin is not built"
done
mint=$SM_BUILDDIR/tests/oauth/oauth_mint
[ -x "$mint" ] || make -C "$SM_BUILDDIR" tests/oauth/oauth_mint >/dev/null 2>&1 ||
    fail_all "cannot build tests/oauth/oauth_mint"

sm_kdc_start "$SERVERNAME" || fail_all "$SM_KDC_WHY"
KDC=$SM_KDC
REALM_LC=$(echo "$SM_KRB5_REALM" | tr '[:upper:]' '[:lower:]')
sm_ok "throwaway KDC for $SM_KRB5_REALM on port $SM_KRB5_PORT"

# ---- OAuth keys and tokens ----------------------------------------------------
KEYS=$SM_TMP/oauth-keys
ISSUER=https://issuer.imap.test
"$mint" keygen --keys "$KEYS" >/dev/null 2>&1 || fail_all "oauth_mint keygen failed"
claims="{\"iss\":\"$ISSUER\",\"aud\":\"imap\",\"sub\":\"alice\",\"scope\":\"mail\"}"
TOKEN=$("$mint" sign --keys "$KEYS" --kid ec256 --ttl 600 --claims "$claims" 2>/dev/null)
BAD_TOKEN=$("$mint" sign --keys "$KEYS" --kid ec256 --ttl 600 --claims "$claims" \
    --header '{"kid":"not-in-the-set"}' 2>/dev/null)
[ -n "$TOKEN" ] && [ -n "$BAD_TOKEN" ] || fail_all "oauth_mint sign failed"

# ---- plugin folders -------------------------------------------------------------
mkdir -p "$SM_TMP/plug-ours" "$SM_TMP/plug-cyrus"
ln -s "$SM_PLUGIN_DIR"/libsaslmechs_{gssapi,xoauth2,oauthbearer}.so \
    "$SM_SYSTEM_PLUGIN_DIR/libsasldb.so" "$SM_TMP/plug-ours/"
ln -s "$(sm_plugin_file cyrus GSSAPI)" "$SM_SYSTEM_PLUGIN_DIR/libsasldb.so" "$SM_TMP/plug-cyrus/"

# ---- one imapd instance per server plugin folder ------------------------------
# new_instance NAME PLUGDIR PORT KRB5_CONFIG [IMAPD_CONF_LINE]: a master serving
# imap on 127.0.0.1:PORT with the plugins of PLUGDIR, its configuration and
# spool in $SM_TMP/NAME.
new_instance() {
    local name=$1 plugdir=$2 port=$3 krb5conf=$4 extra=${5:-} u
    for u in alice "alice@$REALM_LC" "alice@$SM_KRB5_REALM"; do
        mkdir -p "$SM_TMP/$name/conf/log/$u"
    done
    # imapd reads the keytab and keeps its replay cache in the KDC's folder
    sm_cyrus_start "$name" "$plugdir" "imap cmd=\"imapd -C %C\" listen=\"127.0.0.1:$port\" prefork=0" \
        KRB5_CONFIG="$krb5conf" KRB5RCACHEDIR="$KRB5RCACHEDIR" -- \
        "servername: $SERVERNAME" "allowplaintext: yes" "sasl_pwcheck_method: auxprop" \
        "sasl_auxprop_plugin: sasldb" "sasl_sasldb_path: $SM_TMP/$name/sasldb2" \
        "sasl_mech_list: GSSAPI XOAUTH2 OAUTHBEARER" "sasl_keytab: $SM_KRB5_KEYTAB" \
        "sasl_oauth_issuers: $ISSUER" "sasl_oauth_audiences: imap" \
        "sasl_oauth_required_scopes: mail" "sasl_oauth_user_claim: sub" \
        "sasl_oauth_jwks_file: $KEYS/jwks.json" "$extra"
}
chmod 755 "$SM_TMP" "$KDC"
chown cyrus "$SM_KRB5_KEYTAB" "$KRB5RCACHEDIR"
chmod a+r "$KEYS/jwks.json"; chmod 755 "$KEYS"
PORT=$(( 20000 + RANDOM % 20000 ))
declare -A port_of=([ours]=$PORT [cyrus]=$((PORT + 1))
    [foreign-ours]=$((PORT + 2)) [foreign-cyrus]=$((PORT + 3)))
chmod a+r "$SM_KRB5_FOREIGN_CONFIG"
for impl in ours cyrus; do
    new_instance "imap-$impl" "$SM_TMP/plug-$impl" "${port_of[$impl]}" "$KRB5_CONFIG" ||
        fail_all "Cyrus master ($impl plugins) did not listen on ${port_of[$impl]}: $(tail -3 "$SM_TMP/imap-$impl/master.log")"
    new_instance "imap-foreign-$impl" "$SM_TMP/plug-$impl" "${port_of[foreign-$impl]}" \
        "$SM_KRB5_FOREIGN_CONFIG" "loginrealms: $SM_KRB5_REALM" ||
        fail_all "Cyrus master ($impl plugins, foreign realm) did not listen on ${port_of[foreign-$impl]}: $(tail -3 "$SM_TMP/imap-foreign-$impl/master.log")"
done

# logged_in_as INSTANCE: the user of the one session log written since the
# last call (empty when none), then the logs are removed.
logged_in_as() {
    local f user=
    for f in "$SM_TMP/$1"/conf/log/*/*; do
        [ -f "$f" ] || continue
        [ -z "$user" ] && user=$(head -1 "$f" | awk '{ print $2 }')
        rm -f "$f"
    done
    printf '%s' "$user"
}

# imap_login DESC IMPL_SERVER IMPL_CLIENT EXPECT_USER IMTEST_ARGS...: imtest
# with the client plugins of IMPL_CLIENT against the instance of IMPL_SERVER;
# EXPECT_USER empty means the AUTHENTICATE must fail and nobody log in.
imap_login() {
    local desc=$1 srv=$2 cli=$3 want=$4 log got ok=
    shift 4
    log=$SM_TMP/imtest-$SM_TAP_N.log
    logged_in_as "imap-$srv" >/dev/null
    printf '. logout\r\n' | SASL_PATH="$SM_TMP/plug-$cli" timeout "$SM_TIMEOUT" \
        "$IMTEST" -p "${port_of[$srv]}" "$@" "$SERVERNAME" >"$log" 2>&1
    sleep 0.2   # the session log is complete once imapd has answered LOGOUT
    got=$(logged_in_as "imap-$srv")
    if [ -n "$want" ]; then
        grep -q '^Authenticated\.' "$log" && [ "$got" = "$want" ] && ok=1
    else
        grep -q '^Authentication failed' "$log" && ! grep -q '^Authenticated\.' "$log" &&
            [ -z "$got" ] && ok=1
    fi
    if [ -n "$ok" ]; then
        sm_ok "$desc${want:+: logged in as $got}"
    else
        sm_not_ok "$desc" "expected ${want:-no login}, imapd saw '${got:-nobody}'"
        sed -e 's/\(AUTHENTICATE [A-Z0-9-]*\) .*/\1 .../' -e 's/^\(C: \)[A-Za-z0-9+/=]\{40,\}/\1.../' \
            "$log" | grep -v CAPABILITY >"$log.shown"
        sm_diag_file "$log.shown" "imtest"
    fi
}

# ---- GSSAPI: the same user whichever plugin is on either side ------------------
for pair in "${GSSAPI_PAIRS[@]}"; do
    srv=${pair%%:*} cli=${pair#*:}
    imap_login "GSSAPI, $srv server x $cli client ($SM_KRB5_USER)" "$srv" "$cli" alice -m GSSAPI
    imap_login "GSSAPI, $srv server x $cli client, authorization identity alice" "$srv" "$cli" \
        alice -m GSSAPI -u alice
done

# the server's default realm is another one: alice@REALM keeps its realm
for impl in ours cyrus; do
    imap_login "GSSAPI, $impl server whose default realm is $SM_KRB5_FOREIGN_REALM x our client" \
        "foreign-$impl" ours "alice@$REALM_LC" -m GSSAPI
    imap_login "GSSAPI, $impl server whose default realm is $SM_KRB5_FOREIGN_REALM, authorization identity alice: refused" \
        "foreign-$impl" ours "" -m GSSAPI -u alice
done

# ---- XOAUTH2 and OAUTHBEARER: our server and client --------------------------
for m in "${OAUTH_MECHS[@]}"; do
    imap_login "$m, valid token" ours ours alice -m "$m" -a alice -w "$TOKEN"
    imap_login "$m, token signed by an unknown key: AUTHENTICATE fails" ours ours "" \
        -m "$m" -a alice -w "$BAD_TOKEN"
done

sm_done
