"""`python -m bench publish`: the publishing pipeline end to end, as deployed.

A fresh installation (database, broker, media folder, `runserver` at PUBLIC_BASE_URL, W Celery workers) talks
to the Graph API sandbox with L ms of added latency per call. N posts of every kind, spread over M connected
channels, become due at once (or over `--stagger` seconds); an in-process dispatcher loop stands in for beat
(`pipeline.dispatch_due()` every `--tick` seconds) and the database is polled until every delivery is published
or failed. Then, for Graph calls per post type, each kind runs alone in a small batch and the `GraphCall` rows
recorded during that batch are counted."""

from __future__ import annotations

import argparse
import logging
import re
import statistics
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from .env import BenchEnv

# Delivery kinds in the order posts cycle through them: (kind, platform, post format, media keys, options).
KINDS: list[tuple[str, str, str, tuple[str, ...], dict[str, str]]] = [
    ("ig_image", "instagram", "feed", ("square",), {}),
    ("fb_text", "facebook_page", "feed", (), {}),
    ("ig_carousel", "instagram", "feed", ("square", "square2"), {}),
    ("fb_link", "facebook_page", "feed", (), {"link": "https://example.com/bench"}),
    ("ig_reel", "instagram", "reel", ("reel",), {}),
    ("fb_photo", "facebook_page", "feed", ("square",), {}),
    ("ig_story", "instagram", "story", ("portrait",), {}),
    ("fb_photos", "facebook_page", "feed", ("square", "portrait"), {}),
    ("fb_reel", "facebook_page", "reel", ("reel",), {}),
    ("fb_video", "facebook_page", "feed", ("reel",), {}),
]
TERMINAL = ("published", "failed", "cancelled")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--posts", type=int, default=120, help="posts in the main run, one delivery each (120)")
    parser.add_argument("--channels", type=int, default=4, help="connected channels, 1-7 (4: 2 Pages + their IG)")
    parser.add_argument("--latency-ms", type=int, default=50, help="latency the sandbox adds to every call (50)")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes, concurrency 1 each (2)")
    parser.add_argument("--concurrency", type=int, default=1, help="Celery concurrency per worker process (1)")
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--broker", default="filesystem", choices=["filesystem", "redis"])
    parser.add_argument("--stagger", type=float, default=0.0, help="spread due times over this many seconds (0)")
    parser.add_argument("--video-seconds", type=float, default=2.0, help="sandbox video processing time (2)")
    parser.add_argument("--poll-seconds", type=float, default=0.5, help="PUBLISH_POLL_SECONDS (0.5; min wait 1 s)")
    parser.add_argument(
        "--first-poll-seconds",
        type=float,
        default=None,
        help="PUBLISH_FIRST_POLL_SECONDS, the wait before the first check (default: --video-seconds)",
    )
    parser.add_argument("--tick", type=float, default=0.5, help="seconds between dispatcher runs (0.5)")
    parser.add_argument("--calls-per-kind", type=int, default=2, help="posts per kind in the Graph-calls phase (2)")
    parser.add_argument("--timeout", type=float, default=300.0, help="give up waiting after this many seconds")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, database) for inspection")


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.channels <= 7:
        raise SystemExit("--channels must be between 1 and 7 (the sandbox seeds 4 Pages and 3 Instagram accounts)")
    print(
        f"publish: {args.posts} posts, {args.channels} channels, {args.latency_ms} ms latency, "
        f"{args.workers} worker(s) × concurrency {args.concurrency}, {args.db}, {args.broker} broker"
    )
    with BenchEnv(db=args.db, broker=args.broker, keep=args.keep) as env:
        sandbox_url = env.start_sandbox()
        env.configure(
            sandbox_url=sandbox_url,
            PUBLISH_POLL_SECONDS=str(args.poll_seconds),
            PUBLISH_FIRST_POLL_SECONDS=str(
                args.video_seconds if args.first_poll_seconds is None else args.first_poll_seconds
            ),
        )
        env.create_database()
        env.django_setup()
        logging.getLogger("kombu.connection").setLevel(logging.ERROR)  # "No hostname was supplied" (filesystem)
        env.start_web()
        env.start_workers(args.workers, concurrency=args.concurrency)
        bench = PublishBench(env, args)
        bench.seed()
        main = bench.main_run()
        per_kind = bench.calls_phase() if args.calls_per_kind > 0 else {}
        bench.report(main, per_kind)
        errors = env.log_lines("ERROR") + env.log_lines("Traceback")
        if errors:
            print(f"\nProcess logs reported {len(errors)} error line(s); first ones:")
            for line in errors[:8]:
                print(f"  {line[:220]}")
    return 0


