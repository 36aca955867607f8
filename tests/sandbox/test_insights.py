"""Insights over HTTP as Meta answers them (graph-api reference §4): Instagram account and media insights on both
hosts, Page and Page post insights, their refusals with Meta's codes and texts, batch, the request's Graph version,
and the history's rules: deterministic per seed, growing with the sandbox clock (follower totals and the profile's
followers_count too), unavailable days empty rather than 0."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest
import requests

from sandbox.client import SandboxProcess, appsecret_proof

from .helpers import APP_SECRET, error_of, get, ig_get, post

V = "/v25.0"
DAY = 86400
SCOPES = [
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_posts",
    "read_insights",
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_insights",
]


@pytest.fixture
def fb(sandbox, sandbox_control):
    """The first seeded person's Page with a linked Instagram account, with the insights permissions."""
    out = sandbox_control.issue_facebook_token(scopes=SCOPES)
    page = next(p for p in out["pages"] if p["instagram_business_account"])
    return SimpleNamespace(
        base=sandbox.url,
        user=out["access_token"],
        page_id=page["id"],
        page=page["access_token"],
        ig_id=page["instagram_business_account"]["id"],
        control=sandbox_control,
    )


def day(control, back: int = 1) -> dt.date:
    """A UTC day on the sandbox clock, ``back`` days before today."""
    return dt.datetime.fromtimestamp(control.clock()["now"], dt.UTC).date() - dt.timedelta(days=back)


def unix(d: dt.date) -> int:
    return int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC).timestamp())


def one_day(d: dt.date) -> dict:
    return {"since": unix(d), "until": unix(d) + DAY}


def ig_insights(fb, **params):
    return get(fb.base, f"{V}/{fb.ig_id}/insights", fb.user, **params)


def page_insights(fb, **params):
    return get(fb.base, f"{V}/{fb.page_id}/insights", fb.page, **params)


def refused(r) -> tuple:
    err = error_of(r)
    return r.status_code, err["code"], err.get("error_subcode"), err["message"]


def rows(r) -> dict:
    assert r.status_code == 200, r.text
    return {(row["name"], row["period"]): row for row in r.json()["data"]}


def publish_image(fb, media_server, image="square.jpg", **params):
    made = post(fb.base, f"{V}/{fb.ig_id}/media", fb.user, image_url=media_server(image), **params)
    assert made.status_code == 200, made.text
    done = post(fb.base, f"{V}/{fb.ig_id}/media_publish", fb.user, creation_id=made.json()["id"])
    assert done.status_code == 200, done.text
    return done.json()["id"]


# ------------------------------------------------------------------ Instagram account
def test_account_total_value_with_breakdown_is_what_the_control_says(fb):
    yesterday = day(fb.control)
    r = ig_insights(
        fb, metric="reach,views", period="day", metric_type="total_value", breakdown="media_product_type",
        **one_day(yesterday),
    )  # fmt: skip
    got = rows(r)
    reach = got[("reach", "day")]
    assert reach["id"] == f"{fb.ig_id}/insights/reach/day" and reach["title"] and "description" in reach
    assert "values" not in reach
    total = reach["total_value"]["value"]
    assert 80 <= total <= 900
    assert total == fb.control.insights_value(fb.ig_id, "reach", yesterday.isoformat())
    (bd,) = reach["total_value"]["breakdowns"]
    assert bd["dimension_keys"] == ["media_product_type"]
    results = {res["dimension_values"][0]: res["value"] for res in bd["results"]}
    assert set(results) == {"POST", "CAROUSEL_CONTAINER", "REEL", "STORY"} and sum(results.values()) == total
    assert results["REEL"] == fb.control.insights_value(fb.ig_id, "reach", yesterday.isoformat(), "REEL")
    assert got[("views", "day")]["total_value"]["value"] > total  # views above reach
    assert set(r.json()["paging"]) == {"previous", "next"}
    assert fb.ig_id in json.loads(r.headers["X-Business-Use-Case-Usage"])


