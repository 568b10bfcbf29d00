"""Real-time model endpoints: SageMaker model(s), endpoint configuration and endpoint with blue/green rollouts
that roll back on CloudWatch alarms, per-variant alarms, autoscaling and an optional Model Monitor schedule.

Secure by default: the endpoint configuration encrypts volumes and captured data with the given KMS key, the
models run in the given VPC with network isolation, and every endpoint update is a blue/green deployment whose
rollback alarms (5xx errors, p99 model latency) are the endpoint's own. Serverless endpoints do not support
VPC config, network isolation, data capture, multiple variants or deployment guardrails, so the arguments must
say so explicitly (`vpc=None`, `network_isolation=False`, `data_capture=None`) and the rollout is SageMaker's
default replacement.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from . import sagemaker_catalog as catalog
from ._sagemaker_jobs import sagemaker_metrics_statement
from ._validation import check_args

SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
"""Application Auto Scaling's dimension for a variant's instance count."""


class RolloutType(StrEnum):
    """How a blue/green update shifts traffic to the new fleet (`TrafficRoutingConfigType`)."""

    ALL_AT_ONCE = "ALL_AT_ONCE"
    """All traffic at once, then one baking period."""
    CANARY = "CANARY"
    """A canary share first, baked, then the rest."""
    LINEAR = "LINEAR"
    """Equal steps, each baked."""


@dataclass(frozen=True)
class ModelSource:
    """What a variant serves: a registered model package (`arn`), or an inference image with its model artifact
    (`image` and `model_data_url`). In Python, build one with `ModelPackage(arn)` or `ContainerModel(...)`."""

    arn: pulumi.Input[str] | None = None
    """A versioned model package: arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>."""
    image: pulumi.Input[str] | None = None
    """ECR image URI of the inference container (with `model_data_url`, instead of `arn`)."""
    model_data_url: pulumi.Input[str] | None = None
    """S3 URI of the model.tar.gz (with `image`)."""
    environment: Mapping[str, str] = field(default_factory=dict)
    """Environment variables of the container (with `image`)."""


class ModelPackage(ModelSource):
    """An approved model package version from the SageMaker Model Registry."""

    def __init__(self, arn: pulumi.Input[str]) -> None:
        super().__init__(arn=arn)


class ContainerModel(ModelSource):
    """An inference image and its model artifact."""

    def __init__(
        self, image: pulumi.Input[str], model_data_url: pulumi.Input[str], environment: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(image=image, model_data_url=model_data_url, environment=dict(environment or {}))


@dataclass(frozen=True)
class Autoscaling:
    """Target tracking on invocations per instance, between min and max instances."""

    min_instances: int
    """Lower bound, at least 1."""
    max_instances: int
    """Upper bound, at least min_instances."""
    invocations_per_instance: int
    """Target of SageMakerVariantInvocationsPerInstance (invocations per instance per minute)."""
    scale_in_cooldown_seconds: int = 300
    """Wait after a scale-in before another."""
    scale_out_cooldown_seconds: int = 60
    """Wait after a scale-out before another."""


@dataclass(frozen=True)
class Variant:
    """A production (or shadow) variant: one model on its own fleet, with its share of the traffic."""

    name: str
    """Variant name; keep it stable across updates (blue/green matches variants by name)."""
    model: ModelSource
    """What the variant serves: `ModelPackage(arn)` or `ContainerModel(image, model_data_url)`."""
    instance_type: str | None = None
    """Instance type (botocore `ProductionVariantInstanceType`); None for a serverless endpoint."""
    initial_instance_count: int = 1
    """Instances at creation (autoscaling takes over afterwards)."""
    weight: float = 1.0
    """Relative traffic weight; for a shadow variant, the share of production requests mirrored to it."""
    autoscaling: Autoscaling | None = None
    """Autoscaling of the variant's instance count; None keeps initial_instance_count."""
    network_isolation: bool = True
    """Run the container without any network access (model packages and self-contained images)."""


@dataclass(frozen=True)
class Serverless:
    """Serverless inference: no instances, billed per request; for dev and spiky low-volume traffic."""

    memory_size_mb: int
    """1024-6144 in steps of 1024."""
    max_concurrency: int
    """Concurrent invocations, 1-200."""
    provisioned_concurrency: int | None = None
    """Pre-warmed concurrency (at most max_concurrency); None for cold starts only."""


@dataclass(frozen=True)
class EndpointVpc:
    """Where the models' network interfaces live."""

    vpc_id: pulumi.Input[str]
    """The VPC."""
    vpc_cidr: pulumi.Input[str]
    """The VPC's CIDR: the only HTTPS egress destination (its interface endpoints)."""
    subnet_ids: Sequence[pulumi.Input[str]]
    """Private subnets, ideally one per AZ."""
    s3_prefix_list_id: pulumi.Input[str] | None = None
    """Prefix list of the VPC's S3 gateway endpoint; allows HTTPS to S3 for model download and capture."""


