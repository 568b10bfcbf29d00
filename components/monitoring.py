"""Monitoring and cost: the environment's KMS-encrypted alert topic, CloudWatch dashboard and AWS Budgets.

`AlertTopic` is what every alarm, EventBridge rule and budget of an environment publishes to; the serving
components take its `topic_arn`. `EnvironmentDashboard` takes the endpoint names to chart, and `Budgets`
alert at 80 % and 100 % of a monthly cost limit, per environment and per team.

`Budgets` lives in `components.budgets` (importable from here too): its annotation names pulumi-aws's Budgets
module, which a stack without budgets should not load.
"""

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from . import _iam
from ._validation import check_args


class AlertProtocol(StrEnum):
    """How a subscriber receives alerts. botocore's SNS model has no enum for protocols, so this is the
    closed set the platform supports (SMS and application push are deliberately left out)."""

    EMAIL = "email"
    """An email address (the recipient confirms the subscription)."""
    HTTPS = "https"
    """An https:// URL (a chat or paging webhook)."""
    SQS = "sqs"
    """An SQS queue ARN."""
    LAMBDA = "lambda"
    """A Lambda function ARN."""


_ENDPOINT_SHAPES: dict[AlertProtocol, tuple[re.Pattern[str], str]] = {
    AlertProtocol.EMAIL: (
        re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"),
        "an email address, e.g. ml-oncall@example.com",
    ),
    AlertProtocol.HTTPS: (
        re.compile(r"^https://[A-Za-z0-9.-]+(:\d{1,5})?(/\S*)?$"),
        "an https:// URL, e.g. https://hooks.example.com/alerts",
    ),
    AlertProtocol.SQS: (
        re.compile(r"^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$"),
        "an SQS queue ARN, arn:aws:sqs:<region>:<account>:<queue>",
    ),
    AlertProtocol.LAMBDA: (
        re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]+)?$"),
        "a Lambda function ARN, arn:aws:lambda:<region>:<account>:function:<name>",
    ),
}


UNREADABLE_SECRET = "[secret]"
"""Stand-in for a secret config value that cannot be decrypted where the program runs (the offline preview has no
secrets provider): shape checks skip it, and it is passed on as a secret like the real value would be."""

SECRET_PROTOCOLS = (AlertProtocol.HTTPS,)
"""Protocols whose endpoint is a credential (an https integration URL embeds the receiver's key, e.g.
PagerDuty's): always passed to AWS as a Pulumi secret, so state and previews show `[secret]`."""


def check_endpoint(protocol: AlertProtocol, endpoint: str) -> str:
    """Return `endpoint` if it has the shape `protocol` needs; ValueError saying what is accepted if not."""
    if endpoint == UNREADABLE_SECRET:
        return endpoint
    pattern, accepted = _ENDPOINT_SHAPES[AlertProtocol(protocol)]
    if not pattern.match(endpoint):
        raise ValueError(f"not a valid {protocol} endpoint; expected {accepted}")
    return endpoint


@dataclass(frozen=True)
class AlertSubscription:
    """One subscriber of the alert topic."""

    protocol: AlertProtocol
    """email, https, sqs or lambda."""
    endpoint: str
    """Address, URL or ARN matching the protocol. Email and https subscribers must confirm. An https URL is
    handled as a secret (`SECRET_PROTOCOLS`): keep it in config with `pulumi config set --secret`."""


PUBLISHER_SERVICES = ("cloudwatch.amazonaws.com", "events.amazonaws.com", "budgets.amazonaws.com")
"""AWS services that publish to the alert topic: CloudWatch alarms, EventBridge rules and AWS Budgets. The
topic's KMS key must let them use it too (`EncryptionKeyArgs.sns_publisher_principals`)."""


class AlertTopicArgs(TypedDict):
    """Arguments of `AlertTopic`."""

    topic_name: str
    """Physical topic name, e.g. `mlops-platform-dev-alerts` (letters, digits, - and _, at most 256)."""
    account_id: str
    """The environment's account; only its alarms, rules and budgets may publish."""
    region: str
    """The environment's region (scopes the alarm and rule source ARNs)."""
    kms_key_arn: pulumi.Input[str]
    """Customer-managed key encrypting the messages at rest."""
    subscriptions: NotRequired[Sequence[AlertSubscription]]
    """Who receives the alerts (default: nobody yet)."""


