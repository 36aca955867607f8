"""In-memory store of the sandbox: seeded data, grants, codes, tokens; clock; ids; JSON save/load.

Everything persistent lives in ``State.data`` (plain JSON-able dicts) so that save/load is a dump.
Run-time knobs (faults, usage windows, latency, request log) live beside it and are not saved.
One re-entrant lock guards all of it.
"""

from __future__ import annotations

import copy
import json
import os
import random
import threading
import time
from collections import deque

DEFAULT_APP_ID = "1000000000000001"
DEFAULT_APP_SECRET = "sandbox-app-secret"
DEFAULT_IG_APP_ID = "1000000000000002"
DEFAULT_IG_APP_SECRET = "sandbox-ig-app-secret"
APP_NAME = "SocialHub"


class Config:
    def __init__(
        self,
        app_id=None,
        app_secret=None,
        ig_app_id=None,
        ig_app_secret=None,
        webhook_url=None,
        seed=1,
        state_file=None,
    ):
        env = os.environ.get
        self.app_id = app_id or env("SANDBOX_APP_ID") or DEFAULT_APP_ID
        self.app_secret = app_secret or env("SANDBOX_APP_SECRET") or DEFAULT_APP_SECRET
        self.ig_app_id = ig_app_id or env("SANDBOX_IG_APP_ID") or DEFAULT_IG_APP_ID
        self.ig_app_secret = ig_app_secret or env("SANDBOX_IG_APP_SECRET") or DEFAULT_IG_APP_SECRET
        self.webhook_url = webhook_url or env("SANDBOX_WEBHOOK_URL")
        self.seed = int(seed if seed is not None else env("SANDBOX_SEED", 1))
        self.state_file = state_file or env("SANDBOX_STATE")

    def secret_for(self, app_id: str) -> str | None:
        return {self.app_id: self.app_secret, self.ig_app_id: self.ig_app_secret}.get(app_id)


class Clock:
    """Sandbox time: runs with real time at ``rate`` (default 1), moved by /__sandbox__/clock. A rate above 1
    lets tests with a real worker, whose waits are short in real time, look unhurried to the sandbox."""

    def __init__(self):
        self._real = time.time()  # real time at which the sandbox time was `_base`
        self._base = self._real
        self.rate = 1.0

    def now(self) -> float:
        return self._base + (time.time() - self._real) * self.rate

    @property
    def offset(self) -> float:
        return self.now() - time.time()

    @offset.setter
    def offset(self, value: float):
        self._real = time.time()
        self._base = self._real + float(value)

    def _rebase(self):
        now = self.now()
        self._real, self._base = time.time(), now

    def advance(self, seconds: float):
        self._rebase()
        self._base += float(seconds)

    def set(self, unix: float):
        self._rebase()
        self._base = float(unix)

    def set_rate(self, rate: float):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._rebase()
        self.rate = float(rate)


