"""Private controls under /__sandbox__/ (JSON in, JSON out). Not part of Meta's surface."""

from __future__ import annotations

import datetime as dt
import struct
import zlib

from werkzeug.wrappers import Response

from . import auth, errors, insight_data, seed
from .app import CONTROL, route
from .endpoints.facebook import remove_permission

FAULT_KINDS = ("error", "http_500", "slow", "drop")


def body(ctx) -> dict:
    if isinstance(ctx.json, dict):
        return ctx.json
    return dict(ctx.params.items())


@route(CONTROL, r"/health")
def health(ctx):
    return {"ok": True, "now": int(ctx.state.clock.now()), "seed": ctx.state.config.seed}


@route(CONTROL, r"/reset", ("POST",))
def reset(ctx):
    ctx.state.reset()
    return {"ok": True}


@route(CONTROL, r"/state")
def state_summary(ctx):
    return ctx.state.summary()


@route(CONTROL, r"/state/save", ("POST",))
def state_save(ctx):
    path = ctx.state.save(body(ctx).get("path"))
    return {"ok": bool(path), "path": path}


@route(CONTROL, r"/requests")
def requests_log(ctx):
    limit = int(ctx.get("limit", 50))
    items = list(ctx.state.requests)[-limit:]
    return {"data": items[::-1]}


@route(CONTROL, r"/marks", ("GET", "DELETE"))
def marks(ctx):
    """Unversioned calls (level "warning") and calls Meta documents as discouraged (level "flag")."""
    if ctx.method == "DELETE":
        ctx.state.marks.clear()
    return {"data": list(ctx.state.marks)}


# ------------------------------------------------------------------ faults
@route(CONTROL, r"/faults", ("GET", "POST", "DELETE"))
def faults(ctx):
    state = ctx.state
    if ctx.method == "GET":
        return {"data": state.faults}
    if ctx.method == "DELETE":
        state.faults.clear()
        return {"ok": True}
    b = body(ctx)
    kind = b.get("kind", "error")
    if kind not in FAULT_KINDS:
        return 400, {"error": f"kind must be one of {FAULT_KINDS}"}
    if kind == "error" and isinstance(b.get("error"), dict) and b["error"].get("preset"):
        try:
            errors.preset(b["error"]["preset"])
        except KeyError:
            return 400, {"error": f"unknown preset; known: {sorted(errors.PRESETS)}"}
    state.fault_seq += 1
    count = b.get("count", 1)
    fault = {
        "id": state.fault_seq,
        "path": b.get("path"),
        "method": b.get("method"),
        "host": b.get("host"),
        "kind": kind,
        "error": b.get("error"),
        "status": b.get("status"),
        "delay_ms": b.get("delay_ms"),
        "after": b.get("after") or "before",
        "remaining": None if count is None else int(count),
        "hits": 0,
    }
    state.faults.append(fault)
    return fault


@route(CONTROL, r"/latency", ("POST", "GET"))
def latency(ctx):
    if ctx.method == "POST":
        ctx.state.latency_ms = int(body(ctx).get("ms", 0))
    return {"ms": ctx.state.latency_ms}


@route(CONTROL, r"/clock", ("GET", "POST"))
def clock(ctx):
    b = body(ctx) if ctx.method == "POST" else {}
    if "advance" in b:
        ctx.state.clock.advance(float(b["advance"]))
    if "set" in b:
        ctx.state.clock.set(float(b["set"]))
    if "rate" in b:
        ctx.state.clock.set_rate(float(b["rate"]))
    return {"now": ctx.state.clock.now(), "offset": ctx.state.clock.offset, "rate": ctx.state.clock.rate}


@route(CONTROL, r"/usage", ("GET", "POST"))
def usage(ctx):
    u = ctx.state.usage
    if ctx.method == "POST":
        b = body(ctx)
        if "capacity" in b:
            u.capacity = u.buc_capacity = int(b["capacity"])
        if "app_capacity" in b:
            u.capacity = int(b["app_capacity"])
        if "buc_capacity" in b:
            u.buc_capacity = int(b["buc_capacity"])
        if "window_seconds" in b:
            u.window = float(b["window_seconds"])
        if b.get("clear"):
            u.calls.clear()
    now = ctx.state.clock.now()
    return {
        "capacity": u.capacity,
        "buc_capacity": u.buc_capacity,
        "window_seconds": u.window,
        "percent": {k: u.percent(k, now) for k in u.calls},
    }


