#!/bin/bash
# PLAIN and LOGIN with pwcheck_method: saslauthd, end to end: saslauthd
# (shadow mechanism, its own socket folder) checks the password of a
# throwaway system user whom the sasldb auxprop does not know; our server
# plugins in sasl-sample-server, our client plugins in sasl-sample-client.
# Needs root (a system user is created and removed).  TAP output.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sm_init

MECHS=(PLAIN LOGIN)
USER_NAME=smtest$$
PASS='saslauthd-Pa55 word'
sm_plan $((2 * ${#MECHS[@]}))

authd_pid=
user_made=
teardown() {
    if [ -n "$authd_pid" ]; then
        kill -- "-$authd_pid" 2>/dev/null || kill "$authd_pid" 2>/dev/null
        wait "$authd_pid" 2>/dev/null
    fi
    if [ -n "$user_made" ] && ! userdel -f "$USER_NAME" 2>/dev/null; then
        echo "# could not remove the test user $USER_NAME" >&2
    fi
    sm__cleanup
}
trap teardown EXIT

fail_all() { sm_fail_all "saslauthd: $1"; }  # every case still planned fails

missing=$(sm_missing_programs saslauthd testsaslauthd useradd userdel chpasswd sasl-sample-server sasl-sample-client)
[ -z "$missing" ] || fail_all "missing programs: $missing (scripts/deps.sh installs them)"
[ "$(id -u)" -eq 0 ] || fail_all "must run as root (a system user is created)"

useradd -M -N -s /usr/sbin/nologin "$USER_NAME" || fail_all "useradd failed"
user_made=1
echo "$USER_NAME:$PASS" | chpasswd || fail_all "chpasswd failed"

mkdir -p "$SM_TMP/authd"
# its own session: on exit saslauthd signals its whole process group
setsid saslauthd -a shadow -m "$SM_TMP/authd" -n 0 -d >"$SM_TMP/authd.log" 2>&1 &
authd_pid=$!
for _ in $(seq 50); do [ -S "$SM_TMP/authd/mux" ] && break; sleep 0.1; done
testsaslauthd -f "$SM_TMP/authd/mux" -u "$USER_NAME" -p "$PASS" >/dev/null 2>&1 ||
    fail_all "saslauthd does not accept the test user (see $SM_TMP/authd.log)"

# an empty sasldb: the user exists for saslauthd only
sm_mksasldb "$SM_TMP/sasldb" "$SM_FQDN" someoneelse unused || fail_all "saslpasswd2 failed"
sm_write_conf "$SM_TMP" pwcheck_method=saslauthd "saslauthd_path=$SM_TMP/authd/mux" \
    auxprop_plugin=sasldb "sasldb_path=$SM_TMP/sasldb"

for mech in "${MECHS[@]}"; do
    dir=$SM_TMP/plug-$mech
    if ! sm_mkplugdir "$dir" ours "$mech" sasldb 2>"$SM_TMP/plugdir.err"; then
        sm_not_ok "$mech: saslauthd accepts the right password" "$(cat "$SM_TMP/plugdir.err")"
        sm_not_ok "$mech: saslauthd refuses a wrong password" "$(cat "$SM_TMP/plugdir.err")"
        continue
    fi
    if sm_exchange "$mech-authd" "$mech" "$dir" "$dir" "$SM_TMP" "$USER_NAME" "$PASS" \
        && [ "$SM_X_USER" = "$USER_NAME" ]; then
        sm_ok "$mech: saslauthd accepts the right password (user unknown to the auxprop)"
    else
        sm_not_ok "$mech: saslauthd accepts the right password"; sm_exchange_diag
    fi
    if ! sm_exchange "$mech-authd-wrong" "$mech" "$dir" "$dir" "$SM_TMP" "$USER_NAME" "x$PASS" \
        && sm_refused; then
        sm_ok "$mech: saslauthd refuses a wrong password with SASL_BADAUTH"
    else
        sm_not_ok "$mech: saslauthd refuses a wrong password"; sm_exchange_diag
    fi
done
sm_done
