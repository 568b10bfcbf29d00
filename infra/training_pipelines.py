"""Wiring of the `pipelines` config section: one `TrainingPipeline` per entry, approval notifications per model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi
from mlops_platform.components._sagemaker_jobs import pipeline_operator_statements, training_job_statements
from mlops_platform.components.access import Persona, PersonaRoles, role_arn
from mlops_platform.components.network import Network
from mlops_platform.infra.capability import Capability, Platform
from mlops_platform.infra.config import PlatformSettings
from mlops_platform.infra.config.pipelines import PipelineSettings
from mlops_platform.infra.features import group_name
from mlops_platform.infra.monitoring import Alerting
from mlops_platform.infra.registry import Registry
from mlops_platform.infra.serving import monitor_schedule_arns
from mlops_platform.infra.storage import Storage
from mlops_platform.pipelines.template import KINDS, source_archive_base64, source_hash

if TYPE_CHECKING:  # the pipeline components (EventBridge Scheduler, ...) load only when a stack has pipelines
    from mlops_platform.components.features import FeatureStore
    from mlops_platform.components.pipelines import JobSecurityGroup, ModelApprovalNotifications, TrainingPipeline
    from mlops_platform.components.retraining import PipelineRetraining, RawDataEvents


def offline_store_uris(settings: PlatformSettings, store: FeatureStore | None) -> dict[str, pulumi.Output[str]]:
    """Each configured feature group's offline-store URI, by config name (none without a feature store)."""
    if store is None:
        return {}
    return {g.name: store.offline_store_uris[group_name(settings, g)] for g in settings.features}


def pipeline_name(settings: PlatformSettings, pipeline: PipelineSettings) -> str:
    """Physical name of a configured pipeline: `<project>-<env>-<name>`."""
    return f"{settings.name_prefix}-{pipeline.name}"


def pipeline_role_name(settings: PlatformSettings, pipeline: PipelineSettings) -> str:
    """Physical name of a pipeline's role: `<project>-<env>-pipeline-<name>`."""
    return f"{settings.name_prefix}-pipeline-{pipeline.name}"


def pipeline_role_arns(settings: PlatformSettings) -> list[str]:
    """ARNs of the pipeline roles, known before they exist (the env key's policy names them)."""
    return [f"arn:aws:iam::{settings.account}:role/{pipeline_role_name(settings, p)}" for p in settings.pipelines]


def feature_group_input(
    settings: PlatformSettings, pipeline: PipelineSettings, offline_store_uris: Mapping[str, pulumi.Input[str]]
) -> dict[str, Any] | None:
    """The `FeatureGroupInput` of a pipeline that reads a feature group (None: it reads CSV from the raw bucket)."""
    if pipeline.feature_group is None:
        return None
    group = next(g for g in settings.features if g.name == pipeline.feature_group)  # the config checked it exists
    return {
        "offline_store_uri": offline_store_uris[group.name],
        "record_identifier": group.record_identifier,
        "event_time": group.event_time,
    }


@dataclass
class Pipelines:
    """What `build_pipelines` registered."""

    pipelines: dict[str, TrainingPipeline] = field(default_factory=dict)
    notifications: dict[str, ModelApprovalNotifications] = field(default_factory=dict)
    retraining: dict[str, PipelineRetraining] = field(default_factory=dict)
    raw_data_events: RawDataEvents | None = None


