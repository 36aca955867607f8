"""What every publisher shares: the run it works in, the outcomes it may end with, and helpers.

A publisher (`instagram.py`, `facebook.py`) drives one delivery through Meta's calls for its platform. It saves
every id Meta returns through `Run.save` (a lease-checked update that never touches the state), raises when
something goes wrong, and returns an `Outcome` saying what should happen next. It never changes the delivery's
state itself: the pipeline applies the outcome through `publishing.services.transitions`."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ..models import Delivery, DeliveryAttempt, PostMedia

if TYPE_CHECKING:
    from socialhub.graph import GraphClient, GraphError

# Meta asks that a container's or a video's status is not read more than about once a minute; within one run
# the same status is never read twice this close together (a recovery and the next step share one reading).
POLITE_SECONDS = 5.0


class RunOutcome(enum.StrEnum):
    PUBLISHED = "published"
    POLL = "poll"  # Meta is processing: the task comes back after `countdown`, holding the lease meanwhile
    DEFERRED = "deferred"  # back to the dispatcher until a given time (a full quota, a usage limit, a lost key)
    RETRY = "retry"  # an error a later try may fix: back to the dispatcher with back-off
    FAILED = "failed"
    PAUSED = "paused"  # the channel needs reconnecting
    STALE = "stale"  # another run owns the delivery


@dataclass(frozen=True)
class Outcome:
    kind: RunOutcome
    countdown: float = 0.0
    reason: str = ""
    # POLL: what is being waited for (a container or video id); a new subject starts a new wait.
    subject: str = ""
    # POLL: the post is already with Meta and may go live by itself, so a slow wait never asks for a new upload.
    sent: bool = False
    until: datetime | None = None  # DEFERRED: when the dispatcher may pick it up again
    check_url: str = ""  # POLL with `sent`: where a person can see the post on Meta meanwhile
    error: Any = None  # RETRY, FAILED, PAUSED: the GraphError behind it, for the attempt log
    candidates: tuple[dict[str, str], ...] = ()  # FAILED after an unconfirmed outcome: posts that could be it
    follow_up: bool = False  # RETRY of what comes after a public post (first comment): its own budget
    quota_full: bool = False  # DEFERRED because the Instagram account used up its 24-hour publishing quota
    token: str = ""  # POLL: the lease token of the run that waits, which the task comes back with

    @classmethod
    def wait(cls, seconds: float, reason: str, *, subject: str, sent: bool = False, check_url: str = "") -> Outcome:
        """Meta is processing `subject`: ask again in `seconds`."""
        return cls(RunOutcome.POLL, max(1.0, seconds), reason, subject=subject, sent=sent, check_url=check_url)

    @classmethod
    def defer_until(cls, until: datetime, reason: str, *, quota_full: bool = False) -> Outcome:
        seconds = max((until - timezone.now()).total_seconds(), 0.0)
        return cls(RunOutcome.DEFERRED, seconds, reason, until=until, quota_full=quota_full)

    @classmethod
    def published(cls) -> Outcome:
        return cls(RunOutcome.PUBLISHED)


class LeaseLost(Exception):
    """Another run owns the delivery now (this one was presumed dead and swept)."""


class DeliveryFailed(Exception):
    """A problem no retry can fix; the message says what to do."""

    def __init__(self, message: str, *, error: GraphError | None = None):
        super().__init__(message)
        self.error = error


class Unconfirmed(Exception):
    """Meta may have published this, and SocialHub cannot prove which post is this delivery's: a person checks.
    `candidates` are the posts that could be it ({id, permalink, created_time, text})."""

    def __init__(self, message: str, *, candidates: list[dict[str, str]] | None = None):
        super().__init__(message)
        self.candidates = candidates or []

    @classmethod
    def among(cls, message: str, items: list[dict[str, Any]], *, text_field: str, link_field: str) -> Unconfirmed:
        """Unconfirmed, with Meta's `items` (posts or media) as the candidates."""
        return cls(message, candidates=[candidate(i, text_field=text_field, link_field=link_field) for i in items])


