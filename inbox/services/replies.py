"""Saved replies: the team's reusable answers, with `{first_name}` and `{post_link}` filled in for each comment.

Only these two placeholders exist; any other text in braces is kept as written, and saving a reply that uses an
unknown one is refused so nobody sends "{firstname}" to a customer."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ..models import SavedReply

if TYPE_CHECKING:
    from accounts.models import User, Workspace

    from ..models import Comment

PLACEHOLDERS = {
    "first_name": "the first word of the commenter's name (or “there” when Meta gives no name)",
    "post_link": "the link to the post the comment is on",
}
_PLACEHOLDER_RE = re.compile(r"\{([a-z_]+)\}")
TEXT_MAX_CHARS = 2200


def first_name(comment: Comment) -> str:
    words = (comment.author_name or "").split()
    return words[0] if words else "there"


def saved_reply_render(saved_reply_or_text: SavedReply | str, *, comment: Comment) -> str:
    """The reply as it would be sent under `comment`: placeholders filled in."""
    text = saved_reply_or_text.text if isinstance(saved_reply_or_text, SavedReply) else saved_reply_or_text
    values = {"first_name": first_name(comment), "post_link": comment.inbox_post.permalink or ""}
    return _PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def unknown_placeholders(text: str) -> list[str]:
    return sorted({name for name in _PLACEHOLDER_RE.findall(text) if name not in PLACEHOLDERS})


def _check(*, workspace: Workspace, title: str, text: str, exclude: SavedReply | None = None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = "Give the reply a name the team recognises."
    elif (
        SavedReply.objects.filter(workspace=workspace, title__iexact=title)
        .exclude(pk=exclude.pk if exclude else None)
        .exists()
    ):
        errors["title"] = "Another saved reply has this name."
    if not text:
        errors["text"] = "Write the reply."
    elif len(text) > TEXT_MAX_CHARS:
        errors["text"] = f"A saved reply can be at most {TEXT_MAX_CHARS:,} characters; this one has {len(text):,}."
    elif unknown := unknown_placeholders(text):
        names = ", ".join(f"{{{n}}}" for n in unknown)
        errors["text"] = f"Unknown placeholder {names}: use {{first_name}} or {{post_link}}."
    return errors


def saved_reply_create(*, workspace: Workspace, title: str, text: str, by: User | None) -> SavedReply:
    title, text = title.strip(), text.strip()
    errors = _check(workspace=workspace, title=title, text=text)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            return SavedReply.objects.create(workspace=workspace, title=title, text=text, created_by=by)
    except IntegrityError:
        raise ValidationError({"title": "Another saved reply has this name."}) from None


def saved_reply_update(*, saved_reply: SavedReply, title: str, text: str) -> SavedReply:
    title, text = title.strip(), text.strip()
    errors = _check(workspace=saved_reply.workspace, title=title, text=text, exclude=saved_reply)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            SavedReply.objects.filter(pk=saved_reply.pk).update(title=title, text=text)
    except IntegrityError:
        raise ValidationError({"title": "Another saved reply has this name."}) from None
    saved_reply.title, saved_reply.text = title, text
    return saved_reply


def saved_reply_delete(*, saved_reply: SavedReply) -> None:
    SavedReply.objects.filter(pk=saved_reply.pk).delete()


def saved_replies_rendered(*, workspace: Workspace, comment: Comment) -> list[tuple[SavedReply, str]]:
    """Each saved reply of the workspace with its text as it would be sent under `comment`, for the picker."""
    return [(r, saved_reply_render(r, comment=comment)) for r in SavedReply.objects.filter(workspace=workspace)]
