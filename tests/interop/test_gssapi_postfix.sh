#!/bin/bash
# GSSAPI through a real MTA: Postfix smtpd on a loopback port with our
# GSSAPI server plugin only, acceptor keys from a keytab given as the
# gssapi_keytab option in smtpd.conf, against a throwaway KDC
# (tests/krb5/kdc.sh).  curl (which tries GSSAPI only for user@REALM)
# authenticates from the KDC's ccache and sends a message; a second smtpd
# whose keytab lacks the service's key refuses with 535 and logs the
# Kerberos reason; Postfix's own smtp client relays through the first smtpd
# with our GSSAPI client plugin.  The user smtpd logs must be Cyrus's:
# alice for alice@REALM (the default realm); then Postfix is restarted with
# a krb5.conf naming another default realm (alice@REALM a foreign-realm
# principal, as a cross-realm user is) and smtpd.conf giving the keytab under
# Cyrus's option name keytab, and logs alice@REALM; then the same two runs
# with Cyrus's gssapiv2 in place of ours must log the same two names.
# Needs root (Postfix).  TAP.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sm_init
sm_plan 8

HOST=mail.$SM_FQDN
CONF=$SM_TMP/postfix
# Postfix, the default main.cf and the KDC: sm__cleanup
fail_all() { sm_fail_all "postfix GSSAPI: $1"; }  # every case still planned fails

missing=$(sm_missing_programs postfix postconf curl krb5kdc kdb5_util kadmin.local kinit)
[ -z "$missing" ] || fail_all "missing programs: $missing (scripts/deps.sh installs them)"
[ "$(id -u)" -eq 0 ] || fail_all "must run as root (Postfix's master starts as root)"
[ -f "$SM_PLUGIN_DIR/libsaslmechs_gssapi.so" ] || fail_all "our GSSAPI plugin is not built"
PORT=$(( 20000 + RANDOM % 20000 ))
WPORT=$((PORT + 1))   # the smtpd whose keytab lacks the key

sm_kdc_start "$HOST 127.0.0.1" || fail_all "$SM_KDC_WHY"
KDC=$SM_KDC

plugdir=$SM_TMP/plugins
mkdir -p "$plugdir" "$CONF/sasl" "$SM_TMP/queue" "$SM_TMP/data"
ln -s "$SM_PLUGIN_DIR/libsaslmechs_gssapi.so" "$SM_SYSTEM_PLUGIN_DIR/libsasldb.so" "$plugdir/"
# smtpd runs as postfix: it reads the configuration, the keytabs, and keeps
# its replay cache in the KDC's folder
chmod 755 "$SM_TMP" "$KDC"
chown postfix "$SM_KRB5_KEYTAB" "$SM_KRB5_WRONG_KEYTAB" "$KDC/rcache" "$SM_TMP/data"
for app in smtpd:"$SM_KRB5_KEYTAB" smtpdwrong:"$SM_KRB5_WRONG_KEYTAB"; do
    cat >"$CONF/sasl/${app%%:*}.conf" <<CONFEOF
