"""The mechanical fixes produce files that then pass the rule that asked for them."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from publishing import probe
from publishing.convert import ConversionError, apply_fix, convert_to_jpeg, downscale_image, move_moov_to_front
from publishing.probe import probe_file
from publishing.specs import FIX_CONVERT_TO_JPEG, FIX_DOWNSCALE, FIX_FASTSTART, PostType, check
from tests.publishing.media_samples import FFMPEG, Samples, image, samples_dir

pytestmark = pytest.mark.no_sandbox


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Samples:
    return Samples(samples_dir(tmp_path_factory))


def fix_for(path: Path, post_type: PostType) -> str:
    fixes = [p.fix for p in check(probe_file(path), post_type) if p.fix]
    assert len(fixes) == 1, fixes
    return fixes[0]


def test_png_with_alpha_becomes_a_jpeg_flattened_on_white(samples: Samples, tmp_path: Path) -> None:
    out = convert_to_jpeg(samples.png_alpha(), tmp_path / "out.jpg")
    assert out == tmp_path / "out.jpg"
    with Image.open(out) as im:
        assert (im.format, im.mode, im.size) == ("JPEG", "RGB", (400, 400))
        corner, centre = im.getpixel((5, 5)), im.getpixel((200, 200))
    assert all(c >= 250 for c in corner)  # transparent → white, not black
    assert centre[2] > 200 and centre[0] < 40  # the opaque blue square survives
    assert [p for p in check(probe_file(out), PostType.IG_IMAGE) if p.code != "blurry"] == []


def test_the_offered_fix_makes_the_file_pass(samples: Samples, tmp_path: Path) -> None:
    for source in (samples.png(), samples.webp(), samples.gif()):
        fix = fix_for(source, PostType.IG_IMAGE)
        assert fix == FIX_CONVERT_TO_JPEG
        out = apply_fix(fix, source, tmp_path / f"{source.stem}.jpg")
        assert [p for p in check(probe_file(out), PostType.IG_IMAGE) if p.code != "blurry"] == [], source.name


def test_gif_keeps_its_first_frame(samples: Samples, tmp_path: Path) -> None:
    out = convert_to_jpeg(samples.gif(), tmp_path / "gif.jpg")
    with Image.open(out) as im:
        red, green, blue = im.getpixel((200, 200))
    assert red > 200 and green < 40 and blue < 40


def test_exif_orientation_is_applied_to_the_pixels(samples: Samples, tmp_path: Path) -> None:
    out = convert_to_jpeg(samples.rotated_jpeg(), tmp_path / "upright.jpg", quality=95)
    with Image.open(out) as im:
        assert im.size == (800, 1200)
        assert im.getexif().get(0x0112) is None  # no orientation left to apply twice
        top_right, top_left = im.getpixel((790, 10)), im.getpixel((10, 10))
    assert top_right[0] > 200 and top_right[1] < 60  # the marker drawn top-left, turned 90° clockwise
    assert top_left[0] > 200 and top_left[1] > 200
    info = probe_file(out)
    assert (info.width, info.height, info.rotation) == (800, 1200, 0)


def test_downscale_brings_a_wide_image_to_1440(tmp_path: Path) -> None:
    src = image(tmp_path, "wide.jpg", (3000, 2000))
    assert fix_for(src, PostType.IG_IMAGE) == FIX_DOWNSCALE
    out = downscale_image(src, tmp_path / "small.jpg")
    info = probe_file(out)
    assert (info.format, info.width, info.height) == ("jpeg", 1440, 960)
    assert check(info, PostType.IG_IMAGE) == []


def test_downscale_never_enlarges_and_writes_jpeg(samples: Samples, tmp_path: Path) -> None:
    out = downscale_image(samples.png(), tmp_path / "same.jpg", max_width=1440)
    info = probe_file(out)
    assert (info.format, info.width, info.height) == ("jpeg", 400, 400)
    custom = probe_file(apply_fix(FIX_DOWNSCALE, samples.jpeg(1080, 1350), tmp_path / "c.jpg", max_width=540))
    assert (custom.width, custom.height) == (540, 675)


@pytest.mark.parametrize("sample", ["corrupt", "truncated", "text"])
def test_bad_sources_raise_a_plain_conversion_error(samples: Samples, tmp_path: Path, sample: str) -> None:
    dest = tmp_path / "out.jpg"
    dest.write_bytes(b"previous version")
    with pytest.raises(ConversionError) as caught:
        convert_to_jpeg(getattr(samples, sample)(), dest)
    assert str(caught.value) in (
        "This image is damaged or incomplete and cannot be converted.",
        "This file is not an image SocialHub can convert.",
    )
    assert dest.read_bytes() == b"previous version"  # never half-overwritten
    assert [p.name for p in tmp_path.iterdir()] == ["out.jpg"]  # no temporary file left behind


def test_missing_source_and_unknown_fix(tmp_path: Path) -> None:
    with pytest.raises(ConversionError, match="could not be found"):
        downscale_image(tmp_path / "nope.jpg", tmp_path / "out.jpg")
    with pytest.raises(ConversionError, match="no automatic fix"):
        apply_fix("sharpen", tmp_path / "a.jpg", tmp_path / "b.jpg")


def test_unreadable_heif_says_what_to_do(tmp_path: Path) -> None:
    if probe.pillow_heif is not None:
        pytest.skip("pillow-heif is installed: HEIF photos are convertible here")
    fake = tmp_path / "IMG_0001.HEIC"
    fake.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200)
    with pytest.raises(ConversionError, match="HEIF/HEIC photo cannot be converted"):
        convert_to_jpeg(fake, tmp_path / "out.jpg")


@pytest.mark.skipif(FFMPEG is None, reason="ffmpeg is not installed")
def test_moov_is_moved_to_the_front_without_re_encoding(samples: Samples, tmp_path: Path) -> None:
    src = samples.reel_no_faststart()
    assert fix_for(src, PostType.IG_REEL) == FIX_FASTSTART
    out = apply_fix(FIX_FASTSTART, src, tmp_path / "fixed.mp4")
    before, after = probe_file(src), probe_file(out)
    assert after.faststart is True
    assert (after.video_codec, after.width, after.height, after.has_audio) == (
        before.video_codec, before.width, before.height, True,
    )  # fmt: skip
    assert after.duration_seconds == pytest.approx(before.duration_seconds, abs=0.05)
    assert check(after, PostType.IG_REEL) == []


def test_faststart_errors(samples: Samples, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConversionError, match="Only MP4 and MOV"):
        move_moov_to_front(samples.text(), tmp_path / "x.mp4")
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 500)
    with pytest.raises(ConversionError, match="could not be prepared"):
        move_moov_to_front(damaged, tmp_path / "x.mp4")
    monkeypatch.setattr(probe, "FFMPEG", "ffmpeg-that-does-not-exist")
    with pytest.raises(ConversionError, match="FFmpeg is not installed"):
        move_moov_to_front(samples.text(), tmp_path / "x.mp4")
    assert not (tmp_path / "x.mp4").exists()
