"""The composer's side of posts: the form's data as a post, its checks per channel, saving a new post or an
edited one (with its version history), and what a person typed but has not saved.

The form's data (field name → list of values, as a browser sends it) is the one shape everything here shares:
a post is turned into it to open the composer, a version stores it, an unsaved draft keeps it, and restoring
either binds it to the form again. Checks run the same rules as submitting (`posts.validate_delivery`), on a
post built in memory, so what the composer shows and what a save refuses cannot differ."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from uuid import UUID

from django.db import transaction
from django.db.models import Count, Q
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from accounts.models import Channel, Platform

from .. import specs
from ..models import ComposerDraft, Delivery, DeliveryKind, DeliveryState, MediaAsset, Post, PostMedia, PostVersion
from . import posts, queues, transitions

if TYPE_CHECKING:
    from accounts.access import WorkspaceAccess
    from accounts.models import User, Workspace

S = DeliveryState
EDITABLE_STATES = (S.DRAFT, S.AWAITING_APPROVAL, S.SCHEDULED)
QUOTA_WINDOW = timedelta(hours=24)
# What each form field is called in a version's list of changes.
CHANGE_NAMES = {
    "channels": "accounts",
    "format": "format",
    "caption": "caption",
    "media": "media",
    "link": "link",
    "cta_type": "button",
    "first_comment": "first comment",
    "location_id": "location",
    "location_name": "location",
    "collaborators": "collaborators",
    "share_to_feed": "share to feed",
    "audio_name": "audio name",
    "thumb_offset": "cover frame",
    "cover": "cover image",
    "when": "time",
    "date": "time",
    "time": "time",
    "fold": "time",
}
PREFIX_NAMES = {
    "caption_": "caption",
    "first_comment_": "first comment",
    "alt_": "alt text",
    "user_tags_": "tags",
    "product_tags_": "tags",
}
FIX_LABELS = {
    specs.FIX_CONVERT_TO_JPEG: "Make a JPEG copy",
    specs.FIX_DOWNSCALE: "Make a smaller copy",
    specs.FIX_FASTSTART: "Make a streaming-ready copy",
}


NOT_EDITABLE = (
    "This post can no longer be changed: on at least one account it has gone out, is going out, failed or was "
    "cancelled. Duplicate it to make a changed copy."
)


class NotEditable(Exception):
    """The post cannot be changed any more; the message says why and what to do instead."""


class Conflict(Exception):
    """Someone else saved the post after the version this save started from."""

    def __init__(self, version: PostVersion | None):
        self.version = version
        who = version.author.get_full_name() if version and version.author else "Someone"
        super().__init__(
            f"{who} saved this post while you were editing it. Your changes are still here: save again to replace "
            "theirs, or open their version in the history first."
        )


class Incomplete(Exception):
    """The post lacks something every post needs (an account to publish on)."""


@dataclass
class Quota:
    used: int  # published in the 24 hours before the chosen time, plus others scheduled in them
    limit: int

    @property
    def full(self) -> bool:
        return self.used >= self.limit


@dataclass
class ChannelCheck:
    """What the composer shows for one chosen channel."""

    channel: Channel
    kind: str
    caption: str
    first_comment: str
    counts: list[specs.Count]
    problems: list[specs.Problem]
    quota: Quota | None = None

    @property
    def kind_label(self) -> str:
        return str(DeliveryKind(self.kind).label) if self.kind else ""

    @property
    def blocking(self) -> list[specs.Problem]:
        return [p for p in self.problems if p.blocking]

    @property
    def hints(self) -> list[specs.Problem]:
        return [p for p in self.problems if not p.blocking]


@dataclass
class Checked:
    post: Post
    items: list[PostMedia]
    channels: list[ChannelCheck] = field(default_factory=list)

    @property
    def blocking(self) -> bool:
        return any(c.blocking for c in self.channels)

    def fixes(self) -> list[tuple[MediaAsset, str, str]]:
        """(file, fix, button label) for every fix the problems offer, once each."""
        by_id = {str(i.asset.public_id): i.asset for i in self.items}
        seen: dict[tuple[str, str], tuple[MediaAsset, str, str]] = {}
        for check in self.channels:
            for problem in check.problems:
                if problem.fix and problem.subject in by_id:
                    seen[(problem.subject, problem.fix)] = (
                        by_id[problem.subject],
                        problem.fix,
                        FIX_LABELS[problem.fix],
                    )
        return list(seen.values())


# --- the form's data as a post ---------------------------------------------------------------------------------
def unsaved_post(workspace: Workspace, data: dict[str, Any]) -> tuple[Post, list[PostMedia]]:
    """A post and its media as the form describes them, in memory (nothing is saved)."""
    post = Post(
        workspace=workspace,
        format=data.get("format") or Post.Format.FEED,
        caption=data.get("caption") or "",
        link=data.get("link") or "",
        cta_type=data.get("cta_type") or "",
        first_comment=data.get("first_comment") or "",
        location_id=data.get("location_id") or "",
        location_name=data.get("location_name") or "",
        collaborators=data.get("collaborators") or [],
        share_to_feed=bool(data.get("share_to_feed")),
        audio_name=data.get("audio_name") or "",
        thumb_offset_ms=data.get("thumb_offset_ms"),
        cover=data.get("cover"),
        scheduled_at=data.get("scheduled_at"),
    )
    items = [
        PostMedia(
            post=post,
            asset=item["asset"],
            position=i,
            alt_text=item["alt_text"],
            user_tags=item["user_tags"],
            product_tags=item["product_tags"],
        )
        for i, item in enumerate(data.get("items") or [])
    ]
    return post, items


def check(workspace: Workspace, data: dict[str, Any], *, post: Post | None = None) -> Checked:
    """The checks of every chosen channel, exactly as a submit would run them, plus counters and the quota."""
    unsaved, items = unsaved_post(workspace, data)
    checked = Checked(unsaved, items)
    channels: list[Channel] = list(data.get("channels") or [])
    quotas = _quotas(channels, at=unsaved.scheduled_at or timezone.now(), post=post)
    for channel in channels:
        delivery = Delivery(
            post=unsaved,
            channel=channel,
            state=S.DRAFT,
            caption_override=(data.get("caption_overrides") or {}).get(channel.pk, ""),
            first_comment_override=(data.get("first_comment_overrides") or {}).get(channel.pk, ""),
        )
        problems = posts.validate_delivery(delivery, items=items)
        kind, _ = posts.delivery_kind(
            channel=channel, post_format=unsaved.format, assets=[i.asset for i in items], link=unsaved.link
        )
        quota = quotas.get(channel.pk)
        if quota and quota.full and kind:
            problems.append(
                specs.Problem(
                    "quota",
                    f"{channel.display_name} has {quota.used} posts in the 24 hours before this one; Instagram "
                    f"allows about {quota.limit}. It will wait until Instagram's limit lets it out.",
                    blocking=False,
                )
            )
        checked.channels.append(
            ChannelCheck(
                channel=channel,
                kind=kind,
                caption=delivery.caption,
                first_comment=delivery.first_comment,
                counts=specs.caption_counts(delivery.caption, channel.platform),
                problems=problems,
                quota=quota,
            )
        )
    return checked


def _quotas(channels: list[Channel], *, at: datetime, post: Post | None) -> dict[int, Quota]:
    """Instagram's 24-hour limit around the chosen time, counted from SocialHub's own posts: those published
    in the 24 hours before it and those scheduled in them. One query for all chosen accounts."""
    instagram = [c.pk for c in channels if c.platform == Platform.INSTAGRAM]
    if not instagram:
        return {}
    since = at - QUOTA_WINDOW
    rows = Delivery.objects.filter(channel_id__in=instagram).filter(
        Q(state=S.PUBLISHED, published_at__gt=since, published_at__lte=at)
        | Q(state__in=[S.SCHEDULED, S.PUBLISHING, S.PROCESSING], next_attempt_at__gt=since, next_attempt_at__lte=at)
    )
    if post is not None and post.pk:
        rows = rows.exclude(post_id=post.pk)
    counts = dict(rows.values_list("channel_id").annotate(n=Count("id")).values_list("channel_id", "n"))
    return {pk: Quota(counts.get(pk, 0) + 1, specs.IG_PUBLISH_QUOTA_DEFAULT) for pk in instagram}


def previews(checked: Checked, *, media_url: Any) -> list[dict[str, Any]]:
    """What each channel's preview shows (`media_url(asset, thumb)` gives a file's address)."""
    post = checked.post
    link_domain = (urlsplit(post.link).hostname or "").removeprefix("www.") if post.link else ""
    items = [
        {
            "url": media_url(i.asset, False),
            "thumb_url": media_url(i.asset, True) if i.asset.thumbnail else "",
            "kind": i.asset.kind,
            "width": i.asset.width,
            "height": i.asset.height,
            "alt_text": i.alt_text,
            "user_tags": i.user_tags,
            "product_tags": i.product_tags,
        }
        for i in checked.items
    ]
    return [
        {
            "channel": c.channel,
            "kind": c.kind,
            "kind_label": c.kind_label,
            "caption": c.caption,
            "caption_shown": c.kind != DeliveryKind.IG_STORY,
            "first_comment": c.first_comment,
            "items": items,
            "link": post.link if c.channel.platform == Platform.FACEBOOK_PAGE else "",
            "link_domain": link_domain,
            "cta_label": specs.FB_CTA_LABELS.get(post.cta_type, "") if post.link else "",
            "location_name": post.location_name if c.channel.platform == Platform.INSTAGRAM else "",
            "collaborators": post.collaborators if c.channel.platform == Platform.INSTAGRAM else [],
            "problems": c.problems,
        }
        for c in checked.channels
    ]


# --- saving -------------------------------------------------------------------------------------------------
def _options(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "link": data.get("link") or "",
        "cta_type": data.get("cta_type") or "",
        "first_comment": data.get("first_comment") or "",
        "location_id": data.get("location_id") or "",
        "location_name": data.get("location_name") or "",
        "collaborators": data.get("collaborators") or [],
        "share_to_feed": bool(data.get("share_to_feed")),
        "audio_name": data.get("audio_name") or "",
        "thumb_offset_ms": data.get("thumb_offset_ms"),
        "cover": data.get("cover"),
    }


@dataclass
class Saved:
    post: Post
    reused: bool = False  # the same form was sent again: the post it made the first time
    submitted: bool = False
    unscheduled: bool = False  # it was scheduled and is a draft now
    queued: bool = False  # added to its channels' queues (and submitted at the slot it got)


@transaction.atomic
def save(*, access: WorkspaceAccess, user: User, data: dict[str, Any], post: Post | None = None) -> Saved:
    """Save the composer: a new post or changes to `post`, as a draft or submitted (scheduled, published now,
    or sent for approval, as the person's role allows). All or nothing: when a check refuses the submit
    (`posts.PostInvalid`), nothing of this save stays, and an edited post is left as it was."""
    queue = data.get("intent") == "queue"
    submit = data.get("intent") not in ("draft", "queue")
    channels = list(data.get("channels") or [])
    if (submit or queue) and not channels:
        raise Incomplete("Choose at least one account to publish on.")
    items = [
        posts.MediaItem(
            asset=i["asset"], alt_text=i["alt_text"], user_tags=i["user_tags"], product_tags=i["product_tags"]
        )
        for i in data.get("items") or []
    ]
    if post is None:
        post = posts.post_create(
            workspace=access.workspace,
            author=user,
            channels=channels,
            caption=data.get("caption") or "",
            media=items,
            format=data.get("format") or Post.Format.FEED,
            scheduled_at=data.get("scheduled_at"),
            caption_overrides=data.get("caption_overrides"),
            first_comment_overrides=data.get("first_comment_overrides"),
            form_token=data.get("form_token"),
            **_options(data),
        )
        if getattr(post, "form_token_reused", False):
            return Saved(post, reused=True)
        unscheduled = False
    else:
        post = _locked(post, base_version=data.get("base_version"))
        queued_at = post.scheduled_at if post.in_queue else None
        unscheduled = _update(post, data=data, channels=channels, items=items)
        if queued_at is not None and post.scheduled_at != queued_at and not queue:
            # A time chosen here, not the queue's: the post leaves its queue (reordering it no longer moves it).
            post.in_queue = False
            post.save(update_fields=["in_queue", "updated_at"])
    if queue:  # saved as a draft above, then given the queue's next free time (one version, with it) and submitted
        post = queues.post_add_to_queue(post=post, access=access, user=user)
        return Saved(post, submitted=True, queued=True)
    record_version(post, user)
    if submit:
        posts.post_submit(post=post, access=access, now=data.get("when") == "now", user=user)
    return Saved(post, submitted=submit, unscheduled=unscheduled and not submit)


def _locked(post: Post, *, base_version: int | None) -> Post:
    """The post read again under a lock, so two saves, or a save and a deletion, happen one after the other;
    refused when it is gone, being deleted on Meta, or saved by someone else since `base_version`."""
    post = Post.objects.select_for_update().select_related("workspace").filter(pk=post.pk).first()
    if post is None:
        raise NotEditable("This post was deleted in the meantime. Your text is still here: copy what you need.")
    if post.removal_requested_at:
        raise NotEditable("This post is being deleted on Meta; it can no longer be changed.")
    latest = post.versions.order_by("-number").first()
    if base_version is not None and base_version != (latest.number if latest else 0):
        raise Conflict(latest)
    return post


def _update(post: Post, *, data: dict[str, Any], channels: list[Channel], items: list[posts.MediaItem]) -> bool:
    """Change the post as the form says; True when it was scheduled (it is a draft until submitted again)."""
    deliveries = list(post.deliveries.select_for_update())
    if any(d.state not in EDITABLE_STATES for d in deliveries):
        raise NotEditable(NOT_EDITABLE)
    was_scheduled = any(d.state == S.SCHEDULED for d in deliveries)
    transitions.reopen_for_edit(post)
    if post.deliveries.exclude(state=S.DRAFT).exists():
        raise NotEditable("This post started publishing a moment ago, so it can no longer be changed.")
    for name, value in _options(data).items():
        setattr(post, name, value)
    post.caption = data.get("caption") or ""
    post.format = data.get("format") or Post.Format.FEED
    post.scheduled_at = data.get("scheduled_at")
    post.scheduled_local = posts.local_text(post.scheduled_at, post.workspace)
    post.scheduled_timezone = post.workspace.timezone
    post.approval = Post.Approval.NOT_REQUIRED  # a changed post is approved again, if its author needs that
    post.save()
    post.items.all().delete()
    posts.attach_media(post, items)
    assets = [m.asset for m in items]
    chosen = {c.pk: c for c in channels}
    post.deliveries.exclude(channel_id__in=list(chosen)).delete()  # drafts now: nothing was sent for them
    existing = {d.channel_id: d for d in post.deliveries.all()}
    captions = data.get("caption_overrides") or {}
    comments = data.get("first_comment_overrides") or {}
    for channel in channels:
        kind, _ = posts.delivery_kind(channel=channel, post_format=post.format, assets=assets, link=post.link)
        fields = {
            "kind": kind or "",
            "caption_override": captions.get(channel.pk, ""),
            "first_comment_override": comments.get(channel.pk, ""),
        }
        delivery = existing.get(channel.pk)
        if delivery is None:
            Delivery.objects.create(post=post, channel=channel, **fields)
        else:
            Delivery.objects.filter(pk=delivery.pk).update(**fields)
    return was_scheduled


def editable(post: Post, deliveries: list[Delivery] | None = None) -> bool:
    deliveries = list(post.deliveries.all()) if deliveries is None else deliveries
    return not post.removal_requested_at and all(d.state in EDITABLE_STATES for d in deliveries)


# --- versions -------------------------------------------------------------------------------------------------
def form_data_of(post: Post) -> dict[str, list[str]]:
    """The post as the composer's form data."""
    items = list(post.items.select_related("asset"))
    deliveries = sorted(post.deliveries.all(), key=lambda d: d.channel_id)
    data: dict[str, list[str]] = {
        "channels": [str(d.channel_id) for d in deliveries],
        "format": [post.format],
        "caption": [post.caption],
        "media": [str(i.asset_id) for i in items],
        "link": [post.link],
        "cta_type": [post.cta_type],
        "first_comment": [post.first_comment],
        "location_id": [post.location_id],
        "location_name": [post.location_name],
        "collaborators": [", ".join(post.collaborators)],
        "audio_name": [post.audio_name],
        "thumb_offset": [str(Decimal(post.thumb_offset_ms) / 1000) if post.thumb_offset_ms is not None else ""],
        "cover": [str(post.cover_id or "")],
        # "Publish now" only for a post that went out on request; a draft without a time stays "Schedule".
        "when": ["now" if not post.scheduled_at and any(d.state != S.DRAFT for d in deliveries) else "later"],
    }
    if post.share_to_feed:
        data["share_to_feed"] = ["on"]
    if post.scheduled_at:
        local = timezone.localtime(post.scheduled_at, post.workspace.zoneinfo)
        data["date"], data["time"] = [local.strftime("%Y-%m-%d")], [local.strftime("%H:%M")]
        data["fold"] = [str(local.fold)]
    for item in items:
        data[f"alt_{item.asset_id}"] = [item.alt_text]
        data[f"user_tags_{item.asset_id}"] = [json.dumps(item.user_tags)]
        data[f"product_tags_{item.asset_id}"] = [json.dumps(item.product_tags)]
    for d in deliveries:
        data[f"caption_{d.channel_id}"] = [d.caption_override]
        data[f"first_comment_{d.channel_id}"] = [d.first_comment_override]
    return data


def changes(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    """What differs between two snapshots, in the words of the version history."""
    names: list[str] = []
    for key in sorted(set(before) | set(after)):
        if [v for v in before.get(key, []) if v] == [v for v in after.get(key, []) if v]:
            continue
        name = CHANGE_NAMES.get(key) or next((n for p, n in PREFIX_NAMES.items() if key.startswith(p)), key)
        if name not in names:
            names.append(name)
    return names


def record_version(post: Post, user: User | None) -> PostVersion | None:
    """A new version when the post differs from its last one."""
    snapshot = form_data_of(post)
    last = post.versions.order_by("-number").first()
    if last is not None:
        changed = changes(last.snapshot, snapshot)
        if not changed:
            return None
    else:
        changed = ["created"]
    return PostVersion.objects.create(
        post=post, number=(last.number + 1) if last else 1, author=user, snapshot=snapshot, changed=changed
    )


def latest_version_number(post: Post) -> int:
    last = post.versions.order_by("-number").values_list("number", flat=True).first()
    return last or 0


def as_querydict(data: dict[str, list[str]]) -> QueryDict:
    query = QueryDict(mutable=True)
    for key, values in data.items():
        query.setlist(key, [str(v) for v in values])
    return query


def restorable(workspace: Workspace, snapshot: dict[str, list[str]]) -> tuple[QueryDict, list[str]]:
    """A version's data for the composer, without the accounts and files that are gone since (named)."""
    data = as_querydict(snapshot)
    gone: list[str] = []
    channel_ids = set(
        Channel.objects.filter(workspace=workspace, pk__in=data.getlist("channels"))
        .exclude(status="disconnected")
        .values_list("pk", flat=True)
    )
    kept = [c for c in data.getlist("channels") if int(c) in channel_ids]
    if len(kept) < len(data.getlist("channels")):
        gone.append("an account that is no longer connected")
    data.setlist("channels", kept)
    asset_ids = set(
        MediaAsset.objects.filter(workspace=workspace, pk__in=data.getlist("media")).values_list("pk", flat=True)
    )
    kept = [m for m in data.getlist("media") if int(m) in asset_ids]
    if len(kept) < len(data.getlist("media")):
        gone.append("files deleted from the media library")
    data.setlist("media", kept)
    if data.get("cover") and int(data["cover"]) not in set(
        MediaAsset.objects.filter(workspace=workspace, pk=data["cover"]).values_list("pk", flat=True)
    ):
        data.setlist("cover", [""])
        gone.append("the cover image")
    return data, gone


# --- what was typed and not saved -----------------------------------------------------------------------------
NOT_KEPT = ("csrfmiddlewaretoken",)  # a secret of the session, not something typed


def keep_unsaved(*, workspace: Workspace, user: User, token: UUID, post: Post | None, data: QueryDict) -> None:
    """Keep the form as sent, so a reload, an error or a closed tab loses nothing. A check that arrives after
    the form was saved (it was sent just before) keeps nothing: the post made or the version saved has it."""
    if post is None and Post.objects.filter(workspace=workspace, form_token=token).exists():
        return
    sent_base = data.get("base_version")
    if post is not None and sent_base and sent_base.isdigit():
        latest = post.versions.order_by("-number").first()
        just_saved_here = latest is not None and latest.number != int(sent_base) and latest.author_id == user.pk
        if just_saved_here and not ComposerDraft.objects.filter(user=user, token=token).exists():
            return
    values = {key: data.getlist(key) for key in data if key not in NOT_KEPT}
    ComposerDraft.objects.update_or_create(
        user=user,
        token=token,
        defaults={"workspace": workspace, "post": post, "data": values, "updated_at": timezone.now()},
    )


def unsaved(*, workspace: Workspace, user: User, token: UUID) -> ComposerDraft | None:
    return ComposerDraft.objects.filter(workspace=workspace, user=user, token=token).first()


def forget_unsaved(*, user: User, token: UUID) -> None:
    ComposerDraft.objects.filter(user=user, token=token).delete()


def unsaved_new_posts(*, workspace: Workspace, user: User, limit: int = 10) -> list[ComposerDraft]:
    return list(ComposerDraft.objects.filter(workspace=workspace, user=user, post__isnull=True)[:limit])


def new_post_url(workspace: Workspace, token: UUID) -> str:
    return reverse("publishing:post_new", kwargs={"workspace_id": workspace.public_id}) + f"?draft={token}"
