"""What people hear when things happen at Meta (the sandbox): a post that fails for good, a channel whose token
Meta revoked, an Instagram account whose daily quota is full. Each event tells the right people once, in the app
and, as their preferences ask, in one email digest."""

from __future__ import annotations

import pytest
from django.core import mail

from accounts.models import ChannelStatus
from accounts.services.channels import channel_check_token
from notifications import services
from notifications.models import Kind, Notification, Preference
from notifications.services import digest_send
from publishing.models import DeliveryState
from publishing.services.posts import MediaItem, delivery_retry
from tests.factories import AgencyMembershipFactory, UserFactory, WorkspaceMembershipFactory

# The publishing tests' fixtures, used here by name (so ruff's F811 does not apply to their parameters).
# ruff: noqa: F811
from tests.publishing.conftest import (  # noqa: F401
    HARBOR_IG,
    HARBOR_PAGE,
    _fast_pipeline,
    channels,
    public_media,
    run_to_end,
    samples,
    submit,
    upload,
)

pytestmark = [pytest.mark.django_db(transaction=True)]
FEED_POST = rf"/v\d+\.\d+/{HARBOR_PAGE}/feed$"
ALEX = "10776317066907439"  # the sandbox's Facebook user who connected Harbor Yoga Studio and @harboryoga


@pytest.fixture(autouse=True)
def queued(monkeypatch) -> list[int]:
    """Digests handed to the broker (the worker's part is run below by calling `digest_send`)."""
    sent: list[int] = []
    real = services.current_app.send_task

    def send_task(name, args=None, **kwargs):
        if name != services.DIGEST_TASK:
            return real(name, args=args, **kwargs)
        sent.append(args[0])

    monkeypatch.setattr(services.current_app, "send_task", send_task)
    return sent


def member(agency, workspace, role: str, name: str):
    person = UserFactory(full_name=name)
    AgencyMembershipFactory(agency=agency, user=person, role="member")
    WorkspaceMembershipFactory(workspace=workspace, user=person, role=role)
    return person


@pytest.fixture
def team(agency, workspace, alice, bob):
    """Alice owns the agency; Dana and Erin manage the workspace (Dana wants no email about failed posts); Bob
    edits and Carl only moderates comments."""
    dana = member(agency, workspace, "manager", "Dana Manager")
    Preference.objects.create(user=dana, kind=Kind.POST_FAILED, in_app=True, email=False)
    erin = member(agency, workspace, "manager", "Erin Manager")
    carl = member(agency, workspace, "moderator", "Carl Moderator")
    return {"alice": alice, "bob": bob, "dana": dana, "erin": erin, "carl": carl}


def told(kind: Kind) -> dict[str, Notification]:
    return {n.user.get_short_name(): n for n in Notification.objects.filter(kind=kind).select_related("user")}


def test_a_post_meta_refuses_for_good_is_told_in_app_and_by_email_as_each_person_asks(
    submit, channels, team, workspace, sandbox_control, queued
):
    sandbox_control.fault(path=FEED_POST, method="POST", error={"preset": "media_type_not_supported"})
    delivery = run_to_end(submit("page", caption="Spring timetable is out"), sandbox_control)
    assert delivery.state == DeliveryState.FAILED

    notes = told(Kind.POST_FAILED)
    assert set(notes) == {"Alice", "Dana", "Erin"}  # who may publish, and the author; not Bob nor Carl
    for note in notes.values():
        assert note.title == "Failed on Harbor Yoga Studio: “Spring timetable is out”"
        assert note.body == "The media type is not supported for this endpoint"
        assert note.url == f"/w/{workspace.public_id}/posts/#post-{delivery.post.public_id}"
        assert note.in_app and note.read_at is None and note.workspace == workspace
    assert notes["Dana"].email == Notification.Email.NONE
    assert sorted(queued) == sorted([team["alice"].pk, team["erin"].pk])

    for person in team.values():
        digest_send(user_id=person.pk)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([team["alice"].email, team["erin"].email])
    for message in mail.outbox:
        assert message.subject == "[SocialHub] Failed on Harbor Yoga Studio: “Spring timetable is out”"
        assert "The media type is not supported for this endpoint" in message.body
        assert f"/w/{workspace.public_id}/posts/#post-{delivery.post.public_id}" in message.body

    # The run is not repeated into a second notice, and the bell shows it.
    run_to_end(delivery, sandbox_control)
    assert Notification.objects.filter(kind=Kind.POST_FAILED).count() == 3


