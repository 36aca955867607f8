from __future__ import annotations

import pytest
from django.core.management import call_command

from accounts.models import Channel, User
from publishing.models import PostingSlot

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

    # Every account has posting times for its queue: Monday, Wednesday and Friday at 09:30.
    times = {
        (s.queue.channel_id, s.weekday, s.time.strftime("%H:%M")) for s in PostingSlot.objects.select_related("queue")
    }
    assert times == {(c.pk, day, "09:30") for c in Channel.objects.all() for day in (0, 2, 4)}

    call_command("demo_setup")
    assert Channel.objects.count() == len(channels)
    assert PostingSlot.objects.count() == len(times)
    user = User.objects.get(email="demo@socialhub.localhost")
    assert client.login(email=user.email, password="socialhub-demo")
    # DEBUG is off here: no operator with a well-known password.
    assert not User.objects.filter(email="operator@socialhub.localhost").exists()


def test_demo_setup_creates_and_refreshes_the_operator_in_debug_mode(client, sandbox_control, capsys, settings):
    settings.DEBUG = True
    call_command("demo_setup")
    out = capsys.readouterr().out
    assert "demo@socialhub.localhost" in out
    assert "Operations admin: http://127.0.0.1:8000/admin/" in out
    assert "operator@socialhub.localhost" in out and "socialhub-operator" in out
    operator = User.objects.get(email="operator@socialhub.localhost")
    assert operator.is_staff and operator.is_superuser and operator.is_active
    assert operator.emailaddress_set.get().verified

    operator.is_superuser = False
    operator.set_password("changed")
    operator.save()
    call_command("demo_setup")
    operator.refresh_from_db()
    assert operator.is_superuser and operator.check_password("socialhub-operator")
    settings.DEBUG = False
    response = client.post(
        "/accounts/login/", {"login": "operator@socialhub.localhost", "password": "socialhub-operator"}
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
