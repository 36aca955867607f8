"""The insights sync against the sandbox (real HTTP): backfill and incremental reads of Pages and Instagram accounts
(batched on graph.facebook.com, one by one on graph.instagram.com), a backfill stopped part-way going on where it
stopped, "not available" kept apart from 0, retired metrics refused by Meta and never asked for, a refused group not
losing the others, posts by kind and read less often as they age, the audience, Meta's slow-down, the hold a running
sync keeps on its channel, and the tasks that queue it all."""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import threading

import pytest
from django.core.cache import cache
from django.utils import timezone
from PIL import Image

from accounts.models import ChannelStatus
from analytics import catalogue, tasks
from analytics.catalogue import Metric, Node
from analytics.models import Audience, DailyMetric, InsightSync, PostInsight, PostKind
from analytics.services import sync
from analytics.services.sync import channel_ids_due, sync_channel
from socialhub.graph import GraphClient, GraphError

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
RETIRED_NAMES = {r.name for r in catalogue.RETIRED}


def stored(channel, metric: str, day: dt.date, dimension: str = ""):
    return DailyMetric.objects.get(channel=channel, metric=metric, dimension=dimension, date=day).value


def served(sandbox_control, object_id: str, metric: str, day: dt.date | None, dimension: str = ""):
    return sandbox_control.insights_value(object_id, metric, day.isoformat() if day else None, dimension=dimension)


def day_metrics(node: Node) -> list[Metric]:
    return [m for ms in catalogue.groups(node).values() for m in ms if m.period == "day"]


def spans(reads, object_id: str) -> list[tuple[str, dt.date, dt.date]]:
    """(metric group, first day, last day) of each account read of `object_id`, in the order asked."""
    return [
        (
            r.params["metric"],
            dt.datetime.fromtimestamp(int(r.params["since"]), dt.UTC).date(),
            dt.datetime.fromtimestamp(int(r.params["until"]), dt.UTC).date() - DAY,
        )
        for r in reads
        if r.path == f"/{object_id}/insights" and r.params.get("period") == "day"
    ]


def insights_read(graph_calls, object_id: str) -> bool:
    return any(r.path == f"/{object_id}/insights" for r in graph_calls.reads())


# --- backfill ----------------------------------------------------------------------------------------------------
def test_page_backfill_stores_two_years_as_meta_serves_them(
    insights_channels, sandbox_control, sandbox_now, graph_calls
):
    page = insights_channels["page"]
    now = sandbox_now()
    today = now.date()

    result = sync_channel(page, now=now)

    assert result.errors == [] and not result.postponed
    state = InsightSync.objects.get(channel=page)
    assert state.backfilled_at == now and state.synced_through == today - DAY and state.account_synced_at == now
    assert state.workspace_id == page.workspace_id and state.last_error == "" and state.next_run_at is None
    days = DailyMetric.objects.filter(channel=page, metric="page_media_view", dimension="")
    assert days.count() == 730
    assert min(days.values_list("date", flat=True)) == today - dt.timedelta(days=730)
    for day in (today - DAY, today - dt.timedelta(days=45), today - dt.timedelta(days=400), today - 730 * DAY):
        for metric in day_metrics(Node.PAGE):
            assert stored(page, metric.name, day) == served(sandbox_control, page.external_id, metric.name, day)
        for reaction in ("like", "love"):
            expected = served(sandbox_control, page.external_id, "page_actions_post_reactions_total", day, reaction)
            if expected is not None:
                assert stored(page, "page_actions_post_reactions_total", day, reaction) == expected
    # Page spans of at most 90 days: 730 days in 9 spans per group (3 groups), oldest first, each asked once and
    # all in one batch request; then one batch with the posts' two groups each.
    groups = [",".join(m.name for m in g) for g in catalogue.groups(Node.PAGE).values()]
    asked = spans(graph_calls.reads(), page.external_id)
    assert len(asked) == len(set(asked)) == 9 * len(groups) == 27
    for group in groups:
        mine = [(first, last) for g, first, last in asked if g == group]
        assert mine[0][0] == today - 730 * DAY and mine[-1][1] == today - DAY
        assert all(b[0] == a[1] + DAY and (a[1] - a[0]).days < 90 for a, b in zip(mine, mine[1:], strict=False))
    assert [first for _, first, _ in asked] == sorted(first for _, first, _ in asked)
    posts = PostInsight.objects.filter(channel=page).count()
    assert posts and graph_calls.batch_sizes() == [27, 2 * posts]
    assert not [c for c in graph_calls if c.path.endswith("/insights")]  # no insights read outside a batch


