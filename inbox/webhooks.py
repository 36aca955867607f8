"""Meta's webhooks at `/webhooks/meta/` (graph-api reference §3.3).

GET is the subscription handshake: `hub.mode=subscribe` with our verify token → the raw `hub.challenge`.
POST is a notification: the raw body is checked against `X-Hub-Signature-256` (HMAC-SHA256 keyed with the
Facebook app's secret, or the Instagram app's for Instagram-Login accounts) before anything is parsed. A body
signed by one app about accounts connected only through the other login is refused too; one about no connected
account is acknowledged and dropped (a refusal would have Meta retry it for hours). The rest is stored once
(keyed by the body's hash, so Meta's retries are one row) and processed by a Celery task. Meta wants a quick
200, so nothing here calls Meta. Bodies are never logged."""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .models import WebhookDelivery
from .services.ingest import APP_EITHER, APP_FACEBOOK, APP_INSTAGRAM, webhook_audience

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
SIGNATURE_PREFIX = "sha256="


def _text(body: str, status: int = 200) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")


@csrf_exempt  # Meta cannot send a CSRF token; the signature proves the sender instead
@require_http_methods(["GET", "POST"])
def receive(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _handshake(request)
    return _notification(request)


def _handshake(request: HttpRequest) -> HttpResponse:
    expected = settings.META_WEBHOOK_VERIFY_TOKEN
    given = request.GET.get("hub.verify_token", "")
    if (
        request.GET.get("hub.mode") != "subscribe"
        or not expected
        or not hmac.compare_digest(given.encode(), expected.encode())
    ):
        logger.warning("webhook handshake refused: wrong mode or verify token")
        return _text("Forbidden", status=403)
    return _text(request.GET.get("hub.challenge", ""))


def signing_app(body: bytes, signature: str) -> str | None:
    """Which app's secret signed the body ("facebook" or "instagram"), or None when neither did."""
    if not signature.startswith(SIGNATURE_PREFIX):
        return None
    given = signature[len(SIGNATURE_PREFIX) :].strip().lower()
    matches = []
    for app, secret in ((APP_FACEBOOK, settings.META_APP_SECRET), (APP_INSTAGRAM, settings.INSTAGRAM_APP_SECRET)):
        if not secret:
            continue
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        if hmac.compare_digest(digest, given):
            matches.append(app)
    if not matches:
        return None
    return matches[0] if len(matches) == 1 else APP_EITHER


def _notification(request: HttpRequest) -> HttpResponse:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        logger.warning("webhook refused: body of %d bytes is over the limit", length)
        return _text("Payload Too Large", status=413)
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        return _text("Payload Too Large", status=413)
    app = signing_app(body, request.headers.get("X-Hub-Signature-256", ""))
    if app is None:
        logger.warning("webhook refused: missing or wrong signature (%d bytes)", len(body))
        return _text("Forbidden", status=403)
    try:
        parsed = json.loads(body)
    except ValueError:
        logger.warning("webhook refused: signed body is not JSON (%d bytes)", len(body))
        return _text("Bad Request", status=400)
    if not isinstance(parsed, dict | list):
        return _text("Bad Request", status=400)
    audience = webhook_audience(parsed, app=app)
    if audience == "other_app":
        # Meta signs an account's deliveries with the secret of the app it was connected through; a body about
        # Facebook-Login accounts signed with the Instagram app's secret (or the reverse) is not Meta's.
        logger.warning("webhook refused: signed with the %s app's secret for accounts of the other login", app)
        return _text("Forbidden", status=403)
    if audience == "nobody":
        # Still subscribed for an account that is no longer connected: acknowledged (Meta would retry a refusal
        # for hours), nothing kept.
        logger.info("webhook for no connected account dropped")
        return _text("EVENT_RECEIVED")
    digest = hashlib.sha256(body).hexdigest()
    obj = str(parsed.get("object") or "")[:30] if isinstance(parsed, dict) else ""
    try:
        with transaction.atomic():
            delivery, created = WebhookDelivery.objects.get_or_create(
                body_sha256=digest, defaults={"object": obj, "payload": {"app": app, "body": parsed}}
            )
            if created:
                transaction.on_commit(functools.partial(_queue, delivery.pk))
    except IntegrityError:  # the same body arrived twice at once: the other request stored it
        created = False
    if not created:
        logger.info("webhook delivery already stored (a retry from Meta): not processed again")
    return _text("EVENT_RECEIVED")


def _queue(delivery_id: int) -> None:
    from .tasks import process_webhook

    try:
        process_webhook.delay(delivery_id)
    except Exception:
        # Stored all the same: the periodic poll queues deliveries the broker did not take.
        logger.warning("could not queue webhook delivery %s", delivery_id, exc_info=True)
