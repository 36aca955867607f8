"""The inbox's rules pages: the list, the form (new and edit), the dry run, the log with undo.

Moderators and managers edit rules (INBOX_MODERATE); analysts and clients may read the list and the log; editors
get 403 and people outside the workspace 404. A rule is saved switched off; it can be switched on once its dry run
was looked at after its last change: the dry run page (a GET, which changes nothing) posts the version of the rule it
showed with its "switch on" button. Switching on or off answers an htmx request with the rule's row
(`rules.html#rule-row`), and undo on the log with the log's row (`rule_log.html#log-row`); without htmx, each
redirects back with the message."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import WorkspaceAccess, workspace_view
from accounts.crypto import encrypted_field_names
from accounts.models import Channel
from accounts.roles import Capability

from .models import ActionState, CommentAction, Rule
from .services import rules as rule_services
from .services.actions import TAG_MAX_CHARS, ActionRefused, assignable_people

LOG_PAGE_SIZE = 50


def _person(user: Any) -> str:
    return user.get_full_name() or user.email


class RuleForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        error_messages={
            "required": "Give the rule a name, for example “Hide spam links”.",
            "max_length": "A rule's name can be at most 100 characters.",
        },
    )
    match = forms.ChoiceField(
        choices=Rule.Match.choices,
        initial=Rule.Match.KEYWORDS,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what the rule looks for."},
    )
    pattern = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        strip=False,
        error_messages={"required": "Write the words or the pattern to look for."},
    )
    action = forms.ChoiceField(
        choices=Rule.Action.choices,
        initial=Rule.Action.HIDE,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what the rule does."},
    )
    assignee = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    tag = forms.CharField(max_length=TAG_MAX_CHARS, required=False)

    def __init__(self, *args: Any, access: WorkspaceAccess, rule: Rule | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.access = access
        self.rule = rule
        self.people = {u.pk: u for u in assignable_people(access.workspace)}
        self.assignable = set(self.people)  # not the person an older version named, if they left
        if rule is not None and rule.assignee_id and rule.assignee_id not in self.people and rule.assignee:
            self.people[rule.assignee_id] = rule.assignee  # keep showing who it names, so the form says why
        self.fields["assignee"].choices = [("", "Choose a person")] + [
            (pk, _person(u)) for pk, u in sorted(self.people.items(), key=lambda item: _person(item[1]).lower())
        ]
        self.fields["assignee"].error_messages["invalid_choice"] = "Choose someone who moderates this inbox."
        self.fields["tag"].error_messages["max_length"] = f"A tag can be at most {TAG_MAX_CHARS} characters."

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        taken = Rule.objects.filter(workspace=self.access.workspace, name__iexact=name)
        if self.rule is not None:
            taken = taken.exclude(pk=self.rule.pk)
        if taken.exists():
            raise forms.ValidationError(rule_services.NAME_TAKEN)
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        match, pattern, action = data.get("match"), data.get("pattern"), data.get("action")
        if match and pattern is not None:
            try:
                rule_services.rule_check(match=match, pattern=pattern)
            except rule_services.RuleInvalid as exc:
                self.add_error("pattern", exc.messages[0])
        if action == Rule.Action.ASSIGN:
            assignee = data.get("assignee")
            if assignee is None:
                self.add_error("assignee", "Choose who the comments are assigned to.")
            elif assignee not in self.assignable:
                self.add_error("assignee", "This person no longer moderates this inbox; choose someone who does.")
        if action == Rule.Action.TAG and not (data.get("tag") or "").strip():
            self.add_error("tag", "Name the tag, for example “spam” or “question”.")
        return data

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "match": data["match"],
            "pattern": data["pattern"],
            "action": data["action"],
            "assignee": self.people.get(data["assignee"]) if data.get("assignee") else None,
            "tag": data.get("tag") or "",
        }


def _rule(access: WorkspaceAccess, rule_id: UUID) -> Rule:
    return get_object_or_404(
        Rule.objects.select_related("assignee", "workspace"), public_id=rule_id, workspace=access.workspace
    )


def _rules(access: WorkspaceAccess, **filters: Any) -> list[Rule]:
    """The workspace's rules with how often each acted, and whether an assign rule still names a moderator."""
    rules = list(
        Rule.objects.filter(workspace=access.workspace, **filters)
        .select_related("assignee")
        .annotate(
            acted=Count("actions", filter=Q(actions__state=ActionState.DONE)),
            refused=Count("actions", filter=Q(actions__state=ActionState.FAILED)),
            last_acted_at=Max("actions__created_at"),
        )
        .order_by("name", "pk")
    )
    assigns = any(r.action == Rule.Action.ASSIGN for r in rules)
    assignable = {u.pk for u in assignable_people(access.workspace)} if assigns else set()
    for rule in rules:
        rule.describe = rule_services.rule_describe(rule)  # type: ignore[attr-defined]
        rule.needs_dry_run = not (rule.dry_run_at and rule.dry_run_at >= rule.updated_at)  # type: ignore[attr-defined]
        rule.assignee_gone = rule.action == Rule.Action.ASSIGN and (  # type: ignore[attr-defined]
            rule.assignee_id is None or rule.assignee_id not in assignable
        )
        rule.lines = rule.pattern.splitlines()  # type: ignore[attr-defined]
    return rules


