"""Facebook Page publishing over HTTP: text, link with call to action, photos, multi-photo posts, videos,
reels (start → rupload → finish), scheduled posts, comments, and Meta's errors for each rule."""

from __future__ import annotations

import json

import pytest
import requests

from .helpers import error_of, get, post, publishing_tokens

V = "/v25.0"

# These tests drive the sandbox's rules directly and poll as fast as the rule under test needs; the politeness
# marks that makes are checked where they are the point (test_strictness.py), not held against them.
pytestmark = pytest.mark.sandbox_marks_expected


@pytest.fixture
def page(sandbox, sandbox_control):
    toks = publishing_tokens(sandbox.url)
    pid, p = next(iter(toks["pages"].items()))
    return {"base": sandbox.url, "id": pid, "token": p["access_token"], "user": toks["user"]}


def feed(page, **params):
    return post(page["base"], f"{V}/{page['id']}/feed", page["token"], **params)


def read(page, node, **params):
    r = get(page["base"], f"{V}/{node}", page["token"], **params)
    assert r.status_code == 200, r.text
    return r.json()


def test_text_post_and_feed_order(page):
    r = feed(page, message="Open late tonight")
    assert r.status_code == 200, r.text
    post_id = r.json()["id"]
    assert post_id.startswith(page["id"] + "_")
    rows = read(page, f"{page['id']}/feed", fields="id,message,created_time,permalink_url,is_published")["data"]
    assert rows[0]["id"] == post_id and rows[0]["is_published"] is True
    assert read(page, post_id, fields="permalink_url")["permalink_url"].startswith("https://www.facebook.com/")
    assert error_of(feed(page))["message"] == "(#100) Missing message or attachment"
    r = get(page["base"], f"{V}/{page['id']}/feed", page["token"], limit=101)
    assert r.status_code == 400 and error_of(r)["code"] == 100
    # user tokens cannot post as the Page
    r = post(page["base"], f"{V}/{page['id']}/feed", page["user"], message="x")
    assert r.status_code == 403 and error_of(r)["code"] == 200


def test_link_with_call_to_action(page):
    link = "https://bluedoor.example.com/menu"
    cta = {"type": "LEARN_MORE", "value": {"link": link}}
    r = feed(page, message="New menu", link=link, call_to_action=json.dumps(cta))
    assert r.status_code == 200, r.text
    assert read(page, r.json()["id"], fields="call_to_action")["call_to_action"]["type"] == "LEARN_MORE"
    other = {"type": "LEARN_MORE", "value": {"link": "https://elsewhere.example.com"}}
    assert error_of(feed(page, link=link, call_to_action=json.dumps(other)))["code"] == 100
    assert error_of(feed(page, link=link, call_to_action=json.dumps({"type": "CLICK_HERE"})))["code"] == 100


def test_photos_single_and_several_in_one_post(page, media_server):
    r = post(page["base"], f"{V}/{page['id']}/photos", page["token"], url=media_server("square.png"), caption="One")
    assert r.status_code == 200 and set(r.json()) == {"id", "post_id"}, r.text
    ids = []
    for name in ("square.jpg", "portrait.jpg"):
        r = post(page["base"], f"{V}/{page['id']}/photos", page["token"], url=media_server(name), published="false")
        assert set(r.json()) == {"id"}
        ids.append(r.json()["id"])
    with open(media_server.root / "story.jpg", "rb") as fh:  # multipart source
        r = post(page["base"], f"{V}/{page['id']}/photos", page["token"], published="false", files={"source": fh})
    ids.append(r.json()["id"])
    attached = json.dumps([{"media_fbid": i} for i in ids])
    r = feed(page, message="Three photos", attached_media=attached)
    assert r.status_code == 200, r.text
    assert error_of(feed(page, message="again", attached_media=attached))["code"] == 100  # already attached
    assert error_of(feed(page, attached_media=json.dumps([{"media_fbid": "123"}])))["code"] == 100
    uploaded = read(page, f"{page['id']}/photos", type="uploaded")["data"]
    assert len(uploaded) == 4
    r = post(page["base"], f"{V}/{page['id']}/photos", page["token"], url=media_server("missing.jpg"))
    assert error_of(r)["code"] == 324


def test_scheduled_post_window(page, sandbox_control):
    now = sandbox_control.clock()["now"]
    assert error_of(feed(page, message="x", published="false", scheduled_publish_time=int(now + 60)))["code"] == 100
    r = feed(page, message="x", published="false", scheduled_publish_time=int(now + 76 * 86400))
    assert error_of(r)["code"] == 100
    r = feed(page, message="x", scheduled_publish_time=int(now + 3600))
    assert "published post" in error_of(r)["message"]
    r = feed(page, message="Tomorrow", published="false", scheduled_publish_time=int(now + 3600))
    assert r.status_code == 200, r.text
    pid = r.json()["id"]
    assert read(page, pid, fields="is_published")["is_published"] is False
    assert pid not in [p["id"] for p in read(page, f"{page['id']}/published_posts")["data"]]
    sandbox_control.clock_advance(3601)
    assert read(page, pid, fields="is_published")["is_published"] is True
    assert pid in [p["id"] for p in read(page, f"{page['id']}/published_posts", limit=100)["data"]]


