"""Insights fixtures: the seeded channels with real sandbox tokens, and the sandbox's clock (the sync counts its days
from it, as SocialHub would count from Meta's)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from accounts.models import Channel
from tests.factories import ChannelFactory


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
