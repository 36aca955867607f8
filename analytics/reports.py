"""The client report: what it shows for a workspace and a period (KPI cards, follower and reach/views lines, top
posts, the agency's logo), as a page, a PDF (`report_pdf`) and an email sent on a schedule.

Periods are UTC days, as the figures are stored (`selectors.last_complete_day`). A scheduled report goes out at
08:00 on the workspace's clock: weekly on Mondays for the 7 complete UTC days before, monthly on the 1st for the
month before (up to its last complete UTC day).

Each occurrence reaches each recipient once. `schedules_send_due` (the beat task `analytics.send_due_reports`)
claims a due schedule in one transaction (`select_for_update(skip_locked=True)`): it moves `next_send_at` an hour
on and lists the addresses still to get this occurrence in `pending_recipients`. Then each address gets its own
message and is struck off the list as soon as the mail server takes it. An address the server refuses stays on
the list, the reason is kept on the schedule in plain words, and it alone is tried again every hour until the next
occurrence; those who got the report never get it twice."""

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
    """The card's change against the previous period, in words for print: "+4.2%" ("+4.2%, like for like" when
    it leaves out what lacked a figure in either period), or why there is none."""
    if card.change_pct is None:
        return "no earlier figure" if card.value is not None else "not available"
    return f"{card.change_pct:+.1f}%" + (", like for like" if card.like_for_like else "")


def summary_line(card: KpiCard, period: Period) -> str:
    """One KPI in words for the email: "Reach: 12,345, +4.2% on the previous 7 days"."""
    line = f"{card.label}: {figure(card.value)}"
    if card.partial:
        line += f" (figures for {card.coverage})"
    if card.change_pct is not None:
        line += f", {card.change_pct:+.1f}% on the previous {period.days} days"
        if card.like_for_like:
            line += f" ({card.comparison})"
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


def period_for(frequency: str, send_at: datetime) -> Period:
    """What a report sent at `send_at` (on the workspace's clock) covers, in UTC days as the figures are stored:
    the 7 complete UTC days before it (weekly), or the calendar month before the local send day, up to its last
    complete UTC day (monthly: east of UTC the month's last day has not ended yet at 08:00 on the 1st)."""
    last = selectors.last_complete_day(now=send_at)
    if frequency == ReportFrequency.MONTHLY:
        end = send_at.date().replace(day=1) - timedelta(days=1)
        return Period(end.replace(day=1), min(end, last))
    return Period(last - timedelta(days=6), last)


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


def _send_error(failures: dict[str, Exception]) -> str:
    """Why the addresses in `failures` did not get the report, in plain words: the refused addresses together,
    then any other reason once."""
    refused = sorted(a for a, exc in failures.items() if isinstance(exc, smtplib.SMTPRecipientsRefused))
    parts = ["The mail server refused these addresses: " + ", ".join(refused) + "."] if refused else []
    other = next((exc for exc in failures.values() if not isinstance(exc, smtplib.SMTPRecipientsRefused)), None)
    if other is not None:
        parts.append(_plain_error(other))
    return " ".join(parts)


@dataclass
class _Claim:
    schedule: ReportSchedule
    occurrence: datetime  # the send time this occurrence stands for
    following: datetime  # the next occurrence's send time
    to: list[str]  # the addresses to send to in this run