def test_account_time_series_and_follower_count_last_30_days(fb):
    last = day(fb.control)
    r = ig_insights(fb, metric="reach,follower_count", period="day", since=unix(last - dt.timedelta(days=6)),
                    until=unix(last) + DAY)  # fmt: skip
    got = rows(r)
    values = got[("reach", "day")]["values"]
    assert [v["end_time"] for v in values] == [
        f"{(last - dt.timedelta(days=i - 1)).isoformat()}T07:00:00+0000" for i in range(6, -1, -1)
    ]
    assert values[-1]["value"] == fb.control.insights_value(fb.ig_id, "reach", last.isoformat())
    assert len(got[("follower_count", "day")]["values"]) == 7
    # follower_count serves the last 30 days only: an older span has no row at all, reach still has its days
    old = last - dt.timedelta(days=45)
    got = rows(ig_insights(fb, metric="reach,follower_count", period="day", since=unix(old), until=unix(old) + 5 * DAY))
    assert ("follower_count", "day") not in got and len(got[("reach", "day")]["values"]) == 5


def test_account_follows_and_demographics(fb):
    yesterday = day(fb.control)
    got = rows(ig_insights(fb, metric="follows_and_unfollows", period="day", metric_type="total_value",
                           breakdown="follow_type", **one_day(yesterday)))  # fmt: skip
    row = got[("follows_and_unfollows", "day")]["total_value"]
    split = {res["dimension_values"][0]: res["value"] for res in row["breakdowns"][0]["results"]}
    assert split["FOLLOWER"] == fb.control.insights_value(fb.ig_id, "follower_count", yesterday.isoformat())
    assert split["FOLLOWER"] + split["NON_FOLLOWER"] == row["value"]
    r = ig_insights(fb, metric="follower_demographics", period="lifetime", metric_type="total_value",
                    breakdown="country", timeframe="this_month")  # fmt: skip
    (bd,) = rows(r)[("follower_demographics", "lifetime")]["total_value"]["breakdowns"]
    assert bd["dimension_keys"] == ["timeframe", "country"]
    assert all(res["dimension_values"][0] == "THIS_MONTH" for res in bd["results"]) and len(bd["results"]) <= 45


def test_account_refusals_with_metas_codes_and_texts(fb):
    served_day = "reach, accounts_engaged, total_interactions, likes, comments, shares, saves, replies, reposts, "
    cases = [
        # views (total_value only) without metric_type: the time-series metrics are listed
        (dict(metric="views", period="day"), (400, 100, None, "(#100) metric[0] must be one of the following "
                                              "values: reach, follower_count, accounts_engaged, total_interactions")),
        # retired metrics, at their place in the list
        (dict(metric="reach,impressions", period="day", metric_type="total_value"),
         (400, 100, None, "(#100) metric[1] must be one of the following values: " + served_day
          + "follows_and_unfollows, profile_links_taps, views")),
    ]  # fmt: skip
    for params, expected in cases:
        assert refused(ig_insights(fb, **params)) == expected
    for name in ("profile_views", "website_clicks", "email_contacts", "impressions"):
        message = refused(ig_insights(fb, metric=name, period="day", metric_type="total_value"))[3]
        assert message.startswith("(#100) metric[0] must be one of the following values: ") and name not in message
    assert refused(ig_insights(fb, period="day")) == (
        400, 3001, 1504028,
        "No metric was specified to be fetched. Please specify one or more metrics to be fetched and try again.",
    )  # fmt: skip
    # a breakdown the metric does not take
    r = ig_insights(fb, metric="accounts_engaged", period="day", metric_type="total_value", breakdown="follow_type")
    assert refused(r)[1:] == (1, None, "An unknown error has occurred.")
    # demographics: a timeframe is required, and the last_* ones are refused since v20
    demo = dict(metric="follower_demographics", period="lifetime", metric_type="total_value", breakdown="age")
    assert refused(ig_insights(fb, **demo))[1] == 100
    assert refused(ig_insights(fb, **demo, timeframe="last_30_days"))[1:3] == (100, None)
    assert rows(ig_insights(fb, **demo, timeframe="this_week"))
    # since/until at most 30 days apart
    last = day(fb.control)
    r = ig_insights(fb, metric="reach", period="day", since=unix(last) - 31 * DAY, until=unix(last))
    assert refused(r) == (
        400,
        100,
        None,
        "(#100) There cannot be more than 30 days (2592000 s) between since and until",
    )


