"""cloudsplaining over every identity policy and boundary of every stack: nothing unexplained, nothing stale."""

from __future__ import annotations

import pytest
from mlops_platform.policies.escalation_scan import EXPLAINED, Finding, explanation, scan, unexplained

from tests.conftest import STACKS, plan_for


@pytest.mark.parametrize("stack", STACKS)
def test_no_unexplained_finding(stack):
    assert unexplained(plan_for(stack).to_dict()) == []


def test_no_privilege_escalation_in_the_standard_pass():
    for stack in STACKS:
        found = [f for f in scan(plan_for(stack).to_dict()) if f.kind == "privilege-escalation" and not f.strict]
        assert found == [], stack


def test_every_explanation_is_still_needed():
    used = {
        key
        for stack in STACKS
        for f in scan(plan_for(stack).to_dict())
        for key in ((f.policy, f.kind, f.item), ("*", f.kind, f.item))
        if key in EXPLAINED
    }
    assert set(EXPLAINED) == used


def test_the_scan_finds_a_textbook_escalation():
    plan = {"resources": [{"type": "aws:iam/rolePolicy:RolePolicy", "name": "rogue", "inputs": {"policy": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["iam:PassRole", "ec2:RunInstances"], "Resource": "*"}],
    }}}]}  # fmt: skip
    found = scan(plan)
    assert Finding("rogue", "privilege-escalation", "CreateEC2WithExistingIP", False) in found
    assert all(explanation(f) is None for f in found if f.kind == "privilege-escalation")
