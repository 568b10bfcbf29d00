"""Wiring of the GPU training platform: EKS cluster, Karpenter GPU pools, team tenancy, from `training` config."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pulumi
from mlops_platform.components.access import Persona, PersonaRoles
from mlops_platform.components.boundaries import ServiceRoleBoundary
from mlops_platform.components.deployer_capabilities import training_statements
from mlops_platform.components.network import Network
from mlops_platform.infra.capability import Capability, Platform, deployer_environment
from mlops_platform.infra.ci_runner import ci_cluster_access, drift_reader_rbac
from mlops_platform.infra.config import PlatformSettings
from mlops_platform.infra.config.training import TrainingSettings
from mlops_platform.infra.network import discovery_tag
from mlops_platform.infra.storage import Storage

if TYPE_CHECKING:  # the training components (EKS, SQS, Helm annotations) load only when a stack builds training
    from mlops_platform.components.tenancy import Team
    from mlops_platform.components.training import ClusterAccess, GpuPool

AUTOSCALING_SERVICE_ROLE = "role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
"""The service-linked role EC2 Auto Scaling launches managed-node-group instances with; it needs the env key to
create their encrypted root volumes."""


def cluster_name(settings: PlatformSettings) -> str:
    """Physical name of the training cluster."""
    return f"{settings.name_prefix}-training"


def key_user_role_arns(settings: PlatformSettings) -> list[str]:
    """Roles of the training platform that use the env key (for its key policy): the control plane (secrets),
    the EBS CSI driver and Karpenter (encrypted volumes), Auto Scaling (system nodes) and every team role (S3)."""
    if settings.training is None:
        return []
    from mlops_platform.components.tenancy import team_role_name

    account, name = settings.account, cluster_name(settings)
    roles = [f"{name}-cluster", f"{name}-ebs-csi", f"{name}-karpenter"]
    roles += [team_role_name(settings.name_prefix, team.name) for team in settings.training.teams]
    return [f"arn:aws:iam::{account}:role/{role}" for role in roles] + [
        f"arn:aws:iam::{account}:{AUTOSCALING_SERVICE_ROLE}"
    ]


def teams(training: TrainingSettings) -> list[Team]:
    """The config's teams as component values (the default pool is the first one)."""
    from mlops_platform.components.tenancy import Team

    return [
        Team(
            name=team.name,
            gpu_pool=team.gpu_pool or training.gpu_pools[0].name,
            gpu_quota=team.gpu_quota,
            cpu=team.cpu,
            memory=team.memory,
            borrowing_limit_gpus=team.borrowing_limit_gpus,
            s3_prefix=team.s3_prefix,
            member_role_arns=tuple(team.member_role_arns),
        )
        for team in training.teams
    ]


def gpu_pools(training: TrainingSettings) -> list[GpuPool]:
    """The config's GPU pools as component values."""
    from mlops_platform.components.training import CapacityType, GpuPool

    return [
        GpuPool(
            name=pool.name,
            max_gpus=pool.max_gpus,
            instance_families=tuple(pool.instance_families),
            instance_types=tuple(pool.instance_types),
            capacity_types=tuple(CapacityType(c) for c in pool.capacity_types),
            consolidate_after=pool.consolidate_after,
            root_volume_gib=pool.root_volume_gib,
            efa=pool.efa,
            zones=tuple(pool.zones),
        )
        for pool in training.gpu_pools
    ]


def persona_access(training: TrainingSettings, role_arns: Mapping[Persona, pulumi.Input[str]]) -> list[ClusterAccess]:
    """Access entries of the human personas, view-only: ML engineers view the whole cluster (`AmazonEKSViewPolicy`:
    no Secrets, unlike `AmazonEKSAdminViewPolicy`), the (team-agnostic) data-scientist role views the team
    namespaces. Jobs are submitted by team members, whose entries map to their team's group (RBAC in the team's
    namespace only) from the tenancy."""
    from mlops_platform.components.training import AccessPolicy, ClusterAccess, PolicyGrant

    namespaces = tuple(team.name for team in training.teams)
    engineer = [PolicyGrant(AccessPolicy.VIEW)]
    scientist = []
    if namespaces:
        scientist.append(PolicyGrant(AccessPolicy.VIEW, namespaces))
    access = [ClusterAccess("ml-engineer", role_arns[Persona.ML_ENGINEER], tuple(engineer))]
    if scientist:
        access.append(ClusterAccess("data-scientist", role_arns[Persona.DATA_SCIENTIST], tuple(scientist)))
    return access


