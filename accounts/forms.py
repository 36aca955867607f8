from __future__ import annotations

import zoneinfo

from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.core import context
from django import forms
from django.conf import settings

from .adapters import invitation_from_session
from .models import AgencyMembership, AgencyRole, Workspace, WorkspaceRole


def _timezone_choices() -> list[tuple[str, str]]:
    return [
        (name, name.replace("_", " "))
        for name in sorted(zoneinfo.available_timezones())
        if "/" in name or name == "UTC"
    ]


class TimezoneField(forms.ChoiceField):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(choices=_timezone_choices, label="Time zone", **kwargs)  # type: ignore[arg-type]


class OnboardingForm(forms.Form):
    agency_name = forms.CharField(max_length=120, label="Your agency's name")
    workspace_name = forms.CharField(
        max_length=120, label="Your first client", help_text="A brand you manage. You can add more later."
    )
    timezone = TimezoneField(help_text="Posts for this client are scheduled in this time zone.")


class WorkspaceForm(forms.Form):
    name = forms.CharField(max_length=120, label="Client name")
    timezone = TimezoneField()


class InvitationForm(forms.Form):
    email = forms.EmailField()
    agency_role = forms.ChoiceField(choices=AgencyRole.choices, initial=AgencyRole.MEMBER, label="Agency role")
    workspace = forms.ModelChoiceField(
        queryset=Workspace.objects.none(), required=False, empty_label="No workspace yet", label="Workspace"
    )
    workspace_role = forms.ChoiceField(
        choices=[("", "—"), *WorkspaceRole.choices], required=False, label="Role in the workspace"
    )

    def __init__(self, *args: object, agency_id: int, grantable: frozenset[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["workspace"].queryset = Workspace.objects.filter(agency_id=agency_id)  # type: ignore[attr-defined]
        self.fields["agency_role"].choices = [c for c in AgencyRole.choices if c[0] in grantable]  # type: ignore[attr-defined]

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("workspace") and not data.get("workspace_role"):
            self.add_error("workspace_role", "Choose the role this person gets in the workspace.")
        if data.get("workspace_role") and not data.get("workspace"):
            self.add_error("workspace", "Choose the workspace this role applies to.")
        return data


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=AgencyRole.choices)


class WorkspaceMemberForm(forms.Form):
    member = forms.ModelChoiceField(queryset=AgencyMembership.objects.none(), label="Person")
    role = forms.ChoiceField(choices=WorkspaceRole.choices, initial=WorkspaceRole.EDITOR)

    def __init__(self, *args: object, workspace: Workspace, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["member"].queryset = (  # type: ignore[attr-defined]
            AgencyMembership.objects.filter(agency_id=workspace.agency_id, role=AgencyRole.MEMBER)
            .exclude(user__workspace_memberships__workspace=workspace)
            .select_related("user")
        )
        self.fields["member"].label_from_instance = lambda m: m.user.get_full_name()  # type: ignore[attr-defined]


class WorkspaceRoleForm(forms.Form):
    role = forms.ChoiceField(choices=WorkspaceRole.choices)


class SignupForm(AllauthSignupForm):
    """allauth's sign-up form. When sign-up is by invitation, the account is for the invited address."""

    def clean_email(self) -> str:
        email = super().clean_email()
        if settings.SIGNUP_POLICY == "open":
            return email
        invitation = invitation_from_session(context.request)
        if invitation is not None and email.lower() != invitation.email.lower():
            raise forms.ValidationError(f"This invitation was sent to {invitation.email}. Sign up with that address.")
        return email
