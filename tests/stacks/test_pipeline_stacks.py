"""Each stack's deployed pipelines: the definition carries that environment's key, network, role, buckets and
model group; code, schedules, roles and approval notifications are wired as configured."""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
import sys

import pytest
from mlops_platform.components.sagemaker_catalog import has_local_nvme
from mlops_platform.infra.config import PROJECT
from mlops_platform.infra.tooling.offline import stack_config
from mlops_platform.pipelines.template import KINDS, source_hash

from tests.conftest import REPO, STACKS, as_list, plan_for, policy, statements
from tests.pipeline_checks import all_steps, request_errors, unresolved_references

PIPELINE = "aws:sagemaker/pipeline:Pipeline"
GPU_PREFIXES = ("ml.p", "ml.g")


def configured(stack: str) -> list[dict]:
    return json.loads(stack_config(stack)[f"{PROJECT}:pipelines"])


def deployed(stack: str) -> dict[str, dict]:
    """Config name -> parsed definition of every deployed pipeline."""
    plan = plan_for(stack)
    return {
        entry["name"]: json.loads(plan.get(PIPELINE, f"pipeline-{entry['name']}-pipeline").inputs["pipelineDefinition"])
        for entry in configured(stack)
    }


def step(definition: dict, name: str) -> dict:
    return next(s for s in all_steps(definition) if s["Name"] == name)["Arguments"]


@pytest.mark.parametrize("stack", STACKS)
def test_every_configured_pipeline_is_deployed_with_a_valid_definition(stack):
    plan = plan_for(stack)
    names = {p.inputs["pipelineName"] for p in plan.of_type(PIPELINE)}
    assert names == {f"{PROJECT}-{stack}-{entry['name']}" for entry in configured(stack)}
    for definition in deployed(stack).values():
        assert "{{" not in json.dumps(definition)
        assert unresolved_references(definition) == []
        assert request_errors(definition) == {}


