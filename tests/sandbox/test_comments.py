"""Comments and moderation over HTTP as Meta answers them: Instagram comments, replies, hide, delete and mentions
on both hosts; Page comments with filters, replies, hide, delete, likes; private replies; webhook subscriptions."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import requests

from sandbox.client import appsecret_proof, complete_facebook_consent

from .helpers import APP_SECRET, IG_APP_SECRET, dialog_url, error_of, get, ig_get, ig_post, post

V = "/v25.0"
FB_SCOPES = [
    "pages_show_list",
    "pages_read_engagement",
    "pages_read_user_content",
    "pages_manage_engagement",
    "pages_manage_metadata",
    "pages_messaging",
    "instagram_basic",
    "instagram_manage_comments",
]


def delete(base, path, token, secret=APP_SECRET, **params):
    params.update(access_token=token, appsecret_proof=appsecret_proof(token, secret))
    return requests.delete(f"{base}{path}", params=params, timeout=30)


def code_of(r) -> tuple:
    err = error_of(r)
    return r.status_code, err["code"], err.get("error_subcode")


def gone(r, object_id) -> bool:
    return code_of(r) == (400, 100, 33) and f"Object with ID '{object_id}'" in error_of(r)["message"]


@pytest.fixture
def fb(sandbox, sandbox_control):
    """The first seeded person's Page with a linked Instagram account: user token, Page token, ids."""
    out = sandbox_control.issue_facebook_token(scopes=FB_SCOPES)
    page = next(p for p in out["pages"] if p["instagram_business_account"])
    other = next(p for p in out["pages"] if p["instagram_business_account"] and p["id"] != page["id"])
    return SimpleNamespace(
        base=sandbox.url,
        user=out["access_token"],
        page_id=page["id"],
        page=page["access_token"],
        ig_id=page["instagram_business_account"]["id"],
        ig_username=page["instagram_business_account"]["username"],
        other_page=other["access_token"],
        control=sandbox_control,
    )


@pytest.fixture
def ig_login(sandbox, sandbox_control):
    """The Instagram-Login-only account with every instagram_business_* permission."""
    acc = next(a for a in sandbox_control.state()["ig_accounts"] if a["login_only"])
    out = sandbox_control.issue_instagram_token(acc["id"])
    return SimpleNamespace(base=sandbox.url, token=out["access_token"], ig_id=acc["id"], control=sandbox_control)


class IG:
    """Graph calls for one Instagram account on either host."""

    def __init__(self, base, token, ig_id, host):
        self.base, self.token, self.ig_id, self.host = base, token, ig_id, host

    def get(self, path, **params):
        call = ig_get if self.host == "instagram" else get
        return call(self.base, f"{V}/{path}", self.token, **params)

    def post(self, path, **params):
        call = ig_post if self.host == "instagram" else post
        return call(self.base, f"{V}/{path}", self.token, **params)

    def delete(self, path):
        base = f"{self.base}/graph.instagram.com" if self.host == "instagram" else self.base
        return delete(base, f"{V}/{path}", self.token, IG_APP_SECRET if self.host == "instagram" else APP_SECRET)

    def newest_media(self):
        r = self.get(f"{self.ig_id}/media", fields="id", limit=1)
        assert r.status_code == 200, r.text
        return r.json()["data"][0]["id"]


@pytest.fixture(params=["facebook", "instagram"])
def ig(request, fb, ig_login):
    if request.param == "facebook":
        return IG(fb.base, fb.page, fb.ig_id, "facebook")
    return IG(ig_login.base, ig_login.token, ig_login.ig_id, "instagram")


def fan_comment(control, **spec) -> str:
    """A fan comments (the webhook is not delivered); returns the new comment id."""
    entry = control.send_webhook(kind="comment", deliver=False, **spec)["sent"]["entry"][0]
    change = entry if "field" in entry else entry["changes"][0]
    return change["value"].get("id") or change["value"]["comment_id"]


