"""Facebook Page publishing: text, link with a call-to-action button, one photo, several photos in one post,
video (resumable for large files), reel; then the permalink and the first comment.

References: seed 002 (Page /feed), specs Page.json (feed, photos, videos, video_reels), Meta's Reels
Publishing API (video_reels start → upload to rupload → finish with video_state=PUBLISHED) and the resumable
video upload (upload_phase start → transfer → finish). Photos and videos are sent as bytes (multipart or
rupload), so Meta never needs to reach this installation."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.services.channels import channel_client
from socialhub.graph import GraphClient

from ..models import Delivery, DeliveryKind, PostMedia
from .media import local_copy
from .pipeline import (
    DeliveryFailed,
    Outcome,
    Run,
    created_after,
    delivery_items,
    mark_published,
    post_first_comment,
    same_text,
)


def run(run: Run) -> Outcome:
    delivery = run.delivery
    client = channel_client(delivery.channel)
    if delivery.publish_started_at and not (delivery.remote_id or delivery.publish_confirmed_at):
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
    answer = _photo_upload(client, run.delivery, delivery_items(run.delivery)[0], published=True)
    run.save(remote_id=answer.get("post_id") or answer["id"])


def _publish_photos(run: Run, client: GraphClient) -> None:
    """Several photos in one post: upload each unpublished (invisible, so repeating one is harmless), then one
    feed post with `attached_media`."""
    delivery = run.delivery
    photo_ids = list(delivery.photo_ids)
    for item in delivery_items(delivery)[len(photo_ids) :]:
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
    if not delivery.publish_confirmed_at:
        item = delivery_items(delivery)[0]
        data = {"description": delivery.caption, "published": "true"}
        if item.asset.size_bytes > settings.FB_VIDEO_RESUMABLE_THRESHOLD:
            _resumable_video_upload(run, client, item, data)
        else:
            run.step("video upload")
            run.save(publish_started_at=timezone.now())
            with local_copy(item.asset) as path, path.open("rb") as fh:
                answer = client.post(
                    f"{_page(delivery)}/videos",
                    data=data,
                    files={"source": (item.asset.original_name, fh, item.asset.mime_type or "video/mp4")},
                    timeout=settings.GRAPH_TIMEOUT_UPLOAD,
                )
            run.save(upload_id=answer["id"], publish_confirmed_at=timezone.now())
    return _wait_for_video(run, client)


def _resumable_video_upload(run: Run, client: GraphClient, item: PostMedia, data: dict[str, Any]) -> None:
    """Large videos in chunks: upload_phase=start → transfer (until Meta asks for no more) → finish. Nothing is
    public before `finish`, so an interrupted upload is simply started again; the run's lease is renewed with
    every chunk, and `finish` is only sent by a run that still holds it."""
    page = _page(run.delivery)
    run.step("video upload start")
    start = client.post(f"{page}/videos", data={"upload_phase": "start", "file_size": str(item.asset.size_bytes)})
    session, video_id = start["upload_session_id"], start["video_id"]
    run.save(upload_id=video_id)
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
            run.save()  # heartbeat: renews the lease, and stops here if another run took over
    run.step("video upload finish")
    run.save(publish_started_at=timezone.now())
    client.post(f"{page}/videos", data={"upload_phase": "finish", "upload_session_id": session, **data})
    run.save(publish_confirmed_at=timezone.now())


def _publish_reel(run: Run, client: GraphClient) -> Outcome | None:
    delivery = run.delivery
    page = _page(delivery)
    item = delivery_items(delivery)[0]
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
    if not delivery.publish_confirmed_at:
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
        run.save(publish_confirmed_at=timezone.now())
    return _wait_for_video(run, client)


def _recover_unknown_publish(run: Run, client: GraphClient) -> None:
    """The last publishing call's answer was lost. Ask Meta what happened before doing anything again."""
    delivery = run.delivery
    started = delivery.publish_started_at or timezone.now()
    run.step("asked Meta about the last publish")
    if delivery.kind == DeliveryKind.FB_REEL:
        # `finish` names the reel's own video id: sending it again cannot make a second reel.
        if _phase(client, delivery.upload_id, "publishing_phase") == "complete":
            run.save(publish_confirmed_at=timezone.now())
        else:
            run.save(publish_started_at=None)
        return
    if delivery.kind == DeliveryKind.FB_VIDEO:
        if delivery.upload_id:  # chunked: did `finish` take? Processing starts only after it.
            if _phase(client, delivery.upload_id, "processing_phase") not in (None, "not_started"):
                run.save(publish_confirmed_at=timezone.now())
            else:  # never finished, so never public: upload it again from the start
                run.save(upload_id="", publish_started_at=None)
            return
        _claim_listed(run, client, "videos", "description", started, id_field="upload_id")
        return
    _claim_listed(run, client, "published_posts", "message", started, id_field="remote_id")


def _phase(client: GraphClient, video_id: str, phase: str) -> str | None:
    _, answer = _video_state(client, video_id)
    return ((answer.get("status") or {}).get(phase) or {}).get("status")


def _claim_listed(run: Run, client: GraphClient, edge: str, text_field: str, started: Any, *, id_field: str) -> None:
    """Find the post (or video) an earlier run created on the Page after `started`, by its text. Without text
    to match, only a single new item is taken as ours; several are left for a person to check."""
    delivery = run.delivery
    fields = f"id,{text_field},created_time" + (",permalink_url" if edge == "published_posts" else "")
    found = [
        item
        for item in client.paginate(f"{_page(delivery)}/{edge}", fields=fields, max_pages=2, params={"limit": 25})
        if created_after(item.get("created_time"), started)
        and (not delivery.caption or same_text(item.get(text_field), delivery.caption))
    ]
    if not found:
        run.save(publish_started_at=None)  # nothing went out: publishing again is safe
        return
    if not delivery.caption and len(found) > 1:
        raise DeliveryFailed(
            "Facebook may have published this already, and several new posts without text make it impossible to "
            "tell. Check the Page before retrying, so it is not posted twice."
        )
    item = found[0]
    if id_field == "upload_id":
        run.save(upload_id=item["id"], publish_confirmed_at=timezone.now())
    else:
        run.save(remote_id=item["id"], permalink=item.get("permalink_url") or "", publish_confirmed_at=timezone.now())


def _finish(run: Run, client: GraphClient) -> Outcome:
    delivery = run.delivery
    if not delivery.permalink:
        run.step("permalink")
        answer = client.get(delivery.remote_id, fields="id,permalink_url")
        permalink = answer.get("permalink_url") or ""
        run.save(permalink=f"https://www.facebook.com{permalink}" if permalink.startswith("/") else permalink)
    comment = delivery.post.first_comment.strip()
    if comment and not delivery.first_comment_id:
        post_first_comment(run, client, comment, text_field="message")
    mark_published(run, remote_id=delivery.remote_id, permalink=delivery.permalink)
    return Outcome("published")
