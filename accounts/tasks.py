from celery import shared_task

from .services import invitations_prune


@shared_task(name="accounts.prune_expired_invitations")
def prune_expired_invitations() -> int:
    """Delete invitations that expired unused more than 30 days ago."""
    return invitations_prune(older_than_days=30)
