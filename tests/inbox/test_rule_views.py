"""The rules pages: who may read and who may edit, the form's refusals in words, the dry run a rule needs before it is
switched on, and the log with its undo."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AgencyMembership, WorkspaceMembership
from inbox.models import ActionKind, ActionState, CommentAction, Rule
from inbox.services.rules import rules_apply
from tests.factories import UserFactory, WorkspaceFactory
from tests.inbox.test_rules import make_rule

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def url(name: str, workspace, rule=None, **kwargs) -> str:
    kwargs["workspace_id"] = workspace.public_id
    if rule is not None:
        kwargs["rule_id"] = rule.public_id
    return reverse(f"inbox:{name}", kwargs=kwargs)


@pytest.fixture
def brand_client(workspace):
    user = UserFactory(email="cli@brand.example")
    AgencyMembership.objects.create(agency=workspace.agency, user=user, role="member")
    WorkspaceMembership.objects.create(workspace=workspace, user=user, role="client")
    return user


def _form(**values) -> dict:
    base = {"name": "Spam", "match": "keywords", "pattern": "free followers", "action": "hide"}
    return base | {"assignee": "", "tag": ""} | values


def switch_on_form(page: str) -> dict:
    """What the dry run page's "switch it on" button posts."""
    form = re.search(r'<form method="post" action="[^"]+/toggle/">(.*?)</form>', page, re.S)
    assert form, "the dry run page has no switch-on button"
    return dict(re.findall(r'<input type="hidden" name="(enabled|from|version)" value="([^"]*)">', form.group(1)))


# --- who may do what -------------------------------------------------------------------------------------------
def test_moderators_see_the_rules_with_the_buttons_to_edit_them(client, workspace, moderator):
    on = make_rule(workspace, name="Hide spam", pattern="free followers\nspam")
    off = make_rule(
        workspace, name="Tag refunds", pattern="refund", action=Rule.Action.TAG, tag="complaint", enabled=False
    )
    client.force_login(moderator)

    page = client.get(url("rules", workspace)).content.decode()

    assert "Hide spam" in page and "free followers" in page and "it hides it." in page
    assert "Tag refunds" in page and "it tags it “complaint”." in page
    assert url("rule_new", workspace) in page and "Switch off" in page and "Switch on" in page
    for rule in (on, off):
        assert page.count(url("rule_toggle", workspace, rule)) == 2  # the form's action and its hx-post


@pytest.mark.parametrize("reader", ["analyst", "brand_client"])
def test_analysts_and_clients_read_the_rules_and_the_log_but_change_nothing(request, client, workspace, reader):
    person = request.getfixturevalue(reader)
    rule = make_rule(workspace, name="Hide spam")
    client.force_login(person)

    page = client.get(url("rules", workspace))
    assert page.status_code == 200 and "Hide spam" in page.content.decode()
    assert url("rule_new", workspace) not in page.content.decode()
    assert client.get(url("rule_log", workspace, rule)).status_code == 200
    assert client.get(url("rule_new", workspace)).status_code == 403
    assert client.get(url("rule_dry_run", workspace, rule)).status_code == 403
    assert client.post(url("rule_toggle", workspace, rule), {"enabled": "0"}).status_code == 403
    assert client.post(url("rule_undo_all", workspace, rule)).status_code == 403
    rule.refresh_from_db()
    assert rule.enabled is True


def test_editors_are_refused_the_rules(client, workspace, editor):
    rule = make_rule(workspace)
    client.force_login(editor)
    assert client.get(url("rules", workspace)).status_code == 403
    assert client.get(url("rule_log", workspace, rule)).status_code == 403


def test_strangers_get_404_for_every_rules_page(client, workspace, charlie):
    rule = make_rule(workspace)
    client.force_login(charlie)
    for name in ("rules", "rule_new"):
        assert client.get(url(name, workspace)).status_code == 404
    for name in ("rule_edit", "rule_dry_run", "rule_log"):
        assert client.get(url(name, workspace, rule)).status_code == 404
    for name in ("rule_toggle", "rule_delete", "rule_undo_all"):
        assert client.post(url(name, workspace, rule)).status_code == 404


