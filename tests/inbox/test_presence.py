"""Who else has a thread open: heartbeats record it, the other person sees "Mo is looking at this" or "Mo is
replying…" (never themself), it is gone 30 seconds after the last heartbeat, rows nobody refreshed are deleted,
and the list marks the threads someone else has open."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import Presence
from inbox.services.presence import presence_prune
from tests.factories import ChannelFactory, WorkspaceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.no_sandbox]  # nothing here asks Meta
HTMX = {"HX-Request": "true"}


@pytest.fixture
def thread(workspace, alice, make_comment):
    return make_comment(ChannelFactory(workspace=workspace, connected_by=alice), text="Is parking free?")


@pytest.fixture
def mo(moderator):
    moderator.full_name = "Mo Rossi"
    moderator.save(update_fields=["full_name"])
    return moderator


def presence_url(workspace, thread) -> str:
    return f"/w/{workspace.public_id}/inbox/t/{thread.public_id}/presence/"


def beat(client, user, workspace, thread, activity="viewing") -> str:
    client.force_login(user)
    response = client.post(presence_url(workspace, thread), {"activity": activity}, headers=HTMX)
    assert response.status_code == 200
    return response.content.decode()


def test_a_heartbeat_records_who_has_the_thread_open(client, workspace, thread, mo):
    beat(client, mo, workspace, thread)
    row = Presence.objects.get()
    assert (row.user, row.thread, row.workspace, row.activity) == (mo, thread, workspace, "viewing")
    first_seen = row.seen_at
    beat(client, mo, workspace, thread, "replying")
    row = Presence.objects.get()  # still one row per person and thread
    assert row.activity == "replying" and row.seen_at >= first_seen


def test_the_other_person_is_shown_and_you_are_not(client, alice, workspace, thread, mo):
    mine = beat(client, mo, workspace, thread)
    assert "Mo" not in mine  # alone on the thread: nobody else to show
    theirs = beat(client, alice, workspace, thread)
    assert "Mo is looking at this" in theirs and "Alice" not in theirs
    back = beat(client, mo, workspace, thread, "replying")
    assert "Alice is looking at this" in back and "Mo is" not in back
    assert "Mo is replying…" in beat(client, alice, workspace, thread)


def test_the_thread_panel_shows_who_is_there_when_it_opens(client, alice, workspace, thread, mo):
    beat(client, mo, workspace, thread, "replying")
    client.force_login(alice)
    panel = client.get(f"/w/{workspace.public_id}/inbox/t/{thread.public_id}/", headers=HTMX).content.decode()
    assert "Mo is replying…" in panel


def test_someone_who_may_not_reply_is_only_ever_looking(client, alice, workspace, thread, analyst):
    beat(client, analyst, workspace, thread, "replying")
    assert Presence.objects.get().activity == "viewing"
    beat(client, analyst, workspace, thread, "dancing")
    assert Presence.objects.get().activity == "viewing"


def test_presence_is_gone_30_seconds_after_the_last_heartbeat(client, alice, workspace, thread, mo):
    beat(client, mo, workspace, thread)
    client.force_login(alice)
    assert "Mo is looking at this" in client.get(presence_url(workspace, thread)).content.decode()
    Presence.objects.update(seen_at=timezone.now() - timedelta(seconds=31))
    assert "Mo" not in client.get(presence_url(workspace, thread)).content.decode()
    assert "Mo" not in beat(client, alice, workspace, thread)
    listing = client.get(f"/w/{workspace.public_id}/inbox/").content.decode()
    assert "inbox-presence-badge" not in listing


def test_a_get_only_reads(client, alice, workspace, thread):
    client.force_login(alice)
    assert client.get(presence_url(workspace, thread)).status_code == 200
    assert not Presence.objects.exists()


def test_closing_the_thread_removes_your_presence_at_once(client, alice, workspace, thread, mo):
    beat(client, mo, workspace, thread)
    beat(client, alice, workspace, thread)
    client.force_login(mo)
    assert client.post(presence_url(workspace, thread), {"activity": "gone"}).status_code == 204
    assert list(Presence.objects.values_list("user", flat=True)) == [alice.pk]


def test_heartbeats_delete_rows_nobody_refreshed_for_minutes(client, alice, workspace, thread, mo, make_comment):
    other = make_comment(thread.channel, text="Another thread")
    Presence.objects.create(workspace=workspace, thread=other, user=mo, seen_at=timezone.now() - timedelta(minutes=11))
    beat(client, alice, workspace, thread)
    assert list(Presence.objects.values_list("user", "thread")) == [(alice.pk, thread.pk)]


def test_the_list_marks_threads_someone_else_has_open(client, alice, workspace, thread, mo, make_comment):
    quiet = make_comment(thread.channel, text="Nobody here")
    beat(client, mo, workspace, thread, "replying")
    beat(client, alice, workspace, quiet)  # your own presence is not marked
    client.force_login(alice)
    listing = client.get(f"/w/{workspace.public_id}/inbox/").content.decode()
    markers = dict(re.findall(r'data-presence-for="([0-9a-f-]+)">(.*?)</span>\s*</div>', listing, re.S))
    assert "Mo" in markers[str(thread.public_id)] and "is replying" in markers[str(thread.public_id)]
    assert markers[str(quiet.public_id)] == ""
    # The poll carries the current markers, so they come and go without a reload.
    poll = re.search(r'id="inbox-poll" class="inbox-poll" hx-get="([^"]+)"', listing).group(1).replace("&amp;", "&")
    news = client.get(poll, headers=HTMX).content.decode()
    assert f'<li data-thread="{thread.public_id}">' in news and f'<li data-thread="{quiet.public_id}">' not in news


def test_presence_is_only_for_threads_of_the_workspace(client, alice, workspace, thread, make_comment, editor):
    reply = make_comment(thread.channel, parent=thread, text="A reply is not a thread")
    client.force_login(alice)
    assert client.post(presence_url(workspace, reply), {"activity": "viewing"}).status_code == 404
    client.force_login(editor)
    assert client.post(presence_url(workspace, thread), {"activity": "viewing"}).status_code == 403
    assert not Presence.objects.exists()


def test_forgetting_old_heartbeats_keeps_to_the_workspace(alice, agency, workspace, thread, mo, make_comment):
    other = WorkspaceFactory(agency=agency, name="Second Client")
    elsewhere = make_comment(ChannelFactory(workspace=other, connected_by=alice), text="Theirs")
    stale = timezone.now() - timedelta(minutes=11)
    Presence.objects.create(workspace=other, thread=elsewhere, user=mo, seen_at=stale)
    Presence.objects.create(workspace=workspace, thread=thread, user=mo, seen_at=stale)

    assert presence_prune(workspace_id=workspace.pk) == 1
    assert list(Presence.objects.values_list("thread", flat=True)) == [elsewhere.pk]
