"""The e2e suites run against the local stack, or a deployed one (``E2E_BASE_URL``, see
stack_support). What a test needs of its target is a marker, and a test whose target lacks it is
skipped saying why:
    local_stack(reason)           the local stack itself (its banner, state file, demo data, ...)
    deployed_stack(reason)        a deployed stack (``make deploy-check``)
    ministack_diverges(name)      not on MiniStack, for the entry ``name`` of ministack_divergences
and ``waits(reason)`` marks a test that mostly waits on a clock (see below).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pytest
from ministack_divergences import BY_NAME, MiniStack, Probed, prepare
from stack_support import DEPLOYED, DeployedStack

MINISTACK_URL = os.environ.get("E2E_MINISTACK_URL", "")  # set when the deployed stack is on MiniStack


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if DEPLOYED:
        # The files of tests that mostly wait on a clock first: under pytest-xdist (`make
        # deploy-check`) they start at once, and their waits overlap the rest.
        waiting = {item.path for item in items if item.get_closest_marker("waits")}
        items.sort(key=lambda item: item.path not in waiting)
    for item in items:
        if (marker := item.get_closest_marker("local_stack")) and DEPLOYED:
            item.add_marker(pytest.mark.skip(reason=f"needs the local stack: {marker.args[0]}"))
        if (marker := item.get_closest_marker("deployed_stack")) and not DEPLOYED:
            item.add_marker(pytest.mark.skip(reason=f"needs a deployed stack (make deploy-check): {marker.args[0]}"))
        if marker := item.get_closest_marker("ministack_diverges"):
            divergence = BY_NAME[marker.args[0]]  # a name not on the list is an error
            if MINISTACK_URL:
                reason = f"MiniStack diverges ({divergence.name}): {divergence.differs}"
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def ministack() -> Iterator[MiniStack]:
    """The deployed stack's MiniStack, probed and prepared (ministack_divergences.prepare) once
    for the whole run, also when pytest-xdist's workers share it: the first prepares it under a
    lock and records what it probed, the others read that."""
    if not (DEPLOYED and MINISTACK_URL):
        pytest.skip("the deployed stack is not on MiniStack (E2E_MINISTACK_URL)")
    emulator = MiniStack(MINISTACK_URL, DeployedStack.from_environment())
    deployment = hashlib.sha256(f"{MINISTACK_URL} {emulator.stack.base_url} {emulator.stack.token}".encode())
    record = Path(tempfile.gettempdir()) / f"deploy-check-{deployment.hexdigest()[:16]}.json"
    with record.with_suffix(".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if record.exists():
            emulator.recorded = {name: Probed(**found) for name, found in json.loads(record.read_text()).items()}
        else:
            prepare(emulator)
            record.write_text(json.dumps({name: asdict(found) for name, found in emulator.recorded.items()}))
    yield emulator


@pytest.fixture(scope="session")
def deployed_stack(request: pytest.FixtureRequest) -> DeployedStack:
    """The deployed stack; on MiniStack, once its divergences are probed and worked around."""
    if MINISTACK_URL:
        return request.getfixturevalue("ministack").stack  # type: ignore[no-any-return]
    return DeployedStack.from_environment()
