"""Errors of the publishing endpoints (Instagram containers, Page posts, photos, videos, reels, rupload).

Sources:
- [IGE] developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/error-codes — the table of
  HTTP status / code / subcode / user message for content publishing (2207xxx); quoted per builder.
- Answers Meta sent, as quoted in public code and issue threads: 9007/2207027 "Media ID is not available" with
  error_user_title "Cannot Publish"; 9004/2207052 "Only photo or video can be accepted as media type." with
  error_user_title "Media download has failed."; 9/2207042 "Application request limit reached".
- [PF] developers.facebook.com/docs/graph-api/reference/page/feed (seed 002) for Page post errors.
Texts marked (verify) are the sandbox's reconstruction.
"""

from __future__ import annotations

from .errors import MetaError


def ig(code: int, subcode: int, message: str, title: str | None, user_msg: str, transient=False) -> MetaError:
    return MetaError(400, message, "OAuthException", code, subcode, transient, title, user_msg)


# ---------------------------------------------------------------- media fetch / image checks ([IGE])
def download_failed(uri: str) -> MetaError:
    # [IGE] 400 / 9004 / 2207052 "The media could not be fetched from this uri: {uri}"
    return ig(
        9004,
        2207052,
        "Only photo or video can be accepted as media type.",
        "Media download has failed.",
        f"The media could not be fetched from this uri: {uri}",
    )


def download_timeout() -> MetaError:
    # [IGE] 400 / -2 / 2207003 "It takes too long to download the media."
    return ig(-2, 2207003, "Timeout", "Download timeout", "It takes too long to download the media.", True)


def image_too_large(limit_text="8 MiB") -> MetaError:
    # [IGE] sample response: 36000 / 2207004 "The image size is too large." / "Image size too large"
    return ig(
        36000,
        2207004,
        "The image size is too large.",
        "Image size too large",
        f"The image is too large to download. It should be less than {limit_text}.",
    )


def image_format(found: str, supported="JPEG") -> MetaError:
    # [IGE] 36001 / 2207005 "The image format {current-image-format} is not supported. Supported formats are: {format}."
    return ig(
        36001,
        2207005,
        "The image format is not supported.",
        "Unsupported image format",
        f"The image format {found} is not supported. Supported formats are: {supported}.",
    )


def aspect_ratio(ratio: float) -> MetaError:
    # [IGE] 36003 / 2207009 "The submitted image with aspect ratio {r} cannot be published..." (4:5 to 1.91:1)
    return ig(
        36003,
        2207009,
        "The aspect ratio is not supported.",
        "Invalid aspect ratio",
        f"The submitted image with aspect ratio ('{ratio:.4g}') cannot be published. "
        "Please submit an image with a valid aspect ratio.",
    )


# ---------------------------------------------------------------- parameters ([IGE] code 100 rows)
def caption_too_long(length: int, maximum: int) -> MetaError:
    # [IGE] 36004 / 2207010 (max 2,200 characters, 30 hashtags, 20 @ tags)
    return ig(
        36004,
        2207010,
        "The caption is too long.",
        "Caption too long",
        f"The submitted image's caption was {length} characters long. The maximum number of characters "
        f"permitted for a caption is {maximum}. Please submit media with a shorter caption.",
    )


def too_many_hashtags(count: int, maximum: int) -> MetaError:
    # [IGE] 2207010's solution: "Maximum 2,200 characters, 30 hashtags" (same code; text: verify)
    return ig(
        36004,
        2207010,
        "The caption has too many hashtags.",
        "Too many hashtags",
        f"The submitted caption has {count} hashtags. The maximum number of hashtags permitted is {maximum}.",
    )


def too_many_mentions(maximum: int) -> MetaError:
    # [IGE] 100 / 2207040 "Cannot use more than {max-tag-count} tags per created media." (20 @ tags)
    return ig(
        100,
        2207040,
        "Invalid parameter",
        "Too many tags",
        f"Cannot use more than {maximum} tags per created media.",
    )


def unknown_media_type(value: str) -> MetaError:
    # [IGE] 100 / 2207023 "The media type {media-type} is unknown."
    return ig(100, 2207023, "Invalid parameter", "Unknown media type", f"The media type {value} is unknown.")


def video_not_standalone() -> MetaError:
    # Feed videos are published as REELS; VIDEO stays only for carousel items (graph-api README "Errors":
    # 100 / 2207089 seen in the wild; text: verify)
    return ig(
        100,
        2207089,
        "Invalid parameter",
        "Unsupported media type",
        "The VIDEO media type is only supported for carousel items. Use media_type=REELS to publish a video.",
    )


def carousel_count() -> MetaError:
    # [IGE] 100 / 2207028
    return ig(
        100,
        2207028,
        "Invalid parameter",
        "Carousel not valid",
        "Your post won't work as a carousel. Carousels need at least 2 photos/videos "
        "and no more than 10 photos/videos.",
    )


def product_tags_on_video() -> MetaError:
    # [IGE] 100 / 2207035
    return ig(
        100, 2207035, "Invalid parameter", "Invalid product tags",
        "Product tag positions should not be specified for video media.",
    )  # fmt: skip


def product_tags_need_xy() -> MetaError:
    # [IGE] 100 / 2207036
    return ig(
        100, 2207036, "Invalid parameter", "Invalid product tags", "Product tag positions are required for photo media."
    )


