"""The crisis pause: who may pause, what two clicks at once do, the switch and the banner, and (against the
sandbox) that a paused workspace publishes nothing until it is resumed, then goes out on the next tick."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Workspace
from accounts.services.channels import channel_client
from accounts.services.pause import Resumed, workspace_pause, workspace_resume
from publishing.models import DeliveryAttempt, DeliveryState, Post, PostingQueue
from publishing.publishers.base import RunOutcome
from publishing.services import pipeline, transitions
from publishing.services.queues import queue_pause, queue_slots_add
from tests.factories import (
    AgencyMembershipFactory,
    ChannelFactory,
    DeliveryFactory,
    PostFactory,
    UserFactory,
    WorkspaceFactory,
    WorkspaceMembershipFactory,
)

# The publishing tests' fixtures, used here by name (so ruff's F811 does not apply to their parameters).
# ruff: noqa: F811
from tests.publishing.conftest import (  # noqa: F401
    HARBOR_PAGE,
    _fast_pipeline,
    channels,
    public_media,
    run_to_end,
    submit,
)

pytestmark = pytest.mark.django_db
REASON = "Breaking news: hold everything until we review it."


def url(workspace: Workspace, what: str = "") -> str:
    return f"/w/{workspace.public_id}/{what}"


def page_posts(channel, message: str) -> list[dict]:
    listed = channel_client(channel).get(f"{HARBOR_PAGE}/published_posts", fields="id,message", params={"limit": 100})
    return [p for p in listed["data"] if p.get("message") == message]


# --- the service ----------------------------------------------------------------------------------------------
def test_pause_records_who_when_and_why(workspace, alice):
    before = timezone.now()
    assert workspace_pause(workspace=workspace, user=alice, reason="  Breaking news:\n hold everything. ") is True
    workspace.refresh_from_db()
    assert workspace.paused and workspace.paused_at >= before
    assert workspace.paused_by == alice
    assert workspace.pause_reason == "Breaking news: hold everything."


def test_a_second_pause_keeps_who_paused_first_and_why(workspace, alice, agency):
    dana = UserFactory(full_name="Dana Admin")
    AgencyMembershipFactory(agency=agency, user=dana, role="admin")
    assert workspace_pause(workspace=workspace, user=alice, reason=REASON)
    first = Workspace.objects.get(pk=workspace.pk).paused_at
    other_copy = Workspace.objects.get(pk=workspace.pk)  # as loaded by Dana's request at the same moment
    assert workspace_pause(workspace=other_copy, user=dana, reason="Something else") is False
    assert (other_copy.paused_by, other_copy.pause_reason, other_copy.paused_at) == (alice, REASON, first)


def test_a_reason_is_required(workspace, alice):
    with pytest.raises(ValidationError) as caught:
        workspace_pause(workspace=workspace, user=alice, reason=" \n ")
    assert "why" in caught.value.message_dict["reason"][0]
    with pytest.raises(ValidationError):
        workspace_pause(workspace=workspace, user=alice, reason="x" * 301)
    assert not Workspace.objects.get(pk=workspace.pk).paused


def test_only_people_who_may_publish_pause_or_resume(workspace, alice, bob, charlie):
    for person in (bob, charlie):  # an editor; another agency's owner
        with pytest.raises(PermissionDenied):
            workspace_pause(workspace=workspace, user=person, reason=REASON)
    assert not Workspace.objects.get(pk=workspace.pk).paused
    workspace_pause(workspace=workspace, user=alice, reason=REASON)
    with pytest.raises(PermissionDenied):
        workspace_resume(workspace=workspace, user=bob)
    assert Workspace.objects.get(pk=workspace.pk).paused


def test_resume_clears_the_pause_and_a_second_resume_changes_nothing(workspace, alice):
    workspace_pause(workspace=workspace, user=alice, reason=REASON)
    assert workspace_resume(workspace=workspace, user=alice) == Resumed(going_out=0, moved=0)
    fresh = Workspace.objects.get(pk=workspace.pk)
    assert (fresh.paused_at, fresh.paused_by, fresh.pause_reason) == (None, None, "")
    assert workspace_resume(workspace=workspace, user=alice) is None


# --- the pipeline, against the sandbox ------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_paused_workspace_publishes_nothing_until_resumed(
    submit, channels, workspace, alice, sandbox_control, monkeypatch
):
    queued: list[int] = []
    monkeypatch.setattr(pipeline, "_send_on_commit", lambda pk, token: queued.append(pk))
    at = timezone.now() + timedelta(minutes=15)
    delivery = submit("page", caption="Spring menu is here", scheduled_at=at)
    assert delivery.state == DeliveryState.SCHEDULED
    after = at + timedelta(minutes=1)

    workspace_pause(workspace=workspace, user=alice, reason=REASON)
    assert pipeline.dispatch_due(now=after) == 0  # due, but its workspace is paused
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SCHEDULED and not queued

    # A run that starts while paused (queued just before the pause): it goes back to wait and sends nothing.
    token = transitions.claim(delivery.pk)
    outcome = pipeline.delivery_run(delivery_id=delivery.pk, token=token)
    assert outcome.kind == RunOutcome.DEFERRED
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SCHEDULED and delivery.lease_token == ""
    assert delivery.waiting_reason == (
        f"On hold: {workspace.name} is paused: {REASON}. It goes out once the workspace is resumed."
    )
    assert not DeliveryAttempt.objects.filter(delivery=delivery).exists()  # Meta was never called
    assert page_posts(channels["page"], "Spring menu is here") == []
    assert pipeline.dispatch_due(now=after) == 0

    workspace_resume(workspace=workspace, user=alice)
    assert pipeline.dispatch_due(now=after) == 1
    assert queued == [delivery.pk]
    delivery = run_to_end(delivery, sandbox_control)
    assert delivery.state == DeliveryState.PUBLISHED
    assert len(page_posts(channels["page"], "Spring menu is here")) == 1


# --- resuming and the queues ---------------------------------------------------------------------------------
ROME = ZoneInfo("Europe/Rome")  # the workspace's clock
MONDAY = date(2030, 1, 7)


def rome(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=ROME).astimezone(UTC)


def queued_at(channel, at: datetime, *, in_queue: bool = True):
    """A post scheduled on `channel` at `at`, in the channel's queue (or not)."""
    post = PostFactory(workspace=channel.workspace, in_queue=in_queue, scheduled_at=at)
    DeliveryFactory(post=post, channel=channel, state=DeliveryState.SCHEDULED, due_at=at, next_attempt_at=at)
    return post


