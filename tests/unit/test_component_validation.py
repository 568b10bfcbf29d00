"""Every public component refuses bad arguments at its edge: one error naming the component, the argument and
the value, raised before a single resource (the component itself included) is registered."""

import dataclasses
import inspect
import typing
from unittest.mock import patch

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pytest
from mlops_platform.components import _arg_rules, _validation
from mlops_platform.components._validation import ComponentArgumentError, check_args
from mlops_platform.components.access import GitHubTrust, PersonaRoles
from mlops_platform.components.audit import AuditTrail
from mlops_platform.components.boundaries import ServiceRoleBoundary
from mlops_platform.components.ci_runner import GitHubRunner
from mlops_platform.components.data_boundary import DataServiceBoundary
from mlops_platform.components.encryption import EncryptionKey
from mlops_platform.components.features import Feature, FeatureGroupSpec, FeatureStore, FeatureType, OnlineStore
from mlops_platform.components.model_monitoring import ModelMonitors, ModelQualityAlarm, MonitorVpc
from mlops_platform.components.monitoring import AlertSubscription, AlertTopic, Budgets, EnvironmentDashboard
from mlops_platform.components.network import Network
from mlops_platform.components.pipelines import JobSecurityGroup, ModelApprovalNotifications, TrainingPipeline
from mlops_platform.components.registry import ContainerRepository, ExperimentTracking, ModelPackageGroup
from mlops_platform.components.replication import CrossRegionReplication, ReplicatedBucket
from mlops_platform.components.retraining import NewDataTrigger, PipelineRetraining, RawDataEvents
from mlops_platform.components.roles import ExecutionRole
from mlops_platform.components.serving import (
    AlarmThresholds,
    ContainerModel,
    ModelEndpoint,
    ModelPackage,
    Rollout,
    RolloutType,
    Variant,
)
from mlops_platform.components.storage import DataLake, ObjectLock, ObjectLockMode, SecureBucket
from mlops_platform.components.tenancy import Team, Tenancy
from mlops_platform.components.training import GpuCapacity, GpuPool, TrainingCluster
from mlops_platform.infra.tooling.offline import record

from tests.unit.test_model_monitoring_and_retraining import monitor_args, retraining_args
from tests.unit.test_pipelines import _pipeline_args

ACCOUNT = "123456789012"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/abcd"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ml-engineer"
OFFLINE_STORE = (
    f"s3://features-bucket/feature-store/{ACCOUNT}/sagemaker/eu-west-1/offline-store/p-dev-churn-1767225600/data"
)
"""A feature group's ResolvedOutputS3Uri."""
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/key-admin"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/p-dev-service-boundary"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts"
PACKAGE = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package/churn/3"
IMAGE = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/p-dev/serving:1.0"
CONNECTION = f"arn:aws:codeconnections:us-east-1:{ACCOUNT}:connection/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
BUCKETS = {zone: f"arn:aws:s3:::p-dev-{zone}" for zone in ("raw", "curated", "features", "artifacts")}


def _provider() -> k8s.Provider:
    return k8s.Provider("k8s", kubeconfig="{}")


def _group(**overrides) -> FeatureGroupSpec:
    features = [Feature("customer_id", FeatureType.STRING), Feature("event_time", FeatureType.STRING)]
    return FeatureGroupSpec(**{"name": "p-dev-customers", "record_identifier": "customer_id",
                               "event_time": "event_time", "features": features, **overrides})  # fmt: skip


def _source(**overrides) -> ReplicatedBucket:
    return ReplicatedBucket(**{"zone": "artifacts", "bucket_name": "p-dev-artifacts",
                               "bucket_arn": BUCKETS["artifacts"], **overrides})  # fmt: skip


def _endpoint(**overrides):
    return {
        "endpoint_name": "p-dev-churn",
        "execution_role_arn": ROLE,
        "kms_key_arn": KEY,
        "variants": [Variant("blue", ModelPackage(PACKAGE), "ml.m5.large")],
        "vpc": None,
        "data_capture": None,
        **overrides,
    }


