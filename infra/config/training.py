"""The `training` section: the EKS GPU training cluster, its GPU pools and the teams that share it."""

from __future__ import annotations

import contextvars
import ipaddress
import itertools
from collections import Counter
from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated

from mlops_platform.components.training.capacity_types import CapacityType
from mlops_platform.components.training.instance_types import (
    EFA_FAMILIES,
    architectures,
    ec2_instance_types,
    family_of,
    gpu_family_problem,
    gpu_type_problem,
)
from pydantic import AfterValidator, Field, StringConstraints, field_validator, model_validator

from .base import RoleArn, StrictModel

SUPPORTED_KUBERNETES_VERSIONS = ("1.32", "1.33", "1.34", "1.35", "1.36")
"""Kubernetes versions a cluster may be created or kept on.

Source: the Amazon EKS Kubernetes release calendar (https://docs.aws.amazon.com/eks/latest/userguide/
kubernetes-versions.html), as of 2026-11: 1.32 and 1.33 are in extended support, 1.34-1.36 in standard support;
1.31 leaves extended support on 2026-11-26 and is excluded. Every version here also has schemas in
kubernetes-validate, so the cluster's objects are validated for the version they run on (a test checks it).
Review this tuple when EKS publishes a version or ends one's support."""

EXTENDED_SUPPORT_VERSIONS = ("1.32", "1.33")
"""Supported versions past their standard support (same source and date as above): EKS bills them at the
extended-support rate, and only an `EXTENDED` upgrade policy keeps a cluster on them."""


class SupportType(StrEnum):
    """EKS upgrade policy (`UpgradePolicy.supportType` in botocore's EKS model)."""

    STANDARD = "STANDARD"
    """When standard support ends, EKS upgrades the cluster to the next version."""
    EXTENDED = "EXTENDED"
    """The cluster stays on its version through extended support, billed at six times the standard rate."""


environment: contextvars.ContextVar[str | None] = contextvars.ContextVar("environment", default=None)
"""The environment being validated, set by `PlatformSettings` so pool rules can depend on it (spot in prod)."""

DnsLabel = Annotated[str, StringConstraints(pattern=r"^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$")]
"""A DNS-1123 label of at most 32 characters (namespace, NodePool and queue names)."""
Quantity = Annotated[str, StringConstraints(pattern=r"^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$")]
"""A Kubernetes resource quantity, e.g. `96`, `500m`, `768Gi`."""
Duration = Annotated[str, StringConstraints(pattern=r"^([0-9]+(s|m|h))+$")]
"""A Go duration such as `5m` or `1h30m`."""
Zone = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-[0-9][a-z]$")]
"""An availability zone name, e.g. `us-east-1a`."""
S3Prefix = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9/_.-]*/$")]
"""An S3 key prefix ending with `/`."""


def _check_version(value: str) -> str:
    if value not in SUPPORTED_KUBERNETES_VERSIONS:
        raise ValueError(
            f"unsupported Kubernetes version; supported: {', '.join(SUPPORTED_KUBERNETES_VERSIONS)} "
            "(EKS standard or extended support)"
        )
    return value


_NON_PUBLIC = [
    ipaddress.IPv4Network(cidr)
    for cidr in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16")
]
"""Ranges that never reach a public endpoint (RFC 1918, CGNAT, loopback, link-local)."""


def _check_public_cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"not an IPv4 CIDR with its host bits zero ({exc})") from None
    if network.prefixlen == 0:
        raise ValueError("the API endpoint is never open to the whole internet; list the networks that need it")
    if any(network.subnet_of(reserved) for reserved in _NON_PUBLIC):
        raise ValueError(
            "a private, shared or link-local range never reaches a public endpoint; the private endpoint serves the VPC"
        )
    return value


def _check_cidr(value: str) -> str:
    try:
        ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"not an IPv4 CIDR with its host bits zero ({exc})") from None
    if value == "0.0.0.0/0":
        raise ValueError("egress to the whole internet is not a tenancy default; list the destinations")
    return value


KubernetesVersion = Annotated[str, AfterValidator(_check_version)]
PublicCidr = Annotated[str, AfterValidator(_check_public_cidr)]
EgressCidr = Annotated[str, AfterValidator(_check_cidr)]


class SystemNodeSettings(StrictModel):
    """The on-demand managed node group for add-ons and controllers (Karpenter, Kueue, CoreDNS)."""

    instance_types: Annotated[list[str], Field(min_length=1)] = ["m6i.large"]
    """EC2 instance types of the system nodes (checked against botocore's EC2 model)."""
    min_size: Annotated[int, Field(ge=1, le=20)] = 2
    """Fewest system nodes."""
    desired_size: Annotated[int, Field(ge=1, le=20)] = 2
    """System nodes at creation."""
    max_size: Annotated[int, Field(ge=1, le=20)] = 3
    """Most system nodes."""
    disk_size_gib: Annotated[int, Field(ge=20, le=1000)] = 50
    """Root volume size of a system node, GiB."""

    @field_validator("instance_types")
    @classmethod
    def _known_types(cls, value: list[str]) -> list[str]:
        if unknown := [t for t in value if t not in ec2_instance_types()]:
            raise ValueError(f"{', '.join(map(repr, unknown))} not in botocore's EC2 instance types")
        return value

    @model_validator(mode="after")
    def _ordered_sizes(self) -> SystemNodeSettings:
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(
                f"need min_size <= desired_size <= max_size, got {self.min_size}/{self.desired_size}/{self.max_size}"
            )
        return self


