"""Media library, posts, and one delivery per channel with its own state machine.

Delivery states: draft → awaiting_approval → scheduled → publishing → (processing) → published | failed,
or cancelled. Every id Meta returns (containers, carousel children, uploads, the media or post id, the
permalink, the first comment) is saved on the delivery the moment it arrives, so a retry resumes where the
last attempt stopped and never creates a second post."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Channel, Workspace, hash_token


def asset_upload_to(instance: MediaAsset, filename: str) -> str:
    return f"workspaces/{instance.workspace.public_id}/media/{instance.public_id}/{filename}"


def thumbnail_upload_to(instance: MediaAsset, filename: str) -> str:
    return f"workspaces/{instance.workspace.public_id}/media/{instance.public_id}/thumb.jpg"


class MediaAssetQuerySet(models.QuerySet):
    def usable(self) -> MediaAssetQuerySet:
        """Files a post may use: read by the probe as an image or a video, and not still being made."""
        return self.filter(status=MediaAsset.Status.READY).exclude(kind=MediaAsset.Kind.UNKNOWN)


class MediaAsset(models.Model):
    """A file in a workspace's media library, probed on upload (`publishing.probe`).

    A copy made by a fix (`pending_fix`) is created "converting", without a file, and a worker fills it in;
    previews of videos and large images are likewise made by a worker (`preview_pending`)."""

    class Kind(models.TextChoices):
        IMAGE = "image", _("Image")
        VIDEO = "video", _("Video")
        UNKNOWN = "unknown", _("Unreadable")

    class Status(models.TextChoices):
        READY = "ready", _("Ready")
        CONVERTING = "converting", _("Converting")
        FAILED = "failed", _("Conversion failed")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="media_assets")
    file = models.FileField(upload_to=asset_upload_to, max_length=500)
    thumbnail = models.FileField(upload_to=thumbnail_upload_to, max_length=500, blank=True)
    original_name = models.CharField(max_length=255)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    format = models.CharField(max_length=20, blank=True)
    mime_type = models.CharField(max_length=100, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    frame_rate = models.FloatField(null=True, blank=True)
    video_codec = models.CharField(max_length=30, blank=True)
    audio_codec = models.CharField(max_length=30, blank=True)
    probe = models.JSONField(default=dict, blank=True, help_text="Everything the probe read, for the rules.")
    probe_error = models.TextField(blank=True)
    derived_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="derivatives"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.READY)
    status_message = models.TextField(blank=True, help_text="Why a conversion failed, in words for the user.")
    pending_fix = models.CharField(max_length=30, blank=True, help_text="The fix a worker applies to derived_from.")
    preview_pending = models.BooleanField(default=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = MediaAssetQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "-created_at"], name="asset_workspace_recent")]

    def __str__(self) -> str:
        return self.original_name


class Post(models.Model):
    """One piece of content for one or more channels of a workspace."""

    class Format(models.TextChoices):
        FEED = "feed", _("Feed post")
        REEL = "reel", _("Reel")
        STORY = "story", _("Story")

    class Approval(models.TextChoices):
        NOT_REQUIRED = "not_required", _("No approval needed")
        PENDING = "pending", _("Awaiting approval")
        CLIENT_PENDING = "client_pending", _("Awaiting the client's approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Changes requested")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    format = models.CharField(max_length=10, choices=Format.choices, default=Format.FEED)
    caption = models.TextField(blank=True)
    link = models.URLField(max_length=2000, blank=True, help_text="Facebook: the link the post shares.")
    cta_type = models.CharField(max_length=30, blank=True, help_text="Facebook: call-to-action button type.")
    first_comment = models.TextField(blank=True)
    location_id = models.CharField(max_length=64, blank=True, help_text="Instagram: the place's Page id.")
    location_name = models.CharField(max_length=200, blank=True)
    collaborators = models.JSONField(default=list, blank=True, help_text="Instagram usernames (at most 3).")
    share_to_feed = models.BooleanField(default=True, help_text="Reels: also show in the main feed.")
    audio_name = models.CharField(max_length=200, blank=True)
    thumb_offset_ms = models.PositiveIntegerField(null=True, blank=True)
    cover = models.ForeignKey(MediaAsset, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    scheduled_at = models.DateTimeField(null=True, blank=True, help_text="UTC; empty means publish now.")
    # What the person chose, kept so a daylight-saving change or a time-zone edit can be recomputed honestly.
    scheduled_local = models.CharField(max_length=19, blank=True)
    scheduled_timezone = models.CharField(max_length=64, blank=True)
    approval = models.CharField(max_length=15, choices=Approval.choices, default=Approval.NOT_REQUIRED)
    # Added to its channels' queues: its time is a queue slot, and moves when the queue is reordered or resumed.
    in_queue = models.BooleanField(default=False)
    # The composer form's one-time token: sending the same form twice (double click, back and resubmit) finds
    # this post instead of making a second one. Empty for posts made before it existed or outside the composer.
    form_token = models.UUIDField(null=True, blank=True, editable=False)
    # A person asked to delete the post on Meta too: a worker deletes it there, then here. What Meta refused is
    # kept in `removal_error` and the post stays, so nothing is shown as deleted that is still public.
    removal_requested_at = models.DateTimeField(null=True, blank=True)
    removal_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["workspace", "-created_at"], name="post_workspace_recent"),
            models.Index(fields=["workspace", "scheduled_at"], name="post_workspace_schedule"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "form_token"], name="unique_post_form_token_per_workspace")
        ]

    def __str__(self) -> str:
        return (self.caption[:60] or self.get_format_display()).strip()


class PostMedia(models.Model):
    """An item of a post's media, in order, with what is tagged on it."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="items")
    # RESTRICT, not PROTECT: a file a post uses cannot be deleted on its own, but deleting the whole workspace
    # (which takes the posts along) goes through.
    asset = models.ForeignKey(MediaAsset, on_delete=models.RESTRICT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    user_tags = models.JSONField(default=list, blank=True, help_text='[{"username": "…", "x": 0.5, "y": 0.5}]')
    product_tags = models.JSONField(default=list, blank=True, help_text='[{"product_id": "…", "x": 0.5, "y": 0.5}]')
    alt_text = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["post", "position"]
        constraints = [models.UniqueConstraint(fields=["post", "position"], name="unique_post_media_position")]

    def __str__(self) -> str:
        return f"{self.post_id}#{self.position}"


class DeliveryState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    SCHEDULED = "scheduled", _("Scheduled")
    PUBLISHING = "publishing", _("Publishing")
    PROCESSING = "processing", _("Meta is processing")
    PUBLISHED = "published", _("Published")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class DeliveryKind(models.TextChoices):
    IG_IMAGE = "ig_image", _("Instagram image")
    IG_CAROUSEL = "ig_carousel", _("Instagram carousel")
    IG_REEL = "ig_reel", _("Instagram reel")
    IG_STORY = "ig_story", _("Instagram story")
    FB_TEXT = "fb_text", _("Facebook text post")
    FB_LINK = "fb_link", _("Facebook link post")
    FB_PHOTO = "fb_photo", _("Facebook photo")
    FB_PHOTOS = "fb_photos", _("Facebook photos")
    FB_VIDEO = "fb_video", _("Facebook video")
    FB_REEL = "fb_reel", _("Facebook reel")


ACTIVE_STATES = (DeliveryState.PUBLISHING, DeliveryState.PROCESSING)


class Delivery(models.Model):
    """One post on one channel."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="deliveries")
    # RESTRICT, not PROTECT: a channel with deliveries is disconnected, never deleted on its own, but an operator
    # deleting its workspace or agency (which takes the posts and so the deliveries along) is let through.
    channel = models.ForeignKey(Channel, on_delete=models.RESTRICT, related_name="deliveries")
    kind = models.CharField(max_length=15, choices=DeliveryKind.choices)
    state = models.CharField(max_length=20, choices=DeliveryState.choices, default=DeliveryState.DRAFT)
    caption_override = models.TextField(blank=True)
    first_comment_override = models.TextField(blank=True)
    due_at = models.DateTimeField(null=True, blank=True, help_text="When it should go out (UTC).")
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="When the dispatcher may pick it up.")
    waiting_reason = models.TextField(blank=True, help_text="Why a scheduled delivery is not going out yet.")
    # A claim on the delivery by one task run; a run whose lease expired (its worker died) is swept up.
    lease_token = models.CharField(max_length=36, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="Runs so far (each is in the attempt log).")
    error_count = models.PositiveIntegerField(default=0, help_text="Runs that ended in an error or died.")
    processing_since = models.DateTimeField(null=True, blank=True, help_text="When waiting for Meta began.")
    waiting_for = models.CharField(
        max_length=80, blank=True, help_text="The container or video Meta is processing; a new one starts a new wait."
    )
    follow_up_attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Failed tries at what follows a public post (the first comment)."
    )
    # Remote ids, saved the moment Meta returns them.
    container_id = models.CharField(max_length=64, blank=True)
    child_container_ids = models.JSONField(default=list, blank=True)
    upload_id = models.CharField(max_length=64, blank=True, help_text="Facebook video/reel id during upload.")
    upload_session_id = models.CharField(max_length=64, blank=True, help_text="Facebook chunked upload session.")
    photo_ids = models.JSONField(default=list, blank=True, help_text="Facebook unpublished photos of the post.")
    uploaded_ids = models.JSONField(default=list, blank=True, help_text="Containers/videos whose bytes are sent.")
    remote_id = models.CharField(max_length=80, blank=True, help_text="The Instagram media id or Facebook post id.")
    permalink = models.URLField(max_length=1000, blank=True)
    first_comment_id = models.CharField(max_length=80, blank=True)
    # Set right before the one call that makes something public, and its answer's arrival: a delivery with the
    # first and neither the second nor a remote id had its answer lost, so a retry asks Meta before acting.
    publish_started_at = models.DateTimeField(null=True, blank=True)
    # When that call was first made on what is prepared now. Unlike `publish_started_at`, which a later run clears
    # when Meta says the call did not go through, it stays: Meta can be slow to show a publish, so what was
    # prepared (the container a late publish would show up on) is never dropped for an edit.
    publish_tried_at = models.DateTimeField(null=True, blank=True)
    publish_confirmed_at = models.DateTimeField(null=True, blank=True)
    first_comment_started_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    error_code = models.IntegerField(null=True, blank=True)
    error_subcode = models.IntegerField(null=True, blank=True)
    fbtrace_id = models.CharField(max_length=64, blank=True)
    # After an unconfirmed outcome: the posts on the account that could be this one, for a person to check.
    candidates = models.JSONField(default=list, blank=True)
    removed_from_meta_at = models.DateTimeField(null=True, blank=True, help_text="Deleted on Meta at a person's ask.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["post", "channel"]
        verbose_name_plural = "deliveries"
        constraints = [models.UniqueConstraint(fields=["post", "channel"], name="unique_delivery_per_channel")]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["state", "lease_until"], name="delivery_lease"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.channel}"

    @property
    def caption(self) -> str:
        return self.caption_override or self.post.caption

    @property
    def first_comment(self) -> str:
        return self.first_comment_override or self.post.first_comment

    @property
    def unconfirmed(self) -> bool:
        return self.state == DeliveryState.FAILED and bool(self.candidates)


class DeliveryAttempt(models.Model):
    """One run of the publishing task on a delivery, with what it did and how it ended."""

    class Outcome(models.TextChoices):
        RUNNING = "running", _("Running")
        PUBLISHED = "published", _("Published")
        WAITING = "waiting", _("Waiting (Meta processing or a limit)")
        RETRY = "retry", _("Will retry")
        FAILED = "failed", _("Failed")
        PAUSED = "paused", _("Paused: reconnect needed")

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RUNNING)
    steps = models.JSONField(default=list, blank=True, help_text="What the run did, in order.")
    error_class = models.CharField(max_length=40, blank=True)
    error_code = models.IntegerField(null=True, blank=True)
    error_subcode = models.IntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    fbtrace_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}: {self.outcome}"


class PostVersion(models.Model):
    """What a post was after one save: its content, media, channels and time, with who saved it and when.
    Restoring a version opens it in the composer; saving it there makes a new version."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    changed = models.JSONField(default=list, blank=True, help_text="Names of what changed since the version before.")
    snapshot = models.JSONField(default=dict)

    class Meta:
        ordering = ["post", "-number"]
        constraints = [models.UniqueConstraint(fields=["post", "number"], name="unique_post_version_number")]

    def __str__(self) -> str:
        return f"{self.post_id} v{self.number}"


class ComposerDraft(models.Model):
    """What a person typed in the composer and has not saved yet, kept as they type (form fields as sent), so
    a reload, an error or a closed tab loses nothing. One per person and composer form; removed on save."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token = models.UUIDField()
    post = models.ForeignKey(Post, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    data = models.JSONField(default=dict)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [models.UniqueConstraint(fields=["user", "token"], name="unique_composer_draft")]
        indexes = [models.Index(fields=["workspace", "user", "-updated_at"], name="composer_draft_recent")]

    def __str__(self) -> str:
        return f"draft {self.token}"

    @property
    def title(self) -> str:
        caption = (self.data.get("caption") or [""])[0].strip()
        return caption[:60] or "Untitled post"


class GraphLookup(models.Model):
    """A question the composer asks Meta (catalog products, a place's Page), answered by a worker: the page
    polls the row until it is done."""

    class Kind(models.TextChoices):
        PRODUCTS = "products", _("Product search")
        PLACE = "place", _("Place lookup")

    class Status(models.TextChoices):
        PENDING = "pending", _("Asking Meta")
        DONE = "done", _("Answered")
        FAILED = "failed", _("Failed")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    query = models.CharField(max_length=300)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    results = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.query}"


# --- queues -----------------------------------------------------------------------------------------------------
class PostingQueue(models.Model):
    """A channel's queue: its recurring posting slots, and whether it is paused (a paused queue holds its
    posts; resuming moves them to the next free slots)."""

    channel = models.OneToOneField(Channel, on_delete=models.CASCADE, related_name="posting_queue")
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"queue of {self.channel_id}"


class PostingSlot(models.Model):
    """One recurring slot of a queue: a weekday and a time on the workspace's clock (e.g. Monday 09:30)."""

    queue = models.ForeignKey(PostingQueue, on_delete=models.CASCADE, related_name="slots")
    weekday = models.PositiveSmallIntegerField(help_text="0 Monday … 6 Sunday")
    time = models.TimeField()

    class Meta:
        ordering = ["queue", "weekday", "time"]
        constraints = [
            models.UniqueConstraint(fields=["queue", "weekday", "time"], name="unique_posting_slot"),
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="posting_slot_weekday"),
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.time:%H:%M}"


