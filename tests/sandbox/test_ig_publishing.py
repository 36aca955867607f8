"""Instagram content publishing end to end over HTTP: containers, processing on the sandbox clock, publish,
quota, resumable upload, carousels, stories, catalogs, comments, and Meta's error for each parameter rule."""

from __future__ import annotations

import json

import pytest
import requests

from .helpers import error_of, get, ig_get, ig_login, ig_post, post, publishing_tokens

V = "/v25.0"

# These tests drive the sandbox's rules directly and poll as fast as the rule under test needs; the politeness
# marks that makes are checked where they are the point (test_strictness.py), not held against them.
pytestmark = pytest.mark.sandbox_marks_expected


@pytest.fixture
def ig(sandbox, sandbox_control):
    toks = publishing_tokens(sandbox.url)
    ig_id, token = toks["ig"][0]
    other_id, other_token = toks["ig"][1]
    return {"base": sandbox.url, "id": ig_id, "token": token, "other": (other_id, other_token), "user": toks["user"]}


def create(ig, **params):
    return post(ig["base"], f"{V}/{ig['id']}/media", ig["token"], **params)


def container(ig, cid):
    r = get(ig["base"], f"{V}/{cid}", ig["token"], fields="id,status_code,status,video_status")
    assert r.status_code == 200, r.text
    return r.json()


def publish(ig, cid):
    return post(ig["base"], f"{V}/{ig['id']}/media_publish", ig["token"], creation_id=cid)


def media(ig, mid, fields="id,caption,media_type,media_product_type,permalink,timestamp,shortcode"):
    r = get(ig["base"], f"{V}/{mid}", ig["token"], fields=fields)
    assert r.status_code == 200, r.text
    return r.json()


def sub(r):
    err = error_of(r)
    return err["code"], err.get("error_subcode")


def test_image_end_to_end(ig, media_server, sandbox_control):
    place = next(iter(sandbox_control.state()["pages"]))  # any id that is not a place is refused below
    r = create(
        ig,
        image_url=media_server("square.jpg"),
        caption="Fresh bread #bakery @tom_h",
        user_tags="[{username:'tom_h', x: 0.5, y: 0.8}]",  # the loose form of Meta's own example (seed 001)
    )
    assert r.status_code == 200, r.text
    cid = r.json()["id"]
    c = container(ig, cid)
    assert c["status_code"] == "FINISHED" and c["status"].startswith("Finished")
    r = publish(ig, cid)
    assert r.status_code == 200, r.text
    m = media(ig, r.json()["id"])
    assert m["media_type"] == "IMAGE" and m["media_product_type"] == "FEED"
    assert m["permalink"] == f"https://www.instagram.com/p/{m['shortcode']}/" and m["caption"].startswith("Fresh")
    listed = get(ig["base"], f"{V}/{ig['id']}/media", ig["token"], fields="id,caption,like_count,comments_count").json()
    assert listed["data"][0]["id"] == m["id"] and listed["data"][0]["comments_count"] == 0
    assert container(ig, cid)["status_code"] == "PUBLISHED"
    lim = get(ig["base"], f"{V}/{ig['id']}/content_publishing_limit", ig["token"], fields="quota_usage,config").json()
    assert lim == {"data": [{"quota_usage": 1, "config": {"quota_total": 100, "quota_duration": 86400}}]}
    assert sub(create(ig, image_url=media_server("square.jpg"), location_id=place["id"])) == (100, None)


def test_reel_by_url_processing_delay_and_not_ready(ig, media_server, sandbox_control):
    cid = create(
        ig, media_type="REELS", video_url=media_server("reel.mp4"), caption="Reel", share_to_feed="true"
    ).json()["id"]
    c = container(ig, cid)
    assert c["status_code"] == "IN_PROGRESS" and c["video_status"]["processing_phase"]["status"] == "in_progress"
    r = publish(ig, cid)
    assert r.status_code == 400 and sub(r) == (9007, 2207027)
    assert error_of(r)["message"] == "Media ID is not available"
    sandbox_control.clock_advance(3)
    assert container(ig, cid)["status_code"] == "FINISHED"
    m = media(ig, publish(ig, cid).json()["id"])
    assert m["media_type"] == "VIDEO" and m["media_product_type"] == "REELS" and "/reel/" in m["permalink"]


def test_bad_videos_end_in_error_containers(ig, media_server, sandbox_control):
    # Processing takes a minute of sandbox time, moved by the test: real time passing on a busy machine between
    # the calls below cannot finish it early.
    sandbox_control.processing(video_seconds=60)
    short = create(ig, media_type="REELS", video_url=media_server("short.mp4")).json()["id"]
    vp9 = create(ig, media_type="REELS", video_url=media_server("vp9.webm")).json()["id"]
    assert container(ig, short)["status_code"] == "IN_PROGRESS"
    sandbox_control.clock_advance(60)
    for cid in (short, vp9):
        c = container(ig, cid)
        assert c["status_code"] == "ERROR"
        assert c["status"] == "Error: Media upload has failed with error code 2207026"
        assert sub(publish(ig, cid)) == (352, 2207026)


