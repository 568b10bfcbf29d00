"""ModelMonitors, PipelineRetraining and RawDataEvents as components: what they register, and what they build
from arguments as the multi-language provider passes them (their bad-argument cases are in
test_component_validation.py's table)."""

from __future__ import annotations

import json

import pytest
from botocore.validate import ParamValidator
from mlops_platform.components import sagemaker_catalog as catalog
from mlops_platform.components.model_monitoring import (
    BASELINE_FILES,
    ModelMonitors,
    ModelQualityAlarm,
    MonitorVpc,
    bias_constraints_document,
)
from mlops_platform.components.retraining import NewDataTrigger, PipelineRetraining, RawDataEvents
from mlops_platform.infra.tooling.offline import record
from pulumi.provider.experimental.component import ComponentProvider

from tests.conftest import policy, statements
from tests.pipeline_checks import sagemaker_model

KEY = "arn:aws:kms:eu-west-1:012345678901:key/1111"
ROLE = "arn:aws:iam::012345678901:role/p-dev-inference"
TOPIC = "arn:aws:sns:eu-west-1:012345678901:alerts"
PACKAGE = "arn:aws:sagemaker:eu-west-1:012345678901:model-package/churn-model/3"
BASELINES = f"s3://artifacts/models/baselines/{PACKAGE}"


def monitor_args(**overrides):
    return {
        "endpoint_name": "p-dev-churn",
        "name_prefix": "p-dev-churn",
        "execution_role_arn": ROLE,
        "kms_key_arn": KEY,
        "baseline_s3_uri": BASELINES,
        "reports_s3_uri": "s3://artifacts/data-capture/churn/monitoring-reports/",
        "ground_truth_s3_uri": "s3://artifacts/data-capture/churn/ground-truth/",
        "model_monitor_image_uri": catalog.model_monitor_image("eu-west-1"),
        "clarify_image_uri": catalog.clarify_image("eu-west-1"),
        "vpc": MonitorVpc(["subnet-a"], ["sg-endpoint"]),
        "alert_topic_arn": TOPIC,
        "quality_alarm": ModelQualityAlarm("auc", 0.8),
        **overrides,
    }


@pytest.fixture(scope="module")
def monitors():
    return record(lambda: ModelMonitors("m", monitor_args()) and None)


def test_three_schedules_each_on_its_own_definition(monitors):
    schedules = {
        s.inputs["name"]: s.inputs["monitoringScheduleConfig"]
        for s in monitors.of_type("aws:sagemaker/monitoringSchedule:MonitoringSchedule")
    }
    assert {n: c["monitoringType"] for n, c in schedules.items()} == {
        "p-dev-churn-data-quality": "DataQuality",
        "p-dev-churn-model-quality": "ModelQuality",
        "p-dev-churn-model-bias": "ModelBias",
    }
    quality = json.loads(monitors.get("aws:cloudcontrol/resource:Resource", "m-model-quality").inputs["desiredState"])
    assert schedules["p-dev-churn-model-quality"]["monitoringJobDefinitionName"] == quality["JobDefinitionName"]
    data = monitors.get("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition", "m-data-quality")
    assert schedules["p-dev-churn-data-quality"]["monitoringJobDefinitionName"] == data.inputs["name"]


def test_definitions_read_the_packages_baselines_and_ground_truth(monitors):
    state = {
        kind: json.loads(monitors.get("aws:cloudcontrol/resource:Resource", f"m-{kind}").inputs["desiredState"])
        for kind in ("model-quality", "model-bias")
    }
    quality, bias = state["model-quality"], state["model-bias"]
    assert quality["ModelQualityBaselineConfig"]["ConstraintsResource"]["S3Uri"] == (
        f"{BASELINES}/{BASELINE_FILES['model_quality_constraints']}"
    )
    assert bias["ModelBiasAppSpecification"]["ConfigUri"] == f"{BASELINES}/{BASELINE_FILES['model_bias_config']}"
    for request, job_input in ((quality, "ModelQualityJobInput"), (bias, "ModelBiasJobInput")):
        endpoint = request[job_input]["EndpointInput"]
        assert (endpoint["ProbabilityAttribute"], endpoint["ProbabilityThresholdAttribute"]) == ("0", 0.5)
        assert (endpoint["StartTimeOffset"], endpoint["EndTimeOffset"]) == ("-PT25H", "-PT24H")  # labels arrived
        assert request[job_input]["GroundTruthS3Input"]["S3Uri"].endswith("/ground-truth/")
    for shape, request in (("CreateModelQualityJobDefinitionRequest", quality),
                           ("CreateModelBiasJobDefinitionRequest", bias)):  # fmt: skip
        report = ParamValidator().validate(request, sagemaker_model().shape_for(shape))
        assert not report.has_errors(), report.generate_report()


