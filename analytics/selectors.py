"""Reads for the insights pages, the report and the agency view: KPI cards, daily series, splits, top posts.

Everything here reads what the sync stored; nothing calls Meta. Each selector runs a fixed number of SQL queries
whatever the number of channels, days or posts: figures are added up in the database (`values(...).annotate(
Sum(...))`), never row by row in Python.

Days are UTC days, the days Meta counts and the sync stores figures under: a period ends at `last_complete_day()`
at the latest. Local time (the workspace's clock) is only for showing when a post was published and for the best
hours to post.

A day with no stored figure, or only NULLs ("not available" from Meta), is None in a series, never 0: charts draw
a gap and tables say "not available". A total of several channels is None for a day on which only some of them
had a figure (it would draw as a dip); each channel's own line keeps its figures. A KPI card adds up the (channel,
day) figures stored and says how many of the period's channel-days that was; its change compares like with like."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import (
    Avg,
    Case,
    CharField,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import ExtractHour
from django.utils import timezone

from accounts.models import ChannelStatus, Platform

from . import catalogue
from .models import Audience, DailyMetric, InsightSync, PostInsight

if TYPE_CHECKING:
    from accounts.models import Channel, Workspace

RANGES = (7, 28, 90)
DEFAULT_RANGE = 28
MAX_DAYS = 731  # two years: as far back as Meta keeps Page insights


# --- Periods -------------------------------------------------------------------------------------------------
def _day(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


@dataclass(frozen=True)
class Period:
    """Days from `start` to `end`, both included. `preset` is "7", "28" or "90" when picked from the range
    buttons, "" for a custom range."""

    start: date
    end: date
    preset: str = field(default="", compare=False)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The same number of days just before this period."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def dates(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]

    @property
    def label(self) -> str:
        if self.start == self.end:
            return _day(self.start)
        if self.start.year == self.end.year:
            if self.start.month == self.end.month:
                return f"{self.start.day}–{_day(self.end)}"
            return f"{self.start.day} {self.start:%b} – {_day(self.end)}"
        return f"{_day(self.start)} – {_day(self.end)}"

    def params(self) -> dict[str, str]:
        """The query parameters that give this period back through `period_from_params`."""
        if self.preset:
            return {"range": self.preset}
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def utc_today(*, now: datetime | None = None) -> date:
    """Today's date in UTC: the sync stores each figure under the UTC day it is about, so every period is counted
    in UTC days."""
    return (now or timezone.now()).astimezone(UTC).date()


def last_complete_day(*, now: datetime | None = None) -> date:
    """The last UTC day whose figures the sync can have stored (yesterday, UTC): every period ends there at the
    latest."""
    return utc_today(now=now) - timedelta(days=1)


def _parse_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except (ValueError, OverflowError):
        return None


def period_from_params(params: Mapping[str, Any], *, today: date | None = None) -> Period:
    """`range=7|28|90` (the last N days up to yesterday) or `start=&end=` (ISO dates, a custom range; used when
    `range` is not one of the presets); anything else gives the last 28 days.

    Days are UTC days, like the stored figures: `today` is `utc_today()` unless given. A custom range has its
    dates swapped if given backwards, then is clamped to the last two years up to yesterday (today's figures are
    not in yet); a date that cannot be read, or a range wholly outside those days, gives the default range."""
    today = today or utc_today()
    yesterday = today - timedelta(days=1)
    earliest = yesterday - timedelta(days=MAX_DAYS - 1)
    preset = str(params.get("range") or "")
    if preset not in {str(r) for r in RANGES}:
        start, end = _parse_date(params.get("start")), _parse_date(params.get("end"))
        if start or end:
            try:
                end = end or yesterday
                start = start or end - timedelta(days=DEFAULT_RANGE - 1)
            except OverflowError:
                start = end = None
        if start and end:
            if start > end:
                start, end = end, start
            start, end = max(start, earliest), min(end, yesterday)
            if start <= end:
                return Period(start, end)
        preset = str(DEFAULT_RANGE)
    return Period(yesterday - timedelta(days=int(preset) - 1), yesterday, preset=preset)


# --- Charts ----------------------------------------------------------------------------------------------------
@dataclass
class Dataset:
    """One line (or set of bars). `incomplete`: the indexes of labels whose value is None because the channels
    added up in it did not all have a figure that day (some did): a total of some channels would draw as a dip."""

    label: str
    values: list[int | None]
    incomplete: set[int] = field(default_factory=set)


@dataclass
class Chart:
    """A chart's data: one value per label and dataset, None where there is no figure. `axis` names the labels
    (the CSV's first column); `note` says what the figures are when their name alone could mislead."""

    title: str
    labels: list[str]
    datasets: list[Dataset]
    unit: str = ""
    axis: str = "Date"
    note: str = ""

    @property
    def empty(self) -> bool:
        """No figure at all, not even some channels' figures for a day."""
        return not self.drawable and not self.incomplete

    @property
    def drawable(self) -> bool:
        return any(v is not None for d in self.datasets for v in d.values)

    @property
    def missing(self) -> int:
        """How many labels have no figure in any dataset (Meta had none for any channel)."""
        return sum(
            1
            for i in range(len(self.labels))
            if all(d.values[i] is None and i not in d.incomplete for d in self.datasets)
        )

    @property
    def incomplete(self) -> int:
        """How many labels have a total left out because not every channel had a figure."""
        return sum(1 for i in range(len(self.labels)) if any(i in d.incomplete for d in self.datasets))

    @property
    def partial(self) -> bool:
        return self.drawable and (self.missing > 0 or self.incomplete > 0)

    def rows(self) -> list[tuple[str, list[int | None]]]:
        """(label, one value per dataset) for tables."""
        return [(label, [d.values[i] for d in self.datasets]) for i, label in enumerate(self.labels)]

    def cells(self) -> list[tuple[str, list[tuple[int | None, bool]]]]:
        """(label, one (value, incomplete) per dataset) for the page's tables."""
        return [
            (label, [(d.values[i], i in d.incomplete) for d in self.datasets]) for i, label in enumerate(self.labels)
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "labels": self.labels,
            "datasets": [{"label": d.label, "data": d.values} for d in self.datasets],
            "unit": self.unit,
        }


def csv_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would read as a formula (starting with =, +, -, @, a tab or a carriage
    return; an @username too) gets a leading quote; numbers stay numbers, None is an empty cell."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def chart_csv(chart: Chart) -> str:
    """The chart's data as CSV: a header (the axis, then each dataset), one row per label, empty for None."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([csv_cell(chart.axis), *(csv_cell(d.label) for d in chart.datasets)])
    for label, values in chart.rows():
        writer.writerow([csv_cell(label), *(csv_cell(v) for v in values)])
    return out.getvalue()


# --- Which stored metric each series reads ---------------------------------------------------------------------
@dataclass(frozen=True)
class Series:
    """One line of a chart, whatever the platform: for each platform, the stored (metric, dimension) it reads."""

    key: str
    label: str
    sources: tuple[tuple[str, str, str], ...]  # (platform, metric, dimension)


def kpi_series(kpi: catalogue.Kpi) -> Series:
    return Series(
        kpi.key,
        kpi.label,
        tuple((p, kpi.metric_for(p), kpi.dimension_for(p)) for p in (Platform.INSTAGRAM, Platform.FACEBOOK_PAGE)),
    )


IG, PAGE = Platform.INSTAGRAM, Platform.FACEBOOK_PAGE


@dataclass(frozen=True)
class ExtraChart:
    """A daily chart shown on one channel's page when the channel's platform has it."""

    slug: str
    title: str
    platforms: tuple[str, ...]
    series: tuple[Series, ...] = ()
    by_dimension: str = ""  # instead of `series`: one line per breakdown value of this metric


EXTRA_CHARTS: tuple[ExtraChart, ...] = (
    ExtraChart(
        "follows",
        "Follows and unfollows",
        (IG, PAGE),
        (
            Series(
                "follows",
                "Follows",
                ((IG, "follows_and_unfollows", "FOLLOWER"), (PAGE, "page_daily_follows_unique", "")),
            ),
            Series(
                "unfollows",
                "Unfollows",
                ((IG, "follows_and_unfollows", "NON_FOLLOWER"), (PAGE, "page_daily_unfollows_unique", "")),
            ),
        ),
    ),
    ExtraChart(
        "profile-links",
        "Profile link taps",
        (IG,),
        (Series("taps", "Profile link taps", ((IG, "profile_links_taps", ""),)),),
    ),
    ExtraChart(
        "interactions",
        "Likes, comments, shares and saves",
        (IG,),
        tuple(
            Series(m, label, ((IG, m, ""),))
            for m, label in (("likes", "Likes"), ("comments", "Comments"), ("shares", "Shares"), ("saves", "Saves"))
        ),
    ),
    ExtraChart(
        "video-views", "Video views", (PAGE,), (Series("video", "Video views", ((PAGE, "page_video_views", ""),)),)
    ),
    ExtraChart("reactions", "Reactions by type", (PAGE,), by_dimension="page_actions_post_reactions_total"),
)


def extra_chart(extra: ExtraChart, channels: Sequence[Channel], period: Period) -> Chart:
    if extra.by_dimension:
        return dimension_series(channels, extra.by_dimension, period, title=extra.title)
    return series_chart(channels, extra.series, period, title=extra.title)


def _by_platform(channels: Sequence[Channel]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for c in channels:
        out[c.platform].append(c.pk)
    return out


def _daily(channels: Sequence[Channel]) -> QuerySet[DailyMetric]:
    """The channels' stored days (by workspace first: the table's index leads with it)."""
    return DailyMetric.objects.filter(
        workspace_id__in={c.workspace_id for c in channels}, channel_id__in=[c.pk for c in channels]
    )


def _series_case(channels: Sequence[Channel], series: Sequence[Series]) -> tuple[Q, Case]:
    """A filter for the rows the series read and an expression naming each row's series key."""
    ids = _by_platform(channels)
    match, whens = Q(pk__in=[]), []
    for s in series:
        for platform, metric, dimension in s.sources:
            if ids.get(platform):
                cond = Q(channel_id__in=ids[platform], metric=metric, dimension=dimension)
                match |= cond
                whens.append(When(cond, then=Value(s.key)))
    return match, Case(*whens, default=Value(""), output_field=CharField())