def test_resumable_upload(ig, media_server, sandbox_control):
    r = create(ig, media_type="REELS", upload_type="resumable", caption="Uploaded")
    assert r.status_code == 200, r.text
    cid, uri = r.json()["id"], r.json()["uri"]
    assert uri == f"{ig['base']}/rupload.facebook.com/ig-api-upload/v25.0/{cid}"
    vs = container(ig, cid)["video_status"]
    assert vs["uploading_phase"]["status"] == "not_started"
    blob = (media_server.root / "reel.mp4").read_bytes()
    half = len(blob) // 2
    headers = {"Authorization": f"OAuth {ig['token']}", "offset": "0", "file_size": str(len(blob))}
    bad = requests.post(uri, headers={**headers, "Authorization": "OAuth nope"}, data=blob[:half], timeout=30)
    assert bad.status_code == 401 and bad.json()["debug_info"]["type"] == "AuthError"
    r = requests.post(uri, headers=headers, data=blob[:half], timeout=30)
    assert r.json() == {"success": True, "message": "Upload successful."}
    wrong = requests.post(uri, headers=headers, data=blob[half:], timeout=30)  # offset 0 again
    assert wrong.status_code == 400 and "offset" in wrong.json()["debug_info"]["message"]
    assert container(ig, cid)["video_status"]["uploading_phase"] == {
        "status": "in_progress",
        "bytes_transferred": half,
        "file_size": len(blob),
    }
    r = requests.post(uri, headers={**headers, "offset": str(half)}, data=blob[half:], timeout=30)
    assert r.status_code == 200, r.text
    assert container(ig, cid)["video_status"]["processing_phase"]["status"] == "in_progress"
    sandbox_control.clock_advance(3)
    assert container(ig, cid)["video_status"]["uploading_phase"]["status"] == "complete"
    assert "/reel/" in media(ig, publish(ig, cid).json()["id"])["permalink"]
    # a hosted file through the file_url header (story video)
    r = create(ig, media_type="STORIES", upload_type="resumable")
    r2 = requests.post(
        r.json()["uri"],
        headers={"Authorization": f"OAuth {ig['token']}", "file_url": media_server("reel.mp4")},
        timeout=30,
    )
    assert r2.status_code == 200, r2.text
    sandbox_control.clock_advance(3)
    m = media(ig, publish(ig, r.json()["id"]).json()["id"])
    assert m["media_product_type"] == "STORY" and m["media_type"] == "VIDEO"


def test_stories(ig, media_server):
    r = create(ig, media_type="STORIES", image_url=media_server("tall.jpg"))  # 9:16 is fine for stories
    m = media(ig, publish(ig, r.json()["id"]).json()["id"])
    assert m["media_type"] == "IMAGE" and m["media_product_type"] == "STORY" and "/stories/" in m["permalink"]
    ids = [x["id"] for x in get(ig["base"], f"{V}/{ig['id']}/media", ig["token"]).json()["data"]]
    assert m["id"] not in ids  # stories are not listed on /media


def test_carousel_of_two_images_and_a_video(ig, media_server, sandbox_control):
    a = create(ig, image_url=media_server("square.jpg"), is_carousel_item="true").json()["id"]
    b = create(ig, image_url=media_server("portrait.jpg"), is_carousel_item="true").json()["id"]
    v = create(ig, media_type="VIDEO", video_url=media_server("reel.mp4"), is_carousel_item="true").json()["id"]
    assert sub(create(ig, media_type="CAROUSEL", children=f"{a},{b},{v}")) == (9007, 2207027)  # video child busy
    sandbox_control.clock_advance(3)
    r = create(ig, media_type="CAROUSEL", children=f"{a},{b},{v}", caption="Three")
    assert r.status_code == 200, r.text
    assert sub(publish(ig, a)) == (100, None)  # an item is not published on its own
    mid = publish(ig, r.json()["id"]).json()["id"]
    m = media(ig, mid, "id,media_type,children{id,media_type,media_url}")
    assert m["media_type"] == "CAROUSEL_ALBUM"
    assert [c["media_type"] for c in m["children"]["data"]] == ["IMAGE", "IMAGE", "VIDEO"]
    lim = get(ig["base"], f"{V}/{ig['id']}/content_publishing_limit", ig["token"], fields="quota_usage").json()
    assert lim["data"][0]["quota_usage"] == 1  # a carousel counts as one


