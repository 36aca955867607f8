"""Instagram content publishing, the same rules on both hosts: graph.facebook.com (Facebook Login: user or
Page tokens, permissions instagram_basic + instagram_content_publish) and graph.instagram.com (Instagram
Login: instagram_business_content_publish). Containers (spec ShadowIGMediaBuilder) are created with
POST /{ig-user-id}/media (spec IGUser.json params; seeds 000, 001), published with media_publish (seed 003),
counted by content_publishing_limit (seed 003). Read/comment edges: ig_media_edges.py.

Rules (source → error, see publish_errors.py):
- media_type IMAGE (default) | REELS | STORIES | CAROUSEL | VIDEO (carousel items only) — seed 000/001,
  graph-api README → 100/2207023 unknown, 100/2207089 standalone VIDEO (verify)
- caption and location_id not supported on carousel items — seed 001 → 100 (verify text)
- caption ≤ 2,200 chars, ≤ 30 hashtags → 36004/2207010; ≤ 20 @-mentions → 100/2207040 — error-codes doc
- user_tags: images only (seed 001 "Applies only to images and carousels"; story images allowed), x/y in
  [0, 1] for feed images (seed 001 example), known usernames → 100 (verify text)
- product_tags: x/y required on images 100/2207036, refused on videos 100/2207035, unknown product 100/2207037
  (error-codes doc); permissions instagram_shopping_tag_products + catalog_management, Facebook Login only
  (product-tagging guide)
- collaborators: JSON list of usernames, at most 3, not on stories (verify)
- children: 2–10 → else 100/2207028; each a FINISHED carousel-item container of the same account (verify)
- location_id: a Page with a location (seed 001 "Pages whose names match … created for a physical location")
- media is fetched at creation (seed 001 "We will cURL the image"): unreachable → 9004/2207052; image: JPEG
  only 36001/2207005, ≤ 8 MiB 36000/2207004, aspect 4:5–1.91:1 for feed images 36003/2207009 (stories exempt)
- video rules (MP4/MOV, H.264/HEVC, duration, size) are judged asynchronously: the container ends ERROR with
  status "Error: Media upload has failed with error code 2207026"
"""

from __future__ import annotations

import json
import re

from .. import auth, errors, limits, permissions, processing
from .. import publish_errors as pe
from ..app import IG_GRAPH, route
from ..media_fetch import FetchError, fetch, inspect_image, probe_video, video_problem
from ..seed import COMMENTERS, iso
from .graph_nodes import call_token, check_fields, node_edge, parse_fields, render, resolve

MEDIA_TYPES = ("IMAGE", "VIDEO", "REELS", "STORIES", "CAROUSEL")


# ------------------------------------------------------------------ helpers
def platform_of(ctx) -> str:
    return "instagram" if ctx.host == IG_GRAPH else "facebook"


def require_publish(ctx, tok, ig_id):
    if not auth.can_see_ig(ctx.state, tok, ig_id):
        raise errors.unsupported_request(ctx.method, ig_id)
    permissions.require_all(ctx.state, tok, "ig_publish", platform_of(ctx))
    ctx.touch(ig_id, "instagram")


def truthy(value) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes")


def loose_json(name: str, value: str | None):
    """Meta accepts JSON and the loose form of its own examples: [{username:'kevinhart4real', x: 0.5}]."""
    if value is None or value == "":
        return None
    try:
        return json.loads(value)
    except ValueError:
        pass
    fixed = re.sub(r"([{,]\s*)([A-Za-z_]\w*)\s*:", r'\1"\2":', value.replace("'", '"'))
    try:
        return json.loads(fixed)
    except ValueError:
        raise pe.param(f"(#100) Param {name} must be a valid JSON array") from None


def known_usernames(state) -> set[str]:
    return {a["username"] for a in state.data["ig_accounts"].values()} | set(COMMENTERS)


def fetch_media(ctx, url: str, max_bytes=None) -> bytes:
    try:
        return fetch(url, ctx.base_url, max_bytes)
    except FetchError as exc:
        raise (pe.download_timeout() if exc.kind == "timeout" else pe.download_failed(url)) from None


