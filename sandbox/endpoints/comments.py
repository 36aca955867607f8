"""Comments and their moderation on Instagram (both hosts) and Facebook Pages, and private replies.

Instagram (specs IGComment, IGMedia, IGMediaForIGOnlyAPI; IG Comment, IG Comment Replies and IG Media Comments
references; graph-api reference §3.1). Every call needs the ``ig_comments`` row of permissions.py:
- GET /{ig-media-id}/comments: top-level comments only, newest first, at most 50 a page (a bigger ``limit``
  is served as 50), cursor paging; ``replies{…}`` expands a comment's replies, oldest first, as {"data": […]}.
- GET|POST /{ig-comment-id}/replies (``message``) → {"id"}: a reply to a reply lands on the top-level
  comment; a hidden comment cannot be replied to.
- POST /{ig-comment-id}?hide=true|false → {"success": true}; the media owner's own comments are always shown.
- DELETE /{ig-comment-id} → {"success": true}: only comments on the account's own media are reachable at all;
  a top-level comment takes its replies along; a later GET answers 100/33.
- IG comments have no likes edge (not in the IGComment spec): the dispatcher answers Meta's error.

Facebook Page (spec Comment, PagePost; Comment and Object Comments references; reference §3.2):
- GET /{post-id}/comments and /{comment-id}/comments: ``filter=toplevel`` (default) or ``stream`` (every
  comment, replies too, chronological), ``order=chronological|reverse_chronological``, ``since``,
  ``summary=true`` → summary.total_count; ``comments{…}`` expands replies; computed fields can_hide,
  can_remove, can_reply_privately, comment_count, parent, permalink_url, user_likes.
- POST /{comment-id}/comments (``message``) → {"id"}: the reply's parent is the top-level comment.
- POST /{comment-id} ``is_hidden`` → {"success": true} (not the Page's own comments); ``message`` edits the
  Page's own comment. DELETE /{comment-id} → {"success": true}, replies go too.
- POST|DELETE /{comment-id}/likes → {"success": true} as the Page; GET lists who liked it.
  Moderation calls need a Page token (210) and the ``page_comments`` row (code 200).
- POST /{page-id}/messages with recipient={"comment_id"} and message={"text"} (Messenger Private Replies):
  ``pages_messaging`` (row ``page_private_reply``, code 230), one per comment (10900), within 7 days on the
  sandbox clock (10901), never to the Page's own comment (10903) → {"recipient_id", "message_id"}.
"""

from __future__ import annotations

import json
import secrets

from .. import auth, errors, permissions
from .. import comment_data as cd
from ..app import IG_GRAPH
from .facebook import paginate
from .graph_nodes import check_fields, media_values, node_edge, parse_fields, render

IG_PAGE_MAX = 50  # IG Media Comments reference: at most 50 comments per page
IG_DEFAULT = ("timestamp", "text", "id")
FB_DEFAULT = ("created_time", "from", "message", "id")
PRIVATE_REPLY_WINDOW = 7 * 86400  # Private Replies: within 7 days of the comment
MESSAGE_MAX = 2000  # Send API: text up to 2000 characters


def truthy(value) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes")


def boolean_param(ctx, name) -> bool:
    raw = ctx.get(name)
    if raw is None or raw == "":
        raise errors.missing_parameter(name)
    if str(raw).strip().lower() not in ("1", "0", "true", "false"):
        raise errors.invalid_parameter(f"(#100) Param {name} must be a boolean")
    return truthy(raw)


def limited(rows: list, f) -> list:
    """A ``.limit(n)`` modifier on an expanded edge."""
    try:
        return rows[: int(f.mods["limit"])] if "limit" in f.mods else rows
    except ValueError:
        raise errors.invalid_parameter("(#100) Param limit must be a number") from None


# ================================================================== Instagram
def login_of(ctx) -> str:
    return "instagram" if ctx.host == IG_GRAPH else "facebook"


