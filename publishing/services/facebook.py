"""Facebook Page publishing: text, link with a call-to-action button, one photo, several photos in one post,
video (resumable for large files), reel; then the permalink and the first comment.

References: seed 002 (Page /feed), specs Page.json (feed, photos, videos, video_reels), Meta's Reels
Publishing API (video_reels start → upload to rupload → finish with video_state=PUBLISHED) and the resumable
video upload (upload_phase start → transfer → finish). Photos and videos are sent as bytes (multipart or
rupload), so Meta never needs to reach this installation."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.services.channels import channel_client
from socialhub.graph import GraphClient, GraphError

from ..models import Delivery, DeliveryKind, PostMedia
from .media import local_copy
from .pipeline import DeliveryFailed, Outcome, Run, mark_published


def run(run: Run) -> Outcome:
    delivery = run.delivery
    client = channel_client(delivery.channel)
    if not delivery.remote_id and delivery.publish_started_at:
        _recover_unknown_publish(run, client)
    if not delivery.remote_id:
        publish = {
            DeliveryKind.FB_TEXT: _publish_feed,
            DeliveryKind.FB_LINK: _publish_feed,
            DeliveryKind.FB_PHOTO: _publish_photo,
            DeliveryKind.FB_PHOTOS: _publish_photos,
            DeliveryKind.FB_VIDEO: _publish_video,
            DeliveryKind.FB_REEL: _publish_reel,
        }[delivery.kind]  # type: ignore[index]
        outcome = publish(run, client)
        if outcome is not None:
            return outcome
    return _finish(run, client)


def _page(delivery: Delivery) -> str:
    return delivery.channel.external_id


def _items(delivery: Delivery) -> list[PostMedia]:
    return list(delivery.post.items.select_related("asset").order_by("position"))


def _feed_params(delivery: Delivery) -> dict[str, Any]:
    post = delivery.post
    params: dict[str, Any] = {}
    if delivery.caption:
        params["message"] = delivery.caption
    if post.link:
        params["link"] = post.link
        if post.cta_type:
            # seed 002: the button's link must be the post's own link.
            params["call_to_action"] = json.dumps({"type": post.cta_type, "value": {"link": post.link}})
    return params


def _publish_feed(run: Run, client: GraphClient, extra: dict[str, Any] | None = None) -> None:
    run.step("feed post")
    run.save(publish_started_at=timezone.now())
    answer = client.post(f"{_page(run.delivery)}/feed", data={**_feed_params(run.delivery), **(extra or {})})
    run.save(remote_id=answer["id"])


def _photo_upload(client: GraphClient, delivery: Delivery, item: PostMedia, *, published: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"published": "true" if published else "false"}
    if published and delivery.caption:
        data["message"] = delivery.caption
    if item.alt_text:
        data["alt_text_custom"] = item.alt_text
    with local_copy(item.asset) as path, path.open("rb") as fh:
        return client.post(
            f"{_page(delivery)}/photos",
            data=data,
            files={"source": (item.asset.original_name, fh, item.asset.mime_type or "image/jpeg")},
            timeout=settings.GRAPH_TIMEOUT_UPLOAD,
        )


def _publish_photo(run: Run, client: GraphClient) -> None:
    run.step("photo post")
    run.save(publish_started_at=timezone.now())
    answer = _photo_upload(client, run.delivery, _items(run.delivery)[0], published=True)
    run.save(remote_id=answer.get("post_id") or answer["id"])


def _publish_photos(run: Run, client: GraphClient) -> None:
    """Several photos in one post: upload each unpublished (invisible, so repeating one is harmless), then one
    feed post with `attached_media`."""
    delivery = run.delivery
    photo_ids = list(delivery.photo_ids)
    for item in _items(delivery)[len(photo_ids) :]:
        run.step(f"unpublished photo {len(photo_ids) + 1}")
        photo_ids.append(_photo_upload(client, delivery, item, published=False)["id"])
        run.save(photo_ids=photo_ids)
    attached = json.dumps([{"media_fbid": photo_id} for photo_id in photo_ids])
    _publish_feed(run, client, {"attached_media": attached})


def _video_state(client: GraphClient, video_id: str) -> tuple[str, dict[str, Any]]:
    """ "ready" | "processing" | "error", and the raw status (GET /{video-id}?fields=status)."""
    answer = client.get(video_id, fields="id,status,permalink_url")
    status = answer.get("status") or {}
    processing = (status.get("processing_phase") or {}).get("status")
    publishing = (status.get("publishing_phase") or {}).get("status")
    if status.get("video_status") == "error" or processing == "error":
        return "error", answer
    if status.get("video_status") == "ready" and publishing in (None, "complete"):
        return "ready", answer
    return "processing", answer


def _video_error(answer: dict[str, Any]) -> DeliveryFailed:
    status = answer.get("status") or {}
    errors = (status.get("processing_phase") or {}).get("errors") or []
    detail = "; ".join(e.get("message", "") for e in errors if e.get("message")) or "it could not be processed."
    return DeliveryFailed(f"Facebook could not process the video: {detail}")


def _wait_for_video(run: Run, client: GraphClient) -> Outcome | None:
    state, answer = _video_state(client, run.delivery.upload_id)
    if state == "error":
        raise _video_error(answer)
    if state == "processing":
        return Outcome.wait(settings.PUBLISH_POLL_SECONDS, "Facebook is processing the video.")
    permalink = answer.get("permalink_url") or ""
    if permalink.startswith("/"):
        permalink = f"https://www.facebook.com{permalink}"
    run.save(remote_id=run.delivery.upload_id, permalink=permalink)
    return None


def _publish_video(run: Run, client: GraphClient) -> Outcome | None:
    delivery = run.delivery
    if not delivery.upload_id:
        item = _items(delivery)[0]
        data = {"description": delivery.caption, "published": "true"}
        run.step("video upload")
        run.save(publish_started_at=timezone.now())
        if item.asset.size_bytes > settings.FB_VIDEO_RESUMABLE_THRESHOLD:
            video_id = _resumable_video_upload(run, client, item, data)
        else:
            with local_copy(item.asset) as path, path.open("rb") as fh:
                answer = client.post(
                    f"{_page(delivery)}/videos",
                    data=data,
                    files={"source": (item.asset.original_name, fh, item.asset.mime_type or "video/mp4")},
                    timeout=settings.GRAPH_TIMEOUT_UPLOAD,
                )
            video_id = answer["id"]
        run.save(upload_id=video_id)
    return _wait_for_video(run, client)


def _resumable_video_upload(run: Run, client: GraphClient, item: PostMedia, data: dict[str, Any]) -> str:
    """Large videos in chunks: upload_phase=start → transfer (until Meta asks for no more) → finish."""
    page = _page(run.delivery)
    start = client.post(f"{page}/videos", data={"upload_phase": "start", "file_size": str(item.asset.size_bytes)})
    session, video_id = start["upload_session_id"], start["video_id"]
    begin, end = int(start["start_offset"]), int(start["end_offset"])
    with local_copy(item.asset) as path, path.open("rb") as fh:
        while begin < end:
            fh.seek(begin)
            chunk = fh.read(end - begin)
            run.step(f"video chunk {begin}-{end}")
            answer = client.post(
                f"{page}/videos",
                data={"upload_phase": "transfer", "upload_session_id": session, "start_offset": str(begin)},
                files={"video_file_chunk": ("chunk", chunk, "application/octet-stream")},
                timeout=settings.GRAPH_TIMEOUT_UPLOAD,
            )
            begin, end = int(answer["start_offset"]), int(answer["end_offset"])
    client.post(f"{page}/videos", data={"upload_phase": "finish", "upload_session_id": session, **data})
    return video_id


def _publish_reel(run: Run, client: GraphClient) -> Outcome | None:
    delivery = run.delivery
    page = _page(delivery)
    item = _items(delivery)[0]
    if not delivery.upload_id:
        run.step("reel start")
        answer = client.post(f"{page}/video_reels", data={"upload_phase": "start"})
        run.save(upload_id=answer["video_id"])
    if delivery.upload_id not in delivery.uploaded_ids:
        run.step("reel upload")
        uri = f"{settings.META_RUPLOAD_URL}/video-upload/{settings.META_GRAPH_VERSION}/{delivery.upload_id}"
        with local_copy(item.asset) as path, path.open("rb") as fh:
            client.request(
                "POST",
                uri,
                headers={"offset": "0", "file_size": str(item.asset.size_bytes)},
                content=fh,
                timeout=settings.GRAPH_TIMEOUT_UPLOAD,
            )
        run.save(uploaded_ids=[*delivery.uploaded_ids, delivery.upload_id])
    if not delivery.publish_started_at:
        run.step("reel finish")
        run.save(publish_started_at=timezone.now())
        client.post(
            f"{page}/video_reels",
            data={
                "upload_phase": "finish",
                "video_id": delivery.upload_id,
                "video_state": "PUBLISHED",
                "description": delivery.caption,
            },
        )
    return _wait_for_video(run, client)


def _recover_unknown_publish(run: Run, client: GraphClient) -> None:
    """The last publishing call may have worked without us hearing back: look for the post before posting."""
    delivery = run.delivery
    started = delivery.publish_started_at or timezone.now()
    run.step("asked Meta about the last publish")
    if delivery.kind in (DeliveryKind.FB_VIDEO, DeliveryKind.FB_REEL):
        if delivery.upload_id:
            if delivery.kind == DeliveryKind.FB_REEL and not _reel_publish_requested(client, delivery.upload_id):
                run.save(publish_started_at=None)  # `finish` never arrived: send it again
            return  # the video exists; its processing is polled next
        for video in client.paginate(
            f"{_page(delivery)}/videos", fields="id,description,created_time", max_pages=2, params={"limit": 25}
        ):
            if video.get("description", "") == delivery.caption and _after(video.get("created_time"), started):
                run.save(upload_id=video["id"])
                return
        run.save(publish_started_at=None)
        return
    for post in client.paginate(
        f"{_page(delivery)}/published_posts",
        fields="id,message,created_time,permalink_url",
        max_pages=2,
        params={"limit": 25},
    ):
        if post.get("message", "") == delivery.caption and _after(post.get("created_time"), started):
            run.save(remote_id=post["id"], permalink=post.get("permalink_url") or "")
            return
    run.save(publish_started_at=None)


def _reel_publish_requested(client: GraphClient, video_id: str) -> bool:
    _, answer = _video_state(client, video_id)
    publishing = ((answer.get("status") or {}).get("publishing_phase") or {}).get("status")
    return publishing in ("in_progress", "complete")


def _after(created_time: str | None, started: Any) -> bool:
    moment = parse_datetime((created_time or "").replace("+0000", "+00:00"))
    return moment is not None and moment >= started - timedelta(minutes=2)


def _finish(run: Run, client: GraphClient) -> Outcome:
    delivery = run.delivery
    if not delivery.permalink:
        run.step("permalink")
        answer = client.get(delivery.remote_id, fields="id,permalink_url")
        permalink = answer.get("permalink_url") or ""
        run.save(permalink=f"https://www.facebook.com{permalink}" if permalink.startswith("/") else permalink)
    comment = delivery.post.first_comment.strip()
    if comment and not delivery.first_comment_id:
        if delivery.first_comment_started_at:
            for existing in client.paginate(f"{delivery.remote_id}/comments", fields="id,message", max_pages=3):
                if existing.get("message") == comment:
                    run.save(first_comment_id=existing["id"])
                    break
        if not delivery.first_comment_id:
            run.step("first comment")
            run.save(first_comment_started_at=timezone.now())
            try:
                answer = client.post(f"{delivery.remote_id}/comments", data={"message": comment})
            except GraphError as exc:
                if exc.retryable:
                    raise
                run.save(error_message=f"Published. The first comment could not be added: {exc.message}")
            else:
                run.save(first_comment_id=answer["id"])
    mark_published(run, remote_id=delivery.remote_id, permalink=delivery.permalink)
    return Outcome("published")
