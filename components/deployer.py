"""What the CI deployer may change: the environment's own infrastructure, and nothing that would let it
raise its own privileges.

Guards against privilege escalation, the classic hole of deployment roles:
- roles it creates, changes or attaches policies to must carry the persona or the service-role boundary
  (`iam:PermissionsBoundary` condition), so nothing it writes reaches past those ceilings;
- it attaches only the environment's own policies and a short list of AWS-managed ones (`iam:PolicyARN`);
- it cannot touch its own role, the previewer, the model approver, any boundary or its own policies, remove a
  boundary, re-trust a person's role, or create users, groups or access keys;
- keys it creates or administers must carry the environment's `env` tag, and it cannot tag a key that does not
  carry it already (no pulling a foreign key into the environment);
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
ROLE_READ_ACTIONS = [
    "iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole", "iam:ListRoleTags",
]  # fmt: skip
BOUNDED_ROLE_ACTIONS = [
    "iam:DeleteRole", "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:DetachRolePolicy",
]  # fmt: skip
"""Role changes allowed only on a role carrying an approved boundary (each supports `iam:PermissionsBoundary`)."""
ROLE_TAG_ACTIONS = ["iam:TagRole", "iam:UntagRole", "iam:PassRole"]
"""Role actions without an `iam:PermissionsBoundary` condition key: scoped by name, denied on protected roles."""
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
    "iam:DeleteRole", "iam:UpdateRole", "iam:TagRole", "iam:UntagRole", "iam:PassRole",
    "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion",
]  # fmt: skip
"""Changes that would widen a role's rights or let the deployer act as it: denied on the protected roles (the
deployer, the previewer, the model approver), on every boundary and on the deployer's own policies."""
IDENTITY_CREDENTIAL_ACTIONS = [
    "iam:CreateUser", "iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile", "iam:CreateGroup", "iam:AddUserToGroup", "iam:CreateServiceSpecificCredential",
    "iam:UploadSSHPublicKey", "iam:UploadSigningCertificate", "iam:CreateVirtualMFADevice",
]  # fmt: skip
"""Long-lived credentials and user/group management: never the deployer's business."""

APPROVED_AWS_MANAGED_POLICIES = (
    "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
    "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
)
"""The AWS-managed policies the deployer may attach (`iam:PolicyARN`): the EKS control plane's, the worker
nodes' and the EBS CSI driver's. Anything else (AdministratorAccess, IAMFullAccess, ...) is refused."""

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
    protected_role_names: Sequence[str] = ()
    """Roles outside the deployer's reach (besides its own): the previewer and the model approver. They carry
    boundaries the deployer may not attach, so an administrator creates and changes them."""
    fixed_trust_role_names: Sequence[str] = ()
    """Roles whose trust only an administrator may change (the human personas): re-trusting them would let the
    deployer act as a person."""
    protected_boundary_arns: Sequence[str] = ()
    """Boundaries of the protected roles; like the two approved ones, the deployer may not edit them."""
    aws_managed_policy_arns: Sequence[str] = APPROVED_AWS_MANAGED_POLICIES
    """AWS-managed policies the deployer may attach to bounded roles."""
    extra_statements: Sequence[_iam.Statement] = field(default_factory=tuple)
    """Statements of further capabilities (network, cluster, registries, ...)."""
    extra_boundary_arns: Sequence[str] = field(default_factory=tuple)
    """Further boundaries roles may be created with (the data-service boundary); protected like the other two."""
    extra_regions: Sequence[str] = field(default_factory=tuple)
    """Regions besides `region` and us-east-1 the boundary lets through (e.g. the disaster-recovery replica)."""

    @property
    def approved_boundaries(self) -> list[str]:
        """The boundaries a role must carry for the deployer to create or change it."""
        return [self.persona_boundary_arn, self.service_boundary_arn, *self.extra_boundary_arns]

    @property
    def own_policy_arns(self) -> list[str]:
        """The deployer's boundary and capability policies."""
        iam = f"arn:aws:iam::{self.account_id}"
        return [f"{iam}:policy/{self.deployer_boundary_name}", f"{iam}:policy/{self.name_prefix}-deploy-*"]


def deployer_statements(scope: DeployerScope) -> list[_iam.Statement]:
    """The deployer's infrastructure permissions."""
    account, region, prefix = scope.account_id, scope.region, scope.name_prefix
    iam = f"arn:aws:iam::{account}"
    env_tag = {"StringEquals": {"aws:ResourceTag/env": scope.environment}}
    bounded = {"iam:PermissionsBoundary": scope.approved_boundaries}
    return [
        {
            "Sid": "ManageEnvBuckets",
            "Effect": "Allow",
            "Action": BUCKET_ACTIONS,
            "Resource": f"arn:aws:s3:::{prefix}-*",
        },
        # KMS checks tag-on-create against no particular key ("*"); TagResource on an existing key is checked
        # against the key's ARN, where the deny in `tag_hijack_denies` requires the env tag already present.
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
            "Condition": {"StringEqualsIfExists": {"aws:ResourceTag/env": scope.environment}},
        },
        {
            "Sid": "CreateRolesOnlyWithBoundary",
            "Effect": "Allow",
            "Action": ["iam:CreateRole", "iam:PutRolePermissionsBoundary"],
            "Resource": f"{iam}:role/{prefix}-*",
            "Condition": {"StringEquals": bounded},
        },
        {
            "Sid": "ChangeOnlyBoundedRoles",
            "Effect": "Allow",
            "Action": BOUNDED_ROLE_ACTIONS,
            "Resource": f"{iam}:role/{prefix}-*",
            "Condition": {"StringEquals": bounded},
        },
        {
            "Sid": "AttachOnlyEnvAndApprovedPolicies",
            "Effect": "Allow",
            "Action": "iam:AttachRolePolicy",
            "Resource": f"{iam}:role/{prefix}-*",
            "Condition": {
                "StringEquals": bounded,
                "ArnLike": {"iam:PolicyARN": [f"{iam}:policy/{prefix}-*", *scope.aws_managed_policy_arns]},
            },
        },
        {"Sid": "ReadEnvRoles", "Effect": "Allow", "Action": ROLE_READ_ACTIONS, "Resource": f"{iam}:role/{prefix}-*"},
        {
            "Sid": "TagAndPassEnvRoles",
            "Effect": "Allow",
            "Action": ROLE_TAG_ACTIONS,
            "Resource": f"{iam}:role/{prefix}-*",
        },
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
        # `tag_hijack_denies` sit in the deployer's boundary only (10,240-character quota of inline policies).
    ]