def test_a_changed_definition_gets_a_new_name_so_the_schedule_moves_before_the_old_one_goes(monitors):
    other = record(lambda: ModelMonitors("m", monitor_args(instance_type="ml.m5.xlarge")) and None)

    def name(plan):
        state = plan.get("aws:cloudcontrol/resource:Resource", "m-model-bias").inputs["desiredState"]
        return json.loads(state)["JobDefinitionName"]

    assert name(monitors) != name(other) and name(other).startswith("p-dev-churn-bias-")
    assert name(monitors) == name(record(lambda: ModelMonitors("m", monitor_args()) and None))  # stable


def test_alarm_and_violations_rule_speak_to_the_topic(monitors):
    alarm = monitors.get("aws:cloudwatch/metricAlarm:MetricAlarm", "m-quality-alarm").inputs
    assert alarm["namespace"] == "aws/sagemaker/Endpoints/model-metrics"
    assert alarm["dimensions"] == {"Endpoint": "p-dev-churn", "MonitoringSchedule": "p-dev-churn-model-quality"}
    assert (alarm["metricName"], alarm["threshold"], alarm["comparisonOperator"]) == ("auc", 0.8, "LessThanThreshold")
    assert alarm["alarmActions"] == [TOPIC]
    pattern = json.loads(monitors.get("aws:cloudwatch/eventRule:EventRule", "m-violations").inputs["eventPattern"])
    assert pattern["detail-type"] == ["SageMaker Processing Job State Change"]
    assert pattern["detail"]["ExitMessage"] == [{"prefix": "CompletedWithViolations"}]
    assert len(pattern["detail"]["MonitoringScheduleArn"]) == 3
    target = monitors.get("aws:cloudwatch/eventTarget:EventTarget", "m-violations-to-topic").inputs
    assert target["arn"] == TOPIC and "<message>" in target["inputTransformer"]["inputTemplate"]


def test_without_a_topic_no_rule_and_a_silent_alarm_is_not_created():
    plan = record(lambda: ModelMonitors("m", monitor_args(alert_topic_arn=None, quality_alarm=None)) and None)
    assert not plan.of_type("aws:cloudwatch/eventRule:EventRule")
    assert not plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")


def test_bias_limits_are_a_clarify_constraints_file_with_absolute_limits():
    document = bias_constraints_document(
        label="churned", facet="senior_citizen", facet_values=[1], max_class_imbalance=0.4,
        max_label_imbalance=0.2, max_dppl=0.1,
    )  # fmt: skip
    post = document["post_training_bias_metrics"]
    assert post["label"] == "churned"
    [group] = post["facets"]["senior_citizen"]
    assert group == {
        "value_or_threshold": "1",
        "metrics": [{"name": "DPPL", "description": group["metrics"][0]["description"], "value": 0.1}],
    }
    pre = {
        m["name"]: m["value"] for m in document["pre_training_bias_metrics"]["facets"]["senior_citizen"][0]["metrics"]
    }
    assert pre == {"CI": 0.4, "DPL": 0.2}


PIPELINE_ARN = "arn:aws:sagemaker:eu-west-1:012345678901:pipeline/p-dev-churn"
DRIFT = ["arn:aws:sagemaker:eu-west-1:012345678901:monitoring-schedule/p-dev-churn-data-quality"]


def retraining_args(**overrides):
    return {
        "pipeline_name": "p-dev-churn",
        "account_id": "012345678901",
        "region": "eu-west-1",
        "role_name": "p-dev-pipeline-churn-retrain",
        "permissions_boundary_arn": "arn:aws:iam::012345678901:policy/p-dev-persona-boundary",
        "new_data": NewDataTrigger("raw-bucket", "p-dev-churn/"),
        "drift_schedule_arns": DRIFT,
        **overrides,
    }


