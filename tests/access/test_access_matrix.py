"""The access matrix over the real plans of dev, staging and prod: every escalation refused, every positive
control allowed (so the matrix cannot pass by denying everything), and the docs' table generated from it."""

from __future__ import annotations

import pytest
from mlops_platform.policies import access_matrix
from mlops_platform.policies.access_matrix import ROWS, decide_row, world
from mlops_platform.policies.iam_eval import Decision

from tests.conftest import STACKS, plan_for

_worlds: dict[str, access_matrix.World] = {}


def world_for(stack: str) -> access_matrix.World:
    if stack not in _worlds:
        _worlds[stack] = world(plan_for(stack).to_dict())
    return _worlds[stack]


ASKED = [(stack, row) for row in ROWS for stack in STACKS if stack in row.stacks]


@pytest.mark.parametrize(("stack", "row"), ASKED, ids=[f"{row.id}-{stack}" for stack, row in ASKED])
def test_matrix_row(stack, row):
    decision = decide_row(world_for(stack), row)
    assert decision is row.expected, f"{stack}: {row.principal} {row.says}: {decision} (expected {row.expected})"


def test_rows_limited_to_some_stacks_name_roles_those_stacks_have():
    for stack, row in ASKED:
        if not row.principal.partition(":")[1]:
            assert f"{world_for(stack).prefix}-{row.principal}" in world_for(stack).principals, (stack, row.id)
    replication = {stack for stack in STACKS if f"{world_for(stack).prefix}-replication" in world_for(stack).principals}
    assert replication == {stack for stack, row in ASKED if row.principal == "replication"}


def test_the_matrix_has_positive_controls_for_every_kind_of_principal():
    allowed = {r.principal for r in ROWS if r.expected is Decision.ALLOW}
    assert {"ci-deployer", "ci-previewer", "data-scientist", "ml-engineer", "model-approver", "inference",
            "team-vision"} <= allowed  # fmt: skip
    assert sum(r.expected is Decision.ALLOW for r in ROWS) >= 15


def test_every_aws_managed_policy_the_stacks_attach_is_one_the_deployer_may_attach():
    from mlops_platform.components.deployer import APPROVED_AWS_MANAGED_POLICIES

    for stack in STACKS:
        attached = {
            a.inputs["policyArn"]
            for a in plan_for(stack).of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
            if ":aws:policy/" in a.inputs["policyArn"]
        }
        assert attached <= set(APPROVED_AWS_MANAGED_POLICIES), (stack, attached - set(APPROVED_AWS_MANAGED_POLICIES))


def test_docs_security_table_is_generated_from_the_matrix():
    text = access_matrix.DOC.read_text()
    assert access_matrix.doc_block(text) == access_matrix.markdown(), (
        "docs/security.md access table is stale: uv run python -m mlops_platform.policies.access_matrix --write"
    )
