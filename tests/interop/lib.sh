# shellcheck shell=bash disable=SC2034  # SM_X_* and the arrays are for the caller
# Shared helpers of the end-to-end tests (tests/interop/*.sh) and of
# scripts/demo.sh.  Source it from bash; it sets nothing but SM_* names.
#
#   TAP          sm_plan N, sm_ok DESC, sm_not_ok DESC [DIAG...], sm_check
#                RC DESC [DIAG...], sm_diag TEXT, sm_diag_file FILE, sm_done
#   work dir     sm_init (mktemp -d in $SM_TMP, removed with every leftover
#                child process by a trap on EXIT)
#   plugins      sm_plugin_file ours|cyrus MECH, sm_mkplugdir DIR ours|cyrus
#                MECH [sasldb|sql|none]
#   secrets      sm_mksasldb DB REALM USER PASS, sm_mksqlitedb DB REALM USER PASS
#   config       sm_write_conf DIR KEY=VALUE...   (writes DIR/sample.conf)
#   exchange     sm_exchange NAME MECH SRV_PLUGDIR CLI_PLUGDIR CONFDIR USER PASS
#                one sasl-sample-server / sasl-sample-client conversation
#   NTLM         sm_ntlm_nt_len: the NT response length of an AUTHENTICATE;
#                sm_nt_hash PASSWORD: its NT hash (32 hex digits)
#   slapd        sm_slapd_start CONF [URL...], sm_slapd_stop
#   Postfix      sm_postfix_main_cf FILE HOST PLUGDIR [ENV...],
#                sm_postfix_master_services (master.cf's internal services),
#                sm_postfix_master_cf FILE [LINE...],
#                sm_postfix_start CONF PORT / sm_postfix_stop (several instances),
#                sm_postfix_relay_ids LOG MSGID RCPT PORT
#   OAuth        sm_oauth_server_start AUDIENCE [ARGS...]
#
# Environment (set by `make check`; defaults here let the scripts run by hand):
#   SM_SRCDIR, SM_BUILDDIR, SM_PLUGIN_DIR (our plugins, libtool's .libs),
#   SM_SYSTEM_PLUGIN_DIR (the Cyrus plugins), SM_TIMEOUT (seconds, default 20).

# ---- locations ---------------------------------------------------------------
if [ -z "${SM_SRCDIR:-}" ]; then
    SM_SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
fi
: "${SM_BUILDDIR:=$SM_SRCDIR}"
: "${SM_PLUGIN_DIR:=$SM_BUILDDIR/.libs}"
if [ -z "${SM_SYSTEM_PLUGIN_DIR:-}" ]; then
    SM_SYSTEM_PLUGIN_DIR=/usr/lib/x86_64-linux-gnu/sasl2
    sm__libdir=$(pkg-config --variable=libdir libsasl2 2>/dev/null) || sm__libdir=
    if [ -n "$sm__libdir" ] && [ -d "$sm__libdir/sasl2" ]; then
        SM_SYSTEM_PLUGIN_DIR=$sm__libdir/sasl2
    fi
    unset sm__libdir
fi
: "${SM_TIMEOUT:=20}"
# The server's FQDN (sasl-sample-server -d, sasl-sample-client -n).  libsasl2
# uses it as the user realm, so every secret is stored under this realm.
: "${SM_FQDN:=sasl-mechs.test}"
export SM_SRCDIR SM_BUILDDIR SM_PLUGIN_DIR SM_SYSTEM_PLUGIN_DIR

# ---- TAP -----------------------------------------------------------------------
SM_TAP_N=0
SM_TAP_FAILED=0
SM_TAP_PLAN=

sm_plan() {
    SM_TAP_PLAN=$1
    echo "1..$1"
}

sm_diag() {
    local line
    while IFS= read -r line; do
        printf '# %s\n' "$line"
    done <<<"$*"
}

# sm_diag_file FILE [TITLE]: the last 40 lines of FILE as TAP diagnostics.
sm_diag_file() {
    [ -s "$1" ] || return 0
    [ -n "${2:-}" ] && printf '# --- %s\n' "$2"
    tail -n 40 "$1" | awk '{ print "#   " $0 }'
}

sm_ok() {
    SM_TAP_N=$((SM_TAP_N + 1))
    echo "ok $SM_TAP_N - $1"
}

