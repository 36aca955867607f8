"""Insights SocialHub keeps so that pages never wait on Meta: per-day account series, each post's latest
lifetime figures, the audience's make-up, how far each channel's sync got, and the client report schedule.

This app owns these tables alone; it reads channels and workspaces through `accounts`. Every row carries its
workspace (directly or through its channel), so every query can be scoped to what the person may see.

A value Meta did not give (too few followers or viewers, data not yet there, up to 48 hours late) is stored as
NULL, "not available": never as 0, which would draw a false drop in a chart."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class DailyMetric(models.Model):
    """One account metric of one channel on one day (the channel's day as Meta counts it: the `end_time` of
    Meta's value minus one day). `dimension` is a breakdown value ("REEL", "FOLLOWER", "like") or "" for the
    metric's total. `metric` is a name from `analytics.catalogue`, or `followers_count` (the account's follower
    total read from its profile that day)."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey("accounts.Channel", on_delete=models.CASCADE, related_name="+")
    metric = models.CharField(max_length=64)
    dimension = models.CharField(max_length=64, blank=True, default="")
    date = models.DateField()
    value = models.BigIntegerField(null=True, blank=True, help_text="Empty: Meta had no figure (not available).")
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "metric", "dimension", "date"], name="analytics_daily_one_value_per_day"
            )
        ]
        indexes = [models.Index(fields=["workspace", "metric", "date"], name="analytics_daily_ws_metric_date")]

    def __str__(self) -> str:
        return f"{self.metric}{'/' + self.dimension if self.dimension else ''} {self.date}: {self.value}"


class PostKind(models.TextChoices):
    FEED = "FEED", "Instagram post"
    REELS = "REELS", "Instagram reel"
    STORY = "STORY", "Instagram story"
    PAGE_POST = "PAGE_POST", "Facebook post"


class PostInsight(models.Model):
    """The latest lifetime figures of one published post or media, whoever published it. The common figures
    have their own columns (for sorting the top posts); `metrics` holds every metric read, name → value or
    null (not available)."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey("accounts.Channel", on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=100, help_text="The Instagram media id or Page post id at Meta.")
    kind = models.CharField(max_length=12, choices=PostKind.choices)
    media_type = models.CharField(max_length=32, blank=True, help_text="IMAGE, VIDEO, CAROUSEL_ALBUM, …")
    published_at = models.DateTimeField()
    caption = models.TextField(blank=True)
    permalink = models.URLField(max_length=1000, blank=True)
    thumbnail_url = models.URLField(max_length=2000, blank=True)
    reach = models.BigIntegerField(null=True, blank=True)
    views = models.BigIntegerField(null=True, blank=True)
    likes = models.BigIntegerField(null=True, blank=True)
    comments = models.BigIntegerField(null=True, blank=True)
    shares = models.BigIntegerField(null=True, blank=True)
    saves = models.BigIntegerField(null=True, blank=True)
    interactions = models.BigIntegerField(null=True, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True, help_text="Empty: figures not read yet.")
    final = models.BooleanField(
        default=False, help_text="Meta no longer updates these figures (a story after its 24 hours)."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="analytics_post_once_per_channel")
        ]
        indexes = [
            models.Index(fields=["workspace", "published_at"], name="analytics_post_ws_published"),
            models.Index(fields=["channel", "published_at"], name="analytics_post_ch_published"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.external_id}"


class Audience(models.Model):
    """Who follows (or engaged with) an account, by one breakdown (age, gender, city, country), as Meta last
    reported it: `values` maps a breakdown value to a count (Meta gives the top 45). `available` is false when
    Meta had none (under 100 followers or engagements)."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey("accounts.Channel", on_delete=models.CASCADE, related_name="+")
    metric = models.CharField(max_length=64)
    breakdown = models.CharField(max_length=32)
    timeframe = models.CharField(max_length=32, blank=True)
    values = models.JSONField(default=dict, blank=True)
    available = models.BooleanField(default=False)
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "metric", "breakdown"], name="analytics_audience_once")
        ]

    def __str__(self) -> str:
        return f"{self.metric} by {self.breakdown}"


class InsightSync(models.Model):
    """How far one channel's insights are: the backfill on connect, the last day stored, the last run and what
    went wrong. The agency view marks a channel whose sync is behind."""

    channel = models.OneToOneField("accounts.Channel", on_delete=models.CASCADE, related_name="insight_sync")
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    backfilled_at = models.DateTimeField(null=True, blank=True, help_text="Empty: the first backfill has not run.")
    synced_through = models.DateField(null=True, blank=True, help_text="The last day whose account figures are in.")
    account_synced_at = models.DateTimeField(null=True, blank=True)
    posts_synced_at = models.DateTimeField(null=True, blank=True)
    audience_synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    next_run_at = models.DateTimeField(null=True, blank=True, help_text="Held back until then (Meta's usage).")

    def __str__(self) -> str:
        return f"Insights of channel {self.channel_id}"


class ReportFrequency(models.TextChoices):
    WEEKLY = "weekly", "Every Monday, the last 7 days"
    MONTHLY = "monthly", "On the 1st, the last month"


class ReportSchedule(models.Model):
    """A client report emailed on a schedule: the workspace's report for the period just ended, as a PDF."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    frequency = models.CharField(max_length=10, choices=ReportFrequency.choices, default=ReportFrequency.WEEKLY)
    recipients = models.TextField(help_text="Email addresses, one per line or separated by commas.")
    enabled = models.BooleanField(default=True)
    next_send_at = models.DateTimeField()
    last_sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    pending_recipients = models.JSONField(
        default=list, blank=True, help_text="Addresses still to get the current occurrence."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["enabled", "next_send_at"], name="analytics_report_due")]

    def __str__(self) -> str:
        return f"{self.get_frequency_display()} report for workspace {self.workspace_id}"


class AgencyBranding(models.Model):
    """The agency's logo on its client reports."""

    agency = models.OneToOneField("accounts.Agency", on_delete=models.CASCADE, related_name="branding")
    logo = models.ImageField(upload_to="branding/", blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Branding of agency {self.agency_id}"
