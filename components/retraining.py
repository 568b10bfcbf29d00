"""Event-driven retraining: start a SageMaker pipeline when a batch of new data is complete in S3, or when a
drift monitor of an endpoint serving its model reports violations.

S3 sends its events to EventBridge (`RawDataEvents` turns that on for a bucket); a rule matches the object
that closes a batch (a marker such as `_SUCCESS`, so a batch of a thousand files starts one execution, not a
thousand) under the pipeline's input prefix, another matches the monitoring runs that complete with
violations. Both target the pipeline through a role of their own that may only start that pipeline.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from . import _iam
from ._validation import check_args
from .model_monitoring import violations_pattern


@dataclass(frozen=True)
class NewDataTrigger:
    """Start when the object that closes a batch lands under a prefix of a bucket."""

    bucket_name: pulumi.Input[str]
    """The bucket (its EventBridge notifications must be on: `RawDataEvents`)."""
    prefix: str
    """Key prefix of the pipeline's input, ending with '/' and without '*', e.g. `mlops-platform-prod-churn/`."""
    marker_suffix: str = "_SUCCESS"
    """Key suffix of the object a writer puts last, closing the batch: 1-64 letters, digits, '_', '.', '-'."""


class PipelineRetrainingArgs(TypedDict):
    """Arguments of `PipelineRetraining`."""

    pipeline_name: str
    """Physical name of the pipeline to start (SageMaker's PipelineName: letters, digits, hyphens, 1-256)."""
    account_id: str
    """The pipeline's account (12 digits)."""
    region: str
    """The pipeline's region."""
    role_name: str
    """Physical name of the rules' role (an IAM role name, at most 64 characters)."""
    permissions_boundary_arn: pulumi.Input[str]
    """Boundary of that role (the pipeline's boundary admits StartPipelineExecution on it)."""
    new_data: NotRequired[NewDataTrigger | None]
    """Start on completed batches; None: not on new data."""
    drift_schedule_arns: NotRequired[Sequence[pulumi.Input[str]]]
    """Monitoring schedule ARNs whose runs with violations start the pipeline; empty: not on drift. At least one
    of new_data and drift_schedule_arns is needed."""


class PipelineRetraining(pulumi.ComponentResource):
    """EventBridge rules starting one pipeline on new data and on drift, through a role that can only start it."""

    role: aws.iam.Role
    """Role EventBridge assumes to start the pipeline."""
    rules: dict[str, aws.cloudwatch.EventRule]
    """Rules by trigger: `new-data`, `drift`."""

    def __init__(self, name: str, args: PipelineRetrainingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = check_args(PipelineRetraining, name, args)
        new_data, drift = args.get("new_data"), list(args.get("drift_schedule_arns", []))
        super().__init__("mlops:retraining:PipelineRetraining", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account, region = args["account_id"], args["region"]
        pipeline_arn = f"arn:aws:sagemaker:{region}:{account}:pipeline/{args['pipeline_name'].lower()}"
        self.role = aws.iam.Role(
            f"{name}-role",
            name=args["role_name"],
            description=f"EventBridge rules starting {args['pipeline_name']} on new data or drift",
            assume_role_policy=_iam.render([_rules_trust(account, region, args["pipeline_name"][:50])]),
            permissions_boundary=args["permissions_boundary_arn"],
            max_session_duration=3600,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-role-policy",
            role=self.role.id,
            name="start-pipeline",
            policy=_iam.render(start_statements(pipeline_arn)),
            opts=child,
        )
        patterns: dict[str, pulumi.Input[str]] = {}
        if new_data:
            patterns["new-data"] = new_data_pattern(new_data)
        if drift:
            patterns["drift"] = violations_pattern(drift)
        self.rules = {}
        for trigger, pattern in patterns.items():
            self.rules[trigger] = aws.cloudwatch.EventRule(
                f"{name}-{trigger}",
                name=f"{args['pipeline_name'][:50]}-{trigger}",
                description=f"Starts {args['pipeline_name']} on {trigger.replace('-', ' ')}",
                event_pattern=pattern,
                opts=child,
            )
            aws.cloudwatch.EventTarget(
                f"{name}-{trigger}-start",
                rule=self.rules[trigger].name,
                arn=pipeline_arn,
                role_arn=self.role.arn,
                sagemaker_pipeline_target={"pipeline_parameter_lists": []},
                retry_policy={"maximum_retry_attempts": 3, "maximum_event_age_in_seconds": 3600},
                opts=child,
            )
        self.register_outputs({"role_arn": self.role.arn, "rule_arns": {k: r.arn for k, r in self.rules.items()}})


def _rules_trust(account: str, region: str, rule_prefix: str) -> _iam.Statement:
    """EventBridge may assume the role only for this pipeline's rules (`<pipeline>-new-data`, `<pipeline>-drift`)."""
    trust = _iam.service_trust("AssumeByThisPipelinesRules", "events.amazonaws.com", account)
    trust["Condition"]["ArnLike"] = {"aws:SourceArn": f"arn:aws:events:{region}:{account}:rule/{rule_prefix}-*"}
    return trust


def start_statements(pipeline_arn: str) -> list[_iam.Statement]:
    """The rules' role: start this pipeline, nothing else."""
    return [
        {"Sid": "StartThisPipeline", "Effect": "Allow", "Action": "sagemaker:StartPipelineExecution",
         "Resource": pipeline_arn}
    ]  # fmt: skip


def new_data_pattern(trigger: NewDataTrigger) -> pulumi.Output[str]:
    """S3 "Object Created" events of the batch marker under the prefix (EventBridge wildcard matching)."""
    return pulumi.Output.json_dumps(
        {
            "source": ["aws.s3"],
            "detail-type": ["Object Created"],
            "detail": {
                "bucket": {"name": [trigger.bucket_name]},
                "object": {"key": [{"wildcard": f"{trigger.prefix}*{trigger.marker_suffix}"}]},
            },
        }
    )


class RawDataEventsArgs(TypedDict):
    """Arguments of `RawDataEvents`."""

    bucket_name: pulumi.Input[str]
    """The bucket whose object events go to EventBridge (this replaces its notification configuration: S3 keeps
    one per bucket)."""


class RawDataEvents(pulumi.ComponentResource):
    """A bucket's S3 event notifications sent to EventBridge (the bucket's single notification configuration)."""

    notification: aws.s3.BucketNotification
    """The notification configuration."""

    def __init__(self, name: str, args: RawDataEventsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = check_args(RawDataEvents, name, args)
        super().__init__("mlops:retraining:RawDataEvents", name, None, opts)
        self.notification = aws.s3.BucketNotification(
            f"{name}-notification",
            bucket=args["bucket_name"],
            eventbridge=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})
