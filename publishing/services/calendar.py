"""The calendar: a period of the workspace's posts on its own clock, the filters the calendar and the posts list
share, and moving a post to another day and time by dragging it.

A day on the calendar is a local day of the workspace's time zone, from one local midnight to the next, so the
day the clocks go forward has 23 hours and the day they go back 25. A post is placed by its moment read on that
clock: 10:00 in Rome is in the 10:00 row on either side of a clock change, though the UTC hour differs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from uuid import UUID
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.crypto import encrypted_field_names
from accounts.models import Channel, User
from accounts.roles import Capability

from ..models import ACTIVE_STATES, Delivery, DeliveryState, Post, PostMedia
from . import composer, local_time, pipeline, transitions

if TYPE_CHECKING:
    from accounts.access import WorkspaceAccess
    from accounts.models import Workspace

S = DeliveryState
MOVABLE_STATES = (S.DRAFT, S.AWAITING_APPROVAL, S.SCHEDULED)
UNSCHEDULED_SHOWN = 30  # drafts listed beside the calendar; the posts list has the rest


# --- filters ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FilterOptions:
    """What the filters offer in a workspace: its channels, the people who wrote its posts, the states and
    approval steps. Values a request sends that are not among these are ignored, never trusted."""

    channels: list[Channel]
    authors: list[User]
    statuses: list[tuple[str, str]] = field(default_factory=lambda: list(S.choices))
    approvals: list[tuple[str, str]] = field(default_factory=lambda: list(Post.Approval.choices))


def filter_options(workspace: Workspace) -> FilterOptions:
    channels = list(
        Channel.objects.filter(workspace=workspace)
        .defer(*encrypted_field_names(Channel))
        .order_by("platform", "name", "pk")
    )
    authors = list(
        User.objects.filter(pk__in=Post.objects.filter(workspace=workspace).values("author"))
        .only("pk", "email", "full_name")
        .order_by("full_name", "email")
    )
    return FilterOptions(channels=channels, authors=authors)


@dataclass(frozen=True)
class PostFilters:
    """The filters of a request, already checked against the workspace's options. Empty means "any"."""

    channel: str = ""  # a channel's public id
    status: str = ""  # a delivery state: posts with at least one delivery in it (on the chosen channel)
    author: str = ""  # a user's id
    approval: str = ""
    q: str = ""  # words in the caption, or in the text one account gets instead
    post: str = ""  # one post's public id (a link from the calendar to its card)

    NAMES = ("channel", "status", "author", "approval", "q", "post")

    @classmethod
    def parse(cls, params: Mapping[str, str], options: FilterOptions) -> PostFilters:
        def pick(name: str, allowed: Iterable[str]) -> str:
            value = (params.get(name) or "").strip()
            return value if value in set(allowed) else ""

        post = (params.get("post") or "").strip()
        try:
            post = str(UUID(post)) if post else ""
        except ValueError:
            post = ""
        return cls(
            channel=pick("channel", (str(c.public_id) for c in options.channels)),
            status=pick("status", (value for value, _ in options.statuses)),
            author=pick("author", (str(a.pk) for a in options.authors)),
            approval=pick("approval", (value for value, _ in options.approvals)),
            q=(params.get("q") or "").strip()[:200],
            post=post,
        )

    def params(self) -> dict[str, str]:
        """The filters as query parameters, only those set (for links that keep them)."""
        return {name: getattr(self, name) for name in self.NAMES if getattr(self, name)}

    @property
    def active(self) -> bool:
        return bool(self.params())

    def without_post(self) -> PostFilters:
        return replace(self, post="")


