"""Typed Graph API errors, and the only two functions that classify them: `error_from_response` (Meta
answered) and `error_from_exception` (no answer: timeout, dropped connection).

Classes and codes follow Meta's "Handling Errors" guide (developers.facebook.com/docs/graph-api/guides/
error-handling) and the Instagram error-code table (developers.facebook.com/docs/instagram-platform/
instagram-graph-api/reference/error-codes). `message` is a sentence for the person using SocialHub;
`meta_message`, `code`, `subcode`, `fbtrace_id` and `raw` are for operators.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import requests

from .redaction import redact_text
from .usage import ResponseUsage, usage_from_headers

# Backoff used when the caller has nothing better (Meta sent no usage headers).
DEFAULT_RATE_LIMIT_WAIT = 300.0  # seconds; app and BUC windows are one hour, Meta says "wait and retry"
SHORT_RATE_LIMIT_WAIT = 60.0  # 613 is a short-window limit (calls within a few minutes)
TRANSIENT_BASE_DELAY = 30.0
MAX_BACKOFF = 3600.0

AUTH_CODES = frozenset({190, 102, 463, 467})
RATE_LIMIT_CODES = frozenset({4, 17, 32, 341, 613, *range(80001, 80015)})
TRANSIENT_CODES = frozenset({1, 2})

_PERMISSION_RE = re.compile(r"\b((?:pages|instagram|read|publish|business|catalog|ads)_[a-z_]+)\b")

PLATFORM_NAMES = {"facebook": "Facebook", "instagram": "Instagram"}

# Sub-codes of 190/102 → why Meta stopped accepting the token ("Authentication error subcodes").
AUTH_REASONS: dict[int, str] = {
    458: "SocialHub was removed from the account's apps",
    459: "the account is locked until someone logs in to Facebook and follows the instructions there",
    460: "the password of the account was changed",
    463: "the session expired",
    464: "the account is not confirmed yet",
    467: "the session was ended (logged out or revoked)",
    492: "the person who connected it is no longer an admin of the Page",
}

# Instagram publishing sub-codes (Meta's Instagram error-code table, code in the comment) → what to tell the
# user. Those marked in RETRYABLE_SUBCODES fail for reasons outside the request and are worth another try.
IG_SUBCODE_MESSAGES: dict[int, str] = {
    2207001: "Instagram had a server error while handling the post. Try again.",  # -1
    2207003: "Instagram took too long to download the media. Try again.",  # -2
    2207004: "The image is too large for Instagram (it must be under 8 MB).",  # 36000
    2207005: "Instagram does not support this image format. Use a JPEG.",  # 36001
    2207006: "Instagram could not find the media; it may have been deleted. Upload it again.",  # 9004
    2207008: "The prepared post expired before it was published. Prepare it again.",  # 24
    2207009: "The image's aspect ratio is not accepted by Instagram (between 4:5 and 1.91:1).",  # 36003
    2207010: "The caption is too long for Instagram (at most 2,200 characters, 30 hashtags, 20 mentions).",  # 2207010
    2207020: "The prepared media expired before it was published. Prepare the post again.",  # -2
    2207023: "Instagram does not recognise this media type.",  # 9004
    2207024: "The media could not be prepared for Instagram. Check its format and try again.",  # 9004
    2207026: "Instagram does not support this video format (use MP4 or MOV with H.264/HEVC and AAC).",  # 352
    2207027: "Instagram is still processing the media. Publishing will be tried again in a moment.",  # 9007
    2207028: "Instagram refused the carousel: it needs 2 to 10 finished images or videos.",  # 9007
    2207032: "Instagram could not prepare the media. Try again.",  # -1
    2207035: "Product tags cannot be placed on a video: remove the position from the product tag.",  # 36000
    2207036: "Product tags are not supported on this kind of post.",
    2207037: "Too many product tags (at most 20 per post).",
    2207040: "Too many tags: Instagram accepts at most 20 tagged accounts.",
    2207042: "This account reached Instagram's daily publishing limit. Schedule the post for later.",  # 9
    2207050: "The Instagram account is restricted or inactive. Open Instagram and check the account.",  # 25
    2207051: "Instagram blocked this action because it looked like spam. Wait a while and check the account.",  # 4
    2207052: "Instagram could not download the media from its URL. Check that the link is public, then retry.",
    2207053: "The upload failed on Instagram's side. Prepare the post again.",  # -1
    2207057: "The cover frame offset is outside the video's length.",  # 1
    2207073: "Instagram does not support this media type for this kind of post.",  # -1, seed 003
    2207089: "A single video must be published as a reel.",  # 100
}
RETRYABLE_SUBCODES: dict[int, float] = {
    2207001: 60.0,
    2207003: 60.0,
    2207027: 60.0,  # container not FINISHED yet: poll again
    2207032: 60.0,
    2207052: 120.0,  # media fetch failed: often the media host was briefly unreachable
    2207053: 60.0,
}
# Failures on Instagram's side ("Instagram server error", "Create media fail"): transient.
IG_SERVER_SUBCODES = frozenset({2207001, 2207032})
# Sub-codes that must not be treated like their code's class (4/2207051 is a spam block, not a rate limit).
NOT_RATE_LIMIT_SUBCODES = frozenset({2207051})

CODE_MESSAGES: dict[int, str] = {
    368: "Meta temporarily blocked this action for a policy reason. Wait and check the account's notifications.",
    506: "This looks like a duplicate of a post just published. Change the text and try again.",
    1609005: "Meta could not read the link in this post. Check the URL.",
    9007: "The media is not ready to be published yet.",
}
SUBCODE_100_MESSAGES: dict[int, str] = {
    33: "Meta cannot find this item, or the connected account may no longer access it.",
    2207089: IG_SUBCODE_MESSAGES[2207089],
}


class GraphError(Exception):
    """A failed Graph API call. `str(error)` is `message`, safe to show to a marketer."""

    default_retryable = False
    default_title = "Meta refused the request"

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        subcode: int | None = None,
        error_type: str | None = None,
        fbtrace_id: str | None = None,
        http_status: int | None = None,
        raw: Mapping[str, Any] | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
        user_title: str | None = None,
        meta_message: str | None = None,
        is_transient: bool = False,
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.subcode = subcode
        self.error_type = error_type
        self.fbtrace_id = fbtrace_id
        self.http_status = http_status
        self.raw: dict[str, Any] = dict(raw or {})
        self.retryable = self.default_retryable if retryable is None else retryable
        self.retry_after = retry_after
        self.user_title = user_title or self.default_title
        self.meta_message = meta_message
        self.is_transient = is_transient
        # A write that may or may not have happened on Meta's side: look before doing it again.
        self.outcome_unknown = outcome_unknown

    @property
    def permanent(self) -> bool:
        return not self.retryable

    def retry_delay(self, attempt: int = 0) -> float:
        """Seconds to wait before attempt number `attempt + 1`: Meta's own estimate when it gave one, else an
        exponential backoff."""
        if self.retry_after is not None:
            return self.retry_after
        return min(TRANSIENT_BASE_DELAY * 2 ** max(attempt, 0), MAX_BACKOFF)

    def operator_details(self) -> str:
        """One line for logs and admin: codes, trace id and Meta's own message, without secrets."""
        parts = [
            f"{type(self).__name__}",
            f"http={self.http_status}",
            f"code={self.code}",
            f"subcode={self.subcode}",
            f"type={self.error_type}",
            f"fbtrace_id={self.fbtrace_id}",
        ]
        if self.outcome_unknown:
            parts.append("outcome_unknown=True")
        parts.append(f"meta_message={self.meta_message or self.message!r}")
        return redact_text(" ".join(parts))

    def __repr__(self) -> str:
        return f"<{self.operator_details()}>"


