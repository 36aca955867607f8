"""Fetching and inspecting media the way Meta does: Meta downloads ``image_url`` / ``video_url`` /
``cover_url`` / Page photo ``url`` / video ``file_url`` itself ("We will cURL the image using the passed in
URL so it must be on a public server", seed 001), then checks the bytes.

Images are read with Pillow; videos with ``ffprobe -v error -print_format json -show_format -show_streams``.
URLs pointing at this sandbox's own /__sandbox__/ pictures are answered in-process (the server holds its
state lock while a handler runs, so it must not call itself over HTTP).
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import tempfile

import requests

from . import limits


class FetchError(Exception):
    def __init__(self, kind: str, detail: str = ""):
        super().__init__(detail or kind)
        self.kind = kind  # "unreachable" | "timeout"


_SELF_PICTURE = re.compile(r"/__sandbox__/(avatar|media)/([\w.-]+)\.png$")


def fetch(url: str, base_url: str = "", max_bytes: int | None = None) -> bytes:
    """GET ``url``; non-2xx, bad scheme or network failure → FetchError("unreachable"), timeout → "timeout"."""
    if not url or not re.match(r"^https?://", url):
        raise FetchError("unreachable", "not an http(s) URL")
    if base_url and url.startswith(base_url.rstrip("/") + "/__sandbox__/"):
        m = _SELF_PICTURE.search(url.split("?")[0])
        if not m:
            raise FetchError("unreachable", "not found")
        from .controls import png

        return png(m.group(1) + m.group(2), 64 if m.group(1) == "avatar" else 320)
    try:
        r = requests.get(url, timeout=limits.FETCH_TIMEOUT, stream=True)
    except requests.Timeout as exc:
        raise FetchError("timeout", str(exc)) from None
    except requests.RequestException as exc:
        raise FetchError("unreachable", str(exc)) from None
    with r:
        if not 200 <= r.status_code < 300:
            raise FetchError("unreachable", f"HTTP {r.status_code}")
        chunks, size = [], 0
        for chunk in r.iter_content(65536):
            chunks.append(chunk)
            size += len(chunk)
            if max_bytes is not None and size > max_bytes:
                break  # enough to know it is too large
        return b"".join(chunks)


def inspect_image(blob: bytes) -> dict | None:
    """{"format": "JPEG", "width", "height", "size"} or None when the bytes are not an image."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(blob)) as im:
            return {"format": im.format or "UNKNOWN", "width": im.width, "height": im.height, "size": len(blob)}
    except Exception:
        return None


def probe_video(blob: bytes) -> dict | None:
    """ffprobe the bytes: {"format_name", "codec", "audio_codec", "duration", "width", "height", "size"};
    None when ffprobe cannot read them as a video."""
    fd, path = tempfile.mkstemp(prefix="sandbox-video-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        out = subprocess.run(
            ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", path],
            capture_output=True,
            timeout=30,
        )
        if out.returncode != 0:
            return None
        info = json.loads(out.stdout or b"{}")
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
    streams = info.get("streams") or []
    video = next((s for s in streams if s.get("codec_type") == "video"), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    fmt = info.get("format") or {}
    if video is None:
        return None
    try:
        duration = float(fmt.get("duration") or video.get("duration") or 0)
    except ValueError:
        duration = 0.0
    return {
        "format_name": fmt.get("format_name", ""),
        "codec": video.get("codec_name", ""),
        "audio_codec": audio.get("codec_name") if audio else None,
        "duration": duration,
        "width": int(video.get("width") or 0),
        "height": int(video.get("height") or 0),
        "size": len(blob),
    }


def video_problem(probe: dict | None, seconds: tuple, max_bytes: int, codecs=limits.VIDEO_CODECS) -> str | None:
    """Why a video breaks the rules ("format", "codec", "duration", "size"), or None."""
    if probe is None:
        return "format"
    if not set(probe["format_name"].split(",")) & set(limits.VIDEO_CONTAINERS):
        return "format"
    if probe["codec"] not in codecs:
        return "codec"
    if not seconds[0] <= probe["duration"] <= seconds[1]:
        return "duration"
    if probe["size"] > max_bytes:
        return "size"
    return None
