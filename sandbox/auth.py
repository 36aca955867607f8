"""Token model and the checks Meta applies to every call.

Rules and their sources:
- Short-lived user tokens live about an hour or two; long-lived ones about 60 days; Page tokens got
  from a long-lived user token have no expiry (expires_at 0) — developers.facebook.com/docs/facebook-login/
  guides/access-tokens/get-long-lived ; README "Tokens".
- data_access_expires_at = 90 days — developers.facebook.com/docs/facebook-login/auth-vs-data
- Instagram Login tokens: one hour, then 60 days (expires_in 5184000) — seeds/003, reference/access_token.
- appsecret_proof = hex HMAC-SHA256(token, app secret) required when "Require App Secret" is on —
  developers.facebook.com/docs/graph-api/securing-requests ; README "Hosts and versions".
- Expiry is judged on the sandbox clock.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

from . import errors

SHORT_LIVED = 3600  # "about an hour or two"; Instagram: one hour (seeds/003)
LONG_LIVED = 60 * 86400  # 5184000 s (seeds/003 expires_in ~ 5183944)
DATA_ACCESS = 90 * 86400  # data_access_expires_at
CODE_TTL = 600  # authorization codes: 10 minutes, single use (brief; RFC 6749 §4.1.2)

_ALNUM = string.ascii_letters + string.digits

PAGE_SCOPES_PREFIX = ("pages_",)
IG_SCOPES_PREFIX = ("instagram_",)


def _rand(n: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(n))


def proof(token: str, secret: str) -> str:
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def issue(
    state,
    kind: str,
    app_id: str,
    *,
    platform="facebook",
    user_id=None,
    page_id=None,
    ig_user_id=None,
    lifetime: int | None = SHORT_LIVED,
    long_lived=False,
    parent=None,
) -> dict:
    now = int(state.clock.now())
    if kind == "APP":
        value = f"{app_id}|{_rand(27)}"
    elif platform == "instagram":
        value = "IGAA" + _rand(140)
    else:
        value = "EAA" + _rand(150)
    tok = {
        "token": value,
        "kind": kind,
        "app_id": app_id,
        "platform": platform,
        "user_id": user_id,
        "page_id": page_id,
        "ig_user_id": ig_user_id,
        "issued_at": now,
        "expires_at": 0 if lifetime is None else now + int(lifetime),
        "data_access_expires_at": 0 if kind == "APP" else now + DATA_ACCESS,
        "long_lived": long_lived,
        "parent": parent,
        "invalid": None,
    }
    state.data["tokens"][value] = tok
    return tok


def grant_for(state, tok: dict) -> dict | None:
    if tok["kind"] == "APP":
        return None
    if tok["platform"] == "instagram":
        return state.grant(tok["ig_user_id"], tok["app_id"])
    return state.grant(tok["user_id"], tok["app_id"])


def invalid_error(state, tok: dict):
    """Return the MetaError that makes ``tok`` unusable right now, or None."""
    reason = tok.get("invalid")
    parent = state.data["tokens"].get(tok.get("parent") or "")
    if not reason and parent is not None:
        reason = parent.get("invalid")
    if reason == 460:
        return errors.token_password_changed()
    if reason == 467:
        return errors.token_logged_out()
    if reason == 458 or (tok["kind"] != "APP" and grant_for(state, tok) is None):
        return errors.token_app_not_authorized(tok["app_id"])
    now = state.clock.now()
    if tok["expires_at"] and now >= tok["expires_at"]:
        return errors.token_expired(tok["expires_at"], now)
    return None


def lookup(state, value: str | None, platform: str) -> dict:
    """Resolve and validate a token for a call on ``platform``; raise Meta's error otherwise."""
    if not value:
        raise errors.token_missing()
    tok = state.data["tokens"].get(value)
    if tok is None and "|" in value:
        return app_secret_token(state, value, platform)
    if tok is None or tok["platform"] != platform:
        raise errors.token_malformed()
    err = invalid_error(state, tok)
    if err:
        raise err
    return tok


def app_secret_token(state, value: str, platform: str) -> dict:
    """``APPID|APPSECRET`` is an app access token too ("App Access Tokens": the app id and secret joined by a
    pipe can be used in place of a generated app token; developers.facebook.com/docs/facebook-login/guides/
    access-tokens#apptokens). Facebook app on graph.facebook.com, Instagram app on graph.instagram.com.
    A wrong secret → 190 "Invalid OAuth access token signature." (Graph's answer for a bad app token
    signature, quoted in facebook-php-graph-sdk issue threads; verify)."""
    app_id, _, secret = value.partition("|")
    cfg = state.config
    expected_app = cfg.ig_app_id if platform == "instagram" else cfg.app_id
    if app_id != expected_app:
        raise errors.token_malformed()
    if not hmac.compare_digest(secret, cfg.secret_for(app_id) or ""):
        raise errors.token_bad_signature()
    return {
        "token": value,
        "kind": "APP",
        "app_id": app_id,
        "platform": platform,
        "user_id": None,
        "page_id": None,
        "ig_user_id": None,
        "issued_at": 0,
        "expires_at": 0,
        "data_access_expires_at": 0,
        "long_lived": True,
        "parent": None,
        "invalid": None,
    }