def test_accounts_engaged_and_total_interactions_as_time_series(fb):
    last = day(fb.control)
    span = dict(since=unix(last - dt.timedelta(days=4)), until=unix(last) + DAY)
    got = rows(ig_insights(fb, metric="accounts_engaged,total_interactions", period="day", **span))
    for name in ("accounts_engaged", "total_interactions"):
        values = got[(name, "day")]["values"]
        assert len(values) == 5
        for i, value in enumerate(values):
            d = last - dt.timedelta(days=4 - i)
            assert value["end_time"] == f"{(d + dt.timedelta(days=1)).isoformat()}T07:00:00+0000"
            assert value["value"] == fb.control.insights_value(fb.ig_id, name, d.isoformat())
        # the same day read as total_value gives the same figure
        total = rows(ig_insights(fb, metric=name, period="day", metric_type="total_value", **one_day(last)))
        assert total[(name, "day")]["total_value"]["value"] == values[-1]["value"]


def test_views_are_served_from_graph_v22(fb):
    yesterday = day(fb.control)
    params = dict(metric="reach,views", period="day", metric_type="total_value", **one_day(yesterday))
    old = get(fb.base, f"/v21.0/{fb.ig_id}/insights", fb.user, **params)
    code, _, _, message = refused(old)
    assert code == 400 and message.startswith("(#100) metric[1] must be one of the following values: reach, ")
    assert "views" not in message.split(": ", 1)[1].split(", ")
    new = rows(get(fb.base, f"/v22.0/{fb.ig_id}/insights", fb.user, **params))
    assert new[("views", "day")]["total_value"]["value"] == fb.control.insights_value(
        fb.ig_id, "views", yesterday.isoformat()
    )
    assert rows(get(fb.base, f"/v21.0/{fb.ig_id}/insights", fb.user, **dict(params, metric="reach")))
    # media insights the same way
    media = get(fb.base, f"{V}/{fb.ig_id}/media", fb.user, fields="id,media_product_type").json()["data"]
    feed = next(m["id"] for m in media if m["media_product_type"] == "FEED")
    message = refused(get(fb.base, f"/v21.0/{feed}/insights", fb.user, metric="reach,views"))[3]
    assert message.startswith("(#100) metric[1] must be one of the following values: comments, likes, saved")
    assert "views" not in message.split(": ", 1)[1].split(", ")
    assert rows(get(fb.base, f"/v22.0/{feed}/insights", fb.user, metric="reach,views"))[("views", "lifetime")]


def test_time_series_drops_breakdowns(fb):
    got = rows(ig_insights(fb, metric="reach", period="day", breakdown="media_product_type"))
    assert "values" in got[("reach", "day")] and "total_value" not in got[("reach", "day")]


def test_instagram_login_reads_its_own_account_on_graph_instagram_com(sandbox, sandbox_control):
    acc = next(a for a in sandbox_control.state()["ig_accounts"] if a["login_only"])
    token = sandbox_control.issue_instagram_token(acc["id"])["access_token"]
    yesterday = day(sandbox_control)
    r = ig_get(sandbox.url, f"{V}/me/insights", token, metric="reach", period="day", metric_type="total_value",
               **one_day(yesterday))  # fmt: skip
    row = rows(r)[("reach", "day")]
    assert row["total_value"]["value"] == sandbox_control.insights_value(acc["id"], "reach", yesterday.isoformat())
    # without instagram_business_manage_insights: (#10) (grants add up, so start from a fresh sandbox)
    sandbox_control.reset()
    bare = sandbox_control.issue_instagram_token(acc["id"], scopes=["instagram_business_basic"])["access_token"]
    r = ig_get(sandbox.url, f"{V}/me/insights", bare, metric="reach", period="day", metric_type="total_value")
    assert refused(r) == (403, 10, None, "(#10) This endpoint requires the 'instagram_business_manage_insights' "
                          "permission.")  # fmt: skip


