"""Monitoring: an SNS alert topic encrypted with a key that lets CloudWatch, EventBridge and Budgets publish,
an email subscription, a dashboard of the team's endpoints, and monthly budgets (environment and per team)
that alert the topic at 80 % and 100 % of actual and 100 % of forecast spend.

Run under Pulumi or `tests/test_examples.py`.
"""

import pulumi
import pulumi_aws as aws
from mlops_platform.components.encryption import EncryptionKey
from mlops_platform.components.monitoring import (
    PUBLISHER_SERVICES,
    AlertProtocol,
    AlertSubscription,
    AlertTopic,
    Budgets,
    EnvironmentDashboard,
    TeamBudget,
)

ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"

provider = aws.Provider(
    "aws",
    region=REGION,
    allowed_account_ids=[ACCOUNT_ID],
    default_tags={"tags": {"team": "fraud-detection", "env": "dev", "managed-by": "pulumi"}},
)
opts = pulumi.ResourceOptions(providers=[provider])

key = EncryptionKey(
    "alerts-key",
    {
        "account_id": ACCOUNT_ID,
        "region": REGION,
        "administrator_role_arns": [f"arn:aws:iam::{ACCOUNT_ID}:role/platform-key-admin"],
        "sns_publisher_principals": list(PUBLISHER_SERVICES),  # they encrypt what they publish to the topic
        "description": "Fraud-detection alerts (dev)",
    },
    opts,
)
alerts = AlertTopic(
    "alerts",
    {
        "topic_name": "fraud-dev-alerts",
        "account_id": ACCOUNT_ID,
        "region": REGION,
        "kms_key_arn": key.arn,
        "subscriptions": [AlertSubscription(AlertProtocol.EMAIL, "fraud-oncall@example.com")],
    },
    opts,
)
dashboard = EnvironmentDashboard(
    "dashboard",
    {"dashboard_name": "fraud-dev", "region": REGION, "endpoint_names": ["fraud-scoring-dev"]},
    opts,
)
budgets = Budgets(
    "budgets",
    {
        "name_prefix": "fraud-dev",
        "environment": "dev",
        "monthly_limit_usd": 1500,
        "topic_arn": alerts.topic_arn,
        "teams": [TeamBudget("fraud-detection", 1000), TeamBudget("risk-analytics", 400)],
    },
    opts,
)

pulumi.export("alert_topic_arn", alerts.topic_arn)
pulumi.export("dashboard", dashboard.dashboard_name)