def times(*posts) -> list[tuple[datetime, datetime]]:
    """Each post's time and its delivery's, as stored now."""
    return [(Post.objects.get(pk=p.pk).scheduled_at, p.deliveries.get().next_attempt_at) for p in posts]


def test_resume_gives_overdue_queued_posts_new_slots_and_lets_the_others_go_out(workspace, alice, monkeypatch):
    monkeypatch.setattr(pipeline, "_send_on_commit", lambda pk, token: None)
    page = ChannelFactory(workspace=workspace)
    ig = ChannelFactory(workspace=workspace, instagram=True)
    queue_slots_add(channel=page, weekdays=range(7), at=time(9, 30))
    queue_slots_add(channel=ig, weekdays=range(7), at=time(18, 0))
    tuesday, wednesday = MONDAY + timedelta(days=1), MONDAY + timedelta(days=2)
    first = queued_at(page, rome(MONDAY, 9, 30))
    second = queued_at(page, rome(tuesday, 9, 30))
    loose = queued_at(page, rome(MONDAY, 10), in_queue=False)  # a time a person chose: not the queue's
    own_pause = queued_at(ig, rome(MONDAY, 18))
    queue_pause(channel=ig, user=alice)  # its queue was paused on its own, and stays so
    workspace_pause(workspace=workspace, user=alice, reason=REASON)

    now = rome(MONDAY, 20)
    assert workspace_resume(workspace=workspace, user=alice, now=now) == Resumed(going_out=1, moved=2)
    # The page's queue carries on from its next slot, in its order, as a resumed queue does.
    assert times(first, second) == [(rome(tuesday, 9, 30),) * 2, (rome(wednesday, 9, 30),) * 2]
    assert times(loose, own_pause) == [(rome(MONDAY, 10),) * 2, (rome(MONDAY, 18),) * 2]
    assert PostingQueue.objects.get(channel=ig).paused_at is not None
    assert first.versions.count() == 1 and not loose.versions.exists()  # the move is in the post's history
    assert pipeline.dispatch_due(now=now) == 1  # the loose post only: no burst from the queue
    assert loose.deliveries.get().state == DeliveryState.PUBLISHING


