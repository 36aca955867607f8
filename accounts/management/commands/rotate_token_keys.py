"""Re-encrypt every stored token with the newest key of TOKEN_ENCRYPTION_KEYS."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from accounts.crypto import rotate
from accounts.models import Channel, PendingConnection


class Command(BaseCommand):
    help = (
        "Re-encrypt all stored access tokens with the first key of TOKEN_ENCRYPTION_KEYS. Put the new key first, "
        "keep the old ones after it, run this, then remove the old keys."
    )

    def handle(self, *args: object, **options: object) -> str:
        counts = {}
        for model, field in ((Channel, "access_token"), (PendingConnection, "user_token")):
            column = model._meta.get_field(field).column
            table = model._meta.db_table
            rotated = 0
            with transaction.atomic():
                # Read the raw ciphertext: the field would decrypt it, and we must not re-save plaintext.
                rows = model.objects.exclude(**{field: ""}).values_list("pk", flat=True)
                with connection.cursor() as cursor:
                    for pk in rows.iterator():
                        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
                        (ciphertext,) = cursor.fetchone()
                        if not ciphertext:
                            continue
                        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [rotate(ciphertext), pk])  # noqa: S608
                        rotated += 1
            counts[model.__name__] = rotated
        return ", ".join(f"{name}: {n} token(s) re-encrypted" for name, n in counts.items())