def test_instagram_backfill_through_facebook_login(insights_channels, sandbox_control, sandbox_now):
    ig = insights_channels["ig"]
    now = sandbox_now()
    today = now.date()

    result = sync_channel(ig, now=now)

    assert result.errors == [], result.errors
    state = InsightSync.objects.get(channel=ig)
    assert state.backfilled_at == now and state.synced_through == today - DAY
    reach_days = DailyMetric.objects.filter(channel=ig, metric="reach", dimension="")
    assert reach_days.count() == 90
    for day in (today - DAY, today - dt.timedelta(days=17), today - dt.timedelta(days=90)):
        for metric in day_metrics(Node.IG_USER):
            if metric.name == "follower_count" and day < today - dt.timedelta(days=30):
                continue
            assert stored(ig, metric.name, day) == served(sandbox_control, ig.external_id, metric.name, day), metric
        for product_type in ("REEL", "POST"):
            expected = served(sandbox_control, ig.external_id, "reach", day, product_type)
            assert stored(ig, "reach", day, product_type) == expected
        for follow_type in ("FOLLOWER", "NON_FOLLOWER"):
            expected = served(sandbox_control, ig.external_id, "follows_and_unfollows", day, follow_type)
            assert stored(ig, "follows_and_unfollows", day, follow_type) == expected
    # follower_count: the last 30 days only, so nothing is stored (not even "not available") further back
    follower_days = DailyMetric.objects.filter(channel=ig, metric="follower_count").values_list("date", flat=True)
    assert min(follower_days) == today - dt.timedelta(days=30) and len(follower_days) == 30
    # the follower total from the profile, for today
    followers = served(sandbox_control, ig.external_id, "followers_count", today)
    assert followers and stored(ig, catalogue.FOLLOWERS_TOTAL, today) == followers


def test_instagram_login_reads_one_request_at_a_time(insights_channels, sandbox_control, sandbox_now, settings):
    settings.ANALYTICS_BACKFILL_DAYS_INSTAGRAM = 5
    ig = insights_channels["ig_login"]
    now = sandbox_now()
    today = now.date()

    result = sync_channel(ig, now=now)

    assert result.errors == [], result.errors
    log = sandbox_control.requests(limit=1000)
    assert not [r for r in log if r["method"] == "POST"]  # graph.instagram.com serves no batch requests
    insights = [r for r in log if r["path"].endswith("/insights") and r["host"] == "graph.instagram.com"]
    assert insights, "the account's insights are read on graph.instagram.com"
    for day in (today - DAY, today - 5 * DAY):
        for metric in day_metrics(Node.IG_USER):
            assert stored(ig, metric.name, day) == served(sandbox_control, ig.external_id, metric.name, day)
    # one request per group and day (total_value), since = UTC midnight, until = the next one
    day_requests = [r["params"] for r in insights if r["params"].get("metric_type") == "total_value"]
    day_requests = [p for p in day_requests if p.get("period") == "day"]
    groups = catalogue.groups(Node.IG_USER).values()
    assert len(day_requests) == 5 * len(
        [g for g in groups if g[0].metric_type == "total_value" and g[0].period == "day"]
    )
    for params in day_requests:
        since, until = int(params["since"]), int(params["until"])
        assert until - since == 86400 and since % 86400 == 0


# --- incremental -------------------------------------------------------------------------------------------------
def test_a_day_later_only_the_new_and_late_days_are_read(insights_channels, sandbox_control, sandbox_now, settings):
    settings.ANALYTICS_BACKFILL_DAYS_PAGE = 20
    page = insights_channels["page"]
    first = sandbox_now()
    sync_channel(page, now=first)
    rows_before = DailyMetric.objects.filter(channel=page).count()

    sandbox_control.clock_advance(86400)
    second = sandbox_now()
    result = sync_channel(page, now=second)

    assert result.errors == []
    today = second.date()
    state = InsightSync.objects.get(channel=page)
    assert state.synced_through == today - DAY and state.backfilled_at == first
    # the new day is in, once per metric: no duplicate rows
    new_day = DailyMetric.objects.filter(channel=page, date=today - DAY, dimension="")
    assert sorted(new_day.values_list("metric", flat=True)) == sorted(m.name for m in day_metrics(Node.PAGE))
    expected = served(sandbox_control, page.external_id, "page_media_view", today - DAY)
    assert expected and stored(page, "page_media_view", today - DAY) == expected
    per_day = (
        len(day_metrics(Node.PAGE))
        + DailyMetric.objects.filter(channel=page, date=today - DAY, metric="page_actions_post_reactions_total")
        .exclude(dimension="")
        .count()
    )
    assert DailyMetric.objects.filter(channel=page).count() == rows_before + per_day
    # from two days before the last day stored on, days were read again (Meta's figures come up to 48 h late)
    reread = DailyMetric.objects.filter(channel=page, fetched_at=second, dimension="").values_list("date", flat=True)
    assert sorted(set(reread)) == [today - 4 * DAY, today - 3 * DAY, today - 2 * DAY, today - DAY]


