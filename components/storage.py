"""S3 storage hardened to the security baseline, and the per-environment data lake built from it."""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from . import _iam
from ._options import stateful
from ._validation import check_args


class BucketEncryption(StrEnum):
    """Default encryption of a bucket."""

    KMS = "aws:kms"
    """SSE-KMS with a customer-managed key and S3 bucket keys (the default)."""
    S3_MANAGED = "AES256"
    """SSE-S3. Only for buckets that AWS services must write to without KMS, such as server access logs."""


class ObjectLockMode(StrEnum):
    """S3 Object Lock retention modes."""

    GOVERNANCE = "GOVERNANCE"
    """Users with s3:BypassGovernanceRetention may shorten or lift the lock."""
    COMPLIANCE = "COMPLIANCE"
    """Nobody, the root user included, can delete a locked version before the retention ends."""


@dataclass(frozen=True)
class ObjectLock:
    """Default Object Lock retention for new object versions."""

    mode: ObjectLockMode
    """GOVERNANCE or COMPLIANCE."""
    retention_days: int
    """Days each new version is locked."""


class SecureBucketArgs(TypedDict):
    """Arguments of `SecureBucket`. Every hardening is on unless switched off here, by name."""

    kms_key_arn: NotRequired[pulumi.Input[str]]
    """The customer-managed key for SSE-KMS. Required unless `encryption` is S3_MANAGED."""
    encryption: NotRequired[BucketEncryption]
    """Default encryption; KMS unless stated otherwise."""
    access_log_bucket: NotRequired[pulumi.Input[str]]
    """Name of the bucket receiving server access logs. Required unless `access_logging` is False."""
    access_logging: NotRequired[bool]
    """Write server access logs (default True). Only a log bucket itself should turn this off."""
    bucket_prefix: NotRequired[str]
    """Physical name prefix (AWS appends a unique suffix); max 37 characters. Default: Pulumi auto-naming."""
    noncurrent_version_expiration_days: NotRequired[int]
    """Days a superseded version is kept (default 90)."""
    abort_incomplete_multipart_upload_days: NotRequired[int]
    """Days before unfinished multipart uploads are aborted (default 7)."""
    intelligent_tiering_after_days: NotRequired[int | None]
    """Transition current versions to INTELLIGENT_TIERING after this many days; None (default) keeps STANDARD."""
    expiration_days: NotRequired[int | None]
    """Expire current versions after this many days (logs); None (default) keeps them."""
    object_lock: NotRequired[ObjectLock | None]
    """Default Object Lock retention; None (default) creates the bucket without Object Lock."""
    force_destroy: NotRequired[bool]
    """Allow deleting a non-empty bucket (default False)."""
    log_target: NotRequired[bool]
    """This bucket receives S3 server access logs (default False): its policy lets the S3 logging service
    (`logging.s3.amazonaws.com`) put objects, only for buckets of `log_source_account_id`, and its default
    encryption becomes SSE-S3, since server access logging cannot deliver to an SSE-KMS bucket."""
    log_source_account_id: NotRequired[pulumi.Input[str]]
    """The account whose buckets may deliver access logs here (condition aws:SourceAccount); required with
    `log_target`."""
    extra_policy_statements: NotRequired[Sequence[_iam.Statement]]
    """More bucket-policy statements, e.g. a service principal allowed to write. `{bucket_arn}` in a
    Resource string is replaced with the bucket's ARN."""


