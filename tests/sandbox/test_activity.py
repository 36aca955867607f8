"""Webhooks the sandbox sends for comment activity: control-made events (comments, replies, edits, hides,
removals, mentions, lost webhooks) in the shape and signature of each login, and live activity that only
reaches subscribed Pages and accounts."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
import requests

from sandbox.client import SandboxProcess

from .helpers import APP_SECRET, IG_APP_SECRET, get, ig_post, post

V = "/v25.0"


class Receiver:
    """A webhook endpoint on a free port. Each delivery calls the sandbox back before answering, as a real
    receiver may: the sandbox must not hold its state while it waits for the answer."""

    def __init__(self, sandbox_url: str):
        self.sandbox_url = sandbox_url
        self.got: list[tuple[dict, bytes]] = []
        self.arrived = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    callback = requests.get(f"{outer.sandbox_url}/__sandbox__/health", timeout=5).status_code
                except requests.RequestException:  # the sandbox was stopped meanwhile
                    callback = None
                with outer.arrived:
                    outer.got.append(({**dict(self.headers), "callback": callback}, body))
                    outer.arrived.notify_all()
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"EVENT_RECEIVED")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhooks/meta/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, n: int, timeout: float = 15) -> list[dict]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.got) >= n, timeout)
        return [json.loads(body) for _, body in self.got]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(sandbox):
    r = Receiver(sandbox.url)
    yield r
    r.close()


def signed_with(headers: dict, body: bytes, secret: str) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["X-Hub-Signature-256"], expected)


@pytest.fixture
def ids(sandbox_control):
    s = sandbox_control.state()
    linked = next(a for a in s["ig_accounts"] if a["page_id"])
    return SimpleNamespace(
        ig=linked["id"],
        ig_page=linked["page_id"],
        login_only=next(a["id"] for a in s["ig_accounts"] if a["login_only"]),
        plain_page=next(p["id"] for p in s["pages"] if not p["instagram_business_account"]),
    )


def subscribe_page(base, control, page_id, fields="feed"):
    out = control.issue_facebook_token(
        scopes=["pages_show_list", "pages_read_engagement", "pages_manage_metadata"], page_ids=[page_id]
    )
    token = out["pages"][0]["access_token"]
    r = post(base, f"{V}/{page_id}/subscribed_apps", token, subscribed_fields=fields)
    assert r.status_code == 200, r.text


def subscribe_ig_login(base, control, ig_id, fields="comments,mentions"):
    token = control.issue_instagram_token(ig_id)["access_token"]
    r = ig_post(base, f"{V}/me/subscribed_apps", token, subscribed_fields=fields)
    assert r.status_code == 200, r.text
    return token


# ------------------------------------------------------------------ control-made events
def test_instagram_comment_shapes_and_secrets_per_login(sandbox, sandbox_control, receiver, ids):
    out = sandbox_control.send_webhook(url=receiver.url, kind="comment", media_id=None, text="Hi!")
    assert out["response"] == {"status": 200, "body": "EVENT_RECEIVED"}
    headers, body = receiver.got[-1]
    assert signed_with(headers, body, APP_SECRET) and headers["callback"] == 200
    entry = json.loads(body)["entry"][0]
    assert entry["id"] == ids.ig and entry["changes"][0]["field"] == "comments"  # Facebook Login: changes[]

    subscribe_ig_login(sandbox.url, sandbox_control, ids.login_only)
    media = get(
        f"{sandbox.url}/graph.instagram.com",
        f"{V}/{ids.login_only}/media",
        sandbox_control.issue_instagram_token(ids.login_only)["access_token"],
        IG_APP_SECRET,
        fields="id",
        limit=1,
    ).json()["data"][0]["id"]
    sandbox_control.send_webhook(url=receiver.url, kind="comment", media_id=media, text="Bonjour 👋")
    headers, body = receiver.got[-1]
    assert signed_with(headers, body, IG_APP_SECRET) and not signed_with(headers, body, APP_SECRET)
    entry = json.loads(body)["entry"][0]
    assert entry["id"] == ids.login_only and entry["field"] == "comments" and "changes" not in entry
    assert entry["value"]["text"] == "Bonjour 👋" and entry["value"]["media"]["id"] == media
    forced = sandbox_control.send_webhook(url=receiver.url, kind="comment", login="instagram", media_id=media)
    assert forced["sent"]["entry"][0]["field"] == "comments"


def test_a_lost_webhook_makes_the_comment_and_sends_nothing(sandbox, sandbox_control, receiver, ids):
    out = sandbox_control.send_webhook(url=receiver.url, kind="comment", post_id=None, object="page", deliver=False)
    assert out["delivered"] is False and receiver.got == []
    value = out["sent"]["entry"][0]["changes"][0]["value"]
    token = sandbox_control.issue_facebook_token(page_ids=[out["sent"]["entry"][0]["id"]])["pages"][0]["access_token"]
    r = get(sandbox.url, f"{V}/{value['comment_id']}", token, fields="id,message")
    assert r.status_code == 200 and r.json()["message"] == value["message"]


def test_replies_by_fans_point_at_their_parent(sandbox_control, ids):
    top = sandbox_control.send_webhook(kind="comment", deliver=False, text="Love it")["sent"]
    top_id = top["entry"][0]["changes"][0]["value"]["id"]
    reply = sandbox_control.send_webhook(kind="comment", deliver=False, parent_id=top_id, text="Same!")["sent"]
    value = reply["entry"][0]["changes"][0]["value"]
    assert reply["object"] == "instagram" and value["parent_id"] == top_id
    page = sandbox_control.send_webhook(kind="comment", deliver=False, object="page")["sent"]
    page_comment = page["entry"][0]["changes"][0]["value"]["comment_id"]
    answer = sandbox_control.send_webhook(kind="comment", deliver=False, parent_id=page_comment)["sent"]
    value = answer["entry"][0]["changes"][0]["value"]
    assert answer["object"] == "page" and value["parent_id"] == page_comment and value["verb"] == "add"


def test_page_feed_edits_hides_and_removals(sandbox, sandbox_control, receiver):
    made = sandbox_control.send_webhook(kind="comment", object="page", deliver=False, text="typo")["sent"]
    page_id = made["entry"][0]["id"]
    cid = made["entry"][0]["changes"][0]["value"]["comment_id"]
    token = sandbox_control.issue_facebook_token(page_ids=[page_id])["pages"][0]["access_token"]

    def verb_of(kind, **extra):
        out = sandbox_control.send_webhook(url=receiver.url, kind=kind, comment_id=cid, **extra)
        return out["sent"]["entry"][0]["changes"][0]["value"]

    edited = verb_of("edit", text="fixed")
    assert edited["verb"] == "edited" and edited["message"] == "fixed"
    assert get(sandbox.url, f"{V}/{cid}", token, fields="message").json()["message"] == "fixed"
    assert verb_of("hide")["verb"] == "hide"
    assert get(sandbox.url, f"{V}/{cid}", token, fields="is_hidden").json()["is_hidden"] is True
    assert verb_of("unhide")["verb"] == "unhide"
    assert get(sandbox.url, f"{V}/{cid}", token, fields="is_hidden").json()["is_hidden"] is False
    removed = verb_of("remove")
    assert removed["verb"] == "remove" and "message" not in removed and removed["comment_id"] == cid
    assert get(sandbox.url, f"{V}/{cid}", token, fields="id").json()["error"]["error_subcode"] == 33
    assert len(receiver.got) == 4 and all(signed_with(h, b, APP_SECRET) for h, b in receiver.got)
    ig_comment = sandbox_control.send_webhook(kind="comment", deliver=False)["sent"]
    with pytest.raises(requests.HTTPError, match="Instagram sends no webhook"):
        ig_id = ig_comment["entry"][0]["changes"][0]["value"]["id"]
        sandbox_control.send_webhook(kind="hide", comment_id=ig_id, deliver=False)


def test_mention_events(sandbox, sandbox_control, ids):
    out = sandbox_control.send_webhook(kind="mention", ig_user_id=ids.ig, deliver=False, text="@x look!")["sent"]
    change = out["entry"][0]["changes"][0]
    assert out["object"] == "instagram" and change["field"] == "mentions"
    assert set(change["value"]) == {"comment_id", "media_id"}
    token = sandbox_control.issue_facebook_token()["access_token"]
    fields = f"mentioned_comment.comment_id({change['value']['comment_id']}){{id,text,media{{id}}}}"
    got = get(sandbox.url, f"{V}/{ids.ig}", token, fields=fields).json()["mentioned_comment"]
    assert got["text"] == "@x look!" and got["media"]["id"] == change["value"]["media_id"]
    caption = sandbox_control.send_webhook(kind="mention", ig_user_id=ids.ig, caption=True, deliver=False)["sent"]
    assert set(caption["entry"][0]["changes"][0]["value"]) == {"media_id"}


def test_instagram_login_mentions_arrive_as_comments(sandbox, sandbox_control, receiver, ids):
    """Instagram Login has no `mentions` webhook: a comment @mentioning the account comes as `comments`, in the flat
    shape, signed with the Instagram app's secret, its media being the stranger's post."""
    sandbox_control.send_webhook(url=receiver.url, kind="mention", ig_user_id=ids.login_only, text="@maple look!")
    headers, body = receiver.got[-1]
    assert signed_with(headers, body, IG_APP_SECRET)
    entry = json.loads(body)["entry"][0]
    assert entry["id"] == ids.login_only and entry["field"] == "comments" and "changes" not in entry
    value = entry["value"]
    assert set(value) == {"from", "media", "id", "text"} and value["text"] == "@maple look!"
    stranger = {m["media_id"] for m in sandbox_control.state()["mentions"]}
    assert value["media"]["id"] in stranger and value["media"]["media_product_type"] == "FEED"
    own = get(
        f"{sandbox.url}/graph.instagram.com",
        f"{V}/{ids.login_only}/media",
        sandbox_control.issue_instagram_token(ids.login_only)["access_token"],
        IG_APP_SECRET,
        fields="id",
    ).json()["data"]
    assert value["media"]["id"] not in {m["id"] for m in own}
    with pytest.raises(requests.HTTPError, match="caption mention"):
        sandbox_control.send_webhook(kind="mention", ig_user_id=ids.login_only, caption=True, deliver=False)


# ------------------------------------------------------------------ live activity
def test_activity_reaches_only_subscribed_objects(sandbox, sandbox_control, receiver, ids):
    nothing = sandbox_control.activity_once(5, receiver.url)
    assert nothing["events"] == [] and receiver.got == []

    subscribe_page(sandbox.url, sandbox_control, ids.plain_page, fields="mention")  # no feed: no feed events
    subscribe_page(sandbox.url, sandbox_control, ids.ig_page)  # its IG account gets Facebook-Login events
    subscribe_ig_login(sandbox.url, sandbox_control, ids.login_only)
    out = sandbox_control.activity_once(40, receiver.url)
    assert out["comments"] == 40 and len(out["events"]) == 40 and len(receiver.got) == 40
    seen = set()
    for headers, body in receiver.got:
        payload = json.loads(body)
        entry = payload["entry"][0]
        if payload["object"] == "page":
            assert entry["id"] == ids.ig_page and signed_with(headers, body, APP_SECRET)
            seen.add("page")
        elif "changes" in entry:
            assert entry["id"] == ids.ig and signed_with(headers, body, APP_SECRET)
            seen.add("ig-facebook")
        else:
            assert entry["id"] == ids.login_only and signed_with(headers, body, IG_APP_SECRET)
            seen.add("ig-instagram")
    assert seen == {"page", "ig-facebook", "ig-instagram"}
    texts = [json.loads(b)["entry"][0] for _, b in receiver.got]
    values = [(e.get("value") or e["changes"][0]["value"]) for e in texts]
    assert any("spam.example" in (v.get("text") or v.get("message")) for v in values)
    assert any(v.get("parent_id", "").split("_")[0] != v.get("post_id", "").split("_")[0] for v in values)


def test_live_activity_runs_until_stopped(sandbox, sandbox_control, receiver, ids):
    subscribe_page(sandbox.url, sandbox_control, ids.ig_page)
    started = sandbox_control.start_activity(0.05, 1, receiver.url)
    assert started["running"] is True
    # One thread sends in turn and counts each delivery once its answer is back: the third arriving here means the
    # first two were counted.
    events = receiver.wait_for(3)
    assert len(events) >= 3 and all(h["callback"] == 200 for h, _ in receiver.got)
    state = sandbox_control.activity_state()
    assert state["running"] is True and state["sent"] >= 2
    assert sandbox_control.stop_activity()["running"] is False
    sandbox_control.start_activity(0.05, url=receiver.url)
    sandbox_control.reset()
    assert sandbox_control.activity_state()["running"] is False


def test_the_activity_flag_starts_it_at_boot(receiver):
    with SandboxProcess.start(webhook_url=receiver.url, args=["--activity", "0.05"]) as box:
        receiver.sandbox_url = box.url
        assert box.control.activity_state()["running"] is True
        page = box.control.state()["pages"][0]
        subscribe_page(box.url, box.control, page["id"])
        events = receiver.wait_for(1)
        assert events and events[0]["entry"][0]["id"] in (page["id"], page["instagram_business_account"])
