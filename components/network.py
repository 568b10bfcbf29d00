"""A private VPC for training and serving: private subnets per AZ, NAT for egress, VPC endpoints, flow logs.

Subnet CIDRs are derived from the one VPC CIDR by `subnet_layout` (pure `ipaddress` arithmetic, so the
config validates the same layout before anything is registered):

- private subnet i (one per AZ, in AZ order) is the i-th block of `/private_subnet_prefix_length`
  counted from the *bottom* of the VPC CIDR;
- public subnet i is the i-th block of `/public_subnet_prefix_length` counted from the *top*;
- the middle stays free (more AZs, extra tiers). Adding an AZ appends a block at each end and never
  renumbers the existing subnets, so growing the VPC does not replace them.

Defaults: private = VPC prefix + 3 (a /16 gives /19s, 8,190 addresses each, room for pods on the VPC CNI),
public = VPC prefix + 8 capped at /28 (a /16 gives /24s; public subnets hold only NAT gateways).
"""

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from . import _iam, endpoint_policies
from ._logs import check_retention_days
from ._options import stateful
from ._validation import check_args

MIN_AZS = 2
"""A VPC for this platform spans at least two availability zones."""
MAX_AZS = 6
"""Upper bound on availability zones (the largest commercial regions have six)."""
SUBNET_PREFIX_RANGE = (16, 28)
"""AWS accepts VPC and subnet CIDRs from /16 to /28."""
ANYWHERE = "0.0.0.0/0"


class NatGateways(StrEnum):
    """How many NAT gateways give the private subnets outbound internet access."""

    SINGLE = "single"
    """One NAT gateway in the first AZ for all private subnets: cheap, but egress fails with that AZ."""
    PER_AZ = "per_az"
    """One NAT gateway per AZ, each private subnet routing through its own AZ's: survives an AZ outage."""


class InterfaceEndpoint(StrEnum):
    """AWS services reachable through interface VPC endpoints (`com.amazonaws.<region>.<value>`)."""

    SAGEMAKER_API = "sagemaker.api"
    SAGEMAKER_RUNTIME = "sagemaker.runtime"
    SAGEMAKER_FEATURESTORE_RUNTIME = "sagemaker.featurestore-runtime"
    ECR_API = "ecr.api"
    ECR_DKR = "ecr.dkr"
    STS = "sts"
    LOGS = "logs"
    MONITORING = "monitoring"
    KMS = "kms"
    EC2 = "ec2"
    EKS = "eks"
    EKS_AUTH = "eks-auth"
    ELASTICLOADBALANCING = "elasticloadbalancing"
    AUTOSCALING = "autoscaling"
    SQS = "sqs"
    SNS = "sns"
    EVENTS = "events"
    SSM = "ssm"
    SSMMESSAGES = "ssmmessages"
    EC2MESSAGES = "ec2messages"
    SECRETSMANAGER = "secretsmanager"
    STEP_FUNCTIONS = "states"


DEFAULT_INTERFACE_ENDPOINTS: tuple[InterfaceEndpoint, ...] = (
    InterfaceEndpoint.SAGEMAKER_API,
    InterfaceEndpoint.SAGEMAKER_RUNTIME,
    InterfaceEndpoint.ECR_API,
    InterfaceEndpoint.ECR_DKR,
    InterfaceEndpoint.STS,
    InterfaceEndpoint.LOGS,
    InterfaceEndpoint.KMS,
    InterfaceEndpoint.EC2,
    InterfaceEndpoint.EKS,
    InterfaceEndpoint.EKS_AUTH,
    InterfaceEndpoint.SQS,
    InterfaceEndpoint.SSM,
)
"""What training (EKS nodes, Karpenter, SageMaker jobs) and serving call: kept off the NAT path."""


@dataclass(frozen=True)
class SubnetLayout:
    """The subnet CIDRs of a VPC, one private and one public subnet per AZ, in AZ order."""

    vpc: ipaddress.IPv4Network
    """The VPC CIDR."""
    private: tuple[ipaddress.IPv4Network, ...]
    """Private (workload) subnets, from the bottom of the VPC CIDR."""
    public: tuple[ipaddress.IPv4Network, ...]
    """Public (NAT-only) subnets, from the top of the VPC CIDR."""