class GpuPoolSettings(StrictModel):
    """A Karpenter NodePool of NVIDIA GPU instances; scales to zero when idle."""

    name: DnsLabel
    """Pool name: the NodePool and Kueue ResourceFlavor name, what teams refer to."""
    instance_families: list[str] = []
    """GPU families (g5, g6, g6e, p4d, p5, ...). Set this or instance_types."""
    instance_types: list[str] = []
    """Exact GPU instance types (g6.12xlarge, ...). Set this or instance_families."""
    capacity_types: Annotated[list[CapacityType], Field(min_length=1)] = ["on-demand"]
    """spot and/or on-demand; spot is refused in prod."""
    max_gpus: Annotated[int, Field(ge=1, le=4096)]
    """Most GPUs the pool may run at once (the NodePool's nvidia.com/gpu limit)."""
    consolidate_after: Duration = "10m"
    """How long a node stays empty or underutilized before Karpenter removes it (scale to zero)."""
    root_volume_gib: Annotated[int, Field(ge=50, le=16384)] = 200
    """Root volume of a GPU node, GiB (CUDA images are large)."""
    efa: bool = False
    """Multi-node pool: EFA-capable families only, launched into a cluster placement group in one zone."""
    zones: list[Zone] = []
    """Availability zones of the pool; required (exactly one) for an EFA pool."""

    @field_validator("instance_families")
    @classmethod
    def _gpu_families(cls, value: list[str]) -> list[str]:
        if problems := [p for p in map(gpu_family_problem, value) if p]:
            raise ValueError("; ".join(problems))
        return value

    @field_validator("instance_types")
    @classmethod
    def _gpu_types(cls, value: list[str]) -> list[str]:
        if problems := [p for p in map(gpu_type_problem, value) if p]:
            raise ValueError("; ".join(problems))
        return value

    @field_validator("capacity_types")
    @classmethod
    def _no_spot_in_prod(cls, value: list[CapacityType]) -> list[CapacityType]:
        if CapacityType.SPOT in value and environment.get() == "prod":
            raise ValueError(
                "spot capacity is not allowed in prod (interruptions would cost reviewed training runs); "
                "use [on-demand]"
            )
        return value

    @model_validator(mode="after")
    def _one_selector(self) -> GpuPoolSettings:
        if bool(self.instance_families) == bool(self.instance_types):
            raise ValueError(f"gpu pool {self.name!r}: set exactly one of instance_families or instance_types")
        families = self.instance_families or sorted({family_of(t) for t in self.instance_types})
        if len(architectures(families)) > 1:
            raise ValueError(f"gpu pool {self.name!r} mixes arm64 and amd64 families {families}; split it in two")
        if self.efa and (set(families) - EFA_FAMILIES or len(self.zones) != 1):
            raise ValueError(
                f"gpu pool {self.name!r} has efa: true, which needs families among "
                f"{', '.join(sorted(EFA_FAMILIES))} and exactly one zone (a cluster placement group "
                "lives in one AZ)"
            )
        return self


class TeamSettings(StrictModel):
    """A tenant of the training cluster: its namespace, quotas, queue and data prefix."""

    name: DnsLabel
    """Team name: the namespace, ClusterQueue and role suffix."""
    gpu_pool: DnsLabel | None = None
    """GPU pool the team's quota lives on; default the first pool."""
    gpu_quota: Annotated[int, Field(ge=0, le=4096)]
    """GPUs guaranteed to the team (Kueue nominal quota)."""
    borrowing_limit_gpus: Annotated[int, Field(ge=0, le=4096)] = 0
    """GPUs the team may borrow from idle quota of other teams on the same pool."""
    cpu: Quantity
    """CPU requests the team's jobs may hold in total."""
    memory: Quantity
    """Memory requests the team's jobs may hold in total."""
    s3_prefix: S3Prefix | None = None
    """The team's prefix in every data-lake zone; default `teams/<name>/`."""
    member_role_arns: list[RoleArn] = []
    """IAM roles of the team's members (e.g. its IAM Identity Center permission-set role); they may run jobs in
    the team namespace."""


