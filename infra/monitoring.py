"""Wiring of the `monitoring` section: the alert topic, the budgets and the environment dashboard."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from components.monitoring import (
    AlertProtocol,
    AlertSubscription,
    AlertTopic,
    Budgets,
    EnvironmentDashboard,
    TeamBudget,
)
from infra.config import PlatformSettings


@dataclass
class Alerting:
    """What `build_alerting` created."""

    topic: AlertTopic
    """The environment's alert topic."""
    budgets: Budgets | None
    """The cost budgets, when configured."""


def build_alerting(
    settings: PlatformSettings, *, kms_key_arn: pulumi.Input[str], base: pulumi.ResourceOptions
) -> Alerting:
    """The alert topic (encrypted with the env key) and the budgets notifying it."""
    monitoring = settings.monitoring
    topic = AlertTopic(
        "alerts",
        {
            "topic_name": f"{settings.name_prefix}-alerts",
            "account_id": settings.account,
            "region": settings.region,
            "kms_key_arn": kms_key_arn,
            "subscriptions": [
                AlertSubscription(AlertProtocol(s.protocol.value), s.endpoint) for s in monitoring.alert_subscriptions
            ],
        },
        base,
    )
    budgets = None
    if monitoring.budgets:
        budgets = Budgets(
            "budgets",
            {
                "name_prefix": settings.name_prefix,
                "environment": settings.environment.value,
                "monthly_limit_usd": monitoring.budgets.monthly_limit_usd,
                "topic_arn": topic.topic_arn,
                "teams": [TeamBudget(t.team, t.monthly_limit_usd) for t in monitoring.budgets.teams],
            },
            base,
        )
    return Alerting(topic=topic, budgets=budgets)


def build_dashboard(
    settings: PlatformSettings, *, endpoint_names: pulumi.Input[Sequence[str]], base: pulumi.ResourceOptions
) -> EnvironmentDashboard:
    """The environment's dashboard, charting the given endpoints."""
    return EnvironmentDashboard(
        "dashboard",
        {"dashboard_name": settings.name_prefix, "region": settings.region, "endpoint_names": endpoint_names},
        base,
    )
