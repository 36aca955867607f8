"""The insights selectors: periods, KPI cards, daily series, splits, top posts and CSV, from stored rows only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

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
        # Swapped first, then clamped to the last two years up to yesterday.
        ({"start": "2025-06-20", "end": "2025-06-01"}, date(2025, 6, 1), date(2025, 6, 14), ""),
        ({"start": "9999-12-31"}, date(2025, 6, 14), date(2025, 6, 14), ""),
        ({"start": "9999-12-31", "end": "0001-01-01"}, date(2023, 6, 15), date(2025, 6, 14), ""),
        # Nothing left once clamped, or a date whose range cannot be counted: the default range.
        ({"start": "2025-07-01", "end": "2025-08-01"}, date(2025, 5, 18), date(2025, 6, 14), "28"),
        ({"start": "0001-01-01", "end": "0001-01-05"}, date(2025, 5, 18), date(2025, 6, 14), "28"),
        ({"end": "0001-01-05"}, date(2025, 5, 18), date(2025, 6, 14), "28"),
    ],
)
def test_period_from_params(params, start, end, preset):
    period = period_from_params(params, today=TODAY)
    assert (period.start, period.end, period.preset) == (start, end, preset)
    assert period_from_params(period.params(), today=TODAY) == period


def test_days_are_utc_days_whatever_the_clock_of_the_moment_given():
    # 23:30 UTC on 14 June is already 15 June in Rome: the last day Meta has counted is still 13 June.
    late = datetime(2025, 6, 14, 23, 30, tzinfo=UTC)
    rome = late.astimezone(ZoneInfo("Europe/Rome"))

    assert rome.date() == date(2025, 6, 15)
    assert selectors.utc_today(now=rome) == selectors.utc_today(now=late) == date(2025, 6, 14)
    assert selectors.last_complete_day(now=rome) == date(2025, 6, 13)


def test_a_period_without_today_given_ends_on_the_last_complete_utc_day():
    yesterday = datetime.now(UTC).date() - timedelta(days=1)

    assert period_from_params({}).end == selectors.last_complete_day() == yesterday
    assert period_from_params({"start": "9999-01-01"}).end == yesterday


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
    f.daily_rows(ig, "reach", BEFORE, [10] * 7 + [20] * 7)
    f.daily_rows(fb, "page_total_media_view_unique", BEFORE, [0] * 7 + [5] * 7)
    f.daily_rows(fb, "reach", WEEK.start, [1000] * 7)  # an Instagram metric name on a Page is not its reach

    reach = _card(selectors.kpi_cards([ig, fb], WEEK), "reach")

    assert (reach.value, reach.previous) == (175, 70)
    assert reach.change_pct == 150.0
    assert (reach.days_available, reach.days, reach.partial) == (7, 7, False)
    assert (reach.channel_days_available, reach.channel_days) == (14, 14)
    assert not reach.like_for_like and reach.comparison == ""
    assert (reach.compare_value, reach.compare_previous) == (175, 70)


def test_kpi_counts_channel_days_and_says_when_some_are_missing(ig, fb):
    f.daily_rows(ig, "views", WEEK.start, [3, None, None, 4, None, None, None])
    f.daily_rows(fb, "page_media_view", WEEK.start, [None, 6, None, None, None, None, None])

    views = _card(selectors.kpi_cards([ig, fb], WEEK), "views")

    assert views.value == 13
    assert (views.days_available, views.channel_days_available, views.channel_days) == (3, 3, 14)
    assert views.partial and views.coverage == "3 of 14 channel-days"
    assert views.previous is None and views.change_pct is None


def test_a_channel_missing_a_day_makes_the_workspace_figure_partial(ig, fb):
    # Every day has a figure from some channel, but the Page has none on the last day.
    f.daily_rows(ig, "total_interactions", WEEK.start, [4] * 7)
    f.daily_rows(fb, "page_post_engagements", WEEK.start, [1] * 6 + [None])

    engagement = _card(selectors.kpi_cards([ig, fb], WEEK), "engagement")
    one_channel = _card(selectors.kpi_cards([fb], WEEK), "engagement")

    assert (engagement.value, engagement.days_available) == (34, 7)
    assert engagement.partial and engagement.coverage == "13 of 14 channel-days"
    assert one_channel.partial and one_channel.coverage == "6 of 7 days"


def test_the_change_compares_only_the_channel_days_with_a_figure_in_both_periods(ig, fb):
    # The week before is complete; this week the account's last day is not in yet and the Page only started.
    f.daily_rows(ig, "reach", BEFORE, [10] * 7 + [20] * 6 + [None])
    f.daily_rows(fb, "page_total_media_view_unique", WEEK.start, [5] * 7)

    reach = _card(selectors.kpi_cards([ig, fb], WEEK), "reach")

    assert (reach.value, reach.previous) == (155, 70)  # the whole of each period, as stored
    # Like for like: the account's first six days of each week, 120 vs 60 (not 155 vs 70, +121.4%).
    assert (reach.compared, reach.compare_value, reach.compare_previous) == (6, 120, 60)
    assert reach.change_pct == 100.0
    assert reach.like_for_like
    assert reach.comparison == "on the 6 of 14 channel-days with a figure in both periods"


def test_the_change_is_like_for_like_for_one_channel_too(ig):
    f.daily_rows(ig, "views", BEFORE, [None, 10, 10, 10, 10, 10, 10] + [30, 12, 12, 12, 12, 12, 12])

    views = _card(selectors.kpi_cards([ig], WEEK), "views")

    assert (views.value, views.previous, views.change_pct) == (102, 60, 20.0)  # 72 vs 60
    assert views.comparison == "on the 6 of 7 days with a figure in both periods"


def test_kpi_without_any_figure_is_not_available_never_zero(ig):
    f.daily_rows(ig, "total_interactions", WEEK.start, [None] * 7)

    engagement = _card(selectors.kpi_cards([ig], WEEK), "engagement")

    assert engagement.value is None and not engagement.available and not engagement.partial
    assert engagement.days_available == 0


def test_followers_add_up_each_channels_latest_figure(ig, fb):
    f.daily_rows(ig, "followers_count", BEFORE, [90] * 7 + [100, 101, 102, 103, None, None, None])
    f.daily_rows(fb, "page_follows", WEEK.start, [500, 510, None, None, None, None, 520])

    followers = _card(selectors.kpi_cards([ig, fb], WEEK), "followers")

    assert followers.value == 103 + 520
    assert followers.previous == 90
    assert not followers.partial  # both channels have a figure in the period
    # Only the Instagram account had a figure before: the change compares it alone (103 vs 90), and says so.
    assert (followers.compare_value, followers.compare_previous, followers.change_pct) == (103, 90, 14.4)
    assert followers.comparison == "based on 1 of 2 channels (those with a figure in both periods)"


def test_followers_say_how_many_channels_they_cover(workspace, ig, fb):
    quiet = f.channel(workspace, 3)
    f.daily_rows(ig, "followers_count", BEFORE, [90] * 14)
    f.daily_rows(fb, "page_follows", BEFORE, [500] * 7 + [550] * 7)

    followers = _card(selectors.kpi_cards([ig, fb, quiet], WEEK), "followers")

    assert followers.value == 640
    assert followers.partial and followers.coverage == "2 of 3 channels"
    assert (followers.compare_value, followers.compare_previous, followers.change_pct) == (640, 590, 8.5)
    assert followers.comparison == "based on 2 of 3 channels (those with a figure in both periods)"


def test_new_followers_on_instagram_are_the_follows_of_follows_and_unfollows(ig, fb):
    f.daily_rows(ig, "follows_and_unfollows", WEEK.start, [7, 8], dimension="FOLLOWER")
    f.daily_rows(ig, "follows_and_unfollows", WEEK.start, [50, 50], dimension="NON_FOLLOWER")  # unfollows
    f.daily_rows(ig, "follower_count", WEEK.start, [999, 999])  # served for 30 days only: not the KPI
    f.daily_rows(fb, "page_daily_follows_unique", WEEK.start, [3, 4])

    new = _card(selectors.kpi_cards([ig, fb], WEEK), "new_followers")
    chart = selectors.daily_series([ig, fb], "new_followers", WEEK)
    per_channel = selectors.daily_series([ig, fb], "new_followers", WEEK, per_channel=True)

    assert (new.value, new.channel_days_available) == (22, 4)
    assert chart.datasets[0].values[:3] == [10, 12, None]
    assert [d.values[:2] for d in per_channel.datasets] == [[7, 8], [3, 4]]


def test_reach_says_it_is_daily_reach_summed(ig):
    f.daily_rows(ig, "reach", WEEK.start, [5])

    reach = _card(selectors.kpi_cards([ig], WEEK), "reach")

    assert "Daily reach, summed" in reach.hint
    assert selectors.daily_series([ig], "reach", WEEK).note == reach.hint


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
    # Days 3 and 4 had one channel's figure only: no total (not 30 and 4, which would draw as dips).
    assert [d.values for d in chart.datasets] == [[11, None, None, None, None, None, None]]
    assert chart.datasets[0].incomplete == {2, 3}
    assert (chart.missing, chart.incomplete) == (4, 2) and chart.partial


def test_a_channel_without_a_figure_never_draws_the_total_as_a_dip(ig, fb):
    f.daily_rows(ig, "total_interactions", WEEK.start, [100] * 7)
    f.daily_rows(fb, "page_post_engagements", WEEK.start, [100, 100, None, 100, 100, 100, 100])

    total = selectors.daily_series([ig, fb], "engagement", WEEK)
    each = selectors.daily_series([ig, fb], "engagement", WEEK, per_channel=True)

    assert total.datasets[0].values == [200, 200, None, 200, 200, 200, 200]
    assert total.cells()[2] == ("2025-03-12", [(None, True)])
    assert [d.values[2] for d in each.datasets] == [100, None]
    assert not any(d.incomplete for d in each.datasets)


def test_a_total_of_series_only_some_platforms_have_counts_only_those_channels(ig, fb):
    taps = next(e for e in selectors.EXTRA_CHARTS if e.slug == "profile-links")
    f.daily_rows(ig, "profile_links_taps", WEEK.start, [6])

    chart = selectors.extra_chart(taps, [ig, fb], WEEK)

    assert chart.datasets[0].values[0] == 6 and not chart.incomplete


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
    f.daily_rows(fb, "page_daily_unfollows_unique", WEEK.start, [1])
    f.daily_rows(fb, "page_actions_post_reactions_total", WEEK.start, [4, 1], dimension="like")
    f.daily_rows(fb, "page_actions_post_reactions_total", WEEK.start, [None, 9], dimension="love")
    follows = next(e for e in selectors.EXTRA_CHARTS if e.slug == "follows")
    reactions = next(e for e in selectors.EXTRA_CHARTS if e.slug == "reactions")

    chart = selectors.extra_chart(follows, [ig, fb], WEEK)
    assert [(d.label, d.values[0]) for d in chart.datasets] == [("Follows", 10), ("Unfollows", 3)]

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
        ],
    )

    assert [p.caption for p in selectors.top_posts(workspace, [ig], WEEK)] == ["big", "small", "unknown"]
    assert [p.caption for p in selectors.top_posts(workspace, [ig], WEEK, order="views", limit=2)] == ["small", "big"]
    assert selectors.top_posts(workspace, [ig], WEEK, order="nonsense")[0].caption == "big"


def test_top_posts_are_those_of_the_periods_utc_days_like_the_charts(workspace, ig):
    # The workspace is in Rome (UTC+1 in March); the period's days are UTC days, as the charts count them.
    f.post_insights(
        ig,
        [
            {"published_at": datetime(2025, 3, 9, 23, 30, tzinfo=UTC), "reach": 1, "caption": "10 Mar in Rome"},
            {"published_at": datetime(2025, 3, 10, 0, 0, tzinfo=UTC), "reach": 2, "caption": "first minute"},
            {"published_at": datetime(2025, 3, 16, 23, 30, tzinfo=UTC), "reach": 3, "caption": "17 Mar in Rome"},
            {"published_at": datetime(2025, 3, 17, 0, 0, tzinfo=UTC), "reach": 4, "caption": "next week"},
        ],
    )

    shown = [p.caption for p in selectors.top_posts(workspace, [ig], WEEK)]
    exported = [p.caption for p in selectors.posts_for_export(workspace, [ig], WEEK)]

    assert shown == exported == ["17 Mar in Rome", "first minute"]


def test_top_posts_stay_in_the_workspace(workspace, ig):
    other_channel = f.channel(WorkspaceFactory(), 1)
    f.post_insight(other_channel, reach=1, published_at=datetime(2025, 3, 12, tzinfo=UTC))

    assert selectors.top_posts(workspace, [ig, other_channel], WEEK) == []


# --- CSV -----------------------------------------------------------------------------------------------------------
def test_chart_csv_has_a_row_per_label_and_empty_cells_for_missing_figures():
    chart = selectors.Chart(
        "Reach",
        ["2025-03-10", "2025-03-11"],
        [selectors.Dataset("Reach", [5, None]), selectors.Dataset("=cmd()", [None, 0])],
    )

    rows = list(csv.reader(io.StringIO(selectors.chart_csv(chart))))

    assert rows == [["Date", "Reach", "'=cmd()"], ["2025-03-10", "5", ""], ["2025-03-11", "", "0"]]


@pytest.mark.parametrize("text", ["@harbor", "@A1", "@Sheet1!A1", "=1+1", "+1", "-1", "\tcmd", "\rcmd"])
def test_csv_cells_a_spreadsheet_would_run_start_with_a_quote(text):
    assert selectors.csv_cell(text) == "'" + text


@pytest.mark.parametrize(("value", "cell"), [("Harbor @ home", "Harbor @ home"), (-5, -5), (0, 0), (None, "")])
def test_csv_cells_keep_plain_text_and_numbers(value, cell):
    assert selectors.csv_cell(value) == cell
