"""Media library services: upload and probe, mechanical fixes, and how Meta gets the bytes.

Meta fetches `image_url`/`video_url` itself, so those must be public: files on S3 get presigned URLs; files
stored locally are served at PUBLIC_BASE_URL through a signed, expiring link. Videos stored locally do not
rely on that link at all: they go by Meta's resumable upload, so an installation Meta cannot reach can still
publish reels and videos."""

from __future__ import annotations

import dataclasses
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
from django.urls import reverse

from .. import convert, probe, specs
from ..models import MediaAsset

if TYPE_CHECKING:
    from accounts.models import User, Workspace

SIGNED_URL_SALT = "publishing.media.public"


def asset_info(asset: MediaAsset) -> probe.MediaInfo:
    fields = {f.name for f in dataclasses.fields(probe.MediaInfo)}
    return probe.MediaInfo(**{k: v for k, v in asset.probe.items() if k in fields})


def usable_for(asset: MediaAsset) -> dict[str, list[specs.Problem]]:
    return specs.usable_for(asset_info(asset))


def media_asset_upload(*, workspace: Workspace, uploaded: UploadedFile | File, user: User | None) -> MediaAsset:
    """Store a file in the workspace's library, probe it and make its thumbnail. Unreadable files are kept
    (nothing the user uploaded is lost) and say why they cannot be used."""
    name = Path(uploaded.name or "upload").name
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / name
        with local.open("wb") as fh:
            for chunk in uploaded.chunks():
                fh.write(chunk)
        info = probe.probe_file(local, filename=name)
        asset = MediaAsset(workspace=workspace, original_name=name, uploaded_by=user)
        _apply_info(asset, info)
        with local.open("rb") as fh:
            asset.file.save(name, File(fh), save=False)
        if not info.error:
            try:
                thumb = probe.thumbnail(local, Path(tmp) / "thumb.jpg")
            except probe.ProbeError:
                pass
            else:
                with thumb.open("rb") as fh:
                    asset.thumbnail.save("thumb.jpg", File(fh), save=False)
        asset.save()
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


def media_asset_fix(*, asset: MediaAsset, fix: str, user: User | None) -> MediaAsset:
    """Apply a mechanical fix (convert to JPEG, downscale, move the MP4 index to the front) into a new asset;
    the original stays in the library."""
    suffix = ".mp4" if fix == specs.FIX_FASTSTART else ".jpg"
    stem = Path(asset.original_name).stem
    with tempfile.TemporaryDirectory() as tmp, local_copy(asset) as source:
        result = convert.apply_fix(fix, source, Path(tmp) / f"{stem}{suffix}")
        with result.open("rb") as fh:
            new = media_asset_upload(workspace=asset.workspace, uploaded=File(fh, name=f"{stem}{suffix}"), user=user)
    new.derived_from = asset
    new.save(update_fields=["derived_from"])
    return new


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
