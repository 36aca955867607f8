"""The WSGI application: host-prefix dispatch, routing registry, request parsing, usage headers,
throttling, fault injection, latency, fbtrace ids and the request log.

Hosts are told apart by the first path segment (all on one port):
  /                          graph.facebook.com
  /www.facebook.com/...      www.facebook.com       /graph.instagram.com/...  graph.instagram.com
  /api.instagram.com/...     api.instagram.com      /www.instagram.com/...    www.instagram.com
  /rupload.facebook.com/...  rupload.facebook.com   /__sandbox__/...          private controls
"""

from __future__ import annotations

import json
import re
import socket
import sys
import time
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from . import errors

GRAPH = "graph.facebook.com"
WWW_FB = "www.facebook.com"
IG_GRAPH = "graph.instagram.com"
IG_API = "api.instagram.com"
WWW_IG = "www.instagram.com"
RUPLOAD = "rupload.facebook.com"
CONTROL = "__sandbox__"
HOST_PREFIXES = (WWW_FB, IG_GRAPH, IG_API, WWW_IG, RUPLOAD, CONTROL)
GRAPH_HOSTS = (GRAPH, IG_GRAPH)
API_VERSION = "v25.0"  # default version, seeds/003
VERSION_RE = re.compile(r"^/(v\d+\.\d+)(?=/|$)")
REDACT = (
    "access_token",
    "client_secret",
    "fb_exchange_token",
    "input_token",
    "appsecret_proof",
    "code",
    "refresh_token",
)

# Parameters any Graph call may carry besides an endpoint's own: the token and its proof, field selection,
# paging (cursor, time and offset based), method override and response formatting (graph-api overview,
# securing-requests, paginated results). Anything else must be listed for the endpoint in Meta's specs.
COMMON_PARAMS = frozenset(
    {
        "access_token",
        "appsecret_proof",
        "appsecret_time",
        "fields",
        "limit",
        "after",
        "before",
        "offset",
        "since",
        "until",
        "method",
        "pretty",
        "format",
        "suppress_http_code",
        "debug",
        "locale",
        "date_format",
        "summary",
    }
)

# ------------------------------------------------------------------ routing registry
ROUTES: dict[str, list] = {}


def route(host: str, pattern: str, methods=("GET",), params=None):
    """Register ``handler(ctx, **groups)`` for ``pattern`` (regex on the path after host and version).

    ``params``: the parameters the path takes besides ``COMMON_PARAMS``; any other one is refused with
    Meta's code 100. Required for Graph hosts (graph.facebook.com, graph.instagram.com)."""
    rx = re.compile("^" + pattern + "$")
    if host in GRAPH_HOSTS and params is None:
        raise ValueError(f"route {host}{pattern} must declare the parameters it takes")
    allowed = None if params is None else frozenset(params)

    def deco(fn):
        ROUTES.setdefault(host, []).append((rx, tuple(m.upper() for m in methods), fn, allowed))
        return fn

    return deco


def check_params(ctx: Ctx, allowed) -> None:
    """Refuse a parameter the endpoint does not take, as Meta does (code 100)."""
    for name in list(ctx.params.keys()) + list(ctx.files.keys()):
        if name not in allowed and name not in COMMON_PARAMS:
            raise errors.unknown_parameter(name)


