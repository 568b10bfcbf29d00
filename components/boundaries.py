"""The permission boundary of the platform's service roles: roles that AWS services assume to run
infrastructure (VPC flow logs, the EKS control plane and nodes, cluster add-ons).

Persona roles are capped by `PersonaRoles.boundary` (data access only). Service roles need other rights
(EC2, EKS, ECR pulls, logs, instance profiles), so they get this second ceiling: the services such roles
use, no S3 (service roles never touch the data lake), and no way to create or widen IAM principals. The
CI deployer may create roles only with one of the two boundaries attached.
"""

from collections.abc import Sequence
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from . import _iam
from ._validation import check_args

SERVICE_ROLE_SERVICES = (
    "ec2", "eks", "eks-auth", "ecr", "logs", "sqs", "events", "ssm", "kms", "sts", "autoscaling",
    "elasticloadbalancing", "cloudwatch", "pricing", "codeconnections",
)  # fmt: skip
"""Services a service role may ever use (EKS, its nodes and add-ons, Karpenter, flow logs). `eks-auth` is the
Pod Identity agent's call on the node role (`eks-auth:AssumeRoleForPodIdentity`, in AmazonEKSWorkerNodePolicy):
without it no pod on the node gets credentials. `codeconnections`: the CI runner's CodeBuild role fetches its
GitHub connection's token."""

INSTANCE_PROFILE_ACTIONS = [
    "iam:GetInstanceProfile", "iam:ListInstanceProfiles", "iam:CreateInstanceProfile", "iam:DeleteInstanceProfile",
    "iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:TagInstanceProfile",
]  # fmt: skip
"""What Karpenter needs to launch nodes with the node role."""

IDENTITY_WRITE_ACTIONS = [
    "iam:CreateRole", "iam:DeleteRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary", "iam:CreatePolicy",
    "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:CreateUser", "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
]  # fmt: skip


class ServiceRoleBoundaryArgs(TypedDict):
    """Arguments of `ServiceRoleBoundary`."""

    account_id: str
    """The environment's account."""
    region: str
    """The environment's region; requests elsewhere are outside the ceiling (us-east-1 stays for global APIs)."""
    name_prefix: str
    """Prefix of the environment's role names; the boundary policy is `<prefix>-service-boundary`."""
    services: NotRequired[Sequence[str]]
    """Services let through (default `SERVICE_ROLE_SERVICES`)."""


def service_boundary_name(name_prefix: str) -> str:
    """Physical name of the service-role boundary policy."""
    return f"{name_prefix}-service-boundary"


class ServiceRoleBoundary(pulumi.ComponentResource):
    """A managed policy used as the permission boundary of every service role of the environment."""

    policy: aws.iam.Policy
    """The boundary policy."""
    arn: pulumi.Output[str]
    """Its ARN, for `permissions_boundary`."""

    def __init__(self, name: str, args: ServiceRoleBoundaryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = check_args(ServiceRoleBoundary, name, args)
        services = list(args.get("services", SERVICE_ROLE_SERVICES))
        if not services or any(s in ("*", "iam", "s3") or not s.replace("-", "").isalnum() for s in services):
            raise ValueError(
                f"ServiceRoleBoundary {name!r}: services={services!r} must be service prefixes such as 'ec2'; "
                "'*', 'iam' and 's3' are not allowed (instance profiles and PassRole are granted separately)"
            )
        super().__init__("mlops:access:ServiceRoleBoundary", name, None, opts)
        self.policy = aws.iam.Policy(
            f"{name}-policy",
            name=service_boundary_name(args["name_prefix"]),
            description=f"Permission boundary of every {args['name_prefix']} service role",
            policy=_iam.render(service_boundary_statements(args, services)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = self.policy.arn
        self.register_outputs({"arn": self.arn})


def service_boundary_statements(args: ServiceRoleBoundaryArgs, services: Sequence[str]) -> list[_iam.Statement]:
    """The ceiling: the listed services in the env's region, instance profiles and PassRole of env roles, and
    denies on every way to create or widen an IAM principal or destroy the key."""
    account, prefix = args["account_id"], args["name_prefix"]
    return [
        {"Sid": "ServicesInEnvRegion", "Effect": "Allow", "Action": [f"{s}:*" for s in services], "Resource": "*",
         "Condition": {"StringEqualsIfExists": {"aws:RequestedRegion": sorted({args["region"], "us-east-1"})}}},
        {"Sid": "EnvInstanceProfilesAndPassRole", "Effect": "Allow",
         "Action": [*INSTANCE_PROFILE_ACTIONS, "iam:PassRole", "iam:GetRole"],
         "Resource": [f"arn:aws:iam::{account}:instance-profile/*", f"arn:aws:iam::{account}:role/{prefix}-*"]},
        {"Sid": "DenyIdentityWrites", "Effect": "Deny", "Action": IDENTITY_WRITE_ACTIONS, "Resource": "*"},
        {"Sid": "DenyKeyDestruction", "Effect": "Deny",
         "Action": ["kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy"], "Resource": "*"},
    ]  # fmt: skip
