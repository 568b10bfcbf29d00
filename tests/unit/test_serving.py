"""ModelEndpoint: encryption, rollback wiring, rollout, autoscaling, VPC, serverless limits and bad args."""

from __future__ import annotations

import dataclasses

import pytest
from mlops_platform.components import sagemaker_catalog as catalog
from mlops_platform.components.serving import (
    Autoscaling,
    ContainerModel,
    DataCapture,
    DataQualityMonitor,
    EndpointVpc,
    ModelEndpoint,
    ModelPackage,
    OffHours,
    Rollout,
    RolloutType,
    Serverless,
    Variant,
)
from mlops_platform.infra.tooling.offline import record

KEY = "arn:aws:kms:us-east-1:123456789012:key/abcd"
ROLE = "arn:aws:iam::123456789012:role/p-inference"
TOPIC = "arn:aws:sns:us-east-1:123456789012:alerts"
PACKAGE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/{}"
VPC = EndpointVpc("vpc-1", "10.20.0.0/16", ["subnet-a", "subnet-b"], "pl-s3")

ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"

IMAGE = "012345678901.dkr.ecr.eu-west-1.amazonaws.com/p-dev/{}:1"
"""An ECR image URI (the components accept only image URIs)."""


def variant(name="a", version=1, **kwargs):
    return Variant(name, ModelPackage(PACKAGE.format(version)), **{"instance_type": "ml.m5.large", **kwargs})


def base_args(**overrides):
    args = {
        "endpoint_name": "p-dev-churn",
        "execution_role_arn": ROLE,
        "kms_key_arn": KEY,
        "variants": [variant()],
        "vpc": VPC,
        "data_capture": DataCapture("s3://artifacts/data-capture/churn/", 20),
        "alert_topic_arn": TOPIC,
    }
    return {**args, **overrides}


def endpoint_plan(**overrides):
    return record(lambda: ModelEndpoint("churn", base_args(**overrides)) and None)


def test_endpoint_config_encrypts_volumes_and_captured_data_with_the_key():
    config = endpoint_plan().get(CONFIG, "churn-config").inputs
    assert config["kmsKeyArn"] == KEY
    capture = config["dataCaptureConfig"]
    assert capture["kmsKeyId"] == KEY and capture["enableCapture"] is True
    assert capture["initialSamplingPercentage"] == 20
    assert capture["destinationS3Uri"] == "s3://artifacts/data-capture/churn/"
    assert [o["captureMode"] for o in capture["captureOptions"]] == ["Input", "Output"]