def build_pipelines(
    settings: PlatformSettings,
    *,
    kms_key_arn: pulumi.Input[str],
    buckets: Mapping[str, pulumi.Input[str]],
    execution_role_arn: pulumi.Input[str],
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]],
    security_group_ids: pulumi.Input[Sequence[pulumi.Input[str]]],
    model_package_group_names: Mapping[str, pulumi.Input[str]] | None,
    topic_arn: pulumi.Input[str] | None,
    permissions_boundary_arn: pulumi.Input[str],
    base: pulumi.ResourceOptions,
    raw_bucket_name: pulumi.Input[str] | None = None,
    offline_store_uris: Mapping[str, pulumi.Input[str]] | None = None,
) -> Pipelines:
    """Deploy every configured pipeline, and one approval notification rule per model they register into, and
    the event-driven retraining a pipeline opts into (S3 events of the raw bucket, `raw_bucket_name`, go to
    EventBridge when one of them starts on new data).

    `model_package_group_names` maps a config model name to its group's physical name (None: the config
    name is the group name); without `topic_arn`, no notification rules are created.
    """
    from mlops_platform.components.pipelines import ModelApprovalNotifications, TrainingPipeline
    from mlops_platform.components.retraining import NewDataTrigger, PipelineRetraining, RawDataEvents

    built = Pipelines()
    for config in settings.pipelines:
        kind = KINDS[config.kind.value]
        scripts = kind.scripts()
        group = (model_package_group_names or {}).get(config.model, config.model)
        images = config.images
        built.pipelines[config.name] = TrainingPipeline(
            f"pipeline-{config.name}",
            {
                "pipeline_name": pipeline_name(settings, config),
                "template": kind.template(config.training_storage),
                "assets": kind.assets(),
                "config_files": {"bias-constraints.json": bias_limits(config)},
                "scripts": scripts,
                "source_archive_base64": source_archive_base64(scripts),
                "source_hash": source_hash(scripts),
                "account_id": settings.account,
                "region": settings.region,
                "role_name": pipeline_role_name(settings, config),
                "execution_role_arn": execution_role_arn,
                "kms_key_arn": kms_key_arn,
                "raw_bucket": buckets["raw"],
                "feature_group_input": feature_group_input(settings, config, offline_store_uris or {}),
                "curated_bucket": buckets["curated"],
                "artifacts_bucket": buckets["artifacts"],
                "subnet_ids": subnet_ids,
                "security_group_ids": security_group_ids,
                "model_package_group_name": group,
                "images": {
                    "processing": images.processing,
                    "training": images.training,
                    "inference": images.inference or images.training,
                },
                "parameters": {
                    "processing_instance_type": config.processing_instance_type,
                    "training_instance_type": config.training_instance_type,
                    "metric": config.metric.value,
                    "metric_threshold": config.threshold,
                    "target_column": config.target_column,
                    "skip_drift_checks": config.skip_drift_checks,
                    "bias_facet": config.bias.facet,
                    "bias_facet_values": list(config.bias.facet_values),
                    "max_mean_shift": config.data_validation.max_mean_shift_std,
                    "max_missing_increase": config.data_validation.max_missing_increase,
                },
                "schedule_expression": config.schedule,
                "schedule_timezone": config.schedule_timezone,
                "description": f"{config.kind.value} pipeline of model {config.model}",
                "permissions_boundary_arn": permissions_boundary_arn,
            },
            base,
        )
        if retraining := config.retraining:
            drift = monitor_schedule_arns(settings, config.model) if retraining.on_drift else []
            new_data = (
                NewDataTrigger(buckets["raw"], f"{pipeline_name(settings, config)}/", retraining.batch_marker_suffix)
                if retraining.on_new_data
                else None
            )
            if new_data or drift:
                built.retraining[config.name] = PipelineRetraining(
                    f"retraining-{config.name}",
                    {
                        "pipeline_name": pipeline_name(settings, config),
                        "account_id": settings.account,
                        "region": settings.region,
                        "role_name": f"{pipeline_role_name(settings, config)[:56]}-retrain",
                        "permissions_boundary_arn": permissions_boundary_arn,
                        "new_data": new_data,
                        "drift_schedule_arns": drift,
                    },
                    pulumi.ResourceOptions.merge(
                        base, pulumi.ResourceOptions(depends_on=[built.pipelines[config.name]])
                    ),
                )
        if topic_arn is not None and config.model not in built.notifications:
            built.notifications[config.model] = ModelApprovalNotifications(
                f"approvals-{config.model}",
                {
                    "rule_name": f"{settings.name_prefix}-{config.model}-approvals"[:64],
                    "model_package_group_name": group,
                    "topic_arn": topic_arn,
                },
                base,
            )
    if raw_bucket_name is not None and any(p.retraining and p.retraining.on_new_data for p in settings.pipelines):
        built.raw_data_events = RawDataEvents("raw-data-events", {"bucket_name": raw_bucket_name}, base)
    return built


