"""What people (and rules) do to comments: reply, private reply, hide, delete, like, mark done, assign, tag; one at
a time or in bulk, with retry and undo.

Contract:
- `action_request` checks first and refuses with a sentence (`ActionRefused`; nothing is recorded, nothing is
  sent), then records a `CommentAction` with its actor (or rule) and time. A reply's text is stored as it will be
  sent (line breaks as `\n`, no trailing whitespace), so what is looked up on Meta later compares like with like.
  Local kinds (done, reopen, assign, tag, untag) change the thread at once and are done. Kinds that change
  something on Meta (`META_ACTIONS`) stay pending and `inbox.perform_action` is queued after commit; nothing on the
  comment changes until Meta confirms.
- `action_perform` (the task's half) runs one attempt at a time. It claims a pending action with one conditional
  UPDATE: the attempt count it read, and no other attempt begun within `attempt_window()` (longer than one Graph
  call can take). A run that finds an attempt still under way comes back after the window instead, so no run
  looks on Meta while another run's write may still be on its way. An attempt that looked on Meta first takes
  the action again just before writing, and stops if another run took it meanwhile.
- It records the outcome: Meta's refusal in words (`error`) with its code (`error_code`); a refused token or
  permission also flags the channel for reconnecting; a rate limit or an outage asks the task to come back after
  a countdown, a few times. An answer of `{"success": false}` is a refusal too ("Meta did not confirm this").
- It never repeats a write blindly. Every attempt after the first starts by looking on Meta: a reply lists the
  thread's replies and adopts one from the channel with the same text made since the action began; a private reply
  reads whether the comment still takes one. A reply to a mention cannot be looked up (it sits on someone else's
  media), so when its answer was lost it is refused as unconfirmed and a person decides.
- Liked, private reply sent, thread status, assignee, tags and `CommentAction` rows are written only here. What
  Meta itself reports about a comment goes through ingest, whoever learned it: our own replies
  (`comment_upsert`), hidden or shown (`comment_set_hidden`), removed with its replies (`comment_mark_removed`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Greatest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.crypto import TokenDecryptionError
from accounts.models import ChannelStatus, ConnectedVia, Platform
from accounts.roles import Capability
from socialhub.graph import GraphAuthError, GraphError, GraphPermissionError, GraphValidationError
from socialhub.graph.client import CONNECT_TIMEOUT

from ..models import (
    META_ACTIONS,
    ActionKind,
    ActionState,
    Comment,
    CommentAction,
    CommentKind,
    CommentStatus,
)
from .ingest import CommentData, comment_mark_removed, comment_set_hidden, comment_upsert, parse_time

if TYPE_CHECKING:
    from accounts.models import Channel, User, Workspace
    from socialhub.graph import GraphClient

    from ..models import Rule

logger = logging.getLogger(__name__)

K = ActionKind
ACTION_TASK = "inbox.perform_action"
# The task comes back this many times after a rate limit or an outage before the action is refused.
ACTION_MAX_RETRIES = 4
PRIVATE_REPLY_WINDOW = timedelta(days=7)  # Messenger "Private Replies": one message, within 7 days of the comment
REPLY_MAX_CHARS = {Platform.INSTAGRAM: 2200, Platform.FACEBOOK_PAGE: 8000}
PRIVATE_REPLY_MAX_CHARS = 2000  # a Messenger text message
TAG_MAX_CHARS = 50
BULK_KINDS = (K.DONE, K.REOPEN, K.HIDE, K.ASSIGN)
BULK_MAX = 200
# Meta stamps comments to the second and its clock is not ours: a reply found after a lost answer counts as made
# by this action when it is at most this much older than the action.
CLOCK_SLACK = timedelta(minutes=2)
# How much longer than one Graph call may take an attempt holds its action (see `attempt_window`).
ATTEMPT_MARGIN = timedelta(seconds=15)
# Kinds that would contradict each other while one is still on its way to Meta.
FAMILIES = ({K.HIDE, K.UNHIDE}, {K.LIKE, K.UNLIKE}, {K.PRIVATE_REPLY}, {K.DELETE})
UNDO_KIND = {
    K.HIDE: K.UNHIDE,
    K.UNHIDE: K.HIDE,
    K.LIKE: K.UNLIKE,
    K.UNLIKE: K.LIKE,
    K.DONE: K.REOPEN,
    K.REOPEN: K.DONE,
    K.TAG: K.UNTAG,
    K.UNTAG: K.TAG,
    K.ASSIGN: K.ASSIGN,
}
NOT_UNDOABLE = {
    K.REPLY: "A reply that was sent cannot be taken back from here; delete it instead.",
    K.PRIVATE_REPLY: "A private reply that was sent cannot be taken back.",
    K.DELETE: "A deleted comment cannot be brought back.",
}
STALE = (
    "SocialHub could not confirm this with Meta after several tries. Check the comment on Facebook or Instagram, "
    "then try again."
)
QUEUE_DOWN = "The task queue was not reachable, so nothing was sent to Meta. Try again in a moment."
KEYS_UNREADABLE = (
    "SocialHub cannot read its saved access to {channel} (the server's encryption key was changed or removed), so "
    "nothing was sent. Ask your operator to put the key back, then try again."
)
# Messenger's refusals of a private reply (Private Replies guide; codes as Meta answers them), in words.
PRIVATE_REPLY_REFUSALS = {
    10900: "Facebook allows one private reply per comment, and this comment already has one.",
    10901: "Facebook takes private replies only within 7 days of the comment; this one is older.",
    10903: "Facebook does not let the Page reply privately to this comment.",
}
IG_PRIVATE_REPLY = "Instagram private replies need messaging access SocialHub does not ask for."
NOT_CONFIRMED = "Meta did not confirm this; nothing changed."


class ActionRefused(ValidationError):
    """Said to the person; nothing was sent."""


class Performed(str):
    """What `action_perform` did: "done", "failed", "skipped", or "retry" (come back after `countdown` seconds)."""

    countdown: float

    def __new__(cls, value: str, countdown: float = 0.0) -> Performed:
        made = super().__new__(cls, value)
        made.countdown = countdown
        return made


class _Unconfirmed(Exception):
    """Meta may have done it; SocialHub cannot tell, so it does not try again on its own."""


class _HoldLost(Exception):
    """Another run took the action while this attempt was looking on Meta: this one stops without writing."""


class GraphNotConfirmed(GraphValidationError):
    """Meta answered a write with `{"success": false}` (or without saying it succeeded): the action is refused in
    words, like any other refusal, and the comment shows no change."""

    default_title = "Meta did not confirm the change"


def attempt_window() -> timedelta:
    """How long an attempt holds its action: longer than one Graph call can take (the connection timeout plus the
    client's read timeout, `GRAPH_TIMEOUT_READ`), so a write still on its way has ended before another run may look
    on Meta to see whether it happened."""
    return timedelta(seconds=CONNECT_TIMEOUT + settings.GRAPH_TIMEOUT_READ) + ATTEMPT_MARGIN


def _platform(channel: Channel) -> str:
    return "Instagram" if channel.platform == Platform.INSTAGRAM else "Facebook"


def _on_someone_elses_media(comment: Comment) -> bool:
    return comment.kind == CommentKind.MENTION or comment.inbox_post.is_mention


def _days(delta: timedelta) -> str:
    days = delta.days
    return "1 day" if days == 1 else f"{days} days"


# --- may it be done? ------------------------------------------------------------------------------------------
def private_reply_possible(comment: Comment) -> tuple[bool, str]:
    """(possible, why not in words). Meta takes one private reply per comment, within 7 days of it, from a Page
    whose connection may send messages (`pages_messaging`)."""
    channel = comment.channel
    if channel.platform != Platform.FACEBOOK_PAGE:
        return False, IG_PRIVATE_REPLY
    if comment.from_us:
        return False, "This comment was written by the Page itself."
    if comment.deleted_at:
        return False, f"This comment was removed on {_platform(channel)}."
    if comment.private_reply_at:
        return False, "A private reply was already sent for this comment; Facebook allows one."
    if comment.actions.filter(kind=K.PRIVATE_REPLY, state=ActionState.PENDING).exists():
        return False, "A private reply to this comment is being sent."
    age = timezone.now() - comment.created_at
    if age > PRIVATE_REPLY_WINDOW:
        return False, (f"A private reply can be sent only within 7 days of the comment; this one is {_days(age)} old.")
    if "pages_messaging" not in (channel.granted_scopes or []):
        return False, (
            f"Private replies need permission to send Messenger messages for {channel.display_name} "
            "(pages_messaging). Reconnect it and allow that permission."
        )
    return True, ""


def _pending(comment: Comment) -> list[CommentAction]:
    return list(comment.actions.filter(state=ActionState.PENDING))


def _meta_refusal(comment: Comment, kind: str, text: str) -> str | None:
    channel, thread = comment.channel, comment.thread
    if channel.status == ChannelStatus.DISCONNECTED:
        return f"{channel.display_name} is disconnected. Connect it again to act on its comments."
    if comment.deleted_at:
        return f"This comment was removed on {_platform(channel)}."
    pending = _pending(comment)
    if any(a.kind == K.DELETE for a in pending):
        return "This comment is being deleted."
    family = next((f for f in FAMILIES if kind in f), None)
    if family and any(a.kind in family for a in pending):
        return "SocialHub is still sending the last change to this comment to Meta. Wait a moment."
    if kind == K.REPLY:
        if thread.deleted_at:
            return f"This conversation was removed on {_platform(channel)}."
        if not text.strip():
            return "Write a reply first."
        limit = REPLY_MAX_CHARS.get(channel.platform, 2200)
        if len(text) > limit:
            return f"{_platform(channel)} replies can be at most {limit:,} characters; this one has {len(text):,}."
        if channel.platform == Platform.INSTAGRAM and thread.hidden:
            return "Instagram does not take replies to a hidden comment. Unhide it first."
        if _on_someone_elses_media(comment) and channel.connected_via == ConnectedVia.INSTAGRAM_LOGIN:
            return (
                "Instagram lets apps answer mentions only for accounts connected through Facebook. Reply in the "
                "Instagram app, or connect this account with Facebook."
            )
        if any(a.kind == K.REPLY and a.text == text for a in _pending(thread)):
            return "This reply is being sent already."
    elif kind == K.PRIVATE_REPLY:
        possible, why = private_reply_possible(comment)
        if not possible:
            return why
        if not text.strip():
            return "Write the private reply first."
        if len(text) > PRIVATE_REPLY_MAX_CHARS:
            return f"A private reply can be at most {PRIVATE_REPLY_MAX_CHARS:,} characters; this one has {len(text):,}."
    elif kind in (K.HIDE, K.UNHIDE):
        if comment.from_us:
            return "Your own comments are always shown; they cannot be hidden."
        if _on_someone_elses_media(comment):
            return "This comment is on someone else's post; only its owner can hide it."
        if kind == K.HIDE and comment.hidden:
            return "This comment is hidden already."
        if kind == K.UNHIDE and not comment.hidden:
            return "This comment is not hidden."
    elif kind == K.DELETE:
        if _on_someone_elses_media(comment):
            return "This comment is on someone else's post; only its owner can delete it."
    elif kind in (K.LIKE, K.UNLIKE):
        if channel.platform == Platform.INSTAGRAM:
            return "Instagram does not let apps like comments."
        if kind == K.LIKE and comment.liked_at:
            return "The Page likes this comment already."
        if kind == K.UNLIKE and not comment.liked_at:
            return "The Page does not like this comment."
    return None


def _local_refusal(comment: Comment, kind: str, text: str, assignee: User | None) -> str | None:
    thread = comment.thread
    if kind == K.DONE and thread.status == CommentStatus.DONE:
        return "This conversation is marked done already."
    if kind == K.REOPEN and thread.status != CommentStatus.DONE:
        return "This conversation is open already."
    if kind == K.ASSIGN:
        if assignee is None:
            return "Nobody is assigned to this conversation." if thread.assignee_id is None else None
        if assignee.pk == thread.assignee_id:
            return f"This conversation is assigned to {_name(assignee)} already."
        if assignee.pk not in {u.pk for u in assignable_people(comment.workspace)}:
            return f"{_name(assignee)} cannot moderate this workspace's inbox, so it cannot be assigned to them."
    if kind in (K.TAG, K.UNTAG):
        tag = text.strip()
        if not tag:
            return "Name the tag first."
        if len(tag) > TAG_MAX_CHARS:
            return f"A tag can be at most {TAG_MAX_CHARS} characters."
        if kind == K.TAG and tag in (thread.tags or []):
            return f"This conversation is tagged “{tag}” already."
        if kind == K.UNTAG and tag not in (thread.tags or []):
            return f"This conversation is not tagged “{tag}”."
    return None


def assignable_people(workspace: Workspace) -> list[User]:
    """Who may be assigned a conversation of the workspace (by a person or a rule): the people who moderate its
    inbox."""
    from accounts.access import people_with

    return people_with(workspace, Capability.INBOX_MODERATE)


def _name(user: User | None) -> str:
    if user is None:
        return "nobody"
    return user.get_full_name() or user.email


def refusal_for(*, comment: Comment, kind: str, text: str = "", assignee: User | None = None) -> str | None:
    """Why `kind` cannot be done to the comment now, in words, or None when it can."""
    if kind not in K.values:
        return "SocialHub does not know this action."
    if kind in META_ACTIONS:
        return _meta_refusal(comment, kind, text)
    return _local_refusal(comment, kind, text, assignee)


# --- asking ---------------------------------------------------------------------------------------------------
def action_request(
    *,
    comment: Comment,
    kind: str,
    actor: User | None,
    text: str = "",
    assignee: User | None = None,
    rule: Rule | None = None,
    undo_of: CommentAction | None = None,
) -> CommentAction:
    """Check it may be done (else `ActionRefused` with the reason, and nothing is recorded), record it (a reply's
    text as `normalize_reply_text` makes it). Local kinds are applied at once; Meta's kinds stay pending and go to
    the task after commit."""
    if kind in (K.TAG, K.UNTAG):
        text = text.strip()
    elif kind in (K.REPLY, K.PRIVATE_REPLY):
        text = normalize_reply_text(text)
    with transaction.atomic():
        # The thread's row is the lock for everything done to the conversation (two clicks, two people).
        thread_pk = comment.parent_id or comment.pk
        list(Comment.objects.select_for_update().filter(pk=thread_pk))
        comment = _fresh(comment)
        refusal = refusal_for(comment=comment, kind=kind, text=text, assignee=assignee)
        if refusal:
            raise ActionRefused(refusal, code=kind)
        try:
            with transaction.atomic():
                action = CommentAction.objects.create(
                    workspace_id=comment.workspace_id,
                    comment=comment,
                    kind=kind,
                    actor=actor,
                    rule=rule,
                    undo_of=undo_of,
                    text=text,
                    assignee=assignee,
                )
        except IntegrityError:  # another undo of the same action won
            raise ActionRefused("This was undone already.", code="undone") from None
        if kind in META_ACTIONS:
            transaction.on_commit(lambda: _queue(action.pk))
        else:
            _apply_local(action, comment)
            action.refresh_from_db()
    return action


def normalize_reply_text(text: str) -> str:
    """A reply as it is stored and sent: line breaks as `\n` (browsers submit `\r\n`), no trailing whitespace. What
    Meta lists is normalised the same way before the lookup after a lost answer compares the two."""
    return text.replace("\r\n", "\n").replace("\r", "\n").rstrip()


def _fresh(comment: Comment) -> Comment:
    return Comment.objects.select_related("channel", "inbox_post", "parent", "workspace").get(pk=comment.pk)


def _queue(action_id: int, *, countdown: float | None = None) -> None:
    """Hand the action to the broker. If it cannot take it, the action is refused with that reason (nothing went
    to Meta), so the person sees it and can try again, instead of a card that says "sending" for ever."""
    try:
        if countdown is None:
            current_app.send_task(ACTION_TASK, args=[action_id])
        else:
            current_app.send_task(ACTION_TASK, args=[action_id], countdown=countdown)
    except Exception:
        logger.exception("could not queue inbox action %s", action_id)
        _finish(action_id, ActionState.FAILED, error=QUEUE_DOWN, error_code="queue")


def actions_sweep_stale(*, now: datetime | None = None) -> int:
    """Queue again every action still pending long after its last attempt began (or, never tried, after it was
    asked for): its task was lost with a worker or the broker. Safe because every attempt after the first looks
    on Meta before writing. One tried many more times than the task allows is refused in words instead, so no
    card says "sending" for ever.

    Queueing stamps `attempt_started_at` (in the same conditional UPDATE that finds it still stale), so the next
    sweep leaves it to the task just queued. That stamp holds the action like an attempt would, for
    `attempt_window()`; the task is queued to run once the hold has run out, so it claims the action at once."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.INBOX_ACTION_STALE_SECONDS)
    is_stale = Q(attempt_started_at__lt=cutoff) | Q(attempt_started_at__isnull=True, created_at__lt=cutoff)
    stale = CommentAction.objects.filter(state=ActionState.PENDING, kind__in=META_ACTIONS).filter(is_stale)
    hold = attempt_window().total_seconds()
    queued = 0
    for action_id, attempts in stale.values_list("pk", "attempts")[:500]:
        if attempts > ACTION_MAX_RETRIES + 2:
            _finish(action_id, ActionState.FAILED, error=STALE, error_code="unconfirmed")
            continue
        # Two sweeps at once: only the one whose UPDATE still finds it stale queues it.
        if not CommentAction.objects.filter(is_stale, pk=action_id, state=ActionState.PENDING).update(
            attempt_started_at=now
        ):
            continue
        logger.info("inbox action %s was pending with no task; queued again", action_id)
        _queue(action_id, countdown=hold + 1)  # a second more, so that it never finds the hold just ending
        queued += 1
    return queued


def action_retry(*, action: CommentAction, actor: User | None) -> CommentAction:
    """A refused action, again (a person asks). Checked again first: what changed since may refuse it now.

    Its last attempt is over (only an attempt, or the sweep long after one, refuses an action), so nothing may hold
    it: `attempt_started_at` is set back by `attempt_window()`, which lets the task queued now claim it at once
    while the sweep still counts from now."""
    if action.state != ActionState.FAILED:
        raise ActionRefused("Only a refused action can be tried again.", code="not_failed")
    if action.kind not in META_ACTIONS:
        raise ActionRefused("This action needs no retry.", code="local")
    comment = _fresh(action.comment)
    refusal = refusal_for(comment=comment, kind=action.kind, text=action.text, assignee=action.assignee)
    if refusal:
        raise ActionRefused(refusal, code=action.kind)
    with transaction.atomic():
        moved = CommentAction.objects.filter(pk=action.pk, state=ActionState.FAILED).update(
            state=ActionState.PENDING,
            error="",
            error_code="",
            finished_at=None,
            attempt_started_at=timezone.now() - attempt_window(),
        )
        if not moved:
            raise ActionRefused("This is being tried again already.", code="not_failed")
        transaction.on_commit(lambda: _queue(action.pk))
    action.refresh_from_db()
    return action


def action_undo(*, action: CommentAction, actor: User | None) -> CommentAction:
    """hide→unhide, unhide→hide, like→unlike, done→reopen, tag→untag, assign→the assignee before it. A reply, a
    private reply and a deletion cannot be undone."""
    if action.kind in NOT_UNDOABLE:
        raise ActionRefused(NOT_UNDOABLE[action.kind], code="not_undoable")
    if action.state == ActionState.PENDING:
        raise ActionRefused("This is still being sent to Meta; undo it once it is done.", code="pending")
    if action.state == ActionState.FAILED:
        raise ActionRefused("This was not done, so there is nothing to undo.", code="failed")
    if CommentAction.objects.filter(undo_of=action).exists():
        raise ActionRefused("This was undone already.", code="undone")
    kind = UNDO_KIND[K(action.kind)]
    assignee = action.assignee
    if action.kind == K.ASSIGN:
        thread = Comment.objects.get(pk=action.comment.parent_id or action.comment_id)
        if thread.assignee_id != action.assignee_id:
            raise ActionRefused("The conversation was assigned again since; assign it yourself.", code="changed")
        assignee = _assignee_before(action)
    return action_request(
        comment=action.comment, kind=kind, actor=actor, text=action.text, assignee=assignee, undo_of=action
    )


def _assignee_before(action: CommentAction) -> User | None:
    thread = action.comment.thread
    earlier = (
        CommentAction.objects.filter(Q(comment=thread) | Q(comment__parent=thread))
        .filter(kind=K.ASSIGN, state=ActionState.DONE, pk__lt=action.pk)
        .select_related("assignee")
        .order_by("-pk")
        .first()
    )
    return earlier.assignee if earlier else None


def bulk_request(
    *, comments: list[Comment], kind: str, actor: User | None, assignee: User | None = None
) -> list[CommentAction]:
    """One action per comment (done, reopen, hide or assign). Refused ones are returned too, unsaved (no `pk`),
    with state "failed" and the reason in `error`, so the caller can report them; the others go ahead."""
    if kind not in BULK_KINDS:
        names = ", ".join(f"“{K(k).label}”" for k in BULK_KINDS)  # as the buttons say them
        raise ActionRefused(f"Only these can be done to many comments at once: {names}.", code="bulk")
    if len(comments) > BULK_MAX:
        raise ActionRefused(f"Choose at most {BULK_MAX} comments at a time.", code="bulk")
    results: list[CommentAction] = []
    for comment in comments:
        try:
            results.append(action_request(comment=comment, kind=kind, actor=actor, assignee=assignee))
        except ActionRefused as exc:
            results.append(
                CommentAction(
                    workspace_id=comment.workspace_id,
                    comment=comment,
                    kind=kind,
                    actor=actor,
                    assignee=assignee,
                    state=ActionState.FAILED,
                    error=exc.messages[0],
                )
            )
    return results


# --- local kinds: applied at once -----------------------------------------------------------------------------
def _apply_local(action: CommentAction, comment: Comment) -> None:
    thread = comment.thread
    now = timezone.now()
    rows = Comment.objects.filter(pk=thread.pk)
    if action.kind == K.DONE:
        rows.update(status=CommentStatus.DONE, updated_at=now)
    elif action.kind == K.REOPEN:
        rows.update(status=CommentStatus.NEW, updated_at=now)
    elif action.kind == K.ASSIGN:
        rows.update(assignee=action.assignee, updated_at=now)
    elif action.kind in (K.TAG, K.UNTAG):
        tags = [t for t in (thread.tags or []) if t != action.text]
        if action.kind == K.TAG:
            tags.append(action.text)
        rows.update(tags=tags, updated_at=now)
    _finish(action.pk, ActionState.DONE)
    if action.kind == K.ASSIGN and action.assignee is not None:
        transaction.on_commit(lambda: _tell_assignee(action, thread))


def _tell_assignee(action: CommentAction, thread: Comment) -> None:
    from notifications.models import Kind
    from notifications.services import notify

    workspace = thread.workspace
    if action.actor is not None:
        who = _name(action.actor)
    elif action.rule is not None:
        who = f"The rule “{action.rule.name}”"
    else:
        who = "SocialHub"
    try:
        url = reverse("inbox:thread", kwargs={"workspace_id": workspace.public_id, "comment_id": thread.public_id})
    except NoReverseMatch:
        url = ""
    try:
        notify(
            kind=Kind.COMMENT_ASSIGNED,
            users=[action.assignee],
            workspace=workspace,
            title=f"{who} assigned you a comment by {thread.author_name or 'someone'}",
            body=thread.text[:200],
            url=url,
            key=f"inbox-assign:{action.pk}",
            exclude=action.actor,
        )
    except Exception:
        logger.exception("could not tell the assignee of inbox action %s", action.pk)


# --- Meta's kinds: the task's half ----------------------------------------------------------------------------
def action_perform(action_id: int, *, attempt: int | None = None, last_try: bool = True) -> Performed:
    """Send one pending action to Meta and record what Meta said. Safe to run twice: one attempt at a time holds
    the action (see the module's contract); a run that finds an attempt begun less than `attempt_window()` ago
    ends in "retry" with that window as its countdown, and a finished action is "skipped". `last_try` False lets
    a rate limit or an outage end in "retry" too (the task comes back after `countdown`); otherwise the action is
    refused with Meta's reason."""
    action = CommentAction.objects.filter(pk=action_id).first()
    if action is None or action.state != ActionState.PENDING or action.kind not in META_ACTIONS:
        return Performed("skipped")
    now = timezone.now()
    window = attempt_window()
    claimed = (
        CommentAction.objects.filter(pk=action.pk, state=ActionState.PENDING, attempts=action.attempts)
        .filter(Q(attempt_started_at__isnull=True) | Q(attempt_started_at__lte=now - window))
        .update(attempts=F("attempts") + 1, attempt_started_at=now)
    )
    if not claimed:
        if CommentAction.objects.filter(pk=action.pk, state=ActionState.PENDING).exists():
            return Performed("retry", countdown=window.total_seconds())  # another attempt is under way
        return Performed("skipped")
    looked_before = action.attempts > 0  # an earlier attempt may have reached Meta
    action.attempts += 1
    action.attempt_started_at = now
    comment = _fresh(action.comment)
    error: Exception | None = None
    result_id = ""
    try:
        result_id = _send(action, comment, look_first=looked_before)
    except _HoldLost:
        logger.info("inbox action %s: another run took it while this one was looking on Meta", action.pk)
        return Performed("skipped")
    except (GraphError, ValidationError, TokenDecryptionError, _Unconfirmed) as exc:
        error = exc
    if error is None:
        _confirm(action, comment, result_id)
        return Performed("done")
    return _after_error(
        action, comment, error, attempt=action.attempts - 1 if attempt is None else attempt, last_try=last_try
    )


def _after_error(
    action: CommentAction, comment: Comment, error: Exception, *, attempt: int, last_try: bool
) -> Performed:
    channel = comment.channel
    if isinstance(error, _Unconfirmed):
        _finish(action.pk, ActionState.FAILED, error=str(error), error_code="unconfirmed")
        return Performed("failed")
    if isinstance(error, TokenDecryptionError):
        _finish(
            action.pk, ActionState.FAILED, error=KEYS_UNREADABLE.format(channel=channel.display_name), error_code="keys"
        )
        return Performed("failed")
    if isinstance(error, ValidationError):
        _finish(action.pk, ActionState.FAILED, error=" ".join(error.messages), error_code="disconnected")
        return Performed("failed")
    assert isinstance(error, GraphError)
    logger.info("inbox action %s (%s) refused: %s", action.pk, action.kind, error.operator_details())
    if isinstance(error, GraphAuthError | GraphPermissionError):
        from accounts.services.channels import channel_record_error

        channel_record_error(channel=channel, error=error)
    elif error.retryable and not last_try:
        if error.outcome_unknown and action.kind == K.REPLY and _is_mention_reply(comment):
            _finish(action.pk, ActionState.FAILED, error=_unconfirmed_mention_text(), error_code="unconfirmed")
            return Performed("failed")
        # Never back before this attempt's hold runs out: the next run would only find it held and wait again.
        held_since = action.attempt_started_at or timezone.now()
        held = (held_since + attempt_window() - timezone.now()).total_seconds()
        return Performed("retry", countdown=max(error.retry_delay(attempt), held))
    _finish(action.pk, ActionState.FAILED, error=_error_text(error), error_code=_error_code(error))
    return Performed("failed")


def _error_text(error: GraphError) -> str:
    text = PRIVATE_REPLY_REFUSALS.get(error.code or 0, error.message)
    if error.meta_message and error.meta_message not in text:
        text += f" (Meta: “{error.meta_message}”)"
    if error.fbtrace_id:
        text += f" (Meta trace {error.fbtrace_id})"
    return text


def _error_code(error: GraphError) -> str:
    if isinstance(error, GraphNotConfirmed):
        return "not_confirmed"
    if error.code is None:
        return type(error).__name__
    return f"{error.code}/{error.subcode}" if error.subcode else str(error.code)


def _unconfirmed_mention_text() -> str:
    return (
        "Instagram did not answer, so the reply may or may not have been posted. Look at the post on Instagram; "
        "if the reply is not there, try again."
    )


def _is_mention_reply(comment: Comment) -> bool:
    return comment.thread.kind == CommentKind.MENTION


def _client(comment: Comment) -> GraphClient:
    from accounts.services.channels import channel_client

    return channel_client(comment.channel)


def _send(action: CommentAction, comment: Comment, *, look_first: bool) -> str:
    """The Graph call for the action; returns what Meta made (the reply's or message's id), or "". Raises the
    typed error when Meta refuses, `_HoldLost` when another run took the action while this one looked on Meta."""
    client = _client(comment)
    channel = comment.channel
    kind = action.kind
    if kind == K.REPLY:
        return _send_reply(client, action, comment, look_first=look_first)
    if kind == K.PRIVATE_REPLY:
        if look_first:
            sent = _private_reply_already_sent(client, comment)
            if sent is not None:
                return sent
            _renew_hold(action)
        answer = client.post(
            f"{channel.external_id}/messages",
            data={"recipient": {"comment_id": comment.external_id}, "message": {"text": action.text}},
        )
        return str(answer.get("message_id") or "")
    if kind in (K.HIDE, K.UNHIDE):
        flag = "hide" if channel.platform == Platform.INSTAGRAM else "is_hidden"
        _require_success(client.post(comment.external_id, data={flag: kind == K.HIDE}))
        return ""
    if kind == K.DELETE:
        _delete(client, comment)
        return ""
    if kind == K.LIKE:
        _require_success(client.post(f"{comment.external_id}/likes"))
        return ""
    if kind == K.UNLIKE:
        _require_success(client.delete(f"{comment.external_id}/likes"))
        return ""
    raise ValueError(f"not a Meta action: {kind}")


def _require_success(answer: dict[str, Any]) -> None:
    """Meta answers hide, unhide, like, unlike and delete with `{"success": true}`, and `false` when it did not
    make the change. An answer that does not say so is treated the same: nothing is shown as done that Meta did not
    confirm."""
    if answer.get("success") is not True:
        raise GraphNotConfirmed(NOT_CONFIRMED, http_status=200, raw=answer)


def _renew_hold(action: CommentAction) -> None:
    """Just before writing, after looking on Meta (which may take several calls): this attempt still holds the
    action, and its hold starts again so that it outlasts the write."""
    now = timezone.now()
    renewed = CommentAction.objects.filter(pk=action.pk, state=ActionState.PENDING, attempts=action.attempts).update(
        attempt_started_at=now
    )
    if not renewed:
        raise _HoldLost
    action.attempt_started_at = now


def _send_reply(client: GraphClient, action: CommentAction, comment: Comment, *, look_first: bool) -> str:
    thread = comment.thread
    channel = comment.channel
    if thread.kind == CommentKind.MENTION:
        # A reply on someone else's media where the account was mentioned (in a comment or in the caption).
        data = {"media_id": thread.inbox_post.external_id, "message": action.text}
        if thread.external_id != thread.inbox_post.external_id:
            data["comment_id"] = thread.external_id
        answer = client.post(f"{channel.external_id}/mentions", data=data)
        return str(answer["id"])
    if look_first:
        found = _find_sent_reply(client, action, thread)
        if found:
            return found
        _renew_hold(action)
    if channel.platform == Platform.INSTAGRAM:
        answer = client.post(f"{thread.external_id}/replies", data={"message": action.text})
    else:
        answer = client.post(f"{thread.external_id}/comments", data={"message": action.text})
    return str(answer["id"])


def _find_sent_reply(client: GraphClient, action: CommentAction, thread: Comment) -> str:
    """A reply from the channel in the thread on Meta, with the action's text, made since the action began and not
    already claimed by another action: what an attempt whose answer was lost made. "" when there is none."""
    channel = thread.channel
    if channel.platform == Platform.INSTAGRAM:
        items = client.paginate(f"{thread.external_id}/replies", fields="id,text,timestamp,from,username", max_pages=5)
    else:
        items = client.paginate(
            f"{thread.external_id}/comments",
            params={"filter": "stream", "order": "reverse_chronological"},
            fields="id,message,created_time,from",
            max_pages=5,
        )
    since = action.created_at - CLOCK_SLACK
    wanted = normalize_reply_text(action.text)
    candidates: list[str] = []
    for item in items:
        author = item.get("from") or {}
        ours = str(author.get("id") or "") == channel.external_id or (
            bool(channel.username) and (author.get("username") or item.get("username")) == channel.username
        )
        text = item.get("text") if "text" in item else item.get("message")
        made = parse_time(item.get("timestamp") or item.get("created_time"))
        if ours and normalize_reply_text(text or "") == wanted and made and made >= since:
            candidates.append(str(item["id"]))
    if not candidates:
        return ""
    taken = set(
        CommentAction.objects.filter(comment__channel=channel, kind=K.REPLY, result_id__in=candidates)
        .exclude(pk=action.pk)
        .values_list("result_id", flat=True)
    )
    for reply_id in candidates:
        if reply_id not in taken:
            logger.info(
                "inbox action %s: adopting reply %s made by an attempt whose answer was lost", action.pk, reply_id
            )
            return reply_id
    return ""


def _private_reply_already_sent(client: GraphClient, comment: Comment) -> str | None:
    """After a lost answer: the conversation id when Meta shows the private reply was sent, None when the comment
    still takes one (so sending is safe). Raises `_Unconfirmed` when Meta no longer takes one and shows nothing."""
    answer = client.get(comment.external_id, fields="id,can_reply_privately,private_reply_conversation")
    conversation = answer.get("private_reply_conversation")
    if conversation:
        return str(conversation.get("id") if isinstance(conversation, dict) else conversation)
    if answer.get("can_reply_privately") is False:
        raise _Unconfirmed(
            "Facebook did not answer, and now says this comment takes no private reply: it may have been sent. "
            "Look in the Page's inbox before sending another message."
        )
    return None


def _delete(client: GraphClient, comment: Comment) -> None:
    try:
        _require_success(client.delete(comment.external_id))
        return
    except GraphError as exc:
        if not (exc.code == 100 and exc.subcode == 33):
            raise
        refused = exc
    # 100/33 says "does not exist" but also "not allowed": gone only if it cannot be read either.
    try:
        client.get(comment.external_id, fields="id")
    except GraphError as exc:
        if exc.code == 100 and exc.subcode == 33:
            return
        raise
    raise refused


# --- recording outcomes: the only writes of moderation state ----------------------------------------------------
def _finish(action_id: int, state: str, *, error: str = "", error_code: str = "", result_id: str = "") -> bool:
    values: dict[str, Any] = {"state": state, "finished_at": timezone.now(), "error": error, "error_code": error_code}
    if result_id:
        values["result_id"] = result_id
    return CommentAction.objects.filter(pk=action_id, state=ActionState.PENDING).update(**values) == 1


@transaction.atomic
def _confirm(action: CommentAction, comment: Comment, result_id: str) -> None:
    """Meta did it: the action is done and the comment shows it."""
    if not _finish(action.pk, ActionState.DONE, result_id=result_id):
        return
    now = timezone.now()
    rows = Comment.objects.filter(pk=comment.pk)
    kind = action.kind
    if kind == K.REPLY:
        _store_reply(action, comment, result_id, now)
    elif kind == K.PRIVATE_REPLY:
        rows.filter(private_reply_at__isnull=True).update(private_reply_at=now, updated_at=now)
    elif kind in (K.HIDE, K.UNHIDE):
        comment_set_hidden(channel=comment.channel, external_id=comment.external_id, hidden=kind == K.HIDE)
    elif kind == K.DELETE:
        comment_mark_removed(channel=comment.channel, external_id=comment.external_id, at=now)
    elif kind == K.LIKE:
        rows.filter(liked_at__isnull=True).update(liked_at=now, like_count=F("like_count") + 1, updated_at=now)
    elif kind == K.UNLIKE:
        # Only while the Page's like is still recorded: once it is gone, so is the count it added.
        rows.filter(liked_at__isnull=False).update(
            liked_at=None, like_count=Greatest(F("like_count") - 1, Value(0)), updated_at=now
        )


def _store_reply(action: CommentAction, comment: Comment, reply_id: str, now: datetime) -> None:
    thread = comment.thread
    channel = comment.channel
    comment_upsert(
        channel=channel,
        data=CommentData(
            external_id=reply_id,
            media_id=thread.inbox_post.external_id,
            parent_external_id=thread.external_id,
            author_id=channel.external_id,
            author_name=channel.username or channel.name,
            text=action.text,
            created_at=now,
            kind=thread.kind,
        ),
    )  # ingest settles the thread: our reply is its newest comment, so it no longer waits for an answer
