"""Publishing limits in one place, each with the Meta page it comes from.

[IGU] developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media (seed 001)
[IGE] .../instagram-graph-api/reference/error-codes
[CP]  developers.facebook.com/docs/instagram-platform/content-publishing
[CPL] .../reference/ig-user/content_publishing_limit (seed 003)
[RP]  developers.facebook.com/docs/video-api/guides/reels-publishing
[PF]  developers.facebook.com/docs/graph-api/reference/page/feed (seed 002)
[PH]  developers.facebook.com/docs/graph-api/reference/page/photos
"""

# Instagram containers
CAPTION_MAX = 2200  # [IGE] 2207010: 2,200 characters
HASHTAGS_MAX = 30  # [IGE] 2207010: 30 hashtags
MENTIONS_MAX = 20  # [IGE] 2207040: 20 @ tags
CAROUSEL_MIN, CAROUSEL_MAX = 2, 10  # [IGE] 2207028; seed 001 "up to 10"
COLLABORATORS_MAX = 3  # [IGU] collaborators: "up to 3" (verify)
IMAGE_MAX_BYTES = 8 * 1024 * 1024  # [IGE] 2207004 "less than 8 MiB"
IMAGE_FORMATS = ("JPEG",)  # [IGU] image specifications: JPEG only (graph-api README)
ASPECT_MIN, ASPECT_MAX = 4 / 5, 1.91  # [IGE] 2207009 "4:5 to 1.91:1"
VIDEO_CONTAINERS = ("mov", "mp4", "m4a", "3gp", "3g2", "mj2")  # ffprobe format_name of MP4/MOV [IGU]
VIDEO_CODECS = ("h264", "hevc")  # [IGU] video specifications: H264 or HEVC
REELS_SECONDS = (3, 15 * 60)  # [IGU] reels: 3 seconds to 15 minutes
STORY_VIDEO_SECONDS = (3, 60)  # [IGU] stories: 3 to 60 seconds
CAROUSEL_VIDEO_SECONDS = (3, 60)  # [IGU] carousel videos: 3 to 60 seconds (verify)
REELS_MAX_BYTES = 1024 * 1024 * 1024  # [IGU] reels: 1 GB (verify; stories 100 MB)
STORY_VIDEO_MAX_BYTES = 100 * 1024 * 1024
CONTAINER_TTL = 24 * 3600  # [CP] "containers expire after 24 hours"
QUOTA_TOTAL = 100  # [CP]/[CPL] "100 API-published posts within a 24-hour moving period"
QUOTA_DURATION = 86400  # [CPL] config.quota_duration
# Status polling: [CP] recommends "once per minute for no more than 5 minutes"; the sandbox flags a poll of
# the same container or video sooner than this after the previous one (the tolerance the suite holds to).
POLL_MIN_INTERVAL = 5

# processing delays on the sandbox clock (control /__sandbox__/processing)
VIDEO_SECONDS = 3.0
IMAGE_SECONDS = 0.0

# Facebook Pages
SCHEDULE_MIN = 10 * 60  # [PF] seed 002: 10 minutes …
SCHEDULE_MAX = 75 * 86400  # … to 75 days from the request
FEED_LIMIT_MAX = 100  # [PF] seed 002: at most 100 posts per call
PHOTO_MAX_BYTES = 4 * 1024 * 1024  # [PH] "less than 4MB" (verify)
PHOTO_FORMATS = ("JPEG", "PNG", "GIF", "BMP", "TIFF", "WEBP", "HEIF")  # [PH] supported formats (verify)
REEL_SECONDS = (3, 90)  # [RP] "Duration 3 to 90 seconds"
PAGE_VIDEO_CODECS = ("h264", "hevc", "vp8", "vp9", "av1", "mpeg4")  # Page videos: common codecs (verify)
# [PF] seed 002 / spec: call_to_action types for Page link posts
CTA_TYPES = (
    "BOOK_TRAVEL", "BUY_NOW", "CALL_NOW", "DOWNLOAD", "GET_DIRECTIONS", "GET_QUOTE", "INSTALL_APP",
    "INSTALL_MOBILE_APP", "LEARN_MORE", "LIKE_PAGE", "LISTEN_MUSIC", "MESSAGE_PAGE", "NO_BUTTON", "OPEN_LINK",
    "PLAY_GAME", "SHOP_NOW", "SIGN_UP", "SUBSCRIBE", "USE_APP", "USE_MOBILE_APP", "WATCH_MORE", "WATCH_VIDEO",
)  # fmt: skip

FETCH_TIMEOUT = 10.0  # seconds the sandbox waits for a media URL