class GraphAuthError(GraphError):
    """The token no longer works: the channel needs to be reconnected."""

    default_title = "Reconnect the account"


class GraphPermissionError(GraphError):
    """The token works but lacks a permission (or the person lost their role)."""

    default_title = "A permission is missing"

    @property
    def missing_permission(self) -> str | None:
        """The permission Meta names in its message ("(#200) Requires pages_manage_posts permission"), if any."""
        found = _PERMISSION_RE.search(self.meta_message or "")
        return found.group(1) if found else None


class GraphRateLimitError(GraphError):
    default_retryable = True
    default_title = "Meta asks SocialHub to slow down"


class GraphTransientError(GraphError):
    default_retryable = True
    default_title = "Meta is temporarily unavailable"


class GraphValidationError(GraphError):
    default_title = "Meta refused the content"


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _rate_limit_wait(code: int | None, usage: ResponseUsage, headers: Mapping[str, str]) -> float:
    retry_header = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if retry_header is not None:
        try:
            return max(float(retry_header), 1.0)
        except ValueError:
            pass
    if usage.regain_seconds > 0:
        return usage.regain_seconds
    return SHORT_RATE_LIMIT_WAIT if code == 613 else DEFAULT_RATE_LIMIT_WAIT


def _validation_message(error: Mapping[str, Any], code: int | None, subcode: int | None, meta_message: str) -> str:
    if user_msg := error.get("error_user_msg"):
        return str(user_msg)
    if subcode is not None and subcode in IG_SUBCODE_MESSAGES:
        return IG_SUBCODE_MESSAGES[subcode]
    if code == 100:
        if subcode in SUBCODE_100_MESSAGES:
            return SUBCODE_100_MESSAGES[subcode]
        return f"Meta refused a value sent with this request: {meta_message}"
    if code in CODE_MESSAGES:
        return CODE_MESSAGES[code]
    return meta_message or "Meta refused the request."