mech_list: GSSAPI
auxprop_plugin: sasldb
sasldb_path: $SM_TMP/sasldb2
gssapi_keytab: ${app#*:}
CONFEOF
done
sm_postfix_main_cf "$CONF/main.cf" "$HOST" "$plugdir" "KRB5_CONFIG=$KRB5_CONFIG" "KRB5RCACHEDIR=$KRB5RCACHEDIR" "KRB5CCNAME=$KRB5CCNAME"
sm_postfix_smtp_sasl_cf "$CONF/main.cf"
echo "smtp_sasl_mechanism_filter = GSSAPI" >>"$CONF/main.cf"
# the relay: Postfix's smtp client needs a sasl_passwd entry to try SASL at
# all; GSSAPI takes the ticket from KRB5CCNAME, never the "password"
echo "[127.0.0.1]:$PORT alice:unused" >"$CONF/sasl_passwd"
echo "gssapi.relay.test smtp:[127.0.0.1]:$PORT" >"$CONF/transport"
cat >"$CONF/master.cf" <<CONFEOF
127.0.0.1:$PORT inet n - n - - smtpd -o content_filter=discard:
127.0.0.1:$WPORT inet n - n - - smtpd -o content_filter=discard: -o smtpd_sasl_path=smtpdwrong
CONFEOF
sm_postfix_master_cf "$CONF/master.cf"
# the smtp client runs as postfix too: it reads the user's ccache
chown postfix "${KRB5CCNAME#FILE:}"

if sm_postfix_start "$CONF" "$PORT"; then
    sm_ok "postfix started on 127.0.0.1:$PORT with our GSSAPI server plugin"
elif [ "${SM_POSTFIX_WHY#postfix start failed}" != "$SM_POSTFIX_WHY" ]; then
    fail_all "$SM_POSTFIX_WHY"
else
    sm_not_ok "postfix: $SM_POSTFIX_WHY"
    sm_diag_file "$SM_TMP/maillog"
fi

# curl names the service host from the URL: --resolve keeps it $HOST
curl_gssapi() {  # PORT LOG
    printf 'Subject: sasl-mechs GSSAPI test\r\n\r\nhello\r\n' |
        timeout "$SM_TIMEOUT" curl -sS -v --max-time "$SM_TIMEOUT" \
            --resolve "$HOST:$1:127.0.0.1" "smtp://$HOST:$1/client.example" \
            --user "$SM_KRB5_USER:" --login-options "AUTH=GSSAPI" \
            --mail-from "alice@client.example" --mail-rcpt "bob@remote.example" -T - >"$2" 2>&1
}
reply() { grep -qE "^(< )?$1[ -]" "$2"; }

# curl_user DESC WANT: curl authenticates, smtpd logs sasl_username=WANT
curl_user() {
    local desc=$1 want=$2 log=$SM_TMP/curl-$RANDOM.log before ok=
    before=$(wc -l <"$SM_TMP/maillog" 2>/dev/null || echo 0)
    if curl_gssapi "$PORT" "$log" && reply 235 "$log"; then
        for _ in $(seq 50); do
            if tail -n +$((before + 1)) "$SM_TMP/maillog" | grep -q "sasl_method=GSSAPI, sasl_username=$want\$"; then
                ok=1; break
            fi
            sleep 0.1
        done
        if [ -n "$ok" ]; then
            sm_ok "$desc: 235, message accepted, smtpd logs sasl_username=$want"
        else
            sm_not_ok "$desc: smtpd did not log sasl_username=$want"
            tail -n +$((before + 1)) "$SM_TMP/maillog" | grep sasl_username | sed 's/^/# /'
        fi
    else
        sm_not_ok "$desc: authentication failed"; sm_diag_file "$log"; sm_diag_file "$SM_TMP/maillog"
    fi
}
curl_user "curl GSSAPI as $SM_KRB5_USER, our plugin" alice

log=$SM_TMP/curl-wrong.log
if ! curl_gssapi "$WPORT" "$log" && reply 535 "$log"; then
    sm_ok "curl GSSAPI against a keytab without the service's key: 535"
else
    sm_not_ok "curl GSSAPI, wrong keytab: not refused with 535"; sm_diag_file "$log"
fi
for _ in $(seq 20); do grep -q "not found in keytab" "$SM_TMP/maillog" && break; sleep 0.2; done
if line=$(grep -m1 "not found in keytab" "$SM_TMP/maillog"); then
    sm_ok "smtpd logs the Kerberos reason: ${line##*warning: }"
else
    sm_not_ok "smtpd did not log why the keytab was refused"; sm_diag_file "$SM_TMP/maillog"
fi

# Postfix's smtp client: a message to gssapi.relay.test goes through our smtpd
# with our GSSAPI client plugin
id=gss-relay-$$-$RANDOM
printf 'Subject: %s\n\nrelayed\n' "$id" | sendmail -C "$CONF" -f alice@client.example bob@gssapi.relay.test
ok=
for _ in $(seq 100); do
    # smtpd logs alice twice: curl's login and the relay's
    if [ "$(grep -c "sasl_method=GSSAPI, sasl_username=alice\$" "$SM_TMP/maillog")" -ge 2 ] \
        && grep -qE "relay=127.0.0.1\[127.0.0.1\]:$PORT.*status=sent" "$SM_TMP/maillog"; then
        ok=1; break
    fi
    sleep 0.2
done
if [ -n "$ok" ]; then
    sm_ok "Postfix's smtp client relays with our GSSAPI client plugin (status=sent)"
else
    sm_not_ok "Postfix's smtp client did not relay with GSSAPI"; sm_diag_file "$SM_TMP/maillog"
fi

# restart_postfix PLUGDIR KRB5_CONFIG: the same instance with another plugin
# folder and krb5.conf (the master hands its daemons only import_environment)
restart_postfix() {
    postfix -c "$CONF" stop >/dev/null 2>&1
    for _ in $(seq 100); do postfix -c "$CONF" status >/dev/null 2>&1 || break; sleep 0.1; done
    sed -i "s|^import_environment = .*|import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C SASL_PATH=$1 KRB5_CONFIG=$2 KRB5RCACHEDIR=$KRB5RCACHEDIR KRB5CCNAME=$KRB5CCNAME|" "$CONF/main.cf"
    postfix -c "$CONF" start >/dev/null 2>&1 || return 1
    for _ in $(seq 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
# the keytab under Cyrus's option name only (Cyrus's gssapiv2 reads nothing
# else), and krb5.conf's default keytab (below) one without the key
cat >"$CONF/sasl/smtpd.conf" <<CONFEOF
mech_list: GSSAPI
auxprop_plugin: sasldb
sasldb_path: $SM_TMP/sasldb2
keytab: $SM_KRB5_KEYTAB
CONFEOF
# krb5.conf's default keytab the one without the key: only the option finds it
for c in "$KRB5_CONFIG" "$SM_KRB5_FOREIGN_CONFIG"; do
    sed "s|^ *default_keytab_name = .*|    default_keytab_name = FILE:$SM_KRB5_WRONG_KEYTAB|" "$c" \
        >"$SM_TMP/${c##*/}"
    chmod 644 "$SM_TMP/${c##*/}"
done
plain_conf=$SM_TMP/${KRB5_CONFIG##*/} foreign_conf=$SM_TMP/${SM_KRB5_FOREIGN_CONFIG##*/}
cyrusdir=$SM_TMP/plugins-cyrus
mkdir -p "$cyrusdir"
ln -s "$SM_SYSTEM_PLUGIN_DIR/libgssapiv2.so" "$SM_SYSTEM_PLUGIN_DIR/libsasldb.so" "$cyrusdir/"
for run in "ours:$plugdir:$foreign_conf:$SM_KRB5_USER:a foreign-realm principal" \
    "cyrus:$cyrusdir:$plain_conf:alice:a default-realm principal" \
    "cyrus:$cyrusdir:$foreign_conf:$SM_KRB5_USER:a foreign-realm principal"; do
    IFS=: read -r impl dir krb5conf want what <<<"$run"
    desc="curl GSSAPI, $what, $impl plugin, option keytab"
    if [ "$impl" = cyrus ] && [ ! -f "$SM_SYSTEM_PLUGIN_DIR/libgssapiv2.so" ]; then
        sm_not_ok "$desc" "no Cyrus gssapiv2 (package libsasl2-modules-gssapi-mit)"
    elif ! restart_postfix "$dir" "$krb5conf"; then
        sm_not_ok "$desc: postfix did not restart"; sm_diag_file "$SM_TMP/maillog"
    else
        curl_user "$desc" "$want"
    fi
done
sm_done
