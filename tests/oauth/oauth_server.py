#!/usr/bin/env python3
"""Loopback OAuth 2.0 test server for the sasl-mechs tests (standard library only).

    oauth_server.py --mint BUILDDIR/tests/oauth/oauth_mint --keys DIR
                    [--port 0] [--port-file FILE] [--lifetime 900] ...

Listens on 127.0.0.1 only (or another loopback address given with --host), on
--port (0: the system chooses), and writes the port to --port-file (atomically,
once it listens) and prints "oauth_server: listening on HOST:PORT issuer URL".
Generates the keys with `oauth_mint keygen` when DIR has no jwks.json.  Exits on
SIGTERM or SIGINT, and by itself after --lifetime seconds so that a test that dies
never leaves it behind.

OAuth endpoints
  GET  /jwks                               DIR/jwks.json
  GET  /.well-known/openid-configuration   issuer, jwks_uri, token_endpoint,
  GET  /.well-known/oauth-authorization-server   introspection_endpoint
  POST /token       grant_type=refresh_token (RFC 6749 section 6): the client
                    (--client-id/--client-secret) authenticates with HTTP Basic
                    (RFC 6749 2.3.1: each part form-urlencoded) or in the body; each
                    refresh token is good once: the answer has a new access token
                    (a JWT signed with --kid) and a new refresh token
  POST /introspect  RFC 7662, the resource server (--rs-id/--rs-secret)
                    authenticates the same two ways; active for tokens minted here
                    that are neither revoked nor expired, with their claims

Test control (JSON in, JSON out)
  GET  /stats       counters: requests per path, refreshes (successful),
                    refresh_failures, introspections, active_refresh_tokens
  POST /grant       {"user", "scope", "ttl"} all optional: a new grant, as after
                    an authorization: {"access_token", "refresh_token",
                    "expires_in", "expires_at"}
  POST /mint        {"claims": {...}, "kid", "alg", "ttl", "header": {...}}:
                    mints a JWT with exactly these claims (iss/iat/exp added only
                    when "ttl" is given and they are absent), registered for
                    introspection: {"access_token", "claims"}
  POST /revoke      {"token": T}: T (access or refresh token) no longer works
  POST /mode        {"token": M, "introspect": M, "delay_ms": N, "jwks_hold": B}:
                    how the next requests are answered.  token: ok, invalid_grant, 500,
                    no_rotate (no refresh_token in the answer), no_expires_in,
                    garbage (200 with a non-JSON body), no_access_token,
                    aadsts:N:ERROR (Microsoft's refusal: error_codes [N], a
                    long "AADSTSN: ..." description), google:ERROR (Google's).
                    introspect: ok, inactive (always false), malformed, 500, 401,
                    no_active, huge (2 MiB answer).  delay_ms: sleep before
                    answering /token and /introspect (the request is
                    answered in the mode that held when it arrived).
                    jwks_hold: true holds every GET /jwks (counted as it
                    arrives) until false releases them (60 s at most).
                    jwks_status: N answers GET /jwks with HTTP N (0: the set).
                    discovery_issuer: S names issuer S in the discovery
                    documents ("": the real one).
  POST /reset       counters to zero, modes to ok, delay 0, /jwks not held
TLS (with --tls-cert, --tls-key, --tls-port-file)
  the same endpoints and state on a second port over TLS (the first stays
  plain HTTP for the control requests): an https token endpoint
Forward proxy (with --proxy)
  GET|POST http://HOST:PORT/...   sent on to a loopback HOST (absolute form)
  CONNECT HOST:PORT               a tunnel to a loopback HOST
Helpers for HTTP client tests
  GET|POST /echo    {"method", "path", "query", "headers": {lower-case: value},
                    "body"}: what the request looked like
  GET  /status/NNN  answers HTTP NNN with {"error": "status NNN"}
  GET  /big?n=N     N bytes of "x" (with Content-Length; &nolength=1: without)
  GET  /redirect    302 to /echo
  GET  /slow?ms=N   answers after N ms (at most 60000)
(and the provider-shaped endpoints of IDP_DOC, further down)
"""
import argparse
import base64
import hmac
import http.server
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

MAX_BODY = 64 * 1024
LOOPBACK = ("127.0.0.1", "::1", "localhost")


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.issuer = None
        self.jwks_gate = threading.Event()
        self.reset()
        self.refresh_tokens = {}   # token -> {"user", "scope"}
        self.access_tokens = {}    # token -> {"claims", "revoked"}

    def reset(self):
        self.counts = {}
        self.refreshes = 0
        self.refresh_failures = 0
        self.introspections = 0
        self.token_mode = "ok"
        self.introspect_mode = "ok"
        self.delay_ms = 0
        self.jwks_status = 0
        self.discovery_issuer = ""
        self.jwks_gate.set()

    def count(self, path):
        with self.lock:
            self.counts[path] = self.counts.get(path, 0) + 1


def mint(state, claims, kid=None, alg=None, header=None):
    a = state.args
    cmd = [a.mint, "sign", "--keys", a.keys, "--kid", kid or a.kid, "--claims",
           json.dumps(claims)]
    if alg:
        cmd += ["--alg", alg]
    if header:
        cmd += ["--header", json.dumps(header)]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    if out.returncode != 0:
        raise RuntimeError("oauth_mint failed: " + out.stderr.decode(errors="replace"))
    return out.stdout.decode().strip()


def standard_claims(state, user, scope, ttl):
    now = int(time.time())
    return {"iss": state.issuer, "sub": user, "email": user, "email_verified": True,
            "preferred_username": user,
            "aud": state.args.audience, "scope": scope, "client_id": state.args.client_id,
            "iat": now, "nbf": now, "exp": now + ttl, "jti": secrets.token_hex(8)}


