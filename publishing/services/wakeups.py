"""Wake-ups: a post goes out at its second, not at the dispatcher's next tick.

Beat runs the dispatcher once a minute; alone, that would send a post due at 09:00:00 up to a minute late. So a
delivery due within PUBLISH_WAKE_AHEAD_SECONDS gets a wake-up: a task queued with its due second as ETA, which
runs the dispatcher then. Wake-ups are queued when a delivery becomes due soon (`transitions` asks for one on
every move to scheduled) and by each dispatcher tick for what falls due before the next ticks. The dispatcher
stays the safety net: a wake-up that is lost or early only leaves the post to the next tick.

One wake-up per second is enough, however many posts are due in it (they are dispatched together), so a wake-up
already queued for a second is not queued again (remembered in the cache for as long as it can matter)."""

from __future__ import annotations

import functools
import logging
import math
import time
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

WAKE_TASK = "publishing.wake_due_deliveries"
_KEY = "publishing:wake:{}"


def soon(at: datetime | None, *, now: datetime | None = None) -> bool:
    """Whether `at` falls within the window that gets wake-ups."""
    if at is None:
        return False
    now = now or timezone.now()
    return at <= now + timedelta(seconds=settings.PUBLISH_WAKE_AHEAD_SECONDS)


def wake_at(at: datetime) -> bool:
    """Queue a wake-up for the second `at` falls in (rounded up), unless one is queued already. Never raises: a
    broker that cannot take it leaves the post to the dispatcher's tick."""
    second = math.ceil(at.timestamp())
    key = _KEY.format(second)
    try:
        fresh = cache.add(key, 1, timeout=int(max(second - time.time(), 0.0)) + 60)
    except Exception:  # without the cache, queue it anyway: a second wake-up for one second is harmless
        logger.warning("could not mark a publishing wake-up as queued", exc_info=True)
        fresh = True
    if not fresh:
        return False
    if send(second):
        return True
    _forget(key)
    return False


def send(second: int) -> bool:
    """Hand the wake-up for `second` to the broker, with the rest of the wait as its countdown. Never raises."""
    try:
        current_app.send_task(WAKE_TASK, args=[second], countdown=max(second - time.time(), 0.0) or None)
    except Exception:
        logger.warning("could not queue a publishing wake-up; the dispatcher's next tick sends the post", exc_info=True)
        return False
    return True


def _forget(key: str) -> None:
    """The wake-up was not queued: let the next attempt for that second try again."""
    try:
        cache.delete(key)
    except Exception:
        logger.warning("could not clear a publishing wake-up mark", exc_info=True)


def wake_on_commit(at: datetime | None) -> None:
    """Queue a wake-up for `at` once the current transaction commits, if `at` is soon."""
    if soon(at):
        transaction.on_commit(functools.partial(wake_at, at))  # type: ignore[arg-type]
