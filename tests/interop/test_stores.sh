#!/bin/bash
# Shared secret stores on real servers (issue 17): PostgreSQL through the
# SQL auxprop (sql_engine pgsql) and OpenLDAP's slapd through the ldapdb
# auxprop (EXTERNAL over ldapi), each started here on loopback with a
# private data folder, each read by two Postfix instances (private
# configuration folders, queues and logs: two mail hosts) whose smtpds offer
# our PLAIN, LOGIN, CRAM-MD5 and NTLM.
# Every configuration line that is part of the recipe comes from README.md's
# section "Shared secret stores" (the block after each
# "<!-- test_stores.sh: NAME -->" line); the test replaces only host names,
# ports, paths and the postfix uid there, and fails when one it expects to
# replace is gone, so the README and the test cannot drift apart.
# For each store: PLAIN, LOGIN, CRAM-MD5 (swaks) and NTLM (curl) with a
# password in userPassword, CRAM-MD5 with the {CRAM-MD5} key schedule, NTLM
# with an {NTLM} hash, and (LDAP) NTLM with Samba's sambaNTPassword; wrong
# passwords and an unknown user get 535; a password changed in the store is
# taken at once by both instances; then the store is stopped: every attempt
# gets 454 (never 535), and once it is back the next attempts succeed with
# nothing restarted (the Postfix masters keep their pids).  No smtpd may
# panic, crash or log a fatal error.
# Needs root and the packages postgresql, slapd, ldap-utils, postfix,
# libsasl2-modules-sql, libsasl2-modules-ldap, swaks, curl, python3
# (scripts/deps.sh).  Everything is torn down on exit.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sm_init

MECHS=(PLAIN LOGIN CRAM-MD5 NTLM)
REALM=example.org              # smtpd_sasl_local_domain in the README's main.cf lines
BASE=dc=example,dc=org         # the README's suffix
PEOPLE=ou=people,$BASE
ALICE_PASS='alice s3cret'      # userPassword: the password
ALICE_NEW='alice n3w pass'     # ... after the change
CAROL_PASS='carol s3cret'      # userPassword: {CRAM-MD5} key schedule
DAVE_PASS='dave s3cret'        # userPassword: {NTLM} NT hash
ERIN_PASS='erin s3cret'        # LDAP: sambaNTPassword only
# start: README, PostgreSQL, slapd (and its mapping), two Postfix
# instances; per store (19):
# alice x 4 mechanisms, carol, dave, 3 wrong passwords, an unknown user,
# the change (new accepted, old refused), outage (4), back (3); LDAP's
# Samba user (4): accepted, wrong, outage, back; the logs at the end (2)
sm_plan $(( 6 + 2 * 19 + 4 + 2 ))

pg_started=
PGDIR=$SM_TMP/pg
LDIR=$SM_TMP/ldap
teardown() {
    sm_postfix_stop
    if [ -n "$pg_started" ]; then
        runuser -u postgres -- pg_ctl -D "$PGDIR/data" -m immediate -w stop >/dev/null 2>&1
    fi
    sm_slapd_stop
    sm__cleanup
}
trap teardown EXIT

fail_all() { sm_fail_all "stores: $1"; }  # every case still planned fails

missing=$(sm_missing_programs postfix postconf swaks curl slapd ldapadd ldapmodify runuser \
    iconv openssl python3)
[ -d /usr/lib/postgresql ] || missing="$missing postgresql"
[ -z "$missing" ] || fail_all "missing programs: $missing (scripts/deps.sh installs them)"
[ "$(id -u)" -eq 0 ] || fail_all "must run as root (Postfix's master, initdb as postgres)"
for f in libsql.so libldapdb.so; do
    [ -f "$SM_SYSTEM_PLUGIN_DIR/$f" ] ||
        fail_all "no $SM_SYSTEM_PLUGIN_DIR/$f (libsasl2-modules-sql, libsasl2-modules-ldap)"
done
PGBIN=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d | sort -V | tail -n 1)
export PATH="$PGBIN:$PATH"
POSTFIX_UID=$(id -u postfix) || fail_all "no postfix user"
chmod 755 "$SM_TMP"

# ---- the README's blocks (lib.sh's sm_recipe) ------------------------------
SM_README_TAG=test_stores.sh

