"""Every change of a delivery's state, in one place.

Each transition is one conditional UPDATE on the state it expects (and, for a run, on the run's lease token):
if another request, run or sweep moved the delivery first, the UPDATE matches nothing and the transition
reports False instead of overwriting what happened. Each resets the fields that belong to the state it leaves
(a run's lease, a wait's start and subject), and a transition that ends a run records the attempt's outcome.
Nothing else writes `Delivery.state` (a test reads the code to keep it so).

    draft ─submit→ awaiting_approval ─approve→ scheduled ─claim→ publishing ⇄ processing
      └───────────────schedule──────────────────↑   ↑  ↑               │
                                        unsent ─┘   │  └─ retry/defer/pause ─┤
                                 retry (a person) ──┴── failed ←──────────────┤
                                                         published ←──────────┘
    draft | awaiting_approval | scheduled | failed ─cancel→ cancelled
    awaiting_approval | scheduled ─reopen (a person edits the post)→ draft
    scheduled ─reschedule (calendar, queue)→ scheduled at another time

Every move to scheduled whose time is soon asks `wakeups` for a wake-up at that time, once the transaction
commits: whichever path made it due (a person, a retry, a wait), it goes out at its second.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from ..models import ACTIVE_STATES, Delivery, DeliveryAttempt, DeliveryState, Post
from . import wakeups

if TYPE_CHECKING:
    from accounts.models import Channel
    from socialhub.graph import GraphError

S = DeliveryState
# What a run holds, and what a wait for Meta holds: reset when the state that owns them is left.
RUN_RESET: dict[str, Any] = {"lease_token": "", "lease_until": None}
WAIT_RESET: dict[str, Any] = {"processing_since": None, "waiting_for": ""}
ERROR_RESET: dict[str, Any] = {
    "error_message": "",
    "error_code": None,
    "error_subcode": None,
    "fbtrace_id": "",
    "candidates": [],
}
# What a run made at Meta before publishing (containers, uploads, unpublished photos), for content as it was then.
PREPARED_RESET: dict[str, Any] = {
    "container_id": "",
    "child_container_ids": [],
    "upload_id": "",
    "upload_session_id": "",
    "uploaded_ids": [],
    "photo_ids": [],
    "publish_tried_at": None,
}
QUEUE_UNAVAILABLE = "Queued: the publishing queue is not reachable right now, so this goes out as soon as it is back."


def _lease_until(seconds: float = 0.0) -> datetime:
    return timezone.now() + timedelta(seconds=seconds + settings.PUBLISH_LEASE_SECONDS)


def _move(pk: int, expected: Iterable[str], to: str, *, token: str | None = None, **fields: Any) -> bool:
    rows = Delivery.objects.filter(pk=pk, state__in=list(expected))
    if token is not None:
        rows = rows.filter(lease_token=token)
    return rows.update(state=to, updated_at=timezone.now(), **fields) == 1


def _error_fields(error: GraphError | None) -> dict[str, Any]:
    if error is None:
        return {"error_code": None, "error_subcode": None, "fbtrace_id": ""}
    return {"error_code": error.code, "error_subcode": error.subcode, "fbtrace_id": error.fbtrace_id or ""}


def finish_attempt(
    attempt: DeliveryAttempt | None, outcome: str, *, error: GraphError | None = None, message: str = ""
) -> None:
    """Record how a run ended on its attempt."""
    if attempt is None:
        return
    attempt.outcome = outcome
    attempt.finished_at = timezone.now()
    if error is not None:
        attempt.error_class = type(error).__name__
        attempt.error_code, attempt.error_subcode = error.code, error.subcode
        attempt.message, attempt.fbtrace_id = error.message, error.fbtrace_id or ""
    elif message:
        attempt.message = message
    attempt.save()


# --- people: submit, approve, schedule, retry, cancel ---------------------------------------------------------
def submit_for_approval(post: Post) -> int:
    return post.deliveries.filter(state=S.DRAFT).update(state=S.AWAITING_APPROVAL, updated_at=timezone.now())


def schedule(post: Post, *, due: datetime) -> int:
    """Drafts and approved deliveries become due at `due`."""
    moved = post.deliveries.filter(state__in=[S.DRAFT, S.AWAITING_APPROVAL]).update(
        state=S.SCHEDULED, due_at=due, next_attempt_at=due, waiting_reason="", updated_at=timezone.now(), **ERROR_RESET
    )
    if moved:
        wakeups.wake_on_commit(due)
    return moved


def reschedule(post: Post, *, due: datetime) -> int:
    """A person moved the post's time (calendar drag, queue order): its scheduled deliveries that nothing was sent
    for become due at `due`. A delivery a run claimed meanwhile (publishing) is left alone; the caller, holding
    the post's lock, refuses the move when it sees one. Returns how many moved."""
    moved = post.deliveries.filter(state=S.SCHEDULED, remote_id="", publish_started_at__isnull=True).update(
        due_at=due, next_attempt_at=due, waiting_reason="", **RUN_RESET
    )
    if moved:
        wakeups.wake_on_commit(due)
    return moved


