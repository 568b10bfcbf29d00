"""The train-evaluate-register pipeline, built with the SageMaker Python SDK v3.

    ValidateData (input data vs the profile of the last registered execution: schema and statistics; writes the
                  snapshot it checked)
    -> Preprocess (the validated input snapshot -> curated splits, the data-quality baseline dataset, a labelled
                   test split)
    -> DataQualityCheck (QualityCheckStep: drift against the latest approved package's baseline)
    -> DataBiasCheck (ClarifyCheckStep: pre-training bias against the configured limits)
    -> Train (managed spot, per-execution checkpoints, VPC, env key)
    -> Evaluate (evaluation report as a PropertyFile, predictions for the model-quality baseline)
    -> CreateModel -> ModelQualityCheck (QualityCheckStep), ModelBiasCheck and ModelExplainabilityCheck
       (ClarifyCheckStep)
    -> MetricAboveThreshold: Register (PendingManualApproval, ModelMetrics and DriftCheckBaselines)
       -> PublishBaselines (copies the package's baselines under its ARN, where monitors find them)
       else MetricBelowThreshold (fail).

Every environment-specific value is a `{{placeholder}}` (see pipelines.template.PLACEHOLDERS): this
module is only imported by `pipelines.render`, which turns the SDK's definition into the checked-in
templates, one per training storage kind (`STORAGE_KINDS`). It needs the `pipelines` extra.
"""

from __future__ import annotations

from mlops_platform.pipelines.template import SOURCE_ARCHIVE
from sagemaker.core.clarify import BiasConfig, DataConfig, ModelConfig, ModelPredictedLabelConfig, SHAPConfig
from sagemaker.core.drift_check_baselines import DriftCheckBaselines
from sagemaker.core.helper.session_helper import Session
from sagemaker.core.model_metrics import FileSource, MetricsSource, ModelMetrics
from sagemaker.core.model_monitor.dataset_format import DatasetFormat
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
from sagemaker.core.workflow.parameters import ParameterBoolean, ParameterFloat, ParameterString
from sagemaker.core.workflow.pipeline_context import PipelineSession
from sagemaker.core.workflow.properties import PropertyFile
from sagemaker.mlops.workflow import ConditionStep, FailStep, ModelStep, Pipeline, ProcessingStep, TrainingStep
from sagemaker.mlops.workflow.check_job_config import CheckJobConfig
from sagemaker.mlops.workflow.clarify_check_step import (
    ClarifyCheckStep,
    DataBiasCheckConfig,
    ModelBiasCheckConfig,
    ModelExplainabilityCheckConfig,
)
from sagemaker.mlops.workflow.quality_check_step import (
    DataQualityCheckConfig,
    ModelQualityCheckConfig,
    QualityCheckStep,
)
from sagemaker.serve.configs import Network
from sagemaker.serve.model_builder import ModelBuilder
from sagemaker.train.model_trainer import ModelTrainer

NAME = "train-evaluate-register"

STORAGE_KINDS = ("ebs", "instance-store")
"""Training storage the template is rendered for: an EBS volume the env key encrypts (`VolumeKmsKeyId`,
`VolumeSizeInGB`), or local NVMe that the instance's hardware encrypts and SageMaker sizes itself (both
fields omitted; SageMaker rejects a volume key there). The stack picks the variant for the configured
training instance type."""

ROLE = "arn:aws:iam::000000000000:role/placeholder-role-arn"
"""The SDK only skips its IAM look-up for a full role ARN; `SENTINELS` turns this one into {{role_arn}}."""
SENTINELS = {ROLE: "{{role_arn}}"}
"""Stand-ins the SDK accepts, replaced by their placeholder in the rendered template."""
KEY = "{{kms_key_arn}}"
CODE = "s3://{{artifacts_bucket}}/code/{{pipeline_name}}/{{source_hash}}"
CHECKS = f"{CODE}/checks"
"""Where the analysis configurations the SDK writes for the Clarify checks live (the stack uploads them)."""
BIAS_LIMITS = "s3://{{artifacts_bucket}}/code/{{pipeline_name}}/config/bias-constraints.json"
"""The configured bias limits as a Clarify constraints file (written by the stack from config)."""
PROFILE = "s3://{{artifacts_bucket}}/pipelines/{{pipeline_name}}/data-profile"
"""The data profile of the last registered execution (PublishBaselines writes it; ValidateData reads it
with boto3, as a processing input would fail the first execution, when nothing is there yet)."""
RUN = ExecutionVariables.PIPELINE_EXECUTION_ID
REPORT_FILE = "evaluation.json"
MAX_RUNTIME_SECONDS = 4 * 3600
MAX_WAIT_SECONDS = 8 * 3600
"""Spot: the job may wait for capacity as long as it may run."""
CHECK_INSTANCE_TYPE = "ml.m5.xlarge"
"""Instance of the check jobs and of Clarify's temporary shadow endpoint (EBS-backed: the env key applies)."""


