"""Facebook Page publishing with Page tokens (seed 002; specs Page.json, PagePost.json, Photo.json, AdVideo.json).

Rules (source):
- Posting needs a Page token of that Page with pages_manage_posts and pages_read_engagement → else (#200)
  "If posting to a page, requires both …" — Page feed reference (seed 002 permissions)
- POST /{page-id}/feed: one of message, link, attached_media → else (#100) "Missing message or attachment";
  scheduled_publish_time only with published=false, 10 minutes to 75 days ahead (seed 002);
  call_to_action {"type", "value": {"link"}}: type in seed 002's list, link equal to the post's link (seed 002
  "clicking the button takes people to the specified link"; text: verify); attached_media [{"media_fbid"}]
  = unpublished photos of the same Page (seed 002 / Page photos guide)
- GET /{page-id}/feed (published and unpublished, is_published tells) and /published_posts: newest first,
  limit ≤ 100 else error (seed 002)
- POST /{page-id}/photos: url (fetched) or multipart source; published=false → {"id"} for attached_media,
  else {"id", "post_id"} (Page photos reference); formats and 4 MB limit (verify)
- POST /{page-id}/videos: file_url or source, or upload_phase=start|transfer|finish (spec params
  upload_phase, upload_session_id, start_offset, video_file_chunk; Video API resumable upload) → {"id"};
  processed asynchronously (status.video_status processing → ready | error)
- POST /{page-id}/video_reels: upload_phase=start → {"video_id", "upload_url"}; bytes to rupload;
  upload_phase=finish&video_id&video_state=PUBLISHED|DRAFT|SCHEDULED → {"success": true}; reels 3–90 s
  (Reels Publishing API)
- Comments on posts: comments.py (``comments{…}`` asked as a post field is expanded here)
- DELETE /{page-post-id} → {"success": true} (Pages API posts guide, graph-api reference §2.2) and DELETE
  /{video-id} (spec AdVideo "#delete"): a Page token of that Page with pages_manage_posts, else (#200)
  "Requires pages_manage_posts permission to manage the object" (reference §9); the post goes with its
  comments, photos and video (a video takes its post along), so a later GET or DELETE answers 100/33
"""

from __future__ import annotations

import json

from .. import auth, errors, limits, processing, seed
from .. import publish_errors as pe
from ..media_fetch import FetchError, fetch, inspect_image
from .facebook import paginate
from .graph_nodes import check_fields, node_edge, parse_fields, render
from .ig_publishing import truthy
from .rupload import start_video_processing


def post_access(ctx, tok, page_id):
    if not auth.can_see_page(ctx.state, tok, page_id):
        raise errors.unsupported_request(ctx.method, page_id)
    have = set(auth.scopes(ctx.state, tok))
    if tok["kind"] != "PAGE" or not {"pages_manage_posts", "pages_read_engagement"} <= have:
        raise pe.page_publish_permission()
    ctx.touch(page_id, "pages")


def read_access(ctx, tok, page_id):
    if not auth.can_see_page(ctx.state, tok, page_id):
        raise errors.unsupported_request(ctx.method, page_id)
    auth.require(ctx.state, tok, "pages_read_engagement", "pages_manage_posts")
    ctx.touch(page_id, "pages")


def json_param(ctx, name):
    raw = ctx.get(name)
    if raw in (None, ""):
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise pe.param(f"(#100) Param {name} must be a JSON object or array") from None


# ------------------------------------------------------------------ feed
@node_edge("facebook", "Page", "feed", "POST")
def feed_post(ctx, tok, page_id):
    state = ctx.state
    post_access(ctx, tok, page_id)
    message, link = ctx.get("message"), ctx.get("link")
    attached = json_param(ctx, "attached_media") or []
    if not (message or link or attached):
        raise pe.missing_message_or_attachment()
    if message and state.data["pages"][page_id].get("last_feed_message") == message:
        raise errors.duplicate_status()  # reference §2.6: the same text twice in a row
    published = truthy(ctx.get("published", "true"))
    when = ctx.get("scheduled_publish_time")
    if when:
        if published:
            raise pe.scheduled_on_published()
        try:
            when = int(float(when))
        except ValueError:
            raise pe.scheduled_time_invalid() from None
        ahead = when - state.clock.now()
        if not limits.SCHEDULE_MIN <= ahead <= limits.SCHEDULE_MAX:
            raise pe.scheduled_time_invalid()
    cta = json_param(ctx, "call_to_action")
    if cta is not None:
        if not isinstance(cta, dict) or cta.get("type") not in limits.CTA_TYPES:
            raise pe.param(f"(#100) call_to_action type must be one of {', '.join(limits.CTA_TYPES)}")
        cta_link = (cta.get("value") or {}).get("link")
        if not link or (cta_link and cta_link != link):
            raise pe.param("(#100) The call_to_action link must be the same as the post's link")  # (verify)
    photos = []
    for i, item in enumerate(attached if isinstance(attached, list) else [attached]):
        fbid = str((item or {}).get("media_fbid", "")) if isinstance(item, dict) else ""
        photo = state.data["fb_photos"].get(fbid)
        if photo is None or photo["page_id"] != page_id or photo["published"] or photo.get("post_id"):
            raise pe.param(f"(#100) param attached_media[{i}] has invalid media_fbid {fbid or item!r}")  # (verify)
        photos.append(photo)
    status_type = "added_photos" if photos else ("shared_story" if link else "mobile_status_update")
    post = processing.new_post(
        state,
        page_id,
        message=message,
        status_type=status_type,
        published=published and not when,
        link=link,
        call_to_action=cta,
        attached_media=[p["id"] for p in photos],
        scheduled_publish_time=when or None,
    )
    if when:
        post["ts"], post["created_time"] = when, seed.iso(when)
    for p in photos:
        p["post_id"] = post["id"]
    state.data["pages"][page_id]["last_feed_message"] = message
    return {"id": post["id"]}


