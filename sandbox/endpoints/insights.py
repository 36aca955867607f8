"""Insights of Instagram accounts and media (both hosts), Facebook Pages and Page posts (graph-api reference §4),
with Meta's request rules; figures from insight_data.py.

GET /{ig-user-id}/insights (graph.facebook.com with Facebook Login; graph.instagram.com, also /me/insights), §4.1:
- ``metric`` (comma list; none → 3001/1504028), ``period`` (required: day | lifetime), ``metric_type``
  (time_series, the default, | total_value), ``breakdown`` (comma list), ``timeframe`` (demographics), ``since`` /
  ``until`` (UNIX or date; default the last 24 h; at most 30 days apart).
- A metric the (period, metric_type) does not serve — retired ones (impressions, profile_views, website_clicks,
  email_contacts, …), ``views`` and the other total_value-only metrics without metric_type=total_value, ``views``
  under a Graph version before v22.0 — → "(#100) metric[N] must be one of the following values: …" listing what
  that combination serves in the request's version (§4.1 [OBS]). time_series serves reach, follower_count,
  accounts_engaged and total_interactions: the ones of Meta's observed list that are not retired (§4.1 [OBS]).
- A breakdown the metric does not take → code 1 "An unknown error has occurred."; time_series drops breakdowns.
- Demographics: period=lifetime, metric_type=total_value, timeframe this_week | this_month (the last_* values
  are refused since v20); dimension_keys start with "timeframe".
- total_value rows: {"name","period","title","description","total_value":{"value","breakdowns"?},"id"}; time_series
  rows: "values": [{"value","end_time"}]. A metric with no figure in the range has no row (never 0).

GET /{ig-media-id}/insights (both hosts), §4.2: ``metric``, ``breakdown``, ``period`` (lifetime only). Metrics per
product type from the table (``views`` from v22.0); retired media metrics → the "(#100) metric[N] must be one of"
text; one the product
type lacks → "(#100) The Media Insights API does not support the X metric for this media product type." [OBS];
carousel children refused; a story older than 24 h → data []; a story seen by fewer than 5 → (#10).

GET /{page-id}/insights, §4.3: ``metric`` (required), ``period`` (day | week | days_28; none = every period the
metric has), ``since``/``until`` (UNIX or date, ≤ 90 days apart; default the last two days), ``date_preset``,
``breakdown``. Any name that is not a served Page metric (the retired page_fans, page_impressions*, … too) fails the
whole call with "(#100) The value must be a valid insights metric". Rows {"name","period","values":[{"value",
"end_time"}],"title","description","id"} and time-based ``paging`` (previous/next: the spans before and after).
Needs a token that sees the Page with read_insights + pages_read_engagement; graph.instagram.com serves no Pages.

GET /{page-post-id}/insights, §4.3: lifetime rows ({"value"} without end_time); post_total_media_view_unique and
post_video_views also answer a ``day`` row whose value is 0 (§4.3 [OBS]).

Breakdowns of Page and post views (§4.3): page_media_view and post_media_view take ``breakdown`` is_from_ads and/or
is_from_followers (any other metric with a breakdown → code 1, as on Instagram). Each value then answers one entry per
day and breakdown value, the value named beside it as a string, zero parts left out (Page insights reference:
"breakdown metrics … only return non-zero values"; InsightsValue fields is_from_ads, is_from_followers):
``{"value": 12, "end_time": "…", "is_from_ads": "1"}``.

Versions (§4.1, §4.2): a request is served as its Graph version says (``/v21.0/…``; unversioned calls get the
default version, app.API_VERSION), and metrics newer than it are unknown to it (``views``: v22.0).
"""

from __future__ import annotations

import datetime as dt
import json

from .. import auth, errors, permissions
from .. import insight_data as data
from ..app import API_VERSION, IG_GRAPH, next_url
from .graph_nodes import EXTRA_PARAMS, node_edge

# Graph's period enum (spec shadowiguserinsights_period_enum_param; Page insights reference)
PERIODS = ("day", "week", "days_28", "month", "lifetime", "total_over_range")
METRIC_TYPES = ("default", "time_series", "total_value")
TIMEFRAMES = ("this_week", "this_month")  # reference §4.1: last_14_days, last_30_days, … refused since v20
IG_SPAN_DAYS = 30
PAGE_SPAN_DAYS = 90
# the first Graph version that serves a metric (reference §4.1 "views (v22)", §4.2 "views since v22")
FROM_VERSION = {"views": (22, 0)}

