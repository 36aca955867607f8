"""What people do to comments (reply, private reply, hide, delete, like, done, assign, tag; retry and undo; bulk)
and the workspace's saved replies.

Reading a card or the saved replies needs INBOX_READ, acting INBOX_MODERATE, each said by the view's
`workspace_view` (others in the workspace get 403; strangers 404, like everything not theirs). With
htmx a view answers the comment's card again (`inbox/_comment.html`): a pending action shows on it and the card
polls itself every 2 s until Meta answered, then shows the outcome, or Meta's reason with a Retry button. A reply
answers the reply form (what was typed is kept when it is refused) with the thread's card swapped out of band.
When a polled card finds that an action it waited for has finished, the answer triggers `inboxActionFinished`
(`{"thread": <public id>, "kind": …}`) so the thread around it can refresh (a reply adds a comment). Without
htmx the views redirect back to the thread with a message."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from accounts.access import WorkspaceAccess, workspace_view
from accounts.models import User
from accounts.roles import Capability

from .models import META_ACTIONS, ActionKind, ActionState, Comment, CommentAction, SavedReply
from .services import actions, replies

K = ActionKind
CARD = "inbox/_comment.html"
REPLY_FORM = "inbox/_reply_form.html"


# --- lookups ----------------------------------------------------------------------------------------------------------
def _comments(access: WorkspaceAccess) -> QuerySet[Comment]:
    # A reply's card shows buttons by its thread's post (a mention's cannot be hidden): `parent__inbox_post`.
    return Comment.objects.filter(workspace=access.workspace).select_related(
        "channel", "inbox_post", "parent", "parent__inbox_post", "assignee", "workspace"
    )


def _with_actions(comments: QuerySet[Comment]) -> QuerySet[Comment]:
    """The comments with what their card (`inbox/_comment.html`) shows of their actions (who did it, by which rule,
    to whom, whether it was undone), in one query for all of them: the one place that says it, for the card's own
    views and for the inbox's list and thread panel alike."""
    return comments.prefetch_related(
        Prefetch("actions", queryset=CommentAction.objects.select_related("actor", "assignee", "rule", "undone_by"))
    )


def _comment(access: WorkspaceAccess, comment_id: UUID) -> Comment:
    return get_object_or_404(_with_actions(_comments(access)), public_id=comment_id)


def _thread_url(access: WorkspaceAccess, comment: Comment) -> str:
    url = reverse(
        "inbox:thread", kwargs={"workspace_id": access.workspace.public_id, "comment_id": comment.thread.public_id}
    )
    return f"{url}#comment-{comment.public_id}"


def _assignees(access: WorkspaceAccess) -> list[User]:
    return actions.assignable_people(access.workspace)


def _card_context(request: HttpRequest, access: WorkspaceAccess, comment: Comment, **extra: Any) -> dict[str, Any]:
    can_moderate = access.can(Capability.INBOX_MODERATE)
    return {
        "comment": comment,
        "access": access,
        "workspace": access.workspace,
        "can_moderate": can_moderate,
        "assignees": _assignees(access) if can_moderate and comment.parent_id is None else None,
        **extra,
    }


def _render(request: HttpRequest, access: WorkspaceAccess, template: str, context: dict[str, Any]) -> str:
    with timezone.override(access.workspace.zoneinfo):
        return render_to_string(template, context, request)


def _card(request: HttpRequest, access: WorkspaceAccess, comment_id: UUID, **extra: Any) -> HttpResponse:
    comment = _comment(access, comment_id)
    return HttpResponse(_render(request, access, CARD, _card_context(request, access, comment, **extra)))


def _reply_form_context(request: HttpRequest, access: WorkspaceAccess, thread: Comment, **extra: Any) -> dict[str, Any]:
    possible, why = actions.private_reply_possible(thread)
    return {
        "comment": thread,
        "access": access,
        "workspace": access.workspace,
        "can_moderate": access.can(Capability.INBOX_MODERATE),
        "reply_form_ready": True,
        "rendered_replies": replies.saved_replies_rendered(workspace=access.workspace, comment=thread),
        "private_possible": possible,
        "private_why": why,
        "reply_max": actions.REPLY_MAX_CHARS.get(thread.channel.platform, 2200),
        **extra,
    }


def _back(request: HttpRequest, access: WorkspaceAccess, comment: Comment, notice: str, level: str) -> HttpResponse:
    if notice:
        getattr(messages, level)(request, notice)
    return HttpResponseRedirect(_thread_url(access, comment))


