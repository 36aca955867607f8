"""Reads for the agency's risk overview and the workspace dashboard: what failed or may have gone out unconfirmed,
channels to reconnect, Instagram's daily limit, posts waiting for approval, what is coming up, and what a new
workspace still has to set up.

Every selector takes the workspaces to look at as a queryset (one agency's, or just one), which the database
reads as a subquery, and answers in a fixed number of SQL queries however many workspaces, channels and posts
there are: counts are aggregated per workspace, lists are cut to a limit and fetched with their related rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, TypeVar
from uuid import UUID

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, Resolver404, resolve, reverse

from accounts.crypto import encrypted_field_names
from accounts.models import (
    Channel,
    ChannelStatus,
    Invitation,
    Workspace,
    WorkspaceMembership,
    WorkspaceRole,
)

from .models import ApprovalDecision, ApprovalLink, Delivery, DeliveryState, Post, PostingSlot
from .services import composer

S = DeliveryState
# Deliveries still to go out: what "a post coming up" means.
UPCOMING_STATES = (S.AWAITING_APPROVAL, S.SCHEDULED)
UPCOMING_DAYS = 7
TOKEN_WARNING = timedelta(days=14)  # a channel whose access ends within this is shown before it stops
APPROVAL_SLOW = timedelta(days=1)  # a post waiting longer than this for approval is a risk
AWAITING = (Post.Approval.PENDING, Post.Approval.CLIENT_PENDING)
LIST_LIMIT = 50


# --- links --------------------------------------------------------------------------------------------------
def url_or_none(name: str, **kwargs: object) -> str | None:
    """The named page's address, or None while that page does not exist in this installation."""
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return None


def routed(path: str) -> str | None:
    """`path` as the project serves it (with its prefix), or None when no page answers there."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return reverse(match.view_name, args=match.args, kwargs=match.kwargs)


def post_url(post: Post) -> str:
    """The post's card on the posts list."""
    return reverse("publishing:posts", kwargs={"workspace_id": post.workspace.public_id}) + f"#post-{post.public_id}"


def review_url(post: Post) -> str:
    """Where the post is approved: its review page, or its card while there is no review page."""
    return routed(f"/w/{post.workspace.public_id}/posts/{post.public_id}/review/") or post_url(post)


def calendar_url(workspace_id: UUID) -> str:
    return url_or_none("publishing:calendar", workspace_id=workspace_id) or reverse(
        "publishing:posts", kwargs={"workspace_id": workspace_id}
    )


def channel_url(channel: Channel) -> str:
    return reverse("accounts:channels", kwargs={"workspace_id": channel.workspace.public_id}) + (
        f"#channel-{channel.public_id}"
    )


# --- rows -----------------------------------------------------------------------------------------------------
@dataclass
class QuotaUse:
    """Instagram's 24-hour publishing limit on one account, as SocialHub counts its own posts."""

    used: int
    limit: int

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.used / self.limit)) if self.limit else 0

    @property
    def full(self) -> bool:
        return self.used >= self.limit

    @property
    def close(self) -> bool:
        return self.used >= self.limit * 0.8


@dataclass
class ChannelHealth:
    channel: Channel
    needs_reconnect: bool
    expires_at: datetime | None  # set when the access ends within TOKEN_WARNING
    quota: QuotaUse | None = None

    @property
    def needs_attention(self) -> bool:
        return self.needs_reconnect or self.expires_at is not None

    @property
    def url(self) -> str:
        return channel_url(self.channel)


@dataclass
class Problem:
    """A post that failed on a channel, or may have gone out without Meta confirming it."""

    delivery: Delivery

    @property
    def unconfirmed(self) -> bool:
        return self.delivery.unconfirmed

    @property
    def url(self) -> str:
        return post_url(self.delivery.post)


@dataclass
class WaitingApproval:
    post: Post
    since: datetime

    @property
    def stage(self) -> str:
        if self.post.approval == Post.Approval.CLIENT_PENDING:
            return "Waiting for the client"
        return "Waiting for the team"

    @property
    def url(self) -> str:
        return review_url(self.post)


T = TypeVar("T")


@dataclass
class Listing(Generic[T]):
    """The first rows of a list, and how many there are in all."""

    rows: list[T]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


@dataclass
class Problems(Listing[Problem]):
    """Failed deliveries, and how many posts they are: a post that failed on three accounts is one post."""

    posts: int = 0


@dataclass
class WorkspaceSummary:
    workspace: Workspace
    upcoming: int
    failed: int  # posts that failed on at least one account
    slow_approvals: int

    @property
    def calendar_url(self) -> str:
        return calendar_url(self.workspace.public_id)


@dataclass
class AgencyOverview:
    workspaces: list[WorkspaceSummary]
    problems: Problems
    channels: list[ChannelHealth]  # needing attention
    quotas: list[ChannelHealth]  # every Instagram account, busiest first
    approvals: Listing[WaitingApproval]  # waiting longer than APPROVAL_SLOW
    paused: list[Workspace] = field(default_factory=list)


