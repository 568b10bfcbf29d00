"""What each component argument accepts beyond its annotation: value types per field and cross-field checks.

Keyed by class name (the names are unique across `components`, as Pulumi's schema requires), so this module
imports no component module. `FIELDS[cls][field]` is a `components.types` type refining the scalars of that
field (inside `Input`, `Sequence`, `Mapping`, `Optional`); `CHECKS[cls]` are functions run on the validated
value, raising ValueError. `tests/unit/test_component_validation.py` checks that every entry names a real field.
"""

import re
from collections.abc import Callable
from typing import Annotated, Any

import pulumi
from pydantic import AfterValidator, Field, StringConstraints

from .feature_types import FeatureName
from .types import (
    AccountId,
    AwsRegion,
    BucketArn,
    BucketName,
    ConnectionArn,
    Cron,
    Days,
    EcrImage,
    GitHubRepository,
    GitHubUserId,
    Identifier,
    Ipv4Cidr,
    KmsKeyArn,
    LogRetentionDays,
    ModelPackageArn,
    MultipartAbortDays,
    NamePrefix,
    Percent,
    PolicyArn,
    PrincipalArn,
    ProcessingInstanceType,
    RoleArn,
    S3Uri,
    SageMakerName,
    Seconds,
    ServicePrincipal,
    TieringDays,
    TimeZone,
    TopicArn,
    VariantName,
)

Positive = Annotated[int, Field(ge=1)]
OfflineStoreUri = Annotated[
    str,
    StringConstraints(
        pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^/]+)*/\d{12}/sagemaker/[a-z0-9-]+/offline-store/"
        r"[a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63}-\d+/data/?$"
    ),
]
"""A feature group's ResolvedOutputS3Uri: s3://<bucket>/<prefix>/<account>/sagemaker/<region>/offline-store/
<group>-<created>/data."""
NotNegative = Annotated[float, Field(ge=0)]


def _check_alias(value: str) -> str:
    if value.startswith("aws/") or not re.fullmatch(r"[a-zA-Z0-9/_-]{1,250}", value):
        raise ValueError("not a KMS alias name; expected 1-250 letters, digits, '/', '_', '-', without alias/ or aws/")
    return value


AliasName = Annotated[str, AfterValidator(_check_alias)]
SnsName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,256}$")]
FeatureGroupName = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63}$")]
GlueName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,255}$")]
RuleName = Annotated[str, StringConstraints(pattern=r"^[.\-_A-Za-z0-9]{1,64}$")]

_COMMON = {
    "account_id": AccountId,
    "region": AwsRegion,
    "kms_key_arn": KmsKeyArn,
    "permissions_boundary_arn": PolicyArn,
}

