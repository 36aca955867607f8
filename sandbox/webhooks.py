"""Outgoing webhooks, signed as Meta signs them, and live activity (fans commenting while the sandbox runs).

seeds/003 (Webhooks): events are POSTed as JSON with X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the
raw body keyed with the app secret>. Payload shapes (graph-api reference §3.3):
- Instagram, Facebook Login: {"object": "instagram", "entry": [{"id": <ig-user-id>, "time", "changes": [{"field":
  "comments", "value": {"from": {"id", "username"}, "media": {"id", "media_product_type"}, "id", "parent_id"?,
  "text"}}]}]}; "mentions" → value {"comment_id", "media_id"} (a caption mention: {"media_id"} only).
- Instagram, Business Login for Instagram: the same values in a flat entry {"id", "time", "field", "value"},
  signed with the Instagram app's secret. There is no "mentions" field for it: a comment that @mentions the
  account arrives as "comments" (the comment's own value, its media being the stranger's), and a caption
  mention sends nothing.
- Page "feed": value {"from": {"id", "name"}, "post": {…}, "message", "post_id", "comment_id", "created_time",
  "item": "comment", "parent_id" (the post, or the parent comment for a reply), "verb": add | edited | hide |
  unhide | remove} (a removal carries no message).
Which shape an Instagram event takes: the control's "login" option, else Instagram Login when the account is
subscribed through graph.instagram.com or has no Page, else Facebook Login.

Live activity sends events only for subscribed objects (endpoints/subscriptions.py): a Page subscribed with
"feed" gets its feed events; an Instagram account gets Facebook-Login events when its Page is subscribed (any
field; Meta also needs the app-level "instagram" subscription, which is app configuration) and Instagram-Login
events when it subscribed "comments" through graph.instagram.com.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import threading

import requests

from . import comment_data as cd
from . import seed
from .app import CONTROL, route

SPAM = [
    "Free followers!! visit spam.example",
    "Ｆｒｅｅ ｆｏｌｌｏｗｅｒｓ!! visit spam.example",
    "fr33 f0ll0wers 👉 spam.example",
    "Earn $500/day from home 💸 DM me or visit spam.example",
    "F.R.E.E followers at spam.example 🔥🔥",
]
FRIENDLY = [
    *seed.COMMENTS,
    "Très joli ! 😍",
    "¿Abren el domingo? 🙏",
    "Schöne Bilder 👏",
    "Ça a l'air délicieux",
    "Can I book a spot for Saturday?",
    "Love this ❤️🔥",
    "Where is this? 📍",
    "Do you sell gift cards?",
    "Naïve question: is parking free?",
]
IG_FANS = [*seed.COMMENTERS, "amélie.b", "joão_p", "zoë.paints", "mike_runs"]
FB_FANS = ["Alex Morgan", "Sam Rivera", "Jordan Lee", "Priya Shah", "Zoë Müller", "José Álvarez", "Chloé Martin"]


class ControlError(ValueError):
    """A control call that cannot be served as asked (answered 400 with the reason)."""


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def secret_for(state, login: str) -> str:
    return state.config.ig_app_secret if login == "instagram" else state.config.app_secret


# ------------------------------------------------------------------ who is subscribed
def ig_logins(state, ig_id: str) -> list[str]:
    """The logins through which live Instagram events reach the app for this account."""
    subs = state.data.get("subscriptions", {})
    acc = state.data["ig_accounts"].get(ig_id)
    out = []
    if acc is not None and acc.get("page_id") and acc["page_id"] in subs:
        out.append("facebook")
    if "comments" in subs.get(ig_id, []):
        out.append("instagram")
    return out


def ig_login_for(state, ig_id: str, spec: dict) -> str:
    if spec.get("login") in ("instagram", "facebook"):
        return spec["login"]
    acc = state.data["ig_accounts"].get(ig_id) or {}
    if ig_id in state.data.get("subscriptions", {}) or acc.get("login_only"):
        return "instagram"
    return "facebook"


# ------------------------------------------------------------------ payloads
def ig_envelope(ig_id: str, field: str, value: dict, login: str, now: int) -> dict:
    if login == "instagram":
        entry = {"id": ig_id, "time": now, "field": field, "value": value}
    else:
        entry = {"id": ig_id, "time": now, "changes": [{"field": field, "value": value}]}
    return {"object": "instagram", "entry": [entry]}


def ig_comment_value(state, c: dict) -> dict:
    media = state.data["ig_media"].get(c["media"]) or state.data.get("mention_media", {}).get(c["media"]) or {}
    value = {
        "from": dict(c["from"]),
        "media": {"id": c["media"], "media_product_type": media.get("media_product_type", "FEED")},
        "id": c["id"],
        "text": c["text"],
    }
    if c.get("parent_id"):
        value["parent_id"] = c["parent_id"]
    return value


def feed_value(state, c: dict, verb: str) -> dict:
    post = state.data["posts"][c["post_id"]]
    value = {
        "from": dict(c["from"]),
        "post": {
            "status_type": post["status_type"],
            "is_published": post["is_published"],
            "updated_time": post["updated_time"],
            "permalink_url": post["permalink_url"],
            "promotion_status": "inactive",
            "id": post["id"],
        },
        "message": c["message"],
        "post_id": post["id"],
        "comment_id": c["id"],
        "created_time": int(c["ts"]),
        "item": "comment",
        "parent_id": c.get("parent") or post["id"],
        "verb": verb,
    }
    if verb == "remove":
        del value["message"]
    return value


def page_envelope(page_id: str, value: dict, now: int) -> dict:
    return {"object": "page", "entry": [{"id": page_id, "time": now, "changes": [{"field": "feed", "value": value}]}]}


# ------------------------------------------------------------------ control-made events
def newest(rows, key="ts"):
    rows = list(rows)
    return max(rows, key=lambda r: (r[key], r["id"])) if rows else None


def default_media(state, spec: dict) -> dict | None:
    """Without a media_id: the newest post of an account the chosen login reaches (Facebook Login: accounts
    with a Page; Instagram Login: accounts without one or subscribed through graph.instagram.com)."""
    d = state.data
    want = spec.get("login") or "facebook"
    owners = {i for i in d["ig_accounts"] if ig_login_for(state, i, {}) == want}
    rows = [
        m
        for m in d["ig_media"].values()
        if m["owner"] in owners and not m.get("parent") and m["media_product_type"] != "STORY"
    ]
    return newest(rows)


def event_object(state, spec: dict) -> str:
    if spec.get("object"):
        return spec["object"]
    d = state.data
    for key in ("comment_id", "parent_id"):
        if spec.get(key) in d["fb_comments"]:
            return "page"
        if spec.get(key) in d["ig_comments"]:
            return "instagram"
    if spec.get("post_id") or spec.get("kind") in ("edit", "hide", "unhide", "remove"):
        return "page"
    return "instagram"


def comment_event(state, spec: dict) -> tuple[dict, str]:
    """Create a fan's comment (or reply, with "parent_id") and return (payload, login) announcing it."""
    d = state.data
    rng = random.Random(f"{d['meta']['seed']}:hook:{state.new_id(6)}")
    now = int(state.clock.now())
    parent_id = spec.get("parent_id")
    if event_object(state, spec) == "instagram":
        parent = d["ig_comments"].get(parent_id) if parent_id else None
        if parent_id and parent is None:
            raise ControlError(f"unknown Instagram parent_id {parent_id}")
        media_id = spec.get("media_id") or (parent and parent["media"])
        media = d["ig_media"].get(media_id) if media_id else default_media(state, spec)
        if media is None:
            raise ControlError(f"unknown media_id {media_id}")
        author = cd.ig_fan(spec.get("username") or rng.choice(IG_FANS))
        top = cd.ig_top(state, parent)["id"] if parent else None
        c = cd.ig_new(state, media, text=spec.get("text") or rng.choice(FRIENDLY), author=author, parent_id=top)
        login = ig_login_for(state, media["owner"], spec)
        return ig_envelope(media["owner"], "comments", ig_comment_value(state, c), login, now), login
    parent = d["fb_comments"].get(parent_id) if parent_id else None
    if parent_id and parent is None:
        raise ControlError(f"unknown Page comment parent_id {parent_id}")
    post_id = spec.get("post_id") or (parent and parent["post_id"])
    post = d["posts"].get(post_id) if post_id else newest(d["posts"].values())
    if post is None:
        raise ControlError(f"unknown post_id {post_id}")
    author = cd.fb_fan(spec.get("name") or rng.choice(FB_FANS))
    top = cd.fb_top(state, parent)["id"] if parent else None
    c = cd.fb_new(state, post, message=spec.get("text") or rng.choice(FRIENDLY), author=author, parent=top)
    return page_envelope(post["page_id"], feed_value(state, c, "add"), now), "facebook"


