"""Comments coming in from Meta, stored once per channel and Meta id, threaded, whether a webhook or a poll
brought them (and however often).

Thread rules (see the inbox models): a reply hangs under its top-level comment, also a reply to a reply; the
top-level comment carries the thread's state. A new incoming reply makes the thread wait for an answer again
(and reopens it when it was done); our own reply settles it. Edits change the text and stamp `edited_at`.
Seeing the same comment again changes nothing.

Webhook payloads (graph-api reference §3.3): Page `feed` changes with `item=comment` and a `verb`; Instagram
`comments` in the Facebook-Login shape (`entry[].changes[]`) or the Instagram-Login shape (`entry[].field` and
`entry[].value`), with the comment's id in `id` (or `comment_id` in Meta's examples page); Instagram `mentions`
(`comment_id` + `media_id`, or only `media_id` for a caption) through Facebook Login. Instagram-Login accounts hear
of mentions as `comments` on someone else's media (sync.event_apply tells them apart)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Channel, ChannelStatus, ConnectedVia, Platform

from ..models import ActionKind, Comment, CommentAction, CommentKind, CommentStatus, InboxPost, WebhookDelivery

logger = logging.getLogger(__name__)

APP_FACEBOOK = "facebook"
APP_INSTAGRAM = "instagram"
APP_EITHER = "either"  # both app secrets are the same: the delivery may be for either kind of channel
# Rules act on what arrives now. A comment older than this (a backfill, a poll after an outage) is stored without
# them: hiding last week's comments unseen is what a rule's dry run is for.
RULES_MAX_AGE = timedelta(days=1)


class ParentMissing(LookupError):
    """A reply whose parent comment is not stored yet; the caller fetches the parent and tries again."""

    def __init__(self, parent_external_id: str) -> None:
        super().__init__(parent_external_id)
        self.parent_external_id = parent_external_id


@dataclass(frozen=True)
class PostData:
    """A post or media as Meta describes it (what the inbox shows above its comments)."""

    external_id: str
    caption: str = ""
    thumbnail_url: str = ""
    permalink: str = ""
    media_type: str = ""
    posted_at: datetime | None = None
    is_mention: bool = False


@dataclass(frozen=True)
class CommentData:
    """One comment as Meta described it, normalised from a webhook or a poll."""

    external_id: str
    media_id: str  # IG media id or Page post id ("<page>_<post>")
    parent_external_id: str | None  # the comment it answers (None for a top-level comment)
    author_id: str
    author_name: str
    text: str
    created_at: datetime
    hidden: bool | None = None  # None = unknown (webhooks do not say)
    like_count: int | None = None
    kind: str = CommentKind.COMMENT


# --- reading Meta's values ------------------------------------------------------------------------------------
def parse_time(value: Any) -> datetime | None:
    """The one reader of Meta's times: ISO 8601 with a `+0000` offset (`2017-05-19T23:27:28+0000`) or a Unix
    timestamp (a number or a string of digits). Always aware (UTC when Meta gave no offset); None when absent or
    unreadable."""
    if value in (None, "") or isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        try:
            value = float(value)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                return None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def _int_or_none(value: Any) -> int | None:
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        return None


def _bool_or_none(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def ig_comment_data(
    item: Mapping[str, Any], *, media_id: str, parent_id: str | None = None, at: datetime | None = None
) -> CommentData:
    """An Instagram comment from `GET /{media}/comments` (or its `replies`), a single comment, or a webhook."""
    author = item.get("from") or {}
    username = str(item.get("username") or author.get("username") or "")
    return CommentData(
        external_id=str(item.get("id") or item.get("comment_id")),
        media_id=media_id,
        parent_external_id=parent_id or (str(item["parent_id"]) if item.get("parent_id") else None),
        author_id=str(author.get("id") or ""),
        author_name=username,
        text=str(item.get("text") or ""),
        created_at=parse_time(item.get("timestamp")) or at or timezone.now(),
        hidden=_bool_or_none(item.get("hidden")),
        like_count=_int_or_none(item.get("like_count")),
    )


def page_comment_data(item: Mapping[str, Any], *, post_id: str, at: datetime | None = None) -> CommentData:
    """A Page comment from `GET /{post}/comments?filter=stream` (with `parent{id}`) or a single comment."""
    author = item.get("from") or {}
    parent = item.get("parent") or {}
    parent_id = str(parent.get("id") or "") if isinstance(parent, Mapping) else ""
    return CommentData(
        external_id=str(item["id"]),
        media_id=post_id,
        parent_external_id=parent_id if parent_id and parent_id != post_id else None,
        author_id=str(author.get("id") or ""),
        author_name=str(author.get("name") or ""),
        text=str(item.get("message") or ""),
        created_at=parse_time(item.get("created_time")) or at or timezone.now(),
        hidden=_bool_or_none(item.get("is_hidden")),
        like_count=_int_or_none(item.get("like_count")),
    )


def ig_post_data(media: Mapping[str, Any], *, is_mention: bool = False) -> PostData:
    """An Instagram media (videos and reels show their cover, pictures themselves)."""
    media_type = str(media.get("media_type") or "")
    thumbnail = media.get("thumbnail_url") if media_type == "VIDEO" else None
    return PostData(
        external_id=str(media["id"]),
        caption=str(media.get("caption") or ""),
        thumbnail_url=str(thumbnail or media.get("media_url") or media.get("thumbnail_url") or ""),
        permalink=str(media.get("permalink") or ""),
        media_type=media_type,
        posted_at=parse_time(media.get("timestamp")),
        is_mention=is_mention,
    )


def page_post_data(post: Mapping[str, Any]) -> PostData:
    return PostData(
        external_id=str(post["id"]),
        caption=str(post.get("message") or ""),
        thumbnail_url=str(post.get("full_picture") or ""),
        permalink=str(post.get("permalink_url") or ""),
        media_type=str(post.get("status_type") or ""),
        posted_at=parse_time(post.get("created_time")),
    )


# --- storing --------------------------------------------------------------------------------------------------
def our_post_id(*, channel: Channel, external_id: str) -> int | None:
    """Our publishing Post behind this Meta post on this channel, if SocialHub published it (read only)."""
    from publishing.models import Delivery

    return (
        Delivery.objects.filter(channel=channel, remote_id=external_id)
        .order_by("-pk")
        .values_list("post_id", flat=True)
        .first()
    )


_POST_FACTS = ("caption", "thumbnail_url", "permalink", "media_type", "posted_at")


def inbox_post_upsert(*, channel: Channel, data: PostData) -> tuple[InboxPost, bool]:
    """The post comments are written under, stored once per channel; what Meta says now replaces what it said
    before (captions get edited, picture links expire). Returns (post, created)."""
    values = {name: getattr(data, name) for name in _POST_FACTS if getattr(data, name)}
    inbox_post, created = _inbox_post_get_or_create(channel, data.external_id, values, is_mention=data.is_mention)
    if created:
        return inbox_post, True
    changed = {name: value for name, value in values.items() if getattr(inbox_post, name) != value}
    if data.is_mention and not inbox_post.is_mention:
        changed["is_mention"] = True
    if inbox_post.post_id is None and not inbox_post.is_mention:
        post_id = our_post_id(channel=channel, external_id=data.external_id)
        if post_id is not None:
            changed["post_id"] = post_id
    if changed:
        InboxPost.objects.filter(pk=inbox_post.pk).update(**changed)
        for name, value in changed.items():
            setattr(inbox_post, name, value)
    return inbox_post, False


def _inbox_post_get_or_create(
    channel: Channel, external_id: str, values: dict[str, Any], *, is_mention: bool
) -> tuple[InboxPost, bool]:
    existing = InboxPost.objects.filter(channel=channel, external_id=external_id).first()
    if existing is not None:
        return existing, False
    post_id = None if is_mention else our_post_id(channel=channel, external_id=external_id)
    try:
        with transaction.atomic():
            created = InboxPost.objects.create(
                workspace_id=channel.workspace_id,
                channel=channel,
                external_id=external_id,
                is_mention=is_mention,
                post_id=post_id,
                **values,
            )
    except IntegrityError:  # stored meanwhile by another worker (a webhook and a poll at once)
        return InboxPost.objects.get(channel=channel, external_id=external_id), False
    return created, True


def inbox_post_known(*, channel: Channel, external_id: str) -> bool:
    return InboxPost.objects.filter(channel=channel, external_id=external_id).exists()


def _is_from_us(channel: Channel, data: CommentData) -> bool:
    if data.author_id and data.author_id == channel.external_id:
        return True
    # Instagram usernames are unique: the account's own comments carry its username (webhooks of Instagram-Login
    # accounts may give an app-scoped id instead of the account id).
    if channel.platform == Platform.INSTAGRAM and channel.username and data.author_name == channel.username:
        return True
    # Only then the query (indexed): a reply sent from SocialHub whose author Meta names otherwise.
    return CommentAction.objects.filter(
        comment__channel=channel, kind=ActionKind.REPLY, result_id=data.external_id
    ).exists()


def _thread_of(channel: Channel, parent_external_id: str) -> Comment:
    parent = (
        Comment.objects.filter(channel=channel, external_id=parent_external_id).values_list("pk", "parent_id").first()
    )
    if parent is None:
        raise ParentMissing(parent_external_id)
    # Both platforms thread a reply to a reply under the top-level comment, whose row is the thread's lock.
    pk, parent_id = parent
    return Comment.objects.select_for_update().get(pk=parent_id or pk)


def thread_refresh(thread: Comment, *, reopen: bool = False) -> None:
    """Recompute the thread's state from its comments: waiting for an answer while the newest comment still there
    is not ours; last activity = the newest comment. `reopen` puts a done thread back to new when it waits."""
    newest = (
        Comment.objects.filter(Q(pk=thread.pk) | Q(parent_id=thread.pk), deleted_at__isnull=True)
        .order_by("-created_at", "-pk")
        .only("created_at", "from_us")
        .first()
    )
    values: dict[str, Any] = {"needs_reply": bool(newest is not None and not newest.from_us)}
    if newest is not None and newest.created_at > thread.last_activity_at:
        values["last_activity_at"] = newest.created_at
    if reopen and values["needs_reply"] and thread.status == CommentStatus.DONE:
        values["status"] = CommentStatus.NEW
    changed = {name: value for name, value in values.items() if getattr(thread, name) != value}
    if changed:
        changed["updated_at"] = timezone.now()
        Comment.objects.filter(pk=thread.pk).update(**changed)
        for name, value in changed.items():
            setattr(thread, name, value)


def _update_existing(comment: Comment, data: CommentData) -> bool:
    changed: dict[str, Any] = {}
    if data.text and data.text != comment.text:
        changed.update(text=data.text, edited_at=timezone.now())
    if data.hidden is not None and data.hidden != comment.hidden:
        changed["hidden"] = data.hidden
    if data.like_count is not None and data.like_count != comment.like_count:
        changed["like_count"] = data.like_count
    if data.author_name and not comment.author_name:
        changed["author_name"] = data.author_name
    if not changed:
        return False
    changed["updated_at"] = timezone.now()
    Comment.objects.filter(pk=comment.pk).update(**changed)
    for name, value in changed.items():
        setattr(comment, name, value)
    return True


def comment_upsert(
    *,
    channel: Channel,
    data: CommentData,
    post_data: PostData | None = None,
    apply_rules: bool = True,
    listed_at: datetime | None = None,
) -> tuple[Comment, bool]:
    """Store once per (channel, external_id); returns (comment, created). Updates text/edited_at/hidden/likes when
    they changed. Keeps the thread state (last activity, whether it waits for an answer, back to new when a new
    incoming reply arrives on a done thread). A new comment not from us, written in the last day, goes through the
    workspace's rules once the transaction commits (`apply_rules=False`: never, as for a backfill).
    `listed_at`: when a poll read Meta's list holding this comment; one marked removed before then is shown again
    (Meta still lists it). Webhooks never pass it. Raises `ParentMissing` for a reply whose parent is not stored."""
    with transaction.atomic():
        existing = Comment.objects.select_for_update().filter(channel=channel, external_id=data.external_id).first()
        if existing is not None:
            _update_existing(existing, data)
            if listed_at is not None:
                _comment_restore(existing, listed_at=listed_at)
            return existing, False
        thread = _thread_of(channel, data.parent_external_id) if data.parent_external_id else None
        if thread is not None:
            inbox_post = thread.inbox_post
        elif post_data is not None:
            inbox_post, _ = inbox_post_upsert(channel=channel, data=post_data)
        else:
            inbox_post, _ = _inbox_post_get_or_create(
                channel, data.media_id, {}, is_mention=data.kind == CommentKind.MENTION
            )
        from_us = _is_from_us(channel, data)
        try:
            with transaction.atomic():
                comment = Comment.objects.create(
                    workspace_id=channel.workspace_id,
                    channel=channel,
                    inbox_post=inbox_post,
                    external_id=data.external_id,
                    parent=thread,
                    kind=data.kind,
                    author_id=data.author_id,
                    author_name=data.author_name,
                    from_us=from_us,
                    text=data.text,
                    created_at=data.created_at,
                    hidden=bool(data.hidden),
                    like_count=data.like_count or 0,
                    # A thread we started ourselves (a first comment under our post) waits for nobody.
                    status=CommentStatus.DONE if from_us and thread is None else CommentStatus.NEW,
                    needs_reply=not from_us,
                    last_activity_at=data.created_at,
                )
        except IntegrityError:  # another worker stored it a moment ago
            existing = Comment.objects.get(channel=channel, external_id=data.external_id)
            _update_existing(existing, data)
            return existing, False
        if thread is not None:
            thread_refresh(thread, reopen=not from_us)
        if inbox_post.last_comment_at is None or data.created_at > inbox_post.last_comment_at:
            InboxPost.objects.filter(pk=inbox_post.pk).update(last_comment_at=data.created_at)
        if apply_rules and not from_us and data.created_at >= timezone.now() - RULES_MAX_AGE:
            transaction.on_commit(functools.partial(_apply_rules, comment.pk))
    return comment, True


def _apply_rules(comment_id: int) -> None:
    """The workspace's rules act on a new comment (hide, assign, tag). A failing rule never undoes the ingest."""
    # Imported here, not at the top: rules reach the actions, which read this module.
    from .rules import rules_apply

    comment = Comment.objects.filter(pk=comment_id).select_related("channel", "inbox_post").first()
    if comment is None:
        return
    try:
        rules_apply(comment)
    except Exception:
        logger.exception("rules could not act on comment %s", comment_id)