BASES: dict[type, typing.Callable[[], dict]] = {
    EncryptionKey: lambda: {"account_id": ACCOUNT, "administrator_role_arns": [ADMIN], "user_role_arns": [ROLE]},
    SecureBucket: lambda: {"kms_key_arn": KEY, "access_log_bucket": "p-dev-logs"},
    DataLake: lambda: {"kms_key_arn": KEY, "account_id": ACCOUNT, "name_prefix": "p-dev"},
    PersonaRoles: lambda: {
        "name_prefix": "p-dev",
        "account_id": ACCOUNT,
        "region": "us-east-1",
        "kms_key_arn": KEY,
        "bucket_arns": BUCKETS,
        "principal_arns": {
            "data-scientist": [f"arn:aws:iam::{ACCOUNT}:role/DataScience"],
            "ml-engineer": [ROLE],
            "model-approver": [f"arn:aws:iam::{ACCOUNT}:role/ModelRisk"],
        },
        "github": GitHubTrust("repo:acme/mlops:environment:dev"),
    },
    ServiceRoleBoundary: lambda: {"account_id": ACCOUNT, "region": "us-east-1", "name_prefix": "p-dev"},
    AlertTopic: lambda: {
        "topic_name": "p-dev-alerts",
        "account_id": ACCOUNT,
        "region": "us-east-1",
        "kms_key_arn": KEY,
    },
    EnvironmentDashboard: lambda: {"dashboard_name": "p-dev", "region": "us-east-1", "endpoint_names": ["p-dev-churn"]},
    Budgets: lambda: {"name_prefix": "p-dev", "environment": "dev", "monthly_limit_usd": 100, "topic_arn": TOPIC},
    Network: lambda: {
        "cidr_block": "10.0.0.0/16",
        "availability_zones": ["us-east-1a", "us-east-1b"],
        "region": "us-east-1",
        "flow_log_kms_key_arn": KEY,
        "flow_log_retention_days": 90,
    },
    TrainingPipeline: lambda: _pipeline_args(),
    ModelApprovalNotifications: lambda: {
        "rule_name": "p-dev-approvals",
        "model_package_group_name": "churn",
        "topic_arn": TOPIC,
    },
    JobSecurityGroup: lambda: {"vpc_id": "vpc-1", "vpc_cidr": "10.0.0.0/16", "s3_prefix_list_id": "pl-1"},
    ContainerRepository: lambda: {
        "repository_name": "p-dev/serving",
        "kms_key_arn": KEY,
        "push_principal_arns": [ROLE],
        "pull_principal_arns": [ROLE],
    },
    ModelPackageGroup: lambda: {"group_name": "churn", "account_id": ACCOUNT, "region": "us-east-1"},
    ExperimentTracking: lambda: {
        "name_prefix": "p-dev",
        "account_id": ACCOUNT,
        "region": "us-east-1",
        "artifacts_bucket_name": "p-dev-artifacts",
        "artifacts_bucket_arn": BUCKETS["artifacts"],
        "kms_key_arn": KEY,
    },
    ModelEndpoint: _endpoint,
    Tenancy: lambda: {
        "cluster_name": "p-dev-training",
        "cluster_arn": f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/p-dev-training",
        "account_id": ACCOUNT,
        "region": "us-east-1",
        "name_prefix": "p-dev",
        "k8s_provider": _provider(),
        "kms_key_arn": KEY,
        "bucket_arns": BUCKETS,
        "vpc_cidr": "10.10.0.0/16",
        "gpu_pools": ["small"],
        "teams": [Team("vision", "small", 4, "64", "512Gi")],
    },
    GpuCapacity: lambda: {
        "cluster_name": "p-dev-training",
        "cluster_arn": f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/p-dev-training",
        "cluster_endpoint": "https://example.eks.amazonaws.com",
        "account_id": ACCOUNT,
        "region": "us-east-1",
        "kms_key_arn": KEY,
        "discovery_tag": "p-dev",
        "k8s_provider": _provider(),
        "pools": [GpuPool("small", 16, instance_families=("g5",))],
    },
    TrainingCluster: lambda: {
        "cluster_name": "p-dev-training",
        "kubernetes_version": "1.35",
        "account_id": ACCOUNT,
        "region": "us-east-1",
        "subnet_ids": ["subnet-a", "subnet-b"],
        "kms_key_arn": KEY,
    },
    ExecutionRole: lambda: {"service": "sagemaker.amazonaws.com", "account_id": ACCOUNT},
    FeatureStore: lambda: {
        "name_prefix": "p-dev",
        "account_id": ACCOUNT,
        "region": "us-east-1",
        "kms_key_arn": KEY,
        "features_bucket_name": "p-dev-features",
        "features_bucket_arn": BUCKETS["features"],
        "groups": [_group()],
        "permissions_boundary_arn": BOUNDARY,
    },
    AuditTrail: lambda: {
        "name_prefix": "p-dev",
        "account_id": ACCOUNT,
        "region": "us-east-1",
        "kms_key_arn": KEY,
        "access_log_bucket": "p-dev-logs",
        "data_bucket_arns": list(BUCKETS.values()),
        "logs_role_boundary_arn": BOUNDARY,
        "alert_topic_arn": TOPIC,
    },
    CrossRegionReplication: lambda: {
        "name_prefix": "p-dev",
        "account_id": ACCOUNT,
        "source_region": "us-east-1",
        "replica_region": "us-west-2",
        "replica_provider": aws.Provider("replica", region="us-west-2"),
        "source_kms_key_arn": KEY,
        "sources": [_source()],
        "permissions_boundary_arn": BOUNDARY,
        "administrator_role_arns": [ADMIN],
    },
    DataServiceBoundary: lambda: {
        "account_id": ACCOUNT,
        "name_prefix": "p-dev",
        "environment": "dev",
        "regions": ["us-east-1", "us-west-2"],
        "glue_database": "p_dev_features",
    },
    GitHubRunner: lambda: {
        "project_name": "p-dev-ci-runner",
        "account_id": ACCOUNT,
        "region": "us-east-1",
        "repository": "acme/mlops",
        "connection_arn": CONNECTION,
        "vpc_id": "vpc-1",
        "subnet_ids": ["subnet-a", "subnet-b"],
        "kms_key_arn": KEY,
        "permissions_boundary_arn": BOUNDARY,
        "workflows": ["Deploy", "Drift"],
    },
}
"""Valid arguments of every public component (the bad cases below change one thing)."""

