"""Facebook Page publishing: text, link with a call-to-action button, one photo, several photos in one post,
video (resumable for large files), reel; then the first comment.

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

from accounts.services.channels import channel_client
from socialhub.graph import GraphClient

from ..models import Delivery, DeliveryKind, PostMedia
from ..services.media import local_copy
from .base import (
    DeliveryFailed,
    Outcome,
    Run,
    Unconfirmed,
    absolute_link,
    created_after,
    delivery_items,
    first_poll_seconds,
    poll_seconds,
    post_first_comment,
    same_text,
)

VIDEO_FIELDS = "id,status,permalink_url"
# After a lost answer Meta may take a moment to show that the call took: until then "not found" or "not started"
# is not proof that nothing happened, so the run looks again before sending anything a second time.
SETTLE = timedelta(minutes=2)
FAILED_VIDEO_STATUSES = ("error", "expired", "upload_failed")
# A video's processing phase that has begun: Meta only starts it once `finish` took.
STARTED_PHASES = ("in_progress", "complete", "error")


class FacebookPublisher:
    def run(self, run: Run) -> Outcome:
        return publish(run)


def publish(run: Run) -> Outcome:
    delivery = run.delivery
    client = channel_client(delivery.channel)
    if delivery.publish_started_at and not (delivery.remote_id or delivery.publish_confirmed_at):
        outcome = _recover_unknown_publish(run, client)
        if outcome is not None:
            return outcome
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


def _video_state(run: Run, client: GraphClient, video_id: str) -> tuple[str, dict[str, Any]]:
    """ "ready" | "processing" | "error", and the raw status (GET /{video-id}?fields=status)."""
    answer = run.read_status(client, video_id, VIDEO_FIELDS)
    status = answer.get("status") or {}
    processing = (status.get("processing_phase") or {}).get("status")
    publishing = (status.get("publishing_phase") or {}).get("status")
    if status.get("video_status") in FAILED_VIDEO_STATUSES or "error" in (processing, publishing):
        return "error", answer
    if status.get("video_status") == "ready" and publishing in (None, "complete"):
        return "ready", answer
    return "processing", answer


def _video_error(answer: dict[str, Any]) -> DeliveryFailed:
    status = answer.get("status") or {}
    errors = (status.get("processing_phase") or {}).get("errors") or []
    detail = "; ".join(e.get("message", "") for e in errors if e.get("message")) or "it could not be processed."
    return DeliveryFailed(f"Facebook could not process the video: {detail}")


def video_check_url(video_id: str) -> str:
    return f"https://www.facebook.com/{video_id}"


def _first_wait(run: Run) -> Outcome:
    """The video was just handed over: its first check waits a typical processing time."""
    return _processing(run, first_poll_seconds())


def _processing(run: Run, seconds: float) -> Outcome:
    video_id = run.delivery.upload_id
    return Outcome.wait(
        seconds,
        "Sent to Facebook; Meta is processing the video.",
        subject=video_id,
        sent=True,
        check_url=video_check_url(video_id),
    )


def _wait_for_video(run: Run, client: GraphClient) -> Outcome | None:
    state, answer = _video_state(run, client, run.delivery.upload_id)
    if state == "error":  # never public: a retry uploads it again from the start
        run.save(
            upload_id="", upload_session_id="", uploaded_ids=[], publish_started_at=None, publish_confirmed_at=None
        )
        raise _video_error(answer)
    if state == "processing":
        # Sent: it may go live by itself, so a slow wait is never answered with "upload it again".
        return _processing(run, poll_seconds())
    run.save(remote_id=run.delivery.upload_id, permalink=absolute_link(answer.get("permalink_url")))
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
        return _first_wait(run)
    return _wait_for_video(run, client)


class RepeatedOffset(Exception):
    """Meta asked for the same part of a video twice: the upload is not moving forward."""


def _resumable_video_upload(run: Run, client: GraphClient, item: PostMedia, data: dict[str, Any]) -> None:
    """Large videos in chunks: upload_phase=start → transfer (until Meta asks for no more) → finish. Nothing is
    public before `finish`, so an interrupted transfer is simply started again; a complete one (its video id in
    `uploaded_ids`) is kept, and only `finish` is sent again on its session. The run's lease is renewed with every
    chunk, and `finish` is only sent by a run that still holds it. If Meta answers a chunk by asking for the same
    offset again, the upload stops (it would loop for ever) and the run is retried from the start."""
    delivery = run.delivery
    page = _page(delivery)
    if not (delivery.upload_id and delivery.upload_session_id and delivery.upload_id in delivery.uploaded_ids):
        run.step("video upload start")
        start = client.post(f"{page}/videos", data={"upload_phase": "start", "file_size": str(item.asset.size_bytes)})
        run.save(upload_id=start["video_id"], upload_session_id=start["upload_session_id"], uploaded_ids=[])
        begin, end = int(start["start_offset"]), int(start["end_offset"])
        with local_copy(item.asset) as path, path.open("rb") as fh:
            while begin < end:
                fh.seek(begin)
                chunk = fh.read(end - begin)
                run.step(f"video chunk {begin}-{end}")
                answer = client.post(
                    f"{page}/videos",
                    data={
                        "upload_phase": "transfer",
                        "upload_session_id": delivery.upload_session_id,
                        "start_offset": str(begin),
                    },
                    files={"video_file_chunk": ("chunk", chunk, "application/octet-stream")},
                    timeout=settings.GRAPH_TIMEOUT_UPLOAD,
                )
                next_begin, end = int(answer["start_offset"]), int(answer["end_offset"])
                if next_begin <= begin:
                    run.save(upload_id="", upload_session_id="")
                    raise RepeatedOffset(f"Facebook asked for the part at byte {next_begin} again")
                begin = next_begin
                run.save()  # heartbeat: renews the lease, and stops here if another run took over
        run.save(uploaded_ids=[delivery.upload_id])
    run.step("video upload finish")
    run.save(publish_started_at=timezone.now())
    client.post(
        f"{page}/videos", data={"upload_phase": "finish", "upload_session_id": delivery.upload_session_id, **data}
    )
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
        return _first_wait(run)
    return _wait_for_video(run, client)


def _recover_unknown_publish(run: Run, client: GraphClient) -> Outcome | None:
    """The last publishing call's answer was lost. Ask Meta what happened before doing anything again; while
    Meta may not show it yet (SETTLE), look again later rather than send anything a second time."""
    delivery = run.delivery
    started = delivery.publish_started_at or timezone.now()
    run.step("asked Meta about the last publish")
    if delivery.kind == DeliveryKind.FB_REEL or (delivery.kind == DeliveryKind.FB_VIDEO and delivery.upload_id):
        # `finish` took if Meta started processing or publishing the video.
        if _finish_took(run, client, delivery.upload_id):
            run.save(publish_confirmed_at=timezone.now())
            return None
        if _settling(delivery):
            return _settle_wait(run, delivery.upload_id)
        run.save(publish_started_at=None)  # `finish` never arrived: it is sent again, on the same video
        return None
    if delivery.kind == DeliveryKind.FB_VIDEO:
        return _claim_listed(run, client, "videos", "description", started, id_field="upload_id")
    return _claim_listed(run, client, "published_posts", "message", started, id_field="remote_id")


def _settling(delivery: Delivery) -> bool:
    started = delivery.publish_started_at
    return started is not None and timezone.now() - started < SETTLE


def _settle_wait(run: Run, subject: str) -> Outcome:
    return Outcome.wait(
        poll_seconds(), "Checking with Facebook whether the last try went through.", subject=f"settle:{subject}"
    )


def _finish_took(run: Run, client: GraphClient, video_id: str) -> bool:
    _, answer = _video_state(run, client, video_id)
    status = answer.get("status") or {}
    phases = [(status.get(name) or {}).get("status") for name in ("processing_phase", "publishing_phase")]
    return any(phase in STARTED_PHASES for phase in phases)


def _claim_listed(
    run: Run, client: GraphClient, edge: str, text_field: str, started: Any, *, id_field: str
) -> Outcome | None:
    """Find the post (or video) an earlier run created on the Page. It is claimed only when it is provably this
    delivery's: created after this delivery's publish began, with this delivery's text, not claimed by another
    delivery, and the only such one. Without text to compare (and a new post on the Page), or with several
    matches, a person decides: the delivery is left unconfirmed with the candidates to check."""
    delivery = run.delivery
    link_field = "permalink_url"
    fields = f"id,{text_field},created_time,{link_field}"
    claimed = set(
        Delivery.objects.filter(channel=delivery.channel)
        .exclude(pk=delivery.pk)
        .values_list(id_field, flat=True)
        .exclude(**{id_field: ""})
    )
    new = [
        item
        for item in client.paginate(f"{_page(delivery)}/{edge}", fields=fields, max_pages=2, params={"limit": 25})
        if created_after(item.get("created_time"), started) and item.get("id") not in claimed
    ]
    # Meta keeps plain text as sent, so no new post with it means it did not go out. Without text, or with
    # mentions (`@[page-id]`, read back as names), nothing tells it apart from a person's post: any new one could be it.
    comparable = bool(delivery.caption) and "@[" not in delivery.caption
    found = [item for item in new if same_text(item.get(text_field), delivery.caption)] if comparable else new
    if not found:
        if _settling(delivery):  # a new post can take a moment to be listed
            return _settle_wait(run, delivery.public_id.hex)
        run.save(publish_started_at=None)  # it did not go out: publishing again is safe
        return None
    if comparable and len(found) == 1:
        item = found[0]
        if id_field == "upload_id":
            run.save(upload_id=item["id"], publish_confirmed_at=timezone.now())
        else:
            permalink = item.get(link_field) or ""
            run.save(remote_id=item["id"], permalink=permalink, publish_confirmed_at=timezone.now())
        return None
    raise Unconfirmed.among(
        "Unconfirmed: Facebook may have published this, and SocialHub cannot tell which post on the Page is this "
        "one. Check the Page, then mark it published or publish it again.",
        found,
        text_field=text_field,
        link_field=link_field,
    )


def _finish(run: Run, client: GraphClient) -> Outcome:
    """After the post is public: the first comment. The permalink is not read here (a video's comes with its
    status): the inbox's poll and the insights sync read the Page's posts with their links anyway."""
    delivery = run.delivery
    comment = delivery.first_comment.strip()
    if comment and not delivery.first_comment_id:
        post_first_comment(run, client, comment, text_field="message")
    return Outcome.published()


PUBLISHER = FacebookPublisher()
