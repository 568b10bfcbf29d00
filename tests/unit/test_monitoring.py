"""AlertTopic, EnvironmentDashboard and Budgets: encryption, publishing conditions, charts and thresholds."""

from __future__ import annotations

import json

import pytest
from mlops_platform.components.encryption import EncryptionKey
from mlops_platform.components.monitoring import (
    PUBLISHER_SERVICES,
    AlertProtocol,
    AlertSubscription,
    AlertTopic,
    Budgets,
    EnvironmentDashboard,
    TeamBudget,
    check_endpoint,
    dashboard_body,
)
from mlops_platform.infra.tooling.offline import record

from tests.conftest import policy, statements

KEY = "arn:aws:kms:us-east-1:123456789012:key/abcd"
TOPIC = "arn:aws:sns:us-east-1:123456789012:p-dev-alerts"


def topic_plan(**args):
    base = {
        "topic_name": "p-dev-alerts",
        "account_id": "123456789012",
        "region": "us-east-1",
        "kms_key_arn": KEY,
    }
    return record(lambda: AlertTopic("alerts", {**base, **args}) and None)


def test_topic_is_encrypted_with_the_given_key():
    topic = topic_plan().get("aws:sns/topic:Topic", "alerts-topic").inputs
    assert topic["name"] == "p-dev-alerts"
    assert topic["kmsMasterKeyId"] == KEY


def test_topic_policy_lets_only_this_accounts_alarms_rules_and_budgets_publish():
    doc = policy(topic_plan().get("aws:sns/topicPolicy:TopicPolicy", "alerts-policy"))
    allows = [s for s in statements(doc) if s["Effect"] == "Allow"]
    assert sorted(s["Principal"]["Service"] for s in allows) == sorted(PUBLISHER_SERVICES)
    sources = {}
    for statement in allows:
        assert statement["Action"] == "sns:Publish"
        assert statement["Resource"] == TOPIC
        assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
        sources[statement["Principal"]["Service"]] = statement["Condition"]["ArnLike"]["aws:SourceArn"]
    assert sources == {
        "cloudwatch.amazonaws.com": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:*",
        "events.amazonaws.com": "arn:aws:events:us-east-1:123456789012:rule/*",
        "budgets.amazonaws.com": "arn:aws:budgets::123456789012:*",
    }
    (deny,) = [s for s in statements(doc) if s["Effect"] == "Deny"]
    assert deny["Principal"] == "*" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_subscriptions_are_created_from_the_list():
    plan = topic_plan(
        subscriptions=[
            AlertSubscription(AlertProtocol.EMAIL, "oncall@example.com"),
            AlertSubscription(AlertProtocol.SQS, "arn:aws:sqs:us-east-1:123456789012:alerts"),
        ]
    )
    subs = {
        (s.inputs["protocol"], s.inputs["endpoint"], s.inputs["topic"])
        for s in plan.of_type("aws:sns/topicSubscription:TopicSubscription")
    }
    assert subs == {
        ("email", "oncall@example.com", TOPIC),
        ("sqs", "arn:aws:sqs:us-east-1:123456789012:alerts", TOPIC),
    }


def test_key_policy_lets_sns_publishers_use_the_key_only_for_this_accounts_topics():
    plan = record(
        lambda: (
            EncryptionKey(
                "k",
                {
                    "account_id": "123456789012",
                    "administrator_role_arns": ["arn:aws:iam::123456789012:role/admin"],
                    "sns_publisher_principals": list(PUBLISHER_SERVICES),
                },
            )
            and None
        )
    )
    doc = policy(plan.get("aws:kms/key:Key", "k-key"))
    (statement,) = [s for s in statements(doc) if s["Sid"] == "KeyUseBySnsPublishers"]
    assert statement["Principal"] == {"Service": sorted(PUBLISHER_SERVICES)}
    assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert statement["Condition"] == {
        "StringLike": {"kms:EncryptionContext:aws:sns:topicArn": "arn:aws:sns:*:123456789012:*"}
    }


@pytest.mark.parametrize(
    ("protocol", "good", "bad"),
    [
        (AlertProtocol.EMAIL, "ml-oncall@example.com", "ml-oncall.example.com"),
        (AlertProtocol.HTTPS, "https://hooks.example.com/x?y=1", "http://hooks.example.com/x"),
        (AlertProtocol.SQS, "arn:aws:sqs:eu-west-1:123456789012:q", "arn:aws:sns:eu-west-1:123456789012:q"),
        (
            AlertProtocol.LAMBDA,
            "arn:aws:lambda:eu-west-1:123456789012:function:f",
            "arn:aws:lambda:eu-west-1:1:function:f",
        ),
    ],
)
def test_endpoint_shapes_per_protocol(protocol, good, bad):
    assert check_endpoint(protocol, good) == good
    with pytest.raises(ValueError, match=f"not a valid {protocol} endpoint"):
        check_endpoint(protocol, bad)


