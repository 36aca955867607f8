"""Instagram publishing: containers → processing → quota → media_publish → first comment.

Reference: seed 001 (IG User /media), seed 003 (resumable upload, content_publishing_limit), spec IGUser.json.
A container id does not mean success: video containers are processed asynchronously and polled (status_code
IN_PROGRESS → FINISHED | ERROR | EXPIRED). Containers not published within 24 hours expire; an expired one is
simply prepared again, since nothing was published from it.

Fewest calls: an image container is published without reading its status first (Meta answers 9007/2207027
"not ready" when it needs a moment, and only then is it checked); a video's first check waits a typical processing
time; the 24-hour quota is read only once SocialHub's own publishes on the account near it; the permalink is
learned from the inbox's and the insights' reads of the account's media, not read after each post.

Ahead of time: a video is uploaded and processed before the post's time (the dispatcher claims it
PUBLISH_PREPARE_AHEAD_SECONDS early); until the time, every wait goes back to the dispatcher as scheduled (so
the post can still be edited, moved or cancelled), and only `media_publish` waits for the time itself."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Min
from django.utils import timezone

from accounts.services.channels import channel_client
from socialhub.graph import GraphClient, GraphError
from socialhub.graph.errors import IG_SUBCODE_MESSAGES

from ..models import Delivery, DeliveryKind, DeliveryState, MediaAsset, PostMedia
from ..services.media import is_stored_locally, local_copy, public_url
from .base import (
    DeliveryFailed,
    Outcome,
    Run,
    RunOutcome,
    Unconfirmed,
    created_after,
    delivery_items,
    first_poll_seconds,
    poll_seconds,
    post_first_comment,
    same_text,
)

QUOTA_WINDOW = timedelta(hours=24)
QUOTA_SUBCODE = 2207042  # "reached maximum number of posts allowed in 24 hours" (code 9)
NOT_READY_SUBCODE = 2207027  # "the media is not ready for publishing, please wait for a moment" (code 9007)
# Meta's reference says `quota_total` is 50, live answers say 100: until Meta told us, assume the lower one.
QUOTA_TOTAL_ASSUMED = 50
QUOTA_TOTAL_KEY = "publishing:ig-quota-total:{}"
_SUBCODE_RE = re.compile(r"\b(2207\d{3})\b")
STATUS_FIELDS = "id,status_code,status"


class InstagramPublisher:
    def run(self, run: Run) -> Outcome:
        return publish(run)


def publish(run: Run) -> Outcome:
    delivery = run.delivery
    client = channel_client(delivery.channel)
    if not delivery.remote_id and delivery.publish_started_at:
        _recover_unknown_publish(run, client)
    if not delivery.remote_id:
        outcome = _prepare(run, client)  # may itself find that an earlier run's publish went through
        if outcome is not None:
            return _ahead_of_time(delivery, outcome)
    if not delivery.remote_id:
        if _not_due_yet(delivery):
            return Outcome.defer_until(delivery.due_at, _ready_words(delivery))  # type: ignore[arg-type]
        outcome = _check_quota(run, client)
        if outcome is not None:
            return outcome
        run.step("media_publish")
        tried_before = delivery.publish_tried_at
        run.save(publish_started_at=timezone.now())
        answer, refused = _media_publish(client, delivery)
        if refused:  # Meta refused it outright: nothing was published, so this try leaves no trace
            run.save(publish_started_at=None, publish_tried_at=tried_before)
            if refused == QUOTA_SUBCODE:
                return quota_wait(delivery, total=None)
            return Outcome.wait(
                settings.PUBLISH_NOT_READY_SECONDS,
                "Instagram is still processing the media.",
                subject=delivery.container_id,
            )
        run.save(remote_id=answer["id"], publish_confirmed_at=timezone.now())
    return _finish(run, client)


def _media_publish(client: GraphClient, delivery: Delivery) -> tuple[dict[str, Any], int | None]:
    """`media_publish`, and the subcode when Meta refused it with an answer that proves nothing went out: the
    container is not ready yet (9007/2207027) or the 24-hour quota is full (9/2207042). Every other error is
    raised for the pipeline to classify."""
    try:
        return (
            client.post(f"{delivery.channel.external_id}/media_publish", data={"creation_id": delivery.container_id}),
            None,
        )
    except GraphError as exc:
        if exc.subcode not in (NOT_READY_SUBCODE, QUOTA_SUBCODE):
            raise
        refused = exc.subcode
    return {}, refused


def _not_due_yet(delivery: Delivery) -> bool:
    return delivery.due_at is not None and timezone.now() < delivery.due_at


def _local_time(delivery: Delivery) -> str:
    return f"{timezone.localtime(delivery.due_at, delivery.post.workspace.zoneinfo):%H:%M}"


def _ready_words(delivery: Delivery) -> str:
    return f"Ready: Instagram has the media. It goes out at {_local_time(delivery)}."


def _ahead_of_time(delivery: Delivery, outcome: Outcome) -> Outcome:
    """Before the post's time a wait goes back to the dispatcher (scheduled, so a person may still edit, move or
    cancel the post) instead of holding the delivery as being published."""
    if outcome.kind != RunOutcome.POLL or not _not_due_yet(delivery):
        return outcome
    until = timezone.now() + timedelta(seconds=outcome.countdown)
    return Outcome.defer_until(until, f"{outcome.reason} It goes out at {_local_time(delivery)}.")


# --- containers ----------------------------------------------------------------------------------------------
def _container_params(delivery: Delivery, item: PostMedia | None, *, child: bool) -> dict[str, Any]:
    post = delivery.post
    params: dict[str, Any] = {}
    if child:
        params["is_carousel_item"] = "true"
    if item is not None:
        if item.user_tags and delivery.kind != DeliveryKind.IG_STORY:
            params["user_tags"] = json.dumps(item.user_tags)
        if item.product_tags and delivery.kind != DeliveryKind.IG_STORY:
            # Only what Meta takes: the product's name is kept for the composer, not sent.
            params["product_tags"] = json.dumps(
                [{k: tag[k] for k in ("product_id", "x", "y") if k in tag} for tag in item.product_tags]
            )
        # Meta takes alt text on feed images and carousel images only (not on stories, reels or videos).
        feed_image = delivery.kind in (DeliveryKind.IG_IMAGE, DeliveryKind.IG_CAROUSEL)
        if item.alt_text and feed_image and item.asset.kind == MediaAsset.Kind.IMAGE:
            params["alt_text"] = item.alt_text
    if not child:
        if delivery.kind != DeliveryKind.IG_STORY:
            params["caption"] = delivery.caption
            if post.location_id:
                params["location_id"] = post.location_id
            if post.collaborators:
                params["collaborators"] = json.dumps(post.collaborators)
        if delivery.kind == DeliveryKind.IG_REEL:
            params["share_to_feed"] = "true" if post.share_to_feed else "false"
            if post.audio_name:
                params["audio_name"] = post.audio_name
            if post.thumb_offset_ms is not None:
                params["thumb_offset"] = str(post.thumb_offset_ms)
            if post.cover_id:
                params["cover_url"] = public_url(post.cover)  # type: ignore[arg-type]
    return params


def _create_container(run: Run, client: GraphClient, item: PostMedia, *, child: bool) -> tuple[str, str]:
    """Create one container; returns (id, rupload URI or ""). Video stored locally goes by resumable upload."""
    delivery = run.delivery
    params = _container_params(delivery, item, child=child)
    asset = item.asset
    if asset.kind == MediaAsset.Kind.VIDEO:
        params["media_type"] = "VIDEO" if child else ("STORIES" if delivery.kind == DeliveryKind.IG_STORY else "REELS")
        if is_stored_locally(asset):
            params["upload_type"] = "resumable"
        else:
            params["video_url"] = public_url(asset)
    else:
        if delivery.kind == DeliveryKind.IG_STORY:
            params["media_type"] = "STORIES"
        params["image_url"] = public_url(asset)
    answer = client.post(f"{delivery.channel.external_id}/media", data=params)
    return answer["id"], params.get("upload_type") == "resumable" and answer.get("uri", "") or ""


def _needs_upload(delivery: Delivery, container_id: str, asset: MediaAsset) -> bool:
    return (
        asset.kind == MediaAsset.Kind.VIDEO and is_stored_locally(asset) and container_id not in delivery.uploaded_ids
    )


def _upload(run: Run, client: GraphClient, container_id: str, uri: str, asset: MediaAsset) -> None:
    """Send the video's bytes to the container's rupload URI (Authorization: OAuth, offset, file_size). Sent
    again in full if an earlier run's upload did not complete (seed 003: the URI stays the container's)."""
    uri = uri or f"{settings.META_RUPLOAD_URL}/ig-api-upload/{settings.META_GRAPH_VERSION}/{container_id}"
    run.step(f"upload {asset.original_name} → {container_id}")
    with local_copy(asset) as path, path.open("rb") as fh:
        client.request(
            "POST",
            uri,
            headers={"offset": "0", "file_size": str(asset.size_bytes)},
            content=fh,
            timeout=settings.GRAPH_TIMEOUT_UPLOAD,
        )
    run.save(uploaded_ids=[*run.delivery.uploaded_ids, container_id])


def _status(run: Run, client: GraphClient, container_id: str) -> dict[str, Any]:
    return run.read_status(client, container_id, STATUS_FIELDS)


def _container_error(status: dict[str, Any], what: str) -> DeliveryFailed:
    text = status.get("status") or ""
    match = _SUBCODE_RE.search(text)
    reason = IG_SUBCODE_MESSAGES.get(int(match.group(1))) if match else None
    return DeliveryFailed(f"Instagram could not prepare {what}: {reason or text or 'it reported an error.'}")


def _prepare(run: Run, client: GraphClient) -> Outcome | None:
    """Make sure the container(s) exist, are uploaded and FINISHED. Returns an Outcome when we must wait.
    Media handed over in this run is not checked at once: a video's first check waits a typical processing
    time, and an image made in this run is not checked at all (Meta says so at `media_publish` if it needs a
    moment). What an earlier run made is checked before it is used."""
    delivery = run.delivery
    items = delivery_items(delivery)
    just_sent: list[str] = []  # video containers created or uploaded by this run
    made_now: set[str] = set()  # image containers created by this run: not read back
    if delivery.kind == DeliveryKind.IG_CAROUSEL:
        children = list(delivery.child_container_ids)
        for index, item in enumerate(items):
            uri = ""
            if index >= len(children):
                run.step(f"child container {index + 1}")
                child_id, uri = _create_container(run, client, item, child=True)
                children.append(child_id)
                run.save(child_container_ids=children)
                if item.asset.kind == MediaAsset.Kind.VIDEO:
                    just_sent.append(child_id)
                else:
                    made_now.add(child_id)
            if _needs_upload(delivery, children[index], item.asset):
                _upload(run, client, children[index], uri, item.asset)
                just_sent.append(children[index])
        if just_sent:
            return _first_wait(just_sent[-1], "Instagram is processing the carousel's videos.")
        if not delivery.container_id:
            for index, child_id in enumerate(children):
                if child_id in made_now:
                    continue
                status = _status(run, client, child_id)
                code = status.get("status_code")
                if code == "EXPIRED":
                    return _restart(run, "A carousel item expired before publishing; preparing it again.")
                if code == "ERROR":
                    raise _container_error(status, f"carousel item {index + 1} ({items[index].asset.original_name})")
                if code != "FINISHED":
                    return Outcome.wait(
                        _processing_pause(items),
                        f"Instagram is processing carousel item {index + 1}.",
                        subject=child_id,
                    )
            run.step("carousel container")
            params = _container_params(delivery, None, child=False)
            params.update(media_type="CAROUSEL", children=",".join(children))
            answer = _create_carousel(client, delivery, params)
            if answer is None:  # Meta said an item is not ready: nothing was made
                return Outcome.wait(
                    settings.PUBLISH_NOT_READY_SECONDS,
                    "Instagram is still processing the carousel's items.",
                    subject="carousel",
                )
            run.save(container_id=answer["id"])
            made_now.add(answer["id"])
    else:
        uri = ""
        if not delivery.container_id:
            run.step("container")
            container_id, uri = _create_container(run, client, items[0], child=False)
            run.save(container_id=container_id)
            if items[0].asset.kind == MediaAsset.Kind.VIDEO:
                just_sent.append(container_id)
            else:
                made_now.add(container_id)
        if _needs_upload(delivery, delivery.container_id, items[0].asset):
            _upload(run, client, delivery.container_id, uri, items[0].asset)
            just_sent.append(delivery.container_id)
        if just_sent:
            return _first_wait(delivery.container_id, "Instagram is processing the video.")
    if delivery.container_id in made_now:
        return None
    status = _status(run, client, delivery.container_id)
    code = status.get("status_code")
    if code == "EXPIRED":
        return _restart(run, "The prepared post expired before publishing; preparing it again.")
    if code == "ERROR":
        raise _container_error(status, "the post")
    if code == "PUBLISHED":  # published by an earlier run whose answer was lost
        _recover_unknown_publish(run, client)
        return None
    if code != "FINISHED":
        return Outcome.wait(
            _processing_pause(items), "Instagram is processing the media.", subject=delivery.container_id
        )
    return None


def _create_carousel(client: GraphClient, delivery: Delivery, params: dict[str, Any]) -> dict[str, Any] | None:
    """The carousel container, or None when Meta answers that an item is not ready yet (9007/2207027)."""
    try:
        return client.post(f"{delivery.channel.external_id}/media", data=params)
    except GraphError as exc:
        if exc.subcode != NOT_READY_SUBCODE:
            raise
    return None


def _processing_pause(items: list[PostMedia]) -> float:
    """Images take a moment, videos minutes: the pause before the next check."""
    if any(item.asset.kind == MediaAsset.Kind.VIDEO for item in items):
        return poll_seconds()
    return settings.PUBLISH_NOT_READY_SECONDS


def _first_wait(container_id: str, reason: str) -> Outcome:
    return Outcome.wait(first_poll_seconds(), reason, subject=container_id)


def _restart(run: Run, reason: str) -> Outcome:
    """Containers expire unpublished after 24 hours; nothing went out, so they are made again (a new wait)."""
    run.step(reason)
    run.save(
        container_id="",
        child_container_ids=[],
        uploaded_ids=[],
        processing_since=None,
        waiting_for="",
        publish_tried_at=None,
    )
    return Outcome.wait(1, reason, subject="restart")


# --- quota -----------------------------------------------------------------------------------------------------
def _check_quota(run: Run, client: GraphClient) -> Outcome | None:
    """A full 24-hour quota waits for the window, it does not fail. SocialHub counts its own publishes on the
    account and asks Meta only once they near the limit (the last limit Meta gave, or the documented lower one);
    posts made elsewhere are caught by `media_publish` itself, which answers a full quota with 9/2207042."""
    delivery = run.delivery
    channel = delivery.channel
    total = cache.get(QUOTA_TOTAL_KEY.format(channel.pk)) or QUOTA_TOTAL_ASSUMED
    ours = Delivery.objects.filter(channel=channel, published_at__gte=timezone.now() - QUOTA_WINDOW).count()
    if ours * 100 < total * settings.PUBLISH_QUOTA_CHECK_PERCENT:
        return None
    run.step("content_publishing_limit")
    answer = client.get(f"{channel.external_id}/content_publishing_limit", fields="quota_usage,config")
    data = (answer.get("data") or [answer])[0]  # the reference wraps it in `data`; live answers may not
    used = int(data.get("quota_usage") or 0)
    total = int((data.get("config") or {}).get("quota_total") or 0)
    if total:
        cache.set(QUOTA_TOTAL_KEY.format(channel.pk), total, timeout=int(QUOTA_WINDOW.total_seconds()))
    if not total or used < total:
        return None
    return quota_wait(delivery, total=total)


def quota_wait(delivery: Delivery, *, total: int | None) -> Outcome:
    """Wait for the 24-hour window to free a slot: the oldest post SocialHub published in it leaves the window
    first (Meta does not say when; without local history, look again in an hour)."""
    window_start = timezone.now() - QUOTA_WINDOW
    oldest = Delivery.objects.filter(
        channel=delivery.channel, state=DeliveryState.PUBLISHED, published_at__gte=window_start
    ).aggregate(first=Min("published_at"))["first"]
    until = (oldest + QUOTA_WINDOW) if oldest else timezone.now() + timedelta(hours=1)
    until = max(until, timezone.now() + timedelta(minutes=1))
    local = timezone.localtime(until, delivery.post.workspace.zoneinfo)
    limit = f"Instagram's limit of {total} posts in 24 hours" if total else "Instagram's 24-hour posting limit"
    reason = (
        f"{delivery.channel.display_name} reached {limit}. "
        f"SocialHub will publish this at {local:%a %H:%M}, when the limit allows."
    )
    return Outcome.defer_until(until, reason, quota_full=True)


# --- after publishing --------------------------------------------------------------------------------------
def _recover_unknown_publish(run: Run, client: GraphClient) -> None:
    """The last `media_publish` may have worked without us hearing back. Ask Meta before publishing again:
    a PUBLISHED container means it did, and the new media is found among the account's latest posts. The
    status read here is the one the next step uses (Meta is not asked twice in a row)."""
    delivery = run.delivery
    if not delivery.container_id:
        run.save(publish_started_at=None)
        return
    code = _status(run, client, delivery.container_id).get("status_code")
    run.step(f"asked Meta about the last publish: container {code}")
    if code != "PUBLISHED":
        run.save(publish_started_at=None)
        return
    started = delivery.publish_started_at or timezone.now() - timedelta(hours=1)
    story = delivery.kind == DeliveryKind.IG_STORY
    # Stories are listed under /stories, without a caption (seed 001); everything else under /media.
    edge = "stories" if story else "media"
    claimed = set(
        Delivery.objects.filter(channel=delivery.channel)
        .exclude(pk=delivery.pk)
        .exclude(remote_id="")
        .values_list("remote_id", flat=True)
    )
    found = [
        media
        for media in client.paginate(
            f"{delivery.channel.external_id}/{edge}",
            fields="id,caption,timestamp,permalink",
            params={"limit": 25},
            max_pages=2,
        )
        if media.get("id") not in claimed
        and (story or same_text(media.get("caption"), delivery.caption))
        and created_after(media.get("timestamp"), started)
    ]
    if len(found) == 1:
        run.save(remote_id=found[0]["id"], permalink=found[0].get("permalink") or "")
        return
    raise Unconfirmed.among(
        "Unconfirmed: Instagram shows this post as published, but SocialHub cannot tell which post on the account "
        "it is. Check the account and mark the right one; it is not posted again.",
        found,
        text_field="caption",
        link_field="permalink",
    )


def _finish(run: Run, client: GraphClient) -> Outcome:
    """After `media_publish`: the first comment. The permalink is not read here: the inbox's poll and the
    insights sync read the account's media with their permalinks anyway (`posts.deliveries_learn_permalinks`)."""
    delivery = run.delivery
    comment = delivery.first_comment.strip()
    if comment and delivery.kind != DeliveryKind.IG_STORY and not delivery.first_comment_id:
        post_first_comment(run, client, comment, text_field="text")
    return Outcome.published()


PUBLISHER = InstagramPublisher()
