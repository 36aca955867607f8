"""Small helpers for the sandbox tests: Graph calls with appsecret_proof, and full logins."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from sandbox.client import appsecret_proof, complete_facebook_consent, complete_instagram_consent

APP_ID = "1000000000000001"
APP_SECRET = "sandbox-app-secret"
IG_APP_ID = "1000000000000002"
IG_APP_SECRET = "sandbox-ig-app-secret"
REDIRECT = "https://socialhub.example/oauth/facebook/callback"
IG_REDIRECT = "https://socialhub.example/oauth/instagram/callback"
SCOPES = "pages_show_list,pages_read_engagement,pages_manage_posts,instagram_basic,instagram_content_publish,email"


def query(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def get(base, path, token=None, secret=APP_SECRET, proof=True, **params):
    if token:
        params["access_token"] = token
        if proof:
            params["appsecret_proof"] = appsecret_proof(token, secret)
    return requests.get(f"{base}{path}", params=params, timeout=30)


def ig_get(base, path, token=None, proof=True, **params):
    return get(f"{base}/graph.instagram.com", path, token, IG_APP_SECRET, proof, **params)


def dialog_url(base, scope=SCOPES, state="st-123", **extra):
    params = {
        "client_id": APP_ID,
        "redirect_uri": REDIRECT,
        "state": state,
        "scope": scope,
        "response_type": "code",
        **extra,
    }
    return f"{base}/www.facebook.com/v25.0/dialog/oauth?{urlencode(params)}"


def exchange_code(base, code, redirect=REDIRECT, secret=APP_SECRET):
    return requests.get(
        f"{base}/v25.0/oauth/access_token",
        timeout=30,
        params={"client_id": APP_ID, "client_secret": secret, "redirect_uri": redirect, "code": code},
    )


def fb_login(base, scope=SCOPES, long_lived=True, **consent) -> dict:
    """Dialog → code → short-lived token [→ long-lived]; returns {"short", "long"?, "code_url"}."""
    loc = complete_facebook_consent(dialog_url(base, scope), **consent)
    r = exchange_code(base, query(loc)["code"])
    assert r.status_code == 200, r.text
    out = {"short": r.json()["access_token"], "redirect": loc}
    if long_lived:
        r = requests.get(
            f"{base}/v25.0/oauth/access_token",
            timeout=30,
            params={
                "grant_type": "fb_exchange_token",
                "client_id": APP_ID,
                "client_secret": APP_SECRET,
                "fb_exchange_token": out["short"],
            },
        )
        assert r.status_code == 200, r.text
        out["long"] = r.json()["access_token"]
    return out


def page_tokens(base, user_token) -> dict:
    r = get(base, "/v25.0/me/accounts", user_token, fields="id,name,access_token,instagram_business_account{id}")
    assert r.status_code == 200, r.text
    return {p["id"]: p for p in r.json()["data"]}


def app_token(base) -> str:
    r = requests.get(
        f"{base}/v25.0/oauth/access_token",
        timeout=30,
        params={"client_id": APP_ID, "client_secret": APP_SECRET, "grant_type": "client_credentials"},
    )
    return r.json()["access_token"]


def authorize_url(base, scope="instagram_business_basic,instagram_business_content_publish", state="ig-st"):
    params = {
        "client_id": IG_APP_ID,
        "redirect_uri": IG_REDIRECT,
        "response_type": "code",
        "scope": scope,
        "state": state,
    }
    return f"{base}/www.instagram.com/oauth/authorize?{urlencode(params)}"


def ig_login(base, long_lived=True, **consent) -> dict:
    loc = complete_instagram_consent(authorize_url(base), **consent)
    code = query(loc.split("#")[0])["code"]
    r = requests.post(
        f"{base}/api.instagram.com/oauth/access_token",
        timeout=30,
        data={
            "client_id": IG_APP_ID,
            "client_secret": IG_APP_SECRET,
            "grant_type": "authorization_code",
            "redirect_uri": IG_REDIRECT,
            "code": code,
        },
    )
    assert r.status_code == 200, r.text
    out = {"short": r.json()["data"][0]["access_token"], "user_id": r.json()["data"][0]["user_id"], "redirect": loc}
    if long_lived:
        r = requests.get(
            f"{base}/graph.instagram.com/v25.0/access_token",
            timeout=30,
            params={"grant_type": "ig_exchange_token", "client_secret": IG_APP_SECRET, "access_token": out["short"]},
        )
        assert r.status_code == 200, r.text
        out["long"] = r.json()["access_token"]
    return out


def error_of(r) -> dict:
    body = r.json()
    assert "error" in body, body
    assert body["error"]["fbtrace_id"]
    return body["error"]


def post(base, path, token=None, secret=APP_SECRET, proof=True, files=None, **params):
    if token:
        params["access_token"] = token
        if proof:
            params["appsecret_proof"] = appsecret_proof(token, secret)
    return requests.post(f"{base}{path}", data=params, files=files, timeout=30)


def ig_post(base, path, token=None, proof=True, **params):
    return post(f"{base}/graph.instagram.com", path, token, IG_APP_SECRET, proof, **params)


PUBLISH_SCOPES = (
    "pages_show_list,pages_read_engagement,pages_manage_posts,pages_manage_engagement,instagram_basic,"
    "instagram_content_publish,instagram_manage_comments,instagram_shopping_tag_products,catalog_management"
)


def publishing_tokens(base, scope=PUBLISH_SCOPES) -> dict:
    """Log in with the publishing permissions.
    Returns {"user", "pages": {page_id: page}, "ig": [(ig_id, page_token)]}."""
    user = fb_login(base, scope)["long"]
    pages = page_tokens(base, user)
    ig = [
        (p["instagram_business_account"]["id"], p["access_token"])
        for p in pages.values()
        if p.get("instagram_business_account")
    ]
    return {"user": user, "pages": pages, "ig": ig}
