"""`python -m bench publish`: the publishing pipeline end to end, as deployed.

A fresh installation (database, broker, media folder, `runserver` at PUBLIC_BASE_URL, and the Celery workers and
beat of the repository's Procfile) talks to the Graph API sandbox with L ms of added latency per call. After the
seeding's own Graph calls have died down, three phases run:

A. Graph calls per post type: each kind alone, a few posts on one channel, made due now and driven by a
   dispatcher loop in the benchmark; the `GraphCall` rows created meanwhile are counted and set beside the
   protocol's minimum for that kind.
B. Punctuality: R whole minutes, the first at least two minutes ahead; each minute a photo and a reel on every
   Instagram account, a photo and a text on every Page, scheduled for that minute. Only beat and the workers act;
   the benchmark watches the database and reports due → published.
C. Burst: N posts of every kind, moved by `transitions.reschedule` (as the calendar moves a post) to one moment
   ten seconds ahead; beat and the workers publish them all. Throughput, delays, task runs and calls per post."""

from __future__ import annotations

import argparse
import logging
import math
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from .env import BenchEnv


@dataclass(frozen=True)
class Kind:
    """A delivery kind as the benchmark posts it."""

    name: str
    platform: str
    format: str
    media: tuple[str, ...]
    link: bool = False
    caption: bool = True  # Instagram shows no caption on stories, and the composer refuses one

    @property
    def minimum(self) -> int:
        return MINIMUM[self.name][0]

    @property
    def why(self) -> str:
        return MINIMUM[self.name][1]