class SecureBucket(pulumi.ComponentResource):
    """An S3 bucket with SSE-KMS and bucket keys, versioning, all four public-access blocks, ACLs disabled,
    a policy denying non-TLS access and puts with another encryption or key, server access logging and
    lifecycle rules. Pass `ResourceOptions(protect=True, retain_on_delete=True)` to keep it through deletes.
    """

    bucket: aws.s3.Bucket
    """The bucket."""
    name: pulumi.Output[str]
    """Physical bucket name."""
    arn: pulumi.Output[str]
    """Bucket ARN."""

    def __init__(self, name: str, args: SecureBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = check_args(SecureBucket, name, args)
        _check_bucket_args(name, args)
        super().__init__("mlops:storage:SecureBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        lock = args.get("object_lock")

        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket_prefix=args.get("bucket_prefix"),
            force_destroy=args.get("force_destroy", False),
            object_lock_enabled=True if lock else None,
            opts=stateful(child, opts),
        )
        self.name = self.bucket.bucket
        self.arn = self.bucket.arn
        bucket_child = pulumi.ResourceOptions(parent=self, depends_on=[self.bucket])

        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=bucket_child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=bucket_child,
        )
        aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=self.bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=bucket_child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[_encryption_rule(args)],
            opts=bucket_child,
        )
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=_iam.render(bucket_policy_statements(self.arn, args)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access]),
        )
        if args.get("access_logging", True):
            aws.s3.BucketLogging(
                f"{name}-logging",
                bucket=self.bucket.id,
                target_bucket=args["access_log_bucket"],
                target_prefix=f"{name}/",
                target_object_key_format={"partitioned_prefix": {"partition_date_source": "EventTime"}},
                opts=bucket_child,
            )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=lifecycle_rules(args),
            opts=bucket_child,
        )
        if lock:
            aws.s3.BucketObjectLockConfiguration(
                f"{name}-object-lock",
                bucket=self.bucket.id,
                rule={"default_retention": {"mode": lock.mode.value, "days": lock.retention_days}},
                opts=bucket_child,
            )
        self.register_outputs({"name": self.name, "arn": self.arn})


def _check_bucket_args(name: str, args: SecureBucketArgs) -> None:
    accepted = [e.value for e in BucketEncryption]
    if args.get("encryption", BucketEncryption.KMS) not in accepted:
        raise ValueError(
            f"SecureBucket {name!r}: encryption={args['encryption']!r} is not one of {', '.join(accepted)}"
        )
    encryption = _encryption(args)
    if encryption is BucketEncryption.KMS and not args.get("kms_key_arn"):
        raise ValueError(f"SecureBucket {name!r}: kms_key_arn is required when encryption is KMS (the default)")
    if args.get("access_logging", True) and not args.get("access_log_bucket"):
        raise ValueError(
            f"SecureBucket {name!r}: access_log_bucket is required; set access_logging=False to turn logging off"
        )
    prefix = args.get("bucket_prefix")
    if prefix is not None and not (len(prefix) <= 37 and prefix == prefix.lower()):
        raise ValueError(f"SecureBucket {name!r}: bucket_prefix={prefix!r} must be lowercase and at most 37 characters")
    for key in ("noncurrent_version_expiration_days", "abort_incomplete_multipart_upload_days", "expiration_days"):
        value = args.get(key)
        if value is not None and value < 1:
            raise ValueError(f"SecureBucket {name!r}: {key}={value} must be at least 1 day")
    lock = args.get("object_lock")
    if lock and lock.retention_days < 1:
        raise ValueError(f"SecureBucket {name!r}: object_lock.retention_days={lock.retention_days} must be at least 1")


def _encryption(args: SecureBucketArgs) -> BucketEncryption:
    default = BucketEncryption.S3_MANAGED if args.get("log_target") else BucketEncryption.KMS
    return BucketEncryption(args.get("encryption", default))


