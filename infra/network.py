"""Wiring of the environment's VPC from the validated `network` settings."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
from mlops_platform.components.boundaries import ServiceRoleBoundary
from mlops_platform.components.deployer_capabilities import network_statements
from mlops_platform.components.network import NatGateways, Network
from mlops_platform.infra.capability import Capability, Platform, deployer_environment
from mlops_platform.infra.config import PlatformSettings
from mlops_platform.infra.storage import Storage


def discovery_tag(settings: PlatformSettings) -> str:
    """Value of the `karpenter.sh/discovery` tag on the private subnets: the env's name prefix (the cluster's)."""
    return settings.name_prefix


def availability_zones(settings: PlatformSettings, provider: aws.Provider) -> list[pulumi.Input[str]]:
    """The configured AZ names, or the first N the account has available in the region (no opt-in zones)."""
    zones = settings.network.availability_zones
    if isinstance(zones, list):
        return list(zones)
    available = aws.get_availability_zones_output(
        state="available",
        filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
        opts=pulumi.InvokeOutputOptions(provider=provider),
    )
    return [available.names.apply(lambda names, i=i: _nth_zone(names, i, zones)) for i in range(zones)]


def _nth_zone(names: list[str], index: int, wanted: int) -> str:
    if len(names) < wanted:
        raise pulumi.RunError(
            f"network.availability_zones asks for {wanted} AZs but the region offers {len(names)} ({', '.join(names)})"
        )
    return names[index]


def build_network(
    settings: PlatformSettings,
    provider: aws.Provider,
    flow_log_key_arn: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
    service_boundary_arn: pulumi.Input[str] | None = None,
) -> Network:
    """The VPC with its subnets, NAT, endpoints and KMS-encrypted flow logs."""
    network = settings.network
    return Network(
        "network",
        {
            "cidr_block": network.cidr_block,
            "availability_zones": availability_zones(settings, provider),
            "region": settings.region,
            "account_id": settings.account,
            "nat_gateways": NatGateways(network.nat_gateways.value),
            "interface_endpoints": [e.value for e in network.interface_endpoints],
            "private_subnet_prefix_length": network.private_subnet_prefix_length,
            "public_subnet_prefix_length": network.public_subnet_prefix_length,
            "discovery_tag": discovery_tag(settings),
            "flow_log_kms_key_arn": flow_log_key_arn,
            "flow_log_retention_days": network.flow_log_retention_days,
            "name_prefix": settings.name_prefix,
            "protect_flow_logs": settings.protection.protect_stateful,
            "permissions_boundary_arn": service_boundary_arn,
        },
        opts,
    )


class NetworkCapability(Capability):
    """The VPC every other capability places its resources in; flow logs encrypted with the env key."""

    name = "network"

    def deployer_statements(self, settings: PlatformSettings) -> list:
        return network_statements(deployer_environment(settings))

    def build(self, platform: Platform) -> Network:
        key = platform.result("storage", Storage).key
        boundary = platform.result("service-roles", ServiceRoleBoundary)
        return build_network(platform.settings, platform.provider, key.arn, platform.base, boundary.arn)

    def outputs(self, platform: Platform) -> dict:
        network = platform.result(self.name, Network)
        return {"vpc_id": network.vpc_id, "private_subnet_ids": network.private_subnet_ids}


CAPABILITY = NetworkCapability()