def _done_notice(action: CommentAction) -> str:
    if action.state == ActionState.PENDING:
        return "Sent to Meta; the comment shows the result once Meta confirms it."
    if action.state == ActionState.FAILED:
        return f"Refused: {action.error}"
    return "Done."


# --- one comment ----------------------------------------------------------------------------------------------
@workspace_view(Capability.INBOX_READ)
@require_GET
def comment_card(request: HttpRequest, access: WorkspaceAccess, comment_id: UUID) -> HttpResponse:
    """The comment's card (polled while an action is pending). `waiting` names the actions the card showed as
    pending: once one of them has finished, the thread around the card is told (`inboxActionFinished`)."""
    comment = _comment(access, comment_id)
    if not request.htmx:  # type: ignore[attr-defined]
        return HttpResponseRedirect(_thread_url(access, comment))
    response = HttpResponse(_render(request, access, CARD, _card_context(request, access, comment)))
    waited = _uuids(request.GET.getlist("waiting"))
    if waited:
        finished = (
            CommentAction.objects.filter(workspace=access.workspace, public_id__in=waited)
            .exclude(state=ActionState.PENDING)
            .values_list("kind", flat=True)
        )
        kinds = sorted(set(finished))
        if kinds:
            trigger_client_event(
                response, "inboxActionFinished", {"thread": str(comment.thread.public_id), "kinds": kinds}
            )
    return response


def _uuids(values: list[str]) -> list[UUID]:
    found = []
    for value in values[:50]:
        try:
            found.append(UUID(value))
        except ValueError:
            continue
    return found


@workspace_view(Capability.INBOX_MODERATE)
@require_GET
def reply_form(request: HttpRequest, access: WorkspaceAccess, comment_id: UUID) -> HttpResponse:
    """The reply box of a thread with its saved replies (filled in for this comment) and, where Meta allows one,
    the private-reply option."""
    comment = _comment(access, comment_id)
    if not request.htmx:  # type: ignore[attr-defined]
        return HttpResponseRedirect(_thread_url(access, comment))
    context = _reply_form_context(request, access, comment.thread)
    return HttpResponse(_render(request, access, REPLY_FORM, context))


def _assignee(request: HttpRequest, access: WorkspaceAccess) -> tuple[User | None, str]:
    """The person chosen in the form (only someone who moderates this inbox can be), or None to unassign; and why
    not, when the choice is not one of them."""
    value = (request.POST.get("assignee") or "").strip()
    if value == "me":
        return request.user, ""  # type: ignore[return-value]
    if not value:
        return None, ""
    chosen = next((u for u in _assignees(access) if str(u.pk) == value), None)
    if chosen is None:
        return None, "Choose someone who moderates this inbox."
    return chosen, ""


@workspace_view(Capability.INBOX_MODERATE)
@require_POST
def comment_action(request: HttpRequest, access: WorkspaceAccess, comment_id: UUID, kind: str) -> HttpResponse:
    if kind not in K.values:
        raise Http404
    comment = get_object_or_404(_comments(access), public_id=comment_id)
    text = request.POST.get("text", "")
    if kind == K.REPLY and request.POST.get("private") == "1":
        kind = K.PRIVATE_REPLY
    assignee, refusal = _assignee(request, access) if kind == K.ASSIGN else (None, "")
    action = None
    if not refusal:
        try:
            action = actions.action_request(
                comment=comment, kind=kind, actor=request.user, text=text, assignee=assignee
            )  # type: ignore[arg-type]
        except actions.ActionRefused as exc:
            refusal = " ".join(exc.messages)
    from_reply_form = request.POST.get("form") == "reply"
    if not request.htmx:  # type: ignore[attr-defined]
        if refusal and kind in (K.REPLY, K.PRIVATE_REPLY) and text.strip():
            refusal += f" Your reply was: “{text}”"
        notice = refusal or _done_notice(action)  # type: ignore[arg-type]
        return _back(request, access, comment, notice, "error" if refusal else "success")
    if from_reply_form:
        thread = _comment(access, comment.thread.public_id)
        form = _render(
            request,
            access,
            REPLY_FORM,
            _reply_form_context(
                request,
                access,
                thread,
                reply_notice=refusal,
                typed=text if refusal else "",
                private_checked=bool(refusal) and kind == K.PRIVATE_REPLY,
                reply_sent=action is not None,
            ),
        )
        card = _render(request, access, CARD, _card_context(request, access, thread, oob=True))
        return HttpResponse(form + card)
    return _card(request, access, comment_id, card_notice=refusal)


