"""The daily token check and the Instagram token refresh wait for Meta; whatever the team did to the channel
meanwhile (disconnect, reconnect) wins over the answer that arrives afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from accounts.models import Channel, ChannelStatus
from accounts.services.channels import channel_check_token, channel_disconnect, channel_refresh_instagram_token
from accounts.tasks import check_channel_token
from socialhub.graph import GraphClient
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db

ALEX = "10776317066907439"  # the sandbox's first Facebook user, who admins the Page below


@pytest.fixture
def page_channel(alice, workspace, sandbox_control):
    return ChannelFactory(workspace=workspace, sandbox=sandbox_control, connected_by=alice)


@pytest.fixture
def ig_login_channel(alice, workspace, sandbox_control):
    return ChannelFactory(workspace=workspace, sandbox=sandbox_control, connected_by=alice, instagram_login=True)


def reload(channel: Channel) -> Channel:
    return Channel.objects.get(pk=channel.pk)


@contextmanager
def meanwhile(action: Callable[[], object]) -> Iterator[list[str]]:
    """Run `action` once, after Meta has answered the first Graph call (or refused it) and before the caller reads
    the answer: what another request does while the check waits for Meta."""
    done: list[str] = []
    real = GraphClient.request

    def request(self, method, path, *args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return real(self, method, path, *args, **kwargs)
        finally:  # the answer (or Meta's refusal) is on its way back
            if not done:
                done.append(path)
                action()

    with mock.patch.object(GraphClient, "request", request):
        yield done


def disconnect(channel: Channel) -> Callable[[], object]:
    return lambda: channel_disconnect(channel=reload(channel))


def assert_still_disconnected(channel: Channel) -> None:
    fresh = reload(channel)
    assert fresh.status == ChannelStatus.DISCONNECTED
    assert fresh.status_reason == "Disconnected by your team."
    assert fresh.access_token == ""


def test_a_channel_back_to_health_stays_disconnected_if_disconnected_during_the_check(page_channel):
    Channel.objects.filter(pk=page_channel.pk).update(
        status=ChannelStatus.NEEDS_RECONNECT, status_reason="Meta was down yesterday."
    )
    with meanwhile(disconnect(page_channel)) as done:
        check_channel_token.apply(args=[page_channel.pk])  # the daily check, as the worker runs it
    assert done  # Meta was asked
    assert_still_disconnected(page_channel)


def test_a_revoked_token_does_not_turn_a_disconnected_channel_into_needs_reconnect(page_channel, sandbox_control):
    sandbox_control.revoke_tokens(user_id=ALEX)
    with meanwhile(disconnect(page_channel)):
        assert channel_check_token(channel=reload(page_channel)) is False
    assert_still_disconnected(page_channel)


def test_a_removed_permission_does_not_turn_a_disconnected_channel_into_needs_reconnect(page_channel, sandbox_control):
    sandbox_control.remove_permission(ALEX, "pages_manage_posts")
    with meanwhile(disconnect(page_channel)):
        assert channel_check_token(channel=reload(page_channel)) is False
    assert_still_disconnected(page_channel)
    assert "pages_manage_posts" in reload(page_channel).granted_scopes  # the stale answer was not written either


def test_an_instagram_login_check_leaves_a_disconnected_channel_alone(ig_login_channel, sandbox_control):
    sandbox_control.clock_advance(61 * 86400)  # Meta now refuses the token as expired
    with meanwhile(disconnect(ig_login_channel)):
        assert channel_check_token(channel=reload(ig_login_channel)) is False
    assert_still_disconnected(ig_login_channel)


def test_a_token_refresh_never_brings_a_token_back_to_a_disconnected_channel(ig_login_channel, sandbox_control):
    now = timezone.now()
    Channel.objects.filter(pk=ig_login_channel.pk).update(
        token_issued_at=now - timedelta(days=52), token_expires_at=now + timedelta(days=8)
    )
    sandbox_control.clock_advance(52 * 86400)
    channel = reload(ig_login_channel)
    with meanwhile(disconnect(channel)) as done:
        channel_refresh_instagram_token(channel=channel)
    assert done == ["refresh_access_token"]
    assert_still_disconnected(channel)
    assert channel.access_token == "" and channel.status == ChannelStatus.DISCONNECTED  # the caller's copy too


def test_an_answer_about_the_old_token_does_not_flag_a_channel_reconnected_meanwhile(page_channel, sandbox_control):
    sandbox_control.revoke_tokens(user_id=ALEX)
    stale = reload(page_channel)

    def reconnect() -> None:  # what the reconnect flow writes: a new token, a new connection time
        Channel.objects.filter(pk=page_channel.pk).update(access_token="fresh-token", connected_at=timezone.now())

    with meanwhile(reconnect):
        assert channel_check_token(channel=stale) is False
    fresh = reload(page_channel)
    assert (fresh.status, fresh.status_reason, fresh.access_token) == (ChannelStatus.ACTIVE, "", "fresh-token")
