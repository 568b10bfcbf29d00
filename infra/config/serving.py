"""The `endpoints` section: SageMaker real-time endpoints, their variants, rollout, alarms and autoscaling.

Per-endpoint rules live on the models below; rules that need the rest of the stack (the model package ARN's
account and region, the registry's model groups, prod-only limits) are in `check_endpoints`, which the root
`PlatformSettings` validator calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Annotated

from mlops_platform.components import sagemaker_catalog as catalog
from mlops_platform.components.types import (
    Cron,
    EcrImage,
    EndpointInstanceType,
    ModelPackageArn,
    S3Uri,
    TimeZone,
    VariantName,
)
from pydantic import AfterValidator, Field, StringConstraints, model_validator

from .base import Identifier, StrictModel


def _check_processing_instance_type(value: str) -> str:
    if value not in catalog.processing_instance_types():
        raise ValueError("not a SageMaker processing instance type (botocore ProcessingInstanceType), e.g. ml.m5.large")
    return value


class AutoscalingSettings(StrictModel):
    """Target tracking on SageMakerVariantInvocationsPerInstance."""

    min_instances: Annotated[int, Field(ge=1)]
    """Lowest instance count (instance endpoints cannot scale to zero)."""
    max_instances: Annotated[int, Field(ge=1, le=100)]
    """Highest instance count."""
    invocations_per_instance: Annotated[int, Field(ge=1)]
    """Target invocations per instance per minute; load-test the model to choose it."""
    scale_in_cooldown_seconds: Annotated[int, Field(ge=0, le=3600)] = 300
    """Seconds after a scale-in before the next one."""
    scale_out_cooldown_seconds: Annotated[int, Field(ge=0, le=3600)] = 60
    """Seconds after a scale-out before the next one."""

    @model_validator(mode="after")
    def _min_le_max(self) -> AutoscalingSettings:
        if self.min_instances > self.max_instances:
            raise ValueError(
                f"min_instances ({self.min_instances}) is greater than max_instances "
                f"({self.max_instances}); need min_instances <= max_instances"
            )
        return self


class VariantSettings(StrictModel):
    """One model on one fleet. Set exactly one of model_package_arn or (image and model_data_url)."""

    name: VariantName
    """Variant name; keep it across promotions (blue/green matches old and new variants by name)."""
    model_package_arn: ModelPackageArn | None = None
    """Approved model package version in this stack's account and region; promotion changes its version."""
    image: EcrImage | None = None
    """Inference image (ECR URI with tag or digest), with model_data_url, instead of a model package."""
    model_data_url: S3Uri | None = None
    """S3 URI of the model.tar.gz served by image."""
    environment: dict[str, str] = {}
    """Environment variables of image (not used with a model package)."""
    instance_type: EndpointInstanceType | None = None
    """Instance type of the variant; required unless the endpoint is serverless."""
    initial_instance_count: Annotated[int, Field(ge=1)] = 1
    """Instances at creation; within autoscaling's bounds when autoscaling is set."""
    weight: Annotated[float, Field(ge=0)] = 1.0
    """Relative share of traffic (A/B); for the shadow variant, the share of requests mirrored to it."""
    autoscaling: AutoscalingSettings | None = None
    """Autoscale the instance count; unset keeps initial_instance_count."""
    network_isolation: bool = True
    """Run the container with no network access. Serverless endpoints need `false`, written out."""

    @model_validator(mode="after")
    def _one_model_source(self) -> VariantSettings:
        container = (self.image, self.model_data_url)
        if self.model_package_arn is None and container == (None, None):
            raise ValueError(f"variant {self.name!r} has no model: set model_package_arn, or image and model_data_url")
        if self.model_package_arn is not None and container != (None, None):
            raise ValueError(f"variant {self.name!r} sets model_package_arn and image/model_data_url; set one of them")
        if self.model_package_arn is None and None in container:
            missing = "model_data_url" if self.model_data_url is None else "image"
            raise ValueError(f"variant {self.name!r} sets only one of image and model_data_url; {missing} is missing")
        if self.environment and self.model_package_arn:
            raise ValueError(f"variant {self.name!r}: environment only applies to image, not to a model package")
        scaling = self.autoscaling
        if scaling and not scaling.min_instances <= self.initial_instance_count <= scaling.max_instances:
            raise ValueError(
                f"variant {self.name!r}: initial_instance_count ({self.initial_instance_count}) is outside "
                f"autoscaling.min_instances..max_instances ({scaling.min_instances}..{scaling.max_instances})"
            )
        return self

    @property
    def model_group(self) -> str | None:
        """The model package group of model_package_arn."""
        match = catalog.MODEL_PACKAGE_ARN.match(self.model_package_arn or "")
        return match["group"] if match else None