# ================================================================== Instagram
def test_ig_comments_are_top_level_newest_first_with_replies_oldest_first(ig, sandbox_control):
    media = ig.newest_media()
    first = fan_comment(sandbox_control, media_id=media, text="First!")
    sandbox_control.clock_advance(60)
    second = fan_comment(sandbox_control, media_id=media, text="Second")
    r = ig.post(f"{first}/replies", message="Thanks!")
    assert r.status_code == 200, r.text
    ours = r.json()["id"]
    sandbox_control.clock_advance(60)
    fan_reply = fan_comment(sandbox_control, parent_id=ours, text="You're welcome")  # a reply to a reply…
    rows = ig.get(f"{media}/comments", fields="id,text,hidden,parent_id,replies{id,text,parent_id,username}")
    assert rows.status_code == 200, rows.text
    data = rows.json()["data"]
    assert [c["id"] for c in data[:2]] == [second, first] and all("parent_id" not in c for c in data)
    replies = data[1]["replies"]["data"]
    assert [c["id"] for c in replies] == [ours, fan_reply]  # …lands on the top-level comment, oldest first
    assert {c["parent_id"] for c in replies} == {first} and "replies" not in data[0]
    listed = ig.get(f"{first}/replies", fields="id,text").json()["data"]
    assert [c["id"] for c in listed] == [ours, fan_reply]
    one = ig.get(ours, fields="id,text,parent_id,username,media{id}").json()
    assert one["parent_id"] == first and one["text"] == "Thanks!" and one["media"] == {"id": media}


def test_ig_comment_fields_are_checked_against_the_spec(ig):
    media = ig.newest_media()
    r = ig.get(f"{media}/comments", fields="id,text,shares")
    assert code_of(r) == (400, 100, None)
    assert error_of(r)["message"] == "(#100) Tried accessing nonexisting field (shares) on node type (IGComment)"


def test_ig_comment_pages_hold_at_most_fifty(fb, sandbox_control):
    ig = IG(fb.base, fb.page, fb.ig_id, "facebook")
    media = ig.newest_media()
    before = len(ig.get(f"{media}/comments", limit=50).json()["data"])
    for i in range(55):
        fan_comment(sandbox_control, media_id=media, text=f"comment {i}")
    first = ig.get(f"{media}/comments", limit=100).json()
    assert len(first["data"]) == 50 and first["paging"]["next"]
    rest = requests.get(first["paging"]["next"], timeout=30).json()
    assert len(rest["data"]) == before + 5 and "next" not in rest["paging"]
    assert not {c["id"] for c in first["data"]} & {c["id"] for c in rest["data"]}


def test_hiding_an_ig_comment_shows_in_its_hidden_field(ig, sandbox_control):
    media = ig.newest_media()
    cid = fan_comment(sandbox_control, media_id=media, text="Free followers!! visit spam.example")
    assert ig.post(cid, hide="true").json() == {"success": True}
    assert ig.get(cid, fields="hidden").json() == {"hidden": True, "id": cid}
    r = ig.post(f"{cid}/replies", message="No thanks")
    assert code_of(r)[:2] == (400, 100) and "hidden" in error_of(r)["message"]
    assert ig.post(cid, hide="false").json() == {"success": True}
    assert ig.get(cid, fields="hidden").json()["hidden"] is False
    assert ig.post(f"{cid}/replies", message="No thanks").status_code == 200


def test_the_accounts_own_comment_cannot_be_hidden(ig):
    media = ig.newest_media()
    ours = ig.post(f"{media}/comments", message="Link in bio").json()["id"]
    r = ig.post(ours, hide="true")
    assert code_of(r)[:2] == (400, 100) and "media owner" in error_of(r)["message"]
    assert ig.get(ours, fields="hidden").json()["hidden"] is False


def test_deleting_an_ig_comment_takes_its_replies(ig, sandbox_control):
    media = ig.newest_media()
    count = ig.get(media, fields="comments_count").json()["comments_count"]
    cid = fan_comment(sandbox_control, media_id=media, text="Rude")
    reply = ig.post(f"{cid}/replies", message="Please be kind").json()["id"]
    assert ig.get(media, fields="comments_count").json()["comments_count"] == count + 2
    r = ig.delete(cid)
    assert r.status_code == 200 and r.json() == {"success": True}
    assert gone(ig.get(cid, fields="id"), cid) and gone(ig.get(reply, fields="id"), reply)
    assert gone(ig.delete(cid), cid)
    assert ig.get(media, fields="comments_count").json()["comments_count"] == count