def new_grant(state, user, scope, ttl):
    """An access token and a refresh token, registered; the caller holds no lock."""
    claims = standard_claims(state, user, scope, ttl)
    at = mint(state, claims)
    rt = secrets.token_urlsafe(24)
    with state.lock:
        state.access_tokens[at] = {"claims": claims, "revoked": False}
        state.refresh_tokens[rt] = {"user": user, "scope": scope}
    return at, rt, claims


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "sasl-mechs-oauth-test/1"
    protocol_version = "HTTP/1.0"
    timeout = 30

    def log_message(self, fmt, *args):
        if self.server.state.args.verbose:
            sys.stderr.write("oauth_server: " + (fmt % args) + "\n")

    # ---- plumbing ----
    def send(self, code, obj=None, raw=None, headers=None, length=True):
        body = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        if length:
            self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        n = self.headers.get("Content-Length")
        if n is None:
            return b""
        n = int(n)
        if n < 0 or n > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(n)

    def form(self, body):
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return None
        try:
            pairs = urllib.parse.parse_qsl(body.decode("ascii"), keep_blank_values=True,
                                           strict_parsing=bool(body))
        except (ValueError, UnicodeDecodeError):
            return None
        out = {}
        for k, v in pairs:
            if k in out:   # RFC 6749 3.2/3.1: parameters MUST NOT be repeated
                return None
            out[k] = v
        return out

    def client_auth(self, params, want_id, want_secret):
        """RFC 6749 2.3.1: Basic (each part form-urlencoded) or in the body, not both."""
        auth = self.headers.get("Authorization")
        body_id = params.pop("client_id", None)
        body_secret = params.pop("client_secret", None)
        if auth:
            if body_secret is not None:
                return "invalid_request"
            scheme, _, cred = auth.partition(" ")
            if scheme.lower() != "basic":
                return "invalid_client"
            try:
                raw = base64.b64decode(cred.strip(), validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                return "invalid_client"
            uid, sep, secret = raw.partition(":")
            if not sep:
                return "invalid_client"
            uid = urllib.parse.unquote_plus(uid)
            secret = urllib.parse.unquote_plus(secret)
            if body_id is not None and body_id != uid:
                return "invalid_request"
        else:
            uid, secret = body_id, body_secret
        if uid is None or not hmac.compare_digest(uid.encode(), want_id.encode()):
            return "invalid_client"
        if want_secret is None:   # a public client
            return None
        if secret is None or not hmac.compare_digest(secret.encode(), want_secret.encode()):
            return "invalid_client"
        return None

    @staticmethod
    def delay(ms):
        if ms > 0:
            time.sleep(min(ms, 60000) / 1000.0)

    # ---- dispatch ----
    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_CONNECT(self):
        self.proxy_connect()

    def dispatch(self, method):
        st = self.server.state
        if st.args.proxy and self.path.startswith("http://"):
            self.proxy_forward(method)
            return
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        st.count(path)
        try:
            body = self.read_body() if method == "POST" else b""
        except ValueError:
            self.send(413, {"error": "request too large"})
            return
        try:
            route = ROUTES.get((method, path))
            if route is None and path.startswith("/status/") and method == "GET":
                route = Handler.h_status
            if route is None:
                route = idp_route(method, path)
            if route is None:
                self.send(404, {"error": "not found"})
                return
            route(self, url, body)
        except BrokenPipeError:
            pass
        except Exception as e:  # a test server: report, keep serving
            sys.stderr.write("oauth_server: %s %s: %r\n" % (method, path, e))
            try:
                self.send(500, {"error": "server_error"})
            except OSError:
                pass

    # ---- OAuth endpoints ----
    def h_jwks(self, url, body):
        st = self.server.state
        st.jwks_gate.wait(60)
        if st.jwks_status:
            self.send(st.jwks_status, {"error": "status %d" % st.jwks_status})
            return
        with open(os.path.join(self.server.state.args.keys, "jwks.json"), "rb") as f:
            self.send(200, raw=f.read())

    def h_discovery(self, url, body):
        iss = self.server.state.issuer
        self.send(200, {
            "issuer": self.server.state.discovery_issuer or iss, "jwks_uri": iss + "/jwks", "token_endpoint": iss + "/token",
            "introspection_endpoint": iss + "/introspect",
            "grant_types_supported": ["refresh_token"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                      "client_secret_post"],
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic",
                                                              "client_secret_post"],
        })

    def h_token(self, url, body):
        st = self.server.state
        a = st.args
        params = self.form(body)
        if params is None:
            self.send(400, {"error": "invalid_request", "error_description": "bad form body"})
            return
        err = self.client_auth(params, a.client_id, None if a.public else a.client_secret)
        if err:
            with st.lock:
                st.refresh_failures += 1
            code = 401 if err == "invalid_client" else 400
            self.send(code, {"error": err}, headers={"WWW-Authenticate": 'Basic realm="test"'}
                      if code == 401 else None)
            return
        if params.get("grant_type") != "refresh_token":
            self.send(400, {"error": "unsupported_grant_type"})
            return
        rt = params.get("refresh_token", "")
        with st.lock:   # the mode as the request arrived, then the delay
            mode = st.token_mode
            delay_ms = st.delay_ms
        self.delay(delay_ms)
        with st.lock:
            grant = st.refresh_tokens.get(rt)
            if mode == "500":
                grant = None
            elif grant is not None and mode not in ("invalid_grant", "garbage"):
                del st.refresh_tokens[rt]   # each refresh token is good once
        if mode == "500":
            self.send(500, {"error": "server_error"})
            return
        if self.provider_refusal(mode):
            return
        if mode == "garbage":
            self.send(200, raw=b"<html>not json</html>")
            return
        if grant is None or mode == "invalid_grant":
            with st.lock:
                st.refresh_failures += 1
            self.send(400, {"error": "invalid_grant",
                            "error_description": "refresh token unknown, used or revoked"})
            return
        scope = params.get("scope") or grant["scope"]
        ttl = a.token_ttl
        claims = standard_claims(st, grant["user"], scope, ttl)
        at = mint(st, claims)
        answer = {"access_token": at, "token_type": "Bearer", "expires_in": ttl,
                  "scope": scope}
        with st.lock:
            st.access_tokens[at] = {"claims": claims, "revoked": False}
            if mode == "no_rotate":
                st.refresh_tokens[rt] = grant   # the old one stays good
            else:
                new_rt = secrets.token_urlsafe(24)
                st.refresh_tokens[new_rt] = grant
                answer["refresh_token"] = new_rt
            st.refreshes += 1
        if mode == "no_expires_in":
            del answer["expires_in"]
        if mode == "no_access_token":
            del answer["access_token"]
        self.send(200, answer)

    def provider_refusal(self, mode):
        """Token modes that refuse as a real provider does: "aadsts:N:ERROR"
        (Microsoft's identity platform: HTTP 400, or 401 for invalid_client,
        error_codes [N] and a long error_description starting "AADSTSN:",
        with trace and correlation ids), "google:ERROR" (Google's token
        endpoint: a short error_description).  True when it answered."""
        if mode.startswith("aadsts:"):
            _, num, err = mode.split(":", 2)
            self.send(401 if err == "invalid_client" else 400, {
                "error": err,
                "error_description": "AADSTS%s: The request was refused (loopback test "
                                     "provider). Trace ID: %s Correlation ID: %s "
                                     "Timestamp: 2026-12-06 12:00:00Z"
                                     % (num, secrets.token_hex(16), secrets.token_hex(16)),
                "error_codes": [int(num)],
                "timestamp": "2026-12-06 12:00:00Z",
                "trace_id": secrets.token_hex(16),
                "correlation_id": secrets.token_hex(16),
                "error_uri": "https://login.microsoftonline.com/error?code=" + num})
        elif mode.startswith("google:"):
            err = mode.split(":", 1)[1]
            desc = {"invalid_grant": "Token has been expired or revoked.",
                    "invalid_client": "The OAuth client was not found."}.get(err, "Bad Request")
            self.send(401 if err == "invalid_client" else 400,
                      {"error": err, "error_description": desc})
        else:
            return False
        with self.server.state.lock:
            self.server.state.refresh_failures += 1
        return True

    # ---- --proxy: a forward proxy (corporate networks) ----
    def proxy_count(self, what):
        st = self.server.state
        with st.lock:
            st.counts["proxy " + what] = st.counts.get("proxy " + what, 0) + 1

    def proxy_forward(self, method):
        """An absolute-form request (http://host:port/path): sent on to a
        loopback host, the answer relayed; counted as "proxy http"."""
        import http.client
        url = urllib.parse.urlsplit(self.path)
        if url.hostname not in LOOPBACK:
            self.send(403, {"error": "the test proxy forwards to loopback only"})
            return
        self.proxy_count("http")
        body = self.read_body() if method == "POST" else None
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("proxy-connection", "connection", "host")}
        c = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=30)
        try:
            c.request(method, (url.path or "/") + ("?" + url.query if url.query else ""),
                      body=body, headers=headers)
            r = c.getresponse()
            data = r.read()
            self.send_response(r.status)
            for k, v in r.getheaders():
                if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        finally:
            c.close()

    def proxy_connect(self):
        """CONNECT host:port: a tunnel to a loopback host; counted as
        "proxy connect"."""
        import select
        import socket
        if not self.server.state.args.proxy:
            self.send(405, {"error": "not a proxy"})
            return
        host, _, port = self.path.rpartition(":")
        if host.strip("[]") not in LOOPBACK:
            self.send(403, {"error": "the test proxy tunnels to loopback only"})
            return
        self.proxy_count("connect")
        up = socket.create_connection((host.strip("[]"), int(port)), timeout=30)
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        socks = [self.connection, up]
        try:
            while True:
                ready, _, _ = select.select(socks, [], [], 30)
                if not ready:
                    break
                for s_ in ready:
                    data = s_.recv(65536)
                    if not data:
                        return
                    (up if s_ is self.connection else self.connection).sendall(data)
        finally:
            up.close()
            self.close_connection = True

    def h_introspect(self, url, body):
        st = self.server.state
        a = st.args
        params = self.form(body)
        if params is None:
            self.send(400, {"error": "invalid_request"})
            return
        with st.lock:   # the mode as the request arrived, then the delay
            st.introspections += 1
            mode = st.introspect_mode
            delay_ms = st.delay_ms
        self.delay(delay_ms)
        if mode == "401" or self.client_auth(params, a.rs_id, a.rs_secret):
            self.send(401, {"error": "invalid_client"},
                      headers={"WWW-Authenticate": 'Basic realm="test"'})
            return
        if mode == "500":
            self.send(500, {"error": "server_error"})
            return
        if mode == "malformed":
            self.send(200, raw=b'{"active": true, "active": true}')
            return
        if mode == "no_active":
            self.send(200, {"sub": "nobody"})
            return
        if mode == "huge":
            self.send(200, raw=b'{"active": false, "pad": "' + b"x" * (2 << 20) + b'"}')
            return
        tok = params.get("token")
        if tok is None:
            self.send(400, {"error": "invalid_request"})
            return
        with st.lock:
            rec = st.access_tokens.get(tok)
            if rec is not None:
                rec = {"claims": dict(rec["claims"]), "revoked": rec["revoked"]}
        exp = rec["claims"].get("exp") if rec else None
        if (mode == "inactive" or rec is None or rec["revoked"]
                or (isinstance(exp, (int, float)) and exp <= time.time())):
            self.send(200, {"active": False})
            return
        answer = {"active": True, "token_type": "Bearer"}
        answer.update(rec["claims"])
        self.send(200, answer)

    # ---- control ----
    def json_body(self, body):
        if not body:
            return {}
        obj = json.loads(body)
        if not isinstance(obj, dict):
            raise ValueError("JSON object expected")
        return obj

    def h_stats(self, url, body):
        st = self.server.state
        with st.lock:
            self.send(200, {"requests": dict(st.counts), "refreshes": st.refreshes,
                            "refresh_failures": st.refresh_failures,
                            "introspections": st.introspections,
                            "active_refresh_tokens": len(st.refresh_tokens)})

    def h_grant(self, url, body):
        st = self.server.state
        req = self.json_body(body)
        ttl = int(req.get("ttl", st.args.token_ttl))
        at, rt, claims = new_grant(st, req.get("user", st.args.user),
                                   req.get("scope", st.args.scope), ttl)
        self.send(200, {"access_token": at, "refresh_token": rt, "expires_in": ttl,
                        "expires_at": claims["exp"]})

    def h_mint(self, url, body):
        st = self.server.state
        req = self.json_body(body)
        claims = dict(req.get("claims", {}))
        if "ttl" in req:
            now = int(time.time())
            claims.setdefault("iss", st.issuer)
            claims.setdefault("iat", now)
            claims.setdefault("exp", now + int(req["ttl"]))
        tok = mint(st, claims, req.get("kid"), req.get("alg"), req.get("header"))
        with st.lock:
            st.access_tokens[tok] = {"claims": claims, "revoked": False}
        self.send(200, {"access_token": tok, "claims": claims})

    def h_revoke(self, url, body):
        st = self.server.state
        tok = self.json_body(body).get("token", "")
        with st.lock:
            found = False
            if tok in st.access_tokens:
                st.access_tokens[tok]["revoked"] = True
                found = True
            if tok in st.refresh_tokens:
                del st.refresh_tokens[tok]
                found = True
        self.send(200, {"revoked": found})

    def h_mode(self, url, body):
        st = self.server.state
        req = self.json_body(body)
        with st.lock:
            if "token" in req:
                st.token_mode = str(req["token"])
            if "introspect" in req:
                st.introspect_mode = str(req["introspect"])
            if "delay_ms" in req:
                st.delay_ms = int(req["delay_ms"])
            if "jwks_status" in req:
                st.jwks_status = int(req["jwks_status"])
            if "discovery_issuer" in req:
                st.discovery_issuer = str(req["discovery_issuer"])
            if "jwks_hold" in req:
                if req["jwks_hold"]:
                    st.jwks_gate.clear()
                else:
                    st.jwks_gate.set()
            self.send(200, {"token": st.token_mode, "introspect": st.introspect_mode,
                            "delay_ms": st.delay_ms})

    def h_reset(self, url, body):
        st = self.server.state
        with st.lock:
            st.reset()
        self.send(200, {"reset": True})

    # ---- HTTP client helpers ----
    def h_echo(self, url, body):
        self.send(200, {"method": self.command, "path": url.path, "query": url.query,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body.decode("latin-1")})

    def h_status(self, url, body):
        try:
            code = int(url.path[len("/status/"):])
        except ValueError:
            code = 400
        if code < 200 or code > 599:
            code = 400
        self.send(code, {"error": "status %d" % code})

    def h_big(self, url, body):
        q = urllib.parse.parse_qs(url.query)
        n = min(int(q.get("n", ["0"])[0]), 64 << 20)
        nolength = q.get("nolength", ["0"])[0] == "1"
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if not nolength:
            self.send_header("Content-Length", str(n))
        self.end_headers()
        chunk = b"x" * 65536
        left = n
        while left > 0:
            k = min(left, len(chunk))
            self.wfile.write(chunk[:k])
            left -= k

    def h_redirect(self, url, body):
        self.send(302, {"to": "/echo"}, headers={"Location": "/echo"})

    def h_slow(self, url, body):
        q = urllib.parse.parse_qs(url.query)
        time.sleep(min(int(q.get("ms", ["1000"])[0]), 60000) / 1000.0)
        self.send(200, {"slow": True})


