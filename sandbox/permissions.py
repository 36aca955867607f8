"""Which permissions each operation needs, per login (graph-api reference §5.3, from Meta's reference pages).

Every permission of an operation's row must be granted. Endpoints call ``require_all(state, tok, operation)``;
the insights endpoints use the ``ig_insights`` and ``page_insights`` rows: a Facebook-Login token with
``instagram_basic``, ``instagram_manage_insights`` and ``pages_read_engagement`` may read every IG metric.
"""

from __future__ import annotations

from . import auth, errors

FACEBOOK, INSTAGRAM = "facebook", "instagram"

NEEDED: dict[str, dict[str, tuple[str, ...]]] = {
    "list_pages": {FACEBOOK: ("pages_show_list",)},
    "ig_publish": {
        FACEBOOK: ("instagram_basic", "instagram_content_publish", "pages_read_engagement"),
        INSTAGRAM: ("instagram_business_basic", "instagram_business_content_publish"),
    },
    "ig_comments": {
        FACEBOOK: ("instagram_basic", "instagram_manage_comments", "pages_read_engagement"),
        INSTAGRAM: ("instagram_business_basic", "instagram_business_manage_comments"),
    },
    "ig_insights": {
        FACEBOOK: ("instagram_basic", "instagram_manage_insights", "pages_read_engagement"),
        INSTAGRAM: ("instagram_business_basic", "instagram_business_manage_insights"),
    },
    "page_publish": {FACEBOOK: ("pages_manage_posts", "pages_read_engagement", "pages_show_list")},
    "page_comments": {FACEBOOK: ("pages_read_engagement", "pages_read_user_content", "pages_manage_engagement")},
    "page_private_reply": {FACEBOOK: ("pages_messaging",)},
    "page_insights": {FACEBOOK: ("read_insights", "pages_read_engagement")},
}


def needed(operation: str, platform: str) -> tuple[str, ...]:
    """The operation's row for this login; an operation the login cannot do at all (Page insights with
    Instagram Login) needs the other login's row, so nothing this token holds is enough."""
    rows = NEEDED[operation]
    return rows.get(platform) or next(iter(rows.values()))


def missing(granted, operation: str, platform: str) -> str | None:
    """The first permission ``operation`` needs on ``platform`` that is not in ``granted``; None if all are."""
    have = set(granted)
    return next((p for p in needed(operation, platform) if p not in have), None)


def require_all(state, tok: dict, operation: str, platform: str, code: int = 10) -> None:
    """Meta's (#10) permission error naming the first missing permission of the operation's row."""
    if tok["kind"] == "APP":
        raise errors.permission_missing(needed(operation, platform)[0], code)
    lacking = missing(auth.scopes(state, tok), operation, platform)
    if lacking:
        raise errors.permission_missing(lacking, code)
