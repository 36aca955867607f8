"""Publishing fixtures: connected channels (through the real connect flow), media files in the library, and
helpers that drive deliveries through the pipeline."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.core.files import File
from django.utils import timezone

from accounts.connect_driver import connect_with_facebook, connect_with_instagram
from accounts.models import Channel
from publishing.models import Delivery, DeliveryState
from publishing.services import media as media_services
from publishing.services import pipeline
from tests.publishing.media_samples import Samples, samples_dir

HARBOR_PAGE, HARBOR_IG = "183533740681241", "17841412248244757"
LOGIN_ONLY_IG = "17841210259188436"


@pytest.fixture(scope="session")
def samples(tmp_path_factory) -> Samples:
    return Samples(samples_dir(tmp_path_factory))


@pytest.fixture(autouse=True)
def _fast_pipeline(settings, tmp_path):
    settings.PUBLISH_POLL_SECONDS = 0.2
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def public_media(live_server, settings):
    """Meta (the sandbox) fetches image_url from this installation: serve it for real."""
    settings.PUBLIC_BASE_URL = live_server.url
    return live_server


@pytest.fixture
def channels(client, alice, workspace, sandbox_control) -> dict[str, Channel]:
    client.force_login(alice)
    connect_with_facebook(client, workspace, pages=[HARBOR_PAGE], instagram=[HARBOR_IG])
    connect_with_instagram(client, workspace, account=LOGIN_ONLY_IG)
    found = {c.external_id: c for c in Channel.objects.filter(workspace=workspace)}
    return {"page": found[HARBOR_PAGE], "ig": found[HARBOR_IG], "ig_login": found[LOGIN_ONLY_IG]}


@pytest.fixture
def upload(workspace, alice):
    def _upload(path: Path, name: str | None = None):
        with path.open("rb") as fh:
            return media_services.media_asset_upload(
                workspace=workspace, uploaded=File(fh, name=name or path.name), user=alice
            )

    return _upload


def run_to_end(delivery: Delivery, sandbox_control=None, *, max_runs: int = 40) -> Delivery:
    """Drive one delivery synchronously, as the worker would, until it settles (published, failed, or handed
    back to the dispatcher to wait). Waits for Meta's processing move the sandbox's clock instead of sleeping."""
    for _ in range(max_runs):
        delivery.refresh_from_db()
        if delivery.state in (DeliveryState.PUBLISHED, DeliveryState.FAILED, DeliveryState.CANCELLED):
            return delivery
        Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.SCHEDULED).update(state=DeliveryState.PUBLISHING)
        outcome = pipeline.delivery_run(delivery_id=delivery.pk, token=pipeline._new_lease(delivery))
        if outcome.kind == "poll" and sandbox_control is not None:  # instead of waiting, move Meta's clock
            sandbox_control.clock_advance(outcome.countdown + 5)
        elif outcome.kind in ("retry", "paused", "failed", "deferred"):
            delivery.refresh_from_db()
            if outcome.kind in ("retry", "deferred") and sandbox_control is not None and delivery.next_attempt_at:
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
