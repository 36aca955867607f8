"""With DEBUG off and the documented production variables set, `check --deploy` is clean."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x7Kq9pLmN2vR8sT4wY6zA1bC3dE5fG7hJ9kL0mN2pQ4rS6tU8vW0xY2zA4bC6dE8",
    "ALLOWED_HOSTS": "socialhub.example.com",
    "PUBLIC_BASE_URL": "https://socialhub.example.com",
    "TOKEN_ENCRYPTION_KEYS": "dGVzdC1rZXktZm9yLXRoZS1zdWl0ZS1vbmx5LTAxMjM=",
    "DATABASE_URL": "sqlite:////tmp/socialhub-deploy-check.sqlite3",
    "CACHE_URL": "locmemcache://",
}


def run_check(extra: dict[str, str]) -> subprocess.CompletedProcess:
    # A clean environment: only what a production host would set.
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "SOCIALHUB_ENV_FILE": ""}
    env.update({"DJANGO_SETTINGS_MODULE": "socialhub.settings", **PRODUCTION_ENV, **extra})
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.no_sandbox
def test_production_settings_pass_check_deploy():
    result = run_check({})
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.no_sandbox
def test_check_deploy_fails_on_weak_settings():
    result = run_check({"SECURE_SSL_REDIRECT": "false", "SECURE_HSTS_SECONDS": "0"})
    assert result.returncode != 0
    assert "security.W008" in result.stderr + result.stdout


@pytest.mark.no_sandbox
def test_missing_secret_key_fails_loudly():
    result = run_check({"SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.no_sandbox
def test_unusable_token_keys_fail_check_deploy():
    result = run_check({"TOKEN_ENCRYPTION_KEYS": "not-a-fernet-key"})
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "socialhub.E002" in output and "not-a-fernet-key" not in output
    result = run_check({"TOKEN_ENCRYPTION_KEYS": ""})
    assert result.returncode != 0
    assert "socialhub.E001" in result.stdout + result.stderr
