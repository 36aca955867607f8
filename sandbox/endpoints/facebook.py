"""graph.facebook.com: /me, /me/accounts, /me/permissions, /debug_token (Page/IG nodes: graph_nodes.py).

Sources:
- /me/accounts with id,name,access_token,instagram_business_account — seeds/003 ("Get User Accounts"),
  cursor paging {"paging": {"cursors": {"before","after"}, "next"}} — seeds/003 media example;
  developers.facebook.com/docs/graph-api/results (cursor-based pagination).
- /me/permissions → data [{permission, status: granted|declined}]; DELETE /me/permissions[/{perm}] →
  {"success": true} — developers.facebook.com/docs/facebook-login/guides/permissions/request-revoke
- /debug_token → {"data": {app_id, type, application, data_access_expires_at, expires_at, is_valid,
  issued_at, scopes, granular_scopes, user_id}} — developers.facebook.com/docs/facebook-login/guides/
  access-tokens/debugging (issued_at "for long-lived access tokens"; we send it always);
  profile_id for Page tokens — developers.facebook.com/docs/graph-api/reference/debug_token
"""

from __future__ import annotations

import base64

from .. import auth, errors
from ..app import GRAPH, next_url, route
from ..state import APP_NAME
from .graph_nodes import (
    call_token,
    check_fields,
    node_edge,
    parse_fields,
    picture,
    render,
    render_page,
    token_value,
)


def cursor(value: str) -> str:
    return base64.urlsafe_b64encode(f"sandbox:{value}".encode()).decode().rstrip("=")


def uncursor(value: str) -> str | None:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        return raw.split(":", 1)[1] if raw.startswith("sandbox:") else None
    except Exception:
        return None


def paginate(ctx, items: list, key=lambda x: x["id"], default_limit=25, max_limit=100):
    """Cursor paging as Graph does: limit, after, before → data + paging.cursors (+ next / previous)."""
    try:
        limit = int(ctx.get("limit", default_limit))
    except ValueError:
        raise errors.invalid_parameter("(#100) Param limit must be a number") from None
    limit = max(1, min(limit, max_limit))
    start = 0
    if ctx.get("after"):
        ref = uncursor(ctx.get("after"))
        ids = [key(x) for x in items]
        if ref not in ids:
            raise errors.invalid_parameter("(#100) Invalid cursor")  # (verify text)
        start = ids.index(ref) + 1
    elif ctx.get("before"):
        ref = uncursor(ctx.get("before"))
        ids = [key(x) for x in items]
        if ref not in ids:
            raise errors.invalid_parameter("(#100) Invalid cursor")
        start = max(0, ids.index(ref) - limit)
    window = items[start : start + limit]
    paging = {}
    if window:
        paging["cursors"] = {"before": cursor(key(window[0])), "after": cursor(key(window[-1]))}
        if start + limit < len(items):
            paging["next"] = next_url(ctx, after=paging["cursors"]["after"], before=None)
        if start > 0:
            paging["previous"] = next_url(ctx, before=paging["cursors"]["before"], after=None)
    return window, paging


# ------------------------------------------------------------------ /me (User node)
def user_view(ctx, user, tok, fields):
    check_fields(fields, "User")
    values = {k: user[k] for k in ("id", "name", "first_name", "last_name", "short_name")}
    if "email" in auth.scopes(ctx.state, tok):
        values["email"] = user["email"]  # email needs the email permission, else it is left out
    return render(
        values, fields, ("name", "id"), {"picture": lambda f: picture(ctx, f"/__sandbox__/avatar/{user['id']}.png")}
    )


@node_edge("facebook", "User", "#get")
def user_get(ctx, tok, user_id):
    if tok["kind"] != "USER" or tok["user_id"] != user_id:
        raise errors.unsupported_request("GET", user_id)
    return user_view(ctx, ctx.state.data["users"][user_id], tok, parse_fields(ctx.get("fields")))


@node_edge("facebook", "User", "accounts")
def user_accounts(ctx, tok, user_id):
    if tok["kind"] != "USER" or tok["user_id"] != user_id:
        raise errors.unsupported_request("GET", user_id)
    state = ctx.state
    fields = parse_fields(ctx.get("fields"))
    check_fields(fields, "Page", ("tasks",))
    grant = auth.grant_for(state, tok)
    pages = []
    if "pages_show_list" in grant["granted"]:  # without it the list is empty (verify)
        user = state.data["users"][user_id]
        pages = [state.data["pages"][p] for p in user["page_ids"] if p in grant["page_ids"]]
    window, paging = paginate(ctx, pages)
    data = [
        render_page(
            ctx,
            p,
            fields,
            tok,
            accounts=True,
            default=("access_token", "category", "category_list", "name", "id", "tasks"),
        )
        for p in window
    ]
    out = {"data": data}
    if paging:
        out["paging"] = paging
    return out


# ------------------------------------------------------------------ permissions
def _perm_user(ctx, tok, user_id):
    if tok["kind"] == "USER" and tok["user_id"] == user_id:
        return tok
    if tok["kind"] == "APP" and ctx.state.grant(user_id, tok["app_id"]):
        return tok
    raise errors.unsupported_request(ctx.method, user_id)


@node_edge("facebook", "User", "permissions")
def permissions_get(ctx, tok, user_id):
    _perm_user(ctx, tok, user_id)
    g = ctx.state.grant(user_id, tok["app_id"])
    rows = [{"permission": p, "status": "granted"} for p in g["granted"]]
    rows += [{"permission": p, "status": "declined"} for p in g["declined"]]
    return {"data": rows}


