#!/bin/bash
# GSSAPI through Cyrus IMAP: a private cyrmaster with one imapd on a loopback
# port (its own imapd.conf, cyrus.conf, config and spool folders), against a
# throwaway KDC (tests/krb5/kdc.sh), with our GSSAPI server plugin and then
# with Cyrus's gssapiv2 in its place; Cyrus's imtest logs in as the
# authentication identity alice@REALM with the authorization identity alice
# (-u alice, as the issue's imtest did).  Which user imapd logged in is read
# from its telemetry folders (configdirectory/log/USER: imapd writes a
# protocol log there for a user whose folder exists), so no syslog is needed.
# The keytab is given as sasl_keytab in imapd.conf: imapd hands Cyrus's
# option keytab to both plugins.  Each plugin must give the same result:
# alice logged in with the default realm; with an imapd whose krb5.conf
# names another default realm (alice@REALM a foreign-realm principal), the
# login refused by both.  Needs root (cyrmaster starts as root and becomes
# cyrus).  TAP.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sm_init
sm_plan 4

CYRBIN=/usr/lib/cyrus/bin
KDC=$SM_TMP/kdc
DIR=$SM_TMP/imap
master_pid=
kdc_started=
stop_master() {
    if [ -n "$master_pid" ]; then
        kill "$master_pid" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$master_pid" 2>/dev/null || break; sleep 0.1; done
        master_pid=
    fi
}
teardown() {
    stop_master
    [ -n "$kdc_started" ] && bash "$SM_SRCDIR/tests/krb5/kdc.sh" stop "$KDC"
    sm__cleanup
}
trap teardown EXIT
fail_all() {
    local i
    for ((i = SM_TAP_N; i < SM_TAP_PLAN; i++)); do sm_not_ok "Cyrus IMAP GSSAPI: $1"; done
    exit 1
}

missing=$(sm_missing_programs cyrmaster krb5kdc kdb5_util kadmin.local kinit)
[ -x "$CYRBIN/imapd" ] && [ -x "$CYRBIN/imtest" ] || missing="$missing imapd/imtest"
[ -z "$missing" ] || fail_all "missing programs: $missing (packages cyrus-imapd cyrus-clients krb5-kdc krb5-admin-server krb5-user)"
[ "$(id -u)" -eq 0 ] || fail_all "must run as root (cyrmaster)"
[ -f "$SM_PLUGIN_DIR/libsaslmechs_gssapi.so" ] || fail_all "our GSSAPI plugin is not built"
[ -f "$SM_SYSTEM_PLUGIN_DIR/libgssapiv2.so" ] || fail_all "no Cyrus gssapiv2 (package libsasl2-modules-gssapi-mit)"
PORT=$(( 20000 + RANDOM % 20000 ))

bash "$SM_SRCDIR/tests/krb5/kdc.sh" start "$KDC" >"$SM_TMP/kdc.out" 2>&1 \
    || fail_all "tests/krb5/kdc.sh failed: $(tail -3 "$SM_TMP/kdc.out")"
kdc_started=1
# shellcheck disable=SC1091
. "$KDC/env"

chmod 755 "$SM_TMP" "$KDC"
chown cyrus "$SM_KRB5_KEYTAB" "$KDC/rcache"
mkdir -p "$SM_TMP/plug-ours" "$SM_TMP/plug-cyrus"
ln -s "$SM_PLUGIN_DIR/libsaslmechs_gssapi.so" "$SM_SYSTEM_PLUGIN_DIR/libsasldb.so" "$SM_TMP/plug-ours/"
ln -s "$SM_SYSTEM_PLUGIN_DIR/libgssapiv2.so" "$SM_SYSTEM_PLUGIN_DIR/libsasldb.so" "$SM_TMP/plug-cyrus/"

# start_imap PLUGDIR KRB5_CONFIG: a fresh imapd set-up and its master
start_imap() {
    stop_master
    rm -rf "$DIR"
    mkdir -p "$DIR/conf/log/alice" "$DIR/conf/log/alice@$SM_KRB5_REALM" "$DIR/spool" "$DIR/run"
    cat >"$DIR/imapd.conf" <<CONFEOF
configdirectory: $DIR/conf
defaultpartition: default
partition-default: $DIR/spool
proc_path: $DIR/run/proc
mboxname_lockpath: $DIR/run/lock
lmtpsocket: $DIR/run/lmtp
idlesocket: $DIR/run/idle
notifysocket: $DIR/run/notify
servername: localhost
syslog_prefix: sm-gssapi-test
allowplaintext: no
sasl_mech_list: GSSAPI
sasl_keytab: $SM_KRB5_KEYTAB
CONFEOF
    cat >"$DIR/cyrus.conf" <<CONFEOF
START {
}
SERVICES {
  imap cmd="$CYRBIN/imapd -C $DIR/imapd.conf" listen="127.0.0.1:$PORT" prefork=0
}
EVENTS {
}
CONFEOF
    chown -R cyrus "$DIR"
    env SASL_PATH="$1" KRB5_CONFIG="$2" KRB5RCACHEDIR="$KRB5RCACHEDIR" \
        cyrmaster -C "$DIR/imapd.conf" -M "$DIR/cyrus.conf" -p "$DIR/master.pid" \
        -L "$DIR/master.log" &
    master_pid=$!
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
        kill -0 "$master_pid" 2>/dev/null || break
        sleep 0.1
    done
    return 1
}

# login: imtest as alice@REALM (the ccache) with authorization identity alice
login() {
    printf 'Z LOGOUT\r\n' | KRB5_CONFIG=$KRB5_CONFIG SASL_PATH=$SM_SYSTEM_PLUGIN_DIR \
        timeout "$SM_TIMEOUT" "$CYRBIN/imtest" -m GSSAPI -a "$SM_KRB5_USER" -u alice \
        -p "$PORT" localhost >"$DIR/imtest.out" 2>&1
}
# who: the users imapd wrote a telemetry log for
who() {
    local d
    for d in "$DIR/conf/log"/*; do
        [ -n "$(ls -A "$d" 2>/dev/null)" ] && printf '%s ' "${d##*/}"
    done
}

for run in "ours:default" "cyrus:default" "ours:foreign" "cyrus:foreign"; do
    IFS=: read -r impl realm <<<"$run"
    conf=$KRB5_CONFIG
    [ "$realm" = foreign ] && conf=$SM_KRB5_FOREIGN_CONFIG
    desc="Cyrus IMAP with the $impl GSSAPI plugin, imtest -u alice as $SM_KRB5_USER, $realm realm"
    if ! start_imap "$SM_TMP/plug-$impl" "$conf"; then
        sm_not_ok "$desc: cyrmaster did not start"; sm_diag_file "$DIR/master.log"
        continue
    fi
    login
    users=$(who)
    if [ "$realm" = default ]; then
        if grep -q "^Authenticated" "$DIR/imtest.out" && [ "$users" = "alice " ]; then
            sm_ok "$desc: logged in as alice"
        else
            sm_not_ok "$desc: not logged in as alice (telemetry: '${users}')"
            sm_diag_file "$DIR/imtest.out"; sm_diag_file "$DIR/master.log"
        fi
    else
        # the GSSAPI exchange runs to its end, then imapd answers NO
        if grep -q "^S: A01 NO" "$DIR/imtest.out" && [ -z "$users" ]; then
            sm_ok "$desc: refused after the exchange ($SM_KRB5_USER is not alice)"
        else
            sm_not_ok "$desc: not refused (telemetry: '${users}')"
            sm_diag_file "$DIR/imtest.out"
        fi
    fi
done
sm_done