def test_retraining_rules_target_the_pipeline_with_a_role_that_can_only_start_it():
    plan = record(lambda: PipelineRetraining("r", retraining_args()) and None)
    [allowed] = statements(policy(plan.get("aws:iam/rolePolicy:RolePolicy", "r-role-policy")))
    assert allowed == {
        "Sid": "StartThisPipeline",
        "Effect": "Allow",
        "Action": "sagemaker:StartPipelineExecution",
        "Resource": PIPELINE_ARN,
    }
    role = plan.get("aws:iam/role:Role", "r-role")
    assert statements(policy(role, "assumeRolePolicy"))[0]["Principal"] == {"Service": "events.amazonaws.com"}
    targets = {t.name: t.inputs for t in plan.of_type("aws:cloudwatch/eventTarget:EventTarget")}
    assert set(targets) == {"r-new-data-start", "r-drift-start"}
    assert {t["arn"] for t in targets.values()} == {PIPELINE_ARN}
    assert {t["roleArn"] for t in targets.values()} == {"arn:aws:iam::123456789012:role/p-dev-pipeline-churn-retrain"}
    rules = {r.name: json.loads(r.inputs["eventPattern"]) for r in plan.of_type("aws:cloudwatch/eventRule:EventRule")}
    assert rules["r-new-data"]["detail"]["object"]["key"] == [{"wildcard": "p-dev-churn/*_SUCCESS"}]
    assert rules["r-drift"]["detail"]["MonitoringScheduleArn"] == DRIFT


def test_retraining_on_new_data_only_creates_no_drift_rule():
    plan = record(lambda: PipelineRetraining("r", retraining_args(drift_schedule_arns=[])) and None)
    assert [r.name for r in plan.of_type("aws:cloudwatch/eventRule:EventRule")] == ["r-new-data"]


def test_raw_data_events_go_to_eventbridge():
    plan = record(lambda: RawDataEvents("e", {"bucket_name": "raw-bucket"}) and None)
    [notification] = plan.of_type("aws:s3/bucketNotification:BucketNotification")
    assert notification.inputs == {"bucket": "raw-bucket", "eventbridge": True}


def _from_provider(component: type, name: str, inputs: dict) -> None:
    """Build `component` from camelCase inputs the way the component provider does (dicts for nested types,
    enum values as strings, numbers as floats)."""
    provider = ComponentProvider([ModelMonitors, PipelineRetraining, RawDataEvents], "mlops", version="0.1.0")
    definition = provider._component_defs[component.__name__]
    provider._components[component.__name__](name, provider.map_inputs(inputs, definition))


def test_monitors_from_other_languages_build_the_same_definitions():
    inputs = {
        "endpointName": "p-dev-churn",
        "namePrefix": "p-dev-churn",
        "executionRoleArn": ROLE,
        "kmsKeyArn": KEY,
        "baselineS3Uri": BASELINES,
        "reportsS3Uri": "s3://artifacts/data-capture/churn/monitoring-reports/",
        "groundTruthS3Uri": "s3://artifacts/data-capture/churn/ground-truth/",
        "modelMonitorImageUri": catalog.model_monitor_image("eu-west-1"),
        "clarifyImageUri": catalog.clarify_image("eu-west-1"),
        "vpc": {"subnetIds": ["subnet-a"], "securityGroupIds": ["sg-endpoint"]},
        "alertTopicArn": TOPIC,
        "problemType": "MulticlassClassification",
        "groundTruthDelayHours": 48.0,
        "qualityAlarm": {"metric": "accuracy", "minimum": 0.9},
    }
    plan = record(lambda: _from_provider(ModelMonitors, "m", inputs))
    quality = json.loads(plan.get("aws:cloudcontrol/resource:Resource", "m-model-quality").inputs["desiredState"])
    assert quality["ModelQualityAppSpecification"]["ProblemType"] == "MulticlassClassification"
    endpoint = quality["ModelQualityJobInput"]["EndpointInput"]
    assert (endpoint["StartTimeOffset"], endpoint["EndTimeOffset"]) == ("-PT49H", "-PT48H")
    assert quality["NetworkConfig"]["VpcConfig"] == {"Subnets": ["subnet-a"], "SecurityGroupIds": ["sg-endpoint"]}
    alarm = plan.get("aws:cloudwatch/metricAlarm:MetricAlarm", "m-quality-alarm").inputs
    assert (alarm["metricName"], alarm["threshold"]) == ("accuracy", 0.9)


def test_retraining_from_other_languages_matches_the_batch_marker():
    inputs = {
        "pipelineName": "p-dev-churn",
        "accountId": "012345678901",
        "region": "eu-west-1",
        "roleName": "p-dev-pipeline-churn-retrain",
        "permissionsBoundaryArn": "arn:aws:iam::012345678901:policy/p-dev-persona-boundary",
        "newData": {"bucketName": "raw-bucket", "prefix": "p-dev-churn/", "markerSuffix": "_DONE"},
        "driftScheduleArns": [],
    }
    plan = record(lambda: _from_provider(PipelineRetraining, "r", inputs))
    [rule] = plan.of_type("aws:cloudwatch/eventRule:EventRule")
    assert json.loads(rule.inputs["eventPattern"])["detail"]["object"]["key"] == [{"wildcard": "p-dev-churn/*_DONE"}]
