"""Rules: matching on folded text (words and the wildcard pattern), the patterns refused, what a rule does to a new
comment (once), its dry run over the last 30 days, the dry run required before it is switched on, and undo, with
the hide and its undo read back from the sandbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import ActionKind, ActionState, Comment, CommentAction, CommentKind, InboxPost, Rule
from inbox.services import rules as rule_services
from inbox.services.actions import action_perform, action_request
from inbox.services.rules import (
    RuleInvalid,
    keywords_parse,
    pattern_parse,
    rule_create,
    rule_describe,
    rule_dry_run,
    rule_enable,
    rule_matches,
    rule_undo_action,
    rule_undo_all,
    rule_update,
    rules_apply,
)
from tests.inbox.test_actions import newest_media, on_meta

pytestmark = pytest.mark.django_db


def make_rule(workspace, *, pattern="free followers", match=Rule.Match.KEYWORDS, enabled=True, **fields) -> Rule:
    """A rule as the form leaves it (switched on, as after its dry run, unless `enabled=False`)."""
    now = timezone.now()
    fields.setdefault("name", f"Rule {Rule.objects.count() + 1}")
    return Rule.objects.create(
        workspace=workspace,
        match=match,
        pattern=pattern,
        enabled=enabled,
        updated_at=now,
        dry_run_at=now if enabled else None,
        **fields,
    )


def keywords(text: str):
    return lambda comment: rule_matches(Rule(match=Rule.Match.KEYWORDS, pattern=text), comment)


# --- matching -----------------------------------------------------------------------------------------------------
@pytest.mark.no_sandbox
@pytest.mark.parametrize(
    "comment,matches",
    [
        ("Free followers!! visit spam.example", True),
        ("Ｆｒｅｅ ｆｏｌｌｏｗｅｒｓ!! visit spam.example", True),
        ("fr33 f0ll0wers 👉 link in bio", True),
        ("F.R.E.E followers at spam.example 🔥🔥", True),
        ("FRЕЕ FOLLOWERS", True),  # Cyrillic Е
        ("get your freeeee followers", True),
        ("Check out SPAM.example", True),  # the second line, a whole word
        ("Our freedom followers club", False),  # "freedom" is not "free"
        ("free yoga followers", False),  # a phrase is its words next to each other
        ("spammer", False),
        ("Love this ❤️🔥", False),
    ],
)
def test_keywords_match_whole_words_of_the_folded_text(comment, matches):
    assert keywords("free followers\nspam")(comment) is matches


@pytest.mark.no_sandbox
@pytest.mark.parametrize("comment,matches", [("FREE", True), ("fr33!", True), ("freedom", False), ("carefree", False)])
def test_a_keyword_is_a_whole_word(comment, matches):
    assert keywords("free")(comment) is matches


@pytest.mark.no_sandbox
@pytest.mark.parametrize(
    "pattern,comment,matches",
    [
        ("free * followers", "FREE instagram followers here", True),
        ("free * followers", "free followers", True),  # * may be empty
        ("free * followers", "freedom followers", False),
        ("crypto*", "Cryptocurrency is the future", True),
        ("crypto*", "crypto", True),
        ("crypto*", "encrypto", False),  # the pattern starts on a word
        ("*coin", "buy bitcoin now", True),
        ("c?ll me", "Cell me maybe", True),
        ("c?ll me", "cll me", False),  # ? is exactly one letter or digit
        ("c?ll me", "CALL ME!!!", True),
        ("dm me *", "DM me for prices", True),
        ("fr33 f*llowers", "free followers", True),  # the pattern folds like a comment
        ("win ??? now", "win big now", True),
        ("win ??? now", "win it now", False),
        ("visit *.example", "visit spam.example today", True),
    ],
)
def test_patterns(pattern, comment, matches):
    assert rule_matches(Rule(match=Rule.Match.PATTERN, pattern=pattern), comment) is matches


@pytest.mark.no_sandbox
def test_a_pattern_full_of_wildcards_is_checked_in_no_time_even_when_it_fails():
    # The shape that makes a backtracking regex take exponential time.
    assert pattern_parse("a*a*a*a*a*a*a*a*a*b")("a" * 5000) is False


@pytest.mark.no_sandbox
@pytest.mark.parametrize(
    "pattern,says",
    [
        ("x" * 201, "at most 200 characters; this one has 201"),
        ("a*b*c*d*e*f*g*h*i*j*k?l", "at most 10 wildcards (* or ?); this one has 11"),
        ("*", "needs at least one letter or digit"),
        ("🔥 * 🔥", "needs at least one letter or digit"),
        ("free\nfollowers", "A pattern is one line"),
        ("   ", "Write the pattern"),
    ],
)
def test_patterns_that_are_refused_say_why(pattern, says):
    with pytest.raises(RuleInvalid) as refused:
        pattern_parse(pattern)
    assert says in refused.value.messages[0]


@pytest.mark.no_sandbox
def test_a_keyword_line_without_letters_is_refused_by_name():
    with pytest.raises(RuleInvalid) as refused:
        keywords_parse("free\n🔥🔥\n")
    assert refused.value.messages[0] == "“🔥🔥” has no letters or digits, so it would never match anything. Remove it."


# --- acting on new comments -----------------------------------------------------------------------------------
def test_a_hide_rule_asks_meta_to_hide_a_matching_comment(inbox_channels, make_comment, workspace):
    rule = make_rule(workspace, action=Rule.Action.HIDE)
    comment = make_comment(inbox_channels["ig"], text="fr33 f0ll0wers 👉 spam.example")

    actions = rules_apply(comment)

    assert [(a.kind, a.state, a.rule_id, a.actor_id) for a in actions] == [
        (ActionKind.HIDE, ActionState.PENDING, rule.pk, None)
    ]
    comment.refresh_from_db()
    assert comment.hidden is False  # not until Meta confirms


def test_an_assign_rule_assigns_the_thread(inbox_channels, make_comment, workspace, moderator):
    make_rule(workspace, pattern="price\nhow much", action=Rule.Action.ASSIGN, assignee=moderator)
    thread = make_comment(inbox_channels["page"], text="Nice class")
    reply = make_comment(inbox_channels["page"], text="How much is a drop-in?", parent=thread)

    [action] = rules_apply(reply)

    assert action.kind == ActionKind.ASSIGN and action.state == ActionState.DONE and action.assignee == moderator
    thread.refresh_from_db()
    assert thread.assignee == moderator


def test_a_tag_rule_tags_the_thread(inbox_channels, make_comment, workspace):
    make_rule(workspace, pattern="refund", action=Rule.Action.TAG, tag="complaint")
    comment = make_comment(inbox_channels["ig"], text="I want a REFUND!!!")

    [action] = rules_apply(comment)

    assert (action.kind, action.text, action.state) == (ActionKind.TAG, "complaint", ActionState.DONE)
    comment.refresh_from_db()
    assert comment.tags == ["complaint"]


def test_a_rule_acts_once_per_comment_even_after_its_action_was_taken_back(inbox_channels, make_comment, workspace):
    rule = make_rule(workspace, pattern="refund", action=Rule.Action.TAG, tag="complaint")
    comment = make_comment(inbox_channels["ig"], text="refund please")
    [tagged] = rules_apply(comment)
    action_request(comment=comment, kind=ActionKind.UNTAG, actor=None, text="complaint")

    assert rules_apply(comment) == []
    assert CommentAction.objects.filter(rule=rule).count() == 1


def test_rules_leave_our_own_removed_and_unmatched_comments_alone(inbox_channels, make_comment, workspace, charlie):
    make_rule(workspace, pattern="spam", action=Rule.Action.TAG, tag="spam")
    make_rule(workspace, pattern="spam", action=Rule.Action.HIDE, enabled=False, name="Off")
    channel = inbox_channels["page"]
    ours = make_comment(channel, text="spam", from_us=True)
    removed = make_comment(channel, text="spam", deleted_at=timezone.now())
    other = make_comment(channel, text="lovely spamless day")

    assert rules_apply(ours) == [] and rules_apply(removed) == [] and rules_apply(other) == []
    assert not CommentAction.objects.exists()


def test_only_the_comments_workspace_rules_act(inbox_channels, make_comment, workspace):
    from tests.factories import WorkspaceFactory

    elsewhere = WorkspaceFactory(agency=workspace.agency, name="Other brand")
    make_rule(elsewhere, pattern="spam", action=Rule.Action.TAG, tag="spam")

    assert rules_apply(make_comment(inbox_channels["page"], text="spam")) == []


def test_two_hide_rules_hide_once_and_each_tag_rule_tags(inbox_channels, make_comment, workspace):
    make_rule(workspace, name="A hide", pattern="spam", action=Rule.Action.HIDE)
    make_rule(workspace, name="B hide", pattern="example", action=Rule.Action.HIDE)
    make_rule(workspace, name="C tag", pattern="spam", action=Rule.Action.TAG, tag="spam")
    make_rule(workspace, name="D tag", pattern="example", action=Rule.Action.TAG, tag="link")
    comment = make_comment(inbox_channels["page"], text="spam.example")

    actions = rules_apply(comment)

    assert sorted((a.rule.name, a.kind) for a in actions) == [
        ("A hide", ActionKind.HIDE),
        ("C tag", ActionKind.TAG),
        ("D tag", ActionKind.TAG),
    ]


def test_a_hide_rule_leaves_mentions_on_someone_elses_media_alone(inbox_channels, make_comment, workspace):
    make_rule(workspace, pattern="spam", action=Rule.Action.HIDE)
    mention = make_comment(inbox_channels["ig"], text="@harboryoga spam", kind=CommentKind.MENTION)
    InboxPost.objects.filter(pk=mention.inbox_post_id).update(is_mention=True)

    assert rules_apply(mention) == []


# --- dry run -------------------------------------------------------------------------------------------------
def test_the_dry_run_lists_exactly_the_matching_comments_of_the_last_30_days(inbox_channels, make_comment, workspace):
    rule = make_rule(workspace, pattern="free followers", action=Rule.Action.HIDE, enabled=False)
    channel = inbox_channels["ig"]
    now = timezone.now()
    recent = make_comment(channel, text="FREE followers!!", at=now - timedelta(days=2))
    older_match = make_comment(channel, text="fr33 f0ll0wers", at=now - timedelta(days=29))
    make_comment(channel, text="free followers", at=now - timedelta(days=31))  # too old
    make_comment(channel, text="freedom followers", at=now - timedelta(days=1))  # no match
    make_comment(channel, text="free followers", at=now, from_us=True)
    make_comment(channel, text="free followers", at=now, deleted_at=now)
    make_comment(channel, text="free followers", at=now, hidden=True)  # nothing left to hide

    dry_run = rule_dry_run(rule)

    assert [c.pk for c in dry_run.comments] == [recent.pk, older_match.pk]
    assert dry_run.count == 2 and dry_run.capped is False
    assert dry_run.summary == "It would have hidden these 2 comments of the last 30 days."
    assert not CommentAction.objects.exists()  # nothing was done


def test_the_dry_run_reads_the_newest_comments_up_to_its_cap_and_says_so(inbox_channels, make_comment, workspace):
    rule = make_rule(workspace, pattern="spam", action=Rule.Action.TAG, tag="spam", enabled=False)
    now = timezone.now()
    for hours in (1, 2, 3):
        make_comment(inbox_channels["page"], text="spam", at=now - timedelta(hours=hours))

    dry_run = rule_dry_run(rule, cap=2)

    assert (dry_run.count, dry_run.scanned, dry_run.capped) == (2, 2, True)
    assert dry_run.oldest_scanned == now - timedelta(hours=2)


def test_a_rule_is_switched_on_only_after_its_dry_run_was_seen_since_its_last_change(workspace, moderator):
    rule = rule_services.rule_create(
        workspace=workspace, by=moderator, name="Spam", match="keywords", pattern="spam", action="hide"
    )
    assert rule.enabled is False

    with pytest.raises(RuleInvalid) as refused:
        rule_enable(rule=rule)
    assert "Look at its dry run first" in refused.value.messages[0]

    rule_enable(rule=rule, dry_run_of=rule.updated_at)  # the dry run page names the version it showed
    rule.refresh_from_db()
    assert rule.enabled is True and rule.dry_run_at >= rule.updated_at

    # Switched off and on again unchanged, it needs no new dry run.
    rule_services.rule_disable(rule=rule)
    rule_enable(rule=rule)
    rule.refresh_from_db()
    assert rule.enabled is True

    switched_off = rule_update(rule=rule, name="Spam", match="keywords", pattern="spam\nscam", action="hide")
    rule.refresh_from_db()
    assert switched_off is True and rule.enabled is False
    with pytest.raises(RuleInvalid) as refused:
        rule_enable(rule=rule)
    assert "changed since its dry run" in refused.value.messages[0]


def test_renaming_a_rule_needs_no_new_dry_run(workspace):
    rule = make_rule(workspace, pattern="spam", action=Rule.Action.HIDE)
    assert rule_update(rule=rule, name="Spam links", match="keywords", pattern="spam", action="hide") is False
    rule.refresh_from_db()
    assert rule.enabled is True and rule.name == "Spam links"


def test_a_dry_run_of_an_older_version_does_not_count(workspace):
    rule = make_rule(workspace, pattern="spam", action=Rule.Action.HIDE, enabled=False)
    shown = rule.updated_at
    rule_update(rule=rule, name=rule.name, match="keywords", pattern="scam", action="hide")

    with pytest.raises(RuleInvalid) as refused:
        rule_enable(rule=rule, dry_run_of=shown)
    assert "changed since its dry run" in refused.value.messages[0]
    with pytest.raises(RuleInvalid):
        rule_enable(rule=rule)
    rule.refresh_from_db()
    assert rule.enabled is False and rule.dry_run_at is None


@pytest.mark.no_sandbox
def test_a_name_saved_by_someone_else_meanwhile_is_refused_in_words(workspace):
    rule_create(workspace=workspace, by=None, name="Spam", match="keywords", pattern="spam", action="hide")
    with pytest.raises(RuleInvalid) as refused:  # the form's check passed before the other save
        rule_create(workspace=workspace, by=None, name="Spam", match="keywords", pattern="scam", action="hide")
    assert refused.value.code == "name_taken" and "A rule with this name exists" in refused.value.messages[0]

    other = rule_create(workspace=workspace, by=None, name="Scam", match="keywords", pattern="scam", action="hide")
    with pytest.raises(RuleInvalid):
        rule_update(rule=other, name="Spam", match="keywords", pattern="scam", action="hide")
    other.refresh_from_db()
    assert other.name == "Scam" and Rule.objects.count() == 2


@pytest.mark.no_sandbox
@pytest.mark.parametrize(
    "action,fields,does,would",
    [
        (Rule.Action.HIDE, {}, "hides it", "hide it"),
        (Rule.Action.TAG, {"tag": "spam"}, "tags it “spam”", "tag it “spam”"),
        (
            Rule.Action.ASSIGN,
            {},
            "assigns it to nobody (the person it named left)",
            "assign it to nobody (the person it named left)",
        ),
    ],
)
def test_what_a_rule_does_is_said_in_both_tenses(action, fields, does, would):
    rule = Rule(action=action, **fields)
    assert rule_describe(rule) == does
    assert rule_describe(rule, would=True) == would


# --- undo ----------------------------------------------------------------------------------------------------
def _sandbox_comment(sandbox_control, make_comment, channel, text):
    """A fan's comment written on the sandbox (no webhook sent), stored as ingest stores it."""
    media = newest_media(channel)
    ig = channel.platform == "instagram"
    spec = {"object": "instagram", "media_id": media} if ig else {"object": "page", "post_id": media}
    sent = sandbox_control.send_webhook(kind="comment", text=text, deliver=False, **spec)["sent"]
    entry = sent["entry"][0]
    value = entry["changes"][0]["value"] if "changes" in entry else entry["value"]
    return make_comment(
        channel,
        text=text,
        media_id=media,
        external_id=value["id"] if ig else value["comment_id"],
        author_id=value["from"]["id"],
        author_name=value["from"].get("username") or value["from"].get("name"),
    )


