"""Wiring of the `monitoring` section: the alert topic, the budgets and the environment dashboard."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
from mlops_platform.components.deployer_capabilities import monitoring_statements
from mlops_platform.components.monitoring import (
    AlertProtocol,
    AlertSubscription,
    AlertTopic,
    EnvironmentDashboard,
)
from mlops_platform.infra.capability import Capability, Platform, deployer_environment
from mlops_platform.infra.config import PlatformSettings
from mlops_platform.infra.storage import Storage

if TYPE_CHECKING:  # the budgets component (pulumi_aws.budgets) loads only when a stack configures budgets
    from mlops_platform.components.budgets import Budgets


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
        from mlops_platform.components.budgets import Budgets, TeamBudget

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


class MonitoringCapability(Capability):
    """The alert topic and the budgets; built before the capabilities whose alarms notify the topic."""

    name = "monitoring"

    def deployer_statements(self, settings: PlatformSettings) -> list:
        return monitoring_statements(deployer_environment(settings))

    def build(self, platform: Platform) -> Alerting:
        key = platform.result("storage", Storage).key
        return build_alerting(platform.settings, kms_key_arn=key.arn, base=platform.base)

    def outputs(self, platform: Platform) -> dict:
        alerting = platform.result(self.name, Alerting)
        return {
            "alert_topic_arn": alerting.topic.topic_arn,
            "budget_names": [b.name for b in alerting.budgets.budgets.values()] if alerting.budgets else [],
        }


class DashboardCapability(Capability):
    """The environment dashboard, charting the configured endpoints."""

    name = "dashboard"

    def build(self, platform: Platform) -> EnvironmentDashboard:
        settings = platform.settings
        names = [f"{settings.name_prefix}-{e.name}" for e in settings.endpoints]
        return build_dashboard(settings, endpoint_names=names, base=platform.base)

    def outputs(self, platform: Platform) -> dict:
        return {"dashboard_name": platform.result(self.name, EnvironmentDashboard).dashboard_name}


CAPABILITY = MonitoringCapability()
DASHBOARD = DashboardCapability()
