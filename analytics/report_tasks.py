"""Client report tasks: thin. The beat runs `analytics.send_due_reports` every 15 minutes."""

from __future__ import annotations

from celery import shared_task

from . import reports

SEND_DUE_REPORTS = "analytics.send_due_reports"


@shared_task(name=SEND_DUE_REPORTS, ignore_result=True)
def send_due_reports() -> int:
    """Email every report whose time has come. Safe to run twice at once: each schedule is claimed (moved on and
    its addresses listed as pending) in one locked transaction before anything is sent, and each address is struck
    off as the mail server takes it (`reports.schedule_send`)."""
    return reports.schedules_send_due()
