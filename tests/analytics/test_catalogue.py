"""The metric catalogue against Meta's retirements: what SocialHub would ask Meta for is served by the configured
Graph version, and every metric says where it comes from and how it travels."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings

from analytics import catalogue
from analytics.catalogue import ALL_MEDIA, METRICS, RETIRED, Node
from analytics.models import PostInsight

pytestmark = pytest.mark.no_sandbox

# The versions Meta serves today (graph-api reference §0) and the one announced next.
VERSIONS = ("v21.0", "v22.0", "v23.0", "v24.0", "v25.0", "v26.0", "v27.0")
POST_COLUMNS = {f.name for f in PostInsight._meta.get_fields()} & {
    "reach", "views", "likes", "comments", "shares", "saves", "interactions"
}  # fmt: skip


def test_no_metric_served_by_the_configured_version_is_retired():
    retired = [
        f"{m.node}:{m.name} (retired: {catalogue.retired(m.name, m.node)})"
        for m in METRICS
        if m.served() and catalogue.retired(m.name, m.node) is not None
    ]
    assert not retired, f"the catalogue serves retired metrics under {settings.META_GRAPH_VERSION}: {retired}"


@pytest.mark.parametrize("version", VERSIONS)
def test_no_version_serves_a_retired_metric(version):
    """Each metric's version range agrees with the retirement table: a metric Meta stopped serving from a version
    on says so in its `until`."""
    clashes = [
        m.name for m in METRICS if m.served(version) and catalogue.retired(m.name, m.node, version=version) is not None
    ]
    assert clashes == []


@pytest.mark.parametrize("version", VERSIONS)
def test_requested_metrics_are_never_retired(version):
    names = set(RETIRED_NAMES_BY_NODE)
    asked = []
    for node in Node:
        product_types = ALL_MEDIA if node == Node.IG_MEDIA else ("",)
        for product_type in product_types:
            for metric in catalogue.requested(node, product_type=product_type, version=version):
                asked.append((metric.node, metric.name))
    assert asked, "the catalogue asks for nothing"
    assert not [(node, name) for node, name in asked if (node, name) in names]


RETIRED_NAMES_BY_NODE = {(r.node, r.name): r for r in RETIRED}


def test_retired_metrics_become_refused_on_their_dates():
    """`retired()` follows both ways Meta retires a metric: from a version on, and for every version from a day."""
    page_unique = RETIRED_NAMES_BY_NODE[(Node.PAGE, "page_impressions_unique")]
    assert catalogue.retired("page_impressions_unique", Node.PAGE, version="v25.0", today=dt.date(2026, 6, 1)) is None
    assert catalogue.retired("page_impressions_unique", Node.PAGE, version="v26.0", today=dt.date(2026, 6, 1))
    assert catalogue.retired("page_impressions_unique", Node.PAGE, version="v25.0", today=page_unique.all_versions_on)
    assert catalogue.retired("impressions", Node.IG_USER, version="v21.0", today=dt.date(2025, 1, 1)) is None
    assert catalogue.retired("impressions", Node.IG_USER, version="v22.0", today=dt.date(2025, 1, 1))
    assert catalogue.retired("reach", Node.IG_USER) is None


def test_every_metric_says_where_it_comes_from_and_how_it_travels():
    problems = []
    for m in METRICS:
        where = f"{m.node}:{m.name}"
        if not m.source.startswith("https://developers.facebook.com/docs/"):
            problems.append(f"{where}: source {m.source!r} is not a Meta documentation page")
        if not m.group or not m.label:
            problems.append(f"{where}: no group or label")
        if m.period not in ("day", "lifetime"):
            problems.append(f"{where}: period {m.period!r}")
        if m.node == Node.IG_USER and m.metric_type not in ("total_value", "time_series"):
            problems.append(f"{where}: an Instagram account metric needs metric_type")
        if m.node in (Node.IG_MEDIA, Node.PAGE_POST) and m.period != "lifetime":
            problems.append(f"{where}: post metrics are lifetime")
        if m.node == Node.IG_MEDIA and (not m.product_types or not set(m.product_types) <= set(ALL_MEDIA)):
            problems.append(f"{where}: product types {m.product_types}")
        if m.node != Node.IG_MEDIA and m.product_types:
            problems.append(f"{where}: only Instagram media have product types")
        if m.column and (m.node not in (Node.IG_MEDIA, Node.PAGE_POST) or m.column not in POST_COLUMNS):
            problems.append(f"{where}: column {m.column!r} is not a PostInsight figure")
        if m.until and catalogue.version_tuple(m.until) <= catalogue.version_tuple(m.since):
            problems.append(f"{where}: served from {m.since} until {m.until}")
    assert problems == []


def test_names_are_unique_per_node():
    keys = [(m.node, m.name) for m in METRICS]
    assert len(keys) == len(set(keys))


def test_a_group_is_one_request():
    """One group travels as one request: its metrics share the node, period, metric_type and breakdown."""
    groups: dict[str, set[tuple]] = {}
    for m in METRICS:
        groups.setdefault(m.group, set()).add((m.node, m.period, m.metric_type, m.breakdown))
    assert {name: shapes for name, shapes in groups.items() if len(shapes) > 1} == {}


def test_each_column_is_filled_once_per_kind():
    for node, product_types in ((Node.IG_MEDIA, ALL_MEDIA), (Node.PAGE_POST, ("",))):
        for product_type in product_types:
            columns = [m.column for m in catalogue.requested(node, product_type=product_type) if m.column]
            assert len(columns) == len(set(columns)), (node, product_type, columns)


def test_the_issue_metrics_are_all_requested():
    """What issue 14 lists for Instagram accounts and Pages is asked for under the configured version."""
    ig = {m.name for m in catalogue.requested(Node.IG_USER)}
    assert {
        "reach", "views", "accounts_engaged", "total_interactions", "likes", "comments", "shares", "saves", "replies",
        "profile_links_taps", "follows_and_unfollows", "follower_count", "follower_demographics",
        "engaged_audience_demographics",
    } <= ig  # fmt: skip
    page = {m.name for m in catalogue.requested(Node.PAGE)}
    assert {
        "page_media_view", "page_total_media_view_unique", "page_post_engagements", "page_follows",
        "page_daily_follows_unique", "page_daily_unfollows_unique", "page_video_views",
        "page_actions_post_reactions_total",
    } <= page  # fmt: skip
    for kind in ALL_MEDIA:
        assert {"reach", "views"} <= {m.name for m in catalogue.requested(Node.IG_MEDIA, product_type=kind)}
    assert "replies" in {m.name for m in catalogue.requested(Node.IG_MEDIA, product_type="STORY")}
    assert "likes" not in {m.name for m in catalogue.requested(Node.IG_MEDIA, product_type="STORY")}


def test_retirements_name_meta_pages_and_existing_replacements():
    for r in RETIRED:
        assert r.source.startswith("https://developers.facebook.com/docs/"), r
        if r.replacement:
            replacement = catalogue.metric(r.replacement, r.node)
            assert replacement.served(), f"{r.name} is replaced by {r.replacement}, which is not served"


def test_kpis_come_from_served_metrics():
    for kpi in catalogue.KPIS:
        for platform, node in (("instagram", Node.IG_USER), ("facebook_page", Node.PAGE)):
            name = kpi.metric_for(platform)
            if name == catalogue.FOLLOWERS_TOTAL:
                continue
            assert catalogue.metric(name, node).served(), (kpi.key, platform, name)
