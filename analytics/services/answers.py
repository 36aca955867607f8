"""Reading Meta's insights answers (graph-api reference §4): pure functions from a decoded answer to the figures
SocialHub stores, with no database and no HTTP.

Shapes read:
- Instagram account, `metric_type=total_value` (one day per request): `{"data": [{"name": "reach", "period": "day",
  "total_value": {"value": 224, "breakdowns": [{"dimension_keys": ["media_product_type"], "results":
  [{"dimension_values": ["POST"], "value": 124}, …]}]}, …}]}`.
- time series (Instagram `follower_count`, Page metrics): `{"data": [{"name", "period": "day", "values":
  [{"value": 12, "end_time": "2026-09-01T07:00:00+0000"}, …]}]}`; a value is about the day before its
  `end_time`; it may be an object (`page_actions_post_reactions_total`: `{"like": 3, "love": 1}`).
- lifetime (media and Page posts): `{"data": [{"name", "period": "lifetime", "values": [{"value": 12}]}]}`; a
  Page post may answer a `day` row next to the `lifetime` one (its `day` row is 0): the `lifetime` row counts.
- demographics: `total_value.breakdowns[0]` with `dimension_keys` such as `["timeframe", "country"]` or
  `["country"]`, each result's `dimension_values` in the same order.

Whatever Meta leaves out (no row for a metric, no value for a day, a null value) is None here: "not available",
never 0."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

Value = int | None
# metric → dimension ("" = the metric's total) → day → value
Readings = dict[str, dict[str, dict[dt.date, Value]]]


def number(raw: Any) -> Value:
    """Meta's figure as an int; None for anything that is not a number (absent, null, text)."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        return round(raw)
    if isinstance(raw, str):
        try:
            return round(float(raw))
        except ValueError:
            return None
    return None


def object_values(raw: Mapping[str, Any]) -> dict[str, int]:
    """An object value (`{"like": 3, "love": 1}`) as {key: count}, keys without a number left out."""
    values = {str(key): number(count) for key, count in raw.items()}
    return {key: count for key, count in values.items() if count is not None}


def moment(text: Any) -> dt.datetime | None:
    """Meta's time (`2026-09-01T07:00:00+0000`, also with `Z` or `+00:00`) as an aware datetime; None when
    unreadable."""
    if not isinstance(text, str) or not text.strip():
        return None
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():  # Meta writes +0000
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def day_of(end_time: Any) -> dt.date | None:
    """The day a value is about: the day before its `end_time`, in UTC. None when `end_time` is unreadable."""
    value = moment(end_time)
    if value is None:
        return None
    return (value.astimezone(dt.UTC) - dt.timedelta(days=1)).date()


