"""Insight figures: computed, never stored per day. A figure is a pure function of (seed, object id, metric, UTC day)
(a hash, see ``unit``), so the same seed always serves the same history, and nothing per day lives in the state.

Days run from UTC midnight to UTC midnight. A day's figure exists once the insights clock (the sandbox clock plus
``offset_days``, moved by ``POST /__sandbox__/activity {"insights_days": N}``) has passed the end of that day, and
for at most two years back (graph-api reference §4.2/§4.3: "data ≤ 2 years"). ``end_time`` is printed as the next
day at 07:00 UTC, as Meta's examples show it (Meta closes days at Pacific midnight; reference §4.1).

Follower totals grow slowly (10–40 % a year) through the day before the seed's anchor (``data["meta"]["anchor"]``),
where they equal the ``followers_count`` the node was seeded with, and keep growing at that pace after it as the clock
advances. The profile's ``followers_count`` (and a Page's ``fan_count``, in proportion) serve the total of the latest
complete day, so the profile field and the latest daily total agree. Follows and unfollows of a day add up to the
change of the total.

Media and Page posts have lifetime figures that grow with the clock from the moment they were published
(1 − e^(−age/τ)); stories are kept 24 hours (reference §4.2).

Controls kept in ``data["insights"]`` (so ``reset`` clears them): ``unavailable`` {object id: [[first, last] ISO
dates]} (those days serve nothing, as Meta does for delayed data), ``small`` [object ids] (fewer than 100
followers: no follows_and_unfollows, follower_count or demographics; Page insights empty), ``offset_days``.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import struct

DAY = 86400
HISTORY_DAYS = 730  # reference §4.2 / §4.3: insights are kept for two years
END_HOUR = 7  # end_time hour printed, as in Meta's examples ("2026-09-01T07:00:00+0000")
STORY_LIFETIME = 86400  # reference §4.2: story insights live 24 hours
FOLLOWER_COUNT_DAYS = 30  # follower_count: last 30 days only (reference §4.1 Limitations)

# Breakdown values (reference §4.1, §4.2)
MEDIA_PRODUCT_TYPES = ("POST", "CAROUSEL_CONTAINER", "REEL", "STORY")
FOLLOW_TYPES = ("FOLLOWER", "NON_FOLLOWER")
CONTACT_BUTTON_TYPES = ("BOOK_NOW", "CALL", "DIRECTION", "EMAIL", "TEXT", "UNDEFINED")
ACTION_TYPES = ("BIO_LINK_CLICKED", "CALL", "DIRECTION", "EMAIL", "OTHER", "TEXT")
NAVIGATION_TYPES = ("TAP_FORWARD", "TAP_BACK", "TAP_EXIT", "SWIPE_FORWARD")
BREAKDOWN_VALUES = {
    "media_product_type": MEDIA_PRODUCT_TYPES,
    "follow_type": FOLLOW_TYPES,
    "follower_type": FOLLOW_TYPES,
    "contact_button_type": CONTACT_BUTTON_TYPES,
    "action_type": ACTION_TYPES,
    "story_navigation_action_type": NAVIGATION_TYPES,
    "age": ("13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"),
    "gender": ("F", "M", "U"),
    "country": ("US", "GB", "DE", "FR", "IT", "ES", "CA", "AU", "BR", "MX", "IN", "NL", "SE", "PL", "JP", "IE"),
    "city": (
        "London, England", "New York, New York", "Berlin, Berlin", "Paris, Île-de-France", "Madrid, Comunidad de "
        "Madrid", "Rome, Lazio", "Toronto, Ontario", "Sydney, New South Wales", "São Paulo, São Paulo",
        "Mexico City, Distrito Federal", "Mumbai, Maharashtra", "Amsterdam, North Holland", "Stockholm, Stockholm "
        "County", "Warsaw, Masovian Voivodeship", "Tokyo, Tokyo", "Dublin, Dublin", "Portland, Oregon",
        "Edinburgh, Scotland",
    ),
}  # fmt: skip
REACTIONS = ("like", "love", "wow", "haha", "sorry", "anger")
REACTION_WEIGHTS = (0.72, 0.14, 0.05, 0.05, 0.02, 0.02)
TOP_RESULTS = 45  # reference §4.1: demographics give the top 45 only


# ------------------------------------------------------------------ the generator
def unit(seed, *parts) -> float:
    """A number in [0, 1) fixed by the seed and the parts."""
    key = ":".join(str(p) for p in (seed, *parts)).encode()
    return struct.unpack(">Q", hashlib.blake2b(key, digest_size=8).digest())[0] / 2**64


def between(seed, lo: float, hi: float, *parts) -> float:
    return lo + (hi - lo) * unit(seed, *parts)


def split(total: int, weights) -> list[int]:
    """``total`` shared out by ``weights`` in whole numbers that add up to ``total`` (largest remainder)."""
    weights = list(weights)
    s = sum(weights) or 1
    raw = [total * w / s for w in weights]
    out = [int(r) for r in raw]
    rest = total - sum(out)
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)[:rest]:
        out[i] += 1
    return out


# ------------------------------------------------------------------ controls and clock
def controls(state) -> dict:
    ins = state.data.get("insights")
    if not isinstance(ins, dict) or "offset_days" not in ins:
        ins = state.data["insights"] = {"offset_days": 0, "unavailable": {}, "small": []}
    return ins


def now(state) -> float:
    return state.clock.now() + controls(state)["offset_days"] * DAY


def day_of(ts: float) -> dt.date:
    return dt.datetime.fromtimestamp(ts, dt.UTC).date()


def day_start(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


def end_time(day: dt.date) -> str:
    return (dt.datetime(day.year, day.month, day.day, END_HOUR, tzinfo=dt.UTC) + dt.timedelta(days=1)).strftime(
        "%Y-%m-%dT%H:%M:%S+0000"
    )


def last_complete(state) -> dt.date:
    """The latest day whose end the insights clock has passed."""
    return day_of(now(state)) - dt.timedelta(days=1)


def first_kept(state) -> dt.date:
    return day_of(now(state)) - dt.timedelta(days=HISTORY_DAYS)


def unavailable(state, obj_id: str, day: dt.date) -> bool:
    iso = day.isoformat()
    return any(a <= iso <= b for a, b in controls(state)["unavailable"].get(obj_id, ()))


def is_small(state, obj_id: str) -> bool:
    return obj_id in controls(state)["small"]


def kind_of(state, obj_id: str) -> str | None:
    d = state.data
    for kind, coll in (("ig", "ig_accounts"), ("page", "pages"), ("media", "ig_media"), ("post", "posts")):
        if obj_id in d.get(coll, {}):
            return kind
    return None


def seed_of(state):
    return state.data["meta"]["seed"]


# ------------------------------------------------------------------ accounts and Pages, per day
def followers_now(state, obj_id: str) -> int:
    """The follower total the node was seeded with: the total on the day before the anchor. It scales the other
    figures (reach, media), which therefore stay the same however far the clock moves."""
    d = state.data
    node = d["ig_accounts"].get(obj_id) or d["pages"].get(obj_id)
    return int(node["followers_count"])


def _peak(state) -> dt.date:
    return day_of(state.data["meta"]["anchor"]) - dt.timedelta(days=1)


def followers_total(state, obj_id: str, day: dt.date) -> int:
    """The follower total at the end of ``day``: the node's seeded followers_count on the day before the anchor,
    smaller before and larger after it (yearly growth 10–40 %, a little noise)."""
    return _total(seed_of(state), obj_id, followers_now(state, obj_id), _peak(state), day)


def profile_followers(state, node: dict) -> int:
    """What the profile's ``followers_count`` shows now: the total of the latest complete day."""
    return _total(seed_of(state), node["id"], int(node["followers_count"]), _peak(state), last_complete(state))