def series_chart(
    channels: Sequence[Channel],
    series: Sequence[Series],
    period: Period,
    *,
    title: str,
    per_channel: bool = False,
    unit: str = "",
    note: str = "",
) -> Chart:
    """Daily lines: one per series (added up over the channels), or one per series and channel. One query.

    A day on which some of the channels a series adds up had a figure and others had none is None in the total
    and listed in the dataset's `incomplete` (the total of some channels would draw as a dip); each channel's own
    line keeps its figure."""
    dates = period.dates()
    index = {d: i for i, d in enumerate(dates)}
    labels = [d.isoformat() for d in dates]
    keys: list[tuple[str, int | None]] = []
    names: dict[tuple[str, int | None], str] = {}
    expected: dict[tuple[str, int | None], int] = {}
    for s in series:
        platforms = {platform for platform, _, _ in s.sources}
        if per_channel:
            for c in channels:
                keys.append((s.key, c.pk))
                names[(s.key, c.pk)] = f"{s.label} · {c.display_name}" if len(series) > 1 else c.display_name
                expected[(s.key, c.pk)] = 1
        else:
            keys.append((s.key, None))
            names[(s.key, None)] = s.label
            expected[(s.key, None)] = sum(1 for c in channels if c.platform in platforms)
    values: dict[tuple[str, int | None], list[int | None]] = {k: [None] * len(dates) for k in keys}
    incomplete: dict[tuple[str, int | None], set[int]] = {k: set() for k in keys}
    if channels and series:
        match, case = _series_case(channels, series)
        group = ["key", "date", "channel_id"] if per_channel else ["key", "date"]
        rows = (
            _daily(channels)
            .filter(match, date__range=(period.start, period.end))
            .annotate(key=case)
            .values(*group)
            .annotate(total=Sum("value"), found=Count("pk", filter=Q(value__isnull=False)))
            .order_by()
        )
        for row in rows:
            k = (row["key"], row["channel_id"] if per_channel else None)
            if k not in values or row["total"] is None:
                continue
            if row["found"] < expected[k]:
                incomplete[k].add(index[row["date"]])
            else:
                values[k][index[row["date"]]] = int(row["total"])
    return Chart(title, labels, [Dataset(names[k], values[k], incomplete[k]) for k in keys], unit, note=note)