def escalation_denies(scope: DeployerScope) -> list[_iam.Statement]:
    """Denies that keep the deployer from widening its own or anyone's ceiling, from acting as a protected role,
    from re-trusting a person's role, and from creating users, groups or long-lived keys."""
    iam = f"arn:aws:iam::{scope.account_id}"
    protected_roles = [f"{iam}:role/{name}" for name in (scope.deployer_role_name, *scope.protected_role_names)]
    policies = [*scope.approved_boundaries, *scope.protected_boundary_arns, *scope.own_policy_arns]
    return [
        {"Sid": "DenyProtectedRolesAndPolicies", "Effect": "Deny", "Action": ESCALATION_ACTIONS,
         "Resource": [*protected_roles, *policies]},
        {"Sid": "DenyAttachingBoundariesOrDeployerPolicies", "Effect": "Deny", "Action": "iam:AttachRolePolicy",
         "Resource": "*", "Condition": {"ArnLike": {"iam:PolicyARN": policies}}},
        {"Sid": "DenyBoundaryRemoval", "Effect": "Deny", "Action": "iam:DeleteRolePermissionsBoundary",
         "Resource": f"{iam}:role/*"},
        # Deleting and recreating a person's role would re-trust it as surely as UpdateAssumeRolePolicy.
        *([{"Sid": "DenyRetrustingPeople", "Effect": "Deny", "Action": ["iam:UpdateAssumeRolePolicy", "iam:DeleteRole"],
            "Resource": [f"{iam}:role/{name}" for name in scope.fixed_trust_role_names]}]
          if scope.fixed_trust_role_names else []),
        {"Sid": "DenyUsersGroupsAndKeys", "Effect": "Deny", "Action": IDENTITY_CREDENTIAL_ACTIONS, "Resource": "*"},
        {"Sid": "DenyAnyUserOrGroupChange", "Effect": "Deny", "Action": "iam:*",
         "Resource": [f"{iam}:user/*", f"{iam}:group/*"]},
    ]  # fmt: skip


TAGGABLE_KEY_ACTIONS = ["kms:TagResource", "kms:UntagResource"]
TAG_ACTIONS = [
    "kms:TagResource", "kms:UntagResource", "eks:TagResource", "eks:UntagResource", "logs:TagResource",
    "logs:UntagResource", "sagemaker:AddTags", "sagemaker:DeleteTags", "ec2:CreateTags", "ec2:DeleteTags",
    "ecr:TagResource", "ecr:UntagResource", "sns:TagResource", "sns:UntagResource", "sqs:TagQueue",
    "sqs:UntagQueue", "events:TagResource", "events:UntagResource", "s3:PutBucketTagging", "iam:TagRole",
    "iam:UntagRole", "iam:TagPolicy", "iam:UntagPolicy", "cloudwatch:TagResource", "cloudwatch:UntagResource",
]  # fmt: skip
"""Every tag-changing action the deployer has: none may touch a resource of another environment."""


def tag_hijack_denies(scope: DeployerScope) -> list[_iam.Statement]:
    """Keep the deployer from bringing a foreign resource into its environment by tagging it (after which the
    tag-scoped "manage" statements would apply to it): no tag change on a resource tagged for another
    environment; no tag change on an untagged existing key (KMS checks tag-on-create against no key, so
    `CreateKey` with tags is unaffected); SageMaker tags only as part of a creation (`sagemaker:TaggingAction`)
    or on resources already in the environment."""
    keys = f"arn:aws:kms:*:{scope.account_id}:key/*"
    env = scope.environment
    return [
        {"Sid": "DenyRetaggingOtherEnvironments", "Effect": "Deny", "Action": TAG_ACTIONS, "Resource": "*",
         "Condition": {"Null": {"aws:ResourceTag/env": "false"}, "StringNotEquals": {"aws:ResourceTag/env": env}}},
        {"Sid": "DenyTaggingUntaggedKeys", "Effect": "Deny", "Action": TAGGABLE_KEY_ACTIONS, "Resource": keys,
         "Condition": {"Null": {"aws:ResourceTag/env": "true"}}},
        {"Sid": "DenySageMakerTagsOutsideCreateOrEnv", "Effect": "Deny",
         "Action": ["sagemaker:AddTags", "sagemaker:DeleteTags"], "Resource": "*",
         "Condition": {"Null": {"sagemaker:TaggingAction": "true", "aws:ResourceTag/env": "true"}}},
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
        *tag_hijack_denies(scope),
    ]  # fmt: skip
