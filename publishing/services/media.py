"""Media library services: upload and probe, mechanical fixes, and how Meta gets the bytes.

Meta fetches `image_url`/`video_url` itself, so those must be public: files on S3 get presigned URLs; files
stored locally are served at PUBLIC_BASE_URL through a signed, expiring link. Videos stored locally do not
rely on that link at all: they go by Meta's resumable upload, so an installation Meta cannot reach can still
publish reels and videos."""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse

from .. import convert, probe, specs
from ..models import MediaAsset

if TYPE_CHECKING:
    from accounts.models import User, Workspace

SIGNED_URL_SALT = "publishing.media.public"
logger = logging.getLogger(__name__)


def asset_info(asset: MediaAsset) -> probe.MediaInfo:
    fields = {f.name for f in dataclasses.fields(probe.MediaInfo)}
    return probe.MediaInfo(**{k: v for k, v in asset.probe.items() if k in fields})


def usable_for(asset: MediaAsset) -> dict[str, list[specs.Problem]]:
    return specs.usable_for(asset_info(asset))


# Previews of images up to this many pixels are made during the upload (decoding at a reduced scale takes
# milliseconds); larger images and every video get theirs from a worker, so a request never waits on FFmpeg.
INLINE_PREVIEW_MAX_PIXELS = 12_000_000
# fix → (kind, format, suffix) of the copy it makes; the suffix names the fix, so copy and original differ.
FIX_RESULTS = {
    specs.FIX_CONVERT_TO_JPEG: (MediaAsset.Kind.IMAGE, "jpeg", " (JPEG copy).jpg"),
    specs.FIX_DOWNSCALE: (MediaAsset.Kind.IMAGE, "jpeg", " (smaller copy).jpg"),
    specs.FIX_FASTSTART: (MediaAsset.Kind.VIDEO, "mp4", " (streaming-ready copy).mp4"),
}


def media_asset_upload(*, workspace: Workspace, uploaded: UploadedFile | File, user: User | None) -> MediaAsset:
    """Store a file in the workspace's library, probe it and make (or queue) its preview. Unreadable files are
    kept (nothing the user uploaded is lost) and say why they cannot be used. An upload that is already a
    temporary file on disk is probed where it lies and moved into storage, never copied."""
    name = Path(uploaded.name or "upload").name
    asset = MediaAsset(workspace=workspace, original_name=name, uploaded_by=user)
    with tempfile.TemporaryDirectory() as tmp, _path_of(uploaded, Path(tmp) / name) as local:
        info = probe.probe_file(local, filename=name)
        _apply_info(asset, info)
        if asset.kind == MediaAsset.Kind.IMAGE and (info.width or 0) * (info.height or 0) <= INLINE_PREVIEW_MAX_PIXELS:
            _save_thumbnail(asset, local, info, Path(tmp))
        else:
            asset.preview_pending = asset.kind != MediaAsset.Kind.UNKNOWN
        if hasattr(uploaded, "temporary_file_path"):
            asset.file.save(name, uploaded, save=False)  # local storage moves the temporary file into place
        else:
            with local.open("rb") as fh:
                asset.file.save(name, File(fh), save=False)
        asset.save()
    if asset.preview_pending:
        _queue_processing(asset)
    return asset


def _apply_info(asset: MediaAsset, info: probe.MediaInfo) -> None:
    readable = info.kind in MediaAsset.Kind.values and not info.error
    asset.kind = info.kind if readable else MediaAsset.Kind.UNKNOWN
    asset.format = info.format or ""
    # The type the content proved to be, never one guessed from the name (a ".html" must not pass as a page).
    asset.mime_type = info.mime_type or "application/octet-stream"
    asset.size_bytes = info.size_bytes
    asset.width, asset.height = info.width, info.height
    asset.duration_seconds, asset.frame_rate = info.duration_seconds, info.frame_rate
    asset.video_codec, asset.audio_codec = info.video_codec or "", info.audio_codec or ""
    asset.probe = dataclasses.asdict(info)
    asset.probe_error = info.error or ""


def offered_fixes(asset: MediaAsset, usable: dict[str, list[specs.Problem]] | None = None) -> set[str]:
    """The fixes the rules offer for this file (``usable``: its ``usable_for``, when the caller has it); none
    for a file the probe could not read or a copy not yet made."""
    if asset.status != MediaAsset.Status.READY or asset.kind == MediaAsset.Kind.UNKNOWN or asset.probe_error:
        return set()
    usable = usable_for(asset) if usable is None else usable
    return {problem.fix for problems in usable.values() for problem in problems if problem.fix}


def media_asset_fix(*, asset: MediaAsset, fix: str, user: User | None) -> MediaAsset:
    """Queue a mechanical fix (convert to JPEG, downscale, move the MP4 index to the front) into a new asset,
    shown as "converting…" until a worker has made it; the original stays in the library. Only a fix the
    rules offer for this very file is run, and only on a file the probe read as an image or a video."""
    if fix not in offered_fixes(asset):
        raise convert.ConversionError(
            "SocialHub offers no such fix for this file: only images and videos it could read are converted, and "
            "only in the ways listed under the file."
        )
    kind, fmt, suffix = FIX_RESULTS[fix]
    new = MediaAsset.objects.create(
        workspace=asset.workspace,
        original_name=f"{Path(asset.original_name).stem}{suffix}",
        kind=kind,
        format=fmt,
        status=MediaAsset.Status.CONVERTING,
        pending_fix=fix,
        derived_from=asset,
        uploaded_by=user,
    )
    _queue_processing(new)
    return new