def daily_series(channels: Sequence[Channel], kpi_key: str, period: Period, *, per_channel: bool = False) -> Chart:
    """One KPI per day over the period: the channels added up, or one dataset per channel."""
    kpi = catalogue.kpi(kpi_key)
    return series_chart(channels, [kpi_series(kpi)], period, title=kpi.label, per_channel=per_channel, note=kpi.hint)


def dimension_series(channels: Sequence[Channel], metric: str, period: Period, *, title: str) -> Chart:
    """A metric stored by breakdown value (a Page's reactions by type) as one daily line per value, biggest
    first. One query."""
    dates = period.dates()
    index = {d: i for i, d in enumerate(dates)}
    rows = (
        _daily(channels)
        .filter(metric=metric, date__range=(period.start, period.end))
        .exclude(dimension="")
        .values("dimension", "date")
        .annotate(total=Sum("value"))
        .order_by()
        if channels
        else []
    )
    values: dict[str, list[int | None]] = {}
    for row in rows:
        line = values.setdefault(row["dimension"], [None] * len(dates))
        if row["total"] is not None:
            line[index[row["date"]]] = int(row["total"])
    order = sorted(values, key=lambda d: (-sum(v or 0 for v in values[d]), d))
    return Chart(
        title, [d.isoformat() for d in dates], [Dataset(d.replace("_", " ").capitalize(), values[d]) for d in order]
    )


