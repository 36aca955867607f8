"""The day and time a person types, turned into one moment in the workspace's time zone, around the two nights a
year the clocks change."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from publishing.services.local_time import AmbiguousLocalTime, NonexistentLocalTime, to_aware

pytestmark = pytest.mark.no_sandbox

BERLIN = ZoneInfo("Europe/Berlin")
SPRING_FORWARD, FALL_BACK = date(2026, 3, 29), date(2026, 10, 25)  # Europe: last Sundays of March and October


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_an_ordinary_time_is_that_time_in_the_zone():
    moment = to_aware(date(2026, 7, 1), time(9, 30), BERLIN)
    assert moment == utc(2026, 7, 1, 7, 30)
    assert moment.tzinfo == UTC and moment.astimezone(BERLIN).utcoffset() == timedelta(hours=2)
    assert to_aware(date(2026, 1, 15), time(9, 30), BERLIN) == utc(2026, 1, 15, 8, 30)


@pytest.mark.parametrize("at", [time(2, 0), time(2, 30), time(2, 59)])
def test_a_time_the_clocks_skip_is_refused_in_plain_words(at):
    with pytest.raises(NonexistentLocalTime) as caught:
        to_aware(SPRING_FORWARD, at, BERLIN)
    problem = caught.value
    assert problem.change.reads_before == datetime(2026, 3, 29, 2, 0)
    assert problem.change.reads_after == datetime(2026, 3, 29, 3, 0)
    assert problem.change.at == utc(2026, 3, 29, 1, 0)
    assert problem.clock_reads.replace(tzinfo=None) == datetime(2026, 3, 29, 3, at.minute)


def test_the_message_for_a_skipped_time():
    with pytest.raises(NonexistentLocalTime) as caught:
        to_aware(SPRING_FORWARD, time(2, 30), BERLIN)
    assert str(caught.value) == (
        "There is no 02:30 on Sunday 29 March 2026 in Europe/Berlin: the clocks jump from 02:00 straight to 03:00 "
        "(summer time starts). Pick another time, for example 03:30."
    )


@pytest.mark.parametrize(
    ("at", "expected"), [(time(1, 59), utc(2026, 3, 29, 0, 59)), (time(3, 0), utc(2026, 3, 29, 1))]
)
def test_the_times_around_the_gap_exist(at, expected):
    assert to_aware(SPRING_FORWARD, at, BERLIN) == expected


def test_a_time_the_clocks_show_twice_asks_which_one():
    with pytest.raises(AmbiguousLocalTime) as caught:
        to_aware(FALL_BACK, time(2, 30), BERLIN)
    problem = caught.value
    assert str(problem) == (
        "02:30 on Sunday 25 October 2026 happens twice in Europe/Berlin: the clocks go back from 03:00 to 02:00 "
        "(summer time ends). Choose which 02:30 you mean."
    )
    first, second = problem.choices
    assert (first.fold, first.label, first.moment) == (
        0,
        "The first 02:30 (summer time, UTC+02:00)",
        utc(2026, 10, 25, 0, 30),
    )
    assert (second.fold, second.label, second.moment) == (
        1,
        "The second 02:30, an hour later (winter time, UTC+01:00)",
        utc(2026, 10, 25, 1, 30),
    )


@pytest.mark.parametrize(("fold", "expected"), [(0, utc(2026, 10, 25, 0, 30)), (1, utc(2026, 10, 25, 1, 30))])
def test_the_chosen_one_is_used(fold, expected):
    moment = to_aware(FALL_BACK, time(2, 30), BERLIN, fold=fold)
    assert moment == expected
    assert moment.astimezone(UTC).astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 10, 25, 2, 30)


@pytest.mark.parametrize(
    ("at", "ambiguous"), [(time(1, 59), False), (time(2, 0), True), (time(2, 59), True), (time(3, 0), False)]
)
def test_only_the_repeated_hour_is_ambiguous(at, ambiguous):
    if ambiguous:
        with pytest.raises(AmbiguousLocalTime):
            to_aware(FALL_BACK, at, BERLIN)
    else:
        assert to_aware(FALL_BACK, at, BERLIN, fold=1) == to_aware(FALL_BACK, at, BERLIN)  # fold ignored


def test_other_zones_and_hemispheres():
    new_york = ZoneInfo("America/New_York")
    with pytest.raises(NonexistentLocalTime, match="from 02:00 straight to 03:00"):
        to_aware(date(2026, 3, 8), time(2, 15), new_york)
    with pytest.raises(AmbiguousLocalTime) as caught:
        to_aware(date(2026, 11, 1), time(1, 30), new_york)
    assert [c.label for c in caught.value.choices] == [
        "The first 01:30 (summer time, UTC-04:00)",
        "The second 01:30, an hour later (winter time, UTC-05:00)",
    ]
    sydney = ZoneInfo("Australia/Sydney")  # summer time ends in April there
    assert to_aware(date(2026, 4, 5), time(2, 30), sydney, fold=1) == utc(2026, 4, 4, 16, 30)
    with pytest.raises(AmbiguousLocalTime) as caught:
        to_aware(date(2026, 4, 5), time(1, 45), ZoneInfo("Australia/Lord_Howe"))  # a half-hour change
    assert caught.value.choices[1].label == "The second 01:45, 30 minutes later (winter time, UTC+10:30)"


def test_dublin_whose_winter_time_is_the_daylight_saving_exception():
    with pytest.raises(AmbiguousLocalTime) as caught:
        to_aware(date(2026, 10, 25), time(1, 30), ZoneInfo("Europe/Dublin"))
    assert [c.label for c in caught.value.choices] == [
        "The first 01:30 (summer time, UTC+01:00)",
        "The second 01:30, an hour later (winter time, UTC+00:00)",
    ]


def test_a_zone_without_clock_changes_never_asks():
    for day in (SPRING_FORWARD, FALL_BACK):
        assert to_aware(day, time(2, 30), ZoneInfo("UTC")) == utc(day.year, day.month, day.day, 2, 30)