ROUTES = {
    ("GET", "/jwks"): Handler.h_jwks,
    ("GET", "/.well-known/openid-configuration"): Handler.h_discovery,
    ("GET", "/.well-known/oauth-authorization-server"): Handler.h_discovery,
    ("POST", "/token"): Handler.h_token,
    ("POST", "/introspect"): Handler.h_introspect,
    ("GET", "/stats"): Handler.h_stats,
    ("POST", "/grant"): Handler.h_grant,
    ("POST", "/mint"): Handler.h_mint,
    ("POST", "/revoke"): Handler.h_revoke,
    ("POST", "/mode"): Handler.h_mode,
    ("POST", "/reset"): Handler.h_reset,
    ("GET", "/echo"): Handler.h_echo,
    ("POST", "/echo"): Handler.h_echo,
    ("GET", "/big"): Handler.h_big,
    ("GET", "/redirect"): Handler.h_redirect,
    ("GET", "/slow"): Handler.h_slow,
}


# ---- Provider-shaped endpoints: Microsoft Entra, Google, a generic OpenID
# provider (for sasl-mechs-token, issue 15).  Separate handlers with their own
# state; see IDP_DOC below for what they do.
IDP_DOC = """
Provider-shaped endpoints (the token tool's tests)
  /ms/TENANT/oauth2/v2.0/devicecode   POST  RFC 8628 device authorization
  /ms/TENANT/oauth2/v2.0/token        POST  device_code, refresh_token (rotated on
                    use), client_credentials (secret or private_key_jwt assertion
                    checked against the registered certificate, scope */.default),
                    authorization_code; Microsoft's error shape: error,
                    error_description "AADSTSnnnnn: ...\\r\\nTrace ID: ...",
                    error_codes [n], timestamp, trace_id, correlation_id
  /ms/TENANT/oauth2/v2.0/authorize    GET   as Google's, below
  /google/o/oauth2/v2/auth            GET   checks client_id, a loopback
                    redirect_uri, response_type=code, PKCE S256; then redirects
                    (302) to redirect_uri?code=..&state=.. (the user consents)
  /google/token     POST  authorization_code (PKCE verified, client_secret_post),
                    refresh_token (not rotated, as Google); Google's error shape
  /google/revoke    POST  RFC 7009 (token=...): 200, or 400 invalid_token
  /generic/.well-known/openid-configuration, /generic/device, /generic/token,
  /generic/authorize, /generic/revoke: the same with RFC 6749 error shapes
Their test control
  POST /idp/config  {"client_id", "client_secret", "cert_pem" (the certificate
                    registered for private_key_jwt), "interval", "device_ttl",
                    "token_ttl", "user"}
  POST /idp/device  {"user_code", "action": approve|deny|expire, "user"}: what
                    the user does on the verification page
  POST /idp/mode    {"slow_down": N (the next N polls), "authorize": ok|deny|
                    bad_state, "token": ok|500|garbage, "answer": {"status": N,
                    "body": {...}} (the next token or device request gets exactly
                    that, for malformed answers)}
  GET  /idp/stats   polls, too_fast (polls sooner than the interval), slow_downs,
                    refreshes, cc_secret, cc_assertion, codes, revoked, active_refresh
"""