def check_caption(caption: str):
    if len(caption) > limits.CAPTION_MAX:
        raise pe.caption_too_long(len(caption), limits.CAPTION_MAX)
    hashtags = re.findall(r"(?<![\w&])#\w+", caption)
    if len(hashtags) > limits.HASHTAGS_MAX:
        raise pe.too_many_hashtags(len(hashtags), limits.HASHTAGS_MAX)
    if len(re.findall(r"(?<![\w])@[\w.]+", caption)) > limits.MENTIONS_MAX:
        raise pe.too_many_mentions(limits.MENTIONS_MAX)


def check_xy(name, tag, required=True):
    has = "x" in tag or "y" in tag
    if not has:
        if required:
            raise pe.param(f"(#100) Param {name} requires x and y coordinates between 0 and 1")
        return
    for axis in ("x", "y"):
        try:
            v = float(tag.get(axis))
        except (TypeError, ValueError):
            raise pe.param(f"(#100) Param {name} requires x and y coordinates between 0 and 1") from None
        if not 0 <= v <= 1:
            raise pe.param(f"(#100) Param {name} coordinates must be between 0 and 1 (got {axis}={v})")


def catalog_products(state, ig_id) -> dict:
    out = {}
    for cat in state.data.get("catalogs", {}).values():
        if cat["ig_user_id"] == ig_id:
            for p in cat["products"]:
                out[str(p["product_id"])] = p
    return out