def test_a_backfill_stopped_part_way_goes_on_where_it_stopped(
    insights_channels, sandbox_control, sandbox_now, midday, graph_calls, monkeypatch
):
    page = insights_channels["page"]
    today = midday.date()
    monkeypatch.setattr(sync, "BATCH_LIMIT", 3)  # one span (its three metric groups) per batch request
    sandbox_control.set_usage(capacity=20)  # Meta's usage of the app fills up as the backfill goes

    first = sync_channel(page, now=sandbox_now())

    state = InsightSync.objects.get(channel=page)
    done = spans(graph_calls.reads(), page.external_id)
    assert first.postponed > 0 and state.backfilled_at is None and state.account_synced_at is None
    assert 3 <= len(done) < 27 and len(done) % 3 == 0  # whole spans, oldest first, then it stopped
    # what was read is kept, and marked: up to the last day of the last span read
    assert done[0][1] == today - 730 * DAY and state.synced_through == done[-1][2]
    for day in (done[0][1], state.synced_through):
        assert stored(page, "page_media_view", day) == served(sandbox_control, page.external_id, "page_media_view", day)
    assert not DailyMetric.objects.filter(channel=page, date__gt=state.synced_through).exists()

    # An hour later Meta's window has moved on (and so has SocialHub's reading of it); the next run's first
    # batch fails on Meta's side.
    sandbox_control.clock_advance(3600)
    sandbox_control.set_usage(capacity=100000, clear=True)
    cache.clear()
    sandbox_control.fault(path=r"^/(v[\d.]+/)?$", method="POST", error={"preset": "transient"}, count=1)
    graph_calls.clear()
    now = sandbox_now()

    second = sync_channel(page, now=now)

    state.refresh_from_db()
    again = spans(graph_calls.reads(), page.external_id)
    assert again[0][1] == done[-1][2] + DAY  # on from where it stopped: no finished span read again
    assert len(done) + len(again) == 27 and not set(done) & set(again)
    failed = again[0][1]
    assert second.errors and state.next_run_at == now + sync.RETRY_TRANSIENT and state.backfilled_at is None
    # the spans after the one Meta failed on are stored, but the mark stays before the gap
    assert state.synced_through == failed - DAY
    assert stored(page, "page_media_view", today - DAY) is not None
    assert not DailyMetric.objects.filter(channel=page, date=failed).exists()

    sandbox_control.clock_advance(31 * 60)
    graph_calls.clear()
    now = sandbox_now()

    third = sync_channel(page, now=now)

    state.refresh_from_db()
    last = spans(graph_calls.reads(), page.external_id)
    assert third.errors == [] and last[0][1] == failed  # from the gap on
    assert state.backfilled_at == now and state.synced_through == today - DAY and state.next_run_at is None
    days = DailyMetric.objects.filter(channel=page, metric="page_media_view", dimension="")
    assert days.count() == 730
    assert stored(page, "page_media_view", failed) == served(
        sandbox_control, page.external_id, "page_media_view", failed
    )


def test_a_late_figure_replaces_not_available(insights_channels, sandbox_now, settings):
    settings.ANALYTICS_BACKFILL_DAYS_PAGE = 5
    page = insights_channels["page"]
    now = sandbox_now()
    yesterday = now.date() - DAY
    DailyMetric.objects.create(
        workspace=page.workspace, channel=page, metric="page_media_view", date=yesterday, value=None
    )

    sync_channel(page, now=now)

    assert stored(page, "page_media_view", yesterday) is not None


# --- not available -------------------------------------------------------------------------------------------------
def test_days_meta_serves_nothing_for_are_stored_as_not_available(
    insights_channels, sandbox_control, sandbox_now, settings
):
    settings.ANALYTICS_BACKFILL_DAYS_INSTAGRAM = 6
    ig = insights_channels["ig"]
    now = sandbox_now()
    today = now.date()
    gap = (today - 4 * DAY, today - 3 * DAY)
    sandbox_control.insights_unavailable(ig.external_id, gap[0].isoformat(), gap[1].isoformat())

    result = sync_channel(ig, now=now)

    assert result.errors == []
    for day in gap:
        for metric in day_metrics(Node.IG_USER):
            assert stored(ig, metric.name, day) is None, metric.name  # a row saying "not available", not 0
        assert not DailyMetric.objects.filter(channel=ig, date=day).exclude(dimension="").exists()
    assert stored(ig, "reach", today - 2 * DAY) == served(sandbox_control, ig.external_id, "reach", today - 2 * DAY)
    assert not DailyMetric.objects.filter(channel=ig, value=0, metric="reach", dimension="").exists()


