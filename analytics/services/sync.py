"""Reading a channel's insights from Meta into SocialHub's tables, so that pages never call Meta.

One sync of one channel reads, in this order:
1. Account figures per day, only the metrics `catalogue.groups()` gives for the configured Graph version, one
   request (batch operation) per metric group and span, so that a metric Meta refuses costs only its group.
   - Instagram (`GET /{ig-user-id}/insights`): `metric_type=total_value` metrics one day per request (since = UTC
     midnight, until = the next midnight); `follower_count` as a time series over the last 30 days at most; the
     follower total from the profile's `followers_count`, stored for today.
   - Page (`GET /{page-id}/insights`, `period=day`): spans of at most 90 days.
   A first sync backfills ANALYTICS_BACKFILL_DAYS_INSTAGRAM / _PAGE days; later ones read from the last day
   stored minus two (Meta's figures arrive up to 48 hours late) to yesterday.
   Days are read oldest first and kept as they come: after each batch (or request) the figures read are stored
   and `synced_through` moves to the day before the oldest day still missing (not asked yet, or refused for now
   by a failure on Meta's side or by its usage limits). Only days older than the late window count, as a figure
   read within 48 hours may still change. A backfill that Meta slowed down or that failed part-way therefore
   goes on the next time from `synced_through` + 1, never reading again the spans already in; `backfilled_at`
   is written once the whole history is in.
2. Posts published within ANALYTICS_POST_DAYS (`/{ig-user-id}/media`, and `/stories` for Facebook-Login accounts;
   `/{page-id}/published_posts`), then the lifetime metrics of those due, one operation per (post, group). A
   post's figures move less as it ages, so it is read less often (`post_due`):
   - younger than 2 days: every sync; younger than 7 days: once a day; younger than 28 days: once a week;
   - from 28 days on: one last read, then `final` (Meta's lifetime figures barely move after four weeks, and
     reading every post of the last 90 days every few hours would cost about two requests per post each time);
   - a story: every sync while it lives (24 hours), final after.
3. Instagram audience (follower and engaged-audience demographics by age, gender, city, country), at most daily.

A sync holds its channel while it runs (`next_run_at` = start + RUN_LEASE), so that neither the beat
(`channel_ids_due` leaves held channels out) nor a second task (the connect-time one next to the beat's) reads the
same channel meanwhile; a task queued by the beat carries the hold it was queued under and may take over that hold.
At the end `next_run_at` is cleared, or set to when Meta's usage allows the rest.

graph.facebook.com serves batch requests: up to 50 operations travel in one. graph.instagram.com does not: its
requests go one by one. Before each batch or request the channel's usage (Meta's usage headers) is checked; when
it is high, or Meta asks to slow down, the sync stops, keeps what it read and sets `next_run_at`.

"Not available" is NULL, never 0. For every day asked of a metric that Meta answered without a figure for it (too
few followers or viewers, or data not there yet) a NULL row is stored, so charts can say "not available" for it;
a NULL never replaces a number already stored (a later read that comes back empty keeps the earlier figure),
while a number always replaces a NULL (the late figure of a re-read day). A group Meta refused stores nothing:
its error is kept on InsightSync.last_error and the other groups are stored."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from accounts.models import Channel, ChannelStatus, ConnectedVia, Platform
from accounts.services.channels import channel_client, channel_record_error
from publishing.services.posts import deliveries_learn_permalinks
from socialhub.graph import GraphAuthError, GraphClient, GraphError, GraphRateLimitError
from socialhub.graph.client import BATCH_LIMIT, BatchRequest
from socialhub.graph.errors import DEFAULT_RATE_LIMIT_WAIT
from socialhub.graph.usage import wait_seconds

from .. import catalogue
from ..catalogue import Metric, Node
from ..models import Audience, DailyMetric, InsightSync, PostInsight, PostKind
from . import answers

logger = logging.getLogger(__name__)

DAY = dt.timedelta(days=1)
LATE_DAYS = 2  # Meta's figures arrive up to 48 h late: a sync reads again from two days before the last day stored
PAGE_SPAN_DAYS = 90  # Page insights: since and until at most 90 days apart
FOLLOWER_COUNT_DAYS = 30  # Instagram serves follower_count for the last 30 days only (today − 30 to yesterday)
STORY_LIFETIME = dt.timedelta(hours=24)  # Meta keeps a story's insights while the story lives
AUDIENCE_EVERY = dt.timedelta(hours=24)
RETRY_TRANSIENT = dt.timedelta(minutes=30)  # Meta failed on its side: the next beat after this tries again
QUEUE_LEASE = dt.timedelta(minutes=30)  # a queued channel is not queued again meanwhile
RUN_LEASE = dt.timedelta(minutes=35)  # a running sync holds its channel: longer than the task's time limit (1900 s)
# (younger than, read again after): see the module's docstring. An hour's slack, as syncs run every
# ANALYTICS_SYNC_HOURS give or take a few minutes and a read due "once a day" should not slip to the next round.
POST_CADENCE = (
    (dt.timedelta(days=2), dt.timedelta(0)),
    (dt.timedelta(days=7), dt.timedelta(days=1)),
    (dt.timedelta(days=28), dt.timedelta(days=7)),
)
POST_FINAL_AGE = dt.timedelta(days=28)
CADENCE_SLACK = dt.timedelta(hours=1)
POSTS_PAGE = 50
POSTS_MAX_PAGES = 20
ERROR_MAX = 2000

IG_MEDIA_FIELDS = "id,caption,media_type,media_product_type,permalink,thumbnail_url,media_url,timestamp"
PAGE_POST_FIELDS = "id,message,permalink_url,full_picture,created_time,shares,comments.limit(0).summary(true)"
KINDS = {"FEED": PostKind.FEED, "REELS": PostKind.REELS, "STORY": PostKind.STORY}
POST_COLUMNS = ("reach", "views", "likes", "comments", "shares", "saves", "interactions")
URL_MAX = {"permalink": 1000, "thumbnail_url": 2000}


@dataclass
class SyncResult:
    stored: int = 0  # daily figures stored (numbers)
    unavailable: int = 0  # days stored as "not available"
    posts: int = 0  # posts stored
    audience: int = 0  # audience breakdowns stored with figures
    errors: list[str] = field(default_factory=list)
    postponed: float = 0.0  # seconds until Meta's usage of the channel allows the rest
    skipped: str = ""  # why nothing was asked (channel not connected)


class _Slowdown(Exception):
    """Meta's usage of the channel is high, or Meta asked to slow down: the rest waits `wait` seconds."""

    def __init__(self, wait: float) -> None:
        super().__init__(wait)
        self.wait = max(float(wait), 1.0)


