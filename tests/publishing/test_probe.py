"""probe_file and thumbnail on real files generated with Pillow and ffmpeg."""

from __future__ import annotations

import pytest
from PIL import Image

from publishing import probe
from publishing.probe import MediaInfo, ProbeError, probe_file, thumbnail
from tests.publishing.media_samples import FFMPEG, Samples, has_encoder, samples_dir

pytestmark = [
    pytest.mark.no_sandbox,
    pytest.mark.skipif(FFMPEG is None, reason="ffmpeg is not installed"),
]


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Samples:
    return Samples(samples_dir(tmp_path_factory))


# --- images -------------------------------------------------------------------------------------------------


def test_jpeg_is_described(samples: Samples) -> None:
    path = samples.jpeg(1080, 1080)
    info = probe_file(path)
    assert info == MediaInfo(
        kind="image",
        format="jpeg",
        mime_type="image/jpeg",
        size_bytes=path.stat().st_size,
        width=1080,
        height=1080,
        pixel_format="RGB",
        filename=path.name,
    )
    assert info.ok and info.aspect_ratio == 1.0


def test_uploaded_name_is_kept_for_messages(samples: Samples) -> None:
    info = probe_file(samples.jpeg(1080, 1080), filename="Summer launch.jpg")
    assert info.filename == "Summer launch.jpg"


def test_exif_orientation_is_applied_to_the_reported_size(samples: Samples) -> None:
    info = probe_file(samples.rotated_jpeg())
    with Image.open(samples.rotated_jpeg()) as im:
        assert im.size == (1200, 800)  # stored landscape…
    assert (info.width, info.height, info.rotation) == (800, 1200, 90)  # …displayed portrait


def test_png_with_alpha(samples: Samples) -> None:
    info = probe_file(samples.png_alpha())
    assert (info.kind, info.format, info.mime_type, info.has_alpha) == ("image", "png", "image/png", True)


def test_webp_and_animated_gif(samples: Samples) -> None:
    webp = probe_file(samples.webp())
    assert (webp.format, webp.mime_type, webp.width, webp.animated) == ("webp", "image/webp", 600, False)
    gif = probe_file(samples.gif())
    assert (gif.format, gif.animated) == ("gif", True)


def test_format_comes_from_the_content_not_the_name(samples: Samples, tmp_path) -> None:  # type: ignore[no-untyped-def]
    disguised = tmp_path / "photo.jpg"
    disguised.write_bytes(samples.png().read_bytes())
    assert probe_file(disguised).format == "png"


@pytest.mark.parametrize("sample", ["corrupt", "truncated"])
def test_damaged_image_gives_an_error_without_raising(samples: Samples, sample: str) -> None:
    info = probe_file(getattr(samples, sample)())
    assert info.kind == "image"
    assert info.error == "This image is damaged or incomplete and cannot be read."
    assert not info.ok


def test_text_file_is_unknown(samples: Samples) -> None:
    info = probe_file(samples.text())
    assert info.kind == "unknown"
    assert info.error == "This file is not an image or a video SocialHub can read."


def test_empty_and_missing_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    assert probe_file(empty).error == "This file is empty."
    assert probe_file(tmp_path / "nope.jpg").error == "This file could not be found."


def test_unreadable_heif_says_what_to_do(tmp_path) -> None:  # type: ignore[no-untyped-def]
    if probe.pillow_heif is not None:
        pytest.skip("pillow-heif is installed: HEIF photos are readable here")
    fake = tmp_path / "IMG_0001.HEIC"
    fake.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200)
    info = probe_file(fake)
    assert (info.kind, info.format) == ("image", "heif")
    assert "HEIF/HEIC photo cannot be read" in info.error
    assert "Export it as JPEG" in info.error


# --- videos -------------------------------------------------------------------------------------------------


def test_h264_aac_reel(samples: Samples) -> None:
    path = samples.reel()
    info = probe_file(path)
    assert info.error is None
    assert (info.kind, info.format, info.mime_type) == ("video", "mp4", "video/mp4")
    assert (info.width, info.height) == (1080, 1920)
    assert info.duration_seconds == pytest.approx(4, abs=0.1)
    assert info.frame_rate == pytest.approx(30)
    assert (info.video_codec, info.pixel_format) == ("h264", "yuv420p")
    assert (info.has_audio, info.audio_codec, info.audio_sample_rate, info.audio_channels) == (True, "aac", 44100, 1)
    assert info.faststart is True
    assert info.rotation == 0
    assert info.size_bytes == path.stat().st_size