@dataclass
class SetupStep:
    key: str
    label: str
    done: bool


@dataclass
class WorkspaceDashboard:
    setup: list[SetupStep]
    next_posts: list[Post]
    problems: Problems
    approvals: Listing[WaitingApproval]
    channels: list[ChannelHealth]

    @property
    def is_new(self) -> bool:
        """Nothing connected or nothing written yet: the dashboard leads with what to do next."""
        steps = {s.key: s.done for s in self.setup}
        return not (steps["channel"] and steps["post"])

    @property
    def setup_left(self) -> list[SetupStep]:
        return [s for s in self.setup if not s.done]


# --- selectors ------------------------------------------------------------------------------------------------
def _channels_deferred(prefix: str = "") -> list[str]:
    return encrypted_field_names(Channel, prefix=prefix)


def problems(*, workspaces: QuerySet[Workspace], limit: int = LIST_LIMIT) -> Problems:
    """Failed deliveries (unconfirmed ones among them), the most recently failed first (every state change stamps
    `updated_at`), with how many there are and how many posts they make. Two queries."""
    rows = Delivery.objects.filter(post__workspace__in=workspaces, state=S.FAILED)
    listed = (
        rows.select_related("post__workspace", "post__author", "channel")
        .defer(*_channels_deferred("channel__"))
        .order_by("-updated_at", "-pk")[:limit]
    )
    counts = rows.aggregate(deliveries=Count("pk"), posts=Count("post_id", distinct=True))
    return Problems([Problem(d) for d in listed], counts["deliveries"], posts=counts["posts"])


def channel_health(*, workspaces: QuerySet[Workspace], now: datetime) -> list[ChannelHealth]:
    """Connected channels (not disconnected ones) with what needs doing, those first, and for Instagram today's use
    of the publishing limit. Two queries (one without Instagram accounts)."""
    channels = list(
        Channel.objects.filter(workspace__in=workspaces)
        .exclude(status=ChannelStatus.DISCONNECTED)
        .select_related("workspace")
        .defer(*_channels_deferred())
        .order_by("workspace__name", "platform", "name")
    )
    quotas = instagram_quota(channels=channels, now=now)
    health = [
        ChannelHealth(
            channel=c,
            needs_reconnect=c.status == ChannelStatus.NEEDS_RECONNECT,
            expires_at=c.token_expires_at
            if c.token_expires_at is not None and c.token_expires_at < now + TOKEN_WARNING
            else None,
            quota=quotas.get(c.pk),
        )
        for c in channels
    ]
    health.sort(key=lambda h: (not h.needs_reconnect, h.expires_at is None))
    return health


def instagram_quota(*, channels: list[Channel], now: datetime) -> dict[int, QuotaUse]:
    """Today's use of Instagram's 24-hour limit per account, counted as the composer counts it (one query for
    all accounts). The composer's count includes the post being written; here there is none, so one less."""
    counted = composer._quotas([c for c in channels if c.status == ChannelStatus.ACTIVE], at=now, post=None)
    return {pk: QuotaUse(used=q.used - 1, limit=q.limit) for pk, q in counted.items()}


def _waiting(workspaces: QuerySet[Workspace]) -> QuerySet[Post]:
    """Posts awaiting approval, with when their current stage began: the last decision on them (submitted, or
    approved by the team for the client), or their last change for posts submitted before decisions were kept."""
    last_decision = ApprovalDecision.objects.filter(post=OuterRef("pk")).order_by("-created_at", "-pk")
    return Post.objects.filter(workspace__in=workspaces, approval__in=AWAITING).annotate(
        waiting_since=Coalesce(Subquery(last_decision.values("created_at")[:1]), "updated_at")
    )


def approvals_waiting(
    *, workspaces: QuerySet[Workspace], now: datetime, longer_than: timedelta | None = None, limit: int = LIST_LIMIT
) -> Listing[WaitingApproval]:
    """Posts awaiting approval, longest waiting first; with `longer_than`, only those waiting longer. Two queries."""
    rows = _waiting(workspaces)
    if longer_than is not None:
        rows = rows.filter(waiting_since__lt=now - longer_than)
    listed = rows.select_related("workspace", "author").order_by("waiting_since", "pk")[:limit]
    return Listing([WaitingApproval(p, p.waiting_since) for p in listed], rows.count())


def _upcoming(workspaces: QuerySet[Workspace], now: datetime) -> QuerySet[Post]:
    """Posts still to go out on some channel, from `now` on, not being deleted."""
    return Post.objects.filter(
        Exists(Delivery.objects.filter(post=OuterRef("pk"), state__in=UPCOMING_STATES)),
        workspace__in=workspaces,
        scheduled_at__gte=now,
        removal_requested_at=None,
    )