class _SerializableNetworkConfig(NetworkConfig, dict):
    """A NetworkConfig that is also its request dict: sagemaker 3.27's `_build_check_job_request` puts the
    object itself into the check steps' request, which the definition's json.dumps cannot serialize."""

    def __init__(self, **kwargs) -> None:
        NetworkConfig.__init__(self, **kwargs)
        dict.__init__(self, self._to_request_dict())


def _network() -> NetworkConfig:
    return _SerializableNetworkConfig(
        subnets=["{{subnet_ids}}"],
        security_group_ids=["{{security_group_ids}}"],
        encrypt_inter_container_traffic=True,
    )


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
        network_config=_network(),
    )


def _check_job(session: Session, base_job_name: str) -> CheckJobConfig:
    return CheckJobConfig(
        role=ROLE,
        instance_count=1,
        instance_type=CHECK_INSTANCE_TYPE,
        volume_kms_key=KEY,
        output_kms_key=KEY,
        max_runtime_in_seconds=3600,
        base_job_name=base_job_name,
        sagemaker_session=session,
        network_config=_network(),
    )


def _s3_input(name: str, uri, local_path: str) -> ProcessingInput:
    return ProcessingInput(
        input_name=name,
        s3_input=ProcessingS3Input(s3_uri=uri, local_path=local_path, s3_data_type="S3Prefix", s3_input_mode="File"),
    )


def _input_reader() -> ProcessingInput:
    """input_data.py, which validate.py and preprocess.py import to read CSV or a feature group's offline store."""
    return _s3_input("lib", f"{CODE}/input_data.py", "/opt/ml/processing/input/lib")


def _s3_output(name: str, uri, local_path: str) -> ProcessingOutput:
    return ProcessingOutput(
        output_name=name,
        s3_output=ProcessingS3Output(s3_uri=uri, local_path=local_path, s3_upload_mode="EndOfJob"),
    )


def _run_prefix(*parts: str) -> Join:
    """s3://<artifacts>/pipelines/<pipeline>/<execution id>/<parts>: one prefix per execution."""
    return Join(on="/", values=["s3://{{artifacts_bucket}}/pipelines/{{pipeline_name}}", RUN, *parts])


