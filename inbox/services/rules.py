"""Rules: act on each new comment whose folded text matches (hide it, assign it, tag it), with a dry run before a
rule is switched on, a log of what it did, and an undo.

- Matching happens on `normalize()`d text, and a rule's words and pattern are folded the same way, so "FR33",
  "frée" and "ｆｒｅｅ" all meet the word "free", while "freedom" does not.
- "Any of these words": one word or phrase per line, matched as whole words.
- "Pattern": a small wildcard language instead of regular expressions, which a person can write by mistake in a
  form that takes a worker minutes to run: `*` is any run of characters (across words too), `?` one letter or
  digit, and the pattern starts and ends on whole words. At most 200 characters and 10 wildcards. It is matched
  chunk by chunk (the text between the `*`s, each of fixed length), leftmost first, which is exact for this
  language and costs at most length-of-comment × length-of-pattern.
- A rule acts through `actions.action_request(..., actor=None, rule=rule)`, at most once per comment, and never on
  our own or removed comments. When several rules match, each kind of action is done once: the first rule by name
  hides, assigns or tags (other tags still apply).
- A rule is switched on only from its dry run page, which names the version of the rule it showed
  (`updated_at`): that sets `dry_run_at`. Switched off and on again unchanged, it needs no new dry run
  (`dry_run_at >= updated_at`). So nobody hides a month of comments by a typo.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from accounts.crypto import encrypted_field_names
from accounts.models import Channel

from ..models import ActionKind, ActionState, Comment, CommentAction, CommentKind, Rule
from ..normalize import WILDCARD_FIRST, WILDCARD_LAST, is_wildcard, normalize
from .actions import TAG_MAX_CHARS, ActionRefused, action_request, action_undo

if TYPE_CHECKING:
    from accounts.models import User, Workspace

logger = logging.getLogger(__name__)

PATTERN_MAX_CHARS = 200
PATTERN_MAX_WILDCARDS = 10
KEYWORDS_MAX_LINES = 500
KEYWORD_MAX_CHARS = 200
DRY_RUN_DAYS = 30
DRY_RUN_CAP = 20_000  # newest comments a dry run reads; fine in Python, and a month of most accounts
DRY_RUN_CHUNK = 2_000
DRY_RUN_SHOWN = 200  # comments listed on the page; the count covers them all
UNDO_ALL_BATCH = 200  # actions undone per click of "Undo all": each is its own recorded action

ACTION_KIND = {
    Rule.Action.HIDE: ActionKind.HIDE,
    Rule.Action.ASSIGN: ActionKind.ASSIGN,
    Rule.Action.TAG: ActionKind.TAG,
}
# Fields whose change makes it a different rule: it needs a new dry run before it acts again.
BEHAVIOUR_FIELDS = ("match", "pattern", "action", "assignee", "tag")


class RuleInvalid(ValidationError):
    """Said to the person: the rule cannot be saved or switched on as it is."""


NAME_TAKEN = "A rule with this name exists in this workspace; choose another name."


# --- matching ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Keywords:
    padded: tuple[str, ...]  # each folded phrase between spaces

    def __call__(self, text: str) -> bool:
        padded_text = f" {text} "
        return any(p in padded_text for p in self.padded)


@dataclass(frozen=True)
class _Pattern:
    chunks: tuple[re.Pattern[str], ...]

    def __call__(self, text: str) -> bool:
        pos = 0
        for chunk in self.chunks:
            found = chunk.search(text, pos)
            if found is None:
                return False
            pos = found.end()
        return True


def keywords_parse(text: str) -> list[str]:
    """The folded words and phrases of a keyword list (one per line), or RuleInvalid saying which line is wrong."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise RuleInvalid("Write at least one word or phrase to look for.", code="empty")
    if len(lines) > KEYWORDS_MAX_LINES:
        raise RuleInvalid(
            f"A rule can look for at most {KEYWORDS_MAX_LINES} words or phrases; this one has {len(lines)}.",
            code="too_many",
        )
    phrases: list[str] = []
    for line in lines:
        if len(line) > KEYWORD_MAX_CHARS:
            raise RuleInvalid(
                f"A word or phrase can be at most {KEYWORD_MAX_CHARS} characters; “{line[:40]}…” has {len(line)}.",
                code="too_long",
            )
        folded = normalize(line)
        if not folded:
            raise RuleInvalid(
                f"“{line}” has no letters or digits, so it would never match anything. Remove it.", code="no_letters"
            )
        if folded not in phrases:
            phrases.append(folded)
    return phrases


