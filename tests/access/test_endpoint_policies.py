"""VPC endpoint policies on every stack: data can leave through the endpoints only to the account's own resources
(S3) or under the account's own principals (interface endpoints), with the documented AWS-owned exceptions."""

from __future__ import annotations

import json

import pytest
from mlops_platform.components.endpoint_policies import NO_POLICY_ENDPOINTS
from mlops_platform.policies.iam_eval import Request, statement_applies

from tests.conftest import STACKS, plan_for

ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
FOREIGN = "999999999999"


def endpoint_allows(document: dict, action: str, resource: str, context: dict) -> bool:
    """An endpoint policy lets a request through when an Allow applies and no Deny does (Principal is `*`)."""
    request = Request("arn:aws:iam::000000000000:role/any", action, resource, context)
    applies = [s for s in document["Statement"] if s.get("Principal") == "*" and statement_applies(s, request)]
    return any(s["Effect"] == "Allow" for s in applies) and not any(s["Effect"] == "Deny" for s in applies)


def endpoints(stack: str) -> tuple[str, dict, list]:
    plan = plan_for(stack)
    account = plan.outputs["roles"]["ci-deployer"].split(":")[4]
    found = plan.of_type(ENDPOINT)
    [s3] = [e for e in found if e.inputs["vpcEndpointType"] == "Gateway"]
    return account, json.loads(s3.inputs["policy"]), [e for e in found if e.inputs["vpcEndpointType"] == "Interface"]


@pytest.mark.parametrize("stack", STACKS)
def test_s3_gateway_reaches_own_buckets_and_node_dependencies_only(stack):
    account, policy, _ = endpoints(stack)
    own = plan_for(stack).outputs["buckets"]["raw"]
    assert endpoint_allows(policy, "s3:PutObject", f"arn:aws:s3:::{own}/x", {"aws:ResourceAccount": account})
    assert not endpoint_allows(policy, "s3:PutObject", "arn:aws:s3:::attacker-bucket/x",
                               {"aws:ResourceAccount": FOREIGN})  # fmt: skip
    layers = "arn:aws:s3:::prod-us-east-1-starport-layer-bucket/sha256/abc"
    assert endpoint_allows(policy, "s3:GetObject", layers, {"aws:ResourceAccount": FOREIGN})
    assert not endpoint_allows(policy, "s3:PutObject", layers, {"aws:ResourceAccount": FOREIGN})
    repo = "arn:aws:s3:::al2023-repos-us-east-1-de612dc2/core/mirrors/latest/x86_64/mirror.list"
    assert endpoint_allows(policy, "s3:GetObject", repo, {"aws:ResourceAccount": FOREIGN})


@pytest.mark.parametrize("stack", STACKS)
def test_interface_endpoints_serve_only_the_accounts_principals(stack):
    account, _, interfaces = endpoints(stack)
    for endpoint in interfaces:
        service = endpoint.inputs["serviceName"].split(".", 3)[3]
        if service in NO_POLICY_ENDPOINTS:
            assert endpoint.inputs.get("policy") is None
            continue
        policy = json.loads(endpoint.inputs["policy"])
        assert endpoint_allows(policy, "sqs:SendMessage", "*", {"aws:PrincipalAccount": account}), service
        assert not endpoint_allows(policy, "sqs:SendMessage", "*", {"aws:PrincipalAccount": FOREIGN}), service


def test_staging_and_prod_have_interface_endpoints_to_check():
    assert endpoints("prod")[2] and endpoints("staging")[2]


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_sts_endpoint_admits_federated_sign_in_to_the_accounts_roles_only(stack):
    """A CI runner in the VPC assumes its role with GitHub's OIDC token: STS sees no AWS principal then, so no
    `aws:PrincipalAccount` (AWS IAM User Guide, STS VPC endpoint policies). The endpoint must still let that
    sign-in through to this account's roles, and to no other account's."""
    account, _, interfaces = endpoints(stack)
    [sts] = [e for e in interfaces if e.inputs["serviceName"].endswith(".sts")]
    policy = json.loads(sts.inputs["policy"])
    own_role = f"arn:aws:iam::{account}:role/mlops-platform-{stack}-ci-deployer"
    assert endpoint_allows(policy, "sts:AssumeRoleWithWebIdentity", own_role, {"aws:ResourceAccount": account})
    assert not endpoint_allows(policy, "sts:AssumeRoleWithWebIdentity", f"arn:aws:iam::{FOREIGN}:role/x",
                               {"aws:ResourceAccount": FOREIGN})  # fmt: skip
    # Anything else still needs one of the account's principals.
    assert not endpoint_allows(policy, "sts:AssumeRole", own_role, {"aws:ResourceAccount": account})
