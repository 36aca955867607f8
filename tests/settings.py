"""Settings for the test suite: the real settings module, with values the environment may not provide."""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-for-the-suite-only-0123456789-abcdefghijklmnop")
os.environ.setdefault("TOKEN_ENCRYPTION_KEYS", "dGVzdC1rZXktZm9yLXRoZS1zdWl0ZS1vbmx5LTAxMjM=")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SESSION_COOKIE_SECURE", "false")
os.environ.setdefault("CSRF_COOKIE_SECURE", "false")
os.environ.setdefault("CACHE_URL", "locmemcache://")
# Sandbox credentials; the suite's fixtures point the Graph URLs at a sandbox started per test worker.
os.environ.setdefault("META_APP_ID", "1000000000000001")
os.environ.setdefault("META_APP_SECRET", "sandbox-app-secret")
os.environ.setdefault("INSTAGRAM_APP_ID", "1000000000000002")
os.environ.setdefault("INSTAGRAM_APP_SECRET", "sandbox-ig-app-secret")
os.environ.setdefault("META_WEBHOOK_VERIFY_TOKEN", "sandbox-verify-token")

from socialhub.settings import *  # noqa: E402,F403

if CELERY_BROKER_URL.startswith("filesystem://"):  # noqa: F405
    # Tasks queued by tests must never land in the development queue under var/ for a later `make run` worker.
    CELERY_BROKER_URL = "memory://"

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STATIC_ROOT = None  # served from the app folders by whitenoise's finders; no collectstatic in tests
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
ACCOUNT_RATE_LIMITS = False
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
