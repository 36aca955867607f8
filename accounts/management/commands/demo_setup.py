"""Create (or refresh) the demo agency, its workspaces, its channels and its login, plus an operator login for
the admin (in debug mode only), and print the logins.

Channels are connected the way a person connects them: through the Channels page, the sandbox's consent
dialog and the picker (a real code exchange with the sandbox), never by writing rows directly."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import time
from pathlib import Path
from urllib.parse import urlsplit

import requests
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test import Client
from django.urls import reverse

from accounts.models import Agency, AgencyMembership, AgencyRole, Channel, User, Workspace
from socialhub.devconnect import connect_with_facebook, connect_with_instagram

DEMO_EMAIL = "demo@socialhub.localhost"
DEMO_PASSWORD = "socialhub-demo"
DEMO_AGENCY = "Demo Agency"
# Staff and superuser: the operations admin. A known password, so created only when DEBUG is on.
OPERATOR_EMAIL = "operator@socialhub.localhost"
OPERATOR_PASSWORD = "socialhub-operator"
# (workspace, time zone, how its accounts are connected in the sandbox)
DEMO_WORKSPACES = [
    ("Harbor Yoga Studio", "Europe/Rome", {"facebook": ["Harbor Yoga Studio"]}),
    ("Copper Kettle Cafe", "America/Denver", {"facebook": ["Copper Kettle Cafe"]}),
    ("Maple Thread Studio", "Europe/London", {"instagram": "maplethread.studio"}),
]
DEMO_POSTING_DAYS = (0, 2, 4)
DEMO_POSTING_TIME = time(9, 30)
SANDBOX_STATE = Path(settings.BASE_DIR) / "var" / "sandbox-state.json"


class Command(BaseCommand):
    help = (
        "Create the demo agency, workspaces, channels and login, and the operator login for the admin, used by "
        "`make run` (safe to run again)."
    )

    def handle(self, *args: object, **options: object) -> str:
        user, workspaces = self._accounts()
        self._channels(user, workspaces)
        self._posting_times([w for w, _ in workspaces])
        base = settings.PUBLIC_BASE_URL
        lines = [
            "",
            "=" * 60,
            f"  SocialHub demo: {base}/",
            f"  email:    {DEMO_EMAIL}",
            f"  password: {DEMO_PASSWORD}",
        ]
        if settings.DEBUG:
            self._operator()
            lines += [
                "",
                f"  Operations admin: {base}{reverse('admin:index')}",
                f"  email:    {OPERATOR_EMAIL}",
                f"  password: {OPERATOR_PASSWORD}",
            ]
        else:
            lines += ["", "  No operator login: DEBUG is off. Create one with `manage.py createsuperuser`."]
        return "\n".join([*lines, "=" * 60, ""])

    @transaction.atomic
    def _operator(self) -> User:
        user, created = User.objects.get_or_create(email=OPERATOR_EMAIL, defaults={"full_name": "Operator"})
        if created or not user.check_password(OPERATOR_PASSWORD):
            user.set_password(OPERATOR_PASSWORD)
        user.is_staff = user.is_superuser = user.is_active = True
        user.save()
        EmailAddress.objects.update_or_create(
            user=user, email=OPERATOR_EMAIL, defaults={"verified": True, "primary": True}
        )
        return user

    @transaction.atomic
    def _accounts(self) -> tuple[User, list[tuple[Workspace, dict]]]:
        user, created = User.objects.get_or_create(email=DEMO_EMAIL, defaults={"full_name": "Demo Manager"})
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        EmailAddress.objects.update_or_create(user=user, email=DEMO_EMAIL, defaults={"verified": True, "primary": True})
        agency = Agency.objects.filter(name=DEMO_AGENCY, memberships__user=user).first()
        if agency is None:
            agency = Agency.objects.create(name=DEMO_AGENCY)
        AgencyMembership.objects.update_or_create(agency=agency, user=user, defaults={"role": AgencyRole.OWNER})
        workspaces = []
        for name, tz, assets in DEMO_WORKSPACES:
            workspace, _ = Workspace.objects.get_or_create(agency=agency, name=name, defaults={"timezone": tz})
            workspaces.append((workspace, assets))
        return user, workspaces

    def _channels(self, user: User, workspaces: list[tuple[Workspace, dict]]) -> None:
        todo = [(w, a) for w, a in workspaces if not Channel.objects.filter(workspace=w).exists()]
        if not todo:
            return
        if urlsplit(settings.META_GRAPH_URL).hostname not in ("127.0.0.1", "localhost"):
            self.stdout.write("Meta settings point at Meta itself: connect the demo's channels from its Channels page.")
            return
        with running_sandbox(settings.META_GRAPH_URL):
            client = Client(HTTP_HOST=urlsplit(settings.PUBLIC_BASE_URL).netloc)
            client.force_login(user)
            for workspace, assets in todo:
                if "facebook" in assets:
                    connect_with_facebook(client, workspace, pages=assets["facebook"])
                else:
                    connect_with_instagram(client, workspace, account=assets["instagram"])
                names = ", ".join(c.display_name for c in Channel.objects.filter(workspace=workspace))
                self.stdout.write(f"Connected to {workspace.name}: {names}")

    def _posting_times(self, workspaces: list[Workspace]) -> None:
        """Each demo account's queue posts on Monday, Wednesday and Friday at 09:30, so "Add to queue" works from
        the first visit. Accounts that have posting times keep theirs."""
        from publishing.services.queues import queue_slots_add, slots_of

        for channel in Channel.objects.filter(workspace__in=workspaces).order_by("pk"):
            if not slots_of([channel]):
                queue_slots_add(channel=channel, weekdays=DEMO_POSTING_DAYS, at=DEMO_POSTING_TIME)


@contextmanager
def running_sandbox(url: str):  # type: ignore[no-untyped-def]
    """Use the sandbox if it already runs (the Procfile's); otherwise start it on its port with the state file
    the Procfile's sandbox loads, and stop it afterwards (stopping saves the state)."""
    try:
        requests.get(f"{url}/__sandbox__/health", timeout=2).raise_for_status()
    except requests.RequestException:
        from sandbox.client import SandboxProcess

        SANDBOX_STATE.parent.mkdir(parents=True, exist_ok=True)
        process = SandboxProcess.start(port=urlsplit(url).port or 8100, seed=1, state=str(SANDBOX_STATE))
        try:
            yield
        finally:
            process.stop()
        return
    yield