# ------------------------------------------------------------------ POST /{ig-user-id}/media
def create_container(ctx, tok, ig_id):
    state = ctx.state
    require_publish(ctx, tok, ig_id)
    g = ctx.get
    mt = (g("media_type") or "IMAGE").upper()
    if mt not in MEDIA_TYPES:
        raise pe.unknown_media_type(g("media_type"))
    item = truthy(g("is_carousel_item"))
    resumable = (g("upload_type") or "").lower() == "resumable"
    if mt == "VIDEO" and not item:
        raise pe.video_not_standalone()
    if mt in ("REELS", "STORIES", "CAROUSEL") and item:
        raise pe.param(f"(#100) media_type {mt} cannot be a carousel item")  # seed 000: no reels in carousels
    if mt == "CAROUSEL":
        kind = "carousel"
    elif mt == "IMAGE" or (mt == "STORIES" and g("image_url") and not resumable):
        kind = "image"
    else:
        kind = "video"
    if resumable and kind != "video":
        raise pe.param("(#100) upload_type=resumable is only supported for REELS, STORIES and VIDEO")
    if kind == "image" and not g("image_url"):
        raise errors.missing_parameter("image_url")
    if kind == "video" and not resumable and not g("video_url"):
        raise errors.missing_parameter("video_url")

    caption = g("caption")
    if item and caption:
        raise pe.param("(#100) caption is not supported on carousel items")  # seed 001
    if item and g("location_id"):
        raise pe.param("(#100) location_id is not supported on carousel items")  # seed 001
    if caption:
        check_caption(caption)
    if g("location_id") and "location" not in state.data.get("places", {}).get(g("location_id"), {}):
        raise pe.param(f"(#100) Param location_id must be the id of a Page with a location: {g('location_id')}")

    user_tags = loose_json("user_tags", g("user_tags"))
    if user_tags:
        if kind != "image":
            raise pe.param("(#100) user_tags are only supported on images")  # seed 001
        names = known_usernames(state)
        for tag in user_tags if isinstance(user_tags, list) else [user_tags]:
            if not isinstance(tag, dict) or tag.get("username") not in names:
                raise pe.param(
                    f"(#100) Invalid username in user_tags: {tag.get('username') if isinstance(tag, dict) else tag}"
                )
            check_xy("user_tags", tag, required=mt != "STORIES")

    collaborators = loose_json("collaborators", g("collaborators"))
    if collaborators:
        if mt == "STORIES" or item:
            raise pe.param("(#100) collaborators are not supported on stories or carousel items")
        if not isinstance(collaborators, list) or len(collaborators) > limits.COLLABORATORS_MAX:
            raise pe.param(f"(#100) Param collaborators accepts at most {limits.COLLABORATORS_MAX} usernames")
        names = known_usernames(state)
        for name in collaborators:
            if name not in names:
                raise pe.param(f"(#100) Invalid username in collaborators: {name}")

    product_tags = loose_json("product_tags", g("product_tags"))
    if product_tags:
        if platform_of(ctx) == "instagram":
            raise errors.permission_missing("instagram_shopping_tag_products")  # Facebook Login only
        auth.require(state, tok, "instagram_shopping_tag_products")
        auth.require(state, tok, "catalog_management")
        if mt == "STORIES":
            raise pe.param("(#100) product_tags are not supported on stories")
        products = catalog_products(state, ig_id)
        for tag in product_tags if isinstance(product_tags, list) else [product_tags]:
            if not isinstance(tag, dict):
                raise pe.product_not_found()
            has_xy = "x" in tag or "y" in tag
            if kind == "video" and has_xy:
                raise pe.product_tags_on_video()
            if kind == "image" and not has_xy:
                raise pe.product_tags_need_xy()
            if kind == "image":
                check_xy("product_tags", tag)
            p = products.get(str(tag.get("product_id")))
            if p is None or p["review_status"] != "approved":
                raise pe.product_not_found()

    # reference §1 "alt_text": images only (a single image or an image carousel child), up to 1000 characters;
    # not reels, videos or stories.
    if g("alt_text") not in (None, ""):
        if kind != "image" or mt == "STORIES":
            raise pe.param("(#100) Param alt_text is only supported for images in feed posts and carousels")
        if len(g("alt_text")) > 1000:
            raise pe.param("(#100) Param alt_text must be at most 1000 characters")
    if g("thumb_offset") not in (None, "") and not str(g("thumb_offset")).isdigit():
        raise pe.param("(#100) Param thumb_offset must be a non-negative number of milliseconds")

    children = []
    if kind == "carousel":
        children = [c.strip() for c in (g("children") or "").split(",") if c.strip()]
        if not limits.CAROUSEL_MIN <= len(children) <= limits.CAROUSEL_MAX:
            raise pe.carousel_count()
        for cid in children:
            child = state.data["ig_containers"].get(cid)
            if child is None or child["owner"] != ig_id:
                raise pe.media_not_found(cid)
            processing.refresh_container(state, child)
            if not child["is_carousel_item"]:
                raise pe.param(f"(#100) Param children: {cid} is not a carousel item container")
            if child["status_code"] != "FINISHED":
                raise pe.not_ready()

    c = {
        "id": state.new_id(17, "17"),
        "owner": ig_id,
        "platform": platform_of(ctx),
        "media_type": mt,
        "kind": kind,
        "is_carousel_item": item,
        "caption": caption,
        "location_id": g("location_id"),
        "user_tags": user_tags,
        "product_tags": product_tags,
        "collaborators": collaborators,
        "children": children,
        "image_url": g("image_url"),
        "video_url": g("video_url"),
        "cover_url": g("cover_url"),
        "thumb_offset": g("thumb_offset"),
        "share_to_feed": truthy(g("share_to_feed")) if g("share_to_feed") is not None else None,
        "audio_name": g("audio_name"),
        "alt_text": g("alt_text"),
        "upload_type": "resumable" if resumable else None,
        "created": state.clock.now(),
        "status_code": "IN_PROGRESS",
        "ready_at": None,
        "error_subcode": None,
        "published_media_id": None,
    }
    if g("cover_url"):
        cover = inspect_image(fetch_media(ctx, g("cover_url"), limits.IMAGE_MAX_BYTES + 1))
        if cover is None:
            raise pe.image_format("UNKNOWN")
    if kind == "image":
        check_image(ctx, g("image_url"), feed=mt != "STORIES")
        processing.start_processing(state, c, "image", None)
    elif kind == "carousel":
        processing.start_processing(state, c, "image", None)
    elif resumable:
        c["upload"] = {"file_size": None, "received": 0, "done": False}
    else:
        blob = fetch_media(ctx, g("video_url"), video_max_bytes(c) + 1)
        processing.start_processing(state, c, "video", judge_video(c, blob))
    state.data["ig_containers"][c["id"]] = c
    out = {"id": c["id"]}
    if resumable:
        # seed 003: {"id", "uri": "https://rupload.facebook.com/ig-api-upload/{v}/{container-id}"}
        out["uri"] = f"{ctx.base_url}/rupload.facebook.com/ig-api-upload/{ctx.version or 'v25.0'}/{c['id']}"
    return out


