from __future__ import annotations

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.django_db, pytest.mark.no_sandbox]


def test_models_and_migrations_agree():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
