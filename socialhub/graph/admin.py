from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import GraphCall


@admin.register(GraphCall)
class GraphCallAdmin(admin.ModelAdmin):
    """Read-only log of calls to Meta. Superusers may delete rows (for example after an incident)."""

    list_display = (
        "created_at",
        "method",
        "host",
        "path",
        "status",
        "duration_ms",
        "error_code",
        "error_subcode",
        "fbtrace_id",
        "app_usage_percent",
        "channel_id",
        "outcome",
    )
    list_filter = ("status", "host", "error_code", "outcome")
    search_fields = ("path", "fbtrace_id")
    date_hierarchy = "created_at"
    list_per_page = 100
    show_full_result_count = False  # COUNT(*) over a large log table is slow

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: GraphCall | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: GraphCall | None = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)
