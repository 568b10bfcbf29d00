"""The VPC of each environment: AZs and NAT per stack file, flow logs under the env key, nothing open."""

from __future__ import annotations

import json

import pytest
from mlops_platform.infra.tooling.report import key_settings

from tests.conftest import STACKS, plan_for, policy, statements
from tests.unit.test_network import ANYWHERE, ingress_sources

NAT = "aws:ec2/natGateway:NatGateway"
SUBNET = "aws:ec2/subnet:Subnet"


def private_subnets(plan):
    return [s for s in plan.of_type(SUBNET) if s.name.startswith("network-private-")]


def test_prod_spans_three_named_azs_with_a_nat_in_each():
    prod = plan_for("prod")
    assert sorted(s.inputs["availabilityZone"] for s in private_subnets(prod)) == [
        "us-east-1a",
        "us-east-1b",
        "us-east-1c",
    ]
    nats = prod.of_type(NAT)
    assert len(nats) == 3
    routes = {r.inputs["natGatewayId"] for r in prod.of_type("aws:ec2/route:Route") if "natGatewayId" in r.inputs}
    assert routes == {n.name + "-id" for n in nats}  # every private route table uses its own AZ's NAT


def test_dev_is_two_azs_behind_one_nat_and_fewer_endpoints():
    dev, prod = plan_for("dev"), plan_for("prod")
    assert len(private_subnets(dev)) == 2
    assert len(dev.of_type(NAT)) == 1
    assert len(dev.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")) < len(prod.of_type("aws:ec2/vpcEndpoint:VpcEndpoint"))


def test_count_of_azs_resolves_to_the_regions_available_zones():
    zones = [s.inputs["availabilityZone"] for s in sorted(private_subnets(plan_for("staging")), key=lambda s: s.name)]
    assert zones == ["us-east-1a", "us-east-1b", "us-east-1c"]  # the mocked region's first three


def test_flow_log_retention_grows_towards_prod():
    def retention(stack):
        return plan_for(stack).get("aws:cloudwatch/logGroup:LogGroup", "network-flow-logs").inputs["retentionInDays"]

    assert retention("prod") > retention("staging") > retention("dev")


def test_no_ingress_from_anywhere_and_default_sg_closed(stack_plan):
    assert ANYWHERE not in ingress_sources(stack_plan)
    [default] = stack_plan.of_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert not default.inputs.get("ingress") and not default.inputs.get("egress")


def test_flow_logs_are_encrypted_with_the_env_key_which_lets_logs_use_it(stack_plan):
    key_arn = stack_plan.outputs["data_key_arn"]
    group = stack_plan.get("aws:cloudwatch/logGroup:LogGroup", "network-flow-logs")
    assert group.inputs["kmsKeyId"] == key_arn
    assert group.inputs["name"] == f"/aws/vpc/mlops-platform-{stack_plan.stack}/flow-logs"
    assert stack_plan.get("aws:ec2/flowLog:FlowLog", "network-flow-log").inputs["trafficType"] == "ALL"
    key_policy = statements(policy(stack_plan.get("aws:kms/key:Key", "data-key-key")))
    [logs] = [s for s in key_policy if s["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}]
    account = json.loads(stack_plan.get("pulumi:providers:aws", "aws").inputs["allowedAccountIds"])[0]
    assert logs["Condition"] == {
        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:us-east-1:{account}:log-group:*"}
    }


def test_flow_log_group_is_kept_exactly_when_stateful_resources_are(stack_plan):
    group = stack_plan.get("aws:cloudwatch/logGroup:LogGroup", "network-flow-logs")
    expected = stack_plan.stack != "dev"
    assert (group.options["protect"], group.options["retain_on_delete"]) == (expected, expected)


@pytest.mark.parametrize("stack", STACKS)
def test_outputs_expose_the_vpc_and_private_subnets_in_az_order(stack):
    outputs = plan_for(stack).outputs
    count = len(private_subnets(plan_for(stack)))
    assert outputs["vpc_id"] == "network-vpc-id"
    assert outputs["private_subnet_ids"] == [f"network-private-{i}-id" for i in range(count)]


def test_preview_shows_flow_logs_endpoints_and_nat_mode():
    labels = {
        stack: key_settings(plan_for(stack).get("aws:ec2/vpc:Vpc", "network-vpc"), plan_for(stack)) for stack in STACKS
    }
    assert labels["prod"] == [
        "10.30.0.0/16",
        "flow logs ALL",
        "13 interface + 1 gateway endpoints",
        "3 AZs, NAT per AZ (3)",
    ]
    assert labels["dev"] == [
        "10.10.0.0/16",
        "flow logs ALL",
        "0 interface + 1 gateway endpoints",
        "2 AZs, NAT single (1)",
    ]
    group = plan_for("prod").get("aws:cloudwatch/logGroup:LogGroup", "network-flow-logs")
    assert key_settings(group, plan_for("prod"))[1:] == ["retention 400d", "protected", "retained on delete"]


def test_pull_request_summary_has_a_network_row():
    from mlops_platform.infra.tooling.report import markdown

    assert (
        "| `network-vpc` | 10.10.0.0/16, flow logs ALL, 0 interface + 1 gateway endpoints, 2 AZs, NAT single (1) |"
        in markdown(plan_for("dev"))
    )
