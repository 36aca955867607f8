"""The client report: the printable page and its PDF show exactly the stored figures ("not available" where Meta
gave none) over UTC days, with the agency's logo; who may open, download and schedule it; and the scheduled
emails, which reach each recipient once per schedule and time (an address the mail server refuses is tried again
on its own), with the PDF, and move on to the next Monday or 1st at 08:00 on the workspace's clock."""

from __future__ import annotations

import io
import smtplib
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.core.mail.backends import locmem
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from pypdf import PdfReader

from accounts.models import AgencyMembership, WorkspaceMembership
from analytics import report_tasks, reports
from analytics.models import AgencyBranding, ReportFrequency, ReportSchedule
from analytics.selectors import Period
from tests.analytics import factories as f
from tests.factories import UserFactory, WorkspaceFactory

AUCKLAND = ZoneInfo("Pacific/Auckland")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")

pytestmark = [pytest.mark.django_db, pytest.mark.no_sandbox]

ROME = ZoneInfo("Europe/Rome")
START, END = date(2025, 3, 10), date(2025, 3, 16)
WEEK = {"start": START.isoformat(), "end": END.isoformat()}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def stored(workspace, ig, fb):
    """A week of figures: reach on both channels (a day missing on Instagram), followers, no views at all, and
    three posts in the week and one before it."""
    f.daily_rows(ig, "reach", START, [1000, 1100, None, 1200, 1300, 1400, 1500])
    f.daily_rows(fb, "page_total_media_view_unique", START, [200, 200, 200, 200, 200, 200, 234])
    f.daily_rows(ig, "followers_count", START, [5000, 5010, 5020, 5030, 5040, 5050, 5060])
    f.daily_rows(fb, "page_follows", START, [800] * 7)
    f.daily_rows(ig, "total_interactions", START, [40, 41, 42, 43, 44, 45, 46])
    noon = datetime(2025, 3, 12, 12, tzinfo=ROME)
    f.post_insight(ig, caption="Sunrise flow", reach=4321, views=None, interactions=321, published_at=noon)
    f.post_insight(ig, caption="Evening stretch", reach=999, views=1500, interactions=50, published_at=noon)
    f.post_insight(fb, caption="Studio news", reach=None, views=700, interactions=12, published_at=noon)
    f.post_insight(ig, caption="Last month", reach=99999, published_at=noon - timedelta(days=20))


def _url(name, workspace, *args, **query):
    url = reverse(f"analytics:{name}", args=[workspace.public_id, *args])
    return f"{url}?{urlencode(query)}" if query else url


def _member(workspace, role):
    user = UserFactory()
    AgencyMembership.objects.create(agency=workspace.agency, user=user, role="member")
    WorkspaceMembership.objects.create(workspace=workspace, user=user, role=role)
    return user


