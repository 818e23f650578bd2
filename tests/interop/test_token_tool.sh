#!/bin/bash
# sasl-mechs-token against the loopback identity provider
# (tests/oauth/oauth_server.py playing Microsoft's, Google's and a generic
# provider's endpoints):
#   the device flow: the tool prints the code, the test approves it as the
#   user would, the file appears with mode 0600 and the owner asked for, the
#   tool polls no faster than the interval; declined, expired, slow_down,
#   Microsoft's AADSTS error shape; show never prints a token (unless
#   --show-token); refresh rotates the refresh token; a client secret on the
#   command line is refused; client credentials with a secret (file and
#   standard input) and with a certificate (private_key_jwt, the assertion
#   checked against the registered certificate), a certificate not
#   registered refused, and our XOAUTH2 client plugin renewing such a file
#   through sasl-sample-client; the authorization code flow with PKCE driven
#   by headless Chromium through the loopback redirect, the pasted-URL mode,
#   a forged state refused; revoke (RFC 7009) and delete; discovery
#   (--issuer); an http:// login host off loopback refused; the security
#   review's cases (a long or repeated --service, no --scope, stray requests
#   to the loopback listener, a 10-year device interval, control characters
#   from the IdP, relative key paths, delete waiting for the lock); the tool
#   under valgrind.  TAP output.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

sm_plan 37
sm_init

TOOL=$SM_BUILDDIR/sasl-mechs-token
blocked=
missing=$(sm_missing_programs python3 curl openssl sasl-sample-server sasl-sample-client \
    valgrind mkfifo setsid timeout stdbuf)
[ -n "$missing" ] && blocked="missing programs: $missing (scripts/deps.sh installs them)"
[ -x "$TOOL" ] || make -C "$SM_BUILDDIR" sasl-mechs-token >/dev/null 2>&1
[ -x "$TOOL" ] || blocked="${blocked:+$blocked; }$TOOL not built"
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)

if [ -z "$blocked" ] && ! sm_oauth_server_start tool-test --lifetime 600; then
    blocked="the loopback OAuth server did not start"
    sm_diag_file "$SM_TMP/oauth-server.log" "oauth server log"
fi
B=http://127.0.0.1:${SM_OAUTH_PORT:-0}
MS=$B/ms
CID=tool-client
W=$SM_TMP/w
mkdir -p "$W"
printf 'tool-secret\n' >"$W/secret"
chmod 600 "$W/secret"

idp() { # METHOD PATH [JSON]
    curl -s -X "$1" ${3:+-H 'Content-Type: application/json' --data-binary "$3"} "$B$2"
}
stat_of() { # NAME: a counter of /idp/stats
    idp GET /idp/stats | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"
}
json_get() { # FILE MEMBER
    python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ''))" "$1" "$2"
}
blocked_all() { # DESC
    sm_not_ok "$1" "cannot run: $blocked"
}

# device_run NAME ACTION [TOOL ARGS...]: start obtain with the device flow,
# wait for its code, do ACTION (approve, deny, expire, none) as the user, wait
# for the tool; sets RC and OUT (its output file)
device_run() {
    local name=$1 action=$2 code pid
    shift 2
    OUT=$W/$name.out
    "$TOOL" obtain --client-id "$CID" --login-host "$MS" "$@" >"$OUT" 2>&1 &
    pid=$!
    code=$(sm_device_code "$OUT" "$pid")
    if [ -n "$code" ] && [ "$action" != none ]; then
        idp POST /idp/device "{\"user_code\": \"$code\", \"action\": \"$action\", \"user\": \"${DEVICE_USER:-alice@contoso.test}\"}" >/dev/null
    fi
    wait "$pid"
    RC=$?
}

# ---- the device flow ---------------------------------------------------------------
desc="device flow: the tool prints the code, the user approves, the file appears 0600 owned by nobody:nogroup"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    device_run dev approve --tenant contoso.test --file "$W/nobody.json" --owner nobody:nogroup
    mode=$(stat -c '%a %U:%G' "$W/nobody.json" 2>/dev/null)
    lmode=$(stat -c '%U:%G' "$W/nobody.json.lock" 2>/dev/null)
    if [ "$RC" -ne 0 ] || [ "$mode" != "600 nobody:nogroup" ] || [ "$lmode" != nobody:nogroup ]; then
        sm_not_ok "$desc" "exit $RC, file: '$mode', lock file: '$lmode'"; sm_diag_file "$OUT"
    elif ! grep -q 'enter the code' "$OUT"; then
        sm_not_ok "$desc" "no code printed"; sm_diag_file "$OUT"
    else
        sm_ok "$desc"
    fi
fi

desc="device flow: the tool polled no faster than the server's interval (too_fast 0)"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    tf=$(stat_of too_fast) polls=$(stat_of polls)
    sm_check "$([ "$tf" = 0 ] && [ "$polls" -ge 1 ] && echo 0 || echo 1)" "$desc" \
        "too_fast $tf, polls $polls"
