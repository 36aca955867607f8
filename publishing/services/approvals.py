"""Approvals with the team and the client: who approves a post before it goes out and in which order, what each
of them decided, what they said about it, and the magic links through which a client reviews without an account.

The workspace's flow (`Workspace.approval_flow`) decides what submitting a post does:

- none: whoever may draft (editors too) schedules directly; the post needs no approval (`not_required`).
- internal: an editor's post waits for the team (`pending`); a post by someone who may publish is scheduled
  directly. This flow has one stage, decided by anyone who may approve posts in the workspace: a manager, or a
  member with the client role, as before the client stage existed.
- internal_client: an editor's post waits for a manager (`pending`), then for the client (`client_pending`),
  and is then approved and scheduled. A post by someone who may publish starts at the client stage. Its
  deliveries stay awaiting approval through both stages.

In the two-stage flow only people who may publish decide the internal stage. The client stage is decided only
by the workspace's members with the client role (they may approve and may not publish) or by a client holding
a magic link. Nobody acts at a stage that is not theirs (`PermissionDenied`).

Asking for changes, at either stage, needs a comment: the post becomes "changes requested" and its deliveries go
back to draft (`transitions.reopen_for_edit`). The author changes it in the composer and submits it again, which
starts again at the first stage.

Every submit, approval and request for changes is an `ApprovalDecision`: who, when, what, the comment, and the
post's version number. The author is told of each decision on their post, and the approvers of the stage a post
reaches are told it waits for them. Comments are threaded (a reply belongs to its thread's first comment); the
post's participants (its author, the people who decided on it or may decide it now, earlier commenters) are
told of each one, except whoever wrote it, and the client of none they may not read.

Who reads a comment is settled when it is written (`PostComment.shared_with_client`) and never changes after:

- the client's comments (through a magic link, or by a member with the client role) are shared with the client;
- a team comment is shared when the post waits for the client (`client_pending`) as it is written;
- a reply belongs to its thread: it is shared when the thread's first comment is, whoever writes it;
- everything else stays within the team.

The client's page, and everything a magic link reaches, shows only shared comments and the decisions the client
reads (`client_decisions`); the review page shows a member with the client role the same, and a reply by the
client, through a link or not, goes only into a shared thread. For everyone else the review page shows every
comment and marks the shared ones. A team
member writes knowing who will read it: a comment whose audience changed since their page was drawn (the post
reached or left the client's stage meanwhile) is refused (`CommentAudienceChanged`), so nothing meant for the
team alone reaches the client by accident.

A decision reads the post again under a lock and goes through only while the post is still at the stage, and in
the version, the person looked at: a post changed or decided on meanwhile is refused (`NotAwaitingApproval`)
with words that say what happened.

Magic links (`ApprovalLink`) are made by a manager for a person at the client and shown once (only a hash of
the token is stored). They are valid for 14 days unless said otherwise and stop working the moment they are
revoked. A link reaches its own workspace's posts awaiting the client, nothing else. Every use (opened,
approved, changes requested, commented) is an `ApprovalLinkUse` with the IP address and browser it came from.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.urls import reverse
from django.utils import timezone

from accounts.access import people_with
from accounts.crypto import encrypted_field_names
from accounts.models import AgencyMembership, AgencyRole, ApprovalFlow, Channel, User, Workspace, WorkspaceRole
from accounts.roles import Capability

from ..models import (
    ApprovalDecision,
    ApprovalLink,
    ApprovalLinkUse,
    Delivery,
    DeliveryState,
    MediaAsset,
    Post,
    PostComment,
    PostMedia,
    PostVersion,
)
from . import alerts, composer, posts, transitions
from . import media as media_services

if TYPE_CHECKING:
    from accounts.access import WorkspaceAccess

Stage = ApprovalDecision.Stage
Action = ApprovalDecision.Action
INTERNAL, CLIENT = Stage.INTERNAL, Stage.CLIENT
STAGE_OF_APPROVAL: dict[str, str] = {Post.Approval.PENDING: INTERNAL, Post.Approval.CLIENT_PENDING: CLIENT}
APPROVAL_OF_STAGE: dict[str, str] = {INTERNAL: Post.Approval.PENDING, CLIENT: Post.Approval.CLIENT_PENDING}

LINK_DAYS_DEFAULT = 14
LINK_DAYS_MAX = 90
COMMENT_MAX_LENGTH = 5000
LINK_USES_SHOWN = 10  # per link on the links page; the rest are counted


class LinkUse:
    """What an `ApprovalLinkUse` records."""

    OPENED = "opened"
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"
    COMMENTED = "commented"
    LABELS = {
        OPENED: "Opened the link",
        APPROVED: "Approved",
        CHANGES_REQUESTED: "Requested changes",
        COMMENTED: "Commented",
    }


class CommentRequired(ValueError):
    """A request for changes or a comment came without words."""


class CommentAudienceChanged(ValueError):
    """The comment would be read by others than the page it was written on said: the post moved on meanwhile."""


NotAwaitingApproval = posts.NotAwaitingApproval


@dataclass(frozen=True)
class Reviewer:
    """Who reads, decides or comments: a team member (their access to the workspace, and who they are) or a
    client through a magic link (with the address and browser they came from, for the link's record)."""

    access: WorkspaceAccess | None = None
    user: User | None = None
    link: ApprovalLink | None = None
    ip_address: str | None = None
    user_agent: str = ""

    @property
    def name(self) -> str:
        if self.link is not None:
            return self.link.name
        return self.user.get_full_name() if self.user is not None else "A team member"

    @property
    def is_client(self) -> bool:
        """The client: through a magic link, or a member with the client role (may approve, may not publish)."""
        if self.link is not None:
            return True
        return (
            self.access is not None
            and self.access.can(Capability.POSTS_APPROVE)
            and not self.access.can(Capability.POSTS_PUBLISH)
        )


# --- the flow ------------------------------------------------------------------------------------------------
def current_flow(workspace_id: int) -> str:
    """The workspace's flow as it is now (a page may have changed it since the workspace was read)."""
    return Workspace.objects.values_list("approval_flow", flat=True).get(pk=workspace_id)


def first_stage(*, flow: str, access: WorkspaceAccess) -> str | None:
    """The stage a post submitted by this person waits at, or None when it is scheduled directly."""
    if flow == ApprovalFlow.NONE:
        return None
    if not access.can(Capability.POSTS_PUBLISH):
        return INTERNAL
    return CLIENT if flow == ApprovalFlow.INTERNAL_CLIENT else None


SUBMIT_LABELS: dict[str | None, tuple[str, str]] = {
    None: ("Schedule", "Publish now"),
    INTERNAL: ("Send for approval", "Send for approval"),
    CLIENT: ("Send to the client", "Send to the client"),
}


def submit_labels(access: WorkspaceAccess) -> tuple[str, str]:
    """The composer's send button for this person, (to schedule, to publish now): what the workspace's flow will
    do with their post, the same way `posts.post_submit` decides it."""
    return SUBMIT_LABELS[first_stage(flow=access.workspace.approval_flow, access=access)]


def stage_of(post: Post) -> str | None:
    return STAGE_OF_APPROVAL.get(post.approval)


def stages_for(access: WorkspaceAccess, *, flow: str) -> set[str]:
    """The stages a team member decides in a workspace with this flow."""
    stages = set()
    if access.can(Capability.POSTS_PUBLISH) or (
        flow != ApprovalFlow.INTERNAL_CLIENT and access.can(Capability.POSTS_APPROVE)
    ):
        stages.add(INTERNAL)
    if access.can(Capability.POSTS_APPROVE) and not access.can(Capability.POSTS_PUBLISH):
        stages.add(CLIENT)
    return stages


def may_decide(post: Post, by: Reviewer) -> bool:
    """Whether `by` may approve the post, or ask for changes, at the stage it waits at now."""
    stage = stage_of(post)
    if stage is None:
        return False
    if by.link is not None:
        return stage == CLIENT and by.link.workspace_id == post.workspace_id and by.link.usable
    if by.access is None or by.access.workspace.pk != post.workspace_id:
        return False
    return stage in stages_for(by.access, flow=post.workspace.approval_flow)


def client_members(workspace: Workspace) -> list[User]:
    """The workspace's members with the client role who are still in its agency (its owners and admins act as
    managers whatever their workspace role, so they are not the client)."""
    agency = AgencyMembership.objects.filter(agency_id=workspace.agency_id)
    return list(
        User.objects.filter(
            is_active=True,
            workspace_memberships__workspace=workspace,
            workspace_memberships__role=WorkspaceRole.CLIENT,
            pk__in=agency.values("user_id"),
        )
        .exclude(pk__in=agency.filter(role__in=[AgencyRole.OWNER, AgencyRole.ADMIN]).values("user_id"))
        .distinct()
        .order_by("email")
    )


def approvers(workspace: Workspace, stage: str) -> list[User]:
    """Who is asked to decide a stage (a client with a magic link has no account, so is not among them)."""
    if stage == INTERNAL:
        return people_with(workspace, Capability.POSTS_PUBLISH)
    return client_members(workspace)


def latest_version(post: Post) -> int | None:
    return post.versions.order_by("-number").values_list("number", flat=True).first()


def submitter(post: Post) -> User | None:
    """Who submits when the caller did not say: whoever saved the post's latest version, else its author."""
    version = PostVersion.objects.filter(post=post).select_related("author").order_by("-number").first()
    return (version.author if version else None) or post.author


def _record(post: Post, *, stage: str, action: str, by: Reviewer, comment: str = "") -> ApprovalDecision:
    return ApprovalDecision.objects.create(
        post=post,
        stage=stage,
        action=action,
        actor=by.user,
        link=by.link,
        actor_name=by.name[:150],
        comment=comment,
        version=latest_version(post),
    )


def post_send_for_approval(*, post: Post, stage: str, user: User | None) -> ApprovalDecision:
    """Called by `posts.post_submit` once the post passed its checks: it waits at `stage`, its deliveries
    awaiting approval, and that stage's approvers are asked."""
    post.approval = APPROVAL_OF_STAGE[stage]
    post.save(update_fields=["approval"])
    transitions.submit_for_approval(post)
    decision = _record(post, stage=stage, action=Action.SUBMITTED, by=Reviewer(user=user))
    alerts.approval_requested(post, users=approvers(post.workspace, stage), decision=decision)
    return decision


# --- deciding ------------------------------------------------------------------------------------------------
MOVED_ON: dict[str, str] = {
    Post.Approval.NOT_REQUIRED: "This post is not awaiting approval any more: its author took it back to change it.",
    Post.Approval.APPROVED: "This post was approved already.",
    Post.Approval.REJECTED: "Changes were already requested on this post; it waits for its author to change it.",
}
STAGE_WORDS: dict[str, str] = {INTERNAL: "the team's approval", CLIENT: "the client's approval"}


def _locked(post: Post) -> Post:
    return Post.objects.select_for_update(of=("self",)).select_related("workspace").get(pk=post.pk)


def _link_still_usable(link: ApprovalLink) -> bool:
    """Read again at the moment of deciding: a link revoked a second ago no longer decides anything."""
    return ApprovalLink.objects.filter(pk=link.pk, revoked_at__isnull=True, expires_at__gt=timezone.now()).exists()


def _check_decision(post: Post, by: Reviewer, *, stage: str | None, version: int | None) -> str:
    """The stage `by` decides now, or why not: refused when the post moved on or changed since the page the
    person decided from (`stage` and `version` are what that page showed)."""
    current = stage_of(post)
    if current is None or not post.deliveries.filter(state=DeliveryState.AWAITING_APPROVAL).exists():
        raise NotAwaitingApproval(MOVED_ON.get(post.approval, MOVED_ON[Post.Approval.NOT_REQUIRED]))
    if by.link is not None and not _link_still_usable(by.link):
        raise PermissionDenied("This review link no longer works.")
    if stage and stage != current:
        raise NotAwaitingApproval(f"This post moved on since you opened it: it now waits for {STAGE_WORDS[current]}.")
    if not may_decide(post, by):
        if current == CLIENT:
            raise PermissionDenied("This post waits for the client's approval; only the client decides it now.")
        raise PermissionDenied("This post waits for the team's approval; only a manager decides it now.")
    if version is not None and version != (latest_version(post) or 0):
        raise NotAwaitingApproval(
            "This post was changed since you opened it. Look at the new version, then approve or ask for changes."
        )
    return current


def _check_publishable(post: Post) -> None:
    problems = {ch: [p for p in ps if p.blocking] for ch, ps in posts.post_validate(post).items()}
    problems = {ch: ps for ch, ps in problems.items() if ps}
    if problems:
        raise posts.PostInvalid(problems)


def post_approve(*, post: Post, by: Reviewer, stage: str | None = None, version: int | None = None) -> Post:
    """Approve the post at the stage it waits at. The internal stage of the two-stage flow hands it to the
    client; the last stage schedules it (or publishes it, when it has no time)."""
    with transaction.atomic():
        post = _locked(post)
        current = _check_decision(post, by, stage=stage, version=version)
        _check_publishable(post)
        to_client = current == INTERNAL and post.workspace.approval_flow == ApprovalFlow.INTERNAL_CLIENT
        post.approval = Post.Approval.CLIENT_PENDING if to_client else Post.Approval.APPROVED
        post.save(update_fields=["approval"])
        if not to_client:
            posts._schedule_deliveries(post)
        decision = _record(post, stage=current, action=Action.APPROVED, by=by)
        alerts.approval_given(post, decision=decision, final=not to_client)
        if to_client:
            alerts.approval_requested(post, users=client_members(post.workspace), decision=decision)
        if by.link is not None:
            _use(by, post=post, action=LinkUse.APPROVED)
    return post


def post_request_changes(
    *, post: Post, by: Reviewer, comment: str, stage: str | None = None, version: int | None = None
) -> Post:
    """Send the post back to its author with what should change: it becomes "changes requested" and its
    deliveries go back to draft until the author submits it again."""
    comment = (comment or "").strip()
    if not comment:
        raise CommentRequired("Say what should change, so the author knows what to do.")
    with transaction.atomic():
        post = _locked(post)
        current = _check_decision(post, by, stage=stage, version=version)
        post.approval = Post.Approval.REJECTED
        post.save(update_fields=["approval"])
        transitions.reopen_for_edit(post)
        decision = _record(post, stage=current, action=Action.CHANGES_REQUESTED, by=by, comment=comment)
        alerts.changes_requested(post, decision=decision)
        if by.link is not None:
            _use(by, post=post, action=LinkUse.CHANGES_REQUESTED)
    return post


# --- comments ------------------------------------------------------------------------------------------------
def post_comment_add(
    *, post: Post, by: Reviewer, body: str, parent: PostComment | None = None, shared: bool | None = None
) -> PostComment:
    """A comment on the post, or a reply in a comment's thread, shared with the client or not as the module's
    docstring says. Its participants are told. `shared`: whether the page it was written on said the client
    would read it; refused (`CommentAudienceChanged`) when that is no longer so."""
    body = (body or "").strip()
    if not body:
        raise CommentRequired("Write your comment first.")
    if len(body) > COMMENT_MAX_LENGTH:
        raise CommentRequired(f"A comment holds at most {COMMENT_MAX_LENGTH} characters; this one has {len(body)}.")
    if by.link is not None:
        if by.link.workspace_id != post.workspace_id or post.approval != Post.Approval.CLIENT_PENDING:
            raise PermissionDenied("This post is not waiting for you.")
        if not _link_still_usable(by.link):
            raise PermissionDenied("This review link no longer works.")
    elif by.access is None or by.access.workspace.pk != post.workspace_id:
        raise PermissionDenied("This post belongs to another workspace.")
    if parent is not None and parent.post_id != post.pk:
        raise PermissionDenied("That comment belongs to another post.")
    if parent is not None and by.is_client and not parent.shared_with_client:
        raise PermissionDenied("That conversation is within the team.")
    with transaction.atomic():
        post = _locked(post)  # as it is now: its stage says who reads the comment and who decides it
        is_shared = _shared(post, by, parent)
        if shared is not None and shared != is_shared:
            raise CommentAudienceChanged(
                "This post now waits for the client, so they would read this comment. Read it again and send it "
                "if it is meant for them."
                if is_shared
                else "This post no longer waits for the client, so only the team would read this comment. "
                "Send it again if that is what you want."
            )
        comment = PostComment.objects.create(
            post=post,
            parent_id=(parent.parent_id or parent.pk) if parent is not None else None,
            author=by.user,
            link=by.link,
            author_name=by.name[:150],
            body=body,
            shared_with_client=is_shared,
        )
        alerts.post_commented(post, comment=comment, users=participants(post, shared=is_shared))
        if by.link is not None:
            _use(by, post=post, action=LinkUse.COMMENTED)
    return comment


def comment_would_be_shared(post: Post, by: Reviewer) -> bool:
    """Whether the client would read a new comment (not a reply) by `by` on the post as given."""
    return by.is_client or post.approval == Post.Approval.CLIENT_PENDING


def _shared(post: Post, by: Reviewer, parent: PostComment | None) -> bool:
    """Whether the client reads a comment written now (the rule is in the module's docstring). A reply carries
    its thread's answer, which its first comment settled; `post` is read under the lock decisions take, so a
    comment and a decision made at the same moment see the same stage."""
    if parent is not None:
        return parent.shared_with_client
    return comment_would_be_shared(post, by)


def client_comments(post: Post) -> QuerySet[PostComment]:
    """The comments the client reads: the shared ones, in order."""
    return post.comments.filter(shared_with_client=True)


def client_decisions(post: Post) -> QuerySet[ApprovalDecision]:
    """The decisions the client reads, in order: those at the client's stage, and the client's own (in the
    one-stage flow a member with the client role decides the team's stage). The team's other decisions, and
    the changes it asked of its author, stay within the team."""
    clients = [u.pk for u in client_members(post.workspace)]
    return post.decisions.filter(Q(stage=CLIENT) | Q(actor_id__in=clients))


def participants(post: Post, *, shared: bool) -> list[User]:
    """Who follows a post's conversation: its author, whoever decided on it or may decide it now, and whoever
    commented on it, as long as they still belong to the workspace. `shared`: whether the client reads the
    comment they are told of; when not, the members with the client role are left out (the notice carries its
    words)."""
    ids = {post.author_id}
    ids |= set(post.decisions.exclude(actor=None).values_list("actor_id", flat=True))
    ids |= set(post.comments.exclude(author=None).values_list("author_id", flat=True))
    stage = stage_of(post)
    members = {u.pk: u for u in people_with(post.workspace, Capability.VIEW)}
    people = [members[pk] for pk in ids if pk in members]
    if stage is not None:
        people += approvers(post.workspace, stage)
    if not shared:
        clients = {u.pk for u in client_members(post.workspace)}
        people = [u for u in people if u.pk not in clients]
    return list({u.pk: u for u in people}.values())


def threads(comments: list[PostComment]) -> list[tuple[PostComment, list[PostComment]]]:
    """A post's comments (in order) as (first comment, its replies) pairs."""
    replies: dict[int, list[PostComment]] = {}
    for c in comments:
        if c.parent_id is not None:
            replies.setdefault(c.parent_id, []).append(c)
    return [(c, replies.get(c.pk, [])) for c in comments if c.parent_id is None]


# --- what a page shows ---------------------------------------------------------------------------------------
def awaiting(access: WorkspaceAccess) -> QuerySet[Post]:
    """The workspace's posts this team member may decide now, oldest first."""
    wanted = [APPROVAL_OF_STAGE[s] for s in stages_for(access, flow=access.workspace.approval_flow)]
    return _listed(Post.objects.filter(workspace=access.workspace, approval__in=wanted)).order_by("created_at", "id")


def authored_in_approval(access: WorkspaceAccess, user: User) -> QuerySet[Post]:
    """This person's posts waiting for approval or sent back with changes requested, newest first."""
    states = [Post.Approval.PENDING, Post.Approval.CLIENT_PENDING, Post.Approval.REJECTED]
    return _listed(Post.objects.filter(workspace=access.workspace, author=user, approval__in=states))


def _deliveries() -> Prefetch:
    return Prefetch(
        "deliveries",
        queryset=Delivery.objects.select_related("channel")
        .defer(*encrypted_field_names(Channel, prefix="channel__"))
        .order_by("channel__name"),
    )


def _listed(rows: QuerySet[Post]) -> QuerySet[Post]:
    return rows.select_related("author").prefetch_related(
        _deliveries(), Prefetch("items", queryset=PostMedia.objects.select_related("asset"))
    )


def post_previews(post: Post, *, media_url: Any, problems: bool) -> list[dict[str, Any]]:
    """The post as it will look on each of its channels, built from what is saved (`composer.previews`).
    `problems`: with what stands in its way, for the team (a client is not asked to fix anything)."""
    items = list(post.items.select_related("asset"))
    deliveries = list(
        post.deliveries.select_related("channel")
        .defer(*encrypted_field_names(Channel, prefix="channel__"))
        .order_by("channel__name")
    )
    checks = []
    for delivery in deliveries:
        delivery.post = post
        checks.append(
            composer.ChannelCheck(
                channel=delivery.channel,
                kind=delivery.kind,
                caption=delivery.caption,
                first_comment=delivery.first_comment,
                counts=[],
                problems=posts.validate_delivery(delivery, items=items) if problems else [],
            )
        )
    return composer.previews(composer.Checked(post, items, checks), media_url=media_url)


def public_media_url(asset: MediaAsset, thumb: bool) -> str:
    """A file's address for someone without an account: the signed, expiring link Meta fetches files by (as a
    path on this site), or the storage's own presigned URL. The signed link serves the file, not its preview."""
    if thumb:
        return ""
    if not media_services.is_stored_locally(asset):
        return default_storage.url(asset.file.name)
    signed = signing.dumps(str(asset.public_id), salt=media_services.SIGNED_URL_SALT, compress=True)
    return reverse("publishing:media_public", kwargs={"signed": signed, "filename": Path(asset.file.name).name})


# --- magic links ---------------------------------------------------------------------------------------------
def approval_link_create(
    *, workspace: Workspace, name: str, created_by: User | None, email: str = "", days: int = LINK_DAYS_DEFAULT
) -> tuple[ApprovalLink, str]:
    """A new link for a person at the client. Returns the link and its token: the token is not stored, so this
    is the only time it can be shown."""
    if not 1 <= days <= LINK_DAYS_MAX:
        raise ValueError(f"A link is valid for 1 to {LINK_DAYS_MAX} days.")
    token, token_hash = ApprovalLink.new_token()
    link = ApprovalLink.objects.create(
        workspace=workspace,
        name=name.strip()[:120],
        email=email.strip(),
        token_hash=token_hash,
        created_by=created_by,
        expires_at=timezone.now() + timedelta(days=days),
    )
    return link, token


def approval_link_revoke(*, link: ApprovalLink) -> bool:
    """Stop the link at once, open sessions included. False when it was revoked already."""
    return ApprovalLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()) == 1