def test_facebook_login_needs_the_insights_permissions(sandbox, sandbox_control):
    out = sandbox_control.issue_facebook_token(scopes=["pages_show_list", "pages_read_engagement", "instagram_basic"])
    page = next(p for p in out["pages"] if p["instagram_business_account"])
    ig_id = page["instagram_business_account"]["id"]
    r = get(sandbox.url, f"{V}/{ig_id}/insights", out["access_token"], metric="reach", period="day")
    assert refused(r)[:2] == (403, 10) and "instagram_manage_insights" in refused(r)[3]
    r = get(sandbox.url, f"{V}/{page['id']}/insights", page["access_token"], metric="page_media_view")
    assert refused(r)[:2] == (403, 10) and "read_insights" in refused(r)[3]


# ------------------------------------------------------------------ history: determinism, clock, availability
def test_same_seed_same_figures(fb):
    yesterday = day(fb.control).isoformat()
    cases = ((fb.ig_id, "reach"), (fb.page_id, "page_media_view"), (fb.page_id, "page_follows"))
    with SandboxProcess.start(seed=1) as twin:
        for obj, metric in cases:
            mine = fb.control.insights_value(obj, metric, yesterday)
            assert mine is not None and twin.control.insights_value(obj, metric, yesterday) == mine


def test_history_grows_with_the_clock_and_keeps_two_years(fb):
    today = day(fb.control, 0)
    assert fb.control.insights_value(fb.ig_id, "reach", today.isoformat()) is None  # the day is not over
    kept = fb.control.insights_value(fb.ig_id, "reach", (today - dt.timedelta(days=1)).isoformat())
    assert fb.control.insights_value(fb.ig_id, "reach", (today - dt.timedelta(days=729)).isoformat()) is not None
    assert fb.control.insights_value(fb.ig_id, "reach", (today - dt.timedelta(days=731)).isoformat()) is None
    before = rows(page_insights(fb, metric="page_media_view", period="day"))[("page_media_view", "day")]["values"]
    fb.control.clock_advance(DAY)
    after = rows(page_insights(fb, metric="page_media_view", period="day"))[("page_media_view", "day")]["values"]
    assert after[0] == before[1]  # the two latest days moved on by one; a day's figure never changes
    assert after[1]["end_time"] == f"{(today + dt.timedelta(days=1)).isoformat()}T07:00:00+0000"
    assert fb.control.insights_value(fb.ig_id, "reach", today.isoformat()) is not None
    assert fb.control.insights_value(fb.ig_id, "reach", (today - dt.timedelta(days=1)).isoformat()) == kept


def test_unavailable_days_are_empty_never_zero(fb):
    yesterday = day(fb.control)
    fb.control.insights_unavailable(fb.ig_id, yesterday.isoformat(), yesterday.isoformat())
    r = ig_insights(fb, metric="reach,views", period="day", metric_type="total_value", **one_day(yesterday))
    assert r.status_code == 200 and r.json()["data"] == []
    assert fb.control.insights_value(fb.ig_id, "reach", yesterday.isoformat()) is None
    week = ig_insights(fb, metric="reach", period="day", since=unix(yesterday) - 6 * DAY, until=unix(yesterday) + DAY)
    ends = [v["end_time"][:10] for v in rows(week)[("reach", "day")]["values"]]
    assert len(ends) == 6 and (yesterday + dt.timedelta(days=1)).isoformat() not in ends
    fb.control.reset()  # reset clears the controls
    assert fb.control.insights_value(fb.ig_id, "reach", yesterday.isoformat()) is not None


def test_small_accounts_and_pages(fb):
    fb.control.insights_small(fb.ig_id)
    fb.control.insights_small(fb.page_id)
    yesterday = day(fb.control)
    r = ig_insights(fb, metric="follows_and_unfollows,reach", period="day", metric_type="total_value",
                    **one_day(yesterday))  # fmt: skip
    assert list(rows(r)) == [("reach", "day")]
    r = ig_insights(fb, metric="follower_demographics", period="lifetime", metric_type="total_value",
                    breakdown="age", timeframe="this_month")  # fmt: skip
    assert r.json()["data"] == []
    assert page_insights(fb, metric="page_media_view,page_follows").json()["data"] == []
    fb.control.insights_small(fb.page_id, small=False)
    assert page_insights(fb, metric="page_media_view").json()["data"]