# In the order posts cycle through them.
KINDS: list[Kind] = [
    Kind("ig_image", "instagram", "feed", ("square",)),
    Kind("fb_text", "facebook_page", "feed", ()),
    Kind("ig_carousel", "instagram", "feed", ("square", "square2")),
    Kind("fb_link", "facebook_page", "feed", (), link=True),
    Kind("ig_reel", "instagram", "reel", ("reel",)),
    Kind("fb_photo", "facebook_page", "feed", ("square",)),
    Kind("ig_story", "instagram", "story", ("portrait",), caption=False),
    Kind("fb_photos", "facebook_page", "feed", ("square", "portrait")),
    Kind("fb_reel", "facebook_page", "reel", ("reel",)),
    Kind("fb_video", "facebook_page", "feed", ("reel",)),
]
# The fewest HTTP calls Meta's protocol allows for one post of each kind, and which they are.
MINIMUM: dict[str, tuple[int, str]] = {
    "ig_image": (2, "POST media (the container), POST media_publish"),
    "ig_carousel": (4, "POST media per image (2), POST media for the carousel, POST media_publish"),
    "ig_reel": (4, "POST media upload_type=resumable, the rupload, one GET status answering FINISHED, media_publish"),
    "ig_story": (2, "POST media (a STORIES container), POST media_publish"),
    "fb_text": (1, "POST feed"),
    "fb_link": (1, "POST feed with the link"),
    "fb_photo": (1, "POST photos, published"),
    "fb_photos": (3, "POST photos unpublished (2), POST feed with attached_media"),
    "fb_video": (2, "POST videos, one GET status saying ready (nothing else tells the post is live)"),
    "fb_reel": (4, "POST video_reels start, the rupload, POST video_reels finish, one GET status"),
}
BY_NAME = {kind.name: kind for kind in KINDS}
PHOTO_AND_TEXT = ("ig_image", "fb_photo", "fb_text")
REEL = ("ig_reel",)
TERMINAL = ("published", "failed", "cancelled")
SETTLED = ("published", "failed")
POLL = 0.2  # seconds between looks at the database while the pipeline works


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--posts", type=int, default=500, help="posts in the burst, one delivery each")
    parser.add_argument("--channels", type=int, default=4, help="connected channels, 1-7 (4: 2 Pages + their IG)")
    parser.add_argument("--latency-ms", type=int, default=150, help="latency the sandbox adds to every call")
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="copies of the Procfile's publisher entry (without one: of its worker entry)",
    )
    parser.add_argument(
        "--concurrency", type=int, default=32, help="PUBLISH_WORKER_CONCURRENCY, the publisher's threads"
    )
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--broker", default="filesystem", choices=["filesystem", "redis"])
    parser.add_argument("--video-seconds", type=float, default=2.0, help="sandbox video processing time")
    parser.add_argument("--poll-seconds", type=float, default=0.5, help="PUBLISH_POLL_SECONDS")
    parser.add_argument(
        "--first-poll-seconds",
        type=float,
        default=None,
        help="PUBLISH_FIRST_POLL_SECONDS, the wait before the first check (default: --video-seconds)",
    )
    parser.add_argument("--calls-per-kind", type=int, default=2, help="posts per kind in phase A (0 skips it)")
    parser.add_argument("--tick", type=float, default=0.5, help="seconds between dispatcher runs in phase A")
    parser.add_argument("--rounds", type=int, default=3, help="scheduled minutes in phase B (0 skips it)")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="phases B and C give up this long after the last due time"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, database) for inspection")


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.channels <= 7:
        raise SystemExit("--channels must be between 1 and 7 (the sandbox seeds 4 Pages and 3 Instagram accounts)")
    print(
        f"publish: {args.posts} posts in the burst, {args.rounds} punctuality round(s), {args.channels} channels, "
        f"{args.latency_ms} ms latency, {args.db}, {args.broker} broker"
    )
    with BenchEnv(db=args.db, broker=args.broker, keep=args.keep) as env:
        sandbox_url = env.start_sandbox()
        env.configure(
            sandbox_url=sandbox_url,
            PUBLISH_POLL_SECONDS=str(args.poll_seconds),
            PUBLISH_FIRST_POLL_SECONDS=str(
                args.video_seconds if args.first_poll_seconds is None else args.first_poll_seconds
            ),
            PUBLISH_WORKER_CONCURRENCY=str(args.concurrency),
            INBOX_POLL_SECONDS="86400",  # the inbox poll must not call Meta while calls are counted
        )
        env.create_database()
        env.django_setup()
        logging.getLogger("kombu.connection").setLevel(logging.ERROR)  # "No hostname was supplied" (filesystem)
        env.start_web()
        entries = env.procfile()
        if "publisher" in entries:
            copies = {"worker": 1, "publisher": args.workers, "beat": 1}
            processes = f"worker ×1, publisher ×{args.workers} (PUBLISH_WORKER_CONCURRENCY {args.concurrency}), beat"
        else:
            copies = {"worker": args.workers, "beat": 1}
            processes = f"worker ×{args.workers} (no publisher entry; concurrency as the Procfile says), beat"
        env.start_procfile(copies)
        bench = PublishBench(env, args, processes)
        bench.seed()
        bench.settle()
        bench.control.latency(args.latency_ms)
        per_kind = bench.calls_phase() if args.calls_per_kind > 0 else {}
        rounds = bench.punctuality_phase() if args.rounds > 0 else None
        burst = bench.burst_phase() if args.posts > 0 else None
        bench.summary(per_kind, rounds, burst)
        errors = env.log_lines("ERROR") + env.log_lines("Traceback")
        if errors:
            print(f"\nProcess logs reported {len(errors)} error line(s); first ones:")
            for line in errors[:8]:
                print(f"  {line[:220]}")
    return 0


