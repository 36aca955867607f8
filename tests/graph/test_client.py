"""GraphClient against `responses`: what goes over the wire, what comes back, what is recorded."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from responses import matchers

from socialhub.graph import (
    BatchRequest,
    GraphAuthError,
    GraphClient,
    GraphRateLimitError,
    GraphTransientError,
    GraphValidationError,
    format_fields,
)
from socialhub.graph.client import shared_session
from socialhub.graph.models import GraphCall
from socialhub.graph.usage import wait_seconds

from .conftest import FB, IG, TOKEN

pytestmark = [pytest.mark.no_sandbox, pytest.mark.django_db]

# HMAC-SHA256(key="fb-app-secret", msg=TOKEN), computed independently of the client.
EXPECTED_PROOF = hmac.new(b"fb-app-secret", TOKEN.encode(), hashlib.sha256).hexdigest()


def query_of(call: responses.Call) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


def form_of(call: responses.Call) -> dict[str, list[str]]:
    body = call.request.body
    return parse_qs(body if isinstance(body, str) else (body or b"").decode())


def test_format_fields_nests() -> None:
    spec = ["id", "name", {"instagram_business_account": ["id", "username", {"media": ["id"]}]}]
    assert format_fields(spec) == "id,name,instagram_business_account{id,username,media{id}}"
    assert format_fields("id,name") == "id,name"
    assert format_fields(["comments.limit(5)", {"from": "id"}]) == "comments.limit(5),from{id}"


def test_appsecret_proof_matches_a_known_hmac() -> None:
    from socialhub.graph.client import appsecret_proof

    # `echo -n token | openssl dgst -sha256 -hmac secret`
    assert appsecret_proof("token", "secret") == "e941110e3d2bfe82621f0e3e1434730d7305d106c5f68c87165d0b27a4611a4a"


def test_get_sends_token_proof_fields_and_timeout(mocked: responses.RequestsMock, settings) -> None:  # type: ignore[no-untyped-def]
    settings.GRAPH_TIMEOUT_READ = 7.5
    mocked.get(f"{FB}/me/accounts", json={"data": []})
    client = GraphClient(access_token=TOKEN)
    assert client.get("me/accounts", fields=["id", {"instagram_business_account": ["id", "username"]}]) == {"data": []}
    call = mocked.calls[0]
    query = query_of(call)
    assert query["access_token"] == [TOKEN]
    assert query["appsecret_proof"] == [EXPECTED_PROOF]
    assert query["fields"] == ["id,instagram_business_account{id,username}"]
    assert call.request.req_kwargs["timeout"] == (7.5, 7.5)


def test_instagram_host_uses_its_own_base_url_and_app_secret(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{IG}/me", json={"id": "1784"})
    GraphClient(access_token=TOKEN, host="instagram").get("me")
    query = query_of(mocked.calls[0])
    assert mocked.calls[0].request.url.startswith(IG + "/me?")
    assert query["appsecret_proof"] == [hmac.new(b"ig-app-secret", TOKEN.encode(), hashlib.sha256).hexdigest()]


def test_settings_are_read_at_call_time(mocked: responses.RequestsMock, settings) -> None:  # type: ignore[no-untyped-def]
    client = GraphClient(access_token=TOKEN)
    settings.META_GRAPH_URL = "https://elsewhere.test"
    settings.META_GRAPH_VERSION = "v99.0"
    mocked.get("https://elsewhere.test/v99.0/me", json={"id": "1"})
    assert client.get("/me") == {"id": "1"}


def test_post_puts_credentials_in_the_body_not_the_url(mocked: responses.RequestsMock) -> None:
    mocked.post(f"{FB}/123/feed", json={"id": "123_456"})
    result = GraphClient(access_token=TOKEN).post("123/feed", data={"message": "Hello", "published": False})
    assert result == {"id": "123_456"}
    call = mocked.calls[0]
    assert "access_token" not in call.request.url
    form = form_of(call)
    assert form["access_token"] == [TOKEN]
    assert form["appsecret_proof"] == [EXPECTED_PROOF]
    assert form["message"] == ["Hello"] and form["published"] == ["false"]


def test_uploads_get_the_upload_timeout(mocked: responses.RequestsMock, settings) -> None:  # type: ignore[no-untyped-def]
    settings.GRAPH_TIMEOUT_UPLOAD = 300.0
    mocked.post(f"{FB}/123/photos", json={"id": "9"})
    GraphClient(access_token=TOKEN).post("123/photos", files={"source": ("a.jpg", b"\xff\xd8", "image/jpeg")})
    assert mocked.calls[0].request.req_kwargs["timeout"] == (10.0, 300.0)


def test_absolute_urls_and_no_token(mocked: responses.RequestsMock) -> None:
    mocked.post("https://api.instagram.test/oauth/access_token", json={"access_token": "IGshort", "user_id": 5})
    result = GraphClient(host="instagram").request(
        "POST", "https://api.instagram.test/oauth/access_token", data={"code": "AQD", "client_secret": "s"}
    )
    assert result["access_token"] == "IGshort"
    assert "appsecret_proof" not in form_of(mocked.calls[0])
    assert GraphCall.objects.get().path == "/oauth/access_token"


def test_resumable_upload_sends_raw_bytes_with_an_oauth_header(mocked: responses.RequestsMock, settings) -> None:  # type: ignore[no-untyped-def]
    settings.META_RUPLOAD_URL = "https://rupload.facebook.test"
    url = "https://rupload.facebook.test/ig-api-upload/v25.0/17900000000000001"
    mocked.post(url, json={"success": True, "message": "Upload successful."})
    result = GraphClient(access_token=TOKEN).request(
        "POST", url, content=b"\x00\x00\x00\x18ftypmp42", headers={"offset": "0", "file_size": "12"}
    )
    assert result["success"] is True
    sent = mocked.calls[0].request
    assert sent.headers["Authorization"] == f"OAuth {TOKEN}"
    assert sent.headers["offset"] == "0" and sent.body == b"\x00\x00\x00\x18ftypmp42"
    assert sent.url == url  # no token in the URL
    assert sent.req_kwargs["timeout"][1] == settings.GRAPH_TIMEOUT_UPLOAD
    assert GraphCall.objects.get().host == "rupload.facebook.test"


@pytest.fixture
def rupload_on_graph_host(fake_meta, settings) -> None:  # type: ignore[no-untyped-def]
    """One local stand-in serving both Graph and rupload under the same prefix."""
    settings.META_RUPLOAD_URL = settings.META_GRAPH_URL


@pytest.mark.usefixtures("rupload_on_graph_host")
def test_graph_calls_keep_their_proof_when_rupload_shares_the_graph_host(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{FB}/me/accounts", json={"data": []})
    mocked.post(f"{FB}/123/feed", json={"id": "123_456"})
    client = GraphClient(access_token=TOKEN)
    client.get("me/accounts")
    client.post("123/feed", data={"message": "Hello"})
    read, write = mocked.calls
    assert query_of(read)["appsecret_proof"] == [EXPECTED_PROOF]
    assert query_of(read)["access_token"] == [TOKEN]
    assert form_of(write)["appsecret_proof"] == [EXPECTED_PROOF]
    assert form_of(write)["access_token"] == [TOKEN]
    assert "Authorization" not in read.request.headers and "Authorization" not in write.request.headers


@pytest.mark.usefixtures("rupload_on_graph_host")
def test_an_upload_with_content_uses_the_oauth_header_on_a_shared_host(mocked: responses.RequestsMock) -> None:
    url = f"{FB}/video-upload/v25.0/555"
    mocked.post(url, json={"success": True})
    GraphClient(access_token=TOKEN).request("POST", url, content=b"abc", headers={"offset": "0", "file_size": "3"})
    sent = mocked.calls[0].request
    assert sent.headers["Authorization"] == f"OAuth {TOKEN}"
    assert sent.url == url and sent.body == b"abc"


def test_upload_flag_uses_the_oauth_header_without_a_body(mocked: responses.RequestsMock, settings) -> None:  # type: ignore[no-untyped-def]
    url = "https://rupload.facebook.test/ig-api-upload/v25.0/17900000000000002"
    mocked.post(url, json={"success": True})
    GraphClient(access_token=TOKEN).request("POST", url, headers={"file_url": "https://cdn.test/v.mp4"}, upload=True)
    sent = mocked.calls[0].request
    assert sent.headers["Authorization"] == f"OAuth {TOKEN}"
    assert sent.url == url and not sent.body
    assert sent.req_kwargs["timeout"][1] == settings.GRAPH_TIMEOUT_UPLOAD


def test_a_non_upload_call_to_the_rupload_host_is_signed(mocked: responses.RequestsMock, settings) -> None:  # type: ignore[no-untyped-def]
    settings.META_RUPLOAD_URL = "https://rupload.facebook.test"
    url = "https://rupload.facebook.test/ig-api-upload/v25.0/17900000000000003"
    mocked.get(url, json={"ok": True})
    GraphClient(access_token=TOKEN).request("GET", url)
    call = mocked.calls[0]
    assert query_of(call)["appsecret_proof"] == [EXPECTED_PROOF]
    assert "Authorization" not in call.request.headers


def test_for_app_uses_the_app_token(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{FB}/debug_token", json={"data": {"is_valid": True}})
    GraphClient.for_app().get("debug_token", params={"input_token": TOKEN})
    query = query_of(mocked.calls[0])
    assert query["access_token"] == ["111|fb-app-secret"]
    assert query["appsecret_proof"] == [hmac.new(b"fb-app-secret", b"111|fb-app-secret", hashlib.sha256).hexdigest()]
    assert "input_token=[redacted]" in GraphCall.objects.get().path


def test_clients_share_one_pooled_session_per_thread() -> None:
    assert GraphClient().session is GraphClient(access_token="x").session is shared_session()
    adapter = shared_session().get_adapter("https://graph.facebook.com")
    assert adapter.max_retries.total == 0  # the caller decides what may be repeated
    other: list[object] = []
    thread = threading.Thread(target=lambda: other.append(GraphClient().session))
    thread.start()
    thread.join()
    assert other and other[0] is not shared_session()  # publishing threads never share one session


def test_meta_error_raises_typed_error_and_is_recorded(mocked: responses.RequestsMock) -> None:
    mocked.get(
        f"{FB}/me",
        status=400,
        json={
            "error": {
                "message": "Error validating access token: Session has expired on Tuesday, 10-Nov-26.",
                "type": "OAuthException",
                "code": 190,
                "error_subcode": 463,
                "fbtrace_id": "AxYz123",
            }
        },
    )
    with pytest.raises(GraphAuthError) as caught:
        GraphClient(access_token=TOKEN, channel_id=42).get("me", fields="id")
    assert caught.value.fbtrace_id == "AxYz123"
    call = GraphCall.objects.get()
    assert (call.method, call.host, call.status, call.outcome) == ("GET", "graph.facebook.test", 400, "error")
    assert (call.error_code, call.error_subcode, call.error_type, call.fbtrace_id) == (
        190,
        463,
        "OAuthException",
        "AxYz123",
    )
    assert call.channel_id == 42
    assert call.path == "/v25.0/me?fields=id"


def test_success_is_recorded_without_token_proof_or_secret(mocked: responses.RequestsMock) -> None:
    mocked.get(
        f"{FB}/oauth/access_token",
        json={"access_token": "EAAlong", "expires_in": 5183944},
        headers={"X-App-Usage": '{"call_count": 12, "total_time": 3, "total_cputime": 30}'},
    )
    GraphClient(access_token=TOKEN).get(
        "oauth/access_token",
        params={"grant_type": "fb_exchange_token", "fb_exchange_token": "EAAshort", "client_secret": "fb-app-secret"},
    )
    call = GraphCall.objects.get()
    for secret in (TOKEN, EXPECTED_PROOF, "fb-app-secret", "EAAshort"):
        assert secret not in call.path
    assert "grant_type=fb_exchange_token" in call.path
    assert "client_secret=[redacted]" in call.path
    assert (call.outcome, call.status, call.app_usage_percent) == ("ok", 200, 30)
    assert call.duration_ms >= 0


def test_buc_usage_is_recorded_and_remembered(mocked: responses.RequestsMock) -> None:
    buc = {
        "1784": [
            {
                "type": "instagram",
                "call_count": 96,
                "total_cputime": 20,
                "total_time": 20,
                "estimated_time_to_regain_access": 0,
            }
        ]
    }
    mocked.get(f"{FB}/1784/media", json={"data": []}, headers={"X-Business-Use-Case-Usage": json.dumps(buc)})
    GraphClient(access_token=TOKEN).get("1784/media")
    call = GraphCall.objects.get()
    assert call.buc_usage == buc
    assert call.app_usage_percent == 96
    assert wait_seconds(app_id="111", business_id="1784") > 0
    assert wait_seconds(app_id="111") == 0


def test_rate_limit_error_reads_headers(mocked: responses.RequestsMock) -> None:
    mocked.get(
        f"{FB}/1784/insights",
        status=400,
        json={
            "error": {
                "message": "(#80002) There have been too many calls to this Instagram account.",
                "type": "OAuthException",
                "code": 80002,
                "fbtrace_id": "T1",
            }
        },
        headers={
            "X-Business-Use-Case-Usage": json.dumps(
                {"1784": [{"type": "instagram", "call_count": 104, "estimated_time_to_regain_access": 9}]}
            )
        },
    )
    with pytest.raises(GraphRateLimitError) as caught:
        GraphClient(access_token=TOKEN).get("1784/insights")
    assert caught.value.retry_after == 540
    assert 530 < wait_seconds(app_id="111", business_id="1784") <= 540


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (502, "<html><body>Bad Gateway</body></html>", "text/html"),
        (500, "", "text/plain"),
    ],
)
def test_non_json_server_errors_are_transient(
    mocked: responses.RequestsMock, status: int, body: str, content_type: str
) -> None:
    mocked.get(f"{FB}/me", status=status, body=body, content_type=content_type)
    with pytest.raises(GraphTransientError) as caught:
        GraphClient(access_token=TOKEN).get("me")
    assert caught.value.http_status == status
    assert GraphCall.objects.get().outcome == "error"


def test_timeout_on_post_is_transient_with_unknown_outcome(mocked: responses.RequestsMock) -> None:
    mocked.post(f"{FB}/1784/media_publish", body=requests.ReadTimeout("Read timed out. (read timeout=20)"))
    with pytest.raises(GraphTransientError) as caught:
        GraphClient(access_token=TOKEN).post("1784/media_publish", data={"creation_id": "c1"})
    assert caught.value.outcome_unknown
    call = GraphCall.objects.get()
    assert (call.status, call.outcome) == (None, "exception")
    assert len(mocked.calls) == 1  # never repeated by the client


def test_connection_error_on_get(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{FB}/me", body=requests.ConnectionError("Connection reset by peer"))
    with pytest.raises(GraphTransientError) as caught:
        GraphClient(access_token=TOKEN).get("me")
    assert not caught.value.outcome_unknown


def test_error_inside_200_body_is_raised(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{FB}/me", json={"error": {"message": "(#100) Tried accessing nonexisting field (foo)", "code": 100}})
    with pytest.raises(GraphValidationError):
        GraphClient(access_token=TOKEN).get("me", fields="foo")


def test_recording_failure_does_not_break_the_call(
    mocked: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database is locked")

    monkeypatch.setattr(GraphCall.objects, "create", broken)
    mocked.get(f"{FB}/me", json={"id": "1"})
    with caplog.at_level(logging.WARNING, logger="socialhub.graph.client"):
        assert GraphClient(access_token=TOKEN).get("me") == {"id": "1"}
    assert "Could not record a Graph API call" in caplog.text


def test_logged_error_never_contains_secrets(mocked: responses.RequestsMock, caplog: pytest.LogCaptureFixture) -> None:
    mocked.get(
        f"{FB}/oauth/access_token",
        body=requests.ConnectionError(
            f"Max retries exceeded with url: /v25.0/oauth/access_token?client_secret=fb-app-secret"
            f"&access_token={TOKEN}&appsecret_proof={EXPECTED_PROOF}"
        ),
    )
    with caplog.at_level(logging.INFO, logger="socialhub.graph.client"), pytest.raises(GraphTransientError) as caught:
        GraphClient(access_token=TOKEN).get("oauth/access_token", params={"client_secret": "fb-app-secret"})
    assert "graph GET graph.facebook.test/v25.0/oauth/access_token" in caplog.text
    for secret in (TOKEN, EXPECTED_PROOF, "fb-app-secret"):
        assert secret not in caplog.text
        assert secret not in caught.value.operator_details()
        assert secret not in str(caught.value)


# --- paging -------------------------------------------------------------------------------------------------------


def page(items: list[int], next_after: str | None, path: str = "me/accounts") -> dict:
    body: dict = {"data": [{"id": str(i)} for i in items], "paging": {"cursors": {"before": "b", "after": "a"}}}
    if next_after:
        body["paging"]["next"] = f"{FB}/{path}?access_token={TOKEN}&limit=2&after={next_after}"
    return body


def test_paginate_follows_next_links_without_repeating_the_token(mocked: responses.RequestsMock) -> None:
    mocked.get(
        f"{FB}/me/accounts",
        match=[matchers.query_param_matcher({"after": "p2"}, strict_match=False)],
        json=page([3, 4], "p3"),
    )
    mocked.get(
        f"{FB}/me/accounts",
        match=[matchers.query_param_matcher({"after": "p3"}, strict_match=False)],
        json=page([5], None),
    )
    mocked.get(f"{FB}/me/accounts", json=page([1, 2], "p2"))
    items = list(GraphClient(access_token=TOKEN).paginate("me/accounts", params={"limit": 2}, fields=["id"]))
    assert [i["id"] for i in items] == ["1", "2", "3", "4", "5"]
    assert len(mocked.calls) == 3
    second = query_of(mocked.calls[1])
    assert second["access_token"] == [TOKEN] and second["appsecret_proof"] == [EXPECTED_PROOF]
    assert second["after"] == ["p2"] and second["limit"] == ["2"]


def test_paginate_stops_at_max_pages(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{FB}/me/feed", json=page([1, 2], "again", path="me/feed"))
    items = list(GraphClient(access_token=TOKEN).paginate("me/feed", params={"limit": 2}, max_pages=3))
    assert len(items) == 6
    assert len(mocked.calls) == 3


def test_paginate_follows_cursors_when_there_is_no_next_link(mocked: responses.RequestsMock) -> None:
    mocked.get(
        f"{FB}/1/comments",
        match=[matchers.query_param_matcher({"after": "c1"}, strict_match=False)],
        json={"data": [{"id": "3"}], "paging": {"cursors": {"after": "c2"}}},
    )
    mocked.get(f"{FB}/1/comments", json={"data": [{"id": "1"}, {"id": "2"}], "paging": {"cursors": {"after": "c1"}}})
    items = list(GraphClient(access_token=TOKEN).paginate("1/comments", params={"limit": 2}))
    assert [i["id"] for i in items] == ["1", "2", "3"]
    assert len(mocked.calls) == 2  # the short last page ends it


def test_paginate_refuses_to_send_the_token_to_another_host(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{FB}/me/accounts", json={"data": [{"id": "1"}], "paging": {"next": "https://evil.test/x?after=2"}})
    assert len(list(GraphClient(access_token=TOKEN).paginate("me/accounts"))) == 1
    assert len(mocked.calls) == 1


# --- batch --------------------------------------------------------------------------------------------------------


def batch_callback(request: requests.PreparedRequest) -> tuple[int, dict, str]:
    form = parse_qs(request.body if isinstance(request.body, str) else request.body.decode())
    operations = json.loads(form["batch"][0])
    answers = []
    for op in operations:
        if "fail" in op["relative_url"]:
            body = {
                "error": {
                    "message": "(#100) Invalid parameter",
                    "type": "OAuthException",
                    "code": 100,
                    "error_subcode": 33,
                    "fbtrace_id": "Bx",
                }
            }
            answers.append(
                {
                    "code": 400,
                    "headers": [{"name": "Content-Type", "value": "text/javascript"}],
                    "body": json.dumps(body),
                }
            )
        elif "skip" in op["relative_url"]:
            answers.append(None)
        else:
            answers.append({"code": 200, "headers": [], "body": json.dumps({"id": op["relative_url"].split("?")[0]})})
    return 200, {}, json.dumps(answers)


def test_batch_returns_results_and_errors_in_order(mocked: responses.RequestsMock) -> None:
    mocked.add_callback(responses.POST, FB + "/", callback=batch_callback)
    results = GraphClient(access_token=TOKEN).batch(
        [
            BatchRequest("111", fields=["id", "name"]),
            BatchRequest("fail"),
            BatchRequest("skip", method="POST", body={"message": "hi"}),
            BatchRequest("222"),
        ]
    )
    assert results[0] == {"id": "111"}
    assert isinstance(results[1], GraphValidationError) and results[1].subcode == 33
    assert isinstance(results[2], GraphTransientError) and results[2].outcome_unknown
    assert results[3] == {"id": "222"}
    form = form_of(mocked.calls[0])
    assert form["access_token"] == [TOKEN] and form["appsecret_proof"] == [EXPECTED_PROOF]
    operations = json.loads(form["batch"][0])
    assert operations[0] == {"method": "GET", "relative_url": "111?fields=id%2Cname"}
    assert operations[2] == {"method": "POST", "relative_url": "skip", "body": "message=hi"}


def test_batch_of_120_makes_3_calls(mocked: responses.RequestsMock) -> None:
    mocked.add_callback(responses.POST, FB + "/", callback=batch_callback)
    results = GraphClient(access_token=TOKEN).batch([BatchRequest(str(n)) for n in range(120)])
    assert [len(json.loads(form_of(c)["batch"][0])) for c in mocked.calls] == [50, 50, 20]
    assert [r["id"] for r in results if isinstance(r, dict)] == [str(n) for n in range(120)]
    assert GraphCall.objects.count() == 3


def test_failed_batch_call_gives_each_operation_the_error(mocked: responses.RequestsMock) -> None:
    mocked.post(FB + "/", body=requests.ReadTimeout("Read timed out."))
    results = GraphClient(access_token=TOKEN).batch([BatchRequest("1"), BatchRequest("2")])
    assert all(isinstance(r, GraphTransientError) for r in results)
    assert not results[0].outcome_unknown  # type: ignore[union-attr]  # reads only: nothing happened twice
