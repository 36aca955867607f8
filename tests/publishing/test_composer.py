"""The composer: live checks, unsaved input kept, per-channel text, media order and tags, editing through the
transitions module with a version history, and tenancy of its URLs."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from publishing.models import ComposerDraft, Delivery, DeliveryState, MediaAsset, Post, PostVersion
from publishing.services import transitions
from tests.factories import MediaAssetFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def form(channels, **extra):
    day = date.today() + timedelta(days=2)
    data = {
        "channels": [c.pk for c in channels],
        "format": "feed",
        "caption": "Fresh bread at 8",
        "when": "later",
        "date": day.isoformat(),
        "time": "09:30",
    }
    data.update(extra)
    return data


def url(workspace, path: str) -> str:
    return f"/w/{workspace.public_id}/{path}"


def test_checks_as_you_type_show_counters_and_flag_a_story_caption(client, alice, workspace, channels):
    photo = MediaAssetFactory(workspace=workspace, width=1080, height=1920)
    data = form([channels["ig"]], format="story", media=[photo.pk], caption="#one #two @ana hello")
    response = client.post(url(workspace, "compose/check/"), data, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-code="story_caption"' in body and "Instagram shows no caption on stories" in body
    assert "20 / 2200 characters" in body and "2 / 30 hashtags" in body and "1 / 20 mentions" in body
    # The same rule refuses on submit, and nothing is saved.
    response = client.post(url(workspace, "posts/new/"), {**data, "intent": "submit"})
    assert response.status_code == 200 and "Instagram shows no caption on stories" in response.content.decode()
    assert not Post.objects.exists()


def test_what_is_typed_is_kept_and_comes_back_after_a_reload(client, alice, workspace, channels):
    token = "5b0a4f0e-1111-4222-8333-944455556666"
    data = form([channels["page"]], caption="Half-written idea", form_token=token)
    response = client.post(
        url(workspace, "compose/check/"), data, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://x/posts/new/"
    )
    assert response["HX-Replace-Url"].endswith(f"/posts/new/?draft={token}")
    assert ComposerDraft.objects.get().data["caption"] == ["Half-written idea"]
    page = client.get(url(workspace, f"posts/new/?draft={token}")).content.decode()
    assert "Half-written idea" in page and f'value="{token}"' in page
    # A new composer lists it, so a closed tab loses nothing either.
    assert "Half-written idea" in client.get(url(workspace, "posts/new/")).content.decode()


def test_per_channel_text_and_media_order_are_saved_as_chosen(client, alice, workspace, channels):
    first, second, third = (MediaAssetFactory(workspace=workspace) for _ in range(3))
    tags = json.dumps([{"username": "ana.b", "x": 0.25, "y": 0.5}])
    data = form(
        [channels["ig"], channels["page"]],
        media=[third.pk, first.pk, second.pk],
        **{
            f"caption_{channels['page'].pk}": "Longer words for Facebook",
            f"first_comment_{channels['ig'].pk}": "#bread #bakery",
            f"user_tags_{third.pk}": tags,
            f"alt_{third.pk}": "A loaf on a table",
            "intent": "submit",
        },
    )
    response = client.post(url(workspace, "posts/new/"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    post = Post.objects.get()
    assert [i.asset_id for i in post.items.all()] == [third.pk, first.pk, second.pk]
    first_item = post.items.first()
    assert first_item.user_tags == [{"username": "ana.b", "x": 0.25, "y": 0.5}]
    assert first_item.alt_text == "A loaf on a table"
    page = post.deliveries.get(channel=channels["page"])
    ig = post.deliveries.get(channel=channels["ig"])
    assert (page.caption, ig.caption) == ("Longer words for Facebook", "Fresh bread at 8")
    assert (ig.first_comment, page.first_comment) == ("#bread #bakery", "")
    assert {page.state, ig.state} == {DeliveryState.SCHEDULED}
    assert post.versions.get().changed == ["created"]
    assert not ComposerDraft.objects.exists()


def test_editing_a_scheduled_post_reschedules_it_and_records_a_version(client, alice, workspace, channels):
    client.post(url(workspace, "posts/new/"), form([channels["page"]], intent="submit"))
    post = Post.objects.get()
    later = date.today() + timedelta(days=3)
    response = client.post(
        url(workspace, f"posts/{post.public_id}/edit/"),
        form([channels["page"]], caption="Fresh bread at 9", date=later.isoformat(), time="10:15", intent="submit"),
    )
    assert response.status_code == 302
    post.refresh_from_db()
    delivery = post.deliveries.get()
    assert post.caption == "Fresh bread at 9" and post.scheduled_local == f"{later.isoformat()}T10:15:00"
    assert (delivery.state, delivery.due_at) == (DeliveryState.SCHEDULED, post.scheduled_at)
    latest = post.versions.first()
    assert (latest.number, latest.changed, latest.author) == (2, ["caption", "time"], alice)
    # Restoring version 1 opens it in the composer; saving it makes version 3.
    page = client.get(url(workspace, f"posts/{post.public_id}/edit/?version=1")).content.decode()
    assert "Fresh bread at 8" in page and "Version 1 is open" in page


def test_an_edit_that_fails_the_checks_changes_nothing_and_keeps_the_typing(client, alice, workspace, channels):
    client.post(url(workspace, "posts/new/"), form([channels["page"]], intent="submit"))
    post = Post.objects.get()
    response = client.post(
        url(workspace, f"posts/{post.public_id}/edit/"),
        form([channels["page"]], caption="", intent="submit"),  # a text post with no text
    )
    assert response.status_code == 200 and "Write something" in response.content.decode()
    post.refresh_from_db()
    assert post.caption == "Fresh bread at 8" and post.deliveries.get().state == DeliveryState.SCHEDULED
    assert ComposerDraft.objects.get(post=post).data["caption"] == [""]
    assert post.versions.count() == 1


def test_a_post_that_started_publishing_cannot_be_edited(client, alice, workspace, channels):
    client.post(url(workspace, "posts/new/"), form([channels["page"]], intent="submit"))
    post = Post.objects.get()
    delivery = post.deliveries.get()
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.due_at - timedelta(days=5))
    assert transitions.claim(delivery.pk)  # the worker took it a moment before the save
    response = client.post(
        url(workspace, f"posts/{post.public_id}/edit/"), form([channels["page"]], caption="Too late", intent="submit")
    )
    assert "can no longer be changed" in response.content.decode()
    post.refresh_from_db()
    assert post.caption == "Fresh bread at 8"
    assert post.deliveries.get().state == DeliveryState.PUBLISHING


def test_an_editor_changing_an_approved_post_sends_it_for_approval_again(client, alice, bob, workspace, channels):
    client.post(url(workspace, "posts/new/"), form([channels["page"]], intent="submit"))
    post = Post.objects.get()
    client.force_login(bob)
    client.post(
        url(workspace, f"posts/{post.public_id}/edit/"), form([channels["page"]], caption="Edited", intent="submit")
    )
    post.refresh_from_db()
    assert post.approval == Post.Approval.PENDING
    assert post.deliveries.get().state == DeliveryState.AWAITING_APPROVAL


def test_a_save_on_top_of_someone_elses_newer_version_is_asked_first(client, alice, workspace, channels):
    client.post(url(workspace, "posts/new/"), form([channels["page"]], intent="draft"))
    post = Post.objects.get()
    client.post(
        url(workspace, f"posts/{post.public_id}/edit/"), form([channels["page"]], caption="Theirs", intent="draft")
    )
    response = client.post(
        url(workspace, f"posts/{post.public_id}/edit/"),
        form([channels["page"]], caption="Mine", base_version=1, intent="draft"),
    )
    assert "saved this post while you were editing" in response.content.decode()
    post.refresh_from_db()
    assert post.caption == "Theirs"


def test_drafts_need_no_account_and_channels_can_be_added_later(client, alice, workspace, channels):
    response = client.post(url(workspace, "posts/new/"), form([], caption="Idea", intent="draft"))
    post = Post.objects.get()
    assert response.status_code == 302 and not post.deliveries.exists()
    client.post(
        url(workspace, f"posts/{post.public_id}/edit/"),
        form([channels["page"], channels["ig_login"]], caption="Idea", intent="draft"),
    )
    assert set(post.deliveries.values_list("state", flat=True)) == {DeliveryState.DRAFT}
    assert post.versions.first().changed == ["accounts"]


def test_the_composer_and_its_library_run_a_bounded_number_of_queries(client, alice, workspace, channels):
    def measure(path: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url(workspace, path)).status_code == 200
        return len(ctx.captured_queries)

    MediaAssetFactory.create_batch(10, workspace=workspace)
    small = (measure("posts/new/"), measure("compose/library/"))
    MediaAsset.objects.bulk_create(
        MediaAssetFactory.build(workspace=workspace, original_name=f"bulk{i}.jpg") for i in range(1990)
    )
    assert (measure("posts/new/"), measure("compose/library/")) == small


def test_composer_urls_of_another_workspace_are_not_found(client, alice, workspace, channels):
    client.post(url(workspace, "posts/new/"), form([channels["page"]], intent="draft"))
    post = Post.objects.get()
    elsewhere = WorkspaceFactory()
    foreign = MediaAssetFactory(workspace=elsewhere)
    assert client.get(url(workspace, f"compose/media/{foreign.public_id}/row/")).status_code == 404
    assert client.post(url(workspace, f"compose/media/{foreign.public_id}/fix/downscale/")).status_code == 404
    # A file of another workspace sent in the form is refused, never attached.
    response = client.post(url(workspace, "posts/new/"), form([channels["page"]], media=[foreign.pk], intent="draft"))
    assert response.status_code == 200 and Post.objects.count() == 1
    assert PostVersion.objects.count() == 1
    assert post.items.count() == 0


def test_upload_on_the_spot_adds_the_files_to_the_post(client, alice, workspace, channels, samples):
    with samples.jpeg(1080, 1350, "spot.jpg").open("rb") as photo:
        response = client.post(url(workspace, "compose/upload/"), {"files": [photo]}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    asset = MediaAsset.objects.get(original_name="spot.jpg")
    assert f'name="media" value="{asset.pk}"' in body and 'id="upload-errors" hx-swap-oob="true"' in body


def test_a_fix_replaces_the_file_in_the_post_and_keeps_what_was_typed_for_it(
    client, alice, workspace, channels, upload, samples
):
    png = upload(samples.png(1080, 1080))
    data = form([channels["ig"]], media=[png.pk])
    checks = client.post(url(workspace, "compose/check/"), data, HTTP_HX_REQUEST="true").content.decode()
    assert "Make a JPEG copy of" in checks and f"/compose/media/{png.public_id}/fix/convert_to_jpeg/" in checks
    response = client.post(
        url(workspace, f"compose/media/{png.public_id}/fix/convert_to_jpeg/"),
        {f"alt_{png.pk}": "Our shop front", f"user_tags_{png.pk}": '[{"username": "tom_h", "x": 0.5, "y": 0.5}]'},
        HTTP_HX_REQUEST="true",
    )
    copy = MediaAsset.objects.get(derived_from=png)
    row = response.content.decode()
    assert copy.original_name.endswith("(JPEG copy).jpg")
    assert f'name="media" value="{copy.pk}"' in row and 'value="Our shop front"' in row and "tom_h" in row
    assert "SocialHub is making this copy" in row or copy.status == MediaAsset.Status.READY


def test_the_library_picker_finds_files_by_name_and_kind(client, alice, workspace, channels):
    MediaAssetFactory(workspace=workspace, original_name="beach-sunset.jpg")
    MediaAssetFactory(workspace=workspace, original_name="beach-reel.mp4", video=True)
    MediaAssetFactory(workspace=workspace, original_name="menu.jpg")
    body = client.get(url(workspace, "compose/library/?q=beach&kind=image")).content.decode()
    assert "beach-sunset.jpg" in body and "beach-reel.mp4" not in body and "menu.jpg" not in body


def test_reel_options_place_and_collaborators_are_saved(client, alice, workspace, channels):
    reel = MediaAssetFactory(workspace=workspace, video=True)
    cover = MediaAssetFactory(workspace=workspace)
    data = form(
        [channels["ig"]],
        format="reel",
        media=[reel.pk],
        thumb_offset="2.5",
        cover=cover.pk,
        audio_name="Morning jam",
        location_id="110843418940484",
        location_name="Harbourfront Farmers Market",
        collaborators="@maria.k, tom_h",
        intent="submit",
    )  # share_to_feed unticked
    assert client.post(url(workspace, "posts/new/"), data).status_code == 302
    post = Post.objects.get()
    assert (post.thumb_offset_ms, post.cover, post.audio_name, post.share_to_feed) == (
        2500,
        cover,
        "Morning jam",
        False,
    )
    assert (post.location_id, post.location_name) == ("110843418940484", "Harbourfront Farmers Market")
    assert post.collaborators == ["maria.k", "tom_h"]
    assert post.deliveries.get().kind == "ig_reel"


def test_wrong_collaborators_and_cta_without_link_are_explained(client, alice, workspace, channels):
    data = form([channels["page"]], collaborators="not a user!", cta_type="SHOP_NOW", intent="submit")
    body = client.post(url(workspace, "posts/new/"), data).content.decode()
    assert "is not an Instagram username" in body
    data = form([channels["page"]], cta_type="SHOP_NOW", intent="submit")
    body = client.post(url(workspace, "posts/new/"), data).content.decode()
    assert "A call-to-action button needs a link" in body and not Post.objects.exists()


def test_approve_from_an_old_page_does_not_schedule_a_draft_taken_back(client, alice, bob, workspace, channels):
    client.force_login(bob)
    client.post(url(workspace, "posts/new/"), form([channels["page"]], intent="submit"))
    post = Post.objects.get()
    assert post.approval == Post.Approval.PENDING
    client.post(
        url(workspace, f"posts/{post.public_id}/edit/"), form([channels["page"]], caption="Half done", intent="draft")
    )
    client.force_login(alice)  # her page still shows Approve
    client.post(url(workspace, f"posts/{post.public_id}/approve/"))
    post.refresh_from_db()
    assert post.deliveries.get().state == DeliveryState.DRAFT and post.approval != Post.Approval.APPROVED


def test_saving_a_scheduled_post_as_a_draft_says_it_is_no_longer_scheduled(client, alice, workspace, channels):
    client.post(url(workspace, "posts/new/"), form([channels["page"]], intent="submit"))
    post = Post.objects.get()
    response = client.post(
        url(workspace, f"posts/{post.public_id}/edit/"), form([channels["page"]], intent="draft"), follow=True
    )
    assert "It is no longer scheduled" in response.content.decode()
    edit = client.get(url(workspace, f"posts/{post.public_id}/edit/")).content.decode()
    assert 'value="later" id="when-later" checked' in edit  # a draft reopens as "Schedule", not "Publish now"


def test_restored_typing_still_meets_the_conflict_check(client, alice, bob, workspace, channels):
    client.post(url(workspace, "posts/new/"), form([channels["page"]], intent="draft"))
    post = Post.objects.get()
    # Alice types on version 1 (kept as she types), then Bob saves version 2.
    client.post(
        url(workspace, f"posts/{post.public_id}/check/"),
        form([channels["page"]], caption="Alice's words", base_version=1),
        HTTP_HX_REQUEST="true",
    )
    client.force_login(bob)
    client.post(
        url(workspace, f"posts/{post.public_id}/edit/"), form([channels["page"]], caption="Bob's", intent="draft")
    )
    client.force_login(alice)
    page = client.get(url(workspace, f"posts/{post.public_id}/edit/?unsaved=1")).content.decode()
    assert "Alice&#x27;s words" in page and 'name="base_version" value="1"' in page
    response = client.post(
        url(workspace, f"posts/{post.public_id}/edit/"),
        form([channels["page"]], caption="Alice's words", base_version=1, intent="draft"),
    )
    assert "Bob Editor saved this post while you were editing it" in response.content.decode()
    post.refresh_from_db()
    assert post.caption == "Bob's"


def test_a_check_that_arrives_after_the_save_keeps_nothing(client, alice, workspace, channels):
    token = "8c0a4f0e-1111-4222-8333-944455556666"
    client.post(url(workspace, "posts/new/"), form([channels["page"]], form_token=token, intent="draft"))
    client.post(url(workspace, "compose/check/"), form([channels["page"]], form_token=token), HTTP_HX_REQUEST="true")
    assert not ComposerDraft.objects.exists()
    post = Post.objects.get()
    client.post(
        url(workspace, f"posts/{post.public_id}/edit/"), form([channels["page"]], caption="Two", intent="draft")
    )
    client.post(
        url(workspace, f"posts/{post.public_id}/check/"),
        form([channels["page"]], caption="Two", base_version=1),
        HTTP_HX_REQUEST="true",
    )
    assert not ComposerDraft.objects.exists()


def test_the_check_runs_the_same_queries_for_one_file_or_eight(client, alice, workspace, channels):
    photos = MediaAssetFactory.create_batch(8, workspace=workspace)

    def queries(media) -> int:
        with CaptureQueriesContext(connection) as ctx:
            data = form([channels["ig"], channels["page"]], media=[p.pk for p in media])
            client.post(url(workspace, "compose/check/"), data, HTTP_HX_REQUEST="true")
        return len(ctx.captured_queries)

    assert queries(photos[:1]) == queries(photos)


def test_a_failed_post_offers_no_edit_and_says_why(client, alice, workspace, channels):
    from tests.factories import DeliveryFactory, PostFactory

    post = PostFactory(workspace=workspace, author=alice)
    DeliveryFactory(post=post, channel=channels["page"], failed=True)
    listing = client.get(url(workspace, "posts/")).content.decode()
    assert f"/posts/{post.public_id}/edit/" not in listing
    assert "failed or was cancelled" in client.get(url(workspace, f"posts/{post.public_id}/edit/")).content.decode()
