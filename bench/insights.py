"""`python -m bench insights`: the insights pages, exports, client report and agency view over years of stored data.

One agency with `--channels` channels (200) in workspaces of `--per-workspace` (10), half Instagram accounts and
half Facebook Pages, gets `--days` days (730) of daily figures for every KPI of its platform (`catalogue.KPIS`)
plus, for Instagram, reach and views by content type (13 rows a day for an Instagram account, 5 for a Page),
`--posts` post snapshots (20000) spread over the period, an `InsightSync` per channel (a few behind, a few just
connected and never backfilled, without data), a few accounts that need reconnecting, and the audience of every
Instagram account. Daily rows go in with `COPY` on PostgreSQL and `executemany` on SQLite (no Graph calls).

The data goes in twice, as in `bench pages`: first a small agency (2 workspaces, the last 5 % of the days, their
posts), where each page's query count is recorded, then the rest. A page whose count differs between the two
makes more queries as data grows: it is flagged, with its repeated statements. Each page is then timed with
Django's test `Client` (median and p95 of `--requests` requests after two warm-up requests, and the database time
of one request): signed in as a manager of every workspace, and as the agency's owner for the agency view."""

from __future__ import annotations

import argparse
import functools
import math
import time
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from .env import BenchEnv
from .pages import SMALL_FRACTION, _now, _repeated, seed_and_measure, time_page

CONTENT_TYPES = ("REEL", "POST", "STORY", "CAROUSEL_CONTAINER")  # reach and views by media_product_type
NEVER_BACKFILLED = 40  # one channel in 40 was just connected: no data yet, its first backfill has not run
BEHIND = 10  # one in 10 (offset 3) last synced three days ago
RECONNECT = 25  # one in 25 (offset 5) needs reconnecting
SMALL_ACCOUNT = 20  # one in 20 (offset 11) has too few followers: Meta gives no follower figures or audience
AGES = ("13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")
COUNTRIES = ("IT", "US", "GB", "DE", "FR", "ES", "BR", "IN", "NL", "CH", "AT", "BE", "PT", "SE", "PL")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--channels", type=int, default=200, help="channels in the agency, half Instagram")
    parser.add_argument("--per-workspace", type=int, default=10, help="channels per workspace")
    parser.add_argument("--days", type=int, default=730, help="days of daily figures, ending yesterday")
    parser.add_argument("--posts", type=int, default=20000, help="post snapshots over the whole period")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page")
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (database) for inspection")


def run(args: argparse.Namespace) -> int:
    workspaces = math.ceil(args.channels / args.per_workspace)
    print(
        f"insights: {args.channels} channels in {workspaces} workspaces, {args.days} days, {args.posts} posts, "
        f"{args.db}"
    )
    with BenchEnv(db=args.db, keep=args.keep) as env:
        env.configure()
        env.create_database()
        env.django_setup()
        seeder = Seeder(args)
        small, full = seed_and_measure(env, seeder, measure, db=args.db, requests=args.requests)
        report(args, seeder, small, full)
    return 0


def _mix(*numbers: int) -> float:
    """A deterministic number in [0, 1) from integers: values that look random, the same on every run."""
    h = 2166136261
    for n in numbers:
        h = ((h ^ (n & 0xFFFFFFFF)) * 16777619) & 0xFFFFFFFF
    h ^= h >> 15
    h = (h * 2654435761) & 0xFFFFFFFF
    h ^= h >> 13
    return h / 2**32


