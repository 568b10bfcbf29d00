"""The train-evaluate-register pipeline, built with the SageMaker Python SDK v3.

preprocess (processing: raw -> curated splits) -> train (GPU, managed spot, checkpoints, VPC, env key)
-> evaluate (processing: evaluation report as a PropertyFile) -> condition: metric >= threshold
-> register into the model package group (PendingManualApproval, report as model metrics), else fail.

Every environment-specific value is a `{{placeholder}}` (see pipelines.template.PLACEHOLDERS): this
module is only imported by `pipelines.render`, which turns the SDK's definition into the checked-in
template. It needs the `pipelines` extra (`uv sync --extra pipelines`).
"""

from __future__ import annotations

from sagemaker.core.helper.session_helper import Session
from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
from sagemaker.core.network import NetworkConfig
from sagemaker.core.processing import ScriptProcessor
from sagemaker.core.shapes import (
    CheckpointConfig,
    OutputDataConfig,
    ProcessingInput,
    ProcessingOutput,
    ProcessingS3Input,
    ProcessingS3Output,
    StoppingCondition,
)
from sagemaker.core.training.configs import Compute, InputData, Networking
from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo
from sagemaker.core.workflow.execution_variables import ExecutionVariables
from sagemaker.core.workflow.functions import Join, JsonGet
from sagemaker.core.workflow.parameters import ParameterFloat, ParameterString
from sagemaker.core.workflow.pipeline_context import PipelineSession
from sagemaker.core.workflow.properties import PropertyFile
from sagemaker.mlops.workflow import ConditionStep, FailStep, ModelStep, Pipeline, ProcessingStep, TrainingStep
from sagemaker.serve.model_builder import ModelBuilder
from sagemaker.train.model_trainer import ModelTrainer

from pipelines.template import SOURCE_ARCHIVE

NAME = "train-evaluate-register"

ROLE = "arn:aws:iam::000000000000:role/placeholder-role-arn"
"""The SDK only skips its IAM look-up for a full role ARN; `SENTINELS` turns this one into {{role_arn}}."""
SENTINELS = {ROLE: "{{role_arn}}"}
"""Stand-ins the SDK accepts, replaced by their placeholder in the rendered template."""
KEY = "{{kms_key_arn}}"
CODE = "s3://{{artifacts_bucket}}/code/{{pipeline_name}}/{{source_hash}}"
RUN = ExecutionVariables.PIPELINE_EXECUTION_ID
REPORT_FILE = "evaluation.json"
MAX_RUNTIME_SECONDS = 4 * 3600
MAX_WAIT_SECONDS = 8 * 3600
"""Spot: the job may wait for capacity as long as it may run."""


def _processor(session: Session, instance_type: ParameterString, base_job_name: str) -> ScriptProcessor:
    return ScriptProcessor(
        role=ROLE,
        image_uri="{{processing_image_uri}}",
        command=["python3"],
        instance_type=instance_type,
        instance_count=1,
        volume_kms_key=KEY,
        output_kms_key=KEY,
        max_runtime_in_seconds=MAX_RUNTIME_SECONDS,
        base_job_name=base_job_name,
        sagemaker_session=session,
        network_config=NetworkConfig(
            subnets=["{{subnet_ids}}"],
            security_group_ids=["{{security_group_ids}}"],
            encrypt_inter_container_traffic=True,
        ),
    )


def _s3_input(name: str, uri, local_path: str) -> ProcessingInput:
    return ProcessingInput(
        input_name=name,
        s3_input=ProcessingS3Input(s3_uri=uri, local_path=local_path, s3_data_type="S3Prefix", s3_input_mode="File"),
    )


def _s3_output(name: str, uri, local_path: str) -> ProcessingOutput:
    return ProcessingOutput(
        output_name=name,
        s3_output=ProcessingS3Output(s3_uri=uri, local_path=local_path, s3_upload_mode="EndOfJob"),
    )