def _unexpected_body(status: int, payload: Any, headers: Mapping[str, str], method: str | None) -> GraphError:
    """An answer without Meta's error JSON: an HTML error page from a proxy, an empty body, garbage."""
    kind = "an empty answer" if payload in (None, "", b"") else "an answer that is not JSON"
    raw = {"body": redact_text(str(payload))[:500]} if payload not in (None, "", b"") else {}
    common = {"http_status": status, "raw": raw, "meta_message": f"HTTP {status} with {kind}"}
    if status == 429:
        usage = usage_from_headers(headers)
        return GraphRateLimitError(
            "Meta asks SocialHub to slow down; the work continues automatically later.",
            retry_after=_rate_limit_wait(None, usage, headers),
            **common,
        )
    if status >= 500 or status < 400:
        # A 2xx that is not JSON means something between us and Meta broke the answer: for a write we cannot
        # know whether it happened.
        return GraphTransientError(
            f"Meta is temporarily unavailable (HTTP {status}). SocialHub will try again.",
            outcome_unknown=status < 400 and method not in (None, "GET", "HEAD", "OPTIONS"),
            **common,
        )
    return GraphValidationError(f"Meta answered with {kind} (HTTP {status}).", **common)


def error_from_response(
    status: int,
    payload: Any,
    headers: Mapping[str, str] | None = None,
    *,
    host: str = "facebook",
    method: str | None = None,
) -> GraphError:
    """Turn Meta's answer (HTTP status, decoded JSON body or raw text, response headers) into a typed error."""
    headers = headers or {}
    if isinstance(payload, (bytes, str)):
        try:
            payload = json.loads(payload) if payload else None
        except ValueError:
            pass
    error = payload.get("error") if isinstance(payload, Mapping) else None
    if isinstance(payload, Mapping) and not isinstance(error, Mapping):
        if isinstance(error, str):  # OAuth 2 style: {"error": "invalid_request", "error_description": "..."}
            error = {"message": payload.get("error_description") or error, "type": error}
        elif "error_message" in payload:  # api.instagram.com: {"error_type", "code", "error_message"}
            error = {
                "message": payload["error_message"],
                "type": payload.get("error_type"),
                "code": payload.get("code"),
            }
    if not isinstance(error, Mapping):
        return _unexpected_body(status, payload, headers, method)

    code = _as_int(error.get("code"))
    subcode = _as_int(error.get("error_subcode"))
    error_type = error.get("type")
    meta_message = str(error.get("message") or "")
    common: dict[str, Any] = {
        "code": code,
        "subcode": subcode,
        "error_type": str(error_type) if error_type is not None else None,
        "fbtrace_id": error.get("fbtrace_id"),
        "http_status": status,
        "raw": error,
        "user_title": error.get("error_user_title"),
        "meta_message": redact_text(meta_message),
        "is_transient": bool(error.get("is_transient")),
    }
    platform = PLATFORM_NAMES.get(host, "Meta")

    if code in RATE_LIMIT_CODES and subcode not in NOT_RATE_LIMIT_SUBCODES:
        usage = usage_from_headers(headers)
        return GraphRateLimitError(
            f"{platform} asks SocialHub to slow down; the work continues automatically later.",
            retry_after=_rate_limit_wait(code, usage, headers),
            **common,
        )
    if code in AUTH_CODES or (code is None and error_type == "OAuthException" and status == 401):
        reason = AUTH_REASONS.get(subcode or code or 0, "the access was revoked or is no longer valid")
        return GraphAuthError(
            f"{platform} no longer accepts this connection: {reason}. Reconnect the account.", **common
        )
    if code == 10 or (code is not None and 200 <= code <= 299):
        needed = _PERMISSION_RE.search(common["meta_message"])
        detail = f" ({needed.group(1)})" if needed else ""
        return GraphPermissionError(
            f"SocialHub lacks a {platform} permission for this{detail}. Reconnect the account and grant every "
            "permission it asks for, or check the person's role on the account.",
            **common,
        )
    if common["is_transient"] or code in TRANSIENT_CODES or subcode in IG_SERVER_SUBCODES or status >= 500:
        message = IG_SUBCODE_MESSAGES.get(
            subcode or 0, f"{platform} is temporarily unavailable. SocialHub will try again."
        )
        return GraphTransientError(message, retry_after=RETRYABLE_SUBCODES.get(subcode or 0), **common)

    retry_after = RETRYABLE_SUBCODES.get(subcode or 0)
    return GraphValidationError(
        _validation_message(error, code, subcode, redact_text(meta_message)),
        retryable=retry_after is not None,
        retry_after=retry_after,
        **common,
    )


