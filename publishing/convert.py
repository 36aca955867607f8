"""Mechanical fixes offered by ``publishing.specs`` (``Problem.fix``): each writes a new file and returns its path.

Every function raises ``ConversionError`` with a sentence for the user when it cannot do its job; the source
file is never modified, and ``dest`` is only replaced once the new file is complete.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from publishing import probe
from publishing.specs import FIX_CONVERT_TO_JPEG, FIX_DOWNSCALE, FIX_FASTSTART

FASTSTART_TIMEOUT_SECONDS = 300


class ConversionError(Exception):
    """A fix could not be applied. ``str(error)`` is a sentence for the user."""


def convert_to_jpeg(src: str | Path, dest: str | Path, *, quality: int = 90) -> Path:
    """PNG, WebP, GIF (first frame), BMP, TIFF, HEIF/AVIF (when this server can read them) → RGB JPEG.

    Transparency is flattened onto white and the EXIF orientation is applied to the pixels; EXIF itself is
    not copied (it may hold the place the photo was taken). The colour profile is kept.
    """
    with _open_image(src) as im:
        im.seek(0)  # animated GIF/WebP: the first frame
        icc = im.info.get("icc_profile")
        upright = ImageOps.exif_transpose(im)
        rgb = probe.flatten_on_white(upright)
        with _atomic_dest(dest) as tmp:
            rgb.save(tmp, "JPEG", quality=quality, optimize=True, **({"icc_profile": icc} if icc else {}))
    return Path(dest)


def downscale_image(src: str | Path, dest: str | Path, *, max_width: int = 1440, quality: int = 90) -> Path:
    """Shrink an image to at most ``max_width`` px wide, keeping its shape; a narrower image is copied as is.

    JPEGs stay JPEG; any other format is written as JPEG too (the fix is offered for platforms that want JPEG).
    The EXIF orientation is applied first, so the width is the displayed width.
    """
    if max_width < 1:
        raise ConversionError("The target width must be at least 1 pixel.")
    with _open_image(src) as im:
        im.seek(0)
        icc = im.info.get("icc_profile")
        upright = ImageOps.exif_transpose(im)
        width, height = upright.size
        if width > max_width:
            new_height = max(1, round(height * max_width / width))
            upright = upright.resize((max_width, new_height), Image.Resampling.LANCZOS)
        rgb = probe.flatten_on_white(upright)
        with _atomic_dest(dest) as tmp:
            rgb.save(tmp, "JPEG", quality=quality, optimize=True, **({"icc_profile": icc} if icc else {}))
    return Path(dest)


def move_moov_to_front(src: str | Path, dest: str | Path) -> Path:
    """Rewrite an MP4/MOV with its index (moov atom) first, copying the streams without re-encoding."""
    binary = shutil.which(probe.FFMPEG)
    if binary is None:
        raise ConversionError(probe.NO_FFMPEG_MESSAGE)
    try:
        kind, fmt = _sniff(src)
    except OSError as exc:
        raise ConversionError("The file to convert could not be found.") from exc
    if kind != "video" or fmt not in ("mp4", "mov"):
        raise ConversionError("Only MP4 and MOV videos can be made streaming-ready.")
    suffix = Path(dest).suffix or ".mp4"
    with _atomic_dest(dest, suffix=suffix) as tmp:
        command = [binary, "-y", "-v", "error", *probe.ffmpeg_input(src, fmt), "-map", "0", "-c", "copy",
                   "-movflags", "+faststart", "-f", "mp4" if fmt == "mp4" else "mov", f"file:{tmp}"]  # fmt: skip
        try:
            result = probe.run_limited(command, timeout=FASTSTART_TIMEOUT_SECONDS)
        except FileNotFoundError as exc:
            raise ConversionError(probe.NO_FFMPEG_MESSAGE) from exc
        except probe.ProcessTimeout as exc:
            raise ConversionError("Preparing this video took too long; the file may be damaged.") from exc
        if result.returncode != 0:
            raise ConversionError("This video could not be prepared for streaming; the file may be damaged.")
    return Path(dest)


FIXES: dict[str, Callable[..., Path]] = {
    FIX_CONVERT_TO_JPEG: convert_to_jpeg,
    FIX_DOWNSCALE: downscale_image,
    FIX_FASTSTART: move_moov_to_front,
}


def apply_fix(fix: str, src: str | Path, dest: str | Path, **options: object) -> Path:
    """Run the fix named by ``Problem.fix``."""
    try:
        function = FIXES[fix]
    except KeyError as exc:
        raise ConversionError(f"SocialHub has no automatic fix called {fix!r}.") from exc
    return function(src, dest, **options)


# --- helpers ------------------------------------------------------------------------------------------------


@contextmanager
def _open_image(src: str | Path) -> Iterator[Image.Image]:
    """Open with the decoder of the sniffed format only (``probe.open_image``), so nothing but a real image of a
    known format is ever decoded."""
    try:
        kind, fmt = _sniff(src)
        with probe.open_image(src, fmt if kind == "image" else None) as im:
            yield im
    except ConversionError:
        raise
    except FileNotFoundError as exc:
        raise ConversionError("The file to convert could not be found.") from exc
    except UnidentifiedImageError as exc:
        raise ConversionError(_unreadable_message(kind, fmt)) from exc
    except probe.ImageTooLarge as exc:
        raise ConversionError(str(exc)) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ConversionError("This image has too many pixels to be converted safely.") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ConversionError("This image is damaged or incomplete and cannot be converted.") from exc


def _sniff(src: str | Path) -> tuple[str, str | None]:
    with open(src, "rb") as fh:
        return probe.sniff(fh.read(64))


def _unreadable_message(kind: str, fmt: str | None) -> str:
    if fmt in ("heif", "avif"):
        return (
            "This HEIF/HEIC photo cannot be converted on this server. "
            "Export it as JPEG from your phone or photo app and upload it again."
        )
    if kind == "video":
        return "This is a video, not an image: it cannot be converted to JPEG."
    return "This file is not an image SocialHub can convert."


@contextmanager
def _atomic_dest(dest: str | Path, *, suffix: str = ".jpg") -> Iterator[Path]:
    """Yield a temporary path next to ``dest``; move it onto ``dest`` only if the block succeeds."""
    dest = Path(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(suffix=suffix, prefix=".convert-", dir=dest.parent)
    except OSError as exc:
        raise ConversionError("The converted file could not be written.") from exc
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        try:
            os.replace(tmp, dest)
        except OSError as exc:
            raise ConversionError("The converted file could not be written.") from exc
    finally:
        if tmp.exists():
            tmp.unlink()