FIELDS: dict[str, dict[str, Any]] = {
    "EncryptionKeyArgs": {
        "account_id": AccountId,
        "administrator_role_arns": RoleArn,
        "metadata_reader_role_arns": RoleArn,
        "region": AwsRegion,
        "user_role_arns": PrincipalArn,
        "service_principals": ServicePrincipal,
        "sns_publisher_principals": ServicePrincipal,
        "alias": AliasName,
    },
    "SecureBucketArgs": {
        "kms_key_arn": KmsKeyArn,
        "access_log_bucket": BucketName,
        "log_source_account_id": AccountId,
        "noncurrent_version_expiration_days": Days,
        "abort_incomplete_multipart_upload_days": MultipartAbortDays,
        "intelligent_tiering_after_days": TieringDays,
        "expiration_days": Days,
    },
    "ObjectLock": {"retention_days": Days},
    "DataLakeArgs": {
        "kms_key_arn": KmsKeyArn,
        "account_id": AccountId,
        "name_prefix": NamePrefix,
        "noncurrent_version_expiration_days": Days,
        "abort_incomplete_multipart_upload_days": MultipartAbortDays,
        "intelligent_tiering_after_days": TieringDays,
        "access_log_retention_days": Days,
    },
    "PersonaRolesArgs": {
        "account_id": AccountId,
        "region": AwsRegion,
        "kms_key_arn": KmsKeyArn,
        "name_prefix": NamePrefix,
        "bucket_arns": BucketArn,
        "principal_arns": RoleArn,
        "max_session_hours": Annotated[int, Field(ge=1, le=12)],
        "state_bucket": BucketName,
        "secrets_key_arn": KmsKeyArn,
    },
    "GitHubTrust": {"subject": Annotated[str, StringConstraints(pattern=r"^repo:[^:\s]+/[^:\s]+:\S+$")]},
    "ServiceRoleBoundaryArgs": {"account_id": AccountId, "region": AwsRegion, "name_prefix": NamePrefix},
    "AlertTopicArgs": {"account_id": AccountId, "region": AwsRegion, "kms_key_arn": KmsKeyArn, "topic_name": SnsName},
    "EnvironmentDashboardArgs": {"region": AwsRegion, "period_seconds": Annotated[int, Field(ge=60)]},
    "BudgetsArgs": {
        "name_prefix": NamePrefix,
        "topic_arn": TopicArn,
    },
    "NetworkArgs": {
        "cidr_block": Ipv4Cidr,
        "region": AwsRegion,
        "flow_log_kms_key_arn": KmsKeyArn,
        "account_id": AccountId,
        "name_prefix": NamePrefix,
        "permissions_boundary_arn": PolicyArn,
    },
    "TrainingPipelineArgs": {
        **_COMMON,
        "execution_role_arn": RoleArn,
        "raw_bucket": BucketName,
        "curated_bucket": BucketName,
        "artifacts_bucket": BucketName,
        "model_package_group_name": SageMakerName,
        "images": EcrImage,
        "max_parallel_steps": Positive,
    },
    "FeatureGroupInput": {
        "offline_store_uri": OfflineStoreUri,
        "record_identifier": FeatureName,
        "event_time": FeatureName,
    },
    "ModelApprovalNotificationsArgs": {
        "rule_name": RuleName,
        "model_package_group_name": SageMakerName,
        "topic_arn": TopicArn,
    },
    "JobSecurityGroupArgs": {"vpc_cidr": Ipv4Cidr},
    "ContainerRepositoryArgs": {
        "kms_key_arn": KmsKeyArn,
        "push_principal_arns": PrincipalArn,
        "pull_principal_arns": PrincipalArn,
    },
    "ModelPackageGroupArgs": {
        "account_id": AccountId,
        "region": AwsRegion,
    },
    "ExperimentTrackingArgs": {**_COMMON, "name_prefix": NamePrefix, "artifacts_bucket_name": BucketName},
    "ModelSource": {"arn": ModelPackageArn, "image": EcrImage, "model_data_url": S3Uri},
    "Autoscaling": {
        "min_instances": Positive,
        "max_instances": Positive,
        "invocations_per_instance": Positive,
        "scale_in_cooldown_seconds": Seconds,
        "scale_out_cooldown_seconds": Seconds,
    },
    "Variant": {
        "name": VariantName,
        "initial_instance_count": Positive,
        "weight": NotNegative,
    },
    "EndpointVpc": {"vpc_cidr": Ipv4Cidr},
    "DataCapture": {"destination_s3_uri": S3Uri, "sampling_percentage": Annotated[int, Field(ge=0, le=100)]},
    "Rollout": {
        "step_percent": Annotated[int, Field(ge=1, le=99)],
        "wait_interval_seconds": Annotated[int, Field(ge=0, le=3600)],
        "termination_wait_seconds": Annotated[int, Field(ge=0, le=3600)],
        "max_execution_timeout_seconds": Annotated[int, Field(ge=600, le=28800)],
    },
    "AlarmThresholds": {
        "latency_p99_ms": Annotated[float, Field(gt=0)],
        "errors_5xx": Positive,
        "error_4xx_rate_percent": Percent,
        "cpu_utilization_percent": Annotated[float, Field(gt=0)],
        "gpu_utilization_percent": Percent,
        "evaluation_periods": Positive,
        "datapoints_to_alarm": Positive,
    },
    "OffHours": {"timezone": TimeZone, "scale_down_cron": Cron, "scale_up_cron": Cron, "instances": Positive},
    "DataQualityMonitor": {
        "statistics_s3_uri": S3Uri,
        "constraints_s3_uri": S3Uri,
        "output_s3_uri": S3Uri,
        "image_uri": Annotated[
            str, StringConstraints(pattern=r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/\S+$")
        ],
        "instance_type": ProcessingInstanceType,
        "max_runtime_seconds": Annotated[int, Field(ge=1, le=86400)],
    },
    "ModelEndpointArgs": {
        "endpoint_name": SageMakerName,
        "execution_role_arn": RoleArn,
        "kms_key_arn": KmsKeyArn,
        "alert_topic_arn": TopicArn,
    },
    "Serverless": {"memory_size_mb": Positive, "max_concurrency": Positive, "provisioned_concurrency": Positive},
    "TenancyArgs": {
        "account_id": AccountId,
        "region": AwsRegion,
        "name_prefix": NamePrefix,
        "kms_key_arn": KmsKeyArn,
        "vpc_cidr": Ipv4Cidr,
        "s3_cidr_blocks": Ipv4Cidr,
        "extra_egress_cidrs": Ipv4Cidr,
        "permissions_boundary_arn": PolicyArn,
    },
    "Team": {"member_role_arns": RoleArn, "gpu_quota": Annotated[int, Field(ge=0)]},
    "GpuCapacityArgs": {**_COMMON, "controller_replicas": Positive},
    "GpuPool": {"max_gpus": Positive, "root_volume_gib": Positive},
    "TrainingClusterArgs": {
        **_COMMON,
        "public_access_cidrs": Ipv4Cidr,
        "log_retention_days": LogRetentionDays,
    },
    "ClusterAccess": {"principal_arn": PrincipalArn},
    "SystemNodes": {"min_size": Annotated[int, Field(ge=0)], "desired_size": Positive, "max_size": Positive},
    "ExecutionRoleArgs": {
        "service": ServicePrincipal,
        "account_id": AccountId,
        "permissions_boundary_arn": PolicyArn,
        "role_name": Annotated[str, StringConstraints(pattern=r"^[\w+=,.@-]{1,64}$")],
        "max_session_hours": Annotated[int, Field(ge=1, le=12)],
    },
    "FeatureStoreArgs": {
        **_COMMON,
        "name_prefix": NamePrefix,
        "features_bucket_name": BucketName,
        "features_bucket_arn": BucketArn,
    },
    "FeatureGroupSpec": {"name": FeatureGroupName},
    "OnlineStore": {"ttl_value": Positive},
    "AuditTrailArgs": {
        "account_id": AccountId,
        "region": AwsRegion,
        "kms_key_arn": KmsKeyArn,
        "access_log_bucket": BucketName,
        "data_bucket_arns": BucketArn,
        "log_retention_days": LogRetentionDays,
        "bucket_retention_days": Days,
        "alert_topic_arn": TopicArn,
        "reader_role_arns": RoleArn,
        "logs_role_boundary_arn": PolicyArn,
    },
    "CrossRegionReplicationArgs": {
        "name_prefix": NamePrefix,
        "account_id": AccountId,
        "source_region": AwsRegion,
        "replica_region": AwsRegion,
        "source_kms_key_arn": KmsKeyArn,
        "permissions_boundary_arn": PolicyArn,
        "administrator_role_arns": RoleArn,
        "restore_role_arns": RoleArn,
    },
    "ReplicatedBucket": {
        "bucket_name": BucketName,
        "bucket_arn": BucketArn,
        "noncurrent_version_expiration_days": Days,
    },
    "DataServiceBoundaryArgs": {
        "account_id": AccountId,
        "name_prefix": NamePrefix,
        "environment": Identifier,
        "regions": AwsRegion,
        "glue_database": GlueName,
    },
    "GitHubRunnerArgs": {
        "account_id": AccountId,
        "region": AwsRegion,
        "repository": GitHubRepository,
        "connection_arn": ConnectionArn,
        "kms_key_arn": KmsKeyArn,
        "permissions_boundary_arn": PolicyArn,
        "workflows": Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9 ._-]{1,80}$")],
        "actor_account_ids": GitHubUserId,
        "compute_type": Annotated[
            str, StringConstraints(pattern=r"^BUILD_GENERAL1_(SMALL|MEDIUM|LARGE|XLARGE|2XLARGE)$")
        ],
        "build_timeout_minutes": Annotated[int, Field(ge=5, le=2160)],
        "log_retention_days": LogRetentionDays,
    },
}


