"""The client report: what it shows for a workspace and a period (KPI cards, follower and reach/views lines, top
posts, the agency's logo), as a page, a PDF (`report_pdf`) and an email sent on a schedule.

A scheduled report goes out at 08:00 on the workspace's clock: weekly on Mondays for the seven days before, monthly
on the 1st for the month before. `schedules_send_due` (the beat task `analytics.send_due_reports`) locks each due
schedule with `select_for_update(skip_locked=True)` and moves it on in the same transaction that sends it, so two
runs at once send it once. A mail server that refuses it leaves the reason on the schedule in plain words and the
report is tried again an hour later."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from . import catalogue, selectors
from .forms import split_recipients
from .models import AgencyBranding, PostInsight, ReportFrequency, ReportSchedule
from .selectors import Chart, KpiCard, Period

if TYPE_CHECKING:
    from accounts.models import Channel, Workspace

logger = logging.getLogger(__name__)

SEND_TIME = time(8, 0)
RETRY_AFTER = timedelta(hours=1)
TOP_POSTS = 10
DUE_BATCH = 200  # schedules sent per beat run at most; the rest wait for the next run


# --- What the report shows -------------------------------------------------------------------------------------
@dataclass
class Report:
    workspace: Workspace
    period: Period
    channels: list[Channel]
    cards: list[KpiCard]
    followers: Chart  # one line per channel
    reach_views: Chart  # reach and views, the channels added up
    posts: list[PostInsight]
    branding: AgencyBranding | None

    @property
    def logo(self) -> bool:
        return bool(self.branding and self.branding.logo)

    @property
    def filename(self) -> str:
        return report_filename(self.workspace, self.period)


def report_filename(workspace: Workspace, period: Period) -> str:
    name = slugify(workspace.name) or "workspace"
    return f"{name}-report-{period.start.isoformat()}-{period.end.isoformat()}.pdf"


def agency_branding(agency_id: int) -> AgencyBranding | None:
    return AgencyBranding.objects.filter(agency_id=agency_id).first()


def report_build(*, workspace: Workspace, period: Period) -> Report:
    """The workspace's report over `period`, from the stored figures of its channels."""
    channels = selectors.insight_channels(workspace)
    reach, views = catalogue.kpi("reach"), catalogue.kpi("views")
    return Report(
        workspace=workspace,
        period=period,
        channels=channels,
        cards=selectors.kpi_cards(channels, period),
        followers=selectors.series_chart(
            channels,
            [selectors.kpi_series(catalogue.kpi("followers"))],
            period,
            title="Followers",
            per_channel=True,
        ),
        reach_views=selectors.series_chart(
            channels, [selectors.kpi_series(reach), selectors.kpi_series(views)], period, title="Reach and views"
        ),
        posts=selectors.top_posts(workspace, channels, period, order="reach", limit=TOP_POSTS),
        branding=agency_branding(workspace.agency_id),
    )


def figure(value: int | float | None) -> str:
    """A figure as the report prints it: 12,345, or "not available"."""
    if value is None:
        return "not available"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}"


def change(card: KpiCard) -> str:
    """The card's change against the previous period, in words for print: "+4.2%", or why there is none."""
    if card.change_pct is None:
        return "no earlier figure" if card.value is not None else "not available"
    return f"{card.change_pct:+.1f}%"


def summary_line(card: KpiCard, period: Period) -> str:
    """One KPI in words for the email: "Reach: 12,345, +4.2% on the previous 7 days"."""
    line = f"{card.label}: {figure(card.value)}"
    if card.partial:
        line += f" (figures for {card.days_available} of {card.days} days)"
    if card.change_pct is not None:
        line += f", {card.change_pct:+.1f}% on the previous {period.days} days"
    return line


# --- When scheduled reports go out ------------------------------------------------------------------------------
def _at(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, SEND_TIME, tzinfo=tz)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def _occurrences(frequency: str, tz: ZoneInfo, around: datetime) -> list[datetime]:
    """Send times from before `around` to after it, in order."""
    local = around.astimezone(tz).date()
    if frequency == ReportFrequency.MONTHLY:
        first = local.replace(day=1)
        return [_at(_add_months(first, n), tz) for n in (-1, 0, 1)]
    monday = local - timedelta(days=local.weekday())
    return [_at(monday + timedelta(weeks=n), tz) for n in (-1, 0, 1)]


def next_send_after(frequency: str, tz: ZoneInfo, after: datetime) -> datetime:
    """The first send time strictly after `after`: Monday 08:00 (weekly) or the 1st 08:00 (monthly), local."""
    return next(at for at in _occurrences(frequency, tz, after) if at > after)


