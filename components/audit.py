"""The environment's audit trail: a CloudTrail trail with log-file validation, encrypted with the env key,
recording management events and the data lake's object-level (data) events, delivered to a dedicated audit
bucket only CloudTrail can write, and to a KMS-encrypted log group whose metric filters raise CIS-style alarms.

The key policy must let CloudTrail use the key; `cloudtrail_key_statements` returns those statements (for
`EncryptionKeyArgs.extra_statements`), conditioned on the trail's ARN as AWS recommends.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from . import _iam
from ._options import stateful
from ._validation import check_args
from .storage import ObjectLock, SecureBucket

CLOUDTRAIL = "cloudtrail.amazonaws.com"


@dataclass(frozen=True)
class AuditSignal:
    """A CIS-style signal: a metric filter on the trail's log group and an alarm on its metric."""

    name: str
    """Metric and alarm suffix."""
    pattern: str
    """CloudWatch Logs filter pattern over CloudTrail's JSON events."""
    description: str


AUDIT_SIGNALS: tuple[AuditSignal, ...] = (
    AuditSignal(
        "root-account-use",
        '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }',
        "The account's root user made a request",
    ),
    AuditSignal(
        "iam-policy-changes",
        "{ ($.eventSource = iam.amazonaws.com) && (($.eventName = DeleteGroupPolicy) || ($.eventName = "
        "DeleteRolePolicy) || ($.eventName = DeleteUserPolicy) || ($.eventName = PutGroupPolicy) || ($.eventName = "
        "PutRolePolicy) || ($.eventName = PutUserPolicy) || ($.eventName = CreatePolicy) || ($.eventName = "
        "DeletePolicy) || ($.eventName = CreatePolicyVersion) || ($.eventName = DeletePolicyVersion) || "
        "($.eventName = SetDefaultPolicyVersion) || ($.eventName = AttachRolePolicy) || ($.eventName = "
        "DetachRolePolicy) || ($.eventName = AttachUserPolicy) || ($.eventName = DetachUserPolicy) || "
        "($.eventName = AttachGroupPolicy) || ($.eventName = DetachGroupPolicy) || ($.eventName = "
        "PutRolePermissionsBoundary) || ($.eventName = DeleteRolePermissionsBoundary)) }",
        "An IAM policy was created, changed, attached or detached",
    ),
    AuditSignal(
        "kms-key-disabled-or-deleted",
        "{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || "
        "($.eventName = ScheduleKeyDeletion)) }",
        "A KMS key was disabled or scheduled for deletion",
    ),
    AuditSignal(
        "bucket-policy-changes",
        "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || "
        "($.eventName = DeleteBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = DeleteBucketCors) || "
        "($.eventName = PutBucketLifecycle) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = "
        "PutBucketReplication) || ($.eventName = DeleteBucketReplication) || ($.eventName = "
        "PutBucketPublicAccessBlock) || ($.eventName = DeleteBucketPublicAccessBlock)) }",
        "A bucket policy, ACL, CORS, lifecycle, replication or public-access block changed",
    ),
    AuditSignal(
        "console-sign-in-failures",
        '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }',
        "A console sign-in failed",
    ),
    AuditSignal(
        "trail-changes",
        "{ ($.eventSource = cloudtrail.amazonaws.com) && (($.eventName = CreateTrail) || ($.eventName = UpdateTrail) "
        "|| ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) || "
        "($.eventName = PutEventSelectors)) }",
        "A trail was changed, stopped or deleted",
    ),
)
"""The CIS AWS Foundations Benchmark's monitoring controls the platform alarms on (root use, IAM policy changes,
KMS key disable/deletion, bucket policy changes, console sign-in failures), plus changes to the trail itself."""


def trail_name(name_prefix: str) -> str:
    """Physical name of the environment's trail."""
    return f"{name_prefix}-audit"


def trail_arn(region: str, account_id: str, name_prefix: str) -> str:
    """The trail's ARN, known before it exists (for the key policy's `aws:SourceArn` condition)."""
    return f"arn:aws:cloudtrail:{region}:{account_id}:trail/{trail_name(name_prefix)}"