def _datapoints_within_periods(alarms: Any) -> None:
    if alarms.datapoints_to_alarm > alarms.evaluation_periods:
        raise ValueError(
            f"datapoints_to_alarm={alarms.datapoints_to_alarm} exceeds evaluation_periods={alarms.evaluation_periods}; "
            "an alarm fires when datapoints_to_alarm of the evaluation_periods breach, so it must be at most that"
        )


def _system_nodes_bounds(nodes: Any) -> None:
    if not nodes.min_size <= nodes.desired_size <= nodes.max_size:
        raise ValueError(
            f"min_size={nodes.min_size}, desired_size={nodes.desired_size}, max_size={nodes.max_size}: "
            "need min_size <= desired_size <= max_size"
        )


def _log_target(args: Any) -> None:
    if not args.get("log_target"):
        return
    if "log_source_account_id" not in args:
        raise ValueError("log_target needs log_source_account_id (the account whose buckets deliver logs here)")
    if args.get("encryption", "AES256") != "AES256":
        raise ValueError(
            f"log_target with encryption={args['encryption']!r}: S3 server access logging delivers only to "
            "buckets encrypted with SSE-S3 (AES256); leave encryption unset"
        )


def _no_allow_star(args: Any) -> None:
    for index, statement in enumerate(args.get("statements", [])):
        actions = statement.get("Action", [])
        if statement.get("Effect") == "Allow" and "*" in ([actions] if isinstance(actions, str) else actions):
            raise ValueError(f"statements[{index}] allows Action '*'; name the actions the service needs")


