"""What people are told: in-app notifications (the bell) and the email digests made of them, with each person's
preferences per kind.

Every app tells people through `notifications.services.notify`; this app owns these tables alone."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    POST_FAILED = "post_failed", _("A post failed")
    POST_UNCONFIRMED = "post_unconfirmed", _("A post may have gone out and needs checking")
    CHANNEL_RECONNECT = "channel_reconnect", _("A channel needs reconnecting")
    APPROVAL_REQUESTED = "approval_requested", _("A post awaits my approval")
    APPROVAL_GIVEN = "approval_given", _("My post was approved")
    CHANGES_REQUESTED = "changes_requested", _("Changes were requested on my post")
    POST_COMMENT = "post_comment", _("Someone commented on a post I work on")
    IG_QUOTA_FULL = "ig_quota_full", _("An Instagram account used up today's publishing quota")
    COMMENT_ASSIGNED = "comment_assigned", _("A comment was assigned to me")


# What a person gets before they choose: (in-app, email).
DEFAULTS: dict[str, tuple[bool, bool]] = {
    Kind.POST_FAILED: (True, True),
    Kind.POST_UNCONFIRMED: (True, True),
    Kind.CHANNEL_RECONNECT: (True, True),
    Kind.APPROVAL_REQUESTED: (True, True),
    Kind.APPROVAL_GIVEN: (True, False),
    Kind.CHANGES_REQUESTED: (True, True),
    Kind.POST_COMMENT: (True, False),
    Kind.IG_QUOTA_FULL: (True, False),
    Kind.COMMENT_ASSIGNED: (True, False),
}


class Notification(models.Model):
    class Email(models.TextChoices):
        NONE = "none", _("Not emailed")
        PENDING = "pending", _("Waiting for the next digest")
        SENT = "sent", _("Emailed")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True, help_text="Where it is fixed or seen (a path here).")
    # The same event told twice (a retried task, the quota hit by two posts) is one notification per person.
    key = models.CharField(max_length=200, blank=True)
    in_app = models.BooleanField(default=True)
    read_at = models.DateTimeField(null=True, blank=True)
    email = models.CharField(max_length=10, choices=Email.choices, default=Email.NONE)
    emailed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "in_app", "read_at"], name="notification_unread"),
            models.Index(fields=["user", "-created_at"], name="notification_recent"),
            models.Index(fields=["email", "user"], name="notification_email_pending"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], condition=~models.Q(key=""), name="unique_notification_key_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.title}"


class Preference(models.Model):
    """A person's choice for one kind; a kind without a row uses `DEFAULTS`."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    in_app = models.BooleanField(default=True)
    email = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="unique_notification_preference")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}"
