"""`notify` and the email digests: who is told, once per key; one email per burst and per interval, the rest in the
next; nothing lost when the broker is down. Time is an explicit `now`, never a sleep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from kombu.exceptions import OperationalError

from notifications import services
from notifications.models import Kind, Notification, Preference
from notifications.services import digest_send, digests_due, mark_read, notify, preferences_for, unread_count
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.no_sandbox]
WINDOW = 300


@pytest.fixture(autouse=True)
def _window(settings):
    settings.NOTIFICATION_DIGEST_SECONDS = WINDOW


@pytest.fixture
def queued(monkeypatch) -> list[tuple[int, float | None]]:
    """The digests handed to the broker: (user id, countdown)."""
    sent: list[tuple[int, float | None]] = []

    def send_task(name, args=None, countdown=None, **kwargs):
        assert name == services.DIGEST_TASK
        sent.append((args[0], countdown))

    monkeypatch.setattr(services.current_app, "send_task", send_task)
    return sent


def failed(users, n: int = 1, **kwargs) -> list[Notification]:
    return notify(
        kind=Kind.POST_FAILED,
        users=users,
        title=f"Failed on Harbor Yoga Studio: post {n}",
        body="The media type is not supported for this endpoint",
        url="/w/x/posts/",
        **kwargs,
    )


def test_notify_follows_each_persons_preferences(alice, bob):
    Preference.objects.create(user=bob, kind=Kind.POST_FAILED, in_app=True, email=False)
    carol = UserFactory()
    Preference.objects.create(user=carol, kind=Kind.POST_FAILED, in_app=False, email=False)
    made = failed([alice, bob, carol, None])
    by_user = {n.user_id: n for n in made}
    assert set(by_user) == {alice.pk, bob.pk}
    assert by_user[alice.pk].email == Notification.Email.PENDING and by_user[alice.pk].in_app
    assert by_user[bob.pk].email == Notification.Email.NONE and by_user[bob.pk].in_app


def test_defaults_apply_until_someone_chooses(alice):
    assert preferences_for(alice)[Kind.IG_QUOTA_FULL] == (True, False)
    (row,) = notify(kind=Kind.IG_QUOTA_FULL, users=[alice], title="Quota")
    assert row.email == Notification.Email.NONE


def test_the_person_who_did_it_and_inactive_people_are_not_told(alice, bob):
    gone = UserFactory(is_active=False)
    made = failed([alice, bob, gone], exclude=alice)
    assert [n.user_id for n in made] == [bob.pk]


def test_the_same_key_tells_each_person_once(alice, bob):
    assert len(failed([alice], key="delivery:1:failed:1")) == 1
    again = failed([alice, bob], key="delivery:1:failed:1")
    assert [n.user_id for n in again] == [bob.pk]
    assert Notification.objects.filter(user=alice).count() == 1
    assert len(failed([alice], key="delivery:1:failed:2")) == 1  # a new failure is news again


def test_emails_are_queued_after_commit_with_a_short_gathering_wait(
    alice, bob, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        failed([alice, bob])
        assert queued == []  # nothing leaves before the notifications are saved for good
    assert len(callbacks) == 1
    assert sorted(queued) == [(alice.pk, 60), (bob.pk, 60)]


def test_a_burst_is_one_email(alice):
    for n in range(3):
        failed([alice], n)
    assert digest_send(user_id=alice.pk) == 3
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert (
        message.to == [alice.email] and message.subject == "[SocialHub] Failed on Harbor Yoga Studio: post 0 and 2 more"
    )
    for n in range(3):
        assert f"post {n}" in message.body
    assert "http://127.0.0.1:8000/w/x/posts/" in message.body
    assert "http://127.0.0.1:8000/notifications/preferences/" in message.body
    assert not Notification.objects.filter(email=Notification.Email.PENDING).exists()


def test_within_the_window_they_wait_and_the_next_email_carries_them(alice, queued, django_capture_on_commit_callbacks):
    start = timezone.now()
    failed([alice], 1)
    assert digest_send(user_id=alice.pk, now=start) == 1
    assert mail.outbox[0].subject == "[SocialHub] Failed on Harbor Yoga Studio: post 1"

    failed([alice], 2)
    failed([alice], 3)
    with django_capture_on_commit_callbacks(execute=True):
        assert digest_send(user_id=alice.pk, now=start + timedelta(seconds=100)) == 0
    assert len(mail.outbox) == 1
    assert queued == [(alice.pk, WINDOW - 100 + 1)]  # comes back when the window ends

    assert digest_send(user_id=alice.pk, now=start + timedelta(seconds=WINDOW)) == 2
    assert len(mail.outbox) == 2
    assert "post 2" in mail.outbox[1].body and "post 3" in mail.outbox[1].body and "post 1" not in mail.outbox[1].body
    assert digest_send(user_id=alice.pk, now=start + timedelta(seconds=2 * WINDOW)) == 0
    assert len(mail.outbox) == 2


def test_email_turned_off_after_the_event_is_not_sent(alice):
    failed([alice], 1)
    notify(kind=Kind.CHANNEL_RECONNECT, users=[alice], title="Reconnect Harbor Yoga Studio")
    Preference.objects.create(user=alice, kind=Kind.POST_FAILED, in_app=True, email=False)
    assert digest_send(user_id=alice.pk) == 1
    assert mail.outbox[0].subject == "[SocialHub] Reconnect Harbor Yoga Studio"
    assert Notification.objects.get(kind=Kind.POST_FAILED).email == Notification.Email.NONE


def test_what_was_read_in_the_app_meanwhile_is_not_emailed(alice):
    seen = failed([alice], 1)[0]
    failed([alice], 2)
    mark_read(user=alice, ids=[seen.pk])
    assert digest_send(user_id=alice.pk) == 1
    assert "post 2" in mail.outbox[0].subject and "post 1" not in mail.outbox[0].body
    seen.refresh_from_db()
    assert seen.email == Notification.Email.NONE


def test_nobody_is_emailed_without_an_address_or_a_login(alice):
    failed([alice])
    type(alice).objects.filter(pk=alice.pk).update(is_active=False)
    assert digest_send(user_id=alice.pk) == 0
    assert mail.outbox == []
    assert Notification.objects.get().email == Notification.Email.NONE


def test_a_mail_server_that_refuses_leaves_them_waiting(alice, monkeypatch):
    failed([alice])

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("SMTP server down")

    monkeypatch.setattr(services, "send_mail", refuse)
    with pytest.raises(ConnectionRefusedError):
        digest_send(user_id=alice.pk)
    row = Notification.objects.get()
    assert row.email == Notification.Email.PENDING and row.emailed_at is None
    monkeypatch.undo()
    assert digest_send(user_id=alice.pk) == 1


def test_with_the_broker_down_the_notification_is_kept_and_the_sweep_sends_it_later(
    alice, bob, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    attempts = []

    def broker_down(name, args=None, **kwargs):
        attempts.append(args[0])
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(services.current_app, "send_task", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        made = failed([alice, bob])
    assert len(made) == 2 and len(attempts) == 1  # one refusal stops the round; nothing raised to the caller
    assert "could not queue the notification digest of 2 person(s)" in caplog.text
    assert Notification.objects.filter(email=Notification.Email.PENDING).count() == 2

    monkeypatch.undo()
    sent: list[int] = []
    monkeypatch.setattr(services.current_app, "send_task", lambda name, args=None, **kw: sent.append(args[0]))
    assert digests_due() == 2 and sorted(sent) == sorted([alice.pk, bob.pk])


def test_the_sweep_leaves_people_inside_their_window_alone(alice, bob, queued):
    start = timezone.now()
    failed([alice], 1)
    digest_send(user_id=alice.pk, now=start)
    failed([alice, bob], 2)
    assert digests_due(now=start + timedelta(seconds=10)) == 1
    assert queued == [(bob.pk, None)]
    queued.clear()
    assert digests_due(now=start + timedelta(seconds=WINDOW + 1)) == 2
    assert sorted(queued) == sorted([(alice.pk, None), (bob.pk, None)])


def test_unread_count_and_mark_read_are_per_person(alice, bob):
    failed([alice, bob], 1)
    failed([alice], 2)
    Preference.objects.create(user=alice, kind=Kind.CHANNEL_RECONNECT, in_app=False, email=True)
    notify(kind=Kind.CHANNEL_RECONNECT, users=[alice], title="Email only")
    assert unread_count(alice) == 2 and unread_count(bob) == 1
    mine = Notification.objects.filter(user=alice, kind=Kind.POST_FAILED).first()
    bobs = Notification.objects.get(user=bob)
    assert mark_read(user=alice, ids=[mine.pk, bobs.pk]) == 1
    assert unread_count(alice) == 1 and unread_count(bob) == 1
    mark_read(user=alice)
    assert unread_count(alice) == 0 and unread_count(bob) == 1
