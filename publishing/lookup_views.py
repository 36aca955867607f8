"""The composer's lookups at Meta (product search, place Page): ask, then poll the answer. Both answer with the
`publishing/_lookup.html` fragment, whose root is `#lookup-<kind>`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from accounts.access import WorkspaceAccess, workspace_view
from accounts.models import Channel, ChannelStatus
from accounts.roles import Capability

from .models import GraphLookup
from .services import lookups

TEMPLATE = "publishing/_lookup.html"


def _context(access: WorkspaceAccess, lookup: GraphLookup) -> dict[str, Any]:
    return {
        "workspace": access.workspace,
        "lookup": lookup,
        "kind": lookup.kind,
        "status": lookup.status,
        "query": lookup.query,
        "results": lookup.results,
        "error": lookup.error,
    }


@workspace_view(Capability.POSTS_DRAFT)
@require_POST
def lookup_create(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    """Form fields: `kind` (products or place), `channel` (the channel's pk), `q` (what was typed)."""
    kind = request.POST.get("kind", "")
    if kind not in GraphLookup.Kind.values:
        return HttpResponseBadRequest("Unknown kind of lookup.")
    channel_pk = request.POST.get("channel", "")
    if not channel_pk.isdigit():
        raise Http404
    channel = get_object_or_404(
        Channel.objects.exclude(status=ChannelStatus.DISCONNECTED), pk=int(channel_pk), workspace=access.workspace
    )
    try:
        lookup = lookups.lookup_start(
            workspace=access.workspace, channel=channel, kind=kind, query=request.POST.get("q", "")
        )
    except lookups.LookupInvalid as exc:
        # Answered with the fragment (200) so htmx swaps the explanation in where the results would go.
        context = {"workspace": access.workspace, "lookup": None, "kind": kind, "status": "failed", "error": str(exc)}
        return render(request, TEMPLATE, context)
    return render(request, TEMPLATE, _context(access, lookup))


@workspace_view(Capability.POSTS_DRAFT)
@require_GET
def lookup_detail(request: HttpRequest, access: WorkspaceAccess, lookup_id: UUID) -> HttpResponse:
    lookup = get_object_or_404(GraphLookup, public_id=lookup_id, workspace=access.workspace)
    return render(request, TEMPLATE, _context(access, lookups.lookup_refresh(lookup)))
