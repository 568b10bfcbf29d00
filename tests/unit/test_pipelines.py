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

from components.pipelines import JobSecurityGroup, ModelApprovalNotifications, TrainingPipeline
from infra.offline import record
from pipelines.template import (
    KINDS,
    PLACEHOLDERS,
    fill,
    placeholders_in,
    source_archive,
    source_archive_base64,
    source_hash,
)
from tests.conftest import as_list, policy, statements
from tests.pipeline_checks import all_steps, request_errors, unresolved_references

KIND = KINDS["train-evaluate-register"]
TEMPLATE = KIND.template()
SCRIPTS = KIND.scripts()
KEY = "arn:aws:kms:eu-west-1:012345678901:key/1111"
TRAINING_ROLE = "arn:aws:iam::012345678901:role/mlops-platform-dev-training"
VALUES = {
    "pipeline_name": "mlops-platform-dev-churn",
    "role_arn": TRAINING_ROLE,
    "kms_key_arn": KEY,
    "raw_bucket": "raw-bucket",
    "curated_bucket": "curated-bucket",
    "artifacts_bucket": "artifacts-bucket",
    "source_hash": "0123456789abcdef",
    "subnet_ids": ["subnet-a", "subnet-b"],
    "security_group_ids": ["sg-jobs"],
    "processing_image_uri": "012345678901.dkr.ecr.eu-west-1.amazonaws.com/p/training:v1",
    "training_image_uri": "012345678901.dkr.ecr.eu-west-1.amazonaws.com/p/training:v1",
    "inference_image_uri": "012345678901.dkr.ecr.eu-west-1.amazonaws.com/p/serving:v1",
    "model_package_group": "churn-model",
    "processing_instance_type": "ml.m5.xlarge",
    "training_instance_type": "ml.p3.2xlarge",
    "metric": "auc",
    "metric_threshold": 0.8,
    "target_column": "churned",
}

IMAGE = "012345678901.dkr.ecr.eu-west-1.amazonaws.com/p-dev/{}:1"
"""An ECR image URI (the components accept only image URIs)."""


def test_template_uses_only_declared_placeholders_and_all_of_them():
    assert placeholders_in(TEMPLATE) == set(PLACEHOLDERS)


def test_every_get_reference_resolves():
    assert unresolved_references(TEMPLATE) == []
    assert unresolved_references(fill(TEMPLATE, VALUES)) == []


def test_reference_check_catches_a_dangling_reference():
    broken = json.loads(json.dumps(TEMPLATE).replace("Steps.Preprocess.", "Steps.Prepare."))
    assert "Steps.Prepare.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri" in unresolved_references(broken)


