"""Wiring of the `registry` section: ECR repositories, model package groups and the MLflow tracking server."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws
from mlops_platform.components.access import Persona, PersonaRoles
from mlops_platform.components.deployer_capabilities import registry_statements
from mlops_platform.components.registry_names import mlflow_role_name
from mlops_platform.components.storage import SecureBucket
from mlops_platform.infra.capability import Capability, Platform, deployer_environment
from mlops_platform.infra.config import PlatformSettings
from mlops_platform.infra.model_sharing import image_pull_principals
from mlops_platform.infra.storage import Storage

if TYPE_CHECKING:  # the registry components (ECR, SageMaker) load only when a stack registers one
    from mlops_platform.components.registry import ContainerRepository, ExperimentTracking, ModelPackageGroup


@dataclass
class Registry:
    """What `build_registry` created."""

    repositories: dict[str, ContainerRepository]
    """Repositories by configured name."""
    model_groups: dict[str, ModelPackageGroup]
    """Model package groups by name."""
    tracking: ExperimentTracking | None
    """The MLflow tracking server, when enabled."""


def repository_name(settings: PlatformSettings, name: str) -> str:
    """Physical repository name: `<project>-<env>/<name>`."""
    return f"{settings.name_prefix}/{name}"


def repository_arns(settings: PlatformSettings) -> list[str]:
    """ARNs of the configured repositories, known before they exist (for the persona policies)."""
    return [
        f"arn:aws:ecr:{settings.region}:{settings.account}:repository/{repository_name(settings, r.name)}"
        for r in settings.registry.repositories
    ]


def registry_key_users(settings: PlatformSettings) -> list[str]:
    """Roles of this section that must be allowed to use the env key (the MLflow role, when enabled)."""
    if not settings.registry.mlflow.enabled:
        return []
    return [f"arn:aws:iam::{settings.account}:role/{mlflow_role_name(settings.name_prefix)}"]


def build_registry(
    settings: PlatformSettings,
    *,
    kms_key_arn: pulumi.Input[str],
    artifacts: SecureBucket,
    roles: Mapping[Persona, aws.iam.Role],
    boundary_arn: pulumi.Input[str],
    base: pulumi.ResourceOptions,
    stateful: pulumi.ResourceOptions,
) -> Registry:
    """Register the section's components; image pushers and pullers are the persona roles (as Outputs, so
    ECR sees the roles exist before it accepts a policy naming them)."""
    registry = settings.registry
    # The components load only for what the stack registers (their annotations import pulumi_aws.ecr/.sagemaker).
    if registry.repositories:
        from mlops_platform.components.registry import ContainerRepository
    if registry.models:
        from mlops_platform.components.registry import ModelPackageGroup
    repositories = {
        repo.name: ContainerRepository(
            f"ecr-{repo.name.replace('/', '-')}",
            {
                "repository_name": repository_name(settings, repo.name),
                "kms_key_arn": kms_key_arn,
                "push_principal_arns": [roles[Persona.CI_DEPLOYER].arn],
                "pull_principal_arns": [
                    roles[Persona.TRAINING].arn,
                    roles[Persona.INFERENCE].arn,
                    *image_pull_principals(settings),
                ],
                "untagged_expiry_days": repo.untagged_expiry_days,
                "keep_releases": repo.keep_releases,
                "release_tag_patterns": repo.release_tag_patterns,
                "force_delete": registry.force_delete,
            },
            stateful,
        )
        for repo in registry.repositories
    }
    model_groups = {
        model.name: ModelPackageGroup(
            f"model-{model.name}",
            {
                "group_name": model.name,
                "account_id": settings.account,
                "region": settings.region,
                "description": model.description,
                "share_with_accounts": model.share_with_accounts,
            },
            stateful,
        )
        for model in registry.models
    }
    tracking = None
    if registry.mlflow.enabled:
        from mlops_platform.components.registry import ExperimentTracking, TrackingServerSize

        tracking = ExperimentTracking(
            "mlflow",
            {
                "name_prefix": settings.name_prefix,
                "account_id": settings.account,
                "region": settings.region,
                "artifacts_bucket_name": artifacts.name,
                "artifacts_bucket_arn": artifacts.arn,
                "kms_key_arn": kms_key_arn,
                "size": TrackingServerSize(registry.mlflow.size.value),
                "weekly_maintenance_window_start": registry.mlflow.weekly_maintenance_window_start,
                "permissions_boundary_arn": boundary_arn,
            },
            base,
        )
    return Registry(repositories=repositories, model_groups=model_groups, tracking=tracking)


class RegistryCapability(Capability):
    """Container repositories, model package groups and the MLflow tracking server."""

    name = "registry"

    def key_users(self, settings: PlatformSettings) -> list[str]:
        return registry_key_users(settings)

    def deployer_statements(self, settings: PlatformSettings) -> list:
        return registry_statements(deployer_environment(settings))

    def build(self, platform: Platform) -> Registry:
        built = platform.result("storage", Storage)
        personas = platform.result("access", PersonaRoles)
        return build_registry(
            platform.settings,
            kms_key_arn=built.key.arn,
            artifacts=built.lake.buckets["artifacts"],
            roles=personas.roles,
            boundary_arn=personas.boundary.arn,
            base=platform.base,
            stateful=platform.stateful,
        )

    def outputs(self, platform: Platform) -> dict:
        registry = platform.result(self.name, Registry)
        return {
            "container_repositories": {name: repo.repository_url for name, repo in registry.repositories.items()},
            "model_package_groups": {name: group.arn for name, group in registry.model_groups.items()},
            "model_package_group_names": {name: g.group_name for name, g in registry.model_groups.items()},
            "mlflow_tracking_server_arn": registry.tracking.arn if registry.tracking else None,
        }


CAPABILITY = RegistryCapability()
