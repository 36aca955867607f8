"""Asynchronous media processing on the sandbox clock, shared by the Instagram and Page publishing endpoints.

Meta processes videos asynchronously: "Video uploads are asynchronous, so receiving a container ID does not
guarantee that the upload was successful" (seed 001); the container's status_code moves IN_PROGRESS →
FINISHED or ERROR, unpublished containers expire after 24 hours (content-publishing doc) → EXPIRED. Page
videos and reels report status.video_status processing → ready | error (Video API "status" field).

Nothing runs in the background: every read calls ``refresh_*`` which applies the transitions that are due
at the current sandbox time, so moving the clock (/__sandbox__/clock) moves processing too.
Uploaded bytes live beside the state (not saved with it).
"""

from __future__ import annotations

import random

from . import limits, seed
from .publish_errors import container_status_text


def delay(state, kind: str) -> float:
    p = state.data.setdefault("processing", {})
    key = f"{kind}_seconds"
    value = p.get(key)
    return float(value if value is not None else (limits.VIDEO_SECONDS if kind == "video" else limits.IMAGE_SECONDS))


def blobs(state) -> dict:
    return state.__dict__.setdefault("blobs", {})


def coll(state, key: str) -> dict:
    return state.data.setdefault(key, {})


def shortcode(state) -> str:
    rng = random.Random(f"{state.data['meta']['seed']}:sc:{state.new_id(8)}")
    return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") for _ in range(11))


# ------------------------------------------------------------------ Instagram containers
def refresh_container(state, c: dict) -> dict:
    now = state.clock.now()
    if c["status_code"] == "IN_PROGRESS" and c.get("ready_at") is not None and now >= c["ready_at"]:
        c["status_code"] = "ERROR" if c.get("error_subcode") else "FINISHED"
    if c["status_code"] in ("IN_PROGRESS", "FINISHED") and now >= c["created"] + limits.CONTAINER_TTL:
        c["status_code"] = "EXPIRED"
    return c


def start_processing(state, c: dict, kind: str, error_subcode: int | None):
    c["error_subcode"] = error_subcode
    c["ready_at"] = state.clock.now() + delay(state, kind)
    refresh_container(state, c)


def video_status(c: dict) -> dict:
    """IGResumableVideoUploadStatus: uploading_phase / processing_phase (spec)."""
    up = c.get("upload") or {}
    if c.get("kind") != "video":
        return {}
    if c.get("upload_type") == "resumable":
        size, got = up.get("file_size") or 0, up.get("received", 0)
        uploading = {"status": "complete" if up.get("done") else ("in_progress" if got else "not_started")}
        uploading["bytes_transferred"] = got
        if size:
            uploading["file_size"] = size
    else:
        uploading = {"status": "complete"}
    sc = c["status_code"]
    processing = {
        "IN_PROGRESS": "in_progress" if c.get("ready_at") is not None else "not_started",
        "ERROR": "error",
    }.get(sc, "complete")
    out = {"uploading_phase": uploading, "processing_phase": {"status": processing}}
    if sc == "ERROR":
        out["processing_phase"]["error"] = {"message": container_status_text("ERROR", c.get("error_subcode"))}
    return out


def container_values(c: dict) -> dict:
    v = {"id": c["id"], "status_code": c["status_code"]}
    v["status"] = container_status_text(c["status_code"], c.get("error_subcode"))
    vs = video_status(c)
    if vs:
        v["video_status"] = vs
    v["copyright_check_status"] = {"status": "not_started" if c["status_code"] == "IN_PROGRESS" else "complete"}
    return v


# ------------------------------------------------------------------ publishing quota (moving 24 h window)
def quota_total(state, ig_id: str) -> int:
    return int(coll(state, "quota").get(ig_id, limits.QUOTA_TOTAL))


def quota_usage(state, ig_id: str) -> int:
    now = state.clock.now()
    log = coll(state, "publish_log").setdefault(ig_id, [])
    log[:] = [t for t in log if t > now - limits.QUOTA_DURATION]
    return len(log)