class PublishBench:
    def __init__(self, env: BenchEnv, args: argparse.Namespace, processes: str):
        self.env, self.args, self.processes = env, args, processes
        self.control = env.sandbox.control
        self.early: list[str] = []

    # --- seeding ------------------------------------------------------------------------------------------------
    def seed(self) -> None:
        from accounts.access import get_workspace_for_user
        from accounts.models import Agency, AgencyMembership, AgencyRole, Channel, Platform, User, Workspace

        started = time.monotonic()
        self.user = User.objects.create_user("bench@socialhub.localhost", "bench-password", full_name="Bench Manager")
        agency = Agency.objects.create(name="Bench Agency")
        AgencyMembership.objects.create(agency=agency, user=self.user, role=AgencyRole.OWNER)
        self.workspace = Workspace.objects.create(agency=agency, name="Bench Brand", timezone="Europe/Rome")
        self.access = get_workspace_for_user(self.user, self.workspace.public_id)
        self._connect_channels()
        channels = list(Channel.objects.filter(workspace=self.workspace))
        order = {external: i for i, external in enumerate(self.wanted)}
        channels.sort(key=lambda c: order.get(c.external_id, 99))
        self.channels = channels[: self.args.channels]
        missing = set(self.wanted) - {c.external_id for c in channels}
        if missing:
            raise RuntimeError(f"channels not connected: {sorted(missing)}")
        self.by_platform = {
            Platform.INSTAGRAM: [c for c in self.channels if c.platform == Platform.INSTAGRAM],
            Platform.FACEBOOK_PAGE: [c for c in self.channels if c.platform == Platform.FACEBOOK_PAGE],
        }
        for channel in self.by_platform[Platform.INSTAGRAM]:
            # The default 100 posts / 24 h per account would hold most of the run for a day.
            self.control.quota(channel.external_id, quota_total=1_000_000)
        self.control.processing(video_seconds=self.args.video_seconds)
        self.kinds = [k for k in KINDS if self.by_platform[k.platform]]
        self.media = self._upload_samples()
        names = ", ".join(c.display_name for c in self.channels)
        self.env.log(f"seeded workspace, channels ({names}) and media in {time.monotonic() - started:.1f} s")

    def _connect_channels(self) -> None:
        """Through the real OAuth flow: Channels page → sandbox consent → callback → picker."""
        from urllib.parse import urlsplit

        from django.conf import settings
        from django.test import Client

        from socialhub.devconnect import connect_with_facebook, connect_with_instagram

        state = self.control.state()
        pages = {p["id"]: p for p in state["pages"]}
        first_user, second_user = state["users"][0], state["users"][1]
        login_only = next(a["id"] for a in state["ig_accounts"] if a["login_only"])
        # Preference order: Pages with their Instagram account first, then the rest.
        order: list[tuple[str, str]] = []  # (external id, how)
        for page_id in first_user["page_ids"]:
            order.append((page_id, "fb1"))
            if pages[page_id]["instagram_business_account"]:
                order.append((pages[page_id]["instagram_business_account"], "fb1"))
        order.append((login_only, "ig"))
        for page_id in second_user["page_ids"]:
            if page_id not in first_user["page_ids"]:
                order.append((page_id, "fb2"))
        wanted = order[: self.args.channels]
        self.wanted = [external for external, _ in wanted]
        client = Client(HTTP_HOST=urlsplit(settings.PUBLIC_BASE_URL).netloc)
        client.force_login(self.user)
        first = [e for e, how in wanted if how == "fb1"]
        if first:
            connect_with_facebook(
                client,
                self.workspace,
                pages=[e for e in first if e in pages] or ["none"],
                instagram=[e for e in first if e not in pages] or ["none"],
            )
        if any(how == "ig" for _, how in wanted):
            connect_with_instagram(client, self.workspace, account=login_only)
        second = [e for e, how in wanted if how == "fb2"]
        if second:
            connect_with_facebook(client, self.workspace, pages=second, instagram=["none"], user=second_user["id"])

    def _upload_samples(self) -> dict[str, Any]:
        from django.core.files import File

        from publishing.services.media import media_asset_upload
        from tests.publishing.media_samples import image, video

        folder = self.env.tmp / "samples"
        folder.mkdir(exist_ok=True)
        files: dict[str, Path] = {
            "square": image(folder, "square.jpg", (1080, 1080)),
            "square2": image(folder, "square-2.jpg", (1080, 1080), quality=80),
            "portrait": image(folder, "portrait.jpg", (1080, 1350)),
            "reel": video(folder, "reel.mp4", size=(720, 1280), seconds=4),
        }
        assets = {}
        for key, path in files.items():
            with path.open("rb") as fh:
                assets[key] = media_asset_upload(workspace=self.workspace, uploaded=File(fh, name=path.name), user=None)
            if assets[key].probe_error:
                raise RuntimeError(f"{path.name}: {assets[key].probe_error}")
        return assets

    def settle(self, quiet: float = 3.0, limit: float = 120.0) -> None:
        """Connecting a channel queues its insights and inbox backfills; nothing is measured until they are done,
        which shows as no new `GraphCall` row for `quiet` seconds."""
        started = time.monotonic()
        last, changed = _last_call(), started
        while True:
            time.sleep(POLL)
            now, newest = time.monotonic(), _last_call()
            if newest != last:
                last, changed = newest, now
            if now - changed >= quiet:
                self.env.log(f"seeding's Graph calls quiet for {quiet:g} s after {now - started:.1f} s")
                return
            if now - started >= limit:
                print(f"  ! Graph calls still going after {limit:.0f} s; measuring anyway", flush=True)
                return

    # --- posts ----------------------------------------------------------------------------------------------------
    def _create(self, plan: list[tuple[Kind, Any]], label: str, scheduled_at: datetime) -> tuple[list[int], list[int]]:
        """One post per (kind, channel) through post_create + post_submit, scheduled at `scheduled_at`. Returns the
        post ids and their delivery ids, in the plan's order."""
        from publishing.models import Delivery
        from publishing.services.posts import MediaItem, post_create, post_submit

        post_ids = []
        for number, (kind, channel) in enumerate(plan):
            post = post_create(
                workspace=self.workspace,
                author=self.user,
                channels=[channel],
                caption=f"{label} {number} · {kind.name} #socialhub" if kind.caption else "",
                media=[MediaItem(self.media[key]) for key in kind.media],
                format=kind.format,
                scheduled_at=scheduled_at,
                **({"link": f"https://example.com/bench/{label.replace(' ', '-')}/{number}"} if kind.link else {}),
            )
            post_submit(post=post, access=self.access)
            post_ids.append(post.pk)
        found = dict(Delivery.objects.filter(post_id__in=post_ids).values_list("post_id", "pk"))
        kinds = dict(Delivery.objects.filter(post_id__in=post_ids).values_list("pk", "kind"))
        delivery_ids = [found[pk] for pk in post_ids]
        wrong = [(pk, kinds[pk], k.name) for pk, (k, _c) in zip(delivery_ids, plan, strict=True) if kinds[pk] != k.name]
        if wrong:
            raise RuntimeError(f"unexpected delivery kinds (id, got, wanted): {wrong[:5]}")
        return post_ids, delivery_ids

    def _move(self, post_ids: list[int], due: datetime) -> int:
        """Move each post to `due` as the calendar does: under the post's lock, its time and then its scheduled
        deliveries (`transitions.reschedule`). Returns how many deliveries moved."""
        from django.db import transaction

        from publishing.models import Post
        from publishing.services import transitions

        moved = 0
        for pk in post_ids:
            with transaction.atomic():
                post = Post.objects.select_for_update().get(pk=pk)
                post.scheduled_at = due
                post.scheduled_local = due.astimezone(self.workspace.zoneinfo).strftime("%Y-%m-%dT%H:%M:%S")
                post.save(update_fields=["scheduled_at", "scheduled_local", "updated_at"])
                moved += transitions.reschedule(post, due=due)
        return moved

    def _plan(self, count: int) -> list[tuple[Kind, Any]]:
        plan = []
        turns: Counter = Counter()
        for number in range(count):
            kind = self.kinds[number % len(self.kinds)]
            channels = self.by_platform[kind.platform]
            plan.append((kind, channels[turns[kind.platform] % len(channels)]))
            turns[kind.platform] += 1
        return plan

    def _watch(
        self,
        ids: list[int],
        *,
        until: float,
        dispatch: bool = False,
        every: float = 0.0,
        dues: list[datetime] | None = None,
    ) -> bool:
        """Look at the deliveries every POLL seconds (or run the dispatcher every --tick seconds when `dispatch`)
        until all are terminal; False when monotonic time `until` passes first. Prints progress every `every` s,
        with the time left to the next of `dues`."""
        from django.db import close_old_connections
        from django.utils import timezone

        from publishing.models import Delivery
        from publishing.services import pipeline

        started = last_print = time.monotonic()
        while True:
            if dispatch:
                pipeline.dispatch_due()
            states = Counter(Delivery.objects.filter(pk__in=ids).values_list("state", flat=True))
            now = time.monotonic()
            if all(state in TERMINAL for state in states.elements()):
                return True
            if now > until:
                print(f"  ! timed out: {_counts(states)}", flush=True)
                return False
            if every and now - last_print >= every:
                ahead = [(due - timezone.now()).total_seconds() for due in dues or []]
                upcoming = min((s for s in ahead if s > 0), default=None)
                note = f" · next due in {upcoming:.0f} s" if upcoming is not None else ""
                print(f"  … {now - started:5.0f} s: {_counts(states)}{note}", flush=True)
                last_print = now
            close_old_connections()
            time.sleep(self.args.tick if dispatch else POLL)

    def _rows(self, ids: list[int]) -> list[dict[str, Any]]:
        from publishing.models import Delivery

        rows = list(
            Delivery.objects.filter(pk__in=ids).values(
                "pk",
                "kind",
                "state",
                "due_at",
                "published_at",
                "publish_started_at",
                "publish_tried_at",
                "error_message",
                "updated_at",
            )
        )
        for row in rows:
            row["delay"] = (row["published_at"] - row["due_at"]).total_seconds() if row["published_at"] else None
            row["settled_at"] = row["published_at"] or row["updated_at"] if row["state"] in SETTLED else None
            # The publishing call's start (stored right before it) or, failing that, the publish itself.
            marks = (row["publish_tried_at"], row["publish_started_at"], row["published_at"])
            went_out = min((t for t in marks if t), default=None)
            if went_out is not None and went_out < row["due_at"]:
                early = (row["due_at"] - went_out).total_seconds()
                message = (
                    f"{row['kind']} delivery {row['pk']} went out EARLY: publishing call at {went_out:%H:%M:%S}, "
                    f"{early:.1f} s before its due time {row['due_at']:%H:%M:%S} UTC"
                )
                self.early.append(message)
                print(f"  !!! {message}", flush=True)
        return rows

    # --- phase A: Graph calls per post type -----------------------------------------------------------------------
    def calls_phase(self) -> dict[str, dict[str, Any]]:
        """Each kind alone: K posts on one channel, made due now and run by a dispatcher loop here (beat and the
        workers' own wake-ups may start them too; a run is leased, so how it starts changes no count). Every
        GraphCall row created from the move until the calls stop for a second belongs to that kind: nothing else
        talks to the sandbox meanwhile."""
        from django.utils import timezone

        from socialhub.graph.models import GraphCall

        k = self.args.calls_per_kind
        print(f"\nA. Graph calls per post type: {k} post(s) of each kind on one channel, one kind at a time …")
        per_kind: dict[str, dict[str, Any]] = {}
        for kind in self.kinds:
            channel = self.by_platform[kind.platform][0]
            later = timezone.now() + timedelta(hours=1)
            post_ids, ids = self._create([(kind, channel)] * k, f"Calls {kind.name}", later)
            before = _last_call()
            started = time.monotonic()
            self._move(post_ids, timezone.now())
            finished = self._watch(ids, until=started + self.args.timeout, dispatch=True)
            seconds = time.monotonic() - started
            after = _quiet_calls(1.0, 15.0)
            rows = list(GraphCall.objects.filter(pk__gt=before, pk__lte=after).values_list("method", "path", "outcome"))
            self._rows(ids)
            per_kind[kind.name] = {
                "posts": k,
                "seconds": seconds,
                "finished": finished,
                "calls": len(rows),
                "endpoints": Counter(_endpoint(m, p) for m, p, _o in rows),
                "errors": sum(1 for *_x, o in rows if o != "ok"),
            }
            print(f"  {kind.name:12} {len(rows) / k:5.1f} calls/post in {seconds:.1f} s", flush=True)
        self._report_calls(per_kind)
        return per_kind

    def _report_calls(self, per_kind: dict[str, dict[str, Any]]) -> None:
        print()
        print(f"{'kind':12} {'calls/post':>10} {'minimum':>8}   the minimum: one post, HTTP calls")
        for kind in self.kinds:
            info = per_kind[kind.name]
            per_post = info["calls"] / info["posts"]
            note = "" if info["finished"] else "  (timed out)"
            note += f"  ({info['errors']} error(s))" if info["errors"] else ""
            print(f"{kind.name:12} {per_post:10.1f} {kind.minimum:8}   {kind.why}{note}")
            endpoints = ", ".join(f"{e} ×{n / info['posts']:g}" for e, n in sorted(info["endpoints"].items()))
            print(f"{'':12} {'':10} {'':8}     made: {endpoints}")
        calls, minimum = _mix(per_kind, self.kinds)
        print(
            f"mix of {len(per_kind)} kinds: {calls:.1f} calls per post of each vs a minimum of {minimum}: "
            f"ratio {calls / minimum:.2f}"
        )
        print(
            f"Counted with {self.args.latency_ms} ms latency; reels and videos include status checks, so they depend "
            f"on --video-seconds ({self.args.video_seconds:g}) and --poll-seconds ({self.args.poll_seconds:g})."
        )

    # --- phase B: punctuality through beat and the workers ----------------------------------------------------------
    def punctuality_phase(self) -> dict[str, Any]:
        """R consecutive whole minutes, the first at least two minutes ahead; every post is made up front with
        post_create(scheduled_at=its minute) + post_submit, then only beat and the workers act."""
        from django.utils import timezone

        from accounts.models import Platform

        now = timezone.now()
        first = _ceil(now + timedelta(seconds=120), 60)
        dues = [first + timedelta(minutes=i) for i in range(self.args.rounds)]
        plan: list[tuple[Kind, Any]] = []
        for channel in self.by_platform[Platform.INSTAGRAM]:
            plan += [(BY_NAME["ig_image"], channel), (BY_NAME["ig_reel"], channel)]
        for channel in self.by_platform[Platform.FACEBOOK_PAGE]:
            plan += [(BY_NAME["fb_photo"], channel), (BY_NAME["fb_text"], channel)]
        print(
            f"\nB. Punctuality: {len(plan)} post(s) due at each of {len(dues)} whole minute(s) from "
            f"{first:%H:%M:%S} UTC (photo and reel on each Instagram account, photo and text on each Page); "
            "beat and the workers only …",
            flush=True,
        )
        ids: list[int] = []
        for number, due in enumerate(dues, 1):
            ids += self._create(plan, f"Round {number}", due)[1]
        lead = (first - timezone.now()).total_seconds()
        self.env.log(f"{len(ids)} posts scheduled; the first round is due in {lead:.0f} s")
        until = time.monotonic() + (dues[-1] - timezone.now()).total_seconds() + self.args.timeout
        finished = self._watch(ids, until=until, every=15.0, dues=dues)
        rows = self._rows(ids)
        result = {"rows": rows, "finished": finished, "rounds": len(dues)}
        self._report_punctuality(result)
        return result

    def _report_punctuality(self, result: dict[str, Any]) -> None:
        rows = result["rows"]
        print()
        states = Counter(r["state"] for r in rows)
        print(f"deliveries            {len(rows)}  ({_counts(states)})")
        if not result["finished"]:
            print(f"  ! not settled within --timeout {self.args.timeout:.0f} s after the last due time")
        for r in [r for r in rows if r["state"] == "failed"][:5]:
            print(f"  failed {r['kind']}: {r['error_message'][:150]}")
        for label, kinds in (("photo and text", PHOTO_AND_TEXT), ("reel", REEL)):
            delays = sorted(r["delay"] for r in rows if r["kind"] in kinds and r["delay"] is not None)
            print(f"due → published, {label:15} {_stats(delays)}  ({len(delays)} published)")

    # --- phase C: burst through the production path -----------------------------------------------------------------
    def burst_phase(self) -> dict[str, Any]:
        """N posts scheduled an hour ahead, then each moved to one moment T (now + 10 s, a whole second) as the
        calendar moves a post. Beat and the workers do everything."""
        from django.utils import timezone

        from socialhub.graph.models import GraphCall

        print(f"\nC. Burst: {self.args.posts} posts of every kind, all due at one moment …")
        started = time.monotonic()
        post_ids, ids = self._create(self._plan(self.args.posts), "Burst", timezone.now() + timedelta(hours=1))
        self.env.log(
            f"created {len(ids)} posts through post_create + post_submit in {time.monotonic() - started:.1f} s"
        )
        t0 = _ceil(timezone.now() + timedelta(seconds=10), 1)
        before = _last_call()
        moved = self._move(post_ids, t0)
        left = (t0 - timezone.now()).total_seconds()
        self.env.log(
            f"moved {moved} deliveries to {t0:%H:%M:%S} UTC with transitions.reschedule"
            + (f", {left:.1f} s before it" if left >= 0 else f" — {-left:.1f} s AFTER it (moving took too long)")
        )
        finished = self._watch(ids, until=time.monotonic() + left + self.args.timeout, every=10.0)
        rows = self._rows(ids)
        settled = [r["settled_at"] for r in rows if r["settled_at"]]
        last = max(settled, default=timezone.now())
        calls = GraphCall.objects.filter(pk__gt=before, created_at__lte=last)
        result = {
            "rows": rows,
            "finished": finished,
            "t0": t0,
            "wall": (last - t0).total_seconds(),
            "calls": calls.count(),
            "call_errors": Counter(
                f"{_endpoint(m, p)} → {code}/{sub}"
                for p, m, code, sub in calls.exclude(outcome="ok").values_list(
                    "path", "method", "error_code", "error_subcode"
                )
            ),
            "runs": _attempts(ids),
        }
        self._report_burst(result)
        return result

    def _report_burst(self, result: dict[str, Any]) -> None:
        a, rows = self.args, result["rows"]
        published = [r for r in rows if r["state"] == "published"]
        failed = [r for r in rows if r["state"] == "failed"]
        wall = result["wall"]
        delays = sorted(r["delay"] for r in published)
        print()
        print(f"deliveries            {len(rows)}  ({_counts(Counter(r['state'] for r in rows))})")
        print(f"published / failed    {len(published)} / {len(failed)}")
        for r in failed[:5]:
            print(f"  failed {r['kind']}: {r['error_message'][:150]}")
        if not result["finished"]:
            print(f"  ! not settled within --timeout {a.timeout:.0f} s")
        print(f"wall time             {wall:.1f} s  (due moment → last delivery settled)")
        if wall > 0:
            result["throughput"] = 60 * (len(published) + len(failed)) / wall
            print(f"throughput            {result['throughput']:.0f} deliveries/minute")
        print(f"due → published       {_stats(delays)}")
        runs = result["runs"]
        print(f"task runs             {runs}  ({runs / max(1, len(rows)):.2f} per delivery)")
        per_post = result["calls"] / max(1, len(published))
        print(f"Graph calls           {result['calls']} · {per_post:.1f} per published post")
        if result["call_errors"]:
            print("  Graph errors: " + "; ".join(f"{k} ×{n}" for k, n in result["call_errors"].most_common(5)))
        print()
        print(f"{'kind':12} {'posts':>6} {'published':>9} {'p50 s':>7} {'p95 s':>7} {'max s':>7}")
        for kind in self.kinds:
            mine = [r for r in rows if r["kind"] == kind.name]
            d = sorted(r["delay"] for r in mine if r["delay"] is not None)
            figures = f"{_pct(d, 50):7.1f} {_pct(d, 95):7.1f} {d[-1]:7.1f}" if d else f"{'–':>7} {'–':>7} {'–':>7}"
            print(f"{kind.name:12} {len(mine):6} {len(d):9} {figures}")

    # --- summary ------------------------------------------------------------------------------------------------------
    def summary(
        self, per_kind: dict[str, dict[str, Any]], rounds: dict[str, Any] | None, burst: dict[str, Any] | None
    ) -> None:
        a = self.args
        print()
        print("=" * 100)
        print(
            f"publish · {len(self.channels)} channels · {a.latency_ms} ms latency · {self.processes} · "
            f"{a.db} · {a.broker}"
        )
        print("=" * 100)
        if rounds:
            rows = rounds["rows"]
            for label, kinds in (("photo and text", PHOTO_AND_TEXT), ("reel", REEL)):
                d = sorted(r["delay"] for r in rows if r["kind"] in kinds and r["delay"] is not None)
                figures = f"p50 {_pct(d, 50):.1f} s · p95 {_pct(d, 95):.1f} s" if d else "none published"
                print(f"{'punctuality, ' + label:30}{figures}  ({len(d)} posts, {rounds['rounds']} round(s))")
        if burst:
            published = [r for r in burst["rows"] if r["state"] == "published"]
            d = sorted(r["delay"] for r in published)
            p95 = f"due → published p95 {_pct(d, 95):.1f} s" if d else "none published"
            print(
                f"{'burst, ' + str(len(burst['rows'])) + ' posts':30}{burst.get('throughput', 0):.0f} /min · {p95} · "
                f"{len(published)} published, {len(burst['rows']) - len(published)} not"
            )
        if per_kind:
            calls, minimum = _mix(per_kind, self.kinds)
            burst_calls = ""
            if burst:
                count = sum(1 for r in burst["rows"] if r["state"] == "published")
                burst_calls = f"; the burst: {burst['calls'] / max(1, count):.1f} per published post"
            mix = f"{calls / len(per_kind):.1f} ({len(per_kind)} kinds, each alone{burst_calls})"
            print(f"Graph calls per post, mix     {mix}")
            print(f"ratio to the protocol minimum {calls / minimum:.2f} ({calls:.1f} calls / {minimum})")
        print(f"early posts                   {len(self.early) if self.early else 'none'}")
        for message in self.early[:10]:
            print(f"  !!! {message}")


