"""The composer's per-channel previews (templates/publishing/_previews.html), rendered from plain data."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest
from django.template.loader import render_to_string

from accounts.models import Channel
from publishing.specs import Problem

pytestmark = pytest.mark.no_sandbox

IG = SimpleNamespace(display_name="@harbor.yoga", platform="instagram", username="harbor.yoga", picture_url="")
FB = SimpleNamespace(display_name="Harbor Yoga Studio", platform="facebook_page", username="", picture_url="")
LONG_CAPTION = (
    "Sunrise flow on the pier this Saturday. Bring a mat and a friend: @ana.bo teaches, tea after. "
    "#yoga #harborlife Parking is free before nine, and the café opens at eight for anyone who wants a coffee."
)


def item(number: int = 1, width: int = 1080, height: int = 1350, kind: str = "image", **extra: Any) -> dict:
    ext = "mp4" if kind == "video" else "jpg"
    data = {
        "url": f"/media/{number}.{ext}",
        "thumb_url": f"/media/{number}.{ext}?thumb=1",
        "kind": kind,
        "width": width,
        "height": height,
        "alt_text": "",
        "user_tags": [],
        "product_tags": [],
    }
    return data | extra


def preview(channel: Any, kind: str, items: list[dict] | None = None, **extra: Any) -> dict:
    data = {
        "channel": channel,
        "kind": kind,
        "kind_label": kind.replace("_", " ").capitalize(),
        "caption": "Open house on Sunday #yoga",
        "caption_shown": True,
        "first_comment": "",
        "items": items or [],
        "link": "",
        "link_domain": "",
        "cta_label": "",
        "location_name": "",
        "collaborators": [],
        "problems": [],
    }
    return data | extra


def render(*previews: dict) -> str:
    return render_to_string("publishing/_previews.html", {"previews": list(previews)})


def test_a_tall_feed_image_is_cropped_to_4_5_with_a_note() -> None:
    html = render(preview(IG, "ig_image", [item(width=1080, height=1620)]))
    assert 'class="pv-sizer" viewBox="0 0 4 5"' in html
    assert "Taller than 4:5: the feed shows it cropped to 4:5" in html

    html = render(preview(IG, "ig_image", [item(width=1080, height=1350)]))
    assert 'class="pv-sizer" viewBox="0 0 1080 1350"' in html
    assert "cropped" not in html

    html = render(preview(IG, "ig_image", [item(width=2400, height=1000)]))
    assert 'viewBox="0 0 191 100"' in html and "Wider than 1.91:1" in html


def test_the_feed_post_has_the_account_header_caption_and_first_comment() -> None:
    html = render(
        preview(
            IG,
            "ig_image",
            [item(alt_text="Class on the pier at sunrise")],
            caption=LONG_CAPTION,
            location_name="Harbor Pier",
            collaborators=["ana", "bo"],
            first_comment="More #sunrise photos soon",
        )
    )
    assert '<span class="pv-avatar pv-avatar--instagram" aria-hidden="true">H</span>' in html
    assert '<span class="pv-strong">harbor.yoga</span>' in html
    assert 'class="pv-ig-head__place">Harbor Pier<' in html
    assert "and 2 others" in html and "ana, bo" in html
    assert 'alt="Class on the pier at sunrise"' in html
    # Past ~125 characters the caption folds behind "… more"; the rest opens without JavaScript.
    summary = re.search(r"<summary>(.*?)</summary>(.*?)</details>", html, re.S)
    assert summary and "… more" in summary.group(1)
    assert "café opens at eight" in summary.group(2) and "café" not in summary.group(1)
    assert '<span class="pv-mention">@ana.bo</span>' in html
    assert '<span class="pv-hashtag">#yoga</span>' in html
    assert '<p class="pv-ig-comment"><span class="pv-strong">harbor.yoga</span>' in html
    assert '<span class="pv-hashtag">#sunrise</span>' in html

    short = render(preview(IG, "ig_image", [item()], collaborators=["ana"]))
    assert "<details" not in short and 'and <span class="pv-strong">ana</span>' in short


def test_the_caption_is_escaped() -> None:
    html = render(preview(IG, "ig_image", [item()], caption="<script>alert(1)</script> #tag & more"))
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&amp; more" in html


def test_a_carousel_shows_its_slides_in_order_in_a_scrollable_strip() -> None:
    slides = [item(n, alt_text=f"Slide photo {name}") for n, name in enumerate(["alpha", "beta", "gamma"], start=1)]
    html = render(preview(IG, "ig_carousel", slides))
    positions = [html.index(f'alt="Slide photo {name}"') for name in ["alpha", "beta", "gamma"]]
    assert positions == sorted(positions)
    assert [html.index(f"{n} / 3<") for n in (1, 2, 3)] == sorted(html.index(f"{n} / 3<") for n in (1, 2, 3))
    assert html.count('class="pv-slide"') == 3
    assert 'tabindex="0" role="region" aria-label="Carousel of 3 slides' in html
    assert 'aria-label="Previous slide" hidden' in html and 'aria-label="Next slide" hidden' in html
    assert html.count('class="pv-dot is-active"') == 1 and html.count('class="pv-dot"') == 2


def test_carousel_slides_of_another_shape_are_named() -> None:
    html = render(preview(IG, "ig_carousel", [item(1, 1080, 1080), item(2, 1080, 1080), item(3, 1080, 1350)]))
    assert 'viewBox="0 0 1080 1080"' in html
    assert "Slide 3 has another shape" in html


def test_tag_markers_sit_where_the_tags_are() -> None:
    tagged = item(
        width=1080,
        height=1350,
        user_tags=[{"username": "ana", "x": 0.3, "y": 0.6}],
        product_tags=[{"product_id": "1", "name": "Mug", "x": 0.5, "y": 0.25}],
    )
    html = render(preview(IG, "ig_image", [tagged]))
    assert 'viewBox="0 0 1080 1350" preserveAspectRatio="xMidYMid slice"' in html
    assert re.search(r'class="pv-tag pv-tag--user" cx="30%" cy="60%"[^>]*><title>@ana</title>', html)
    assert re.search(r'class="pv-tag pv-tag--product" cx="50%" cy="25%"[^>]*><title>Mug</title>', html)
    assert "Tagged: @ana · Products: Mug" in html


def test_a_story_says_it_shows_no_caption() -> None:
    html = render(preview(IG, "ig_story", [item(width=1080, height=1920)], caption_shown=False))
    assert "Stories show no caption" in html
    assert "Open house on Sunday" not in html
    assert 'class="pv-sizer" viewBox="0 0 9 16"' in html
    assert "cuts off" not in html

    assert "no caption" not in render(preview(IG, "ig_story", [item()], caption="", caption_shown=False))


def test_a_reel_fills_a_9_16_frame_and_marks_what_the_screen_cuts_off() -> None:
    video = item(4, width=1920, height=1080, kind="video")
    html = render(preview(IG, "ig_reel", [video], first_comment="Link in bio"))
    assert 'class="pv-sizer" viewBox="0 0 9 16"' in html
    assert (
        '<video class="pv-fill" src="/media/4.mp4" preload="metadata" muted playsinline poster="/media/4.mp4?thumb=1"'
        in html
    )
    assert "a phone screen cuts off the sides (68% of the width)" in html
    # The visible 9:16 part of a 1920 x 1080 frame: 608 px wide, centred.
    assert '<rect class="pv-guide__box" x="656" y="0" width="608" height="1080"' in html
    assert '<p class="pv-phone__caption">Open house on Sunday <span class="pv-hashtag">#yoga</span></p>' in html
    assert "Link in bio" in html

    tall = render(preview(IG, "ig_reel", [item(4, width=1080, height=2400, kind="video", thumb_url="")]))
    assert "cuts off the top and bottom" in tall and "poster=" not in tall


def test_a_facebook_text_post_has_the_page_header() -> None:
    html = render(preview(FB, "fb_text", [], caption="Open house this Sunday! #yoga @ana"))
    assert '<div class="pv-strong">Harbor Yoga Studio</div>' in html
    assert "Just now · " in html and '<span class="visually-hidden">Public</span>' in html
    assert "pv-fb-text--big" in html
    assert '<span class="pv-hashtag">#yoga</span>' in html and "pv-mention" not in html


def test_the_link_card_shows_the_domain_path_and_button() -> None:
    link = "https://example.com/classes/sunrise"
    html = render(preview(FB, "fb_link", [], link=link, link_domain="example.com", cta_label="Shop now"))
    assert '<div class="pv-fb-link__domain">example.com</div>' in html
    assert '<div class="pv-fb-link__title">/classes/sunrise</div>' in html
    assert '<span class="pv-fb-link__cta">Shop now</span>' in html

    html = render(preview(FB, "fb_link", [], link="https://example.com/", link_domain="example.com"))
    assert "pv-fb-link__cta" not in html
    assert '<div class="pv-fb-link__title">example.com</div>' in html


GRIDS = [(2, 2, None), (3, 3, None), (4, 4, None), (5, 5, None), (7, 5, 2)]


@pytest.mark.parametrize(("count", "layout", "more"), GRIDS)
def test_facebook_photo_grids(count: int, layout: int, more: int | None) -> None:
    html = render(preview(FB, "fb_photos", [item(n, 1080, 1080) for n in range(1, count + 1)]))
    assert f'class="pv-fb-grid pv-fb-grid--{layout}"' in html
    assert html.count('class="pv-fb-grid__cell"') == min(count, 5)
    assert f'alt="Photo 1 of {count}"' in html
    if more:
        assert f'<span aria-hidden="true">+{more}</span>' in html and f"and {more} more" in html
        assert "Photo 6 of" not in html
    else:
        assert "pv-fb-grid__more" not in html


def test_facebook_photo_video_and_reel() -> None:
    photo = render(preview(FB, "fb_photo", [item(width=1600, height=900, alt_text="The studio")]))
    assert 'viewBox="0 0 1600 900"' in photo and 'alt="The studio"' in photo

    video = render(preview(FB, "fb_video", [item(7, width=1920, height=1080, kind="video")]))
    assert '<video class="pv-fill" src="/media/7.mp4" preload="metadata" muted playsinline' in video
    assert 'class="pv-play" aria-hidden="true"' in video

    reel = render(preview(FB, "fb_reel", [item(8, width=1080, height=1920, kind="video")]))
    assert 'viewBox="0 0 9 16"' in reel and "pv-play" not in reel and "cuts off" not in reel


def test_problems_are_listed_under_the_preview_blocking_first() -> None:
    problems = [
        Problem(code="format", message="Use JPEG for feed images.", blocking=False),
        Problem(code="aspect_ratio", message="The image is 1:3; feed images must be between 4:5 and 1.91:1."),
    ]
    html = render(preview(IG, "", [item()], kind_label="", problems=problems))
    assert "No preview: fix the problems below" in html
    assert "Cannot be published as it is" in html
    error = html.index('<li class="pv-problem pv-problem--error"><strong>Must fix:</strong> The image is 1:3')
    hint = html.index('<li class="pv-problem pv-problem--hint"><strong>Hint:</strong> Use JPEG')
    assert error < hint and html.index("No preview") < error


def test_a_channel_model_with_a_picture() -> None:
    channel = Channel(
        platform="instagram", name="Harbor Yoga", username="harbor.yoga", avatar_url="https://x.test/a.jpg"
    )
    html = render(preview(channel, "ig_image", [item()]))
    assert '<img class="pv-avatar" src="https://x.test/a.jpg" alt=""' in html
    assert "@harbor.yoga" in html


def test_nothing_chosen() -> None:
    assert "Choose a channel to see how the post will look there." in render()


def every_kind() -> list[dict]:
    tagged = item(1, 1080, 1620, user_tags=[{"username": "ana", "x": 0.3, "y": 0.6}])
    problems = [Problem(code="a", message="Blocking problem."), Problem(code="b", message="A hint.", blocking=False)]
    return [
        preview(IG, "ig_image", [tagged], caption=LONG_CAPTION, collaborators=["ana", "bo"], first_comment="#one"),
        preview(IG, "ig_carousel", [item(1), item(2, 1080, 1080), item(3, 1920, 1080, kind="video")]),
        preview(IG, "ig_reel", [item(3, 1920, 1080, kind="video")], first_comment="Link in bio"),
        preview(IG, "ig_story", [item(2, 1080, 1920)], caption_shown=False),
        preview(FB, "fb_text", [], caption=LONG_CAPTION * 3),
        preview(FB, "fb_link", [], link="https://example.com/a", link_domain="example.com", cta_label="Shop now"),
        preview(FB, "fb_photo", [item(2)], first_comment="First!"),
        preview(FB, "fb_photos", [item(n) for n in range(1, 8)]),
        preview(FB, "fb_video", [item(3, 1920, 1080, kind="video")]),
        preview(FB, "fb_reel", [item(3, 1080, 1350, kind="video")]),
        preview(IG, "", [], problems=problems),
    ]
