"""Reading the inbox: which threads a filter shows (newest activity first, a page at a time by a
cursor, never by counting), each thread with what its row or its panel shows, what is new since the page was
loaded, and who else has a thread open.

Pages go by a keyset cursor on (last_activity_at, id), which the `inbox_thread_recent` index serves: a page costs
the same at the millionth comment as at the first, and no query counts the rows."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Window
from django.db.models.functions import Coalesce, RowNumber
from django.http import QueryDict

from accounts.models import Channel, Workspace

from .models import ChannelSync, Comment, CommentStatus, Presence
from .services.presence import presence_for, presence_map

if TYPE_CHECKING:
    from accounts.models import User

PAGE_SIZE = 25
LIST_REPLIES = 3  # the newest replies a row shows under its comment; the panel shows them all
NEW_ITEMS_BATCH = 200  # comments read per poll; a larger burst (a backfill) arrives over the next polls
SEARCH_COMMON = 1000  # words in at least this many comments are searched thread by thread (see `_search`)

STATUSES = [
    ("new", "New"),
    ("done", "Done"),
    ("hidden", "Hidden"),
    ("deleted", "Removed"),  # each row says where: "Removed on Facebook" or "Removed on Instagram"
]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --- Filters ---------------------------------------------------------------------------------------------------
def _uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        return ""


def is_row_id(value: str) -> bool:
    return value.isdigit() and len(value) < 19  # within a bigint, or the database refuses the query


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return None


@dataclass(frozen=True)
class InboxFilters:
    """What the filter bar asks for. Values that make no sense (a mistyped id, a date that is not one) are
    dropped, as if the filter were not set."""

    channel: str = ""  # Channel.public_id
    post: str = ""  # InboxPost id, or the public id of our own Post
    status: str = ""  # "" (everything but removed threads), or one of STATUSES
    assignee: str = ""  # "me", "nobody" or a user id
    unanswered: bool = False
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""

    @classmethod
    def parse(cls, params: QueryDict | dict) -> InboxFilters:
        post = (params.get("post") or "").strip()
        if not is_row_id(post):
            post = _uuid(post)
        assignee = (params.get("assignee") or "").strip()
        if assignee not in ("me", "nobody") and not is_row_id(assignee):
            assignee = ""
        status = params.get("status") or ""
        return cls(
            channel=_uuid(params.get("channel") or ""),
            post=post,
            status=status if status in dict(STATUSES) else "",
            assignee=assignee,
            unanswered=(params.get("unanswered") or "") in ("1", "on", "true", "yes"),
            date_from=_day(params.get("from")),
            date_to=_day(params.get("to")),
            q=" ".join((params.get("q") or "").split())[:200],
        )

    def params(self) -> dict[str, str]:
        """The query string that asks for these filters again (only the ones set)."""
        values = {
            "channel": self.channel,
            "post": self.post,
            "status": self.status,
            "assignee": self.assignee,
            "unanswered": "1" if self.unanswered else "",
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "q": self.q,
        }
        return {k: v for k, v in values.items() if v}

    @property
    def active(self) -> bool:
        return bool(self.params())


def _threads_with(comments: QuerySet[Comment]) -> QuerySet:
    """The ids of the threads the given comments belong to (a top-level comment is its own thread)."""
    return comments.annotate(thread_id=Coalesce("parent_id", "id")).values("thread_id")


def threads_for(workspace: Workspace, filters: InboxFilters, *, user: User | None = None) -> QuerySet[Comment]:
    """The workspace's threads (top-level comments) the filters select, newest activity first."""
    threads = Comment.objects.filter(workspace=workspace, parent__isnull=True)
    comments = Comment.objects.filter(workspace=workspace)
    if filters.channel:
        threads = threads.filter(channel__public_id=filters.channel)
    if filters.post:
        if is_row_id(filters.post):
            threads = threads.filter(inbox_post_id=int(filters.post))
        else:
            threads = threads.filter(inbox_post__post__public_id=filters.post)
    # A thread is removed when its comment is (Meta removes the replies with it); a removed reply leaves the
    # thread. "Hidden" and "Removed" also find threads where only a reply was hidden or removed, which is where
    # a moderator looks for what was taken down. (A top-level comment is its own thread in `_threads_with`.)
    if filters.status == "deleted":
        threads = threads.filter(pk__in=_threads_with(comments.filter(deleted_at__isnull=False)))
    else:
        threads = threads.filter(deleted_at__isnull=True)
        if filters.status in (CommentStatus.NEW, CommentStatus.DONE):
            threads = threads.filter(status=filters.status)
        elif filters.status == "hidden":
            threads = threads.filter(pk__in=_threads_with(comments.filter(hidden=True)))
    if filters.assignee == "me":
        threads = threads.filter(assignee=user) if user is not None else threads.none()
    elif filters.assignee == "nobody":
        threads = threads.filter(assignee__isnull=True)
    elif filters.assignee:
        threads = threads.filter(assignee_id=int(filters.assignee))
    if filters.unanswered:
        # Waiting for us: the newest comment is someone else's. A comment of ours nobody answered is not waiting.
        fan_reply = Comment.objects.filter(parent_id=OuterRef("pk"), from_us=False)
        threads = threads.filter(needs_reply=True).filter(Q(from_us=False) | Exists(fan_reply))
    zone = workspace.zoneinfo
    # By the thread's newest comment, the time each row shows (and the order of the list, so the index serves it).
    if filters.date_from:
        threads = threads.filter(last_activity_at__gte=datetime.combine(filters.date_from, time.min, tzinfo=zone))
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=zone)
        threads = threads.filter(last_activity_at__lt=end)
    if filters.q:
        threads = threads.filter(_search(comments, filters.q))
    return threads.order_by("-last_activity_at", "-id")


