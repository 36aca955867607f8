"""Scheduling through the composer on the two nights a year the clocks change in the workspace's time zone."""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from accounts.models import Channel
from accounts.scopes import FACEBOOK_LOGIN_SCOPES
from publishing.models import DeliveryState, Post

pytestmark = [pytest.mark.django_db, pytest.mark.no_sandbox]  # scheduling for later asks nothing of Meta


def next_last_sunday(month: int) -> date:
    """The next last Sunday of `month` (when Europe changes its clocks) that is still ahead."""
    today = date.today()
    for year in (today.year, today.year + 1):
        last = date(year, month, calendar.monthrange(year, month)[1])
        last -= timedelta(days=(last.weekday() - calendar.SUNDAY) % 7)
        if last > today + timedelta(days=1):
            return last
    raise AssertionError("unreachable")


@pytest.fixture
def berlin(workspace):
    workspace.timezone = "Europe/Berlin"
    workspace.save(update_fields=["timezone"])
    return workspace


@pytest.fixture
def berlin_page(berlin) -> Channel:
    return Channel.objects.create(
        workspace=berlin,
        platform="facebook_page",
        connected_via="facebook_login",
        external_id="183533740681241",
        name="Acme Coffee Page",
        access_token="page-token",
        granted_scopes=list(FACEBOOK_LOGIN_SCOPES),
    )


def compose(client, workspace, berlin_page, day: date, at: str, **extra):
    data = {
        "channels": [berlin_page.pk],
        "format": "feed",
        "caption": "Late-night roast, limited batch",
        "first_comment": "Link in bio",
        "when": "later",
        "date": day.isoformat(),
        "time": at,
        **extra,
    }
    return client.post(f"/w/{workspace.public_id}/posts/new/", data)


def test_a_time_the_clocks_skip_is_refused_and_everything_typed_is_kept(client, alice, berlin, berlin_page):
    client.force_login(alice)
    day = next_last_sunday(3)
    response = compose(client, berlin, berlin_page, day, "02:30")
    assert response.status_code == 200
    body = response.content.decode()
    assert f"There is no 02:30 on Sunday {day.day} March {day.year} in Europe/Berlin" in body
    assert "the clocks jump from 02:00 straight to 03:00 (summer time starts)" in body
    assert "for example 03:30" in body
    assert "Late-night roast, limited batch" in body and "Link in bio" in body
    assert f'value="{day.isoformat()}"' in body and 'value="02:30"' in body
    assert re.search(rf'value="{berlin_page.pk}" id="ch-{berlin_page.pk}"[^>]* checked>', body)
    assert not Post.objects.exists()

    assert compose(client, berlin, berlin_page, day, "03:30").status_code == 302
    assert Post.objects.get().scheduled_at == datetime(day.year, 3, day.day, 1, 30, tzinfo=UTC)


def test_a_time_the_clocks_show_twice_asks_which_one_then_uses_it(client, alice, berlin, berlin_page):
    client.force_login(alice)
    day = next_last_sunday(10)
    response = compose(client, berlin, berlin_page, day, "02:30")
    assert response.status_code == 200
    body = response.content.decode()
    assert f"02:30 on Sunday {day.day} October {day.year} happens twice in Europe/Berlin" in body
    assert "The first 02:30 (summer time, UTC+02:00)" in body
    assert "The second 02:30, an hour later (winter time, UTC+01:00)" in body
    assert 'type="radio" name="fold" value="0"' in body and 'type="radio" name="fold" value="1"' in body
    assert "Late-night roast, limited batch" in body and 'value="02:30"' in body
    assert not Post.objects.exists()

    response = compose(client, berlin, berlin_page, day, "02:30", fold="1")
    assert response.status_code == 302
    post = Post.objects.get()
    assert post.scheduled_at == datetime(day.year, 10, day.day, 1, 30, tzinfo=UTC)  # the second, winter-time one
    assert post.deliveries.get().due_at == post.scheduled_at
    assert post.deliveries.get().state == DeliveryState.SCHEDULED
    assert post.scheduled_local == f"{day.isoformat()}T02:30:00"


def test_the_first_of_the_two_can_be_chosen(client, alice, berlin, berlin_page):
    client.force_login(alice)
    day = next_last_sunday(10)
    assert compose(client, berlin, berlin_page, day, "02:30", fold="0").status_code == 302
    assert Post.objects.get().scheduled_at == datetime(day.year, 10, day.day, 0, 30, tzinfo=UTC)


def test_the_choice_stays_ticked_when_something_else_needs_fixing(client, alice, berlin, berlin_page):
    client.force_login(alice)
    day = next_last_sunday(10)
    response = compose(client, berlin, berlin_page, day, "02:30", fold="1", link="not a link at all")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="fold" value="1" id="fold-1" checked' in body
    assert 'name="fold" value="0" id="fold-0" checked' not in body
    assert not Post.objects.exists()


def test_ordinary_times_on_those_days_are_not_questioned(client, alice, berlin, berlin_page):
    client.force_login(alice)
    day = next_last_sunday(10)
    assert compose(client, berlin, berlin_page, day, "09:00").status_code == 302
    assert Post.objects.get().scheduled_at == datetime(day.year, 10, day.day, 8, 0, tzinfo=UTC)