def filter_posts(posts: QuerySet[Post], filters: PostFilters) -> QuerySet[Post]:
    """`posts` narrowed to what the filters ask for. Channel and status apply to the same delivery: "failed on
    the Page" is a post whose Page delivery failed, not one that failed elsewhere and also goes to the Page."""
    if filters.channel or filters.status:
        deliveries = Delivery.objects.filter(post=OuterRef("pk"))
        if filters.channel:
            deliveries = deliveries.filter(channel__public_id=filters.channel)
        if filters.status:
            deliveries = deliveries.filter(state=filters.status)
        posts = posts.filter(Exists(deliveries))
    if filters.author:
        posts = posts.filter(author_id=int(filters.author))
    if filters.approval:
        posts = posts.filter(approval=filters.approval)
    if filters.q:
        own_text = Delivery.objects.filter(post=OuterRef("pk"), caption_override__icontains=filters.q)
        posts = posts.filter(Q(caption__icontains=filters.q) | Q(Exists(own_text)))
    if filters.post:
        posts = posts.filter(public_id=filters.post)
    return posts


def needs_attention() -> Exists:
    """A post with a delivery that failed: Meta refused it, or it stopped, and a person has to act."""
    return Exists(Delivery.objects.filter(post=OuterRef("pk"), state=S.FAILED))


class FailuresFirst:
    """The posts for a paged list: those that need attention (a failed delivery) first, then the others, each
    newest first. Index-friendly queries instead of one ORDER BY over a flag computed for every post: the failed
    ones are found from the deliveries' state (few); a page reads the ids of its part of each list, then its
    posts with what they show. The same number of queries on every page, whatever the number of posts."""

    def __init__(self, posts: QuerySet[Post]):
        failed = Delivery.objects.filter(state=S.FAILED).values("post_id")
        self.posts = posts
        self.attention = posts.filter(pk__in=failed).order_by("-created_at", "-id").values_list("pk", flat=True)
        self.rest = posts.exclude(pk__in=failed).order_by("-created_at", "-id").values_list("pk", flat=True)
        self.ordered = True
        self._counts: tuple[int, int] | None = None

    @property
    def attention_count(self) -> int:
        return self._count()[0]

    def _count(self) -> tuple[int, int]:
        if self._counts is None:
            self._counts = (self.attention.count(), self.rest.count())
        return self._counts

    def count(self) -> int:
        return sum(self._count())

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list[Post]:
        start, stop = window.start or 0, window.stop if window.stop is not None else self.count()
        first = self.attention_count
        head = list(self.attention[start:stop])  # empty past the failed ones, still one (cheap) query
        want = stop - start - len(head)
        tail_start = max(start - first, 0)
        tail = list(self.rest[tail_start : tail_start + max(want, 1)])[: max(want, 0)]
        ids = head + tail
        found = {post.pk: post for post in self.posts.filter(pk__in=ids)}
        return [found[pk] for pk in ids if pk in found]


# --- what a post shows ----------------------------------------------------------------------------------------------
# The order in which one state of a post's deliveries speaks for the whole post on the calendar: what needs a
# person first, then what is under way, then what waits, then what is done.
STATUS_ORDER = (
    S.FAILED,
    S.PUBLISHING,
    S.PROCESSING,
    S.AWAITING_APPROVAL,
    S.SCHEDULED,
    S.DRAFT,
    S.PUBLISHED,
    S.CANCELLED,
)


def post_status(deliveries: list[Delivery]) -> str:
    """One state for the post: its most pressing delivery's (a post on no account yet is a draft)."""
    states = {d.state for d in deliveries}
    return next((s for s in STATUS_ORDER if s in states), S.DRAFT)


def post_moment(post: Post, deliveries: list[Delivery]) -> datetime | None:
    """When the post goes out or went out: its chosen time, or for one published on request, when it was due."""
    if post.scheduled_at is not None:
        return post.scheduled_at
    due = [d.due_at for d in deliveries if d.due_at is not None]
    return min(due) if due else None


