"""Every entry of ministack_divergences still diverges: its probe says so. (A test marked
``ministack_diverges`` with a name not on the list fails collection, in conftest.)"""

from __future__ import annotations

import pytest
from ministack_divergences import BY_NAME, DIVERGENCES, Divergence, MiniStack, probed

pytestmark = pytest.mark.e2e


@pytest.mark.waits("the schedule probes wait out MiniStack's scheduler ticks")
@pytest.mark.parametrize("divergence", DIVERGENCES, ids=lambda divergence: divergence.name)
def test_a_known_divergence_still_diverges(ministack: MiniStack, divergence: Divergence) -> None:
    found = probed(ministack, divergence)
    print(f"{divergence.name}: {found.evidence}")
    assert found.diverges, (f"MiniStack no longer diverges ({divergence.name}): {found.evidence}. Drop the entry "
                            f"from ministack_divergences, and what the check does instead: {divergence.instead}")


def test_each_entry_says_why_and_what_the_check_does_instead() -> None:
    assert len(BY_NAME) == len(DIVERGENCES)
    for divergence in DIVERGENCES:
        assert divergence.differs.strip() and divergence.instead.strip(), divergence.name

