"""Facebook Login and Instagram Login: consent dialogs, code exchange, token exchange and refresh.

Sources:
- Dialog www.facebook.com/{v}/dialog/oauth?client_id&redirect_uri&state&scope&response_type=code
  [&config_id][&auth_type=rerequest]; cancel → ?error=access_denied&error_code=200&error_description=
  Permissions+error&error_reason=user_denied — developers.facebook.com/docs/facebook-login/guides/advanced/
  manual-flow ; Invalid Scopes notice text from the same dialog.
- Code exchange graph.facebook.com/{v}/oauth/access_token?client_id&redirect_uri&client_secret&code →
  {"access_token","token_type":"bearer","expires_in"} — manual-flow doc; long-lived via
  grant_type=fb_exchange_token — guides/access-tokens/get-long-lived; app token via
  grant_type=client_credentials — seeds/000.
- Instagram: www.instagram.com/oauth/authorize (seeds/003 "oauth-authorize"), redirect with "#_" appended
  (seeds/003 "Ensure to strip the '#_'"), api.instagram.com/oauth/access_token (POST form) →
  {"data":[{"access_token","user_id","permissions"}]} (README "Tokens": flat or wrapped in data[0]),
  graph.instagram.com/access_token?grant_type=ig_exchange_token → expires_in 5184000, refresh_access_token
  ?grant_type=ig_refresh_token when ≥ 24 h old and unexpired (seeds/003; reference/refresh_access_token).
"""

from __future__ import annotations

import html
import secrets
from urllib.parse import urlencode

from werkzeug.wrappers import Response

from .. import auth, errors
from ..app import GRAPH, IG_API, IG_GRAPH, WWW_FB, WWW_IG, route
from ..state import APP_NAME

FB_PERMISSIONS = {
    "public_profile",
    "email",
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_posts",
    "pages_manage_metadata",
    "pages_read_user_content",
    "pages_manage_engagement",
    "pages_messaging",
    "read_insights",
    "business_management",
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_comments",
    "instagram_manage_insights",
    "instagram_manage_messages",
    "instagram_shopping_tag_products",
    "catalog_management",
}
# Facebook Login for Business: a configuration (config_id) carries the permission set
CONFIG_SCOPES = [
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_posts",
    "pages_manage_metadata",
    "pages_read_user_content",
    "pages_manage_engagement",
    "pages_messaging",
    "read_insights",
    "business_management",
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_comments",
    "instagram_manage_insights",
]
IG_PERMISSIONS = {
    "instagram_business_basic",
    "instagram_business_content_publish",
    "instagram_business_manage_comments",
    "instagram_business_manage_messages",
    "instagram_business_manage_insights",
}

FB_HIDDEN = ["client_id", "redirect_uri", "state", "scope", "response_type", "config_id", "auth_type"]
IG_HIDDEN = ["client_id", "redirect_uri", "state", "scope", "response_type"]
STYLE = """body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;color:#1c1e21}
fieldset{border:1px solid #ccd0d5;border-radius:6px;margin:1rem 0}label{display:block;margin:.3rem 0}
.error{border:1px solid #fa3e3e;padding:1rem;border-radius:6px}.notice{background:#fff5cc;padding:.5rem}
button{padding:.5rem 1.2rem;margin-right:.5rem}"""


def page_html(title: str, body: str, status=200) -> Response:
    doc = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        # an empty icon: otherwise the browser asks graph.facebook.com's /favicon.ico, which is no Graph call
        "<link rel='icon' href='data:,'>"
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    )
    return Response(doc, status=status, content_type="text/html; charset=utf-8")


def error_page(title: str, message: str, status=400) -> Response:
    return page_html(
        title,
        f"<div class='error' id='dialog-error'><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></div>",
        status,
    )


def with_query(uri: str, params: dict, fragment: str = "") -> str:
    sep = "&" if "?" in uri else "?"
    return uri + sep + urlencode({k: v for k, v in params.items() if v is not None}) + fragment


def redirect(location: str) -> Response:
    return Response("", status=302, headers={"Location": location})