def media_spec(ctx) -> str:
    return "IGMediaForIGOnlyAPI" if ctx.host == IG_GRAPH else "IGMedia"


def ig_access(ctx, tok, media: dict, object_id: str, method: str):
    """The media's account must be the token's; then the whole ``ig_comments`` row."""
    if not auth.can_see_ig(ctx.state, tok, media["owner"]):
        raise errors.unsupported_request(method, object_id)
    permissions.require_all(ctx.state, tok, "ig_comments", login_of(ctx))
    ctx.touch(media["owner"], "instagram")


def ig_comment_of(ctx, tok, cid: str, method: str) -> tuple[dict, dict]:
    c = ctx.state.data["ig_comments"][cid]
    m = ctx.state.data["ig_media"][c["media"]]
    ig_access(ctx, tok, m, cid, method)
    return c, m


def ig_values(c: dict) -> dict:
    v = {k: c[k] for k in ("id", "text", "timestamp", "username", "from", "like_count", "hidden")}
    if c.get("parent_id"):
        v["parent_id"] = c["parent_id"]
    v["media"] = {"id": c["media"]}
    return v


def ig_view(ctx, c: dict, fields, default=IG_DEFAULT) -> dict:
    state = ctx.state

    def replies(f):
        check_fields(f.sub, "IGComment")
        rows = limited(cd.ig_replies(state, c["id"]), f)
        return {"data": [ig_view(ctx, r, f.sub or None) for r in rows]} if rows else None

    def media(f):
        m = state.data["ig_media"].get(c["media"])
        if m is None or f.sub is None:
            return {"id": c["media"]}
        check_fields(f.sub, media_spec(ctx))
        return render(media_values(ctx, m), f.sub)

    return render(ig_values(c), fields, default, {"replies": replies, "media": media})


def ig_page(ctx, rows: list, fields) -> dict:
    window, paging = paginate(ctx, rows, max_limit=IG_PAGE_MAX)
    out = {"data": [ig_view(ctx, c, fields) for c in window]}
    if paging:
        out["paging"] = paging
    return out


def ig_toplevel(state, media_id: str) -> list[dict]:
    rows = [c for c in state.data["ig_comments"].values() if c["media"] == media_id and not c.get("parent_id")]
    return sorted(rows, key=lambda c: (-c["ts"], c["id"]))  # newest first (reverse-chronological since v3.2)


def media_comments_get(ctx, tok, media_id):
    m = ctx.state.data["ig_media"][media_id]
    ig_access(ctx, tok, m, media_id, "GET")
    fields = parse_fields(ctx.get("fields"))
    check_fields(fields, "IGComment")
    return ig_page(ctx, ig_toplevel(ctx.state, media_id), fields)


def media_comments_field(ctx, tok, m: dict, f) -> dict | None:
    """``comments{…}`` asked as a field of a media (field expansion of the comments edge)."""
    ig_access(ctx, tok, m, m["id"], "GET")
    check_fields(f.sub, "IGComment")
    rows = limited(ig_toplevel(ctx.state, m["id"]), f)[:IG_PAGE_MAX]
    return {"data": [ig_view(ctx, c, f.sub or None) for c in rows]} if rows else None


def account_author(state, media: dict) -> dict:
    acc = state.data["ig_accounts"][media["owner"]]
    return {"id": acc["id"], "username": acc["username"]}


def media_comments_post(ctx, tok, media_id):
    state = ctx.state
    m = state.data["ig_media"][media_id]
    ig_access(ctx, tok, m, media_id, "POST")
    text = ctx.get("message")
    if not text:
        raise errors.missing_parameter("message")
    return {"id": cd.ig_new(state, m, text=text, author=account_author(state, m))["id"]}


def ig_comment_get(ctx, tok, cid):
    c, _ = ig_comment_of(ctx, tok, cid, "GET")
    fields = parse_fields(ctx.get("fields"))
    check_fields(fields, "IGComment")
    return ig_view(ctx, c, fields, default=("id", "text", "timestamp"))