def product_not_found() -> MetaError:
    # [IGE] 100 / 2207037
    return ig(
        100,
        2207037,
        "Invalid parameter",
        "Invalid product tags",
        "We couldn't add all of your product tags. The product ID may be incorrect, the product may be deleted, "
        "or you may not have permission to tag the product.",
    )


def param(message: str) -> MetaError:
    # [EH] code 100 "Invalid parameter" for the parameter rules Meta documents without a dedicated subcode
    return MetaError(400, message, "OAuthException", 100)


# ---------------------------------------------------------------- publishing ([IGE])
def not_ready() -> MetaError:
    # [IGE] 9007 / 2207027 "The media is not ready for publishing, please wait for a moment"; message and title
    # as answered by Meta (quoted answers: "Media ID is not available", "Cannot Publish")
    return ig(
        9007,
        2207027,
        "Media ID is not available",
        "Cannot Publish",
        "The media is not ready for publishing, please wait for a moment",
    )


def already_published() -> MetaError:
    # Meta documents no error for publishing a container twice; the container is no longer available to
    # publish, so the sandbox answers the same 9007 / 2207027 "Media ID is not available" (verify)
    return not_ready()


def container_expired() -> MetaError:
    # [IGE] -2 / 2207020 "The media you are trying to access has expired. Please try to upload again."
    return ig(
        -2,
        2207020,
        "The media you are trying to access has expired.",
        "Media expired",
        "The media you are trying to access has expired. Please try to upload again.",
    )


def builder_not_found(creation_id: str) -> MetaError:
    # [IGE] 24 / 2207008 "The media builder with creation id = {id} does not exist or has been expired."
    return ig(
        24,
        2207008,
        "Media builder not found",
        "Media not found",
        f"The media builder with creation id = {creation_id} does not exist or has been expired.",
    )


def media_not_found(media_id: str) -> MetaError:
    # [IGE] 24 / 2207006 "The media with {media-id} cannot be found"
    return ig(24, 2207006, "Media not found", "Media not found", f"The media with {media_id} cannot be found")


def publishing_limit() -> MetaError:
    # [IGE] 9 / 2207042 "You reached maximum number of posts that is allowed to be published by Content
    # Publishing API."; message as answered by Meta ("Application request limit reached")
    return ig(
        9,
        2207042,
        "Application request limit reached",
        "Maximum number of posts reached",
        "You reached maximum number of posts that is allowed to be published by Content Publishing API.",
    )


def processing_failed(subcode: int) -> MetaError:
    """Publishing a container whose processing failed answers the error it failed with (verify)."""
    if subcode == 2207052:
        return download_failed("the media")
    return ig(
        352,
        subcode,
        "The video format is not supported.",
        "Unsupported video format",
        "The video format is not supported. Please check spec for supported video format",
    )


def container_status_text(status_code: str, subcode: int | None = None) -> str:
    # ERROR: "Error: Media upload has failed with error code 2207026" (Meta's status text, quoted in public
    # client tests); the other texts are the sandbox's (verify)
    return {
        "ERROR": f"Error: Media upload has failed with error code {subcode}",
        "FINISHED": "Finished: Media has been uploaded and it is ready to be published.",
        "IN_PROGRESS": "In Progress: Media is still being processed.",
        "PUBLISHED": "Published: Media has been successfully published.",
        "EXPIRED": "Expired: Media was not published within 24 hours.",
    }[status_code]


# ---------------------------------------------------------------- Page publishing ([PF], seed 002)
def page_publish_permission() -> MetaError:
    # Graph's answer to a post without both permissions (quoted widely; verify status)
    return MetaError(
        403,
        "(#200) If posting to a page, requires both pages_read_engagement and pages_manage_posts as an admin "
        "with sufficient administrative permission",
        "OAuthException",
        200,
    )


def missing_message_or_attachment() -> MetaError:
    # Graph's answer to a feed post with neither message, link nor attachment (verify)
    return param("(#100) Missing message or attachment")


def scheduled_time_invalid() -> MetaError:
    # seed 002: scheduled_publish_time must be 10 minutes to 75 days from the request (text: verify)
    return param("(#100) The specified scheduled publish time is invalid.")


def scheduled_on_published() -> MetaError:
    # seed 002: scheduling needs published=false (text: verify)
    return param("(#100) You cannot specify a scheduled publish time on a published post")


def feed_limit() -> MetaError:
    # seed 002: "you can read at most 100 feed posts with limit; asking for more is an error" (text: verify)
    return param("(#100) The limit parameter on /feed cannot exceed 100")


def photo_invalid() -> MetaError:
    # Graph's answer when a photo cannot be read (code 324 "Missing or invalid image file"; verify)
    return MetaError(400, "(#324) Missing or invalid image file", "OAuthException", 324)


def photo_required() -> MetaError:
    return MetaError(400, "(#324) Requires upload file", "OAuthException", 324)


def video_required() -> MetaError:
    # Page videos need file_url, source or an upload session (text: verify)
    return param("(#100) The video file is missing: send file_url, source or use upload_phase")


def upload_error(message: str, status=400, kind="ProcessingFailedError") -> tuple:
    """rupload answers errors as {"debug_info": {"retriable", "type", "message"}} (verify shape)."""
    return status, {"debug_info": {"retriable": False, "type": kind, "message": message}}