@dataclass(frozen=True)
class _Op:
    """One Graph read and what to do with its answer. `what` names what it asks for, in plain words, for the
    error kept when Meta refuses it; `day`, the first day an account read covers (None for other reads)."""

    path: str
    params: Mapping[str, Any]
    what: str
    take: Callable[[dict[str, Any]], None]
    fields: str | None = None
    day: dt.date | None = None


@dataclass
class _Post:
    external_id: str
    kind: str
    published_at: dt.datetime
    media_type: str = ""
    caption: str = ""
    permalink: str = ""
    thumbnail_url: str = ""
    fields_metrics: dict[str, int] = field(default_factory=dict)  # Page posts: comments and shares from fields


def _midnight(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp())


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


def _spans(start: dt.date, end: dt.date, length: int) -> list[tuple[dt.date, dt.date]]:
    """[start, end] cut into spans of at most `length` days, oldest first."""
    spans = []
    while start <= end:
        last = min(start + dt.timedelta(days=length - 1), end)
        spans.append((start, last))
        start = last + DAY
    return spans


def _names(metrics: Sequence[Metric]) -> list[str]:
    return [m.name for m in metrics]


def _breakdown(metrics: Sequence[Metric]) -> str:
    return next((m.breakdown for m in metrics if m.breakdown), "")


def _no_figures(error: GraphError) -> bool:
    """Meta's "(#10) Not enough viewers for the media to show insights" (a story seen by fewer than 5): no figure,
    not a fault."""
    return error.code == 10 and "not enough viewers" in (error.meta_message or "").lower()