def test_a_re_read_that_comes_back_empty_keeps_the_figure(insights_channels, sandbox_control, sandbox_now, settings):
    settings.ANALYTICS_BACKFILL_DAYS_PAGE = 5
    page = insights_channels["page"]
    now = sandbox_now()
    yesterday = now.date() - DAY
    sync_channel(page, now=now)
    figure = stored(page, "page_post_engagements", yesterday)
    assert figure is not None

    sandbox_control.insights_unavailable(page.external_id, yesterday.isoformat(), yesterday.isoformat())
    sync_channel(page, now=sandbox_now())

    assert stored(page, "page_post_engagements", yesterday) == figure


def test_a_small_account_has_no_follows_nor_audience(insights_channels, sandbox_control, sandbox_now, settings):
    settings.ANALYTICS_BACKFILL_DAYS_INSTAGRAM = 3
    ig = insights_channels["ig"]
    sandbox_control.insights_small(ig.external_id, small=True)

    result = sync_channel(ig, now=sandbox_now())

    assert result.errors == []
    yesterday = sandbox_now().date() - DAY
    assert stored(ig, "follows_and_unfollows", yesterday) is None
    assert stored(ig, "reach", yesterday) is not None
    audiences = Audience.objects.filter(channel=ig)
    assert audiences.count() == 8 and not audiences.filter(available=True).exists()


# --- retired and refused metrics -----------------------------------------------------------------------------------
def test_the_sandbox_refuses_retired_metrics(insights_channels, sandbox_now):
    ig, page = insights_channels["ig"], insights_channels["page"]
    today = sandbox_now().date()
    since, until = sync._midnight(today - DAY), sync._midnight(today)
    ig_client = GraphClient(access_token=ig.access_token)
    with pytest.raises(GraphError) as refused:
        ig_client.get(
            f"{ig.external_id}/insights",
            params={
                "metric": "impressions",
                "period": "day",
                "metric_type": "total_value",
                "since": since,
                "until": until,
            },  # fmt: skip
        )
    assert refused.value.code == 100 and "must be one of" in refused.value.meta_message
    page_client = GraphClient(access_token=page.access_token)
    with pytest.raises(GraphError) as refused:
        page_client.get(f"{page.external_id}/insights", params={"metric": "page_impressions", "period": "day"})
    assert refused.value.code == 100
    # the same call with what the catalogue asks for instead is served
    answer = page_client.get(f"{page.external_id}/insights", params={"metric": "page_media_view", "period": "day"})
    assert answer["data"]


def test_the_sync_never_asks_for_a_retired_metric(insights_channels, sandbox_now, settings, graph_calls):
    settings.ANALYTICS_BACKFILL_DAYS_INSTAGRAM = 2
    settings.ANALYTICS_BACKFILL_DAYS_PAGE = 2
    for channel in insights_channels.values():
        assert sync_channel(channel, now=sandbox_now()).errors == []

    asked = {name for r in graph_calls.reads() for name in r.params.get("metric", "").split(",") if name}

    assert graph_calls.batch_sizes(), "batch operations are looked into too"
    assert asked & RETIRED_NAMES == set()
    assert asked <= {m.name for m in catalogue.METRICS}
    assert {"reach", "page_media_view", "post_media_view", "follower_demographics"} <= asked


@pytest.fixture
def retired_in_a_group(monkeypatch):
    """The catalogue with a retired metric slipped into one Instagram and one Page group, past its own guard."""
    extra = (
        Metric("impressions", Node.IG_USER, "Impressions", "ig_profile", metric_type="total_value"),
        Metric("page_impressions", Node.PAGE, "Impressions", "page_follows"),
    )
    monkeypatch.setattr(catalogue, "METRICS", catalogue.METRICS + extra)
    kept = tuple(r for r in catalogue.RETIRED if r.name not in ("impressions", "page_impressions"))
    monkeypatch.setattr(catalogue, "RETIRED", kept)


