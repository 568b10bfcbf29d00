"""The governance sections: `features` (SageMaker Feature Store), `audit` (CloudTrail) and
`disaster_recovery` (cross-region replication of the data lake)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from mlops_platform.components.feature_types import FeatureName, FeatureStage, FeatureType, TableFormat, TtlUnit
from pydantic import Field, StringConstraints, model_validator

from .base import AwsRegion, LogRetentionDays, RetentionDays, RoleArn, StrictModel
from .storage import ObjectLockSettings


class FeatureDefinition(StrictModel):
    """One feature (column) of a feature group."""

    name: FeatureName
    """Feature name: letters, digits, - and _, at most 64 characters."""
    type: FeatureType
    """Integral, Fractional or String."""


class OnlineStoreSettings(StrictModel):
    """The low-latency online store of a feature group (latest record per identifier), encrypted with the env key."""

    ttl_value: Annotated[int, Field(ge=1)] | None = None
    """Records expire this many `ttl_unit`s after their event time; unset keeps them until overwritten."""
    ttl_unit: TtlUnit = TtlUnit.DAYS
    """Seconds, Minutes, Hours, Days or Weeks."""


class FeatureGroupSettings(StrictModel):
    """A SageMaker Feature Store feature group, deployed as `<project>-<env>-<name>`."""

    name: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,40}[a-z0-9]$")]
    """Group name within the environment: lowercase letters, digits and hyphens, 2-42 characters."""
    stage: FeatureStage = FeatureStage.SANDBOX
    """sandbox (data scientists write it) or production (ML engineers manage it; inference reads it)."""
    description: Annotated[str, Field(max_length=128)] = ""
    """What the group holds, shown in the SageMaker console."""
    record_identifier: FeatureName
    """The feature identifying a record (an Integral or String feature)."""
    event_time: FeatureName
    """The feature holding each record's event time (a String in ISO-8601 or a Fractional Unix time)."""
    features: Annotated[list[FeatureDefinition], Field(min_length=2, max_length=2500)]
    """Every feature of the group, the record identifier and event time included."""
    table_format: TableFormat = TableFormat.ICEBERG
    """Offline-store table format registered in the environment's Glue database: Iceberg or Glue."""
    online_store: OnlineStoreSettings | None = None
    """Also keep the latest record per identifier in the online store; unset: offline store only."""

    @model_validator(mode="after")
    def _identifier_and_event_time_are_features(self) -> FeatureGroupSettings:
        types = {}
        for feature in self.features:
            if feature.name in types:
                raise ValueError(f"features lists {feature.name!r} twice; feature names must be unique")
            types[feature.name] = feature.type
        allowed = {
            "record_identifier": (FeatureType.INTEGRAL, FeatureType.STRING),
            "event_time": (FeatureType.STRING, FeatureType.FRACTIONAL),
        }
        for key, accepted in allowed.items():
            name = getattr(self, key)
            if name not in types:
                raise ValueError(
                    f"{key} {name!r} is not one of the group's features; expected one of: {', '.join(types)}"
                )
            if types[name] not in accepted:
                raise ValueError(
                    f"{key} {name!r} is {types[name].value}; expected a feature of type "
                    f"{' or '.join(t.value for t in accepted)}"
                )
        return self


TrailArn = Annotated[str, StringConstraints(pattern=r"^arn:aws[a-z-]*:cloudtrail:[a-z0-9-]+:\d{12}:trail/[\w.-]+$")]
"""A CloudTrail trail ARN: arn:aws:cloudtrail:<region>:<account>:trail/<name>."""


class ReplicaStorageClass(StrEnum):
    """Storage classes a replication rule may write (a subset of botocore's S3 `StorageClass`)."""

    STANDARD = "STANDARD"
    STANDARD_IA = "STANDARD_IA"
    INTELLIGENT_TIERING = "INTELLIGENT_TIERING"
    GLACIER_IR = "GLACIER_IR"


class AuditMode(StrEnum):
    """Where the environment's management events are recorded."""

    TRAIL = "trail"
    """A trail of the environment's own: management and data events, CIS alarms on its log group."""
    ORGANIZATION = "organization"
    """The organisation's trail records management events (and alarms on them); the environment's trail
    records the data lake's data events only."""


