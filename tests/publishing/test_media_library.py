"""The media library: upload one or many files, probe, thumbnails, what each file fits, mechanical fixes, and the
signed links through which Meta fetches files."""

from __future__ import annotations

import pytest
import requests
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile

from publishing.models import MediaAsset
from publishing.services.media import SIGNED_URL_SALT, media_asset_process, public_url

pytestmark = pytest.mark.django_db


def test_upload_many_files_probes_and_shows_what_they_fit(client, alice, workspace, samples):
    client.force_login(alice)
    files = [
        SimpleUploadedFile("square.png", samples.png(1080, 1080).read_bytes()),
        SimpleUploadedFile("reel.mp4", samples.reel().read_bytes()),
    ]
    response = client.post(f"/w/{workspace.public_id}/media/", {"files": files}, follow=True)
    assert "Uploaded 2 file(s)." in response.content.decode()
    png = MediaAsset.objects.get(original_name="square.png")
    mp4 = MediaAsset.objects.get(original_name="reel.mp4")
    assert (png.kind, png.format, png.width, png.height) == ("image", "png", 1080, 1080)
    assert (mp4.kind, mp4.video_codec, mp4.audio_codec) == ("video", "h264", "aac")
    assert round(mp4.duration_seconds) == 4 and png.thumbnail
    page = response.content.decode()
    assert "Instagram reel" in page and "Make a JPEG copy" in page  # PNG on Instagram: the fix is offered
    # The video's preview is made off the request, by the worker; the card says so until then.
    assert mp4.preview_pending and not mp4.thumbnail and "Making a preview…" in page
    media_asset_process(asset_id=mp4.pk)
    mp4.refresh_from_db()
    assert mp4.thumbnail and not mp4.preview_pending
    card = client.get(f"/w/{workspace.public_id}/media/{mp4.public_id}/").content.decode()
    assert "Making a preview…" not in card and "hx-trigger" not in card


def test_convert_png_to_jpeg_keeps_the_original(client, alice, workspace, upload, samples):
    png = upload(samples.png(1080, 1080))
    client.force_login(alice)
    response = client.post(f"/w/{workspace.public_id}/media/{png.public_id}/fix/convert_to_jpeg/", follow=True)
    jpeg = MediaAsset.objects.get(derived_from=png)
    # The copy is made by the worker: until then it shows as converting and no post can use it.
    assert jpeg.status == MediaAsset.Status.CONVERTING and not jpeg.file
    assert "Converting… from img-1080x1080.png" in response.content.decode()
    assert not MediaAsset.objects.filter(workspace=workspace).usable().filter(pk=jpeg.pk).exists()
    media_asset_process(asset_id=jpeg.pk)
    jpeg.refresh_from_db()
    assert jpeg.status == MediaAsset.Status.READY and jpeg.format == "jpeg" and jpeg.thumbnail
    assert jpeg.original_name == "img-1080x1080 (JPEG copy).jpg" and jpeg.file.name.endswith(".jpg")
    assert MediaAsset.objects.filter(pk=png.pk).exists()


def test_analyst_cannot_upload(client, workspace, agency, samples):
    from tests.factories import AgencyMembershipFactory, UserFactory, WorkspaceMembershipFactory

    analyst = UserFactory()
    AgencyMembershipFactory(agency=agency, user=analyst)
    WorkspaceMembershipFactory(workspace=workspace, user=analyst, role="analyst")
    client.force_login(analyst)
    assert client.get(f"/w/{workspace.public_id}/media/").status_code == 200
    response = client.post(
        f"/w/{workspace.public_id}/media/",
        {"files": [SimpleUploadedFile("a.jpg", samples.jpeg(500, 500).read_bytes())]},
    )
    assert response.status_code == 403 and not MediaAsset.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_signed_link_serves_the_file_and_expires(public_media, upload, samples, settings):
    asset = upload(samples.jpeg(600, 600))
    url = public_url(asset)
    assert url.startswith(public_media.url)
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "image/jpeg"
    assert answer.content == asset.file.open("rb").read()
    tampered = url.replace(
        url.split("/")[-2], signing.dumps("00000000-0000-0000-0000-000000000000", salt=SIGNED_URL_SALT)
    )
    assert requests.get(tampered, timeout=10).status_code == 404
    settings.MEDIA_PUBLIC_URL_MAX_AGE = -1  # every link is now past its lifetime
    assert requests.get(url, timeout=10).status_code == 404


def test_remote_storage_gives_meta_the_storages_own_url(upload, samples, monkeypatch):
    """With S3 configured, Meta fetches presigned URLs from the store and videos go by URL, not by upload."""
    from django.core.files.storage import Storage

    from publishing.services import media as media_services

    asset = upload(samples.reel())

    class PresigningStore(Storage):
        def url(self, name):  # what S3Storage answers: a presigned, expiring URL
            return f"https://bucket.example.com/{name}?X-Amz-Signature=abc&X-Amz-Expires=86400"

    store = PresigningStore()
    monkeypatch.setattr(media_services, "default_storage", store)
    monkeypatch.setattr(type(asset.file), "storage", property(lambda self: store), raising=False)
    assert not media_services.is_stored_locally(asset)
    assert media_services.public_url(asset).startswith("https://bucket.example.com/")
