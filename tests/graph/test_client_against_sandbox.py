"""The Graph client over real HTTP against the sandbox: tokens from the OAuth flow, each error class, paging,
batch, and slowing down from the usage headers."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.conf import settings

from socialhub.graph import (
    BatchRequest,
    GraphAuthError,
    GraphClient,
    GraphPermissionError,
    GraphRateLimitError,
    GraphTransientError,
    GraphValidationError,
)
from socialhub.graph.models import GraphCall
from socialhub.graph.usage import wait_seconds

client_helpers = pytest.importorskip("sandbox.client", reason="the sandbox is not available")

pytestmark = pytest.mark.django_db

SCOPES = "pages_show_list,pages_read_engagement,pages_manage_posts,instagram_basic,business_management"
REDIRECT_URI = "http://testserver/accounts/facebook/callback/"


def facebook_user_token() -> str:
    """Run Facebook Login against the sandbox (consent to everything offered) and exchange the code."""
    query = urlencode({"client_id": settings.META_APP_ID, "redirect_uri": REDIRECT_URI, "state": "st", "scope": SCOPES})
    dialog = f"{settings.META_FACEBOOK_URL}/{settings.META_GRAPH_VERSION}/dialog/oauth?{query}"
    redirect = client_helpers.complete_facebook_consent(dialog)
    code = parse_qs(urlsplit(redirect).query)["code"][0]
    token = GraphClient().get(
        "oauth/access_token",
        params={
            "client_id": settings.META_APP_ID,
            "client_secret": settings.META_APP_SECRET,
            "redirect_uri": REDIRECT_URI,
            "code": code,
        },
    )
    return str(token["access_token"])


@pytest.fixture
def user_client(sandbox_control) -> GraphClient:  # type: ignore[no-untyped-def]
    return GraphClient(access_token=facebook_user_token(), channel_id=7)


@pytest.fixture
def pages(user_client: GraphClient) -> list[dict]:
    return list(user_client.paginate("me/accounts", fields=["id", "name", "access_token"], params={"limit": 25}))


def test_paging_over_me_accounts_one_by_one(user_client: GraphClient) -> None:
    fields = ["id", "name", {"instagram_business_account": ["id", "username"]}]
    every = list(user_client.paginate("me/accounts", params={"limit": 25}, fields=fields))
    one_by_one = list(user_client.paginate("me/accounts", params={"limit": 1}, fields=fields))
    assert len(every) >= 2
    assert one_by_one == every
    assert any("instagram_business_account" in p for p in every)
    capped = list(user_client.paginate("me/accounts", params={"limit": 1}, fields=fields, max_pages=1))
    assert capped == every[:1]
    recorded = GraphCall.objects.filter(path__startswith=f"/{settings.META_GRAPH_VERSION}/me/accounts")
    assert recorded.count() >= len(every) + 2
    assert all(c.channel_id == 7 and c.outcome == "ok" for c in recorded)
    assert not any(user_client.access_token in c.path for c in recorded)  # type: ignore[operator]


def test_batch_mixes_results_and_errors(user_client: GraphClient, pages: list[dict]) -> None:
    results = user_client.batch(
        [
            BatchRequest("me", fields=["id", "name"]),
            BatchRequest(pages[0]["id"], fields=["id", "name"]),
            BatchRequest("1234", fields=["id"]),
        ]
    )
    assert isinstance(results[0], dict) and results[0]["id"]
    assert results[1] == {"id": pages[0]["id"], "name": pages[0]["name"]}
    assert isinstance(results[2], GraphValidationError) and (results[2].code, results[2].subcode) == (100, 33)


def test_batch_larger_than_50_is_split(user_client: GraphClient) -> None:
    results = user_client.batch([BatchRequest("me", fields="id") for _ in range(60)])
    assert len(results) == 60
    assert all(isinstance(r, dict) for r in results)
    assert GraphCall.objects.filter(method="POST").count() == 2


def test_unknown_object_is_a_validation_error(user_client: GraphClient) -> None:
    with pytest.raises(GraphValidationError) as caught:
        user_client.get("1234", fields="id")
    assert caught.value.subcode == 33
    assert caught.value.fbtrace_id
    call = GraphCall.objects.get(path__startswith=f"/{settings.META_GRAPH_VERSION}/1234")
    assert (call.status, call.error_code, call.error_subcode, call.outcome) == (400, 100, 33, "error")
    assert call.fbtrace_id == caught.value.fbtrace_id


def test_wrong_appsecret_proof_is_refused(user_client: GraphClient) -> None:
    wrong = GraphClient(access_token=user_client.access_token, app_secret="not-the-secret")
    with pytest.raises(GraphValidationError, match="appsecret_proof|Meta refused"):
        wrong.get("me")


def test_invalid_token_is_an_auth_error(sandbox_control) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(GraphAuthError) as caught:
        GraphClient(access_token="EAAnot-a-token").get("me")
    assert caught.value.code == 190


@pytest.mark.parametrize(
    ("preset", "error_class", "code"),
    [
        ("token_expired", GraphAuthError, 190),
        ("token_invalidated", GraphAuthError, 190),
        ("permission", GraphPermissionError, 200),
        ("rate_limit_app", GraphRateLimitError, 4),
        ("rate_limit_page", GraphRateLimitError, 80001),
        ("rate_limit_instagram", GraphRateLimitError, 80002),
        ("transient", GraphTransientError, 2),
        ("unknown", GraphTransientError, 1),
        ("media_type_not_supported", GraphValidationError, -1),
    ],
)
def test_injected_errors_are_typed(
    user_client: GraphClient,
    sandbox_control,
    preset: str,
    error_class: type,
    code: int,  # type: ignore[no-untyped-def]
) -> None:
    sandbox_control.fault(path="/me$", kind="error", count=1, error={"preset": preset})
    with pytest.raises(error_class) as caught:
        user_client.get("me")
    assert caught.value.code == code
    assert user_client.get("me")["id"]  # the fault was used up: the next call works


def test_http_500_is_transient(user_client: GraphClient, sandbox_control) -> None:  # type: ignore[no-untyped-def]
    sandbox_control.fault(path="/me$", kind="http_500", count=1)
    with pytest.raises(GraphTransientError) as caught:
        user_client.get("me")
    assert caught.value.http_status == 500


def test_slow_answer_times_out(user_client: GraphClient, sandbox_control, settings) -> None:  # type: ignore[no-untyped-def]
    settings.GRAPH_TIMEOUT_READ = 0.5
    sandbox_control.fault(path="/me/feed$", kind="slow", delay_ms=2000, count=1)
    with pytest.raises(GraphTransientError) as caught:
        user_client.post("me/feed", data={"message": "hello"})
    assert caught.value.outcome_unknown
    assert GraphCall.objects.filter(outcome="exception", status__isnull=True).count() == 1


def test_dropped_connection_is_transient(user_client: GraphClient, sandbox_control) -> None:  # type: ignore[no-untyped-def]
    sandbox_control.fault(path="/me$", kind="drop", count=1)
    with pytest.raises(GraphTransientError) as caught:
        user_client.get("me")
    assert not caught.value.outcome_unknown  # a read: nothing to check before trying again


def test_usage_headers_slow_down_then_throttle(user_client: GraphClient, sandbox_control, settings) -> None:  # type: ignore[no-untyped-def]
    settings.GRAPH_USAGE_SLOWDOWN_PERCENT = 50
    sandbox_control.set_usage(capacity=10, window_seconds=3600, clear=True)
    waits = []
    with pytest.raises(GraphRateLimitError) as caught:
        for _ in range(12):
            user_client.get("me")
            waits.append(wait_seconds(app_id=user_client.app_id))
    assert waits[0] == 0
    assert waits[-1] > 0
    assert waits == sorted(waits)  # never less patient while usage climbs
    assert caught.value.retry_after and caught.value.retry_after > 0
    assert wait_seconds(app_id=user_client.app_id) > 0
    recorded = list(GraphCall.objects.filter(path__endswith="/me").values_list("app_usage_percent", flat=True))
    assert max(p for p in recorded if p is not None) >= 90
