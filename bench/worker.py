"""Celery entry point for benchmark workers and beat: SocialHub's app, plus a file per worker process (named by
its pid) once it is ready, so the benchmark starts its clock only when every worker consumes."""

import os
from pathlib import Path

from celery.signals import worker_ready

from socialhub.celery import app

__all__ = ["app"]


@worker_ready.connect
def _mark_ready(**_: object) -> None:
    folder = os.environ.get("BENCH_READY_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / str(os.getpid())).touch()
