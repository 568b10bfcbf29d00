"""Wiring of the `endpoints` config into `ModelEndpoint` components."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pulumi
from mlops_platform.components import sagemaker_catalog as catalog
from mlops_platform.components.access import Persona, PersonaRoles
from mlops_platform.components.network import Network
from mlops_platform.infra.capability import Capability, Platform
from mlops_platform.infra.config import PlatformSettings
from mlops_platform.infra.config.serving import EndpointSettings, RolloutSettings, VariantSettings
from mlops_platform.infra.monitoring import Alerting
from mlops_platform.infra.registry import Registry
from mlops_platform.infra.storage import Storage

if TYPE_CHECKING:  # the serving and monitoring components (SageMaker) load only when a stack has endpoints
    from mlops_platform.components.model_monitoring import ModelMonitors
    from mlops_platform.components.serving import EndpointVpc, ModelEndpoint, ModelEndpointArgs, Variant


def build_endpoints(
    settings: PlatformSettings,
    *,
    kms_key_arn: pulumi.Input[str],
    artifacts_bucket: pulumi.Input[str],
    execution_role_arn: pulumi.Input[str],
    vpc: EndpointVpc | None,
    alert_topic_arn: pulumi.Input[str] | None,
    model_groups: Mapping[str, pulumi.Resource],
    opts: pulumi.ResourceOptions,
) -> dict[str, ModelEndpoint]:
    """One `ModelEndpoint` per configured endpoint, keyed by its short name.

    Each endpoint depends on the model package groups its variants use (`model_groups`, by group name; config
    validation has already checked they are configured), so a group is created before an endpoint serves it.
    Serverless endpoints get no VPC and no data capture (SageMaker supports neither for them; the config had
    to say so explicitly). `vpc=None` for instance endpoints means the network is not wired yet.
    """
    from mlops_platform.components.serving import ModelEndpoint

    endpoints = {}
    for endpoint in settings.endpoints:
        groups = sorted({v.model_group for v in endpoint.all_variants if v.model_group})
        endpoint_opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(depends_on=[model_groups[g] for g in groups if g in model_groups])
        )
        args = endpoint_args(
            settings,
            endpoint,
            kms_key_arn=kms_key_arn,
            artifacts_bucket=artifacts_bucket,
            execution_role_arn=execution_role_arn,
            vpc=vpc,
            alert_topic_arn=alert_topic_arn,
        )
        endpoints[endpoint.name] = ModelEndpoint(f"endpoint-{endpoint.name}", args, endpoint_opts)
    return endpoints


def build_monitors(
    settings: PlatformSettings,
    endpoints: Mapping[str, ModelEndpoint],
    *,
    kms_key_arn: pulumi.Input[str],
    artifacts_bucket: pulumi.Input[str],
    execution_role_arn: pulumi.Input[str],
    vpc: EndpointVpc | None,
    alert_topic_arn: pulumi.Input[str] | None,
    opts: pulumi.ResourceOptions,
) -> dict[str, ModelMonitors]:
    """`ModelMonitors` for every endpoint with `monitoring`, baselined from its baseline variant's package."""
    from mlops_platform.components.model_monitoring import ModelMonitors, ModelQualityAlarm, MonitorVpc, baseline_prefix

    monitors = {}
    for config in settings.endpoints:
        monitoring, variant = config.monitoring, config.baseline_variant
        if monitoring is None or variant is None or variant.model_package_arn is None:
            continue
        endpoint = endpoints[config.name]
        capture = pulumi.Output.concat("s3://", artifacts_bucket, f"/data-capture/{config.name}/")
        alarm = (
            ModelQualityAlarm(monitoring.quality_alarm_metric.value, monitoring.quality_alarm_minimum)
            if monitoring.quality_alarm_minimum is not None
            else None
        )
        monitors[config.name] = ModelMonitors(
            f"monitors-{config.name}",
            {
                "endpoint_name": endpoint.endpoint_name,
                "name_prefix": f"{settings.name_prefix}-{config.name}"[:40],
                "execution_role_arn": execution_role_arn,
                "kms_key_arn": kms_key_arn,
                "baseline_s3_uri": baseline_prefix(artifacts_bucket, variant.model_package_arn),
                "reports_s3_uri": pulumi.Output.concat(capture, "monitoring-reports/"),
                "ground_truth_s3_uri": pulumi.Output.concat(capture, "ground-truth/"),
                "model_monitor_image_uri": catalog.model_monitor_image(settings.region),
                "clarify_image_uri": catalog.clarify_image(settings.region),
                "vpc": MonitorVpc(list(vpc.subnet_ids), [endpoint.security_group.id])
                if vpc and endpoint.security_group
                else None,
                "alert_topic_arn": alert_topic_arn,
                "schedule_expression": monitoring.schedule_cron,
                "instance_type": monitoring.instance_type,
                "max_runtime_seconds": monitoring.max_runtime_seconds,
                "ground_truth_delay_hours": monitoring.ground_truth_delay_hours,
                "probability_threshold": monitoring.probability_threshold,
                "quality_alarm": alarm,
            },
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[endpoint])),
        )
    return monitors


