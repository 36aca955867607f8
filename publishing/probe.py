"""Read what a media file really is, so the publishing rules in ``publishing.specs`` can judge it.

Images are read with Pillow; videos with ``ffprobe`` (Debian's ``ffmpeg`` package). Nothing here raises for
a bad file: ``probe_file`` returns a ``MediaInfo`` whose ``error`` says, in plain words, what went wrong.
Only ``thumbnail`` raises, and only ``ProbeError`` with a message that can be shown to the user.

This module is pure: no Django import, no database, so it can run in a web request, a Celery task or a test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

try:  # HEIF/HEIC support is optional: without pillow-heif such photos are reported as unreadable.
    import pillow_heif  # type: ignore[import-not-found]

    pillow_heif.register_heif_opener()
except Exception:  # pragma: no cover - depends on the machine
    pillow_heif = None

# Binaries are looked up on PATH at call time; tests point these at a missing name to check the message.
FFPROBE = "ffprobe"
FFMPEG = "ffmpeg"
FFPROBE_TIMEOUT_SECONDS = 30
FFMPEG_TIMEOUT_SECONDS = 60

# The most pixels an image may have. Meta never shows more than 1440 px (Instagram scales wider images down) or
# 2048 px (Facebook) on the longer side, so this bound only refuses files no camera makes: it keeps 48 MP phone
# photos, while one decoded frame stays under 200 MB. Checked from the header, before any pixel is decoded.
MAX_IMAGE_PIXELS = 50_000_000
TOO_MANY_PIXELS_MESSAGE = (
    "This image{size} has {megapixels} megapixels; SocialHub accepts at most 50 megapixels. "
    "Export it smaller (Meta shows at most 2048 pixels on the longer side) and upload it again."
)

UNKNOWN_FILE_MESSAGE = "This file is not an image or a video SocialHub can read."
EMPTY_FILE_MESSAGE = "This file is empty."
MISSING_FILE_MESSAGE = "This file could not be found."
NO_FFPROBE_MESSAGE = (
    "Videos cannot be checked on this server because FFmpeg (ffprobe) is not installed. "
    "Ask your administrator to install it."
)
NO_FFMPEG_MESSAGE = (
    "Video previews cannot be made on this server because FFmpeg is not installed. "
    "Ask your administrator to install it."
)

IMAGE_MIME_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "bmp": "image/bmp",
    "tiff": "image/tiff",
    "heif": "image/heif",
    "avif": "image/avif",
}
VIDEO_MIME_TYPES = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
    "mkv": "video/x-matroska",
    "avi": "video/x-msvideo",
}
# Pillow's format names → ours.
PILLOW_FORMATS = {
    "JPEG": "jpeg",
    "MPO": "jpeg",  # multi-picture JPEG from some cameras: the first picture is a normal JPEG
    "PNG": "png",
    "GIF": "gif",
    "WEBP": "webp",
    "BMP": "bmp",
    "TIFF": "tiff",
    "HEIF": "heif",
    "AVIF": "avif",
}
# Our format names → the only Pillow decoders an image of that format may be opened with. Opening a file with
# its sniffed decoder alone means no other plugin (PostScript/EPS through Ghostscript above all) ever sees it.
PILLOW_DECODERS = {
    "jpeg": ("JPEG", "MPO"),
    "png": ("PNG",),
    "gif": ("GIF",),
    "webp": ("WEBP",),
    "bmp": ("BMP",),
    "tiff": ("TIFF",),
    "heif": ("HEIF",),
    "avif": ("AVIF",),
}
# Our video format names → the FFmpeg demuxer forced on the input, so no playlist, concat or image-sequence
# demuxer can be picked from the file's content and open other paths.
FFMPEG_DEMUXERS = {"mp4": "mov", "mov": "mov", "webm": "matroska", "mkv": "matroska", "avi": "avi"}
# ISO base media ("ftyp") brands that mean a still image rather than a video.
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"mif2"}
AVIF_BRANDS = {b"avif", b"avis"}
# EXIF orientation → clockwise rotation needed to display the picture upright.
EXIF_ROTATION = {1: 0, 2: 0, 3: 180, 4: 180, 5: 90, 6: 90, 7: 270, 8: 270}


class ProbeError(Exception):
    """A media file could not be read or previewed. ``str(error)`` is a sentence for the user."""


class ImageTooLarge(ProbeError):
    """The image header announces more than ``MAX_IMAGE_PIXELS`` pixels."""


class ProcessTimeout(Exception):
    """An external program ran past its wall-clock limit and was killed with its children."""


@dataclass(frozen=True)
class MediaInfo:
    """What a file is. Dimensions are as displayed (EXIF orientation / video rotation already applied)."""

    kind: str  # "image" | "video" | "unknown"
    format: str | None = None  # "jpeg", "png", "webp", "gif", "heif", "mp4", "mov", …
    mime_type: str | None = None
    size_bytes: int = 0
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None
    frame_rate: float | None = None
    video_codec: str | None = None  # ffprobe codec names: "h264", "hevc", "vp9", …
    audio_codec: str | None = None  # None when there is no sound track
    audio_sample_rate: int | None = None
    audio_channels: int | None = None
    pixel_format: str | None = None  # "yuv420p", …; for images Pillow's mode ("RGB", "RGBA", …)
    has_audio: bool = False
    has_alpha: bool = False  # images with transparency
    animated: bool = False  # images with more than one frame (animated GIF/WebP)
    faststart: bool | None = None  # MP4/MOV: True when the moov atom comes before mdat; None if unknown
    rotation: int = 0  # degrees; 90/270 mean width and height were swapped to the displayed size
    filename: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def aspect_ratio(self) -> float | None:
        """Width divided by height, as displayed."""
        if not self.width or not self.height:
            return None
        return self.width / self.height


# --- public API ---------------------------------------------------------------------------------------------


def probe_file(path: str | Path, *, filename: str | None = None) -> MediaInfo:
    """Describe the media file at ``path``. ``filename`` is the name the user uploaded (for messages)."""
    path = Path(path)
    shown_name = filename or path.name
    try:
        size = path.stat().st_size
    except OSError:
        return MediaInfo(kind="unknown", filename=shown_name, error=MISSING_FILE_MESSAGE)
    if size == 0:
        return MediaInfo(kind="unknown", filename=shown_name, error=EMPTY_FILE_MESSAGE)
    try:
        with path.open("rb") as fh:
            head = fh.read(64)
    except OSError:
        return MediaInfo(kind="unknown", size_bytes=size, filename=shown_name, error=MISSING_FILE_MESSAGE)

    kind, fmt = sniff(head)
    if kind == "image":
        return _probe_image(path, size, fmt, shown_name)
    if kind == "video":
        return _probe_video(path, size, fmt, shown_name)
    return MediaInfo(kind="unknown", size_bytes=size, filename=shown_name, error=UNKNOWN_FILE_MESSAGE)


def thumbnail(path: str | Path, dest: str | Path, *, info: MediaInfo | None = None, max_size: int = 480) -> Path:
    """Write a JPEG preview of an image or video, at most ``max_size`` px on its longer side.

    ``info`` is the file's probe when the caller has it (the file is not read twice). Raises ``ProbeError``
    (with a sentence for the user) when the file cannot be previewed.
    """
    path, dest = Path(path), Path(dest)
    info = info or probe_file(path)
    if info.error:
        raise ProbeError(info.error)
    if info.kind == "image":
        return _image_thumbnail(path, dest, max_size, info.format)
    if info.kind == "video":
        return _video_thumbnail(path, dest, max_size, info)
    raise ProbeError(UNKNOWN_FILE_MESSAGE)


@contextmanager
def open_image(path: str | Path, fmt: str | None) -> Iterator[Image.Image]:
    """Open an image with the decoder of its sniffed format only, refusing a pixel count above the bound from
    the header alone. Pillow's decompression-bomb warning is an error here. Raises ``ImageTooLarge``,
    ``UnidentifiedImageError`` (no decoder for this format) or Pillow's own errors for damaged files."""
    Image.init()
    decoders = [name for name in PILLOW_DECODERS.get(fmt or "", ()) if name in Image.OPEN]
    if not decoders:
        raise UnidentifiedImageError(f"no decoder allowed for {fmt!r}")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            opened = Image.open(path, formats=decoders)
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            pixels = re.search(r"\((\d+) pixels\)", str(exc))  # Pillow: "Image size (N pixels) exceeds limit …"
            megapixels = round(int(pixels.group(1)) / 1e6) if pixels else "too many"
            raise ImageTooLarge(TOO_MANY_PIXELS_MESSAGE.format(size="", megapixels=megapixels)) from exc
        with opened as im:
            width, height = im.size
            if width * height > MAX_IMAGE_PIXELS:
                size = f" is {width}×{height} pixels and"
                raise ImageTooLarge(TOO_MANY_PIXELS_MESSAGE.format(size=size, megapixels=round(width * height / 1e6)))
            yield im