# --- KPI cards -------------------------------------------------------------------------------------------------
@dataclass
class KpiCard:
    """One KPI over a period and the period before it.

    `value` adds up the (channel, day) figures stored ("sum") or each channel's latest figure ("last"); None when
    there was none. `days_available` counts the days on which any channel had a figure; `channel_days_available`
    the (channel, day) pairs that had one, out of `channels` × `days`. The change compares like with like:
    `compare_value` and `compare_previous` add up only what had a figure in both periods (`compared` of them:
    (channel, day) pairs at the same place in each period for "sum", channels for "last"); `previous` is the
    whole previous period's figure."""

    key: str
    label: str
    value: int | None
    previous: int | None
    change_pct: float | None
    days_available: int
    days: int
    aggregate: str = "sum"
    hint: str = ""
    channels: int = 1
    channels_available: int = 0
    channel_days_available: int = 0
    compared: int = 0
    compare_value: int | None = None
    compare_previous: int | None = None

    @property
    def available(self) -> bool:
        return self.value is not None

    @property
    def channel_days(self) -> int:
        return self.channels * self.days

    @property
    def partial(self) -> bool:
        """Some of what the figure adds up had no figure: a channel-day ("sum"), a channel ("last")."""
        if not self.available:
            return False
        if self.aggregate == "last":
            return self.channels_available < self.channels
        return self.channel_days_available < self.channel_days

    @property
    def coverage(self) -> str:
        """What the figure covers, in words: "5 of 7 days", "12 of 14 channel-days", "1 of 2 channels"."""
        if self.aggregate == "last":
            return f"{self.channels_available} of {self.channels} channel{'s' if self.channels != 1 else ''}"
        unit = "days" if self.channels == 1 else "channel-days"
        return f"{self.channel_days_available} of {self.channel_days} {unit}"

    @property
    def like_for_like(self) -> bool:
        """The change leaves out part of the period (or of the channels): what lacked a figure in either period."""
        whole = self.channels if self.aggregate == "last" else self.channel_days
        return self.change_pct is not None and self.compared < whole

    @property
    def comparison(self) -> str:
        """What the change compares, in words, when it is not everything: "" otherwise."""
        if not self.like_for_like:
            return ""
        if self.aggregate == "last":
            return f"based on {self.compared} of {self.channels} channels (those with a figure in both periods)"
        unit = "days" if self.channels == 1 else "channel-days"
        return f"on the {self.compared} of {self.channel_days} {unit} with a figure in both periods"