BAD: list[tuple[type, dict, str]] = [
    # the cases
    (SecureBucket, {"abort_incomplete_multipart_upload_days": 500}, "abort_incomplete_multipart_upload_days=500"),
    (SecureBucket, {"intelligent_tiering_after_days": -1}, "intelligent_tiering_after_days=-1"),
    (SecureBucket, {"kms_key_arn": "alias/data"}, "kms_key_arn='alias/data': not a KMS key ARN"),
    (SecureBucket, {"object_lock": ObjectLock(ObjectLockMode.COMPLIANCE, 0)}, "object_lock.retention_days=0"),
    (SecureBucket, {"colour": "red"}, "unknown key(s) colour; SecureBucketArgs accepts kms_key_arn"),
    (SecureBucket, {"log_target": True, "access_logging": False}, "log_target needs log_source_account_id"),
    (SecureBucket, {"log_target": True, "encryption": "aws:kms", "log_source_account_id": ACCOUNT}, "SSE-S3"),
    (EncryptionKey, {"account_id": "12345"}, "account_id='12345': not an AWS account ID"),
    (EncryptionKey, {"user_role_arns": ROLE}, "user_role_arns='arn:aws:iam::"),
    (EncryptionKey, {"user_role_arns": ["ml-engineer"]}, "user_role_arns[0]='ml-engineer': not an IAM principal ARN"),
    (DataLake, {"account_id": _validation._UNSET}, "missing required argument account_id"),
    (DataLake, {"account_id": 123456789012}, "account_id=123456789012: Input should be a valid string"),
    (DataLake, {"kms_key_arn": None, "name_prefix": "P"}, "name_prefix='P'"),
    (PersonaRoles, {"region": "eu-west-9"}, "region='eu-west-9': not an AWS region"),
    (EncryptionKey, {"administrator_role_arns": _validation._UNSET}, "missing required argument administrator_role"),
    (EncryptionKey, {"administrator_role_arns": ["key-admin"]}, "administrator_role_arns[0]='key-admin'"),
    (EncryptionKey, {"administrator_role_arns": []}, "administrator_role_arns is empty"),
    (EncryptionKey, {"metadata_reader_role_arns": ADMIN}, "metadata_reader_role_arns='arn:aws:iam::"),
    (EncryptionKey, {"region": "eu-west-9"}, "region='eu-west-9': not an AWS region"),
    (PersonaRoles, {"principal_arns": {"data-scientist": ROLE}}, "principal_arns.data-scientist='arn:aws:iam::"),
    (
        PersonaRoles,
        {"principal_arns": {"data-scientists": [ROLE], "ml-engineer": [ROLE], "model-approver": [ADMIN]}},
        "principal_arns has unknown or non-human personas ['data-scientists']; expected keys data-scientist",
    ),
    (
        PersonaRoles,
        {"principal_arns": {"ci-deployer": [ROLE], "data-scientist": [ROLE], "ml-engineer": [ROLE]}},
        "principal_arns has unknown or non-human personas ['ci-deployer']",
    ),
    (
        PersonaRoles,
        {"principal_arns": {"data-scientist": [ROLE], "ml-engineer": [ROLE], "model-approver": []}},
        "principal_arns needs at least one role ARN for model-approver",
    ),
    (ServiceRoleBoundary, {"account_id": "12345"}, "account_id='12345'"),
    (AlertTopic, {"kms_key_arn": "key"}, "kms_key_arn='key'"),
    (AlertTopic, {"subscriptions": [AlertSubscription("sms", "+4912345")]}, "subscriptions[0].protocol='sms'"),
    (EnvironmentDashboard, {"endpoint_names": "p-dev-churn"}, "endpoint_names='p-dev-churn'"),
    (Budgets, {"topic_arn": "alerts"}, "topic_arn='alerts': not an SNS topic ARN"),
    (Network, {"region": "eu-west-9"}, "region='eu-west-9'"),
    (Network, {"cidr_block": "10.0.0.1/16"}, "cidr_block='10.0.0.1/16'"),
    (Network, {"availability_zones": "us-east-1a"}, "availability_zones='us-east-1a'"),
    (TrainingPipeline, {"execution_role_arn": "role"}, "execution_role_arn='role': not an IAM role ARN"),
    (TrainingPipeline, {"images": {"training": "python:3.12"}}, "images.training='python:3.12'"),
    (
        TrainingPipeline,
        {
            "feature_group_input": {
                "offline_store_uri": "s3://features-bucket/sandbox/",
                "record_identifier": "id",
                "event_time": "ts",
            }
        },
        "feature_group_input.offline_store_uri='s3://features-bucket/sandbox/': String should match pattern",
    ),
    (
        TrainingPipeline,
        {"feature_group_input": {"offline_store_uri": OFFLINE_STORE, "record_identifier": "id", "event_time": "id"}},
        "record_identifier and event_time are both 'id'",
    ),
    (
        TrainingPipeline,
        {
            "feature_group_input": {
                "offline_store_uri": OFFLINE_STORE,
                "record_identifier": "write_time",
                "event_time": "ts",
            }
        },
        "feature_group_input.record_identifier='write_time': is reserved by Feature Store",
    ),
    (
        TrainingPipeline,
        {"feature_group_input": {"offline_store_uri": OFFLINE_STORE}},
        "missing required argument feature_group_input.record_identifier",
    ),
    (ModelApprovalNotifications, {"topic_arn": "bad"}, "topic_arn='bad'"),
    (JobSecurityGroup, {"vpc_cidr": "10.0.0.0/33"}, "vpc_cidr='10.0.0.0/33'"),
    (ContainerRepository, {"push_principal_arns": ROLE}, "push_principal_arns='arn:aws:iam::"),
    (ContainerRepository, {"pull_principal_arns": _validation._UNSET}, "missing required argument pull_principal_arns"),
    (ModelPackageGroup, {"region": "eu-west-9"}, "region='eu-west-9'"),
    (ExperimentTracking, {"account_id": "12345"}, "account_id='12345'"),
    (ModelEndpoint, {"variants": [Variant("blue", ModelPackage("bad-arn"), "ml.m5.large")]}, "model.arn='bad-arn'"),
    (
        ModelEndpoint,
        {"variants": [Variant("blue", ContainerModel("nginx:latest", "s3://p-dev-models/m.tar.gz"), "ml.m5.large")]},
        "variants[0].model.image='nginx:latest'",
    ),
    (
        ModelEndpoint,
        {"variants": [Variant("blue", ContainerModel(IMAGE, "p-dev-models/m.tar.gz"), "ml.m5.large")]},
        "variants[0].model.model_data_url='p-dev-models/m.tar.gz'",
    ),
    (
        ModelEndpoint,
        {"variants": [Variant("main variant", ModelPackage(PACKAGE), "ml.m5.large")]},
        "variants[0].name='main variant'",
    ),
    (ModelEndpoint, {"rollout": Rollout(wait_interval_seconds=-5)}, "rollout.wait_interval_seconds=-5"),
    (ModelEndpoint, {"rollout": Rollout(type="CANARY")}, "rollout.step_percent=None is required for CANARY"),
    (ModelEndpoint, {"rollout": Rollout(type="BLUE_GREEN")}, "rollout.type='BLUE_GREEN': expected one of ALL_AT_ONCE"),
    (
        ModelEndpoint,
        {"alarms": AlarmThresholds(evaluation_periods=2, datapoints_to_alarm=3)},
        "datapoints_to_alarm=3 exceeds evaluation_periods=2",
    ),
    (ModelEndpoint, {"vpc": _validation._UNSET}, "missing required argument vpc"),
    (Tenancy, {"teams": [Team("vision", "small", 4, "64", "512Gi", member_role_arns=("x",))]}, "member_role_arns[0]"),
    (Tenancy, {"k8s_provider": "kubeconfig"}, "k8s_provider='kubeconfig'"),
    (GpuCapacity, {"account_id": None}, "account_id=None"),
    (TrainingCluster, {"region": "eu-west-9"}, "region='eu-west-9'"),
    (TrainingCluster, {"public_access_cidrs": "0.0.0.0/0"}, "public_access_cidrs='0.0.0.0/0'"),
    (ExecutionRole, {"service": "sagemaker"}, "service='sagemaker'"),
    (ExecutionRole, {"statements": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}, "allows Action '*'"),
    (ExecutionRole, {"max_session_hours": True}, "max_session_hours=True"),
    (FeatureStore, {"features_bucket_arn": "p-dev-features"}, "features_bucket_arn='p-dev-features'"),
    (FeatureStore, {"groups": [_group(name="customers v2")]}, "groups[0].name='customers v2'"),
    (
        FeatureStore,
        {"groups": [_group(features=[Feature("customer_id", "Binary")])]},
        "groups[0].features[0].type='Binary': expected one of Integral, Fractional, String",
    ),
    (FeatureStore, {"groups": [_group(online_store=OnlineStore(ttl_value=0))]}, "groups[0].online_store.ttl_value=0"),
    (FeatureStore, {"groups": [_group(), _group()]}, "feature group names repeat: p-dev-customers"),
    (
        FeatureStore,
        {"groups": [_group(event_time="updated_at")]},
        "event_time='updated_at' is not one of its features (customer_id, event_time)",
    ),
    (AuditTrail, {"data_bucket_arns": ["p-dev-raw"]}, "data_bucket_arns[0]='p-dev-raw'"),
    (AuditTrail, {"data_bucket_arns": []}, "data_bucket_arns is empty"),
    (AuditTrail, {"log_retention_days": 100}, "log_retention_days=100: 100 is not a CloudWatch Logs retention"),
    (AuditTrail, {"alert_topic_arn": "alerts"}, "alert_topic_arn='alerts': not an SNS topic ARN"),
    (CrossRegionReplication, {"replica_region": "us-west-9"}, "replica_region='us-west-9': not an AWS region"),
    (CrossRegionReplication, {"replica_region": "us-east-1"}, "replica_region='us-east-1' is the source region"),
    (CrossRegionReplication, {"replica_provider": "us-west-2"}, "replica_provider='us-west-2'"),
    (CrossRegionReplication, {"sources": [_source(bucket_arn="p-dev-artifacts")]}, "sources[0].bucket_arn="),
    (
        CrossRegionReplication,
        {"sources": [_source(depends_on=("p-dev-artifacts",))]},
        "depends_on[0]='p-dev-artifacts' is not a pulumi.Resource",
    ),
    (CrossRegionReplication, {"administrator_role_arns": _validation._UNSET}, "missing required argument administ"),
    (DataServiceBoundary, {"regions": "us-east-1"}, "regions='us-east-1'"),
    (DataServiceBoundary, {"regions": []}, "regions is empty"),
    (DataServiceBoundary, {"glue_database": "p-dev-features"}, "glue_database='p-dev-features'"),
    (GitHubRunner, {"connection_arn": "github"}, "connection_arn='github': not a CodeConnections connection ARN"),
    (GitHubRunner, {"workflows": "Deploy"}, "workflows='Deploy'"),
    (GitHubRunner, {"build_timeout_minutes": 1}, "build_timeout_minutes=1"),
    (GitHubRunner, {"repository": "mlops"}, "repository='mlops'"),
]

