"""The insights sync against the sandbox (real HTTP): backfill and incremental reads of Pages and Instagram accounts
(batched on graph.facebook.com, one by one on graph.instagram.com), "not available" kept apart from 0, retired
metrics refused by Meta and never asked for, a refused group not losing the others, posts by kind, the audience,
Meta's slow-down, and the tasks that queue it all."""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import json
import threading
from urllib.parse import parse_qsl, urlsplit

import pytest
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


def requested_metrics(sandbox_control) -> list[tuple[str, str]]:
    """(path, metric) for every metric named in the calls the sandbox logged (batch operations included)."""
    found = []
    for entry in sandbox_control.requests(limit=1000):
        params = entry.get("params") or {}
        calls = [(entry["path"], params)]
        if "batch" in params:
            assert not params["batch"].endswith("…"), "the sandbox's log cut a batch short: send one by one"
            for op in json.loads(params["batch"]):
                url = urlsplit(op["relative_url"])
                calls.append((url.path, dict(parse_qsl(url.query))))
        for path, query in calls:
            for name in str(query.get("metric") or "").split(","):
                if name:
                    found.append((path, name))
    return found


# --- backfill ----------------------------------------------------------------------------------------------------
def test_page_backfill_stores_two_years_as_meta_serves_them(insights_channels, sandbox_control, sandbox_now):
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
    # Page spans of at most 90 days: 730 days in 9 spans per group, all in one batch request.
    batches = [r for r in sandbox_control.requests(limit=1000) if r["method"] == "POST" and r["path"].endswith("/")]
    assert len(batches) >= 1
    assert not [r for r in sandbox_control.requests(limit=1000) if r["path"].endswith("/insights")]


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


def test_the_sync_never_asks_for_a_retired_metric(
    insights_channels, sandbox_control, sandbox_now, settings, monkeypatch
):
    settings.ANALYTICS_BACKFILL_DAYS_INSTAGRAM = 2
    settings.ANALYTICS_BACKFILL_DAYS_PAGE = 2
    monkeypatch.setattr(sync, "BATCH_LIMIT", 1)  # one request per operation, so the sandbox logs each one whole
    for channel in insights_channels.values():
        assert sync_channel(channel, now=sandbox_now()).errors == []

    asked = requested_metrics(sandbox_control)

    assert {name for _, name in asked} & RETIRED_NAMES == set()
    catalogue_names = {m.name for m in catalogue.METRICS}
    assert {name for _, name in asked} <= catalogue_names
    assert {"reach", "page_media_view", "post_media_view", "follower_demographics"} <= {name for _, name in asked}


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
        assert post.workspace_id == ig.workspace_id and post.fetched_at == now and not post.final
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
    insights_channels, sandbox_control, sandbox_now, settings, story_image_url
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
    sync_channel(ig, now=sandbox_now(), backfill=False)
    story.refresh_from_db()
    for metric in catalogue.requested(Node.IG_MEDIA, product_type="STORY"):
        assert story.metrics[metric.name] == served(sandbox_control, story_id, metric.name, None), metric
    assert story.reach and "replies" in story.metrics and "likes" not in story.metrics and not story.final
    figures = dict(story.metrics)

    sandbox_control.clock_advance(20 * 3600)  # the story is gone
    sync_channel(ig, now=sandbox_now(), backfill=False)
    story.refresh_from_db()
    assert story.final and story.metrics == figures
    read_after = [r for r in sandbox_control.requests(limit=50) if r["path"].endswith(f"{story_id}/insights")]
    assert read_after == []


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
    monkeypatch.setattr(tasks.sync_channel, "delay", queued.append)

    assert tasks.sync_channels() == 2
    assert sorted(queued) == sorted([ig.pk, ig_login.pk])  # the Page was synced an hour ago
    # a channel queued is held until its sync ran (or the hold runs out)
    assert tasks.sync_channels() == 0
    assert InsightSync.objects.get(channel=ig_login).next_run_at > now


def test_sync_channel_task_skips_channels_that_are_not_connected(insights_channels, sandbox_control, settings):
    settings.ANALYTICS_BACKFILL_DAYS_PAGE = 1
    page, ig = insights_channels["page"], insights_channels["ig"]
    ig.status = ChannelStatus.NEEDS_RECONNECT
    ig.save(update_fields=["status"])

    assert tasks.sync_channel(ig.pk) == "skipped"
    assert not InsightSync.objects.filter(channel=ig).exists()
    assert tasks.sync_channel(page.pk) == "done"
    assert InsightSync.objects.get(channel=page).backfilled_at is not None
