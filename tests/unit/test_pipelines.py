"""The pipeline template, its filling, the scripts, and the TrainingPipeline / notification components."""

from __future__ import annotations

import importlib.util
import io
import json
import tarfile

import boto3
import numpy as np
import pandas as pd
import pytest
from botocore.stub import Stubber
from mlops_platform.components import sagemaker_catalog as catalog
from mlops_platform.components.pipelines import (
    INSTANCE_STORE_TYPE_PATTERNS,
    FeatureGroupInput,
    JobSecurityGroup,
    ModelApprovalNotifications,
    TrainingPipeline,
)
from mlops_platform.infra.config.pipelines import training_storage
from mlops_platform.infra.tooling.offline import record
from mlops_platform.pipelines.template import (
    CODE_PREFIX,
    KINDS,
    LEGACY_PLACEHOLDERS,
    PLACEHOLDERS,
    STORAGE_KINDS,
    fill,
    placeholders_in,
    source_archive,
    source_archive_base64,
    source_hash,
)

from tests.conftest import as_list, policy, statements
from tests.pipeline_checks import all_steps, request_errors, unresolved_references

KIND = KINDS["train-evaluate-register"]
TEMPLATE = KIND.template("ebs")
TEMPLATES = {storage: KIND.template(storage) for storage in STORAGE_KINDS}
ASSETS = KIND.assets()
SCRIPTS = KIND.scripts()
KEY = "arn:aws:kms:eu-west-1:012345678901:key/1111"
TRAINING_ROLE = "arn:aws:iam::012345678901:role/mlops-platform-dev-training"
JOBS = "arn:aws:sagemaker:eu-west-1:012345678901:"
VALUES = {
    "pipeline_name": "mlops-platform-dev-churn",
    "role_arn": TRAINING_ROLE,
    "kms_key_arn": KEY,
    "input_data_uri": "s3://raw-bucket/mlops-platform-dev-churn/",
    "input_arguments": [],
    "curated_bucket": "curated-bucket",
    "artifacts_bucket": "artifacts-bucket",
    "source_hash": "0123456789abcdef",
    "subnet_ids": ["subnet-a", "subnet-b"],
    "security_group_ids": ["sg-jobs"],
    "processing_image_uri": "012345678901.dkr.ecr.eu-west-1.amazonaws.com/p/training:v1",
    "training_image_uri": "012345678901.dkr.ecr.eu-west-1.amazonaws.com/p/training:v1",
    "inference_image_uri": "012345678901.dkr.ecr.eu-west-1.amazonaws.com/p/serving:v1",
    "model_monitor_image_uri": catalog.model_monitor_image("eu-west-1"),
    "clarify_image_uri": catalog.clarify_image("eu-west-1"),
    "model_package_group": "churn-model",
    "processing_instance_type": "ml.m5.xlarge",
    "training_instance_type": "ml.p3.2xlarge",
    "metric": "auc",
    "metric_threshold": 0.8,
    "target_column": "churned",
    "skip_drift_checks": False,
    "bias_facet": "senior_citizen",
    "bias_facet_values": [1],
    "max_mean_shift": 3.0,
    "max_missing_increase": 0.1,
}
PER_PIPELINE = (
    "processing_instance_type", "training_instance_type", "metric", "metric_threshold", "target_column",
    "skip_drift_checks", "bias_facet", "bias_facet_values", "max_mean_shift", "max_missing_increase",
)  # fmt: skip
"""The placeholders a stack fills per pipeline (TrainingPipelineArgs.parameters)."""

IMAGE = "012345678901.dkr.ecr.eu-west-1.amazonaws.com/p-dev/{}:1"
"""An ECR image URI (the components accept only image URIs)."""


def filled(training_type: str) -> dict:
    """The definition a stack deploys for a training instance type: the variant of its storage kind."""
    template = TEMPLATES[training_storage(training_type)]
    return fill(template, {**VALUES, "training_instance_type": training_type})


def test_templates_use_only_declared_placeholders_and_all_of_them():
    for template in TEMPLATES.values():
        assert placeholders_in([template, ASSETS]) == set(PLACEHOLDERS) - LEGACY_PLACEHOLDERS


def test_every_get_join_and_execution_reference_resolves():
    for template in TEMPLATES.values():
        assert unresolved_references(template) == []
        assert unresolved_references(fill(template, VALUES)) == []


def test_reference_check_catches_a_dangling_reference():
    broken = json.loads(json.dumps(TEMPLATE).replace("Steps.Preprocess.", "Steps.Prepare."))
    assert "Steps.Prepare.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri" in unresolved_references(broken)
    broken = json.loads(json.dumps(TEMPLATE).replace("Execution.PipelineExecutionId", "Execution.RunId"))
    assert "Execution.RunId" in unresolved_references(broken)


