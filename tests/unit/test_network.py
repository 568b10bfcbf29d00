"""Network: derived subnet CIDRs, NAT per mode, private endpoints, KMS flow logs, no open ingress."""

from __future__ import annotations

import ipaddress
import itertools
import json

import pytest
from mlops_platform.components.network import DEFAULT_INTERFACE_ENDPOINTS, NatGateways, Network, subnet_layout
from mlops_platform.infra.tooling.offline import record

from tests.conftest import as_list, policy, statements

KEY = "arn:aws:kms:us-east-1:123456789012:key/abcd"
ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]
SUBNET = "aws:ec2/subnet:Subnet"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
ROUTE = "aws:ec2/route:Route"
NAT = "aws:ec2/natGateway:NatGateway"
ANYWHERE = "0.0.0.0/0"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"


def network_args(**overrides):
    return {
        "cidr_block": "10.0.0.0/16",
        "availability_zones": ZONES,
        "region": "us-east-1",
        "flow_log_kms_key_arn": KEY,
        "flow_log_retention_days": 90,
        "nat_gateways": NatGateways.PER_AZ,
        **overrides,
    }


def network_plan(opts=None, **overrides):
    return record(lambda: Network("net", network_args(**overrides), opts) and None)


@pytest.fixture(scope="module")
def plan():
    return network_plan(discovery_tag="mlops-platform-test")


# --- CIDR derivation -------------------------------------------------------------------------------------------


def test_private_subnets_from_the_bottom_public_from_the_top():
    layout = subnet_layout("10.0.0.0/16", 3)
    assert [str(n) for n in layout.private] == ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"]
    assert [str(n) for n in layout.public] == ["10.0.255.0/24", "10.0.254.0/24", "10.0.253.0/24"]


def test_adding_an_az_never_renumbers_existing_subnets():
    three, four = subnet_layout("10.1.0.0/16", 3), subnet_layout("10.1.0.0/16", 4)
    assert four.private[:3] == three.private and four.public[:3] == three.public