# The monitoring loop: model monitors and event-driven retraining.
BASES.update(
    {
        ModelMonitors: monitor_args,
        PipelineRetraining: retraining_args,
        RawDataEvents: lambda: {"bucket_name": "p-dev-raw"},
    }
)
BAD += [
    (ModelMonitors, {"name_prefix": "x" * 41}, f"name_prefix='{'x' * 41}': expected 1-40 letters"),
    (ModelMonitors, {"endpoint_name": "p_dev_churn"}, "endpoint_name='p_dev_churn'"),
    (ModelMonitors, {"execution_role_arn": "p-dev-inference"}, "execution_role_arn='p-dev-inference': not an IAM role"),
    (ModelMonitors, {"instance_type": "ml.g5.xlarge"}, "instance_type='ml.g5.xlarge': has local NVMe storage"),
    (ModelMonitors, {"instance_type": "ml.m5.huge"}, "instance_type='ml.m5.huge': not a SageMaker processing"),
    (ModelMonitors, {"max_runtime_seconds": 7200}, "max_runtime_seconds=7200"),
    (ModelMonitors, {"probability_threshold": 1.0}, "probability_threshold=1.0"),
    (ModelMonitors, {"problem_type": "Ranking"}, "problem_type='Ranking': expected one of BinaryClassification"),
    (ModelMonitors, {"reports_s3_uri": "s3://artifacts/reports"}, "reports_s3_uri='s3://artifacts/reports': must end"),
    (ModelMonitors, {"baseline_s3_uri": "artifacts/baselines"}, "baseline_s3_uri='artifacts/baselines'"),
    (ModelMonitors, {"schedule_expression": "rate(1 hour)"}, "schedule_expression='rate(1 hour)': not a cron"),
    (ModelMonitors, {"vpc": MonitorVpc([], ["sg-1"])}, "0 subnet_ids and 1 security_group_ids"),
    (ModelMonitors, {"vpc": _validation._UNSET}, "missing required argument vpc"),
    (ModelMonitors, {"quality_alarm": ModelQualityAlarm("AUC", 0.8)}, "quality_alarm.metric='AUC'"),
    (PipelineRetraining, {"new_data": None, "drift_schedule_arns": []}, "give new_data, drift_schedule_arns or both"),
    (PipelineRetraining, {"new_data": NewDataTrigger("p-dev-raw", "churn")}, "new_data.prefix='churn': must end"),
    (PipelineRetraining, {"new_data": NewDataTrigger("p-dev-raw", "churn/", "*")}, "new_data.marker_suffix='*'"),
    (PipelineRetraining, {"new_data": NewDataTrigger("s3://p-dev-raw", "churn/")}, "new_data.bucket_name='s3://"),
    (PipelineRetraining, {"drift_schedule_arns": "arn:aws:sagemaker"}, "drift_schedule_arns='arn:aws:sagemaker'"),
    (PipelineRetraining, {"drift_schedule_arns": ["p-dev-churn-data-quality"]}, "drift_schedule_arns[0]="),
    (PipelineRetraining, {"role_name": "r" * 65}, "role_name='rrrr"),
    (PipelineRetraining, {"region": "eu-west-9"}, "region='eu-west-9': not an AWS region"),
    (RawDataEvents, {"bucket_name": "Raw_Data"}, "bucket_name='Raw_Data'"),
    (RawDataEvents, {"bucket": "p-dev-raw"}, "unknown key(s) bucket; RawDataEventsArgs accepts bucket_name"),
]