def page_posts(ctx, tok, page_id, published_only):
    read_access(ctx, tok, page_id)
    try:
        limit = int(ctx.get("limit", 25))
    except ValueError:
        raise pe.param("(#100) Param limit must be a number") from None
    if limit > limits.FEED_LIMIT_MAX:
        raise pe.feed_limit()
    fields = parse_fields(ctx.get("fields"))
    check_fields(fields, "PagePost")
    posts = [processing.refresh_post(ctx.state, p) for p in ctx.state.data["posts"].values() if p["page_id"] == page_id]
    if published_only:
        posts = [p for p in posts if p["is_published"]]
    posts.sort(key=lambda p: (-p["ts"], p["id"]))
    window, paging = paginate(ctx, posts)
    from .comments import post_view

    out = {"data": [post_view(ctx, tok, p, fields) for p in window]}
    if paging:
        out["paging"] = paging
    return out


@node_edge("facebook", "Page", "feed")
def feed_get(ctx, tok, page_id):
    return page_posts(ctx, tok, page_id, published_only=False)


@node_edge("facebook", "Page", "published_posts")
def published_posts(ctx, tok, page_id):
    return page_posts(ctx, tok, page_id, published_only=True)


# ------------------------------------------------------------------ photos
def upload_bytes(ctx, url_param):
    f = ctx.files.get("source")
    if f is not None:
        return f.read()
    url = ctx.get(url_param)
    if not url:
        return None
    try:
        return fetch(url, ctx.base_url, limits.PHOTO_MAX_BYTES * 4)
    except FetchError:
        raise (pe.photo_invalid() if url_param == "url" else pe.param(f"(#100) Could not fetch {url_param}")) from None


@node_edge("facebook", "Page", "photos", "POST")
def photos_post(ctx, tok, page_id):
    state = ctx.state
    post_access(ctx, tok, page_id)
    blob = upload_bytes(ctx, "url")
    if blob is None:
        raise pe.photo_required()
    info = inspect_image(blob)
    if info is None or info["format"] not in limits.PHOTO_FORMATS or len(blob) > limits.PHOTO_MAX_BYTES:
        raise pe.photo_invalid()
    published = truthy(ctx.get("published", "true"))
    pid = state.new_id(16, "1")
    now = state.clock.now()
    photo = {
        "id": pid,
        "page_id": page_id,
        "name": ctx.get("caption") or ctx.get("message"),  # spec has both; Photo.name is the caption
        "width": info["width"],
        "height": info["height"],
        "format": info["format"],
        "created_time": seed.iso(now),
        "ts": now,
        "published": published,
        "post_id": None,
    }
    state.data["fb_photos"][pid] = photo
    if not published:
        return {"id": pid}
    post = processing.new_post(state, page_id, message=photo["name"], status_type="added_photos", attached_media=[pid])
    post["permalink_url"] = f"https://www.facebook.com/photo.php?fbid={pid}"
    photo["post_id"] = post["id"]
    return {"id": pid, "post_id": post["id"]}


def photo_values(ctx, p):
    v = {k: p[k] for k in ("id", "name", "width", "height", "created_time") if p.get(k) is not None}
    v["link"] = f"https://www.facebook.com/photo.php?fbid={p['id']}"
    v["images"] = [{"height": p["height"], "width": p["width"], "source": ctx.url(f"/__sandbox__/media/{p['id']}.png")}]
    v["from"] = {"id": p["page_id"], "name": ctx.state.data["pages"][p["page_id"]]["name"]}
    if p.get("post_id"):
        v["page_story_id"] = p["post_id"]
    return v


