"""Python helpers for tests, the bench and the demo: start the sandbox as a process, drive its controls,
and complete the consent dialogs over HTTP (no browser)."""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
import sys
import tempfile
import threading
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def appsecret_proof(token: str, secret: str) -> str:
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


class SandboxProcess:
    def __init__(self, proc: subprocess.Popen, url: str, log_path: str, state_path: str | None):
        self.proc, self.url, self.log_path, self.state_path = proc, url, log_path, state_path
        self.control = SandboxControl(url)

    @classmethod
    def start(
        cls, *, port=0, seed=1, state=None, webhook_url=None, extra_env=None, timeout=20.0, args=()
    ) -> SandboxProcess:
        cmd = [sys.executable, "-m", "sandbox", "--port", str(port), "--seed", str(seed)]
        if state:
            cmd += ["--state", str(state)]
        if webhook_url:
            cmd += ["--webhook-url", webhook_url]
        cmd += list(args)
        env = dict(os.environ)
        env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
        env.update(extra_env or {})
        log = tempfile.NamedTemporaryFile(prefix="sandbox-", suffix=".log", delete=False)
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True)
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not line or not line[0].startswith("SANDBOX_READY "):
            proc.kill()
            proc.wait()
            with open(log.name) as fh:
                raise RuntimeError(f"sandbox did not start: {line!r}\n{fh.read()[-3000:]}")
        return cls(proc, line[0].split()[1].strip(), log.name, state)

    def stop(self, timeout=10.0) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class SandboxControl:
    """One method per /__sandbox__ control."""

    def __init__(self, url: str, session: requests.Session | None = None):
        self.url = url.rstrip("/")
        self.http = session or requests.Session()

    def _call(self, method, path, json=None, **params):
        r = self.http.request(method, f"{self.url}/__sandbox__{path}", json=json, params=params or None, timeout=30)
        if r.status_code >= 400:  # say what the control refused, not only its status
            raise requests.HTTPError(f"{r.status_code} {method} /__sandbox__{path}: {r.text[:500]}", response=r)
        return r.json()

    def health(self):
        return self._call("GET", "/health")

    def reset(self):
        return self._call("POST", "/reset")

    def fault(
        self,
        *,
        path=None,
        method=None,
        host=None,
        count=1,
        kind="error",
        error=None,
        status=None,
        delay_ms=None,
        after="before",
    ):
        body = {
            "path": path,
            "method": method,
            "host": host,
            "count": count,
            "kind": kind,
            "error": error,
            "status": status,
            "delay_ms": delay_ms,
            "after": after,
        }
        return self._call("POST", "/faults", {k: v for k, v in body.items() if v is not None or k == "count"})

    def faults(self):
        return self._call("GET", "/faults")["data"]

    def clear_faults(self):
        return self._call("DELETE", "/faults")

    def latency(self, ms: int):
        return self._call("POST", "/latency", {"ms": ms})

    def clock(self):
        return self._call("GET", "/clock")

    def clock_advance(self, seconds: float):
        return self._call("POST", "/clock", {"advance": seconds})

    def clock_set(self, unix: float):
        return self._call("POST", "/clock", {"set": unix})

    def clock_rate(self, rate: float):
        """Sandbox seconds per real second from now on (reset brings back 1)."""
        return self._call("POST", "/clock", {"rate": rate})

    def revoke_tokens(self, *, user_id=None, token_prefix=None, ig_user_id=None, reason=None):
        body = {"user_id": user_id, "token_prefix": token_prefix, "ig_user_id": ig_user_id, "reason": reason}
        return self._call("POST", "/tokens/revoke", {k: v for k, v in body.items() if v is not None})

    def issue_facebook_token(
        self, *, user_id=None, scopes=None, declined=None, page_ids=None, ig_ids=None, long_lived=True
    ) -> dict:
        """Grant (adding to earlier grants) and return a user token plus the Page token of each Page in
        ``page_ids``, as Graph API Explorer would; see ``POST tokens/issue`` in the README."""
        body = {
            "platform": "facebook",
            "user_id": user_id,
            "scopes": scopes,
            "declined": declined,
            "page_ids": page_ids,
            "ig_ids": ig_ids,
            "long_lived": long_lived,
        }
        return self._call("POST", "/tokens/issue", {k: v for k, v in body.items() if v is not None})

    def issue_instagram_token(self, ig_user_id: str, *, scopes=None, declined=None, long_lived=True) -> dict:
        """An Instagram-Login token (60 days unless ``long_lived=False``) for a seeded account, with its profile."""
        body = {
            "platform": "instagram",
            "ig_user_id": ig_user_id,
            "scopes": scopes,
            "declined": declined,
            "long_lived": long_lived,
        }
        return self._call("POST", "/tokens/issue", {k: v for k, v in body.items() if v is not None})

    def remove_permission(self, user_id: str, permission: str, app_id=None):
        body = {"user_id": user_id, "permission": permission}
        if app_id:
            body["app_id"] = app_id
        return self._call("POST", "/permissions/remove", body)

    def set_usage(self, capacity=None, window_seconds=None, *, app_capacity=None, buc_capacity=None, clear=False):
        body = {
            "capacity": capacity,
            "window_seconds": window_seconds,
            "app_capacity": app_capacity,
            "buc_capacity": buc_capacity,
            "clear": clear or None,
        }
        return self._call("POST", "/usage", {k: v for k, v in body.items() if v is not None})

    def usage(self):
        return self._call("GET", "/usage")

    def activity(self, comments=0, insights_days=0):
        return self._call("POST", "/activity", {"comments": comments, "insights_days": insights_days})

    def insights_value(self, object_id: str, metric: str, date_iso: str | None, dimension: str = ""):
        """What the insights endpoints serve for that object, metric and UTC day (a breakdown value or an object
        key as ``dimension``; "" = the total); None when they serve nothing. Media and Page posts: the lifetime
        figure at the end of that day (``date_iso`` None: now)."""
        params = {"object_id": object_id, "metric": metric, "dimension": dimension}
        if date_iso:
            params["date"] = date_iso
        return self._call("GET", "/insights/value", **params)["value"]

    def insights_unavailable(self, object_id: str, since_iso: str, until_iso: str | None = None):
        """Those days (inclusive) serve nothing for the object, as Meta does for delayed data or too few followers."""
        return self._call("POST", "/insights/unavailable", {"object_id": object_id, "since": since_iso,
                                                             "until": until_iso or since_iso})  # fmt: skip

    def insights_small(self, object_id: str, small: bool = True):
        """Under 100 followers: no follows_and_unfollows, follower_count or demographics; Page insights empty."""
        return self._call("POST", "/insights/small", {"object_id": object_id, "small": small})

    def insights_state(self):
        """{"through": the last day insights serve, "offset_days", "unavailable", "small"}."""
        return self._call("GET", "/insights")

    def processing(self, video_seconds=None, image_seconds=None):
        body = {"video_seconds": video_seconds, "image_seconds": image_seconds}
        return self._call("POST", "/processing", {k: v for k, v in body.items() if v is not None})

    def quota(self, ig_user_id, quota_total=None, used=None):
        body = {"ig_user_id": ig_user_id, "quota_total": quota_total, "used": used}
        return self._call("POST", "/quota", {k: v for k, v in body.items() if v is not None})

    def send_webhook(self, **payload):
        """A change on Meta's side and its signed webhook (kinds comment, edit, hide, unhide, remove, mention;
        ``deliver=False`` makes the change and sends nothing); see ``POST webhooks/send`` in the README."""
        return self._call("POST", "/webhooks/send", payload)

    def start_activity(self, every: float, burst: int = 1, url=None):
        """Live activity: every ``every`` real seconds, ``burst`` fan comments on subscribed objects, each sent."""
        return self._call("POST", "/activity", {"every": every, "burst": burst, "url": url})

    def stop_activity(self):
        return self._call("POST", "/activity", {"every": 0})

    def activity_once(self, burst: int = 1, url=None):
        """One burst of live activity now; answers the events sent (``"events"``)."""
        return self._call("POST", "/activity", {"once": True, "burst": burst, "url": url})

    def activity_state(self):
        return self._call("GET", "/activity")

    def state(self):
        return self._call("GET", "/state")

    def save_state(self, path=None):
        return self._call("POST", "/state/save", {"path": path} if path else {})

    def requests(self, limit=50):
        return self._call("GET", "/requests", limit=limit)["data"]

    def marks(self):
        """Unversioned calls and calls Meta would flag since the last reset (see the README's rule table)."""
        return self._call("GET", "/marks")["data"]

    def clear_marks(self):
        return self._call("DELETE", "/marks")["data"]


