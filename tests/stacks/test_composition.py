"""The capability contract: a capability added to the list is wired into the key, the personas and the CI
deployer by what it declares, without editing the storage or access wiring."""

from __future__ import annotations

import json

import pulumi
import pytest
from mlops_platform.components.access import Persona
from mlops_platform.infra import composition
from mlops_platform.infra.capability import Capability, Platform
from mlops_platform.infra.tooling.offline import preview_stack

PROBE_ROLE = "arn:aws:iam::123456789012:role/mlops-dev-probe"
PROBE_STATEMENT = {"Sid": "ProbeRead", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::x/*"}
DEPLOY_STATEMENT = {"Sid": "ProbeDeploy", "Effect": "Allow", "Action": "sns:CreateTopic", "Resource": "*"}


class Probe(Capability):
    """A capability that declares one of each contribution and builds one resource."""

    name = "probe"

    def key_users(self, settings):
        return [PROBE_ROLE]

    def deployer_statements(self, settings):
        return [DEPLOY_STATEMENT]

    def persona_statements(self, platform: Platform):
        return {Persona.DATA_SCIENTIST: [PROBE_STATEMENT]}

    def build(self, platform: Platform):
        return pulumi.ComponentResource("test:probe:Probe", "probe", None, platform.base)

    def outputs(self, platform: Platform):
        return {"probe": "built"}


@pytest.fixture(scope="module")
def probed_plan():
    original = composition.CAPABILITIES
    composition.CAPABILITIES = (*original, Probe())
    try:
        return preview_stack("dev")
    finally:
        composition.CAPABILITIES = original


def test_key_policy_names_the_new_capabilitys_key_users(probed_plan):
    key = next(r for r in probed_plan.of_type("aws:kms/key:Key") if r.name == "data-key-key")
    assert PROBE_ROLE in json.dumps(json.loads(key.inputs["policy"]))


def test_persona_and_deployer_statements_reach_their_roles(probed_plan):
    scientist = [r for r in probed_plan.of_type("aws:iam/rolePolicy:RolePolicy") if "data-scientist" in r.name]
    assert any("ProbeRead" in r.inputs["policy"] for r in scientist)
    deployer_policies = [r for r in probed_plan.of_type("aws:iam/policy:Policy") if "probe" in r.name]
    assert deployer_policies and "ProbeDeploy" in deployer_policies[0].inputs["policy"]


def test_build_order_and_outputs(probed_plan):
    assert probed_plan.outputs["probe"] == "built"
    assert any(r.type == "test:probe:Probe" for r in probed_plan.resources)


def test_capability_names_are_unique():
    names = [c.name for c in composition.CAPABILITIES]
    assert len(names) == len(set(names)) and all(names)
