"""Experiment tracking people can use: who may do what on the environment's managed MLflow tracking server.

The actions are listed rather than `sagemaker-mlflow:*` (the policy pack rejects service-wide wildcards on
write paths): tracking (experiments, runs, metrics, artifacts) for everyone who trains, the MLflow model
registry's promotions (stages, aliases, deletes) for the ML engineer only, so who trains does not promote.
"""

from __future__ import annotations

from typing import Any

import pulumi
from mlops_platform.components.access import Persona
from mlops_platform.components.registry_names import MLFLOW_PREFIX, TRACKING_SERVER_NAME
from mlops_platform.infra.config import PlatformSettings

Statement = dict[str, Any]

MLFLOW_READ = [
    "sagemaker-mlflow:GetExperiment", "sagemaker-mlflow:GetExperimentByName", "sagemaker-mlflow:SearchExperiments",
    "sagemaker-mlflow:GetRun", "sagemaker-mlflow:SearchRuns", "sagemaker-mlflow:GetMetricHistory",
    "sagemaker-mlflow:ListArtifacts", "sagemaker-mlflow:GetRegisteredModel",
    "sagemaker-mlflow:SearchRegisteredModels", "sagemaker-mlflow:GetModelVersion",
    "sagemaker-mlflow:SearchModelVersions", "sagemaker-mlflow:GetLatestModelVersions",
    "sagemaker-mlflow:GetModelVersionByAlias", "sagemaker-mlflow:GetDownloadURIForModelVersionArtifacts",
]  # fmt: skip
"""Reading experiments, runs and registered models."""

MLFLOW_TRACK = [
    "sagemaker-mlflow:CreateExperiment", "sagemaker-mlflow:UpdateExperiment", "sagemaker-mlflow:SetExperimentTag",
    "sagemaker-mlflow:CreateRun", "sagemaker-mlflow:UpdateRun", "sagemaker-mlflow:DeleteRun",
    "sagemaker-mlflow:RestoreRun", "sagemaker-mlflow:LogMetric", "sagemaker-mlflow:LogParam",
    "sagemaker-mlflow:LogBatch", "sagemaker-mlflow:LogInputs", "sagemaker-mlflow:LogModel",
    "sagemaker-mlflow:SetTag", "sagemaker-mlflow:DeleteTag", "sagemaker-mlflow:CreateRegisteredModel",
    "sagemaker-mlflow:CreateModelVersion",
]  # fmt: skip
"""Logging runs and registering a model version (registration, not promotion)."""

MLFLOW_PROMOTE = [
    "sagemaker-mlflow:TransitionModelVersionStage", "sagemaker-mlflow:SetRegisteredModelAlias",
    "sagemaker-mlflow:DeleteRegisteredModelAlias", "sagemaker-mlflow:UpdateModelVersion",
    "sagemaker-mlflow:UpdateRegisteredModel", "sagemaker-mlflow:RenameRegisteredModel",
    "sagemaker-mlflow:SetRegisteredModelTag", "sagemaker-mlflow:DeleteRegisteredModelTag",
    "sagemaker-mlflow:DeleteModelVersionTag", "sagemaker-mlflow:DeleteModelVersion",
    "sagemaker-mlflow:DeleteRegisteredModel", "sagemaker-mlflow:DeleteExperiment",
    "sagemaker-mlflow:RestoreExperiment",
]  # fmt: skip
"""Promoting, renaming and deleting in the MLflow registry, and deleting experiments."""

HUMAN_ACCESS = ["sagemaker:CreatePresignedMlflowTrackingServerUrl", "sagemaker:DescribeMlflowTrackingServer"]
"""Opening the MLflow UI through a presigned URL (the console's "Open MLflow" does the same), and the server's
URL and state, which the `sagemaker-mlflow` plugin reads."""


def tracking_server_arn(settings: PlatformSettings) -> str:
    """The environment's tracking server (named `<prefix>`, see `components.registry.ExperimentTracking`)."""
    assert TRACKING_SERVER_NAME.match(settings.name_prefix)
    return f"arn:aws:sagemaker:{settings.region}:{settings.account}:mlflow-tracking-server/{settings.name_prefix}"


def mlflow_persona_statements(
    settings: PlatformSettings, artifacts_bucket_arn: pulumi.Input[str]
) -> dict[Persona, list[Statement]]:
    """Data scientists and ML engineers open the UI and track; training jobs track and register; only the ML
    engineer promotes. MLflow clients upload run artifacts straight to the artifact store
    (`s3://<artifacts>/mlflow/`), so whoever tracks also reads and writes that prefix. Nothing when MLflow is off."""
    if not settings.registry.mlflow.enabled:
        return {}
    server = tracking_server_arn(settings)
    artifact_store = [
        {"Sid": "MlflowArtifactStore", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts"],
         "Resource": pulumi.Output.concat(artifacts_bucket_arn, "/", MLFLOW_PREFIX, "*")},
        {"Sid": "MlflowArtifactStoreList", "Effect": "Allow", "Action": "s3:ListBucket",
         "Resource": artifacts_bucket_arn, "Condition": {"StringLike": {"s3:prefix": [f"{MLFLOW_PREFIX}*"]}}},
    ]  # fmt: skip

    def allow(sid: str, actions: list[str]) -> Statement:
        return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": server}

    # AccessUI has no resource type in the service authorization reference: it takes "*" (a read); the presigned
    # URL that opens the UI is scoped to this server.
    humans = [
        {"Sid": "MlflowUiAccess", "Effect": "Allow", "Action": "sagemaker-mlflow:AccessUI", "Resource": "*"},
        allow("MlflowUiUrl", HUMAN_ACCESS),
    ]
    tracking = [allow("MlflowTracking", MLFLOW_READ + MLFLOW_TRACK), *artifact_store]
    return {
        Persona.DATA_SCIENTIST: [*humans, *tracking],
        Persona.ML_ENGINEER: [*humans, *tracking, allow("MlflowPromotion", MLFLOW_PROMOTE)],
        Persona.TRAINING: [*tracking, allow("MlflowServerLookup", ["sagemaker:DescribeMlflowTrackingServer"])],
    }