class Ctx:
    """One call (a real HTTP request or one operation of a batch)."""

    def __init__(
        self, state, method, host, path, params: MultiDict, base_url, files=None, headers=None, environ=None, body=b""
    ):
        self.state = state
        self.method = method.upper()
        self.host = host
        self.full_path = path
        m = VERSION_RE.match(path) if host in (GRAPH, IG_GRAPH, WWW_FB) else None
        self.version = m.group(1) if m else None
        self.path = path[m.end() :] if m else path
        if not self.path:
            self.path = "/"
        self.params = params
        self.files = files or {}
        self.headers = headers or {}
        self.environ = environ
        self.body = body
        self.json = None
        self.base_url = base_url.rstrip("/")
        self.touched: dict[str, str] = {}
        self.extra_headers: dict[str, str] = {}
        self.marks: list[dict] = []

    def mark(self, level: str, kind: str, detail: str):
        """Note something about this call in the request log: level "warning" (served, but not as the
        caller meant, e.g. unversioned) or "flag" (Meta documents the call as discouraged)."""
        self.marks.append({"level": level, "kind": kind, "detail": detail})

    @property
    def host_url(self) -> str:
        return self.base_url if self.host == GRAPH else f"{self.base_url}/{self.host}"

    def get(self, name, default=None):
        return self.params.get(name, default)

    def url(self, path: str) -> str:
        return self.base_url + path

    def app_id(self) -> str:
        cfg = self.state.config
        return cfg.ig_app_id if self.host == IG_GRAPH else cfg.app_id

    def touch(self, obj_id: str, kind: str):
        """Count a call against a Page ("pages") or IG account ("instagram") BUC window; throttle past 100%.
        Rate limiting doc: BUC error codes 80001 (Pages) and 80002 (Instagram)."""
        usage, now = self.state.usage, self.state.clock.now()
        key = f"buc:{obj_id}"
        self.touched[obj_id] = kind
        if usage.over(key, now):
            raise errors.rate_limit_buc_instagram() if kind == "instagram" else errors.rate_limit_buc_page()
        usage.record(key, now)


def parse_params(req: Request) -> tuple[MultiDict, dict]:
    params = MultiDict(req.args)
    for k, vs in req.form.lists():
        for v in vs:
            params.add(k, v)
    if req.mimetype == "application/json":
        blob = req.get_json(silent=True)
        if isinstance(blob, dict):
            for k, v in blob.items():
                params.add(k, v if isinstance(v, str) else json.dumps(v))
    return params, dict(req.files)


def split_host(path: str) -> tuple[str, str]:
    parts = path.split("/", 2)
    if len(parts) > 1 and parts[1] in HOST_PREFIXES:
        return parts[1], "/" + (parts[2] if len(parts) > 2 else "")
    return GRAPH, path


# ------------------------------------------------------------------ responses
def json_response(status: int, body, headers=None) -> Response:
    # Graph answers are JSON with this content type (observed on graph.facebook.com)
    resp = Response(json.dumps(body), status=status, content_type="application/json; charset=UTF-8")
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def error_response(err: errors.MetaError) -> Response:
    return json_response(err.status, err.body(), err.headers)


def to_response(result) -> Response:
    if isinstance(result, Response):
        return result
    if isinstance(result, tuple):
        status, body = result[0], result[1]
        return json_response(status, body, result[2] if len(result) > 2 else None)
    return json_response(200, result)