def profile_fans(state, page: dict) -> int:
    """A Page's ``fan_count`` (likes) now: its seeded figure, grown in proportion to the follower total."""
    return int(page["fan_count"]) * profile_followers(state, page) // max(1, int(page["followers_count"]))


def follows(state, obj_id: str, day: dt.date) -> tuple[int, int]:
    """(follows, unfollows) of the day; follows − unfollows is the change of the total."""
    return _follows(seed_of(state), obj_id, followers_now(state, obj_id), _peak(state), day)


def base_figures(state, obj_id: str, day: dt.date) -> dict[str, int]:
    """The day's core figures of an account or Page: reach 80–900, views above reach, engagement below."""
    return _base(seed_of(state), obj_id, followers_now(state, obj_id), _peak(state), day)


def _total(seed, obj_id: str, top: int, peak: dt.date, day: dt.date) -> int:
    """``top`` on ``peak``; the same yearly growth on either side of it, less a wobble of 0–2."""
    back = (peak - day).days
    if back == 0:
        return top
    slope = top * between(seed, 0.10, 0.40, obj_id, "growth") / 365
    return max(0, top - round(slope * back) - int(3 * unit(seed, obj_id, "wobble", day.isoformat())))


def _follows(seed, obj_id: str, top: int, peak: dt.date, day: dt.date) -> tuple[int, int]:
    net = _total(seed, obj_id, top, peak, day) - _total(seed, obj_id, top, peak, day - dt.timedelta(days=1))
    lost = int(5 * unit(seed, obj_id, "unfollows", day.isoformat()))
    gained = net + lost
    if gained < 0:
        lost, gained = lost - gained, 0
    return gained, lost