def move_refusal(post: Post, deliveries: list[Delivery]) -> str:
    """Why the post cannot be given another time, in words for the person, or "" when it can."""
    if post.removal_requested_at:
        return "This post is being deleted on Meta, so it can no longer be moved."
    sent = [d for d in deliveries if d.state in (*ACTIVE_STATES, S.PUBLISHED) or d.remote_id or d.publish_started_at]
    if sent:
        names = ", ".join(d.channel.display_name for d in sent)
        return f"This post has gone out, or is going out right now, on {names}, so its time can no longer change."
    failed = [d for d in deliveries if d.state == S.FAILED]
    if failed:
        return (
            f"This post failed on {', '.join(d.channel.display_name for d in failed)}, so it cannot be moved. "
            "Retry it from the posts list, or duplicate it and schedule the copy."
        )
    cancelled = [d for d in deliveries if d.state not in MOVABLE_STATES]
    if cancelled:
        return (
            f"This post was cancelled on {', '.join(d.channel.display_name for d in cancelled)}, so it cannot be "
            "moved. Duplicate it and schedule the copy."
        )
    return ""


# Approval steps a new time would slip past: the team approved the post at its time (and the client may be looking
# at it now), so only someone who may publish gives it another.
APPROVED_STEPS = (Post.Approval.APPROVED, Post.Approval.CLIENT_PENDING)


def move_capability(post: Post, deliveries: list[Delivery]) -> Capability:
    """Moving a post that is scheduled, approved, or approved by the team and awaiting the client changes when
    something approved goes out: that is publishing. Moving a draft, a post awaiting the team's approval or one
    with changes requested is drafting (its time is approved along with the rest of it)."""
    if post.approval in APPROVED_STEPS or any(d.state == S.SCHEDULED for d in deliveries):
        return Capability.POSTS_PUBLISH
    return Capability.POSTS_DRAFT


def may_move(post: Post, deliveries: list[Delivery], access: WorkspaceAccess) -> bool:
    return not move_refusal(post, deliveries) and access.can(move_capability(post, deliveries))


def hold_reason(post: Post, delivery: Delivery, workspace: Workspace) -> str:
    """Why a scheduled delivery waits whatever its time, in the words the pipeline uses (`pipeline.hold_reason`),
    or "" when nothing holds it. Read from what a list already loaded (the workspace, the post, the channel with
    its posting queue selected along), so it asks the database nothing."""
    if delivery.state != S.SCHEDULED:
        return ""
    return pipeline.hold_words(
        workspace=workspace,
        in_queue=post.in_queue,
        queue_paused=lambda: _queue_paused(delivery.channel),
        channel_name=delivery.channel.display_name,
    )


def held(post: Post, deliveries: list[Delivery], workspace: Workspace) -> bool:
    """Held by a pause: it has something waiting to go out, and its workspace (or its queue) is paused."""
    return any(hold_reason(post, d, workspace) for d in deliveries)


def _queue_paused(channel: Channel) -> bool:
    try:
        queue = channel.posting_queue
    except Channel.posting_queue.RelatedObjectDoesNotExist:  # type: ignore[attr-defined]
        return False
    return queue is not None and queue.paused_at is not None


@dataclass
class Entry:
    """One post on the calendar or in the unscheduled list."""

    post: Post
    deliveries: list[Delivery]
    local: datetime | None  # its moment on the workspace's clock
    status: str
    status_label: str
    first_media: PostMedia | None
    movable: bool
    editable: bool  # the composer can still change it
    held: bool

    @property
    def thumbnail(self) -> bool:
        """The first media has a small picture to show (a photo, or a video whose preview was made)."""
        asset = self.first_media.asset if self.first_media else None
        return bool(asset and (asset.thumbnail or asset.kind == asset.Kind.IMAGE))


# What an entry never shows, left in the database: a month holds hundreds of posts, and the ids Meta returned,
# the per-account texts and a file's probe data are most of each row.
UNSHOWN_DELIVERY_FIELDS = (
    "caption_override",
    "first_comment_override",
    "candidates",
    "child_container_ids",
    "uploaded_ids",
    "photo_ids",
    "channel__granted_scopes",
    "channel__status_reason",
    "channel__last_error",
)


