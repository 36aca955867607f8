"""Reading published Instagram media and its edges, on both hosts:
- GET /{ig-user-id}/media — newest first, cursor paging (seed 001 / 003 example with paging.cursors); stories
  and carousel children are not listed (seed 001: stories have their own /stories edge).
- GET /{ig-media-id}/children — the carousel's media (spec IGMedia "children").
- GET|POST /{ig-media-id}/comments — comments.py; ``comments{…}`` asked as a media field is expanded here.
- GET /{ig-user-id}/available_catalogs, /catalog_product_search?catalog_id&q — seed 003 shapes, spec
  ShadowIGUserCatalogProductSearch; Facebook Login only (product-tagging guide), catalog_management.
- DELETE /{ig-media-id} → {"success": true}: in the IGMedia spec ("#delete") and reported to work for Facebook
  Login only (graph-api reference §1.8); the media, its carousel children and its comments are gone, so a later
  GET or DELETE answers 100/33. Permission: the publishing row (instagram_basic, instagram_content_publish,
  pages_read_engagement; verify). A carousel child is not deleted on its own (100/33, verify). On
  graph.instagram.com the IGMediaForIGOnlyAPI spec has no "#delete", so the dispatcher answers Meta's 100/33
  "Unsupported delete request" there.
"""

from __future__ import annotations

from .. import auth, errors, permissions
from ..app import IG_GRAPH
from .facebook import paginate
from .graph_nodes import check_fields, media_values, node_edge, parse_fields, render


def read_access(ctx, tok, ig_id, node_id):
    if not auth.can_see_ig(ctx.state, tok, ig_id):
        raise errors.unsupported_request(ctx.method, node_id)
    auth.require(ctx.state, tok, "instagram_business_basic" if ctx.host == IG_GRAPH else "instagram_basic")
    ctx.touch(ig_id, "instagram")


def media_spec(ctx) -> str:
    return "IGMediaForIGOnlyAPI" if ctx.host == IG_GRAPH else "IGMedia"


def media_view(ctx, m, fields, tok=None):
    from .comments import media_comments_field

    def comments(f):
        return media_comments_field(ctx, tok, m, f) if tok is not None else None

    def children(f):
        if not m.get("children"):
            return None
        check_fields(f.sub, media_spec(ctx))
        rows = [render(media_values(ctx, ctx.state.data["ig_media"][c]), f.sub or None) for c in m["children"]]
        return {"data": rows}

    return render(media_values(ctx, m), fields, expand={"children": children, "comments": comments})


def list_media(ctx, tok, ig_id, *, stories: bool = False):
    read_access(ctx, tok, ig_id, ig_id)
    fields = parse_fields(ctx.get("fields"))
    check_fields(fields, media_spec(ctx))
    items = [
        m
        for m in ctx.state.data["ig_media"].values()
        if m["owner"] == ig_id and not m.get("parent") and (m["media_product_type"] == "STORY") == stories
    ]
    items.sort(key=lambda m: (-m["ts"], m["id"]))
    window, paging = paginate(ctx, items)
    out = {"data": [media_view(ctx, m, fields, tok) for m in window]}
    if paging:
        out["paging"] = paging
    return out


node_edge("facebook", "IGUser", "media")(list_media)
node_edge("instagram", "IGUserForIGOnlyAPI", "media")(list_media)


def list_stories(ctx, tok, ig_id):
    """GET /{ig-user-id}/stories: the account's stories, which /media does not list (seed 001)."""
    return list_media(ctx, tok, ig_id, stories=True)


node_edge("facebook", "IGUser", "stories")(list_stories)
node_edge("instagram", "IGUserForIGOnlyAPI", "stories")(list_stories)


def media_get(ctx, tok, media_id):
    m = ctx.state.data["ig_media"][media_id]
    read_access(ctx, tok, m["owner"], media_id)
    fields = parse_fields(ctx.get("fields"))
    check_fields(fields, media_spec(ctx))
    return media_view(ctx, m, fields, tok)


node_edge("facebook", "IGMedia", "#get")(media_get)
node_edge("instagram", "IGMediaForIGOnlyAPI", "#get")(media_get)


def children_get(ctx, tok, media_id):
    m = ctx.state.data["ig_media"][media_id]
    read_access(ctx, tok, m["owner"], media_id)
    fields = parse_fields(ctx.get("fields"))
    check_fields(fields, media_spec(ctx))
    return {"data": [render(media_values(ctx, ctx.state.data["ig_media"][c]), fields) for c in m.get("children", [])]}


node_edge("facebook", "IGMedia", "children")(children_get)
node_edge("instagram", "IGMediaForIGOnlyAPI", "children")(children_get)


@node_edge("facebook", "IGMedia", "#delete", "DELETE")
def media_delete(ctx, tok, media_id):
    state = ctx.state
    m = state.data["ig_media"][media_id]
    if not auth.can_see_ig(state, tok, m["owner"]) or m.get("parent"):
        raise errors.unsupported_request("DELETE", media_id)
    permissions.require_all(state, tok, "ig_publish", "facebook")
    ctx.touch(m["owner"], "instagram")
    gone = {media_id, *m.get("children", [])}
    for mid in gone:
        state.data["ig_media"].pop(mid, None)
    comments = state.data["ig_comments"]
    for cid in [cid for cid, c in comments.items() if c["media"] in gone]:
        del comments[cid]
    acc = state.data["ig_accounts"].get(m["owner"])
    if acc is not None and m["media_product_type"] != "STORY":
        acc["media_count"] = max(acc.get("media_count", 1) - 1, 0)
    return {"success": True}


# Comments on media (GET|POST /{ig-media-id}/comments) are served by comments.py


# ------------------------------------------------------------------ catalogs (Facebook Login only)
def catalog_access(ctx, tok, ig_id):
    if not auth.can_see_ig(ctx.state, tok, ig_id):
        raise errors.unsupported_request("GET", ig_id)
    auth.require(ctx.state, tok, "catalog_management")
    ctx.touch(ig_id, "instagram")
    return [c for c in ctx.state.data.get("catalogs", {}).values() if c["ig_user_id"] == ig_id]


@node_edge("facebook", "IGUser", "available_catalogs")
def available_catalogs(ctx, tok, ig_id):
    cats = catalog_access(ctx, tok, ig_id)
    keys = ("catalog_id", "catalog_name", "shop_name")
    return {"data": [{**{k: c[k] for k in keys}, "product_count": len(c["products"])} for c in cats]}


@node_edge("facebook", "IGUser", "catalog_product_search")
def catalog_product_search(ctx, tok, ig_id):
    cats = {c["catalog_id"]: c for c in catalog_access(ctx, tok, ig_id)}
    cid = ctx.get("catalog_id")
    if not cid:
        raise errors.missing_parameter("catalog_id")
    if cid not in cats:
        raise errors.unsupported_request("GET", cid)
    q = (ctx.get("q") or "").lower()
    # product-tagging guide: q matches product name or SKU (retailer_id); no q → every tag-eligible product
    hits = [
        p
        for p in cats[cid]["products"]
        if p["review_status"] == "approved" and (not q or q in p["product_name"].lower() or q in p["retailer_id"])
    ]
    rows = [{**p, "image_url": ctx.url(p["image_url"])} for p in hits]
    window, paging = paginate(ctx, rows, key=lambda p: str(p["product_id"]))
    out = {"data": window}
    if paging:
        out["paging"] = paging
    return out