class Idp:
    lock = threading.Lock()
    conf = {"client_id": "tool-client", "client_secret": "tool-secret", "cert_pem": None,
            "interval": 1, "device_ttl": 60, "token_ttl": 3600, "user": "user@example.com"}
    devices = {}    # device_code -> {user_code, client_id, scope, state, expires, last_poll}
    codes = {}      # code -> {client_id, redirect_uri, challenge, scope, flavor}
    refresh = {}    # refresh token -> {user, scope, client_id}
    jtis = set()
    stats = {"polls": 0, "too_fast": 0, "slow_downs": 0, "refreshes": 0, "cc_secret": 0,
             "cc_assertion": 0, "codes": 0, "revoked": 0}
    modes = {"slow_down": 0, "authorize": "ok", "token": "ok", "answer": None}


def idp_b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def idp_b64e(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def idp_error(h, flavor, http, error, code, text):
    """An error answer in the provider's own shape."""
    if flavor == "ms":
        trace, corr = secrets.token_hex(16), secrets.token_hex(16)
        ts = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
        h.send(http, {"error": error,
                      "error_description": "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: "
                                           "%s\r\nTimestamp: %s" % (code, text, trace, corr, ts),
                      "error_codes": [code], "timestamp": ts, "trace_id": trace,
                      "correlation_id": corr,
                      "error_uri": "https://login.microsoftonline.com/error?code=%d" % code})
    elif flavor == "google":
        h.send(http, {"error": error, "error_description": text})
    else:
        h.send(http, {"error": error, "error_description": text})


def idp_id_token(user, client_id, iss):
    now = int(time.time())
    hdr = idp_b64e(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    cl = idp_b64e(json.dumps({"iss": iss, "aud": client_id, "sub": user, "email": user,
                              "preferred_username": user, "iat": now,
                              "exp": now + 3600}).encode())
    return hdr + "." + cl + "."


def idp_tokens(h, flavor, client_id, user, scope, refresh=True):
    """An access token (a JWT as the server's own, see below), a refresh token."""
    ttl = int(Idp.conf["token_ttl"])
    # a JWT signed with the server's key (sub: the user, or the client for an
    # app-only token), so that our server plugin can check it against /jwks
    st = h.server.state
    claims = standard_claims(st, user or client_id, scope, ttl)
    at = mint(st, claims)
    with st.lock:
        st.access_tokens[at] = {"claims": claims, "revoked": False}
    ans = {"token_type": "Bearer", "expires_in": ttl, "scope": scope, "access_token": at}
    if flavor == "ms":
        ans["ext_expires_in"] = ttl
    if refresh:
        rt = "rt-" + secrets.token_urlsafe(32)
        with Idp.lock:
            Idp.refresh[rt] = {"user": user, "scope": scope, "client_id": client_id}
        ans["refresh_token"] = rt
    if user and "openid" in scope.split():
        ans["id_token"] = idp_id_token(user, client_id, h.server.state.issuer)
    return ans


def idp_openssl_verify(cert_pem, data, sig):
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        paths = {n: os.path.join(d, n) for n in ("cert", "pub", "data", "sig")}
        for n, v in (("cert", cert_pem.encode()), ("data", data), ("sig", sig)):
            with open(paths[n], "wb") as f:
                f.write(v)
        r = subprocess.run(["openssl", "x509", "-in", paths["cert"], "-pubkey", "-noout",
                            "-out", paths["pub"]], capture_output=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError("openssl x509: " + r.stderr.decode(errors="replace"))
        r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", paths["pub"],
                            "-signature", paths["sig"], paths["data"]],
                           capture_output=True, timeout=30)
        return r.returncode == 0


def idp_check_assertion(h, params, client_id, token_url):
    """RFC 7523 2.2 and Microsoft's rules; None when good, else the error text."""
    import ssl
    if params.pop("client_assertion_type", "") != \
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
        return "client_assertion_type is not jwt-bearer"
    jwt = params.pop("client_assertion", "")
    parts = jwt.split(".")
    if len(parts) != 3:
        return "client assertion is not a compact JWS"
    try:
        hdr = json.loads(idp_b64d(parts[0]))
        cl = json.loads(idp_b64d(parts[1]))
        sig = idp_b64d(parts[2])
    except (ValueError, TypeError):
        return "client assertion does not decode"
    cert = Idp.conf["cert_pem"]
    if not cert:
        return "no certificate registered"
    der = ssl.PEM_cert_to_DER_cert(cert)
    import hashlib
    if hdr.get("alg") != "RS256":
        return "alg is not RS256"
    if hdr.get("x5t#S256") != idp_b64e(hashlib.sha256(der).digest()) \
            or hdr.get("x5t") != idp_b64e(hashlib.sha1(der).digest()):
        return "x5t#S256/x5t do not name the registered certificate"
    now = time.time()
    if cl.get("iss") != client_id or cl.get("sub") != client_id:
        return "iss/sub are not the client id"
    if cl.get("aud") != token_url:
        return "aud is not the token endpoint"
    if not isinstance(cl.get("exp"), int) or cl["exp"] < now or cl["exp"] > now + 600:
        return "exp missing, past or too far"
    with Idp.lock:
        if not cl.get("jti") or cl["jti"] in Idp.jtis:
            return "jti missing or replayed"
        Idp.jtis.add(cl["jti"])
    if not idp_openssl_verify(cert, (parts[0] + "." + parts[1]).encode(), sig):
        return "signature does not verify"
    return None


def idp_flavor(path):
    if path.startswith("/ms/"):
        return "ms"
    if path.startswith("/google/"):
        return "google"
    return "generic"


def idp_canned(h):
    """The answer set with /idp/mode "answer", once; True when sent."""
    with Idp.lock:
        ans, Idp.modes["answer"] = Idp.modes["answer"], None
    if ans is None:
        return False
    h.send(int(ans.get("status", 200)), ans.get("body"))
    return True


def idp_device(h, url, body):
    flavor = idp_flavor(url.path)
    if idp_canned(h):
        return
    params = h.form(body)
    if params is None:
        return idp_error(h, flavor, 400, "invalid_request", 900144, "bad form body")
    cid = params.get("client_id", "")
    if cid != Idp.conf["client_id"]:
        return idp_error(h, flavor, 400, "unauthorized_client", 700016,
                         "Application with identifier '%s' was not found in the directory "
                         "'test'." % cid)
    dc = "dc-" + secrets.token_urlsafe(32)
    uc = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(9))
    base = h.server.state.issuer
    with Idp.lock:
        Idp.devices[dc] = {"user_code": uc, "client_id": cid, "scope": params.get("scope", ""),
                           "state": "pending", "user": None,
                           "expires": time.time() + int(Idp.conf["device_ttl"]),
                           "last_poll": 0.0}
    verify = base + ("/ms/devicelogin" if flavor == "ms" else "/device")
    ans = {"device_code": dc, "user_code": uc, "verification_uri": verify,
           "expires_in": int(Idp.conf["device_ttl"]), "interval": int(Idp.conf["interval"])}
    if flavor == "ms":
        ans["message"] = ("To sign in, use a web browser to open the page %s and enter the "
                          "code %s to authenticate." % (verify, uc))
    h.send(200, ans)


