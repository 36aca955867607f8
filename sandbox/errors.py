"""One catalogue of the errors Meta's APIs answer with.

Every builder returns a ``MetaError``: an exception carrying the HTTP status and the JSON body
Meta sends, so handlers can ``raise errors.xxx(...)`` and callers can use ``.as_tuple()``.
A fresh ``fbtrace_id`` is drawn each time the body is rendered.

Sources (cited again per builder):
- [EH]  https://developers.facebook.com/docs/graph-api/guides/error-handling  (shape, codes 1/2/4/10/17/
        102/190/200-299/341/368, auth subcodes 458/459/460/463/464/467)
- [RL]  https://developers.facebook.com/docs/graph-api/overview/rate-limiting  (codes 4/17/32/613,
        BUC 80001 Pages / 80002 Instagram, headers X-App-Usage, X-Business-Use-Case-Usage)
- [DT]  https://developers.facebook.com/docs/facebook-login/guides/access-tokens/debugging  (debug_token)
- [SP]  https://developers.facebook.com/docs/graph-api/securing-requests  (appsecret_proof)
- seeds/003 (IG error example: code -1 / subcode 2207073 with error_user_title / error_user_msg)
Exact message texts not printed in those pages were taken from answers Meta sent as quoted in
public bug reports (GitHub issues of facebook-php-graph-sdk, facepy, python-business-sdk, ...);
the README lists them. Texts marked (verify) are the sandbox's best reconstruction.
"""

from __future__ import annotations

import datetime as _dt
import secrets
import string

_TRACE_ALPHABET = string.ascii_letters + string.digits + "-_"


def fbtrace_id() -> str:
    # [EH] "fbtrace_id: Internal support identifier"; Meta's look like "Api-OlNdfcpOwIu6hNaT5Kw" (seeds/003)
    return "A" + "".join(secrets.choice(_TRACE_ALPHABET) for _ in range(22))


