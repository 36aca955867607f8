"""Posts and their deliveries: create, validate per channel, schedule, approve, publish now, retry, cancel.

Validation runs before anything reaches Meta and answers, per channel, what is wrong in plain words."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.crypto import encrypted_field_names
from accounts.models import ApprovalFlow, Channel, ChannelStatus, ConnectedVia, Platform
from accounts.roles import Capability

from .. import specs
from ..models import Delivery, DeliveryKind, DeliveryState, MediaAsset, Post, PostMedia
from ..publishers.base import absolute_link
from . import pipeline, transitions
from .media import asset_info

if TYPE_CHECKING:
    from accounts.access import WorkspaceAccess
    from accounts.models import User

Problem = specs.Problem

PUBLISH_SCOPES = {
    (Platform.FACEBOOK_PAGE, ConnectedVia.FACEBOOK_LOGIN): ("pages_manage_posts",),
    (Platform.INSTAGRAM, ConnectedVia.FACEBOOK_LOGIN): ("instagram_content_publish",),
    (Platform.INSTAGRAM, ConnectedVia.INSTAGRAM_LOGIN): ("instagram_business_content_publish",),
}
PRODUCT_TAG_SCOPES = ("instagram_shopping_tag_products", "catalog_management")


@dataclass
class MediaItem:
    asset: MediaAsset
    user_tags: list[dict] = field(default_factory=list)
    product_tags: list[dict] = field(default_factory=list)
    alt_text: str = ""


class PostInvalid(Exception):
    """Raised with the blocking problems per channel when a post cannot be scheduled as it is."""

    def __init__(self, problems: dict[Channel, list[Problem]]):
        self.problems = problems
        lines = [f"{ch.display_name}: {p.message}" for ch, ps in problems.items() for p in ps]
        super().__init__(" ".join(lines))


class NotAwaitingApproval(Exception):
    """Approve was asked for a post that is no longer awaiting approval."""


def _problem(code: str, message: str, *, blocking: bool = True) -> Problem:
    return Problem(code=code, message=message, blocking=blocking)


def delivery_kind(
    *, channel: Channel, post_format: str, assets: list[MediaAsset], link: str
) -> tuple[str, list[Problem]]:
    """Which kind of publication a post becomes on a channel, or why it cannot be one."""
    images = [a for a in assets if a.kind == MediaAsset.Kind.IMAGE]
    videos = [a for a in assets if a.kind == MediaAsset.Kind.VIDEO]
    unreadable = [a for a in assets if a.kind == MediaAsset.Kind.UNKNOWN]
    if unreadable:
        return "", [
            _problem("unreadable", f"{a.original_name}: {a.probe_error or 'cannot be read.'}") for a in unreadable
        ]
    unfinished = [a for a in assets if a.status != MediaAsset.Status.READY]
    if unfinished:
        return "", [
            _problem("unfinished", f"{a.original_name}: this copy is still being made, or could not be made.")
            for a in unfinished
        ]
    if channel.platform == Platform.INSTAGRAM:
        if post_format == Post.Format.STORY:
            if len(assets) != 1:
                return "", [_problem("story_media", "An Instagram story takes exactly one photo or video.")]
            return DeliveryKind.IG_STORY, []
        if post_format == Post.Format.REEL:
            if len(videos) != 1 or images:
                return "", [_problem("reel_media", "A reel takes exactly one video.")]
            return DeliveryKind.IG_REEL, []
        if not assets:
            return "", [_problem("no_media", "Instagram posts need at least one photo or video.")]
        if len(assets) == 1:
            return (DeliveryKind.IG_IMAGE if images else DeliveryKind.IG_REEL), []
        if len(assets) > specs.IG_CAROUSEL_MAX_ITEMS:
            return "", [
                _problem(
                    "carousel_size",
                    f"A carousel holds at most {specs.IG_CAROUSEL_MAX_ITEMS} photos and "
                    f"videos; this post has {len(assets)}.",
                )
            ]
        return DeliveryKind.IG_CAROUSEL, []
    # Facebook Page
    if post_format == Post.Format.STORY:
        return "", [_problem("fb_story", "SocialHub publishes stories to Instagram only, not to Facebook Pages.")]
    if post_format == Post.Format.REEL:
        if len(videos) != 1 or images:
            return "", [_problem("reel_media", "A reel takes exactly one video.")]
        return DeliveryKind.FB_REEL, []
    if videos:
        if len(assets) > 1:
            return "", [_problem("fb_mixed", "A Facebook post carries either one video or photos, not both.")]
        return DeliveryKind.FB_VIDEO, []
    if len(images) == 1:
        return DeliveryKind.FB_PHOTO, []
    if len(images) > 1:
        if len(images) > specs.FB_MULTI_PHOTO_MAX:
            return "", [_problem("fb_photos", f"A Facebook post holds at most {specs.FB_MULTI_PHOTO_MAX} photos.")]
        return DeliveryKind.FB_PHOTOS, []
    return (DeliveryKind.FB_LINK if link else DeliveryKind.FB_TEXT), []


MEDIA_RULES = {
    DeliveryKind.IG_IMAGE: {MediaAsset.Kind.IMAGE: specs.PostType.IG_IMAGE},
    DeliveryKind.IG_REEL: {MediaAsset.Kind.VIDEO: specs.PostType.IG_REEL},
    DeliveryKind.IG_STORY: {
        MediaAsset.Kind.IMAGE: specs.PostType.IG_STORY_IMAGE,
        MediaAsset.Kind.VIDEO: specs.PostType.IG_STORY_VIDEO,
    },
    DeliveryKind.IG_CAROUSEL: {
        MediaAsset.Kind.IMAGE: specs.PostType.IG_CAROUSEL_IMAGE,
        MediaAsset.Kind.VIDEO: specs.PostType.IG_CAROUSEL_VIDEO,
    },
    DeliveryKind.FB_PHOTO: {MediaAsset.Kind.IMAGE: specs.PostType.FB_PHOTO},
    DeliveryKind.FB_PHOTOS: {MediaAsset.Kind.IMAGE: specs.PostType.FB_PHOTO},
    DeliveryKind.FB_VIDEO: {MediaAsset.Kind.VIDEO: specs.PostType.FB_VIDEO},
    DeliveryKind.FB_REEL: {MediaAsset.Kind.VIDEO: specs.PostType.FB_REEL},
}


def _check_tags(kind: str, channel: Channel, items: list[PostMedia]) -> list[Problem]:
    problems = []
    for number, item in enumerate(items, start=1):
        where = f"item {number}" if len(items) > 1 else "the media"
        for tag in [*item.user_tags, *item.product_tags]:
            x, y = tag.get("x"), tag.get("y")
            if x is not None and not (0 <= float(x) <= 1 and 0 <= float(y if y is not None else -1) <= 1):
                problems.append(
                    _problem(
                        "tag_position",
                        f"A tag on {where} sits outside the picture; place it on the image (x and y between 0 and 1).",
                    )
                )
        if item.user_tags:
            if item.asset.kind != MediaAsset.Kind.IMAGE:
                problems.append(_problem("user_tags_video", f"People can be tagged on photos only, not on {where}."))
            if len(item.user_tags) > specs.IG_MAX_USER_TAGS:
                problems.append(
                    _problem(
                        "user_tags_count",
                        f"At most {specs.IG_MAX_USER_TAGS} people can be tagged "
                        f"on one photo; {where} has {len(item.user_tags)}.",
                    )
                )
        if item.product_tags:
            if channel.connected_via != ConnectedVia.FACEBOOK_LOGIN:
                problems.append(
                    _problem(
                        "product_tags_login",
                        "Product tags need the account connected through "
                        "Facebook (with its Page); reconnect it that way.",
                    )
                )
            elif not set(PRODUCT_TAG_SCOPES) <= set(channel.granted_scopes):
                problems.append(
                    _problem(
                        "product_tags_scope",
                        "Product tags need the catalog permissions; reconnect the account and allow them.",
                    )
                )
            if item.asset.kind == MediaAsset.Kind.IMAGE and any(t.get("x") is None for t in item.product_tags):
                problems.append(_problem("product_tag_position", f"Place each product tag on {where}."))
    if kind == DeliveryKind.IG_STORY and any(i.user_tags or i.product_tags for i in items):
        problems.append(_problem("story_tags", "Tags cannot be added to stories through Meta's API."))
    return problems


def validate_delivery(delivery: Delivery, *, items: list[PostMedia] | None = None) -> list[Problem]:
    """Everything SocialHub can tell about this post on this channel before asking Meta."""
    post, channel = delivery.post, delivery.channel
    items = items if items is not None else list(post.items.select_related("asset"))
    assets = [i.asset for i in items]
    kind, problems = delivery_kind(channel=channel, post_format=post.format, assets=assets, link=post.link)
    if channel.status == ChannelStatus.DISCONNECTED:
        problems.append(_problem("channel_disconnected", "This account is disconnected. Connect it again first."))
    elif channel.status == ChannelStatus.NEEDS_RECONNECT:
        problems.append(
            _problem(
                "channel_reconnect", "This account needs reconnecting; the post waits until it is.", blocking=False
            )
        )
    needed = PUBLISH_SCOPES.get((channel.platform, channel.connected_via), ())
    missing = [s for s in needed if s not in channel.granted_scopes]
    if missing and channel.status != ChannelStatus.DISCONNECTED:
        problems.append(
            _problem(
                "scope",
                f"Meta has not granted {', '.join(missing)}, which publishing needs. "
                "Reconnect the account and allow it.",
            )
        )
    if not kind:
        return problems
    for item in items:
        post_type = MEDIA_RULES.get(kind, {}).get(item.asset.kind)
        if post_type:
            for problem in specs.check(asset_info(item.asset), post_type):
                problems.append(
                    dataclasses.replace(
                        problem,
                        message=f"{item.asset.original_name}: {problem.message}",
                        subject=str(item.asset.public_id),
                    )
                )
    if kind == DeliveryKind.IG_CAROUSEL:
        problems += specs.check_carousel([asset_info(a) for a in assets])
    caption = delivery.caption
    if channel.platform == Platform.INSTAGRAM:
        problems += specs.check_instagram_caption(caption)
        problems += _check_tags(kind, channel, items)
        if len(post.collaborators) > specs.IG_MAX_COLLABORATORS:
            problems.append(
                _problem(
                    "collaborators", f"At most {specs.IG_MAX_COLLABORATORS} collaborators can be invited to one post."
                )
            )
        if kind == DeliveryKind.IG_STORY and caption.strip():
            problems.append(
                _problem(
                    "story_caption",
                    "Instagram shows no caption on stories, so this text would not appear. Remove the caption, "
                    "or put the words on the image or video itself.",
                )
            )
        if kind == DeliveryKind.IG_STORY and delivery.first_comment.strip():
            problems.append(
                _problem("story_comment", "Stories take no comments from their author: remove the first comment.")
            )
        if post.link:
            problems.append(_problem("ig_link", "Instagram does not make links in captions clickable.", blocking=False))
    else:
        if post.link and kind not in (DeliveryKind.FB_LINK, DeliveryKind.FB_TEXT):
            problems.append(
                _problem(
                    "fb_link_media",
                    "Facebook shows a link with its preview and button only on posts without photos or video. "
                    "Remove the link (or write it in the text), or remove the media for a link post.",
                )
            )
        if post.cta_type and not post.link:
            problems.append(_problem("cta_link", "A call-to-action button needs a link: add the link it points to."))
        if post.cta_type and post.cta_type not in specs.FB_CTA_TYPES:
            problems.append(_problem("cta_type", f"“{post.cta_type}” is not a button type Facebook offers."))
        problems += specs.check_facebook_caption(caption)
        if kind == DeliveryKind.FB_TEXT and not caption.strip():
            problems.append(_problem("empty", "Write something, add a link, a photo or a video."))
        if any(i.user_tags or i.product_tags for i in items):
            problems.append(
                _problem("fb_tags", "Tags are published on Instagram only; Facebook ignores them.", blocking=False)
            )
    if (
        post.scheduled_at
        and post.scheduled_at < timezone.now()
        and delivery.state in (DeliveryState.DRAFT, DeliveryState.AWAITING_APPROVAL)
    ):
        problems.append(_problem("past", "The scheduled time has passed. Pick a time in the future or publish now."))
    return problems


def post_validate(post: Post) -> dict[Channel, list[Problem]]:
    items = list(post.items.select_related("asset"))
    deliveries = post.deliveries.select_related("channel").defer(*encrypted_field_names(Channel, prefix="channel__"))
    return {d.channel: validate_delivery(d, items=items) for d in deliveries}


@transaction.atomic
def post_create(
    *,
    workspace: Any,
    author: User | None,
    channels: list[Channel],
    caption: str = "",
    media: list[MediaItem] | None = None,
    format: str = Post.Format.FEED,
    scheduled_at: datetime | None = None,
    caption_overrides: dict[int, str] | None = None,
    first_comment_overrides: dict[int, str] | None = None,
    form_token: UUID | None = None,
    **options: Any,
) -> Post:
    """A draft post with one delivery per channel. `options`: link, cta_type, first_comment, location_id,
    location_name, collaborators, share_to_feed, audio_name, thumb_offset_ms, cover.

    `form_token` (the composer form's one-time token) makes sending the same form twice harmless: a token this
    workspace already used returns the post it made, with `form_token_reused` set, instead of a second post. Two
    sends at the same moment meet at the unique constraint; the one that loses gets the winner's post."""
    media = media or []
    foreign = [c for c in channels if c.workspace_id != workspace.pk]
    foreign += [m.asset for m in media if m.asset.workspace_id != workspace.pk]  # type: ignore[misc]
    cover = options.get("cover")
    if cover is not None and cover.workspace_id != workspace.pk:
        foreign.append(cover)
    if foreign:
        raise PermissionError("A channel or media file belongs to another workspace.")

    def already_made() -> Post | None:
        post = Post.objects.filter(workspace=workspace, form_token=form_token).first() if form_token else None
        if post is not None:
            post.form_token_reused = True  # type: ignore[attr-defined]
        return post

    existing = already_made()
    if existing is not None:
        return existing
    try:
        # All or nothing, so a second send that finds the post finds it whole.
        with transaction.atomic():
            post = Post.objects.create(
                workspace=workspace,
                author=author,
                caption=caption,
                format=format,
                scheduled_at=scheduled_at,
                scheduled_timezone=workspace.timezone,
                scheduled_local=local_text(scheduled_at, workspace),
                form_token=form_token,
                **options,
            )
            attach_media(post, media)
            assets = [m.asset for m in media]
            for channel in channels:
                kind, _ = delivery_kind(channel=channel, post_format=format, assets=assets, link=post.link)
                Delivery.objects.create(
                    post=post,
                    channel=channel,
                    kind=kind or "",
                    caption_override=(caption_overrides or {}).get(channel.pk, ""),
                    first_comment_override=(first_comment_overrides or {}).get(channel.pk, ""),
                )
    except IntegrityError:
        existing = already_made()  # the same form, sent again at the same moment, won the race
        if existing is None:
            raise
        return existing
    return post


def local_text(scheduled_at: datetime | None, workspace: Any) -> str:
    """The scheduled moment as the person chose it, on the workspace's clock."""
    return scheduled_at.astimezone(workspace.zoneinfo).strftime("%Y-%m-%dT%H:%M:%S") if scheduled_at else ""


def attach_media(post: Post, media: list[MediaItem]) -> None:
    """The post's media, in this order, with what is tagged on each."""
    PostMedia.objects.bulk_create(
        PostMedia(
            post=post,
            asset=m.asset,
            position=i,
            user_tags=m.user_tags,
            product_tags=m.product_tags,
            alt_text=m.alt_text,
        )
        for i, m in enumerate(media)
    )


def _blocking(problems: dict[Channel, list[Problem]]) -> dict[Channel, list[Problem]]:
    return {ch: [p for p in ps if p.blocking] for ch, ps in problems.items() if any(p.blocking for p in ps)}


@transaction.atomic
def post_submit(*, post: Post, access: WorkspaceAccess, now: bool = False, user: User | None = None) -> Post:
    """Schedule the post (or publish it now), or send it for approval, as the workspace's approval flow asks
    (`approvals` describes the flows). `user`: who submits it; by default whoever saved its latest version."""
    from . import approvals  # it builds on this module's checks and scheduling

    if not access.can(Capability.POSTS_PUBLISH):
        access.require(Capability.POSTS_DRAFT)
    if now:
        post.scheduled_at = None
        post.save(update_fields=["scheduled_at"])
    problems = _blocking(post_validate(post))
    if problems:
        raise PostInvalid(problems)
    flow = approvals.current_flow(post.workspace_id)
    stage = approvals.first_stage(flow=flow, access=access)
    if stage is not None:
        approvals.post_send_for_approval(post=post, stage=stage, user=user or approvals.submitter(post))
        return post
    approved = flow != ApprovalFlow.NONE and post.approval != Post.Approval.NOT_REQUIRED
    post.approval = Post.Approval.APPROVED if approved else Post.Approval.NOT_REQUIRED
    post.save(update_fields=["approval"])
    _schedule_deliveries(post)
    return post


def post_approve(
    *,
    post: Post,
    access: WorkspaceAccess,
    user: User | None = None,
    stage: str | None = None,
    version: int | None = None,
) -> Post:
    """Approve the post at the stage it awaits, as `user` (`approvals.post_approve`: under a lock, refused when
    the post moved on since the page the person approved from)."""
    from . import approvals

    return approvals.post_approve(
        post=post, by=approvals.Reviewer(access=access, user=user), stage=stage, version=version
    )


def _schedule_deliveries(post: Post) -> None:
    due = post.scheduled_at or timezone.now()
    transitions.schedule(post, due=due)
    if post.scheduled_at is None:  # "publish now": no need to wait for the next dispatcher tick
        scheduled = post.deliveries.filter(state=DeliveryState.SCHEDULED).select_related("channel")
        for delivery in scheduled.defer(*encrypted_field_names(Channel, prefix="channel__")):
            pipeline.delivery_start_now(delivery)


def post_queue_unavailable(post: Post) -> bool:
    """True when the publishing queue could not take the post just now (it goes out when the queue is back)."""
    return post.deliveries.filter(state=DeliveryState.SCHEDULED, waiting_reason=transitions.QUEUE_UNAVAILABLE).exists()


@transaction.atomic
def delivery_retry(*, delivery: Delivery) -> Delivery:
    """Try a failed delivery again. What Meta already holds is reused; an expired upload is redone. One claim:
    a double click starts one run. A post that is not approved goes back for approval; a post scheduled for
    later waits for its time."""
    if delivery.state != DeliveryState.FAILED:
        return delivery
    problems = [p for p in validate_delivery(delivery) if p.blocking and p.code != "past"]
    if problems:
        raise PostInvalid({delivery.channel: problems})
    approved = delivery.post.approval in (Post.Approval.NOT_REQUIRED, Post.Approval.APPROVED)
    if transitions.retry(delivery, approved=approved):
        delivery.refresh_from_db()
        if delivery.state == DeliveryState.SCHEDULED and delivery.next_attempt_at <= timezone.now():
            pipeline.delivery_start_now(delivery)
            delivery.refresh_from_db()
    return delivery


@transaction.atomic
def delivery_publish_again(*, delivery: Delivery) -> Delivery:
    """After an unconfirmed outcome a person checked the account and the post is not there: publish it again."""
    problems = [p for p in validate_delivery(delivery) if p.blocking and p.code != "past"]
    if problems:
        raise PostInvalid({delivery.channel: problems})
    if transitions.publish_again(delivery):
        delivery.refresh_from_db()
        pipeline.delivery_start_now(delivery)
        delivery.refresh_from_db()
    return delivery


@transaction.atomic
def delivery_confirm(*, delivery: Delivery, candidate_id: str) -> Delivery:
    """After an unconfirmed outcome a person picked the post on the account that is this one."""
    chosen = next((c for c in delivery.candidates if c.get("id") == candidate_id), None)
    if chosen is None:
        raise PostInvalid({delivery.channel: [_problem("candidate", "That post is not one of the candidates.")]})
    transitions.mark_published_by_person(delivery, remote_id=chosen["id"], permalink=chosen.get("permalink", ""))
    delivery.refresh_from_db()
    return delivery


@transaction.atomic
def post_cancel(*, post: Post) -> int:
    """Stop deliveries that have not gone out; what is published, or may have been, stays as it is."""
    return transitions.cancel(post)


def deliveries_learn_permalinks(*, channel_id: int, links: Mapping[str, str]) -> int:
    """Store the links Meta gives for posts on a channel ({remote id: permalink}) on its deliveries that have none.

    Publishing asks Meta for no link after a post goes out: the inbox poll and the insights sync read each
    channel's recent posts with their links anyway, and hand them here. Only https links are kept (they are
    rendered as links; a path such as `/reel/123` is made absolute first), and a link already stored stays.
    The state is not touched. Returns how many deliveries got their link."""
    max_length = Delivery._meta.get_field("permalink").max_length or 0
    wanted: dict[str, str] = {}
    for remote_id, link in links.items():
        url = absolute_link(link)
        if remote_id and url.startswith("https://") and len(url) <= max_length:
            wanted[str(remote_id)] = url
    if not wanted:
        return 0
    lacking = Delivery.objects.filter(channel_id=channel_id, remote_id__in=wanted, permalink="")
    filled = 0
    for remote_id in set(lacking.values_list("remote_id", flat=True)):
        unlinked = Delivery.objects.filter(channel_id=channel_id, remote_id=remote_id, permalink="")
        filled += unlinked.update(permalink=wanted[remote_id])
    return filled
