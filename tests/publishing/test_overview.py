"""The agency's risk overview: what it lists and where each line leads, who may open it, and that it reads the
same number of SQL queries for a small agency and a busy one."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import ChannelStatus, Workspace
from publishing import overview
from publishing.models import ApprovalDecision, Delivery, DeliveryKind, DeliveryState, Post
from publishing.services import transitions
from tests.factories import (
    AgencyMembershipFactory,
    ChannelFactory,
    DeliveryFactory,
    PostFactory,
    UserFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.django_db


def overview_url(agency) -> str:
    return f"/agency/{agency.public_id}/overview/"


def post_card(post: Post) -> str:
    return f"/w/{post.workspace.public_id}/posts/#post-{post.public_id}"


def waiting(post: Post, *, days: float, stage: str = ApprovalDecision.Stage.INTERNAL) -> Post:
    """A post whose current approval stage began `days` ago."""
    ApprovalDecision.objects.create(
        post=post,
        stage=stage,
        action=ApprovalDecision.Action.SUBMITTED,
        actor_name="Bob Editor",
        created_at=timezone.now() - timedelta(days=days),
    )
    return post


@pytest.fixture
def risky(alice, agency, workspace, bob):
    """Northwind with two clients and one of everything the overview watches, plus a stranger's failure."""
    now = timezone.now()
    bakery = WorkspaceFactory(agency=agency, name="Bakery Bloom", timezone="America/New_York")
    page = ChannelFactory(workspace=workspace)
    ig = ChannelFactory(workspace=workspace, instagram=True)
    broken = ChannelFactory(
        workspace=workspace,
        instagram_login=True,
        status=ChannelStatus.NEEDS_RECONNECT,
        status_reason="Meta asks for the account to be connected again.",
    )
    ending = ChannelFactory(workspace=bakery, token_expires_at=now + timedelta(days=5))
    ChannelFactory(workspace=bakery, instagram=True, token_expires_at=now + timedelta(days=20))
    ChannelFactory(workspace=bakery, instagram_login=True, status=ChannelStatus.DISCONNECTED)

    failed = DeliveryFactory(
        channel=page,
        post=PostFactory(workspace=workspace, caption="Latte art weekend"),
        failed=True,
        error_message="The link is not allowed.",
    )
    unconfirmed = DeliveryFactory(
        channel=ig,
        post=PostFactory(workspace=workspace, caption="New beans"),
        failed=True,
        candidates=[{"id": "1790", "text": "New beans", "permalink": "https://www.instagram.com/p/X/"}],
        error_message="Instagram did not say whether it was published.",
    )
    for _ in range(3):  # published in the last 24 hours: they count against Instagram's limit
        DeliveryFactory(channel=ig, published=True)
    old = DeliveryFactory(channel=ig, published=True)
    Delivery.objects.filter(pk=old.pk).update(published_at=now - timedelta(hours=30))

    soon = PostFactory(workspace=workspace, caption="Friday tasting", scheduled_at=now + timedelta(days=3))
    DeliveryFactory(channel=page, post=soon, state=DeliveryState.SCHEDULED, next_attempt_at=soon.scheduled_at)
    far = PostFactory(workspace=workspace, caption="Next month", scheduled_at=now + timedelta(days=10))
    DeliveryFactory(channel=page, post=far, state=DeliveryState.SCHEDULED, next_attempt_at=far.scheduled_at)
    draft = PostFactory(workspace=workspace, caption="Idea", scheduled_at=now + timedelta(days=2))
    DeliveryFactory(channel=page, post=draft)

    internal = waiting(
        PostFactory(workspace=workspace, author=bob, caption="Awaiting Alice", approval=Post.Approval.PENDING), days=2
    )
    client_stage = waiting(
        PostFactory(workspace=bakery, caption="Awaiting the bakery", approval=Post.Approval.CLIENT_PENDING),
        days=3,
        stage=ApprovalDecision.Stage.CLIENT,
    )
    waiting(PostFactory(workspace=workspace, caption="Just sent", approval=Post.Approval.PENDING), days=0.1)
    legacy = PostFactory(workspace=bakery, caption="Sent long ago", approval=Post.Approval.PENDING)
    Post.objects.filter(pk=legacy.pk).update(updated_at=now - timedelta(days=4))  # before decisions were kept

    Workspace.objects.filter(pk=bakery.pk).update(paused_at=now, paused_by=alice, pause_reason="Recall of a product")

    stranger = WorkspaceFactory(name="Elsewhere Brand")
    DeliveryFactory(
        channel=ChannelFactory(workspace=stranger),
        post=PostFactory(workspace=stranger, caption="Stranger's secret"),
        failed=True,
    )
    return {
        "bakery": bakery,
        "page": page,
        "ig": ig,
        "broken": broken,
        "ending": ending,
        "failed": failed,
        "unconfirmed": unconfirmed,
        "internal": internal,
        "client_stage": client_stage,
        "legacy": legacy,
    }


