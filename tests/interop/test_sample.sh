#!/bin/bash
# End to end through Cyrus's own sample programs (Debian sasl2-bin):
# sasl-sample-server and sasl-sample-client, each given a plugin folder that
# offers exactly one implementation of the mechanism.  For every mechanism:
#   our server x our client, our server x Cyrus client, Cyrus server x our
#   client succeed with the right password and name the right user;
#   a wrong password is refused by our server with SASL_BADAUTH and a clean exit.
# Then the secrets come from the SQL auxprop on SQLite, with no sasldb plugin
# in the folder at all.  XOAUTH2 and OAUTHBEARER (ours x ours: Cyrus has
# neither): a token signed at test time (tests/oauth/oauth_mint) against a
# JWKS file authenticates; an expired one is refused.  NTLM: our NTLMv2 both
# ways with Cyrus's NTLM; Cyrus's client (it sends NTLMv1: the sample client
# has no way to give it ntlm_v2) accepted only with ntlm_allow_v1: yes and
# refused by default; the NT hash stored instead of the password
# ({NTLM}+hex in userPassword, bare hex in sambaNTPassword through
# ntlm_secret_property and the SQL auxprop).  TAP output.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MECHS=(PLAIN LOGIN CRAM-MD5)
SQL_MECHS=(PLAIN LOGIN CRAM-MD5)
USER_NAME=alice
USER_PASS='Tr0ub4dor&3 x'
SQL_USER=bob
SQL_PASS='c0rrect horse'