def default_prefix_lengths(vpc_prefix_length: int) -> tuple[int, int]:
    """(private, public) subnet prefix lengths used when none are given."""
    return vpc_prefix_length + 3, min(vpc_prefix_length + 8, SUBNET_PREFIX_RANGE[1])


def subnet_layout(
    cidr_block: str,
    az_count: int,
    private_subnet_prefix_length: int | None = None,
    public_subnet_prefix_length: int | None = None,
) -> SubnetLayout:
    """Derive the subnets from the VPC CIDR (see the module docstring); ValueError names the bad argument."""
    try:
        vpc = ipaddress.IPv4Network(cidr_block, strict=True)
    except ValueError as exc:
        raise ValueError(f"cidr_block={cidr_block!r} is not an IPv4 network address ({exc})") from None
    low, high = SUBNET_PREFIX_RANGE
    if not low <= vpc.prefixlen <= high:
        raise ValueError(f"cidr_block={cidr_block!r}: a VPC CIDR must be between /{low} and /{high}")
    if not MIN_AZS <= az_count <= MAX_AZS:
        raise ValueError(f"availability_zones: {az_count} given; expected {MIN_AZS} to {MAX_AZS}")
    default_private, default_public = default_prefix_lengths(vpc.prefixlen)
    lengths = {
        "private_subnet_prefix_length": private_subnet_prefix_length or default_private,
        "public_subnet_prefix_length": public_subnet_prefix_length or default_public,
    }
    for key, length in lengths.items():
        if not max(low, vpc.prefixlen + 1) <= length <= high:
            raise ValueError(
                f"{key}={length} does not fit cidr_block {vpc}: a subnet prefix length must be longer than the "
                f"VPC's /{vpc.prefixlen} and between /{low} and /{high}"
            )
    private_len, public_len = lengths.values()
    private_size, public_size = 2 ** (32 - private_len), 2 ** (32 - public_len)
    # Private blocks are packed from the bottom and public blocks from the top, both aligned to their size,
    # so they overlap exactly when together they need more addresses than the VPC has.
    if az_count * (private_size + public_size) > vpc.num_addresses:
        raise ValueError(
            f"cidr_block {vpc} is too small for {az_count} private /{private_len} and {az_count} public "
            f"/{public_len} subnets ({az_count * (private_size + public_size)} addresses needed, "
            f"{vpc.num_addresses} available); use a larger cidr_block or longer private_subnet_prefix_length / "
            "public_subnet_prefix_length"
        )
    base, top = int(vpc.network_address), int(vpc.broadcast_address) + 1
    private = tuple(ipaddress.IPv4Network((base + i * private_size, private_len)) for i in range(az_count))
    public = tuple(ipaddress.IPv4Network((top - (i + 1) * public_size, public_len)) for i in range(az_count))
    return SubnetLayout(vpc=vpc, private=private, public=public)


class NetworkArgs(TypedDict):
    """Arguments of `Network`."""

    cidr_block: str
    """The VPC's IPv4 CIDR (/16 to /28); every subnet CIDR is derived from it."""
    availability_zones: Sequence[pulumi.Input[str]]
    """AZ names (2 to 6), one private and one public subnet each, in this order."""
    region: str
    """The region of the VPC, used in the endpoint service names (`com.amazonaws.<region>.<service>`)."""
    flow_log_kms_key_arn: pulumi.Input[str]
    """The KMS key encrypting the flow-log group; its policy must let `logs.<region>.amazonaws.com` use it."""
    flow_log_retention_days: int
    """Days CloudWatch Logs keeps flow-log records; one of CloudWatch's allowed values (1, 3, 5, 7, 14, ...)."""
    nat_gateways: NotRequired[NatGateways]
    """SINGLE or PER_AZ (default PER_AZ)."""
    interface_endpoints: NotRequired[Sequence[str]]
    """Services given interface endpoints with private DNS (`InterfaceEndpoint` values); default
    `DEFAULT_INTERFACE_ENDPOINTS`. An empty list sends all AWS API traffic through the NAT."""
    private_subnet_prefix_length: NotRequired[int | None]
    """Prefix length of each private subnet; default the VPC's prefix + 3."""
    public_subnet_prefix_length: NotRequired[int | None]
    """Prefix length of each public (NAT) subnet; default the VPC's prefix + 8, at most 28."""
    discovery_tag: NotRequired[str | None]
    """Value of the `karpenter.sh/discovery` tag on the private subnets (usually the cluster name); None omits it."""
    account_id: NotRequired[pulumi.Input[str]]
    """Account of the VPC, for the flow-log role's confused-deputy conditions; default the provider's account."""
    name_prefix: NotRequired[str]
    """Prefix of physical names: the flow-log group `/aws/vpc/<prefix>/flow-logs` and role `<prefix>-vpc-flow-logs`.
    Default: Pulumi auto-naming."""
    protect_flow_logs: NotRequired[bool]
    """`protect` and `retain_on_delete` the flow-log group (audit evidence). Default False."""
    permissions_boundary_arn: NotRequired[pulumi.Input[str]]
    """Permission boundary of the flow-log delivery role (the platform passes its service-role boundary)."""