class MetaError(Exception):
    """An error answer. ``shape`` is "graph" ({"error": {...}}) or "instagram_oauth" (flat)."""

    def __init__(
        self,
        status: int,
        message: str,
        type_: str = "OAuthException",
        code: int = 100,
        subcode: int | None = None,
        is_transient: bool | None = None,
        user_title: str | None = None,
        user_msg: str | None = None,
        shape: str = "graph",
        headers: dict | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.code = code
        self.subcode = subcode
        self.is_transient = is_transient
        self.user_title = user_title
        self.user_msg = user_msg
        self.shape = shape
        self.headers = dict(headers or {})

    def error_object(self) -> dict:
        err = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            err["error_subcode"] = self.subcode
        if self.is_transient is not None:
            err["is_transient"] = self.is_transient
        if self.user_title is not None:
            err["error_user_title"] = self.user_title
        if self.user_msg is not None:
            err["error_user_msg"] = self.user_msg
        err["fbtrace_id"] = fbtrace_id()
        return err

    def body(self) -> dict:
        if self.shape == "instagram_oauth":
            # api.instagram.com/oauth/access_token answers flat: {"error_type","code","error_message"}
            # (answers quoted in github.com/jetrockets/omniauth-instagram-graph/issues/1,
            #  espresso-dev/instagram-basic-display-php/issues/14)
            return {"error_type": self.type, "code": self.code, "error_message": self.message}
        return {"error": self.error_object()}

    def as_tuple(self) -> tuple[int, dict]:
        return self.status, self.body()


def from_object(obj: dict, status: int = 400) -> MetaError:
    """Build from a caller-supplied Meta error object (fault injection)."""
    return MetaError(
        status,
        obj.get("message", "An unknown error occurred"),
        obj.get("type", "OAuthException"),
        int(obj.get("code", 1)),
        obj.get("error_subcode"),
        obj.get("is_transient"),
        obj.get("error_user_title"),
        obj.get("error_user_msg"),
    )


# ---------------------------------------------------------------- tokens ([EH] code 190 + subcodes)


def token_missing_me() -> MetaError:
    # Quoted answers: github.com/jgorset/facepy/issues/135, fbsamples/messenger-platform-samples/issues/125
    return MetaError(
        400, "An active access token must be used to query information about the current user.", "OAuthException", 2500
    )


def token_missing() -> MetaError:
    # [EH] code 104 "An access token is required to request this resource." (verify)
    return MetaError(400, "An access token is required to request this resource.", "OAuthException", 104)


def token_malformed() -> MetaError:
    # [EH] 190 without subcode: token invalid
    return MetaError(
        400,
        "Invalid OAuth access token - Cannot parse access token",
        "OAuthException",
        190,
        headers={
            "WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_token" '
            '"Invalid OAuth access token - Cannot parse access token"'
        },
    )


def token_bad_signature() -> MetaError:
    # APPID|APPSECRET with the wrong secret: 190 "Invalid OAuth access token signature." (verify)
    return MetaError(400, "Invalid OAuth access token signature.", "OAuthException", 190)


def meta_time(ts: float) -> str:
    """Meta prints times as 'Sunday, 09-Aug-20 01:30:58 PDT' (github.com/idno/Facebook/issues/38)."""
    try:
        from zoneinfo import ZoneInfo

        d = _dt.datetime.fromtimestamp(ts, ZoneInfo("America/Los_Angeles"))
    except Exception:  # no tz database on the machine
        d = _dt.datetime.fromtimestamp(ts, _dt.UTC)
    return d.strftime("%A, %d-%b-%y %H:%M:%S ") + (d.tzname() or "UTC")


def token_expired(expired_at: float, now: float) -> MetaError:
    # [EH] subcode 463 "Expired"; text as answered by Meta (github.com/snarfed/bridgy/issues/59,
    # github.com/blynkkk/blynk-server/issues/435)
    msg = (
        f"Error validating access token: Session has expired on {meta_time(expired_at)}. "
        f"The current time is {meta_time(now)}."
    )
    return MetaError(400, msg, "OAuthException", 190, 463)


def token_password_changed() -> MetaError:
    # [EH] subcode 460 "Password Changed"; text: github.com/roughike/flutter_facebook_login/issues/151
    return MetaError(
        400,
        "Error validating access token: The session has been invalidated because the user "
        "changed their password or Facebook has changed the session for security reasons.",
        "OAuthException",
        190,
        460,
    )


def token_logged_out() -> MetaError:
    # [EH] subcode 467 "Invalid access token" (user logged out) (verify text)
    return MetaError(
        400,
        "Error validating access token: The session is invalid because the user logged out.",
        "OAuthException",
        190,
        467,
    )


def token_app_not_authorized(app_id: str) -> MetaError:
    # [EH] subcode 458 "App Not Installed" (verify text)
    return MetaError(
        400,
        f"Error validating access token: The user has not authorized application {app_id}.",
        "OAuthException",
        190,
        458,
    )


# ---------------------------------------------------------------- appsecret_proof ([SP])


def appsecret_proof_missing() -> MetaError:
    # Quoted answers: github.com/sromku/android-simple-facebook/issues/160 (HTTP 400, code 100, GraphMethodException)
    return MetaError(400, "API calls from the server require an appsecret_proof argument", "GraphMethodException", 100)


def appsecret_proof_invalid() -> MetaError:
    # Quoted answer: github.com/facebook/facebook-python-business-sdk/issues/528 (status 400, code 100)
    return MetaError(400, "Invalid appsecret_proof provided in the API argument", "GraphMethodException", 100)


# ---------------------------------------------------------------- objects, fields, methods


def unsupported_request(method: str, object_id: str) -> MetaError:
    # 100/33: github.com/roughike/flutter_facebook_login/issues/44 (GET),
    # github.com/DiegoRBaquero/node-fb-messenger/issues/37 (POST)
    return MetaError(
        400,
        f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, "
        "cannot be loaded due to missing permissions, or does not support this operation. "
        "Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
        "GraphMethodException",
        100,
        33,
    )


def alias_not_found(alias: str) -> MetaError:
    # A username (alias) no Page has: code 803, text as quoted in public Graph client libraries' tests and
    # error handlers; HTTP 400 as observed live by a third party (verify status)
    return MetaError(400, f"(#803) Some of the aliases you requested do not exist: {alias}", "OAuthException", 803)


def unknown_path(components: str) -> MetaError:
    # Graph answers an unknown edge of a known node with code 2500 "Unknown path components" (verify)
    return MetaError(400, f"Unknown path components: {components}", "OAuthException", 2500)


def nonexisting_field(field: str, node_type: str) -> MetaError:
    # [EH] code 100; text as answered by Meta, node types named as in specs/*.json
    return MetaError(
        400, f"(#100) Tried accessing nonexisting field ({field}) on node type ({node_type})", "OAuthException", 100
    )


def invalid_parameter(message: str, subcode: int | None = None) -> MetaError:
    # [EH] code 100 "Invalid parameter"
    return MetaError(400, message, "OAuthException", 100, subcode)


def unknown_parameter(name: str) -> MetaError:
    # [EH] code 100 "Invalid parameter": Meta refuses a parameter the endpoint does not take (verify text)
    return MetaError(
        400,
        "(#100) Invalid parameter",
        "OAuthException",
        100,
        user_title="Invalid parameter",
        user_msg=f"The parameter {name} is not supported by this endpoint.",
    )


def duplicate_status() -> MetaError:
    # graph-api reference §2.6 and §9: the same message posted twice in a row to a Page's feed
    return MetaError(400, "(#506) Duplicate status message", "OAuthException", 506)


def permission_missing(permission: str, code: int = 10) -> MetaError:
    # [EH] code 10 "API Permission Denied" / 200-299 "API Permission"; HTTP 403 (verify status)
    if code == 10:
        msg = f"(#10) This endpoint requires the '{permission}' permission."
    else:
        msg = f"(#{code}) Requires {permission} permission to manage the object"
    return MetaError(403, msg, "OAuthException", code)


def debug_token_needs_app_token() -> MetaError:
    # [DT] "The tokens must be from the same app." (verify text)
    return MetaError(
        400,
        "(#100) You must provide an app access token, or a user access token that is an owner or developer of the app",
        "OAuthException",
        100,
    )


def missing_parameter(name: str) -> MetaError:
    return MetaError(400, f"(#100) The parameter {name} is required", "OAuthException", 100)


# ---------------------------------------------------------------- comments, moderation, private replies


def page_token_required() -> MetaError:
    # Graph's code 210 for a Page edge called with a user token; text as quoted in public issue threads (verify)
    return MetaError(400, "(#210) A page access token is required to request this resource.", "OAuthException", 210)


def ig_reply_to_hidden() -> MetaError:
    # IG Comment Replies reference: "You cannot reply to hidden comments." Code and text: (verify)
    return MetaError(400, "(#100) You cannot reply to a hidden comment.", "OAuthException", 100)


def ig_hide_own_comment() -> MetaError:
    # IG Comment reference: comments by the media owner are always shown, so they cannot be hidden (verify text)
    return MetaError(400, "(#100) Comments made by the media owner cannot be hidden.", "OAuthException", 100)


def fb_hide_own_comment() -> MetaError:
    # Comment reference: can_hide is false for the Page's own comments (verify code and text)
    return MetaError(400, "(#100) This comment cannot be hidden.", "OAuthException", 100)


def fb_edit_others_comment() -> MetaError:
    # Comment reference (update message): only the comment's author may edit it (verify code and text)
    return MetaError(403, "(#200) Permissions error", "OAuthException", 200)


def private_reply_already_sent() -> MetaError:
    # Private Replies: one message per comment. Text as Meta answers it, quoted in public code handling
    # code 10900 (e.g. "(#10900) Activity already replied to"); status (verify)
    return MetaError(400, "(#10900) Activity already replied to", "OAuthException", 10900)


def private_reply_expired() -> MetaError:
    # Private Replies: within 7 days of the comment. Code 10901 and text as quoted from Meta's answers in public
    # code (verify)
    return MetaError(400, "(#10901) Activity replying time expired", "OAuthException", 10901)


def private_reply_not_allowed() -> MetaError:
    # A comment the Page wrote itself: nobody to answer privately. Code 10903 and text as quoted in public code
    # (verify)
    return MetaError(400, "(#10903) This user can't reply to this activity", "OAuthException", 10903)


def private_reply_no_recipient() -> MetaError:
    # Messenger Platform error codes: 100 / 2018001 "No matching user found" (verify for an unknown comment_id)
    return MetaError(400, "(#100) No matching user found", "OAuthException", 100, 2018001)


def message_outside_window() -> MetaError:
    # Messenger Platform error codes: 10 / 2018278 "This message is sent outside of allowed window." — the sandbox
    # serves private replies only, so a message to a person (recipient id) is outside any open conversation
    return MetaError(400, "(#10) This message is sent outside of allowed window.", "OAuthException", 10, 2018278)


def enum_param(name: str, allowed, got: str) -> MetaError:
    # Graph's answer for a value outside an enum parameter (verify text)
    return MetaError(
        400, f'(#100) Param {name} must be one of {{{", ".join(sorted(allowed))}}} - got "{got}"', "OAuthException", 100
    )


# ---------------------------------------------------------------- OAuth code exchange (graph.facebook.com)


def client_id_invalid() -> MetaError:
    # quoted Graph answer "Error validating application. Invalid application ID." code 101 (verify)
    return MetaError(400, "Error validating application. Invalid application ID.", "OAuthException", 101)


def client_secret_invalid() -> MetaError:
    # quoted Graph answer {"message":"Error validating client secret.","type":"OAuthException","code":1}
    return MetaError(400, "Error validating client secret.", "OAuthException", 1)


def code_redirect_mismatch() -> MetaError:
    # github.com/freizl/hoauth2/issues/19, scribejava/scribejava/issues/605: code 100, OAuthException
    return MetaError(
        400,
        "Error validating verification code. Please make sure your redirect_uri is identical "
        "to the one you used in the OAuth dialog request",
        "OAuthException",
        100,
        36008,
    )


def code_expired() -> MetaError:
    # code 100 subcode 36007 (brief; verify text)
    return MetaError(400, "This authorization code has expired.", "OAuthException", 100, 36007)


def code_used() -> MetaError:
    # WWW-Authenticate "invalid_code" "This authorization code has been used." (CaptainFact/captain-fact-api/issues/54)
    return MetaError(400, "This authorization code has been used.", "OAuthException", 100, 36009)


def code_invalid() -> MetaError:
    return MetaError(400, "Invalid verification code format.", "OAuthException", 100, 36008)


def grant_type_unsupported(value: str) -> MetaError:
    return MetaError(400, f"Unsupported grant_type: {value}" if value else "Missing grant_type", "OAuthException", 100)


# ---------------------------------------------------------------- Instagram Login


def ig_oauth(message: str) -> MetaError:
    # api.instagram.com/oauth/access_token: {"error_type": "OAuthException", "code": 400, "error_message": ...}
    return MetaError(400, message, "OAuthException", 400, shape="instagram_oauth")


def ig_refresh_too_early() -> MetaError:
    # docs .../instagram-platform/reference/refresh_access_token: refresh "a long-lived access token that is
    # at least 24 hours old but has not expired" (message text: verify)
    return MetaError(
        400, "(#100) The access token can be refreshed only once it is at least 24 hours old", "OAuthException", 100
    )


def ig_refresh_short_lived() -> MetaError:
    return MetaError(400, "(#100) Only long-lived access tokens can be refreshed", "OAuthException", 100)


# ---------------------------------------------------------------- throttling ([RL])


def rate_limit_app() -> MetaError:
    # [RL] application-level throttling code 4; [EH] 4 "API Too Many Calls"
    return MetaError(400, "(#4) Application request limit reached", "OAuthException", 4, is_transient=True)


def rate_limit_page_legacy() -> MetaError:
    # [RL] page-level throttling code 32 (php-graph-sdk/issues/634 "(#32) Page request limited reached")
    return MetaError(400, "(#32) Page request limit reached", "OAuthException", 32, is_transient=True)


def rate_limit_buc_page() -> MetaError:
    # [RL] BUC error code 80001 = Pages
    return MetaError(
        400,
        "(#80001) There have been too many calls to this Page account. Wait a bit and try again. "
        "For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",
        "OAuthException",
        80001,
        is_transient=True,
    )


def rate_limit_buc_instagram() -> MetaError:
    # [RL] BUC error code 80002 = Instagram
    return MetaError(
        400,
        "(#80002) There have been too many calls to this Instagram account. Wait a bit and try "
        "again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",
        "OAuthException",
        80002,
        is_transient=True,
    )


# ---------------------------------------------------------------- server side


def unknown_error() -> MetaError:
    # [EH] code 1 "API Unknown": possibly a temporary issue due to downtime; retry
    return MetaError(500, "An unknown error occurred", "OAuthException", 1, 99, is_transient=True)


def transient() -> MetaError:
    # [EH] code 2 "API Service": temporary issue due to downtime; retry
    return MetaError(
        500,
        "An unexpected error has occurred. Please retry your request later.",
        "OAuthException",
        2,
        is_transient=True,
    )


def batch_too_large() -> MetaError:
    # Batch limit 50 (developers.facebook.com/docs/graph-api/batch-requests#limits); text (verify)
    return MetaError(400, "(#100) Too many requests in batch message. Maximum batch size is 50", "OAuthException", 100)


def batch_invalid() -> MetaError:
    return MetaError(400, "(#100) The parameter batch must be a JSON array of requests", "OAuthException", 100)


# ---------------------------------------------------------------- insights (graph-api reference §4, §9)


def insights_no_metric() -> MetaError:
    # reference §4.3 and §9: no `metric` at all
    return MetaError(
        400,
        "No metric was specified to be fetched. Please specify one or more metrics to be fetched and try again.",
        "OAuthException",
        3001,
        1504028,
    )


def insights_metric_not_one_of(index: int, allowed) -> MetaError:
    # reference §4.1 / §4.2 and §9 [OBS]: a retired or unknown Instagram metric, or one the period/metric_type
    # does not serve, listing the metrics that are served
    return MetaError(
        400, f"(#100) metric[{index}] must be one of the following values: {', '.join(allowed)}", "OAuthException", 100
    )


def insights_invalid_page_metric() -> MetaError:
    # reference §4.3 [OBS] "(#100) … must be a valid insights metric"; the full text as quoted in
    # facebook/facebook-python-business-sdk#656 ("The value must be a valid insights metric")
    return MetaError(400, "(#100) The value must be a valid insights metric", "OAuthException", 100)


def insights_unsupported_breakdown() -> MetaError:
    # reference §4.1: a breakdown the metric does not take → "An unknown error has occurred." (code 1; the HTTP
    # status Graph uses for code 1 is 500) (verify status)
    return MetaError(500, "An unknown error has occurred.", "OAuthException", 1)


def insights_span(days: int) -> MetaError:
    # reference §4.3 (Page since/until ≤ 90 days) and §4.1 (follower_count, 30 days); text (verify)
    return MetaError(
        400, f"(#100) There cannot be more than {days} days ({days * 86400} s) between since and until",
        "OAuthException", 100,
    )  # fmt: skip


def insights_since_after_until() -> MetaError:
    # (verify text)
    return MetaError(400, "(#100) The since parameter must be earlier than the until parameter", "OAuthException", 100)


def insights_bad_time(name: str) -> MetaError:
    # since/until take a UNIX timestamp or a date (reference §4.3) (verify text)
    return MetaError(400, f"(#100) The parameter {name} must be a unix timestamp or a date", "OAuthException", 100)


def insights_timeframe_required() -> MetaError:
    # reference §4.1: demographics need period=lifetime and a timeframe (verify text)
    return MetaError(
        400,
        "(#100) Demographic metrics require the timeframe parameter: one of this_week, this_month",
        "OAuthException",
        100,
    )


def insights_media_metric_unsupported(metric: str) -> MetaError:
    # a metric the media's product type lacks; text observed live (airbytehq/airbyte#62902)
    return MetaError(
        400,
        f"(#100) The Media Insights API does not support the {metric} metric for this media product type.",
        "OAuthException",
        100,
    )


def insights_carousel_child() -> MetaError:
    # reference §4.2: album children have no insights (verify text)
    return MetaError(
        400, "(#100) The Media Insights API does not support carousel children media.", "OAuthException", 100
    )


def insights_not_enough_viewers() -> MetaError:
    # reference §4.2: a story with fewer than 5 viewers
    return MetaError(400, "(#10) Not enough viewers for the media to show insights", "OAuthException", 10)


PRESETS = {
    "rate_limit_app": rate_limit_app,
    "rate_limit_page": rate_limit_buc_page,
    "rate_limit_page_legacy": rate_limit_page_legacy,
    "rate_limit_instagram": rate_limit_buc_instagram,
    "token_expired": lambda: token_expired(0, 0),
    "token_invalidated": token_password_changed,
    "token_logged_out": token_logged_out,
    "transient": transient,
    "unknown": unknown_error,
    "permission": lambda: permission_missing("pages_manage_posts", 200),
    "media_type_not_supported": lambda: MetaError(
        400,
        "Fatal",
        "OAuthException",
        -1,
        2207073,
        False,
        "Media Type Not Supported",
        "The media type is not supported for this endpoint",
    ),  # seeds/003
}


def preset(name: str) -> MetaError:
    if name not in PRESETS:
        raise KeyError(name)
    return PRESETS[name]()