sm_not_ok() {
    local desc=$1
    shift
    SM_TAP_N=$((SM_TAP_N + 1))
    SM_TAP_FAILED=$((SM_TAP_FAILED + 1))
    echo "not ok $SM_TAP_N - $desc"
    [ $# -gt 0 ] && sm_diag "$*"
    return 0
}

# sm_check RC DESC [DIAG...]: ok when RC is 0.
sm_check() {
    local rc=$1 desc=$2
    shift 2
    if [ "$rc" -eq 0 ]; then sm_ok "$desc"; else sm_not_ok "$desc" "$@"; fi
}

# sm_done: the exit status of the script (non-zero when a case failed or the
# plan was not met).
sm_done() {
    if [ -n "$SM_TAP_PLAN" ] && [ "$SM_TAP_N" -ne "$SM_TAP_PLAN" ]; then
        sm_diag "planned $SM_TAP_PLAN cases, ran $SM_TAP_N"
        return 1
    fi
    [ "$SM_TAP_FAILED" -eq 0 ]
}

# ---- work dir, cleanup -------------------------------------------------------
SM_TMP=

sm__cleanup() {
    local pids
    sm_postfix_stop
    sm_cyrus_stop
    sm_kdc_stop
    pids=$(jobs -p)
    if [ -n "$pids" ]; then
        # shellcheck disable=SC2086
        kill $pids 2>/dev/null
        # shellcheck disable=SC2086
        wait $pids 2>/dev/null
    fi
    if [ -n "$SM_TMP" ] && [ -d "$SM_TMP" ] && [ -z "${SM_KEEP:-}" ]; then
        rm -rf "$SM_TMP"
    elif [ -n "$SM_TMP" ]; then
        echo "# kept $SM_TMP" >&2
    fi
}

# sm_init: create $SM_TMP and arm the cleanup.  SM_KEEP=1 keeps the folder.
sm_init() {
    SM_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sasl-mechs.XXXXXX") || {
        echo "Bail out! mktemp -d failed"
        exit 1
    }
    trap sm__cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# sm_missing_programs PROG...: prints the programs that are not on PATH.
sm_missing_programs() {
    local p missing=
    for p in "$@"; do
        command -v "$p" >/dev/null 2>&1 || missing="$missing $p"
    done
    printf '%s' "${missing# }"
}

# ---- plugins -------------------------------------------------------------------
# sm_mech_stem MECH: the part of the plugin file names that names MECH.
sm_mech_stem() {
    case $1 in
        CRAM-MD5) echo crammd5 ;;
        DIGEST-MD5) echo digestmd5 ;;
        *) echo "$1" | tr '[:upper:]' '[:lower:]' | tr -d '-' ;;
    esac
}

# sm_plugin_file ours|cyrus MECH: the path of the plugin that offers MECH.
sm_plugin_file() {
    local stem
    stem=$(sm_mech_stem "$2")
    case $1 in
        ours) echo "$SM_PLUGIN_DIR/libsaslmechs_$stem.so" ;;
        cyrus)
            case $stem in
                gssapi) stem=gssapiv2 ;;
            esac
            echo "$SM_SYSTEM_PLUGIN_DIR/lib$stem.so"
            ;;
        *) return 1 ;;
    esac
}

# sm_mkplugdir DIR ours|cyrus MECH [sasldb|sql|none]: DIR holds symlinks to
# exactly one plugin for MECH and to the auxprop plugin named (default sasldb),
# so the folder offers one implementation of MECH.  Fails, with the reason on
# stderr, when a file is missing.
sm_mkplugdir() {
    local dir=$1 impl=$2 mech=$3 aux=${4:-sasldb} plugin f
    plugin=$(sm_plugin_file "$impl" "$mech") || {
        echo "unknown implementation '$impl'" >&2
        return 1
    }
    mkdir -p "$dir" || return 1
    for f in "$plugin" ${aux:+"$SM_SYSTEM_PLUGIN_DIR/lib$aux.so"}; do
        case $f in */libnone.so) continue ;; esac
        if [ ! -f "$f" ]; then
            echo "missing plugin file $f" >&2
            return 1
        fi
        ln -sf "$f" "$dir/" || return 1
    done
}

# ---- the loopback OAuth server ----------------------------------------------------
# sm_oauth_server_start AUDIENCE [ARG...]: tests/oauth/oauth_server.py on a free
# loopback port, minting for the user $SM_OAUTH_USER (default alice) with
# oauth_mint (built when missing), keys in $SM_TMP/oauth-keys, log in
# $SM_TMP/oauth-server.log; sets SM_OAUTH_MINT, SM_OAUTH_PID and SM_OAUTH_PORT
# (empty, and returns 1, when it did not start).  Stopped by sm_init's cleanup.
# SM_OAUTH_NAME=NAME (default oauth) names its port file and log, for a
# second instance (e.g. one started with --proxy).
sm_oauth_server_start() {
    local audience=$1 name=${SM_OAUTH_NAME:-oauth}
    shift
    SM_OAUTH_MINT=$SM_BUILDDIR/tests/oauth/oauth_mint SM_OAUTH_PID= SM_OAUTH_PORT=
    [ -x "$SM_OAUTH_MINT" ] || make -C "$SM_BUILDDIR" tests/oauth/oauth_mint >/dev/null 2>&1 ||
        return 1
    python3 "$SM_SRCDIR/tests/oauth/oauth_server.py" --mint "$SM_OAUTH_MINT" \
        --keys "$SM_TMP/oauth-keys" --port 0 --port-file "$SM_TMP/$name-port" \
        --user "${SM_OAUTH_USER:-alice}" --audience "$audience" --scope mail "$@" \
        >"$SM_TMP/$name-server.log" 2>&1 &
    SM_OAUTH_PID=$!
    for _ in $(seq 300); do [ -s "$SM_TMP/$name-port" ] && break; sleep 0.1; done
    SM_OAUTH_PORT=$(cat "$SM_TMP/$name-port" 2>/dev/null)
    [ -n "$SM_OAUTH_PORT" ]
}

