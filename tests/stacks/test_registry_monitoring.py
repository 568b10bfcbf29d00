"""Every stack: ECR hardening and principals, model groups shared only as configured, MLflow as configured,
alerts encrypted with the env key, and budgets alerting the topic."""

from __future__ import annotations

import json

import pytest
import yaml
from mlops_platform.components.access import Persona, role_arn
from mlops_platform.infra.config import parse_settings
from mlops_platform.infra.tooling.offline import stack_config

from tests.conftest import STACKS, as_list, plan_for, policy, statements

SHARED_WITH = {"dev": {"222222222222", "333333333333"}, "staging": {"333333333333"}, "prod": set()}
"""What the stack files say: dev's models are promoted to staging and prod, staging's to prod; prod shares nothing."""


def raw_config(stack: str) -> dict:
    """The stack file's `mlops-platform:` keys, un-namespaced and decoded as the program sees them."""
    return {
        k.split(":", 1)[1]: yaml.safe_load(v) if v[:1] in "{[" else v
        for k, v in stack_config(stack).items()
        if k.startswith("mlops-platform:")
    }


def settings_for(stack: str):
    return parse_settings(raw_config(stack), stack=stack)


@pytest.mark.parametrize("stack", STACKS)
def test_every_repository_is_hardened_with_the_env_key_and_persona_principals(stack):
    plan, settings = plan_for(stack), settings_for(stack)
    repos = plan.of_type("aws:ecr/repository:Repository")
    assert {r.inputs["name"] for r in repos} == {
        f"{settings.name_prefix}/{r.name}" for r in settings.registry.repositories
    }
    assert repos, "every stack has container repositories"
    prefix, account = settings.name_prefix, settings.account
    for repo in repos:
        assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
        assert repo.inputs["imageScanningConfiguration"]["scanOnPush"] is True
        assert repo.inputs["encryptionConfigurations"] == [
            {"encryptionType": "KMS", "kmsKey": plan.outputs["data_key_arn"]}
        ]
        assert repo.options["protect"] is settings.protection.protect_stateful
        assert repo.options["retain_on_delete"] is settings.protection.retain_on_delete
        (repo_policy,) = [
            r for r in plan.children(repo.parent) if r.type == "aws:ecr/repositoryPolicy:RepositoryPolicy"
        ]
        principals = {s["Sid"]: set(as_list(s["Principal"]["AWS"])) for s in statements(policy(repo_policy))}
        assert principals == {
            "PushByDeployers": {role_arn(account, prefix, Persona.CI_DEPLOYER)},
            # The accounts its model versions are promoted to pull the images those versions run (infra.model_sharing).
            "PullByWorkloads": {
                role_arn(account, prefix, Persona.TRAINING),
                role_arn(account, prefix, Persona.INFERENCE),
                *(f"arn:aws:iam::{target}:root" for target in SHARED_WITH[stack]),
            },
        }
    urls = plan.outputs["container_repositories"]
    assert set(urls) == {r.name for r in settings.registry.repositories}
    assert all(u.startswith(f"{account}.dkr.ecr.{settings.region}.amazonaws.com/{prefix}/") for u in urls.values())