def pattern_parse(text: str) -> _Pattern:
    """The matcher of a wildcard pattern, or RuleInvalid saying why it is refused."""
    raw = text.strip()
    if not raw:
        raise RuleInvalid("Write the pattern to look for, for example “free * followers”.", code="empty")
    if "\n" in raw or "\r" in raw:
        raise RuleInvalid(
            "A pattern is one line. To look for several words or phrases, choose “Any of these words”.",
            code="lines",
        )
    if len(raw) > PATTERN_MAX_CHARS:
        raise RuleInvalid(
            f"A pattern can be at most {PATTERN_MAX_CHARS} characters; this one has {len(raw)}. "
            "Shorten it, or use “Any of these words” for a list.",
            code="too_long",
        )
    wildcards = raw.count("*") + raw.count("?")
    if wildcards > PATTERN_MAX_WILDCARDS:
        raise RuleInvalid(
            f"A pattern can have at most {PATTERN_MAX_WILDCARDS} wildcards (* or ?); this one has {wildcards}. "
            "Long patterns with many wildcards make every new comment slow to check.",
            code="too_many_wildcards",
        )
    # Each wildcard becomes a distinct placeholder letter, so that the text around it folds as in a comment and
    # "??" stays two characters (three equal letters would be squeezed).
    stars: set[str] = set()
    marked: list[str] = []
    n = 0
    for ch in raw:
        if WILDCARD_FIRST <= ord(ch) <= WILDCARD_LAST:
            continue
        if ch in "*?":
            placeholder = chr(WILDCARD_FIRST + n)
            n += 1
            if ch == "*":
                stars.add(placeholder)
            marked.append(placeholder)
        else:
            marked.append(ch)
    folded = normalize("".join(marked))
    if not any(not is_wildcard(c) and not c.isspace() for c in folded):
        raise RuleInvalid(
            "A pattern needs at least one letter or digit besides the wildcards; “*” alone would match every comment.",
            code="no_letters",
        )
    pieces: list[str] = []
    current: list[str] = []
    for ch in folded:
        if ch in stars:
            pieces.append("".join(current))
            current = []
        else:
            current.append(ch)
    pieces.append("".join(current))
    chunks: list[re.Pattern[str]] = []
    last = len(pieces) - 1
    for i, piece in enumerate(pieces):
        # A space next to a `*` says "a word ends/starts here", so "buy * now" also matches "buy now".
        starts_word = i == 0 or piece.startswith(" ")
        ends_word = i == last or piece.endswith(" ")
        piece = piece.strip(" ")
        if not piece and 0 < i < last:
            continue  # nothing between two stars
        body = "".join("[^ ]" if is_wildcard(c) else re.escape(c) for c in piece)
        if starts_word:
            body = r"(?<![^ ])" + body
        if ends_word:
            body += r"(?![^ ])"
        chunks.append(re.compile(body))
    return _Pattern(tuple(chunks))


@functools.lru_cache(maxsize=512)
def _matcher(match: str, pattern: str) -> Callable[[str], bool]:
    if match == Rule.Match.PATTERN:
        return pattern_parse(pattern)
    return _Keywords(tuple(f" {p} " for p in keywords_parse(pattern)))


def rule_check(*, match: str, pattern: str) -> None:
    """Raise RuleInvalid when the words or pattern cannot make a rule."""
    _matcher(match, pattern)


