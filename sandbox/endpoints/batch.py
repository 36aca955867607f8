"""Batch requests: POST / (or /{v}/) with batch=[{"method","relative_url","body"?,"name"?}] and access_token.

developers.facebook.com/docs/graph-api/batch-requests: at most 50 operations; each answered in order as
{"code", "headers": [{"name","value"}], "body": "<JSON string>"}; an operation may carry its own
access_token (in relative_url or body), otherwise the top-level one is used; each one is checked like a
normal call (and counts against rate limits like one).
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

from werkzeug.datastructures import MultiDict

from .. import errors
from ..app import GRAPH, route, run_internal

MAX_BATCH = 50


@route(GRAPH, r"/", ("POST",), params=("batch", "include_headers"))
def batch(ctx):
    raw = ctx.get("batch")
    if raw is None:
        raise errors.missing_parameter("batch")
    try:
        ops = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise errors.batch_invalid() from None
    if not isinstance(ops, list) or not all(isinstance(o, dict) for o in ops):
        raise errors.batch_invalid()
    if len(ops) > MAX_BATCH:
        raise errors.batch_too_large()
    top_token, top_proof = ctx.get("access_token"), ctx.get("appsecret_proof")
    own = ("access_token=" in (o.get("relative_url", "") + str(o.get("body", ""))) for o in ops)
    if not top_token and not all(own):
        raise errors.token_missing()
    include_headers = str(ctx.get("include_headers", "true")).lower() != "false"
    out = []
    for op in ops:
        method = str(op.get("method", "GET")).upper()
        rel = str(op.get("relative_url", ""))
        parts = urlsplit(rel if rel.startswith("/") else "/" + rel)
        params = MultiDict(parse_qsl(parts.query, keep_blank_values=True))
        body = op.get("body")
        if isinstance(body, str):
            for k, v in parse_qsl(body, keep_blank_values=True):
                params.add(k, v)
        elif isinstance(body, dict):
            for k, v in body.items():
                params.add(k, v if isinstance(v, str) else json.dumps(v))
        if "access_token" not in params and top_token:
            params["access_token"] = top_token
            if "appsecret_proof" not in params and top_proof:
                params["appsecret_proof"] = top_proof
        resp = run_internal(ctx.state, method, GRAPH, parts.path or "/", params, ctx.base_url, parent=ctx)
        item = {"code": resp.status_code, "body": resp.get_data(as_text=True)}
        if include_headers:
            item["headers"] = [
                {"name": k, "value": v} for k, v in resp.headers.items() if k.lower() not in ("content-length",)
            ]
        out.append(item)
    return out
