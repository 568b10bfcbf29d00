"""People get view-only Kubernetes access: no persona role holds an EKS admin, admin-view (Secrets) or edit policy."""

from __future__ import annotations

import pytest

from tests.conftest import STACKS, plan_for

ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"


@pytest.mark.parametrize("stack", STACKS)
def test_persona_roles_get_the_view_policy_only(stack):
    plan = plan_for(stack)
    roles = plan.outputs["roles"]
    people = {roles["data-scientist"], roles["ml-engineer"], roles["model-approver"]}
    granted = {(a.inputs["principalArn"], a.inputs["policyArn"]) for a in plan.of_type(ASSOCIATION)}
    assert {arn for arn, _ in granted} & people == {roles["data-scientist"], roles["ml-engineer"]}
    assert {policy for arn, policy in granted if arn in people} == {VIEW}
    scientist = next(a for a in plan.of_type(ASSOCIATION) if a.inputs["principalArn"] == roles["data-scientist"])
    assert scientist.inputs["accessScope"]["type"] == "namespace"  # team namespaces only
