"""The `monitoring` section: who receives alerts, and the monthly budgets that alert."""

from __future__ import annotations

from typing import Annotated

from mlops_platform.components.monitoring import AlertProtocol, check_endpoint
from pydantic import Field, StringConstraints, ValidationInfo, field_validator, model_validator

from .base import StrictModel

Usd = Annotated[float, Field(gt=0, le=10_000_000)]
"""An amount in US dollars, greater than 0."""


class AlertSubscriptionSettings(StrictModel):
    """One subscriber of the environment's alert topic."""

    protocol: AlertProtocol
    """email, https, sqs or lambda."""
    endpoint: str
    """Email address, https:// URL, SQS queue ARN or Lambda function ARN, matching `protocol`. Email and
    https subscribers must confirm the subscription before they receive alerts."""

    @field_validator("endpoint")
    @classmethod
    def _endpoint_matches_protocol(cls, value: str, info: ValidationInfo) -> str:
        protocol = info.data.get("protocol")
        return check_endpoint(protocol, value) if protocol else value


class TeamBudgetSettings(StrictModel):
    """A monthly budget for the resources tagged with one team."""

    team: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9 ._/=+@-]{1,100}$")]
    """Value of the `team` tag."""
    monthly_limit_usd: Usd
    """Monthly cost limit in US dollars."""


class BudgetSettings(StrictModel):
    """Monthly AWS Budgets alerting the topic at 80 % and 100 % (actual) and 100 % (forecast)."""

    monthly_limit_usd: Usd
    """Monthly cost limit of the environment (tag `env`) in US dollars."""
    teams: list[TeamBudgetSettings] = []
    """Per-team budgets (tag `team`)."""

    @model_validator(mode="after")
    def _teams_once(self) -> BudgetSettings:
        teams = [t.team for t in self.teams]
        for index, team in enumerate(teams):
            if team in teams[:index]:
                raise ValueError(f"teams[{index}].team {team!r} is listed twice")
        return self


class MonitoringSettings(StrictModel):
    """Alerts, dashboard and budgets of the environment."""

    alert_subscriptions: list[AlertSubscriptionSettings] = []
    """Subscribers of the KMS-encrypted alert topic that every alarm and budget notifies."""
    budgets: BudgetSettings | None = None
    """Monthly cost budgets; unset creates none."""