class ServerlessSettings(StrictModel):
    """Serverless inference: per-request billing, cold starts, CPU only; the choice for dev endpoints."""

    memory_size_mb: Annotated[int, Field(ge=1024, le=6144, multiple_of=1024)] = 2048
    """Memory of each invocation's container: 1024-6144 in steps of 1024."""
    max_concurrency: Annotated[int, Field(ge=1, le=200)] = 5
    """Concurrent invocations before throttling, 1-200."""
    provisioned_concurrency: Annotated[int, Field(ge=1, le=200)] | None = None
    """Pre-warmed concurrency (at most max_concurrency); unset for cold starts only."""

    @model_validator(mode="after")
    def _provisioned_le_max(self) -> ServerlessSettings:
        if self.provisioned_concurrency and self.provisioned_concurrency > self.max_concurrency:
            raise ValueError(
                f"provisioned_concurrency ({self.provisioned_concurrency}) exceeds max_concurrency "
                f"({self.max_concurrency})"
            )
        return self


class DataCaptureSettings(StrictModel):
    """Request/response capture to s3://<artifacts>/data-capture/<endpoint>/, KMS-encrypted."""

    enabled: bool = True
    """Capture requests and responses. Serverless endpoints need `false`, written out."""
    sampling_percentage: Annotated[int, Field(ge=0, le=100)] = 20
    """Share of requests captured, 0-100."""


class RolloutType(StrEnum):
    """Traffic shifting of a blue/green update."""

    ALL_AT_ONCE = "ALL_AT_ONCE"
    CANARY = "CANARY"
    LINEAR = "LINEAR"


