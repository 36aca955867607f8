"""Logging filter that keeps tokens and secrets out of every log line."""

from __future__ import annotations

import logging


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # Imported here: logging is configured before Django's apps are ready.
        from socialhub.graph.redaction import redact_text

        message = record.getMessage()
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