def rule_matches(rule: Rule, text: str, *, normalized: bool = False) -> bool:
    """Whether the rule's words or pattern occur in `text` (folded here unless `normalized`). A rule saved before
    the limits it breaks matches nothing."""
    try:
        matcher = _matcher(rule.match, rule.pattern)
    except RuleInvalid:
        return False
    return matcher(text if normalized else normalize(text))


# --- would it act? ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _State:
    """What decides whether a rule's action would change anything: the comment's and its thread's state."""

    hidden: bool
    on_someone_elses_media: bool
    thread_tags: list[str]
    thread_assignee_id: int | None


def _would_change(rule: Rule, state: _State) -> bool:
    if rule.action == Rule.Action.HIDE:
        return not state.hidden and not state.on_someone_elses_media
    if rule.action == Rule.Action.ASSIGN:
        return rule.assignee_id is not None and state.thread_assignee_id != rule.assignee_id
    return bool(rule.tag) and rule.tag not in (state.thread_tags or [])


def _state_of(comment: Comment) -> _State:
    thread = comment.thread
    return _State(
        hidden=comment.hidden,
        on_someone_elses_media=comment.kind == CommentKind.MENTION or comment.inbox_post.is_mention,
        thread_tags=list(thread.tags or []),
        thread_assignee_id=thread.assignee_id,
    )


def _assignee_name(rule: Rule) -> str:
    if rule.assignee is None:
        return "nobody (the person it named left)"
    return rule.assignee.get_full_name() or rule.assignee.email


# What a rule does to a comment, in each form the pages need: what it does ("When a comment has “spam”, it hides
# it."), what it would do (each row of the dry run: "Hide it"), and what it would have done to many (the dry run's
# summary: "It would have hidden these 3 comments").
RULE_DOES: dict[str, tuple[str, str, str]] = {
    Rule.Action.HIDE: ("hides it", "hide it", "hidden"),
    Rule.Action.ASSIGN: ("assigns it to {who}", "assign it to {who}", "assigned"),
    Rule.Action.TAG: ("tags it “{tag}”", "tag it “{tag}”", "tagged"),
}


def rule_describe(rule: Rule, *, would: bool = False) -> str:
    """What the rule does, to end a sentence: "hides it", "assigns it to Mo", "tags it “spam”"; with `would`,
    what it would do: "hide it", "assign it to Mo", "tag it “spam”"."""
    does, would_do, _ = RULE_DOES[Rule.Action(rule.action)]
    who = _assignee_name(rule) if rule.action == Rule.Action.ASSIGN else ""
    return (would_do if would else does).format(who=who, tag=rule.tag)


# --- applying ---------------------------------------------------------------------------------------------------
def rules_apply(comment: Comment) -> list[CommentAction]:
    """Run the workspace's enabled rules on a comment (called by ingest for each new comment). Returns the actions
    recorded: hides stay pending until Meta confirms; assignments and tags are done at once."""
    if comment.from_us or comment.deleted_at is not None:
        return []
    rules = list(
        Rule.objects.filter(workspace_id=comment.workspace_id, enabled=True)
        .select_related("assignee")
        .order_by("name", "pk")
    )
    if not rules:
        return []
    text = normalize(comment.text)
    matching = [rule for rule in rules if rule_matches(rule, text, normalized=True)]
    if not matching:
        return []
    acted = set(
        CommentAction.objects.filter(comment=comment, rule__in=matching).values_list("rule_id", flat=True).distinct()
    )
    comment = _load(comment.pk)
    actions: list[CommentAction] = []
    kinds_done: set[str] = set()
    for rule in matching:
        if rule.pk in acted:
            continue
        if rule.action != Rule.Action.TAG and rule.action in kinds_done:
            continue  # one hide and one assignment per comment: the first rule by name wins
        if not _would_change(rule, _state_of(comment)):
            continue
        try:
            action = action_request(
                comment=comment,
                kind=ACTION_KIND[Rule.Action(rule.action)],
                actor=None,
                text=rule.tag if rule.action == Rule.Action.TAG else "",
                assignee=rule.assignee if rule.action == Rule.Action.ASSIGN else None,
                rule=rule,
            )
        except ActionRefused as exc:
            logger.info("rule %s left comment %s alone: %s", rule.pk, comment.pk, " ".join(exc.messages))
            continue
        actions.append(action)
        kinds_done.add(rule.action)
        comment = _load(comment.pk)  # the thread's tags or assignee may have changed
    return actions


