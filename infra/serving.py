"""Wiring of the `endpoints` config into `ModelEndpoint` components."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi

from components import sagemaker_catalog as catalog
from components.access import Persona, PersonaRoles
from components.network import Network
from components.serving import (
    AlarmThresholds,
    Autoscaling,
    ContainerModel,
    DataCapture,
    DataQualityMonitor,
    EndpointVpc,
    ModelEndpoint,
    ModelEndpointArgs,
    ModelPackage,
    OffHours,
    Rollout,
    RolloutType,
    Serverless,
    Variant,
    deployer_statements,
    inference_statements,
)
from infra.capability import Capability, Platform
from infra.config import PlatformSettings
from infra.config.serving import EndpointSettings, RolloutSettings, VariantSettings
from infra.monitoring import Alerting
from infra.registry import Registry
from infra.storage import Storage


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
    return deployer_statements(settings.account, settings.region, settings.name_prefix, settings.environment.value)


def serving_inference_statements(settings: PlatformSettings, vpc_id: pulumi.Input[str]) -> list[dict]:
    """The inference persona's runtime permissions for the endpoints (logs, and network interfaces in the VPC
    when an instance endpoint exists); none when the stack has no endpoint."""
    if not settings.endpoints:
        return []
    in_vpc = any(e.serverless is None for e in settings.endpoints)
    return inference_statements(settings.account, settings.region, settings.name_prefix, vpc_id if in_vpc else None)


class ServingCapability(Capability):
    """One `ModelEndpoint` per configured endpoint, run by the inference persona inside the VPC."""

    name = "serving"

    def deployer_statements(self, settings: PlatformSettings) -> list:
        return serving_deployer_statements(settings)

    def persona_statements(self, platform: Platform) -> dict:
        network = platform.result("network", Network)
        return {Persona.INFERENCE: serving_inference_statements(platform.settings, network.vpc_id)}

    def build(self, platform: Platform) -> dict[str, ModelEndpoint]:
        built = platform.result("storage", Storage)
        network = platform.result("network", Network)
        personas = platform.result("access", PersonaRoles)
        return build_endpoints(
            platform.settings,
            kms_key_arn=built.key.arn,
            artifacts_bucket=built.lake.buckets["artifacts"].name,
            execution_role_arn=personas.roles[Persona.INFERENCE].arn,
            vpc=EndpointVpc(network.vpc_id, network.vpc_cidr, network.private_subnet_ids, network.s3_prefix_list_id),
            alert_topic_arn=platform.result("monitoring", Alerting).topic.topic_arn,
            model_groups=platform.result("registry", Registry).model_groups,
            opts=pulumi.ResourceOptions.merge(platform.base, pulumi.ResourceOptions(depends_on=[personas])),
        )

    def outputs(self, platform: Platform) -> dict:
        return {"endpoints": endpoint_outputs(platform.result(self.name, dict))}


CAPABILITY = ServingCapability()