def _change(value: int | None, previous: int | None) -> float | None:
    if value is None or not previous:
        return None
    return round((value - previous) * 100 / previous, 1)


def _twin(days: int) -> Exists:
    """Whether the row's channel has a figure for the same metric `days` days later (earlier if negative)."""
    return Exists(
        DailyMetric.objects.filter(
            channel_id=OuterRef("channel_id"),
            metric=OuterRef("metric"),
            dimension=OuterRef("dimension"),
            date=ExpressionWrapper(OuterRef("date") + timedelta(days=days), output_field=DateField()),
            value__isnull=False,
        )
    )


def _kpi_channels(kpi: catalogue.Kpi, channels: Sequence[Channel]) -> int:
    """How many of the channels have a stored metric for the KPI (every platform has each KPI today)."""
    return sum(1 for c in channels if kpi.metric_for(c.platform))


def kpi_cards(channels: Sequence[Channel], period: Period) -> list[KpiCard]:
    """Each KPI over the period and the one before it: "sum" KPIs add up the (channel, day) figures; "last" KPIs
    (followers) add up each channel's latest figure in the period. The change compares like with like (see
    KpiCard). Two queries whatever the number of channels and days."""
    prev = period.previous()
    kpis = catalogue.KPIS
    found: dict[str, dict[str, Any]] = {}
    last: dict[str, _Latest] = {}
    if channels:
        match, case = _series_case(channels, [kpi_series(k) for k in kpis])
        in_period, in_prev = Q(date__gte=period.start), Q(date__lte=prev.end)
        has = Q(value__isnull=False)
        # A figure of the period with one for the same channel and metric `days` earlier, and the other way round.
        paired_now, paired_before = Q(had_before=True), Q(has_after=True)
        rows = (
            _daily(channels)
            .filter(match, date__range=(prev.start, period.end))
            .annotate(key=case, had_before=_twin(-period.days), has_after=_twin(period.days))
            .values("key")
            .annotate(
                now=Sum("value", filter=in_period),
                before=Sum("value", filter=in_prev),
                days=Count("date", distinct=True, filter=in_period & has),
                pairs=Count("pk", filter=in_period & has),
                compared=Count("pk", filter=in_period & has & paired_now),
                like_now=Sum("value", filter=in_period & paired_now),
                like_before=Sum("value", filter=in_prev & paired_before),
            )
            .order_by()
        )
        found = {row["key"]: row for row in rows}
        for k in kpis:
            if k.aggregate == "last":
                last[k.key] = _latest_sum(channels, k, period, prev)
    cards = []
    for k in kpis:
        row = found.get(k.key, {})
        card = KpiCard(
            k.key,
            k.label,
            row.get("now"),
            row.get("before"),
            None,
            row.get("days") or 0,
            period.days,
            k.aggregate,
            hint=k.hint,
            channels=_kpi_channels(k, channels),
            channel_days_available=row.get("pairs") or 0,
        )
        if k.aggregate == "last":
            latest = last.get(k.key) or _Latest()
            card.value, card.previous = latest.now, latest.before
            card.channels_available = latest.available
            card.compared, card.compare_value, card.compare_previous = latest.both, latest.both_now, latest.both_before
        elif card.previous is not None:
            card.compared, card.compare_value, card.compare_previous = (
                row.get("compared") or 0,
                row.get("like_now"),
                row.get("like_before"),
            )
        card.change_pct = _change(card.compare_value, card.compare_previous) if card.compared else None
        cards.append(card)
    return cards