class RolloutSettings(StrictModel):
    """How an update (a promotion) shifts traffic to the new fleet; it rolls back if a rollback alarm fires."""

    type: RolloutType = RolloutType.ALL_AT_ONCE
    """ALL_AT_ONCE, CANARY (canary_percent first) or LINEAR (linear_step_percent per step)."""
    canary_percent: Annotated[int, Field(ge=1, le=50)] | None = None
    """CANARY: share of capacity that takes traffic first, 1-50 %."""
    linear_step_percent: Annotated[int, Field(ge=5, le=50)] | None = None
    """LINEAR: share of capacity shifted per step, 5-50 %."""
    wait_interval_seconds: Annotated[int, Field(ge=0, le=3600)] = 600
    """Baking period after each shift, watched by the rollback alarms (0-3600 s)."""
    termination_wait_seconds: Annotated[int, Field(ge=0, le=3600)] = 600
    """Keep the old fleet this long after the final shift, for a fast manual rollback (0-3600 s)."""
    max_execution_timeout_seconds: Annotated[int, Field(ge=600, le=28800)] = 3600
    """Roll back if the whole update takes longer (600-28800 s)."""

    @model_validator(mode="after")
    def _sizes_match_type(self) -> RolloutSettings:
        wanted = {RolloutType.CANARY: "canary_percent", RolloutType.LINEAR: "linear_step_percent"}.get(self.type)
        for key in ("canary_percent", "linear_step_percent"):
            if key == wanted and getattr(self, key) is None:
                raise ValueError(f"type {self.type.value} needs {key}")
            if key != wanted and getattr(self, key) is not None:
                raise ValueError(f"{key} does not apply to type {self.type.value}; remove it")
        shifts = {RolloutType.ALL_AT_ONCE: 1, RolloutType.CANARY: 2}.get(
            self.type, -(-100 // (self.linear_step_percent or 100))
        )
        needed = shifts * self.wait_interval_seconds + self.termination_wait_seconds
        if needed > self.max_execution_timeout_seconds:
            raise ValueError(
                f"max_execution_timeout_seconds ({self.max_execution_timeout_seconds}) is shorter than the rollout "
                f"itself ({shifts} shift(s) x wait_interval_seconds {self.wait_interval_seconds} + "
                f"termination_wait_seconds {self.termination_wait_seconds} = {needed})"
            )
        return self

    @property
    def step_percent(self) -> int | None:
        """The canary or linear step size."""
        return self.canary_percent or self.linear_step_percent


class AlarmSettings(StrictModel):
    """Per-variant CloudWatch alarm thresholds (1-minute periods)."""

    latency_p99_ms: Annotated[float, Field(gt=0)] = 1000
    """p99 ModelLatency in milliseconds; a rollback alarm."""
    errors_5xx: Annotated[int, Field(ge=1)] = 5
    """Invocation5XXErrors per minute; a rollback alarm."""
    error_4xx_rate_percent: Annotated[float, Field(gt=0, le=100)] = 5
    """4xx errors as a percentage of invocations."""
    cpu_utilization_percent: Annotated[float, Field(gt=0, le=100)] = 80
    """Average CPU per vCPU (instance variants)."""
    gpu_utilization_percent: Annotated[float, Field(gt=0, le=100)] = 90
    """Average GPU per GPU (GPU instance variants)."""
    evaluation_periods: Annotated[int, Field(ge=1, le=60)] = 3
    """Minutes evaluated."""
    datapoints_to_alarm: Annotated[int, Field(ge=1, le=60)] = 2
    """Breaching minutes (out of evaluation_periods) that fire an alarm."""

    @model_validator(mode="after")
    def _datapoints_le_periods(self) -> AlarmSettings:
        if self.datapoints_to_alarm > self.evaluation_periods:
            raise ValueError(
                f"datapoints_to_alarm ({self.datapoints_to_alarm}) exceeds evaluation_periods "
                f"({self.evaluation_periods})"
            )
        return self


class OffHoursSettings(StrictModel):
    """Scale autoscaled variants down outside office hours (non-prod; prod needs override_reason)."""

    timezone: TimeZone = "UTC"
    """IANA time zone of the two cron expressions."""
    scale_down_cron: Cron = "cron(0 19 ? * MON-FRI *)"
    """When to scale down."""
    scale_up_cron: Cron = "cron(0 7 ? * MON-FRI *)"
    """When to restore the autoscaling bounds."""
    instances: Annotated[int, Field(ge=1)] = 1
    """Instances per autoscaled variant while scaled down."""
    override_reason: Annotated[str, Field(min_length=10)] | None = None
    """Required to scale a prod endpoint down: why, for the reviewer."""


class DataQualitySettings(StrictModel):
    """A Model Monitor data-quality schedule against a baseline (from a SageMaker baselining job)."""

    baseline_prefix: Annotated[str, StringConstraints(pattern=r"^models/[A-Za-z0-9._/-]+/$")]
    """Key prefix in the artifacts bucket holding the baselining job's statistics.json and constraints.json;
    under models/ (which the inference role reads), ending with /."""
    schedule_cron: Cron = "cron(0 * ? * * *)"
    """When to run; hourly by default."""
    instance_type: Annotated[str, AfterValidator(_check_processing_instance_type)] = "ml.m5.large"
    """Processing instance of each run."""
    max_runtime_seconds: Annotated[int, Field(ge=60, le=3600)] = 1800
    """Stop a run after this long."""


class QualityMetric(StrEnum):
    """Binary-classification metrics the model-quality monitor publishes and the alarm can watch."""

    AUC = "auc"
    ACCURACY = "accuracy"
    PRECISION = "precision"
    RECALL = "recall"
    F1 = "f1"


class MonitoringSettings(StrictModel):
    """Data-quality, model-quality and model-bias monitors baselined from the served model package: the
    training pipeline filed its baselines under s3://<artifacts>/models/baselines/<package ARN>/. Runs that end
    with violations, and the model-quality alarm, notify the alert topic."""

    baseline_variant: VariantName | None = None
    """Variant whose model package provides the baselines; unset: the production variant with the most weight."""
    schedule_cron: Cron = "cron(0 * ? * * *)"
    """When each monitor runs; hourly by default."""
    instance_type: Annotated[str, AfterValidator(_check_processing_instance_type)] = "ml.m5.large"
    """Processing instance of each run."""
    max_runtime_seconds: Annotated[int, Field(ge=60, le=3600)] = 1800
    """Stop a run after this long."""
    ground_truth_delay_hours: Annotated[int, Field(ge=0, le=336)] = 24
    """How long ground-truth labels take to arrive under s3://<artifacts>/data-capture/<endpoint>/ground-truth/;
    each run analyses the hour that ended this long ago."""
    probability_threshold: Annotated[float, Field(gt=0, lt=1)] = 0.5
    """Score (the endpoint's first CSV column) from which a prediction counts as positive."""
    quality_alarm_metric: QualityMetric = QualityMetric.AUC
    """Model-quality metric the alarm watches."""
    quality_alarm_minimum: Annotated[float, Field(ge=0, le=1)] | None = None
    """Alarm when the metric on ground truth falls below this; unset: no alarm (the violations rule remains)."""


class EndpointSettings(StrictModel):
    """A real-time endpoint: instances (with A/B variants, an optional shadow, autoscaling and a blue/green
    rollout) or serverless."""

    name: Identifier
    """Short name; the endpoint is `<project>-<env>-<name>`."""
    variants: Annotated[list[VariantSettings], Field(min_length=1, max_length=10)]
    """Production variants, traffic split by weight."""
    shadow_variant: VariantSettings | None = None
    """A shadow variant mirroring production traffic (needs exactly one production variant)."""
    serverless: ServerlessSettings | None = None
    """Serverless instead of instances: one variant, no instance_type, data capture and isolation off."""
    data_capture: DataCaptureSettings = DataCaptureSettings()
    """Request/response capture (KMS-encrypted)."""
    rollout: RolloutSettings | None = None
    """Blue/green traffic shifting of updates (instance endpoints); unset is ALL_AT_ONCE with rollback alarms."""
    alarms: AlarmSettings = AlarmSettings()
    """Alarm thresholds."""
    off_hours: OffHoursSettings | None = None
    """Scheduled scale-down outside office hours (needs autoscaling)."""
    data_quality: DataQualitySettings | None = None
    """Model Monitor data-quality schedule against an explicit baseline (needs data capture); prefer
    `monitoring`, which takes the baselines from the served package."""
    monitoring: MonitoringSettings | None = None
    """Data-quality, model-quality and model-bias monitors from the served package's baselines (needs data
    capture and a model package variant)."""

    @model_validator(mode="after")
    def _consistent(self) -> EndpointSettings:
        variants = [*self.variants, *([self.shadow_variant] if self.shadow_variant else [])]
        names = [v.name for v in variants]
        if duplicates := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(
                f"variant names must be unique (shadow_variant included); repeated: {', '.join(duplicates)}"
            )
        if sum(v.weight for v in self.variants) <= 0:
            raise ValueError(
                f"variants[*].weight are all zero ({[v.weight for v in self.variants]}); "
                "at least one production variant needs a weight above 0"
            )
        if self.shadow_variant and len(self.variants) != 1:
            raise ValueError(
                f"shadow_variant needs exactly one production variant, found {len(self.variants)}; "
                "SageMaker does not combine A/B variants with a shadow (use two endpoints)"
            )
        if self.serverless:
            self._check_serverless(variants)
        else:
            missing = [v.name for v in variants if v.instance_type is None]
            if missing:
                raise ValueError(f"variant(s) {', '.join(missing)} need instance_type (or configure serverless)")
        if self.off_hours and not any(v.autoscaling for v in variants):
            raise ValueError("off_hours needs autoscaling on at least one variant")
        if self.data_quality and not self.data_capture.enabled:
            raise ValueError("data_quality needs data_capture.enabled (Model Monitor reads the captured requests)")
        if self.monitoring:
            self._check_monitoring()
        return self

    def _check_monitoring(self) -> None:
        if not self.data_capture.enabled:
            raise ValueError("monitoring needs data_capture.enabled (Model Monitor reads the captured requests)")
        if self.data_quality:
            raise ValueError(
                "set either data_quality (explicit baseline) or monitoring (the package's baselines), not both: "
                "SageMaker runs one data-quality schedule per endpoint"
            )
        variant = self.baseline_variant
        if variant is None:
            names = [v.name for v in self.variants]
            raise ValueError(
                f"monitoring.baseline_variant {self.monitoring.baseline_variant!r} is not a production variant; "
                f"expected one of: {', '.join(names)}"
            )
        if variant.model_package_arn is None:
            raise ValueError(
                f"monitoring: variant {variant.name!r} serves an image, not a model package, so it has no "
                "registered baselines; set monitoring.baseline_variant to a model package variant or use data_quality"
            )

    @property
    def baseline_variant(self) -> VariantSettings | None:
        """The production variant whose package baselines the monitors (None if the configured name is unknown)."""
        wanted = self.monitoring.baseline_variant if self.monitoring else None
        if wanted is None:
            return max(self.variants, key=lambda v: v.weight)
        return next((v for v in self.variants if v.name == wanted), None)

    def _check_serverless(self, variants: list[VariantSettings]) -> None:
        unsupported = [
            key
            for key, present in (
                ("a second variant", len(self.variants) > 1),
                ("shadow_variant", self.shadow_variant is not None),
                ("variants[0].instance_type", any(v.instance_type for v in variants)),
                (
                    "variants[0].initial_instance_count",
                    any("initial_instance_count" in v.model_fields_set for v in variants),
                ),
                ("variants[0].autoscaling", any(v.autoscaling for v in variants)),
                ("variants[0].network_isolation: true (write false)", any(v.network_isolation for v in variants)),
                ("data_capture.enabled: true (write false)", self.data_capture.enabled),
                ("rollout", self.rollout is not None),
                ("off_hours", self.off_hours is not None),
                ("data_quality", self.data_quality is not None),
                ("monitoring", self.monitoring is not None),
            )
            if present
        ]
        if unsupported:
            raise ValueError(f"serverless endpoints do not support {'; '.join(unsupported)}")

    @property
    def all_variants(self) -> list[VariantSettings]:
        """Production variants, then the shadow variant."""
        return [*self.variants, *([self.shadow_variant] if self.shadow_variant else [])]


def check_endpoints(
    endpoints: Sequence[EndpointSettings],
    *,
    environment: str,
    region: str,
    account: str,
    model_groups: Iterable[str] | None,
) -> None:
    """Stack-level rules: unique names, model packages of this account/region and of a registered group, and no
    off-hours scale-down in prod without a reason. ValueError messages name the `endpoints.<i>...` key."""
    names = [e.name for e in endpoints]
    if duplicates := sorted({n for n in names if names.count(n) > 1}):
        raise ValueError(f"endpoints: names must be unique; repeated: {', '.join(duplicates)}")
    groups = set(model_groups) if model_groups is not None else None
    for i, endpoint in enumerate(endpoints):
        for key, variant in _variant_keys(i, endpoint):
            match = catalog.MODEL_PACKAGE_ARN.match(variant.model_package_arn or "")
            if not match:
                continue
            where = f"{key}.model_package_arn = {variant.model_package_arn!r}"
            if match["account"] != account or match["region"] != region:
                raise ValueError(
                    f"{where}: the package is in account {match['account']} / {match['region']}, "
                    f"but this stack deploys to account {account} / {region}; promote (copy) the "
                    "approved version into this stack's registry and use that ARN"
                )
            if groups is not None and match["group"] not in groups:
                known = ", ".join(sorted(groups)) or "none"
                raise ValueError(
                    f"{where}: model package group {match['group']!r} is not in registry.models (configured: {known})"
                )
        if environment == "prod" and endpoint.off_hours and not endpoint.off_hours.override_reason:
            raise ValueError(
                f"endpoints.{i}.off_hours: prod endpoint {endpoint.name!r} would scale down outside "
                "office hours; remove off_hours or explain why in off_hours.override_reason"
            )


def _variant_keys(i: int, endpoint: EndpointSettings) -> list[tuple[str, VariantSettings]]:
    keys = [(f"endpoints.{i}.variants.{j}", v) for j, v in enumerate(endpoint.variants)]
    if endpoint.shadow_variant:
        keys.append((f"endpoints.{i}.shadow_variant", endpoint.shadow_variant))
    return keys