# --- approvals ----------------------------------------------------------------------------------------------------
class ApprovalLink(models.Model):
    """A magic link through which a client reviews the workspace's posts awaiting them, without an account.
    Only a hash of the token is stored; the link expires, can be revoked, and every use is recorded."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="approval_links")
    name = models.CharField(max_length=120, help_text="Who the link is for, shown on their decisions.")
    email = models.EmailField(blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.workspace_id})"

    @staticmethod
    def new_token() -> tuple[str, str]:
        token = secrets.token_urlsafe(32)
        return token, hash_token(token)

    @classmethod
    def find_by_token(cls, token: str) -> ApprovalLink | None:
        return cls.objects.select_related("workspace").filter(token_hash=hash_token(token)).first()

    @property
    def usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class ApprovalLinkUse(models.Model):
    """One use of a magic link: opened, approved, asked for changes, commented."""

    link = models.ForeignKey(ApprovalLink, on_delete=models.CASCADE, related_name="uses")
    post = models.ForeignKey("Post", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=20)
    at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.action} via {self.link_id}"


class ApprovalDecision(models.Model):
    """A step of a post's approval, recorded for good: who (a person, or a client through a link), when, what."""

    class Stage(models.TextChoices):
        INTERNAL = "internal", _("Internal")
        CLIENT = "client", _("Client")

    class Action(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted for approval")
        APPROVED = "approved", _("Approved")
        CHANGES_REQUESTED = "changes_requested", _("Changes requested")

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="decisions")
    stage = models.CharField(max_length=10, choices=Stage.choices)
    action = models.CharField(max_length=20, choices=Action.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    link = models.ForeignKey(ApprovalLink, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor_name = models.CharField(max_length=150, help_text="Who it was, kept if the person or link goes.")
    comment = models.TextField(blank=True)
    version = models.PositiveIntegerField(null=True, blank=True, help_text="The post version decided on.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["post", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.post_id}: {self.action} ({self.stage})"


class PostComment(models.Model):
    """A comment on a post between the team and the client, threaded (a reply names its parent). Whether the
    client reads it is settled when it is written (`services.approvals` says how) and never changes after."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    link = models.ForeignKey(ApprovalLink, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    author_name = models.CharField(max_length=150)
    body = models.TextField()
    shared_with_client = models.BooleanField(
        default=False, help_text="Seen by the client on their review page; otherwise only the team reads it."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["post", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.author_name}: {self.body[:40]}"