def test_another_accounts_token_cannot_touch_the_comment(fb, sandbox_control):
    media = IG(fb.base, fb.page, fb.ig_id, "facebook").newest_media()
    cid = fan_comment(sandbox_control, media_id=media)
    stranger = IG(fb.base, fb.other_page, fb.ig_id, "facebook")
    assert gone(stranger.delete(cid), cid)
    assert gone(stranger.post(cid, hide="true"), cid)


def test_ig_comments_cannot_be_liked(ig, sandbox_control):
    cid = fan_comment(sandbox_control, media_id=ig.newest_media())
    r = ig.post(f"{cid}/likes")
    assert code_of(r)[:2] == (400, 2500) and error_of(r)["message"] == "Unknown path components: /likes"


def test_ig_comments_need_the_whole_permission_row(fb, sandbox_control):
    ig = IG(fb.base, fb.page, fb.ig_id, "facebook")
    media = ig.newest_media()
    sandbox_control.remove_permission(get(fb.base, f"{V}/me", fb.user).json()["id"], "instagram_manage_comments")
    r = ig.get(f"{media}/comments")
    assert code_of(r) == (403, 10, None) and "instagram_manage_comments" in error_of(r)["message"]


# ------------------------------------------------------------------ mentions
def mentions_of(control, ig_id):
    rows = [m for m in control.state()["mentions"] if m["ig_user_id"] == ig_id]
    return next(m for m in rows if m["comment_id"]), next(m for m in rows if not m["comment_id"])


def test_mentioned_comment_and_media_are_read_through_the_account(fb):
    in_comment, in_caption = mentions_of(fb.control, fb.ig_id)
    fields = (
        f"mentioned_comment.comment_id({in_comment['comment_id']})"
        "{id,text,timestamp,username,like_count,media{id,caption,permalink,media_url,media_type}}"
    )
    r = get(fb.base, f"{V}/{fb.ig_id}", fb.user, fields=fields)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["id"] == fb.ig_id
    mc = got["mentioned_comment"]
    assert mc["id"] == in_comment["comment_id"] and f"@{fb.ig_username}" in mc["text"]
    assert mc["media"]["id"] == in_comment["media_id"] and mc["media"]["permalink"].startswith("https://www.instagram")
    fields = (
        f"mentioned_media.media_id({in_caption['media_id']})"
        "{id,caption,permalink,media_url,media_type,timestamp,username,comments_count}"
    )
    mm = get(fb.base, f"{V}/{fb.ig_id}", fb.user, fields=fields).json()["mentioned_media"]
    assert mm["id"] == in_caption["media_id"] and f"@{fb.ig_username}" in mm["caption"]
    # the stranger's comment is not a node the account may read directly (IG Comment reference)
    assert gone(get(fb.base, f"{V}/{in_comment['comment_id']}", fb.user, fields="id"), in_comment["comment_id"])


def test_a_mention_of_someone_else_is_not_served(fb):
    mine, _ = mentions_of(fb.control, fb.ig_id)
    other_ig = next(a["id"] for a in fb.control.state()["ig_accounts"] if a["page_id"] and a["id"] != fb.ig_id)
    theirs, _ = mentions_of(fb.control, other_ig)
    fields = f"mentioned_comment.comment_id({theirs['comment_id']}){{id}}"
    assert gone(get(fb.base, f"{V}/{fb.ig_id}", fb.user, fields=fields), theirs["comment_id"])
    assert mine["comment_id"] != theirs["comment_id"]


