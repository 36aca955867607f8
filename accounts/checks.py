"""System checks run by every management command (and `check --deploy`): settings that would break later,
reported at start-up instead."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import CheckMessage, Error

GENERATE_KEY = 'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
KEYS_HINT = (
    f"Generate a key with: {GENERATE_KEY}. Set TOKEN_ENCRYPTION_KEYS to a comma-separated list, newest key first. "
    "When adding a new key, keep the old ones after it until `manage.py rotate_token_keys` has run."
)


def token_encryption_keys_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """TOKEN_ENCRYPTION_KEYS must hold valid Fernet keys: without them no channel token can be stored or read.
    The keys themselves never appear in a message, only their position."""
    if settings.DEBUG:
        return []
    keys = list(getattr(settings, "TOKEN_ENCRYPTION_KEYS", None) or [])
    if not any(str(key).strip() for key in keys):
        return [
            Error(
                "TOKEN_ENCRYPTION_KEYS is empty: channel access tokens cannot be stored or read.",
                hint=KEYS_HINT,
                id="socialhub.E001",
            )
        ]
    errors: list[CheckMessage] = []
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(str(key).strip().encode())
        except (ValueError, TypeError):
            errors.append(
                Error(
                    f"Key number {position} of {len(keys)} in TOKEN_ENCRYPTION_KEYS is not a valid Fernet key "
                    "(32 url-safe base64-encoded bytes).",
                    hint=KEYS_HINT,
                    id="socialhub.E002",
                )
            )
    return errors