def test_parameter_rules(ig, media_server, sandbox_control):
    jpg = media_server("square.jpg")
    item = create(ig, image_url=jpg, is_carousel_item="true").json()["id"]
    cases = [
        (dict(image_url=jpg, is_carousel_item="true", caption="x"), (100, None)),
        (dict(image_url=jpg, is_carousel_item="true", location_id="123"), (100, None)),
        (dict(media_type="VIDEO", video_url=media_server("reel.mp4")), (100, 2207089)),
        (dict(media_type="GIF", image_url=jpg), (100, 2207023)),
        (dict(image_url=jpg, caption="x" * 2201), (36004, 2207010)),
        (dict(image_url=jpg, caption=" ".join(f"#t{i}" for i in range(31))), (36004, 2207010)),
        (dict(image_url=jpg, caption=" ".join(f"@u{i}" for i in range(21))), (100, 2207040)),
        (dict(image_url=jpg, location_id="999"), (100, None)),
        (dict(image_url=jpg, user_tags=json.dumps([{"username": "tom_h", "x": 1.5, "y": 0.2}])), (100, None)),
        (dict(image_url=jpg, user_tags=json.dumps([{"username": "nobody.here", "x": 0.5, "y": 0.2}])), (100, None)),
        (dict(media_type="REELS", video_url=media_server("reel.mp4"), user_tags='[{"username":"tom_h"}]'), (100, None)),
        (dict(image_url=jpg, collaborators=json.dumps(["tom_h", "rafa.m", "lisa_w", "maria.k"])), (100, None)),
        (dict(image_url=jpg, collaborators=json.dumps(["nobody.here"])), (100, None)),
        (dict(media_type="CAROUSEL", children=item), (100, 2207028)),
        (dict(media_type="CAROUSEL", children=",".join([item] * 11)), (100, 2207028)),
        (dict(image_url=media_server("square.png")), (36001, 2207005)),
        (dict(image_url=media_server("tall.jpg")), (36003, 2207009)),
        (dict(image_url=media_server("missing.jpg")), (9004, 2207052)),
        (dict(image_url=media_server("not-media.txt")), (36001, 2207005)),
    ]
    for params, expected in cases:
        r = create(ig, **params)
        assert r.status_code == 400 and sub(r) == expected, (params, r.text)
    other_id, other_token = ig["other"]
    foreign = post(ig["base"], f"{V}/{other_id}/media", other_token, image_url=jpg, is_carousel_item="true").json()[
        "id"
    ]
    assert sub(create(ig, media_type="CAROUSEL", children=f"{item},{foreign}")) == (24, 2207006)
    story = create(ig, media_type="STORIES", image_url=media_server("story.jpg"), user_tags='[{"username":"tom_h"}]')
    assert story.status_code == 200, story.text  # story tags carry no coordinates
    assert (
        error_of(create(ig, image_url=media_server("missing.jpg")))["error_user_title"] == "Media download has failed."
    )


def test_product_tags_and_catalogs(ig, media_server, sandbox_control):
    base = ig["base"]
    cats = get(base, f"{V}/{ig['id']}/available_catalogs", ig["token"]).json()["data"]
    assert cats[0]["product_count"] == 12 and set(cats[0]) == {
        "catalog_id",
        "catalog_name",
        "shop_name",
        "product_count",
    }
    found = get(
        base, f"{V}/{ig['id']}/catalog_product_search", ig["token"], catalog_id=cats[0]["catalog_id"], q="mug"
    ).json()
    assert [p["product_name"] for p in found["data"]] == ["Ceramic Mug"]
    product = found["data"][0]
    assert {"product_id", "merchant_id", "retailer_id", "review_status", "is_checkout_flow", "product_variants"} <= set(
        product
    )
    pid = product["product_id"]
    ok = create(
        ig, image_url=media_server("square.jpg"), product_tags=json.dumps([{"product_id": pid, "x": 0.5, "y": 0.5}])
    )
    assert ok.status_code == 200, ok.text
    assert sub(create(ig, image_url=media_server("square.jpg"), product_tags=json.dumps([{"product_id": pid}]))) == (
        100,
        2207036,
    )
    video_tags = json.dumps([{"product_id": pid, "x": 0.1, "y": 0.1}])
    assert sub(create(ig, media_type="REELS", video_url=media_server("reel.mp4"), product_tags=video_tags)) == (
        100,
        2207035,
    )
    bad = json.dumps([{"product_id": 1, "x": 0.5, "y": 0.5}])
    assert sub(create(ig, image_url=media_server("square.jpg"), product_tags=bad)) == (100, 2207037)
    # without the shopping permission (removed in the user's settings)
    sandbox_control.remove_permission(sandbox_control.state()["users"][0]["id"], "instagram_shopping_tag_products")
    r = create(ig, image_url=media_server("square.jpg"), product_tags=bad)
    assert r.status_code == 403 and sub(r) == (10, None), r.text


