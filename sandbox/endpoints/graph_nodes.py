"""Generic Graph node dispatch (``/{id}``, ``/{id}/{edge}``, ``/me``) for graph.facebook.com and
graph.instagram.com, the ``fields`` parser, field validation against Meta's specs, and node views.

Rules:
- Field names valid per node type = its fields plus its GET edges, from specs/*.json (sandbox/specs.json).
  An unknown name → (#100) Tried accessing nonexisting field (x) on node type (T).
- An id that does not exist or the token may not see → 100/33 "Unsupported get request. Object with ID …".
- A Page may be named by its username; one no Page has → 803 "Some of the aliases you requested do not exist".
- An edge a node does not have (not in the spec) → 2500 "Unknown path components: /edge".
- A method the edge does not take → 100/33 "Unsupported post/delete request …".
- Calls with user/Page tokens need appsecret_proof (securing-requests doc).
- A parameter the spec does not list for the edge and method (besides app.COMMON_PARAMS) → code 100.
"""

from __future__ import annotations

import json
import os
import re

from .. import auth, errors, insight_data
from ..app import IG_GRAPH, check_params

with open(os.path.join(os.path.dirname(os.path.dirname(__file__)), "specs.json")) as _fh:
    SPECS = json.load(_fh)

EXTRA_FIELDS = {"Page": {"picture"}, "User": {"picture"}}
# Parameters Meta documents for an edge that the machine-readable specs leave out (file uploads):
# Page photos reference, "source: the photo, encoded as form data".
EXTRA_PARAMS = {("Page", "photos POST"): {"source"}}
NODE_EDGES: dict[tuple, object] = {}
# A Page's username ("alias"), usable in place of its id on graph.facebook.com: letters, digits and periods.
ALIAS_RE = re.compile(r"[A-Za-z0-9.]+")


def node_edge(platform: str, node_type: str, edge: str, method: str = "GET"):
    def deco(fn):
        NODE_EDGES[(platform, node_type, edge, method)] = fn
        return fn

    return deco


# ------------------------------------------------------------------ fields parser
class Field:
    def __init__(self, name, sub=None, mods=None):
        self.name, self.sub, self.mods = name, sub, mods or {}

    def __repr__(self):
        return f"Field({self.name!r}, {self.sub!r}, {self.mods!r})"