fi

desc="device flow: Microsoft preset endpoints and scopes (tenant in the path, SMTP.Send, offline_access)"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    f=$W/dev2.json
    device_run dev2 approve --tenant contoso.test --file "$f" --service smtp,imap
    te=$(json_get "$f" token_endpoint) sc=$(json_get "$f" scope)
    if [ "$RC" -eq 0 ] && [ "$te" = "$MS/contoso.test/oauth2/v2.0/token" ] &&
        [[ "$sc" == *"offline_access"*"https://outlook.office.com/SMTP.Send"*"https://outlook.office.com/IMAP.AccessAsUser.All"* ]]; then
        sm_ok "$desc"
    else
        sm_not_ok "$desc" "exit $RC, token_endpoint '$te', scope '$sc'"; sm_diag_file "$OUT"
    fi
fi

desc="device flow: the user declines (authorization_declined): exit 1, says so, no file"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    device_run deny deny --file "$W/deny.json"
    if [ "$RC" -eq 1 ] && grep -q 'declined' "$OUT" && [ ! -e "$W/deny.json" ]; then
        sm_ok "$desc"
    else
        sm_not_ok "$desc" "exit $RC"; sm_diag_file "$OUT"
    fi
fi

desc="device flow: the code expires (expired_token): exit 1, says to run again, no file"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    device_run expire expire --file "$W/expire.json"
    if [ "$RC" -eq 1 ] && grep -q 'expired.*run the command again' "$OUT" && [ ! -e "$W/expire.json" ]; then
        sm_ok "$desc"
    else
        sm_not_ok "$desc" "exit $RC"; sm_diag_file "$OUT"
    fi
fi

desc="device flow: slow_down makes the tool poll 5 s slower, and it still signs in"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    idp POST /idp/mode '{"slow_down": 1}' >/dev/null
    sd0=$(stat_of slow_downs)
    t0=$(date +%s)
    device_run slow approve --file "$W/slow.json"
    t1=$(date +%s)
    sd1=$(stat_of slow_downs) tf=$(stat_of too_fast)
    if [ "$RC" -eq 0 ] && [ "$sd1" -eq $((sd0 + 1)) ] && [ "$tf" = 0 ] && [ $((t1 - t0)) -ge 6 ]; then
        sm_ok "$desc ($((t1 - t0)) s)"
    else
        sm_not_ok "$desc" "exit $RC, slow_downs $sd0 -> $sd1, too_fast $tf, $((t1 - t0)) s"
        sm_diag_file "$OUT"
    fi
fi

desc="Microsoft's error shape: an unknown client id gives AADSTS700016 and its text, without the trace lines"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    "$TOOL" obtain --client-id nobody-knows --login-host "$MS" --file "$W/x.json" >"$W/unk.out" 2>&1
    rc=$?
    if [ "$rc" -eq 1 ] && grep -q 'unauthorized_client: AADSTS700016: Application with identifier' "$W/unk.out" &&
        ! grep -q 'Trace ID' "$W/unk.out"; then
        sm_ok "$desc"
    else
        sm_not_ok "$desc" "exit $rc"; sm_diag_file "$W/unk.out"
    fi
fi

# ---- show, refresh -----------------------------------------------------------------------
F=$W/dev2.json
desc="show: user, scopes, expiry, grant; never a token or the secret"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    "$TOOL" show "$F" >"$W/show.out" 2>&1
    rc=$? at=$(json_get "$F" access_token) rt=$(json_get "$F" refresh_token)
    if [ "$rc" -eq 0 ] && grep -q '^user: *alice@contoso.test' "$W/show.out" &&
        grep -q '^grant: *refresh_token' "$W/show.out" && grep -q '^access token: *expires' "$W/show.out" &&
        grep -q '^scopes: .*SMTP.Send' "$W/show.out" && ! grep -qF "$at" "$W/show.out" &&
        ! grep -qF "$rt" "$W/show.out" && [ -n "$at" ]; then
        sm_ok "$desc"
    else
        sm_not_ok "$desc" "exit $rc"; sm_diag_file "$W/show.out"
    fi
fi

desc="show --show-token prints the access token (and still not the refresh token)"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    "$TOOL" show --show-token --file "$F" >"$W/show2.out" 2>&1
    if grep -qF "$at" "$W/show2.out" && ! grep -qF "$rt" "$W/show2.out"; then sm_ok "$desc"; else
        sm_not_ok "$desc"; sm_diag_file "$W/show2.out"; fi
fi

