"""The one list of insights metrics SocialHub asks Meta for, and the list of those Meta retired.

For each metric: the node it is read from (Instagram account, Instagram media of a product type, Page, Page
post), its period, `metric_type`, breakdowns, the Graph versions that serve it, the request group it travels in
(one batch operation per group, so a metric Meta refuses costs only its group) and the Meta page it comes from
(graph-api reference §4). Only metrics that the configured `META_GRAPH_VERSION` serves today are requested:
`requested()` is the one way the sync learns what to ask for. A metric being in Meta's machine-readable enum
does not mean Meta still serves it; `RETIRED` records what Meta announced as gone, and a test fails if the
catalogue would request one of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings


class Node(StrEnum):
    IG_USER = "ig_user"  # GET /{ig-user-id}/insights
    IG_MEDIA = "ig_media"  # GET /{ig-media-id}/insights (period lifetime)
    PAGE = "page"  # GET /{page-id}/insights
    PAGE_POST = "page_post"  # GET /{page-post-id}/insights (period lifetime)


# Meta's pages each metric comes from.
IG_USER_DOC = "https://developers.facebook.com/docs/instagram-platform/api-reference/instagram-user/insights"
IG_MEDIA_DOC = "https://developers.facebook.com/docs/instagram-platform/reference/instagram-media/insights"
PAGE_DOC = "https://developers.facebook.com/docs/graph-api/reference/insights"
DEPRECATED_DOC = "https://developers.facebook.com/docs/platforminsights/page/deprecated-metrics"
IG_CHANGELOG = "https://developers.facebook.com/docs/instagram-platform/changelog"

FEED, REELS, STORY = "FEED", "REELS", "STORY"


def version_tuple(version: str) -> tuple[int, int]:
    """`"v25.0"` → `(25, 0)`."""
    major, _, minor = version.lstrip("v").partition(".")
    return int(major), int(minor or 0)


@dataclass(frozen=True)
class Metric:
    name: str
    node: Node
    label: str
    group: str
    period: str = "day"
    metric_type: str = ""  # Instagram account metrics: "total_value" or "time_series"; "" where Meta has none
    breakdown: str = ""  # the breakdown asked for with this metric's group, if any
    product_types: tuple[str, ...] = ()  # Instagram media: the product types that have this metric
    column: str = ""  # PostInsight column this post metric fills (reach, views, likes, …)
    since: str = "v21.0"  # the first Graph version that serves it
    until: str = ""  # the first Graph version that no longer serves it ("" = still served)
    source: str = ""

    def served(self, version: str | None = None) -> bool:
        v = version_tuple(version or settings.META_GRAPH_VERSION)
        if v < version_tuple(self.since):
            return False
        return not (self.until and v >= version_tuple(self.until))


def _ig(name, label, group, **kw) -> Metric:
    return Metric(name, Node.IG_USER, label, group, metric_type="total_value", source=IG_USER_DOC, **kw)


def _media(name, label, group, types, column="", **kw) -> Metric:
    return Metric(
        name, Node.IG_MEDIA, label, group, period="lifetime", product_types=types, column=column,
        source=IG_MEDIA_DOC, **kw,
    )  # fmt: skip


def _page(name, label, group, **kw) -> Metric:
    return Metric(name, Node.PAGE, label, group, source=PAGE_DOC, **kw)


def _post(name, label, group, column="", **kw) -> Metric:
    return Metric(name, Node.PAGE_POST, label, group, period="lifetime", column=column, source=PAGE_DOC, **kw)


ALL_MEDIA = (FEED, REELS, STORY)
METRICS: tuple[Metric, ...] = (
    # --- Instagram account, per day (metric_type=total_value, one day per request) -------------------------
    _ig("reach", "Accounts reached", "ig_reach", breakdown="media_product_type"),
    _ig("views", "Views", "ig_reach", breakdown="media_product_type", since="v22.0"),
    _ig("accounts_engaged", "Accounts engaged", "ig_engagement"),
    _ig("total_interactions", "Interactions", "ig_engagement"),
    _ig("likes", "Likes", "ig_engagement"),
    _ig("comments", "Comments", "ig_engagement"),
    _ig("shares", "Shares", "ig_engagement"),
    _ig("saves", "Saves", "ig_engagement"),
    _ig("replies", "Story replies", "ig_engagement"),
    _ig("profile_links_taps", "Profile link taps", "ig_profile"),
    # FOLLOWER = follows that day, NON_FOLLOWER = unfollows (not returned under 100 followers)
    _ig("follows_and_unfollows", "Follows and unfollows", "ig_follows", breakdown="follow_type"),
    # New followers per day, last 30 days only; a time series (graph-api reference §8.8: served though absent
    # from the 2026 table).
    Metric(
        "follower_count", Node.IG_USER, "New followers", "ig_followers", metric_type="time_series", source=IG_USER_DOC
    ),  # fmt: skip
    # --- Instagram account, audience (period lifetime with a timeframe; one breakdown per request) ----------
    Metric(
        "follower_demographics",
        Node.IG_USER,
        "Followers",
        "ig_audience",
        period="lifetime",
        metric_type="total_value",
        source=IG_USER_DOC,
    ),  # fmt: skip
    Metric(
        "engaged_audience_demographics",
        Node.IG_USER,
        "Engaged audience",
        "ig_audience",
        period="lifetime",
        metric_type="total_value",
        source=IG_USER_DOC,
    ),  # fmt: skip
    # --- Instagram media, lifetime ---------------------------------------------------------------------------
    _media("reach", "Reach", "media_core", ALL_MEDIA, column="reach"),
    _media("views", "Views", "media_core", ALL_MEDIA, column="views", since="v22.0"),
    _media("shares", "Shares", "media_core", ALL_MEDIA, column="shares"),
    _media("total_interactions", "Interactions", "media_core", ALL_MEDIA, column="interactions"),
    _media("likes", "Likes", "media_core", (FEED, REELS), column="likes"),
    _media("comments", "Comments", "media_core", (FEED, REELS), column="comments"),
    _media("saved", "Saves", "media_core", (FEED, REELS), column="saves"),
    _media("follows", "Follows", "media_profile", (FEED, STORY)),
    _media("profile_visits", "Profile visits", "media_profile", (FEED, STORY)),
    _media("replies", "Replies", "media_story", (STORY,)),
    _media("navigation", "Navigation", "media_story", (STORY,)),
    _media("ig_reels_avg_watch_time", "Average watch time (ms)", "media_reels", (REELS,)),
    _media("ig_reels_video_view_total_time", "Total watch time (ms)", "media_reels", (REELS,)),
    # --- Facebook Page, per day (since/until spans of at most 90 days) ----------------------------------------
    _page("page_media_view", "Views", "page_views"),
    _page("page_total_media_view_unique", "Viewers", "page_views"),
    _page("page_post_engagements", "Post engagements", "page_engagement"),
    _page("page_video_views", "Video views", "page_engagement"),
    _page("page_actions_post_reactions_total", "Reactions", "page_engagement"),
    _page("page_follows", "Followers", "page_follows"),
    _page("page_daily_follows_unique", "New follows", "page_follows"),
    _page("page_daily_unfollows_unique", "Unfollows", "page_follows"),
    # --- Facebook Page post, lifetime ----------------------------------------------------------------------
    _post("post_media_view", "Views", "post_core", column="views"),
    _post("post_total_media_view_unique", "Viewers", "post_core", column="reach"),
    _post("post_clicks", "Clicks", "post_core"),
    _post("post_reactions_by_type_total", "Reactions", "post_core", column="likes"),
    _post("post_video_views", "Video views", "post_video"),
)


@dataclass(frozen=True)
class Retirement:
    name: str
    node: Node
    version: str  # the first version that refuses it ("" = all at once)
    all_versions_on: dt.date  # from this date no version serves it
    replacement: str = ""
    source: str = DEPRECATED_DOC


def _retired(names: Iterable[str], node: Node, version: str, on: dt.date, source=DEPRECATED_DOC, replacement=""):
    return [Retirement(n, node, version, on, replacement, source) for n in names]


# What Meta retired, from its deprecated-metrics page, the v21, v22, v25 changelogs and the Aug 15, 2025 blog
# (graph-api reference §4.1–4.3).
RETIRED: tuple[Retirement, ...] = tuple(
    [
        Retirement("impressions", Node.IG_USER, "v22.0", dt.date(2025, 4, 21), "views", IG_CHANGELOG),
        Retirement("impressions", Node.IG_MEDIA, "v22.0", dt.date(2025, 4, 21), "views", IG_CHANGELOG),
        Retirement("video_views", Node.IG_MEDIA, "v21.0", dt.date(2025, 1, 8), "views", IG_CHANGELOG),
        Retirement("profile_views", Node.IG_USER, "v21.0", dt.date(2025, 1, 8), "", IG_CHANGELOG),
        Retirement("website_clicks", Node.IG_USER, "v21.0", dt.date(2025, 1, 8), "profile_links_taps", IG_CHANGELOG),
    ]
    + _retired(("plays", "clips_replays_count", "ig_reels_aggregated_all_plays_count"), Node.IG_MEDIA, "",
               dt.date(2025, 4, 21), IG_CHANGELOG, "views")
    + _retired(("email_contacts", "get_direction_clicks", "text_message_clicks", "phone_call_clicks"),
               Node.IG_USER, "v21.0", dt.date(2025, 1, 8), IG_CHANGELOG, "profile_links_taps")
    + _retired(("page_engaged_users", "page_consumptions", "page_consumptions_unique", "page_content_activity",
                "page_content_activity_by_action_type", "page_fans_gender_age"), Node.PAGE, "", dt.date(2024, 3, 14))
    + _retired(("post_engaged_users", "post_negative_feedback", "post_negative_feedback_unique",
                "post_clicks_unique"), Node.PAGE_POST, "", dt.date(2024, 3, 14))
    + _retired(("page_fans", "page_fans_locale", "page_fans_city", "page_fans_country", "page_fan_adds",
                "page_fan_adds_unique", "page_fan_removes", "page_fan_removes_unique", "page_impressions",
                "page_impressions_paid", "page_impressions_viral", "page_impressions_nonviral"),
               Node.PAGE, "", dt.date(2025, 11, 15))
    + _retired(("post_impressions", "post_impressions_paid", "post_impressions_fan", "post_impressions_organic",
                "post_impressions_viral", "post_impressions_nonviral"), Node.PAGE_POST, "", dt.date(2025, 11, 15),
               replacement="post_media_view")
    + _retired(("page_impressions_unique", "page_impressions_paid_unique", "page_impressions_viral_unique",
                "page_impressions_nonviral_unique", "page_posts_impressions", "page_posts_impressions_unique",
                "page_posts_impressions_paid", "page_posts_impressions_paid_unique",
                "page_posts_impressions_organic", "page_posts_impressions_organic_unique",
                "page_posts_impressions_viral", "page_posts_impressions_viral_unique",
                "page_posts_impressions_nonviral", "page_posts_impressions_nonviral_unique",
                "page_posts_served_impressions_organic_unique", "page_video_views_unique"),
               Node.PAGE, "v26.0", dt.date(2026, 6, 15), replacement="page_total_media_view_unique")
    + _retired(("post_impressions_unique", "post_impressions_paid_unique", "post_impressions_fan_unique",
                "post_impressions_organic_unique", "post_impressions_viral_unique",
                "post_impressions_nonviral_unique", "post_video_views_unique"),
               Node.PAGE_POST, "v26.0", dt.date(2026, 6, 15), replacement="post_total_media_view_unique")
    # Refused by Meta on every post type ([OBS 2026-08-11] production probe, graph-api reference §4.3).
    + _retired(("post_reach", "post_total_media_view", "post_media_view_unique"), Node.PAGE_POST, "",
               dt.date(2026, 8, 11))
)  # fmt: skip


def retired(name: str, node: Node, *, version: str | None = None, today: dt.date | None = None) -> Retirement | None:
    """The retirement that stops Meta serving `name` on `node` for this version today, if any."""
    v = version_tuple(version or settings.META_GRAPH_VERSION)
    today = today or dt.datetime.now(dt.UTC).date()
    for r in RETIRED:
        if r.name == name and r.node == node:
            if today >= r.all_versions_on or (r.version and v >= version_tuple(r.version)):
                return r
    return None


def requested(node: Node, *, product_type: str = "", version: str | None = None) -> list[Metric]:
    """The catalogue's metrics for `node` (and Instagram media product type) that the version serves."""
    return [
        m
        for m in METRICS
        if m.node == node
        and m.served(version)
        and (not product_type or not m.product_types or product_type in m.product_types)
        and retired(m.name, node, version=version) is None
    ]