def build(session: PipelineSession, storage: str = "ebs") -> Pipeline:
    """The pipeline, with placeholders for every environment-specific value, for one training storage kind."""
    if storage not in STORAGE_KINDS:
        raise ValueError(f"storage={storage!r}; expected one of {STORAGE_KINDS}")
    input_uri = ParameterString("InputDataUri", default_value="{{input_data_uri}}")
    processing_type = ParameterString("ProcessingInstanceType", default_value="{{processing_instance_type}}")
    training_type = ParameterString("TrainingInstanceType", default_value="{{training_instance_type}}")
    threshold = ParameterFloat("MetricThreshold", default_value=0.0)
    skip_drift = ParameterBoolean("SkipDriftChecks", default_value=False)
    new_baseline = ParameterBoolean("RegisterNewBaselines", default_value=True)

    curated = Join(on="/", values=["s3://{{curated_bucket}}/{{pipeline_name}}", RUN])
    # ValidateData writes the input exactly as it checked it (CSV, the offline store deduplicated); Preprocess
    # reads that snapshot, so what is trained is what was validated, although the source keeps changing.
    validate = ProcessingStep(
        name="ValidateData",
        step_args=_processor(session, processing_type, "validate").run(
            code=f"{CODE}/validate.py",
            inputs=[_s3_input("raw", input_uri, "/opt/ml/processing/input"), _input_reader()],
            outputs=[
                _s3_output("profile", _run_prefix("data-profile"), "/opt/ml/processing/profile"),
                _s3_output("snapshot", Join(on="/", values=[curated, "input"]), "/opt/ml/processing/snapshot"),
            ],
            arguments=[
                "--target",
                "{{target_column}}",
                "--previous-profile",
                f"{PROFILE}/profile.json",
                "--max-mean-shift",
                "{{max_mean_shift}}",
                "--max-missing-increase",
                "{{max_missing_increase}}",
                "{{input_arguments}}",
            ],
        ),
    )

    splits = ("train", "validation", "test", "baseline", "labelled")
    snapshot_uri = validate.properties.ProcessingOutputConfig.Outputs["snapshot"].S3Output.S3Uri
    preprocess = ProcessingStep(
        name="Preprocess",
        step_args=_processor(session, processing_type, "preprocess").run(
            code=f"{CODE}/preprocess.py",
            inputs=[_s3_input("snapshot", snapshot_uri, "/opt/ml/processing/input"), _input_reader()],
            outputs=[
                _s3_output(split, Join(on="/", values=[curated, split]), f"/opt/ml/processing/{split}")
                for split in splits
            ],
            arguments=["--target", "{{target_column}}"],
        ),
    )
    split_uri = {split: preprocess.properties.ProcessingOutputConfig.Outputs[split].S3Output.S3Uri for split in splits}

    data_quality = QualityCheckStep(
        name="DataQualityCheck",
        quality_check_config=DataQualityCheckConfig(
            baseline_dataset=split_uri["baseline"],
            dataset_format=DatasetFormat.csv(header=False, output_columns_position="START"),
            output_s3_uri=_run_prefix("checks", "data-quality"),
        ),
        check_job_config=_check_job(session, "data-quality"),
        skip_check=skip_drift,
        register_new_baseline=new_baseline,
        model_package_group_name="{{model_package_group}}",
    )

    bias_config = BiasConfig(
        label_values_or_threshold=[1],
        facet_name="{{bias_facet}}",
        facet_values_or_threshold=["{{bias_facet_values}}"],
    )

    def labelled_data(check: str) -> DataConfig:
        return DataConfig(
            s3_data_input_path=split_uri["labelled"],
            s3_output_path=_run_prefix("checks", check),
            s3_analysis_config_output_path=f"{CHECKS}/{check}",
            label="{{target_column}}",
            dataset_type="text/csv",
        )

    data_bias = ClarifyCheckStep(
        name="DataBiasCheck",
        clarify_check_config=DataBiasCheckConfig(
            data_config=labelled_data("data-bias"), data_bias_config=bias_config, methods=["CI", "DPL"], kms_key=KEY
        ),
        check_job_config=_check_job(session, "data-bias"),
        # The configured limits: always checked, and (not registering a new baseline) the package's bias
        # drift baseline, so the model-bias monitor alerts on the same limits.
        skip_check=False,
        register_new_baseline=False,
        supplied_baseline_constraints=BIAS_LIMITS,
        model_package_group_name="{{model_package_group}}",
    )

    trainer = ModelTrainer(
        sagemaker_session=session,
        role=ROLE,
        base_job_name="train",
        training_image="{{training_image_uri}}",
        compute=Compute(
            instance_type=training_type,
            instance_count=1,
            volume_size_in_gb=50 if storage == "ebs" else None,
            volume_kms_key_id=KEY if storage == "ebs" else None,
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
        # Per execution: a spot interruption resumes within its execution; the next execution starts fresh.
        checkpoint_config=CheckpointConfig(
            s3_uri=Join(on="/", values=["s3://{{artifacts_bucket}}/checkpoints/{{pipeline_name}}", RUN]),
            local_path="/opt/ml/checkpoints",
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
        depends_on=[data_quality, data_bias],
    )
    model_uri = train.properties.ModelArtifacts.S3ModelArtifacts

    report = PropertyFile(name="EvaluationReport", output_name="evaluation", path=REPORT_FILE)
    report_prefix = _run_prefix("evaluation")
    evaluate = ProcessingStep(
        name="Evaluate",
        step_args=_processor(session, processing_type, "evaluate").run(
            code=f"{CODE}/evaluate.py",
            inputs=[
                _s3_input("model", model_uri, "/opt/ml/processing/model"),
                _s3_input("test", split_uri["test"], "/opt/ml/processing/test"),
            ],
            outputs=[
                _s3_output("evaluation", report_prefix, "/opt/ml/processing/evaluation"),
                _s3_output("predictions", _run_prefix("predictions"), "/opt/ml/processing/predictions"),
            ],
        ),
        property_files=[report],
    )

    def model_builder() -> ModelBuilder:
        return ModelBuilder(
            sagemaker_session=session,
            role_arn=ROLE,
            image_uri="{{inference_image_uri}}",
            s3_model_data_url=model_uri,
            # In the VPC: Clarify's temporary shadow endpoint runs this model.
            network=Network(subnets=["{{subnet_ids}}"], security_group_ids=["{{security_group_ids}}"]),
            # The deprecated default {"auto": True} sends register() to the default bucket (a network call).
            dependencies=None,
            env_vars={
                "SAGEMAKER_PROGRAM": "train.py",
                "SAGEMAKER_SUBMIT_DIRECTORY": f"{CODE}/{SOURCE_ARCHIVE}",
            },
        )

    create_model = ModelStep(name="CreateModel", step_args=model_builder().build())
    shadow = ModelConfig(
        model_name=create_model.properties.ModelName,
        instance_count=1,
        instance_type=CHECK_INSTANCE_TYPE,
        content_type="text/csv",
        accept_type="text/csv",
    )

    model_quality = QualityCheckStep(
        name="ModelQualityCheck",
        quality_check_config=ModelQualityCheckConfig(
            baseline_dataset=evaluate.properties.ProcessingOutputConfig.Outputs["predictions"].S3Output.S3Uri,
            dataset_format=DatasetFormat.csv(header=True),
            output_s3_uri=_run_prefix("checks", "model-quality"),
            problem_type="BinaryClassification",
            inference_attribute="prediction",
            probability_attribute="probability",
            ground_truth_attribute="label",
        ),
        check_job_config=_check_job(session, "model-quality"),
        skip_check=skip_drift,
        register_new_baseline=new_baseline,
        model_package_group_name="{{model_package_group}}",
    )
    model_bias = ClarifyCheckStep(
        name="ModelBiasCheck",
        clarify_check_config=ModelBiasCheckConfig(
            data_config=labelled_data("model-bias"),
            data_bias_config=bias_config,
            model_config=shadow,
            model_predicted_label_config=ModelPredictedLabelConfig(probability_threshold=0.5),
            methods=["DPPL"],
            kms_key=KEY,
        ),
        check_job_config=_check_job(session, "model-bias"),
        # The configured limits: always checked, and (not registering a new baseline) the package's bias
        # drift baseline, so the model-bias monitor alerts on the same limits.
        skip_check=False,
        register_new_baseline=False,
        supplied_baseline_constraints=BIAS_LIMITS,
        model_package_group_name="{{model_package_group}}",
    )
    explainability = ClarifyCheckStep(
        name="ModelExplainabilityCheck",
        clarify_check_config=ModelExplainabilityCheckConfig(
            data_config=labelled_data("model-explainability"),
            model_config=shadow,
            explainability_config=SHAPConfig(num_samples=100, agg_method="mean_abs", save_local_shap_values=False),
            kms_key=KEY,
        ),
        check_job_config=_check_job(session, "model-explainability"),
        skip_check=skip_drift,
        register_new_baseline=new_baseline,
        model_package_group_name="{{model_package_group}}",
    )

    def metrics(uri, content_type: str = "application/json") -> MetricsSource:
        return MetricsSource(s3_uri=uri, content_type=content_type)

    register = ModelStep(
        name="Register",
        step_args=model_builder().register(
            model_package_group_name="{{model_package_group}}",
            approval_status="PendingManualApproval",
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=["ml.m5.large", "ml.m5.xlarge"],
            transform_instances=["ml.m5.large"],
            model_metrics=ModelMetrics(
                model_statistics=metrics(Join(on="/", values=[report_prefix, REPORT_FILE])),
                model_constraints=metrics(model_quality.properties.CalculatedBaselineConstraints),
                model_data_statistics=metrics(data_quality.properties.CalculatedBaselineStatistics),
                model_data_constraints=metrics(data_quality.properties.CalculatedBaselineConstraints),
                bias_pre_training=metrics(data_bias.properties.CalculatedBaselineConstraints),
                bias_post_training=metrics(model_bias.properties.CalculatedBaselineConstraints),
                explainability=metrics(explainability.properties.CalculatedBaselineConstraints),
            ),
            drift_check_baselines=DriftCheckBaselines(
                model_statistics=metrics(model_quality.properties.BaselineUsedForDriftCheckStatistics),
                model_constraints=metrics(model_quality.properties.BaselineUsedForDriftCheckConstraints),
                model_data_statistics=metrics(data_quality.properties.BaselineUsedForDriftCheckStatistics),
                model_data_constraints=metrics(data_quality.properties.BaselineUsedForDriftCheckConstraints),
                bias_config_file=FileSource(
                    s3_uri=model_bias.clarify_check_config.monitoring_analysis_config_uri,
                    content_type="application/json",
                ),
                bias_pre_training_constraints=metrics(data_bias.properties.BaselineUsedForDriftCheckConstraints),
                bias_post_training_constraints=metrics(model_bias.properties.BaselineUsedForDriftCheckConstraints),
                explainability_constraints=metrics(explainability.properties.BaselineUsedForDriftCheckConstraints),
                explainability_config_file=FileSource(
                    s3_uri=explainability.clarify_check_config.monitoring_analysis_config_uri,
                    content_type="application/json",
                ),
            ),
            description="{{pipeline_name}}: trained, evaluated and checked by the train-evaluate-register pipeline",
        ),
    )
    package_arn = register.properties.ModelPackageArn
    publish = ProcessingStep(
        name="PublishBaselines",
        step_args=_processor(session, processing_type, "publish").run(
            code=f"{CODE}/publish_baselines.py",
            inputs=[
                _s3_input(
                    "data-quality-statistics",
                    data_quality.properties.BaselineUsedForDriftCheckStatistics,
                    "/opt/ml/processing/baselines/data-quality/statistics",
                ),
                _s3_input(
                    "data-quality-constraints",
                    data_quality.properties.BaselineUsedForDriftCheckConstraints,
                    "/opt/ml/processing/baselines/data-quality/constraints",
                ),
                _s3_input(
                    "model-quality-constraints",
                    model_quality.properties.BaselineUsedForDriftCheckConstraints,
                    "/opt/ml/processing/baselines/model-quality/constraints",
                ),
                _s3_input(
                    "model-bias-constraints",
                    model_bias.properties.BaselineUsedForDriftCheckConstraints,
                    "/opt/ml/processing/baselines/model-bias/constraints",
                ),
                _s3_input(
                    "model-bias-config",
                    model_bias.clarify_check_config.monitoring_analysis_config_uri,
                    "/opt/ml/processing/baselines/model-bias/config",
                ),
                _s3_input(
                    "profile",
                    validate.properties.ProcessingOutputConfig.Outputs["profile"].S3Output.S3Uri,
                    "/opt/ml/processing/profile",
                ),
                _s3_input("labelled", split_uri["labelled"], "/opt/ml/processing/labelled"),
            ],
            outputs=[
                # Keyed by the package's ARN: an endpoint serving that version finds them without a look-up.
                _s3_output(
                    "baselines",
                    Join(on="/", values=["s3://{{artifacts_bucket}}/models/baselines", package_arn]),
                    "/opt/ml/processing/published",
                ),
                _s3_output("profile", PROFILE, "/opt/ml/processing/latest-profile"),
            ],
            arguments=["--model-package-arn", package_arn],
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
                left=JsonGet(
                    step_name=evaluate.name,
                    property_file=report,
                    json_path="binary_classification_metrics.{{metric}}.value",
                ),
                right=threshold,
            )
        ],
        if_steps=[register, publish],
        else_steps=[fail],
        depends_on=[model_quality, model_bias, explainability],
    )
    return Pipeline(
        name="{{pipeline_name}}",
        parameters=[input_uri, processing_type, training_type, threshold, skip_drift, new_baseline],
        steps=[
            validate,
            preprocess,
            data_quality,
            data_bias,
            train,
            evaluate,
            create_model,
            model_quality,
            model_bias,
            explainability,
            gate,
        ],
        sagemaker_session=session,
        pipeline_experiment_config=None,
    )
