"""The calendar (month and week, on the workspace's clock across the March clock change), its filters, moving a post
by dragging it (`post_reschedule`: its rules, its permissions, its history), and the posts list's filters, search,
failures first and pagination; both pages take the same number of queries for 10 posts as for 500."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.access import get_workspace_for_user
from publishing.models import Delivery, DeliveryKind, DeliveryState, Post, PostMedia
from publishing.services import calendar as calendar_services
from tests.factories import (
    AgencyMembershipFactory,
    ChannelFactory,
    DeliveryFactory,
    MediaAssetFactory,
    PostFactory,
    PostMediaFactory,
    UserFactory,
    WorkspaceFactory,
    WorkspaceMembershipFactory,
)
from tests.publishing.test_schedule_dst import next_last_sunday

pytestmark = [pytest.mark.django_db, pytest.mark.no_sandbox]  # nothing here asks Meta
ROME = ZoneInfo("Europe/Rome")
HTMX = {"HX-Request": "true"}
S = DeliveryState


def rome(day: date, hh: int, mm: int = 0, fold: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=ROME).replace(fold=fold).astimezone(UTC)


@pytest.fixture
def fb_page(workspace, alice):
    return ChannelFactory(workspace=workspace, connected_by=alice)


@pytest.fixture
def ig(workspace, alice):
    return ChannelFactory(workspace=workspace, connected_by=alice, instagram=True)


@pytest.fixture
def spring() -> date:
    """The next last Sunday of March: at 02:00 in Rome the clocks jump to 03:00."""
    return next_last_sunday(3)


def scheduled(
    workspace, channel, at: datetime | None, *, author=None, state=S.SCHEDULED, delivery=None, **fields
) -> Post:
    """A post at `at` with one delivery in `state` (`delivery`: more of its fields)."""
    post = PostFactory(workspace=workspace, author=author, scheduled_at=at, **fields)
    due = at if state != S.DRAFT else None
    DeliveryFactory(post=post, channel=channel, state=state, due_at=due, next_attempt_at=due, **(delivery or {}))
    return post


def cells(html: str) -> dict[tuple[str, str], list[str]]:
    """(day, hour or "") → the public ids of the posts in that cell of the grid."""
    found = {}
    pattern = r'<ul class="list-unstyled cal-drop" data-day="([\d-]+)"(?: data-hour="(\d+)")?[^>]*>(.*?)</ul>'
    for match in re.finditer(pattern, html, re.S):
        found[(match.group(1), match.group(2) or "")] = re.findall(r'data-post="([0-9a-f-]+)"', match.group(3))
    return found


def calendar(client, workspace, **params) -> str:
    response = client.get(f"/w/{workspace.public_id}/calendar/", params)
    assert response.status_code == 200
    return response.content.decode()


def move(client, workspace, post, day: date, at: str, **extra):
    return client.post(
        f"/w/{workspace.public_id}/posts/{post.public_id}/reschedule/",
        {"day": day.isoformat(), "time": at, **extra},
        headers=HTMX,
    )


# --- placement ------------------------------------------------------------------------------------------------------
def test_month_places_each_post_on_its_local_day_around_the_march_change(client, alice, workspace, fb_page, spring):
    client.force_login(alice)
    saturday, monday = spring - timedelta(days=1), spring + timedelta(days=1)
    late_saturday = scheduled(workspace, fb_page, rome(saturday, 23, 30))  # 22:30 UTC
    after_midnight = scheduled(workspace, fb_page, rome(spring, 0, 30))  # 23:30 UTC on Saturday
    morning = scheduled(workspace, fb_page, rome(spring, 10))  # 08:00 UTC: summer time already
    late_sunday = scheduled(workspace, fb_page, rome(spring, 23, 30))  # 21:30 UTC on Sunday
    monday_early = scheduled(workspace, fb_page, rome(monday, 0, 15))  # 22:15 UTC on Sunday
    assert after_midnight.scheduled_at.date() == saturday and monday_early.scheduled_at.date() == spring

    html = calendar(client, workspace, view="month", date=spring.isoformat())
    grid = cells(html)
    assert grid[(saturday.isoformat(), "")] == [str(late_saturday.public_id)]
    assert grid[(spring.isoformat(), "")] == [str(p.public_id) for p in (after_midnight, morning, late_sunday)]
    assert grid[(monday.isoformat(), "")] == [str(monday_early.public_id)]
    assert f'datetime="{spring.isoformat()}T10:00:00+02:00">10:00</time>' in html
    assert f'datetime="{saturday.isoformat()}T23:30:00+01:00">23:30</time>' in html
    assert "Clocks go forward an hour" in html
    first_day = min(day for day, _ in grid)
    assert date.fromisoformat(first_day).weekday() == 0 and len(grid) % 7 == 0  # Monday first, whole weeks


def test_a_busy_day_of_the_month_shows_four_posts_and_links_the_rest_to_its_week(
    client, alice, workspace, fb_page, spring
):
    client.force_login(alice)
    posts = [scheduled(workspace, fb_page, rome(spring, hour)) for hour in (8, 9, 10, 11, 12, 13)]
    html = calendar(client, workspace, view="month", date=spring.isoformat())
    assert cells(html)[(spring.isoformat(), "")] == [str(p.public_id) for p in posts[:4]]  # the first four, in time
    assert f'2 more<span class="visually-hidden"> on {spring:%A} {spring.day} {spring:%B}</span>' in html
    assert f"view=week&amp;date={spring.isoformat()}" in html
    week = calendar(client, workspace, view="week", date=spring.isoformat())
    assert all(str(p.public_id) in week for p in posts)


def test_week_places_a_post_at_its_local_hour_on_both_sides_of_the_change(client, alice, workspace, fb_page, spring):
    client.force_login(alice)
    saturday = spring - timedelta(days=1)
    before = scheduled(workspace, fb_page, rome(saturday, 10))  # 09:00 UTC
    after = scheduled(workspace, fb_page, rome(spring, 10))  # 08:00 UTC
    right_after_jump = scheduled(workspace, fb_page, rome(spring, 3, 15))  # 01:15 UTC, the first minutes of summer time

    html = calendar(client, workspace, view="week", date=spring.isoformat())
    grid = cells(html)
    assert grid[(saturday.isoformat(), "10")] == [str(before.public_id)]
    assert grid[(spring.isoformat(), "10")] == [str(after.public_id)]
    assert grid[(spring.isoformat(), "3")] == [str(right_after_jump.public_id)]
    assert grid[(spring.isoformat(), "8")] == [] and grid[(saturday.isoformat(), "9")] == []  # not at the UTC hour
    assert len({day for day, _ in grid}) == 7 and len(grid) == 7 * 24
    assert date.fromisoformat(min(day for day, _ in grid)).weekday() == 0
    assert html.count("the clocks skip it") == 1  # 02:00 on that Sunday


def test_the_week_after_the_autumn_change_keeps_local_hours_too(client, alice, workspace, fb_page):
    client.force_login(alice)
    autumn = next_last_sunday(10)
    first, second = (
        scheduled(workspace, fb_page, rome(autumn, 2, 30)),
        scheduled(workspace, fb_page, rome(autumn, 2, 30, 1)),
    )
    assert second.scheduled_at - first.scheduled_at == timedelta(hours=1)
    grid = cells(calendar(client, workspace, view="week", date=autumn.isoformat()))
    assert grid[(autumn.isoformat(), "2")] == [str(first.public_id), str(second.public_id)]


def test_a_post_shows_its_channels_thumbnail_status_in_words_and_links(client, alice, workspace, fb_page, ig, spring):
    client.force_login(alice)
    post = scheduled(workspace, fb_page, rome(spring, 10), caption="Spring menu is here")
    DeliveryFactory(post=post, channel=ig, state=S.SCHEDULED, due_at=post.scheduled_at)
    item = PostMediaFactory(post=post)
    out = scheduled(
        workspace, fb_page, rome(spring, 12), state=S.PUBLISHED, delivery={"remote_id": "1_2"}, caption="Went out"
    )
    html = calendar(client, workspace, date=spring.isoformat())
    ws = workspace.public_id
    assert f'src="/w/{ws}/media/{item.asset.public_id}/file?thumb=1"' in html
    assert fb_page.display_name in html and ig.display_name in html
    assert '<span class="badge cal-badge cal-badge-scheduled">Scheduled</span>' in html
    assert f'href="/w/{ws}/posts/{post.public_id}/edit/"' in html  # still editable: straight to the composer
    assert f'href="/w/{ws}/posts/?post={out.public_id}#post-{out.public_id}"' in html  # gone out: its card
    assert "What the colours mean" in html and "Published" in html
    movable = re.search(rf'<li class="([^"]*)" id="cal-post-{post.public_id}"', html).group(1)
    fixed = re.search(rf'<li class="([^"]*)" id="cal-post-{out.public_id}"', html).group(1)
    assert "cal-movable" in movable and "cal-movable" not in fixed


def test_undated_drafts_are_listed_beside_the_calendar(client, alice, workspace, fb_page, spring):
    client.force_login(alice)
    draft = scheduled(workspace, fb_page, None, state=S.DRAFT, caption="Idea for Easter")
    published_now = scheduled(workspace, fb_page, None, state=S.PUBLISHED)  # went out on request: not a draft
    Delivery.objects.filter(post=published_now).update(due_at=timezone.now())
    html = calendar(client, workspace)
    side = html[html.index("Unscheduled drafts") :]
    assert f'data-post="{draft.public_id}"' in side and "Idea for Easter" in side
    assert f'data-post="{published_now.public_id}"' not in side
    assert f'data-post="{published_now.public_id}"' in html  # on its day instead


def test_the_period_moves_and_htmx_gets_the_calendar_only(client, alice, workspace, fb_page, spring):
    client.force_login(alice)
    html = calendar(client, workspace, view="month", date=spring.isoformat(), channel=str(fb_page.public_id))
    following = (spring.replace(day=28) + timedelta(days=4)).replace(day=1)
    assert f"date={following.isoformat()}" in html and f"channel={fb_page.public_id}" in html  # next keeps filters
    assert 'hx-push-url="true"' in html
    response = client.get(f"/w/{workspace.public_id}/calendar/", {"view": "week"}, headers=HTMX)
    partial = response.content.decode()
    assert '<div id="calendar"' in partial and "<html" not in partial
    assert calendar(client, workspace, view="nonsense", date="not-a-day").count('class="cal-day') >= 28


def test_the_calendar_marks_held_posts_while_the_workspace_is_paused(client, alice, workspace, fb_page, spring):
    client.force_login(alice)
    post = scheduled(workspace, fb_page, rome(spring, 10))
    draft = scheduled(workspace, fb_page, rome(spring, 11), state=S.DRAFT)
    assert "On hold" not in calendar(client, workspace, date=spring.isoformat())
    workspace.paused_at, workspace.paused_by, workspace.pause_reason = timezone.now(), alice, "Crisis at the roastery"
    workspace.save()
    html = calendar(client, workspace, date=spring.isoformat())
    assert "Publishing is paused" in html and "Crisis at the roastery" in html and alice.get_full_name() in html
    held = re.search(rf'id="cal-post-{post.public_id}".*?</li>', html, re.S).group(0)
    kept = re.search(rf'id="cal-post-{draft.public_id}".*?</li>', html, re.S).group(0)
    assert "On hold" in held and "On hold" not in kept


def test_the_days_the_clocks_change_say_what_they_do(spring):
    autumn = next_last_sunday(10)
    assert calendar_services.clock_change_note(spring, ROME) == "Clocks go forward an hour"
    assert calendar_services.clock_change_note(autumn, ROME) == "Clocks go back an hour"
    assert calendar_services.clock_change_note(spring - timedelta(days=1), ROME) == ""
    assert calendar_services.skipped_hours(spring, ROME) == {2}
    assert calendar_services.skipped_hours(autumn, ROME) == set()  # 02:00 happens twice, none is skipped
    lord_howe = ZoneInfo("Australia/Lord_Howe")  # half an hour of summer time: no whole hour goes missing
    assert calendar_services.clock_change_note(date(2026, 10, 4), lord_howe) == "Clocks go forward 30 minutes"
    assert calendar_services.skipped_hours(date(2026, 10, 4), lord_howe) == set()


# --- filters -----------------------------------------------------------------------------------------------------
def test_calendar_filters_by_channel_status_author_and_approval(client, alice, bob, workspace, fb_page, ig, spring):
    client.force_login(alice)
    on_page = scheduled(workspace, fb_page, rome(spring, 9), author=alice)
    on_ig = scheduled(workspace, ig, rome(spring, 10), author=bob, approval=Post.Approval.APPROVED)
    failed = scheduled(workspace, ig, rome(spring, 11), author=bob, state=S.FAILED)
    waiting = scheduled(workspace, fb_page, rome(spring, 12), author=bob, state=S.AWAITING_APPROVAL)
    Post.objects.filter(pk=waiting.pk).update(approval=Post.Approval.PENDING)

    def shown(**params) -> set[Post]:
        html = calendar(client, workspace, date=spring.isoformat(), **params)
        ids = {i for ids in cells(html).values() for i in ids}
        return {p for p in (on_page, on_ig, failed, waiting) if str(p.public_id) in ids}

    assert shown() == {on_page, on_ig, failed, waiting}
    assert shown(channel=str(ig.public_id)) == {on_ig, failed}
    assert shown(status="failed") == {failed}
    assert shown(channel=str(fb_page.public_id), status="failed") == set()
    assert shown(author=str(bob.pk)) == {on_ig, failed, waiting}
    assert shown(approval="pending") == {waiting}
    assert shown(approval="approved", author=str(bob.pk)) == {on_ig}
    stranger = ChannelFactory(workspace=WorkspaceFactory(), external_id="999")
    assert shown(channel=str(stranger.public_id), status="nonsense", author="x") == {on_page, on_ig, failed, waiting}


def test_posts_list_filters_searches_and_keeps_filters_in_its_pages(client, alice, bob, workspace, fb_page, ig):
    client.force_login(alice)
    for n in range(22):
        scheduled(workspace, fb_page, timezone.now() + timedelta(days=1, hours=n), author=bob, caption=f"Roast {n}")
    espresso = scheduled(workspace, ig, timezone.now() + timedelta(days=3), author=alice, caption="Espresso hour")
    own_text = scheduled(workspace, ig, timezone.now() + timedelta(days=4), author=alice, caption="Coffee")
    Delivery.objects.filter(post=own_text).update(caption_override="Try our ESPRESSO tonic")
    url = f"/w/{workspace.public_id}/posts/"

    def listed(**params) -> str:
        response = client.get(url, params)
        assert response.status_code == 200
        return response.content.decode()

    def ids(html: str) -> set[str]:
        return set(re.findall(r'class="card mb-3 post-card" id="post-([0-9a-f-]+)"', html))

    assert ids(listed(q="espresso")) == {str(espresso.public_id), str(own_text.public_id)}
    assert ids(listed(channel=str(ig.public_id))) == {str(espresso.public_id), str(own_text.public_id)}
    assert ids(listed(author=str(alice.pk), q="tonic")) == {str(own_text.public_id)}
    assert ids(listed(approval="pending")) == set() and "No posts match these filters." in listed(approval="pending")
    by_bob = listed(author=str(bob.pk))
    assert len(ids(by_bob)) == 20 and "Page 1 of 2" in by_bob
    assert f"?author={bob.pk}&amp;page=2" in by_bob  # the next page keeps the filter
    assert len(ids(listed(author=str(bob.pk), page="2"))) == 2
    assert ids(listed(post=str(espresso.public_id))) == {str(espresso.public_id)}

    partial = client.get(url, {"q": "espresso"}, headers=HTMX).content.decode()
    assert partial.lstrip().startswith('<div id="post-results">') and "<html" not in partial
    assert ids(partial) == {str(espresso.public_id), str(own_text.public_id)}
    full = listed()
    assert 'hx-target="#post-results"' in full and 'hx-push-url="true"' in full


def test_posts_list_puts_failed_posts_first_with_metas_reason_and_retry(client, alice, workspace, fb_page, ig):
    client.force_login(alice)
    failed = PostFactory(workspace=workspace, author=alice, caption="Old one that failed")
    Post.objects.filter(pk=failed.pk).update(created_at=timezone.now() - timedelta(days=30))
    bad = DeliveryFactory(post=failed, channel=ig, failed=True, error_message="The image is too small for Instagram.")
    DeliveryFactory(post=failed, channel=fb_page, published=True)
    for n in range(21):
        scheduled(workspace, fb_page, timezone.now() + timedelta(days=2), caption=f"Newer {n}")
    html = client.get(f"/w/{workspace.public_id}/posts/").content.decode()
    cards = re.findall(r'class="card mb-3 post-card" id="post-([0-9a-f-]+)"', html)
    assert cards[0] == str(failed.public_id) and len(cards) == 20
    assert html.index("Needs attention") < html.index(f'id="post-{failed.public_id}"') < html.index("Other posts")
    assert "The image is too small for Instagram." in html
    assert f'hx-post="/w/{workspace.public_id}/deliveries/{bad.public_id}/retry/"' in html
    second = client.get(f"/w/{workspace.public_id}/posts/", {"page": 2}).content.decode()
    assert str(failed.public_id) not in second and "Needs attention" not in second


# --- moving a post ---------------------------------------------------------------------------------------------------
def test_dragging_a_post_moves_it_its_deliveries_and_records_the_change(client, alice, workspace, fb_page, ig, spring):
    client.force_login(alice)
    saturday = spring - timedelta(days=1)
    post = scheduled(workspace, fb_page, rome(saturday, 10), author=alice, in_queue=True)
    DeliveryFactory(
        post=post, channel=ig, state=S.SCHEDULED, due_at=post.scheduled_at, next_attempt_at=post.scheduled_at
    )
    response = move(client, workspace, post, spring, "10:00", view="month", date=saturday.isoformat())
    assert response.status_code == 200
    html = response.content.decode()
    assert f"Moved to Sunday {spring.day} March at 10:00 (Europe/Rome)." in html and "<html" not in html
    assert cells(html)[(spring.isoformat(), "")] == [str(post.public_id)]

    post.refresh_from_db()
    moment = datetime(spring.year, 3, spring.day, 8, 0, tzinfo=UTC)  # summer time: UTC+2
    assert post.scheduled_at == moment and not post.in_queue
    assert (post.scheduled_local, post.scheduled_timezone) == (f"{spring.isoformat()}T10:00:00", "Europe/Rome")
    assert {(d.state, d.due_at, d.next_attempt_at) for d in post.deliveries.all()} == {(S.SCHEDULED, moment, moment)}
    latest = post.versions.first()
    assert latest.changed == ["time"] and latest.author == alice
    assert latest.snapshot["date"] == [spring.isoformat()] and latest.snapshot["time"] == ["10:00"]


def test_week_drop_keeps_the_minutes_and_a_time_shown_twice_means_the_first(client, alice, workspace, fb_page):
    client.force_login(alice)
    autumn = next_last_sunday(10)
    post = scheduled(workspace, fb_page, rome(autumn - timedelta(days=2), 14, 45))
    assert move(client, workspace, post, autumn, "02:45", view="week").status_code == 200
    post.refresh_from_db()
    assert post.scheduled_at == datetime(autumn.year, 10, autumn.day, 0, 45, tzinfo=UTC)  # summer time, the first


def test_a_time_the_clocks_skip_is_refused_with_its_reason_and_the_post_stays(
    client, alice, workspace, fb_page, spring
):
    client.force_login(alice)
    saturday = spring - timedelta(days=1)
    post = scheduled(workspace, fb_page, rome(saturday, 2, 30))
    html = move(client, workspace, post, spring, "02:30", view="week", date=spring.isoformat()).content.decode()
    assert f"Not moved: There is no 02:30 on Sunday {spring.day} March {spring.year} in Europe/Rome" in html
    assert cells(html)[(saturday.isoformat(), "2")] == [str(post.public_id)]  # back where it was
    post.refresh_from_db()
    assert post.scheduled_at == rome(saturday, 2, 30) and not post.versions.exists()


@pytest.mark.parametrize(
    "sent",
    [
        {"state": S.PUBLISHED, "remote_id": "183533740681241_1"},
        {"state": S.PUBLISHING},
        {"state": S.PROCESSING},
        {"state": S.SCHEDULED, "publish_started_at": timezone.now()},
        {"state": S.SCHEDULED, "remote_id": "17900000000000001"},
    ],
)
def test_a_post_that_went_out_or_is_going_out_is_not_moved(client, alice, workspace, fb_page, ig, spring, sent):
    client.force_login(alice)
    post = scheduled(workspace, fb_page, rome(spring, 10))
    DeliveryFactory(post=post, channel=ig, due_at=post.scheduled_at, **sent)
    html = move(client, workspace, post, spring + timedelta(days=1), "10:00").content.decode()
    assert "Not moved: This post has gone out, or is going out right now, on @harboryoga" in html
    post.refresh_from_db()
    assert post.scheduled_at == rome(spring, 10)
    assert set(post.deliveries.values_list("due_at", flat=True)) == {rome(spring, 10)}


def test_failed_cancelled_unreadable_and_past_times_are_refused(client, alice, workspace, fb_page, spring):
    client.force_login(alice)
    failed = scheduled(workspace, fb_page, rome(spring, 10), state=S.FAILED)
    html = move(client, workspace, failed, spring, "11:00").content.decode()
    assert "Not moved: This post failed on Harbor Yoga Studio" in html and "Retry it from the posts list" in html

    cancelled = scheduled(workspace, fb_page, rome(spring, 10), state=S.CANCELLED)
    html = move(client, workspace, cancelled, spring, "11:00").content.decode()
    assert "Not moved: This post was cancelled on Harbor Yoga Studio" in html and "Duplicate it" in html

    post = scheduled(workspace, fb_page, rome(spring, 10))
    html = move(client, workspace, post, spring, "25:99").content.decode()
    assert "Drop the post on a day of the calendar" in html
    yesterday = timezone.localtime(timezone.now(), ROME).date() - timedelta(days=1)
    html = move(client, workspace, post, yesterday, "10:00").content.decode()
    assert "has already passed" in html
    post.refresh_from_db()
    assert post.scheduled_at == rome(spring, 10)


def test_the_service_takes_an_explicit_now(alice, workspace, fb_page, spring):
    post = scheduled(workspace, fb_page, rome(spring, 10))
    access = get_workspace_for_user(alice, workspace.public_id)
    later = rome(spring, 12)
    with pytest.raises(calendar_services.NotMovable, match="has already passed"):
        calendar_services.post_reschedule(post=post, access=access, user=alice, day=spring, at=time(11), now=later)
    moved = calendar_services.post_reschedule(post=post, access=access, user=alice, day=spring, at=time(13), now=later)
    assert moved.moment == rome(spring, 13)


def test_editors_move_drafts_and_posts_awaiting_approval_but_not_scheduled_ones(
    client, bob, workspace, fb_page, spring
):
    client.force_login(bob)
    draft = scheduled(workspace, fb_page, rome(spring, 9), state=S.DRAFT, author=bob)
    waiting = scheduled(workspace, fb_page, rome(spring, 10), state=S.AWAITING_APPROVAL, author=bob)
    approved = scheduled(workspace, fb_page, rome(spring, 11))
    html = calendar(client, workspace, date=spring.isoformat())
    for post, movable in ((draft, True), (waiting, True), (approved, False)):
        classes = re.search(rf'<li class="([^"]*)" id="cal-post-{post.public_id}"', html).group(1)
        assert ("cal-movable" in classes) is movable

    monday = spring + timedelta(days=1)
    assert move(client, workspace, draft, monday, "09:00").status_code == 200
    assert move(client, workspace, waiting, monday, "10:00").status_code == 200
    assert move(client, workspace, approved, monday, "11:00").status_code == 403
    assert Post.objects.get(pk=draft.pk).scheduled_at == rome(monday, 9)
    waiting.refresh_from_db()
    assert waiting.scheduled_at == rome(monday, 10) and waiting.deliveries.get().state == S.AWAITING_APPROVAL
    assert Post.objects.get(pk=approved.pk).scheduled_at == rome(spring, 11)


A = Post.Approval


@pytest.mark.parametrize(
    ("approval", "state", "editor_may"),
    [
        (A.PENDING, S.AWAITING_APPROVAL, True),  # the team approves the new time along with the rest
        (A.REJECTED, S.DRAFT, True),
        (A.CLIENT_PENDING, S.AWAITING_APPROVAL, False),  # the team approved it at its time: the client sees that
        (A.APPROVED, S.DRAFT, False),
        (A.APPROVED, S.SCHEDULED, False),
    ],
)
def test_only_people_who_may_publish_move_what_the_team_approved(
    client, alice, bob, workspace, fb_page, spring, approval, state, editor_may
):
    post = scheduled(workspace, fb_page, rome(spring, 10), state=state, author=bob, approval=approval)
    monday = spring + timedelta(days=1)

    def draggable(user) -> bool:
        client.force_login(user)
        html = calendar(client, workspace, date=spring.isoformat())
        entry = re.search(rf'<li class="([^"]*)" id="cal-post-{post.public_id}"([^>]*)>', html)
        movable = "cal-movable" in entry.group(1)
        assert movable is ("/reschedule/" in entry.group(2))  # only a draggable post carries where to send it
        return movable

    assert draggable(bob) is editor_may
    response = move(client, workspace, post, monday, "10:00")
    assert response.status_code == (200 if editor_may else 403)
    assert Post.objects.get(pk=post.pk).scheduled_at == (rome(monday, 10) if editor_may else rome(spring, 10))

    assert draggable(alice) is True  # a manager may publish: she moves any of them
    assert move(client, workspace, post, monday, "11:00").status_code == 200
    assert Post.objects.get(pk=post.pk).scheduled_at == rome(monday, 11)


def test_the_service_refuses_an_editor_moving_a_post_awaiting_the_client(bob, workspace, fb_page, spring):
    post = scheduled(workspace, fb_page, rome(spring, 10), state=S.AWAITING_APPROVAL, approval=A.CLIENT_PENDING)
    access = get_workspace_for_user(bob, workspace.public_id)
    with pytest.raises(PermissionDenied, match="not posts that are approved or scheduled"):
        calendar_services.post_reschedule(post=post, access=access, user=bob, day=spring, at=time(12))
    post.refresh_from_db()
    assert post.scheduled_at == rome(spring, 10) and not post.versions.exists()
    assert post.deliveries.get().due_at == rome(spring, 10)


def test_people_who_cannot_write_posts_get_403(client, agency, workspace, fb_page, spring):
    analyst = UserFactory()
    AgencyMembershipFactory(agency=agency, user=analyst)
    WorkspaceMembershipFactory(workspace=workspace, user=analyst, role="analyst")
    client.force_login(analyst)
    post = scheduled(workspace, fb_page, rome(spring, 10), state=S.DRAFT)
    assert "cal-movable" not in calendar(client, workspace, date=spring.isoformat())
    assert move(client, workspace, post, spring, "12:00").status_code == 403


def test_another_workspaces_post_is_404(client, alice, charlie, workspace, fb_page, spring):
    post = scheduled(workspace, fb_page, rome(spring, 10))
    client.force_login(charlie)
    assert move(client, workspace, post, spring, "12:00").status_code == 404
    client.force_login(alice)
    other = WorkspaceFactory(agency=workspace.agency, timezone="Europe/Rome")
    assert move(client, other, post, spring, "12:00").status_code == 404  # her own workspace, not this post's
    post.refresh_from_db()
    assert post.scheduled_at == rome(spring, 10)


def test_an_undated_draft_dropped_on_a_day_gets_nine_oclock_and_stays_a_draft(
    client, alice, workspace, fb_page, spring
):
    client.force_login(alice)
    draft = scheduled(workspace, fb_page, None, state=S.DRAFT)
    html = move(client, workspace, draft, spring, "09:00").content.decode()
    assert "It is not scheduled yet" in html
    draft.refresh_from_db()
    assert draft.scheduled_at == rome(spring, 9) and draft.deliveries.get().state == S.DRAFT


def test_without_htmx_the_move_goes_back_to_the_calendar_with_a_message(client, alice, workspace, fb_page, spring):
    client.force_login(alice)
    post = scheduled(workspace, fb_page, rome(spring, 10))
    response = client.post(
        f"/w/{workspace.public_id}/posts/{post.public_id}/reschedule/",
        {"day": spring.isoformat(), "time": "11:00", "view": "week", "date": spring.isoformat()},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/w/{workspace.public_id}/calendar/?view=week&date={spring.isoformat()}"
    assert "Moved to Sunday" in client.get(response["Location"]).content.decode()


# --- a fixed number of queries ----------------------------------------------------------------------------------------
def bulk_posts(workspace, channels, author, asset, n: int, first_day: date) -> None:
    """`n` posts in one month, in a few inserts: scheduled, failed, published and undated drafts, each with a photo
    and a delivery per channel."""
    kinds = [S.SCHEDULED, S.FAILED, S.PUBLISHED, S.DRAFT, S.AWAITING_APPROVAL]
    posts = []
    for i in range(n):
        state = kinds[i % len(kinds)]
        at = None if state == S.DRAFT else rome(first_day + timedelta(days=i % 27), 8 + i % 12, i % 60)
        posts.append(
            Post(
                workspace=workspace,
                author=author,
                caption=f"Post {i}",
                scheduled_at=at,
                scheduled_timezone="Europe/Rome",
            )
        )
    Post.objects.bulk_create(posts)
    posts = list(Post.objects.filter(workspace=workspace, caption__startswith="Post ").order_by("pk"))[-n:]
    deliveries, items = [], []
    for i, post in enumerate(posts):
        state = kinds[i % len(kinds)]
        for channel in channels:
            deliveries.append(
                Delivery(
                    post=post,
                    channel=channel,
                    kind=DeliveryKind.FB_TEXT if channel.platform == "facebook_page" else DeliveryKind.IG_IMAGE,
                    state=state,
                    due_at=post.scheduled_at,
                    next_attempt_at=post.scheduled_at,
                    error_message="Meta refused it." if state == S.FAILED else "",
                )
            )
        items.append(PostMedia(post=post, asset=asset, position=0))
    Delivery.objects.bulk_create(deliveries)
    PostMedia.objects.bulk_create(items)


@pytest.mark.parametrize("view", ["month", "week"])
def test_calendar_and_posts_list_queries_do_not_grow_with_the_posts(client, alice, workspace, fb_page, ig, view):
    client.force_login(alice)
    asset = MediaAssetFactory(workspace=workspace)
    first_day = (timezone.localtime(timezone.now(), ROME).date() + timedelta(days=40)).replace(day=1)
    workspace.paused_at, workspace.paused_by = timezone.now(), alice  # every flag a post can carry, shown
    workspace.save()
    urls = [
        f"/w/{workspace.public_id}/calendar/?view={view}&date={first_day.isoformat()}",
        f"/w/{workspace.public_id}/posts/",
    ]

    def counts() -> list[int]:
        result = []
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            result.append(len(queries))
        return result

    bulk_posts(workspace, [fb_page, ig], alice, asset, 10, first_day)
    few = counts()
    started = timezone.now()
    bulk_posts(workspace, [fb_page, ig], alice, asset, 490, first_day)
    assert timezone.now() - started < timedelta(seconds=5)
    assert Post.objects.filter(workspace=workspace).count() == 500
    many = counts()
    assert many == few, (few, many)