# ------------------------------------------------------------------ Instagram account metrics (§4.1)
# (period, metric_type) → metrics served, in the order Meta lists them
IG_SERVED: dict[tuple[str, str], tuple[str, ...]] = {
    # Meta's observed list for time_series (§4.1 [OBS]) without the retired website_clicks, profile_views and
    # online_followers
    ("day", "time_series"): ("reach", "follower_count", "accounts_engaged", "total_interactions"),
    ("day", "total_value"): (
        "reach", "accounts_engaged", "total_interactions", "likes", "comments", "shares", "saves", "replies",
        "reposts", "follows_and_unfollows", "profile_links_taps", "views",
    ),
    ("lifetime", "total_value"): ("follower_demographics", "engaged_audience_demographics"),
}  # fmt: skip
DEMOGRAPHICS = ("follower_demographics", "engaged_audience_demographics")
TITLES = {
    "reach": ("Accounts reached", "The number of unique accounts that have seen your content, at least once."),
    "views": ("Views", "The number of times your content was played or displayed."),
    "follower_count": ("Follower count", "The number of accounts that followed you."),
    "accounts_engaged": ("Accounts engaged", "The number of accounts that have interacted with your content."),
    "total_interactions": ("Content interactions", "The total number of post interactions, story interactions, "
                           "reels interactions, video interactions and live video interactions."),
    "likes": ("Likes", "The number of likes on your posts, reels and videos."),
    "comments": ("Comments", "The number of comments on your posts, reels, videos and live videos."),
    "shares": ("Shares", "The number of shares of your posts, stories, reels, videos and live videos."),
    "saves": ("Saves", "The number of saves of your posts, reels and videos."),
    "saved": ("Saves", "The number of saves of your post."),
    "replies": ("Replies", "The number of replies you received from your story."),
    "reposts": ("Reposts", "The number of times your content was reposted."),
    "follows_and_unfollows": ("Follows and unfollows", "The number of accounts that followed you and the number "
                              "of accounts that unfollowed you or left Instagram."),
    "profile_links_taps": ("Profile links taps", "The number of taps on your business address, call button, "
                           "email button and text button."),
    "follows": ("Follows", "The number of accounts that started following you from this media."),
    "profile_visits": ("Profile visits", "The number of times your profile was visited from this media."),
    "profile_activity": ("Profile activity", "The number of actions people took on your profile after engaging "
                         "with this media."),
    "navigation": ("Navigation", "The total number of actions taken from your story."),
    "link_clicks": ("Link clicks", "The number of taps on the link sticker of your story."),
    "ig_reels_avg_watch_time": ("Average watch time", "The average time your reel was played, in milliseconds."),
    "ig_reels_video_view_total_time": ("Watch time", "The total time your reel was played, in milliseconds."),
    "reels_skip_rate": ("Skip rate", "The percentage of views that left your reel in its first 3 seconds."),
    "crossposted_views": ("Crossposted views", "The number of views of your reel on Instagram and Facebook."),
    "total_comments": ("Comments", "The number of comments on your media, including ads."),
    "total_likes": ("Likes", "The number of likes on your media, including ads."),
    "total_views": ("Views", "The number of views of your media, including ads."),
    "follower_demographics": ("Follower demographics", "The demographic characteristics of followers."),
    "engaged_audience_demographics": ("Engaged audience demographics", "The demographic characteristics of the "
                                      "engaged audience."),
}  # fmt: skip