@pytest.mark.parametrize("stack", STACKS)
def test_personas_can_push_and_pull_exactly_as_the_repository_policy_says(stack):
    plan, settings = plan_for(stack), settings_for(stack)
    repo_arns = sorted(r.inputs["name"] for r in plan.of_type("aws:ecr/repository:Repository"))
    expected = sorted(f"arn:aws:ecr:{settings.region}:{settings.account}:repository/{n}" for n in repo_arns)

    def image_actions(resource, exact: bool = True) -> set[str]:
        found = set()
        for statement in statements(policy(resource)):
            if statement.get("Sid") == "EcrImages":
                if exact:
                    assert sorted(as_list(statement["Resource"])) == expected
                found |= set(as_list(statement["Action"]))
        return found

    by_persona = {
        p: image_actions(plan.get("aws:iam/rolePolicy:RolePolicy", f"personas-{p.value}-policy")) for p in Persona
    }
    assert "ecr:PutImage" in by_persona[Persona.CI_DEPLOYER]
    assert "ecr:BatchGetImage" in by_persona[Persona.TRAINING] and "ecr:PutImage" not in by_persona[Persona.TRAINING]
    assert "ecr:BatchGetImage" in by_persona[Persona.INFERENCE] and "ecr:PutImage" not in by_persona[Persona.INFERENCE]
    assert not by_persona[Persona.DATA_SCIENTIST] and not by_persona[Persona.ML_ENGINEER]
    # The persona boundary must not cancel what the pulling personas are granted (it covers the env's repositories
    # by prefix); the one pusher, the CI deployer, has its own boundary.
    ceiling = image_actions(plan.get("aws:iam/policy:Policy", "personas-boundary"), exact=False)
    assert by_persona[Persona.TRAINING] | by_persona[Persona.INFERENCE] <= ceiling
    assert "ecr:PutImage" not in ceiling


@pytest.mark.parametrize("stack", STACKS)
def test_model_groups_are_shared_only_with_the_listed_accounts(stack):
    plan, settings = plan_for(stack), settings_for(stack)
    groups = plan.of_type("aws:sagemaker/modelPackageGroup:ModelPackageGroup")
    assert {g.inputs["modelPackageGroupName"] for g in groups} == {m.name for m in settings.registry.models}
    policies = plan.of_type("aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy")
    if not SHARED_WITH[stack]:
        assert policies == []
    assert len(policies) == len([m for m in settings.registry.models if m.share_with_accounts])
    for group_policy in policies:
        doc = json.loads(group_policy.inputs["resourcePolicy"])
        accounts = {p.split(":")[4] for s in statements(doc) for p in as_list(s["Principal"]["AWS"])}
        assert accounts == SHARED_WITH[stack]
        assert all(s["Effect"] == "Allow" for s in statements(doc))
        actions = {a for s in statements(doc) for a in as_list(s["Action"])}
        assert actions <= {
            "sagemaker:DescribeModelPackageGroup",
            "sagemaker:DescribeModelPackage",
            "sagemaker:ListModelPackages",
        }
    assert set(plan.outputs["model_package_group_names"].values()) == {m.name for m in settings.registry.models}


@pytest.mark.parametrize("stack", STACKS)
def test_mlflow_follows_the_config_and_its_role_can_use_the_key(stack):
    plan, settings = plan_for(stack), settings_for(stack)
    servers = plan.of_type("aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer")
    mlflow = settings.registry.mlflow
    assert len(servers) == int(mlflow.enabled)
    key_doc = policy(plan.of_type("aws:kms/key:Key")[0])
    key_users = next(s for s in statements(key_doc) if s["Sid"] == "KeyUseByPlatformRolesThroughServices")
    mlflow_role = f"arn:aws:iam::{settings.account}:role/{settings.name_prefix}-mlflow"
    assert (mlflow_role in key_users["Condition"]["ArnEquals"]["aws:PrincipalArn"]) is mlflow.enabled
    if mlflow.enabled:
        (server,) = servers
        assert server.inputs["trackingServerSize"] == mlflow.size.value
        artifacts = plan.outputs["buckets"]["artifacts"]
        assert server.inputs["artifactStoreUri"] == f"s3://{artifacts}/mlflow/"
        role = plan.get("aws:iam/role:Role", "mlflow-role")
        assert (
            role.inputs["permissionsBoundary"]
            == f"arn:aws:iam::{settings.account}:policy/{settings.name_prefix}-persona-boundary"
        )