def _one_model_kind(model: Any) -> None:
    container = model.image is not None or model.model_data_url is not None
    if (model.arn is not None) == container or (container and (model.image is None or model.model_data_url is None)):
        raise ValueError("give either arn (a model package) or both image and model_data_url (a container model)")


def _resources(args: Any) -> None:
    for index, resource in enumerate(args.get("depends_on", [])):
        if not isinstance(resource, pulumi.Resource):
            raise ValueError(f"depends_on[{index}]={resource!r} is not a pulumi.Resource")


def _dependencies(source: Any) -> None:
    for index, resource in enumerate(source.depends_on):
        if not isinstance(resource, pulumi.Resource):
            raise ValueError(f"depends_on[{index}]={resource!r} is not a pulumi.Resource")


def _feature_group(spec: Any) -> None:
    from .features import check_feature_group  # imported late: components.features imports the validation

    check_feature_group(spec)


def _distinct_identifier_and_event_time(source: Any) -> None:
    if source.record_identifier == source.event_time:
        raise ValueError(
            f"record_identifier and event_time are both {source.record_identifier!r}; a feature group's record "
            "identifier and event time are two different features"
        )


def _personas(args: Any) -> None:
    from .access import HUMAN_PERSONAS, Persona  # imported late: components.access imports the validation

    accepted = {p.value for p in Persona}
    if unknown := sorted(set(args.get("extra_statements", {})) - accepted):
        raise ValueError(f"extra_statements has unknown personas {unknown}; expected {', '.join(sorted(accepted))}")
    people = [p.value for p in HUMAN_PERSONAS]
    if unknown := sorted(str(key) for key in set(args["principal_arns"]) - set(people)):
        raise ValueError(
            f"principal_arns has unknown or non-human personas {unknown}; expected keys {', '.join(people)} "
            "(the personas people assume)"
        )
    if empty := [p for p in people if not args["principal_arns"].get(p)]:
        raise ValueError(f"principal_arns needs at least one role ARN for {', '.join(empty)}")


CHECKS: dict[str, tuple[Callable[[Any], None], ...]] = {
    "TenancyArgs": (_resources,),
    "GpuCapacityArgs": (_resources,),
    "ReplicatedBucket": (_dependencies,),
    "FeatureGroupSpec": (_feature_group,),
    "PersonaRolesArgs": (_personas,),
    "ModelSource": (_one_model_kind,),
    "ExecutionRoleArgs": (_no_allow_star,),
    "SecureBucketArgs": (_log_target,),
    "AlarmThresholds": (_datapoints_within_periods,),
    "SystemNodes": (_system_nodes_bounds,),
}


# --- Model monitors and event-driven retraining (components/model_monitoring.py, components/retraining.py) ---