# ---- secrets ---------------------------------------------------------------------
# sm_mksasldb DB REALM USER PASS: add USER@REALM with PASS to the sasldb DB
# (created when absent).
sm_mksasldb() {
    local db=$1 realm=$2 user=$3 pass=$4
    command -v saslpasswd2 >/dev/null 2>&1 || {
        echo "saslpasswd2 not found (package sasl2-bin)" >&2
        return 1
    }
    printf '%s' "$pass" | saslpasswd2 -c -p -f "$db" -u "$realm" "$user"
}

# sm_mksqlitedb DB REALM USER PASS: add a row to table users(name, realm,
# password) of the SQLite database DB (created when absent).
sm_mksqlitedb() {
    local db=$1 realm=$2 user=$3 pass=$4 q="'" qq="''"
    command -v sqlite3 >/dev/null 2>&1 || {
        echo "sqlite3 not found (package sqlite3)" >&2
        return 1
    }
    sqlite3 "$db" "CREATE TABLE IF NOT EXISTS users (name TEXT, realm TEXT, password TEXT);
INSERT INTO users VALUES ('${user//$q/$qq}', '${realm//$q/$qq}', '${pass//$q/$qq}');"
}

# sm_write_conf DIR KEY=VALUE...: write DIR/sample.conf ("sample" is the
# application name of sasl-sample-server) with one "KEY: VALUE" line each.
sm_write_conf() {
    local dir=$1 kv
    shift
    mkdir -p "$dir" || return 1
    : >"$dir/sample.conf" || return 1
    for kv in "$@"; do
        printf '%s: %s\n' "${kv%%=*}" "${kv#*=}" >>"$dir/sample.conf"
    done
}

# ---- one sasl-sample-server / sasl-sample-client conversation ---------------------
# The programs talk on stdin/stdout in base64 lines prefixed "S: " / "C: ",
# mixed with chatter.  Four FIFOs and two relay loops pass only those lines
# across; a third loop watches the client's stderr for getpass()'s
# "Password: " prompt and answers it on the client's stdin (the client runs
# under setsid, without a controlling terminal, so getpass() reads stdin).
# The server's stdout is fully buffered on a pipe and it never flushes:
# stdbuf -oL makes it line buffered.  The server reads <appname>.conf, here
# sample.conf, from $SASL_CONF_PATH; both programs get their plugin folder
# with -p.
#
# Extra arguments: the arrays SM_SERVER_ARGS and SM_CLIENT_ARGS (default
# none).  Results:
#   SM_X_DIR         the transcripts: server.out server.err client.out client.err
#   SM_X_SERVER_RC, SM_X_CLIENT_RC   exit codes (124: killed by the timeout)
#   SM_X_USER        the user name the server reports ("Username: ")
#   SM_X_MS          wall-clock milliseconds of the whole conversation
#   SM_X_WHY         why it counts as a failure (empty on success)
# Returns 0 when the server reports a completed negotiation, the security-layer
# messages went through both ways and both programs exit 0.
SM_SERVER_ARGS=()
SM_CLIENT_ARGS=()

sm__relay() { # PREFIX LOG: copy stdin to LOG, pass lines starting with PREFIX
    local prefix=$1 log=$2 line
    while IFS= read -r line || [ -n "$line" ]; do
        printf '%s\n' "$line" >>"$log"
        case $line in
            "$prefix"*) printf '%s\n' "$line" ;;
        esac
    done
}

sm__answer_password() { # FIFO PASS LOG: stdin is the client's stderr
    local fifo=$1 pass=$2 log=$3 chunk
    while IFS= read -r -d ':' chunk; do
        printf '%s:' "$chunk" >>"$log"
        if [ "${chunk##*$'\n'}" = Password ]; then
            printf '%s\n' "$pass" >"$fifo"
        fi
    done
    printf '%s' "$chunk" >>"$log"
}