class _ChannelSync:
    """One sync of one channel: what it read, what Meta refused, and the InsightSync fields it will write."""

    def __init__(self, channel: Channel, client: GraphClient, state: InsightSync, *, now: dt.datetime, backfill: bool):
        self.channel = channel
        self.client = client
        self.state = state
        self.now = now
        self.today = now.astimezone(dt.UTC).date()
        self.instagram = channel.platform == Platform.INSTAGRAM
        self.backfill = backfill or state.synced_through is None
        self.result = SyncResult()
        self.errors: dict[str, str] = {}
        self.transient = False
        self.values: dict[str, Any] = {}  # InsightSync fields to write at the end
        self.daily: dict[tuple[str, str, dt.date], int | None] = {}
        self.unanswered: list[_Op] = []  # ops Meta did not answer for now (its failure or its usage): asked again

    # --- sending ------------------------------------------------------------------------------------------------
    def usage_wait(self) -> float:
        return wait_seconds(app_id=self.client.app_id, business_id=self.channel.external_id)

    def hold_back(self) -> None:
        wait = self.usage_wait()
        if wait > 0:
            raise _Slowdown(wait)

    def refused(self, what: str, error: GraphError) -> None:
        logger.info("insights of channel %s: %s not read: %s", self.channel.pk, what, error.operator_details())
        self.errors.setdefault(what, f"Meta did not give {what}: {error.message}")
        if error.retryable:
            self.transient = True

    def _get(self, op: _Op) -> dict[str, Any] | GraphError:
        try:
            return self.client.get(op.path, params=op.params, fields=op.fields)
        except GraphError as exc:
            return exc

    def run(self, ops: Sequence[_Op], *, after: Callable[[int], None] | None = None) -> None:
        """Send `ops` (batches of 50 on graph.facebook.com, one by one on graph.instagram.com) and hand each answer
        to its op; a refused op is recorded and the others go on. `after(n)` runs once the answers of each batch
        or request are handed over, `n` = how many of `ops` were sent so far. Raises `_Slowdown` before a batch or
        request while the channel's usage is high, and after handing over a batch's answers when Meta asked to
        slow down; a refused token (`GraphAuthError`) at once."""
        size = BATCH_LIMIT if self.client.host == "facebook" else 1
        for start in range(0, len(ops), size):
            chunk = ops[start : start + size]
            self.hold_back()
            if len(chunk) > 1:
                batch = [BatchRequest(op.path, params=op.params, fields=op.fields) for op in chunk]
                replies = self.client.batch(batch)
            else:
                replies = [self._get(chunk[0])]
            slowdown: float | None = None
            for op, reply in zip(chunk, replies, strict=True):
                if isinstance(reply, GraphAuthError):
                    raise reply
                if isinstance(reply, GraphRateLimitError):
                    slowdown = max(slowdown or 0.0, reply.retry_after or DEFAULT_RATE_LIMIT_WAIT)
                    self.unanswered.append(op)
                elif isinstance(reply, GraphError):
                    if _no_figures(reply):
                        op.take({"data": []})
                    else:
                        self.refused(op.what, reply)
                        if reply.retryable:
                            self.unanswered.append(op)
                else:
                    op.take(reply)
            if after is not None:
                after(start + len(chunk))
            if slowdown is not None:
                raise _Slowdown(slowdown)

    # --- 1. account figures per day -----------------------------------------------------------------------------
    def take_readings(self, readings: answers.Readings) -> None:
        for metric, dimensions in readings.items():
            for dimension, days in dimensions.items():
                for day, value in days.items():
                    key = (metric, dimension, day)
                    if value is not None or key not in self.daily:
                        self.daily[key] = value

    def account_span(self) -> tuple[dt.date, dt.date]:
        keep = settings.ANALYTICS_BACKFILL_DAYS_INSTAGRAM if self.instagram else settings.ANALYTICS_BACKFILL_DAYS_PAGE
        oldest = self.today - dt.timedelta(days=keep)
        end = self.today - DAY
        through = self.state.synced_through
        if through is None or (self.backfill and self.state.backfilled_at is not None):
            return oldest, end  # a first backfill, or one asked for again
        if self.state.backfilled_at is None:
            return max(through + DAY, oldest), end  # a backfill stopped part-way goes on after its last settled day
        return max(through - dt.timedelta(days=LATE_DAYS), oldest), end

    def account_ops(self, start: dt.date, end: dt.date) -> list[_Op]:
        node = Node.IG_USER if self.instagram else Node.PAGE
        path = f"{self.channel.external_id}/insights"
        ops: list[_Op] = []
        for metrics in catalogue.groups(node).values():
            if metrics[0].period == "lifetime":
                continue  # the audience, read apart
            names = _names(metrics)
            what = f"the {'account' if self.instagram else 'Page'}'s {', '.join(names)}"
            base: dict[str, Any] = {"metric": ",".join(names), "period": "day"}
            if metrics[0].metric_type == "total_value":
                base["metric_type"] = "total_value"
                if breakdown := _breakdown(metrics):
                    base["breakdown"] = breakdown
                for day in _days(start, end):
                    params = {**base, "since": _midnight(day), "until": _midnight(day + DAY)}
                    ops.append(_Op(path, params, what, self._total_taker(names, day), day=day))
                continue
            first, length = start, PAGE_SPAN_DAYS
            if self.instagram:  # follower_count: the last 30 days only
                first = max(start, self.today - dt.timedelta(days=FOLLOWER_COUNT_DAYS))
                length = FOLLOWER_COUNT_DAYS
            if metrics[0].metric_type:
                base["metric_type"] = metrics[0].metric_type
            for span_start, span_end in _spans(first, end, length):
                params = {**base, "since": _midnight(span_start), "until": _midnight(span_end + DAY)}
                take = self._series_taker(names, _days(span_start, span_end))
                ops.append(_Op(path, params, what, take, day=span_start))
        ops.sort(key=lambda op: op.day or start)  # oldest first (stable: group by group within a day)
        return ops

    def _total_taker(self, names: list[str], day: dt.date) -> Callable[[dict[str, Any]], None]:
        return lambda answer: self.take_readings(answers.total_value_readings(answer, names, day))

    def _series_taker(self, names: list[str], days: list[dt.date]) -> Callable[[dict[str, Any]], None]:
        return lambda answer: self.take_readings(answers.time_series_readings(answer, names, days))

    def followers_op(self) -> _Op:
        def take(answer: dict[str, Any]) -> None:
            value = answers.number(answer.get("followers_count"))
            self.take_readings({catalogue.FOLLOWERS_TOTAL: {"": {self.today: value}}})

        return _Op(self.channel.external_id, {}, "the account's follower count", take, fields="followers_count")

    def account(self) -> None:
        start, end = self.account_span()
        ops = self.account_ops(start, end)
        if self.instagram:
            ops.insert(0, self.followers_op())
        try:
            self.run(ops, after=lambda sent: self.account_progress(ops[sent:], start, end))
        finally:
            self.store_daily()
        if self.transient:
            return  # Meta failed on its side for part of it: what is missing is read again soon
        self.values.update(synced_through=end, account_synced_at=self.now)
        if self.backfill or self.state.backfilled_at is None:
            self.values["backfilled_at"] = self.now

    def account_progress(self, unsent: Sequence[_Op], start: dt.date, end: dt.date) -> None:
        """Store the days read so far and move `synced_through` up to the day before the oldest day still
        missing (an op not sent yet, or not answered for now), but not into the last LATE_DAYS + 1 days, whose
        figures may still change: a later sync goes on from the day after. It never moves back."""
        self.store_daily()
        missing = [op.day for op in (*self.unanswered, *unsent) if op.day is not None]
        through = min(min(missing) - DAY if missing else end, end - dt.timedelta(days=LATE_DAYS + 1))
        if through < start or (self.state.synced_through is not None and through <= self.state.synced_through):
            return
        InsightSync.objects.filter(pk=self.state.pk).update(synced_through=through)
        self.state.synced_through = through

    def store_daily(self) -> None:
        channel, now = self.channel, self.now
        rows = [
            DailyMetric(
                workspace_id=channel.workspace_id,
                channel=channel,
                metric=metric,
                dimension=dimension,
                date=day,
                value=value,
                fetched_at=now,
            )
            for (metric, dimension, day), value in self.daily.items()
        ]
        self.daily = {}
        numbers = [r for r in rows if r.value is not None]
        empty = [r for r in rows if r.value is None]
        DailyMetric.objects.bulk_create(
            numbers,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["channel", "metric", "dimension", "date"],
            update_fields=["value", "fetched_at"],
        )
        # "Not available" only where nothing is stored: a figure read earlier stays.
        DailyMetric.objects.bulk_create(empty, batch_size=1000, ignore_conflicts=True)
        self.result.stored += len(numbers)
        self.result.unavailable += len(empty)

    # --- 2. posts ------------------------------------------------------------------------------------------------
    def list_posts(self) -> list[_Post] | None:
        """The channel's posts published within ANALYTICS_POST_DAYS, newest first; None when Meta refused the list."""
        me = self.channel.external_id
        if self.instagram:
            sources = [(f"{me}/media", IG_MEDIA_FIELDS, _ig_post)]
            if self.channel.connected_via == ConnectedVia.FACEBOOK_LOGIN:
                sources.append((f"{me}/stories", IG_MEDIA_FIELDS, _ig_post))
        else:
            sources = [(f"{me}/published_posts", PAGE_POST_FIELDS, _page_post)]
        cutoff = self.now - dt.timedelta(days=settings.ANALYTICS_POST_DAYS)
        listed: list[_Post] = []
        complete = True
        for path, fields, convert in sources:
            self.hold_back()
            what = "the list of stories" if path.endswith("/stories") else "the list of posts"
            try:
                params = {"limit": POSTS_PAGE}
                for item in self.client.paginate(path, params=params, fields=fields, max_pages=POSTS_MAX_PAGES):
                    post = convert(item)
                    if post is None:
                        continue
                    if post.published_at < cutoff:
                        break  # newest first: the rest is older still
                    listed.append(post)
            except GraphRateLimitError as exc:
                raise _Slowdown(exc.retry_after or DEFAULT_RATE_LIMIT_WAIT) from None
            except GraphAuthError:
                raise
            except GraphError as exc:
                self.refused(what, exc)
                complete = False
        return listed if complete or listed else None

    def post_ops(self, posts: Iterable[_Post], read: dict[str, dict[str, Any]]) -> list[_Op]:
        ops: list[_Op] = []
        for post in posts:
            for metrics in _post_groups(post.kind).values():
                names = _names(metrics)
                what = f"the {PostKind(post.kind).label} figures {', '.join(names)}"
                take = _post_taker(read, post.external_id, names)
                ops.append(_Op(f"{post.external_id}/insights", {"metric": ",".join(names)}, what, take))
        return ops

    def posts(self) -> None:
        listed = self.list_posts()
        if listed is None:
            return
        # Publishing asks Meta for no link once a post is out: it learns it from this list, read anyway.
        deliveries_learn_permalinks(channel_id=self.channel.pk, links={p.external_id: p.permalink for p in listed})
        unique = {p.external_id: p for p in listed}
        stored = {p.external_id: p for p in PostInsight.objects.filter(channel=self.channel, external_id__in=unique)}
        story_end = self.now - STORY_LIFETIME
        to_read = []
        for post in unique.values():
            old = stored.get(post.external_id)
            last_read, final = (old.fetched_at, old.final) if old is not None else (None, False)
            if post_due(kind=post.kind, published_at=post.published_at, last_read=last_read, final=final, now=self.now):
                to_read.append(post)
        read: dict[str, dict[str, Any]] = {}
        try:
            self.run(self.post_ops(to_read, read))
        finally:
            self.store_posts(list(unique.values()), stored, read)
        # A story's figures stop changing once it is gone: its last read is final.
        PostInsight.objects.filter(
            channel=self.channel, kind=PostKind.STORY, final=False, published_at__lte=story_end
        ).update(final=True)
        self.values["posts_synced_at"] = self.now

    def store_posts(self, posts: list[_Post], stored: dict[str, PostInsight], read: dict[str, dict[str, Any]]) -> None:
        rows: list[PostInsight] = []
        story_end = self.now - STORY_LIFETIME
        settled = self.now - POST_FINAL_AGE
        for post in posts:
            old = stored.get(post.external_id)
            metrics: dict[str, Any] = dict(old.metrics) if old is not None and isinstance(old.metrics, dict) else {}
            new = {**read.get(post.external_id, {}), **(post.fields_metrics if post.external_id in read else {})}
            for name, value in new.items():
                if value is not None or name not in metrics:  # a figure read earlier is not lost to an empty one
                    metrics[name] = value
            row = PostInsight(
                workspace_id=self.channel.workspace_id,
                channel=self.channel,
                external_id=post.external_id,
                kind=post.kind,
                media_type=post.media_type[:32],
                published_at=post.published_at,
                caption=post.caption,
                permalink=post.permalink,
                thumbnail_url=post.thumbnail_url,
                metrics=metrics,
                fetched_at=self.now if post.external_id in read else (old.fetched_at if old else None),
                final=bool(old and old.final)
                or (post.kind == PostKind.STORY and post.published_at <= story_end)
                # its last read (one that Meta may have cut short on its side is made again)
                or (post.published_at <= settled and post.external_id in read and not self.transient),
            )
            for column, value in _columns(post.kind, metrics).items():
                setattr(row, column, value)
            rows.append(row)
        PostInsight.objects.bulk_create(
            rows,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["channel", "external_id"],
            update_fields=[
                "kind", "media_type", "published_at", "caption", "permalink", "thumbnail_url", *POST_COLUMNS,
                "metrics", "fetched_at", "final",
            ],
        )  # fmt: skip
        self.result.posts += len(rows)

    # --- 3. audience ---------------------------------------------------------------------------------------------
    def audience_due(self) -> bool:
        last = self.state.audience_synced_at
        return self.instagram and (self.backfill or last is None or self.now - last >= AUDIENCE_EVERY)

    def audience(self) -> None:
        if not self.audience_due():
            return
        found: dict[tuple[str, str], dict[str, int]] = {}
        ops: list[_Op] = []
        for metrics in catalogue.groups(Node.IG_USER).values():
            if metrics[0].period != "lifetime":
                continue
            names = _names(metrics)
            for breakdown in catalogue.AUDIENCE_BREAKDOWNS:
                params = {
                    "metric": ",".join(names),
                    "period": "lifetime",
                    "metric_type": "total_value",
                    "timeframe": catalogue.AUDIENCE_TIMEFRAME,
                    "breakdown": breakdown,
                }
                what = f"the audience ({', '.join(names)}) by {breakdown}"
                take = _audience_taker(found, names, breakdown)
                ops.append(_Op(f"{self.channel.external_id}/insights", params, what, take))
        try:
            self.run(ops)
        finally:
            self.store_audience(found)
        self.values["audience_synced_at"] = self.now

    def store_audience(self, found: dict[tuple[str, str], dict[str, int]]) -> None:
        def row(metric: str, breakdown: str, values: dict[str, int]) -> Audience:
            return Audience(
                workspace_id=self.channel.workspace_id,
                channel=self.channel,
                metric=metric,
                breakdown=breakdown,
                timeframe=catalogue.AUDIENCE_TIMEFRAME,
                values=values,
                available=bool(values),
                fetched_at=self.now,
            )

        given = [row(m, b, v) for (m, b), v in found.items() if v]
        Audience.objects.bulk_create(
            given,
            update_conflicts=True,
            unique_fields=["channel", "metric", "breakdown"],
            update_fields=["timeframe", "values", "available", "fetched_at"],
        )
        # Meta gave none (under 100 followers or engagements): "not available", unless figures are stored already.
        Audience.objects.bulk_create([row(m, b, v) for (m, b), v in found.items() if not v], ignore_conflicts=True)
        self.result.audience += len(given)

    # --- the whole sync ------------------------------------------------------------------------------------------
    def sync(self) -> SyncResult:
        try:
            self.hold_back()
            self.account()
            self.posts()
            self.audience()
        except _Slowdown as slow:
            self.result.postponed = slow.wait
        except GraphAuthError as exc:
            channel_record_error(channel=self.channel, error=exc)
            self.errors["token"] = exc.message
        self.result.errors = list(self.errors.values())
        if self.result.postponed:
            self.values["next_run_at"] = self.now + dt.timedelta(seconds=self.result.postponed)
        elif self.transient:
            self.values["next_run_at"] = self.now + RETRY_TRANSIENT
        else:
            self.values["next_run_at"] = None
        if self.errors:
            self.values.update(last_error="\n".join(self.errors.values())[:ERROR_MAX], last_error_at=self.now)
        elif not self.result.postponed:
            self.values.update(last_error="", last_error_at=None)
        InsightSync.objects.filter(pk=self.state.pk).update(**self.values)
        return self.result


