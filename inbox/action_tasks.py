"""The inbox's action task: thin. Id in → service → come back later or stop."""

from __future__ import annotations

from celery import shared_task

from .services import actions


@shared_task(name=actions.ACTION_TASK, bind=True, ignore_result=True, max_retries=actions.ACTION_MAX_RETRIES)
def perform_action(self, action_id: int) -> str:  # type: ignore[no-untyped-def]
    """Send one pending comment action to Meta. Safe to run twice: one attempt at a time holds the action, and an
    attempt after one whose answer was lost looks on Meta before writing. A rate limit or an outage comes back
    after a countdown; the last try records Meta's refusal. Finding another attempt under way, the task comes back
    once that attempt's hold has run out; on its last try it leaves the action to that attempt (and to the sweep,
    should that attempt's worker die)."""
    retries = self.request.retries
    outcome = actions.action_perform(action_id, attempt=retries, last_try=retries >= self.max_retries)
    if outcome == "retry" and retries < self.max_retries:
        raise self.retry(countdown=outcome.countdown)
    return str(outcome)


@shared_task(name="inbox.sweep_stale_actions", ignore_result=True)
def sweep_stale_actions() -> int:
    """Every few minutes: queue again the actions whose task was lost with a worker or the broker."""
    return actions.actions_sweep_stale()