def test_a_rule_of_another_workspace_is_404_in_this_one(client, inbox_channels, workspace):
    other = WorkspaceFactory(agency=workspace.agency, name="Other brand")
    theirs = make_rule(other, name="Theirs")
    for name in ("rule_edit", "rule_dry_run", "rule_log"):
        assert client.get(url(name, workspace, theirs)).status_code == 404
    assert client.post(url("rule_delete", workspace, theirs)).status_code == 404
    assert Rule.objects.filter(pk=theirs.pk).exists()


# --- the form --------------------------------------------------------------------------------------------------
def test_a_new_rule_is_saved_off_and_opens_its_dry_run(client, inbox_channels, workspace, alice):
    answer = client.post(url("rule_new", workspace), _form(pattern="free followers\n\n  spam  "))

    rule = Rule.objects.get(workspace=workspace)
    assert answer.status_code == 302 and answer["Location"] == url("rule_dry_run", workspace, rule)
    assert (rule.enabled, rule.pattern, rule.created_by) == (False, "free followers\nspam", alice)


@pytest.mark.parametrize(
    "values,says",
    [
        ({"match": "pattern", "pattern": "a*b*c*d*e*f*g*h*i*j*k*l"}, "at most 10 wildcards (* or ?); this one has 11"),
        ({"match": "pattern", "pattern": "x" * 201}, "at most 200 characters; this one has 201"),
        ({"pattern": "🔥🔥"}, "“🔥🔥” has no letters or digits"),
        ({"action": "assign"}, "Choose who the comments are assigned to."),
        ({"action": "tag", "tag": " "}, "Name the tag"),
        ({"name": ""}, "Give the rule a name"),
    ],
)
def test_the_form_says_what_is_wrong_in_words(client, inbox_channels, workspace, values, says):
    answer = client.post(url("rule_new", workspace), _form(**values))
    assert answer.status_code == 400
    assert says in answer.content.decode()
    assert not Rule.objects.exists()


def test_two_rules_cannot_share_a_name(client, inbox_channels, workspace):
    make_rule(workspace, name="Spam")
    answer = client.post(url("rule_new", workspace), _form(name="spam"))
    assert answer.status_code == 400 and "A rule with this name exists" in answer.content.decode()


def test_a_name_saved_by_someone_else_meanwhile_is_said_on_the_form(client, inbox_channels, workspace, monkeypatch):
    from inbox.rule_views import RuleForm

    make_rule(workspace, name="Spam")
    # The other save lands between the form's check and this one's.
    monkeypatch.setattr(RuleForm, "clean_name", lambda form: form.cleaned_data["name"])

    answer = client.post(url("rule_new", workspace), _form(name="Spam"))

    assert answer.status_code == 400 and "A rule with this name exists" in answer.content.decode()
    assert Rule.objects.count() == 1


def test_only_people_who_moderate_can_be_chosen_to_assign_to(client, inbox_channels, workspace, moderator, analyst):
    page = client.get(url("rule_new", workspace)).content.decode()
    assert moderator.email in page or moderator.get_full_name() in page
    assert analyst.email not in page

    answer = client.post(url("rule_new", workspace), _form(action="assign", assignee=str(analyst.pk)))
    assert answer.status_code == 400 and "Choose someone who moderates this inbox." in answer.content.decode()

    client.post(url("rule_new", workspace), _form(action="assign", assignee=str(moderator.pk)))
    assert Rule.objects.get().assignee == moderator


def test_editing_what_a_rule_looks_for_switches_it_off_until_its_dry_run_is_seen_again(
    client, inbox_channels, workspace
):
    rule = make_rule(workspace, name="Spam", pattern="spam")

    answer = client.post(url("rule_edit", workspace, rule), _form(pattern="spam\nscam"), follow=True)

    rule.refresh_from_db()
    assert rule.enabled is False
    assert "switched it off" in answer.content.decode()
    assert answer.redirect_chain[-1][0] == url("rule_dry_run", workspace, rule)


