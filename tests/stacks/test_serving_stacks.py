"""Each stack's endpoints as configured: encrypted capture, rollback wiring, scaling bounds, weights, shadows,
and a promotion (a changed model package version) as the reviewer sees it in the preview."""

from __future__ import annotations

import json

import pytest
from mlops_platform.components.sagemaker_catalog import MODEL_PACKAGE_ARN
from mlops_platform.infra.config import PROJECT
from mlops_platform.infra.tooling import report, report_serving
from mlops_platform.infra.tooling.offline import preview_stack, stack_config

from tests.conftest import STACKS, plan_for

COMPONENT = "mlops:serving:ModelEndpoint"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TARGET = "aws:appautoscaling/target:Target"


def endpoints_config(stack: str) -> list[dict]:
    return json.loads(stack_config(stack).get(f"{PROJECT}:endpoints", "[]"))


def endpoint_parts(plan, short_name: str):
    component = plan.get(COMPONENT, f"endpoint-{short_name}")
    children = plan.children(component.urn)
    [endpoint] = [r for r in children if r.type == ENDPOINT]
    [config] = [r for r in children if r.type == CONFIG]
    return endpoint, config, children


def pairs(stack: str):
    return [(stack, e["name"]) for e in endpoints_config(stack)]


ENDPOINTS = [pair for stack in STACKS for pair in pairs(stack)]


def test_every_stack_configures_endpoints_and_dev_is_serverless():
    assert all(endpoints_config(stack) for stack in STACKS)
    assert all("serverless" in e for e in endpoints_config("dev"))
    assert not any("serverless" in e for stack in ("staging", "prod") for e in endpoints_config(stack))


@pytest.mark.parametrize(("stack", "name"), ENDPOINTS)
def test_endpoint_volumes_and_data_capture_use_the_env_key(stack, name):
    plan = plan_for(stack)
    _, config, _ = endpoint_parts(plan, name)
    assert config.inputs["kmsKeyArn"] == plan.outputs["data_key_arn"]
    capture = config.inputs.get("dataCaptureConfig")
    configured = next(e for e in endpoints_config(stack) if e["name"] == name).get("data_capture", {})
    if configured.get("enabled", True):
        assert capture["kmsKeyId"] == plan.outputs["data_key_arn"]
        bucket = plan.outputs["buckets"]["artifacts"]
        assert capture["destinationS3Uri"] == f"s3://{bucket}/data-capture/{name}/"
        assert capture["initialSamplingPercentage"] == configured.get("sampling_percentage", 20)
    else:
        assert capture is None and "serverless" in next(e for e in endpoints_config(stack) if e["name"] == name)


@pytest.mark.parametrize(("stack", "name"), ENDPOINTS)
def test_rollback_alarms_exist_and_watch_every_production_variant(stack, name):
    plan = plan_for(stack)
    endpoint, config, children = endpoint_parts(plan, name)
    alarms = {r.inputs["name"]: r.inputs for r in children if r.type == ALARM}
    rollback = report_serving.rollback_alarms(endpoint)
    if any(v.get("serverlessConfig") for v in config.inputs["productionVariants"]):
        assert rollback == [] and "deploymentConfig" not in endpoint.inputs
        return
    assert rollback and set(rollback) <= set(alarms)
    watched = {(alarms[a]["dimensions"]["VariantName"], alarms[a].get("metricName")) for a in rollback}
    production = {v["variantName"] for v in config.inputs["productionVariants"]}
    assert watched == {(v, m) for v in production for m in ("Invocation5XXErrors", "ModelLatency")}
    assert all(alarms[a]["dimensions"]["EndpointName"] == endpoint.inputs["name"] for a in rollback)
    assert endpoint.inputs["deploymentConfig"]["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]["type"] in (
        "ALL_AT_ONCE",
        "CANARY",
        "LINEAR",
    )


@pytest.mark.parametrize(("stack", "name"), ENDPOINTS)
def test_variant_weights_are_valid_and_shadow_present_exactly_when_configured(stack, name):
    configured = next(e for e in endpoints_config(stack) if e["name"] == name)
    _, config, _ = endpoint_parts(plan_for(stack), name)
    weights = [v["initialVariantWeight"] for v in config.inputs["productionVariants"]]
    assert all(w >= 0 for w in weights) and sum(weights) > 0
    shadows = [v["variantName"] for v in config.inputs.get("shadowProductionVariants") or []]
    assert shadows == ([configured["shadow_variant"]["name"]] if "shadow_variant" in configured else [])
    if shadows:
        assert len(weights) == 1  # SageMaker pairs a shadow with exactly one production variant