def monitor_schedule_arns(settings: PlatformSettings, model: str) -> list[str]:
    """ARNs of the monitoring schedules of every endpoint whose baseline variant serves `model` (a model package
    group), known before they exist: drift-triggered retraining of that model matches on them."""
    arns = []
    for config in settings.endpoints:
        variant = config.baseline_variant if config.monitoring else None
        if variant is None or variant.model_group != model:
            continue
        prefix = f"{settings.name_prefix}-{config.name}"[:40]
        arns += [
            f"arn:aws:sagemaker:{settings.region}:{settings.account}:monitoring-schedule/{prefix}-{kind}"
            for kind in ("data-quality", "model-quality", "model-bias")
        ]
    return arns


def endpoint_args(
    settings: PlatformSettings,
    endpoint: EndpointSettings,
    *,
    kms_key_arn: pulumi.Input[str],
    artifacts_bucket: pulumi.Input[str],
    execution_role_arn: pulumi.Input[str],
    vpc: EndpointVpc | None,
    alert_topic_arn: pulumi.Input[str] | None,
) -> ModelEndpointArgs:
    """The component arguments of one configured endpoint."""
    from mlops_platform.components.serving import (
        AlarmThresholds,
        DataCapture,
        DataQualityMonitor,
        OffHours,
        Rollout,
        RolloutType,
        Serverless,
    )

    serverless = endpoint.serverless
    capture_prefix = pulumi.Output.concat("s3://", artifacts_bucket, f"/data-capture/{endpoint.name}/")
    args: ModelEndpointArgs = {
        "endpoint_name": f"{settings.name_prefix}-{endpoint.name}",
        "execution_role_arn": execution_role_arn,
        "kms_key_arn": kms_key_arn,
        "variants": [_variant(v) for v in endpoint.variants],
        "shadow_variant": _variant(endpoint.shadow_variant) if endpoint.shadow_variant else None,
        "vpc": None if serverless else vpc,
        "data_capture": DataCapture(capture_prefix, endpoint.data_capture.sampling_percentage)
        if endpoint.data_capture.enabled
        else None,
        "alarms": AlarmThresholds(**endpoint.alarms.model_dump()),
        "alert_topic_arn": alert_topic_arn,
    }
    if serverless:
        args["serverless"] = Serverless(
            serverless.memory_size_mb, serverless.max_concurrency, serverless.provisioned_concurrency
        )
    else:
        rollout = endpoint.rollout or RolloutSettings()
        args["rollout"] = Rollout(
            RolloutType(rollout.type.value),
            rollout.step_percent,
            rollout.wait_interval_seconds,
            rollout.termination_wait_seconds,
            rollout.max_execution_timeout_seconds,
        )
    if hours := endpoint.off_hours:
        args["off_hours"] = OffHours(hours.timezone, hours.scale_down_cron, hours.scale_up_cron, hours.instances)
    if quality := endpoint.data_quality:
        baseline = pulumi.Output.concat("s3://", artifacts_bucket, "/", quality.baseline_prefix)
        args["data_quality_monitor"] = DataQualityMonitor(
            statistics_s3_uri=pulumi.Output.concat(baseline, "statistics.json"),
            constraints_s3_uri=pulumi.Output.concat(baseline, "constraints.json"),
            output_s3_uri=pulumi.Output.concat(capture_prefix, "monitoring-reports/"),
            image_uri=catalog.model_monitor_image(settings.region),
            schedule_expression=quality.schedule_cron,
            instance_type=quality.instance_type,
            max_runtime_seconds=quality.max_runtime_seconds,
        )
    return args