class Network(pulumi.ComponentResource):
    """A VPC over 2-6 AZs: private subnets for workloads, public subnets holding only NAT gateways, an S3
    gateway endpoint and interface endpoints with private DNS, all-traffic flow logs to a KMS-encrypted log
    group with retention, and the default security group stripped of every rule. Nothing allows ingress from
    0.0.0.0/0; the endpoints accept HTTPS from the VPC CIDR only.
    """

    vpc_id: pulumi.Output[str]
    """ID of the VPC."""
    vpc_cidr: str
    """The VPC's IPv4 CIDR."""
    private_subnet_ids: list[pulumi.Output[str]]
    """Private (workload) subnet IDs, one per AZ, in AZ order."""
    public_subnet_ids: list[pulumi.Output[str]]
    """Public (NAT-only) subnet IDs, one per AZ, in AZ order."""
    private_route_table_ids: list[pulumi.Output[str]]
    """Route tables of the private subnets, one per AZ, in AZ order."""
    endpoint_security_group_id: pulumi.Output[str]
    """The security group on the interface endpoints: HTTPS (443) from the VPC CIDR only."""
    s3_prefix_list_id: pulumi.Output[str]
    """Prefix list of the S3 gateway endpoint, for security-group egress rules to S3."""
    nat_gateway_ids: list[pulumi.Output[str]]
    """NAT gateway IDs: one (SINGLE) or one per AZ (PER_AZ)."""
    flow_log_group_arn: pulumi.Output[str]
    """ARN of the CloudWatch log group receiving the flow logs."""
    s3_cidr_blocks: pulumi.Output[list[str]]
    """Public CIDRs of S3 in the region, reached privately through the gateway endpoint (for egress rules)."""

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = check_args(Network, name, args)
        layout, nat_mode, services = _check_network_args(name, args)
        super().__init__("mlops:network:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        zones = list(args["availability_zones"])
        region = args["region"]
        self.layout: SubnetLayout = layout
        """The derived subnet CIDRs."""
        self.vpc_cidr = str(layout.vpc)

        vpc = aws.ec2.Vpc(
            f"{name}-vpc", cidr_block=self.vpc_cidr, enable_dns_support=True, enable_dns_hostnames=True, opts=child
        )
        self.vpc_id = vpc.id
        # Adopting the default SG with no ingress/egress arguments removes all its rules: nothing can use it.
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=vpc.id, opts=child)

        private_tags = {"kubernetes.io/role/internal-elb": "1"}
        if discovery := args.get("discovery_tag"):
            private_tags["karpenter.sh/discovery"] = discovery
        private = [
            aws.ec2.Subnet(
                f"{name}-private-{i}",
                vpc_id=vpc.id,
                cidr_block=str(cidr),
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags=private_tags,
                opts=child,
            )
            for i, (zone, cidr) in enumerate(zip(zones, layout.private, strict=True))
        ]
        public = [
            aws.ec2.Subnet(
                f"{name}-public-{i}",
                vpc_id=vpc.id,
                cidr_block=str(cidr),
                availability_zone=zone,
                map_public_ip_on_launch=False,
                opts=child,
            )
            for i, (zone, cidr) in enumerate(zip(zones, layout.public, strict=True))
        ]
        self.private_subnet_ids = [s.id for s in private]
        self.public_subnet_ids = [s.id for s in public]

        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, opts=child)
        public_rt = aws.ec2.RouteTable(f"{name}-public-rt", vpc_id=vpc.id, opts=child)
        aws.ec2.Route(
            f"{name}-public-default",
            route_table_id=public_rt.id,
            destination_cidr_block=ANYWHERE,
            gateway_id=igw.id,
            opts=child,
        )
        for i, subnet in enumerate(public):
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{i}-rta", subnet_id=subnet.id, route_table_id=public_rt.id, opts=child
            )

        nat_count = len(zones) if nat_mode is NatGateways.PER_AZ else 1
        nats = []
        for i in range(nat_count):
            eip = aws.ec2.Eip(f"{name}-nat-{i}-eip", domain="vpc", opts=child)
            nats.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{i}",
                    allocation_id=eip.allocation_id,
                    subnet_id=public[i].id,
                    connectivity_type="public",
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                )
            )
        self.nat_gateway_ids = [n.id for n in nats]

        private_rts = []
        for i, subnet in enumerate(private):
            rt = aws.ec2.RouteTable(f"{name}-private-{i}-rt", vpc_id=vpc.id, opts=child)
            aws.ec2.Route(
                f"{name}-private-{i}-default",
                route_table_id=rt.id,
                destination_cidr_block=ANYWHERE,
                nat_gateway_id=nats[i % nat_count].id,
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{i}-rta", subnet_id=subnet.id, route_table_id=rt.id, opts=child
            )
            private_rts.append(rt)
        self.private_route_table_ids = [rt.id for rt in private_rts]

        account = (
            args.get("account_id")
            or aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        )
        s3_endpoint = aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=self.private_route_table_ids,
            policy=_iam.render(endpoint_policies.s3_gateway_policy(account, region)),
            opts=child,
        )
        self.s3_prefix_list_id = s3_endpoint.prefix_list_id
        self.s3_cidr_blocks = s3_endpoint.cidr_blocks
        endpoint_sg = aws.ec2.SecurityGroup(
            f"{name}-endpoints-sg",
            vpc_id=vpc.id,
            description="Interface VPC endpoints: HTTPS from inside the VPC only",
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-endpoints-https",
            security_group_id=endpoint_sg.id,
            cidr_ipv4=self.vpc_cidr,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            description="HTTPS from the VPC",
            opts=child,
        )
        self.endpoint_security_group_id = endpoint_sg.id
        for service in services:
            aws.ec2.VpcEndpoint(
                f"{name}-{service.value.replace('.', '-')}",
                vpc_id=vpc.id,
                service_name=f"com.amazonaws.{region}.{service.value}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=self.private_subnet_ids,
                security_group_ids=[endpoint_sg.id],
                policy=(
                    None
                    if service.value in endpoint_policies.NO_POLICY_ENDPOINTS
                    else _iam.render(endpoint_policies.interface_policy(account, service.value))
                ),
                opts=child,
            )

        self.flow_log_group_arn = self._flow_logs(name, args, vpc, region, opts)
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "vpc_cidr": self.vpc_cidr,
                "private_subnet_ids": self.private_subnet_ids,
                "public_subnet_ids": self.public_subnet_ids,
                "private_route_table_ids": self.private_route_table_ids,
                "endpoint_security_group_id": self.endpoint_security_group_id,
                "nat_gateway_ids": self.nat_gateway_ids,
                "flow_log_group_arn": self.flow_log_group_arn,
            }
        )

    def _flow_logs(
        self, name: str, args: NetworkArgs, vpc: aws.ec2.Vpc, region: str, opts: pulumi.ResourceOptions | None
    ) -> pulumi.Output[str]:
        child = pulumi.ResourceOptions(parent=self)
        keep = args.get("protect_flow_logs", False)
        prefix = args.get("name_prefix")
        group_opts = pulumi.ResourceOptions.merge(
            stateful(child, opts), pulumi.ResourceOptions(protect=True, retain_on_delete=True) if keep else None
        )
        group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=f"/aws/vpc/{prefix}/flow-logs" if prefix else None,
            kms_key_id=args["flow_log_kms_key_arn"],
            retention_in_days=args["flow_log_retention_days"],
            opts=group_opts,
        )
        account = (
            args.get("account_id")
            or aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        )
        role = aws.iam.Role(
            f"{name}-flow-logs-role",
            name=f"{prefix}-vpc-flow-logs" if prefix else None,
            description="VPC flow logs delivery to CloudWatch Logs",
            assume_role_policy=_iam.render(flow_log_trust_statements(account, region)),
            permissions_boundary=args.get("permissions_boundary_arn"),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs-delivery",
            role=role.id,
            policy=_iam.render(flow_log_role_statements(group.arn)),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            opts=child,
        )
        return group.arn


