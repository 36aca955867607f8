"""The publishing pipeline: pick due deliveries, run them step by step, and decide what happens after an error.

Contract of a run (`delivery_run`):
- It holds a lease (`lease_token`, `lease_until`) on the delivery; every save renews it and fails if another
  run took the delivery over, so two workers never drive the same delivery.
- It resumes from the ids saved on the delivery: a step whose id is stored is not done again.
- Before the one call that makes something public (`media_publish`, a Page post, a reel's finish, the first
  comment) it stores `publish_started_at` (or `first_comment_started_at`). A later run that finds the marker
  without the resulting id asks Meta what happened before doing anything (see `instagram.py`, `facebook.py`).
- Waiting for Meta (video processing, a full quota, a usage limit) never sleeps in a worker: the run ends with
  `Outcome.wait(...)` and the task re-queues itself with a countdown; the sweep catches what a dead worker left.
- A channel token the server cannot decrypt (TOKEN_ENCRYPTION_KEYS changed) is the server's fault, not the
  post's or the channel's: the delivery goes back to the dispatcher, untouched, and is tried again every
  KEYS_WAIT_SECONDS until the key is back. Nothing is sent meanwhile and the channel keeps its status.
"""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.crypto import TokenDecryptionError
from accounts.models import ChannelStatus, Platform
from accounts.services.channels import channel_record_error
from socialhub.graph import GraphAuthError, GraphError, GraphPermissionError, GraphRateLimitError
from socialhub.graph.usage import wait_seconds

from ..models import ACTIVE_STATES, Delivery, DeliveryAttempt, DeliveryState, PostMedia

logger = logging.getLogger(__name__)

KEYS_WAIT_SECONDS = 5 * 60
KEYS_UNREADABLE = (
    "SocialHub cannot read its saved access to this channel because the server's encryption key "
    "(TOKEN_ENCRYPTION_KEYS) was changed or removed. Nothing was sent. It will be tried again once your operator "
    "puts the key back; the channel does not need reconnecting."
)


class LeaseLost(Exception):
    """Another run owns the delivery now (this one was presumed dead and swept)."""


class DeliveryFailed(Exception):
    """A problem no retry can fix; the message says what to do."""

    def __init__(self, message: str, *, error: GraphError | None = None):
        super().__init__(message)
        self.error = error


@dataclass(frozen=True)
class Outcome:
    # "published" | "poll" (the task re-queues itself after `countdown`) | "deferred" (back to the dispatcher
    # until next_attempt_at) | "retry" | "failed" | "paused" | "stale" (another run owns the delivery)
    kind: str
    countdown: float = 0.0
    reason: str = ""

    @classmethod
    def wait(cls, seconds: float, reason: str) -> Outcome:
        """Meta is processing: ask again in `seconds` (a short poll)."""
        return cls("poll", max(1.0, seconds), reason)


def lease_seconds() -> int:
    return settings.PUBLISH_LEASE_SECONDS


class Run:
    """One run of one delivery: the lease, the attempt log, and saves that renew the lease."""

    def __init__(self, delivery: Delivery, token: str, attempt: DeliveryAttempt):
        self.delivery = delivery
        self.token = token
        self.attempt = attempt

    def save(self, **fields: Any) -> None:
        fields.setdefault("lease_until", timezone.now() + timedelta(seconds=lease_seconds()))
        updated = Delivery.objects.filter(pk=self.delivery.pk, lease_token=self.token).update(**fields)
        if updated != 1:
            raise LeaseLost(f"delivery {self.delivery.pk} was taken over")
        for name, value in fields.items():
            setattr(self.delivery, name, value)

    def step(self, description: str) -> None:
        self.attempt.steps = [*self.attempt.steps, description]
        self.attempt.save(update_fields=["steps"])


def _new_lease(delivery: Delivery | int, **fields: Any) -> str:
    """Give the delivery to a new run: a fresh token (any older run's next save fails) and a lease."""
    token = uuid.uuid4().hex
    pk = delivery if isinstance(delivery, int) else delivery.pk
    Delivery.objects.filter(pk=pk).update(
        lease_token=token, lease_until=timezone.now() + timedelta(seconds=lease_seconds()), **fields
    )
    return token


def _enqueue(delivery_id: int, token: str, countdown: float = 0) -> None:
    from ..tasks import publish_delivery

    transaction.on_commit(lambda: publish_delivery.apply_async(args=[delivery_id, token], countdown=countdown or None))


