"""Generate small real media files for the publishing tests: Pillow for images, ffmpeg's lavfi for videos.

Videos are kept tiny (low resolution where the rule under test allows it, ``ultrafast`` preset, a few seconds)
so that a whole test module generates its samples in a few seconds.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

from PIL import Image, ImageDraw

FFMPEG = shutil.which("ffmpeg")


def image(
    directory: Path,
    name: str,
    size: tuple[int, int],
    fmt: str = "JPEG",
    *,
    mode: str = "RGB",
    exif_orientation: int | None = None,
    quality: int = 85,
) -> Path:
    """An image with a recognisable top-left marker (red square) so orientation can be checked."""
    im = Image.new(mode, size, _background(mode))
    draw = ImageDraw.Draw(im)
    marker = max(2, min(size) // 5)
    draw.rectangle((0, 0, marker, marker), fill=_red(mode))
    path = directory / name
    options: dict = {}
    if fmt == "JPEG":
        options["quality"] = quality
    if exif_orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        options["exif"] = exif.tobytes()
    im.save(path, fmt, **options)
    return path


def png_with_alpha(directory: Path, name: str = "alpha.png", size: tuple[int, int] = (400, 400)) -> Path:
    """A PNG that is fully transparent except for an opaque blue square in the middle."""
    im = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(im)
    w, h = size
    draw.rectangle((w // 4, h // 4, 3 * w // 4, 3 * h // 4), fill=(0, 0, 255, 255))
    path = directory / name
    im.save(path, "PNG")
    return path


def animated_gif(directory: Path, name: str = "anim.gif", size: tuple[int, int] = (400, 400)) -> Path:
    frames = [Image.new("RGB", size, colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    path = directory / name
    frames[0].save(path, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return path


def rotated_exif_jpeg(directory: Path, name: str = "rotated.jpg") -> Path:
    """Stored as 1200 × 800 pixels with EXIF orientation 6 (rotate 90° clockwise): displayed 800 × 1200."""
    return image(directory, name, (1200, 800), exif_orientation=6)


def corrupt_file(directory: Path, name: str = "corrupt.jpg") -> Path:
    """A JPEG header followed by garbage."""
    path = directory / name
    path.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4)
    return path


def truncated_jpeg(directory: Path, name: str = "truncated.jpg") -> Path:
    """A real JPEG cut in half."""
    full = image(directory, "full-" + name, (800, 800), quality=95)
    data = full.read_bytes()
    path = directory / name
    path.write_bytes(data[: len(data) // 2])
    return path


def text_file(directory: Path, name: str = "notes.txt") -> Path:
    path = directory / name
    path.write_text("Not a picture.\n")
    return path


# --- videos -------------------------------------------------------------------------------------------------


@functools.cache
def has_encoder(name: str) -> bool:
    if FFMPEG is None:
        return False
    out = subprocess.run([FFMPEG, "-hide_banner", "-encoders"], capture_output=True, text=True, check=False).stdout
    return any(line.split()[1:2] == [name] for line in out.splitlines() if line.startswith(" "))


def video(
    directory: Path,
    name: str,
    *,
    size: tuple[int, int] = (180, 320),
    fps: float = 30,
    seconds: float = 4,
    vcodec: str = "libx264",
    audio: bool = True,
    acodec: str = "aac",
    sample_rate: int = 44100,
    faststart: bool = True,
    pix_fmt: str = "yuv420p",
    extra: list[str] | None = None,
) -> Path:
    """A test-pattern video with (optionally) a sine tone; MP4 or MOV depending on ``name``'s suffix."""
    if FFMPEG is None:
        raise RuntimeError("ffmpeg is not installed")
    w, h = size
    path = directory / name
    command = [FFMPEG, "-y", "-v", "error",
               "-f", "lavfi", "-i", f"testsrc=size={w}x{h}:rate={fps}:duration={seconds}"]  # fmt: skip
    if audio:
        command += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate={sample_rate}:duration={seconds}"]
    command += ["-c:v", vcodec, "-pix_fmt", pix_fmt]
    if vcodec == "libx264":
        command += ["-preset", "ultrafast"]
    if vcodec == "libx265":
        command += ["-preset", "ultrafast", "-tag:v", "hvc1", "-x265-params", "log-level=none"]
    if audio:
        command += ["-c:a", acodec, "-shortest"]
    if faststart:
        command += ["-movflags", "+faststart"]
    command += extra or []
    command.append(str(path))
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return path