@dataclass(frozen=True)
class DataCapture:
    """Request and response capture to S3, encrypted with the endpoint's KMS key."""

    destination_s3_uri: pulumi.Input[str]
    """s3://<bucket>/<prefix>/ receiving the captured JSON lines."""
    sampling_percentage: int = 100
    """Share of requests captured, 0-100."""


@dataclass(frozen=True)
class Rollout:
    """Blue/green update policy; every endpoint update follows it and rolls back on the rollback alarms."""

    type: RolloutType = RolloutType.ALL_AT_ONCE
    """Traffic shifting mode."""
    step_percent: int | None = None
    """CANARY: canary size; LINEAR: step size; in percent of capacity. None for ALL_AT_ONCE."""
    wait_interval_seconds: int = 300
    """Baking period after each shift, 0-3600 s."""
    termination_wait_seconds: int = 300
    """Keep the old (blue) fleet this long after the last shift, 0-3600 s."""
    max_execution_timeout_seconds: int = 3600
    """Abort and roll back the update after this long, 600-28800 s."""


@dataclass(frozen=True)
class AlarmThresholds:
    """Per-variant alarm thresholds; breaching periods are counted over 1-minute periods."""

    latency_p99_ms: float = 1000
    """p99 ModelLatency in milliseconds (rollback alarm)."""
    errors_5xx: int = 5
    """Invocation5XXErrors per minute (rollback alarm)."""
    error_4xx_rate_percent: float = 5
    """Invocation4XXErrors as a percentage of invocations."""
    cpu_utilization_percent: float = 80
    """Average CPU utilisation per vCPU (instance variants)."""
    gpu_utilization_percent: float = 90
    """Average GPU utilisation per GPU (GPU instance variants)."""
    evaluation_periods: int = 3
    """Periods evaluated; an alarm fires when `datapoints_to_alarm` of them breach."""
    datapoints_to_alarm: int = 2
    """Breaching periods out of evaluation_periods that fire the alarm."""


@dataclass(frozen=True)
class OffHours:
    """Scheduled scale-down of autoscaled variants outside office hours."""

    timezone: str
    """IANA time zone of the cron expressions, e.g. Europe/Berlin."""
    scale_down_cron: str
    """When to scale down, e.g. cron(0 19 ? * MON-FRI *)."""
    scale_up_cron: str
    """When to restore the autoscaling bounds, e.g. cron(0 7 ? * MON-FRI *)."""
    instances: int = 1
    """Instances per variant while scaled down (min and max)."""


@dataclass(frozen=True)
class DataQualityMonitor:
    """A Model Monitor data-quality schedule comparing captured requests with a baseline."""

    statistics_s3_uri: pulumi.Input[str]
    """Baseline statistics.json."""
    constraints_s3_uri: pulumi.Input[str]
    """Baseline constraints.json."""
    output_s3_uri: pulumi.Input[str]
    """Where reports go (encrypted with the endpoint's key)."""
    image_uri: str
    """Model Monitor analyzer image of the region (`sagemaker_catalog.model_monitor_image`)."""
    schedule_expression: str = "cron(0 * ? * * *)"
    """Hourly by default."""
    instance_type: str = "ml.m5.large"
    """Processing instance (botocore `ProcessingInstanceType`)."""
    max_runtime_seconds: int = 1800
    """Stop a monitoring run after this long (at most 3600 for an hourly schedule)."""


class ModelEndpointArgs(TypedDict):
    """Arguments of `ModelEndpoint`."""

    endpoint_name: str
    """Physical endpoint name (alarms, autoscaling and dashboards refer to it), at most 63 characters."""
    execution_role_arn: pulumi.Input[str]
    """Role SageMaker assumes to pull the model and write captured data (the inference persona)."""
    kms_key_arn: pulumi.Input[str]
    """Encrypts the instances' storage volumes, captured data and monitoring reports."""
    variants: Sequence[Variant]
    """Production variants, 1-10; traffic is split by weight (A/B tests)."""
    vpc: EndpointVpc | None
    """VPC of the models; None (explicitly) runs them in SageMaker's network, as serverless requires."""
    data_capture: DataCapture | None
    """Request/response capture; None (explicitly) turns it off, as serverless requires."""
    shadow_variant: NotRequired[Variant | None]
    """A shadow variant receiving a copy of production traffic (only with exactly one production variant)."""
    serverless: NotRequired[Serverless | None]
    """Serverless inference instead of instances (one variant without instance_type)."""
    rollout: NotRequired[Rollout]
    """Blue/green policy of instance endpoints (default: all at once, with rollback alarms)."""
    alarms: NotRequired[AlarmThresholds]
    """Alarm thresholds (defaults: `AlarmThresholds()`)."""
    alert_topic_arn: NotRequired[pulumi.Input[str] | None]
    """SNS topic notified when an alarm fires or recovers; None creates alarms without actions."""
    off_hours: NotRequired[OffHours | None]
    """Scale autoscaled variants down outside office hours."""
    data_quality_monitor: NotRequired[DataQualityMonitor | None]
    """Model Monitor data-quality schedule; needs data capture."""