def _never_left(exc: BaseException) -> bool:
    """True when the request certainly did not reach the server (no connection was made)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = repr(exc.args[0] if exc.args else exc)
        return any(
            marker in text
            for marker in ("NewConnectionError", "NameResolutionError", "Failed to resolve", "Connection refused")
        )
    return False


def error_from_exception(exc: BaseException, *, method: str) -> GraphError:
    """Turn a `requests` failure (no HTTP answer) into a `GraphTransientError`. For anything but GET, a timeout
    or a dropped connection means the write may have happened: `outcome_unknown` tells the caller to ask Meta
    before trying again."""
    method = method.upper()
    reaches = not _never_left(exc)
    if isinstance(exc, requests.exceptions.Timeout):
        message = "Meta did not answer in time."
    elif isinstance(exc, requests.exceptions.ConnectionError):
        message = "The connection to Meta failed."
    else:
        message = "The request to Meta failed."
    outcome_unknown = reaches and method not in ("GET", "HEAD", "OPTIONS")
    if outcome_unknown:
        message += " SocialHub will check what happened before trying again."
    else:
        message += " SocialHub will try again."
    return GraphTransientError(
        message,
        meta_message=redact_text(f"{type(exc).__name__}: {exc}"),
        outcome_unknown=outcome_unknown,
    )
