from __future__ import annotations

import json
import time

import pytest

from socialhub.graph import usage
from socialhub.graph.usage import Usage, parse_app_usage, parse_buc_usage, usage_from_headers, wait_seconds

pytestmark = pytest.mark.no_sandbox


def test_app_usage_takes_the_highest_counter() -> None:
    reading = parse_app_usage('{"call_count": 28, "total_time": 25, "total_cputime": 61}')
    assert reading is not None
    assert reading.percent == 61
    assert reading.regain_seconds == 0


def test_unreadable_headers_are_ignored() -> None:
    assert parse_app_usage("not json") is None
    assert parse_app_usage(None) is None
    assert parse_buc_usage("[1, 2]") == ({}, {})


def test_buc_usage_per_object_in_seconds() -> None:
    header = json.dumps(
        {
            "112233": [
                {
                    "type": "pages",
                    "call_count": 40,
                    "total_cputime": 10,
                    "total_time": 12,
                    "estimated_time_to_regain_access": 0,
                },
                {
                    "type": "instagram",
                    "call_count": 5,
                    "total_cputime": 90,
                    "total_time": 2,
                    "estimated_time_to_regain_access": 3,
                },
            ],
            "445566": [{"type": "pages", "call_count": 1, "total_cputime": 1, "total_time": 1}],
        }
    )
    readings, raw = parse_buc_usage(header)
    assert readings["112233"].percent == 90
    assert readings["112233"].regain_seconds == 180
    assert readings["445566"].percent == 1
    assert raw["112233"][1]["type"] == "instagram"


def test_usage_from_headers_summarises_all_three() -> None:
    result = usage_from_headers(
        {
            "x-app-usage": '{"call_count": 10, "total_time": 5, "total_cputime": 5}',
            "X-Page-Usage": '{"call_count": 55, "total_time": 5, "total_cputime": 5, '
            '"estimated_time_to_regain_access": 0}',
            "X-Business-Use-Case-Usage": '{"9": [{"type": "pages", "call_count": 30}]}',
        }
    )
    assert result.max_percent == 55
    assert result.app is not None and result.app.percent == 10
    assert result.buc_raw == {"9": [{"type": "pages", "call_count": 30}]}
    assert usage_from_headers({}).max_percent is None


@pytest.fixture
def thresholds(settings) -> None:  # type: ignore[no-untyped-def]
    settings.GRAPH_USAGE_SLOWDOWN_PERCENT = 75
    settings.META_APP_ID = "111"
    settings.INSTAGRAM_APP_ID = "222"


def test_no_wait_without_readings_or_below_the_threshold(thresholds) -> None:  # type: ignore[no-untyped-def]
    assert wait_seconds(app_id="111") == 0
    usage.record_usage(usage_from_headers({"X-App-Usage": '{"call_count": 74}'}), app_id="111")
    assert wait_seconds(app_id="111") == 0


def test_wait_grows_with_usage_above_the_threshold(thresholds) -> None:  # type: ignore[no-untyped-def]
    waits = []
    for percent in (80, 90, 99):
        usage.record_usage(usage_from_headers({"X-App-Usage": json.dumps({"call_count": percent})}), app_id="111")
        waits.append(wait_seconds(app_id="111"))
    assert 0 < waits[0] < waits[1] < waits[2] <= usage.MAX_SLOWDOWN_WAIT


def test_throttled_business_object_waits_metas_estimate(thresholds) -> None:  # type: ignore[no-untyped-def]
    header = '{"777": [{"type": "instagram", "call_count": 100, "estimated_time_to_regain_access": 12}]}'
    usage.record_usage(usage_from_headers({"X-Business-Use-Case-Usage": header}), app_id="111")
    assert wait_seconds(app_id="111") == 0  # the app itself is fine
    assert wait_seconds(app_id="111", business_id="888") == 0  # another account is fine
    assert 12 * 60 - 5 < wait_seconds(app_id="111", business_id=777) <= 12 * 60


def test_app_is_required() -> None:
    with pytest.raises(TypeError):
        wait_seconds(business_id="777")  # type: ignore[call-arg]