def test_replying_to_mentions(fb):
    in_comment, in_caption = mentions_of(fb.control, fb.ig_id)
    r = post(fb.base, f"{V}/{fb.ig_id}/mentions", fb.user, **in_comment_params(in_comment), message="Thank you!")
    assert r.status_code == 200 and set(r.json()) == {"id"}
    r = post(fb.base, f"{V}/{fb.ig_id}/mentions", fb.user, media_id=in_caption["media_id"], message="🙏")
    assert r.status_code == 200 and set(r.json()) == {"id"}
    r = post(fb.base, f"{V}/{fb.ig_id}/mentions", fb.user, media_id=in_comment["media_id"], message="Hi")
    assert code_of(r)[:2] == (400, 100)  # that post's caption does not mention the account


def in_comment_params(m):
    return {"comment_id": m["comment_id"], "media_id": m["media_id"]}


# ================================================================== Facebook Page
def page_post(fb):
    return get(fb.base, f"{V}/{fb.page_id}/feed", fb.page, fields="id", limit=1).json()["data"][0]["id"]


def test_page_comments_filter_order_summary_and_replies(fb, sandbox_control):
    post_id = page_post(fb)
    seeded = get(fb.base, f"{V}/{post_id}/comments", fb.page, limit=100).json()["data"]
    sandbox_control.clock_advance(60)
    top = fan_comment(sandbox_control, post_id=post_id, text="Open on Sunday?", name="Zoë Müller")
    r = post(fb.base, f"{V}/{top}/comments", fb.page, message="Yes, 9 to 1!")
    assert r.status_code == 200, r.text
    ours = r.json()["id"]
    sandbox_control.clock_advance(60)
    fan_reply = fan_comment(sandbox_control, parent_id=ours, text="Merci !")
    fields = "id,message,parent{id},comment_count,can_hide,can_remove,can_reply_privately,permalink_url,is_hidden"
    toplevel = get(fb.base, f"{V}/{post_id}/comments", fb.page, fields=fields, summary="true", limit=100).json()
    assert [c["id"] for c in toplevel["data"]][-1] == top and len(toplevel["data"]) == len(seeded) + 1
    assert toplevel["summary"]["total_count"] == len(seeded) + 1
    row = toplevel["data"][-1]
    assert row["comment_count"] == 2 and row["can_hide"] and row["can_remove"] and row["can_reply_privately"]
    assert row["permalink_url"].endswith(f"?comment_id={top.split('_')[1]}") and "parent" not in row
    stream = get(fb.base, f"{V}/{post_id}/comments", fb.page, filter="stream", fields=fields, limit=100).json()
    assert [c["id"] for c in stream["data"]][-3:] == [top, ours, fan_reply]
    assert {c["parent"]["id"] for c in stream["data"][-2:]} == {top}  # a reply to a reply sits under the top
    assert stream["data"][-2]["can_hide"] is False and stream["data"][-2]["can_reply_privately"] is False
    newest = get(fb.base, f"{V}/{post_id}/comments", fb.page, order="reverse_chronological", limit=1).json()
    assert newest["data"][0]["id"] == top
    nested = get(fb.base, f"{V}/{post_id}", fb.page, fields="comments.summary(true){id,comments{id,message}}").json()
    thread = next(c for c in nested["comments"]["data"] if c["id"] == top)
    assert [c["id"] for c in thread["comments"]["data"]] == [ours, fan_reply]
    assert [c["id"] for c in get(fb.base, f"{V}/{top}/comments", fb.page).json()["data"]] == [ours, fan_reply]
    r = get(fb.base, f"{V}/{post_id}/comments", fb.page, order="newest")
    assert code_of(r)[:2] == (400, 100)


def test_hiding_and_deleting_page_comments(fb, sandbox_control):
    post_id = page_post(fb)
    top = fan_comment(sandbox_control, post_id=post_id, text="Free followers!! visit spam.example")
    reply = fan_comment(sandbox_control, parent_id=top, text="me too")
    assert post(fb.base, f"{V}/{top}", fb.page, is_hidden="true").json() == {"success": True}
    assert get(fb.base, f"{V}/{top}", fb.page, fields="is_hidden").json()["is_hidden"] is True
    assert post(fb.base, f"{V}/{top}", fb.page, is_hidden="false").json() == {"success": True}
    assert get(fb.base, f"{V}/{top}", fb.page, fields="is_hidden").json()["is_hidden"] is False
    r = post(fb.base, f"{V}/{top}", fb.user, is_hidden="true")  # a user token
    assert code_of(r)[:2] == (400, 210)
    r = delete(fb.base, f"{V}/{top}", fb.page)
    assert r.status_code == 200 and r.json() == {"success": True}
    assert gone(get(fb.base, f"{V}/{top}", fb.page, fields="id"), top)
    assert gone(get(fb.base, f"{V}/{reply}", fb.page, fields="id"), reply)