def split_scopes(value: str | None) -> list[str]:
    out = []
    for s in (value or "").replace(" ", ",").split(","):
        if s and s not in out:
            out.append(s)
    return out


def hidden(ctx, names) -> str:
    return "".join(f"<input type='hidden' name='{n}' value='{html.escape(ctx.get(n) or '')}'>" for n in names)


def new_code(state, **fields) -> str:
    code = "AQ" + secrets.token_urlsafe(48)
    state.data["codes"][code] = dict(fields, created_at=int(state.clock.now()), used=False)
    return code


def check_code(state, code, client_id, redirect_uri, platform, err_shape):
    rec = state.data["codes"].get(code or "")
    if rec is None or rec["platform"] != platform:
        raise err_shape("invalid")
    if rec["used"]:
        raise err_shape("used")
    if state.clock.now() - rec["created_at"] > auth.CODE_TTL:
        raise err_shape("expired")
    if rec["redirect_uri"] != redirect_uri or rec["app_id"] != client_id:
        raise err_shape("redirect")
    rec["used"] = True
    return rec


# ================================================================== Facebook Login
def fb_user(ctx):
    users = list(ctx.state.data["users"].values())
    wanted = ctx.get("sandbox_user")
    for i, u in enumerate(users):
        if wanted in (u["id"], str(i), u["name"]):
            return u
    return users[0]


def fb_requested(ctx) -> tuple[list[str], list[str]]:
    scopes = split_scopes(ctx.get("scope"))
    if not scopes and ctx.get("config_id"):
        scopes = list(CONFIG_SCOPES)
    invalid = [s for s in scopes if s not in FB_PERMISSIONS]
    scopes = [s for s in scopes if s in FB_PERMISSIONS]
    if "public_profile" not in scopes:
        scopes.insert(0, "public_profile")
    return scopes, invalid


@route(WWW_FB, r"/dialog/oauth", ("GET", "POST"))
def fb_dialog(ctx):
    state, cfg = ctx.state, ctx.state.config
    if ctx.get("client_id") != cfg.app_id:
        return error_page("Invalid App ID", "The provided app ID does not look like a valid app ID.")
    if not ctx.get("redirect_uri"):
        return error_page(
            "URL blocked",
            "This redirect failed because the redirect URI is not whitelisted in the app's Client OAuth Settings.",
        )
    if (ctx.get("response_type") or "code") != "code":
        return error_page("Unsupported response_type", "The sandbox serves the code flow only (response_type=code).")
    scopes, invalid = fb_requested(ctx)
    user = fb_user(ctx)
    if ctx.method == "POST":
        return fb_dialog_submit(ctx, user, scopes)
    pages = [state.data["pages"][p] for p in user["page_ids"]]
    notice = ""
    if invalid:
        notice = (
            f"<p class='notice' id='invalid-scopes'>Invalid Scopes: {html.escape(', '.join(invalid))}. This "
            "message is only shown to developers. Users of your app will ignore these permissions if present. "
            "Please read the documentation for valid permissions at: "
            "https://developers.facebook.com/docs/facebook-login/permissions</p>"
        )
    users_opts = "".join(
        f"<option value='{u['id']}'{' selected' if u is user else ''}>{html.escape(u['name'])}</option>"
        for u in state.data["users"].values()
    )
    switch = (
        f"<form method='get' id='switch-user'>{hidden(ctx, FB_HIDDEN)}"
        f"<label for='sandbox_user'>Logged in as</label>"
        f"<select name='sandbox_user' id='sandbox_user'>{users_opts}</select>"
        f" <button type='submit' id='switch'>Switch user</button></form>"
    )
    perms = "".join(
        f"<label><input type='checkbox' name='perm' value='{p}' id='perm-{p}' checked"
        f"{' disabled' if p == 'public_profile' else ''}> {p}</label>"
        for p in scopes
    )
    page_boxes = "".join(
        f"<label><input type='checkbox' name='page' value='{p['id']}' id='page-{p['id']}' checked> "
        f"{html.escape(p['name'])}</label>"
        for p in pages
    )
    ig_boxes = "".join(
        f"<label><input type='checkbox' name='instagram' value='{a['id']}' id='ig-{a['id']}' checked> "
        f"@{html.escape(a['username'])} (linked to {html.escape(p['name'])})</label>"
        for p in pages
        for a in [state.data["ig_accounts"].get(p.get("ig_user_id") or "")]
        if a
    )
    body = (
        f"<h1 id='dialog-title'>{html.escape(APP_NAME)} is requesting access</h1>{notice}{switch}"
        f"<form method='post' id='consent'>{hidden(ctx, FB_HIDDEN)}"
        f"<input type='hidden' name='sandbox_user' value='{user['id']}'>"
        f"<fieldset id='permissions'><legend>Permissions</legend>{perms}</fieldset>"
        f"<fieldset id='pages'><legend>Pages</legend>{page_boxes or '<p>No Pages</p>'}</fieldset>"
        f"<fieldset id='instagram-accounts'><legend>Instagram accounts</legend>"
        f"{ig_boxes or '<p>None</p>'}</fieldset>"
        f"<button type='submit' name='action' value='continue' id='continue'>Continue</button>"
        f"<button type='submit' name='action' value='cancel' id='cancel'>Cancel</button></form>"
    )
    return page_html(f"Log in with Facebook | {APP_NAME}", body)