# ------------------------------------------------------------------ Instagram media metrics (§4.2)
MEDIA_METRICS: dict[str, tuple[str, ...]] = {
    "comments": ("FEED", "REELS"),
    "likes": ("FEED", "REELS"),
    "saved": ("FEED", "REELS"),
    "reach": ("FEED", "REELS", "STORY"),
    "shares": ("FEED", "REELS", "STORY"),
    "total_interactions": ("FEED", "REELS", "STORY"),
    "views": ("FEED", "REELS", "STORY"),
    "reposts": ("FEED", "REELS", "STORY"),
    "follows": ("FEED", "STORY"),
    "profile_visits": ("FEED", "STORY"),
    "profile_activity": ("FEED", "STORY"),
    "navigation": ("STORY",),
    "replies": ("STORY",),
    "link_clicks": ("STORY",),
    "ig_reels_avg_watch_time": ("REELS",),
    "ig_reels_video_view_total_time": ("REELS",),
    "reels_skip_rate": ("REELS",),
    "crossposted_views": ("REELS",),
}
MEDIA_FB_ONLY = {
    "total_comments": ("FEED", "REELS"),
    "total_likes": ("FEED", "REELS"),
    "total_views": ("FEED", "REELS", "STORY"),
}  # fmt: skip  (Facebook Login only, incl. ads)
MEDIA_BREAKDOWNS = {"profile_activity": "action_type", "navigation": "story_navigation_action_type"}

# ------------------------------------------------------------------ Page and Page post metrics (§4.3)
# name → periods it is served for (the first is its own period)
PAGE_METRICS: dict[str, tuple[str, ...]] = {
    "page_media_view": ("day", "week", "days_28"),
    "page_total_media_view_unique": ("day", "week", "days_28"),
    "page_post_engagements": ("day", "week", "days_28"),
    "page_total_actions": ("day", "week", "days_28"),
    "page_video_views": ("day", "week", "days_28"),
    "page_video_views_paid": ("day", "week", "days_28"),
    "page_video_views_organic": ("day", "week", "days_28"),
    "page_video_views_autoplayed": ("day", "week", "days_28"),
    "page_video_views_click_to_play": ("day", "week", "days_28"),
    "page_video_repeat_views": ("day", "week", "days_28"),
    "page_video_complete_views_30s": ("day", "week", "days_28"),
    "page_video_view_time": ("day",),
    "page_views_total": ("day", "week", "days_28"),
    "page_actions_post_reactions_total": ("day", "week", "days_28"),
    **{f"page_actions_post_reactions_{r}_total": ("day", "week", "days_28") for r in data.REACTIONS},
    "page_follows": ("day",),
    "page_daily_follows": ("day",),
    "page_daily_follows_unique": ("day",),
    "page_daily_unfollows_unique": ("day",),
    "page_lifetime_engaged_followers_unique": ("day",),
}
# metric → the breakdowns it takes (§4.3); any other metric refuses a breakdown
PAGE_BREAKDOWNS = {"page_media_view": data.VIEW_BREAKDOWNS}
POST_BREAKDOWNS = {"post_media_view": data.VIEW_BREAKDOWNS}
# the PagePost spec lists no ``breakdown`` for insights, but post_media_view takes one (§4.3)
EXTRA_PARAMS[("PagePost", "insights GET")] = {"breakdown"}
TOTALS = {"page_follows", "page_lifetime_engaged_followers_unique"}  # a level, not a count: no week/days_28 sums
PERIOD_DAYS = {"day": 1, "week": 7, "days_28": 28}
POST_METRICS = (
    "post_media_view", "post_total_media_view_unique", "post_clicks", "post_clicks_by_type",
    "post_reactions_by_type_total", "post_video_views", "post_activity_by_action_type",
    *(f"post_reactions_{r}_total" for r in data.REACTIONS),
)  # fmt: skip
POST_DAY_ROWS = ("post_total_media_view_unique", "post_video_views")  # §4.3 [OBS]: also a day row, value 0
PAGE_TITLES = {
    "page_media_view": "Views",
    "page_total_media_view_unique": "Viewers",
    "page_post_engagements": "Post engagements",
    "page_video_views": "Total video views",
    "page_actions_post_reactions_total": "Daily total post reactions of a page.",
    "page_follows": "Page follows",
    "page_daily_follows_unique": "Daily new follows",
    "page_daily_unfollows_unique": "Daily unfollows",
    "post_media_view": "Views",
    "post_total_media_view_unique": "Viewers",
    "post_clicks": "Post clicks",
    "post_reactions_by_type_total": "Lifetime total post reactions by type.",
    "post_video_views": "Lifetime post total video views",
}
PERIOD_WORDS = {"day": "Daily", "week": "Weekly", "days_28": "28 days", "lifetime": "Lifetime"}
DATE_PRESETS = ("today", "yesterday", "last_3d", "last_7d", "last_14d", "last_28d", "last_30d", "last_90d",
                "this_month", "last_month")  # fmt: skip


