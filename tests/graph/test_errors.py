"""Meta's error JSON (messages as Meta writes them) → the typed error a caller acts on."""

from __future__ import annotations

import json

import pytest
import requests

from socialhub.graph.errors import (
    GraphAuthError,
    GraphPermissionError,
    GraphRateLimitError,
    GraphTransientError,
    GraphValidationError,
    error_from_exception,
    error_from_response,
)

pytestmark = pytest.mark.no_sandbox


def meta_error(code: int, message: str, *, subcode: int | None = None, **extra: object) -> dict:
    error: dict = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEfGh123"}
    if subcode is not None:
        error["error_subcode"] = subcode
    error.update(extra)
    return {"error": error}


EXPIRED = meta_error(
    190,
    "Error validating access token: Session has expired on Tuesday, 10-Nov-26 12:00:00 PST. "
    "The current time is Wednesday, 11-Nov-26 01:00:00 PST.",
    subcode=463,
)


def test_expired_session_is_an_auth_error_with_a_reconnect_message() -> None:
    error = error_from_response(400, EXPIRED, {})
    assert type(error) is GraphAuthError
    assert error.message == "Facebook no longer accepts this connection: the session expired. Reconnect the account."
    assert (error.code, error.subcode, error.fbtrace_id, error.http_status) == (190, 463, "AbCdEfGh123", 400)
    assert error.error_type == "OAuthException"
    assert error.raw == EXPIRED["error"]
    assert error.retryable is False and error.permanent is True
    assert "Session has expired" in (error.meta_message or "")


@pytest.mark.parametrize(
    ("code", "subcode", "message", "reason"),
    [
        (
            190,
            460,
            "Error validating access token: The session has been invalidated because the user changed their "
            "password or Facebook has changed the session for security reasons.",
            "the password of the account was changed",
        ),
        (190, 458, "Error validating access token: The user has not authorized application 1234.", "removed"),
        (
            190,
            459,
            "Error validating access token: You cannot access the app till you log in to www.facebook.com",
            "locked",
        ),
        (190, 464, "Error validating access token: Sessions for the user are not allowed.", "not confirmed"),
        (190, 467, "Error validating access token: The user is enrolled in a blocking, logged-in checkpoint", "ended"),
        (190, None, "Invalid OAuth access token - Cannot parse access token", "revoked or is no longer valid"),
        (102, None, "Session key invalid or no longer valid", "revoked or is no longer valid"),
    ],
)
def test_token_problems_are_auth_errors(code: int, subcode: int | None, message: str, reason: str) -> None:
    error = error_from_response(400, meta_error(code, message, subcode=subcode), {})
    assert isinstance(error, GraphAuthError)
    assert reason in error.message
    assert error.message.endswith("Reconnect the account.")
    assert not error.retryable


def test_instagram_host_names_instagram() -> None:
    error = error_from_response(400, EXPIRED, {}, host="instagram")
    assert error.message.startswith("Instagram no longer accepts this connection")


def test_code_10_is_a_permission_error() -> None:
    error = error_from_response(403, meta_error(10, "(#10) Application does not have permission for this action"), {})
    assert type(error) is GraphPermissionError
    assert not error.retryable
    assert "permission" in error.message and "Reconnect" in error.message


def test_code_200_names_the_missing_permission() -> None:
    payload = meta_error(200, "(#200) Requires pages_manage_posts permission to manage the object")
    error = error_from_response(403, payload, {})
    assert isinstance(error, GraphPermissionError)
    assert error.missing_permission == "pages_manage_posts"
    assert "(pages_manage_posts)" in error.message


@pytest.mark.parametrize("code", [200, 230, 299])
def test_200_to_299_are_permission_errors(code: int) -> None:
    assert isinstance(
        error_from_response(400, meta_error(code, f"(#{code}) Permissions error"), {}), GraphPermissionError
    )