def test_the_pages_own_comment_can_be_deleted_not_hidden(fb):
    post_id = page_post(fb)
    ours = post(fb.base, f"{V}/{post_id}/comments", fb.page, message="Book at the link").json()["id"]
    assert get(fb.base, f"{V}/{ours}", fb.page, fields="can_hide").json()["can_hide"] is False
    r = post(fb.base, f"{V}/{ours}", fb.page, is_hidden="true")
    assert code_of(r)[:2] == (400, 100)
    assert post(fb.base, f"{V}/{ours}", fb.page, message="Book via the link").json() == {"success": True}
    assert get(fb.base, f"{V}/{ours}", fb.page, fields="message").json()["message"] == "Book via the link"
    assert delete(fb.base, f"{V}/{ours}", fb.page).json() == {"success": True}


def test_page_comment_moderation_needs_the_whole_permission_row(fb, sandbox_control):
    cid = fan_comment(sandbox_control, post_id=page_post(fb))
    sandbox_control.remove_permission(get(fb.base, f"{V}/me", fb.user).json()["id"], "pages_read_user_content")
    r = post(fb.base, f"{V}/{cid}", fb.page, is_hidden="true")
    assert code_of(r) == (403, 200, None) and "pages_read_user_content" in error_of(r)["message"]


def test_liking_a_page_comment_as_the_page(fb, sandbox_control):
    cid = fan_comment(sandbox_control, post_id=page_post(fb))
    before = get(fb.base, f"{V}/{cid}", fb.page, fields="like_count,user_likes").json()
    assert before["user_likes"] is False
    assert post(fb.base, f"{V}/{cid}/likes", fb.page).json() == {"success": True}
    after = get(fb.base, f"{V}/{cid}", fb.page, fields="like_count,user_likes").json()
    assert after["like_count"] == before["like_count"] + 1 and after["user_likes"] is True
    likes = get(fb.base, f"{V}/{cid}/likes", fb.page, summary="true").json()
    assert likes["data"] == [{"name": likes["data"][0]["name"], "id": fb.page_id}]
    assert likes["summary"]["has_liked"] is True
    assert delete(fb.base, f"{V}/{cid}/likes", fb.page).json() == {"success": True}
    assert get(fb.base, f"{V}/{cid}", fb.page, fields="like_count").json()["like_count"] == before["like_count"]


# ------------------------------------------------------------------ private replies
def private_reply(fb, comment_id, text="Sent you the details", token=None):
    return post(
        fb.base,
        f"{V}/{fb.page_id}/messages",
        token or fb.page,
        recipient=f'{{"comment_id":"{comment_id}"}}',
        message=f'{{"text":"{text}"}}',
    )


def test_a_private_reply_goes_once(fb, sandbox_control):
    cid = fan_comment(sandbox_control, post_id=page_post(fb), text="How much is it?")
    r = private_reply(fb, cid)
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"recipient_id", "message_id"} and r.json()["message_id"].startswith("m_")
    after = get(fb.base, f"{V}/{cid}", fb.page, fields="can_reply_privately,private_reply_conversation").json()
    assert after["can_reply_privately"] is False and after["private_reply_conversation"]["id"].startswith("t_")
    again = private_reply(fb, cid)
    assert code_of(again) == (400, 10900, None)
    assert error_of(again)["message"] == "(#10900) Activity already replied to"


def test_a_private_reply_in_a_json_body(fb, sandbox_control):
    cid = fan_comment(sandbox_control, post_id=page_post(fb))
    body = {
        "recipient": {"comment_id": cid},
        "message": {"text": "Hello 👋"},
        "access_token": fb.page,
        "appsecret_proof": appsecret_proof(fb.page, APP_SECRET),
    }
    r = requests.post(f"{fb.base}{V}/{fb.page_id}/messages", json=body, timeout=30)
    assert r.status_code == 200, r.text


