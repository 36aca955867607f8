"""The agency view: one row per channel of every workspace with its followers and growth, reach, engagement and
posts over the period (UTC days, like the workspace pages it links to), the risk markers, sorting by any column,
the CSV; only owners and admins open it; its query count does not grow with the number of channels. And the logo
printed on the agency's client reports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.models import ChannelStatus
from analytics import agency as agency_rows
from analytics.models import AgencyBranding
from analytics.selectors import Period
from tests.analytics import factories as f
from tests.factories import AgencyMembershipFactory, UserFactory, WorkspaceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.no_sandbox]

START, END = date(2025, 3, 10), date(2025, 3, 16)
WEEK = {"start": START.isoformat(), "end": END.isoformat()}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _url(name, agency, **query):
    url = reverse(f"analytics:{name}", args=[agency.public_id])
    return f"{url}?{urlencode(query)}" if query else url


@pytest.fixture
def book(agency, workspace):
    """Northwind: Acme Coffee (Rome) with an Instagram account and a Page, and Bakery Bloom (New York) with one
    Instagram account that needs reconnecting and has no figures; a stranger's channel with big figures."""
    bakery = WorkspaceFactory(agency=agency, name="Bakery Bloom", timezone="America/New_York")
    ig = f.channel(workspace, 1, name="Acme IG", username="acme")
    fb = f.channel(workspace, 2, instagram=False, name="Acme Page")
    bloom = f.channel(bakery, 1, name="Bloom IG", username="bloom", status=ChannelStatus.NEEDS_RECONNECT)
    f.channel(bakery, 2, name="Gone", status=ChannelStatus.DISCONNECTED)
    f.insight_sync(ig)
    f.insight_sync(fb, account_synced_at=timezone.now() - timedelta(hours=40))  # behind
    # Instagram: followers 1000 on the day before the week, 1100 at its end; reach and interactions per day.
    f.daily_rows(ig, "followers_count", START - timedelta(days=1), [1000, 1010, 1020, 1030, 1040, 1050, 1060, 1100])
    f.daily_rows(ig, "reach", START, [100, 200, 300, None, 400, 500, 500])
    f.daily_rows(ig, "total_interactions", START, [10, 20, 30, None, 40, 50, 50])
    # The Page: no figure before the week (growth counts from its first day: partial), reach and engagement.
    f.daily_rows(fb, "page_follows", START, [500, 500, 505, 510, 510, 520, 525])
    f.daily_rows(fb, "page_total_media_view_unique", START, [50] * 7)
    f.daily_rows(fb, "page_post_engagements", START, [5] * 7)
    rome, new_york = ZoneInfo("Europe/Rome"), ZoneInfo("America/New_York")
    # Posts count by UTC day, whatever the workspace's clock.
    f.post_insights(ig, [{"published_at": datetime(2025, 3, 11, 12, tzinfo=rome)} for _ in range(3)])
    f.post_insight(ig, published_at=datetime(2025, 3, 17, 0, 30, tzinfo=rome))  # 23:30 on 16 March in UTC: in
    f.post_insight(ig, published_at=datetime(2025, 3, 10, 0, 30, tzinfo=rome))  # 23:30 on 9 March in UTC: out
    f.post_insight(fb, published_at=datetime(2025, 3, 16, 23, 30, tzinfo=rome))  # the last evening
    f.post_insight(bloom, published_at=datetime(2025, 3, 16, 22, 0, tzinfo=new_york))  # 17 March in UTC: out
    stranger = f.channel(WorkspaceFactory(name="Other Brand"), 1, name="Stranger")
    f.daily_rows(stranger, "reach", START, [99999] * 7)
    return {"ig": ig, "fb": fb, "bloom": bloom}


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [row.split('data-channel="', 1)[1].split('"', 1)[0] for row in body.split("<tr")[1:]]


# --- What it shows -------------------------------------------------------------------------------------------------
def test_each_channel_of_every_workspace_with_its_figures_for_the_period(agency, book):
    rows = {r.channel.name: r for r in agency_rows.agency_channels(
        agency_id=agency.pk, period=Period(START, END), now=timezone.now()
    )}  # fmt: skip

    assert set(rows) == {"Acme IG", "Acme Page", "Bloom IG"}  # not the disconnected one, not the stranger's
    ig, fb, bloom = rows["Acme IG"], rows["Acme Page"], rows["Bloom IG"]
    assert (ig.followers, ig.growth, ig.growth_pct) == (1100, 100, 10.0)
    assert (ig.growth_since, ig.growth_partial) == (START - timedelta(days=1), False)
    assert (ig.reach, ig.engagement, ig.engagement_rate, ig.posts) == (2000, 200, 10.0, 4)
    # No figure before the week: growth from its first day, marked as covering part of the period.
    assert (fb.followers, fb.growth, fb.growth_pct) == (525, 25, 5.0)
    assert (fb.growth_since, fb.growth_partial) == (START, True)
    assert (fb.reach, fb.engagement, fb.engagement_rate, fb.posts) == (350, 35, 10.0, 1)
    assert (bloom.followers, bloom.growth, bloom.reach, bloom.engagement, bloom.engagement_rate) == (None,) * 5
    assert bloom.posts == 0  # 22:00 on 16 March in New York is 17 March in UTC: after the week
    assert (ig.risks, fb.risks, bloom.risks) == ([], ["Sync behind"], ["Needs reconnect", "No data"])