class Seeder:
    """Adds rows up to a fraction of the target sizes; calling it again with a larger fraction adds the rest.

    At a fraction f the agency has max(2, f × workspaces) workspaces, and each channel with data has the last
    f × days days of figures and the posts published in them: the small agency is the young, smaller one."""

    def __init__(self, args: argparse.Namespace):
        from accounts.models import Agency, AgencyMembership, AgencyRole, User

        self.args = args
        self.now = _now()
        self.end = self.now.date() - timedelta(days=1)  # the last full UTC day
        self.agency = Agency.objects.create(name="Bench Agency")
        self.owner = User.objects.create_user("owner@bench.example", None, full_name="Olive Owner")
        self.manager = User.objects.create_user("manager@bench.example", None, full_name="Morgan Manager")
        AgencyMembership.objects.bulk_create(
            [
                AgencyMembership(agency=self.agency, user=self.owner, role=AgencyRole.OWNER),
                AgencyMembership(agency=self.agency, user=self.manager, role=AgencyRole.MEMBER),
            ]
        )
        self.workspaces: list[Any] = []
        self.channels: list[Any] = []  # every channel, in order; a channel's index decides its traits
        self.first_day: dict[int, date] = {}  # channel pk → the oldest day seeded so far
        self.posts_done: set[int] = set()  # post numbers already in
        self.rows = 0
        self.timings: dict[str, float] = {}

    @property
    def target(self) -> Any:
        return self.workspaces[0]

    def _timed(self, what: str, started: float) -> None:
        self.timings[what] = self.timings.get(what, 0.0) + time.monotonic() - started

    def grow(self, fraction: float) -> None:
        from django.db import transaction

        a = self.args
        total = math.ceil(a.channels / a.per_workspace)
        days = max(2, math.ceil(a.days * fraction))
        with transaction.atomic():
            started = time.monotonic()
            self._workspaces(max(2, math.ceil(total * fraction)) if fraction < 1 else total)
            self._timed("workspaces, channels, sync state, audience", started)
            started = time.monotonic()
            self._daily(self.end - timedelta(days=days - 1))
            self._timed("daily figures", started)
            started = time.monotonic()
            self._posts(days)
            self._timed("post snapshots", started)

    # --- workspaces and channels ------------------------------------------------------------------------------
    def _workspaces(self, count: int) -> None:
        from accounts.models import Workspace, WorkspaceMembership, WorkspaceRole

        new = [
            Workspace(agency=self.agency, name=f"Brand {n:03d}", timezone="Europe/Rome")
            for n in range(len(self.workspaces), count)
        ]
        if not new:
            return
        Workspace.objects.bulk_create(new)
        new = list(Workspace.objects.filter(agency=self.agency, name__in=[w.name for w in new]).order_by("name"))
        WorkspaceMembership.objects.bulk_create(
            WorkspaceMembership(workspace=w, user=self.manager, role=WorkspaceRole.MANAGER) for w in new
        )
        self.workspaces += new
        for workspace in new:
            self._channels(workspace)

    def _channels(self, workspace: Any) -> None:
        from accounts.models import Channel, ChannelStatus, ConnectedVia, Platform
        from accounts.scopes import FACEBOOK_LOGIN_SCOPES

        start = len(self.channels)
        count = min(self.args.per_workspace, self.args.channels - start)
        new = []
        for n in range(start, start + count):
            instagram = n % 2 == 1
            reconnect = n % RECONNECT == 5
            new.append(
                Channel(
                    workspace=workspace,
                    platform=Platform.INSTAGRAM if instagram else Platform.FACEBOOK_PAGE,
                    connected_via=ConnectedVia.FACEBOOK_LOGIN,
                    external_id=f"{17841400000000000 + n}" if instagram else f"{100000000000000 + n}",
                    page_id=f"{100000000000000 + n - 1}" if instagram else "",
                    name=f"{workspace.name} {'Instagram' if instagram else 'Page'} {n}",
                    username=f"brand_{n}" if instagram else "",
                    access_token="bench-token-not-used",
                    granted_scopes=list(FACEBOOK_LOGIN_SCOPES),
                    token_issued_at=self.now - timedelta(days=self.args.days),
                    connected_at=self.now - timedelta(days=1 if self.never_backfilled(n) else self.args.days),
                    status=ChannelStatus.NEEDS_RECONNECT if reconnect else ChannelStatus.ACTIVE,
                    status_reason="Meta asks for the account to be connected again." if reconnect else "",
                )
            )
        Channel.objects.bulk_create(new)
        channels = list(Channel.objects.filter(workspace=workspace).order_by("pk"))
        self.channels += channels
        self._sync_state(channels, start)
        self._audience(channels, start)

    @staticmethod
    def never_backfilled(n: int) -> bool:
        return n % NEVER_BACKFILLED == NEVER_BACKFILLED - 1

    def _sync_state(self, channels: list[Any], start: int) -> None:
        from analytics.models import InsightSync

        rows = []
        for n, channel in enumerate(channels, start=start):
            if self.never_backfilled(n):
                rows.append(InsightSync(channel=channel, workspace_id=channel.workspace_id))
                continue
            behind = n % BEHIND == 3 or n % RECONNECT == 5
            synced = self.now - (timedelta(days=3) if behind else timedelta(hours=2 + n % 20))
            rows.append(
                InsightSync(
                    channel=channel,
                    workspace_id=channel.workspace_id,
                    backfilled_at=self.now - timedelta(days=self.args.days),
                    synced_through=synced.date() - timedelta(days=1),
                    account_synced_at=synced,
                    posts_synced_at=synced,
                    audience_synced_at=synced,
                    last_error="Error validating access token: the session has expired." if behind else "",
                    last_error_at=synced if behind else None,
                )
            )
        InsightSync.objects.bulk_create(rows)

    def _audience(self, channels: list[Any], start: int) -> None:
        from analytics.catalogue import AUDIENCE_BREAKDOWNS, AUDIENCE_TIMEFRAME
        from analytics.models import Audience

        rows = []
        for n, channel in enumerate(channels, start=start):
            if channel.platform != "instagram" or self.never_backfilled(n):
                continue
            small = n % SMALL_ACCOUNT == 11
            for m, metric in enumerate(("follower_demographics", "engaged_audience_demographics")):
                for breakdown in AUDIENCE_BREAKDOWNS:
                    rows.append(
                        Audience(
                            workspace_id=channel.workspace_id,
                            channel=channel,
                            metric=metric,
                            breakdown=breakdown,
                            timeframe=AUDIENCE_TIMEFRAME,
                            values={} if small else _audience_values(breakdown, n, m),
                            available=not small,
                            fetched_at=self.now,
                        )
                    )
        Audience.objects.bulk_create(rows, batch_size=2000)

    # --- daily figures ----------------------------------------------------------------------------------------
    def _daily(self, first: date) -> None:
        """Every channel with data gets its figures from `first` to yesterday, for the days it does not have."""
        from django.db import connection

        spans = []
        for n, channel in enumerate(self.channels):
            if self.never_backfilled(n):
                continue
            until = self.first_day.get(channel.pk, self.end + timedelta(days=1)) - timedelta(days=1)
            if until >= first:
                spans.append((n, channel, first, until))
                self.first_day[channel.pk] = first
        rows = (row for n, channel, since, until in spans for row in self._channel_rows(n, channel, since, until))
        if connection.vendor == "postgresql":
            self.rows += _copy_daily(rows)
        else:
            self.rows += _insert_daily(rows)

    def _channel_rows(self, n: int, channel: Any, since: date, until: date) -> Any:
        """(workspace_id, channel_id, metric, dimension, date, value) for each day: follower total, new followers,
        reach, views and engagement; reach and views by content type too on Instagram. A few values are missing,
        as Meta leaves them: the last two days of one account in five (data up to 48 h late), one day in 150, and
        every follower figure of an account with too few followers."""
        from analytics.catalogue import KPIS

        instagram = channel.platform == "instagram"
        metrics = [(k.key, k.metric_for(channel.platform)) for k in KPIS]
        scale = 200 + int(_mix(n, 1) * 5000)  # the account's daily reach, roughly
        followers0 = 800 + int(_mix(n, 2) * 40000)
        small = n % SMALL_ACCOUNT == 11
        late = n % 5 == 0
        ws, ch = channel.workspace_id, channel.pk
        origin = self.end - timedelta(days=self.args.days - 1)
        day = since
        while day <= until:
            d = (day - origin).days  # days since the period began
            weekly = 1.0 + 0.25 * (day.weekday() >= 5)
            missing = (late and (self.end - day).days < 2) or _mix(n, d, 3) < 1 / 150
            for key, metric in metrics:
                value: int | None
                if key == "followers":
                    value = followers0 + d * (3 + n % 7)
                elif key == "new_followers":
                    value = 2 + int(_mix(n, d, 4) * 12)
                elif key == "reach":
                    value = int(scale * weekly * (0.6 + 0.8 * _mix(n, d, 5)))
                elif key == "views":
                    value = int(scale * 2.2 * weekly * (0.6 + 0.8 * _mix(n, d, 6)))
                else:  # engagement
                    value = int(scale * 0.06 * weekly * (0.5 + _mix(n, d, 7)))
                if missing or (small and key in ("followers", "new_followers")):
                    value = None
                yield ws, ch, metric, "", day, value
                if instagram and key in ("reach", "views"):
                    shares = (0.4, 0.35, 0.15, 0.1)
                    for share, dimension in zip(shares, CONTENT_TYPES, strict=True):
                        yield ws, ch, metric, dimension, day, None if value is None else int(value * share)
            day += timedelta(days=1)

    # --- post snapshots ---------------------------------------------------------------------------------------
    def _posts(self, days: int) -> None:
        """Post number n of the full set is published at (n + ½)/N of the period back from yesterday's end, on
        channel n mod the channels with data. It is in once its channel exists and its day is within `days`."""
        from analytics.models import PostInsight

        a = self.args
        with_data = [i for i in range(a.channels) if not self.never_backfilled(i)]
        span = timedelta(days=a.days)
        end = datetime.combine(self.end + timedelta(days=1), datetime.min.time(), tzinfo=self.now.tzinfo)
        since = end - timedelta(days=days)
        rows = []
        for n in range(a.posts):
            if n in self.posts_done:
                continue
            index = with_data[n % len(with_data)]
            published = end - span * ((n + 0.5) / a.posts)
            if index >= len(self.channels) or published < since:
                continue
            rows.append(self._post(n, self.channels[index], index, published))
            self.posts_done.add(n)
        PostInsight.objects.bulk_create(rows, batch_size=2000)

    def _post(self, n: int, channel: Any, index: int, published: datetime) -> Any:
        from analytics.models import PostInsight, PostKind

        instagram = channel.platform == "instagram"
        kind = (PostKind.FEED, PostKind.REELS, PostKind.STORY)[n % 3] if instagram else PostKind.PAGE_POST
        reach = 100 + int(_mix(n, 11) * 8000)
        views = int(reach * (1.3 + _mix(n, 12)))
        likes = int(reach * 0.05 * (0.5 + _mix(n, 13)))
        comments = int(likes * 0.1)
        shares = int(likes * 0.05)
        saves = int(likes * 0.08) if kind != PostKind.STORY else None
        interactions = likes + comments + shares + (saves or 0)
        if kind == PostKind.PAGE_POST:
            metrics = {
                "post_media_view": views,
                "post_total_media_view_unique": reach,
                "post_clicks": int(reach * 0.02),
                "post_reactions_by_type_total": {"like": likes, "love": likes // 4},
            }
            saves = None
        else:
            metrics = {
                "reach": reach,
                "views": views,
                "shares": shares,
                "total_interactions": interactions,
                **({"likes": likes, "comments": comments, "saved": saves} if kind != PostKind.STORY else {}),
            }
        slug = f"{index}{n:06d}"
        return PostInsight(
            workspace_id=channel.workspace_id,
            channel=channel,
            external_id=f"18{n:015d}" if instagram else f"{channel.external_id}_{n}",
            kind=kind,
            media_type="VIDEO" if kind == PostKind.REELS else "IMAGE",
            published_at=published,
            caption=f"Weekend special number {n}: fresh from the oven, come early and tell us which one you pick!",
            permalink=f"https://www.instagram.com/p/B{slug}/" if instagram else f"https://www.facebook.com/{slug}",
            thumbnail_url=f"https://cdn.bench.example/thumbs/{slug}.jpg",
            reach=reach,
            views=views,
            likes=likes,
            comments=comments,
            shares=shares,
            saves=saves,
            interactions=interactions,
            metrics=metrics,
            fetched_at=self.now,
            final=published < self.now - timedelta(days=self.args.days // 8),
        )

    def summary(self) -> str:
        from accounts.models import Channel, Workspace
        from analytics.models import Audience, DailyMetric, PostInsight

        counts = {
            "workspaces": Workspace.objects.count(),
            "channels": Channel.objects.count(),
            "daily figures": DailyMetric.objects.count(),
            "post snapshots": PostInsight.objects.count(),
            "audience rows": Audience.objects.count(),
        }
        return ", ".join(f"{v} {k}" for k, v in counts.items())


def _audience_values(breakdown: str, n: int, m: int) -> dict[str, int]:
    if breakdown == "age":
        keys: tuple[str, ...] = AGES
    elif breakdown == "gender":
        keys = ("F", "M", "U")
    elif breakdown == "country":
        keys = COUNTRIES
    else:  # Meta gives the top 45
        keys = tuple(f"City {c}, Region {c % 9}" for c in range(45))
    return {key: 10 + int(_mix(n, m, i, 21) * 3000) for i, key in enumerate(keys)}


DAILY_COLUMNS = ("workspace_id", "channel_id", "metric", "dimension", "date", "value", "fetched_at")


def _copy_daily(rows: Any) -> int:
    """PostgreSQL: one COPY for every row."""
    from django.db import connection

    from analytics.models import DailyMetric

    now = _now()
    count = 0
    with connection.cursor() as cursor:
        sql = f"COPY {DailyMetric._meta.db_table} ({', '.join(DAILY_COLUMNS)}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row((*row, now))
                count += 1
    return count


def _insert_daily(rows: Any, batch: int = 50_000) -> int:
    """SQLite: one prepared INSERT run over batches of rows."""
    from django.db import connection

    from analytics.models import DailyMetric

    fetched = connection.ops.adapt_datetimefield_value(_now())
    sql = (
        f"INSERT INTO {DailyMetric._meta.db_table} ({', '.join(DAILY_COLUMNS)}) "
        f"VALUES ({', '.join(['%s'] * len(DAILY_COLUMNS))})"
    )
    count = 0
    chunk: list[tuple] = []
    with connection.cursor() as cursor:
        for ws, ch, metric, dimension, day, value in rows:
            chunk.append((ws, ch, metric, dimension, day.isoformat(), value, fetched))
            if len(chunk) >= batch:
                cursor.executemany(sql, chunk)
                count += len(chunk)
                chunk.clear()
        if chunk:
            cursor.executemany(sql, chunk)
            count += len(chunk)
    return count


# --- measuring ----------------------------------------------------------------------------------------------
def pages(seeder: Seeder) -> list[tuple[str, str, str]]:
    """(label, url, who) of each page measured: "manager" (of every workspace) or "owner" (of the agency). A page
    whose URL does not exist (yet) is left out, with a note."""
    from django.urls import NoReverseMatch, reverse

    w, ag = seeder.target.public_id, seeder.agency.public_id
    channel = seeder.channels[1]  # an Instagram account of the measured workspace
    end = seeder.end
    two_years = f"start={(end - timedelta(days=seeder.args.days - 1)).isoformat()}&end={end.isoformat()}"
    wanted = [
        ("insights, 28 days", "analytics:insights", [w], "range=28", "manager"),
        ("insights, 90 days", "analytics:insights", [w], "range=90", "manager"),
        (f"insights, {seeder.args.days} days", "analytics:insights", [w], two_years, "manager"),
        ("channel insights, 28 days", "analytics:channel_insights", [w, channel.public_id], "range=28", "manager"),
        ("chart JSON, reach and views, 90 days", "analytics:chart_data", [w, CHART], "range=90", "manager"),
        ("chart CSV, reach and views, 90 days", "analytics:chart_csv", [w, CHART], "range=90", "manager"),
        ("posts CSV, 90 days", "analytics:posts_csv", [w], "range=90", "manager"),
        ("report, 28 days", "analytics:report", [w], "range=28", "manager"),
        ("report PDF, 28 days", "analytics:report_pdf", [w], "range=28", "manager"),
        ("agency view, 28 days", "analytics:agency_insights", [ag], "range=28", "owner"),
        ("agency CSV, 28 days", "analytics:agency_insights_csv", [ag], "range=28", "owner"),
    ]
    found = []
    for label, name, url_args, query, who in wanted:
        try:
            found.append((label, f"{reverse(name, args=url_args)}?{query}", who))
        except NoReverseMatch:
            print(f"  · {label}: no URL named {name} (left out)")
    return found


CHART = "reach-views"  # the chart of the JSON and CSV endpoints measured


def measure(seeder: Seeder, *, requests: int) -> dict[str, dict[str, Any]]:
    from django.test import Client

    clients = {}
    for who, user in (("manager", seeder.manager), ("owner", seeder.owner)):
        clients[who] = Client()
        clients[who].force_login(user)
    results = {}
    for label, url, who in pages(seeder):
        fetch = functools.partial(_get, clients[who], url)
        results[label] = time_page(label, url, fetch, requests=requests)
        results[label]["sql_ms"] = _sql_ms(fetch)
    return results


def _sql_ms(fetch: Any) -> float:
    """The time one request spends in the database, as the driver reports it per query."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        fetch()
    return sum(float(q["time"]) for q in queries.captured_queries) * 1000


def _get(client: Any, url: str) -> Any:
    """GET `url`; a streamed response (the posts CSV) is read to its end, inside the timing and query count."""
    response = client.get(url)
    if response.streaming:
        return SimpleNamespace(status_code=response.status_code, content=b"".join(response.streaming_content))
    return response


def report(args: argparse.Namespace, seeder: Seeder, small: dict, full: dict) -> None:
    print()
    print("=" * 96)
    print(f"insights · {seeder.summary()} · {args.db}")
    print(
        f"signed in as a manager of every workspace (the agency view: the agency's owner); {args.requests} timed "
        "requests per page after 2 warm-up requests"
    )
    print("=" * 96)
    seeded = ", ".join(f"{what} {seconds:.1f} s" for what, seconds in seeder.timings.items())
    print(f"{seeder.rows} daily figures written; seed time: {seeded}")
    print("=" * 96)
    print(
        f"{'page':40} {'status':>6} {'median ms':>10} {'p95 ms':>8} {'SQL ms':>7} {'queries':>8} {'small':>6} {'KB':>7}"
    )
    grown = []
    for key, r in full.items():
        before = small[key]["queries"]
        flag = "" if before == r["queries"] else "  ← grows with data"
        if flag:
            grown.append(key)
        print(
            f"{r['label']:40} {r['status']:>6} {r['median']:10.1f} {r['p95']:8.1f} {r['sql_ms']:7.1f} "
            f"{r['queries']:>8} {before:>6} {r['kb']:7.0f}{flag}"
        )
    print(
        "\n'SQL ms' is the database time of one request (the rest is Python: rendering, CSV, PDF). "
        "'queries' is the SQL count of one request on the full data set, 'small' the same page over the small "
        f"agency ({max(2, math.ceil(len(seeder.workspaces) * SMALL_FRACTION))} workspaces, "
        f"{max(2, math.ceil(args.days * SMALL_FRACTION))} days); they must be equal."
    )
    for key in grown:
        print(f"\n{key}: {small[key]['queries']} → {full[key]['queries']} queries. Repeated statements:")
        for sql, count in _repeated(full[key]["sql"]):
            print(f"  ×{count} {sql[:160]}")
    bad = [r["label"] for r in full.values() if r["status"] != 200]
    if bad:
        print(f"\n! not 200: {', '.join(bad)}")
