"""Registries: hardened ECR repositories for training and serving images, SageMaker model package groups
shared read-only with the accounts models are promoted to, and a managed MLflow tracking server.
"""

import json
import re
from collections.abc import Sequence
from enum import StrEnum
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from . import _iam
from ._options import stateful
from ._validation import check_args
from .registry_names import (  # also importable from here (`components.registry.REPOSITORY_NAME`, ...)
    ACCOUNT_ID,
    MLFLOW_PREFIX,
    MODEL_PACKAGE_GROUP_NAME,
    PULL_ACTIONS,
    PUSH_ACTIONS,
    REPOSITORY_NAME,
    TRACKING_SERVER_NAME,
    mlflow_role_name,
)


class ContainerRepositoryArgs(TypedDict):
    """Arguments of `ContainerRepository`."""

    repository_name: str
    """Physical name, e.g. `mlops-platform-dev/training` (botocore's RepositoryName pattern, 2-256)."""
    kms_key_arn: pulumi.Input[str]
    """Customer-managed key encrypting the image layers."""
    push_principal_arns: Sequence[pulumi.Input[str]]
    """Role ARNs allowed to push (and pull): the CI deployer."""
    pull_principal_arns: Sequence[pulumi.Input[str]]
    """Role ARNs allowed to pull: the training and inference roles."""
    untagged_expiry_days: NotRequired[int]
    """Days after which untagged images expire (default 7)."""
    keep_releases: NotRequired[int]
    """How many release images (tags matching `release_tag_patterns`) are kept; older ones expire
    (default 20)."""
    release_tag_patterns: NotRequired[Sequence[str]]
    """Wildcard tag patterns of release images, e.g. `v*` (default `["v*"]`)."""
    force_delete: NotRequired[bool]
    """Let `pulumi destroy` delete a repository that still holds images (default False)."""


class ContainerRepository(pulumi.ComponentResource):
    """An ECR repository with immutable tags, scan on push, KMS encryption with the given key, a lifecycle
    policy (expire untagged images, keep the last N releases) and a repository policy that lets only the
    named roles push or pull. Pass `ResourceOptions(protect=True, retain_on_delete=True)` to keep it."""

    repository: aws.ecr.Repository
    """The repository."""
    repository_url: pulumi.Output[str]
    """`<account>.dkr.ecr.<region>.amazonaws.com/<name>`, for `docker push`."""
    arn: pulumi.Output[str]
    """Repository ARN."""

    def __init__(self, name: str, args: ContainerRepositoryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = check_args(ContainerRepository, name, args)
        _check_repository_args(name, args)
        super().__init__("mlops:registry:ContainerRepository", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.repository = aws.ecr.Repository(
            f"{name}-repository",
            name=args["repository_name"],
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configurations=[{"encryption_type": "KMS", "kms_key": args["kms_key_arn"]}],
            force_delete=args.get("force_delete", False),
            opts=stateful(child, opts),
        )
        self.repository_url = self.repository.repository_url
        self.arn = self.repository.arn
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=self.repository.name,
            policy=json.dumps(lifecycle_policy(args), sort_keys=True),
            opts=child,
        )
        aws.ecr.RepositoryPolicy(
            f"{name}-policy",
            repository=self.repository.name,
            policy=_iam.render(repository_policy_statements(args)),
            opts=child,
        )
        self.register_outputs({"repository_url": self.repository_url, "arn": self.arn})


def _check_repository_args(name: str, args: ContainerRepositoryArgs) -> None:
    repo = args["repository_name"]
    if not (2 <= len(repo) <= 256 and REPOSITORY_NAME.match(repo)):
        raise ValueError(
            f"ContainerRepository {name!r}: repository_name={repo!r} must be 2-256 lowercase letters, "
            "digits, "
            "'.', '_', '-' and '/' separated path parts (ECR RepositoryName)"
        )
    for key, default, low, high in (("untagged_expiry_days", 7, 1, 3650), ("keep_releases", 20, 1, 10000)):
        value = args.get(key, default)
        if not low <= value <= high:
            raise ValueError(f"ContainerRepository {name!r}: {key}={value} must be between {low} and {high}")
    patterns = list(args.get("release_tag_patterns", ["v*"]))
    if not 1 <= len(patterns) <= 100 or any(not re.fullmatch(r"[A-Za-z0-9._*-]{1,128}", p) for p in patterns):
        raise ValueError(
            f"ContainerRepository {name!r}: release_tag_patterns={patterns!r} must be 1-100 tag patterns of "
            "letters, digits, '.', '_', '-' and '*' wildcards"
        )
    if not args["push_principal_arns"]:
        raise ValueError(f"ContainerRepository {name!r}: push_principal_arns needs at least one role ARN")


def lifecycle_policy(args: ContainerRepositoryArgs) -> dict[str, Any]:
    """The ECR lifecycle policy: untagged images expire after N days; releases beyond the newest N expire."""
    keep = args.get("keep_releases", 20)
    days = args.get("untagged_expiry_days", 7)
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"Expire untagged images {days} days after push",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": days,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "description": f"Keep the last {keep} releases",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPatternList": list(args.get("release_tag_patterns", ["v*"])),
                    "countType": "imageCountMoreThan",
                    "countNumber": keep,
                },
                "action": {"type": "expire"},
            },
        ]
    }


