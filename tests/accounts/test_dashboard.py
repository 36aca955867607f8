"""The workspace dashboard: a new workspace says what to do next; one in use shows its next posts in local time,
what did not go out, approvals waiting, channel health and the pause switch, in a fixed number of queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ChannelStatus, Invitation
from publishing.models import ApprovalDecision, Delivery, DeliveryKind, DeliveryState, Post, PostingQueue, PostingSlot
from tests.factories import (
    AgencyMembershipFactory,
    ChannelFactory,
    DeliveryFactory,
    PostFactory,
    UserFactory,
    WorkspaceMembershipFactory,
)

pytestmark = pytest.mark.django_db


def dashboard(client, workspace) -> str:
    response = client.get(f"/w/{workspace.public_id}/")
    assert response.status_code == 200
    return response.content.decode()


def steps(response_context) -> dict[str, bool]:
    return {s.key: s.done for s in response_context["dashboard"].setup}


def test_a_new_workspace_leads_with_a_checklist(client, alice, workspace):
    client.force_login(alice)
    response = client.get(f"/w/{workspace.public_id}/")
    html = response.content.decode()
    assert "Get Acme Coffee ready" in html
    assert steps(response.context) == {"channel": False, "client": False, "post": False, "times": False}
    assert f'href="/w/{workspace.public_id}/channels/">Connect an account' in html
    assert f'href="/agency/{workspace.agency.public_id}/team/">Invite the client' in html
    assert f'href="/w/{workspace.public_id}/posts/new/">Write a post' in html
    assert "Next posts" not in html and "Pause all publishing" not in html


def test_each_step_is_ticked_once_done(client, alice, workspace):
    client.force_login(alice)
    channel = ChannelFactory(workspace=workspace)
    response = client.get(f"/w/{workspace.public_id}/")
    assert steps(response.context)["channel"] is True
    assert 'data-step="channel" data-done="true"' in response.content.decode()

    _, token_hash = Invitation.new_token()
    Invitation.objects.create(
        agency=workspace.agency,
        email="owner@acme.example",
        workspace=workspace,
        workspace_role="client",
        token_hash=token_hash,
        invited_by=alice,
        expires_at=timezone.now() + timedelta(days=7),
    )
    PostingSlot.objects.create(queue=PostingQueue.objects.create(channel=channel), weekday=0, time="09:30")
    response = client.get(f"/w/{workspace.public_id}/")
    assert steps(response.context) == {"channel": True, "client": True, "post": False, "times": True}
    assert "Get Acme Coffee ready" in response.content.decode()  # still new: nothing written yet

    PostFactory(workspace=workspace)
    response = client.get(f"/w/{workspace.public_id}/")
    html = response.content.decode()
    assert steps(response.context)["post"] is True
    assert "Get Acme Coffee ready" not in html and "Next posts" in html
    assert "Still to set up" not in html  # every step done


def test_a_client_member_counts_as_invited_and_disconnected_channels_do_not_count(client, alice, workspace):
    ChannelFactory(workspace=workspace, status=ChannelStatus.DISCONNECTED)
    person = UserFactory()
    AgencyMembershipFactory(agency=workspace.agency, user=person)
    WorkspaceMembershipFactory(workspace=workspace, user=person, role="client")
    client.force_login(alice)
    response = client.get(f"/w/{workspace.public_id}/")
    assert steps(response.context)["channel"] is False and steps(response.context)["client"] is True


def test_an_editor_is_told_whom_to_ask(client, bob, workspace):
    client.force_login(bob)
    html = dashboard(client, workspace)
    assert "Ask your agency's owner to invite them." in html
    assert f"/w/{workspace.public_id}/channels/" not in html.split('id="setup"')[1].split("</section>")[0]
    assert f'href="/w/{workspace.public_id}/posts/new/">Write a post' in html  # editors write


@pytest.fixture
def in_use(workspace, alice, bob):
    """Acme Coffee (Europe/Rome) with channels in every state and posts coming up, failed and awaiting approval."""
    now = timezone.now()
    page = ChannelFactory(workspace=workspace)
    ig = ChannelFactory(workspace=workspace, instagram=True)
    ChannelFactory(workspace=workspace, instagram_login=True, status=ChannelStatus.NEEDS_RECONNECT)
    for _ in range(2):
        DeliveryFactory(channel=ig, published=True)
    base = datetime(2031, 7, 1, 7, 0, tzinfo=UTC)  # 09:00 in Rome (summer time)
    upcoming = []
    for day in range(7):
        post = PostFactory(workspace=workspace, caption=f"Coming up {day}", scheduled_at=base + timedelta(days=day))
        DeliveryFactory(channel=page, post=post, state=DeliveryState.SCHEDULED, next_attempt_at=post.scheduled_at)
        DeliveryFactory(channel=ig, post=post, state=DeliveryState.SCHEDULED, next_attempt_at=post.scheduled_at)
        upcoming.append(post)
    DeliveryFactory(channel=page, post=PostFactory(workspace=workspace, caption="Went wrong"), failed=True)
    pending = PostFactory(workspace=workspace, author=bob, caption="Please check", approval=Post.Approval.PENDING)
    DeliveryFactory(channel=page, post=pending, state=DeliveryState.AWAITING_APPROVAL)
    ApprovalDecision.objects.create(
        post=pending, stage="internal", action="submitted", actor=bob, actor_name="Bob", created_at=now
    )
    return {"upcoming": upcoming, "page": page, "ig": ig, "pending": pending}


def test_a_workspace_in_use_shows_the_next_five_posts_in_local_time(client, alice, workspace, in_use):
    client.force_login(alice)
    response = client.get(f"/w/{workspace.public_id}/")
    html = response.content.decode()
    shown = [p.caption for p in response.context["dashboard"].next_posts]
    assert shown == [f"Coming up {day}" for day in range(5)]
    assert "Coming up 5" not in html
    assert "Tue 1 Jul, 09:00" in html  # 07:00 UTC in Rome
    first = in_use["upcoming"][0]
    assert f'href="/w/{workspace.public_id}/posts/#post-{first.public_id}"' in html
    assert "@harboryoga" in html and "Harbor Yoga Studio" in html


def test_a_workspace_in_use_shows_failures_approvals_and_channel_health(client, alice, workspace, in_use):
    client.force_login(alice)
    html = dashboard(client, workspace)
    assert "Did not go out (1 post)" in html and "Went wrong" in html and "Meta refused the post." in html
    assert "Waiting for approval (1)" in html and "Please check" in html and "Waiting for the team" in html
    assert "Needs reconnecting: posts for it wait." in html
    assert "2 of 50 posts in the last 24 hours" in html
    assert 'id="pause-switch"' in html and "Pause all publishing" in html


def test_the_dashboard_reads_the_same_number_of_queries_for_10_and_200_posts(client, alice, workspace, in_use):
    client.force_login(alice)

    def more(n: int) -> None:
        posts = Post.objects.bulk_create(
            [
                Post(
                    workspace=workspace,
                    caption=f"Bulk {i}",
                    scheduled_at=timezone.now() + timedelta(hours=i + 1),
                    approval=Post.Approval.PENDING if i % 3 == 0 else Post.Approval.NOT_REQUIRED,
                )
                for i in range(n)
            ]
        )
        Delivery.objects.bulk_create(
            Delivery(
                post=post,
                channel=in_use["ig"],
                kind=DeliveryKind.IG_IMAGE,
                state=[DeliveryState.SCHEDULED, DeliveryState.FAILED, DeliveryState.AWAITING_APPROVAL][i % 3],
                next_attempt_at=post.scheduled_at,
            )
            for i, post in enumerate(posts)
        )

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            dashboard(client, workspace)
        return len(captured)

    more(10)
    small = count()
    more(190)
    assert count() == small


def test_the_dashboards_reads_are_nine_queries(django_assert_num_queries, workspace, in_use):
    from publishing import overview

    with django_assert_num_queries(9):
        board = overview.workspace_dashboard(workspace=workspace, now=timezone.now())
        for post in board.next_posts:
            [d.channel.display_name for d in post.deliveries.all()]
        for problem in board.problems.rows:
            str(problem.delivery.post.caption) + problem.delivery.channel.display_name
        for item in board.approvals.rows:
            str(item.post.author)


def test_what_did_not_go_out_counts_posts_and_names_the_failures_left_unlisted(client, alice, workspace):
    client.force_login(alice)
    page = ChannelFactory(workspace=workspace)
    ig = ChannelFactory(workspace=workspace, instagram=True)
    for n in range(3):  # three posts, each failed on both accounts: six failures, five listed
        post = PostFactory(workspace=workspace, caption=f"Went wrong {n}")
        for channel in (page, ig):
            DeliveryFactory(channel=channel, post=post, failed=True)
    html = dashboard(client, workspace)
    assert "Did not go out (3 posts)" in html
    assert html.count('class="mb-2 problem"') == 5
    assert "and 1 more failure on the posts list" in html

    post = PostFactory(workspace=workspace, caption="Went wrong too")
    DeliveryFactory(channel=page, post=post, failed=True)
    html = dashboard(client, workspace)
    assert "Did not go out (4 posts)" in html and "and 2 more failures on the posts list" in html