def fb_dialog_submit(ctx, user, scopes):
    state, cfg = ctx.state, ctx.state.config
    redirect_uri, st = ctx.get("redirect_uri"), ctx.get("state")
    if ctx.get("action") == "cancel":
        return redirect(
            with_query(
                redirect_uri,
                {
                    "error": "access_denied",
                    "error_code": "200",
                    "error_description": "Permissions error",
                    "error_reason": "user_denied",
                    "state": st,
                },
            )
        )
    ticked = set(ctx.params.getlist("perm")) | {"public_profile"}
    key = state.grant_key(user["id"], cfg.app_id)
    grant = state.data["grants"].get(key) or {
        "user_id": user["id"],
        "app_id": cfg.app_id,
        "granted": [],
        "declined": [],
        "page_ids": [],
        "ig_ids": [],
        "platform": "facebook",
    }
    for p in scopes:
        if p in ticked:
            grant["granted"] = [x for x in grant["granted"] if x != p] + [p]
            grant["declined"] = [x for x in grant["declined"] if x != p]
        else:
            grant["declined"] = [x for x in grant["declined"] if x != p] + [p]
            grant["granted"] = [x for x in grant["granted"] if x != p]
    pages = [p for p in ctx.params.getlist("page") if p in user["page_ids"]]
    linked = {state.data["pages"][p].get("ig_user_id") for p in user["page_ids"]}
    grant["page_ids"] = pages
    grant["ig_ids"] = [i for i in ctx.params.getlist("instagram") if i in linked]
    state.data["grants"][key] = grant
    code = new_code(state, platform="facebook", user_id=user["id"], app_id=cfg.app_id, redirect_uri=redirect_uri)
    return redirect(with_query(redirect_uri, {"code": code, "state": st}))


def fb_code_error(kind):
    return {
        "invalid": errors.code_invalid,
        "used": errors.code_used,
        "expired": errors.code_expired,
        "redirect": errors.code_redirect_mismatch,
    }[kind]()


