"""ContainerRepository, ModelPackageGroup and ExperimentTracking: hardening and scoping."""

from __future__ import annotations

import json

import pytest
from mlops_platform.components.registry import (
    PULL_ACTIONS,
    PUSH_ACTIONS,
    ContainerRepository,
    ExperimentTracking,
    ModelPackageGroup,
    TrackingServerSize,
)
from mlops_platform.infra.tooling.offline import record

from tests.conftest import as_list, policy, statements

KEY = "arn:aws:kms:us-east-1:123456789012:key/abcd"
CI = "arn:aws:iam::123456789012:role/p-dev-ci-deployer"
TRAINING = "arn:aws:iam::123456789012:role/p-dev-training"
INFERENCE = "arn:aws:iam::123456789012:role/p-dev-inference"


def repo_plan(**args):
    base = {
        "repository_name": "p-dev/training",
        "kms_key_arn": KEY,
        "push_principal_arns": [CI],
        "pull_principal_arns": [TRAINING, INFERENCE],
    }
    return record(lambda: ContainerRepository("training", {**base, **args}) and None)


def test_repository_is_immutable_scanned_and_encrypted_with_the_given_key():
    repo = repo_plan().get("aws:ecr/repository:Repository", "training-repository").inputs
    assert repo["name"] == "p-dev/training"
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert repo["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repo["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": KEY}]
    assert repo["forceDelete"] is False


def test_lifecycle_expires_untagged_and_keeps_the_last_releases():
    plan = repo_plan(untagged_expiry_days=3, keep_releases=12, release_tag_patterns=["v*", "release-*"])
    rules = json.loads(plan.get("aws:ecr/lifecyclePolicy:LifecyclePolicy", "training-lifecycle").inputs["policy"])[
        "rules"
    ]
    assert [r["rulePriority"] for r in rules] == [1, 2]
    assert all(r["action"] == {"type": "expire"} for r in rules)
    assert rules[0]["selection"] == {
        "tagStatus": "untagged",
        "countType": "sinceImagePushed",
        "countUnit": "days",
        "countNumber": 3,
    }
    assert rules[1]["selection"] == {
        "tagStatus": "tagged",
        "tagPatternList": ["v*", "release-*"],
        "countType": "imageCountMoreThan",
        "countNumber": 12,
    }


def test_repository_policy_names_exactly_the_pushers_and_pullers():
    doc = policy(repo_plan().get("aws:ecr/repositoryPolicy:RepositoryPolicy", "training-policy"))
    by_sid = {s["Sid"]: s for s in statements(doc)}
    assert set(by_sid) == {"PushByDeployers", "PullByWorkloads"}
    assert by_sid["PushByDeployers"]["Principal"] == {"AWS": [CI]}
    assert set(by_sid["PushByDeployers"]["Action"]) == set(PULL_ACTIONS + PUSH_ACTIONS)
    assert by_sid["PullByWorkloads"]["Principal"] == {"AWS": [TRAINING, INFERENCE]}
    assert set(by_sid["PullByWorkloads"]["Action"]) == set(PULL_ACTIONS)
    assert not set(by_sid["PullByWorkloads"]["Action"]) & set(PUSH_ACTIONS)
    assert all(s["Effect"] == "Allow" and "*" not in json.dumps(s["Principal"]) for s in by_sid.values())


def test_repository_retains_its_images_when_the_component_does():
    import pulumi

    plan = record(
        lambda: (
            ContainerRepository(
                "training",
                {
                    "repository_name": "p/t",
                    "kms_key_arn": KEY,
                    "push_principal_arns": [CI],
                    "pull_principal_arns": [],
                },
                pulumi.ResourceOptions(protect=True, retain_on_delete=True),
            )
            and None
        )
    )
    repo = plan.get("aws:ecr/repository:Repository", "training-repository")
    assert repo.options["protect"] and repo.options["retain_on_delete"]
    assert not plan.get("aws:ecr/lifecyclePolicy:LifecyclePolicy", "training-lifecycle").options["retain_on_delete"]


def group_plan(**args):
    base = {"group_name": "Churn-Model", "account_id": "111111111111", "region": "us-east-1"}
    return record(lambda: ModelPackageGroup("churn", {**base, **args}) and None)


def test_model_group_policy_lets_only_the_listed_accounts_read():
    plan = group_plan(share_with_accounts=["333333333333", "222222222222"])
    group = plan.get("aws:sagemaker/modelPackageGroup:ModelPackageGroup", "churn-group")
    assert group.inputs["modelPackageGroupName"] == "Churn-Model"
    doc = json.loads(
        plan.get("aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy", "churn-policy").inputs[
            "resourcePolicy"
        ]
    )
    roots = ["arn:aws:iam::222222222222:root", "arn:aws:iam::333333333333:root"]
    for statement in statements(doc):
        assert statement["Effect"] == "Allow"
        assert statement["Principal"] == {"AWS": roots}
        assert all(a.startswith(("sagemaker:Describe", "sagemaker:List")) for a in as_list(statement["Action"]))
    resources = {r for s in statements(doc) for r in as_list(s["Resource"])}
    assert resources == {
        "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/churn-model",
        "arn:aws:sagemaker:us-east-1:111111111111:model-package/churn-model/*",
    }


def test_model_group_has_no_policy_when_no_account_is_listed():
    plan = group_plan()
    assert plan.of_type("aws:sagemaker/modelPackageGroup:ModelPackageGroup")
    assert not plan.of_type("aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy")


def tracking_plan(**args):
    base = {
        "name_prefix": "p-dev",
        "account_id": "123456789012",
        "region": "us-east-1",
        "artifacts_bucket_name": "p-dev-artifacts",
        "artifacts_bucket_arn": "arn:aws:s3:::p-dev-artifacts",
        "kms_key_arn": KEY,
    }
    return record(lambda: ExperimentTracking("mlflow", {**base, **args}) and None)


def test_mlflow_stores_artifacts_under_the_mlflow_prefix_with_a_scoped_role():
    plan = tracking_plan(size=TrackingServerSize.MEDIUM, permissions_boundary_arn="arn:aws:iam::123456789012:policy/b")
    server = plan.get("aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer", "mlflow-server").inputs
    assert server["artifactStoreUri"] == "s3://p-dev-artifacts/mlflow/"
    assert server["trackingServerSize"] == "Medium"
    assert server["automaticModelRegistration"] is False
    assert server["roleArn"] == "arn:aws:iam::123456789012:role/p-dev-mlflow"

    role = plan.get("aws:iam/role:Role", "mlflow-role")
    assert role.inputs["permissionsBoundary"] == "arn:aws:iam::123456789012:policy/b"
    (trust,) = statements(policy(role, "assumeRolePolicy"))
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}

    allows = statements(policy(plan.get("aws:iam/rolePolicy:RolePolicy", "mlflow-role-policy")))
    s3_objects = [
        r for s in allows for a in as_list(s["Action"]) if a.endswith("Object") for r in as_list(s["Resource"])
    ]
    assert set(s3_objects) == {"arn:aws:s3:::p-dev-artifacts/mlflow/*"}
    listing = next(s for s in allows if s["Action"] == "s3:ListBucket")
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["mlflow/*"]}}
    kms = next(s for s in allows if any(a.startswith("kms:") for a in as_list(s["Action"])))
    assert kms["Resource"] == KEY
    assert kms["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}
    assert not any(r == "*" for s in allows for r in as_list(s["Resource"]))
    assert not any(a.endswith(":*") for s in allows for a in as_list(s["Action"]))


def test_tracking_server_sizes_match_botocore():
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    assert [s.value for s in TrackingServerSize] == model.shape_for("TrackingServerSize").enum


def _error(component, name, args) -> str:
    errors: list[str] = []

    def program():
        try:
            component(name, args)
        except ValueError as exc:
            errors.append(str(exc))

    plan = record(program)
    assert plan.resources == []
    return errors[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"repository_name": "Training"}, "repository_name='Training' must be 2-256 lowercase"),
        ({"repository_name": "a//b"}, "repository_name='a//b'"),
        ({"untagged_expiry_days": 0}, "untagged_expiry_days=0 must be between 1 and 3650"),
        ({"keep_releases": 0}, "keep_releases=0 must be between 1 and 10000"),
        ({"release_tag_patterns": ["v 1"]}, "release_tag_patterns=['v 1']"),
        ({"push_principal_arns": []}, "push_principal_arns needs at least one role ARN"),
    ],
)
def test_bad_repository_args_fail_before_anything_is_registered(args, message):
    base = {
        "repository_name": "p/t",
        "kms_key_arn": KEY,
        "push_principal_arns": [CI],
        "pull_principal_arns": [],
    }
    assert message in _error(ContainerRepository, "repo", {**base, **args})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"group_name": "churn_model"}, "group_name='churn_model' must be 1-63 letters, digits and hyphens"),
        (
            {"share_with_accounts": ["22222222222"]},
            "share_with_accounts has '22222222222'; expected 12-digit",
        ),
        ({"share_with_accounts": ["222222222222", "222222222222"]}, "lists an account twice"),
        ({"share_with_accounts": ["111111111111"]}, "includes the owning account 111111111111"),
    ],
)
def test_bad_model_group_args_fail_before_anything_is_registered(args, message):
    base = {"group_name": "churn", "account_id": "111111111111", "region": "us-east-1"}
    assert message in _error(ModelPackageGroup, "churn", {**base, **args})