def delivery_queue_now(delivery: Delivery) -> None:
    """Start publishing a delivery at once ("publish now", a retry), without waiting for the dispatcher."""
    with transaction.atomic():
        updated = Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.SCHEDULED).update(
            state=DeliveryState.PUBLISHING
        )
        if updated:
            _enqueue(delivery.pk, _new_lease(delivery))


def dispatch_due(*, limit: int = 500) -> int:
    """Beat, every minute: queue one task per due delivery whose channel can publish."""
    now = timezone.now()
    with transaction.atomic():
        due = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(state=DeliveryState.SCHEDULED, next_attempt_at__lte=now, channel__status=ChannelStatus.ACTIVE)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )
        for pk in due:
            token = uuid.uuid4().hex
            Delivery.objects.filter(pk=pk).update(
                state=DeliveryState.PUBLISHING,
                lease_token=token,
                lease_until=now + timedelta(seconds=lease_seconds()),
            )
            _enqueue(pk, token)
    return len(due)


def sweep_stale() -> int:
    """Re-queue deliveries whose run stopped without a word (worker killed, broker lost the message)."""
    now = timezone.now()
    count = 0
    with transaction.atomic():
        stale = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(state__in=ACTIVE_STATES, lease_until__lt=now)
            .values_list("pk", flat=True)[:500]
        )
        for pk in stale:
            token = uuid.uuid4().hex
            Delivery.objects.filter(pk=pk).update(
                lease_token=token, lease_until=now + timedelta(seconds=lease_seconds())
            )
            _enqueue(pk, token)
            count += 1
    if count:
        logger.warning("re-queued %d publishing run(s) whose worker stopped", count)
    return count


def _claim(delivery_id: int, token: str) -> Delivery | None:
    updated = Delivery.objects.filter(pk=delivery_id, lease_token=token, state__in=ACTIVE_STATES).update(
        lease_until=timezone.now() + timedelta(seconds=lease_seconds())
    )
    if updated != 1:
        return None
    return Delivery.objects.select_related("post__workspace", "post__cover", "channel").get(pk=delivery_id)


def _backoff(error: GraphError, attempt: int) -> float:
    base = error.retry_delay(attempt)
    return base + random.uniform(0, base / 4)  # jitter: retries of many posts do not arrive at Meta together


def delivery_run(*, delivery_id: int, token: str) -> Outcome:
    """Run one delivery as far as it can go now. Called by the `publish_delivery` task."""
    try:
        delivery = _claim(delivery_id, token)
    except TokenDecryptionError:
        logger.error(
            "delivery %s waits: its channel's token cannot be decrypted with TOKEN_ENCRYPTION_KEYS; restore the key "
            "it was encrypted with (run `manage.py check` to validate the keys)",
            delivery_id,
        )
        return _defer(delivery_id, token, KEYS_WAIT_SECONDS, KEYS_UNREADABLE)
    except Exception as exc:
        logger.exception("cannot load delivery %s", delivery_id)
        Delivery.objects.filter(pk=delivery_id, lease_token=token).update(
            state=DeliveryState.FAILED,
            error_message=f"SocialHub could not load this post to publish it: {exc}",
            lease_token="",
            lease_until=None,
            next_attempt_at=None,
        )
        return Outcome("failed")
    if delivery is None:
        return Outcome("stale")
    channel = delivery.channel
    if channel.status != ChannelStatus.ACTIVE:
        return _pause(delivery, token, reason=f"{channel.display_name} needs reconnecting; the post waits for it.")
    if delivery.error_count > settings.PUBLISH_MAX_ATTEMPTS:  # its runs keep dying (see sweep_stale)
        attempt = DeliveryAttempt.objects.create(delivery=delivery, number=delivery.attempts + 1)
        return _fail(
            Run(delivery, token, attempt),
            "Publishing stopped after repeated failures. " + _check_account_hint(delivery),
        )
    slow_down = wait_seconds(business_id=channel.external_id)
    if slow_down > 0:
        return _defer(delivery, token, slow_down, "Meta's rate limit is close; SocialHub slows down before it is hit.")

    attempt = DeliveryAttempt.objects.create(delivery=delivery, number=delivery.attempts + 1)
    run = Run(delivery, token, attempt)
    try:
        run.save(attempts=delivery.attempts + 1)
        outcome = _publisher(delivery).run(run)
    except LeaseLost:
        _finish_attempt(attempt, DeliveryAttempt.Outcome.RETRY, message="Another run took over.")
        return Outcome("stale")
    except DeliveryFailed as exc:
        return _fail(run, str(exc), error=exc.error)
    except GraphAuthError as exc:
        channel_record_error(channel=channel, error=exc)
        _finish_attempt(attempt, DeliveryAttempt.Outcome.PAUSED, error=exc)
        return _pause(delivery, token, reason=f"{channel.display_name} needs reconnecting: {exc.message}")
    except GraphPermissionError as exc:
        # Removed permission (pause the channel) or a feature this account may not use (fail this post)?
        from accounts.services.channels import channel_check_token

        if not channel_check_token(channel=channel):
            _finish_attempt(attempt, DeliveryAttempt.Outcome.PAUSED, error=exc)
            return _pause(delivery, token, reason=f"{channel.display_name} needs reconnecting: {exc.message}")
        return _fail(run, exc.message, error=exc)
    except GraphError as exc:
        if exc.subcode == QUOTA_SUBCODE:
            _finish_attempt(attempt, DeliveryAttempt.Outcome.WAITING, error=exc)
            from .instagram import quota_wait

            return quota_wait(run, total=None)
        if exc.retryable and delivery.error_count < settings.PUBLISH_MAX_ATTEMPTS:
            return _retry(run, exc, delay=_backoff(exc, delivery.error_count))
        return _fail(run, exc.message, error=exc)
    except Exception as exc:  # a bug, a missing file, the database: never leave the post "publishing"
        logger.exception("publishing delivery %s failed unexpectedly", delivery.pk)
        if delivery.error_count < settings.PUBLISH_MAX_ATTEMPTS:
            return _retry(run, None, delay=60.0 * 2**delivery.error_count, message=f"SocialHub hit an error: {exc}.")
        return _fail(run, f"SocialHub could not publish this: {exc}. " + _check_account_hint(delivery))
    if outcome.kind == "published":
        _finish_attempt(attempt, DeliveryAttempt.Outcome.PUBLISHED)
    elif outcome.kind == "poll":
        _finish_attempt(attempt, DeliveryAttempt.Outcome.WAITING, message=outcome.reason)
        return _poll(run, outcome)
    elif outcome.kind == "deferred":
        _finish_attempt(attempt, DeliveryAttempt.Outcome.WAITING, message=outcome.reason)
    return outcome


