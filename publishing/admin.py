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


class PipelineOwnedMixin:
    """Deliveries and their attempts belong to the publishing pipeline: the admin shows them and never edits
    or adds them. Failed deliveries go through the Retry action (the same service as the Retry button)."""

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


class DeliveryInline(PipelineOwnedMixin, admin.TabularInline):
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


class DeliveryAttemptInline(PipelineOwnedMixin, admin.TabularInline):
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
class DeliveryAdmin(PipelineOwnedMixin, admin.ModelAdmin):
    list_display = ["__str__", "state", "due_at", "attempts", "remote_id", "error_code", "updated_at"]
    list_filter = ["state", "kind"]
    list_select_related = ["channel"]
    search_fields = ["remote_id", "container_id", "fbtrace_id", "channel__name", "post__caption"]
    date_hierarchy = "due_at"
    inlines = [DeliveryAttemptInline]
    actions = ["retry"]

    def has_retry_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return request.user.has_perm("publishing.change_delivery")

    @admin.action(description="Retry failed deliveries", permissions=["retry"])
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