@dataclass
class _Latest:
    now: int | None = None
    before: int | None = None
    available: int = 0  # channels with a figure in the period
    both: int = 0  # channels with a figure in both periods
    both_now: int | None = None
    both_before: int | None = None


def _latest_sum(channels: Sequence[Channel], kpi: catalogue.Kpi, period: Period, prev: Period) -> _Latest:
    """Each channel's latest non-empty figure in the period and in the previous one, added up, and the same for
    the channels that had a figure in both. One query."""
    from accounts.models import Channel

    def latest(p: Period) -> Subquery:
        return Subquery(
            DailyMetric.objects.filter(
                channel_id=OuterRef("pk"),
                metric=OuterRef("kpi_metric"),
                dimension=OuterRef("kpi_dimension"),
                date__range=(p.start, p.end),
                value__isnull=False,
            )
            .order_by("-date")
            .values("value")[:1]
        )

    def per_platform(attr: str) -> Case:
        ig, page = getattr(kpi, f"{attr}_for")(Platform.INSTAGRAM), getattr(kpi, f"{attr}_for")(Platform.FACEBOOK_PAGE)
        return Case(When(platform=Platform.INSTAGRAM, then=Value(ig)), default=Value(page), output_field=CharField())

    rows = (
        Channel.objects.filter(pk__in=[c.pk for c in channels])
        .annotate(kpi_metric=per_platform("metric"), kpi_dimension=per_platform("dimension"))
        .annotate(now=latest(period), before=latest(prev))
        .order_by()
        .values_list("now", "before")
    )
    now_values = [r[0] for r in rows if r[0] is not None]
    before_values = [r[1] for r in rows if r[1] is not None]
    both = [(r[0], r[1]) for r in rows if r[0] is not None and r[1] is not None]
    return _Latest(
        now=sum(now_values) if now_values else None,
        before=sum(before_values) if before_values else None,
        available=len(now_values),
        both=len(both),
        both_now=sum(r[0] for r in both) if both else None,
        both_before=sum(r[1] for r in both) if both else None,
    )


# --- Splits, audience, hours -----------------------------------------------------------------------------------
CONTENT_TYPES = {"REEL": "Reels", "POST": "Posts", "CAROUSEL_CONTAINER": "Carousels", "STORY": "Stories"}


def content_type_split(channels: Sequence[Channel], period: Period) -> Chart:
    """Reach and views over the period by Instagram content type (Meta's media_product_type breakdown). One query."""
    ig = [c for c in channels if c.platform == Platform.INSTAGRAM]
    totals: dict[tuple[str, str], int | None] = {}
    if ig:
        rows = (
            _daily(ig)
            .filter(metric__in=("reach", "views"), date__range=(period.start, period.end))
            .exclude(dimension="")
            .values("metric", "dimension")
            .annotate(total=Sum("value"))
            .order_by()
        )
        totals = {(r["metric"], r["dimension"]): r["total"] for r in rows}
    present = {d for (_, d) in totals}
    types = [t for t in CONTENT_TYPES if t in present] + sorted(present - set(CONTENT_TYPES))
    datasets = [
        Dataset(label, [None if totals.get((m, t)) is None else int(totals[(m, t)]) for t in types])  # type: ignore[arg-type]
        for m, label in (("reach", "Reach"), ("views", "Views"))
    ]
    labels = [CONTENT_TYPES.get(t, t.title()) for t in types]
    return Chart("Reach and views by content type", labels, datasets, "", "Type")


