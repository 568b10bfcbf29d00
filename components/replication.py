"""Disaster recovery for the data lake: S3 cross-region replication of chosen buckets to replicas in a second
region, encrypted there with a replica key of that region, by a role that can do nothing but replicate.

Replicas are hardened like every other bucket (`SecureBucket`), keep the source's Object Lock, and do not
receive delete markers: deleting an object in the source region leaves the replica's versions readable.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from . import _iam
from ._validation import check_args
from .encryption import EncryptionKey
from .storage import BucketEncryption, ObjectLock, SecureBucket


@dataclass(frozen=True)
class ReplicatedBucket:
    """A source bucket to replicate."""

    zone: str
    """Data-lake zone (raw, artifacts, ...): names the replica `<prefix>-dr-<zone>-…`."""
    bucket_name: pulumi.Input[str]
    """Name of the source bucket (versioned, as S3 replication requires)."""
    bucket_arn: pulumi.Input[str]
    """ARN of the source bucket."""
    object_lock: ObjectLock | None = None
    """The source's Object Lock; the replica gets the same (S3 replicates locked objects only into a locked
    bucket)."""
    noncurrent_version_expiration_days: int = 90
    """Days the replica keeps versions that are no longer current (default 90)."""
    depends_on: Sequence[Any] = ()
    """Resources (`pulumi.Resource`) that must exist before replication is configured (the source bucket's
    versioning: pass its SecureBucket)."""


REPLICA_STORAGE_CLASSES = ("STANDARD", "STANDARD_IA", "INTELLIGENT_TIERING", "GLACIER_IR")

SOURCE_OBJECT_ACTIONS = [
    "s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging",
    "s3:GetObjectRetention", "s3:GetObjectLegalHold",
]  # fmt: skip
"""What S3 reads from a source object version to replicate it (Object Lock retention and legal hold included)."""
REPLICA_OBJECT_ACTIONS = ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"]
"""What S3 writes into the replica bucket."""


def replication_role_name(name_prefix: str) -> str:
    """Physical name of the replication role, known before it exists (for the env key's policy)."""
    return f"{name_prefix}-replication"


def replica_bucket_prefix(name_prefix: str, zone: str = "") -> str:
    """Name prefix of the replicas (`<prefix>-dr-<zone>-`); with no zone, the prefix all replicas share."""
    return f"{name_prefix}-dr-{zone}-" if zone else f"{name_prefix}-dr-"


class CrossRegionReplicationArgs(TypedDict):
    """Arguments of `CrossRegionReplication`."""

    name_prefix: str
    """Prefix of physical names: role `<prefix>-replication`, replicas `<prefix>-dr-<zone>-…`, key alias
    `<prefix>-dr`."""
    account_id: str
    """The environment's account (replicas stay in it)."""
    source_region: str
    """Region of the source buckets and the source key."""
    replica_region: str
    """Region of the replicas; must differ from `source_region`."""
    replica_provider: aws.Provider
    """An AWS provider of `replica_region` (tagged like the stack's): the replica key and buckets use it."""
    source_kms_key_arn: pulumi.Input[str]
    """The env key encrypting the source buckets; its policy must let the replication role use it."""
    sources: Sequence[ReplicatedBucket]
    """The buckets to replicate."""
    permissions_boundary_arn: pulumi.Input[str]
    """Boundary of the replication role (the persona boundary, which admits the replication actions)."""
    administrator_role_arns: Sequence[str]
    """Roles that administer the replica key (never use it): the environment key's administrators."""
    restore_role_arns: NotRequired[Sequence[str]]
    """Roles that may decrypt replicas (for a restore); their own policies grant the reads."""
    replication_time_control: NotRequired[bool]
    """S3 Replication Time Control (15-minute objective, replication metrics); default False."""
    storage_class: NotRequired[str]
    """Storage class of the replicas (default STANDARD)."""
    force_destroy: NotRequired[bool]
    """Allow deleting non-empty replicas (default False)."""


class CrossRegionReplication(pulumi.ComponentResource):
    """Replicas of the source buckets in a second region, a replica key there, the replication role and one
    replication configuration per source bucket."""

    replica_key_arn: pulumi.Output[str]
    """ARN of the replica region's key (the `EncryptionKey` itself is the `replica_key` attribute)."""
    replica_bucket_names: dict[str, pulumi.Output[str]]
    """Names of the replica buckets by zone (the `SecureBucket`s are the `replicas` attribute)."""
    replica_bucket_arns: dict[str, pulumi.Output[str]]
    """ARNs of the replica buckets by zone."""
    role: aws.iam.Role
    """The replication role."""

    def __init__(self, name: str, args: CrossRegionReplicationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = check_args(CrossRegionReplication, name, args)
        _check_replication_args(name, args)
        super().__init__("mlops:replication:CrossRegionReplication", name, None, opts)
        prefix, account = args["name_prefix"], args["account_id"]
        replica_opts = pulumi.ResourceOptions(parent=self, provider=args["replica_provider"])
        stateful_replica = pulumi.ResourceOptions.merge(
            replica_opts, pulumi.ResourceOptions(retain_on_delete=opts.retain_on_delete if opts else None)
        )
        role_arn = f"arn:aws:iam::{account}:role/{replication_role_name(prefix)}"

        self.replica_key: EncryptionKey = EncryptionKey(
            f"{name}-key",
            {
                "account_id": account,
                "description": f"{prefix} disaster-recovery replicas in {args['replica_region']}",
                "alias": f"{prefix}-dr",
                "administrator_role_arns": args["administrator_role_arns"],
                "user_role_arns": [role_arn, *args.get("restore_role_arns", ())],
            },
            stateful_replica,
        )
        force_destroy = args.get("force_destroy", False)
        log_bucket = SecureBucket(
            f"{name}-access-logs",
            {
                "encryption": BucketEncryption.S3_MANAGED,
                "access_logging": False,
                "bucket_prefix": replica_bucket_prefix(prefix, "access-logs"),
                "expiration_days": 365,
                "noncurrent_version_expiration_days": 30,
                "force_destroy": force_destroy,
                "extra_policy_statements": [
                    {"Sid": "AllowServerAccessLogDelivery", "Effect": "Allow",
                     "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
                     "Resource": "{bucket_arn}/*", "Condition": {"StringEquals": {"aws:SourceAccount": account}}}
                ],
            },
            stateful_replica,
        )  # fmt: skip
        self.replicas: dict[str, SecureBucket] = {
            source.zone: SecureBucket(
                f"{name}-{source.zone}",
                {
                    "kms_key_arn": self.replica_key.arn,
                    "access_log_bucket": log_bucket.name,
                    "bucket_prefix": replica_bucket_prefix(prefix, source.zone),
                    "noncurrent_version_expiration_days": source.noncurrent_version_expiration_days,
                    "object_lock": source.object_lock,
                    "force_destroy": force_destroy,
                },
                stateful_replica,
            )
            for source in args["sources"]
        }
        self.replica_key_arn = self.replica_key.arn
        self.replica_bucket_names = {zone: bucket.name for zone, bucket in self.replicas.items()}
        self.replica_bucket_arns = {zone: bucket.arn for zone, bucket in self.replicas.items()}
        primary = pulumi.ResourceOptions(parent=self)
        self.role = aws.iam.Role(
            f"{name}-role",
            name=replication_role_name(prefix),
            description=f"S3 replication of {prefix}'s data lake to {args['replica_region']}",
            assume_role_policy=_iam.render([_iam.service_trust("AssumeByS3Replication", "s3.amazonaws.com", account)]),
            permissions_boundary=args["permissions_boundary_arn"],
            max_session_duration=3600,
            opts=primary,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-role-policy",
            role=self.role.id,
            name="replicate",
            policy=_iam.render(
                replication_role_statements(args, [(s.bucket_arn, self.replicas[s.zone].arn) for s in args["sources"]],
                                            self.replica_key.arn)
            ),
            opts=primary,
        )  # fmt: skip
        for source in args["sources"]:
            replica = self.replicas[source.zone]
            aws.s3.BucketReplicationConfig(
                f"{name}-{source.zone}-rule",
                bucket=source.bucket_name,
                role=self.role.arn,
                rules=[replication_rule(replica.arn, self.replica_key.arn, args)],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[policy, replica, *source.depends_on]),
            )
        self.register_outputs(
            {"replicas": {zone: b.name for zone, b in self.replicas.items()}, "replica_key_arn": self.replica_key.arn}
        )


def _check_replication_args(name: str, args: CrossRegionReplicationArgs) -> None:
    if args["source_region"] == args["replica_region"]:
        raise ValueError(
            f"CrossRegionReplication {name!r}: replica_region={args['replica_region']!r} is the source region; "
            "replicas must be in another region"
        )
    if not args["sources"]:
        raise ValueError(f"CrossRegionReplication {name!r}: sources is empty; name at least one bucket")
    zones = [s.zone for s in args["sources"]]
    if len(set(zones)) != len(zones) or not all(re.fullmatch(r"[a-z][a-z0-9-]*", z) for z in zones):
        raise ValueError(f"CrossRegionReplication {name!r}: zones {zones} must be unique lowercase names")
    longest = max(len(replica_bucket_prefix(args["name_prefix"], z)) for z in [*zones, "access-logs"])
    if longest > 37:
        raise ValueError(
            f"CrossRegionReplication {name!r}: name_prefix={args['name_prefix']!r} makes replica bucket prefixes "
            "longer than S3's 37 characters for a bucket_prefix"
        )
    storage_class = args.get("storage_class", "STANDARD")
    if storage_class not in REPLICA_STORAGE_CLASSES:
        raise ValueError(
            f"CrossRegionReplication {name!r}: storage_class={storage_class!r} is not one of "
            f"{', '.join(REPLICA_STORAGE_CLASSES)}"
        )


def replication_rule(
    replica_arn: pulumi.Input[str], replica_key_arn: pulumi.Input[str], args: CrossRegionReplicationArgs
) -> dict:
    """One rule replicating every object (KMS-encrypted ones included) into the replica, re-encrypted with the
    replica key; delete markers stay in the source region."""
    destination: dict = {
        "bucket": replica_arn,
        "storage_class": args.get("storage_class", "STANDARD"),
        "encryption_configuration": {"replica_kms_key_id": replica_key_arn},
    }
    if args.get("replication_time_control", False):
        destination["replication_time"] = {"status": "Enabled", "time": {"minutes": 15}}
        destination["metrics"] = {"status": "Enabled", "event_threshold": {"minutes": 15}}
    return {
        "id": "disaster-recovery",
        "status": "Enabled",
        "priority": 0,
        "filter": {"prefix": ""},
        "delete_marker_replication": {"status": "Disabled"},
        "source_selection_criteria": {"sse_kms_encrypted_objects": {"status": "Enabled"}},
        "destination": destination,
    }


def replication_role_statements(
    args: CrossRegionReplicationArgs,
    pairs: Sequence[tuple[pulumi.Input[str], pulumi.Input[str]]],
    replica_key_arn: pulumi.Input[str],
) -> list[_iam.Statement]:
    """Read the source versions, write the replicas, decrypt with the env key through S3 in the source region
    for the source buckets' objects, encrypt with the replica key through S3 in the replica region. Nothing else."""
    sources = [source for source, _ in pairs]
    replicas = [replica for _, replica in pairs]

    def objects(arns):
        return [pulumi.Output.concat(arn, "/*") for arn in arns]

    def context(arns):
        return {"kms:EncryptionContext:aws:s3:arn": [*arns, *objects(arns)]}

    return [
        {"Sid": "SourceBuckets", "Effect": "Allow", "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
         "Resource": sources},
        {"Sid": "SourceObjectVersions", "Effect": "Allow", "Action": SOURCE_OBJECT_ACTIONS,
         "Resource": objects(sources)},
        {"Sid": "ReplicaObjects", "Effect": "Allow", "Action": REPLICA_OBJECT_ACTIONS, "Resource": objects(replicas)},
        {"Sid": "DecryptSources", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": args["source_kms_key_arn"],
         "Condition": {"StringEquals": {"kms:ViaService": f"s3.{args['source_region']}.amazonaws.com"},
                       "StringLike": context(sources)}},
        {"Sid": "EncryptReplicas", "Effect": "Allow", "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
         "Resource": replica_key_arn,
         "Condition": {"StringEquals": {"kms:ViaService": f"s3.{args['replica_region']}.amazonaws.com"},
                       "StringLike": context(replicas)}},
    ]  # fmt: skip
