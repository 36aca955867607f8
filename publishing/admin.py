from django.contrib import admin

from .models import Delivery, DeliveryAttempt, DeliveryState, MediaAsset, Post, PostMedia


@admin.register(MediaAsset)
class MediaAssetAdmin(admin.ModelAdmin):
    list_display = [
        "original_name",
        "workspace",
        "kind",
        "format",
        "width",
        "height",
        "duration_seconds",
        "size_bytes",
        "created_at",
    ]
    list_filter = ["kind", "format"]
    list_select_related = ["workspace"]
    search_fields = ["original_name", "workspace__name"]
    readonly_fields = ["public_id", "probe", "probe_error", "created_at"]
    raw_id_fields = ["workspace", "derived_from", "uploaded_by"]


class PostMediaInline(admin.TabularInline):
    model = PostMedia
    extra = 0
    raw_id_fields = ["asset"]


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    fields = ["channel", "kind", "state", "due_at", "remote_id", "permalink", "error_message"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["__str__", "workspace", "format", "approval", "scheduled_at", "created_at"]
    list_filter = ["format", "approval"]
    list_select_related = ["workspace"]
    search_fields = ["caption", "workspace__name", "public_id"]
    date_hierarchy = "created_at"
    raw_id_fields = ["workspace", "author", "cover"]
    inlines = [PostMediaInline, DeliveryInline]


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    fields = [
        "number",
        "started_at",
        "finished_at",
        "outcome",
        "steps",
        "error_class",
        "error_code",
        "error_subcode",
        "message",
        "fbtrace_id",
    ]
    readonly_fields = fields
    can_delete = False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["__str__", "state", "due_at", "attempts", "remote_id", "error_code", "updated_at"]
    list_filter = ["state", "kind"]
    list_select_related = ["channel"]
    search_fields = ["remote_id", "container_id", "fbtrace_id", "channel__name", "post__caption"]
    date_hierarchy = "due_at"
    raw_id_fields = ["post", "channel"]
    readonly_fields = [
        "public_id",
        "lease_token",
        "lease_until",
        "container_id",
        "child_container_ids",
        "upload_id",
        "photo_ids",
        "uploaded_ids",
        "remote_id",
        "permalink",
        "first_comment_id",
        "publish_started_at",
        "first_comment_started_at",
        "published_at",
        "fbtrace_id",
    ]
    inlines = [DeliveryAttemptInline]
    actions = ["retry"]

    @admin.action(description="Retry failed deliveries")
    def retry(self, request, queryset) -> None:  # type: ignore[no-untyped-def]
        from .services.posts import PostInvalid, delivery_retry

        done = 0
        for delivery in queryset.filter(state=DeliveryState.FAILED).select_related("channel", "post"):
            try:
                delivery_retry(delivery=delivery)
                done += 1
            except PostInvalid as exc:
                self.message_user(request, f"{delivery}: {exc}")
        self.message_user(request, f"Retrying {done} delivery(ies).")
