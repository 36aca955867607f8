"""Fault injection: error (presets and raw), http_500, slow, drop, and "after" (side effects happen)."""

from __future__ import annotations

import time

import pytest
import requests

from sandbox.client import complete_facebook_consent

from .helpers import dialog_url, error_of, exchange_code, fb_login, get, query


def test_error_preset_and_raw_object(sandbox, sandbox_control):
    base = sandbox.url
    token = fb_login(base)["long"]
    sandbox_control.fault(path=r"^/v\d+\.\d+/me$", method="GET", kind="error", error={"preset": "rate_limit_app"})
    r = get(base, "/v25.0/me", token)
    assert error_of(r)["code"] == 4 and "X-App-Usage" in r.headers
    assert get(base, "/v25.0/me", token).status_code == 200  # count=1: used up
    sandbox_control.fault(
        path="/me",
        kind="error",
        count=2,
        status=400,
        error={
            "message": "Fatal",
            "code": -1,
            "error_subcode": 2207073,
            "type": "OAuthException",
            "error_user_title": "Media Type Not Supported",
        },
    )
    for _ in range(2):
        err = error_of(get(base, "/v25.0/me", token))
        assert err["error_subcode"] == 2207073 and err["error_user_title"] == "Media Type Not Supported"
    assert get(base, "/v25.0/me", token).status_code == 200
    assert sandbox_control.faults()[0]["hits"] == 1


def test_http_500_and_host_filter(sandbox, sandbox_control):
    base = sandbox.url
    sandbox_control.fault(path="/me", host="graph.instagram.com", kind="http_500")
    assert get(base, "/v25.0/me").status_code == 400  # other host: untouched
    r = requests.get(f"{base}/graph.instagram.com/v25.0/me", timeout=30)
    assert r.status_code == 500 and r.json()["error"]["is_transient"] is True


def test_slow_and_latency(sandbox, sandbox_control):
    base = sandbox.url
    sandbox_control.fault(path="/me", kind="slow", delay_ms=400)
    t = time.time()
    get(base, "/v25.0/me")
    assert time.time() - t >= 0.4
    sandbox_control.latency(200)
    t = time.time()
    get(base, "/v25.0/me")
    assert time.time() - t >= 0.2
    sandbox_control.latency(0)


def test_drop_closes_the_connection(sandbox, sandbox_control):
    sandbox_control.fault(path="/me", kind="drop")
    with pytest.raises(requests.ConnectionError):
        get(sandbox.url, "/v25.0/me")
    assert get(sandbox.url, "/v25.0/me").status_code == 400


def test_after_runs_the_handler_then_loses_the_answer(sandbox, sandbox_control):
    base = sandbox.url
    code = query(complete_facebook_consent(dialog_url(base)))["code"]
    sandbox_control.fault(path=r"/oauth/access_token", kind="error", error={"preset": "transient"}, after="after")
    r = exchange_code(base, code)
    assert r.status_code == 500 and error_of(r)["code"] == 2
    # the code was spent by the real handler before the answer was replaced
    assert error_of(exchange_code(base, code))["error_subcode"] == 36009
    code = query(complete_facebook_consent(dialog_url(base)))["code"]
    sandbox_control.fault(path=r"/oauth/access_token", kind="drop", after="after")
    with pytest.raises(requests.ConnectionError):
        exchange_code(base, code)
    assert error_of(exchange_code(base, code))["error_subcode"] == 36009


def test_requests_log_redacts_tokens(sandbox, sandbox_control):
    token = fb_login(sandbox.url)["long"]
    get(sandbox.url, "/v25.0/me", token, fields="id")
    entry = sandbox_control.requests(limit=1)[0]
    assert entry["path"] == "/v25.0/me" and entry["status"] == 200 and entry["host"] == "graph.facebook.com"
    assert entry["params"]["access_token"] == "<redacted>" and entry["params"]["fields"] == "id"