def post_due(
    *, kind: str, published_at: dt.datetime, last_read: dt.datetime | None, final: bool, now: dt.datetime
) -> bool:
    """Whether a sync at `now` reads a post's figures (POST_CADENCE, see the module's docstring): a story while it
    lives; any other post never read yet, at its age's cadence, and once more from POST_FINAL_AGE on (then final)."""
    if final:
        return False
    age = now - published_at
    if kind == PostKind.STORY:
        return age < STORY_LIFETIME
    if last_read is None or age >= POST_FINAL_AGE:
        return True
    every = next(every for younger, every in POST_CADENCE if age < younger)
    return now - last_read >= every - CADENCE_SLACK


def _post_groups(kind: str) -> dict[str, list[Metric]]:
    if kind == PostKind.PAGE_POST:
        return catalogue.groups(Node.PAGE_POST)
    return catalogue.groups(Node.IG_MEDIA, product_type=kind)


def _post_taker(
    read: dict[str, dict[str, Any]], external_id: str, names: list[str]
) -> Callable[[dict[str, Any]], None]:
    return lambda answer: read.setdefault(external_id, {}).update(answers.lifetime_values(answer, names))


def _audience_taker(
    found: dict[tuple[str, str], dict[str, int]], names: list[str], breakdown: str
) -> Callable[[dict[str, Any]], None]:
    def take(answer: dict[str, Any]) -> None:
        for name in names:
            found[(name, breakdown)] = answers.demographics(answer, name, breakdown)

    return take