def test_template_validates_data_checks_quality_and_bias_then_gates_registration():
    steps = {s["Name"]: s["Type"] for s in all_steps(TEMPLATE)}
    assert steps == {
        "ValidateData": "Processing",
        "Preprocess": "Processing",
        "DataQualityCheck": "QualityCheck",
        "DataBiasCheck": "ClarifyCheck",
        "Train": "Training",
        "Evaluate": "Processing",
        "CreateModel": "Model",
        "ModelQualityCheck": "QualityCheck",
        "ModelBiasCheck": "ClarifyCheck",
        "ModelExplainabilityCheck": "ClarifyCheck",
        "MetricAboveThreshold": "Condition",
        "Register": "RegisterModel",
        "PublishBaselines": "Processing",
        "MetricBelowThreshold": "Fail",
    }
    by_name = {s["Name"]: s for s in all_steps(TEMPLATE)}
    # Nothing is prepared from invalid data: Preprocess reads ValidateData's output (a data dependency), the
    # snapshot of the input it checked.
    [snapshot] = [i for i in by_name["Preprocess"]["Arguments"]["ProcessingInputs"] if i["InputName"] == "snapshot"]
    assert snapshot["S3Input"]["S3Uri"]["Get"].startswith("Steps.ValidateData.ProcessingOutputConfig.Outputs")
    assert set(by_name["Train"]["DependsOn"]) == {"DataQualityCheck", "DataBiasCheck"}
    gate = by_name["MetricAboveThreshold"]
    assert set(gate["DependsOn"]) == {"ModelQualityCheck", "ModelBiasCheck", "ModelExplainabilityCheck"}
    checks = [s for s in by_name.values() if s["Type"] in ("QualityCheck", "ClarifyCheck")]
    assert all(c["FailOnViolation"] is True and c["ModelPackageGroupName"] == "{{model_package_group}}" for c in checks)
    limits = "s3://{{artifacts_bucket}}/code/{{pipeline_name}}/config/bias-constraints.json"
    for name in ("DataBiasCheck", "ModelBiasCheck"):  # the configured limits, never skipped
        assert (by_name[name]["SuppliedBaselineConstraints"], by_name[name]["SkipCheck"]) == (limits, False)
        assert by_name[name]["RegisterNewBaseline"] is False  # the package's drift baseline is the limits
    arguments = gate["Arguments"]
    assert [s["Name"] for s in arguments["IfSteps"]] == ["Register", "PublishBaselines"]
    assert [s["Name"] for s in arguments["ElseSteps"]] == ["MetricBelowThreshold"]
    [condition] = arguments["Conditions"]
    assert condition["RightValue"] == {"Get": "Parameters.MetricThreshold"}
    report = {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"}
    assert condition["LeftValue"]["Std:JsonGet"]["PropertyFile"] == report


def test_registered_package_carries_every_baseline_its_monitors_need():
    register = next(s for s in all_steps(TEMPLATE) if s["Name"] == "Register")["Arguments"]
    drift, metrics = register["DriftCheckBaselines"], register["ModelMetrics"]
    assert drift["ModelDataQuality"]["Statistics"]["S3Uri"] == {
        "Get": "Steps.DataQualityCheck.BaselineUsedForDriftCheckStatistics"
    }
    assert drift["ModelQuality"]["Constraints"]["S3Uri"] == {
        "Get": "Steps.ModelQualityCheck.BaselineUsedForDriftCheckConstraints"
    }
    assert drift["Bias"]["PostTrainingConstraints"]["S3Uri"] == {
        "Get": "Steps.ModelBiasCheck.BaselineUsedForDriftCheckConstraints"
    }
    for config in (drift["Bias"]["ConfigFile"], drift["Explainability"]["ConfigFile"]):
        key = config["S3Uri"].removeprefix(CODE_PREFIX + "/")
        assert key in ASSETS  # the stack uploads the SDK's monitoring configuration there
    assert metrics["ModelQuality"]["Statistics"]["S3Uri"]["Std:Join"]["Values"][-1] == "evaluation.json"
    publish = next(s for s in all_steps(TEMPLATE) if s["Name"] == "PublishBaselines")["Arguments"]
    output = publish["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]["Std:Join"]
    assert output["Values"] == ["s3://{{artifacts_bucket}}/models/baselines", {"Get": "Steps.Register.ModelPackageArn"}]


def test_fill_expands_lists_types_numbers_and_substitutes_inside_strings():
    definition = fill(TEMPLATE, VALUES)
    train = next(s for s in all_steps(definition) if s["Name"] == "Train")["Arguments"]
    assert train["VpcConfig"] == {"SecurityGroupIds": ["sg-jobs"], "Subnets": ["subnet-a", "subnet-b"]}
    threshold = next(p for p in definition["Parameters"] if p["Name"] == "MetricThreshold")
    assert threshold["DefaultValue"] == 0.8 and isinstance(threshold["DefaultValue"], float)
    skip = next(p for p in definition["Parameters"] if p["Name"] == "SkipDriftChecks")
    assert skip["DefaultValue"] is False
    facet = fill(ASSETS, VALUES)["checks/data-bias/analysis_config.json"]["facet"]
    assert facet == [{"name_or_index": "senior_citizen", "value_or_threshold": [1]}]
    assert "{{" not in json.dumps(definition)


def test_checkpoints_are_per_execution():
    for template in TEMPLATES.values():
        train = next(s for s in all_steps(fill(template, VALUES)) if s["Name"] == "Train")["Arguments"]
        assert train["CheckpointConfig"]["S3Uri"] == {
            "Std:Join": {
                "On": "/",
                "Values": [
                    "s3://artifacts-bucket/checkpoints/mlops-platform-dev-churn",
                    {"Get": "Execution.PipelineExecutionId"},
                ],
            }
        }


def test_fill_names_missing_and_unknown_placeholders():
    with pytest.raises(KeyError, match=r"without a value: \['target_column'\]"):
        fill(TEMPLATE, {k: v for k, v in VALUES.items() if k != "target_column"})
    with pytest.raises(KeyError, match=r"unknown: \['colour'\]"):
        fill({"a": "{{colour}}"}, VALUES)


@pytest.mark.parametrize(
    ("training_type", "volume_key"),
    [("ml.g5.xlarge", False), ("ml.p3.2xlarge", True), ("ml.m5.xlarge", True), ("ml.p4d.24xlarge", False)],
)
def test_create_pipeline_accepts_nvme_gpu_ebs_gpu_and_cpu_types(training_type, volume_key):
    """NVMe GPU, EBS GPU and CPU: every step passes botocore's validation, the CreatePipeline request with the
    definition too, and the training volume key is set exactly where SageMaker accepts one."""
    definition = filled(training_type)
    assert request_errors(definition) == {}
    train = next(s for s in all_steps(definition) if s["Name"] == "Train")["Arguments"]
    assert ("VolumeKmsKeyId" in train["ResourceConfig"]) is volume_key
    assert train["OutputDataConfig"]["KmsKeyId"] == KEY  # outputs are always encrypted with the env key
    assert train["ResourceConfig"]["InstanceType"] == {"Get": "Parameters.TrainingInstanceType"}
    default = next(p for p in definition["Parameters"] if p["Name"] == "TrainingInstanceType")["DefaultValue"]
    assert default == training_type
    client = boto3.client("sagemaker", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    request = {
        "PipelineName": VALUES["pipeline_name"],
        "PipelineDefinition": json.dumps(definition),
        "RoleArn": "arn:aws:iam::012345678901:role/mlops-platform-dev-pipeline-churn",
        "ClientRequestToken": "token-0123456789abcdef0123456789abcdef",
    }
    with Stubber(client) as stub:
        stub.add_response(
            "create_pipeline", {"PipelineArn": "arn:aws:sagemaker:eu-west-1:012345678901:pipeline/x"}, request
        )
        assert client.create_pipeline(**request)["PipelineArn"].endswith(":pipeline/x")
    assert len(request["PipelineDefinition"]) < 1024 * 1024


def test_request_validation_catches_a_bad_step():
    definition = fill(TEMPLATE, VALUES)
    train = next(s for s in all_steps(definition) if s["Name"] == "Train")["Arguments"]
    train["EnableManagedSpotTraining"] = "yes"
    train["ResourceConfig"]["InstanceCount"] = 0
    check = next(s for s in all_steps(definition) if s["Name"] == "ModelBiasCheck")["Arguments"]
    check["ProcessingResources"]["ClusterConfig"]["InstanceCount"] = 0
    assert set(request_errors(definition)) == {"Train", "ModelBiasCheck"}


def test_source_archive_is_reproducible_and_holds_the_scripts():
    assert source_archive(SCRIPTS) == source_archive(SCRIPTS)
    with tarfile.open(fileobj=io.BytesIO(source_archive(SCRIPTS))) as tar:
        assert sorted(tar.getnames()) == [
            "evaluate.py",
            "input_data.py",
            "preprocess.py",
            "publish_baselines.py",
            "train.py",
            "validate.py",
        ]
        assert tar.extractfile("train.py").read().decode() == SCRIPTS["train.py"]
    assert source_hash(SCRIPTS) != source_hash({**SCRIPTS, "train.py": SCRIPTS["train.py"] + "\n# changed"})


def _script(name: str):
    spec = importlib.util.spec_from_file_location(f"script_{name}", KIND.scripts_path / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _churn_data(seed: int, rows: int = 400, *, weights=(1.0, -1.0)) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 3))
    frame = pd.DataFrame(x, columns=["tenure", "spend", "calls"])
    frame["senior_citizen"] = rng.integers(0, 2, size=rows)
    signal = weights[0] * x[:, 0] + weights[1] * x[:, 1] + rng.normal(scale=0.3, size=rows)
    frame["churned"] = (signal > 0).astype(int)
    frame["plan"] = "basic"  # non-numeric columns are dropped
    return frame


def _checkpoint_dir(root, execution_id: str):
    """The local mirror of the Train step's checkpoint URI for one execution (the URI as Pipelines resolves it)."""
    train = next(s for s in all_steps(fill(TEMPLATE, VALUES)) if s["Name"] == "Train")["Arguments"]
    join = train["CheckpointConfig"]["S3Uri"]["Std:Join"]
    parts = [execution_id if v == {"Get": "Execution.PipelineExecutionId"} else v for v in join["Values"]]
    return root / join["On"].join(parts).removeprefix("s3://")


def _execute(root, execution_id: str, data: pd.DataFrame, *, epochs: int = 8) -> dict:
    """Run one execution's scripts the way the pipeline chains them; returns the evaluation report."""
    run = root / execution_id
    (run / "raw").mkdir(parents=True)
    data.to_csv(run / "raw" / "part-0.csv", index=False)
    _script("validate").main(["--input-dir", str(run / "raw"), "--output-dir", str(run / "profile"),
                              "--previous-profile", str(root / "latest-profile" / "profile.json"),
                              "--target", "churned"])  # fmt: skip
    _script("preprocess").main(["--input-dir", str(run / "raw"), "--output-dir", str(run / "cur"),
                                "--target", "churned"])  # fmt: skip
    _script("train").main(["--train", str(run / "cur/train"), "--validation", str(run / "cur/validation"),
                           "--model-dir", str(run / "model"), "--epochs", str(epochs),
                           "--checkpoint-dir", str(_checkpoint_dir(root, execution_id))])  # fmt: skip
    with tarfile.open(run / "model" / "model.tar.gz", "w:gz") as tar:
        tar.add(run / "model" / "model.joblib", arcname="model.joblib")
    (run / "model" / "model.joblib").unlink()
    _script("evaluate").main(["--model-dir", str(run / "model"), "--test-dir", str(run / "cur/test"),
                              "--output-dir", str(run / "eval"), "--predictions-dir", str(run / "pred")])  # fmt: skip
    return json.loads((run / "eval" / "evaluation.json").read_text())


def _json_path(document: dict, path: str):
    for part in path.split("."):
        document = document[part]
    return document


def test_two_executions_on_different_data_train_different_models(tmp_path, capsys):
    """The regression for the reused checkpoint: the second execution trains on its own data from epoch 0."""
    first = _execute(tmp_path, "exec-1", _churn_data(0))
    second = _execute(tmp_path, "exec-2", _churn_data(1, weights=(1.0, -0.2)))
    out = capsys.readouterr().out
    assert "resuming from checkpoint" not in out
    assert out.count("epoch=0 ") == 2  # both executions started from scratch
    first_model = (tmp_path / "exec-1" / "model" / "model.joblib").read_bytes()
    second_model = (tmp_path / "exec-2" / "model" / "model.joblib").read_bytes()
    assert first_model != second_model
    gate = next(s for s in all_steps(fill(TEMPLATE, VALUES)) if s["Name"] == "MetricAboveThreshold")
    path = gate["Arguments"]["Conditions"][0]["LeftValue"]["Std:JsonGet"]["Path"]
    for report in (first, second):
        assert _json_path(report, path) > 0.8  # the value the condition step reads, and a learnable signal
        assert report["test_samples"] == 60


def test_spot_resumption_within_one_execution_continues_from_its_checkpoint(tmp_path, capsys):
    data = _churn_data(0)
    (tmp_path / "raw").mkdir()
    data.to_csv(tmp_path / "raw" / "part-0.csv", index=False)
    _script("preprocess").main(["--input-dir", str(tmp_path / "raw"), "--output-dir", str(tmp_path / "cur"),
                                "--target", "churned"])  # fmt: skip
    common = [
        "--train",
        str(tmp_path / "cur/train"),
        "--validation",
        str(tmp_path / "cur/validation"),
        "--model-dir",
        str(tmp_path / "model"),
        "--checkpoint-dir",
        str(_checkpoint_dir(tmp_path, "exec-1")),
    ]
    _script("train").main([*common, "--epochs", "5"])  # interrupted after epoch 4
    _script("train").main([*common, "--epochs", "15"])  # the restarted job of the same execution
    assert "resuming from checkpoint after epoch 4" in capsys.readouterr().out


def test_evaluation_outputs_are_what_the_gate_registry_and_model_quality_check_read(tmp_path):
    report = _execute(tmp_path, "exec-1", _churn_data(0))
    gate = next(s for s in all_steps(TEMPLATE) if s["Name"] == "MetricAboveThreshold")["Arguments"]
    path = gate["Conditions"][0]["LeftValue"]["Std:JsonGet"]["Path"]
    for metric in ("auc", "accuracy", "precision", "recall", "f1"):  # every metric the config accepts
        assert isinstance(_json_path(report, path.replace("{{metric}}", metric)), float)
    check = next(s for s in all_steps(TEMPLATE) if s["Name"] == "ModelQualityCheck")["Arguments"]["Environment"]
    predictions = pd.read_csv(tmp_path / "exec-1" / "pred" / "predictions.csv")
    for attribute in ("inference_attribute", "probability_attribute", "ground_truth_attribute"):
        assert check[attribute] in predictions.columns
    assert len(predictions) == report["test_samples"]
    labelled = pd.read_csv(tmp_path / "exec-1" / "cur" / "labelled" / "labelled.csv")
    assert {"churned", "senior_citizen"} <= set(labelled.columns)  # the Clarify checks name label and facet
    baseline = np.loadtxt(tmp_path / "exec-1" / "cur" / "baseline" / "baseline.csv", delimiter=",", ndmin=2)
    assert baseline.shape[1] == len(labelled.columns) - 1  # a request's features: no label
    # The endpoint answers with the positive-class score the monitors read as ProbabilityAttribute "0".
    train = _script("train")
    model = train.model_fn(str(tmp_path / "exec-1" / "model"))
    scores = train.predict_fn(baseline[:3], model)
    assert scores.shape == (3,) and ((scores >= 0) & (scores <= 1)).all()


def test_data_validation_fails_on_a_shifted_schema_or_distribution_and_passes_new_data_like_the_old(tmp_path):
    validate = _script("validate")
    before = validate.profile(_churn_data(0), "churned")
    assert validate.violations(before, validate.profile(_churn_data(1), "churned"), 3.0, 0.1) == []
    renamed = _churn_data(1).rename(columns={"spend": "monthly_spend"})
    found = validate.violations(before, validate.profile(renamed, "churned"), 3.0, 0.1)
    assert found == ["column 'spend' is missing", "column 'monthly_spend' is new"]
    retyped = _churn_data(1).assign(calls=lambda f: f["calls"].map(lambda v: f"{v:.1f} calls"))
    assert validate.violations(before, validate.profile(retyped, "churned"), 3.0, 0.1) == [
        "column 'calls' changed from numeric to text"
    ]
    shifted = _churn_data(1).assign(tenure=lambda f: f["tenure"] + 10)
    [moved] = validate.violations(before, validate.profile(shifted, "churned"), 3.0, 0.1)
    assert moved.startswith("column 'tenure': mean moved") and "(limit 3.0)" in moved
    gappy = _churn_data(1)
    gappy.loc[: len(gappy) // 2, "spend"] = np.nan
    [missing] = validate.violations(before, validate.profile(gappy, "churned"), 3.0, 0.1)
    assert missing.startswith("column 'spend': missing values rose from 0.0% to 50.")


PACKAGE_ARN = "arn:aws:sagemaker:eu-west-1:1:model-package/g/1"


def test_the_validation_step_stops_the_execution_and_publish_files_the_baselines_monitors_read(tmp_path, capsys):
    from mlops_platform.components.model_monitoring import BASELINE_FILES

    _execute(tmp_path, "exec-1", _churn_data(0))
    # PublishBaselines after registration: the check outputs filed under the package, the profile made current.
    baselines = tmp_path / "baselines"
    for check, kind in (f.removesuffix(".json").split("/") for f in BASELINE_FILES.values()):
        (baselines / check / kind).mkdir(parents=True)
        (baselines / check / kind / "from-the-check.json").write_text(
            json.dumps({"check": check, "kind": kind, "label": "churned"})
        )
    _script("publish_baselines").main(["--baselines-dir", str(baselines), "--published-dir", str(tmp_path / "pub"),
                                       "--labelled-dir", str(tmp_path / "exec-1" / "cur" / "labelled"),
                                       "--profile-dir", str(tmp_path / "exec-1" / "profile"),
                                       "--latest-profile-dir", str(tmp_path / "latest-profile"),
                                       "--model-package-arn", PACKAGE_ARN])  # fmt: skip
    for file in BASELINE_FILES.values():
        assert json.loads((tmp_path / "pub" / file).read_text())["check"] == file.split("/")[0]
    # Captured requests have no header: the bias monitor's configuration names the request's columns in order.
    bias_config = json.loads((tmp_path / "pub" / BASELINE_FILES["model_bias_config"]).read_text())
    assert bias_config["headers"] == ["tenure", "spend", "calls", "senior_citizen"]
    # The next execution's data lost a column: validation fails the job before preprocessing.
    with pytest.raises(SystemExit) as stopped:
        _execute(tmp_path, "exec-2", _churn_data(1).drop(columns=["calls"]))
    assert stopped.value.code == 1
    assert "column 'calls' is missing" in capsys.readouterr().err
    assert not (tmp_path / "exec-2" / "cur").exists()


def _pipeline_args(**overrides):
    return {
        "pipeline_name": "mlops-platform-dev-churn",
        "template": TEMPLATE,
        "scripts": SCRIPTS,
        "source_archive_base64": source_archive_base64(SCRIPTS),
        "source_hash": source_hash(SCRIPTS),
        "account_id": "012345678901",
        "region": "eu-west-1",
        "role_name": "mlops-platform-dev-pipeline-churn",
        "execution_role_arn": TRAINING_ROLE,
        "kms_key_arn": KEY,
        "raw_bucket": "raw-bucket",
        "curated_bucket": "curated-bucket",
        "artifacts_bucket": "artifacts-bucket",
        "subnet_ids": ["subnet-a", "subnet-b"],
        "security_group_ids": ["sg-jobs"],
        "model_package_group_name": "churn-model",
        "images": {
            "processing": IMAGE.format("processing"),
            "training": IMAGE.format("training"),
            "inference": IMAGE.format("inference"),
        },
        "assets": ASSETS,
        "config_files": {"bias-constraints.json": {"version": "1.0"}},
        "parameters": {k: VALUES[k] for k in PER_PIPELINE},
        **overrides,
    }


@pytest.fixture(scope="module")
def pipeline_plan():
    return record(lambda: TrainingPipeline("p", _pipeline_args(schedule_expression="rate(1 day)")) and None)


def test_pipeline_role_passes_only_the_training_role_and_reads_only_its_prefix(pipeline_plan):
    role_policy = statements(policy(pipeline_plan.get("aws:iam/rolePolicy:RolePolicy", "p-role-policy")))
    by_sid = {s["Sid"]: s for s in role_policy}
    assert by_sid["PassExecutionRole"]["Resource"] == TRAINING_ROLE
    passed_to = by_sid["PassExecutionRole"]["Condition"]["StringEquals"]["iam:PassedToService"]
    assert passed_to == "sagemaker.amazonaws.com"

    def resources(service):
        return [
            r
            for s in role_policy
            if any(a.startswith(service) for a in as_list(s["Action"]))
            for r in as_list(s["Resource"])
        ]

    s3 = resources("s3:")
    assert s3 == ["arn:aws:s3:::artifacts-bucket/pipelines/mlops-platform-dev-churn/*", "arn:aws:s3:::artifacts-bucket"]
    assert set(resources("kms:")) == {KEY}
    jobs = by_sid["RunJobsEncryptedInVpc"]
    assert jobs["Condition"]["StringEquals"] == {"sagemaker:VolumeKmsKey": KEY, "sagemaker:OutputKmsKey": KEY}
    assert jobs["Resource"] == [
        "arn:aws:sagemaker:eu-west-1:012345678901:processing-job/*",
        "arn:aws:sagemaker:eu-west-1:012345678901:training-job/*",
    ]
    assert "TrainOnInstanceStoreEncryptedInVpc" not in by_sid  # the EBS variant always sets the volume key
    # Jobs and the checks' model only in the VPC and only in the pipeline's own security groups (none: refused).
    only_job_groups = {"sagemaker:VpcSecurityGroupIds": ["sg-jobs"]}
    for sid in ("RunJobsEncryptedInVpc", "CreateCheckModelInVpc"):
        condition = by_sid[sid]["Condition"]
        assert condition["ForAllValues:StringEquals"] == only_job_groups, sid
        assert condition["Null"] == {"sagemaker:VpcSubnets": "false", "sagemaker:VpcSecurityGroupIds": "false"}, sid
    assert by_sid["RegisterIntoModelGroup"]["Resource"] == [
        "arn:aws:sagemaker:eu-west-1:012345678901:model-package/churn-model/*",
        "arn:aws:sagemaker:eu-west-1:012345678901:model-package-group/churn-model",
    ]
    assert all("*" not in a for s in role_policy for a in as_list(s["Action"]))


def test_nvme_variant_lets_the_pipeline_train_without_volume_key_only_on_local_storage_types():
    plan = record(lambda: TrainingPipeline("p", _pipeline_args(template=TEMPLATES["instance-store"])) and None)
    by_sid = {s["Sid"]: s for s in statements(policy(plan.get("aws:iam/rolePolicy:RolePolicy", "p-role-policy")))}
    nvme = by_sid["TrainOnInstanceStoreEncryptedInVpc"]
    assert nvme["Action"] == "sagemaker:CreateTrainingJob"
    assert nvme["Condition"]["StringEquals"] == {"sagemaker:OutputKmsKey": KEY}
    assert nvme["Condition"]["Null"]["sagemaker:VolumeKmsKey"] == "true"
    assert by_sid["RunJobsEncryptedInVpc"]["Resource"] == ["arn:aws:sagemaker:eu-west-1:012345678901:processing-job/*"]

    # Local-storage training, too, only in the pipeline's own security group.
    from mlops_platform.policies.iam_eval import Decision, Principal, Request, decide

    document = {"Version": "2012-10-17", "Statement": list(by_sid.values())}
    role = Principal("arn:aws:iam::012345678901:role/p", [document])
    nvme_job = {
        "sagemaker:OutputKmsKey": KEY,
        "sagemaker:VpcSubnets": ["subnet-a"],
        "sagemaker:InstanceTypes": ["ml.g5.xlarge"],
        "sagemaker:InterContainerTrafficEncryption": True,
    }

    def trains(groups: list[str] | None) -> Decision:
        context = nvme_job if groups is None else {**nvme_job, "sagemaker:VpcSecurityGroupIds": groups}
        return decide(role, Request(role.arn, "sagemaker:CreateTrainingJob", f"{JOBS}training-job/x", context))

    assert trains(["sg-jobs"]) is Decision.ALLOW
    assert trains(["sg-default"]) is Decision.IMPLICIT_DENY
    assert trains(["sg-jobs", "sg-default"]) is Decision.IMPLICIT_DENY
    assert trains(None) is Decision.IMPLICIT_DENY


def test_instance_store_patterns_match_exactly_the_local_nvme_training_types():
    import fnmatch

    for instance_type in catalog.training_instance_types():
        matched = any(fnmatch.fnmatchcase(instance_type, p) for p in INSTANCE_STORE_TYPE_PATTERNS)
        assert matched is catalog.has_local_nvme(instance_type), instance_type


def test_pipeline_and_schedule_roles_are_capped_by_the_boundary(pipeline_plan):
    boundary = pipeline_plan.get("aws:iam/policy:Policy", "p-boundary")
    roles = pipeline_plan.of_type("aws:iam/role:Role")
    assert {r.name for r in roles} == {"p-role", "p-schedule-role"}
    assert boundary.inputs["name"] == "mlops-platform-dev-pipeline-churn-boundary"
    assert {r.inputs["permissionsBoundary"] for r in roles} == {
        "arn:aws:iam::123456789012:policy/mlops-platform-dev-pipeline-churn-boundary"
    }
    trusts = {r.name: statements(policy(r, "assumeRolePolicy"))[0]["Principal"]["Service"] for r in roles}
    assert trusts == {"p-role": "sagemaker.amazonaws.com", "p-schedule-role": "scheduler.amazonaws.com"}
    denies = [s for s in statements(policy(boundary)) if s["Effect"] == "Deny"]
    assert "iam:Put*" in denies[0]["Action"] and "kms:PutKeyPolicy" in denies[0]["Action"]


def test_schedule_may_only_start_this_pipeline(pipeline_plan):
    [allowed] = statements(policy(pipeline_plan.get("aws:iam/rolePolicy:RolePolicy", "p-schedule-role-policy")))
    assert allowed["Action"] == "sagemaker:StartPipelineExecution"
    assert allowed["Resource"] == "arn:aws:sagemaker:eu-west-1:012345678901:pipeline/mlops-platform-dev-churn"
    schedule = pipeline_plan.get("aws:scheduler/schedule:Schedule", "p-schedule")
    assert schedule.inputs["scheduleExpression"] == "rate(1 day)"
    assert schedule.inputs["flexibleTimeWindow"] == {"mode": "OFF"}


def test_code_is_uploaded_encrypted_under_the_source_hash_before_the_pipeline(pipeline_plan):
    objects = pipeline_plan.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
    prefix = f"code/mlops-platform-dev-churn/{source_hash(SCRIPTS)}/"
    scripts = ("evaluate.py", "input_data.py", "preprocess.py", "publish_baselines.py", "sourcedir.tar.gz",
               "validate.py")  # fmt: skip
    checks = [k for k in ASSETS if f"{{{{source_hash}}}}/{k}" in json.dumps(TEMPLATE)]
    assert len(checks) == 5  # 3 analysis configurations + the 2 monitoring configurations the package names
    assert sorted(o.inputs["key"] for o in objects) == sorted(
        [prefix + f for f in (*scripts, *checks)] + ["code/mlops-platform-dev-churn/config/bias-constraints.json"]
    )
    assert all((o.inputs["serverSideEncryption"], o.inputs["kmsKeyId"]) == ("aws:kms", KEY) for o in objects)
    pipeline = pipeline_plan.get("aws:sagemaker/pipeline:Pipeline", "p-pipeline")
    assert {o.urn for o in objects} <= set(pipeline.options["depends_on"])
    definition = pipeline.inputs["pipelineDefinition"]
    assert f"s3://artifacts-bucket/{prefix}preprocess.py" in definition
    assert f"s3://artifacts-bucket/{prefix}sourcedir.tar.gz" in definition


def test_an_external_boundary_replaces_the_pipelines_own():
    boundary = "arn:aws:iam::012345678901:policy/mlops-platform-dev-persona-boundary"
    plan = record(
        lambda: (
            TrainingPipeline("p", _pipeline_args(schedule_expression="rate(1 day)", permissions_boundary_arn=boundary))
            and None
        )
    )
    assert not plan.of_type("aws:iam/policy:Policy")
    assert {r.inputs["permissionsBoundary"] for r in plan.of_type("aws:iam/role:Role")} == {boundary}


OFFLINE_STORE = (
    "s3://features-bucket/feature-store/012345678901/sagemaker/eu-west-1/offline-store/p-churn-1767225600/data"
)


def _definition(plan) -> dict:
    return json.loads(plan.get("aws:sagemaker/pipeline:Pipeline", "p-pipeline").inputs["pipelineDefinition"])


def test_a_feature_group_input_replaces_the_raw_prefix_and_tells_validation_its_format():
    source = FeatureGroupInput(OFFLINE_STORE, "customer_id", "event_time")
    definition = _definition(record(lambda: TrainingPipeline("p", _pipeline_args(feature_group_input=source)) and None))
    defaults = {p["Name"]: p["DefaultValue"] for p in definition["Parameters"]}
    assert defaults["InputDataUri"] == OFFLINE_STORE
    validate = next(s for s in all_steps(definition) if s["Name"] == "ValidateData")["Arguments"]
    assert validate["AppSpecification"]["ContainerArguments"][-5:] == [
        "--offline-store", "--record-identifier", "customer_id", "--event-time", "event_time",
    ]  # fmt: skip
    csv = _definition(record(lambda: TrainingPipeline("p", _pipeline_args()) and None))
    assert {p["Name"]: p["DefaultValue"] for p in csv["Parameters"]}["InputDataUri"] == (
        "s3://raw-bucket/mlops-platform-dev-churn/"
    )


def test_a_template_rendered_by_an_earlier_release_still_deploys_but_cannot_read_a_feature_group():
    """Templates of 0.2 name their input `s3://{{raw_bucket}}/{{pipeline_name}}/` and carry no input options."""
    legacy = json.loads(
        json.dumps(TEMPLATE)
        .replace('"{{input_data_uri}}"', '"s3://{{raw_bucket}}/{{pipeline_name}}/"')
        .replace(', "{{input_arguments}}"', "")
    )
    assert {"input_data_uri", "input_arguments"}.isdisjoint(placeholders_in(legacy))
    definition = _definition(record(lambda: TrainingPipeline("p", _pipeline_args(template=legacy)) and None))
    assert definition["Parameters"][0]["DefaultValue"] == "s3://raw-bucket/mlops-platform-dev-churn/"
    source = FeatureGroupInput(OFFLINE_STORE, "customer_id", "event_time")
    with pytest.raises(ValueError, match="feature_group_input needs a template that reads its input through"):
        record(lambda: TrainingPipeline("p", _pipeline_args(template=legacy, feature_group_input=source)) and None)


def test_no_schedule_without_an_expression():
    plan = record(lambda: TrainingPipeline("p", _pipeline_args()) and None)
    assert not plan.of_type("aws:scheduler/schedule:Schedule")
    assert len(plan.of_type("aws:iam/role:Role")) == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"pipeline_name": "bad_name"}, "pipeline_name 'bad_name' must be 1-256 letters, digits and hyphens"),
        ({"role_name": "r" * 65}, "role_name"),
        (
            {
                "images": {
                    "processing": IMAGE.format("processing"),
                    "training": IMAGE.format("training"),
                }
            },
            "images lacks inference",
        ),
        ({"parameters": {"metric": "auc"}}, "the template needs values for bias_facet, bias_facet_values, "),
        ({"parameters": {**_pipeline_args()["parameters"], "colour": "x"}}, "parameters ['colour'] are not"),
        ({"scripts": {}}, "scripts is empty"),
    ],
)
def test_bad_args_fail_before_registering(overrides, message):
    with pytest.raises(ValueError, match=None) as caught:
        record(lambda: TrainingPipeline("p", _pipeline_args(**overrides)) and None)
    assert message in str(caught.value)