def _load(pk: int) -> Comment:
    return Comment.objects.select_related("inbox_post", "parent", "workspace", "channel").get(pk=pk)


# --- dry run ----------------------------------------------------------------------------------------------------
@dataclass
class DryRun:
    rule: Rule
    days: int
    since: datetime
    count: int = 0  # comments it would act on
    scanned: int = 0  # comments read
    capped: bool = False  # the window held more comments than the cap; the oldest were not read
    cap: int = DRY_RUN_CAP
    oldest_scanned: datetime | None = None
    comments: list[Comment] = field(default_factory=list)  # the newest DRY_RUN_SHOWN of them, newest first

    @property
    def more(self) -> int:
        return self.count - len(self.comments)

    @property
    def summary(self) -> str:
        verb = RULE_DOES[Rule.Action(self.rule.action)][2]
        period = f"the last {self.days} days" if self.days != 1 else "the last day"
        if self.count == 0:
            return f"It would have left every comment of {period} alone."
        these = "this comment" if self.count == 1 else f"these {self.count:,} comments"
        return f"It would have {verb} {these} of {period}."


def _scan(workspace_id: int, since: datetime, cap: int) -> Iterable[tuple]:
    rows = (
        Comment.objects.filter(workspace_id=workspace_id, from_us=False, deleted_at__isnull=True, created_at__gte=since)
        .order_by("-created_at", "-id")
        .values_list(
            "pk",
            "text",
            "hidden",
            "kind",
            "inbox_post__is_mention",
            "parent_id",
            "tags",
            "assignee_id",
            "parent__tags",
            "parent__assignee_id",
            "created_at",
        )
    )
    return rows[: cap + 1].iterator(chunk_size=DRY_RUN_CHUNK)


def rule_dry_run(rule: Rule, *, days: int = DRY_RUN_DAYS, cap: int | None = None) -> DryRun:
    """The comments of the last `days` days (not ours, not removed) the rule would act on now, newest first. Reads
    at most the newest `cap` (DRY_RUN_CAP) comments of that window, in chunks; says so when there were more."""
    cap = DRY_RUN_CAP if cap is None else cap
    since = timezone.now() - timedelta(days=days)
    result = DryRun(rule=rule, days=days, since=since, cap=cap)
    try:
        matcher = _matcher(rule.match, rule.pattern)
    except RuleInvalid:
        return result
    ids: list[int] = []
    for pk, text, hidden, kind, is_mention, parent_id, tags, assignee_id, p_tags, p_assignee, created in _scan(
        rule.workspace_id, since, cap
    ):
        if result.scanned == cap:
            result.capped = True
            break
        result.scanned += 1
        result.oldest_scanned = created
        if not matcher(normalize(text)):
            continue
        state = _State(
            hidden=hidden,
            on_someone_elses_media=kind == CommentKind.MENTION or bool(is_mention),
            thread_tags=(p_tags if parent_id else tags) or [],
            thread_assignee_id=p_assignee if parent_id else assignee_id,
        )
        if _would_change(rule, state):
            result.count += 1
            if len(ids) < DRY_RUN_SHOWN:
                ids.append(pk)
    if ids:
        shown = (
            Comment.objects.filter(pk__in=ids, workspace_id=rule.workspace_id)
            .select_related("channel", "inbox_post")
            .defer(*encrypted_field_names(Channel, prefix="channel__"))
            .order_by("-created_at", "-id")
        )
        result.comments = list(shown)
    return result


