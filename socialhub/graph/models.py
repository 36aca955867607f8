from __future__ import annotations

from django.db import models


class GraphCall(models.Model):
    """One HTTP call to Meta, kept for operators for `GRAPH_CALL_RETENTION_DAYS`. Never holds a token, an
    `appsecret_proof` or an app secret: `path` is redacted before it is stored."""

    class Outcome(models.TextChoices):
        OK = "ok", "OK"
        ERROR = "error", "Meta returned an error"
        EXCEPTION = "exception", "No answer (timeout, connection)"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    method = models.CharField(max_length=8)
    host = models.CharField(max_length=255)
    path = models.TextField(help_text="Path and query string, credentials removed.")
    status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty when no answer came back.")
    duration_ms = models.PositiveIntegerField()
    error_code = models.IntegerField(null=True, blank=True)
    error_subcode = models.IntegerField(null=True, blank=True)
    error_type = models.CharField(max_length=100, blank=True)
    fbtrace_id = models.CharField(max_length=100, blank=True)
    app_usage_percent = models.FloatField(
        null=True, blank=True, help_text="Highest of X-App-Usage, X-Page-Usage and X-Business-Use-Case-Usage."
    )
    buc_usage = models.JSONField(null=True, blank=True, help_text="X-Business-Use-Case-Usage as Meta sent it.")
    channel_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "Graph API call"

    def __str__(self) -> str:
        return f"{self.method} {self.path} → {self.status or self.outcome}"