def _encryption_rule(args: SecureBucketArgs) -> dict:
    if _encryption(args) is BucketEncryption.S3_MANAGED:
        return {"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}
    return {
        "apply_server_side_encryption_by_default": {
            "sse_algorithm": "aws:kms",
            "kms_master_key_id": args["kms_key_arn"],
        },
        "bucket_key_enabled": True,
    }


def bucket_policy_statements(bucket_arn: pulumi.Input[str], args: SecureBucketArgs) -> list[_iam.Statement]:
    """Deny non-TLS access; for KMS buckets, deny puts that ask for another algorithm or key.

    Puts that send no encryption header are allowed: the bucket's default encryption applies the
    bucket's own key to them, which is what AWS SDKs rely on.
    """
    objects = pulumi.Output.concat(bucket_arn, "/*")
    statements: list[_iam.Statement] = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, objects],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]
    if _encryption(args) is BucketEncryption.KMS:
        algorithm = "s3:x-amz-server-side-encryption"
        key_id = "s3:x-amz-server-side-encryption-aws-kms-key-id"
        statements += [
            {
                "Sid": "DenyPutsWithOtherEncryption",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": objects,
                "Condition": {"StringNotEquals": {algorithm: "aws:kms"}, "Null": {algorithm: "false"}},
            },
            {
                "Sid": "DenyPutsWithOtherKey",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": objects,
                "Condition": {"StringNotEquals": {key_id: args["kms_key_arn"]}, "Null": {key_id: "false"}},
            },
        ]
    if args.get("log_target"):
        statements.append(_with_bucket_arn(_log_delivery_statement(args["log_source_account_id"]), bucket_arn))
    for statement in args.get("extra_policy_statements", []):
        statements.append(_with_bucket_arn(statement, bucket_arn))
    return statements


def _with_bucket_arn(statement: _iam.Statement, bucket_arn: pulumi.Input[str]) -> _iam.Statement:
    def substitute(resource):
        if isinstance(resource, str) and "{bucket_arn}" in resource:
            head, tail = resource.split("{bucket_arn}", 1)
            return pulumi.Output.concat(head, bucket_arn, tail)
        return resource

    resources = statement.get("Resource")
    if isinstance(resources, list):
        return {**statement, "Resource": [substitute(r) for r in resources]}
    return {**statement, "Resource": substitute(resources)}


def lifecycle_rules(args: SecureBucketArgs) -> list[dict]:
    """Lifecycle rules: noncurrent-version expiry, multipart abort, optional tiering and expiry."""
    everything = {"prefix": ""}
    noncurrent = {
        "id": "expire-noncurrent-versions",
        "status": "Enabled",
        "filter": everything,
        "noncurrent_version_expiration": {"noncurrent_days": args.get("noncurrent_version_expiration_days", 90)},
    }
    expiration_days = args.get("expiration_days")
    if expiration_days is None:
        # Delete markers with no versions left behind them only slow down listings.
        noncurrent["expiration"] = {"expired_object_delete_marker": True}
    rules = [
        noncurrent,
        {
            "id": "abort-incomplete-multipart-uploads",
            "status": "Enabled",
            "filter": everything,
            "abort_incomplete_multipart_upload": {
                "days_after_initiation": args.get("abort_incomplete_multipart_upload_days", 7)
            },
        },
    ]
    tiering_days = args.get("intelligent_tiering_after_days")
    if tiering_days is not None:
        rules.append(
            {
                "id": "intelligent-tiering",
                "status": "Enabled",
                "filter": everything,
                "transitions": [{"days": tiering_days, "storage_class": "INTELLIGENT_TIERING"}],
            }
        )
    if expiration_days is not None:
        rules.append(
            {
                "id": "expire-current-versions",
                "status": "Enabled",
                "filter": everything,
                "expiration": {"days": expiration_days},
            }
        )
    return rules


DATA_BUCKETS = ("raw", "curated", "features", "artifacts")
"""The data lake's zones: raw ingested data, curated (cleaned) data, features, and artifacts (models,
pipeline outputs, checkpoints, data capture)."""

LOCKED_BUCKETS = ("raw", "artifacts")
"""Zones that get Object Lock when the lake is given one: source data and released models."""


