"""Unit tests of the Graph client talk to fixed fake hosts intercepted by `responses`; the integration tests
in `test_client_against_sandbox.py` use the real sandbox instead."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from django.core.cache import cache

FB = "https://graph.facebook.test/v25.0"
IG = "https://graph.instagram.test/v25.0"
TOKEN = "EAAtestPageToken1234567890abcdef"


@pytest.fixture
def fake_meta(settings) -> None:  # type: ignore[no-untyped-def]
    settings.META_GRAPH_URL = "https://graph.facebook.test"
    settings.INSTAGRAM_GRAPH_URL = "https://graph.instagram.test"
    settings.META_GRAPH_VERSION = "v25.0"
    settings.META_APP_ID = "111"
    settings.META_APP_SECRET = "fb-app-secret"
    settings.INSTAGRAM_APP_ID = "222"
    settings.INSTAGRAM_APP_SECRET = "ig-app-secret"
    settings.GRAPH_USAGE_SLOWDOWN_PERCENT = 75


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def mocked(fake_meta) -> Iterator[responses.RequestsMock]:  # type: ignore[no-untyped-def]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps
