"""The permission boundary of service roles that move data-lake objects on the platform's behalf: the feature
store's offline-store role and the S3 replication role.

Persona roles carry the persona boundary and infrastructure service roles the service-role boundary, which admits
no S3 at all. These roles need S3 object access, object ACLs, replication and the Glue catalog, and neither
ceiling fits them: this third one admits exactly those, on the environment's own buckets, keys and database.
"""

from collections.abc import Sequence
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from . import _iam
from ._validation import check_args
from .boundaries import IDENTITY_WRITE_ACTIONS

DATA_SERVICE_S3_ACTIONS = [
    "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectAcl", "s3:GetBucketAcl", "s3:ListBucket",
    "s3:GetBucketLocation", "s3:GetReplicationConfiguration", "s3:GetObjectVersionForReplication",
    "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging", "s3:GetObjectRetention", "s3:GetObjectLegalHold",
    "s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags",
]  # fmt: skip
"""Offline-store writes (with the bucket-owner ACL) and replication, nothing that deletes or reconfigures."""

DATA_SERVICE_KMS_ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
DATA_SERVICE_GLUE_ACTIONS = ["glue:GetDatabase", "glue:GetTable", "glue:CreateTable", "glue:UpdateTable"]


class DataServiceBoundaryArgs(TypedDict):
    """Arguments of `DataServiceBoundary`."""

    account_id: str
    """The environment's account."""
    name_prefix: str
    """Prefix of the environment's names: buckets `<prefix>-*`, the policy `<prefix>-data-role-boundary`."""
    environment: str
    """Value of the `env` tag on the environment's keys (the replica region's included)."""
    regions: Sequence[str]
    """Regions whose env-tagged keys the roles may use (the stack's and the replica region)."""
    glue_database: NotRequired[str | None]
    """The feature store's Glue database, if any."""


def data_service_boundary_name(name_prefix: str) -> str:
    """Physical name of the boundary policy."""
    return f"{name_prefix}-data-role-boundary"


class DataServiceBoundary(pulumi.ComponentResource):
    """A managed policy capping the roles that move data-lake objects for AWS services."""

    policy: aws.iam.Policy
    """The boundary policy."""
    arn: pulumi.Output[str]
    """Its ARN, for `permissions_boundary`."""

    def __init__(self, name: str, args: DataServiceBoundaryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = check_args(DataServiceBoundary, name, args)
        if not args["regions"]:
            raise ValueError(f"DataServiceBoundary {name!r}: regions is empty; name the stack's region")
        super().__init__("mlops:access:DataServiceBoundary", name, None, opts)
        self.policy = aws.iam.Policy(
            f"{name}-policy",
            name=data_service_boundary_name(args["name_prefix"]),
            description=f"Permission boundary of {args['name_prefix']}'s data-moving service roles",
            policy=_iam.render(data_service_boundary_statements(args)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = self.policy.arn
        self.register_outputs({"arn": self.arn})


def data_service_boundary_statements(args: DataServiceBoundaryArgs) -> list[_iam.Statement]:
    """The ceiling: the env's buckets, its env-tagged keys in the listed regions, its feature database; denies on
    identity writes and key destruction."""
    account, prefix = args["account_id"], args["name_prefix"]
    statements: list[_iam.Statement] = [
        # Bucket names are global: without the account, `<prefix>-*` would admit a look-alike bucket of another
        # account as a replication destination (the deployer manages replication rules and these roles' policies).
        {"Sid": "EnvBucketData", "Effect": "Allow", "Action": DATA_SERVICE_S3_ACTIONS,
         "Resource": [f"arn:aws:s3:::{prefix}-*"], "Condition": {"StringEquals": {"aws:ResourceAccount": account}}},
        {"Sid": "EnvKeys", "Effect": "Allow", "Action": DATA_SERVICE_KMS_ACTIONS,
         "Resource": [f"arn:aws:kms:{region}:{account}:key/*" for region in args["regions"]],
         "Condition": {"StringEquals": {"aws:ResourceTag/env": args["environment"]}}},
    ]  # fmt: skip
    if database := args.get("glue_database"):
        statements.append(
            {"Sid": "FeatureTables", "Effect": "Allow", "Action": DATA_SERVICE_GLUE_ACTIONS,
             "Resource": [f"arn:aws:glue:{r}:{account}:{part}" for r in args["regions"][:1]
                          for part in ("catalog", f"database/{database}", f"table/{database}/*")]}
        )  # fmt: skip
    statements += [
        {"Sid": "DenyIdentityWrites", "Effect": "Deny", "Action": IDENTITY_WRITE_ACTIONS, "Resource": "*"},
        {"Sid": "DenyKeyDestruction", "Effect": "Deny",
         "Action": ["kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy"], "Resource": "*"},
    ]  # fmt: skip
    return statements
