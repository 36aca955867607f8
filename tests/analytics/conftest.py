"""Insights fixtures: the seeded channels with real sandbox tokens, the sandbox's clock (the sync counts its days
from it, as SocialHub would count from Meta's), and the Graph calls the sync makes."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from accounts.models import Channel
from socialhub.graph import GraphClient
from tests.factories import ChannelFactory

VERSION_PREFIX = re.compile(r"^/v\d+\.\d+")


@pytest.fixture
def insights_channels(alice, workspace, sandbox_control) -> dict[str, Channel]:
    """Alice's workspace with the Harbor Yoga Studio Page and @harboryoga (Facebook Login: graph.facebook.com,
    batch requests) and @maplethread.studio (Instagram Login: graph.instagram.com, one request at a time), with
    tokens the sandbox accepts."""
    common = {"workspace": workspace, "connected_by": alice, "sandbox": sandbox_control}
    return {
        "page": ChannelFactory(**common),
        "ig": ChannelFactory(instagram=True, **common),
        "ig_login": ChannelFactory(instagram_login=True, **common),
    }


@pytest.fixture
def sandbox_now(sandbox_control) -> Callable[[], dt.datetime]:
    """`sandbox_now()`: the sandbox's clock now, as an aware datetime."""

    def now() -> dt.datetime:
        return dt.datetime.fromtimestamp(sandbox_control.clock()["now"], dt.UTC)

    return now


@pytest.fixture
def midday(sandbox_control, sandbox_now) -> dt.datetime:
    """The sandbox's clock moved on to the next 12:00 UTC, for tests that move it by minutes and count days: no
    midnight falls between their syncs."""
    now = sandbox_now()
    noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
    if noon <= now:
        noon += dt.timedelta(days=1)
    sandbox_control.clock_set(noon.timestamp())
    return noon


@dataclass
class GraphCall:
    """One Graph call as it went over the wire: `path` without the version (`/123/insights`), `params` its query
    (the access token and proof left out); a batch request's operations in `operations`."""

    method: str
    host: str
    path: str
    params: dict[str, str]
    operations: list[GraphCall] = field(default_factory=list)


def _call(method: str, host: str, url: str, params: Mapping[str, Any]) -> GraphCall:
    parts = urlsplit(url)
    query = {**dict(parse_qsl(parts.query)), **{k: str(v) for k, v in params.items()}}
    for secret in ("access_token", "appsecret_proof"):
        query.pop(secret, None)
    path = VERSION_PREFIX.sub("", parts.path if parts.path.startswith("/") else f"/{parts.path}")
    return GraphCall(method, host, path, query)


class GraphCalls(list[GraphCall]):
    def reads(self) -> list[GraphCall]:
        """Every read Meta was asked for, in order: a batch request counts as its operations."""
        return [op for call in self for op in (call.operations or [call])]

    def batch_sizes(self) -> list[int]:
        return [len(call.operations) for call in self if call.operations]


@pytest.fixture
def graph_calls(monkeypatch) -> GraphCalls:
    """The Graph calls made from here on, recorded at `GraphClient.request` (the one place that does HTTP) and
    then made for real against the sandbox. Unlike the sandbox's request log, it keeps a batch's operations whole."""
    calls = GraphCalls()
    real = GraphClient.request

    def request(client: GraphClient, method: str, url_or_path: str, **kwargs: Any) -> dict[str, Any]:
        url = client.url_for(url_or_path)
        params = dict(kwargs.get("params") or {})
        if kwargs.get("fields") is not None:
            params["fields"] = str(kwargs["fields"])
        call = _call(method.upper(), client.host, url, params)
        batch = (kwargs.get("data") or {}).get("batch")
        if batch:
            for op in json.loads(batch):
                call.operations.append(_call(op.get("method", "GET"), client.host, op["relative_url"], {}))
        calls.append(call)
        return real(client, method, url_or_path, **kwargs)

    monkeypatch.setattr(GraphClient, "request", request)
    return calls


@pytest.fixture
def ig(workspace) -> Channel:
    """An Instagram account's channel with no token: for tests that read stored figures only."""
    from tests.analytics import factories

    return factories.channel(workspace, 1, username="harboryoga")


@pytest.fixture
def fb(workspace) -> Channel:
    """A Facebook Page's channel with no token: for tests that read stored figures only."""
    from tests.analytics import factories

    return factories.channel(workspace, 2, instagram=False, name="Harbor Yoga Studio")