# ------------------------------------------------------------------ parameters
def metric_names(ctx) -> list[str]:
    raw = ctx.get("metric")
    names: list = []
    if raw:
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw.split(",")
        names = parsed if isinstance(parsed, list) else [parsed]
    names = [str(n).strip() for n in names if str(n).strip()]
    if not names:
        raise errors.insights_no_metric()
    return names


def list_param(ctx, name) -> list[str]:
    raw = ctx.get(name) or ""
    return [p.strip() for p in raw.split(",") if p.strip()]


def enum(ctx, name, allowed, default=None):
    value = ctx.get(name)
    if value in (None, ""):
        return default
    if value not in allowed:
        raise errors.enum_param(name, allowed, value)
    return value


def timestamp(ctx, name) -> float | None:
    raw = ctx.get(name)
    if raw in (None, ""):
        return None
    raw = str(raw).strip()
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        when = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise errors.insights_bad_time(name) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def time_range(ctx, default_days: int, max_days: int) -> tuple[float, float]:
    """(since, until) as UNIX times; without them the last ``default_days`` up to now."""
    since, until = timestamp(ctx, "since"), timestamp(ctx, "until")
    now = data.now(ctx.state)
    if until is None:
        until = now if since is None else min(now, since + max_days * data.DAY)
    if since is None:
        since = until - default_days * data.DAY
    if since > until:
        raise errors.insights_since_after_until()
    if until - since > max_days * data.DAY:
        raise errors.insights_span(max_days)
    return since, until


def days_in(state, since: float, until: float) -> list[dt.date]:
    """The days from since's day whose end is at or before until, within what the clock has completed."""
    first = max(data.day_of(since), data.first_kept(state))
    last = min(data.day_of(until) - dt.timedelta(days=1), data.last_complete(state))
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def paging(ctx, since: float, until: float) -> dict:
    span = int(until - since) or data.DAY
    s, u = int(since), int(until)
    return {
        "previous": next_url(ctx, since=str(s - span), until=str(s)),
        "next": next_url(ctx, since=str(u), until=str(u + span)),
    }


def graph_version(ctx) -> tuple[int, int]:
    """The request's Graph version as (major, minor); unversioned calls get the default version."""
    major, _, minor = (ctx.version or API_VERSION).lstrip("v").partition(".")
    return int(major), int(minor or 0)


def in_version(name: str, version: tuple[int, int]) -> bool:
    return version >= FROM_VERSION.get(name, (0, 0))


# ------------------------------------------------------------------ Instagram account
def ig_login(ctx) -> str:
    return "instagram" if ctx.host == IG_GRAPH else "facebook"


def ig_served(period: str, metric_type: str, version: tuple[int, int]) -> tuple[str, ...]:
    return tuple(n for n in IG_SERVED.get((period, metric_type), ()) if in_version(n, version))


def ig_served_list(period: str, metric_type: str, version: tuple[int, int]) -> tuple[str, ...]:
    """What Meta lists in "metric[N] must be one of": the combination's metrics, else the period's."""
    listed = ig_served(period, metric_type, version)
    if listed:
        return listed
    same_period = [n for (p, t) in IG_SERVED if p == period for n in ig_served(p, t, version)]
    every = [n for (p, t) in IG_SERVED for n in ig_served(p, t, version)]
    return tuple(dict.fromkeys(same_period)) or tuple(dict.fromkeys(every))


def ig_row(ig_id, name, period, **body) -> dict:
    title, description = TITLES.get(name, (name, ""))
    return {"name": name, "period": period, **body, "title": title, "description": description,
            "id": f"{ig_id}/insights/{name}/{period}"}  # fmt: skip