AUDIENCE_METRICS = (("follower_demographics", "Followers"), ("engaged_audience_demographics", "Engaged audience"))
AUDIENCE_TITLES = {"age": "Age", "gender": "Gender", "city": "City", "country": "Country"}
GENDERS = {"F": "Women", "M": "Men", "U": "Not specified"}
AUDIENCE_TOP = 10


def audience(channels: Sequence[Channel]) -> dict[str, Chart]:
    """The Instagram audience by age, gender, city and country, as Meta last reported it (followers and engaged
    audience, added up over the channels). A breakdown Meta had nothing for has no labels. One query."""
    ig = [c for c in channels if c.platform == Platform.INSTAGRAM]
    sums: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    if ig:
        rows = Audience.objects.filter(
            channel_id__in=[c.pk for c in ig],
            metric__in=[m for m, _ in AUDIENCE_METRICS],
            breakdown__in=catalogue.AUDIENCE_BREAKDOWNS,
            available=True,
        ).values_list("metric", "breakdown", "values")
        for metric, breakdown, values in rows:
            for key, count in (values or {}).items():
                if isinstance(count, int | float):
                    sums[(breakdown, metric)][str(key)] += int(count)
    charts = {}
    for b in catalogue.AUDIENCE_BREAKDOWNS:
        keys = set().union(*(sums[(b, m)].keys() for m, _ in AUDIENCE_METRICS))
        if b in ("city", "country"):
            followers = sums[(b, AUDIENCE_METRICS[0][0])]
            engaged = sums[(b, AUDIENCE_METRICS[1][0])]
            order = sorted(keys, key=lambda k: (-followers.get(k, 0), -engaged.get(k, 0), k))[:AUDIENCE_TOP]
        elif b == "gender":
            order = [g for g in GENDERS if g in keys] + sorted(keys - set(GENDERS))
        else:
            order = sorted(keys)
        datasets = [Dataset(label, [sums[(b, m)].get(k) for k in order]) for m, label in AUDIENCE_METRICS]
        # A metric Meta gave nothing for (the engaged audience of a quiet month) is left out, not drawn empty.
        datasets = [d for d in datasets if any(v is not None for v in d.values)] or datasets
        labels = [GENDERS.get(k, k) for k in order] if b == "gender" else order
        charts[b] = Chart(f"Audience by {AUDIENCE_TITLES[b].lower()}", labels, datasets, "accounts", AUDIENCE_TITLES[b])
    return charts


BEST_HOURS_METRICS = {"interactions": "Average interactions per post", "reach": "Average reach per post"}


def best_hours(workspace: Workspace, channels: Sequence[Channel], *, metric: str = "interactions") -> Chart:
    """When the workspace's posts did best: the average interactions (or reach) of the posts published in each
    hour of the day on the workspace's clock, over every post stored. An hour without posts is None. One query."""
    metric = metric if metric in BEST_HOURS_METRICS else "interactions"
    values: list[int | None] = [None] * 24
    if channels:
        rows = (
            PostInsight.objects.filter(workspace=workspace, channel_id__in=[c.pk for c in channels])
            .annotate(hour=ExtractHour("published_at", tzinfo=workspace.zoneinfo))
            .values("hour")
            .annotate(avg=Avg(metric))
            .order_by()
        )
        for row in rows:
            if row["avg"] is not None:
                values[row["hour"]] = round(row["avg"])
    labels = [f"{h:02d}:00" for h in range(24)]
    return Chart(
        f"Best hours to post ({workspace.timezone})",
        labels,
        [Dataset(BEST_HOURS_METRICS[metric], values)],
        "",
        "Hour",
    )


# --- Posts -----------------------------------------------------------------------------------------------------
POST_ORDERS = {
    "reach": "Reach",
    "views": "Views",
    "interactions": "Interactions",
    "likes": "Likes / reactions",  # a Page post's "likes" are all its reactions
    "comments": "Comments",
    "shares": "Shares",
    "saves": "Saves",
    "published_at": "Published",
}