def test_expired_container_and_already_published(ig, media_server, sandbox_control):
    old = create(ig, image_url=media_server("square.jpg")).json()["id"]
    done = create(ig, image_url=media_server("square.jpg")).json()["id"]
    mid = publish(ig, done).json()["id"]
    count = len(get(ig["base"], f"{V}/{ig['id']}/media", ig["token"], limit=100).json()["data"])
    r = publish(ig, done)
    assert r.status_code == 400 and sub(r) == (9007, 2207027)
    assert len(get(ig["base"], f"{V}/{ig['id']}/media", ig["token"], limit=100).json()["data"]) == count
    assert container(ig, done)["status_code"] == "PUBLISHED" and media(ig, mid)["id"] == mid
    sandbox_control.clock_advance(24 * 3600 + 1)
    assert container(ig, old)["status_code"] == "EXPIRED"
    assert sub(publish(ig, old)) == (-2, 2207020)
    assert sub(publish(ig, "17000000000000000")) == (24, 2207008)


def test_publishing_quota(ig, media_server, sandbox_control):
    sandbox_control.quota(ig["id"], quota_total=3, used=2)
    a = create(ig, image_url=media_server("square.jpg")).json()["id"]
    b = create(ig, image_url=media_server("square.jpg")).json()["id"]
    assert publish(ig, a).status_code == 200
    r = publish(ig, b)
    assert r.status_code == 400 and sub(r) == (9, 2207042)
    lim = get(ig["base"], f"{V}/{ig['id']}/content_publishing_limit", ig["token"], fields="quota_usage,config").json()
    assert lim["data"][0] == {"quota_usage": 3, "config": {"quota_total": 3, "quota_duration": 86400}}
    sandbox_control.clock_advance(86400)  # the window moves on (and b, 24 h old, has expired)
    assert sub(publish(ig, b)) == (-2, 2207020)
    assert publish(ig, create(ig, image_url=media_server("square.jpg")).json()["id"]).status_code == 200


def test_first_comment(ig, media_server):
    mid = publish(ig, create(ig, image_url=media_server("square.jpg")).json()["id"]).json()["id"]
    r = post(ig["base"], f"{V}/{mid}/comments", ig["token"], message="Link in bio!")
    assert r.status_code == 200, r.text
    rows = get(ig["base"], f"{V}/{mid}/comments", ig["token"], fields="id,text,username").json()["data"]
    assert rows[0]["id"] == r.json()["id"] and rows[0]["text"] == "Link in bio!"
    assert media(ig, mid, "comments_count")["comments_count"] == 1


def test_fault_after_publish_still_publishes_once(ig, media_server, sandbox_control):
    cid = create(ig, image_url=media_server("square.jpg")).json()["id"]
    before = len(get(ig["base"], f"{V}/{ig['id']}/media", ig["token"], limit=100).json()["data"])
    sandbox_control.fault(path="/media_publish$", kind="error", error={"preset": "transient"}, after="after")
    r = publish(ig, cid)
    assert r.status_code == 500 and error_of(r)["code"] == 2
    listed = get(ig["base"], f"{V}/{ig['id']}/media", ig["token"], limit=100).json()["data"]
    assert len(listed) == before + 1
    assert container(ig, cid)["status_code"] == "PUBLISHED"
    assert sub(publish(ig, cid)) == (9007, 2207027)  # the retry does not make a second media
    assert len(get(ig["base"], f"{V}/{ig['id']}/media", ig["token"], limit=100).json()["data"]) == before + 1
    assert [m["kind"] for m in sandbox_control.marks() if m["level"] == "flag"] == ["repeat_publish"]


def test_instagram_login_host(sandbox, sandbox_control, media_server):
    base = sandbox.url
    login = ig_login(base)
    token = login["long"]
    me = ig_get(base, "/v25.0/me", token, fields="user_id").json()
    r = ig_post(base, "/v25.0/me/media", token, image_url=media_server("square.jpg"), caption="via IG login")
    assert r.status_code == 200, r.text
    r = ig_post(base, f"/v25.0/{me['user_id']}/media_publish", token, creation_id=r.json()["id"])
    assert r.status_code == 200, r.text
    m = ig_get(base, f"/v25.0/{r.json()['id']}", token, fields="id,media_type,permalink").json()
    assert m["media_type"] == "IMAGE"
    lim = ig_get(base, "/v25.0/me/content_publishing_limit", token, fields="quota_usage").json()
    assert lim["data"][0]["quota_usage"] == 1
    r = ig_post(
        base,
        "/v25.0/me/media",
        token,
        image_url=media_server("square.jpg"),
        product_tags='[{"product_id":1,"x":0.5,"y":0.5}]',
    )
    assert r.status_code == 403 and sub(r)[0] == 10  # product tagging is Facebook Login only