# ------------------------------------------------------------------ consent dialogs over HTTP
class _Form(HTMLParser):
    """Collect the inputs of <form id="consent"> and the label text after each checkbox/radio."""

    def __init__(self):
        super().__init__()
        self.inside = False
        self.inputs: list[dict] = []
        self._label_for: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == "consent"
        elif tag == "input" and self.inside:
            a.setdefault("label", "")
            self.inputs.append(a)
            self._label_for = a if a.get("type") in ("checkbox", "radio") else None

    def handle_endtag(self, tag):
        if tag == "label":
            self._label_for = None
        if tag == "form":
            self.inside = False

    def handle_data(self, data):
        if self._label_for is not None:
            self._label_for["label"] += data


def _read_form(http, url):
    r = http.get(url, timeout=30)
    if r.status_code != 200:
        raise RuntimeError(f"consent page answered {r.status_code}: {r.text[:500]}")
    form = _Form()
    form.feed(r.text)
    if not form.inputs:
        raise RuntimeError(f"no consent form at {url}: {r.text[:500]}")
    return form.inputs


def _matches(inp, wanted) -> bool:
    label = inp["label"].strip()
    return any(
        str(w) in (inp.get("value"), label, label.lstrip("@"))
        or (str(w) and label.lstrip("@").startswith(str(w).lstrip("@") + " "))
        for w in wanted
    )