def test_a_refused_group_in_a_batch_does_not_lose_the_others(
    insights_channels, sandbox_now, settings, retired_in_a_group
):
    settings.ANALYTICS_BACKFILL_DAYS_INSTAGRAM = 3
    settings.ANALYTICS_BACKFILL_DAYS_PAGE = 3
    ig, page = insights_channels["ig"], insights_channels["page"]
    now = sandbox_now()
    yesterday = now.date() - DAY

    ig_result = sync_channel(ig, now=now)
    page_result = sync_channel(page, now=now)

    # the refused groups stored nothing, not even "not available"
    assert not DailyMetric.objects.filter(channel=ig, metric__in=["impressions", "profile_links_taps"]).exists()
    refused = ["page_follows", "page_daily_follows_unique", "page_daily_unfollows_unique"]
    assert not DailyMetric.objects.filter(channel=page, metric__in=refused).exists()
    # every other group is in
    assert stored(ig, "reach", yesterday) is not None and stored(ig, "likes", yesterday) is not None
    assert stored(page, "page_media_view", yesterday) is not None
    assert stored(page, "page_post_engagements", yesterday) is not None
    # the refusal is kept, in words, and the sync still counts as done (Meta will not change its mind)
    for channel, result, name in ((ig, ig_result, "impressions"), (page, page_result, "page_impressions")):
        state = InsightSync.objects.get(channel=channel)
        assert len(result.errors) == 1 and name in result.errors[0]
        assert name in state.last_error and state.last_error_at == now
        assert state.synced_through == yesterday and state.backfilled_at == now
    assert PostInsight.objects.filter(channel=ig).exists()


def test_a_clean_sync_clears_the_last_error(insights_channels, sandbox_now, settings):
    settings.ANALYTICS_BACKFILL_DAYS_PAGE = 2
    page = insights_channels["page"]
    InsightSync.objects.create(channel=page, workspace=page.workspace, last_error="old", last_error_at=timezone.now())

    sync_channel(page, now=sandbox_now())

    state = InsightSync.objects.get(channel=page)
    assert state.last_error == "" and state.last_error_at is None


# --- posts ---------------------------------------------------------------------------------------------------------
def test_instagram_posts_get_their_lifetime_figures_by_kind(insights_channels, sandbox_control, sandbox_now, settings):
    settings.ANALYTICS_BACKFILL_DAYS_INSTAGRAM = 1
    ig = insights_channels["ig"]
    now = sandbox_now()

    sync_channel(ig, now=now)

    posts = PostInsight.objects.filter(channel=ig)
    assert posts.exists() and set(posts.values_list("kind", flat=True)) <= {PostKind.FEED, PostKind.REELS}
    assert posts.filter(kind=PostKind.REELS).exists() and posts.filter(kind=PostKind.FEED).exists()
    cutoff = now - dt.timedelta(days=settings.ANALYTICS_POST_DAYS)
    assert not posts.filter(published_at__lt=cutoff).exists()
    for post in posts:
        assert post.workspace_id == ig.workspace_id and post.fetched_at == now
        assert post.final == (now - post.published_at >= dt.timedelta(days=28))  # its one read after 28 days
        assert post.permalink.startswith("https://www.instagram.com/")
        if post.media_type != "VIDEO":  # a video's picture is its thumbnail_url, never the video's media_url
            assert post.thumbnail_url.startswith("http")
        for metric in catalogue.requested(Node.IG_MEDIA, product_type=post.kind):
            assert post.metrics[metric.name] == served(sandbox_control, post.external_id, metric.name, None), metric
        assert post.reach == post.metrics["reach"] and post.views == post.metrics["views"]
        assert post.saves == post.metrics["saved"] and post.interactions == post.metrics["total_interactions"]
        if post.kind == PostKind.REELS:
            assert "ig_reels_avg_watch_time" in post.metrics and "profile_visits" not in post.metrics
        else:
            assert "profile_visits" in post.metrics and "ig_reels_avg_watch_time" not in post.metrics


def test_page_posts_take_the_lifetime_row_and_their_fields(insights_channels, sandbox_control, sandbox_now, settings):
    settings.ANALYTICS_BACKFILL_DAYS_PAGE = 1
    page = insights_channels["page"]

    sync_channel(page, now=sandbox_now())

    posts = PostInsight.objects.filter(channel=page)
    assert posts.exists() and set(posts.values_list("kind", flat=True)) == {PostKind.PAGE_POST}
    client = GraphClient(access_token=page.access_token)
    for post in posts:
        reach = served(sandbox_control, post.external_id, "post_total_media_view_unique", None)
        assert reach and post.reach == reach  # the lifetime row, not the day row Meta sends with it (0)
        assert post.views == served(sandbox_control, post.external_id, "post_media_view", None)
        reactions = post.metrics["post_reactions_by_type_total"]
        assert isinstance(reactions, dict) and post.likes == sum(reactions.values())
        facts = client.get(post.external_id, fields="shares,comments.limit(0).summary(true)")
        assert post.comments == facts["comments"]["summary"]["total_count"]
        assert post.shares == (facts.get("shares") or {}).get("count", 0)
        assert post.interactions == post.likes + post.comments + post.shares
        assert post.permalink.startswith("https://www.facebook.com/")


NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


@pytest.mark.parametrize(
    ("kind", "age", "last_read", "final", "due"),
    [
        (PostKind.FEED, 30 * HOUR, dt.timedelta(minutes=5), False, True),  # younger than 2 days: every sync
        (PostKind.FEED, 3 * DAY, 6 * HOUR, False, False),  # 2 to 7 days old: once a day
        (PostKind.FEED, 3 * DAY, 23.5 * HOUR, False, True),  # (syncs run a few minutes early or late)
        (PostKind.REELS, 10 * DAY, 6 * DAY, False, False),  # 7 to 28 days old: once a week
        (PostKind.REELS, 10 * DAY, 7 * DAY, False, True),
        (PostKind.PAGE_POST, 28 * DAY, HOUR, False, True),  # 28 days old: one last read, then final
        (PostKind.PAGE_POST, 40 * DAY, 5 * DAY, True, False),
        (PostKind.FEED, 60 * DAY, None, False, True),  # never read yet
        (PostKind.STORY, 23 * HOUR, dt.timedelta(minutes=5), False, True),  # a story: every sync while it lives
        (PostKind.STORY, 25 * HOUR, None, False, False),
    ],
)
def test_posts_are_due_less_often_as_they_age(kind, age, last_read, final, due):
    read_at = None if last_read is None else NOW - last_read
    assert sync.post_due(kind=kind, published_at=NOW - age, last_read=read_at, final=final, now=NOW) is due


def test_posts_are_read_less_often_as_they_age(insights_channels, sandbox_control, sandbox_now, settings):
    settings.ANALYTICS_BACKFILL_DAYS_PAGE = 1
    page = insights_channels["page"]
    client = GraphClient(access_token=page.access_token)
    fresh = client.post(f"{page.external_id}/feed", data={"message": "Sunrise flow this Saturday"})["id"]
    start = sandbox_now()

    def read_at(offset: dt.timedelta) -> set[str]:
        """Sync with the sandbox's clock at `start + offset`: the posts whose figures were read."""
        if offset:
            sandbox_control.clock_set((start + offset).timestamp())
        now = sandbox_now()
        sync_channel(page, now=now)
        return set(PostInsight.objects.filter(channel=page, fetched_at=now).values_list("external_id", flat=True))

    first = read_at(dt.timedelta(0))

    posts = {p.external_id: p for p in PostInsight.objects.filter(channel=page)}
    assert fresh in first and first == set(posts)  # every post is read the first time
    settled = {i for i, p in posts.items() if start - p.published_at >= 28 * DAY}
    assert settled and settled == {i for i, p in posts.items() if p.final}  # its one read after 28 days
    assert read_at(6 * HOUR) == {fresh}  # younger than 2 days: every sync
    assert read_at(2 * DAY + 6 * HOUR) == {fresh}  # 2 to 7 days old: once a day
    assert read_at(2 * DAY + 12 * HOUR) == set()
    assert read_at(3 * DAY + 6 * HOUR) == {fresh}
    assert read_at(8 * DAY) == set()  # 7 to 28 days old: once a week
    assert read_at(10 * DAY + 6 * HOUR) == {fresh}
    assert not PostInsight.objects.get(channel=page, external_id=fresh).final
    assert read_at(28 * DAY + HOUR) == {fresh}  # 28 days old: the last read
    assert PostInsight.objects.get(channel=page, external_id=fresh).final
    assert read_at(35 * DAY) == set()


@pytest.fixture(scope="module")
def story_image_url(tmp_path_factory):
    """A 9:16 JPEG on a local web server, for the sandbox to fetch as Meta fetches `image_url`."""
    root = tmp_path_factory.mktemp("story")
    Image.new("RGB", (1080, 1920), (200, 120, 40)).save(root / "story.jpg", "JPEG")
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/story.jpg"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _publish_story(channel, image_url: str) -> str:
    client = GraphClient(access_token=channel.access_token)
    container = client.post(f"{channel.external_id}/media", data={"media_type": "STORIES", "image_url": image_url})
    return client.post(f"{channel.external_id}/media_publish", data={"creation_id": container["id"]})["id"]


