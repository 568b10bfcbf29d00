"""What the governance capabilities (features, audit, disaster recovery, experiment tracking) contribute to the
shared pieces: env-key users and key-policy statements, the personas' grants (one `governance-access` inline
policy per persona) and what the persona boundary must admit for them, the data-service boundary of the roles
that move data-lake objects, and the CI deployer's extra regions and boundaries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_aws as aws
from mlops_platform.components import _iam
from mlops_platform.components.access import Persona
from mlops_platform.components.data_boundary import DataServiceBoundary, data_service_boundary_name
from mlops_platform.infra.audit import audit_key_statements
from mlops_platform.infra.capability import Capability, Platform
from mlops_platform.infra.config import PlatformSettings
from mlops_platform.infra.disaster_recovery import dr_key_users, dr_regions
from mlops_platform.infra.experiments import mlflow_persona_statements, tracking_server_arn
from mlops_platform.infra.features import _fs, feature_key_users, feature_persona_statements

Statement = dict[str, Any]


def governance_key_users(settings: PlatformSettings) -> list[str]:
    """Roles of these capabilities that use the env key: the offline-store role, the replication role."""
    return feature_key_users(settings) + dr_key_users(settings)


def governance_key_statements(settings: PlatformSettings) -> list[Statement]:
    """Separate, additive key-policy statements: CloudTrail for this environment's trail, and the log readers."""
    return audit_key_statements(settings)


def governance_persona_statements(
    settings: PlatformSettings, kms_key_arn: pulumi.Input[str], artifacts_bucket_arn: pulumi.Input[str]
) -> dict[Persona, list[Statement]]:
    """Persona grants of the feature store and MLflow, merged per persona. (The restore drill runs with the roles
    named in `disaster_recovery.restore_role_arns`, not a persona: the persona boundary has no room left.)"""
    return merge_persona_statements(
        feature_persona_statements(settings, kms_key_arn), mlflow_persona_statements(settings, artifacts_bucket_arn)
    )


def governance_boundary_statements(settings: PlatformSettings) -> list[Statement]:
    """What the persona boundary admits for the governance grants, coarser than the grants themselves (the
    boundary is a ceiling, limited to 6,144 characters): record and group verbs on the env's feature groups, the
    env's tracking server, and catalog reads."""
    region, account, prefix = settings.region, settings.account, settings.name_prefix
    statements: list[Statement] = []
    if settings.features:
        statements.append(
            {"Sid": "GovernanceFeatureGroups", "Effect": "Allow",
             "Action": ["sagemaker:*Record", "sagemaker:DescribeFeature*", "sagemaker:UpdateFeature*"],
             "Resource": f"arn:aws:sagemaker:{region}:{account}:feature-group/{prefix}-*"}
        )  # fmt: skip
    if settings.registry.mlflow.enabled:
        statements.append(
            {"Sid": "GovernanceTracking", "Effect": "Allow",
             "Action": ["sagemaker-mlflow:*", "sagemaker:*MlflowTrackingServer*"],
             "Resource": tracking_server_arn(settings)}
        )  # fmt: skip
    readable = [
        *(["sagemaker:ListFeatureGroups", "glue:Get*"] if settings.features else []),
        *(["sagemaker-mlflow:AccessUI"] if settings.registry.mlflow.enabled else []),
    ]
    if readable:
        statements.append({"Sid": "GovernanceReads", "Effect": "Allow", "Action": readable, "Resource": "*"})
    return statements


def governance_deployer_regions(settings: PlatformSettings) -> list[str]:
    """Regions the CI deployer works in besides the stack's: the replica region."""
    return dr_regions(settings)


def needs_data_service_boundary(settings: PlatformSettings) -> bool:
    """Whether a role that moves data-lake objects exists: the offline-store role or the replication role."""
    return bool(settings.features) or settings.disaster_recovery.enabled


def governance_extra_boundary_arns(settings: PlatformSettings) -> list[str]:
    """The data-service boundary, which the CI deployer may attach to the roles it creates."""
    if not needs_data_service_boundary(settings):
        return []
    return [f"arn:aws:iam::{settings.account}:policy/{data_service_boundary_name(settings.name_prefix)}"]


def build_data_service_boundary(settings: PlatformSettings, opts: pulumi.ResourceOptions) -> DataServiceBoundary | None:
    """The data-service boundary, when a role needs it."""
    if not needs_data_service_boundary(settings):
        return None
    return DataServiceBoundary(
        "data-service-roles",
        {
            "account_id": settings.account,
            "name_prefix": settings.name_prefix,
            "environment": settings.environment.value,
            "regions": [settings.region, *dr_regions(settings)],
            "glue_database": _fs().glue_database_name(settings.name_prefix) if settings.features else None,
        },
        opts,
    )


def build_governance_grants(
    settings: PlatformSettings,
    *,
    roles: Mapping[Persona, aws.iam.Role],
    kms_key_arn: pulumi.Input[str],
    artifacts_bucket_arn: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> dict[Persona, aws.iam.RolePolicy]:
    """One `governance-access` inline policy per persona that has governance grants."""
    return {
        persona: aws.iam.RolePolicy(
            f"governance-{persona.value}",
            role=roles[persona].id,
            name="governance-access",
            policy=_iam.render(statements),
            opts=opts,
        )
        for persona, statements in governance_persona_statements(settings, kms_key_arn, artifacts_bucket_arn).items()
        if statements
    }


def merge_persona_statements(*contributions: Mapping[Persona, list[Statement]]) -> dict[Persona, list[Statement]]:
    """Per-persona statement lists of several capabilities, concatenated."""
    merged: dict[Persona, list[Statement]] = {}
    for contribution in contributions:
        for persona, statements in contribution.items():
            merged.setdefault(persona, []).extend(statements)
    return merged


class GovernanceCapability(Capability):
    """What the governance capabilities share: their env-key users and key-policy statements, the personas'
    `governance-access` policies, and the data-service boundary of the roles that move data-lake objects. (What the
    persona boundary and the CI deployer need for them, `infra.access` takes from this module.)"""

    name = "governance"

    def key_users(self, settings: PlatformSettings) -> list[str]:
        return governance_key_users(settings)

    def key_policy_statements(self, settings: PlatformSettings) -> list[Statement]:
        return governance_key_statements(settings)

    def build(self, platform: Platform) -> DataServiceBoundary | None:
        from mlops_platform.components.access import PersonaRoles
        from mlops_platform.infra.storage import Storage

        built = platform.result("storage", Storage)
        build_governance_grants(
            platform.settings,
            roles=platform.result("access", PersonaRoles).roles,
            kms_key_arn=built.key.arn,
            artifacts_bucket_arn=built.lake.buckets["artifacts"].arn,
            opts=platform.base,
        )
        return build_data_service_boundary(platform.settings, platform.base)


CAPABILITY = GovernanceCapability()
