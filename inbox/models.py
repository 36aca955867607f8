"""The comment inbox: what people wrote under the workspace's posts (and where they mentioned its accounts),
what the team did about it, the team's saved replies and the rules that act on new comments.

This app owns these tables alone; it reads channels through `accounts` and links our own posts through
`publishing`. Every row carries its workspace, so every query can be scoped to what the person may see."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class InboxPost(models.Model):
    """A post or media on Meta that comments were written under: one of ours or not (published elsewhere, or
    someone else's media that mentions the account)."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey("accounts.Channel", on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=100, help_text="The Instagram media id or Page post id at Meta.")
    post = models.ForeignKey(
        "publishing.Post",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Our post, when SocialHub published it.",
    )
    caption = models.TextField(blank=True)
    thumbnail_url = models.URLField(max_length=2000, blank=True)
    permalink = models.URLField(max_length=1000, blank=True)
    media_type = models.CharField(max_length=40, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    # Someone else's media in which the account was mentioned (its comments are not ours to moderate).
    is_mention = models.BooleanField(default=False)
    last_comment_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "external_id"], name="unique_inbox_post_per_channel")]
        indexes = [models.Index(fields=["channel", "-last_comment_at"], name="inbox_post_recent")]

    def __str__(self) -> str:
        return f"{self.external_id} on {self.channel_id}"


class CommentStatus(models.TextChoices):
    NEW = "new", _("New")
    DONE = "done", _("Done")


class CommentKind(models.TextChoices):
    COMMENT = "comment", _("Comment")
    MENTION = "mention", _("Mention")


