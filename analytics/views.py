"""The insights pages: the whole workspace (channels added up, or side by side) and one channel; each chart's
data as JSON (for Chart.js) and CSV; the post table as CSV.

Every number comes from `analytics.selectors`, so the page's tables, the charts drawn from the JSON and the CSV
files agree. Filter changes come back as the page body alone (htmx) with the address bar updated."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode
from uuid import UUID

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from accounts.access import WorkspaceAccess, workspace_view
from accounts.models import Channel, Platform
from accounts.roles import Capability

from . import catalogue, selectors
from .models import PostInsight, PostKind
from .selectors import Chart, Period


@dataclass
class Scope:
    """What the request asks to see: which of the workspace's channels, over which days."""

    access: WorkspaceAccess
    channels: list[Channel]  # every channel the page offers
    selected: list[Channel]
    period: Period
    channel: Channel | None = None  # one channel's page
    order: str = "reach"
    chosen: bool = False  # channels picked with ?channel= (compared side by side)
    cache: dict[str, Chart] = field(default_factory=dict)

    @property
    def workspace(self):  # type: ignore[no-untyped-def]
        return self.access.workspace

    @property
    def compare(self) -> bool:
        return self.chosen and len(self.selected) > 1

    def params(self, **extra: str) -> dict[str, object]:
        """The query that gives this scope back (on any of the analytics URLs)."""
        query: dict[str, object] = dict(self.period.params())
        if self.channel is not None:
            query["channel"] = [str(self.channel.public_id)]
        elif self.chosen:
            query["channel"] = [str(c.public_id) for c in self.selected]
        if self.order != "reach":
            query["order"] = self.order
        query.update(extra)
        return query

    def url(self, name: str, **kwargs: object) -> str:
        return _url(name, self.access, self.params(), **kwargs)

    def page_url(self, **extra: str) -> str:
        """This page (the workspace's or the channel's) with this scope, changed by `extra`."""
        if self.channel is None:
            return _url("insights", self.access, self.params(**extra))
        query = self.params(**extra)
        query.pop("channel", None)
        return _url("channel_insights", self.access, query, channel_id=self.channel.public_id)


def _url(name: str, access: WorkspaceAccess, query: dict[str, object] | None = None, **kwargs: object) -> str:
    url = reverse(f"analytics:{name}", kwargs={"workspace_id": access.workspace.public_id, **kwargs})
    return f"{url}?{urlencode(query, doseq=True)}" if query else url


def _scope(request: HttpRequest, access: WorkspaceAccess, channel_id: UUID | None = None) -> Scope:
    """Read the channels and the period from the query. A channel id that is not one of this workspace's
    channels answers 404, like everywhere else."""
    channels = selectors.insight_channels(access.workspace)
    by_id = {str(c.public_id): c for c in channels}
    period = selectors.period_from_params(request.GET, today=selectors.utc_today())
    order = request.GET.get("order", "reach")
    order = order if order in selectors.POST_ORDERS else "reach"
    if channel_id is not None:
        channel = by_id.get(str(channel_id))
        if channel is None:
            raise Http404
        return Scope(access, channels, [channel], period, channel=channel, order=order)
    wanted = request.GET.getlist("channel")
    if wanted:
        if any(w not in by_id for w in wanted):
            raise Http404
        selected = [c for c in channels if str(c.public_id) in wanted]
        return Scope(access, channels, selected, period, order=order, chosen=True)
    return Scope(access, channels, channels, period, order=order)


# --- Charts ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChartDef:
    slug: str
    kind: str  # Chart.js type: line, bar, doughnut
    build: Callable[[Scope], Chart]
    platforms: tuple[str, ...] = (Platform.INSTAGRAM, Platform.FACEBOOK_PAGE)


def _kpi(key: str, *, per_channel: bool | None = None) -> Callable[[Scope], Chart]:
    def build(s: Scope) -> Chart:
        side_by_side = s.compare if per_channel is None else per_channel
        return selectors.daily_series(s.selected, key, s.period, per_channel=side_by_side)

    return build


def _reach_views(s: Scope) -> Chart:
    reach = catalogue.kpi("reach")
    series = [selectors.kpi_series(reach), selectors.kpi_series(catalogue.kpi("views"))]
    return selectors.series_chart(
        s.selected, series, s.period, title="Reach and views", per_channel=s.compare, note=reach.hint
    )


