"""The permissions SocialHub asks Meta for, and what each one is needed for (shown on the Channels page).

Sources: Meta's permissions reference (developers.facebook.com/docs/permissions) and the Instagram API with
Instagram Login guide (…/instagram-platform/instagram-api-with-instagram-login/business-login), whose
`instagram_business_*` scopes replaced the `business_*` ones on 2025-01-27."""

from __future__ import annotations

from .models import ConnectedVia, Platform

FACEBOOK_LOGIN_SCOPES: dict[str, str] = {
    "pages_show_list": "list the Pages you manage",
    "pages_read_engagement": "read Page posts, followers and engagement",
    "pages_manage_posts": "publish and schedule Page posts",
    "pages_manage_engagement": "reply to, hide and delete comments on the Page",
    "pages_read_user_content": "read comments and posts by others on the Page",
    "read_insights": "read Page insights",
    "business_management": "reach Pages owned through a Business portfolio",
    "instagram_basic": "read the Instagram account's profile and media",
    "instagram_content_publish": "publish to Instagram",
    "instagram_manage_comments": "moderate Instagram comments",
    "instagram_manage_insights": "read Instagram insights",
}
# Asked for as well, but a channel works without them: they enable product tags, comments arriving in seconds
# (the Page's webhook subscription; without it the inbox polls every few minutes) and private replies.
FACEBOOK_LOGIN_OPTIONAL_SCOPES: dict[str, str] = {
    "instagram_shopping_tag_products": "tag products from your catalog in Instagram posts",
    "catalog_management": "search your product catalog for product tags",
    "pages_manage_metadata": "get new comments in seconds",
    "pages_messaging": "send private replies to comments",
}
# Which optional scopes each kind of Facebook-Login channel can use. An Instagram account's webhooks come through
# its Page's subscription, hence pages_manage_metadata for it too.
_PAGE_OPTIONAL_SCOPES = ("pages_manage_metadata", "pages_messaging")
_IG_VIA_FACEBOOK_OPTIONAL_SCOPES = ("instagram_shopping_tag_products", "catalog_management", "pages_manage_metadata")
INSTAGRAM_LOGIN_SCOPES: dict[str, str] = {
    "instagram_business_basic": "read the account's profile and media",
    "instagram_business_content_publish": "publish to Instagram",
    "instagram_business_manage_comments": "moderate comments",
    "instagram_business_manage_insights": "read insights",
}

# Which of the Facebook Login scopes each kind of channel needs.
_PAGE_SCOPES = (
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_posts",
    "pages_manage_engagement",
    "pages_read_user_content",
    "read_insights",
)
_IG_VIA_FACEBOOK_SCOPES = (
    "pages_show_list",
    "pages_read_engagement",
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_comments",
    "instagram_manage_insights",
)

# What the Instagram-Login path cannot do, said on the Channels page.
INSTAGRAM_LOGIN_LIMITS = (
    "Product tags need a catalog, which only the Facebook Login path can reach: connect through Facebook "
    "(with the account's Page) to tag products."
)


def required_scopes(*, platform: str, connected_via: str) -> dict[str, str]:
    if connected_via == ConnectedVia.INSTAGRAM_LOGIN:
        return dict(INSTAGRAM_LOGIN_SCOPES)
    names = _PAGE_SCOPES if platform == Platform.FACEBOOK_PAGE else _IG_VIA_FACEBOOK_SCOPES
    return {name: FACEBOOK_LOGIN_SCOPES[name] for name in names}


def optional_scopes(*, platform: str, connected_via: str) -> dict[str, str]:
    if connected_via != ConnectedVia.FACEBOOK_LOGIN:
        return {}
    names = _PAGE_OPTIONAL_SCOPES if platform == Platform.FACEBOOK_PAGE else _IG_VIA_FACEBOOK_OPTIONAL_SCOPES
    return {name: FACEBOOK_LOGIN_OPTIONAL_SCOPES[name] for name in names}


def missing_scopes(*, platform: str, connected_via: str, granted: list[str]) -> dict[str, str]:
    return {
        name: why
        for name, why in required_scopes(platform=platform, connected_via=connected_via).items()
        if name not in granted
    }
