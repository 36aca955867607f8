"""Outgoing webhooks, signed as Meta signs them.

seeds/003 (Webhooks): events are POSTed as JSON with X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the
raw body keyed with the app secret>. Payload shapes: developers.facebook.com/docs/graph-api/webhooks/
getting-started (object, entry[id,time,changes[field,value]]); Instagram "comments" value {from{id,username},
media{id,media_product_type}, id, parent_id?, text}; Page "feed" value {item: comment, verb: add, post_id,
comment_id, from{id,name}, message, created_time, parent_id}.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random

import requests

from . import errors, seed
from .app import CONTROL, route


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def comment_event(state, spec: dict) -> dict:
    """Create a comment in the state and return the webhook payload announcing it."""
    d = state.data
    rng = random.Random(f"{d['meta']['seed']}:hook:{d['meta'].get('counter', 0)}")
    ids = seed.Ids(rng)
    ids.seen = set(d["ig_comments"]) | set(d["fb_comments"])
    now = int(state.clock.now())
    if spec.get("object", "instagram") == "instagram":
        media_id = spec.get("media_id") or sorted(d["ig_media"], key=lambda m: -d["ig_media"][m]["ts"])[0]
        media = d["ig_media"].get(media_id)
        if media is None:
            raise errors.invalid_parameter(f"unknown media_id {media_id}")
        c = seed.add_ig_comment(d, ids, rng, media, now)
        if spec.get("text"):
            c["text"] = spec["text"]
        if spec.get("username"):
            c["username"] = c["from"]["username"] = spec["username"]
        state.new_id(3)  # move the counter so the next event differs
        value = {
            "from": c["from"],
            "media": {"id": media_id, "media_product_type": media["media_product_type"]},
            "id": c["id"],
            "text": c["text"],
        }
        return {
            "object": "instagram",
            "entry": [{"id": media["owner"], "time": now, "changes": [{"field": "comments", "value": value}]}],
        }
    post_id = spec.get("post_id") or sorted(d["posts"], key=lambda p: -d["posts"][p]["ts"])[0]
    post = d["posts"].get(post_id)
    if post is None:
        raise errors.invalid_parameter(f"unknown post_id {post_id}")
    c = seed.add_fb_comment(d, ids, rng, post, now)
    if spec.get("text"):
        c["message"] = spec["text"]
    state.new_id(3)
    value = {
        "from": c["from"],
        "post": {"id": post_id, "status_type": post["status_type"], "is_published": True},
        "message": c["message"],
        "post_id": post_id,
        "comment_id": c["id"],
        "created_time": now,
        "item": "comment",
        "parent_id": post_id,
        "verb": "add",
    }
    return {
        "object": "page",
        "entry": [{"id": post["page_id"], "time": now, "changes": [{"field": "feed", "value": value}]}],
    }


@route(CONTROL, r"/webhooks/send", ("POST",))
def send(ctx):
    state = ctx.state
    spec = dict(ctx.json) if isinstance(ctx.json, dict) else dict(ctx.params.items())
    url = spec.pop("url", None) or state.config.webhook_url
    if not url:
        return 400, {"error": 'no webhook url: start with --webhook-url or pass "url"'}
    if spec.get("kind") == "comment":
        payload = comment_event(state, spec)
    else:
        payload = {"object": spec.get("object", "instagram"), "entry": spec.get("entry", [])}
    secret = state.config.ig_app_secret if spec.get("secret") == "instagram" else state.config.app_secret
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": sign(body, secret),
        "User-Agent": "facebookexternalua",
    }
    state.lock.release()  # do not hold the state while the receiver answers (it may call back)
    try:
        r = requests.post(url, data=body, headers=headers, timeout=15)
        answer = {"status": r.status_code, "body": r.text[:5000]}
    except requests.RequestException as exc:
        answer = {"status": None, "error": str(exc)}
    finally:
        state.lock.acquire()
    return {"sent": payload, "signature": headers["X-Hub-Signature-256"], "url": url, "response": answer}
