"""`python -m bench inbox`: the comment inbox over a large database, and webhook ingest throughput.

The measured workspace gets `--comments` comments (40 % start a thread, the rest are replies under them) on
`--posts` posts of its `--channels` channels, with `bulk_create` (no Graph calls). As in `bench pages`, the query
count of each inbox page is recorded at 5 % of the data and again at the full size (they must be equal), and the
server time of each page is timed with Django's test `Client`, signed in as a moderator of the workspace.

Webhook ingest: `--deliveries` signed deliveries (Page `feed` and Instagram `comments` changes, one new comment
each, on posts already known, so no Graph call is needed) are POSTed to `/webhooks/meta/` (signature check,
stored, task queued) and then processed one by one in this process (`inbox.services.ingest.webhook_process`, the
work of the Celery task). Both rates are printed, and the total: deliveries per second from arrival to stored."""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import math
import random
import time
from datetime import timedelta
from typing import Any

from .env import APP, BenchEnv
from .pages import _analyze, _now, _repeated, measure_urls

SMALL_FRACTION = 0.05
WORDS = (
    "love this so much",
    "where can I buy it",
    "what time do you open tomorrow",
    "amazing colours, who took the photo",
    "is this available in blue",
    "can't wait for the weekend class",
    "the best coffee in town honestly",
    "do you ship to Canada",
    "beautiful!! 😍😍",
    "great job team",
)
RARE = "refund"  # one comment in 200 asks for one: the text search looks for it


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--comments", type=int, default=1_000_000, help="comments in the measured workspace")
    parser.add_argument("--channels", type=int, default=10, help="channels of the measured workspace")
    parser.add_argument("--posts", type=int, default=3000, help="posts the comments are spread over")
    parser.add_argument("--deliveries", type=int, default=2000, help="webhook deliveries for the ingest figure")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page")
    parser.add_argument("--db", default="postgres", choices=["sqlite", "postgres"])
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (database) for inspection")


def run(args: argparse.Namespace) -> int:
    print(f"inbox: {args.comments} comments on {args.posts} posts of {args.channels} channels, {args.db}")
    with BenchEnv(db=args.db, keep=args.keep) as env:
        env.configure()
        env.create_database()
        env.django_setup()
        seeder = Seeder(args)
        started = time.monotonic()
        seeder.grow(SMALL_FRACTION)
        env.log(f"seeded {SMALL_FRACTION:.0%} of the comments in {time.monotonic() - started:.1f} s")
        small = measure_urls(pages(seeder), seeder.moderator, requests=1)
        started = time.monotonic()
        seeder.grow(1.0)
        if args.db == "postgres":
            _analyze()
        env.log(f"seeded the rest in {time.monotonic() - started:.1f} s: {seeder.summary()}")
        full = measure_urls(pages(seeder), seeder.moderator, requests=args.requests)
        ingest = measure_ingest(seeder, args.deliveries)
        report(args, seeder, small, full, ingest)
    return 0