def test_the_page_shows_the_rows_and_the_risk_markers(client, alice, agency, book):
    client.force_login(alice)

    response = client.get(_url("agency_insights", agency, **WEEK))

    assert response.status_code == 200
    html = response.content.decode()
    assert "10–16 Mar 2025" in html
    assert "Stranger" not in html and "Gone" not in html
    assert "1,100" in html and "+100" in html and "+10.0%" in html and "2,000" in html
    assert "Days are UTC days" in html
    row = html.split(f'data-channel="{book["bloom"].public_id}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-risk="needs-reconnect"' in row and 'data-risk="no-data"' in row
    assert 'data-risk="sync-behind"' not in row  # a channel to reconnect is marked for that, not twice
    assert row.count("not available") == 3
    fb_row = html.split(f'data-channel="{book["fb"].public_id}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-risk="sync-behind"' in fb_row
    assert 'data-growth="partial"' in fb_row and "since 10 Mar" in fb_row
    ig_row = html.split(f'data-channel="{book["ig"].public_id}"', 1)[1].split("</tr>", 1)[0]
    assert "data-risk" not in ig_row
    assert "data-growth" not in ig_row and "since" not in ig_row


def test_a_channel_never_backfilled_is_behind(agency, workspace):
    fresh = f.channel(workspace, 5, name="Fresh")
    f.insight_sync(fresh, backfilled_at=None)
    f.channel(workspace, 6, name="Never synced")  # no sync row at all

    rows = agency_rows.agency_channels(agency_id=agency.pk, period=Period(START, END), now=timezone.now())

    assert [r.sync_behind for r in rows] == [True, True]


@pytest.mark.parametrize(
    ("before", "during", "expected"),
    [
        # a figure the day before the period: the whole period's growth, 0 when nothing changed
        ({START - timedelta(days=1): 700}, {START: 700, END: 700}, (0, 0.0, START - timedelta(days=1), False)),
        # the latest figure before the period counts, even a few days before it
        ({START - timedelta(days=4): 600}, {END: 660}, (60, 10.0, START - timedelta(days=4), False)),
        # nothing before, two days in it: from the first of them, partial
        ({}, {START + timedelta(days=2): 400, END: 410}, (10, 2.5, START + timedelta(days=2), True)),
        # nothing before and a single day in the period: no growth, never 0
        ({}, {END: 900}, (None, None, None, False)),
        # nothing at all
        ({}, {}, (None, None, None, False)),
    ],
)
def test_growth_counts_from_an_earlier_figure_or_is_not_shown(agency, workspace, before, during, expected):
    c = f.channel(workspace, 1, name="Acme IG")
    for day, value in {**before, **during}.items():
        f.daily_rows(c, "followers_count", day, [value])
    f.daily_rows(c, "followers_count", START - timedelta(days=30), [1])  # before the previous period: ignored

    (row,) = agency_rows.agency_channels(agency_id=agency.pk, period=Period(START, END), now=timezone.now())

    assert (row.growth, row.growth_pct, row.growth_since if row.growth is not None else None, row.growth_partial) == (
        expected
    )


def test_a_single_follower_figure_shows_no_growth_on_the_page(client, alice, agency, workspace):
    c = f.channel(workspace, 1, name="Acme IG")
    f.daily_rows(c, "followers_count", END, [900])
    client.force_login(alice)

    html = client.get(_url("agency_insights", agency, **WEEK)).content.decode()

    row = html.split(f'data-channel="{c.public_id}"', 1)[1].split("</tr>", 1)[0]
    growth, growth_pct = row.split("<td")[4], row.split("<td")[5]
    assert 'data-value=""' in growth and "–" in growth and "+0" not in growth and ">0<" not in growth
    assert 'data-value=""' in growth_pct and "–" in growth_pct and "0.0%" not in growth_pct


def test_periods_are_utc_days_and_links_name_the_same_days(client, alice, agency, book, monkeypatch):
    # 02:00 UTC on 17 March: still 16 March in New York, but 16 March is UTC's last complete day.
    monkeypatch.setattr(timezone, "now", lambda: datetime(2025, 3, 17, 2, 0, tzinfo=UTC))
    client.force_login(alice)

    html = client.get(_url("agency_insights", agency, range="7")).content.decode().replace("&amp;", "&")

    assert "10–16 Mar 2025" in html
    row = html.split(f'data-channel="{book["ig"].public_id}"', 1)[1].split("</tr>", 1)[0]
    workspace_url = reverse("analytics:insights", args=[book["ig"].workspace.public_id])
    channel_url = reverse("analytics:channel_insights", args=[book["ig"].workspace.public_id, book["ig"].public_id])
    assert f'href="{workspace_url}?start=2025-03-10&end=2025-03-16"' in row
    assert f'href="{channel_url}?start=2025-03-10&end=2025-03-16"' in row
    # The channel's page shows the row's figures for those days.
    page = client.get(f"{channel_url}?start=2025-03-10&end=2025-03-16").content.decode()
    reach = page.split('data-kpi="reach"', 1)[1].split("</section>", 1)[0]
    assert 'insights-kpi-value">2,000<' in reach
    assert "2,000" in row


# --- Sorting -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("", ["ig", "fb", "bloom"]),  # by workspace, then channel
        ("workspace", ["ig", "fb", "bloom"]),
        ("-workspace", ["bloom", "ig", "fb"]),
        ("-reach", ["ig", "fb", "bloom"]),
        ("reach", ["fb", "ig", "bloom"]),  # a channel without reach comes last either way
        ("-followers", ["ig", "fb", "bloom"]),
        ("growth_pct", ["fb", "ig", "bloom"]),
        ("-posts", ["ig", "fb", "bloom"]),
        ("posts", ["bloom", "fb", "ig"]),
        ("-risk", ["bloom", "fb", "ig"]),
        ("nonsense", ["ig", "fb", "bloom"]),
    ],
)
def test_sorting_by_any_column(client, alice, agency, book, sort, order):
    client.force_login(alice)

    html = client.get(_url("agency_insights", agency, sort=sort, **WEEK)).content.decode()

    assert _rows(html) == [str(book[k].public_id) for k in order]