def _with_cards(posts: QuerySet[Post]) -> QuerySet[Post]:
    """Everything an entry shows, in a fixed number of queries whatever the number of posts."""
    return posts.select_related("author").prefetch_related(
        Prefetch(
            "deliveries",
            queryset=Delivery.objects.select_related("channel", "channel__posting_queue")
            .defer(*encrypted_field_names(Channel, prefix="channel__"), *UNSHOWN_DELIVERY_FIELDS)
            .order_by("channel__platform", "channel__name"),
        ),
        Prefetch(
            "items",
            queryset=PostMedia.objects.select_related("asset")
            .defer("user_tags", "product_tags", "alt_text", "asset__probe", "asset__probe_error")
            .order_by("position"),
        ),
    )


def _entry(post: Post, access: WorkspaceAccess, zone: ZoneInfo) -> Entry:
    deliveries = list(post.deliveries.all())
    items = list(post.items.all())
    moment = post_moment(post, deliveries)
    status = post_status(deliveries)
    return Entry(
        post=post,
        deliveries=deliveries,
        local=moment.astimezone(zone) if moment else None,
        status=status,
        status_label=S(status).label,
        first_media=items[0] if items else None,
        movable=may_move(post, deliveries, access),
        editable=composer.editable(post, deliveries),
        held=held(post, deliveries, access.workspace),
    )


