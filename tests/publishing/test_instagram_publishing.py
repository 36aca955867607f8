"""Every Instagram post type, published end to end against the sandbox; checks what the sandbox holds."""

from __future__ import annotations

import json

import pytest

from accounts.services.channels import channel_client
from publishing.models import DeliveryState, Post
from publishing.services.posts import MediaItem, post_create, post_submit
from tests.publishing.conftest import run_to_end
from tests.publishing.media_samples import video

pytestmark = [pytest.mark.django_db(transaction=True)]


def submit(access_for, post):
    post_submit(post=post, access=access_for(post.workspace))
    return post.deliveries.get()


@pytest.fixture
def access_for(alice):
    from accounts.access import get_workspace_for_user

    return lambda workspace: get_workspace_for_user(alice, workspace.public_id)


def held_media(channel, media_id):
    return channel_client(channel).get(
        media_id, fields="id,caption,media_type,media_product_type,permalink,children{id,media_type}"
    )


def test_image_with_tags_location_collaborators_and_first_comment(
    public_media, channels, upload, samples, workspace, alice, access_for, sandbox_control
):
    ig = channels["ig"]
    photo = upload(samples.jpeg(1080, 1080))
    post = post_create(
        workspace=workspace,
        author=alice,
        channels=[ig],
        caption="Sunrise flow #yoga @copperkettlecafe",
        media=[MediaItem(photo, user_tags=[{"username": "copperkettlecafe", "x": 0.5, "y": 0.6}])],
        first_comment="Book a class: link in bio",
        collaborators=["copperkettlecafe"],
        location_id=sandbox_control.state()["places"][0]["id"],
    )
    delivery = run_to_end(submit(access_for, post), sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message
    media = channel_client(ig).get(delivery.remote_id, fields="id,caption,media_type,permalink")
    assert media["caption"] == "Sunrise flow #yoga @copperkettlecafe"
    assert media["media_type"] == "IMAGE"
    assert media["id"] == delivery.remote_id
    comments = channel_client(ig).get(f"{delivery.remote_id}/comments", fields="id,text")["data"]
    assert [c["text"] for c in comments] == ["Book a class: link in bio"]
    assert delivery.first_comment_id == comments[0]["id"]


def test_reel_uploaded_from_this_server(
    public_media, channels, upload, samples, workspace, alice, access_for, sandbox_control
):
    ig = channels["ig"]
    reel = upload(samples.reel())
    post = post_create(
        workspace=workspace,
        author=alice,
        channels=[ig],
        caption="New studio tour",
        media=[MediaItem(reel)],
        format=Post.Format.REEL,
        share_to_feed=False,
        audio_name="Studio sounds",
        thumb_offset_ms=1000,
    )
    delivery = run_to_end(submit(access_for, post), sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message
    assert delivery.uploaded_ids == [delivery.container_id]  # bytes went by resumable upload, not by URL
    media = held_media(ig, delivery.remote_id)
    assert media["media_product_type"] == "REELS"
    steps = [s for a in delivery.attempt_log.all() for s in a.steps]
    assert any(s.startswith("upload") for s in steps)


@pytest.mark.parametrize("kind", ["image", "video"])
def test_story(public_media, channels, upload, samples, workspace, alice, access_for, sandbox_control, kind):
    ig = channels["ig_login"]  # stories through the Instagram-Login host too
    asset = upload(samples.jpeg(1080, 1920) if kind == "image" else samples.reel())
    post = post_create(
        workspace=workspace, author=alice, channels=[ig], media=[MediaItem(asset)], format=Post.Format.STORY
    )
    delivery = run_to_end(submit(access_for, post), sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message
    assert held_media(ig, delivery.remote_id)["media_product_type"] == "STORY"


def test_carousel_with_tags_per_child(
    public_media, channels, upload, samples, workspace, alice, access_for, sandbox_control
):
    ig = channels["ig"]
    first, second = upload(samples.jpeg(1080, 1080, "a.jpg")), upload(samples.jpeg(1080, 1350, "b.jpg"))
    clip = upload(video(samples.dir, "portrait-4x5.mp4", size=(1080, 1350), seconds=4))
    post = post_create(
        workspace=workspace,
        author=alice,
        channels=[ig],
        caption="Three ways to start the day",
        media=[
            MediaItem(first, user_tags=[{"username": "copperkettlecafe", "x": 0.1, "y": 0.2}]),
            MediaItem(second),
            MediaItem(clip),
        ],
    )
    delivery = run_to_end(submit(access_for, post), sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message
    assert len(delivery.child_container_ids) == 3
    media = held_media(ig, delivery.remote_id)
    assert media["media_type"] == "CAROUSEL_ALBUM"
    assert [c["media_type"] for c in media["children"]["data"]] == ["IMAGE", "IMAGE", "VIDEO"]


def test_image_with_product_tags_found_in_the_catalog(
    public_media, channels, upload, samples, workspace, alice, access_for, sandbox_control
):
    from publishing.services.catalog import CatalogUnavailable, catalog_product_search

    ig = channels["ig"]
    products = catalog_product_search(channel=ig, query="")
    assert products, "the account's catalog lists products"
    with pytest.raises(CatalogUnavailable):
        catalog_product_search(channel=channels["ig_login"], query="")
    photo = upload(samples.jpeg(1080, 1080))
    tag = {"product_id": products[0].product_id, "name": products[0].name, "x": 0.4, "y": 0.7}
    post = post_create(
        workspace=workspace,
        author=alice,
        channels=[ig],
        caption="Shop the look",
        media=[MediaItem(photo, product_tags=[tag])],
    )
    delivery = run_to_end(submit(access_for, post), sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message
    sent = [r["params"]["product_tags"] for r in sandbox_control.requests(limit=50) if "product_tags" in r["params"]]
    # The name is kept for the composer; Meta gets only what it takes.
    assert [json.loads(s) for s in sent] == [[{"product_id": products[0].product_id, "x": 0.4, "y": 0.7}]]