def _posts(workspace: Workspace, channels: Sequence[Channel], period: Period) -> QuerySet[PostInsight]:
    """The posts published within the period's UTC days, the days the charts count."""
    since = datetime.combine(period.start, time.min, tzinfo=UTC)
    until = datetime.combine(period.end + timedelta(days=1), time.min, tzinfo=UTC)
    return PostInsight.objects.filter(
        workspace=workspace,
        channel_id__in=[c.pk for c in channels],
        published_at__gte=since,
        published_at__lt=until,
    ).select_related("channel")


def top_posts(
    workspace: Workspace, channels: Sequence[Channel], period: Period, *, order: str = "reach", limit: int = 10
) -> list[PostInsight]:
    """The posts published in the period (its UTC days, like the charts), best first by `order` (a figure column or
    `published_at`); posts without that figure come last. One query."""
    if not channels:
        return []
    order = order if order in POST_ORDERS else "reach"
    return list(_posts(workspace, channels, period).order_by(F(order).desc(nulls_last=True), "-published_at")[:limit])


POST_COLUMNS = ("reach", "views", "interactions", "likes", "comments", "shares", "saves")


def post_metric_names() -> list[str]:
    """Every post metric the catalogue reads that has no column of its own (the post CSV's extra columns)."""
    names: list[str] = []
    for m in catalogue.METRICS:
        if m.node in (catalogue.Node.IG_MEDIA, catalogue.Node.PAGE_POST) and not m.column and m.name not in names:
            names.append(m.name)
    return names


def posts_for_export(workspace: Workspace, channels: Sequence[Channel], period: Period) -> Iterable[PostInsight]:
    """Every post published in the period, newest first, for the CSV. One query, streamed."""
    if not channels:
        return []
    return _posts(workspace, channels, period).order_by("-published_at", "pk").iterator(chunk_size=2000)


# --- Channels and their sync -----------------------------------------------------------------------------------
def insight_channels(workspace: Workspace) -> list[Channel]:
    """The workspace's channels that insights are read for (every channel not disconnected)."""
    from accounts.models import Channel

    return list(
        Channel.objects.filter(workspace=workspace)
        .exclude(status=ChannelStatus.DISCONNECTED)
        .order_by("platform", "name", "pk")
    )


@dataclass
class SyncStatus:
    channel: Channel
    state: str  # "ok", "pending", "behind", "error", "reconnect"
    text: str
    synced_through: date | None = None


def sync_statuses(channels: Sequence[Channel], *, now: datetime | None = None) -> list[SyncStatus]:
    """One line per channel, in plain words: when its figures were last read, whether the first backfill is still
    to come, and what went wrong last. One query."""
    now = now or timezone.now()
    syncs = {s.channel_id: s for s in InsightSync.objects.filter(channel_id__in=[c.pk for c in channels])}
    behind = timedelta(hours=settings.ANALYTICS_SYNC_BEHIND_HOURS)
    out = []
    for c in channels:
        s = syncs.get(c.pk)
        through = s.synced_through if s else None
        if c.status == ChannelStatus.NEEDS_RECONNECT:
            out.append(SyncStatus(c, "reconnect", "Needs reconnecting: figures stop updating until it is.", through))
        elif s is None or s.backfilled_at is None:
            out.append(SyncStatus(c, "pending", "First import pending: figures appear once it has run.", through))
        elif s.last_error and (s.account_synced_at is None or (s.last_error_at or now) >= s.account_synced_at):
            out.append(SyncStatus(c, "error", f"Last update failed: {s.last_error}", through))
        elif s.account_synced_at is None or now - s.account_synced_at > behind:
            out.append(SyncStatus(c, "behind", "Behind: figures have not been updated for a while.", through))
        else:
            out.append(SyncStatus(c, "ok", "Up to date.", through))
    return out
