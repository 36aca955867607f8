"""A tiny local HTTP server with generated media for the sandbox to fetch (Meta downloads image_url/video_url
itself, so tests serve real files): JPEG/PNG via Pillow, MP4/WebM via ffmpeg. Built once per worker."""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import threading

import pytest
from PIL import Image


def _image(path, size, fmt, color=(200, 120, 40)):
    Image.new("RGB", size, color).save(path, fmt)


def _video(path, seconds, size="360x640", codec=("-c:v", "libx264", "-pix_fmt", "yuv420p")):
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size={size}:rate=30",
         "-f", "lavfi", "-i", "sine", "-t", str(seconds), *codec,
         "-c:a", "aac" if path.suffix == ".mp4" else "libvorbis",
         "-shortest", str(path)],
        check=True,
    )  # fmt: skip


class MediaServer:
    def __init__(self, root, port):
        self.root, self.url = root, f"http://127.0.0.1:{port}"

    def __call__(self, name):
        return f"{self.url}/{name}"


@pytest.fixture(scope="session")
def media_server(tmp_path_factory):
    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg is needed to build test videos")
    root = tmp_path_factory.mktemp("media")
    _image(root / "square.jpg", (1080, 1080), "JPEG")
    _image(root / "portrait.jpg", (1080, 1350), "JPEG")
    _image(root / "story.jpg", (1080, 1920), "JPEG")
    _image(root / "tall.jpg", (1080, 1920), "JPEG", (10, 10, 10))  # 9:16: outside 4:5 for feed
    _image(root / "square.png", (800, 800), "PNG")
    _video(root / "reel.mp4", 4)
    _video(root / "short.mp4", 1)
    _video(root / "vp9.webm", 4, codec=("-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"))
    (root / "not-media.txt").write_text("hello")
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield MediaServer(root, server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