@node_edge("facebook", "User", "permissions", "DELETE")
def permissions_delete_all(ctx, tok, user_id):
    _perm_user(ctx, tok, user_id)
    # de-authorizes the app: the grant goes, every token of (user, app) then fails with 190/458
    ctx.state.data["grants"].pop(ctx.state.grant_key(user_id, tok["app_id"]), None)
    return {"success": True}


def remove_permission(state, user_id, app_id, perm) -> bool:
    g = state.grant(user_id, app_id)
    if not g or perm not in g["granted"]:
        return False
    g["granted"].remove(perm)
    if perm not in g["declined"]:
        g["declined"].append(perm)
    return True


@route(GRAPH, r"/(?P<node>me|\d+)/permissions/(?P<perm>[a-z_]+)", ("GET", "DELETE"), params=())
def permission_one(ctx, node, perm):
    tok = call_token(ctx, me=(node == "me"))
    user_id = tok["user_id"] if node == "me" else node
    if node == "me" and tok["kind"] != "USER":
        raise errors.token_missing_me()
    _perm_user(ctx, tok, user_id)
    if ctx.method == "DELETE":
        remove_permission(ctx.state, user_id, tok["app_id"], perm)
        return {"success": True}
    g = ctx.state.grant(user_id, tok["app_id"])
    status = "granted" if perm in g["granted"] else "declined" if perm in g["declined"] else None
    return {"data": [{"permission": perm, "status": status}] if status else []}


# ------------------------------------------------------------------ debug_token
def debug_data(state, value: str, platform="facebook") -> dict:
    tok = state.data["tokens"].get(value or "")
    if tok is None and "|" in (value or ""):
        try:
            tok = auth.app_secret_token(state, value, platform)
        except errors.MetaError:
            tok = None
    if tok is None or tok["platform"] != platform:
        # malformed token: only the error, is_valid false, empty scopes (access-tokens/debugging)
        return {"error": {"code": 190, "message": "Invalid OAuth access token."}, "is_valid": False, "scopes": []}
    data = {"app_id": tok["app_id"], "type": tok["kind"], "application": APP_NAME}
    if tok["kind"] != "APP":
        data["data_access_expires_at"] = tok["data_access_expires_at"]
        data["expires_at"] = tok["expires_at"]
    err = auth.invalid_error(state, tok)
    data["is_valid"] = err is None
    if err is not None:
        data["error"] = {"code": err.code, "message": err.message}
        if err.subcode:
            data["error"]["subcode"] = err.subcode
    if tok["kind"] != "APP":
        data["issued_at"] = tok["issued_at"]
        if tok["kind"] == "PAGE":
            data["profile_id"] = tok["page_id"]
        data["scopes"] = auth.scopes(state, tok)
        data["granular_scopes"] = auth.granular_scopes(state, tok)
        data["user_id"] = tok["user_id"] if platform == "facebook" else tok["ig_user_id"]
    else:
        data["scopes"] = []
    return data


@route(GRAPH, r"/debug_token", params=("input_token",))
def debug_token(ctx):
    if not token_value(ctx):
        raise errors.debug_token_needs_app_token()
    tok = call_token(ctx)
    if tok["app_id"] != ctx.state.config.app_id:
        raise errors.debug_token_needs_app_token()
    if not ctx.get("input_token"):
        raise errors.missing_parameter("input_token")
    return {"data": debug_data(ctx.state, ctx.get("input_token"))}


# ------------------------------------------------------------------ Page, post and comment nodes
# What anyone with a Facebook token reads of a public Page nobody here manages (a place): Page fields the sandbox
# holds for it; Meta leaves out fields without a value, so a Page without an address has no "location".
PUBLIC_PAGE_FIELDS = ("id", "name", "username", "link", "location")


def public_page_get(ctx, tok, page):
    if tok["platform"] != "facebook" or tok["kind"] not in ("USER", "PAGE"):
        raise errors.unsupported_request("GET", page["id"])
    fields = parse_fields(ctx.get("fields"))
    check_fields(fields, "Page")
    values = {k: page[k] for k in PUBLIC_PAGE_FIELDS if k in page}
    return render(values, fields, ("name", "id"))


@node_edge("facebook", "Page", "#get")
def page_get(ctx, tok, page_id):
    place = ctx.state.data.get("places", {}).get(page_id)
    if place is not None:
        return public_page_get(ctx, tok, place)
    if not auth.can_see_page(ctx.state, tok, page_id):
        raise errors.unsupported_request("GET", page_id)
    if tok["kind"] == "USER":
        auth.require(ctx.state, tok, "pages_show_list", "pages_read_engagement")
    ctx.touch(page_id, "pages")
    return render_page(ctx, ctx.state.data["pages"][page_id], parse_fields(ctx.get("fields")), tok)


@node_edge("facebook", "PagePost", "#get")
def post_get(ctx, tok, post_id):
    p = ctx.state.data["posts"][post_id]
    if not auth.can_see_page(ctx.state, tok, p["page_id"]):
        raise errors.unsupported_request("GET", post_id)
    from ..processing import refresh_post

    refresh_post(ctx.state, p)
    fields = parse_fields(ctx.get("fields"))
    check_fields(fields, "PagePost")
    ctx.touch(p["page_id"], "pages")
    from .comments import post_view

    return post_view(ctx, tok, p, fields)


# Comment nodes (GET /{comment-id}) are served by comments.py