def check_proof(state, tok: dict, given: str | None):
    """Require App Secret is on: user and Page tokens must carry a valid appsecret_proof."""
    if tok["kind"] == "APP":
        return
    secret = state.config.secret_for(tok["app_id"]) or ""
    if not given:
        raise errors.appsecret_proof_missing()
    if not hmac.compare_digest(given.lower(), proof(tok["token"], secret)):
        raise errors.appsecret_proof_invalid()


def scopes(state, tok: dict) -> list[str]:
    g = grant_for(state, tok)
    return list(g["granted"]) if g else []


def granular_scopes(state, tok: dict) -> list[dict]:
    # debug_token "granular_scopes": [{"scope": "pages_show_list", "target_ids": [...]}] (access-tokens/debugging)
    g = grant_for(state, tok)
    if not g:
        return []
    out = []
    for s in g["granted"]:
        if tok["platform"] == "facebook" and s.startswith(PAGE_SCOPES_PREFIX):
            out.append({"scope": s, "target_ids": list(g["page_ids"])})
        elif tok["platform"] == "facebook" and s.startswith(IG_SCOPES_PREFIX):
            out.append({"scope": s, "target_ids": list(g["ig_ids"])})
        elif s in ("business_management", "read_insights"):
            out.append({"scope": s})
    return out


def require(state, tok: dict, *perms: str, code: int = 10):
    """At least one of ``perms`` must be granted (codes 10 / 200-299, error-handling guide)."""
    if tok["kind"] == "APP":
        raise errors.permission_missing(perms[0], code)
    have = set(scopes(state, tok))
    if not have.intersection(perms):
        raise errors.permission_missing(perms[0], code)


def can_see_page(state, tok: dict, page_id: str) -> bool:
    page = state.data["pages"].get(page_id)
    if page is None:
        return False
    if tok["kind"] == "PAGE":
        return tok["page_id"] == page_id
    if tok["kind"] == "USER" and tok["platform"] == "facebook":
        g = grant_for(state, tok)
        user = state.data["users"].get(tok["user_id"], {})
        return bool(g) and page_id in g["page_ids"] and page_id in user.get("page_ids", [])
    return False


def can_see_ig(state, tok: dict, ig_id: str) -> bool:
    acc = state.data["ig_accounts"].get(ig_id)
    if acc is None:
        return False
    if tok["platform"] == "instagram":
        return tok["ig_user_id"] == ig_id
    if tok["kind"] == "PAGE":
        return state.data["pages"][tok["page_id"]].get("ig_user_id") == ig_id
    if tok["kind"] == "USER":
        g = grant_for(state, tok)
        return (
            bool(g)
            and ig_id in g["ig_ids"]
            and acc.get("page_id") is not None
            and can_see_page(state, tok, acc["page_id"])
        )
    return False


def page_token_for(state, user_tok: dict, page_id: str) -> dict:
    """One Page token per (user token, Page); it never expires if the user token is long-lived."""
    key = f"{user_tok['token']}|{page_id}"
    existing = state.data["page_tokens"].get(key)
    if existing and existing in state.data["tokens"]:
        return state.data["tokens"][existing]
    lifetime = None if user_tok["long_lived"] else max(0, user_tok["expires_at"] - int(state.clock.now()))
    tok = issue(
        state,
        "PAGE",
        user_tok["app_id"],
        user_id=user_tok["user_id"],
        page_id=page_id,
        lifetime=lifetime,
        long_lived=user_tok["long_lived"],
        parent=user_tok["token"],
    )
    if lifetime is not None:
        tok["expires_at"] = user_tok["expires_at"]
    state.data["page_tokens"][key] = tok["token"]
    return tok


def revoke(state, *, user_id=None, token_prefix=None, ig_user_id=None, reason=460) -> int:
    n = 0
    for tok in state.data["tokens"].values():
        hit = (
            (user_id and tok.get("user_id") == user_id and tok["platform"] == "facebook")
            or (token_prefix and tok["token"].startswith(token_prefix))
            or (ig_user_id and tok.get("ig_user_id") == ig_user_id and tok["platform"] == "instagram")
        )
        if hit and tok["kind"] != "APP":
            tok["invalid"] = reason
            n += 1
    return n
