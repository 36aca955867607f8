"""The sandbox is as strict as Meta where a lenient stand-in would let a SocialHub bug through: parameters an
endpoint does not take, the same Page status twice in a row, unversioned paths, the permission each operation
needs, and a log of calls Meta documents as discouraged even when they succeed (see sandbox/README.md)."""

from __future__ import annotations

import json

import pytest
import requests

from sandbox import permissions
from sandbox import state as state_module
from sandbox.client import appsecret_proof
from tests.sandbox_fixtures import marks_problem

from .helpers import APP_ID, APP_SECRET, error_of, get, post, publishing_tokens

V = "/v25.0"


@pytest.fixture
def tokens(sandbox, sandbox_control):
    toks = publishing_tokens(sandbox.url)
    page_id, page = next(iter(toks["pages"].items()))
    ig_id, ig_token = toks["ig"][0]
    return {"base": sandbox.url, "page": page_id, "page_token": page["access_token"], "ig": ig_id, "ig_token": ig_token}


def flags(control) -> list[str]:
    return [m["kind"] for m in control.marks() if m["level"] == "flag"]


# ---------------------------------------------------------------------------------------- unknown parameters
def test_a_parameter_the_endpoint_does_not_take_is_refused_with_code_100(tokens, media_server, sandbox_control):
    base, ig = tokens["base"], tokens["ig"]
    image = media_server("square.jpg")
    r = post(base, f"{V}/{ig}/media", tokens["ig_token"], image_url=image, bogus_param="1")
    err = error_of(r)
    assert r.status_code == 400 and err["code"] == 100 and err["type"] == "OAuthException"
    assert "bogus_param" in err["error_user_msg"] and "id" not in r.json()
    assert post(base, f"{V}/{ig}/media", tokens["ig_token"], image_url=image).status_code == 200  # without it
    # a node read, an @route endpoint and a batch operation are checked the same way
    assert error_of(get(base, f"{V}/{tokens['page']}", tokens["page_token"], fields="id", colour="red"))["code"] == 100
    app = f"{APP_ID}|{APP_SECRET}"
    assert error_of(get(base, f"{V}/debug_token", app, proof=False, input_token=app, extra="x"))["code"] == 100
    ops = [{"method": "POST", "relative_url": f"{tokens['page']}/feed", "body": "message=Hi&mood=happy"}]
    data = {
        "access_token": tokens["page_token"],
        "appsecret_proof": appsecret_proof(tokens["page_token"], APP_SECRET),
        "batch": json.dumps(ops),
    }
    answer = requests.post(f"{base}{V}/", data=data, timeout=30).json()[0]
    assert answer["code"] == 400 and json.loads(answer["body"])["error"]["code"] == 100


def test_parameters_every_call_may_carry_and_the_specs_own_are_accepted(tokens, sandbox_control):
    base, page = tokens["base"], tokens["page"]
    r = get(base, f"{V}/{page}/feed", tokens["page_token"], fields="id,message", limit=2, pretty=0, include_hidden=1)
    assert r.status_code == 200, r.text
    after = r.json()["paging"]["cursors"]["after"]
    r = get(base, f"{V}/{page}/published_posts", tokens["page_token"], fields="id", limit=2, after=after)
    assert r.status_code == 200, r.text
    # a file sent as multipart is a parameter too: `source` is documented for photos
    r = post(base, f"{V}/{page}/photos", tokens["page_token"], published="false", files={"source": b"not an image"})
    assert error_of(r)["code"] == 324
    r = post(base, f"{V}/{page}/photos", tokens["page_token"], published="false", files={"poster": b"x"})
    assert error_of(r)["code"] == 100


# ------------------------------------------------------------------------------------------ duplicate status
def test_the_same_page_status_twice_in_a_row_is_refused_with_506(tokens, sandbox_control):
    base, page, token = tokens["base"], tokens["page"], tokens["page_token"]
    assert post(base, f"{V}/{page}/feed", token, message="Doors open at 9").status_code == 200
    r = post(base, f"{V}/{page}/feed", token, message="Doors open at 9")
    err = error_of(r)
    assert r.status_code == 400 and err["code"] == 506 and err["message"] == "(#506) Duplicate status message"
    listed = get(base, f"{V}/{page}/feed", token, fields="message", limit=5).json()["data"]
    assert [p.get("message") for p in listed].count("Doors open at 9") == 1
    # not "in a row" any more once something else was posted
    assert post(base, f"{V}/{page}/feed", token, message="Sold out").status_code == 200
    assert post(base, f"{V}/{page}/feed", token, message="Doors open at 9").status_code == 200