@pytest.mark.parametrize("state", [DeliveryState.FAILED, DeliveryState.CANCELLED])
def test_resume_moves_a_queued_post_that_failed_elsewhere_and_leaves_that_failure_alone(workspace, alice, state):
    page = ChannelFactory(workspace=workspace)
    ig = ChannelFactory(workspace=workspace, instagram=True)
    queue_slots_add(channel=page, weekdays=range(7), at=time(9, 30))
    post = queued_at(page, rome(MONDAY, 9, 30))
    elsewhere = DeliveryFactory(post=post, channel=ig, state=state, due_at=rome(MONDAY, 9, 30))
    workspace_pause(workspace=workspace, user=alice, reason=REASON)

    now = rome(MONDAY, 20)
    assert workspace_resume(workspace=workspace, user=alice, now=now) == Resumed(going_out=0, moved=1)
    tuesday = rome(MONDAY + timedelta(days=1), 9, 30)
    assert Post.objects.get(pk=post.pk).scheduled_at == tuesday
    assert post.deliveries.get(channel=page).next_attempt_at == tuesday
    elsewhere.refresh_from_db()
    assert (elsewhere.state, elsewhere.due_at) == (state, rome(MONDAY, 9, 30))
    assert pipeline.dispatch_due(now=now) == 0  # no burst on the first tick


def test_resume_locks_posts_without_the_workspace_it_has_just_updated(workspace, alice):
    if not connection.features.has_select_for_update_of:
        pytest.skip("this database cannot lock some of a query's tables (SQLite locks the whole file while writing)")
    page = ChannelFactory(workspace=workspace)
    queue_slots_add(channel=page, weekdays=range(7), at=time(9, 30))
    queued_at(page, rome(MONDAY, 9, 30))
    workspace_pause(workspace=workspace, user=alice, reason=REASON)
    with CaptureQueriesContext(connection) as captured:
        assert workspace_resume(workspace=workspace, user=alice, now=rome(MONDAY, 20)).moved == 1
    locks = [q["sql"] for q in captured.captured_queries if "FOR UPDATE" in q["sql"]]
    assert any('FROM "publishing_post"' in sql for sql in locks), locks
    # The composer locks a post and its workspace in one statement; here only posts, deliveries and queues are.
    assert not any('"accounts_workspace"' in sql.partition("FOR UPDATE")[2] for sql in locks), locks
    assert all(" OF " in sql for sql in locks if 'JOIN "accounts_workspace"' in sql), locks


def test_a_queue_without_posting_times_lets_its_overdue_posts_go_out(workspace, alice):
    page = ChannelFactory(workspace=workspace)
    post = queued_at(page, rome(MONDAY, 9, 30))  # its posting times were removed since
    workspace_pause(workspace=workspace, user=alice, reason=REASON)
    assert workspace_resume(workspace=workspace, user=alice, now=rome(MONDAY, 12)) == Resumed(going_out=1, moved=0)
    assert times(post) == [(rome(MONDAY, 9, 30),) * 2]
    assert not Workspace.objects.get(pk=workspace.pk).paused