desc="show names what the plugin would refuse in a file (a token without expires_at, a file others can read)"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    printf '{"access_token": "SECRETAT"}\n' >"$W/bad.json"
    chmod 600 "$W/bad.json"
    "$TOOL" show "$W/bad.json" >"$W/bad.out" 2>&1
    rc1=$?
    printf '{"access_token": "SECRETAT", "expires_at": 9}\n' >"$W/bad.json"
    chmod 644 "$W/bad.json"
    "$TOOL" show "$W/bad.json" >>"$W/bad.out" 2>&1
    rc2=$?
    if [ "$rc1" -eq 1 ] && [ "$rc2" -eq 1 ] && grep -q 'would refuse.*without "expires_at"' "$W/bad.out" &&
        grep -q 'would refuse.*accessible by others' "$W/bad.out" && ! grep -q SECRETAT "$W/bad.out"; then
        sm_ok "$desc"; else sm_not_ok "$desc" "exit $rc1, $rc2"; sm_diag_file "$W/bad.out"; fi
fi

desc="refresh: a new access token now, the refresh token rotated (the old one is spent)"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    r0=$(stat_of refreshes)
    "$TOOL" refresh "$F" >"$W/refresh.out" 2>&1
    rc=$? at2=$(json_get "$F" access_token) rt2=$(json_get "$F" refresh_token)
    r1=$(stat_of refreshes) mode=$(stat -c %a "$F")
    if [ "$rc" -eq 0 ] && [ "$at2" != "$at" ] && [ "$rt2" != "$rt" ] && [ -n "$rt2" ] &&
        [ "$r1" -eq $((r0 + 1)) ] && [ "$mode" = 600 ] && ! grep -qF "$at2" "$W/refresh.out"; then
        sm_ok "$desc"
    else
        sm_not_ok "$desc" "exit $rc, refreshes $r0 -> $r1, mode $mode"; sm_diag_file "$W/refresh.out"
    fi
fi

desc="an existing file is not replaced without --force"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    "$TOOL" obtain --client-id "$CID" --login-host "$MS" --file "$F" >"$W/exists.out" 2>&1
    rc=$?
    if [ "$rc" -eq 1 ] && grep -q -- '--force' "$W/exists.out" && [ "$(json_get "$F" access_token)" = "$at2" ]; then
        sm_ok "$desc"; else sm_not_ok "$desc" "exit $rc"; sm_diag_file "$W/exists.out"; fi
fi

# ---- secrets, client credentials ---------------------------------------------------------------
desc="a client secret on the command line is refused (exit 2, says why), no request made"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    n0=$(idp GET /stats | python3 -c "import json,sys; print(sum(json.load(sys.stdin)['requests'].values()))")
    "$TOOL" obtain --client-id "$CID" --login-host "$MS" --tenant contoso.test --app-only \
        --file "$W/cl.json" --client-secret tool-secret >"$W/cl.out" 2>&1
    rc=$?
    n1=$(idp GET /stats | python3 -c "import json,sys; print(sum(json.load(sys.stdin)['requests'].values()))")
    # n1 counts the first /stats request itself
    if [ "$rc" -eq 2 ] && grep -q 'process list' "$W/cl.out" && [ "$n1" -eq $((n0 + 1)) ] &&
        [ ! -e "$W/cl.json" ]; then
        sm_ok "$desc"
    else
        sm_not_ok "$desc" "exit $rc, requests $n0 -> $n1"; sm_diag_file "$W/cl.out"
    fi
fi