def ig_user_insights(ctx, tok, ig_id):
    state = ctx.state
    if not auth.can_see_ig(state, tok, ig_id):
        raise errors.unsupported_request("GET", ctx.path.strip("/").split("/")[0])
    permissions.require_all(state, tok, "ig_insights", ig_login(ctx))
    ctx.touch(ig_id, "instagram")
    names = metric_names(ctx)
    period = ctx.get("period")
    if period in (None, ""):
        raise errors.missing_parameter("period")
    enum(ctx, "period", PERIODS)
    metric_type = enum(ctx, "metric_type", METRIC_TYPES, "time_series")
    metric_type = "time_series" if metric_type == "default" else metric_type
    version = graph_version(ctx)
    served = ig_served(period, metric_type, version)
    for i, name in enumerate(names):
        if name not in served:
            raise errors.insights_metric_not_one_of(i, ig_served_list(period, metric_type, version))
    breakdowns = list_param(ctx, "breakdown") if metric_type == "total_value" else []  # time_series drops them
    for name in names:
        if any(b not in data.IG_BREAKDOWNS.get(name, ()) for b in breakdowns):
            raise errors.insights_unsupported_breakdown()
    if period == "lifetime":
        timeframe = ctx.get("timeframe")
        if timeframe in (None, ""):
            raise errors.insights_timeframe_required()
        enum(ctx, "timeframe", TIMEFRAMES)
        rows = [r for name in names if (r := ig_demographics(ctx, ig_id, name, breakdowns, timeframe))]
        return {"data": rows}
    since, until = time_range(ctx, 1, IG_SPAN_DAYS)
    days = days_in(state, since, until)
    rows = []
    for name in names:
        if metric_type == "time_series":
            values = [
                {"value": v, "end_time": data.end_time(d)}
                for d in days
                if (v := data.account_day(state, ig_id, name, d)) is not None
            ]
            if values:
                rows.append(ig_row(ig_id, name, period, values=values))
            continue
        total = [v for d in days if (v := data.account_day(state, ig_id, name, d)) is not None]
        if not total:
            continue  # no figure in the range: Meta sends no row, never a 0 (§4.2)
        body = {"value": sum(total)}
        if breakdowns:
            body["breakdowns"] = [ig_breakdown(state, ig_id, name, days, b) for b in breakdowns]
        rows.append(ig_row(ig_id, name, period, total_value=body))
    return {"data": rows, "paging": paging(ctx, since, until)}


def ig_breakdown(state, ig_id, name, days, breakdown) -> dict:
    sums: dict[str, int] = {}
    for d in days:
        for key, n in (data.account_day(state, ig_id, name, d, breakdown) or {}).items():
            sums[key] = sums.get(key, 0) + n
    return {
        "dimension_keys": [breakdown],
        "results": [{"dimension_values": [k], "value": n} for k, n in sums.items()],
    }


def ig_demographics(ctx, ig_id, name, breakdowns, timeframe) -> dict | None:
    counts = data.demographics(ctx.state, ig_id, name, breakdowns, timeframe)
    if not counts:
        return None  # fewer than 100 followers / engagements: nothing (§4.1)
    body = {"value": sum(counts.values())} if not breakdowns else {}
    if breakdowns:
        results = [{"dimension_values": [timeframe.upper(), *combo], "value": n} for combo, n in counts.items()]
        body["breakdowns"] = [{"dimension_keys": ["timeframe", *breakdowns], "results": results}]
    return ig_row(ig_id, name, "lifetime", total_value=body)


node_edge("facebook", "IGUser", "insights")(ig_user_insights)
node_edge("instagram", "IGUserForIGOnlyAPI", "insights")(ig_user_insights)


