"""Reading Meta's insights answers, with the shapes of graph-api reference §4 (Meta's documented examples)."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.services import answers

pytestmark = pytest.mark.no_sandbox

DAY = dt.date(2026, 8, 31)

# reference §4.1: total_value with a media_product_type breakdown
REACH_TOTAL = {
    "data": [
        {
            "name": "reach",
            "period": "day",
            "title": "Accounts reached",
            "description": "…",
            "total_value": {
                "value": 224,
                "breakdowns": [
                    {
                        "dimension_keys": ["media_product_type"],
                        "results": [
                            {"dimension_values": ["CAROUSEL_CONTAINER"], "value": 100},
                            {"dimension_values": ["POST"], "value": 124},
                        ],
                    }
                ],
            },
            "id": "17841405309211844/insights/reach/day",
        }
    ],
    "paging": {"previous": "https://graph.facebook.com/…", "next": "https://graph.facebook.com/…"},
}


def test_total_value_keeps_the_total_and_each_breakdown_value():
    readings = answers.total_value_readings(REACH_TOTAL, ["reach", "views"], DAY)
    assert readings["reach"] == {"": {DAY: 224}, "CAROUSEL_CONTAINER": {DAY: 100}, "POST": {DAY: 124}}
    # views was asked for and Meta gave no row: not available, never 0
    assert readings["views"] == {"": {DAY: None}}


def test_total_value_without_a_total_sums_the_breakdown():
    answer = {
        "data": [
            {
                "name": "follows_and_unfollows",
                "period": "day",
                "total_value": {
                    "breakdowns": [
                        {
                            "dimension_keys": ["follow_type"],
                            "results": [
                                {"dimension_values": ["FOLLOWER"], "value": 7},
                                {"dimension_values": ["NON_FOLLOWER"], "value": 2},
                            ],
                        }
                    ]
                },
            }
        ]
    }
    readings = answers.total_value_readings(answer, ["follows_and_unfollows"], DAY)
    assert readings["follows_and_unfollows"] == {"": {DAY: 9}, "FOLLOWER": {DAY: 7}, "NON_FOLLOWER": {DAY: 2}}


def test_an_empty_answer_is_not_available():
    assert answers.total_value_readings({"data": []}, ["likes"], DAY) == {"likes": {"": {DAY: None}}}
    row = {"name": "likes", "period": "day", "total_value": {}}
    assert answers.total_value_readings({"data": [row]}, ["likes"], DAY) == {"likes": {"": {DAY: None}}}


def test_a_zero_is_a_zero():
    row = {"name": "likes", "period": "day", "total_value": {"value": 0}}
    assert answers.total_value_readings({"data": [row]}, ["likes"], DAY) == {"likes": {"": {DAY: 0}}}


# reference §4.3: Page insights, time series; end_time closes the day (Pacific midnight, 07:00 or 08:00 UTC)
PAGE_SERIES = {
    "data": [
        {
            "name": "page_media_view",
            "period": "day",
            "values": [
                {"value": 310, "end_time": "2026-08-31T07:00:00+0000"},
                {"value": 295, "end_time": "2026-09-01T07:00:00+0000"},
                {"end_time": "2026-09-02T07:00:00+0000"},
            ],
            "title": "Views",
            "id": "1234567890/insights/page_media_view/day",
        },
        {
            "name": "page_actions_post_reactions_total",
            "period": "day",
            "values": [{"value": {"like": 3, "love": 1}, "end_time": "2026-09-01T07:00:00+0000"}],
        },
    ],
    "paging": {"previous": "…", "next": "…"},
}


def test_time_series_values_are_about_the_day_before_their_end_time():
    days = [dt.date(2026, 8, 30), dt.date(2026, 8, 31), dt.date(2026, 9, 1)]
    readings = answers.time_series_readings(PAGE_SERIES, ["page_media_view"], days)
    assert readings["page_media_view"][""] == {
        dt.date(2026, 8, 30): 310,
        dt.date(2026, 8, 31): 295,
        dt.date(2026, 9, 1): None,  # a value without a figure
    }


def test_time_series_object_values_are_stored_per_key_and_summed():
    days = [dt.date(2026, 8, 30), dt.date(2026, 8, 31)]
    readings = answers.time_series_readings(PAGE_SERIES, ["page_actions_post_reactions_total"], days)
    assert readings["page_actions_post_reactions_total"] == {
        "": {dt.date(2026, 8, 30): None, dt.date(2026, 8, 31): 4},
        "like": {dt.date(2026, 8, 31): 3},
        "love": {dt.date(2026, 8, 31): 1},
    }


def test_time_series_leaves_out_days_not_asked_for():
    readings = answers.time_series_readings(PAGE_SERIES, ["page_media_view"], [dt.date(2026, 8, 31)])
    assert readings["page_media_view"][""] == {dt.date(2026, 8, 31): 295}


def test_day_of_reads_meta_times():
    assert answers.day_of("2026-09-01T07:00:00+0000") == dt.date(2026, 8, 31)
    assert answers.day_of("2026-09-01T00:00:00Z") == dt.date(2026, 8, 31)
    assert answers.day_of("2026-09-01T08:00:00+01:00") == dt.date(2026, 8, 31)
    assert answers.day_of("soon") is None
    assert answers.day_of(None) is None


def test_post_lifetime_takes_the_lifetime_row():
    """reference §4.3 [OBS]: post_total_media_view_unique answers a lifetime row and a day row whose value is 0."""
    answer = {
        "data": [
            {"name": "post_total_media_view_unique", "period": "day", "values": [{"value": 0, "end_time": "…"}]},
            {"name": "post_total_media_view_unique", "period": "lifetime", "values": [{"value": 812}]},
            {
                "name": "post_reactions_by_type_total",
                "period": "lifetime",
                "values": [{"value": {"like": 5, "wow": 1}}],
            },
        ]
    }
    values = answers.lifetime_values(answer, ["post_total_media_view_unique", "post_reactions_by_type_total", "x"])
    assert values == {
        "post_total_media_view_unique": 812,
        "post_reactions_by_type_total": {"like": 5, "wow": 1},
        "x": None,
    }
    assert answers.as_count(values["post_reactions_by_type_total"]) == 6


def test_demographics_read_the_breakdown_after_the_timeframe():
    answer = {
        "data": [
            {
                "name": "follower_demographics",
                "period": "lifetime",
                "total_value": {
                    "breakdowns": [
                        {
                            "dimension_keys": ["timeframe", "country"],
                            "results": [
                                {"dimension_values": ["THIS_MONTH", "US"], "value": 120},
                                {"dimension_values": ["THIS_MONTH", "IT"], "value": 45},
                            ],
                        }
                    ]
                },
            }
        ]
    }
    assert answers.demographics(answer, "follower_demographics", "country") == {"US": 120, "IT": 45}
    assert answers.demographics(answer, "engaged_audience_demographics", "country") == {}
    plain = {"data": [{"name": "follower_demographics", "period": "lifetime", "total_value": {"breakdowns": [
        {"dimension_keys": ["age"], "results": [{"dimension_values": ["25-34"], "value": 9}]}]}}]}  # fmt: skip
    assert answers.demographics(plain, "follower_demographics", "age") == {"25-34": 9}