def _attempt(component: type, overrides: dict) -> tuple[list[str], str]:
    """Build the component with one bad change; return what got registered on the way and the error text."""
    registered: list[str] = []
    original = pulumi.Resource.__init__

    def counting(self, t, name, *args, **kwargs):
        registered.append(f"{t} {name}")
        return original(self, t, name, *args, **kwargs)

    def program():
        args = {**BASES[component](), **overrides}
        args = {k: v for k, v in args.items() if v is not _validation._UNSET}
        with patch.object(pulumi.Resource, "__init__", counting):
            component("bad", args)

    with pytest.raises((TypeError, ValueError)) as caught:
        record(program)
    return registered, str(caught.value)


@pytest.mark.parametrize(("component", "overrides", "expected"), BAD, ids=[f"{c.__name__}-{e[:40]}" for c, _, e in BAD])
def test_bad_argument_is_named_before_anything_is_registered(component, overrides, expected):
    registered, message = _attempt(component, overrides)
    assert message.startswith(f"{component.__name__} 'bad': ")
    assert expected in message
    assert registered == []


def test_every_public_component_has_a_table():
    from mlops_platform.components.provider import public_components

    assert {c for c, _, _ in BAD} == set(BASES) == set(public_components())


@pytest.mark.parametrize("component", list(BASES), ids=lambda c: c.__name__)
def test_the_valid_base_passes(component):
    def program():
        check_args(component, "good", BASES[component]())

    record(program)