@pytest.mark.parametrize(("stack", "name"), ENDPOINTS)
def test_autoscaling_bounds_are_valid_and_match_the_config(stack, name):
    configured = next(e for e in endpoints_config(stack) if e["name"] == name)
    endpoint, config, children = endpoint_parts(plan_for(stack), name)
    targets = {r.inputs["resourceId"]: r.inputs for r in children if r.type == TARGET}
    variants = [*configured["variants"], *([configured["shadow_variant"]] if "shadow_variant" in configured else [])]
    expected = {
        f"endpoint/{endpoint.inputs['name']}/variant/{v['name']}": v["autoscaling"]
        for v in variants
        if "autoscaling" in v
    }
    assert set(targets) == set(expected)
    counts = {
        v["variantName"]: v.get("initialInstanceCount")
        for v in [*config.inputs["productionVariants"], *(config.inputs.get("shadowProductionVariants") or [])]
    }
    for resource_id, target in targets.items():
        bounds = expected[resource_id]
        assert 1 <= target["minCapacity"] <= target["maxCapacity"]
        assert (target["minCapacity"], target["maxCapacity"]) == (bounds["min_instances"], bounds["max_instances"])
        assert target["minCapacity"] <= counts[resource_id.rsplit("/", 1)[-1]] <= target["maxCapacity"]


def test_prod_runs_an_ab_test_a_shadow_and_never_scales_down_at_night():
    plan = plan_for("prod")
    _, churn, _ = endpoint_parts(plan, "churn")
    assert [v["initialVariantWeight"] for v in churn.inputs["productionVariants"]] == [0.9, 0.1]
    _, demand, _ = endpoint_parts(plan, "demand")
    assert len(demand.inputs["shadowProductionVariants"]) == 1
    assert not plan.of_type("aws:appautoscaling/scheduledAction:ScheduledAction")
    assert plan_for("staging").of_type("aws:appautoscaling/scheduledAction:ScheduledAction")


@pytest.mark.parametrize("stack", STACKS)
def test_model_packages_are_in_the_stacks_own_account_and_region(stack):
    plan = plan_for(stack)
    account, region = stack_config(stack)[f"{PROJECT}:account"], stack_config(stack)[f"{PROJECT}:region"]
    packages = [
        m.inputs["primaryContainer"]["modelPackageName"]
        for m in plan.of_type("aws:sagemaker/model:Model")
        if "modelPackageName" in m.inputs["primaryContainer"]
    ]
    assert packages
    for arn in packages:
        match = MODEL_PACKAGE_ARN.match(arn)
        assert (match["account"], match["region"]) == (account, region)


def test_a_promotion_shows_in_the_preview_as_a_new_model_version_with_its_rollout():
    """Bumping the challenger from v14 to v15 changes that model's package (in AWS: a new model, hence a new
    endpoint configuration and a blue/green endpoint update); the reviewer sees the version and the rollout."""
    config = stack_config("prod")
    endpoints = json.loads(config[f"{PROJECT}:endpoints"])
    endpoints[0]["variants"][1]["model_package_arn"] = endpoints[0]["variants"][1]["model_package_arn"].replace(
        "/14", "/15"
    )
    promoted = preview_stack("prod", config={**config, f"{PROJECT}:endpoints": json.dumps(endpoints)})
    before = plan_for("prod")

    def inputs_by_name(plan):
        return {r.id_name: r.inputs for r in plan.resources}

    old, new = inputs_by_name(before), inputs_by_name(promoted)
    changed = sorted(name for name in old if old[name] != new.get(name))
    assert changed == ["aws:sagemaker/model:Model::endpoint-churn-challenger-model"]
    summary = report.markdown(promoted)
    assert "challenger: churn-model v15 10% on 2x ml.c6i.xlarge" in summary
    assert "rollout LINEAR 20% bake 900s" in summary
    assert "`mlops-platform-prod-churn-challenger-latency-p99`" in summary
    labels = report.key_settings(promoted.get(COMPONENT, "endpoint-churn"), promoted)
    assert "data capture 10% KMS" in labels and any(label.startswith("KMS ") for label in labels)


@pytest.mark.parametrize("stack", STACKS)
def test_every_endpoint_alarm_notifies_the_alert_topic(stack):
    plan = plan_for(stack)
    alarms = [r for c in plan.of_type(COMPONENT) for r in plan.children(c.urn) if r.type == ALARM]
    assert alarms
    for alarm in alarms:
        assert alarm.inputs["alarmActions"] == [plan.outputs["alert_topic_arn"]], alarm.name
        assert alarm.inputs["okActions"] == [plan.outputs["alert_topic_arn"]], alarm.name


@pytest.mark.parametrize(("stack", "name"), ENDPOINTS)
def test_endpoint_waits_for_its_model_groups_and_is_on_the_dashboard(stack, name):
    plan = plan_for(stack)
    component = plan.get(COMPONENT, f"endpoint-{name}")
    configured = next(e for e in endpoints_config(stack) if e["name"] == name)
    variants = [*configured["variants"], *([configured["shadow_variant"]] if "shadow_variant" in configured else [])]
    groups = {MODEL_PACKAGE_ARN.match(v["model_package_arn"])["group"] for v in variants}
    group_urns = {
        r.urn
        for r in plan.of_type("aws:sagemaker/modelPackageGroup:ModelPackageGroup")
        if r.inputs["modelPackageGroupName"] in groups
    }
    assert len(group_urns) == len(groups) and group_urns <= set(component.options["depends_on"])
    [dashboard] = plan.of_type("aws:cloudwatch/dashboard:Dashboard")
    assert f"{PROJECT}-{stack}-{name}" in dashboard.inputs["dashboardBody"]