def _columns(kind: str, metrics: Mapping[str, Any]) -> dict[str, int | None]:
    """PostInsight's columns from the metrics read: each catalogue metric fills its `column`. A Page post's comments
    and shares come from its fields, and its interactions are reactions + comments + shares."""
    node = Node.PAGE_POST if kind == PostKind.PAGE_POST else Node.IG_MEDIA
    product_type = "" if kind == PostKind.PAGE_POST else kind
    columns: dict[str, int | None] = dict.fromkeys(POST_COLUMNS)
    for metric in catalogue.requested(node, product_type=product_type):
        if metric.column and metric.name in metrics:
            columns[metric.column] = answers.as_count(metrics[metric.name])
    if kind == PostKind.PAGE_POST:
        for name in ("comments", "shares"):
            if name in metrics:
                columns[name] = answers.number(metrics[name])
        parts = [columns["likes"], columns["comments"], columns["shares"]]
        columns["interactions"] = sum(p for p in parts if p is not None) if columns["likes"] is not None else None
    return columns


def _url(value: Any, column: str) -> str:
    """A URL Meta gave, or "" when it does not fit its column (a cut URL would not work)."""
    text = str(value or "")
    return text if len(text) <= URL_MAX[column] else ""


def _ig_post(item: Mapping[str, Any]) -> _Post | None:
    kind = KINDS.get(str(item.get("media_product_type") or "FEED"))
    published = answers.moment(item.get("timestamp"))
    if not item.get("id") or kind is None or published is None:
        return None  # ads, or a media Meta did not describe
    media_type = str(item.get("media_type") or "")
    picture = item.get("thumbnail_url") or (item.get("media_url") if media_type != "VIDEO" else "")
    return _Post(
        external_id=str(item["id"]),
        kind=kind,
        published_at=published,
        media_type=media_type,
        caption=str(item.get("caption") or ""),
        permalink=_url(item.get("permalink"), "permalink"),
        thumbnail_url=_url(picture, "thumbnail_url"),
    )