def flow_log_trust_statements(account_id: pulumi.Input[str], region: str) -> list[_iam.Statement]:
    """Trust for the flow-log role: the flow-logs service, acting for this account's flow logs only."""
    return [
        {
            "Sid": "VpcFlowLogsDelivery",
            "Effect": "Allow",
            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account_id},
                "ArnLike": {
                    "aws:SourceArn": pulumi.Output.concat("arn:aws:ec2:", region, ":", account_id, ":vpc-flow-log/*")
                },
            },
        }
    ]


def flow_log_role_statements(log_group_arn: pulumi.Input[str]) -> list[_iam.Statement]:
    """Permissions of the flow-log role: write streams and events to the one log group."""
    return [
        {
            "Sid": "WriteFlowLogGroup",
            "Effect": "Allow",
            "Action": [
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "logs:DescribeLogGroups",
                "logs:DescribeLogStreams",
            ],
            "Resource": [log_group_arn, pulumi.Output.concat(log_group_arn, ":*")],
        }
    ]


def _check_network_args(name: str, args: NetworkArgs) -> tuple[SubnetLayout, NatGateways, list[InterfaceEndpoint]]:
    zones = list(args.get("availability_zones") or [])
    plain = [z for z in zones if isinstance(z, str)]
    if len(set(plain)) != len(plain):
        raise ValueError(f"Network {name!r}: availability_zones={plain} lists a zone twice; expected distinct AZ names")
    try:
        layout = subnet_layout(
            args["cidr_block"],
            len(zones),
            args.get("private_subnet_prefix_length"),
            args.get("public_subnet_prefix_length"),
        )
    except ValueError as exc:
        raise ValueError(f"Network {name!r}: {exc}") from None
    try:
        nat_mode = NatGateways(args.get("nat_gateways", NatGateways.PER_AZ))
    except ValueError:
        raise ValueError(
            f"Network {name!r}: nat_gateways={args.get('nat_gateways')!r}; expected one of "
            f"{', '.join(m.value for m in NatGateways)}"
        ) from None
    requested = list(args.get("interface_endpoints", DEFAULT_INTERFACE_ENDPOINTS))
    known = {e.value for e in InterfaceEndpoint}
    if unknown := [s for s in requested if s not in known]:
        raise ValueError(
            f"Network {name!r}: interface_endpoints has unknown services {unknown}; expected any of "
            f"{', '.join(sorted(known))}"
        )
    if len(set(requested)) != len(requested):
        raise ValueError(f"Network {name!r}: interface_endpoints={requested} lists a service twice")
    try:
        check_retention_days(args.get("flow_log_retention_days"))  # type: ignore[arg-type]
    except ValueError as exc:
        raise ValueError(f"Network {name!r}: flow_log_retention_days: {exc}") from None
    prefix = args.get("name_prefix")
    if prefix is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,47}", prefix):
        raise ValueError(
            f"Network {name!r}: name_prefix={prefix!r}; expected 1-48 letters, digits, '.', '_' or '-' "
            "(the flow-log role name is <prefix>-vpc-flow-logs, at most 64 characters)"
        )
    if not args.get("region"):
        raise ValueError(f"Network {name!r}: region is required (e.g. 'us-east-1')")
    return layout, nat_mode, [InterfaceEndpoint(s) for s in requested]