def record_publish(state, ig_id: str):
    coll(state, "publish_log").setdefault(ig_id, []).append(state.clock.now())


# ------------------------------------------------------------------ Page posts
STATUS_FIELDS = {"status", "status_code", "video_status"}


def note_poll(ctx, obj: dict, label: str, fields) -> None:
    """Flag a status read (``fields`` asks for a status) of the same container/video sooner than
    POLL_MIN_INTERVAL after the previous one. Reading other fields (a permalink) is not a poll."""
    if not fields or not STATUS_FIELDS & {f.name for f in fields}:
        return
    now = ctx.state.clock.now()
    last = obj.get("polled_at")
    if last is not None and now - last < limits.POLL_MIN_INTERVAL:
        ctx.mark("flag", "poll_too_soon", f"{label} {obj['id']} polled {now - last:.1f} s after the previous poll")
    obj["polled_at"] = now


def new_post(
    state, page_id: str, *, message=None, status_type="mobile_status_update", published=True, ts=None, **extra
):
    now = state.clock.now() if ts is None else ts
    num = state.new_id(16, "1")
    post_id = f"{page_id}_{num}"
    post = {
        "id": post_id,
        "page_id": page_id,
        "message": message,
        "created_time": seed.iso(now),
        "ts": now,
        "updated_time": seed.iso(state.clock.now()),
        "is_published": published,
        "is_hidden": False,
        "permalink_url": f"https://www.facebook.com/{page_id}/posts/{num}",
        "status_type": status_type,
        "likes": 0,
        "comment_count": 0,
        "shares": 0,
    }
    post.update(extra)
    state.data["posts"][post_id] = post
    return post


def refresh_post(state, post: dict) -> dict:
    """A scheduled post goes live at its scheduled_publish_time (seed 002 is_published)."""
    when = post.get("scheduled_publish_time")
    if when and not post["is_published"] and state.clock.now() >= when:
        post["is_published"] = True
        post["ts"] = when
        post["created_time"] = seed.iso(when)
    return post


# ------------------------------------------------------------------ Page videos and reels
def refresh_video(state, v: dict) -> dict:
    now = state.clock.now()
    if v["video_status"] == "processing" and v.get("ready_at") is not None and now >= v["ready_at"]:
        v["video_status"] = "error" if v.get("error") else "ready"
    if v["video_status"] == "ready" and v.get("publish") and not v.get("post_id"):
        reel = v["kind"] == "reel"
        post = new_post(
            state,
            v["page_id"],
            message=v.get("description"),
            status_type="added_video",
            permalink_url=f"https://www.facebook.com/reel/{v['id']}" if reel else None,
            video_id=v["id"],
        )
        if not reel:
            post["permalink_url"] = f"https://www.facebook.com/{v['page_id']}/videos/{v['id']}"
        v["post_id"], v["published"], v["publish_time"] = post["id"], True, now
    return v


def video_status_values(v: dict) -> dict:
    """AdVideo.status: {video_status, uploading_phase, processing_phase, publishing_phase} (Video API)."""
    up = v.get("upload") or {}
    uploading = {"status": "complete" if up.get("done") else ("in_progress" if up.get("received") else "not_started")}
    uploading["bytes_transferred"] = up.get("received", 0)
    st = v["video_status"]
    if st == "processing" and not up.get("done"):
        st = "upload_in_progress" if up.get("received") else "upload_not_started"
    processing = {"status": {"ready": "complete", "error": "error"}.get(v["video_status"], "in_progress")}
    if not up.get("done") or (v["kind"] == "reel" and not v.get("finished")):
        processing["status"] = "not_started"
    if v.get("error"):
        processing["errors"] = [{"code": 1363019, "message": v["error"]}]  # (verify code)
    publishing = {"status": "complete" if v.get("post_id") else "not_started"}
    if v.get("post_id"):
        publishing["publish_status"] = "published"
        publishing["publish_time"] = int(v["publish_time"])
    return {
        "video_status": st,
        "uploading_phase": uploading,
        "processing_phase": processing,
        "publishing_phase": publishing,
    }
