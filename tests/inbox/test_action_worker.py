"""Actions with a real Celery worker: asked in a request, queued when the transaction commits, sent to Meta by the
worker, and shown as done once Meta confirmed."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from inbox.models import ActionState, Comment, CommentAction
from inbox.services.actions import action_request
from tests.inbox.test_actions import fan, replies_on_meta  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True)]


def wait_until_finished(action: CommentAction, timeout: float = 20.0) -> CommentAction:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        action.refresh_from_db()
        if action.state != ActionState.PENDING:
            return action
        time.sleep(0.1)
    raise AssertionError(f"the {action.kind} action stayed pending")


def test_the_worker_sends_a_queued_reply_and_a_hide(celery_app, celery_worker, inbox_channels, fan, alice):  # noqa: F811
    channel = inbox_channels["page"]
    thread = fan(channel, text="Is the 7 am class full?")
    spam = fan(channel, text="Free followers at spam.example")

    with transaction.atomic():
        reply = action_request(comment=thread, kind="reply", actor=alice, text="Two spots left!")
        hide = action_request(comment=spam, kind="hide", actor=alice)

    assert wait_until_finished(reply).state == ActionState.DONE, reply.error
    assert wait_until_finished(hide).state == ActionState.DONE, hide.error
    assert [r["text"] for r in replies_on_meta(channel, thread)] == ["Two spots left!"]
    assert Comment.objects.get(external_id=reply.result_id).from_us
    spam.refresh_from_db()
    assert spam.hidden is True