@functools.lru_cache(maxsize=65536)
def _base(seed, obj_id: str, top: int, peak: dt.date, day: dt.date) -> dict[str, int]:
    iso = day.isoformat()
    scale = between(seed, 0.35, 1.0, obj_id, "scale")
    reach = int(80 + 820 * scale * between(seed, 0.45, 1.0, obj_id, "reach", iso))
    views = reach + int(between(seed, 50, 1500, obj_id, "views", iso))
    engaged = max(1, reach // int(between(seed, 4, 13, obj_id, "engaged", iso)))
    interactions = engaged + int(between(seed, 0, 61, obj_id, "interactions", iso))
    gained, lost = _follows(seed, obj_id, top, peak, day)
    return {
        "reach": reach,
        "views": views,
        "accounts_engaged": engaged,
        "total_interactions": interactions,
        "likes": int(interactions * 0.6),
        "comments": int(interactions * 0.12),
        "shares": int(interactions * 0.1),
        "saves": int(interactions * 0.1),
        "replies": int(interactions * 0.05),
        "reposts": int(interactions * 0.03),
        "profile_links_taps": int(between(seed, 0, 31, obj_id, "taps", iso)),
        "follows": gained,
        "unfollows": lost,
        "followers_total": _total(seed, obj_id, top, peak, day),
        "video_views": int(views * between(seed, 0.1, 0.4, obj_id, "video", iso)),
    }


IG_FROM_BASE = {
    "reach": "reach",
    "views": "views",
    "accounts_engaged": "accounts_engaged",
    "total_interactions": "total_interactions",
    "likes": "likes",
    "comments": "comments",
    "shares": "shares",
    "saves": "saves",
    "replies": "replies",
    "reposts": "reposts",
    "profile_links_taps": "profile_links_taps",
    "follower_count": "follows",
    "followers_count": "followers_total",  # the profile's follower total, stored daily by SocialHub
}
PAGE_FROM_BASE = {
    "page_media_view": "views",
    "page_total_media_view_unique": "reach",
    "page_post_engagements": "total_interactions",
    "page_total_actions": "profile_links_taps",
    "page_video_views": "video_views",
    "page_follows": "followers_total",
    "page_daily_follows_unique": "follows",
    "page_daily_unfollows_unique": "unfollows",
}


def breakdown_of(state, obj_id: str, metric: str, day: dt.date, breakdown: str, total: int) -> dict[str, int]:
    """``total`` of an account metric shared out over a breakdown's values (weights fixed per account, with a
    little daily change)."""
    seed, values = seed_of(state), BREAKDOWN_VALUES[breakdown]
    weights = [
        between(seed, 0.2, 1.0, obj_id, breakdown, v) * between(seed, 0.8, 1.2, obj_id, metric, breakdown, v, day)
        for v in values
    ]
    return dict(zip(values, split(total, weights), strict=True))


def account_day(state, obj_id: str, metric: str, day: dt.date, breakdown: str = ""):
    """What an Instagram account or Page serves for ``metric`` on ``day``: an int, a {value: n} dict for a
    breakdown (or an object-valued Page metric), or None when it serves nothing that day."""
    kind = kind_of(state, obj_id)
    if kind not in ("ig", "page"):
        return None
    if metric == "followers_count" and kind == "ig":
        # the profile's figure as read during that day: the day's total once it is over, today the latest
        # complete day's (what the profile field shows)
        if day > day_of(now(state)):
            return None
        return followers_total(state, obj_id, min(day, last_complete(state)))
    if not (first_kept(state) <= day <= last_complete(state)) or unavailable(state, obj_id, day):
        return None
    small = is_small(state, obj_id)
    if kind == "page":
        if small:
            return None  # Page insights need 100 likes (reference §4.3)
        return page_day(state, obj_id, metric, day)
    if small and metric in ("follows_and_unfollows", "follower_count"):
        return None  # reference §4.1: not returned under 100 followers
    if metric == "follower_count" and day < last_complete(state) - dt.timedelta(days=FOLLOWER_COUNT_DAYS - 1):
        return None
    base = base_figures(state, obj_id, day)
    if metric == "follows_and_unfollows":
        split_values = {"FOLLOWER": base["follows"], "NON_FOLLOWER": base["unfollows"]}
        return split_values if breakdown else base["follows"] + base["unfollows"]
    key = IG_FROM_BASE.get(metric)
    if key is None:
        return None
    total = base[key]
    if breakdown:
        return breakdown_of(state, obj_id, metric, day, breakdown, total)
    return total


def page_day(state, obj_id: str, metric: str, day: dt.date):
    base = base_figures(state, obj_id, day)
    seed, iso = seed_of(state), day.isoformat()
    if metric in PAGE_FROM_BASE:
        return base[PAGE_FROM_BASE[metric]]
    if metric == "page_daily_follows":
        return base["follows"] + int(3 * unit(seed, obj_id, "follows_all", iso))
    if metric == "page_actions_post_reactions_total":
        counts = split(int(base["total_interactions"] * 0.5), REACTION_WEIGHTS)
        return {k: n for k, n in zip(REACTIONS, counts, strict=True) if n}  # Meta leaves out reactions nobody gave
    for reaction, share in zip(REACTIONS, split(int(base["total_interactions"] * 0.5), REACTION_WEIGHTS), strict=True):
        if metric == f"page_actions_post_reactions_{reaction}_total":
            return share
    if metric == "page_lifetime_engaged_followers_unique":
        return int(base["followers_total"] * between(seed, 0.05, 0.2, obj_id, metric))
    # every other Page metric the sandbox accepts: a plausible count
    return int(between(seed, 0, 200, obj_id, metric, iso))


# ------------------------------------------------------------------ Page and post views by origin
VIEW_BREAKDOWNS = ("is_from_ads", "is_from_followers")  # reference §4.3: page_media_view, post_media_view


def split_views(total: int, shares: dict[str, float], breakdowns) -> dict[tuple[str, ...], int]:
    """``total`` views split by each breakdown in turn into "0" (no) and "1" (yes, that share): {("0", "1"): n, …}
    with the values in the order of ``breakdowns``. The parts add up to ``total``."""
    out: dict[tuple[str, ...], int] = {(): total}
    for b in breakdowns:
        nxt: dict[tuple[str, ...], int] = {}
        for combo, n in out.items():
            yes = round(n * shares[b])
            nxt[combo + ("0",)], nxt[combo + ("1",)] = n - yes, yes
        out = nxt
    return out


def page_view_shares(state, obj_id: str, day: dt.date) -> dict[str, float]:
    """The day's share of a Page's views from ads (boosted on about 3 days in 10) and from its followers."""
    seed, iso = seed_of(state), day.isoformat()
    ads = between(seed, 0.05, 0.35, obj_id, "ads", iso) if unit(seed, obj_id, "boosted", iso) < 0.3 else 0.0
    followers = between(seed, 0.25, 0.6, obj_id, "from_followers") * between(seed, 0.85, 1.15, obj_id, "fans", iso)
    return {"is_from_ads": ads, "is_from_followers": followers}


def post_view_shares(state, p: dict) -> dict[str, float]:
    """A post's share of views from ads (about 1 post in 4 is boosted) and from the Page's followers."""
    seed, pid = seed_of(state), p["id"]
    ads = between(seed, 0.2, 0.7, pid, "ads") if unit(seed, pid, "boosted") < 0.25 else 0.0
    return {"is_from_ads": ads, "is_from_followers": between(seed, 0.2, 0.6, pid, "from_followers")}


def page_views_by(state, obj_id: str, day: dt.date, breakdowns) -> dict[tuple[str, ...], int] | None:
    """A Page's page_media_view of ``day`` split by ``breakdowns``; None when the day serves nothing."""
    total = account_day(state, obj_id, "page_media_view", day)
    if total is None:
        return None
    return split_views(total, page_view_shares(state, obj_id, day), breakdowns)


def parse_view_dimension(dimension: str) -> dict[str, str] | None:
    """``"is_from_ads=1"`` or ``"is_from_ads=1,is_from_followers=0"`` → {breakdown: value}; None if it is not one."""
    pairs = [part.partition("=") for part in dimension.split(",")]
    if not all(sep and b in VIEW_BREAKDOWNS and v in ("0", "1") for b, sep, v in pairs):
        return None
    return {b: v for b, _, v in pairs}


def dimension_value(value, dimension: str):
    """One dimension out of a day's value (``""`` = the total; an object value's total is its sum)."""
    if isinstance(value, dict):
        if dimension:
            return value.get(dimension)
        return sum(value.values())
    return None if dimension else value


def demographics(state, obj_id: str, metric: str, breakdowns: list[str], timeframe: str) -> dict | None:
    """{tuple of dimension values: count}, top 45, for follower_demographics / engaged_audience_demographics; None
    when the account is small (reference §4.1: not returned under 100 followers/engagements)."""
    if is_small(state, obj_id) or kind_of(state, obj_id) != "ig":
        return None
    seed, last = seed_of(state), last_complete(state)
    if metric == "follower_demographics":
        total = followers_total(state, obj_id, last)
    else:
        days = 7 if timeframe == "this_week" else 30
        total = sum(base_figures(state, obj_id, last - dt.timedelta(days=i))["accounts_engaged"] for i in range(days))
    combos: list[tuple] = [()]
    for b in breakdowns:
        combos = [c + (v,) for c in combos for v in BREAKDOWN_VALUES[b]]
    weights = []
    for combo in combos:
        w = 1.0
        for b, v in zip(breakdowns, combo, strict=True):
            w *= between(seed, 0.05, 1.0, obj_id, metric, b, v) ** 2
        weights.append(w)
    counts = dict(zip(combos, split(total, weights), strict=True))
    top = sorted((c for c in counts if counts[c]), key=lambda c: (-counts[c], c))[:TOP_RESULTS]
    return {c: counts[c] for c in top} if breakdowns else {(): total}


# ------------------------------------------------------------------ media and Page posts, lifetime
def growth(age: float, tau: float) -> float:
    return 0.0 if age <= 0 else 1 - math.exp(-age / tau)


def media_figures(state, m: dict, at: float | None = None) -> dict:
    """Lifetime figures of an Instagram media at ``at`` (default: the insights clock)."""
    seed, mid = seed_of(state), m["id"]
    at = now(state) if at is None else at
    story = m["media_product_type"] == "STORY"
    followers = followers_now(state, m["owner"]) if m["owner"] in state.data["ig_accounts"] else 500
    if story:
        final = 15 + followers * between(seed, 0.005, 0.03, mid, "reach")
    else:
        final = min(3000, 60 + followers * between(seed, 0.02, 0.15, mid, "reach"))
    g = growth(at - m["ts"], 3 * 3600 if story else 12 * 3600)
    reach = round(final * g)
    views = round(final * between(seed, 1.3, 2.6, mid, "views") * g)

    def part(name, lo, hi):
        return round(final * between(seed, lo, hi, mid, name) * g)

    likes = 0 if story else round((m.get("like_count") or final * between(seed, 0.04, 0.12, mid, "likes")) * g)
    comments = 0 if story else int(m.get("comments_count") or 0)
    saved, shares = part("saved", 0.01, 0.05), part("shares", 0.005, 0.04)
    replies = part("replies", 0.005, 0.03) if story else 0
    visits = part("profile_visits", 0.01, 0.06)
    watch = int(between(seed, 2000, 15000, mid, "watch")) if views else 0
    out = {
        "reach": reach,
        "views": views,
        "likes": likes,
        "comments": comments,
        "saved": saved,
        "shares": shares,
        "reposts": part("reposts", 0.002, 0.01),
        "total_interactions": likes + comments + saved + shares + replies,
        "follows": part("follows", 0.002, 0.01),
        "profile_visits": visits,
        "profile_activity": visits // 2,
        "replies": replies,
        "navigation": round(views * 0.9),
        "link_clicks": part("link_clicks", 0.0, 0.02),
        "ig_reels_avg_watch_time": watch,
        "ig_reels_video_view_total_time": watch * views,
        "reels_skip_rate": int(between(seed, 20, 70, mid, "skip")) if views else 0,
        "crossposted_views": round(views * between(seed, 0.0, 0.1, mid, "crossposted")),
        "total_comments": comments,
        "total_likes": likes,
        "total_views": views,
    }
    return out


def media_breakdown(state, m: dict, metric: str, breakdown: str, total: int) -> dict[str, int]:
    seed, values = seed_of(state), BREAKDOWN_VALUES[breakdown]
    weights = [between(seed, 0.1, 1.0, m["id"], metric, v) for v in values]
    return dict(zip(values, split(total, weights), strict=True))


def post_figures(state, p: dict, at: float | None = None) -> dict:
    """Lifetime figures of a Page post at ``at`` (default: the insights clock)."""
    seed, pid = seed_of(state), p["id"]
    at = now(state) if at is None else at
    followers = followers_now(state, p["page_id"]) if p["page_id"] in state.data["pages"] else 500
    final = 40 + followers * between(seed, 0.02, 0.2, pid, "reach")
    g = growth(at - p["ts"], 12 * 3600)
    reach = round(final * g)
    views = round(final * between(seed, 1.2, 2.2, pid, "views") * g)
    reactions_total = round((p.get("likes") or final * between(seed, 0.05, 0.15, pid, "likes")) * g)
    reactions = split(reactions_total, REACTION_WEIGHTS)
    clicks = round(final * between(seed, 0.02, 0.1, pid, "clicks") * g)
    video = "video" in str(p.get("status_type", "")) or bool(p.get("video_id"))
    link_clicks = round(clicks * 0.3) if p.get("link") else 0
    photo = round(clicks * 0.4)
    out = {
        "post_media_view": views,
        "post_total_media_view_unique": reach,
        "post_clicks": clicks,
        "post_clicks_by_type": {
            k: v for k, v in (("other clicks", clicks - link_clicks - photo), ("link clicks", link_clicks),
                              ("photo view", photo)) if v
        },
        "post_reactions_by_type_total": {k: n for k, n in zip(REACTIONS, reactions, strict=True) if n},
        "post_video_views": round(views * between(seed, 0.3, 0.7, pid, "video")) if video else 0,
        "post_activity_by_action_type": {
            k: v for k, v in (("like", reactions_total), ("comment", int(p.get("comment_count") or 0)),
                              ("share", int(p.get("shares") or 0))) if v
        },
    }  # fmt: skip
    for reaction, n in zip(REACTIONS, reactions, strict=True):
        out[f"post_reactions_{reaction}_total"] = n
    return out


def lifetime_value(state, obj_id: str, metric: str, day: dt.date | None, dimension: str = ""):
    """A media's or Page post's lifetime figure as served at the end of ``day`` (or now)."""
    kind = kind_of(state, obj_id)
    at = now(state)
    if day is not None:
        at = min(at, day_start(day) + DAY)
    if kind == "media":
        m = state.data["ig_media"][obj_id]
        if m.get("parent") or at < m["ts"]:
            return None
        if m["media_product_type"] == "STORY" and at - m["ts"] > STORY_LIFETIME:
            return None
        figures = media_figures(state, m, at)
        if metric not in figures:
            return None
        value = figures[metric]
        if dimension:
            bd = "action_type" if metric == "profile_activity" else "story_navigation_action_type"
            return media_breakdown(state, m, metric, bd, value).get(dimension)
        return value
    if kind == "post":
        p = state.data["posts"][obj_id]
        if not p.get("is_published", True) or at < p["ts"]:
            return None
        value = post_figures(state, p, at).get(metric)
        wanted = parse_view_dimension(dimension) if metric == "post_media_view" and dimension else None
        if wanted:
            # a part that is 0 is left out of the answer (breakdowns list non-zero values only)
            return split_views(value, post_view_shares(state, p), list(wanted))[tuple(wanted.values())] or None
        return dimension_value(value, dimension) if isinstance(value, dict) else (None if dimension else value)
    return None


def value_for_control(state, obj_id: str, metric: str, date_iso: str | None, dimension: str = ""):
    """``GET /__sandbox__/insights/value``: what the endpoints serve for that object, metric, day and dimension."""
    day = dt.date.fromisoformat(date_iso) if date_iso else None
    kind = kind_of(state, obj_id)
    if kind in ("media", "post"):
        return lifetime_value(state, obj_id, metric, day, dimension)
    if kind is None or day is None:
        return None
    if kind == "page":
        from .endpoints.insights import PAGE_METRICS

        if metric not in PAGE_METRICS:
            return None
        wanted = parse_view_dimension(dimension) if metric == "page_media_view" and dimension else None
        if wanted:
            split_values = page_views_by(state, obj_id, day, list(wanted))
            return None if split_values is None else split_values[tuple(wanted.values())] or None
    if kind == "ig" and dimension:
        for breakdown in IG_BREAKDOWNS.get(metric, ()):
            if dimension in BREAKDOWN_VALUES[breakdown]:
                value = account_day(state, obj_id, metric, day, breakdown)
                return None if value is None else value.get(dimension)
        return None
    value = account_day(state, obj_id, metric, day)
    if isinstance(value, dict):
        return dimension_value(value, dimension)
    return None if dimension else value


# Instagram account metrics: the breakdowns each takes with metric_type=total_value (reference §4.1 table)
IG_BREAKDOWNS: dict[str, tuple[str, ...]] = {
    "reach": ("media_product_type", "follow_type"),
    "accounts_engaged": (),
    "total_interactions": ("media_product_type",),
    "likes": ("media_product_type",),
    "comments": ("media_product_type",),
    "shares": ("media_product_type",),
    "saves": ("media_product_type",),
    "replies": (),
    "reposts": (),
    "follows_and_unfollows": ("follow_type",),
    "profile_links_taps": ("contact_button_type",),
    # the metric table writes follower_type; the breakdown enum has follow_type only (reference §8.10): both taken
    "views": ("follower_type", "follow_type", "media_product_type"),
    "follower_demographics": ("age", "city", "country", "gender"),
    "engaged_audience_demographics": ("age", "city", "country", "gender"),
}