def usage_headers(ctx: Ctx) -> dict:
    """X-App-Usage on every Graph answer; X-Business-Use-Case-Usage when a Page/IG account was touched.
    Shapes: developers.facebook.com/docs/graph-api/overview/rate-limiting (call_count, total_cputime,
    total_time in percent; BUC adds type and estimated_time_to_regain_access in minutes)."""
    usage, now = ctx.state.usage, ctx.state.clock.now()
    pct = usage.percent(f"app:{ctx.app_id()}", now)
    out = {"X-App-Usage": json.dumps({"call_count": pct, "total_cputime": pct * 3 // 5, "total_time": pct * 4 // 5})}
    if ctx.touched:
        buc = {}
        for obj_id, kind in ctx.touched.items():
            key = f"buc:{obj_id}"
            p = usage.percent(key, now)
            buc[obj_id] = [
                {
                    "type": kind,
                    "call_count": p,
                    "total_cputime": p * 3 // 5,
                    "total_time": p * 4 // 5,
                    "estimated_time_to_regain_access": usage.regain_minutes(key, now),
                }
            ]
        out["X-Business-Use-Case-Usage"] = json.dumps(buc)
    return out


def dispatch(ctx: Ctx) -> Response:
    """Route one call; Graph calls get app-level throttling and usage headers."""
    state = ctx.state
    graph = ctx.host in GRAPH_HOSTS
    try:
        if graph:
            key, now = f"app:{ctx.app_id()}", state.clock.now()
            if state.usage.over(key, now):
                raise errors.rate_limit_app()
            state.usage.record(key, now)
        resp = to_response(_route(ctx))
    except errors.MetaError as err:
        resp = error_response(err)
    if graph:
        for k, v in usage_headers(ctx).items():
            resp.headers[k] = v
        resp.headers["facebook-api-version"] = ctx.version or API_VERSION
    for k, v in ctx.extra_headers.items():
        resp.headers[k] = v
    resp.headers["x-fb-trace-id"] = errors.fbtrace_id()[:11]
    return resp


def _route(ctx: Ctx):
    for rx, methods, fn, allowed in ROUTES.get(ctx.host, []):
        m = rx.match(ctx.path)
        if m and ctx.method in methods:
            if allowed is not None:
                check_params(ctx, allowed)
            return fn(ctx, **m.groupdict())
    if ctx.host in GRAPH_HOSTS:
        from .endpoints import graph_nodes

        return graph_nodes.node_dispatch(ctx)
    return json_response(
        404, {"error": {"message": f"Unknown path {ctx.host}{ctx.full_path}", "type": "SandboxException", "code": 404}}
    )


def run_internal(state, method, host, path, params: MultiDict, base_url, parent: Ctx | None = None) -> Response:
    """Run one call without HTTP (batch operations); its marks are logged with the ``parent`` call."""
    inner = Ctx(state, method, host, path, params, base_url)
    if parent is not None and inner.version is None:
        # An operation's relative_url carries no version: it runs as the batch call's version, as on Meta.
        inner.version = parent.version
    with state.lock:
        resp = dispatch(inner)
    if parent is not None:
        parent.marks.extend(inner.marks)
    return resp


# ------------------------------------------------------------------ faults
def match_fault(state, host, path, method) -> dict | None:
    with state.lock:
        for f in state.faults:
            if f.get("remaining") is not None and f["remaining"] <= 0:
                continue
            if f.get("host") and f["host"] != host:
                continue
            if f.get("method") and f["method"].upper() != method:
                continue
            if f.get("path") and not re.search(f["path"], path):
                continue
            if f.get("remaining") is not None:
                f["remaining"] -= 1
            f["hits"] = f.get("hits", 0) + 1
            return dict(f)
    return None


def fault_response(fault: dict) -> Response:
    kind = fault["kind"]
    if kind == "http_500":
        err = errors.unknown_error()
        return json_response(500, err.body())
    spec = fault.get("error") or {}
    if spec.get("preset"):
        err = errors.preset(spec["preset"])
        for k in ("message", "code", "error_subcode", "type", "is_transient", "error_user_title", "error_user_msg"):
            if k in spec:
                setattr(
                    err,
                    {
                        "error_subcode": "subcode",
                        "type": "type",
                        "error_user_title": "user_title",
                        "error_user_msg": "user_msg",
                    }.get(k, k),
                    spec[k],
                )
    else:
        err = errors.from_object(spec or {"message": "An unknown error occurred", "code": 1})
    status = int(fault.get("status") or err.status)
    return json_response(status, err.body(), err.headers)


def drop_connection(environ, start_response):
    """Shut the socket down (RST), then let werkzeug's first write fail as a dropped connection."""
    sock = environ.get("werkzeug.socket")
    start_response("500 Connection Dropped", [("Content-Length", "0")])
    if sock is None:
        return [b""]
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    return [b""]


class DroppedResponse(Response):
    """Sent nothing: the connection is already shut down; werkzeug's write fails quietly."""


# ------------------------------------------------------------------ the app
class SandboxApp:
    def __init__(self, state):
        self.state = state
        from . import controls, webhooks  # noqa: F401  (register routes)
        from .endpoints import (  # noqa: F401  # noqa: F401
            batch,
            comments,
            facebook,
            graph_nodes,
            ig_media_edges,
            ig_publishing,
            insights,
            instagram,
            mentions,
            oauth,
            page_publishing,
            rupload,
            subscriptions,
        )

    def __call__(self, environ, start_response):
        req = Request(environ)
        host, path = split_host(req.path)
        base = req.host_url.rstrip("/")
        params, files = parse_params(req)
        ctx = Ctx(
            self.state,
            req.method,
            host,
            path,
            params,
            base,
            files,
            dict(req.headers),
            environ,
            req.get_data(cache=True) if host == RUPLOAD else b"",
        )
        if req.mimetype == "application/json":
            ctx.json = req.get_json(silent=True)
        if host == CONTROL:
            with self.state.lock:
                try:
                    resp = to_response(_route(ctx))
                except errors.MetaError as err:
                    resp = error_response(err)
            return resp(environ, start_response)
        started = time.time()
        if host in GRAPH_HOSTS and ctx.version is None:
            # Meta serves it with the app's default version, which moves under the caller (reference §0)
            ctx.mark("warning", "unversioned", f"{req.method} {host}{path} has no /vNN.N/ version")
        if self.state.latency_ms:
            time.sleep(self.state.latency_ms / 1000)
        fault = match_fault(self.state, host, path, req.method)
        resp = None
        if fault and fault["kind"] == "slow":
            time.sleep(int(fault.get("delay_ms") or 1000) / 1000)
            fault = None if fault.get("after") != "after" else fault
        if fault and fault.get("after", "before") != "after":
            if fault["kind"] == "drop":
                self._log(ctx, 0, started, fault)
                return drop_connection(environ, start_response)
            resp = fault_response(fault)
        if resp is None:
            with self.state.lock:
                resp = dispatch(ctx)
            if fault and fault.get("after") == "after":
                if fault["kind"] == "drop":
                    self._log(ctx, 0, started, fault)
                    return drop_connection(environ, start_response)
                if fault["kind"] != "slow":
                    resp = fault_response(fault)
        if fault and host in GRAPH_HOSTS and "X-App-Usage" not in resp.headers:
            with self.state.lock:
                for k, v in usage_headers(ctx).items():
                    resp.headers[k] = v
        self._log(ctx, resp.status_code, started, fault)
        return resp(environ, start_response)

    def _log(self, ctx, status, started, fault):
        params = {}
        for k, v in ctx.params.items(multi=False):
            params[k] = "<redacted>" if k in REDACT else (v if len(str(v)) < 500 else str(v)[:500] + "…")
        with self.state.lock:
            now = round(self.state.clock.now(), 3)
            entry = {
                "time": now,
                "method": ctx.method,
                "host": ctx.host,
                "path": ctx.full_path,
                "params": params,
                "status": status,
                "duration_ms": int((time.time() - started) * 1000),
                "fault": fault and {"id": fault.get("id"), "kind": fault["kind"]},
            }
            if ctx.marks:
                entry["marks"] = ctx.marks
            self.state.requests.append(entry)
            for mark in ctx.marks:
                where = {"time": now, "method": ctx.method, "path": f"{ctx.host}{ctx.full_path}"}
                self.state.marks.append({**where, **mark})
                print(f"sandbox {mark['level'].upper()} {mark['kind']}: {mark['detail']}", file=sys.stderr, flush=True)


def next_url(ctx: Ctx, **replace) -> str:
    params = MultiDict(ctx.params)
    for k, v in replace.items():
        params.setlist(k, [v])
    for k in [k for k, v in replace.items() if v is None]:
        params.poplist(k)
    return f"{ctx.host_url}{ctx.full_path}?{urlencode(list(params.items(multi=True)))}"