def _page_post(item: Mapping[str, Any]) -> _Post | None:
    published = answers.moment(item.get("created_time"))
    if not item.get("id") or published is None:
        return None
    counts: dict[str, int] = {}
    comments = item.get("comments")
    total = (comments.get("summary") or {}).get("total_count") if isinstance(comments, Mapping) else None
    if (value := answers.number(total)) is not None:
        counts["comments"] = value
    # Meta leaves `shares` out of a post nobody shared.
    shares = item.get("shares")
    counts["shares"] = (answers.number(shares.get("count")) if isinstance(shares, Mapping) else None) or 0
    return _Post(
        external_id=str(item["id"]),
        kind=PostKind.PAGE_POST,
        published_at=published,
        caption=str(item.get("message") or ""),
        permalink=_url(item.get("permalink_url"), "permalink"),
        thumbnail_url=_url(item.get("full_picture"), "thumbnail_url"),
        fields_metrics=counts,
    )


def sync_channel(
    channel: Channel,
    *,
    backfill: bool | None = None,
    now: dt.datetime | None = None,
    queued_until: dt.datetime | None = None,
) -> SyncResult:
    """Read the channel's insights from Meta and store them (see the module's docstring). `backfill`: read as far
    back as Meta allows; None = until the channel's history is in. `now`: the moment the sync counts from (tests
    pass the sandbox's clock). `queued_until`: the hold the beat queued this sync under (`channels_hold`).

    Skipped while the channel is held: another sync is reading it, or Meta asked to wait. Safe to run twice:
    every write is an upsert of the same rows."""
    if channel.status != ChannelStatus.ACTIVE:
        return SyncResult(skipped=f"{channel.display_name} is not connected.")
    now = now or timezone.now()
    state, _ = InsightSync.objects.get_or_create(channel=channel, defaults={"workspace_id": channel.workspace_id})
    try:
        client = channel_client(channel)
    except ValidationError as exc:
        return SyncResult(skipped=" ".join(exc.messages))
    if not _claim(state, now=now, queued_until=queued_until):
        return SyncResult(skipped=f"{channel.display_name}: another sync is reading it, or Meta asked to wait.")
    if backfill is None:
        backfill = state.backfilled_at is None
    return _ChannelSync(channel, client, state, now=now, backfill=backfill).sync()


