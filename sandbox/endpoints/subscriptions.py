"""Webhook subscriptions of the app on a Page or an Instagram-Login account (specs Page and IGUserForIGOnlyAPI
edge ``subscribed_apps``; Webhooks getting-started; graph-api reference §3.3):
- POST /{page-id}/subscribed_apps?subscribed_fields=feed,mention → {"success": true}: the Page's token
  (210 otherwise) with ``pages_manage_metadata`` (403 / 10 otherwise); the list replaces the earlier one.
- GET /{page-id}/subscribed_apps → {"data": [{"category", "link", "name", "id", "subscribed_fields"}]} (empty
  when the app is not subscribed); DELETE → {"success": true}.
- graph.instagram.com POST|GET|DELETE /me/subscribed_apps (or /{ig-user-id}/…) with an Instagram-Login token:
  ``instagram_business_manage_comments`` for comments / live_comments / mentions, ``…_manage_messages`` for
  messaging fields.
A field outside the object's webhook fields → (#100) "Param subscribed_fields[i] must be one of …" (verify text).
Subscriptions are kept in the state as ``subscriptions``: {object id: [fields]}; webhooks.py sends generated
activity only for subscribed objects.
"""

from __future__ import annotations

import json

from .. import auth, errors
from ..state import APP_NAME
from .graph_nodes import node_edge

# Webhooks reference: Page fields and Instagram fields an app can subscribe a Page / account to
PAGE_FIELDS = {
    "feed",
    "mention",
    "messages",
    "message_deliveries",
    "message_echoes",
    "message_reads",
    "message_reactions",
    "messaging_optins",
    "messaging_postbacks",
    "messaging_referrals",
    "messaging_handovers",
    "standby",
    "ratings",
    "live_videos",
    "leadgen",
    "videos",
    "name",
    "picture",
    "category",
    "description",
    "website",
    "conversations",
    "inbox_labels",
}
IG_FIELDS = {
    "comments",
    "live_comments",
    "mentions",
    "messages",
    "message_edit",
    "message_reactions",
    "messaging_handover",
    "messaging_optins",
    "messaging_postbacks",
    "messaging_referral",
    "messaging_seen",
    "standby",
    "story_insights",
}
IG_COMMENT_FIELDS = {"comments", "live_comments", "mentions"}


def fields_param(ctx, allowed: set[str]) -> list[str]:
    raw = ctx.get("subscribed_fields")
    if raw in (None, ""):
        raise errors.missing_parameter("subscribed_fields")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw.split(",")
    names = [str(v).strip() for v in (value if isinstance(value, list) else [value]) if str(v).strip()]
    for i, name in enumerate(names):
        if name not in allowed:
            raise errors.enum_param(f"subscribed_fields[{i}]", allowed, name)
    return sorted(set(names))


def listing(state, object_id: str, app_id: str) -> dict:
    fields = state.data.setdefault("subscriptions", {}).get(object_id)
    if fields is None:
        return {"data": []}
    app = {"category": "Business", "link": "https://socialhub.example/", "name": APP_NAME, "id": app_id}
    return {"data": [{**app, "subscribed_fields": list(fields)}]}


def page_subscribed_apps(ctx, tok, page_id):
    state = ctx.state
    if not auth.can_see_page(state, tok, page_id):
        raise errors.unsupported_request(ctx.method, page_id)
    if tok["kind"] != "PAGE":
        raise errors.page_token_required()
    auth.require(state, tok, "pages_manage_metadata")
    ctx.touch(page_id, "pages")
    subs = state.data.setdefault("subscriptions", {})
    if ctx.method == "GET":
        return listing(state, page_id, tok["app_id"])
    if ctx.method == "DELETE":
        subs.pop(page_id, None)
        return {"success": True}
    subs[page_id] = fields_param(ctx, PAGE_FIELDS)
    return {"success": True}


def ig_subscribed_apps(ctx, tok, ig_id):
    state = ctx.state
    if tok.get("ig_user_id") != ig_id:
        raise errors.unsupported_request(ctx.method, ctx.path.strip("/").split("/")[0])
    auth.require(state, tok, "instagram_business_basic")
    ctx.touch(ig_id, "instagram")
    subs = state.data.setdefault("subscriptions", {})
    if ctx.method == "GET":
        return listing(state, ig_id, tok["app_id"])
    if ctx.method == "DELETE":
        subs.pop(ig_id, None)
        return {"success": True}
    fields = fields_param(ctx, IG_FIELDS)
    if set(fields) & IG_COMMENT_FIELDS:
        auth.require(state, tok, "instagram_business_manage_comments")
    if set(fields) - IG_COMMENT_FIELDS - {"story_insights"}:
        auth.require(state, tok, "instagram_business_manage_messages")
    subs[ig_id] = fields
    return {"success": True}


for _method in ("GET", "POST", "DELETE"):
    node_edge("facebook", "Page", "subscribed_apps", _method)(page_subscribed_apps)
    node_edge("instagram", "IGUserForIGOnlyAPI", "subscribed_apps", _method)(ig_subscribed_apps)
