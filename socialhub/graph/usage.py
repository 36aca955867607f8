"""Meta's rate-limit usage headers, remembered in Django's cache so that background work slows down before a
limit is hit, not after.

Headers (developers.facebook.com/docs/graph-api/overview/rate-limiting):
- `X-App-Usage: {"call_count": 28, "total_time": 25, "total_cputime": 25}` — platform limit of the app,
  percentages of a rolling one-hour window.
- `X-Page-Usage`: same shape, for Page tokens under platform limits; may carry
  `estimated_time_to_regain_access`.
- `X-Business-Use-Case-Usage: {"<object-id>": [{"type": "pages", "call_count": 100, "total_cputime": 25,
  "total_time": 25, "estimated_time_to_regain_access": 19}]}` — Business Use Case limits (Pages with Page
  tokens, Instagram), keyed by business object id; `estimated_time_to_regain_access` is in minutes.
(`X-Ad-Account-Usage` is for the Marketing API, which SocialHub does not use.)
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

APP_KEY = "graph:usage:app:{}"
BUC_KEY = "graph:usage:buc:{}"
# Meta's usage percentages cover a rolling one-hour window: calls older than that have left it, and a throttled
# caller gets access back "once enough time has passed for the call count to drop below the limit" (rate-limiting
# docs). A reading therefore loses weight as it ages and says nothing about now once it is this old.
WINDOW_SECONDS = 3600
# Wait before the next call when usage sits exactly at 100 % and Meta gave no estimate.
THROTTLED_WAIT = 300.0
# Between GRAPH_USAGE_SLOWDOWN_PERCENT and 100 % the wait grows linearly up to this.
MAX_SLOWDOWN_WAIT = 120.0

USAGE_FIELDS = ("call_count", "total_time", "total_cputime")


@dataclass(frozen=True)
class Usage:
    """One usage reading: the highest of call count, CPU time and total time (percent of the limit), and how
    long Meta says the caller stays throttled (seconds; 0 when not throttled)."""

    percent: float
    regain_seconds: float = 0.0
    observed_at: float = field(default_factory=time.time)

    @classmethod
    def from_counters(cls, counters: Mapping[str, Any], *, observed_at: float | None = None) -> Usage:
        percent = max((_number(counters.get(name)) for name in USAGE_FIELDS), default=0.0)
        regain_minutes = _number(counters.get("estimated_time_to_regain_access"))
        return cls(percent=percent, regain_seconds=regain_minutes * 60.0, observed_at=observed_at or time.time())

    def merged(self, other: Usage) -> Usage:
        return Usage(
            percent=max(self.percent, other.percent),
            regain_seconds=max(self.regain_seconds, other.regain_seconds),
            observed_at=max(self.observed_at, other.observed_at),
        )

    def effective_percent(self, *, now: float) -> float:
        """The share of the window this reading's calls still fill `now`. Meta gives only a total, not when the
        calls were made, so they are taken as spread evenly over the hour before the reading: each second of
        age moves an equal slice of them out of the rolling window (90 % read 50 minutes ago is 15 % now)."""
        age = min(max(now - self.observed_at, 0.0), WINDOW_SECONDS)
        return self.percent * (1.0 - age / WINDOW_SECONDS)

    def wait_seconds(self, *, now: float, slowdown_percent: float) -> float:
        age = max(now - self.observed_at, 0.0)
        if self.regain_seconds > 0:
            # Meta's own estimate, counted down from when it was read.
            return max(self.regain_seconds - age, 0.0)
        if self.percent >= 100 and age < THROTTLED_WAIT:
            return THROTTLED_WAIT - age
        percent = min(self.effective_percent(now=now), 100.0)
        if percent <= 0 or percent < slowdown_percent or slowdown_percent >= 100:
            return 0.0
        # Grows linearly from 0 at the threshold to MAX_SLOWDOWN_WAIT at 100 %.
        return MAX_SLOWDOWN_WAIT * (percent - slowdown_percent) / (100.0 - slowdown_percent)


@dataclass(frozen=True)
class ResponseUsage:
    """Everything one response said about usage."""

    app: Usage | None = None
    page: Usage | None = None
    buc: dict[str, Usage] = field(default_factory=dict)
    buc_raw: dict[str, Any] = field(default_factory=dict)

    @property
    def max_percent(self) -> float | None:
        readings = [u.percent for u in self._all()]
        return max(readings) if readings else None

    @property
    def regain_seconds(self) -> float:
        return max((u.regain_seconds for u in self._all()), default=0.0)

    def _all(self) -> Iterable[Usage]:
        yield from (u for u in (self.app, self.page) if u is not None)
        yield from self.buc.values()


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _header(headers: Mapping[str, str], name: str) -> str | None:
    if name in headers:
        return headers[name]
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def _load(value: str | None) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        logger.warning("Unreadable usage header: %.200s", value)
        return None


def parse_app_usage(value: str | None) -> Usage | None:
    """Parse `X-App-Usage` or `X-Page-Usage`."""
    data = _load(value)
    return Usage.from_counters(data) if isinstance(data, Mapping) else None


def parse_buc_usage(value: str | None) -> tuple[dict[str, Usage], dict[str, Any]]:
    """Parse `X-Business-Use-Case-Usage` into {object id: highest usage over its use-case types} and the
    decoded header itself (kept for operators)."""
    data = _load(value)
    if not isinstance(data, Mapping):
        return {}, {}
    result: dict[str, Usage] = {}
    now = time.time()
    for object_id, entries in data.items():
        if isinstance(entries, Mapping):
            entries = [entries]
        if not isinstance(entries, list):
            continue
        readings = [Usage.from_counters(e, observed_at=now) for e in entries if isinstance(e, Mapping)]
        if readings:
            merged = readings[0]
            for reading in readings[1:]:
                merged = merged.merged(reading)
            result[str(object_id)] = merged
    return result, dict(data)


def usage_from_headers(headers: Mapping[str, str] | None) -> ResponseUsage:
    if not headers:
        return ResponseUsage()
    buc, buc_raw = parse_buc_usage(_header(headers, "X-Business-Use-Case-Usage"))
    return ResponseUsage(
        app=parse_app_usage(_header(headers, "X-App-Usage")),
        page=parse_app_usage(_header(headers, "X-Page-Usage")),
        buc=buc,
        buc_raw=buc_raw,
    )


def _store(key: str, usage: Usage) -> None:
    timeout = int(max(WINDOW_SECONDS, usage.regain_seconds)) + 60
    cache.set(key, asdict(usage), timeout)


def _read(key: str) -> Usage | None:
    data = cache.get(key)
    if not isinstance(data, dict):
        return None
    try:
        return Usage(**data)
    except TypeError:
        return None


def record_usage(usage: ResponseUsage, *, app_id: str) -> None:
    """Remember the latest readings: per app and per business object. Never raises (a cache outage must not
    fail a Graph call)."""
    try:
        if usage.app is not None and app_id:
            _store(APP_KEY.format(app_id), usage.app)
        for object_id, reading in usage.buc.items():
            _store(BUC_KEY.format(object_id), reading)
    except Exception:
        logger.warning("Could not store Graph API usage in the cache", exc_info=True)


def app_usage(app_id: str) -> Usage | None:
    return _read(APP_KEY.format(app_id))


def business_usage(object_id: str) -> Usage | None:
    return _read(BUC_KEY.format(object_id))


def wait_seconds(*, app_id: str, business_id: str | int | None = None) -> float:
    """How long background work should wait before its next Graph call for one channel.

    `app_id` is the app whose tokens the call will use, i.e. the app of the channel's Graph host
    (`GraphClient(host=channel.graph_host).app_id`: META_APP_ID for graph.facebook.com, INSTAGRAM_APP_ID for
    graph.instagram.com); `business_id` is the Page or Instagram account, for its Business Use Case usage. Only
    those two readings count: another app's or another account's usage never holds this channel back.

    0 while the (age-decayed, see `Usage.effective_percent`) usage stays below `GRAPH_USAGE_SLOWDOWN_PERCENT`;
    then growing with usage up to `MAX_SLOWDOWN_WAIT`; once throttled, what is left of Meta's
    `estimated_time_to_regain_access` (or of `THROTTLED_WAIT`). 0 when the cache cannot be read."""
    threshold = float(settings.GRAPH_USAGE_SLOWDOWN_PERCENT)
    try:
        readings = [app_usage(app_id) if app_id else None]
        if business_id is not None and str(business_id):
            readings.append(business_usage(str(business_id)))
    except Exception:
        logger.warning("Could not read Graph API usage from the cache", exc_info=True)
        return 0.0
    now = time.time()
    return max((r.wait_seconds(now=now, slowdown_percent=threshold) for r in readings if r is not None), default=0.0)
