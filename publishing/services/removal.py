"""Duplicating and deleting posts and library files, and deleting published posts on Meta.

Deleting a post:
- It is refused while a delivery is being published (publishing or processing): the run owns it until it ends.
- Deliveries that have not gone out are cancelled first through `transitions.cancel`, in the same transaction
  as the check, so a worker that claims one at the same moment either wins (the delivery is publishing, and the
  deletion is refused and rolled back) or loses (its claim finds the delivery cancelled).
- A post with published deliveries is removed from SocialHub only, and stays public on Meta, unless the person
  asks to delete it there too. Then `removal_requested_at` is set and `post_remove_from_meta` runs in a worker:
  DELETE /{page-post-id} (or /{video-id}) for a Facebook Page, DELETE /{ig-media-id} for Instagram accounts
  connected through Facebook Login. Meta offers no deletion to accounts connected through Instagram Login: those
  are only removed from SocialHub, as the confirmation page says beforehand.
- Each deletion Meta confirms is recorded on its delivery (`removed_from_meta_at`), so a second run skips it;
  "does not exist" from Meta (100/33) counts as deleted once a read of the object gets the same answer (the same
  error also means "not allowed" or "not supported"). When every one is deleted the post row goes; otherwise
  Meta's refusal is kept in `removal_error`, the post stays, and the person can try again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.db.models.deletion import RestrictedError
from django.utils import timezone

from accounts.crypto import TokenDecryptionError, encrypted_field_names
from accounts.models import Channel, ConnectedVia, Platform
from accounts.roles import Capability
from accounts.services.channels import channel_client, channel_record_error
from socialhub.graph import GraphAuthError, GraphError

from ..models import ACTIVE_STATES, Delivery, DeliveryState, MediaAsset, Post
from . import transitions
from .posts import MediaItem, post_create

if TYPE_CHECKING:
    from accounts.access import WorkspaceAccess
    from accounts.models import User

logger = logging.getLogger(__name__)

S = DeliveryState
PLATFORM_NAMES = {Platform.FACEBOOK_PAGE: "Facebook", Platform.INSTAGRAM: "Instagram"}
QUEUE_DOWN = "The task queue is not reachable right now, so nothing was deleted on Meta yet. Try again in a moment."
KEYS_UNREADABLE = (
    "SocialHub cannot read its saved access to {channel} (the server's encryption key was changed or removed), so "
    "it could not delete the post there. Ask your operator to put the key back, then try again."
)


class Refused(Exception):
    """What was asked cannot be done now; `str()` says why, in words for the person."""


def platform_name(channel: Channel) -> str:
    return PLATFORM_NAMES.get(channel.platform, "Meta")


def platforms_text(deliveries: Iterable[Delivery]) -> str:
    """ "Facebook", "Instagram" or "Facebook and Instagram", for the deliveries' channels."""
    names = sorted({platform_name(d.channel) for d in deliveries})
    return " and ".join(names)


# --- duplicate a post ----------------------------------------------------------------------------------------
@transaction.atomic
def post_duplicate(*, post: Post, author: User | None) -> Post:
    """A new draft with the same content, media (with their tags and alt text, in order) and channels (with
    their own captions and first comments), without a time: it goes out only when it is scheduled."""
    items = post.items.select_related("asset").order_by("position")
    deliveries = list(
        post.deliveries.select_related("channel").defer(*encrypted_field_names(Channel, prefix="channel__"))
    )
    return post_create(
        workspace=post.workspace,
        author=author,
        channels=[d.channel for d in deliveries],
        caption=post.caption,
        media=[MediaItem(i.asset, list(i.user_tags), list(i.product_tags), i.alt_text) for i in items],
        format=post.format,
        caption_overrides={d.channel_id: d.caption_override for d in deliveries if d.caption_override},
        first_comment_overrides={
            d.channel_id: d.first_comment_override for d in deliveries if d.first_comment_override
        },
        link=post.link,
        cta_type=post.cta_type,
        first_comment=post.first_comment,
        location_id=post.location_id,
        location_name=post.location_name,
        collaborators=list(post.collaborators),
        share_to_feed=post.share_to_feed,
        audio_name=post.audio_name,
        thumb_offset_ms=post.thumb_offset_ms,
        cover_id=post.cover_id,
    )


