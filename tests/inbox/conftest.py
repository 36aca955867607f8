"""Inbox fixtures: the seeded channels with real sandbox tokens, people in each inbox role, and `make_comment`,
which builds a thread's rows in one insert each without asking Meta."""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest
from django.utils import timezone

from accounts.models import Channel, WorkspaceMembership
from inbox.models import Comment, InboxPost
from tests.factories import ChannelFactory, UserFactory

_ids = itertools.count(1)


@pytest.fixture
def inbox_channels(client, alice, workspace, sandbox_control) -> dict[str, Channel]:
    """Alice's workspace with the Harbor Yoga Studio Page and @harboryoga (Facebook Login) and @maplethread.studio
    (Instagram Login), with tokens the sandbox accepts. The client is signed in as Alice (the agency owner)."""
    client.force_login(alice)
    common = {"workspace": workspace, "connected_by": alice, "sandbox": sandbox_control}
    return {
        "page": ChannelFactory(**common),
        "ig": ChannelFactory(instagram=True, **common),
        "ig_login": ChannelFactory(instagram_login=True, **common),
    }


def _member(workspace, role: str, email: str):
    from accounts.models import AgencyMembership

    user = UserFactory(email=email)
    AgencyMembership.objects.create(agency=workspace.agency, user=user, role="member")
    WorkspaceMembership.objects.create(workspace=workspace, user=user, role=role)
    return user


@pytest.fixture
def moderator(workspace):
    return _member(workspace, "moderator", "mo@northwind.example")


@pytest.fixture
def analyst(workspace):
    return _member(workspace, "analyst", "ana@northwind.example")


@pytest.fixture
def editor(workspace):
    return _member(workspace, "editor", "ed@northwind.example")


@pytest.fixture
def make_comment():
    """`make_comment(channel, text=..., parent=..., media_id=..., **fields)` → a stored Comment (and its InboxPost),
    as ingest would leave it. Ids are made up unless given; `at` sets when it was written."""

    def _make(
        channel: Channel,
        *,
        text: str = "Love this!",
        parent: Comment | None = None,
        media_id: str = "",
        at: datetime | None = None,
        **fields,
    ) -> Comment:
        at = at or timezone.now()
        n = next(_ids)
        if parent is not None:
            inbox_post = parent.inbox_post
        else:
            inbox_post, _ = InboxPost.objects.get_or_create(
                channel=channel,
                external_id=media_id or f"1790000000000{n:04d}",
                defaults={"workspace": channel.workspace, "caption": "Sunrise flow", "posted_at": at},
            )
        from_us = fields.pop("from_us", False)
        values = {
            "workspace": channel.workspace,
            "channel": channel,
            "inbox_post": inbox_post,
            "external_id": fields.pop("external_id", f"1780000000000{n:04d}"),
            "parent": parent,
            "author_id": channel.external_id if from_us else f"9{n:08d}",
            "author_name": channel.username or channel.name if from_us else f"fan{n}",
            "from_us": from_us,
            "text": text,
            "created_at": at,
            "last_activity_at": at,
            "needs_reply": not from_us,
        }
        values.update(fields)
        comment = Comment.objects.create(**values)
        if parent is not None:
            Comment.objects.filter(pk=parent.pk, last_activity_at__lt=at).update(last_activity_at=at)
            Comment.objects.filter(pk=parent.pk).update(needs_reply=not from_us)
        return comment

    return _make