@pytest.mark.parametrize(
    ("code", "subcode", "message"),
    [
        (4, None, "(#4) Application request limit reached"),
        (17, 2446079, "(#17) User request limit reached"),
        (32, None, "(#32) Page request limit reached"),
        (
            80001,
            None,
            "(#80001) There have been too many calls to this Page account. Wait a bit and try again. For more "
            "info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",
        ),
        (
            80002,
            None,
            "(#80002) There have been too many calls to this Instagram account. Wait a bit and try again.",
        ),
        (80014, None, "(#80014) There have been too many calls for this ad account."),
    ],
)
def test_rate_limits_wait_for_metas_estimate(code: int, subcode: int | None, message: str) -> None:
    headers = {
        "X-Business-Use-Case-Usage": json.dumps(
            {
                "1234567890": [
                    {
                        "type": "pages",
                        "call_count": 100,
                        "total_cputime": 40,
                        "total_time": 35,
                        "estimated_time_to_regain_access": 7,
                    },
                ]
            }
        )
    }
    error = error_from_response(400, meta_error(code, message, subcode=subcode, is_transient=True), headers)
    assert type(error) is GraphRateLimitError
    assert error.retryable
    assert error.retry_after == 7 * 60  # minutes in the header, seconds on the error
    assert error.retry_delay(attempt=5) == 420


def test_rate_limit_without_usage_headers_gets_a_default_wait() -> None:
    error = error_from_response(400, meta_error(4, "(#4) Application request limit reached"), {})
    assert isinstance(error, GraphRateLimitError)
    assert error.retry_after == 300


def test_613_waits_briefly_without_headers() -> None:
    error = error_from_response(400, meta_error(613, "(#613) Calls to this api have exceeded the rate limit."), {})
    assert isinstance(error, GraphRateLimitError)
    assert error.retry_after == 60


def test_retry_after_header_wins() -> None:
    error = error_from_response(429, meta_error(4, "(#4) Application request limit reached"), {"Retry-After": "12"})
    assert error.retry_after == 12


def test_largest_regain_time_over_all_objects_is_used() -> None:
    usage = {
        "1": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 2}],
        "2": [{"type": "instagram", "call_count": 100, "estimated_time_to_regain_access": 30}],
    }
    error = error_from_response(
        400, meta_error(80002, "too many calls"), {"x-business-use-case-usage": json.dumps(usage)}
    )
    assert error.retry_after == 1800


@pytest.mark.parametrize(
    "payload",
    [
        {
            "error": {
                "message": "An unexpected error has occurred. Please retry your request later.",
                "type": "OAuthException",
                "is_transient": True,
                "code": 2,
                "fbtrace_id": "A1",
            }
        },
        meta_error(1, "An unknown error occurred", subcode=99),
        meta_error(2, "(#2) Service temporarily unavailable"),
        meta_error(100, "Something odd", is_transient=True),
    ],
)
def test_transient_errors_are_retryable_with_backoff(payload: dict) -> None:
    error = error_from_response(500, payload, {})
    assert type(error) is GraphTransientError
    assert error.retryable and not error.outcome_unknown
    assert error.retry_after is None
    assert [error.retry_delay(n) for n in range(3)] == [30, 60, 120]
    assert error.retry_delay(20) == 3600


def test_html_500_page_is_transient() -> None:
    error = error_from_response(502, "<html><body><h1>502 Bad Gateway</h1></body></html>", {}, method="GET")
    assert type(error) is GraphTransientError
    assert error.http_status == 502
    assert "HTTP 502" in error.message


def test_empty_5xx_is_transient() -> None:
    assert isinstance(error_from_response(503, None, {}), GraphTransientError)


def test_html_404_is_a_validation_error() -> None:
    error = error_from_response(404, "<html>Not Found</html>", {})
    assert type(error) is GraphValidationError
    assert not error.retryable


def test_non_json_2xx_on_a_write_has_an_unknown_outcome() -> None:
    error = error_from_response(200, "<html>proxy login</html>", {}, method="POST")
    assert isinstance(error, GraphTransientError)
    assert error.outcome_unknown


def test_object_not_found_100_33() -> None:
    payload = meta_error(
        100,
        "Unsupported get request. Object with ID '17841400000000000' does not exist, cannot be loaded due to "
        "missing permissions, or does not support this operation. Please read the Graph API documentation at "
        "https://developers.facebook.com/docs/graph-api",
        subcode=33,
        type="GraphMethodException",
    )
    error = error_from_response(400, payload, {})
    assert type(error) is GraphValidationError
    assert error.message == "Meta cannot find this item, or the connected account may no longer access it."
    assert error.error_type == "GraphMethodException"
    assert not error.retryable


def test_invalid_parameter_100_keeps_metas_reason() -> None:
    error = error_from_response(400, meta_error(100, "(#100) The parameter message is required"), {})
    assert isinstance(error, GraphValidationError)
    assert error.message == "Meta refused a value sent with this request: (#100) The parameter message is required"