def test_template_has_the_four_steps_and_the_quality_gate():
    steps = {s["Name"]: s["Type"] for s in all_steps(TEMPLATE)}
    assert steps == {
        "Preprocess": "Processing",
        "Train": "Training",
        "Evaluate": "Processing",
        "MetricAboveThreshold": "Condition",
        "Register": "RegisterModel",
        "MetricBelowThreshold": "Fail",
    }
    gate = next(s for s in all_steps(TEMPLATE) if s["Type"] == "Condition")["Arguments"]
    assert [s["Name"] for s in gate["IfSteps"]] == ["Register"]
    assert [s["Name"] for s in gate["ElseSteps"]] == ["MetricBelowThreshold"]
    [condition] = gate["Conditions"]
    assert condition["RightValue"] == {"Get": "Parameters.MetricThreshold"}
    report = {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"}
    assert condition["LeftValue"]["Std:JsonGet"]["PropertyFile"] == report


def test_fill_expands_lists_types_numbers_and_substitutes_inside_strings():
    filled = fill(TEMPLATE, VALUES)
    train = next(s for s in all_steps(filled) if s["Name"] == "Train")["Arguments"]
    assert train["VpcConfig"] == {"SecurityGroupIds": ["sg-jobs"], "Subnets": ["subnet-a", "subnet-b"]}
    assert train["CheckpointConfig"]["S3Uri"] == "s3://artifacts-bucket/checkpoints/mlops-platform-dev-churn/"
    threshold = next(p for p in filled["Parameters"] if p["Name"] == "MetricThreshold")
    assert threshold["DefaultValue"] == 0.8 and isinstance(threshold["DefaultValue"], float)
    assert "{{" not in json.dumps(filled)


def test_fill_names_missing_and_unknown_placeholders():
    with pytest.raises(KeyError, match=r"without a value: \['target_column'\]"):
        fill(TEMPLATE, {k: v for k, v in VALUES.items() if k != "target_column"})
    with pytest.raises(KeyError, match=r"unknown: \['colour'\]"):
        fill({"a": "{{colour}}"}, VALUES)


def test_filled_steps_pass_botocores_request_validation():
    assert request_errors(fill(TEMPLATE, VALUES)) == {}


def test_request_validation_catches_a_bad_step():
    filled = fill(TEMPLATE, VALUES)
    train = next(s for s in all_steps(filled) if s["Name"] == "Train")["Arguments"]
    train["EnableManagedSpotTraining"] = "yes"
    train["ResourceConfig"]["InstanceCount"] = 0
    assert set(request_errors(filled)) == {"Train"}


def test_create_pipeline_request_with_the_filled_definition_is_valid():
    client = boto3.client("sagemaker", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    definition = json.dumps(fill(TEMPLATE, VALUES))
    request = {
        "PipelineName": VALUES["pipeline_name"],
        "PipelineDefinition": definition,
        "RoleArn": "arn:aws:iam::012345678901:role/mlops-platform-dev-pipeline-churn",
        "ClientRequestToken": "token-0123456789abcdef0123456789abcdef",
    }
    with Stubber(client) as stub:
        stub.add_response(
            "create_pipeline", {"PipelineArn": "arn:aws:sagemaker:eu-west-1:012345678901:pipeline/x"}, request
        )
        assert client.create_pipeline(**request)["PipelineArn"].endswith(":pipeline/x")
    assert len(definition) < 1024 * 1024


def test_source_archive_is_reproducible_and_holds_the_scripts():
    assert source_archive(SCRIPTS) == source_archive(SCRIPTS)
    with tarfile.open(fileobj=io.BytesIO(source_archive(SCRIPTS))) as tar:
        assert sorted(tar.getnames()) == ["evaluate.py", "preprocess.py", "train.py"]
        assert tar.extractfile("train.py").read().decode() == SCRIPTS["train.py"]
    assert source_hash(SCRIPTS) != source_hash({**SCRIPTS, "train.py": SCRIPTS["train.py"] + "\n# changed"})


def _script(name: str):
    spec = importlib.util.spec_from_file_location(f"script_{name}", KIND.scripts_path / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_evaluation_report_format_is_what_the_gate_and_registry_read():
    report = _script("evaluate").build_report(np.array([0, 0, 1, 1]), np.array([0.1, 0.6, 0.4, 0.9]))
    metrics = report["binary_classification_metrics"]
    assert set(metrics) == {"auc", "accuracy", "precision", "recall", "f1"}
    assert metrics["auc"] == {"value": 0.75, "standard_deviation": "NaN"}
    assert metrics["accuracy"]["value"] == 0.5
    assert report["test_samples"] == 4
    with pytest.raises(ValueError, match="same length"):
        _script("evaluate").build_report(np.array([0, 1]), np.array([0.5]))


def test_scripts_run_end_to_end_and_resume_from_a_checkpoint(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    frame = pd.DataFrame(x, columns=["tenure", "spend", "calls"])
    frame["churned"] = (x[:, 0] - x[:, 1] + rng.normal(scale=0.3, size=400) > 0).astype(int)
    frame["plan"] = "basic"  # non-numeric columns are dropped
    (tmp_path / "raw").mkdir()
    frame.to_csv(tmp_path / "raw" / "part-0.csv", index=False)

    _script("preprocess").main(
        ["--input-dir", str(tmp_path / "raw"), "--output-dir", str(tmp_path / "cur"), "--target", "churned"]
    )
    train = _script("train")
    common = [
        "--train",
        str(tmp_path / "cur/train"),
        "--validation",
        str(tmp_path / "cur/validation"),
        "--model-dir",
        str(tmp_path / "model"),
        "--checkpoint-dir",
        str(tmp_path / "ckpt"),
    ]
    train.main([*common, "--epochs", "5"])
    train.main([*common, "--epochs", "15"])
    assert "resuming from checkpoint after epoch 4" in capsys.readouterr().out
    with tarfile.open(tmp_path / "model" / "model.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "model" / "model.joblib", arcname="model.joblib")
    (tmp_path / "model" / "model.joblib").unlink()
    _script("evaluate").main(
        [
            "--model-dir",
            str(tmp_path / "model"),
            "--test-dir",
            str(tmp_path / "cur/test"),
            "--output-dir",
            str(tmp_path / "eval"),
        ]
    )

    report = json.loads((tmp_path / "eval" / "evaluation.json").read_text())
    gate_path = ["binary_classification_metrics", "auc", "value"]
    value = report
    for part in gate_path:
        value = value[part]
    assert value > 0.8  # a learnable signal is learned
    assert report["test_samples"] == 60


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
        "parameters": {
            k: VALUES[k]
            for k in (
                "processing_instance_type",
                "training_instance_type",
                "metric",
                "metric_threshold",
                "target_column",
            )
        },
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
    jobs = by_sid["RunJobsEncryptedInVpc"]["Condition"]
    assert jobs["StringEquals"] == {"sagemaker:VolumeKmsKey": KEY, "sagemaker:OutputKmsKey": KEY}
    assert by_sid["RegisterIntoModelGroup"]["Resource"] == [
        "arn:aws:sagemaker:eu-west-1:012345678901:model-package/churn-model/*",
        "arn:aws:sagemaker:eu-west-1:012345678901:model-package-group/churn-model",
    ]
    assert all("*" not in a for s in role_policy for a in as_list(s["Action"]))


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
    assert sorted(o.inputs["key"] for o in objects) == [
        prefix + f for f in ("evaluate.py", "preprocess.py", "sourcedir.tar.gz")
    ]
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
        ({"parameters": {"metric": "auc"}}, "the template needs values for metric_threshold, "),
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

    import pipelines.render as render_module
    from pipelines.template import PipelineKind

    @dataclasses.dataclass(frozen=True)
    class TmpKind(PipelineKind):
        root: Path = tmp_path

        @property
        def folder(self) -> Path:
            return self.root

    kind = TmpKind("train-evaluate-register")
    monkeypatch.setattr(render_module, "KINDS", {kind.name: kind})
    monkeypatch.setattr(render_module, "render", lambda k: {"Version": "2020-12-01", "Steps": []})
    kind.template_path.write_text('{"Version": "old"}\n')
    assert render_module.main(["--check"]) == 1
    assert "STALE" in capsys.readouterr().out
    assert render_module.main([]) == 0
    assert json.loads(kind.template_path.read_text()) == {"Version": "2020-12-01", "Steps": []}
    assert render_module.main(["--check"]) == 0


def test_render_environment_is_offline_and_restored(monkeypatch):
    import os
    import socket

    from pipelines.render import NetworkAttemptError, offline

    monkeypatch.setenv("AWS_PROFILE", "someone")
    with offline():
        assert os.environ["SAGEMAKER_VALIDATE_ROLE"] == "false" and "AWS_PROFILE" not in os.environ
        with socket.socket() as sock, pytest.raises(NetworkAttemptError, match="offline"):
            sock.connect(("127.0.0.1", 9))
    assert os.environ["AWS_PROFILE"] == "someone" and "SAGEMAKER_VALIDATE_ROLE" not in os.environ
