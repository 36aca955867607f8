"""python -m sandbox --port 8100 --seed 1 --state FILE --webhook-url URL --app-id ID --app-secret S
                     --ig-app-id ID --ig-app-secret S [--host 127.0.0.1] [--activity SECONDS [--activity-burst N]]

Prints exactly one line ``SANDBOX_READY http://HOST:PORT`` once listening. Saves the state to --state
on SIGTERM/SIGINT and on POST /__sandbox__/state/save; loads it at start if the file exists. ``--activity``
(or SANDBOX_ACTIVITY) starts live activity: fans comment on subscribed Pages and accounts every SECONDS.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from werkzeug.serving import WSGIRequestHandler, make_server

from .app import SandboxApp
from .state import Config, State


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass

    def make_environ(self):
        # Meta's upload headers are spelled with underscores (file_size, file_url: seed 003); werkzeug drops
        # such headers, so they are put back under their CGI names (HTTP_FILE_SIZE, HTTP_FILE_URL).
        environ = super().make_environ()
        for key, value in self.headers.items():
            if "_" in key:
                environ.setdefault("HTTP_" + key.upper().replace("-", "_"), value.replace("\r\n", ""))
        return environ

    def log(self, type, message, *args):  # noqa: A002 - werkzeug's signature
        if type == "error" and os.environ.get("SANDBOX_DEBUG"):
            super().log(type, message, *args)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m sandbox", description="Meta Graph API sandbox")
    p.add_argument("--port", type=int, default=int(os.environ.get("SANDBOX_PORT", 8100)))
    p.add_argument("--host", default=os.environ.get("SANDBOX_HOST", "127.0.0.1"))
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--state", default=None)
    p.add_argument("--webhook-url", default=None)
    p.add_argument("--app-id", default=None)
    p.add_argument("--app-secret", default=None)
    p.add_argument("--ig-app-id", default=None)
    p.add_argument("--ig-app-secret", default=None)
    p.add_argument("--activity", type=float, default=float(os.environ.get("SANDBOX_ACTIVITY") or 0))
    p.add_argument("--activity-burst", type=int, default=int(os.environ.get("SANDBOX_ACTIVITY_BURST") or 1))
    a = p.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    config = Config(
        a.app_id,
        a.app_secret,
        a.ig_app_id,
        a.ig_app_secret,
        a.webhook_url,
        a.seed if a.seed is not None else int(os.environ.get("SANDBOX_SEED", 1)),
        a.state,
    )
    state = State(config)
    state.seed()
    if config.state_file and os.path.exists(config.state_file):
        state.load(config.state_file)
    server = make_server(a.host, a.port, SandboxApp(state), threaded=True, request_handler=QuietHandler)
    server.daemon_threads = True
    stopping = threading.Event()

    def stop(signum, frame):
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if a.activity > 0:
        from .webhooks import LiveActivity

        state.live = LiveActivity(state, a.activity, a.activity_burst).start()
    print(f"SANDBOX_READY http://{a.host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    finally:
        if config.state_file:
            state.save()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