def _png(size=(120, 40), fmt="PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 88, 202)).save(out, fmt)
    return out.getvalue()


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


# --- The page ------------------------------------------------------------------------------------------------------
def test_the_report_page_shows_the_stored_figures(client, alice, workspace, stored):
    client.force_login(alice)

    response = client.get(_url("report", workspace, **WEEK))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Acme Coffee" in html and "10–16 Mar 2025" in html
    cards = {
        key: html.split(f'data-kpi="{key}" data-value="', 1)[1].split('"', 1)[0]
        for key in ("followers", "reach", "views", "engagement")
    }
    # Reach adds up both channels' days; followers add up each channel's latest figure; no views were stored.
    assert cards == {"followers": str(5060 + 800), "reach": str(7500 + 1434), "views": "", "engagement": "301"}
    assert "8,934" in html and "5,860" in html
    # The data tables print without JavaScript. Reach on 12 March: the Page's 200 alone would draw as a dip, so
    # the day's total is left out and said to be incomplete, never printed as 200 or 0.
    reach_table = html.split('data-chart="reach-views"', 1)[1].split("</section>", 1)[0]
    assert (
        '<th scope="row" class="fw-normal">2025-03-12</th><td class="text-end"><span class="text-body-secondary">'
        "incomplete: not every account had a figure</span></td>"
    ) in reach_table
    assert '<th scope="row" class="fw-normal">2025-03-16</th><td class="text-end">1,734</td>' in reach_table
    assert "On 1 of 7 days not every account had a figure" in reach_table
    assert html.count("not available") >= 2
    # Top posts by reach, within the week only, with thumbnails; a post without reach comes last.
    assert html.index("Sunrise flow") < html.index("Evening stretch") < html.index("Studio news")
    assert "Last month" not in html
    assert "https://cdn.example.com/thumb" in html
    # The charts draw from the insights page's JSON for the same days.
    assert _url("chart_data", workspace, "followers", **WEEK) in html.replace("&amp;", "&")
    assert _url("report_pdf", workspace, **WEEK) in html.replace("&amp;", "&")


def test_the_report_page_and_the_chart_json_agree(client, alice, workspace, stored):
    client.force_login(alice)
    html = client.get(_url("report", workspace, **WEEK)).content.decode()

    data = client.get(_url("chart_data", workspace, "reach-views", **WEEK)).json()

    reach = next(d for d in data["datasets"] if d["label"] == "Reach")
    assert reach["data"] == [1200, 1300, None, 1400, 1500, 1600, 1734]
    assert "1,734" in html


def test_the_report_shows_the_agency_logo(client, alice, agency, workspace, stored):
    AgencyBranding.objects.create(agency=agency, logo=ContentFile(_png(), name="northwind.png"))
    client.force_login(alice)

    html = client.get(_url("report", workspace, **WEEK)).content.decode()
    logo = client.get(_url("report_logo", workspace))

    assert _url("report_logo", workspace) in html
    assert logo.status_code == 200 and logo["Content-Type"] == "image/png"
    assert b"".join(logo.streaming_content) == _png()


def test_without_a_logo_the_report_has_none(client, alice, workspace, stored):
    client.force_login(alice)

    assert _url("report_logo", workspace) not in client.get(_url("report", workspace, **WEEK)).content.decode()
    assert client.get(_url("report_logo", workspace)).status_code == 404


# --- The PDF -------------------------------------------------------------------------------------------------------
def test_the_pdf_has_the_workspace_its_figures_and_says_what_is_not_available(client, alice, workspace, stored):
    client.force_login(alice)

    response = client.get(_url("report_pdf", workspace, **WEEK))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="acme-coffee-report-2025-03-10-2025-03-16.pdf"'
    assert response.content.startswith(b"%PDF-")
    text = _pdf_text(response.content)
    assert "Acme Coffee" in text
    assert "10–16 Mar 2025" in text
    assert "8,934" in text  # reach
    assert "5,860" in text  # followers
    assert "not available" in text  # views: nothing stored
    assert "Sunrise flow" in text and "4,321" in text
    assert "Last month" not in text


def test_the_pdf_carries_the_agency_logo(client, alice, agency, workspace, stored):
    client.force_login(alice)
    without = client.get(_url("report_pdf", workspace, **WEEK)).content
    AgencyBranding.objects.create(agency=agency, logo=ContentFile(_png(), name="northwind.png"))

    with_logo = client.get(_url("report_pdf", workspace, **WEEK)).content

    assert len(PdfReader(io.BytesIO(without)).pages[0].images) == 0
    assert len(PdfReader(io.BytesIO(with_logo)).pages[0].images) == 1


def test_a_workspace_without_figures_still_gets_a_readable_report(client, alice, workspace):
    client.force_login(alice)

    text = _pdf_text(client.get(_url("report_pdf", workspace, **WEEK)).content)

    assert "Acme Coffee" in text and "not available" in text
    assert "No post was published in this period." in text


# --- Who may see and schedule it ------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["client", "analyst", "editor"])
def test_readers_of_insights_open_and_download_but_may_not_schedule(client, workspace, stored, role):
    client.force_login(_member(workspace, role))

    page = client.get(_url("report", workspace, **WEEK))

    assert page.status_code == 200
    assert _url("report_schedules", workspace) not in page.content.decode()
    assert client.get(_url("report_pdf", workspace, **WEEK)).status_code == 200
    assert client.get(_url("report_schedules", workspace)).status_code == 403
    assert (
        client.post(
            _url("report_schedules", workspace), {"frequency": "weekly", "recipients": "a@b.example"}
        ).status_code
        == 403
    )
    assert not ReportSchedule.objects.exists()


def test_a_moderator_may_not_open_the_report(client, workspace):
    client.force_login(_member(workspace, "moderator"))

    assert client.get(_url("report", workspace)).status_code == 403
    assert client.get(_url("report_pdf", workspace)).status_code == 403


def test_strangers_get_404_everywhere(client, charlie, workspace):
    schedule = reports.schedule_create(workspace=workspace, frequency="weekly", recipients=["a@b.example"], by=None)
    client.force_login(charlie)

    for url in (
        _url("report", workspace),
        _url("report_pdf", workspace),
        _url("report_logo", workspace),
        _url("report_schedules", workspace),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(_url("report_schedule_delete", workspace, schedule.pk)).status_code == 404
    assert ReportSchedule.objects.filter(pk=schedule.pk).exists()


# --- Schedules ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("recipients", "message"),
    [
        ("", "Write at least one email address"),
        (" , ;\n", "Write at least one email address"),
        ("client@brand.example, not-an-email", "“not-an-email” is not an email address"),
        ("a@, b@x", "“a@”, “b@x” are not email addresses"),
        (", ".join(f"p{i}@brand.example" for i in range(21)), "at most 20 addresses"),
    ],
)
def test_the_schedule_form_says_what_is_wrong_with_the_addresses(client, alice, workspace, recipients, message):
    client.force_login(alice)

    response = client.post(_url("report_schedules", workspace), {"frequency": "weekly", "recipients": recipients})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ReportSchedule.objects.exists()


def test_the_schedule_form_needs_a_known_frequency(client, alice, workspace):
    client.force_login(alice)

    response = client.post(_url("report_schedules", workspace), {"frequency": "daily", "recipients": "a@b.example"})

    assert response.status_code == 400
    assert "Choose weekly or monthly." in response.content.decode()


def test_a_manager_schedules_the_report_for_next_monday_at_eight_local(client, alice, workspace, monkeypatch):
    # Wednesday 11 March 2026, 15:00 in Rome.
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 3, 11, 14, 0, tzinfo=UTC))
    client.force_login(alice)

    response = client.post(
        _url("report_schedules", workspace),
        {"frequency": "weekly", "recipients": "Client@Brand.example\nboss@brand.example, client@brand.example"},
        follow=True,
    )

    schedule = ReportSchedule.objects.get()
    assert schedule.workspace == workspace and schedule.created_by == alice
    assert schedule.recipients.splitlines() == ["Client@Brand.example", "boss@brand.example"]
    assert schedule.next_send_at == datetime(2026, 3, 16, 8, 0, tzinfo=ROME)
    html = response.content.decode()
    assert "Monday 16 March at 08:00 (Europe/Rome)" in html
    assert "Client@Brand.example, boss@brand.example" in html