# --- writing ----------------------------------------------------------------------------------------------------
def _clean(*, match: str, pattern: str, action: str, assignee: User | None, tag: str) -> dict:
    if match not in Rule.Match.values:
        raise RuleInvalid("Choose what the rule looks for.", code="match")
    if action not in Rule.Action.values:
        raise RuleInvalid("Choose what the rule does.", code="action")
    if match == Rule.Match.KEYWORDS:
        pattern = "\n".join(line.strip() for line in pattern.strip().splitlines() if line.strip())
    else:
        pattern = pattern.strip()
    rule_check(match=match, pattern=pattern)
    tag = " ".join(tag.split())
    if action == Rule.Action.ASSIGN and assignee is None:
        raise RuleInvalid("Choose who the comments are assigned to.", code="assignee")
    if action == Rule.Action.TAG:
        if not tag:
            raise RuleInvalid("Name the tag, for example “spam” or “question”.", code="tag")
        if len(tag) > TAG_MAX_CHARS:
            raise RuleInvalid(f"A tag can be at most {TAG_MAX_CHARS} characters; this one has {len(tag)}.", code="tag")
    return {
        "match": match,
        "pattern": pattern,
        "action": action,
        "assignee": assignee if action == Rule.Action.ASSIGN else None,
        "tag": tag if action == Rule.Action.TAG else "",
    }


def rule_create(
    *,
    workspace: Workspace,
    by: User | None,
    name: str,
    match: str,
    pattern: str,
    action: str,
    assignee: User | None = None,
    tag: str = "",
) -> Rule:
    """A new rule, switched off until its dry run was looked at."""
    values = _clean(match=match, pattern=pattern, action=action, assignee=assignee, tag=tag)
    now = timezone.now()
    try:
        with transaction.atomic():
            return Rule.objects.create(
                workspace=workspace,
                name=name.strip(),
                created_by=by,
                created_at=now,
                updated_at=now,
                enabled=False,
                **values,
            )
    except IntegrityError:  # someone saved a rule of that name since the form checked
        raise RuleInvalid(NAME_TAKEN, code="name_taken") from None


def rule_update(
    *,
    rule: Rule,
    name: str,
    match: str,
    pattern: str,
    action: str,
    assignee: User | None = None,
    tag: str = "",
) -> bool:
    """Save the rule. When what it matches or does changed, it needs a new dry run, and a rule that was on is
    switched off until then: returns True in that case."""
    values = _clean(match=match, pattern=pattern, action=action, assignee=assignee, tag=tag)
    changed = any(
        (getattr(rule, f"{f}_id") if f == "assignee" else getattr(rule, f))
        != (values[f].pk if f == "assignee" and values[f] is not None else values[f])
        for f in BEHAVIOUR_FIELDS
    )
    switched_off = changed and rule.enabled
    rule.name = name.strip()
    for key, value in values.items():
        setattr(rule, key, value)
    update_fields = ["name", *BEHAVIOUR_FIELDS]
    if changed:
        rule.updated_at = timezone.now()
        rule.enabled = False
        update_fields += ["updated_at", "enabled"]
    try:
        with transaction.atomic():
            rule.save(update_fields=update_fields)
    except IntegrityError:  # someone saved a rule of that name since the form checked
        rule.refresh_from_db()
        raise RuleInvalid(NAME_TAKEN, code="name_taken") from None
    return switched_off


DRY_RUN_FIRST = (
    "Look at its dry run first and switch it on from there: it shows which comments of the last 30 days the rule "
    "would act on, so a word that catches too much is found before it hides real comments."
)
DRY_RUN_AGAIN = (
    "The rule changed since its dry run was looked at. Look at the dry run again and switch it on from there: it "
    "shows what the rule does now."
)


