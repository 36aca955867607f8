"""The agency view's reads: one row per channel of every workspace of an agency, with its followers and their
growth, reach, engagement and posting volume over a period, and what puts its figures at risk. Days are UTC days,
as the figures are stored, for every workspace alike (the posts too), so a row matches the workspace's pages for the
same start and end.

Built in three SQL queries whatever the number of workspaces, channels, days and posts: the channels with their
sync row and follower figures (subqueries), the period's daily sums per channel (`values("channel").annotate`),
and the count of posts per channel. Sorting happens on the rows built from those, so every column sorts the same
way, missing figures last."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Case, CharField, Count, OuterRef, Q, Subquery, Sum, Value, When

from accounts.crypto import encrypted_field_names
from accounts.models import Channel, ChannelStatus, Platform, Workspace

from . import catalogue
from .models import DailyMetric, PostInsight
from .selectors import Period, csv_cell

NEEDS_RECONNECT = "Needs reconnect"
SYNC_BEHIND = "Sync behind"
NO_DATA = "No data"


@dataclass
class ChannelRow:
    channel: Channel
    followers: int | None  # the latest figure in the period
    followers_before: int | None  # what growth counts from (see `growth_since`); None: no growth figure
    reach: int | None
    engagement: int | None
    posts: int
    needs_reconnect: bool
    sync_behind: bool
    no_data: bool
    growth_since: date | None = None  # the day of `followers_before`
    growth_partial: bool = False  # no figure before the period: growth counts from a day within it

    @property
    def workspace(self) -> Workspace:
        return self.channel.workspace

    @property
    def growth(self) -> int | None:
        if self.followers is None or self.followers_before is None:
            return None
        return self.followers - self.followers_before

    @property
    def growth_pct(self) -> float | None:
        if self.growth is None or not self.followers_before:
            return None
        return round(self.growth * 100 / self.followers_before, 1)

    @property
    def engagement_rate(self) -> float | None:
        """Engagement as a share of the accounts reached, in percent."""
        if self.engagement is None or not self.reach:
            return None
        return round(self.engagement * 100 / self.reach, 2)

    @property
    def risks(self) -> list[str]:
        return [
            label
            for label, flag in (
                (NEEDS_RECONNECT, self.needs_reconnect),
                (SYNC_BEHIND, self.sync_behind),
                (NO_DATA, self.no_data),
            )
            if flag
        ]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    value: Callable[[ChannelRow], Any]
    numeric: bool = True  # a first click sorts biggest first (names: A to Z)
    figure: bool = True  # shown right-aligned


COLUMNS: tuple[Column, ...] = (
    Column("workspace", "Workspace", lambda r: r.workspace.name.lower(), numeric=False, figure=False),
    Column("channel", "Channel", lambda r: r.channel.display_name.lower(), numeric=False, figure=False),
    Column("followers", "Followers", lambda r: r.followers),
    Column("growth", "Growth", lambda r: r.growth),
    Column("growth_pct", "Growth %", lambda r: r.growth_pct),
    Column("reach", "Reach", lambda r: r.reach),
    Column("engagement", "Engagement", lambda r: r.engagement),
    Column("engagement_rate", "Engagement rate", lambda r: r.engagement_rate),
    Column("posts", "Posts", lambda r: r.posts),
    Column("risk", "Risks", lambda r: len(r.risks), figure=False),
)
COLUMN = {c.key: c for c in COLUMNS}
DEFAULT_SORT = "workspace"


def parse_sort(value: str | None) -> tuple[str, bool]:
    """`?sort=reach` (ascending) or `?sort=-reach` (descending) → (column key, descending); unknown → default."""
    value = (value or "").strip()
    descending = value.startswith("-")
    key = value.lstrip("-")
    if key not in COLUMN:
        return DEFAULT_SORT, False
    return key, descending


def sort_rows(rows: list[ChannelRow], key: str, descending: bool) -> list[ChannelRow]:
    """Rows by one column, rows without that figure last in either direction; ties by workspace, then channel."""
    column = COLUMN.get(key, COLUMN[DEFAULT_SORT])
    tie = sorted(rows, key=lambda r: (r.workspace.name.lower(), r.channel.display_name.lower(), r.channel.pk))
    present = [r for r in tie if column.value(r) is not None]
    missing = [r for r in tie if column.value(r) is None]
    present.sort(key=column.value, reverse=descending)  # stable: ties keep workspace/channel order
    return present + missing


def _kpi_filter(kpi: catalogue.Kpi) -> Q:
    return Q(channel__platform=Platform.INSTAGRAM, metric=kpi.instagram) | (
        ~Q(channel__platform=Platform.INSTAGRAM) & Q(metric=kpi.facebook)
    )


def _posts_in_period(period: Period) -> Q:
    """Posts published within the period's UTC days (as the insights pages count them)."""
    since = datetime.combine(period.start, time.min, tzinfo=UTC)
    until = datetime.combine(period.end + timedelta(days=1), time.min, tzinfo=UTC)
    return Q(published_at__gte=since, published_at__lt=until)