@pytest.mark.parametrize("stack", STACKS)
def test_deployer_may_manage_endpoints_and_each_role_stays_under_the_inline_policy_quota(stack):
    plan = plan_for(stack)
    deploy = json.loads(plan.get("aws:iam/policy:Policy", "personas-deploy-serving").inputs["policy"])
    sids = {s["Sid"] for s in deploy["Statement"]}
    assert {"CreateEnvServing", "ManageEnvServing", "ManageEnvEndpointAlarms", "ScaleEnvEndpoints"} <= sids
    sizes: dict[str, int] = {}
    for inline in plan.of_type("aws:iam/rolePolicy:RolePolicy"):
        # IAM counts an inline document without whitespace; all of a role's inline policies share 10,240 characters.
        text = json.dumps(json.loads(inline.inputs["policy"]), separators=(",", ":"))
        sizes[str(inline.inputs["role"])] = sizes.get(str(inline.inputs["role"]), 0) + len(text)
    assert max(sizes.values()) <= 10_240, sizes
    managed = {p.name: len("".join(p.inputs["policy"].split())) for p in plan.of_type("aws:iam/policy:Policy")}
    assert max(managed.values()) <= 6_144, managed  # a managed policy's own limit


@pytest.mark.parametrize(("stack", "name"), ENDPOINTS)
def test_instance_endpoints_run_in_the_private_subnets_with_https_egress_only(stack, name):
    plan = plan_for(stack)
    _, config, children = endpoint_parts(plan, name)
    models = [r for r in children if r.type == "aws:sagemaker/model:Model"]
    if any(v.get("serverlessConfig") for v in config.inputs["productionVariants"]):
        assert all("vpcConfig" not in m.inputs for m in models)  # serverless inference has no VPC support
        return
    [group] = [r for r in children if r.type == "aws:ec2/securityGroup:SecurityGroup"]
    assert group.inputs["vpcId"] == plan.outputs["vpc_id"] and not group.inputs.get("ingress")
    for model in models:
        assert model.inputs["enableNetworkIsolation"] is True
        assert model.inputs["vpcConfig"] == {
            "subnets": plan.outputs["private_subnet_ids"],
            "securityGroupIds": [f"{group.name}-id"],
        }
    rules = [r for r in children if r.type.startswith("aws:vpc/securityGroup")]
    assert all(r.type.endswith("EgressRule") for r in rules)  # no ingress at all
    [vpc] = plan.of_type("aws:ec2/vpc:Vpc")
    destinations = {r.inputs.get("cidrIpv4") or r.inputs.get("prefixListId") for r in rules}
    assert {(r.inputs["ipProtocol"], r.inputs["fromPort"], r.inputs["toPort"]) for r in rules} == {("tcp", 443, 443)}
    assert vpc.inputs["cidrBlock"] in destinations and len(destinations) == 2
    assert any(d.startswith("pl-") for d in destinations)  # the S3 gateway endpoint's prefix list


@pytest.mark.parametrize("stack", STACKS)
def test_inference_role_may_log_and_use_network_interfaces_only_in_the_env_vpc(stack):
    plan = plan_for(stack)
    inference = json.loads(plan.get("aws:iam/rolePolicy:RolePolicy", "personas-inference-policy").inputs["policy"])
    by_sid = {s["Sid"]: s for s in inference["Statement"]}
    assert all(r.startswith("arn:aws:logs:") for r in by_sid["InferenceLogs"]["Resource"])
    boundary = json.loads(plan.get("aws:iam/policy:Policy", "personas-boundary").inputs["policy"])
    boundary_sids = {s["Sid"] for s in boundary["Statement"]}
    assert "InferenceLogs" in boundary_sids
    assert len(json.dumps(boundary, separators=(",", ":"))) <= 6_144  # managed policy quota
    only_serverless = all("serverless" in e for e in endpoints_config(stack))
    assert ("InferenceNetworkInterfacesInEnvVpc" in by_sid) is not only_serverless
    if not only_serverless:
        condition = by_sid["InferenceNetworkInterfacesInEnvVpc"]["Condition"]
        account, region = stack_config(stack)[f"{PROJECT}:account"], stack_config(stack)[f"{PROJECT}:region"]
        assert condition == {"ArnEquals": {"ec2:Vpc": f"arn:aws:ec2:{region}:{account}:vpc/{plan.outputs['vpc_id']}"}}
        assert "InferenceNetworkInterfacesInEnvVpc" in boundary_sids