# --- delete a post -------------------------------------------------------------------------------------------
def deletable_on_meta(delivery: Delivery) -> bool:
    """Public on Meta, with its id, not deleted there yet, on an account whose login lets SocialHub delete it."""
    return (
        delivery.state == S.PUBLISHED
        and bool(delivery.remote_id)
        and delivery.removed_from_meta_at is None
        and delivery.channel.connected_via == ConnectedVia.FACEBOOK_LOGIN
    )


@dataclass
class DeletionPlan:
    """What deleting a post does to each of its deliveries, for the confirmation page and the service."""

    busy: list[Delivery] = field(default_factory=list)  # being published right now: deleting is refused
    deletable: list[Delivery] = field(default_factory=list)  # public; SocialHub can delete it on Meta too
    app_only: list[Delivery] = field(default_factory=list)  # public on an Instagram-Login account: app only
    uncertain: list[Delivery] = field(default_factory=list)  # failed after the publishing call: may be public
    unsent: list[Delivery] = field(default_factory=list)  # not gone out: cancelled

    @property
    def published(self) -> list[Delivery]:
        return self.deletable + self.app_only

    @property
    def needs_confirmation(self) -> bool:
        return bool(self.published or self.uncertain)

    @property
    def deletable_platforms(self) -> str:
        return platforms_text(self.deletable)

    @property
    def public_platforms(self) -> str:
        return platforms_text(self.published + self.uncertain)


def post_deletion_plan(deliveries: Iterable[Delivery]) -> DeletionPlan:
    plan = DeletionPlan()
    for d in deliveries:
        if d.state in ACTIVE_STATES:
            plan.busy.append(d)
        elif d.state == S.PUBLISHED and d.removed_from_meta_at is None:
            (plan.deletable if deletable_on_meta(d) else plan.app_only).append(d)
        elif d.state == S.FAILED and (d.remote_id or d.publish_started_at):
            plan.uncertain.append(d)
        elif d.state in (S.DRAFT, S.AWAITING_APPROVAL, S.SCHEDULED, S.FAILED):
            plan.unsent.append(d)
    return plan


def post_may_delete(*, post: Post, access: WorkspaceAccess, user: User, deliveries: Iterable[Delivery]) -> bool:
    """Managers delete any post; people who write drafts delete their own post while it is still only a draft."""
    if access.can(Capability.POSTS_PUBLISH):
        return True
    return (
        access.can(Capability.POSTS_DRAFT) and post.author_id == user.pk and all(d.state == S.DRAFT for d in deliveries)
    )


BUSY = (
    "This post is being published right now on {channels}. Wait until it is done (a minute or two; videos can "
    "take longer), then delete it."
)


@dataclass
class DeletionResult:
    removed: bool  # the post is gone from SocialHub
    queued: bool = False  # deleting on Meta was handed to a worker; the post goes once Meta confirms
    plan: DeletionPlan = field(default_factory=DeletionPlan)


def post_delete(*, post: Post, access: WorkspaceAccess, user: User, on_meta: bool = False) -> DeletionResult:
    """Delete a post. With `on_meta`, what is published is deleted on Facebook/Instagram first (by a worker),
    and the post is removed once Meta confirms; without, it is removed from SocialHub only and what is public
    stays public. Raises `Refused` while a delivery is being published, PermissionDenied for a role that may
    not delete it."""
    with transaction.atomic():
        locked = Post.objects.select_for_update().filter(pk=post.pk).first()
        if locked is None:
            raise Refused("This post was deleted already.")
        post = locked
        deliveries = _deliveries(post)
        if not post_may_delete(post=post, access=access, user=user, deliveries=deliveries):
            raise PermissionDenied("Your role in this workspace does not allow deleting this post.")
        _refuse_if_busy(post_deletion_plan(deliveries))
        if transitions.cancel(post):
            deliveries = _deliveries(post)
        plan = post_deletion_plan(deliveries)
        _refuse_if_busy(plan)  # a worker claimed one just before the cancel: nothing above is kept
        if on_meta and plan.deletable:
            Post.objects.filter(pk=post.pk).update(removal_requested_at=timezone.now(), removal_error="")
            post_id = post.pk
            transaction.on_commit(lambda: _queue_removal(post_id))
            return DeletionResult(removed=False, queued=True, plan=plan)
        post.delete()
        return DeletionResult(removed=True, plan=plan)