class ModelEndpoint(pulumi.ComponentResource):
    """A SageMaker real-time endpoint with encrypted data capture, blue/green rollouts that roll back on its own
    alarms, per-variant CloudWatch alarms, autoscaling and optional data-quality monitoring."""

    endpoint: aws.sagemaker.Endpoint
    """The endpoint."""
    endpoint_configuration: aws.sagemaker.EndpointConfiguration
    """The current endpoint configuration (replaced, never updated, on every change)."""
    models: dict[str, aws.sagemaker.Model]
    """Models by variant name (shadow included)."""
    alarms: dict[str, aws.cloudwatch.MetricAlarm]
    """Alarms by `<variant>-<kind>`."""
    rollback_alarm_names: list[pulumi.Output[str]]
    """Names of the alarms that roll an update back (empty for serverless)."""
    security_group: aws.ec2.SecurityGroup | None
    """Security group of the models' network interfaces, when in a VPC."""
    endpoint_name: pulumi.Output[str]
    """Physical endpoint name."""
    arn: pulumi.Output[str]
    """Endpoint ARN."""

    def __init__(self, name: str, args: ModelEndpointArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = check_args(ModelEndpoint, name, args)
        check_endpoint_args(name, args)
        super().__init__("mlops:serving:ModelEndpoint", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        endpoint_name = args["endpoint_name"]
        serverless = args.get("serverless")
        shadow = args.get("shadow_variant")
        all_variants = [*args["variants"], *([shadow] if shadow else [])]

        self.security_group = _security_group(name, args["vpc"], child) if args["vpc"] else None
        self.models = {v.name: self._model(name, v, args, child) for v in all_variants}
        thresholds = args.get("alarms", AlarmThresholds())
        topic = args.get("alert_topic_arn")
        self.alarms = {}
        for variant in all_variants:
            self.alarms.update(_variant_alarms(name, endpoint_name, variant, thresholds, topic, child))
        self.rollback_alarm_names = (
            []
            if serverless
            else [self.alarms[f"{v.name}-{kind}"].name for v in args["variants"] for kind in ROLLBACK_ALARM_KINDS]
        )

        capture = args["data_capture"]
        self.endpoint_configuration = aws.sagemaker.EndpointConfiguration(
            f"{name}-config",
            kms_key_arn=args["kms_key_arn"],
            production_variants=[self._variant_spec(v, serverless) for v in args["variants"]],
            shadow_production_variants=[self._variant_spec(shadow, None)] if shadow else None,
            data_capture_config=_data_capture(capture, args["kms_key_arn"]) if capture else None,
            opts=child,
        )
        deployment = (
            None if serverless else _deployment_config(args.get("rollout", Rollout()), self.rollback_alarm_names)
        )
        self.endpoint = aws.sagemaker.Endpoint(
            f"{name}-endpoint",
            name=endpoint_name,
            endpoint_config_name=self.endpoint_configuration.name,
            deployment_config=deployment,
            opts=child,
        )
        self.endpoint_name = self.endpoint.name
        self.arn = self.endpoint.arn

        for variant in all_variants:
            if variant.autoscaling:
                _autoscaling(name, self.endpoint.name, variant, args.get("off_hours"), child)
        if monitor := args.get("data_quality_monitor"):
            self._data_quality(name, monitor, args, child)

        self.register_outputs(
            {
                "endpoint_name": self.endpoint_name,
                "arn": self.arn,
                "endpoint_config_name": self.endpoint_configuration.name,
                "rollback_alarm_names": self.rollback_alarm_names,
            }
        )

    def _model(self, name: str, variant: Variant, args: ModelEndpointArgs, child: pulumi.ResourceOptions):
        model = variant.model
        if model.arn is not None:
            container: dict = {"model_package_name": model.arn}
        else:
            container = {
                "image": model.image,
                "model_data_url": model.model_data_url,
                "mode": "SingleModel",
                "environment": dict(model.environment) or None,
            }
        vpc = args["vpc"]
        return aws.sagemaker.Model(
            f"{name}-{variant.name}-model",
            execution_role_arn=args["execution_role_arn"],
            primary_container=container,
            enable_network_isolation=variant.network_isolation,
            vpc_config={"subnets": list(vpc.subnet_ids), "security_group_ids": [self.security_group.id]}
            if vpc and self.security_group
            else None,
            opts=child,
        )

    def _variant_spec(self, variant: Variant, serverless: Serverless | None) -> dict:
        spec: dict = {
            "variant_name": variant.name,
            "model_name": self.models[variant.name].name,
            "initial_variant_weight": variant.weight,
        }
        if serverless:
            spec["serverless_config"] = {
                "memory_size_in_mb": serverless.memory_size_mb,
                "max_concurrency": serverless.max_concurrency,
                "provisioned_concurrency": serverless.provisioned_concurrency,
            }
        else:
            spec["instance_type"] = variant.instance_type
            spec["initial_instance_count"] = variant.initial_instance_count
        return spec

    def _data_quality(
        self, name: str, monitor: DataQualityMonitor, args: ModelEndpointArgs, child: pulumi.ResourceOptions
    ) -> None:
        vpc = args["vpc"]
        definition = aws.sagemaker.DataQualityJobDefinition(
            f"{name}-data-quality",
            role_arn=args["execution_role_arn"],
            data_quality_app_specification={"image_uri": monitor.image_uri},
            data_quality_baseline_config={
                "statistics_resource": {"s3_uri": monitor.statistics_s3_uri},
                "constraints_resource": {"s3_uri": monitor.constraints_s3_uri},
            },
            data_quality_job_input={
                "endpoint_input": {
                    "endpoint_name": self.endpoint.name,
                    "local_path": "/opt/ml/processing/input/endpoint",
                    "s3_input_mode": "File",
                    "s3_data_distribution_type": "FullyReplicated",
                }
            },
            data_quality_job_output_config={
                "kms_key_id": args["kms_key_arn"],
                "monitoring_outputs": {
                    "s3_output": {
                        "s3_uri": monitor.output_s3_uri,
                        "local_path": "/opt/ml/processing/output",
                        "s3_upload_mode": "EndOfJob",
                    }
                },
            },
            job_resources={
                "cluster_config": {
                    "instance_count": 1,
                    "instance_type": monitor.instance_type,
                    "volume_size_in_gb": 20,
                    "volume_kms_key_id": args["kms_key_arn"],
                }
            },
            network_config={
                "enable_network_isolation": True,
                "enable_inter_container_traffic_encryption": True,
                "vpc_config": {"subnets": list(vpc.subnet_ids), "security_group_ids": [self.security_group.id]}
                if vpc and self.security_group
                else None,
            },
            stopping_condition={"max_runtime_in_seconds": monitor.max_runtime_seconds},
            opts=child,
        )
        aws.sagemaker.MonitoringSchedule(
            f"{name}-data-quality-schedule",
            monitoring_schedule_config={
                "monitoring_job_definition_name": definition.name,
                "monitoring_type": "DataQuality",
                "schedule_config": {"schedule_expression": monitor.schedule_expression},
            },
            opts=child,
        )


ROLLBACK_ALARM_KINDS = ("5xx", "latency-p99")
"""Alarms of each production variant that the blue/green deployment watches."""


def _security_group(name: str, vpc: EndpointVpc, child: pulumi.ResourceOptions) -> aws.ec2.SecurityGroup:
    # Invocations reach the container through SageMaker's runtime, never through these ENIs: no ingress at all.
    # Egress is HTTPS to the VPC (interface endpoints: ECR, logs, STS) and to S3 via its gateway endpoint.
    group = aws.ec2.SecurityGroup(
        f"{name}-sg",
        vpc_id=vpc.vpc_id,
        description=f"SageMaker endpoint {name}: no ingress; HTTPS egress to VPC endpoints only",
        opts=child,
    )
    aws.vpc.SecurityGroupEgressRule(
        f"{name}-sg-https-vpc",
        security_group_id=group.id,
        description="HTTPS to interface VPC endpoints",
        ip_protocol="tcp",
        from_port=443,
        to_port=443,
        cidr_ipv4=vpc.vpc_cidr,
        opts=child,
    )
    if vpc.s3_prefix_list_id is not None:
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-sg-https-s3",
            security_group_id=group.id,
            description="HTTPS to S3 through the gateway endpoint",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            prefix_list_id=vpc.s3_prefix_list_id,
            opts=child,
        )
    return group


def _data_capture(capture: DataCapture, kms_key_arn: pulumi.Input[str]) -> dict:
    return {
        "enable_capture": True,
        "initial_sampling_percentage": capture.sampling_percentage,
        "destination_s3_uri": capture.destination_s3_uri,
        "kms_key_id": kms_key_arn,
        "capture_options": [{"capture_mode": "Input"}, {"capture_mode": "Output"}],
        "capture_content_type_header": {"csv_content_types": ["text/csv"], "json_content_types": ["application/json"]},
    }


def _deployment_config(rollout: Rollout, rollback_alarm_names: list[pulumi.Output[str]]) -> dict:
    routing: dict = {"type": rollout.type.value, "wait_interval_in_seconds": rollout.wait_interval_seconds}
    if rollout.type is RolloutType.CANARY:
        routing["canary_size"] = {"type": "CAPACITY_PERCENT", "value": rollout.step_percent}
    elif rollout.type is RolloutType.LINEAR:
        routing["linear_step_size"] = {"type": "CAPACITY_PERCENT", "value": rollout.step_percent}
    return {
        "blue_green_update_policy": {
            "traffic_routing_configuration": routing,
            "termination_wait_in_seconds": rollout.termination_wait_seconds,
            "maximum_execution_timeout_in_seconds": rollout.max_execution_timeout_seconds,
        },
        "auto_rollback_configuration": {"alarms": [{"alarm_name": n} for n in rollback_alarm_names]},
    }


def _variant_alarms(
    name: str,
    endpoint_name: str,
    variant: Variant,
    limits: AlarmThresholds,
    topic: pulumi.Input[str] | None,
    child: pulumi.ResourceOptions,
) -> dict[str, aws.cloudwatch.MetricAlarm]:
    dimensions = {"EndpointName": endpoint_name, "VariantName": variant.name}
    actions = [topic] if topic is not None else []
    common = {
        "evaluation_periods": limits.evaluation_periods,
        "datapoints_to_alarm": limits.datapoints_to_alarm,
        "treat_missing_data": "notBreaching",
        "alarm_actions": actions,
        "ok_actions": actions,
        "comparison_operator": "GreaterThanThreshold",
    }
    metric = {"namespace": "AWS/SageMaker", "period": 60, "dimensions": dimensions}
    specs: dict[str, dict] = {
        "latency-p99": {
            **metric,
            "metric_name": "ModelLatency",
            "extended_statistic": "p99",
            "threshold": limits.latency_p99_ms * 1000,  # ModelLatency is in microseconds
            "alarm_description": f"p99 model latency above {limits.latency_p99_ms:g} ms (rollback)",
        },
        "5xx": {
            **metric,
            "metric_name": "Invocation5XXErrors",
            "statistic": "Sum",
            "comparison_operator": "GreaterThanOrEqualToThreshold",
            "threshold": limits.errors_5xx,
            "alarm_description": f"{limits.errors_5xx} or more 5xx errors a minute (rollback)",
        },
        "4xx-rate": {
            "threshold": limits.error_4xx_rate_percent,
            "alarm_description": f"4xx errors above {limits.error_4xx_rate_percent:g} % of invocations",
            "metric_queries": [
                {
                    "id": "errors",
                    "metric": {
                        "namespace": "AWS/SageMaker",
                        "metric_name": "Invocation4XXErrors",
                        "dimensions": dimensions,
                        "period": 60,
                        "stat": "Sum",
                    },
                },
                {
                    "id": "invocations",
                    "metric": {
                        "namespace": "AWS/SageMaker",
                        "metric_name": "Invocations",
                        "dimensions": dimensions,
                        "period": 60,
                        "stat": "Sum",
                    },
                },
                {
                    "id": "rate",
                    "expression": "IF(invocations > 0, 100 * errors / invocations, 0)",
                    "label": "4xx rate (%)",
                    "return_data": True,
                },
            ],
        },
    }
    if variant.instance_type:
        host = {"namespace": "/aws/sagemaker/Endpoints", "period": 60, "dimensions": dimensions, "statistic": "Average"}
        cpus = catalog.vcpus(variant.instance_type)
        specs["cpu"] = {
            **host,
            "metric_name": "CPUUtilization",
            "threshold": limits.cpu_utilization_percent * cpus,
            "alarm_description": f"CPU above {limits.cpu_utilization_percent:g} % of {cpus} vCPUs",
        }
        if gpu_count := catalog.gpus(variant.instance_type):
            specs["gpu"] = {
                **host,
                "metric_name": "GPUUtilization",
                "threshold": limits.gpu_utilization_percent * gpu_count,
                "alarm_description": f"GPU above {limits.gpu_utilization_percent:g} % of {gpu_count} GPUs",
            }
    return {
        f"{variant.name}-{kind}": aws.cloudwatch.MetricAlarm(
            f"{name}-{variant.name}-{kind}",
            name=f"{endpoint_name}-{variant.name}-{kind}",
            **{**common, **spec},
            opts=child,
        )
        for kind, spec in specs.items()
    }


def _autoscaling(
    name: str,
    endpoint_name: pulumi.Output[str],
    variant: Variant,
    off_hours: OffHours | None,
    child: pulumi.ResourceOptions,
) -> None:
    scaling = variant.autoscaling
    assert scaling is not None
    target = aws.appautoscaling.Target(
        f"{name}-{variant.name}-scaling",
        service_namespace="sagemaker",
        scalable_dimension=SCALABLE_DIMENSION,
        resource_id=pulumi.Output.concat("endpoint/", endpoint_name, "/variant/", variant.name),
        min_capacity=scaling.min_instances,
        max_capacity=scaling.max_instances,
        opts=child,
    )
    aws.appautoscaling.Policy(
        f"{name}-{variant.name}-invocations",
        policy_type="TargetTrackingScaling",
        service_namespace=target.service_namespace,
        scalable_dimension=target.scalable_dimension,
        resource_id=target.resource_id,
        target_tracking_scaling_policy_configuration={
            "target_value": scaling.invocations_per_instance,
            "predefined_metric_specification": {"predefined_metric_type": "SageMakerVariantInvocationsPerInstance"},
            "scale_in_cooldown": scaling.scale_in_cooldown_seconds,
            "scale_out_cooldown": scaling.scale_out_cooldown_seconds,
        },
        opts=child,
    )
    if off_hours is None:
        return
    for role, schedule, low, high in (
        ("off-hours-down", off_hours.scale_down_cron, off_hours.instances, off_hours.instances),
        ("off-hours-up", off_hours.scale_up_cron, scaling.min_instances, scaling.max_instances),
    ):
        aws.appautoscaling.ScheduledAction(
            f"{name}-{variant.name}-{role}",
            name=pulumi.Output.concat(endpoint_name, "-", variant.name, "-", role),
            service_namespace=target.service_namespace,
            scalable_dimension=target.scalable_dimension,
            resource_id=target.resource_id,
            schedule=schedule,
            timezone=off_hours.timezone,
            scalable_target_action={"min_capacity": low, "max_capacity": high},
            opts=child,
        )


def check_endpoint_args(name: str, args: ModelEndpointArgs) -> None:
    """Reject arguments SageMaker would reject, before anything is registered (ValueError naming the arg)."""
    where = f"ModelEndpoint {name!r}"

    def fail(message: str) -> None:
        raise ValueError(f"{where}: {message}")

    endpoint_name = args["endpoint_name"]
    if not 1 <= len(endpoint_name) <= 63 or not all(c.isalnum() or c == "-" for c in endpoint_name):
        fail(f"endpoint_name={endpoint_name!r} must be 1-63 letters, digits and hyphens")
    variants = list(args["variants"])
    if not 1 <= len(variants) <= 10:
        fail(f"variants has {len(variants)} entries; an endpoint takes 1 to 10 production variants")
    shadow = args.get("shadow_variant")
    names = [v.name for v in variants] + ([shadow.name] if shadow else [])
    if len(set(names)) != len(names):
        fail(f"variant names {names} must be unique (shadow included)")
    if any(v.weight < 0 for v in variants) or sum(v.weight for v in variants) <= 0:
        fail(f"variants weights {[v.weight for v in variants]} must be non-negative and not all zero")
    if shadow and len(variants) != 1:
        fail("shadow_variant needs exactly one production variant (CreateEndpointConfig's rule)")

    if serverless := args.get("serverless"):
        _check_serverless(fail, serverless, args, variants, shadow)
    else:
        for variant in [*variants, *([shadow] if shadow else [])]:
            _check_instance_variant(fail, variant)
        rollout = args.get("rollout", Rollout())
        if (rollout.type is RolloutType.ALL_AT_ONCE) != (rollout.step_percent is None):
            fail(
                f"rollout.step_percent={rollout.step_percent} is required for CANARY and LINEAR and not allowed "
                "for ALL_AT_ONCE"
            )
        if rollout.step_percent is not None and not 1 <= rollout.step_percent <= 99:
            fail(f"rollout.step_percent={rollout.step_percent} must be 1-99")
    off_hours = args.get("off_hours")
    if off_hours and not any(v.autoscaling for v in [*variants, *([shadow] if shadow else [])]):
        fail("off_hours needs autoscaling on at least one variant (the schedule changes its bounds)")
    if off_hours and off_hours.instances < 1:
        fail(f"off_hours.instances={off_hours.instances} must be at least 1")
    if args.get("data_quality_monitor") and args["data_capture"] is None:
        fail("data_quality_monitor needs data_capture (Model Monitor reads the captured requests)")
    capture = args["data_capture"]
    if capture and not 0 <= capture.sampling_percentage <= 100:
        fail(f"data_capture.sampling_percentage={capture.sampling_percentage} must be 0-100")


def _check_serverless(
    fail, serverless: Serverless, args: ModelEndpointArgs, variants: list[Variant], shadow: Variant | None
) -> None:
    if serverless.memory_size_mb not in range(1024, 6145, 1024):
        fail(f"serverless.memory_size_mb={serverless.memory_size_mb} must be 1024-6144 in steps of 1024")
    if not 1 <= serverless.max_concurrency <= 200:
        fail(f"serverless.max_concurrency={serverless.max_concurrency} must be 1-200")
    provisioned = serverless.provisioned_concurrency
    if provisioned is not None and not 1 <= provisioned <= serverless.max_concurrency:
        fail(f"serverless.provisioned_concurrency={provisioned} must be 1 to max_concurrency")
    unsupported = [
        text
        for text, present in (
            ("more than one variant", len(variants) > 1),
            ("a shadow_variant", shadow is not None),
            ("instance_type", any(v.instance_type for v in variants)),
            ("autoscaling", any(v.autoscaling for v in variants)),
            ("network_isolation=True", any(v.network_isolation for v in variants)),
            ("a vpc", args["vpc"] is not None),
            ("data_capture", args["data_capture"] is not None),
            ("a rollout", "rollout" in args),
            ("off_hours", args.get("off_hours") is not None),
        )
        if present
    ]
    if unsupported:
        fail(f"serverless endpoints do not support {', '.join(unsupported)}; remove them (or use instances)")


def _check_instance_variant(fail, variant: Variant) -> None:
    if variant.instance_type not in catalog.endpoint_instance_types():
        fail(
            f"variant {variant.name!r}: instance_type={variant.instance_type!r} is not a SageMaker endpoint "
            "instance type (botocore ProductionVariantInstanceType)"
        )
    if variant.initial_instance_count < 1:
        fail(f"variant {variant.name!r}: initial_instance_count={variant.initial_instance_count} must be at least 1")
    scaling = variant.autoscaling
    if scaling is None:
        return
    if not 1 <= scaling.min_instances <= scaling.max_instances:
        fail(
            f"variant {variant.name!r}: autoscaling min_instances={scaling.min_instances} and "
            f"max_instances={scaling.max_instances} need 1 <= min <= max"
        )
    if not scaling.min_instances <= variant.initial_instance_count <= scaling.max_instances:
        fail(
            f"variant {variant.name!r}: initial_instance_count={variant.initial_instance_count} must lie within "
            f"autoscaling [{scaling.min_instances}, {scaling.max_instances}]"
        )
    if scaling.invocations_per_instance < 1:
        fail(f"variant {variant.name!r}: autoscaling.invocations_per_instance must be at least 1")


SAGEMAKER_CREATE_ACTIONS = [
    "sagemaker:CreateModel", "sagemaker:CreateEndpointConfig", "sagemaker:CreateEndpoint",
    "sagemaker:CreateDataQualityJobDefinition", "sagemaker:CreateMonitoringSchedule",
]  # fmt: skip
SAGEMAKER_MANAGE_ACTIONS = [
    "sagemaker:DescribeModel", "sagemaker:DeleteModel", "sagemaker:DescribeEndpointConfig",
    "sagemaker:DeleteEndpointConfig", "sagemaker:DescribeEndpoint", "sagemaker:UpdateEndpoint",
    "sagemaker:DeleteEndpoint", "sagemaker:DescribeDataQualityJobDefinition",
    "sagemaker:DeleteDataQualityJobDefinition", "sagemaker:DescribeMonitoringSchedule",
    "sagemaker:UpdateMonitoringSchedule", "sagemaker:DeleteMonitoringSchedule", "sagemaker:ListTags",
    "sagemaker:DeleteTags",
]  # fmt: skip
SCALING_ACTIONS = [
    "application-autoscaling:RegisterScalableTarget", "application-autoscaling:DeregisterScalableTarget",
    "application-autoscaling:PutScalingPolicy", "application-autoscaling:DeleteScalingPolicy",
    "application-autoscaling:PutScheduledAction", "application-autoscaling:DeleteScheduledAction",
    "application-autoscaling:TagResource", "application-autoscaling:UntagResource",
    "application-autoscaling:ListTagsForResource",
]  # fmt: skip


def deployer_statements(account_id: str, region: str, name_prefix: str, environment: str) -> list[dict]:
    """What the CI deployer needs to manage this module's resources, for `PersonaRolesArgs.deployer_statements`:
    SageMaker models, endpoint configurations, endpoints and monitoring (created only with the `env` tag,
    managed only when they carry it), the `<prefix>-*` alarms, the endpoints' scalable targets, and KMS grants
    for the endpoints' volumes. Roles are passed through the deployer's own `iam:PassRole` on `<prefix>-*`."""
    sagemaker = f"arn:aws:sagemaker:{region}:{account_id}"
    serving = [
        f"{sagemaker}:model/*", f"{sagemaker}:endpoint-config/*", f"{sagemaker}:endpoint/{name_prefix}-*",
        f"{sagemaker}:data-quality-job-definition/*", f"{sagemaker}:monitoring-schedule/*",
    ]  # fmt: skip
    creations = [action.split(":")[1] for action in SAGEMAKER_CREATE_ACTIONS]
    return [
        {"Sid": "CreateEnvServing", "Effect": "Allow", "Action": SAGEMAKER_CREATE_ACTIONS, "Resource": serving,
         "Condition": {"StringEquals": {"aws:RequestTag/env": environment}}},
        {"Sid": "ManageEnvServing", "Effect": "Allow", "Action": SAGEMAKER_MANAGE_ACTIONS, "Resource": serving,
         "Condition": {"StringEquals": {"aws:ResourceTag/env": environment}}},
        # Tags only as part of a creation: a foreign model or endpoint cannot be tagged into the environment.
        {"Sid": "TagEnvServingOnCreate", "Effect": "Allow", "Action": "sagemaker:AddTags", "Resource": serving,
         "Condition": {"StringEquals": {"aws:RequestTag/env": environment, "sagemaker:TaggingAction": creations}}},
        {"Sid": "ReadEnvModelPackages", "Effect": "Allow",
         "Action": ["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup"],
         "Resource": [f"{sagemaker}:model-package/*", f"{sagemaker}:model-package-group/*"]},
        {"Sid": "ManageEnvEndpointAlarms", "Effect": "Allow",
         "Action": ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms",
                    "cloudwatch:TagResource", "cloudwatch:UntagResource", "cloudwatch:ListTagsForResource"],
         "Resource": f"arn:aws:cloudwatch:{region}:{account_id}:alarm:{name_prefix}-*"},
        {"Sid": "ScaleEnvEndpoints", "Effect": "Allow", "Action": SCALING_ACTIONS,
         "Resource": f"arn:aws:application-autoscaling:{region}:{account_id}:scalable-target/*"},
        {"Sid": "ReadScaling", "Effect": "Allow", "Resource": "*",
         "Action": ["application-autoscaling:DescribeScalableTargets",
                    "application-autoscaling:DescribeScalingPolicies",
                    "application-autoscaling:DescribeScheduledActions"]},
        {"Sid": "EndpointScalingServiceRole", "Effect": "Allow", "Action": "iam:CreateServiceLinkedRole",
         "Resource": f"arn:aws:iam::{account_id}:role/aws-service-role/"
                     "sagemaker.application-autoscaling.amazonaws.com/*",
         "Condition": {"StringEquals": {"iam:AWSServiceName": "sagemaker.application-autoscaling.amazonaws.com"}}},
        {"Sid": "EnvKeyGrantsForEndpoints", "Effect": "Allow", "Action": ["kms:CreateGrant", "kms:DescribeKey"],
         "Resource": f"arn:aws:kms:{region}:{account_id}:key/*",
         "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"},
                       "StringEquals": {"aws:ResourceTag/env": environment}}},
    ]  # fmt: skip


