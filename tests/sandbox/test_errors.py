"""Every class of error a Graph call can meet, with Meta's status, code, subcode and text."""

from __future__ import annotations

import json

import requests

from .helpers import APP_SECRET, error_of, fb_login, get, page_tokens


def test_missing_and_malformed_tokens(sandbox, sandbox_control):
    base = sandbox.url
    r = get(base, "/v25.0/me")
    assert r.status_code == 400 and error_of(r)["code"] == 2500
    pid = sandbox_control.state()["pages"][0]["id"]
    assert error_of(get(base, f"/v25.0/{pid}"))["code"] == 104
    err = error_of(get(base, "/v25.0/me", "EAAnot-a-token"))
    assert err["code"] == 190 and err["type"] == "OAuthException" and "error_subcode" not in err


def test_expired_via_clock(sandbox, sandbox_control):
    base = sandbox.url
    short = fb_login(base, long_lived=False)["short"]
    assert get(base, "/v25.0/me", short).status_code == 200
    sandbox_control.clock_advance(3600 + 1)
    r = get(base, "/v25.0/me", short)
    err = error_of(r)
    assert r.status_code == 400 and err["code"] == 190 and err["error_subcode"] == 463
    assert "Session has expired on" in err["message"] and "The current time is" in err["message"]


def test_revoked_and_logged_out(sandbox, sandbox_control):
    base = sandbox.url
    state = sandbox_control.state()
    token = fb_login(base)["long"]
    page_token = next(iter(page_tokens(base, token).values()))["access_token"]
    assert sandbox_control.revoke_tokens(user_id=state["users"][0]["id"])["revoked"] >= 1
    err = error_of(get(base, "/v25.0/me", token))
    assert err["code"] == 190 and err["error_subcode"] == 460
    assert err["message"].startswith("Error validating access token: The session has been invalidated")
    assert error_of(get(base, "/v25.0/me", page_token))["error_subcode"] == 460  # Page tokens go with it
    token = fb_login(base)["long"]
    sandbox_control.revoke_tokens(token_prefix=token[:20], reason="logged_out")
    assert error_of(get(base, "/v25.0/me", token))["error_subcode"] == 467


def test_permission_removed_in_settings(sandbox, sandbox_control):
    base = sandbox.url
    state = sandbox_control.state()
    token = fb_login(base)["long"]
    ig_id = next(p["instagram_business_account"] for p in state["pages"] if p["instagram_business_account"])
    assert get(base, f"/v25.0/{ig_id}", token, fields="id,username").status_code == 200
    sandbox_control.remove_permission(state["users"][0]["id"], "instagram_basic")
    r = get(base, f"/v25.0/{ig_id}", token, fields="id,username")
    err = error_of(r)
    assert r.status_code == 403 and err["code"] == 10 and "instagram_basic" in err["message"]


def test_unknown_field_edge_object_and_method(sandbox, sandbox_control):
    base = sandbox.url
    token = fb_login(base)["long"]
    pages = page_tokens(base, token)
    pid, page = next(iter(pages.items()))
    err = error_of(get(base, f"/v25.0/{pid}", page["access_token"], fields="id,bogus"))
    assert (
        err["code"] == 100 and err["message"] == "(#100) Tried accessing nonexisting field (bogus) on node type (Page)"
    )
    err = error_of(get(base, "/v25.0/me", token, fields="id,instagram_business_account"))
    assert err["message"] == "(#100) Tried accessing nonexisting field (instagram_business_account) on node type (User)"
    err = error_of(get(base, f"/v25.0/{pid}/nonsense", page["access_token"]))
    assert err["code"] == 2500 and err["message"] == "Unknown path components: /nonsense"
    err = error_of(get(base, "/v25.0/999999999999999", token))
    assert err["code"] == 100 and err["error_subcode"] == 33 and err["type"] == "GraphMethodException"
    from sandbox.client import appsecret_proof

    r = requests.delete(
        f"{base}/v25.0/me/accounts",
        timeout=30,
        params={"access_token": token, "appsecret_proof": appsecret_proof(token, APP_SECRET)},
    )
    err = error_of(r)
    assert err["code"] == 100 and err["message"].startswith("Unsupported delete request. Object with ID 'me'")