def test_rollback_alarms_are_the_production_variants_5xx_and_latency_alarms():
    plan = endpoint_plan(
        variants=[variant("a", weight=3), variant("b", 2, weight=1)],
        rollout=Rollout(RolloutType.CANARY, 10, 600, 300, 3600),
    )
    deployment = plan.get(ENDPOINT, "churn-endpoint").inputs["deploymentConfig"]
    rollback = [a["alarmName"] for a in deployment["autoRollbackConfiguration"]["alarms"]]
    assert rollback == [
        "p-dev-churn-a-5xx",
        "p-dev-churn-a-latency-p99",
        "p-dev-churn-b-5xx",
        "p-dev-churn-b-latency-p99",
    ]
    alarms = {a.inputs["name"]: a.inputs for a in plan.of_type(ALARM)}
    assert set(rollback) <= set(alarms)
    latency = alarms["p-dev-churn-a-latency-p99"]
    assert (latency["metricName"], latency["extendedStatistic"], latency["threshold"]) == ("ModelLatency", "p99", 1e6)
    assert latency["dimensions"] == {"EndpointName": "p-dev-churn", "VariantName": "a"}
    assert alarms["p-dev-churn-b-5xx"]["metricName"] == "Invocation5XXErrors"
    assert all(a["alarmActions"] == [TOPIC] and a["okActions"] == [TOPIC] for a in alarms.values())
    routing = deployment["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]
    assert routing == {
        "type": "CANARY",
        "waitIntervalInSeconds": 600,
        "canarySize": {"type": "CAPACITY_PERCENT", "value": 10},
    }
    assert deployment["blueGreenUpdatePolicy"]["terminationWaitInSeconds"] == 300


def test_linear_rollout_and_default_all_at_once():
    linear = endpoint_plan(rollout=Rollout(RolloutType.LINEAR, 20)).get(ENDPOINT, "churn-endpoint").inputs
    routing = linear["deploymentConfig"]["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]
    assert routing["type"] == "LINEAR" and routing["linearStepSize"] == {"type": "CAPACITY_PERCENT", "value": 20}
    default = endpoint_plan().get(ENDPOINT, "churn-endpoint").inputs["deploymentConfig"]
    assert default["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]["type"] == "ALL_AT_ONCE"
    assert len(default["autoRollbackConfiguration"]["alarms"]) == 2


def test_alarm_set_per_variant_kind_with_utilisation_scaled_by_vcpus_and_gpus():
    plan = endpoint_plan(
        variants=[variant("cpu", instance_type="ml.c6i.2xlarge"), variant("gpu", instance_type="ml.g5.12xlarge")]
    )
    alarms = {a.name.removeprefix("churn-"): a.inputs for a in plan.of_type(ALARM)}
    assert set(alarms) == {f"{v}-{k}" for v in ("cpu", "gpu") for k in ("latency-p99", "5xx", "4xx-rate", "cpu")} | {
        "gpu-gpu"
    }
    assert alarms["cpu-cpu"]["threshold"] == 80 * 8 and alarms["cpu-cpu"]["namespace"] == "/aws/sagemaker/Endpoints"
    assert alarms["gpu-gpu"]["threshold"] == 90 * 4
    rate = alarms["cpu-4xx-rate"]["metricQueries"]
    assert [q["id"] for q in rate] == ["errors", "invocations", "rate"] and rate[2]["returnData"] is True


def test_models_run_isolated_in_the_vpc_behind_a_group_without_ingress():
    plan = endpoint_plan()
    model = plan.get("aws:sagemaker/model:Model", "churn-a-model").inputs
    assert model["enableNetworkIsolation"] is True and model["executionRoleArn"] == ROLE
    assert model["primaryContainer"] == {"modelPackageName": PACKAGE.format(1)}
    assert model["vpcConfig"] == {"subnets": ["subnet-a", "subnet-b"], "securityGroupIds": ["churn-sg-id"]}
    group = plan.get("aws:ec2/securityGroup:SecurityGroup", "churn-sg").inputs
    assert group["vpcId"] == "vpc-1" and not group.get("ingress")
    assert not plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    egress = {
        (r.inputs["fromPort"], r.inputs["toPort"], r.inputs.get("cidrIpv4") or r.inputs.get("prefixListId"))
        for r in plan.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    }
    assert egress == {(443, 443, "10.20.0.0/16"), (443, 443, "pl-s3")}


def test_container_model_and_shadow_variant():
    shadow = Variant(
        "shadow",
        ContainerModel(IMAGE.format("x"), "s3://p-dev-models/model.tar.gz", {"A": "1"}),
        "ml.m5.large",
        weight=0.5,
    )
    plan = endpoint_plan(shadow_variant=shadow)
    config = plan.get(CONFIG, "churn-config").inputs
    assert [v["variantName"] for v in config["shadowProductionVariants"]] == ["shadow"]
    assert config["shadowProductionVariants"][0]["initialVariantWeight"] == 0.5
    container = plan.get("aws:sagemaker/model:Model", "churn-shadow-model").inputs["primaryContainer"]
    assert container == {
        "image": IMAGE.format("x"),
        "modelDataUrl": "s3://p-dev-models/model.tar.gz",
        "mode": "SingleModel",
        "environment": {"A": "1"},
    }
    rollback = plan.get(ENDPOINT, "churn-endpoint").inputs["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]
    assert all("shadow" not in a["alarmName"] for a in rollback)  # a failing shadow alerts, it does not roll back


def test_autoscaling_target_policy_and_off_hours_schedule():
    plan = endpoint_plan(
        variants=[variant(initial_instance_count=2, autoscaling=Autoscaling(2, 6, 250))],
        off_hours=OffHours("Europe/Berlin", "cron(0 19 ? * MON-FRI *)", "cron(0 7 ? * MON-FRI *)"),
    )
    target = plan.get("aws:appautoscaling/target:Target", "churn-a-scaling").inputs
    assert target["resourceId"] == "endpoint/p-dev-churn/variant/a"
    assert (target["scalableDimension"], target["minCapacity"], target["maxCapacity"]) == (
        "sagemaker:variant:DesiredInstanceCount",
        2,
        6,
    )
    policy = plan.get("aws:appautoscaling/policy:Policy", "churn-a-invocations").inputs
    tracking = policy["targetTrackingScalingPolicyConfiguration"]
    assert tracking["predefinedMetricSpecification"]["predefinedMetricType"] == "SageMakerVariantInvocationsPerInstance"
    assert tracking["targetValue"] == 250
    actions = {a.name: a.inputs for a in plan.of_type("aws:appautoscaling/scheduledAction:ScheduledAction")}
    down, up = actions["churn-a-off-hours-down"], actions["churn-a-off-hours-up"]
    assert down["timezone"] == "Europe/Berlin" and down["schedule"] == "cron(0 19 ? * MON-FRI *)"
    assert down["scalableTargetAction"] == {"minCapacity": 1, "maxCapacity": 1}
    assert up["scalableTargetAction"] == {"minCapacity": 2, "maxCapacity": 6}


def test_serverless_endpoint_has_no_instances_guardrails_vpc_or_capture():
    plan = endpoint_plan(
        variants=[Variant("a", ModelPackage(PACKAGE.format(1)), network_isolation=False)],
        serverless=Serverless(2048, 5),
        vpc=None,
        data_capture=None,
    )
    config = plan.get(CONFIG, "churn-config").inputs
    [spec] = config["productionVariants"]
    assert spec["serverlessConfig"] == {"memorySizeInMb": 2048, "maxConcurrency": 5}
    assert "instanceType" not in spec and "dataCaptureConfig" not in config
    assert "deploymentConfig" not in plan.get(ENDPOINT, "churn-endpoint").inputs
    assert {a.name for a in plan.of_type(ALARM)} == {"churn-a-latency-p99", "churn-a-5xx", "churn-a-4xx-rate"}
    assert not plan.of_type("aws:ec2/securityGroup:SecurityGroup")


def test_data_quality_monitor_is_encrypted_isolated_and_scheduled():
    monitor = DataQualityMonitor(
        "s3://p-dev-artifacts/models/b/statistics.json",
        "s3://p-dev-artifacts/models/b/constraints.json",
        "s3://p-dev-artifacts/data-capture/churn/monitoring-reports/",
        catalog.model_monitor_image("us-east-1"),
    )
    plan = endpoint_plan(data_quality_monitor=monitor)
    job = plan.get("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition", "churn-data-quality").inputs
    assert job["dataQualityJobOutputConfig"]["kmsKeyId"] == KEY
    assert job["jobResources"]["clusterConfig"]["volumeKmsKeyId"] == KEY
    assert job["networkConfig"]["enableNetworkIsolation"] is True
    assert job["networkConfig"]["enableInterContainerTrafficEncryption"] is True
    assert job["dataQualityJobInput"]["endpointInput"]["endpointName"] == "p-dev-churn"
    assert job["dataQualityAppSpecification"]["imageUri"].startswith("156813124566.dkr.ecr.us-east-1.amazonaws.com/")
    schedule = plan.get("aws:sagemaker/monitoringSchedule:MonitoringSchedule", "churn-data-quality-schedule").inputs
    assert schedule["monitoringScheduleConfig"]["monitoringJobDefinitionName"] == "churn-data-quality-0000000"
    assert schedule["monitoringScheduleConfig"]["monitoringType"] == "DataQuality"


def test_catalog_reads_instance_types_from_botocore_and_knows_local_storage():
    assert {"ml.m5.large", "ml.g5.xlarge", "ml.c6i.xlarge"} <= catalog.endpoint_instance_types()
    assert "ml.m5.huge" not in catalog.endpoint_instance_types()
    assert catalog.has_local_nvme("ml.g5.xlarge") and not catalog.has_local_nvme("ml.m5.large")
    assert (catalog.vcpus("ml.m5.large"), catalog.vcpus("ml.c6i.4xlarge"), catalog.gpus("ml.p4d.24xlarge")) == (
        2,
        16,
        8,
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"variants": [variant(weight=0), variant("b", weight=0)]},
            "weights [0, 0] must be non-negative and not all zero",
        ),
        (
            {"variants": [variant(autoscaling=Autoscaling(3, 2, 100))]},
            "autoscaling min_instances=3 and max_instances=2 need 1 <= min <= max",
        ),
        (
            {"variants": [variant(instance_type="ml.m5.huge")]},
            "instance_type='ml.m5.huge' is not a SageMaker endpoint instance type",
        ),
        (
            {"variants": [variant("a"), variant("b")], "shadow_variant": variant("s")},
            "shadow_variant needs exactly one production variant",
        ),
        (
            {"variants": [variant()], "serverless": Serverless(2048, 5)},
            "serverless endpoints do not support instance_type, network_isolation=True, a vpc, data_capture",
        ),
        (
            {
                "serverless": Serverless(1500, 5),
                "variants": [Variant("a", ModelPackage(PACKAGE.format(1)), network_isolation=False)],
                "vpc": None,
                "data_capture": None,
            },
            "serverless.memory_size_mb=1500 must be 1024-6144 in steps of 1024",
        ),
        ({"rollout": Rollout(RolloutType.CANARY)}, "rollout.step_percent=None is required for CANARY"),
        (
            {
                "data_capture": None,
                "data_quality_monitor": DataQualityMonitor(
                    "s3://p-dev-s",
                    "s3://p-dev-c",
                    "s3://p-dev-o",
                    IMAGE.format("monitor"),
                ),
            },
            "data_quality_monitor needs data_capture",
        ),
        ({"off_hours": OffHours("UTC", "cron(0 19 * * ? *)", "cron(0 7 * * ? *)")}, "off_hours needs autoscaling"),
    ],
)
def test_bad_endpoint_args_fail_before_anything_is_registered(overrides, message):
    errors = []

    def program():
        try:
            ModelEndpoint("churn", base_args(**overrides))
        except ValueError as exc:
            errors.append(str(exc))

    plan = record(program)
    assert errors and message in errors[0], errors
    assert errors[0].startswith("ModelEndpoint 'churn': ")
    assert plan.resources == []


def test_variant_is_immutable_so_args_can_be_shared():
    with pytest.raises(dataclasses.FrozenInstanceError):
        variant().weight = 2  # type: ignore[misc]


def test_deployer_statements_scope_writes_by_env_tag_or_prefix():
    from mlops_platform.components.serving import deployer_statements

    by_sid = {s["Sid"]: s for s in deployer_statements("123456789012", "us-east-1", "p-dev", "dev")}
    for statement in by_sid.values():
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert not any(a == "*" or a.endswith(":*") for a in actions), statement["Sid"]
        writes = [a for a in actions if not a.split(":")[1].startswith(("List", "Get", "Describe"))]
        assert statement["Resource"] != "*" or not writes, statement["Sid"]
    assert by_sid["CreateEnvServing"]["Condition"] == {"StringEquals": {"aws:RequestTag/env": "dev"}}
    assert by_sid["ManageEnvServing"]["Condition"] == {"StringEquals": {"aws:ResourceTag/env": "dev"}}
    assert "arn:aws:sagemaker:us-east-1:123456789012:endpoint/p-dev-*" in by_sid["ManageEnvServing"]["Resource"]
    assert by_sid["ManageEnvEndpointAlarms"]["Resource"] == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:p-dev-*"
    assert by_sid["EnvKeyGrantsForEndpoints"]["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}


def test_persona_extra_statements_reach_the_persona_and_the_boundary_only():
    from mlops_platform.components.access import HUMAN_PERSONAS, GitHubTrust, Persona, PersonaRoles
    from mlops_platform.components.serving import inference_statements

    extras = inference_statements("123456789012", "us-east-1", "p-dev", "vpc-1")
    args = {
        "name_prefix": "p-dev", "account_id": "123456789012", "region": "us-east-1", "kms_key_arn": KEY,
        "bucket_arns": {z: f"arn:aws:s3:::p-dev-{z}" for z in ("raw", "curated", "features", "artifacts")},
        "principal_arns": {p: [f"arn:aws:iam::123456789012:role/{p.value}"] for p in HUMAN_PERSONAS},
        "github": GitHubTrust("repo:o/r:ref:x"),
        "extra_statements": {Persona.INFERENCE: extras},
    }  # fmt: skip
    plan = record(lambda: PersonaRoles("personas", args) and None)

    def sids(name, type_="aws:iam/rolePolicy:RolePolicy"):
        import json

        return {s["Sid"] for s in json.loads(plan.get(type_, name).inputs["policy"])["Statement"]}

    wanted = {"InferenceLogs", "InferenceNetworkInterfacesInEnvVpc", "InferenceDescribeNetwork"}
    assert wanted <= sids("personas-inference-policy")
    assert not wanted & sids("personas-training-policy")
    assert wanted <= sids("personas-boundary", "aws:iam/policy:Policy")
    assert not wanted & sids("personas-deployer-boundary", "aws:iam/policy:Policy")