def repository_policy_statements(args: ContainerRepositoryArgs) -> list[_iam.Statement]:
    """Push for the push principals, pull for the pull principals; nobody else is named."""
    statements: list[_iam.Statement] = [
        {
            "Sid": "PushByDeployers",
            "Effect": "Allow",
            "Principal": {"AWS": list(args["push_principal_arns"])},
            "Action": PULL_ACTIONS + PUSH_ACTIONS,
        }
    ]
    if args["pull_principal_arns"]:
        statements.append(
            {
                "Sid": "PullByWorkloads",
                "Effect": "Allow",
                "Principal": {"AWS": list(args["pull_principal_arns"])},
                "Action": PULL_ACTIONS,
            }
        )
    return statements


READ_MODEL_ACTIONS = ["sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"]
"""What a promotion target account may do with the group's model packages: read them, nothing else."""


class ModelPackageGroupArgs(TypedDict):
    """Arguments of `ModelPackageGroup`."""

    group_name: str
    """Model package group name (SageMaker EntityName: letters, digits and hyphens, at most 63)."""
    account_id: str
    """The account owning the group."""
    region: str
    """The group's region."""
    description: NotRequired[str | None]
    """What the model is for."""
    share_with_accounts: NotRequired[Sequence[str]]
    """12-digit accounts (staging, prod) allowed to describe and list the group's model packages, so they can
    deploy approved versions. Default: none, and no resource policy."""


