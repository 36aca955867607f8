from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .models import GraphCall

PRUNE_BATCH_SIZE = 5000


@shared_task(name="graph.prune_graph_calls")
def prune_graph_calls(batch_size: int = PRUNE_BATCH_SIZE) -> int:
    """Delete GraphCall rows older than GRAPH_CALL_RETENTION_DAYS, `batch_size` rows per DELETE so that no
    statement locks the table for long. Returns how many rows were deleted. Safe to run twice."""
    cutoff = timezone.now() - timedelta(days=settings.GRAPH_CALL_RETENTION_DAYS)
    deleted = 0
    while True:
        ids = list(GraphCall.objects.filter(created_at__lt=cutoff).values_list("id", flat=True)[:batch_size])
        if not ids:
            return deleted
        deleted += GraphCall.objects.filter(id__in=ids).delete()[0]
