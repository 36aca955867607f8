"""Two owners demoting or removing each other at the same moment: one goes through, the other is refused, and
the agency keeps an owner. The second request runs from another thread (its own database connection) exactly
between the first one's last-owner check and its write."""

from __future__ import annotations

import threading
from collections.abc import Callable
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from accounts.access import AgencyAccess, get_agency_for_user
from accounts.models import AgencyMembership, AgencyRole
from accounts.services import team
from tests.factories import AgencyFactory, AgencyMembershipFactory, UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.no_sandbox,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="Needs two connections that wait for each other's locks (PostgreSQL: set DATABASE_URL, as CI does). "
        "SQLite's test database is in memory with a shared cache, where a second connection fails at once with "
        "'database table is locked' instead of waiting; SQLite also runs one writing transaction at a time "
        "(BEGIN IMMEDIATE, see settings), so this race cannot happen on it.",
    ),
]

Action = Callable[[AgencyAccess, AgencyMembership], object]
ACTIONS: dict[str, Action] = {
    "demote": lambda access, membership: team.agency_member_set_role(
        access=access, membership=membership, role=AgencyRole.ADMIN
    ),
    "remove": lambda access, membership: team.agency_member_remove(access=access, membership=membership),
}
# How long the first request waits, between its check and its write, for the second one to finish. Without a
# lock the second one finishes well within it; with the lock it cannot finish until the first one commits.
WINDOW_SECONDS = 2


@pytest.mark.parametrize(("first", "second"), [("demote", "demote"), ("remove", "remove"), ("demote", "remove")])
def test_two_owners_cannot_take_each_other_out_at_the_same_time(first: str, second: str) -> None:
    agency = AgencyFactory(name="Twin Owners")
    ann, ben = UserFactory(), UserFactory()
    ann_membership = AgencyMembershipFactory(agency=agency, user=ann, role=AgencyRole.OWNER)
    ben_membership = AgencyMembershipFactory(agency=agency, user=ben, role=AgencyRole.OWNER)
    # Both pages were loaded while both were owners.
    ann_access = get_agency_for_user(ann, agency.public_id)
    ben_access = get_agency_for_user(ben, agency.public_id)

    outcome: dict[str, str] = {}
    started = threading.Event()

    def bens_request() -> None:
        try:
            ACTIONS[second](ben_access, ann_membership)
            outcome["ben"] = "done"
        except ValidationError as exc:
            outcome["ben"] = " ".join(exc.messages)
        except Exception as exc:  # surfaced by the assertion below
            outcome["ben"] = repr(exc)
        finally:
            connection.close()  # this thread's own connection

    bens_thread = threading.Thread(target=bens_request)
    real_check = team._is_last_owner

    def check_then_let_ben_in(membership: AgencyMembership) -> bool:
        answer = real_check(membership)
        if not started.is_set():  # Ann's check has run and her write has not: Ben clicks now
            started.set()
            bens_thread.start()
            bens_thread.join(timeout=WINDOW_SECONDS)
        return answer

    with mock.patch.object(team, "_is_last_owner", check_then_let_ben_in):
        ACTIONS[first](ann_access, ben_membership)
        bens_thread.join(timeout=30)

    assert started.is_set() and not bens_thread.is_alive()
    owners = list(AgencyMembership.objects.filter(agency=agency, role=AgencyRole.OWNER).values_list("user", flat=True))
    assert owners == [ann.pk]
    assert outcome["ben"] == "An agency needs at least one owner. Make someone else owner first."