def test_stopping_a_schedule_only_touches_this_workspace(client, alice, agency, workspace):
    other = WorkspaceFactory(agency=agency, name="Bakery Bloom")
    mine = reports.schedule_create(workspace=workspace, frequency="weekly", recipients=["a@b.example"], by=alice)
    theirs = reports.schedule_create(workspace=other, frequency="weekly", recipients=["c@d.example"], by=alice)
    client.force_login(alice)

    assert client.post(_url("report_schedule_delete", workspace, theirs.pk)).status_code == 404
    assert client.get(_url("report_schedule_delete", workspace, mine.pk)).status_code == 405
    response = client.post(_url("report_schedule_delete", workspace, mine.pk))

    assert response.status_code == 302
    assert list(ReportSchedule.objects.all()) == [theirs]


# --- When reports go out --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("frequency", "now", "expected"),
    [
        # weekly: the next Monday 08:00 in Rome; on a Monday before 08:00, that same morning
        ("weekly", datetime(2026, 3, 11, 14, 0, tzinfo=UTC), datetime(2026, 3, 16, 8, 0, tzinfo=ROME)),
        ("weekly", datetime(2026, 3, 16, 6, 59, tzinfo=UTC), datetime(2026, 3, 16, 8, 0, tzinfo=ROME)),
        ("weekly", datetime(2026, 3, 16, 7, 0, tzinfo=UTC), datetime(2026, 3, 23, 8, 0, tzinfo=ROME)),
        # across the change to summer time (29 March): still 08:00 on the clock, an hour earlier in UTC
        ("weekly", datetime(2026, 3, 24, 12, 0, tzinfo=UTC), datetime(2026, 3, 30, 6, 0, tzinfo=UTC)),
        # monthly: the 1st at 08:00, into the next year in December
        ("monthly", datetime(2026, 3, 11, 14, 0, tzinfo=UTC), datetime(2026, 4, 1, 8, 0, tzinfo=ROME)),
        ("monthly", datetime(2026, 12, 1, 7, 30, tzinfo=UTC), datetime(2027, 1, 1, 8, 0, tzinfo=ROME)),
    ],
)
def test_next_send_time(frequency, now, expected):
    assert reports.next_send_after(frequency, ROME, now) == expected