# ------------------------------------------------------------------ tokens & permissions
@route(CONTROL, r"/tokens/revoke", ("POST",))
def revoke(ctx):
    b = body(ctx)
    reason = {"password_changed": 460, "logged_out": 467, "deauthorized": 458}.get(b.get("reason"), 460)
    n = auth.revoke(
        ctx.state,
        user_id=b.get("user_id"),
        token_prefix=b.get("token_prefix"),
        ig_user_id=b.get("ig_user_id"),
        reason=reason,
    )
    return {"revoked": n, "subcode": reason}


@route(CONTROL, r"/tokens/issue", ("POST",))
def tokens_issue(ctx):
    """Consent without the dialog, like Meta's Graph API Explorer "Generate Access Token" (then "Extend" in the
    Access Token Debugger): the person grants ``scopes`` and the assets, and gets a token at once.

    Facebook (``"platform": "facebook"``, the default): ``{"user_id"?, "scopes"?, "declined"?, "page_ids"?,
    "ig_ids"?, "long_lived"?}`` → a user token and the Page token of every Page in ``page_ids``, each with the
    Page and its linked Instagram account as ``/me/accounts`` shows them. ``user_id`` defaults to the first seeded
    user who administers every Page asked for; without ``page_ids`` / ``ig_ids`` every Page of the user and
    their linked accounts are granted (the dialog's default, all ticked).
    Instagram Login (``"platform": "instagram"``): ``{"ig_user_id", "scopes"?, "declined"?, "long_lived"?}`` →
    the account's token and profile.

    What is granted adds to what the person granted the app before (a later dialog shows earlier choices
    ticked), so channels made one by one for the same person keep working. Long-lived by default: 60-day
    tokens, and Page tokens that never expire (auth.page_token_for)."""
    from .endpoints.oauth import CONFIG_SCOPES, FB_PERMISSIONS, IG_PERMISSIONS

    b = body(ctx)
    state, cfg = ctx.state, ctx.state.config
    long_lived = b.get("long_lived", True) not in (False, "false", "0", 0)
    lifetime = auth.LONG_LIVED if long_lived else auth.SHORT_LIVED
    # public_profile and instagram_business_basic cannot be unticked in the dialogs
    declined = [p for p in b.get("declined") or [] if p not in ("public_profile", "instagram_business_basic")]
    if b.get("platform", "facebook") == "instagram":
        acc = state.data["ig_accounts"].get(str(b.get("ig_user_id")))
        if acc is None:
            return 400, {"error": "ig_user_id must be a seeded Instagram account id"}
        scopes = ["instagram_business_basic", *(b.get("scopes") or sorted(IG_PERMISSIONS))]
        unknown = sorted(set(scopes + declined) - IG_PERMISSIONS)
        if unknown:
            return 400, {"error": f"not Instagram Login permissions: {unknown}"}
        grant = _consent(state, acc["id"], cfg.ig_app_id, "instagram", scopes, declined, [], [acc["id"]])
        tok = auth.issue(
            state,
            "USER",
            cfg.ig_app_id,
            platform="instagram",
            ig_user_id=acc["id"],
            lifetime=lifetime,
            long_lived=long_lived,
        )
        return {
            "access_token": tok["token"],
            "token_type": "bearer",
            "expires_in": lifetime,
            "permissions": list(grant["granted"]),
            # as graph.instagram.com /me answers: "user_id" the professional account id, "id" app-scoped
            "user_id": acc["id"],
            "id": acc["scoped_id"],
            "username": acc["username"],
            "name": acc["name"],
            "profile_picture_url": ctx.url(acc["profile_picture_path"]),
        }

    users = list(state.data["users"].values())
    page_ids = [str(p) for p in b.get("page_ids") or []]
    if b.get("user_id"):
        user = state.data["users"].get(str(b["user_id"]))
    else:
        user = next((u for u in users if set(page_ids) <= set(u["page_ids"])), None)
    if user is None:
        return 400, {"error": "user_id must be a seeded Facebook user who administers every Page in page_ids"}
    if b.get("page_ids") is None and b.get("ig_ids") is None:
        page_ids = list(user["page_ids"])
        ig_ids = [state.data["pages"][p]["ig_user_id"] for p in page_ids if state.data["pages"][p].get("ig_user_id")]
    else:
        ig_ids = [str(i) for i in b.get("ig_ids") or []]
    if not set(page_ids) <= set(user["page_ids"]):
        return 400, {"error": f"{user['name']} does not administer every Page in {page_ids}"}
    linked = {state.data["pages"][p].get("ig_user_id") for p in user["page_ids"]}
    if not set(ig_ids) <= linked:
        strangers = sorted(set(ig_ids) - linked)
        return 400, {"error": f"not Instagram accounts linked to {user['name']}'s Pages: {strangers}"}
    scopes = ["public_profile", *(b.get("scopes") or CONFIG_SCOPES)]
    unknown = sorted(set(scopes + declined) - FB_PERMISSIONS)
    if unknown:
        return 400, {"error": f"not Facebook Login permissions: {unknown}"}
    grant = _consent(state, user["id"], cfg.app_id, "facebook", scopes, declined, page_ids, ig_ids)
    tok = auth.issue(state, "USER", cfg.app_id, user_id=user["id"], lifetime=lifetime, long_lived=long_lived)
    pages = []
    for page_id in page_ids:
        page = state.data["pages"][page_id]
        acc = state.data["ig_accounts"].get(page.get("ig_user_id") or "")
        pages.append(
            {
                "id": page_id,
                "name": page["name"],
                "access_token": auth.page_token_for(state, tok, page_id)["token"],
                "picture_url": ctx.url(page["picture_path"]),
                "instagram_business_account": _ig_profile(ctx, acc) if acc else None,
            }
        )
    return {
        "access_token": tok["token"],
        "token_type": "bearer",
        "expires_in": lifetime,
        "user_id": user["id"],
        "granted": list(grant["granted"]),
        "declined": list(grant["declined"]),
        "pages": pages,
    }