def test_video_by_url_and_by_chunks(page, media_server, sandbox_control):
    r = post(page["base"], f"{V}/{page['id']}/videos", page["token"], file_url=media_server("reel.mp4"), title="Tour")
    assert r.status_code == 200, r.text
    vid = r.json()["id"]
    assert read(page, vid, fields="status")["status"]["video_status"] == "processing"
    sandbox_control.clock_advance(3)
    status = read(page, vid, fields="status,permalink_url")
    assert status["status"]["video_status"] == "ready"
    assert status["status"]["publishing_phase"]["publish_status"] == "published"
    blob = (media_server.root / "reel.mp4").read_bytes()
    start = post(page["base"], f"{V}/{page['id']}/videos", page["token"], upload_phase="start", file_size=len(blob))
    body = start.json()
    assert set(body) == {"video_id", "upload_session_id", "start_offset", "end_offset"}
    r = post(
        page["base"],
        f"{V}/{page['id']}/videos",
        page["token"],
        upload_phase="transfer",
        upload_session_id=body["upload_session_id"],
        start_offset="0",
        files={"video_file_chunk": ("chunk", blob)},
    )
    assert r.json()["start_offset"] == str(len(blob)), r.text
    r = post(
        page["base"],
        f"{V}/{page['id']}/videos",
        page["token"],
        upload_phase="finish",
        upload_session_id=body["upload_session_id"],
    )
    assert r.json() == {"success": True}
    sandbox_control.clock_advance(3)
    assert read(page, body["video_id"], fields="status")["status"]["video_status"] == "ready"
    assert len(read(page, f"{page['id']}/videos")["data"]) == 2


def test_reel_start_upload_finish(page, media_server, sandbox_control):
    r = post(page["base"], f"{V}/{page['id']}/video_reels", page["token"], upload_phase="start")
    assert r.status_code == 200, r.text
    vid, url = r.json()["video_id"], r.json()["upload_url"]
    assert url == f"{page['base']}/rupload.facebook.com/video-upload/v25.0/{vid}"
    blob = (media_server.root / "reel.mp4").read_bytes()
    headers = {"Authorization": f"OAuth {page['token']}", "offset": "0", "file_size": str(len(blob))}
    r = requests.post(url, headers=headers, data=blob, timeout=30)
    assert r.json() == {"success": True}, r.text
    # Uploaded, not yet finished: Meta has not started processing it (Reels Publishing API, step 3).
    phases = read(page, vid, fields="status")["status"]
    assert phases["uploading_phase"]["status"] == "complete"
    assert phases["processing_phase"]["status"] == phases["publishing_phase"]["status"] == "not_started"
    r = post(
        page["base"],
        f"{V}/{page['id']}/video_reels",
        page["token"],
        upload_phase="finish",
        video_id=vid,
        video_state="PUBLISHED",
        description="Behind the counter",
    )
    assert r.json() == {"success": True}, r.text
    assert read(page, vid, fields="status")["status"]["video_status"] == "processing"
    sandbox_control.clock_advance(3)
    v = read(page, vid, fields="status,permalink_url,post_id")
    assert v["status"]["video_status"] == "ready" and v["permalink_url"] == f"https://www.facebook.com/reel/{vid}"
    assert read(page, v["post_id"], fields="message")["message"] == "Behind the counter"
    # a 1-second reel fails processing (reels are 3–90 s)
    vid2 = post(page["base"], f"{V}/{page['id']}/video_reels", page["token"], upload_phase="start").json()["video_id"]
    requests.post(
        f"{page['base']}/rupload.facebook.com/video-upload/v25.0/{vid2}",
        headers={"Authorization": f"OAuth {page['token']}", "file_url": media_server("short.mp4")},
        timeout=30,
    )
    post(
        page["base"],
        f"{V}/{page['id']}/video_reels",
        page["token"],
        upload_phase="finish",
        video_id=vid2,
        video_state="PUBLISHED",
    )
    sandbox_control.clock_advance(3)
    assert read(page, vid2, fields="status")["status"]["video_status"] == "error"


def test_comment_on_post(page):
    post_id = feed(page, message="Ask us anything").json()["id"]
    r = post(page["base"], f"{V}/{post_id}/comments", page["token"], message="We open at 8.")
    assert r.status_code == 200, r.text
    rows = read(page, f"{post_id}/comments", fields="id,message,from")["data"]
    assert rows[-1]["id"] == r.json()["id"] and rows[-1]["from"]["id"] == page["id"]