def idp_client_ok(h, flavor, params, token_url):
    """Client authentication: secret (Basic or body), assertion, or public."""
    cid = params.get("client_id")
    if "client_assertion" in params:
        why = idp_check_assertion(h, params, cid, token_url)
        if why:
            idp_error(h, flavor, 401, "invalid_client", 700027,
                      "Client assertion failed signature validation: " + why)
            return None
        params.pop("client_id", None)
        return "assertion"
    has_secret = "client_secret" in params or h.headers.get("Authorization")
    if not has_secret and params.get("grant_type") != "client_credentials" \
            and flavor != "google" and cid == Idp.conf["client_id"]:
        params.pop("client_id", None)
        return "public"
    err = h.client_auth(params, Idp.conf["client_id"], Idp.conf["client_secret"])
    if err:
        idp_error(h, flavor, 401 if err == "invalid_client" else 400, err, 7000215,
                  "Invalid client secret provided.")
        return None
    return "secret"


def idp_token(h, url, body):
    flavor = idp_flavor(url.path)
    if idp_canned(h):
        return
    params = h.form(body)
    if params is None:
        return idp_error(h, flavor, 400, "invalid_request", 900144, "bad form body")
    with Idp.lock:
        mode = Idp.modes["token"]
    if mode == "500":
        return h.send(500, {"error": "server_error"})
    if mode == "garbage":
        return h.send(200, raw=b"<html>not json</html>")
    token_url = h.server.state.issuer + url.path
    how = idp_client_ok(h, flavor, params, token_url)
    if how is None:
        return
    gt = params.get("grant_type")
    cid = Idp.conf["client_id"]
    if gt == "urn:ietf:params:oauth:grant-type:device_code":
        return idp_poll(h, flavor, params.get("device_code", ""), cid)
    if gt == "refresh_token":
        rt = params.get("refresh_token", "")
        with Idp.lock:
            g = Idp.refresh.get(rt)
            if g is not None and flavor != "google":
                del Idp.refresh[rt]   # rotated on use
            if g is not None:
                Idp.stats["refreshes"] += 1
        if g is None:
            return idp_error(h, flavor, 400, "invalid_grant", 70008,
                             "The provided authorization code or refresh token has expired "
                             "due to inactivity." if flavor == "ms" else "Bad Request")
        ans = idp_tokens(h, flavor, cid, g["user"], params.get("scope") or g["scope"],
                         refresh=flavor != "google")
        if flavor == "google":
            ans.pop("id_token", None)
        return h.send(200, ans)
    if gt == "client_credentials":
        if how not in ("secret", "assertion"):
            return idp_error(h, flavor, 401, "invalid_client", 7000216,
                             "'client_assertion', 'client_secret' or 'request' is required "
                             "for the 'client_credentials' grant type.")
        scope = params.get("scope", "")
        if flavor == "ms" and not scope.endswith("/.default"):
            return idp_error(h, flavor, 400, "invalid_scope", 1002012,
                             "The provided value for scope %s is not valid. Client credential "
                             "flows must have a scope value with /.default suffixed to the "
                             "resource identifier (application ID URI)." % scope)
        with Idp.lock:
            Idp.stats["cc_" + how] += 1
        return h.send(200, idp_tokens(h, flavor, cid, None, scope, refresh=False))
    if gt == "authorization_code":
        code = params.get("code", "")
        with Idp.lock:
            c = Idp.codes.pop(code, None)
        if c is None or c["redirect_uri"] != params.get("redirect_uri"):
            return idp_error(h, flavor, 400, "invalid_grant", 70000,
                             "Bad Request" if flavor == "google" else
                             "The provided authorization code is invalid or expired.")
        import hashlib
        v = params.get("code_verifier", "")
        if not (43 <= len(v) <= 128) or \
                idp_b64e(hashlib.sha256(v.encode()).digest()) != c["challenge"]:
            return idp_error(h, flavor, 400, "invalid_grant", 501481,
                             "The code_verifier does not match the code_challenge supplied "
                             "in the authorization request.")
        return h.send(200, idp_tokens(h, flavor, cid, Idp.conf["user"], c["scope"]))
    return idp_error(h, flavor, 400, "unsupported_grant_type", 70003,
                     "The app requested an unsupported grant type.")