def run_limited(command: list[str], *, timeout: float) -> subprocess.CompletedProcess[bytes]:
    """Run an external program with a wall-clock limit. It runs in its own process group, and past the limit
    the whole group is killed (helpers it started included) before ``ProcessTimeout`` is raised."""
    process = subprocess.Popen(  # noqa: S603 - fixed argument list, never a shell
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise ProcessTimeout(command[0]) from None
    except BaseException:
        _kill_group(process)
        raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.communicate()


def ffmpeg_input(path: str | Path, fmt: str | None) -> list[str]:
    """FFmpeg/ffprobe input arguments that read exactly this one local file with its sniffed demuxer."""
    demuxer = FFMPEG_DEMUXERS.get(fmt or "")
    if demuxer is None:
        raise ProbeError(UNKNOWN_FILE_MESSAGE)
    return ["-f", demuxer, "-protocol_whitelist", "file", "-i", f"file:{Path(path).resolve()}"]


def sniff(head: bytes) -> tuple[str, str | None]:
    """Guess (kind, format) from the first bytes of a file, without trusting its name."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image", "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image", "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image", "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image", "webp"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video", "avi"
    if head[:2] == b"BM" and len(head) >= 26:
        return "image", "bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image", "tiff"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "video", "webm" if b"webm" in head else "mkv"
    if head[4:8] == b"ftyp":
        major = head[8:12]
        brands = {major} | {head[i : i + 4] for i in range(16, min(len(head), 64) - 3, 4)}
        if major in AVIF_BRANDS:
            return "image", "avif"
        if major in HEIF_BRANDS or (brands & HEIF_BRANDS and not brands & {b"isom", b"mp41", b"mp42", b"qt  "}):
            return "image", "heif"
        if major == b"qt  ":
            return "video", "mov"
        return "video", "mp4"
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"):
        return "video", "mov"  # old QuickTime files have no ftyp box
    return "unknown", None


def mp4_faststart(path: str | Path) -> bool | None:
    """True when the ``moov`` atom comes before ``mdat`` at the top level of an MP4/MOV file.

    Walks the top-level boxes only (a few reads even for a large file). None when neither box is found.
    """
    try:
        with Path(path).open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            end = fh.tell()
            offset = 0
            for _ in range(10_000):
                if offset + 8 > end:
                    return None
                fh.seek(offset)
                header = fh.read(8)
                if len(header) < 8:
                    return None
                size, box_type = struct.unpack(">I4s", header)
                if size == 1:  # 64-bit size follows the type
                    large = fh.read(8)
                    if len(large) < 8:
                        return None
                    size = struct.unpack(">Q", large)[0]
                elif size == 0:  # box runs to the end of the file
                    size = end - offset
                if box_type == b"moov":
                    return True
                if box_type == b"mdat":
                    return False
                if size < 8:
                    return None  # corrupt box header
                offset += size
    except OSError:
        return None
    return None


# --- images -------------------------------------------------------------------------------------------------


def _probe_image(path: Path, size: int, sniffed: str | None, shown_name: str) -> MediaInfo:
    base = {
        "kind": "image",
        "format": sniffed,
        "mime_type": IMAGE_MIME_TYPES.get(sniffed or ""),
        "size_bytes": size,
        "filename": shown_name,
    }
    try:
        with open_image(path, sniffed) as im:
            im.verify()
        with open_image(path, sniffed) as im:  # verify() leaves the image unusable: reopen to read it
            fmt = PILLOW_FORMATS.get(im.format or "", sniffed)
            width, height = im.size
            orientation = _exif_orientation(im)
            animated = bool(getattr(im, "is_animated", False))
            mode = im.mode
            has_alpha = mode in ("RGBA", "LA", "PA", "La", "RGBa") or (mode == "P" and "transparency" in im.info)
            im.load()  # decode the pixels: catches truncated files that verify() lets through
    except ImageTooLarge as exc:
        return MediaInfo(**base, error=str(exc))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return MediaInfo(**base, error="This image has too many pixels to be processed safely.")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, struct.error):
        if sniffed in ("heif", "avif") and not _pillow_reads(sniffed):
            name = "HEIF/HEIC" if sniffed == "heif" else "AVIF"
            return MediaInfo(
                **base,
                error=f"This {name} photo cannot be read on this server. "
                "Export it as JPEG from your phone or photo app and upload it again.",
            )
        return MediaInfo(**base, error="This image is damaged or incomplete and cannot be read.")

    rotation = EXIF_ROTATION.get(orientation, 0)
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return MediaInfo(
        kind="image",
        format=fmt,
        mime_type=IMAGE_MIME_TYPES.get(fmt or ""),
        size_bytes=size,
        width=width,
        height=height,
        pixel_format=mode,
        has_alpha=has_alpha,
        animated=animated,
        rotation=rotation,
        filename=shown_name,
    )


def _exif_orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(0x0112, 1)
        return int(value) if int(value) in EXIF_ROTATION else 1
    except Exception:
        return 1


def _pillow_reads(fmt: str) -> bool:
    return fmt.upper() in Image.registered_extensions().values() or (fmt == "heif" and pillow_heif is not None)


def _image_thumbnail(path: Path, dest: Path, max_size: int, fmt: str | None) -> Path:
    """Decode no more than the preview needs: JPEGs at a reduced scale (``draft``), others shrunk by whole
    factors (``reduce``) before the final resampling; the EXIF rotation is applied to the small picture."""
    try:
        with open_image(path, fmt) as im:
            im.seek(0)
            orientation = _exif_orientation(im)
            im.thumbnail((max_size, max_size), Image.Resampling.LANCZOS, reducing_gap=2.0)
            frame = flatten_on_white(im)
            if orientation != 1:
                frame = _apply_orientation(frame, orientation)
            dest.parent.mkdir(parents=True, exist_ok=True)
            frame.save(dest, "JPEG", quality=85)
    except ImageTooLarge:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombWarning) as exc:
        raise ProbeError("A preview of this image could not be made.") from exc
    return dest


def _apply_orientation(im: Image.Image, orientation: int) -> Image.Image:
    method = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }.get(orientation)
    return im.transpose(method) if method is not None else im


def flatten_on_white(im: Image.Image) -> Image.Image:
    """An RGB picture: transparency laid on white, 16-bit greyscale scaled to 8 bits first."""
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        return im.point(lambda value: value / 256).convert("L").convert("RGB")
    return im.convert("RGB")


# --- videos -------------------------------------------------------------------------------------------------


def _probe_video(path: Path, size: int, sniffed: str | None, shown_name: str) -> MediaInfo:
    base = {
        "kind": "video",
        "format": sniffed,
        "mime_type": VIDEO_MIME_TYPES.get(sniffed or ""),
        "size_bytes": size,
        "filename": shown_name,
    }
    binary = shutil.which(FFPROBE)
    if binary is None:
        return MediaInfo(**base, error=NO_FFPROBE_MESSAGE)
    command = [
        binary, "-v", "error", *ffmpeg_input(path, sniffed), "-print_format", "json", "-show_format", "-show_streams",
    ]  # fmt: skip
    try:
        result = run_limited(command, timeout=FFPROBE_TIMEOUT_SECONDS)
    except FileNotFoundError:
        return MediaInfo(**base, error=NO_FFPROBE_MESSAGE)
    except ProcessTimeout:
        return MediaInfo(**base, error="Reading this video took too long; the file may be damaged.")
    try:
        data = json.loads(result.stdout or b"{}")
    except ValueError:
        data = {}
    streams = data.get("streams") or []
    video = next(
        (s for s in streams if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")),
        None,
    )
    if result.returncode != 0 or video is None:
        if result.returncode == 0 and streams:
            return MediaInfo(**{**base, "kind": "unknown"}, error="This file has no picture track: it is not a video.")
        return MediaInfo(**base, error="This video is damaged or incomplete and cannot be read.")
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)

    width, height = _int(video.get("width")), _int(video.get("height"))
    rotation = _video_rotation(video)
    if rotation in (90, 270):
        width, height = height, width
    fmt = sniffed or _format_from_name(data.get("format", {}).get("format_name", ""))
    duration = _float(data.get("format", {}).get("duration")) or _float(video.get("duration"))
    return MediaInfo(
        kind="video",
        format=fmt,
        mime_type=VIDEO_MIME_TYPES.get(fmt or ""),
        size_bytes=size,
        width=width,
        height=height,
        duration_seconds=duration,
        frame_rate=_frame_rate(video),
        video_codec=video.get("codec_name"),
        audio_codec=audio.get("codec_name") if audio else None,
        audio_sample_rate=_int(audio.get("sample_rate")) if audio else None,
        audio_channels=_int(audio.get("channels")) if audio else None,
        pixel_format=video.get("pix_fmt"),
        has_audio=audio is not None,
        faststart=mp4_faststart(path) if fmt in ("mp4", "mov") else None,
        rotation=rotation,
        filename=shown_name,
    )


def _video_rotation(stream: dict) -> int:
    """Rotation in degrees (0, 90, 180, 270) from the display matrix side data or the legacy ``rotate`` tag."""
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            value = _float(side.get("rotation"))
            if value is not None:
                return int(round(value)) % 360
    value = _float((stream.get("tags") or {}).get("rotate"))
    return int(round(value)) % 360 if value is not None else 0


def _frame_rate(stream: dict) -> float | None:
    for key in ("avg_frame_rate", "r_frame_rate"):
        raw = stream.get(key) or ""
        if "/" in raw:
            num, _, den = raw.partition("/")
            try:
                if float(den) and float(num):
                    return round(float(num) / float(den), 3)
            except ValueError:
                continue
    return None


def _format_from_name(format_name: str) -> str | None:
    names = format_name.split(",")
    if "mp4" in names:
        return "mp4"
    if "mov" in names:
        return "mov"
    if "webm" in names:
        return "webm"
    if "matroska" in names:
        return "mkv"
    return names[0] or None


def _video_thumbnail(path: Path, dest: Path, max_size: int, info: MediaInfo) -> Path:
    binary = shutil.which(FFMPEG)
    if binary is None:
        raise ProbeError(NO_FFMPEG_MESSAGE)
    offset = min(1.0, (info.duration_seconds or 0) / 2)
    scale = f"scale='min({max_size},iw)':'min({max_size},ih)':force_original_aspect_ratio=decrease"
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(suffix=".jpg", dir=dest.parent)
    os.close(fd)
    command = [
        binary, "-y", "-v", "error", "-ss", f"{offset:.3f}", *ffmpeg_input(path, info.format),
        "-frames:v", "1", "-vf", scale, "-q:v", "3", "-f", "mjpeg", tmp_name,
    ]  # fmt: skip
    try:
        result = run_limited(command, timeout=FFMPEG_TIMEOUT_SECONDS)
        if result.returncode != 0 or os.path.getsize(tmp_name) == 0:
            raise ProbeError("A preview of this video could not be made; the file may be damaged.")
        os.replace(tmp_name, dest)
    except FileNotFoundError as exc:
        raise ProbeError(NO_FFMPEG_MESSAGE) from exc
    except ProcessTimeout as exc:
        raise ProbeError("Making a preview of this video took too long; the file may be damaged.") from exc
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return dest


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _float(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