@node_edge("facebook", "Page", "photos")
def photos_get(ctx, tok, page_id):
    read_access(ctx, tok, page_id)
    fields = parse_fields(ctx.get("fields"))
    check_fields(fields, "Photo")
    # type=uploaded (pagephotos_type_enum_param): the Page's own uploads, published or not
    rows = sorted(
        (p for p in ctx.state.data["fb_photos"].values() if p["page_id"] == page_id), key=lambda p: (-p["ts"], p["id"])
    )
    window, paging = paginate(ctx, rows)
    out = {"data": [render(photo_values(ctx, p), fields, default=("created_time", "name", "id")) for p in window]}
    if paging:
        out["paging"] = paging
    return out


@node_edge("facebook", "Photo", "#get")
def photo_get(ctx, tok, photo_id):
    p = ctx.state.data["fb_photos"][photo_id]
    read_access(ctx, tok, p["page_id"])
    fields = parse_fields(ctx.get("fields"))
    check_fields(fields, "Photo")
    return render(photo_values(ctx, p), fields, default=("created_time", "name", "id"))


# ------------------------------------------------------------------ videos and reels
def new_video(ctx, page_id, kind, publish):
    state = ctx.state
    vid = state.new_id(16, "1")
    v = {
        "id": vid,
        "page_id": page_id,
        "kind": kind,
        "title": ctx.get("title"),
        "description": ctx.get("description"),
        "created": state.clock.now(),
        "upload": {"file_size": None, "received": 0, "done": False},
        "upload_session_id": None,
        "video_status": "processing",
        "ready_at": None,
        "error": None,
        "publish": publish,
        "published": False,
        "post_id": None,
    }
    state.data["fb_videos"][vid] = v
    return v


@node_edge("facebook", "Page", "videos", "POST")
def videos_post(ctx, tok, page_id):
    state = ctx.state
    post_access(ctx, tok, page_id)
    phase = (ctx.get("upload_phase") or "").lower()
    publish = truthy(ctx.get("published", "true"))
    if phase == "start":
        try:
            size = int(ctx.get("file_size") or 0)
        except ValueError:
            size = 0
        if size <= 0:
            raise errors.missing_parameter("file_size")
        v = new_video(ctx, page_id, "video", publish)
        v["upload"]["file_size"] = size
        v["upload_session_id"] = state.new_id(16, "2")
        return {
            "video_id": v["id"],
            "upload_session_id": v["upload_session_id"],
            "start_offset": "0",
            "end_offset": str(size),
        }
    if phase in ("transfer", "finish"):
        v = next(
            (x for x in state.data["fb_videos"].values() if x["upload_session_id"] == ctx.get("upload_session_id")),
            None,
        )
        if v is None or v["page_id"] != page_id:
            raise pe.param("(#100) Invalid upload_session_id")
        up = v["upload"]
        store = processing.blobs(state)
        if phase == "transfer":
            chunk = ctx.files.get("video_file_chunk")
            data = chunk.read() if chunk is not None else (ctx.get("video_file_chunk") or "").encode()
            if int(ctx.get("start_offset", -1)) != up["received"]:
                raise pe.param(f"(#100) start_offset must be {up['received']}")
            store[v["id"]] = store.get(v["id"], b"") + data
            up["received"] += len(data)
            return {"start_offset": str(up["received"]), "end_offset": str(up["file_size"])}
        if v.get("finished"):
            ctx.mark("flag", "repeat_finish", f"upload_phase=finish sent again for video {v['id']}")
            return {"success": True}  # the upload is already processing; nothing new happens (verify answer)
        if up["received"] < (up["file_size"] or 0):
            raise pe.param(f"(#100) The upload is incomplete: {up['received']} of {up['file_size']} bytes")
        v["finished"] = True
        for k in ("title", "description"):
            if ctx.get(k):
                v[k] = ctx.get(k)
        start_video_processing(state, v, store.pop(v["id"], b""))
        return {"success": True}
    blob = upload_bytes(ctx, "file_url")
    if blob is None:
        raise pe.video_required()
    v = new_video(ctx, page_id, "video", publish)
    start_video_processing(state, v, blob)
    return {"id": v["id"]}