def _last_call() -> int:
    from socialhub.graph.models import GraphCall

    return GraphCall.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _quiet_calls(quiet: float, limit: float) -> int:
    """The newest GraphCall id once no row has appeared for `quiet` seconds (or `limit` passed)."""
    started = changed = time.monotonic()
    last = _last_call()
    while time.monotonic() - changed < quiet and time.monotonic() - started < limit:
        time.sleep(POLL)
        newest = _last_call()
        if newest != last:
            last, changed = newest, time.monotonic()
    return last


def _attempts(ids: list[int]) -> int:
    from publishing.models import DeliveryAttempt

    return DeliveryAttempt.objects.filter(delivery_id__in=ids).count()


def _mix(per_kind: dict[str, dict[str, Any]], kinds: list[Kind]) -> tuple[float, int]:
    """Calls per post summed over the kinds that ran, and their protocol minimums summed."""
    calls = sum(info["calls"] / info["posts"] for info in per_kind.values())
    return calls, sum(kind.minimum for kind in kinds if kind.name in per_kind)


def _ceil(moment: datetime, seconds: int) -> datetime:
    """`moment` rounded up to a whole multiple of `seconds` (a whole second, a whole minute)."""
    stamp = math.ceil(moment.timestamp() / seconds) * seconds
    return datetime.fromtimestamp(stamp, tz=moment.tzinfo)


def _endpoint(method: str, path: str) -> str:
    """`POST /v25.0/17841412248244757/media?x=y` → `POST {id}/media`: ids folded so calls group by endpoint."""
    path = path.split("?", 1)[0]
    path = re.sub(r"^/(graph\.instagram\.com|rupload\.facebook\.com)", r"\1:", path)
    path = re.sub(r"/v\d+\.\d+(?=/|$)", "", path)
    path = re.sub(r"/\d+_\d+", "/{post}", path)
    path = re.sub(r"/\d{5,}", "/{id}", path)
    return f"{method} {path or '/'}"


def _pct(values: list[float], pct: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


def _stats(values: list[float]) -> str:
    if not values:
        return "none published"
    return f"p50 {_pct(values, 50):.1f} s · p95 {_pct(values, 95):.1f} s · max {values[-1]:.1f} s"


def _counts(counter: Counter) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counter.items()))