def check_image(ctx, url, feed=True):
    blob = fetch_media(ctx, url, limits.IMAGE_MAX_BYTES + 1)
    if len(blob) > limits.IMAGE_MAX_BYTES:
        raise pe.image_too_large()
    info = inspect_image(blob)
    if info is None or info["format"] not in limits.IMAGE_FORMATS:
        raise pe.image_format(info["format"] if info else "UNKNOWN")
    ratio = info["width"] / max(1, info["height"])
    if feed and not limits.ASPECT_MIN - 1e-3 <= ratio <= limits.ASPECT_MAX + 1e-3:
        raise pe.aspect_ratio(ratio)


def video_rules(c) -> tuple:
    if c["media_type"] == "STORIES":
        return limits.STORY_VIDEO_SECONDS, limits.STORY_VIDEO_MAX_BYTES
    if c["is_carousel_item"]:
        return limits.CAROUSEL_VIDEO_SECONDS, limits.REELS_MAX_BYTES
    return limits.REELS_SECONDS, limits.REELS_MAX_BYTES


def video_max_bytes(c) -> int:
    return video_rules(c)[1]


def judge_video(c, blob: bytes) -> int | None:
    """The subcode the container will fail with once processed, or None (ffprobe verdict)."""
    seconds, max_bytes = video_rules(c)
    problem = video_problem(probe_video(blob), seconds, max_bytes)
    return 2207026 if problem else None  # error-codes doc: 352/2207026 unsupported video (format/spec)


@node_edge("facebook", "IGUser", "media", "POST")
def fb_create(ctx, tok, ig_id):
    return create_container(ctx, tok, ig_id)


@node_edge("instagram", "IGUserForIGOnlyAPI", "media", "POST")
def ig_create(ctx, tok, ig_id):
    return create_container(ctx, tok, ig_id)


# ------------------------------------------------------------------ GET /{container-id}
def container_get(ctx, tok, cid):
    c = ctx.state.data["ig_containers"][cid]
    if not auth.can_see_ig(ctx.state, tok, c["owner"]):
        raise errors.unsupported_request("GET", cid)
    fields = parse_fields(ctx.get("fields"))
    check_fields(fields, "ShadowIGMediaBuilder")
    ctx.touch(c["owner"], "instagram")
    processing.note_poll(ctx, c, "container", fields)
    processing.refresh_container(ctx.state, c)
    return render(processing.container_values(c), fields)


node_edge("facebook", "ShadowIGMediaBuilder", "#get")(container_get)
node_edge("instagram", "ShadowIGMediaBuilder", "#get")(container_get)


# ------------------------------------------------------------------ POST /{ig-user-id}/media_publish
def publish(ctx, tok, ig_id):
    state = ctx.state
    require_publish(ctx, tok, ig_id)
    cid = ctx.get("creation_id")
    if not cid:
        raise errors.missing_parameter("creation_id")
    c = state.data["ig_containers"].get(cid)
    if c is None or c["owner"] != ig_id:
        raise pe.builder_not_found(cid)
    processing.refresh_container(state, c)
    status = c["status_code"]
    if status == "PUBLISHED":
        ctx.mark("flag", "repeat_publish", f"media_publish sent again for container {cid}")
        raise pe.already_published()
    if status == "EXPIRED":
        raise pe.container_expired()
    if status == "ERROR":
        raise pe.processing_failed(c["error_subcode"])
    if status != "FINISHED":
        # [CP] a video is polled until FINISHED before it is published; an image is published straight after its
        # container is made (the guide's image example has no status step) and Meta answers "not ready" when it
        # needs a moment [OBS], so only videos are flagged.
        if c.get("kind") == "video" or any(
            (state.data["ig_containers"].get(child) or {}).get("kind") == "video" for child in c.get("children") or []
        ):
            ctx.mark("flag", "publish_before_finished", f"media_publish for container {cid} while it is {status}")
        raise pe.not_ready()
    if c["is_carousel_item"]:
        raise pe.param("(#100) A carousel item container cannot be published on its own; publish the carousel")
    if processing.quota_usage(state, ig_id) >= processing.quota_total(state, ig_id):
        raise pe.publishing_limit()  # content_publishing_limit: moving 24 h window, carousel = 1
    media = make_media(ctx, c)
    c["status_code"], c["published_media_id"] = "PUBLISHED", media["id"]
    processing.record_publish(state, ig_id)
    return {"id": media["id"]}