def test_outputs_pass_where_the_argument_says_input():
    def program():
        unknown = pulumi.Output.from_input("arn:aws:iam::123456789012:role/a")
        args = check_args(
            EncryptionKey,
            "k",
            {
                "account_id": pulumi.Output.from_input(ACCOUNT),
                "administrator_role_arns": [ADMIN],
                "user_role_arns": [unknown],
            },
        )
        assert args["user_role_arns"][0] is unknown

    record(program)


def test_dicts_and_enum_strings_become_the_annotated_types():
    args = check_args(ModelEndpoint, "e", _endpoint(rollout={"type": "LINEAR", "step_percent": 10}))
    assert args["rollout"] == Rollout(RolloutType.LINEAR, step_percent=10)
    with pytest.raises(ComponentArgumentError, match=r"rollout: unknown key\(s\) colour; Rollout accepts type"):
        check_args(ModelEndpoint, "e", _endpoint(rollout={"colour": "blue"}))


def _annotated_classes() -> dict[str, type]:
    found: dict[str, type] = {}

    def walk(hint):
        structured = isinstance(hint, type) and (typing.is_typeddict(hint) or dataclasses.is_dataclass(hint))
        if structured and hint.__name__ not in found:
            found[hint.__name__] = hint
            for _, (field, _) in _validation._fields(hint).items():
                walk(field)
        for arg in typing.get_args(hint):
            walk(arg)

    for component in BASES:
        walk(inspect.get_annotations(component.__init__)["args"])
    return found


