"""pytest plugin: the Graph API sandbox, started once per test worker on a free port.

``sandbox``: session-scoped running SandboxProcess (``.url``, ``.control``).
``sandbox_control``: resets the sandbox before the test and returns its SandboxControl.
"""

from __future__ import annotations

import pytest

from sandbox.client import SandboxControl, SandboxProcess


@pytest.fixture(scope="session")
def sandbox():
    proc = SandboxProcess.start(port=0, seed=1)
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def sandbox_control(sandbox) -> SandboxControl:
    sandbox.control.reset()
    return sandbox.control
