"""Bad `registry` and `monitoring` config fails before anything is registered, naming the key and value."""

from __future__ import annotations

import copy

import pytest
from mlops_platform.infra.config import ConfigError, parse_settings

from tests.stacks.test_registry_monitoring import raw_config


def with_change(stack: str, section: str, change) -> dict:
    raw = copy.deepcopy(raw_config(stack))
    change(raw[section])
    return raw


def error_for(raw: dict, stack: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_settings(raw, stack=stack)
    return str(info.value)


def test_stack_files_parse():
    for stack in ("dev", "staging", "prod"):
        assert parse_settings(raw_config(stack), stack=stack).registry.repositories


@pytest.mark.parametrize(
    ("section", "change", "expected"),
    [
        (
            "registry",
            lambda r: r["repositories"][0].update(name="Training"),
            "mlops-platform:registry.repositories.0.name = 'Training': not an ECR repository name",
        ),
        (
            "registry",
            lambda r: r["repositories"][1].update(name="training"),
            "repositories[1].name 'training' repeats repositories[0].name",
        ),
        (
            "registry",
            lambda r: r["repositories"][0].update(untagged_expiry_days=0),
            "mlops-platform:registry.repositories.0.untagged_expiry_days = 0: "
            "Input should be greater than or equal to 1",
        ),
        (
            "registry",
            lambda r: r["models"][1].update(name="Churn-Model"),
            "models[1].name 'churn-model' repeats models[0].name",
        ),
        (
            "registry",
            lambda r: r["models"][0].update(name="churn_model"),
            "mlops-platform:registry.models.0.name = 'churn_model': not a model package group name",
        ),
        (
            "registry",
            lambda r: r["models"][0].update(share_with_accounts=["22222222222"]),
            "mlops-platform:registry.models.0.share_with_accounts.0 = '22222222222': not an AWS account ID",
        ),
        (
            "registry",
            lambda r: r["models"][0].update(share_with_accounts=["111111111111"]),
            "registry.models[0].share_with_accounts includes the stack's own account 111111111111",
        ),
        (
            "registry",
            lambda r: r["mlflow"].update(size="Huge"),
            "mlops-platform:registry.mlflow.size = 'Huge': Input should be 'Small', 'Medium' or 'Large'",
        ),
        (
            "monitoring",
            lambda m: m["budgets"].update(monthly_limit_usd=0),
            "mlops-platform:monitoring.budgets.monthly_limit_usd = 0: Input should be greater than 0",
        ),
        (
            "monitoring",
            lambda m: m["budgets"]["teams"][0].update(monthly_limit_usd=-5),
            "mlops-platform:monitoring.budgets.teams.0.monthly_limit_usd = -5: Input should be greater than 0",
        ),
        (
            "monitoring",
            lambda m: m["budgets"]["teams"].append(dict(m["budgets"]["teams"][0])),
            "teams[2].team 'ml-platform' is listed twice",
        ),
        (
            "monitoring",
            lambda m: m["alert_subscriptions"][0].update(endpoint="ml-platform-dev.example.com"),
            "mlops-platform:monitoring.alert_subscriptions.0.endpoint = 'ml-platform-dev.example.com': "
            "not a valid email endpoint; expected an email address",
        ),
        (
            "monitoring",
            lambda m: m["alert_subscriptions"].append({"protocol": "https", "endpoint": "http://x.io/a"}),
            "mlops-platform:monitoring.alert_subscriptions.1.endpoint = 'http://x.io/a': not a valid https endpoint",
        ),
        (
            "monitoring",
            lambda m: m["alert_subscriptions"].append({"protocol": "sms", "endpoint": "+4412345"}),
            "mlops-platform:monitoring.alert_subscriptions.1.protocol = 'sms': Input should be 'email', 'https', 'sqs'",
        ),
    ],
)
def test_bad_dev_config_names_the_key(section, change, expected):
    assert expected in error_for(with_change("dev", section, change), "dev")


def test_prod_may_not_force_delete_repositories_without_a_reason():
    raw = with_change("prod", "registry", lambda r: r.update(force_delete=True))
    assert "prod turns off registry.force_delete" in error_for(raw, "prod")


def test_promoters_are_only_accepted_where_versions_are_promoted_to():
    """dev promotes from nowhere: a promoter role there would be a key grant for nothing."""
    admin = "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0"
    raw = with_change("dev", "registry", lambda r: r.update(promoter_role_arns=[admin]))
    assert "registry.promoter_role_arns is set but registry.promote_from_accounts is empty" in error_for(raw, "dev")
