"""Operators see what arrived from Meta, what the team and the rules did, and why something was refused. Nothing
here is edited by hand: a comment changes on Meta first, and a webhook or a poll brings the change."""

from django.contrib import admin

from .models import ChannelSync, Comment, CommentAction, Rule, SavedReply, WebhookDelivery


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(Comment)
class CommentAdmin(ReadOnlyAdmin):
    list_display = ["author_name", "text_start", "channel", "workspace", "kind", "status", "hidden", "created_at"]
    list_filter = ["kind", "status", "hidden", "from_us"]
    list_select_related = ["channel", "workspace"]
    search_fields = ["external_id", "author_name", "workspace__name"]
    date_hierarchy = "created_at"
    exclude = ["tags"]
    show_full_result_count = False  # a million comments: no COUNT(*) on each page

    @admin.display(description="text")
    def text_start(self, obj: Comment) -> str:
        return obj.text[:80]


@admin.register(CommentAction)
class CommentActionAdmin(ReadOnlyAdmin):
    list_display = ["kind", "state", "comment", "actor", "rule", "error", "attempts", "created_at", "finished_at"]
    list_filter = ["state", "kind"]
    list_select_related = ["comment", "actor", "rule"]
    search_fields = ["comment__external_id", "error", "error_code"]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["object", "received_at", "processed_at", "error"]
    list_filter = ["object"]
    date_hierarchy = "received_at"
    show_full_result_count = False
    # The body is what fans wrote (and who they are): operators need when and why, not that.
    exclude = ["payload"]


@admin.register(ChannelSync)
class ChannelSyncAdmin(ReadOnlyAdmin):
    list_display = ["channel", "subscribed_at", "subscribe_error", "backfilled_at", "polled_at", "poll_error"]
    list_select_related = ["channel"]


@admin.register(Rule)
class RuleAdmin(ReadOnlyAdmin):
    list_display = ["name", "workspace", "match", "action", "enabled", "created_at"]
    list_filter = ["enabled", "action"]
    list_select_related = ["workspace"]


@admin.register(SavedReply)
class SavedReplyAdmin(ReadOnlyAdmin):
    list_display = ["title", "workspace", "created_at"]
    list_select_related = ["workspace"]