@pytest.mark.parametrize("which,flag", [("ig", "hidden"), ("page", "is_hidden")])
def test_a_rules_dry_run_shows_the_hide_and_its_undo_restores_the_comment_on_meta(
    which, flag, inbox_channels, make_comment, workspace, sandbox_control, alice
):
    channel = inbox_channels[which]
    comment = _sandbox_comment(
        sandbox_control, make_comment, channel, "Ｆｒｅｅ ｆｏｌｌｏｗｅｒｓ!! visit spam.example"
    )
    rule = rule_services.rule_create(
        workspace=workspace, by=alice, name="Spam", match="pattern", pattern="free * followers", action="hide"
    )

    dry_run = rule_dry_run(rule)
    assert [c.pk for c in dry_run.comments] == [comment.pk]
    assert dry_run.summary == "It would have hidden this comment of the last 30 days."
    rule_enable(rule=rule, dry_run_of=rule.updated_at)

    [hide] = rules_apply(comment)
    assert action_perform(hide.pk) == "done"
    comment.refresh_from_db()
    assert comment.hidden is True and on_meta(channel, comment.external_id, flag)[flag] is True

    unhide = rule_undo_action(action=hide, actor=alice)
    assert (unhide.kind, unhide.undo_of_id, unhide.actor) == (ActionKind.UNHIDE, hide.pk, alice)
    assert action_perform(unhide.pk) == "done"
    comment.refresh_from_db()
    assert comment.hidden is False and on_meta(channel, comment.external_id, flag)[flag] is False