QUOTA_SUBCODE = 2207042  # Instagram: "reached maximum number of posts allowed in 24 hours" (code 9)


def _check_account_hint(delivery: Delivery) -> str:
    if delivery.publish_started_at and not delivery.remote_id:
        return "It may have gone out: check the account before retrying, so it is not posted twice."
    return "Retry it, or contact your operator if it keeps failing."


def _retry(run: Run, error: GraphError | None, *, delay: float, message: str = "") -> Outcome:
    when = timezone.localtime(timezone.now() + timedelta(seconds=delay), run.delivery.post.workspace.zoneinfo)
    if isinstance(error, GraphRateLimitError):
        reason = f"Meta asked SocialHub to slow down. Trying again at {when:%H:%M}."
    else:
        reason = f"{error.message if error else message} Trying again at {when:%H:%M}."
    _finish_attempt(run.attempt, DeliveryAttempt.Outcome.RETRY, error=error, message=message)
    run.save(
        state=DeliveryState.SCHEDULED,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
        waiting_reason=reason,
        lease_token="",
        lease_until=None,
        error_count=run.delivery.error_count + 1,
        **_error_fields(error),
    )
    return Outcome("retry", delay, reason)


def _poll(run: Run, outcome: Outcome) -> Outcome:
    """Meta is still processing: the task comes back after the countdown, holding the lease meanwhile. Gives up
    after PUBLISH_PROCESSING_TIMEOUT, with Meta's words if it gave any."""
    now = timezone.now()
    since = run.delivery.processing_since or now
    if (now - since).total_seconds() > settings.PUBLISH_PROCESSING_TIMEOUT:
        minutes = settings.PUBLISH_PROCESSING_TIMEOUT // 60
        return _fail(run, f"Meta was still processing the media after {minutes} minutes. Retry to upload it again.")
    run.save(
        state=DeliveryState.PROCESSING,
        processing_since=since,
        waiting_reason=outcome.reason,
        next_attempt_at=now + timedelta(seconds=outcome.countdown),
        lease_until=now + timedelta(seconds=outcome.countdown + lease_seconds()),
    )
    return outcome


def _publisher(delivery: Delivery) -> Any:
    from . import facebook, instagram

    return instagram if delivery.channel.platform == Platform.INSTAGRAM else facebook


