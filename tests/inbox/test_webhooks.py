"""Meta's webhooks at /webhooks/meta/: the verify-token handshake, the signature checked on the raw body before
anything is parsed or kept, one stored row per body (Meta's retries), and comments that reach the inbox. The
sandbox sends its webhooks to the running server (`live_server`), signed as Meta signs them."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time

import pytest
from django.conf import settings

from accounts.services.channels import channel_client
from inbox.models import Comment, CommentKind, CommentStatus, InboxPost, WebhookDelivery
from inbox.services.ingest import webhook_process
from tests.factories import HARBOR_PAGE, LOGIN_ONLY_IG

pytestmark = pytest.mark.django_db

URL = "/webhooks/meta/"


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_signed(client, payload, *, secret: str | None = None, signature: str | None = None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    elif secret is not False:
        headers["X-Hub-Signature-256"] = sign(body, secret or settings.META_APP_SECRET)
    return client.post(URL, data=body, content_type="application/json", headers=headers)


def page_comment_payload(post_id: str, *, comment_id: str = "712750021053074_1063824911537852", **value) -> dict:
    return {
        "object": "page",
        "entry": [
            {
                "id": HARBOR_PAGE,
                "time": int(time.time()),
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "from": {"id": "24266381753005180", "name": "Jane Doe"},
                            "post": {"id": post_id, "status_type": "added_photos", "is_published": True},
                            "message": "Do you have classes on Sunday?",
                            "post_id": post_id,
                            "comment_id": comment_id,
                            "created_time": int(time.time()),
                            "item": "comment",
                            "parent_id": post_id,
                            "verb": "add",
                            **value,
                        },
                    }
                ],
            }
        ],
    }


def latest_post(channel) -> dict:
    return channel_client(channel).get(f"{HARBOR_PAGE}/published_posts", params={"limit": 1})["data"][0]


def latest_media(channel) -> dict:
    return channel_client(channel).get(f"{channel.external_id}/media", params={"limit": 1}, fields="id,caption")[
        "data"
    ][0]


# --- the handshake ------------------------------------------------------------------------------------------------
def test_the_handshake_answers_the_challenge_for_our_verify_token(client):
    response = client.get(
        URL, {"hub.mode": "subscribe", "hub.verify_token": settings.META_WEBHOOK_VERIFY_TOKEN, "hub.challenge": "115"}
    )
    assert response.status_code == 200
    assert response.content == b"115"
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "115"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "sandbox-verify-token", "hub.challenge": "115"},
        {"hub.challenge": "115"},
    ],
)
def test_the_handshake_is_refused_without_our_verify_token(client, query):
    response = client.get(URL, query)
    assert response.status_code == 403
    assert b"115" not in response.content


def test_no_verify_token_configured_refuses_every_handshake(client, settings):
    settings.META_WEBHOOK_VERIFY_TOKEN = ""
    response = client.get(URL, {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "115"})
    assert response.status_code == 403


# --- comments arriving ----------------------------------------------------------------------------------------
def test_a_page_comment_made_on_facebook_reaches_the_inbox(live_server, inbox_channels, sandbox_control):
    page = inbox_channels["page"]
    post = latest_post(page)
    sent = sandbox_control.send_webhook(
        kind="comment",
        object="page",
        post_id=post["id"],
        text="Do you have classes on Sunday?",
        url=live_server.url + URL,
    )
    assert sent["response"]["status"] == 200 and sent["response"]["body"] == "EVENT_RECEIVED"
    delivery = WebhookDelivery.objects.get()
    assert delivery.payload["app"] == "facebook" and delivery.object == "page"
    assert not Comment.objects.exists()  # nothing is stored in the web request: the worker does it

    assert webhook_process(delivery.pk) == 1
    comment = Comment.objects.get()
    change = sent["sent"]["entry"][0]["changes"][0]["value"]
    assert (comment.channel, comment.external_id) == (page, change["comment_id"])
    assert comment.text == "Do you have classes on Sunday?" and comment.author_name == change["from"]["name"]
    assert comment.parent is None and comment.needs_reply and comment.status == CommentStatus.NEW
    # The post's caption and link, which the webhook does not carry, were asked from Meta once.
    inbox_post = InboxPost.objects.get()
    assert inbox_post.external_id == post["id"] and inbox_post.caption == post["message"]
    assert inbox_post.permalink
    delivery.refresh_from_db()
    assert delivery.processed_at is not None and delivery.error == ""


def test_an_instagram_comment_reaches_the_account_connected_through_facebook(
    live_server, inbox_channels, sandbox_control
):
    ig = inbox_channels["ig"]
    media = latest_media(ig)
    sent = sandbox_control.send_webhook(
        kind="comment", object="instagram", media_id=media["id"], text="Which mat is that?", url=live_server.url + URL
    )
    assert sent["response"]["status"] == 200
    webhook_process(WebhookDelivery.objects.get().pk)
    comment = Comment.objects.get()
    assert comment.channel == ig and comment.text == "Which mat is that?"
    assert comment.external_id == sent["sent"]["entry"][0]["changes"][0]["value"]["id"]
    assert comment.inbox_post.caption == media["caption"]


def test_an_instagram_login_delivery_in_the_flat_shape_with_comment_id(live_server, inbox_channels, sandbox_control):
    """Instagram-Login accounts' deliveries are signed with the Instagram app's secret and carry one change per
    entry (`field`, `value`); Meta's examples name the comment `comment_id`."""
    ig_login = inbox_channels["ig_login"]
    media = latest_media(ig_login)
    entry = {
        "id": LOGIN_ONLY_IG,
        "time": int(time.time()),
        "field": "comments",
        "value": {
            "from": {"id": "17841400000000001", "username": "knitwit"},
            "media": {"id": media["id"], "media_product_type": "FEED"},
            "comment_id": "17900000000000001",
            "text": "Is the pattern for sale?",
        },
    }
    sent = sandbox_control.send_webhook(
        object="instagram", entry=[entry], secret="instagram", url=live_server.url + URL
    )
    assert sent["response"]["status"] == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.payload["app"] == "instagram"
    webhook_process(delivery.pk)
    comment = Comment.objects.get()
    assert (comment.channel, comment.external_id, comment.author_name) == (ig_login, "17900000000000001", "knitwit")
    assert comment.text == "Is the pattern for sale?"
    # Under the account's own media: a comment, not a mention.
    assert comment.kind == CommentKind.COMMENT and not comment.inbox_post.is_mention
    assert comment.inbox_post.caption == media["caption"]