def test_a_private_reply_only_within_seven_days(fb, sandbox_control):
    cid = fan_comment(sandbox_control, post_id=page_post(fb))
    sandbox_control.clock_advance(7 * 86400 + 60)
    assert get(fb.base, f"{V}/{cid}", fb.page, fields="can_reply_privately").json()["can_reply_privately"] is False
    r = private_reply(fb, cid)
    assert code_of(r) == (400, 10901, None)


def test_no_private_reply_to_the_pages_own_comment_or_without_permission(fb, sandbox_control):
    post_id = page_post(fb)
    ours = post(fb.base, f"{V}/{post_id}/comments", fb.page, message="Ask us anything").json()["id"]
    assert code_of(private_reply(fb, ours)) == (400, 10903, None)
    cid = fan_comment(sandbox_control, post_id=post_id)
    sandbox_control.remove_permission(get(fb.base, f"{V}/me", fb.user).json()["id"], "pages_messaging")
    r = private_reply(fb, cid)
    assert code_of(r) == (403, 230, None) and "pages_messaging" in error_of(r)["message"]
    assert get(fb.base, f"{V}/{cid}", fb.page, fields="can_reply_privately").json()["can_reply_privately"] is False


def test_a_private_reply_to_an_unknown_comment(fb):
    r = private_reply(fb, f"{page_post(fb).split('_')[1]}_999")
    assert code_of(r) == (400, 100, 2018001)


# ================================================================== subscriptions
def test_subscribing_a_page(fb):
    path = f"{V}/{fb.page_id}/subscribed_apps"
    assert get(fb.base, path, fb.page).json() == {"data": []}
    r = post(fb.base, path, fb.page, subscribed_fields="feed,mention")
    assert r.status_code == 200 and r.json() == {"success": True}
    listed = get(fb.base, path, fb.page).json()["data"]
    assert listed[0]["id"] == "1000000000000001" and listed[0]["subscribed_fields"] == ["feed", "mention"]
    assert fb.control.state()["subscriptions"] == {fb.page_id: ["feed", "mention"]}
    assert code_of(post(fb.base, path, fb.page, subscribed_fields="feed,sparkles"))[:2] == (400, 100)
    assert code_of(post(fb.base, path, fb.user, subscribed_fields="feed"))[:2] == (400, 210)
    assert delete(fb.base, path, fb.page).json() == {"success": True}
    assert get(fb.base, path, fb.page).json() == {"data": []}


def test_subscribing_a_page_needs_pages_manage_metadata(fb, sandbox_control):
    sandbox_control.remove_permission(get(fb.base, f"{V}/me", fb.user).json()["id"], "pages_manage_metadata")
    r = post(fb.base, f"{V}/{fb.page_id}/subscribed_apps", fb.page, subscribed_fields="feed")
    assert code_of(r) == (403, 10, None) and "pages_manage_metadata" in error_of(r)["message"]


def test_subscribing_an_instagram_login_account(ig_login):
    r = ig_post(ig_login.base, f"{V}/me/subscribed_apps", ig_login.token, subscribed_fields="comments,mentions")
    assert r.status_code == 200 and r.json() == {"success": True}
    listed = ig_get(ig_login.base, f"{V}/{ig_login.ig_id}/subscribed_apps", ig_login.token).json()["data"]
    assert listed[0]["subscribed_fields"] == ["comments", "mentions"] and listed[0]["id"] == "1000000000000002"
    assert ig_login.control.state()["subscriptions"] == {ig_login.ig_id: ["comments", "mentions"]}


def test_the_dialog_knows_the_moderation_permissions(sandbox, sandbox_control):
    url = dialog_url(sandbox.url, scope="pages_show_list,pages_manage_metadata,pages_messaging")
    page = requests.get(url, timeout=30).text
    assert "invalid-scopes" not in page and "id='perm-pages_messaging'" in page
    assert "code=" in complete_facebook_consent(url)
