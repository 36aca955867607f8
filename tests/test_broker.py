"""The `filesystem://` broker of `make run`: a message is never taken before it is whole, nor by two consumers."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from queue import Empty

import pytest
from kombu import Connection

from socialhub import broker
from tests.test_settings_isolation import base_environment, load


def connection(folder: Path) -> Connection:
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "control_folder": str(folder)}
    return Connection("filesystem://", transport="socialhub.broker:Transport", transport_options=options)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "queue"
    path.mkdir()
    return path


def test_the_settings_use_it_for_the_filesystem_broker():
    env = {**base_environment(), "SECRET_KEY": "k" * 50, "SOCIALHUB_ENV_FILE": ""}
    on_disk = load("socialhub.settings", env={**env, "CELERY_BROKER_URL": "filesystem://"})
    assert on_disk["CELERY_BROKER_TRANSPORT"] == repr("socialhub.broker:Transport")
    on_redis = load("socialhub.settings", env={**env, "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0"})
    assert "CELERY_BROKER_TRANSPORT" not in on_redis  # Redis keeps kombu's own transport


def test_a_message_is_not_in_the_queue_until_it_is_written_whole(folder, monkeypatch):
    seen_while_writing: list[str] = []
    real_dumps = broker.dumps

    def dumps(payload):  # runs while the message is being written
        seen_while_writing.extend(name for name in os.listdir(folder) if name.endswith(".msg"))
        return real_dumps(payload)

    monkeypatch.setattr(broker, "dumps", dumps)
    with connection(folder) as conn:
        queue = conn.SimpleQueue("publish")
        queue.put({"delivery": 1})
        assert seen_while_writing == []  # a consumer listing the folder then would have found nothing to take
        assert queue.get(timeout=1).payload == {"delivery": 1}
        queue.close()


def test_every_message_reaches_exactly_one_of_several_consumers(folder):
    """Four senders and three takers on one queue folder at once, as the workers of `make run` are."""
    received: list[int] = []
    lock = threading.Lock()
    done = threading.Event()

    def produce(numbers: range) -> None:
        with connection(folder) as conn:
            for n in numbers:
                conn.default_channel._put("publish", {"n": n})

    def consume() -> None:
        with connection(folder) as conn:
            channel = conn.default_channel
            while True:
                try:
                    payload = channel._get("publish")
                except Empty:
                    if done.is_set():
                        return
                    continue
                with lock:
                    received.append(payload["n"])

    consumers = [threading.Thread(target=consume) for _ in range(3)]
    producers = [threading.Thread(target=produce, args=(range(i, 200, 4),)) for i in range(4)]
    for thread in consumers + producers:
        thread.start()
    for thread in producers:
        thread.join()
    done.set()
    for thread in consumers:
        thread.join(timeout=30)
    assert sorted(received) == list(range(200))  # every message once, each one whole (it decoded)
    assert not [name for name in os.listdir(folder) if name.endswith((".msg", ".part"))]