def _growth_start(
    before: tuple[int | None, date | None], first: tuple[int | None, date | None], last_day: date | None
) -> tuple[int | None, date | None, bool]:
    """What follower growth counts from: (figure, its day, partial). The latest figure before the period; without
    one, the period's first figure if it is on an earlier day than its last (partial: part of the period only);
    otherwise nothing (growth is not shown, never 0)."""
    if before[0] is not None:
        return before[0], before[1], False
    if first[0] is not None and first[1] is not None and last_day is not None and first[1] < last_day:
        return first[0], first[1], True
    return None, None, False


def agency_channels(*, agency_id: int, period: Period, now: datetime) -> list[ChannelRow]:
    """Every connected channel (not disconnected) of the agency's workspaces, with its figures over `period`.
    Three queries."""
    followers = catalogue.kpi("followers")
    reach, engagement = catalogue.kpi("reach"), catalogue.kpi("engagement")
    before = period.previous()

    def latest(start: date, end: date, *, first: bool = False, column: str = "value") -> Subquery:
        return Subquery(
            DailyMetric.objects.filter(
                channel_id=OuterRef("pk"),
                metric=OuterRef("followers_metric"),
                dimension="",
                date__range=(start, end),
                value__isnull=False,
            )
            .order_by("date" if first else "-date")
            .values(column)[:1]
        )

    channels = list(
        Channel.objects.filter(workspace__agency_id=agency_id)
        .exclude(status=ChannelStatus.DISCONNECTED)
        .select_related("workspace", "insight_sync")
        .defer(*encrypted_field_names(Channel))
        .annotate(
            followers_metric=Case(
                When(platform=Platform.INSTAGRAM, then=Value(followers.instagram)),
                default=Value(followers.facebook),
                output_field=CharField(),
            )
        )
        .annotate(
            followers_end=latest(period.start, period.end),
            followers_end_on=latest(period.start, period.end, column="date"),
            followers_before=latest(before.start, before.end),
            followers_before_on=latest(before.start, before.end, column="date"),
            followers_first=latest(period.start, period.end, first=True),
            followers_first_on=latest(period.start, period.end, first=True, column="date"),
        )
        .order_by("workspace__name", "name", "pk")
    )
    if not channels:
        return []
    ids = [c.pk for c in channels]
    workspace_ids = {c.workspace_id for c in channels}
    reach_q, engagement_q = _kpi_filter(reach), _kpi_filter(engagement)
    sums = {
        row["channel"]: row
        for row in DailyMetric.objects.filter(
            workspace_id__in=workspace_ids,
            channel_id__in=ids,
            # Naming the metrics lets PostgreSQL use the (workspace, metric, date) index instead of reading every
            # figure of every channel; "no data" means no KPI figure in the period.
            metric__in={m for k in catalogue.KPIS for m in (k.instagram, k.facebook)},
            dimension="",
            date__range=(period.start, period.end),
        )
        .values("channel")
        .annotate(
            reach=Sum("value", filter=reach_q),
            engagement=Sum("value", filter=engagement_q),
            figures=Count("value"),
        )
        .order_by()
    }
    posts = dict(
        PostInsight.objects.filter(_posts_in_period(period), channel_id__in=ids)
        .values_list("channel")
        .annotate(n=Count("pk"))
        .order_by()
    )
    behind_since = now - timedelta(hours=settings.ANALYTICS_SYNC_BEHIND_HOURS)
    rows = []
    for c in channels:
        found = sums.get(c.pk, {})
        sync = getattr(c, "insight_sync", None)
        behind = c.status == ChannelStatus.ACTIVE and (
            sync is None
            or sync.backfilled_at is None
            or sync.account_synced_at is None
            or sync.account_synced_at < behind_since
        )
        start, since, partial = _growth_start(
            (c.followers_before, c.followers_before_on), (c.followers_first, c.followers_first_on), c.followers_end_on
        )
        rows.append(
            ChannelRow(
                channel=c,
                followers=c.followers_end,
                followers_before=start,
                growth_since=since,
                growth_partial=partial,
                reach=found.get("reach"),
                engagement=found.get("engagement"),
                posts=posts.get(c.pk, 0),
                needs_reconnect=c.status == ChannelStatus.NEEDS_RECONNECT,
                sync_behind=behind,
                no_data=not found.get("figures"),
            )
        )
    return rows


def _number(value: int | float | None) -> Any:
    return "" if value is None else value


def rows_csv(rows: Iterable[ChannelRow], period: Period) -> str:
    """The table as CSV: one row per channel, empty cells where Meta had no figure. "Growth from" is the day of
    the follower figure growth counts from (within the period when there was none before it: partial growth)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "Workspace",
            "Channel",
            "Platform",
            "Start",
            "End",
            "Followers",
            "Growth",
            "Growth %",
            "Growth from",
            "Reach",
            "Engagement",
            "Engagement rate %",
            "Posts",
            "Risks",
        ]
    )
    for r in rows:
        writer.writerow(
            [
                csv_cell(r.workspace.name),
                csv_cell(r.channel.display_name),
                r.channel.get_platform_display(),
                period.start.isoformat(),
                period.end.isoformat(),
                _number(r.followers),
                _number(r.growth),
                _number(r.growth_pct),
                r.growth_since.isoformat() if r.growth_since and r.growth is not None else "",
                _number(r.reach),
                _number(r.engagement),
                _number(r.engagement_rate),
                r.posts,
                "; ".join(r.risks),
            ]
        )
    return out.getvalue()
