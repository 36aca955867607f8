"""Encryption of Meta access tokens at rest: MultiFernet over TOKEN_ENCRYPTION_KEYS (newest key first).

A missing or wrong key raises; nothing here ever hands back ciphertext in place of a token."""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


class TokenDecryptionError(Exception):
    """The stored token cannot be decrypted with any configured key."""


class TokenKeysUnusable(ImproperlyConfigured, TokenDecryptionError):
    """TOKEN_ENCRYPTION_KEYS is empty or holds a malformed key, so no stored token can be read either."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise TokenKeysUnusable("TOKEN_ENCRYPTION_KEYS is empty: tokens cannot be encrypted or read.")
    try:
        return MultiFernet([Fernet(key.strip().encode()) for key in keys])
    except ValueError as exc:
        raise TokenKeysUnusable(f"TOKEN_ENCRYPTION_KEYS holds an invalid Fernet key: {exc}") from None


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.TOKEN_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(value: str) -> str:
    try:
        return fernet().decrypt(value.encode()).decode()
    except InvalidToken:
        raise TokenDecryptionError(
            "A stored token cannot be decrypted with TOKEN_ENCRYPTION_KEYS: was a key removed or changed?"
        ) from None


def rotate(value: str) -> str:
    """Re-encrypt with the newest key (what `manage.py rotate_token_keys` does to every stored token)."""
    try:
        return fernet().rotate(value.encode()).decode()
    except InvalidToken:
        raise TokenDecryptionError("A stored token cannot be decrypted with TOKEN_ENCRYPTION_KEYS.") from None


class EncryptedTextField(models.TextField):
    """A text column stored encrypted. Never filter or order by it: the ciphertext differs on every save."""

    def get_prep_value(self, value: object) -> object:
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(str(value))

    def from_db_value(self, value: str | None, expression: object, connection: object) -> str | None:
        if value in (None, ""):
            return value
        return decrypt(value)


def encrypted_field_names(model: type[models.Model], *, prefix: str = "") -> list[str]:
    """The model's encrypted columns, for `.defer()`: a page that shows no token should not decrypt one, and then
    still opens when TOKEN_ENCRYPTION_KEYS cannot read the stored tokens. `prefix` as in `channel__`."""
    return [f"{prefix}{field.name}" for field in model._meta.concrete_fields if isinstance(field, EncryptedTextField)]