def _split_top(s: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch in "{(":
            depth += 1
        elif ch in "})":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return [x.strip() for x in out if x.strip()]


def parse_fields(s: str | None) -> list[Field] | None:
    """``id,name,instagram_business_account{id,username},picture.type(large)`` → [Field, ...]"""
    if s is None or s.strip() == "":
        return None
    fields = []
    for part in _split_top(s):
        sub = None
        if part.endswith("}") and "{" in part:
            i = part.index("{")
            sub = parse_fields(part[i + 1 : -1]) or []
            part = part[:i]
        name, *mods = part.split(".")
        modmap = {}
        for m in mods:
            if "(" in m and m.endswith(")"):
                k, v = m[:-1].split("(", 1)
                modmap[k] = v
        fields.append(Field(name.strip(), sub, modmap))
    return fields


def valid_fields(spec_name: str, extra=()) -> set[str]:
    spec = SPECS[spec_name]
    edges = {e for e, methods in spec["edges"].items() if "GET" in methods and not e.startswith("#")}
    return set(spec["fields"]) | edges | EXTRA_FIELDS.get(spec_name, set()) | set(extra)


def check_fields(fields: list[Field] | None, spec_name: str, extra=()):
    if not fields:
        return
    ok = valid_fields(spec_name, extra)
    for f in fields:
        if f.name not in ok:
            raise errors.nonexisting_field(f.name, spec_name)


# ------------------------------------------------------------------ tokens from a call
def token_value(ctx) -> str | None:
    value = ctx.get("access_token")
    if not value:
        authz = ctx.headers.get("Authorization", "")
        for scheme in ("Bearer ", "OAuth "):
            if authz.startswith(scheme):
                value = authz[len(scheme) :].strip()
    return value or None


def call_token(ctx, *, me=False, proof=True) -> dict:
    platform = "instagram" if ctx.host == IG_GRAPH else "facebook"
    value = token_value(ctx)
    if not value:
        raise errors.token_missing_me() if me else errors.token_missing()
    tok = auth.lookup(ctx.state, value, platform)
    if proof:
        auth.check_proof(ctx.state, tok, ctx.get("appsecret_proof"))
    return tok


# ------------------------------------------------------------------ views
def picture(ctx, path):
    # Page/User picture edge as a field: {"data": {"height", "is_silhouette", "url", "width"}}
    return {"data": {"height": 50, "is_silhouette": False, "url": ctx.url(path), "width": 50}}


def page_values(ctx, page, tok, accounts=False):
    v = {
        k: page[k]
        for k in (
            "id",
            "name",
            "category",
            "category_list",
            "about",
            "fan_count",
            "followers_count",
            "link",
            "username",
            "is_published",
            "verification_status",
            "website",
        )
    }
    # the follower total grows with the clock (insight_data.py): the latest complete day's, as page_follows says
    v["followers_count"] = insight_data.profile_followers(ctx.state, page)
    v["fan_count"] = insight_data.profile_fans(ctx.state, page)
    if tok and tok["kind"] == "USER":
        v["access_token"] = auth.page_token_for(ctx.state, tok, page["id"])["token"]
    elif tok and tok["kind"] == "PAGE":
        v["access_token"] = tok["token"]
    if accounts:
        v["tasks"] = page["tasks"]
    return v


def ig_values(ctx, acc, ig_only=False):
    v = {
        k: acc[k]
        for k in (
            "id",
            "ig_id",
            "username",
            "name",
            "biography",
            "website",
            "followers_count",
            "follows_count",
            "media_count",
            "has_profile_pic",
        )
    }
    # the follower total grows with the clock (insight_data.py): the latest complete day's
    v["followers_count"] = insight_data.profile_followers(ctx.state, acc)
    v["profile_picture_url"] = ctx.url(acc["profile_picture_path"])
    if ig_only:
        # Instagram Login: "id" is app-scoped, "user_id" is the professional account id (IGUserForIGOnlyAPI spec)
        v["id"], v["user_id"], v["account_type"] = acc["scoped_id"], acc["id"], acc["account_type"]
        v.pop("ig_id")
    return v


def media_values(ctx, m):
    v = {
        k: m[k]
        for k in (
            "id",
            "caption",
            "media_type",
            "media_product_type",
            "permalink",
            "shortcode",
            "timestamp",
            "like_count",
            "comments_count",
            "username",
            "is_comment_enabled",
        )
    }
    v["media_url"] = ctx.url(m["media_path"])
    v["owner"] = {"id": m["owner"]}
    return v


def post_values(ctx, p):
    page = ctx.state.data["pages"][p["page_id"]]
    v = {
        k: p[k]
        for k in (
            "id",
            "message",
            "created_time",
            "updated_time",
            "permalink_url",
            "is_published",
            "is_hidden",
            "status_type",
        )
    }
    v["from"] = {"name": page["name"], "id": page["id"]}
    v["shares"] = {"count": p["shares"]}
    if p.get("call_to_action"):
        v["call_to_action"] = p["call_to_action"]
    if p.get("scheduled_publish_time"):
        v["scheduled_publish_time"] = p["scheduled_publish_time"]
    if p.get("attached_media"):
        # Graph API "attachments" of a multi-photo post: one album attachment whose subattachments are the photos.
        photos = [{"type": "photo", "target": {"id": pid}} for pid in p["attached_media"]]
        v["attachments"] = {"data": [{"type": "album", "subattachments": {"data": photos}}]}
    return v


def render(values: dict, fields: list[Field] | None, default=("id",), expand=None) -> dict:
    expand = expand or {}
    wanted = fields if fields is not None else [Field(n) for n in default]
    out = {}
    for f in wanted:
        if f.name in expand:
            val = expand[f.name](f)
            if val is not None:
                out[f.name] = val
        elif f.name in values:
            out[f.name] = values[f.name]
    if "id" in values and "id" not in out:
        out["id"] = values["id"]
    return out


def render_page(ctx, page, fields, tok, accounts=False, default=("name", "id")):
    extra = ("tasks",) if accounts else ()
    check_fields(fields, "Page", extra)

    def ig(f):
        acc = ctx.state.data["ig_accounts"].get(page.get("ig_user_id") or "")
        if acc is None:
            return None
        check_fields(f.sub, "IGUser")
        ctx.touch(acc["id"], "instagram")
        return render(ig_values(ctx, acc), f.sub or None)

    return render(
        page_values(ctx, page, tok, accounts),
        fields,
        default,
        {
            "instagram_business_account": ig,
            "connected_instagram_account": ig,
            "picture": lambda f: picture(ctx, page["picture_path"]),
        },
    )


# ------------------------------------------------------------------ dispatch
def resolve(ctx, node_id: str, tok: dict) -> tuple[str, str] | None:
    """(spec node type, object id) or None."""
    state = ctx.state
    if ctx.host == IG_GRAPH:
        if node_id == "me":
            return "IGUserForIGOnlyAPI", tok["ig_user_id"]
        acc = state.ig_by_scoped_id(node_id)
        if acc:
            return "IGUserForIGOnlyAPI", acc["id"]
        t = state.node_type(node_id)
        return {
            "IGUser": ("IGUserForIGOnlyAPI", node_id),
            "IGMedia": ("IGMediaForIGOnlyAPI", node_id),
            "IGComment": ("IGComment", node_id),
            "ShadowIGMediaBuilder": ("ShadowIGMediaBuilder", node_id),
        }.get(t)
    if node_id == "me":
        if tok["kind"] == "PAGE":
            return "Page", tok["page_id"]  # /me with a Page token is the Page
        if tok["kind"] == "USER":
            return "User", tok["user_id"]
        raise errors.token_missing_me()
    t = state.node_type(node_id)
    if t is None and ALIAS_RE.fullmatch(node_id) and not node_id.isdigit():
        page_id = state.page_id_for_alias(node_id)
        if page_id is None:
            raise errors.alias_not_found(node_id)
        return "Page", page_id
    return (t, node_id) if t else None


def node_dispatch(ctx):
    parts = [p for p in ctx.path.strip("/").split("/") if p]
    if not parts:
        raise errors.unsupported_request(ctx.method, "")
    node_id = parts[0]
    platform = "instagram" if ctx.host == IG_GRAPH else "facebook"
    tok = call_token(ctx, me=(node_id == "me"))
    if len(parts) > 2:
        raise errors.unknown_path("/" + "/".join(parts[2:]))
    found = resolve(ctx, node_id, tok)
    if found is None:
        raise errors.unsupported_request(ctx.method, node_id)
    spec_name, obj_id = found
    spec = SPECS[spec_name]
    if len(parts) == 2:
        edge = parts[1]
        if edge not in spec["edges"]:
            raise errors.unknown_path("/" + edge)
        if ctx.method not in spec["edges"][edge]:
            raise errors.unsupported_request(ctx.method, node_id)
    else:
        edge = {"GET": "#get", "POST": "#update", "DELETE": "#delete"}.get(ctx.method, "#get")
        if edge not in spec["edges"]:
            raise errors.unsupported_request(ctx.method, node_id)
    handler = NODE_EDGES.get((platform, spec_name, edge, ctx.method))
    if handler is None:
        ctx.extra_headers["X-Sandbox-Not-Implemented"] = f"{ctx.method} {spec_name}/{edge}"
        raise errors.unsupported_request(ctx.method, node_id)
    key = f"{edge} {ctx.method}"
    check_params(ctx, set(spec["params"].get(key, ())) | EXTRA_PARAMS.get((spec_name, key), set()))
    return handler(ctx, tok, obj_id)
