"""Shared fixtures: personas, the Graph API sandbox, and Celery for tests that run a real worker.

Personas (as in the style guide): alice owns the agency "Northwind", bob is a member of it with the editor
role in its workspace "Acme Coffee", and charlie runs another agency and must see nothing of Northwind.
"""

from __future__ import annotations

import os

import pytest

from socialhub.content_policy import content_security_policy
from tests.factories import (
    AgencyFactory,
    AgencyMembershipFactory,
    UserFactory,
    WorkspaceFactory,
    WorkspaceMembershipFactory,
)

pytest_plugins = ["tests.sandbox_fixtures"]


@pytest.fixture(autouse=True)
def _graph_points_at_sandbox(request: pytest.FixtureRequest, settings) -> None:  # type: ignore[no-untyped-def]
    """Every test talks to the sandbox, never to Meta. The sandbox starts once per test worker, on first use."""
    if "no_sandbox" in request.keywords:
        return
    sandbox = request.getfixturevalue("sandbox")
    settings.META_GRAPH_URL = sandbox.url
    settings.META_FACEBOOK_URL = f"{sandbox.url}/www.facebook.com"
    settings.META_RUPLOAD_URL = f"{sandbox.url}/rupload.facebook.com"
    settings.INSTAGRAM_GRAPH_URL = f"{sandbox.url}/graph.instagram.com"
    settings.INSTAGRAM_API_URL = f"{sandbox.url}/api.instagram.com"
    settings.INSTAGRAM_WWW_URL = f"{sandbox.url}/www.instagram.com"
    # The policy is built from the Meta URLs when settings load; build it again for the sandbox's.
    settings.CONTENT_SECURITY_POLICY = content_security_policy(
        facebook_url=settings.META_FACEBOOK_URL,
        instagram_www_url=settings.INSTAGRAM_WWW_URL,
        graph_urls=[settings.META_GRAPH_URL, settings.INSTAGRAM_GRAPH_URL],
    )


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Graph usage readings live in the cache; one test's throttling must not slow the next one down."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session")
def celery_config() -> dict:
    """The real broker when CI gives one (Redis), else in-memory; one queue per test worker."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker or broker.startswith("filesystem://"):
        broker = "memory://"
    return {
        "broker_url": broker,
        "result_backend": "cache+memory://",
        "task_default_queue": f"tests-{worker}",
        "accept_content": ["json"],
        "task_serializer": "json",
        "task_acks_late": True,
    }


@pytest.fixture(scope="session")
def celery_worker_parameters() -> dict:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return {"queues": (f"tests-{worker}",), "perform_ping_check": False}


@pytest.fixture
def alice(db):  # type: ignore[no-untyped-def]
    return UserFactory(email="alice@northwind.example", full_name="Alice Owner")


@pytest.fixture
def agency(alice):  # type: ignore[no-untyped-def]
    agency = AgencyFactory(name="Northwind")
    AgencyMembershipFactory(agency=agency, user=alice, role="owner")
    return agency


@pytest.fixture
def workspace(agency):  # type: ignore[no-untyped-def]
    return WorkspaceFactory(agency=agency, name="Acme Coffee", timezone="Europe/Rome")


@pytest.fixture
def bob(agency, workspace):  # type: ignore[no-untyped-def]
    bob = UserFactory(email="bob@northwind.example", full_name="Bob Editor")
    AgencyMembershipFactory(agency=agency, user=bob, role="member")
    WorkspaceMembershipFactory(workspace=workspace, user=bob, role="editor")
    return bob


@pytest.fixture
def charlie(db):  # type: ignore[no-untyped-def]
    charlie = UserFactory(email="charlie@elsewhere.example", full_name="Charlie Stranger")
    other = AgencyFactory(name="Elsewhere")
    AgencyMembershipFactory(agency=other, user=charlie, role="owner")
    WorkspaceFactory(agency=other, name="Other Brand")
    return charlie
