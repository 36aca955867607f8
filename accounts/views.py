from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from publishing import overview

from . import services
from .access import AgencyAccess, WorkspaceAccess, agency_view, workspace_view, workspaces_for_user
from .adapters import INVITATION_SESSION_KEY
from .forms import (
    InvitationForm,
    OnboardingForm,
    PauseForm,
    RoleForm,
    WorkspaceForm,
    WorkspaceMemberForm,
    WorkspaceRoleForm,
    WorkspaceSettingsForm,
)
from .models import AgencyMembership, AgencyRole, Invitation, User, WorkspaceMembership, WorkspaceRole
from .roles import GRANTABLE_AGENCY_ROLES, AgencyCapability, Capability, capability_table
from .services import pause as pause_services

LAST_WORKSPACE_SESSION_KEY = "last_workspace"


def _validation_messages(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def _pending_invitations(request: HttpRequest) -> list[Invitation]:
    """Pending invitations sent to an address the signed-in person has confirmed."""
    emails = services.user_verified_emails(request.user)
    return list(Invitation.objects.pending().filter(email__in=emails).select_related("agency"))


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send people to the workspace they used last, or to onboarding when they have none."""
    workspaces = list(workspaces_for_user(request.user))
    invitations = _pending_invitations(request)
    if not workspaces and not invitations and not request.user.agency_memberships.exists():
        return redirect("accounts:onboarding")
    last = request.session.get(LAST_WORKSPACE_SESSION_KEY)
    chosen = next((w for w in workspaces if str(w.public_id) == last), None) or (workspaces[0] if workspaces else None)
    if chosen and not invitations:
        return redirect("accounts:workspace_dashboard", workspace_id=chosen.public_id)
    return render(request, "accounts/home.html", {"workspaces": workspaces, "invitations": invitations})


@login_required
@require_http_methods(["GET", "POST"])
def onboarding(request: HttpRequest) -> HttpResponse:
    if request.user.agency_memberships.exists():
        return redirect("home")
    form = OnboardingForm(request.POST or None, initial={"timezone": "UTC"})
    if request.method == "POST" and form.is_valid():
        workspace = services.agency_create(
            owner=request.user,
            name=form.cleaned_data["agency_name"],
            first_workspace_name=form.cleaned_data["workspace_name"],
            timezone_name=form.cleaned_data["timezone"],
        )
        messages.success(request, f"Welcome! {workspace.name} is ready. Connect its accounts next.")
        return redirect("accounts:workspace_dashboard", workspace_id=workspace.public_id)
    return render(
        request,
        "accounts/onboarding.html",
        {"form": form, "invitations": _pending_invitations(request), "prefill_timezone": not form.is_bound},
    )


def _pause_context(access: WorkspaceAccess, *, form: PauseForm | None = None, back: str = "") -> dict:
    """What the pause switch shows: its state, who paused and why, and how many posts wait for the resume."""
    workspace = access.workspace
    return {
        "workspace": workspace,
        "can_pause": access.can(Capability.POSTS_PUBLISH),
        "pause_form": form or PauseForm(),
        "held": overview.held_count(workspace=workspace, now=timezone.now()) if workspace.paused else 0,
        "back": back,
    }


def _setup_links(access: WorkspaceAccess) -> dict[str, str | None]:
    """Where each setup step is done, for someone who may do it (None: they cannot, and are told whom to ask)."""
    ws = access.workspace.public_id
    links: dict[str, str | None] = dict.fromkeys(("channel", "client", "post", "times"))
    if access.can(Capability.CHANNELS_MANAGE):
        links["channel"] = reverse("accounts:channels", kwargs={"workspace_id": ws})
    if access.agency_role in (AgencyRole.OWNER, AgencyRole.ADMIN):  # invitations are the agency's
        links["client"] = reverse("accounts:agency_team", kwargs={"agency_id": access.workspace.agency.public_id})
    elif access.can(Capability.WORKSPACE_MANAGE):  # a manager may still send the client an approval link
        links["client"] = overview.routed(f"/w/{ws}/approvals/links/")
    if access.can(Capability.POSTS_DRAFT):
        links["post"] = reverse("publishing:post_new", kwargs={"workspace_id": ws})
    if access.can(Capability.POSTS_PUBLISH):
        links["times"] = overview.url_or_none("publishing:queue", workspace_id=ws)
    return links


@workspace_view()
def workspace_dashboard(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    workspace = access.workspace
    request.session[LAST_WORKSPACE_SESSION_KEY] = str(workspace.public_id)
    members = WorkspaceMembership.objects.filter(workspace=workspace).select_related("user")
    dashboard = overview.workspace_dashboard(workspace=workspace, now=timezone.now())
    links = _setup_links(access)
    steps = [{"step": step, "url": links[step.key]} for step in dashboard.setup]
    return render(
        request,
        "accounts/workspace_dashboard.html",
        {
            **_pause_context(access),
            "access": access,
            "members": members,
            "dashboard": dashboard,
            "steps": steps,
            "steps_left": [s for s in steps if not s["step"].done],
            "tz": workspace.zoneinfo,
            "calendar_url": overview.calendar_url(workspace.public_id),
            "approvals_url": overview.routed(f"/w/{workspace.public_id}/approvals/"),
        },
    )


@workspace_view(Capability.WORKSPACE_MANAGE)
@require_http_methods(["GET", "POST"])
def workspace_settings(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    workspace = access.workspace
    form = WorkspaceSettingsForm(
        request.POST or None,
        initial={"name": workspace.name, "timezone": workspace.timezone, "approval_flow": workspace.approval_flow},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.workspace_update(
                workspace=workspace,
                name=form.cleaned_data["name"],
                timezone_name=form.cleaned_data["timezone"],
                approval_flow=form.cleaned_data["approval_flow"] or None,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Workspace settings saved.")
            return redirect("accounts:workspace_settings", workspace_id=workspace.public_id)
    return render(
        request,
        "accounts/workspace_settings.html",
        {**_pause_context(access, back="settings"), "access": access, "form": form},
    )


def _pause_answer(
    request: HttpRequest, access: WorkspaceAccess, *, notice: str, level: str, form: PauseForm | None = None
) -> HttpResponse:
    """After pausing or resuming: with htmx the switch again (and the banner every page shows, out of band);
    otherwise back to the page the switch was on."""
    back = "settings" if request.POST.get("back") == "settings" else ""
    if request.htmx:
        context = {**_pause_context(access, form=form, back=back), "notice": notice, "notice_level": level}
        return render(request, "accounts/_pause_switch.html", {**context, "banner_oob": True})
    getattr(messages, level)(request, notice)
    name = "accounts:workspace_settings" if back else "accounts:workspace_dashboard"
    return redirect(reverse(name, kwargs={"workspace_id": access.workspace.public_id}) + "#pause-switch")


def _who_paused(access: WorkspaceAccess) -> str:
    workspace = access.workspace
    return workspace.paused_by.get_full_name() if workspace.paused_by else "someone"


@workspace_view(Capability.POSTS_PUBLISH)
@require_POST
def workspace_pause(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    form = PauseForm(request.POST)
    if not form.is_valid():
        return _pause_answer(request, access, notice=form.errors["reason"][0], level="error", form=form)
    try:
        paused = pause_services.workspace_pause(
            workspace=access.workspace, user=request.user, reason=form.cleaned_data["reason"]
        )
    except ValidationError as exc:
        form.add_error("reason", exc.message_dict.get("reason", exc.messages))
        return _pause_answer(request, access, notice=form.errors["reason"][0], level="error", form=form)
    if paused:
        notice = f"Publishing is paused. Nothing of {access.workspace.name} goes out until someone resumes it."
        return _pause_answer(request, access, notice=notice, level="success")
    notice = f"{_who_paused(access)} had already paused publishing; their reason stays."
    return _pause_answer(request, access, notice=notice, level="info")


@workspace_view(Capability.POSTS_PUBLISH)
@require_POST
def workspace_resume(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    resumed = pause_services.workspace_resume(workspace=access.workspace, user=request.user)
    if resumed is None:
        return _pause_answer(request, access, notice="Publishing was already on.", level="info")
    return _pause_answer(request, access, notice=_resumed_message(resumed), level="success")


def _resumed_message(resumed: pause_services.Resumed) -> str:
    n, m = resumed.going_out, resumed.moved
    parts = []
    if n:
        parts.append(f"{n} post{pluralize(n)} whose time passed {pluralize(n, 'goes,go')} out within a minute")
    if m:
        parts.append(f"{m} queued post{pluralize(m)} {pluralize(m, 'moves,move')} to the next free time{pluralize(m)}")
    if not parts:  # nothing was past its time when it resumed
        return "Publishing is back on. Posts whose time has passed go out within a minute."
    return "Publishing is back on. " + "; ".join(parts) + "."


@workspace_view(Capability.WORKSPACE_MANAGE)
@require_http_methods(["GET", "POST"])
def workspace_team(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    workspace = access.workspace
    form = WorkspaceMemberForm(request.POST or None, workspace=workspace)
    if request.method == "POST" and form.is_valid():
        member = form.cleaned_data["member"]
        services.workspace_member_set(workspace=workspace, user=member.user, role=form.cleaned_data["role"])
        messages.success(request, f"{member.user.get_full_name()} joined {workspace.name}.")
        return redirect("accounts:workspace_team", workspace_id=workspace.public_id)
    memberships = WorkspaceMembership.objects.filter(workspace=workspace).select_related("user")
    agency_admins = AgencyMembership.objects.filter(
        agency_id=workspace.agency_id, role__in=[AgencyRole.OWNER, AgencyRole.ADMIN]
    ).select_related("user")
    return render(
        request,
        "accounts/workspace_team.html",
        {
            "access": access,
            "workspace": workspace,
            "form": form,
            "memberships": memberships,
            "agency_admins": agency_admins,
            "role_choices": WorkspaceRole.choices,
            "capability_table": capability_table(),
            "workspace_roles": WorkspaceRole.choices,
        },
    )


@workspace_view(Capability.WORKSPACE_MANAGE)
@require_POST
def workspace_member_role(request: HttpRequest, access: WorkspaceAccess, membership_id: int) -> HttpResponse:
    membership = get_object_or_404(WorkspaceMembership, pk=membership_id, workspace=access.workspace)
    form = WorkspaceRoleForm(request.POST)
    if form.is_valid():
        membership = services.workspace_member_set(
            workspace=access.workspace, user=membership.user, role=form.cleaned_data["role"]
        )
    if request.htmx:
        return render(
            request,
            "accounts/workspace_team.html#member-row",
            {"m": membership, "workspace": access.workspace, "role_choices": WorkspaceRole.choices, "saved": True},
        )
    return redirect("accounts:workspace_team", workspace_id=access.workspace.public_id)


@workspace_view(Capability.WORKSPACE_MANAGE)
@require_POST
def workspace_member_remove(request: HttpRequest, access: WorkspaceAccess, membership_id: int) -> HttpResponse:
    membership = get_object_or_404(WorkspaceMembership, pk=membership_id, workspace=access.workspace)
    services.workspace_member_remove(workspace=access.workspace, membership=membership)
    messages.success(request, f"{membership.user.get_full_name()} no longer has access to {access.workspace.name}.")
    if request.htmx:
        return HttpResponse("")
    return redirect("accounts:workspace_team", workspace_id=access.workspace.public_id)


@agency_view(AgencyCapability.WORKSPACES_CREATE)
@require_http_methods(["GET", "POST"])
def workspace_create(request: HttpRequest, access: AgencyAccess) -> HttpResponse:
    form = WorkspaceForm(request.POST or None, initial={"timezone": "UTC"})
    if request.method == "POST" and form.is_valid():
        try:
            workspace = services.workspace_create(
                access=access, name=form.cleaned_data["name"], timezone_name=form.cleaned_data["timezone"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{workspace.name} is ready.")
            return redirect("accounts:workspace_dashboard", workspace_id=workspace.public_id)
    return render(
        request,
        "accounts/workspace_create.html",
        {"agency": access.agency, "form": form, "prefill_timezone": not form.is_bound},
    )


def _agency_team_context(access: AgencyAccess, invite_form: InvitationForm) -> dict:
    return {
        "agency": access.agency,
        "agency_access": access,
        "members": AgencyMembership.objects.filter(agency=access.agency).select_related("user"),
        "invitations": Invitation.objects.pending().filter(agency=access.agency).select_related("workspace"),
        "workspaces": access.agency.workspaces.all(),
        "invite_form": invite_form,
        "grantable_roles": [c for c in AgencyRole.choices if c[0] in GRANTABLE_AGENCY_ROLES[access.role]],
        "capability_table": capability_table(),
        "workspace_roles": WorkspaceRole.choices,
    }


@agency_view(AgencyCapability.TEAM_MANAGE)
@require_http_methods(["GET", "POST"])
def agency_team(request: HttpRequest, access: AgencyAccess) -> HttpResponse:
    """The agency's people and pending invitations; POST sends an invitation."""
    form = InvitationForm(
        request.POST or None, agency_id=access.agency.pk, grantable=GRANTABLE_AGENCY_ROLES[access.role]
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.invitation_create(
                access=access,
                invited_by=request.user,
                email=form.cleaned_data["email"],
                agency_role=form.cleaned_data["agency_role"],
                workspace=form.cleaned_data["workspace"],
                workspace_role=form.cleaned_data["workspace_role"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]:
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
            return redirect("accounts:agency_team", agency_id=access.agency.public_id)
    return render(request, "accounts/agency_team.html", _agency_team_context(access, form))


@agency_view(AgencyCapability.TEAM_MANAGE)
@require_POST
def agency_member_role(request: HttpRequest, access: AgencyAccess, membership_id: int) -> HttpResponse:
    membership = get_object_or_404(AgencyMembership, pk=membership_id, agency=access.agency)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.agency_member_set_role(access=access, membership=membership, role=form.cleaned_data["role"])
        except ValidationError as exc:
            for message in _validation_messages(exc):
                messages.error(request, message)
        else:
            messages.success(request, f"{membership.user.get_full_name()} is now {form.cleaned_data['role']}.")
    return redirect("accounts:agency_team", agency_id=access.agency.public_id)


@agency_view(AgencyCapability.TEAM_MANAGE)
@require_POST
def agency_member_remove(request: HttpRequest, access: AgencyAccess, membership_id: int) -> HttpResponse:
    membership = get_object_or_404(AgencyMembership, pk=membership_id, agency=access.agency)
    try:
        services.agency_member_remove(access=access, membership=membership)
    except ValidationError as exc:
        for message in _validation_messages(exc):
            messages.error(request, message)
    else:
        messages.success(request, f"{membership.user.get_full_name()} was removed from {access.agency.name}.")
    return redirect("accounts:agency_team", agency_id=access.agency.public_id)


@agency_view(AgencyCapability.TEAM_MANAGE)
@require_POST
def invitation_link(request: HttpRequest, access: AgencyAccess, invitation_id: int) -> HttpResponse:
    """Show a fresh accept link for one pending invitation, to pass on by hand when mail is not set up yet.
    The page is rendered, not redirected to, so the link is never stored in a URL or a message."""
    invitation = get_object_or_404(Invitation, pk=invitation_id, agency=access.agency)
    try:
        url = services.invitation_link_renew(access=access, invitation=invitation)
    except ValidationError as exc:
        for message in _validation_messages(exc):
            messages.error(request, message)
        return redirect("accounts:agency_team", agency_id=access.agency.public_id)
    form = InvitationForm(agency_id=access.agency.pk, grantable=GRANTABLE_AGENCY_ROLES[access.role])
    context = _agency_team_context(access, form)
    context["shared_link"] = {"invitation": invitation, "url": url}
    response = render(request, "accounts/agency_team.html", context)
    add_never_cache_headers(response)
    return response


@agency_view(AgencyCapability.TEAM_MANAGE)
@require_POST
def invitation_revoke(request: HttpRequest, access: AgencyAccess, invitation_id: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation, pk=invitation_id, agency=access.agency)
    services.invitation_revoke(access=access, invitation=invitation)
    messages.success(request, f"The invitation for {invitation.email} was withdrawn.")
    return redirect("accounts:agency_team", agency_id=access.agency.public_id)


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed (or copied) link. Only the invited address may accept; an unknown token is a 404.

    Someone not signed in is sent to sign in, or to sign up when no account has the invited address; the
    session keeps the invitation, which is what opens sign-up when SIGNUP_POLICY is "invitation"."""
    invitation = Invitation.find_by_token(token)
    if invitation is None:
        raise Http404
    if not request.user.is_authenticated:
        if invitation.status != "pending":
            return redirect_to_login(request.path)
        request.session[INVITATION_SESSION_KEY] = token
        query = {"next": request.path}
        if User.objects.filter(email__iexact=invitation.email).exists():
            messages.info(request, f"Sign in as {invitation.email} to join {invitation.agency.name}.")
            return redirect(f"{reverse('account_login')}?{urlencode(query)}")
        messages.info(request, f"Create your account with {invitation.email} to join {invitation.agency.name}.")
        return redirect(f"{reverse('account_signup')}?{urlencode({'email': invitation.email, **query})}")
    addresses = {request.user.email.lower(), *(e.email.lower() for e in request.user.emailaddress_set.all())}
    if invitation.email.lower() not in addresses:
        raise Http404
    return _invitation_respond(request, invitation)


@login_required
@require_POST
def invitation_accept_pending(request: HttpRequest, invitation_id: int) -> HttpResponse:
    """Accept from the home page, where signed-in people see invitations sent to an address they confirmed."""
    invitation = get_object_or_404(Invitation, pk=invitation_id, email__in=services.user_verified_emails(request.user))
    return _invitation_respond(request, invitation)


def _invitation_respond(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    if request.method == "POST":
        try:
            services.invitation_accept(invitation=invitation, user=request.user)
        except ValidationError as exc:
            for message in _validation_messages(exc):
                messages.error(request, message)
        else:
            request.session.pop(INVITATION_SESSION_KEY, None)
            messages.success(request, f"You joined {invitation.agency.name}.")
            if invitation.workspace_id:
                return redirect("accounts:workspace_dashboard", workspace_id=invitation.workspace.public_id)
            return redirect("home")
    verified = invitation.email.lower() in services.user_verified_emails(request.user)
    return render(request, "accounts/invitation.html", {"invitation": invitation, "verified": verified})