class ModelPackageGroup(pulumi.ComponentResource):
    """A SageMaker model package group (the versions of one model) with, when accounts are listed, a resource
    policy letting exactly those accounts read it. Pass `ResourceOptions(protect=True, retain_on_delete=True)`
    to keep the registered versions through deletes."""

    group: aws.sagemaker.ModelPackageGroup
    """The group."""
    arn: pulumi.Output[str]
    """Group ARN."""
    group_name: pulumi.Output[str]
    """Group name, as pipelines and endpoints refer to it."""
    policy: aws.sagemaker.ModelPackageGroupPolicy | None
    """The cross-account read policy, when accounts are listed."""

    def __init__(self, name: str, args: ModelPackageGroupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = check_args(ModelPackageGroup, name, args)
        _check_group_args(name, args)
        super().__init__("mlops:registry:ModelPackageGroup", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.group = aws.sagemaker.ModelPackageGroup(
            f"{name}-group",
            model_package_group_name=args["group_name"],
            model_package_group_description=args.get("description"),
            opts=stateful(child, opts),
        )
        self.arn = self.group.arn
        self.group_name = self.group.model_package_group_name
        self.policy = None
        if args.get("share_with_accounts"):
            self.policy = aws.sagemaker.ModelPackageGroupPolicy(
                f"{name}-policy",
                model_package_group_name=self.group.model_package_group_name,
                resource_policy=_iam.render(model_group_policy_statements(self.group.arn, args)),
                opts=child,
            )
        self.register_outputs({"arn": self.arn, "group_name": self.group_name})


def _check_group_args(name: str, args: ModelPackageGroupArgs) -> None:
    group = args["group_name"]
    if not MODEL_PACKAGE_GROUP_NAME.match(group):
        raise ValueError(
            f"ModelPackageGroup {name!r}: group_name={group!r} must be 1-63 letters, digits and hyphens, "
            "starting and ending with a letter or digit"
        )
    accounts = list(args.get("share_with_accounts", []))
    for account in accounts:
        if not ACCOUNT_ID.match(account):
            raise ValueError(
                f"ModelPackageGroup {name!r}: share_with_accounts has {account!r}; expected 12-digit account IDs"
            )
    if len(set(accounts)) != len(accounts):
        raise ValueError(f"ModelPackageGroup {name!r}: share_with_accounts lists an account twice: {accounts}")
    if args["account_id"] in accounts:
        raise ValueError(
            f"ModelPackageGroup {name!r}: share_with_accounts includes the owning account {args['account_id']}"
        )


def model_group_policy_statements(group_arn: pulumi.Input[str], args: ModelPackageGroupArgs) -> list[_iam.Statement]:
    """Read-only access for the listed accounts' roots (their IAM policies decide which roles use it)."""
    principals = [f"arn:aws:iam::{account}:root" for account in sorted(args.get("share_with_accounts", []))]
    # SageMaker lowercases names in ARNs; model packages live under model-package/<group>/<version>.
    packages = f"arn:aws:sagemaker:{args['region']}:{args['account_id']}:model-package/{args['group_name'].lower()}/*"
    return [
        {
            "Sid": "ReadGroupFromPromotionAccounts",
            "Effect": "Allow",
            "Principal": {"AWS": principals},
            "Action": "sagemaker:DescribeModelPackageGroup",
            "Resource": group_arn,
        },
        {
            "Sid": "ReadPackagesFromPromotionAccounts",
            "Effect": "Allow",
            "Principal": {"AWS": principals},
            "Action": READ_MODEL_ACTIONS,
            "Resource": packages,
        },
    ]


class TrackingServerSize(StrEnum):
    """Managed MLflow sizes (`TrackingServerSize` in botocore's SageMaker model)."""

    SMALL = "Small"
    """Up to 25 users (AWS's sizing guidance)."""
    MEDIUM = "Medium"
    """Up to 50 users."""
    LARGE = "Large"
    """Up to 100 users."""


class ExperimentTrackingArgs(TypedDict):
    """Arguments of `ExperimentTracking`."""

    name_prefix: str
    """Prefix of physical names; the server is `<prefix>` and its role `<prefix>-mlflow`."""
    account_id: str
    """The environment's account (trust condition)."""
    region: str
    """The environment's region (scopes KMS use to S3 in it)."""
    artifacts_bucket_name: pulumi.Input[str]
    """The artifacts bucket; the artifact store is its `mlflow/` prefix."""
    artifacts_bucket_arn: pulumi.Input[str]
    """ARN of the artifacts bucket."""
    kms_key_arn: pulumi.Input[str]
    """The bucket's key; the role may use it only through S3."""
    size: NotRequired[TrackingServerSize]
    """Small, Medium or Large (default Small)."""
    weekly_maintenance_window_start: NotRequired[str | None]
    """`DDD:HH:MM` in UTC, e.g. `TUE:03:30`; default: AWS picks."""
    permissions_boundary_arn: NotRequired[pulumi.Input[str] | None]
    """Permission boundary of the role, e.g. the persona boundary (must allow the role's S3 and KMS use)."""


class ExperimentTracking(pulumi.ComponentResource):
    """A SageMaker managed MLflow tracking server whose artifact store is `s3://<artifacts>/mlflow/`, run by a
    role that can read and write only that prefix (and use the bucket's key only through S3)."""

    role: aws.iam.Role
    """The tracking server's role."""
    server: aws.sagemaker.MlflowTrackingServer
    """The tracking server."""
    arn: pulumi.Output[str]
    """Tracking server ARN: what MLflow clients set as the tracking URI."""

    def __init__(self, name: str, args: ExperimentTrackingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = check_args(ExperimentTracking, name, args)
        _check_tracking_args(name, args)
        super().__init__("mlops:registry:ExperimentTracking", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        prefix = args["name_prefix"]
        self.role = aws.iam.Role(
            f"{name}-role",
            name=mlflow_role_name(prefix),
            description=f"SageMaker managed MLflow of {prefix}: artifact store access",
            assume_role_policy=_iam.render(mlflow_trust_statements(args)),
            permissions_boundary=args.get("permissions_boundary_arn"),
            max_session_duration=3600,
            opts=child,
        )
        role_policy = aws.iam.RolePolicy(
            f"{name}-role-policy",
            role=self.role.id,
            name="mlflow-artifact-store",
            policy=_iam.render(mlflow_role_statements(args)),
            opts=child,
        )
        self.server = aws.sagemaker.MlflowTrackingServer(
            f"{name}-server",
            tracking_server_name=prefix,
            artifact_store_uri=pulumi.Output.concat("s3://", args["artifacts_bucket_name"], "/", MLFLOW_PREFIX),
            role_arn=self.role.arn,
            tracking_server_size=args.get("size", TrackingServerSize.SMALL).value,
            automatic_model_registration=False,
            weekly_maintenance_window_start=args.get("weekly_maintenance_window_start"),
            # The server checks its role's access when it is created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy]),
        )
        self.arn = self.server.arn
        self.register_outputs({"arn": self.arn, "tracking_server_url": self.server.tracking_server_url})


def _check_tracking_args(name: str, args: ExperimentTrackingArgs) -> None:
    if not TRACKING_SERVER_NAME.match(args["name_prefix"]) or len(mlflow_role_name(args["name_prefix"])) > 64:
        raise ValueError(
            f"ExperimentTracking {name!r}: name_prefix={args['name_prefix']!r} must be letters, digits and "
            "hyphens "
            "and keep the role name within 64 characters"
        )
    window = args.get("weekly_maintenance_window_start")
    if window is not None and not re.fullmatch(r"(MON|TUE|WED|THU|FRI|SAT|SUN):([01]\d|2[0-3]):[0-5]\d", window):
        raise ValueError(
            f"ExperimentTracking {name!r}: weekly_maintenance_window_start={window!r} must look like TUE:03:30"
        )


def mlflow_trust_statements(args: ExperimentTrackingArgs) -> list[_iam.Statement]:
    """Only SageMaker, on behalf of this account, assumes the role."""
    return [_iam.service_trust("AssumeBySageMaker", "sagemaker.amazonaws.com", args["account_id"])]


def mlflow_role_statements(args: ExperimentTrackingArgs) -> list[_iam.Statement]:
    """Read and write the `mlflow/` prefix of the artifacts bucket, list only it, use the key via S3."""
    bucket = args["artifacts_bucket_arn"]
    return [
        {
            "Sid": "ArtifactStoreObjects",
            "Effect": "Allow",
            "Action": [
                "s3:GetObject",
                "s3:GetObjectVersion",
                "s3:PutObject",
                "s3:DeleteObject",
                "s3:AbortMultipartUpload",
                "s3:ListMultipartUploadParts",
            ],
            "Resource": pulumi.Output.concat(bucket, "/", MLFLOW_PREFIX, "*"),
        },
        {
            "Sid": "ArtifactStoreListing",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket,
            "Condition": {"StringLike": {"s3:prefix": [f"{MLFLOW_PREFIX}*"]}},
        },
        {
            "Sid": "ArtifactStoreLocation",
            "Effect": "Allow",
            "Action": "s3:GetBucketLocation",
            "Resource": bucket,
        },
        {
            "Sid": "UseEnvKeyThroughS3",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            "Resource": args["kms_key_arn"],
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{args['region']}.amazonaws.com"}},
        },
    ]