def test_follower_totals_keep_growing_and_the_profiles_follow(fb):
    def ig_followers():
        return get(fb.base, f"{V}/{fb.ig_id}", fb.user, fields="followers_count").json()["followers_count"]

    def page_node():
        return get(fb.base, f"{V}/{fb.page_id}", fb.page, fields="followers_count,fan_count").json()

    ig_before, page_before = ig_followers(), page_node()
    assert ig_before == fb.control.insights_value(fb.ig_id, "followers_count", day(fb.control, 0).isoformat())
    fb.control.activity(insights_days=60)
    last = dt.date.fromisoformat(fb.control.insights_state()["through"])
    ig_after, page_after = ig_followers(), page_node()
    # the profile shows the latest complete day's total, which has grown since
    assert ig_after > ig_before
    assert ig_after == fb.control.insights_value(fb.ig_id, "followers_count", last.isoformat())
    assert ig_after == fb.control.insights_value(fb.ig_id, "followers_count", (last + dt.timedelta(days=1)).isoformat())
    assert page_after["followers_count"] > page_before["followers_count"]
    assert page_after["fan_count"] > page_before["fan_count"]
    follows = rows(page_insights(fb, metric="page_follows", period="day"))[("page_follows", "day")]["values"]
    assert follows[-1]["value"] == page_after["followers_count"]
    # each new day: follows − unfollows = the change of the total
    for d in (last, last - dt.timedelta(days=30)):
        got = rows(ig_insights(fb, metric="follows_and_unfollows", period="day", metric_type="total_value",
                               breakdown="follow_type", **one_day(d)))  # fmt: skip
        (bd,) = got[("follows_and_unfollows", "day")]["total_value"]["breakdowns"]
        split = {res["dimension_values"][0]: res["value"] for res in bd["results"]}
        change = fb.control.insights_value(fb.ig_id, "followers_count", d.isoformat()) - fb.control.insights_value(
            fb.ig_id, "followers_count", (d - dt.timedelta(days=1)).isoformat()
        )
        assert split["FOLLOWER"] - split["NON_FOLLOWER"] == change
        page_change = fb.control.insights_value(fb.page_id, "page_follows", d.isoformat()) - fb.control.insights_value(
            fb.page_id, "page_follows", (d - dt.timedelta(days=1)).isoformat()
        )
        assert page_change == fb.control.insights_value(
            fb.page_id, "page_daily_follows_unique", d.isoformat()
        ) - fb.control.insights_value(fb.page_id, "page_daily_unfollows_unique", d.isoformat())


def test_activity_moves_the_insights_clock(fb):
    before = fb.control.state()["insights"]["through"]
    fb.control.activity(insights_days=2)
    after = fb.control.state()["insights"]["through"]
    assert dt.date.fromisoformat(after) - dt.date.fromisoformat(before) == dt.timedelta(days=2)


# ------------------------------------------------------------------ Instagram media
def test_media_insights_by_product_type(fb):
    media = get(fb.base, f"{V}/{fb.ig_id}/media", fb.user, fields="id,media_product_type").json()["data"]
    feed = next(m["id"] for m in media if m["media_product_type"] == "FEED")
    reel = next(m["id"] for m in media if m["media_product_type"] == "REELS")
    r = get(fb.base, f"{V}/{feed}/insights", fb.user, metric="reach,views,likes,comments,saved,shares")
    got = rows(r)
    assert got[("reach", "lifetime")]["values"][0]["value"] > 0
    assert got[("reach", "lifetime")]["id"] == f"{feed}/insights/reach/lifetime"
    assert got[("views", "lifetime")]["values"][0]["value"] >= got[("reach", "lifetime")]["values"][0]["value"]
    assert rows(get(fb.base, f"{V}/{reel}/insights", fb.user, metric="ig_reels_avg_watch_time,reach"))
    r = get(fb.base, f"{V}/{feed}/insights", fb.user, metric="ig_reels_avg_watch_time")
    assert refused(r) == (400, 100, None, "(#100) The Media Insights API does not support the ig_reels_avg_watch_time "
                          "metric for this media product type.")  # fmt: skip
    for retired in (
        "impressions",
        "plays",
        "clips_replays_count",
        "ig_reels_aggregated_all_plays_count",
        "video_views",
    ):
        message = refused(get(fb.base, f"{V}/{reel}/insights", fb.user, metric=f"reach,{retired}"))[3]
        assert message.startswith("(#100) metric[1] must be one of the following values: comments, likes, saved")
        assert retired not in message.split(": ", 1)[1].split(", ")
    r = get(fb.base, f"{V}/{feed}/insights", fb.user, metric="profile_activity", breakdown="action_type")
    (bd,) = rows(r)[("profile_activity", "lifetime")]["total_value"]["breakdowns"]
    assert bd["dimension_keys"] == ["action_type"]
    assert refused(get(fb.base, f"{V}/{feed}/insights", fb.user, metric="reach", breakdown="action_type"))[1] == 1


