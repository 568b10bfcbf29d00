"""What the CI deployer may change: the environment's own infrastructure, and nothing that would let it
raise its own privileges.

Guards against privilege escalation, the classic hole of deployment roles:
- roles it creates must carry the persona or the service-role boundary (`iam:PermissionsBoundary` condition);
- it cannot edit its own role, either boundary, or remove a boundary from any role;
- keys it creates or administers must carry the environment's `env` tag;
- everything it manages is named with the environment's prefix.

Capabilities beyond storage and access contribute their statements through `extra_statements`.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from . import _iam

BUCKET_ACTIONS = [
    "s3:CreateBucket", "s3:DeleteBucket", "s3:ListBucket", "s3:GetBucketLocation",
    "s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy",
    "s3:GetBucketVersioning", "s3:PutBucketVersioning",
    "s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration",
    "s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock",
    "s3:GetBucketOwnershipControls", "s3:PutBucketOwnershipControls",
    "s3:GetBucketLogging", "s3:PutBucketLogging",
    "s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration",
    "s3:GetBucketObjectLockConfiguration", "s3:PutBucketObjectLockConfiguration",
    "s3:GetBucketTagging", "s3:PutBucketTagging",
    "s3:GetBucketAcl", "s3:GetBucketCORS", "s3:GetBucketWebsite", "s3:GetAccelerateConfiguration",
    "s3:GetBucketRequestPayment", "s3:GetReplicationConfiguration", "s3:GetBucketNotification",
]  # fmt: skip
"""Bucket-level management, including the reads the AWS provider makes on refresh."""

KEY_ADMIN_ACTIONS = [
    "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:GetKeyRotationStatus",
    "kms:EnableKeyRotation", "kms:ListResourceTags", "kms:TagResource", "kms:UntagResource",
    "kms:UpdateKeyDescription", "kms:ScheduleKeyDeletion",
]  # fmt: skip
ROLE_ACTIONS = [
    "iam:GetRole", "iam:DeleteRole", "iam:TagRole", "iam:UntagRole", "iam:UpdateRole",
    "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy", "iam:GetRolePolicy",
    "iam:DeleteRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:AttachRolePolicy",
    "iam:DetachRolePolicy", "iam:ListInstanceProfilesForRole", "iam:PassRole",
]  # fmt: skip
POLICY_ACTIONS = [
    "iam:CreatePolicy", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions",
    "iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:DeletePolicy", "iam:TagPolicy", "iam:UntagPolicy",
]  # fmt: skip
OIDC_ACTIONS = [
    "iam:CreateOpenIDConnectProvider", "iam:GetOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider",
    "iam:TagOpenIDConnectProvider", "iam:UpdateOpenIDConnectProviderThumbprint",
    "iam:AddClientIDToOpenIDConnectProvider",
]  # fmt: skip
ESCALATION_ACTIONS = [
    "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:DeleteRolePolicy",
    "iam:UpdateAssumeRolePolicy", "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRole", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy",
]  # fmt: skip
"""Changes that would widen a role's rights: denied on the deployer itself and on the boundaries."""

BOUNDARY_SERVICES = (
    "s3", "kms", "iam", "ec2", "eks", "ecr", "sagemaker", "logs", "cloudwatch", "sns", "sqs", "events",
    "scheduler", "budgets", "application-autoscaling", "ssm", "codebuild", "codeconnections", "cloudtrail", "glue",
)  # fmt: skip
"""Services the deployer boundary lets through; its policies decide what within them."""


@dataclass(frozen=True)
class DeployerScope:
    """The environment the deployer may change."""

    account_id: str
    region: str
    name_prefix: str
    """Prefix of every physical name the stack creates."""
    environment: str
    """Value of the `env` tag on the environment's keys."""
    persona_boundary_arn: str
    """Boundary of persona roles; every role the deployer creates carries this one or the service boundary."""
    service_boundary_arn: str
    """Boundary of service roles (`components.boundaries.ServiceRoleBoundary`)."""
    deployer_role_name: str
    deployer_boundary_name: str
    extra_statements: Sequence[_iam.Statement] = field(default_factory=tuple)
    """Statements of further capabilities (network, cluster, registries, ...)."""
    extra_boundary_arns: Sequence[str] = field(default_factory=tuple)
    """Further boundaries roles may be created with (the data-service boundary); protected like the other two."""
    extra_regions: Sequence[str] = field(default_factory=tuple)
    """Regions besides `region` and us-east-1 the boundary lets through (e.g. the disaster-recovery replica)."""