@pytest.mark.parametrize(
    ("frequency", "send_at", "expected"),
    [
        # Monday 08:00 in Rome is 07:00 UTC: the 7 UTC days up to Sunday
        ("weekly", datetime(2026, 3, 16, 8, 0, tzinfo=ROME), (date(2026, 3, 9), date(2026, 3, 15))),
        # in Los Angeles it is 15:00 UTC on Monday: the same 7 days
        ("weekly", datetime(2026, 3, 16, 8, 0, tzinfo=LOS_ANGELES), (date(2026, 3, 9), date(2026, 3, 15))),
        # in Auckland it is 19:00 UTC on Sunday, a day not over in UTC: the 7 complete days up to Saturday
        ("weekly", datetime(2026, 3, 16, 8, 0, tzinfo=AUCKLAND), (date(2026, 3, 8), date(2026, 3, 14))),
        ("monthly", datetime(2026, 3, 1, 8, 0, tzinfo=ROME), (date(2026, 2, 1), date(2026, 2, 28))),
        ("monthly", datetime(2026, 1, 1, 8, 0, tzinfo=ROME), (date(2025, 12, 1), date(2025, 12, 31))),
        # the month before, up to its last complete UTC day (28 February has not ended in UTC yet)
        ("monthly", datetime(2026, 3, 1, 8, 0, tzinfo=AUCKLAND), (date(2026, 2, 1), date(2026, 2, 27))),
    ],
)
def test_what_a_report_covers_in_utc_days(frequency, send_at, expected):
    assert reports.period_for(frequency, send_at) == Period(*expected)


def test_a_weekly_report_sent_east_of_utc_covers_the_last_7_complete_utc_days(agency):
    workspace = WorkspaceFactory(agency=agency, name="Kiwi Cafe", timezone="Pacific/Auckland")
    ig = f.channel(workspace, 1, username="kiwicafe")
    # UTC days 8 to 16 March 2026; at Monday 16 March 08:00 in Auckland (19:00 UTC on the 15th) the 15th is not
    # over in UTC and the 16th has not begun.
    f.daily_rows(ig, "reach", date(2026, 3, 7), [1, 10, 20, 30, 40, 50, 60, 70, 5000, 9000])
    schedule = reports.schedule_create(
        workspace=workspace, frequency="weekly", recipients=["client@kiwi.example"], by=None,
        now=datetime(2026, 3, 12, tzinfo=UTC),
    )  # fmt: skip
    assert schedule.next_send_at == datetime(2026, 3, 16, 8, 0, tzinfo=AUCKLAND)

    assert reports.schedules_send_due(now=datetime(2026, 3, 15, 19, 5, tzinfo=UTC)) == 1

    (message,) = mail.outbox
    assert message.subject == "Kiwi Cafe social media report, 8–14 Mar 2026"
    assert "Reach: 280" in message.body  # 10 + 20 + … + 70: the 7th March and the 15th are not in it
    assert message.attachments[0][0] == "kiwi-cafe-report-2026-03-08-2026-03-14.pdf"