# --- hidden and removed: changed only here (and by comment_upsert, from what Meta lists), by webhooks, polls and
# the team's actions alike ---------------------------------------------------------------------------------------
def comment_mark_removed(*, channel: Channel, external_id: str, at: datetime) -> bool:
    """The comment was removed on Meta (its replies go with it there, so here too), and its thread's state follows
    (a removed fan's comment waits for no answer). Returns whether it was still shown as present; calling it again
    changes nothing."""
    with transaction.atomic():
        comment = Comment.objects.select_for_update().filter(channel=channel, external_id=external_id).first()
        if comment is None or comment.deleted_at is not None:
            return False
        now = timezone.now()
        Comment.objects.filter(pk=comment.pk).update(deleted_at=at, updated_at=now)
        if comment.parent_id is None:
            Comment.objects.filter(parent_id=comment.pk, deleted_at__isnull=True).update(deleted_at=at, updated_at=now)
        thread = Comment.objects.get(pk=comment.parent_id or comment.pk)
        thread_refresh(thread)
    return True


def _comment_restore(comment: Comment, *, listed_at: datetime) -> bool:
    """Meta lists a comment marked removed before the list was read: it is there after all (a missed read, a
    removal undone). Shown again, with its thread's state."""
    if comment.deleted_at is None or comment.deleted_at >= listed_at:
        return False  # present, or removed while the list was being read (by the team, say): left as it is
    if not Comment.objects.filter(pk=comment.pk, deleted_at=comment.deleted_at).update(
        deleted_at=None, updated_at=timezone.now()
    ):
        return False
    comment.deleted_at = None
    thread = Comment.objects.get(pk=comment.parent_id or comment.pk)
    thread_refresh(thread)
    return True