def test_bad_subscription_fails_before_anything_is_registered():
    errors = []

    def program():
        try:
            AlertTopic(
                "alerts",
                {
                    "topic_name": "t",
                    "account_id": "123456789012",
                    "region": "us-east-1",
                    "kms_key_arn": KEY,
                    "subscriptions": [AlertSubscription(AlertProtocol.HTTPS, "ftp://x")],
                },
            )
        except ValueError as exc:
            errors.append(str(exc))

    assert record(program).resources == []
    assert "subscriptions[0].endpoint='ftp://x': not a valid https endpoint; expected an https:// URL" in errors[0]


def test_dashboard_charts_every_endpoint_for_every_metric():
    body = dashboard_body(["churn", "forecast"], "eu-west-1")
    charts = {w["properties"]["title"]: w["properties"] for w in body["widgets"] if w["type"] == "metric"}
    assert set(charts) == {
        "Invocations",
        "Model latency p99 (µs)",
        "5xx errors",
        "4xx errors",
        "CPU utilisation (%)",
        "Memory utilisation (%)",
        "GPU utilisation (%)",
    }
    latency = charts["Model latency p99 (µs)"]["metrics"]
    assert [line[0]["label"] for line in latency] == ["churn", "forecast"]
    assert 'MetricName="ModelLatency"' in latency[0][0]["expression"] and "'p99'" in latency[0][0]["expression"]
    assert 'EndpointName="forecast"' in charts["5xx errors"]["metrics"][1][0]["expression"]
    assert "/aws/sagemaker/Endpoints" in charts["CPU utilisation (%)"]["metrics"][0][0]["expression"]
    assert all(c["region"] == "eu-west-1" for c in charts.values())
    # Widgets don't overlap on the 24-column grid.
    cells = [(w["x"], w["y"]) for w in body["widgets"]]
    assert len(cells) == len(set(cells))


def test_dashboard_resource_takes_endpoint_names_as_an_output():
    import pulumi

    plan = record(
        lambda: (
            EnvironmentDashboard(
                "dash",
                {
                    "dashboard_name": "p-dev",
                    "region": "us-east-1",
                    "endpoint_names": pulumi.Output.from_input(["a"]),
                },
            )
            and None
        )
    )
    dashboard = plan.get("aws:cloudwatch/dashboard:Dashboard", "dash-dashboard").inputs
    assert dashboard["dashboardName"] == "p-dev"
    assert json.loads(dashboard["dashboardBody"]) == json.loads(json.dumps(dashboard_body(["a"], "us-east-1")))


def test_dashboard_without_endpoints_says_so():
    (widget,) = dashboard_body([], "us-east-1")["widgets"]
    assert "No endpoints" in widget["properties"]["markdown"]


def budgets_plan(**args):
    base = {"name_prefix": "p-dev", "environment": "dev", "monthly_limit_usd": 500, "topic_arn": TOPIC}
    return record(lambda: Budgets("budgets", {**base, **args}) and None)


def test_budgets_alert_at_80_and_100_percent_to_the_topic_per_env_and_team():
    plan = budgets_plan(teams=[TeamBudget("Data Science", 200.5)])
    budgets = {b.inputs["name"]: b.inputs for b in plan.of_type("aws:budgets/budget:Budget")}
    assert set(budgets) == {"p-dev-monthly", "p-dev-team-data-science"}
    env, team = budgets["p-dev-monthly"], budgets["p-dev-team-data-science"]
    assert (env["limitAmount"], env["limitUnit"], env["timeUnit"], env["budgetType"]) == (
        "500.00",
        "USD",
        "MONTHLY",
        "COST",
    )
    assert env["costFilters"] == [{"name": "TagKeyValue", "values": ["user:env$dev"]}]
    assert team["limitAmount"] == "200.50"
    assert team["costFilters"] == [{"name": "TagKeyValue", "values": ["user:team$Data Science"]}]
    for budget in (env, team):
        thresholds = {
            (n["notificationType"], n["threshold"], n["thresholdType"], n["comparisonOperator"])
            for n in budget["notifications"]
        }
        assert thresholds == {
            ("ACTUAL", 80, "PERCENTAGE", "GREATER_THAN"),
            ("ACTUAL", 100, "PERCENTAGE", "GREATER_THAN"),
            ("FORECASTED", 100, "PERCENTAGE", "GREATER_THAN"),
        }
        assert all(n["subscriberSnsTopicArns"] == [TOPIC] for n in budget["notifications"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"monthly_limit_usd": 0}, "monthly_limit_usd=0 must be greater than 0"),
        ({"teams": [TeamBudget("a", -1)]}, "teams[0].monthly_limit_usd=-1 must be greater than 0"),
        ({"teams": [TeamBudget("ml", 1), TeamBudget("ML", 2)]}, "teams[1].team='ML' is listed twice"),
    ],
)
def test_bad_budget_args_fail_before_anything_is_registered(args, message):
    errors = []

    def program():
        try:
            Budgets(
                "b",
                {
                    "name_prefix": "p",
                    "environment": "dev",
                    "monthly_limit_usd": 1,
                    "topic_arn": TOPIC,
                    **args,
                },
            )
        except ValueError as exc:
            errors.append(str(exc))

    assert record(program).resources == []
    assert message in errors[0]
