"""Logging for production: one line per event (a request error included), and no tokens or secrets."""

from __future__ import annotations

import logging
import traceback


def _redact(text: str) -> str:
    # Imported here: logging is configured before Django's apps are ready.
    from socialhub.graph.redaction import redact_text

    return redact_text(text)


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class OneLineFormatter(logging.Formatter):
    """A traceback becomes `exc=Type: message at file:line in function` on the same line, so each event is one
    line for log shippers and nothing secret hides in a multi-line dump."""

    def formatException(self, ei) -> str:  # type: ignore[no-untyped-def]  # noqa: N802 - logging's API
        exc_type, exc, tb = ei
        where = ""
        frames = traceback.extract_tb(tb) if tb else []
        if frames:
            last = frames[-1]
            where = f" at {last.filename}:{last.lineno} in {last.name}"
        name = exc_type.__name__ if exc_type else "Exception"
        return _redact(f"exc={name}: {exc}{where}")

    def format(self, record: logging.LogRecord) -> str:
        return _redact(super().format(record)).replace("\n", " | ")