def test_it_lists_what_is_at_risk_with_links_to_fix_it(client, alice, agency, workspace, risky):
    client.force_login(alice)
    response = client.get(overview_url(agency))
    assert response.status_code == 200
    html = response.content.decode()

    # failed and unconfirmed posts, each linked to its card on the posts list
    assert "Latte art weekend" in html and "The link is not allowed." in html
    assert f'href="{post_card(risky["failed"].post)}"' in html
    assert "New beans" in html and "May have gone out." in html
    assert f'href="{post_card(risky["unconfirmed"].post)}"' in html
    assert "Stranger&#x27;s secret" not in html and "Stranger's secret" not in html

    # channels to reconnect and access ending within 14 days (not in 20, not disconnected ones)
    report = response.context["report"]
    attention = {h.channel.pk for h in report.channels}
    assert attention == {risky["broken"].pk, risky["ending"].pk}
    assert f'href="/w/{workspace.public_id}/channels/#channel-{risky["broken"].public_id}"' in html
    assert "Meta asks for the account to be connected again." in html

    # Instagram's limit: three posts in the last 24 hours (the one of 30 hours ago no longer counts)
    used = {h.channel.pk: h.quota.used for h in report.quotas}
    assert used[risky["ig"].pk] == 3
    assert 'data-used="3">3/50' in html

    # approvals waiting more than a day, at either stage, linked to where they are approved
    slow = [item.post.pk for item in report.approvals.rows]
    assert slow == [risky["legacy"].pk, risky["client_stage"].pk, risky["internal"].pk]  # longest waiting first
    assert "Just sent" not in html
    assert "Waiting for the client" in html and "Waiting for the team" in html
    assert f'href="{overview.review_url(risky["internal"])}"' in html

    # paused clients, with who, when and why
    assert [ws.pk for ws in report.paused] == [risky["bakery"].pk]
    assert "Recall of a product" in html and "Paused by Alice Owner" in html

    # per client: posts in the next 7 days (drafts and later posts not counted), linked to its calendar
    rows = {row.workspace.pk: row for row in report.workspaces}
    assert (rows[workspace.pk].upcoming, rows[workspace.pk].failed, rows[workspace.pk].slow_approvals) == (1, 2, 1)
    assert (rows[risky["bakery"].pk].upcoming, rows[risky["bakery"].pk].slow_approvals) == (0, 2)
    assert f'href="{overview.calendar_url(workspace.public_id)}" data-upcoming="1"' in html


