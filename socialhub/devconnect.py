"""Development only: drive the channel-connect flow through SocialHub's own views, answering the sandbox's
consent page over HTTP. The demo (`manage.py demo_setup`), the benchmark (`bench/publish.py`) and the OAuth tests
connect channels this way, so they take exactly the path a person takes in the browser: Channels → Meta's
dialog → callback → picker → channels. Tests that only need a connected channel use `tests.factories` instead.

It uses Django's test `Client` and the sandbox's Python client, so, like `socialhub.devenv`, it is never
imported by the apps or by anything a production process loads at start."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.test import Client

from sandbox.client import complete_facebook_consent, complete_instagram_consent

if TYPE_CHECKING:
    from accounts.models import Channel, Workspace


class ConnectError(RuntimeError):
    pass


# The picker's checkboxes and the messages of the page after it, read as a browser would read them.
_CHECKBOX = re.compile(r'<input[^>]*name="(accounts)" value="([^"]+)"[^>]*>')
_ALERT = re.compile(r'<div class="alert[^"]*" role="alert">\s*(.*?)\s*<button', re.S)


def _local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def start_connect(client: Client, workspace: Workspace, via: str, *, channel: Channel | None = None) -> str:
    """POST the Connect (or Reconnect) button; return the URL of Meta's dialog."""
    if channel is None:
        url = f"/w/{workspace.public_id}/channels/connect/{via}/"
    else:
        url = f"/w/{workspace.public_id}/channels/{channel.public_id}/reconnect/"
    response = client.post(url)
    if response.status_code != 302:
        raise ConnectError(f"connect answered {response.status_code}")
    return response["Location"]


def finish_connect(client: Client, callback_url: str, *, pick: list[str] | None = None) -> list[str]:
    """Follow Meta's redirect back into SocialHub, then tick `pick` (candidate keys; None = all offered) in the
    picker. Returns the messages shown on the Channels page."""
    response = client.get(_local(callback_url.split("#")[0]))
    if response.status_code != 302 or "/channels/pick/" not in response["Location"]:
        raise ConnectError(f"callback answered {response.status_code} → {response.get('Location')}")
    pick_url = response["Location"]
    page = client.get(pick_url).content.decode()
    offered = [m.group(2) for m in _CHECKBOX.finditer(page) if "disabled" not in m.group(0)]
    keys = pick if pick is not None else offered
    response = client.post(pick_url, {"accounts": keys}, follow=True)
    return [html.unescape(m) for m in _ALERT.findall(response.content.decode())]


def connect_with_facebook(
    client: Client,
    workspace: Workspace,
    *,
    pages=None,
    instagram=None,
    decline=(),
    pick=None,
    user=None,
    channel: Channel | None = None,
) -> list[str]:
    dialog = start_connect(client, workspace, "facebook_login", channel=channel)
    callback = complete_facebook_consent(dialog, pages=pages, instagram=instagram, decline=decline, user=user)
    return finish_connect(client, callback, pick=pick)


def connect_with_instagram(
    client: Client, workspace: Workspace, *, account=None, decline=(), channel: Channel | None = None
) -> list[str]:
    dialog = start_connect(client, workspace, "instagram_login", channel=channel)
    callback = complete_instagram_consent(dialog, account=account, decline=decline)
    return finish_connect(client, callback)