# free_port: a loopback TCP port nothing listens on
free_port() {
    local p
    for _ in $(seq 50); do
        p=$(( 20000 + RANDOM % 20000 ))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
    done
    return 1
}
urlencode() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

PGPORT=$(free_port)
LDAPI=$LDIR/ldapi
LDAPI_URL=ldapi://$(urlencode "$LDAPI")
mkdir -p "$PGDIR" "$LDIR/db"
plugdir=$SM_TMP/plugins
mkdir -p "$plugdir"
for m in "${MECHS[@]}"; do
    ln -s "$(sm_plugin_file ours "$m")" "$plugdir/" || fail_all "no plugin for $m"
done
ln -s "$SM_SYSTEM_PLUGIN_DIR/libsql.so" "$SM_SYSTEM_PLUGIN_DIR/libldapdb.so" "$plugdir/"

# the blocks, made concrete for this machine
sm_recipe pg-schema >"$PGDIR/schema.sql"
sm_recipe pg-smtpd.conf "db.example.org:5432" "127.0.0.1:$PGPORT" >"$SM_TMP/smtpdpg.conf"
sm_recipe slapd.conf "/etc/ldap/schema/samba-nt.schema" "$LDIR/samba-nt.schema" \
    "uidNumber=106," "uidNumber=$POSTFIX_UID," "/var/lib/ldap" "$LDIR/db" >"$LDIR/slapd.recipe"
sm_recipe samba-nt.schema >"$LDIR/samba-nt.schema"
sm_recipe ldapdb.ldif >"$LDIR/ldapdb.ldif"
sm_recipe ldap-smtpd.conf "ldapi://%2Frun%2Fslapd%2Fldapi" "$LDAPI_URL" >"$SM_TMP/smtpdldap.conf"
sm_recipe samba-smtpd.conf "ldapi://%2Frun%2Fslapd%2Fldapi" "$LDAPI_URL" >"$SM_TMP/smtpdsamba.conf"
sm_recipe postfix-main.cf >"$SM_TMP/main.cf.recipe"
# curl's NTLM (the only NTLMv2 client here) sends no MIC: allowed for the
# test, not part of the recipe
for f in smtpdpg smtpdldap smtpdsamba; do
    echo "ntlm_allow_v2_without_mic: yes" >>"$SM_TMP/$f.conf"
done
if [ -z "$SM_RECIPE_MISSING" ]; then
    sm_ok "README's recipes read (pg-schema, pg-smtpd.conf, slapd.conf, samba-nt.schema, ldapdb.ldif, ldap-smtpd.conf, samba-smtpd.conf, postfix-main.cf)"
else
    sm_not_ok "README's recipes read" "missing in README.md's section Shared secret stores:$SM_RECIPE_MISSING"
fi

# ---- the secrets ------------------------------------------------------------------
CAROL_KEY=$(python3 "$SM_SRCDIR/tests/driver/cram_md5_schedule.py" "$CAROL_PASS") ||
    fail_all "cram_md5_schedule.py failed"
