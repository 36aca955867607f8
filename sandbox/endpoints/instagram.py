"""Instagram professional accounts, both ways in:
- graph.facebook.com/{ig-user-id} with Facebook Login tokens (user token granted instagram_basic with the
  account chosen in the dialog, or the token of the Page it is linked to) — spec IGUser.json, seeds/001;
- graph.instagram.com/{v}/me and /{id} with Instagram Login tokens (instagram_business_basic) — spec
  IGUserForIGOnlyAPI.json ("id" app-scoped, "user_id" the professional account id), seeds/003.
Media and comment nodes are readable the same two ways (specs IGMedia, IGMediaForIGOnlyAPI, IGComment).
"""

from __future__ import annotations

from .. import auth, errors
from .graph_nodes import check_fields, ig_values, node_edge, parse_fields, render


@node_edge("facebook", "IGUser", "#get")
def ig_user_get(ctx, tok, ig_id):
    if not auth.can_see_ig(ctx.state, tok, ig_id):
        raise errors.unsupported_request("GET", ig_id)
    auth.require(ctx.state, tok, "instagram_basic")
    fields = parse_fields(ctx.get("fields"))
    check_fields(fields, "IGUser")
    ctx.touch(ig_id, "instagram")
    from .mentions import expansions

    return render(ig_values(ctx, ctx.state.data["ig_accounts"][ig_id]), fields, expand=expansions(ctx, tok, ig_id))


@node_edge("instagram", "IGUserForIGOnlyAPI", "#get")
def ig_only_user_get(ctx, tok, ig_id):
    if tok["ig_user_id"] != ig_id:
        raise errors.unsupported_request("GET", ctx.path.strip("/").split("/")[0])
    auth.require(ctx.state, tok, "instagram_business_basic")
    fields = parse_fields(ctx.get("fields"))
    check_fields(fields, "IGUserForIGOnlyAPI")
    ctx.touch(ig_id, "instagram")
    return render(ig_values(ctx, ctx.state.data["ig_accounts"][ig_id], ig_only=True), fields)


# IG media nodes (GET /{ig-media-id} with children{...}) are served by ig_media_edges.py, IG comment nodes by
# comments.py