class Usage:
    """Rolling-window call counters, keyed by app id or by object id (BUC), on the sandbox clock."""

    def __init__(self, capacity=100000, window_seconds=3600, buc_capacity=None):
        self.capacity = capacity
        self.buc_capacity = buc_capacity or capacity
        self.window = window_seconds
        self.calls: dict[str, deque] = {}

    def _trim(self, key, now):
        q = self.calls.setdefault(key, deque())
        while q and q[0] <= now - self.window:
            q.popleft()
        return q

    def cap(self, key):
        return self.capacity if key.startswith("app:") else self.buc_capacity

    def record(self, key, now):
        self._trim(key, now).append(now)

    def over(self, key, now) -> bool:
        return len(self._trim(key, now)) >= self.cap(key)

    def percent(self, key, now) -> int:
        return int(len(self._trim(key, now)) * 100 / max(1, self.cap(key)))

    def regain_minutes(self, key, now) -> int:
        """Minutes until enough calls leave the window for the count to drop below capacity."""
        q = self._trim(key, now)
        excess = len(q) - self.cap(key)
        if excess < 0:
            return 0
        leaves_at = q[excess] + self.window
        return max(1, int((leaves_at - now + 59) // 60))


class State:
    def __init__(self, config: Config):
        self.config = config
        self.lock = threading.RLock()
        self.clock = Clock()
        self.data: dict = {}
        self.faults: list[dict] = []
        self.fault_seq = 0
        self.latency_ms = 0
        self.usage = Usage()
        self.requests = deque(maxlen=1000)
        self.marks = deque(maxlen=1000)  # warnings and "Meta would flag this" marks, kept apart from the log
        self.live = None  # the running live activity (webhooks.LiveActivity), if any
        self._seeded: dict | None = None

    # ------------------------------------------------------------------ lifecycle
    def seed(self):
        from . import seed as seed_mod

        with self.lock:
            if self._seeded is None:
                self._seeded = seed_mod.build(self.config.seed)
            self.data = copy.deepcopy(self._seeded)

    def reset(self):
        with self.lock:
            if self.live is not None:
                self.live.stop()
                self.live = None
            self.seed()
            self.faults.clear()
            self.latency_ms = 0
            self.usage = Usage()
            self.clock = Clock()
            self.requests.clear()
            self.marks.clear()

    def save(self, path=None):
        path = path or self.config.state_file
        if not path:
            return None
        with self.lock:
            blob = json.dumps({"clock_offset": self.clock.offset, "data": self.data}, sort_keys=True)
        tmp = f"{path}.tmp"
        with open(tmp, "w") as fh:
            fh.write(blob)
        os.replace(tmp, path)
        return path

    def load(self, path):
        with open(path) as fh:
            blob = json.load(fh)
        with self.lock:
            self.data = blob["data"]
            self.clock.offset = float(blob.get("clock_offset", 0))

    # ------------------------------------------------------------------ ids
    def new_id(self, length: int, prefix: str = "") -> str:
        """Deterministic run-time ids: a counter stored in the state feeds a seeded RNG."""
        with self.lock:
            meta = self.data["meta"]
            meta["counter"] = meta.get("counter", 0) + 1
            rng = random.Random(f"{meta['seed']}:{meta['counter']}")
            body = "".join(rng.choice("0123456789") for _ in range(length - len(prefix)))
            return prefix + body

    # ------------------------------------------------------------------ lookups
    def node_type(self, obj_id: str) -> str | None:
        d = self.data
        if obj_id in d["users"]:
            return "User"
        if obj_id in d["pages"] or obj_id in d.get("places", {}):
            return "Page"
        if obj_id in d["ig_accounts"]:
            return "IGUser"
        if obj_id in d["ig_media"]:
            return "IGMedia"
        if obj_id in d["ig_comments"]:
            return "IGComment"
        if obj_id in d["posts"]:
            return "PagePost"
        if obj_id in d["fb_comments"]:
            return "Comment"
        if obj_id in d.get("ig_containers", {}):
            return "ShadowIGMediaBuilder"
        if obj_id in d.get("fb_photos", {}):
            return "Photo"
        if obj_id in d.get("fb_videos", {}):
            return "AdVideo"
        return None

    def page_id_for_alias(self, alias: str) -> str | None:
        """The id of the Page (managed or public) whose username is `alias`; Meta matches usernames without case."""
        alias = alias.lower()
        for page in [*self.data["pages"].values(), *self.data.get("places", {}).values()]:
            if page.get("username") and page["username"].lower() == alias:
                return page["id"]
        return None

    def ig_by_scoped_id(self, scoped: str):
        for acc in self.data["ig_accounts"].values():
            if acc["scoped_id"] == scoped:
                return acc
        return None

    def grant_key(self, user_id, app_id):
        return f"{user_id}:{app_id}"

    def grant(self, user_id, app_id) -> dict | None:
        return self.data["grants"].get(self.grant_key(user_id, app_id))

    def summary(self) -> dict:
        from . import insight_data

        d = self.data
        return {
            "seed": d["meta"]["seed"],
            "anchor": d["meta"]["anchor"],
            "now": int(self.clock.now()),
            "users": [{"id": u["id"], "name": u["name"], "page_ids": u["page_ids"]} for u in d["users"].values()],
            "pages": [
                {"id": p["id"], "name": p["name"], "instagram_business_account": p.get("ig_user_id")}
                for p in d["pages"].values()
            ],
            "ig_accounts": [
                {
                    "id": a["id"],
                    "username": a["username"],
                    "page_id": a.get("page_id"),
                    "scoped_id": a["scoped_id"],
                    "login_only": a.get("login_only", False),
                }
                for a in d["ig_accounts"].values()
            ],
            "places": [
                {"id": p["id"], "name": p["name"], "username": p.get("username", ""), "has_location": "location" in p}
                for p in d.get("places", {}).values()
            ],
            "counts": {
                k: len(d[k])
                for k in (
                    "users",
                    "pages",
                    "ig_accounts",
                    "ig_media",
                    "ig_comments",
                    "posts",
                    "fb_comments",
                    "grants",
                    "tokens",
                    "codes",
                )
            },
            # the last day insights serve (insight_data.py) and how far the insights clock runs ahead
            "insights": {
                "through": insight_data.last_complete(self).isoformat(),
                "offset_days": insight_data.controls(self)["offset_days"],
            },
            # strangers' posts and comments that @mention a managed account (mentioned_media / mentioned_comment)
            "mentions": [
                {"ig_user_id": ig, "media_id": m["id"], "comment_id": None}
                for m in d.get("mention_media", {}).values()
                for ig in m.get("mentions", [])
            ]
            + [
                {"ig_user_id": ig, "media_id": c["media"], "comment_id": c["id"]}
                for c in d.get("mention_comments", {}).values()
                for ig in c.get("mentions", [])
            ],
            "subscriptions": d.get("subscriptions", {}),
        }