# ------------------------------------------------------------------ Instagram media
def media_insights(ctx, tok, media_id):
    state = ctx.state
    m = state.data["ig_media"][media_id]
    if not auth.can_see_ig(state, tok, m["owner"]):
        raise errors.unsupported_request("GET", media_id)
    permissions.require_all(state, tok, "ig_insights", ig_login(ctx))
    ctx.touch(m["owner"], "instagram")
    names = metric_names(ctx)
    enum(ctx, "period", ("lifetime",))
    known = dict(MEDIA_METRICS, **({} if ctx.host == IG_GRAPH else MEDIA_FB_ONLY))
    known = {n: types for n, types in known.items() if in_version(n, graph_version(ctx))}
    product = m["media_product_type"]
    for i, name in enumerate(names):
        if name not in known:
            raise errors.insights_metric_not_one_of(i, list(known))
    if m.get("parent"):
        raise errors.insights_carousel_child()
    for name in names:
        if product not in known[name]:
            raise errors.insights_media_metric_unsupported(name)
    breakdowns = list_param(ctx, "breakdown")
    for name in names:
        if any(MEDIA_BREAKDOWNS.get(name) != b for b in breakdowns):
            raise errors.insights_unsupported_breakdown()
    at = data.now(state)
    if product == "STORY" and at - m["ts"] > data.STORY_LIFETIME:
        return {"data": []}  # story insights are kept 24 hours (§4.2)
    if any(data.unavailable(state, o, data.day_of(at)) for o in (media_id, m["owner"])):
        return {"data": []}
    figures = data.media_figures(state, m, at)
    if product == "STORY" and figures["reach"] < 5:
        raise errors.insights_not_enough_viewers()
    rows = []
    for name in names:
        title, description = TITLES.get(name, (name, ""))
        row = {"name": name, "period": "lifetime", "values": [{"value": figures[name]}], "title": title,
               "description": description, "id": f"{media_id}/insights/{name}/lifetime"}  # fmt: skip
        if breakdowns:
            split = data.media_breakdown(state, m, name, breakdowns[0], figures[name])
            results = [{"dimension_values": [k], "value": n} for k, n in split.items()]
            row["total_value"] = {
                "value": figures[name],
                "breakdowns": [{"dimension_keys": [breakdowns[0]], "results": results}],
            }
        rows.append(row)
    return {"data": rows}


node_edge("facebook", "IGMedia", "insights")(media_insights)
node_edge("instagram", "IGMediaForIGOnlyAPI", "insights")(media_insights)


# ------------------------------------------------------------------ Facebook Page and Page posts
def page_access(ctx, tok, page_id, object_id):
    state = ctx.state
    if page_id not in state.data["pages"] or not auth.can_see_page(state, tok, page_id):
        raise errors.unsupported_request("GET", object_id)
    permissions.require_all(state, tok, "page_insights", "facebook")
    ctx.touch(page_id, "pages")


def page_title(name, period) -> tuple[str, str]:
    title = PAGE_TITLES.get(name, name)
    return title, f"{PERIOD_WORDS.get(period, period)}: {title}"


def preset_range(state, preset: str) -> tuple[float, float]:
    today = data.day_of(data.now(state))
    start = data.day_start(today)
    if preset == "today":
        return start, data.now(state)
    if preset == "yesterday":
        return start - data.DAY, start
    if preset.startswith("last_") and preset.endswith("d"):
        return start - int(preset[5:-1]) * data.DAY, start
    first = today.replace(day=1)
    if preset == "this_month":
        return data.day_start(first), data.now(state)
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    return data.day_start(previous), data.day_start(first)


def page_value(state, page_id, name, period, day):
    """The value ending on ``day``: the day's own for period=day, the sum of 7/28 days otherwise."""
    if data.account_day(state, page_id, name, day) is None:
        return None
    if period == "day" or name in TOTALS:
        return data.account_day(state, page_id, name, day)
    span = [data.account_day(state, page_id, name, day - dt.timedelta(days=i)) for i in range(PERIOD_DAYS[period])]
    span = [v for v in span if v is not None]
    if isinstance(span[0], dict):
        out: dict[str, int] = {}
        for v in span:
            for k, n in v.items():
                out[k] = out.get(k, 0) + n
        return out
    return sum(span)


def view_breakdowns(ctx, names, allowed: dict) -> list[str]:
    """The ``breakdown`` list, once every metric asked for takes each of them (else code 1, §4.1/§4.3)."""
    breakdowns = list(dict.fromkeys(list_param(ctx, "breakdown")))
    for name in names:
        if any(b not in allowed.get(name, ()) for b in breakdowns):
            raise errors.insights_unsupported_breakdown()
    return breakdowns


def split_entries(parts: dict[tuple[str, ...], int], breakdowns, **extra) -> list[dict]:
    """One value entry per breakdown value, named beside it; zero parts left out (non-zero values only)."""
    return [{"value": n, **extra, **dict(zip(breakdowns, combo, strict=True))} for combo, n in parts.items() if n]