class AuditSettings(StrictModel):
    """CloudTrail: log-file validation, the env key, a dedicated audit bucket and a log group with alarms."""

    mode: AuditMode = AuditMode.TRAIL
    """trail (default) or organization (join the organisation trail named by `organization_trail_arn`)."""
    organization_trail_arn: TrailArn | None = None
    """The organisation trail recording this account's management events; required in organization mode."""
    multi_region: bool = True
    """Record events of every region (console sign-ins and global services arrive in us-east-1)."""
    data_event_reads: bool = True
    """Record reads (GetObject) of the data lake as well as writes; off halves the data-event volume."""
    log_retention_days: LogRetentionDays = 365
    """Days the trail's CloudWatch log group keeps events (the audit bucket keeps the files)."""
    bucket_retention_days: RetentionDays = 2555
    """Days the audit bucket keeps log files before expiring them (default: seven years)."""
    object_lock: ObjectLockSettings | None = None
    """Object Lock on the audit bucket; unset: none in dev and staging, GOVERNANCE for 365 days (or the bucket
    retention, if shorter) in prod. Can only be enabled when the bucket is created."""
    reader_role_arns: list[RoleArn] = []
    """Roles (e.g. the security team's) that may read and decrypt the log files; nobody else can."""

    @model_validator(mode="after")
    def _organization_needs_its_trail(self) -> AuditSettings:
        if self.mode is AuditMode.ORGANIZATION and not self.organization_trail_arn:
            raise ValueError("mode 'organization' needs organization_trail_arn (the trail this account joins)")
        if self.mode is AuditMode.TRAIL and self.organization_trail_arn:
            raise ValueError("organization_trail_arn is only read in mode 'organization'; remove it or set the mode")
        if self.object_lock and self.bucket_retention_days < self.object_lock.retention_days:
            raise ValueError(
                f"bucket_retention_days ({self.bucket_retention_days}) is shorter than object_lock.retention_days "
                f"({self.object_lock.retention_days}); locked log files cannot expire early"
            )
        return self


class DisasterRecoverySettings(StrictModel):
    """Cross-region replication of the data lake, for the loss of the stack's region. Off unless
    `replica_region` is set."""

    replica_region: AwsRegion | None = None
    """Second region holding replicas of the artifacts bucket (models, pipeline outputs); setting it turns
    replication on."""
    replicate_raw: bool = False
    """Replicate the raw bucket as well (source data that cannot be re-ingested)."""
    replication_time_control: bool = False
    """S3 Replication Time Control: 99.99 % of objects within 15 minutes, with replication metrics (extra cost)."""
    replica_storage_class: ReplicaStorageClass = ReplicaStorageClass.STANDARD
    """Storage class of the replicas: STANDARD, STANDARD_IA, INTELLIGENT_TIERING or GLACIER_IR."""
    restore_role_arns: list[RoleArn] = []
    """Roles that run the restore drill and a real restore (e.g. a break-glass administrator): the replica key's
    policy lets them decrypt replicas; their own permissions must allow reading the replica buckets."""

    @property
    def enabled(self) -> bool:
        """Replication is on."""
        return self.replica_region is not None


PROD_AUDIT_LOCK_DAYS = 365
"""Default Object Lock retention of prod's audit bucket when `audit.object_lock` is unset."""


def audit_object_lock(settings) -> ObjectLockSettings | None:
    """The audit bucket's effective Object Lock: the configured one, or prod's default."""
    audit = settings.audit
    if audit.object_lock is not None or settings.environment.value != "prod":
        return audit.object_lock
    return ObjectLockSettings(mode="GOVERNANCE", retention_days=min(PROD_AUDIT_LOCK_DAYS, audit.bucket_retention_days))


def check_governance(settings) -> None:  # settings: PlatformSettings (imported lazily: no import cycle)
    """Rules across sections: unique group names that fit SageMaker's 64 characters, and a replica region other
    than the stack's."""
    seen: set[str] = set()
    for index, group in enumerate(settings.features):
        if group.name in seen:
            raise ValueError(f"features[{index}].name {group.name!r} is used twice; feature group names must be unique")
        seen.add(group.name)
        physical = f"{settings.name_prefix}-{group.name}"
        if len(physical) > 64:
            raise ValueError(
                f"features[{index}].name {group.name!r} makes the feature group name {physical!r} longer than "
                f"SageMaker's 64 characters; use at most {64 - len(settings.name_prefix) - 1} characters"
            )
    recovery = settings.disaster_recovery
    if recovery.replica_region == settings.region:
        raise ValueError(
            f"disaster_recovery.replica_region {recovery.replica_region!r} is the stack's own region; "
            "a replica must survive the loss of that region, so choose another one (e.g. us-west-2 for us-east-1)"
        )
