"""The `pipelines` section: SageMaker training pipelines a team adds by config, without code.

Each entry deploys one pipeline of a kind (a template under pipelines/<kind>/) for one model package
group, with its images, instance types, quality gate and optional schedule.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from mlops_platform.components import sagemaker_catalog as catalog
from mlops_platform.components.types import EcrImage
from mlops_platform.pipelines.template import KINDS
from pydantic import AfterValidator, Field, StringConstraints, model_validator

from .base import Identifier, StrictModel

DEFAULT_GPU_TRAINING_TYPE = "ml.g5.xlarge"
DEFAULT_CPU_TRAINING_TYPE = "ml.m5.xlarge"


def supports_volume_kms(instance_type: str) -> bool:
    """Whether SageMaker accepts a VolumeKmsKeyId for a job on this instance type (no local NVMe storage)."""
    return not catalog.has_local_nvme(instance_type)


def training_storage(instance_type: str) -> str:
    """The template variant (`pipelines.template.STORAGE_KINDS`) a training instance type needs."""
    return "ebs" if supports_volume_kms(instance_type) else "instance-store"


def _check_training_type(value: str) -> str:
    if value not in catalog.training_instance_types():
        family = value.split(".")[1] if value.count(".") == 2 else ""
        close = sorted(t for t in catalog.training_instance_types() if t.split(".")[1] == family)[:6]
        hint = f"; {family} sizes: {', '.join(close)}" if close else ", e.g. ml.g5.xlarge or ml.m5.xlarge"
        raise ValueError(f"not a SageMaker training instance type (botocore's TrainingInstanceType){hint}")
    return value


def _check_processing_type(value: str) -> str:
    if value not in catalog.processing_instance_types():
        raise ValueError(
            "not a SageMaker processing instance type (botocore's ProcessingInstanceType), e.g. ml.m5.xlarge"
        )
    if not supports_volume_kms(value):
        raise ValueError(
            "has local NVMe storage only, where SageMaker rejects the env key on the volume; e.g. ml.m5.xlarge"
        )
    return value


_RATE = re.compile(r"^rate\((1 (minute|hour|day)|([2-9]|[1-9]\d+) (minutes|hours|days))\)$")
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*?/,#L W-]+$")


def _check_schedule(value: str) -> str:
    if _RATE.match(value):
        return value
    cron = re.fullmatch(r"cron\((.+)\)", value)
    fields = cron.group(1).split() if cron else []
    if len(fields) != 6 or not all(_CRON_FIELD.match(f) for f in fields):
        raise ValueError(
            "not an EventBridge Scheduler expression; expected rate(<n> <minutes|hours|days>) or "
            "cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>), e.g. cron(0 3 ? * MON *)"
        )
    if "?" not in (fields[2], fields[4]):
        raise ValueError(
            "cron needs '?' in day-of-month or day-of-week (one of them must be unset), e.g. cron(0 3 ? * MON *)"
        )
    return value


TrainingInstanceType = Annotated[str, AfterValidator(_check_training_type)]
"""A current SageMaker training instance type (botocore's list): CPU, GPU, EBS-backed or local NVMe."""
ProcessingInstanceType = Annotated[str, AfterValidator(_check_processing_type)]
"""A SageMaker processing instance type with an EBS volume the env key can encrypt."""
EcrImageUri = EcrImage
"""A container image in ECR, by tag or digest."""
ScheduleExpression = Annotated[str, AfterValidator(_check_schedule)]
"""An EventBridge Scheduler `rate(...)` or six-field `cron(...)` expression."""


class PipelineKindName(StrEnum):
    """Pipeline shapes with a checked-in template (pipelines/<kind>/definition.template.json)."""

    TRAIN_EVALUATE_REGISTER = "train-evaluate-register"


assert set(PipelineKindName) == set(KINDS), "every kind in pipelines.template.KINDS needs a config name"


class Metric(StrEnum):
    """Metrics of the evaluation report the quality gate can compare against the threshold."""

    AUC = "auc"
    ACCURACY = "accuracy"
    PRECISION = "precision"
    RECALL = "recall"
    F1 = "f1"


class PipelineImages(StrictModel):
    """Container images of the pipeline's jobs (typically the env's ECR repositories)."""

    processing: EcrImageUri
    """Image of the preprocessing and evaluation jobs (Python 3 with pandas and scikit-learn)."""
    training: EcrImageUri
    """Image of the training job; it must run script mode (`sagemaker_program`), as AWS's framework images do."""
    inference: EcrImageUri | None = None
    """Image registered with the model package for serving; unset uses the training image."""


_COLUMN = r"^[A-Za-z_][A-Za-z0-9_ .-]{0,127}$"


class BiasSettings(StrictModel):
    """The sensitive attribute the Clarify checks measure and the largest bias the pipeline accepts.

    Each limit is an absolute value: a metric farther from 0 fails the check (SageMaker Clarify's rule), at
    training time (the pipeline does not register the model) and on the endpoint (the model-bias monitor
    reports a violation). The facet must be a numeric feature column (the pipeline trains on numeric columns).
    """

    facet: Annotated[str, StringConstraints(pattern=_COLUMN)]
    """Column of the sensitive attribute, e.g. `age` or a one-hot `gender_female`."""
    facet_values: Annotated[list[int | float | str], Field(min_length=1)] = [1]
    """Values of the group that may be disadvantaged; a single number is a threshold (facet > threshold)."""
    max_class_imbalance: Annotated[float, Field(gt=0, le=1)] = 0.5
    """Pre-training CI: how under-represented the group may be in the training data (0: balanced)."""
    max_label_imbalance: Annotated[float, Field(gt=0, le=1)] = 0.3
    """Pre-training DPL: difference of positive-label shares between the groups in the data."""
    max_dppl: Annotated[float, Field(gt=0, le=1)] = 0.2
    """Post-training DPPL: difference of predicted positive shares between the groups."""


class DataValidationSettings(StrictModel):
    """Limits of the data-validation step, comparing new raw data with the last registered execution's."""

    max_mean_shift_std: Annotated[float, Field(gt=0, le=100)] = 3.0
    """Largest move of a numeric column's mean, in that column's previous standard deviations."""
    max_missing_increase: Annotated[float, Field(ge=0, le=1)] = 0.1
    """Largest rise of a column's share of missing values (0.1: ten percentage points)."""


class RetrainingSettings(StrictModel):
    """Event-driven starts of the pipeline, each with its own role that may only start this pipeline."""

    on_new_data: bool = False
    """Start when a batch lands under the pipeline's raw prefix (`s3://<raw>/<pipeline>/`)."""
    batch_marker_suffix: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")] = "_SUCCESS"
    """Key suffix of the object that closes a batch: one start per batch, not one per file (the debounce)."""
    on_drift: bool = False
    """Start when a drift monitor of an endpoint serving this pipeline's model raises its alarm."""

    @model_validator(mode="after")
    def _something_enabled(self) -> RetrainingSettings:
        if not (self.on_new_data or self.on_drift):
            raise ValueError("retraining sets neither on_new_data nor on_drift to true; remove it or enable one")
        return self


class PipelineSettings(StrictModel):
    """One SageMaker pipeline."""

    name: Identifier
    """Pipeline name within the environment; deployed as `<project>-<env>-<name>` and the S3 prefix of its
    data, code, checkpoints and models."""
    kind: PipelineKindName = PipelineKindName.TRAIN_EVALUATE_REGISTER
    """The pipeline's shape: which checked-in template it deploys."""
    model: Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")]
    """Model package group the pipeline registers into (a `registry.models` name)."""
    images: PipelineImages
    """Container images of the jobs."""
    gpu: bool = True
    """The training needs an NVIDIA GPU (G/P instance types); `false` admits CPU types, e.g. for scikit-learn."""
    training_instance_type: TrainingInstanceType = DEFAULT_GPU_TRAINING_TYPE
    """Default of the TrainingInstanceType parameter, any current training type (a GPU type when `gpu`);
    unset: ml.g5.xlarge, or ml.m5.xlarge without `gpu`. Types with local NVMe storage deploy the template
    variant without a volume key (their storage is hardware-encrypted); override the parameter at start
    time only with a type of the same storage kind."""
    processing_instance_type: ProcessingInstanceType = "ml.m5.xlarge"
    """Default of the ProcessingInstanceType parameter (preprocessing and evaluation)."""
    metric: Metric = Metric.AUC
    """Evaluation-report metric the quality gate checks."""
    threshold: Annotated[float, Field(ge=0, le=1)]
    """Default of the MetricThreshold parameter: the model is registered only if `metric` >= this (0-1)."""
    target_column: Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_ .-]{0,127}$")] = "label"
    """Label column of the input data (a feature of `feature_group`, when set)."""
    feature_group: Identifier | None = None
    """Train on this `features` group's offline store instead of CSV files under `s3://<raw>/<pipeline>/`: the
    latest version of each record, deleted records left out, the record identifier and event time not used as
    features. The processing image must read Parquet (pyarrow). Not with `retraining.on_new_data`, which
    watches the raw prefix; schedule the pipeline instead."""
    schedule: ScheduleExpression | None = None
    """When to start the pipeline (EventBridge Scheduler); unset means only on demand."""
    schedule_timezone: Annotated[str, StringConstraints(pattern=r"^[A-Za-z_]+(/[A-Za-z_+-]+){0,2}$")] = "UTC"
    """IANA time zone of a cron schedule, e.g. Europe/Berlin."""
    bias: BiasSettings
    """Sensitive attribute and bias limits of the Clarify checks (every model declares one)."""
    data_validation: DataValidationSettings = DataValidationSettings()
    """Limits of the data-validation step."""
    skip_drift_checks: bool = False
    """Default of SkipDriftChecks: skip comparing data, model quality and explainability with the latest
    approved version's baselines. SageMaker needs an approved version to compare with, so start the first
    execution with SkipDriftChecks=true (or set this until one is approved)."""
    retraining: RetrainingSettings | None = None
    """Event-driven starts (new data, drift alarms); unset: only the schedule and manual starts."""

    @model_validator(mode="before")
    @classmethod
    def _default_training_type(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("training_instance_type") is None:
            gpu = data.get("gpu", True)
            default = DEFAULT_GPU_TRAINING_TYPE if gpu is not False else DEFAULT_CPU_TRAINING_TYPE
            data = {**data, "training_instance_type": default}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> PipelineSettings:
        if self.feature_group and self.retraining and self.retraining.on_new_data:
            raise ValueError(
                f"pipeline {self.name!r} reads feature group {self.feature_group!r}, but retraining.on_new_data "
                "watches the raw prefix, which this pipeline does not read; set on_new_data: false and start it "
                "with a schedule (or on_drift)"
            )
        if self.schedule_timezone != "UTC" and self.schedule is None:
            raise ValueError(f"pipeline {self.name!r} sets schedule_timezone without a schedule")
        if self.gpu and not catalog.is_gpu(self.training_instance_type):
            raise ValueError(
                f"pipeline {self.name!r}: training_instance_type {self.training_instance_type!r} has no GPU, "
                "but gpu is true; choose a G or P type (e.g. ml.g5.xlarge, ml.p3.2xlarge) or set gpu: false "
                "for CPU training"
            )
        return self

    @property
    def training_storage(self) -> str:
        """The template variant of the training instance type: `ebs` or `instance-store`."""
        return training_storage(self.training_instance_type)


def _unique_names(pipelines: list[PipelineSettings]) -> list[PipelineSettings]:
    names = [p.name for p in pipelines]
    if dupes := sorted({n for n in names if names.count(n) > 1}):
        raise ValueError(f"pipeline names must be unique; repeated: {', '.join(dupes)}")
    return pipelines


PipelineList = Annotated[list[PipelineSettings], AfterValidator(_unique_names)]
"""The configured pipelines, unique by name."""