@pytest.mark.parametrize(
    ("cidr", "zones", "private", "public"),
    [
        ("10.0.0.0/16", 6, None, None),
        ("172.16.0.0/20", 3, 22, 27),
        ("192.168.0.0/22", 2, 24, 28),
        ("100.64.0.0/18", 4, 21, 26),
    ],
)
def test_derived_subnets_are_inside_the_vpc_and_never_overlap(cidr, zones, private, public):
    layout = subnet_layout(cidr, zones, private, public)
    subnets = [*layout.private, *layout.public]
    assert len(subnets) == 2 * zones
    assert all(s.subnet_of(ipaddress.IPv4Network(cidr)) for s in subnets)
    assert not any(a.overlaps(b) for a, b in itertools.combinations(subnets, 2))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("10.0.0.0/20", 3, 21, 24), "cidr_block 10.0.0.0/20 is too small for 3 private /21 and 3 public /24 subnets"),
        (("10.0.0.0/16", 3, 16, None), "private_subnet_prefix_length=16 does not fit cidr_block 10.0.0.0/16"),
        (("10.0.0.0/16", 3, None, 29), "public_subnet_prefix_length=29 does not fit"),
        (("10.0.0.1/16", 3, None, None), "cidr_block='10.0.0.1/16' is not an IPv4 network address"),
        (("10.0.0.0/12", 3, None, None), "a VPC CIDR must be between /16 and /28"),
        (("10.0.0.0/16", 1, None, None), "availability_zones: 1 given; expected 2 to 6"),
    ],
)
def test_layouts_that_cannot_exist_are_refused(args, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        subnet_layout(*args)


def test_subnets_get_the_derived_cidrs_in_az_order(plan):
    layout = subnet_layout("10.0.0.0/16", 3)
    for kind, cidrs in (("private", layout.private), ("public", layout.public)):
        for i, (zone, cidr) in enumerate(zip(ZONES, cidrs, strict=True)):
            subnet = plan.get(SUBNET, f"net-{kind}-{i}").inputs
            assert (subnet["availabilityZone"], subnet["cidrBlock"]) == (zone, str(cidr))
            assert subnet["mapPublicIpOnLaunch"] is False


def test_only_private_subnets_carry_the_load_balancer_and_karpenter_tags(plan):
    tags = {s.name: s.inputs.get("tags") for s in plan.of_type(SUBNET)}
    for i in range(3):
        assert tags[f"net-private-{i}"] == {
            "kubernetes.io/role/internal-elb": "1",
            "karpenter.sh/discovery": "mlops-platform-test",
        }
        assert not tags[f"net-public-{i}"]


def test_vpc_resolves_private_dns_names(plan):
    vpc = plan.get("aws:ec2/vpc:Vpc", "net-vpc").inputs
    assert vpc["enableDnsSupport"] is True and vpc["enableDnsHostnames"] is True


# --- Security groups -------------------------------------------------------------------------------------------


def ingress_sources(plan) -> list[str]:
    """Every CIDR any ingress rule of the plan admits, whichever resource type carries it."""
    sources = []
    for resource in plan.resources:
        if resource.type == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
            sources.append(resource.inputs.get("cidrIpv4"))
        elif resource.type == "aws:ec2/securityGroupRule:SecurityGroupRule" and resource.inputs["type"] == "ingress":
            sources += resource.inputs.get("cidrBlocks", [])
        elif resource.type in (SECURITY_GROUP, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"):
            sources += [c for rule in resource.inputs.get("ingress", []) for c in rule.get("cidrBlocks", [])]
    return sources


def test_no_ingress_from_anywhere(plan):
    sources = ingress_sources(plan)
    assert sources == ["10.0.0.0/16"]
    assert ANYWHERE not in sources


def test_default_security_group_is_adopted_with_no_rules(plan):
    [default] = plan.of_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert default.inputs["vpcId"] == "net-vpc-id"
    assert not default.inputs.get("ingress") and not default.inputs.get("egress")


def test_endpoint_security_group_admits_only_https_from_the_vpc(plan):
    [rule] = plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert rule.inputs["securityGroupId"] == "net-endpoints-sg-id"
    assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == ("tcp", 443, 443)
    assert rule.inputs["cidrIpv4"] == "10.0.0.0/16"


# --- Endpoints -------------------------------------------------------------------------------------------------


def test_interface_endpoints_use_private_dns_private_subnets_and_the_endpoint_sg(plan):
    interface = [e for e in plan.of_type(ENDPOINT) if e.inputs["vpcEndpointType"] == "Interface"]
    assert sorted(e.inputs["serviceName"] for e in interface) == sorted(
        f"com.amazonaws.us-east-1.{s.value}" for s in DEFAULT_INTERFACE_ENDPOINTS
    )
    for endpoint in interface:
        assert endpoint.inputs["privateDnsEnabled"] is True
        assert endpoint.inputs["subnetIds"] == ["net-private-0-id", "net-private-1-id", "net-private-2-id"]
        assert endpoint.inputs["securityGroupIds"] == ["net-endpoints-sg-id"]


def test_s3_gateway_endpoint_serves_every_private_route_table(plan):
    s3 = plan.get(ENDPOINT, "net-s3").inputs
    assert (s3["vpcEndpointType"], s3["serviceName"]) == ("Gateway", "com.amazonaws.us-east-1.s3")
    assert s3["routeTableIds"] == [f"net-private-{i}-rt-id" for i in range(3)]


def test_endpoint_list_is_configurable_and_checked():
    plan = network_plan(interface_endpoints=["ecr.api", "ecr.dkr"])
    assert sorted(e.name for e in plan.of_type(ENDPOINT)) == ["net-ecr-api", "net-ecr-dkr", "net-s3"]


# --- NAT -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "nat_count"), [(NatGateways.SINGLE, 1), (NatGateways.PER_AZ, 3)])
def test_nat_gateways_per_mode_sit_in_public_subnets_and_serve_the_private_routes(mode, nat_count):
    plan = network_plan(nat_gateways=mode)
    nats = plan.of_type(NAT)
    assert len(nats) == nat_count == len(plan.of_type("aws:ec2/eip:Eip"))
    assert sorted(n.inputs["subnetId"] for n in nats) == [f"net-public-{i}-id" for i in range(nat_count)]
    for i in range(3):
        route = plan.get(ROUTE, f"net-private-{i}-default").inputs
        expected_nat = f"net-nat-{i if mode is NatGateways.PER_AZ else 0}-id"
        assert (route["destinationCidrBlock"], route["natGatewayId"]) == (ANYWHERE, expected_nat)
        assert "gatewayId" not in route  # private subnets never route to the internet gateway


def test_only_the_public_route_table_reaches_the_internet_gateway(plan):
    to_igw = [r for r in plan.of_type(ROUTE) if r.inputs.get("gatewayId") == "net-igw-id"]
    assert [r.inputs["routeTableId"] for r in to_igw] == ["net-public-rt-id"]
    associations = plan.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
    public = {a.inputs["subnetId"] for a in associations if a.inputs["routeTableId"] == "net-public-rt-id"}
    assert public == {f"net-public-{i}-id" for i in range(3)}


# --- Flow logs -------------------------------------------------------------------------------------------------


def test_flow_logs_capture_all_traffic_into_the_kms_log_group_with_retention(plan):
    group = plan.get("aws:cloudwatch/logGroup:LogGroup", "net-flow-logs").inputs
    assert group["kmsKeyId"] == KEY and group["retentionInDays"] == 90
    flow = plan.get("aws:ec2/flowLog:FlowLog", "net-flow-log").inputs
    assert flow["vpcId"] == "net-vpc-id" and flow["trafficType"] == "ALL"
    assert flow["logDestinationType"] == "cloud-watch-logs"
    assert flow["logDestination"].startswith("arn:aws:logs:us-east-1:123456789012:log-group:")
    assert flow["iamRoleArn"].endswith(":role/net-flow-logs-role")


def test_flow_log_role_is_assumable_only_by_flow_logs_of_this_account(plan):
    [trust] = statements(policy(plan.get("aws:iam/role:Role", "net-flow-logs-role"), "assumeRolePolicy"))
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    assert trust["Condition"]["ArnLike"] == {"aws:SourceArn": "arn:aws:ec2:us-east-1:123456789012:vpc-flow-log/*"}


def test_flow_log_role_writes_only_to_its_log_group(plan):
    group_arn = plan.get("aws:ec2/flowLog:FlowLog", "net-flow-log").inputs["logDestination"]
    [grant] = statements(policy(plan.get("aws:iam/rolePolicy:RolePolicy", "net-flow-logs-delivery")))
    assert sorted(as_list(grant["Resource"])) == [group_arn, f"{group_arn}:*"]
    assert "logs:PutLogEvents" in grant["Action"] and not any("*" in a for a in grant["Action"])


@pytest.mark.parametrize("days", [0, 10, 366])
def test_retention_must_be_one_cloudwatch_accepts(days):
    with pytest.raises(ValueError, match=f"flow_log_retention_days: {days} is not a CloudWatch Logs retention"):
        Network("net", network_args(flow_log_retention_days=days))


def test_flow_log_group_protected_only_on_request_and_named_from_the_prefix():
    assert not network_plan().get("aws:cloudwatch/logGroup:LogGroup", "net-flow-logs").options["protect"]
    plan = network_plan(protect_flow_logs=True, name_prefix="p-prod")
    group = plan.get("aws:cloudwatch/logGroup:LogGroup", "net-flow-logs")
    assert group.options["protect"] and group.options["retain_on_delete"]
    assert group.inputs["name"] == "/aws/vpc/p-prod/flow-logs"
    assert plan.get("aws:iam/role:Role", "net-flow-logs-role").inputs["name"] == "p-prod-vpc-flow-logs"
    assert not plan.get("aws:ec2/vpc:Vpc", "net-vpc").options["protect"]  # the rest stays replaceable


# --- Outputs and bad args --------------------------------------------------------------------------------------


def test_outputs_list_one_private_subnet_per_az_in_order():
    captured = {}

    def program():
        net = Network("net", network_args(nat_gateways=NatGateways.SINGLE))
        return {
            "private": net.private_subnet_ids,
            "public": net.public_subnet_ids,
            "rts": net.private_route_table_ids,
            "sg": net.endpoint_security_group_id,
            "vpc": net.vpc_id,
            "cidr": net.vpc_cidr,
        }

    captured = record(program).outputs
    assert captured["private"] == [f"net-private-{i}-id" for i in range(3)]
    assert captured["public"] == [f"net-public-{i}-id" for i in range(3)]
    assert captured["rts"] == [f"net-private-{i}-rt-id" for i in range(3)]
    assert (captured["sg"], captured["vpc"], captured["cidr"]) == ("net-endpoints-sg-id", "net-vpc-id", "10.0.0.0/16")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"availability_zones": ["us-east-1a"]}, "availability_zones: 1 given; expected 2 to 6"),
        ({"availability_zones": ["us-east-1a", "us-east-1a"]}, "lists a zone twice"),
        ({"cidr_block": "10.0.0.0/24", "private_subnet_prefix_length": 25}, "10.0.0.0/24 is too small"),
        ({"interface_endpoints": ["s3"]}, "interface_endpoints has unknown services ['s3']"),
        ({"interface_endpoints": ["sts", "sts"]}, "lists a service twice"),
        ({"nat_gateways": "none"}, "nat_gateways='none': expected one of single, per_az"),
        ({"name_prefix": "x" * 49}, "name_prefix='xxxx"),
    ],
)
def test_bad_args_fail_before_anything_is_registered(overrides, message):
    errors = []

    def program():
        try:
            Network("net", network_args(**overrides))
        except ValueError as exc:
            errors.append(str(exc))

    plan = record(program)
    assert errors and message in errors[0], errors
    assert errors[0].startswith("Network 'net': ")
    assert plan.resources == []


