from django.apps import AppConfig
from django.core.checks import Tags, register


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and tenancy"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .checks import token_encryption_keys_check

        # Not only under `check --deploy`: `migrate`, `runserver` and `check` report it as well.
        register(token_encryption_keys_check, Tags.security, "socialhub")
