"""The loop closes in each stack: monitors read the baselines the pipeline files for the served package, speak
to the alert topic, and new data or drift start the pipeline through a role that can only start it."""

from __future__ import annotations

import json

import pytest
from botocore.validate import ParamValidator
from mlops_platform.components.model_monitoring import BASELINE_FILES
from mlops_platform.infra.config import PROJECT
from mlops_platform.infra.tooling.offline import stack_config
from mlops_platform.pipelines.template import KINDS

from tests.conftest import STACKS, as_list, plan_for, policy, statements
from tests.pipeline_checks import all_steps, sagemaker_model

SCHEDULE = "aws:sagemaker/monitoringSchedule:MonitoringSchedule"
CLOUD_CONTROL = "aws:cloudcontrol/resource:Resource"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"


def endpoints(stack: str) -> list[dict]:
    return json.loads(stack_config(stack).get(f"{PROJECT}:endpoints", "[]"))


def pipelines(stack: str) -> list[dict]:
    return json.loads(stack_config(stack).get(f"{PROJECT}:pipelines", "[]"))


def monitored(stack: str) -> list[dict]:
    return [e for e in endpoints(stack) if e.get("monitoring")]


def baseline_package(endpoint: dict) -> str:
    wanted = endpoint["monitoring"].get("baseline_variant")
    variants = endpoint["variants"]
    variant = next(v for v in variants if v["name"] == wanted) if wanted else max(variants, key=lambda v: v["weight"])
    return variant["model_package_arn"]


def test_prod_monitors_its_ab_test_from_the_champions_package():
    [churn] = monitored("prod")
    assert churn["name"] == "churn" and baseline_package(churn).endswith("/churn-model/12")