def inference_statements(
    account_id: str, region: str, name_prefix: str, vpc_id: pulumi.Input[str] | None
) -> list[dict]:
    """What the endpoints' execution role (the inference persona) needs beyond its bucket and image grants, for
    `PersonaRolesArgs.extra_statements`: write its endpoints' and monitoring jobs' logs, and, when the models
    run in a VPC, manage their network interfaces in that VPC only."""
    logs = f"arn:aws:logs:{region}:{account_id}:log-group"
    statements: list[dict] = [
        {"Sid": "InferenceLogs", "Effect": "Allow",
         "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
         # The endpoints' groups and streams (the trailing * covers ":log-stream:*"), and Model Monitor's jobs.
         "Resource": [f"{logs}:/aws/sagemaker/Endpoints/{name_prefix}-*",
                      f"{logs}:/aws/sagemaker/ProcessingJobs:*"]},
        # Model Monitor jobs publish their metrics (the analyzer and Clarify emit them as the job's role).
        sagemaker_metrics_statement(),
    ]  # fmt: skip
    if vpc_id is not None:
        vpc_arn = pulumi.Output.concat(f"arn:aws:ec2:{region}:{account_id}:vpc/", vpc_id)
        statements += [
            {"Sid": "InferenceNetworkInterfacesInEnvVpc", "Effect": "Allow",
             "Action": ["ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
                        "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission"],
             "Resource": "*", "Condition": {"ArnEquals": {"ec2:Vpc": vpc_arn}}},
            {"Sid": "InferenceDescribeNetwork", "Effect": "Allow", "Resource": "*",
             "Action": ["ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs", "ec2:DescribeDhcpOptions",
                        "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"]},
        ]  # fmt: skip
    return statements