def _claim(state: InsightSync, *, now: dt.datetime, queued_until: dt.datetime | None) -> bool:
    """Hold the channel for this sync (`next_run_at` = now + RUN_LEASE) unless it is held already; the hold a
    sync was queued under is its own. One conditional UPDATE: of two syncs starting together, one wins."""
    free = Q(next_run_at__isnull=True) | Q(next_run_at__lte=now)
    if queued_until is not None:
        free |= Q(next_run_at=queued_until)
    held = now + RUN_LEASE
    if InsightSync.objects.filter(free, pk=state.pk).update(next_run_at=held) != 1:
        return False
    state.next_run_at = held
    return True


def channel_ids_due(*, now: dt.datetime | None = None) -> list[int]:
    """Active channels whose insights are due: never synced, or last synced longer than ANALYTICS_SYNC_HOURS ago,
    and not held (`next_run_at` still to come: a sync running or queued, or Meta asked to wait)."""
    now = now or timezone.now()
    stale = now - dt.timedelta(hours=settings.ANALYTICS_SYNC_HOURS)
    never = Q(insight_sync__isnull=True)
    old = Q(insight_sync__account_synced_at__isnull=True) | Q(insight_sync__account_synced_at__lt=stale)
    free = Q(insight_sync__next_run_at__isnull=True) | Q(insight_sync__next_run_at__lte=now)
    due = Channel.objects.filter(status=ChannelStatus.ACTIVE).filter(never | (old & free))
    return list(due.order_by("pk").values_list("pk", flat=True))


def channels_hold(channel_ids: Sequence[int], *, now: dt.datetime | None = None) -> dt.datetime:
    """Note that the channels' syncs are queued, so that the next round does not queue them again meanwhile.
    Returns the hold, for each queued sync to carry (`sync_channel(queued_until=…)`)."""
    now = now or timezone.now()
    until = now + QUEUE_LEASE
    workspaces = dict(Channel.objects.filter(pk__in=channel_ids).values_list("pk", "workspace_id"))
    InsightSync.objects.bulk_create(
        [InsightSync(channel_id=pk, workspace_id=workspaces[pk], next_run_at=until) for pk in workspaces],
        update_conflicts=True,
        unique_fields=["channel"],
        update_fields=["next_run_at"],
    )
    return until