# --- the period shown -------------------------------------------------------------------------------------------
VIEWS = ("month", "week")
# A day of the month view shows this many posts, then "N more", which opens that day's week hour by hour.
MONTH_DAY_LIMIT = 4
HOURS = range(24)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The moment `day` begins in `zone`, in UTC. Where the clocks skip midnight itself, the day begins when
    they land (fold 0 reads the skipped time with the offset before the change, which is that moment)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def clock_change_note(day: date, zone: ZoneInfo) -> str:
    """What the clocks do on `day` when the zone changes its offset then (e.g. "Clocks go forward an hour"),
    else an empty string."""
    start = local_midnight(day, zone).astimezone(zone)
    end = local_midnight(day + timedelta(days=1), zone).astimezone(zone)
    before, after = start.utcoffset(), end.utcoffset()
    if before is None or after is None or before == after:
        return ""
    minutes = int(abs(after - before).total_seconds() // 60)
    amount = "an hour" if minutes == 60 else f"{minutes} minutes"
    return f"Clocks go {'forward' if after > before else 'back'} {amount}"


def skipped_hours(day: date, zone: ZoneInfo) -> set[int]:
    """Hours of `day` the clocks skip entirely (02 on the day summer time starts in Europe)."""
    if not clock_change_note(day, zone):
        return set()
    return {hour for hour in HOURS if all(_skipped(day, time(hour, minute), zone) for minute in (0, 15, 30, 45, 59))}


def _skipped(day: date, at: time, zone: ZoneInfo) -> bool:
    try:
        local_time.to_aware(day, at, zone, fold=0)
    except local_time.NonexistentLocalTime:
        return True
    return False


@dataclass
class Day:
    day: date
    in_period: bool  # false for the days of the next or last month that fill the month grid's first/last week
    today: bool
    note: str  # a clock change on this day
    entries: list[Entry]
    more: int = 0  # posts of the day not shown (a month's day shows MONTH_DAY_LIMIT)
    skipped: set[int] = field(default_factory=set)

    def at_hour(self, hour: int) -> list[Entry]:
        return [e for e in self.entries if e.local is not None and e.local.hour == hour]


@dataclass
class Slot:
    """One hour of one day in the week view."""

    day: Day
    hour: int
    entries: list[Entry]

    @property
    def skipped(self) -> bool:
        return self.hour in self.day.skipped


@dataclass
class Period:
    view: str
    anchor: date  # the day asked for
    first: date  # first day shown (a Monday)
    last: date  # last day shown (a Sunday)
    previous: date
    next: date
    title: str

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def period_of(view: str, anchor: date) -> Period:
    if view == "week":
        first = anchor - timedelta(days=anchor.weekday())
        last = first + timedelta(days=6)
        if first.month == last.month:
            title = f"{first.day} – {last.day} {last:%B %Y}"
        elif first.year == last.year:
            title = f"{first.day} {first:%B} – {last.day} {last:%B %Y}"
        else:
            title = f"{first.day} {first:%B %Y} – {last.day} {last:%B %Y}"
        return Period(view, anchor, first, last, first - timedelta(days=7), first + timedelta(days=7), title)
    start = anchor.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    first = start - timedelta(days=start.weekday())
    month_end = following - timedelta(days=1)
    last = month_end + timedelta(days=6 - month_end.weekday())
    previous = (start - timedelta(days=1)).replace(day=1)
    return Period("month", anchor, first, last, previous, following, f"{start:%B %Y}")


@dataclass
class Calendar:
    period: Period
    zone: ZoneInfo
    days: list[Day]
    unscheduled: list[Entry]
    unscheduled_more: int  # drafts without a time beyond those listed

    @property
    def weeks(self) -> list[list[Day]]:
        return [self.days[i : i + 7] for i in range(0, len(self.days), 7)]

    @property
    def rows(self) -> list[tuple[int, list[Slot]]]:
        """The week view's rows: each hour of the day, with that hour of each day."""
        return [(hour, [Slot(day, hour, day.at_hour(hour)) for day in self.days]) for hour in HOURS]

    @property
    def entries(self) -> list[Entry]:
        return [e for d in self.days for e in d.entries]


def calendar_for(
    *, access: WorkspaceAccess, view: str, anchor: date, filters: PostFilters, today: date | None = None
) -> Calendar:
    """The posts of the period around `anchor` on the workspace's clock, and its drafts without a time."""
    workspace = access.workspace
    zone = workspace.zoneinfo
    period = period_of(view, anchor)
    start, end = local_midnight(period.first, zone), local_midnight(period.last + timedelta(days=1), zone)
    today = today or timezone.localtime(timezone.now(), zone).date()
    base = filter_posts(Post.objects.filter(workspace=workspace), filters)

    due_in_period = Exists(Delivery.objects.filter(post=OuterRef("pk"), due_at__gte=start, due_at__lt=end))
    in_period = Q(scheduled_at__gte=start, scheduled_at__lt=end)
    dated = base.filter(in_period | (Q(scheduled_at__isnull=True) & due_in_period))
    # First only when each post goes out (`post_moment` in SQL), so a busy month loads the cards it shows and
    # counts the rest per day, instead of building hundreds of cards nobody sees.
    first_due = Delivery.objects.filter(post=OuterRef("pk"), due_at__isnull=False).order_by("due_at")
    moments = dated.annotate(moment=Coalesce("scheduled_at", Subquery(first_due.values("due_at")[:1])))
    ids_by_day: dict[date, list[tuple[datetime, int]]] = defaultdict(list)
    for pk, moment in moments.values_list("pk", "moment"):
        if moment is not None and start <= moment < end:
            ids_by_day[moment.astimezone(zone).date()].append((moment, pk))
    limit = MONTH_DAY_LIMIT if period.view == "month" else None
    shown = {pk for rows in ids_by_day.values() for _, pk in sorted(rows)[:limit]}
    by_day: dict[date, list[Entry]] = defaultdict(list)
    for post in _with_cards(Post.objects.filter(pk__in=shown)) if shown else []:
        entry = _entry(post, access, zone)
        if entry.local is not None:
            by_day[entry.local.date()].append(entry)
    days = []
    for day in period.days():
        entries = sorted(by_day.get(day, []), key=lambda e: (e.local, e.post.pk))
        days.append(
            Day(
                day=day,
                in_period=period.view == "week" or day.month == period.anchor.month,
                today=day == today,
                note=clock_change_note(day, zone),
                entries=entries,
                more=len(ids_by_day.get(day, [])) - len(entries),
                skipped=skipped_hours(day, zone) if period.view == "week" else set(),
            )
        )

    # Drafts without a time: nothing about them is due, and nothing of them went anywhere yet.
    undated = base.filter(scheduled_at__isnull=True).exclude(
        Exists(Delivery.objects.filter(post=OuterRef("pk")).exclude(state__in=[S.DRAFT, S.AWAITING_APPROVAL]))
    )
    listed = _with_cards(undated.order_by("-updated_at", "-pk"))[:UNSCHEDULED_SHOWN]
    unscheduled = [_entry(p, access, zone) for p in listed]
    more = undated.count() - len(unscheduled)  # asked every time: the same queries whatever the data
    return Calendar(period=period, zone=zone, days=days, unscheduled=unscheduled, unscheduled_more=more)


# --- moving a post ------------------------------------------------------------------------------------------------
class NotMovable(Exception):
    """The post cannot go to that day and time; the message says why and what to do."""


@dataclass
class Moved:
    post: Post
    moment: datetime  # UTC
    notice: str


def _day_text(moment: datetime) -> str:
    return f"{moment:%A} {moment.day} {moment:%B} at {moment:%H:%M}"


@transaction.atomic
def post_reschedule(
    *, post: Post, access: WorkspaceAccess, user: User, day: date, at: time, now: datetime | None = None
) -> Moved:
    """Give the post a new day and time on the workspace's clock (a drag on the calendar).

    Under a lock on the post and its deliveries: refused when anything of it went out or is going out, when it
    failed or was cancelled, for a time the clocks skip (its message names a time that exists) and for a time
    already past. A time the clocks show twice means the first. Moving a post that is scheduled, approved or
    awaiting the client needs the right to publish, a draft or a post awaiting the team the right to draft
    (`move_capability`; PermissionDenied otherwise). The post
    leaves its queue (its time is now the person's, not a slot's) and the change is kept in its history."""
    now = now or timezone.now()
    locked = Post.objects.select_for_update().select_related("workspace").filter(pk=post.pk).first()
    if locked is None or locked.workspace_id != access.workspace.pk:
        raise NotMovable("This post was deleted in the meantime.")
    post = locked
    deliveries = list(
        post.deliveries.select_for_update(of=("self",))
        .select_related("channel")
        .defer(*encrypted_field_names(Channel, prefix="channel__"))
    )
    refusal = move_refusal(post, deliveries)
    if refusal:
        raise NotMovable(refusal)
    if not access.can(move_capability(post, deliveries)):
        raise PermissionDenied(
            "Your role may move drafts and posts waiting for the team's approval, not posts that are approved or "
            "scheduled. Ask someone who may publish to move it."
        )
    zone = post.workspace.zoneinfo
    try:
        moment = local_time.to_aware(day, at, zone, fold=0)
    except local_time.NonexistentLocalTime as exc:
        raise NotMovable(str(exc)) from None
    if moment <= now:
        raise NotMovable(
            f"{_day_text(moment.astimezone(zone))} has already passed. Drop the post on a time that is still ahead."
        )
    local = moment.astimezone(zone)
    if post.scheduled_at == moment:
        return Moved(post, moment, f"Still on {_day_text(local)}.")
    if not post.versions.exists():
        # A post made outside the composer has no history yet: keep what it was before this move as its start.
        composer.record_version(post, post.author)
    post.scheduled_at = moment
    post.scheduled_local = local.strftime("%Y-%m-%dT%H:%M:%S")
    post.scheduled_timezone = post.workspace.timezone
    post.in_queue = False
    post.save(update_fields=["scheduled_at", "scheduled_local", "scheduled_timezone", "in_queue", "updated_at"])
    waiting = sum(1 for d in deliveries if d.state == S.SCHEDULED)
    if transitions.reschedule(post, due=moment) != waiting:
        raise NotMovable("This post started going out a moment ago, so its time can no longer change.")
    composer.record_version(post, user)
    notice = f"Moved to {_day_text(local)} ({post.workspace.timezone})."
    if not waiting:
        notice += " It is not scheduled yet: open it to send it on its way."
    elif post.workspace.paused_at is not None:
        notice += " Publishing is paused, so it waits until the workspace is resumed."
    return Moved(post, moment, notice)
