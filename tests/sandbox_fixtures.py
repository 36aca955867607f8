"""pytest plugin: the Graph API sandbox, started once per test worker on a free port.

``sandbox``: session-scoped running SandboxProcess (``.url``, ``.control``).
``sandbox_control``: resets the sandbox before the test and returns its SandboxControl. After the test it
fails the test if any call was unversioned or is one Meta documents as discouraged (the sandbox's marks:
polling a container or video sooner than 5 s after the last poll, ``media_publish`` before FINISHED, a
second ``media_publish`` or ``finish``), unless the test is marked ``sandbox_marks_expected``.
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
def sandbox_control(request, sandbox) -> SandboxControl:
    sandbox.control.reset()
    yield sandbox.control
    if request.node.get_closest_marker("sandbox_marks_expected"):
        return
    problem = marks_problem(sandbox.control)
    if problem:
        pytest.fail(problem, pytrace=False)


def marks_problem(control: SandboxControl) -> str | None:
    """What the sandbox marked since its reset (unversioned calls, calls Meta would flag), or None."""
    marks = control.marks()
    if not marks:
        return None
    lines = "\n".join(f"  {m['level']} {m['kind']}: {m['method']} {m['path']}: {m['detail']}" for m in marks)
    return f"the sandbox marked {len(marks)} call(s) Meta would not serve as meant:\n{lines}"