def test_approval_rule_matches_the_group_and_notifies_the_topic():
    topic = "arn:aws:sns:eu-west-1:012345678901:alerts"
    plan = record(
        lambda: (
            ModelApprovalNotifications(
                "a",
                {
                    "rule_name": "p-dev-churn-model-approvals",
                    "model_package_group_name": "churn-model",
                    "topic_arn": topic,
                },
            )
            and None
        )
    )
    rule = plan.get("aws:cloudwatch/eventRule:EventRule", "a-rule")
    assert rule.inputs["name"] == "p-dev-churn-model-approvals"
    pattern = json.loads(rule.inputs["eventPattern"])
    assert pattern == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelPackageGroupName": ["churn-model"], "ModelApprovalStatus": ["Approved"]},
    }
    target = plan.get("aws:cloudwatch/eventTarget:EventTarget", "a-to-topic")
    assert target.inputs["arn"] == topic
    assert "<version>" in target.inputs["inputTransformer"]["inputTemplate"]
    with pytest.raises(ValueError, match="statuses"):
        record(
            lambda: (
                ModelApprovalNotifications(
                    "b",
                    {"rule_name": "r", "model_package_group_name": "g", "topic_arn": topic, "statuses": ["Deleted"]},
                )
                and None
            )
        )


def test_job_security_group_has_no_open_ingress_and_https_only_egress():
    plan = record(
        lambda: (
            JobSecurityGroup("j", {"vpc_id": "vpc-1", "vpc_cidr": "10.0.0.0/16", "s3_prefix_list_id": "pl-1"}) and None
        )
    )
    ingress = plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert [r.inputs["referencedSecurityGroupId"] for r in ingress] == ["j-sg-id"]
    egress = {r.name: r.inputs for r in plan.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")}
    assert egress["j-https-vpc"]["cidrIpv4"] == "10.0.0.0/16" and egress["j-https-s3"]["prefixListId"] == "pl-1"
    assert all(e.get("cidrIpv4") != "0.0.0.0/0" for e in egress.values())
    assert {e.get("fromPort") for n, e in egress.items() if n != "j-to-self"} == {443}


def test_render_check_fails_on_a_stale_template_and_render_fixes_it(tmp_path, monkeypatch, capsys):
    import dataclasses
    from pathlib import Path

    import mlops_platform.pipelines.render as render_module
    from mlops_platform.pipelines.template import PipelineKind

    @dataclasses.dataclass(frozen=True)
    class TmpKind(PipelineKind):
        root: Path = tmp_path

        @property
        def folder(self) -> Path:
            return self.root

    kind = TmpKind("train-evaluate-register")
    monkeypatch.setattr(render_module, "KINDS", {kind.name: kind})
    monkeypatch.setattr(
        render_module, "render_with_assets", lambda k, storage: ({"Version": "2020-12-01", "Steps": [storage]}, {})
    )
    kind.template_path_for("ebs").write_text('{"Version": "old"}\n')
    assert render_module.main(["--check"]) == 1
    assert "STALE" in capsys.readouterr().out
    assert render_module.main([]) == 0
    for storage in STORAGE_KINDS:
        assert json.loads(kind.template_path_for(storage).read_text())["Steps"] == [storage]
    assert render_module.main(["--check"]) == 0


def test_render_environment_is_offline_and_restored(monkeypatch):
    import os
    import socket

    from mlops_platform.pipelines.render import NetworkAttemptError, offline

    monkeypatch.setenv("AWS_PROFILE", "someone")
    with offline():
        assert os.environ["SAGEMAKER_VALIDATE_ROLE"] == "false" and "AWS_PROFILE" not in os.environ
        with socket.socket() as sock, pytest.raises(NetworkAttemptError, match="offline"):
            sock.connect(("127.0.0.1", 9))
    assert os.environ["AWS_PROFILE"] == "someone" and "SAGEMAKER_VALIDATE_ROLE" not in os.environ