def _search(comments: QuerySet[Comment], q: str) -> Q:
    """Threads with `q` in any of their comments. Two ways, chosen by a quick look at how common the words are:
    rare words are found through the text index (PostgreSQL's trigram index on UPPER(text)) and their threads
    picked out; common words are checked thread by thread from the newest, which finds a page of them long before
    the index would have listed every comment that has them."""
    matching = comments.filter(text__icontains=q)
    if len(matching.values_list("pk", flat=True)[:SEARCH_COMMON]) < SEARCH_COMMON:
        return Q(pk__in=_threads_with(matching))
    # `pk <> thread` is always true for a reply; it keeps PostgreSQL from turning the check into a hash of every
    # matching comment (what it does for a plain `parent = thread` EXISTS), which is the slow way for common words.
    in_reply = Comment.objects.filter(parent_id=OuterRef("pk"), text__icontains=q).exclude(pk=OuterRef("pk"))
    return Q(text__icontains=q) | Q(Exists(in_reply))


# --- Cursor ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: after the thread with this last activity and id."""

    at: datetime
    pk: int

    def __str__(self) -> str:
        return f"{(self.at - EPOCH) // timedelta(microseconds=1)}_{self.pk}"

    @classmethod
    def parse(cls, value: str | None) -> Cursor | None:
        try:
            micros, pk = (value or "").split("_")
            if not is_row_id(pk):
                return None
            return cls(EPOCH + timedelta(microseconds=int(micros)), int(pk))
        except (ValueError, OverflowError):
            return None

    @classmethod
    def after(cls, thread: Comment) -> Cursor:
        return cls(thread.last_activity_at, thread.pk)

    def apply(self, threads: QuerySet[Comment]) -> QuerySet[Comment]:
        return threads.filter(Q(last_activity_at__lt=self.at) | Q(last_activity_at=self.at, pk__lt=self.pk))


# --- Pages -----------------------------------------------------------------------------------------------------
@dataclass
class ThreadPage:
    threads: list[Comment]
    next_cursor: str = ""
    since: int = 0  # the newest comment id at the time: what `new_items` compares against
    channels: dict[int, Channel] = field(default_factory=dict)


def workspace_channels(workspace: Workspace) -> dict[int, Channel]:
    """The workspace's channels by id, without their tokens (a page never needs them)."""
    return {c.pk: c for c in Channel.objects.filter(workspace=workspace).defer("access_token").order_by("name")}