def _deliveries(post: Post) -> list[Delivery]:
    return list(
        post.deliveries.select_related("channel")
        .defer(*encrypted_field_names(Channel, prefix="channel__"))
        .order_by("channel__name")
    )


def _refuse_if_busy(plan: DeletionPlan) -> None:
    if plan.busy:
        raise Refused(BUSY.format(channels=", ".join(d.channel.display_name for d in plan.busy)))


def _queue_removal(post_id: int) -> None:
    from ..tasks import remove_post_from_meta

    try:
        remove_post_from_meta.delay(post_id)
    except Exception:
        logger.warning("could not queue the deletion on Meta of post %s", post_id, exc_info=True)
        Post.objects.filter(pk=post_id).update(removal_error=QUEUE_DOWN)


@dataclass
class RemovalOutcome:
    # "removed"; "kept" (Meta refused one: see removal_error); "retry"; "gone" (no such post); "not_requested"
    kind: str
    retry_after: float | None = None
    deleted: int = 0


def post_remove_from_meta(*, post_id: int, attempt: int = 0, last_try: bool = True) -> RemovalOutcome:
    """The worker's half of deleting a post on Meta. Safe to run twice: deliveries already deleted there are
    skipped, and Meta's "does not exist" for one deleted before counts as deleted. An error worth another try
    (a rate limit, Meta unavailable) asks for a retry unless this is the `last_try`."""
    post = Post.objects.filter(pk=post_id).first()
    if post is None:
        return RemovalOutcome("gone")
    if post.removal_requested_at is None:
        return RemovalOutcome("not_requested")
    pending = [d for d in post.deliveries.select_related("channel").order_by("channel__name") if deletable_on_meta(d)]
    failures: list[tuple[Delivery, Exception]] = []
    deleted = 0
    for delivery in pending:
        error = _delete_on_meta(delivery)
        if error is None:
            deleted += Delivery.objects.filter(pk=delivery.pk, removed_from_meta_at__isnull=True).update(
                removed_from_meta_at=timezone.now()
            )
        else:
            failures.append((delivery, error))
    for delivery, error in failures:
        if isinstance(error, GraphAuthError):
            channel_record_error(channel=delivery.channel, error=error)
    retryable = [e for _, e in failures if isinstance(e, GraphError) and e.retryable]
    if retryable and not last_try:
        return RemovalOutcome("retry", retry_after=max(e.retry_delay(attempt) for e in retryable), deleted=deleted)
    if failures:
        text = "\n".join(_failure_text(d, e) for d, e in failures)
        Post.objects.filter(pk=post.pk).update(removal_error=text)
        return RemovalOutcome("kept", deleted=deleted)
    Post.objects.filter(pk=post.pk).delete()
    return RemovalOutcome("removed", deleted=deleted)


def _does_not_exist(error: GraphError) -> bool:
    return error.code == 100 and error.subcode == 33


def _delete_on_meta(delivery: Delivery) -> Exception | None:
    """Delete one delivery's post on Meta: None when it is gone there, else the error that stopped it."""
    try:
        client = channel_client(delivery.channel)
        client.delete(delivery.remote_id)
        return None
    except (ValidationError, TokenDecryptionError) as exc:
        return exc
    except GraphError as exc:
        if not _does_not_exist(exc):
            return exc
        refused = exc
    # 100/33 answers "does not exist" but also "not allowed" and "not supported": it is gone only if it cannot
    # be read either.
    try:
        client.get(delivery.remote_id, fields="id")
    except GraphError as exc:
        return None if _does_not_exist(exc) else exc
    return refused


