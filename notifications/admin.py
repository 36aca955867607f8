"""Operators see who was told what and whether the email went out; nobody edits notifications by hand."""

from django.contrib import admin

from .models import Notification, Preference


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "user", "workspace", "kind", "in_app", "read_at", "email", "emailed_at", "created_at"]
    list_filter = ["kind", "email", "in_app"]
    list_select_related = ["user", "workspace"]
    search_fields = ["title", "user__email", "workspace__name"]
    date_hierarchy = "created_at"
    fields = [
        "user",
        "workspace",
        "kind",
        "title",
        "body",
        "url",
        "in_app",
        "read_at",
        "email",
        "emailed_at",
        "created_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "in_app", "email"]
    list_filter = ["kind", "in_app", "email"]
    list_select_related = ["user"]
    search_fields = ["user__email"]
    raw_id_fields = ["user"]