@node_edge("facebook", "Page", "video_reels", "POST")
def reels_post(ctx, tok, page_id):
    state = ctx.state
    post_access(ctx, tok, page_id)
    phase = (ctx.get("upload_phase") or "").lower()
    if phase == "start":
        v = new_video(ctx, page_id, "reel", False)
        # Reels Publishing API: {"video_id", "upload_url": "https://rupload.facebook.com/video-upload/{v}/{id}"}
        version = ctx.version or "v25.0"
        return {
            "video_id": v["id"],
            "upload_url": f"{ctx.base_url}/rupload.facebook.com/video-upload/{version}/{v['id']}",
        }
    if phase != "finish":
        raise pe.param("(#100) upload_phase must be one of start, finish")
    v = state.data["fb_videos"].get(ctx.get("video_id") or "")
    if v is None or v["page_id"] != page_id or v["kind"] != "reel":
        raise pe.param(f"(#100) Invalid video_id {ctx.get('video_id')}")
    if not v["upload"]["done"]:
        raise pe.param("(#100) The video has not been uploaded yet")
    state_value = (ctx.get("video_state") or "").upper()
    if state_value not in ("PUBLISHED", "DRAFT", "SCHEDULED"):
        raise pe.param("(#100) video_state must be one of PUBLISHED, DRAFT, SCHEDULED")
    if v.get("finished"):
        ctx.mark("flag", "repeat_finish", f"upload_phase=finish sent again for reel {v['id']}")
    else:
        v["ready_at"] = state.clock.now() + processing.delay(state, "video")  # processing starts now
    v["finished"] = True
    v["description"] = ctx.get("description") or v.get("description")
    v["publish"] = state_value == "PUBLISHED"
    processing.refresh_video(state, v)
    return {"success": True}


def video_values(ctx, v):
    processing.refresh_video(ctx.state, v)
    out = {"id": v["id"], "status": processing.video_status_values(v), "published": v["published"]}
    for k in ("title", "description", "post_id"):
        if v.get(k):
            out[k] = v[k]
    out["created_time"] = seed.iso(v["created"])
    if v.get("post_id"):
        out["permalink_url"] = ctx.state.data["posts"][v["post_id"]]["permalink_url"]
    return out


def list_videos(ctx, tok, page_id, kind):
    read_access(ctx, tok, page_id)
    fields = parse_fields(ctx.get("fields"))
    check_fields(fields, "AdVideo")
    rows = sorted(
        (
            v
            for v in ctx.state.data["fb_videos"].values()
            if v["page_id"] == page_id and (kind is None or v["kind"] == kind)
        ),
        key=lambda v: (-v["created"], v["id"]),
    )
    window, paging = paginate(ctx, rows)
    out = {
        "data": [render(video_values(ctx, v), fields, default=("created_time", "description", "id")) for v in window]
    }
    if paging:
        out["paging"] = paging
    return out


@node_edge("facebook", "Page", "videos")
def videos_get(ctx, tok, page_id):
    return list_videos(ctx, tok, page_id, None)


@node_edge("facebook", "Page", "video_reels")
def reels_get(ctx, tok, page_id):
    return list_videos(ctx, tok, page_id, "reel")


@node_edge("facebook", "AdVideo", "#get")
def video_get(ctx, tok, video_id):
    v = ctx.state.data["fb_videos"][video_id]
    read_access(ctx, tok, v["page_id"])
    fields = parse_fields(ctx.get("fields"))
    check_fields(fields, "AdVideo")
    processing.note_poll(ctx, v, "video", fields)
    return render(video_values(ctx, v), fields, default=("created_time", "description", "id"))


# Comments on posts (GET|POST /{post-id}/comments) are served by comments.py


# ------------------------------------------------------------------ deleting posts and videos
def delete_access(ctx, tok, page_id, object_id):
    if not auth.can_see_page(ctx.state, tok, page_id):
        raise errors.unsupported_request("DELETE", object_id)
    if tok["kind"] != "PAGE" or "pages_manage_posts" not in set(auth.scopes(ctx.state, tok)):
        raise errors.permission_missing("pages_manage_posts", 200)
    ctx.touch(page_id, "pages")


def drop_post(state, post_id):
    """The post, its comments, and the photos and video it was made of."""
    d = state.data
    d["posts"].pop(post_id, None)
    for rows in (d["fb_comments"], d["fb_photos"], d["fb_videos"]):
        for oid in [oid for oid, row in rows.items() if row.get("post_id") == post_id]:
            del rows[oid]


@node_edge("facebook", "PagePost", "#delete", "DELETE")
def post_delete(ctx, tok, post_id):
    delete_access(ctx, tok, ctx.state.data["posts"][post_id]["page_id"], post_id)
    drop_post(ctx.state, post_id)
    return {"success": True}


@node_edge("facebook", "AdVideo", "#delete", "DELETE")
def video_delete(ctx, tok, video_id):
    v = ctx.state.data["fb_videos"][video_id]
    delete_access(ctx, tok, v["page_id"], video_id)
    ctx.state.data["fb_videos"].pop(video_id, None)
    if v.get("post_id"):
        drop_post(ctx.state, v["post_id"])
    return {"success": True}