def test_error_user_msg_is_preferred() -> None:
    payload = meta_error(
        36003,
        "The aspect ratio is not supported.",
        subcode=2207009,
        error_user_title="Cannot publish image",
        error_user_msg="The submitted image with aspect ratio ('0.5', ) cannot be published. Please submit an "
        "image with a valid aspect ratio.",
    )
    error = error_from_response(400, payload, {})
    assert isinstance(error, GraphValidationError)
    assert error.message.startswith("The submitted image with aspect ratio")
    assert error.user_title == "Cannot publish image"


@pytest.mark.parametrize(
    ("code", "subcode", "words", "retryable"),
    [
        (9007, 2207027, "still processing", True),
        (9, 2207042, "daily publishing limit", False),
        (9004, 2207052, "could not download the media", True),
        (36001, 2207005, "image format", False),
        (36003, 2207009, "aspect ratio", False),
        (100, 2207010, "caption is too long", False),
        (352, 2207026, "video format", False),
        (-2, 2207020, "expired", False),
        (-2, 2207003, "too long to download", True),
        (-1, 2207073, "media type", False),
        (100, 2207089, "reel", False),
    ],
)
def test_instagram_publishing_subcodes_get_plain_words(code: int, subcode: int, words: str, retryable: bool) -> None:
    error = error_from_response(400, meta_error(code, "Meta's terse text", subcode=subcode), {})
    assert type(error) is GraphValidationError
    assert words in error.message
    assert error.retryable is retryable
    assert (error.retry_after is not None) is retryable


def test_container_not_ready_retries_after_a_minute() -> None:
    payload = meta_error(
        9007, "Media ID is not available", subcode=2207027, error_user_title="Media not ready for publishing"
    )
    error = error_from_response(400, payload, {})
    assert error.retry_after == 60


def test_instagram_server_error_is_transient() -> None:
    error = error_from_response(400, meta_error(-1, "Unexpected error", subcode=2207001), {})
    assert type(error) is GraphTransientError
    assert "Instagram had a server error" in error.message


def test_spam_block_with_code_4_is_not_a_rate_limit() -> None:
    error = error_from_response(400, meta_error(4, "Application request limit reached", subcode=2207051), {})
    assert type(error) is GraphValidationError
    assert "spam" in error.message


def test_unknown_code_falls_back_to_metas_message() -> None:
    error = error_from_response(400, meta_error(12345, "Something Meta says"), {})
    assert type(error) is GraphValidationError
    assert error.message == "Something Meta says"


def test_oauth_endpoint_error_shape() -> None:
    # api.instagram.com answers OAuth errors without the usual envelope.
    payload = {"error_type": "OAuthException", "code": 400, "error_message": "Invalid authorization code"}
    error = error_from_response(400, payload, {})
    assert type(error) is GraphValidationError
    assert error.message == "Invalid authorization code"
    assert error.error_type == "OAuthException"


def test_json_text_body_is_decoded() -> None:
    error = error_from_response(400, json.dumps(EXPIRED), {})
    assert isinstance(error, GraphAuthError)


def test_read_timeout_on_get_is_plain_transient() -> None:
    error = error_from_exception(requests.ReadTimeout("Read timed out. (read timeout=20)"), method="get")
    assert type(error) is GraphTransientError
    assert error.retryable and not error.outcome_unknown
    assert error.http_status is None


def test_read_timeout_on_post_has_unknown_outcome() -> None:
    error = error_from_exception(requests.ReadTimeout("Read timed out."), method="POST")
    assert error.outcome_unknown
    assert "check what happened" in error.message


def test_refused_connection_on_post_never_left() -> None:
    exc = requests.ConnectionError(
        "HTTPSConnectionPool(host='graph.facebook.com', port=443): Max retries exceeded with url: "
        "/v25.0/123/feed (Caused by NewConnectionError('Failed to establish a new connection: "
        "[Errno 111] Connection refused'))"
    )
    error = error_from_exception(exc, method="POST")
    assert isinstance(error, GraphTransientError)
    assert not error.outcome_unknown


def test_dropped_connection_on_post_has_unknown_outcome() -> None:
    exc = requests.ConnectionError("('Connection aborted.', RemoteDisconnected('Remote end closed connection'))")
    assert error_from_exception(exc, method="POST").outcome_unknown


def test_exception_text_is_redacted() -> None:
    exc = requests.ConnectionError(
        "Max retries exceeded with url: /v25.0/me?access_token=EAAsecret123456&appsecret_proof=abcdef0123"
    )
    error = error_from_exception(exc, method="GET")
    assert "EAAsecret123456" not in error.operator_details()
    assert "abcdef0123" not in repr(error)
