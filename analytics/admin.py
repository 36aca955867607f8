"""Operators see how far each channel's insights are, what Meta refused, and what was stored. Figures are never
edited by hand: they come from Meta with the next sync. Report schedules and branding belong to the agencies
(their own pages); here they are shown for support, not changed."""

from django.contrib import admin

from .models import AgencyBranding, Audience, DailyMetric, InsightSync, PostInsight, ReportSchedule


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(InsightSync)
class InsightSyncAdmin(ReadOnlyAdmin):
    list_display = [
        "channel", "workspace", "backfilled_at", "synced_through", "account_synced_at", "posts_synced_at",
        "audience_synced_at", "next_run_at", "last_error_at",
    ]  # fmt: skip
    list_select_related = ["channel", "workspace"]
    list_filter = [("last_error_at", admin.EmptyFieldListFilter), ("backfilled_at", admin.EmptyFieldListFilter)]
    search_fields = ["channel__name", "channel__username", "channel__external_id", "workspace__name", "last_error"]
    raw_id_fields = ["channel", "workspace"]


@admin.register(DailyMetric)
class DailyMetricAdmin(ReadOnlyAdmin):
    list_display = ["date", "metric", "dimension", "value", "channel", "fetched_at"]
    list_select_related = ["channel"]
    list_filter = ["metric"]
    search_fields = ["channel__external_id", "channel__name"]
    date_hierarchy = "date"
    raw_id_fields = ["channel", "workspace"]
    show_full_result_count = False  # two years of daily figures per channel: no COUNT(*) on each page


@admin.register(PostInsight)
class PostInsightAdmin(ReadOnlyAdmin):
    list_display = ["external_id", "kind", "channel", "published_at", "reach", "views", "interactions", "final"]
    list_select_related = ["channel"]
    list_filter = ["kind", "final"]
    search_fields = ["external_id", "channel__name", "channel__external_id"]
    date_hierarchy = "published_at"
    raw_id_fields = ["channel", "workspace"]
    show_full_result_count = False


@admin.register(Audience)
class AudienceAdmin(ReadOnlyAdmin):
    list_display = ["channel", "metric", "breakdown", "available", "fetched_at"]
    list_select_related = ["channel"]
    list_filter = ["metric", "breakdown", "available"]
    raw_id_fields = ["channel", "workspace"]


@admin.register(ReportSchedule)
class ReportScheduleAdmin(ReadOnlyAdmin):
    list_display = ["workspace", "frequency", "enabled", "next_send_at", "last_sent_at", "last_error"]
    list_select_related = ["workspace"]
    list_filter = ["frequency", "enabled"]
    raw_id_fields = ["workspace", "created_by"]


@admin.register(AgencyBranding)
class AgencyBrandingAdmin(ReadOnlyAdmin):
    list_display = ["agency", "logo", "updated_at"]
    list_select_related = ["agency"]