def deployer_statements(scope: DeployerScope) -> list[_iam.Statement]:
    """The deployer's infrastructure permissions."""
    account, region, prefix = scope.account_id, scope.region, scope.name_prefix
    iam = f"arn:aws:iam::{account}"
    env_tag = {"StringEquals": {"aws:ResourceTag/env": scope.environment}}
    return [
        {
            "Sid": "ManageEnvBuckets",
            "Effect": "Allow",
            "Action": BUCKET_ACTIONS,
            "Resource": f"arn:aws:s3:::{prefix}-*",
        },
        {
            "Sid": "CreateEnvKeys",
            "Effect": "Allow",
            "Action": ["kms:CreateKey", "kms:TagResource"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestTag/env": scope.environment}},
        },
        {"Sid": "ListKeys", "Effect": "Allow", "Action": ["kms:ListKeys", "kms:ListAliases"], "Resource": "*"},
        {
            "Sid": "ManageEnvKeys",
            "Effect": "Allow",
            "Action": KEY_ADMIN_ACTIONS,
            "Resource": f"arn:aws:kms:{region}:{account}:key/*",
            "Condition": env_tag,
        },
        {
            "Sid": "ManageEnvAliases",
            "Effect": "Allow",
            "Action": ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
            "Resource": [f"arn:aws:kms:{region}:{account}:alias/{prefix}-*", f"arn:aws:kms:{region}:{account}:key/*"],
        },
        {
            "Sid": "CreateRolesOnlyWithBoundary",
            "Effect": "Allow",
            "Action": ["iam:CreateRole", "iam:PutRolePermissionsBoundary"],
            "Resource": f"{iam}:role/{prefix}-*",
            "Condition": {
                "StringEquals": {
                    "iam:PermissionsBoundary": [
                        scope.persona_boundary_arn,
                        scope.service_boundary_arn,
                        *scope.extra_boundary_arns,
                    ]
                }
            },
        },
        {"Sid": "ManageEnvRoles", "Effect": "Allow", "Action": ROLE_ACTIONS, "Resource": f"{iam}:role/{prefix}-*"},
        {
            "Sid": "ManageEnvPolicies",
            "Effect": "Allow",
            "Action": POLICY_ACTIONS,
            "Resource": f"{iam}:policy/{prefix}-*",
        },
        {
            "Sid": "ManageGitHubOidcProvider",
            "Effect": "Allow",
            "Action": OIDC_ACTIONS,
            "Resource": f"{iam}:oidc-provider/token.actions.githubusercontent.com",
        },
        *scope.extra_statements,
        *escalation_denies(scope),
    ]


def escalation_denies(scope: DeployerScope) -> list[_iam.Statement]:
    """Denies that keep the deployer from widening its own or anyone's ceiling."""
    iam = f"arn:aws:iam::{scope.account_id}"
    return [
        {"Sid": "DenySelfAndBoundaryChanges", "Effect": "Deny", "Action": ESCALATION_ACTIONS,
         "Resource": [f"{iam}:role/{scope.deployer_role_name}", scope.persona_boundary_arn,
                      scope.service_boundary_arn, *scope.extra_boundary_arns,
                      f"{iam}:policy/{scope.deployer_boundary_name}",
                      f"{iam}:policy/{scope.name_prefix}-deploy-*"]},
        {"Sid": "DenyBoundaryRemoval", "Effect": "Deny", "Action": "iam:DeleteRolePermissionsBoundary",
         "Resource": f"{iam}:role/*"},
        {"Sid": "DenyUserAndKeyCreation", "Effect": "Deny",
         "Action": ["iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile"], "Resource": "*"},
    ]  # fmt: skip


def deployer_boundary_statements(scope: DeployerScope) -> list[_iam.Statement]:
    """The deployer's permission boundary: the services the platform uses, in its account and region, minus
    the escalation paths. Service-level on purpose: a ceiling, which grants nothing itself, and a managed
    policy is limited to 6,144 characters."""
    return [
        {"Sid": "PlatformServicesInEnvRegion", "Effect": "Allow",
         "Action": [f"{service}:*" for service in BOUNDARY_SERVICES], "Resource": "*",
         "Condition": {"StringEqualsIfExists": {"aws:RequestedRegion": list(
             dict.fromkeys([scope.region, "us-east-1", *scope.extra_regions]))}}},
        *escalation_denies(scope),
    ]  # fmt: skip