def cloudtrail_key_statements(
    region: str, account_id: str, name_prefix: str, reader_role_arns: Sequence[str] = ()
) -> list[_iam.Statement]:
    """Key-policy statements for the trail (AWS's documented CloudTrail key policy): CloudTrail may generate data
    keys and describe the key for this trail only (`aws:SourceArn`), for this account's trails' encryption context;
    the listed readers may decrypt log files (CloudTrail encryption context only)."""
    source = {"aws:SourceArn": trail_arn(region, account_id, name_prefix)}
    context = {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{account_id}:trail/*"}
    statements: list[_iam.Statement] = [
        {"Sid": "CloudTrailEncryptLogs", "Effect": "Allow", "Principal": {"Service": CLOUDTRAIL},
         "Action": "kms:GenerateDataKey*", "Resource": "*",
         "Condition": {"StringEquals": source, "StringLike": context}},
        {"Sid": "CloudTrailDescribeKey", "Effect": "Allow", "Principal": {"Service": CLOUDTRAIL},
         "Action": "kms:DescribeKey", "Resource": "*", "Condition": {"StringEquals": source}},
        # AWS documents kms:Decrypt as required to create or update a trail whose bucket uses an S3 Bucket Key.
        {"Sid": "CloudTrailBucketKeyDecrypt", "Effect": "Allow", "Principal": {"Service": CLOUDTRAIL},
         "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": source}},
    ]  # fmt: skip
    if readers := sorted(reader_role_arns):
        statements.append(
            {"Sid": "AuditReadersDecryptLogs", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"}, "Action": "kms:Decrypt", "Resource": "*",
             "Condition": {"ArnLike": {"aws:PrincipalArn": readers}, "StringLike": context}}
        )  # fmt: skip
    return statements


class AuditTrailArgs(TypedDict):
    """Arguments of `AuditTrail`."""

    name_prefix: str
    """Prefix of physical names: trail `<prefix>-audit`, bucket `<prefix>-audit-…`, log group
    `/aws/cloudtrail/<prefix>`."""
    account_id: str
    """The environment's account (the trail and its bucket policy are scoped to it)."""
    region: str
    """The environment's region (the trail's home region)."""
    kms_key_arn: pulumi.Input[str]
    """The env key; its policy must hold `cloudtrail_key_statements` (and let CloudWatch Logs use it)."""
    access_log_bucket: pulumi.Input[str]
    """Bucket receiving the audit bucket's server access logs."""
    data_bucket_arns: Sequence[pulumi.Input[str]]
    """Buckets whose object-level events are recorded (the data lake)."""
    management_events: NotRequired[bool]
    """Record management events and alarm on the CIS signals (default True). False when an organisation trail
    records them: this trail then records the data events only."""
    multi_region: NotRequired[bool]
    """Record every region's events (default True)."""
    data_event_reads: NotRequired[bool]
    """Record object reads as well as writes (default True)."""
    log_retention_days: NotRequired[int]
    """Retention of the log group, a CloudWatch Logs value (default 365)."""
    bucket_retention_days: NotRequired[int]
    """Days log files are kept in the audit bucket (default 2555, seven years)."""
    object_lock: NotRequired[ObjectLock | None]
    """Object Lock of the audit bucket (default none; prod should lock)."""
    alert_topic_arn: NotRequired[pulumi.Input[str] | None]
    """Topic the alarms notify; None creates no alarms."""
    reader_role_arns: NotRequired[Sequence[str]]
    """Roles that may read the log files (default: none)."""
    logs_role_boundary_arn: pulumi.Input[str]
    """Permission boundary of the role CloudTrail assumes to write the log group (the service-role boundary)."""
    force_destroy: NotRequired[bool]
    """Allow deleting the audit bucket with its log files (default False)."""


class AuditTrail(pulumi.ComponentResource):
    """A CloudTrail trail (validation on, env key, management and data-lake data events), its audit bucket
    (writable only by CloudTrail, for this trail), its log group and the CIS metric filters and alarms.

    Pass `ResourceOptions(protect=True, retain_on_delete=True)` to keep the bucket through deletes.
    """

    bucket_name: pulumi.Output[str]
    """Name of the audit bucket (the `SecureBucket` itself is the `bucket` attribute, for Python callers)."""
    bucket_arn: pulumi.Output[str]
    """ARN of the audit bucket."""
    log_group: aws.cloudwatch.LogGroup
    """The trail's log group."""
    trail: aws.cloudtrail.Trail
    """The trail."""
    alarms: dict[str, aws.cloudwatch.MetricAlarm]
    """Alarms by signal name."""

    def __init__(self, name: str, args: AuditTrailArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = check_args(AuditTrail, name, args)
        _check_audit_args(name, args)
        super().__init__("mlops:audit:AuditTrail", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        prefix, account, region = args["name_prefix"], args["account_id"], args["region"]
        arn = trail_arn(region, account, prefix)
        management = args.get("management_events", True)

        self.bucket: SecureBucket = SecureBucket(
            f"{name}-bucket",
            {
                "kms_key_arn": args["kms_key_arn"],
                "access_log_bucket": args["access_log_bucket"],
                "bucket_prefix": f"{prefix}-audit-",
                "noncurrent_version_expiration_days": 30,
                "expiration_days": args.get("bucket_retention_days", 2555),
                "object_lock": args.get("object_lock"),
                "force_destroy": args.get("force_destroy", False),
                "extra_policy_statements": audit_bucket_statements(account, arn, args.get("reader_role_arns", ())),
            },
            pulumi.ResourceOptions(parent=self, retain_on_delete=opts.retain_on_delete if opts else None),
        )
        self.bucket_name, self.bucket_arn = self.bucket.name, self.bucket.arn
        log_group_name = f"/aws/cloudtrail/{prefix}"
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=log_group_name,
            kms_key_id=args["kms_key_arn"],
            retention_in_days=args.get("log_retention_days", 365),
            opts=stateful(child, opts),
        )
        role = aws.iam.Role(
            f"{name}-logs-role",
            name=f"{prefix}-cloudtrail-logs",
            description=f"CloudTrail delivery of {prefix}'s trail to its log group",
            assume_role_policy=_iam.render(
                [{"Sid": "AssumeByThisTrail", "Effect": "Allow", "Principal": {"Service": CLOUDTRAIL},
                  "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:SourceArn": arn}}}]
            ),
            permissions_boundary=args["logs_role_boundary_arn"],
            max_session_duration=3600,
            opts=child,
        )  # fmt: skip
        role_policy = aws.iam.RolePolicy(
            f"{name}-logs-role-policy",
            role=role.id,
            name="deliver-to-log-group",
            policy=_iam.render(
                [{"Sid": "DeliverTrailEvents", "Effect": "Allow",
                  "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                  "Resource": f"arn:aws:logs:{region}:{account}:log-group:{log_group_name}:log-stream:*"}]
            ),
            opts=child,
        )  # fmt: skip
        self.trail = aws.cloudtrail.Trail(
            f"{name}-trail",
            name=trail_name(prefix),
            s3_bucket_name=self.bucket.name,
            kms_key_id=args["kms_key_arn"],
            enable_log_file_validation=True,
            enable_logging=True,
            is_multi_region_trail=args.get("multi_region", True),
            # CloudTrail refuses a multi-region trail without global service events; without a management
            # selector they are not recorded anyway.
            include_global_service_events=True,
            cloud_watch_logs_group_arn=pulumi.Output.concat(self.log_group.arn, ":*"),
            cloud_watch_logs_role_arn=role.arn,
            advanced_event_selectors=event_selectors(
                args["data_bucket_arns"], management=management, reads=args.get("data_event_reads", True)
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.bucket, role_policy]),
        )
        self.alarms = {}
        topic = args.get("alert_topic_arn")
        for signal in AUDIT_SIGNALS if management else ():
            metric = f"{signal.name}"
            namespace = f"{prefix}/audit"
            aws.cloudwatch.LogMetricFilter(
                f"{name}-{signal.name}",
                name=f"{prefix}-{signal.name}",
                log_group_name=self.log_group.name,
                pattern=signal.pattern,
                metric_transformation={"name": metric, "namespace": namespace, "value": "1", "unit": "Count"},
                opts=child,
            )
            if topic is None:
                continue
            self.alarms[signal.name] = aws.cloudwatch.MetricAlarm(
                f"{name}-{signal.name}-alarm",
                name=f"{prefix}-audit-{signal.name}",
                alarm_description=f"{signal.description} (CloudTrail, {prefix})",
                namespace=namespace,
                metric_name=metric,
                statistic="Sum",
                period=300,
                evaluation_periods=1,
                threshold=1,
                comparison_operator="GreaterThanOrEqualToThreshold",
                treat_missing_data="notBreaching",
                alarm_actions=[topic],
                opts=child,
            )
        self.register_outputs({"trail_arn": self.trail.arn, "bucket": self.bucket.name})


def _check_audit_args(name: str, args: AuditTrailArgs) -> None:
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,40}", args["name_prefix"]):
        raise ValueError(
            f"AuditTrail {name!r}: name_prefix={args['name_prefix']!r} must be lowercase letters, digits and "
            "hyphens, at most 41 characters (it prefixes the audit bucket's name)"
        )
    if not args["data_bucket_arns"]:
        raise ValueError(f"AuditTrail {name!r}: data_bucket_arns is empty; name the data lake's buckets")
    days, lock = args.get("bucket_retention_days", 2555), args.get("object_lock")
    if days < 1 or (lock and lock.retention_days > days):
        raise ValueError(
            f"AuditTrail {name!r}: bucket_retention_days={days} must be at least 1 and at least the object lock's "
            "retention"
        )


def event_selectors(data_bucket_arns: Sequence[pulumi.Input[str]], *, management: bool, reads: bool) -> list[dict]:
    """Advanced event selectors: management events (unless an organisation trail has them), and S3 object events
    on every data-lake bucket (writes only when `reads` is False)."""
    data = [
        {"field": "eventCategory", "equals": ["Data"]},
        {"field": "resources.type", "equals": ["AWS::S3::Object"]},
        {"field": "resources.ARN", "starts_withs": [pulumi.Output.concat(b, "/") for b in data_bucket_arns]},
    ]
    if not reads:
        data.append({"field": "readOnly", "equals": ["false"]})
    selectors = [{"name": "Data-lake objects", "field_selectors": data}]
    if management:
        selectors.insert(0, {"name": "Management events", "field_selectors": [
            {"field": "eventCategory", "equals": ["Management"]}]})  # fmt: skip
    return selectors


LOG_FILE_CHANGES = [
    "s3:PutObject", "s3:PutObjectAcl", "s3:PutObjectTagging", "s3:PutObjectRetention", "s3:PutObjectLegalHold",
    "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:DeleteObjectTagging", "s3:BypassGovernanceRetention",
]  # fmt: skip
"""Every way to write, overwrite, unlock or delete an object."""


def audit_bucket_statements(account_id: str, arn: str, reader_role_arns: Sequence[str] = ()) -> list[_iam.Statement]:
    """The audit bucket's policy beyond SecureBucket's baseline: CloudTrail delivers for this trail only
    (`aws:SourceArn`), nobody else writes, changes or deletes a log file, and only the named readers may read.

    The deny is on `aws:PrincipalServiceName`, which only a service principal's request carries: the deployer,
    the personas and even account administrators fall under it."""
    trail = {"aws:SourceArn": arn}
    statements: list[_iam.Statement] = [
        {"Sid": "CloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": CLOUDTRAIL},
         "Action": "s3:GetBucketAcl", "Resource": "{bucket_arn}", "Condition": {"StringEquals": trail}},
        {"Sid": "CloudTrailWrite", "Effect": "Allow", "Principal": {"Service": CLOUDTRAIL}, "Action": "s3:PutObject",
         "Resource": f"{{bucket_arn}}/AWSLogs/{account_id}/*",
         "Condition": {"StringEquals": {**trail, "s3:x-amz-acl": "bucket-owner-full-control"}}},
        {"Sid": "DenyLogWritesExceptCloudTrail", "Effect": "Deny", "Principal": "*", "Action": LOG_FILE_CHANGES,
         "Resource": "{bucket_arn}/*",
         "Condition": {"StringNotEquals": {"aws:PrincipalServiceName": CLOUDTRAIL}}},
    ]  # fmt: skip
    if readers := sorted(reader_role_arns):
        statements.append(
            {"Sid": "AuditReadersRead", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
             "Action": ["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"],
             "Resource": ["{bucket_arn}", "{bucket_arn}/*"],
             "Condition": {"ArnLike": {"aws:PrincipalArn": readers}}}
        )  # fmt: skip
    return statements
