"""The inbox list and thread pages: who may open them, threads newest first with their replies under them, every
filter and the search, pages by cursor (never by counting), what arrived since the page was loaded, the htmx
partials, and a page taking the same number of queries for 5 threads as for 30."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inbox import selectors
from inbox.models import (
    ActionKind,
    ActionState,
    ChannelSync,
    Comment,
    CommentAction,
    CommentStatus,
    InboxPost,
    Presence,
)
from tests.factories import (
    AgencyMembershipFactory,
    ChannelFactory,
    PostFactory,
    UserFactory,
    WorkspaceFactory,
    WorkspaceMembershipFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.no_sandbox]  # nothing here asks Meta
HTMX = {"HX-Request": "true"}


@pytest.fixture
def fb(workspace, alice):
    return ChannelFactory(workspace=workspace, connected_by=alice)


@pytest.fixture
def ig(workspace, alice):
    return ChannelFactory(workspace=workspace, connected_by=alice, instagram=True)


def member(workspace, role: str, name: str):
    user = UserFactory(full_name=name)
    AgencyMembershipFactory(agency=workspace.agency, user=user, role="member")
    WorkspaceMembershipFactory(workspace=workspace, user=user, role=role)
    return user


def inbox_url(workspace) -> str:
    return f"/w/{workspace.public_id}/inbox/"


def thread_url(workspace, comment) -> str:
    return f"/w/{workspace.public_id}/inbox/t/{comment.public_id}/"


def shown(client, workspace, **params) -> list[str]:
    """The public ids of the threads the list shows, top to bottom (the htmx list partial)."""
    response = client.get(inbox_url(workspace), params, headers=HTMX)
    assert response.status_code == 200
    return row_ids(response.content.decode())


def row_ids(text: str) -> list[str]:
    return re.findall(r'<li class="inbox-row[^"]*" id="thread-row-([0-9a-f-]+)"', text)


def ids(*comments: Comment) -> list[str]:
    return [str(c.public_id) for c in comments]


def poll_url(text: str) -> str:
    found = re.search(r'id="inbox-poll" class="inbox-poll" hx-get="([^"]+)"', text)
    assert found, "the list has no poller"
    return html.unescape(found.group(1))


# --- Who may open the inbox --------------------------------------------------------------------------------------
def test_moderators_and_managers_get_the_list_with_bulk_actions(client, workspace, fb, make_comment, moderator):
    thread = make_comment(fb, text="Do you ship to Norway?")
    manager = member(workspace, "manager", "Mina Manager")
    for person in (moderator, manager):
        client.force_login(person)
        body = client.get(inbox_url(workspace)).content.decode()
        assert "Do you ship to Norway?" in body
        assert f'name="comment" value="{thread.public_id}" form="inbox-bulk"' in body
        assert f'action="/w/{workspace.public_id}/inbox/bulk/"' in body
        assert 'name="kind"' in body


def test_analysts_and_clients_read_the_inbox_without_acting(client, workspace, fb, make_comment, analyst):
    thread = make_comment(fb, text="Lovely studio")
    make_comment(fb, text="Thank you!", parent=thread, from_us=True)
    brand = member(workspace, "client", "Cleo Client")
    for person in (analyst, brand):
        client.force_login(person)
        listing = client.get(inbox_url(workspace)).content.decode()
        assert "Lovely studio" in listing
        assert 'form="inbox-bulk"' not in listing and 'id="inbox-bulk"' not in listing
        assert "data-action-url" not in listing  # no keyboard actions either
        panel = client.get(thread_url(workspace, thread), headers=HTMX).content.decode()
        assert "Thank you!" in panel
        assert "You can read this conversation" in panel
        assert "reply-form-" not in panel


def test_editors_are_refused_every_inbox_page(client, workspace, fb, make_comment, editor):
    thread = make_comment(fb)
    client.force_login(editor)
    for url in (
        inbox_url(workspace),
        thread_url(workspace, thread),
        f"{inbox_url(workspace)}new/?since=0",
        f"{thread_url(workspace, thread)}presence/",
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(f"{thread_url(workspace, thread)}presence/", {"activity": "viewing"}).status_code == 403
    assert not Presence.objects.exists()


def test_another_agency_gets_404_on_every_inbox_page(client, workspace, fb, make_comment, charlie):
    thread = make_comment(fb)
    client.force_login(charlie)
    for url in (
        inbox_url(workspace),
        thread_url(workspace, thread),
        f"{inbox_url(workspace)}new/?since=0",
        f"{thread_url(workspace, thread)}presence/",
    ):
        assert client.get(url).status_code == 404, url
        assert client.post(url).status_code in (404, 405), url
    assert client.post(f"{thread_url(workspace, thread)}presence/").status_code == 404


def test_a_thread_of_another_workspace_is_not_found_through_yours(client, alice, agency, workspace, make_comment):
    other = WorkspaceFactory(agency=agency, name="Second Client")
    elsewhere = make_comment(ChannelFactory(workspace=other, connected_by=alice), text="Not this workspace's")
    client.force_login(alice)
    assert client.get(thread_url(workspace, elsewhere)).status_code == 404
    assert client.post(f"{thread_url(workspace, elsewhere)}presence/").status_code == 404
    assert shown(client, workspace) == []


def test_the_navigation_shows_the_inbox_to_those_who_may_read_it(client, workspace, moderator, analyst, editor):
    link = f'href="{inbox_url(workspace)}">Inbox</a>'
    for person, sees in ((moderator, True), (analyst, True), (editor, False)):
        client.force_login(person)
        body = client.get(f"/w/{workspace.public_id}/").content.decode()
        assert (link in body) is sees, person


# --- The list ----------------------------------------------------------------------------------------------------
def test_threads_are_newest_activity_first_with_replies_under_their_parent(
    client, alice, workspace, fb, ig, make_comment
):
    now = timezone.now()
    old = make_comment(fb, text="Old question", at=now - timedelta(hours=5))
    newer = make_comment(ig, text="Newer question", at=now - timedelta(hours=2))
    make_comment(fb, text="Still waiting", parent=old, at=now - timedelta(hours=1))  # brings `old` back on top
    replies = [
        make_comment(ig, text=f"Answer {n}", parent=newer, at=now - timedelta(minutes=100 - n)) for n in range(5)
    ]
    client.force_login(alice)
    body = client.get(inbox_url(workspace)).content.decode()
    assert row_ids(body) == ids(old, newer)
    rows = body.split('id="thread-row-')
    assert "Still waiting" in rows[1] and "Answer" not in rows[1]
    # A row shows the newest three replies, oldest of them first, and says how many came before.
    assert re.findall(r"Answer \d", rows[2]) == ["Answer 2", "Answer 3", "Answer 4"]
    assert "2 earlier replies" in rows[2]
    # The panel shows them all, each as a comment card, in the order they were written.
    panel = client.get(thread_url(workspace, newer), headers=HTMX).content.decode()
    positions = [panel.index(f'id="comment-{r.public_id}"') for r in replies]
    assert positions == sorted(positions) and panel.index(f'id="comment-{newer.public_id}"') < positions[0]


def test_each_row_shows_its_post_beside_it(client, alice, workspace, fb, make_comment):
    ours = PostFactory(workspace=workspace, author=alice, caption="Spring timetable")
    thread = make_comment(fb, text="What time on Sunday?", media_id=f"{fb.external_id}_9001")
    InboxPost.objects.filter(pk=thread.inbox_post_id).update(
        post=ours,
        caption="Spring timetable is out",
        thumbnail_url="https://scontent.fbcdn.net/v/spring.jpg",
        permalink="https://www.facebook.com/harboryoga/posts/9001",
    )
    client.force_login(alice)
    body = client.get(inbox_url(workspace)).content.decode()
    assert 'src="https://scontent.fbcdn.net/v/spring.jpg"' in body
    assert "Spring timetable is out" in body
    assert 'href="https://www.facebook.com/harboryoga/posts/9001"' in body
    assert f'/w/{workspace.public_id}/posts/?post={ours.public_id}#post-{ours.public_id}">Our post' in body
    assert "Harbor Yoga Studio · Facebook" in body


def test_the_empty_inbox_says_what_to_expect(client, alice, workspace, fb):
    client.force_login(alice)
    body = client.get(inbox_url(workspace)).content.decode()
    assert "No comments yet. New comments on your posts arrive here within seconds." in body
    assert "arrive every few minutes" not in body


def test_a_channel_without_live_updates_says_comments_arrive_every_few_minutes(client, alice, workspace, fb, ig):
    ChannelSync.objects.create(channel=ig, subscribe_error="The app is not subscribed to this account's webhooks.")
    ChannelSync.objects.create(channel=fb, subscribed_at=timezone.now())
    client.force_login(alice)
    body = client.get(inbox_url(workspace)).content.decode()
    assert "Comments on @harboryoga arrive every few minutes" in body
    assert "The app is not subscribed to this account&#x27;s webhooks." in body
    assert "Comments on Harbor Yoga Studio" not in body


# --- Filters and search ------------------------------------------------------------------------------------------
def test_filter_by_channel(client, alice, workspace, fb, ig, make_comment):
    on_page, on_ig = make_comment(fb), make_comment(ig)
    client.force_login(alice)
    assert shown(client, workspace, channel=str(ig.public_id)) == ids(on_ig)
    assert shown(client, workspace, channel=str(fb.public_id)) == ids(on_page)
    assert shown(client, workspace, channel="not-a-channel") == ids(on_ig, on_page)  # a bad value is ignored


def test_filter_by_post_ours_or_any(client, alice, workspace, fb, make_comment):
    ours = PostFactory(workspace=workspace, author=alice)
    a = make_comment(fb, media_id="111_1")
    b = make_comment(fb, media_id="111_2")
    make_comment(fb, media_id="111_1", text="Second on the same post")
    InboxPost.objects.filter(pk=b.inbox_post_id).update(post=ours)
    client.force_login(alice)
    assert set(shown(client, workspace, post=str(a.inbox_post_id))) == {
        str(c.public_id) for c in Comment.objects.filter(inbox_post=a.inbox_post)
    }
    assert shown(client, workspace, post=str(ours.public_id)) == ids(b)


def test_filter_by_status_and_removed_threads_are_left_out_by_default(client, alice, workspace, fb, make_comment):
    new = make_comment(fb, text="new")
    done = make_comment(fb, text="done", status=CommentStatus.DONE)
    hidden = make_comment(fb, text="hidden", hidden=True)
    hidden_reply_thread = make_comment(fb, text="has a hidden reply")
    make_comment(fb, parent=hidden_reply_thread, hidden=True, text="spam")
    removed = make_comment(fb, text="removed", deleted_at=timezone.now())
    client.force_login(alice)
    everything = shown(client, workspace)
    assert str(removed.public_id) not in everything and len(everything) == 4
    assert set(shown(client, workspace, status="new")) == set(ids(new, hidden, hidden_reply_thread))
    assert shown(client, workspace, status="done") == ids(done)
    assert set(shown(client, workspace, status="hidden")) == set(ids(hidden, hidden_reply_thread))
    assert shown(client, workspace, status="deleted") == ids(removed)


def test_removed_conversations_say_on_which_platform(client, alice, workspace, fb, ig, make_comment):
    on_page = make_comment(fb, text="Gone from the Page", deleted_at=timezone.now())
    on_ig = make_comment(ig, text="Gone from Instagram")
    make_comment(ig, parent=on_ig, text="A reply taken down", deleted_at=timezone.now())
    client.force_login(alice)
    page = client.get(inbox_url(workspace)).content.decode()
    assert '<option value="deleted">Removed</option>' in page
    listing = page.split('id="inbox-results"')[1].split('id="thread-panel"')[0]
    assert "removed on Instagram" in listing and "Meta" not in listing
    removed = client.get(inbox_url(workspace), {"status": "deleted"}, headers=HTMX).content.decode()
    assert row_ids(removed) == ids(on_ig, on_page)
    assert '<span class="badge text-bg-dark">Removed on Facebook</span>' in removed
    assert "<em>Removed on Facebook:</em> Gone from the Page" in removed
    panel = client.get(thread_url(workspace, on_page), headers=HTMX).content.decode()
    assert '<span class="badge text-bg-dark">Removed on Facebook</span>' in panel


def test_filter_by_assignee(client, alice, workspace, fb, make_comment, moderator):
    mine = make_comment(fb, assignee=alice)
    theirs = make_comment(fb, assignee=moderator)
    nobodys = make_comment(fb)
    client.force_login(alice)
    assert shown(client, workspace, assignee="me") == ids(mine)
    assert shown(client, workspace, assignee="nobody") == ids(nobodys)
    assert shown(client, workspace, assignee=str(moderator.pk)) == ids(theirs)
    body = client.get(inbox_url(workspace)).content.decode()
    assert "Assigned to you" in body and f"Assigned to {moderator.get_short_name()}" in body


def test_filter_unanswered(client, alice, workspace, fb, make_comment):
    waiting = make_comment(fb, text="Hello?")
    answered = make_comment(fb, text="Answered")
    make_comment(fb, parent=answered, from_us=True, text="Hi!")
    ours = make_comment(fb, from_us=True, text="Our first comment")
    ours_with_question = make_comment(fb, from_us=True, text="Our first comment too")
    make_comment(fb, parent=ours_with_question, text="A question under it")
    client.force_login(alice)
    assert set(shown(client, workspace, unanswered="1")) == set(ids(waiting, ours_with_question))
    assert str(ours.public_id) in shown(client, workspace)


def test_filter_by_days_on_the_workspace_clock(client, alice, workspace, fb, make_comment):
    # Rome is UTC+1 in January: 23:30 UTC on the 9th is already the 10th there.
    late_on_ninth_utc = make_comment(fb, at=datetime(2025, 1, 9, 23, 30, tzinfo=UTC))
    on_ninth = make_comment(fb, at=datetime(2025, 1, 9, 12, 0, tzinfo=UTC))
    on_twelfth = make_comment(fb, at=datetime(2025, 1, 12, 8, 0, tzinfo=UTC))
    client.force_login(alice)
    assert shown(client, workspace, **{"from": "2025-01-10", "to": "2025-01-10"}) == ids(late_on_ninth_utc)
    assert shown(client, workspace, to="2025-01-09") == ids(on_ninth)
    assert shown(client, workspace, **{"from": "2025-01-11"}) == ids(on_twelfth)
    # A thread is dated by its newest comment, the time its row shows.
    make_comment(fb, parent=on_ninth, at=datetime(2025, 1, 11, 9, 0, tzinfo=UTC))
    assert shown(client, workspace, **{"from": "2025-01-11", "to": "2025-01-11"}) == ids(on_ninth)
    assert shown(client, workspace, to="2025-01-09") == []


@pytest.mark.parametrize("common", [False, True], ids=["rare words", "common words"])
def test_search_finds_words_in_any_comment_of_the_thread(
    client, alice, workspace, fb, make_comment, common, monkeypatch
):
    if common:  # every word counts as common: threads are checked one by one instead of through the text index
        monkeypatch.setattr(selectors, "SEARCH_COMMON", 1)
    by_comment = make_comment(fb, text="Is the Vinyasa class full?")
    by_reply = make_comment(fb, text="Hello")
    make_comment(fb, parent=by_reply, text="what about vinyasa on Fridays")
    make_comment(fb, text="Nothing to see")
    client.force_login(alice)
    assert set(shown(client, workspace, q="VINYASA")) == set(ids(by_comment, by_reply))
    assert shown(client, workspace, q="fridays") == ids(by_reply)
    assert shown(client, workspace, q="pilates") == []
    body = client.get(inbox_url(workspace), {"q": "pilates"}, headers=HTMX).content.decode()
    assert "No conversations match these filters." in body


def test_filters_combine_and_the_list_swap_keeps_them_in_the_thread_links(
    client, alice, workspace, fb, ig, make_comment
):
    make_comment(ig, text="refund please", status=CommentStatus.DONE)
    wanted = make_comment(ig, text="refund now")
    make_comment(fb, text="refund here")
    client.force_login(alice)
    response = client.get(
        inbox_url(workspace), {"channel": str(ig.public_id), "status": "new", "q": "refund"}, headers=HTMX
    )
    body = response.content.decode()
    assert row_ids(body) == ids(wanted)
    assert response["HX-Push-Url"] == f"{inbox_url(workspace)}?channel={ig.public_id}&status=new&q=refund"
    assert f"{thread_url(workspace, wanted)}?channel={ig.public_id}&amp;status=new&amp;q=refund" in body


# --- Pages, htmx and the thread view -------------------------------------------------------------------------------
def test_load_more_follows_a_cursor_without_counting(client, alice, workspace, fb, make_comment, monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 4)
    start = timezone.now() - timedelta(hours=1)
    threads = [make_comment(fb, at=start + timedelta(minutes=n)) for n in range(6)]
    # Two threads with the same last activity are told apart by their id.
    Comment.objects.filter(pk=threads[1].pk).update(last_activity_at=threads[2].last_activity_at)
    client.force_login(alice)
    with CaptureQueriesContext(connection) as queries:
        first = client.get(inbox_url(workspace)).content.decode()
    assert not [q["sql"] for q in queries if "COUNT(*)" in q["sql"].upper()]
    assert row_ids(first) == ids(*reversed(threads[2:]))
    more = html.unescape(re.search(r'<li class="inbox-more[^>]*><a [^>]*href="([^"]+)"', first).group(1))
    rest = client.get(more, headers=HTMX)
    assert "<html" not in rest.content.decode()
    assert row_ids(rest.content.decode()) == ids(threads[1], threads[0])
    assert "inbox-more" not in rest.content.decode()


def test_htmx_asks_for_the_list_and_the_thread_alone(client, alice, workspace, fb, make_comment):
    thread = make_comment(fb, text="Partial please")
    client.force_login(alice)
    listing = client.get(inbox_url(workspace), headers=HTMX).content.decode()
    assert listing.lstrip().startswith('<div id="inbox-results"') and "<html" not in listing
    panel = client.get(thread_url(workspace, thread), headers=HTMX).content.decode()
    assert "<html" not in panel and 'id="thread"' in panel and 'id="inbox-results"' not in panel
    # Without htmx (a reload, a shared link) the thread opens inside the whole inbox page.
    full = client.get(thread_url(workspace, thread)).content.decode()
    assert "<html" in full and 'id="inbox-results"' in full and 'id="thread"' in full
    # A history restore wants the whole page back.
    restored = client.get(inbox_url(workspace), headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert "<html" in restored.content.decode()


def test_a_reply_id_opens_its_thread(client, alice, workspace, fb, make_comment):
    thread = make_comment(fb, text="Top")
    reply = make_comment(fb, parent=thread, text="Underneath")
    client.force_login(alice)
    panel = client.get(thread_url(workspace, reply), headers=HTMX).content.decode()
    assert f'data-thread="{thread.public_id}"' in panel and f'data-focus="{reply.public_id}"' in panel
    assert "Top" in panel and "Underneath" in panel


def test_the_thread_has_the_reply_box_and_its_heartbeat_for_moderators(client, workspace, fb, make_comment, moderator):
    thread = make_comment(fb)
    client.force_login(moderator)
    panel = client.get(thread_url(workspace, thread), headers=HTMX).content.decode()
    assert f'id="reply-form-{thread.public_id}"' in panel
    assert f'hx-post="{thread_url(workspace, thread)}presence/"' in panel
    assert 'hx-trigger="load, every 10s, inbox-activity from:body"' in panel


def test_the_page_takes_the_same_queries_for_5_threads_as_for_30(
    client, alice, workspace, fb, ig, make_comment, moderator, monkeypatch
):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 50)

    def grow(count: int) -> None:
        for n in range(count):
            thread = make_comment(fb if n % 2 else ig, assignee=moderator if n % 3 else None)
            for _ in range(4):
                make_comment(thread.channel, parent=thread)
            Presence.objects.create(workspace=workspace, thread=thread, user=moderator)

    client.force_login(alice)

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    grow(5)
    since = selectors.latest_comment_id(workspace)
    small = (count(inbox_url(workspace)), count(f"{inbox_url(workspace)}?q=love"))
    grow(25)
    new_small_since = selectors.latest_comment_id(workspace)
    assert (count(inbox_url(workspace)), count(f"{inbox_url(workspace)}?q=love")) == small
    # What arrived since: 5 threads' news against 25 threads' news.
    grow(5)
    five = count(f"{inbox_url(workspace)}new/?since={new_small_since}")
    assert count(f"{inbox_url(workspace)}new/?since={since}") == five


def test_the_thread_panel_takes_the_same_queries_for_2_replies_as_for_12(
    client, alice, workspace, fb, make_comment, moderator
):
    """Each comment's card shows its actions (who did what, by which rule, whether it was undone): loaded for all
    the cards at once."""
    thread = make_comment(fb, text="Question")

    def grow(count: int) -> None:
        for n in range(count):
            reply = make_comment(fb, parent=thread, text=f"Reply {n}")
            done = CommentAction.objects.create(
                workspace=workspace, comment=reply, kind=ActionKind.HIDE, state=ActionState.DONE, actor=moderator
            )
            if n % 2:
                CommentAction.objects.create(
                    workspace=workspace,
                    comment=reply,
                    kind=ActionKind.UNHIDE,
                    state=ActionState.DONE,
                    actor=alice,
                    undo_of=done,
                )

    client.force_login(alice)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(thread_url(workspace, thread), headers=HTMX).status_code == 200
        return len(queries)

    grow(2)
    small = count()
    grow(10)
    assert count() == small


def test_the_newest_comment_id_is_read_from_an_index_without_sorting(workspace, fb, make_comment):
    for _ in range(3):
        make_comment(fb)
    with CaptureQueriesContext(connection) as queries:
        newest = selectors.latest_comment_id(workspace)
    assert newest == Comment.objects.latest("id").id
    [query] = queries.captured_queries
    assert "LIMIT 1" in query["sql"].upper()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {query['sql']}")
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        assert "INDEX" in plan and "TEMP B-TREE" not in plan, plan


# --- What arrived since the page was loaded --------------------------------------------------------------------------
def test_new_items_returns_comments_stored_after_since_and_not_before(client, alice, workspace, fb, ig, make_comment):
    earlier = make_comment(fb, text="Already on the page")
    quiet = make_comment(ig, text="Nothing new here")
    client.force_login(alice)
    first = client.get(inbox_url(workspace)).content.decode()
    url = poll_url(first)
    assert "since=" in url
    nothing = client.get(url, headers=HTMX).content.decode()
    assert row_ids(nothing) == [] and poll_url(nothing) == url
    # A comment arrives (a webhook stored it) on an old thread, written at Meta before the page was loaded.
    late = make_comment(fb, parent=earlier, text="Arrived late", at=timezone.now() - timedelta(minutes=10))
    fresh = make_comment(ig, text="Brand new thread")
    news = client.get(url, headers=HTMX).content.decode()
    assert row_ids(news) == ids(fresh, earlier)
    assert "Arrived late" in news and str(quiet.public_id) not in news
    assert news.lstrip().startswith('<div id="inbox-poll"') and 'data-mode="top"' in news
    assert late.pk and poll_url(news) != url
    assert row_ids(client.get(poll_url(news), headers=HTMX).content.decode()) == []


def test_new_items_keep_the_filters_and_name_rows_that_no_longer_match(client, alice, workspace, fb, make_comment):
    open_thread = make_comment(fb, text="Open")
    closed = make_comment(fb, text="Closed", status=CommentStatus.DONE)
    client.force_login(alice)
    url = poll_url(client.get(inbox_url(workspace), {"status": "new"}).content.decode())
    assert "status=new" in url
    make_comment(fb, parent=open_thread, text="More on the open one")
    make_comment(fb, parent=closed, text="More on the closed one")
    news = client.get(url, headers=HTMX).content.decode()
    assert row_ids(news) == ids(open_thread)
    assert f'<ul class="inbox-gone"><li data-thread="{closed.public_id}"></li></ul>' in news


def test_new_items_refreshes_named_rows_in_place(client, alice, workspace, fb, make_comment):
    thread = make_comment(fb, text="Mark me")
    client.force_login(alice)
    Comment.objects.filter(pk=thread.pk).update(status=CommentStatus.DONE)
    body = client.get(f"{inbox_url(workspace)}new/", {"thread": str(thread.public_id)}, headers=HTMX).content.decode()
    assert 'data-mode="inplace"' in body and row_ids(body) == ids(thread)
    assert 'data-status="done"' in body and '<span class="badge text-bg-success">Done</span>' in body
    assert 'id="inbox-poll"' not in body  # the poller keeps its own place in the stream


def test_a_burst_of_news_brings_the_newest_rows_and_offers_to_reload(
    client, alice, workspace, fb, make_comment, monkeypatch
):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    client.force_login(alice)
    url = poll_url(client.get(inbox_url(workspace)).content.decode())
    start = timezone.now()
    burst = [make_comment(fb, at=start + timedelta(seconds=n)) for n in range(3)]
    news = client.get(url, headers=HTMX).content.decode()
    assert row_ids(news) == ids(burst[2], burst[1])
    assert 'data-more="1"' in news and '<ul class="inbox-gone"></ul>' in news