def _failure_text(delivery: Delivery, error: Exception) -> str:
    channel = delivery.channel
    where, platform = channel.display_name, platform_name(channel)
    if isinstance(error, ValidationError):
        return (
            f"{where} is disconnected, so SocialHub could not delete the post on {platform}. Reconnect it and try "
            f"again, or delete it on {platform} yourself."
        )
    if isinstance(error, TokenDecryptionError):
        return KEYS_UNREADABLE.format(channel=where)
    assert isinstance(error, GraphError)
    text = f"{platform} did not delete the post on {where}: {error.message}"
    if error.meta_message and error.meta_message != error.message:
        text += f" (Meta: “{error.meta_message}”)"
    if error.fbtrace_id:
        text += f" (Meta trace {error.fbtrace_id})"
    return text


# --- the media library ---------------------------------------------------------------------------------------
def posts_using(asset: MediaAsset) -> int:
    """How many posts use the file, as an item of their media or as a reel's cover."""
    return (
        Post.objects.filter(workspace_id=asset.workspace_id)
        .filter(Q(items__asset=asset) | Q(cover=asset))
        .distinct()
        .count()
    )


def _in_use(asset: MediaAsset, count: int) -> Refused:
    posts = "1 post" if count == 1 else f"{count} posts"
    return Refused(
        f"{asset.original_name} is used by {posts}. Take it out of {'it' if count == 1 else 'them'} (or delete "
        f"{'it' if count == 1 else 'them'}) before deleting the file."
    )


def _busy_asset(asset: MediaAsset) -> Refused | None:
    if asset.status == MediaAsset.Status.CONVERTING:
        return Refused(f"{asset.original_name} is still being made. Wait until it is done.")
    if asset.preview_pending:
        return Refused(f"SocialHub is still making the preview of {asset.original_name}. Try again in a moment.")
    return None


def media_asset_delete(*, asset: MediaAsset) -> None:
    """Delete a library file and its bytes. Refused while a post uses it or a worker is still making it."""
    busy = _busy_asset(asset)
    if busy:
        raise busy
    count = posts_using(asset)
    if count:
        raise _in_use(asset, count)
    names = [(f.storage, f.name) for f in (asset.file, asset.thumbnail) if f]
    try:
        with transaction.atomic():
            asset.delete()
            transaction.on_commit(lambda: _delete_files(names))
    except RestrictedError:  # a post took it in the meantime
        raise _in_use(asset, max(posts_using(asset), 1)) from None


def _delete_files(names: list) -> None:
    for storage, name in names:
        try:
            storage.delete(name)
        except OSError:
            logger.warning("could not delete %s from storage", name, exc_info=True)


def copy_name(name: str) -> str:
    """ "photo.jpg" → "photo (copy).jpg"."""
    path = Path(name)
    return f"{path.stem} (copy){path.suffix}"


COPIED_FIELDS = (
    "kind",
    "format",
    "mime_type",
    "size_bytes",
    "width",
    "height",
    "duration_seconds",
    "frame_rate",
    "video_codec",
    "audio_codec",
    "probe",
    "probe_error",
)


def media_asset_duplicate(*, asset: MediaAsset, user: User | None) -> MediaAsset:
    """A new library file with a copy of the bytes (and preview), named "<name> (copy)<ext>"."""
    busy = _busy_asset(asset)
    if busy:
        raise busy
    if asset.status != MediaAsset.Status.READY or not asset.file:
        raise Refused(f"{asset.original_name} has no file to copy.")
    new = MediaAsset(
        workspace=asset.workspace,
        original_name=copy_name(asset.original_name),
        uploaded_by=user,
        **{name: getattr(asset, name) for name in COPIED_FIELDS},
    )
    try:
        with asset.file.open("rb") as fh:
            new.file.save(Path(asset.file.name).name, File(fh), save=False)
        if asset.thumbnail:
            with asset.thumbnail.open("rb") as fh:
                new.thumbnail.save("thumb.jpg", File(fh), save=False)
        new.save()
    except OSError:
        logger.warning("could not copy media asset %s", asset.pk, exc_info=True)
        _delete_files([(f.storage, f.name) for f in (new.file, new.thumbnail) if f])
        raise Refused(f"The file of {asset.original_name} could not be read, so no copy was made.") from None
    return new
