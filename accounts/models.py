"""Users, agencies (the tenants), workspaces (one client brand each), memberships and invitations.

Access design: an `Agency` owns `Workspace`s. Agency owners and admins see every workspace of their agency;
agency members see only the workspaces they hold a `WorkspaceMembership` in. What each role may do is
written once, in `accounts/roles.py`.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
import zoneinfo

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .crypto import EncryptedTextField


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(value)s” is not a known time zone."), params={"value": value})


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: object) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    is_staff = models.BooleanField(_("operator"), default=False, help_text=_("May sign in to the admin."))
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Agency(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "agencies"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AgencyRole(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    MEMBER = "member", _("Member")


class AgencyMembership(models.Model):
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agency_memberships")
    role = models.CharField(max_length=10, choices=AgencyRole.choices, default=AgencyRole.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency", "user"], name="unique_agency_member")]
        ordering = ["agency", "user__email"]

    def __str__(self) -> str:
        return f"{self.user} · {self.agency} ({self.get_role_display()})"

    @property
    def sees_all_workspaces(self) -> bool:
        return self.role in (AgencyRole.OWNER, AgencyRole.ADMIN)


class ApprovalFlow(models.TextChoices):
    """Who approves a post before it is scheduled. Whatever the flow, an editor (who may only draft) never
    schedules alone unless the flow is "none"."""

    NONE = "none", _("None: whoever may draft schedules")
    INTERNAL = "internal", _("Internal: a manager approves editors' posts")
    INTERNAL_CLIENT = "internal_client", _("Internal, then the client approves every post")


class Workspace(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="workspaces")
    name = models.CharField(max_length=120)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    approval_flow = models.CharField(max_length=20, choices=ApprovalFlow.choices, default=ApprovalFlow.INTERNAL)
    # The crisis pause: while set, nothing of this workspace goes out (posts, first comments, queues).
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    pause_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agency", "name"]
        constraints = [models.UniqueConstraint(fields=["agency", "name"], name="unique_workspace_name_in_agency")]

    def __str__(self) -> str:
        return self.name

    @property
    def zoneinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def paused(self) -> bool:
        return self.paused_at is not None


class WorkspaceRole(models.TextChoices):
    MANAGER = "manager", _("Manager")
    EDITOR = "editor", _("Editor")
    MODERATOR = "moderator", _("Moderator")
    ANALYST = "analyst", _("Analyst")
    CLIENT = "client", _("Client")


class WorkspaceMembership(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="workspace_memberships")
    role = models.CharField(max_length=10, choices=WorkspaceRole.choices, default=WorkspaceRole.EDITOR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="unique_workspace_member")]
        ordering = ["workspace", "user__email"]

    def __str__(self) -> str:
        return f"{self.user} · {self.workspace} ({self.get_role_display()})"


def hash_token(token: str) -> str:
    """What is stored of a token a link carries: its SHA-256, so a database leak leaks no working link."""
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def pending(self) -> InvitationQuerySet:
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())


class Invitation(models.Model):
    """An emailed invitation to join an agency, optionally straight into one workspace with a role.

    Only a hash of the accept token is stored, so a database leak does not leak working links."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    agency_role = models.CharField(max_length=10, choices=AgencyRole.choices, default=AgencyRole.MEMBER)
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, null=True, blank=True, related_name="invitations"
    )
    workspace_role = models.CharField(max_length=10, choices=WorkspaceRole.choices, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(workspace__isnull=True, workspace_role="")
                | models.Q(workspace__isnull=False) & ~models.Q(workspace_role=""),
                name="invitation_workspace_role_with_workspace",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.agency}"

    @staticmethod
    def new_token() -> tuple[str, str]:
        token = secrets.token_urlsafe(32)
        return token, hash_token(token)

    @classmethod
    def find_by_token(cls, token: str) -> Invitation | None:
        return cls.objects.select_related("agency", "workspace").filter(token_hash=hash_token(token)).first()

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"


class Platform(models.TextChoices):
    FACEBOOK_PAGE = "facebook_page", _("Facebook Page")
    INSTAGRAM = "instagram", _("Instagram")


class ConnectedVia(models.TextChoices):
    FACEBOOK_LOGIN = "facebook_login", _("Facebook Login")
    INSTAGRAM_LOGIN = "instagram_login", _("Instagram Login")


class ChannelStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    NEEDS_RECONNECT = "needs_reconnect", _("Needs reconnect")
    DISCONNECTED = "disconnected", _("Disconnected")


class Channel(models.Model):
    """One Facebook Page or Instagram professional account connected to one workspace.

    The access token is encrypted at rest (`accounts.crypto`) and never rendered, logged or shown in the
    admin. An Instagram account connected through Facebook Login is reached with its Page's token
    (`page_id` names that Page); one connected with Instagram Login has a 60-day token of its own."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="channels")
    platform = models.CharField(max_length=20, choices=Platform.choices)
    connected_via = models.CharField(max_length=20, choices=ConnectedVia.choices)
    external_id = models.CharField(max_length=64, help_text="The Page id or Instagram user id at Meta.")
    page_id = models.CharField(max_length=64, blank=True, help_text="For Instagram via Facebook Login: its Page.")
    name = models.CharField(max_length=200)
    username = models.CharField(max_length=200, blank=True)
    avatar_url = models.URLField(max_length=1000, blank=True)
    access_token = EncryptedTextField(blank=True)
    token_issued_at = models.DateTimeField(null=True, blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: the token does not expire.")
    granted_scopes = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, choices=ChannelStatus.choices, default=ChannelStatus.ACTIVE)
    status_reason = models.TextField(blank=True, help_text="Why the channel needs attention, in plain words.")
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    connected_at = models.DateTimeField(default=timezone.now)
    disconnected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["workspace", "platform", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "platform", "external_id"], name="unique_channel_per_workspace"
            )
        ]
        indexes = [models.Index(fields=["status", "token_expires_at"], name="channel_status_expiry")]

    def __str__(self) -> str:
        return f"{self.get_platform_display()}: {self.display_name}"

    @property
    def display_name(self) -> str:
        return f"@{self.username}" if self.platform == Platform.INSTAGRAM and self.username else self.name

    @property
    def graph_host(self) -> str:
        return "instagram" if self.connected_via == ConnectedVia.INSTAGRAM_LOGIN else "facebook"


class PendingConnection(models.Model):
    """What an OAuth consent returned, held for a few minutes while the user picks which accounts join the
    workspace. The user token is encrypted; page tokens are fetched again when the choice is confirmed."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    connected_via = models.CharField(max_length=20, choices=ConnectedVia.choices)
    user_token = EncryptedTextField()
    user_token_expires_at = models.DateTimeField(null=True, blank=True)
    candidates = models.JSONField(default=list)
    granted_scopes = models.JSONField(default=list)
    declined_scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.get_connected_via_display()} for {self.workspace}"