def test_undo_all_takes_back_each_thing_the_rule_did_and_records_each(inbox_channels, make_comment, workspace, alice):
    rule = make_rule(workspace, pattern="refund", action=Rule.Action.TAG, tag="complaint")
    comments = [make_comment(inbox_channels["page"], text=f"refund {n}") for n in range(3)]
    for comment in comments:
        rules_apply(comment)
    untouched = make_comment(inbox_channels["page"], text="refund by hand")
    action_request(comment=untouched, kind=ActionKind.TAG, actor=alice, text="complaint")

    result = rule_undo_all(rule=rule, actor=alice)

    assert len(result.undone) == 3 and not result.refused
    assert result.summary == "Undoing 3 actions of this rule."
    for comment in comments:
        comment.refresh_from_db()
        assert comment.tags == []
    untouched.refresh_from_db()
    assert untouched.tags == ["complaint"]
    undos = CommentAction.objects.filter(undo_of__rule=rule)
    assert undos.count() == 3 and {u.kind for u in undos} == {ActionKind.UNTAG}
    assert rule_undo_all(rule=rule, actor=alice).summary == "Nothing of this rule was left to undo."


def test_undo_all_goes_in_batches_and_skips_what_meta_has_not_confirmed(inbox_channels, make_comment, workspace, alice):
    tag_rule = make_rule(workspace, pattern="refund", action=Rule.Action.TAG, tag="complaint")
    for n in range(3):
        rules_apply(make_comment(inbox_channels["page"], text=f"refund {n}"))
    hide_rule = make_rule(workspace, pattern="spam", action=Rule.Action.HIDE)
    rules_apply(make_comment(inbox_channels["page"], text="spam"))

    result = rule_undo_all(rule=tag_rule, actor=alice, batch=2)
    assert (len(result.undone), result.left) == (2, 1)
    assert "1 more are left" in result.summary

    pending = rule_undo_all(rule=hide_rule, actor=alice)
    assert pending.undone == [] and pending.still_sending == 1
    assert "1 is still being sent to Meta" in pending.summary


def test_a_rule_whose_words_are_no_longer_valid_matches_nothing(inbox_channels, make_comment, workspace):
    rule = make_rule(workspace, match=Rule.Match.PATTERN, pattern="*" * 20, action=Rule.Action.HIDE)
    comment = make_comment(inbox_channels["page"], text="anything")
    assert rule_matches(rule, comment.text) is False
    assert rules_apply(comment) == []
    assert rule_dry_run(rule).count == 0
    assert Comment.objects.filter(hidden=True).count() == 0