def ig_replies_get(ctx, tok, cid):
    c, _ = ig_comment_of(ctx, tok, cid, "GET")
    fields = parse_fields(ctx.get("fields"))
    check_fields(fields, "IGComment")
    return ig_page(ctx, cd.ig_replies(ctx.state, c["id"]), fields)


def ig_replies_post(ctx, tok, cid):
    state = ctx.state
    c, m = ig_comment_of(ctx, tok, cid, "POST")
    text = ctx.get("message")
    if not text:
        raise errors.missing_parameter("message")
    top = cd.ig_top(state, c)
    if c["hidden"] or top["hidden"]:
        raise errors.ig_reply_to_hidden()
    reply = cd.ig_new(state, m, text=text, author=account_author(state, m), parent_id=top["id"])
    return {"id": reply["id"]}


def ig_comment_update(ctx, tok, cid):
    c, m = ig_comment_of(ctx, tok, cid, "POST")
    hide = boolean_param(ctx, "hide")
    if c["from"]["id"] == m["owner"]:
        raise errors.ig_hide_own_comment()
    c["hidden"] = hide
    return {"success": True}


def ig_comment_delete(ctx, tok, cid):
    ig_comment_of(ctx, tok, cid, "DELETE")
    cd.ig_delete(ctx.state, cid)
    return {"success": True}


for _platform, _media in (("facebook", "IGMedia"), ("instagram", "IGMediaForIGOnlyAPI")):
    node_edge(_platform, _media, "comments")(media_comments_get)
    node_edge(_platform, _media, "comments", "POST")(media_comments_post)
    node_edge(_platform, "IGComment", "#get")(ig_comment_get)
    node_edge(_platform, "IGComment", "replies")(ig_replies_get)
    node_edge(_platform, "IGComment", "replies", "POST")(ig_replies_post)
    node_edge(_platform, "IGComment", "#update", "POST")(ig_comment_update)
    node_edge(_platform, "IGComment", "#delete", "DELETE")(ig_comment_delete)


# ================================================================== Facebook Page
def page_of(state, c: dict) -> str:
    return state.data["posts"][c["post_id"]]["page_id"]


def fb_read(ctx, tok, page_id: str, object_id: str):
    """Reading comments: a token that sees the Page with pages_read_engagement (as reading the Page's posts)."""
    if not auth.can_see_page(ctx.state, tok, page_id):
        raise errors.unsupported_request(ctx.method, object_id)
    auth.require(ctx.state, tok, "pages_read_engagement", "pages_manage_posts")
    ctx.touch(page_id, "pages")


def fb_moderate(ctx, tok, page_id: str, object_id: str):
    """Replying, hiding, deleting, liking: the Page's token with the whole ``page_comments`` row."""
    if not auth.can_see_page(ctx.state, tok, page_id):
        raise errors.unsupported_request(ctx.method, object_id)
    if tok["kind"] != "PAGE":
        raise errors.page_token_required()
    permissions.require_all(ctx.state, tok, "page_comments", "facebook", code=200)
    ctx.touch(page_id, "pages")


def private_reply_refusal(state, c: dict) -> errors.MetaError | None:
    """Why Meta would refuse a private reply to this comment now, or None."""
    if c["from"]["id"] == page_of(state, c):
        return errors.private_reply_not_allowed()
    if c["id"] in state.data.get("private_replies", {}):
        return errors.private_reply_already_sent()
    if state.clock.now() - c["ts"] > PRIVATE_REPLY_WINDOW:
        return errors.private_reply_expired()
    return None


