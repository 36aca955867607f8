"""An isolated SocialHub installation for one benchmark run: its own database, broker, cache and media folder
in a temp dir (or a dropped-and-recreated PostgreSQL database / a flushed Redis db), the Graph API sandbox, and
the processes of a deployment (web, and the Celery workers and beat of the repository's Procfile), all stopped
and removed again on exit, Ctrl-C or error.

Settings reach every process the way they reach production: through environment variables. The in-process
part (seeding, measuring) sets the same variables in `os.environ` before `django.setup()`."""

from __future__ import annotations

import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
PG_URL = "postgres://postgres@127.0.0.1:5432"
PG_DB = "socialhub_bench"
REDIS_URL = "redis://127.0.0.1:6379/15"
APP = {
    "META_APP_ID": "1000000000000001",
    "META_APP_SECRET": "sandbox-app-secret",
    "INSTAGRAM_APP_ID": "1000000000000002",
    "INSTAGRAM_APP_SECRET": "sandbox-ig-app-secret",
    "META_WEBHOOK_VERIFY_TOKEN": "sandbox-verify-token",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sigterm_as_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


class BenchEnv:
    """Use as a context manager; everything started through it is stopped on exit."""

    def __init__(self, *, db: str = "sqlite", broker: str = "filesystem", keep: bool = False, quiet: bool = False):
        if db not in ("sqlite", "postgres"):
            raise SystemExit(f"--db must be sqlite or postgres, not {db!r}")
        if broker not in ("filesystem", "redis"):
            raise SystemExit(f"--broker must be filesystem or redis, not {broker!r}")
        self.db, self.broker, self.keep, self.quiet = db, broker, keep, quiet
        self.tmp = Path(tempfile.mkdtemp(prefix="socialhub-bench-"))
        self.processes: list[tuple[str, subprocess.Popen, Path]] = []
        self.sandbox: Any = None
        self.web_url = ""
        self.env: dict[str, str] = {}

    # --- lifecycle ------------------------------------------------------------------------------------------
    def __enter__(self) -> BenchEnv:
        self._old_sigterm = signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.close()
        finally:
            signal.signal(signal.SIGTERM, self._old_sigterm)

    def log(self, message: str) -> None:
        if not self.quiet:
            print(f"  · {message}", flush=True)

    def close(self) -> None:
        # Keep Ctrl-C from interrupting the cleanup itself.
        old_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            for _name, proc, _log in reversed(self.processes):
                _stop(proc)
            self.processes.clear()
            if self.sandbox is not None:
                self.sandbox.stop()
                try:
                    os.unlink(self.sandbox.log_path)
                except OSError:
                    pass
                self.sandbox = None
            self._close_django_connections()
            if self.keep:
                print(f"  · kept {self.tmp}" + (f" and database {PG_DB}" if self.db == "postgres" else ""))
                return
            if self.db == "postgres":
                _pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
            if self.broker == "redis":
                _redis_flush()
            shutil.rmtree(self.tmp, ignore_errors=True)
        finally:
            signal.signal(signal.SIGINT, old_int)

    @staticmethod
    def _close_django_connections() -> None:
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()

    # --- configuration --------------------------------------------------------------------------------------
    def configure(self, *, sandbox_url: str = "", web_port: int | None = None, **extra: str) -> dict[str, str]:
        """Environment variables for every process of this installation."""
        from cryptography.fernet import Fernet

        self.web_url = f"http://127.0.0.1:{web_port or free_port()}"
        if self.db == "sqlite":
            database = f"sqlite:///{self.tmp / 'db.sqlite3'}"
        else:
            database = f"{PG_URL}/{PG_DB}"
        if self.broker == "filesystem":
            broker, cache = "filesystem://", f"filecache://{self.tmp / 'cache'}"
        else:
            broker, cache = REDIS_URL, REDIS_URL
        env = {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "PYTHONPATH": str(ROOT),
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
            "PUBLIC_BASE_URL": self.web_url,
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "SECURE_HSTS_SECONDS": "0",
            "ACCOUNT_EMAIL_VERIFICATION": "none",
            "EMAIL_URL": "consolemail://",
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": database,
            "CELERY_BROKER_URL": broker,
            "CACHE_URL": cache,
            "BENCH_BROKER_DIR": str(self.tmp / "broker"),
            "BENCH_READY_DIR": str(self.tmp / "ready"),
            "MEDIA_ROOT": str(self.tmp / "media"),
            **APP,
        }
        if sandbox_url:
            env.update(
                {
                    "META_GRAPH_URL": sandbox_url,
                    "META_FACEBOOK_URL": f"{sandbox_url}/www.facebook.com",
                    "META_RUPLOAD_URL": f"{sandbox_url}/rupload.facebook.com",
                    "INSTAGRAM_GRAPH_URL": f"{sandbox_url}/graph.instagram.com",
                    "INSTAGRAM_API_URL": f"{sandbox_url}/api.instagram.com",
                    "INSTAGRAM_WWW_URL": f"{sandbox_url}/www.instagram.com",
                }
            )
        env.update(extra)
        self.env = env
        return env

    def process_env(self) -> dict[str, str]:
        return {**os.environ, **self.env}

    # --- database -------------------------------------------------------------------------------------------
    def create_database(self) -> None:
        if self.db == "postgres":
            _pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
            _pg_admin(f"CREATE DATABASE {PG_DB}")
        if self.broker == "redis":
            _redis_flush()
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=self.process_env(),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"migrate failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
        self.log(f"migrated a fresh {self.db} database in {time.monotonic() - started:.1f} s")

    def django_setup(self) -> None:
        """This process becomes part of the installation: same settings as the web and worker processes."""
        os.environ.update(self.env)
        import django

        django.setup()

    # --- processes ------------------------------------------------------------------------------------------
    def start_sandbox(self) -> str:
        from sandbox.client import SandboxProcess

        extra = {
            "SANDBOX_APP_ID": APP["META_APP_ID"],
            "SANDBOX_APP_SECRET": APP["META_APP_SECRET"],
            "SANDBOX_IG_APP_ID": APP["INSTAGRAM_APP_ID"],
            "SANDBOX_IG_APP_SECRET": APP["INSTAGRAM_APP_SECRET"],
        }
        self.sandbox = SandboxProcess.start(port=0, seed=1, extra_env=extra)
        self.log(f"sandbox at {self.sandbox.url}")
        return self.sandbox.url

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        log_path = self.tmp / f"{name}.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.process_env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: stopped as a whole, untouched by the terminal's ^C
            )
        self.processes.append((name, proc, log_path))
        return proc

    def start_web(self, timeout: float = 30.0) -> None:
        """`runserver --noreload` at PUBLIC_BASE_URL: the sandbox fetches image URLs from it."""
        port = self.web_url.rsplit(":", 1)[1]
        proc = self._spawn("web", [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"runserver exited:\n{self.tail('web')}")
            try:
                if requests.get(f"{self.web_url}/healthz", timeout=2).status_code == 200:
                    self.log(f"web (runserver) at {self.web_url}")
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"runserver did not answer /healthz in {timeout:.0f} s:\n{self.tail('web')}")

    # --- processes as the Procfile starts them ------------------------------------------------------------
    def procfile(self) -> dict[str, str]:
        """The repository's Procfile: entry name → command line, as `make run` (honcho) reads it."""
        entries = {}
        for line in (ROOT / "Procfile").read_text().splitlines():
            name, colon, command = line.partition(":")
            if colon and name.strip() and not name.lstrip().startswith("#"):
                entries[name.strip()] = command.strip()
        return entries

    def celery_argv(self, command: str, *, node: str = "") -> list[str]:
        """A Procfile's Celery line as this installation runs it: this interpreter, the bench's app (SocialHub's
        app plus the ready signal), `${NAME:-default}` filled from the bench's environment, the node name `node`,
        WARNING logs, and for beat its schedule file in the temp dir; workers do without gossip, mingle and
        heartbeats (nothing in the bench asks other nodes anything)."""
        args = shlex.split(_expand(command, self.process_env()))
        if not args or Path(args[0]).name != "celery":
            raise RuntimeError(f"not a celery command line: {command}")
        args = args[1:]
        if not _replace_option(args, ("-A", "--app"), "bench.worker"):
            args[:0] = ["-A", "bench.worker"]
        if not _replace_option(args, ("-l", "--loglevel"), "WARNING"):
            args += ["--loglevel", "WARNING"]
        if "beat" in args:
            schedule = str(self.tmp / "celerybeat-schedule")
            if not _replace_option(args, ("-s", "--schedule"), schedule):
                args += ["--schedule", schedule]
        elif "worker" in args:
            if node and not _replace_option(args, ("-n", "--hostname"), node):
                args += ["-n", node]
            args += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        return [sys.executable, "-m", "celery", *args]

    def start_procfile(self, copies: dict[str, int], *, timeout: float = 60.0) -> None:
        """Start `copies[name]` processes of each Procfile entry named there (Celery workers and beat), each
        worker under its own node name (`worker@%h` → `worker1@%h`, `worker2@%h`), and wait until every worker
        consumes (it touches a file named by its pid in BENCH_READY_DIR) and beat is still alive after a second."""
        entries = self.procfile()
        ready = Path(self.env["BENCH_READY_DIR"])
        ready.mkdir(parents=True, exist_ok=True)
        workers: list[tuple[str, subprocess.Popen]] = []
        beats: list[tuple[str, subprocess.Popen]] = []
        for entry, count in copies.items():
            if count <= 0:
                continue
            if entry not in entries:
                raise RuntimeError(f"the Procfile has no {entry!r} entry (it has {', '.join(entries)})")
            for number in range(1, count + 1):
                name = entry if count == 1 else f"{entry}{number}"
                argv = self.celery_argv(entries[entry], node=_numbered_node(entries[entry], entry, number))
                proc = self._spawn(name, argv)
                (beats if "beat" in argv else workers).append((name, proc))
                self.log(f"{name}: celery {' '.join(argv[3:])}")
        deadline = time.monotonic() + timeout
        waiting = list(workers)
        while waiting:
            for name, proc in waiting + beats:
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited:\n{self.tail(name)}")
            waiting = [(name, proc) for name, proc in waiting if not (ready / str(proc.pid)).exists()]
            if waiting and time.monotonic() > deadline:
                names = ", ".join(name for name, _proc in waiting)
                raise RuntimeError(f"{names} not ready after {timeout:.0f} s:\n{self.tail(waiting[0][0])}")
            time.sleep(0.2)
        if beats:
            time.sleep(1.0)
            for name, proc in beats:
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited:\n{self.tail(name)}")
        self.log(f"{len(workers)} Celery worker process(es) ready, {len(beats)} beat")

    def tail(self, name: str, lines: int = 30) -> str:
        for proc_name, _proc, log in self.processes:
            if proc_name == name and log.exists():
                return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def log_lines(self, pattern: str) -> list[str]:
        """Lines of every process log containing `pattern` (errors the processes reported)."""
        found = []
        for name, _proc, log in self.processes:
            if log.exists():
                found += [f"{name}: {line}" for line in log.read_text(errors="replace").splitlines() if pattern in line]
        return found


def _expand(command: str, environ: dict[str, str]) -> str:
    """`${NAME:-default}`, `${NAME}` and `$NAME` as the shell (honcho) expands them."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        found = environ.get(name, "")
        if match.group(2) is not None and not found:
            return match.group(2)
        return found

    return re.sub(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)", value, command)


def _replace_option(args: list[str], names: tuple[str, ...], value: str) -> bool:
    """Set the option spelled any of `names` (`-n x`, `--hostname x`, `--hostname=x`) to `value`, in place."""
    found = False
    for index, arg in enumerate(args):
        if arg in names and index + 1 < len(args):
            args[index + 1] = value
            found = True
        elif any(arg.startswith(f"{name}=") for name in names if name.startswith("--")):
            args[index] = f"{arg.split('=', 1)[0]}={value}"
            found = True
    return found


def _numbered_node(command: str, entry: str, number: int) -> str:
    """`-n publisher@%h` → `publisher2@%h`: every copy of an entry gets its own node name."""
    match = re.search(r"(?:-n|--hostname)[ =](\S+)", command)
    name, _at, host = (match.group(1) if match else f"{entry}@%h").partition("@")
    return f"{name}{number}@{host or '%h'}"


def _stop(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def _redis_flush() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
