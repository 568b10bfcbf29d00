"""The consumer examples under examples/<name>/: each runs under Pulumi's mocks as a program and builds what its
docstring promises; together they show every public component."""

from __future__ import annotations

import functools
import json
import runpy
from pathlib import Path

import pytest
from mlops_platform.infra.tooling.component_reference import components
from mlops_platform.infra.tooling.offline import Plan, record

from tests.conftest import as_list, policy, statements

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PROGRAMS = sorted(p.parent.name for p in EXAMPLES.glob("*/__main__.py"))
ACCOUNT = "123456789012"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"
"""The env key the examples that take a key (rather than create one) name."""


@functools.cache
def plan(example: str) -> Plan:
    """What the example registers when run as a program (`__main__`), as `pulumi up` runs it."""
    path = EXAMPLES / example / "__main__.py"
    return record(lambda: runpy.run_path(str(path), run_name="__main__") and None, stack="example")


def components_of(example: str) -> set[str]:
    return {r.type.rsplit(":", 1)[1] for r in plan(example).resources if r.type.startswith("mlops:")}


def test_every_public_component_is_shown_by_an_example():
    shown = {name for example in PROGRAMS for name in components_of(example)}
    public = {component.name for component in components()}
    assert public - shown == set(), "components no example registers"


@pytest.mark.parametrize("example", PROGRAMS)
def test_example_is_a_described_python_project_on_an_explicit_tagged_provider(example):
    project = dict(line.split(": ", 1) for line in (EXAMPLES / example / "Pulumi.yaml").read_text().splitlines())
    assert project["name"] == example and project["runtime"] == "python" and project["description"]
    aws_resources = [r for r in plan(example).resources if r.custom and r.type.startswith("aws:")]
    # Every AWS resource goes through the example's own provider (region pinned, default tags), none through
    # the ambient default provider.
    assert {r.provider for r in aws_resources} <= {"aws", "aws-dr"}
    [provider] = [r for r in plan(example).resources if r.type == "pulumi:providers:aws" and r.name == "aws"]
    assert json.loads(provider.inputs["allowedAccountIds"]) == [ACCOUNT]
    assert json.loads(provider.inputs["defaultTags"])["tags"]["env"] == "dev"


