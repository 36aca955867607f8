"""Connecting channels end to end against the sandbox over HTTP: Channels → Meta's dialog → picker."""

from __future__ import annotations

import pytest
from django.db import connection

from accounts.models import Channel, ChannelStatus, ConnectedVia
from sandbox.client import complete_facebook_consent
from socialhub.devconnect import connect_with_facebook, connect_with_instagram, start_connect
from tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db

HARBOR_PAGE, COPPER_PAGE, BAKERY_PAGE = "183533740681241", "162585178128657", "136859574890682"
HARBOR_IG = "17841412248244757"
LOGIN_ONLY_IG = "17841210259188436"


def test_connect_two_pages_and_their_instagram_accounts(client, alice, workspace, sandbox_control):
    client.force_login(alice)
    messages = connect_with_facebook(client, workspace, pages=[HARBOR_PAGE, COPPER_PAGE])
    assert any("Connected" in m for m in messages), messages
    channels = {c.external_id: c for c in Channel.objects.filter(workspace=workspace)}
    assert set(channels) == {HARBOR_PAGE, COPPER_PAGE, HARBOR_IG, "17841243652342578"}
    page = channels[HARBOR_PAGE]
    assert page.platform == "facebook_page" and page.name == "Harbor Yoga Studio"
    assert page.status == ChannelStatus.ACTIVE and page.token_expires_at is None  # page tokens do not expire
    assert "pages_manage_posts" in page.granted_scopes
    ig = channels[HARBOR_IG]
    assert (ig.platform, ig.username, ig.page_id) == ("instagram", "harboryoga", HARBOR_PAGE)
    assert "instagram_content_publish" in ig.granted_scopes
    # The stored token is a working Page token: the sandbox accepts it for the Page.
    from accounts.services.channels import channel_client

    assert channel_client(page).get(HARBOR_PAGE, fields="id,name")["name"] == "Harbor Yoga Studio"


def test_picker_only_connects_what_was_ticked(client, alice, workspace, sandbox_control):
    client.force_login(alice)
    connect_with_facebook(client, workspace, pick=[f"facebook_page:{BAKERY_PAGE}"])
    assert list(Channel.objects.values_list("external_id", flat=True)) == [BAKERY_PAGE]


def test_declined_permission_shows_as_missing(client, alice, workspace, sandbox_control):
    client.force_login(alice)
    connect_with_facebook(client, workspace, pages=[HARBOR_PAGE], decline=["pages_manage_posts"])
    page = Channel.objects.get(external_id=HARBOR_PAGE)
    assert page.status == ChannelStatus.NEEDS_RECONNECT
    assert "pages_manage_posts" in page.status_reason
    body = client.get(f"/w/{workspace.public_id}/channels/").content.decode()
    assert "pages_manage_posts</code> is missing: needed to publish and schedule Page posts" in body
    assert "Reconnect" in body


def test_account_connected_in_another_workspace_is_marked_and_refused(
    client, alice, agency, workspace, sandbox_control
):
    client.force_login(alice)
    connect_with_facebook(client, workspace, pages=[HARBOR_PAGE], pick=[f"facebook_page:{HARBOR_PAGE}"])
    other = WorkspaceFactory(agency=agency, name="Other client")
    dialog = start_connect(client, other, "facebook_login")
    callback = complete_facebook_consent(dialog, pages=[HARBOR_PAGE])
    pick_url = client.get(callback.replace("http://testserver", ""))["Location"]
    page = client.get(pick_url).content.decode()
    assert "Already connected in Acme Coffee" in page
    response = client.post(pick_url, {"accounts": [f"facebook_page:{HARBOR_PAGE}"]})
    assert "Already connected to another workspace" in response.content.decode()
    assert not Channel.objects.filter(workspace=other).exists()


def test_cancelled_dialog_connects_nothing(client, alice, workspace, sandbox_control):
    client.force_login(alice)
    dialog = start_connect(client, workspace, "facebook_login")
    callback = complete_facebook_consent(dialog, cancel=True)
    response = client.get(callback.replace("http://testserver", ""), follow=True)
    assert "Nothing was connected" in response.content.decode()
    assert not Channel.objects.exists()


def test_connect_with_instagram_login(client, alice, workspace, sandbox_control):
    client.force_login(alice)
    connect_with_instagram(client, workspace, account="maplethread.studio")
    channel = Channel.objects.get()
    assert (channel.external_id, channel.username) == (LOGIN_ONLY_IG, "maplethread.studio")
    assert channel.connected_via == ConnectedVia.INSTAGRAM_LOGIN
    assert channel.status == ChannelStatus.ACTIVE
    assert 59 <= (channel.token_expires_at - channel.connected_at).days <= 60  # the 60-day token, not the 1-hour one
    assert "instagram_business_content_publish" in channel.granted_scopes
    body = client.get(f"/w/{workspace.public_id}/channels/").content.decode()
    assert "Product tags need a catalog" in body


def test_tokens_are_encrypted_at_rest_and_never_rendered(client, alice, workspace, sandbox_control):
    client.force_login(alice)
    connect_with_facebook(client, workspace, pages=[HARBOR_PAGE], pick=[f"facebook_page:{HARBOR_PAGE}"])
    channel = Channel.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token FROM accounts_channel WHERE id = %s", [channel.pk])
        raw = cursor.fetchone()[0]
    assert channel.access_token and channel.access_token not in raw
    assert raw.startswith("gAAAA")  # a Fernet token
    assert channel.access_token not in client.get(f"/w/{workspace.public_id}/channels/").content.decode()
    from allauth.socialaccount.models import SocialAccount, SocialToken

    assert not SocialToken.objects.exists()  # allauth keeps no plaintext copy
    assert not SocialAccount.objects.exists()  # connecting channels links no Facebook identity to the person


def test_only_managers_may_connect(client, bob, workspace, sandbox_control):
    client.force_login(bob)
    assert client.post(f"/w/{workspace.public_id}/channels/connect/facebook_login/").status_code == 403
    assert client.get(f"/w/{workspace.public_id}/channels/").status_code == 200


def test_picker_ticks_nothing_and_refuses_an_empty_choice(client, alice, workspace, sandbox_control):
    client.force_login(alice)
    dialog = start_connect(client, workspace, "facebook_login")
    callback = complete_facebook_consent(dialog, pages=[HARBOR_PAGE, COPPER_PAGE])
    pick_url = client.get(callback.replace("http://testserver", ""))["Location"]
    page = client.get(pick_url).content.decode()
    assert f'value="facebook_page:{HARBOR_PAGE}"' in page
    assert "checked" not in page
    response = client.post(pick_url, {})
    assert response.status_code == 200
    assert "Tick the accounts to connect to this workspace. Nothing was connected." in response.content.decode()
    assert not Channel.objects.exists()
    client.post(pick_url, {"accounts": [f"facebook_page:{COPPER_PAGE}"]})
    assert list(Channel.objects.values_list("external_id", flat=True)) == [COPPER_PAGE]