def _audience(breakdown: str) -> Callable[[Scope], Chart]:
    def build(s: Scope) -> Chart:
        if "audience" not in s.cache:
            for b, chart in selectors.audience(s.selected).items():
                s.cache[f"audience-{b}"] = chart
            s.cache["audience"] = Chart("", [], [])
        return s.cache[f"audience-{breakdown}"]

    return build


def _extra(extra: selectors.ExtraChart) -> Callable[[Scope], Chart]:
    return lambda s: selectors.extra_chart(extra, s.selected, s.period)


IG = (Platform.INSTAGRAM,)
OVERVIEW_CHARTS: tuple[ChartDef, ...] = (
    ChartDef("followers", "line", _kpi("followers", per_channel=True)),
    ChartDef("new-followers", "line", _kpi("new_followers")),
    ChartDef("reach-views", "line", _reach_views),
    ChartDef("engagement", "line", _kpi("engagement")),
    ChartDef("content-types", "bar", lambda s: selectors.content_type_split(s.selected, s.period), IG),
)
EXTRA_CHARTS: tuple[ChartDef, ...] = tuple(
    ChartDef(e.slug, "line", _extra(e), e.platforms) for e in selectors.EXTRA_CHARTS
)
AUDIENCE_CHARTS: tuple[ChartDef, ...] = tuple(
    ChartDef(f"audience-{b}", "doughnut" if b == "gender" else "bar", _audience(b), IG)
    for b in catalogue.AUDIENCE_BREAKDOWNS
)
BEST_HOURS = ChartDef("best-hours", "bar", lambda s: selectors.best_hours(s.workspace, s.selected))
CHARTS: dict[str, ChartDef] = {c.slug: c for c in (*OVERVIEW_CHARTS, *EXTRA_CHARTS, *AUDIENCE_CHARTS, BEST_HOURS)}


def _chart_def(slug: str) -> ChartDef:
    try:
        return CHARTS[slug]
    except KeyError:
        raise Http404 from None


@dataclass
class ChartBlock:
    """A chart on the page: its data (for the table), its type, and where the JSON and CSV are."""

    slug: str
    kind: str
    chart: Chart
    json_url: str
    csv_url: str


def _block(scope: Scope, d: ChartDef) -> ChartBlock:
    return ChartBlock(
        d.slug,
        d.kind,
        d.build(scope),
        scope.url("chart_data", chart=d.slug),
        scope.url("chart_csv", chart=d.slug),
    )


def _applies(d: ChartDef, scope: Scope) -> bool:
    return any(c.platform in d.platforms for c in scope.selected)


# --- Pages -------------------------------------------------------------------------------------------------------
def _post_cells(post: PostInsight) -> list[tuple[int | None, str]]:
    """A post's figures for the table, each with what it counts when the column's name says less: a Page post's
    "likes" are all its reactions."""
    return [
        (getattr(post, c), "reactions" if c == "likes" and post.kind == PostKind.PAGE_POST else "")
        for c in selectors.POST_COLUMNS
    ]


def _render(request: HttpRequest, scope: Scope, template: str, context: dict) -> HttpResponse:
    with timezone.override(scope.workspace.zoneinfo):
        return render(request, template, {"access": scope.access, "workspace": scope.workspace, **context})


def _body_context(scope: Scope) -> dict:
    charts = [_block(scope, d) for d in OVERVIEW_CHARTS if _applies(d, scope)]
    extras = [_block(scope, d) for d in EXTRA_CHARTS if _applies(d, scope)] if scope.channel is not None else []
    audience = [_block(scope, d) for d in AUDIENCE_CHARTS if _applies(d, scope)]
    columns = ["published_at", *selectors.POST_COLUMNS]
    order_links = [(key, selectors.POST_ORDERS[key], scope.page_url(order=key)) for key in columns]
    posts = selectors.top_posts(scope.workspace, scope.selected, scope.period, order=scope.order)
    return {
        "scope": scope,
        "period": scope.period,
        "selected": scope.selected,
        "cards": selectors.kpi_cards(scope.selected, scope.period),
        "statuses": selectors.sync_statuses(scope.selected),
        "charts": charts,
        "extras": extras,
        "audience": audience,
        "best_hours": _block(scope, BEST_HOURS),
        "post_rows": [(p, _post_cells(p)) for p in posts],
        "order": scope.order,
        "order_label": selectors.POST_ORDERS[scope.order],
        "order_links": order_links,
        "posts_csv_url": scope.url("posts_csv"),
        "page_url": scope.page_url(),
        "ranges": selectors.RANGES,
        "report_query": urlencode(scope.period.params()),
    }