def _with_thread_fields(threads: QuerySet[Comment]) -> QuerySet[Comment]:
    return threads.select_related("inbox_post", "assignee").annotate(
        our_post_id=F("inbox_post__post__public_id"),
    )


def thread_page(
    *,
    workspace: Workspace,
    filters: InboxFilters,
    user: User,
    cursor: Cursor | None = None,
    size: int | None = None,
    channels: dict[int, Channel] | None = None,
) -> ThreadPage:
    """One page of threads with their channel, post, assignee, newest replies and who else has them open, in the
    same handful of queries whatever the page size."""
    size = size or PAGE_SIZE
    # Read before the page, so that a comment stored while the page is read comes with the next poll.
    since = latest_comment_id(workspace) if cursor is None else 0
    threads = threads_for(workspace, filters, user=user)
    if cursor is not None:
        threads = cursor.apply(threads)
    rows = list(_with_thread_fields(threads)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    channels = channels if channels is not None else workspace_channels(workspace)
    threads_load(rows, workspace=workspace, user=user, channels=channels)
    return ThreadPage(
        threads=rows,
        next_cursor=str(Cursor.after(rows[-1])) if more else "",
        since=since,
        channels=channels,
    )


def threads_load(
    threads: list[Comment],
    *,
    workspace: Workspace,
    user: User,
    channels: dict[int, Channel],
    replies: int | None = LIST_REPLIES,
) -> list[Comment]:
    """Attach to each thread: `channel`, `shown_replies` (oldest first: the newest `replies` of them, or all),
    `reply_count`, `more_replies`, `latest_id` and `others_here` (the Presence rows of other people, fresh ones
    only)."""
    if not threads:
        return threads
    ids = [t.pk for t in threads]
    by_thread: dict[int, list[Comment]] = defaultdict(list)
    counts: dict[int, int] = {}
    reply_rows = Comment.objects.filter(workspace=workspace, parent_id__in=ids)
    if replies is None:
        reply_rows = _with_card_actions(reply_rows.order_by("created_at", "id"))
        for reply in reply_rows:
            by_thread[reply.parent_id].append(reply)
        counts = {pk: len(by_thread[pk]) for pk in ids}
    else:
        ranked = reply_rows.annotate(
            rank=Window(RowNumber(), partition_by=[F("parent_id")], order_by=[F("created_at").desc(), F("id").desc()]),
            total=Window(Count("id"), partition_by=[F("parent_id")]),
        ).filter(rank__lte=replies)
        for reply in ranked:
            by_thread[reply.parent_id].append(reply)
            counts[reply.parent_id] = reply.total
        for shown in by_thread.values():
            shown.sort(key=lambda c: (c.created_at, c.pk))
    present = presence_for(workspace=workspace, thread_ids=ids, user=user)
    for thread in threads:
        thread.channel = channels[thread.channel_id]
        shown = by_thread.get(thread.pk, [])
        for reply in shown:
            reply.channel = thread.channel
            reply.inbox_post = thread.inbox_post
            reply.parent = thread
        thread.shown_replies = shown  # type: ignore[attr-defined]
        thread.reply_count = counts.get(thread.pk, 0)  # type: ignore[attr-defined]
        thread.more_replies = thread.reply_count - len(shown)  # type: ignore[attr-defined]
        # The newest comment the row or panel shows, by arrival: the page compares them to spot news.
        thread.latest_id = max([thread.pk, *(r.pk for r in shown)])  # type: ignore[attr-defined]
        thread.others_here = present.get(thread.pk, [])  # type: ignore[attr-defined]
    return threads


def _with_card_actions(comments: QuerySet[Comment]) -> QuerySet[Comment]:
    """The comments with what their card shows of their actions, loaded as the card's own views load it, so the
    panel's cards cost no query each."""
    from .action_views import _with_actions  # on use: the action views may import this module

    return _with_actions(comments)


def thread_for_panel(*, workspace: Workspace, thread: Comment, user: User) -> Comment:
    """One thread with all its replies (and each comment's actions), for the panel."""
    loaded = _with_card_actions(_with_thread_fields(Comment.objects.filter(pk=thread.pk, workspace=workspace))).get()
    channels = {loaded.channel_id: Channel.objects.defer("access_token").get(pk=loaded.channel_id)}
    threads_load([loaded], workspace=workspace, user=user, channels=channels, replies=None)
    return loaded


def latest_comment_id(workspace: Workspace) -> int:
    """The id of the newest comment stored for the workspace (ids grow as comments arrive, whatever Meta says
    their time is): comments stored later have larger ids. One step down the `inbox_comment_arrival` index."""
    newest = Comment.objects.filter(workspace=workspace).order_by("-id").values_list("id", flat=True)[:1]
    return next(iter(newest), 0)


@dataclass
class NewItems:
    threads: list[Comment]  # threads with new comments that the filters still show, newest activity first
    gone: list[uuid.UUID]  # threads with new comments that the filters no longer show (their rows leave)
    since: int  # what to ask with next time
    present: dict[uuid.UUID, list[Presence]]  # every thread someone else has open now
    more: bool = False  # more threads had news than one answer brings (a backfill): the list should be reloaded


def new_items(
    *,
    workspace: Workspace,
    filters: InboxFilters,
    user: User,
    since: int,
    channels: dict[int, Channel] | None = None,
) -> NewItems:
    """The threads that received a comment after comment id `since` (stored by a webhook or a poll)."""
    arrived = list(
        Comment.objects.filter(workspace=workspace, id__gt=since)
        .order_by("id")
        .values_list("id", "parent_id")[:NEW_ITEMS_BATCH]
    )
    next_since = arrived[-1][0] if arrived else since
    thread_ids = {parent_id or pk for pk, parent_id in arrived}
    threads: list[Comment] = []
    gone: list[uuid.UUID] = []
    more = False
    if thread_ids:
        channels = channels if channels is not None else workspace_channels(workspace)
        matching = threads_for(workspace, filters, user=user).filter(pk__in=thread_ids)
        threads = list(_with_thread_fields(matching)[: PAGE_SIZE + 1])
        more = len(threads) > PAGE_SIZE
        threads = threads[:PAGE_SIZE]
        threads_load(threads, workspace=workspace, user=user, channels=channels)
        shown = {t.pk for t in threads}
        gone = list(
            Comment.objects.filter(workspace=workspace, pk__in=thread_ids - shown).values_list("public_id", flat=True)
        )
    return NewItems(
        threads=threads,
        gone=[] if more else gone,  # with rows left out, "gone" cannot be told from "not brought"
        since=next_since,
        present=presence_map(workspace=workspace, user=user),
        more=more,
    )


def thread_rows(
    *, workspace: Workspace, filters: InboxFilters, user: User, public_ids: Iterable[str]
) -> tuple[list[Comment], list[uuid.UUID]]:
    """The rows of the named threads as the filters show them now, and those the filters no longer show."""
    wanted = [pid for pid in map(_uuid, public_ids) if pid][:PAGE_SIZE]
    if not wanted:
        return [], []
    threads = list(
        _with_thread_fields(threads_for(workspace, filters, user=user).filter(public_id__in=wanted))[:PAGE_SIZE]
    )
    threads_load(threads, workspace=workspace, user=user, channels=workspace_channels(workspace))
    shown = {str(t.public_id) for t in threads}
    return threads, [uuid.UUID(pid) for pid in wanted if pid not in shown]


# --- Around the list -------------------------------------------------------------------------------------------
def channels_without_live_updates(workspace: Workspace) -> list[ChannelSync]:
    """Channels whose webhook subscription Meta refused: their comments come by polling, every few minutes."""
    return list(
        ChannelSync.objects.filter(channel__workspace=workspace)
        .exclude(subscribe_error="")
        .select_related("channel")
        .defer("channel__access_token")
        .order_by("channel__name")
    )


def workspace_has_comments(workspace: Workspace) -> bool:
    return Comment.objects.filter(workspace=workspace).exists()
