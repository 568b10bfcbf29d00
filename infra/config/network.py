"""The `network` section: the VPC's address range, availability zones, NAT, endpoints and flow logs.

Checks that need the region or the environment (AZ names, prod's redundancy) live on the root model.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from mlops_platform.components.network import (
    DEFAULT_INTERFACE_ENDPOINTS,
    MAX_AZS,
    MIN_AZS,
    SUBNET_PREFIX_RANGE,
    InterfaceEndpoint,
    NatGateways,
    default_prefix_lengths,
    subnet_layout,
)
from pydantic import BeforeValidator, Field, model_validator

from .base import Ipv4Cidr, LogRetentionDays, StrictModel

PRIVATE_RANGES = tuple(
    ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)
"""Ranges a VPC CIDR must come from: RFC 1918 and the RFC 6598 shared space (as AWS recommends)."""

_AZ_NAME = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d[a-z]$")

MAX_PRIVATE_PREFIX_LENGTH = 24
"""Private subnets must be /24 or larger: the EKS VPC CNI gives every pod a VPC address."""


def _check_zones(value: object) -> object:
    # One clear message instead of pydantic's "not an int, and not a list" pair for the union.
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if not MIN_AZS <= value <= MAX_AZS:
            raise ValueError(f"expected a count from {MIN_AZS} to {MAX_AZS}, or a list of AZ names")
        return value
    if not isinstance(value, list) or not all(isinstance(z, str) for z in value):
        raise ValueError(f"expected a count from {MIN_AZS} to {MAX_AZS}, or a list of AZ names like [us-east-1a]")
    if bad := [z for z in value if not _AZ_NAME.match(z)]:
        raise ValueError(f"{bad} are not availability zone names; expected <region><letter>, e.g. us-east-1a")
    if not MIN_AZS <= len(value) <= MAX_AZS:
        raise ValueError(f"lists {len(value)} zone(s); expected {MIN_AZS} to {MAX_AZS} distinct AZ names (or a count)")
    if len(set(value)) != len(value):
        raise ValueError("names a zone twice; expected distinct AZ names")
    return value


AvailabilityZones = Annotated[int | list[str], BeforeValidator(_check_zones)]
"""A number of AZs (2-6: the first ones available in the region) or their names (e.g. `us-east-1a`)."""

SubnetPrefixLength = Annotated[int, Field(ge=SUBNET_PREFIX_RANGE[0], le=SUBNET_PREFIX_RANGE[1])]
"""A subnet prefix length AWS accepts: 16 to 28."""


class NetworkSettings(StrictModel):
    """The VPC of the environment; subnet CIDRs are derived from `cidr_block` (see `components.network`)."""

    cidr_block: Ipv4Cidr = "10.0.0.0/16"
    """The VPC's IPv4 range, /16 to /28, from 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10.
    Pick one that no peered network uses (list those in `reserved_cidrs`)."""
    availability_zones: AvailabilityZones = 3
    """How many AZs (2-6; the first ones the account has available in the region) or their names
    (e.g. [us-east-1a, us-east-1b]). Prod needs at least 3."""
    nat_gateways: NatGateways = NatGateways.PER_AZ
    """`single` (one NAT gateway, cheap, egress fails with its AZ) or `per_az` (one per AZ). Prod needs `per_az`."""
    interface_endpoints: list[InterfaceEndpoint] = Field(default_factory=lambda: list(DEFAULT_INTERFACE_ENDPOINTS))
    """AWS services reached through interface endpoints with private DNS instead of the NAT, e.g. sagemaker.api,
    sagemaker.runtime, ecr.api, ecr.dkr, sts, logs, kms, ec2, eks, eks-auth, sqs, ssm. Each costs per AZ-hour."""
    private_subnet_prefix_length: SubnetPrefixLength | None = None
    """Prefix length of each private (workload) subnet; unset means the VPC's prefix + 3 (/19 in a /16)."""
    public_subnet_prefix_length: SubnetPrefixLength | None = None
    """Prefix length of each public (NAT-only) subnet; unset means the VPC's prefix + 8, at most 28 (/24 in a /16)."""
    flow_log_retention_days: LogRetentionDays = 365
    """Days CloudWatch Logs keeps the VPC flow logs: one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400,
    545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."""
    reserved_cidrs: list[Ipv4Cidr] = Field(default_factory=list)
    """Ranges the VPC must not overlap: peered VPCs, other environments, on-premises networks."""

    @property
    def az_count(self) -> int:
        """How many AZs the VPC spans."""
        zones = self.availability_zones
        return zones if isinstance(zones, int) else len(zones)

    @model_validator(mode="after")
    def _addresses_fit(self) -> NetworkSettings:
        vpc = ipaddress.IPv4Network(self.cidr_block)
        if not any(vpc.subnet_of(r) for r in PRIVATE_RANGES):
            raise ValueError(
                f"network.cidr_block {vpc} is not a private range; expected a CIDR inside "
                f"{', '.join(map(str, PRIVATE_RANGES))}"
            )
        if clashes := [c for c in self.reserved_cidrs if vpc.overlaps(ipaddress.IPv4Network(c))]:
            raise ValueError(
                f"network.cidr_block {vpc} overlaps network.reserved_cidrs {', '.join(clashes)}; pick a range "
                "that no peered or on-premises network uses"
            )
        try:
            subnet_layout(
                self.cidr_block, self.az_count, self.private_subnet_prefix_length, self.public_subnet_prefix_length
            )
        except ValueError as exc:
            raise ValueError(f"network: {exc}") from None
        private = self.private_subnet_prefix_length or default_prefix_lengths(vpc.prefixlen)[0]
        if private > MAX_PRIVATE_PREFIX_LENGTH:
            raise ValueError(
                f"network: private subnets would be /{private} ({2 ** (32 - private)} addresses); the EKS VPC CNI "
                f"gives every pod an address, so they need /{MAX_PRIVATE_PREFIX_LENGTH} or larger: use a larger "
                f"cidr_block or a private_subnet_prefix_length of at most {MAX_PRIVATE_PREFIX_LENGTH}"
            )
        if len(set(self.interface_endpoints)) != len(self.interface_endpoints):
            raise ValueError("network.interface_endpoints names a service twice")
        return self