# ------------------------------------------------------------------------------------------------ unversioned
def test_unversioned_calls_are_served_but_fail_the_suite(tokens, sandbox_control):
    base = tokens["base"]
    assert marks_problem(sandbox_control) is None
    r = get(base, f"/{tokens['page']}", tokens["page_token"], fields="id")
    assert r.status_code == 200 and r.headers["facebook-api-version"] == "v25.0"
    problem = marks_problem(sandbox_control)
    assert problem and f"warning unversioned: GET graph.facebook.com/{tokens['page']}" in problem
    sandbox_control.clear_marks()


# ------------------------------------------------------------------------------------------------ permissions
def test_permission_rows_follow_metas_reference():
    # graph-api reference §5.3 (Meta's reference pages for each operation)
    fb, ig = permissions.FACEBOOK, permissions.INSTAGRAM
    assert set(permissions.NEEDED["ig_insights"][fb]) == {
        "instagram_basic",
        "instagram_manage_insights",
        "pages_read_engagement",
    }
    assert set(permissions.NEEDED["ig_insights"][ig]) == {
        "instagram_business_basic",
        "instagram_business_manage_insights",
    }
    assert set(permissions.NEEDED["page_insights"][fb]) == {"read_insights", "pages_read_engagement"}
    # a Facebook-Login token with the three IG insights permissions may read IG insights; one short, it may not
    granted = {"instagram_basic", "instagram_manage_insights", "pages_read_engagement", "pages_show_list"}
    assert permissions.missing(granted, "ig_insights", fb) is None
    assert permissions.missing(granted - {"instagram_manage_insights"}, "ig_insights", fb) == (
        "instagram_manage_insights"
    )
    # Page insights cannot be read with Instagram Login at all
    assert permissions.missing({"instagram_business_basic"}, "page_insights", ig) == "read_insights"


def test_ig_publishing_asks_for_its_whole_permission_row(sandbox, sandbox_control, media_server):
    short = "pages_show_list,instagram_basic,instagram_content_publish"  # no pages_read_engagement
    toks = publishing_tokens(sandbox.url, scope=short)
    ig_id, token = toks["ig"][0]
    r = post(sandbox.url, f"{V}/{ig_id}/media", token, image_url=media_server("square.jpg"))
    assert r.status_code == 403 and "pages_read_engagement" in error_of(r)["message"]


# ------------------------------------------------------------------------------- "would Meta flag this" marks
def container_status(tokens, cid):
    return get(tokens["base"], f"{V}/{cid}", tokens["ig_token"], fields="id,status_code").json()


def test_polling_a_container_sooner_than_5_seconds_is_flagged(tokens, media_server, sandbox_control):
    cid = post(tokens["base"], f"{V}/{tokens['ig']}/media", tokens["ig_token"], image_url=media_server("square.jpg"))
    cid = cid.json()["id"]
    container_status(tokens, cid)
    sandbox_control.clock_advance(5)
    container_status(tokens, cid)  # 5 s later: polite
    assert flags(sandbox_control) == []
    container_status(tokens, cid)  # straight away: flagged
    assert flags(sandbox_control) == ["poll_too_soon"]
    assert "polled" in marks_problem(sandbox_control)
    sandbox_control.clear_marks()


def test_publishing_before_finished_and_publishing_twice_are_flagged(tokens, media_server, sandbox_control):
    base, ig, token = tokens["base"], tokens["ig"], tokens["ig_token"]
    reel = post(base, f"{V}/{ig}/media", token, media_type="REELS", video_url=media_server("reel.mp4")).json()["id"]
    r = post(base, f"{V}/{ig}/media_publish", token, creation_id=reel)
    assert error_of(r)["error_subcode"] == 2207027
    assert flags(sandbox_control) == ["publish_before_finished"]
    sandbox_control.clear_marks()
    sandbox_control.clock_advance(10)
    assert post(base, f"{V}/{ig}/media_publish", token, creation_id=reel).status_code == 200
    assert flags(sandbox_control) == []
    r = post(base, f"{V}/{ig}/media_publish", token, creation_id=reel)
    assert error_of(r)["code"] == 9007
    assert flags(sandbox_control) == ["repeat_publish"]
    sandbox_control.clear_marks()


