"""Publishing fixtures: connected channels (made by tests/factories.py with real sandbox tokens), media files
in the library, and helpers that drive deliveries through the pipeline."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.core.files import File
from django.utils import timezone

from accounts.access import get_workspace_for_user
from accounts.models import Channel
from publishing.models import Delivery, DeliveryState
from publishing.publishers.base import RunOutcome
from publishing.services import media as media_services
from publishing.services import pipeline, transitions
from publishing.services.posts import post_create, post_submit
from tests.factories import HARBOR_IG, HARBOR_PAGE, LOGIN_ONLY_IG, ChannelFactory
from tests.publishing.media_samples import Samples, samples_dir

__all__ = ["HARBOR_IG", "HARBOR_PAGE", "LOGIN_ONLY_IG"]  # the seeded accounts, imported from here by the tests


@pytest.fixture(scope="session")
def samples(tmp_path_factory) -> Samples:
    return Samples(samples_dir(tmp_path_factory))


@pytest.fixture(autouse=True)
def _fast_pipeline(settings, tmp_path):
    settings.PUBLISH_POLL_SECONDS = 0.2
    settings.PUBLISH_FIRST_POLL_SECONDS = 0.2
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def public_media(live_server, settings):
    """Meta (the sandbox) fetches image_url from this installation: serve it for real."""
    settings.PUBLIC_BASE_URL = live_server.url
    return live_server


@pytest.fixture
def channels(client, alice, workspace, sandbox_control) -> dict[str, Channel]:
    """Alice's workspace with the Harbor Yoga Studio Page and @harboryoga (Facebook Login) and @maplethread.studio
    (Instagram Login), the rows and sandbox grants connecting them leaves, with tokens that publish."""
    client.force_login(alice)  # as after connecting them on the Channels page; tests go on with this client
    common = {"workspace": workspace, "connected_by": alice, "sandbox": sandbox_control}
    return {
        "page": ChannelFactory(**common),  # HARBOR_PAGE
        "ig": ChannelFactory(instagram=True, **common),  # HARBOR_IG
        "ig_login": ChannelFactory(instagram_login=True, **common),  # LOGIN_ONLY_IG
    }


@pytest.fixture
def submit(public_media, channels, workspace, alice):
    """Make a post for one channel (by key of `channels`) and submit it as its author, who may publish."""

    def _submit(channel: str = "ig", **kwargs) -> Delivery:
        post = post_create(workspace=workspace, author=alice, channels=[channels[channel]], **kwargs)
        post_submit(post=post, access=get_workspace_for_user(alice, workspace.public_id))
        return post.deliveries.get()

    return _submit


@pytest.fixture
def upload(workspace, alice):
    def _upload(path: Path, name: str | None = None):
        with path.open("rb") as fh:
            return media_services.media_asset_upload(
                workspace=workspace, uploaded=File(fh, name=name or path.name), user=alice
            )

    return _upload


def start_run(delivery: Delivery) -> str:
    """The lease token a worker would run with now: a scheduled delivery is claimed (as the dispatcher does, at
    any time), one being published keeps its run's token (as a re-queued poll does)."""
    delivery.refresh_from_db()
    if delivery.state == DeliveryState.SCHEDULED:
        return transitions.claim(delivery.pk)
    return delivery.lease_token


def run_to_end(delivery: Delivery, sandbox_control=None, *, max_runs: int = 40) -> Delivery:
    """Drive one delivery synchronously, as the worker would, until it settles (published, failed, or handed
    back to the dispatcher to wait). Waits for Meta's processing move the sandbox's clock instead of sleeping."""
    for _ in range(max_runs):
        delivery.refresh_from_db()
        if delivery.state in (DeliveryState.PUBLISHED, DeliveryState.FAILED, DeliveryState.CANCELLED):
            return delivery
        outcome = pipeline.delivery_run(delivery_id=delivery.pk, token=start_run(delivery))
        if outcome.kind == RunOutcome.POLL and sandbox_control is not None:  # instead of waiting, move Meta's clock
            sandbox_control.clock_advance(outcome.countdown + 5)
        elif outcome.kind in (RunOutcome.RETRY, RunOutcome.PAUSED, RunOutcome.FAILED, RunOutcome.DEFERRED):
            delivery.refresh_from_db()
            waits = outcome.kind in (RunOutcome.RETRY, RunOutcome.DEFERRED)
            if waits and sandbox_control is not None and delivery.next_attempt_at:
                # the worker would come back at next_attempt_at: that much time passes at Meta too
                wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
                sandbox_control.clock_advance(max(wait, 0) + 1)
            return delivery
    raise AssertionError(f"delivery {delivery.pk} did not settle: {delivery.state}")


def wait_for_state(delivery: Delivery, states, timeout: float = 40.0) -> Delivery:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        delivery.refresh_from_db()
        if delivery.state in states:
            return delivery
        time.sleep(0.2)
    raise AssertionError(f"delivery stayed {delivery.state}: {delivery.waiting_reason} {delivery.error_message}")