def last_send_at(frequency: str, tz: ZoneInfo, at: datetime) -> datetime:
    """The latest send time at or before `at`: the one a report sent now (even late) stands for."""
    return [t for t in _occurrences(frequency, tz, at) if t <= at][-1]


def period_for(frequency: str, send_day: date) -> Period:
    """What a report sent on `send_day` covers: the 7 days before it, or the whole month before it."""
    if frequency == ReportFrequency.MONTHLY:
        end = send_day.replace(day=1) - timedelta(days=1)
        return Period(end.replace(day=1), end)
    return Period(send_day - timedelta(days=7), send_day - timedelta(days=1))


def schedule_period(schedule: ReportSchedule, *, now: datetime) -> Period:
    tz = schedule.workspace.zoneinfo
    return period_for(schedule.frequency, last_send_at(schedule.frequency, tz, now).astimezone(tz).date())


def schedule_create(
    *, workspace: Workspace, frequency: str, recipients: list[str], by: object, now: datetime | None = None
) -> ReportSchedule:
    now = now or timezone.now()
    return ReportSchedule.objects.create(
        workspace=workspace,
        frequency=frequency,
        recipients="\n".join(recipients),
        next_send_at=next_send_after(frequency, workspace.zoneinfo, now),
        created_by=by,
    )


# --- Sending -------------------------------------------------------------------------------------------------
def report_url(workspace: Workspace, period: Period) -> str:
    path = reverse("analytics:report", kwargs={"workspace_id": workspace.public_id})
    return f"{settings.PUBLIC_BASE_URL}{path}?{urlencode(period.params())}"


def report_email(report: Report, pdf: bytes, recipient: str, *, connection: object = None) -> EmailMessage:
    workspace, period = report.workspace, report.period
    body = render_to_string(
        "analytics/report_email.txt",
        {
            "report": report,
            "lines": [summary_line(card, period) for card in report.cards],
            "url": report_url(workspace, period),
        },
    )
    subject = " ".join(f"{workspace.name} social media report, {period.label}".split())
    message = EmailMessage(subject=subject, body=body, to=[recipient], connection=connection)
    message.attach(report.filename, pdf, "application/pdf")
    return message


def _plain_error(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "The mail server refused these addresses: " + ", ".join(sorted(exc.recipients)) + "."
    if isinstance(exc, smtplib.SMTPException):
        return f"The mail server refused the report: {exc}."
    if isinstance(exc, OSError):
        return "The mail server could not be reached; the report is tried again in an hour."
    return "The report could not be made; the operators can see why in the logs. It is tried again in an hour."


def schedule_send(*, schedule_id: int, now: datetime | None = None) -> bool:
    """Send one schedule's report if it is due, and move it to its next time. Returns whether it went out.

    The row is locked (others skip it) and moved on in the transaction that sends it: a second run at the same
    time finds it locked or no longer due. On failure the reason is kept and it is due again in an hour."""
    from . import report_pdf

    now = now or timezone.now()
    with transaction.atomic():
        schedule = (
            ReportSchedule.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("workspace")
            .filter(pk=schedule_id, enabled=True, next_send_at__lte=now)
            .first()
        )
        if schedule is None:
            return False
        tz = schedule.workspace.zoneinfo
        following = next_send_after(schedule.frequency, tz, now)
        recipients = split_recipients(schedule.recipients)
        if not recipients:  # emptied in the admin: nothing to try again until someone adds an address
            schedule.last_error = "The schedule has no address to send the report to."
            schedule.next_send_at = following
            schedule.save(update_fields=["last_error", "next_send_at"])
            return False
        try:
            report = report_build(workspace=schedule.workspace, period=schedule_period(schedule, now=now))
            pdf = report_pdf.render(report)
            connection = get_connection()
            connection.send_messages([report_email(report, pdf, to, connection=connection) for to in recipients])
        except Exception as exc:
            logger.warning("report schedule %s was not sent", schedule.pk, exc_info=True)
            schedule.last_error = _plain_error(exc)
            schedule.next_send_at = min(now + RETRY_AFTER, following)
            schedule.save(update_fields=["last_error", "next_send_at"])
            return False
        schedule.last_sent_at = now
        schedule.last_error = ""
        schedule.next_send_at = following
        schedule.save(update_fields=["last_sent_at", "last_error", "next_send_at"])
    return True


def schedules_send_due(*, now: datetime | None = None) -> int:
    """Send every enabled schedule whose time has come (oldest first). Returns how many reports went out."""
    now = now or timezone.now()
    due = list(
        ReportSchedule.objects.filter(enabled=True, next_send_at__lte=now)
        .order_by("next_send_at", "pk")
        .values_list("pk", flat=True)[:DUE_BATCH]
    )
    return sum(1 for pk in due if schedule_send(schedule_id=pk, now=now))