def test_a_second_finish_and_fast_video_polls_are_flagged(tokens, media_server, sandbox_control):
    base, page, token = tokens["base"], tokens["page"], tokens["page_token"]
    video_id = post(base, f"{V}/{page}/video_reels", token, upload_phase="start").json()["video_id"]
    blob = (media_server.root / "reel.mp4").read_bytes()
    headers = {"Authorization": f"OAuth {token}", "offset": "0", "file_size": str(len(blob))}
    requests.post(f"{base}/rupload.facebook.com/video-upload/v25.0/{video_id}", headers=headers, data=blob, timeout=30)
    finish = {"upload_phase": "finish", "video_id": video_id, "video_state": "PUBLISHED", "description": "Calm"}
    assert post(base, f"{V}/{page}/video_reels", token, **finish).json() == {"success": True}
    assert flags(sandbox_control) == []
    post(base, f"{V}/{page}/video_reels", token, **finish)
    assert flags(sandbox_control) == ["repeat_finish"]
    sandbox_control.clear_marks()
    get(base, f"{V}/{video_id}", token, fields="status")
    get(base, f"{V}/{video_id}", token, fields="permalink_url")  # not a status read
    assert flags(sandbox_control) == []
    get(base, f"{V}/{video_id}", token, fields="status")
    assert flags(sandbox_control) == ["poll_too_soon"]
    sandbox_control.clear_marks()


def test_a_second_finish_of_a_chunked_video_changes_nothing_and_is_flagged(tokens, media_server, sandbox_control):
    base, page, token = tokens["base"], tokens["page"], tokens["page_token"]
    blob = (media_server.root / "reel.mp4").read_bytes()
    start = post(base, f"{V}/{page}/videos", token, upload_phase="start", file_size=len(blob)).json()
    session = start["upload_session_id"]
    chunk = {"video_file_chunk": ("chunk", blob)}
    post(
        base,
        f"{V}/{page}/videos",
        token,
        upload_phase="transfer",
        upload_session_id=session,
        start_offset="0",
        files=chunk,
    )
    assert post(base, f"{V}/{page}/videos", token, upload_phase="finish", upload_session_id=session).json()["success"]
    sandbox_control.clock_advance(10)
    again = post(base, f"{V}/{page}/videos", token, upload_phase="finish", upload_session_id=session)
    assert again.json() == {"success": True}
    assert flags(sandbox_control) == ["repeat_finish"]
    status = get(base, f"{V}/{start['video_id']}", token, fields="status").json()["status"]
    assert status["video_status"] == "ready"  # the second finish did not restart processing
    sandbox_control.clear_marks()


def test_ig_comments_ask_for_their_whole_permission_row(sandbox, sandbox_control):
    short = "pages_show_list,instagram_basic,instagram_manage_comments"  # no pages_read_engagement
    toks = publishing_tokens(sandbox.url, scope=short)
    ig_id, token = toks["ig"][0]
    media_id = get(sandbox.url, f"{V}/{ig_id}/media", token, fields="id", limit=1).json()["data"][0]["id"]
    r = post(sandbox.url, f"{V}/{media_id}/comments", token, message="Thanks!")
    assert r.status_code == 403 and "pages_read_engagement" in error_of(r)["message"]


# ------------------------------------------------------------------------------------------------ clock rate
def test_the_clock_runs_at_the_chosen_rate(monkeypatch):
    real = [1_000_000.0]
    monkeypatch.setattr(state_module.time, "time", lambda: real[0])
    clock = state_module.Clock()
    clock.advance(100)
    real[0] += 2
    assert clock.now() == 1_000_102.0  # rate 1: real time plus what was advanced
    clock.set_rate(60)
    real[0] += 2
    assert clock.now() == 1_000_222.0  # two real seconds are two sandbox minutes, from the change on
    clock.advance(8)
    assert clock.now() == 1_000_230.0 and clock.offset == 226.0
    with pytest.raises(ValueError):
        clock.set_rate(0)
