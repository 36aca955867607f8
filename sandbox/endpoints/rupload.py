"""rupload.facebook.com — video bytes for resumable uploads.

- POST /ig-api-upload/{v}/{container-id} (seed 003, Instagram resumable-uploads guide): headers
  ``Authorization: OAuth <token>``, ``offset``, ``file_size`` and the raw bytes, or a ``file_url`` header for a
  hosted file → {"success": true, "message": "Upload successful."} (verify text). Chunks must arrive at the
  offset already received; the container starts processing once file_size bytes are in.
- POST /video-upload/{v}/{video-id} (Reels Publishing API, Page video_reels): same headers → {"success": true}.
Errors come as {"debug_info": {"retriable", "type", "message"}} (verify shape).
"""

from __future__ import annotations

from .. import auth, errors, limits, processing
from .. import publish_errors as pe
from ..app import RUPLOAD, route
from ..media_fetch import FetchError, fetch, probe_video, video_problem


def _token(ctx, platform):
    authz = ctx.headers.get("Authorization", "")
    value = authz[len("OAuth ") :].strip() if authz.startswith("OAuth ") else None
    if not value:
        return None, pe.upload_error("Authorization header with 'OAuth <access token>' is required", 401, "AuthError")
    try:
        return auth.lookup(ctx.state, value, platform), None
    except errors.MetaError as exc:
        return None, pe.upload_error(exc.message, 401, "AuthError")


def _receive(ctx, up: dict, blob_key: str):
    """Take one chunk (or a file_url) into ``up``; return an error tuple or None. Meta resumes from ``offset``."""
    store = processing.blobs(ctx.state)
    file_url = ctx.headers.get("File-Url") or ctx.headers.get("file_url")
    if file_url:
        try:
            data = fetch(file_url, ctx.base_url)
        except FetchError:
            return pe.upload_error(f"The media could not be fetched from this uri: {file_url}")
        store[blob_key] = data
        up.update(file_size=len(data), received=len(data), done=True)
        return None
    try:
        offset = int(ctx.headers.get("Offset", "0"))
        size = int(ctx.headers.get("File-Size") or ctx.headers.get("file_size") or up.get("file_size") or 0)
    except ValueError:
        return pe.upload_error("offset and file_size must be integers")
    if size <= 0:
        return pe.upload_error("file_size header is required")
    if up.get("file_size") and size != up["file_size"]:
        return pe.upload_error(f"file_size {size} differs from the size announced before ({up['file_size']})")
    if offset != up.get("received", 0):
        return pe.upload_error(f"Invalid offset {offset}: {up.get('received', 0)} bytes were received so far")
    body = ctx.body or b""
    if offset + len(body) > size:
        return pe.upload_error(f"More bytes than file_size ({offset + len(body)} > {size})")
    store[blob_key] = store.get(blob_key, b"") + body
    up["file_size"], up["received"] = size, offset + len(body)
    up["done"] = up["received"] >= size
    return None


@route(RUPLOAD, r"/ig-api-upload/(?P<version>v\d+\.\d+)/(?P<cid>\d+)", ("POST",))
def ig_upload(ctx, version, cid):
    state = ctx.state
    c = state.data.get("ig_containers", {}).get(cid)
    if c is None or c.get("upload_type") != "resumable":
        return pe.upload_error(f"Unknown upload session {cid}", 404, "NotFoundError")
    tok, err = _token(ctx, c["platform"])
    if err:
        return err
    if not auth.can_see_ig(state, tok, c["owner"]):
        return pe.upload_error("The access token cannot upload to this container", 403, "AuthError")
    processing.refresh_container(state, c)
    if c["upload"].get("done") or c["status_code"] != "IN_PROGRESS":
        return pe.upload_error("The upload for this container is already complete")
    err = _receive(ctx, c["upload"], cid)
    if err:
        return err
    if c["upload"]["done"]:
        from .ig_publishing import judge_video

        blob = processing.blobs(state).pop(cid, b"")
        processing.start_processing(state, c, "video", judge_video(c, blob))
    return {"success": True, "message": "Upload successful."}


@route(RUPLOAD, r"/video-upload/(?P<version>v\d+\.\d+)/(?P<vid>\d+)", ("POST",))
def video_upload(ctx, version, vid):
    state = ctx.state
    v = state.data.get("fb_videos", {}).get(vid)
    if v is None:
        return pe.upload_error(f"Unknown video {vid}", 404, "NotFoundError")
    tok, err = _token(ctx, "facebook")
    if err:
        return err
    if not auth.can_see_page(state, tok, v["page_id"]):
        return pe.upload_error("The access token cannot upload to this video", 403, "AuthError")
    if v["upload"].get("done"):
        return pe.upload_error("The upload for this video is already complete")
    err = _receive(ctx, v["upload"], vid)
    if err:
        return err
    if v["upload"]["done"]:
        start_video_processing(state, v, processing.blobs(state).pop(vid, b""))
    return {"success": True}


def start_video_processing(state, v, blob: bytes):
    """Judge the bytes now (ffprobe), apply the verdict after the processing delay."""
    seconds = limits.REEL_SECONDS if v["kind"] == "reel" else (1, 4 * 3600)  # Page videos: up to 4 h (verify)
    problem = video_problem(probe_video(blob), seconds, 10 * 1024**3, limits.PAGE_VIDEO_CODECS)
    v["error"] = f"The video could not be processed ({problem})" if problem else None
    v["upload"].update(received=len(blob), file_size=v["upload"].get("file_size") or len(blob), done=True)
    v["video_status"] = "processing"
    # A Page video is processed once its bytes are in. A reel waits for `finish`: until then its status reads
    # uploading complete, processing and publishing not_started (Reels Publishing API, step 3 example).
    v["ready_at"] = None if v["kind"] == "reel" else state.clock.now() + processing.delay(state, "video")
    processing.refresh_video(state, v)


@route(RUPLOAD, r"/.*", ("GET", "POST", "PUT", "DELETE"))
def other(ctx):
    return pe.upload_error(f"Unknown upload path {ctx.path}", 404, "NotFoundError")