def build(session: PipelineSession) -> Pipeline:
    """The pipeline, with placeholders for every environment-specific value."""
    input_uri = ParameterString("InputDataUri", default_value="s3://{{raw_bucket}}/{{pipeline_name}}/")
    processing_type = ParameterString("ProcessingInstanceType", default_value="{{processing_instance_type}}")
    training_type = ParameterString("TrainingInstanceType", default_value="{{training_instance_type}}")
    threshold = ParameterFloat("MetricThreshold", default_value=0.0)

    curated = Join(on="/", values=["s3://{{curated_bucket}}/{{pipeline_name}}", RUN])
    preprocess = ProcessingStep(
        name="Preprocess",
        step_args=_processor(session, processing_type, "preprocess").run(
            code=f"{CODE}/preprocess.py",
            inputs=[_s3_input("raw", input_uri, "/opt/ml/processing/input")],
            outputs=[
                _s3_output(split, Join(on="/", values=[curated, split]), f"/opt/ml/processing/{split}")
                for split in ("train", "validation", "test")
            ],
            arguments=["--target", "{{target_column}}"],
        ),
    )
    split_uri = {
        split: preprocess.properties.ProcessingOutputConfig.Outputs[split].S3Output.S3Uri
        for split in ("train", "validation", "test")
    }

    trainer = ModelTrainer(
        sagemaker_session=session,
        role=ROLE,
        base_job_name="train",
        training_image="{{training_image_uri}}",
        compute=Compute(
            instance_type=training_type,
            instance_count=1,
            volume_size_in_gb=50,
            volume_kms_key_id=KEY,
            enable_managed_spot_training=True,
        ),
        networking=Networking(
            subnets=["{{subnet_ids}}"],
            security_group_ids=["{{security_group_ids}}"],
            enable_inter_container_traffic_encryption=True,
        ),
        stopping_condition=StoppingCondition(
            max_runtime_in_seconds=MAX_RUNTIME_SECONDS, max_wait_time_in_seconds=MAX_WAIT_SECONDS
        ),
        output_data_config=OutputDataConfig(
            s3_output_path="s3://{{artifacts_bucket}}/models/{{pipeline_name}}", kms_key_id=KEY
        ),
        checkpoint_config=CheckpointConfig(
            s3_uri="s3://{{artifacts_bucket}}/checkpoints/{{pipeline_name}}/", local_path="/opt/ml/checkpoints"
        ),
        # Script mode: the container's training toolkit fetches the stack-uploaded archive and runs
        # train.py; the SDK uploads nothing (ModelTrainer's source_code would upload its drivers).
        hyperparameters={
            "sagemaker_program": "train.py",
            "sagemaker_submit_directory": f"{CODE}/{SOURCE_ARCHIVE}",
            "epochs": 20,
        },
    )
    train = TrainingStep(
        name="Train",
        step_args=trainer.train(
            input_data_config=[
                InputData(channel_name="train", data_source=split_uri["train"]),
                InputData(channel_name="validation", data_source=split_uri["validation"]),
            ]
        ),
    )
    model_uri = train.properties.ModelArtifacts.S3ModelArtifacts

    report = PropertyFile(name="EvaluationReport", output_name="evaluation", path=REPORT_FILE)
    report_prefix = Join(on="/", values=["s3://{{artifacts_bucket}}/pipelines/{{pipeline_name}}/evaluation", RUN])
    evaluate = ProcessingStep(
        name="Evaluate",
        step_args=_processor(session, processing_type, "evaluate").run(
            code=f"{CODE}/evaluate.py",
            inputs=[
                _s3_input("model", model_uri, "/opt/ml/processing/model"),
                _s3_input("test", split_uri["test"], "/opt/ml/processing/test"),
            ],
            outputs=[_s3_output("evaluation", report_prefix, "/opt/ml/processing/evaluation")],
        ),
        property_files=[report],
    )

    model = ModelBuilder(
        sagemaker_session=session,
        role_arn=ROLE,
        image_uri="{{inference_image_uri}}",
        s3_model_data_url=model_uri,
        # The deprecated default {"auto": True} sends register() to the default bucket (a network call).
        dependencies=None,
        env_vars={
            "SAGEMAKER_PROGRAM": "train.py",
            "SAGEMAKER_SUBMIT_DIRECTORY": f"{CODE}/{SOURCE_ARCHIVE}",
        },
    )
    register = ModelStep(
        name="Register",
        step_args=model.register(
            model_package_group_name="{{model_package_group}}",
            approval_status="PendingManualApproval",
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=["ml.m5.large", "ml.m5.xlarge"],
            transform_instances=["ml.m5.large"],
            model_metrics=ModelMetrics(
                model_statistics=MetricsSource(
                    s3_uri=Join(on="/", values=[report_prefix, REPORT_FILE]), content_type="application/json"
                )
            ),
            description="{{pipeline_name}}: trained and evaluated by the train-evaluate-register pipeline",
        ),
    )
    fail = FailStep(
        name="MetricBelowThreshold",
        error_message=Join(
            on=" ", values=["{{metric}} on the test split is below the threshold", threshold, "- not registered"]
        ),
    )
    gate = ConditionStep(
        name="MetricAboveThreshold",
        conditions=[
            ConditionGreaterThanOrEqualTo(
                left=JsonGet(step_name=evaluate.name, property_file=report,
                             json_path="binary_classification_metrics.{{metric}}.value"),
                right=threshold,
            )
        ],
        if_steps=[register],
        else_steps=[fail],
    )
    return Pipeline(
        name="{{pipeline_name}}",
        parameters=[input_uri, processing_type, training_type, threshold],
        steps=[preprocess, train, evaluate, gate],
        sagemaker_session=session,
        pipeline_experiment_config=None,
    )
