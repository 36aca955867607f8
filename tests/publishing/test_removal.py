"""Duplicating and deleting posts (in SocialHub only, or on Facebook and Instagram too, through the sandbox), and
duplicating and deleting library files."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.access import get_workspace_for_user
from accounts.services.channels import channel_client
from publishing import tasks
from publishing.models import Delivery, DeliveryState, MediaAsset, Post
from publishing.services import removal, transitions
from publishing.services.posts import MediaItem, post_create, post_submit
from socialhub.graph import GraphError
from tests.factories import (
    AgencyMembershipFactory,
    DeliveryFactory,
    MediaAssetFactory,
    PostFactory,
    PostMediaFactory,
    UserFactory,
    WorkspaceFactory,
    WorkspaceMembershipFactory,
)
from tests.publishing.conftest import HARBOR_PAGE, run_to_end

pytestmark = pytest.mark.django_db


def member(agency, workspace, role):
    person = UserFactory()
    AgencyMembershipFactory(agency=agency, user=person)
    WorkspaceMembershipFactory(workspace=workspace, user=person, role=role)
    return person


def url(workspace, post, action):
    return f"/w/{workspace.public_id}/posts/{post.public_id}/{action}/"


def published(workspace, alice, sandbox_control, channels, *keys, media=None, caption="Spring menu is here"):
    """A post published for real on the sandbox, on the channels named by `keys`."""
    post = post_create(
        workspace=workspace, author=alice, channels=[channels[k] for k in keys], caption=caption, media=media
    )
    post_submit(post=post, access=get_workspace_for_user(alice, workspace.public_id))
    for delivery in post.deliveries.all():
        delivery = run_to_end(delivery, sandbox_control)
        assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message
    return post


def on_meta(delivery: Delivery) -> bool:
    """Whether Meta (the sandbox) still has the delivery's post."""
    try:
        channel_client(delivery.channel).get(delivery.remote_id, fields="id")
    except GraphError as exc:
        assert (exc.code, exc.subcode) == (100, 33), exc
        return False
    return True


@pytest.fixture
def queued(monkeypatch):
    """Post ids handed to the deletion task, which the tests then run themselves."""
    sent: list[int] = []
    monkeypatch.setattr(tasks.remove_post_from_meta, "delay", sent.append)
    return sent


@pytest.fixture
def delete_on_meta(client, django_capture_on_commit_callbacks, queued):
    """Confirm the deletion with "Also delete it on Facebook/Instagram" ticked, as the person does."""

    def _delete(workspace, post, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url(workspace, post, "delete"), {"confirmed": "1", "on_meta": "1"}, **kwargs)

    return _delete


# --- duplicate -----------------------------------------------------------------------------------------------
def test_duplicate_makes_a_draft_with_the_same_content_media_and_channels(client, alice, workspace, channels):
    later = timezone.now() + timedelta(days=3)
    post = PostFactory(
        workspace=workspace, author=alice, caption="Brunch", link="https://example.com", first_comment="#brunch"
    )
    Post.objects.filter(pk=post.pk).update(
        scheduled_at=later, approval=Post.Approval.APPROVED, collaborators=["maplethread.studio"]
    )
    first = PostMediaFactory(post=post, user_tags=[{"username": "harboryoga", "x": 0.2, "y": 0.3}], alt_text="Eggs")
    second = PostMediaFactory(post=post, alt_text="Coffee")
    DeliveryFactory(post=post, channel=channels["ig"], scheduled=True, caption_override="Brunch on Instagram")
    DeliveryFactory(post=post, channel=channels["page"], published=True, first_comment_override="Book now")

    response = client.post(url(workspace, post, "duplicate"))
    copy = Post.objects.exclude(pk=post.pk).get()
    assert response.status_code == 302
    assert response["Location"] == f"/w/{workspace.public_id}/posts/{copy.public_id}/edit/"
    assert (copy.caption, copy.link, copy.first_comment, copy.collaborators) == (
        "Brunch",
        "https://example.com",
        "#brunch",
        ["maplethread.studio"],
    )
    assert copy.scheduled_at is None and copy.approval == Post.Approval.NOT_REQUIRED and copy.author == alice
    items = list(copy.items.order_by("position"))
    assert [(i.asset_id, i.alt_text, i.user_tags) for i in items] == [
        (first.asset_id, "Eggs", first.user_tags),
        (second.asset_id, "Coffee", []),
    ]
    deliveries = {d.channel_id: d for d in copy.deliveries.all()}
    assert {d.state for d in deliveries.values()} == {DeliveryState.DRAFT}
    assert deliveries[channels["ig"].pk].caption_override == "Brunch on Instagram"
    assert deliveries[channels["page"].pk].first_comment_override == "Book now"
    assert not any(d.remote_id or d.due_at for d in deliveries.values())
    assert post.deliveries.filter(state=DeliveryState.PUBLISHED).count() == 1  # the original is untouched