sm_exchange() {
    local name=$1 mech=$2 sdir=$3 cdir=$4 confdir=$5 user=$6 pass=$7
    local d t0 t1 spid cpid r1 r2 r3 wd
    SM_X_DIR=$SM_TMP/x-$name
    SM_X_SERVER_RC=-1 SM_X_CLIENT_RC=-1 SM_X_USER='' SM_X_MS=0 SM_X_WHY=''
    d=$SM_X_DIR
    rm -rf "$d"
    mkdir -p "$d" || return 1
    mkfifo "$d/s_in" "$d/s_out" "$d/c_in" "$d/c_out" "$d/c_err" || {
        SM_X_WHY="mkfifo failed"
        return 1
    }
    : >"$d/server.out"
    : >"$d/client.out"
    : >"$d/client.err"

    t0=$(date +%s%N)
    # Every open of a FIFO blocks until its other end is opened; the order of
    # the redirections below makes that a chain, not a cycle.
    SASL_CONF_PATH=$confdir timeout "$SM_TIMEOUT" stdbuf -oL \
        sasl-sample-server -p "$sdir" -m "$mech" -d "$SM_FQDN" "${SM_SERVER_ARGS[@]}" \
        <"$d/s_in" >"$d/s_out" 2>"$d/server.err" &
    spid=$!
    sm__relay 'S: ' "$d/server.out" <"$d/s_out" >"$d/c_in" &
    r1=$!
    sm__relay 'C: ' "$d/client.out" >"$d/s_in" <"$d/c_out" &
    r2=$!
    setsid -w timeout "$SM_TIMEOUT" stdbuf -oL \
        sasl-sample-client -p "$cdir" -m "$mech" -n "$SM_FQDN" -a "$user" -u "$user" \
        "${SM_CLIENT_ARGS[@]}" <"$d/c_in" >"$d/c_out" 2>"$d/c_err" &
    cpid=$!
    sm__answer_password "$d/c_in" "$pass" "$d/client.err" <"$d/c_err" &
    r3=$!
    # A watchdog, in case a FIFO open never finds its other end.
    (
        trap 'kill "$s" 2>/dev/null; wait "$s" 2>/dev/null; exit 0' TERM
        sleep $((SM_TIMEOUT + 10)) &
        s=$!
        wait "$s"
        echo "watchdog fired" >>"$d/server.err"
        kill "$spid" "$cpid" "$r1" "$r2" "$r3" 2>/dev/null
    ) >/dev/null 2>&1 &
    wd=$!

    wait "$spid"
    SM_X_SERVER_RC=$?
    wait "$cpid"
    SM_X_CLIENT_RC=$?
    t1=$(date +%s%N)
    kill "$wd" 2>/dev/null
    wait "$r1" "$r2" "$r3" "$wd" 2>/dev/null
    SM_X_MS=$(((t1 - t0) / 1000000))

    SM_X_USER=$(sed -n 's/^Username: //p' "$d/server.out" | head -n 1)
    if ! grep -q '^Negotiation complete$' "$d/server.out"; then
        SM_X_WHY="the server did not complete the negotiation"
    elif ! grep -q "^recieved decoded message 'client message 1'\$" "$d/server.out"; then
        SM_X_WHY="the server did not receive the client's sasl_encode message"
    elif ! grep -q "^recieved decoded message 'srv message 1'\$" "$d/client.out"; then
        SM_X_WHY="the client did not receive the server's sasl_encode message"
    elif [ "$SM_X_SERVER_RC" -ne 0 ] || [ "$SM_X_CLIENT_RC" -ne 0 ]; then
        SM_X_WHY="a program failed after the exchange"
    fi
    if [ -z "$SM_X_WHY" ]; then
        return 0
    fi
    SM_X_WHY="$SM_X_WHY; server: $(sm_rc_text "$SM_X_SERVER_RC"), client: $(sm_rc_text "$SM_X_CLIENT_RC")"
    return 1
}

# sm_rc_text RC: an exit code in words ("exit 1", "killed by SIGSEGV", ...).
sm_rc_text() {
    local rc=$1 sig
    if [ "$rc" -eq 124 ]; then
        echo "timed out after ${SM_TIMEOUT}s"
    elif [ "$rc" -gt 128 ] && sig=$(kill -l $((rc - 128)) 2>/dev/null); then
        echo "killed by SIG$sig (exit $rc)"
    else
        echo "exit $rc"
    fi
}

# sm_refused: after a failed sm_exchange, succeeds when the server refused
# the credentials the way an application needs it: sasl_server_start or
# sasl_server_step returned SASL_BADAUTH ("authentication failure") and the
# server exited with EXIT_FAILURE, not a crash or a timeout.  Sets SM_X_WHY.
sm_refused() {
    if grep -q '^Negotiation complete$' "$SM_X_DIR/server.out"; then
        SM_X_WHY="the server accepted the credentials"
    elif ! grep -q 'SASL negotiation: authentication failure' "$SM_X_DIR/server.err"; then
        SM_X_WHY="the server failed, but not with SASL_BADAUTH (authentication failure)"
    elif [ "$SM_X_SERVER_RC" -ne 1 ]; then
        SM_X_WHY="the server refused, then ended with $(sm_rc_text "$SM_X_SERVER_RC") instead of exit 1"
    else
        SM_X_WHY=
        return 0
    fi
    return 1
}

# sm_exchange_diag: the last exchange's transcripts as TAP diagnostics.
sm_exchange_diag() {
    sm_diag "server rc=$SM_X_SERVER_RC client rc=$SM_X_CLIENT_RC: ${SM_X_WHY:-success}"
    sm_diag_file "$SM_X_DIR/server.out" "server stdout"
    sm_diag_file "$SM_X_DIR/server.err" "server stderr"
    sm_diag_file "$SM_X_DIR/client.out" "client stdout"
    sm_diag_file "$SM_X_DIR/client.err" "client stderr"
}

