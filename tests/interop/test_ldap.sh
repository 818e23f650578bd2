#!/bin/bash
# OpenLDAP as the libsasl2 application on both sides: slapd on a loopback
# port (a private slapd.conf, no database) offers XOAUTH2 and OAUTHBEARER
# through our server plugins, validating tokens against the loopback OAuth
# server's JWKS (tests/oauth/oauth_server.py); libldap's own client,
# ldapwhoami -Y MECH, binds with our client plugins.  For each mechanism a
# valid token binds as the token's user, and a refused one (expired) must
# fail the bind with invalidCredentials (49).  An OAuth client that said
# SASL_OK right after its initial message made libldap send the reply to the
# error challenge as a simple bind with an empty DN, which slapd accepted as
# an anonymous bind: ldapwhoami exited 0 and printed "anonymous".
# Debian's slapd reads its libsasl2 options only from
# /etc/ldap/sasl2/slapd.conf: the test writes that file and restores (or
# removes) it on exit.  Needs root and the packages slapd, ldap-utils,
# python3, curl (scripts/deps.sh).
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sm_init

OAUTH_MECHS=(XOAUTH2 OAUTHBEARER)
USER_NAME=alice
SASL_CONF=/etc/ldap/sasl2/slapd.conf
# the OAuth server and slapd start; per mechanism: valid, refused
sm_plan $((2 + ${#OAUTH_MECHS[@]} * 2))

sasl_conf_saved=
oauth_pid=
slapd_pid=
teardown() {
    if [ -n "$slapd_pid" ]; then
        kill "$slapd_pid" 2>/dev/null && wait "$slapd_pid" 2>/dev/null
    fi
    [ -n "$oauth_pid" ] && kill "$oauth_pid" 2>/dev/null && wait "$oauth_pid" 2>/dev/null
    if [ "$sasl_conf_saved" = created ]; then rm -f "$SASL_CONF"
    elif [ -n "$sasl_conf_saved" ]; then cp -p "$sasl_conf_saved" "$SASL_CONF"; fi
    sm__cleanup
}
trap teardown EXIT

fail_all() { sm_fail_all "ldap: $1"; }  # every case still planned fails

missing=$(sm_missing_programs slapd ldapwhoami python3 curl)
[ -z "$missing" ] || fail_all "missing programs: $missing (scripts/deps.sh installs them)"
[ "$(id -u)" -eq 0 ] || fail_all "must run as root (slapd's SASL configuration is in /etc/ldap)"

# ---- plugins: ours only ----------------------------------------------------
plugdir=$SM_TMP/plugins
mkdir -p "$plugdir"
for m in "${OAUTH_MECHS[@]}"; do
    ln -s "$(sm_plugin_file ours "$m")" "$plugdir/" || fail_all "no plugin for $m"
done

# ---- the loopback OAuth server -----------------------------------------------
SM_OAUTH_USER=$USER_NAME sm_oauth_server_start ldap --lifetime 600
mint=$SM_OAUTH_MINT oauth_pid=$SM_OAUTH_PID SPORT=$SM_OAUTH_PORT
[ -x "$mint" ] || fail_all "cannot build tests/oauth/oauth_mint"
if [ -z "$SPORT" ]; then
    sm_not_ok "loopback OAuth server did not start"; sm_diag_file "$SM_TMP/oauth-server.log"
    fail_all "no OAuth server"
fi
sm_ok "loopback OAuth server on 127.0.0.1:$SPORT"
ISSUER=http://127.0.0.1:$SPORT

# ---- slapd: its libsasl2 options, its configuration --------------------------
if [ -e "$SASL_CONF" ]; then
    cp -p "$SASL_CONF" "$SM_TMP/slapd.conf.saved" || fail_all "cannot save $SASL_CONF"
    sasl_conf_saved=$SM_TMP/slapd.conf.saved
else
    mkdir -p "${SASL_CONF%/*}"
    sasl_conf_saved=created
fi
cat >"$SASL_CONF" <<CONFEOF
mech_list: ${OAUTH_MECHS[*]}
oauth_issuers: $ISSUER
oauth_audiences: ldap
oauth_required_scopes: mail
oauth_user_claim: sub
oauth_jwks_url: $ISSUER/jwks
CONFEOF
# no database: ldapwhoami's Who am I? needs none; anonymous simple binds are
# allowed, as they are by default (what the old client fell into)
cat >"$SM_TMP/slapd.conf" <<CONFEOF
include /etc/ldap/schema/core.schema
pidfile $SM_TMP/slapd.pid
argsfile $SM_TMP/slapd.args
sasl-secprops noanonymous
CONFEOF
SASL_PATH=$plugdir sm_slapd_start "$SM_TMP/slapd.conf"
slapd_pid=$SM_SLAPD_PID PORT=$SM_SLAPD_PORT
if [ -z "$slapd_pid" ]; then
    sm_not_ok "slapd did not start"; sm_diag_file "$SM_TMP/slapd.log"
    fail_all "no slapd"
fi
sm_ok "slapd on 127.0.0.1:$PORT offering ${OAUTH_MECHS[*]} through our server plugins"

# ---- tokens -----------------------------------------------------------------
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
TOKEN=$(curl -sS -m 20 -X POST -d "{\"user\":\"$USER_NAME\"}" "$ISSUER/grant" |
    json_field access_token 2>/dev/null)
now=$(date +%s)
# signed by the server's own key, everything right but expired an hour ago
EXPIRED=$("$mint" sign --keys "$SM_TMP/oauth-keys" --kid rsa \
    --claims "{\"iss\":\"$ISSUER\",\"aud\":\"ldap\",\"sub\":\"$USER_NAME\",\"scope\":\"mail\",\"iat\":$((now - 7200)),\"exp\":$((now - 3600))}" \
    2>/dev/null)

# whoami MECH TOKEN LOG: ldapwhoami's exit code; its output in LOG
whoami() {
    SASL_PATH=$plugdir LDAPNOINIT=1 timeout "$SM_TIMEOUT" \
        ldapwhoami -H "ldap://127.0.0.1:$PORT/" -Y "$1" -U "$USER_NAME" -w "$2" -O noanonymous \
        >"$3" 2>&1
}

for m in "${OAUTH_MECHS[@]}"; do
    log=$SM_TMP/whoami-$m-ok.log
    if [ -z "$TOKEN" ]; then
        sm_not_ok "$m: ldapwhoami with a valid token binds as $USER_NAME" "no token from /grant"
    elif whoami "$m" "$TOKEN" "$log" && grep -q "^dn:uid=$USER_NAME," "$log"; then
        sm_ok "$m: ldapwhoami with a valid token binds as $USER_NAME ($(grep '^dn:' "$log"))"
    else
        sm_not_ok "$m: ldapwhoami with a valid token binds as $USER_NAME"
        sm_diag_file "$log" ldapwhoami; sm_diag_file "$SM_TMP/slapd.log" slapd
    fi

    log=$SM_TMP/whoami-$m-expired.log
    whoami "$m" "${EXPIRED:-x.y.z}" "$log"
    rc=$?
    if [ -z "$EXPIRED" ]; then
        sm_not_ok "$m: an expired token fails the bind with invalidCredentials (49)" \
            "oauth_mint sign failed"
    elif [ "$rc" -eq 49 ] && grep -q 'Invalid credentials (49)' "$log" &&
        ! grep -qi 'anonymous' "$log"; then
        sm_ok "$m: an expired token fails the bind with invalidCredentials (49)"
    else
        sm_not_ok "$m: an expired token fails the bind with invalidCredentials (49)" \
            "ldapwhoami exited $rc"
        sm_diag_file "$log" ldapwhoami; sm_diag_file "$SM_TMP/slapd.log" slapd
    fi
done

sm_done
