"""The one Graph API client. Every call to Meta goes through `GraphClient.request`: base URL and version from
settings (read at call time), `appsecret_proof` with every token, a timeout on every call, no automatic retry
(publishing must never repeat a write blindly: the caller decides, using the typed error), usage headers
remembered for slowing down, and one `GraphCall` row per call for operators, without secrets."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any, Literal, TypeAlias
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from .errors import GraphError, GraphTransientError, error_from_exception, error_from_response
from .redaction import redact_url
from .usage import ResponseUsage, record_usage, usage_from_headers

logger = logging.getLogger(__name__)

Host = Literal["facebook", "instagram"]
FieldSpec: TypeAlias = "str | Sequence[str | Mapping[str, FieldSpec]] | Mapping[str, FieldSpec]"

BATCH_LIMIT = 50  # Meta's maximum number of operations in one batch request
AUTH_PARAMS = ("access_token", "appsecret_proof")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CONNECT_TIMEOUT = 10.0

_local = threading.local()


def shared_session() -> requests.Session:
    """One pooled `requests.Session` per thread (connections to Meta are reused across clients). A publishing
    worker runs many threads at once, and a `requests.Session` is not documented as safe to share between
    threads, so each has its own. urllib3 retries are off: the caller decides what may be repeated."""
    session: requests.Session | None = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=10, pool_maxsize=10, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.headers["User-Agent"] = "SocialHub"
        _local.session = session
    return session


def format_fields(fields: FieldSpec) -> str:
    """`["id", "name", {"instagram_business_account": ["id", "username"]}]` →
    `id,name,instagram_business_account{id,username}`. Strings pass through, so modifiers such as
    `"comments.limit(5)"` work too."""
    if isinstance(fields, str):
        return fields
    if isinstance(fields, Mapping):
        return ",".join(f"{name}{{{format_fields(sub)}}}" for name, sub in fields.items())
    parts: list[str] = []
    for item in fields:
        if isinstance(item, (str, Mapping)):
            parts.append(format_fields(item))
        else:
            raise TypeError(f"Unsupported field specification: {item!r}")
    return ",".join(parts)


def appsecret_proof(access_token: str, app_secret: str) -> str:
    """Hex HMAC-SHA256 of the access token keyed with the app secret (Meta's "Securing requests")."""
    return hmac.new(app_secret.encode(), access_token.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class BatchRequest:
    """One operation of a batch request: `relative_url` is relative to the versioned Graph host
    (`"me/accounts?limit=5"`); `params` are added to its query, `body` is form-encoded for writes."""

    relative_url: str
    method: str = "GET"
    params: Mapping[str, Any] | None = None
    fields: FieldSpec | None = None
    body: Mapping[str, Any] | None = None
    name: str | None = None

    def as_operation(self) -> dict[str, Any]:
        query: dict[str, Any] = dict(self.params or {})
        if self.fields is not None:
            query["fields"] = format_fields(self.fields)
        url = self.relative_url.lstrip("/")
        if query:
            url += ("&" if "?" in url else "?") + urlencode(_encode_values(query))
        operation: dict[str, Any] = {"method": self.method.upper(), "relative_url": url}
        if self.body:
            operation["body"] = urlencode(_encode_values(self.body))
        if self.name:
            operation["name"] = self.name
        return operation


def _encode_values(values: Mapping[str, Any]) -> dict[str, str]:
    """Graph parameters are strings: lists and dicts as JSON, booleans as true/false."""
    encoded: dict[str, str] = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            encoded[key] = "true" if value else "false"
        elif isinstance(value, (dict, list, tuple)):
            encoded[key] = json.dumps(value, separators=(",", ":"))
        else:
            encoded[key] = str(value)
    return encoded


class GraphClient:
    """A client for one token (or none, for OAuth code exchanges). Cheap to create; shares one HTTP pool.

    `host` picks the API (`facebook` = graph.facebook.com for Facebook-Login tokens, `instagram` =
    graph.instagram.com for Instagram-Login tokens) and which app secret signs `appsecret_proof`.
    `channel_id` is stored on each recorded call."""

    def __init__(
        self,
        *,
        access_token: str | None = None,
        host: Host = "facebook",
        app_secret: str | None = None,
        channel_id: int | None = None,
        session: requests.Session | None = None,
    ) -> None:
        if host not in ("facebook", "instagram"):
            raise ValueError(f"Unknown Graph host {host!r}")
        self.access_token = access_token
        self.host: Host = host
        self._app_secret = app_secret
        self.channel_id = channel_id
        self.session = session or shared_session()

    def __repr__(self) -> str:  # never show the token
        return (
            f"<GraphClient host={self.host} channel_id={self.channel_id} token={'yes' if self.access_token else 'no'}>"
        )

    @classmethod
    def for_app(cls, *, host: Host = "facebook", session: requests.Session | None = None) -> GraphClient:
        """A client with the app access token (`APPID|SECRET`), for calls such as `debug_token`."""
        if host == "instagram":
            app_id, secret = settings.INSTAGRAM_APP_ID, settings.INSTAGRAM_APP_SECRET
        else:
            app_id, secret = settings.META_APP_ID, settings.META_APP_SECRET
        return cls(access_token=f"{app_id}|{secret}", host=host, app_secret=secret, session=session)

    # --- settings, read at call time so that tests and the demo can point elsewhere ---------------------------
    @property
    def base_url(self) -> str:
        root = settings.INSTAGRAM_GRAPH_URL if self.host == "instagram" else settings.META_GRAPH_URL
        return f"{root.rstrip('/')}/{settings.META_GRAPH_VERSION}"

    @property
    def app_secret(self) -> str:
        if self._app_secret is not None:
            return self._app_secret
        return settings.INSTAGRAM_APP_SECRET if self.host == "instagram" else settings.META_APP_SECRET

    @property
    def app_id(self) -> str:
        return settings.INSTAGRAM_APP_ID if self.host == "instagram" else settings.META_APP_ID

    def auth_params(self) -> dict[str, str]:
        if not self.access_token:
            return {}
        params = {"access_token": self.access_token}
        if self.app_secret:
            params["appsecret_proof"] = appsecret_proof(self.access_token, self.app_secret)
        return params

    def url_for(self, url_or_path: str) -> str:
        if url_or_path.startswith(("https://", "http://")):
            return url_or_path
        return f"{self.base_url}/{url_or_path.lstrip('/')}"

    # --- verbs ------------------------------------------------------------------------------------------------
    def get(
        self, path: str, *, params: Mapping[str, Any] | None = None, fields: FieldSpec | None = None
    ) -> dict[str, Any]:
        return self.request("GET", path, params=params, fields=fields)

    def post(
        self,
        path: str,
        *,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        return self.request("POST", path, data=data, files=files, timeout=timeout)

    def delete(self, path: str, *, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return self.request("DELETE", path, params=params)

    def paginate(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        fields: FieldSpec | None = None,
        max_pages: int = 10,
    ) -> Iterator[dict[str, Any]]:
        """Yield the items of `data` page after page, following `paging.next`, for at most `max_pages` pages.
        Meta's rule is to stop when there is no next link (an empty page with a next link can happen and is
        passed over). For endpoints that answer with cursors only, `paging.cursors.after` is followed when
        the page was full (as many items as the `limit` asked for)."""
        url: str = path
        page_params: dict[str, Any] = dict(params or {})
        page_fields = fields
        own_host = urlsplit(self.base_url).netloc
        for _page in range(max_pages):
            payload = self.request("GET", url, params=page_params, fields=page_fields)
            items = payload.get("data") or []
            yield from items
            paging = payload.get("paging") or {}
            next_url = paging.get("next")
            after = (paging.get("cursors") or {}).get("after")
            if next_url:
                if urlsplit(next_url).netloc != own_host:
                    logger.warning("Not following a paging link to another host: %s", redact_url(next_url))
                    return
                # Meta's next link repeats the token (without the proof): both are dropped, request() adds them.
                url, page_params = _split_next_link(next_url)
                page_fields = None
            elif after and _is_full_page(items, page_params):
                page_params = {**page_params, "after": after}
            else:
                return

    def batch(self, requests_: Sequence[BatchRequest]) -> list[dict[str, Any] | GraphError]:
        """Run operations in batch requests of at most 50. Returns one result per operation, in order: the
        decoded body, or the typed error for that operation (returned, not raised). When a whole batch call
        fails, each of its operations gets that error."""
        results: list[dict[str, Any] | GraphError] = []
        for start in range(0, len(requests_), BATCH_LIMIT):
            chunk = list(requests_[start : start + BATCH_LIMIT])
            batch_json = json.dumps([op.as_operation() for op in chunk], separators=(",", ":"))
            try:
                answers = self.request(
                    "POST", self.base_url + "/", data={"batch": batch_json, "include_headers": "true"}
                )
            except GraphError as exc:
                if exc.outcome_unknown and all(op.method.upper() in SAFE_METHODS for op in chunk):
                    exc.outcome_unknown = False  # reads only: nothing can have happened twice
                results.extend([exc] * len(chunk))
                continue
            answer_list = answers.get("data")
            if not isinstance(answer_list, list):
                answer_list = []
            for index, operation in enumerate(chunk):
                answer = answer_list[index] if index < len(answer_list) else None
                results.append(self._batch_result(operation, answer))
        return results

    def _batch_result(self, operation: BatchRequest, answer: Any) -> dict[str, Any] | GraphError:
        method = operation.method.upper()
        if not isinstance(answer, Mapping):
            # Meta answers null for an operation it did not run (timed out, or its dependency failed).
            return GraphTransientError(
                "Meta did not run this part of the batch. SocialHub will try again.",
                meta_message="null batch answer",
                outcome_unknown=method not in SAFE_METHODS,
            )
        status = int(answer.get("code") or 0)
        headers = {
            str(h.get("name")): str(h.get("value")) for h in answer.get("headers") or [] if isinstance(h, Mapping)
        }
        body_text = answer.get("body")
        try:
            body = json.loads(body_text) if isinstance(body_text, str) and body_text else body_text
        except ValueError:
            body = body_text
        usage = usage_from_headers(headers)
        record_usage(usage, app_id=self.app_id)
        if 200 <= status < 300 and not (isinstance(body, Mapping) and "error" in body):
            if isinstance(body, dict):
                return body
            return {"result": body}
        return error_from_response(status, body, headers, host=self.host, method=method)

    # --- the one place that does HTTP -------------------------------------------------------------------------
    def request(
        self,
        method: str,
        url_or_path: str,
        *,
        params: Mapping[str, Any] | None = None,
        fields: FieldSpec | None = None,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | IO[bytes] | None = None,
        timeout: float | None = None,
        authenticate: bool = True,
        upload: bool = False,
    ) -> dict[str, Any]:
        """Make one call and return the decoded JSON object, or raise a typed `GraphError`.

        `url_or_path` is a path under the versioned Graph host of this client or an absolute URL (OAuth token
        exchanges on other hosts, rupload). With `authenticate` the token and `appsecret_proof` go in the
        query string for GET/DELETE and in the form body for writes. A resumable upload to rupload (a raw
        `content` body, or `upload=True` for one without a body, such as a `file_url` header) carries the token
        as `Authorization: OAuth <token>` instead, as Meta's resumable upload expects. What the call is decides
        this, never its URL: an installation may serve rupload and Graph from one host or prefix, and every
        other call must keep its `appsecret_proof`. No retries here."""
        if content is not None and (data is not None or files is not None):
            raise ValueError("Pass either a raw content body or form data/files, not both.")
        method = method.upper()
        url = self.url_for(url_or_path)
        query = _encode_values(params or {})
        if fields is not None:
            query["fields"] = format_fields(fields)
        body = _encode_values(data or {}) if (data is not None or files is not None) else None
        send_headers = dict(headers or {})
        uploading = upload or content is not None
        auth = self.auth_params() if authenticate else {}
        if auth:
            if uploading:
                send_headers["Authorization"] = f"OAuth {auth['access_token']}"
            elif method in ("GET", "DELETE", "HEAD"):
                query.update(auth)
            else:  # writes carry credentials in the form body, out of URLs
                body = {**(body or {}), **auth}
        if timeout is None:
            slow = uploading or files is not None
            timeout = settings.GRAPH_TIMEOUT_UPLOAD if slow else settings.GRAPH_TIMEOUT_READ

        recorded_path = _recorded_path(url, {k: v for k, v in query.items() if k not in AUTH_PARAMS})
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                url,
                params=query or None,
                data=content if content is not None else body,
                files=files,
                headers=send_headers or None,
                timeout=(min(CONNECT_TIMEOUT, timeout), timeout),
            )
        except requests.RequestException as exc:
            error = error_from_exception(exc, method=method)
            self._finish(method, url, recorded_path, started, status=None, usage=ResponseUsage(), error=error)
            raise error from None

        usage = usage_from_headers(response.headers)
        record_usage(usage, app_id=self.app_id)
        payload: Any
        try:
            payload = response.json() if response.content else None
        except ValueError:
            payload = response.text
        if response.ok and isinstance(payload, dict) and "error" not in payload:
            self._finish(method, url, recorded_path, started, status=response.status_code, usage=usage)
            return payload
        if response.ok and isinstance(payload, (list, bool)):
            # Batch answers are lists; a few old endpoints answer a bare `true`.
            self._finish(method, url, recorded_path, started, status=response.status_code, usage=usage)
            return {"data": payload} if isinstance(payload, list) else {"success": payload}
        error = error_from_response(response.status_code, payload, response.headers, host=self.host, method=method)
        self._finish(method, url, recorded_path, started, status=response.status_code, usage=usage, error=error)
        raise error

    def _finish(
        self,
        method: str,
        url: str,
        recorded_path: str,
        started: float,
        *,
        status: int | None,
        usage: ResponseUsage,
        error: GraphError | None = None,
    ) -> None:
        duration_ms = int((time.monotonic() - started) * 1000)
        host = urlsplit(url).netloc
        if error is None:
            outcome = "ok"
            logger.debug("graph %s %s%s %s %dms", method, host, recorded_path, status, duration_ms)
        else:
            outcome = "exception" if status is None else "error"
            logger.info(
                "graph %s %s%s %s %dms %s", method, host, recorded_path, status, duration_ms, error.operator_details()
            )
        try:
            from django.db import transaction

            from .models import GraphCall

            # A savepoint, so that a failed INSERT cannot break the caller's transaction.
            with transaction.atomic():
                GraphCall.objects.create(
                    method=method,
                    host=host[:255],
                    path=recorded_path,
                    status=status,
                    duration_ms=duration_ms,
                    error_code=error.code if error else None,
                    error_subcode=error.subcode if error else None,
                    error_type=((error.error_type or "") if error else "")[:100],
                    fbtrace_id=((error.fbtrace_id or "") if error else "")[:100],
                    app_usage_percent=usage.max_percent,
                    buc_usage=usage.buc_raw or None,
                    channel_id=self.channel_id,
                    outcome=outcome,
                )
        except Exception:
            logger.warning("Could not record a Graph API call", exc_info=True)


def _is_full_page(items: Sequence[Any], params: Mapping[str, Any]) -> bool:
    try:
        return len(items) > 0 and len(items) >= int(params["limit"])
    except (KeyError, TypeError, ValueError):
        return False


def _split_next_link(next_url: str) -> tuple[str, dict[str, str]]:
    scheme, netloc, path, query, _fragment = urlsplit(next_url)
    params = {k: v for k, v in parse_qsl(query, keep_blank_values=True) if k not in AUTH_PARAMS}
    return urlunsplit((scheme, netloc, path, "", "")), params


def _recorded_path(url: str, query: Mapping[str, str]) -> str:
    """Path plus query string as stored and logged: no token, no proof, other secrets redacted."""
    parts = urlsplit(url)
    existing = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in AUTH_PARAMS]
    combined = existing + list(query.items())
    path = parts.path or "/"
    if combined:
        path += "?" + urlencode(combined)
    return redact_url(path)