@route(
    GRAPH,
    r"/oauth/access_token",
    ("GET", "POST"),
    params=("client_id", "client_secret", "redirect_uri", "code", "grant_type", "fb_exchange_token"),
)
def fb_access_token(ctx):
    state, cfg = ctx.state, ctx.state.config
    grant_type = ctx.get("grant_type")
    if ctx.get("client_id") != cfg.app_id:
        raise errors.client_id_invalid()
    if ctx.get("client_secret") != cfg.app_secret:
        raise errors.client_secret_invalid()
    if grant_type == "client_credentials":
        tok = auth.issue(state, "APP", cfg.app_id, lifetime=None)
        return {"access_token": tok["token"], "token_type": "bearer"}
    if grant_type == "fb_exchange_token":
        if not ctx.get("fb_exchange_token"):
            raise errors.missing_parameter("fb_exchange_token")
        old = auth.lookup(state, ctx.get("fb_exchange_token"), "facebook")
        if old["kind"] != "USER":
            raise errors.invalid_parameter("(#100) fb_exchange_token must be a user access token")
        tok = auth.issue(state, "USER", cfg.app_id, user_id=old["user_id"], lifetime=auth.LONG_LIVED, long_lived=True)
        return {"access_token": tok["token"], "token_type": "bearer", "expires_in": auth.LONG_LIVED}
    if grant_type not in (None, "", "authorization_code"):
        raise errors.grant_type_unsupported(grant_type)
    if not ctx.get("code"):
        raise errors.missing_parameter("code")
    rec = check_code(state, ctx.get("code"), ctx.get("client_id"), ctx.get("redirect_uri"), "facebook", fb_code_error)
    if state.grant(rec["user_id"], cfg.app_id) is None:
        raise errors.code_invalid()
    tok = auth.issue(state, "USER", cfg.app_id, user_id=rec["user_id"], lifetime=auth.SHORT_LIVED)
    return {"access_token": tok["token"], "token_type": "bearer", "expires_in": auth.SHORT_LIVED}


# ================================================================== Instagram Login
@route(WWW_IG, r"/oauth/authorize/?", ("GET", "POST"))
def ig_authorize(ctx):
    state, cfg = ctx.state, ctx.state.config
    if ctx.get("client_id") != cfg.ig_app_id:
        return error_page("Invalid Request", "Invalid platform app")  # (verify text)
    if not ctx.get("redirect_uri"):
        return error_page("Invalid Request", "Invalid redirect_uri")
    scopes = [s for s in split_scopes(ctx.get("scope")) if s in IG_PERMISSIONS] or ["instagram_business_basic"]
    accounts = list(state.data["ig_accounts"].values())
    if ctx.method == "POST":
        return ig_authorize_submit(ctx, scopes, accounts)
    chosen = ctx.get("sandbox_account") or accounts[0]["id"]
    radios = "".join(
        f"<label><input type='radio' name='account' value='{a['id']}' id='account-{a['id']}'"
        f"{' checked' if chosen in (a['id'], a['username']) else ''}>"
        f" @{html.escape(a['username'])} — {html.escape(a['name'])}</label>"
        for a in accounts
    )
    perms = "".join(
        f"<label><input type='checkbox' name='perm' value='{p}' id='perm-{p}' checked"
        f"{' disabled' if p == 'instagram_business_basic' else ''}> {p}</label>"
        for p in scopes
    )
    body = (
        f"<h1 id='dialog-title'>Allow {html.escape(APP_NAME)} to access your Instagram account?</h1>"
        f"<form method='post' id='consent'>{hidden(ctx, IG_HIDDEN)}"
        f"<fieldset id='accounts'><legend>Log in as</legend>{radios}</fieldset>"
        f"<fieldset id='permissions'><legend>Permissions</legend>{perms}</fieldset>"
        f"<button type='submit' name='action' value='continue' id='continue'>Allow</button>"
        f"<button type='submit' name='action' value='cancel' id='cancel'>Cancel</button></form>"
    )
    return page_html(f"Instagram | {APP_NAME}", body)


def ig_authorize_submit(ctx, scopes, accounts):
    state, cfg = ctx.state, ctx.state.config
    redirect_uri, st = ctx.get("redirect_uri"), ctx.get("state")
    if ctx.get("action") == "cancel":
        return redirect(
            with_query(
                redirect_uri,
                {
                    "error": "access_denied",
                    "error_reason": "user_denied",
                    "error_description": "The user denied your request.",
                    "state": st,
                },
            )
        )
    acc_id = ctx.get("account") or accounts[0]["id"]
    if acc_id not in state.data["ig_accounts"]:
        return error_page("Invalid Request", "Unknown account")
    ticked = set(ctx.params.getlist("perm")) | {"instagram_business_basic"}
    key = state.grant_key(acc_id, cfg.ig_app_id)
    state.data["grants"][key] = {
        "user_id": acc_id,
        "app_id": cfg.ig_app_id,
        "platform": "instagram",
        "granted": [p for p in scopes if p in ticked],
        "declined": [p for p in scopes if p not in ticked],
        "page_ids": [],
        "ig_ids": [acc_id],
    }
    code = new_code(state, platform="instagram", user_id=acc_id, app_id=cfg.ig_app_id, redirect_uri=redirect_uri)
    # state goes before the "#_" fragment Meta appends, so it is not lost
    return redirect(with_query(redirect_uri, {"code": code, "state": st}, "#_"))


