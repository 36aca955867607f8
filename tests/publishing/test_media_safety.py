"""What an attacker or a careless upload must not achieve through the media library: a fix run on a file the probe
did not accept, another workspace's file read through a playlist, a program left running, a decompression bomb,
or an upload stored past its limit."""

from __future__ import annotations

import os
import re
import struct
import sys
import time
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import SkipFile
from PIL import EpsImagePlugin, Image, JpegImagePlugin

from publishing import convert, probe
from publishing.models import MediaAsset
from publishing.services import media as media_services
from publishing.uploads import MediaUploadHandler
from tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
# PostScript that never ends: Ghostscript would run it for ever.
ENDLESS_EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\n{ } loop\n%%EOF\n"


def media_url(workspace, suffix: str = "") -> str:
    return f"/w/{workspace.public_id}/media/{suffix}"


def upload_via_form(client, workspace, name: str, content: bytes):
    return client.post(media_url(workspace), {"files": [SimpleUploadedFile(name, content)]}, follow=True)


def png_header_bomb(path: Path, width: int, height: int) -> Path:
    """A valid PNG of ``width`` × ``height`` black RGB pixels, compressed to a few hundred KB."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + 3 * width)  # filter byte + pixels
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    return path


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    return png_header_bomb(tmp_path_factory.mktemp("bomb") / "innocent.png", 13000, 13000)


def memory_peak_of(action) -> int:  # type: ignore[no-untyped-def]
    """Bytes the process's resident memory rose to above where it stood, while ``action`` ran."""
    status = Path("/proc/self/status")
    if not status.exists():
        pytest.skip("measuring peak memory needs Linux's /proc")
    Path("/proc/self/clear_refs").write_text("5")  # reset the high-water mark to the current size
    before = int(re.search(r"VmRSS:\s+(\d+)", status.read_text()).group(1)) * 1024
    action()
    peak = int(re.search(r"VmHWM:\s+(\d+)", status.read_text()).group(1)) * 1024
    return peak - before


# --- 1. a fix runs only on what the probe accepted ----------------------------------------------------------


def test_convert_to_jpeg_is_refused_for_an_unreadable_eps_and_ghostscript_never_runs(
    client, alice, workspace, monkeypatch
):
    def ghostscript(*args, **kwargs):
        raise AssertionError("Ghostscript was started")

    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", ghostscript)
    client.force_login(alice)
    upload_via_form(client, workspace, "logo.eps", ENDLESS_EPS)
    eps = MediaAsset.objects.get(original_name="logo.eps")
    assert eps.kind == MediaAsset.Kind.UNKNOWN and media_services.offered_fixes(eps) == set()

    response = client.post(media_url(workspace, f"{eps.public_id}/fix/convert_to_jpeg/"), follow=True)
    assert "SocialHub offers no such fix for this file" in response.content.decode()
    assert not MediaAsset.objects.filter(derived_from=eps).exists()
    # The converter on its own, handed the file under a photo's name, does not open it as PostScript either.
    renamed = Path(eps.file.path).with_name("photo.jpg")
    renamed.write_bytes(ENDLESS_EPS)
    with pytest.raises(convert.ConversionError, match="not an image SocialHub can convert"):
        convert.convert_to_jpeg(renamed, renamed.with_name("out.jpg"))


def test_a_playlist_cannot_make_the_streaming_fix_copy_another_workspaces_video(
    client, alice, workspace, samples, upload, settings
):
    other_workspace = WorkspaceFactory()
    secret = media_services.media_asset_upload(
        workspace=other_workspace,
        uploaded=SimpleUploadedFile("secret.mp4", samples.reel_no_faststart().read_bytes()),
        user=None,
    )
    playlist = (
        f"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXTINF:4.0,\nfile:{secret.file.path}\n#EXT-X-ENDLIST\n"
    )
    client.force_login(alice)
    upload_via_form(client, workspace, "clip.mp4", playlist.encode())
    hls = MediaAsset.objects.get(original_name="clip.mp4", workspace=workspace)
    assert hls.kind == MediaAsset.Kind.UNKNOWN

    response = client.post(media_url(workspace, f"{hls.public_id}/fix/faststart/"), follow=True)
    assert "SocialHub offers no such fix for this file" in response.content.decode()
    assert not MediaAsset.objects.filter(derived_from=hls).exists()
    # Nor does FFmpeg itself follow the playlist when handed it directly: the demuxer is forced from the sniff.
    with pytest.raises(convert.ConversionError, match="Only MP4 and MOV"):
        convert.move_moov_to_front(hls.file.path, Path(settings.MEDIA_ROOT) / "stolen.mp4")
    assert probe.ffmpeg_input("/x/a.mp4", "mp4") == ["-f", "mov", "-protocol_whitelist", "file", "-i", "file:/x/a.mp4"]


