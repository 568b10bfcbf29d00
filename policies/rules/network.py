"""Network: nothing reachable from the internet, flow logs on, the default security group closed."""

from __future__ import annotations

import json

from ..core import Level, Resource, Stack, Verdict, as_list, failed, passed, resource_rule, stack_rule, truthy

VPC = "aws:ec2/vpc:Vpc"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
SUBNET = "aws:ec2/subnet:Subnet"
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"

ANYWHERE = ("0.0.0.0/0", "::/0")


def _open_ingress(resource: Resource) -> list[str]:
    """CIDRs open to the whole internet among the resource's ingress rules."""
    if resource.type == INGRESS_RULE:
        cidrs = [resource.get("cidrIpv4"), resource.get("cidrIpv6")]
    elif resource.type == SECURITY_GROUP_RULE:
        if resource.get("type") != "ingress":
            return []
        cidrs = [*as_list(resource.get("cidrBlocks")), *as_list(resource.get("ipv6CidrBlocks"))]
    else:
        cidrs = [
            c
            for rule in as_list(resource.get("ingress"))
            for c in (*as_list(rule.get("cidrBlocks")), *as_list(rule.get("ipv6CidrBlocks")))
        ]
    return sorted({c for c in cidrs if c in ANYWHERE})


@resource_rule(
    "MLOPS-NET-001",
    Level.MANDATORY,
    types=[SECURITY_GROUP, SECURITY_GROUP_RULE, INGRESS_RULE, DEFAULT_SECURITY_GROUP],
    description="No security group allows ingress from 0.0.0.0/0 or ::/0.",
    remediation="Allow ingress from the VPC CIDR, a prefix list or another security group; reach private "
    "services through VPC endpoints or a VPN, never from anywhere.",
)
def no_ingress_from_anywhere(resource: Resource) -> Verdict:
    """No ingress CIDR is the whole internet."""
    open_cidrs = _open_ingress(resource)
    return failed(f"ingress open to {', '.join(open_cidrs)}") if open_cidrs else passed()


@stack_rule(
    "MLOPS-NET-002",
    Level.MANDATORY,
    types=[VPC],
    description="Every VPC has a flow log.",
    remediation="Add an aws.ec2.FlowLog with vpc_id set to the VPC (traffic_type ALL) delivering to an "
    "encrypted CloudWatch log group or S3 bucket.",
)
def vpc_flow_logs(vpc: Resource, stack: Stack) -> Verdict:
    """A FlowLog references the VPC."""
    logs = stack.referencing(vpc, FLOW_LOG, "vpcId")
    if not logs:
        return failed("the VPC has no flow log")
    return passed(f"flow log traffic {logs[0].get('trafficType', 'ALL')}")


@stack_rule(
    "MLOPS-NET-003",
    Level.MANDATORY,
    types=[VPC],
    description="Every VPC's default security group is adopted and has no rules.",
    remediation="Add an aws.ec2.DefaultSecurityGroup for the VPC with no ingress and no egress; give "
    "workloads their own security groups.",
)
def default_security_group_closed(vpc: Resource, stack: Stack) -> Verdict:
    """A DefaultSecurityGroup for the VPC with empty ingress and egress."""
    groups = stack.referencing(vpc, DEFAULT_SECURITY_GROUP, "vpcId")
    if not groups:
        return failed("the default security group is not managed: it allows all traffic within the group")
    rules = [k for k in ("ingress", "egress") if as_list(groups[0].get(k))]
    return failed(f"the default security group has {' and '.join(rules)} rules") if rules else passed()


@resource_rule(
    "MLOPS-NET-004",
    Level.ADVISORY,
    types=[SUBNET],
    description="Subnets do not give instances public IPs on launch.",
    remediation="Leave map_public_ip_on_launch False; put workloads in private subnets behind NAT or endpoints.",
)
def subnet_no_public_ip(subnet: Resource) -> Verdict:
    """mapPublicIpOnLaunch is off."""
    return failed("map_public_ip_on_launch is on") if truthy(subnet.get("mapPublicIpOnLaunch")) else passed()


@stack_rule(
    "MLOPS-NET-005",
    Level.ADVISORY,
    types=[VPC],
    description="Every VPC has an S3 gateway endpoint, so data-lake traffic stays off the internet.",
    remediation="Add an aws.ec2.VpcEndpoint with service_name com.amazonaws.<region>.s3 and the private route tables.",
)
def vpc_s3_endpoint(vpc: Resource, stack: Stack) -> Verdict:
    """A VpcEndpoint for S3 references the VPC."""
    endpoints = stack.referencing(vpc, VPC_ENDPOINT, "vpcId")
    if any(str(e.get("serviceName", "")).endswith(".s3") for e in endpoints):
        return passed()
    return failed("no S3 VPC endpoint: S3 traffic leaves through NAT")


RESOURCE_ACCOUNT_KEYS = ("aws:resourceaccount", "aws:resourceorgid", "aws:resourceorgpaths")


def _policy_statements(endpoint: Resource) -> list[dict] | None:
    text = endpoint.get("policy")
    if not text:
        return None
    document = json.loads(text) if isinstance(text, str) else text
    return as_list(document.get("Statement"))


@resource_rule(
    "MLOPS-NET-006",
    Level.MANDATORY,
    types=[VPC_ENDPOINT],
    description="S3 gateway endpoints carry a policy limiting them to the account's (or organisation's) buckets "
    "and named exceptions, so nothing in the VPC can write to any bucket in the world through them.",
    remediation="Set the endpoint's policy: allow s3:* on * only with aws:ResourceAccount (or aws:ResourceOrgID) "
    "equal to your account, plus read-only statements naming the AWS buckets nodes need "
    "(components.endpoint_policies.s3_gateway_policy).",
)
def s3_gateway_endpoint_policy(endpoint: Resource) -> Verdict:
    """A gateway S3 endpoint: a policy, and no Allow on every resource without a resource-account condition."""
    if not str(endpoint.get("serviceName", "")).endswith(".s3") or endpoint.get("vpcEndpointType") != "Gateway":
        return passed("not an S3 gateway endpoint")
    found = _policy_statements(endpoint)
    if found is None:
        return failed("no endpoint policy: the endpoint reaches every bucket in the world")
    open_ = [
        s.get("Sid") or str(i)
        for i, s in enumerate(found)
        if s.get("Effect") == "Allow"
        and "*" in as_list(s.get("Resource"))
        and not any(k.lower() in RESOURCE_ACCOUNT_KEYS for keys in (s.get("Condition") or {}).values() for k in keys)
    ]
    return failed(f"statements {', '.join(open_)} allow any bucket") if open_ else passed()