def test_a_rule_is_deleted_and_what_it_did_stays(client, inbox_channels, workspace, make_comment):
    rule = make_rule(workspace, pattern="refund", action=Rule.Action.TAG, tag="complaint")
    comment = make_comment(inbox_channels["page"], text="refund")
    rules_apply(comment)

    assert client.post(url("rule_delete", workspace, rule)).status_code == 302

    assert not Rule.objects.exists()
    comment.refresh_from_db()
    assert comment.tags == ["complaint"] and CommentAction.objects.get().rule is None


# --- the dry run and switching on ----------------------------------------------------------------------------------
def test_switching_on_needs_the_dry_run_first_and_says_why(client, inbox_channels, workspace, make_comment):
    rule = make_rule(workspace, name="Spam", pattern="free followers", enabled=False)
    now = timezone.now()
    make_comment(inbox_channels["ig"], text="FR33 F0LL0WERS!!", author_name="spammy.bot", at=now - timedelta(days=3))
    make_comment(inbox_channels["ig"], text="free followers", author_name="old.spam", at=now - timedelta(days=40))

    refused = client.post(url("rule_toggle", workspace, rule), {"enabled": "1"}, headers=HTMX)
    assert refused.status_code == 200
    assert "is still off. Look at its dry run first" in refused.content.decode()
    rule.refresh_from_db()
    assert rule.enabled is False

    page = client.get(url("rule_dry_run", workspace, rule)).content.decode()
    assert "It would have hidden this comment of the last 30 days." in page
    assert "spammy.bot" in page and "FR33 F0LL0WERS!!" in page and "Hide it" in page
    assert "old.spam" not in page

    # Opening the page is not switching on (a link preview or a prefetch opens it too): the list's button still
    # refuses.
    still = client.post(url("rule_toggle", workspace, rule), {"enabled": "1"}, headers=HTMX)
    assert "is still off. Look at its dry run first" in still.content.decode()

    on = client.post(url("rule_toggle", workspace, rule), switch_on_form(page), follow=True)
    assert "is on: it acts on each new comment that matches." in on.content.decode()
    rule.refresh_from_db()
    assert rule.enabled is True

    # Switched off and on again from the list, unchanged, it needs no new dry run.
    client.post(url("rule_toggle", workspace, rule), {"enabled": "0"}, headers=HTMX)
    again = client.post(url("rule_toggle", workspace, rule), {"enabled": "1"}, headers=HTMX)
    assert "is on: it acts on each new comment that matches." in again.content.decode()
    assert f'id="rule-{rule.public_id}"' in again.content.decode()
    rule.refresh_from_db()
    assert rule.enabled is True


def test_the_dry_run_page_changes_nothing(client, inbox_channels, workspace):
    rule = make_rule(workspace, enabled=False)
    before = Rule.objects.values().get(pk=rule.pk)

    assert client.get(url("rule_dry_run", workspace, rule)).status_code == 200

    assert Rule.objects.values().get(pk=rule.pk) == before


def test_a_dry_run_page_of_an_older_version_cannot_switch_the_rule_on(client, inbox_channels, workspace):
    rule = make_rule(workspace, name="Spam", pattern="spam", enabled=False)
    shown = switch_on_form(client.get(url("rule_dry_run", workspace, rule)).content.decode())
    client.post(url("rule_edit", workspace, rule), _form(pattern="spam\nscam"))  # in another tab

    refused = client.post(url("rule_toggle", workspace, rule), shown, follow=True)

    assert "is still off. The rule changed since its dry run was looked at." in refused.content.decode()
    rule.refresh_from_db()
    assert rule.enabled is False and rule.dry_run_at is None
    tampered = client.post(url("rule_toggle", workspace, rule), shown | {"version": "yesterday"}, follow=True)
    assert "is still off." in tampered.content.decode()
    rule.refresh_from_db()
    assert rule.enabled is False


def test_switching_on_from_the_dry_run_page_comes_back_to_it(client, inbox_channels, workspace):
    rule = make_rule(workspace, enabled=False)
    shown = switch_on_form(client.get(url("rule_dry_run", workspace, rule)).content.decode())
    assert shown["from"] == "dry_run"
    answer = client.post(url("rule_toggle", workspace, rule), shown)
    assert answer.status_code == 302 and answer["Location"] == url("rule_dry_run", workspace, rule)
    rule.refresh_from_db()
    assert rule.enabled is True