# --- refusals -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "sha1=abc", "", "sha256="])
def test_a_forged_or_missing_signature_is_refused_and_nothing_is_kept(client, inbox_channels, signature):
    payload = page_comment_payload(f"{HARBOR_PAGE}_1")
    response = post_signed(client, payload, secret=False if signature is None else None, signature=signature)
    assert response.status_code == 403
    assert not WebhookDelivery.objects.exists() and not Comment.objects.exists()


def test_a_body_changed_after_signing_is_refused(client, inbox_channels):
    body = json.dumps(page_comment_payload(f"{HARBOR_PAGE}_1")).encode()
    signature = sign(body, settings.META_APP_SECRET)
    response = post_signed(client, body.replace(b"Sunday", b"Monday"), signature=signature)
    assert response.status_code == 403
    assert not WebhookDelivery.objects.exists()


def test_the_instagram_apps_signature_is_refused_for_a_facebook_login_account(
    live_server, inbox_channels, sandbox_control
):
    sent = sandbox_control.send_webhook(
        kind="comment",
        object="page",
        post_id=latest_post(inbox_channels["page"])["id"],
        secret="instagram",
        url=live_server.url + URL,
    )
    assert sent["response"]["status"] == 403
    assert not WebhookDelivery.objects.exists() and not Comment.objects.exists()