def test_only_a_fix_offered_for_that_file_runs(client, alice, workspace, upload, samples):
    small_jpeg = upload(samples.jpeg(1080, 1080))  # fits everywhere: nothing to fix
    client.force_login(alice)
    for fix in ("downscale", "convert_to_jpeg", "faststart", "sharpen"):
        response = client.post(media_url(workspace, f"{small_jpeg.public_id}/fix/{fix}/"), follow=True)
        assert "SocialHub offers no such fix for this file" in response.content.decode()
    assert not MediaAsset.objects.filter(derived_from=small_jpeg).exists()


def test_a_program_past_its_time_limit_is_killed_with_its_children(tmp_path, monkeypatch, samples):
    pid_file = tmp_path / "child.pid"
    fake = tmp_path / "ffprobe"
    fake.write_text(f"#!/bin/sh\nsleep 60 &\necho $! > {pid_file}\nwait\n")
    fake.chmod(0o755)
    monkeypatch.setattr(probe, "FFPROBE", str(fake))
    monkeypatch.setattr(probe, "FFPROBE_TIMEOUT_SECONDS", 2)
    started = time.monotonic()
    info = probe.probe_file(samples.reel())
    assert info.error == "Reading this video took too long; the file may be damaged."
    assert time.monotonic() - started < 10
    child = int(pid_file.read_text())
    assert _ends_within(child, seconds=5), "the program's own child outlived the time limit"


def _ends_within(pid: int, *, seconds: float) -> bool:
    """SIGKILL is delivered asynchronously: on a busy machine the process may take a moment to die."""
    deadline = time.monotonic() + seconds
    while _running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in state  # a zombie has exited; only its parent's record remains


@pytest.mark.django_db(transaction=True)
def test_a_worker_makes_the_copy_while_the_library_shows_converting(
    celery_app, celery_worker, client, alice, workspace, upload, samples
):
    png = upload(samples.png(1080, 1080))
    client.force_login(alice)
    client.post(media_url(workspace, f"{png.public_id}/fix/convert_to_jpeg/"))
    copy = MediaAsset.objects.get(derived_from=png)
    deadline = time.monotonic() + 20
    while copy.status == MediaAsset.Status.CONVERTING and time.monotonic() < deadline:
        time.sleep(0.1)
        copy.refresh_from_db()
    assert copy.status == MediaAsset.Status.READY and copy.format == "jpeg" and copy.thumbnail
    card = client.get(media_url(workspace, f"{copy.public_id}/")).content.decode()
    assert "Converting" not in card and "1080×1080" in card


def test_a_failed_conversion_says_why(workspace, upload, samples):
    png = upload(samples.png(1080, 1080))
    copy = media_services.media_asset_fix(asset=png, fix="convert_to_jpeg", user=None)
    Path(png.file.path).write_bytes(b"not a png any more")
    media_services.media_asset_process(asset_id=copy.pk)
    copy.refresh_from_db()
    assert copy.status == MediaAsset.Status.FAILED and "not an image" in copy.status_message
    assert not MediaAsset.objects.filter(workspace=workspace).usable().filter(pk=copy.pk).exists()


def test_an_unexpected_error_in_the_worker_ends_converting(workspace, upload, samples, monkeypatch):
    png = upload(samples.png(1080, 1080))
    copy = media_services.media_asset_fix(asset=png, fix="convert_to_jpeg", user=None)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(convert, "apply_fix", broken)
    media_services.media_asset_process(asset_id=copy.pk)
    copy.refresh_from_db()
    assert copy.status == MediaAsset.Status.FAILED and copy.status_message == "Something went wrong; make it again."


# --- 2. decompression bombs ---------------------------------------------------------------------------------


def test_a_decompression_bomb_is_refused_from_its_header_within_bounded_memory(client, alice, workspace, bomb):
    assert bomb.stat().st_size < 1 * MB
    client.force_login(alice)
    content = bomb.read_bytes()
    responses = []
    peak = memory_peak_of(lambda: responses.append(upload_via_form(client, workspace, "innocent.png", content)))
    print(f"\npeak memory of the bomb upload request: {peak / MB:.0f} MB", file=sys.stderr)
    assert peak < 512 * MB
    asset = MediaAsset.objects.get(original_name="innocent.png")
    assert asset.kind == MediaAsset.Kind.UNKNOWN and asset.probe_error.startswith("This image has 169 megapixels")
    assert "at most 50 megapixels" in responses[0].content.decode()