def fb_values(ctx, tok, c: dict) -> dict:
    state = ctx.state
    page_id = page_of(state, c)
    own = c["from"]["id"] == page_id
    v = {k: c[k] for k in ("id", "message", "created_time", "from", "like_count", "is_hidden")}
    messaging = tok["kind"] == "PAGE" and not permissions.missing(
        auth.scopes(state, tok), "page_private_reply", "facebook"
    )
    v.update(
        can_hide=not own,
        can_remove=True,
        can_like=True,
        can_comment=True,
        comment_count=0 if c.get("parent") else len(cd.fb_replies(state, c["id"])),
        can_reply_privately=messaging and private_reply_refusal(state, c) is None,
        user_likes=page_id in c.get("likers", []),
        is_private=False,
        permalink_url=cd.fb_permalink(state, c),
        object={"id": c["post_id"]},
    )
    sent = state.data.get("private_replies", {}).get(c["id"])
    if sent is not None:  # the Messenger conversation the private reply opened
        v["private_reply_conversation"] = {"id": "t_" + cd.digits(f"conversation:{sent['message_id']}", 15)}
    return v


def fb_view(ctx, tok, c: dict, fields, default=FB_DEFAULT) -> dict:
    state = ctx.state

    def parent(f):
        p = state.data["fb_comments"].get(c.get("parent") or "")
        if p is None:
            return None
        check_fields(f.sub, "Comment")
        return fb_view(ctx, tok, p, f.sub or None)

    def comments(f):
        check_fields(f.sub, "Comment")
        rows = cd.fb_replies(state, c["id"])
        if f.mods.get("order") == "reverse_chronological":
            rows = rows[::-1]
        out = {"data": [fb_view(ctx, tok, r, f.sub or None) for r in limited(rows, f)]}
        if truthy(f.mods.get("summary")):
            out["summary"] = summary(rows, f.mods.get("order"))
        return out if rows or "summary" in out else None

    def likes(f):
        return likes_view(ctx, c, f.sub, truthy(f.mods.get("summary")))

    return render(fb_values(ctx, tok, c), fields, default, {"parent": parent, "comments": comments, "likes": likes})


def summary(rows: list, order: str | None) -> dict:
    # Object Comments reference: summary {order, total_count, can_comment}; "ranked" when no order was asked
    return {"order": order or "ranked", "total_count": len(rows), "can_comment": True}


def fb_list(ctx, tok, rows: list) -> dict:
    """One page of comments as the comments edges answer, for ``filter``, ``order``, ``since``, ``summary``."""
    fields = parse_fields(ctx.get("fields"))
    check_fields(fields, "Comment")
    order = ctx.get("order")
    if order is not None and order not in ("chronological", "reverse_chronological"):
        raise errors.enum_param("order", ("chronological", "reverse_chronological"), order)
    if ctx.get("since"):
        try:
            since = float(ctx.get("since"))
        except ValueError:
            raise errors.invalid_parameter("(#100) Param since must be a unix timestamp") from None
        rows = [c for c in rows if c["ts"] >= since]
    rows = sorted(rows, key=lambda c: (c["ts"], c["id"]), reverse=order == "reverse_chronological")
    window, paging = paginate(ctx, rows)
    out = {"data": [fb_view(ctx, tok, c, fields) for c in window]}
    if paging:
        out["paging"] = paging
    if truthy(ctx.get("summary")):
        out["summary"] = summary(rows, order)
    return out


def filter_param(ctx) -> str:
    value = ctx.get("filter") or "toplevel"
    if value not in ("toplevel", "stream"):
        raise errors.enum_param("filter", ("toplevel", "stream"), value)
    return value


def post_rows(state, post_id: str, filter_: str) -> list[dict]:
    rows = [c for c in state.data["fb_comments"].values() if c["post_id"] == post_id]
    return rows if filter_ == "stream" else [c for c in rows if not c.get("parent")]


@node_edge("facebook", "PagePost", "comments")
def post_comments_get(ctx, tok, post_id):
    p = ctx.state.data["posts"][post_id]
    fb_read(ctx, tok, p["page_id"], post_id)
    return fb_list(ctx, tok, post_rows(ctx.state, post_id, filter_param(ctx)))


