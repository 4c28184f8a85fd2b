"""infra/, the whole root module, applied by Terraform to an empty endpoint of its own (moto as
the stack runs it), found with nothing left to change, then destroyed. It runs in the background
from the start of the session (see `background_runs` in conftest.py); this test reads its outcome."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


@pytest.mark.timeout(1200)
def test_the_whole_root_applies_to_a_fresh_endpoint_plans_no_change_and_destroys(fresh_endpoint_run):
    outcome = fresh_endpoint_run.result(timeout=1100)
    assert not outcome.error, outcome.error
    assert outcome.applied >= 54, outcome  # everything infra/ declares (more once it has more modules)
    assert outcome.plan_exit == 0, outcome.plan
    assert outcome.destroyed == outcome.applied and outcome.left == 0, outcome