def test_instagram_app_reading_does_not_slow_a_facebook_page(thresholds) -> None:  # type: ignore[no-untyped-def]
    usage.record_usage(usage_from_headers({"X-App-Usage": '{"call_count": 100}'}), app_id="222")
    assert usage.THROTTLED_WAIT - 5 < wait_seconds(app_id="222", business_id="1784") <= usage.THROTTLED_WAIT
    assert wait_seconds(app_id="111", business_id="1784") == 0
    with pytest.raises(TypeError):  # no more "any configured app": the caller names the channel's app
        wait_seconds(business_id="1784")  # type: ignore[call-arg]


def test_facebook_app_reading_does_not_slow_an_instagram_login_account(thresholds) -> None:  # type: ignore[no-untyped-def]
    usage.record_usage(usage_from_headers({"X-App-Usage": '{"call_count": 95}'}), app_id="111")
    assert wait_seconds(app_id="111", business_id="42") > 0
    assert wait_seconds(app_id="222", business_id="1784") == 0


def test_one_accounts_buc_reading_does_not_slow_another(thresholds) -> None:  # type: ignore[no-untyped-def]
    header = '{"777": [{"type": "pages", "call_count": 95, "total_time": 5, "total_cputime": 5}]}'
    usage.record_usage(usage_from_headers({"X-Business-Use-Case-Usage": header}), app_id="111")
    assert wait_seconds(app_id="111", business_id="777") > 0
    assert wait_seconds(app_id="111", business_id="888") == 0
    assert wait_seconds(app_id="111") == 0


def test_a_reading_loses_weight_as_it_ages(thresholds) -> None:  # type: ignore[no-untyped-def]
    now = time.time()
    fresh = Usage(percent=90, observed_at=now)
    old = Usage(percent=90, observed_at=now - 50 * 60)
    assert fresh.effective_percent(now=now) == 90
    assert old.effective_percent(now=now) == pytest.approx(15)
    assert fresh.wait_seconds(now=now, slowdown_percent=75) == pytest.approx(usage.MAX_SLOWDOWN_WAIT * 15 / 25)
    assert old.wait_seconds(now=now, slowdown_percent=75) == 0
    # Halfway through the window, 99 % counts as about 50 %: below the threshold.
    assert Usage(percent=99, observed_at=now - 30 * 60).wait_seconds(now=now, slowdown_percent=75) == 0
    # Ten minutes on, 99 % still counts as 82.5 %: a smaller wait than a fresh reading's.
    ten_minutes = Usage(percent=99, observed_at=now - 10 * 60).wait_seconds(now=now, slowdown_percent=75)
    assert 0 < ten_minutes < Usage(percent=99, observed_at=now).wait_seconds(now=now, slowdown_percent=75)


def test_a_stale_cached_reading_no_longer_holds_work_back(thresholds, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    header = '{"777": [{"type": "pages", "call_count": 90}]}'
    started = time.time()
    monkeypatch.setattr(usage.time, "time", lambda: started)
    usage.record_usage(
        usage_from_headers({"X-App-Usage": '{"call_count": 90}', "X-Business-Use-Case-Usage": header}), app_id="111"
    )
    assert wait_seconds(app_id="111") > 0
    assert wait_seconds(app_id="111", business_id="777") > 0
    monkeypatch.setattr(usage.time, "time", lambda: started + 50 * 60)
    assert wait_seconds(app_id="111") == 0
    assert wait_seconds(app_id="111", business_id="777") == 0


def test_regain_estimate_counts_down_from_when_it_was_read() -> None:
    now = time.time()
    reading = Usage(percent=100, regain_seconds=20 * 60, observed_at=now - 15 * 60)
    assert reading.wait_seconds(now=now, slowdown_percent=75) == pytest.approx(5 * 60)


def test_throttled_without_estimate_waits_then_decays() -> None:
    now = time.time()
    assert Usage(percent=100, observed_at=now - 60).wait_seconds(now=now, slowdown_percent=75) == pytest.approx(
        usage.THROTTLED_WAIT - 60
    )
    later = Usage(percent=100, observed_at=now - 40 * 60).wait_seconds(now=now, slowdown_percent=75)
    assert later == 0  # two thirds of the window have rolled out: about 33 %


def test_old_readings_stop_counting() -> None:
    now = time.time()
    stale = Usage(percent=99, observed_at=now - usage.WINDOW_SECONDS - 1)
    assert stale.wait_seconds(now=now, slowdown_percent=75) == 0
    regained = Usage(percent=100, regain_seconds=60, observed_at=now - 61)
    assert regained.wait_seconds(now=now, slowdown_percent=75) == 0
