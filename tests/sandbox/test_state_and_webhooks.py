"""Determinism, save/load across restarts, the seeded data, and signed webhooks."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import requests

from sandbox.client import SandboxProcess

from .helpers import fb_login, get


def ids_of(summary):
    return {
        "users": [u["id"] for u in summary["users"]],
        "pages": [p["id"] for p in summary["pages"]],
        "ig": [a["id"] for a in summary["ig_accounts"]],
        "counts": summary["counts"],
    }


def test_same_seed_same_ids_other_seed_other_ids(sandbox, sandbox_control, tmp_path):
    mine = sandbox_control.state()
    with SandboxProcess.start(seed=1) as twin, SandboxProcess.start(seed=2) as other:
        assert ids_of(twin.control.state()) == ids_of(mine)
        assert ids_of(other.control.state())["pages"] != ids_of(mine)["pages"]


def test_seeded_data_shape(sandbox, sandbox_control):
    s = sandbox_control.state()
    assert len(s["users"]) >= 2 and len(s["pages"]) >= 3
    assert sum(1 for p in s["pages"] if p["instagram_business_account"]) == 2
    assert any(a["login_only"] for a in s["ig_accounts"])
    assert all(len(p["id"]) == 15 for p in s["pages"])
    assert all(a["id"].startswith("17841") and len(a["id"]) == 17 for a in s["ig_accounts"])
    assert s["insights"]["offset_days"] == 0  # insight history ends on the last day the sandbox clock completed
    assert s["counts"]["ig_media"] > 0 and s["counts"]["ig_comments"] > 0 and s["counts"]["posts"] > 0
    r = requests.get(f"{sandbox.url}/__sandbox__/avatar/{s['pages'][0]['id']}.png", timeout=30)
    assert r.headers["Content-Type"] == "image/png" and r.content.startswith(b"\x89PNG")
    out = sandbox_control.activity(comments=4, insights_days=2)
    assert len(out["comments"]) == 4
    after = sandbox_control.state()
    assert (
        after["counts"]["ig_comments"] + after["counts"]["fb_comments"]
        == s["counts"]["ig_comments"] + s["counts"]["fb_comments"] + 4
    )
    # the insights clock runs two days ahead: two more days of history
    through = dt.date.fromisoformat(after["insights"]["through"]) - dt.date.fromisoformat(s["insights"]["through"])
    assert through == dt.timedelta(days=2)


def test_state_survives_save_and_sigterm(tmp_path):
    path = tmp_path / "state.json"
    with SandboxProcess.start(state=path) as first:
        token = fb_login(first.url)["long"]
        assert first.control.save_state()["ok"] and path.exists()
        first.control.clock_advance(3600)
    # clean shutdown saved again; the token and the clock offset come back
    with SandboxProcess.start(state=path) as second:
        assert get(second.url, "/v25.0/me", token).status_code == 200
        assert second.control.clock()["offset"] >= 3600 - 5


class _Receiver(BaseHTTPRequestHandler):
    got: list = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.got.append((dict(self.headers), body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"EVENT_RECEIVED")

    def log_message(self, *args):
        pass


def test_webhook_is_signed_with_the_app_secret(sandbox, sandbox_control):
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/webhooks/meta"
        out = sandbox_control.send_webhook(url=url, kind="comment", object="instagram", text="Hello there")
        assert out["response"] == {"status": 200, "body": "EVENT_RECEIVED"}
        headers, body = _Receiver.got[-1]
        expected = "sha256=" + hmac.new(b"sandbox-app-secret", body, hashlib.sha256).hexdigest()
        assert headers["X-Hub-Signature-256"] == expected
        payload = json.loads(body)
        change = payload["entry"][0]["changes"][0]
        assert payload["object"] == "instagram" and change["field"] == "comments"
        assert change["value"]["text"] == "Hello there" and payload["entry"][0]["id"].startswith("17841")
        out = sandbox_control.send_webhook(url=url, object="page", entry=[{"id": "1", "time": 0, "changes": []}])
        assert json.loads(_Receiver.got[-1][1]) == {"object": "page", "entry": [{"id": "1", "time": 0, "changes": []}]}
        out = sandbox_control.send_webhook(url=url, kind="comment", object="page")
        assert out["sent"]["entry"][0]["changes"][0]["value"]["item"] == "comment"
    finally:
        server.shutdown()