def test_a_post_that_failed_on_three_accounts_counts_as_one_post(client, alice, agency, workspace):
    post = PostFactory(workspace=workspace, caption="Grand opening")
    channels = [
        ChannelFactory(workspace=workspace, **traits) for traits in ({}, {"instagram": True}, {"instagram_login": True})
    ]
    for channel in channels:
        DeliveryFactory(post=post, channel=channel, failed=True)
    other = DeliveryFactory(channel=channels[0], failed=True)  # another post, on one account

    report = overview.agency_overview(agency_id=agency.pk, now=timezone.now())
    assert (report.problems.posts, report.problems.total, len(report.problems.rows)) == (2, 4, 4)
    assert {row.workspace.pk: row.failed for row in report.workspaces} == {workspace.pk: 2}

    client.force_login(alice)
    html = client.get(overview_url(agency)).content.decode()
    assert '<div class="h3 mb-0" data-count="problems">2</div><div class="small text-body">posts that did not' in html
    assert (
        f'data-failed="2"><a class="text-danger-emphasis" href="/w/{workspace.public_id}/posts/?status=failed">2 posts'
        in html
    )
    assert html.count('<tr class="problem') == 4  # the table lists each account it failed on
    assert other.post.caption in html


def test_failures_are_listed_by_when_they_failed_newest_first(agency, workspace):
    page = ChannelFactory(workspace=workspace)
    earlier = DeliveryFactory(channel=page, failed=True)
    Delivery.objects.filter(pk=earlier.pk).update(updated_at=timezone.now() - timedelta(hours=2))
    later = DeliveryFactory(channel=page, scheduled=True)  # made after `earlier`, fails after it too
    Delivery.objects.filter(pk=later.pk).update(updated_at=timezone.now() - timedelta(hours=3))
    transitions.to_failed(later.pk, transitions.claim(later.pk), message="Meta refused the post.")

    def listed() -> list[int]:
        return [p.delivery.pk for p in overview.problems(workspaces=Workspace.objects.filter(pk=workspace.pk)).rows]

    assert listed() == [later.pk, earlier.pk]
    # Retried, it fails again: now it is the newest failure, though the other row was created later.
    assert transitions.retry(earlier, approved=True)
    transitions.to_failed(earlier.pk, transitions.claim(earlier.pk), message="Meta refused the post again.")
    assert listed() == [earlier.pk, later.pk]


def test_the_calendar_link_falls_back_to_the_posts_list(workspace):
    expected = overview.url_or_none("publishing:calendar", workspace_id=workspace.public_id)
    assert overview.calendar_url(workspace.public_id) == (expected or f"/w/{workspace.public_id}/posts/")


def test_an_empty_agency_says_all_is_well(client, alice, agency):
    client.force_login(alice)
    html = client.get(overview_url(agency)).content.decode()
    assert "Nothing failed." in html and "No client is paused." in html
    assert "No post has waited more than a day." in html


def test_the_agency_menu_links_to_it_for_owners_and_admins_only(client, alice, bob, agency, workspace):
    client.force_login(alice)
    assert overview_url(agency) in client.get(f"/w/{workspace.public_id}/").content.decode()
    client.force_login(bob)
    assert overview_url(agency) not in client.get(f"/w/{workspace.public_id}/").content.decode()


def test_an_admin_may_open_it(client, agency):
    admin = UserFactory()
    AgencyMembershipFactory(agency=agency, user=admin, role="admin")
    client.force_login(admin)
    assert client.get(overview_url(agency)).status_code == 200


def test_a_member_is_refused_like_on_the_other_agency_pages(client, bob, agency):
    client.force_login(bob)
    assert client.get(overview_url(agency)).status_code == 403
    assert client.get(f"/agency/{agency.public_id}/team/").status_code == 403  # the same answer


def test_another_agency_gets_404(client, charlie, agency, risky):
    client.force_login(charlie)
    assert client.get(overview_url(agency)).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, agency):
    response = client.get(overview_url(agency))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_only_answers_get(client, alice, agency):
    client.force_login(alice)
    assert client.post(overview_url(agency)).status_code == 405


