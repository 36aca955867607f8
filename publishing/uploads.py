"""Upload limits enforced while the request body streams in, before a byte past the limit is stored.

Every uploaded file goes to a temporary file on disk (never into memory), and the first chunk says what it is
(``probe.sniff``): an image stops at the image limit, a video at the video limit, anything else at a small
one. A file over its limit is dropped at once and the rest of its bytes are discarded as they arrive; the view
reads why from ``upload_refusals(request)`` and tells the user, naming the limit.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import SkipFile, TemporaryFileUploadHandler
from django.http import HttpRequest

from . import probe, specs

KIND_WORDS = {"image": "Images", "video": "Videos"}
SNIFF_BYTES = 64  # what probe.sniff reads; a file shorter than this is far below every limit


def upload_limit(kind: str) -> int:
    """Largest accepted upload, in bytes, for a sniffed kind ("image", "video", anything else)."""
    if kind == "image":
        return settings.MEDIA_UPLOAD_MAX_IMAGE_BYTES or specs.UPLOAD_MAX_BYTES["image"]
    if kind == "video":
        return settings.MEDIA_UPLOAD_MAX_VIDEO_BYTES or specs.UPLOAD_MAX_BYTES["video"]
    return specs.UNREADABLE_UPLOAD_MAX_BYTES


def upload_refusals(request: HttpRequest) -> list[str]:
    """Sentences, one per file the handler refused in this request."""
    return getattr(request, "_upload_refusals", [])


class MediaUploadHandler(TemporaryFileUploadHandler):
    def new_file(self, *args: object, **kwargs: object) -> None:
        super().new_file(*args, **kwargs)  # type: ignore[arg-type]
        self.kind: str | None = None
        self.limit = 0
        self.head = b""

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if self.kind is None:
            self.head += raw_data[: SNIFF_BYTES - len(self.head)]
            if len(self.head) >= SNIFF_BYTES:
                self.kind, _format = probe.sniff(self.head)
                self.limit = upload_limit(self.kind)
        if self.kind is not None and start + len(raw_data) > self.limit:
            self._refuse()
        return super().receive_data_chunk(raw_data, start)

    def _refuse(self) -> None:
        limit = specs.size_text(self.limit)
        if self.kind in KIND_WORDS:
            reason = f"{KIND_WORDS[self.kind]} can be at most {limit}; this one is larger, so it was not uploaded."
            if self.kind == "image":
                reason += " Export it smaller or as JPEG and upload it again."
        else:
            reason = (
                f"SocialHub cannot read this file as an image or a video, and such files are kept only up to {limit}."
            )
        refusals = getattr(self.request, "_upload_refusals", None)
        if refusals is None:
            refusals = self.request._upload_refusals = []
        refusals.append(f"{self.file_name}: {reason}")
        raise SkipFile


MAX_FILES_PER_UPLOAD = 20
NO_FILES = "Choose one or more files to upload."


def store_uploads(request: HttpRequest, workspace, user) -> tuple[list, list[str], list[str]]:  # type: ignore[no-untyped-def]
    """The request's files (at most MAX_FILES_PER_UPLOAD) stored in the workspace's library: the assets made,
    the files refused while streaming in (over a limit), and the files kept but unreadable as media."""
    from .services.media import media_asset_upload

    files = request.FILES.getlist("files")[:MAX_FILES_PER_UPLOAD]
    refused = upload_refusals(request)
    if not files and not refused:
        refused = [NO_FILES]
    assets, unreadable = [], []
    for uploaded in files:
        asset = media_asset_upload(workspace=workspace, uploaded=uploaded, user=user)
        assets.append(asset)
        if asset.probe_error:
            unreadable.append(
                f"{asset.original_name} was kept in the library, but cannot be posted: {asset.probe_error}"
            )
    return assets, refused, unreadable
