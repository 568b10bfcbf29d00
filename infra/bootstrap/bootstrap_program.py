"""The bootstrap: the Pulumi state bucket (one prefix per environment), one stack-secrets key per environment,
and the GitHub OIDC provider in each environment's account. Everything else is the platform stacks' job.

Who may touch what is written in resource policies here, because the CI roles live in the environments'
accounts and the bucket and keys in the bootstrap's: each environment's `ci-deployer`, `ci-previewer`, `ci-drift` and
operator roles reach only `<env>/` of the bucket and only their own secrets key. The roles don't exist yet
when this runs, so policies name their account root with an `aws:PrincipalArn` condition (S3 and KMS reject
a policy whose principal is a role that does not exist).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
from mlops_platform.components import _iam
from mlops_platform.components.access import CI_READERS, GITHUB_OIDC_HOST, Persona, role_arn
from mlops_platform.components.encryption import EncryptionKey
from mlops_platform.components.pulumi_backend import STATE_LAYOUT_ROOT
from mlops_platform.components.storage import BucketEncryption, ObjectLock, ObjectLockMode, SecureBucket
from mlops_platform.infra.bootstrap.bootstrap_config import (
    PLATFORM_PROJECT,
    BootstrapSettings,
    EnvironmentSettings,
    settings_from_pulumi,
)

SECRETS_ALIAS = "pulumi-secrets-{env}"
"""Alias of an environment's secrets key (for people; the stacks and policies use the key ARN)."""


def main() -> dict[str, Any]:
    """Validate the bootstrap config, then build it."""
    return build_bootstrap(settings_from_pulumi())


def ci_roles(env: EnvironmentSettings) -> dict[Persona, str]:
    """ARNs of the environment's CI roles, as the platform stack will name them."""
    prefix = f"{PLATFORM_PROJECT}-{env.name}"
    return {p: role_arn(env.account, prefix, p) for p in (Persona.CI_DEPLOYER, *CI_READERS)}


def readers(env: EnvironmentSettings) -> list[str]:
    """Roles that read the environment's state and decrypt its secrets, taking no lock (previews take none): the CI
    previewer (pull requests) and the CI drift reader (the default branch's drift checks)."""
    return sorted(ci_roles(env)[p] for p in CI_READERS)


def writers(env: EnvironmentSettings) -> list[str]:
    """Roles that may write the environment's state and encrypt its secrets."""
    return sorted([ci_roles(env)[Persona.CI_DEPLOYER], *env.operator_role_arns])


def _principal(env: EnvironmentSettings, roles: list[str]) -> dict[str, Any]:
    return {
        "Principal": {"AWS": f"arn:aws:iam::{env.account}:root"},
        "Condition": {"ArnEquals": {"aws:PrincipalArn": roles}},
    }


def state_bucket_statements(settings: BootstrapSettings) -> list[_iam.Statement]:
    """Bucket-policy statements: each environment's roles on their own prefix only; nobody deletes the bucket."""
    statements: list[_iam.Statement] = []
    for env in settings.environments:
        sid = env.name.title().replace("-", "")
        state = f"{{bucket_arn}}/{env.name}/{STATE_LAYOUT_ROOT}/*"
        statements += [
            {"Sid": f"{sid}StateWrite", "Effect": "Allow", **_principal(env, writers(env)),
             "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], "Resource": state},
            {"Sid": f"{sid}StateRead", "Effect": "Allow", **_principal(env, readers(env)),
             "Action": "s3:GetObject", "Resource": state},
        ]  # fmt: skip
        listing = _principal(env, sorted([*writers(env), *readers(env)]))
        listing["Condition"]["StringLike"] = {"s3:prefix": [env.name, f"{env.name}/*"]}
        statements.append(
            {
                "Sid": f"{sid}StateList",
                "Effect": "Allow",
                **listing,
                "Action": "s3:ListBucket",
                "Resource": "{bucket_arn}",
            }
        )
    statements.append(
        {"Sid": "DenyBucketDeletion", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket",
         "Resource": "{bucket_arn}"}
    )  # fmt: skip
    return statements


def state_key_statements(settings: BootstrapSettings) -> list[_iam.Statement]:
    """Key-policy statements of the state bucket's key: every environment's roles, through S3 only (the bucket
    policy, not the key, separates the environments)."""
    return [
        {
            "Sid": f"{env.name.title().replace('-', '')}StateThroughS3",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{env.account}:root"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {
                "ArnEquals": {"aws:PrincipalArn": sorted([*writers(env), *readers(env)])},
                "StringEquals": {"kms:ViaService": f"s3.{settings.region}.amazonaws.com"},
            },
        }
        for env in settings.environments
    ]