def test_published_media_start_near_zero_and_grow(fb, media_server):
    mid = publish_image(fb, media_server)

    def reach():
        r = get(fb.base, f"{V}/{mid}/insights", fb.user, metric="reach")
        return rows(r)[("reach", "lifetime")]["values"][0]["value"]

    first = reach()
    fb.control.clock_advance(6 * 3600)
    later = reach()
    fb.control.clock_advance(3 * DAY)
    assert first <= 5 < later < reach()
    assert fb.control.insights_value(mid, "reach", None) == reach()


def test_story_insights_need_five_viewers_and_last_24_hours(fb, media_server):
    story = publish_image(fb, media_server, "story.jpg", media_type="STORIES")
    r = get(fb.base, f"{V}/{story}/insights", fb.user, metric="reach,navigation")
    assert refused(r) == (400, 10, None, "(#10) Not enough viewers for the media to show insights")
    assert refused(get(fb.base, f"{V}/{story}/insights", fb.user, metric="likes"))[3].startswith(
        "(#100) The Media Insights API does not support the likes metric"
    )
    fb.control.clock_advance(6 * 3600)
    assert rows(get(fb.base, f"{V}/{story}/insights", fb.user, metric="reach,navigation,replies"))
    fb.control.clock_advance(19 * 3600)
    r = get(fb.base, f"{V}/{story}/insights", fb.user, metric="reach")
    assert r.status_code == 200 and r.json() == {"data": []}


# ------------------------------------------------------------------ Page and Page posts
def test_page_insights_shapes_periods_and_paging(fb):
    got = rows(page_insights(fb, metric="page_media_view,page_follows,page_actions_post_reactions_total"))
    assert set(got) == {
        ("page_media_view", "day"), ("page_media_view", "week"), ("page_media_view", "days_28"),
        ("page_follows", "day"),
        ("page_actions_post_reactions_total", "day"), ("page_actions_post_reactions_total", "week"),
        ("page_actions_post_reactions_total", "days_28"),
    }  # fmt: skip
    follows = got[("page_follows", "day")]
    assert follows["id"] == f"{fb.page_id}/insights/page_follows/day" and len(follows["values"]) == 2
    node = get(fb.base, f"{V}/{fb.page_id}", fb.page, fields="followers_count").json()
    assert follows["values"][-1]["value"] == node["followers_count"]
    reactions = got[("page_actions_post_reactions_total", "day")]["values"][-1]["value"]
    assert isinstance(reactions, dict) and "like" in reactions
    last = day(fb.control)
    r = page_insights(fb, metric="page_daily_follows_unique", period="day", since=(last - dt.timedelta(days=89))
                      .isoformat(), until=(last + dt.timedelta(days=1)).isoformat())  # fmt: skip
    values = rows(r)[("page_daily_follows_unique", "day")]["values"]
    assert len(values) == 90 and values[0]["end_time"].startswith((last - dt.timedelta(days=88)).isoformat())
    nxt = r.json()["paging"]["next"]
    assert f"since={unix(last) + DAY}" in nxt and f"until={unix(last) + DAY + 90 * DAY}" in nxt
    assert values[-1]["value"] == fb.control.insights_value(fb.page_id, "page_daily_follows_unique", last.isoformat())


