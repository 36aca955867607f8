"""An action whose task was lost (a worker died, the broker dropped it) is queued again, never left "sending", and
the task queued again runs once no attempt can still be talking to Meta."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from inbox.models import ActionState, CommentAction
from inbox.services import actions
from tests.inbox.test_actions import fan  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent_tasks(monkeypatch):
    """The actions handed to the broker: (action id, countdown)."""
    queued: list[tuple[int, float | None]] = []

    def send_task(name, args, countdown=None):
        queued.append((args[0], countdown))

    monkeypatch.setattr(actions.current_app, "send_task", send_task)
    return queued


def _pending(comment, *, age: timedelta, attempts: int = 0, tried: bool = False) -> CommentAction:
    at = timezone.now() - age
    return CommentAction.objects.create(
        workspace=comment.workspace,
        comment=comment,
        kind="hide",
        attempts=attempts,
        created_at=at,
        attempt_started_at=at if tried else None,
    )


def test_a_pending_action_whose_task_was_lost_is_queued_again_once(inbox_channels, make_comment, sent_tasks):
    comment = make_comment(inbox_channels["page"])
    lost = _pending(comment, age=timedelta(hours=1))
    tried = _pending(comment, age=timedelta(hours=1), attempts=1, tried=True)
    fresh = _pending(comment, age=timedelta(seconds=30))

    assert actions.actions_sweep_stale() == 2
    assert sorted(pk for pk, _ in sent_tasks) == sorted([lost.pk, tried.pk])
    assert fresh.pk not in [pk for pk, _ in sent_tasks]
    # Queued again just now: the next sweep leaves it to its task.
    assert actions.actions_sweep_stale() == 0


def test_the_task_queued_again_claims_the_action_when_it_runs(inbox_channels, fan, sent_tasks, alice):  # noqa: F811
    comment = fan(inbox_channels["page"])
    action = actions.action_request(comment=comment, kind="like", actor=alice)
    CommentAction.objects.filter(pk=action.pk).update(created_at=timezone.now() - timedelta(hours=1))

    assert actions.actions_sweep_stale() == 1
    [(queued, countdown)] = sent_tasks
    assert queued == action.pk and countdown > actions.attempt_window().total_seconds()

    # The sweep holds the action as an attempt would: run early (a duplicate of a task that was not lost after
    # all), it waits; run when the broker hands it over, after its countdown, it acts.
    assert actions.action_perform(action.pk) == "retry"
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(seconds=countdown)):
        assert actions.action_perform(action.pk) == "done"
    action.refresh_from_db()
    comment.refresh_from_db()
    assert action.state == ActionState.DONE and action.attempts == 1 and comment.liked_at


def test_an_action_tried_far_more_often_than_allowed_is_refused_in_words(inbox_channels, make_comment, sent_tasks):
    comment = make_comment(inbox_channels["page"])
    worn = _pending(comment, age=timedelta(hours=2), attempts=actions.ACTION_MAX_RETRIES + 3, tried=True)

    assert actions.actions_sweep_stale() == 0
    worn.refresh_from_db()
    assert worn.state == ActionState.FAILED
    assert "could not confirm this with Meta" in worn.error
    assert not sent_tasks


def test_local_and_finished_actions_are_left_alone(inbox_channels, make_comment, sent_tasks):
    comment = make_comment(inbox_channels["page"])
    old = timezone.now() - timedelta(hours=1)
    CommentAction.objects.create(workspace=comment.workspace, comment=comment, kind="done", created_at=old)
    CommentAction.objects.create(
        workspace=comment.workspace, comment=comment, kind="hide", state=ActionState.DONE, created_at=old
    )
    assert actions.actions_sweep_stale() == 0