def test_the_resume_confirmation_says_what_goes_out_and_what_moves(client, alice, workspace):
    page = ChannelFactory(workspace=workspace)
    queue_slots_add(channel=page, weekdays=range(7), at=time(9, 30))
    an_hour_ago = timezone.now() - timedelta(hours=1)
    queued = queued_at(page, an_hour_ago)
    for _ in range(2):
        queued_at(page, an_hour_ago, in_queue=False)
    workspace_pause(workspace=workspace, user=alice, reason=REASON)
    client.force_login(alice)
    html = client.post(url(workspace, "resume/"), headers={"HX-Request": "true"}).content.decode()
    assert (
        "Publishing is back on. 2 posts whose time passed go out within a minute; 1 queued post moves to the next "
        "free time." in html
    )
    queued.refresh_from_db()
    assert queued.scheduled_at > timezone.now()
    assert timezone.localtime(queued.scheduled_at, ROME).strftime("%H:%M") == "09:30"


def test_the_switch_says_queued_posts_move_instead_of_going_out(client, alice, workspace):
    workspace_pause(workspace=workspace, user=alice, reason=REASON)
    client.force_login(alice)
    html = client.get(url(workspace, "settings/")).content.decode()
    assert "Queued posts whose time has passed move to their queue's next free times instead" in html
    # Once one of a queue's posts is overdue, every post of that queue takes a new time (`queues._reslot`).
    assert "and the rest of that queue follows them in order" in html and "The others keep their times" not in html


# --- the switch and the banner --------------------------------------------------------------------------------
def test_pausing_from_the_dashboard_shows_a_banner_on_every_page_of_the_workspace(client, alice, workspace):
    client.force_login(alice)
    response = client.post(url(workspace, "pause/"), {"reason": REASON})
    assert response.status_code == 302 and response["Location"] == url(workspace) + "#pause-switch"
    for page in ("", "posts/", "channels/", "settings/"):
        html = client.get(url(workspace, page)).content.decode()
        assert f"Publishing is paused for {workspace.name}." in html, page
        assert "Paused by Alice Owner" in html and REASON in html, page
    dashboard = client.get(url(workspace)).content.decode()
    assert "Resume publishing" in dashboard and "Pause all publishing" not in dashboard


def test_settings_show_who_paused_when_and_why_and_resume_goes_back_there(client, alice, workspace):
    client.force_login(alice)
    paused_at = datetime(2026, 3, 3, 13, 5, tzinfo=UTC)
    Workspace.objects.filter(pk=workspace.pk).update(paused_at=paused_at, paused_by=alice, pause_reason=REASON)
    html = client.get(url(workspace, "settings/")).content.decode()
    assert 'id="pause-switch"' in html
    assert "Paused by Alice Owner on Tue 3 Mar 2026, 14:05 (Europe/Rome)" in html  # 13:05 UTC is 14:05 in Rome
    assert f"Reason: “{REASON}”" in html
    response = client.post(url(workspace, "resume/"), {"back": "settings"}, follow=True)
    assert response.redirect_chain[-1][0] == url(workspace, "settings/") + "#pause-switch"
    html = response.content.decode()
    assert "Publishing is back on. Posts whose time has passed go out within a minute." in html
    assert "Publishing is paused for" not in html
    assert not Workspace.objects.get(pk=workspace.pk).paused