def post_comments_field(ctx, tok, post: dict, f) -> dict | None:
    """``comments{…}`` (with ``.filter()``, ``.order()``, ``.summary(true)``, ``.limit()``) on a post."""
    check_fields(f.sub, "Comment")
    filter_ = f.mods.get("filter") or "toplevel"
    rows = sorted(post_rows(ctx.state, post["id"], filter_), key=lambda c: (c["ts"], c["id"]))
    if f.mods.get("order") == "reverse_chronological":
        rows = rows[::-1]
    out = {"data": [fb_view(ctx, tok, c, f.sub or None) for c in limited(rows, f)]}
    if truthy(f.mods.get("summary")):
        out["summary"] = summary(rows, f.mods.get("order"))
    return out if rows or "summary" in out else None


def post_view(ctx, tok, post: dict, fields) -> dict:
    """A post as GET /{post-id} and the feed edges render it, with ``comments{…}`` expanded."""
    from .graph_nodes import post_values

    expand = {"comments": lambda f: post_comments_field(ctx, tok, post, f)}
    return render(post_values(ctx, post), fields, ("created_time", "message", "id"), expand)


@node_edge("facebook", "PagePost", "comments", "POST")
def post_comments_post(ctx, tok, post_id):
    """A comment on the Page's post (pages_manage_engagement, Page comments reference)."""
    state = ctx.state
    p = state.data["posts"][post_id]
    if not auth.can_see_page(state, tok, p["page_id"]):
        raise errors.unsupported_request("POST", post_id)
    auth.require(state, tok, "pages_manage_engagement", code=200)
    ctx.touch(p["page_id"], "pages")
    if not ctx.get("message") and not ctx.get("attachment_url"):
        raise errors.missing_parameter("message")
    page = state.data["pages"][p["page_id"]]
    c = cd.fb_new(state, p, message=ctx.get("message") or "", author={"id": page["id"], "name": page["name"]})
    return {"id": c["id"]}


@node_edge("facebook", "Comment", "#get")
def comment_get(ctx, tok, cid):
    c = ctx.state.data["fb_comments"][cid]
    fb_read(ctx, tok, page_of(ctx.state, c), cid)
    fields = parse_fields(ctx.get("fields"))
    check_fields(fields, "Comment")
    return fb_view(ctx, tok, c, fields)


@node_edge("facebook", "Comment", "comments")
def comment_replies_get(ctx, tok, cid):
    c = ctx.state.data["fb_comments"][cid]
    fb_read(ctx, tok, page_of(ctx.state, c), cid)
    filter_param(ctx)
    return fb_list(ctx, tok, cd.fb_replies(ctx.state, cid))


@node_edge("facebook", "Comment", "comments", "POST")
def comment_replies_post(ctx, tok, cid):
    state = ctx.state
    c = state.data["fb_comments"][cid]
    page_id = page_of(state, c)
    fb_moderate(ctx, tok, page_id, cid)
    message = ctx.get("message")
    if not message and not ctx.get("attachment_url"):
        raise errors.missing_parameter("message")
    page = state.data["pages"][page_id]
    top = cd.fb_top(state, c)
    reply = cd.fb_new(
        state,
        state.data["posts"][c["post_id"]],
        message=message or "",
        author={"id": page["id"], "name": page["name"]},
        parent=top["id"],
    )
    return {"id": reply["id"]}


@node_edge("facebook", "Comment", "#update", "POST")
def comment_update(ctx, tok, cid):
    state = ctx.state
    c = state.data["fb_comments"][cid]
    page_id = page_of(state, c)
    fb_moderate(ctx, tok, page_id, cid)
    own = c["from"]["id"] == page_id
    if ctx.get("is_hidden") is None and ctx.get("message") is None:
        raise errors.missing_parameter("is_hidden")
    if ctx.get("is_hidden") is not None:
        hidden = boolean_param(ctx, "is_hidden")
        if own:
            raise errors.fb_hide_own_comment()
        c["is_hidden"] = hidden
    if ctx.get("message") is not None:
        if not own:
            raise errors.fb_edit_others_comment()
        if not ctx.get("message"):
            raise errors.missing_parameter("message")
        c["message"] = ctx.get("message")
    return {"success": True}


