"""Customer-managed KMS keys with rotation and an explicit, least-privilege key policy."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from . import _iam
from ._options import stateful

ADMIN_ACTIONS = [
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:RotateKeyOnDemand",
]
"""Key administration; deliberately without Encrypt/Decrypt, so administrators cannot read data."""

USE_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
"""Cryptographic use of the key."""

SNS_PUBLISHER_ACTIONS = ["kms:GenerateDataKey*", "kms:Decrypt"]
"""What a service publishing to a KMS-encrypted SNS topic needs on the topic's key."""

GRANT_ACTIONS = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]
"""Grants, which AWS services (EBS, SageMaker, EKS) create on a caller's behalf."""


class EncryptionKeyArgs(TypedDict):
    """Arguments of `EncryptionKey`."""

    account_id: pulumi.Input[str]
    """The account owning the key; its root principal administers it (through IAM policies)."""
    user_role_arns: NotRequired[Sequence[str]]
    """Role ARNs allowed to use the key. Only these roles (and `service_principals`) can encrypt or decrypt;
    plain strings, so roles that do not exist yet can be named without a dependency cycle."""
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
    extra_statements: NotRequired[Sequence[_iam.Statement]]
    """Further key-policy statements, appended as they are (e.g. CloudTrail's, conditioned on the trail's ARN)."""


class EncryptionKey(pulumi.ComponentResource):
    """A symmetric customer-managed KMS key: rotation on, a 30-day deletion window, and a key policy that
    separates administration (account root, no data access) from use (named roles and services only).

    Pass `ResourceOptions(protect=True, retain_on_delete=True)` to keep the key through deletes.
    """

    key: aws.kms.Key
    """The KMS key."""
    arn: pulumi.Output[str]
    """ARN of the key."""
    alias: aws.kms.Alias | None
    """The alias, when one was requested."""

    def __init__(self, name: str, args: EncryptionKeyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        window = args.get("deletion_window_days", 30)
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
    """The key policy: root administers; listed roles and services use; nothing else."""
    root = _iam.account_root(args["account_id"])
    statements: list[_iam.Statement] = [
        {
            "Sid": "KeyAdministrationByAccount",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": ADMIN_ACTIONS,
            "Resource": "*",
        }
    ]
    if roles := sorted(args.get("user_role_arns", [])):
        in_roles = {"ArnEquals": {"aws:PrincipalArn": roles}}
        statements += [
            {
                "Sid": "KeyUseByPlatformRoles",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": USE_ACTIONS,
                "Resource": "*",
                "Condition": in_roles,
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
    statements += list(args.get("extra_statements", ()))
    return statements


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
