"""The insights selectors: periods, KPI cards, daily series, splits, top posts and CSV, from stored rows only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from analytics import selectors
from analytics.selectors import Period, period_from_params
from tests.analytics import factories as f
from tests.factories import WorkspaceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.no_sandbox]

WEEK = Period(date(2025, 3, 10), date(2025, 3, 16))  # the week shown; the week before is 3–9 March
BEFORE = date(2025, 3, 3)


@pytest.fixture
def ig(workspace):
    return f.channel(workspace, 1)


@pytest.fixture
def fb(workspace):
    return f.channel(workspace, 2, instagram=False)


# --- Periods -------------------------------------------------------------------------------------------------------
TODAY = date(2025, 6, 15)


@pytest.mark.parametrize(
    ("params", "start", "end", "preset"),
    [
        ({}, date(2025, 5, 18), date(2025, 6, 14), "28"),
        ({"range": "7"}, date(2025, 6, 8), date(2025, 6, 14), "7"),
        ({"range": "90"}, date(2025, 3, 17), date(2025, 6, 14), "90"),
        ({"range": "12"}, date(2025, 5, 18), date(2025, 6, 14), "28"),
        ({"range": "x"}, date(2025, 5, 18), date(2025, 6, 14), "28"),
        ({"start": "2025-01-01", "end": "2025-01-31"}, date(2025, 1, 1), date(2025, 1, 31), ""),
        ({"range": "custom", "start": "2025-01-31", "end": "2025-01-01"}, date(2025, 1, 1), date(2025, 1, 31), ""),
        ({"start": "2025-06-01", "end": "2025-07-01"}, date(2025, 6, 1), date(2025, 6, 14), ""),  # ends yesterday
        ({"start": "2025-06-01"}, date(2025, 6, 1), date(2025, 6, 14), ""),
        ({"start": "2020-01-01", "end": "2025-06-14"}, date(2023, 6, 15), date(2025, 6, 14), ""),  # two years
        ({"range": "7", "start": "2025-01-01", "end": "2025-01-31"}, date(2025, 6, 8), date(2025, 6, 14), "7"),
        ({"start": "not a date", "end": "2025-13-01"}, date(2025, 5, 18), date(2025, 6, 14), "28"),
    ],
)
def test_period_from_params(params, start, end, preset):
    period = period_from_params(params, today=TODAY)
    assert (period.start, period.end, period.preset) == (start, end, preset)
    assert period_from_params(period.params(), today=TODAY) == period


def test_period_days_previous_and_label():
    assert WEEK.days == 7
    assert WEEK.previous() == Period(date(2025, 3, 3), date(2025, 3, 9))
    assert WEEK.dates()[0] == date(2025, 3, 10) and len(WEEK.dates()) == 7
    assert WEEK.label == "10–16 Mar 2025"
    assert Period(date(2024, 12, 30), date(2025, 1, 5)).label == "30 Dec 2024 – 5 Jan 2025"


# --- KPI cards -----------------------------------------------------------------------------------------------------
def _card(cards, key):
    return next(c for c in cards if c.key == key)


def test_kpi_sums_the_period_across_platforms_and_compares_with_the_period_before(ig, fb):
    f.daily_rows(ig, "reach", BEFORE, [10] * 7 + [20, 20, 20, 20, 20, 20, 20])
    f.daily_rows(fb, "page_total_media_view_unique", WEEK.start, [5] * 7)
    f.daily_rows(fb, "reach", WEEK.start, [1000] * 7)  # an Instagram metric name on a Page is not its reach

    reach = _card(selectors.kpi_cards([ig, fb], WEEK), "reach")

    assert (reach.value, reach.previous) == (175, 70)
    assert reach.change_pct == 150.0
    assert (reach.days_available, reach.days, reach.partial) == (7, 7, False)


def test_kpi_counts_a_day_with_a_figure_on_any_channel_and_says_when_partial(ig, fb):
    f.daily_rows(ig, "views", WEEK.start, [3, None, None, 4, None, None, None])
    f.daily_rows(fb, "page_media_view", WEEK.start, [None, 6, None, None, None, None, None])

    views = _card(selectors.kpi_cards([ig, fb], WEEK), "views")

    assert views.value == 13
    assert (views.days_available, views.partial) == (3, True)
    assert views.previous is None and views.change_pct is None


def test_kpi_without_any_figure_is_not_available_never_zero(ig):
    f.daily_rows(ig, "total_interactions", WEEK.start, [None] * 7)

    engagement = _card(selectors.kpi_cards([ig], WEEK), "engagement")

    assert engagement.value is None and not engagement.available
    assert engagement.days_available == 0


def test_followers_add_up_each_channels_latest_figure(ig, fb):
    f.daily_rows(ig, "followers_count", BEFORE, [90] * 7 + [100, 101, 102, 103, None, None, None])
    f.daily_rows(fb, "page_follows", WEEK.start, [500, 510, None, None, None, None, 520])

    followers = _card(selectors.kpi_cards([ig, fb], WEEK), "followers")

    assert followers.value == 103 + 520
    assert followers.previous == 90
    # Only the Instagram account had a figure before: the change compares it alone (103 vs 90).
    assert followers.change_pct == 14.4


def test_kpi_cards_run_two_queries_whatever_the_data(workspace, django_assert_num_queries):
    channels = [f.channel(workspace, n, instagram=n % 2 == 0) for n in range(5)]
    for c in channels:
        f.daily_rows(c, "reach" if c.platform == "instagram" else "page_total_media_view_unique", BEFORE, [1] * 14)
    with django_assert_num_queries(2):
        selectors.kpi_cards(channels, WEEK)


def test_kpi_cards_of_no_channels_run_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        cards = selectors.kpi_cards([], WEEK)
    assert all(c.value is None for c in cards)


# --- Daily series --------------------------------------------------------------------------------------------------
def test_daily_series_keeps_missing_and_null_days_as_none(ig, fb):
    f.daily_rows(ig, "reach", WEEK.start, [10, None, 30])  # then nothing stored for four days
    f.daily_rows(fb, "page_total_media_view_unique", WEEK.start, [1, None, None, 4])

    chart = selectors.daily_series([ig, fb], "reach", WEEK)

    assert chart.labels == [d.isoformat() for d in WEEK.dates()]
    assert [d.values for d in chart.datasets] == [[11, None, 30, 4, None, None, None]]
    assert chart.partial and chart.missing == 4


def test_daily_series_per_channel_gives_one_dataset_per_channel(ig, fb):
    f.daily_rows(ig, "followers_count", WEEK.start, [100, 101])
    f.daily_rows(fb, "page_follows", WEEK.start, [None, 50])

    chart = selectors.daily_series([ig, fb], "followers", WEEK, per_channel=True)

    assert [(d.label, d.values[:3]) for d in chart.datasets] == [
        ("@account1", [100, 101, None]),
        ("Page 2", [None, 50, None]),
    ]


def test_series_only_reads_the_channels_given(workspace, ig):
    other = f.channel(WorkspaceFactory(agency=workspace.agency), 1)
    f.daily_rows(ig, "reach", WEEK.start, [1])
    f.daily_rows(other, "reach", WEEK.start, [1000])

    assert selectors.daily_series([ig], "reach", WEEK).datasets[0].values[0] == 1


def test_extra_charts_read_the_platforms_own_metrics(ig, fb):
    f.daily_rows(ig, "follows_and_unfollows", WEEK.start, [7], dimension="FOLLOWER")
    f.daily_rows(ig, "follows_and_unfollows", WEEK.start, [2], dimension="NON_FOLLOWER")
    f.daily_rows(fb, "page_daily_follows_unique", WEEK.start, [3])
    f.daily_rows(fb, "page_actions_post_reactions_total", WEEK.start, [4, 1], dimension="like")
    f.daily_rows(fb, "page_actions_post_reactions_total", WEEK.start, [None, 9], dimension="love")
    follows = next(e for e in selectors.EXTRA_CHARTS if e.slug == "follows")
    reactions = next(e for e in selectors.EXTRA_CHARTS if e.slug == "reactions")

    chart = selectors.extra_chart(follows, [ig, fb], WEEK)
    assert [(d.label, d.values[0]) for d in chart.datasets] == [("Follows", 10), ("Unfollows", 2)]

    chart = selectors.extra_chart(reactions, [fb], WEEK)
    assert [(d.label, d.values[:2]) for d in chart.datasets] == [("Love", [None, 9]), ("Like", [4, 1])]


# --- Splits, audience, hours ---------------------------------------------------------------------------------------
def test_content_type_split_adds_up_reach_and_views_by_type(ig, fb):
    f.daily_rows(ig, "reach", WEEK.start, [10, 5], dimension="REEL")
    f.daily_rows(ig, "reach", WEEK.start, [None, None], dimension="STORY")
    f.daily_rows(ig, "views", WEEK.start, [40], dimension="REEL")
    f.daily_rows(ig, "views", WEEK.start, [8], dimension="POST")
    f.daily_rows(ig, "reach", WEEK.start, [999])  # the total is not a content type
    f.daily_rows(ig, "reach", WEEK.previous().start, [999], dimension="REEL")  # outside the period

    chart = selectors.content_type_split([ig, fb], WEEK)

    assert chart.labels == ["Reels", "Posts", "Stories"]
    assert [(d.label, d.values) for d in chart.datasets] == [("Reach", [15, None, None]), ("Views", [40, 8, None])]


def test_audience_adds_up_the_channels_and_orders_each_breakdown(workspace, ig):
    ig2 = f.channel(workspace, 3)
    f.audience(ig, "follower_demographics", "age", {"25-34": 30, "18-24": 10})
    f.audience(ig2, "follower_demographics", "age", {"25-34": 5})
    f.audience(ig, "engaged_audience_demographics", "age", {"18-24": 4})
    f.audience(ig, "follower_demographics", "gender", {"U": 1, "M": 2, "F": 3})
    f.audience(ig, "follower_demographics", "city", None)  # Meta had none

    charts = selectors.audience([ig, ig2])

    assert charts["age"].labels == ["18-24", "25-34"]
    assert [d.values for d in charts["age"].datasets] == [[10, 35], [4, None]]
    assert charts["gender"].labels == ["Women", "Men", "Not specified"]
    assert [d.label for d in charts["gender"].datasets] == ["Followers"]  # no engaged audience by gender stored
    assert charts["city"].empty and charts["city"].labels == []


def test_best_hours_averages_by_hour_on_the_workspaces_clock(workspace, ig):
    # Europe/Rome is UTC+1 in January: 09:10 UTC is 10:10 there.
    jan = datetime(2025, 1, 15, 9, 10, tzinfo=UTC)
    f.post_insights(
        ig,
        [
            {"published_at": jan, "interactions": 10},
            {"published_at": jan + timedelta(days=1), "interactions": 21},
            {"published_at": jan + timedelta(days=2), "interactions": None},
            {"published_at": jan + timedelta(hours=8), "interactions": 4},
        ],
    )

    chart = selectors.best_hours(workspace, [ig])

    assert chart.labels[10] == "10:00"
    values = chart.datasets[0].values
    assert (values[10], values[18]) == (16, 4)  # (10 + 21) / 2 rounded; the post without a figure is left out
    assert sum(v is not None for v in values) == 2


# --- Posts ---------------------------------------------------------------------------------------------------------
def test_top_posts_of_the_period_best_first_posts_without_the_figure_last(workspace, ig):
    inside = datetime(2025, 3, 12, 12, tzinfo=UTC)
    f.post_insights(
        ig,
        [
            {"published_at": inside, "reach": 5, "views": 90, "caption": "small"},
            {"published_at": inside, "reach": None, "views": 1, "caption": "unknown"},
            {"published_at": inside, "reach": 50, "views": 9, "caption": "big"},
            # 16 March 23:30 in Rome is still inside the week; 17 March 00:30 in Rome is not.
            {"published_at": datetime(2025, 3, 16, 22, 30, tzinfo=UTC), "reach": 7, "caption": "late"},
            {"published_at": datetime(2025, 3, 16, 23, 30, tzinfo=UTC), "reach": 900, "caption": "next week"},
        ],
    )

    assert [p.caption for p in selectors.top_posts(workspace, [ig], WEEK)] == ["big", "late", "small", "unknown"]
    assert [p.caption for p in selectors.top_posts(workspace, [ig], WEEK, order="views", limit=2)] == ["small", "big"]
    assert selectors.top_posts(workspace, [ig], WEEK, order="nonsense")[0].caption == "big"


def test_top_posts_stay_in_the_workspace(workspace, ig):
    other_channel = f.channel(WorkspaceFactory(), 1)
    f.post_insight(other_channel, reach=1, published_at=datetime(2025, 3, 12, tzinfo=UTC))

    assert selectors.top_posts(workspace, [ig, other_channel], WEEK) == []


# --- CSV -----------------------------------------------------------------------------------------------------------
def test_chart_csv_has_a_row_per_label_and_empty_cells_for_missing_figures():
    chart = selectors.Chart(
        "Reach",
        ["2025-03-10", "2025-03-11"],
        [selectors.Dataset("@harbor", [5, None]), selectors.Dataset("=cmd()", [None, 0])],
    )

    rows = list(csv.reader(io.StringIO(selectors.chart_csv(chart))))

    assert rows == [["Date", "@harbor", "'=cmd()"], ["2025-03-10", "5", ""], ["2025-03-11", "", "0"]]
