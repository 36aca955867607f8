"""Comments in the state, shared by the Graph endpoints, the webhook controls and live activity.

Threads have two levels on both platforms: a reply to a reply is stored under the top-level comment
(IG Comment Replies reference: "replies to a reply will be added to the top-level comment"; Facebook shows
two levels too). Instagram comments live in ``ig_comments`` (``parent_id``), Page comments in ``fb_comments``
(``parent``); each reply counts in the media's ``comments_count`` / the post's ``comment_count``.
"""

from __future__ import annotations

import hashlib

from . import seed


def digits(text: str, n: int) -> str:
    """``n`` stable digits drawn from ``text``: the same fan keeps the same id across runs."""
    out, i = "", 0
    while len(out) < n:
        out += str(int(hashlib.sha256(f"{text}:{i}".encode()).hexdigest(), 16))
        i += 1
    return out[:n]


def ig_fan(username: str) -> dict:
    return {"id": "17841" + digits(f"ig-fan:{username}", 12), "username": username}


def fb_fan(name: str) -> dict:
    return {"id": "10" + digits(f"fb-fan:{name}", 15), "name": name}


# ------------------------------------------------------------------ Instagram
def ig_top(state, c: dict) -> dict:
    return state.data["ig_comments"].get(c.get("parent_id") or "", c)


def ig_replies(state, cid: str) -> list[dict]:
    rows = [c for c in state.data["ig_comments"].values() if c.get("parent_id") == cid]
    return sorted(rows, key=lambda c: (c["ts"], c["id"]))  # oldest first, as the replies edge lists them


def ig_new(state, media: dict, *, text: str, author: dict, parent_id: str | None = None, ts=None) -> dict:
    now = state.clock.now() if ts is None else ts
    cid = state.new_id(17, "17")
    c = {
        "id": cid,
        "media": media["id"],
        "text": text,
        "timestamp": seed.iso(now),
        "ts": now,
        "username": author["username"],
        "from": {"id": author["id"], "username": author["username"]},
        "like_count": 0,
        "hidden": False,
        "parent_id": parent_id,
    }
    state.data["ig_comments"][cid] = c
    media["comments_count"] = media.get("comments_count", 0) + 1
    return c


def ig_delete(state, cid: str) -> list[str]:
    """The comment and, for a top-level one, its replies; returns the ids removed."""
    return _delete(state, cid, table="ig_comments", replies=ig_replies, parent=("ig_media", "media", "comments_count"))


def _delete(state, cid: str, *, table: str, replies, parent: tuple[str, str, str]) -> list[str]:
    """Remove a comment with its replies (and any private reply sent to them); its media or post counts fewer."""
    comments = state.data[table]
    c = comments.get(cid)
    if c is None:
        return []
    gone = [cid, *(r["id"] for r in replies(state, cid))]
    for g in gone:
        comments.pop(g, None)
        state.data.setdefault("private_replies", {}).pop(g, None)
    parents, key, counter = parent
    owner = state.data[parents].get(c[key])
    if owner is not None:
        owner[counter] = max(owner.get(counter, 0) - len(gone), 0)
    return gone


# ------------------------------------------------------------------ Facebook Page
def fb_top(state, c: dict) -> dict:
    return state.data["fb_comments"].get(c.get("parent") or "", c)


def fb_replies(state, cid: str) -> list[dict]:
    rows = [c for c in state.data["fb_comments"].values() if c.get("parent") == cid]
    return sorted(rows, key=lambda c: (c["ts"], c["id"]))


def fb_new(state, post: dict, *, message: str, author: dict, parent: str | None = None, ts=None) -> dict:
    now = state.clock.now() if ts is None else ts
    cid = f"{post['id'].split('_')[1]}_{state.new_id(16, '1')}"
    c = {
        "id": cid,
        "post_id": post["id"],
        "message": message,
        "created_time": seed.iso(now),
        "ts": now,
        "from": {"id": author["id"], "name": author["name"]},
        "like_count": 0,
        "is_hidden": False,
        "parent": parent,
    }
    state.data["fb_comments"][cid] = c
    post["comment_count"] = post.get("comment_count", 0) + 1
    return c


def fb_delete(state, cid: str) -> list[str]:
    return _delete(state, cid, table="fb_comments", replies=fb_replies, parent=("posts", "post_id", "comment_count"))


def fb_permalink(state, c: dict) -> str:
    post = state.data["posts"][c["post_id"]]
    top = fb_top(state, c)
    link = f"{post['permalink_url']}?comment_id={top['id'].split('_')[1]}"
    if top is not c:
        link += f"&reply_comment_id={c['id'].split('_')[1]}"
    return link


def psid(state, page_id: str, person_id: str) -> str:
    """The Page-scoped id Messenger gives a person who comments (private replies answer with it)."""
    table = state.data.setdefault("psids", {})
    key = f"{page_id}:{person_id}"
    if key not in table:
        table[key] = "2" + digits(f"psid:{key}", 15)
    return table[key]


# ------------------------------------------------------------------ mentions of our accounts by strangers
def mention_media_new(state, owner: dict, caption: str, mentioned: str | None) -> dict:
    """A stranger's post (``mention_media``); ``mentioned`` is the account its caption @mentions, if any."""
    now = state.clock.now()
    mid = state.new_id(17, "17")
    code = "M" + state.new_id(10)
    media = {
        "id": mid,
        "owner": owner["id"],
        "username": owner["username"],
        "caption": caption,
        "timestamp": seed.iso(now),
        "ts": now,
        "media_type": "IMAGE",
        "media_product_type": "FEED",
        "permalink": f"https://www.instagram.com/p/{code}/",
        "shortcode": code,
        "like_count": 0,
        "comments_count": 0,
        "is_comment_enabled": True,
        "media_path": f"/__sandbox__/media/{mid}.png",
        "mentions": [mentioned] if mentioned else [],
    }
    state.data.setdefault("mention_media", {})[mid] = media
    return media


def mention_comment_new(state, media: dict, text: str, author: dict, *, mentioned=None, parent_id=None) -> dict:
    now = state.clock.now()
    cid = state.new_id(17, "17")
    c = {
        "id": cid,
        "media": media["id"],
        "text": text,
        "timestamp": seed.iso(now),
        "ts": now,
        "username": author["username"],
        "from": {"id": author["id"], "username": author["username"]},
        "like_count": 0,
        "hidden": False,
        "parent_id": parent_id,
        "mentions": [mentioned] if mentioned else [],
    }
    state.data.setdefault("mention_comments", {})[cid] = c
    media["comments_count"] = media.get("comments_count", 0) + 1
    return c