def _list_url(access: WorkspaceAccess) -> str:
    return reverse("inbox:rules", kwargs={"workspace_id": access.workspace.public_id})


def _dry_run_url(access: WorkspaceAccess, rule: Rule) -> str:
    return reverse("inbox:rule_dry_run", kwargs={"workspace_id": access.workspace.public_id, "rule_id": rule.public_id})


def _log_url(access: WorkspaceAccess, rule: Rule) -> str:
    return reverse("inbox:rule_log", kwargs={"workspace_id": access.workspace.public_id, "rule_id": rule.public_id})


def _version(value: str | None) -> datetime | None:
    """The rule's version a dry run page showed (its `updated_at`), or None when the button is not the dry run's."""
    if value is None:
        return None
    try:
        shown = parse_datetime(value)
    except ValueError:
        shown = None
    if shown is None or shown.tzinfo is None:
        raise rule_services.RuleInvalid(rule_services.DRY_RUN_AGAIN, code="dry_run")
    return shown


# --- list -------------------------------------------------------------------------------------------------------
@workspace_view(Capability.INBOX_READ)
@require_GET
def rules(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    return render(
        request,
        "inbox/rules.html",
        {
            "access": access,
            "workspace": access.workspace,
            "rules": _rules(access),
            "can_moderate": access.can(Capability.INBOX_MODERATE),
            "dry_run_days": rule_services.DRY_RUN_DAYS,
        },
    )


@workspace_view(Capability.INBOX_MODERATE)
@require_POST
def rule_toggle(request: HttpRequest, access: WorkspaceAccess, rule_id: UUID) -> HttpResponse:
    """Switch a rule on (`enabled=1`) or off (`enabled=0`). Pressing twice leaves it as asked. From the dry run page,
    `version` is the rule's `updated_at` as the page showed it: the rule goes on only if it is still that rule."""
    rule = _rule(access, rule_id)
    level, notice = "success", ""
    if request.POST.get("enabled") == "1":
        try:
            rule_services.rule_enable(rule=rule, dry_run_of=_version(request.POST.get("version")))
            notice = f"“{rule.name}” is on: it acts on each new comment that matches."
        except rule_services.RuleInvalid as exc:
            level, notice = "error", f"“{rule.name}” is still off. {exc.messages[0]}"
    else:
        rule_services.rule_disable(rule=rule)
        notice = f"“{rule.name}” is off: new comments are left alone. What it did stays done; undo it from its log."
    if request.htmx and request.POST.get("from") != "dry_run":
        row = _rules(access, pk=rule.pk)[0]
        context = {
            "access": access,
            "workspace": access.workspace,
            "rule": row,
            "can_moderate": True,
            "row_notice": notice,
            "row_level": level,
        }
        return render(request, "inbox/rules.html#rule-row", context)
    getattr(messages, level)(request, notice)
    if request.POST.get("from") == "dry_run":
        return redirect(_dry_run_url(access, rule))
    return redirect(_list_url(access))


@workspace_view(Capability.INBOX_MODERATE)
@require_POST
def rule_delete(request: HttpRequest, access: WorkspaceAccess, rule_id: UUID) -> HttpResponse:
    rule = _rule(access, rule_id)
    name = rule.name
    rule_services.rule_delete(rule=rule)
    messages.success(request, f"Deleted “{name}”. What it already did stays done and shows in each comment's history.")
    return redirect(_list_url(access))


# --- form -------------------------------------------------------------------------------------------------------
def _form_page(
    request: HttpRequest, access: WorkspaceAccess, form: RuleForm, rule: Rule | None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "inbox/rule_form.html",
        {
            "access": access,
            "workspace": access.workspace,
            "form": form,
            "rule": rule,
            "pattern_max_chars": rule_services.PATTERN_MAX_CHARS,
            "pattern_max_wildcards": rule_services.PATTERN_MAX_WILDCARDS,
            "dry_run_days": rule_services.DRY_RUN_DAYS,
        },
        status=status,
    )


@workspace_view(Capability.INBOX_MODERATE)
@require_http_methods(["GET", "POST"])
def rule_new(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    if request.method == "GET":
        return _form_page(request, access, RuleForm(access=access), None)
    form = RuleForm(request.POST, access=access)
    if not form.is_valid():
        return _form_page(request, access, form, None, status=400)
    try:
        rule = rule_services.rule_create(workspace=access.workspace, by=request.user, **form.values())
    except rule_services.RuleInvalid as exc:
        form.add_error("name" if exc.code == "name_taken" else None, exc.messages[0])
        return _form_page(request, access, form, None, status=400)
    messages.success(
        request,
        f"“{rule.name}” is saved and off. Below is what it would have done over the last "
        f"{rule_services.DRY_RUN_DAYS} days; switch it on when that looks right.",
    )
    return redirect(_dry_run_url(access, rule))


@workspace_view(Capability.INBOX_MODERATE)
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, access: WorkspaceAccess, rule_id: UUID) -> HttpResponse:
    rule = _rule(access, rule_id)
    if request.method == "GET":
        initial = {
            "name": rule.name,
            "match": rule.match,
            "pattern": rule.pattern,
            "action": rule.action,
            "assignee": rule.assignee_id,
            "tag": rule.tag,
        }
        return _form_page(request, access, RuleForm(access=access, rule=rule, initial=initial), rule)
    form = RuleForm(request.POST, access=access, rule=rule)
    if not form.is_valid():
        return _form_page(request, access, form, rule, status=400)
    before = rule.updated_at
    try:
        switched_off = rule_services.rule_update(rule=rule, **form.values())
    except rule_services.RuleInvalid as exc:
        form.add_error("name" if exc.code == "name_taken" else None, exc.messages[0])
        return _form_page(request, access, form, rule, status=400)
    if rule.updated_at == before:
        messages.success(request, f"Saved “{rule.name}”.")
        return redirect(_list_url(access))
    if switched_off:
        messages.warning(
            request,
            f"Saved “{rule.name}” and switched it off, because what it looks for or does changed. Below is what "
            "it would do now; switch it on again when that looks right.",
        )
    else:
        messages.success(request, f"Saved “{rule.name}”. Below is what it would do now.")
    return redirect(_dry_run_url(access, rule))


# --- dry run ----------------------------------------------------------------------------------------------------
@workspace_view(Capability.INBOX_MODERATE)
@require_GET
def rule_dry_run(request: HttpRequest, access: WorkspaceAccess, rule_id: UUID) -> HttpResponse:
    """What the rule would do to the last 30 days of comments. Only looks: link previews and prefetching open pages
    too, so the dry run counts as seen when someone presses its "switch on" button, which names this version."""
    rule = _rule(access, rule_id)
    return render(
        request,
        "inbox/rule_dry_run.html",
        {
            "access": access,
            "workspace": access.workspace,
            "rule": rule,
            "describe": rule_services.rule_describe(rule),
            "would": rule_services.rule_describe(rule, would=True),
            "dry_run": rule_services.rule_dry_run(rule),
            "version": rule.updated_at.isoformat(),
        },
    )


# --- log and undo -----------------------------------------------------------------------------------------------
def _log_rows(access: WorkspaceAccess, rule: Rule):
    return (
        CommentAction.objects.filter(rule=rule, workspace=access.workspace)
        .select_related("comment", "comment__parent", "comment__channel", "assignee", "undone_by", "undone_by__actor")
        .defer(*encrypted_field_names(Channel, prefix="comment__channel__"))
        .order_by("-created_at", "-id")
    )


def _with_undo(rows: Any) -> list[CommentAction]:
    """Each row with `undo`: the action that undid it, or None (a missing reverse one-to-one would raise)."""
    rows = list(rows)
    for row in rows:
        row.undo = getattr(row, "undone_by", None)  # type: ignore[attr-defined]
        row.can_undo = (  # type: ignore[attr-defined]
            row.state == ActionState.DONE and row.undo is None and row.kind in rule_services.UNDOABLE_KINDS
        )
    return rows


def _log_context(access: WorkspaceAccess, rule: Rule) -> dict[str, Any]:
    return {
        "access": access,
        "workspace": access.workspace,
        "rule": rule,
        "describe": rule_services.rule_describe(rule),
        "can_moderate": access.can(Capability.INBOX_MODERATE),
        "undo_batch": rule_services.UNDO_ALL_BATCH,
    }


@workspace_view(Capability.INBOX_READ)
@require_GET
def rule_log(request: HttpRequest, access: WorkspaceAccess, rule_id: UUID) -> HttpResponse:
    rule = _rule(access, rule_id)
    page = Paginator(_log_rows(access, rule), LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    context = _log_context(access, rule)
    context.update(
        {
            "page": page,
            "rows": _with_undo(page.object_list),
            "undoable": rule_services.rule_undoable(rule).exists() if context["can_moderate"] else False,
        }
    )
    return render(request, "inbox/rule_log.html", context)


@workspace_view(Capability.INBOX_MODERATE)
@require_POST
def rule_undo(request: HttpRequest, access: WorkspaceAccess, rule_id: UUID, action_id: UUID) -> HttpResponse:
    rule = _rule(access, rule_id)
    action = get_object_or_404(
        CommentAction.objects.select_related("comment"), public_id=action_id, rule=rule, workspace=access.workspace
    )
    level = "success"
    try:
        rule_services.rule_undo_action(action=action, actor=request.user)
        notice = "Undone." if action.kind != "hide" else "Unhiding it on Meta…"
    except ActionRefused as exc:
        level, notice = "error", f"Not undone: {' '.join(exc.messages)}"
    if request.htmx:
        row = _with_undo(_log_rows(access, rule).filter(pk=action.pk))[0]
        context = _log_context(access, rule)
        context.update({"a": row, "row_notice": notice, "row_level": level})
        return render(request, "inbox/rule_log.html#log-row", context)
    getattr(messages, level)(request, notice)
    return redirect(_log_url(access, rule))


@workspace_view(Capability.INBOX_MODERATE)
@require_POST
def rule_undo_all(request: HttpRequest, access: WorkspaceAccess, rule_id: UUID) -> HttpResponse:
    rule = _rule(access, rule_id)
    was_on = rule.enabled
    # Undoing what a rule did and leaving it on would have it act again on the next comment like those.
    rule_services.rule_disable(rule=rule)
    result = rule_services.rule_undo_all(rule=rule, actor=request.user)
    notice = result.summary
    if was_on:
        notice += f" “{rule.name}” is switched off so that it does not act again; switch it on from the rules page."
    (messages.warning if result.refused else messages.success)(request, notice)
    return redirect(_log_url(access, rule))


W = "w/<uuid:workspace_id>/inbox/rules/"

urlpatterns = [
    path(W, rules, name="rules"),
    path(f"{W}new/", rule_new, name="rule_new"),
    path(f"{W}<uuid:rule_id>/", rule_edit, name="rule_edit"),
    path(f"{W}<uuid:rule_id>/dry-run/", rule_dry_run, name="rule_dry_run"),
    path(f"{W}<uuid:rule_id>/log/", rule_log, name="rule_log"),
    path(f"{W}<uuid:rule_id>/toggle/", rule_toggle, name="rule_toggle"),
    path(f"{W}<uuid:rule_id>/delete/", rule_delete, name="rule_delete"),
    path(f"{W}<uuid:rule_id>/undo-all/", rule_undo_all, name="rule_undo_all"),
    path(f"{W}<uuid:rule_id>/undo/<uuid:action_id>/", rule_undo, name="rule_undo"),
]