def test_the_report_page_counts_utc_days(client, alice, workspace, stored, monkeypatch):
    # 00:30 on 17 March in Rome is 23:30 on 16 March in UTC: the 16th is not over, the last complete day is 15th.
    monkeypatch.setattr(timezone, "now", lambda: datetime(2025, 3, 16, 23, 30, tzinfo=UTC))
    client.force_login(alice)

    html = client.get(_url("report", workspace, range="7")).content.decode().replace("&amp;", "&")

    assert "9–15 Mar 2025" in html
    # The chart data, the PDF and the way back name these days, not a range counted again later.
    assert _url("chart_data", workspace, "followers", start="2025-03-09", end="2025-03-15") in html
    assert _url("report_pdf", workspace, start="2025-03-09", end="2025-03-15") in html
    assert _url("insights", workspace, start="2025-03-09", end="2025-03-15") in html


@pytest.fixture
def due(workspace, stored, alice):
    """A weekly schedule for two people, due Monday 17 March 2025 at 08:00 in Rome (the stored week before it)."""
    schedule = reports.schedule_create(
        workspace=workspace,
        frequency=ReportFrequency.WEEKLY,
        recipients=["client@brand.example", "boss@brand.example"],
        by=alice,
        now=datetime(2025, 3, 12, 9, 0, tzinfo=UTC),
    )
    assert schedule.next_send_at == datetime(2025, 3, 17, 8, 0, tzinfo=ROME)
    return schedule


MONDAY = datetime(2025, 3, 17, 7, 5, tzinfo=UTC)  # 08:05 in Rome


def test_a_due_report_is_emailed_once_to_each_recipient_with_the_pdf(due):
    assert reports.schedules_send_due(now=MONDAY - timedelta(minutes=10)) == 0  # 07:55: not yet
    assert mail.outbox == []

    assert reports.schedules_send_due(now=MONDAY) == 1
    assert reports.schedules_send_due(now=MONDAY) == 0  # run again: already sent
    assert reports.schedules_send_due(now=MONDAY + timedelta(minutes=15)) == 0

    assert sorted(m.to for m in mail.outbox) == [["boss@brand.example"], ["client@brand.example"]]
    message = mail.outbox[0]
    assert message.subject == "Acme Coffee social media report, 10–16 Mar 2025"
    assert "Reach: 8,934" in message.body and "Views: not available" in message.body
    ((name, content, mimetype),) = message.attachments
    assert (name, mimetype) == ("acme-coffee-report-2025-03-10-2025-03-16.pdf", "application/pdf")
    assert "8,934" in _pdf_text(content)
    due.refresh_from_db()
    assert due.last_sent_at == MONDAY and due.last_error == ""
    assert due.next_send_at == datetime(2025, 3, 24, 8, 0, tzinfo=ROME)


def test_a_late_run_sends_the_week_just_ended_and_moves_to_the_next_monday(due):
    wednesday = datetime(2025, 3, 19, 10, 0, tzinfo=UTC)

    assert reports.schedules_send_due(now=wednesday) == 1

    assert "10–16 Mar 2025" in mail.outbox[0].subject
    due.refresh_from_db()
    assert due.next_send_at == datetime(2025, 3, 24, 8, 0, tzinfo=ROME)