def bias_limits(config: PipelineSettings) -> dict[str, Any]:
    """The configured bias limits as the Clarify constraints file the bias checks compare with."""
    from mlops_platform.components.model_monitoring import bias_constraints_document

    bias = config.bias
    return bias_constraints_document(
        label=config.target_column,
        facet=bias.facet,
        facet_values=bias.facet_values,
        max_class_imbalance=bias.max_class_imbalance,
        max_label_imbalance=bias.max_label_imbalance,
        max_dppl=bias.max_dppl,
    )


def pipeline_deployer_statements(settings: PlatformSettings) -> list[dict[str, Any]]:
    """What the CI deployer needs to deploy the configured pipelines (nothing without pipelines): the env's
    pipelines, their schedules and approval rules. One statement: the deployer's inline policies share IAM's
    10,240-character quota. (The jobs' security group falls under the network's EC2 management.)"""
    if not settings.pipelines:
        return []
    account, region, prefix = settings.account, settings.region, settings.name_prefix
    notifications = []
    if any(p.retraining and p.retraining.on_new_data for p in settings.pipelines):
        notifications = [
            {
                "Sid": "RawBucketEventsToEventBridge",
                "Effect": "Allow",
                "Action": ["s3:PutBucketNotification", "s3:GetBucketNotification"],
                "Resource": f"arn:aws:s3:::{prefix}-raw-*",
            }
        ]
    return [
        *notifications,
        {
            "Sid": "ManageEnvPipelines",
            "Effect": "Allow",
            "Action": [
                *(f"sagemaker:{a}" for a in ("CreatePipeline", "UpdatePipeline", "DeletePipeline", "AddTags")),
                *(f"scheduler:{a}Schedule" for a in ("Create", "Update", "Delete", "Get")),
                *(f"events:{a}" for a in ("PutRule", "DeleteRule", "PutTargets", "RemoveTargets", "TagResource")),
                # Read verbs, for refresh; the resources below keep them to the env's pipelines and rules.
                "sagemaker:Describe*",
                "sagemaker:List*",
                "events:Describe*",
                "events:List*",
            ],
            "Resource": [
                f"arn:aws:sagemaker:{region}:{account}:pipeline/{prefix}-*",
                f"arn:aws:scheduler:{region}:{account}:schedule/default/{prefix}-*",
                f"arn:aws:events:{region}:{account}:rule/{prefix}-*",
            ],
        },
    ]


def job_security_group(
    *,
    vpc_id: pulumi.Input[str],
    vpc_cidr: pulumi.Input[str],
    s3_prefix_list_id: pulumi.Input[str],
    base: pulumi.ResourceOptions,
) -> JobSecurityGroup:
    """The security group of the pipelines' jobs: HTTPS to the VPC endpoints and S3 only."""
    from mlops_platform.components.pipelines import JobSecurityGroup

    return JobSecurityGroup(
        "pipeline-jobs", {"vpc_id": vpc_id, "vpc_cidr": vpc_cidr, "s3_prefix_list_id": s3_prefix_list_id}, base
    )


def pipeline_persona_statements(
    settings: PlatformSettings,
    vpc_id: pulumi.Input[str],
    kms_key_arn: pulumi.Input[str],
    security_group_ids: pulumi.Input[Sequence[pulumi.Input[str]]],
) -> dict[Persona, list[dict[str, Any]]]:
    """Persona extras when pipelines are configured: the training role runs their jobs in the VPC, the ML
    engineer operates them, starting jobs only in the jobs' security groups `security_group_ids` (and the
    persona boundary thereby admits the pipeline roles' rights)."""
    if not settings.pipelines:
        return {}
    account, region, prefix = settings.account, settings.region, settings.name_prefix
    return {
        Persona.TRAINING: training_job_statements(account, region, vpc_id),
        Persona.ML_ENGINEER: pipeline_operator_statements(
            account, region, prefix, role_arn(account, prefix, Persona.TRAINING), kms_key_arn, security_group_ids
        ),
    }


