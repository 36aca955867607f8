"""Deleting what was published, as Meta answers it: DELETE /{page-post-id} and /{video-id} with a Page token,
DELETE /{ig-media-id} for accounts reached through Facebook Login, and Meta's refusal on graph.instagram.com."""

from __future__ import annotations

import pytest
import requests

from sandbox.client import appsecret_proof

from .helpers import APP_SECRET, IG_APP_SECRET, error_of, get, ig_get, ig_login, ig_post, post, publishing_tokens

V = "/v25.0"
pytestmark = pytest.mark.sandbox_marks_expected


def delete(base, path, token, secret=APP_SECRET):
    params = {"access_token": token, "appsecret_proof": appsecret_proof(token, secret)}
    return requests.delete(f"{base}{path}", params=params, timeout=30)


def does_not_exist(r, method: str, object_id: str) -> bool:
    error = error_of(r)
    return (
        r.status_code == 400
        and (error["code"], error.get("error_subcode")) == (100, 33)
        and error["message"].startswith(f"Unsupported {method} request. Object with ID '{object_id}' does not exist")
    )


@pytest.fixture
def tokens(sandbox, sandbox_control):
    return publishing_tokens(sandbox.url)


def test_deleting_a_page_post_takes_it_and_its_comments_away(sandbox, tokens):
    base = sandbox.url
    page_id, page = next(iter(tokens["pages"].items()))
    token = page["access_token"]
    post_id = post(base, f"{V}/{page_id}/feed", token, message="Closed for the holiday").json()["id"]
    comment = post(base, f"{V}/{post_id}/comments", token, message="See you soon").json()["id"]

    assert delete(base, f"{V}/{post_id}", tokens["user"]).status_code == 403  # a user token cannot
    assert error_of(delete(base, f"{V}/{post_id}", tokens["user"]))["code"] == 200
    r = delete(base, f"{V}/{post_id}", token)
    assert r.status_code == 200 and r.json() == {"success": True}

    assert does_not_exist(get(base, f"{V}/{post_id}", token, fields="id,message"), "get", post_id)
    assert does_not_exist(get(base, f"{V}/{comment}", token), "get", comment)
    assert does_not_exist(delete(base, f"{V}/{post_id}", token), "delete", post_id)  # deleting twice
    feed = get(base, f"{V}/{page_id}/feed", token, limit=100).json()["data"]
    assert post_id not in [p["id"] for p in feed]


def test_a_page_post_needs_pages_manage_posts_and_a_token_of_its_page(sandbox, tokens, sandbox_control):
    base = sandbox.url
    (page_id, page), (other_id, other) = list(tokens["pages"].items())[:2]
    post_id = post(base, f"{V}/{page_id}/feed", page["access_token"], message="Mine").json()["id"]
    assert does_not_exist(delete(base, f"{V}/{post_id}", other["access_token"]), "delete", post_id)
    user_id = get(base, f"{V}/me", tokens["user"]).json()["id"]
    sandbox_control.remove_permission(user_id, "pages_manage_posts")
    r = delete(base, f"{V}/{post_id}", page["access_token"])
    assert r.status_code == 403
    assert error_of(r)["message"] == "(#200) Requires pages_manage_posts permission to manage the object"
    assert get(base, f"{V}/{post_id}", page["access_token"], fields="id").status_code == 200


def test_deleting_a_page_video_takes_its_post_along(sandbox, tokens, media_server, sandbox_control):
    base = sandbox.url
    page_id, page = next(iter(tokens["pages"].items()))
    token = page["access_token"]
    video_id = post(base, f"{V}/{page_id}/videos", token, file_url=media_server("reel.mp4")).json()["id"]
    sandbox_control.clock_advance(5)
    post_id = get(base, f"{V}/{video_id}", token, fields="post_id").json()["post_id"]
    r = delete(base, f"{V}/{video_id}", token)
    assert r.status_code == 200 and r.json() == {"success": True}
    assert does_not_exist(get(base, f"{V}/{video_id}", token, fields="id"), "get", video_id)
    assert does_not_exist(get(base, f"{V}/{post_id}", token, fields="id"), "get", post_id)


def test_deleting_instagram_media_through_facebook_login(sandbox, tokens, media_server):
    base = sandbox.url
    ig_id, token = tokens["ig"][0]
    container = post(base, f"{V}/{ig_id}/media", token, image_url=media_server("square.jpg"), caption="Gone soon")
    media_id = post(base, f"{V}/{ig_id}/media_publish", token, creation_id=container.json()["id"]).json()["id"]
    comment = post(base, f"{V}/{media_id}/comments", token, message="first").json()["id"]
    count = get(base, f"{V}/{ig_id}", token, fields="media_count").json()["media_count"]

    r = delete(base, f"{V}/{media_id}", token)
    assert r.status_code == 200 and r.json() == {"success": True}
    assert does_not_exist(get(base, f"{V}/{media_id}", token, fields="id,permalink"), "get", media_id)
    assert does_not_exist(get(base, f"{V}/{comment}", token), "get", comment)
    assert does_not_exist(delete(base, f"{V}/{media_id}", token), "delete", media_id)
    assert get(base, f"{V}/{ig_id}", token, fields="media_count").json()["media_count"] == count - 1
    listed = get(base, f"{V}/{ig_id}/media", token, limit=100).json()["data"]
    assert media_id not in [m["id"] for m in listed]


def test_instagram_media_needs_the_publishing_permissions(sandbox, tokens, sandbox_control):
    base = sandbox.url
    ig_id, token = tokens["ig"][0]
    media_id = get(base, f"{V}/{ig_id}/media", token).json()["data"][0]["id"]
    other_id, other_token = tokens["ig"][1]
    assert does_not_exist(delete(base, f"{V}/{media_id}", other_token), "delete", media_id)
    sandbox_control.remove_permission(get(base, f"{V}/me", tokens["user"]).json()["id"], "instagram_content_publish")
    r = delete(base, f"{V}/{media_id}", token)
    assert r.status_code == 403 and error_of(r)["code"] == 10 and "instagram_content_publish" in error_of(r)["message"]
    assert get(base, f"{V}/{media_id}", token, fields="id").status_code == 200


def test_instagram_login_cannot_delete_media(sandbox, sandbox_control, media_server):
    base = sandbox.url
    token = ig_login(base)["long"]
    me = ig_get(base, f"{V}/me", token, fields="user_id").json()
    container = ig_post(base, f"{V}/me/media", token, image_url=media_server("square.jpg")).json()["id"]
    media_id = ig_post(base, f"{V}/{me['user_id']}/media_publish", token, creation_id=container).json()["id"]
    r = delete(f"{base}/graph.instagram.com", f"{V}/{media_id}", token, IG_APP_SECRET)
    assert does_not_exist(r, "delete", media_id)
    assert ig_get(base, f"{V}/{media_id}", token, fields="id").status_code == 200