class PublishBench:
    def __init__(self, env: BenchEnv, args: argparse.Namespace):
        self.env, self.args = env, args
        self.control = env.sandbox.control

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
        self.kinds = [k for k in KINDS if self.by_platform[k[1]]]
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

    def _create_posts(self, plan: list[tuple[tuple, Any]], label: str) -> list[int]:
        """Create and schedule one post per (kind, channel); returns the delivery ids. Scheduled in an hour so
        nothing starts before every post exists; `_make_due` then moves them to now."""
        from django.utils import timezone

        from publishing.models import Delivery
        from publishing.services.posts import MediaItem, post_create, post_submit

        later = timezone.now() + timedelta(hours=1)
        post_ids = []
        for number, ((kind, _platform, fmt, media_keys, options), channel) in enumerate(plan):
            post = post_create(
                workspace=self.workspace,
                author=self.user,
                channels=[channel],
                caption=f"{label} {number} · {kind} #socialhub",
                media=[MediaItem(self.media[key]) for key in media_keys],
                format=fmt,
                scheduled_at=later,
                **({"link": f"{options['link']}/{label}/{number}"} if "link" in options else {}),
            )
            post_submit(post=post, access=self.access)
            post_ids.append(post.pk)
        deliveries = sorted(Delivery.objects.filter(post_id__in=post_ids).values_list("pk", "kind"))
        expected = [kind[0] for kind, _channel in plan]
        wrong = [(pk, kind, want) for (pk, kind), want in zip(deliveries, expected, strict=True) if kind != want]
        if wrong:
            raise RuntimeError(f"unexpected delivery kinds (id, got, wanted): {wrong[:5]}")
        return [pk for pk, _ in deliveries]

    def _make_due(self, ids: list[int], stagger: float) -> Any:
        from django.utils import timezone

        from publishing.models import Delivery

        t0 = timezone.now()
        if stagger <= 0:
            Delivery.objects.filter(pk__in=ids).update(due_at=t0, next_attempt_at=t0)
        else:
            for index, pk in enumerate(ids):
                due = t0 + timedelta(seconds=stagger * index / max(1, len(ids) - 1))
                Delivery.objects.filter(pk=pk).update(due_at=due, next_attempt_at=due)
        return t0

    def _drive(self, ids: list[int], *, progress: bool) -> tuple[float, bool]:
        """Dispatcher loop until every delivery is terminal. Returns (seconds, finished)."""
        from django.db import close_old_connections

        from publishing.models import Delivery
        from publishing.services import pipeline

        started = time.monotonic()
        last_print = started
        while True:
            pipeline.dispatch_due()
            states = Counter(Delivery.objects.filter(pk__in=ids).values_list("state", flat=True))
            open_count = sum(n for s, n in states.items() if s not in TERMINAL)
            now = time.monotonic()
            if open_count == 0:
                return now - started, True
            if now - started > self.args.timeout:
                print(f"  ! timed out after {self.args.timeout:.0f} s: {dict(states)}")
                return now - started, False
            if progress and now - last_print >= 5:
                summary = ", ".join(f"{s} {n}" for s, n in sorted(states.items()))
                print(f"  … {now - started:5.1f} s: {summary}", flush=True)
                last_print = now
            close_old_connections()
            time.sleep(self.args.tick)

    def _plan(self, count: int) -> list[tuple[tuple, Any]]:
        plan = []
        turns: Counter = Counter()
        for number in range(count):
            kind = self.kinds[number % len(self.kinds)]
            channels = self.by_platform[kind[1]]
            plan.append((kind, channels[turns[kind[1]] % len(channels)]))
            turns[kind[1]] += 1
        return plan

    # --- main run -----------------------------------------------------------------------------------------------
    def main_run(self) -> dict[str, Any]:
        from socialhub.graph.models import GraphCall

        started = time.monotonic()
        ids = self._create_posts(self._plan(self.args.posts), "Bench")
        took = time.monotonic() - started
        self.env.log(f"created {len(ids)} posts through post_create + post_submit in {took:.1f} s")
        self.control.latency(self.args.latency_ms)
        baseline = GraphCall.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        print(f"running {len(ids)} deliveries …", flush=True)
        t0 = self._make_due(ids, self.args.stagger)
        seconds, finished = self._drive(ids, progress=True)
        return {"ids": ids, "t0": t0, "seconds": seconds, "finished": finished, "calls_from": baseline}

    # --- Graph calls per kind ---------------------------------------------------------------------------------
    def calls_phase(self) -> dict[str, dict[str, Any]]:
        """Each kind alone: K posts on one channel, and the GraphCall rows created while they ran (nothing else
        talks to the sandbox meanwhile, so every row belongs to that batch)."""
        from socialhub.graph.models import GraphCall

        per_kind: dict[str, dict[str, Any]] = {}
        print(f"Graph calls per post type: {self.args.calls_per_kind} post(s) of each kind, one kind at a time …")
        for kind in self.kinds:
            channel = self.by_platform[kind[1]][0]
            ids = self._create_posts([(kind, channel)] * self.args.calls_per_kind, f"Calls {kind[0]}")
            before = GraphCall.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            self._make_due(ids, 0)
            seconds, finished = self._drive(ids, progress=False)
            rows = list(GraphCall.objects.filter(pk__gt=before).values_list("method", "path", "outcome"))
            per_kind[kind[0]] = {
                "ids": ids,
                "seconds": seconds,
                "finished": finished,
                "calls": len(rows),
                "endpoints": Counter(_endpoint(m, p) for m, p, _o in rows),
                "errors": sum(1 for *_x, o in rows if o != "ok"),
            }
        return per_kind

    # --- report -------------------------------------------------------------------------------------------------
    def report(self, main: dict[str, Any], per_kind: dict[str, dict[str, Any]]) -> None:
        from django.db.models import Max

        from publishing.models import Delivery, DeliveryAttempt
        from socialhub.graph.models import GraphCall

        rows = list(
            Delivery.objects.filter(pk__in=main["ids"]).values(
                "pk", "kind", "state", "due_at", "published_at", "error_message", "updated_at", "attempts"
            )
        )
        states = Counter(r["state"] for r in rows)
        published = [r for r in rows if r["state"] == "published"]
        failed = [r for r in rows if r["state"] == "failed"]
        finished_at = [r["published_at"] or r["updated_at"] for r in rows if r["state"] in ("published", "failed")]
        wall = (max(finished_at) - main["t0"]).total_seconds() if finished_at else main["seconds"]
        delays = sorted((r["published_at"] - r["due_at"]).total_seconds() for r in published)
        kinds_delay: dict[str, list[float]] = {}
        for r in published:
            kinds_delay.setdefault(r["kind"], []).append((r["published_at"] - r["due_at"]).total_seconds())
        calls = GraphCall.objects.filter(pk__gt=main["calls_from"], created_at__lte=max(finished_at or [main["t0"]]))
        call_count = calls.count()
        failed_calls = calls.exclude(outcome="ok").values_list("path", "method", "error_code", "error_subcode")
        call_errors = Counter(f"{_endpoint(m, p)} → {code}/{sub}" for p, m, code, sub in failed_calls)
        usage = calls.aggregate(top=Max("app_usage_percent"))["top"]
        runs = DeliveryAttempt.objects.filter(delivery_id__in=main["ids"]).count()

        a = self.args
        print()
        print("=" * 78)
        print(
            f"publish · {a.posts} posts · {len(self.channels)} channels · {a.latency_ms} ms latency · "
            f"{a.workers} worker(s) × {a.concurrency} · {a.db} · {a.broker}"
        )
        print("=" * 78)
        print(f"deliveries            {len(rows)}  ({_counts(states)})")
        print(f"published / failed    {len(published)} / {len(failed)}")
        for r in failed[:5]:
            print(f"  failed {r['kind']}: {r['error_message'][:150]}")
        if not main["finished"]:
            print(f"  ! not finished within --timeout {a.timeout:.0f} s")
        print(f"wall time             {wall:.1f} s  (first dispatch → last delivery settled)")
        if wall > 0:
            print(f"throughput            {60 * (len(published) + len(failed)) / wall:.0f} deliveries/minute")
        if delays:
            print(
                f"due → published       p50 {_pct(delays, 50):.1f} s · p95 {_pct(delays, 95):.1f} s · "
                f"max {delays[-1]:.1f} s"
            )
        print(f"task runs (attempts)  {runs}  ({runs / max(1, len(rows)):.2f} per delivery; waits re-queue the task)")
        print(
            f"Graph calls           {call_count} in the main run · "
            f"{call_count / max(1, len(published)):.1f} per published post"
            + (f" · highest usage reported {usage:.0f} %" if usage is not None else "")
        )
        if call_errors:
            print("  Graph errors: " + "; ".join(f"{k} ×{n}" for k, n in call_errors.most_common(5)))
        print()
        print(f"{'kind':12} {'main run':>8} {'p50 s':>7} {'max s':>7}   calls/post (alone)   endpoints per post")
        for kind, *_rest in self.kinds:
            d = sorted(kinds_delay.get(kind, []))
            n = sum(1 for r in rows if r["kind"] == kind)
            info = per_kind.get(kind)
            if info:
                done = len(info["ids"])
                per_post = f"{info['calls'] / done:6.1f}" + ("" if info["finished"] else " (timeout)")
                endpoints = ", ".join(
                    f"{e} ×{n_ / done:g}" for e, n_ in sorted(info["endpoints"].items(), key=lambda x: x[0])
                )
            else:
                per_post, endpoints = "     –", ""
            p50 = f"{_pct(d, 50):7.1f}" if d else "      –"
            mx = f"{d[-1]:7.1f}" if d else "      –"
            print(f"{kind:12} {n:8} {p50} {mx}   {per_post:18}   {endpoints}")
        if per_kind:
            print(
                "\nCalls per post type: each kind ran alone after the main run "
                f"({a.calls_per_kind} post(s) on one channel, same latency); every GraphCall row created while it "
                "ran is counted (rows are numbered, nothing else calls Meta meanwhile). Reels and videos include "
                f"status polls, so they depend on --video-seconds ({a.video_seconds:g}) and --poll-seconds "
                f"({a.poll_seconds:g}, the pipeline waits at least 1 s)."
            )


def _endpoint(method: str, path: str) -> str:
    """`POST /v25.0/17841412248244757/media?x=y` → `POST {ig}/media`: ids folded so calls group by endpoint."""
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


def _counts(counter: Counter) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counter.items()))