def ig_code_error(kind):
    return errors.ig_oauth(
        {
            "invalid": "Invalid authorization code",
            "used": "This authorization code has been used",
            "expired": "This authorization code has expired",
            "redirect": "Error validating verification code. Please make sure your redirect_uri is "
            "identical to the one you used in the OAuth dialog request",
        }[kind]
    )


@route(IG_API, r"/oauth/access_token/?", ("POST", "GET"))
def ig_code_exchange(ctx):
    state, cfg = ctx.state, ctx.state.config
    if ctx.method != "POST":
        raise errors.ig_oauth("You must provide a client_id")  # the endpoint only takes a POSTed form (verify)
    if ctx.get("client_id") != cfg.ig_app_id:
        raise errors.ig_oauth("Invalid platform app")
    if ctx.get("client_secret") != cfg.ig_app_secret:
        raise errors.ig_oauth("Error validating client secret.")
    if ctx.get("grant_type") != "authorization_code":
        raise errors.ig_oauth("Invalid grant_type")
    rec = check_code(state, ctx.get("code"), ctx.get("client_id"), ctx.get("redirect_uri"), "instagram", ig_code_error)
    tok = auth.issue(
        state, "USER", cfg.ig_app_id, platform="instagram", ig_user_id=rec["user_id"], lifetime=auth.SHORT_LIVED
    )
    acc = state.data["ig_accounts"][rec["user_id"]]
    return {
        "data": [
            {
                "access_token": tok["token"],
                "user_id": acc["scoped_id"],
                "permissions": ",".join(auth.scopes(state, tok)),
            }
        ]
    }


@route(IG_GRAPH, r"/access_token", params=("grant_type", "client_secret"))
def ig_exchange(ctx):
    state, cfg = ctx.state, ctx.state.config
    if ctx.get("grant_type") != "ig_exchange_token":
        raise errors.grant_type_unsupported(ctx.get("grant_type") or "")
    if ctx.get("client_secret") != cfg.ig_app_secret:
        raise errors.client_secret_invalid()
    old = auth.lookup(state, ctx.get("access_token"), "instagram")
    tok = auth.issue(
        state,
        "USER",
        cfg.ig_app_id,
        platform="instagram",
        ig_user_id=old["ig_user_id"],
        lifetime=auth.LONG_LIVED,
        long_lived=True,
    )
    return {"access_token": tok["token"], "token_type": "bearer", "expires_in": auth.LONG_LIVED}


@route(IG_GRAPH, r"/refresh_access_token", params=("grant_type",))
def ig_refresh(ctx):
    state, cfg = ctx.state, ctx.state.config
    if ctx.get("grant_type") != "ig_refresh_token":
        raise errors.grant_type_unsupported(ctx.get("grant_type") or "")
    old = auth.lookup(state, ctx.get("access_token"), "instagram")
    if not old["long_lived"]:
        raise errors.ig_refresh_short_lived()
    if state.clock.now() - old["issued_at"] < 86400:
        raise errors.ig_refresh_too_early()
    tok = auth.issue(
        state,
        "USER",
        cfg.ig_app_id,
        platform="instagram",
        ig_user_id=old["ig_user_id"],
        lifetime=auth.LONG_LIVED,
        long_lived=True,
    )
    return {"access_token": tok["token"], "token_type": "bearer", "expires_in": auth.LONG_LIVED}
