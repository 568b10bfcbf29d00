"""VPC endpoint policies: what may pass through the VPC's endpoints, so a pod or job holding any credentials
cannot move data out to someone else's resources through them.

- S3 gateway endpoint: only buckets of the VPC's own account (`aws:ResourceAccount`), plus read-only access to the
  AWS-owned buckets the nodes need: ECR's image layers (`prod-<region>-starport-layer-bucket`, AWS ECR docs,
  "Minimum Amazon S3 bucket permissions for Amazon ECR") and the Amazon Linux package repositories (AL2023
  `al2023-repos-<region>-de612dc2`, AL2 `amazonlinux.<region>.amazonaws.com` and `amazonlinux-2-repos-<region>`).
- Interface endpoints: only principals of the VPC's own account (`aws:PrincipalAccount`): credentials from another
  account cannot be used through them to ship data out. Resources are not restricted there: nodes and SageMaker
  legitimately read AWS-owned resources through them (EKS add-on and SageMaker images in AWS accounts' ECR, public
  SSM parameters).
"""

from __future__ import annotations

import pulumi

from . import _iam

NO_POLICY_ENDPOINTS = frozenset({"eks-auth"})
"""Interface endpoints created without a policy (full access): EKS Auth serves only the Pod Identity agent's
`AssumeRoleForPodIdentity`, made with the node role's own credentials, and is not documented to accept endpoint
policies."""


def s3_read_exceptions(region: str) -> list[str]:
    """AWS-owned buckets the nodes read through the S3 gateway endpoint (object ARNs)."""
    return [
        f"arn:aws:s3:::prod-{region}-starport-layer-bucket/*",
        f"arn:aws:s3:::al2023-repos-{region}-de612dc2/*",
        f"arn:aws:s3:::amazonlinux.{region}.amazonaws.com/*",
        f"arn:aws:s3:::amazonlinux-2-repos-{region}/*",
    ]


def s3_gateway_policy(account_id: pulumi.Input[str], region: str) -> list[_iam.Statement]:
    """The S3 gateway endpoint's policy statements."""
    return [
        {"Sid": "OwnAccountBucketsOnly", "Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceAccount": account_id}}},
        {"Sid": "NodeImageLayersAndOsPackages", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": s3_read_exceptions(region)},
    ]  # fmt: skip


FEDERATION_ACTIONS = ("sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML")
"""STS actions whose callers carry no AWS identity (a JWT or SAML assertion, not SigV4), so a request has no
`aws:PrincipalAccount`: an STS endpoint policy must admit them on the target role instead (AWS IAM User Guide,
"Control access to AWS STS with VPC endpoint policies"). The CI runners in the VPC assume their roles this way."""


def interface_policy(account_id: pulumi.Input[str], service: str = "") -> list[_iam.Statement]:
    """An interface endpoint's policy statements: any action by this account's principals only; on the STS
    endpoint also federated sign-in (OIDC, SAML) to this account's roles only (`aws:ResourceAccount`)."""
    statements: list[_iam.Statement] = [
        {"Sid": "OwnAccountPrincipalsOnly", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalAccount": account_id}}},
    ]  # fmt: skip
    if service == "sts":
        statements.append(
            {"Sid": "FederatedSignInToOwnAccountRoles", "Effect": "Allow", "Principal": "*",
             "Action": list(FEDERATION_ACTIONS), "Resource": "*",
             "Condition": {"StringEquals": {"aws:ResourceAccount": account_id}}}
        )  # fmt: skip
    return statements
