"""Every media and caption rule SocialHub checks before it sends anything to Meta, each with its reference.

One ``MediaSpec`` per post type, all in ``SPECS``; ``check(info, post_type)`` turns a ``MediaInfo`` from
``publishing.probe`` into ``Problem``s a marketer can act on. A limit marked "(verify)" in its comment was
not confirmed on a current Meta page (or Meta's pages disagree): the stricter value is used until someone
checks it. Re-read the references below whenever the Graph API version is bumped.

References (cited next to each limit by their short name):
- [ig-media]  https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media
              ("Image Specifications", "Reel Specifications", story and carousel notes); also
              the shared seed graph-api/seeds/001_*.txt (same reference, older copy).
- [ig-publish] https://developers.facebook.com/docs/instagram-platform/content-publishing
- [ig-collab] https://developers.facebook.com/docs/instagram-api/reference/ig-media/collaborators
- [fb-reels]  https://developers.facebook.com/docs/video-api/guides/reels-publishing ("Video Specifications")
- [fb-photos] https://developers.facebook.com/docs/graph-api/reference/page/photos
- [fb-video]  https://developers.facebook.com/docs/video-api/guides/publishing
- [seed-002]  the shared seed graph-api/seeds/002_*.txt — Page /feed reference (Italian copy):
              scheduled_publish_time window and call_to_action types.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from publishing.probe import MediaInfo

MB = 1000 * 1000  # decimal megabyte: the smaller reading of Meta's "MB", so never over a limit by 5 %
GB = 1000 * MB


class PostType(StrEnum):
    IG_IMAGE = "ig_image"
    IG_REEL = "ig_reel"
    IG_STORY_IMAGE = "ig_story_image"
    IG_STORY_VIDEO = "ig_story_video"
    IG_CAROUSEL_IMAGE = "ig_carousel_image"
    IG_CAROUSEL_VIDEO = "ig_carousel_video"
    FB_PHOTO = "fb_photo"
    FB_VIDEO = "fb_video"
    FB_REEL = "fb_reel"


# Mechanical fixes offered in Problem.fix; publishing.convert implements them.
FIX_CONVERT_TO_JPEG = "convert_to_jpeg"
FIX_DOWNSCALE = "downscale"
FIX_FASTSTART = "faststart"


@dataclass(frozen=True)
class Problem:
    code: str  # stable slug: "aspect_ratio", "format", "duration", …
    message: str  # plain words naming the actual value and the rule
    fix: str | None = None  # one of the FIX_* slugs when SocialHub can repair the file itself
    blocking: bool = True  # False for recommendations: the post can still go out
    subject: str = ""  # the media file it is about (its public id), when it is about one


@dataclass(frozen=True)
class MediaSpec:
    post_type: PostType
    label: str  # how the rules are named in messages, e.g. "Instagram feed images"
    kind: str  # "image" | "video"
    formats: frozenset[str]
    recommended_formats: frozenset[str] = frozenset()  # outside them: a non-blocking hint
    max_bytes: int | None = None
    min_width: int | None = None
    max_width: int | None = None
    min_height: int | None = None
    width_rescaled: bool = False  # Meta rescales widths outside [min, max] itself: warn, do not block
    sharp_width: int | None = None  # narrower images are shown enlarged, so they look blurry: a hint
    downscale_width: int | None = None  # width offered by the "downscale" fix
    aspect_min: float | None = None  # width / height
    aspect_max: float | None = None
    aspect_tolerance: float = 0.001  # relative; absorbs pixel rounding only
    aspect_advice: str = ""  # what to do when the ratio is out of range
    recommended_aspect: float | None = None  # outside it (±2 %): a non-blocking hint
    min_seconds: float | None = None
    max_seconds: float | None = None
    min_fps: float | None = None
    max_fps: float | None = None
    video_codecs: frozenset[str] = frozenset()  # empty: not checked
    audio_codecs: frozenset[str] = frozenset()
    max_audio_sample_rate: int | None = None
    max_audio_channels: int | None = None
    chroma_420: bool = False  # 4:2:0 chroma subsampling required
    faststart: bool = False  # moov atom required before mdat


IG_VIDEO_FORMATS = frozenset({"mp4", "mov"})  # [ig-media] "Container: MOV or MP4 (MPEG-4 Part 14)"
IG_VIDEO_CODECS = frozenset({"h264", "hevc"})  # [ig-media] "Video codec: HEVC or H264"
IG_AUDIO_CODECS = frozenset({"aac"})  # [ig-media] "Audio codec: AAC"
IG_AUDIO_MAX_RATE = 48_000  # [ig-media] "48khz sample rate maximum"
IG_AUDIO_MAX_CHANNELS = 2  # [ig-media] "1 or 2 channels (mono or stereo)"
IG_VIDEO_MAX_WIDTH = 1920  # [ig-media] "Maximum columns (horizontal pixels): 1920"
IG_FPS = (23.0, 60.0)  # [ig-media] "Frame rate: 23-60 FPS"
IG_IMAGE_MAX_BYTES = 8 * MB  # [ig-media] Image Specifications "File size: 8 MB maximum"
IG_IMAGE_WIDTH = (320, 1440)  # [ig-media] "Minimum width: 320 … Maximum width: 1440 (will be scaled …)"
IG_DISPLAY_WIDTH = 1080  # [ig-media] "we recommend 1080 pixels wide": the width the app shows images at
IG_FEED_ASPECT = (4 / 5, 1.91)  # [ig-media] "Aspect ratio: Must be within a 4:5 to 1.91:1 range"
NINE_SIXTEEN = 9 / 16

SPECS: dict[PostType, MediaSpec] = {
    PostType.IG_IMAGE: MediaSpec(
        post_type=PostType.IG_IMAGE,
        label="Instagram feed images",
        kind="image",
        formats=frozenset({"jpeg"}),  # [ig-media] "Format: JPEG"
        max_bytes=IG_IMAGE_MAX_BYTES,
        min_width=IG_IMAGE_WIDTH[0],
        max_width=IG_IMAGE_WIDTH[1],
        width_rescaled=True,  # [ig-media] outside 320–1440 Meta scales the image up or down itself
        sharp_width=IG_DISPLAY_WIDTH,
        downscale_width=IG_IMAGE_WIDTH[1],
        aspect_min=IG_FEED_ASPECT[0],
        aspect_max=IG_FEED_ASPECT[1],
        aspect_advice="Crop it or post it as a story.",
    ),
    PostType.IG_CAROUSEL_IMAGE: MediaSpec(
        post_type=PostType.IG_CAROUSEL_IMAGE,
        label="Images in an Instagram carousel",
        kind="image",
        formats=frozenset({"jpeg"}),  # [ig-media] carousel images are image containers: same specs
        max_bytes=IG_IMAGE_MAX_BYTES,
        min_width=IG_IMAGE_WIDTH[0],
        max_width=IG_IMAGE_WIDTH[1],
        width_rescaled=True,
        sharp_width=IG_DISPLAY_WIDTH,
        downscale_width=IG_IMAGE_WIDTH[1],
        aspect_min=IG_FEED_ASPECT[0],
        aspect_max=IG_FEED_ASPECT[1],
        aspect_advice="Crop it.",
    ),
    PostType.IG_STORY_IMAGE: MediaSpec(
        post_type=PostType.IG_STORY_IMAGE,
        label="Instagram story images",
        kind="image",
        formats=frozenset({"jpeg"}),  # [ig-media] stories use the image specifications (verify)
        max_bytes=IG_IMAGE_MAX_BYTES,  # [ig-media] 8 MB as for feed images (verify)
        min_width=IG_IMAGE_WIDTH[0],
        max_width=IG_IMAGE_WIDTH[1],
        width_rescaled=True,
        sharp_width=IG_DISPLAY_WIDTH,
        downscale_width=IG_IMAGE_WIDTH[1],
        recommended_aspect=NINE_SIXTEEN,  # stories fill a 9:16 screen; no hard range found (verify)
    ),
    PostType.IG_REEL: MediaSpec(
        post_type=PostType.IG_REEL,
        label="Instagram reels",
        kind="video",
        formats=IG_VIDEO_FORMATS,
        max_bytes=300 * MB,  # [ig-media] Reel Specifications "300MB maximum"; older copies say 1 GB (verify)
        max_width=IG_VIDEO_MAX_WIDTH,
        aspect_min=0.01,  # [ig-media] "between 0.01:1 and 10:1 but we recommend 9:16"
        aspect_max=10.0,
        aspect_advice="Crop it.",
        recommended_aspect=NINE_SIXTEEN,  # [ig-media] "we recommend 9:16 to avoid cropping or blank spaces"
        min_seconds=3,  # [ig-media] "3 seconds minimum"
        max_seconds=15 * 60,  # [ig-media] "15 mins maximum" (the app itself caps at 90 s for some accounts) (verify)
        min_fps=IG_FPS[0],
        max_fps=IG_FPS[1],
        video_codecs=IG_VIDEO_CODECS,
        audio_codecs=IG_AUDIO_CODECS,
        max_audio_sample_rate=IG_AUDIO_MAX_RATE,
        max_audio_channels=IG_AUDIO_MAX_CHANNELS,
        chroma_420=True,  # [ig-media] "4:2:0 chroma subsampling"
        faststart=True,  # [ig-media] "no edit lists, moov atom at the front of the file"
    ),
    PostType.IG_STORY_VIDEO: MediaSpec(
        post_type=PostType.IG_STORY_VIDEO,
        label="Instagram story videos",
        kind="video",
        formats=IG_VIDEO_FORMATS,
        max_bytes=100 * MB,  # [ig-media] story video "100MB maximum" (verify)
        max_width=IG_VIDEO_MAX_WIDTH,
        aspect_min=0.01,  # [ig-media] same picture-size rule as reels (verify)
        aspect_max=10.0,
        aspect_advice="Crop it.",
        recommended_aspect=NINE_SIXTEEN,  # [ig-media] 9:16 recommended
        min_seconds=3,  # [ig-media] "3 seconds minimum"
        max_seconds=60,  # [ig-media] story video "60 seconds maximum" (verify)
        min_fps=IG_FPS[0],
        max_fps=IG_FPS[1],
        video_codecs=IG_VIDEO_CODECS,
        audio_codecs=IG_AUDIO_CODECS,
        max_audio_sample_rate=IG_AUDIO_MAX_RATE,
        max_audio_channels=IG_AUDIO_MAX_CHANNELS,
        chroma_420=True,
        faststart=True,
    ),
    PostType.IG_CAROUSEL_VIDEO: MediaSpec(
        post_type=PostType.IG_CAROUSEL_VIDEO,
        label="Videos in an Instagram carousel",
        kind="video",
        formats=IG_VIDEO_FORMATS,
        max_bytes=100 * MB,  # [ig-media] "Video Specifications" (feed/carousel VIDEO) "100MB maximum" (verify)
        max_width=IG_VIDEO_MAX_WIDTH,
        aspect_min=4 / 5,  # [ig-media] Video Specifications "Minimum aspect ratio [cols / rows]: 4 / 5" (verify)
        aspect_max=16 / 9,  # [ig-media] "Maximum aspect ratio [cols / rows]: 16 / 9" (verify)
        aspect_advice="Crop it, or post it on its own as a reel.",
        min_seconds=3,  # [ig-media] "3 seconds minimum"
        max_seconds=60,  # [ig-media] Video Specifications "60 seconds maximum" (verify)
        min_fps=IG_FPS[0],
        max_fps=IG_FPS[1],
        video_codecs=IG_VIDEO_CODECS,
        audio_codecs=IG_AUDIO_CODECS,
        max_audio_sample_rate=IG_AUDIO_MAX_RATE,
        max_audio_channels=IG_AUDIO_MAX_CHANNELS,
        chroma_420=True,
        faststart=True,
    ),
    PostType.FB_PHOTO: MediaSpec(
        post_type=PostType.FB_PHOTO,
        label="Facebook photos",
        kind="image",
        formats=frozenset({"jpeg", "png", "gif", "bmp", "tiff"}),  # [fb-photos] JPEG, BMP, PNG, GIF, TIFF (verify)
        max_bytes=4 * MB,  # [fb-photos] 4 MB; third-party guides say 10 MB — stricter kept (verify)
        downscale_width=2048,  # Facebook shows photos at most 2048 px wide (verify)
    ),
    PostType.FB_VIDEO: MediaSpec(
        post_type=PostType.FB_VIDEO,
        label="Facebook videos",
        kind="video",
        formats=frozenset({"mp4", "mov"}),  # [fb-video] MP4/MOV recommended; others are not probed here (verify)
        max_bytes=4 * GB,  # [fb-video] 4 GB; Meta's help centre now says 10 GB — stricter kept (verify)
        min_seconds=1,  # [fb-video] 1 second minimum (verify)
        max_seconds=240 * 60,  # [fb-video] 240 minutes maximum (verify)
    ),
    PostType.FB_REEL: MediaSpec(
        post_type=PostType.FB_REEL,
        label="Facebook reels",
        kind="video",
        formats=frozenset({"mp4", "mov"}),  # [fb-reels] "File Type .mp4 (recommended)"; MOV accepted (verify)
        recommended_formats=frozenset({"mp4"}),  # [fb-reels] ".mp4 (recommended)"
        min_width=540,  # [fb-reels] "Minimum is 540 x 960 pixels"
        min_height=960,
        aspect_min=NINE_SIXTEEN,  # [fb-reels] "Aspect Ratio 9 x 16" (min and max both 9 x 16)
        aspect_max=NINE_SIXTEEN,
        aspect_tolerance=0.01,  # 1 % for encoders that round to even sizes (verify)
        aspect_advice="Crop it to 9:16, or post it as a regular Facebook video.",
        min_seconds=3,  # [fb-reels] "Duration 3 to 90 seconds"
        max_seconds=90,
        min_fps=24,  # [fb-reels] "Frame Rate 24 to 60 frames per second"
        max_fps=60,
        # [fb-reels] "Compression – H.264, H.265 (VP9, AV1 are also supported)"
        video_codecs=frozenset({"h264", "hevc", "vp9", "av1"}),
        audio_codecs=frozenset({"aac"}),  # [fb-reels] "Codec – AAC Low Complexity"
        max_audio_sample_rate=48_000,  # [fb-reels] "Sample rate – 48kHz" (read as a maximum) (verify)
        max_audio_channels=2,  # [fb-reels] "Channels – Stereo"
        chroma_420=True,  # [fb-reels] "Chroma subsampling 4:2:0"
    ),
}

# --- post-level limits --------------------------------------------------------------------------------------

IG_CAROUSEL_MIN_ITEMS = 2  # [ig-publish] a carousel needs at least two children (verify)
IG_CAROUSEL_MAX_ITEMS = 10  # seed 001: "Carousels can have up to 10 total images, videos, or a mix"
IG_MAX_COLLABORATORS = 3  # [ig-collab] "Up to 3 Instagram accounts can be added as collaborators"
IG_MAX_USER_TAGS = 20  # [ig-publish] user tags per image (verify)
IG_CAPTION_MAX_CHARS = 2200  # [ig-publish] caption limit 2,200 characters (verify)
IG_CAPTION_MAX_HASHTAGS = 30  # [ig-publish] at most 30 hashtags (verify)
IG_CAPTION_MAX_MENTIONS = 20  # [ig-publish] at most 20 @-mentions (verify)

# [seed-002] call_to_action.type values of POST /{page-id}/feed.
FB_CTA_TYPES: tuple[str, ...] = (
    "BOOK_TRAVEL", "BUY_NOW", "CALL_NOW", "DOWNLOAD", "GET_DIRECTIONS", "GET_QUOTE", "INSTALL_APP",
    "INSTALL_MOBILE_APP", "LEARN_MORE", "LIKE_PAGE", "LISTEN_MUSIC", "MESSAGE_PAGE", "NO_BUTTON", "OPEN_LINK",
    "PLAY_GAME", "SHOP_NOW", "SIGN_UP", "SUBSCRIBE", "USE_APP", "USE_MOBILE_APP", "WATCH_MORE", "WATCH_VIDEO",
)  # fmt: skip
# What people see on the button: Meta's enum names are never shown. NO_BUTTON is the same as no button.
FB_CTA_LABELS: dict[str, str] = {
    "BOOK_TRAVEL": "Book now",
    "BUY_NOW": "Buy now",
    "CALL_NOW": "Call now",
    "DOWNLOAD": "Download",
    "GET_DIRECTIONS": "Get directions",
    "GET_QUOTE": "Get quote",
    "INSTALL_APP": "Install app",
    "INSTALL_MOBILE_APP": "Install mobile app",
    "LEARN_MORE": "Learn more",
    "LIKE_PAGE": "Like page",
    "LISTEN_MUSIC": "Listen now",
    "MESSAGE_PAGE": "Send message",
    "OPEN_LINK": "Open link",
    "PLAY_GAME": "Play game",
    "SHOP_NOW": "Shop now",
    "SIGN_UP": "Sign up",
    "SUBSCRIBE": "Subscribe",
    "USE_APP": "Use app",
    "USE_MOBILE_APP": "Use mobile app",
    "WATCH_MORE": "Watch more",
    "WATCH_VIDEO": "Watch video",
}
# A Page post's text: 63,206 characters (recalled; Meta's /feed reference gives no figure) (verify).
FB_POST_MAX_CHARS = 63_206
# Instagram's 24-hour publishing limit when Meta has not told SocialHub the account's own figure: the lower
# of the two values Meta's pages have given (50 and 100); the pipeline reads the real one before waiting.
IG_PUBLISH_QUOTA_DEFAULT = 50
# [seed-002] scheduled_publish_time "deve essere compreso tra 10 minuti e 75 giorni dal momento della richiesta".
FB_SCHEDULE_MIN_AHEAD = timedelta(minutes=10)
FB_SCHEDULE_MAX_AHEAD = timedelta(days=75)
FB_MULTI_PHOTO_MAX = 10  # photos attached to one Page post via attached_media; Meta gives no figure (verify)

# --- upload limits ------------------------------------------------------------------------------------------
# The largest file of each kind some post type takes: a bigger one cannot be posted anywhere, so its upload is
# stopped while the body streams in. Images: 8 MB, Instagram's limit [ig-media], the largest image rule above
# (Facebook photos take 4 MB [fb-photos]). Videos: 4 GB, Facebook video's limit [fb-video] (reels take 300 MB
# [ig-media]). Settings MEDIA_UPLOAD_MAX_IMAGE_BYTES / _VIDEO_BYTES lower or raise them per installation.
UPLOAD_MAX_BYTES = {
    kind: max(spec.max_bytes or 0 for spec in SPECS.values() if spec.kind == kind) for kind in ("image", "video")
}
# A file SocialHub cannot read is kept only so its uploader sees why it cannot be posted; not Meta's figure.
UNREADABLE_UPLOAD_MAX_BYTES = 1 * MB
# The pixel bound of an image (probe.MAX_IMAGE_PIXELS) is read from the header before anything is decoded.


# --- checking media -----------------------------------------------------------------------------------------

# Formats that publishing.convert.convert_to_jpeg can turn into a JPEG.
CONVERTIBLE_TO_JPEG = frozenset({"png", "webp", "gif", "bmp", "tiff", "heif", "avif"})

FORMAT_NAMES = {
    "jpeg": "JPEG", "png": "PNG", "webp": "WebP", "gif": "GIF", "heif": "HEIF/HEIC", "avif": "AVIF",
    "bmp": "BMP", "tiff": "TIFF", "mp4": "MP4", "mov": "MOV", "webm": "WebM", "mkv": "MKV", "avi": "AVI",
}  # fmt: skip
CODEC_NAMES = {
    "h264": "H.264", "hevc": "HEVC (H.265)", "vp8": "VP8", "vp9": "VP9", "av1": "AV1", "mpeg4": "MPEG-4 Part 2",
    "prores": "ProRes", "mjpeg": "Motion JPEG", "aac": "AAC", "mp3": "MP3", "opus": "Opus", "vorbis": "Vorbis",
    "ac3": "Dolby Digital (AC-3)", "eac3": "Dolby Digital Plus", "flac": "FLAC", "alac": "Apple Lossless",
}  # fmt: skip
# Shapes people know by name; anything else is written as a decimal ("1:1.3", "3.7:1").
NAMED_RATIOS = tuple(
    (w / h, f"{w}:{h}")
    for w, h in (
        (1, 1),
        (4, 5),
        (5, 4),
        (3, 4),
        (4, 3),
        (2, 3),
        (3, 2),
        (9, 16),
        (16, 9),
        (1, 2),
        (2, 1),
        (1, 3),
        (3, 1),
        (5, 2),
        (2, 5),
        (21, 9),
        (9, 21),
        (5, 7),
        (7, 5),
        (4, 1),
        (1, 4),
        (10, 1),
    )
) + ((1.91, "1.91:1"), (0.01, "0.01:1"))


def check(info: MediaInfo, post_type: PostType | str) -> list[Problem]:
    """Everything wrong with ``info`` for ``post_type``, blocking problems and recommendations alike."""
    spec = SPECS[PostType(post_type)]
    if info.error:
        return [Problem("unreadable", info.error)]
    if info.kind != spec.kind:
        return [_wrong_kind(info, spec)]
    checks = (
        _check_format,
        _check_size,
        _check_dimensions,
        _check_aspect,
        _check_duration,
        _check_frame_rate,
        _check_video_codec,
        _check_audio,
        _check_pixel_format,
        _check_faststart,
        _recommend_format,
        _recommend_aspect,
    )
    problems: list[Problem] = []
    for rule in checks:
        problems.extend(rule(info, spec))
    return problems


def usable_for(info: MediaInfo) -> dict[PostType, list[Problem]]:
    """For every post type, the problems of ``info`` (an empty list: usable as is)."""
    return {post_type: check(info, post_type) for post_type in PostType}


def blocking(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.blocking]


def check_carousel(items: list[MediaInfo]) -> list[Problem]:
    """Rules on the carousel as a whole; check each item with IG_CAROUSEL_IMAGE / IG_CAROUSEL_VIDEO."""
    problems: list[Problem] = []
    count = len(items)
    if count < IG_CAROUSEL_MIN_ITEMS:
        problems.append(
            Problem(
                "carousel_too_few",
                f"This carousel has {count} item{'s' if count != 1 else ''}; Instagram carousels need at least "
                f"{IG_CAROUSEL_MIN_ITEMS}. Add another image or video, or publish it as a single post.",
            )
        )
    if count > IG_CAROUSEL_MAX_ITEMS:
        problems.append(
            Problem(
                "carousel_too_many",
                f"This carousel has {count} items; Instagram allows at most {IG_CAROUSEL_MAX_ITEMS}. "
                f"Remove {count - IG_CAROUSEL_MAX_ITEMS}.",
            )
        )
    ratios = [i.aspect_ratio for i in items if i.aspect_ratio]
    if ratios and any(abs(r - ratios[0]) / ratios[0] > 0.02 for r in ratios[1:]):
        # [ig-publish] carousel items are cropped to the first item's shape (1:1 by default) (verify)
        problems.append(
            Problem(
                "carousel_mixed_shapes",
                f"The items in this carousel have different shapes; Instagram crops them all to the shape of "
                f"the first one ({ratio_text(ratios[0])}). Crop them to the same shape to choose what is cut.",
                blocking=False,
            )
        )
    return problems


# --- the individual rules -----------------------------------------------------------------------------------


def _wrong_kind(info: MediaInfo, spec: MediaSpec) -> Problem:
    if info.kind == "video":
        advice = " Post it as a reel instead." if spec.label.startswith("Instagram") else ""
        return Problem("wrong_kind", f"This is a video; {spec.label} need a photo.{advice}")
    if info.kind == "image":
        return Problem("wrong_kind", f"This is a photo; {spec.label} need a video.")
    return Problem("wrong_kind", f"This file is not an image or a video; {spec.label} need a {spec.kind}.")


def _check_format(info: MediaInfo, spec: MediaSpec) -> list[Problem]:
    if info.format in spec.formats:
        return []
    actual = FORMAT_NAMES.get(info.format or "", (info.format or "unknown").upper())
    allowed = _or_list(FORMAT_NAMES.get(f, f.upper()) for f in sorted(spec.formats, key=_format_order))
    subject = "This image" if info.kind == "image" else "This video"
    if info.kind == "image" and "jpeg" in spec.formats and info.format in CONVERTIBLE_TO_JPEG:
        note = " Only the first frame of the animation is kept." if info.animated else ""
        return [
            Problem(
                "format",
                f"{subject} is a {actual} file; {spec.label} must be {allowed}. "
                f"SocialHub can convert it to JPEG for you.{note}",
                fix=FIX_CONVERT_TO_JPEG,
            )
        ]
    advice = " Export it again as MP4 (H.264)." if info.kind == "video" else " Save it as JPEG and upload it again."
    return [Problem("format", f"{subject} is a {actual} file; {spec.label} must be {allowed}.{advice}")]


def _check_size(info: MediaInfo, spec: MediaSpec) -> list[Problem]:
    if spec.max_bytes is None or info.size_bytes <= spec.max_bytes:
        return []
    fix = None
    if info.kind == "image":
        if info.format != "jpeg" and info.format in CONVERTIBLE_TO_JPEG:
            fix = FIX_CONVERT_TO_JPEG
        elif spec.downscale_width and (info.width or 0) > spec.downscale_width:
            fix = FIX_DOWNSCALE
    advice = " Export it at a lower quality or resolution." if fix is None else " SocialHub can make it smaller."
    return [
        Problem(
            "file_size",
            f"This file is {size_text(info.size_bytes)}; {spec.label} can be at most {size_text(spec.max_bytes)}."
            + advice,
            fix=fix,
        )
    ]


def _check_dimensions(info: MediaInfo, spec: MediaSpec) -> list[Problem]:
    if not info.width or not info.height:
        return []
    problems: list[Problem] = []
    if spec.max_width and info.width > spec.max_width:
        if spec.width_rescaled:
            problems.append(
                Problem(
                    "width_max",
                    f"This image is {info.width} px wide; Instagram shrinks images wider than {spec.max_width} px. "
                    f"SocialHub can resize it to {spec.max_width} px first so you keep control of the result.",
                    fix=FIX_DOWNSCALE,
                    blocking=False,
                )
            )
        else:
            problems.append(
                Problem(
                    "width_max",
                    f"This {info.kind} is {info.width} px wide; {spec.label} can be at most {spec.max_width} px "
                    f"wide. Export it at 1080 × 1920 (portrait) or 1920 × 1080 (landscape).",
                )
            )
    if spec.width_rescaled and spec.min_width and info.width < spec.min_width:
        problems.append(
            Problem(
                "width_min",
                f"This image is only {info.width} px wide; Instagram enlarges images narrower than "
                f"{spec.min_width} px, which makes them blurry. Use a larger image if you have one.",
                blocking=False,
            )
        )
    elif spec.sharp_width and info.width < spec.sharp_width:
        problems.append(
            Problem(
                "blurry",
                f"This image is {info.width} px wide; Instagram shows it {spec.sharp_width} px wide, so it may "
                "look blurry at that size. Use a larger image if you have one.",
                blocking=False,
            )
        )
    elif not spec.width_rescaled and (
        (spec.min_width and info.width < spec.min_width) or (spec.min_height and info.height < spec.min_height)
    ):
        problems.append(
            Problem(
                "resolution_min",
                f"This {info.kind} is {info.width} × {info.height} px; {spec.label} need at least "
                f"{spec.min_width or 0} × {spec.min_height or 0} px. Export it at a higher resolution.",
            )
        )
    return problems


def _check_aspect(info: MediaInfo, spec: MediaSpec) -> list[Problem]:
    ratio = info.aspect_ratio
    if ratio is None or (spec.aspect_min is None and spec.aspect_max is None):
        return []
    low = (spec.aspect_min or 0) * (1 - spec.aspect_tolerance)
    high = (spec.aspect_max or float("inf")) * (1 + spec.aspect_tolerance)
    if low <= ratio <= high:
        return []
    subject = "This image" if info.kind == "image" else "This video"
    if spec.aspect_min == spec.aspect_max:
        rule = f"must be {ratio_text(spec.aspect_min)} ({shape_word(spec.aspect_min)})"
    else:
        rule = (
            f"must be between {ratio_text(spec.aspect_min)} ({shape_word(spec.aspect_min)}) and "
            f"{ratio_text(spec.aspect_max)} ({shape_word(spec.aspect_max)})"
        )
    return [
        Problem(
            "aspect_ratio",
            f"{subject} is {ratio_text(ratio)} ({shape_word(ratio)}); {spec.label} {rule}. "
            f"{spec.aspect_advice}".strip(),
        )
    ]


def _check_duration(info: MediaInfo, spec: MediaSpec) -> list[Problem]:
    seconds = info.duration_seconds
    if seconds is None or (spec.min_seconds is None and spec.max_seconds is None):
        return []
    too_short = spec.min_seconds is not None and seconds < spec.min_seconds
    too_long = spec.max_seconds is not None and seconds > spec.max_seconds
    if not (too_short or too_long):
        return []
    if spec.min_seconds is not None and spec.max_seconds is not None:
        rule = f"must last between {duration_text(spec.min_seconds)} and {duration_text(spec.max_seconds)}"
    elif spec.min_seconds is not None:
        rule = f"must last at least {duration_text(spec.min_seconds)}"
    else:
        rule = f"can last at most {duration_text(spec.max_seconds)}"
    advice = " Make it longer." if too_short else " Trim it."
    return [Problem("duration", f"This video lasts {duration_text(seconds)}; {spec.label} {rule}.{advice}")]


def _check_frame_rate(info: MediaInfo, spec: MediaSpec) -> list[Problem]:
    fps = info.frame_rate
    if fps is None or (spec.min_fps is None and spec.max_fps is None):
        return []
    # 23.976 and 59.94 count as 24 and 60: compare with a small tolerance.
    if (spec.min_fps is None or fps >= spec.min_fps - 0.05) and (spec.max_fps is None or fps <= spec.max_fps + 0.05):
        return []
    return [
        Problem(
            "frame_rate",
            f"This video runs at {_number(fps)} frames per second; {spec.label} need "
            f"{_number(spec.min_fps)} to {_number(spec.max_fps)} frames per second. Export it again at 30 fps.",
        )
    ]


def _check_video_codec(info: MediaInfo, spec: MediaSpec) -> list[Problem]:
    if not spec.video_codecs or info.video_codec is None or info.video_codec in spec.video_codecs:
        return []
    allowed = _or_list(CODEC_NAMES.get(c, c) for c in sorted(spec.video_codecs, key=_codec_order))
    return [
        Problem(
            "video_codec",
            f"This video is encoded as {CODEC_NAMES.get(info.video_codec, info.video_codec)}; {spec.label} must be "
            f"encoded as {allowed}. Export it again as H.264.",
        )
    ]


def _check_audio(info: MediaInfo, spec: MediaSpec) -> list[Problem]:
    if not info.has_audio:
        return []  # a silent video is fine everywhere
    problems: list[Problem] = []
    if spec.audio_codecs and info.audio_codec and info.audio_codec not in spec.audio_codecs:
        allowed = _or_list(CODEC_NAMES.get(c, c) for c in sorted(spec.audio_codecs))
        problems.append(
            Problem(
                "audio_codec",
                f"The sound of this video is {CODEC_NAMES.get(info.audio_codec, info.audio_codec)}; {spec.label} "
                f"need {allowed} sound. Export it again with AAC audio.",
            )
        )
    if spec.max_audio_sample_rate and info.audio_sample_rate and info.audio_sample_rate > spec.max_audio_sample_rate:
        problems.append(
            Problem(
                "audio_sample_rate",
                f"The sound of this video is sampled at {_khz(info.audio_sample_rate)}; {spec.label} accept at "
                f"most {_khz(spec.max_audio_sample_rate)}. Export it again at 48 kHz.",
            )
        )
    if spec.max_audio_channels and info.audio_channels and info.audio_channels > spec.max_audio_channels:
        problems.append(
            Problem(
                "audio_channels",
                f"The sound of this video has {info.audio_channels} channels; {spec.label} accept mono or stereo "
                "only. Export it again in stereo.",
            )
        )
    return problems


def _check_pixel_format(info: MediaInfo, spec: MediaSpec) -> list[Problem]:
    fmt = info.pixel_format
    if not spec.chroma_420 or not fmt or fmt.startswith(("yuv420", "yuvj420", "nv12", "nv21", "p010")):
        return []
    return [
        Problem(
            "pixel_format",
            f"This video uses {fmt} colour sampling; {spec.label} need 4:2:0 (yuv420p). "
            "Export it again with standard H.264 settings.",
        )
    ]


def _check_faststart(info: MediaInfo, spec: MediaSpec) -> list[Problem]:
    if not spec.faststart or info.faststart is not False:
        return []
    return [
        Problem(
            "faststart",
            f"This video keeps its index (the moov atom) at the end of the file; {spec.label} need it at the start. "
            "SocialHub can move it without re-encoding the video.",
            fix=FIX_FASTSTART,
        )
    ]


def _recommend_format(info: MediaInfo, spec: MediaSpec) -> list[Problem]:
    if not spec.recommended_formats or info.format not in spec.formats or info.format in spec.recommended_formats:
        return []
    actual = FORMAT_NAMES.get(info.format or "", info.format or "")
    wanted = _or_list(FORMAT_NAMES.get(f, f) for f in sorted(spec.recommended_formats))
    return [
        Problem(
            "format_recommended",
            f"This video is a {actual} file; Meta recommends {wanted} for {spec.label}.",
            blocking=False,
        )
    ]


def _recommend_aspect(info: MediaInfo, spec: MediaSpec) -> list[Problem]:
    ratio = info.aspect_ratio
    target = spec.recommended_aspect
    if ratio is None or target is None or abs(ratio - target) / target <= 0.02:
        return []
    subject = "This image" if info.kind == "image" else "This video"
    return [
        Problem(
            "aspect_ratio_recommended",
            f"{subject} is {ratio_text(ratio)} ({shape_word(ratio)}); {ratio_text(target)} ({shape_word(target)}) is "
            f"recommended for {spec.label}, otherwise Instagram adds bars or crops it.",
            blocking=False,
        )
    ]


# --- captions -----------------------------------------------------------------------------------------------

_URL_STARTS = ("http://", "https://", "www.")
# A '#' or '@' glued to one of these is not a tag: "abc#def", "a@b.com", "&#123;", "path/#x".
_TAG_BLOCKERS = frozenset("&/#@_")


def check_instagram_caption(text: str) -> list[Problem]:
    """Caption rules of Instagram: length, hashtags and @-mentions, counted the way Instagram counts them."""
    problems: list[Problem] = []
    length = len(text)  # code points, as Instagram's counter shows them (verify for emoji sequences)
    if length > IG_CAPTION_MAX_CHARS:
        problems.append(
            Problem(
                "caption_length",
                f"This caption has {length:,} characters; Instagram allows at most {IG_CAPTION_MAX_CHARS:,}. "
                f"Shorten it by {length - IG_CAPTION_MAX_CHARS:,}.",
            )
        )
    hashtags = extract_hashtags(text)
    if len(hashtags) > IG_CAPTION_MAX_HASHTAGS:
        problems.append(
            Problem(
                "caption_hashtags",
                f"This caption has {len(hashtags)} hashtags; Instagram allows at most {IG_CAPTION_MAX_HASHTAGS}. "
                f"Remove {len(hashtags) - IG_CAPTION_MAX_HASHTAGS}.",
            )
        )
    mentions = extract_mentions(text)
    if len(mentions) > IG_CAPTION_MAX_MENTIONS:
        problems.append(
            Problem(
                "caption_mentions",
                f"This caption mentions {len(mentions)} accounts (@…); Instagram allows at most "
                f"{IG_CAPTION_MAX_MENTIONS}. Remove {len(mentions) - IG_CAPTION_MAX_MENTIONS}.",
            )
        )
    return problems


@dataclass(frozen=True)
class Count:
    label: str  # "characters", "hashtags", "mentions"
    used: int
    limit: int | None

    @property
    def over(self) -> bool:
        return self.limit is not None and self.used > self.limit


def caption_counts(text: str, platform: str) -> list[Count]:
    """The counters the composer shows for a caption on a platform ("instagram" or "facebook_page"), measured
    the way the caption rules measure them."""
    if platform == "instagram":
        return [
            Count("characters", len(text), IG_CAPTION_MAX_CHARS),
            Count("hashtags", len(extract_hashtags(text)), IG_CAPTION_MAX_HASHTAGS),
            Count("mentions", len(extract_mentions(text)), IG_CAPTION_MAX_MENTIONS),
        ]
    return [Count("characters", len(text), FB_POST_MAX_CHARS), Count("hashtags", len(extract_hashtags(text)), None)]


def check_facebook_caption(text: str) -> list[Problem]:
    if len(text) > FB_POST_MAX_CHARS:
        return [
            Problem(
                "caption_length",
                f"This text has {len(text):,} characters; a Facebook post holds at most {FB_POST_MAX_CHARS:,}. "
                f"Shorten it by {len(text) - FB_POST_MAX_CHARS:,}.",
            )
        ]
    return []


def extract_hashtags(text: str) -> list[str]:
    """Every hashtag occurrence, without the '#': letters, digits, '_' and combining marks in any script.

    Not counted: a '#' inside a URL (``https://x.com/page#top``), glued to a word (``abc#def``), or followed
    by digits only (``#1``).
    """
    return [tag for tag in _tags(text, "#") if not tag.isdigit()]


def extract_mentions(text: str) -> list[str]:
    """Every @-mention occurrence, without the '@': Instagram usernames are letters, digits, '.' and '_'."""
    return _tags(text, "@")


def _tags(text: str, sigil: str) -> list[str]:
    text = _blank_urls(text)
    found: list[str] = []
    i = 0
    while i < len(text):
        if text[i] != sigil or (i > 0 and _glued(text[i - 1])):
            i += 1
            continue
        j = i + 1
        while j < len(text) and (_username_char(text[j]) if sigil == "@" else _hashtag_char(text[j])):
            j += 1
        tag = text[i + 1 : j]
        if sigil == "@":
            tag = tag.rstrip(".")  # a sentence ending with "@brand." mentions "brand"
        if tag:
            found.append(tag)
        i = max(j, i + 1)
    return found


def _blank_urls(text: str) -> str:
    """Replace each URL by spaces so that its '#fragment' or '@' is not read as a tag."""
    out = list(text)
    lowered = text.lower()
    i = 0
    while i < len(text):
        if (i == 0 or not _word_char(text[i - 1])) and lowered.startswith(_URL_STARTS, i):
            j = i
            while j < len(text) and not text[j].isspace():
                out[j] = " "
                j += 1
            i = j
        else:
            i += 1
    return "".join(out)


def _word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_" or unicodedata.category(ch).startswith("M")


def _hashtag_char(ch: str) -> bool:
    return _word_char(ch)


def _username_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch in "._")


def _glued(previous: str) -> bool:
    return _word_char(previous) or previous in _TAG_BLOCKERS


# --- wording helpers ----------------------------------------------------------------------------------------


def ratio_text(ratio: float | None) -> str:
    """1.0 → "1:1", 0.8 → "4:5", 0.3333 → "1:3", 1.908 → "1.91:1", 0.771 → "1:1.3", 3.7 → "3.7:1"."""
    if not ratio:
        return "?"
    for value, name in NAMED_RATIOS:
        if abs(ratio - value) / value <= 0.005:
            return name
    if ratio >= 1:
        return f"{ratio:.2f}".rstrip("0").rstrip(".") + ":1"
    return "1:" + f"{1 / ratio:.2f}".rstrip("0").rstrip(".")


def shape_word(ratio: float | None) -> str:
    if not ratio:
        return "unknown shape"
    if abs(ratio - 1) <= 0.01:
        return "square"
    if ratio < 1:
        return "portrait" if ratio >= 0.75 else "tall"
    return "landscape" if ratio <= 2.0 else "wide"


def size_text(size: int | None) -> str:
    size = size or 0
    if size >= GB:
        return f"{size / GB:.1f}".rstrip("0").rstrip(".") + " GB"
    if size >= MB:
        return f"{size / MB:.1f}".rstrip("0").rstrip(".") + " MB"
    return f"{max(1, round(size / 1000))} KB"


def duration_text(seconds: float | None) -> str:
    seconds = seconds or 0
    if seconds < 120:  # "90 seconds", as Meta words its limits
        value = f"{seconds:.1f}".rstrip("0").rstrip(".")
        return f"{value} second" + ("" if value == "1" else "s")
    if seconds >= 3600 and seconds % 3600 == 0:
        hours = int(seconds // 3600)
        return f"{hours} hour" + ("" if hours == 1 else "s")
    minutes, rest = divmod(round(seconds), 60)
    if rest == 0:
        return f"{minutes} minute" + ("" if minutes == 1 else "s")
    return f"{minutes} min {rest} s"


def _number(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _khz(rate: int) -> str:
    return f"{rate / 1000:.1f}".rstrip("0").rstrip(".") + " kHz"


def _or_list(items) -> str:  # type: ignore[no-untyped-def]
    items = list(dict.fromkeys(items))
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


def _format_order(fmt: str) -> int:
    order = ["jpeg", "png", "gif", "bmp", "tiff", "mp4", "mov"]
    return order.index(fmt) if fmt in order else len(order)


def _codec_order(codec: str) -> int:
    order = ["h264", "hevc", "vp9", "av1"]
    return order.index(codec) if codec in order else len(order)