# ---- NTLM on the wire ---------------------------------------------------------
# sm_ntlm_nt_len: reads base64 strings, one a line (a leading "NTLM\0", as
# sasl-sample-client puts before its first message, is allowed), and prints
# the NtChallengeResponse length of the first AUTHENTICATE message among them
# (MS-NLMP 2.2.1.3: "NTLMSSP\0", MessageType 3, LmChallengeResponseFields,
# then NtChallengeResponseFields: Len(2, little-endian) MaxLen(2) Offset(4)).
# 24 is NTLMv1, more is NTLMv2, 0 an LM-only or LMv2-only response.  Prints
# nothing when no AUTHENTICATE is there.
# sm_postfix_smtp_sasl_cf FILE: appends to the main.cf FILE Postfix's smtp
# client with SASL: the transports in texthash:DIR/transport, the
# credentials in texthash:DIR/sasl_passwd (DIR: FILE's folder), no TLS; the
# caller appends its mechanism filter and the rest
sm_postfix_smtp_sasl_cf() {
    local dir
    dir=$(dirname "$1")
    printf '%s\n' "transport_maps = texthash:$dir/transport" "smtp_sasl_auth_enable = yes" \
        "smtp_sasl_password_maps = texthash:$dir/sasl_passwd" \
        "smtp_sasl_security_options = noanonymous" "smtp_tls_security_level = none" >>"$1"
}
# sm_postfix_main_cf FILE HOST PLUGDIR [ENV...]: the main.cf every Postfix
# test starts from (a private queue, loopback only, SASL on in smtpd, mail
# discarded, the maillog in $SM_TMP); ENV are more import_environment
# entries.  The caller appends its own lines (transport_maps, smtp_sasl_*).
# A second instance needs queue and data folders of its own: SM_POSTFIX_TOP
# (default $SM_TMP, under which the caller creates queue/ and data/) and
# maillog_file (the caller's line appended later wins).
sm_postfix_main_cf() {
    local file=$1 HOST=$2 plugdir=$3 top=${SM_POSTFIX_TOP:-$SM_TMP}
    shift 3
    cat >"$file" <<CONFEOF
compatibility_level = 3.6
queue_directory = $top/queue
data_directory = $top/data
mail_owner = postfix
setgid_group = postdrop
myhostname = $HOST
mydomain = $SM_FQDN
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
alias_maps =
alias_database =
maillog_file = $top/maillog
maillog_file_prefixes = $SM_TMP
in_flow_delay = 0
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_security_options = noanonymous
smtpd_relay_restrictions = permit_sasl_authenticated, reject
default_transport = discard
relay_transport = discard
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C SASL_PATH=$plugdir $*
CONFEOF
}

# sm_postfix_master_services: the lines of master.cf for Postfix's own
# services (no smtpd listener: the caller writes those).
sm_postfix_master_services() {
    cat <<'CONFEOF'
smtp      unix  - - n - - smtp
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
CONFEOF
}