def test_account_defaults_to_the_providers_caller_identity_unless_given():
    def source_account(plan):
        trust = json.loads(plan.get("aws:iam/role:Role", "net-flow-logs-role").inputs["assumeRolePolicy"])
        return trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"]

    assert source_account(record(lambda: Network("net", network_args()) and None, account="999999999999")) == (
        "999999999999"
    )
    explicit = record(lambda: Network("net", network_args(account_id="111111111111")) and None, account="999999999999")
    assert source_account(explicit) == "111111111111"


def test_readme_example_builds_a_three_az_vpc():
    import re

    from tests.conftest import REPO

    readme = (REPO / "docs" / "operator-guide.md").read_text()
    [example] = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "Network(" in b]
    plan = record(lambda: exec(compile(example, "docs/operator-guide.md", "exec"), {}))
    subnets = sorted(s.inputs["cidrBlock"] for s in plan.of_type(SUBNET) if s.name.startswith("team-net-private"))
    assert subnets == ["10.42.0.0/19", "10.42.32.0/19", "10.42.64.0/19"]
    assert len(plan.of_type(NAT)) == 3


def test_flow_log_role_carries_the_given_boundary():
    from mlops_platform.components.network import Network as _Network

    boundary = "arn:aws:iam::123456789012:policy/p-dev-service-boundary"
    args = {
        "cidr_block": "10.0.0.0/16",
        "availability_zones": ["us-east-1a", "us-east-1b"],
        "region": "us-east-1",
        "account_id": "123456789012",
        "flow_log_kms_key_arn": "arn:aws:kms:us-east-1:123456789012:key/k",
        "flow_log_retention_days": 30,
        "permissions_boundary_arn": boundary,
    }
    plan = record(lambda: _Network("net", args) and None)
    [role] = plan.of_type("aws:iam/role:Role")
    assert role.inputs["permissionsBoundary"] == boundary
