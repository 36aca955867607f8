"""TOKEN_ENCRYPTION_KEYS is checked at start-up: missing or malformed keys are errors, and no key is printed."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

pytestmark = pytest.mark.no_sandbox

GOOD_KEY = "dGVzdC1rZXktZm9yLXRoZS1zdWl0ZS1vbmx5LTAxMjM="
BAD_KEY = "not-a-fernet-key-but-a-secret-anyway"


def errors(**overrides):
    with override_settings(**overrides):
        return [m for m in run_checks(tags=["security"]) if m.id.startswith("socialhub.")]


def test_valid_keys_pass():
    assert errors(DEBUG=False, TOKEN_ENCRYPTION_KEYS=[GOOD_KEY]) == []


@pytest.mark.parametrize("keys", [[], [""], ["  "]])
def test_missing_keys_are_an_error_with_a_hint(keys):
    (error,) = errors(DEBUG=False, TOKEN_ENCRYPTION_KEYS=keys)
    assert error.id == "socialhub.E001" and error.is_serious()
    assert "Fernet.generate_key()" in error.hint and "newest key first" in error.hint
    assert "rotate_token_keys" in error.hint


def test_each_malformed_key_is_named_by_position_never_printed():
    found = errors(DEBUG=False, TOKEN_ENCRYPTION_KEYS=[GOOD_KEY, BAD_KEY])
    assert [e.id for e in found] == ["socialhub.E002"]
    assert "Key number 2 of 2" in found[0].msg
    found = errors(DEBUG=False, TOKEN_ENCRYPTION_KEYS=[BAD_KEY, GOOD_KEY, "short"])
    assert [e.msg.split(" in ")[0] for e in found] == ["Key number 1 of 3", "Key number 3 of 3"]
    for error in found:
        assert BAD_KEY not in f"{error.msg} {error.hint}" and "short" not in error.msg


def test_debug_mode_is_not_checked():
    assert errors(DEBUG=True, TOKEN_ENCRYPTION_KEYS=[]) == []


@pytest.mark.parametrize("deploy", [False, True])
def test_the_check_command_fails_on_it(deploy):
    args = ["--deploy"] if deploy else []
    with override_settings(DEBUG=False, TOKEN_ENCRYPTION_KEYS=[BAD_KEY]):
        with pytest.raises(SystemCheckError) as raised:
            call_command("check", *args)
    assert "socialhub.E002" in str(raised.value) and BAD_KEY not in str(raised.value)