def next_posts(*, workspace: Workspace, now: datetime, limit: int = 5) -> list[Post]:
    """The workspace's next posts to go out (awaiting approval or scheduled), soonest first, with the channels they
    go out on. Two queries."""
    workspaces = Workspace.objects.filter(pk=workspace.pk)
    return list(
        _upcoming(workspaces, now)
        .order_by("scheduled_at", "pk")
        .prefetch_related(
            Prefetch(
                "deliveries",
                queryset=Delivery.objects.filter(state__in=UPCOMING_STATES)
                .select_related("channel")
                .defer(*_channels_deferred("channel__"))
                .order_by("channel__name"),
            )
        )[:limit]
    )


def _due(workspace: Workspace, now: datetime) -> QuerySet[Delivery]:
    return Delivery.objects.filter(
        post__workspace=workspace, state=S.SCHEDULED, next_attempt_at__lte=now, channel__status=ChannelStatus.ACTIVE
    )


def held_count(*, workspace: Workspace, now: datetime) -> int:
    """Posts of a paused workspace whose time has come on some channel: they wait for the resume."""
    return _due(workspace, now).values("post_id").distinct().count()


def overdue_count(*, workspace: Workspace, now: datetime) -> int:
    """Posts whose time has come on some channel and that only the workspace's pause held (not a paused queue):
    right after the resume, what the first dispatcher tick sends."""
    in_paused_queue = Q(post__in_queue=True, channel__posting_queue__paused_at__isnull=False)
    return _due(workspace, now).exclude(in_paused_queue).values("post_id").distinct().count()


def agency_overview(*, agency_id: int, now: datetime) -> AgencyOverview:
    """Everything at risk across an agency's workspaces. Ten queries, whatever the agency's size."""
    workspaces = Workspace.objects.filter(agency_id=agency_id)
    listed = list(workspaces.select_related("paused_by").order_by("name"))
    upcoming = dict(
        _upcoming(workspaces, now)
        .filter(scheduled_at__lt=now + timedelta(days=UPCOMING_DAYS))
        .values_list("workspace_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    failed = dict(
        Delivery.objects.filter(post__workspace__in=workspaces, state=S.FAILED)
        .values_list("post__workspace_id")
        .annotate(n=Count("post_id", distinct=True))
        .order_by()
    )
    slow = dict(
        _waiting(workspaces)
        .filter(waiting_since__lt=now - APPROVAL_SLOW)
        .values_list("workspace_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    health = channel_health(workspaces=workspaces, now=now)
    quotas = sorted((h for h in health if h.quota is not None), key=lambda h: -h.quota.used)  # type: ignore[union-attr]
    return AgencyOverview(
        workspaces=[
            WorkspaceSummary(
                workspace=ws,
                upcoming=upcoming.get(ws.pk, 0),
                failed=failed.get(ws.pk, 0),
                slow_approvals=slow.get(ws.pk, 0),
            )
            for ws in listed
        ],
        problems=problems(workspaces=workspaces),
        channels=[h for h in health if h.needs_attention],
        quotas=quotas,
        approvals=approvals_waiting(workspaces=workspaces, now=now, longer_than=APPROVAL_SLOW),
        paused=[ws for ws in listed if ws.paused],
    )


def setup_steps(*, workspace: Workspace, now: datetime) -> list[SetupStep]:
    """What a new workspace still has to do, in the order to do it. One query."""
    ws = OuterRef("pk")
    client_invited = (
        Exists(WorkspaceMembership.objects.filter(workspace=ws, role=WorkspaceRole.CLIENT))
        | Exists(
            Invitation.objects.filter(
                workspace=ws,
                workspace_role=WorkspaceRole.CLIENT,
                accepted_at=None,
                revoked_at=None,
                expires_at__gt=now,
            )
        )
        | Exists(ApprovalLink.objects.filter(workspace=ws, revoked_at=None, expires_at__gt=now))
    )
    done = (
        Workspace.objects.filter(pk=workspace.pk)
        .annotate(
            has_channel=Exists(Channel.objects.filter(workspace=ws).exclude(status=ChannelStatus.DISCONNECTED)),
            has_client=client_invited,
            has_post=Exists(Post.objects.filter(workspace=ws)),
            has_slots=Exists(PostingSlot.objects.filter(queue__channel__workspace=ws)),
        )
        .values("has_channel", "has_client", "has_post", "has_slots")
        .get()
    )
    return [
        SetupStep("channel", "Connect a Facebook Page or an Instagram account", done["has_channel"]),
        SetupStep("client", "Invite the client, so they can approve posts and see results", done["has_client"]),
        SetupStep("post", "Write the first post", done["has_post"]),
        SetupStep("times", "Set posting times, so new posts can be added to a queue", done["has_slots"]),
    ]


def workspace_dashboard(*, workspace: Workspace, now: datetime) -> WorkspaceDashboard:
    """What the workspace's dashboard shows. Nine queries, whatever the workspace's size."""
    workspaces = Workspace.objects.filter(pk=workspace.pk)
    return WorkspaceDashboard(
        setup=setup_steps(workspace=workspace, now=now),
        next_posts=next_posts(workspace=workspace, now=now),
        problems=problems(workspaces=workspaces, limit=5),
        approvals=approvals_waiting(workspaces=workspaces, now=now, limit=5),
        channels=channel_health(workspaces=workspaces, now=now),
    )