def test_a_story_is_read_while_it_lives_then_final(
    insights_channels, sandbox_control, sandbox_now, settings, story_image_url, graph_calls
):
    settings.ANALYTICS_BACKFILL_DAYS_INSTAGRAM = 1
    ig = insights_channels["ig"]
    story_id = _publish_story(ig, story_image_url)

    # Just posted, nobody saw it yet: Meta says "Not enough viewers" and the figures are not available.
    result = sync_channel(ig, now=sandbox_now())
    assert result.errors == []
    story = PostInsight.objects.get(channel=ig, external_id=story_id)
    assert story.kind == PostKind.STORY and story.reach is None and story.metrics["reach"] is None
    assert not story.final

    sandbox_control.clock_advance(6 * 3600)
    graph_calls.clear()
    sync_channel(ig, now=sandbox_now(), backfill=False)
    assert insights_read(graph_calls, story_id) and graph_calls.batch_sizes()  # read while it lives, in a batch
    story.refresh_from_db()
    for metric in catalogue.requested(Node.IG_MEDIA, product_type="STORY"):
        assert story.metrics[metric.name] == served(sandbox_control, story_id, metric.name, None), metric
    assert story.reach and "replies" in story.metrics and "likes" not in story.metrics and not story.final
    figures = dict(story.metrics)

    sandbox_control.clock_advance(20 * 3600)  # the story is gone
    graph_calls.clear()
    sync_channel(ig, now=sandbox_now(), backfill=False)
    story.refresh_from_db()
    assert story.final and story.metrics == figures
    assert graph_calls.batch_sizes() and not insights_read(graph_calls, story_id)


# --- audience ------------------------------------------------------------------------------------------------------
def test_the_audience_is_stored_by_breakdown_at_most_daily(insights_channels, sandbox_control, sandbox_now, settings):
    settings.ANALYTICS_BACKFILL_DAYS_INSTAGRAM = 1
    ig = insights_channels["ig_login"]
    now = sandbox_now()

    result = sync_channel(ig, now=now)

    assert result.errors == [] and result.audience == 8
    rows = Audience.objects.filter(channel=ig)
    assert {(a.metric, a.breakdown) for a in rows} == {
        (metric, breakdown)
        for metric in ("follower_demographics", "engaged_audience_demographics")
        for breakdown in catalogue.AUDIENCE_BREAKDOWNS
    }
    ages = rows.get(metric="follower_demographics", breakdown="age")
    assert ages.available and ages.timeframe == catalogue.AUDIENCE_TIMEFRAME and ages.fetched_at == now
    assert set(ages.values) <= {"13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"}
    assert all(isinstance(n, int) and n > 0 for n in ages.values.values())
    countries = rows.get(metric="follower_demographics", breakdown="country").values
    total = served(sandbox_control, ig.external_id, "followers_count", now.date() - DAY)
    assert sum(countries.values()) <= total
    assert InsightSync.objects.get(channel=ig).audience_synced_at == now

    sandbox_control.clock_advance(6 * 3600)
    sync_channel(ig, now=sandbox_now())
    asked = [r for r in sandbox_control.requests(limit=200) if r["params"].get("period") == "lifetime"]
    assert len(asked) == 4  # the first sync's four breakdowns only: the next day's sync asks again


def test_pages_have_no_audience(insights_channels, sandbox_now, settings):
    settings.ANALYTICS_BACKFILL_DAYS_PAGE = 1
    page = insights_channels["page"]
    sync_channel(page, now=sandbox_now())
    assert not Audience.objects.filter(channel=page).exists()


# --- Meta's usage, tokens ------------------------------------------------------------------------------------------
def test_meta_asking_to_slow_down_holds_the_sync_back(insights_channels, sandbox_control, sandbox_now, settings):
    settings.ANALYTICS_BACKFILL_DAYS_INSTAGRAM = 3
    ig = insights_channels["ig_login"]
    sandbox_control.fault(path="insights", kind="error", error={"preset": "rate_limit_instagram"}, count=1)
    now = sandbox_now()

    result = sync_channel(ig, now=now)

    assert result.postponed > 0
    state = InsightSync.objects.get(channel=ig)
    assert state.next_run_at == now + dt.timedelta(seconds=result.postponed)
    assert state.backfilled_at is None and state.account_synced_at is None
    assert ig.pk not in channel_ids_due(now=now)
    assert ig.pk in channel_ids_due(now=state.next_run_at + dt.timedelta(seconds=1))
    # what was read before Meta asked (the follower total) is kept
    assert DailyMetric.objects.filter(channel=ig, metric=catalogue.FOLLOWERS_TOTAL).exists()


