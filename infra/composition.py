"""Composition: the environment's components, wired together from validated settings."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from components.access import GitHubTrust, Persona, PersonaRoles, role_arn
from components.boundaries import ServiceRoleBoundary
from components.encryption import EncryptionKey
from components.monitoring import PUBLISHER_SERVICES
from components.serving import EndpointVpc
from components.storage import DataLake, ObjectLock, ObjectLockMode
from infra.config import PlatformSettings
from infra.deployer_access import deployer_policies
from infra.monitoring import build_alerting, build_dashboard
from infra.network import build_network, discovery_tag
from infra.registry import build_registry, registry_key_users, repository_arns
from infra.serving import (
    build_endpoints,
    build_monitors,
    endpoint_names,
    endpoint_outputs,
    serving_inference_statements,
)
from infra.training import build_training, key_user_role_arns
from infra.training_pipelines import (
    build_pipelines,
    job_security_group,
    pipeline_outputs,
    pipeline_persona_statements,
    pipeline_role_arns,
)


def build_platform(settings: PlatformSettings) -> dict[str, Any]:
    """Register every resource of the stack and return its outputs."""
    provider = aws.Provider(
        "aws",
        region=settings.region,
        allowed_account_ids=[settings.account],
        default_tags={"tags": settings.default_tags},
    )
    base = pulumi.ResourceOptions(providers={"aws": provider})
    stateful = pulumi.ResourceOptions.merge(
        base,
        pulumi.ResourceOptions(
            protect=settings.protection.protect_stateful,
            retain_on_delete=settings.protection.retain_on_delete,
        ),
    )
    prefix = settings.name_prefix

    key = EncryptionKey(
        "data-key",
        {
            "account_id": settings.account,
            "description": f"{prefix} data, artifacts and logs",
            "alias": f"{prefix}-data",
            "user_role_arns": [
                role_arn(settings.account, prefix, persona)
                for persona in Persona
                if persona is not Persona.CI_PREVIEWER
            ]
            + registry_key_users(settings)
            + pipeline_role_arns(settings)
            + key_user_role_arns(settings),
            "service_principals": [f"logs.{settings.region}.amazonaws.com"],
            "sns_publisher_principals": list(PUBLISHER_SERVICES),
        },
        stateful,
    )
    storage = settings.storage
    lock = storage.object_lock
    lake = DataLake(
        "datalake",
        {
            "kms_key_arn": key.arn,
            "account_id": settings.account,
            "name_prefix": prefix,
            "noncurrent_version_expiration_days": storage.noncurrent_version_expiration_days,
            "abort_incomplete_multipart_upload_days": storage.abort_incomplete_multipart_upload_days,
            "intelligent_tiering_after_days": storage.intelligent_tiering_after_days,
            "access_log_retention_days": storage.access_log_retention_days,
            "object_lock": ObjectLock(ObjectLockMode(lock.mode.value), lock.retention_days) if lock else None,
            "force_destroy": storage.force_destroy,
        },
        stateful,
    )
    service_boundary = ServiceRoleBoundary(
        "service-roles", {"account_id": settings.account, "region": settings.region, "name_prefix": prefix}, base
    )
    network = build_network(settings, provider, key.arn, base, service_boundary.arn)
    access = settings.access
    personas = PersonaRoles(
        "personas",
        {
            "name_prefix": prefix,
            "account_id": settings.account,
            "region": settings.region,
            "kms_key_arn": key.arn,
            "bucket_arns": {zone: bucket.arn for zone, bucket in lake.buckets.items()},
            "human_principal_arns": access.human_principal_arns,
            "github": GitHubTrust(
                subject=access.github.subject,
                oidc_provider_arn=access.github.oidc_provider_arn,
                preview_subjects=access.github.preview_subjects,
            ),
            "max_session_hours": access.max_session_hours,
            "state_bucket": access.state_bucket,
            "secrets_key_arn": access.secrets_key_arn,
            "environment": settings.environment.value,
            "ecr_repository_arns": repository_arns(settings),
            "deployer_policies": deployer_policies(settings),
            "extra_statements": {
                Persona.INFERENCE: serving_inference_statements(settings, network.vpc_id),
                **pipeline_persona_statements(settings, network.vpc_id),
            },
        },
        base,
    )
    registry = build_registry(
        settings,
        kms_key_arn=key.arn,
        artifacts=lake.buckets["artifacts"],
        roles=personas.roles,
        boundary_arn=personas.boundary.arn,
        base=base,
        stateful=stateful,
    )
    alerting = build_alerting(settings, kms_key_arn=key.arn, base=base)
    serving_vpc = EndpointVpc(network.vpc_id, network.vpc_cidr, network.private_subnet_ids, network.s3_prefix_list_id)
    serving = {
        "kms_key_arn": key.arn,
        "artifacts_bucket": lake.buckets["artifacts"].name,
        "execution_role_arn": personas.roles[Persona.INFERENCE].arn,
        "vpc": serving_vpc,
        "alert_topic_arn": alerting.topic.topic_arn,
        "opts": pulumi.ResourceOptions.merge(base, pulumi.ResourceOptions(depends_on=[personas])),
    }
    endpoints = build_endpoints(settings, model_groups=registry.model_groups, **serving)
    build_monitors(settings, endpoints, **serving)
    dashboard = build_dashboard(settings, endpoint_names=endpoint_names(settings), base=base)
    pipelines = None
    if settings.pipelines:
        jobs_sg = job_security_group(
            vpc_id=network.vpc_id, vpc_cidr=network.vpc_cidr, s3_prefix_list_id=network.s3_prefix_list_id, base=base
        )
        pipelines = build_pipelines(
            settings,
            kms_key_arn=key.arn,
            buckets={zone: bucket.name for zone, bucket in lake.buckets.items()},
            execution_role_arn=personas.roles[Persona.TRAINING].arn,
            subnet_ids=network.private_subnet_ids,
            security_group_ids=[jobs_sg.id],
            model_package_group_names={name: group.group_name for name, group in registry.model_groups.items()},
            topic_arn=alerting.topic.topic_arn,
            permissions_boundary_arn=personas.boundary.arn,
            base=base,
            raw_bucket_name=lake.buckets["raw"].name,
        )
    outputs: dict[str, Any] = {}
    if settings.training is not None:
        outputs["training"] = build_training(
            settings,
            subnet_ids=network.private_subnet_ids,
            discovery_tag=discovery_tag(settings),
            vpc_cidr=network.vpc_cidr,
            s3_cidr_blocks=network.s3_cidr_blocks,
            kms_key_arn=key.arn,
            bucket_arns={zone: bucket.arn for zone, bucket in lake.buckets.items()},
            persona_role_arns={persona: role.arn for persona, role in personas.roles.items()},
            service_boundary_arn=service_boundary.arn,
            persona_boundary_arn=personas.boundary.arn,
            opts=base,
        )
    return {
        "environment": settings.environment.value,
        "vpc_id": network.vpc_id,
        "private_subnet_ids": network.private_subnet_ids,
        "data_key_arn": key.arn,
        "buckets": {zone: bucket.name for zone, bucket in lake.buckets.items()},
        "access_log_bucket": lake.log_bucket.name,
        "roles": {persona.value: role.arn for persona, role in personas.roles.items()},
        "endpoints": endpoint_outputs(endpoints),
        **(pipeline_outputs(pipelines) if pipelines else {"pipelines": {}}),
        "alert_topic_arn": alerting.topic.topic_arn,
        "dashboard_name": dashboard.dashboard_name,
        "budget_names": [b.name for b in alerting.budgets.budgets.values()] if alerting.budgets else [],
        "container_repositories": {name: repo.repository_url for name, repo in registry.repositories.items()},
        "model_package_groups": {name: group.arn for name, group in registry.model_groups.items()},
        "model_package_group_names": {name: g.group_name for name, g in registry.model_groups.items()},
        "mlflow_tracking_server_arn": registry.tracking.arn if registry.tracking else None,
        **outputs,
    }
