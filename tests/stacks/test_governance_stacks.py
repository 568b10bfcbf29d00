"""Every stack: feature groups encrypted with the env key in the features bucket, who may touch which group, the
audit trail and its bucket, prod's cross-region replicas, and who may use the MLflow tracking server."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase

import pytest
from mlops_platform.components.access import Persona
from mlops_platform.components.audit import AUDIT_SIGNALS, trail_arn
from mlops_platform.components.features import glue_database_name
from mlops_platform.components.replication import REPLICA_OBJECT_ACTIONS, SOURCE_OBJECT_ACTIONS

from tests.conftest import STACKS, as_list, plan_for, policy, statements
from tests.stacks.test_registry_monitoring import settings_for

FEATURE_GROUP = "aws:sagemaker/featureGroup:FeatureGroup"
TRAIL = "aws:cloudtrail/trail:Trail"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"


def persona_policy(plan, persona: Persona) -> list[dict]:
    """The persona's own inline policy and its `governance-access` policy, when it has one."""
    found = statements(policy(plan.get(ROLE_POLICY, f"personas-{persona.value}-policy")))
    governance = [r for r in plan.of_type(ROLE_POLICY) if r.name == f"governance-{persona.value}"]
    return found + [s for r in governance for s in statements(policy(r))]


def allowed(statement_list: list[dict], action: str, resource: str) -> bool:
    """Whether some Allow statement grants `action` on `resource` (IAM wildcards honoured; conditions ignored)."""
    return any(
        s["Effect"] == "Allow"
        and any(fnmatchcase(action, a) for a in as_list(s["Action"]))
        and any(fnmatchcase(resource, r) for r in as_list(s["Resource"]))
        for s in statement_list
    )


def group_arn(settings, group) -> str:
    return f"arn:aws:sagemaker:{settings.region}:{settings.account}:feature-group/{settings.name_prefix}-{group.name}"


# --- feature store ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_feature_groups_encrypted_with_the_env_key_under_their_prefix_in_the_features_bucket(stack):
    plan, settings = plan_for(stack), settings_for(stack)
    groups = {g.inputs["featureGroupName"]: g for g in plan.of_type(FEATURE_GROUP)}
    assert set(groups) == {f"{settings.name_prefix}-{g.name}" for g in settings.features}
    features_bucket, key = plan.outputs["buckets"]["features"], plan.outputs["data_key_arn"]
    for config in settings.features:
        group = groups[f"{settings.name_prefix}-{config.name}"]
        offline = group.inputs["offlineStoreConfig"]
        root = "sandbox/feature-store" if config.stage.value == "sandbox" else "feature-store"
        assert offline["s3StorageConfig"] == {
            "s3Uri": f"s3://{features_bucket}/{root}/{settings.name_prefix}-{config.name}",
            "kmsKeyId": key,
        }
        assert offline["dataCatalogConfig"]["database"] == glue_database_name(settings.name_prefix)
        assert offline["tableFormat"] == config.table_format.value
        online = group.inputs.get("onlineStoreConfig")
        if config.online_store is None:
            assert online is None, "online store only where configured"
        else:
            assert online["enableOnlineStore"] is True and online["securityConfig"] == {"kmsKeyId": key}
            assert online["ttlDuration"] == {"value": config.online_store.ttl_value, "unit": "Days"}
        assert group.options["protect"] is settings.protection.protect_stateful


def test_online_stores_only_in_staging_and_prod_as_their_files_say():
    online = {
        s: [g.name for g in plan_for(s).of_type(FEATURE_GROUP) if g.inputs.get("onlineStoreConfig")] for s in STACKS
    }
    assert online == {"dev": [], "staging": ["features-mlops-platform-staging-churn-customer"],
                      "prod": ["features-mlops-platform-prod-churn-customer"]}  # fmt: skip