def test_the_headers_link_to_the_sorts_and_say_which_is_on(client, alice, agency, book):
    client.force_login(alice)

    html = client.get(_url("agency_insights", agency, sort="-reach", **WEEK)).content.decode().replace("&amp;", "&")

    reach = html.split('data-column="reach"', 1)[1].split("</th>", 1)[0]
    followers = html.split('data-column="followers"', 1)[1].split("</th>", 1)[0]
    assert 'aria-sort="descending"' in html.split('data-column="reach"', 1)[0].rsplit("<th", 1)[1]
    assert html.count("aria-sort=") == 1
    assert f"?start={START}&end={END}&sort=reach" in reach  # a second click turns it round
    assert f"?start={START}&end={END}&sort=-followers" in followers  # figures: biggest first
    workspace_header = html.split('data-column="workspace"', 1)[1].split("</th>", 1)[0]
    assert "sort=workspace" in workspace_header  # names: A to Z


# --- CSV -------------------------------------------------------------------------------------------------------
def test_the_csv_has_the_table_as_sorted(client, alice, agency, book):
    client.force_login(alice)

    response = client.get(_url("agency_insights_csv", agency, sort="-reach", **WEEK))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="agency-insights-2025-03-10-2025-03-16.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    # A leading @ is quoted, so that no spreadsheet reads a name as a formula.
    assert [r["Channel"] for r in rows] == ["'@acme", "Acme Page", "'@bloom"]
    assert rows[0] == {
        "Workspace": "Acme Coffee",
        "Channel": "'@acme",
        "Platform": "Instagram",
        "Start": "2025-03-10",
        "End": "2025-03-16",
        "Followers": "1100",
        "Growth": "100",
        "Growth %": "10.0",
        "Growth from": "2025-03-09",
        "Reach": "2000",
        "Engagement": "200",
        "Engagement rate %": "10.0",
        "Posts": "4",
        "Risks": "",
    }
    assert rows[1]["Growth"] == "25" and rows[1]["Growth from"] == "2025-03-10"  # partial: from within the week
    assert rows[2]["Reach"] == "" and rows[2]["Followers"] == ""  # not available: empty, never 0
    assert rows[2]["Growth"] == rows[2]["Growth %"] == rows[2]["Growth from"] == ""
    assert rows[2]["Risks"] == "Needs reconnect; No data"


