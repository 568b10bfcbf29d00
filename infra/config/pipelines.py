"""The `pipelines` section: SageMaker training pipelines a team adds by config, without code.

Each entry deploys one pipeline of a kind (a template under pipelines/<kind>/) for one model package
group, with its images, instance types, quality gate and optional schedule.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from components import sagemaker_catalog as catalog
from pipelines.template import KINDS

from .base import Identifier, StrictModel

GPU_FAMILIES = ("p2", "p3", "p4d", "p4de", "p5", "p5e", "p5en", "p6-b200", "g4dn", "g5", "g6", "g6e", "g7e")
"""SageMaker instance families with NVIDIA GPUs."""

_NO_EBS_FAMILIES = ("g5", "g6", "g7e", "p5", "p6-b200", "trn1", "trn2")
"""Families with local NVMe storage only (besides every family with a `d`), on which SageMaker rejects a
volume KMS key (their instance storage is encrypted by the hardware); same rule as the SDK's
`instance_supports_kms`."""


def supports_volume_kms(instance_type: str) -> bool:
    """Whether SageMaker accepts a VolumeKmsKeyId for a job on this instance type."""
    family = instance_type.split(".")[1]
    return "d" not in family and not family.startswith(_NO_EBS_FAMILIES)


def _check_training_type(value: str) -> str:
    if value not in catalog.training_instance_types():
        raise ValueError("not a SageMaker training instance type (botocore's TrainingInstanceType), e.g. ml.p3.2xlarge")
    if value.split(".")[1] not in GPU_FAMILIES:
        raise ValueError(f"has no GPU; expected a GPU family ({', '.join(GPU_FAMILIES)}), e.g. ml.p3.2xlarge")
    if not supports_volume_kms(value):
        raise ValueError(
            "has local NVMe storage only, where SageMaker rejects the env key on the training volume; "
            "expected an EBS-backed GPU type: ml.p3.2xlarge, ml.p3.8xlarge or ml.p3.16xlarge"
        )
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


_ECR_IMAGE = re.compile(
    r"^\d{12}\.dkr\.ecr\.[a-z]{2}(-[a-z]+)+-\d\.amazonaws\.com/[a-z0-9]+([._/-][a-z0-9]+)*(:[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$"
)


def _check_image(value: str) -> str:
    if not _ECR_IMAGE.match(value):
        raise ValueError(
            "not an ECR image URI; expected <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag> "
            "(or @sha256:<digest>)"
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
"""A SageMaker training instance type with a GPU and an EBS volume the env key can encrypt."""
ProcessingInstanceType = Annotated[str, AfterValidator(_check_processing_type)]
"""A SageMaker processing instance type with an EBS volume the env key can encrypt."""
EcrImageUri = Annotated[str, AfterValidator(_check_image)]
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
    training_instance_type: TrainingInstanceType = "ml.p3.2xlarge"
    """Default of the TrainingInstanceType parameter: a GPU type with an EBS volume (the env key encrypts it)."""
    processing_instance_type: ProcessingInstanceType = "ml.m5.xlarge"
    """Default of the ProcessingInstanceType parameter (preprocessing and evaluation)."""
    metric: Metric = Metric.AUC
    """Evaluation-report metric the quality gate checks."""
    threshold: Annotated[float, Field(ge=0, le=1)]
    """Default of the MetricThreshold parameter: the model is registered only if `metric` >= this (0-1)."""
    target_column: Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_ .-]{0,127}$")] = "label"
    """Label column of the raw CSV data."""
    schedule: ScheduleExpression | None = None
    """When to start the pipeline (EventBridge Scheduler); unset means only on demand."""
    schedule_timezone: Annotated[str, StringConstraints(pattern=r"^[A-Za-z_]+(/[A-Za-z_+-]+){0,2}$")] = "UTC"
    """IANA time zone of a cron schedule, e.g. Europe/Berlin."""

    @model_validator(mode="after")
    def _timezone_needs_schedule(self) -> PipelineSettings:
        if self.schedule_timezone != "UTC" and self.schedule is None:
            raise ValueError(f"pipeline {self.name!r} sets schedule_timezone without a schedule")
        return self


def _unique_names(pipelines: list[PipelineSettings]) -> list[PipelineSettings]:
    names = [p.name for p in pipelines]
    if dupes := sorted({n for n in names if names.count(n) > 1}):
        raise ValueError(f"pipeline names must be unique; repeated: {', '.join(dupes)}")
    return pipelines


PipelineList = Annotated[list[PipelineSettings], AfterValidator(_unique_names)]
"""The configured pipelines, unique by name."""