@pytest.mark.parametrize("stack", STACKS)
def test_personas_touch_feature_groups_as_the_grants_table_says(stack):
    plan, settings = plan_for(stack), settings_for(stack)
    policies = {p: persona_policy(plan, p) for p in Persona}
    for group in settings.features:
        arn, sandbox = group_arn(settings, group), group.stage.value == "sandbox"
        assert allowed(policies[Persona.DATA_SCIENTIST], "sagemaker:GetRecord", arn)
        assert allowed(policies[Persona.DATA_SCIENTIST], "sagemaker:PutRecord", arn) is sandbox
        assert allowed(policies[Persona.ML_ENGINEER], "sagemaker:PutRecord", arn) is not sandbox
        assert allowed(policies[Persona.ML_ENGINEER], "sagemaker:UpdateFeatureGroup", arn) is not sandbox
        assert allowed(policies[Persona.TRAINING], "sagemaker:BatchGetRecord", arn)
        assert not allowed(policies[Persona.TRAINING], "sagemaker:PutRecord", arn)
        served = not sandbox and group.online_store is not None
        assert allowed(policies[Persona.INFERENCE], "sagemaker:GetRecord", arn) is served
        assert not allowed(policies[Persona.INFERENCE], "sagemaker:PutRecord", arn)
        for persona in (Persona.CI_DEPLOYER, Persona.CI_PREVIEWER):
            assert not allowed(policies[persona], "sagemaker:PutRecord", arn)
            assert not allowed(policies[persona], "sagemaker:GetRecord", arn)


@pytest.mark.parametrize("stack", STACKS)
def test_offline_store_role_writes_only_its_groups_prefixes_and_may_use_the_key(stack):
    plan, settings = plan_for(stack), settings_for(stack)
    role_policy = statements(policy(plan.get(ROLE_POLICY, "features-role-policy")))
    features = f"arn:aws:s3:::{plan.outputs['buckets']['features']}"
    writes = [r for s in role_policy if "s3:PutObject" in as_list(s["Action"]) for r in as_list(s["Resource"])]
    roots = {"sandbox": "sandbox/feature-store", "production": "feature-store"}
    assert sorted(writes) == sorted(
        {f"{features}/{roots[g.stage.value]}/{settings.name_prefix}-{g.name}/*" for g in settings.features}
    )
    key_policy = statements(policy(plan.get("aws:kms/key:Key", "data-key-key")))
    users = next(s for s in key_policy if s["Sid"] == "KeyUseByPlatformRolesThroughServices")["Condition"]["ArnEquals"]
    assert f"arn:aws:iam::{settings.account}:role/{settings.name_prefix}-feature-store" in users["aws:PrincipalArn"]


# --- audit trail --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_trail_validates_encrypts_and_records_every_data_lake_bucket(stack):
    plan, settings = plan_for(stack), settings_for(stack)
    [trail] = plan.of_type(TRAIL)
    assert trail.inputs["enableLogFileValidation"] is True
    assert trail.inputs["kmsKeyId"] == plan.outputs["data_key_arn"]
    assert trail.inputs["isMultiRegionTrail"] is settings.audit.multi_region
    assert trail.inputs["s3BucketName"] == plan.outputs["audit"]["bucket"]
    selectors = {
        s["name"]: {f["field"]: f for f in s["fieldSelectors"]} for s in trail.inputs["advancedEventSelectors"]
    }
    assert selectors["Management events"]["eventCategory"]["equals"] == ["Management"]
    data = selectors["Data-lake objects"]
    assert data["resources.type"]["equals"] == ["AWS::S3::Object"]
    lake = {f"arn:aws:s3:::{name}/" for name in plan.outputs["buckets"].values()}
    assert set(data["resources.ARN"]["startsWiths"]) == lake and len(lake) == 4
    assert ("readOnly" in data) is (not settings.audit.data_event_reads)