def test_htmx_pause_answers_with_the_switch_and_the_banner_out_of_band(client, alice, workspace):
    client.force_login(alice)
    response = client.post(url(workspace, "pause/"), {"reason": REASON}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'id="pause-switch"' in html and "Resume publishing" in html
    assert '<div id="pause-banner" hx-swap-oob="true">' in html and REASON in html
    response = client.post(url(workspace, "resume/"), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "Publishing is back on. Posts whose time has passed go out within a minute." in html
    assert '<div id="pause-banner" hx-swap-oob="true">' in html and REASON not in html


def test_the_switch_counts_the_posts_that_wait_for_the_resume(client, alice, workspace):
    channel = ChannelFactory(workspace=workspace)
    for _ in range(2):
        DeliveryFactory(channel=channel, scheduled=True)  # due now
    later = DeliveryFactory(channel=channel, scheduled=True)
    later.next_attempt_at = timezone.now() + timedelta(days=1)
    later.save(update_fields=["next_attempt_at"])
    workspace_pause(workspace=workspace, user=alice, reason=REASON)
    client.force_login(alice)
    html = client.get(url(workspace)).content.decode()
    assert "2 posts on hold are past their time." in html


def test_pausing_without_a_reason_says_what_to_do(client, alice, workspace):
    client.force_login(alice)
    response = client.post(url(workspace, "pause/"), {"reason": "  "}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "Say in a few words why publishing is paused" in html and "is-invalid" in html
    assert not Workspace.objects.get(pk=workspace.pk).paused
    response = client.post(url(workspace, "pause/"), {"reason": ""}, follow=True)
    assert "Say in a few words why publishing is paused" in response.content.decode()


def test_a_second_click_says_who_had_paused(client, alice, agency, workspace):
    dana = UserFactory(full_name="Dana Admin")
    AgencyMembershipFactory(agency=agency, user=dana, role="admin")
    workspace_pause(workspace=workspace, user=dana, reason=REASON)
    client.force_login(alice)
    response = client.post(url(workspace, "pause/"), {"reason": "Mine"}, headers={"HX-Request": "true"})
    assert "Dana Admin had already paused publishing" in response.content.decode()
    assert Workspace.objects.get(pk=workspace.pk).pause_reason == REASON


def test_an_editor_sees_the_pause_but_cannot_switch_it(client, alice, bob, workspace):
    DeliveryFactory(channel=ChannelFactory(workspace=workspace))  # a workspace in use, not a new one
    client.force_login(bob)
    assert client.post(url(workspace, "pause/"), {"reason": REASON}).status_code == 403
    html = client.get(url(workspace)).content.decode()
    assert "Pause all publishing" not in html and "A manager can pause publishing here" in html
    workspace_pause(workspace=workspace, user=alice, reason=REASON)
    html = client.get(url(workspace, "posts/")).content.decode()
    assert f"Publishing is paused for {workspace.name}." in html and "Resume publishing…" not in html
    assert client.post(url(workspace, "resume/")).status_code == 403
    assert Workspace.objects.get(pk=workspace.pk).paused


def test_a_client_member_cannot_pause(client, workspace):
    client_user = UserFactory()
    AgencyMembershipFactory(agency=workspace.agency, user=client_user, role="member")
    WorkspaceMembershipFactory(workspace=workspace, user=client_user, role="client")
    client.force_login(client_user)
    assert client.post(url(workspace, "pause/"), {"reason": REASON}).status_code == 403


def test_another_agency_cannot_pause_or_resume(client, charlie, workspace, alice):
    client.force_login(charlie)
    assert client.post(url(workspace, "pause/"), {"reason": REASON}).status_code == 404
    workspace_pause(workspace=workspace, user=alice, reason=REASON)
    assert client.post(url(workspace, "resume/")).status_code == 404
    assert Workspace.objects.get(pk=workspace.pk).paused


def test_pause_and_resume_take_only_posts(client, alice, workspace):
    client.force_login(alice)
    assert client.get(url(workspace, "pause/")).status_code == 405
    assert client.get(url(workspace, "resume/")).status_code == 405


def test_other_workspaces_show_no_banner(client, alice, agency, workspace):
    other = WorkspaceFactory(agency=agency, name="Bakery Bloom")
    workspace_pause(workspace=workspace, user=alice, reason=REASON)
    client.force_login(alice)
    html = client.get(url(other)).content.decode()
    assert "Publishing is paused" not in html
    assert 'id="pause-banner"' in html  # the empty slot an htmx pause fills


def test_pages_outside_a_workspace_have_no_banner_slot(client, alice, agency, workspace):
    workspace_pause(workspace=workspace, user=alice, reason=REASON)
    client.force_login(alice)
    html = client.get(f"/agency/{agency.public_id}/team/").content.decode()
    assert 'id="pause-banner"' not in html
