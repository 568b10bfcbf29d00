"""Shared fixtures: each stack's plan, recorded once per test session under Pulumi's mocks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mlops_platform.infra.tooling.offline import Plan, PlannedResource, preview_stack

STACKS = ("dev", "staging", "prod")
REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "tests" / "reference"
"""Published schemas the tests check against, vendored from the workplace's shared reference folder (a fresh clone
has no copy of that folder): Pulumi's project-file schema."""

_plans: dict[str, Plan] = {}


def plan_for(stack: str) -> Plan:
    """The stack's plan, computed on first use."""
    if stack not in _plans:
        _plans[stack] = preview_stack(stack)
    return _plans[stack]


@pytest.fixture
def cached_previews(monkeypatch) -> None:
    """`infra.tooling.offline.preview_stack` answered from this session's plans for the checked-in stack files.

    For tests of what the CLI does with a plan (tree, reports, verdicts, cost, exit codes): the programs
    themselves run in the stack tests, once per stack. Another stacks folder or an explicit config still runs
    the program.
    """
    from mlops_platform.infra.tooling import offline

    real = offline.preview_stack

    def preview(stack: str, stacks_dir: Path = offline.STACKS_DIR, config=None) -> Plan:
        if config is None and Path(stacks_dir) == offline.STACKS_DIR and stack in STACKS:
            return plan_for(stack)
        return real(stack, stacks_dir, config)

    monkeypatch.setattr(offline, "preview_stack", preview)


@pytest.fixture(params=STACKS)
def stack_plan(request) -> Plan:
    """Parametrised over dev, staging and prod."""
    return plan_for(request.param)


def policy(resource: PlannedResource, key: str = "policy") -> dict:
    """A resource's IAM/bucket/key policy input, parsed."""
    return json.loads(resource.inputs[key])


def statements(document: dict) -> list[dict]:
    """A policy document's statements as a list."""
    found = document["Statement"]
    return found if isinstance(found, list) else [found]


def as_list(value) -> list:
    """IAM allows a string or a list in Action/Resource."""
    return value if isinstance(value, list) else [value]