def groups(node: Node, *, product_type: str = "", version: str | None = None) -> dict[str, list[Metric]]:
    """`requested()` by request group, in catalogue order: one Graph request (batch operation) per group."""
    out: dict[str, list[Metric]] = {}
    for m in requested(node, product_type=product_type, version=version):
        out.setdefault(m.group, []).append(m)
    return out


def metric(name: str, node: Node) -> Metric:
    return next(m for m in METRICS if m.name == name and m.node == node)


AUDIENCE_BREAKDOWNS = ("age", "gender", "city", "country")
AUDIENCE_TIMEFRAME = "this_month"
FOLLOWERS_TOTAL = "followers_count"  # stored daily from the account's profile field (not an insights metric)


@dataclass(frozen=True)
class Kpi:
    """A figure shown for every channel whatever its platform: the stored metric (and breakdown value, "" for the
    metric's total) it comes from on each platform, and how a period adds up ("sum" of the days, or "last": the
    latest day's value, for totals like followers). `hint` says in words what the figure is when its name alone
    could mislead."""

    key: str
    label: str
    instagram: str
    facebook: str
    aggregate: str = "sum"
    instagram_dimension: str = ""
    facebook_dimension: str = ""
    hint: str = ""

    def metric_for(self, platform: str) -> str:
        return self.instagram if platform == "instagram" else self.facebook

    def dimension_for(self, platform: str) -> str:
        return self.instagram_dimension if platform == "instagram" else self.facebook_dimension


KPIS: tuple[Kpi, ...] = (
    Kpi("followers", "Followers", FOLLOWERS_TOTAL, "page_follows", aggregate="last"),
    # Instagram's new followers: the FOLLOWER side of follows_and_unfollows, stored for as many days as the other
    # account figures (follower_count is served for the last 30 days only).
    Kpi(
        "new_followers",
        "New followers",
        "follows_and_unfollows",
        "page_daily_follows_unique",
        instagram_dimension="FOLLOWER",
    ),
    Kpi(
        "reach",
        "Reach",
        "reach",
        "page_total_media_view_unique",
        hint="Daily reach, summed: an account reached on several days, or by several channels, counts each time.",
    ),
    Kpi("views", "Views", "views", "page_media_view"),
    Kpi("engagement", "Engagement", "total_interactions", "page_post_engagements"),
)


def kpi(key: str) -> Kpi:
    return next(k for k in KPIS if k.key == key)