def idp_poll(h, flavor, dc, cid):
    now = time.time()
    with Idp.lock:
        Idp.stats["polls"] += 1
        d = Idp.devices.get(dc)
        if d is None:
            err = ("invalid_grant", 70000, "The provided device code is invalid.")
        elif now > d["expires"] or d["state"] == "expired":
            err = ("expired_token", 70019, "Verification code expired.")
        elif now - d["last_poll"] < int(Idp.conf["interval"]) - 0.05:
            Idp.stats["too_fast"] += 1
            Idp.stats["slow_downs"] += 1
            err = ("slow_down", 70016, "Polling too fast.")
        elif Idp.modes["slow_down"] > 0:
            Idp.modes["slow_down"] -= 1
            Idp.stats["slow_downs"] += 1
            err = ("slow_down", 70016, "Slow down.")
        elif d["state"] == "denied":
            err = ("authorization_declined" if flavor == "ms" else "access_denied", 70000,
                   "The end user denied the authorization request.")
        elif d["state"] == "pending":
            err = ("authorization_pending", 70016,
                   "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
        else:
            err = None
            del Idp.devices[dc]
        if d is not None:
            d["last_poll"] = now
    if err:
        return idp_error(h, flavor, 400, err[0], err[1], err[2])
    return h.send(200, idp_tokens(h, flavor, cid, d["user"], d["scope"]))


def idp_authorize(h, url, body):
    flavor = idp_flavor(url.path)
    q = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
    ru = q.get("redirect_uri", "")
    ok_ru = urllib.parse.urlsplit(ru)
    if q.get("client_id") != Idp.conf["client_id"] or ok_ru.scheme != "http" \
            or ok_ru.hostname not in ("127.0.0.1", "localhost", "::1"):
        return h.send(400, raw=b"<html>Error 400: redirect_uri_mismatch or unknown client"
                                b"</html>")
    if q.get("response_type") != "code" or q.get("code_challenge_method") != "S256" \
            or len(q.get("code_challenge", "")) != 43 or not q.get("state"):
        return h.send(400, raw=b"<html>Error 400: invalid_request (PKCE S256 and state "
                                b"required)</html>")
    with Idp.lock:
        mode = Idp.modes["authorize"]
    state = q["state"] if mode != "bad_state" else "forged-" + secrets.token_hex(4)
    if mode == "deny":
        loc = ru + "?" + urllib.parse.urlencode({"error": "access_denied", "state": state})
    else:
        code = "code-" + secrets.token_urlsafe(24)
        with Idp.lock:
            Idp.codes[code] = {"redirect_uri": ru, "challenge": q["code_challenge"],
                               "scope": q.get("scope", "")}
            Idp.stats["codes"] += 1
        loc = ru + "?" + urllib.parse.urlencode({"state": state, "code": code,
                                                 "scope": q.get("scope", "")})
    h.send(302, {"to": loc}, headers={"Location": loc})


def idp_revoke(h, url, body):
    flavor = idp_flavor(url.path)
    params = h.form(body)
    if params is None:
        return idp_error(h, flavor, 400, "invalid_request", 0, "bad form body")
    if flavor != "google" and idp_client_ok(h, flavor, params, "") is None:
        return
    tok = params.get("token", "")
    with Idp.lock:
        found = Idp.refresh.pop(tok, None) is not None
        if found:
            Idp.stats["revoked"] += 1
    if not found and flavor == "google":
        return h.send(400, {"error": "invalid_token",
                            "error_description": "Token expired or revoked"})
    h.send(200, {})


def idp_discovery(h, url, body):
    iss = h.server.state.issuer + "/generic"
    h.send(200, {"issuer": iss, "token_endpoint": iss + "/token",
                 "authorization_endpoint": iss + "/authorize",
                 "device_authorization_endpoint": iss + "/device",
                 "revocation_endpoint": iss + "/revoke",
                 "code_challenge_methods_supported": ["S256"],
                 "grant_types_supported": ["authorization_code", "refresh_token",
                                           "client_credentials",
                                           "urn:ietf:params:oauth:grant-type:device_code"]})


def idp_config(h, url, body):
    req = h.json_body(body)
    with Idp.lock:
        for k in Idp.conf:
            if k in req:
                Idp.conf[k] = req[k]
    h.send(200, {k: v for k, v in Idp.conf.items() if k != "cert_pem"})


def idp_device_action(h, url, body):
    req = h.json_body(body)
    with Idp.lock:
        for d in Idp.devices.values():
            if d["user_code"] == req.get("user_code"):
                act = req.get("action", "approve")
                d["state"] = {"approve": "approved", "deny": "denied",
                              "expire": "expired"}.get(act, "pending")
                d["user"] = req.get("user", Idp.conf["user"])
                return h.send(200, {"state": d["state"]})
    h.send(404, {"error": "no such user code"})


def idp_mode(h, url, body):
    req = h.json_body(body)
    with Idp.lock:
        for k in Idp.modes:
            if k in req:
                Idp.modes[k] = req[k]
        h.send(200, dict(Idp.modes))


def idp_stats(h, url, body):
    with Idp.lock:
        s = dict(Idp.stats)
        s["active_refresh"] = len(Idp.refresh)
    h.send(200, s)


IDP_ROUTES = {
    ("POST", "/google/token"): idp_token,
    ("GET", "/google/o/oauth2/v2/auth"): idp_authorize,
    ("POST", "/google/revoke"): idp_revoke,
    ("GET", "/generic/.well-known/openid-configuration"): idp_discovery,
    ("POST", "/generic/device"): idp_device,
    ("POST", "/generic/token"): idp_token,
    ("GET", "/generic/authorize"): idp_authorize,
    ("POST", "/generic/revoke"): idp_revoke,
    ("POST", "/idp/config"): idp_config,
    ("POST", "/idp/device"): idp_device_action,
    ("POST", "/idp/mode"): idp_mode,
    ("GET", "/idp/stats"): idp_stats,
}


def idp_route(method, path):
    """Exact routes, then Microsoft's /ms/TENANT/oauth2/v2.0/ENDPOINT."""
    r = IDP_ROUTES.get((method, path))
    if r is not None:
        return r
    p = path.split("/")
    if len(p) == 6 and p[1] == "ms" and p[2] and p[3] == "oauth2" and p[4] == "v2.0":
        return {("POST", "devicecode"): idp_device, ("POST", "token"): idp_token,
                ("GET", "authorize"): idp_authorize}.get((method, p[5]))
    return None


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def start_tls_listener(args, host, state):
    """The same endpoints and state over TLS, on a second port (the first
    stays plain HTTP for the tests' control requests): an https token
    endpoint for CA bundle tests."""
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.tls_cert, args.tls_key)
    tls = Server((host, 0), Handler)
    tls.state = state
    tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
    threading.Thread(target=tls.serve_forever, kwargs={"poll_interval": 0.2},
                     daemon=True).start()
    if args.tls_port_file:
        tmp = args.tls_port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % tls.server_address[1])
        os.rename(tmp, args.tls_port_file)


