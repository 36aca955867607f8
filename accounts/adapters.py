"""allauth hooks: who may sign up, where people land after signing in, and how a Facebook or Instagram
consent becomes channels of a workspace instead of a login."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest
from django.shortcuts import redirect
from django.urls import reverse

from socialhub.graph import GraphError

from .access import get_workspace_for_user
from .models import Invitation
from .roles import Capability

# Set by the Channels page right before it sends the person to Meta: which workspace the consent is for.
CONNECT_SESSION_KEY = "channel_connect"
# Set when someone who is not signed in opens an invitation link: the token of that invitation.
INVITATION_SESSION_KEY = "invitation_token"


def invitation_from_session(request: HttpRequest) -> Invitation | None:
    """The pending invitation whose link this visitor opened, if there is one."""
    token = request.session.get(INVITATION_SESSION_KEY)
    invitation = Invitation.find_by_token(token) if token else None
    if invitation is None or invitation.status != "pending":
        return None
    return invitation


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """With SIGNUP_POLICY "invitation", only someone who came through a pending invitation link may sign up."""
        return settings.SIGNUP_POLICY == "open" or invitation_from_session(request) is not None

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        # `home` sends people without an agency to onboarding and others to their last workspace.
        return reverse("home")

    def get_signup_redirect_url(self, request: HttpRequest) -> str:
        return reverse("home")


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """ "Log in with Facebook" is a way to sign in; connecting a client's channels is a separate flow that never
    links the person's Facebook identity to anything: its token only serves to list and pick the assets."""

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        """A new account through "Log in with Facebook" follows SIGNUP_POLICY too, and through an invitation
        only for the invited address."""
        if settings.SIGNUP_POLICY == "open":
            return True
        invitation = invitation_from_session(request)
        email = (sociallogin.user.email if sociallogin.user else "") or ""
        return invitation is not None and email.lower() == invitation.email.lower()

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        provider = sociallogin.account.provider
        if sociallogin.state.get("process") != "connect":
            if provider != "facebook":
                messages.error(request, "Instagram connects accounts to a workspace; it is not a way to sign in.")
                raise ImmediateHttpResponse(redirect("account_login"))
            return
        intent = request.session.pop(CONNECT_SESSION_KEY, None)
        if not intent or intent.get("provider") != provider:
            messages.error(
                request, "That connection was not started from a workspace's Channels page. Try again there."
            )
            raise ImmediateHttpResponse(redirect("home"))
        try:
            access = get_workspace_for_user(request.user, intent["workspace"])  # type: ignore[arg-type]
        except Http404:
            raise ImmediateHttpResponse(redirect("home")) from None
        if not access.can(Capability.CHANNELS_MANAGE):
            raise ImmediateHttpResponse(
                redirect("accounts:workspace_dashboard", workspace_id=access.workspace.public_id)
            )
        channels_url = reverse("accounts:channels", kwargs={"workspace_id": access.workspace.public_id})

        from .services import channels as channel_services

        try:
            if provider == "facebook":
                pending = channel_services.pending_connection_from_facebook(
                    workspace=access.workspace, user=request.user, short_lived_token=sociallogin.token.token
                )
            else:
                pending = channel_services.pending_connection_from_instagram(
                    workspace=access.workspace,
                    user=request.user,
                    token=sociallogin.token.token,
                    expires_at=sociallogin.token.expires_at,
                    profile=sociallogin.account.extra_data,
                    permissions=getattr(sociallogin.token, "granted_permissions", []),
                )
        except GraphError as exc:
            messages.error(request, f"Meta refused the connection: {exc.message}")
            raise ImmediateHttpResponse(redirect(channels_url)) from None
        raise ImmediateHttpResponse(
            redirect("accounts:channel_pick", workspace_id=access.workspace.public_id, pending_id=pending.public_id)
        )

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None):  # type: ignore[no-untyped-def]
        intent = request.session.pop(CONNECT_SESSION_KEY, None)
        if intent:
            if error == "cancelled":
                messages.info(request, "Nothing was connected: the permission dialog was cancelled.")
            else:
                messages.error(request, "Meta did not complete the connection. Nothing was connected; try again.")
            raise ImmediateHttpResponse(redirect("accounts:channels", workspace_id=intent["workspace"]))
        return super().on_authentication_error(request, provider, error, exception, extra_context)
