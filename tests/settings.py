"""Settings for the test suite: the real settings module, fed by this file alone.

Neither a developer's `.env` (which `make run` writes) nor variables exported in the shell change a test's
outcome. The only values that pass through are DATABASE_URL and CELERY_BROKER_URL, the documented switch to
PostgreSQL and Redis. Tests that need another value set it themselves (pytest-django's `settings` fixture).
"""

import os
import re
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PASS_THROUGH = ("DATABASE_URL", "CELERY_BROKER_URL")

TEST_ENVIRONMENT = {
    "DEBUG": "false",
    "SECRET_KEY": "test-secret-key-for-the-suite-only-0123456789-abcdefghijklmnop",
    "TOKEN_ENCRYPTION_KEYS": "dGVzdC1rZXktZm9yLXRoZS1zdWl0ZS1vbmx5LTAxMjM=",
    "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "CACHE_URL": "locmemcache://",
    # Sandbox credentials; the suite's fixtures point the Graph URLs at a sandbox started per test worker.
    "META_APP_ID": "1000000000000001",
    "META_APP_SECRET": "sandbox-app-secret",
    "INSTAGRAM_APP_ID": "1000000000000002",
    "INSTAGRAM_APP_SECRET": "sandbox-ig-app-secret",
    "META_WEBHOOK_VERIFY_TOKEN": "sandbox-verify-token",
}


def documented_variables() -> set[str]:
    """Every variable `.env.example` documents; a test keeps it in step with what the settings read."""
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.MULTILINE))


def isolate_environment(environ: os._Environ | dict) -> None:
    for name in list(environ):
        if (name in documented_variables() or name.startswith("SANDBOX_")) and name not in PASS_THROUGH:
            del environ[name]
    environ.update(TEST_ENVIRONMENT)
    environ["SOCIALHUB_ENV_FILE"] = ""  # never read a `.env`


isolate_environment(os.environ)

from socialhub.settings import *  # noqa: E402,F403

if CELERY_BROKER_URL.startswith("filesystem://"):  # noqa: F405
    # Tasks queued by tests must never land in the development queue under var/ for a later `make run` worker.
    CELERY_BROKER_URL = "memory://"
    CELERY_BROKER_TRANSPORT = None

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A test database in a file, as `make run` uses one: WAL and the busy timeout make a Celery worker thread, the
    # live server and the test wait for each other's writes (an in-memory database shares one cache whose table
    # locks fail at once instead of waiting). One file per test run (xdist's run id) and per worker (pytest-django
    # adds `_gw0`…), deleted at the end of the run.
    _run = os.environ.get("PYTEST_XDIST_TESTRUNUID", "serial")
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(tempfile.gettempdir(), f"socialhub-test-{_run}.sqlite3")}  # noqa: F405

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STATIC_ROOT = None  # served from the app folders by whitenoise's finders; no collectstatic in tests
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
ACCOUNT_RATE_LIMITS = False
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