def rotated_video(directory: Path, name: str = "rotated.mp4") -> Path:
    """Encoded 320 × 180 with a 90° display rotation: players (and the probe) show it 180 × 320."""
    plain = video(directory, "plain-" + name, size=(320, 180), seconds=1, audio=False)
    path = directory / name
    subprocess.run(
        [FFMPEG, "-y", "-v", "error", "-i", str(plain), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(path)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return path


def _background(mode: str):  # type: ignore[no-untyped-def]
    return {"RGB": (240, 240, 240), "RGBA": (240, 240, 240, 255), "L": 240, "P": 0}.get(mode, 240)


def _red(mode: str):  # type: ignore[no-untyped-def]
    return {"RGB": (255, 0, 0), "RGBA": (255, 0, 0, 255), "L": 60, "P": 1}.get(mode, 60)


class Samples:
    """Builds each sample once per directory and hands back its path (a cache keyed by file name).

    Test modules share one directory per test session (see ``samples_dir``), so a video needed by the
    probe, spec and conversion tests is encoded only once.
    """

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)

    def _cached(self, name: str, build) -> Path:  # type: ignore[no-untyped-def]
        path = self.dir / name
        if not path.exists():
            build()
        return path

    # images
    def jpeg(self, width: int, height: int, name: str | None = None) -> Path:
        name = name or f"img-{width}x{height}.jpg"
        return self._cached(name, lambda: image(self.dir, name, (width, height)))

    def png(self, width: int = 400, height: int = 400) -> Path:
        name = f"img-{width}x{height}.png"
        return self._cached(name, lambda: image(self.dir, name, (width, height), "PNG"))

    def png_alpha(self) -> Path:
        return self._cached("alpha.png", lambda: png_with_alpha(self.dir))

    def webp(self) -> Path:
        return self._cached("img.webp", lambda: image(self.dir, "img.webp", (600, 600), "WEBP"))

    def gif(self) -> Path:
        return self._cached("anim.gif", lambda: animated_gif(self.dir))

    def rotated_jpeg(self) -> Path:
        return self._cached("rotated.jpg", lambda: rotated_exif_jpeg(self.dir))

    def corrupt(self) -> Path:
        return self._cached("corrupt.jpg", lambda: corrupt_file(self.dir))

    def truncated(self) -> Path:
        return self._cached("truncated.jpg", lambda: truncated_jpeg(self.dir))

    def text(self) -> Path:
        return self._cached("notes.txt", lambda: text_file(self.dir))

    # videos
    def reel(self) -> Path:
        """H.264/AAC 1080 × 1920, 30 fps, 4 s, moov first: a valid Instagram and Facebook reel."""
        return self._cached("reel.mp4", lambda: video(self.dir, "reel.mp4", size=(1080, 1920)))

    def reel_no_faststart(self) -> Path:
        return self._cached("reel-moov-last.mp4", lambda: video(self.dir, "reel-moov-last.mp4", faststart=False))

    def short_clip(self) -> Path:
        return self._cached("short.mp4", lambda: video(self.dir, "short.mp4", seconds=1))

    def silent(self) -> Path:
        return self._cached("silent.mp4", lambda: video(self.dir, "silent.mp4", audio=False))

    def ten_fps(self) -> Path:
        return self._cached("10fps.mp4", lambda: video(self.dir, "10fps.mp4", fps=10))

    def landscape(self) -> Path:
        return self._cached("landscape.mp4", lambda: video(self.dir, "landscape.mp4", size=(1920, 1080), seconds=3))

    def hevc(self) -> Path:
        return self._cached("hevc.mp4", lambda: video(self.dir, "hevc.mp4", vcodec="libx265", seconds=3))

    def mov(self) -> Path:
        return self._cached("clip.mov", lambda: video(self.dir, "clip.mov", seconds=3))

    def rotated_video(self) -> Path:
        return self._cached("rotated.mp4", lambda: rotated_video(self.dir))


def samples_dir(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    """One directory per test session (per xdist worker), shared by all publishing test modules."""
    return tmp_path_factory.getbasetemp() / "publishing-media-samples"
