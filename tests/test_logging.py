from __future__ import annotations

import logging

import pytest

from socialhub.logging import OneLineFormatter, RedactSecretsFilter

pytestmark = pytest.mark.no_sandbox


def test_an_error_with_its_traceback_is_one_line_without_secrets():
    formatter = OneLineFormatter("%(levelname)s %(name)s %(message)s")
    try:
        raise RuntimeError("GET https://graph.facebook.com/v25.0/me?access_token=EAAGsecret123 failed")
    except RuntimeError:
        record = logging.getLogger("django.request").makeRecord(
            "django.request",
            logging.ERROR,
            __file__,
            1,
            "Internal Server Error: %s",
            ("/w/x/?code=AQxyz",),
            exc_info=__import__("sys").exc_info(),
        )
    RedactSecretsFilter().filter(record)
    line = formatter.format(record)
    assert "\n" not in line
    assert "exc=RuntimeError" in line and "test_logging.py" in line
    assert "EAAGsecret123" not in line and "AQxyz" not in line