def feed_change_event(state, spec: dict) -> tuple[dict, str]:
    """edit / hide / unhide / remove of a Page comment: the change made on Facebook, and its feed event."""
    kind, cid = spec["kind"], spec.get("comment_id")
    c = state.data["fb_comments"].get(cid or "")
    if c is None:
        hint = " (Instagram sends no webhook for these)" if cid in state.data["ig_comments"] else ""
        raise ControlError(f'"{kind}" needs the comment_id of a Page comment{hint}')
    now = int(state.clock.now())
    page_id = state.data["posts"][c["post_id"]]["page_id"]
    if kind == "edit":
        if not spec.get("text"):
            raise ControlError('"edit" needs the new "text"')
        c["message"] = spec["text"]
        return page_envelope(page_id, feed_value(state, c, "edited"), now), "facebook"
    if kind in ("hide", "unhide"):
        c["is_hidden"] = kind == "hide"
        return page_envelope(page_id, feed_value(state, c, kind), now), "facebook"
    value = feed_value(state, c, "remove")
    cd.fb_delete(state, cid)
    return page_envelope(page_id, value, now), "facebook"


def mention_event(state, spec: dict) -> tuple[dict, str]:
    """A stranger @mentions a managed account: in a comment (default) or, with "caption": true, a caption.
    Facebook Login: field "mentions" with the ids. Instagram Login: field "comments" carrying the comment itself
    (Meta's webhook field table: mentions are "included in the comments field"); a caption mention is refused,
    as Instagram Login sends no webhook for it."""
    d = state.data
    rng = random.Random(f"{d['meta']['seed']}:mention:{state.new_id(6)}")
    ig_id = spec.get("ig_user_id") or next(
        (a["id"] for a in d["ig_accounts"].values() if a.get("page_id")), next(iter(d["ig_accounts"]))
    )
    acc = d["ig_accounts"].get(ig_id)
    if acc is None:
        raise ControlError(f"unknown ig_user_id {ig_id}")
    login = ig_login_for(state, ig_id, spec)
    caption = spec.get("caption") not in (None, False, "false", "0", 0)
    if caption and login == "instagram":
        raise ControlError("Instagram Login sends no webhook for a caption mention (only comments that mention it)")
    who = cd.ig_fan(spec.get("username") or rng.choice(seed.STRANGERS))
    now = int(state.clock.now())
    if caption:
        media = cd.mention_media_new(state, who, spec.get("text") or f"Thank you @{acc['username']}! 🙌", ig_id)
        value = {"media_id": media["id"]}
    else:
        media = d.get("mention_media", {}).get(spec.get("media_id") or "")
        if spec.get("media_id") and media is None:
            raise ControlError(f"unknown mention media_id {spec['media_id']}")
        if media is None:
            media = cd.mention_media_new(state, cd.ig_fan(rng.choice(seed.STRANGERS)), rng.choice(seed.CAPTIONS), None)
        text = spec.get("text") or f"@{acc['username']} {rng.choice(FRIENDLY)}"
        c = cd.mention_comment_new(state, media, text, who, mentioned=ig_id)
        if login == "instagram":
            return ig_envelope(ig_id, "comments", ig_comment_value(state, c), login, now), login
        value = {"comment_id": c["id"], "media_id": media["id"]}
    return ig_envelope(ig_id, "mentions", value, login, now), login


