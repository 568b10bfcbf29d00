"""Customer-managed KMS keys with rotation and an explicit, least-privilege key policy."""

import re
from collections.abc import Sequence
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from . import _iam
from ._options import stateful
from ._validation import check_args

ADMIN_ACTIONS = [
    "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:GetKeyRotationStatus", "kms:EnableKeyRotation",
    "kms:DisableKeyRotation", "kms:RotateKeyOnDemand", "kms:ListKeyRotations", "kms:ListResourceTags",
    "kms:TagResource", "kms:UntagResource", "kms:UpdateKeyDescription", "kms:EnableKey", "kms:DisableKey",
    "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias",
    "kms:ListGrants", "kms:RevokeGrant", "kms:ListRetirableGrants",
]  # fmt: skip
"""Key administration; deliberately without Encrypt/Decrypt and CreateGrant, so administrators cannot read data
(nor grant themselves the right to)."""

METADATA_ACTIONS = ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"]
"""Reading the key's configuration (what `pulumi refresh` and services that check a key before using it do)."""

USE_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
"""Cryptographic use of the key."""

ROLE_VIA_SERVICES = ("s3", "sagemaker", "ec2", "eks", "ecr", "sqs", "sns")
"""The AWS services through which the platform's roles use the key (`kms:ViaService`): buckets, SageMaker jobs
and endpoints, EBS volumes, EKS secrets, ECR images, queues and topics. No direct Encrypt/Decrypt calls."""

SNS_PUBLISHER_ACTIONS = ["kms:GenerateDataKey*", "kms:Decrypt"]
"""What a service publishing to a KMS-encrypted SNS topic needs on the topic's key."""

GRANT_ACTIONS = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]
"""Grants, which AWS services (EBS, SageMaker, EKS) create on a caller's behalf."""


class EncryptionKeyArgs(TypedDict):
    """Arguments of `EncryptionKey`."""

    account_id: pulumi.Input[str]
    """The account owning the key."""
    administrator_role_arns: Sequence[str]
    """Roles that administer the key (policy, rotation, tags, aliases, deletion), never use it. Must include the
    role that creates the key: KMS refuses a key policy that would lock its creator out. Named by ARN through
    `aws:PrincipalArn` on the account principal, so recreating a deleted administrator role restores access."""
    metadata_reader_role_arns: NotRequired[Sequence[str]]
    """Roles that may read the key's configuration only (e.g. a read-only CI previewer)."""
    region: NotRequired[str]
    """The key's region; with it, the user roles may use the key only through `ROLE_VIA_SERVICES` in that region
    (`kms:ViaService`). Without it, use is not limited by service."""
    user_role_arns: NotRequired[Sequence[pulumi.Input[str]]]
    """Role ARNs allowed to use the key. Only these roles (and `service_principals`) can encrypt or decrypt.
    Prefer plain strings, so roles that do not exist yet can be named without a dependency cycle; `Output`s
    are accepted too (listed after the plain ARNs, in the given order)."""
    service_principals: NotRequired[Sequence[str]]
    """AWS service principals allowed to use the key for this account (condition aws:SourceAccount);
    `logs.<region>.amazonaws.com` is limited to this account's log groups in that region instead
    (condition kms:EncryptionContext:aws:logs:arn)."""
    sns_publisher_principals: NotRequired[Sequence[str]]
    """AWS services that publish to SNS topics encrypted with this key (e.g. `cloudwatch.amazonaws.com`,
    `events.amazonaws.com`, `budgets.amazonaws.com`). They get only `kms:GenerateDataKey*` and `kms:Decrypt`,
    and only for this account's topics (SNS encryption context). No `aws:SourceAccount` condition here:
    EventBridge's KMS requests don't carry it; the topic policy holds the source-account checks."""
    description: NotRequired[str]
    """Human-readable purpose, shown in the KMS console."""
    alias: NotRequired[str]
    """Alias name without the `alias/` prefix."""
    deletion_window_days: NotRequired[int]
    """Waiting period before a scheduled deletion completes, 7-30 days. Default 30."""
    extra_policy_statements: NotRequired[Sequence[_iam.Statement]]
    """More key-policy statements, e.g. use by roles of other accounts (`Principal` their account root with an
    `aws:PrincipalArn` condition, so the roles need not exist yet)."""