# sm_postfix_master_cf FILE [LINE...]: appends the LINEs (the caller's own
# listeners and transports), then those services, to FILE; a service the
# LINEs define (an smtp of its own, chrooted, say) is left out of the list.
sm_postfix_master_cf() {
    local file=$1 own
    shift
    own=$(printf '%s\n' "$@" | awk 'NF >= 2 { printf "%s/%s\n", $1, $2 }')
    { [ $# -eq 0 ] || printf '%s\n' "$@"
      sm_postfix_master_services | awk -v own="$own" '
        BEGIN { n = split(own, o, "\n"); for (i = 1; i <= n; i++) skip[o[i]] = 1 }
        !(($1 "/" $2) in skip)'; } >>"$file"
}

# sm_postfix_start CONF PORT: starts a Postfix instance with the configuration
# directory CONF (postfix -c needs every instance's in one
# alternate_config_directories line of the default /etc/postfix/main.cf:
# written from the original, which sm_postfix_stop, called by sm_init's
# cleanup, puts back), then waits until 127.0.0.1:PORT answers.  Several
# instances may run at once.  Returns 1, the reason in SM_POSTFIX_WHY, when
# the instance does not answer.
SM_POSTFIX_CONFS=()
SM_POSTFIX_MAIN_CF_SAVED=
SM_POSTFIX_WHY=
sm_postfix_start() {
    local conf=$1 port=$2 out
    sm_postfix_register "$conf"
    SM_POSTFIX_WHY=
    if ! out=$(postfix -c "$conf" start 2>&1); then
        SM_POSTFIX_WHY="postfix start failed: $out"
        return 1
    fi
    for _ in $(seq 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.1
    done
    SM_POSTFIX_WHY="smtpd does not answer on 127.0.0.1:$port"
    return 1
}

# sm_postfix_register CONF...: the instances CONF... named in the default
# main.cf's alternate_config_directories (Postfix refuses other folders),
# the default main.cf saved first; sm_postfix_stop stops them and puts it
# back.  Register in the script's own shell, not in a $(...) subshell.
sm_postfix_register() {
    local main_cf=/etc/postfix/main.cf
    if [ -z "$SM_POSTFIX_MAIN_CF_SAVED" ]; then
        if [ -f "$main_cf" ]; then
            SM_POSTFIX_MAIN_CF_SAVED=$SM_TMP/main.cf.orig
            cp -p "$main_cf" "$SM_POSTFIX_MAIN_CF_SAVED"
        else
            SM_POSTFIX_MAIN_CF_SAVED=created
        fi
    fi
    SM_POSTFIX_CONFS+=("$@")
    {
        [ "$SM_POSTFIX_MAIN_CF_SAVED" = created ] || cat "$SM_POSTFIX_MAIN_CF_SAVED"
        echo "alternate_config_directories = ${SM_POSTFIX_CONFS[*]}"
    } >"$main_cf.sm-new" && mv "$main_cf.sm-new" "$main_cf"
}

# sm_postfix_stop: stops every instance sm_postfix_start started and puts the
# default main.cf back (removed when it did not exist before).
sm_postfix_stop() {
    local c
    for c in "${SM_POSTFIX_CONFS[@]}"; do
        postfix -c "$c" stop >/dev/null 2>&1
        postfix -c "$c" abort >/dev/null 2>&1
    done
    SM_POSTFIX_CONFS=()
    if [ "$SM_POSTFIX_MAIN_CF_SAVED" = created ]; then
        rm -f /etc/postfix/main.cf
    elif [ -n "$SM_POSTFIX_MAIN_CF_SAVED" ]; then
        cp -p "$SM_POSTFIX_MAIN_CF_SAVED" /etc/postfix/main.cf
    fi
    SM_POSTFIX_MAIN_CF_SAVED=
}

# ---- Cyrus IMAP ------------------------------------------------------------------
# sm_cyrus_start NAME PLUGDIR SERVICES [ENV...] -- [IMAPD_CONF_LINE...]: a Cyrus
# master (Debian cyrus-imapd) with its configuration, spool and logs in
# $SM_TMP/NAME, libsasl2's plugins from PLUGDIR; SERVICES the lines of
# cyrus.conf's SERVICES block (e.g. 'imap cmd="imapd -C %C"
# listen="127.0.0.1:PORT"', %C standing for the instance's imapd.conf), ENV
# more NAME=VALUE for the master's environment, IMAPD_CONF_LINEs added to its
# imapd.conf.  Waits until the first service's port answers; returns 1 when
# it does not.  sm_init's cleanup stops it.
SM_CYRUS_BIN=/usr/lib/cyrus/bin
SM_CYRUS_PIDFILES=()
sm_cyrus_start() {
    local name=$1 plugdir=$2 services=$3 d=$SM_TMP/$1 port line
    local -a env=()
    shift 3
    while [ $# -gt 0 ] && [ "$1" != -- ]; do env+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    mkdir -p "$d"/{conf,spool,proc,lock,socket} || return 1
    {
        echo "configdirectory: $d/conf"
        echo "partition-default: $d/spool"
        echo "defaultpartition: default"
        echo "proc_path: $d/proc"
        echo "mboxname_lockpath: $d/lock"
        echo "lmtpsocket: $d/socket/lmtp"
        echo "idlesocket: $d/socket/idle"
        echo "notifysocket: $d/socket/notify"
        for line in "$@"; do printf '%s\n' "$line"; done
    } >"$d/imapd.conf"
    {
        printf 'START {\n}\nSERVICES {\n'
        printf '%s\n' "$services" | sed "s|%C|$d/imapd.conf|g; s/^/  /"
        printf '}\nEVENTS {\n}\n'
    } >"$d/cyrus.conf"
    chown -R cyrus "$d"
    SM_CYRUS_PIDFILES+=("$d/master.pid")
    env SASL_PATH="$plugdir" "${env[@]}" "$SM_CYRUS_BIN/master" -C "$d/imapd.conf" \
        -M "$d/cyrus.conf" -p "$d/master.pid" -L "$d/master.log" &
    port=$(printf '%s\n' "$services" | sed -n 's/.*listen="[^"]*:\([0-9]*\)".*/\1/p' | head -n 1)
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# sm_cyrus_stop: stops every master sm_cyrus_start started.
sm_cyrus_stop() {
    local m
    for m in "${SM_CYRUS_PIDFILES[@]}"; do
        [ -s "$m" ] && kill "$(cat "$m")" 2>/dev/null
    done
    SM_CYRUS_PIDFILES=()
}

# sm_nt_hash PASSWORD: MD4 of the UTF-16LE password (the NT hash that
# {NTLM} and Samba's sambaNTPassword store), in lower-case hex, by iconv and
# openssl alone.
sm_nt_hash() {
    local h
    h=$(printf '%s' "$1" | iconv -f UTF-8 -t UTF-16LE |
        openssl dgst -md4 -provider legacy -provider default -r) || return 1
    printf '%s' "${h%% *}"
}

# ---- the README's recipes -------------------------------------------------------
# Tests that run the README's configuration (test_stores.sh, test_guides.sh)
# read its fenced blocks by the marker line before each,
# "<!-- $SM_README_TAG: NAME -->", and replace only what must differ here.
# sm_readme_block NAME: that block of $SM_SRCDIR/README.md (empty when none)
SM_README_TAG=
SM_RECIPE_MISSING=
sm_readme_block() {
    awk -v tag="<!-- $SM_README_TAG: $1 -->" '
        $0 == tag { found = 1; next }
        found == 1 && /^```/ { found = 2; next }
        found == 2 && /^```/ { exit }
        found == 2 { print }' "$SM_SRCDIR/README.md"
}
# sm_recipe NAME [FROM TO...]: the block with each FROM replaced by TO; a
# block that is not there, or a FROM it does not hold (the README changed
# under the test), is added to SM_RECIPE_MISSING and returns 1
sm_recipe() {
    local name=$1 text rc=0
    shift
    text=$(sm_readme_block "$name")
    [ -n "$text" ] || { SM_RECIPE_MISSING="$SM_RECIPE_MISSING $name(no block)"; return 1; }
    while [ $# -ge 2 ]; do
        case $text in
            *"$1"*) text=${text//"$1"/"$2"} ;;
            *) SM_RECIPE_MISSING="$SM_RECIPE_MISSING $name($1)" rc=1 ;;
        esac
        shift 2
    done
    printf '%s\n' "$text"
    return $rc
}

# sm_postfix_relay_ids LOG MSGID RCPT PORT: follow one message through a
# Postfix maillog by its own identifiers: its Message-ID gives the local queue
# id (cleanup) in SM_QID, that queue id's delivery line through
# 127.0.0.1:PORT with status=sent gives the relay's "queued as" id in SM_RID,
# and the receiving smtpd's line for SM_RID (client=..., sasl_method=...,
# sasl_username=...) goes to SM_AUTH.  Returns 0 once all three are there.
sm_postfix_relay_ids() {
    local log=$1
    SM_QID='' SM_RID='' SM_AUTH=''
    SM_QID=$(sed -n "s/.*: \([0-9A-Za-z]*\): message-id=<$2>.*/\1/p" "$log" | head -n 1)
    [ -n "$SM_QID" ] || return 1
    SM_RID=$(sed -n "s/.* $SM_QID: to=<$3>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:$4,.* status=sent (250 .*queued as \([0-9A-Za-z]*\))\$/\1/p" "$log" | head -n 1)
    [ -n "$SM_RID" ] || return 1
    SM_AUTH=$(sed -n "s/.*smtpd\[[0-9]*\]: $SM_RID: \(client=.*\)/\1/p" "$log" | head -n 1)
    [ -n "$SM_AUTH" ]
}

# sm_kdc_start [HOSTS]: the throwaway KDC of tests/krb5/kdc.sh in
# $SM_TMP/kdc (SM_KDC), with service principals for HOSTS (default:
# kdc.sh's), its environment (KRB5_CONFIG, ...) read in; sm__cleanup stops
# it.  Returns 1 with the reason in SM_KDC_WHY when it did not start.
sm_kdc_start() {
    SM_KDC=$SM_TMP/kdc SM_KDC_WHY=''
    if ! SM_KRB5_HOSTS="${1:-}" bash "$SM_SRCDIR/tests/krb5/kdc.sh" start "$SM_KDC" \
        >"$SM_TMP/kdc.out" 2>&1; then
        SM_KDC_WHY="tests/krb5/kdc.sh failed: $(tail -3 "$SM_TMP/kdc.out")"
        return 1
    fi
    SM_KDC_STARTED=1
    # shellcheck disable=SC1091
    . "$SM_KDC/env"
}
sm_kdc_stop() {
    [ -n "${SM_KDC_STARTED:-}" ] || return 0
    bash "$SM_SRCDIR/tests/krb5/kdc.sh" stop "$SM_KDC"
    SM_KDC_STARTED=
}

# sm_fail_all REASON: every case still planned fails with REASON (its
# suite's prefix included), and the script ends: for a server that did not
# start or a program that is missing
sm_fail_all() {
    local i
    for ((i = SM_TAP_N; i < SM_TAP_PLAN; i++)); do sm_not_ok "$1"; done
    exit 1
}

# sm_curl_smtp PORT LOG FROM [CURL ARGS...]: curl submits a short message
# from FROM to bob@remote.example through 127.0.0.1:PORT, the arguments
# saying how it authenticates (--user, --login-options, --oauth2-bearer);
# with SM_MSGID set, the message carries that Message-ID.  Its -v
# transcript goes to LOG; the exit status is curl's.
sm_curl_smtp() {
    local port=$1 log=$2 from=$3
    shift 3
    { [ -z "${SM_MSGID:-}" ] || printf 'Message-ID: <%s>\r\n' "$SM_MSGID"
      printf 'Subject: sasl-mechs test\r\n\r\nhello\r\n'; } |
        timeout "$SM_TIMEOUT" curl -sS -v --max-time "$SM_TIMEOUT" \
            "smtp://127.0.0.1:$port/client.example" "$@" --mail-from "$from" \
            --mail-rcpt "bob@remote.example" -T - >"$log" 2>&1
}

# sm_relay_send CONF FROM TAG: a message from FROM to bob@relay.test through
# the sendmail of the Postfix instance CONF; sets MSGID (TAG in it)
sm_relay_send() {
    MSGID="$3-$$-$RANDOM@client.example"
    printf 'Message-ID: <%s>\nSubject: relayed as %s\n\nhello\n' "$MSGID" "$2" |
        sendmail -C "$1" -f "$2" bob@relay.test
}
# sm_relayed LOG RPORT DESC USER: one TAP line, ok when the message MSGID went
# out through the smtpd on RPORT authenticated as USER with XOAUTH2 (waits up
# to 20 s); sets SM_QID, SM_RID; on failure the log's lines about it follow
sm_relayed() {
    local log=$1 rport=$2 desc=$3 user=$4
    for _ in $(seq 100); do
        sm_postfix_relay_ids "$log" "$MSGID" bob@relay.test "$rport" && break
        sleep 0.2
    done
    if [ -n "$SM_RID" ] && [ "${SM_AUTH#client=*\], }" = "sasl_method=XOAUTH2, sasl_username=$user" ]; then
        sm_ok "$desc (queue id $SM_QID, queued by the smtpd as $SM_RID, sasl_username=$user)"
        return 0
    fi
    sm_not_ok "$desc" "queue id '$SM_QID', remote id '$SM_RID', smtpd logged '$SM_AUTH'"
    grep -E "${SM_QID:-no-such-id}|XOAUTH2|SASL|TLS" "$log" | tail -8 | sed 's/^/# /'
    return 1
}

# sm_relay_deferred LOG: waits (up to 20 s) for the deferral of the message
# MSGID to bob@relay.test; sets SM_DQID (its queue id) and SM_DLINE (the
# log's deferral line), SM_DLINE empty when none came
sm_relay_deferred() {
    SM_DQID='' SM_DLINE=''
    for _ in $(seq 100); do
        SM_DQID=$(sed -n "s/.*: \([0-9A-Za-z]*\): message-id=<$MSGID>.*/\1/p" "$1" | head -n 1)
        [ -n "$SM_DQID" ] &&
            SM_DLINE=$(grep " $SM_DQID: to=<bob@relay.test>.* status=deferred" "$1" | tail -n 1)
        [ -n "$SM_DLINE" ] && break
        sleep 0.2
    done
}

# sm_device_code OUT PID: the user code that the device-flow sign-in PID
# prints into OUT, once it has (up to 15 s), or nothing when it ends first
sm_device_code() {
    local code=''
    for _ in $(seq 150); do
        code=$(sed -n 's/.*enter the code \([A-Z0-9]*\).*/\1/p' "$1")
        [ -n "$code" ] && break
        kill -0 "$2" 2>/dev/null || break
        sleep 0.1
    done
    printf '%s' "$code"
}

sm_ntlm_nt_len() {
    local line hex
    while IFS= read -r line; do
        hex=$(printf '%s' "$line" | base64 -d 2>/dev/null | od -An -tx1 -v | tr -d ' \n')
        hex=${hex#4e544c4d00}
        if [ "${hex:0:24}" = 4e544c4d5353500003000000 ]; then
            echo $((16#${hex:42:2}${hex:40:2}))
            return
        fi
    done
}

# ---- slapd -----------------------------------------------------------------------
# sm_slapd_start CONF [URL...]: slapd -f CONF listening on a free loopback
# port (ldap://127.0.0.1:PORT/) and on the URLs given (ldapi://...), in the
# foreground with -d 256 (each operation and its result) logging to
# $SM_SLAPD_LOG (default $SM_TMP/slapd.log, appended to); waits until it
# says "slapd starting".  With SM_SLAPD_PORT set (a restart), that port and
# no other.  Sets SM_SLAPD_PID and SM_SLAPD_PORT, or returns 1 with both
# empty (the log says why).  The environment of the call (SASL_PATH=...)
# is slapd's.  Stopped by sm_slapd_stop, or by sm_init's cleanup.
sm_slapd_start() {
    local conf=$1 log=${SM_SLAPD_LOG:-$SM_TMP/slapd.log} fixed=${SM_SLAPD_PORT:-} from port
    shift
    SM_SLAPD_PID=
    for _ in $(seq 20); do
        port=${fixed:-$(( 20000 + RANDOM % 20000 ))}
        : >>"$log"
        from=$(($(wc -l <"$log") + 1))
        slapd -f "$conf" -h "ldap://127.0.0.1:$port/${*:+ $*}" -d 256 >>"$log" 2>&1 &
        SM_SLAPD_PID=$!
        for _ in $(seq 100); do
            tail -n +"$from" "$log" | grep -q 'slapd starting' && break
            kill -0 "$SM_SLAPD_PID" 2>/dev/null || break
            sleep 0.1
        done
        if tail -n +"$from" "$log" | grep -q 'slapd starting'; then
            SM_SLAPD_PORT=$port
            return 0
        fi
        kill "$SM_SLAPD_PID" 2>/dev/null
        wait "$SM_SLAPD_PID" 2>/dev/null
        SM_SLAPD_PID=
        if [ -n "$fixed" ] || ! tail -n +"$from" "$log" | grep -q 'Address already in use'; then
            break
        fi
    done
    SM_SLAPD_PORT=
    return 1
}

# sm_slapd_stop: stop the slapd sm_slapd_start started (SIGTERM, then wait:
# its database is closed cleanly).  SM_SLAPD_PORT is kept, for a restart.
sm_slapd_stop() {
    [ -n "${SM_SLAPD_PID:-}" ] || return 0
    kill "$SM_SLAPD_PID" 2>/dev/null
    wait "$SM_SLAPD_PID" 2>/dev/null
    SM_SLAPD_PID=
}
