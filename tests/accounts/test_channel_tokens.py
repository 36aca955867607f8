"""Keeping tokens safe and alive: expiry, revocation and removed permissions lead to "needs reconnect",
reconnecting restores the same channel; tokens are encrypted and rotate; refreshes happen on time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from accounts.crypto import TokenDecryptionError
from accounts.models import Channel, ChannelStatus
from accounts.services.channels import channel_check_token, channel_disconnect, channels_due_for_refresh
from accounts.tasks import check_channel_token, refresh_instagram_token
from socialhub.devconnect import connect_with_facebook, connect_with_instagram

pytestmark = pytest.mark.django_db

ALEX = "10776317066907439"  # the sandbox's first Facebook user, who admins the Pages below
HARBOR_PAGE, HARBOR_IG = "183533740681241", "17841412248244757"
LOGIN_ONLY_IG = "17841210259188436"


@pytest.fixture
def page_channel(client, alice, workspace, sandbox_control):
    client.force_login(alice)
    connect_with_facebook(client, workspace, pages=[HARBOR_PAGE], pick=[f"facebook_page:{HARBOR_PAGE}"])
    return Channel.objects.get(external_id=HARBOR_PAGE)


@pytest.fixture
def ig_login_channel(client, alice, workspace, sandbox_control):
    client.force_login(alice)
    connect_with_instagram(client, workspace, account=LOGIN_ONLY_IG)
    return Channel.objects.get(external_id=LOGIN_ONLY_IG)


def reload(channel: Channel) -> Channel:
    return Channel.objects.get(pk=channel.pk)


def test_a_healthy_channel_passes_the_check(page_channel):
    assert channel_check_token(channel=page_channel) is True
    channel = reload(page_channel)
    assert channel.status == ChannelStatus.ACTIVE and channel.last_checked_at is not None


def test_revoked_token_needs_reconnect_and_reconnecting_restores_it(client, workspace, page_channel, sandbox_control):
    sandbox_control.revoke_tokens(user_id=ALEX)
    check_channel_token.apply(args=[page_channel.pk])
    channel = reload(page_channel)
    assert channel.status == ChannelStatus.NEEDS_RECONNECT
    assert "Reconnect" in channel.status_reason
    page = client.get(f"/w/{workspace.public_id}/channels/").content.decode()
    assert "Needs reconnect" in page and f"/channels/{channel.public_id}/reconnect/" in page

    connect_with_facebook(
        client, workspace, pages=[HARBOR_PAGE], pick=[f"facebook_page:{HARBOR_PAGE}"], channel=channel
    )
    restored = reload(page_channel)
    assert restored.pk == page_channel.pk
    assert restored.status == ChannelStatus.ACTIVE and restored.status_reason == ""
    assert restored.access_token != page_channel.access_token
    assert channel_check_token(channel=restored) is True


def test_removed_permission_needs_reconnect(client, workspace, page_channel, sandbox_control):
    sandbox_control.remove_permission(ALEX, "pages_manage_posts")
    assert channel_check_token(channel=page_channel) is False
    channel = reload(page_channel)
    assert channel.status == ChannelStatus.NEEDS_RECONNECT
    assert "pages_manage_posts" in channel.status_reason and "publish" in channel.status_reason
    assert "pages_manage_posts" not in channel.granted_scopes

    connect_with_facebook(
        client, workspace, pages=[HARBOR_PAGE], pick=[f"facebook_page:{HARBOR_PAGE}"], channel=channel
    )
    assert reload(channel).status == ChannelStatus.ACTIVE
    assert "pages_manage_posts" in reload(channel).granted_scopes


def test_expired_instagram_token_needs_reconnect(client, workspace, ig_login_channel, sandbox_control):
    sandbox_control.clock_advance(61 * 86400)  # past the 60-day token's life on Meta's side
    assert channel_check_token(channel=ig_login_channel) is False
    channel = reload(ig_login_channel)
    assert channel.status == ChannelStatus.NEEDS_RECONNECT
    assert "expired" in channel.last_error.lower() or "expired" in channel.status_reason.lower()

    connect_with_instagram(client, workspace, account=LOGIN_ONLY_IG, channel=channel)
    assert reload(channel).status == ChannelStatus.ACTIVE


def test_expiry_known_locally_needs_reconnect_without_asking_meta(ig_login_channel, sandbox_control):
    Channel.objects.filter(pk=ig_login_channel.pk).update(token_expires_at=timezone.now() - timedelta(minutes=1))
    before = len(sandbox_control.requests(limit=200))
    assert channel_check_token(channel=reload(ig_login_channel)) is False
    assert reload(ig_login_channel).status == ChannelStatus.NEEDS_RECONNECT
    assert len(sandbox_control.requests(limit=200)) == before


def test_instagram_token_refresh(ig_login_channel, sandbox_control):
    now = timezone.now()
    Channel.objects.filter(pk=ig_login_channel.pk).update(
        token_issued_at=now - timedelta(days=52), token_expires_at=now + timedelta(days=8)
    )
    sandbox_control.clock_advance(52 * 86400)
    assert channels_due_for_refresh() == [ig_login_channel.pk]
    refresh_instagram_token.apply(args=[ig_login_channel.pk])
    channel = reload(ig_login_channel)
    assert channel.access_token != ig_login_channel.access_token
    assert channel.token_expires_at > now + timedelta(days=59)
    assert channels_due_for_refresh() == []
    assert channel_check_token(channel=channel) is True


def test_young_or_far_from_expiry_tokens_are_not_refreshed(ig_login_channel):
    assert channels_due_for_refresh() == []  # issued just now, expires in 60 days
    Channel.objects.filter(pk=ig_login_channel.pk).update(token_expires_at=timezone.now() + timedelta(days=3))
    assert channels_due_for_refresh() == []  # expires soon but is not a day old: Meta would refuse


def test_disconnect_keeps_history_and_reconnect_brings_the_same_channel_back(client, workspace, page_channel):
    response = client.get(f"/w/{workspace.public_id}/channels/{page_channel.public_id}/disconnect/")
    assert "stops publishing" in response.content.decode()
    client.post(f"/w/{workspace.public_id}/channels/{page_channel.public_id}/disconnect/")
    channel = reload(page_channel)
    assert channel.status == ChannelStatus.DISCONNECTED and channel.access_token == ""
    connect_with_facebook(client, workspace, pages=[HARBOR_PAGE], pick=[f"facebook_page:{HARBOR_PAGE}"])
    assert reload(channel).status == ChannelStatus.ACTIVE
    assert Channel.objects.count() == 1


def test_a_disconnected_channel_is_not_checked(page_channel, sandbox_control):
    channel_disconnect(channel=page_channel)
    assert channel_check_token(channel=reload(page_channel)) is False
    assert reload(page_channel).status == ChannelStatus.DISCONNECTED


def raw_token(channel: Channel) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token FROM accounts_channel WHERE id = %s", [channel.pk])
        return cursor.fetchone()[0]


def test_wrong_key_raises_and_never_returns_ciphertext(page_channel, settings):
    settings.TOKEN_ENCRYPTION_KEYS = ["bm90LXRoZS1yaWdodC1rZXktZm9yLXRoZXNlLXRva2U="]
    with pytest.raises(TokenDecryptionError):
        Channel.objects.get(pk=page_channel.pk)
    settings.TOKEN_ENCRYPTION_KEYS = []
    with pytest.raises(ImproperlyConfigured):
        Channel.objects.get(pk=page_channel.pk)


def test_rotate_token_keys(page_channel, settings):
    old_key = settings.TOKEN_ENCRYPTION_KEYS[0]
    new_key = "bmV3LWtleS1mb3Itcm90YXRpb24tdGVzdHMtMDEyMzQ="
    before = raw_token(page_channel)
    settings.TOKEN_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_token_keys")
    assert raw_token(page_channel) != before
    settings.TOKEN_ENCRYPTION_KEYS = [new_key]  # the old key can now be dropped
    assert Channel.objects.get(pk=page_channel.pk).access_token == page_channel.access_token


def test_admin_shows_health_never_the_token(client, page_channel):
    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    listing = client.get("/admin/accounts/channel/").content.decode()
    detail = client.get(f"/admin/accounts/channel/{page_channel.pk}/change/").content.decode()
    assert "Harbor Yoga Studio" in listing
    for page in (listing, detail):
        assert page_channel.access_token not in page and raw_token(page_channel) not in page
    client.post("/admin/accounts/channel/", {"action": "mark_for_reconnect", "_selected_action": [page_channel.pk]})
    assert reload(page_channel).status == ChannelStatus.NEEDS_RECONNECT