def test_every_rule_names_a_real_field():
    classes = _annotated_classes()
    for table in (_arg_rules.FIELDS, _arg_rules.CHECKS):
        assert set(table) <= set(classes), set(table) - set(classes)
    for name, rules in _arg_rules.FIELDS.items():
        assert set(rules) <= set(_validation._fields(classes[name])), name


def test_valid_values_are_returned_as_given():
    # A StrEnum key stays a member (code compares personas by identity), an int stays an int for a float field.
    from mlops_platform.components.access import Persona

    statement = {"Sid": "X", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    args = check_args(
        PersonaRoles, "p", {**BASES[PersonaRoles](), "extra_statements": {Persona.CI_DEPLOYER: [statement]}}
    )
    assert [type(k) for k in args["extra_statements"]] == [Persona]
    budget = check_args(Budgets, "b", BASES[Budgets]())
    assert type(budget["monthly_limit_usd"]) is int


def test_principals_keyed_by_persona_members_or_their_strings_build_the_same_roles():
    # The schema needs string map keys (other languages send "data-scientist"); Python callers may use Persona.
    from mlops_platform.components.access import Persona

    def trust_policies(principals: dict) -> dict:
        def program():
            PersonaRoles("p", {**BASES[PersonaRoles](), "principal_arns": principals})

        plan = record(program)
        return {r.name: r.inputs["assumeRolePolicy"] for r in plan.resources if r.type == "aws:iam/role:Role"}

    by_string = BASES[PersonaRoles]()["principal_arns"]
    by_member = {Persona(key): arns for key, arns in by_string.items()}
    assert trust_policies(by_member) == trust_policies(by_string)


def test_the_error_is_a_run_error_the_cli_prints_without_a_traceback():
    with pytest.raises(pulumi.RunError, match="SecureBucket 'b': kms_key_arn='k'"):
        check_args(SecureBucket, "b", {"kms_key_arn": "k", "access_log_bucket": "p-dev-logs"})