class TrainingSettings(StrictModel):
    """The EKS training cluster: version, API exposure, system nodes, GPU pools and teams."""

    kubernetes_version: KubernetesVersion
    """Kubernetes minor version of the cluster, e.g. "1.35" (quoted in YAML)."""
    support_type: SupportType = SupportType.STANDARD
    """EKS upgrade policy: STANDARD (upgraded when standard support ends) or EXTENDED (stays, at the
    extended-support price). Versions already in extended support need EXTENDED."""
    public_access_cidrs: Annotated[list[PublicCidr], Field(max_length=40)] = []
    """Public networks allowed to reach the API endpoint. Empty (default) keeps it private-only; 0.0.0.0/0 is
    refused."""
    control_plane_log_retention_days: Annotated[int, Field(ge=1, le=3653)] = 90
    """Retention of the control-plane logs (api, audit, authenticator, controllerManager, scheduler)."""
    system_nodes: SystemNodeSettings = SystemNodeSettings()
    """The system node group."""
    karpenter_replicas: Annotated[int, Field(ge=1, le=3)] = 2
    """Karpenter controller replicas (2 for high availability)."""
    ami_alias: Annotated[str, StringConstraints(pattern=r"^al2023@(latest|v[0-9]{8})$")] = "al2023@latest"
    """AL2023 AMI alias of the GPU nodes (Karpenter picks the NVIDIA variant); pin `al2023@vYYYYMMDD` to freeze it."""
    gpu_pools: Annotated[list[GpuPoolSettings], Field(min_length=1)]
    """GPU node pools."""
    teams: list[TeamSettings] = []
    """Teams sharing the cluster."""
    extra_egress_cidrs: list[EgressCidr] = []
    """More destinations (HTTPS) team pods may reach; the VPC (interface endpoints) and S3 (through the gateway
    endpoint) are always allowed."""

    @field_validator("gpu_pools")
    @classmethod
    def _unique_pools(cls, value: list[GpuPoolSettings]) -> list[GpuPoolSettings]:
        if duplicates := _duplicates(p.name for p in value):
            raise ValueError(f"duplicate gpu pool name(s) {duplicates}")
        return value

    @field_validator("teams")
    @classmethod
    def _unique_teams(cls, value: list[TeamSettings]) -> list[TeamSettings]:
        if duplicates := _duplicates(t.name for t in value):
            raise ValueError(f"duplicate team name(s) {duplicates}; each team has one namespace")
        if duplicates := _duplicates(arn for t in value for arn in t.member_role_arns):
            raise ValueError(f"role(s) {duplicates} are members of more than one team; a role has one access entry")
        prefixes = sorted(t.s3_prefix or f"teams/{t.name}/" for t in value)
        for shorter, longer in itertools.pairwise(prefixes):
            if longer.startswith(shorter):
                raise ValueError(f"s3 prefixes {shorter!r} and {longer!r} overlap; teams' data must be disjoint")
        return value

    @model_validator(mode="after")
    def _extended_versions_need_extended_support(self) -> TrainingSettings:
        if self.kubernetes_version in EXTENDED_SUPPORT_VERSIONS and self.support_type is not SupportType.EXTENDED:
            raise ValueError(
                f"kubernetes_version {self.kubernetes_version} is in extended support; set support_type: EXTENDED "
                f"(billed at the extended rate) or use one of "
                f"{', '.join(v for v in SUPPORTED_KUBERNETES_VERSIONS if v not in EXTENDED_SUPPORT_VERSIONS)}"
            )
        return self

    @model_validator(mode="after")
    def _quotas_fit_pools(self) -> TrainingSettings:
        pools = {p.name: p for p in self.gpu_pools}
        nominal: dict[str, int] = {}
        for index, team in enumerate(self.teams):
            pool_name = team.gpu_pool or self.gpu_pools[0].name
            if pool_name not in pools:
                raise ValueError(f"teams.{index}.gpu_pool = {pool_name!r}: no such gpu pool; pools: {', '.join(pools)}")
            pool = pools[pool_name]
            if team.gpu_quota + team.borrowing_limit_gpus > pool.max_gpus:
                raise ValueError(
                    f"teams.{index} ({team.name}): gpu_quota + borrowing_limit_gpus = "
                    f"{team.gpu_quota + team.borrowing_limit_gpus} exceeds gpu pool {pool.name!r} "
                    f"max_gpus = {pool.max_gpus}"
                )
            nominal[pool_name] = nominal.get(pool_name, 0) + team.gpu_quota
        for pool_name, total in nominal.items():
            if total > pools[pool_name].max_gpus:
                raise ValueError(
                    f"teams' gpu_quota on gpu pool {pool_name!r} sum to {total}, more than its max_gpus = "
                    f"{pools[pool_name].max_gpus}; guaranteed quota must fit the pool"
                )
        return self


def _duplicates(values: Iterable[str]) -> list[str]:
    return sorted(value for value, count in Counter(values).items() if count > 1)


__all__ = [
    "EXTENDED_SUPPORT_VERSIONS",
    "SUPPORTED_KUBERNETES_VERSIONS",
    "GpuPoolSettings",
    "SupportType",
    "SystemNodeSettings",
    "TeamSettings",
    "TrainingSettings",
    "environment",
]