def _claim(schedule_id: int, now: datetime) -> _Claim | None:
    """Lock a due schedule, work out who still has to get its current occurrence, and move it on: `next_send_at`
    an hour later (so no other run takes it meanwhile; a run that dies half-way is picked up then) and those
    addresses in `pending_recipients`. One transaction. None when it is not due, or taken, or has nobody to send
    to (which is recorded)."""
    with transaction.atomic():
        schedule = (
            ReportSchedule.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("workspace")
            .filter(pk=schedule_id, enabled=True, next_send_at__lte=now)
            .first()
        )
        if schedule is None:
            return None
        tz = schedule.workspace.zoneinfo
        occurrence = last_send_at(schedule.frequency, tz, now)
        following = next_send_after(schedule.frequency, tz, now)
        recipients = split_recipients(schedule.recipients)
        # A retry of this occurrence: it was claimed before and left addresses pending, and the time it is due
        # again is a retry time after this occurrence's send time (an occurrence's own time starts it afresh).
        retrying = (
            bool(schedule.pending_recipients)
            and schedule.next_send_at > occurrence
            and last_send_at(schedule.frequency, tz, schedule.next_send_at) == occurrence
        )
        if retrying:
            still = {r.lower() for r in recipients}  # an address taken off the schedule meanwhile is dropped
            to = [a for a in schedule.pending_recipients if a.lower() in still]
        else:
            to = recipients
        if not to:  # emptied (nothing to try until someone adds an address), or no pending address left on it
            schedule.last_error = "" if recipients else "The schedule has no address to send the report to."
            schedule.pending_recipients = []
            schedule.next_send_at = following
            schedule.save(update_fields=["last_error", "pending_recipients", "next_send_at"])
            return None
        schedule.pending_recipients = to
        schedule.next_send_at = min(now + RETRY_AFTER, following)
        schedule.save(update_fields=["pending_recipients", "next_send_at"])
    return _Claim(schedule=schedule, occurrence=occurrence, following=following, to=to)


def _deliver(claim: _Claim) -> tuple[list[str], dict[str, Exception]]:
    """One message per address; each address the mail server takes is struck off `pending_recipients` at once
    (its own statement, committed), so a later retry never sends it again. Returns (sent, failures)."""
    from . import report_pdf

    schedule, sent, failures = claim.schedule, [], {}
    try:
        report = report_build(workspace=schedule.workspace, period=period_for(schedule.frequency, claim.occurrence))
        pdf = report_pdf.render(report)
        connection = get_connection()
    except Exception as exc:
        logger.warning("report schedule %s could not be made", schedule.pk, exc_info=True)
        return [], dict.fromkeys(claim.to, exc)
    pending = list(claim.to)
    for address in claim.to:
        try:
            if not connection.send_messages([report_email(report, pdf, address, connection=connection)]):
                raise smtplib.SMTPRecipientsRefused({address: (0, b"not taken")})
        except Exception as exc:
            logger.warning("report schedule %s was not sent to one address", schedule.pk, exc_info=True)
            failures[address] = exc
            continue
        sent.append(address)
        pending.remove(address)
        if not ReportSchedule.objects.filter(pk=schedule.pk).update(pending_recipients=pending):
            break  # the schedule was deleted meanwhile: nobody else on it gets the report
    return sent, failures


def schedule_send(*, schedule_id: int, now: datetime | None = None) -> bool:
    """Send one schedule's report to everyone who has not yet got its current occurrence, if it is due. Returns
    whether it went to anyone in this run.

    When every address has it, the schedule moves to its next occurrence. Otherwise the reason is kept and the
    addresses left are tried again in an hour, until the next occurrence, which starts afresh with every
    address."""
    now = now or timezone.now()
    claim = _claim(schedule_id, now)
    if claim is None:
        return False
    sent, failures = _deliver(claim)
    schedule = ReportSchedule.objects.filter(pk=claim.schedule.pk).first()
    if schedule is None:
        return bool(sent)
    fields = ["last_error", "pending_recipients", "next_send_at"]
    if sent:
        schedule.last_sent_at = now
        fields.append("last_sent_at")
    if failures:
        schedule.last_error = _send_error(failures)
        retry = now + RETRY_AFTER
        if retry < claim.following:
            schedule.pending_recipients = [a for a in claim.to if a in failures]
            schedule.next_send_at = retry
        else:  # the next occurrence comes first: it goes to everyone, these addresses missed this one
            schedule.pending_recipients = []
            schedule.next_send_at = claim.following
    else:
        schedule.last_error = ""
        schedule.pending_recipients = []
        schedule.next_send_at = claim.following
    schedule.save(update_fields=fields)
    return bool(sent)


def schedules_send_due(*, now: datetime | None = None) -> int:
    """Send every enabled schedule whose time has come (oldest first). Returns how many went to anyone."""
    now = now or timezone.now()
    due = list(
        ReportSchedule.objects.filter(enabled=True, next_send_at__lte=now)
        .order_by("next_send_at", "pk")
        .values_list("pk", flat=True)[:DUE_BATCH]
    )
    return sum(1 for pk in due if schedule_send(schedule_id=pk, now=now))
