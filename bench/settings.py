"""Settings for benchmark processes: the real settings, plus what the environment cannot set.

- The filesystem broker's folders are fixed under `var/broker` by `socialhub.settings`; a benchmark must not
  share (or fill) the development queue, so `BENCH_BROKER_DIR` moves them into the benchmark's temp dir (the
  other transport options, such as how often the folder is polled, stay as production sets them).
- With DEBUG off the static storage expects a `collectstatic` manifest; pages rendered by the benchmark (the
  connect flow, the list pages) use the plain storage instead, as the test settings do.
"""

import os

from socialhub.settings import *  # noqa: F403
from socialhub.settings import CELERY_BROKER_TRANSPORT_OPTIONS, CELERY_BROKER_URL, STORAGES

_broker_dir = os.environ.get("BENCH_BROKER_DIR")
if _broker_dir and CELERY_BROKER_URL.startswith("filesystem://"):
    _queue = os.path.join(_broker_dir, "queue")
    _control = os.path.join(_broker_dir, "control")
    for _folder in (_queue, _control):
        os.makedirs(_folder, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,
        "data_folder_in": _queue,
        "data_folder_out": _queue,
        "control_folder": _control,
    }

STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
