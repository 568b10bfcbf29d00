"""Wiring of the `disaster_recovery` section: replicas of the artifacts (and optionally raw) bucket in a second
region, through a second AWS provider; off unless `disaster_recovery.replica_region` is set."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_aws as aws
from mlops_platform.components.deployer import KEY_ADMIN_ACTIONS
from mlops_platform.components.replication import (
    CrossRegionReplication,
    ReplicatedBucket,
    replication_role_name,
)
from mlops_platform.components.storage import LOCKED_BUCKETS, ObjectLock, ObjectLockMode, SecureBucket
from mlops_platform.infra.capability import Capability, Platform
from mlops_platform.infra.config import PlatformSettings
from mlops_platform.infra.storage import key_administrators

Statement = dict[str, Any]


def replicated_zones(settings: PlatformSettings) -> list[str]:
    """Zones replicated: artifacts (models, among them the approved model packages' artifacts, pipeline outputs)
    always, raw by config; none when disaster recovery is off."""
    recovery = settings.disaster_recovery
    if not recovery.enabled:
        return []
    return ["artifacts", *(["raw"] if recovery.replicate_raw else [])]


def dr_key_users(settings: PlatformSettings) -> list[str]:
    """The replication role, which decrypts source objects with the env key."""
    if not settings.disaster_recovery.enabled:
        return []
    return [f"arn:aws:iam::{settings.account}:role/{replication_role_name(settings.name_prefix)}"]


def dr_regions(settings: PlatformSettings) -> list[str]:
    """The replica region, where the CI deployer must be able to work."""
    region = settings.disaster_recovery.replica_region
    return [region] if region else []


def _replica_key_arns(settings: PlatformSettings) -> str:
    return f"arn:aws:kms:{settings.disaster_recovery.replica_region}:{settings.account}:key/*"


def dr_deployer_statements(settings: PlatformSettings) -> list[Statement]:
    """The CI deployer: replication configurations on the env's buckets, and the replica region's key and alias
    (tag-conditioned, as in the stack's region)."""
    if not settings.disaster_recovery.enabled:
        return []
    region, account, prefix = settings.disaster_recovery.replica_region, settings.account, settings.name_prefix
    return [
        {"Sid": "ManageEnvReplication", "Effect": "Allow",
         "Action": ["s3:PutReplicationConfiguration", "s3:GetReplicationConfiguration"],
         "Resource": f"arn:aws:s3:::{prefix}-*"},
        {"Sid": "ManageReplicaKeys", "Effect": "Allow", "Action": KEY_ADMIN_ACTIONS,
         "Resource": f"arn:aws:kms:{region}:{account}:key/*",
         "Condition": {"StringEquals": {"aws:ResourceTag/env": settings.environment.value}}},
        {"Sid": "ManageReplicaAliases", "Effect": "Allow",
         "Action": ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
         "Resource": [f"arn:aws:kms:{region}:{account}:alias/{prefix}-*", f"arn:aws:kms:{region}:{account}:key/*"]},
    ]  # fmt: skip


def replica_provider(settings: PlatformSettings) -> aws.Provider:
    """The second AWS provider: the replica region, the same account guard and default tags."""
    return aws.Provider(
        "aws-replica",
        region=settings.disaster_recovery.replica_region,
        allowed_account_ids=[settings.account],
        default_tags={"tags": settings.default_tags},
    )


def build_disaster_recovery(
    settings: PlatformSettings,
    *,
    source_kms_key_arn: pulumi.Input[str],
    buckets: Mapping[str, SecureBucket],
    boundary_arn: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> CrossRegionReplication | None:
    """Replicas of the replicated zones, when disaster recovery is on (`opts`: the stack's stateful options)."""
    zones = replicated_zones(settings)
    if not zones:
        return None
    recovery, storage = settings.disaster_recovery, settings.storage
    lock = storage.object_lock
    return CrossRegionReplication(
        "disaster-recovery",
        {
            "name_prefix": settings.name_prefix,
            "account_id": settings.account,
            "source_region": settings.region,
            "replica_region": recovery.replica_region,
            "replica_provider": replica_provider(settings),
            "source_kms_key_arn": source_kms_key_arn,
            "sources": [
                ReplicatedBucket(
                    zone=zone,
                    bucket_name=buckets[zone].name,
                    bucket_arn=buckets[zone].arn,
                    object_lock=(
                        ObjectLock(ObjectLockMode(lock.mode.value), lock.retention_days)
                        if lock and zone in LOCKED_BUCKETS
                        else None
                    ),
                    noncurrent_version_expiration_days=storage.noncurrent_version_expiration_days,
                    depends_on=[buckets[zone]],
                )
                for zone in zones
            ],
            "permissions_boundary_arn": boundary_arn,
            "administrator_role_arns": key_administrators(settings),
            "restore_role_arns": recovery.restore_role_arns,
            "replication_time_control": recovery.replication_time_control,
            "storage_class": recovery.replica_storage_class.value,
            "force_destroy": storage.force_destroy,
        },
        opts,
    )


def dr_outputs(replication: CrossRegionReplication | None, settings: PlatformSettings) -> dict[str, Any]:
    """Stack outputs: the replica region, replica buckets by zone and the replica key."""
    if replication is None:
        return {"disaster_recovery": None}
    return {
        "disaster_recovery": {
            "replica_region": settings.disaster_recovery.replica_region,
            "replicas": {zone: b.name for zone, b in replication.replicas.items()},
            "replica_key_arn": replication.replica_key.arn,
        }
    }


class DisasterRecoveryCapability(Capability):
    """Cross-region replication of the artifacts (and optionally raw) bucket; off unless `replica_region` is set."""

    name = "disaster-recovery"

    def deployer_statements(self, settings: PlatformSettings) -> list[Statement]:
        return dr_deployer_statements(settings)

    def build(self, platform: Platform) -> CrossRegionReplication | None:
        from mlops_platform.infra.storage import Storage

        built = platform.result("storage", Storage)
        boundary = platform.results.get("governance")
        return build_disaster_recovery(
            platform.settings,
            source_kms_key_arn=built.key.arn,
            buckets=built.lake.buckets,
            boundary_arn=boundary.arn if boundary else None,
            opts=platform.stateful,
        )

    def outputs(self, platform: Platform) -> dict[str, Any]:
        return dr_outputs(platform.results.get(self.name), platform.settings)


CAPABILITY = DisasterRecoveryCapability()
