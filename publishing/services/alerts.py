"""Who is told about what happens to posts, through the notifications app. Called after the change is made."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils import timezone

from accounts.access import people_with
from accounts.roles import Capability
from notifications.models import Kind
from notifications.services import notify

if TYPE_CHECKING:
    from ..models import Delivery, Post


def post_url(post: Post) -> str:
    return reverse("publishing:posts", kwargs={"workspace_id": post.workspace.public_id}) + f"#post-{post.public_id}"


def _snippet(post: Post) -> str:
    text = (post.caption or "").strip().replace("\n", " ")
    return f"“{text[:60]}…”" if len(text) > 60 else (f"“{text}”" if text else f"a {post.get_format_display().lower()}")


def delivery_failed(delivery: Delivery) -> None:
    """A delivery failed, or may have gone out without Meta saying so (unconfirmed): its author and the people
    who may publish are told, once per failure."""
    post = delivery.post
    delivery.refresh_from_db(fields=["state", "candidates", "error_message", "updated_at"])
    unconfirmed = bool(delivery.candidates)
    kind = Kind.POST_UNCONFIRMED if unconfirmed else Kind.POST_FAILED
    channel = delivery.channel.display_name
    what = _snippet(post)
    title = f"Check {channel}: {what} may have gone out" if unconfirmed else f"Failed on {channel}: {what}"
    users = [*people_with(post.workspace, Capability.POSTS_PUBLISH), post.author]
    notify(
        kind=kind,
        users=users,
        workspace=post.workspace,
        title=title,
        body=delivery.error_message,
        url=post_url(post),
        key=f"delivery:{delivery.pk}:failed:{delivery.updated_at.timestamp():.0f}",
    )


def quota_full(delivery: Delivery) -> None:
    """An Instagram account used up today's publishing quota: told once per account and day."""
    post, channel = delivery.post, delivery.channel
    day = timezone.localdate(timezone.now(), post.workspace.zoneinfo)
    notify(
        kind=Kind.IG_QUOTA_FULL,
        users=people_with(post.workspace, Capability.POSTS_PUBLISH),
        workspace=post.workspace,
        title=f"{channel.display_name} reached Instagram's daily publishing limit",
        body="Posts waiting for it go out as the 24-hour window frees up room.",
        url=post_url(post),
        key=f"quota:{channel.pk}:{day.isoformat()}",
    )