def _finish_attempt(
    attempt: DeliveryAttempt, outcome: str, *, error: GraphError | None = None, message: str = ""
) -> None:
    attempt.outcome = outcome
    attempt.finished_at = timezone.now()
    if error is not None:
        attempt.error_class = type(error).__name__
        attempt.error_code, attempt.error_subcode = error.code, error.subcode
        attempt.message, attempt.fbtrace_id = error.message, error.fbtrace_id or ""
    elif message:
        attempt.message = message
    attempt.save()


def _error_fields(error: GraphError | None) -> dict[str, Any]:
    if error is None:
        return {"error_code": None, "error_subcode": None, "fbtrace_id": ""}
    return {"error_code": error.code, "error_subcode": error.subcode, "fbtrace_id": error.fbtrace_id or ""}


def _fail(run: Run, message: str, *, error: GraphError | None = None) -> Outcome:
    _finish_attempt(run.attempt, DeliveryAttempt.Outcome.FAILED, error=error, message=message)
    run.save(
        state=DeliveryState.FAILED,
        error_message=message,
        next_attempt_at=None,
        lease_token="",
        lease_until=None,
        waiting_reason="",
        **_error_fields(error),
    )
    return Outcome("failed", reason=message)


def _pause(delivery: Delivery, token: str, *, reason: str) -> Outcome:
    """Back to scheduled: the dispatcher skips channels that need reconnecting and picks it up after."""
    Delivery.objects.filter(pk=delivery.pk, lease_token=token).update(
        state=DeliveryState.SCHEDULED,
        next_attempt_at=timezone.now(),
        waiting_reason=reason,
        lease_token="",
        lease_until=None,
    )
    return Outcome("paused", reason=reason)


def _defer(delivery: Delivery | int, token: str, seconds: float, reason: str) -> Outcome:
    """Hand the delivery back to the dispatcher for `seconds` (no run holds it meanwhile)."""
    pk = delivery if isinstance(delivery, int) else delivery.pk
    Delivery.objects.filter(pk=pk, lease_token=token).update(
        state=DeliveryState.SCHEDULED,
        next_attempt_at=timezone.now() + timedelta(seconds=seconds),
        waiting_reason=reason,
        lease_token="",
        lease_until=None,
    )
    return Outcome("deferred", seconds, reason)


def wait_for_dispatcher(run: Run, until: Any, reason: str) -> Outcome:
    """A long wait (the 24-hour publishing quota): hand the delivery back to the dispatcher for `until`."""
    run.save(
        state=DeliveryState.SCHEDULED, next_attempt_at=until, waiting_reason=reason, lease_token="", lease_until=None
    )
    return Outcome("deferred", (until - timezone.now()).total_seconds(), reason)


def mark_published(run: Run, *, remote_id: str, permalink: str = "") -> None:
    run.save(
        state=DeliveryState.PUBLISHED,
        remote_id=remote_id,
        permalink=permalink,
        published_at=timezone.now(),
        waiting_reason="",
        lease_token="",
        lease_until=None,
    )


# --- helpers shared by the Instagram and Facebook publishers ---------------------------------------------------
def delivery_items(delivery: Delivery) -> list[PostMedia]:
    return list(delivery.post.items.select_related("asset").order_by("position"))


def same_text(a: str | None, b: str | None) -> bool:
    """Meta may normalise line endings and trailing space; compare what a reader sees."""
    return (a or "").replace("\r\n", "\n").strip() == (b or "").replace("\r\n", "\n").strip()


def created_after(timestamp: str | None, started: Any) -> bool:
    """Meta's timestamps (`2026-11-24T10:00:00+0000`) at or after `started`, give or take two minutes of clocks."""
    moment = parse_datetime((timestamp or "").replace("+0000", "+00:00"))
    return moment is not None and moment >= started - timedelta(minutes=2)


def post_first_comment(run: Run, client: Any, text: str, *, text_field: str) -> None:
    """Add the first comment once. After an unknown outcome, look for it before posting again."""
    delivery = run.delivery
    if delivery.first_comment_started_at:
        for existing in client.paginate(f"{delivery.remote_id}/comments", fields=f"id,{text_field}", max_pages=3):
            if same_text(existing.get(text_field), text):
                run.save(first_comment_id=existing["id"])
                return
    run.step("first comment")
    run.save(first_comment_started_at=timezone.now())
    try:
        answer = client.post(f"{delivery.remote_id}/comments", data={"message": text})
    except GraphError as exc:
        if exc.retryable:
            raise
        run.save(error_message=f"Published. The first comment could not be added: {exc.message}")
        return
    run.save(first_comment_id=answer["id"])
