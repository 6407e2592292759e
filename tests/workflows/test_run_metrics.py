"""Workflow runs that reach an outcome are counted for /metrics."""

from __future__ import annotations

import pytest

from metadata.workflows.engine import RUNS_FINISHED
from tests.crm.factories import make_guest
from tests.workflows.conftest import make_workflow, runs_of

pytestmark = pytest.mark.django_db


def test_a_finished_run_is_counted_by_outcome(alpha, commit):
    before = RUNS_FINISHED.labels(status="succeeded")._value.get()
    workflow = make_workflow("count", actions=[{"type": "create_task", "subject": "Hello"}])

    with commit():
        make_guest()

    [run] = runs_of(workflow)
    assert run.status == "succeeded"
    assert RUNS_FINISHED.labels(status="succeeded")._value.get() - before == 1
