"""The platform rules: each accepts what it should and refuses what it should, in words that name the values."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from publishing import specs
from publishing.probe import MediaInfo, probe_file
from publishing.specs import PostType, Problem, check, check_carousel, check_instagram_caption, usable_for
from tests.publishing.media_samples import FFMPEG, Samples, has_encoder, samples_dir

pytestmark = pytest.mark.no_sandbox

MB = 1000 * 1000


def jpeg(width: int = 1080, height: int = 1080, **changes) -> MediaInfo:  # type: ignore[no-untyped-def]
    info = MediaInfo(
        kind="image", format="jpeg", mime_type="image/jpeg", size_bytes=2 * MB, width=width, height=height,
        pixel_format="RGB",
    )  # fmt: skip
    return dataclasses.replace(info, **changes)


def mp4(width: int = 1080, height: int = 1920, **changes) -> MediaInfo:  # type: ignore[no-untyped-def]
    """A video that every video post type accepts; each test changes one property."""
    info = MediaInfo(
        kind="video", format="mp4", mime_type="video/mp4", size_bytes=20 * MB, width=width, height=height,
        duration_seconds=15.0, frame_rate=30.0, video_codec="h264", audio_codec="aac", audio_sample_rate=48000,
        audio_channels=2, pixel_format="yuv420p", has_audio=True, faststart=True,
    )  # fmt: skip
    return dataclasses.replace(info, **changes)


def codes(problems: list[Problem], *, only_blocking: bool = False) -> list[str]:
    return [p.code for p in problems if p.blocking or not only_blocking]


def one(problems: list[Problem], code: str) -> Problem:
    found = [p for p in problems if p.code == code]
    assert len(found) == 1, problems
    return found[0]


# --- Instagram images ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size", [(1080, 1080), (1080, 1350), (1080, 566), (1440, 754), (320, 400)], ids=lambda s: f"{s[0]}x{s[1]}"
)
def test_ig_feed_image_accepts_the_documented_range(size: tuple[int, int]) -> None:
    assert [p for p in check(jpeg(*size), PostType.IG_IMAGE) if p.code != "blurry"] == []


@pytest.mark.parametrize("post_type", [PostType.IG_IMAGE, PostType.IG_CAROUSEL_IMAGE, PostType.IG_STORY_IMAGE])
def test_an_image_narrower_than_instagram_shows_it_is_flagged_as_blurry_without_blocking(post_type) -> None:
    (hint,) = [p for p in check(jpeg(640, 640), post_type) if p.code == "blurry"]
    assert not hint.blocking
    assert "640 px wide" in hint.message and "1080 px" in hint.message
    assert not [p for p in check(jpeg(1080, 1080), post_type) if p.code == "blurry"]


def test_ig_feed_image_refuses_a_tall_image_with_the_documented_sentence() -> None:
    problem = one(check(jpeg(1080, 3240), PostType.IG_IMAGE), "aspect_ratio")
    assert problem.blocking and problem.fix is None
    assert problem.message == (
        "This image is 1:3 (tall); Instagram feed images must be between 4:5 (portrait) and 1.91:1 (landscape). "
        "Crop it or post it as a story."
    )


@pytest.mark.parametrize(("size", "shown"), [((1080, 1400), "1:1.3"), ((2000, 1000), "2:1"), ((1080, 1920), "9:16")])
def test_ig_feed_image_refuses_just_outside_the_range(size: tuple[int, int], shown: str) -> None:
    problem = one(check(jpeg(*size), PostType.IG_IMAGE), "aspect_ratio")
    assert problem.message.startswith(f"This image is {shown} (")


def test_ig_image_must_be_jpeg_and_offers_conversion() -> None:
    problem = one(check(jpeg(format="png", mime_type="image/png"), PostType.IG_IMAGE), "format")
    assert problem.blocking and problem.fix == specs.FIX_CONVERT_TO_JPEG
    assert problem.message == (
        "This image is a PNG file; Instagram feed images must be JPEG. SocialHub can convert it to JPEG for you."
    )
    for fmt in ("webp", "heif", "gif"):
        assert one(check(jpeg(format=fmt), PostType.IG_IMAGE), "format").fix == specs.FIX_CONVERT_TO_JPEG
    animated = one(check(jpeg(format="gif", animated=True), PostType.IG_IMAGE), "format")
    assert "first frame" in animated.message


def test_ig_image_size_limit_names_both_sizes() -> None:
    assert check(jpeg(size_bytes=8 * MB), PostType.IG_IMAGE) == []
    problem = one(check(jpeg(size_bytes=9_400_000), PostType.IG_IMAGE), "file_size")
    assert problem.blocking
    assert "9.4 MB" in problem.message and "at most 8 MB" in problem.message


def test_ig_image_width_outside_320_1440_is_a_warning_because_meta_rescales() -> None:
    wide = one(check(jpeg(4000, 4000), PostType.IG_IMAGE), "width_max")
    assert (wide.blocking, wide.fix) == (False, specs.FIX_DOWNSCALE)
    assert "4000 px wide" in wide.message and "1440 px" in wide.message
    narrow = one(check(jpeg(200, 200), PostType.IG_IMAGE), "width_min")
    assert not narrow.blocking and "200 px" in narrow.message and "320 px" in narrow.message
    big_and_heavy = one(check(jpeg(4000, 4000, size_bytes=12 * MB), PostType.IG_IMAGE), "file_size")
    assert big_and_heavy.fix == specs.FIX_DOWNSCALE


def test_carousel_image_follows_the_feed_rules() -> None:
    assert check(jpeg(1080, 1350), PostType.IG_CAROUSEL_IMAGE) == []
    problem = one(check(jpeg(1080, 3240), PostType.IG_CAROUSEL_IMAGE), "aspect_ratio")
    assert problem.message.endswith("Crop it.")


def test_story_image_accepts_any_shape_but_recommends_9_16() -> None:
    assert check(jpeg(1080, 1920), PostType.IG_STORY_IMAGE) == []
    hint = one(check(jpeg(1080, 1080), PostType.IG_STORY_IMAGE), "aspect_ratio_recommended")
    assert not hint.blocking
    assert "1:1 (square)" in hint.message and "9:16" in hint.message


# --- Instagram videos ---------------------------------------------------------------------------------------


def test_ig_reel_accepts_a_standard_vertical_video() -> None:
    assert check(mp4(), PostType.IG_REEL) == []
    assert check(mp4(audio_codec=None, has_audio=False, audio_sample_rate=None), PostType.IG_REEL) == []
    assert check(mp4(format="mov", video_codec="hevc"), PostType.IG_REEL) == []
    assert check(mp4(frame_rate=23.976), PostType.IG_REEL) == []
    assert check(mp4(duration_seconds=900), PostType.IG_REEL) == []


def test_ig_reel_landscape_is_only_a_recommendation() -> None:
    problems = check(mp4(1920, 1080), PostType.IG_REEL)
    assert codes(problems) == ["aspect_ratio_recommended"]
    assert not problems[0].blocking
    assert problems[0].message.startswith("This video is 16:9 (landscape); 9:16 (tall) is recommended")


@pytest.mark.parametrize(
    ("changes", "code", "words"),
    [
        ({"duration_seconds": 1.0}, "duration", ["lasts 1 second", "between 3 seconds and 15 minutes"]),
        ({"duration_seconds": 16 * 60 + 5}, "duration", ["16 min 5 s", "Trim it"]),
        ({"frame_rate": 10.0}, "frame_rate", ["10 frames per second", "23 to 60"]),
        ({"frame_rate": 120.0}, "frame_rate", ["120 frames per second"]),
        ({"video_codec": "vp9"}, "video_codec", ["encoded as VP9", "H.264 or HEVC (H.265)"]),
        ({"audio_codec": "mp3"}, "audio_codec", ["is MP3", "AAC"]),
        ({"audio_sample_rate": 96000}, "audio_sample_rate", ["96 kHz", "at most 48 kHz"]),
        ({"audio_channels": 6}, "audio_channels", ["6 channels", "mono or stereo"]),
        ({"pixel_format": "yuv444p"}, "pixel_format", ["yuv444p", "4:2:0"]),
        ({"width": 3840, "height": 2160}, "width_max", ["3840 px wide", "1920 px"]),
        ({"format": "webm"}, "format", ["WebM", "MP4 or MOV"]),
        ({"size_bytes": 350 * MB}, "file_size", ["350 MB", "at most 300 MB"]),
    ],
)
def test_ig_reel_refuses_with_the_right_code_and_values(changes: dict, code: str, words: list[str]) -> None:
    problem = one(check(mp4(**changes), PostType.IG_REEL), code)
    assert problem.blocking
    for word in words:
        assert word in problem.message, problem.message


def test_ig_reel_needs_the_moov_atom_first_and_offers_the_fix() -> None:
    problem = one(check(mp4(faststart=False), PostType.IG_REEL), "faststart")
    assert (problem.blocking, problem.fix) == (True, specs.FIX_FASTSTART)
    assert check(mp4(faststart=None), PostType.IG_REEL) == []  # unknown is not held against the file


def test_ig_story_video_is_capped_at_60_seconds() -> None:
    assert check(mp4(duration_seconds=59.5), PostType.IG_STORY_VIDEO) == []
    problem = one(check(mp4(duration_seconds=61), PostType.IG_STORY_VIDEO), "duration")
    assert "61 seconds" in problem.message and "between 3 seconds and 60 seconds" in problem.message


def test_ig_carousel_video_must_be_between_4_5_and_16_9() -> None:
    assert check(mp4(1080, 1350), PostType.IG_CAROUSEL_VIDEO) == []
    assert check(mp4(1920, 1080), PostType.IG_CAROUSEL_VIDEO) == []
    problem = one(check(mp4(1080, 1920), PostType.IG_CAROUSEL_VIDEO), "aspect_ratio")
    assert "9:16 (tall)" in problem.message and "4:5 (portrait) and 16:9 (landscape)" in problem.message


# --- Facebook -----------------------------------------------------------------------------------------------


def test_fb_photo_formats_and_size() -> None:
    for fmt in ("jpeg", "png", "gif", "bmp", "tiff"):
        assert check(jpeg(format=fmt, size_bytes=3 * MB), PostType.FB_PHOTO) == [], fmt
    webp = one(check(jpeg(format="webp"), PostType.FB_PHOTO), "format")
    assert webp.fix == specs.FIX_CONVERT_TO_JPEG
    assert "JPEG, PNG, GIF, BMP or TIFF" in webp.message
    heavy = one(check(jpeg(5000, 3000, size_bytes=6 * MB), PostType.FB_PHOTO), "file_size")
    assert heavy.fix == specs.FIX_DOWNSCALE and "at most 4 MB" in heavy.message
    assert check(jpeg(1080, 3240, size_bytes=MB), PostType.FB_PHOTO) == []  # Facebook takes any shape


def test_fb_video_limits() -> None:
    assert check(mp4(1920, 1080, duration_seconds=3600, frame_rate=10.0), PostType.FB_VIDEO) == []
    assert "at most 4 GB" in one(check(mp4(size_bytes=5_000_000_000), PostType.FB_VIDEO), "file_size").message
    too_long = one(check(mp4(duration_seconds=5 * 3600), PostType.FB_VIDEO), "duration")
    assert "5 hours" in too_long.message and "at most 4 hours" not in too_long.message
    assert "between 1 second and 4 hours" in too_long.message


def test_fb_reel_rules() -> None:
    assert check(mp4(), PostType.FB_REEL) == []
    assert check(mp4(540, 960, video_codec="vp9"), PostType.FB_REEL) == []
    landscape = one(check(mp4(1920, 1080), PostType.FB_REEL), "aspect_ratio")
    assert landscape.message == (
        "This video is 16:9 (landscape); Facebook reels must be 9:16 (tall). "
        "Crop it to 9:16, or post it as a regular Facebook video."
    )
    small = one(check(mp4(360, 640), PostType.FB_REEL), "resolution_min")
    assert "360 × 640 px" in small.message and "540 × 960 px" in small.message
    assert one(check(mp4(frame_rate=23.0), PostType.FB_REEL), "frame_rate").message.count("24 to 60") == 1
    assert "90 seconds" in one(check(mp4(duration_seconds=91), PostType.FB_REEL), "duration").message
    mov = check(mp4(format="mov"), PostType.FB_REEL)
    assert codes(mov) == ["format_recommended"] and not mov[0].blocking


# --- whole-file outcomes ------------------------------------------------------------------------------------


def test_wrong_kind_and_unreadable_stop_further_checks() -> None:
    assert [(p.code, p.message) for p in check(jpeg(), PostType.IG_REEL)] == [
        ("wrong_kind", "This is a photo; Instagram reels need a video.")
    ]
    video_as_image = check(mp4(), PostType.IG_IMAGE)
    assert codes(video_as_image) == ["wrong_kind"] and "Post it as a reel" in video_as_image[0].message
    broken = MediaInfo(kind="image", format="jpeg", error="This image is damaged or incomplete and cannot be read.")
    assert check(broken, PostType.FB_PHOTO) == [
        Problem("unreadable", "This image is damaged or incomplete and cannot be read.")
    ]


def test_check_accepts_the_post_type_as_a_string() -> None:
    assert check(jpeg(), "ig_image") == []
    with pytest.raises(ValueError):
        check(jpeg(), "tiktok")


def test_usable_for_covers_every_post_type() -> None:
    result = usable_for(jpeg())
    assert set(result) == set(PostType)
    usable = {post_type for post_type, problems in result.items() if not specs.blocking(problems)}
    assert usable == {PostType.IG_IMAGE, PostType.IG_CAROUSEL_IMAGE, PostType.IG_STORY_IMAGE, PostType.FB_PHOTO}


def test_carousel_as_a_whole() -> None:
    assert check_carousel([jpeg(), jpeg()]) == []
    assert codes(check_carousel([jpeg()])) == ["carousel_too_few"]
    too_many = one(check_carousel([jpeg()] * 11), "carousel_too_many")
    assert "11 items" in too_many.message and "at most 10" in too_many.message
    mixed = one(check_carousel([jpeg(1080, 1080), jpeg(1080, 1350)]), "carousel_mixed_shapes")
    assert not mixed.blocking and "(1:1)" in mixed.message


# --- real files ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Samples:
    return Samples(samples_dir(tmp_path_factory))


def test_square_jpeg_file_is_ok_for_ig_image_and_not_for_reels(samples: Samples) -> None:
    result = usable_for(probe_file(samples.jpeg(1080, 1080)))
    assert result[PostType.IG_IMAGE] == []
    assert codes(result[PostType.IG_REEL]) == ["wrong_kind"]


@pytest.mark.skipif(FFMPEG is None, reason="ffmpeg is not installed")
def test_generated_videos_against_the_rules(samples: Samples) -> None:
    reel = probe_file(samples.reel())
    assert check(reel, PostType.IG_REEL) == []
    assert check(reel, PostType.FB_REEL) == []
    assert check(reel, PostType.IG_STORY_VIDEO) == []
    assert codes(check(probe_file(samples.reel_no_faststart()), PostType.IG_REEL)) == ["faststart"]
    assert codes(check(probe_file(samples.short_clip()), PostType.IG_REEL)) == ["duration"]
    assert codes(check(probe_file(samples.ten_fps()), PostType.IG_REEL)) == ["frame_rate"]
    assert check(probe_file(samples.silent()), PostType.IG_REEL) == []
    landscape = probe_file(samples.landscape())
    assert codes(check(landscape, PostType.IG_REEL)) == ["aspect_ratio_recommended"]
    assert codes(check(landscape, PostType.FB_REEL)) == ["aspect_ratio"]
    if has_encoder("libx265"):
        assert check(probe_file(samples.hevc()), PostType.IG_REEL) == []


# --- captions -----------------------------------------------------------------------------------------------


def test_caption_length() -> None:
    assert check_instagram_caption("a" * 2200) == []
    problem = one(check_instagram_caption("é" * 2201), "caption_length")
    assert problem.message == "This caption has 2,201 characters; Instagram allows at most 2,200. Shorten it by 1."


def test_caption_hashtag_limit() -> None:
    assert check_instagram_caption(" ".join(f"#tag{i}" for i in range(30))) == []
    problem = one(check_instagram_caption(" ".join(f"#tag{i}" for i in range(31))), "caption_hashtags")
    assert problem.message == "This caption has 31 hashtags; Instagram allows at most 30. Remove 1."


def test_caption_mention_limit() -> None:
    assert check_instagram_caption(" ".join(f"@user{i}" for i in range(20))) == []
    problem = one(check_instagram_caption(" ".join(f"@user{i}" for i in range(21))), "caption_mentions")
    assert "21 accounts" in problem.message and "at most 20" in problem.message


def test_hashtags_in_urls_and_inside_words_do_not_count() -> None:
    text = (
        "New menu! https://example.com/menu#desserts and www.example.com/#top and example.com/x#y "
        "abc#def &#39; #1 #2024 #real #1stplace."
    )
    assert specs.extract_hashtags(text) == ["real", "1stplace"]


def test_unicode_hashtags_are_whole_words() -> None:
    text = "#café #東京 #हिन्दी #straße #مرحبا #emoji🎉 (#inparens)"
    assert specs.extract_hashtags(text) == ["café", "東京", "हिन्दी", "straße", "مرحبا", "emoji", "inparens"]


def test_mentions_skip_emails_and_urls() -> None:
    text = "Thanks @Brand.Official and @chef_anna. Mail hello@example.com, read https://medium.com/@writer"
    assert specs.extract_mentions(text) == ["Brand.Official", "chef_anna"]


def test_fifty_hashtags_hidden_in_urls_do_not_trigger_the_limit() -> None:
    urls = " ".join(f"https://example.com/p#{i}x" for i in range(50))
    assert check_instagram_caption(urls + " #one") == []


# --- constants ----------------------------------------------------------------------------------------------


def test_post_level_constants() -> None:
    assert (specs.IG_CAROUSEL_MIN_ITEMS, specs.IG_CAROUSEL_MAX_ITEMS) == (2, 10)
    assert (specs.IG_MAX_COLLABORATORS, specs.IG_MAX_USER_TAGS) == (3, 20)
    assert (specs.FB_SCHEDULE_MIN_AHEAD, specs.FB_SCHEDULE_MAX_AHEAD) == (timedelta(minutes=10), timedelta(days=75))
    assert specs.FB_MULTI_PHOTO_MAX == 10


def test_cta_types_match_the_seed() -> None:
    # The shared folder sits beside the repository (../shared), as the team's checkouts keep it.
    seeds = Path(__file__).resolve().parents[2].parent / "shared" / "graph-api" / "seeds"
    seed = next(seeds.glob("002_*.txt"), None)
    if seed is None:
        pytest.skip("seed 002 is not on this machine")
    text = seed.read_text()
    start = text.index("Uno dei valori consentiti")
    listed = [m.group(1) for m in re.finditer(r"^([A-Z_]+)\. ", text[start:], re.M)][: len(specs.FB_CTA_TYPES)]
    assert tuple(listed) == specs.FB_CTA_TYPES
    assert json.dumps(specs.FB_CTA_TYPES)  # plain strings, usable in a form's choices


def test_every_post_type_has_a_spec_of_the_right_kind() -> None:
    assert set(specs.SPECS) == set(PostType)
    for post_type, spec in specs.SPECS.items():
        assert spec.post_type is post_type
        assert spec.kind == (
            "image"
            if post_type in {PostType.IG_IMAGE, PostType.IG_STORY_IMAGE, PostType.IG_CAROUSEL_IMAGE, PostType.FB_PHOTO}
            else "video"
        )


@pytest.mark.parametrize(
    ("ratio", "text"),
    [(1.0, "1:1"), (0.8, "4:5"), (1 / 3, "1:3"), (1080 / 566, "1.91:1"), (16 / 9, "16:9"), (9 / 16, "9:16"),
     (2.5, "5:2"), (0.41, "1:2.44"), (3.7, "3.7:1"), (1080 / 1400, "1:1.3")],
)  # fmt: skip
def test_ratio_wording(ratio: float, text: str) -> None:
    assert specs.ratio_text(ratio) == text


def test_duration_and_size_wording() -> None:
    assert [specs.duration_text(s) for s in (1, 2.5, 60, 90, 125, 900, 14400)] == [
        "1 second", "2.5 seconds", "60 seconds", "90 seconds", "2 min 5 s", "15 minutes", "4 hours",
    ]  # fmt: skip
    assert [specs.size_text(s) for s in (500, 8 * MB, 9_400_000, 4_000_000_000)] == ["1 KB", "8 MB", "9.4 MB", "4 GB"]
