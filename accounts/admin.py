from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html

from .models import (
    Agency,
    AgencyMembership,
    Channel,
    ChannelStatus,
    Invitation,
    User,
    Workspace,
    WorkspaceMembership,
)


class AgencyMembershipInline(admin.TabularInline):
    model = AgencyMembership
    extra = 0
    autocomplete_fields = ["user"]


class WorkspaceInline(admin.TabularInline):
    model = Workspace
    extra = 0
    fields = ["name", "timezone", "public_id", "created_at", "open_link"]
    readonly_fields = ["public_id", "created_at", "open_link"]
    show_change_link = True

    @admin.display(description="Members")
    def open_link(self, obj: Workspace) -> str:
        url = reverse("admin:accounts_workspacemembership_changelist") + f"?workspace__id__exact={obj.pk}"
        return format_html('<a href="{}">people</a>', url)


class TenantDeleteMixin:
    """Deleting a workspace or an agency takes everything in it along: channels, posts and their deliveries,
    media, memberships and invitations. Operators get Django's confirmation page listing all of it, with a note
    that what is already published stays on Meta. Nothing here calls Meta."""

    delete_confirmation_template = "admin/accounts/tenant_delete_confirmation.html"
    delete_selected_confirmation_template = "admin/accounts/tenant_delete_selected_confirmation.html"

    def get_deleted_objects(self, objs, request):  # type: ignore[no-untyped-def]
        deleted, model_count, _perms_needed, protected = super().get_deleted_objects(objs, request)  # type: ignore[misc]
        # The permission to delete the workspace (or agency) is the permission to delete what it holds: rows the
        # admin shows read-only, such as deliveries, which belong to the publishing pipeline, must not make a
        # tenant undeletable. What still blocks the delete is a restricted row outside of it (`protected`).
        return deleted, model_count, set(), protected

    def render_delete_form(self, request, context):  # type: ignore[no-untyped-def]
        from publishing.models import Delivery, DeliveryState

        published = Delivery.objects.filter(state=DeliveryState.PUBLISHED)
        obj = context.get("object")
        if isinstance(obj, Workspace):
            context["published_count"] = published.filter(post__workspace=obj).count()
        elif isinstance(obj, Agency):
            context["published_count"] = published.filter(post__workspace__agency=obj).count()
        return super().render_delete_form(request, context)  # type: ignore[misc]


@admin.register(Agency)
class AgencyAdmin(TenantDeleteMixin, admin.ModelAdmin):
    list_display = ["name", "workspace_count", "member_count", "created_at"]
    search_fields = ["name", "public_id", "memberships__user__email"]
    date_hierarchy = "created_at"
    readonly_fields = ["public_id", "created_at"]
    inlines = [WorkspaceInline, AgencyMembershipInline]

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return (
            super()
            .get_queryset(request)
            .annotate(
                workspace_total=Count("workspaces", distinct=True), member_total=Count("memberships", distinct=True)
            )
        )

    @admin.display(description="Workspaces", ordering="workspace_total")
    def workspace_count(self, obj: Agency) -> int:
        return obj.workspace_total  # type: ignore[attr-defined]

    @admin.display(description="People", ordering="member_total")
    def member_count(self, obj: Agency) -> int:
        return obj.member_total  # type: ignore[attr-defined]


class WorkspaceMembershipInline(admin.TabularInline):
    model = WorkspaceMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Workspace)
class WorkspaceAdmin(TenantDeleteMixin, admin.ModelAdmin):
    list_display = ["name", "agency", "timezone", "created_at"]
    list_filter = ["timezone"]
    list_select_related = ["agency"]
    search_fields = ["name", "public_id", "agency__name"]
    autocomplete_fields = ["agency"]
    readonly_fields = ["public_id", "created_at"]
    inlines = [WorkspaceMembershipInline]


@admin.register(AgencyMembership)
class AgencyMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "agency", "role", "created_at"]
    list_filter = ["role"]
    list_select_related = ["user", "agency"]
    search_fields = ["user__email", "agency__name"]
    autocomplete_fields = ["user", "agency"]


@admin.register(WorkspaceMembership)
class WorkspaceMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "workspace", "agency", "role", "created_at"]
    list_filter = ["role"]
    list_select_related = ["user", "workspace__agency"]
    search_fields = ["user__email", "workspace__name", "workspace__agency__name"]
    autocomplete_fields = ["user", "workspace"]

    @admin.display(ordering="workspace__agency__name")
    def agency(self, obj: WorkspaceMembership) -> Agency:
        return obj.workspace.agency


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "agency", "agency_role", "workspace", "workspace_role", "status", "expires_at"]
    list_filter = ["agency_role", "workspace_role"]
    list_select_related = ["agency", "workspace"]
    search_fields = ["email", "agency__name"]
    readonly_fields = ["token_hash", "created_at", "accepted_at", "accepted_by", "invited_by"]
    autocomplete_fields = ["agency", "workspace"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "date_joined", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "full_name"]
    readonly_fields = ["date_joined", "last_login"]
    inlines = [AgencyMembershipInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name",)}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    """Operators see a channel's health, never its token."""

    list_display = [
        "__str__",
        "workspace",
        "agency",
        "status",
        "connected_via",
        "token_expires_at",
        "last_checked_at",
        "short_error",
    ]
    list_filter = ["status", "platform", "connected_via"]
    list_select_related = ["workspace__agency"]
    search_fields = ["name", "username", "external_id", "workspace__name", "workspace__agency__name"]
    exclude = ["access_token"]
    readonly_fields = [
        "public_id",
        "workspace",
        "platform",
        "connected_via",
        "external_id",
        "page_id",
        "name",
        "username",
        "avatar_url",
        "token_issued_at",
        "token_expires_at",
        "granted_scopes",
        "last_error",
        "last_error_at",
        "last_checked_at",
        "last_synced_at",
        "connected_by",
        "connected_at",
        "disconnected_at",
    ]
    actions = ["run_token_check", "mark_for_reconnect"]

    @admin.display(ordering="workspace__agency__name")
    def agency(self, obj: Channel) -> Agency:
        return obj.workspace.agency

    @admin.display(description="Last error")
    def short_error(self, obj: Channel) -> str:
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False  # channels come from the OAuth flows only

    @admin.action(description="Check the token with Meta now")
    def run_token_check(self, request, queryset) -> None:  # type: ignore[no-untyped-def]
        from .tasks import check_channel_token

        ids = list(queryset.exclude(status=ChannelStatus.DISCONNECTED).values_list("pk", flat=True))
        for channel_id in ids:
            check_channel_token.delay(channel_id)
        self.message_user(request, f"Queued a token check for {len(ids)} channel(s).")

    @admin.action(description="Mark for reconnect")
    def mark_for_reconnect(self, request, queryset) -> None:  # type: ignore[no-untyped-def]
        from .services.channels import channel_mark_needs_reconnect

        count = 0
        for channel in queryset.exclude(status=ChannelStatus.DISCONNECTED):
            channel_mark_needs_reconnect(
                channel=channel, reason="An operator asked for this account to be reconnected."
            )
            count += 1
        self.message_user(request, f"{count} channel(s) now ask their workspace to reconnect.")
