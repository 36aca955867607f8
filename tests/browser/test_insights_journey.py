"""A manager reads one Instagram account's insights in a real browser, over figures stored the way the sync leaves
them (a few days "not available"): from the workspace's insights to the account's page, the KPI cards show the
stored totals; switching from 7 to 90 days changes the cards and redraws the reach and views chart with one label
per day of the period and the stored value of each day (gaps where Meta had none); the chart's table says the
same, and its CSV download holds exactly the stored values. Another channel's figures never mix in."""

from __future__ import annotations

import csv
import re
from datetime import UTC, date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from accounts.models import AgencyMembership, WorkspaceMembership
from analytics.catalogue import KPIS
from tests.analytics.factories import channel as make_channel
from tests.analytics.factories import kpi_rows
from tests.browser.journeys import sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.no_sandbox]

DAYS = 200  # stored days, ending yesterday: the 90 days shown and the 90 before them, and more


def reach_of(i: int) -> int | None:
    """The account's reach on the i-th stored day; None on the days Meta gave nothing."""
    return None if i % 17 == 5 else 400 + (i * 37) % 300


def stored(i: int) -> dict[str, int | None]:
    """What the account has on the i-th stored day (0 = the oldest), by KPI key."""
    reach = reach_of(i)
    return {
        "followers": None if i % 29 == 3 else 12000 + 7 * i,
        "new_followers": 5 + i % 9,
        "reach": reach,
        "views": None if reach is None else 2 * reach + i % 11,
        "engagement": 30 + (i * 13) % 50,
    }


def expected(values: list[int | None], aggregate: str) -> int | None:
    present = [v for v in values if v is not None]
    if not present:
        return None
    return present[-1] if aggregate == "last" else sum(present)


def card(page: Page, key: str) -> Locator:
    return page.locator(f'section[data-kpi="{key}"]')


def chart_data(page: Page, figure: Locator) -> dict:
    """What Chart.js drew: the labels and each dataset's values (null for a gap)."""
    canvas = figure.locator('canvas[data-chart-ready="1"]')
    expect(canvas).to_have_count(1)
    return canvas.evaluate(
        "(c) => { const d = Chart.getChart(c).data;"
        " return {labels: d.labels, datasets: d.datasets.map((s) => ({label: s.label, data: s.data}))}; }"
    )