def _action(access: WorkspaceAccess, action_id: UUID) -> CommentAction:
    return get_object_or_404(
        CommentAction.objects.select_related("comment", "comment__parent", "assignee"),
        workspace=access.workspace,
        public_id=action_id,
    )


@workspace_view(Capability.INBOX_MODERATE)
@require_POST
def action_retry(request: HttpRequest, access: WorkspaceAccess, action_id: UUID) -> HttpResponse:
    action = _action(access, action_id)
    refusal = ""
    try:
        action = actions.action_retry(action=action, actor=request.user)  # type: ignore[arg-type]
    except actions.ActionRefused as exc:
        refusal = " ".join(exc.messages)
    if not request.htmx:  # type: ignore[attr-defined]
        return _back(request, access, action.comment, refusal or "Trying again.", "error" if refusal else "success")
    return _card(request, access, action.comment.public_id, card_notice=refusal)


@workspace_view(Capability.INBOX_MODERATE)
@require_POST
def action_undo(request: HttpRequest, access: WorkspaceAccess, action_id: UUID) -> HttpResponse:
    action = _action(access, action_id)
    refusal, undo = "", None
    try:
        undo = actions.action_undo(action=action, actor=request.user)  # type: ignore[arg-type]
    except actions.ActionRefused as exc:
        refusal = " ".join(exc.messages)
    if not request.htmx:  # type: ignore[attr-defined]
        notice = refusal or ("Undone." if undo and undo.state == ActionState.DONE else _done_notice(undo))  # type: ignore[arg-type]
        return _back(request, access, action.comment, notice, "error" if refusal else "success")
    return _card(request, access, action.comment.public_id, card_notice=refusal)


# --- many comments --------------------------------------------------------------------------------------------
def _bulk_summary(results: list[CommentAction], kind: str) -> tuple[str, list[tuple[Comment, str]]]:
    """The summary, with the verb as the button says it ("Hide: 2 comments sent to Meta."), and each refused
    comment with the reason."""
    made = [r for r in results if r.pk]
    refused = [(r.comment, r.error) for r in results if not r.pk]
    count = len(made)
    summary = f"{K(kind).label}: {count} comment{'s' if count != 1 else ''}"
    summary += " sent to Meta." if count and kind in META_ACTIONS else "."
    if refused:
        summary += f" {len(refused)} not:"
    return summary, refused


