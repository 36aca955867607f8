from __future__ import annotations

import functools
import zoneinfo

from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.core import context
from django import forms
from django.conf import settings

from .adapters import invitation_from_session
from .models import AgencyMembership, AgencyRole, ApprovalFlow, Workspace, WorkspaceRole


def _timezone_names() -> list[str]:
    """The IANA zones people pick from: every Area/City name, and UTC (the bare legacy aliases are left out)."""
    return sorted(name for name in zoneinfo.available_timezones() if "/" in name or name == "UTC")


def _timezone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in _timezone_names()]


@functools.cache
def _timezone_lookup() -> dict[str, str]:
    """What someone may type for a zone, in lower case, to its IANA name: the name itself with spaces or
    underscores ("america/new york"), or just the city when only one zone has it ("rome", "new york")."""
    lookup = {name.lower(): name for name in _timezone_names()}
    lookup.update({name.lower().replace("_", " "): name for name in _timezone_names()})
    cities: dict[str, list[str]] = {}
    for name in _timezone_names():
        city = name.rsplit("/", 1)[-1].lower()
        for key in {city, city.replace("_", " ")}:
            cities.setdefault(key, []).append(name)
    for city, names in cities.items():
        if len(names) == 1:
            lookup.setdefault(city, names[0])
    return lookup


class TimezoneField(forms.ChoiceField):
    """A time zone, typed with suggestions (an input with a datalist of every zone, see
    templates/accounts/_timezone_field.html) rather than picked from a 400-line select. What was typed is matched
    to its IANA name, ignoring case and spaces, or by city alone when that is unambiguous."""

    widget = forms.TextInput
    default_error_messages = {
        "invalid_choice": "Select a valid choice from the list: “%(value)s” is not a time zone we know. Type a city, "
        "such as Rome or New York, and pick it from the suggestions.",
        "required": "Choose the time zone this client's posts go out in: type a city, such as Rome.",
    }

    def __init__(self, **kwargs: object) -> None:
        super().__init__(choices=_timezone_choices, label="Time zone", **kwargs)  # type: ignore[arg-type]

    def to_python(self, value: object) -> str:
        text = " ".join(str(super().to_python(value)).split())
        return _timezone_lookup().get(text.lower(), text)


class OnboardingForm(forms.Form):
    agency_name = forms.CharField(max_length=120, label="Your agency's name")
    workspace_name = forms.CharField(
        max_length=120, label="Your first client", help_text="A brand you manage. You can add more later."
    )
    timezone = TimezoneField(help_text="Posts for this client are scheduled in this time zone.")


class WorkspaceForm(forms.Form):
    name = forms.CharField(max_length=120, label="Client name")
    timezone = TimezoneField(help_text="Posts for this client are scheduled in this time zone.")


# One line each on the settings page, under the choice it explains.
APPROVAL_FLOW_HELP = {
    ApprovalFlow.NONE: "Nobody approves. Anyone who can write posts schedules them directly.",
    ApprovalFlow.INTERNAL: "A manager approves posts written by editors before they are scheduled. Managers' own "
    "posts are scheduled directly.",
    ApprovalFlow.INTERNAL_CLIENT: "A manager approves editors' posts, then the client approves every post, "
    "managers' too, before it is scheduled.",
}


class WorkspaceSettingsForm(WorkspaceForm):
    # Not required: a form sent without it (an older page, a script) leaves the workspace's flow as it is.
    approval_flow = forms.ChoiceField(
        choices=ApprovalFlow.choices,
        required=False,
        widget=forms.RadioSelect,
        label="Approvals",
        help_text="Changes apply to posts sent for approval from now on.",
    )

    def approval_options(self) -> list[dict[str, str]]:
        return [
            {"value": value, "label": label, "help": APPROVAL_FLOW_HELP[ApprovalFlow(value)]}
            for value, label in ApprovalFlow.choices
        ]


class PauseForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        label="Why are you pausing?",
        help_text="Your team sees this on every page of the workspace until publishing is resumed.",
        error_messages={"required": "Say in a few words why publishing is paused, so your team knows."},
    )


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
