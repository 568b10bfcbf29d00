"""The CI deployer's capability policies: created only with the env tag, changed only when tagged so, no
wildcard write action, each within the managed-policy size limit."""

from __future__ import annotations

import json

import pytest
from mlops_platform.components.deployer_capabilities import (
    Environment,
    monitoring_statements,
    network_statements,
    registry_statements,
    training_statements,
)

from tests.conftest import as_list

ENV = Environment("123456789012", "eu-west-1", "p-dev", "dev")
CAPABILITIES = [network_statements, training_statements, registry_statements, monitoring_statements]


@pytest.mark.parametrize("capability", CAPABILITIES)
def test_writes_on_every_resource_are_tag_conditioned(capability):
    for statement in capability(ENV):
        actions = as_list(statement["Action"])
        assert not any(a == "*" or a.endswith(":*") for a in actions), statement["Sid"]
        writes = [a for a in actions if not a.split(":")[1].startswith(("Describe", "List", "Get"))]
        if writes and statement["Resource"] == "*":
            tags = statement["Condition"]["StringEquals"]
            assert tags.get("aws:RequestTag/env") == "dev" or tags.get("aws:ResourceTag/env") == "dev"


@pytest.mark.parametrize("capability", CAPABILITIES)
def test_each_capability_fits_a_managed_policy(capability):
    document = json.dumps({"Version": "2012-10-17", "Statement": capability(ENV)}, separators=(",", ":"))
    assert len(document) <= 6144


def test_network_creates_need_the_env_tag_and_changes_need_it_on_the_resource():
    by_sid = {s["Sid"]: s for s in network_statements(ENV)}
    assert "ec2:CreateVpc" in by_sid["CreateEnvNetwork"]["Action"]
    assert by_sid["CreateEnvNetwork"]["Condition"] == {"StringEquals": {"aws:RequestTag/env": "dev"}}
    assert "ec2:DeleteVpc" in by_sid["ManageEnvNetwork"]["Action"]
    assert by_sid["ManageEnvNetwork"]["Condition"] == {"StringEquals": {"aws:ResourceTag/env": "dev"}}


def test_service_linked_roles_are_limited_to_the_named_services():
    [linked] = [s for s in training_statements(ENV) if s["Sid"] == "ServiceLinkedRoles"]
    assert set(linked["Condition"]["StringEquals"]["iam:AWSServiceName"]) == {
        "eks.amazonaws.com",
        "eks-nodegroup.amazonaws.com",
        "autoscaling.amazonaws.com",
        "spot.amazonaws.com",
    }


def test_registry_repositories_are_scoped_to_the_env_namespace():
    by_sid = {s["Sid"]: s for s in registry_statements(ENV)}
    assert by_sid["CreateEnvRepositories"]["Resource"] == "arn:aws:ecr:eu-west-1:123456789012:repository/p-dev/*"
