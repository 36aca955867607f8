"""Batch requests: up to 50 operations answered in order, each checked like a call of its own."""

from __future__ import annotations

import json

import requests

from sandbox.client import appsecret_proof

from .helpers import APP_SECRET, error_of, fb_login, page_tokens


def post_batch(base, token, ops, path="/v25.0/"):
    return requests.post(
        f"{base}{path}",
        timeout=30,
        data={"access_token": token, "appsecret_proof": appsecret_proof(token, APP_SECRET), "batch": json.dumps(ops)},
    )


def test_mixed_success_and_errors(sandbox, sandbox_control):
    base = sandbox.url
    token = fb_login(base)["long"]
    pid = next(iter(page_tokens(base, token)))
    ops = [
        {"method": "GET", "relative_url": "me?fields=id,name"},
        {"method": "GET", "relative_url": f"v25.0/{pid}?fields=id,name"},
        {"method": "GET", "relative_url": "me?fields=nope"},
        {"method": "GET", "relative_url": "999999999?fields=id"},
        {"method": "DELETE", "relative_url": "me/accounts"},
    ]
    r = post_batch(base, token, ops)
    assert r.status_code == 200, r.text
    answers = r.json()
    assert [a["code"] for a in answers] == [200, 200, 400, 400, 400]
    assert json.loads(answers[0]["body"])["id"]
    assert json.loads(answers[1]["body"])["id"] == pid
    assert json.loads(answers[2]["body"])["error"]["code"] == 100
    assert json.loads(answers[3]["body"])["error"]["error_subcode"] == 33
    names = {h["name"] for h in answers[1]["headers"]}
    assert "X-App-Usage" in names and "X-Business-Use-Case-Usage" in names
    # the unversioned root works too, with a warning in the log
    assert post_batch(base, token, ops[:1], path="/").json()[0]["code"] == 200
    assert [(m["kind"], m["path"]) for m in sandbox_control.marks()] == [("unversioned", "graph.facebook.com/")]
    sandbox_control.clear_marks()


def test_each_operation_checks_its_own_token(sandbox, sandbox_control):
    base = sandbox.url
    token = fb_login(base)["long"]
    r = post_batch(base, token, [{"method": "GET", "relative_url": "me?access_token=EAAbroken"}])
    assert json.loads(r.json()[0]["body"])["error"]["code"] == 190


def test_more_than_fifty_is_refused(sandbox, sandbox_control):
    token = fb_login(sandbox.url)["long"]
    r = post_batch(sandbox.url, token, [{"method": "GET", "relative_url": "me"}] * 51)
    err = error_of(r)
    assert r.status_code == 400 and err["code"] == 100 and "Maximum batch size is 50" in err["message"]
    assert len(post_batch(sandbox.url, token, [{"method": "GET", "relative_url": "me"}] * 50).json()) == 50