class Seeder:
    def __init__(self, args: argparse.Namespace):
        from accounts.models import Agency, AgencyMembership, AgencyRole, User, Workspace, WorkspaceMembership

        self.args = args
        self.rng = random.Random(1)
        self.now = _now()
        self.agency = Agency.objects.create(name="Bench Agency")
        self.workspace = Workspace.objects.create(agency=self.agency, name="Brand 000", timezone="Europe/Rome")
        self.moderator = User.objects.create_user("moderator@bench.example", None, full_name="Mo Moderator")
        AgencyMembership.objects.create(agency=self.agency, user=self.moderator, role=AgencyRole.MEMBER)
        WorkspaceMembership.objects.create(workspace=self.workspace, user=self.moderator, role="moderator")
        self.channels = self._channels()
        self.posts: list[Any] = []
        self.threads: list[int] = []  # pks of top-level comments, oldest first
        self.comments = 0

    def _channels(self) -> list[Any]:
        from accounts.models import Channel, ConnectedVia, Platform
        from accounts.scopes import FACEBOOK_LOGIN_SCOPES

        Channel.objects.bulk_create(
            Channel(
                workspace=self.workspace,
                platform=Platform.INSTAGRAM if n % 2 else Platform.FACEBOOK_PAGE,
                connected_via=ConnectedVia.FACEBOOK_LOGIN,
                external_id=f"{17841400000000000 + n}" if n % 2 else f"{100000000000000 + n}",
                page_id=f"{100000000000000 + n - 1}" if n % 2 else "",
                name=f"Brand 000 channel {n}",
                username=f"brand_{n}" if n % 2 else "",
                access_token="bench-token-not-used",
                granted_scopes=list(FACEBOOK_LOGIN_SCOPES),
                token_issued_at=self.now,
            )
            for n in range(self.args.channels)
        )
        return list(Channel.objects.filter(workspace=self.workspace).order_by("pk"))

    def grow(self, fraction: float) -> None:
        """On PostgreSQL the text-search index is built once after the rows are in (as `CREATE INDEX` on a table
        that grew over years would have it), instead of being updated row by row while seeding."""
        import importlib

        from django.db import connection, transaction

        text_index = importlib.import_module("inbox.migrations.0002_text_search_index")
        postgres = connection.vendor == "postgresql"
        if postgres:
            for sql in text_index.DROP:
                connection.cursor().execute(sql)
        with transaction.atomic():
            self._posts(max(len(self.channels), math.ceil(self.args.posts * fraction)))
            self._comments(math.ceil(self.args.comments * fraction))
        if postgres:
            for sql in text_index.CREATE:
                connection.cursor().execute(sql)

    def _posts(self, count: int) -> None:
        from inbox.models import InboxPost

        new = []
        for n in range(len(self.posts), count):
            channel = self.channels[n % len(self.channels)]
            instagram = channel.platform == "instagram"
            new.append(
                InboxPost(
                    workspace=self.workspace,
                    channel=channel,
                    external_id=f"18{n:015d}" if instagram else f"{channel.external_id}_{n}",
                    caption=f"Weekend special number {n}: come early and tell us which one you pick!",
                    thumbnail_url=f"https://cdn.example/{n}.jpg",
                    permalink=f"https://www.instagram.com/p/B{n}/" if instagram else f"https://www.facebook.com/{n}",
                    media_type="IMAGE",
                    posted_at=self.now - timedelta(hours=6 * (count - n)),
                )
            )
        self.posts += InboxPost.objects.bulk_create(new, batch_size=2000)

    def _comments(self, count: int) -> None:
        """Comments from the oldest to the newest: each is a new thread (40 %) or a reply to a recent thread,
        some from the channel itself; the newest are new and unanswered, older ones mostly done."""
        from inbox.models import Comment

        rng, total, start = self.rng, count, self.comments
        span = timedelta(days=730)  # two years of comments
        batch: list[Any] = []
        replies: list[tuple[int, Any]] = []  # (thread index, comment) waiting for their parent's pk
        base = self.now - span

        def flush() -> None:
            Comment.objects.bulk_create(batch, batch_size=5000)
            self.threads.extend(c.pk for c in batch if c.parent_id is None and c.pk)
            batch.clear()

        pending_threads: list[Any] = []
        for n in range(start, total):
            at = base + span * (n / total) + timedelta(seconds=n % 50)
            post = self.posts[rng.randrange(len(self.posts))]
            text = RARE + " please, my order never came" if n % 200 == 0 else WORDS[n % len(WORDS)]
            known = len(self.threads) + len(pending_threads)
            if n % 5 < 2 or known == 0:
                c = Comment(
                    workspace=self.workspace,
                    channel_id=post.channel_id,
                    inbox_post=post,
                    external_id=f"17{n:015d}",
                    author_id=f"9{n:010d}",
                    author_name=f"fan_{n % 5000}",
                    text=text,
                    created_at=at,
                    last_activity_at=at,
                    status="new" if n > total * 0.98 else "done",
                    needs_reply=n % 3 == 0,
                    hidden=n % 97 == 0,
                )
                pending_threads.append(c)
                batch.append(c)
            else:
                replies.append((known - 1 - rng.randrange(min(known, 200)), (n, at, text)))
            if len(batch) >= 5000:
                flush()
                pending_threads.clear()
                self._replies(replies)
                replies.clear()
        flush()
        self._replies(replies)
        self.comments = total

    def _replies(self, replies: list[tuple[int, Any]]) -> None:
        from django.db import connection

        from inbox.models import Comment

        if not replies:
            return
        parents = Comment.objects.in_bulk([self.threads[i] for i, _ in replies])
        rows = []
        for index, (n, at, text) in replies:
            parent = parents[self.threads[index]]
            ours = n % 4 == 0
            rows.append(
                Comment(
                    workspace=self.workspace,
                    channel_id=parent.channel_id,
                    inbox_post_id=parent.inbox_post_id,
                    external_id=f"17{n:015d}",
                    parent=parent,
                    author_id=str(parent.channel_id) if ours else f"9{n:010d}",
                    author_name="Brand 000" if ours else f"fan_{n % 5000}",
                    from_us=ours,
                    text="Thank you! 🙏" if ours else text,
                    created_at=max(at, parent.created_at),
                    last_activity_at=max(at, parent.created_at),
                )
            )
        Comment.objects.bulk_create(rows, batch_size=5000)
        touched = {}
        for row in rows:
            parent = row.parent
            if row.created_at > parent.last_activity_at:
                parent.last_activity_at = row.created_at
                touched[parent.pk] = parent
        with connection.cursor() as cursor:  # one statement run many times: bulk_update's CASE is slow to compile
            cursor.executemany(
                f"UPDATE {Comment._meta.db_table} SET last_activity_at = %s WHERE id = %s",
                [(p.last_activity_at, p.pk) for p in touched.values()],
            )

    def summary(self) -> str:
        from inbox.models import Comment, InboxPost

        threads = Comment.objects.filter(parent__isnull=True).count()
        return f"{Comment.objects.count()} comments in {threads} threads on {InboxPost.objects.count()} posts"