def test_a_monthly_report_covers_the_month_before(workspace, stored):
    schedule = reports.schedule_create(
        workspace=workspace, frequency="monthly", recipients=["client@brand.example"], by=None,
        now=datetime(2025, 3, 20, tzinfo=UTC),
    )  # fmt: skip
    assert schedule.next_send_at == datetime(2025, 4, 1, 8, 0, tzinfo=ROME)

    assert reports.schedules_send_due(now=datetime(2025, 4, 1, 6, 1, tzinfo=UTC)) == 1

    assert mail.outbox[0].subject == "Acme Coffee social media report, 1–31 Mar 2025"
    schedule.refresh_from_db()
    assert schedule.next_send_at == datetime(2025, 5, 1, 8, 0, tzinfo=ROME)


def test_a_switched_off_schedule_is_not_sent(due):
    ReportSchedule.objects.filter(pk=due.pk).update(enabled=False)

    assert reports.schedules_send_due(now=MONDAY) == 0
    assert mail.outbox == []


def test_a_schedule_left_without_addresses_says_so_and_waits_for_its_next_time(due):
    ReportSchedule.objects.filter(pk=due.pk).update(recipients=" \n ")

    assert reports.schedules_send_due(now=MONDAY) == 0

    due.refresh_from_db()
    assert due.last_error == "The schedule has no address to send the report to."
    assert due.next_send_at == datetime(2025, 3, 24, 8, 0, tzinfo=ROME)
    assert mail.outbox == []