def secrets_key_statements(env: EnvironmentSettings) -> list[_iam.Statement]:
    """Key-policy statements of one environment's secrets key: its deployer and operators encrypt and decrypt,
    its previewer and drift reader only decrypt; no other environment's role appears."""
    return [
        {"Sid": "EncryptStackSecrets", "Effect": "Allow", **_principal(env, writers(env)),
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"], "Resource": "*"},
        {"Sid": "DecryptStackSecrets", "Effect": "Allow", **_principal(env, readers(env)),
         "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"},
    ]  # fmt: skip


def build_bootstrap(settings: BootstrapSettings) -> dict[str, Any]:
    """Register the bootstrap's resources and return its outputs."""
    provider = aws.Provider(
        "aws",
        region=settings.region,
        allowed_account_ids=[settings.account],
        default_tags={"tags": settings.default_tags},
    )
    # The state outlives every stack: protected and retained, whatever the environment.
    stateful = pulumi.ResourceOptions(provider=provider, protect=True, retain_on_delete=True)
    admins = sorted(settings.break_glass_role_arns)

    state_key = EncryptionKey(
        "state-key",
        {
            "account_id": settings.account,
            "description": "Pulumi state bucket of mlops-platform (SSE-KMS)",
            "alias": "pulumi-state",
            "administrator_role_arns": admins,
            "user_role_arns": admins,
            "extra_policy_statements": state_key_statements(settings),
        },
        stateful,
    )
    logs = SecureBucket(
        "state-access-logs",
        {
            "encryption": BucketEncryption.S3_MANAGED,  # S3 server access logs cannot be delivered to SSE-KMS
            "access_logging": False,
            "bucket_prefix": f"{settings.state.bucket_prefix}logs-",
            "expiration_days": settings.state.access_log_retention_days,
            "noncurrent_version_expiration_days": 30,
            "extra_policy_statements": [
                {
                    "Sid": "AllowServerAccessLogDelivery",
                    "Effect": "Allow",
                    "Principal": {"Service": "logging.s3.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": "{bucket_arn}/*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": settings.account}},
                }
            ],
        },
        stateful,
    )
    state = SecureBucket(
        "state",
        {
            "kms_key_arn": state_key.arn,
            "access_log_bucket": logs.name,
            "bucket_prefix": settings.state.bucket_prefix,
            "noncurrent_version_expiration_days": settings.state.noncurrent_version_expiration_days,
            "object_lock": ObjectLock(ObjectLockMode.GOVERNANCE, settings.state.lock_retention_days),
            "extra_policy_statements": state_bucket_statements(settings),
        },
        stateful,
    )

    secrets_keys: dict[str, EncryptionKey] = {}
    oidc: dict[str, pulumi.Output[str]] = {}
    for env in settings.environments:
        secrets_keys[env.name] = EncryptionKey(
            f"secrets-{env.name}",
            {
                "account_id": settings.account,
                "description": f"Pulumi stack secrets of mlops-platform {env.name}",
                "alias": SECRETS_ALIAS.format(env=env.name),
                "administrator_role_arns": admins,
                "user_role_arns": admins,
                "extra_policy_statements": secrets_key_statements(env),
            },
            stateful,
        )
        env_provider = provider
        if env.admin_role_arn:
            env_provider = aws.Provider(
                f"aws-{env.name}",
                region=settings.region,
                allowed_account_ids=[env.account],
                assume_roles=[{"role_arn": env.admin_role_arn, "session_name": "mlops-bootstrap"}],
                default_tags={"tags": settings.default_tags},
            )
        oidc[env.name] = aws.iam.OpenIdConnectProvider(
            f"github-oidc-{env.name}",
            url=f"https://{GITHUB_OIDC_HOST}",
            client_id_lists=["sts.amazonaws.com"],
            opts=pulumi.ResourceOptions(provider=env_provider, protect=True, retain_on_delete=True),
        ).arn

    region = settings.region
    return {
        "state_bucket": state.name,
        "state_key_arn": state_key.arn,
        "access_log_bucket": logs.name,
        "login_urls": {env: pulumi.Output.concat("s3://", state.name, "/", env) for env in secrets_keys},
        "secrets_key_arns": {env: key.arn for env, key in secrets_keys.items()},
        "secrets_providers": {
            # The ARN form (three slashes): the key is in another account than the roles that use it.
            env: pulumi.Output.concat("awskms:///", key.arn, "?region=", region)
            for env, key in secrets_keys.items()
        },
        "oidc_provider_arns": oidc,
    }