def test_a_refused_token_asks_for_a_reconnect(insights_channels, sandbox_control, sandbox_now):
    ig = insights_channels["ig_login"]
    sandbox_control.revoke_tokens(ig_user_id=ig.external_id)

    result = sync_channel(ig, now=sandbox_now())

    ig.refresh_from_db()
    assert ig.status == ChannelStatus.NEEDS_RECONNECT
    assert result.errors and "Reconnect" in result.errors[0]
    assert "Reconnect" in InsightSync.objects.get(channel=ig).last_error


# --- tasks ---------------------------------------------------------------------------------------------------------
def test_sync_channels_queues_due_channels_once(insights_channels, monkeypatch, settings):
    page, ig, ig_login = insights_channels["page"], insights_channels["ig"], insights_channels["ig_login"]
    now = timezone.now()
    InsightSync.objects.create(channel=page, workspace=page.workspace, account_synced_at=now - dt.timedelta(hours=1))
    InsightSync.objects.create(
        channel=ig,
        workspace=ig.workspace,
        account_synced_at=now - dt.timedelta(hours=settings.ANALYTICS_SYNC_HOURS + 1),
    )
    queued: list[int] = []
    monkeypatch.setattr(tasks.sync_channel, "delay", lambda channel_id, until: queued.append(channel_id))

    assert tasks.sync_channels() == 2
    assert sorted(queued) == sorted([ig.pk, ig_login.pk])  # the Page was synced an hour ago
    # a channel queued is held until its sync ran (or the hold runs out)
    assert tasks.sync_channels() == 0
    assert InsightSync.objects.get(channel=ig_login).next_run_at > now


def test_a_running_sync_holds_its_channel(insights_channels, monkeypatch, settings):
    """Connecting queues the backfill at once: the beat's next round, and a second task, leave the channel alone
    while that sync runs."""
    settings.ANALYTICS_BACKFILL_DAYS_PAGE = 3
    page, ig, ig_login = insights_channels["page"], insights_channels["ig"], insights_channels["ig_login"]
    queued: list[int] = []
    monkeypatch.setattr(tasks.sync_channel, "delay", lambda channel_id, until: queued.append(channel_id))
    meanwhile: dict[str, object] = {}
    real_batch = GraphClient.batch

    def batch(client, requests_):
        if not meanwhile:  # while the connect-time sync waits for Meta's first answer
            meanwhile.update(beat=tasks.sync_channels(), second=tasks.sync_channel(page.pk))
        return real_batch(client, requests_)

    monkeypatch.setattr(GraphClient, "batch", batch)

    assert tasks.sync_channel(page.pk) == "done"

    assert meanwhile == {"beat": 2, "second": "skipped"}
    assert sorted(queued) == sorted([ig.pk, ig_login.pk])  # not the Page
    state = InsightSync.objects.get(channel=page)
    assert state.backfilled_at is not None and state.next_run_at is None  # let go once done
    assert page.pk not in channel_ids_due()


def test_a_queued_sync_runs_under_its_own_hold_only(insights_channels, monkeypatch, settings):
    settings.ANALYTICS_BACKFILL_DAYS_INSTAGRAM = 1
    ig = insights_channels["ig_login"]
    queued: dict[int, str] = {}
    monkeypatch.setattr(tasks.sync_channel, "delay", lambda channel_id, until: queued.update({channel_id: until}))
    assert tasks.sync_channels() == 3
    hold = queued[ig.pk]

    # the connect-time task, started after the beat queued the channel: the beat's task reads it
    assert tasks.sync_channel(ig.pk) == "skipped"
    # a task from an earlier round, whose hold ran out and was replaced
    earlier = (dt.datetime.fromisoformat(hold) - dt.timedelta(minutes=15)).isoformat()
    assert tasks.sync_channel(ig.pk, earlier) == "skipped"
    assert not InsightSync.objects.get(channel=ig).account_synced_at

    assert tasks.sync_channel(ig.pk, hold) == "done"
    state = InsightSync.objects.get(channel=ig)
    assert state.backfilled_at is not None and state.next_run_at is None


def test_sync_channel_task_skips_channels_that_are_not_connected(insights_channels, sandbox_control, settings):
    settings.ANALYTICS_BACKFILL_DAYS_PAGE = 1
    page, ig = insights_channels["page"], insights_channels["ig"]
    ig.status = ChannelStatus.NEEDS_RECONNECT
    ig.save(update_fields=["status"])

    assert tasks.sync_channel(ig.pk) == "skipped"
    assert not InsightSync.objects.filter(channel=ig).exists()
    assert tasks.sync_channel(page.pk) == "done"
    assert InsightSync.objects.get(channel=page).backfilled_at is not None
