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
    from ..models import ApprovalDecision, Delivery, Post, PostComment


def post_url(post: Post) -> str:
    return reverse("publishing:posts", kwargs={"workspace_id": post.workspace.public_id}) + f"#post-{post.public_id}"


def _snippet(post: Post) -> str:
    text = (post.caption or "").strip().replace("\n", " ")
    return f"“{text[:60]}…”" if len(text) > 60 else (f"“{text}”" if text else f"a {post.get_format_display().lower()}")


def delivery_failed(delivery: Delivery) -> None:
    """A delivery failed, or may have gone out without Meta saying so (unconfirmed): its author and the people
    who may publish are told, once per failure."""
    post = delivery.post
    delivery.refresh_from_db(fields=["state", "candidates", "error_message", "attempts", "updated_at"])
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
        # Once per failure: a retry that fails again is another run, so another attempt number.
        key=f"delivery:{delivery.pk}:failed:{delivery.attempts}:{delivery.updated_at.timestamp():.0f}",
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


# --- approvals ---------------------------------------------------------------------------------------------------
def review_url(post: Post) -> str:
    return reverse(
        "publishing:post_review", kwargs={"workspace_id": post.workspace.public_id, "post_id": post.public_id}
    )


def approval_requested(post: Post, *, users: list, decision: ApprovalDecision) -> None:
    """A post reached a stage: its approvers are asked, except whoever sent it there."""
    client = decision.stage == "internal" and post.approval == "client_pending"
    body = (
        f"The team approved it ({decision.actor_name}); it now needs your approval."
        if client
        else f"Sent by {decision.actor_name}."
    )
    notify(
        kind=Kind.APPROVAL_REQUESTED,
        users=users,
        workspace=post.workspace,
        title=f"Awaiting your approval: {_snippet(post)}",
        body=body,
        url=review_url(post),
        key=f"approval:{decision.pk}:requested",
        exclude=decision.actor,
    )


def approval_given(post: Post, *, decision: ApprovalDecision, final: bool) -> None:
    """The author hears that their post was approved, and what happens next."""
    who = f"{decision.actor_name} (the client)" if decision.stage == "client" else decision.actor_name
    if not final:
        body = f"Approved by {who}. It now waits for the client's approval."
    elif post.scheduled_at:
        body = f"Approved by {who}. It is scheduled."
    else:
        body = f"Approved by {who}. It is being published."
    notify(
        kind=Kind.APPROVAL_GIVEN,
        users=[post.author],
        workspace=post.workspace,
        title=f"Approved: {_snippet(post)}",
        body=body,
        url=review_url(post),
        key=f"approval:{decision.pk}:given",
        exclude=decision.actor,
    )


def changes_requested(post: Post, *, decision: ApprovalDecision) -> None:
    """The author hears what should change, in the words of whoever asked."""
    who = f"{decision.actor_name} (the client)" if decision.stage == "client" else decision.actor_name
    notify(
        kind=Kind.CHANGES_REQUESTED,
        users=[post.author],
        workspace=post.workspace,
        title=f"Changes requested: {_snippet(post)}",
        body=f"{who}: {decision.comment}\n\nChange the post, then send it for approval again.",
        url=review_url(post),
        key=f"approval:{decision.pk}:changes",
        exclude=decision.actor,
    )


def post_commented(post: Post, *, comment: PostComment, users: list) -> None:
    """A comment on a post: its participants hear of it, except whoever wrote it."""
    notify(
        kind=Kind.POST_COMMENT,
        users=users,
        workspace=post.workspace,
        title=f"{comment.author_name} commented on {_snippet(post)}",
        body=comment.body[:500],
        url=review_url(post) + f"#comment-{comment.pk}",
        key=f"comment:{comment.pk}",
        exclude=comment.author,
    )