def make_media(ctx, c, parent=None):
    state = ctx.state
    acc = state.data["ig_accounts"][c["owner"]]
    now = state.clock.now()
    mid = state.new_id(17, "17")
    code = processing.shortcode(state)
    mt = c["media_type"]
    media_type = {"IMAGE": "IMAGE", "CAROUSEL": "CAROUSEL_ALBUM"}.get(mt, "IMAGE" if c["kind"] == "image" else "VIDEO")
    product = {"REELS": "REELS", "STORIES": "STORY"}.get(mt, "FEED")
    if product == "REELS":
        permalink = f"https://www.instagram.com/reel/{code}/"
    elif product == "STORY":
        permalink = f"https://www.instagram.com/stories/{acc['username']}/{mid}/"
    else:
        permalink = f"https://www.instagram.com/p/{code}/"
    m = {
        "id": mid,
        "owner": c["owner"],
        "username": acc["username"],
        "caption": c.get("caption") if parent is None else None,
        "timestamp": iso(now),
        "ts": now,
        "media_type": media_type,
        "media_product_type": product,
        "permalink": permalink,
        "shortcode": code,
        "like_count": 0,
        "comments_count": 0,
        "is_comment_enabled": True,
        "media_path": f"/__sandbox__/media/{mid}.png",
        "container_id": c["id"],
        "parent": parent,
        "children": [],
    }
    state.data["ig_media"][mid] = m
    if c["kind"] == "carousel":
        for child_id in c["children"]:
            child = state.data["ig_containers"][child_id]
            m["children"].append(make_media(ctx, child, parent=mid)["id"])
            child["status_code"], child["published_media_id"] = "PUBLISHED", m["children"][-1]
    if parent is None and product != "STORY":
        acc["media_count"] = acc.get("media_count", 0) + 1
    return m


@node_edge("facebook", "IGUser", "media_publish", "POST")
def fb_publish(ctx, tok, ig_id):
    return publish(ctx, tok, ig_id)


@route(IG_GRAPH, r"/(?P<node>me|\d+)/media_publish", ("POST",), params=("creation_id",))
def ig_publish(ctx, node):
    # graph.instagram.com/{ig-user-id}/media_publish (content-publishing doc, Instagram Login); the node spec
    # IGUserForIGOnlyAPI.json does not list the edge, so it is routed here
    tok = call_token(ctx, me=(node == "me"))
    found = resolve(ctx, node, tok)
    if not found or found[0] != "IGUserForIGOnlyAPI":
        raise errors.unsupported_request("POST", node)
    return publish(ctx, tok, found[1])


# ------------------------------------------------------------------ GET /{ig-user-id}/content_publishing_limit
def publishing_limit(ctx, tok, ig_id):
    require_publish(ctx, tok, ig_id)
    usage = processing.quota_usage(ctx.state, ig_id)
    # seed 003 / content_publishing_limit reference:
    # {"data": [{"quota_usage", "config": {"quota_total", "quota_duration"}}]}
    row = {"quota_usage": usage}
    wanted = {f.name for f in parse_fields(ctx.get("fields")) or []} or {"quota_usage"}
    if "config" in wanted:
        row["config"] = {
            "quota_total": processing.quota_total(ctx.state, ig_id),
            "quota_duration": limits.QUOTA_DURATION,
        }
    if "quota_usage" not in wanted:
        row.pop("quota_usage")
    return {"data": [row]}


node_edge("facebook", "IGUser", "content_publishing_limit")(publishing_limit)
node_edge("instagram", "IGUserForIGOnlyAPI", "content_publishing_limit")(publishing_limit)