class AlertTopic(pulumi.ComponentResource):
    """An SNS topic encrypted with the environment's key, a topic policy that lets only this account's
    CloudWatch alarms, EventBridge rules and budgets publish (and denies non-TLS publishing), and the
    configured subscriptions."""

    topic: aws.sns.Topic
    """The topic."""
    topic_arn: pulumi.Output[str]
    """ARN of the topic: the alarm action of every alarm of the environment."""

    def __init__(self, name: str, args: AlertTopicArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = check_args(AlertTopic, name, args)
        _check_topic_args(name, args)
        super().__init__("mlops:monitoring:AlertTopic", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.topic = aws.sns.Topic(
            f"{name}-topic",
            name=args["topic_name"],
            display_name=args["topic_name"][:100],
            kms_master_key_id=args["kms_key_arn"],
            opts=child,
        )
        self.topic_arn = self.topic.arn
        aws.sns.TopicPolicy(
            f"{name}-policy",
            arn=self.topic.arn,
            policy=_iam.render(topic_policy_statements(self.topic.arn, args)),
            opts=child,
        )
        for index, subscription in enumerate(args.get("subscriptions", [])):
            aws.sns.TopicSubscription(
                f"{name}-{subscription.protocol.value}-{index}",
                topic=self.topic.arn,
                protocol=subscription.protocol.value,
                endpoint=(
                    pulumi.Output.secret(subscription.endpoint)
                    if subscription.protocol in SECRET_PROTOCOLS
                    else subscription.endpoint
                ),
                opts=child,
            )
        self.register_outputs({"topic_arn": self.topic_arn})


def _check_topic_args(name: str, args: AlertTopicArgs) -> None:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", args["topic_name"]):
        raise ValueError(
            f"AlertTopic {name!r}: topic_name={args['topic_name']!r} must be 1-256 letters, digits, - or _"
        )
    for index, subscription in enumerate(args.get("subscriptions", [])):
        try:
            check_endpoint(subscription.protocol, subscription.endpoint)
        except ValueError as exc:
            raise ValueError(
                f"AlertTopic {name!r}: subscriptions[{index}].endpoint={subscription.endpoint!r}: {exc}"
            ) from None


def topic_policy_statements(topic_arn: pulumi.Input[str], args: AlertTopicArgs) -> list[_iam.Statement]:
    """Publishing by this account's alarms, rules and budgets only (confused-deputy conditions), over TLS."""
    account, region = args["account_id"], args["region"]
    sources = {
        "cloudwatch.amazonaws.com": (
            "AllowCloudWatchAlarms",
            f"arn:aws:cloudwatch:{region}:{account}:alarm:*",
        ),
        "events.amazonaws.com": ("AllowEventBridgeRules", f"arn:aws:events:{region}:{account}:rule/*"),
        "budgets.amazonaws.com": ("AllowBudgets", f"arn:aws:budgets::{account}:*"),
    }
    statements: list[_iam.Statement] = [
        {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {"aws:SourceArn": source_arn},
            },
        }
        for service, (sid, source_arn) in sources.items()
    ]
    statements.append(
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )
    return statements


ENDPOINT_METRICS: tuple[tuple[str, str, str, str], ...] = (
    ("Invocations", "AWS/SageMaker", "Invocations", "Sum"),
    ("Model latency p99 (µs)", "AWS/SageMaker", "ModelLatency", "p99"),
    ("5xx errors", "AWS/SageMaker", "Invocation5XXErrors", "Sum"),
    ("4xx errors", "AWS/SageMaker", "Invocation4XXErrors", "Sum"),
    ("CPU utilisation (%)", "/aws/sagemaker/Endpoints", "CPUUtilization", "Average"),
    ("Memory utilisation (%)", "/aws/sagemaker/Endpoints", "MemoryUtilization", "Average"),
    ("GPU utilisation (%)", "/aws/sagemaker/Endpoints", "GPUUtilization", "Average"),
)
"""The dashboard's charts: (title, namespace, metric, statistic), one line per endpoint in each."""


def dashboard_body(endpoint_names: Sequence[str], region: str, period_seconds: int = 300) -> dict[str, Any]:
    """The dashboard as a dict: a header, then a chart per `ENDPOINT_METRICS` entry, a line per endpoint.

    Lines are SEARCH expressions over the `EndpointName, VariantName` dimensions, so every production and
    shadow variant of an endpoint shows up without the dashboard knowing the variant names.
    """
    names = sorted(set(endpoint_names))
    header = "## Endpoints\n" + (
        ", ".join(f"`{n}`" for n in names) if names else "No endpoints in this environment yet."
    )
    widgets: list[dict[str, Any]] = [
        {"type": "text", "x": 0, "y": 0, "width": 24, "height": 2, "properties": {"markdown": header}}
    ]
    if not names:
        return {"widgets": widgets}
    for index, (title, namespace, metric, stat) in enumerate(ENDPOINT_METRICS):
        lines = [
            [
                {
                    "id": f"e{line}",
                    "label": endpoint,
                    "expression": (
                        f'SEARCH(\'{{{namespace},EndpointName,VariantName}} MetricName="{metric}" '
                        f"EndpointName=\"{endpoint}\"', '{stat}', {period_seconds})"
                    ),
                }
            ]
            for line, endpoint in enumerate(names)
        ]
        widgets.append(
            {
                "type": "metric",
                "x": 12 * (index % 2),
                "y": 2 + 6 * (index // 2),
                "width": 12,
                "height": 6,
                "properties": {
                    "title": title,
                    "region": region,
                    "view": "timeSeries",
                    "stacked": False,
                    "period": period_seconds,
                    "metrics": lines,
                },
            }
        )
    return {"widgets": widgets}


class EnvironmentDashboardArgs(TypedDict):
    """Arguments of `EnvironmentDashboard`."""

    dashboard_name: str
    """Physical dashboard name (letters, digits, - and _, at most 255)."""
    region: str
    """Region of the charted metrics."""
    endpoint_names: pulumi.Input[Sequence[str]]
    """SageMaker endpoint names to chart (the serving components' outputs); may be empty."""
    period_seconds: NotRequired[int]
    """Aggregation period of every chart, a multiple of 60 (default 300)."""


class EnvironmentDashboard(pulumi.ComponentResource):
    """A CloudWatch dashboard of the environment's endpoints: invocations, p99 model latency, 5xx and 4xx
    errors, CPU, memory and GPU utilisation. The body is built from dicts by `dashboard_body`."""

    dashboard: aws.cloudwatch.Dashboard
    """The dashboard."""
    dashboard_name: pulumi.Output[str]
    """Its name."""

    def __init__(self, name: str, args: EnvironmentDashboardArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = check_args(EnvironmentDashboard, name, args)
        period = args.get("period_seconds", 300)
        if period < 60 or period % 60:
            raise ValueError(
                f"EnvironmentDashboard {name!r}: period_seconds={period} must be a positive multiple of 60"
            )
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,255}", args["dashboard_name"]):
            raise ValueError(
                f"EnvironmentDashboard {name!r}: dashboard_name={args['dashboard_name']!r} must be 1-255 "
                "letters, digits, - or _"
            )
        super().__init__("mlops:monitoring:EnvironmentDashboard", name, None, opts)
        names = args["endpoint_names"]
        body = (
            json.dumps(dashboard_body(list(names), args["region"], period), sort_keys=True)
            if isinstance(names, list | tuple) and all(isinstance(n, str) for n in names)  # known now: no apply
            else pulumi.Output.from_input(names).apply(
                lambda known: json.dumps(dashboard_body(list(known or []), args["region"], period), sort_keys=True)
            )
        )
        self.dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=args["dashboard_name"],
            dashboard_body=body,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.dashboard_name = self.dashboard.dashboard_name
        self.register_outputs({"dashboard_name": self.dashboard_name})


_BUDGETS_NAMES = ("ALERT_THRESHOLDS", "Budgets", "BudgetsArgs", "TeamBudget", "budget_notifications")


def __getattr__(name: str) -> Any:
    # PEP 562: `from components.monitoring import Budgets` keeps working without importing it eagerly.
    if name in _BUDGETS_NAMES:
        from . import budgets

        return getattr(budgets, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
