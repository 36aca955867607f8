"""The suite's settings come from tests/settings.py alone: a developer's `.env` (the one `make run` writes, or
any other) and variables exported in the shell change nothing, except DATABASE_URL and CELERY_BROKER_URL."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.settings import PASS_THROUGH, ROOT, documented_variables

pytestmark = pytest.mark.no_sandbox

DUMP = """
import importlib, json, sys
module = importlib.import_module(sys.argv[1])
print(json.dumps({k: repr(getattr(module, k)) for k in dir(module) if k.isupper()}))
"""


def hostile_value(name: str, example: str) -> str:
    """A value for `name` that differs from both the example and the default, and still parses."""
    special = {
        "DATABASE_URL": "sqlite:////tmp/hostile-socialhub.sqlite3",
        "CELERY_BROKER_URL": "redis://hostile.invalid:6379/9",
        "CACHE_URL": "dummycache://",
        "EMAIL_URL": "smtp://hostile.invalid:2525",
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "LOG_LEVEL": "DEBUG",
        "ACCOUNT_EMAIL_VERIFICATION": "none",
        "META_GRAPH_VERSION": "v19.0",
        "ALLOWED_HOSTS": "hostile.invalid",
        "CSRF_TRUSTED_ORIGINS": "https://hostile.invalid",
        "MEDIA_ROOT": "/tmp/hostile-media",
        "SIGNUP_POLICY": "open",
    }
    if name in special:
        return special[name]
    if example.lower() in ("true", "false"):
        return "false" if example.lower() == "true" else "true"
    if example.isdigit():
        return str(int(example) + 7)
    if name.endswith("_URL") or example.startswith("http"):
        return "https://hostile.invalid"
    return f"hostile-{name.lower()}"


def hostile_environment() -> dict[str, str]:
    text = (ROOT / ".env.example").read_text()
    examples = dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", text, re.MULTILINE))
    return {name: hostile_value(name, examples.get(name, "")) for name in documented_variables()}


def load(module: str, *, env: dict[str, str]) -> dict[str, str]:
    result = subprocess.run(
        [sys.executable, "-c", DUMP, module], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def base_environment() -> dict[str, str]:
    keep = {"PATH", "HOME", "PYTHONPATH", "LANG", *PASS_THROUGH}
    return {k: v for k, v in os.environ.items() if k in keep}


@pytest.fixture
def hostile_env_file(tmp_path: Path) -> Path:
    path = tmp_path / ".env"
    path.write_text("".join(f"{k}={v}\n" for k, v in sorted(hostile_environment().items())))
    return path


def test_every_setting_read_from_the_environment_is_documented():
    source = (ROOT / "socialhub" / "settings.py").read_text()
    read = set(re.findall(r'env\.\w+\(\s*"([A-Z][A-Z0-9_]*)"', source)) - {"SOCIALHUB_ENV_FILE"}
    assert read, "no environment reads found; the pattern above is out of date"
    assert read <= documented_variables(), f"undocumented in .env.example: {sorted(read - documented_variables())}"


def test_the_hostile_file_does_change_the_production_settings(hostile_env_file):
    """Guards the test below: the same file read by the production settings changes what it should."""
    clean = load("socialhub.settings", env={**base_environment(), "SECRET_KEY": "k" * 50, "SOCIALHUB_ENV_FILE": ""})
    hostile = load("socialhub.settings", env={**base_environment(), "SOCIALHUB_ENV_FILE": str(hostile_env_file)})
    for name in ("ACCOUNT_EMAIL_VERIFICATION", "CACHES", "META_GRAPH_URL", "DEBUG", "PUBLISH_MAX_ATTEMPTS"):
        assert clean[name] != hostile[name], name


def test_neither_a_dot_env_nor_the_shell_changes_the_test_settings(hostile_env_file):
    expected = load("tests.settings", env=base_environment())
    shell = {k: v for k, v in hostile_environment().items() if k not in PASS_THROUGH}
    hostile = load(
        "tests.settings",
        env={**base_environment(), **shell, "SOCIALHUB_ENV_FILE": str(hostile_env_file), "SANDBOX_ANCHOR": "1"},
    )
    changed = {k for k in expected.keys() | hostile.keys() if expected.get(k) != hostile.get(k)}
    assert not changed, {k: (expected.get(k), hostile.get(k)) for k in sorted(changed)}
    assert expected["ACCOUNT_EMAIL_VERIFICATION"] == "'mandatory'"


def test_a_dot_env_beside_manage_py_is_not_read_by_the_suite():
    """`make run` writes `.env` beside manage.py; the suite's process sees none of its values."""
    from django.conf import settings

    assert settings.ENV_FILE == ""
    assert settings.ACCOUNT_EMAIL_VERIFICATION == "mandatory"
    assert settings.DEBUG is False
