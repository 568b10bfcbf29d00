"""Drift that works: the read-only CI previewer may read every kind of AWS resource the stacks own (the services
of their resource types), so `pulumi preview --refresh` does not stop on AccessDenied."""

from __future__ import annotations

import pytest
from mlops_platform.components.access import PREVIEW_READ_ACTIONS

from tests.conftest import STACKS, plan_for

IAM_PREFIXES = {
    # pulumi-aws module -> the IAM service prefixes its resources are read with
    "appautoscaling": {"application-autoscaling"},
    "cloudwatch": {"cloudwatch", "logs", "events"},
    "vpc": {"ec2"},
    "cloudcontrol": {"cloudformation"},  # the Cloud Control API's actions carry the cloudformation prefix
}


@pytest.mark.parametrize("stack", STACKS)
def test_the_previewer_reads_every_service_the_stack_owns(stack):
    readable = {action.split(":")[0] for action in PREVIEW_READ_ACTIONS}
    modules = {r.type.split(":")[1].split("/")[0] for r in plan_for(stack).resources if r.type.startswith("aws:")}
    needed = {prefix for module in modules for prefix in IAM_PREFIXES.get(module, {module})}
    assert sorted(needed - readable) == []
    assert not [a for a in PREVIEW_READ_ACTIONS if a.split(":")[1].startswith(("Put", "Create", "Delete", "Update"))]