def test_the_dry_run_page_states_its_cap_when_there_are_more_comments(
    client, inbox_channels, workspace, make_comment, monkeypatch
):
    from inbox.services import rules as rule_services

    monkeypatch.setattr(rule_services, "DRY_RUN_CAP", 1)
    rule = make_rule(workspace, pattern="spam", enabled=False)
    make_comment(inbox_channels["page"], text="spam")
    make_comment(inbox_channels["page"], text="spam", at=timezone.now() - timedelta(hours=1))

    page = client.get(url("rule_dry_run", workspace, rule)).content.decode()

    assert "hold more than 1 comments, and a dry run reads the newest 1 of them" in page


# --- the log and undo --------------------------------------------------------------------------------------------
def test_the_log_shows_what_the_rule_did_with_metas_refusal_and_undo(client, inbox_channels, workspace, make_comment):
    tag_rule = make_rule(workspace, name="Complaints", pattern="refund", action=Rule.Action.TAG, tag="complaint")
    comment = make_comment(inbox_channels["page"], text="I want a refund", author_name="Jordan Lee")
    [tagged] = rules_apply(comment)
    hide_rule = make_rule(workspace, name="Spam", pattern="spam", action=Rule.Action.HIDE)
    [hide] = rules_apply(make_comment(inbox_channels["page"], text="spam here"))
    CommentAction.objects.filter(pk=hide.pk).update(
        state=ActionState.FAILED, error="Facebook says this comment cannot be hidden.", error_code="100"
    )

    log = client.get(url("rule_log", workspace, tag_rule)).content.decode()
    assert "Jordan Lee" in log and "I want a refund" in log and "Tag “complaint”" in log and "Done" in log
    assert url("rule_undo", workspace, tag_rule, action_id=tagged.public_id) in log

    refused = client.get(url("rule_log", workspace, hide_rule)).content.decode()
    assert "Refused" in refused and "Facebook says this comment cannot be hidden." in refused
    assert url("rule_undo", workspace, hide_rule, action_id=hide.public_id) not in refused

    row = client.post(url("rule_undo", workspace, tag_rule, action_id=tagged.public_id), headers=HTMX)
    assert row.status_code == 200 and f'id="action-{tagged.public_id}"' in row.content.decode()
    assert "Undone by" in row.content.decode()
    comment.refresh_from_db()
    assert comment.tags == []
    undo = CommentAction.objects.get(undo_of=tagged)
    assert undo.kind == ActionKind.UNTAG and undo.state == ActionState.DONE

    again = client.post(url("rule_undo", workspace, tag_rule, action_id=tagged.public_id), follow=True)
    assert "Not undone: This was undone already." in again.content.decode()


def test_undo_all_from_the_log_switches_the_rule_off(client, inbox_channels, workspace, make_comment):
    rule = make_rule(workspace, name="Complaints", pattern="refund", action=Rule.Action.TAG, tag="complaint")
    comments = [make_comment(inbox_channels["page"], text=f"refund {n}") for n in range(2)]
    for comment in comments:
        rules_apply(comment)

    answer = client.post(url("rule_undo_all", workspace, rule), follow=True)

    page = answer.content.decode()
    assert "Undoing 2 actions of this rule." in page and "is switched off so that it does not act again" in page
    rule.refresh_from_db()
    assert rule.enabled is False
    assert all(not c.tags for c in [type(c).objects.get(pk=c.pk) for c in comments])


def test_an_action_of_another_rule_cannot_be_undone_through_this_one(client, inbox_channels, workspace, make_comment):
    mine = make_rule(workspace, name="Mine", pattern="refund", action=Rule.Action.TAG, tag="a")
    other = make_rule(workspace, name="Other", pattern="refund", action=Rule.Action.TAG, tag="b")
    actions = rules_apply(make_comment(inbox_channels["page"], text="refund"))
    theirs = next(a for a in actions if a.rule_id == other.pk)

    assert client.post(url("rule_undo", workspace, mine, action_id=theirs.public_id)).status_code == 404