def test_secure_storage_encrypts_data_with_the_key_and_logs_into_the_log_target():
    p = plan("secure-storage")
    sse = {
        r.name: r.inputs["rules"][0]["applyServerSideEncryptionByDefault"]
        for r in p.of_type("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    }
    data = {name: rule for name, rule in sse.items() if "access-logs" not in name}
    assert len(data) == 5  # the features bucket and the lake's four zones
    assert {rule["sseAlgorithm"] for rule in data.values()} == {"aws:kms"}
    assert len({rule["kmsMasterKeyId"] for rule in data.values()}) == 1  # one key: the example's
    delivery = next(
        s
        for s in statements(policy(p.get("aws:s3/bucketPolicy:BucketPolicy", "fraud-access-logs-policy")))
        if s["Sid"] == "AllowServerAccessLogDelivery"
    )
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT
    logging = p.get("aws:s3/bucketLogging:BucketLogging", "fraud-features-logging").inputs
    assert logging["targetBucket"].startswith("fraud-dev-access-logs-")
    assert p.get("aws:s3/bucket:Bucket", "fraud-features-bucket").options["protect"]


def test_access_execution_role_trusts_only_sagemaker_for_the_account_under_the_boundary():
    p = plan("access")
    role = p.get("aws:iam/role:Role", "feature-processing-role")
    [trust] = statements(policy(role, "assumeRolePolicy"))
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT
    assert role.inputs["permissionsBoundary"].endswith(":policy/fraud-dev-service-boundary")
    assert {r.inputs["name"] for r in p.of_type("aws:iam/role:Role")} >= {
        "fraud-dev-data-scientist", "fraud-dev-ml-engineer", "fraud-dev-model-approver",
    }  # fmt: skip


def test_network_allows_no_ingress_from_anywhere_and_encrypts_flow_logs():
    p = plan("network")
    ingress = p.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert all(r.inputs.get("cidrIpv4") != "0.0.0.0/0" for r in ingress)
    [flow_logs] = p.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert flow_logs.inputs["kmsKeyId"] == KEY
    assert len(p.of_type("aws:ec2/natGateway:NatGateway")) == 3


def test_registries_keep_images_immutable_and_share_models_read_only_with_prod():
    p = plan("registries")
    repo = p.get("aws:ecr/repository:Repository", "training-images-repository").inputs
    assert repo["imageTagMutability"] == "IMMUTABLE" and repo["imageScanningConfiguration"]["scanOnPush"]
    assert repo["encryptionConfigurations"][0]["kmsKey"] == KEY
    shared = statements(json.loads(p.get(
        "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy", "fraud-models-policy"
    ).inputs["resourcePolicy"]))  # fmt: skip
    assert {json.dumps(s["Principal"]) for s in shared} == {json.dumps({"AWS": ["arn:aws:iam::210987654321:root"]})}
    assert all(a.startswith(("sagemaker:Describe", "sagemaker:List")) for s in shared for a in as_list(s["Action"]))


def test_monitoring_budgets_alert_the_encrypted_topic():
    p = plan("monitoring")
    topic = p.get("aws:sns/topic:Topic", "alerts-topic").inputs
    assert topic["kmsMasterKeyId"].startswith(f"arn:aws:kms:us-east-1:{ACCOUNT}:key/")
    budgets = p.of_type("aws:budgets/budget:Budget")
    assert {b.inputs["name"] for b in budgets} == {
        "fraud-dev-monthly", "fraud-dev-team-fraud-detection", "fraud-dev-team-risk-analytics",
    }  # fmt: skip
    for budget in budgets:
        assert {n["subscriberSnsTopicArns"][0] for n in budget.inputs["notifications"]} == {
            f"arn:aws:sns:us-east-1:{ACCOUNT}:fraud-dev-alerts"
        }


def test_training_pipeline_runs_jobs_behind_its_security_group_and_retrains_on_new_data():
    p = plan("training-pipeline")
    definition = json.loads(
        p.get("aws:sagemaker/pipeline:Pipeline", "card-fraud-pipeline").inputs["pipelineDefinition"]
    )
    networks = [
        s["Arguments"]["NetworkConfig"] for s in definition["Steps"] if "NetworkConfig" in s.get("Arguments", {})
    ]
    assert networks and all(n["VpcConfig"]["SecurityGroupIds"] == ["pipeline-jobs-sg-id"] for n in networks)
    rule = json.loads(
        p.get("aws:cloudwatch/eventRule:EventRule", "card-fraud-retraining-new-data").inputs["eventPattern"]
    )
    assert rule["detail"]["bucket"]["name"] == ["fraud-dev-raw-4c1e9a"]
    target = p.get("aws:cloudwatch/eventTarget:EventTarget", "card-fraud-retraining-new-data-start").inputs
    assert target["arn"] == f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:pipeline/fraud-dev-card-fraud"


def test_model_endpoint_is_encrypted_and_its_monitors_run_in_its_security_group():
    p = plan("model-endpoint")
    config = p.get("aws:sagemaker/endpointConfiguration:EndpointConfiguration", "card-fraud-config").inputs
    assert config["kmsKeyArn"] == KEY and config["dataCaptureConfig"]["kmsKeyId"] == KEY
    schedules = p.of_type("aws:sagemaker/monitoringSchedule:MonitoringSchedule")
    assert {s.inputs["monitoringScheduleConfig"]["monitoringType"] for s in schedules} == {
        "DataQuality", "ModelQuality", "ModelBias",
    }  # fmt: skip
    data_quality = p.get(
        "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition", "card-fraud-monitors-data-quality"
    ).inputs
    assert data_quality["networkConfig"]["vpcConfig"]["securityGroupIds"] == ["card-fraud-sg-id"]


def test_governance_roles_are_capped_by_the_data_boundary_and_replicas_live_in_the_dr_region():
    p = plan("governance")
    boundaries = {
        r.name: r.inputs.get("permissionsBoundary")
        for r in p.of_type("aws:iam/role:Role")
        if r.name in ("features-role", "dr-role")
    }
    assert set(boundaries.values()) == {f"arn:aws:iam::{ACCOUNT}:policy/fraud-dev-data-role-boundary"}, boundaries
    replicas = [r for r in p.of_type("aws:s3/bucket:Bucket") if r.name.startswith("dr-")]
    assert {r.provider for r in replicas} == {"aws-dr"}  # the replicas and their access-log bucket
    assert sorted(r.name for r in replicas if "access-logs" not in r.name) == ["dr-artifacts-bucket", "dr-raw-bucket"]
    assert p.of_type("aws:cloudtrail/trail:Trail")[0].inputs["isMultiRegionTrail"]


def test_ci_runner_sits_in_private_subnets_under_the_boundary():
    p = plan("ci")
    project = p.get("aws:codebuild/project:Project", "runner-project").inputs
    assert project["vpcConfig"]["subnets"] == ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]
    assert project["encryptionKey"] == KEY
    role = p.get("aws:iam/role:Role", "runner-role").inputs
    assert role["permissionsBoundary"].endswith(":policy/fraud-dev-service-boundary")


def test_gpu_training_sends_every_kubernetes_resource_to_the_clusters_provider_and_keeps_the_api_private():
    p = plan("gpu-training")
    k8s = [r for r in p.resources if r.custom and r.type.startswith("kubernetes:")]
    assert k8s and {r.provider for r in k8s} == {"training-k8s"}
    vpc = p.get("aws:eks/cluster:Cluster", "training-cluster").inputs["vpcConfig"]
    assert vpc["endpointPublicAccess"] is False
    assert {r.inputs["metadata"]["name"] for r in p.of_type("kubernetes:core/v1:Namespace")} >= {"scoring", "research"}