@pytest.mark.parametrize("stack", STACKS)
def test_cis_signals_have_metric_filters_and_alarms_to_the_alert_topic(stack):
    plan, settings = plan_for(stack), settings_for(stack)
    filters = {f.name: f for f in plan.of_type("aws:cloudwatch/logMetricFilter:LogMetricFilter")}
    alarms = {a.name: a for a in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") if a.name.startswith("audit-")}
    signals = [s.name for s in AUDIT_SIGNALS]
    assert {"root-account-use", "iam-policy-changes", "kms-key-disabled-or-deleted", "bucket-policy-changes",
            "console-sign-in-failures"} <= set(signals)  # fmt: skip
    for signal in signals:
        metric = filters[f"audit-{signal}"].inputs["metricTransformation"]
        assert filters[f"audit-{signal}"].inputs["logGroupName"] == f"/aws/cloudtrail/{settings.name_prefix}"
        alarm = alarms[f"audit-{signal}-alarm"].inputs
        assert (alarm["metricName"], alarm["namespace"]) == (metric["name"], metric["namespace"])
        assert alarm["alarmActions"] == [plan.outputs["alert_topic_arn"]]
        assert alarm["threshold"] == 1 and alarm["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
    group = plan.get("aws:cloudwatch/logGroup:LogGroup", "audit-logs").inputs
    assert group["kmsKeyId"] == plan.outputs["data_key_arn"]
    assert group["retentionInDays"] == settings.audit.log_retention_days


@pytest.mark.parametrize("stack", STACKS)
def test_env_key_lets_cloudtrail_use_it_for_this_trail_only(stack):
    plan, settings = plan_for(stack), settings_for(stack)
    key_policy = {s["Sid"]: s for s in statements(policy(plan.get("aws:kms/key:Key", "data-key-key")))}
    arn = trail_arn(settings.region, settings.account, settings.name_prefix)
    for sid in ("CloudTrailEncryptLogs", "CloudTrailDescribeKey"):
        assert key_policy[sid]["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
        assert key_policy[sid]["Condition"]["StringEquals"] == {"aws:SourceArn": arn}
    assert key_policy["CloudTrailEncryptLogs"]["Condition"]["StringLike"] == {
        "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{settings.account}:trail/*"
    }


def _identity_documents(plan) -> dict[str, list[dict]]:
    """Every identity policy of the stack (inline and managed) except permission boundaries, which grant nothing."""
    boundaries = {r.inputs.get("permissionsBoundary") for r in plan.of_type("aws:iam/role:Role")}
    documents = {p.name: statements(policy(p)) for p in plan.of_type(ROLE_POLICY)}
    for managed in plan.of_type(MANAGED_POLICY):
        boundary_names = {"personas-boundary", "personas-deployer-boundary", "service-roles-policy",
                          "data-service-roles-policy"}  # fmt: skip
        if managed.name not in boundary_names:
            documents[managed.name] = statements(policy(managed))
    assert boundaries  # the roles carry boundaries; the boundary policies are excluded above by name
    return documents


@pytest.mark.parametrize("stack", STACKS)
def test_audit_bucket_is_written_only_by_cloudtrail_for_this_trail(stack):
    plan, settings = plan_for(stack), settings_for(stack)
    bucket = plan.outputs["audit"]["bucket"]
    log_file = f"arn:aws:s3:::{bucket}/AWSLogs/{settings.account}/CloudTrail/{settings.region}/2026/12/01/x.json.gz"
    for name, document in _identity_documents(plan).items():
        for action in ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectRetention"):
            assert not allowed(document, action, log_file), f"{name} may {action} log files"
    bucket_policy = statements(policy(plan.get("aws:s3/bucketPolicy:BucketPolicy", "audit-bucket-policy")))
    writers = [s for s in bucket_policy if s["Effect"] == "Allow" and "s3:PutObject" in as_list(s["Action"])]
    assert writers == [
        {
            "Sid": "CloudTrailWrite",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{settings.account}/*",
            "Condition": {
                "StringEquals": {
                    "aws:SourceArn": trail_arn(settings.region, settings.account, settings.name_prefix),
                    "s3:x-amz-acl": "bucket-owner-full-control",
                }
            },
        }
    ]
    deny = next(s for s in bucket_policy if s["Sid"] == "DenyLogWritesExceptCloudTrail")
    assert deny["Principal"] == "*" and {"s3:PutObject", "s3:DeleteObjectVersion"} <= set(deny["Action"])
    assert deny["Condition"] == {"StringNotEquals": {"aws:PrincipalServiceName": "cloudtrail.amazonaws.com"}}


def test_prod_locks_the_audit_bucket_in_compliance_mode_and_dev_does_not():
    lock = plan_for("prod").get(
        "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "audit-bucket-object-lock"
    )
    assert lock.inputs["rule"]["defaultRetention"] == {"mode": "COMPLIANCE", "days": 2555}
    assert not [
        r for r in plan_for("dev").of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    ]


# --- disaster recovery --------------------------------------------------------------------------------------------


def test_prod_replicates_artifacts_and_raw_into_the_replica_region_with_its_own_key():
    plan = plan_for("prod")
    outputs = plan.outputs["disaster_recovery"]
    assert outputs["replica_region"] == "us-west-2"
    replica_provider = plan.get("pulumi:providers:aws", "aws-replica")
    assert replica_provider.inputs["region"] == "us-west-2"
    replica_key = plan.get("aws:kms/key:Key", "disaster-recovery-key-key")
    assert replica_key.provider == "aws-replica" and replica_key.inputs["enableKeyRotation"] is True
    assert outputs["replica_key_arn"] != plan.outputs["data_key_arn"]
    configs = {c.name: c for c in plan.of_type(REPLICATION)}
    assert set(configs) == {"disaster-recovery-artifacts-rule", "disaster-recovery-raw-rule"}
    for zone in ("artifacts", "raw"):
        config = configs[f"disaster-recovery-{zone}-rule"]
        assert config.provider == "aws"  # the configuration belongs to the source bucket
        assert config.inputs["bucket"] == plan.outputs["buckets"][zone]
        [rule] = config.inputs["rules"]
        destination = rule["destination"]
        assert destination["bucket"] == f"arn:aws:s3:::{outputs['replicas'][zone]}"
        assert destination["encryptionConfiguration"] == {"replicaKmsKeyId": outputs["replica_key_arn"]}
        assert rule["sourceSelectionCriteria"] == {"sseKmsEncryptedObjects": {"status": "Enabled"}}
        assert destination["replicationTime"]["status"] == "Enabled"  # prod configures RTC
        assert rule["deleteMarkerReplication"] == {"status": "Disabled"}
        replica = plan.get("aws:s3/bucket:Bucket", f"disaster-recovery-{zone}-bucket")
        assert replica.provider == "aws-replica" and replica.options["protect"] is True
        sse = plan.get(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            f"disaster-recovery-{zone}-encryption",
        ).inputs["rules"][0]["applyServerSideEncryptionByDefault"]
        assert sse == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": outputs["replica_key_arn"]}


def test_replication_role_can_only_replicate():
    plan, settings = plan_for("prod"), settings_for("prod")
    role = plan.get("aws:iam/role:Role", "disaster-recovery-role")
    [trust] = statements(policy(role, "assumeRolePolicy"))
    assert trust["Principal"] == {"Service": "s3.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": settings.account}}
    document = statements(policy(plan.get(ROLE_POLICY, "disaster-recovery-role-policy")))
    actions = {a for s in document for a in as_list(s["Action"])}
    replication = {"s3:GetReplicationConfiguration", "s3:ListBucket", *SOURCE_OBJECT_ACTIONS, *REPLICA_OBJECT_ACTIONS}
    assert actions == replication | {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}
    buckets = plan.outputs["buckets"]
    replicas = plan.outputs["disaster_recovery"]["replicas"]
    sources = {f"arn:aws:s3:::{buckets[z]}" for z in ("artifacts", "raw")}
    targets = {f"arn:aws:s3:::{replicas[z]}" for z in ("artifacts", "raw")}
    resources = {r for s in document for r in as_list(s["Resource"])}
    keys = {plan.outputs["data_key_arn"], plan.outputs["disaster_recovery"]["replica_key_arn"]}
    assert resources == sources | {f"{b}/*" for b in sources | targets} | keys
    for statement in document:
        if any(a.startswith("kms:") for a in as_list(statement["Action"])):
            assert "kms:ViaService" in statement["Condition"]["StringEquals"]
    assert not allowed(document, "s3:PutObject", f"arn:aws:s3:::{buckets['artifacts']}/models/x")
    assert not allowed(document, "s3:GetObject", f"arn:aws:s3:::{buckets['curated']}/x")


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_dev_and_staging_replicate_nothing(stack):
    plan = plan_for(stack)
    assert plan.of_type(REPLICATION) == []
    assert [p.name for p in plan.of_type("pulumi:providers:aws")] == ["aws"]
    assert plan.outputs["disaster_recovery"] is None


# --- experiment tracking ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_mlflow_humans_open_the_ui_jobs_log_runs_and_only_ml_engineers_promote(stack):
    plan, settings = plan_for(stack), settings_for(stack)
    server = plan.outputs["mlflow_tracking_server_arn"]
    assert (
        server
        == f"arn:aws:sagemaker:{settings.region}:{settings.account}:mlflow-tracking-server/{settings.name_prefix}"
    )
    policies = {p: persona_policy(plan, p) for p in Persona}
    for human in (Persona.DATA_SCIENTIST, Persona.ML_ENGINEER):
        assert allowed(policies[human], "sagemaker:CreatePresignedMlflowTrackingServerUrl", server)
        assert allowed(policies[human], "sagemaker-mlflow:LogMetric", server)
    for action in ("sagemaker-mlflow:CreateRun", "sagemaker-mlflow:LogBatch", "sagemaker-mlflow:CreateModelVersion"):
        assert allowed(policies[Persona.TRAINING], action, server)
    assert not allowed(policies[Persona.TRAINING], "sagemaker:CreatePresignedMlflowTrackingServerUrl", server)
    # MLflow clients upload run artifacts straight to the artifact store: everyone who tracks may write it
    artifact = f"arn:aws:s3:::{plan.outputs['buckets']['artifacts']}/mlflow/1/abc/artifacts/model.pkl"
    for persona in (Persona.DATA_SCIENTIST, Persona.ML_ENGINEER, Persona.TRAINING):
        assert allowed(policies[persona], "s3:PutObject", artifact), persona
    assert not allowed(policies[Persona.INFERENCE], "s3:PutObject", artifact)
    for persona in Persona:
        promotes = allowed(policies[persona], "sagemaker-mlflow:TransitionModelVersionStage", server)
        assert promotes is (persona is Persona.ML_ENGINEER), persona
    other_server = server.rsplit("/", 1)[0] + "/someone-elses"
    assert not any(allowed(policies[p], "sagemaker-mlflow:LogMetric", other_server) for p in Persona)
    assert not any(allowed(policies[p], "sagemaker-mlflow:LogMetric", server) for p in (Persona.INFERENCE,))


def test_no_mlflow_grants_where_mlflow_is_off():
    plan = plan_for("dev")
    assert plan.outputs["mlflow_tracking_server_arn"] is None
    for persona in Persona:
        assert not any(
            a.startswith(("sagemaker-mlflow:", "sagemaker:CreatePresignedMlflow"))
            for s in persona_policy(plan, persona)
            for a in as_list(s["Action"])
        )


def test_restore_drill_roles_and_the_replication_role_alone_may_decrypt_replicas():
    plan, settings = plan_for("prod"), settings_for("prod")
    replica = plan.outputs["disaster_recovery"]["replicas"]["artifacts"]
    obj = f"arn:aws:s3:::{replica}/models/churn/model.tar.gz"

    def in_own_account(statement: dict) -> bool:
        # Reads of promoted models are pinned to the promotion source's account (s3:ResourceAccount), never the
        # replica's: `allowed` ignores conditions, so leave those statements out here.
        accounts = statement.get("Condition", {}).get("StringEquals", {}).get("s3:ResourceAccount")
        return accounts is None or settings.account in as_list(accounts)

    readers = [
        p for p in Persona if allowed([s for s in persona_policy(plan, p) if in_own_account(s)], "s3:GetObject", obj)
    ]
    assert not readers
    key_policy = statements(policy(plan.get("aws:kms/key:Key", "disaster-recovery-key-key")))
    use = next(s for s in key_policy if s["Sid"] == "KeyUseByPlatformRolesThroughServices")
    key_users = use["Condition"]["ArnEquals"]
    assert sorted(key_users["aws:PrincipalArn"]) == sorted(
        [*settings.disaster_recovery.restore_role_arns,
         f"arn:aws:iam::{settings.account}:role/{settings.name_prefix}-replication"]
    )  # fmt: skip


@pytest.mark.parametrize("stack", STACKS)
def test_governance_grants_fit_under_the_persona_boundary(stack):
    plan = plan_for(stack)
    boundary = [s for s in statements(policy(plan.get(MANAGED_POLICY, "personas-boundary"))) if s["Effect"] == "Allow"]
    assert len(json.dumps({"Version": "2012-10-17", "Statement": boundary}, separators=(",", ":"))) <= 6_144
    for persona in Persona:
        for grant in [r for r in plan.of_type(ROLE_POLICY) if r.name == f"governance-{persona.value}"]:
            for statement in statements(policy(grant)):
                for action in as_list(statement["Action"]):
                    for resource in as_list(statement["Resource"]):
                        assert allowed(boundary, action, resource), (persona, action, resource)


@pytest.mark.parametrize("stack", STACKS)
def test_data_moving_roles_sit_under_the_data_service_boundary_which_admits_their_rights(stack):
    plan = plan_for(stack)
    boundary_policy = plan.get(MANAGED_POLICY, "data-service-roles-policy")
    ceiling = [s for s in statements(policy(boundary_policy)) if s["Effect"] == "Allow"]
    roles = {"features-role": "features-role-policy", "disaster-recovery-role": "disaster-recovery-role-policy"}
    checked = 0
    for role_name, policy_name in roles.items():
        role = [r for r in plan.of_type("aws:iam/role:Role") if r.name == role_name]
        if not role:
            continue
        # the boundary input was computed from the data-service boundary policy, nothing else
        assert role[0].property_dependencies["permissionsBoundary"] == [boundary_policy.urn]
        for statement in statements(policy(plan.get(ROLE_POLICY, policy_name))):
            for action in as_list(statement["Action"]):
                assert any(fnmatchcase(action, a) for s in ceiling for a in as_list(s["Action"])), action
        checked += 1
    assert checked == (2 if stack == "prod" else 1)
    deploy = statements(policy(plan.get(ROLE_POLICY, "personas-ci-deployer-deploy-policy")))
    create = next(s for s in deploy if s["Sid"] == "CreateRolesOnlyWithBoundary")
    allowed_boundaries = create["Condition"]["StringEquals"]["iam:PermissionsBoundary"]
    assert any(b.endswith(":policy/" + boundary_policy.inputs["name"]) for b in allowed_boundaries)
    # issue 9 renamed the deny (DenySelfAndBoundaryChanges -> DenyProtectedRolesAndPolicies); the property stays:
    # the deployer may attach the data-service boundary but never rewrite it
    denied = next(s for s in deploy if s["Sid"] == "DenyProtectedRolesAndPolicies")
    assert "iam:CreatePolicyVersion" in as_list(denied["Action"])
    assert any(b.endswith(":policy/" + boundary_policy.inputs["name"]) for b in as_list(denied["Resource"]))


@pytest.mark.parametrize("stack", STACKS)
def test_deployer_manages_the_trail_but_never_stops_it_and_deletes_it_only_unprotected(stack):
    plan, settings = plan_for(stack), settings_for(stack)
    deploy = statements(policy(plan.get(MANAGED_POLICY, "personas-deploy-audit")))
    trail = trail_arn(settings.region, settings.account, settings.name_prefix)
    assert allowed(deploy, "cloudtrail:UpdateTrail", trail)
    assert not allowed(deploy, "cloudtrail:StopLogging", trail)
    assert allowed(deploy, "cloudtrail:DeleteTrail", trail) is (not settings.protection.protect_stateful)
    alarm = (
        f"arn:aws:cloudwatch:{settings.region}:{settings.account}:alarm:{settings.name_prefix}-audit-root-account-use"
    )
    assert allowed(deploy, "cloudwatch:PutMetricAlarm", alarm)
    previewer = persona_policy(plan, Persona.CI_PREVIEWER)
    assert allowed(previewer, "cloudtrail:GetEventSelectors", trail)
    assert not allowed(previewer, "s3:GetObject", f"arn:aws:s3:::{plan.outputs['audit']['bucket']}/AWSLogs/x")


def test_joining_an_organization_trail_keeps_data_events_and_leaves_management_events_and_alarms_to_it():
    from mlops_platform.infra.tooling.offline import preview_stack, stack_config

    config = dict(stack_config("dev"))
    config["mlops-platform:audit"] = json.dumps(
        {"mode": "organization", "organization_trail_arn": "arn:aws:cloudtrail:us-east-1:999999999999:trail/org"}
    )
    plan = preview_stack("dev", config=config)
    [trail] = plan.of_type(TRAIL)
    assert [s["name"] for s in trail.inputs["advancedEventSelectors"]] == ["Data-lake objects"]
    assert trail.inputs["enableLogFileValidation"] is True and trail.inputs["kmsKeyId"] == plan.outputs["data_key_arn"]
    assert plan.of_type("aws:cloudwatch/logMetricFilter:LogMetricFilter") == []
    assert plan.outputs["audit"]["organization_trail_arn"] == "arn:aws:cloudtrail:us-east-1:999999999999:trail/org"


def test_preview_labels_show_what_a_reviewer_checks():
    from mlops_platform.infra.tooling.report import key_settings, markdown

    prod, dev = plan_for("prod"), plan_for("dev")
    [trail] = prod.of_type(TRAIL)
    assert key_settings(trail, prod)[:3] == [
        "log-file validation",
        f"KMS {prod.outputs['data_key_arn'].rsplit('/', 1)[-1][:8]}",
        "multi-region",
    ]
    assert "S3 data events on 4 buckets" in key_settings(trail, prod)
    assert "S3 data events on 4 buckets (writes only)" in key_settings(dev.of_type(TRAIL)[0], dev)
    online = prod.get(FEATURE_GROUP, "features-mlops-platform-prod-churn-customer")
    assert "online store TTL 30 Days" in key_settings(online, prod) and "protected" in key_settings(online, prod)
    rule = prod.get(REPLICATION, "disaster-recovery-artifacts-rule")
    assert "RTC 15 min" in key_settings(rule, prod) and "deletes replicate" not in key_settings(rule, prod)
    assert "features-mlops-platform-prod-churn-customer" in markdown(prod)  # feature groups are stateful