def test_page_refusals(fb):
    invalid = (400, 100, None, "(#100) The value must be a valid insights metric")
    for retired in ("page_fans", "page_impressions", "page_impressions_unique", "page_posts_impressions",
                    "page_video_views_unique", "page_engaged_users"):  # fmt: skip
        assert refused(page_insights(fb, metric=f"page_media_view,{retired}")) == invalid  # one bad name fails all
    assert refused(page_insights(fb))[1:3] == (3001, 1504028)
    r = page_insights(fb, metric="page_media_view", since="2026-01-01", until="2026-04-02")
    assert refused(r) == (
        400,
        100,
        None,
        "(#100) There cannot be more than 90 days (7776000 s) between since and until",
    )
    # graph.instagram.com serves no Pages
    acc = next(a for a in fb.control.state()["ig_accounts"] if a["login_only"])
    token = fb.control.issue_instagram_token(acc["id"])["access_token"]
    assert refused(ig_get(fb.base, f"{V}/{fb.page_id}/insights", token, metric="page_media_view"))[1:3] == (100, 33)


def by_day(values: list[dict], key: str) -> dict[str, dict[str, int]]:
    """{end_time: {breakdown value: n}} of a broken-down Page row."""
    out: dict[str, dict[str, int]] = {}
    for v in values:
        out.setdefault(v["end_time"], {})[v[key]] = v["value"]
    return out


def end_of(d: dt.date) -> str:
    """The end_time Meta prints for the day ``d``."""
    return f"{(d + dt.timedelta(days=1)).isoformat()}T07:00:00+0000"


def test_page_views_by_ads_and_by_followers(fb):
    last = day(fb.control)
    span = dict(since=unix(last - dt.timedelta(days=29)), until=unix(last) + DAY)

    def views(period="day", **params):
        return rows(page_insights(fb, metric="page_media_view", period=period, **params))[("page_media_view", period)]

    totals = {v["end_time"]: v["value"] for v in views(**span)["values"]}
    assert len(totals) == 30
    splits = {}
    for key in ("is_from_ads", "is_from_followers"):
        values = views(breakdown=key, **span)["values"]
        assert all(set(v) == {"value", "end_time", key} and v["value"] > 0 for v in values)  # zero parts left out
        split = splits[key] = by_day(values, key)
        assert {end: sum(parts.values()) for end, parts in split.items()} == totals
        assert all(set(parts) <= {"0", "1"} for parts in split.values())
        both = [parts for parts in split.values() if set(parts) == {"0", "1"}]
        assert both and (key == "is_from_followers" or len(both) < 30)  # ads on some days, followers every day
        for d in (last, last - dt.timedelta(days=29)):
            for flag in ("0", "1"):
                served = fb.control.insights_value(fb.page_id, "page_media_view", d.isoformat(), f"{key}={flag}")
                assert served == split[end_of(d)].get(flag)
    # both at once: one entry per pair of values, still adding up to the day's total
    sums: dict[str, int] = {}
    for v in views(breakdown="is_from_ads,is_from_followers", **span)["values"]:
        assert v["is_from_ads"] in ("0", "1") and v["is_from_followers"] in ("0", "1")
        sums[v["end_time"]] = sums.get(v["end_time"], 0) + v["value"]
    assert sums == totals
    # a week sums the week's days, split the same way
    week = by_day(views("week", breakdown="is_from_ads", **one_day(last))["values"], "is_from_ads")[end_of(last)]
    days = [splits["is_from_ads"][end_of(last - dt.timedelta(days=i))] for i in range(7)]
    assert week == {flag: sum(p.get(flag, 0) for p in days) for flag in ("0", "1") if any(flag in p for p in days)}


