"""A published post's link on Instagram or Facebook comes from the reads of the channel's posts that the inbox poll
and the insights sync make anyway: publishing itself asks Meta for no link. A link already stored stays, another
channel's delivery is never touched, and only links a person can open (https) are kept."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.services.channels import channel_client
from analytics.services.sync import sync_channel
from inbox.services.sync import channel_poll
from publishing.models import Delivery, DeliveryState
from publishing.services.posts import MediaItem, deliveries_learn_permalinks
from tests.factories import ChannelFactory, DeliveryFactory
from tests.publishing.conftest import HARBOR_PAGE, run_to_end

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def published(submit, sandbox_control):
    """`published(channel_key, **post)`: a post published for real through the sandbox, its delivery without a
    link, as publishing leaves it."""

    def _published(channel: str, **kwargs) -> Delivery:
        delivery = run_to_end(submit(channel, **kwargs), sandbox_control)
        assert delivery.state == DeliveryState.PUBLISHED, delivery.error_message
        Delivery.objects.filter(pk=delivery.pk).update(permalink="")
        delivery.refresh_from_db()
        return delivery

    return _published


@pytest.fixture
def photo(upload, samples):
    return lambda: MediaItem(upload(samples.jpeg(1080, 1080)))


def ig_link(channel, media_id: str) -> str:
    return channel_client(channel).get(media_id, fields="id,permalink")["permalink"]


def page_link(channel, post_id: str) -> str:
    posts = channel_client(channel).get(f"{HARBOR_PAGE}/published_posts", fields="id,permalink_url")["data"]
    return next(p["permalink_url"] for p in posts if p["id"] == post_id)


@pytest.mark.parametrize(
    ("channel", "with_photo", "read_link", "site"),
    [("ig", True, "ig_link", "https://www.instagram.com/"), ("page", False, "page_link", "https://www.facebook.com/")],
)
def test_a_post_gets_its_link_from_the_inbox_poll(published, photo, channels, channel, with_photo, read_link, site):
    delivery = published(channel, caption="Sunrise flow", media=[photo()] if with_photo else [])
    assert delivery.permalink == ""

    assert channel_poll(channels[channel]).error == ""

    delivery.refresh_from_db()
    on_meta = {"ig_link": ig_link, "page_link": page_link}[read_link](channels[channel], delivery.remote_id)
    assert on_meta.startswith(site)
    assert delivery.permalink == on_meta
    assert delivery.state == DeliveryState.PUBLISHED


def test_an_instagram_post_gets_its_link_from_the_insights_sync(published, photo, channels, sandbox_control, settings):
    settings.ANALYTICS_BACKFILL_DAYS_INSTAGRAM = 2  # the account's figures are not what this is about
    delivery = published("ig", caption="Studio tour", media=[photo()])

    now = dt.datetime.fromtimestamp(sandbox_control.clock()["now"], dt.UTC)
    assert sync_channel(channels["ig"], now=now).posts > 0

    delivery.refresh_from_db()
    assert delivery.permalink == ig_link(channels["ig"], delivery.remote_id)


def test_a_link_already_stored_is_kept(published, channels):
    delivery = published("page", caption="Spring timetable is out.")
    kept = f"https://www.facebook.com/{HARBOR_PAGE}/posts/kept"
    Delivery.objects.filter(pk=delivery.pk).update(permalink=kept)

    channel_poll(channels["page"])

    delivery.refresh_from_db()
    assert delivery.permalink == kept


def test_another_channels_delivery_with_the_same_remote_id_is_left_alone(published, channels):
    delivery = published("page", caption="Mats are back in stock.")
    # The same Page connected in another workspace.
    elsewhere = DeliveryFactory(channel=ChannelFactory(), published=True, remote_id=delivery.remote_id, permalink="")

    channel_poll(channels["page"])

    delivery.refresh_from_db()
    elsewhere.refresh_from_db()
    assert delivery.permalink.startswith("https://")
    assert elsewhere.permalink == ""


def test_only_links_a_person_can_open_are_stored():
    reel = DeliveryFactory(published=True, permalink="")
    other = DeliveryFactory(published=True, channel=reel.channel, permalink="")
    links = {reel.remote_id: "/reel/123", other.remote_id: "http://www.facebook.com/plain"}

    assert deliveries_learn_permalinks(channel_id=reel.channel_id, links=links) == 1

    reel.refresh_from_db()
    other.refresh_from_db()
    assert reel.permalink == "https://www.facebook.com/reel/123"
    assert other.permalink == ""


def test_nothing_is_written_when_every_delivery_has_its_link(django_assert_num_queries):
    delivery = DeliveryFactory(published=True)
    links = {delivery.remote_id: "https://www.facebook.com/another/link", "1234_5678": "https://www.facebook.com/x"}

    with django_assert_num_queries(1):
        assert deliveries_learn_permalinks(channel_id=delivery.channel_id, links=links) == 0
    with django_assert_num_queries(0):
        assert deliveries_learn_permalinks(channel_id=delivery.channel_id, links={delivery.remote_id: ""}) == 0

    delivery.refresh_from_db()
    assert delivery.permalink != "https://www.facebook.com/another/link"
