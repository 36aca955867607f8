"""Every main page passes axe-core with no serious or critical violation.

Each page is opened in chromium with the data a busy workspace has (a Facebook Page, Instagram accounts in every
state, media, posts in every delivery state, pending invitations), then checked with axe-core 4.14.1, vendored
in static/vendor/axe-core/. axe is injected through the DevTools protocol, so the app's Content-Security-Policy
stays as it is served; collapsed <details> are opened first, so their contents are checked too. A failure lists
each serious or critical violation: its rule, help text and selectors.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page

from accounts.models import Agency, ChannelStatus, Invitation, User
from accounts.services.pause import workspace_pause
from notifications.models import Kind
from notifications.services import mark_read, notify
from publishing.models import ApprovalDecision, ApprovalLink, ApprovalLinkUse, ComposerDraft, PostComment
from publishing.services.queues import queue_pause, queue_slots_add
from tests.factories import (
    AgencyFactory,
    ChannelFactory,
    DeliveryFactory,
    MediaAssetFactory,
    PostFactory,
    PostMediaFactory,
    UserFactory,
    WorkspaceFactory,
)

AXE_SOURCE = (Path(django_settings.BASE_DIR) / "static" / "vendor" / "axe-core" / "axe.min.js").read_text()
BLOCKING = ("serious", "critical")


@dataclass
class World:
    alice: User
    newcomer: User
    urls: dict[str, str]


def _invite(*, email: str, agency: Agency, by: User) -> None:
    _, token_hash = Invitation.new_token()
    Invitation.objects.create(
        agency=agency, email=email, token_hash=token_hash, invited_by=by, expires_at=timezone.now() + timedelta(days=7)
    )


@pytest.fixture
def world(alice, agency, workspace, bob) -> World:  # type: ignore[no-untyped-def]
    page = ChannelFactory(workspace=workspace, connected_by=alice)
    instagram = ChannelFactory(workspace=workspace, connected_by=alice, instagram=True)
    ChannelFactory(
        workspace=workspace,
        connected_by=alice,
        instagram_login=True,
        status=ChannelStatus.NEEDS_RECONNECT,
        status_reason="Meta asks for the account to be connected again.",
        last_error="Error validating access token: the session has expired.",
        last_error_at=timezone.now(),
        granted_scopes=["instagram_business_basic"],
    )
    ChannelFactory(
        workspace=workspace,
        connected_by=alice,
        external_id="17841400000000001",
        status=ChannelStatus.DISCONNECTED,
        disconnected_at=timezone.now(),
    )
    photo = MediaAssetFactory(workspace=workspace)
    MediaAssetFactory(workspace=workspace, video=True)

    published = PostFactory(workspace=workspace, author=alice, caption="Fresh beans from Huila are in.")
    PostMediaFactory(post=published, asset=photo)
    DeliveryFactory(channel=page, post=published, published=True)
    DeliveryFactory(channel=instagram, post=published, published=True)
    failed = PostFactory(workspace=workspace, author=bob, caption="Latte art weekend.")
    PostMediaFactory(post=failed, asset=photo)
    DeliveryFactory(channel=instagram, post=failed, failed=True)
    scheduled = PostFactory(workspace=workspace, author=bob)
    DeliveryFactory(channel=page, post=scheduled, scheduled=True)
    writing = ComposerDraft.objects.create(
        workspace=workspace,
        user=alice,
        token=uuid.uuid4(),
        data={
            "channels": [str(page.pk), str(instagram.pk)],
            "format": ["feed"],
            "caption": ["Story time #coffee @maria.k"],
            "media": [str(photo.pk)],
            "link": ["https://example.com/beans"],
            "cta_type": ["SHOP_NOW"],
            "when": ["later"],
        },
    )
    DeliveryFactory(channel=page, post=PostFactory(workspace=workspace, author=alice))
    queue_slots_add(channel=page, weekdays=[0, 2, 4], at=time(9, 30))
    for days, caption in ((2, "Cold brew is back."), (4, "Open late on Friday.")):
        queued = PostFactory(
            workspace=workspace,
            author=alice,
            caption=caption,
            in_queue=True,
            scheduled_at=timezone.now() + timedelta(days=days),
        )
        DeliveryFactory(channel=page, post=queued, scheduled=True)
    queue_pause(channel=page, user=alice)

    posts_url = reverse("publishing:posts", args=[workspace.public_id])
    (seen,) = notify(
        kind=Kind.CHANNEL_RECONNECT,
        users=[alice],
        workspace=workspace,
        title="Reconnect @maplethread.studio",
        body="Meta asks for the account to be connected again.",
    )
    mark_read(user=alice, ids=[seen.pk])
    notify(
        kind=Kind.POST_FAILED,
        users=[alice],
        workspace=workspace,
        title="Failed on @harboryoga: “Latte art weekend.”",
        body="The media type is not supported for this endpoint",
        url=posts_url,
    )

    # A post awaiting approval, with its history and a conversation, and a client review link that was used.
    review = PostFactory(
        workspace=workspace, author=bob, caption="Sourdough Saturday #bread @maria.k", approval="pending"
    )
    PostMediaFactory(post=review, asset=photo)
    DeliveryFactory(channel=instagram, post=review, state="awaiting_approval")
    DeliveryFactory(channel=page, post=review, state="awaiting_approval")
    ApprovalDecision.objects.create(
        post=review, stage="internal", action="submitted", actor=bob, actor_name="Bob Editor", version=1
    )
    ApprovalDecision.objects.create(
        post=review, stage="client", action="changes_requested", actor_name="Rosa at Acme", comment="Brighter photo"
    )
    question = PostComment.objects.create(post=review, author=bob, author_name="Bob Editor", body="Is this one better?")
    PostComment.objects.create(post=review, parent=question, author=alice, author_name="Alice Owner", body="Yes.")
    _, link_hash = ApprovalLink.new_token()
    link = ApprovalLink.objects.create(
        workspace=workspace,
        name="Rosa at Acme",
        email="rosa@acme.example",
        token_hash=link_hash,
        created_by=alice,
        expires_at=timezone.now() + timedelta(days=14),
    )
    ApprovalLinkUse.objects.create(link=link, action="opened", ip_address="203.0.113.7", user_agent="Firefox")
    ApprovalLinkUse.objects.create(link=link, post=review, action="changes_requested", ip_address="203.0.113.7")

    # A client just added and already paused: its dashboard leads with the checklist, under the pause banner.
    fresh = WorkspaceFactory(agency=agency, name="Bakery Bloom", timezone="America/New_York")
    workspace_pause(workspace=fresh, user=alice, reason="Product recall: hold everything until legal has checked.")

    other = AgencyFactory(name="Southwind")
    _invite(email=alice.email, agency=other, by=alice)  # the home page lists it instead of redirecting
    _invite(email="dana@northwind.example", agency=agency, by=alice)
    newcomer = UserFactory(email="erin@example.com", full_name="Erin Newcomer")
    _invite(email=newcomer.email, agency=other, by=alice)

    # The inbox: a thread with our answer, a hidden spam comment whose deletion Meta refused, a saved reply, a rule.
    thread, rule = _inbox(workspace, instagram, alice)

    # Insights: 100 days of figures for the Page and the Instagram account (some not available), posts of every
    # kind, the audience (one breakdown Meta did not give), and a channel whose sync is behind.
    _insights(page, instagram)

    ws, ag = workspace.public_id, agency.public_id
    urls = {
        "home": reverse("home"),
        "workspace dashboard": reverse("accounts:workspace_dashboard", args=[ws]),
        "workspace dashboard, new and paused": reverse("accounts:workspace_dashboard", args=[fresh.public_id]),
        "agency overview": reverse("publishing:agency_overview", args=[ag]),
        "channels": reverse("accounts:channels", args=[ws]),
        "workspace team": reverse("accounts:workspace_team", args=[ws]),
        "agency team": reverse("accounts:agency_team", args=[ag]),
        "workspace settings": reverse("accounts:workspace_settings", args=[ws]),
        "media library": reverse("publishing:media_library", args=[ws]),
        "posts": reverse("publishing:posts", args=[ws]),
        "calendar": reverse("publishing:calendar", args=[ws]),
        "calendar, week": reverse("publishing:calendar", args=[ws]) + "?view=week",
        "composer": reverse("publishing:post_new", args=[ws]),
        "composer, writing": reverse("publishing:post_new", args=[ws]) + f"?draft={writing.token}",
        "composer, editing": reverse("publishing:post_edit", args=[ws, scheduled.public_id]),
        "review": reverse("publishing:post_review", args=[ws, review.public_id]),
        "approvals": reverse("publishing:approvals", args=[ws]),
        "approval links": reverse("publishing:approval_links", args=[ws]),
        "queue": reverse("publishing:queue", args=[ws]) + f"?channel={page.public_id}",
        "notifications": reverse("notifications:notification_list"),
        "notification preferences": reverse("notifications:notification_preferences"),
        "inbox": reverse("inbox:inbox", args=[ws]),
        "inbox thread": reverse("inbox:thread", args=[ws, thread.public_id]),
        "saved replies": reverse("inbox:saved_replies", args=[ws]),
        "rules": reverse("inbox:rules", args=[ws]),
        "rule dry run": reverse("inbox:rule_dry_run", args=[ws, rule.public_id]),
        "rule log": reverse("inbox:rule_log", args=[ws, rule.public_id]),
        "insights": reverse("analytics:insights", args=[ws]) + "?range=90",
        "insights, channels compared": reverse("analytics:insights", args=[ws])
        + f"?channel={page.public_id}&channel={instagram.public_id}",
        "channel insights": reverse("analytics:channel_insights", args=[ws, instagram.public_id]),
        "insights report": reverse("analytics:report", args=[ws]),
        "agency insights": reverse("analytics:agency_insights", args=[ag]),
        "onboarding": reverse("accounts:onboarding"),
        "login": reverse("account_login"),
        "signup": reverse("account_signup"),
        "signup closed": reverse("account_signup"),
    }
    return World(alice=alice, newcomer=newcomer, urls=urls)


def _inbox(workspace, channel, alice):  # type: ignore[no-untyped-def]
    from inbox.models import Comment, CommentAction, InboxPost, Rule, SavedReply

    now = timezone.now()
    post = InboxPost.objects.create(
        workspace=workspace,
        channel=channel,
        external_id="17900000000000001",
        caption="Sunrise flow, every Sunday at 7",
        permalink="https://www.instagram.com/p/sunrise/",
        posted_at=now - timedelta(days=1),
    )
    common = {"workspace": workspace, "channel": channel, "inbox_post": post}
    thread = Comment.objects.create(
        **common,
        external_id="17800000000000001",
        author_id="9001",
        author_name="yoga_fan",
        text="Is there a class on Sunday?",
        created_at=now - timedelta(hours=2),
        last_activity_at=now - timedelta(hours=1),
        needs_reply=False,
    )
    Comment.objects.create(
        **common,
        external_id="17800000000000002",
        parent=thread,
        author_id=channel.external_id,
        author_name=channel.username,
        from_us=True,
        text="Yes, at 7! See you there.",
        created_at=now - timedelta(hours=1),
        last_activity_at=now - timedelta(hours=1),
        needs_reply=False,
    )
    spam = Comment.objects.create(
        **common,
        external_id="17800000000000003",
        author_id="9002",
        author_name="promo.bot",
        text="Free followers!! visit spam.example",
        created_at=now - timedelta(minutes=30),
        last_activity_at=now - timedelta(minutes=30),
        hidden=True,
    )
    rule = Rule.objects.create(
        workspace=workspace, name="Spam", pattern="free followers", created_by=alice, dry_run_at=now, enabled=True
    )
    CommentAction.objects.create(
        workspace=workspace, comment=spam, kind="hide", state="done", rule=rule, finished_at=now
    )
    CommentAction.objects.create(
        workspace=workspace,
        comment=spam,
        kind="delete",
        state="failed",
        actor=alice,
        error="Meta refused: this comment can no longer be changed.",
        finished_at=now,
    )
    SavedReply.objects.create(
        workspace=workspace, title="Thanks", text="Thank you {first_name}! More here: {post_link}", created_by=alice
    )
    return thread, rule


def _insights(page, instagram):  # type: ignore[no-untyped-def]
    from analytics.catalogue import KPIS
    from analytics.models import PostKind
    from tests.analytics.factories import audience, daily_rows, insight_sync, kpi_rows, post_insight

    today = timezone.now().date()
    first = today - timedelta(days=100)
    for n, channel in enumerate((page, instagram)):
        for k, kpi in enumerate(KPIS):
            values = [None if day % 23 == k else 100 * (n + 1) + day * (k + 1) for day in range(100)]
            kpi_rows(channel, kpi, first, values)
    for dimension, share in (("REEL", 3), ("POST", 2), ("STORY", 1)):
        for metric in ("reach", "views"):
            daily_rows(instagram, metric, first, [share * (40 + day % 9) for day in range(100)], dimension=dimension)
    now = timezone.now()
    for n, kind in enumerate((PostKind.FEED, PostKind.REELS, PostKind.STORY)):
        post_insight(
            instagram,
            kind=kind,
            published_at=now - timedelta(days=3 * n + 1, hours=n * 5),
            caption=f"Sunrise flow, week {n + 1} #yoga",
            reach=900 - 100 * n,
            views=1500 - 120 * n,
            likes=80 - n,
            comments=9,
            shares=4,
            saves=None if kind == PostKind.STORY else 12,
            interactions=105 - n,
        )
    post_insight(
        page, published_at=now - timedelta(days=2), caption="Open late on Friday.", reach=450, views=700, likes=30
    )
    audience(instagram, "follower_demographics", "age", {"18-24": 120, "25-34": 340, "35-44": 150})
    audience(instagram, "follower_demographics", "gender", {"F": 420, "M": 180, "U": 10})
    audience(instagram, "follower_demographics", "country", {"IT": 300, "US": 120, "GB": 40})
    audience(instagram, "follower_demographics", "city", None)
    insight_sync(page)
    insight_sync(instagram, account_synced_at=now - timedelta(days=3), last_error="Meta is slow to answer.")


def _log_in(page: Page, base_url: str, user: User) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base_url}])


def _describe(violation: dict) -> str:
    targets = "; ".join(" ".join(map(str, node["target"])) for node in violation["nodes"])
    return f"[{violation['impact']}] {violation['id']}: {violation['help']} -> {targets}"


PAGES = [
    pytest.param("home", "alice", id="home"),
    pytest.param("workspace dashboard", "alice", id="workspace-dashboard"),
    pytest.param("workspace dashboard, new and paused", "alice", id="workspace-dashboard-new-paused"),
    pytest.param("agency overview", "alice", id="agency-overview"),
    pytest.param("channels", "alice", id="channels"),
    pytest.param("workspace team", "alice", id="workspace-team"),
    pytest.param("agency team", "alice", id="agency-team"),
    pytest.param("workspace settings", "alice", id="workspace-settings"),
    pytest.param("media library", "alice", id="media-library"),
    pytest.param("posts", "alice", id="posts"),
    pytest.param("calendar", "alice", id="calendar"),
    pytest.param("calendar, week", "alice", id="calendar-week"),
    pytest.param("composer", "alice", id="composer"),
    pytest.param("composer, writing", "alice", id="composer-writing"),
    pytest.param("composer, editing", "alice", id="composer-editing"),
    pytest.param("review", "alice", id="review"),
    pytest.param("approvals", "alice", id="approvals"),
    pytest.param("approval links", "alice", id="approval-links"),
    pytest.param("queue", "alice", id="queue"),
    pytest.param("notifications", "alice", id="notifications"),
    pytest.param("notification preferences", "alice", id="notification-preferences"),
    pytest.param("inbox", "alice", id="inbox"),
    pytest.param("inbox thread", "alice", id="inbox-thread"),
    pytest.param("saved replies", "alice", id="saved-replies"),
    pytest.param("rules", "alice", id="rules"),
    pytest.param("rule dry run", "alice", id="rule-dry-run"),
    pytest.param("rule log", "alice", id="rule-log"),
    pytest.param("insights", "alice", id="insights"),
    pytest.param("insights, channels compared", "alice", id="insights-compared"),
    pytest.param("channel insights", "alice", id="channel-insights"),
    pytest.param("insights report", "alice", id="insights-report"),
    pytest.param("agency insights", "alice", id="agency-insights"),
    pytest.param("onboarding", "newcomer", id="onboarding"),
    pytest.param("login", None, id="login"),
    pytest.param("signup", None, id="signup"),
    pytest.param("signup closed", None, id="signup-closed"),
]


@pytest.mark.parametrize(("name", "visitor"), PAGES)
def test_page_has_no_serious_violations(  # type: ignore[no-untyped-def]
    name: str, visitor: str | None, world: World, live_server, page: Page, settings
) -> None:
    settings.SIGNUP_POLICY = "invitation" if name == "signup closed" else "open"
    if visitor:
        _log_in(page, live_server.url, getattr(world, visitor))
    url = world.urls[name]
    response = page.goto(f"{live_server.url}{url}")
    assert response is not None and response.ok, f"{name}: {response and response.status}"
    page.wait_for_load_state("networkidle")
    assert page.url == f"{live_server.url}{url}", f"{name} redirected to {page.url}"
    if name.startswith("composer"):
        page.get_by_role("button", name="Add from the media library").click()
        page.locator("#library .library-card").first.wait_for()
    if name == "notifications":  # the bell's panel as well, opened and filled
        page.locator("#notification-bell").click()
        page.locator("#notification-panel .notification-item").first.wait_for()

    page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    page.evaluate(AXE_SOURCE)
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING]
    assert not blocking, f"{name} ({url}):\n" + "\n".join(map(_describe, blocking))