class DataLakeArgs(TypedDict):
    """Arguments of `DataLake`."""

    kms_key_arn: pulumi.Input[str]
    """The environment's customer-managed key; every data bucket is encrypted with it."""
    account_id: pulumi.Input[str]
    """The account owning the buckets; only its buckets may deliver access logs to the log bucket."""
    name_prefix: NotRequired[str]
    """Physical name prefix, e.g. `mlops-platform-dev`; buckets are named `<prefix>-<zone>-<suffix>`."""
    noncurrent_version_expiration_days: NotRequired[int]
    """Days a superseded version is kept in the data buckets (default 90)."""
    abort_incomplete_multipart_upload_days: NotRequired[int]
    """Days before unfinished multipart uploads are aborted (default 7)."""
    intelligent_tiering_after_days: NotRequired[int | None]
    """Tier data-bucket objects to INTELLIGENT_TIERING after this many days (default: never)."""
    access_log_retention_days: NotRequired[int]
    """Days server access logs are kept (default 365)."""
    object_lock: NotRequired[ObjectLock | None]
    """Object Lock for the raw and artifacts buckets (default: none)."""
    force_destroy: NotRequired[bool]
    """Allow deleting non-empty buckets (default False)."""
    artifacts_policy_statements: NotRequired[Sequence[_iam.Statement]]
    """More statements for the artifacts bucket's policy (`{bucket_arn}` is substituted), e.g. other accounts
    reading promoted models."""


class DataLake(pulumi.ComponentResource):
    """The environment's data lake: raw, curated, features and artifacts buckets encrypted with the env key,
    plus the bucket receiving their server access logs.

    The log bucket uses SSE-S3: S3 server access logging cannot deliver to a bucket whose default
    encryption is SSE-KMS. It is otherwise hardened like the others and does not log to itself.
    """

    bucket_names: dict[str, pulumi.Output[str]]
    """Physical names of the data buckets by zone: raw, curated, features, artifacts."""
    bucket_arns: dict[str, pulumi.Output[str]]
    """ARNs of the data buckets by zone."""
    log_bucket_name: pulumi.Output[str]
    """Physical name of the server-access-log bucket."""

    def __init__(self, name: str, args: DataLakeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = check_args(DataLake, name, args)
        super().__init__("mlops:storage:DataLake", name, None, opts)
        retain = pulumi.ResourceOptions(parent=self, retain_on_delete=opts.retain_on_delete if opts else None)
        prefix = args.get("name_prefix")
        force_destroy = args.get("force_destroy", False)

        self.log_bucket: SecureBucket = SecureBucket(
            f"{name}-access-logs",
            {
                "log_target": True,
                "log_source_account_id": args["account_id"],
                "access_logging": False,
                "bucket_prefix": f"{prefix}-access-logs-" if prefix else None,
                "expiration_days": args.get("access_log_retention_days", 365),
                "noncurrent_version_expiration_days": 30,
                "force_destroy": force_destroy,
            },
            retain,
        )
        self.buckets: dict[str, SecureBucket] = {
            zone: SecureBucket(
                f"{name}-{zone}",
                {
                    "kms_key_arn": args["kms_key_arn"],
                    "access_log_bucket": self.log_bucket.name,
                    "bucket_prefix": f"{prefix}-{zone}-" if prefix else None,
                    "noncurrent_version_expiration_days": args.get("noncurrent_version_expiration_days", 90),
                    "abort_incomplete_multipart_upload_days": args.get("abort_incomplete_multipart_upload_days", 7),
                    "intelligent_tiering_after_days": args.get("intelligent_tiering_after_days"),
                    "object_lock": args.get("object_lock") if zone in LOCKED_BUCKETS else None,
                    "force_destroy": force_destroy,
                    "extra_policy_statements": list(args.get("artifacts_policy_statements", []))
                    if zone == "artifacts"
                    else [],
                },
                retain,
            )
            for zone in DATA_BUCKETS
        }
        self.bucket_names = {zone: b.name for zone, b in self.buckets.items()}
        self.bucket_arns = {zone: b.arn for zone, b in self.buckets.items()}
        self.log_bucket_name = self.log_bucket.name
        self.register_outputs({"buckets": self.bucket_names, "log_bucket": self.log_bucket_name})


def _log_delivery_statement(account_id: pulumi.Input[str]) -> _iam.Statement:
    return {
        "Sid": "AllowServerAccessLogDelivery",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": "{bucket_arn}/*",
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
    }