def test_moov_at_the_end_is_detected(samples: Samples) -> None:
    assert probe_file(samples.reel_no_faststart()).faststart is False
    assert probe.mp4_faststart(samples.reel()) is True
    assert probe.mp4_faststart(samples.text()) is None


def test_clip_without_sound(samples: Samples) -> None:
    info = probe_file(samples.silent())
    assert (info.has_audio, info.audio_codec, info.audio_sample_rate) == (False, None, None)


def test_frame_rate_duration_and_landscape(samples: Samples) -> None:
    assert probe_file(samples.ten_fps()).frame_rate == pytest.approx(10)
    assert probe_file(samples.short_clip()).duration_seconds == pytest.approx(1, abs=0.1)
    landscape = probe_file(samples.landscape())
    assert (landscape.width, landscape.height) == (1920, 1080)


def test_hevc_clip(samples: Samples) -> None:
    if not has_encoder("libx265"):
        pytest.skip("this ffmpeg has no libx265")
    assert probe_file(samples.hevc()).video_codec == "hevc"


def test_mov_container(samples: Samples) -> None:
    info = probe_file(samples.mov())
    assert (info.format, info.mime_type, info.faststart) == ("mov", "video/quicktime", True)


def test_rotation_swaps_to_the_displayed_size(samples: Samples) -> None:
    info = probe_file(samples.rotated_video())
    assert (info.width, info.height) == (180, 320)
    assert info.rotation in (90, 270)


def test_video_shaped_garbage_gives_an_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    fake = tmp_path / "clip.mp4"
    fake.write_bytes(b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + b"\xde\xad" * 500)
    info = probe_file(fake)
    assert info.kind == "video"
    assert info.error == "This video is damaged or incomplete and cannot be read."


def test_missing_ffprobe_is_a_message_not_a_crash(samples: Samples, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(probe, "FFPROBE", "ffprobe-that-does-not-exist")
    info = probe_file(samples.silent())
    assert info.kind == "video"
    assert "FFmpeg (ffprobe) is not installed" in info.error


# --- thumbnails ---------------------------------------------------------------------------------------------


def test_image_thumbnail_is_an_upright_jpeg(samples: Samples, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = thumbnail(samples.rotated_jpeg(), tmp_path / "thumbs" / "t.jpg")
    with Image.open(out) as im:
        assert im.format == "JPEG"
        assert im.size == (320, 480)  # 800 × 1200 displayed, longer side brought to 480


def test_transparent_png_thumbnail_is_flattened_on_white(samples: Samples, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = thumbnail(samples.png_alpha(), tmp_path / "t.jpg", max_size=100)
    with Image.open(out) as im:
        assert im.mode == "RGB"
        assert all(c > 245 for c in im.getpixel((2, 2)))


def test_video_thumbnail(samples: Samples, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = thumbnail(samples.reel(), tmp_path / "reel.jpg")
    with Image.open(out) as im:
        assert im.format == "JPEG"
        assert im.size == (270, 480)
    short = thumbnail(samples.short_clip(), tmp_path / "short.jpg", max_size=1000)  # never enlarged
    with Image.open(short) as im:
        assert im.size == (180, 320)


def test_thumbnail_errors_are_plain_words(samples: Samples, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ProbeError, match="damaged or incomplete"):
        thumbnail(samples.corrupt(), tmp_path / "x.jpg")
    with pytest.raises(ProbeError, match="not an image or a video"):
        thumbnail(samples.text(), tmp_path / "x.jpg")
    monkeypatch.setattr(probe, "FFMPEG", "ffmpeg-that-does-not-exist")
    with pytest.raises(ProbeError, match="FFmpeg is not installed"):
        thumbnail(samples.silent(), tmp_path / "x.jpg")
    assert not (tmp_path / "x.jpg").exists()
