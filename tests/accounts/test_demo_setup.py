from __future__ import annotations

import pytest
from django.core.management import call_command

from accounts.models import Channel, User

pytestmark = pytest.mark.django_db


def test_demo_setup_connects_channels_through_the_sandbox_and_is_idempotent(client, sandbox_control, capsys):
    call_command("demo_setup")
    out = capsys.readouterr().out
    assert "demo@socialhub.localhost" in out and "socialhub-demo" in out
    channels = {(c.workspace.name, c.display_name) for c in Channel.objects.select_related("workspace")}
    assert ("Harbor Yoga Studio", "@harboryoga") in channels
    assert ("Copper Kettle Cafe", "Copper Kettle Cafe") in channels
    assert ("Maple Thread Studio", "@maplethread.studio") in channels
    # The tokens came from a real code exchange: the sandbox saw the OAuth calls.
    paths = {r["path"] for r in sandbox_control.requests(limit=500)}
    assert "/oauth/access_token" in paths or "/v25.0/oauth/access_token" in paths

    call_command("demo_setup")
    assert Channel.objects.count() == len(channels)
    user = User.objects.get(email="demo@socialhub.localhost")
    assert client.login(email=user.email, password="socialhub-demo")