@workspace_view(Capability.INBOX_MODERATE)
@require_POST
def bulk(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    """One action (done, reopen, hide, assign) on the chosen comments (`comment`: their public ids, each checked
    to be the workspace's). Refused ones are listed with the reason; the others go ahead."""
    kind = request.POST.get("kind", "")
    ids = _uuids(request.POST.getlist("comment"))
    comments = list(_comments(access).filter(public_id__in=ids).order_by("-last_activity_at", "-pk"))
    summary, refused, level = "", [], "success"
    assignee, refusal = _assignee(request, access) if kind == K.ASSIGN else (None, "")
    if not comments:
        refusal = "Choose at least one comment."
    if refusal:
        summary, level = refusal, "error"
    else:
        try:
            results = actions.bulk_request(comments=comments, kind=kind, actor=request.user, assignee=assignee)  # type: ignore[arg-type]
        except actions.ActionRefused as exc:
            summary, level = " ".join(exc.messages), "error"
        else:
            summary, refused = _bulk_summary(results, kind)
            level = "warning" if refused else "success"
    if not request.htmx:  # type: ignore[attr-defined]
        text = summary + "".join(f" {c.author_name or 'A comment'}: {why}" for c, why in refused)
        getattr(messages, level)(request, text)
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            back = reverse("inbox:inbox", kwargs={"workspace_id": access.workspace.public_id})
        return redirect(back)
    body = _render(
        request,
        access,
        f"{CARD}#bulk-result",
        {"summary": summary, "refused": refused, "level": level, "workspace": access.workspace},
    )
    response = HttpResponse(body)
    changed = [str(c.thread.public_id) for c in comments]
    return trigger_client_event(response, "inboxBulkDone", {"threads": changed, "kind": kind})


# --- saved replies --------------------------------------------------------------------------------------------
class SavedReplyForm(forms.Form):
    title = forms.CharField(label="Name", max_length=100, help_text="What the team picks it by, e.g. “Thanks”.")
    text = forms.CharField(label="Reply", widget=forms.Textarea(attrs={"rows": 4}), max_length=replies.TEXT_MAX_CHARS)


def _saved_reply(access: WorkspaceAccess, reply_id: UUID) -> SavedReply:
    return get_object_or_404(SavedReply, workspace=access.workspace, public_id=reply_id)


def _replies_page(
    request: HttpRequest, access: WorkspaceAccess, *, form: SavedReplyForm | None = None, status: int = 200
) -> HttpResponse:
    context = {
        "access": access,
        "workspace": access.workspace,
        "saved_replies": SavedReply.objects.filter(workspace=access.workspace).select_related("created_by"),
        "can_edit": access.can(Capability.INBOX_MODERATE),
        "form": form or SavedReplyForm(),
        "placeholders": replies.PLACEHOLDERS,
    }
    with timezone.override(access.workspace.zoneinfo):
        return render(request, "inbox/saved_replies.html", context, status=status)


def _form_errors(form: SavedReplyForm, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


@require_http_methods(["GET", "POST"])
def saved_replies(request: HttpRequest, workspace_id: UUID) -> HttpResponse:
    """One address: GET lists the workspace's saved replies (with the form to add one for those who may), POST
    adds one (managers and moderators)."""
    if request.method == "POST":
        return saved_reply_add(request, workspace_id)
    return saved_reply_list(request, workspace_id)


@workspace_view(Capability.INBOX_READ)
def saved_reply_list(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    return _replies_page(request, access)


@workspace_view(Capability.INBOX_MODERATE)
def saved_reply_add(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    form = SavedReplyForm(request.POST)
    if form.is_valid():
        try:
            made = replies.saved_reply_create(
                workspace=access.workspace,
                title=form.cleaned_data["title"],
                text=form.cleaned_data["text"],
                by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"Saved “{made.title}”.")
            return redirect("inbox:saved_replies", workspace_id=access.workspace.public_id)
    return _replies_page(request, access, form=form, status=400)


@workspace_view(Capability.INBOX_MODERATE)
@require_http_methods(["GET", "POST"])
def saved_reply_edit(request: HttpRequest, access: WorkspaceAccess, reply_id: UUID) -> HttpResponse:
    saved = _saved_reply(access, reply_id)
    status = 200
    if request.method == "POST":
        form = SavedReplyForm(request.POST)
        if form.is_valid():
            try:
                replies.saved_reply_update(
                    saved_reply=saved, title=form.cleaned_data["title"], text=form.cleaned_data["text"]
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, f"Saved “{saved.title}”.")
                return redirect("inbox:saved_replies", workspace_id=access.workspace.public_id)
        status = 400
    else:
        form = SavedReplyForm(initial={"title": saved.title, "text": saved.text})
    context = {
        "access": access,
        "workspace": access.workspace,
        "saved_reply": saved,
        "form": form,
        "placeholders": replies.PLACEHOLDERS,
    }
    return render(request, "inbox/saved_reply_form.html", context, status=status)


@workspace_view(Capability.INBOX_MODERATE)
@require_POST
def saved_reply_delete(request: HttpRequest, access: WorkspaceAccess, reply_id: UUID) -> HttpResponse:
    saved = _saved_reply(access, reply_id)
    replies.saved_reply_delete(saved_reply=saved)
    messages.success(request, f"Deleted “{saved.title}”.")
    return redirect("inbox:saved_replies", workspace_id=access.workspace.public_id)


W = "w/<uuid:workspace_id>/inbox/"
urlpatterns = [
    path(f"{W}c/<uuid:comment_id>/", comment_card, name="comment"),
    path(f"{W}c/<uuid:comment_id>/reply-form/", reply_form, name="reply_form"),
    path(f"{W}c/<uuid:comment_id>/<str:kind>/", comment_action, name="action"),
    path(f"{W}a/<uuid:action_id>/retry/", action_retry, name="action_retry"),
    path(f"{W}a/<uuid:action_id>/undo/", action_undo, name="action_undo"),
    path(f"{W}bulk/", bulk, name="bulk"),
    path(f"{W}replies/", saved_replies, name="saved_replies"),
    path(f"{W}replies/<uuid:reply_id>/", saved_reply_edit, name="saved_reply_edit"),
    path(f"{W}replies/<uuid:reply_id>/delete/", saved_reply_delete, name="saved_reply_delete"),
]
