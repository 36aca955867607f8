"""The publishing pipeline: pick due deliveries, run them step by step, and decide what happens after an error.

Contract of a run (`delivery_run`):
- It holds a lease (`lease_token`, `lease_until`) on the delivery; every save renews it and fails if another
  run took the delivery over, so two workers never drive the same delivery. A run starts by swapping the token
  its task carried for one of its own, so a second copy of the same task (a broker that hands a message out
  again) finds nothing to take.
- It resumes from the ids saved on the delivery: a step whose id is stored is not done again.
- Before the one call that makes something public (`media_publish`, a Page post, a reel's finish, the first
  comment) it stores `publish_started_at` (or `first_comment_started_at`). A later run that finds the marker
  without the resulting id asks Meta what happened before doing anything (see `publishers/`). When Meta's
  answer cannot prove which post is this delivery's, the delivery fails as "unconfirmed" with the candidates
  for a person to check, rather than claiming someone else's post or posting twice.
- The publisher only saves ids and returns an `Outcome`; every state change goes through `transitions`. An
  error is classified after the `try` that caught it, so no Graph call and no write happen in an `except`.
- A run whose worker died (killed, out of memory, over the time limit) leaves its attempt "running"; the next
  run, started by the sweep once the lease ran out, counts it as a failed attempt, so a delivery that keeps
  killing workers ends failed after PUBLISH_MAX_ATTEMPTS instead of looping for ever. (The broker's redelivery
  of the dead run's task carries the token the dead run swapped away, so it does nothing.)
- Waiting for Meta (video processing, a full quota, a usage limit) never sleeps in a worker: the run ends with
  `Outcome.wait(...)` and the task comes back after a countdown; the sweep catches what a dead worker left.
  Each wait is measured on its own (a new container, a finished step or a retry starts a new one). Media that
  Meta already has and may publish by itself (Facebook video and reels after `finish`) is never answered
  with "upload it again": it is checked with back-off, shown as "sent, Meta still processing".
- Once the post is public (its Meta id stored) nothing fails it: a follow-up (the first comment) has its own
  small retry budget, then the delivery is published with a note.
- A task that cannot be handed to the broker leaves its delivery scheduled and due: the next tick sends it.
- A channel token the server cannot decrypt (TOKEN_ENCRYPTION_KEYS changed) is the server's fault, not the
  post's or the channel's: the delivery goes back to the dispatcher, untouched, and is tried again every
  KEYS_WAIT_SECONDS until the key is back. Nothing is sent meanwhile and the channel keeps its status.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from accounts.crypto import TokenDecryptionError
from accounts.models import ChannelStatus, Platform, Workspace
from accounts.services.channels import channel_check_token, channel_record_error
from socialhub.graph import GraphAuthError, GraphClient, GraphError, GraphPermissionError, GraphRateLimitError
from socialhub.graph.usage import wait_seconds

from ..models import ACTIVE_STATES, Delivery, DeliveryAttempt, DeliveryState, MediaAsset
from ..publishers import publisher_for
from ..publishers.base import DeliveryFailed, LeaseLost, Outcome, Run, RunOutcome, Unconfirmed
from ..publishers.facebook import RepeatedOffset
from ..publishers.instagram import QUOTA_SUBCODE, quota_wait
from . import alerts, transitions, wakeups

logger = logging.getLogger(__name__)

PUBLISH_TASK = "publishing.publish_delivery"
POLL_TASK = "publishing.poll_delivery"
KEYS_WAIT_SECONDS = 5 * 60
KEYS_UNREADABLE = (
    "SocialHub cannot read its saved access to this channel because the server's encryption key "
    "(TOKEN_ENCRYPTION_KEYS) was changed or removed. Nothing was sent. It will be tried again once your operator "
    "puts the key back; the channel does not need reconnecting."
)
# What comes after a public post (the first comment) is tried this many times before giving up on it alone.
FOLLOW_UP_ATTEMPTS = 3
# Media already with Meta (sent) is checked with growing pauses up to this, and shown unconfirmed after a day.
SENT_MAX_PAUSE = 30 * 60
SENT_UNCONFIRMED_AFTER = 24 * 60 * 60
# A delivery slowed down by Meta's usage waits at least this long: each wait ends in a wake-up and a claim, and
# usage readings fall slowly, so shorter waits would only spin.
USAGE_MIN_WAIT = 15.0


# --- the queue ------------------------------------------------------------------------------------------------
def send_run(delivery_id: int, token: str, countdown: float = 0, *, poll: bool = False) -> bool:
    """Hand a run to the broker (`poll`: a check of Meta's processing, on its own queue so it never waits behind a
    burst). If the broker cannot take it, the delivery goes back to scheduled and due, so the next dispatcher
    tick sends it; the caller goes on (one failed send never strands others)."""
    sent = True
    try:
        current_app.send_task(
            POLL_TASK if poll else PUBLISH_TASK, args=[delivery_id, token], countdown=countdown or None
        )
    except Exception:
        sent = False
        logger.warning(
            "could not queue publishing run of delivery %s; the next tick sends it", delivery_id, exc_info=True
        )
    if not sent:
        transitions.release_unsent(delivery_id, token)
    return sent


def _send_on_commit(delivery_id: int, token: str) -> None:
    transaction.on_commit(functools.partial(send_run, delivery_id, token))


def delivery_start_now(delivery: Delivery) -> bool:
    """Start publishing a due delivery at once ("publish now", a retry), without waiting for the dispatcher."""
    if delivery.channel.status != ChannelStatus.ACTIVE:
        return False
    with transaction.atomic():
        token = transitions.claim(delivery.pk)
        if token:
            _send_on_commit(delivery.pk, token)
    return bool(token)


def held() -> Q:
    """Deliveries that wait whatever their time: their workspace is paused, or they sit in a paused queue."""
    return Q(post__workspace__paused_at__isnull=False) | Q(
        post__in_queue=True, channel__posting_queue__paused_at__isnull=False
    )


def _dispatchable():  # type: ignore[no-untyped-def]
    return Delivery.objects.filter(state=DeliveryState.SCHEDULED, channel__status=ChannelStatus.ACTIVE).exclude(held())


def dispatch_due(
    *, limit: int = 500, now: datetime | None = None, channel_id: int | None = None, look_ahead: bool = True
) -> int:
    """Queue one run per due delivery whose channel can publish and that is not held. Called by beat every
    minute (the safety net), by wake-ups at the second posts fall due, and after each run for its channel.

    Each account is a lane of at most PUBLISH_CHANNEL_CONCURRENCY runs at once, and runs are queued taking turns
    between accounts (every account's first due delivery, then every account's second, ...): a client's burst of
    500 posts fills only its own lane, and another client's post due at the same second is queued among the
    first, not after the burst. What a full lane leaves is queued when one of its runs ends.

    With `look_ahead` (beat's tick) it also starts preparing Instagram videos due within
    PUBLISH_PREPARE_AHEAD_SECONDS, and queues wake-ups for what falls due before the next ticks."""
    now = now or timezone.now()
    due = _dispatchable().filter(next_attempt_at__lte=now)
    if channel_id is not None:
        due = due.filter(channel_id=channel_id)
    cap = settings.PUBLISH_CHANNEL_CONCURRENCY
    ranked = list(
        due.annotate(
            turn=Window(RowNumber(), partition_by=[F("channel_id")], order_by=[F("next_attempt_at").asc(), F("pk")])
        )
        .filter(turn__lte=cap)
        .values_list("pk", "channel_id", "turn", "next_attempt_at")
    )
    running = dict(
        Delivery.objects.filter(state=DeliveryState.PUBLISHING, channel_id__in={row[1] for row in ranked})
        .order_by()
        .values_list("channel_id")
        .annotate(count=Count("pk"))
        .values_list("channel_id", "count")
    )
    chosen = sorted((turn, at, pk) for pk, channel, turn, at in ranked if turn <= cap - running.get(channel, 0))
    count = 0
    with transaction.atomic():
        for _turn, _at, pk in chosen[:limit]:
            token = transitions.claim(pk)
            if token:
                _send_on_commit(pk, token)
                count += 1
        if look_ahead:
            count += _prepare_ahead(now)
    if look_ahead:
        _wake_upcoming(now)
    return count


def _prepare_ahead(now: datetime) -> int:
    """Instagram videos due soon start now: their container is made, uploaded and processed before their time, and
    only `media_publish` waits for it (the publisher sees to that). Only a delivery waiting for its time with
    nothing prepared for what it says now (never prepared, or edited since, which drops what was prepared) and no
    error: a retry or a wait goes at its own time."""
    ahead = (
        _dispatchable()
        .filter(
            next_attempt_at=F("due_at"),
            due_at__gt=now,
            due_at__lte=now + timedelta(seconds=settings.PUBLISH_PREPARE_AHEAD_SECONDS),
            channel__platform=Platform.INSTAGRAM,
            container_id="",
            child_container_ids=[],
            publish_tried_at__isnull=True,
            publish_started_at__isnull=True,
            error_count=0,
            post__items__asset__kind=MediaAsset.Kind.VIDEO,
        )
        .order_by("due_at")
        .values_list("pk", flat=True)
        .distinct()[:100]
    )
    count = 0
    for pk in list(ahead):
        token = transitions.claim(pk)
        if token:
            _send_on_commit(pk, token)
            count += 1
    return count


def _wake_upcoming(now: datetime) -> None:
    """A wake-up at each second a delivery falls due before the next ticks (`wakeups`)."""
    upcoming = (
        _dispatchable()
        .filter(
            next_attempt_at__gt=now, next_attempt_at__lte=now + timedelta(seconds=settings.PUBLISH_WAKE_AHEAD_SECONDS)
        )
        .order_by()
        .values_list("next_attempt_at", flat=True)
        .distinct()[:500]
    )
    for at in set(upcoming):
        wakeups.wake_at(at)


def continue_lane(delivery_id: int) -> int:
    """A run ended (or went to wait for Meta): its account's lane has room, so queue what waits in it now rather
    than at the next tick. Never raises: the tick catches anything left."""
    try:
        channel_id = Delivery.objects.filter(pk=delivery_id).values_list("channel_id", flat=True).first()
        return dispatch_due(channel_id=channel_id, look_ahead=False) if channel_id else 0
    except Exception:
        logger.warning("could not queue the next publishing run after delivery %s", delivery_id, exc_info=True)
        return 0


def sweep_stale() -> int:
    """Re-queue deliveries whose run stopped without a word (worker killed, broker lost the message). The new
    run counts the dead one as a failed attempt."""
    count = 0
    with transaction.atomic():
        stale = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(state__in=ACTIVE_STATES, lease_until__lt=timezone.now())
            .values_list("pk", flat=True)[:500]
        )
        for pk in stale:
            token = transitions.re_lease(pk)
            if token:
                _send_on_commit(pk, token)
                count += 1
    if count:
        logger.warning("re-queued %d publishing run(s) whose worker stopped", count)
    return count


# --- one run --------------------------------------------------------------------------------------------------
def delivery_run(*, delivery_id: int, token: str) -> Outcome:
    """Run one delivery as far as it can go now. Called by the `publish_delivery` task with the token it was sent
    with; the run swaps it for its own (`transitions.take_over`), and a wait's outcome carries that token for the
    task to come back with."""
    delivery: Delivery | None = None
    load_error: Exception | None = None
    mine: str | None = None
    try:
        mine = transitions.take_over(delivery_id, token)
        if mine:
            delivery = Delivery.objects.select_related("post__workspace", "post__cover", "channel").get(pk=delivery_id)
    except Exception as exc:
        load_error = exc
    if load_error is not None:
        return _unloadable(delivery_id, mine or token, load_error)
    if delivery is None or not mine:
        return Outcome(RunOutcome.STALE)
    token = mine

    transitions.count_dead_runs(delivery, token)
    before = _before_run(delivery)
    if before is not None:
        return _apply(delivery, token, None, before)

    attempt = DeliveryAttempt.objects.create(delivery=delivery, number=delivery.attempts + 1)
    run = Run(delivery, token, attempt)
    outcome: Outcome | None = None
    error: Exception | None = None
    try:
        run.save(attempts=delivery.attempts + 1)
        outcome = publisher_for(delivery.channel.platform).run(run)
    except LeaseLost:
        outcome = Outcome(RunOutcome.STALE, reason="Another run took over.")
    except Exception as exc:
        error = exc
    if error is not None:
        outcome = _classify(run, error)
    assert outcome is not None
    return _apply(delivery, token, attempt, outcome)


def _unloadable(delivery_id: int, token: str, error: Exception) -> Outcome:
    """The delivery could not be read: a lost key waits untouched; a deleted row has nothing left to do; anything
    else (the database busy or away) is tried again, and fails only after PUBLISH_MAX_ATTEMPTS."""
    if isinstance(error, Delivery.DoesNotExist):
        return Outcome(RunOutcome.STALE)
    if isinstance(error, TokenDecryptionError):
        logger.error(
            "delivery %s waits: its channel's token cannot be decrypted with TOKEN_ENCRYPTION_KEYS; restore the key "
            "it was encrypted with (run `manage.py check` to validate the keys)",
            delivery_id,
        )
        until = timezone.now() + timedelta(seconds=KEYS_WAIT_SECONDS)
        transitions.to_scheduled(delivery_id, token, at=until, reason=KEYS_UNREADABLE)
        return Outcome.defer_until(until, KEYS_UNREADABLE)
    logger.error("cannot load delivery %s", delivery_id, exc_info=error)
    errors = Delivery.objects.filter(pk=delivery_id).values_list("error_count", flat=True).first() or 0
    if errors < settings.PUBLISH_MAX_ATTEMPTS:
        until = timezone.now() + timedelta(seconds=60.0 * 2**errors)
        reason = "SocialHub could not read this post just now; it tries again shortly."
        transitions.to_scheduled(delivery_id, token, at=until, reason=reason, count_error=True)
        return Outcome(RunOutcome.RETRY, countdown=(until - timezone.now()).total_seconds(), reason=reason)
    message = f"SocialHub could not load this post to publish it: {error}"
    transitions.to_failed(delivery_id, token, message=message)
    return Outcome(RunOutcome.FAILED, reason=message)


def hold_words(*, workspace: Workspace, in_queue: bool, queue_paused: Callable[[], bool], channel_name: str) -> str:
    """Why a delivery is held, in words, or "" when it is not. The one wording, used by runs and by the lists;
    `queue_paused` is asked only when the workspace itself is not paused."""
    if workspace.paused_at is not None:
        why = f": {workspace.pause_reason}" if workspace.pause_reason else ""
        if in_queue:  # overdue queued posts move on resume: `queues.queue_reslot_overdue`
            return (
                f"On hold: {workspace.name} is paused{why}. Once the workspace is resumed, it goes out at its "
                "time; if that has passed, it moves to its queue's next free time."
            )
        return f"On hold: {workspace.name} is paused{why}. It goes out once the workspace is resumed."
    if in_queue and queue_paused():
        return f"On hold: the queue of {channel_name} is paused."
    return ""


def hold_reason(delivery: Delivery) -> str:
    """Why a delivery is held (see `held`), in words, or "" when it is not; the queue is read fresh."""
    return hold_words(
        workspace=delivery.post.workspace,
        in_queue=delivery.post.in_queue,
        queue_paused=lambda: Delivery.objects.filter(
            pk=delivery.pk, channel__posting_queue__paused_at__isnull=False
        ).exists(),
        channel_name=delivery.channel.display_name,
    )


def _before_run(delivery: Delivery) -> Outcome | None:
    """What stops a run before it calls Meta: a pause (workspace or queue), a channel to reconnect, too many failed
    attempts, a usage limit. A held delivery goes back to the dispatcher, which leaves it until the pause ends."""
    held_because = hold_reason(delivery)
    if held_because:
        return Outcome.defer_until(timezone.now(), held_because)
    channel = delivery.channel
    if channel.status != ChannelStatus.ACTIVE:
        return Outcome(RunOutcome.PAUSED, reason=f"{channel.display_name} needs reconnecting; the post waits for it.")
    if delivery.error_count > settings.PUBLISH_MAX_ATTEMPTS:  # its runs kept dying (see count_dead_runs)
        if delivery.remote_id:  # public already: only the follow-up kept dying
            return Outcome(RunOutcome.PUBLISHED, reason="Published. The first comment could not be added.")
        return Outcome(
            RunOutcome.FAILED, reason="Publishing stopped after repeated failures. " + _check_account_hint(delivery)
        )
    slow_down = wait_seconds(app_id=GraphClient(host=channel.graph_host).app_id, business_id=channel.external_id)
    if slow_down > 0:
        return Outcome.defer_until(
            timezone.now() + timedelta(seconds=max(slow_down, USAGE_MIN_WAIT)),
            "Meta's rate limit is close; SocialHub slows down before it is hit.",
        )
    return None


def _classify(run: Run, error: Exception) -> Outcome:
    """What an error means for the delivery. Runs after the `try`, so it may ask Meta (the token check)."""
    delivery = run.delivery
    if delivery.remote_id:  # public already: only a follow-up failed
        return _follow_up_failed(delivery, error)
    if isinstance(error, Unconfirmed):
        return Outcome(RunOutcome.FAILED, reason=str(error), candidates=tuple(error.candidates))
    if isinstance(error, DeliveryFailed):
        return Outcome(RunOutcome.FAILED, reason=str(error), error=error.error)
    if isinstance(error, GraphAuthError):
        channel_record_error(channel=delivery.channel, error=error)
        name = delivery.channel.display_name
        return Outcome(RunOutcome.PAUSED, reason=f"{name} needs reconnecting: {error.message}", error=error)
    last_try = delivery.error_count >= settings.PUBLISH_MAX_ATTEMPTS  # retries used up
    if isinstance(error, GraphPermissionError):
        # Removed permission (pause the channel) or a feature this account may not use (fail this post)?
        usable, check_error = _token_usable(delivery)
        if check_error is not None:  # Meta could not say: ask again later
            if last_try:
                return Outcome(RunOutcome.FAILED, reason=error.message, error=error)
            return _retry_after(delivery, check_error, _backoff(check_error, delivery.error_count))
        if not usable:
            name = delivery.channel.display_name
            return Outcome(RunOutcome.PAUSED, reason=f"{name} needs reconnecting: {error.message}", error=error)
        return Outcome(RunOutcome.FAILED, reason=error.message, error=error)
    if isinstance(error, GraphError):
        if error.subcode == QUOTA_SUBCODE:
            return quota_wait(delivery, total=None)
        if error.retryable and not last_try:
            return _retry_after(delivery, error, _backoff(error, delivery.error_count))
        return Outcome(RunOutcome.FAILED, reason=error.message, error=error)
    if isinstance(error, RepeatedOffset) and not last_try:
        return Outcome(
            RunOutcome.RETRY,
            countdown=60.0,
            reason="Facebook stopped taking the video's parts; SocialHub uploads it again in a minute.",
        )
    logger.error("publishing delivery %s failed unexpectedly", delivery.pk, exc_info=error)
    if not last_try:
        return _retry_after(delivery, None, 60.0 * 2**delivery.error_count, message=f"SocialHub hit an error: {error}.")
    return Outcome(
        RunOutcome.FAILED, reason=f"SocialHub could not publish this: {error}. " + _check_account_hint(delivery)
    )


def _token_usable(delivery: Delivery) -> tuple[bool, GraphError | None]:
    """Whether the channel's token still works (a Graph call, made outside any `except`)."""
    usable, failure = False, None
    try:
        usable = channel_check_token(channel=delivery.channel)
    except GraphError as exc:
        failure = exc
    return usable, failure


def _follow_up_failed(delivery: Delivery, error: Exception) -> Outcome:
    retryable = isinstance(error, GraphError) and error.retryable and not isinstance(error, GraphAuthError)
    if retryable and delivery.follow_up_attempts + 1 < FOLLOW_UP_ATTEMPTS:
        delay = _backoff(error, delivery.follow_up_attempts)  # type: ignore[arg-type]
        return Outcome(
            RunOutcome.RETRY,
            countdown=delay,
            reason="Published. Adding the first comment failed; SocialHub tries again shortly.",
            error=error,
            follow_up=True,
        )
    detail = error.message if isinstance(error, GraphError) else str(error)
    return Outcome(
        RunOutcome.PUBLISHED,
        reason=f"Published. The first comment could not be added: {detail}",
        error=error if isinstance(error, GraphError) else None,
    )


def _backoff(error: GraphError, attempt: int) -> float:
    base = error.retry_delay(attempt)
    return base + random.uniform(0, base / 4)  # jitter: retries of many posts do not arrive at Meta together


def _retry_after(delivery: Delivery, error: GraphError | None, delay: float, *, message: str = "") -> Outcome:
    when = timezone.localtime(timezone.now() + timedelta(seconds=delay), delivery.post.workspace.zoneinfo)
    if isinstance(error, GraphRateLimitError):
        reason = f"Meta asked SocialHub to slow down. Trying again at {when:%H:%M}."
    else:
        reason = f"{error.message if error else message} Trying again at {when:%H:%M}."
    return Outcome(RunOutcome.RETRY, countdown=delay, reason=reason, error=error)


def _check_account_hint(delivery: Delivery) -> str:
    if delivery.publish_started_at and not delivery.remote_id:
        return "It may have gone out: check the account before retrying, so it is not posted twice."
    return "Retry it, or contact your operator if it keeps failing."


def _poll(delivery: Delivery, token: str, attempt: DeliveryAttempt | None, outcome: Outcome) -> Outcome:
    """Meta is still processing: the task comes back after the countdown. Each wait (its subject) is measured
    on its own; media not yet with Meta gives up after PUBLISH_PROCESSING_TIMEOUT, media already sent is
    checked with back-off and shown as sent."""
    now = timezone.now()
    same_wait = (
        delivery.state == DeliveryState.PROCESSING
        and delivery.processing_since is not None
        and delivery.waiting_for == outcome.subject
    )
    since = delivery.processing_since if same_wait else now
    waited = (now - since).total_seconds()  # type: ignore[operator]
    countdown, reason = outcome.countdown, outcome.reason
    if waited > settings.PUBLISH_PROCESSING_TIMEOUT:
        minutes = int(waited // 60)
        if not outcome.sent:
            return _apply(
                delivery,
                token,
                attempt,
                Outcome(
                    RunOutcome.FAILED,
                    reason=f"Meta was still processing the media after {minutes} minutes. Retry to upload it again.",
                ),
            )
        if waited > SENT_UNCONFIRMED_AFTER:
            return _apply(
                delivery,
                token,
                attempt,
                Outcome(
                    RunOutcome.FAILED,
                    reason=(
                        f"Sent, but Meta had still not finished processing it after {minutes // 60} hours. It may be "
                        f"live: check {outcome.check_url} before retrying, so it is not posted twice."
                    ),
                ),
            )
        countdown = min(max(countdown, waited / 4), SENT_MAX_PAUSE)
        reason = (
            f"Sent, Meta still processing (for {minutes} minutes). It may already be live: check {outcome.check_url}"
        )
    if not transitions.to_processing(
        delivery, token, attempt=attempt, reason=reason, countdown=countdown, since=since, subject=outcome.subject
    ):
        return Outcome(RunOutcome.STALE)
    wait = Outcome.wait(countdown, reason, subject=outcome.subject, sent=outcome.sent, check_url=outcome.check_url)
    return dataclasses.replace(wait, token=token)  # the task comes back with this run's token


def _apply(delivery: Delivery, token: str, attempt: DeliveryAttempt | None, outcome: Outcome) -> Outcome:
    """Make the outcome of a run the delivery's new state (through `transitions`)."""
    pk, now, kind = delivery.pk, timezone.now(), outcome.kind
    attempt_outcome = DeliveryAttempt.Outcome
    if kind == RunOutcome.STALE:
        transitions.finish_attempt(attempt, attempt_outcome.RETRY, message=outcome.reason or "Another run took over.")
        return outcome
    if kind == RunOutcome.POLL:
        return _poll(delivery, token, attempt, outcome)
    if kind == RunOutcome.PUBLISHED:
        moved = transitions.to_published(pk, token, attempt=attempt, note=outcome.reason)
    elif kind == RunOutcome.DEFERRED:
        moved = transitions.to_scheduled(pk, token, at=outcome.until or now, reason=outcome.reason, attempt=attempt)
    elif kind == RunOutcome.RETRY:
        moved = transitions.to_scheduled(
            pk,
            token,
            at=now + timedelta(seconds=outcome.countdown),
            reason=outcome.reason,
            attempt=attempt,
            attempt_outcome=attempt_outcome.RETRY,
            error=outcome.error,
            count_error=not outcome.follow_up,
            follow_up=outcome.follow_up,
        )
    elif kind == RunOutcome.PAUSED:
        moved = transitions.to_scheduled(
            pk,
            token,
            at=now,
            reason=outcome.reason,
            attempt=attempt,
            attempt_outcome=attempt_outcome.PAUSED,
            error=outcome.error,
        )
    else:
        moved = transitions.to_failed(
            pk, token, message=outcome.reason, attempt=attempt, error=outcome.error, candidates=list(outcome.candidates)
        )
    if not moved:
        return Outcome(RunOutcome.STALE)
    _tell(delivery, outcome)
    return outcome


def _tell(delivery: Delivery, outcome: Outcome) -> None:
    """People hear about a failure or a full quota. Telling them never changes how the run ended."""
    try:
        if outcome.kind == RunOutcome.FAILED:
            alerts.delivery_failed(delivery)
        elif outcome.kind == RunOutcome.DEFERRED and outcome.quota_full:
            alerts.quota_full(delivery)
    except Exception:
        logger.exception("could not notify about delivery %s", delivery.pk)