def reopen_for_edit(post: Post) -> int:
    """A person opens the post's changes for saving: deliveries awaiting approval or scheduled go back to
    draft, unless a run claimed them first (then they are publishing, and the UPDATE leaves them alone; the
    caller sees that and refuses the edit). Nothing was sent for these, so no remote id is at stake.

    What a run prepared at Meta for the old content is dropped (`PREPARED_RESET`): an Instagram container holds
    the caption and media it was made with, so a post edited while it waited (a pause, a full quota, a retry) is
    prepared again from what it says now, never published as it was. A delivery whose publishing call was ever
    made on what is prepared (`publish_tried_at`) is left alone, and so its edit refused: Meta may still show
    that publish late, and only the prepared container would reveal it."""
    return post.deliveries.filter(
        state__in=[S.AWAITING_APPROVAL, S.SCHEDULED],
        remote_id="",
        publish_started_at__isnull=True,
        publish_tried_at__isnull=True,
    ).update(
        state=S.DRAFT,
        due_at=None,
        next_attempt_at=None,
        waiting_reason="",
        updated_at=timezone.now(),
        **ERROR_RESET,
        **RUN_RESET,
        **PREPARED_RESET,
    )


def retry(delivery: Delivery, *, approved: bool) -> bool:
    """A person asks for a failed delivery again. One conditional UPDATE: a double click or a second tab finds
    it no longer failed and changes nothing, so ids a run stored since are never wiped. A post that is not
    approved goes back to awaiting approval; a post scheduled for later waits for its time."""
    now = timezone.now()
    if not approved:
        return _move(
            delivery.pk, [S.FAILED], S.AWAITING_APPROVAL, error_count=0, **ERROR_RESET, **RUN_RESET, **WAIT_RESET
        )
    due = max(filter(None, [delivery.post.scheduled_at, now]))
    fresh: dict[str, Any] = {}
    if not (delivery.remote_id or delivery.publish_started_at):
        # Nothing public came of the last tries: prepare everything again (an ERROR or EXPIRED container, a
        # media URL Meta could not fetch) instead of reusing what Meta refused. Decided from the row the
        # UPDATE matches (below), never from a stale copy.
        fresh = {"container_id": "", "child_container_ids": [], "upload_id": "", "uploaded_ids": [], "photo_ids": []}
    rows = Delivery.objects.filter(pk=delivery.pk, state=S.FAILED)
    if fresh:
        rows = rows.filter(remote_id="", publish_started_at__isnull=True, publish_tried_at__isnull=True)
    updated = rows.update(
        state=S.SCHEDULED,
        updated_at=now,
        next_attempt_at=due,
        waiting_reason="",
        error_count=0,
        follow_up_attempts=0,
        **ERROR_RESET,
        **RUN_RESET,
        **WAIT_RESET,
        **fresh,
    )
    if not updated and fresh:
        # The row changed under us (a run stored ids after all): retry it keeping them.
        updated = _move(
            delivery.pk,
            [S.FAILED],
            S.SCHEDULED,
            next_attempt_at=due,
            waiting_reason="",
            error_count=0,
            follow_up_attempts=0,
            **ERROR_RESET,
            **RUN_RESET,
            **WAIT_RESET,
        )
    if updated:
        wakeups.wake_on_commit(due)
    return bool(updated)


def _unconfirmed(delivery: Delivery):  # type: ignore[no-untyped-def]
    """The row while it is failed as unconfirmed (it has candidates): the only state a person settles by hand."""
    return Delivery.objects.filter(pk=delivery.pk, state=S.FAILED).exclude(candidates=[])


def publish_again(delivery: Delivery) -> bool:
    """A person checked the account after an unconfirmed outcome and the post is not there: publish it again,
    from the start (nothing Meta holds of the last try is reused)."""
    now = timezone.now()
    moved = (
        _unconfirmed(delivery).update(
            state=S.SCHEDULED,
            updated_at=now,
            next_attempt_at=now,
            waiting_reason="",
            error_count=0,
            follow_up_attempts=0,
            publish_started_at=None,
            publish_confirmed_at=None,
            **PREPARED_RESET,
            **ERROR_RESET,
            **RUN_RESET,
            **WAIT_RESET,
        )
        == 1
    )
    if moved:
        wakeups.wake_on_commit(now)
    return moved


