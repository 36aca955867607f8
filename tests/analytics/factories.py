"""Stored insights rows, as the sync leaves them, written in one insert each and without asking Meta.

    daily_rows(channel, "reach", date(2026, 1, 1), [120, None, 95])   # three days; None = not available
    kpi_rows(channel, catalogue.kpi("new_followers"), date(2026, 1, 1), [4, 5])  # where that KPI is stored
    post_insight(channel, reach=300, published_at=...)                # one post's latest lifetime figures
    audience(channel, "follower_demographics", "age", {"18-24": 40})  # one breakdown of the audience

Channels come from tests.factories.ChannelFactory (no sandbox needed: these rows never reach Meta). Several
channels in one workspace need distinct `external_id`s; `channel(workspace, n)` makes the n-th one."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone

from accounts.models import Channel, Platform, Workspace
from analytics import catalogue
from analytics.models import Audience, DailyMetric, InsightSync, PostInsight, PostKind
from tests.factories import ChannelFactory

_ids = itertools.count(1)


def channel(workspace: Workspace, n: int = 0, *, instagram: bool = True, **fields: Any) -> Channel:
    """The n-th made-up channel of the workspace (Instagram unless `instagram=False`), with a dummy token."""
    platform = Platform.INSTAGRAM if instagram else Platform.FACEBOOK_PAGE
    prefix = "1784100000" if instagram else "1000000000"
    defaults: dict[str, Any] = {
        "workspace": workspace,
        "platform": platform,
        "external_id": f"{prefix}{workspace.pk:04d}{n:03d}",
        "name": f"{'Insta' if instagram else 'Page'} {n}",
        "username": f"account{n}" if instagram else "",
        "avatar_url": "",
    }
    return ChannelFactory(**{**defaults, **fields})


def daily_rows(
    channel: Channel, metric: str, start_date: date, values: Sequence[int | None], dimension: str = ""
) -> list[DailyMetric]:
    """One DailyMetric per value, on consecutive days from `start_date`; None is stored as NULL (not available)."""
    return DailyMetric.objects.bulk_create(
        DailyMetric(
            workspace_id=channel.workspace_id,
            channel=channel,
            metric=metric,
            dimension=dimension,
            date=start_date + timedelta(days=i),
            value=value,
        )
        for i, value in enumerate(values)
    )


def kpi_rows(channel: Channel, kpi: catalogue.Kpi, start_date: date, values: Sequence[int | None]) -> list[DailyMetric]:
    """A KPI's daily figures stored where the sync puts them for the channel's platform (the metric, and the
    breakdown value for a KPI read from one: Instagram's new followers are follows_and_unfollows' FOLLOWER)."""
    platform = channel.platform
    return daily_rows(channel, kpi.metric_for(platform), start_date, values, dimension=kpi.dimension_for(platform))


def post_insight(channel: Channel, **fields: Any) -> PostInsight:
    """One post's stored figures. Defaults: a feed post (Instagram) or a Page post, published now, every figure
    not available unless given. `metrics` defaults to the figure columns given."""
    n = next(_ids)
    kind = PostKind.FEED if channel.platform == Platform.INSTAGRAM else PostKind.PAGE_POST
    columns = ("reach", "views", "likes", "comments", "shares", "saves", "interactions")
    row: dict[str, Any] = {
        "workspace_id": channel.workspace_id,
        "channel": channel,
        "external_id": f"1790000{n:09d}",
        "kind": kind,
        "media_type": "IMAGE",
        "published_at": timezone.now(),
        "caption": f"Post {n}",
        "permalink": f"https://www.instagram.com/p/post{n}/",
        "thumbnail_url": f"https://cdn.example.com/thumb{n}.jpg",
        "fetched_at": timezone.now(),
        **fields,
    }
    row.setdefault("metrics", {c: row[c] for c in columns if c in row})
    return PostInsight.objects.bulk_create([PostInsight(**row)])[0]


def post_insights(channel: Channel, rows: Sequence[dict[str, Any]]) -> list[PostInsight]:
    """Many posts in one insert: each dict as `post_insight`'s fields."""
    objs = []
    for fields in rows:
        n = next(_ids)
        obj = PostInsight(
            workspace_id=channel.workspace_id,
            channel=channel,
            external_id=f"1790000{n:09d}",
            kind=PostKind.FEED if channel.platform == Platform.INSTAGRAM else PostKind.PAGE_POST,
            published_at=timezone.now(),
            caption=f"Post {n}",
            fetched_at=timezone.now(),
        )
        for key, value in fields.items():
            setattr(obj, key, value)
        objs.append(obj)
    return PostInsight.objects.bulk_create(objs)


def audience(
    channel: Channel, metric: str, breakdown: str, values: dict[str, int] | None, *, timeframe: str = "this_month"
) -> Audience:
    """One stored audience breakdown; empty or None `values` = Meta had none (available False)."""
    return Audience.objects.bulk_create(
        [
            Audience(
                workspace_id=channel.workspace_id,
                channel=channel,
                metric=metric,
                breakdown=breakdown,
                timeframe=timeframe,
                values=values or {},
                available=bool(values),
            )
        ]
    )[0]


def insight_sync(channel: Channel, **fields: Any) -> InsightSync:
    """The channel's sync progress row (backfilled and synced now unless given)."""
    now: datetime = timezone.now()
    row: dict[str, Any] = {
        "channel": channel,
        "workspace_id": channel.workspace_id,
        "backfilled_at": now,
        "account_synced_at": now,
        "synced_through": (now - timedelta(days=1)).date(),
        **fields,
    }
    return InsightSync.objects.bulk_create([InsightSync(**row)])[0]
