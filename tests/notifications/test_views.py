"""The bell, the list and the preferences, each for the signed-in person only; the admin for operators."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.models import Kind, Notification, Preference
from notifications.services import notify, preferences_for
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.no_sandbox]
HTMX = {"HX-Request": "true"}
COUNT = reverse("notifications:notification_count")
PANEL = reverse("notifications:notification_panel")
LIST = reverse("notifications:notification_list")
READ_ALL = reverse("notifications:notification_read_all")
PREFERENCES = reverse("notifications:notification_preferences")


def tell(user, title: str, *, url: str = "", workspace=None, kind: Kind = Kind.POST_FAILED) -> Notification:
    (row,) = notify(kind=kind, users=[user], title=title, url=url, workspace=workspace)
    return row


def open_url(notification: Notification) -> str:
    return reverse("notifications:notification_open", args=[notification.pk])


def test_the_count_says_how_many_are_unread(client, alice, bob):
    client.force_login(alice)
    html = client.get(COUNT, headers=HTMX).content.decode()
    assert "Notifications</span>" in html and "badge" not in html
    for n in range(3):
        tell(alice, f"Failed {n}")
    tell(bob, "Not Alice's")
    html = client.get(COUNT, headers=HTMX).content.decode()
    assert "Notifications, 3 unread" in html
    assert re.search(r'class="[^"]*badge[^"]*"[^>]*>3</span>', html)


def test_the_count_costs_the_same_few_queries_however_many_there_are(client, alice):
    client.force_login(alice)
    client.get(COUNT)  # the session is read once before measuring
    with CaptureQueriesContext(connection) as few:
        client.get(COUNT, headers=HTMX)
    for n in range(30):
        tell(alice, f"Failed {n}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(COUNT, headers=HTMX)
    assert "30 unread" in response.content.decode()
    assert len(many) == len(few) <= 3, [q["sql"] for q in many.captured_queries]


def test_the_count_gives_a_signed_out_page_nothing_to_swap_in(client):
    response = client.get(COUNT, headers=HTMX)
    assert response.status_code == 204 and response.content == b""


def test_every_page_has_the_bell_with_its_poll(client, alice, workspace):
    client.force_login(alice)
    html = client.get(reverse("accounts:workspace_dashboard", args=[workspace.public_id])).content.decode()
    assert 'id="notification-bell"' in html and 'data-bs-target="#notification-panel"' in html
    assert f'hx-get="{COUNT}"' in html and 'hx-trigger="load, every 30s, notifications-changed from:body"' in html
    assert 'id="notification-panel"' in html and f'hx-get="{PANEL}"' in html
    assert f'href="{PREFERENCES}"' in html  # in the account menu


def test_the_panel_shows_the_latest_eight_with_a_way_to_see_all(client, alice, bob, workspace):
    for n in range(10):
        tell(alice, f"Failed number {n}", workspace=workspace)
    tell(bob, "Bob's own")
    client.force_login(alice)
    html = client.get(PANEL, headers=HTMX).content.decode()
    assert html.count('class="list-group-item') == 8
    assert "Failed number 9" in html and "Failed number 2" in html and "Failed number 1" not in html
    assert "Bob&#x27;s own" not in html and "Bob's own" not in html
    assert "10 unread" in html and "Acme Coffee" in html
    assert f'href="{LIST}"' in html and "See all" in html


def test_the_panel_costs_the_same_queries_for_one_or_many(client, alice):
    client.force_login(alice)
    tell(alice, "First")
    client.get(PANEL)
    with CaptureQueriesContext(connection) as one:
        client.get(PANEL, headers=HTMX)
    for n in range(12):
        tell(alice, f"Failed {n}")
    with CaptureQueriesContext(connection) as many:
        client.get(PANEL, headers=HTMX)
    assert len(many) == len(one)


def test_the_list_is_mine_newest_first_with_unread_marked(client, alice, bob):
    old = tell(alice, "Older one")
    tell(alice, "Newer one")
    tell(bob, "Bob only")
    Notification.objects.filter(pk=old.pk).update(read_at=old.created_at)
    client.force_login(alice)
    html = client.get(LIST).content.decode()
    assert html.index("Newer one") < html.index("Older one")
    assert "Bob only" not in html
    assert html.count("notification-item notification-unread") == 1 and "Unread: </span>Newer one" in html
    assert f'href="{PREFERENCES}"' in html


def test_the_unread_filter_and_its_partial(client, alice):
    read = tell(alice, "Already seen")
    tell(alice, "Still new")
    Notification.objects.filter(pk=read.pk).update(read_at=read.created_at)
    client.force_login(alice)
    response = client.get(LIST + "?show=unread", headers=HTMX)
    html = response.content.decode()
    assert "<html" not in html and html.lstrip().startswith('<div id="notification-list"')
    assert "Still new" in html and "Already seen" not in html
    assert 'aria-current="page"' in html and 'notification-unread-count">1<' in html


def test_the_list_is_paged_by_twenty_and_pages_keep_the_filter(client, alice):
    for n in range(25):
        tell(alice, f"Item {n:02d}")
    client.force_login(alice)
    first = client.get(LIST + "?show=unread").content.decode()
    assert first.count("notification-item") == 20 and "Item 24" in first and "Item 04" not in first
    assert "?show=unread&amp;page=2" in first
    second = client.get(LIST + "?show=unread&page=2").content.decode()
    assert second.count("notification-item") == 5 and "Item 04" in second


def test_opening_one_marks_it_read_and_goes_to_its_page(client, alice, workspace):
    url = reverse("publishing:posts", args=[workspace.public_id]) + "#post-1"
    row = tell(alice, "Failed", url=url)
    other = tell(alice, "Other")
    client.force_login(alice)
    response = client.post(open_url(row))
    assert response.status_code == 302 and response["Location"] == url
    row.refresh_from_db()
    other.refresh_from_db()
    assert row.read_at is not None and other.read_at is None


@pytest.mark.parametrize("url", ["", "https://evil.example/phish", "//evil.example/phish"])
def test_opening_one_without_a_page_here_lands_on_the_list(client, alice, url):
    row = tell(alice, "Failed", url=url)
    client.force_login(alice)
    response = client.post(open_url(row))
    assert response["Location"] == LIST


def test_another_persons_notification_is_a_404(client, alice, charlie):
    row = tell(alice, "Alice's")
    client.force_login(charlie)
    assert client.post(open_url(row)).status_code == 404
    assert client.get(open_url(row)).status_code == 405
    row.refresh_from_db()
    assert row.read_at is None
    assert "Alice&#x27;s" not in client.get(LIST).content.decode()
    assert "Alice&#x27;s" not in client.get(PANEL).content.decode()
    assert "0 unread" not in client.get(COUNT).content.decode() and "unread" not in client.get(COUNT).content.decode()


def test_mark_all_read_from_the_list_redraws_it_and_tells_the_bell(client, alice, bob):
    tell(alice, "One")
    tell(alice, "Two")
    tell(bob, "Bob's")
    client.force_login(alice)
    response = client.post(READ_ALL, {"show": "unread"}, headers=HTMX)
    assert response["HX-Trigger"] == "notifications-changed"
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="notification-list"') and "Nothing unread" in html
    assert not Notification.objects.filter(user=alice, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=bob, read_at__isnull=True).count() == 1


def test_mark_all_read_from_the_panel_redraws_the_panel(client, alice):
    tell(alice, "One")
    client.force_login(alice)
    response = client.post(READ_ALL, {"from": "panel"}, headers=HTMX)
    html = response.content.decode()
    assert response["HX-Trigger"] == "notifications-changed" and "All read" in html and "One" in html


def test_mark_all_read_without_htmx_goes_back_to_the_list(client, alice):
    tell(alice, "One")
    client.force_login(alice)
    response = client.post(READ_ALL, follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    assert "All notifications are marked as read." in response.content.decode()


def test_preferences_show_the_current_choices(client, alice):
    Preference.objects.create(user=alice, kind=Kind.POST_FAILED, in_app=True, email=False)
    client.force_login(alice)
    html = client.get(PREFERENCES).content.decode()
    for kind in Kind:
        assert kind.label.replace("'", "&#x27;") in html
    assert re.search(r'name="post_failed__in_app"[^>]*checked', html)
    assert not re.search(r'name="post_failed__email"[^>]*checked', html)
    assert re.search(r'name="approval_requested__email"[^>]*checked', html)  # a default
    assert "at most one every 5 minutes" in html


def test_saving_preferences(client, alice, bob):
    client.force_login(alice)
    data = {f"{kind}__in_app": "on" for kind in Kind.values} | {"channel_reconnect__email": "on"}
    response = client.post(PREFERENCES, data, follow=True)
    assert response.redirect_chain == [(PREFERENCES, 302)]
    assert "Your notification choices are saved." in response.content.decode()
    chosen = preferences_for(alice)
    assert chosen[Kind.CHANNEL_RECONNECT] == (True, True)
    assert chosen[Kind.POST_FAILED] == (True, False)
    assert all(in_app for in_app, _ in chosen.values())
    assert not Preference.objects.filter(user=bob).exists()


def test_clearing_every_box_with_htmx_saves_and_redraws_the_form(client, alice):
    client.force_login(alice)
    response = client.post(PREFERENCES, {}, headers=HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="card" id="preferences-form">') and "Saved." in html
    assert "checked" not in html
    assert all(choice == (False, False) for choice in preferences_for(alice).values())


def test_signed_out_visitors_are_sent_to_log_in(client):
    for url in (LIST, PANEL, PREFERENCES):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_operators_read_notifications_in_the_admin_without_editing(client, alice):
    operator = UserFactory(is_staff=True, is_superuser=True)
    row = tell(alice, "Failed on Harbor Yoga Studio")
    Preference.objects.create(user=alice, kind=Kind.POST_FAILED)
    client.force_login(operator)
    listing = client.get("/admin/notifications/notification/?kind__exact=post_failed&email__exact=pending")
    assert listing.status_code == 200 and "Failed on Harbor Yoga Studio" in listing.content.decode()
    detail = client.get(f"/admin/notifications/notification/{row.pk}/change/").content.decode()
    assert "Failed on Harbor Yoga Studio" in detail and 'name="title"' not in detail
    assert client.get("/admin/notifications/notification/add/").status_code == 403
    assert client.get("/admin/notifications/preference/").status_code == 200
