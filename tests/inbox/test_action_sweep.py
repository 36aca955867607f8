"""An action whose task was lost (a worker died, the broker dropped it) is queued again, never left "sending"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import ActionState, CommentAction
from inbox.services import actions

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent_tasks(monkeypatch):
    queued: list[int] = []
    monkeypatch.setattr(actions.current_app, "send_task", lambda name, args: queued.append(args[0]))
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
    assert sorted(sent_tasks) == sorted([lost.pk, tried.pk])
    assert fresh.pk not in sent_tasks
    # Queued again just now: the next sweep leaves it to its task.
    assert actions.actions_sweep_stale() == 0


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