def test_the_largest_accepted_image_stays_within_bounded_memory(client, alice, workspace, tmp_path):
    big = png_header_bomb(tmp_path / "big.png", 7000, 7000)  # 49 megapixels: just under the bound
    client.force_login(alice)
    content = big.read_bytes()
    peak = memory_peak_of(lambda: upload_via_form(client, workspace, "big.png", content))
    asset = MediaAsset.objects.get(original_name="big.png")
    assert asset.kind == MediaAsset.Kind.IMAGE and asset.preview_pending  # its preview is the worker's job
    worker_peak = memory_peak_of(lambda: media_services.media_asset_process(asset_id=asset.pk))
    print(f"\npeak memory for a 49 MP image: request {peak / MB:.0f} MB, preview {worker_peak / MB:.0f} MB")
    asset.refresh_from_db()
    assert asset.thumbnail and peak < 512 * MB and worker_peak < 512 * MB


def test_pillows_bomb_warning_is_an_error(samples, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # a 40 × 40 image is now over it, yet under twice it
    path = samples.jpeg(40, 40)
    info = probe.probe_file(path)
    assert info.error and "megapixels" in info.error


def test_a_jpeg_preview_decodes_at_a_reduced_scale(samples, tmp_path, monkeypatch):
    drafts = []
    original = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):  # type: ignore[no-untyped-def]
        drafts.append(size)
        return original(self, mode, size)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    probe.thumbnail(samples.jpeg(4000, 3000), tmp_path / "thumb.jpg")
    assert drafts and Image.open(tmp_path / "thumb.jpg").size == (480, 360)


# --- 3. upload limits ----------------------------------------------------------------------------------------


def test_an_image_over_the_limit_is_stopped_while_it_streams_in(client, alice, workspace, samples, settings):
    settings.MEDIA_UPLOAD_MAX_IMAGE_BYTES = 50_000
    big = samples.jpeg(2000, 2000).read_bytes()
    assert len(big) > 50_000
    client.force_login(alice)
    page = upload_via_form(client, workspace, "poster.jpg", big).content.decode()
    assert "poster.jpg: Images can be at most 50 KB; this one is larger, so it was not uploaded." in page
    assert not MediaAsset.objects.exists()


def test_the_handler_drops_the_file_at_the_chunk_that_crosses_the_limit(rf, settings):
    settings.MEDIA_UPLOAD_MAX_VIDEO_BYTES = 3 * 64 * 1024
    request = rf.post("/")
    handler = MediaUploadHandler(request)
    handler.new_file("files", "film.mp4", "video/mp4", None)
    head = b"\x00\x00\x00\x18ftypisom" + b"\x00" * (64 * 1024 - 12)
    handler.receive_data_chunk(head, 0)
    handler.receive_data_chunk(b"\x00" * 64 * 1024, 64 * 1024)
    with pytest.raises(SkipFile):
        handler.receive_data_chunk(b"\x00" * 64 * 1024 * 2, 2 * 64 * 1024)
    assert os.path.getsize(handler.file.temporary_file_path()) == 2 * 64 * 1024  # nothing past the limit stored
    assert "Videos can be at most" in request._upload_refusals[0]


def test_unreadable_files_are_kept_only_when_small(client, alice, workspace):
    client.force_login(alice)
    page = upload_via_form(client, workspace, "brief.pdf", b"%PDF-1.7\n" + b"x" * (2 * MB)).content.decode()
    assert "kept only up to 1 MB" in page and not MediaAsset.objects.exists()
    upload_via_form(client, workspace, "notes.pdf", b"%PDF-1.7\n" + b"x" * 1000)
    assert MediaAsset.objects.get().kind == MediaAsset.Kind.UNKNOWN


def test_an_upload_is_probed_where_it_lies_and_moved_into_the_library(
    client, alice, workspace, samples, settings, tmp_path, monkeypatch
):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "incoming")
    os.makedirs(settings.FILE_UPLOAD_TEMP_DIR)
    probed = []
    real_probe = probe.probe_file
    monkeypatch.setattr(probe, "probe_file", lambda path, **kw: probed.append(Path(path)) or real_probe(path, **kw))
    client.force_login(alice)
    upload_via_form(client, workspace, "photo.jpg", samples.jpeg(1080, 1080).read_bytes())
    asset = MediaAsset.objects.get()
    assert probed[0].parent == tmp_path / "incoming"  # the upload's own temporary file, not a copy of it
    assert not probed[0].exists() and Path(asset.file.path).exists()  # moved into storage
    assert os.listdir(tmp_path / "incoming") == []