def _page(request: HttpRequest, scope: Scope) -> HttpResponse:
    context = _body_context(scope)
    # The address bar keeps the normalised query (the period as picked, the channels compared, the order).
    if request.htmx and not request.htmx.history_restore_request:
        return push_url(_render(request, scope, "analytics/insights.html#body", context), context["page_url"])
    extra = {
        "form_url": scope.page_url().split("?")[0],
        "all_url": _url("insights", scope.access, dict(scope.period.params())),
        "period_max": selectors.last_complete_day(),
    }
    return _render(request, scope, "analytics/insights.html", {**context, **extra})


@workspace_view(Capability.INSIGHTS_VIEW)
@require_GET
def insights(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    """The workspace's insights: every channel added up, or the channels picked side by side."""
    return _page(request, _scope(request, access))


@workspace_view(Capability.INSIGHTS_VIEW)
@require_GET
def channel_insights(request: HttpRequest, access: WorkspaceAccess, channel_id: UUID) -> HttpResponse:
    """One channel's insights, with the series only its platform has."""
    return _page(request, _scope(request, access, channel_id))


# --- Data ---------------------------------------------------------------------------------------------------------
@workspace_view(Capability.INSIGHTS_VIEW)
@require_GET
def chart_data(request: HttpRequest, access: WorkspaceAccess, chart: str) -> HttpResponse:
    """One chart's data as stored: {"title", "labels", "datasets": [{"label", "data"}], "unit"}; null = no figure."""
    d = _chart_def(chart)
    scope = _scope(request, access)
    return JsonResponse(d.build(scope).as_json())


def _filename(scope: Scope, what: str) -> str:
    name = slugify(scope.workspace.name) or "workspace"
    return f"{name}-{what}-{scope.period.start.isoformat()}-{scope.period.end.isoformat()}.csv"


@workspace_view(Capability.INSIGHTS_VIEW)
@require_GET
def chart_csv(request: HttpRequest, access: WorkspaceAccess, chart: str) -> HttpResponse:
    d = _chart_def(chart)
    scope = _scope(request, access)
    response = HttpResponse(selectors.chart_csv(d.build(scope)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(scope, chart)}"'
    return response


class _Echo:
    def write(self, value: str) -> str:
        return value


@workspace_view(Capability.INSIGHTS_VIEW)
@require_GET
def posts_csv(request: HttpRequest, access: WorkspaceAccess) -> StreamingHttpResponse:
    """Every post published in the period on the selected channels, with every figure stored for it."""
    scope = _scope(request, access)
    extra = selectors.post_metric_names()
    tz = scope.workspace.zoneinfo
    header = [
        "Published",
        "Channel",
        "Platform",
        "Type",
        "Media type",
        "Caption",
        "Link",
        "Post id",
        *(selectors.POST_ORDERS[c] for c in selectors.POST_COLUMNS),
        *extra,
        "Final",
    ]

    def rows() -> Iterator[list[object]]:
        yield header
        for p in selectors.posts_for_export(scope.workspace, scope.selected, scope.period):
            yield [
                p.published_at.astimezone(tz).isoformat(timespec="minutes"),
                p.channel.display_name,
                p.channel.get_platform_display(),
                p.get_kind_display(),
                p.media_type,
                p.caption,
                p.permalink,
                p.external_id,
                *(getattr(p, c) for c in selectors.POST_COLUMNS),
                *((p.metrics or {}).get(m) for m in extra),
                "yes" if p.final else "no",
            ]

    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow([selectors.csv_cell(v) for v in row]) for row in rows()),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(scope, "posts")}"'
    return response


urlpatterns = [
    path("w/<uuid:workspace_id>/insights/", insights, name="insights"),
    path("w/<uuid:workspace_id>/insights/c/<uuid:channel_id>/", channel_insights, name="channel_insights"),
    path("w/<uuid:workspace_id>/insights/charts/<slug:chart>.json", chart_data, name="chart_data"),
    path("w/<uuid:workspace_id>/insights/charts/<slug:chart>.csv", chart_csv, name="chart_csv"),
    path("w/<uuid:workspace_id>/insights/posts.csv", posts_csv, name="posts_csv"),
]