def build_training(
    settings: PlatformSettings,
    *,
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]],
    discovery_tag: str,
    vpc_cidr: str,
    s3_cidr_blocks: pulumi.Input[Sequence[str]],
    kms_key_arn: pulumi.Input[str],
    bucket_arns: Mapping[str, pulumi.Input[str]],
    persona_role_arns: Mapping[Persona, pulumi.Input[str]],
    service_boundary_arn: pulumi.Input[str],
    persona_boundary_arn: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> dict[str, Any]:
    """Register the training cluster, its GPU capacity and tenancy; return the stack outputs."""
    from mlops_platform.components.tenancy import Tenancy
    from mlops_platform.components.training import GpuCapacity, SystemNodes, TrainingCluster

    training = settings.training
    assert training is not None
    account, region = settings.account, settings.region
    nodes = training.system_nodes
    cluster = TrainingCluster(
        "training",
        {
            "cluster_name": cluster_name(settings),
            "kubernetes_version": training.kubernetes_version,
            "account_id": account,
            "region": region,
            "subnet_ids": subnet_ids,
            "kms_key_arn": kms_key_arn,
            "public_access_cidrs": training.public_access_cidrs,
            "log_retention_days": training.control_plane_log_retention_days,
            "access": persona_access(training, persona_role_arns) + ci_cluster_access(persona_role_arns),
            "system_nodes": SystemNodes(
                instance_types=tuple(nodes.instance_types),
                min_size=nodes.min_size,
                desired_size=nodes.desired_size,
                max_size=nodes.max_size,
                disk_size_gib=nodes.disk_size_gib,
            ),
            "deletion_protection": settings.protection.protect_stateful,
            "support_type": training.support_type.value,
            "discovery_tag": discovery_tag,
            "permissions_boundary_arn": service_boundary_arn,
        },
        opts,
    )
    pools = gpu_pools(training)
    capacity = GpuCapacity(
        "gpu",
        {
            "cluster_name": cluster.name,
            "cluster_arn": cluster.arn,
            "cluster_endpoint": cluster.endpoint,
            "account_id": account,
            "region": region,
            "kms_key_arn": kms_key_arn,
            "discovery_tag": discovery_tag,
            "k8s_provider": cluster.provider,
            "pools": pools,
            "depends_on": cluster.ready,
            "ami_alias": training.ami_alias,
            "controller_replicas": training.karpenter_replicas,
            "permissions_boundary_arn": service_boundary_arn,
        },
        opts,
    )
    tenancy = Tenancy(
        "tenancy",
        {
            "cluster_name": cluster.name,
            "cluster_arn": cluster.arn,
            "account_id": account,
            "region": region,
            "name_prefix": settings.name_prefix,
            "k8s_provider": cluster.provider,
            "kms_key_arn": kms_key_arn,
            "bucket_arns": bucket_arns,
            "vpc_cidr": vpc_cidr,
            "gpu_pools": [pool.name for pool in pools],
            "teams": teams(training),
            "extra_egress_cidrs": training.extra_egress_cidrs,
            "s3_cidr_blocks": s3_cidr_blocks,
            # Team roles are data roles: the persona boundary (env buckets and key) caps them, and is one the CI
            # deployer may attach.
            "permissions_boundary_arn": persona_boundary_arn,
            "depends_on": cluster.ready,
        },
        opts,
    )
    from mlops_platform.components.tenancy import KUEUE_NAMESPACE
    from mlops_platform.components.training.capacity import DEVICE_PLUGIN_NAMESPACE, KARPENTER_NAMESPACE

    drift_reader_rbac(
        "training",
        release_namespaces=[KARPENTER_NAMESPACE, DEVICE_PLUGIN_NAMESPACE, KUEUE_NAMESPACE],
        provider=cluster.provider,
        parent=cluster,
        depends_on=[tenancy.kueue],  # it creates its namespace
    )
    return {
        "cluster_name": cluster.name,
        "cluster_endpoint": cluster.endpoint,
        "cluster_security_group_id": cluster.security_group_id,
        "karpenter_node_role_arn": capacity.node_role.arn,
        "gpu_pools": [pool.name for pool in pools],
        "team_role_arns": {team: role.arn for team, role in tenancy.roles.items()},
    }


class TrainingCapability(Capability):
    """The EKS training cluster, its GPU capacity and team tenancy (opt-in: the `training` section)."""

    name = "training"

    def key_users(self, settings: PlatformSettings) -> list[str]:
        return key_user_role_arns(settings)

    def deployer_statements(self, settings: PlatformSettings) -> list:
        return training_statements(deployer_environment(settings)) if settings.training else []

    def build(self, platform: Platform) -> dict[str, Any] | None:
        settings = platform.settings
        if settings.training is None:
            return None
        built = platform.result("storage", Storage)
        network = platform.result("network", Network)
        personas = platform.result("access", PersonaRoles)
        return build_training(
            settings,
            subnet_ids=network.private_subnet_ids,
            discovery_tag=discovery_tag(settings),
            vpc_cidr=network.vpc_cidr,
            s3_cidr_blocks=network.s3_cidr_blocks,
            kms_key_arn=built.key.arn,
            bucket_arns={zone: bucket.arn for zone, bucket in built.lake.buckets.items()},
            persona_role_arns={persona: role.arn for persona, role in personas.roles.items()},
            service_boundary_arn=platform.result("service-roles", ServiceRoleBoundary).arn,
            persona_boundary_arn=personas.boundary.arn,
            opts=platform.base,
        )

    def outputs(self, platform: Platform) -> dict:
        outputs = platform.results.get(self.name)
        return {"training": outputs} if outputs is not None else {}


CAPABILITY = TrainingCapability()
