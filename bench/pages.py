"""`python -m bench pages`: latency and SQL query count of the workspace list pages over a large database.

The database is filled with `bulk_create` (no Graph calls, no files on disk) in two steps: first 1/20 of the
data, where the query count of each page is recorded, then the rest, where latency (median/p95 of
`--requests` requests after two warm-up requests) and the query count are measured again with Django's test
`Client`, signed in as a workspace manager. A page whose query count differs between the two sizes makes more
queries as data grows (an N+1): it is flagged in the output."""

from __future__ import annotations

import argparse
import dataclasses
import math
import random
import statistics
import time
import uuid
from datetime import timedelta
from typing import Any

from .env import BenchEnv

SMALL_FRACTION = 0.05
CAPTION = (
    "Fresh out of the oven: our weekend special is back, with seasonal fruit and a little extra butter. "
    "Come early, tag a friend and tell us which one you pick! #weekend #bakery #local "
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--posts", type=int, default=20000, help="posts in the measured workspace (20000)")
    parser.add_argument("--channels", type=int, default=10, help="channels of the measured workspace (10)")
    parser.add_argument("--deliveries", type=int, default=2, help="deliveries (channels) per post (2)")
    parser.add_argument("--assets", type=int, default=3000, help="media assets in the measured workspace (3000)")
    parser.add_argument("--workspaces", type=int, default=50, help="workspaces in the agency (50)")
    parser.add_argument("--members", type=int, default=25, help="people in the measured workspace's team (25)")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page (20)")
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (database) for inspection")


def run(args: argparse.Namespace) -> int:
    if args.deliveries > args.channels:
        raise SystemExit("--deliveries cannot exceed --channels")
    print(
        f"pages: {args.posts} posts × {args.deliveries} deliveries over {args.channels} channels, {args.assets} "
        f"assets, {args.workspaces} workspaces, {args.members} team members, {args.db}"
    )
    with BenchEnv(db=args.db, keep=args.keep) as env:
        env.configure()
        env.create_database()
        env.django_setup()
        seeder = Seeder(args)
        small, full = seed_and_measure(env, seeder, measure, db=args.db, requests=args.requests)
        report(args, seeder, small, full)
    return 0


def seed_and_measure(env: BenchEnv, seeder: Any, measure: Any, *, db: str, requests: int) -> tuple[Any, Any]:
    """Seed SMALL_FRACTION of the data and measure each page once (its query count at a small size), then seed the
    rest and measure `requests` times. `seeder` has `grow(fraction)` and `summary()`; a `timings` dict on it (what
    took how long) is logged."""
    started = time.monotonic()
    seeder.grow(SMALL_FRACTION)
    env.log(f"seeded {SMALL_FRACTION:.0%} of the data in {time.monotonic() - started:.1f} s: {seeder.summary()}")
    small = measure(seeder, requests=1)
    started = time.monotonic()
    seeder.grow(1.0)
    timings = getattr(seeder, "timings", {})
    if db == "postgres":
        started_analyze = time.monotonic()
        _analyze()  # planner statistics, as autovacuum would have them on a database that grew over time
        timings["ANALYZE"] = time.monotonic() - started_analyze
    env.log(f"seeded the rest in {time.monotonic() - started:.1f} s: {seeder.summary()}")
    for what, seconds in timings.items():
        env.log(f"  {what}: {seconds:.1f} s in all")
    return small, measure(seeder, requests=requests)


class Seeder:
    """Adds rows up to a fraction of the target sizes; calling it again with a larger fraction adds the rest."""

    def __init__(self, args: argparse.Namespace):
        from accounts.models import Agency, AgencyMembership, AgencyRole, User

        self.args = args
        self.rng = random.Random(1)
        self.now = _now()
        self.manager = User.objects.create_user("manager@bench.example", None, full_name="Morgan Manager")
        self.agency = Agency.objects.create(name="Bench Agency")
        self.owner = owner = User.objects.create_user("owner@bench.example", None, full_name="Olive Owner")
        AgencyMembership.objects.bulk_create(
            [
                AgencyMembership(agency=self.agency, user=owner, role=AgencyRole.OWNER),
                AgencyMembership(agency=self.agency, user=self.manager, role=AgencyRole.MEMBER),
            ]
        )
        self.workspaces: list[Any] = []
        self.members = 0
        self.channels: dict[int, list[Any]] = {}
        self.assets: dict[int, list[int]] = {}
        self.posts: dict[int, int] = {}
        self.probes = _sample_probes()

    @property
    def target(self) -> Any:
        return self.workspaces[0]

    def grow(self, fraction: float) -> None:
        from django.db import transaction

        a = self.args
        with transaction.atomic():
            self._workspaces(max(2, math.ceil(a.workspaces * fraction)))
            self._members(math.ceil(a.members * fraction))
            for index, workspace in enumerate(self.workspaces):
                if index == 0:
                    self._channels(workspace, a.channels)
                    self._assets(workspace, math.ceil(a.assets * fraction))
                    self._posts(workspace, math.ceil(a.posts * fraction), a.deliveries)
                    self._queues(workspace)
                    self._notifications(math.ceil(a.posts * fraction / 4))
                else:  # the other brands of the agency: small, so the measured workspace is the big one
                    self._channels(workspace, 2)
                    self._assets(workspace, 20)
                    self._posts(workspace, 20, 2)

    def _workspaces(self, count: int) -> None:
        from accounts.models import Workspace, WorkspaceMembership, WorkspaceRole

        new = [
            Workspace(agency=self.agency, name=f"Brand {n:03d}", timezone="Europe/Rome")
            for n in range(len(self.workspaces), count)
        ]
        if not new:
            return
        Workspace.objects.bulk_create(new)
        new = list(Workspace.objects.filter(name__in=[w.name for w in new], agency=self.agency).order_by("name"))
        WorkspaceMembership.objects.bulk_create(
            WorkspaceMembership(workspace=w, user=self.manager, role=WorkspaceRole.MANAGER) for w in new
        )
        self.workspaces += new

    def _members(self, count: int) -> None:
        from accounts.models import AgencyMembership, AgencyRole, User, WorkspaceMembership, WorkspaceRole

        roles = [r for r, _ in WorkspaceRole.choices]
        users = [
            User(email=f"member{n}@bench.example", full_name=f"Team Member {n}", password="!")
            for n in range(self.members, count)
        ]
        if not users:
            return
        User.objects.bulk_create(users)
        users = list(User.objects.filter(email__in=[u.email for u in users]))
        AgencyMembership.objects.bulk_create(
            AgencyMembership(agency=self.agency, user=u, role=AgencyRole.ADMIN if i % 10 == 0 else AgencyRole.MEMBER)
            for i, u in enumerate(users, start=self.members)
        )
        WorkspaceMembership.objects.bulk_create(
            WorkspaceMembership(workspace=self.target, user=u, role=roles[i % len(roles)])
            for i, u in enumerate(users, start=self.members)
        )
        self.members = count

    def _channels(self, workspace: Any, count: int) -> None:
        from accounts.models import Channel, ConnectedVia, Platform
        from accounts.scopes import FACEBOOK_LOGIN_SCOPES

        have = self.channels.setdefault(workspace.pk, [])
        new = []
        for n in range(len(have), count):
            instagram = n % 2 == 1
            new.append(
                Channel(
                    workspace=workspace,
                    platform=Platform.INSTAGRAM if instagram else Platform.FACEBOOK_PAGE,
                    connected_via=ConnectedVia.FACEBOOK_LOGIN,
                    external_id=f"{17841400000000000 + n}" if instagram else f"{100000000000000 + n}",
                    page_id="" if not instagram else f"{100000000000000 + n - 1}",
                    name=f"{workspace.name} channel {n}",
                    username=f"brand{workspace.pk}_{n}" if instagram else "",
                    access_token="bench-token-not-used",
                    granted_scopes=list(FACEBOOK_LOGIN_SCOPES),
                    token_issued_at=self.now,
                )
            )
        if new:
            Channel.objects.bulk_create(new)
            self.channels[workspace.pk] = list(Channel.objects.filter(workspace=workspace).order_by("pk"))

    def _assets(self, workspace: Any, count: int) -> None:
        from publishing.models import MediaAsset

        have = self.assets.setdefault(workspace.pk, [])
        new = []
        for n in range(len(have), count):
            kind = "video" if n % 5 == 4 else "image"
            probe = self.probes[kind]
            public_id = uuid.uuid4()
            name = f"photo-{n}.jpg" if kind == "image" else f"clip-{n}.mp4"
            folder = f"workspaces/{workspace.public_id}/media/{public_id}"
            new.append(
                MediaAsset(
                    public_id=public_id,
                    workspace=workspace,
                    file=f"{folder}/{name}",
                    thumbnail=f"{folder}/thumb.jpg",
                    original_name=name,
                    kind=kind,
                    format=probe["format"] or "",
                    mime_type=probe["mime_type"] or "",
                    size_bytes=probe["size_bytes"] or 0,
                    width=probe["width"],
                    height=probe["height"],
                    duration_seconds=probe["duration_seconds"],
                    frame_rate=probe["frame_rate"],
                    video_codec=probe["video_codec"] or "",
                    audio_codec=probe["audio_codec"] or "",
                    probe=probe,
                    uploaded_by=self.manager,
                    created_at=self.now - timedelta(minutes=10 * n),
                )
            )
        if new:
            created = MediaAsset.objects.bulk_create(new, batch_size=1000)
            have += [a.pk for a in created]

    def _posts(self, workspace: Any, count: int, per_post: int) -> None:
        from publishing.models import Delivery, Post, PostMedia

        done = self.posts.get(workspace.pk, 0)
        if count <= done:
            return
        channels = self.channels[workspace.pk]
        assets = self.assets[workspace.pk]
        rng = self.rng
        posts = []
        for n in range(done, count):
            scheduled = self.now - timedelta(hours=3 * n) + timedelta(days=3)
            posts.append(
                Post(
                    workspace=workspace,
                    author=self.manager,
                    caption=f"{CAPTION} (post {n})",
                    scheduled_at=scheduled,
                    scheduled_local=scheduled.strftime("%Y-%m-%dT%H:%M:%S"),
                    scheduled_timezone=workspace.timezone,
                    approval=_approval(n),
                    in_queue=n < 24 and n % 2 == 0,  # upcoming posts, every other one from a queue
                    created_at=self.now - timedelta(hours=3 * n),
                )
            )
        posts = Post.objects.bulk_create(posts, batch_size=1000)
        items, deliveries = [], []
        for offset, post in enumerate(posts):
            n = done + offset
            media = [] if n % 5 == 0 else rng.sample(assets, 2 if n % 5 == 1 else 1)
            for position, asset_id in enumerate(media):
                items.append(PostMedia(post=post, asset_id=asset_id, position=position, alt_text=""))
            for k in range(per_post):
                channel = channels[(n + k) % len(channels)]
                deliveries.append(_delivery(post, channel, media, n, k, self.now))
        PostMedia.objects.bulk_create(items, batch_size=2000)
        Delivery.objects.bulk_create(deliveries, batch_size=2000)
        self._decisions(posts, done)
        self.posts[workspace.pk] = count

    def _decisions(self, posts: list[Any], done: int) -> None:
        """Each post awaiting approval was submitted (a decision) and has a comment."""
        from publishing.models import ApprovalDecision, PostComment

        waiting = [p for p in posts if p.approval in ("pending", "client_pending")]
        ApprovalDecision.objects.bulk_create(
            ApprovalDecision(
                post=p,
                stage="client" if p.approval == "client_pending" else "internal",
                action="submitted",
                actor=self.manager,
                actor_name="Morgan Manager",
                created_at=p.created_at,
            )
            for p in waiting
        )
        PostComment.objects.bulk_create(
            PostComment(post=p, author=self.manager, author_name="Morgan Manager", body="Ready for a look.")
            for p in waiting
        )

    def _queues(self, workspace: Any) -> None:
        """Every channel of the measured workspace has a queue with posting times on weekdays at 09:30 and 17:00."""
        from datetime import time as clock

        from publishing.models import PostingQueue, PostingSlot

        have = set(PostingQueue.objects.filter(channel__workspace=workspace).values_list("channel_id", flat=True))
        queues = PostingQueue.objects.bulk_create(
            PostingQueue(channel=c) for c in self.channels[workspace.pk] if c.pk not in have
        )
        PostingSlot.objects.bulk_create(
            PostingSlot(queue=q, weekday=day, time=at)
            for q in queues
            for day in range(5)
            for at in (clock(9, 30), clock(17, 0))
        )

    def _notifications(self, count: int) -> None:
        """The manager's bell: mostly read, the newest unread."""
        from notifications.models import Kind, Notification

        have = Notification.objects.filter(user=self.manager).count()
        kinds = list(Kind.values)
        Notification.objects.bulk_create(
            (
                Notification(
                    user=self.manager,
                    workspace=self.target,
                    kind=kinds[n % len(kinds)],
                    title=f"Failed on Brand 000 channel {n % 10}: “Fresh out of the oven…”",
                    body="Instagram could not download the image: the link did not answer in time.",
                    url=f"/w/{self.target.public_id}/posts/",
                    read_at=None if n > count - 30 else self.now,
                    created_at=self.now - timedelta(minutes=count - n),
                )
                for n in range(have, count)
            ),
            batch_size=2000,
        )

    def summary(self) -> str:
        from accounts.models import Channel, Workspace
        from publishing.models import Delivery, MediaAsset, Post, PostMedia

        counts = {
            "workspaces": Workspace.objects.count(),
            "channels": Channel.objects.count(),
            "assets": MediaAsset.objects.count(),
            "posts": Post.objects.count(),
            "post media": PostMedia.objects.count(),
            "deliveries": Delivery.objects.count(),
        }
        return ", ".join(f"{v} {k}" for k, v in counts.items())


def _approval(n: int) -> str:
    """One post in 40 awaits the team, one in 40 the client; the rest were approved."""
    return {7: "pending", 8: "client_pending"}.get(n % 40, "approved")


def _delivery(post: Any, channel: Any, media: list[int], n: int, k: int, now: Any) -> Any:
    from publishing.models import Delivery

    instagram = channel.platform == "instagram"
    if instagram:
        kind = "ig_carousel" if len(media) > 1 else ("ig_image" if media else "ig_image")
    else:
        kind = "fb_photos" if len(media) > 1 else ("fb_photo" if media else "fb_text")
    roll = (n * 7 + k) % 20
    state = "published" if roll < 14 else "scheduled" if roll < 17 else "failed" if roll < 19 else "processing"
    if post.approval in ("pending", "client_pending"):
        state = "awaiting_approval"
    fields: dict[str, Any] = {}
    if state == "published":
        fields = {
            "remote_id": f"{channel.external_id}_{n}{k}",
            "permalink": f"https://www.instagram.com/p/B{n}x{k}/" if instagram else f"https://www.facebook.com/{n}{k}",
            "published_at": post.scheduled_at,
            "attempts": 1,
        }
    elif state == "failed":
        unconfirmed = n % 3 == 0  # a third of the failures are "may have gone out", with a candidate to check
        fields = {
            "candidates": [{"id": f"{n}{k}", "text": "", "permalink": ""}] if unconfirmed else [],
            "error_message": "Instagram could not download the image: the link did not answer in time.",
            "error_code": 9004,
            "error_subcode": 2207052,
            "fbtrace_id": f"Abc{n}",
            "attempts": 6,
        }
    elif state == "processing":
        fields = {"waiting_reason": "Instagram is processing the video.", "attempts": 2}
    return Delivery(
        post=post,
        channel=channel,
        kind=kind,
        state=state,
        due_at=post.scheduled_at,
        next_attempt_at=post.scheduled_at if state == "scheduled" else None,
        created_at=post.created_at,
        **fields,
    )


def _sample_probes() -> dict[str, dict]:
    """What the probe records for a real JPEG and a real MP4, so the library's rules run on realistic data."""
    import tempfile
    from pathlib import Path

    from publishing import probe
    from tests.publishing.media_samples import image, video

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        jpeg = probe.probe_file(image(folder, "photo.jpg", (1080, 1350)), filename="photo.jpg")
        mp4 = probe.probe_file(video(folder, "clip.mp4", size=(720, 1280), seconds=4), filename="clip.mp4")
    return {"image": dataclasses.asdict(jpeg), "video": dataclasses.asdict(mp4)}


def _analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _now() -> Any:
    from django.utils import timezone

    return timezone.now()


# --- measuring ----------------------------------------------------------------------------------------------
def pages(seeder: Seeder) -> list[tuple[str, str]]:
    """(label, url) of each page measured as the workspace manager; `OWNER_PAGES` are measured as the agency's
    owner (the risk overview is theirs)."""
    from publishing.models import Post

    w = seeder.target.public_id
    posts = seeder.posts[seeder.target.pk]
    assets = len(seeder.assets[seeder.target.pk])
    newest = Post.objects.filter(workspace=seeder.target).order_by("-created_at", "-id").first()
    waiting = Post.objects.filter(workspace=seeder.target, approval="pending").order_by("-created_at").first()
    channel = seeder.channels[seeder.target.pk][1]
    today = seeder.now.date().isoformat()
    return [
        ("calendar, month", f"/w/{w}/calendar/?view=month&date={today}"),
        ("calendar, week", f"/w/{w}/calendar/?view=week&date={today}"),
        ("calendar, month, one channel", f"/w/{w}/calendar/?view=month&date={today}&channel={channel.public_id}"),
        ("posts, failed", f"/w/{w}/posts/?status=failed"),
        ("posts, search", f"/w/{w}/posts/?q=weekend+special"),
        ("queue", f"/w/{w}/queue/?channel={channel.public_id}"),
        ("approvals", f"/w/{w}/approvals/"),
        ("review", f"/w/{w}/posts/{waiting.public_id}/review/"),
        ("notifications", "/notifications/"),
        ("notification count", "/notifications/count/"),
        (OVERVIEW, f"/agency/{seeder.agency.public_id}/overview/"),
        ("composer", f"/w/{w}/posts/new/"),
        ("composer library", f"/w/{w}/compose/library/"),
        (
            f"composer library, last page ({math.ceil(assets / 24)})",
            f"/w/{w}/compose/library/?page={math.ceil(assets / 24)}",
        ),
        ("composer, editing", f"/w/{w}/posts/{newest.public_id}/edit/"),
        ("composer check (POST)", f"/w/{w}/compose/check/"),
        ("posts", f"/w/{w}/posts/"),
        (f"posts, last page ({math.ceil(posts / 20)})", f"/w/{w}/posts/?page={math.ceil(posts / 20)}"),
        ("media", f"/w/{w}/media/"),
        (f"media, last page ({math.ceil(assets / 24)})", f"/w/{w}/media/?page={math.ceil(assets / 24)}"),
        ("channels", f"/w/{w}/channels/"),
        ("dashboard", f"/w/{w}/"),
        ("team", f"/w/{w}/team/"),
    ]


OVERVIEW = "agency risk overview"
OWNER_PAGES = {OVERVIEW}


def composer_form(seeder: Seeder) -> dict[str, Any]:
    """What the composer sends while someone types: every channel of the workspace and three photos."""
    from accounts.models import Channel
    from publishing.models import MediaAsset

    channels = list(Channel.objects.filter(workspace=seeder.target).values_list("pk", flat=True))
    photos = list(MediaAsset.objects.filter(workspace=seeder.target, kind="image").values_list("pk", flat=True)[:3])
    return {
        "channels": channels,
        "format": "feed",
        "caption": CAPTION,
        "media": photos,
        "when": "later",
        "date": "2031-05-04",
        "time": "09:30",
        "form_token": str(uuid.uuid4()),
    }


def measure(seeder: Seeder, *, requests: int) -> dict[str, dict[str, Any]]:
    from django.test import Client

    manager, owner = Client(), Client()
    manager.force_login(seeder.manager)
    owner.force_login(seeder.owner)
    results = {}
    form = composer_form(seeder)
    for label, url in pages(seeder):
        key = label.split(" (")[0]
        client = owner if key in OWNER_PAGES else manager

        def fetch(url: str = url, post: bool = "(POST)" in label, client: Client = client) -> Any:
            return client.post(url, form, HTTP_HX_REQUEST="true") if post else client.get(url)

        results[key] = time_page(label, url, fetch, requests=requests)
    return results


def measure_urls(urls: list[tuple[str, str]], user: Any, *, requests: int) -> dict[str, dict[str, Any]]:
    """GET each (label, url) as `user`: its status, SQL count, size and server time."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return {
        label.split(" (")[0]: time_page(label, url, lambda url=url: client.get(url), requests=requests)
        for label, url in urls
    }


def time_page(label: str, url: str, fetch: Any, *, requests: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):  # warm-up: template loading, first-query caches
        response = fetch()
    with CaptureQueriesContext(connection) as queries:
        response = fetch()
    sql = [q["sql"] for q in queries.captured_queries]  # now: the next request clears the log
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        fetch()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "label": label,
        "url": url,
        "status": response.status_code,
        "queries": len(sql),
        "sql": sql,
        "kb": len(response.content) / 1024,
        "median": statistics.median(timings),
        "p95": timings[min(len(timings) - 1, math.ceil(0.95 * len(timings)) - 1)],
    }


def report(args: argparse.Namespace, seeder: Seeder, small: dict, full: dict) -> None:
    print()
    print("=" * 86)
    print(f"pages · {seeder.summary()} · {args.db}")
    print(
        f"signed in as a workspace manager (the overview: the agency owner); {args.requests} timed requests per page "
        "after 2 warm-up requests"
    )
    print("=" * 86)
    print(f"{'page':30} {'status':>6} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'at 5 %':>7} {'KB':>6}")
    grown = []
    for key, r in full.items():
        before = small[key]["queries"]
        flag = "" if before == r["queries"] else "  ← grows with data"
        if flag:
            grown.append(key)
        print(
            f"{r['label']:30} {r['status']:>6} {r['median']:10.1f} {r['p95']:8.1f} {r['queries']:>8} {before:>7} "
            f"{r['kb']:6.0f}{flag}"
        )
    print(
        "\n'queries' is the SQL count of one request on the full data set, 'at 5 %' the same page when only 5 % of "
        "the data (and of the workspaces and team) was there; they must be equal."
    )
    for key in grown:
        print(f"\n{key}: {small[key]['queries']} → {full[key]['queries']} queries. Repeated statements:")
        for sql, count in _repeated(full[key]["sql"]):
            print(f"  ×{count} {sql[:160]}")
    bad = [r["label"] for r in full.values() if r["status"] != 200]
    if bad:
        print(f"\n! not 200: {', '.join(bad)}")


def _repeated(statements: list[str]) -> list[tuple[str, int]]:
    import re
    from collections import Counter

    shapes = Counter(re.sub(r"\b\d+\b|'[^']*'", "?", s) for s in statements)
    return [(s, n) for s, n in shapes.most_common(5) if n > 1]