def pipeline_outputs(built: Pipelines) -> dict[str, Any]:
    """Stack outputs: pipeline ARNs by config name."""
    return {"pipelines": {name: p.arn for name, p in built.pipelines.items()}}


@dataclass
class JobNetwork:
    """What `JobNetworkCapability` built: the pipelines' job security group (None without pipelines)."""

    security_group: JobSecurityGroup | None = None


class JobNetworkCapability(Capability):
    """The security group of the pipelines' jobs, built before the access capability: the ML engineer's job
    statements name it (`sagemaker:VpcSecurityGroupIds`), so a person starts jobs only where the pipelines do."""

    name = "pipeline_jobs_network"

    def build(self, platform: Platform) -> JobNetwork:
        if not platform.settings.pipelines:
            return JobNetwork()
        network = platform.result("network", Network)
        return JobNetwork(
            job_security_group(
                vpc_id=network.vpc_id,
                vpc_cidr=network.vpc_cidr,
                s3_prefix_list_id=network.s3_prefix_list_id,
                base=platform.base,
            )
        )

    def outputs(self, platform: Platform) -> Mapping[str, Any]:
        """`job_security_group_id`: the group a person's SageMaker jobs must name (the ML engineer's policy admits
        no other), known without EC2 describe rights."""
        group = platform.result(self.name, JobNetwork).security_group
        return {"job_security_group_id": group.id} if group is not None else {}


def job_security_group_ids(platform: Platform) -> list[pulumi.Output[str]]:
    """The IDs of the pipelines' job security group (built by `JOB_NETWORK`); a programming error without one."""
    group = platform.result(JOB_NETWORK.name, JobNetwork).security_group
    if group is None:
        raise RuntimeError("the pipelines' job security group is built only when pipelines are configured")
    return [group.id]


class PipelinesCapability(Capability):
    """The configured SageMaker pipelines (opt-in: nothing without a `pipelines` entry) and the approval
    notifications; their jobs' security group is `JOB_NETWORK`'s."""

    name = "pipelines"

    def key_users(self, settings: PlatformSettings) -> list[str]:
        return pipeline_role_arns(settings)

    def deployer_statements(self, settings: PlatformSettings) -> list:
        return pipeline_deployer_statements(settings)

    def persona_statements(self, platform: Platform) -> dict:
        if not platform.settings.pipelines:
            return {}
        return pipeline_persona_statements(
            platform.settings,
            platform.result("network", Network).vpc_id,
            platform.result("storage", Storage).key.arn,
            job_security_group_ids(platform),
        )

    def build(self, platform: Platform) -> Pipelines:
        settings = platform.settings
        if not settings.pipelines:
            return Pipelines()
        built = platform.result("storage", Storage)
        network = platform.result("network", Network)
        personas = platform.result("access", PersonaRoles)
        registry = platform.result("registry", Registry)
        return build_pipelines(
            settings,
            kms_key_arn=built.key.arn,
            buckets={zone: bucket.name for zone, bucket in built.lake.buckets.items()},
            execution_role_arn=personas.roles[Persona.TRAINING].arn,
            subnet_ids=network.private_subnet_ids,
            security_group_ids=job_security_group_ids(platform),
            model_package_group_names={name: group.group_name for name, group in registry.model_groups.items()},
            topic_arn=platform.result("monitoring", Alerting).topic.topic_arn,
            permissions_boundary_arn=personas.boundary.arn,
            base=platform.base,
            raw_bucket_name=built.lake.buckets["raw"].name,
            offline_store_uris=offline_store_uris(settings, platform.results.get("features")),
        )

    def outputs(self, platform: Platform) -> dict:
        return pipeline_outputs(platform.result(self.name, Pipelines))


JOB_NETWORK = JobNetworkCapability()
"""The pipelines' job security group; in `CAPABILITIES` before the access capability."""
CAPABILITY = PipelinesCapability()