def mark_published_by_person(delivery: Delivery, *, remote_id: str, permalink: str) -> bool:
    """A person picked, among the candidates of an unconfirmed outcome, the post that is this delivery's."""
    now = timezone.now()
    return (
        _unconfirmed(delivery).update(
            state=S.PUBLISHED,
            updated_at=now,
            remote_id=remote_id,
            permalink=permalink,
            published_at=now,
            publish_confirmed_at=now,
            waiting_reason="",
            **ERROR_RESET,
            **RUN_RESET,
            **WAIT_RESET,
        )
        == 1
    )


def cancel(post: Post) -> int:
    """Stop deliveries that have not gone out; what is published, or may have been, stays as it is."""
    return post.deliveries.filter(
        state__in=[S.DRAFT, S.AWAITING_APPROVAL, S.SCHEDULED, S.FAILED], remote_id="", publish_started_at__isnull=True
    ).update(state=S.CANCELLED, next_attempt_at=None, waiting_reason="", updated_at=timezone.now())


def channel_disconnected(channel: Channel) -> int:
    """The channel was disconnected (call inside the transaction that disconnects it). Deliveries that were to go
    out on it fail with the reason (a run in flight loses its lease, so its next save stops it); what went out
    already is published; drafts and posts awaiting approval stay as they are. Returns how many were stopped."""
    now = timezone.now()
    mine = Delivery.objects.filter(channel=channel)
    going = [S.SCHEDULED, *ACTIVE_STATES]
    stopped = mine.filter(state__in=going, remote_id="", publish_started_at__isnull=True).update(
        state=S.FAILED,
        updated_at=now,
        next_attempt_at=None,
        waiting_reason="",
        error_message=f"{channel.display_name} was disconnected before this went out. Reconnect it and retry.",
        **RUN_RESET,
        **WAIT_RESET,
    )
    mine.filter(state__in=going, remote_id="").exclude(publish_started_at__isnull=True).update(
        state=S.FAILED,
        updated_at=now,
        next_attempt_at=None,
        waiting_reason="",
        error_message=(
            f"{channel.display_name} was disconnected while this was being published. It may have gone out: "
            "check the account before retrying, so it is not posted twice."
        ),
        **RUN_RESET,
        **WAIT_RESET,
    )
    # Already public, only the follow-up (permalink, first comment) was pending: it is published.
    mine.filter(state__in=going).exclude(remote_id="").update(
        state=S.PUBLISHED,
        updated_at=now,
        published_at=now,
        next_attempt_at=None,
        waiting_reason="",
        error_message="Published. The first comment was not added: the account was disconnected.",
        **RUN_RESET,
        **WAIT_RESET,
    )
    return stopped


# --- the dispatcher, the sweep and the queue -----------------------------------------------------------------
def claim(delivery_id: int) -> str | None:
    """A due scheduled delivery goes to a new run: publishing, with a fresh lease token (None if it was not
    scheduled any more)."""
    token = uuid.uuid4().hex
    moved = _move(
        delivery_id, [S.SCHEDULED], S.PUBLISHING, lease_token=token, lease_until=_lease_until(), waiting_reason=""
    )
    return token if moved else None


def release_unsent(delivery_id: int, token: str) -> bool:
    """Its task could not be handed to the queue: back to scheduled, due now, so the next tick sends it."""
    return _move(
        delivery_id,
        ACTIVE_STATES,
        S.SCHEDULED,
        token=token,
        next_attempt_at=timezone.now(),
        waiting_reason=QUEUE_UNAVAILABLE,
        **RUN_RESET,
        **WAIT_RESET,
    )


def re_lease(delivery_id: int) -> str | None:
    """The sweep: a run whose lease ran out is presumed dead; a new run gets the delivery (its state stays, the
    dead run's attempt is counted as failed when the new run starts)."""
    token = uuid.uuid4().hex
    updated = Delivery.objects.filter(pk=delivery_id, state__in=ACTIVE_STATES, lease_until__lt=timezone.now()).update(
        lease_token=token, lease_until=_lease_until()
    )
    return token if updated else None