class Run:
    """One run of one delivery: the lease, the attempt log, saves that renew the lease, and polite reads."""

    def __init__(self, delivery: Delivery, token: str, attempt: DeliveryAttempt):
        self.delivery = delivery
        self.token = token
        self.attempt = attempt
        self._reads: dict[str, tuple[float, dict[str, Any]]] = {}

    def save(self, **fields: Any) -> None:
        """Store what Meta returned and renew the lease; fails if another run took the delivery over. The state
        is not among the fields: only `publishing.services.transitions` changes it."""
        if "state" in fields:
            raise ValueError("A run never writes the state; return an Outcome instead.")
        fields.setdefault("lease_until", timezone.now() + timedelta(seconds=settings.PUBLISH_LEASE_SECONDS))
        if fields.get("publish_started_at") is not None and self.delivery.publish_tried_at is None:
            fields.setdefault("publish_tried_at", fields["publish_started_at"])
        updated = Delivery.objects.filter(pk=self.delivery.pk, lease_token=self.token).update(**fields)
        if updated != 1:
            raise LeaseLost(f"delivery {self.delivery.pk} was taken over")
        for name, value in fields.items():
            setattr(self.delivery, name, value)

    def step(self, description: str) -> None:
        self.attempt.steps = [*self.attempt.steps, description]
        self.attempt.save(update_fields=["steps"])

    def read_status(self, client: GraphClient, object_id: str, fields: str) -> dict[str, Any]:
        """A container's or video's status, read at most once per POLITE_SECONDS in this run."""
        now = time.monotonic()
        cached = self._reads.get(object_id)
        if cached and now - cached[0] < POLITE_SECONDS:
            return cached[1]
        answer = client.get(object_id, fields=fields)
        self._reads[object_id] = (time.monotonic(), answer)
        return answer


class Publisher(Protocol):
    """Drives one delivery on one platform as far as it can go now."""

    def run(self, run: Run) -> Outcome: ...


def first_poll_seconds() -> float:
    """The first status check after media is handed over waits for a typical processing time."""
    return settings.PUBLISH_FIRST_POLL_SECONDS


def poll_seconds() -> float:
    return settings.PUBLISH_POLL_SECONDS


def delivery_items(delivery: Delivery) -> list[PostMedia]:
    return list(delivery.post.items.select_related("asset").order_by("position"))


def same_text(a: str | None, b: str | None) -> bool:
    """Meta may normalise line endings and trailing space; compare what a reader sees."""
    return (a or "").replace("\r\n", "\n").strip() == (b or "").replace("\r\n", "\n").strip()


def created_after(timestamp: str | None, started: Any) -> bool:
    """Meta's timestamps (`2026-11-24T10:00:00+0000`) at or after `started`, give or take two minutes of clocks."""
    moment = parse_datetime((timestamp or "").replace("+0000", "+00:00"))
    return moment is not None and moment >= started - timedelta(minutes=2)


def post_first_comment(run: Run, client: GraphClient, text: str, *, text_field: str) -> None:
    """Add the first comment once. After an unknown outcome, look for it before posting again. Errors are
    raised: the pipeline decides (the post itself is public by now, so they never fail the delivery)."""
    delivery = run.delivery
    if delivery.first_comment_started_at:
        for existing in client.paginate(f"{delivery.remote_id}/comments", fields=f"id,{text_field}", max_pages=3):
            if same_text(existing.get(text_field), text):
                run.save(first_comment_id=existing["id"])
                return
    run.step("first comment")
    run.save(first_comment_started_at=timezone.now())
    answer = client.post(f"{delivery.remote_id}/comments", data={"message": text})
    run.save(first_comment_id=answer["id"])


def absolute_link(link: str | None) -> str:
    """Meta answers some permalinks as paths (`/reel/123`): make them links a person can open."""
    link = link or ""
    return f"https://www.facebook.com{link}" if link.startswith("/") else link


def candidate(item: dict[str, Any], *, text_field: str, link_field: str) -> dict[str, str]:
    """A post found on an account after an unknown outcome, reduced to what a person needs to check it (only an
    https link is kept: it is rendered as one)."""
    link = absolute_link(str(item.get(link_field) or ""))
    return {
        "id": str(item.get("id", "")),
        "permalink": link if link.startswith("https://") else "",
        "created_time": str(item.get("created_time") or item.get("timestamp") or ""),
        "text": str(item.get(text_field) or "")[:200],
    }