# --- bounded queries ----------------------------------------------------------------------------------------------
def fill(agency, *, workspaces: int, posts: int) -> None:
    """`workspaces` more clients with a Page and an Instagram account each, and `posts` posts spread over them in
    every state the overview reads: failed, unconfirmed, published today, coming up, awaiting approval."""
    now = timezone.now()
    made = [WorkspaceFactory(agency=agency) for _ in range(workspaces)]
    channels = {
        ws.pk: (ChannelFactory(workspace=ws), ChannelFactory(workspace=ws, instagram=True, token_expires_at=now))
        for ws in made
    }
    Workspace.objects.filter(pk=made[0].pk).update(paused_at=now, pause_reason="Quiet week")
    kinds = itertools.cycle(["failed", "unconfirmed", "published", "upcoming", "pending", "client_pending"])
    post_rows, shapes = [], []
    for i in range(posts):
        ws, shape = made[i % len(made)], next(kinds)
        approval = shape if shape in ("pending", "client_pending") else Post.Approval.NOT_REQUIRED
        scheduled = now + timedelta(days=2) if shape == "upcoming" else None
        post_rows.append(Post(workspace=ws, caption=f"Post {i}", approval=approval, scheduled_at=scheduled))
        shapes.append(shape)
    created = Post.objects.bulk_create(post_rows)
    deliveries, decisions = [], []
    for post, shape in zip(created, shapes, strict=True):
        page, ig = channels[post.workspace_id]
        channel = ig if shape in ("published", "unconfirmed") else page
        fields = {
            "failed": {"state": DeliveryState.FAILED, "error_message": "Meta refused the post."},
            "unconfirmed": {"state": DeliveryState.FAILED, "candidates": [{"id": "1"}]},
            "published": {"state": DeliveryState.PUBLISHED, "published_at": now - timedelta(hours=1)},
            "upcoming": {"state": DeliveryState.SCHEDULED, "next_attempt_at": post.scheduled_at},
        }.get(shape, {"state": DeliveryState.AWAITING_APPROVAL})
        kind = DeliveryKind.IG_IMAGE if channel is ig else DeliveryKind.FB_TEXT
        deliveries.append(Delivery(post=post, channel=channel, kind=kind, **fields))
        if shape in ("pending", "client_pending"):
            decisions.append(
                ApprovalDecision(
                    post=post,
                    stage="internal",
                    action="submitted",
                    actor_name="Bob",
                    created_at=now - timedelta(days=2),
                )
            )
    Delivery.objects.bulk_create(deliveries)
    ApprovalDecision.objects.bulk_create(decisions)


def queries_for(client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response.content.decode()


def test_the_same_number_of_queries_for_10_and_500_posts(client, alice, agency, workspace):
    client.force_login(alice)
    fill(agency, workspaces=2, posts=10)
    small, html = queries_for(client, overview_url(agency))
    assert "Post 0" in html  # a failed one is listed
    fill(agency, workspaces=6, posts=500)
    big, html = queries_for(client, overview_url(agency))
    assert big == small, f"{small} queries for 10 posts, {big} for 500"
    assert small <= 20, small
    report = overview.agency_overview(agency_id=agency.pk, now=timezone.now())
    assert report.problems.total == 2 * 2 + 2 * 84  # failed and unconfirmed, of every sixth post each
    assert len(report.problems.rows) == overview.LIST_LIMIT


def test_the_overview_is_built_in_a_fixed_number_of_queries(django_assert_num_queries, agency):
    fill(agency, workspaces=3, posts=60)
    with django_assert_num_queries(10):
        report = overview.agency_overview(agency_id=agency.pk, now=timezone.now())
        for problem in report.problems.rows:  # what the page reads of each row comes with it
            str(problem.delivery.post.workspace.name) + problem.delivery.channel.display_name
        for item in report.approvals.rows:
            str(item.post.workspace.name) + item.stage + str(item.post.author)
        for health in report.channels + report.quotas:
            str(health.channel.workspace.name)
    assert reverse("publishing:agency_overview", kwargs={"agency_id": agency.public_id}) == overview_url(agency)