def _rows(answer: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    data = answer.get("data") if isinstance(answer, Mapping) else None
    return [row for row in data or [] if isinstance(row, Mapping) and row.get("name")]


def _row_for(answer: Mapping[str, Any], name: str, *, period: str) -> Mapping[str, Any] | None:
    """The answer's row for `name`, preferring the one of `period` when Meta sent several."""
    rows = [row for row in _rows(answer) if row.get("name") == name]
    for row in rows:
        if row.get("period") == period:
            return row
    return rows[0] if rows else None


def _breakdown_results(total_value: Mapping[str, Any], key: str = "") -> dict[str, int]:
    """{dimension value: count} from `total_value.breakdowns`. With `key`, the position of that key in
    `dimension_keys` is read (demographics put `timeframe` first); otherwise the last one."""
    out: dict[str, int] = {}
    for breakdown in total_value.get("breakdowns") or []:
        if not isinstance(breakdown, Mapping):
            continue
        keys = [str(k) for k in breakdown.get("dimension_keys") or []]
        position = keys.index(key) if key and key in keys else -1
        for result in breakdown.get("results") or []:
            if not isinstance(result, Mapping):
                continue
            dims = result.get("dimension_values") or []
            count = number(result.get("value"))
            if not dims or count is None:
                continue
            try:
                dimension = str(dims[position])
            except IndexError:
                continue
            out[dimension] = out.get(dimension, 0) + count
    return out


def _put(readings: Readings, metric: str, dimension: str, day: dt.date, value: Value) -> None:
    readings.setdefault(metric, {}).setdefault(dimension, {})[day] = value


def total_value_readings(answer: Mapping[str, Any], metrics: Iterable[str], day: dt.date) -> Readings:
    """One day of Instagram account metrics asked with `metric_type=total_value`. Each metric gets its total
    (dimension "") and, with a breakdown, one reading per breakdown value. A total Meta left out but whose
    breakdown it gave is the sum of the breakdown; no figure at all is None."""
    readings: Readings = {}
    for name in metrics:
        row = _row_for(answer, name, period="day")
        total: Value = None
        parts: dict[str, int] = {}
        if row is not None:
            total_value = row.get("total_value")
            if isinstance(total_value, Mapping):
                total = number(total_value.get("value"))
                parts = _breakdown_results(total_value)
            else:  # a metric Meta answers as a series even when asked for a total
                values = [v for v in row.get("values") or [] if isinstance(v, Mapping)]
                if values:
                    total = number(values[-1].get("value"))
        if total is None and parts:
            total = sum(parts.values())
        _put(readings, name, "", day, total)
        for dimension, count in parts.items():
            _put(readings, name, dimension, day, count)
    return readings


def time_series_readings(answer: Mapping[str, Any], metrics: Iterable[str], days: Iterable[dt.date]) -> Readings:
    """Per-day series (Instagram `follower_count`, Page metrics) for the days asked: each metric gets a reading
    for every one of `days` (None where Meta gave none). An object value (reactions by type) gives one reading
    per key, and its sum as the total. Values for days outside `days` are left out."""
    wanted = set(days)
    readings: Readings = {}
    for name in metrics:
        for day in wanted:
            _put(readings, name, "", day, None)
        row = _row_for(answer, name, period="day")
        if row is None:
            continue
        for item in row.get("values") or []:
            if not isinstance(item, Mapping):
                continue
            day = day_of(item.get("end_time"))
            if day is None or day not in wanted:
                continue
            raw = item.get("value")
            if isinstance(raw, Mapping):
                parts = object_values(raw)
                _put(readings, name, "", day, sum(parts.values()))
                for key, count in parts.items():
                    _put(readings, name, key, day, count)
            else:
                _put(readings, name, "", day, number(raw))
    return readings


def lifetime_values(answer: Mapping[str, Any], metrics: Iterable[str]) -> dict[str, Any]:
    """A post's lifetime figures: {metric: int, object (reactions by type) or None}. The `lifetime` row counts
    when Meta also sends a `day` row."""
    out: dict[str, Any] = {}
    for name in metrics:
        row = _row_for(answer, name, period="lifetime")
        value: Any = None
        if row is not None:
            values = [v for v in row.get("values") or [] if isinstance(v, Mapping)]
            if values:
                raw = values[-1].get("value")
                value = object_values(raw) if isinstance(raw, Mapping) else number(raw)
            elif isinstance(row.get("total_value"), Mapping):
                value = number(row["total_value"].get("value"))
        out[name] = value
    return out


def as_count(value: Any) -> Value:
    """A stored post figure as one number: an object (reactions by type) counts as its sum."""
    if isinstance(value, Mapping):
        return sum(object_values(value).values())
    return number(value)


def demographics(answer: Mapping[str, Any], metric: str, breakdown: str) -> dict[str, int]:
    """{breakdown value: count} of one demographics metric (empty when Meta gave none)."""
    row = _row_for(answer, metric, period="lifetime")
    if row is None or not isinstance(row.get("total_value"), Mapping):
        return {}
    return _breakdown_results(row["total_value"], key=breakdown)