def _submit(http, url, fields) -> str:
    r = http.post(url, data=fields, allow_redirects=False, timeout=30)
    if r.status_code != 302:
        raise RuntimeError(f"consent submit answered {r.status_code}: {r.text[:500]}")
    return r.headers["Location"]


def complete_facebook_consent(
    dialog_url: str,
    *,
    pages=None,
    instagram=None,
    decline=(),
    user=None,
    cancel=False,
    session: requests.Session | None = None,
) -> str:
    """Open the Facebook Login dialog, tick as asked and submit; return the redirect URL (not followed).
    pages / instagram: None = all offered, else ids or names (usernames for Instagram)."""
    http = session or requests.Session()
    if user is not None:
        dialog_url += ("&" if "?" in dialog_url else "?") + requests.compat.urlencode({"sandbox_user": user})
    inputs = _read_form(http, dialog_url)
    fields = []
    for inp in inputs:
        name, value, kind = inp.get("name"), inp.get("value", ""), inp.get("type")
        if kind == "hidden":
            fields.append((name, value))
        elif kind == "checkbox" and name == "perm" and "disabled" not in inp:
            if value not in decline:
                fields.append((name, value))
        elif kind == "checkbox" and name == "page" and (pages is None or _matches(inp, pages)):
            fields.append((name, value))
        elif kind == "checkbox" and name == "instagram" and (instagram is None or _matches(inp, instagram)):
            fields.append((name, value))
    fields.append(("action", "cancel" if cancel else "continue"))
    return _submit(http, urljoin(dialog_url, ""), fields)


def complete_instagram_consent(
    authorize_url: str, *, account=None, decline=(), cancel=False, session: requests.Session | None = None
) -> str:
    """Open the Instagram Login dialog, choose the account (id or username), untick ``decline`` and submit."""
    http = session or requests.Session()
    inputs = _read_form(http, authorize_url)
    fields = []
    radios = [i for i in inputs if i.get("type") == "radio"]
    chosen = None
    if account is not None:
        chosen = next((i for i in radios if _matches(i, [account])), None)
        if chosen is None:
            raise RuntimeError(f"no Instagram account {account!r} on the consent page")
    else:
        chosen = next((i for i in radios if "checked" in i), radios[0] if radios else None)
    for inp in inputs:
        name, value, kind = inp.get("name"), inp.get("value", ""), inp.get("type")
        if kind == "hidden":
            fields.append((name, value))
        elif kind == "checkbox" and name == "perm" and "disabled" not in inp and value not in decline:
            fields.append((name, value))
    if chosen is not None:
        fields.append(("account", chosen["value"]))
    fields.append(("action", "cancel" if cancel else "continue"))
    return _submit(http, authorize_url, fields)
