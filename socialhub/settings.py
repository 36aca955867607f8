"""SocialHub settings. Every value comes from the environment (or an optional `.env` file); `.env.example`
lists each variable with its meaning. Development defaults keep `make run` zero-config; production values
are required where a default would be unsafe."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from socialhub.content_policy import content_security_policy, s3_origins

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# Values come from the process environment first, then from `.env` beside manage.py. SOCIALHUB_ENV_FILE names
# another file, or none when empty: the test suite sets it empty so a developer's `.env` never reaches a test.
ENV_FILE = env.str("SOCIALHUB_ENV_FILE", default=str(BASE_DIR / ".env"))
if ENV_FILE:
    environ.Env.read_env(ENV_FILE, overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (see .env.example).")
    SECRET_KEY = "insecure-development-key-only-for-debug-mode-0123456789-abcdefghij"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[PUBLIC_BASE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.mfa",
    "allauth.socialaccount.providers.facebook",
    "allauth.socialaccount.providers.instagram",
    "django_htmx",
    "template_partials",
    "socialhub.graph",
    "accounts",
    "publishing",
    "notifications",
    "inbox",
    "analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "socialhub.urls"
WSGI_APPLICATION = "socialhub.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    },
]

# --- Data ---------------------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'socialhub.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web process, the worker and beat share one SQLite file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media files ---------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Media on S3 (or any S3-compatible store) when a bucket is set: Meta then fetches files by presigned URLs that
# expire after MEDIA_PUBLIC_URL_MAX_AGE. Otherwise files stay under MEDIA_ROOT and go out by signed links and
# resumable uploads (publishing/services/media.py).
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="") or None
    AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="") or None
    AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="") or None
    AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="") or None
    AWS_QUERYSTRING_AUTH = True
    AWS_QUERYSTRING_EXPIRE = env.int("MEDIA_PUBLIC_URL_MAX_AGE", default=24 * 60 * 60)
    AWS_DEFAULT_ACL = None
    AWS_S3_FILE_OVERWRITE = False
STORAGES = {
    "default": {
        "BACKEND": "storages.backends.s3.S3Storage"
        if AWS_STORAGE_BUCKET_NAME
        else "django.core.files.storage.FileSystemStorage"
    },
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Login (django-allauth) ---------------------------------------------------------------------------------
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}  # through an invitation: only the invited address
ACCOUNT_SIGNUP_REDIRECT_URL = "accounts:onboarding"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[SocialHub] "
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "SocialHub"
SOCIALACCOUNT_STORE_TOKENS = False  # client tokens live encrypted on Channel rows, never in allauth's tables
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # a Facebook email never takes over an existing SocialHub login
SOCIALACCOUNT_PROVIDERS: dict = {
    # Sign-in asks only for the person's profile; connecting a client's channels asks for the Page and
    # Instagram permissions (accounts/scopes.py) on top, through the same provider.
    "facebook": {
        "provider_class": "accounts.providers.facebook.provider.MetaFacebookProvider",
        "METHOD": "oauth2",
        "SCOPE": ["email", "public_profile"],
        "VERSION": env.str("META_GRAPH_VERSION", default="v25.0"),
        "APPS": [{"client_id": env.str("META_APP_ID", default=""), "secret": env.str("META_APP_SECRET", default="")}],
    },
    "instagram": {
        "provider_class": "accounts.providers.instagram_login.provider.InstagramLoginProvider",
        "APPS": [
            {
                "client_id": env.str("INSTAGRAM_APP_ID", default=""),
                "secret": env.str("INSTAGRAM_APP_SECRET", default=""),
            }
        ],
    },
}

# --- Email --------------------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# Emails about notifications go out as digests: at most one per person per this many seconds.
NOTIFICATION_DIGEST_SECONDS = env.int("NOTIFICATION_DIGEST_SECONDS", default=300)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="SocialHub <noreply@socialhub.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery -------------------------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "broker" / "queue"
    _control_dir = VAR_DIR / "broker" / "control"
    for _folder in (_queue_dir, _control_dir):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "control_folder": str(_control_dir),
        "polling_interval": 0.2,  # the folder is checked once a second by default, capping a worker at ~1 task/s
    }
    # Kombu's own filesystem transport can hand out a message before it is written, or twice (socialhub/broker.py).
    CELERY_BROKER_TRANSPORT = "socialhub.broker:Transport"
else:
    # Longer than the longest task, so Redis does not hand an unacknowledged upload to a second worker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 60 * 60}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TIMEZONE = "UTC"
# Publishing waits on Meta, not on the CPU: its runs go to a thread-pool worker (`publisher` in the Procfile,
# PUBLISH_WORKER_CONCURRENCY threads) on their own queues. Checks of Meta's processing, wake-ups and the
# dispatcher's tick go to `poll`, which that worker reads in turn with `publish`: they wait for a thread to free
# up, never behind the rest of a burst. Without a worker reading both queues nothing is published.
CELERY_TASK_ROUTES = {
    "publishing.publish_delivery": {"queue": "publish"},
    "publishing.poll_delivery": {"queue": "poll"},
    "publishing.wake_due_deliveries": {"queue": "poll"},
    "publishing.dispatch_due_deliveries": {"queue": "poll"},
    "publishing.sweep_stale_deliveries": {"queue": "poll"},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # workers log through LOGGING: one line per event, secrets removed
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Seconds between polls of every channel's recent comments (webhooks bring them sooner; the poll catches the rest).
INBOX_POLL_SECONDS = env.int("INBOX_POLL_SECONDS", default=300)
# A comment action still pending this long after its last try began lost its task; it is queued again.
INBOX_ACTION_STALE_SECONDS = env.int("INBOX_ACTION_STALE_SECONDS", default=900)
# Days a processed webhook body (what fans wrote, as Meta sent it) is kept for operators before it is deleted.
INBOX_WEBHOOK_KEEP_DAYS = env.int("INBOX_WEBHOOK_KEEP_DAYS", default=7)
# Insights: how often each channel's figures are read from Meta, how far back a new channel is filled, which posts
# keep having their lifetime figures refreshed, and when the agency view calls a channel's sync behind.
ANALYTICS_SYNC_HOURS = env.int("ANALYTICS_SYNC_HOURS", default=6)
ANALYTICS_BACKFILL_DAYS_INSTAGRAM = env.int("ANALYTICS_BACKFILL_DAYS_INSTAGRAM", default=90)
ANALYTICS_BACKFILL_DAYS_PAGE = env.int("ANALYTICS_BACKFILL_DAYS_PAGE", default=730)
ANALYTICS_POST_DAYS = env.int("ANALYTICS_POST_DAYS", default=90)
ANALYTICS_SYNC_BEHIND_HOURS = env.int("ANALYTICS_SYNC_BEHIND_HOURS", default=36)
CELERY_BEAT_SCHEDULE = {
    "prune-graph-calls": {"task": "graph.prune_graph_calls", "schedule": crontab(minute=17, hour=3)},
    "refresh-instagram-tokens": {"task": "accounts.refresh_instagram_tokens", "schedule": crontab(minute=41)},
    "check-channel-tokens": {"task": "accounts.check_channel_tokens", "schedule": crontab(minute=5, hour=4)},
    "dispatch-due-deliveries": {"task": "publishing.dispatch_due_deliveries", "schedule": 60.0},
    "sweep-stale-deliveries": {"task": "publishing.sweep_stale_deliveries", "schedule": 60.0},
    "queue-notification-digests": {"task": "notifications.queue_due_digests", "schedule": 300.0},
    "inbox-poll": {"task": "inbox.poll_channels", "schedule": INBOX_POLL_SECONDS},
    "inbox-sweep-stale-actions": {"task": "inbox.sweep_stale_actions", "schedule": 120.0},
    "inbox-prune-webhook-deliveries": {
        "task": "inbox.prune_webhook_deliveries",
        "schedule": crontab(minute=29, hour=3),
    },
    "analytics-sync": {"task": "analytics.sync_channels", "schedule": 900.0},
    "analytics-send-reports": {"task": "analytics.send_due_reports", "schedule": 900.0},
    "prune-expired-invitations": {
        "task": "accounts.prune_expired_invitations",
        "schedule": crontab(minute=23, hour=3),
    },
}

# --- Meta (Graph API); defaults are Meta's real hosts -------------------------------------------------------
META_GRAPH_URL = env.str("META_GRAPH_URL", default="https://graph.facebook.com").rstrip("/")
META_GRAPH_VERSION = env.str("META_GRAPH_VERSION", default="v25.0")
META_FACEBOOK_URL = env.str("META_FACEBOOK_URL", default="https://www.facebook.com").rstrip("/")
META_RUPLOAD_URL = env.str("META_RUPLOAD_URL", default="https://rupload.facebook.com").rstrip("/")
INSTAGRAM_GRAPH_URL = env.str("INSTAGRAM_GRAPH_URL", default="https://graph.instagram.com").rstrip("/")
INSTAGRAM_API_URL = env.str("INSTAGRAM_API_URL", default="https://api.instagram.com").rstrip("/")
INSTAGRAM_WWW_URL = env.str("INSTAGRAM_WWW_URL", default="https://www.instagram.com").rstrip("/")
META_APP_ID = env.str("META_APP_ID", default="")
META_APP_SECRET = env.str("META_APP_SECRET", default="")
META_LOGIN_CONFIG_ID = env.str("META_LOGIN_CONFIG_ID", default="")
INSTAGRAM_APP_ID = env.str("INSTAGRAM_APP_ID", default="")
INSTAGRAM_APP_SECRET = env.str("INSTAGRAM_APP_SECRET", default="")
META_WEBHOOK_VERIFY_TOKEN = env.str("META_WEBHOOK_VERIFY_TOKEN", default="")
GRAPH_TIMEOUT_READ = env.float("GRAPH_TIMEOUT_READ", default=20.0)
GRAPH_TIMEOUT_UPLOAD = env.float("GRAPH_TIMEOUT_UPLOAD", default=300.0)
GRAPH_CALL_RETENTION_DAYS = env.int("GRAPH_CALL_RETENTION_DAYS", default=30)
# Background work slows down once Meta reports this share (percent) of a rate-limit window as used.
GRAPH_USAGE_SLOWDOWN_PERCENT = env.int("GRAPH_USAGE_SLOWDOWN_PERCENT", default=75)

# --- Publishing ---------------------------------------------------------------------------------------------
# A publishing run holds its delivery this long after each step; a run silent for longer is presumed dead and
# another takes over. Longer than the task time limit, so a slow upload is never presumed dead while it runs.
PUBLISH_LEASE_SECONDS = env.int("PUBLISH_LEASE_SECONDS", default=CELERY_TASK_TIME_LIMIT + 60)
# Give up waiting for Meta to process a video after this many seconds.
PUBLISH_PROCESSING_TIMEOUT = env.int("PUBLISH_PROCESSING_TIMEOUT", default=3600)
# The first check of media handed to Meta waits a typical processing time; later checks come about once a
# minute, as Meta asks (the same status is never read twice within 5 seconds).
PUBLISH_FIRST_POLL_SECONDS = env.float("PUBLISH_FIRST_POLL_SECONDS", default=30.0)
PUBLISH_POLL_SECONDS = env.float("PUBLISH_POLL_SECONDS", default=60.0)
# Attempts at a delivery before it fails for good (errors a retry cannot fix fail at once).
PUBLISH_MAX_ATTEMPTS = env.int("PUBLISH_MAX_ATTEMPTS", default=6)
# Posts due within this many seconds get a wake-up queued for their due second (an ETA task), so they go out on
# time whatever beat's period; the dispatcher tick every minute is the safety net. Keep it above that minute.
PUBLISH_WAKE_AHEAD_SECONDS = env.int("PUBLISH_WAKE_AHEAD_SECONDS", default=150)
# Instagram videos (reels, video stories, carousels with a video) are uploaded and processed this long before
# their time, so only `media_publish` waits for it. A container lives 24 hours; this stays well under that.
PUBLISH_PREPARE_AHEAD_SECONDS = min(env.int("PUBLISH_PREPARE_AHEAD_SECONDS", default=15 * 60), 12 * 60 * 60)
# Runs at once per connected account: one client's burst of posts holds at most this many publishing threads, so
# another client's post due at the same second starts as soon as a thread is free, not after the burst.
PUBLISH_CHANNEL_CONCURRENCY = env.int("PUBLISH_CHANNEL_CONCURRENCY", default=4)
# After Meta answers that a new image is not ready to publish yet, wait this long before asking again.
PUBLISH_NOT_READY_SECONDS = env.float("PUBLISH_NOT_READY_SECONDS", default=5.0)
# Instagram allows a number of API-published posts per account in 24 hours (Meta says how many). SocialHub
# counts its own and asks Meta for the account's usage only once it has published this percent of the limit.
PUBLISH_QUOTA_CHECK_PERCENT = env.int("PUBLISH_QUOTA_CHECK_PERCENT", default=80)
# Lifetime of the signed links through which Meta fetches media stored on this server.
MEDIA_PUBLIC_URL_MAX_AGE = env.int("MEDIA_PUBLIC_URL_MAX_AGE", default=24 * 60 * 60)
# Facebook videos larger than this go up in chunks (resumable upload) instead of one request.
FB_VIDEO_RESUMABLE_THRESHOLD = env.int("FB_VIDEO_RESUMABLE_THRESHOLD", default=50 * 1000 * 1000)

# --- Media uploads ------------------------------------------------------------------------------------------
# Every upload streams to a temporary file through this handler, which stops a file as soon as it passes the
# limit of its kind (sniffed from its first bytes). 0 means Meta's own limit: 8 MB images, 4 GB videos
# (publishing/specs.py UPLOAD_MAX_BYTES); files SocialHub cannot read stop at 1 MB.
FILE_UPLOAD_HANDLERS = ["publishing.uploads.MediaUploadHandler"]
MEDIA_UPLOAD_MAX_IMAGE_BYTES = env.int("MEDIA_UPLOAD_MAX_IMAGE_BYTES", default=0)
MEDIA_UPLOAD_MAX_VIDEO_BYTES = env.int("MEDIA_UPLOAD_MAX_VIDEO_BYTES", default=0)

# --- Tokens at rest -----------------------------------------------------------------------------------------
# Comma-separated Fernet keys, newest first. Encrypting uses the first; decrypting tries each.
TOKEN_ENCRYPTION_KEYS = env.list("TOKEN_ENCRYPTION_KEYS", default=[])
if not TOKEN_ENCRYPTION_KEYS and DEBUG:
    TOKEN_ENCRYPTION_KEYS = ["ZGV2ZWxvcG1lbnQta2V5LW5vdC1mb3ItcHJvZC11c2U="]

# --- Invitations --------------------------------------------------------------------------------------------
INVITATION_LIFETIME = timedelta(days=env.int("INVITATION_LIFETIME_DAYS", default=7))

# --- Sign-up ------------------------------------------------------------------------------------------------
# "open": anyone may create an account. "invitation": only someone who opened a pending invitation link.
SIGNUP_POLICY = env.str("SIGNUP_POLICY", default="open" if DEBUG else "invitation")
if SIGNUP_POLICY not in ("open", "invitation"):
    raise ImproperlyConfigured(
        f"SIGNUP_POLICY must be 'open' or 'invitation', not {SIGNUP_POLICY!r} (see .env.example)."
    )

# --- Security -----------------------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Only SocialHub itself, Meta's consent dialogs (form-action), Meta's picture CDNs and the media bucket (img-src).
CONTENT_SECURITY_POLICY = content_security_policy(
    facebook_url=META_FACEBOOK_URL,
    instagram_www_url=INSTAGRAM_WWW_URL,
    graph_urls=[META_GRAPH_URL, INSTAGRAM_GRAPH_URL],
    media_origins=s3_origins(
        bucket=AWS_STORAGE_BUCKET_NAME, region=AWS_S3_REGION_NAME, endpoint_url=AWS_S3_ENDPOINT_URL
    )
    if AWS_STORAGE_BUCKET_NAME
    else [],
)

# --- Logging: one line per event, no request bodies or query strings with tokens -----------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "socialhub.logging.RedactSecretsFilter"}},
    "formatters": {
        "line": {"()": "socialhub.logging.OneLineFormatter", "format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "line", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
