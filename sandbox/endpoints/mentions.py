"""Where strangers @mention a managed Instagram account (Facebook Login; IG User Mentioned Comment, Mentioned
Media and Mentions references; spec IGUser fields ``mentioned_comment``, ``mentioned_media``, edge ``mentions``):
- GET /{ig-user-id}?fields=mentioned_comment.comment_id(<id>){id,text,timestamp,username,like_count,media{…}}
  → {"mentioned_comment": {…}, "id": <ig-user-id>}
- GET /{ig-user-id}?fields=mentioned_media.media_id(<id>){id,caption,permalink,media_url,media_type,…}
  → {"mentioned_media": {…}, "id": <ig-user-id>}
- POST /{ig-user-id}/mentions (``media_id``, ``comment_id`` for a comment mention, ``message``) → {"id"}: a
  comment on the stranger's media, or a reply to the mentioning comment (under its top-level comment).
Permissions: the ``ig_comments`` row. The stranger's media and comments cannot be read as nodes (IG Comment
reference: "requests cannot be performed on comments discovered through the Mentions API"), so they are not
objects of ``state.node_type`` and answer 100/33. A comment or media that does not mention the account is
refused the same way (verify).
"""

from __future__ import annotations

from .. import auth, errors, permissions
from .. import comment_data as cd
from .comments import login_of
from .graph_nodes import check_fields, media_values, node_edge, render


def mention_check(ctx, tok):
    permissions.require_all(ctx.state, tok, "ig_comments", login_of(ctx))


def mentioned_comment(ctx, tok, ig_id, f):
    mention_check(ctx, tok)
    cid = f.mods.get("comment_id")
    if not cid:
        raise errors.invalid_parameter("(#100) mentioned_comment needs .comment_id(<comment id>)")  # (verify)
    c = ctx.state.data.get("mention_comments", {}).get(cid)
    if c is None or ig_id not in c.get("mentions", []):
        raise errors.unsupported_request("GET", cid)
    check_fields(f.sub, "IGComment")
    media = ctx.state.data["mention_media"].get(c["media"])

    def media_field(g):
        if g.sub is None or media is None:
            return {"id": c["media"]}
        check_fields(g.sub, "IGMedia")
        return render(media_values(ctx, media), g.sub)

    values = {k: c[k] for k in ("id", "text", "timestamp", "username", "like_count", "hidden")}
    if c.get("parent_id"):
        values["parent_id"] = c["parent_id"]
    return render(values, f.sub or None, ("id",), {"media": media_field})


def mentioned_media(ctx, tok, ig_id, f):
    mention_check(ctx, tok)
    mid = f.mods.get("media_id")
    if not mid:
        raise errors.invalid_parameter("(#100) mentioned_media needs .media_id(<media id>)")  # (verify)
    m = ctx.state.data.get("mention_media", {}).get(mid)
    if m is None or ig_id not in m.get("mentions", []):
        raise errors.unsupported_request("GET", mid)
    check_fields(f.sub, "IGMedia")
    return render(media_values(ctx, m), f.sub or None)


def expansions(ctx, tok, ig_id) -> dict:
    return {
        "mentioned_comment": lambda f: mentioned_comment(ctx, tok, ig_id, f),
        "mentioned_media": lambda f: mentioned_media(ctx, tok, ig_id, f),
    }


def mentions_post(ctx, tok, ig_id):
    state = ctx.state
    if not auth.can_see_ig(state, tok, ig_id):
        raise errors.unsupported_request("POST", ig_id)
    mention_check(ctx, tok)
    ctx.touch(ig_id, "instagram")
    media_id, message, comment_id = ctx.get("media_id"), ctx.get("message"), ctx.get("comment_id")
    if not media_id:
        raise errors.missing_parameter("media_id")
    if not message:
        raise errors.missing_parameter("message")
    media = state.data.get("mention_media", {}).get(media_id)
    if media is None:
        raise errors.invalid_parameter(f"(#100) Invalid media_id {media_id}")  # (verify)
    acc = state.data["ig_accounts"][ig_id]
    author = {"id": acc["id"], "username": acc["username"]}
    if comment_id:
        c = state.data["mention_comments"].get(comment_id)
        if c is None or c["media"] != media_id or ig_id not in c.get("mentions", []):
            raise errors.invalid_parameter(f"(#100) Invalid comment_id {comment_id}")  # (verify)
        top = c["parent_id"] or c["id"]
        return {"id": cd.mention_comment_new(state, media, message, author, parent_id=top)["id"]}
    if ig_id not in media.get("mentions", []):
        raise errors.invalid_parameter(f"(#100) Invalid media_id {media_id}")  # (verify)
    return {"id": cd.mention_comment_new(state, media, message, author)["id"]}


node_edge("facebook", "IGUser", "mentions", "POST")(mentions_post)
node_edge("instagram", "IGUserForIGOnlyAPI", "mentions", "POST")(mentions_post)