def pages(seeder: Seeder) -> list[tuple[str, str]]:
    from inbox.models import Comment

    w = seeder.workspace.public_id
    channel = seeder.channels[1]
    newest = Comment.objects.filter(workspace=seeder.workspace, parent__isnull=True).order_by("-last_activity_at")
    thread = newest.first()
    # The live poll of a page opened a little while ago: the newest 50 comments arrived since.
    since = Comment.objects.filter(workspace=seeder.workspace).order_by("-id").values_list("id", flat=True)[50]
    return [
        ("inbox, first page", f"/w/{w}/inbox/"),
        ("inbox, filtered", f"/w/{w}/inbox/?channel={channel.public_id}&status=new&unanswered=1"),
        ("inbox, text search", f"/w/{w}/inbox/?q={RARE}"),
        ("inbox, hidden", f"/w/{w}/inbox/?status=hidden"),
        ("thread", f"/w/{w}/inbox/t/{thread.public_id}/"),
        ("new items poll, 50 new", f"/w/{w}/inbox/new/?since={since}"),
    ]


# --- webhook ingest ----------------------------------------------------------------------------------------
def _payloads(seeder: Seeder, count: int) -> list[bytes]:
    bodies = []
    now = int(seeder.now.timestamp())
    for n in range(count):
        post = seeder.posts[n % len(seeder.posts)]
        channel = next(c for c in seeder.channels if c.pk == post.channel_id)
        cid = f"99{n:015d}"
        if channel.platform == "instagram":
            value = {
                "from": {"id": f"8{n:010d}", "username": f"visitor{n}"},
                "media": {"id": post.external_id, "media_product_type": "FEED"},
                "id": cid,
                "text": f"Is this still available? #{n}",
            }
            body = {
                "object": "instagram",
                "entry": [{"id": channel.external_id, "time": now, "changes": [{"field": "comments", "value": value}]}],
            }
        else:
            value = {
                "from": {"id": f"8{n:010d}", "name": f"Visitor {n}"},
                "post_id": post.external_id,
                "comment_id": f"{post.external_id.split('_')[-1]}_{cid}",
                "message": f"Is this still available? #{n}",
                "created_time": now,
                "item": "comment",
                "parent_id": post.external_id,
                "verb": "add",
            }
            body = {
                "object": "page",
                "entry": [{"id": channel.external_id, "time": now, "changes": [{"field": "feed", "value": value}]}],
            }
        bodies.append(json.dumps(body, separators=(",", ":")).encode())
    return bodies


def measure_ingest(seeder: Seeder, count: int) -> dict[str, float]:
    from django.test import Client

    from inbox.models import Comment, WebhookDelivery
    from inbox.services.ingest import webhook_process

    client = Client()
    bodies = _payloads(seeder, count)
    secret = APP["META_APP_SECRET"].encode()
    before = Comment.objects.count()
    started = time.perf_counter()
    for body in bodies:
        signature = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        response = client.post(
            "/webhooks/meta/", body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=signature
        )
        if response.status_code != 200:
            raise RuntimeError(f"webhook answered {response.status_code}: {response.content[:200]!r}")
    received = time.perf_counter() - started
    ids = list(WebhookDelivery.objects.filter(processed_at__isnull=True).order_by("pk").values_list("pk", flat=True))
    started = time.perf_counter()
    for pk in ids:
        webhook_process(pk)
    processed = time.perf_counter() - started
    stored = Comment.objects.count() - before
    return {
        "deliveries": count,
        "stored": stored,
        "receive_per_s": count / received,
        "process_per_s": len(ids) / processed if processed else 0.0,
        "total_per_s": count / (received + processed),
    }


def report(args: argparse.Namespace, seeder: Seeder, small: dict, full: dict, ingest: dict) -> None:
    print()
    print("=" * 86)
    print(f"inbox · {seeder.summary()} · {args.db}")
    print(f"signed in as a moderator; {args.requests} timed requests per page after 2 warm-up requests")
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
    for key in grown:
        print(f"\n{key}: {small[key]['queries']} → {full[key]['queries']} queries. Repeated statements:")
        for sql, count in _repeated(full[key]["sql"]):
            print(f"  ×{count} {sql[:160]}")
    print()
    print(
        f"webhook ingest: {ingest['deliveries']} deliveries, {ingest['stored']} comments stored · received "
        f"(signature, stored, queued) {ingest['receive_per_s']:.0f}/s · processed {ingest['process_per_s']:.0f}/s · "
        f"arrival to stored {ingest['total_per_s']:.0f} deliveries/s (one process)"
    )