def test_bad_maintenance_window_fails():
    base = {
        "name_prefix": "p-dev",
        "account_id": "123456789012",
        "region": "us-east-1",
        "artifacts_bucket_name": "p-dev-artifacts",
        "artifacts_bucket_arn": "arn:aws:s3:::b",
        "kms_key_arn": KEY,
        "weekly_maintenance_window_start": "TUE 3am",
    }
    assert "weekly_maintenance_window_start='TUE 3am' must look like TUE:03:30" in _error(ExperimentTracking, "m", base)


NAMES = [
    "training",
    "serving/xgboost",
    "a",
    "ab",
    "a__b",
    "a___b",
    "a--b",
    "a.-b",
    "Team/x",
    "x/",
    "/x",
    "a//b",
    "churn-model",
    "-churn",
    "churn-",
    "9lives",
    "a_b",
    "a.b",
]


def test_name_patterns_agree_with_botocore():
    import re

    import botocore.session
    from mlops_platform.components.registry import MODEL_PACKAGE_GROUP_NAME, REPOSITORY_NAME

    session = botocore.session.get_session()
    ecr = session.get_service_model("ecr").shape_for("RepositoryName").metadata["pattern"]
    sagemaker = session.get_service_model("sagemaker").shape_for("EntityName").metadata["pattern"]
    for name in NAMES:
        assert bool(REPOSITORY_NAME.match(name)) == bool(re.fullmatch(ecr, name)), name
        assert bool(MODEL_PACKAGE_GROUP_NAME.match(name)) == bool(re.fullmatch(sagemaker, name)), name
