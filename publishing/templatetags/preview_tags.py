"""Helpers for templates/publishing/_previews.html: frame shapes, caption truncation and highlighting."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from publishing.specs import IG_FEED_ASPECT, NINE_SIXTEEN

register = template.Library()

FEED_TOLERANCE = 0.001  # as publishing.specs checks feed images: pixel rounding only
ASPECT_TOLERANCE = 0.02  # near-misses (1080 x 1918) count as 9:16, as specs' recommended_aspect hint does

HASHTAG = r"#\w+"
MENTION = r"@[\w.]*\w"
TOKEN_PATTERNS = {True: re.compile(rf"(?<![\w@#])({HASHTAG}|{MENTION})"), False: re.compile(rf"(?<![\w@#])({HASHTAG})")}
THUMBNAIL_SIZE = 480  # the longer side of the JPEG previews publishing.probe.thumbnail writes


def _size(item: Any) -> tuple[int, int] | None:
    get = item.get if isinstance(item, dict) else lambda key: getattr(item, key, None)
    try:
        width, height = int(get("width") or 0), int(get("height") or 0)
    except (TypeError, ValueError):
        return None
    return (width, height) if width > 0 and height > 0 else None


@register.simple_tag
def feed_frame(items: Any) -> dict[str, Any]:
    """The frame a feed post shows its media in: the first item's shape, clamped to 4:5 … 1.91:1.

    ``crop`` is "taller" or "wider" when the first item does not fit; ``cropped`` lists the slide numbers (from 1)
    whose shape differs from the frame's, as a carousel crops every slide to the first one's frame."""
    items = list(items or [])
    size = _size(items[0]) if items else None
    if size is None:
        return {"width": 1, "height": 1, "crop": "", "cropped": []}
    width, height = size
    aspect = width / height
    crop = ""
    if aspect < IG_FEED_ASPECT[0] * (1 - FEED_TOLERANCE):
        width, height, crop = 4, 5, "taller"
    elif aspect > IG_FEED_ASPECT[1] * (1 + FEED_TOLERANCE):
        width, height, crop = 191, 100, "wider"
    frame = width / height
    cropped = []
    for number, item in enumerate(items[1:], start=2):
        other = _size(item)
        if other and abs(other[0] / other[1] - frame) > frame * ASPECT_TOLERANCE:
            cropped.append(number)
    return {"width": width, "height": height, "crop": crop, "cropped": cropped}


@register.simple_tag
def vertical_frame(item: Any) -> dict[str, Any]:
    """What a 9:16 screen cuts off an item: ``cut`` is "sides", "top and bottom" or "" (it is 9:16 already).

    ``box`` is the visible 9:16 part in the item's own pixels (x, y, width, height), ``share`` the percentage of
    the width or height that stays hidden."""
    size = _size(item) if item else None
    if size is None:
        return {"cut": "", "width": 9, "height": 16, "box": (0, 0, 9, 16), "share": 0}
    width, height = size
    aspect = width / height
    if abs(aspect - NINE_SIXTEEN) <= NINE_SIXTEEN * ASPECT_TOLERANCE:
        return {"cut": "", "width": width, "height": height, "box": (0, 0, width, height), "share": 0}
    if aspect > NINE_SIXTEEN:
        shown = round(height * NINE_SIXTEEN)
        box = ((width - shown) // 2, 0, shown, height)
        return {"cut": "sides", "width": width, "height": height, "box": box, "share": round(100 - shown * 100 / width)}
    shown = round(width / NINE_SIXTEEN)
    box = (0, (height - shown) // 2, width, shown)
    share = round(100 - shown * 100 / height)
    return {"cut": "top and bottom", "width": width, "height": height, "box": box, "share": share}


@register.simple_tag
def media_box(item: Any) -> str:
    """The viewBox of an item's own pixels, for overlays placed in percent of the image."""
    size = _size(item)
    return f"0 0 {size[0]} {size[1]}" if size else "0 0 100 100"


@register.simple_tag
def image_srcset(item: Any) -> str:
    """Both sizes of an image: its small preview for a plain screen, the file itself for a sharper one."""
    get = item.get if isinstance(item, dict) else lambda key: getattr(item, key, None)
    size = _size(item)
    if size is None or not get("thumb_url"):
        return str(get("url") or "")
    width, height = size
    thumb_width = min(width, round(width * THUMBNAIL_SIZE / max(width, height)))
    if thumb_width >= width:
        return f"{get('thumb_url')} {width}w"
    return f"{get('thumb_url')} {thumb_width}w, {get('url')} {width}w"


def _highlight(text: str, mentions: bool) -> SafeString:
    parts = TOKEN_PATTERNS[mentions].split(text)
    html = []
    for index, part in enumerate(parts):
        if index % 2:
            kind = "mention" if part.startswith("@") else "hashtag"
            html.append(f'<span class="pv-{kind}">{conditional_escape(part)}</span>')
        else:
            html.append(str(conditional_escape(part)))
    return mark_safe("".join(html))


@register.filter
def highlight(text: str, mentions: bool = True) -> SafeString:
    """The text, escaped, with #hashtags (and @mentions unless ``mentions`` is false) marked up."""
    return _highlight(str(text or ""), bool(mentions))


@register.simple_tag
def caption_parts(text: str, limit: int = 125, mentions: bool = True, lines: int = 2) -> dict[str, Any]:
    """Split a caption where the network puts its "… more": after ``limit`` characters or ``lines`` lines,
    at a space when there is one nearby. Both halves come back escaped and highlighted."""
    text = str(text or "").strip()
    cut = len(text)
    breaks = [m.start() for m in re.finditer("\n", text)]
    if len(breaks) >= lines:
        cut = breaks[lines - 1]
    if cut > limit:
        space = text.rfind(" ", 0, limit + 1)
        cut = space if space > limit * 0.6 else limit
    head, tail = text[:cut].rstrip(), text[cut:]
    return {"head": _highlight(head, mentions), "tail": _highlight(tail, mentions) if tail.strip() else ""}


@register.filter
def percent(value: Any) -> str:
    """0.3 → "30%": a tag's position across or down the image, kept inside it."""
    try:
        number = min(max(float(value), 0.0), 1.0) * 100
    except (TypeError, ValueError):
        number = 50.0
    return f"{number:.2f}".rstrip("0").rstrip(".") + "%"


@register.filter
def initial(name: Any) -> str:
    """The letter shown in an avatar circle when a channel has no picture."""
    letters = [c for c in str(name or "") if c.isalnum()]
    return letters[0].upper() if letters else "?"


@register.filter
def link_title(link: str) -> str:
    """A stand-in for the page title Facebook reads from the link: its path, or its host for a home page."""
    parts = urlsplit(str(link or ""))
    path = parts.path.rstrip("/")
    if parts.query:
        path = f"{path or '/'}?{parts.query}"
    return path or parts.hostname or str(link or "")