DAVE_HASH=$(sm_nt_hash "$DAVE_PASS") || DAVE_HASH=
[ ${#DAVE_HASH} -eq 32 ] || fail_all "no NT hash (openssl's legacy provider)"
ERIN_HASH=$(sm_nt_hash "$ERIN_PASS" | tr '[:lower:]' '[:upper:]')  # as Samba writes it

# ---- PostgreSQL --------------------------------------------------------------------
psql_run() {  # psql_run DB SQL...: as the superuser, over the private socket
    local db=$1
    shift
    runuser -u postgres -- psql -h "$PGDIR" -p "$PGPORT" -d "$db" -v ON_ERROR_STOP=1 -qAt "$@"
}
pg_start() {
    runuser -u postgres -- pg_ctl -D "$PGDIR/data" -l "$PGDIR/log" -w -t 60 \
        -o "-c port=$PGPORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PGDIR -c fsync=off" \
        start >>"$PGDIR/ctl.log" 2>&1
}
pg_stop() { runuser -u postgres -- pg_ctl -D "$PGDIR/data" -m fast -w stop >>"$PGDIR/ctl.log" 2>&1; }
chown postgres "$PGDIR"
if runuser -u postgres -- initdb -D "$PGDIR/data" -U postgres --auth-local=trust \
        --auth-host=scram-sha-256 >"$PGDIR/initdb.log" 2>&1 && pg_start; then
    pg_started=1
fi
if [ -n "$pg_started" ] && psql_run postgres -c "CREATE DATABASE mail" &&
    psql_run mail -f "$PGDIR/schema.sql" >"$PGDIR/schema.log" 2>&1; then
    sm_ok "PostgreSQL $(postgres --version | awk '{ print $3 }') on 127.0.0.1:$PGPORT (data in $PGDIR), the README's schema loaded"
else
    sm_not_ok "PostgreSQL did not start, or the README's schema failed"
    sm_diag_file "$PGDIR/initdb.log" initdb; sm_diag_file "$PGDIR/log" postgres
    sm_diag_file "$PGDIR/schema.log" schema
fi
# pg_set USER PROPERTY VALUE: the row, inserted or replaced
pg_set() {
    psql_run mail -c "INSERT INTO sasl_secrets VALUES ('$1', '$REALM', '$2', '$3')
        ON CONFLICT (name, realm, property) DO UPDATE SET value = EXCLUDED.value"
}

# ---- slapd ----------------------------------------------------------------------------
ADMIN_PW=admin-$RANDOM-$RANDOM
{
    echo "pidfile $LDIR/slapd.pid"
    echo "argsfile $LDIR/slapd.args"
    cat "$LDIR/slapd.recipe"
    echo "rootdn cn=admin,$BASE"
    echo "rootpw $ADMIN_PW"
} >"$LDIR/slapd.conf"
SM_SLAPD_LOG=$LDIR/slapd.log
slapd_up=
if sm_slapd_start "$LDIR/slapd.conf" "$LDAPI_URL"; then
    slapd_up=1
fi
ldap_admin() {  # ldap_admin ldapadd|ldapmodify < LDIF
    "$1" -x -H "ldap://127.0.0.1:$SM_SLAPD_PORT/" -D "cn=admin,$BASE" -w "$ADMIN_PW" \
        >>"$LDIR/admin.log" 2>&1
}
if [ -n "$slapd_up" ] && {
    cat <<LDIFEOF
dn: $BASE
objectClass: dcObject
objectClass: organization
dc: example
o: example

dn: $PEOPLE
objectClass: organizationalUnit
ou: people

LDIFEOF
    cat "$LDIR/ldapdb.ldif"
    for u in alice:"$ALICE_PASS" carol:"{CRAM-MD5}$CAROL_KEY" dave:"{NTLM}$DAVE_HASH"; do
        printf '\ndn: uid=%s,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\nsn: %s\nuserPassword: %s\n' \
            "${u%%:*}" "$PEOPLE" "${u%%:*}" "${u%%:*}" "${u%%:*}" "${u#*:}"
    done
    printf '\ndn: uid=erin,%s\nobjectClass: inetOrgPerson\nobjectClass: sambaSamAccount\nuid: erin\ncn: erin\nsn: erin\nsambaSID: S-1-5-21-1004336348-1177238915-682003330-1001\nsambaNTPassword: %s\n' \
        "$PEOPLE" "$ERIN_HASH"
} | ldap_admin ldapadd; then
    sm_ok "slapd on 127.0.0.1:$SM_SLAPD_PORT and $LDAPI_URL (mdb in $LDIR/db), the README's slapd.conf, schema and ldapdb entry, 4 users"
else
    sm_not_ok "slapd did not start, or the entries were refused"
    sm_diag_file "$LDIR/slapd.log" slapd; sm_diag_file "$LDIR/admin.log" ldapadd
fi
# the README's check of the mapping: as the postfix user, EXTERNAL over
# ldapi, acting for alice@example.org, slapd says who that is
who=$(runuser -u postfix -- ldapwhoami -Q -Y EXTERNAL -H "$LDAPI_URL" \
    -e "!authzid=u:alice@$REALM" 2>&1)
if [ "$who" = "dn:uid=alice,$PEOPLE" ]; then
    sm_ok "ldapwhoami -Y EXTERNAL as postfix, proxied authorization u:alice@$REALM: $who"
else
    sm_not_ok "ldapwhoami -Y EXTERNAL as postfix, proxied authorization u:alice@$REALM" "got: $who"
fi
ldap_set() {  # ldap_set USER ATTRIBUTE VALUE
    printf 'dn: uid=%s,%s\nchangetype: modify\nreplace: %s\n%s: %s\n' "$1" "$PEOPLE" "$2" "$2" "$3" |
        ldap_admin ldapmodify
}

if [ -n "$pg_started" ]; then
    if ! { pg_set alice userPassword "$ALICE_PASS" && pg_set carol userPassword "{CRAM-MD5}$CAROL_KEY" &&
        pg_set dave userPassword "{NTLM}$DAVE_HASH"; } >/dev/null; then
        sm_diag "PostgreSQL: the users' rows failed"
    fi
fi

# ---- two Postfix instances --------------------------------------------------------------
# instance I (a, b): host mxI.example.org, three smtpds: PostgreSQL, LDAP, LDAP's Samba hashes
declare -A PORT
for i in a b; do
    for s in pg ldap samba; do PORT[$i$s]=$(free_port); done
    top=$SM_TMP/pf$i conf=$SM_TMP/pf$i/conf
    mkdir -p "$conf/sasl" "$top/queue" "$top/data"
    chown postfix "$top/data"
    for s in pg ldap samba; do
        cp "$SM_TMP/smtpd$s.conf" "$conf/sasl/smtpd$s.conf"
        chown root:postfix "$conf/sasl/smtpd$s.conf"; chmod 640 "$conf/sasl/smtpd$s.conf"
    done
    SM_POSTFIX_TOP=$top sm_postfix_main_cf "$conf/main.cf" "mx$i.$REALM" "$plugdir"
    cat "$SM_TMP/main.cf.recipe" >>"$conf/main.cf"
    {
        for s in pg ldap samba; do
            # one smtpd process per listener (maxproc 1): the process that
            # answered during an outage is the one that answers after it
            echo "127.0.0.1:${PORT[$i$s]} inet n - n - 1 smtpd -o content_filter=discard: -o smtpd_sasl_path=smtpd$s"
        done
        sm_postfix_master_services
    } >"$conf/master.cf"
done
declare -A MASTER_PID
for i in a b; do
    conf=$SM_TMP/pf$i/conf
    sm_postfix_start "$conf" "${PORT[${i}samba]}"
    out=$SM_POSTFIX_WHY
    MASTER_PID[$i]=$(tr -d ' ' <"$SM_TMP/pf$i/queue/pid/master.pid" 2>/dev/null)
    if [ -n "${MASTER_PID[$i]}" ] && (exec 3<>"/dev/tcp/127.0.0.1/${PORT[${i}samba]}") 2>/dev/null; then
        sm_ok "Postfix instance mx$i (config $conf, master pid ${MASTER_PID[$i]}): smtpds for PostgreSQL on ${PORT[${i}pg]}, LDAP on ${PORT[${i}ldap]}, Samba hashes on ${PORT[${i}samba]}"
    else
        sm_not_ok "Postfix instance mx$i did not start" "$out"
        sm_diag_file "$SM_TMP/pf$i/maillog"
    fi
done

# ---- clients ------------------------------------------------------------------------------
# attempt MECH PORT USER PASS: sets CODE to the server's answer to AUTH
# (235, 535, 454, another code or "no reply") and LAST_LOG to the client's
# transcript; swaks for PLAIN, LOGIN and CRAM-MD5, curl for NTLM (NTLMv2;
# swaks's and gsasl's NTLM is NTLMv1)
n_attempt=0 CODE='' LAST_LOG=''
attempt() {
    local mech=$1 port=$2 user=$3 pass=$4 log code
    n_attempt=$((n_attempt + 1))
    log=$SM_TMP/attempt-$n_attempt-$mech-$port-$user.log
    if [ "$mech" = NTLM ]; then
        sm_curl_smtp "$port" "$log" "$user@client.example" --user "$user:$pass" \
            --login-options AUTH=NTLM
    else
        timeout "$SM_TIMEOUT" swaks --server "127.0.0.1:$port" --auth "$mech" \
            --auth-user "$user" --auth-password "$pass" --from "$user@client.example" \
            --to bob@remote.example --quit-after AUTH >"$log" 2>&1
    fi
    code=$(grep -oE '^(< |<[-*~]+ +)(235|334|454|535|[245][0-9][0-9])[ -]' "$log" |
        grep -oE '[0-9]{3}' | grep -v '^334$' | grep -vE '^(220|250)$' | head -n 1)
    LAST_LOG=$log
    CODE=${code:-no reply}
}
# expect CODE DESC MECH PORT USER PASS [MECH PORT USER PASS...]: one case,
# ok when every attempt got CODE
expect() {
    local want=$1 desc=$2 why=
    shift 2
    while [ $# -ge 4 ]; do
        attempt "$1" "$2" "$3" "$4"
        [ "$CODE" = "$want" ] || why="$why${why:+; }$1 as $3 on port $2 got $CODE (log $(basename "$LAST_LOG"))"
        shift 4
    done
    if [ -z "$why" ]; then
        sm_ok "$desc: $want"
        # the outage's transcript: what the client was told
        [ "$want" = 454 ] && sm_diag "  $(grep -m 1 -E '^(< |<[-*~]+ +)454 ' "$LAST_LOG")"
    else
        sm_not_ok "$desc: $want" "$why"
        sm_diag_file "$LAST_LOG"
    fi
}

# ---- the cases, for each store -----------------------------------------------------------
# store_cases NAME SET STOP START: SET USER PROPERTY VALUE changes a secret,
# STOP and START stop and restart the store
store_cases() {
    local st=$1 set=$2 stop=$3 start=$4 pa pb m
    pa=${PORT[a$st]} pb=${PORT[b$st]}
    for m in "${MECHS[@]}"; do
        expect 235 "$st: $m, password in userPassword (mxa)" "$m" "$pa" alice "$ALICE_PASS"
    done
    expect 235 "$st: CRAM-MD5, {CRAM-MD5} key schedule in userPassword (mxa)" CRAM-MD5 "$pa" carol "$CAROL_PASS"
    expect 235 "$st: NTLM, {NTLM} hash in userPassword (mxb)" NTLM "$pb" dave "$DAVE_PASS"
    expect 535 "$st: PLAIN, wrong password (mxb)" PLAIN "$pb" alice "wrong $ALICE_PASS"
    expect 535 "$st: CRAM-MD5, wrong password against the key schedule (mxa)" CRAM-MD5 "$pa" carol "wrong $CAROL_PASS"
    expect 535 "$st: NTLM, wrong password against the {NTLM} hash (mxa)" NTLM "$pa" dave "wrong $DAVE_PASS"
    expect 535 "$st: PLAIN, unknown user (mxa)" PLAIN "$pa" nosuchuser "$ALICE_PASS"

    # a password changed in the store: both hosts at once
    if "$set" alice userPassword "$ALICE_NEW" >/dev/null; then
        expect 235 "$st: alice's password changed in the store, the new one accepted by both hosts at once (PLAIN mxa, CRAM-MD5 mxb)" \
            PLAIN "$pa" alice "$ALICE_NEW" CRAM-MD5 "$pb" alice "$ALICE_NEW"
        expect 535 "$st: the old password refused by both hosts (PLAIN mxa, LOGIN mxb)" \
            PLAIN "$pa" alice "$ALICE_PASS" LOGIN "$pb" alice "$ALICE_PASS"
    else
        sm_not_ok "$st: alice's password changed in the store" "the change failed"
        sm_not_ok "$st: the old password refused by both hosts" "the change failed"
    fi

    # the store stopped: a temporary failure, never a refusal
    if "$stop"; then
        sm_diag "$st: the store is stopped"
        expect 454 "$st down: PLAIN, right password (mxa)" PLAIN "$pa" alice "$ALICE_NEW"
        expect 454 "$st down: LOGIN, right password (mxb)" LOGIN "$pb" alice "$ALICE_NEW"
        expect 454 "$st down: CRAM-MD5, key schedule (mxa)" CRAM-MD5 "$pa" carol "$CAROL_PASS"
        expect 454 "$st down: NTLM, wrong password, still temporary (mxb)" NTLM "$pb" dave "wrong $DAVE_PASS"
        [ "$st" = ldap ] && expect 454 "ldap down: NTLM from sambaNTPassword (mxa)" NTLM "${PORT[asamba]}" erin "$ERIN_PASS"
    else
        for m in 1 2 3 4; do sm_not_ok "$st: the store could not be stopped"; done
        [ "$st" = ldap ] && sm_not_ok "$st: the store could not be stopped"
    fi
    if "$start"; then
        sm_diag "$st: the store is back; nothing else restarted"
        expect 235 "$st back: PLAIN, the next attempt succeeds (mxa)" PLAIN "$pa" alice "$ALICE_NEW"
        expect 235 "$st back: CRAM-MD5, key schedule (mxb)" CRAM-MD5 "$pb" carol "$CAROL_PASS"
        expect 235 "$st back: NTLM, {NTLM} hash (mxa)" NTLM "$pa" dave "$DAVE_PASS"
        [ "$st" = ldap ] && expect 235 "ldap back: NTLM from sambaNTPassword (mxa)" NTLM "${PORT[asamba]}" erin "$ERIN_PASS"
    else
        for m in 1 2 3; do sm_not_ok "$st: the store did not come back"; done
        [ "$st" = ldap ] && sm_not_ok "$st: the store did not come back"
        sm_diag_file "$PGDIR/log" postgres; sm_diag_file "$LDIR/slapd.log" slapd
    fi
    return 0
}

slapd_stop() { sm_slapd_stop; [ -z "$SM_SLAPD_PID" ]; }
slapd_start() { sm_slapd_start "$LDIR/slapd.conf" "$LDAPI_URL"; }
store_cases pg pg_set pg_stop pg_start

# Samba's NT hash, before the LDAP outage
expect 235 "ldap: NTLM with Samba's sambaNTPassword (ntlm_secret_property, mxa)" NTLM "${PORT[asamba]}" erin "$ERIN_PASS"
expect 535 "ldap: NTLM, wrong password against sambaNTPassword (mxb)" NTLM "${PORT[bsamba]}" erin "wrong $ERIN_PASS"
store_cases ldap ldap_set slapd_stop slapd_start

# ---- the logs: no crash, nothing restarted ---------------------------------------------------
trouble='' restarted=''
for i in a b; do
    t=$(grep -E 'panic|fatal|warning: process .* (killed|exit status)|signal [0-9]+|segmentation' \
        "$SM_TMP/pf$i/maillog" 2>/dev/null | head -n 5)
    [ -n "$t" ] && trouble="$trouble$t"$'\n'
    now=$(tr -d ' ' <"$SM_TMP/pf$i/queue/pid/master.pid" 2>/dev/null)
    [ "$now" = "${MASTER_PID[$i]}" ] || restarted="$restarted mx$i (${MASTER_PID[$i]} -> ${now:-none})"
done
if [ -z "$trouble" ] && [ -z "$restarted" ]; then
    sm_ok "no smtpd panicked, crashed or logged a fatal error; both Postfix masters kept their pids"
else
    sm_not_ok "no smtpd panicked, crashed or logged a fatal error; both Postfix masters kept their pids" \
        "${trouble}${restarted:+restarted:$restarted}"
fi
# the smtpd processes that answered 454 during an outage (each listener has
# one) authenticated a client after their last 454: the same
# process, its libsasl2 and our plugins loaded once, nothing restarted
stale=''
n_outage=0
for i in a b; do
    log=$SM_TMP/pf$i/maillog
    while IFS=: read -r line pid; do
        n_outage=$((n_outage + 1))
        tail -n +"$line" "$log" | grep -qE "smtpd\[$pid\]: disconnect from .* auth=1( |\$)" ||
            stale="$stale mx$i smtpd[$pid]"
    done < <(grep -nE 'smtpd\[[0-9]+\]: .*SASL .* authentication failed: (generic failure|remote authentication server unavailable)' \
        "$log" 2>/dev/null | sed -E 's/^([0-9]+):.*smtpd\[([0-9]+)\].*/\1:\2/' |
        awk -F: '{ last[$2] = $1 } END { for (p in last) print last[p] ":" p }')
done
if [ "$n_outage" -gt 0 ] && [ -z "$stale" ]; then
    sm_ok "each of the $n_outage smtpd processes that answered 454 during an outage authenticated a client again afterwards"
else
    sm_not_ok "each smtpd process that answered 454 during an outage authenticated a client again afterwards" \
        "${stale:+not again:$stale}${stale:-no outage line in the mail logs}"
fi
# the outages as smtpd logged them (the reason libsasl2 gave), for the record
grep -h 'SASL .* authentication failed: ' "$SM_TMP/pfa/maillog" "$SM_TMP/pfb/maillog" 2>/dev/null |
    grep -v 'failed: authentication failure' | sort | sed 's/^/# smtpd: /'
sm_done