def test_signed_garbage_is_a_bad_request(client, inbox_channels):
    response = post_signed(client, b"{not json")
    assert response.status_code == 400
    assert not WebhookDelivery.objects.exists()


def test_a_body_over_the_limit_is_refused_unread(client, inbox_channels):
    body = json.dumps({"object": "page", "entry": [], "pad": "x" * (1024 * 1024)}).encode()
    response = post_signed(client, body)
    assert response.status_code == 413
    assert not WebhookDelivery.objects.exists()


def test_a_delivery_about_no_connected_account_is_acknowledged_and_dropped(client, inbox_channels):
    payload = page_comment_payload("999999999999999_1")
    payload["entry"][0]["id"] = "999999999999999"
    response = post_signed(client, payload)
    assert response.status_code == 200  # a refusal would make Meta retry for hours
    assert not WebhookDelivery.objects.exists()


def test_the_webhook_needs_no_login_and_no_csrf_token(inbox_channels, sandbox_control):
    from django.test import Client

    post_id = latest_post(inbox_channels["page"])["id"]
    response = post_signed(Client(enforce_csrf_checks=True), page_comment_payload(post_id))
    assert response.status_code == 200 and response.content == b"EVENT_RECEIVED"


# --- Meta's retries ---------------------------------------------------------------------------------------------
def test_a_replayed_delivery_is_stored_once_and_changes_nothing(
    client, inbox_channels, django_capture_on_commit_callbacks
):
    post_id = latest_post(inbox_channels["page"])["id"]
    payload = page_comment_payload(post_id)
    with django_capture_on_commit_callbacks() as queued:
        assert post_signed(client, payload).status_code == 200
    assert len(queued) == 1  # the processing task, queued once the row is committed
    delivery = WebhookDelivery.objects.get()
    webhook_process(delivery.pk)
    comment = Comment.objects.get()
    Comment.objects.filter(pk=comment.pk).update(status=CommentStatus.DONE)
    before = Comment.objects.values().get(pk=comment.pk)

    with django_capture_on_commit_callbacks() as queued_again:
        assert post_signed(client, payload).status_code == 200
    assert queued_again == []  # the same body is the same row: not queued again
    assert WebhookDelivery.objects.count() == 1
    assert webhook_process(delivery.pk) == 0  # processed already

    # The same event in another delivery (Meta batches differently on a retry) changes nothing either.
    payload["entry"][0]["time"] += 5
    post_signed(client, payload)
    webhook_process(WebhookDelivery.objects.latest("pk").pk)
    assert Comment.objects.count() == 1 and InboxPost.objects.count() == 1
    assert Comment.objects.values().get(pk=comment.pk) == before


def test_bodies_are_never_logged(client, inbox_channels, caplog):
    caplog.set_level(logging.DEBUG)
    payload = page_comment_payload(f"{HARBOR_PAGE}_1", message="Call me on 555-0199")
    assert post_signed(client, payload, signature="sha256=" + "0" * 64).status_code == 403
    assert post_signed(client, payload).status_code == 200
    assert "refused" in caplog.text  # the refusal is logged, in a line of its own
    assert "555-0199" not in caplog.text


def test_operators_see_when_and_why_a_delivery_failed_but_not_what_fans_wrote(admin_client, inbox_channels):
    delivery = WebhookDelivery.objects.create(
        body_sha256="d" * 64,
        object="page",
        payload={"app": "facebook", "body": page_comment_payload(f"{HARBOR_PAGE}_1", message="Call me on 555-0199")},
        error="RuntimeError: database went away",
    )
    response = admin_client.get(f"/admin/inbox/webhookdelivery/{delivery.pk}/change/")
    assert response.status_code == 200
    assert b"database went away" in response.content
    assert b"555-0199" not in response.content and b"Jane Doe" not in response.content