def _ig_profile(ctx, acc: dict) -> dict:
    """A Page's ``instagram_business_account{id,username,name,profile_picture_url}``."""
    return {
        "id": acc["id"],
        "username": acc["username"],
        "name": acc["name"],
        "profile_picture_url": ctx.url(acc["profile_picture_path"]),
    }


def _consent(state, user_id, app_id, platform, scopes, declined, page_ids, ig_ids) -> dict:
    """Record a consent on the (person, app) grant as the dialogs do (endpoints/oauth.py), adding to it."""
    key = state.grant_key(user_id, app_id)
    grant = state.data["grants"].get(key) or {
        "user_id": user_id,
        "app_id": app_id,
        "granted": [],
        "declined": [],
        "page_ids": [],
        "ig_ids": [],
        "platform": platform,
    }
    for p in scopes:
        if p not in declined:
            grant["granted"] = [x for x in grant["granted"] if x != p] + [p]
            grant["declined"] = [x for x in grant["declined"] if x != p]
    for p in declined:
        grant["declined"] = [x for x in grant["declined"] if x != p] + [p]
        grant["granted"] = [x for x in grant["granted"] if x != p]
    grant["page_ids"] += [p for p in page_ids if p not in grant["page_ids"]]
    grant["ig_ids"] += [i for i in ig_ids if i not in grant["ig_ids"]]
    state.data["grants"][key] = grant
    return grant


@route(CONTROL, r"/permissions/remove", ("POST",))
def permissions_remove(ctx):
    b = body(ctx)
    app_id = b.get("app_id") or ctx.state.config.app_id
    ok = remove_permission(ctx.state, b.get("user_id"), app_id, b.get("permission"))
    return {"removed": ok}


# ------------------------------------------------------------------ publishing
@route(CONTROL, r"/processing", ("GET", "POST"))
def processing_delays(ctx):
    """Processing delays on the sandbox clock: {"video_seconds": N, "image_seconds": N} (null = default)."""
    from . import processing

    p = ctx.state.data.setdefault("processing", {})
    if ctx.method == "POST":
        for k in ("video_seconds", "image_seconds"):
            if k in body(ctx):
                p[k] = None if body(ctx)[k] is None else float(body(ctx)[k])
    return {
        "video_seconds": processing.delay(ctx.state, "video"),
        "image_seconds": processing.delay(ctx.state, "image"),
    }


@route(CONTROL, r"/quota", ("GET", "POST"))
def quota(ctx):
    """Instagram publishing quota per account: {"ig_user_id", "quota_total": N, "used": N}."""
    from . import processing

    b = body(ctx) if ctx.method == "POST" else dict(ctx.params.items())
    ig_id = b.get("ig_user_id")
    if ig_id not in ctx.state.data["ig_accounts"]:
        return 400, {"error": "ig_user_id must be a seeded Instagram account id"}
    if ctx.method == "POST":
        if b.get("quota_total") is not None:
            processing.coll(ctx.state, "quota")[ig_id] = int(b["quota_total"])
        if b.get("used") is not None:
            now = ctx.state.clock.now()
            processing.coll(ctx.state, "publish_log")[ig_id] = [now] * int(b["used"])
    return {
        "ig_user_id": ig_id,
        "quota_total": processing.quota_total(ctx.state, ig_id),
        "used": processing.quota_usage(ctx.state, ig_id),
    }