def media_asset_process(*, asset_id: int) -> MediaAsset | None:
    """The worker's half: make a queued fix's copy, or a preview that was left for later. Safe to run twice."""
    asset = MediaAsset.objects.select_related("workspace", "derived_from").filter(pk=asset_id).first()
    if asset is None or not (asset.status == MediaAsset.Status.CONVERTING or asset.preview_pending):
        return asset  # gone, or done by an earlier run
    try:
        if asset.status == MediaAsset.Status.CONVERTING:
            _convert(asset)
        elif asset.preview_pending:
            with tempfile.TemporaryDirectory() as tmp, local_copy(asset) as local:
                _save_thumbnail(asset, local, asset_info(asset), Path(tmp))
    except Exception:
        # Never leave a card "converting…" for ever: say it failed, and keep the details for the operator.
        logger.exception("media asset %s could not be processed", asset.pk)
        if asset.status == MediaAsset.Status.CONVERTING:
            asset.status, asset.status_message = MediaAsset.Status.FAILED, "Something went wrong; make it again."
    asset.preview_pending = False
    asset.save()
    return asset


def _convert(asset: MediaAsset) -> None:
    """Make the copy and read it; the caller saves the asset."""
    source = asset.derived_from
    with tempfile.TemporaryDirectory() as tmp:
        try:
            if source is None or not source.file:
                raise convert.ConversionError("The original file is no longer in the library.")
            with local_copy(source) as original:
                result = convert.apply_fix(asset.pending_fix, original, Path(tmp) / asset.original_name)
        except convert.ConversionError as exc:
            asset.status, asset.status_message = MediaAsset.Status.FAILED, str(exc)
            return
        info = probe.probe_file(result, filename=asset.original_name)
        _apply_info(asset, info)
        _save_thumbnail(asset, result, info, Path(tmp))
        with result.open("rb") as fh:
            asset.file.save(asset.original_name, File(fh), save=False)
        asset.status, asset.status_message = MediaAsset.Status.READY, ""


def _save_thumbnail(asset: MediaAsset, local: Path, info: probe.MediaInfo, tmp: Path) -> None:
    if info.error:
        return
    try:
        thumb = probe.thumbnail(local, tmp / "thumb.jpg", info=info)
    except probe.ProbeError:
        return  # a missing preview never stops a file from being used
    with thumb.open("rb") as fh:
        asset.thumbnail.save("thumb.jpg", File(fh), save=False)


def _queue_processing(asset: MediaAsset) -> None:
    from ..tasks import process_media_asset

    transaction.on_commit(lambda: process_media_asset.delay(asset.pk))


@contextmanager
def _path_of(uploaded: UploadedFile | File, fallback: Path) -> Iterator[Path]:
    """A path to the upload's bytes: its temporary file, the file it was opened from, or one copy at ``fallback``."""
    if hasattr(uploaded, "temporary_file_path"):
        yield Path(uploaded.temporary_file_path())
        return
    opened_from = getattr(getattr(uploaded, "file", None), "name", None)
    if isinstance(opened_from, str) and Path(opened_from).is_file():
        yield Path(opened_from)
        return
    with fallback.open("wb") as fh:
        for chunk in uploaded.chunks():
            fh.write(chunk)
    yield fallback


@contextmanager
def local_copy(asset: MediaAsset) -> Iterator[Path]:
    """A filesystem path for an asset's bytes: the file itself on local storage, a temporary copy otherwise."""
    storage = asset.file.storage
    if isinstance(storage, FileSystemStorage):
        yield Path(storage.path(asset.file.name))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(asset.file.name).name
        with asset.file.open("rb") as src, path.open("wb") as dst:
            for chunk in src.chunks():
                dst.write(chunk)
        yield path


def is_stored_locally(asset: MediaAsset) -> bool:
    return isinstance(asset.file.storage, FileSystemStorage)


def public_url(asset: MediaAsset) -> str:
    """A URL Meta can fetch: the storage's own (presigned) URL for remote storage, else a signed link at
    PUBLIC_BASE_URL that expires after MEDIA_PUBLIC_URL_MAX_AGE seconds."""
    if not is_stored_locally(asset):
        return default_storage.url(asset.file.name)
    signed = signing.dumps(str(asset.public_id), salt=SIGNED_URL_SALT, compress=True)
    filename = Path(asset.file.name).name
    return settings.PUBLIC_BASE_URL + reverse(
        "publishing:media_public", kwargs={"signed": signed, "filename": filename}
    )


def asset_from_signed(signed: str) -> MediaAsset | None:
    try:
        public_id = signing.loads(signed, salt=SIGNED_URL_SALT, max_age=settings.MEDIA_PUBLIC_URL_MAX_AGE)
    except signing.BadSignature:
        return None
    return MediaAsset.objects.filter(public_id=public_id).first()