desc="client credentials with a secret from a file: grant_type client_credentials, .default scope, no refresh token"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    c0=$(stat_of cc_secret)
    "$TOOL" obtain --client-id "$CID" --login-host "$MS" --tenant contoso.test --app-only \
        --client-secret-file "$W/secret" --file "$W/cs.json" >"$W/cs.out" 2>&1
    rc=$? c1=$(stat_of cc_secret)
    if [ "$rc" -eq 0 ] && [ "$(json_get "$W/cs.json" grant_type)" = client_credentials ] &&
        [ "$(json_get "$W/cs.json" scope)" = https://outlook.office365.com/.default ] &&
        [ -z "$(json_get "$W/cs.json" refresh_token)" ] && [ "$c1" -eq $((c0 + 1)) ]; then
        sm_ok "$desc"
    else
        sm_not_ok "$desc" "exit $rc, cc_secret $c0 -> $c1"; sm_diag_file "$W/cs.out"
    fi
fi

desc="client credentials with the secret on standard input (--client-secret-file -), renewed by refresh"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    c0=$(stat_of cc_secret)
    "$TOOL" obtain --client-id "$CID" --login-host "$MS" --tenant contoso.test --app-only \
        --client-secret-file - --file "$W/cs2.json" <"$W/secret" >"$W/cs2.out" 2>&1 &&
        "$TOOL" refresh "$W/cs2.json" >>"$W/cs2.out" 2>&1
    rc=$? c1=$(stat_of cc_secret)
    if [ "$rc" -eq 0 ] && [ "$c1" -eq $((c0 + 2)) ]; then sm_ok "$desc"; else
        sm_not_ok "$desc" "exit $rc, cc_secret $c0 -> $c1"; sm_diag_file "$W/cs2.out"; fi
fi

# a certificate registered for the client, and one that is not
if [ -z "$blocked" ]; then
    for n in cert other; do
        openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/$n.key" -out "$W/$n.pem" \
            -subj "/CN=sasl-mechs-token test $n" -days 2 >/dev/null 2>&1
        chmod 600 "$W/$n.key"
    done
    python3 -c 'import json,sys; print(json.dumps({"cert_pem": open(sys.argv[1]).read(), "token_ttl": 2}))' \
        "$W/cert.pem" >"$W/conf.json"
    idp POST /idp/config "$(cat "$W/conf.json")" >/dev/null
fi

desc="client credentials with a certificate (private_key_jwt, x5t#S256): the assertion verifies"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    a0=$(stat_of cc_assertion)
    "$TOOL" obtain --client-id "$CID" --login-host "$MS" --tenant contoso.test \
        --certificate "$W/cert.pem" --private-key "$W/cert.key" --file "$W/cert.json" >"$W/cert.out" 2>&1
    rc=$? a1=$(stat_of cc_assertion)
    if [ "$rc" -eq 0 ] && [ "$a1" -eq $((a0 + 1)) ] &&
        [ "$(json_get "$W/cert.json" token_endpoint_auth_method)" = private_key_jwt ] &&
        [ -z "$(json_get "$W/cert.json" client_secret)" ]; then
        sm_ok "$desc"
    else
        sm_not_ok "$desc" "exit $rc, cc_assertion $a0 -> $a1"; sm_diag_file "$W/cert.out"
    fi
fi

desc="a certificate the client did not register is refused (AADSTS700027)"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    "$TOOL" obtain --client-id "$CID" --login-host "$MS" --tenant contoso.test \
        --certificate "$W/other.pem" --private-key "$W/other.key" --file "$W/other.json" >"$W/other.out" 2>&1
    rc=$?
    if [ "$rc" -eq 1 ] && grep -q 'invalid_client: AADSTS700027' "$W/other.out" && [ ! -e "$W/other.json" ]; then
        sm_ok "$desc"; else sm_not_ok "$desc" "exit $rc"; sm_diag_file "$W/other.out"; fi
fi

desc="our XOAUTH2 client plugin renews the expired app-only (certificate) file and authenticates"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    plug=$SM_TMP/plug
    sm_mkplugdir "$plug" ours XOAUTH2 none >/dev/null 2>&1
    conf=$SM_TMP/conf
    mkdir -p "$conf"
    sm_write_conf "$conf" "oauth_issuers=$B" oauth_audiences=tool-test oauth_user_claim=sub \
        "oauth_jwks_url=$B/jwks"
    sleep 3 # the 2 s token of the file has expired
    a0=$(stat_of cc_assertion) old=$(json_get "$W/cert.json" access_token)
    SM_SERVER_ARGS=(-l) SM_CLIENT_ARGS=(-l)
    sm_exchange cc XOAUTH2 "$plug" "$plug" "$conf" "$CID" "tokenfile:$W/cert.json"
    xrc=$?
    a1=$(stat_of cc_assertion) new=$(json_get "$W/cert.json" access_token)
    if [ "$xrc" -eq 0 ] && [ "$a1" -eq $((a0 + 1)) ] && [ "$new" != "$old" ] && [ "$SM_X_USER" = "$CID" ]; then
        sm_ok "$desc"
    else
        sm_not_ok "$desc" "${SM_X_WHY:-} cc_assertion $a0 -> $a1, user '$SM_X_USER'"; sm_exchange_diag
    fi
    idp POST /idp/config '{"token_ttl": 3600}' >/dev/null
fi

# ---- the authorization code flow (Google) --------------------------------------------------
GOOGLE=(--provider google --client-id "$CID" --client-secret-file "$W/secret" --login-host "$B/google")
PASTE_PROVIDER=("${GOOGLE[@]}")

desc="authorization code + PKCE: headless Chromium opens the printed URL, the IdP redirects to the tool's loopback listener"
if [ -n "$blocked" ]; then blocked_all "$desc";
elif [ -z "$CHROMIUM" ]; then sm_not_ok "$desc" "chromium is not installed (scripts/deps.sh installs it)"; else
    c0=$(stat_of codes)
    "$TOOL" obtain "${GOOGLE[@]}" --file "$W/g.json" --timeout 60 >"$W/g.out" 2>&1 &
    pid=$!
    url=
    for _ in $(seq 100); do
        url=$(grep -o "$B/google/o/oauth2/v2/auth?[^ ]*" "$W/g.out")
        [ -n "$url" ] && break
        sleep 0.1
    done
    timeout 60 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$SM_TMP/chromium" --dump-dom "$url" >"$W/chromium.out" 2>"$W/chromium.err"
    wait "$pid"
    rc=$? c1=$(stat_of codes)
    if [ "$rc" -eq 0 ] && [ -n "$(json_get "$W/g.json" refresh_token)" ] && [ "$c1" -eq $((c0 + 1)) ] &&
        grep -q 'Signed in' "$W/chromium.out"; then
        sm_ok "$desc"
    else
        sm_not_ok "$desc" "exit $rc, codes $c0 -> $c1"; sm_diag_file "$W/g.out"
        sm_diag_file "$W/chromium.out" chromium; sm_diag_file "$W/chromium.err" "chromium stderr"
    fi
fi

# paste_run NAME [TOOL ARGS]: --no-browser; the redirected URL fetched with curl
# (the browser of another machine) and pasted on standard input
paste_run() {
    local name=$1 url loc
    shift
    OUT=$W/$name.out
    rm -f "$W/$name.fifo"; mkfifo "$W/$name.fifo"
    "$TOOL" obtain "${PASTE_PROVIDER[@]}" --no-browser --timeout 30 "$@" <"$W/$name.fifo" >"$OUT" 2>&1 &
    local pid=$!
    exec 8>"$W/$name.fifo"
    for _ in $(seq 100); do
        url=$(grep -o "$B/[a-z./0-9]*/\(auth\|authorize\)?[^ ]*" "$OUT")
        [ -n "$url" ] && break
        sleep 0.1
    done
    loc=$(curl -s -o /dev/null -w '%{redirect_url}' "$url")
    # a subshell: a tool that died early must not take SIGPIPE's toll on the script
    (echo "$loc" >&8) 2>/dev/null
    exec 8>&-
    wait "$pid"
    RC=$?
}

desc="--no-browser: prints the ssh -L line and takes the redirected URL pasted on standard input"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    paste_run paste --file "$W/p.json"
    port=$(sed -n 's/.*ssh -L \([0-9]*\):127\.0\.0\.1:\([0-9]*\) .*/\1=\2/p' "$OUT")
    if [ "$RC" -eq 0 ] && [ -n "$port" ] && [ "${port%=*}" = "${port#*=}" ] &&
        [ "$(json_get "$W/p.json" provider)" = google ] && [ -n "$(json_get "$W/p.json" refresh_token)" ]; then
        sm_ok "$desc"
    else
        sm_not_ok "$desc" "exit $RC, ssh line '$port'"; sm_diag_file "$OUT"
    fi
fi

desc="a redirect whose state is not this sign-in's is refused (exit 1, no file)"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    idp POST /idp/mode '{"authorize": "bad_state"}' >/dev/null
    paste_run badstate --file "$W/bs.json"
    idp POST /idp/mode '{"authorize": "ok"}' >/dev/null
    if [ "$RC" -eq 1 ] && grep -q 'state does not match' "$OUT" && [ ! -e "$W/bs.json" ]; then
        sm_ok "$desc"; else sm_not_ok "$desc" "exit $RC"; sm_diag_file "$OUT"; fi
fi

desc="the user declines on the consent page (error=access_denied): exit 1, says so"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    idp POST /idp/mode '{"authorize": "deny"}' >/dev/null
    paste_run denied --file "$W/dn.json"
    idp POST /idp/mode '{"authorize": "ok"}' >/dev/null
    if [ "$RC" -eq 1 ] && grep -q 'declined' "$OUT" && [ ! -e "$W/dn.json" ]; then
        sm_ok "$desc"; else sm_not_ok "$desc" "exit $RC"; sm_diag_file "$OUT"; fi
fi

desc="Microsoft with --flow authcode (PKCE, a public client, the tenant's /authorize), pasted back"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    PASTE_PROVIDER=(--client-id "$CID" --login-host "$MS" --tenant contoso.test --flow authcode)
    paste_run msauth --file "$W/msauth.json"
    PASTE_PROVIDER=("${GOOGLE[@]}")
    if [ "$RC" -eq 0 ] && grep -q "$MS/contoso.test/oauth2/v2.0/authorize?" "$OUT" &&
        [ -n "$(json_get "$W/msauth.json" refresh_token)" ] &&
        [ "$(json_get "$W/msauth.json" token_endpoint_auth_method)" = none ]; then
        sm_ok "$desc"; else sm_not_ok "$desc" "exit $RC"; sm_diag_file "$OUT"; fi
fi

# ---- revoke, delete ----------------------------------------------------------------------
desc="revoke: RFC 7009 at the provider, then the file is deleted; the refresh token no longer works"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    rt=$(json_get "$W/p.json" refresh_token) v0=$(stat_of revoked)
    "$TOOL" revoke "$W/p.json" >"$W/revoke.out" 2>&1
    rc=$? v1=$(stat_of revoked)
    code=$(curl -s -o /dev/null -w '%{http_code}' -d grant_type=refresh_token -d "refresh_token=$rt" \
        -d client_id="$CID" -d client_secret=tool-secret "$B/google/token")
    if [ "$rc" -eq 0 ] && [ ! -e "$W/p.json" ] && [ ! -e "$W/p.json.lock" ] && [ "$v1" -eq $((v0 + 1)) ] &&
        [ "$code" = 400 ]; then
        sm_ok "$desc"
    else
        sm_not_ok "$desc" "exit $rc, revoked $v0 -> $v1, refresh after revoke: HTTP $code"
        sm_diag_file "$W/revoke.out"
    fi
fi

desc="revoke of a Microsoft file (no RFC 7009 endpoint) says so and keeps the file; delete removes it"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    "$TOOL" revoke "$W/slow.json" >"$W/rv2.out" 2>&1
    rc=$?
    kept=$([ -e "$W/slow.json" ] && echo yes)
    "$TOOL" delete --file "$W/slow.json" >>"$W/rv2.out" 2>&1
    drc=$?
    if [ "$rc" -eq 1 ] && grep -q 'no revocation_endpoint' "$W/rv2.out" && [ "$kept" = yes ] &&
        [ "$drc" -eq 0 ] && [ ! -e "$W/slow.json" ]; then
        sm_ok "$desc"; else sm_not_ok "$desc" "revoke exit $rc, kept '$kept', delete exit $drc"; sm_diag_file "$W/rv2.out"; fi
fi

# ---- generic provider, URL checks ----------------------------------------------------------
desc="generic provider: --issuer (OpenID discovery) and the device flow"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    OUT=$W/gen.out
    "$TOOL" obtain --provider generic --issuer "$B/generic" --client-id "$CID" --scope "openid mail" \
        --file "$W/gen.json" >"$OUT" 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        code=$(sed -n 's/.*enter the code \([A-Z0-9]*\).*/\1/p' "$OUT"); [ -n "$code" ] && break; sleep 0.1
    done
    idp POST /idp/device "{\"user_code\": \"$code\"}" >/dev/null
    wait "$pid"
    rc=$?
    if [ "$rc" -eq 0 ] && [ "$(json_get "$W/gen.json" token_endpoint)" = "$B/generic/token" ] &&
        [ "$(json_get "$W/gen.json" revocation_endpoint)" = "$B/generic/revoke" ]; then
        sm_ok "$desc"; else sm_not_ok "$desc" "exit $rc"; sm_diag_file "$OUT"; fi
fi

desc="an http:// login host off loopback is refused (https required)"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    "$TOOL" obtain --client-id "$CID" --login-host http://login.example.com --file "$W/h.json" >"$W/h.out" 2>&1
    rc=$?
    if [ "$rc" -eq 1 ] && grep -q 'https is required' "$W/h.out"; then sm_ok "$desc"; else
        sm_not_ok "$desc" "exit $rc"; sm_diag_file "$W/h.out"; fi
fi

# ---- the security review's findings ----------------------------------------------------
desc="--service: a long list stops with an error (no crash), a repeated service is refused"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    long=$(printf 'smtp,imap,pop,%.0s' $(seq 14))smtp
    "$TOOL" obtain --client-id "$CID" --login-host "$MS" --service "$long" --file "$W/svc.json" >"$W/svc.out" 2>&1
    rc1=$?
    "$TOOL" obtain --client-id "$CID" --login-host "$MS" --service smtp,imap,smtp --file "$W/svc.json" >>"$W/svc.out" 2>&1
    rc2=$?
    if [ "$rc1" -eq 1 ] && [ "$rc2" -eq 1 ] && grep -q 'more than once' "$W/svc.out" && [ ! -e "$W/svc.json" ]; then
        sm_ok "$desc"; else sm_not_ok "$desc" "exit $rc1, $rc2"; sm_diag_file "$W/svc.out"; fi
fi

desc="generic provider without --scope: the authorization code flow leaves scope out (no crash) and signs in"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    PASTE_PROVIDER=(--provider generic --client-id "$CID" --client-secret-file "$W/secret"
        --token-endpoint "$B/generic/token" --authorization-endpoint "$B/generic/authorize")
    paste_run noscope --file "$W/noscope.json"
    PASTE_PROVIDER=("${GOOGLE[@]}")
    if [ "$RC" -eq 0 ] && ! grep -q 'scope=' "$OUT" && [ -n "$(json_get "$W/noscope.json" refresh_token)" ]; then
        sm_ok "$desc"; else sm_not_ok "$desc" "exit $RC"; sm_diag_file "$OUT"; fi
fi

desc="the loopback listener: a wrong or missing state gets 400 and the sign-in goes on"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    OUT=$W/ls.out
    rm -f "$W/ls.fifo"; mkfifo "$W/ls.fifo"
    "$TOOL" obtain "${GOOGLE[@]}" --no-browser --timeout 30 --file "$W/ls.json" <"$W/ls.fifo" >"$OUT" 2>&1 &
    pid=$!
    exec 8>"$W/ls.fifo"
    url='' port=''
    for _ in $(seq 100); do
        url=$(grep -o "$B/[a-z./0-9]*/auth?[^ ]*" "$OUT")
        port=$(sed -n 's/.*ssh -L \([0-9]*\):127.*/\1/p' "$OUT")
        [ -n "$url" ] && [ -n "$port" ] && break
        sleep 0.1
    done
    c1=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/?state=forged&error=access_denied")
    c2=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/?code=planted")
    c3=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/?state=forged&code=planted")
    alive=$(kill -0 "$pid" 2>/dev/null && echo yes)
    loc=$(curl -s -o /dev/null -w '%{redirect_url}' "$url")
    c4=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$loc")
    exec 8>&-
    wait "$pid"
    rc=$?
    if [ "$c1$c2$c3" = 400400400 ] && [ "$alive" = yes ] && [ "$c4" = 200 ] && [ "$rc" -eq 0 ] &&
        [ -n "$(json_get "$W/ls.json" refresh_token)" ]; then
        sm_ok "$desc"; else sm_not_ok "$desc" "exit $rc, alive '$alive', HTTP $c1 $c2 $c3 $c4"; sm_diag_file "$OUT"; fi
fi

desc="device flow: an interval of 10 years is clamped and the tool gives up at the code's deadline"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    idp POST /idp/mode '{"answer": {"status": 200, "body": {"device_code": "dc-long", "user_code": "LONGWAIT", "verification_uri": "https://example.com/device", "expires_in": 2, "interval": 315360000}}}' >/dev/null
    t0=$(date +%s)
    timeout 30 "$TOOL" obtain --client-id "$CID" --login-host "$MS" --file "$W/long.json" >"$W/long.out" 2>&1
    rc=$? t1=$(date +%s)
    if [ "$rc" -eq 1 ] && [ $((t1 - t0)) -le 12 ]; then
        sm_ok "$desc ($((t1 - t0)) s)"; else sm_not_ok "$desc" "exit $rc after $((t1 - t0)) s"; sm_diag_file "$W/long.out"; fi
fi

desc="control characters from the IdP never reach the terminal or the file (verification_uri, the id_token's user)"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    idp POST /idp/mode '{"answer": {"status": 200, "body": {"device_code": "dc-esc", "user_code": "ESCCODE1", "verification_uri": "https://example.com/\u001b]0;pwned\u0007", "expires_in": 60, "interval": 1}}}' >/dev/null
    "$TOOL" obtain --client-id "$CID" --login-host "$MS" --file "$W/esc.json" >"$W/esc.out" 2>&1
    rc1=$?
    DEVICE_USER='ali\u001b[31mce' device_run escuser approve --file "$W/escu.json"
    OUT2=$OUT
    rc2=$RC
    bad=$(cat "$W/esc.out" "$OUT2" "$W/escu.json" 2>/dev/null | LC_ALL=C grep -c $'[\x01-\x08\x0b-\x1f\x7f]')
    if [ "$rc1" -eq 1 ] && [ ! -e "$W/esc.json" ] && [ "$rc2" -eq 0 ] && [ "$bad" -eq 0 ] && [ -e "$W/escu.json" ]; then
        sm_ok "$desc"; else sm_not_ok "$desc" "exit $rc1, $rc2, lines with control characters: $bad"; sm_diag_file "$W/esc.out"; sm_diag_file "$OUT2"; fi
fi

desc="relative --certificate and --private-key are stored as absolute paths; an --owner who cannot read the key is warned of"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    (cd "$W" && "$TOOL" obtain --client-id "$CID" --login-host "$MS" --tenant contoso.test \
        --certificate cert.pem --private-key ./cert.key --file rel.json) >"$W/rel.out" 2>&1
    rc=$?
    warned=yes
    if [ "$(id -u)" = 0 ]; then
        "$TOOL" obtain --client-id "$CID" --login-host "$MS" --tenant contoso.test --owner nobody:nogroup \
            --certificate "$W/cert.pem" --private-key "$W/cert.key" --file "$W/relo.json" >>"$W/rel.out" 2>&1
        grep -q 'warning: nobody:nogroup cannot read .*cert.key' "$W/rel.out" || warned=no
    fi
    if [ "$rc" -eq 0 ] && [ "$warned" = yes ] &&
        [ "$(json_get "$W/rel.json" client_assertion_key)" = "$(realpath "$W/cert.key")" ] &&
        [ "$(json_get "$W/rel.json" client_assertion_cert)" = "$(realpath "$W/cert.pem")" ]; then
        sm_ok "$desc"; else sm_not_ok "$desc" "exit $rc"; sm_diag_file "$W/rel.out"; fi
fi

desc="delete waits for the token file's lock (held by a refresh)"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    : >"$W/rel.json.lock"
    flock -x "$W/rel.json.lock" sleep 3 &
    fpid=$!
    sleep 0.5
    t0=$(date +%s%N)
    "$TOOL" delete "$W/rel.json" >"$W/del.out" 2>&1
    rc=$? t1=$(date +%s%N)
    wait "$fpid"
    ms=$(((t1 - t0) / 1000000))
    if [ "$rc" -eq 0 ] && [ ! -e "$W/rel.json" ] && [ "$ms" -ge 2000 ]; then
        sm_ok "$desc ($ms ms)"; else sm_not_ok "$desc" "exit $rc after $ms ms"; sm_diag_file "$W/del.out"; fi
fi

desc="obtain leaves no unerased copy of the client secret (from standard input) or the new token in freed memory (free() hook)"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    hook=$SM_BUILDDIR/tests/unit/.libs/free_hook.so
    [ -e "$hook" ] || make -C "$SM_BUILDDIR" tests/unit/free_hook.la >/dev/null 2>&1
    rm -f "$W/fh.dump"
    LD_PRELOAD=$hook SM_FREE_HOOK_DUMP=$W/fh.dump "$TOOL" obtain --client-id "$CID" --login-host "$MS" \
        --tenant contoso.test --app-only --client-secret-file - --file "$W/fh.json" <"$W/secret" >"$W/fh.out" 2>&1
    rc=$?
    at=$(json_get "$W/fh.json" access_token)
    hits=$(LC_ALL=C grep -c -a -F -e tool-secret -e "${at:-no token}" "$W/fh.dump" 2>/dev/null)
    if [ "$rc" -eq 0 ] && [ -n "$at" ] && [ -s "$W/fh.dump" ] && [ "$hits" = 0 ] && ! grep -q -a OVERFLOWED "$W/fh.dump"; then
        sm_ok "$desc"; else sm_not_ok "$desc" "exit $rc, lines of freed memory with a secret: $hits"; sm_diag_file "$W/fh.out"; fi
fi

desc="a client secret read from standard input is held once in memory (not also in stdio's buffer)"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    OUT=$W/sc.out
    # typed, or written in pieces: with glibc, fread reads the first pieces
    # straight into the caller's buffer and the rest, once fewer than 4096
    # bytes are wanted, through stdin's own buffer
    { printf to; sleep 0.3; printf 'ol-secret\n'; } |
        "$TOOL" obtain --client-id "$CID" --login-host "$MS" --client-secret-file - --file "$W/sc.json" >"$OUT" 2>&1 &
    pid=$! code=''
    for _ in $(seq 100); do
        code=$(sed -n 's/.*enter the code \([A-Z0-9]*\).*/\1/p' "$OUT"); [ -n "$code" ] && break; sleep 0.1
    done
    sleep 1.5 # a poll made: the tool sleeps until the next one
    copies=$(python3 "$SM_SRCDIR/tests/interop/heap_count.py" "$pid" ol-secret 2>&1)
    idp POST /idp/device "{\"user_code\": \"$code\"}" >/dev/null
    wait "$pid"
    rc=$?
    if [ "$rc" -eq 0 ] && [ "$copies" = 1 ]; then sm_ok "$desc"; else
        sm_not_ok "$desc" "exit $rc, copies of the secret in the waiting tool: $copies"; sm_diag_file "$OUT"; fi
fi

desc="under valgrind: obtain (certificate), show, refresh, an authorization code flow left unanswered: no memory error or leak"
if [ -n "$blocked" ]; then blocked_all "$desc"; else
    # shellcheck disable=SC2054  # the commas are valgrind's
    vg=(valgrind --quiet --error-exitcode=99 --leak-check=full
        --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible
        --suppressions="$SM_SRCDIR/tests/valgrind.supp")
    : >"$W/vg.out"
    vrc=0
    "${vg[@]}" "$TOOL" obtain --client-id "$CID" --login-host "$MS" --tenant contoso.test \
        --certificate "$W/cert.pem" --private-key "$W/cert.key" --file "$W/vg.json" >>"$W/vg.out" 2>&1 || vrc=1
    "${vg[@]}" "$TOOL" show "$W/vg.json" >>"$W/vg.out" 2>&1 || vrc=1
    "${vg[@]}" "$TOOL" refresh "$W/vg.json" >>"$W/vg.out" 2>&1 || vrc=1
    "${vg[@]}" "$TOOL" obtain "${GOOGLE[@]}" --file "$W/vg2.json" --no-browser --timeout 5 </dev/null >>"$W/vg.out" 2>&1
    [ $? -eq 1 ] || vrc=1
    if [ "$vrc" -eq 0 ] && ! grep -q '^==[0-9]*==' "$W/vg.out"; then sm_ok "$desc"; else
        sm_not_ok "$desc"; sm_diag_file "$W/vg.out"; fi
fi

sm_done
