"""The insights pages, chart JSON and CSV exports: who may see them, that they show exactly what is stored, and
that the page costs the same number of queries however many channels and days there are."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AgencyMembership, ChannelStatus, WorkspaceMembership
from tests.analytics import factories as f
from tests.factories import UserFactory, WorkspaceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.no_sandbox]

START, END = date(2025, 3, 10), date(2025, 3, 16)
WEEK = {"start": START.isoformat(), "end": END.isoformat()}


def _url(name, workspace, *args, **query):
    url = reverse(f"analytics:{name}", args=[workspace.public_id, *args])
    if query:
        from urllib.parse import urlencode

        url += "?" + urlencode(query, doseq=True)
    return url


def _member(workspace, role):
    user = UserFactory()
    AgencyMembership.objects.create(agency=workspace.agency, user=user, role="member")
    WorkspaceMembership.objects.create(workspace=workspace, user=user, role=role)
    return user


def _all_urls(workspace, channel):
    return [
        _url("insights", workspace, **WEEK),
        _url("channel_insights", workspace, channel.public_id, **WEEK),
        _url("chart_data", workspace, "reach-views", **WEEK),
        _url("chart_csv", workspace, "reach-views", **WEEK),
        _url("posts_csv", workspace, **WEEK),
    ]


# --- Who may see it ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["analyst", "client", "manager", "editor"])
def test_members_who_read_insights_see_every_page(client, workspace, ig, role):
    f.daily_rows(ig, "reach", START, [1234])
    client.force_login(_member(workspace, role))

    for url in _all_urls(workspace, ig):
        assert client.get(url).status_code == 200, url
    assert b"1,234" in client.get(_url("insights", workspace, **WEEK)).content


def test_a_moderator_may_not_read_insights(client, workspace, ig):
    client.force_login(_member(workspace, "moderator"))

    for url in _all_urls(workspace, ig):
        assert client.get(url).status_code == 403, url


def test_another_agency_gets_404_everywhere(client, workspace, ig, charlie):
    client.force_login(charlie)

    for url in _all_urls(workspace, ig):
        assert client.get(url).status_code == 404, url


def test_a_channel_of_another_workspace_is_404(client, alice, workspace, ig):
    # Alice owns both workspaces, but each page is about one of them.
    elsewhere = f.channel(WorkspaceFactory(agency=workspace.agency), 1)
    client.force_login(alice)

    assert client.get(_url("channel_insights", workspace, elsewhere.public_id)).status_code == 404
    for name in ("insights", "posts_csv"):
        assert client.get(_url(name, workspace, channel=[ig.public_id, elsewhere.public_id])).status_code == 404
    for name in ("chart_data", "chart_csv"):
        assert client.get(_url(name, workspace, "reach-views", channel=elsewhere.public_id)).status_code == 404
    assert client.get(_url("insights", workspace, channel="not-a-uuid")).status_code == 404


# --- Chart data ----------------------------------------------------------------------------------------------------
def test_chart_json_is_exactly_what_is_stored_with_null_for_missing_days(client, alice, workspace, ig, fb):
    f.daily_rows(ig, "reach", START, [10, None, 30, 0, None])
    f.daily_rows(fb, "page_total_media_view_unique", START, [5, None, 2, 3, 7])
    f.daily_rows(ig, "views", START, [100])
    f.daily_rows(fb, "page_media_view", START, [1])
    client.force_login(alice)

    data = client.get(_url("chart_data", workspace, "reach-views", **WEEK)).json()

    assert data == {
        "title": "Reach and views",
        "labels": [(START + timedelta(days=i)).isoformat() for i in range(7)],
        "datasets": [
            # 14 March: only the Page had a figure, so there is no total (7 would draw as a dip).
            {"label": "Reach", "data": [15, None, 32, 3, None, None, None]},
            {"label": "Views", "data": [101, None, None, None, None, None, None]},
        ],
        "unit": "",
    }


def test_chart_json_compares_the_channels_picked(client, alice, workspace, ig, fb):
    f.daily_rows(ig, "total_interactions", START, [3])
    f.daily_rows(fb, "page_post_engagements", START, [None, 4])
    client.force_login(alice)

    data = client.get(_url("chart_data", workspace, "engagement", channel=[ig.public_id, fb.public_id], **WEEK)).json()

    assert [(d["label"], d["data"][:2]) for d in data["datasets"]] == [
        ("Harbor Yoga Studio", [None, 4]),
        ("@harboryoga", [3, None]),
    ]
    one = client.get(_url("chart_data", workspace, "engagement", channel=fb.public_id, **WEEK)).json()
    assert one["datasets"] == [{"label": "Engagement", "data": [None, 4, None, None, None, None, None]}]


def test_an_unknown_chart_is_404(client, alice, workspace, ig):
    client.force_login(alice)

    assert client.get(_url("chart_data", workspace, "impressions")).status_code == 404
    assert client.get(_url("chart_csv", workspace, "impressions")).status_code == 404


def test_chart_csv_is_the_charts_data_as_a_named_attachment(client, alice, workspace, ig):
    f.daily_rows(ig, "follows_and_unfollows", START, [4, None], dimension="FOLLOWER")
    f.daily_rows(ig, "follows_and_unfollows", START, [1, 2], dimension="NON_FOLLOWER")
    client.force_login(alice)

    response = client.get(_url("chart_csv", workspace, "follows", channel=ig.public_id, **WEEK))

    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="acme-coffee-follows-2025-03-10-2025-03-16.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[:3] == [["Date", "Follows", "Unfollows"], ["2025-03-10", "4", "1"], ["2025-03-11", "", "2"]]
    assert rows[-1] == ["2025-03-16", "", ""] and len(rows) == 8


def test_posts_csv_has_every_post_of_the_period_with_every_figure(client, alice, workspace, ig, fb):
    elsewhere = f.channel(WorkspaceFactory(agency=workspace.agency), 1)
    inside = datetime(2025, 3, 12, 9, 30, tzinfo=UTC)
    f.post_insights(
        ig,
        [
            {
                "published_at": inside,
                "caption": "=sunrise flow",
                "reach": 120,
                "views": None,
                "saves": 4,
                "metrics": {"reach": 120, "profile_visits": 9, "follows": None},
            },
            {"published_at": datetime(2025, 3, 1, tzinfo=UTC), "caption": "before the period", "reach": 1},
        ],
    )
    f.post_insight(fb, published_at=inside + timedelta(hours=2), caption="page post", reach=None, views=55)
    f.post_insight(elsewhere, published_at=inside, caption="another workspace", reach=1)
    client.force_login(alice)

    response = client.get(_url("posts_csv", workspace, **WEEK))

    assert response["Content-Disposition"] == 'attachment; filename="acme-coffee-posts-2025-03-10-2025-03-16.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["Caption"] for r in rows] == ["page post", "'=sunrise flow"]
    post = rows[1]
    assert post["Published"] == "2025-03-12T10:30+01:00"  # the workspace's clock (Europe/Rome)
    assert (post["Channel"], post["Type"]) == ("'@harboryoga", "Instagram post")  # @ could start a formula
    assert (post["Reach"], post["Views"], post["Saves"], post["Likes / reactions"]) == ("120", "", "4", "")
    assert (post["profile_visits"], post["follows"]) == ("9", "")
    assert rows[0]["Views"] == "55" and rows[0]["Reach"] == ""

    only_page = client.get(_url("posts_csv", workspace, channel=fb.public_id, **WEEK))
    assert [r["Caption"] for r in csv.DictReader(io.StringIO(b"".join(only_page.streaming_content).decode()))] == [
        "page post"
    ]


# --- The page ------------------------------------------------------------------------------------------------------
def test_the_page_labels_partial_and_missing_data_and_never_shows_zeros(client, alice, workspace, ig):
    f.daily_rows(ig, "reach", START, [10, None, 30])
    client.force_login(alice)

    html = client.get(_url("insights", workspace, **WEEK)).content.decode()

    assert "Partial: 2 of 7 days" in html
    assert "No data from Meta for 5 of 7 days" in html  # under the reach chart
    assert "not available" in html  # the reach table's empty days
    assert html.count("No data from Meta for these days.") >= 3  # KPI cards and empty charts
    assert 'data-chart-url="/w/' in html and "charts/reach-views.json?start=2025-03-10" in html
    assert "charts/reach-views.csv?start=2025-03-10&amp;end=2025-03-16" in html


def test_the_chart_table_shows_the_same_numbers_as_the_json(client, alice, workspace, ig):
    f.daily_rows(ig, "total_interactions", START, [41, 42])
    client.force_login(alice)

    html = client.get(_url("insights", workspace, **WEEK)).content.decode()
    data = client.get(_url("chart_data", workspace, "engagement", **WEEK)).json()

    table = html[html.index('id="chart-engagement"') :]
    table = table[: table.index("</figure>")]
    assert data["datasets"][0]["data"][:2] == [41, 42]
    assert '<th scope="row" class="fw-normal">2025-03-10</th><td class="text-end">41</td>' in table
    assert '<th scope="row" class="fw-normal">2025-03-11</th><td class="text-end">42</td>' in table


def test_the_page_says_which_channel_days_are_missing_from_the_workspace_figures(client, alice, workspace, ig, fb):
    f.daily_rows(ig, "reach", START, [10] * 7)
    f.daily_rows(fb, "page_total_media_view_unique", START, [5, 5, None, 5, 5, 5, 5])
    client.force_login(alice)

    html = client.get(_url("insights", workspace, **WEEK)).content.decode()

    card = html[html.index('data-kpi="reach"') :]
    card = card[: card.index("</section>")]
    assert ">100<" in card and "Partial: 13 of 14 channel-days" in card
    chart = html[html.index('id="chart-reach-views"') :]
    chart = chart[: chart.index("</figure>")]
    assert "On 1 of 7 days not every channel had a figure: the total is left out (a gap, not a dip)." in chart
    assert "No data from Meta for" not in chart  # every day had some figure
    assert (
        '<th scope="row" class="fw-normal">2025-03-12</th><td class="text-end"><span class="text-body-secondary">'
        "incomplete: not every channel had a figure</span>"
    ) in chart
    assert '<th scope="row" class="fw-normal">2025-03-13</th><td class="text-end">15</td>' in chart


def test_kpi_cards_compare_like_for_like_and_say_so(client, alice, workspace, ig, fb):
    before = START - timedelta(days=7)
    f.daily_rows(ig, "total_interactions", before, [10] * 7 + [20] * 6 + [None])
    f.daily_rows(ig, "followers_count", before, [90] * 7 + [99] * 7)
    f.daily_rows(fb, "page_follows", START, [500] * 7)
    client.force_login(alice)

    html = client.get(_url("insights", workspace, channel=ig.public_id, **WEEK)).content.decode()
    everything = client.get(_url("insights", workspace, **WEEK)).content.decode()

    def card(page, key):
        text = page[page.index(f'data-kpi="{key}"') :]
        return " ".join(re.sub(r"<[^>]+>", " ", text[: text.index("</section>")]).split())

    assert "+100.0% like for like: 120 vs 60, on the 6 of 7 days with a figure in both periods" in card(
        html, "engagement"
    )
    assert "Partial: 6 of 7 days" in card(html, "engagement")
    followers = card(everything, "followers")
    assert "599" in followers and "Partial" not in followers
    assert "+10.0% like for like: 99 vs 90, based on 1 of 2 channels (those with a figure in both periods)" in followers


def test_reach_is_labelled_as_daily_reach_summed(client, alice, workspace, ig):
    f.daily_rows(ig, "reach", START, [5])
    client.force_login(alice)

    html = client.get(_url("insights", workspace, **WEEK)).content.decode()

    card = html[html.index('data-kpi="reach"') :]
    chart = html[html.index('id="chart-reach-views"') :]
    assert "Daily reach, summed" in card[: card.index("</section>")]
    assert "Daily reach, summed" in chart[: chart.index("</figure>")]


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_the_days_shown_are_utc_days_ending_yesterday_whatever_the_workspaces_clock(client, alice, workspace, ig, zone):
    # UTC+14 and UTC−11: at any hour one of them is on another date than UTC.
    workspace.timezone = zone
    workspace.save()
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    f.daily_rows(ig, "reach", yesterday - timedelta(days=6), [1, 1, 1, 1, 1, 1, 1000])
    client.force_login(alice)

    data = client.get(_url("chart_data", workspace, "reach-views", range="7")).json()
    html = client.get(_url("insights", workspace, range="7")).content.decode()

    assert data["labels"][-1] == yesterday.isoformat()
    assert data["datasets"][0]["data"] == [1, 1, 1, 1, 1, 1, 1000]
    assert f'max="{yesterday.isoformat()}"' in html
    assert "1,006" in html


@pytest.mark.parametrize(
    "query",
    [{"end": "0001-01-05"}, {"start": "0001-01-01", "end": "0001-01-02"}, {"start": "9999-12-31"}, {"start": "x"}],
)
def test_odd_dates_give_a_period_not_an_error(client, alice, workspace, ig, query):
    client.force_login(alice)
    yesterday = datetime.now(UTC).date() - timedelta(days=1)

    for name in ("insights", "posts_csv"):
        assert client.get(_url(name, workspace, **query)).status_code == 200
    data = client.get(_url("chart_data", workspace, "reach-views", **query)).json()
    assert data["labels"][-1] == yesterday.isoformat()


def test_filter_changes_return_the_body_alone_and_push_the_address(client, alice, workspace, ig, fb):
    client.force_login(alice)

    response = client.get(
        _url("insights", workspace, range="7", start="2025-01-01", channel=[ig.public_id, fb.public_id]),
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="insights-body"') and "<html" not in html
    assert response["HX-Push-Url"] == _url("insights", workspace, range="7", channel=[fb.public_id, ig.public_id])


def test_top_posts_sort_by_the_figure_asked_for(client, alice, workspace, ig):
    inside = datetime(2025, 3, 12, 12, tzinfo=UTC)
    f.post_insights(
        ig,
        [
            {"published_at": inside, "caption": "many views", "reach": 1, "views": 900},
            {"published_at": inside, "caption": "wide reach", "reach": 800, "views": 2},
        ],
    )
    client.force_login(alice)

    by_reach = client.get(_url("insights", workspace, **WEEK)).content.decode()
    by_views = client.get(_url("insights", workspace, order="views", **WEEK)).content.decode()

    assert by_reach.index("wide reach") < by_reach.index("many views")
    assert by_views.index("many views") < by_views.index("wide reach")
    assert "Top posts by views" in by_views


def test_a_page_posts_likes_are_shown_as_reactions(client, alice, workspace, ig, fb):
    inside = datetime(2025, 3, 12, 12, tzinfo=UTC)
    f.post_insight(ig, published_at=inside, caption="reel", likes=31)
    f.post_insight(fb, published_at=inside, caption="page post", likes=47)
    client.force_login(alice)

    html = client.get(_url("insights", workspace, order="likes", **WEEK)).content.decode()

    table = html[html.index('class="table table-sm mb-0 insights-posts"') :]
    table = table[: table.index("</table>")]
    assert "Likes / reactions" in table and "Top posts by likes / reactions" in html
    rows = table.split("<tr>")
    page_row = next(r for r in rows if "page post" in r)
    ig_row = next(r for r in rows if ">reel<" in r)
    assert '47 <span class="small text-body-secondary insights-counts">reactions</span>' in page_row
    assert "31</td>" in ig_row and "reactions" not in ig_row


def test_a_channel_page_shows_what_its_platform_has(client, alice, workspace, ig, fb):
    f.daily_rows(fb, "page_video_views", START, [8])
    client.force_login(alice)

    ig_html = client.get(_url("channel_insights", workspace, ig.public_id, **WEEK)).content.decode()
    fb_html = client.get(_url("channel_insights", workspace, fb.public_id, **WEEK)).content.decode()

    assert 'id="chart-profile-links"' in ig_html and 'id="chart-audience-age"' in ig_html
    assert 'id="chart-video-views"' not in ig_html
    assert 'id="chart-video-views"' in fb_html and 'id="chart-reactions"' in fb_html
    assert 'id="chart-profile-links"' not in fb_html and 'id="chart-audience-age"' not in fb_html
    assert f"charts/video-views.json?start=2025-03-10&amp;end=2025-03-16&amp;channel={fb.public_id}" in fb_html


def test_sync_status_says_what_happened_in_plain_words(client, alice, workspace, ig, fb):
    now = datetime.now(UTC)
    f.insight_sync(
        ig,
        account_synced_at=now - timedelta(hours=1),
        last_error="Meta refused the request: the token expired.",
        last_error_at=now,
    )
    fb.status = ChannelStatus.NEEDS_RECONNECT
    fb.save()
    other = f.channel(workspace, 3)
    client.force_login(alice)

    html = client.get(_url("insights", workspace, **WEEK)).content.decode()

    assert "Last update failed: Meta refused the request: the token expired." in html
    assert "Needs reconnecting" in html
    assert html.count("First import pending") == 1  # `other` was never synced
    assert other.display_name in html


def test_the_page_costs_the_same_queries_for_1_or_5_channels_and_10_or_1000_rows(client, alice, workspace):
    client.force_login(alice)

    def load(channels: int, days: int) -> int:
        ws = WorkspaceFactory(agency=workspace.agency)
        made = [f.channel(ws, n, instagram=n % 2 == 0) for n in range(channels)]
        for c in made:
            metrics = ("reach", "views", "followers_count") if c.platform == "instagram" else ("page_follows",)
            per_metric = days // len(metrics)
            for metric in metrics:
                f.daily_rows(c, metric, END - timedelta(days=per_metric - 1), [5] * per_metric)
            f.post_insights(c, [{"published_at": datetime(2025, 3, 12, tzinfo=UTC), "reach": 1}] * 3)
            f.audience(c, "follower_demographics", "age", {"18-24": 3})
            f.insight_sync(c)
        url = _url("insights", ws, start="2025-01-01", end=END.isoformat())
        client.get(url)  # warm the session and the template caches
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few, many = load(1, 10), load(5, 1000)
    assert few == many
    assert few <= 25