@pytest.mark.parametrize("stack", STACKS)
def test_definition_carries_the_envs_key_network_role_and_buckets(stack):
    plan = plan_for(stack)
    key = plan.outputs["data_key_arn"]
    buckets = plan.outputs["buckets"]
    subnets = plan.outputs["private_subnet_ids"]
    training_role = plan.outputs["roles"]["training"]
    jobs_sg = plan.get("aws:ec2/securityGroup:SecurityGroup", "pipeline-jobs-sg")
    for name, definition in deployed(stack).items():
        prefix = f"{PROJECT}-{stack}-{name}"
        jobs = [step(definition, n) for n in ("Preprocess", "Train", "Evaluate")]
        assert {j["RoleArn"] for j in jobs} == {training_role}
        processing = [
            s["Arguments"] for s in all_steps(definition) if s["Type"] in ("Processing", "QualityCheck", "ClarifyCheck")
        ]
        assert len(processing) == 9  # validate, preprocess, evaluate, publish and the five checks
        for job in processing:
            assert job["RoleArn"] == training_role
            assert job["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == key
            assert job["ProcessingOutputConfig"]["KmsKeyId"] == key
            vpc = job["NetworkConfig"]["VpcConfig"]
            assert (vpc["Subnets"], vpc["SecurityGroupIds"]) == (subnets, [f"{jobs_sg.name}-id"])
            assert job["NetworkConfig"]["EnableInterContainerTrafficEncryption"] is True
        train = jobs[1]
        training_type = next(p for p in definition["Parameters"] if p["Name"] == "TrainingInstanceType")
        # Local NVMe storage is encrypted by the instance; SageMaker rejects a volume key for it.
        if has_local_nvme(training_type["DefaultValue"]):
            assert "VolumeKmsKeyId" not in train["ResourceConfig"]
        else:
            assert train["ResourceConfig"]["VolumeKmsKeyId"] == key
        model = step(definition, "CreateModel")
        assert model["VpcConfig"] == {"Subnets": subnets, "SecurityGroupIds": [f"{jobs_sg.name}-id"]}
        assert train["OutputDataConfig"] == {
            "S3OutputPath": f"s3://{buckets['artifacts']}/models/{prefix}",
            "KmsKeyId": key,
        }
        assert train["VpcConfig"] == {"SecurityGroupIds": [f"{jobs_sg.name}-id"], "Subnets": subnets}
        source = next(p for p in definition["Parameters"] if p["Name"] == "InputDataUri")["DefaultValue"]
        entry = next(e for e in configured(stack) if e["name"] == name)
        if "feature_group" not in entry:  # feature-group input: test_feature_group_pipeline_trains_on_...
            assert source == f"s3://{buckets['raw']}/{prefix}/"
        assert f"s3://{buckets['curated']}/{prefix}" in json.dumps(jobs[0]["ProcessingOutputConfig"])


def test_feature_group_pipeline_trains_on_the_groups_offline_store_which_its_jobs_may_read():
    """dev's nightly pipeline sets `feature_group: churn-customer`: its data is that group's offline store (where
    AWS resolves it on creation), ValidateData is told the group's identifier and event time and hands Preprocess
    the snapshot it checked, and the training role its jobs run as may list and read the Parquet files there,
    decrypting them through S3."""
    from mlops_platform.policies.access_matrix import world
    from mlops_platform.policies.iam_eval import Decision, Request, evaluate

    plan = plan_for("dev")
    entry = next(e for e in configured("dev") if e.get("feature_group"))
    group_config = next(g for g in json.loads(stack_config("dev")[f"{PROJECT}:features"])
                        if g["name"] == entry["feature_group"])  # fmt: skip
    group = plan.get("aws:sagemaker/featureGroup:FeatureGroup", f"features-{PROJECT}-dev-{entry['feature_group']}")
    offline = group.inputs["offlineStoreConfig"]["s3StorageConfig"]
    definition = deployed("dev")[entry["name"]]
    source = next(p for p in definition["Parameters"] if p["Name"] == "InputDataUri")["DefaultValue"]
    # SageMaker's documented offline-store location, from the group's own output (the pipeline depends on it).
    w = world(plan.to_dict())
    where = f"{offline['s3Uri']}/{w.account}/sagemaker/{w.region}/offline-store/{group.inputs['featureGroupName']}"
    assert re.fullmatch(re.escape(where) + r"-\d+/data", source), source
    pipeline = plan.get(PIPELINE, f"pipeline-{entry['name']}-pipeline")
    assert group.urn in pipeline.property_dependencies["pipelineDefinition"]
    reader = ["--offline-store", "--record-identifier", group_config["record_identifier"],
              "--event-time", group_config["event_time"]]  # fmt: skip
    validate, preprocess = step(definition, "ValidateData"), step(definition, "Preprocess")
    assert validate["AppSpecification"]["ContainerArguments"][-5:] == reader
    source_input = next(i for i in validate["ProcessingInputs"] if i["InputName"] == "raw")["S3Input"]
    assert source_input["S3Uri"] == {"Get": "Parameters.InputDataUri"}
    # Preprocess trains on what ValidateData checked, not on the store as it is minutes later.
    [snapshot] = [i for i in preprocess["ProcessingInputs"] if i["InputName"] == "snapshot"]
    assert snapshot["S3Input"]["S3Uri"] == {
        "Get": "Steps.ValidateData.ProcessingOutputConfig.Outputs['snapshot'].S3Output.S3Uri"
    }
    assert "--offline-store" not in preprocess["AppSpecification"]["ContainerArguments"]
    for job in (validate, preprocess):
        lib = next(i for i in job["ProcessingInputs"] if i["InputName"] == "lib")["S3Input"]["S3Uri"]
        assert lib.endswith("/input_data.py")
    # The CSV pipeline of the same stack reads the raw prefix, and is not told about a feature group.
    other = deployed("dev")[next(e["name"] for e in configured("dev") if not e.get("feature_group"))]
    assert "--offline-store" not in step(other, "ValidateData")["AppSpecification"]["ContainerArguments"]

    training = w.role("training")
    bucket, _, prefix = source.removeprefix("s3://").partition("/")
    parquet = f"arn:aws:s3:::{bucket}/{prefix}/year=2026/month=12/day=01/hour=03/20261201T030000Z_abc.parquet"
    account = {"aws:ResourceAccount": w.account}
    for action, resource, context in (
        ("s3:GetObject", parquet, account),
        ("s3:ListBucket", f"arn:aws:s3:::{bucket}", {**account, "s3:prefix": prefix + "/"}),
    ):
        decision = evaluate(training, Request(training.arn, action, resource, context)).decision
        assert decision is Decision.ALLOW, (action, resource)
    via_s3 = {**account, "kms:ViaService": f"s3.{w.region}.amazonaws.com"}
    decrypt = Request(training.arn, "kms:Decrypt", w.key_arn, via_s3)
    assert evaluate(training, decrypt, key_policy=w.key_policy).decision is Decision.ALLOW


@pytest.mark.parametrize("stack", STACKS)
def test_training_runs_on_the_configured_type_spot_with_per_execution_checkpoints(stack):
    plan = plan_for(stack)
    artifacts = plan.outputs["buckets"]["artifacts"]
    for entry in configured(stack):
        definition = deployed(stack)[entry["name"]]
        default = next(p for p in definition["Parameters"] if p["Name"] == "TrainingInstanceType")["DefaultValue"]
        gpu = entry.get("gpu", True)
        assert default == entry.get("training_instance_type", "ml.g5.xlarge" if gpu else "ml.m5.xlarge")
        assert default.startswith(GPU_PREFIXES) == gpu
        train = step(definition, "Train")
        assert train["ResourceConfig"]["InstanceType"] == {"Get": "Parameters.TrainingInstanceType"}
        assert train["EnableManagedSpotTraining"] is True
        stop = train["StoppingCondition"]
        assert stop["MaxWaitTimeInSeconds"] >= stop["MaxRuntimeInSeconds"]
        prefix = f"{PROJECT}-{stack}-{entry['name']}"
        # One checkpoint prefix per execution: spot resumption within it, a fresh start for the next one.
        assert train["CheckpointConfig"]["S3Uri"] == {
            "Std:Join": {
                "On": "/",
                "Values": [f"s3://{artifacts}/checkpoints/{prefix}", {"Get": "Execution.PipelineExecutionId"}],
            }
        }


@pytest.mark.parametrize("stack", STACKS)
def test_registration_goes_into_the_models_group_pending_approval_with_the_report(stack):
    groups = plan_for(stack).outputs["model_package_group_names"]
    for entry in configured(stack):
        definition = deployed(stack)[entry["name"]]
        register = step(definition, "Register")
        assert register["ModelPackageGroupName"] == groups[entry["model"]]
        assert register["ModelApprovalStatus"] == "PendingManualApproval"
        statistics = register["ModelMetrics"]["ModelQuality"]["Statistics"]
        assert statistics["ContentType"] == "application/json"
        assert "evaluation.json" in json.dumps(statistics["S3Uri"])
        baselines = register["DriftCheckBaselines"]
        assert set(baselines) == {"ModelQuality", "ModelDataQuality", "Bias", "Explainability"}
        assert baselines["ModelDataQuality"]["Constraints"]["S3Uri"] == {
            "Get": "Steps.DataQualityCheck.BaselineUsedForDriftCheckConstraints"
        }
        assert set(register["ModelMetrics"]) == {"ModelQuality", "ModelDataQuality", "Bias", "Explainability"}
        threshold = next(p for p in definition["Parameters"] if p["Name"] == "MetricThreshold")["DefaultValue"]
        assert threshold == entry["threshold"]
        gate = step(definition, "MetricAboveThreshold")["Conditions"][0]["LeftValue"]["Std:JsonGet"]["Path"]
        assert gate == f"binary_classification_metrics.{entry.get('metric', 'auc')}.value"


@pytest.mark.parametrize("stack", STACKS)
def test_scripts_uploaded_where_the_definition_points(stack):
    plan = plan_for(stack)
    scripts_hash = source_hash(KINDS["train-evaluate-register"].scripts())
    for entry in configured(stack):
        objects = [
            o
            for o in plan.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
            if o.name.startswith(f"pipeline-{entry['name']}-code-")
        ]
        uris = {f"s3://{o.inputs['bucket']}/{o.inputs['key']}" for o in objects}
        text = json.dumps(deployed(stack)[entry["name"]])
        referenced = {u for u in uris if u in text}
        # 4 scripts and the input reader they share, the training archive, 3 Clarify analysis and 2 monitoring
        # configurations, the bias limits
        assert referenced == uris and len(uris) == 12
        assert all(f"/{scripts_hash}/" in u or u.endswith("/config/bias-constraints.json") for u in uris)


@pytest.mark.parametrize("stack", STACKS)
def test_schedules_roles_and_notifications_follow_the_config(stack):
    plan = plan_for(stack)
    schedules = {
        s.name.removeprefix("pipeline-").removesuffix("-schedule"): s.inputs
        for s in plan.of_type("aws:scheduler/schedule:Schedule")
    }
    assert schedules.keys() == {e["name"] for e in configured(stack) if e.get("schedule")}
    for entry in configured(stack):
        if entry.get("schedule"):
            assert schedules[entry["name"]]["scheduleExpression"] == entry["schedule"]
            assert schedules[entry["name"]]["scheduleExpressionTimezone"] == entry.get("schedule_timezone", "UTC")
        role = plan.get("aws:iam/role:Role", f"pipeline-{entry['name']}-role")
        assert role.inputs["permissionsBoundary"]
    rules = plan.of_type("aws:cloudwatch/eventRule:EventRule")
    approval_rules = {
        json.loads(r.inputs["eventPattern"])["detail"]["ModelPackageGroupName"][0]
        for r in rules
        if "Model Package State Change" in r.inputs["eventPattern"]
    }
    assert approval_rules == {e["model"] for e in configured(stack)}  # one per model, not per pipeline
    topic = plan.outputs["alert_topic_arn"]
    targets = [t for t in plan.of_type("aws:cloudwatch/eventTarget:EventTarget") if t.name.startswith("approvals-")]
    assert {t.inputs["arn"] for t in targets} == {topic}


@pytest.mark.parametrize("stack", STACKS)
def test_env_key_lets_the_pipeline_roles_use_it(stack):
    plan = plan_for(stack)
    key_policy = statements(policy(plan.get("aws:kms/key:Key", "data-key-key")))
    users = next(s for s in key_policy if s["Sid"] == "KeyUseByPlatformRolesThroughServices")["Condition"]["ArnEquals"]
    for entry in configured(stack):
        role = plan.get("aws:iam/role:Role", f"pipeline-{entry['name']}-role")
        assert (
            f"arn:aws:iam::{plan_for(stack).outputs['roles']['training'].split(':')[4]}:role/{role.inputs['name']}"
            in users["aws:PrincipalArn"]
        )


def test_prod_trains_the_scikit_learn_churn_model_on_a_larger_cpu_with_a_stricter_bar_than_dev():
    dev, prod = configured("dev")[0], configured("prod")[0]
    assert prod["threshold"] > dev["threshold"]
    assert prod["gpu"] is False and not prod["training_instance_type"].startswith(GPU_PREFIXES)
    assert prod["training_instance_type"] != dev["training_instance_type"]
    assert prod["bias"]["max_dppl"] < 0.2  # stricter than the default


def test_checked_in_template_is_current():
    """Re-render with the sagemaker SDK and compare; fix with `uv run python -m mlops_platform.pipelines.render`.

    The only test that imports the SDK (in its own process: importing it creates boto3 clients)."""
    result = subprocess.run(
        [sys.executable, "-m", "mlops_platform.infra.tooling.cli", "pipelines", "render", "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert out.count("up to date") == 3 and "STALE" not in out  # both storage variants and the assets


def test_preview_never_imports_sagemaker():
    """The prod plan deploys pipelines from the checked-in template, without the SDK: the session's prod
    preview ran in this process, and no other test here imports the SDK."""
    plan = plan_for("prod")
    assert plan.of_type(PIPELINE)
    assert not [m for m in sys.modules if m == "sagemaker" or m.startswith("sagemaker.")]


def test_preview_labels_show_the_pipelines_security_settings():
    from mlops_platform.infra.tooling.report import key_settings

    plan = plan_for("prod")
    labels = key_settings(plan.get(PIPELINE, "pipeline-churn-pipeline"), plan)
    assert labels[0].startswith("ValidateData → Preprocess → DataQualityCheck → DataBiasCheck → Train")
    assert {
        "volumes KMS",
        "VPC",
        "train ml.m5.2xlarge",
        "checks: DataQualityCheck, DataBiasCheck, ModelQualityCheck, ModelBiasCheck, ModelExplainabilityCheck",
        "drift baselines: ModelQuality, ModelDataQuality, Bias, Explainability",
        "spot + checkpoints",
        "registers into churn-model (PendingManualApproval)",
        "gate ≥ 0.85",
    } <= set(labels)
    schedule = plan.get("aws:scheduler/schedule:Schedule", "pipeline-churn-schedule")
    assert key_settings(schedule, plan) == ["cron(0 3 ? * MON *) Europe/Berlin"]


@pytest.mark.parametrize("stack", STACKS)
def test_pipeline_roles_fit_under_the_persona_boundary_the_deployer_enforces(stack):
    plan = plan_for(stack)
    boundary = plan.get("aws:iam/policy:Policy", "personas-boundary")
    boundary_doc = statements(policy(boundary))
    allowed = {a for s in boundary_doc if s["Effect"] == "Allow" for a in as_list(s["Action"])}
    training_role = plan.outputs["roles"]["training"]
    for entry in configured(stack):
        role = plan.get("aws:iam/role:Role", f"pipeline-{entry['name']}-role")
        assert (
            role.inputs["permissionsBoundary"] == f"arn:aws:iam::{training_role.split(':')[4]}:policy/"
            f"{boundary.inputs['name']}"
        )
        own = statements(policy(plan.get("aws:iam/rolePolicy:RolePolicy", f"pipeline-{entry['name']}-role-policy")))
        needed = {a for s in own for a in as_list(s["Action"])}
        # The boundary may collapse read verbs (`sagemaker:Describe*`) to stay within the managed-policy size.
        missing = {a for a in needed if not any(fnmatch.fnmatchcase(a, pattern) for pattern in allowed)}
        assert not missing, missing
    passes = [s for s in boundary_doc if "iam:PassRole" in as_list(s["Action"]) and s["Effect"] == "Allow"]
    assert [s["Resource"] for s in passes] == [training_role]
    deployer = statements(policy(plan.get("aws:iam/policy:Policy", "personas-deploy-pipelines")))
    sids = {s["Sid"] for s in deployer}
    assert "ManageEnvPipelines" in sids


@pytest.mark.parametrize("stack", STACKS)
def test_training_role_can_run_jobs_in_the_vpc(stack):
    plan = plan_for(stack)
    training = statements(policy(plan.get("aws:iam/rolePolicy:RolePolicy", "personas-training-policy")))
    by_sid = {s["Sid"]: s for s in training}
    account = plan.outputs["roles"]["training"].split(":")[4]
    enis = by_sid["TrainingNetworkInterfacesInEnvVpc"]
    assert "ec2:CreateNetworkInterface" in enis["Action"]
    assert enis["Condition"]["ArnEquals"]["ec2:Vpc"] == f"arn:aws:ec2:us-east-1:{account}:vpc/{plan.outputs['vpc_id']}"
    assert by_sid["TrainingJobLogs"]["Resource"] == f"arn:aws:logs:us-east-1:{account}:log-group:/aws/sagemaker/*Jobs*"
    # Clarify's model checks may only create, use and delete their temporary sm-clarify-* endpoints.
    shadow = by_sid["ClarifyShadowEndpoints"]
    assert shadow["Resource"] == f"arn:aws:sagemaker:us-east-1:{account}:endpoint*/sm-clarify-*"
    assert "sagemaker:InvokeEndpoint" in shadow["Action"] and "sagemaker:UpdateEndpoint" not in shadow["Action"]
    engineer = statements(policy(plan.get("aws:iam/rolePolicy:RolePolicy", "personas-ml-engineer-policy")))
    operate = {s["Sid"]: s for s in engineer}
    # Engineers register versions pending review; only the model approver sets the approval status.
    assert not any("sagemaker:UpdateModelPackage" in as_list(s["Action"]) for s in engineer)
    assert operate["RegisterPendingModelVersions"]["Condition"] == {
        "StringEqualsIfExists": {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}
    }
    assert operate["PassTrainingRoleToSageMaker"]["Resource"] == plan.outputs["roles"]["training"]


def test_without_pipelines_nothing_pipeline_related_is_deployed_or_granted():
    from mlops_platform.infra.tooling.offline import preview_stack

    config = {k: v for k, v in stack_config("dev").items() if k != f"{PROJECT}:pipelines"}
    plan = preview_stack("dev", config=config)
    assert not plan.of_type(PIPELINE) and not plan.of_type("aws:scheduler/schedule:Schedule")
    assert not [r for r in plan.resources if r.type.startswith("mlops:pipelines:")]
    engineer = statements(policy(plan.get("aws:iam/rolePolicy:RolePolicy", "personas-ml-engineer-policy")))
    deployer = statements(policy(plan.get("aws:iam/rolePolicy:RolePolicy", "personas-ci-deployer-deploy-policy")))
    sids = {s["Sid"] for s in engineer + deployer}
    assert not sids & {"PipelineJobsAndPackages", "RunEnvPipelines", "ManageEnvPipelines"}
    assert plan.outputs["pipelines"] == {}


@pytest.mark.parametrize("stack", STACKS)
def test_the_stack_outputs_the_security_group_a_persons_jobs_must_name(stack):
    """ML engineers start jobs only in the job security group and cannot describe security groups: the stack output
    `job_security_group_id` is the group their policy admits, and the one the pipelines use."""
    plan = plan_for(stack)
    group = plan.outputs["job_security_group_id"]
    assert group == f"{plan.get('aws:ec2/securityGroup:SecurityGroup', 'pipeline-jobs-sg').name}-id"
    engineer = statements(policy(plan.get("aws:iam/rolePolicy:RolePolicy", "personas-ml-engineer-policy")))
    pinned = [s["Condition"]["ForAllValues:StringEquals"]["sagemaker:VpcSecurityGroupIds"] for s in engineer
              if "ForAllValues:StringEquals" in s.get("Condition", {})]  # fmt: skip
    assert pinned and all(as_list(values) == [group] for values in pinned)