@node_edge("facebook", "Comment", "#delete", "DELETE")
def comment_delete(ctx, tok, cid):
    c = ctx.state.data["fb_comments"][cid]
    fb_moderate(ctx, tok, page_of(ctx.state, c), cid)
    cd.fb_delete(ctx.state, cid)
    return {"success": True}


def likes_view(ctx, c: dict, sub, with_summary: bool) -> dict:
    check_fields(sub, "Page")
    page_id = page_of(ctx.state, c)
    rows = []
    if page_id in c.get("likers", []):
        page = ctx.state.data["pages"][page_id]
        rows.append(render({"id": page["id"], "name": page["name"]}, sub or None, ("name", "id")))
    out = {"data": rows}
    if with_summary:
        out["summary"] = {"total_count": c["like_count"], "can_like": True, "has_liked": bool(rows)}
    return out


@node_edge("facebook", "Comment", "likes")
def comment_likes_get(ctx, tok, cid):
    c = ctx.state.data["fb_comments"][cid]
    fb_read(ctx, tok, page_of(ctx.state, c), cid)
    fields = parse_fields(ctx.get("fields"))
    return likes_view(ctx, c, fields, truthy(ctx.get("summary")))


def like(ctx, tok, cid, on: bool):
    c = ctx.state.data["fb_comments"][cid]
    page_id = page_of(ctx.state, c)
    fb_moderate(ctx, tok, page_id, cid)
    likers = c.setdefault("likers", [])
    if on and page_id not in likers:
        likers.append(page_id)
        c["like_count"] += 1
    elif not on and page_id in likers:
        likers.remove(page_id)
        c["like_count"] = max(c["like_count"] - 1, 0)
    return {"success": True}


node_edge("facebook", "Comment", "likes", "POST")(lambda ctx, tok, cid: like(ctx, tok, cid, True))
node_edge("facebook", "Comment", "likes", "DELETE")(lambda ctx, tok, cid: like(ctx, tok, cid, False))


# ------------------------------------------------------------------ private replies
def json_object(ctx, name: str) -> dict:
    raw = ctx.get(name)
    if raw in (None, ""):
        raise errors.missing_parameter(name)
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise errors.invalid_parameter(f"(#100) Param {name} must be a JSON object")
    return value


@node_edge("facebook", "Page", "messages", "POST")
def page_messages(ctx, tok, page_id):
    state = ctx.state
    if not auth.can_see_page(state, tok, page_id):
        raise errors.unsupported_request("POST", page_id)
    if tok["kind"] != "PAGE":
        raise errors.page_token_required()
    permissions.require_all(state, tok, "page_private_reply", "facebook", code=230)
    ctx.touch(page_id, "pages")
    recipient = json_object(ctx, "recipient")
    message = json_object(ctx, "message")
    text = message.get("text")
    if not isinstance(text, str) or not text.strip():
        raise errors.invalid_parameter("(#100) Param message[text] must be a non-empty UTF-8 encoded string")
    if len(text) > MESSAGE_MAX:
        raise errors.invalid_parameter(
            f"(#100) Length of param message[text] must be less than or equal to {MESSAGE_MAX}"
        )
    if "comment_id" not in recipient:
        raise errors.message_outside_window()
    c = state.data["fb_comments"].get(str(recipient["comment_id"]))
    if c is None or page_of(state, c) != page_id:
        raise errors.private_reply_no_recipient()
    refusal = private_reply_refusal(state, c)
    if refusal is not None:
        raise refusal
    message_id = "m_" + secrets.token_urlsafe(48)
    state.data.setdefault("private_replies", {})[c["id"]] = {
        "message_id": message_id,
        "text": text,
        "ts": state.clock.now(),
        "page_id": page_id,
    }
    return {"recipient_id": cd.psid(state, page_id, c["from"]["id"]), "message_id": message_id}
