"""The Channels page: connect, pick, reconnect, check and disconnect Facebook Pages and Instagram accounts."""

from __future__ import annotations

from uuid import UUID

from allauth.socialaccount.adapter import get_adapter as get_socialaccount_adapter
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from .access import WorkspaceAccess, workspace_view
from .adapters import CONNECT_SESSION_KEY
from .models import Channel, ChannelStatus, ConnectedVia
from .roles import Capability
from .scopes import (
    FACEBOOK_LOGIN_OPTIONAL_SCOPES,
    FACEBOOK_LOGIN_SCOPES,
    INSTAGRAM_LOGIN_LIMITS,
    INSTAGRAM_LOGIN_SCOPES,
    missing_scopes,
    optional_scopes,
)
from .services import channels as channel_services
from .tasks import check_channel_token

PROVIDERS = {ConnectedVia.FACEBOOK_LOGIN: "facebook", ConnectedVia.INSTAGRAM_LOGIN: "instagram"}


@workspace_view()
def channel_list(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    channels = list(
        Channel.objects.filter(workspace=access.workspace).defer("access_token").order_by("status", "platform", "name")
    )
    for channel in channels:
        channel.missing = missing_scopes(
            platform=channel.platform, connected_via=channel.connected_via, granted=channel.granted_scopes
        )
        channel.optional_missing = {
            name: why
            for name, why in optional_scopes(platform=channel.platform, connected_via=channel.connected_via).items()
            if name not in channel.granted_scopes
        }
    return render(
        request,
        "accounts/channels.html",
        {
            "access": access,
            "workspace": access.workspace,
            "channels": channels,
            "can_manage": access.can(Capability.CHANNELS_MANAGE),
            "instagram_login_limits": INSTAGRAM_LOGIN_LIMITS,
            "facebook_configured": bool(settings.META_APP_ID),
            "instagram_configured": bool(settings.INSTAGRAM_APP_ID),
        },
    )


def _start_connect(request: HttpRequest, access: WorkspaceAccess, via: str, *, rerequest: bool) -> HttpResponse:
    provider_id = PROVIDERS[via]  # type: ignore[index]
    request.session[CONNECT_SESSION_KEY] = {"workspace": str(access.workspace.public_id), "provider": provider_id}
    provider = get_socialaccount_adapter(request).get_provider(request, provider_id)
    auth_params: dict[str, str] = {}
    if via == ConnectedVia.FACEBOOK_LOGIN:
        scope = [*FACEBOOK_LOGIN_SCOPES, *FACEBOOK_LOGIN_OPTIONAL_SCOPES]
        if settings.META_LOGIN_CONFIG_ID:
            auth_params["config_id"] = settings.META_LOGIN_CONFIG_ID
        if rerequest:
            auth_params["auth_type"] = "rerequest"  # ask again for permissions declined last time
    else:
        scope = list(INSTAGRAM_LOGIN_SCOPES)
    next_url = reverse("accounts:channels", kwargs={"workspace_id": access.workspace.public_id})
    return provider.redirect(request, process="connect", next_url=next_url, scope=scope, auth_params=auth_params)


@workspace_view(Capability.CHANNELS_MANAGE)
@require_POST
def channel_connect(request: HttpRequest, access: WorkspaceAccess, via: str) -> HttpResponse:
    if via not in PROVIDERS:
        raise Http404
    return _start_connect(request, access, via, rerequest=False)


@workspace_view(Capability.CHANNELS_MANAGE)
@require_POST
def channel_reconnect(request: HttpRequest, access: WorkspaceAccess, channel_id: UUID) -> HttpResponse:
    channel = get_object_or_404(Channel, public_id=channel_id, workspace=access.workspace)
    return _start_connect(request, access, channel.connected_via, rerequest=True)


@workspace_view(Capability.CHANNELS_MANAGE)
@require_http_methods(["GET", "POST"])
def channel_pick(request: HttpRequest, access: WorkspaceAccess, pending_id: UUID) -> HttpResponse:
    pending = channel_services.pending_connection_get(
        public_id=pending_id, workspace=access.workspace, user=request.user
    )
    channels_url = reverse("accounts:channels", kwargs={"workspace_id": access.workspace.public_id})
    if pending is None:
        messages.error(request, "That choice expired. Connect again to pick the accounts.")
        return redirect(channels_url)
    elsewhere = channel_services.candidates_connected_elsewhere(pending=pending)
    existing = {f"{c.platform}:{c.external_id}": c for c in Channel.objects.filter(workspace=access.workspace)}
    error = None
    if request.method == "POST":
        try:
            connected = channel_services.pending_connection_confirm(
                pending=pending, keys=request.POST.getlist("accounts"), user=request.user
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            names = ", ".join(c.display_name for c in connected)
            messages.success(request, f"Connected: {names}.")
            return redirect(channels_url)
    candidates = [
        {**c, "elsewhere": elsewhere.get(c["key"]), "existing": existing.get(c["key"])} for c in pending.candidates
    ]
    return render(
        request,
        "accounts/channel_pick.html",
        {
            "access": access,
            "workspace": access.workspace,
            "pending": pending,
            "candidates": candidates,
            "declined": pending.declined_scopes,
            "error": error,
        },
    )


@workspace_view(Capability.CHANNELS_MANAGE)
@require_POST
def channel_check(request: HttpRequest, access: WorkspaceAccess, channel_id: UUID) -> HttpResponse:
    channel = get_object_or_404(Channel, public_id=channel_id, workspace=access.workspace)
    check_channel_token.delay(channel.pk)
    messages.info(request, f"Checking {channel.display_name} with Meta. Refresh in a moment to see the result.")
    return redirect("accounts:channels", workspace_id=access.workspace.public_id)


@workspace_view(Capability.CHANNELS_MANAGE)
@require_http_methods(["GET", "POST"])
def channel_disconnect(request: HttpRequest, access: WorkspaceAccess, channel_id: UUID) -> HttpResponse:
    channel = get_object_or_404(
        Channel.objects.exclude(status=ChannelStatus.DISCONNECTED), public_id=channel_id, workspace=access.workspace
    )
    if request.method == "POST":
        stopped = channel_services.channel_disconnect(channel=channel)
        note = f" {stopped} post(s) that had not gone out yet were stopped." if stopped else ""
        messages.success(request, f"{channel.display_name} is disconnected. Its history stays in SocialHub.{note}")
        return redirect("accounts:channels", workspace_id=access.workspace.public_id)
    from publishing.models import Delivery, DeliveryState

    affected = (
        Delivery.objects.filter(
            channel=channel,
            state__in=[DeliveryState.SCHEDULED, DeliveryState.AWAITING_APPROVAL, DeliveryState.DRAFT],
        )
        .select_related("post")
        .order_by("due_at")
    )
    return render(
        request,
        "accounts/channel_disconnect.html",
        {"access": access, "workspace": access.workspace, "channel": channel, "affected": affected},
    )