OAUTH_MECHS=(XOAUTH2 OAUTHBEARER)
# NTLM: a user whose name and password are not ASCII, stored only as a hash
NTLM_USER=$(printf 'j\xc3\xbcrgen')
NTLM_PASS=$(printf 'p\xc3\xa4ss w\xc3\xb6rd \xe2\x82\xac\xf0\x9f\x94\x91')
NTLM_CASES=8
sm_plan $((${#MECHS[@]} * 4 + ${#SQL_MECHS[@]} + 1 + ${#OAUTH_MECHS[@]} * 2 + NTLM_CASES))
sm_init

# Anything missing makes every case "not ok" with the reason.
blocked=
missing=$(sm_missing_programs sasl-sample-server sasl-sample-client saslpasswd2 \
    sqlite3 setsid timeout stdbuf mkfifo iconv openssl od)
[ -n "$missing" ] && blocked="missing programs: $missing (packages sasl2-bin, sqlite3, util-linux, coreutils, libc-bin, openssl)"
[ -d "$SM_PLUGIN_DIR" ] || blocked="${blocked:+$blocked; }no plugin folder $SM_PLUGIN_DIR (build first)"
[ -d "$SM_SYSTEM_PLUGIN_DIR" ] || blocked="${blocked:+$blocked; }no system plugin folder $SM_SYSTEM_PLUGIN_DIR (package libsasl2-modules)"

CONF=$SM_TMP/conf-sasldb
NTLMV1CONF=$SM_TMP/conf-ntlm-v1
NTLMHASHCONF=$SM_TMP/conf-ntlm-hash
NTLMSQLCONF=$SM_TMP/conf-ntlm-sql
NTLM_HASH=
SQLCONF=$SM_TMP/conf-sql
OAUTHCONF=$SM_TMP/conf-oauth
MINT=$SM_BUILDDIR/tests/oauth/oauth_mint
[ -x "$MINT" ] || blocked="${blocked:+$blocked; }$MINT not built (make check builds it)"
if [ -z "$blocked" ]; then
    if ! err=$(sm_mksasldb "$SM_TMP/sasldb" "$SM_FQDN" "$USER_NAME" "$USER_PASS" 2>&1); then
        blocked="saslpasswd2 could not create the sasldb: $err"
    fi
    if ! err=$(sm_mksqlitedb "$SM_TMP/users.db" "$SM_FQDN" "$SQL_USER" "$SQL_PASS" 2>&1); then
        blocked="${blocked:+$blocked; }sqlite3 could not create the database: $err"
    fi
    sm_write_conf "$CONF" "sasldb_path=$SM_TMP/sasldb" auxprop_plugin=sasldb pwcheck_method=auxprop
    sm_write_conf "$SQLCONF" auxprop_plugin=sql pwcheck_method=auxprop \
        sql_engine=sqlite3 "sql_database=$SM_TMP/users.db" \
        "sql_select=SELECT password FROM users WHERE name = '%u' AND realm = '%r'"
    # NTLM: the default configuration (CONF), NTLMv1 allowed, the NT hash
    # as userPassword in a sasldb of its own, and as sambaNTPassword in SQL
    # (the password column empty, so only the hash can authenticate)
    sm_write_conf "$NTLMV1CONF" "sasldb_path=$SM_TMP/sasldb" auxprop_plugin=sasldb \
        pwcheck_method=auxprop ntlm_allow_v1=yes
    if ! NTLM_HASH=$(sm_nt_hash "$NTLM_PASS") || [ ${#NTLM_HASH} -ne 32 ]; then
        blocked="${blocked:+$blocked; }cannot compute an NT hash with openssl (legacy provider)"
    elif ! err=$(sm_mksasldb "$SM_TMP/sasldb-ntlm" "$SM_FQDN" "$NTLM_USER" \
        "{NTLM}$NTLM_HASH" 2>&1); then
        blocked="${blocked:+$blocked; }saslpasswd2 could not create the NTLM sasldb: $err"
    elif ! err=$(sqlite3 "$SM_TMP/ntlm.db" "CREATE TABLE users (name TEXT, realm TEXT,
        password TEXT, nthash TEXT); INSERT INTO users VALUES ('$NTLM_USER', '$SM_FQDN', NULL,
        '$NTLM_HASH');" 2>&1); then
        blocked="${blocked:+$blocked; }sqlite3 could not create the NTLM database: $err"
    fi
    sm_write_conf "$NTLMHASHCONF" "sasldb_path=$SM_TMP/sasldb-ntlm" auxprop_plugin=sasldb \
        pwcheck_method=auxprop
    sm_write_conf "$NTLMSQLCONF" auxprop_plugin=sql pwcheck_method=auxprop \
        sql_engine=sqlite3 "sql_database=$SM_TMP/ntlm.db" ntlm_secret_property=sambaNTPassword \
        "sql_select=SELECT CASE '%p' WHEN 'sambaNTPassword' THEN nthash ELSE password END FROM users WHERE name = '%u' AND realm = '%r'"
    if [ -x "$MINT" ] && "$MINT" keygen --keys "$SM_TMP/keys" >/dev/null 2>&1; then
        sm_write_conf "$OAUTHCONF" "sasldb_path=$SM_TMP/sasldb" auxprop_plugin=sasldb \
            oauth_issuers=https://issuer.sample.test oauth_audiences=smtp oauth_user_claim=sub \
            "oauth_jwks_file=$SM_TMP/keys/jwks.json"
    else
        blocked="${blocked:+$blocked; }oauth_mint keygen failed"
    fi
fi

# token EXP_OFFSET: a token for USER_NAME expiring EXP_OFFSET seconds from now
token() {
    local now; now=$(date +%s)
    "$MINT" sign --keys "$SM_TMP/keys" --kid ec256 \
        --claims "{\"iss\":\"https://issuer.sample.test\",\"aud\":\"smtp\",\"sub\":\"$USER_NAME\",\"iat\":$((now - 10)),\"exp\":$((now + $1))}"
}

# plugdir IMPL MECH [AUX]: a folder of that one plugin (made once), printed;
# on failure prints nothing and leaves the reason in $SM_TMP/plugdir.err.
plugdir() {
    local dir=$SM_TMP/plugins-$1-$2-${3:-sasldb}
    if [ -d "$dir" ] || sm_mkplugdir "$dir" "$1" "$2" "${3:-sasldb}" 2>"$SM_TMP/plugdir.err"; then
        echo "$dir"
    fi
}

# success_case DESC MECH SERVER_IMPL CLIENT_IMPL AUX CONFDIR USER PASS
success_case() {
    local desc=$1 mech=$2 simpl=$3 cimpl=$4 aux=$5 conf=$6 user=$7 pass=$8 sdir cdir
    if [ -n "$blocked" ]; then
        sm_not_ok "$desc" "cannot run: $blocked"
        return
    fi
    sdir=$(plugdir "$simpl" "$mech" "$aux")
    cdir=$(plugdir "$cimpl" "$mech" "$aux")
    if [ -z "$sdir" ] || [ -z "$cdir" ]; then
        sm_not_ok "$desc" "cannot run: $(cat "$SM_TMP/plugdir.err")"
        return
    fi
    if ! sm_exchange "$mech-$simpl-$cimpl-$aux" "$mech" "$sdir" "$cdir" "$conf" "$user" "$pass"; then
        sm_not_ok "$desc"
        sm_exchange_diag
    elif [ "$SM_X_USER" != "$user" ]; then
        sm_not_ok "$desc" "the server authenticated '$SM_X_USER', expected '$user'"
        sm_exchange_diag
    elif [ "$aux" = sql ] && ! grep -q "doing query SELECT password FROM users WHERE name = '$user'" \
        "$SM_X_DIR/server.err"; then
        sm_not_ok "$desc" "the SQL auxprop never ran the query"
        sm_exchange_diag
    else
        sm_ok "$desc"
    fi
}

# refusal_case DESC MECH AUX CONFDIR USER WRONG_PASS: ours x ours must fail.
refusal_case() {
    local desc=$1 mech=$2 aux=$3 conf=$4 user=$5 pass=$6 dir
    if [ -n "$blocked" ]; then
        sm_not_ok "$desc" "cannot run: $blocked"
        return
    fi
    dir=$(plugdir ours "$mech" "$aux")
    if [ -z "$dir" ]; then
        sm_not_ok "$desc" "cannot run: $(cat "$SM_TMP/plugdir.err")"
        return
    fi
    if sm_exchange "$mech-wrong-$aux" "$mech" "$dir" "$dir" "$conf" "$user" "$pass"; then
        sm_not_ok "$desc" "the wrong password was accepted"
        sm_exchange_diag
    elif ! sm_refused; then
        sm_not_ok "$desc"
        sm_exchange_diag
    else
        sm_ok "$desc"
    fi
}

for mech in "${MECHS[@]}"; do
    success_case "$mech: our server x our client" "$mech" ours ours sasldb "$CONF" \
        "$USER_NAME" "$USER_PASS"
    success_case "$mech: our server x Cyrus client" "$mech" ours cyrus sasldb "$CONF" \
        "$USER_NAME" "$USER_PASS"
    success_case "$mech: Cyrus server x our client" "$mech" cyrus ours sasldb "$CONF" \
        "$USER_NAME" "$USER_PASS"
    refusal_case "$mech: our server refuses a wrong password (SASL_BADAUTH, clean exit)" \
        "$mech" sasldb "$CONF" "$USER_NAME" "${USER_PASS}X"
done

for mech in "${SQL_MECHS[@]}"; do
    success_case "$mech: secret from the SQL auxprop (SQLite), no sasldb plugin" \
        "$mech" ours ours sql "$SQLCONF" "$SQL_USER" "$SQL_PASS"
done
refusal_case "CRAM-MD5: a wrong password is refused with the SQL auxprop" \
    CRAM-MD5 sql "$SQLCONF" "$SQL_USER" "wrong $SQL_PASS"

# ---- NTLM -------------------------------------------------------------------
# ntlm_case DESC SERVER_IMPL CLIENT_IMPL AUX CONFDIR USER PASS EXPECT PROTO
#   EXPECT: ok (authenticated as USER), refused (SASL_BADAUTH, clean exit) or
#   tooweak (SASL_TOOWEAK, clean exit: the NTLMv1 refusal, a policy and not a
#   credential failure; Postfix answers it with 535 too);
#   PROTO: v2 or v1, what the client's NT response must be (more than 24
#   bytes, or exactly 24), so a row cannot pass with another protocol than
#   it claims.  With NTLM_SAME_AS=NAME set, the server's messages must be
#   those of the exchange NAME, word for word.
ntlm_case() {
    local desc=$1 simpl=$2 cimpl=$3 aux=$4 conf=$5 user=$6 pass=$7 expect=$8 proto=$9
    local sdir cdir ntlen name rc
    if [ -n "$blocked" ]; then
        sm_not_ok "$desc" "cannot run: $blocked"
        return
    fi
    sdir=$(plugdir "$simpl" NTLM "$aux")
    cdir=$(plugdir "$cimpl" NTLM "$aux")
    if [ -z "$sdir" ] || [ -z "$cdir" ]; then
        sm_not_ok "$desc" "cannot run: $(cat "$SM_TMP/plugdir.err")"
        return
    fi
    name=NTLM-$simpl-$cimpl-$aux-${conf##*/}-$expect-$user
    sm_exchange "$name" NTLM "$sdir" "$cdir" "$conf" "$user" "$pass"
    rc=$?
    ntlen=$(sed -n 's/^C: //p' "$SM_X_DIR/client.out" | sm_ntlm_nt_len)
    if [ -z "$ntlen" ]; then
        sm_not_ok "$desc" "no AUTHENTICATE message from the client"
        sm_exchange_diag
    elif { [ "$proto" = v2 ] && [ "$ntlen" -le 24 ]; } ||
        { [ "$proto" = v1 ] && [ "$ntlen" -ne 24 ]; }; then
        sm_not_ok "$desc" "the client's NT response is $ntlen bytes: not NTLM$proto"
        sm_exchange_diag
    elif [ "$expect" = ok ] && [ $rc -ne 0 ]; then
        sm_not_ok "$desc" "(NT response $ntlen bytes)"
        sm_exchange_diag
    elif [ "$expect" = ok ] && [ "$SM_X_USER" != "$user" ]; then
        sm_not_ok "$desc" "the server authenticated '$SM_X_USER', expected '$user'"
        sm_exchange_diag
    elif [ "$expect" = ok ] && [ "$aux" = sql ] &&
        ! grep -q "doing query SELECT CASE 'sambaNTPassword'" "$SM_X_DIR/server.err"; then
        sm_not_ok "$desc" "the SQL auxprop was never asked for sambaNTPassword"
        sm_exchange_diag
    elif [ "$expect" != ok ] && [ $rc -eq 0 ]; then
        sm_not_ok "$desc" "the server accepted it (NT response $ntlen bytes)"
        sm_exchange_diag
    elif [ "$expect" = refused ] && ! sm_refused; then
        sm_not_ok "$desc"
        sm_exchange_diag
    elif [ -n "${NTLM_SAME_AS:-}" ] &&
        ! cmp -s "$SM_X_DIR/server.err" "$SM_TMP/x-$NTLM_SAME_AS/server.err"; then
        sm_not_ok "$desc" "the server's messages differ from those of $NTLM_SAME_AS"
        sm_diag_file "$SM_TMP/x-$NTLM_SAME_AS/server.err" "server stderr of $NTLM_SAME_AS"
        sm_exchange_diag
    elif [ "$expect" = tooweak ] && { [ "$SM_X_SERVER_RC" -ne 1 ] ||
        ! grep -q 'SASL negotiation: mechanism too weak' "$SM_X_DIR/server.err"; }; then
        sm_not_ok "$desc" "not refused with SASL_TOOWEAK and exit 1"
        sm_exchange_diag
    else
        sm_ok "$desc (NT response $ntlen bytes)"
    fi
}

ntlm_case "NTLM: our server x our client, NTLMv2" ours ours sasldb "$CONF" \
    "$USER_NAME" "$USER_PASS" ok v2
ntlm_case "NTLM: our server x Cyrus client (NTLMv1) with ntlm_allow_v1: yes" ours cyrus sasldb \
    "$NTLMV1CONF" "$USER_NAME" "$USER_PASS" ok v1
ntlm_case "NTLM: our server refuses Cyrus's NTLMv1 client by default (SASL_TOOWEAK, clean exit)" \
    ours cyrus sasldb "$CONF" "$USER_NAME" "$USER_PASS" tooweak v1
ntlm_case "NTLM: Cyrus server x our client, NTLMv2" cyrus ours sasldb "$CONF" \
    "$USER_NAME" "$USER_PASS" ok v2
ntlm_case "NTLM: our server refuses a wrong password (SASL_BADAUTH, clean exit)" ours ours \
    sasldb "$CONF" "$USER_NAME" "${USER_PASS}X" refused v2
NTLM_SAME_AS="NTLM-ours-ours-sasldb-${CONF##*/}-refused-$USER_NAME" \
    ntlm_case "NTLM: our server refuses an unknown user exactly as a wrong password (SASL_BADAUTH, same messages)" \
    ours ours sasldb "$CONF" nosuchuser "$USER_PASS" refused v2
ntlm_case "NTLM: UTF-8 user and password, userPassword {NTLM}+NT hash (computed by openssl)" \
    ours ours sasldb "$NTLMHASHCONF" "$NTLM_USER" "$NTLM_PASS" ok v2
ntlm_case "NTLM: sambaNTPassword (32 bare hex digits) from the SQL auxprop, ntlm_secret_property" \
    ours ours sql "$NTLMSQLCONF" "$NTLM_USER" "$NTLM_PASS" ok v2

# oauth_refusal_case MECH: an expired token gets the error challenge and no
# authentication: the client answers it with the reply (it is not done after
# its initial message) and the server then fails; it must never complete.
oauth_refusal_case() {
    local mech=$1 desc="$1: our server refuses an expired token with the error challenge" dir chal
    if [ -n "$blocked" ]; then
        sm_not_ok "$desc" "cannot run: $blocked"
        return
    fi
    dir=$(plugdir ours "$mech" sasldb)
    sm_exchange "$mech-expired" "$mech" "$dir" "$dir" "$OAUTHCONF" "$USER_NAME" "$(token -3600)"
    # the server's second S: line is its challenge (the first, the mechanism list)
    chal=$(sed -n 's/^S: //p' "$SM_X_DIR/server.out" | sed -n 2p | base64 -d 2>/dev/null)
    if grep -q '^Negotiation complete$' "$SM_X_DIR/server.out"; then
        sm_not_ok "$desc" "the server accepted the expired token"; sm_exchange_diag
    elif ! echo "$chal" | grep -q '"status":"invalid_token"'; then
        sm_not_ok "$desc" "no invalid_token error challenge (got '$chal')"; sm_exchange_diag
    else
        sm_ok "$desc"
    fi
}

# The OAuth client finishes on the server's outcome, and the sample protocol
# reports success only as success data (-l on both sides, SASL_SUCCESS_DATA);
# without -l it has no outcome at all, and the client would take the server's
# first sasl_encode message for it.
for mech in "${OAUTH_MECHS[@]}"; do
    SM_SERVER_ARGS=(-l) SM_CLIENT_ARGS=(-l)
    success_case "$mech: our server x our client, an ES256 token (-l: success data)" "$mech" \
        ours ours sasldb "$OAUTHCONF" "$USER_NAME" "$([ -z "$blocked" ] && token 600)"
    SM_SERVER_ARGS=() SM_CLIENT_ARGS=()
    oauth_refusal_case "$mech"
done

sm_done