def comment_set_hidden(*, channel: Channel, external_id: str, hidden: bool) -> bool:
    """Hidden or shown again on Meta. Returns whether anything changed; calling it again changes nothing."""
    return bool(
        Comment.objects.filter(channel=channel, external_id=external_id)
        .exclude(hidden=hidden)
        .update(hidden=hidden, updated_at=timezone.now())
    )


# --- webhooks -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Event:
    """One thing a webhook said about one account (`account_id` = the entry id: a Page id or an IG user id)."""

    object: str  # "page" | "instagram"
    account_id: str
    action: str  # "upsert" | "remove" | "hide" | "unhide" | "mention"
    comment: CommentData | None = None
    external_id: str = ""
    media_id: str = ""
    at: datetime | None = None
    permalink: str = ""


def _changes(entry: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    changes = entry.get("changes")
    if isinstance(changes, list):
        for change in changes:
            if isinstance(change, Mapping) and isinstance(change.get("value"), Mapping):
                yield str(change.get("field") or ""), change["value"]
    elif "field" in entry and isinstance(entry.get("value"), Mapping):  # Instagram Login: one change, flat
        yield str(entry.get("field") or ""), entry["value"]


def webhook_events(body: Any) -> list[Event]:
    """The comment events of one webhook body; whatever else it carries (reactions, posts, messages) is left out."""
    if isinstance(body, list):  # Meta's examples page wraps payloads in [ … ]
        return [event for part in body for event in webhook_events(part)]
    if not isinstance(body, Mapping):
        return []
    obj = str(body.get("object") or "")
    events: list[Event] = []
    for entry in body.get("entry") or []:
        if not isinstance(entry, Mapping) or not entry.get("id"):
            continue
        account_id = str(entry["id"])
        at = parse_time(entry.get("time")) or timezone.now()
        for field, value in _changes(entry):
            event = None
            if obj == "page" and field == "feed":
                event = _page_feed_event(account_id, value, at)
            elif obj == "instagram" and field in ("comments", "live_comments"):
                event = _ig_comment_event(account_id, value, at)
            elif obj == "instagram" and field == "mentions":
                event = _ig_mention_event(account_id, value, at)
            if event is not None:
                events.append(event)
    return events


def _page_feed_event(page_id: str, value: Mapping[str, Any], at: datetime) -> Event | None:
    if value.get("item") != "comment" or not value.get("comment_id"):
        return None
    verb = str(value.get("verb") or "")
    comment_id = str(value["comment_id"])
    post_id = str(value.get("post_id") or (value.get("post") or {}).get("id") or "")
    permalink = str((value.get("post") or {}).get("permalink_url") or "")
    if verb in ("add", "edited", "edit"):
        if not post_id:
            return None
        item = {
            "id": comment_id,
            "message": value.get("message"),
            "from": value.get("from"),
            "created_time": value.get("created_time"),
            "parent": {"id": value.get("parent_id")} if value.get("parent_id") else None,
        }
        data = page_comment_data(item, post_id=post_id, at=at)
        return Event("page", page_id, "upsert", comment=data, media_id=post_id, at=at, permalink=permalink)
    if verb == "remove":
        return Event("page", page_id, "remove", external_id=comment_id, media_id=post_id, at=at)
    if verb in ("hide", "unhide"):
        return Event("page", page_id, verb, external_id=comment_id, media_id=post_id, at=at)
    return None


def _ig_comment_event(ig_id: str, value: Mapping[str, Any], at: datetime) -> Event | None:
    comment_id = value.get("id") or value.get("comment_id")
    media_id = (value.get("media") or {}).get("id") or value.get("media_id")
    if not comment_id or not media_id:
        return None
    verb = str(value.get("verb") or "add")
    if verb == "remove":
        return Event("instagram", ig_id, "remove", external_id=str(comment_id), media_id=str(media_id), at=at)
    if verb in ("hide", "unhide"):
        return Event("instagram", ig_id, verb, external_id=str(comment_id), media_id=str(media_id), at=at)
    data = ig_comment_data({**value, "id": comment_id}, media_id=str(media_id), at=at)
    return Event("instagram", ig_id, "upsert", comment=data, media_id=str(media_id), at=at)


def _ig_mention_event(ig_id: str, value: Mapping[str, Any], at: datetime) -> Event | None:
    if not value.get("media_id"):
        return None
    return Event(
        "instagram",
        ig_id,
        "mention",
        external_id=str(value.get("comment_id") or ""),
        media_id=str(value["media_id"]),
        at=at,
    )


def webhook_channels(*, obj: str, account_id: str, app: str) -> list[Channel]:
    """Every active channel, in every workspace, that the delivery is about: the account it names, reached
    through the login whose app signed it (the Instagram app signs for Instagram-Login accounts)."""
    channels = Channel.objects.filter(external_id=account_id, status=ChannelStatus.ACTIVE).select_related("workspace")
    channels = channels.filter(platform=Platform.FACEBOOK_PAGE if obj == "page" else Platform.INSTAGRAM)
    if app == APP_INSTAGRAM:
        channels = channels.filter(connected_via=ConnectedVia.INSTAGRAM_LOGIN)
    elif app == APP_FACEBOOK:
        channels = channels.exclude(connected_via=ConnectedVia.INSTAGRAM_LOGIN)
    return list(channels.order_by("pk"))


def webhook_audience(body: Any, *, app: str) -> str:
    """Whom a signed delivery is about: "ours" (an active channel reached through the login of the app that signed
    it), "other_app" (only channels of the other login: a genuine delivery is never signed so, see the view) or
    "nobody" (no connected account: acknowledged and dropped)."""
    accounts: set[tuple[str, str]] = set()
    for part in body if isinstance(body, list) else [body]:
        if not isinstance(part, Mapping):
            continue
        obj = str(part.get("object") or "")
        for entry in part.get("entry") or []:
            if isinstance(entry, Mapping) and entry.get("id"):
                accounts.add((obj, str(entry["id"])))
    other = False
    for obj, account_id in accounts:
        if obj not in ("page", "instagram"):
            continue
        if webhook_channels(obj=obj, account_id=account_id, app=app):
            return "ours"
        if app != APP_EITHER and webhook_channels(obj=obj, account_id=account_id, app=APP_EITHER):
            other = True
    return "other_app" if other else "nobody"


def webhook_process(delivery_id: int) -> int:
    """Apply one stored webhook delivery to every channel it concerns. Returns how many events were applied.
    Safe to run again: storing is idempotent and a processed delivery is left alone. Meta is asked (from the
    worker, never the web request) for a post's caption and picture the first time comments arrive under it,
    for a parent the inbox does not have yet, and for what a mention says."""
    from .sync import event_apply

    delivery = WebhookDelivery.objects.filter(pk=delivery_id).first()
    if delivery is None or delivery.processed_at is not None:
        return 0
    payload = delivery.payload if isinstance(delivery.payload, Mapping) else {}
    app = str(payload.get("app") or APP_FACEBOOK)
    applied = 0
    for event in webhook_events(payload.get("body")):
        for channel in webhook_channels(obj=event.object, account_id=event.account_id, app=app):
            if event_apply(channel=channel, event=event):
                applied += 1
    WebhookDelivery.objects.filter(pk=delivery.pk).update(processed_at=timezone.now(), error="")
    return applied


def webhook_record_error(*, delivery_id: int, error: BaseException, final: bool) -> None:
    """Keep why processing failed, for operators. The last failure closes the delivery (the poll catches up)."""
    values: dict[str, Any] = {"error": f"{type(error).__name__}: {error}"[:2000]}
    if final:
        values["processed_at"] = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery_id, processed_at__isnull=True).update(**values)
