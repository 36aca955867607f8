"""Facebook Login over HTTP: dialog → code → token → long-lived → /me/accounts, as Meta documents it."""

from __future__ import annotations

import requests

from sandbox.client import complete_facebook_consent

from .helpers import (
    APP_ID,
    REDIRECT,
    app_token,
    dialog_url,
    error_of,
    exchange_code,
    fb_login,
    get,
    page_tokens,
    query,
)


def test_full_flow_pages_with_instagram_and_declined_scope(sandbox, sandbox_control):
    base = sandbox.url
    loc = complete_facebook_consent(dialog_url(base, state="abc"), decline=["email"])
    assert loc.startswith(REDIRECT + "?")
    q = query(loc)
    assert q["state"] == "abc" and q["code"]

    r = exchange_code(base, q["code"])
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and 0 < body["expires_in"] <= 7200

    r = requests.get(
        f"{base}/v25.0/oauth/access_token",
        timeout=30,
        params={
            "grant_type": "fb_exchange_token",
            "client_id": APP_ID,
            "client_secret": "sandbox-app-secret",
            "fb_exchange_token": body["access_token"],
        },
    )
    long_lived = r.json()
    assert long_lived["expires_in"] == 5184000
    token = long_lived["access_token"]

    r = get(
        base,
        "/v25.0/me/accounts",
        token,
        fields="id,name,access_token,category,picture,tasks,"
        "instagram_business_account{id,username,name,profile_picture_url}",
    )
    assert r.status_code == 200, r.text
    pages = r.json()["data"]
    state = sandbox_control.state()
    user = state["users"][0]
    assert [p["id"] for p in pages] == user["page_ids"]
    linked = [p for p in pages if "instagram_business_account" in p]
    assert len(linked) == 2
    ig = linked[0]["instagram_business_account"]
    assert ig["id"].startswith("17841") and ig["username"] and ig["profile_picture_url"].startswith(base)
    assert pages[0]["picture"]["data"]["url"].startswith(base)
    assert "MANAGE" in pages[0]["tasks"] and pages[0]["category"]

    perms = get(base, "/v25.0/me/permissions", token).json()["data"]
    assert {"permission": "email", "status": "declined"} in perms
    assert {"permission": "pages_show_list", "status": "granted"} in perms

    me = get(base, "/v25.0/me", token, fields="id,name,email,picture").json()
    assert me["id"] == user["id"] and "email" not in me  # email was declined

    dbg = get(base, "/v25.0/debug_token", app_token(base), input_token=token).json()["data"]
    assert dbg["is_valid"] and dbg["type"] == "USER" and dbg["app_id"] == APP_ID
    assert "email" not in dbg["scopes"] and "pages_show_list" in dbg["scopes"]
    granular = {g["scope"]: g.get("target_ids") for g in dbg["granular_scopes"]}
    assert sorted(granular["pages_show_list"]) == sorted(user["page_ids"])
    assert dbg["user_id"] == user["id"] and dbg["expires_at"] > dbg["issued_at"]

    # Page tokens from a long-lived user token never expire (debug_token expires_at 0)
    page_token = pages[0]["access_token"]
    dbg = get(base, "/v25.0/debug_token", app_token(base), input_token=page_token).json()["data"]
    assert dbg["type"] == "PAGE" and dbg["expires_at"] == 0 and dbg["profile_id"] == pages[0]["id"]

    page = get(base, f"/v25.0/{pages[0]['id']}", page_token, fields="id,name,followers_count,link").json()
    assert page["name"] == pages[0]["name"] and page["followers_count"] > 0
    r = get(
        base,
        f"/v25.0/{ig['id']}",
        page_token,
        fields="id,username,name,profile_picture_url,followers_count,media_count",
    )
    assert r.status_code == 200, r.text
    assert r.json()["media_count"] > 0 and "X-Business-Use-Case-Usage" in r.headers


def test_only_granted_pages_are_listed_and_page_tokens_follow_short_lived(sandbox, sandbox_control):
    base = sandbox.url
    state = sandbox_control.state()
    first_page = state["users"][0]["page_ids"][0]
    tokens = fb_login(base, long_lived=False, pages=[first_page], instagram=[])
    pages = page_tokens(base, tokens["short"])
    assert list(pages) == [first_page]
    dbg = get(base, "/v25.0/debug_token", app_token(base), input_token=pages[first_page]["access_token"]).json()["data"]
    assert dbg["expires_at"] > 0
    other = state["users"][0]["page_ids"][1]
    err = error_of(get(base, f"/v25.0/{other}", tokens["short"]))
    assert err["code"] == 100 and err["error_subcode"] == 33
    assert err["message"].startswith(f"Unsupported get request. Object with ID '{other}' does not exist")