def test_a_manager_switches_an_accounts_insights_from_7_to_90_days_and_downloads_the_chart(
    live_server, page: Page, workspace, tmp_path
):
    manager = UserFactory(email="mara@northwind.example", full_name="Mara Manager")
    AgencyMembership.objects.create(agency=workspace.agency, user=manager, role="member")
    WorkspaceMembership.objects.create(workspace=workspace, user=manager, role="manager")
    account = make_channel(workspace, 0, name="Harbor Yoga", username="harboryoga")
    other = make_channel(workspace, 1, instagram=False, name="Harbor Yoga Page")

    # The days end yesterday on the workspace's clock, as the page counts them.
    yesterday = timezone.now().astimezone(UTC).date() - timedelta(days=1)  # UTC days, as Meta counts them
    first = yesterday - timedelta(days=DAYS - 1)
    days = [stored(i) for i in range(DAYS)]
    for kpi in KPIS:
        kpi_rows(account, kpi, first, [d[kpi.key] for d in days])
        kpi_rows(other, kpi, first, [1_000_000] * DAYS)  # on every day: never summed

    def window(last: int) -> tuple[list[date], list[dict[str, int | None]]]:
        return [first + timedelta(days=i) for i in range(DAYS - last, DAYS)], days[DAYS - last :]

    def check_cards(last: int) -> None:
        _, shown = window(last)
        for kpi in KPIS:
            value = expected([d[kpi.key] for d in shown], kpi.aggregate)
            expect(card(page, kpi.key).locator(".insights-kpi-value")).to_have_text(f"{value:,}")
        missing = sum(1 for d in shown if d["reach"] is None)
        partial = card(page, "reach").locator(".insights-kpi-partial")
        if missing:
            expect(partial).to_have_text(f"Partial: {last - missing} of {last} days")
        else:
            expect(partial).to_have_count(0)

    def check_chart(last: int) -> dict:
        dates, shown = window(last)
        figure = page.locator("#chart-reach-views")
        drawn = chart_data(page, figure)
        assert drawn["labels"] == [d.isoformat() for d in dates]
        assert drawn["datasets"] == [
            {"label": "Reach", "data": [d["reach"] for d in shown]},
            {"label": "Views", "data": [d["views"] for d in shown]},
        ]
        # The chart agrees with the card: its days add up to the card's total.
        total = sum(v for v in drawn["datasets"][0]["data"] if v is not None)
        expect(card(page, "reach").locator(".insights-kpi-value")).to_have_text(f"{total:,}")
        return drawn

    # From the workspace's insights to the account's own page.
    sign_in(page, live_server, manager)
    page.goto(f"{live_server.url}{reverse('analytics:insights', args=[workspace.public_id])}")
    expect(page.get_by_role("heading", name="Insights", level=1)).to_be_visible()
    page.get_by_role("link", name="@harboryoga", exact=True).first.click()
    channel_url = reverse("analytics:channel_insights", args=[workspace.public_id, account.public_id])
    expect(page).to_have_url(re.compile(re.escape(channel_url)))
    expect(page.get_by_role("heading", name=re.compile("^@harboryoga"), level=1)).to_be_visible()

    # The last 7 days.
    page.get_by_text("7 days", exact=True).click()
    expect(page).to_have_url(re.compile(r"[?&]range=7\b"))
    expect(page.locator("#insights-body")).to_have_attribute("data-period-preset", "7")
    check_cards(7)
    drawn_7 = check_chart(7)

    # The last 90 days: other numbers, a longer chart, the same stored values.
    page.evaluate("() => { window.samePage = true; }")  # gone if the switch reloads the whole page
    page.get_by_text("90 days", exact=True).click()
    expect(page).to_have_url(re.compile(r"[?&]range=90\b"))
    expect(page.locator("#insights-body")).to_have_attribute("data-period-preset", "90")
    check_cards(90)
    drawn_90 = check_chart(90)
    assert len(drawn_90["labels"]) == 90 and drawn_90["labels"][-7:] == drawn_7["labels"]
    assert page.evaluate("() => window.samePage === true")

    # The chart's table, for screen readers: the same figures, "not available" for the gaps.
    figure = page.locator("#chart-reach-views")
    figure.get_by_text("Reach and views as a table").click()
    table = figure.locator("details table")
    expect(table).to_be_visible()
    assert table.locator("thead th").all_inner_texts() == ["Date", "Reach", "Views"]
    rows = [
        [row.locator("th").inner_text(), *row.locator("td").all_inner_texts()]
        for row in table.locator("tbody tr").all()
    ]
    dates, shown = window(90)

    def cell(v: int | None) -> str:
        return "not available" if v is None else str(v)

    assert rows == [[d.isoformat(), cell(s["reach"]), cell(s["views"])] for d, s in zip(dates, shown, strict=True)]

    # The CSV download: one row per day, the stored values, empty where Meta had none.
    with page.expect_download() as info:
        figure.get_by_role("link", name=re.compile("^Download CSV")).click()
    download = info.value
    assert download.suggested_filename.endswith(f"{dates[0].isoformat()}-{dates[-1].isoformat()}.csv")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    with target.open(newline="", encoding="utf-8") as f:
        lines = list(csv.reader(f))

    def value(v: int | None) -> str:
        return "" if v is None else str(v)

    assert lines == [
        ["Date", "Reach", "Views"],
        *([d.isoformat(), value(s["reach"]), value(s["views"])] for d, s in zip(dates, shown, strict=True)),
    ]
