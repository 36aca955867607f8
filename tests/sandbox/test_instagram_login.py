"""Instagram Login over HTTP: authorize → code (#_) → one-hour token → 60-day token → refresh."""

from __future__ import annotations

import requests

from sandbox.client import complete_instagram_consent

from .helpers import IG_APP_ID, IG_APP_SECRET, IG_REDIRECT, authorize_url, error_of, ig_get, ig_login, query


def test_flow_me_and_refresh_rules(sandbox, sandbox_control):
    base = sandbox.url
    state = sandbox_control.state()
    login_only = next(a for a in state["ig_accounts"] if a["login_only"])
    loc = complete_instagram_consent(authorize_url(base, state="ig-1"), account=login_only["username"])
    # Meta appends "#_"; the state sits before it so it survives
    assert loc.endswith("#_") and query(loc.split("#")[0])["state"] == "ig-1"

    tokens = ig_login(base, account=login_only["id"])
    assert tokens["user_id"] == login_only["scoped_id"]
    me = ig_get(
        base,
        "/v25.0/me",
        tokens["long"],
        fields="user_id,username,name,account_type,profile_picture_url,followers_count,media_count",
    )
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["user_id"] == login_only["id"] and body["username"] == login_only["username"]
    assert body["id"] == login_only["scoped_id"] and body["media_count"] > 0
    assert ig_get(base, "/me", tokens["long"]).status_code == 200  # unversioned: served, with a warning
    assert [(m["level"], m["kind"], m["path"]) for m in sandbox_control.marks()] == [
        ("warning", "unversioned", "graph.instagram.com/me")
    ]
    sandbox_control.clear_marks()

    refresh = {"grant_type": "ig_refresh_token", "access_token": tokens["long"]}
    r = requests.get(f"{base}/graph.instagram.com/v25.0/refresh_access_token", params=refresh, timeout=30)
    assert r.status_code == 400 and error_of(r)["code"] == 100
    sandbox_control.clock_advance(86400 + 5)
    r = requests.get(f"{base}/graph.instagram.com/v25.0/refresh_access_token", params=refresh, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "bearer" and r.json()["expires_in"] == 5184000
    # past expiry a refresh is refused with 190/463
    sandbox_control.clock_advance(61 * 86400)
    r = requests.get(f"{base}/graph.instagram.com/v25.0/refresh_access_token", params=refresh, timeout=30)
    err = error_of(r)
    assert err["code"] == 190 and err["error_subcode"] == 463


def test_short_lived_token_expires_after_an_hour(sandbox, sandbox_control):
    base = sandbox.url
    tokens = ig_login(sandbox.url, long_lived=False)
    assert ig_get(base, "/v25.0/me", tokens["short"]).status_code == 200
    sandbox_control.clock_advance(3601)
    err = error_of(ig_get(base, "/v25.0/me", tokens["short"]))
    assert err["code"] == 190 and err["error_subcode"] == 463
    assert err["message"].startswith("Error validating access token: Session has expired on ")


def test_code_exchange_errors_use_instagram_shape(sandbox, sandbox_control):
    base = sandbox.url
    loc = complete_instagram_consent(authorize_url(base))
    code = query(loc.split("#")[0])["code"]
    form = {
        "client_id": IG_APP_ID,
        "client_secret": IG_APP_SECRET,
        "grant_type": "authorization_code",
        "redirect_uri": IG_REDIRECT,
        "code": code,
    }
    ok = requests.post(f"{base}/api.instagram.com/oauth/access_token", data=form, timeout=30)
    assert ok.status_code == 200 and ok.json()["data"][0]["permissions"].startswith("instagram_business_basic")
    again = requests.post(f"{base}/api.instagram.com/oauth/access_token", data=form, timeout=30)
    assert again.status_code == 400
    assert again.json() == {
        "error_type": "OAuthException",
        "code": 400,
        "error_message": "This authorization code has been used",
    }
    bad = requests.post(f"{base}/api.instagram.com/oauth/access_token", data={**form, "code": "nope"}, timeout=30)
    assert bad.json()["error_message"] == "Invalid authorization code"


def test_declined_scope_and_cancel(sandbox, sandbox_control):
    base = sandbox.url
    tokens = ig_login(base, decline=["instagram_business_content_publish"])
    r = requests.post(f"{base}/api.instagram.com/oauth/access_token", timeout=30)  # no form at all
    assert r.status_code == 400
    assert ig_get(base, "/v25.0/me", tokens["long"]).status_code == 200
    loc = complete_instagram_consent(authorize_url(base, state="z"), cancel=True)
    q = query(loc)
    assert q["error"] == "access_denied" and q["error_reason"] == "user_denied" and q["state"] == "z"


def test_ig_tokens_need_the_instagram_app_secret_proof(sandbox, sandbox_control):
    base = sandbox.url
    token = ig_login(base)["long"]
    err = error_of(ig_get(base, "/v25.0/me", token, proof=False))
    assert err["message"] == "API calls from the server require an appsecret_proof argument"
    from sandbox.client import appsecret_proof

    r = requests.get(
        f"{base}/graph.instagram.com/v25.0/me",
        timeout=30,
        params={"access_token": token, "appsecret_proof": appsecret_proof(token, "sandbox-app-secret")},
    )
    assert error_of(r)["message"] == "Invalid appsecret_proof provided in the API argument"
    # an Instagram token means nothing to graph.facebook.com
    r = requests.get(f"{base}/v25.0/me", params={"access_token": token}, timeout=30)
    assert error_of(r)["code"] == 190
