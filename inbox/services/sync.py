"""Asking Meta for comments: the periodic poll that catches what webhooks missed (and backfills a new channel),
and the few reads a webhook needs (a post's caption and picture, a parent comment, what a mention says).

Polling reads the channel's recent media or Page posts, then their comments with replies, several media in one
batch request where the host serves batches (graph.facebook.com), newest comments first. It stops paging a
media's comments at a page holding nothing new or changed, and marks removed what Meta no longer lists in the
part it read. It holds back while Meta reports the channel's usage high, as publishing does.

Endpoints (graph-api reference §3.1, §3.2, §4.4): `GET /{ig-user-id}/media`, `GET /{ig-media-id}/comments`
(top-level only, `replies` by field expansion, at most 50 a page, newest first), `GET /{page-id}/published_posts`,
`GET /{post-id}/comments?filter=stream` (replies too, each with `parent`), and for Facebook-Login accounts only
(IGUser; IGUserForIGOnlyAPI has no such fields) `GET /{ig-user-id}?fields=mentioned_comment.comment_id(…){…}` /
`mentioned_media.media_id(…){…}`. Instagram-Login accounts hear of a mention as a `comments` webhook about media
that is not theirs: it is stored from the webhook alone, and that media is never polled."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import Channel, ChannelStatus, ConnectedVia, Platform
from accounts.services.channels import channel_client, channel_record_error
from publishing.services.posts import deliveries_learn_permalinks
from socialhub.graph import GraphAuthError, GraphClient, GraphError, GraphRateLimitError
from socialhub.graph.client import BatchRequest
from socialhub.graph.usage import wait_seconds

from ..models import ChannelSync, Comment, CommentKind, InboxPost
from .ingest import (
    CommentData,
    Event,
    ParentMissing,
    PostData,
    comment_mark_removed,
    comment_set_hidden,
    comment_upsert,
    ig_comment_data,
    ig_post_data,
    inbox_post_upsert,
    page_comment_data,
    page_post_data,
)

logger = logging.getLogger(__name__)

IG_MEDIA_FIELDS = "id,caption,permalink,media_type,media_url,thumbnail_url,timestamp,comments_count"
IG_MEDIA_FACTS = "caption,permalink,media_type,media_url,thumbnail_url,timestamp"
IG_COMMENT_FIELDS = "id,text,timestamp,username,from,hidden,like_count"
IG_COMMENTS_FIELDS = f"{IG_COMMENT_FIELDS},replies{{{IG_COMMENT_FIELDS}}}"
# `comments…summary` says how many comments (replies included) the post has, to skip the posts nothing happened on.
PAGE_POST_FIELDS = (
    "id,message,permalink_url,full_picture,created_time,comments.filter(stream).limit(0).summary(true){id}"
)
PAGE_POST_FACTS = "message,permalink_url,full_picture,created_time"
PAGE_COMMENT_FIELDS = "id,message,from,created_time,is_hidden,like_count,parent{id}"
MENTION_MEDIA_FIELDS = "id,caption,media_type,media_url,permalink,timestamp,username"

COMMENTS_PAGE = 50  # Meta's largest page of Instagram comments
MEDIA_PAGE = 25
# A new channel brings the comments of its posts of the last 30 days, or of its newest 25 posts if that is more.
BACKFILL_DAYS = 30
BACKFILL_MAX_PAGES = 4
ACTIVE_DAYS = 7  # later polls read posts made or commented on in the last week
MAX_COMMENT_PAGES = 20
REMOVAL_MARGIN = timedelta(minutes=2)
BATCH_SIZE = 50


@dataclass
class PollResult:
    media: int = 0
    stored: int = 0
    removed: int = 0
    postponed: float = 0.0  # seconds to wait: Meta's usage of this channel is high
    error: str = ""


def _usage_wait(channel: Channel) -> float:
    return wait_seconds(app_id=GraphClient(host=channel.graph_host).app_id, business_id=channel.external_id)  # type: ignore[arg-type]


def _sync_update(channel: Channel, **values: Any) -> None:
    ChannelSync.objects.update_or_create(channel=channel, defaults=values)


# --- single reads (webhooks) ----------------------------------------------------------------------------------
def _instagram(channel: Channel) -> bool:
    return channel.platform == Platform.INSTAGRAM


def fetch_post(client: GraphClient, channel: Channel, media_id: str) -> PostData | None:
    """The caption, picture and link of a post the inbox has not seen yet; None when Meta does not say (the next
    poll fills them in). A refused token is kept on the channel."""
    try:
        if _instagram(channel):
            return ig_post_data({**client.get(media_id, fields=IG_MEDIA_FACTS), "id": media_id})
        return page_post_data({**client.get(media_id, fields=PAGE_POST_FACTS), "id": media_id})
    except GraphAuthError as exc:
        channel_record_error(channel=channel, error=exc)
    except GraphError as exc:
        logger.info("post %s of channel %s not read: %s", media_id, channel.pk, exc.operator_details())
    return None


def fetch_comment(client: GraphClient, channel: Channel, comment_id: str, media_id: str) -> CommentData | None:
    try:
        if _instagram(channel):
            item = client.get(comment_id, fields=f"{IG_COMMENT_FIELDS},parent_id")
            return ig_comment_data(item, media_id=media_id)
        item = client.get(comment_id, fields=PAGE_COMMENT_FIELDS)
        return page_comment_data(item, post_id=media_id)
    except GraphAuthError as exc:
        channel_record_error(channel=channel, error=exc)
    except GraphError as exc:
        logger.info("comment %s of channel %s not read: %s", comment_id, channel.pk, exc.operator_details())
    return None


def fetch_mention(
    client: GraphClient, channel: Channel, *, comment_id: str, media_id: str
) -> tuple[CommentData, PostData] | None:
    """What a mention of a Facebook-Login account says: a comment on someone else's media, or that media's caption
    (IGUser's `mentioned_comment` / `mentioned_media`; Instagram-Login tokens have neither)."""
    me = channel.external_id
    try:
        if comment_id:
            answer = client.get(
                me,
                fields=f"mentioned_comment.comment_id({comment_id}){{id,text,timestamp,like_count,username,"
                f"media{{{MENTION_MEDIA_FIELDS}}}}}",
            )
            item = answer.get("mentioned_comment") or {}
            media = {"id": media_id, **(item.get("media") or {})}
            post = ig_post_data(media, is_mention=True)
            data = ig_comment_data({**item, "id": item.get("id") or comment_id}, media_id=media_id)
            return _as_mention(data), post
        answer = client.get(me, fields=f"mentioned_media.media_id({media_id}){{{MENTION_MEDIA_FIELDS}}}")
        media = {"id": media_id, **(answer.get("mentioned_media") or {})}
        post = ig_post_data(media, is_mention=True)
        # A caption mention is kept as a comment whose id is the media's and whose text is the caption.
        data = CommentData(
            external_id=media_id,
            media_id=media_id,
            parent_external_id=None,
            author_id="",
            author_name=str(media.get("username") or ""),
            text=post.caption,
            created_at=post.posted_at or timezone.now(),
            kind=CommentKind.MENTION,
        )
        return data, post
    except GraphAuthError as exc:
        channel_record_error(channel=channel, error=exc)
    except GraphError as exc:
        logger.info("mention %s/%s not read for channel %s: %s", media_id, comment_id, channel.pk, exc)
    return None


def _as_mention(data: CommentData) -> CommentData:
    return replace(data, kind=CommentKind.MENTION, parent_external_id=None)


def _instagram_login(channel: Channel) -> bool:
    return channel.platform == Platform.INSTAGRAM and channel.connected_via == ConnectedVia.INSTAGRAM_LOGIN


def ig_login_media(client: GraphClient, channel: Channel, media_id: str) -> tuple[PostData | None, bool]:
    """(the media's caption and picture, whether it is someone else's) for a `comments` webhook of an
    Instagram-Login account about media the inbox does not know: such an account reads only its own media, so
    Meta's "cannot be loaded" (100/33) means a stranger's post where the account was mentioned. Other refusals
    cannot tell: a passing one is raised (the delivery is tried again), a refused token is kept on the channel."""
    try:
        item = client.get(media_id, fields=f"{IG_MEDIA_FACTS},username")
    except GraphAuthError as exc:
        channel_record_error(channel=channel, error=exc)
        raise
    except GraphError as exc:
        if exc.code == 100 and exc.subcode == 33:
            return PostData(external_id=media_id, is_mention=True), True
        if exc.retryable:
            raise
        logger.info("media %s of channel %s not read: %s", media_id, channel.pk, exc.operator_details())
        return None, False
    owner = str(item.get("username") or "")
    theirs = bool(owner and channel.username and owner.casefold() != channel.username.casefold())
    return ig_post_data({**item, "id": media_id}, is_mention=theirs), theirs


def _upsert(
    client: GraphClient,
    channel: Channel,
    data: CommentData,
    post_data: PostData | None,
    *,
    depth: int = 0,
    apply_rules: bool = True,
    listed_at: datetime | None = None,
) -> tuple[Comment, bool] | None:
    """Store a comment; a reply whose parent the inbox lacks brings its parent first. None when the parent cannot
    be read (the next poll brings both)."""
    extra: dict[str, Any] = {"apply_rules": apply_rules, "listed_at": listed_at}
    try:
        return comment_upsert(channel=channel, data=data, post_data=post_data, **extra)
    except ParentMissing as missing:
        if depth >= 2:
            return None
        parent = fetch_comment(client, channel, missing.parent_external_id, data.media_id)
        if parent is None or _upsert(client, channel, parent, post_data, depth=depth + 1, **extra) is None:
            return None
        return comment_upsert(channel=channel, data=data, post_data=post_data, **extra)


def event_apply(*, channel: Channel, event: Event) -> bool:
    """Apply one webhook event to one channel. Returns whether it was used."""
    if event.action == "remove":
        comment_mark_removed(channel=channel, external_id=event.external_id, at=event.at or timezone.now())
        return True
    if event.action in ("hide", "unhide"):
        comment_set_hidden(channel=channel, external_id=event.external_id, hidden=event.action == "hide")
        return True
    try:
        client = channel_client(channel)
    except ValidationError:
        return False
    if event.action == "mention":
        if _instagram_login(channel):
            # Not sent to Instagram-Login accounts (their mentions come as `comments`), and not readable with
            # their tokens.
            return False
        found = fetch_mention(client, channel, comment_id=event.external_id, media_id=event.media_id)
        if found is None:
            return False
        data, post_data = found
        return comment_upsert(channel=channel, data=data, post_data=post_data) is not None
    if event.action != "upsert" or event.comment is None:
        return False
    data, post_data = event.comment, None
    known = InboxPost.objects.filter(channel=channel, external_id=event.media_id).values_list("is_mention", flat=True)
    if known:
        if known[0] and _instagram_login(channel):
            data = _as_mention(data)
    elif _instagram_login(channel):
        try:
            post_data, theirs = ig_login_media(client, channel, event.media_id)
        except GraphAuthError:
            return False  # the channel asks for a reconnect; the poll brings its comments afterwards
        if theirs:
            data = _as_mention(data)
    else:
        post_data = fetch_post(client, channel, event.media_id)
        if post_data is None and event.permalink:
            post_data = PostData(external_id=event.media_id, permalink=event.permalink)
    if data.kind == CommentKind.MENTION:
        # Stored from the webhook alone: there is nothing more an Instagram-Login token may read about it.
        return comment_upsert(channel=channel, data=data, post_data=post_data) is not None
    return _upsert(client, channel, data, post_data) is not None


# --- polling --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Listed:
    data: PostData
    meta_count: int | None  # comments Meta counts under it (replies included); None when it did not say


@dataclass
class _MediaPoll:
    """One media's comments as read in this poll."""

    inbox_post: InboxPost
    path: str
    items: list[CommentData] = field(default_factory=list)
    complete: bool = False  # every comment of the media was listed
    failed: bool = False  # Meta did not answer for this media: nothing to store or mark removed
    after: str = ""  # the cursor of the next page
    oldest: datetime | None = None  # the oldest comment listed (when not complete)
    partial_threads: set[str] = field(default_factory=set)  # Instagram threads whose replies were not all listed


def channel_poll(channel: Channel, *, backfill: bool = False) -> PollResult:
    """Read the channel's recent posts and their comments from Meta and store what is new, changed or gone.
    `backfill`: the first read of a new channel (its posts of the last 30 days, or its newest 25 if that is more).
    Holds back (`postponed`) while Meta reports the channel's usage high; a refused token asks for a reconnect."""
    if channel.status != ChannelStatus.ACTIVE:
        return PollResult(error=f"{channel.display_name} is not connected.")
    wait = _usage_wait(channel)
    if wait > 0:
        return PollResult(postponed=wait)
    try:
        client = channel_client(channel)
        result = _poll(client, channel, backfill=backfill)
    except ValidationError as exc:  # no token to ask with
        return PollResult(error=" ".join(exc.messages))
    except GraphAuthError as exc:
        channel_record_error(channel=channel, error=exc)
        _sync_update(channel, poll_error=exc.message)
        return PollResult(error=exc.message)
    except GraphError as exc:
        message = exc.message
        _sync_update(channel, poll_error=message)
        return PollResult(error=message, postponed=(exc.retry_after or 0.0) if exc.retryable else 0.0)
    values: dict[str, Any] = {"polled_at": timezone.now(), "poll_error": ""}
    if backfill:
        values["backfilled_at"] = values["polled_at"]
    _sync_update(channel, **values)
    return result


def _poll(client: GraphClient, channel: Channel, *, backfill: bool) -> PollResult:
    """Read, then store: what was read is stored even when Meta asked to slow down halfway (the error is raised
    after, so the channel's bookkeeping says so and a backfill is tried again)."""
    started = timezone.now()
    listed = _list_media(client, channel, backfill=backfill, now=started)
    # Publishing asks Meta for no link once a post is out: it learns it from this list, read anyway.
    deliveries_learn_permalinks(channel_id=channel.pk, links={e.data.external_id: e.data.permalink for e in listed})
    polls = _media_to_poll(channel, listed, backfill=backfill, now=started)
    result = PollResult(media=len(polls))
    throttled = _read_first_pages(client, channel, polls)
    for poll in polls:
        if throttled is not None:
            break
        if poll.complete or poll.failed:
            continue
        wait = _usage_wait(channel)
        if wait > 0:  # Meta's usage of the channel got high: the rest waits for the next poll
            result.postponed = wait
            break
        throttled = _read_more(client, channel, poll)
    for poll in polls:
        # A backfill brings a month of comments people have seen already: rules act only on what arrives from now.
        result.stored += _store(client, channel, poll, apply_rules=not backfill, listed_at=started)
        result.removed += _mark_gone(channel, poll, listed_before=started)
    if throttled is not None:
        raise throttled
    return result


def _list_media(client: GraphClient, channel: Channel, *, backfill: bool, now: datetime) -> list[_Listed]:
    """The channel's newest posts, with how many comments Meta counts on each. A backfill reads on while posts
    are younger than 30 days (the newest 25 in any case)."""
    if _instagram(channel):
        path, fields, convert = f"{channel.external_id}/media", IG_MEDIA_FIELDS, ig_post_data
    else:
        path, fields, convert = f"{channel.external_id}/published_posts", PAGE_POST_FIELDS, page_post_data
    since = now - timedelta(days=BACKFILL_DAYS)
    listed: list[_Listed] = []
    pages = BACKFILL_MAX_PAGES if backfill else 1
    for item in client.paginate(path, params={"limit": MEDIA_PAGE}, fields=fields, max_pages=pages):
        data = convert(item)
        if len(listed) >= MEDIA_PAGE and (data.posted_at is None or data.posted_at < since):
            break  # newest first: the rest is older still
        listed.append(_Listed(data, _meta_count(item)))
    return listed


def _meta_count(item: Mapping[str, Any]) -> int | None:
    """How many comments (replies included) Meta counts under a media or post; None when it did not say."""
    comments = item.get("comments")
    raw = (comments.get("summary") or {}).get("total_count") if isinstance(comments, Mapping) else None
    raw = item.get("comments_count", raw)
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


def _media_to_poll(channel: Channel, listed: list[_Listed], *, backfill: bool, now: datetime) -> list[_MediaPoll]:
    """Backfill: every listed post with comments. Later polls: posts made or commented on in the last week, and
    posts where Meta counts other comments than the inbox holds (a missed webhook, a removal). Only the listed
    posts and those commented on lately are looked up here, however long the channel's history; someone else's
    media (a mention) is never polled."""
    active_since = now - timedelta(days=ACTIVE_DAYS)
    listed_ids = {entry.data.external_id for entry in listed}
    wanted = Q(external_id__in=listed_ids)
    if not backfill:
        wanted |= Q(last_comment_at__gte=active_since)
    known = {p.external_id: p for p in InboxPost.objects.filter(wanted, channel=channel)}
    listed_posts = {p.pk: p.external_id for p in known.values() if p.external_id in listed_ids and not p.is_mention}
    counts = (
        Comment.objects.filter(inbox_post_id__in=listed_posts, deleted_at__isnull=True)
        .values_list("inbox_post_id")
        .annotate(n=Count("pk"))
        .values_list("inbox_post_id", "n")
    )
    held = {listed_posts[post_pk]: n for post_pk, n in counts}
    polls: list[_MediaPoll] = []
    seen: set[str] = set()
    for entry in listed:
        data, meta_count = entry.data, entry.meta_count
        stored = known.get(data.external_id)
        if stored is not None and stored.is_mention:
            continue
        has_comments = meta_count is None or meta_count > 0 or data.external_id in held
        posted_lately = data.posted_at is None or data.posted_at >= active_since
        commented = stored is not None and stored.last_comment_at is not None and stored.last_comment_at >= active_since
        differs = meta_count is not None and meta_count != held.get(data.external_id, 0)
        if has_comments and (backfill or posted_lately or commented or differs):
            inbox_post, _ = inbox_post_upsert(channel=channel, data=data)
            polls.append(_MediaPoll(inbox_post, _comments_path(data.external_id)))
            seen.add(data.external_id)
    if not backfill:
        # Older posts that are still being commented on (beyond the newest 25).
        for inbox_post in known.values():
            active = inbox_post.last_comment_at is not None and inbox_post.last_comment_at >= active_since
            if active and not inbox_post.is_mention and inbox_post.external_id not in seen:
                polls.append(_MediaPoll(inbox_post, _comments_path(inbox_post.external_id)))
    return polls


def _comments_path(media_id: str) -> str:
    return f"{media_id}/comments"


def _comment_params(channel: Channel) -> tuple[dict[str, Any], str]:
    if _instagram(channel):
        return {"limit": COMMENTS_PAGE}, IG_COMMENTS_FIELDS
    # `stream` lists replies too (each with its parent); newest first, like Instagram, so paging can stop early.
    return {"limit": COMMENTS_PAGE, "filter": "stream", "order": "reverse_chronological"}, PAGE_COMMENT_FIELDS


def _read_first_pages(client: GraphClient, channel: Channel, polls: list[_MediaPoll]) -> GraphError | None:
    """The newest page of comments of every media, in batch requests where the host serves them. Returns Meta's
    request to slow down, if one came; a refused token ends the poll at once."""
    params, fields = _comment_params(channel)
    answers: list[dict[str, Any] | GraphError] = []
    if client.host == "facebook" and len(polls) > 1:
        for start in range(0, len(polls), BATCH_SIZE):
            chunk = polls[start : start + BATCH_SIZE]
            answers += client.batch([BatchRequest(p.path, params=params, fields=fields) for p in chunk])
    else:  # graph.instagram.com serves no batch requests
        for poll in polls:
            try:
                answers.append(client.get(poll.path, params=params, fields=fields))
            except GraphRateLimitError as exc:
                answers += [exc] * (len(polls) - len(answers))
                break
            except GraphError as exc:
                answers.append(exc)
    throttled: GraphError | None = None
    for poll, answer in zip(polls, answers, strict=True):
        if isinstance(answer, GraphAuthError):
            raise answer
        if isinstance(answer, GraphError):
            poll.failed = True
            if isinstance(answer, GraphRateLimitError):
                throttled = throttled or answer
            else:
                logger.info("comments of %s not read: %s", poll.inbox_post.external_id, answer.operator_details())
            continue
        _take_page(channel, poll, answer)
    return throttled


def _take_page(channel: Channel, poll: _MediaPoll, answer: Mapping[str, Any]) -> bool:
    """Add one page of comments to the poll; returns whether it held anything new or changed."""
    items = [i for i in answer.get("data") or [] if isinstance(i, Mapping) and i.get("id")]
    media_id = poll.inbox_post.external_id
    page: list[CommentData] = []
    for item in items:
        if _instagram(channel):
            page.append(ig_comment_data(item, media_id=media_id))
            replies = item.get("replies") or {}
            reply_items = [r for r in replies.get("data") or [] if isinstance(r, Mapping) and r.get("id")]
            if (replies.get("paging") or {}).get("next"):
                poll.partial_threads.add(str(item["id"]))
            page += [ig_comment_data(r, media_id=media_id, parent_id=str(item["id"])) for r in reply_items]
        else:
            page.append(page_comment_data(item, post_id=media_id))
    poll.items += page
    paging = answer.get("paging") or {}
    after = (paging.get("cursors") or {}).get("after")
    if not paging.get("next") or not after:
        poll.complete = True
    else:
        poll.after = str(after)
    times = [c.created_at for c in page if c.parent_external_id is None or not _instagram(channel)]
    if times:
        oldest = min(times)
        poll.oldest = oldest if poll.oldest is None else min(poll.oldest, oldest)
    return _has_news(channel, page)


def _has_news(channel: Channel, page: list[CommentData]) -> bool:
    if not page:
        return False
    stored = {
        c.external_id: c
        for c in Comment.objects.filter(channel=channel, external_id__in=[d.external_id for d in page]).only(
            "external_id", "text", "hidden", "deleted_at"
        )
    }
    for data in page:
        comment = stored.get(data.external_id)
        if comment is None or comment.deleted_at is not None:
            return True
        if (data.text and data.text != comment.text) or (data.hidden is not None and data.hidden != comment.hidden):
            return True
    return False


def _read_more(client: GraphClient, channel: Channel, poll: _MediaPoll) -> GraphError | None:
    """Page on while pages bring something new or changed. Returns Meta's request to slow down, if one came."""
    if not _has_news(channel, poll.items):
        return None  # the newest page held nothing new: the rest is known
    params, fields = _comment_params(channel)
    for _ in range(MAX_COMMENT_PAGES):
        if poll.complete:
            return None
        try:
            answer = client.get(poll.path, params={**params, "after": poll.after}, fields=fields)
        except GraphRateLimitError as exc:
            return exc
        except GraphAuthError:
            raise
        except GraphError as exc:
            logger.info("comments of %s read in part: %s", poll.inbox_post.external_id, exc.operator_details())
            return None
        if not _take_page(channel, poll, answer):
            return None
    return None


def _ordered(items: Iterable[CommentData]) -> Iterator[CommentData]:
    """Parents before their replies, each group oldest first, one entry per comment."""
    unique = {c.external_id: c for c in items}
    tops = sorted((c for c in unique.values() if not c.parent_external_id), key=lambda c: c.created_at)
    replies = sorted((c for c in unique.values() if c.parent_external_id), key=lambda c: c.created_at)
    yield from tops
    yield from replies


def _store(client: GraphClient, channel: Channel, poll: _MediaPoll, *, apply_rules: bool, listed_at: datetime) -> int:
    stored = 0
    for data in _ordered(poll.items):
        found = _upsert(client, channel, data, None, apply_rules=apply_rules, listed_at=listed_at)
        if found is not None and found[1]:
            stored += 1
    return stored


def _mark_gone(channel: Channel, poll: _MediaPoll, *, listed_before: datetime) -> int:
    """Comments of the part of the media that was read which Meta no longer lists were removed on Meta. Only
    comments stored before the read count (one arriving by webhook meanwhile is not in what was read)."""
    if poll.failed or (not poll.complete and poll.oldest is None):
        return 0
    seen = {c.external_id for c in poll.items}
    candidates = Comment.objects.filter(
        inbox_post=poll.inbox_post, deleted_at__isnull=True, received_at__lt=listed_before
    ).exclude(external_id__in=seen)
    if not poll.complete:
        # Only comments clearly newer than the oldest one read: others written in the same moments may sit on the
        # next page, and a webhook's time can be a little later than the comment's own.
        candidates = candidates.filter(created_at__gt=poll.oldest + REMOVAL_MARGIN)
    if _instagram(channel):
        # Instagram lists replies under their comment: only threads read in full say which replies are gone.
        read_threads = {c.external_id for c in poll.items if c.parent_external_id is None} - poll.partial_threads
        candidates = candidates.filter(parent__isnull=True) | candidates.filter(parent__external_id__in=read_threads)
    removed = 0
    now = timezone.now()
    for comment in candidates.exclude(kind=CommentKind.MENTION).only("external_id"):
        if comment_mark_removed(channel=channel, external_id=comment.external_id, at=now):
            removed += 1
    return removed