def test_appsecret_proof_missing_or_wrong(sandbox, sandbox_control):
    base = sandbox.url
    token = fb_login(base)["long"]
    err = error_of(get(base, "/v25.0/me", token, proof=False))
    assert err == {
        **err,
        "code": 100,
        "type": "GraphMethodException",
        "message": "API calls from the server require an appsecret_proof argument",
    }
    err = error_of(get(base, "/v25.0/me", token, secret="sandbox-ig-app-secret"))
    assert err["message"] == "Invalid appsecret_proof provided in the API argument" and err["code"] == 100


def test_app_throttling_with_growing_headers_and_recovery(sandbox, sandbox_control):
    base = sandbox.url
    token = fb_login(base)["long"]
    sandbox_control.set_usage(capacity=10, window_seconds=600, clear=True)
    seen = []
    for _ in range(10):
        r = get(base, "/v25.0/me", token)
        assert r.status_code == 200
        seen.append(json.loads(r.headers["X-App-Usage"])["call_count"])
    assert seen == sorted(seen) and seen[-1] == 100 and seen[0] == 10
    r = get(base, "/v25.0/me", token)
    err = error_of(r)
    assert err["code"] == 4 and err["message"] == "(#4) Application request limit reached" and err["is_transient"]
    assert json.loads(r.headers["X-App-Usage"])["call_count"] == 100
    sandbox_control.clock_advance(601)
    assert get(base, "/v25.0/me", token).status_code == 200


def test_business_use_case_throttling(sandbox, sandbox_control):
    base = sandbox.url
    token = fb_login(base)["long"]
    pages = page_tokens(base, token)
    pid, page = next((k, v) for k, v in pages.items() if "instagram_business_account" in v)
    ig_id = page["instagram_business_account"]["id"]
    sandbox_control.set_usage(buc_capacity=3, window_seconds=3600, clear=True)
    for i in range(3):
        r = get(base, f"/v25.0/{pid}", page["access_token"], fields="id,name")
        usage = json.loads(r.headers["X-Business-Use-Case-Usage"])[pid][0]
        assert usage["type"] == "pages" and usage["call_count"] == (i + 1) * 100 // 3
    r = get(base, f"/v25.0/{pid}", page["access_token"], fields="id")
    err = error_of(r)
    assert err["code"] == 80001 and err["is_transient"] is True
    usage = json.loads(r.headers["X-Business-Use-Case-Usage"])[pid][0]
    assert usage["estimated_time_to_regain_access"] > 0
    for _ in range(3):
        get(base, f"/v25.0/{ig_id}", page["access_token"], fields="id")
    r = get(base, f"/v25.0/{ig_id}", page["access_token"], fields="id")
    assert error_of(r)["code"] == 80002
    assert json.loads(r.headers["X-Business-Use-Case-Usage"])[ig_id][0]["type"] == "instagram"
    sandbox_control.clock_advance(3601)
    assert get(base, f"/v25.0/{pid}", page["access_token"], fields="id").status_code == 200


def test_every_graph_answer_has_usage_and_trace(sandbox, sandbox_control):
    r = get(sandbox.url, "/v25.0/me")
    assert set(json.loads(r.headers["X-App-Usage"])) == {"call_count", "total_cputime", "total_time"}
    assert r.json()["error"]["fbtrace_id"] != get(sandbox.url, "/v25.0/me").json()["error"]["fbtrace_id"]


def test_app_id_pipe_secret_is_an_app_token(sandbox, sandbox_control):
    from .helpers import APP_ID, IG_APP_ID, IG_APP_SECRET

    base = sandbox.url
    user = fb_login(base)["long"]
    r = get(base, "/v25.0/debug_token", f"{APP_ID}|{APP_SECRET}", proof=False, input_token=user)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["is_valid"] is True and data["type"] == "USER" and data["app_id"] == APP_ID
    r = get(base, "/v25.0/debug_token", f"{APP_ID}|{APP_SECRET}", proof=False, input_token=f"{APP_ID}|{APP_SECRET}")
    assert r.json()["data"]["type"] == "APP" and r.json()["data"]["is_valid"] is True
    err = error_of(get(base, "/v25.0/debug_token", f"{APP_ID}|wrong-secret", proof=False, input_token=user))
    assert err["code"] == 190 and err["message"] == "Invalid OAuth access token signature."
    # the Instagram app's pair is not a Facebook app token
    err = error_of(get(base, "/v25.0/debug_token", f"{IG_APP_ID}|{IG_APP_SECRET}", proof=False, input_token=user))
    assert err["code"] == 190
