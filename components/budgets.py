"""AWS Budgets of an environment: monthly cost limits per environment and per team, alerting the environment's
alert topic (`components.monitoring.AlertTopic`) at 80 % and 100 % of actual and 100 % of forecast spend.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from ._validation import check_args


@dataclass(frozen=True)
class TeamBudget:
    """A monthly cost limit for the resources tagged with one team."""

    team: str
    """Value of the `team` tag."""
    monthly_limit_usd: float
    """Limit in US dollars, greater than 0."""


ALERT_THRESHOLDS: tuple[tuple[str, float], ...] = (("ACTUAL", 80.0), ("ACTUAL", 100.0), ("FORECASTED", 100.0))
"""(notification type, percent of the limit) at which every budget notifies the alert topic."""


class BudgetsArgs(TypedDict):
    """Arguments of `Budgets`."""

    name_prefix: str
    """Prefix of budget names, e.g. `mlops-platform-dev`."""
    environment: str
    """Value of the `env` cost allocation tag that the environment budget filters on."""
    monthly_limit_usd: float
    """Monthly cost limit of the whole environment, in US dollars (> 0)."""
    topic_arn: pulumi.Input[str]
    """SNS topic the notifications go to (in the same account: Budgets cannot notify across accounts)."""
    teams: NotRequired[Sequence[TeamBudget]]
    """Per-team budgets on the `team` tag (default: none)."""
    env_tag_key: NotRequired[str]
    """Tag key identifying the environment (default `env`)."""
    team_tag_key: NotRequired[str]
    """Tag key identifying the team (default `team`)."""


def _slug(value: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", value.lower()).strip("-") or "team"


class Budgets(pulumi.ComponentResource):
    """Monthly COST budgets: one for the environment (tag `env`) and one per configured team (tag `team`),
    each
    notifying the alert topic at 80 % and 100 % of actual spend and at 100 % of forecast spend.

    The tags must be activated as user-defined cost allocation tags in the payer account's billing console;
    until then the filtered budgets see no spend.
    """

    budgets: dict[str, aws.budgets.Budget]
    """Budgets by scope: `env`, then `team:<team>`."""

    def __init__(self, name: str, args: BudgetsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = check_args(Budgets, name, args)
        _check_budget_args(name, args)
        super().__init__("mlops:monitoring:Budgets", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        prefix = args["name_prefix"]
        env_key, team_key = args.get("env_tag_key", "env"), args.get("team_tag_key", "team")
        scopes: list[tuple[str, str, str, float]] = [
            ("env", f"{prefix}-monthly", f"user:{env_key}${args['environment']}", args["monthly_limit_usd"])
        ]
        scopes += [
            (
                f"team:{t.team}",
                f"{prefix}-team-{_slug(t.team)}",
                f"user:{team_key}${t.team}",
                t.monthly_limit_usd,
            )
            for t in args.get("teams", [])
        ]
        self.budgets = {}
        for scope, budget_name, tag_value, limit in scopes:
            logical = f"{name}-env" if scope == "env" else f"{name}-team-{_slug(scope[5:])}"
            self.budgets[scope] = aws.budgets.Budget(
                logical,
                name=budget_name,
                budget_type="COST",
                time_unit="MONTHLY",
                limit_amount=f"{limit:.2f}",
                limit_unit="USD",
                cost_filters=[{"name": "TagKeyValue", "values": [tag_value]}],
                notifications=budget_notifications(args["topic_arn"]),
                opts=child,
            )
        self.register_outputs({"budget_names": [b.name for b in self.budgets.values()]})


def budget_notifications(topic_arn: pulumi.Input[str]) -> list[dict[str, Any]]:
    """One notification per `ALERT_THRESHOLDS` entry, all to the topic."""
    return [
        {
            "comparison_operator": "GREATER_THAN",
            "notification_type": kind,
            "threshold": percent,
            "threshold_type": "PERCENTAGE",
            "subscriber_sns_topic_arns": [topic_arn],
        }
        for kind, percent in ALERT_THRESHOLDS
    ]


def _check_budget_args(name: str, args: BudgetsArgs) -> None:
    if not args["monthly_limit_usd"] > 0:
        raise ValueError(f"Budgets {name!r}: monthly_limit_usd={args['monthly_limit_usd']} must be greater than 0")
    seen: set[str] = set()
    for index, team in enumerate(args.get("teams", [])):
        if not team.monthly_limit_usd > 0:
            raise ValueError(
                f"Budgets {name!r}: teams[{index}].monthly_limit_usd={team.monthly_limit_usd} must be greater than 0"
            )
        if _slug(team.team) in seen:
            raise ValueError(f"Budgets {name!r}: teams[{index}].team={team.team!r} is listed twice")
        seen.add(_slug(team.team))