def approval_link_open(*, token: str, ip_address: str | None, user_agent: str) -> ApprovalLink | None:
    """The link a client opened, when it still works (recorded as a use); None for an unknown, expired or
    revoked one, without saying which."""
    link = ApprovalLink.find_by_token(token)
    if link is None or not link.usable:
        return None
    _use(Reviewer(link=link, ip_address=ip_address, user_agent=user_agent), post=None, action=LinkUse.OPENED)
    return link


def approval_link_current(link_id: Any) -> ApprovalLink | None:
    """The link a client's session holds, while it still works."""
    if not isinstance(link_id, int):
        return None
    link = ApprovalLink.objects.select_related("workspace").filter(pk=link_id).first()
    return link if link is not None and link.usable else None


def client_posts(link: ApprovalLink) -> QuerySet[Post]:
    """All a link reaches: its own workspace's posts awaiting the client, oldest first."""
    rows = Post.objects.filter(workspace_id=link.workspace_id, approval=Post.Approval.CLIENT_PENDING)
    return _listed(rows.select_related("workspace")).order_by("created_at", "id")


def links_of(workspace: Workspace) -> QuerySet[ApprovalLink]:
    """The workspace's links, those that work first, newest first. Each carries its last `LINK_USES_SHOWN` uses
    (`recent_uses`, newest first) and how many there are in all (`use_count`): two queries, however many
    times the links were used (the prefetch is limited per link in SQL, by a window over each link's uses)."""
    uses = ApprovalLinkUse.objects.select_related("post").order_by("-at", "-id")[:LINK_USES_SHOWN]
    works = Q(revoked_at__isnull=True, expires_at__gt=timezone.now())
    return (
        ApprovalLink.objects.filter(workspace=workspace)
        .select_related("created_by")
        .annotate(
            use_count=Count("uses"),
            gone=Case(When(works, then=Value(0)), default=Value(1), output_field=IntegerField()),
        )
        .prefetch_related(Prefetch("uses", queryset=uses, to_attr="recent_uses"))
        .order_by("gone", "-created_at", "-id")
    )


def _ip(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def _use(by: Reviewer, *, post: Post | None, action: str) -> None:
    assert by.link is not None
    now = timezone.now()
    ApprovalLinkUse.objects.create(
        link=by.link,
        post=post,
        action=action,
        at=now,
        ip_address=_ip(by.ip_address),
        user_agent=(by.user_agent or "")[:300],
    )
    ApprovalLink.objects.filter(pk=by.link.pk).update(last_used_at=now)