def page_views_split(state, page_id, period, day, breakdowns) -> dict[tuple[str, ...], int] | None:
    """page_media_view ending on ``day`` split by ``breakdowns``: the day's own, or the sum over 7/28 days."""
    if data.account_day(state, page_id, "page_media_view", day) is None:
        return None
    out: dict[tuple[str, ...], int] = {}
    for i in range(PERIOD_DAYS[period]):
        for combo, n in (data.page_views_by(state, page_id, day - dt.timedelta(days=i), breakdowns) or {}).items():
            out[combo] = out.get(combo, 0) + n
    return out


def page_insights(ctx, tok, page_id):
    state = ctx.state
    page_access(ctx, tok, page_id, page_id)
    names = metric_names(ctx)
    if any(n not in PAGE_METRICS for n in names):
        raise errors.insights_invalid_page_metric()  # one bad name fails the whole call (§4.3)
    period = enum(ctx, "period", PERIODS)
    breakdowns = view_breakdowns(ctx, names, PAGE_BREAKDOWNS)
    preset = enum(ctx, "date_preset", DATE_PRESETS)
    if preset and ctx.get("since") in (None, "") and ctx.get("until") in (None, ""):
        since, until = preset_range(state, preset)
        if until - since > PAGE_SPAN_DAYS * data.DAY:
            raise errors.insights_span(PAGE_SPAN_DAYS)
    else:
        # no since/until: the last two days, as Meta answers (two values per metric and period)
        since, until = time_range(ctx, 2, PAGE_SPAN_DAYS)
    days = days_in(state, since, until)
    rows = []
    for name in names:
        for p in PAGE_METRICS[name] if period is None else (period,):
            if p not in PAGE_METRICS[name]:
                continue  # a period the metric does not have: no row (verify)
            if breakdowns:
                values = [
                    entry
                    for d in days
                    if (parts := page_views_split(state, page_id, p, d, breakdowns)) is not None
                    for entry in split_entries(parts, breakdowns, end_time=data.end_time(d))
                ]
            else:
                values = [
                    {"value": v, "end_time": data.end_time(d)}
                    for d in days
                    if (v := page_value(state, page_id, name, p, d)) is not None
                ]
            if values:
                title, description = page_title(name, p)
                rows.append({"name": name, "period": p, "values": values, "title": title,
                             "description": description, "id": f"{page_id}/insights/{name}/{p}"})  # fmt: skip
    return {"data": rows, "paging": paging(ctx, since, until)}


def post_insights(ctx, tok, post_id):
    state = ctx.state
    post = state.data["posts"][post_id]
    page_access(ctx, tok, post["page_id"], post_id)
    names = metric_names(ctx)
    if any(n not in POST_METRICS for n in names):
        raise errors.insights_invalid_page_metric()
    period = enum(ctx, "period", PERIODS)
    breakdowns = view_breakdowns(ctx, names, POST_BREAKDOWNS)
    from ..processing import refresh_post

    refresh_post(state, post)
    at = data.now(state)
    if not post.get("is_published", True) or at < post["ts"]:
        return {"data": []}
    if any(data.unavailable(state, o, data.day_of(at)) for o in (post_id, post["page_id"])):
        return {"data": []}
    figures = data.post_figures(state, post, at)
    rows = []
    for name in names:
        if period in (None, "lifetime"):
            title, description = page_title(name, "lifetime")
            values = [{"value": figures[name]}]
            if breakdowns:
                shares = data.post_view_shares(state, post)
                values = split_entries(data.split_views(figures[name], shares, breakdowns), breakdowns)
            rows.append({"name": name, "period": "lifetime", "values": values, "title": title,
                         "description": description, "id": f"{post_id}/insights/{name}/lifetime"})  # fmt: skip
        if name in POST_DAY_ROWS and period in (None, "lifetime", "day"):
            title, description = page_title(name, "day")
            day = {"value": 0, "end_time": data.end_time(data.last_complete(state))}
            rows.append({"name": name, "period": "day", "values": [day], "title": title,
                         "description": description, "id": f"{post_id}/insights/{name}/day"})  # fmt: skip
    return {"data": rows}


node_edge("facebook", "Page", "insights")(page_insights)
node_edge("facebook", "PagePost", "insights")(post_insights)
