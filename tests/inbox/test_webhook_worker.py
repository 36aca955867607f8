"""A comment made on Meta reaches the inbox end to end: the sandbox posts its signed webhook to the running
server, the view stores it and queues the task, a real Celery worker processes it."""

from __future__ import annotations

import time

import pytest

from accounts.services.channels import channel_client
from inbox.models import Comment, WebhookDelivery
from inbox.tasks import process_webhook  # imported before the test's Celery app exists, so its worker knows it

pytestmark = [pytest.mark.django_db(transaction=True)]


def wait_for(query, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = query()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("the worker did not store the comment in time")


def test_a_webhook_is_processed_by_the_worker(celery_app, celery_worker, live_server, inbox_channels, sandbox_control):
    assert process_webhook.name in celery_app.tasks
    ig = inbox_channels["ig"]
    media_id = channel_client(ig).get(f"{ig.external_id}/media", params={"limit": 1})["data"][0]["id"]
    sent = sandbox_control.send_webhook(
        kind="comment", media_id=media_id, text="Booked for Saturday!", url=f"{live_server.url}/webhooks/meta/"
    )
    assert sent["response"]["status"] == 200
    comment_id = sent["sent"]["entry"][0]["changes"][0]["value"]["id"]

    comment = wait_for(lambda: Comment.objects.filter(channel=ig, external_id=comment_id).first())
    assert comment.text == "Booked for Saturday!" and comment.needs_reply
    assert comment.inbox_post.caption  # fetched by the worker, not in the web request
    delivery = wait_for(lambda: WebhookDelivery.objects.filter(processed_at__isnull=False).first())
    assert delivery.error == ""