def _variant(variant: VariantSettings) -> Variant:
    from mlops_platform.components.serving import Autoscaling, ContainerModel, ModelPackage, Variant

    model: ModelPackage | ContainerModel
    if variant.model_package_arn:
        model = ModelPackage(variant.model_package_arn)
    else:
        assert variant.image and variant.model_data_url  # the config model guarantees it
        model = ContainerModel(variant.image, variant.model_data_url, dict(variant.environment))
    scaling = variant.autoscaling
    return Variant(
        name=variant.name,
        model=model,
        instance_type=variant.instance_type,
        initial_instance_count=variant.initial_instance_count,
        weight=variant.weight,
        autoscaling=Autoscaling(
            scaling.min_instances,
            scaling.max_instances,
            scaling.invocations_per_instance,
            scaling.scale_in_cooldown_seconds,
            scaling.scale_out_cooldown_seconds,
        )
        if scaling
        else None,
        network_isolation=variant.network_isolation,
    )


def endpoint_outputs(endpoints: dict[str, ModelEndpoint]) -> dict[str, pulumi.Output[str]]:
    """Stack outputs: endpoint names by short name (for the dashboard and for callers)."""
    return {name: endpoint.endpoint_name for name, endpoint in endpoints.items()}


def endpoint_names(settings: PlatformSettings) -> Sequence[str]:
    """Physical names of the configured endpoints, known before anything is registered (for dashboards)."""
    return [f"{settings.name_prefix}-{e.name}" for e in settings.endpoints]


def serving_deployer_statements(settings: PlatformSettings) -> list[dict]:
    """The CI deployer's permissions for the endpoints; none when the stack has no endpoint."""
    if not settings.endpoints:
        return []
    from mlops_platform.components.model_monitoring import deployer_statements as monitor_deployer_statements
    from mlops_platform.components.serving import deployer_statements

    statements = deployer_statements(
        settings.account, settings.region, settings.name_prefix, settings.environment.value
    )
    if any(e.monitoring for e in settings.endpoints):
        statements += monitor_deployer_statements(settings.account, settings.region, settings.name_prefix)
    return statements


def serving_inference_statements(settings: PlatformSettings, vpc_id: pulumi.Input[str]) -> list[dict]:
    """The inference persona's runtime permissions for the endpoints (logs, and network interfaces in the VPC
    when an instance endpoint exists); none when the stack has no endpoint."""
    if not settings.endpoints:
        return []
    from mlops_platform.components.serving import inference_statements

    in_vpc = any(e.serverless is None for e in settings.endpoints)
    return inference_statements(settings.account, settings.region, settings.name_prefix, vpc_id if in_vpc else None)


class ServingCapability(Capability):
    """One `ModelEndpoint` per configured endpoint, run by the inference persona inside the VPC, and the model
    monitors of the endpoints that ask for them."""

    name = "serving"

    def deployer_statements(self, settings: PlatformSettings) -> list:
        return serving_deployer_statements(settings)

    def persona_statements(self, platform: Platform) -> dict:
        network = platform.result("network", Network)
        return {Persona.INFERENCE: serving_inference_statements(platform.settings, network.vpc_id)}

    def build(self, platform: Platform) -> dict[str, ModelEndpoint]:
        if not platform.settings.endpoints:
            return {}
        from mlops_platform.components.serving import EndpointVpc

        built = platform.result("storage", Storage)
        network = platform.result("network", Network)
        personas = platform.result("access", PersonaRoles)
        shared = {
            "kms_key_arn": built.key.arn,
            "artifacts_bucket": built.lake.buckets["artifacts"].name,
            "execution_role_arn": personas.roles[Persona.INFERENCE].arn,
            "vpc": EndpointVpc(network.vpc_id, network.vpc_cidr, network.private_subnet_ids, network.s3_prefix_list_id),
            "alert_topic_arn": platform.result("monitoring", Alerting).topic.topic_arn,
            "opts": pulumi.ResourceOptions.merge(platform.base, pulumi.ResourceOptions(depends_on=[personas])),
        }
        endpoints = build_endpoints(
            platform.settings, model_groups=platform.result("registry", Registry).model_groups, **shared
        )
        build_monitors(platform.settings, endpoints, **shared)
        return endpoints

    def outputs(self, platform: Platform) -> dict:
        return {"endpoints": endpoint_outputs(platform.result(self.name, dict))}


CAPABILITY = ServingCapability()