@pytest.mark.parametrize("stack", STACKS)
def test_monitors_read_the_baselines_the_pipeline_files_for_the_served_package(stack):
    plan = plan_for(stack)
    artifacts = plan.outputs["buckets"]["artifacts"]
    # Where PublishBaselines files them: s3://<artifacts>/models/baselines/<the registered package's ARN>/...
    publish = next(s for s in all_steps(KINDS["train-evaluate-register"].template()) if s["Name"] == "PublishBaselines")
    output = publish["Arguments"]["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]["Std:Join"]
    assert output["Values"] == ["s3://{{artifacts_bucket}}/models/baselines", {"Get": "Steps.Register.ModelPackageArn"}]
    for endpoint in monitored(stack):
        prefix = f"s3://{artifacts}/models/baselines/{baseline_package(endpoint)}/"
        name = f"monitors-{endpoint['name']}"
        data = plan.get("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition", f"{name}-data-quality")
        baseline = data.inputs["dataQualityBaselineConfig"]
        assert baseline["statisticsResource"]["s3Uri"] == prefix + BASELINE_FILES["data_quality_statistics"]
        assert baseline["constraintsResource"]["s3Uri"] == prefix + BASELINE_FILES["data_quality_constraints"]
        quality = json.loads(plan.get(CLOUD_CONTROL, f"{name}-model-quality").inputs["desiredState"])
        assert quality["ModelQualityBaselineConfig"]["ConstraintsResource"]["S3Uri"] == (
            prefix + BASELINE_FILES["model_quality_constraints"]
        )
        bias = json.loads(plan.get(CLOUD_CONTROL, f"{name}-model-bias").inputs["desiredState"])
        assert bias["ModelBiasBaselineConfig"]["ConstraintsResource"]["S3Uri"] == (
            prefix + BASELINE_FILES["model_bias_constraints"]
        )
        assert bias["ModelBiasAppSpecification"]["ConfigUri"] == prefix + BASELINE_FILES["model_bias_config"]
        # The monitors run as the inference role, which may read models/ (and nothing is read elsewhere).
        inference = statements(policy(plan.get("aws:iam/rolePolicy:RolePolicy", "personas-inference-policy")))
        readable = {r for s in inference if "s3:GetObject" in as_list(s["Action"]) for r in as_list(s["Resource"])}
        assert f"arn:aws:s3:::{artifacts}/models/*" in readable


@pytest.mark.parametrize("stack", STACKS)
def test_model_quality_and_bias_definitions_are_valid_api_requests_in_the_vpc_with_the_env_key(stack):
    plan = plan_for(stack)
    key = plan.outputs["data_key_arn"]
    for endpoint in monitored(stack):
        for kind, shape in (("model-quality", "CreateModelQualityJobDefinitionRequest"),
                            ("model-bias", "CreateModelBiasJobDefinitionRequest")):  # fmt: skip
            resource = plan.get(CLOUD_CONTROL, f"monitors-{endpoint['name']}-{kind}")
            request = json.loads(resource.inputs["desiredState"])
            report = ParamValidator().validate(request, sagemaker_model().shape_for(shape))
            assert not report.has_errors(), report.generate_report()
            assert request["JobResources"]["ClusterConfig"]["VolumeKmsKeyId"] == key
            output = request["ModelQualityJobOutputConfig" if kind == "model-quality" else "ModelBiasJobOutputConfig"]
            assert output["KmsKeyId"] == key
            assert request["NetworkConfig"]["VpcConfig"]["Subnets"] == plan.outputs["private_subnet_ids"]
            assert request["NetworkConfig"]["EnableNetworkIsolation"] is True
            assert request["RoleArn"] == plan.outputs["roles"]["inference"]
            assert request["JobDefinitionName"].startswith(f"{PROJECT}-{stack}-")


@pytest.mark.parametrize("stack", STACKS)
def test_schedules_run_each_monitor_on_its_definition(stack):
    plan = plan_for(stack)
    for endpoint in monitored(stack):
        name = f"monitors-{endpoint['name']}"
        schedules = {s.inputs["monitoringScheduleConfig"]["monitoringType"]: s for s in plan.of_type(SCHEDULE)
                     if s.parent and name in s.parent}  # fmt: skip
        assert set(schedules) == {"DataQuality", "ModelQuality", "ModelBias"}
        quality = json.loads(plan.get(CLOUD_CONTROL, f"{name}-model-quality").inputs["desiredState"])
        config = schedules["ModelQuality"].inputs["monitoringScheduleConfig"]
        assert config["monitoringJobDefinitionName"] == quality["JobDefinitionName"]


@pytest.mark.parametrize("stack", STACKS)
def test_alarms_and_violation_rules_reach_the_alert_topic(stack):
    plan = plan_for(stack)
    topic = plan.outputs["alert_topic_arn"]
    for endpoint in monitored(stack):
        name = f"monitors-{endpoint['name']}"
        monitoring = endpoint["monitoring"]
        if "quality_alarm_minimum" in monitoring:
            alarm = plan.get("aws:cloudwatch/metricAlarm:MetricAlarm", f"{name}-quality-alarm").inputs
            assert (alarm["metricName"], alarm["threshold"]) == (
                monitoring.get("quality_alarm_metric", "auc"),
                monitoring["quality_alarm_minimum"],
            )
            assert alarm["comparisonOperator"] == "LessThanThreshold"
            assert alarm["alarmActions"] == [topic] and alarm["okActions"] == [topic]
        rule = plan.get(RULE, f"{name}-violations").inputs
        pattern = json.loads(rule["eventPattern"])
        assert pattern["detail"]["ExitMessage"] == [{"prefix": "CompletedWithViolations"}]
        schedules = [s for s in plan.of_type(SCHEDULE) if s.parent and name in s.parent]
        assert len(pattern["detail"]["MonitoringScheduleArn"]) == len(schedules) == 3
        assert plan.get(TARGET, f"{name}-violations-to-topic").inputs["arn"] == topic


@pytest.mark.parametrize("stack", STACKS)
def test_retraining_starts_only_its_pipeline_on_new_data_and_drift(stack):
    plan = plan_for(stack)
    raw = plan.outputs["buckets"]["raw"]
    for entry in pipelines(stack):
        retraining = entry.get("retraining")
        name = f"retraining-{entry['name']}"
        if not retraining:
            assert not [r for r in plan.resources if r.name.startswith(name + "-")]
            continue
        pipeline_name = f"{PROJECT}-{stack}-{entry['name']}"
        account = plan.outputs["roles"]["training"].split(":")[4]
        pipeline_arn = f"arn:aws:sagemaker:us-east-1:{account}:pipeline/{pipeline_name.lower()}"
        role = plan.get("aws:iam/role:Role", f"{name}-role")
        [trust] = statements(policy(role, "assumeRolePolicy"))
        assert trust["Principal"] == {"Service": "events.amazonaws.com"}
        assert trust["Condition"] == {
            "StringEquals": {"aws:SourceAccount": account},
            "ArnLike": {"aws:SourceArn": f"arn:aws:events:us-east-1:{account}:rule/{pipeline_name}-*"},
        }
        assert role.inputs["permissionsBoundary"]
        [allowed] = statements(policy(plan.get("aws:iam/rolePolicy:RolePolicy", f"{name}-role-policy")))
        assert (allowed["Effect"], allowed["Action"]) == ("Allow", "sagemaker:StartPipelineExecution")
        assert allowed["Resource"] == pipeline_arn.lower()  # this pipeline only
        triggers = {"new-data": retraining.get("on_new_data", False), "drift": retraining.get("on_drift", False)}
        for trigger, enabled in triggers.items():
            if not enabled:
                assert not [r for r in plan.of_type(RULE) if r.name == f"{name}-{trigger}"]
                continue
            target = plan.get(TARGET, f"{name}-{trigger}-start").inputs
            assert target["arn"] == pipeline_arn.lower()
            assert target["roleArn"] == f"arn:aws:iam::{account}:role/{role.inputs['name']}"
            pattern = json.loads(plan.get(RULE, f"{name}-{trigger}").inputs["eventPattern"])
            if trigger == "new-data":
                marker = retraining.get("batch_marker_suffix", "_SUCCESS")
                assert pattern["detail"] == {
                    "bucket": {"name": [raw]},
                    "object": {"key": [{"wildcard": f"{pipeline_name}/*{marker}"}]},
                }
            else:
                served = [e for e in monitored(stack) if f"/{entry['model']}/" in baseline_package(e)]
                schedules = {
                    s.inputs["name"]
                    for e in served
                    for s in plan.of_type(SCHEDULE)
                    if f"monitors-{e['name']}" in s.parent
                }
                arns = pattern["detail"]["MonitoringScheduleArn"]
                assert {a.rsplit("/", 1)[1] for a in arns} == schedules and schedules
    notifications = plan.of_type("aws:s3/bucketNotification:BucketNotification")
    if any(p.get("retraining", {}).get("on_new_data") for p in pipelines(stack)):
        [notification] = notifications
        assert notification.inputs["eventbridge"] is True
        assert notification.inputs["bucket"] == raw
    else:
        assert notifications == []


@pytest.mark.parametrize("stack", STACKS)
def test_deployer_may_manage_what_the_loop_adds(stack):
    plan = plan_for(stack)
    deployer = [
        s
        for p in plan.of_type("aws:iam/policy:Policy")
        if p.name.startswith("personas-deploy-")
        for s in statements(policy(p))
    ]
    actions = {a for s in deployer for a in as_list(s["Action"])}
    if monitored(stack):
        assert {"cloudformation:CreateResource", "sagemaker:CreateModelQualityJobDefinition",
                "sagemaker:CreateModelBiasJobDefinition", "events:PutRule"} <= actions  # fmt: skip
    if any(p.get("retraining", {}).get("on_new_data") for p in pipelines(stack)):
        assert "s3:PutBucketNotification" in actions