# --- Who may open it ------------------------------------------------------------------------------------------------
def test_admins_open_it_members_get_403_and_strangers_404(client, agency, book, bob, charlie):
    admin = UserFactory()
    AgencyMembershipFactory(agency=agency, user=admin, role="admin")
    urls = [_url("agency_insights", agency), _url("agency_insights_csv", agency), _url("branding", agency)]

    client.force_login(admin)
    assert [client.get(u).status_code for u in urls] == [200, 200, 200]
    client.force_login(bob)  # a member of the agency, editor in a workspace
    assert [client.get(u).status_code for u in urls] == [403, 403, 403]
    client.force_login(charlie)
    assert [client.get(u).status_code for u in urls] == [404, 404, 404]
    client.logout()
    assert client.get(urls[0]).status_code == 302


# --- Queries ---------------------------------------------------------------------------------------------------
def _fill(agency, n: int) -> None:
    """n more channels over a few workspaces, each with a week of figures, a sync row and posts."""
    workspaces = [WorkspaceFactory(agency=agency) for _ in range(min(n, 4))]
    for i in range(n):
        c = f.channel(workspaces[i % len(workspaces)], i, instagram=bool(i % 2))
        f.insight_sync(c)
        f.daily_rows(c, "reach" if i % 2 else "page_total_media_view_unique", START, [10] * 7)
        f.daily_rows(c, "followers_count" if i % 2 else "page_follows", START, [100 + i] * 7)
        f.post_insights(c, [{"published_at": datetime(2025, 3, 12, 12, tzinfo=ZoneInfo("UTC"))}] * 2)


def _queries(client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response.content.decode()


def test_the_query_count_does_not_grow_with_the_channels(client, alice, agency):
    client.force_login(alice)
    _fill(agency, 2)
    small, html = _queries(client, _url("agency_insights", agency, sort="-reach", **WEEK))
    assert len(_rows(html)) == 2
    _fill(agency, 18)

    big, html = _queries(client, _url("agency_insights", agency, sort="-reach", **WEEK))
    csv_big, _ = _queries(client, _url("agency_insights_csv", agency, **WEEK))

    assert len(_rows(html)) == 20
    assert big == small, f"{small} queries for 2 channels, {big} for 20"
    assert csv_big <= small <= 10


def test_the_rows_are_three_queries(django_assert_num_queries, agency):
    _fill(agency, 6)

    with django_assert_num_queries(3):
        rows = agency_rows.agency_channels(agency_id=agency.pk, period=Period(START, END), now=timezone.now())
        for r in rows:
            str(r.workspace.name) + r.channel.display_name + str(r.risks)


# --- Branding ---------------------------------------------------------------------------------------------------
def _image(fmt="PNG", size=(200, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 90)).save(out, fmt)
    return out.getvalue()


def test_an_owner_uploads_replaces_and_removes_the_logo(client, alice, agency):
    client.force_login(alice)

    response = client.post(_url("branding", agency), {"logo": SimpleUploadedFile("logo.png", _image(), "image/png")})
    assert response.status_code == 302
    first = AgencyBranding.objects.get(agency=agency).logo
    assert first.name.startswith("branding/") and first.name.endswith(".png")
    logo = client.get(_url("branding_logo", agency))
    assert logo["Content-Type"] == "image/png" and b"".join(logo.streaming_content) == _image()

    jpeg = _image("JPEG")
    client.post(_url("branding", agency), {"logo": SimpleUploadedFile("new.jpeg", jpeg, "image/jpeg")})
    second = AgencyBranding.objects.get(agency=agency).logo
    assert second.name.endswith(".jpg") and second.name != first.name
    assert not first.storage.exists(first.name)  # the old file is gone

    client.post(_url("branding", agency), {"action": "remove"})
    assert not AgencyBranding.objects.get(agency=agency).logo
    assert not second.storage.exists(second.name)
    assert client.get(_url("branding_logo", agency)).status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("logo.gif", _image("GIF"), "The image is a GIF file; upload a PNG or JPEG."),
        ("logo.png", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "The file is not an image that can be read."),
        ("logo.png", _image()[:60], "The file is not an image that can be read."),
        ("logo.png", _image() + b"\0" * (2 * 1024 * 1024), "a logo can be at most 2 MB"),
    ],
)
def test_the_logo_must_be_a_small_png_or_jpeg(client, alice, agency, name, content, message):
    client.force_login(alice)

    response = client.post(_url("branding", agency), {"logo": SimpleUploadedFile(name, content)})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AgencyBranding.objects.filter(agency=agency).exists()


def test_a_member_may_not_change_the_logo(client, agency, bob):
    client.force_login(bob)

    response = client.post(_url("branding", agency), {"logo": SimpleUploadedFile("logo.png", _image())})

    assert response.status_code == 403
    assert not AgencyBranding.objects.exists()