def test_duplicate_needs_the_draft_role_and_the_workspace(client, alice, agency, workspace, charlie):
    post = PostFactory(workspace=workspace, author=alice)
    client.force_login(member(agency, workspace, "client"))
    assert client.post(url(workspace, post, "duplicate")).status_code == 403
    client.force_login(charlie)
    assert client.post(url(workspace, post, "duplicate")).status_code == 404
    client.force_login(alice)
    elsewhere = WorkspaceFactory(agency=agency)
    assert client.post(url(elsewhere, post, "duplicate")).status_code == 404
    assert client.get(url(workspace, post, "duplicate")).status_code == 405
    assert Post.objects.count() == 1


# --- delete: who, and when -----------------------------------------------------------------------------------
def test_a_draft_is_deleted_at_once(client, alice, workspace, channels):
    post = PostFactory(workspace=workspace, author=alice)
    DeliveryFactory(post=post, channel=channels["page"])
    response = client.post(url(workspace, post, "delete"), follow=True)
    assert not Post.objects.filter(pk=post.pk).exists()
    assert "Post deleted." in response.content.decode()


def test_a_scheduled_post_is_cancelled_then_deleted(client, alice, workspace, channels):
    post = PostFactory(workspace=workspace, author=alice)
    delivery = DeliveryFactory(post=post, channel=channels["page"], scheduled=True)
    response = client.post(url(workspace, post, "delete"), headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Post deleted." in response.content.decode()
    assert not Post.objects.filter(pk=post.pk).exists()
    assert transitions.claim(delivery.pk) is None  # a worker that comes for it now finds nothing


def test_a_worker_that_claims_first_wins_and_nothing_is_cancelled(client, alice, workspace, channels, monkeypatch):
    post = PostFactory(workspace=workspace, author=alice)
    racing = DeliveryFactory(post=post, channel=channels["page"], scheduled=True)
    other = DeliveryFactory(post=post, channel=channels["ig"], scheduled=True)
    cancel = transitions.cancel

    def claimed_meanwhile(p):
        assert transitions.claim(racing.pk)  # the dispatcher, a moment before the cancel
        return cancel(p)

    monkeypatch.setattr(transitions, "cancel", claimed_meanwhile)
    response = client.post(url(workspace, post, "delete"), follow=True)
    assert "being published right now on Harbor Yoga Studio" in response.content.decode()
    assert Post.objects.filter(pk=post.pk).exists()
    other.refresh_from_db()
    assert other.state == DeliveryState.SCHEDULED  # the cancel was rolled back with the refusal


def test_deleting_is_refused_while_publishing(client, alice, workspace, channels):
    post = PostFactory(workspace=workspace, author=alice)
    DeliveryFactory(post=post, channel=channels["ig"], state=DeliveryState.PROCESSING)
    DeliveryFactory(post=post, channel=channels["page"], scheduled=True)
    page = client.get(url(workspace, post, "delete")).content.decode()
    assert "being published right now on @harboryoga" in page and "Delete post</button>" not in page
    response = client.post(url(workspace, post, "delete"), {"confirmed": "1"}, follow=True)
    assert "being published right now on @harboryoga" in response.content.decode()
    assert post.deliveries.get(channel=channels["page"]).state == DeliveryState.SCHEDULED


def test_who_may_delete(client, alice, agency, workspace, bob, channels):
    own_draft = PostFactory(workspace=workspace, author=bob)
    DeliveryFactory(post=own_draft, channel=channels["page"])
    own_waiting = PostFactory(workspace=workspace, author=bob)
    DeliveryFactory(post=own_waiting, channel=channels["page"], state=DeliveryState.AWAITING_APPROVAL)
    alices = PostFactory(workspace=workspace, author=alice)
    DeliveryFactory(post=alices, channel=channels["page"])

    for role in ("client", "analyst"):
        client.force_login(member(agency, workspace, role))
        assert client.post(url(workspace, own_draft, "delete")).status_code == 403
        assert client.get(url(workspace, alices, "delete")).status_code == 403
    client.force_login(bob)  # an editor: only his own post while it is only a draft
    assert client.post(url(workspace, alices, "delete")).status_code == 403
    assert client.post(url(workspace, own_waiting, "delete")).status_code == 403
    assert client.post(url(workspace, own_draft, "delete")).status_code == 302
    assert set(Post.objects.values_list("pk", flat=True)) == {own_waiting.pk, alices.pk}
    list_page = client.get(f"/w/{workspace.public_id}/posts/").content.decode()
    assert url(workspace, alices, "delete") not in list_page


def test_other_workspaces_posts_are_not_found(client, alice, agency, workspace, charlie):
    elsewhere = WorkspaceFactory(agency=agency)
    theirs = PostFactory(workspace=elsewhere, author=alice)
    client.force_login(alice)
    assert client.get(url(workspace, theirs, "delete")).status_code == 404
    assert client.post(url(workspace, theirs, "delete"), {"confirmed": "1"}).status_code == 404
    client.force_login(charlie)
    assert client.post(url(elsewhere, theirs, "delete"), {"confirmed": "1"}).status_code == 404
    assert Post.objects.filter(pk=theirs.pk).exists()


# --- delete what is published --------------------------------------------------------------------------------
def test_published_post_asks_first_and_stays_on_meta_without_the_checkbox(
    client, alice, workspace, channels, sandbox_control
):
    post = published(workspace, alice, sandbox_control, channels, "page")
    delivery = post.deliveries.get()
    assert client.post(url(workspace, post, "delete"))["Location"] == url(workspace, post, "delete")
    page = client.get(url(workspace, post, "delete")).content.decode()
    assert "Also delete it on Facebook" in page and 'name="on_meta"' in page
    assert "stays public on" in page
    response = client.post(url(workspace, post, "delete"), {"confirmed": "1"}, follow=True)
    assert "It stays public on Harbor Yoga Studio (Facebook)." in response.content.decode()
    assert not Post.objects.filter(pk=post.pk).exists()
    assert on_meta(delivery)


def test_delete_on_facebook_and_instagram_then_here(
    client, alice, workspace, channels, sandbox_control, public_media, upload, samples, queued, delete_on_meta
):
    photo = upload(samples.jpeg(1080, 1080))
    post = published(workspace, alice, sandbox_control, channels, "page", "ig", media=[MediaItem(photo)])
    fb, ig = post.deliveries.get(channel=channels["page"]), post.deliveries.get(channel=channels["ig"])
    page = client.get(url(workspace, post, "delete")).content.decode()
    assert "Also delete it on Facebook and Instagram" in page

    response = delete_on_meta(workspace, post, follow=True)
    assert "Deleting it on Facebook and Instagram" in response.content.decode()
    assert queued == [post.pk]
    post.refresh_from_db()
    assert post.removal_requested_at and on_meta(fb) and on_meta(ig)
    card = client.get(url(workspace, post, "deliveries"), headers={"HX-Request": "true"}).content.decode()
    assert "Deleting it on Facebook and Instagram…" in card and "every 2s" in card

    assert tasks.remove_post_from_meta(post.pk) == "removed"
    assert not Post.objects.filter(pk=post.pk).exists()
    assert not on_meta(fb) and not on_meta(ig)
    assert tasks.remove_post_from_meta(post.pk) == "gone"  # a second run changes nothing
    gone = client.get(url(workspace, post, "deliveries"), headers={"HX-Request": "true"})
    assert gone.status_code == 404 and gone["HX-Refresh"] == "true"  # the page reloads, and stops polling


def test_already_deleted_on_meta_counts_as_deleted(
    alice, workspace, channels, sandbox_control, client, queued, delete_on_meta
):
    post = published(workspace, alice, sandbox_control, channels, "page")
    delivery = post.deliveries.get()
    delete_on_meta(workspace, post)
    channel_client(delivery.channel).delete(delivery.remote_id)  # someone deleted it on Facebook meanwhile
    assert removal.post_remove_from_meta(post_id=post.pk).kind == "removed"
    assert not Post.objects.filter(pk=post.pk).exists()


def test_meta_refuses_the_post_stays_with_the_reason_and_can_be_tried_again(
    client, alice, workspace, channels, sandbox_control, queued, delete_on_meta
):
    post = published(workspace, alice, sandbox_control, channels, "page")
    delivery = post.deliveries.get()
    delete_on_meta(workspace, post)
    sandbox_control.fault(path=rf"/{delivery.remote_id}$", method="DELETE", error={"preset": "permission"})

    assert tasks.remove_post_from_meta(post.pk) == "kept"
    post.refresh_from_db()
    assert "Facebook did not delete the post on Harbor Yoga Studio" in post.removal_error
    assert "Requires pages_manage_posts permission" in post.removal_error  # Meta's own words
    assert on_meta(delivery)
    listed = client.get(f"/w/{workspace.public_id}/posts/").content.decode()
    assert "Not deleted everywhere" in listed and "Try again" in listed and "pages_manage_posts" in listed
    card = client.get(url(workspace, post, "deliveries"), headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in card  # nothing under way: no polling

    delete_on_meta(workspace, post)
    post.refresh_from_db()
    assert post.removal_error == "" and queued == [post.pk, post.pk]
    assert tasks.remove_post_from_meta(post.pk) == "removed"
    assert not on_meta(delivery) and not Post.objects.filter(pk=post.pk).exists()


def test_a_passing_outage_is_retried_before_it_is_reported(
    alice, workspace, channels, sandbox_control, client, queued, delete_on_meta
):
    post = published(workspace, alice, sandbox_control, channels, "page")
    delete_on_meta(workspace, post)
    sandbox_control.fault(method="DELETE", error={"preset": "transient"}, count=2)
    outcome = removal.post_remove_from_meta(post_id=post.pk, last_try=False)
    assert outcome.kind == "retry" and outcome.retry_after
    post.refresh_from_db()
    assert post.removal_error == ""
    assert removal.post_remove_from_meta(post_id=post.pk, last_try=True).kind == "kept"
    post.refresh_from_db()
    assert "temporarily unavailable" in post.removal_error
    assert removal.post_remove_from_meta(post_id=post.pk).kind == "removed"


def test_a_partial_deletion_is_remembered(
    client, alice, workspace, channels, sandbox_control, public_media, upload, samples, queued, delete_on_meta
):
    photo = upload(samples.jpeg(1080, 1080))
    post = published(workspace, alice, sandbox_control, channels, "page", "ig", media=[MediaItem(photo)])
    fb, ig = post.deliveries.get(channel=channels["page"]), post.deliveries.get(channel=channels["ig"])
    delete_on_meta(workspace, post)
    sandbox_control.fault(path=rf"/{fb.remote_id}$", method="DELETE", error={"preset": "permission"})
    assert removal.post_remove_from_meta(post_id=post.pk).kind == "kept"
    fb.refresh_from_db()
    ig.refresh_from_db()
    assert fb.removed_from_meta_at is None and ig.removed_from_meta_at and not on_meta(ig)
    card = client.get(url(workspace, post, "deliveries"), headers={"HX-Request": "true"}).content.decode()
    assert "Deleted on Instagram" in card and "Not deleted everywhere" in card

    assert removal.post_remove_from_meta(post_id=post.pk).kind == "removed"
    deletes = [r for r in sandbox_control.requests(limit=500) if r["method"] == "DELETE"]
    assert sum(ig.remote_id in r["path"] for r in deletes) == 1  # Instagram was not asked twice
    assert not on_meta(fb) and not Post.objects.filter(pk=post.pk).exists()


def test_instagram_login_posts_are_only_removed_here(
    client, alice, workspace, channels, sandbox_control, public_media, upload, samples, queued, delete_on_meta
):
    photo = upload(samples.jpeg(1080, 1080))
    post = published(workspace, alice, sandbox_control, channels, "page", "ig_login", media=[MediaItem(photo)])
    fb, ig = post.deliveries.get(channel=channels["page"]), post.deliveries.get(channel=channels["ig_login"])
    page = client.get(url(workspace, post, "delete")).content.decode()
    assert "connected with Instagram Login" in page and "Delete it in the Instagram app" in page
    assert "Also delete it on Facebook" in page and "Also delete it on Facebook and Instagram" not in page

    response = delete_on_meta(workspace, post, follow=True)
    assert "Delete it yourself in the Instagram app on @maplethread.studio (Instagram)." in response.content.decode()
    assert tasks.remove_post_from_meta(post.pk) == "removed"
    assert not on_meta(fb) and on_meta(ig)  # the sandbox, like Meta, lets no Instagram-Login app delete it


def test_only_instagram_login_published_is_removed_at_once(
    client, alice, workspace, channels, sandbox_control, public_media, upload, samples, queued, delete_on_meta
):
    photo = upload(samples.jpeg(1080, 1080))
    post = published(workspace, alice, sandbox_control, channels, "ig_login", media=[MediaItem(photo)])
    page = client.get(url(workspace, post, "delete")).content.decode()
    assert 'name="on_meta"' not in page
    delete_on_meta(workspace, post)
    assert queued == [] and not Post.objects.filter(pk=post.pk).exists()


def test_a_disconnected_channel_is_named_in_the_reason(
    alice, workspace, channels, sandbox_control, client, queued, delete_on_meta
):
    post = published(workspace, alice, sandbox_control, channels, "page")
    delete_on_meta(workspace, post)
    client.post(f"/w/{workspace.public_id}/channels/{channels['page'].public_id}/disconnect/")
    assert removal.post_remove_from_meta(post_id=post.pk).kind == "kept"
    post.refresh_from_db()
    assert post.removal_error.startswith("Harbor Yoga Studio is disconnected")


@pytest.mark.django_db(transaction=True)
def test_a_worker_deletes_it_on_facebook_then_here(celery_app, celery_worker, client, alice, workspace, channels):
    remote = channel_client(channels["page"]).post(f"{HARBOR_PAGE}/feed", data={"message": "Gone by Friday"})["id"]
    post = PostFactory(workspace=workspace, author=alice, caption="Gone by Friday")
    delivery = DeliveryFactory(post=post, channel=channels["page"], published=True, remote_id=remote)
    client.post(url(workspace, post, "delete"), {"confirmed": "1", "on_meta": "1"})
    deadline = time.monotonic() + 30
    while Post.objects.filter(pk=post.pk).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not Post.objects.filter(pk=post.pk).exists()
    assert not on_meta(delivery)


# --- the media library ---------------------------------------------------------------------------------------
def media_url(workspace, asset, action):
    return f"/w/{workspace.public_id}/media/{asset.public_id}/{action}/"


def test_duplicate_a_file(client, alice, workspace, upload, samples):
    client.force_login(alice)
    photo = upload(samples.jpeg(1080, 1080, "menu.jpg"))
    response = client.post(media_url(workspace, photo, "duplicate"), follow=True)
    copy = MediaAsset.objects.exclude(pk=photo.pk).get()
    assert copy.original_name == "menu (copy).jpg" and "menu (copy).jpg" in response.content.decode()
    assert (copy.kind, copy.width, copy.height, copy.probe) == (photo.kind, photo.width, photo.height, photo.probe)
    assert copy.file.name != photo.file.name and copy.thumbnail.name != photo.thumbnail.name
    assert copy.file.read() == photo.file.read() and copy.uploaded_by == alice


def test_delete_a_file_that_no_post_uses(client, alice, workspace, upload, samples, django_capture_on_commit_callbacks):
    client.force_login(alice)
    photo = upload(samples.jpeg(1080, 1080))
    storage, names = photo.file.storage, [photo.file.name, photo.thumbnail.name]
    with django_capture_on_commit_callbacks(execute=True):
        with_htmx = client.post(media_url(workspace, photo, "delete"), headers={"HX-Request": "true"})
    assert with_htmx["HX-Redirect"] == f"/w/{workspace.public_id}/media/"
    assert not MediaAsset.objects.filter(pk=photo.pk).exists()
    assert not any(storage.exists(name) for name in names)


def test_a_file_a_post_uses_is_not_deleted(client, alice, workspace, channels):
    client.force_login(alice)
    item = PostMediaFactory(post=PostFactory(workspace=workspace))
    PostFactory(workspace=workspace, cover=item.asset)
    response = client.post(media_url(workspace, item.asset, "delete"), follow=True)
    assert f"{item.asset.original_name} is used by 2 posts." in response.content.decode()
    assert MediaAsset.objects.filter(pk=item.asset.pk).exists()
    cover = MediaAssetFactory(workspace=workspace)
    PostFactory(workspace=workspace, cover=cover)
    with pytest.raises(removal.Refused, match="is used by 1 post."):
        removal.media_asset_delete(asset=cover)


def test_library_actions_need_the_draft_role_and_the_workspace(client, agency, workspace, charlie, upload, samples):
    photo = upload(samples.jpeg(1080, 1080))
    client.force_login(member(agency, workspace, "analyst"))
    for action in ("delete", "duplicate"):
        assert client.post(media_url(workspace, photo, action)).status_code == 403
    assert f"media/{photo.public_id}/delete/" not in client.get(f"/w/{workspace.public_id}/media/").content.decode()
    client.force_login(charlie)
    for action in ("delete", "duplicate"):
        assert client.post(media_url(workspace, photo, action)).status_code == 404
    assert MediaAsset.objects.count() == 1
