"""Create (or refresh) the demo agency, its workspaces and a login, and print the login."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Agency, AgencyMembership, AgencyRole, User, Workspace

DEMO_EMAIL = "demo@socialhub.localhost"
DEMO_PASSWORD = "socialhub-demo"
DEMO_AGENCY = "Demo Agency"
DEMO_WORKSPACES = [("Harbour Bakery", "Europe/Rome"), ("Summit Outdoor Co.", "America/Denver")]


class Command(BaseCommand):
    help = "Create the demo agency, workspaces and login used by `make run` (safe to run again)."

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> str:
        user, created = User.objects.get_or_create(email=DEMO_EMAIL, defaults={"full_name": "Demo Manager"})
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        EmailAddress.objects.update_or_create(user=user, email=DEMO_EMAIL, defaults={"verified": True, "primary": True})
        agency = Agency.objects.filter(name=DEMO_AGENCY, memberships__user=user).first()
        if agency is None:
            agency = Agency.objects.create(name=DEMO_AGENCY)
        AgencyMembership.objects.update_or_create(agency=agency, user=user, defaults={"role": AgencyRole.OWNER})
        for name, tz in DEMO_WORKSPACES:
            Workspace.objects.get_or_create(agency=agency, name=name, defaults={"timezone": tz})
        base = settings.PUBLIC_BASE_URL
        lines = [
            "",
            "=" * 60,
            f"  SocialHub demo: {base}/",
            f"  email:    {DEMO_EMAIL}",
            f"  password: {DEMO_PASSWORD}",
            "=" * 60,
            "",
        ]
        return "\n".join(lines)