def build_event(state, spec: dict) -> tuple[dict, str]:
    kind = spec.get("kind")
    if kind == "comment":
        return comment_event(state, spec)
    if kind in ("edit", "hide", "unhide", "remove"):
        return feed_change_event(state, spec)
    if kind == "mention":
        return mention_event(state, spec)
    raise ControlError('kind must be one of "comment", "edit", "hide", "unhide", "remove", "mention"')


# ------------------------------------------------------------------ delivery
def post_webhook(url: str, payload: dict, secret: str) -> dict:
    """POST one signed event; never call this holding the state lock (the receiver may call back)."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": sign(body, secret),
        "User-Agent": "facebookexternalua",
    }
    try:
        r = requests.post(url, data=body, headers=headers, timeout=15)
        answer = {"status": r.status_code, "body": r.text[:5000]}
    except requests.RequestException as exc:
        answer = {"status": None, "error": str(exc)}
    return {"signature": headers["X-Hub-Signature-256"], "response": answer}


def unlocked(state, fn, *args):
    """Run ``fn`` with the state lock released (control handlers hold it once), then take it back."""
    state.lock.release()
    try:
        return fn(*args)
    finally:
        state.lock.acquire()


@route(CONTROL, r"/webhooks/send", ("POST",))
def send(ctx):
    state = ctx.state
    spec = dict(ctx.json) if isinstance(ctx.json, dict) else dict(ctx.params.items())
    url = spec.pop("url", None) or state.config.webhook_url
    deliver = spec.get("deliver", True) not in (False, "false", "0", 0)
    if deliver and not url:
        return 400, {"error": 'no webhook url: start with --webhook-url or pass "url"'}
    login = "facebook"
    if spec.get("kind"):
        try:
            payload, login = build_event(state, spec)
        except ControlError as exc:
            return 400, {"error": str(exc)}
    else:
        payload = {"object": spec.get("object", "instagram"), "entry": spec.get("entry", [])}
    secret = state.config.ig_app_secret if spec.get("secret") == "instagram" else secret_for(state, login)
    if not deliver:  # a webhook Meta never delivered: the change happened, nobody was told
        body = json.dumps(payload, separators=(",", ":")).encode()
        return {"sent": payload, "delivered": False, "signature": sign(body, secret), "url": url}
    out = unlocked(state, post_webhook, url, payload, secret)
    return {"sent": payload, "delivered": True, "url": url, **out}


# ------------------------------------------------------------------ live activity
def fan_text(rng) -> str:
    roll = rng.random()
    return rng.choice(SPAM) if roll < 0.15 else rng.choice(FRIENDLY)


def activity_targets(state) -> list[tuple[str, str, list[str]]]:
    """(kind, object id, logins) for the newest posts and media of every subscribed Page / account."""
    d = state.data
    subs = d.get("subscriptions", {})
    out = []
    for page_id in sorted(subs):
        if page_id in d["pages"] and "feed" in subs[page_id]:
            posts = [p for p in d["posts"].values() if p["page_id"] == page_id and p["is_published"]]
            posts.sort(key=lambda p: (-p["ts"], p["id"]))
            out += [("page", p["id"], ["facebook"]) for p in posts[:3]]
    for ig_id in sorted(d["ig_accounts"]):
        logins = ig_logins(state, ig_id)
        if logins:
            media = [
                m
                for m in d["ig_media"].values()
                if m["owner"] == ig_id and not m.get("parent") and m["media_product_type"] != "STORY"
            ]
            media.sort(key=lambda m: (-m["ts"], m["id"]))
            out += [("ig", m["id"], logins) for m in media[:3]]
    return out


def activity_burst(state, n: int, rng) -> tuple[int, list[tuple[dict, str]]]:
    """Write ``n`` fan comments (some replies, some spam, some with accents and emoji) on subscribed objects;
    return how many were written and the (payload, login) events announcing them. Holds the state lock."""
    d = state.data
    targets = activity_targets(state)
    if not targets:
        return 0, []
    events = []
    now = int(state.clock.now())
    for _ in range(n):
        kind, oid, logins = rng.choice(targets)
        text = fan_text(rng)
        if kind == "page":
            post = d["posts"][oid]
            fans = [
                c
                for c in d["fb_comments"].values()
                if c["post_id"] == oid and not c.get("parent") and c["from"]["id"] != post["page_id"]
            ]
            parent = max(fans, key=lambda c: c["ts"]) if fans and rng.random() < 0.3 else None
            author = cd.fb_fan(rng.choice(FB_FANS))
            c = cd.fb_new(state, post, message=text, author=author, parent=parent and parent["id"])
            events.append((page_envelope(post["page_id"], feed_value(state, c, "add"), now), "facebook"))
            continue
        media = d["ig_media"][oid]
        fans = [
            c
            for c in d["ig_comments"].values()
            if c["media"] == oid and not c.get("parent_id") and c["from"]["id"] != media["owner"]
        ]
        parent = max(fans, key=lambda c: c["ts"]) if fans and rng.random() < 0.3 else None
        author = cd.ig_fan(rng.choice(IG_FANS))
        c = cd.ig_new(state, media, text=text, author=author, parent_id=parent and parent["id"])
        value = ig_comment_value(state, c)
        events += [(ig_envelope(media["owner"], "comments", value, login, now), login) for login in logins]
    return n, events


class LiveActivity:
    """Every ``every`` real seconds, ``burst`` new fan comments on subscribed objects, each announced by webhook."""

    def __init__(self, state, every: float, burst: int = 1, url: str | None = None):
        self.state, self.every, self.burst, self.url = state, float(every), max(1, int(burst)), url
        self.stopped = threading.Event()
        self.stats = {"ticks": 0, "comments": 0, "sent": 0, "failed": 0, "last_error": None}
        self.thread = threading.Thread(target=self._run, name="sandbox-activity", daemon=True)

    def start(self) -> LiveActivity:
        self.thread.start()
        return self

    def stop(self):
        self.stopped.set()

    def _run(self):
        while not self.stopped.wait(self.every):
            try:
                self.deliver(self.collect())
            except Exception as exc:  # keep running: a bad tick must not end the demo's activity
                self.stats["last_error"] = repr(exc)

    def collect(self) -> list[tuple[dict, str]]:
        with self.state.lock:
            if self.stopped.is_set():
                return []
            rng = random.Random(f"{self.state.data['meta']['seed']}:live:{self.state.new_id(6)}")
            made, events = activity_burst(self.state, self.burst, rng)
            self.stats["ticks"] += 1
            self.stats["comments"] += made
            return [(p, login, secret_for(self.state, login)) for p, login in events]

    def deliver(self, events) -> list[dict]:
        url = self.url or self.state.config.webhook_url
        results = []
        for payload, login, secret in events:
            if not url:
                self.stats["failed"] += 1
                self.stats["last_error"] = 'no webhook url: start with --webhook-url or pass "url"'
                continue
            out = post_webhook(url, payload, secret)
            ok = out["response"].get("status") is not None and out["response"]["status"] < 300
            self.stats["sent" if ok else "failed"] += 1
            if not ok:
                self.stats["last_error"] = out["response"].get("error") or f"HTTP {out['response']['status']}"
            results.append({"sent": payload, "login": login, **out})
        return results

    def describe(self) -> dict:
        running = not self.stopped.is_set() and self.thread.is_alive()
        return {"running": running, "every": self.every, "burst": self.burst, "url": self.url, **self.stats}


IDLE = {"running": False, "every": 0, "burst": 0, "url": None}


def live_control(ctx, b: dict):
    """POST /__sandbox__/activity {"every": s, "burst": n, "url"?} starts (every 0 stops); {"once": true,
    "burst": n, "url"?} writes one burst now and answers what was sent."""
    state = ctx.state
    if b.get("once"):
        runner = LiveActivity(state, 0, int(b.get("burst") or 1), b.get("url"))
        events = runner.collect()
        results = unlocked(state, runner.deliver, events)
        return {**runner.describe(), "running": False, "events": results}
    if state.live is not None:
        state.live.stop()
        state.live = None
    every = float(b.get("every") or 0)
    if every > 0:
        state.live = LiveActivity(state, every, int(b.get("burst") or 1), b.get("url")).start()
    return state.live.describe() if state.live else dict(IDLE)


def live_state(ctx):
    return ctx.state.live.describe() if ctx.state.live else dict(IDLE)