def _check_monitor_prefix(value: str) -> str:
    if not re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,39}", value):
        raise ValueError(
            "expected 1-40 letters, digits and hyphens, starting and ending with a letter or digit "
            "(schedule names add up to 14 characters and SageMaker allows 63)"
        )
    return value


def _check_ebs_processing_instance(value: str) -> str:
    from . import sagemaker_catalog as catalog

    if catalog.has_local_nvme(value):
        raise ValueError(
            "has local NVMe storage, which SageMaker encrypts with its own key, not the volume KMS key; "
            "use an EBS-backed processing instance type, e.g. ml.m5.large"
        )
    return value


def _check_directory(value: str) -> str:
    if not value.endswith("/"):
        raise ValueError("must end with '/' (the monitors add their report folders to it)")
    return value


def _check_no_trailing_slash(value: str) -> str:
    if value.endswith("/"):
        raise ValueError("must not end with '/' (the monitors add /<file> to it)")
    return value


def _check_batch_prefix(value: str) -> str:
    if not value.endswith("/") or "*" in value:
        raise ValueError("must end with '/' and may not contain '*' (EventBridge's wildcard)")
    return value


MonitorPrefix = Annotated[str, AfterValidator(_check_monitor_prefix)]
EbsProcessingInstanceType = Annotated[ProcessingInstanceType, AfterValidator(_check_ebs_processing_instance)]
S3Folder = Annotated[S3Uri, AfterValidator(_check_directory)]
S3PrefixWithoutSlash = Annotated[S3Uri, AfterValidator(_check_no_trailing_slash)]
ServiceImage = FIELDS["DataQualityMonitor"]["image_uri"]
PipelineName = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")]
MonitoringScheduleArn = Annotated[
    str,
    StringConstraints(
        pattern=r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:monitoring-schedule/[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
    ),
]
BatchPrefix = Annotated[str, AfterValidator(_check_batch_prefix)]
BatchMarker = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]

FIELDS.update(
    {
        "ModelMonitorsArgs": {
            "endpoint_name": SageMakerName,
            "name_prefix": MonitorPrefix,
            "execution_role_arn": RoleArn,
            "kms_key_arn": KmsKeyArn,
            "baseline_s3_uri": S3PrefixWithoutSlash,
            "reports_s3_uri": S3Folder,
            "ground_truth_s3_uri": S3Uri,
            "model_monitor_image_uri": ServiceImage,
            "clarify_image_uri": ServiceImage,
            "alert_topic_arn": TopicArn,
            "schedule_expression": Cron,
            "instance_type": EbsProcessingInstanceType,
            "max_runtime_seconds": Annotated[int, Field(ge=60, le=3600)],
            "probability_threshold": Annotated[float, Field(gt=0, lt=1)],
            "ground_truth_delay_hours": Annotated[int, Field(ge=0, le=336)],
        },
        "ModelQualityAlarm": {"metric": Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,254}$")]},
        "PipelineRetrainingArgs": {
            "pipeline_name": PipelineName,
            "account_id": AccountId,
            "region": AwsRegion,
            "role_name": FIELDS["ExecutionRoleArgs"]["role_name"],
            "permissions_boundary_arn": PolicyArn,
            "drift_schedule_arns": MonitoringScheduleArn,
        },
        "NewDataTrigger": {"bucket_name": BucketName, "prefix": BatchPrefix, "marker_suffix": BatchMarker},
        "RawDataEventsArgs": {"bucket_name": BucketName},
    }
)


def _monitor_vpc_sizes(vpc: Any) -> None:
    if not 1 <= len(vpc.subnet_ids) <= 16 or not 1 <= len(vpc.security_group_ids) <= 5:
        raise ValueError(
            f"{len(vpc.subnet_ids)} subnet_ids and {len(vpc.security_group_ids)} security_group_ids; "
            "SageMaker's VpcConfig takes 1-16 subnets and 1-5 security groups"
        )


def _a_trigger(args: Any) -> None:
    if args.get("new_data") is None and not args.get("drift_schedule_arns"):
        raise ValueError("give new_data, drift_schedule_arns or both (neither starts the pipeline)")


CHECKS.update({"MonitorVpc": (_monitor_vpc_sizes,), "PipelineRetrainingArgs": (_a_trigger,)})
CHECKS["FeatureGroupInput"] = (_distinct_identifier_and_event_time,)