# ------------------------------------------------------------------ activity
@route(CONTROL, r"/activity", ("GET", "POST"))
def activity(ctx):
    """{"comments": N, "insights_days": N}: at once, no webhooks (insights_days moves the insights clock N days
    ahead). {"every": s, "burst": n} / {"once": true}: live
    activity on subscribed objects with a webhook each (webhooks.py); GET tells the live activity's state."""
    import random

    from . import webhooks

    if ctx.method == "GET":
        return webhooks.live_state(ctx)
    b = body(ctx)
    if "every" in b or b.get("once"):
        return webhooks.live_control(ctx, b)
    d = ctx.state.data
    rng = random.Random(f"{d['meta']['seed']}:activity:{ctx.state.new_id(6)}")
    ids = seed.Ids(rng)
    ids.seen = set(d["ig_comments"]) | set(d["fb_comments"])
    now = int(ctx.state.clock.now())
    made = []
    media = sorted(d["ig_media"])
    posts = sorted(d["posts"])
    for i in range(int(b.get("comments", 0))):
        if i % 2 == 0 and media:
            made.append(seed.add_ig_comment(d, ids, rng, d["ig_media"][rng.choice(media)], now)["id"])
        elif posts:
            made.append(seed.add_fb_comment(d, ids, rng, d["posts"][rng.choice(posts)], now)["id"])
    days = int(b.get("insights_days", 0))
    insight_data.controls(ctx.state)["offset_days"] += days
    return {"comments": made, "insights_days": days}


# ------------------------------------------------------------------ insights (insight_data.py)
def _insight_object(ctx, b) -> str:
    obj = str(b.get("object_id") or "")
    if insight_data.kind_of(ctx.state, obj) is None:
        raise ValueError("object_id must be a seeded or published Instagram account, media, Page or Page post id")
    return obj


def _iso(value, name) -> str:
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ValueError(f"{name} must be an ISO date (YYYY-MM-DD)") from None


@route(CONTROL, r"/insights", ("GET",))
def insights_state(ctx):
    """The insights clock and controls: {"through": last complete day, "offset_days", "unavailable", "small"}."""
    ins = insight_data.controls(ctx.state)
    return {"through": insight_data.last_complete(ctx.state).isoformat(), **ins}


@route(CONTROL, r"/insights/value", ("GET",))
def insights_value(ctx):
    """?object_id&metric&date[&dimension] → {"value": what the endpoints serve for that day, or null}."""
    b = dict(ctx.params.items())
    try:
        obj = _insight_object(ctx, b)
        date = _iso(b["date"], "date") if b.get("date") else None
    except ValueError as exc:
        return 400, {"error": str(exc)}
    value = insight_data.value_for_control(ctx.state, obj, b.get("metric", ""), date, b.get("dimension") or "")
    return {"object_id": obj, "metric": b.get("metric"), "date": date, "dimension": b.get("dimension") or "",
            "value": value}  # fmt: skip


@route(CONTROL, r"/insights/unavailable", ("POST", "DELETE"))
def insights_unavailable(ctx):
    """{"object_id", "since", "until"} (ISO dates, inclusive): those days serve nothing; DELETE {"object_id"} clears."""
    b = body(ctx)
    ranges = insight_data.controls(ctx.state)["unavailable"]
    try:
        obj = _insight_object(ctx, b)
        if ctx.method == "DELETE":
            ranges.pop(obj, None)
            return {"object_id": obj, "unavailable": []}
        first = _iso(b.get("since"), "since")
        last = _iso(b.get("until") or first, "until")
    except ValueError as exc:
        return 400, {"error": str(exc)}
    ranges.setdefault(obj, []).append([first, last])
    return {"object_id": obj, "unavailable": ranges[obj]}


@route(CONTROL, r"/insights/small", ("POST",))
def insights_small(ctx):
    """{"object_id", "small": true|false}: the account or Page has fewer than 100 followers."""
    b = body(ctx)
    try:
        obj = _insight_object(ctx, b)
    except ValueError as exc:
        return 400, {"error": str(exc)}
    small = insight_data.controls(ctx.state)["small"]
    on = b.get("small", True) not in (False, "false", "0", 0)
    if on and obj not in small:
        small.append(obj)
    if not on and obj in small:
        small.remove(obj)
    return {"object_id": obj, "small": on}


# ------------------------------------------------------------------ images served by the sandbox
def png(seed_value: str, size: int = 64) -> bytes:
    h = zlib.crc32(seed_value.encode())
    color = bytes(((h >> 16) & 0xFF, (h >> 8) & 0xFF, h & 0xFF))
    raw = b"".join(b"\x00" + color * size for _ in range(size))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@route(CONTROL, r"/(?P<kind>avatar|media)/(?P<obj>[\w.-]+)\.png")
def image(ctx, kind, obj):
    return Response(
        png(kind + obj, 64 if kind == "avatar" else 320),
        content_type="image/png",
        headers={"Cache-Control": "public, max-age=86400"},
    )