class Comment(models.Model):
    """One comment or reply at Meta, stored once per channel however often it arrives. Replies point to their
    top-level comment (`parent`); the top-level comment carries the thread's state (status, assignee, last
    activity, whether it waits for an answer)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey("accounts.Channel", on_delete=models.CASCADE, related_name="+")
    inbox_post = models.ForeignKey(InboxPost, on_delete=models.CASCADE, related_name="comments")
    external_id = models.CharField(max_length=100, help_text="The comment id at Meta.")
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies")
    kind = models.CharField(max_length=10, choices=CommentKind.choices, default=CommentKind.COMMENT)
    author_id = models.CharField(max_length=100, blank=True)
    author_name = models.CharField(max_length=200, blank=True)
    from_us = models.BooleanField(default=False, help_text="Written by the channel's own account.")
    text = models.TextField(blank=True)
    created_at = models.DateTimeField(help_text="When it was written, at Meta.")
    edited_at = models.DateTimeField(null=True, blank=True)
    hidden = models.BooleanField(default=False)
    deleted_at = models.DateTimeField(null=True, blank=True, help_text="When it was removed on Meta.")
    like_count = models.PositiveIntegerField(default=0)
    liked_at = models.DateTimeField(null=True, blank=True, help_text="When the channel liked it.")
    private_reply_at = models.DateTimeField(null=True, blank=True)
    # Thread state, kept on the top-level comment.
    status = models.CharField(max_length=10, choices=CommentStatus.choices, default=CommentStatus.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    needs_reply = models.BooleanField(default=True, help_text="Nobody from the channel answered the latest comment.")
    last_activity_at = models.DateTimeField(help_text="The newest comment of the thread.")
    tags = models.JSONField(default=list, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "external_id"], name="unique_comment_per_channel")]
        indexes = [
            # The inbox: a workspace's threads, newest first (optionally one status).
            models.Index(
                fields=["workspace", "-last_activity_at", "-id"],
                condition=models.Q(parent__isnull=True),
                name="inbox_thread_recent",
            ),
            models.Index(
                fields=["workspace", "status", "-last_activity_at"],
                condition=models.Q(parent__isnull=True),
                name="inbox_thread_status",
            ),
            # The Hidden and Removed filters: few rows among a million.
            models.Index(fields=["workspace"], condition=models.Q(hidden=True), name="inbox_comment_hidden"),
            models.Index(
                fields=["workspace"], condition=models.Q(deleted_at__isnull=False), name="inbox_comment_removed"
            ),
            models.Index(fields=["inbox_post", "-created_at"], name="inbox_comment_post"),
            models.Index(fields=["workspace", "-created_at"], name="inbox_comment_recent"),
            # The inbox's live poll: comments stored after the newest the page has seen.
            models.Index(fields=["workspace", "-id"], name="inbox_comment_arrival"),
        ]

    def __str__(self) -> str:
        return f"{self.author_name}: {self.text[:40]}"

    @property
    def thread(self) -> Comment:
        return self.parent if self.parent_id else self  # type: ignore[return-value]


class ActionKind(models.TextChoices):
    REPLY = "reply", _("Reply")
    PRIVATE_REPLY = "private_reply", _("Private reply")
    HIDE = "hide", _("Hide")
    UNHIDE = "unhide", _("Unhide")
    DELETE = "delete", _("Delete")
    LIKE = "like", _("Like")
    UNLIKE = "unlike", _("Unlike")
    DONE = "done", _("Mark done")
    REOPEN = "reopen", _("Reopen")
    ASSIGN = "assign", _("Assign")
    TAG = "tag", _("Tag")
    UNTAG = "untag", _("Remove tag")


# Actions that change something on Meta (the others change only SocialHub's own rows).
META_ACTIONS = frozenset(
    {
        ActionKind.REPLY,
        ActionKind.PRIVATE_REPLY,
        ActionKind.HIDE,
        ActionKind.UNHIDE,
        ActionKind.DELETE,
        ActionKind.LIKE,
        ActionKind.UNLIKE,
    }
)


class ActionState(models.TextChoices):
    PENDING = "pending", _("Sending")
    DONE = "done", _("Done")
    FAILED = "failed", _("Refused")


class CommentAction(models.Model):
    """What someone (or a rule) did to a comment: pending until Meta confirmed it, then done or refused with
    Meta's reason. Nothing is shown as done that did not happen on Meta."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField(max_length=20, choices=ActionKind.choices)
    state = models.CharField(max_length=10, choices=ActionState.choices, default=ActionState.PENDING)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rule = models.ForeignKey("inbox.Rule", on_delete=models.SET_NULL, null=True, blank=True, related_name="actions")
    undo_of = models.OneToOneField("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="undone_by")
    text = models.TextField(blank=True, help_text="The reply, or the tag.")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    result_id = models.CharField(max_length=100, blank=True, help_text="What Meta made (the reply's id).")
    error = models.TextField(blank=True, help_text="Meta's reason, in plain words.")
    error_code = models.CharField(max_length=40, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    attempt_started_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the latest attempt (or the sweep, for the task it queued) took hold of the action; a hold "
        "lasts actions.attempt_window().",
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["comment", "-created_at"], name="inbox_action_comment"),
            models.Index(fields=["rule", "-created_at"], name="inbox_action_rule"),
            models.Index(fields=["state", "created_at"], name="inbox_action_state"),
            # Is a comment Meta announces one of our own replies?
            models.Index(fields=["result_id"], condition=~models.Q(result_id=""), name="inbox_action_result"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.comment_id}: {self.state}"


class SavedReply(models.Model):
    """A reply the team reuses; `{first_name}` and `{post_link}` are filled in for each comment."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=100)
    text = models.TextField(max_length=2200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["title"]
        constraints = [models.UniqueConstraint(fields=["workspace", "title"], name="unique_saved_reply_title")]

    def __str__(self) -> str:
        return self.title


class Rule(models.Model):
    """Acts on each new comment whose normalised text matches: hides it, assigns it, or tags it."""

    class Match(models.TextChoices):
        KEYWORDS = "keywords", _("Any of these words")
        PATTERN = "pattern", _("Pattern")

    class Action(models.TextChoices):
        HIDE = "hide", _("Hide it")
        ASSIGN = "assign", _("Assign it")
        TAG = "tag", _("Tag it")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    match = models.CharField(max_length=10, choices=Match.choices, default=Match.KEYWORDS)
    pattern = models.TextField(help_text="Words or phrases, one per line; or a pattern.")
    action = models.CharField(max_length=10, choices=Action.choices, default=Action.HIDE)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    tag = models.CharField(max_length=50, blank=True)
    enabled = models.BooleanField(default=False)
    dry_run_at = models.DateTimeField(null=True, blank=True, help_text="When its dry run was last looked at.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        # "Spam" and "spam" are one name to people.
        constraints = [models.UniqueConstraint("workspace", Lower("name"), name="unique_rule_name")]

    def __str__(self) -> str:
        return self.name


class Presence(models.Model):
    """Who has a thread open, or is writing a reply in it, right now (refreshed while the page is open)."""

    class Activity(models.TextChoices):
        VIEWING = "viewing", _("is looking at this")
        REPLYING = "replying", _("is replying")

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    thread = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="presences")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    activity = models.CharField(max_length=10, choices=Activity.choices, default=Activity.VIEWING)
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["thread", "user"], name="unique_presence")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.activity} {self.thread_id}"


class WebhookDelivery(models.Model):
    """One signed POST from Meta, stored after its signature was checked and before it is processed in Celery.
    The same body delivered again (Meta retries) is the same row and is not processed twice."""

    body_sha256 = models.CharField(max_length=64, unique=True)
    object = models.CharField(max_length=30, blank=True)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["processed_at", "received_at"], name="inbox_webhook_pending")]

    def __str__(self) -> str:
        return f"{self.object} {self.received_at:%Y-%m-%d %H:%M:%S}"


class ChannelSync(models.Model):
    """The inbox's bookkeeping per channel: webhook subscription and polling."""

    channel = models.OneToOneField("accounts.Channel", on_delete=models.CASCADE, related_name="inbox_sync")
    subscribed_at = models.DateTimeField(null=True, blank=True)
    subscribe_error = models.TextField(blank=True)
    backfilled_at = models.DateTimeField(null=True, blank=True)
    polled_at = models.DateTimeField(null=True, blank=True)
    poll_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"inbox sync of {self.channel_id}"