@pytest.mark.parametrize("stack", STACKS)
def test_alert_topic_is_encrypted_with_the_env_key_that_its_publishers_may_use(stack):
    plan, settings = plan_for(stack), settings_for(stack)
    (topic,) = plan.of_type("aws:sns/topic:Topic")
    assert topic.inputs["kmsMasterKeyId"] == plan.outputs["data_key_arn"]
    assert (
        plan.outputs["alert_topic_arn"]
        == f"arn:aws:sns:{settings.region}:{settings.account}:{settings.name_prefix}-alerts"
    )
    key_doc = policy(plan.of_type("aws:kms/key:Key")[0])
    publishers = next(s for s in statements(key_doc) if s["Sid"] == "KeyUseBySnsPublishers")
    assert set(publishers["Principal"]["Service"]) == {
        "cloudwatch.amazonaws.com",
        "events.amazonaws.com",
        "budgets.amazonaws.com",
    }
    subscriptions = plan.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert {(s.inputs["protocol"], s.inputs["endpoint"]) for s in subscriptions} == {
        (s.protocol.value, s.endpoint) for s in settings.monitoring.alert_subscriptions
    }


@pytest.mark.parametrize("stack", STACKS)
def test_budgets_per_env_and_team_alert_the_topic(stack):
    plan, settings = plan_for(stack), settings_for(stack)
    budgets = {b.inputs["name"]: b.inputs for b in plan.of_type("aws:budgets/budget:Budget")}
    config = settings.monitoring.budgets
    assert config is not None, "every stack has a budget"
    expected = {
        f"{settings.name_prefix}-monthly": (
            config.monthly_limit_usd,
            f"user:env${settings.environment.value}",
        )
    }
    expected |= {
        f"{settings.name_prefix}-team-{t.team}": (t.monthly_limit_usd, f"user:team${t.team}") for t in config.teams
    }
    assert {n: (float(b["limitAmount"]), b["costFilters"][0]["values"][0]) for n, b in budgets.items()} == expected
    for budget in budgets.values():
        alerts = {
            (n["notificationType"], n["threshold"])
            for n in budget["notifications"]
            if n["subscriberSnsTopicArns"] == [plan.outputs["alert_topic_arn"]]
        }
        assert alerts == {("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 100)}


def test_prod_budget_exceeds_dev_budget():
    assert (
        settings_for("prod").monitoring.budgets.monthly_limit_usd
        > settings_for("dev").monitoring.budgets.monthly_limit_usd
    )


def test_dashboard_is_created_per_stack():
    for stack in STACKS:
        plan = plan_for(stack)
        (dashboard,) = plan.of_type("aws:cloudwatch/dashboard:Dashboard")
        assert json.loads(dashboard.inputs["dashboardBody"])["widgets"]
        assert plan.outputs["dashboard_name"] == dashboard.inputs["dashboardName"]


def test_preview_shows_the_registry_and_alerting_settings():
    from mlops_platform.infra.tooling.report import key_settings, markdown

    plan = plan_for("dev")
    key = plan.outputs["data_key_arn"].rsplit("/", 1)[-1][:8]
    repo = plan.get("aws:ecr/repository:Repository", "ecr-training-repository")
    assert key_settings(repo, plan) == [
        "immutable tags",
        "scan on push",
        f"KMS {key}",
        "untagged expire 3d",
        "keep 10 releases",
        "force_delete",
    ]
    topic = plan.get("aws:sns/topic:Topic", "alerts-topic")
    assert key_settings(topic, plan) == [f"SSE-KMS {key}", "1 subscription(s)"]
    budget = plan.get("aws:budgets/budget:Budget", "budgets-env")
    assert key_settings(budget, plan) == [
        "limit 500.00 USD/monthly",
        "TagKeyValue=user:env$dev",
        "SNS at 80% actual, 100% actual, 100% forecasted",
    ]
    group = plan.get("aws:sagemaker/modelPackageGroup:ModelPackageGroup", "model-churn-model-group")
    assert key_settings(group, plan) == ["shared read-only with 222222222222, 333333333333"]
    assert "`ecr-training-repository`" in markdown(plan)
    prod = plan_for("prod")
    prod_group = prod.get("aws:sagemaker/modelPackageGroup:ModelPackageGroup", "model-churn-model-group")
    assert key_settings(prod_group, prod) == ["not shared", "protected", "retained on delete"]