class EncryptionKey(pulumi.ComponentResource):
    """A symmetric customer-managed KMS key: rotation on, a 30-day deletion window, and a key policy that
    separates administration (named administrator roles, no data access) from use (named roles, through AWS
    services, and named service principals). No blanket grant to the account: an IAM policy allowing `kms:*`
    does nothing on this key unless the key policy names the caller.

    Pass `ResourceOptions(protect=True, retain_on_delete=True)` to keep the key through deletes.
    """

    key: aws.kms.Key
    """The KMS key."""
    arn: pulumi.Output[str]
    """ARN of the key."""
    alias: aws.kms.Alias | None
    """The alias, when one was requested."""

    def __init__(self, name: str, args: EncryptionKeyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = check_args(EncryptionKey, name, args)
        window = args.get("deletion_window_days", 30)
        if not args.get("administrator_role_arns"):
            raise ValueError(
                f"EncryptionKey {name!r}: administrator_role_arns is empty; name at least the role that creates the "
                "key (KMS refuses a key policy that locks its creator out)"
            )
        if not 7 <= window <= 30:
            raise ValueError(f"EncryptionKey {name!r}: deletion_window_days={window} must be between 7 and 30")
        super().__init__("mlops:encryption:EncryptionKey", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.key = aws.kms.Key(
            f"{name}-key",
            description=args.get("description", f"{name} data key"),
            enable_key_rotation=True,
            deletion_window_in_days=window,
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            policy=_iam.render(key_policy_statements(args)),
            opts=stateful(child, opts),
        )
        self.arn = self.key.arn
        self.alias = None
        if alias := args.get("alias"):
            self.alias = aws.kms.Alias(
                f"{name}-alias", name=f"alias/{alias}", target_key_id=self.key.key_id, opts=child
            )
        self.register_outputs({"arn": self.arn, "key_id": self.key.key_id})


def key_policy_statements(args: EncryptionKeyArgs) -> list[_iam.Statement]:
    """The key policy: named roles administer, named roles use (through AWS services), listed services use; no
    other principal of the account, however broad its IAM policies."""
    root = _iam.account_root(args["account_id"])
    admins = sorted(args["administrator_role_arns"])
    statements: list[_iam.Statement] = [
        {
            "Sid": "KeyAdministrationByNamedRoles",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": ADMIN_ACTIONS,
            "Resource": "*",
            "Condition": {"ArnEquals": {"aws:PrincipalArn": admins}},
        }
    ]
    roles = _sorted_inputs(args.get("user_role_arns", []))
    metadata_only = [r for r in args.get("metadata_reader_role_arns", []) if r not in roles]
    if readers := _sorted_inputs([*metadata_only, *roles]):
        statements.append(
            {
                "Sid": "KeyMetadataByPlatformRoles",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": METADATA_ACTIONS,
                "Resource": "*",
                "Condition": {"ArnEquals": {"aws:PrincipalArn": readers}},
            }
        )
    if roles:
        in_roles = {"ArnEquals": {"aws:PrincipalArn": roles}}
        use_condition: dict = dict(in_roles)
        if region := args.get("region"):
            services = [f"{service}.{region}.amazonaws.com" for service in ROLE_VIA_SERVICES]
            use_condition["StringEquals"] = {"kms:ViaService": services}
        statements += [
            {
                "Sid": "KeyUseByPlatformRolesThroughServices",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": [a for a in USE_ACTIONS if a != "kms:DescribeKey"],
                "Resource": "*",
                "Condition": use_condition,
            },
            {
                "Sid": "GrantsForAwsResourcesByPlatformRoles",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": GRANT_ACTIONS,
                "Resource": "*",
                "Condition": {**in_roles, "Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
        ]
    principals = sorted(args.get("service_principals", []))
    if services := [p for p in principals if not _LOGS_PRINCIPAL.match(p)]:
        statements.append(
            {
                "Sid": "KeyUseByAwsServices",
                "Effect": "Allow",
                "Principal": {"Service": services},
                "Action": USE_ACTIONS,
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": args["account_id"]}},
            }
        )
    for principal in principals:
        if match := _LOGS_PRINCIPAL.match(principal):
            statements.append(_logs_statement(principal, match.group(1), args["account_id"]))
    if publishers := sorted(args.get("sns_publisher_principals", [])):
        account_topics = pulumi.Output.concat("arn:aws:sns:*:", args["account_id"], ":*")
        statements.append(
            {
                "Sid": "KeyUseBySnsPublishers",
                "Effect": "Allow",
                "Principal": {"Service": publishers},
                "Action": SNS_PUBLISHER_ACTIONS,
                "Resource": "*",
                "Condition": {"StringLike": {"kms:EncryptionContext:aws:sns:topicArn": account_topics}},
            }
        )
    return statements + list(args.get("extra_policy_statements", ()))


def _sorted_inputs(values: Sequence[pulumi.Input[str]]) -> list[pulumi.Input[str]]:
    """Plain strings sorted (a stable policy whatever the caller's order), then unknown values as given."""
    plain = sorted(v for v in values if isinstance(v, str))
    return [*plain, *(v for v in values if not isinstance(v, str))]


_LOGS_PRINCIPAL = re.compile(r"^logs\.([a-z0-9-]+)\.amazonaws\.com$")


def _logs_statement(principal: str, region: str, account_id: pulumi.Input[str]) -> _iam.Statement:
    # CloudWatch Logs calls KMS with the log group's ARN as encryption context; AWS documents the key-policy
    # condition on kms:EncryptionContext:aws:logs:arn (not aws:SourceAccount), which also limits the key to
    # this account's log groups in that region.
    return {
        "Sid": f"KeyUseByCloudWatchLogs{region.title().replace('-', '')}",
        "Effect": "Allow",
        "Principal": {"Service": principal},
        "Action": USE_ACTIONS,
        "Resource": "*",
        "Condition": {
            "ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": pulumi.Output.concat(
                    "arn:", _iam.DEFAULT_PARTITION, ":logs:", region, ":", account_id, ":log-group:*"
                )
            }
        },
    }