class RefusingBackend:
    """A mail server that refuses every address."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused({m.to[0]: (550, b"No such user") for m in messages})


def test_a_refused_report_says_why_and_is_tried_again_an_hour_later(settings, due):
    settings.EMAIL_BACKEND = "tests.analytics.test_reports.RefusingBackend"

    assert reports.schedules_send_due(now=MONDAY) == 0

    due.refresh_from_db()
    assert due.last_error == "The mail server refused these addresses: boss@brand.example, client@brand.example."
    assert due.last_sent_at is None
    assert due.next_send_at == MONDAY + timedelta(hours=1)
    assert reports.schedules_send_due(now=MONDAY + timedelta(minutes=30)) == 0  # not before the hour

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert reports.schedules_send_due(now=MONDAY + timedelta(hours=1)) == 1
    due.refresh_from_db()
    assert due.last_error == "" and len(mail.outbox) == 2
    assert "10–16 Mar 2025" in mail.outbox[0].subject  # still the week the late report stands for


def test_the_schedules_page_shows_the_last_failure(client, alice, workspace, due):
    ReportSchedule.objects.filter(pk=due.pk).update(last_error="The mail server could not be reached.")
    client.force_login(alice)

    html = client.get(_url("report_schedules", workspace)).content.decode()

    assert "Last attempt failed: The mail server could not be reached." in html
    assert "Mon 17 Mar 2025, 08:00" in html  # on the workspace's clock


def test_the_beat_task_sends_what_is_due_once(due):
    ReportSchedule.objects.filter(pk=due.pk).update(next_send_at=timezone.now() - timedelta(minutes=1))

    report_tasks.send_due_reports()
    report_tasks.send_due_reports()

    assert len(mail.outbox) == 2
    due.refresh_from_db()
    assert due.next_send_at > timezone.now()
    assert due.next_send_at.astimezone(ROME).weekday() == 0
    assert due.next_send_at.astimezone(ROME).time().hour == 8


class RefusesBoss(locmem.EmailBackend):
    """A mail server that takes every message except those to the addresses in `refused`."""

    refused = {"boss@brand.example"}

    def send_messages(self, messages):
        for m in messages:
            if m.to[0] in self.refused:
                raise smtplib.SMTPRecipientsRefused({m.to[0]: (550, b"Mailbox full")})
        return super().send_messages(messages)


def _to(address):
    return [m for m in mail.outbox if m.to == [address]]


def test_one_refused_address_does_not_resend_the_report_to_the_others(settings, due):
    settings.EMAIL_BACKEND = "tests.analytics.test_reports.RefusesBoss"

    assert reports.schedules_send_due(now=MONDAY) == 1

    due.refresh_from_db()
    assert due.last_error == "The mail server refused these addresses: boss@brand.example."
    assert due.pending_recipients == ["boss@brand.example"]
    assert due.last_sent_at == MONDAY
    assert due.next_send_at == MONDAY + timedelta(hours=1)
    # Retried every hour while the server refuses: only the refused address is tried, the client gets nothing more.
    for hours in (0, 1, 2, 3):
        reports.schedules_send_due(now=MONDAY + timedelta(hours=hours, minutes=1))
    assert len(_to("client@brand.example")) == 1 and _to("boss@brand.example") == []
    due.refresh_from_db()
    assert due.pending_recipients == ["boss@brand.example"]

    settings.EMAIL_BACKEND = "tests.analytics.test_reports.RefusesBoss"
    RefusesBoss.refused = set()
    try:
        assert reports.schedules_send_due(now=MONDAY + timedelta(hours=4, minutes=1)) == 1
        for hours in (5, 6, 24):
            assert reports.schedules_send_due(now=MONDAY + timedelta(hours=hours)) == 0
    finally:
        RefusesBoss.refused = {"boss@brand.example"}

    (late,) = _to("boss@brand.example")
    assert len(_to("client@brand.example")) == 1
    assert late.subject == "Acme Coffee social media report, 10–16 Mar 2025"  # the same week as the client's
    due.refresh_from_db()
    assert due.pending_recipients == [] and due.last_error == ""
    assert due.next_send_at == datetime(2025, 3, 24, 8, 0, tzinfo=ROME)


def test_a_refused_address_is_retried_until_the_next_report_only(settings, due):
    settings.EMAIL_BACKEND = "tests.analytics.test_reports.RefusesBoss"
    following = datetime(2025, 3, 24, 8, 0, tzinfo=ROME)
    reports.schedules_send_due(now=MONDAY)

    # The last retry before the next Monday: the next one would come after it, so the address is given up on.
    ReportSchedule.objects.filter(pk=due.pk).update(next_send_at=following - timedelta(minutes=30))
    assert reports.schedules_send_due(now=following - timedelta(minutes=30)) == 0
    due.refresh_from_db()
    assert due.pending_recipients == [] and due.next_send_at == following
    assert "boss@brand.example" in due.last_error

    # The next Monday's report goes to everyone once, for its own week.
    assert reports.schedules_send_due(now=following + timedelta(minutes=5)) == 1
    assert reports.schedules_send_due(now=following + timedelta(minutes=6)) == 0
    assert [m.subject for m in _to("client@brand.example")] == [
        "Acme Coffee social media report, 10–16 Mar 2025",
        "Acme Coffee social media report, 17–23 Mar 2025",
    ]
    due.refresh_from_db()
    assert due.pending_recipients == ["boss@brand.example"]


def test_a_report_that_could_not_be_made_is_retried_for_everyone_once(due, monkeypatch):
    from analytics import report_pdf

    render = report_pdf.render
    monkeypatch.setattr(report_pdf, "render", lambda report: 1 / 0)

    assert reports.schedules_send_due(now=MONDAY) == 0

    due.refresh_from_db()
    assert due.last_error.startswith("The report could not be made")
    assert sorted(due.pending_recipients) == ["boss@brand.example", "client@brand.example"]
    monkeypatch.setattr(report_pdf, "render", render)
    assert reports.schedules_send_due(now=MONDAY + timedelta(hours=1)) == 1
    assert reports.schedules_send_due(now=MONDAY + timedelta(hours=2)) == 0
    assert sorted(m.to[0] for m in mail.outbox) == ["boss@brand.example", "client@brand.example"]


def test_the_schedules_page_says_who_is_still_to_get_the_report(client, alice, workspace, settings, due):
    settings.EMAIL_BACKEND = "tests.analytics.test_reports.RefusesBoss"
    reports.schedules_send_due(now=MONDAY)
    client.force_login(alice)

    html = client.get(_url("report_schedules", workspace)).content.decode()

    assert "Still to get the latest report: boss@brand.example" in html
    assert "Last attempt failed: The mail server refused these addresses: boss@brand.example." in html