def test_a_retry_that_fails_again_is_told_again_but_not_to_someone_who_left(
    submit, upload, samples, channels, team, workspace, sandbox_control, queued
):
    container = rf"/v\d+\.\d+/{HARBOR_IG}/media$"
    sandbox_control.fault(path=container, method="POST", error={"preset": "media_type_not_supported"})
    photo = upload(samples.jpeg(1080, 1080))
    delivery = run_to_end(submit("ig", caption="Spring timetable", media=[MediaItem(photo)]), sandbox_control)
    assert delivery.state == DeliveryState.FAILED, delivery.waiting_reason
    assert set(told(Kind.POST_FAILED)) == {"Alice", "Dana", "Erin"}

    team["erin"].workspace_memberships.all().delete()  # Erin no longer works on this client
    sandbox_control.fault(path=container, method="POST", error={"preset": "media_type_not_supported"})
    assert delivery_retry(delivery=delivery).state != DeliveryState.FAILED
    assert run_to_end(delivery, sandbox_control).state == DeliveryState.FAILED
    names = sorted(n.user.get_short_name() for n in Notification.objects.filter(kind=Kind.POST_FAILED))
    assert names == ["Alice", "Alice", "Dana", "Dana", "Erin"]


def test_a_revoked_token_tells_the_people_who_manage_channels_once_with_the_reason(
    submit, channels, team, workspace, sandbox_control, queued
):
    sandbox_control.revoke_tokens(user_id=ALEX)
    assert channel_check_token(channel=channels["page"]) is False
    channels["page"].refresh_from_db()
    assert channels["page"].status == ChannelStatus.NEEDS_RECONNECT

    notes = told(Kind.CHANNEL_RECONNECT)
    assert set(notes) == {"Alice", "Dana", "Erin"}  # channel managers and who connected it; not Bob nor Carl
    for note in notes.values():
        assert note.title == "Reconnect Harbor Yoga Studio"
        assert note.body == channels["page"].status_reason and "Reconnect" in note.body
        assert note.url == f"/w/{workspace.public_id}/channels/"
        assert note.email == Notification.Email.PENDING

    # Asking again, and publishing with the dead token, find the channel already waiting: nobody is told twice.
    assert channel_check_token(channel=channels["page"]) is False
    assert run_to_end(submit("page", caption="After the revoke"), sandbox_control).state != DeliveryState.PUBLISHED
    assert Notification.objects.filter(kind=Kind.CHANNEL_RECONNECT).count() == 3

    digest_send(user_id=team["dana"].pk)
    (message,) = mail.outbox
    assert message.subject == "[SocialHub] Reconnect Harbor Yoga Studio" and "Reconnect" in message.body


def test_a_full_instagram_quota_is_told_once_per_account_and_day(
    submit, channels, upload, samples, team, sandbox_control
):
    sandbox_control.quota(HARBOR_IG, quota_total=2, used=2)
    photo = upload(samples.jpeg(1080, 1080))
    first = run_to_end(submit("ig", caption="Over quota 1", media=[MediaItem(photo)]), sandbox_control)
    second = run_to_end(submit("ig", caption="Over quota 2", media=[MediaItem(photo)]), sandbox_control)
    assert first.state == second.state == DeliveryState.SCHEDULED  # waiting for the window, not failed

    notes = told(Kind.IG_QUOTA_FULL)
    assert set(notes) == {"Alice", "Dana", "Erin"}
    assert Notification.objects.filter(kind=Kind.IG_QUOTA_FULL).count() == 3
    assert notes["Alice"].title == "@harboryoga reached Instagram's daily publishing limit"
    assert all(n.email == Notification.Email.NONE for n in notes.values())  # in-app only, unless chosen
    assert not Notification.objects.filter(kind=Kind.POST_FAILED).exists()