def main():
    p = argparse.ArgumentParser(description="loopback OAuth test server (see the module doc)")
    p.add_argument("--mint", required=True, help="path of the oauth_mint program")
    p.add_argument("--keys", required=True, help="key directory (created and filled if empty)")
    p.add_argument("--kid", default="rsa", help="key that signs access tokens (default rsa)")
    p.add_argument("--host", default="127.0.0.1", help="loopback address to listen on")
    p.add_argument("--port", type=int, default=0, help="0: any free port")
    p.add_argument("--port-file", help="write the port here once listening")
    p.add_argument("--lifetime", type=float, default=900, help="exit after this many seconds")
    p.add_argument("--client-id", default="test-client")
    p.add_argument("--client-secret", default="test-secret")
    p.add_argument("--public", action="store_true", help="the token client has no secret")
    p.add_argument("--rs-id", default="test-rs", help="introspection client id")
    p.add_argument("--rs-secret", default="rs-secret", help="introspection client secret")
    p.add_argument("--user", default="user@example.com")
    p.add_argument("--scope", default="mail")
    p.add_argument("--audience", default="sasl-mechs-test")
    p.add_argument("--token-ttl", type=int, default=3600)
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--proxy", action="store_true",
                   help="also act as a forward proxy to loopback hosts: absolute-form "
                        "http:// requests and CONNECT tunnels, counted in /stats as "
                        "requests.\"proxy http\" and requests.\"proxy connect\"")
    p.add_argument("--tls-cert", help="PEM certificate (with --tls-key, --tls-port-file): "
                   "also serve the same endpoints over TLS on a second port")
    p.add_argument("--tls-key", help="PEM private key of --tls-cert")
    p.add_argument("--tls-port-file", help="the TLS port is written here, before --port-file")
    args = p.parse_args()

    if args.host not in LOOPBACK and not args.host.startswith("127."):
        sys.exit("oauth_server: refusing to listen on %s: loopback only" % args.host)
    host = "127.0.0.1" if args.host == "localhost" else args.host
    os.makedirs(args.keys, mode=0o700, exist_ok=True)
    if not os.path.exists(os.path.join(args.keys, "jwks.json")):
        r = subprocess.run([args.mint, "keygen", "--keys", args.keys], timeout=120)
        if r.returncode != 0:
            sys.exit("oauth_server: oauth_mint keygen failed")

    if ":" in host:
        Server.address_family = __import__("socket").AF_INET6
    httpd = Server((host, args.port), Handler)
    state = State(args)
    httpd.state = state
    port = httpd.server_address[1]
    hostpart = "[%s]" % host if ":" in host else host
    state.issuer = "http://%s:%d" % (hostpart, port)

    def stop(*_):
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    timer = threading.Timer(args.lifetime, stop)
    timer.daemon = True
    timer.start()

    if args.tls_cert:
        start_tls_listener(args, host, state)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)
    print("oauth_server: listening on %s:%d issuer %s" % (hostpart, port, state.issuer),
          flush=True)
    try:
        httpd.serve_forever(poll_interval=0.2)
    finally:
        httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