def rule_enable(*, rule: Rule, dry_run_of: datetime | None = None) -> None:
    """Switch the rule on. From its dry run page, `dry_run_of` is the `updated_at` of the rule that page showed:
    the rule is switched on, and its dry run counts as seen, only if the rule has not changed since. Otherwise
    (the list's button) its dry run must have been seen after its last change, when it was switched on before.
    Refused with RuleInvalid saying why."""
    if rule.action == Rule.Action.ASSIGN and rule.assignee_id is None:
        raise RuleInvalid("Choose who the rule assigns comments to: the person it named is no longer here.")
    now = timezone.now()
    if dry_run_of is not None:
        switched_on = Rule.objects.filter(pk=rule.pk, updated_at=dry_run_of).update(enabled=True, dry_run_at=now)
    else:
        switched_on = Rule.objects.filter(pk=rule.pk, dry_run_at__gte=F("updated_at")).update(enabled=True)
    if not switched_on:
        rule.refresh_from_db()
        raise RuleInvalid(DRY_RUN_AGAIN if rule.dry_run_at or dry_run_of else DRY_RUN_FIRST, code="dry_run")
    rule.enabled = True
    if dry_run_of is not None:
        rule.dry_run_at = now


def rule_disable(*, rule: Rule) -> None:
    Rule.objects.filter(pk=rule.pk).update(enabled=False)
    rule.enabled = False


def rule_delete(*, rule: Rule) -> None:
    """Delete the rule. What it did stays in the comments' history (without the rule's name)."""
    rule.delete()


# --- undo -------------------------------------------------------------------------------------------------------
def rule_undo_action(*, action: CommentAction, actor: User | None) -> CommentAction:
    """Undo one thing a rule did: unhide on Meta, unassign (back to whoever had it), untag. Recorded as its own
    action; raises ActionRefused with the reason when it cannot be undone."""
    fresh = CommentAction.objects.select_related("comment", "assignee").get(pk=action.pk)  # its state now
    return action_undo(action=fresh, actor=actor)


@dataclass
class UndoAll:
    undone: list[CommentAction] = field(default_factory=list)
    refused: list[tuple[CommentAction, str]] = field(default_factory=list)
    still_sending: int = 0  # the rule's actions Meta has not confirmed yet; they can be undone once done
    left: int = 0  # more to undo after this batch

    @property
    def summary(self) -> str:
        parts: list[str] = []
        n = len(self.undone)
        if n:
            parts.append(f"Undoing {n} action{'s' if n != 1 else ''} of this rule.")
        else:
            parts.append("Nothing of this rule was left to undo.")
        if self.refused:
            parts.append(f"{len(self.refused)} could not be undone; the log says why.")
        if self.still_sending:
            parts.append(
                f"{self.still_sending} {'is' if self.still_sending == 1 else 'are'} still being sent to Meta; "
                "undo them once they are done."
            )
        if self.left:
            parts.append(f"{self.left} more are left: click “Undo all” again.")
        return " ".join(parts)


UNDOABLE_KINDS = frozenset({ActionKind.HIDE, ActionKind.ASSIGN, ActionKind.TAG})


def rule_undoable(rule: Rule) -> QuerySet[CommentAction]:
    """What the rule did that is done and not undone yet."""
    return CommentAction.objects.filter(
        rule=rule, state=ActionState.DONE, undone_by__isnull=True, kind__in=UNDOABLE_KINDS
    )


def rule_undo_all(*, rule: Rule, actor: User | None, batch: int = UNDO_ALL_BATCH) -> UndoAll:
    """Undo what the rule did that is done and not undone yet, newest first, `batch` at a time; each undo is
    recorded as its own action."""
    result = UndoAll()
    newest_first = rule_undoable(rule).select_related("comment", "assignee").order_by("-created_at", "-id")
    actions = list(newest_first[: batch + 1])
    if len(actions) > batch:
        result.left = rule_undoable(rule).count() - batch
        actions = actions[:batch]
    for action in actions:
        try:
            with transaction.atomic():
                result.undone.append(rule_undo_action(action=action, actor=actor))
        except ActionRefused as exc:
            result.refused.append((action, " ".join(exc.messages)))
    result.still_sending = CommentAction.objects.filter(rule=rule, state=ActionState.PENDING).count()
    return result