def test_page_breakdowns_other_than_views_are_refused(fb):
    unknown = (500, 1, None, "An unknown error has occurred.")
    assert refused(page_insights(fb, metric="page_total_media_view_unique", breakdown="is_from_ads")) == unknown
    assert refused(page_insights(fb, metric="page_media_view,page_follows", breakdown="is_from_ads")) == unknown
    assert refused(page_insights(fb, metric="page_media_view", breakdown="age")) == unknown
    made = post(fb.base, f"{V}/{fb.page_id}/feed", fb.page, message="Open late on Friday")
    post_id = made.json()["id"]
    r = get(fb.base, f"{V}/{post_id}/insights", fb.page, metric="post_clicks", breakdown="is_from_ads")
    assert refused(r) == unknown


def test_post_views_by_followers_add_up_to_the_total(fb):
    made = post(fb.base, f"{V}/{fb.page_id}/feed", fb.page, message="Fresh loaves today")
    assert made.status_code == 200, made.text
    post_id = made.json()["id"]
    fb.control.clock_advance(2 * DAY)
    total = rows(get(fb.base, f"{V}/{post_id}/insights", fb.page, metric="post_media_view"))
    total = total[("post_media_view", "lifetime")]["values"][0]["value"]
    r = get(fb.base, f"{V}/{post_id}/insights", fb.page, metric="post_media_view", breakdown="is_from_followers")
    values = rows(r)[("post_media_view", "lifetime")]["values"]
    split = {v["is_from_followers"]: v["value"] for v in values}
    assert set(split) == {"0", "1"} and sum(split.values()) == total and all(n > 0 for n in split.values())
    assert all(set(v) == {"value", "is_from_followers"} for v in values)  # lifetime: no end_time
    assert fb.control.insights_value(post_id, "post_media_view", None, "is_from_followers=1") == split["1"]


def test_page_post_insights_lifetime_and_day_rows_and_growth(fb):
    made = post(fb.base, f"{V}/{fb.page_id}/feed", fb.page, message="Fresh loaves today")
    assert made.status_code == 200, made.text
    post_id = made.json()["id"]
    metrics = "post_media_view,post_total_media_view_unique,post_reactions_by_type_total,post_video_views,post_clicks"
    got = rows(get(fb.base, f"{V}/{post_id}/insights", fb.page, metric=metrics))
    assert set(got) == {(m, "lifetime") for m in metrics.split(",")} | {
        ("post_total_media_view_unique", "day"), ("post_video_views", "day"),
    }  # fmt: skip
    assert got[("post_total_media_view_unique", "day")]["values"][0]["value"] == 0
    first = got[("post_total_media_view_unique", "lifetime")]["values"][0]["value"]
    fb.control.clock_advance(2 * DAY)
    later = rows(get(fb.base, f"{V}/{post_id}/insights", fb.page, metric="post_total_media_view_unique"))
    assert later[("post_total_media_view_unique", "lifetime")]["values"][0]["value"] > first
    r = get(fb.base, f"{V}/{post_id}/insights", fb.page, metric="post_impressions_unique")
    assert refused(r) == (400, 100, None, "(#100) The value must be a valid insights metric")


# ------------------------------------------------------------------ batch
def test_batch_answers_each_insights_operation(fb):
    proof = appsecret_proof(fb.page, APP_SECRET)
    ops = [
        {"method": "GET", "relative_url": f"v25.0/{fb.ig_id}/insights?metric=reach&period=day&metric_type=total_value"},
        {"method": "GET", "relative_url": f"v25.0/{fb.ig_id}/insights?metric=impressions&period=day"},
        {"method": "GET", "relative_url": f"v25.0/{fb.page_id}/insights?metric=page_media_view&period=day"
                                          f"&access_token={fb.page}&appsecret_proof={proof}"},
    ]  # fmt: skip
    r = requests.post(
        f"{fb.base}{V}/",
        data={
            "batch": json.dumps(ops),
            "access_token": fb.user,
            "appsecret_proof": appsecret_proof(fb.user, APP_SECRET),
        },
        timeout=30,
    )
    assert r.status_code == 200, r.text
    answers = r.json()
    assert [a["code"] for a in answers] == [200, 400, 200]
    assert json.loads(answers[0]["body"])["data"][0]["name"] == "reach"
    assert json.loads(answers[1]["body"])["error"]["message"].startswith("(#100) metric[0] must be one of")
    assert json.loads(answers[2]["body"])["data"][0]["name"] == "page_media_view"
