#!/bin/bash
# A throwaway MIT Kerberos realm on a loopback port, for every test layer
# that needs one (driver, interop, demo, bench):
#
#   tests/krb5/kdc.sh start DIR   create DIR (must not exist or be empty), the realm,
#                                 its principals and keytabs, start krb5kdc, kinit;
#                                 write DIR/env to be sourced by the caller
#   tests/krb5/kdc.sh stop DIR    stop the KDC this script started there
#
# DIR/env exports KRB5_CONFIG, KRB5_KDC_PROFILE, KRB5CCNAME, KRB5_KTNAME,
# KRB5RCACHEDIR (everything in DIR: nothing of the host's Kerberos set-up is
# read or changed) and SM_KRB5_* names for the tests:
#   SM_KRB5_REALM       the realm
#   SM_KRB5_USER        the user principal with tickets in KRB5CCNAME (alice@REALM)
#   SM_KRB5_HOSTS       the host names with service principals
#   SM_KRB5_SERVICES    the services each of those hosts has (smtp rcmd imap ldap)
#   SM_KRB5_KEYTAB      the servers' keytab (also KRB5_KTNAME)
#   SM_KRB5_WRONG_KEYTAB  a keytab holding only other/<host>, for the "no key" case
#   SM_KRB5_USER_KEYTAB   the user's keytab (kinit -k again, e.g. for a short ticket)
#   SM_KRB5_PORT        the KDC's port on 127.0.0.1
#   SM_KRB5_FOREIGN_CONFIG  a krb5.conf like KRB5_CONFIG but whose default_realm is
#                       SM_KRB5_FOREIGN_REALM: an acceptor run with it sees alice@REALM
#                       as a principal of a foreign realm (a cross-realm user), the
#                       one thing its realm rule looks at
#   SM_KRB5_FOREIGN_REALM  that default realm (no KDC serves it)
#   SM_KRB5_DIR         DIR
# Host names: SM_KRB5_HOSTS in the environment (default: the names the tests
# use, plus this machine's own name, lowercased as MIT does).
set -u
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

stop() {
    local pid
    if [ -s "$dir/kdc.pid" ]; then
        pid=$(cat "$dir/kdc.pid")
        # only the krb5kdc this script started (its pid file, its config)
        if [ -r "/proc/$pid/environ" ] && tr '\0' '\n' <"/proc/$pid/environ" \
            | grep -qx "KRB5_KDC_PROFILE=$dir/kdc.conf"; then
            kill "$pid" 2>/dev/null
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        fi
        rm -f "$dir/kdc.pid"
    fi
}

if [ "$cmd" = stop ]; then
    stop
    exit 0
fi
[ "$cmd" = start ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

PATH=$PATH:/usr/sbin:/sbin
for p in kdb5_util kadmin.local krb5kdc kinit klist python3; do
    command -v "$p" >/dev/null || {
        echo "kdc.sh: $p not found (Debian: apt-get install krb5-kdc krb5-admin-server krb5-user)" >&2
        exit 1
    }
done
mkdir -p "$dir" || exit 1
dir=$(cd "$dir" && pwd)
realm=SM-GSSAPI.TEST
foreign=SM-FOREIGN.TEST
me=$(hostname 2>/dev/null | tr 'A-Z' 'a-z')
hosts=${SM_KRB5_HOSTS:-mx.sm-gssapi.test sasl-mechs.test localhost $me}
services="smtp rcmd imap ldap"

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

write_conf() {
    cat >"$dir/krb5.conf" <<CONF
[libdefaults]
    default_realm = $realm
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    udp_preference_limit = 1
    forwardable = true
    default_ccache_name = FILE:$dir/ccache
    default_keytab_name = FILE:$dir/server.keytab
[realms]
    $realm = {
        kdc = 127.0.0.1:$port
    }
[domain_realm]
    .sm-gssapi.test = $realm
    sasl-mechs.test = $realm
CONF
    sed "s/^    default_realm = .*/    default_realm = $foreign/" "$dir/krb5.conf" >"$dir/krb5-foreign.conf"
    cat >"$dir/kdc.conf" <<CONF
[kdcdefaults]
    kdc_ports = $port
    kdc_tcp_ports = $port
[realms]
    $realm = {
        database_name = $dir/principal
        key_stash_file = $dir/stash
        acl_file = $dir/kadm5.acl
        max_life = 10h
        max_renewable_life = 1d
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
    }
[logging]
    kdc = FILE:$dir/kdc.log
CONF
}

port=$(free_port)
write_conf
export KRB5_CONFIG=$dir/krb5.conf KRB5_KDC_PROFILE=$dir/kdc.conf
log=$dir/setup.log
: >"$dir/kadm5.acl"
kdb5_util create -s -r "$realm" -P "kdc-master-$$-$RANDOM" >>"$log" 2>&1 \
    || { echo "kdc.sh: kdb5_util create failed:" >&2; tail -5 "$log" >&2; exit 1; }
q() { kadmin.local -r "$realm" -q "$1" >>"$log" 2>&1 || { echo "kdc.sh: kadmin.local '$1' failed" >&2; exit 1; }; }
q "addprinc -randkey alice"
q "addprinc -randkey bob"
q "ktadd -k $dir/user.keytab alice"
q "ktadd -k $dir/bob.keytab bob"
for h in $hosts; do
    for s in $services; do
        q "addprinc -randkey $s/$h"
        q "ktadd -k $dir/server.keytab $s/$h"
    done
    q "addprinc -randkey other/$h"
    q "ktadd -k $dir/wrong.keytab other/$h"
done
chmod 600 "$dir"/*.keytab

# the port was free a moment ago; if someone took it since, try another
for attempt in 1 2 3 4 5; do
    krb5kdc -P "$dir/kdc.pid" -r "$realm" >>"$log" 2>&1
    for _ in $(seq 50); do [ -s "$dir/kdc.pid" ] && break; sleep 0.1; done
    ok=no
    for _ in $(seq 50); do
        if kinit -k -t "$dir/user.keytab" -c "FILE:$dir/ccache" "alice@$realm" >>"$log" 2>&1; then
            ok=yes; break
        fi
        sleep 0.1
    done
    [ $ok = yes ] && break
    stop
    [ $attempt = 5 ] && { echo "kdc.sh: the KDC did not answer:" >&2; tail -5 "$log" "$dir/kdc.log" >&2; exit 1; }
    port=$(free_port)
    write_conf
done

mkdir -p "$dir/rcache"
cat >"$dir/env" <<ENV
export KRB5_CONFIG=$dir/krb5.conf
export KRB5_KDC_PROFILE=$dir/kdc.conf
export KRB5CCNAME=FILE:$dir/ccache
export KRB5_KTNAME=FILE:$dir/server.keytab
export KRB5RCACHEDIR=$dir/rcache
export SM_KRB5_DIR=$dir
export SM_KRB5_REALM=$realm
export SM_KRB5_USER=alice@$realm
export SM_KRB5_HOSTS="$hosts"
export SM_KRB5_SERVICES="$services"
export SM_KRB5_KEYTAB=$dir/server.keytab
export SM_KRB5_WRONG_KEYTAB=$dir/wrong.keytab
export SM_KRB5_USER_KEYTAB=$dir/user.keytab
export SM_KRB5_PORT=$port
export SM_KRB5_FOREIGN_CONFIG=$dir/krb5-foreign.conf
export SM_KRB5_FOREIGN_REALM=$foreign
ENV
echo "kdc.sh: realm $realm on 127.0.0.1:$port in $dir"