def take_over(delivery_id: int, token: str) -> str | None:
    """A run starts with the token its task was sent with, and swaps it for a token of its own (None if the
    delivery is no longer being published under that token). A second copy of the same task (a broker that hands
    a message out again while the first copy still runs) finds nothing to take and stops: two runs never act at
    once. A copy handed out again after its worker died waits for the sweep, which re-leases once the lease ran
    out."""
    mine = uuid.uuid4().hex
    updated = Delivery.objects.filter(pk=delivery_id, lease_token=token, state__in=ACTIVE_STATES).update(
        lease_token=mine, lease_until=_lease_until()
    )
    return mine if updated == 1 else None


def count_dead_runs(delivery: Delivery, token: str) -> int:
    """Attempts still "running" when a new run starts belong to runs whose worker died (killed, out of memory,
    over the time limit): each counts as a failed attempt."""
    running = DeliveryAttempt.objects.filter(delivery=delivery, outcome=DeliveryAttempt.Outcome.RUNNING)
    if not running.exists():  # the usual case, answered by a read (no write lock on SQLite)
        return 0
    dead = running.update(
        outcome=DeliveryAttempt.Outcome.FAILED,
        finished_at=timezone.now(),
        message="The worker running this stopped without finishing (killed, out of memory or over its time limit).",
    )
    if dead:
        Delivery.objects.filter(pk=delivery.pk, lease_token=token).update(error_count=F("error_count") + dead)
        delivery.error_count += dead
    return dead


# --- how a run ends ------------------------------------------------------------------------------------------
def to_processing(
    delivery: Delivery,
    token: str,
    *,
    attempt: DeliveryAttempt,
    reason: str,
    countdown: float,
    since: datetime,
    subject: str,
) -> bool:
    """Meta is processing: the run's task comes back after `countdown`, holding the lease meanwhile."""
    finish_attempt(attempt, DeliveryAttempt.Outcome.WAITING, message=reason)
    now = timezone.now()
    return _move(
        delivery.pk,
        ACTIVE_STATES,
        S.PROCESSING,
        token=token,
        processing_since=since,
        waiting_for=subject,
        waiting_reason=reason,
        next_attempt_at=now + timedelta(seconds=countdown),
        lease_until=_lease_until(countdown),
    )


def to_scheduled(
    delivery_id: int,
    token: str,
    *,
    at: datetime,
    reason: str,
    attempt: DeliveryAttempt | None = None,
    attempt_outcome: str = DeliveryAttempt.Outcome.WAITING,
    error: GraphError | None = None,
    count_error: bool = False,
    follow_up: bool = False,
) -> bool:
    """Back to the dispatcher until `at`: a retry after an error (`count_error`), a retry of the follow-up of a
    public post (`follow_up`), a wait (quota, usage, a lost key) or a pause (reconnect needed)."""
    finish_attempt(attempt, attempt_outcome, error=error, message="" if error else reason)
    fields: dict[str, Any] = {}
    if count_error:
        fields.update(error_count=F("error_count") + 1, **_error_fields(error))
    if follow_up:
        fields.update(follow_up_attempts=F("follow_up_attempts") + 1)
    moved = _move(
        delivery_id,
        ACTIVE_STATES,
        S.SCHEDULED,
        token=token,
        next_attempt_at=at,
        waiting_reason=reason,
        **RUN_RESET,
        **WAIT_RESET,
        **fields,
    )
    if moved:
        wakeups.wake_on_commit(at)
    return moved


def to_failed(
    delivery_id: int,
    token: str,
    *,
    message: str,
    attempt: DeliveryAttempt | None = None,
    error: GraphError | None = None,
    candidates: list[dict[str, str]] | None = None,
) -> bool:
    finish_attempt(attempt, DeliveryAttempt.Outcome.FAILED, error=error, message=message)
    return _move(
        delivery_id,
        ACTIVE_STATES,
        S.FAILED,
        token=token,
        error_message=message,
        next_attempt_at=None,
        waiting_reason="",
        candidates=candidates or [],
        **RUN_RESET,
        **WAIT_RESET,
        **_error_fields(error),
    )


def to_published(delivery_id: int, token: str, *, attempt: DeliveryAttempt | None = None, note: str = "") -> bool:
    """Public on Meta (its id is stored). `note` says what did not happen after (a first comment)."""
    finish_attempt(attempt, DeliveryAttempt.Outcome.PUBLISHED, message=note)
    return (
        Delivery.objects.filter(pk=delivery_id, state__in=ACTIVE_STATES, lease_token=token)
        .exclude(remote_id="")
        .update(
            state=S.PUBLISHED,
            published_at=timezone.now(),
            updated_at=timezone.now(),
            next_attempt_at=None,
            waiting_reason="",
            error_message=note,
            **RUN_RESET,
            **WAIT_RESET,
        )
        == 1
    )