def test_accounts_cursor_paging(sandbox, sandbox_control):
    base = sandbox.url
    token = fb_login(base)["long"]
    r = get(base, "/v25.0/me/accounts", token, fields="id,name", limit=1)
    first = r.json()
    assert len(first["data"]) == 1 and first["paging"]["cursors"]["after"] and "next" in first["paging"]
    second = requests.get(first["paging"]["next"], timeout=30).json()
    assert second["data"][0]["id"] != first["data"][0]["id"] and "previous" in second["paging"]
    seen = [first["data"][0]["id"], second["data"][0]["id"]]
    page = second
    while "next" in page["paging"]:
        page = requests.get(page["paging"]["next"], timeout=30).json()
        seen.append(page["data"][0]["id"])
    assert seen == sandbox_control.state()["users"][0]["page_ids"]


def test_cancel_redirects_with_user_denied(sandbox, sandbox_control):
    loc = complete_facebook_consent(dialog_url(sandbox.url, state="s1"), cancel=True)
    q = query(loc)
    assert q == {
        "error": "access_denied",
        "error_code": "200",
        "error_description": "Permissions error",
        "error_reason": "user_denied",
        "state": "s1",
    }


def test_user_switch_shows_that_users_pages(sandbox, sandbox_control):
    state = sandbox_control.state()
    second = state["users"][1]
    token = fb_login(sandbox.url, user=second["name"])["long"]
    assert get(sandbox.url, "/v25.0/me", token).json()["id"] == second["id"]
    assert list(page_tokens(sandbox.url, token)) == second["page_ids"]


def test_wrong_client_id_shows_error_page(sandbox, sandbox_control):
    r = requests.get(dialog_url(sandbox.url).replace(APP_ID, "123"), timeout=30)
    assert r.status_code == 400 and "Invalid App ID" in r.text


def test_code_is_single_use_expires_and_checks_redirect_and_secret(sandbox, sandbox_control):
    base = sandbox.url
    code = query(complete_facebook_consent(dialog_url(base)))["code"]
    err = error_of(exchange_code(base, code, secret="wrong"))
    assert err["code"] == 1 and err["message"] == "Error validating client secret."
    err = error_of(exchange_code(base, code, redirect="https://evil.example/cb"))
    assert err["code"] == 100 and "redirect_uri is identical" in err["message"]
    assert exchange_code(base, code).status_code == 200
    err = error_of(exchange_code(base, code))
    assert err["code"] == 100 and err["error_subcode"] == 36009

    code = query(complete_facebook_consent(dialog_url(base)))["code"]
    sandbox_control.clock_advance(601)
    err = error_of(exchange_code(base, code))
    assert err["code"] == 100 and err["error_subcode"] == 36007

    r = requests.get(
        f"{base}/v25.0/oauth/access_token",
        timeout=30,
        params={"client_id": "999", "client_secret": "x", "code": "y", "redirect_uri": REDIRECT},
    )
    assert error_of(r)["code"] == 101


def test_app_token_and_unversioned_paths(sandbox, sandbox_control):
    token = app_token(sandbox.url)
    assert token.startswith(APP_ID + "|")
    # an app token has no "me"
    err = error_of(get(sandbox.url, "/v25.0/me", token))
    assert err["code"] == 2500
    # unversioned paths are served like Meta does (the app's default version), and logged as a warning
    r = get(sandbox.url, "/me", token)
    assert error_of(r)["code"] == 2500 and r.headers["facebook-api-version"] == "v25.0"
    marks = sandbox_control.marks()
    assert [(m["level"], m["kind"], m["method"], m["path"]) for m in marks] == [
        ("warning", "unversioned", "GET", "graph.facebook.com/me")
    ]
    log = sandbox_control.requests(limit=1)[0]
    assert log["marks"][0]["kind"] == "unversioned"
    sandbox_control.clear_marks()


def test_delete_permission_and_deauthorize(sandbox, sandbox_control):
    base = sandbox.url
    token = fb_login(base)["long"]
    r = requests.delete(
        f"{base}/v25.0/me/permissions/pages_manage_posts",
        timeout=30,
        params={
            "access_token": token,
            "appsecret_proof": __import__("sandbox.client").client.appsecret_proof(token, "sandbox-app-secret"),
        },
    )
    assert r.json() == {"success": True}
    perms = get(base, "/v25.0/me/permissions", token).json()["data"]
    assert {"permission": "pages_manage_posts", "status": "declined"} in perms
    r = requests.delete(
        f"{base}/v25.0/me/permissions",
        timeout=30,
        params={
            "access_token": token,
            "appsecret_proof": __import__("sandbox.client").client.appsecret_proof(token, "sandbox-app-secret"),
        },
    )
    assert r.json() == {"success": True}
    err = error_of(get(base, "/v25.0/me", token))
    assert err["code"] == 190 and err["error_subcode"] == 458
    dbg = get(base, "/v25.0/debug_token", app_token(base), input_token=token).json()["data"]
    assert dbg["is_valid"] is False and dbg["error"]["subcode"] == 458
